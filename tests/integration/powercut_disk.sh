#!/usr/bin/env bash
# A power cut of the emulator in the middle of a disk operation, then the
# recovery at the next mount.  The host builds a GPT disk with a FAT32
# volume (mkfs.vfat + mtools) and an exFAT one (mkfs.exfat, files copied in
# through exfat-fuse over a loop device: root), each holding, made by
# qemu-img and tvdisk:
#   /merge/base.vhd + /merge/child.vhd   a dynamic parent and a differencing
#                                        child with data in three blocks
#   /compact/sparse.vhd                  dynamic, two blocks of data and two
#                                        allocated blocks of zeros
#   /convert/fixed.vhd                   fixed, random data
# and raw references of what each must read (qemu-img convert; the merged
# parent is the base's raw with the child's data patched in).  The product
# monitor boots in QEMU (tests/integration/powercut_disk.cfg: the control
# console alone, console=raw) with the disk on virtio-blk, cache=writethrough.
# Six operations, one per boot: merge, compact and convert on each volume
# (the two volumes' runs in parallel, each on its own copy of the disk),
# typed into the console, whose progress bar the script follows on the
# serial output; when it shows between 20% and 80%, QEMU gets SIGKILL.
# Right after each cut the host runs fsck.fat -n / fsck.exfat -n (the file
# systems' own crash safety).  The next boot must show the operation's
# recovery as a finished DISK_RECOVER task (console `tasks` and `task ID`:
# completed, result success, outcome committed, naming the image) and then
# starts the next operation; a last boot of each run checks the last recovery and
# shuts down cleanly.  At the end every volume passes fsck with exFAT's
# VolumeDirty clear, every image passes `tvdisk check`, no journal or
# temporary is left, and every image reads (qemu-img compare) as before or
# as after its operation: the merged parent as its old contents (then the
# child must still be whole) or as the merged contents (then the child is
# gone); the compacted image and the converted source as before; the
# convert's target absent or equal to its source.  Prints TAP.
# PC_MIB (default 8) is the virtual size of each image in MiB; PC_TIMEOUT
# (default 780, inside run-tests.sh's 900 s per suite) bounds the whole run in seconds.
# PC_OUT (default build/test-logs/powercut_disk) is where it works.
# Usage: powercut_disk.sh [--verdict DIR [IMAGE]]   --verdict: only the
# host's final checks, on IMAGE (default DIR/disk.img) with the references
# in DIR/ref of an earlier run; DIR/disk-cut.img, the disk as the last cut
# left it (before its recovery boot), must fail them.
set -uo pipefail
self=$(realpath "$0")
cd "$(dirname "$0")/../.."
out=${PC_OUT:-build/test-logs/powercut_disk} verdict_only=
if [ "${1:-}" = --verdict ]; then out=$2 verdict_only=1; fi
img=${3:-$out/disk.img}
mib=${PC_MIB:-8}
cfg=tests/integration/powercut_disk.cfg
tvdisk=$PWD/build/bin/tvdisk
name="power cut${PC_VOLUME:+ ($PC_VOLUME run)}"
fails=0
report() {   # status text
    if [ "$1" = 0 ]; then echo "ok - $name: $2"; else echo "not ok - $name: $2"; fails=$((fails + 1)); fi
}
for f in build/monitor.elf build/guests/control.elf build/bin/tvdisk build/esp/EFI/BOOT/BOOTX64.EFI; do
    [ -f "$f" ] || { echo "not ok - $name: $f missing (run make)"; exit 0; }
done
for t in qemu-img mkfs.vfat mcopy mkfs.exfat mount.exfat-fuse fsck.fat fsck.exfat sgdisk losetup; do
    command -v "$t" >/dev/null || { echo "not ok - $name: $t missing (scripts/deps.sh)"; exit 0; }
done
# The two volumes at once: one run per volume (its own disk and QEMU), in
# parallel; each runs the operations on its volume only and judges the
# whole disk (the other volume's images must read as before).
if [ -z "$verdict_only" ] && [ -z "${PC_VOLUME:-}" ]; then
    rm -rf "$out"
    mkdir -p "$out"
    for v in PCFAT PCEXFAT; do
        PC_VOLUME=$v PC_OUT=$out/$v "$self" >"$out/$v.tap" 2>&1 &
    done
    wait
    cat "$out/PCFAT.tap" "$out/PCEXFAT.tap"
    exit 0
