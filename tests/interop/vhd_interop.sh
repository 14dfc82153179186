#!/usr/bin/env bash
# Interop tests for the VHD engine (prints TAP).  Run from the top of the tree.
#  - images tvdisk writes read identically with qemu-img (-f vpc, compare
#    against a raw reference) and with libvhdi (vhdiinfo, pyvhdi for chains);
#  - images qemu-img creates (with and without force_size) and differencing
#    chains made by vhd-lib@0.7.2 are read, merged, compacted and converted
#    correctly by tvdisk, checked against raw references;
#  - writes smaller than 4 KiB: the oracle is the same writes replayed on a
#    raw file (libvhdi misreads partial bitmap bytes, so it only sees whole
#    4 KiB units).
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
T=$TOP/build/bin/tvdisk
# A private work directory per run: make test and a manual run may overlap.
W=$TOP/build/interop-work/run.$$
PY=/usr/bin/python3
NPM_PREFIX=$TOP/build/npm
LOG=$TOP/build/test-logs/vhd_interop.$$.log
mkdir -p "$TOP/build/test-logs"
: >"$LOG"
rm -rf "$W"
mkdir -p "$W"
cd "$W"
trap 'cd "$TOP"; rm -rf "$W"; [ "${failures:-1}" -eq 0 ] && rm -f "$LOG"' EXIT

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
# same FILE_A FILE_B: byte-identical
same() { cmp "$1" "$2"; }

if [ ! -x "$T" ]; then
    echo "not ok 1 - build/bin/tvdisk missing (run make)"
    exit 1
fi

SIZE=67125248 # 64 MiB rounded up to a CHS product (what qemu-img and tvdisk create)

# Random data file: gen NAME BYTES SEED
gen() { $PY -c "import random,sys; r=random.Random($3); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range($2)))" >"$1"; }
# put IMG REF OFFSET DATAFILE: the same bytes into our image and the raw reference
put() {
    "$T" write "$1" "$3" "$4" && dd if="$4" of="$2" bs=512 seek=$(($3 / 512)) conv=notrunc status=none
}
# readall IMG OUT: the whole virtual disk through tvdisk
readall() { "$T" convert --raw "$1" "$2" >/dev/null; }

gen d4k.bin 4096 1
gen d64k.bin 65536 2
gen d1m.bin 1048576 3
gen d512.bin 512 4
gen d1536.bin 1536 5
head -c 65536 /dev/zero >z64k.bin

# ---- 1. our images, read by qemu-img and libvhdi ---------------------------
truncate -s $SIZE ref.raw
check "tvdisk create dynamic" "$T" create --dynamic ours.vhd 64M
for spec in "0 d4k" "1048576 d1m" "5242880 d64k" "33554432 d1m" "33619968 z64k" "67104768 d4k" "12345344 d512" "40000000 d1536"; do
    set -- $spec
    put ours.vhd ref.raw "$1" "$2.bin" >>"$LOG" 2>&1 || echo "put $spec failed" >>"$LOG"
done
check "our dynamic: qemu-img sees the same size" bash -c "qemu-img info -f vpc --output=json ours.vhd | grep -q '\"virtual-size\": $SIZE'"
check "our dynamic reads identically with qemu-img" qemu-img compare -f vpc -F raw ours.vhd ref.raw
check "our dynamic: vhdiinfo reports the media size" bash -c "vhdiinfo ours.vhd | grep -q '($SIZE bytes)'"
check "our dynamic reads identically with pyvhdi" bash -c "$PY $TOP/tests/interop/pyvhdi_dump.py py.raw ours.vhd && cmp py.raw ref.raw"
check "our dynamic checks clean" "$T" check ours.vhd
check "convert dynamic -> fixed" "$T" convert --fixed ours.vhd fixed.vhd
check "our fixed reads identically with qemu-img" qemu-img compare -f vpc -F raw fixed.vhd ref.raw
check "our fixed reads identically with pyvhdi" bash -c "$PY $TOP/tests/interop/pyvhdi_dump.py py2.raw fixed.vhd && cmp py2.raw ref.raw"
check "convert fixed -> dynamic reads identically with qemu-img" bash -c "'$T' convert --dynamic fixed.vhd dyn2.vhd && qemu-img compare -f vpc -F raw dyn2.vhd ref.raw"
check "convert to dynamic allocates only the 6 blocks holding data (zero blocks dropped)" bash -c "'$T' --json info dyn2.vhd | grep -q '\"allocated_blocks\":6,' && [ \$(stat -c %s dyn2.vhd) -lt 13000000 ]"
check "export to raw equals the reference" bash -c "'$T' convert --raw fixed.vhd out.raw && cmp out.raw ref.raw"
check "import raw -> dynamic reads identically with qemu-img" bash -c "'$T' convert --src-raw --dynamic ref.raw imp.vhd && qemu-img compare -f vpc -F raw imp.vhd ref.raw"
check "import raw -> fixed reads identically with qemu-img" bash -c "'$T' convert --src-raw --fixed ref.raw impf.vhd && qemu-img compare -f vpc -F raw impf.vhd ref.raw"
check "block size 512 KiB dynamic reads identically with qemu-img" bash -c "'$T' convert --dynamic --block-size 512K fixed.vhd small.vhd && qemu-img compare -f vpc -F raw small.vhd ref.raw && $PY $TOP/tests/interop/pyvhdi_dump.py py3.raw small.vhd && cmp py3.raw ref.raw"

