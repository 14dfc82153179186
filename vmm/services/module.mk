# vmm/services: the VM lifecycle's portable parts, tested hosted.
VM_PORTABLE_SRCS := vmm/services/vm_state.c vmm/services/vm_savefile.c
PORTABLE_SRCS += $(VM_PORTABLE_SRCS)

UNIT_TESTS += $(BUILD)/tests/unit/test_vm_state
$(BUILD)/tests/unit/test_vm_state: $(call host_objs,tests/unit/vm/test_vm_state.c $(VM_PORTABLE_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# The saved-state file format and its parser (Save / restore).
UNIT_TESTS += $(BUILD)/tests/unit/test_vm_savefile
$(BUILD)/tests/unit/test_vm_savefile: $(call host_objs,tests/unit/vm/test_vm_savefile.c vmm/services/vm_savefile.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# libFuzzer target: the saved-state parser over arbitrary files.
FUZZ_TARGETS += $(BUILD)/fuzz/vm_savefile
$(BUILD)/fuzz/vm_savefile: tests/unit/vm/fuzz_vm_savefile.c vmm/services/vm_savefile.c $(LIB_SRCS) \
        $(wildcard include/taskvisor/*.h lib/*.h vmm/services/vm_savefile.h tests/unit/vm/savefile_build.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Ivmm -Itests/unit/vm $(filter %.c,$^) -o $@

# The VM hypercalls under the one dispatcher, with the one task-type registry.
VM_CALL_SRCS := vmm/services/vm_calls.c vmm/hcall/hcall_dispatch.c vmm/hcall/hcall_guest_mem.c \
                vmm/hcall/hcall_platform.c
UNIT_TESTS += $(BUILD)/tests/unit/test_vm_hcall
$(call host_objs,tests/unit/vm/test_vm_hcall.c): HOST_CFLAGS += -Itask
$(BUILD)/tests/unit/test_vm_hcall: \
        $(call host_objs,tests/unit/vm/test_vm_hcall.c $(VM_PORTABLE_SRCS) $(VM_CALL_SRCS) \
                         $(TASK_CORE_SRCS) $(TASK_HOSTED_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# vmm/services: hosted tests of the image store's portable parts.
$(BUILD)/host/tests/unit/services/%.o: HOST_CFLAGS += -Ivmm -Istorage -Itask -Iclient -Itests/unit/fs

UNIT_TESTS += $(BUILD)/tests/unit/test_blk_fsdev
$(BUILD)/tests/unit/test_blk_fsdev: $(call host_objs,tests/unit/services/test_blk_fsdev.c vmm/services/blk_fsdev.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# The image store's core and its hypercalls over the scenario's disk
# (tests/integration/mkstore.sh; needs root for exfat-fuse over a loop device).
IMAGE_STORE_SRCS := vmm/services/store_core.c vmm/services/blk_fsdev.c vmm/services/volume_calls.c drivers/rtc_time.c
$(call host_objs,$(IMAGE_STORE_SRCS)): HOST_CFLAGS += -Istorage -Itask
$(BUILD)/host/tests/unit/services/test_image_store.o: HOST_CFLAGS += -Itests/unit/vmm
UNIT_TESTS += $(BUILD)/tests/unit/test_image_store
$(BUILD)/tests/unit/test_image_store: $(call host_objs,tests/unit/services/test_image_store.c $(IMAGE_STORE_SRCS) vmm/services/disk_path.c \
        tests/unit/fs/mem_blockdev.c tests/unit/fs/fs_test_util.c $(FS_SRCS) $(FS_VHD_SRCS) \
        client/tv_client.c client/tv_volumes.c client/loopback.c $(TASK_CORE_SRCS) \
        task/platform_hosted.c $(LIB_SRCS)) $(TASK_CALL_OBJS) | $(BUILD)/bin/tvdisk
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# The guest agent's channel under the one dispatcher (docs/agent.md).
UNIT_TESTS += $(BUILD)/tests/unit/test_vm_agent
$(call host_objs,tests/unit/vm/test_vm_agent.c): HOST_CFLAGS += -Itask
$(BUILD)/tests/unit/test_vm_agent: \
        $(call host_objs,tests/unit/vm/test_vm_agent.c vmm/services/vm_agent.c \
                         vmm/hcall/hcall_dispatch.c vmm/hcall/hcall_guest_mem.c vmm/hcall/hcall_platform.c \
                         $(TASK_CORE_SRCS) $(TASK_HOSTED_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# libFuzzer target: the agent calls against a model of their rules.
FUZZ_TARGETS += $(BUILD)/fuzz/vm_agent
$(BUILD)/fuzz/vm_agent: tests/unit/vm/fuzz_vm_agent.c vmm/services/vm_agent.c \
        vmm/hcall/hcall_dispatch.c vmm/hcall/hcall_guest_mem.c vmm/hcall/hcall_platform.c \
        $(TASK_HOSTED_ALL) $(wildcard include/taskvisor/*.h lib/*.h vmm/hcall/*.h vmm/services/vm_agent.h tests/unit/common/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Ivmm -Itask $(filter %.c,$^) -o $@ -pthread
