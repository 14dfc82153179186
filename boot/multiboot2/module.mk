# boot/multiboot2/: the Multiboot2 boot path.  build/taskvisor-mb2.elf is a
# small loader GRUB starts (32-bit entry -> long mode -> C); the monitor,
# the config and the partition images come as GRUB modules, so the monitor
# itself is the very same build/monitor*.elf the UEFI loader loads.
MB2_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-builtin -fno-pic \
              -fno-pie -mcmodel=small -fno-stack-protector -mno-red-zone -mgeneral-regs-only \
              -fno-asynchronous-unwind-tables -fcf-protection=none -I. -Iinclude -Ilib -MMD -MP
MB2_C_SRCS := boot/multiboot2/mb2_main.c boot/multiboot2/mb2_info.c $(BOOT_CONFIG_SRCS) \
              boot/common/monitor_elf.c boot/common/mem_map.c $(LIB_SRCS)
MB2_OBJS   := $(BUILD)/mb2/boot/multiboot2/mb2_entry.o \
              $(patsubst %.c,$(BUILD)/mb2/%.o,$(MB2_C_SRCS))
MB2_LOADER := $(BUILD)/taskvisor-mb2.elf
PORTABLE_SRCS += boot/multiboot2/mb2_info.c

$(BUILD)/mb2/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC [mb2] $<"
	@gcc $(MB2_CFLAGS) -c $< -o $@

$(BUILD)/mb2/%.o: %.asm
	@mkdir -p $(dir $@)
	@nasm -f elf64 -g -o $@ $<

$(MB2_LOADER): $(MB2_OBJS) boot/multiboot2/mb2.ld
	@echo "  LD $@"
	@ld -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T boot/multiboot2/mb2.ld \
	    -o $@ $(MB2_OBJS)

ALL_TARGETS += $(MB2_LOADER)
-include $(MB2_OBJS:.o=.d)

# --- Hosted unit test and fuzz target of the boot information parser ---
UNIT_TESTS += $(BUILD)/tests/unit/test_mb2_info
$(BUILD)/tests/unit/test_mb2_info: $(call host_objs,tests/unit/multiboot2/test_mb2_info.c boot/multiboot2/mb2_info.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

FUZZ_TARGETS += $(BUILD)/fuzz/mb2_info
$(BUILD)/fuzz/mb2_info: tests/fuzz/multiboot2/fuzz_mb2_info.c boot/multiboot2/mb2_info.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. $^ -o $@

# --- A bootable ISO of the default configuration (GRUB, Multiboot2) ---
# `make iso`, then `scripts/run-bochs.sh build/taskvisor.iso` (VMX) or with
# --cpu ryzen (SVM).  Not part of `all`: it needs grub-mkrescue and xorriso.
.PHONY: iso
iso: $(MB2_LOADER) $(BUILD)/esp.img scripts/mkiso.sh
	@scripts/mkiso.sh --loader $(MB2_LOADER) $(BUILD)/taskvisor.iso $(DEFAULT_CFG) \
	    $(BUILD)/monitor.elf $(DEFAULT_IMAGES)
	@echo "  ISO $(BUILD)/taskvisor.iso"
