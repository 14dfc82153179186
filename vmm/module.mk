# vmm/: the monitor, a freestanding position-independent ELF64.
# Two variants from the same sources: build/monitor.elf (normal) and
# build/monitor-test.elf (TV_TEST_BUILD: test-only hypercalls and fault
# hooks, used by the integration scenarios; never shipped).
MON_CC      := gcc
MON_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-builtin \
               -fno-tree-loop-distribute-patterns -fpie -fvisibility=hidden \
               -fno-stack-protector -fno-omit-frame-pointer -fcf-protection=none \
               -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 \
               -fno-asynchronous-unwind-tables -fno-exceptions \
               -Ivmm -Iinclude -Ilib -I. -MMD -MP
MON_LDFLAGS := -nostdlib -pie --no-dynamic-linker -z max-page-size=4096 -z noexecstack \
               -z norelro --hash-style=sysv -T vmm/monitor.ld

MON_C_SRCS := $(sort $(wildcard vmm/main.c vmm/kernel/*.c vmm/vm/*.c vmm/services/*.c vmm/mm/mm.c vmm/mm/heap.c vmm/arch/x86/*.c \
                                vmm/arch/x86/svm/*.c vmm/arch/x86/vmx/*.c vmm/dev/*.c drivers/*.c drivers/*/*.c))
MON_ASM_SRCS := $(sort $(wildcard vmm/arch/x86/*.asm vmm/arch/x86/svm/*.asm vmm/arch/x86/vmx/*.asm))
# Portable parts of the tree compiled unchanged into the monitor (named one by
# one: a portable file joins the monitor when something there uses it).
MON_PORTABLE := $(LIB_SRCS) vmm/mm/pmm.c vmm/mm/pagetable.c \
                $(wildcard vmm/guestload/*.c vmm/hcall/*.c vmm/emul/*.c) $(TASK_CORE_SRCS) \
                $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(FS_SRCS)
# The VHD engine and the file systems (the image store) are compiled from the
# very files the host tool and the unit tests build.
MON_STORAGE_SRCS := $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(FS_SRCS)

# Test-build-only sources: the scenario verdict and the fault hooks.
MON_TEST_SRCS := $(sort $(wildcard vmm/testing/*.c))

# $(1): variant directory, $(2): output ELF, $(3): extra CFLAGS, $(4): extra sources
define MONITOR_VARIANT
$(1)_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/%.o,$$(MON_C_SRCS) $(4) $$(MON_PORTABLE)) \
             $$(patsubst %.asm,$(BUILD)/$(1)/%.o,$$(MON_ASM_SRCS))

$(BUILD)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@echo "  CC [$(1)] $$<"
	@$$(MON_CC) $$(MON_CFLAGS) $(3) -c $$< -o $$@

$(BUILD)/$(1)/%.o: %.asm
	@mkdir -p $$(dir $$@)
	@echo "  AS [$(1)] $$<"
	@nasm -f elf64 -g -MD $$(@:.o=.d) -MP -o $$@ $$<

# Two links: the first gives the symbol addresses for the crash-report
# table, the second adds the table in a section that moves no code.
$(2): $$($(1)_OBJS) vmm/monitor.ld scripts/gen-ksyms.py scripts/check-monitor-elf.sh
	@mkdir -p $(BUILD)/$(1)
	@echo "  LD $$@"
	@python3 scripts/gen-ksyms.py /dev/null $(BUILD)/$(1)/ksyms0.c
	@$$(MON_CC) $$(MON_CFLAGS) -c $(BUILD)/$(1)/ksyms0.c -o $(BUILD)/$(1)/ksyms0.o
	@ld $$(MON_LDFLAGS) -o $$@.pass1 $$($(1)_OBJS) $(BUILD)/$(1)/ksyms0.o
	@nm -n $$@.pass1 > $(BUILD)/$(1)/ksyms.nm
	@python3 scripts/gen-ksyms.py $(BUILD)/$(1)/ksyms.nm $(BUILD)/$(1)/ksyms1.c
	@$$(MON_CC) $$(MON_CFLAGS) -c $(BUILD)/$(1)/ksyms1.c -o $(BUILD)/$(1)/ksyms1.o
	@ld $$(MON_LDFLAGS) -o $$@ $$($(1)_OBJS) $(BUILD)/$(1)/ksyms1.o
	@scripts/check-monitor-elf.sh $$@
endef

$(patsubst %.c,$(BUILD)/mon/%.o,$(MON_STORAGE_SRCS)) $(patsubst %.c,$(BUILD)/mon-test/%.o,$(MON_STORAGE_SRCS)): \
    MON_CFLAGS += -Istorage -Itask

$(eval $(call MONITOR_VARIANT,mon,$(BUILD)/monitor.elf,))
$(eval $(call MONITOR_VARIANT,mon-test,$(BUILD)/monitor-test.elf,-DTV_TEST_BUILD,$(MON_TEST_SRCS)))

ALL_TARGETS += $(BUILD)/monitor.elf $(BUILD)/monitor-test.elf
