#!/usr/bin/python3
"""Reads a VHD (and its parents, child first) with libvhdi's pyvhdi and
writes the whole virtual disk to OUT.  Usage: pyvhdi_dump.py OUT CHILD [PARENT ...]"""
import sys

import pyvhdi


def main():
    out, names = sys.argv[1], sys.argv[2:]
    files = []
    for name in names:
        f = pyvhdi.file()
        f.open(name)
        files.append(f)
    for child, parent in zip(files, files[1:]):
        child.set_parent(parent)
    top = files[0]
    size = top.get_media_size()
    with open(out, 'wb') as o:
        off = 0
        while off < size:
            n = min(1 << 20, size - off)
            o.write(top.read_buffer_at_offset(n, off))
            off += n
    for f in reversed(files):
        f.close()


if __name__ == '__main__':
    main()
