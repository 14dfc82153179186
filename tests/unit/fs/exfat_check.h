/* An exFAT checker of the tests' own, written apart from storage/fs/ (and
 * stricter than fsck.exfat -n of exfatprogs 1.2.0, which does not look at
 * the allocation bitmap): boot checksum, every entry set's SetChecksum and
 * name hash, each file's clusters (NoFatChain extents or FAT chains) against
 * the bitmap, cross links, VolumeDirty. */
#ifndef EXFAT_CHECK_H
#define EXFAT_CHECK_H

#include <stddef.h>
#include <stdint.h>

enum {
    EXC_DIRTY = 1u << 0,      /* VolumeDirty set (benign after a crash) */
    EXC_LEAK = 1u << 1,       /* bitmap holds clusters nothing reaches (benign) */
    EXC_LONG_CHAIN = 1u << 2, /* a FAT chain longer than its file (benign) */
    EXC_FATAL = 1u << 8,      /* anything else: bad checksum, hash, missing bit, cross link, ... */
};

/* Returns a mask of the above; text (when not NULL) gets one line per finding. */
unsigned exfat_check(const uint8_t *img, size_t len, char *text, size_t cap);

#endif
