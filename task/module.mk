# task/: the portable task subsystem (see docs/tasks.md).
TASK_CORE_SRCS := task/task_state.c task/task_mgr.c task/task_index.c task/task_query.c task/task_run.c task/task_job.c \
                  task/task_events.c task/task_text.c task/task_types.c task/task_test_job.c
TASK_HOSTED_SRCS := task/platform_hosted.c
PORTABLE_SRCS += $(TASK_CORE_SRCS)

# Proof that the core builds freestanding: no libc headers on the include
# path, no SSE, no builtins (what the monitor will use).
TASK_FREESTANDING_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin \
    -nostdinc -isystem $(shell $(HOST_CC) -print-file-name=include) \
    -mgeneral-regs-only -mno-red-zone -fno-stack-protector -fno-pic -mcmodel=kernel \
    -Iinclude -Ilib
ALL_TARGETS += $(BUILD)/task/freestanding.stamp
$(BUILD)/task/freestanding.stamp: $(TASK_CORE_SRCS) $(wildcard task/*.h include/taskvisor/*.h)
	@mkdir -p $(BUILD)/task/freestanding
	@for f in $(TASK_CORE_SRCS); do \
	    $(HOST_CC) $(TASK_FREESTANDING_CFLAGS) -c $$f -o $(BUILD)/task/freestanding/$$(basename $$f .c).o || exit 1; \
	done
	@touch $@

# Hosted unit tests (ASan+UBSan).
TASK_TEST_UTIL := tests/unit/task/task_test_util.c
TASK_HOSTED_ALL := $(TASK_CORE_SRCS) $(TASK_HOSTED_SRCS) $(LIB_SRCS)
# The task hypercalls as the monitor runs them: the task call section under
# the one dispatcher, built as in the test build (TEST_TASK_START present).
TASK_CALL_SRCS := vmm/services/task_calls.c vmm/hcall/hcall_dispatch.c \
                  vmm/hcall/hcall_guest_mem.c vmm/hcall/hcall_platform.c
TASK_CALL_OBJS := $(call host_tb_objs,$(TASK_CALL_SRCS))

UNIT_TESTS += $(BUILD)/tests/unit/test_task_core
$(BUILD)/tests/unit/test_task_core: \
        $(call host_objs,tests/unit/task/test_task_core.c $(TASK_TEST_UTIL) $(TASK_HOSTED_ALL))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

$(call host_objs,tests/unit/task/%.c): HOST_CFLAGS += -Itask -Iclient

UNIT_TESTS += $(BUILD)/tests/unit/test_task_hcall
$(BUILD)/tests/unit/test_task_hcall: \
        $(call host_objs,tests/unit/task/test_task_hcall.c $(TASK_HOSTED_ALL)) $(TASK_CALL_OBJS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_task_client
$(BUILD)/tests/unit/test_task_client: \
        $(call host_objs,tests/unit/task/test_task_client.c client/tv_client.c client/loopback.c \
                         $(TASK_HOSTED_ALL)) $(TASK_CALL_OBJS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_task_types
$(BUILD)/tests/unit/test_task_types: \
        $(call host_objs,tests/unit/task/test_task_types.c $(TASK_HOSTED_ALL))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_task_model
$(BUILD)/tests/unit/test_task_model: \
        $(call host_objs,tests/unit/task/test_task_model.c $(TASK_TEST_UTIL) $(TASK_HOSTED_ALL))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_task_cycles
$(BUILD)/tests/unit/test_task_cycles: \
        $(call host_objs,tests/unit/task/test_task_cycles.c $(TASK_TEST_UTIL) $(TASK_HOSTED_ALL))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_task_stress
$(BUILD)/tests/unit/test_task_stress: \
        $(call host_objs,tests/unit/task/test_task_stress.c $(TASK_HOSTED_ALL))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# The same stress test under ThreadSanitizer (separate objects).
TASK_TSAN_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer \
    -fsanitize=thread -Iinclude -Ilib -Itask -Itests/unit/task -D_GNU_SOURCE -MMD -MP
$(BUILD)/task-tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TASK_TSAN_CFLAGS) -c $< -o $@
UNIT_TESTS += $(BUILD)/tests/unit/test_task_stress_tsan
$(BUILD)/tests/unit/test_task_stress_tsan: \
        $(patsubst %.c,$(BUILD)/task-tsan/%.o,tests/unit/task/test_task_stress.c $(TASK_HOSTED_ALL))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ -fsanitize=thread -pthread -lcmocka

# libFuzzer target for the hypercall decoder (seed corpus in
# tests/fuzz/corpus/task_hcall/).
FUZZ_TARGETS += $(BUILD)/fuzz/task_hcall
$(BUILD)/fuzz/task_hcall: tests/unit/task/fuzz_task_hcall.c $(TASK_HOSTED_ALL) $(TASK_CALL_SRCS) \
        $(wildcard task/*.h include/taskvisor/*.h lib/*.h vmm/hcall/*.h vmm/services/task_calls.h tests/unit/common/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DTV_TEST_BUILD -I. -Ivmm -Itask $(filter %.c,$^) -o $@ -pthread
TEST_SCRIPTS += tests/unit/task/check_task_freestanding.sh
