#!/usr/bin/env bash
# Boots integration scenarios (tests/integration/scenarios/*.cfg) under the
# monitor in Bochs through GRUB and the Multiboot2 loader, and prints TAP.
# Judged like run-scenarios.sh (QEMU), by tests/integration/judge.sh: PASS
# needs the monitor's pass exit, its own summary line "[  sec.usec] INF
# SOURCE: TASKVISOR SUMMARY: N passed, 0 failed" with N >= 1 (never a guest's
# "OUT name:" line), a recent heartbeat from every partition expected
# running, every expect-log and no reject-log; expect-refusal / expect-panic
# scenarios need the monitor's failure / panic exit.  Port 0xf4 is no exit
# device on Bochs: scripts/run-bochs.sh reads the exit code the monitor
# writes there from Bochs' log of unmapped-port writes (guests cannot reach
# the port), and a run that ends any other way (timeout, Bochs ending by
# itself, the monitor halting without the port write) is no pass.  A
# failing run shows Bochs' own VM-entry diagnosis.
#
# A scenario's "# qemu-disk: ide SIZE" becomes a disk image (mkdisk.py, the
# size rounded down to whole 516096-byte cylinders; "ide store": the image
# store disk of mkstore.sh) on Bochs' ATA secondary master, checked after the
# run like on QEMU; scenarios with disks on other
# controllers (Bochs has only ATA) or more than one disk are skipped.
# Usage: run-scenarios-bochs.sh [--cpu MODEL] [NAME...]
#   --cpu MODEL   Bochs CPU model: corei7_skylake_x (VMX+EPT, default) or
#                 ryzen (SVM+NPT); env BOCHS_CPU does the same
#   NAME...       scenarios (default: BOCHS_SCENARIOS, the subset below)
# JOBS=n runs n at once (default 2).  Scenarios with a "# cpu:" directive
# name QEMU CPU models and are skipped here.  tests/integration/scenarios-vmx/
# holds VMX-only scenarios (the VMCS fault hooks), run on VMX models only;
# they may say "# bochs-cpu: MODEL" for a CPU model of their own (refusal scenarios).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/integration/judge.sh
cpu=${BOCHS_CPU:-corei7_skylake_x}
if [ "${1:-}" = --cpu ]; then cpu=$2; shift 2; fi
out=build/integration-bochs/$cpu
mkdir -p "$out"
jobs=${JOBS:-2}
# The default subset: fast, and between them every exit class common code
# handles (CPUID, MSR, I/O, HLT, hypercalls, nested page faults, triple
# fault, interrupts and windows), the task calls, and the ATA driver
# (blk_ide, the only disk controller Bochs has).  apic_timer's spinner
# partition (cli; jmp $) is never preempted under Bochs 2.7, on VMX and SVM
# alike: a physical interrupt does not exit a guest that runs with IF=0,
# although external-interrupt exiting (VMX pin control) and the INTR
# intercept with V_INTR_MASKING (SVM) say it must.  The same spinner with
# IF=1 (sti; jmp $) is preempted and the scenario passes, and QEMU's SVM
# preempts the IF=0 spinner; so the VMX set runs vmx_apic_timer (the same guest
# without the spinner) instead.
# nmi_inject is QEMU only: Bochs 2.7 has no way to raise an NMI from outside
# (no debugger or monitor command, and nothing drives LINT1).
# vm_cycles (1,000 VM Startup/TurnOff cycles) passes on Bochs VMX but takes
# about 220 s there: run it by name; vm_lifecycle is in the subset.
# vm_save (Save and restore) passes on Bochs VMX (~190 s) and ryzen (Bochs
# runs some 4 million instructions a second; a Save of 6 MiB takes ~30 s
# of its time): run it by name.
default_set="boot_control triple_fault isolation io_msr cpuid_msr options_bad_value privilege multiboot1 libselftest fpu_state tasks tasks_cpu_bound monitor_exception cpu_fidelity dr_pkru blk_ide vm_lifecycle vm_agent"
vmx=1
[ "$cpu" = ryzen ] && vmx=0
if [ $vmx -eq 1 ]; then
    default_set="$default_set vmx_apic_timer vmx_faults vmx_no_ept vmx_no_unrestricted no_virt db_loop ac_loop task_switch"
else
    # Bochs 2.7 ends the whole emulation on a triple fault inside an SVM
    # guest ("3rd exception with no resolution") instead of taking the
    # SHUTDOWN intercept, so that scenario cannot run on ryzen.
    default_set=${default_set/triple_fault /}
fi

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
    read -r -a scenarios <<<"${BOCHS_SCENARIOS:-$default_set}"
fi

