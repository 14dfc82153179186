#!/usr/bin/env python3
"""Test disk images for the block self-test (vmm/testing/blk_selftest.c).

  mkdisk.py create IMG SIZE   raw image of SIZE (bytes, or with K/M/G) holding
                              the signature sector and the known pattern
  mkdisk.py check IMG         exit 0 when the scratch area holds what the
                              self-test writes, 1 (with the first bad sector) if not
  mkdisk.py check-untouched IMG  exit 0 when the scratch area is still all zero

Layout, 512-byte sectors: sector 0 "TVBLKTST", u32 version 1, u32 pattern_lba,
u32 pattern_count, u32 scratch_lba, u32 scratch_count, u32 0, u64 sectors;
pattern sector L: u64 L, "TVPATTRN", byte j >= 16 = (7L + 13j + 0x3c) & 0xff;
scratch sector L after the run: u64 L, "TVWROTE!", (11L + 5j + 0xa7) & 0xff.
"""
import struct
import sys

SECT = 512
PATTERN_LBA, PATTERN_COUNT = 8, 64
SCRATCH_LBA, SCRATCH_COUNT = 1024, 64


def size_arg(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:].upper(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def pattern(lba):
    body = bytes((7 * lba + 13 * j + 0x3C) & 0xFF for j in range(16, SECT))
    return struct.pack("<Q", lba) + b"TVPATTRN" + body


def written(lba):
    body = bytes((11 * lba + 5 * j + 0xA7) & 0xFF for j in range(16, SECT))
    return struct.pack("<Q", lba) + b"TVWROTE!" + body


def create(path, size):
    sectors = size // SECT
    if sectors < SCRATCH_LBA + SCRATCH_COUNT:
        sys.exit("mkdisk: image too small")
    with open(path, "wb") as f:
        f.truncate(sectors * SECT)
        hdr = b"TVBLKTST" + struct.pack("<IIIIIIQ", 1, PATTERN_LBA, PATTERN_COUNT,
                                        SCRATCH_LBA, SCRATCH_COUNT, 0, sectors)
        f.write(hdr.ljust(SECT, b"\0"))
        f.seek(PATTERN_LBA * SECT)
        for lba in range(PATTERN_LBA, PATTERN_LBA + PATTERN_COUNT):
            f.write(pattern(lba))


def check(path):
    with open(path, "rb") as f:
        f.seek(SCRATCH_LBA * SECT)
        for lba in range(SCRATCH_LBA, SCRATCH_LBA + SCRATCH_COUNT):
            if f.read(SECT) != written(lba):
                print(f"sector {lba} of {path} does not hold the self-test's data")
                return 1
    return 0


def check_untouched(path):
    with open(path, "rb") as f:
        f.seek(SCRATCH_LBA * SECT)
        if f.read(SCRATCH_COUNT * SECT) != bytes(SCRATCH_COUNT * SECT):
            print(f"the scratch area of read-only {path} was written")
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "create":
        create(sys.argv[2], size_arg(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "check-untouched":
        sys.exit(check_untouched(sys.argv[2]))
    else:
        sys.exit(__doc__)
