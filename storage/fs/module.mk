# storage/fs/ and storage/volume/: block-device abstraction, partition
# tables, FAT32 and exFAT, the storage seam over a volume (all portable).
FS_SRCS := storage/fs/blockdev.c storage/fs/fs_core.c storage/fs/fs_name.c storage/fs/fs.c \
           storage/fs/fat32.c storage/fs/fat32_recover.c storage/fs/exfat.c storage/fs/exfat_recover.c storage/fs/fs_storage.c \
           storage/volume/crc32.c storage/volume/partition.c
PORTABLE_SRCS += $(FS_SRCS)
FS_TEST_SUPPORT := tests/unit/fs/mem_blockdev.c tests/unit/fs/fs_test_util.c tests/unit/fs/exfat_check.c

$(call host_objs,$(FS_SRCS) $(wildcard tests/unit/fs/*.c)): HOST_CFLAGS += -I. -Istorage -Itests/unit/fs -Itests/unit/storage

FS_UNIT := test_fs test_exfat test_volume
UNIT_TESTS += $(addprefix $(BUILD)/tests/unit/,$(FS_UNIT))
define fs_unit_rule
$(BUILD)/tests/unit/$(1): $(call host_objs,tests/unit/fs/$(1).c $(FS_TEST_SUPPORT) $(FS_SRCS) $(LIB_SRCS))
	@mkdir -p $$(dir $$@)
	$$(HOST_CC) $$^ -o $$@ $$(HOST_LDFLAGS) -lcmocka
endef
$(foreach t,$(FS_UNIT),$(eval $(call fs_unit_rule,$(t))))

# Proof that the file systems build freestanding.
ALL_TARGETS += $(BUILD)/storage/fs-freestanding.stamp
$(BUILD)/storage/fs-freestanding.stamp: $(FS_SRCS) $(wildcard storage/fs/*.h storage/volume/*.h include/taskvisor/*.h)
	@mkdir -p $(BUILD)/storage/fs-freestanding
	@for f in $(FS_SRCS); do \
	    $(HOST_CC) $(STORAGE_FREESTANDING_CFLAGS) -c $$f -o $(BUILD)/storage/fs-freestanding/$$(basename $$f .c).o || exit 1; \
	done
	@touch $@

# The VHD engine, unchanged, on the seam over a FAT32 and an exFAT volume.
# (storage/module.mk is read after this file: its source list is taken here
# by pattern.)
FS_VHD_SRCS := $(filter-out storage/vhd_task.c,$(wildcard storage/vhd_*.c))
UNIT_TESTS += $(BUILD)/tests/unit/test_fs_seam
$(BUILD)/tests/unit/test_fs_seam: $(call host_objs,tests/unit/fs/test_fs_seam.c $(FS_TEST_SUPPORT) $(FS_SRCS) $(FS_VHD_SRCS) tests/unit/storage/vhd_test_util.c $(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) $^ -o $@ $(HOST_LDFLAGS) -lcmocka

# Fuzz targets: partition tables; FAT32 and exFAT metadata (one harness, two corpora).
FS_FUZZ_COMMON := tests/fuzz/fs/fuzz_fs_dev.c $(FS_SRCS) $(LIB_SRCS)
FUZZ_TARGETS += $(BUILD)/fuzz/volume $(BUILD)/fuzz/fs_fat32 $(BUILD)/fuzz/fs_exfat
$(BUILD)/fuzz/volume: tests/fuzz/fs/fuzz_volume.c $(FS_FUZZ_COMMON)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Istorage -Itests/fuzz/fs $^ -o $@
$(BUILD)/fuzz/fs_fat32 $(BUILD)/fuzz/fs_exfat: tests/fuzz/fs/fuzz_fs_image.c $(FS_FUZZ_COMMON)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Istorage -Itests/fuzz/fs $^ -o $@
