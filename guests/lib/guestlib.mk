# The guest library and the guest_image build function, shared by
# tests/guest/module.mk and guests/module.mk (whichever the top Makefile
# includes first pulls this in).
# Every image is build/guests/<name>.elf: a 64-bit ELF loaded at 1 MiB that
# carries a Multiboot1 header (a.out kludge) and a PVH entry note.

ifndef GUEST_LIB_MK
GUEST_LIB_MK := 1
GUEST_IMAGES :=

GUEST_CC      := gcc
GUEST_NASM    := nasm
GUEST_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-builtin \
                 -fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
                 -mcmodel=small -fno-asynchronous-unwind-tables -fno-unwind-tables \
                 -fno-tree-loop-distribute-patterns -fno-common \
                 -Iinclude -Ilib -Iguests/lib -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
                 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

GUEST_LIB_C   := $(wildcard guests/lib/*.c) lib/tv_fmt.c lib/tv_string.c lib/tv_status.c
GUEST_LIB_ASM := guests/lib/entry.asm guests/lib/isr.asm guests/lib/ctx.asm
GUEST_LD      := guests/lib/guest.ld

guest_objs = $(patsubst %.c,$(BUILD)/guestobj/%.o,$(filter %.c,$(1))) \
             $(patsubst %.asm,$(BUILD)/guestobj/%.o,$(filter %.asm,$(1)))
GUEST_LIB_OBJS := $(call guest_objs,$(GUEST_LIB_C) $(GUEST_LIB_ASM))

$(BUILD)/guestobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guestobj/%.o: %.asm
	@mkdir -p $(dir $@)
	$(GUEST_NASM) -f elf64 -g -MD $(@:.o=.d) -MP $< -o $@

# $(call guest_image,name,sources): build/guests/name.elf from sources + the lib.
define guest_image
GUEST_IMAGES += $(BUILD)/guests/$(1).elf
$(BUILD)/guests/$(1).elf: $(call guest_objs,$(2)) $(GUEST_LIB_OBJS) $(GUEST_LD)
	@mkdir -p $$(dir $$@)
	$(GUEST_CC) $(GUEST_LDFLAGS) -T $(GUEST_LD) $(call guest_objs,$(2)) $(GUEST_LIB_OBJS) -lgcc -o $$@
endef

endif
