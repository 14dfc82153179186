# tests/guest/tasks/: guests driving the in-monitor task subsystem through
# libtaskvisor (client/) with a hypercall transport.
TASK_GUEST_CLIENT := client/tv_client.c client/guest_transport.c
$(eval $(call guest_image,tasks,tests/guest/tasks/tasks.c $(TASK_GUEST_CLIENT)))
$(eval $(call guest_image,tasks_denied,tests/guest/tasks/tasks_denied.c))
ALL_TARGETS += $(BUILD)/guests/tasks.elf $(BUILD)/guests/tasks_denied.elf
$(BUILD)/guestobj/tests/guest/tasks/%.o: GUEST_CFLAGS += -Iclient
$(eval $(call guest_image,task_bench,tests/guest/tasks/task_bench.c $(TASK_GUEST_CLIENT)))
ALL_TARGETS += $(BUILD)/guests/task_bench.elf
$(eval $(call guest_image,task_fill,tests/guest/tasks/task_fill.c))
ALL_TARGETS += $(BUILD)/guests/task_fill.elf
$(eval $(call guest_image,vm_ops,tests/guest/tasks/vm_ops.c $(TASK_GUEST_CLIENT)))
ALL_TARGETS += $(BUILD)/guests/vm_ops.elf
$(eval $(call guest_image,vm_agent_ops,tests/guest/tasks/vm_agent_ops.c $(TASK_GUEST_CLIENT)))
ALL_TARGETS += $(BUILD)/guests/vm_agent_ops.elf
$(eval $(call guest_image,vm_save_ops,tests/guest/tasks/vm_save_ops.c $(TASK_GUEST_CLIENT)))
ALL_TARGETS += $(BUILD)/guests/vm_save_ops.elf