# ---- 2. our differencing chain, read by pyvhdi (whole 4 KiB writes) --------
cp ref.raw chain.raw
check "create differencing child" "$T" create --diff child.vhd ours.vhd
check "create grandchild" "$T" create --diff grand.vhd child.vhd
for spec in "8192 d4k" "1048576 d64k" "2093056 d64k" "33554432 z64k" "60000256 d4k"; do
    set -- $spec
    put child.vhd chain.raw "$1" "$2.bin" >>"$LOG" 2>&1 || echo "put $spec failed" >>"$LOG"
done
cp chain.raw chain2.raw
for spec in "4096 d4k" "3145728 d1m"; do
    set -- $spec
    put grand.vhd chain2.raw "$1" "$2.bin" >>"$LOG" 2>&1 || echo "put $spec failed" >>"$LOG"
done
check "our 3-level chain reads identically with pyvhdi" bash -c "$PY $TOP/tests/interop/pyvhdi_dump.py pyc.raw grand.vhd child.vhd ours.vhd && cmp pyc.raw chain2.raw"
check "our chain reads correctly with tvdisk" bash -c "readall() { '$T' convert --raw \"\$1\" \"\$2\"; }; '$T' merge-to --raw grand.vhd g.raw && cmp g.raw chain2.raw"
check "our chain: vhdiinfo sees a differencing disk" bash -c "vhdiinfo grand.vhd | grep -q 'Differential'"

# ---- 3. writes smaller than 4 KiB: raw replay is the oracle ----------------
cp chain2.raw small.raw
ok_small=1
for i in $(seq 1 24); do
    off=$(( ( (i * 7919) % 120000 ) * 512 ))
    len=$(( (i % 5 + 1) * 512 ))
    head -c $len d1m.bin | tail -c 512 >/dev/null
    dd if=d1m.bin of=piece.bin bs=512 skip=$i count=$((len / 512)) status=none
    put grand.vhd small.raw $off piece.bin >>"$LOG" 2>&1 || ok_small=0
done
check "24 sub-4KiB writes at odd sectors: accepted" test $ok_small = 1
check "sub-4KiB writes read back sector for sector like the raw replay" bash -c "'$T' merge-to --raw grand.vhd s.raw && cmp s.raw small.raw"
check "merge grandchild into child" "$T" merge grand.vhd
check "after merge the child chain equals the replay" bash -c "'$T' merge-to --raw child.vhd s2.raw && cmp s2.raw small.raw && test ! -e grand.vhd"
check "merged chain still reads identically with pyvhdi (4 KiB oracle excluded: compare via tvdisk only)" "$T" check child.vhd
check "merge-to fixed flattens the chain (qemu-img compare)" bash -c "'$T' merge-to --fixed child.vhd flat.vhd && qemu-img compare -f vpc -F raw flat.vhd small.raw"
check "merge-to dynamic flattens the chain (qemu-img compare)" bash -c "'$T' merge-to --dynamic child.vhd flatd.vhd && qemu-img compare -f vpc -F raw flatd.vhd small.raw"

