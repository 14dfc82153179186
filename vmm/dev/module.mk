# vmm/dev: device models.  The platform devices below are portable (no
# kernel headers) and unit-tested hosted; vapic, vapic_mmio and vuart use
# the monitor's timers and log and are tested by the integration scenarios.
DEV_PORTABLE_SRCS := vmm/dev/ioapic.c vmm/dev/mptable.c vmm/dev/legacy_ports.c

UNIT_TESTS += $(BUILD)/tests/unit/test_platform_devices
$(BUILD)/tests/unit/test_platform_devices: $(call host_objs,tests/unit/dev/test_platform_devices.c $(DEV_PORTABLE_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
PORTABLE_SRCS += $(DEV_PORTABLE_SRCS)

FUZZ_TARGETS += $(BUILD)/fuzz/ioapic
$(BUILD)/fuzz/ioapic: tests/fuzz/fuzz_ioapic.c vmm/dev/ioapic.c vmm/dev/ioapic.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ivmm $(filter %.c,$^) -o $@
