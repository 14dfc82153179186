# vmm/guestload: PVH and Multiboot1 guest image loaders (portable).
GUESTLOAD_SRCS := vmm/guestload/elf_image.c vmm/guestload/multiboot1_image.c vmm/guestload/bzimage.c \
                  vmm/guestload/guest_plan.c vmm/guestload/guest_load.c
PORTABLE_SRCS += $(GUESTLOAD_SRCS)

# Tiny kernels made by binutils, so the loader is also tested on real linker output.
VMM_GUESTS := $(BUILD)/tests/vmm-guests
$(VMM_GUESTS)/%.o: tests/unit/vmm/guests/%.S
	@mkdir -p $(dir $@)
	as $(if $(filter pvh64,$*),--64,--32) $< -o $@
$(VMM_GUESTS)/pvh64.elf: $(VMM_GUESTS)/pvh64.o tests/unit/vmm/guests/guest.ld
	ld -m elf_x86_64 -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T tests/unit/vmm/guests/guest.ld $< -o $@
$(VMM_GUESTS)/mb1-elf32.elf: $(VMM_GUESTS)/mb1-elf32.o tests/unit/vmm/guests/guest.ld
	ld -m elf_i386 -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T tests/unit/vmm/guests/guest.ld $< -o $@
$(VMM_GUESTS)/mb1-kludge.bin: $(VMM_GUESTS)/mb1-kludge.o tests/unit/vmm/guests/guest.ld
	ld -m elf_i386 -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments --defsym=LOAD_BASE=0x180000 \
		-T tests/unit/vmm/guests/guest.ld $< -o $@.elf
	objcopy -O binary $@.elf $@
VMM_GUEST_IMAGES := $(VMM_GUESTS)/pvh64.elf $(VMM_GUESTS)/mb1-elf32.elf $(VMM_GUESTS)/mb1-kludge.bin

UNIT_TESTS += $(BUILD)/tests/unit/test_guestload
$(BUILD)/tests/unit/test_guestload: $(call host_objs,tests/unit/vmm/test_guestload.c $(GUESTLOAD_SRCS) $(LIB_SRCS)) | $(VMM_GUEST_IMAGES)
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

FUZZ_TARGETS += $(BUILD)/fuzz/guestload
$(BUILD)/fuzz/guestload: tests/fuzz/fuzz_guestload.c $(GUESTLOAD_SRCS) $(LIB_SRCS) $(wildcard vmm/guestload/*.h include/taskvisor/*.h lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ivmm $(filter %.c,$^) -o $@

UNIT_TESTS += $(BUILD)/tests/unit/test_bzimage
$(BUILD)/tests/unit/test_bzimage: $(call host_objs,tests/unit/vmm/test_bzimage.c $(GUESTLOAD_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
