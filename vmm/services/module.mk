# vmm/services: the VM lifecycle's portable parts, tested hosted.
VM_PORTABLE_SRCS := vmm/services/vm_state.c
PORTABLE_SRCS += $(VM_PORTABLE_SRCS)

UNIT_TESTS += $(BUILD)/tests/unit/test_vm_state
$(BUILD)/tests/unit/test_vm_state: $(call host_objs,tests/unit/vm/test_vm_state.c $(VM_PORTABLE_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
