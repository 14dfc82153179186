#!/usr/bin/python3
"""VHD engine benchmark: tvdisk against qemu-img convert and vhd-lib merge,
same images, same run, reported as ratios (peer time / our time; >= 1 means
we are at least as fast).

Rows: raw->fixed, raw->dynamic, dynamic->fixed, fixed->dynamic on three
1 GiB images (sparse: 30% random data in 2 MiB blocks, rest holes;
scattered: 30% random data in 64 KiB pieces; dense: 100% random), with our
flushing on (compared with `qemu-img convert -t writeback`) and off
(compared with default `qemu-img convert`, which does not flush).  Then a
merge of 182 MiB of child data (1 MiB writes inside parent-allocated
blocks of a 1 GiB disk) by tvdisk and by vhd-lib@0.7.2.

Each time is the best of REPS runs (env BENCH_REPS, default 5): the machine
is shared, and the minimum is the least disturbed measurement of each tool
(applied to every tool alike).  The source images stay in the page cache.  Env BENCH_SIZE_MIB (default 1024)."""
import os
import random
import shutil
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
T = os.path.join(TOP, 'build', 'bin', 'tvdisk')
W = os.path.join(TOP, 'build', 'bench-vhd')
NPM = os.path.join(TOP, 'build', 'npm')
VT = os.path.join(TOP, 'tests', 'interop', 'vhdlib_tool.js')
REPS = int(os.environ.get('BENCH_REPS', '5'))
SIZE = int(os.environ.get('BENCH_SIZE_MIB', '1024')) << 20
MiB = 1 << 20


def sh(*args, **kw):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, **kw)


def rm(*paths):
    for p in paths:
        if os.path.exists(p):
            os.unlink(p)


def timed(cmd, cleanup):
    times = []
    for _ in range(REPS):
        cleanup()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    cleanup()
    return min(times)


