# vmm/hcall: hypercall decoding, permission checks, dispatch, platform calls.
# Portable: compiled unchanged into the monitor (freestanding) and into the
# hosted tests and fuzzers below.
HCALL_SRCS := vmm/hcall/hcall_dispatch.c vmm/hcall/hcall_platform.c \
              vmm/hcall/hcall_guest_mem.c
PORTABLE_SRCS += $(HCALL_SRCS)

# Tests include monitor headers as "hcall/hcall.h", "emul/...", "guestload/...".
$(BUILD)/host/tests/unit/vmm/%.o: HOST_CFLAGS += -Ivmm -Itests/unit/vmm

UNIT_TESTS += $(BUILD)/tests/unit/test_hcall $(BUILD)/tests/unit/test_hcall_testbuild
$(BUILD)/tests/unit/test_hcall: $(call host_objs,tests/unit/vmm/test_hcall.c $(HCALL_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# Same suite against a TV_TEST_BUILD dispatcher (test-only calls present).
$(BUILD)/tests/unit/test_hcall_testbuild: tests/unit/vmm/test_hcall.c $(HCALL_SRCS) $(call host_objs,$(LIB_SRCS)) \
		tests/unit/vmm/fake_guest_mem.h $(wildcard vmm/hcall/*.h include/taskvisor/*.h lib/*.h)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) -DTV_TEST_BUILD -Ivmm -Itests/unit/vmm \
		$(filter %.c,$^) $(filter %.o,$^) -o $@ $(HOST_LDFLAGS) -lcmocka

FUZZ_TARGETS += $(BUILD)/fuzz/hcall
$(BUILD)/fuzz/hcall: tests/fuzz/fuzz_hcall.c $(HCALL_SRCS) $(LIB_SRCS) tests/unit/vmm/fake_guest_mem.h $(wildcard vmm/hcall/*.h include/taskvisor/*.h lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DTV_TEST_BUILD -Ivmm -Itests/unit/vmm $(filter %.c,$^) -o $@
TEST_SCRIPTS += tests/unit/vmm/check_freestanding.sh