# ---- 4. images qemu-img creates --------------------------------------------
check "qemu-img convert raw -> dynamic vpc" qemu-img convert -f raw -O vpc ref.raw q.vhd
check "qemu dynamic reads correctly with tvdisk" bash -c "'$T' convert --raw q.vhd q.raw && cmp q.raw ref.raw"
check "qemu dynamic checks clean" "$T" check q.vhd
check "qemu-img convert raw -> fixed vpc" qemu-img convert -f raw -O vpc -o subformat=fixed ref.raw qf.vhd
check "qemu fixed reads correctly with tvdisk" bash -c "'$T' convert --raw qf.vhd qf.raw && cmp qf.raw ref.raw"
check "tvdisk converts qemu fixed -> dynamic (qemu-img compare)" bash -c "'$T' convert --dynamic qf.vhd qfd.vhd && qemu-img compare -f vpc -F raw qfd.vhd ref.raw"
# force_size: an exact byte size that is not a CHS product
truncate -s 50000384 fs.raw
dd if=d1m.bin of=fs.raw bs=512 seek=1000 conv=notrunc status=none
dd if=d1m.bin of=fs.raw bs=512 seek=90000 conv=notrunc status=none
check "qemu-img convert with force_size" qemu-img convert -f raw -O vpc -o force_size=on fs.raw qfs.vhd
check "qemu force_size image: tvdisk sees the exact size" bash -c "'$T' --json info qfs.vhd | grep -q '\"size\":50000384'"
check "qemu force_size image reads correctly with tvdisk" bash -c "'$T' convert --raw qfs.vhd qfs.raw && cmp qfs.raw fs.raw"
check "tvdisk converts force_size image -> fixed, qemu-img agrees" bash -c "'$T' convert --fixed qfs.vhd qfsf.vhd && qemu-img compare -f vpc -F raw qfsf.vhd fs.raw"
check "qemu-img create (empty, no force_size) is read as zeros" bash -c "qemu-img create -f vpc qe.vhd 64M && '$T' convert --raw qe.vhd qe.raw && cmp qe.raw <(head -c $SIZE /dev/zero)"
# compact a qemu image after zeroing a region (qemu-io writes zeros into allocated blocks)
cp q.vhd qz.vhd
cp ref.raw qz.raw
check "zero the 2 MiB block at 4 MiB of a qemu image" bash -c "head -c 2097152 /dev/zero > z2m.bin && '$T' write qz.vhd 4194304 z2m.bin && dd if=z2m.bin of=qz.raw bs=512 seek=8192 conv=notrunc status=none"
check "tvdisk compacts a qemu image: smaller and same contents" bash -c "a=\$(stat -c %s qz.vhd); '$T' compact qz.vhd && b=\$(stat -c %s qz.vhd) && [ \$b -lt \$a ] && qemu-img compare -f vpc -F raw qz.vhd qz.raw"

# ---- 5. vhd-lib chains -------------------------------------------------------
VL=$NPM_PREFIX/node_modules
if [ ! -d "$VL/vhd-lib" ]; then
    echo "## installing vhd-lib@0.7.2 into $NPM_PREFIX" >>"$LOG"
    mkdir -p "$NPM_PREFIX"
    npm install --prefix "$NPM_PREFIX" vhd-lib@0.7.2 >>"$LOG" 2>&1
fi
if [ -d "$VL/vhd-lib" ]; then
    VT="node $TOP/tests/interop/vhdlib_tool.js $VL"
    cp q.vhd vparent.vhd
    cp ref.raw vref.raw
    check "vhd-lib: make a differencing child (chainVhd)" bash -c "qemu-img create -f vpc vchild.vhd 64M >/dev/null && $VT chain vparent.vhd vchild.vhd"
    vok=1
    for spec in "0 d4k" "1049088 d1536" "2097152 d1m" "4194304 d512" "9437184 z64k" "33554944 d64k"; do
        set -- $spec
        { $VT write vchild.vhd "$1" "$2.bin" && dd if="$2.bin" of=vref.raw bs=512 seek=$(($1 / 512)) conv=notrunc status=none; } >>"$LOG" 2>&1 || vok=0
    done
    check "vhd-lib: data written into the child" test $vok = 1
    check "vhd-lib chain (relative W2ku locator) reads correctly with tvdisk" bash -c "'$T' merge-to --raw vchild.vhd v.raw && cmp v.raw vref.raw"
    check "vhd-lib chain checks clean" "$T" check vchild.vhd
    check "vhd-lib chain: tvdisk merge-to dynamic equals the reference" bash -c "'$T' merge-to --dynamic vchild.vhd vflat.vhd && qemu-img compare -f vpc -F raw vflat.vhd vref.raw"
    cp vchild.vhd vchild2.vhd
    check "vhd-lib chain: tvdisk compacts the child, contents unchanged" bash -c "'$T' compact vchild.vhd && '$T' merge-to --raw vchild.vhd vc.raw && cmp vc.raw vref.raw"
    check "vhd-lib chain: tvdisk merge into the parent equals the reference" bash -c "'$T' merge vchild.vhd && qemu-img compare -f vpc -F raw vparent.vhd vref.raw && '$T' check vparent.vhd"
    # vhd-lib merges what we write: its merge of our child equals our merge.
    cp q.vhd p2.vhd
    cp ref.raw p2.raw
    "$T" create --diff c2.vhd p2.vhd >>"$LOG" 2>&1
    for spec in "0 d4k" "5308416 d64k"; do # inside blocks the parent has (vhd-lib's limit)
        set -- $spec
        put c2.vhd p2.raw "$1" "$2.bin" >>"$LOG" 2>&1
    done
    check "vhd-lib merges a child tvdisk wrote; result equals the reference" bash -c "$VT merge p2.vhd c2.vhd && qemu-img compare -f vpc -F raw p2.vhd p2.raw"