fi
[ -n "$verdict_only" ] || rm -rf "$out"
mkdir -p "$out/ref" "$out/files"
ref=$out/ref
BS=$((2 * 1048576))                     # the dynamic images' block size
P1=2048 N1=$((48 * 2048))               # sectors: FAT32 "PCFAT"
P2=$((P1 + N1)) N2=$((48 * 2048))       # exFAT "PCEXFAT"
VOLS=(PCFAT PCEXFAT)

# ---- The disk ------------------------------------------------------------------
# The images (the same on both volumes) and their references.
mkfiles() {
    local f=$out/files
    mkdir -p "$f/merge" "$f/compact" "$f/convert"
    # The parent: data in its first block only (qemu-img leaves the rest
    # unallocated); its raw reference as qemu-img reads it.
    head -c $((mib * 1048576)) /dev/zero >"$ref/base.raw"
    head -c $BS /dev/urandom | dd of="$ref/base.raw" conv=notrunc status=none
    qemu-img convert -q -f raw -O vpc "$ref/base.raw" "$f/merge/base.vhd" || return 1
    qemu-img convert -q -f vpc -O raw "$f/merge/base.vhd" "$ref/base.raw" || return 1
    # The child (tvdisk: qemu-img makes no differencing VHD): 1.5 blocks
    # from the middle of block 0 on, and the last block.
    (cd "$f/merge" && "$tvdisk" --quiet create --diff child.vhd base.vhd) || return 1
    head -c $((BS * 3 / 2)) /dev/urandom >"$out/d1"
    head -c $BS /dev/urandom >"$out/d2"
    local last=$((mib * 1048576 - BS))   # tvdisk write takes a byte offset
    "$tvdisk" --quiet write "$f/merge/child.vhd" $((BS / 2)) "$out/d1" || return 1
    "$tvdisk" --quiet write "$f/merge/child.vhd" $last "$out/d2" || return 1
    cp "$ref/base.raw" "$ref/merged.raw"
    dd if="$out/d1" of="$ref/merged.raw" bs=512 seek=$((BS / 2 / 512)) conv=notrunc status=none
    dd if="$out/d2" of="$ref/merged.raw" bs=512 seek=$((last / 512)) conv=notrunc status=none
    # Compact: blocks 0 and 2 data, 1 and 3 allocated but zero (written
    # with data first: a write of zeros allocates no block).
    qemu-img create -q -f vpc "$f/compact/sparse.vhd" "${mib}M" || return 1
    local b
    head -c $BS /dev/zero >"$out/zero"
    for b in 0 1 2 3; do
        head -c $BS /dev/urandom >"$out/blk"
        "$tvdisk" --quiet write "$f/compact/sparse.vhd" $((b * BS)) "$out/blk" || return 1
        if [ $((b % 2)) = 1 ]; then
            "$tvdisk" --quiet write "$f/compact/sparse.vhd" $((b * BS)) "$out/zero" || return 1
        fi
    done
    qemu-img convert -q -f vpc -O raw "$f/compact/sparse.vhd" "$ref/sparse.raw" || return 1
    # Convert: fixed, random.
    head -c $((mib * 1048576)) /dev/urandom >"$out/fixed.in"
    qemu-img convert -q -f raw -O vpc -o subformat=fixed "$out/fixed.in" "$f/convert/fixed.vhd" || return 1
    qemu-img convert -q -f vpc -O raw "$f/convert/fixed.vhd" "$ref/fixed.raw" || return 1
    rm -f "$out/d1" "$out/d2" "$out/blk" "$out/zero" "$out/fixed.in"
}

# Partition $1 of the disk to/from the file $2.
part_get() { local s n; [ "$1" = 1 ] && s=$P1 n=$N1 || s=$P2 n=$N2
             dd if="$img" of="$2" bs=512 skip=$s count=$n status=none; }
part_put() { local s; [ "$1" = 1 ] && s=$P1 || s=$P2
             dd if="$2" of="$img" bs=512 seek=$s conv=notrunc status=none; }

# exFAT through exfat-fuse on a loop device: exfat_do FILE ro|rw COMMAND...
# runs COMMAND with the mount point in $M.
exfat_do() {
    local f=$1 mode=$2 L= rc
    shift 2
    M=$out/mnt
    mkdir -p "$M"
    local try
    for try in 1 2 3; do   # the parallel run may take the same free device
        L=$(losetup -f --show "$f" 2>/dev/null) && break
        sleep 0.5
    done
    [ -n "$L" ] || return 1
    if ! mount.exfat-fuse -o "$mode" "$L" "$M" >/dev/null 2>&1; then losetup -d "$L"; return 1; fi
    "$@"; rc=$?
    umount "$M"
    losetup -d "$L"
    return $rc
}

