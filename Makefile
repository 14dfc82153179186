# Taskvisor: one entry point.
#   make          build everything (loader, monitor, guests, ESP, host tools, unit tests)
#   make run      set up, build, boot the monitor in QEMU with the default control partition
#   make test     set up, build, run every test tier; ends with "N passed, N failed"
#   make esp      build/esp.img, a bootable FAT ESP
#   make bench    benchmarks (ratios against peers measured in the same run)
#   make fuzz     long fuzzing runs
#
# Each part of the tree adds itself through a module.mk fragment that appends to:
#   HOST_TOOLS       host executables (build/bin/...)
#   UNIT_TESTS       hosted test executables; each prints TAP ("ok"/"not ok")
#   TEST_SCRIPTS     test scripts (run from the top of the tree); each prints TAP
#   FUZZ_TARGETS     libFuzzer binaries build/fuzz/<name>; corpus in tests/fuzz/corpus/<name>/
#   BENCH_SCRIPTS    benchmark scripts run by `make bench`
#   PORTABLE_SRCS    portable C compiled hosted and freestanding (into the monitor)
#   ALL_TARGETS      anything else `make` must build

BUILD     := build
SHELL     := /bin/bash

HOST_CC   := gcc
HOST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -Iinclude -Ilib -I. -Ivmm -D_GNU_SOURCE -MMD -MP
HOST_LDFLAGS := -fsanitize=address,undefined -pthread
# Optimised hosted build without sanitizers (tools, benchmarks).
TOOL_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -Iinclude -Ilib -I. -Ivmm -D_GNU_SOURCE -MMD -MP
TOOL_LDFLAGS := -pthread

FUZZ_CC     := clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib -D_GNU_SOURCE -DTV_FUZZING

LIB_SRCS  := lib/tv_string.c lib/tv_fmt.c lib/tv_status.c
PORTABLE_SRCS := $(LIB_SRCS)

HOST_TOOLS   :=
UNIT_TESTS   :=
TEST_SCRIPTS :=
FUZZ_TARGETS :=
BENCH_SCRIPTS :=
ALL_TARGETS  :=

.DEFAULT_GOAL := all

# Hosted objects: build/host/<path>.o (sanitized), build/tool/<path>.o (optimised)
$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/tool/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TOOL_CFLAGS) -c $< -o $@

# The same, compiled as in the test build of the monitor (-DTV_TEST_BUILD).
$(BUILD)/host-tb/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -DTV_TEST_BUILD -c $< -o $@

host_objs = $(patsubst %.c,$(BUILD)/host/%.o,$(1))
host_tb_objs = $(patsubst %.c,$(BUILD)/host-tb/%.o,$(1))
tool_objs = $(patsubst %.c,$(BUILD)/tool/%.o,$(1))

include $(sort $(wildcard */module.mk */*/module.mk */*/*/module.mk))

# The default ESP: loader, config/default.cfg (Linux as the control
# partition), the monitor and the images and initrds it names.  CONFIG picks
# another config (make run CONFIG=config/console.cfg: the freestanding
# console); its ESP is build/esp-NAME.img.
CONFIG ?= config/default.cfg
DEFAULT_CFG := $(CONFIG)
DEFAULT_IMAGES := $(addprefix $(BUILD)/guests/,$(shell sed -n 's/^[[:space:]]*\(image\|initrd\)[[:space:]]*=[[:space:]]*//p' $(DEFAULT_CFG)))
ESP_IMG := $(if $(filter config/default.cfg,$(CONFIG)),$(BUILD)/esp.img,$(BUILD)/esp-$(basename $(notdir $(CONFIG))).img)

.PHONY: all deps test unit-tests run esp bench fuzz clean
all: $(ALL_TARGETS) $(HOST_TOOLS) $(UNIT_TESTS) $(FUZZ_TARGETS) $(ESP_IMG)

$(ESP_IMG): $(DEFAULT_CFG) $(BUILD)/monitor.elf $(DEFAULT_IMAGES) $(BUILD)/esp/EFI/BOOT/BOOTX64.EFI scripts/mkesp.sh
	@scripts/mkesp.sh $@ $(DEFAULT_CFG) $(BUILD)/monitor.elf $(DEFAULT_IMAGES)

esp: $(ESP_IMG)

run: deps
	@$(MAKE) --no-print-directory $(ESP_IMG)
	@echo "Booting Taskvisor in QEMU (serial console here; Ctrl-A X quits)"
	@scripts/run-qemu.sh $(ESP_IMG)

deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-tests.sh $(UNIT_TESTS) $(TEST_SCRIPTS) $(addprefix fuzz:,$(FUZZ_TARGETS))

unit-tests: $(UNIT_TESTS)
	@scripts/run-tests.sh $(UNIT_TESTS)

bench: deps
	@$(MAKE) --no-print-directory all
	@rc=0; for b in $(BENCH_SCRIPTS); do echo "== $$b"; $$b || rc=1; done; exit $$rc

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} scripts/run-tests.sh $(addprefix fuzz:,$(FUZZ_TARGETS))

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
