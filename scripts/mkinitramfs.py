#!/usr/bin/env python3
"""Builds the Linux partition's initramfs: a gzip'd cpio (newc) archive.

    scripts/mkinitramfs.py OUT.cpio.gz INIT BUSYBOX [FILE=bin/NAME ...]

Contents: /init (INIT), /bin/busybox (BUSYBOX, a static busybox from Debian's
busybox-static), further files FILE as /bin/NAME (executables) or /lib/NAME
(data, such as a kernel module), /dev/console (5,1) and empty /proc /sys /dev
/tmp /root /etc.
Written directly (no root needed for the device node) and deterministic:
fixed owners, modes and mtime (SOURCE_DATE_EPOCH or 0), gzip without a name
or a timestamp."""
import gzip
import io
import os
import sys


def entry(out, ino, name, mode, data=b"", rdev=(0, 0), mtime=0):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, 1, mtime, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0))
    out.write(hdr.encode())
    out.write(name_b)
    out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out_path, init_path, busybox_path = sys.argv[1:4]
    extras = []  # FILE=bin/NAME: more executables, FILE=lib/NAME: data
    for arg in sys.argv[4:]:
        src, _, dest = arg.partition("=")
        top, _, name = dest.partition("/")
        if top not in ("bin", "lib") or not name or "/" in name:
            sys.exit("mkinitramfs: extra file %s: want FILE=bin/NAME or FILE=lib/NAME" % arg)
        with open(src, "rb") as f:
            extras.append((dest, 0o100755 if top == "bin" else 0o100644, f.read()))
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    with open(init_path, "rb") as f:
        init = f.read()
    with open(busybox_path, "rb") as f:
        busybox = f.read()
    if not busybox.startswith(b"\x7fELF"):
        sys.exit("mkinitramfs: %s is not an ELF executable" % busybox_path)
    buf = io.BytesIO()
    ino = 1
    for d in ("bin", "dev", "proc", "sys", "tmp", "root", "sbin", "usr", "usr/bin", "usr/sbin",
              "lib", "etc"):
        entry(buf, ino, d, 0o040755, mtime=mtime)
        ino += 1
    entry(buf, ino, "dev/console", 0o020600, rdev=(5, 1), mtime=mtime); ino += 1
    entry(buf, ino, "bin/busybox", 0o100755, busybox, mtime=mtime); ino += 1
    entry(buf, ino, "bin/sh", 0o120777, b"busybox", mtime=mtime); ino += 1
    entry(buf, ino, "init", 0o100755, init, mtime=mtime); ino += 1
    for dest, mode, data in extras:
        entry(buf, ino, dest, mode, data, mtime=mtime); ino += 1
    entry(buf, 0, "TRAILER!!!", 0)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(buf.getvalue())
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
