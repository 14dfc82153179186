# Hosted tests of the disk operations as tasks (vmm/services/disk_*.c):
# DISK_START under the one dispatcher with the task calls beside it, every
# type's refusals, jobs over memory volumes, recovery after a power cut;
# and a libFuzzer target over DISK_START's argument decoding.
DISK_OPS_SRCS := vmm/services/disk_ops.c vmm/services/disk_path.c vmm/services/disk_recover.c \
                 vmm/services/disk_calls.c
DISK_TEST_SRCS := tests/unit/disk/disk_test_env.c tests/unit/storage/mem_storage.c tests/unit/storage/vhd_test_util.c
$(call host_objs,$(DISK_OPS_SRCS) $(wildcard tests/unit/disk/*.c)): HOST_CFLAGS += $(STORAGE_INC) -Iclient
$(call host_tb_objs,$(DISK_OPS_SRCS)): HOST_CFLAGS += $(STORAGE_INC)

UNIT_TESTS += $(BUILD)/tests/unit/test_disk_calls
$(BUILD)/tests/unit/test_disk_calls: \
        $(call host_objs,tests/unit/disk/test_disk_calls.c $(DISK_TEST_SRCS) $(DISK_OPS_SRCS) $(CLIENT_LIB_SRCS) \
                         $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(TASK_HOSTED_ALL)) $(TASK_CALL_OBJS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# libFuzzer target over DISK_START's decoding and the types' prepare (seed
# corpus in tests/fuzz/corpus/disk_calls/).
FUZZ_TARGETS += $(BUILD)/fuzz/disk_calls
$(BUILD)/fuzz/disk_calls: tests/unit/disk/fuzz_disk_calls.c $(DISK_TEST_SRCS) $(DISK_OPS_SRCS) \
        $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(TASK_HOSTED_ALL) $(TASK_CALL_SRCS) \
        $(wildcard task/*.h storage/*.h include/taskvisor/*.h lib/*.h vmm/hcall/*.h vmm/services/disk_*.h tests/unit/disk/*.h tests/unit/common/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Ivmm -Itask $(STORAGE_INC) -Itests/unit/disk $(filter %.c,$^) -o $@ -pthread
