#!/usr/bin/env bash
# Interop and process tests of tvdisk's guards (issue 10), printing TAP:
#  1. sizes: every image tvdisk writes over a qemu force_size parent reads at
#     one size in tvdisk, qemu-img, libvhdi (vhdiinfo) and vhd-lib;
#  2. a merge killed past its commit point is recovered from another working
#     directory and by absolute path; a journal whose child is gone is
#     reported and cleared by check --repair;
#  3. compact of a differencing disk named with a directory;
#  4. locks: a second writer is refused at once ("in use"), a running
#     convert's temporary is left alone, a write during a compact fails;
#  5. merging one child makes its sibling refuse the changed parent;
#  6. FIFOs refused by every command without hanging, aliased BAT entries and
#     a resized parent reported;
#  7. read stops on SIGTERM/SIGINT (also blocked on a full pipe), write from
#     pipes, --json write, a write that runs out of space rolls back.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
T=$TOP/build/bin/tvdisk
W=$TOP/build/interop-work/guard.$$
PY=/usr/bin/python3
VL=$TOP/build/npm/node_modules
LOG=$TOP/build/test-logs/vhd_guard_interop.$$.log
mkdir -p "$TOP/build/test-logs"
: >"$LOG"
rm -rf "$W"
mkdir -p "$W"
cd "$W"
cleanup() {
    cd "$TOP"
    mountpoint -q "$W/tiny" 2>/dev/null && umount "$W/tiny"
    rm -rf "$W"
    [ "${failures:-1}" -eq 0 ] && rm -f "$LOG"
}
trap cleanup EXIT

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"; tail -n 15 "$LOG" | sed 's/^/#   /'; }
check() {
    local desc=$1
    shift
    echo "## $desc: $*" >>"$LOG"
    if "$@" >>"$LOG" 2>&1; then ok "$desc"; else notok "$desc"; fi
}

if [ ! -x "$T" ]; then
    echo "not ok 1 - build/bin/tvdisk missing (run make)"
    exit 1
fi
if [ ! -d "$VL/vhd-lib" ]; then
    mkdir -p "$TOP/build/npm"
    npm install --prefix "$TOP/build/npm" vhd-lib@0.7.2 >>"$LOG" 2>&1
fi
gen() { head -c "$2" /dev/urandom >"$1"; }
gen s512.bin 512
gen d4k.bin 4096
gen d1m.bin 1048576

