# vmm/dev: device models.  The platform devices below are portable (no
# kernel headers), unit-tested hosted and part of PORTABLE_SRCS; vapic,
# vapic_mmio and vuart use the monitor's timers and log and are unit-tested
# hosted over stubs of those (test_vapic_mmio_uart).
DEV_PORTABLE_SRCS := vmm/dev/ioapic.c vmm/dev/mptable.c vmm/dev/legacy_ports.c vmm/dev/cmos_rtc.c

UNIT_TESTS += $(BUILD)/tests/unit/test_platform_devices
$(BUILD)/tests/unit/test_platform_devices: $(call host_objs,tests/unit/dev/test_platform_devices.c $(DEV_PORTABLE_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
PORTABLE_SRCS += $(DEV_PORTABLE_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/ioapic
$(BUILD)/fuzz/ioapic: tests/fuzz/fuzz_ioapic.c vmm/dev/ioapic.c vmm/dev/ioapic.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ivmm $(filter %.c,$^) -o $@

# The xAPIC page and the UART over stubs of the monitor's timers and log.
UNIT_TESTS += $(BUILD)/tests/unit/test_vapic_mmio_uart
$(BUILD)/tests/unit/test_vapic_mmio_uart: $(call host_objs,tests/unit/dev/test_vapic_mmio_uart.c vmm/dev/vapic.c vmm/dev/vapic_mmio.c vmm/dev/vuart.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

FUZZ_TARGETS += $(BUILD)/fuzz/xapic
$(BUILD)/fuzz/xapic: tests/fuzz/fuzz_xapic.c vmm/dev/vapic.c vmm/dev/vapic_mmio.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Ivmm $(filter %.c,$^) -o $@

FUZZ_TARGETS += $(BUILD)/fuzz/cmos_rtc
$(BUILD)/fuzz/cmos_rtc: tests/fuzz/fuzz_cmos_rtc.c vmm/dev/cmos_rtc.c vmm/dev/cmos_rtc.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ivmm $(filter %.c,$^) -o $@

# The virtual disk devices: the PCI bus, the virtio-pci registers and the
# virtio-blk request parser (portable; the monitor binds them in
# vmm/vm/vm_disks.c).
VDISK_DEV_SRCS := vmm/dev/vpci.c vmm/dev/virtio_pci_blk.c vmm/dev/virtio_blk_queue.c
PORTABLE_SRCS += $(VDISK_DEV_SRCS)
UNIT_TESTS += $(BUILD)/tests/unit/test_virtio_blk
$(BUILD)/tests/unit/test_virtio_blk: $(call host_objs,tests/unit/dev/test_virtio_blk.c $(VDISK_DEV_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

FUZZ_TARGETS += $(BUILD)/fuzz/virtio_blk
$(BUILD)/fuzz/virtio_blk: tests/fuzz/fuzz_virtio_blk.c $(VDISK_DEV_SRCS) $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Ivmm $(filter %.c,$^) -o $@
