# vmm/emul: x86 instruction decoder, guest page-table walker, instruction fetch.
EMUL_SRCS := vmm/emul/x86_decode.c vmm/emul/x86_walk.c vmm/emul/x86_fetch.c vmm/emul/x86_mmio.c \
             vmm/emul/x86_icache.c
PORTABLE_SRCS += $(EMUL_SRCS)

UNIT_TESTS += $(BUILD)/tests/unit/test_x86_decode $(BUILD)/tests/unit/test_x86_walk \
              $(BUILD)/tests/unit/test_x86_icache
$(BUILD)/host/tests/unit/vmm/test_x86_decode.o: tests/unit/vmm/x86_len_table.inc
$(BUILD)/tests/unit/test_x86_decode: $(call host_objs,tests/unit/vmm/test_x86_decode.c $(EMUL_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
$(BUILD)/tests/unit/test_x86_walk: $(call host_objs,tests/unit/vmm/test_x86_walk.c $(EMUL_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
$(BUILD)/tests/unit/test_x86_icache: $(call host_objs,tests/unit/vmm/test_x86_icache.c $(EMUL_SRCS) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

FUZZ_TARGETS += $(BUILD)/fuzz/decode
$(BUILD)/fuzz/decode: tests/fuzz/fuzz_decode.c $(EMUL_SRCS) $(LIB_SRCS) $(wildcard vmm/emul/*.h include/taskvisor/*.h lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ivmm $(filter %.c,$^) -o $@
