# bench/bare/: the bare reference monitor of `make bench` (its own code,
# nothing from vmm/): build/bench/bare.elf, a Multiboot1 kernel.
BARE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin \
               -fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
               -mcmodel=small -fno-asynchronous-unwind-tables -fno-common -MMD -MP
BARE_OBJS := $(BUILD)/bare/bare.o $(BUILD)/bare/entry.o

$(BUILD)/bare/bare.o: bench/bare/bare.c
	@mkdir -p $(dir $@)
	gcc $(BARE_CFLAGS) -c $< -o $@

$(BUILD)/bare/entry.o: bench/bare/entry.asm
	@mkdir -p $(dir $@)
	nasm -f elf64 -MD $(@:.o=.d) -MP $< -o $@

$(BUILD)/bench/bare.elf: $(BARE_OBJS) bench/bare/bare.ld
	@mkdir -p $(dir $@)
	ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
	    --no-warn-rwx-segments -T bench/bare/bare.ld $(BARE_OBJS) -o $@

# timerloss.elf: issue 9's lost-timer reproducer, on the same entry
# (bench/bare/timerloss.c; run by bench/bare/run-timerloss.sh, not by default).
$(BUILD)/bare/timerloss.o: bench/bare/timerloss.c
	@mkdir -p $(dir $@)
	gcc $(BARE_CFLAGS) -c $< -o $@

$(BUILD)/bench/timerloss.elf: $(BUILD)/bare/timerloss.o $(BUILD)/bare/entry.o bench/bare/bare.ld
	@mkdir -p $(dir $@)
	ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
	    --no-warn-rwx-segments -T bench/bare/bare.ld $(BUILD)/bare/timerloss.o $(BUILD)/bare/entry.o -o $@

ALL_TARGETS += $(BUILD)/bench/bare.elf $(BUILD)/bench/timerloss.elf
