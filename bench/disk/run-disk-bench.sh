#!/usr/bin/env bash
# The disk operations inside the monitor against the raw throughput of the
# same virtual disk and against tvdisk on the host, in one run (docs/bench.md,
# "Disk operations").
#
#   bench/disk/run-disk-bench.sh [MIB]     dense images of MIB MiB (default 64)
#
# The host builds three virtio-blk disks: disk 0 holds the exFAT volume BENCH
# with the source images (random data, every block allocated) and, outside
# every partition, the raw bench region; disk 1 a FAT32 volume and disk 2 an
# exFAT volume, each holding 1,000 files.  One QEMU TCG run of the test
# build: the monitor writes and reads the raw region (vmm/testing/blk_bench.c)
# before it mounts anything, mounts the volumes (time per disk and the
# recovery walk per volume), then the control console runs create fixed,
# convert both ways, merge-to, merge and compact (guests/control/diskbench.c),
# each task timed on the monitor's clock.  tvdisk runs the same operations on
# copies of the same images on the host.  Afterwards every result is checked
# (tvdisk check, qemu-img compare against the host's result, fsck.exfat -n):
# the bench fails only on a broken run, never on a figure.
# Needs root (exfat-fuse over a loop device), as tests/integration/mkstore.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${1:-${DISK_BENCH_MIB:-64}}
out=build/bench/disk
tvdisk=$PWD/build/bin/tvdisk
rm -rf "$out"
mkdir -p "$out/src" "$out/host" "$out/got"
tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir -p "$mnt"
stamper=
stop_stamper() {   # the stamper's pipeline, then the subshell itself
    [ -n "$stamper" ] || return 0
    # Either may find nothing left (the subshell ends with its pipeline).
    pkill -P "$stamper" 2>/dev/null || true
    kill "$stamper" 2>/dev/null || true
    { wait "$stamper"; } 2>/dev/null || true
    stamper=
}
cleanup() {
    stop_stamper
    mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
    [ -n "${loopdev:-}" ] && losetup -d "$loopdev" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "disk bench: FAIL: $*"; exit 1; }
now() { date +%s%N; }
[ "$(id -u)" = 0 ] || fail "needs root (exFAT volumes are filled through exfat-fuse over a loop device)"

# ---- Source images (host) -------------------------------------------------
S=$out/src
T() { "$tvdisk" --quiet "$@" >/dev/null || fail "tvdisk $*"; }
# The virtual size a new MIB MiB disk gets (rounded up to a CHS product):
# the raw data fills all of it, so every block, the last one too, is used.
T create --dynamic "$tmp/probe.vhd" "${MIB}M"
vsize=$("$tvdisk" --json info "$tmp/probe.vhd" | sed -n 's/.*"size": *\([0-9]*\).*/\1/p')
head -c "$vsize" /dev/urandom >"$tmp/a.raw"
head -c "$vsize" /dev/urandom >"$tmp/b.raw"
# Half of the blocks (2 MiB each) zeros, for compact: every other one.
cp "$tmp/a.raw" "$tmp/half.raw"
for ((blk = 0; blk < MIB / 2; blk += 2)); do
    dd if=/dev/zero of="$tmp/half.raw" bs=2M seek=$blk count=1 conv=notrunc status=none
done
T convert --fixed --src-raw "$tmp/a.raw" "$S/fixed.vhd"
T convert --dynamic --src-raw "$tmp/a.raw" "$S/dyn.vhd"
T convert --dynamic --src-raw "$tmp/a.raw" "$S/parent.vhd"
(cd "$S" && T create --diff child.vhd parent.vhd && T create --diff child2.vhd parent.vhd)
T write "$S/child.vhd" 0 "$tmp/b.raw"
T write "$S/child2.vhd" 0 "$tmp/b.raw"
# sparse.vhd: every block allocated (written), half of them all zeros.
T create --dynamic --exact "$S/sparse.vhd" "$vsize"
T write "$S/sparse.vhd" 0 "$tmp/a.raw"    # allocates every block (a write of zeros would not)
T write "$S/sparse.vhd" 0 "$tmp/half.raw" # zeros into half of them
for f in dyn parent child child2 sparse; do
    a=$("$tvdisk" --json info "$S/$f.vhd" | sed -n 's/.*"allocated_blocks": *\([0-9]*\).*/\1/p')
    b=$("$tvdisk" --json info "$S/$f.vhd" | sed -n 's/.*"blocks": *\([0-9]*\).*/\1/p')
    [ "$a" = "$b" ] || fail "$f.vhd is not dense ($a of $b blocks allocated)"
