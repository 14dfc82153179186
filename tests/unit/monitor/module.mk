# Hosted tests of the monitor's portable pieces (compiled unchanged).
UNIT_TESTS += $(BUILD)/tests/unit/test_monitor_mm
$(BUILD)/tests/unit/test_monitor_mm: $(call host_objs,tests/unit/monitor/test_mm.c vmm/mm/pmm.c vmm/mm/pagetable.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# Monitor option checking (refusal of bad values) and the CPUID/MSR policy.
UNIT_TESTS += $(BUILD)/tests/unit/test_monitor_options $(BUILD)/tests/unit/test_monitor_options_testbuild \
              $(BUILD)/tests/unit/test_cpuid_policy
$(BUILD)/tests/unit/test_monitor_options: $(call host_objs,tests/unit/monitor/test_options.c vmm/kernel/options.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
# The same with TV_TEST_BUILD: the test-only options (crash_test) exist.
$(BUILD)/tests/unit/test_monitor_options_testbuild: tests/unit/monitor/test_options.c vmm/kernel/options.c $(call host_objs,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) -DTV_TEST_BUILD $(filter %.c,$^) $(filter %.o,$^) -o $@ $(HOST_LDFLAGS) -lcmocka
$(BUILD)/tests/unit/test_cpuid_policy: $(call host_objs,tests/unit/monitor/test_cpuid_policy.c vmm/vm/cpuid_policy.c)
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# The virtual UART's console output and its per-partition rate limit (log
# and clock stubbed in the test).
UNIT_TESTS += $(BUILD)/tests/unit/test_vuart
$(BUILD)/tests/unit/test_vuart: $(call host_objs,tests/unit/monitor/test_vuart.c vmm/dev/vuart.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
