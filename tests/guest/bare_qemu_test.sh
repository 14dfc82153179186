#!/usr/bin/env bash
# Proves the guest library and the standalone guests on bare QEMU (TCG, no
# hypervisor): Multiboot1 and PVH boots, long mode, printf, exceptions with
# recovery, CPL 3 round trips, APIC interrupts (xAPIC: TCG has no x2APIC),
# mb1_longmode's MSR round trips, the triple-fault guest and the console.
# The exit device: isa-debug-exit at 0xf4 ends QEMU with (code << 1) | 1, so
# guest code 0 (success) is QEMU status 1.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
G=build/guests
OUT=build/test-logs/bare_qemu
mkdir -p "$OUT"
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

# qemu_run LOG IMAGE [extra qemu args...]: runs headless, bounded; sets rc.
qemu_run() {
    local log=$1 image=$2
    shift 2
    rm -f "$log"
    timeout -s KILL 60 qemu-system-x86_64 -machine pc -accel tcg -nodefaults -display none \
        -no-reboot -serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$image" -m 64M "$@" </dev/null >"$log.stderr" 2>&1
    rc=$?
    touch "$log"
}

# forward_tap PREFIX LOG: re-emits the guest's own TAP lines as ours.
forward_tap() {
    local prefix=$1 log=$2 line
    while IFS= read -r line; do
        case $line in
            "ok "*) ok "$prefix: ${line#ok * - }" ;;
            "not ok "*) not_ok "$prefix: ${line#not ok * - }" ;;
            "# SKIP "*) echo "# $prefix: ${line#\# }" ;;
        esac
    done <"$log"
}

# summary_ok LOG: "GUEST SUMMARY: N passed, 0 failed" with N > 0
summary_ok() {
    grep -qE '^GUEST SUMMARY: [1-9][0-9]* passed, 0 failed$' "$1"
}

for img in libselftest mb1_longmode triple_fault svm_insns control; do
    if [ ! -f "$G/$img.elf" ]; then
        not_ok "image $G/$img.elf exists (run make first)"
        echo "# $failed failed"
        exit 1
    fi
done

# 1. libselftest booted through Multiboot1 (QEMU prefers Multiboot when the header is present).
log=$OUT/libselftest_mb1.log
qemu_run "$log" "$G/libselftest.elf" -append "selftest-arg=42 flag-word"
forward_tap "libselftest(multiboot1)" "$log"
check "libselftest(multiboot1) booted via multiboot1" "grep -q 'booted via multiboot1' '$log'"
check "libselftest(multiboot1) summary has no failure" "summary_ok '$log'"
check "libselftest(multiboot1) exit code 0 (QEMU status 1, got $rc)" "[ $rc -eq 1 ]"
for name in "long mode active" "tv_snprintf formats" "ud2 raises #UD" "int3 handled" \
            "CPL 3 round trip" "VMMCALL at CPL 3 raises #UD" "INT 0x40 reaches" \
            "one-shot timer interrupt" "periodic timer fires" "self-IPI delivered"; do
    check "libselftest(multiboot1) ran check '$name'" "grep -q '^ok [0-9]* - $name' '$log'"
done
check "libselftest(multiboot1) printf line reached the UART" \
    "grep -qx '# printf check: 42 0x2a hello' '$log'"

# 1b. The failure path: an exception nobody expects must give "not ok" and exit code 3.
log=$OUT/libselftest_unexpected.log
qemu_run "$log" "$G/libselftest.elf" -append "selftest-arg=42 flag-word unexpected-trap"
check "libselftest(unexpected-trap) reports the stray #UD as not ok and exits 3 (status $rc)" \
    "grep -q '^not ok - unexpected exception 6 (#UD)' '$log' && grep -qE '^GUEST SUMMARY: [0-9]+ passed, 1 failed' '$log' && [ $rc -eq 7 ]"