# ---- 1. sizes every reader agrees on ----------------------------------------
# sizes FILE BYTES: tvdisk, qemu-img, vhdiinfo and (dynamic/differencing) vhd-lib
sizes() {
    local f=$1 want=$2 got
    got=$("$T" --json info "$f" | $PY -c 'import json,sys; print(json.load(sys.stdin)["size"])') || return 1
    echo "$f: tvdisk $got"; [ "$got" = "$want" ] || return 1
    got=$(qemu-img info -f vpc --output=json "$f" | $PY -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
    echo "$f: qemu-img $got"; [ "$got" = "$want" ] || return 1
    vhdiinfo "$f" | grep -q "($want bytes)" || { vhdiinfo "$f"; return 1; }
    if [ "$("$T" --json info "$f" | $PY -c 'import json,sys; print(json.load(sys.stdin)["type"])')" != fixed ]; then
        got=$(node "$TOP/tests/interop/vhdlib_tool.js" "$VL" size "$f")
        echo "$f: vhd-lib $got"; [ "$got" = "$want" ] || return 1
    fi
}
# lastsector IMG: the disk's last sector through qemu-img equals s512.bin
lastsector() {
    local sz=$2
    qemu-img convert -f vpc -O raw "$1" "$1.raw" && tail -c 512 "$1.raw" | cmp - s512.bin && [ "$(stat -c %s "$1.raw")" = "$sz" ]
}
for size in 67108864 104859136; do
    d=fs$size
    mkdir $d
    qemu-img create -f vpc -o subformat=dynamic,force_size=on $d/q.vhd $size >>"$LOG" 2>&1
    check "force_size $size: qemu parent reads alike everywhere" sizes $d/q.vhd $size
    check "force_size $size: child (issue repro) reads alike everywhere" bash -c "'$T' -q create --diff $d/c.vhd q.vhd && '$T' -q write $d/c.vhd $((size - 512)) s512.bin && $(declare -f sizes); T='$T' PY=$PY VL='$VL' TOP='$TOP' sizes $d/c.vhd $size"
    for kind in dynamic fixed; do
        check "force_size $size: merge-to --$kind reads alike, last sector there in qemu" bash -c "'$T' -q merge-to --$kind $d/c.vhd $d/m-$kind.vhd && $(declare -f sizes lastsector); T='$T' PY=$PY VL='$VL' TOP='$TOP' sizes $d/m-$kind.vhd $size && lastsector $d/m-$kind.vhd $size"
        check "force_size $size: convert --$kind reads alike" bash -c "'$T' -q convert --$kind $d/m-dynamic.vhd $d/v-$kind.vhd && $(declare -f sizes lastsector); T='$T' PY=$PY VL='$VL' TOP='$TOP' sizes $d/v-$kind.vhd $size && lastsector $d/v-$kind.vhd $size"
    done
    check "force_size $size: compact of the child reads alike" bash -c "cp $d/c.vhd $d/cc.vhd && '$T' -q compact $d/cc.vhd && $(declare -f sizes); T='$T' PY=$PY VL='$VL' TOP='$TOP' sizes $d/cc.vhd $size"
    check "force_size $size: merge into the parent reads alike, last sector there in qemu" bash -c "'$T' -q merge $d/c.vhd && $(declare -f sizes lastsector); T='$T' PY=$PY VL='$VL' TOP='$TOP' sizes $d/q.vhd $size && lastsector $d/q.vhd $size"
    check "create --exact $size reads alike everywhere" bash -c "'$T' -q create --exact $d/e.vhd $size && $(declare -f sizes); T='$T' PY=$PY VL='$VL' TOP='$TOP' sizes $d/e.vhd $size"
done

# ---- 2. recovery from any directory -----------------------------------------
# killmerge DIR: starts "tvdisk merge DIR/c.vhd", kills it right after its
# journal is written (past the commit point); fails if it finished first.
killmerge() {
    "$T" -q merge "$1/c.vhd" & local pid=$!
    # complete (2048 bytes) = written; a kill keeps what reached the page cache
    while [ "$(stat -c %s "$1/p.vhd.tvjournal" 2>/dev/null)" != 2048 ] && kill -0 $pid 2>/dev/null; do :; done
    kill -STOP $pid 2>/dev/null; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
    [ -e "$1/p.vhd.tvjournal" ] && [ -e "$1/c.vhd" ]
}
gen d64m.bin 67108864
for mode in cd absolute; do
    mkdir -p rec-$mode/vms
    "$T" -q create rec-$mode/vms/p.vhd 256M && "$T" -q write rec-$mode/vms/p.vhd 0 d1m.bin
    "$T" -q create --diff rec-$mode/vms/c.vhd p.vhd && "$T" -q write rec-$mode/vms/c.vhd 1048576 d64m.bin
    "$T" -q merge-to --raw rec-$mode/vms/c.vhd rec-$mode/want.raw
    check "recovery ($mode): merge killed past its commit point" killmerge rec-$mode/vms
    if [ $mode = cd ]; then
        check "recovery: 'cd vms && tvdisk check --repair p.vhd' finishes the merge" bash -c "cd rec-cd/vms && '$T' check --repair p.vhd && test ! -e p.vhd.tvjournal && test ! -e c.vhd"
    else
        check "recovery: check --repair by absolute path from / finishes the merge" bash -c "cd / && '$T' check --repair '$W/rec-absolute/vms/p.vhd' && test ! -e '$W/rec-absolute/vms/p.vhd.tvjournal'"
    fi
    check "recovery ($mode): the parent holds the merged chain" bash -c "'$T' -q convert --raw rec-$mode/vms/p.vhd rec-$mode/got.raw && cmp rec-$mode/got.raw rec-$mode/want.raw"
done
mkdir -p gone/vms
"$T" -q create gone/vms/p.vhd 256M && "$T" -q create --diff gone/vms/c.vhd p.vhd && "$T" -q create --diff gone/vms/s.vhd p.vhd && "$T" -q write gone/vms/c.vhd 0 d64m.bin
check "journal naming a missing child: merge killed, child deleted" bash -c "$(declare -f killmerge); T='$T' killmerge gone/vms && rm gone/vms/c.vhd"
check "journal naming a missing child: info says the merge is pending (exit 2)" bash -c "'$T' info gone/vms/p.vhd 2>err.txt; [ \$? -eq 2 ] && grep -q 'merge into this disk is pending' err.txt"
check "journal naming a missing child: check names it missing (exit 3)" bash -c "'$T' check gone/vms/p.vhd >out.txt; [ \$? -eq 3 ] && grep -q 'c.vhd, which is missing' out.txt"
check "journal naming a missing child: check --repair clears it, parent opens" bash -c "'$T' check --repair gone/vms/p.vhd && test ! -e gone/vms/p.vhd.tvjournal && '$T' info gone/vms/p.vhd"
check "journal naming a missing child: the sibling refuses the changed parent (exit 9)" bash -c "'$T' info gone/vms/s.vhd; [ \$? -eq 9 ]"

# ---- 3. paths resolved once -------------------------------------------------
mkdir -p p3/vms
"$T" -q create p3/vms/p.vhd 64M && "$T" -q write p3/vms/p.vhd 0 d1m.bin && "$T" -q create --diff p3/vms/c.vhd p.vhd && "$T" -q write p3/vms/c.vhd 4194304 d4k.bin
"$T" -q merge-to --raw p3/vms/c.vhd p3/want.raw
check "compact vms/c.vhd (differencing) works and keeps the contents" bash -c "'$T' compact p3/vms/c.vhd && '$T' -q merge-to --raw p3/vms/c.vhd p3/got.raw && cmp p3/got.raw p3/want.raw"

# ---- 4. locks ----------------------------------------------------------------
"$T" -q create lk.vhd 64M && "$T" -q write lk.vhd 0 d64m.bin
cp lk.vhd lk.orig
check "a writer holding the image: tvdisk write refused at once (exit 2, 'in use')" bash -c "
    flock -x lk.vhd sleep 1 & sleep 0.3
    timeout 2 '$T' write lk.vhd 0 d4k.bin 2>err.txt; rc=\$?; wait
    [ \$rc -eq 2 ] && grep -q 'in use' err.txt && cmp lk.vhd lk.orig"
check "a reader holding the image: compact refused (exit 2)" bash -c "
    flock -s lk.vhd sleep 1 & sleep 0.3
    timeout 2 '$T' compact lk.vhd; rc=\$?; wait; [ \$rc -eq 2 ] && cmp lk.vhd lk.orig"
check "a convert writing t.vhd: a second convert to t.vhd is busy and leaves its temporary" bash -c "
    : > t.vhd.tvtmp; flock -x t.vhd.tvtmp sleep 1 & sleep 0.3
    timeout 2 '$T' convert lk.vhd t.vhd 2>err.txt; rc=\$?; wait
    [ \$rc -eq 2 ] && grep -q 'in use' err.txt && test -e t.vhd.tvtmp && test ! -e t.vhd"
check "a stale temporary (no one holds it) is replaced" bash -c "'$T' -q convert lk.vhd t.vhd && '$T' read lk.vhd 0 64M > a.raw && '$T' read t.vhd 0 64M > b.raw && cmp a.raw b.raw"
check "write and a second compact during a compact: refused, compact completes, nothing lost" bash -c "
    '$T' -q compact lk.vhd & pid=\$!
    while [ ! -e lk.vhd.tvtmp ] && kill -0 \$pid 2>/dev/null; do :; done
    kill -STOP \$pid
    '$T' write lk.vhd 0 d4k.bin 2>err.txt; w=\$?
    '$T' compact lk.vhd 2>err2.txt; c=\$?
    kill -CONT \$pid; wait \$pid; rc=\$?
    echo write=\$w compact2=\$c compact=\$rc
    [ \$w -eq 2 ] && [ \$c -eq 2 ] && [ \$rc -eq 0 ] && grep -q 'in use' err.txt && '$T' read lk.vhd 0 64M > a.raw && cmp a.raw d64m.bin"

# ---- 5. siblings ---------------------------------------------------------------
"$T" -q create sp.vhd 64M && "$T" -q create --diff sc1.vhd sp.vhd && "$T" -q create --diff sc2.vhd sp.vhd && "$T" -q write sc1.vhd 0 d1m.bin
check "merge c1 into p: c2 refuses the changed parent (info exit 9, check exit 3)" bash -c "
    '$T' -q merge sc1.vhd && { '$T' info sc2.vhd; [ \$? -eq 9 ]; } && { '$T' check sc2.vhd; [ \$? -eq 3 ]; }"
check "c2 accepted with --fix-parent then checks clean" bash -c "'$T' -q info --fix-parent sc2.vhd && '$T' check sc2.vhd"

# ---- 6. bad inputs --------------------------------------------------------------
mkfifo ff.vhd
fifo_ok=1
for args in "info ff.vhd" "check ff.vhd" "check --repair ff.vhd" "merge ff.vhd" "merge-to ff.vhd o1.vhd" \
            "compact ff.vhd" "convert ff.vhd o2.vhd" "convert --src-raw ff.vhd o3.vhd" "write ff.vhd 0 d4k.bin" \
            "read ff.vhd 0 512" "info --src-raw ff.vhd" "create --diff o4.vhd ff.vhd"; do
    timeout 5 "$T" $args >>"$LOG" 2>&1; rc=$?
    echo "## fifo: tvdisk $args -> $rc" >>"$LOG"
    [ $rc -eq 6 ] || fifo_ok=0
done
check "a FIFO as image: 12 command forms refuse it at once (exit 6, no hang)" test $fifo_ok = 1
# alias BAT entry of the second allocated block to the first
"$T" -q create al.vhd 64M && "$T" -q write al.vhd 0 d4k.bin && "$T" -q write al.vhd 4194304 d4k.bin
$PY - al.vhd <<'EOF'
import struct, sys
f = open(sys.argv[1], 'r+b')
f.seek(512 + 16); bat = struct.unpack('>Q', f.read(8))[0]
f.seek(512 + 28); n = struct.unpack('>I', f.read(4))[0]
f.seek(bat); e = list(struct.unpack('>%dI' % n, f.read(4 * n)))
used = [i for i, x in enumerate(e) if x != 0xFFFFFFFF]
f.seek(bat + 4 * used[1]); f.write(struct.pack('>I', e[used[0]]))
EOF
cp al.vhd al.orig
check "aliased BAT entries: write refused (exit 3), image unchanged" bash -c "'$T' write al.vhd 8388608 d4k.bin; [ \$? -eq 3 ] && cmp al.vhd al.orig"
check "aliased BAT entries: info and read warn on stderr" bash -c "'$T' info al.vhd 2>e1.txt >/dev/null && '$T' read al.vhd 0 512 2>e2.txt >/dev/null && grep -q 'same file space' e1.txt && grep -q 'same file space' e2.txt"
check "aliased BAT entries: compact refused, check reports the overlap" bash -c "{ '$T' compact al.vhd; [ \$? -eq 3 ]; } && { '$T' check al.vhd > out.txt; [ \$? -eq 3 ]; } && grep -q overlap out.txt"
# parent with the right id but another size: halve its footer size
"$T" -q create rp.vhd 64M && "$T" -q create --diff rc.vhd rp.vhd
$PY - rp.vhd <<'EOF'
import os, struct, sys
f = open(sys.argv[1], 'r+b')
def fix(at):
    f.seek(at); b = bytearray(f.read(512))
    size = struct.unpack('>Q', b[48:56])[0] // 2
    b[40:48] = b[48:56] = struct.pack('>Q', size)
    b[64:68] = b'\0\0\0\0'
    b[64:68] = struct.pack('>I', ~sum(b) & 0xFFFFFFFF)
    f.seek(at); f.write(b)
fix(0); fix(os.path.getsize(sys.argv[1]) - 512)
EOF
check "resized parent (same id): info warns, check reports it (exit 3)" bash -c "'$T' info rc.vhd 2>e.txt >/dev/null && grep -q 'resized' e.txt && { '$T' check rc.vhd > out.txt; [ \$? -eq 3 ]; } && grep -q resized out.txt"

# ---- 7. signals and pipes ---------------------------------------------------------
"$T" -q create huge.vhd 1T
for sig in TERM INT; do
    check "read stops on SIG$sig (exit 4)" bash -c "
        '$T' read huge.vhd 0 1T > /dev/null & pid=\$!; sleep 0.5; kill -$sig \$pid
        timeout 5 bash -c \"while kill -0 \$pid 2>/dev/null; do sleep 0.05; done\" || { kill -KILL \$pid; exit 1; }
        wait \$pid; [ \$? -eq 4 ]"
done
check "read blocked on a full pipe stops on SIGTERM (exit 4)" bash -c "
    mkfifo pp; exec 7<>pp
    '$T' read huge.vhd 0 1T > pp & pid=\$!; sleep 0.5; kill -TERM \$pid
    timeout 5 bash -c \"while kill -0 \$pid 2>/dev/null; do sleep 0.05; done\" || { kill -KILL \$pid; exit 1; }
    wait \$pid; [ \$? -eq 4 ]"
"$T" -q create pw.vhd 64M
check "write from /dev/stdin (a pipe)" bash -c "cat d1m.bin | '$T' -q write pw.vhd 0 /dev/stdin && cmp <('$T' read pw.vhd 0 1M) d1m.bin"
check "write from process substitution" bash -c "'$T' -q write pw.vhd 2097152 <(cat d4k.bin) && cmp <('$T' read pw.vhd 2097152 4096) d4k.bin"
check "write with a directory as DATAFILE: error (exit 1), nothing written" bash -c "cp pw.vhd pw.orig; mkdir -p ddir; '$T' write pw.vhd 0 ddir 2>err.txt; [ \$? -eq 1 ] && grep -q directory err.txt && cmp pw.vhd pw.orig"
check "write of a partial sector from a pipe: error (exit 1), nothing written" bash -c "head -c 700 d4k.bin | '$T' write pw.vhd 0 /dev/stdin; [ \$? -eq 1 ] && cmp pw.vhd pw.orig"
check "--json write prints its result" bash -c "'$T' --json write pw.vhd 4096 d4k.bin > j.txt && $PY -c 'import json; d=json.load(open(\"j.txt\")); assert d[\"status\"]==\"OK\" and d[\"bytes\"]==4096, d'"
mkdir -p tiny
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=4m tmpfs tiny 2>/dev/null; then
    "$T" -q create tiny/x.vhd 64M && "$T" -q write tiny/x.vhd 0 d4k.bin
    dd if=/dev/zero of=tiny/fill bs=64k >/dev/null 2>&1
    truncate -s -262144 tiny/fill
    before=$(stat -c %s tiny/x.vhd)
    check "write out of space: exit 7, image back to its old length, checks clean" bash -c "
        '$T' write tiny/x.vhd 8388608 d1m.bin 2>err.txt; rc=\$?; cat err.txt
        [ \$rc -eq 7 ] && [ \$(stat -c %s tiny/x.vhd) -eq $before ] && '$T' check tiny/x.vhd && cmp <('$T' read tiny/x.vhd 0 4096) d4k.bin"
    umount tiny
else
    n=$((n + 1)); echo "ok $n - write out of space # SKIP needs root to mount a small tmpfs"
fi

echo "1..$n"
[ $failures -eq 0 ] || echo "# details in $LOG"
[ $failures -eq 0 ]