mkdisk() {
    mkfiles || return 1
    truncate -s $(((P2 + N2 + 2048) * 512)) "$img"
    sgdisk -n1:$P1:+48M -t1:0700 -c1:fat -n2:$P2:+48M -t2:0700 -c2:exfat "$img" >/dev/null || return 1
    local p=$out/part
    truncate -s $((N1 * 512)) "$p"
    mkfs.vfat -F 32 -n PCFAT "$p" >/dev/null || return 1
    local d
    for d in merge compact convert; do mmd -i "$p" "::/$d" || return 1; done
    mcopy -i "$p" "$out/files/merge/base.vhd" "$out/files/merge/child.vhd" ::/merge/ &&
        mcopy -i "$p" "$out/files/compact/sparse.vhd" ::/compact/ &&
        mcopy -i "$p" "$out/files/convert/fixed.vhd" ::/convert/ || return 1
    part_put 1 "$p"
    rm -f "$p"
    truncate -s $((N2 * 512)) "$p"
    mkfs.exfat -L PCEXFAT "$p" >/dev/null || return 1
    exfat_do "$p" rw cp -r "$out/files/merge" "$out/files/compact" "$out/files/convert" "$out/mnt/" || return 1
    part_put 2 "$p"
    rm -f "$p"
}

# fsck.fat -n / fsck.exfat -n on both volumes; "" or what failed.
fsck_all() {
    local p=$out/part o why=
    part_get 1 "$p"
    o=$(fsck.fat -n "$p" 2>&1) || why="fsck.fat -n PCFAT: $(echo "$o" | tail -n 4 | tr '\n' ' ')"
    part_get 2 "$p"
    o=$(fsck.exfat -n "$p" 2>&1) || why="$why fsck.exfat -n PCEXFAT: $(echo "$o" | tail -n 4 | tr '\n' ' ')"
    rm -f "$p"
    echo "$why"
}