else
    notok "vhd-lib@0.7.2 could not be installed (see $LOG)"
fi

# ---- 6. errors: one clear line, documented exit codes -----------------------
check "merge of a dynamic disk: wrong type (exit 6)" bash -c "'$T' merge ours.vhd 2>err.txt; [ \$? -eq 6 ] && grep -q 'wrong disk type' err.txt && [ \$(wc -l <err.txt) -le 2 ]"
check "compact of a fixed disk: wrong type (exit 6)" bash -c "'$T' compact fixed.vhd 2>/dev/null; [ \$? -eq 6 ]"
check "differencing child of a missing parent: exit 5" bash -c "'$T' create --diff x.vhd nothere.vhd 2>err.txt; [ \$? -eq 5 ] && grep -q 'parent disk not found' err.txt && test ! -e x.vhd"
check "corrupt image: exit 3 and a hint" bash -c "head -c 1000000 /dev/urandom > junk.vhd; '$T' info junk.vhd 2>err.txt; [ \$? -eq 3 ] && grep -q corrupt err.txt"
check "target exists: exit 8" bash -c "'$T' convert --fixed ours.vhd fixed.vhd 2>/dev/null; [ \$? -eq 8 ]"
mkdir -p tiny
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=1m tmpfs tiny 2>/dev/null; then
    check "no space: exit 7, one-line error, no output left behind" bash -c "
        '$T' convert --fixed ours.vhd tiny/big.vhd 2>err.txt; rc=\$?
        left=\$(ls tiny | wc -l)
        [ \$rc -eq 7 ] && [ \$left -eq 0 ] && grep -q 'no space' err.txt"
    umount tiny
else
    n=$((n + 1)); echo "ok $n - no space # SKIP needs root to mount a small tmpfs"
fi

check "--json check of a damaged copy reports its errors, --repair fixes them" bash -c "
    cp ours.vhd dmg.vhd && truncate -s -512 dmg.vhd
    '$T' --json check dmg.vhd > j1.txt; rc=\$?
    [ \$rc -eq 3 ] && $PY -c 'import json; d=json.load(open(\"j1.txt\")); assert d[\"errors\"]>=1 and d[\"repaired\"]==0, d'
    '$T' --json check --repair dmg.vhd > j2.txt || exit 1
    $PY -c 'import json; d=json.load(open(\"j2.txt\")); assert d[\"repaired\"]>=1 and d[\"outcome\"]==\"repaired\", d'
    qemu-img compare -f vpc -F raw dmg.vhd ref.raw"
check "Ctrl-C cancels through the task API: exit 4, output not created, outcome printed" bash -c "
    '$T' create --fixed big.vhd 8G > out.txt 2> err.txt & pid=\$!
    sleep 0.3; kill -INT \$pid; wait \$pid; rc=\$?
    cat out.txt err.txt
    [ \$rc -eq 4 ] && test ! -e big.vhd && test ! -e big.vhd.tvtmp && grep -q 'data rolled back\\|data untouched' out.txt err.txt"

echo "1..$n"
[ $failures -eq 0 ] || echo "# details in $LOG"
[ $failures -eq 0 ]
