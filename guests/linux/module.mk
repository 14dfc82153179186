# guests/linux/: Debian's stock kernel as a partition (docs/guests.md, "Linux
# as a partition").
#   build/guests/vmlinuz                 the kernel of Debian's linux-image-amd64
#   build/guests/linux-initramfs.cpio.gz busybox (busybox-static) and guests/linux/init
# Both come from packages scripts/deps.sh installs; the newest /boot/vmlinuz-*
# is the one linux-image-amd64 depends on.
LINUX_KERNEL_SRC := $(lastword $(sort $(wildcard /boot/vmlinuz-*)))
LINUX_BUSYBOX    := /bin/busybox

$(BUILD)/guests/vmlinuz: $(LINUX_KERNEL_SRC)
	@mkdir -p $(dir $@)
	@test -n "$<" || { echo "no /boot/vmlinuz-*: run scripts/deps.sh (linux-image-amd64)" >&2; exit 1; }
	cp $< $@

$(BUILD)/guests/linux-initramfs.cpio.gz: guests/linux/init scripts/mkinitramfs.py $(LINUX_BUSYBOX)
	@mkdir -p $(dir $@)
	python3 scripts/mkinitramfs.py $@ guests/linux/init $(LINUX_BUSYBOX)

LINUX_GUEST_FILES := $(BUILD)/guests/vmlinuz $(BUILD)/guests/linux-initramfs.cpio.gz
ALL_TARGETS += $(LINUX_GUEST_FILES)
.PHONY: linux-guest
linux-guest: $(LINUX_GUEST_FILES)
