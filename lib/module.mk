# lib/: freestanding helpers shared by every part.
UNIT_TESTS += $(BUILD)/tests/unit/test_lib
$(BUILD)/tests/unit/test_lib: $(call host_objs,tests/unit/lib/test_lib.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
