# boot/: the UEFI loader (BOOTX64.EFI), its portable parts (config parser,
# monitor ELF loader, memory map conversion), a test monitor, and their tests.

BOOT_CONFIG_SRCS   := boot/common/boot_config.c boot/common/config_values.c
BOOT_PORTABLE_SRCS := $(BOOT_CONFIG_SRCS) boot/common/monitor_elf.c boot/common/mem_map.c \
                      boot/efi/device_path.c
BOOT_EFI_SRCS      := boot/efi/efi_main.c boot/efi/efi_console.c boot/efi/efi_files.c \
                      boot/efi/efi_load.c boot/efi/efi_platform.c boot/efi/efi_handoff.c
PORTABLE_SRCS      += $(BOOT_PORTABLE_SRCS)

# --- The loader, built with GNU-EFI (crt0 + elf_x86_64_efi.lds, PE32+ via objcopy) ---
GNUEFI_LIB   := /usr/lib
GNUEFI_INC   := /usr/include/efi
EFI_CC       := gcc
EFI_CFLAGS   := -std=gnu11 -Wall -Wextra -Werror -O2 -g0 -fpic -fshort-wchar -mno-red-zone \
                -ffreestanding -fno-stack-protector -fno-strict-aliasing -mgeneral-regs-only \
                -fno-asynchronous-unwind-tables -DGNU_EFI_USE_MS_ABI \
                -I$(GNUEFI_INC) -I$(GNUEFI_INC)/x86_64 -Iinclude -Ilib -MMD -MP
EFI_LDFLAGS  := -nostdlib -znocombreloc -T $(GNUEFI_LIB)/elf_x86_64_efi.lds -shared -Bsymbolic \
                --no-undefined -L$(GNUEFI_LIB) $(GNUEFI_LIB)/crt0-efi-x86_64.o
BOOT_LOADER_OBJS := $(patsubst %.c,$(BUILD)/efi/%.o,$(BOOT_EFI_SRCS) $(BOOT_PORTABLE_SRCS) $(LIB_SRCS))
BOOT_LOADER  := $(BUILD)/esp/EFI/BOOT/BOOTX64.EFI

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	$(EFI_CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/taskvisor-loader.so: $(BOOT_LOADER_OBJS)
	ld $(EFI_LDFLAGS) $^ -o $@ -lefi -lgnuefi

$(BOOT_LOADER): $(BUILD)/efi/taskvisor-loader.so
	@mkdir -p $(dir $@)
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .rel.* \
	        -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# --- The test monitor: a tiny PIE ELF proving the hand-off (tests only) ---
TESTMON_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -fpie -ffreestanding -fno-stack-protector \
                  -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables \
                  -Iinclude -Ilib -MMD -MP
TESTMON_OBJS := $(BUILD)/testmon/boot/efi/testmon/testmon_entry.o \
                $(patsubst %.c,$(BUILD)/testmon/%.o,boot/efi/testmon/testmon.c $(LIB_SRCS))
BOOT_TESTMON := $(BUILD)/boot/testmon.elf

$(BUILD)/testmon/%.o: %.c
	@mkdir -p $(dir $@)
	$(EFI_CC) $(TESTMON_CFLAGS) -c $< -o $@

$(BUILD)/testmon/%.o: %.asm
	@mkdir -p $(dir $@)
	nasm -f elf64 -o $@ $<

$(BOOT_TESTMON): $(TESTMON_OBJS)
	@mkdir -p $(dir $@)
	ld -pie --no-dynamic-linker -nostdlib -z max-page-size=0x1000 -z noexecstack \
	   -z nopack-relative-relocs -e testmon_entry $^ -o $@

ALL_TARGETS += $(BOOT_LOADER) $(BOOT_TESTMON)

# --- Hosted unit tests ---
UNIT_TESTS += $(BUILD)/tests/unit/test_boot_config $(BUILD)/tests/unit/test_monitor_elf \
              $(BUILD)/tests/unit/test_mem_map $(BUILD)/tests/unit/test_device_path

$(BUILD)/tests/unit/test_boot_config: $(call host_objs,tests/unit/boot/test_boot_config.c $(BOOT_CONFIG_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

$(BUILD)/tests/unit/test_monitor_elf: $(call host_objs,tests/unit/boot/test_monitor_elf.c boot/common/monitor_elf.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

$(BUILD)/tests/unit/test_mem_map: $(call host_objs,tests/unit/boot/test_mem_map.c boot/common/mem_map.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

$(BUILD)/tests/unit/test_device_path: $(call host_objs,tests/unit/boot/test_device_path.c boot/efi/device_path.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# --- Fuzz targets (seed corpora in tests/fuzz/corpus/<name>/) ---
FUZZ_TARGETS += $(BUILD)/fuzz/boot_config $(BUILD)/fuzz/monitor_elf

$(BUILD)/fuzz/boot_config: tests/fuzz/boot/fuzz_boot_config.c $(BOOT_CONFIG_SRCS) $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $^ -o $@

$(BUILD)/fuzz/monitor_elf: tests/fuzz/boot/fuzz_monitor_elf.c boot/common/monitor_elf.c boot/common/mem_map.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $^ -o $@

# --- QEMU integration tests (TAP) ---
TEST_SCRIPTS += tests/integration/loader_boot.sh tests/integration/loader_missing_image.sh \
                tests/integration/loader_bad_image.sh tests/integration/loader_mkesp.sh \
                tests/integration/loader_bad_monitor.sh tests/integration/loader_config_error.sh
