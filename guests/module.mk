# guests/: partition images shipped with Taskvisor (not tests).
#   build/guests/control.elf   the default control partition (console)
include guests/lib/guestlib.mk

CONTROL_SRCS := $(wildcard guests/control/*.c) client/tv_client.c client/tv_disk.c client/tv_volumes.c client/guest_transport.c
$(BUILD)/guestobj/guests/control/%.o: GUEST_CFLAGS += -Iclient
$(eval $(call guest_image,control,$(CONTROL_SRCS)))
ALL_TARGETS += $(BUILD)/guests/control.elf