start=$SECONDS
deadline=$((start + ${PC_TIMEOUT:-780}))   # the whole run's bound, in seconds
b=0
boots() {
    if ! mkdisk >"$out/mkdisk.log" 2>&1; then
        echo "not ok - $name: cannot build the disk (see $out/mkdisk.log)"
        return 1
    fi
    why=$(fsck_all)
    report $([ -z "$why" ] && echo 0 || echo 1) "the host-built volumes pass fsck ${why:+($why)}"
    if ! scripts/mkesp.sh "$out/esp.img" "$cfg" build/monitor.elf build/guests/control.elf >"$out/mkesp.log" 2>&1; then
        echo "not ok - $name: cannot build the ESP (see $out/mkesp.log)"
        return 1
    fi

    # ---- The boots -----------------------------------------------------------------
    # One operation per boot: "VOLUME op what-the-recovery-names command".
    ops=()
    for v in ${PC_VOLUME:-${VOLS[@]}}; do
        ops+=("$v merge $v:/merge/base.vhd|disk merge $v:/merge/child.vhd"
              "$v compact $v:/compact/sparse.vhd.tvtmp|disk compact $v:/compact/sparse.vhd"
              "$v convert $v:/convert/dyn.vhd.tvtmp|disk convert $v:/convert/fixed.vhd $v:/convert/dyn.vhd dynamic")
    done

    rq=
    boot() {   # $1: log
        log=$1
        rm -f "$out/stdin"
        mkfifo "$out/stdin"
        # Interactive mode (serial on stdio): the console reads the fifo.
        nice -n 10 scripts/run-qemu.sh "$out/esp.img" -- \
            -drive "file=$img,format=raw,if=none,id=pc0,cache=writethrough" \
            -device virtio-blk-pci,drive=pc0,disable-legacy=on <"$out/stdin" >"$log" 2>&1 &
        rq=$!
        exec 3>"$out/stdin"
    }
    # QEMU's pid: the child of run-qemu.sh that runs qemu-system-x86_64 (it
    # first runs mktemp and cp).
    qemu_pid() { pgrep -P "$rq" -f '^qemu-system-x86_64 ' 2>/dev/null | head -1; }
    # What the console printed: the log without the monitor's own lines
    # (which may land inside a console line), \r read as a line end.
    console_text() { perl -0pe 's/\[ *\d+\.\d+\] (?:ERR|WRN|INF|DBG|TRC) [^\n]*\n//g; s/\r/\n/g' "$log"; }
    # True when /$1/ (grep -E) is in the log or the console's text.  No
    # grep -q: it stops reading at the first match, and under pipefail the
    # writer's SIGPIPE would make a match count as none.
    seen() { { tr '\r' '\n' <"$log"; console_text; } | grep -aE -- "$1" >/dev/null; }
    # Waits up to $2 s for /$1/ in the log or the console's text.
    wait_for() {
        local end=$((SECONDS + $2))
        [ $end -le $deadline ] || end=$deadline
        while [ $SECONDS -lt $end ]; do
            seen "$1" && return 0
            kill -0 "$rq" 2>/dev/null || break   # QEMU ended: one last look
            sleep 0.2
        done
        seen "$1"
    }
    # The last percentage of the progress bar in the log (empty if none).
    last_pct() { console_text | grep -aoE '^  \[[#.]+\] +[0-9]+%' | tail -1 | grep -oE '[0-9]+%$' | tr -d %; }
    stop_qemu() {
        [ -n "$rq" ] || return 0
        qpid=$(qemu_pid)
        [ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
        wait "$rq" 2>/dev/null
        exec 3>&-
        rq=
    }
    trap 'stop_qemu' EXIT

    # The recovery of "$1" (the operation's line) in the running boot.
    check_recovery() {
        local what=${1%%|*} op target
        op=$(echo "$what" | cut -d' ' -f2) target=$(echo "$what" | cut -d' ' -f3)
        local vol=${what%% *}
        local mark=0
        echo 'tasks' >&3
        if ! wait_for '^[0-9]+ task\(s\)' 30; then
            report 1 "$vol $op: boot $b: the console did not list the tasks"
            return
        fi
        local line id
        line=$(console_text | grep -aE "^ +[0-9]+  [a-z]+ +[0-9]+%  recover $target" | head -1)
        id=$(echo "$line" | awk '{ print $1 }')
        if [ -z "$id" ]; then
            report 1 "$vol $op: no recovery task for $target after the cut ($(console_text | grep -aE 'task\(s\)|recover|interrupted' | tr '\n' ' '))"
            return
        fi
        echo "task $id" >&3
        if ! wait_for "^  state .*, cancelable (yes|no)" 30; then
            report 1 "$vol $op: the console did not show task $id"
            return
        fi
        local st
        st=$(console_text | grep -aE '^  state ' | tail -1)
        local desc
        desc=$(console_text | grep -aE "^task $id: " | tail -1)
        # Completed, all of it, result 0 (success), outcome 1 (committed).
        echo "$st" | grep -qE '^  state completed, 100% .*result 0, outcome 1,' || mark=1
        report $mark "$vol $op: recovered at the next mount: ${desc#task } (${st#  })"
    }

    for ((i = 0; i <= ${#ops[@]}; i++)); do
        b=$((i + 1))
        boot "$out/boot$b.log"
        # The console's banner, then the mount (the prompt may be cut by log lines).
        if ! wait_for 'Type .help. for commands' 240 || ! wait_for 'image store: [0-9]+ volumes in' 120; then
            report 1 "boot $b: the volumes were not mounted or no prompt (log $log)"
            stop_qemu
            break
        fi
        [ $i -gt 0 ] && check_recovery "${ops[$((i - 1))]}"
        if [ $i = ${#ops[@]} ]; then
            echo 'shutdown' >&3
            wait_for 'image store: volumes unmounted cleanly' 60; report $? "boot $b: clean unmount at shutdown"
            for _ in $(seq 100); do kill -0 "$rq" 2>/dev/null || break; sleep 0.2; done
            stop_qemu
            break
        fi
        what=${ops[$i]%%|*} cmd=${ops[$i]#*|}
        vol=${what%% *} op=$(echo "$what" | cut -d' ' -f2)
        echo "$cmd" >&3
        # Follow the bar; cut the power between 20% and 80%.
        pct= end=$((SECONDS + 240)) cut=
        [ $end -le $deadline ] || end=$deadline
        while [ $SECONDS -lt $end ]; do
            pct=$(last_pct)
            if [ -n "$pct" ] && [ "$pct" -ge 20 ] && [ "$pct" -le 80 ]; then
                qpid=$(qemu_pid)
                [ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null && cut=$pct
                break
            fi
            seen '^task [0-9]+ (completed|failed|cancelled)|refused' && break
            kill -0 "$rq" 2>/dev/null || break
            sleep 0.1
        done
        stop_qemu
        if [ -z "$cut" ]; then
            report 1 "$vol $op: QEMU not killed mid-operation (last progress ${pct:-none}%; $(console_text | grep -aE '^task [0-9]+ |refused|error' | tail -2 | tr '\n' ' ')log $log)"
        else
            report 0 "$vol $op: SIGKILL to QEMU at ${cut}% ($cmd)"
        fi
        why=$(fsck_all)
        report $([ -z "$why" ] && echo 0 || echo 1) "$vol $op: the volumes pass fsck right after the cut ${why:+($why)}"
        # The state the next boot must recover (for --verdict by hand).
        [ $i = $((${#ops[@]} - 1)) ] && cp --sparse=always "$img" "$out/disk-cut.img"
    done
}
if [ -z "$verdict_only" ]; then boots || exit 0; fi

# ---- The host's verdict on the images --------------------------------------------------
got=$out/got
rm -rf "$got"
mkdir -p "$got/PCFAT" "$got/PCEXFAT"
p=$out/part
part_get 1 "$p"
mcopy -s -n -i "$p" ::/merge ::/compact ::/convert "$got/PCFAT/" 2>>"$out/mkdisk.log"
flags() { od -An -tu2 -j106 -N2 "$1" | tr -d ' '; }
why=$(fsck_all)
part_get 2 "$p"
exfat_do "$p" ro cp -r "$out/mnt/merge" "$out/mnt/compact" "$out/mnt/convert" "$got/PCEXFAT/"
[ $(($(flags "$p") & 2)) = 0 ] || why="$why exFAT VolumeDirty still set"
rm -f "$p"
report $([ -z "$why" ] && echo 0 || echo 1) "after the last boot both volumes pass fsck, VolumeDirty clear ${why:+($why)}"
same() { qemu-img compare -q -f vpc -F raw "$1" "$2" >/dev/null 2>&1; }
checked() { "$tvdisk" --quiet check "$1" >/dev/null 2>&1; }
for v in "${VOLS[@]}"; do
    g=$got/$v
    left=$(cd "$g" && find . -name '*.tvjournal' -o -name '*.tvtmp' | tr '\n' ' ')
    report $([ -z "$left" ] && echo 0 || echo 1) "$v: no journal or temporary left ${left:+($left)}"
    # Merge: as after (child gone) or as before (child whole).
    if checked "$g/merge/base.vhd" && same "$g/merge/base.vhd" "$ref/merged.raw"; then
        [ ! -e "$g/merge/child.vhd" ]; report $? "$v merge: the parent checks clean and reads as merged; the child is gone"
    elif checked "$g/merge/base.vhd" && same "$g/merge/base.vhd" "$ref/base.raw"; then
        ok=1
        if [ -e "$g/merge/child.vhd" ] && checked "$g/merge/child.vhd" &&
            "$tvdisk" read "$g/merge/child.vhd" 0 "$(stat -c %s "$ref/merged.raw")" >"$out/child.raw" 2>/dev/null &&
            cmp -s "$out/child.raw" "$ref/merged.raw"; then ok=0; fi
        report $ok "$v merge: the parent reads as before; the child still whole"
    else
        report 1 "$v merge: the parent reads neither as before nor as merged (or fails tvdisk check)"
    fi
    # Compact: the same contents either way.
    checked "$g/compact/sparse.vhd" && same "$g/compact/sparse.vhd" "$ref/sparse.raw"
    report $? "$v compact: the image checks clean and reads as before ($(stat -c %s "$g/compact/sparse.vhd" 2>/dev/null) bytes)"
    # Convert: the source as before; the target absent or equal.
    checked "$g/convert/fixed.vhd" && same "$g/convert/fixed.vhd" "$ref/fixed.raw"
    report $? "$v convert: the source checks clean and reads as before"
    if [ -e "$g/convert/dyn.vhd" ]; then
        checked "$g/convert/dyn.vhd" && same "$g/convert/dyn.vhd" "$ref/fixed.raw"
        report $? "$v convert: the target checks clean and reads as the source"
    else
        report 0 "$v convert: no target (rolled back)"
    fi
done
echo "# $((SECONDS - start)) s, $b boots, logs in $out"
exit 0
