# Hosted tests of the VMX backend's portable part: the EPT page-table format.
UNIT_TESTS += $(BUILD)/tests/unit/test_ept_format
$(BUILD)/tests/unit/test_ept_format: $(call host_objs,tests/unit/vmx/test_ept_format.c vmm/mm/pagetable.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