def make_images():
    rnd = random.Random(7)
    images = {}
    # sparse: 30% of the 2 MiB blocks hold random data, the rest are holes
    p = os.path.join(W, 'sparse.raw')
    with open(p, 'wb') as f:
        f.truncate(SIZE)
        blocks = SIZE // (2 * MiB)
        for b in rnd.sample(range(blocks), blocks * 3 // 10):
            f.seek(b * 2 * MiB)
            f.write(os.urandom(2 * MiB))
    images['sparse'] = p
    # scattered: 30% random data in 64 KiB pieces at random places
    p = os.path.join(W, 'scattered.raw')
    with open(p, 'wb') as f:
        f.truncate(SIZE)
        pieces = SIZE // (64 * 1024)
        for k in rnd.sample(range(pieces), pieces * 3 // 10):
            f.seek(k * 64 * 1024)
            f.write(os.urandom(64 * 1024))
    images['scattered'] = p
    # dense: every byte random
    p = os.path.join(W, 'dense.raw')
    with open(p, 'wb') as f:
        for _ in range(SIZE // (16 * MiB)):
            f.write(os.urandom(16 * MiB))
    images['dense'] = p
    return images


def convert_rows(images):
    rows = []
    out = os.path.join(W, 'out.vhd')
    clean = lambda: rm(out, out + '.tvtmp')
    for name, raw in images.items():
        dyn = os.path.join(W, name + '.dyn.vhd')
        fix = os.path.join(W, name + '.fix.vhd')
        rm(dyn, fix)
        sh('qemu-img', 'convert', '-f', 'raw', '-O', 'vpc', raw, dyn)
        sh('qemu-img', 'convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed', raw, fix)
        cases = [
            ('raw->fixed', raw, 'raw', ['--src-raw', '--fixed'], ['-o', 'subformat=fixed']),
            ('raw->dynamic', raw, 'raw', ['--src-raw', '--dynamic'], ['-o', 'subformat=dynamic']),
            ('dynamic->fixed', dyn, 'vpc', ['--fixed'], ['-o', 'subformat=fixed']),
            ('fixed->dynamic', fix, 'vpc', ['--dynamic'], ['-o', 'subformat=dynamic']),
        ]
        for label, src, fmt, ours, qopts in cases:
            # warm the page cache with the source
            subprocess.run(['cat', src], stdout=subprocess.DEVNULL)
            q_wb = timed(['qemu-img', 'convert', '-t', 'writeback', '-f', fmt, '-O', 'vpc'] + qopts + [src, out], clean)
            q_def = timed(['qemu-img', 'convert', '-f', fmt, '-O', 'vpc'] + qopts + [src, out], clean)
            o_on = timed([T, '-q', 'convert'] + ours + [src, out], clean)
            o_off = timed([T, '-q', '--no-flush', 'convert'] + ours + [src, out], clean)
            rows.append((name, label, o_on, q_wb, o_off, q_def))
    return rows


def merge_row(images):
    vl = os.path.join(NPM, 'node_modules')
    if not os.path.isdir(os.path.join(vl, 'vhd-lib')):
        sh('npm', 'install', '--prefix', NPM, 'vhd-lib@0.7.2')
    parent0 = os.path.join(W, 'mparent0.vhd')
    child0 = os.path.join(W, 'mchild0.vhd')
    rm(parent0, child0)
    sh('qemu-img', 'convert', '-f', 'raw', '-O', 'vpc', images['dense'], parent0)
    sh(T, '-q', 'create', '--diff', child0, parent0)
    rnd = random.Random(11)
    piece = os.path.join(W, 'piece.bin')
    slots = rnd.sample(range(SIZE // MiB), min(182, SIZE // MiB))
    with open(piece, 'wb') as f:
        f.write(os.urandom(MiB))
    for s in slots:
        sh(T, 'write', child0, str(s * MiB), piece)
    parent = os.path.join(W, 'mparent.vhd')
    child = os.path.join(W, 'mchild.vhd')

    def fresh():
        rm(parent, child)
        shutil.copyfile(parent0, parent)
        shutil.copyfile(child0, child)
        # the child names its parent by relative path: same directory, new name
        subprocess.run([T, '-q', 'info', '--fix-parent', child], stdout=subprocess.DEVNULL)

    def run(cmd):
        times = []
        for _ in range(REPS):
            fresh()
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        return min(times)

    o_on = run([T, '-q', 'merge', child])
    o_off = run([T, '-q', '--no-flush', 'merge', child])
    v = run(['node', VT, vl, 'merge', parent, child])
    rm(parent, child)
    return len(slots), o_on, o_off, v


def main():
    if not os.access(T, os.X_OK):
        print('build/bin/tvdisk missing: run make', file=sys.stderr)
        return 1
    os.makedirs(W, exist_ok=True)
    print(f'# VHD bench: {SIZE >> 20} MiB images, best of {REPS} runs, times in seconds')
    images = make_images()
    rows = convert_rows(images)
    print(f'{"image":10} {"convert":15} {"ours(flush)":>11} {"qemu -t wb":>10} {"ratio":>6} '
          f'{"ours(noflush)":>13} {"qemu":>7} {"ratio":>6}')
    worst_on = worst_off = None
    for name, label, o_on, q_wb, o_off, q_def in rows:
        r_on, r_off = q_wb / o_on, q_def / o_off
        worst_on = r_on if worst_on is None else min(worst_on, r_on)
        worst_off = r_off if worst_off is None else min(worst_off, r_off)
        print(f'{name:10} {label:15} {o_on:11.3f} {q_wb:10.3f} {r_on:6.2f} {o_off:13.3f} {q_def:7.3f} {r_off:6.2f}')
    n, m_on, m_off, v = merge_row(images)
    print(f'merge {n} MiB of child data into a 1 GiB parent: ours(flush) {m_on:.3f}  ours(noflush) {m_off:.3f}  '
          f'vhd-lib {v:.3f}  ratio(flush) {v / m_on:.2f}  ratio(noflush) {v / m_off:.2f}')
    print(f'# worst convert ratio with flushing on vs qemu -t writeback: {worst_on:.2f}; '
          f'off vs default qemu: {worst_off:.2f}; merge vs vhd-lib: {v / m_on:.2f} (flush on)')
    for f in os.listdir(W):
        if f.startswith(('out.vhd', 'mparent', 'mchild')):
            os.unlink(os.path.join(W, f))
    return 0


if __name__ == '__main__':
    sys.exit(main())
