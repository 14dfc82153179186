# tests/guest/: the test guests (one image per integration scenario) and the
# bare-QEMU test of the guest library.
include guests/lib/guestlib.mk

TEST_GUESTS := libselftest hello control_calls cpl3_ud mgmt_denied triple_fault oob_access \
               svm_insns canary_scan apic_timer spinner bench ram_scan exit_port serial_flood irq_pending_ins \
               sleeper heartbeat agentvm vblk savevm
$(foreach g,$(TEST_GUESTS),$(eval $(call guest_image,$(g),tests/guest/$(g).c)))

# mb1_longmode does not use the library: its own Multiboot1 entry and layout.
GUEST_IMAGES += $(BUILD)/guests/mb1_longmode.elf
$(BUILD)/guests/mb1_longmode.elf: $(BUILD)/guestobj/tests/guest/mb1_longmode.o tests/guest/mb1_longmode.ld
	@mkdir -p $(dir $@)
	ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
	    --no-warn-rwx-segments -T tests/guest/mb1_longmode.ld $< -o $@

ALL_TARGETS += $(patsubst %,$(BUILD)/guests/%.elf,$(TEST_GUESTS) mb1_longmode)
TEST_SCRIPTS += tests/guest/bare_qemu_test.sh

# `make guests`: every guest image (test guests and the control partition).
.PHONY: guests
guests: $(GUEST_IMAGES)

# mb1_task_switch: 32-bit protected mode, a far JMP to a TSS.
GUEST_IMAGES += $(BUILD)/guests/mb1_task_switch.elf
$(BUILD)/guests/mb1_task_switch.elf: $(BUILD)/guestobj/tests/guest/mb1_task_switch.o tests/guest/mb1_longmode.ld
	@mkdir -p $(dir $@)
	ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
	    --no-warn-rwx-segments -T tests/guest/mb1_longmode.ld $< -o $@
ALL_TARGETS += $(BUILD)/guests/mb1_task_switch.elf

# mb1_ac_loop: 32-bit protected mode, the benign #AC delivery loop at CPL 3.
GUEST_IMAGES += $(BUILD)/guests/mb1_ac_loop.elf
$(BUILD)/guests/mb1_ac_loop.elf: $(BUILD)/guestobj/tests/guest/mb1_ac_loop.o tests/guest/mb1_longmode.ld
	@mkdir -p $(dir $@)
	ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
	    --no-warn-rwx-segments -T tests/guest/mb1_longmode.ld $< -o $@
ALL_TARGETS += $(BUILD)/guests/mb1_ac_loop.elf
TEST_SCRIPTS += tests/guest/linux_driver_refusal.sh
