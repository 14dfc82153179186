# client/: libtaskvisor (freestanding C API for the control partition) and
# its hosted loopback transport.  Tests live in tests/unit/task/.
CLIENT_LIB_SRCS := client/tv_client.c client/tv_disk.c client/tv_volumes.c
CLIENT_HOSTED_SRCS := client/loopback.c

$(call host_objs,$(CLIENT_LIB_SRCS) $(CLIENT_HOSTED_SRCS)): HOST_CFLAGS += -Iclient -Itask
$(call tool_objs,$(CLIENT_LIB_SRCS) $(CLIENT_HOSTED_SRCS)): TOOL_CFLAGS += -Iclient -Itask

# The library must build without libc (it runs in freestanding guests).
ALL_TARGETS += $(BUILD)/client/freestanding.stamp
$(BUILD)/client/freestanding.stamp: $(CLIENT_LIB_SRCS) client/libtaskvisor.h client/tv_disk.h $(wildcard include/taskvisor/*.h)
	@mkdir -p $(BUILD)/client/freestanding
	@for f in $(CLIENT_LIB_SRCS); do \
	    $(HOST_CC) $(TASK_FREESTANDING_CFLAGS) -Iclient -c $$f -o $(BUILD)/client/freestanding/$$(basename $$f .c).o || exit 1; \
	done
	@touch $@
