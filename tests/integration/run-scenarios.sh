#!/usr/bin/env bash
# Boots each integration scenario under the monitor in QEMU (SVM, UEFI) and
# prints TAP.  A scenario is tests/integration/scenarios/NAME.cfg: a boot
# config whose image (and initrd) names are files in build/ or build/guests/, with
# directives in comments:
#   # expect-log: REGEX     the serial log must match (grep -E); repeatable
#   # reject-log: REGEX     the serial log must not match; repeatable
#   # icount: yes           deterministic guest time (-icount shift=3,...)
#   # timeout: SECONDS      run bound (default 90)
#   # memory: SIZE          QEMU RAM (default run-qemu.sh's, 256M)
#   # cpu: MODEL            QEMU CPU model (default: run-qemu.sh's, with SVM and NPT)
#   # expect-panic: yes     the monitor must stop the host (panic exit code), not
#                           print a summary
#   # expect-refusal: yes   the monitor must refuse to start (TASKVISOR REFUSED,
#                           failure exit code)
#   # heartbeat: MS         a partition expected running (expect.NAME=running)
#                           must have printed within MS ms before the summary
#                           (default 100)
#   # qemu-disk: KIND SIZE  attach a raw disk image of SIZE (e.g. 8M) made by
#                           tests/integration/mkdisk.py (test signature and a
#                           known pattern) on a controller: virtio (modern
#                           virtio-blk-pci), virtio-ro (the same, read-only),
#                           ahci, nvme or ide (PIIX secondary master);
#                           repeatable.  After the run each image must hold the
#                           data the block self-test writes (mkdisk.py check;
#                           a read-only one must be unchanged), or the
#                           scenario fails.  SIZE "store" attaches instead the
#                           image-store disk of tests/integration/mkstore.sh
#                           (FAT32 and exFAT volumes holding VHDs), which after
#                           the run must pass fsck with exFAT's VolumeDirty clear
#                           (and hold in the serial log the values the control
#                           console prints when it runs the commands).  SIZE
#                           "vmstore" is that disk plus TVFAT:/vm/disk.vhd
#                           (mkstore.sh add-vm), checked after the run for
#                           what the vblk guest wrote (mkstore.sh check-vm).
#   # machine: TYPE         QEMU machine type (default pc; q35 has ECAM/MCFG)
# Judged by tests/integration/judge.sh (rules at its top): PASS needs the
# monitor's pass exit (isa-debug-exit status 33; a timeout, a KILL or any
# other status fails), the monitor's own summary line "[  sec.usec] INF
# SOURCE: TASKVISOR SUMMARY: N passed, 0 failed" with N >= 1 (a guest's
# "OUT name:" line never counts), a recent heartbeat from every partition
# expected running, every expect-log and no reject-log.
# Usage: run-scenarios.sh [NAME...]   (default: all); JOBS=n runs n at once.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/integration/judge.sh
out=build/integration
mkdir -p "$out"
jobs=${JOBS:-2}

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
    for f in tests/integration/scenarios/*.cfg; do
        scenarios+=("$(basename "$f" .cfg)")
    done
fi

run_one() {
    local name=$1
    local cfg=tests/integration/scenarios/$name.cfg
    local dir=$out/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    # Scenarios boot the test build of the monitor under the name in the config.
    cp build/monitor-test.elf "$dir/monitor.elf"
    local files=("$dir/monitor.elf")
    local img
    for img in $(sed -n 's/^[[:space:]]*\(image\|initrd\)[[:space:]]*=[[:space:]]*//p' "$cfg" | sort -u); do
        if [ -f "build/guests/$img" ]; then files+=("build/guests/$img")
        elif [ -f "build/$img" ]; then files+=("build/$img")
        fi
    done
    local timeout_s
    timeout_s=$(sed -n 's/^# timeout:[[:space:]]*//p' "$cfg" | head -1)
    local qopts=(--log "$dir/serial.log" --timeout "${timeout_s:-90}")
    grep -q '^# icount: yes' "$cfg" && qopts+=(--icount)
    local cpu
    cpu=$(sed -n 's/^# cpu:[[:space:]]*//p' "$cfg" | head -1)
    [ -n "$cpu" ] && qopts+=(--cpu "$cpu")
    local qmem
    qmem=$(sed -n 's/^# memory:[[:space:]]*//p' "$cfg" | head -1)
    [ -n "$qmem" ] && qopts+=(--memory "$qmem")
    local machine
    machine=$(sed -n 's/^# machine:[[:space:]]*//p' "$cfg" | head -1)
    [ -n "$machine" ] && qopts+=(--machine "$machine")
    local disks=() checks=() qextra=() kind size n=0
    while read -r kind size; do
        local imgf=$dir/disk$n.img
        local ro= chk=check
        if [ "$size" = store ] || [ "$size" = vmstore ]; then
            chk=$size
            if ! { tests/integration/mkstore.sh create "$imgf" &&
                   { [ "$size" = store ] || tests/integration/mkstore.sh add-vm "$imgf"; }; } >"$dir/mkdisk.log" 2>&1; then
                echo "not ok - $name: cannot create store disk $n (see $dir/mkdisk.log)" >"$dir/result"
                return
            fi
        elif ! python3 tests/integration/mkdisk.py create "$imgf" "$size" >"$dir/mkdisk.log" 2>&1; then
            echo "not ok - $name: cannot create disk $n (see $dir/mkdisk.log)" >"$dir/result"
            return
        fi
        [ "$kind" = virtio-ro ] && ro=,readonly=on && [ "$chk" = check ] && chk=check-untouched
        qextra+=(-drive "file=$imgf,format=raw,if=none,id=tvd$n,cache=writethrough$ro")
        case $kind in
            virtio-ro) qextra+=(-device "virtio-blk-pci,drive=tvd$n,disable-legacy=on") ;;
            virtio) qextra+=(-device "virtio-blk-pci,drive=tvd$n,disable-legacy=on") ;;
            ahci) qextra+=(-device "ahci,id=tvahci$n" -device "ide-hd,drive=tvd$n,bus=tvahci$n.0") ;;
            nvme) qextra+=(-device "nvme,drive=tvd$n,serial=tvnvme$n") ;;
            ide) qextra+=(-device "ide-hd,drive=tvd$n,bus=ide.1,unit=0") ;;
            *) echo "not ok - $name: qemu-disk kind '$kind' unknown" >"$dir/result"; return ;;
        esac
        disks+=("$imgf")
        checks+=("$chk")
        n=$((n + 1))
    done < <(sed -n 's/^# qemu-disk:[[:space:]]*//p' "$cfg")
    if ! scripts/mkesp.sh "$dir/esp.img" "$cfg" "${files[@]}" >"$dir/mkesp.log" 2>&1; then
        echo "not ok - $name: cannot build the ESP (see $dir/mkesp.log)" >"$dir/result"
        return
    fi
    local start=$SECONDS
    if [ ${#qextra[@]} -gt 0 ]; then
        scripts/run-qemu.sh "${qopts[@]}" "$dir/esp.img" -- "${qextra[@]}" >"$dir/qemu.out" 2>&1
    else
        scripts/run-qemu.sh "${qopts[@]}" "$dir/esp.img" >"$dir/qemu.out" 2>&1
    fi
    local rc=$? took=$((SECONDS - start))
    local log=$dir/serial.log exit_kind
    # QEMU's isa-debug-exit status: (code << 1) | 1 for the monitor's codes.
    case $rc in
        33) exit_kind=pass ;;
        35) exit_kind=fail ;;
        37) exit_kind=panic ;;
        124) exit_kind="timeout" ;;
        *) exit_kind="qemu status $rc" ;;
    esac
    local why
    why=$(judge_scenario "$cfg" "$log" "$exit_kind")
    local i
    for i in "${!disks[@]}"; do
        [ -n "$why" ] && break
        if [ "${checks[$i]}" = store ]; then
            why=$(tests/integration/mkstore.sh check "${disks[$i]}" "$log") ||
                why=${why:-"store check of ${disks[$i]} failed"}
        elif [ "${checks[$i]}" = vmstore ]; then
            why=$(tests/integration/mkstore.sh check-vm "${disks[$i]}") ||
                why=${why:-"store check of ${disks[$i]} failed"}
        else
            why=$(python3 tests/integration/mkdisk.py "${checks[$i]}" "${disks[$i]}") ||
                why=${why:-"disk check of ${disks[$i]} failed"}
        fi
    done
    if [ -z "$why" ]; then
        echo "ok - scenario $name (${took}s)" >"$dir/result"
    else
        {
            echo "not ok - scenario $name: $why (${took}s, log $log)"
            grep -aE 'WRN|ERR|PANIC|not ok|SUMMARY|EXCEPTION' "$log" | tail -n 25 | sed 's/^/#   /'
        } >"$dir/result"
    fi
}
export -f run_one
export out

if [ ! -f build/monitor-test.elf ]; then
    echo "not ok - integration: build/monitor-test.elf missing (run make)"
    exit 1
fi
run_scenarios "$out" "$jobs" "${scenarios[@]}"
