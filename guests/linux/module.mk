# guests/linux/: Debian's stock kernel as a partition (docs/guests.md, "Linux
# as a partition").
#   build/guests/vmlinuz                 the kernel of Debian's linux-image-amd64
#   build/guests/linux-initramfs.cpio.gz busybox (busybox-static) and guests/linux/init
# Both come from packages scripts/deps.sh installs: the kernel is the one the
# linux-image-amd64 metapackage depends on (else the highest version in /boot).
LINUX_IMAGE_PKG  := $(shell dpkg-query -W -f='$${Depends}' linux-image-amd64 2>/dev/null | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
LINUX_KERNEL_SRC := $(or $(wildcard $(if $(LINUX_IMAGE_PKG),/boot/vmlinuz-$(LINUX_IMAGE_PKG))),$(shell ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1))
LINUX_BUSYBOX    := /bin/busybox

$(BUILD)/guests/vmlinuz: $(LINUX_KERNEL_SRC)
	@mkdir -p $(dir $@)
	@test -n "$<" || { echo "no /boot/vmlinuz-*: run scripts/deps.sh (linux-image-amd64)" >&2; exit 1; }
	cp $< $@

# tvexit: leaves the partition through the exit port (a 32-bit OUT, which a
# shell cannot issue); a static program without libc.
$(BUILD)/guests/linux/tvexit: guests/linux/tvexit.c
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -Wall -Wextra -Werror -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie \
	    -fno-stack-protector -fcf-protection=none $< -o $@

$(BUILD)/guests/linux-initramfs.cpio.gz: guests/linux/init scripts/mkinitramfs.py $(LINUX_BUSYBOX) \
        $(BUILD)/guests/linux/tvexit
	@mkdir -p $(dir $@)
	python3 scripts/mkinitramfs.py $@ guests/linux/init $(LINUX_BUSYBOX) $(BUILD)/guests/linux/tvexit=bin/tvexit

LINUX_GUEST_FILES := $(BUILD)/guests/vmlinuz $(BUILD)/guests/linux-initramfs.cpio.gz
ALL_TARGETS += $(LINUX_GUEST_FILES)
.PHONY: linux-guest
linux-guest: $(LINUX_GUEST_FILES)
