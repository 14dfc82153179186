# guests/linux/: Debian's stock kernel as a partition (docs/guests.md, "Linux
# as a partition"; docs/linux-driver.md, docs/tvctl.md).
#   build/guests/vmlinuz                 the kernel of Debian's linux-image-amd64
#   build/guests/linux-initramfs.cpio.gz busybox (busybox-static), guests/linux/init,
#                                        taskvisor.ko and tvctl
#   build/guests/linux-initramfs-test.cpio.gz  the same with the test tvctl and
#                                        the tvctl self-test script
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

# taskvisor.ko, built against the headers of the kernel the partition boots
# (linux-headers-$(LINUX_IMAGE_PKG), never the build host's `uname -r`).
# Kbuild writes next to its sources, so it runs on a copy under build/.
LINUX_KDIR   := $(if $(LINUX_IMAGE_PKG),/usr/src/linux-headers-$(LINUX_IMAGE_PKG))
TVDRV_SRCS   := $(wildcard guests/linux/driver/Kbuild guests/linux/driver/*.[ch] guests/linux/driver/shim/*.h)
TVDRV_BUILD  := $(BUILD)/guests/linux/driver
$(BUILD)/guests/linux/taskvisor.ko: $(TVDRV_SRCS) $(wildcard include/taskvisor/*.h)
	@test -n "$(LINUX_KDIR)" -a -d "$(LINUX_KDIR)" || { echo "no kernel headers for linux-image-$(LINUX_IMAGE_PKG): run scripts/deps.sh (linux-headers-amd64)" >&2; exit 1; }
	@rm -rf $(TVDRV_BUILD) && mkdir -p $(TVDRV_BUILD)/shim
	@cp guests/linux/driver/Kbuild guests/linux/driver/*.[ch] $(TVDRV_BUILD)/
	@cp guests/linux/driver/shim/*.h $(TVDRV_BUILD)/shim/
	$(MAKE) --no-print-directory -C $(LINUX_KDIR) M=$(abspath $(TVDRV_BUILD)) TV_ROOT=$(abspath .) modules
	strip --strip-debug -o $@ $(TVDRV_BUILD)/taskvisor.ko

# tvctl over libtaskvisor's Linux transport, static for the initramfs; the
# test variant (-DTV_TEST_BUILD) adds `test-start`.
TVCTL_SRCS := guests/linux/tvctl/tvctl.c client/tv_client.c client/tv_disk.c client/tv_volumes.c client/linux_transport.c \
              lib/tv_string.c lib/tv_status.c
TVCTL_DEPS := $(TVCTL_SRCS) client/libtaskvisor.h client/tv_disk.h client/linux_transport.h $(wildcard include/taskvisor/*.h)
TVCTL_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -s -static -pthread -Iinclude -Ilib -Iclient -D_GNU_SOURCE
$(BUILD)/guests/linux/tvctl: $(TVCTL_DEPS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TVCTL_CFLAGS) $(TVCTL_SRCS) -o $@
$(BUILD)/guests/linux/tvctl-test: $(TVCTL_DEPS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TVCTL_CFLAGS) -DTV_TEST_BUILD $(TVCTL_SRCS) -o $@

# docs/client.md's example program, extracted from the document and built
# as it stands, so the example in the docs is the one the scenario runs.
$(BUILD)/guests/linux/tvwatch.c: docs/client.md
	@mkdir -p $(dir $@)
	awk '/^```c$$/ { on = 1; next } /^```$$/ { on = 0 } on' $< > $@
	@test -s $@ || { echo "docs/client.md: no C example block" >&2; exit 1; }
$(BUILD)/guests/linux/tvwatch: $(BUILD)/guests/linux/tvwatch.c $(TVCTL_DEPS)
	$(HOST_CC) $(TVCTL_CFLAGS) $< $(filter-out guests/linux/tvctl/tvctl.c,$(TVCTL_SRCS)) -o $@

LINUX_INITRAMFS_FILES := $(BUILD)/guests/linux/tvexit=bin/tvexit $(BUILD)/guests/linux/taskvisor.ko=lib/taskvisor.ko
$(BUILD)/guests/linux-initramfs.cpio.gz: guests/linux/init scripts/mkinitramfs.py $(LINUX_BUSYBOX) \
        $(BUILD)/guests/linux/tvexit $(BUILD)/guests/linux/taskvisor.ko $(BUILD)/guests/linux/tvctl
	@mkdir -p $(dir $@)
	python3 scripts/mkinitramfs.py $@ guests/linux/init $(LINUX_BUSYBOX) $(LINUX_INITRAMFS_FILES) \
	    $(BUILD)/guests/linux/tvctl=bin/tvctl

# The test initramfs: the same with the test tvctl, docs/client.md's example
# and the script the linux_tvctl scenario runs (tv.tvctltest on the command
# line).
$(BUILD)/guests/linux-initramfs-test.cpio.gz: guests/linux/init scripts/mkinitramfs.py $(LINUX_BUSYBOX) \
        $(BUILD)/guests/linux/tvexit $(BUILD)/guests/linux/taskvisor.ko $(BUILD)/guests/linux/tvctl-test \
        $(BUILD)/guests/linux/tvwatch guests/linux/tvctl-selftest.sh guests/linux/tvctl-ops-selftest.sh
	@mkdir -p $(dir $@)
	python3 scripts/mkinitramfs.py $@ guests/linux/init $(LINUX_BUSYBOX) $(LINUX_INITRAMFS_FILES) \
	    $(BUILD)/guests/linux/tvctl-test=bin/tvctl guests/linux/tvctl-selftest.sh=bin/tvctl-selftest \
	    guests/linux/tvctl-ops-selftest.sh=bin/tvctl-ops-selftest \
	    $(BUILD)/guests/linux/tvwatch=bin/tvwatch

# The virtual disk initramfs (vm_disk_linux, tv.vdisk): the kernel's own
# virtio modules (VIRTIO* are modules in Debian's kernel) and the script.
LINUX_MODDIR := $(if $(LINUX_IMAGE_PKG),/lib/modules/$(LINUX_IMAGE_PKG)/kernel/drivers)
LINUX_VDISK_MODS := $(addprefix $(LINUX_MODDIR)/,virtio/virtio_ring.ko virtio/virtio.ko \
    virtio/virtio_pci_modern_dev.ko virtio/virtio_pci_legacy_dev.ko virtio/virtio_pci.ko block/virtio_blk.ko)
$(BUILD)/guests/linux-initramfs-vdisk.cpio.gz: guests/linux/init scripts/mkinitramfs.py $(LINUX_BUSYBOX) \
        $(BUILD)/guests/linux/tvexit guests/linux/vdisk-selftest.sh $(LINUX_VDISK_MODS)
	@mkdir -p $(dir $@)
	python3 scripts/mkinitramfs.py $@ guests/linux/init $(LINUX_BUSYBOX) $(BUILD)/guests/linux/tvexit=bin/tvexit \
	    guests/linux/vdisk-selftest.sh=bin/vdisk-selftest $(foreach m,$(LINUX_VDISK_MODS),$(m)=lib/$(notdir $(m)))

LINUX_GUEST_FILES := $(BUILD)/guests/vmlinuz $(BUILD)/guests/linux-initramfs.cpio.gz \
    $(BUILD)/guests/linux-initramfs-test.cpio.gz $(BUILD)/guests/linux-initramfs-vdisk.cpio.gz
ALL_TARGETS += $(LINUX_GUEST_FILES)
.PHONY: linux-guest
linux-guest: $(LINUX_GUEST_FILES)

# The driver's decoding code, hosted: unit test and fuzz target.
TVDEV_DECODE_SRCS := guests/linux/driver/tvdev_decode.c
UNIT_TESTS += $(BUILD)/tests/unit/test_tvdev_decode
$(BUILD)/tests/unit/test_tvdev_decode: $(call host_objs,tests/unit/linux/test_tvdev_decode.c $(TVDEV_DECODE_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
$(call host_objs,tests/unit/linux/test_tvdev_decode.c $(TVDEV_DECODE_SRCS)): HOST_CFLAGS += -Iguests/linux/driver

FUZZ_TARGETS += $(BUILD)/fuzz/tvdev_decode
$(BUILD)/fuzz/tvdev_decode: tests/fuzz/fuzz_tvdev_decode.c $(TVDEV_DECODE_SRCS) guests/linux/driver/tvdev_decode.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iguests/linux/driver $(filter %.c,$^) -o $@