run_one() {
    local name=$1
    local cfg=tests/integration/scenarios/$name.cfg
    local dir=$out/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ ! -f "$cfg" ] && [ -f "tests/integration/scenarios-vmx/$name.cfg" ]; then
        cfg=tests/integration/scenarios-vmx/$name.cfg
        if [ "$vmx" -eq 0 ]; then
            echo "ok - scenario $name # SKIP VMX only" >"$dir/result"
            return
        fi
    fi
    if [ ! -f "$cfg" ]; then
        echo "not ok - scenario $name: no $cfg" >"$dir/result"
        return
    fi
    if grep -q '^# cpu:' "$cfg"; then
        echo "ok - scenario $name # SKIP names a QEMU CPU model" >"$dir/result"
        return
    fi
    local disk= dopts=() kind size
    while read -r kind size; do
        if [ "$kind" != ide ] || [ -n "$disk" ]; then
            echo "ok - scenario $name # SKIP needs disk controllers Bochs lacks" >"$dir/result"
            return
        fi
        disk=$dir/disk0.img
        if [ "$size" = store ]; then
            if ! tests/integration/mkstore.sh create "$disk" >"$dir/mkdisk.log" 2>&1; then
                echo "not ok - scenario $name: cannot create its store disk (see $dir/mkdisk.log)" >"$dir/result"
                return
            fi
            dopts=(--disk "$disk")
            continue
        fi
        local bytes
        bytes=$(python3 -c "import sys; sys.path.insert(0, 'tests/integration'); import mkdisk; print(mkdisk.size_arg('$size') // 516096 * 516096)")
        if ! python3 tests/integration/mkdisk.py create "$disk" "$bytes" >"$dir/mkdisk.log" 2>&1; then
            echo "not ok - scenario $name: cannot create its disk (see $dir/mkdisk.log)" >"$dir/result"
            return
        fi
        dopts=(--disk "$disk")
    done < <(sed -n 's/^# qemu-disk:[[:space:]]*//p' "$cfg")
    local files=("build/monitor-test.elf=monitor.elf")
    local img
    for img in $(sed -n 's/^[[:space:]]*\(image\|initrd\)[[:space:]]*=[[:space:]]*//p' "$cfg" | sort -u); do
        if [ -f "build/guests/$img" ]; then files+=("build/guests/$img")
        elif [ -f "build/$img" ]; then files+=("build/$img")
        fi
    done
    local timeout_s run_cpu
    timeout_s=$(sed -n 's/^# timeout:[[:space:]]*//p' "$cfg" | head -1)
    run_cpu=$(sed -n 's/^# bochs-cpu:[[:space:]]*//p' "$cfg" | head -1)
    run_cpu=${run_cpu:-$cpu}
    # "# memory: SIZE" (as for QEMU: 512M, 1G) sizes Bochs's RAM too.
    local bmem mopt=()
    bmem=$(sed -n 's/^# memory:[[:space:]]*//p' "$cfg" | head -1)
    case $bmem in
    *[Gg]) mopt=(--memory $(( ${bmem%[Gg]} * 1024 ))) ;;
    *[Mm]) mopt=(--memory "${bmem%[Mm]}") ;;
    esac
    if ! scripts/mkiso.sh "$dir/boot.iso" "$cfg" "${files[@]}" >"$dir/mkiso.log" 2>&1; then
        echo "not ok - scenario $name: cannot build the ISO (see $dir/mkiso.log)" >"$dir/result"
        return
    fi
    local start=$SECONDS
    scripts/run-bochs.sh --cpu "$run_cpu" --log "$dir/serial.log" --bochs-log "$dir/bochs.log" \
        --timeout "${timeout_s:-120}" "${dopts[@]}" "${mopt[@]}" "$dir/boot.iso" >"$dir/bochs.out" 2>&1
    local rc=$? took=$((SECONDS - start))
    local log=$dir/serial.log exit_kind
    # No exit device on Bochs: run-bochs.sh reads the code the monitor wrote
    # to port 0xf4 from Bochs' log: 0 pass, 1 failure, 2 panic; any other
    # status is described by its last line (timeout, Bochs ended, ...).
    case $rc in
        0) exit_kind=pass ;;
        1) exit_kind=fail ;;
        2) exit_kind=panic ;;
        *) exit_kind="$(tail -1 "$dir/bochs.out")" ;;
    esac
    local why
    why=$(judge_scenario "$cfg" "$log" "$exit_kind")
    if [ -z "$why" ] && [ -n "$disk" ]; then
        if grep -q '^# qemu-disk:[[:space:]]*ide[[:space:]]*store' "$cfg"; then
            why=$(tests/integration/mkstore.sh check "$disk" "$log") || why=${why:-"store check of $disk failed"}
        else
            why=$(python3 tests/integration/mkdisk.py check "$disk") || why=${why:-"disk check of $disk failed"}
        fi
    fi
    if [ -z "$why" ]; then
        echo "ok - scenario $name on bochs $run_cpu (${took}s)" >"$dir/result"
    else
        {
            echo "not ok - scenario $name on bochs $run_cpu: $why (${took}s, log $log)"
            grep -aE 'WRN|ERR|PANIC|not ok|SUMMARY|EXCEPTION|multiboot2' "$log" | tail -n 25 | sed 's/^/#   /'
            # Bochs' own diagnosis of a refused VM entry or a CPU panic.
            grep -aE 'VMFAIL|VMENTER FAIL|VMEXIT|PANIC|>>PANIC<<' "$dir/bochs.log" 2>/dev/null |
                tail -n 10 | sed 's/^/#   bochs: /'
        } >"$dir/result"
    fi
}
export -f run_one
export out cpu vmx

for f in build/monitor-test.elf build/taskvisor-mb2.elf; do
    if [ ! -f "$f" ]; then
        echo "not ok - bochs integration ($cpu): $f missing (run make)"
        exit 1
    fi
done
if ! command -v bochs-bin >/dev/null || ! command -v grub-mkrescue >/dev/null; then
    echo "not ok - bochs integration ($cpu): bochs or grub-mkrescue missing (scripts/deps.sh)"
    exit 1
fi
run_scenarios "$out" "$jobs" "${scenarios[@]}"
