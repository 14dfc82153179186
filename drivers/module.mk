# drivers/: the monitor's own drivers (compiled into the monitor by
# vmm/module.mk).  Their portable parsers are tested hosted here.
DRIVERS_PORTABLE := drivers/pci/pci_parse.c drivers/block/virtq.c drivers/block/dma_list.c drivers/block/ata_id.c

UNIT_TESTS += $(BUILD)/tests/unit/test_pci_parse
$(BUILD)/tests/unit/test_pci_parse: $(call host_objs,tests/unit/drivers/test_pci_parse.c $(DRIVERS_PORTABLE) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# MCFG, capability lists and virtqueue indexes from malformed input
# (seed corpus in tests/fuzz/corpus/pci_parse/).
FUZZ_TARGETS += $(BUILD)/fuzz/pci_parse
$(BUILD)/fuzz/pci_parse: tests/fuzz/fuzz_pci_parse.c $(DRIVERS_PORTABLE) $(LIB_SRCS) $(wildcard drivers/pci/*.h drivers/block/virtq.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. $(filter %.c,$^) -o $@

UNIT_TESTS += $(BUILD)/tests/unit/test_dma_list
$(BUILD)/tests/unit/test_dma_list: $(call host_objs,tests/unit/drivers/test_dma_list.c $(DRIVERS_PORTABLE) $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_rtc_time
$(BUILD)/tests/unit/test_rtc_time: $(call host_objs,tests/unit/drivers/test_rtc_time.c drivers/rtc_time.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka
