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