# 2. The same image booted through PVH: QEMU uses the Xen PVH note when the
#    file has no Multiboot header, so zero the header's magic in a copy.
pvh=$OUT/libselftest_pvh.elf
cp "$G/libselftest.elf" "$pvh"
off=$(readelf -SW "$pvh" | sed -n 's/.*\] \.multiboot  *PROGBITS  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
if [ -n "$off" ] && printf '\0\0\0\0' | dd of="$pvh" bs=1 seek=$((0x$off)) conv=notrunc status=none; then
    log=$OUT/libselftest_pvh.log
    qemu_run "$log" "$pvh" -append "selftest-arg=42 flag-word"
    check "libselftest(pvh) booted via pvh" "grep -q 'booted via pvh' '$log'"
    check "libselftest(pvh) command line from hvm_start_info" \
        "grep -q '^ok [0-9]* - command line parsed (selftest-arg=42)' '$log'"
    check "libselftest(pvh) memory size from the PVH memory map" \
        "grep -q '^ok [0-9]* - memory size from boot info' '$log'"
    check "libselftest(pvh) summary has no failure and exit code 0 (status $rc)" \
        "summary_ok '$log' && [ $rc -eq 1 ]"
else
    not_ok "libselftest(pvh) could not locate the .multiboot section"
fi

# 3. mb1_longmode: its own entry, MSR write/read-back, exit 0.
log=$OUT/mb1_longmode.log
qemu_run "$log" "$G/mb1_longmode.elf"
check "mb1_longmode reached long mode with the Multiboot1 magic" \
    "grep -q 'long mode reached, multiboot magic 0x000000002badb002' '$log'"
for msr in EFER FS_BASE GS_BASE KERNEL_GS_BASE STAR LSTAR CSTAR SFMASK PAT TSC_AUX \
           SYSENTER_CS SYSENTER_ESP SYSENTER_EIP; do
    check "mb1_longmode MSR $msr reads back what was written" \
        "grep -qE '^MSR $msr wrote=(0x[0-9a-f]{16}) read=\\1 ok$' '$log'"
done
check "mb1_longmode reports PASS and exits 0 (status $rc)" \
    "grep -q 'mb1_longmode: PASS' '$log' && [ $rc -eq 1 ]"
sed 's/^/#   /' "$log"

# 4. triple_fault: prints its line, then the triple fault resets the machine
#    (-no-reboot turns that into a QEMU exit with status 0).
log=$OUT/triple_fault.log
qemu_run "$log" "$G/triple_fault.elf"
check "triple_fault printed its line before faulting" "grep -q 'about to triple-fault' '$log'"
check "triple_fault ended the machine by a triple fault (status $rc, nothing after)" \
    "[ $rc -eq 0 ] && ! grep -q 'STILL RUNNING' '$log'"

# 5. svm_insns: without SVM enabled every SVM instruction is #UD as well.
log=$OUT/svm_insns.log
qemu_run "$log" "$G/svm_insns.elf"
forward_tap "svm_insns(bare)" "$log"
check "svm_insns(bare) summary has no failure and exit 0 (status $rc)" "summary_ok '$log' && [ $rc -eq 1 ]"

# 6. canary_scan: clean RAM passes; RAM holding canary A (put there by QEMU as
#    part of the command line, at every alignment) must be caught.
log=$OUT/canary_scan.log
qemu_run "$log" "$G/canary_scan.elf"
check "canary_scan(bare) finds no canary in clean RAM (status $rc)" "summary_ok '$log' && [ $rc -eq 1 ]"
planted=$(printf 'RANAC_VT_%.0s' 1 2 3 4 5 6 7 8)   # canary A's bytes, 9-byte period
log=$OUT/canary_scan_planted.log
qemu_run "$log" "$G/canary_scan.elf" -append "$planted"
check "canary_scan(bare) catches a canary planted in its RAM (status $rc)" \
    "grep -q '^not ok [0-9]* - no monitor canary in guest RAM' '$log' && grep -q 'canary A at gpa' '$log' && [ $rc -eq 3 ]"

# 7. The control partition's console, driven through its serial input.
log=$OUT/control_console.log
rm -f "$log"
# Type only once the prompt is out (input sent before the UART is set up is lost).
{ for _ in $(seq 300); do grep -q 'tv> ' "$log" 2>/dev/null && break; sleep 0.1; done
  printf 'help\rbogus-cmd\rversiox\x7fn extra\r\033[Ahel\033[Dp\rexit\r'; } |
    timeout -s KILL 60 qemu-system-x86_64 -machine pc -accel tcg -nodefaults -display none \
        -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$G/control.elf" -m 64M >"$log" 2>&1
rc=${PIPESTATUS[1]}
check "console prints the banner and the prompt" "grep -q '^tv> ' '$log'"
check "console 'help' lists the commands" \
    "grep -qE '^  partitions +list the partitions' '$log' && grep -qE '^  shutdown ' '$log'"
check "console refuses an unknown command clearly" \
    "grep -q \"error: unknown command 'bogus-cmd'\" '$log'"
check "console applies backspace ('versiox<DEL>n' ran 'version' and refused the argument)" \
    "grep -q \"error: 'version' takes no arguments\" '$log'"
check "console swallows escape sequences (arrow keys) in the line" \
    "[ \$(grep -c '^  partitions  ' '$log') -eq 2 ]"
check "console 'exit' stops the partition with code 0 (status $rc)" \
    "grep -q 'stopping the control partition' '$log' && [ $rc -eq 1 ]"

echo "1..$n"
[ "$failed" -eq 0 ]