done

# ---- The store disks ------------------------------------------------------
# Disk 0: GPT, partition 1 exFAT "BENCH" from 1 MiB; the raw region after it.
P1=2048 N1=$(((14 * MIB + 64) * 2048))
RAW_LBA=$((P1 + N1)) RAW_N=$((MIB * 2048))
d0=$out/disk0.img d1=$out/disk1.img d2=$out/disk2.img
truncate -s $(((RAW_LBA + RAW_N + 2048) * 512)) "$d0"
sgdisk -n1:$P1:+$((N1 / 2048))M -t1:0700 -c1:bench "$d0" >/dev/null
truncate -s $((N1 * 512)) "$tmp/p1"
mkfs.exfat -L BENCH "$tmp/p1" >/dev/null
exfat_mount() {
    loopdev=$(losetup -f --show "$1")
    mount.exfat-fuse "$loopdev" "$mnt" >/dev/null 2>&1 || fail "cannot mount $1 with exfat-fuse"
}
exfat_umount() { umount "$mnt"; losetup -d "$loopdev"; loopdev=; }
exfat_mount "$tmp/p1"
for f in fixed dyn parent child child2 sparse; do cp "$S/$f.vhd" "$mnt/"; done
exfat_umount
dd if="$tmp/p1" of="$d0" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$tmp/p1"
# Disks 1 and 2: 1,000 files of 1 to 4 KiB in /files, FAT32 (mtools) and exFAT.
mkdir -p "$tmp/files"
for i in $(seq -w 1 1000); do head -c $((1024 * (1 + 10#$i % 4))) /dev/urandom >"$tmp/files/f$i.dat"; done
for d in "$d1" "$d2"; do
    truncate -s 66M "$d"
    sgdisk -n1:2048:+64M -t1:0700 "$d" >/dev/null
done
truncate -s 64M "$tmp/p"
mkfs.vfat -F 32 -n FILESFAT "$tmp/p" >/dev/null
mcopy -s -i "$tmp/p" "$tmp/files" ::/files
dd if="$tmp/p" of="$d1" bs=1M seek=1 conv=notrunc status=none
rm -f "$tmp/p"; truncate -s 64M "$tmp/p"
mkfs.exfat -L FILESEX "$tmp/p" >/dev/null
exfat_mount "$tmp/p"
cp -r "$tmp/files" "$mnt/files"
exfat_umount
dd if="$tmp/p" of="$d2" bs=1M seek=1 conv=notrunc status=none

# ---- The monitor run ------------------------------------------------------
sed -e "s/^options = .*/& blk_bench_mib=$MIB blk_bench_lba=$RAW_LBA/" \
    -e "s/^cmdline = .*/cmdline = diskbench mib=$MIB/" bench/disk/bench.cfg >"$out/bench.cfg"
cp build/monitor-test.elf "$out/monitor.elf"
scripts/mkesp.sh "$out/esp.img" "$out/bench.cfg" "$out/monitor.elf" build/guests/control.elf >/dev/null
log=$out/serial.log
qextra=()
for i in 0 1 2; do
    qextra+=(-drive "file=$out/disk$i.img,format=raw,if=none,id=bd$i,cache=writeback"
             -device "virtio-blk-pci,drive=bd$i,disable-legacy=on")
done
# Every serial line stamped with the host's clock as it arrives: the check
# of the monitor's clock below (its TSC rate comes from one 2 ms PIT pass,
# which a loaded host can stretch).
: >"$log"
(tail -F -s 0.05 -n +1 "$log" 2>/dev/null | while IFS= read -r l; do printf '%s %s\n' "$(date +%s%N)" "$l"; done >"$out/stamped.log") &
stamper=$!
t0=$SECONDS
nice -n 10 scripts/run-qemu.sh --memory 512M --log "$log" --timeout 400 \
    --stop-on 'image store: volumes unmounted|GUEST SUMMARY: .* [1-9][0-9]* failed' \
    "$out/esp.img" -- "${qextra[@]}" >"$out/qemu.out" 2>&1 || true
echo "monitor run: $((SECONDS - t0)) s of host time (see $log)"
sleep 0.5; stop_stamper
grep -aq 'GUEST SUMMARY: 7 passed, 0 failed' "$log" ||
    { grep -a 'not ok\|refused\|error' "$log" | head; fail "the disk operations in the monitor did not all succeed"; }

# ---- tvdisk on the host, on copies of the same images ---------------------
H=$out/host
cp "$S"/*.vhd "$H/"
declare -A host_ns
hrun() {
    local op=$1 t; shift
    t=$(now)
    (cd "$H" && "$tvdisk" --quiet "$@" >/dev/null) || fail "host tvdisk $*"
    host_ns[$op]=$(($(now) - t))
}
hrun create_fixed create --fixed created.vhd "${MIB}M"
hrun convert_f2d convert --dynamic fixed.vhd f2d.vhd
hrun convert_d2f convert --fixed dyn.vhd d2f.vhd
hrun merge_to merge-to --fixed child2.vhd mergeto.vhd
hrun merge merge child.vhd
hrun compact compact sparse.vhd

# ---- Results checked --------------------------------------------------------
G=$out/got
dd if="$d0" of="$tmp/p1" bs=1M skip=1 count=$((N1 / 2048)) status=none
why=$(fsck.exfat -n "$tmp/p1" 2>&1) || fail "fsck.exfat -n on BENCH: $why"
exfat_mount "$tmp/p1"
[ ! -e "$mnt/child.vhd" ] || fail "child.vhd is still there after its merge"
for f in created f2d d2f mergeto parent sparse; do
    cp "$mnt/$f.vhd" "$G/" || fail "BENCH:/$f.vhd missing after the run"
done
exfat_umount
for f in created f2d d2f mergeto parent sparse; do
    why=$("$tvdisk" check "$G/$f.vhd" 2>&1) || fail "tvdisk check $f.vhd: $why"
    why=$(qemu-img compare -q -f vpc -F vpc "$G/$f.vhd" "$H/$f.vhd" 2>&1) ||
        fail "$f.vhd from the monitor differs from tvdisk's: $why"
done
for f in created d2f mergeto; do   # fixed outputs: the same size as tvdisk's
    [ "$(stat -c %s "$G/$f.vhd")" = "$(stat -c %s "$H/$f.vhd")" ] || fail "$f.vhd: file size differs from tvdisk's"
done
[ "$(stat -c %s "$G/sparse.vhd")" -lt "$(stat -c %s "$S/sparse.vhd")" ] || fail "compact did not shrink sparse.vhd"

# ---- The table ---------------------------------------------------------------
num() { grep -aoE "$1" "$log" | tail -1 | grep -oE '[0-9]+$'; }
raw() { num "BENCH blk_raw dev=vblk0 mode=$1 op=$2 bytes=[0-9]+ ns=[0-9]+"; }
for m in sync queued; do for o in read write; do
    v=$(raw $m $o); [ -n "$v" ] || fail "no raw $m $o figure"
    eval "raw_${m}_$o=$v"
done; done
best_r=$((raw_sync_read < raw_queued_read ? raw_sync_read : raw_queued_read))
best_w=$((raw_sync_write < raw_queued_write ? raw_sync_write : raw_queued_write))
X=$vsize
# The monitor's clock against the host's, from the first raw figure to the
# last operation's (several seconds): the host's stamps are late by up to
# the stamper's 50 ms poll at both ends.
span() { grep -a "$1" "$out/stamped.log" | sed -n "${2}p" |
         sed -E 's/^([0-9]+) \[ *([0-9]+)\.([0-9]+)\].*/\1 \2\3/'; }
read -r h0 m0 < <(span 'BENCH blk_raw' 1)
read -r h1 m1 < <(span 'BENCH disk op=compact' 1)
[ -n "${h0:-}" ] && [ -n "${h1:-}" ] || fail "no host stamps of the serial log"
# The log's stamps are microseconds.
scale=$(awk -v h=$((h1 - h0)) -v m=$((10#$m1 - 10#$m0)) 'BEGIN { printf "%.3f", h / (m * 1000) }')
awk -v s="$scale" 'BEGIN { exit !(s > 0.9 && s < 1.1) }' ||
    echo "NOTE: host time / monitor time = $scale (the monitor's TSC rate was miscalibrated at boot):" \
         "its figures below are corrected by that factor"
fix() { awk -v n="$1" -v s="$scale" 'BEGIN { printf "%.0f", n * s }'; }
for v in raw_sync_read raw_sync_write raw_queued_read raw_queued_write best_r best_w; do
    eval "$v=\$(fix \$$v)"
done
mibs() { awk -v b="$1" -v n="$2" 'BEGIN { printf "%.1f", b / 1048576 / (n / 1e9) }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.0f", n / 1e6 }'; }
echo
echo "== disk operations, ${MIB} MiB dense images, QEMU TCG SVM, virtio-blk (cache=writeback), host wall-clock time"
echo "monitor clock check: host time / monitor time = $scale over the run's figures ($(grep -aoE 'TSC [0-9]+ kHz' "$log" | head -1))"
printf '%-28s %9s %9s\n' "raw sequential (monitor)" "MiB/s" "ms"
printf '%-28s %9s %9s\n' "  write, 1 MiB calls + flush" "$(mibs $X $raw_sync_write)" "$(ms $raw_sync_write)"
printf '%-28s %9s %9s\n' "  read, 1 MiB calls" "$(mibs $X $raw_sync_read)" "$(ms $raw_sync_read)"
printf '%-28s %9s %9s\n' "  write, queued + flush" "$(mibs $X $raw_queued_write)" "$(ms $raw_queued_write)"
printf '%-28s %9s %9s\n' "  read, queued" "$(mibs $X $raw_queued_read)" "$(ms $raw_queued_read)"
echo
echo "ratio to raw = (MiB read / raw read + MiB written / raw write, best raw mode) / the task's time"
printf '%-13s %8s %8s %9s %9s %10s %9s %9s %10s\n' op "read" written "monitor" "MiB/s" "of raw" "tvdisk" "MiB/s" "host x"
# op, MiB read and written in units of the image (nominal: what the op must move)
while read -r op rd wr; do
    mon=$(num "BENCH disk op=$op ns=[0-9]+"); [ -n "$mon" ] || fail "no figure for $op"
    mon=$(fix "$mon")
    h=${host_ns[$op]}
    ideal=$(awk -v r="$rd" -v w="$wr" -v br="$best_r" -v bw="$best_w" 'BEGIN { printf "%.0f", r * br + w * bw }')
    printf '%-13s %7s%% %7s%% %7s ms %9s %9s%% %6s ms %9s %9sx\n' "$op" \
        "$(awk -v r="$rd" 'BEGIN { printf "%.0f", r * 100 }')" "$(awk -v w="$wr" 'BEGIN { printf "%.0f", w * 100 }')" \
        "$(ms "$mon")" "$(mibs $X "$mon")" "$(awk -v i="$ideal" -v m="$mon" 'BEGIN { printf "%.0f", i * 100 / m }')" \
        "$(ms "$h")" "$(mibs $X "$h")" "$(awk -v h="$h" -v m="$mon" 'BEGIN { printf "%.1f", m / h }')"
done <<EOF
create_fixed 0 1
convert_f2d 1 1
convert_d2f 1 1
merge_to 1 1
merge 1 1
compact 1 0.5
EOF
echo "(read/written: per cent of the ${MIB} MiB image each op must move; MiB/s: image MiB per second;"
echo " host x: the monitor's time over tvdisk's on the host)"
echo
echo "== mounting a volume holding 1,000 files (the mount, then the recovery walk over every file)"
for v in "vblk1 FILESFAT FAT32" "vblk2 FILESEX exFAT"; do
    set -- $v
    m=$(num "image store: $1: 1 volumes mounted, 0 partitions skipped, in [0-9]+")
    w=$(num "image store: $2: 1000 files looked at for interrupted operations in [0-9]+")
    [ -n "$m" ] && [ -n "$w" ] || fail "no mount figures for $2 (1,000 files found?)"
    m=$(fix "$m"); w=$(fix "$w")
    printf '%-6s %-9s mount %6s ms, walk of 1,000 files %6s ms, total %6s ms\n' "$3" "$2" \
        "$(awk -v u="$m" 'BEGIN { printf "%.1f", u / 1000 }')" "$(awk -v u="$w" 'BEGIN { printf "%.1f", u / 1000 }')" \
        "$(awk -v a="$m" -v b="$w" 'BEGIN { printf "%.1f", (a + b) / 1000 }')"
done
echo "disk bench: ok (every result checked against tvdisk's, fsck.exfat clean)"
