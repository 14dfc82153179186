# vmm/: the monitor, a freestanding position-independent ELF64.
MON_CC      := gcc
MON_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-builtin \
               -fno-tree-loop-distribute-patterns -fpie -fvisibility=hidden \
               -fno-stack-protector -fno-omit-frame-pointer -fcf-protection=none \
               -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 \
               -fno-asynchronous-unwind-tables -fno-exceptions \
               -Ivmm -Iinclude -Ilib -I. -MMD -MP $(MON_EXTRA_CFLAGS)
MON_LDFLAGS := -nostdlib -pie --no-dynamic-linker -z max-page-size=4096 -z noexecstack \
               -z norelro --hash-style=sysv -T vmm/monitor.ld

MON_C_SRCS := $(sort $(wildcard vmm/core/*.c vmm/mm/mm.c vmm/mm/heap.c vmm/arch/x86/*.c vmm/arch/x86/svm/*.c \
                                vmm/dev/*.c vmm/drivers/*.c))
MON_ASM_SRCS := $(sort $(wildcard vmm/arch/x86/*.asm vmm/arch/x86/svm/*.asm))
# Portable parts of the tree compiled unchanged into the monitor (named one by
# one: a portable file joins the monitor when something there uses it).
MON_PORTABLE := $(LIB_SRCS) vmm/mm/pmm.c vmm/mm/pagetable.c \
                $(wildcard vmm/guestload/*.c vmm/hcall/*.c vmm/emul/*.c)

MON_OBJS := $(patsubst %.c,$(BUILD)/mon/%.o,$(MON_C_SRCS) $(MON_PORTABLE)) \
            $(patsubst %.asm,$(BUILD)/mon/%.o,$(MON_ASM_SRCS))

$(BUILD)/mon/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC [mon] $<"
	@$(MON_CC) $(MON_CFLAGS) -c $< -o $@

$(BUILD)/mon/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  AS [mon] $<"
	@nasm -f elf64 -g -o $@ $<

# Two links: the first gives the symbol addresses for the crash-report table,
# the second adds the table in a section that moves no code.
$(BUILD)/monitor.elf: $(MON_OBJS) vmm/monitor.ld scripts/gen-ksyms.py
	@mkdir -p $(BUILD)/mon
	python3 scripts/gen-ksyms.py /dev/null $(BUILD)/mon/ksyms0.c
	$(MON_CC) $(MON_CFLAGS) -c $(BUILD)/mon/ksyms0.c -o $(BUILD)/mon/ksyms0.o
	ld $(MON_LDFLAGS) -o $@.pass1 $(MON_OBJS) $(BUILD)/mon/ksyms0.o
	nm -n $@.pass1 > $(BUILD)/mon/ksyms.nm
	python3 scripts/gen-ksyms.py $(BUILD)/mon/ksyms.nm $(BUILD)/mon/ksyms1.c
	$(MON_CC) $(MON_CFLAGS) -c $(BUILD)/mon/ksyms1.c -o $(BUILD)/mon/ksyms1.o
	ld $(MON_LDFLAGS) -o $@ $(MON_OBJS) $(BUILD)/mon/ksyms1.o
	@scripts/check-monitor-elf.sh $@

ALL_TARGETS += $(BUILD)/monitor.elf
