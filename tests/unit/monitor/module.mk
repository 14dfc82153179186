# Hosted tests of the monitor's portable pieces (compiled unchanged).
UNIT_TESTS += $(BUILD)/tests/unit/test_monitor_mm
$(BUILD)/tests/unit/test_monitor_mm: $(call host_objs,tests/unit/monitor/test_mm.c vmm/mm/pmm.c vmm/mm/pagetable.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka


# The CPUID/MSR consistency rule (vmm/vm/cpuid_policy.c).
UNIT_TESTS += $(BUILD)/tests/unit/test_cpuid_policy
$(BUILD)/tests/unit/test_cpuid_policy: $(call host_objs,tests/unit/monitor/test_cpuid_policy.c vmm/vm/cpuid_policy.c)
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
