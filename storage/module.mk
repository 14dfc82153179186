# storage/: the VHD engine (portable), its hosted file seam, the tvdisk tool,
# unit/crash tests, interop tests, the parser fuzz target and benchmarks.
STORAGE_SRCS := storage/vhd_format.c storage/vhd_path.c storage/vhd_open.c storage/vhd_block.c storage/vhd_io.c storage/vhd_locator.c \
                storage/vhd_create.c storage/vhd_op.c storage/vhd_copy.c storage/vhd_merge.c \
                storage/vhd_check.c
STORAGE_HOST_SRCS := storage/host/storage_file.c
# The job-driver wrapper needs the task subsystem (task/ sources).
STORAGE_TASK_SRCS := storage/vhd_task.c
STORAGE_TASK_DEPS := $(wildcard task/*.c)
PORTABLE_SRCS += $(STORAGE_SRCS) $(STORAGE_TASK_SRCS)

STORAGE_TEST_SUPPORT := tests/unit/storage/mem_storage.c tests/unit/storage/vhd_test_util.c
STORAGE_INC := -I. -Istorage -Itests/unit/storage -Itask

# Every object built from these sources also sees storage/ headers.
$(call host_objs,$(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(STORAGE_HOST_SRCS) $(wildcard tests/unit/storage/*.c) $(wildcard tools/tvdisk/*.c)): HOST_CFLAGS += $(STORAGE_INC)
$(call tool_objs,$(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(STORAGE_HOST_SRCS) $(wildcard tools/tvdisk/*.c)): TOOL_CFLAGS += $(STORAGE_INC)

# Unit tests (sanitized).
STORAGE_UNIT := test_vhd test_vhd_ops test_vhd_crash test_vhd_guard
UNIT_TESTS += $(addprefix $(BUILD)/tests/unit/,$(STORAGE_UNIT))
define storage_unit_rule
$(BUILD)/tests/unit/$(1): $(call host_objs,tests/unit/storage/$(1).c $(STORAGE_TEST_SUPPORT) $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(STORAGE_TASK_DEPS) $(STORAGE_HOST_SRCS) $(LIB_SRCS))
	@mkdir -p $$(dir $$@)
	$$(HOST_CC) $$^ -o $$@ $$(HOST_LDFLAGS) -lcmocka
endef
$(foreach t,$(STORAGE_UNIT),$(eval $(call storage_unit_rule,$(t))))

# Host tool (optimised).
TVDISK_SRCS := $(wildcard tools/tvdisk/*.c)
HOST_TOOLS += $(BUILD)/bin/tvdisk
$(BUILD)/bin/tvdisk: $(call tool_objs,$(TVDISK_SRCS) $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(STORAGE_TASK_DEPS) $(STORAGE_HOST_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(TOOL_LDFLAGS)

# Interop tests against qemu-img, libvhdi and vhd-lib (print TAP).
TEST_SCRIPTS += tests/interop/vhd_interop.sh tests/interop/vhd_guard_interop.sh

# Parser fuzz target.
FUZZ_TARGETS += $(BUILD)/fuzz/vhd_parse
$(BUILD)/fuzz/vhd_parse: tests/unit/storage/fuzz_vhd_parse.c tests/unit/storage/mem_storage.c $(STORAGE_SRCS) $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(STORAGE_INC) $^ -o $@

BENCH_SCRIPTS += bench/vhd/bench_vhd.sh

# Proof that the engine builds freestanding (what the monitor will use).
STORAGE_FREESTANDING_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin \
    -nostdinc -isystem $(shell $(HOST_CC) -print-file-name=include) \
    -mgeneral-regs-only -mno-red-zone -fno-stack-protector -fno-pic -mcmodel=kernel \
    -Iinclude -Ilib -I. -Istorage -Itask
ALL_TARGETS += $(BUILD)/storage/freestanding.stamp
$(BUILD)/storage/freestanding.stamp: $(STORAGE_SRCS) $(STORAGE_TASK_SRCS) $(wildcard storage/*.h task/*.h include/taskvisor/*.h)
	@mkdir -p $(BUILD)/storage/freestanding
	@for f in $(STORAGE_SRCS) $(STORAGE_TASK_SRCS); do \
	    $(HOST_CC) $(STORAGE_FREESTANDING_CFLAGS) -c $$f -o $(BUILD)/storage/freestanding/$$(basename $$f .c).o || exit 1; \
	done
	@touch $@
