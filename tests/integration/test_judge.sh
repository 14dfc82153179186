#!/usr/bin/env bash
# Hosted test of the scenario judge (tests/integration/judge.sh): synthetic
# scenario configs, serial logs and run endings, each with the verdict the
# judge must give.  A failing case must fail for the reason named (a part of
# the judge's explanation), so a case cannot pass by failing for another
# reason.  Prints TAP; exits 1 when any verdict is wrong.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/integration/judge.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0 bad=0
# check NAME EXIT WANT CFG LOG: WANT is "pass" or a fragment of the reason.
# CFG and LOG are text; LOG gets the serial port's CRLF line ends.
check() {
    local name=$1 exit_kind=$2 want=$3 why
    n=$((n + 1))
    printf '%s\n' "$4" >"$work/$n.cfg"
    printf '%s\n' "$5" | sed 's/$/\r/' >"$work/$n.log"
    why=$(judge_scenario "$work/$n.cfg" "$work/$n.log" "$exit_kind")
    if [ "$want" = pass ]; then
        if [ -z "$why" ]; then echo "ok $n - $name: pass"
        else echo "not ok $n - $name: wanted pass, judge said: $why"; bad=1; fi
    elif [ -z "$why" ]; then
        echo "not ok $n - $name: wanted a failure (/$want/), judge passed it"; bad=1
    elif [[ $why == *"$want"* ]]; then
        echo "ok $n - $name: fails ($why)"
    else
        echo "not ok $n - $name: wanted a failure for /$want/, judge said: $why"; bad=1
    fi
}

# A plain scenario and the log of a good run (the shapes real runs print).
CFG='# expect-log: hello: GUEST SUMMARY: [1-9][0-9]* passed, 0 failed
monitor = monitor.elf
options = debug_exit=0xf4
[partition hello]
image = hello.elf'
BOOT='taskvisor: config \taskvisor\taskvisor.cfg: 1 partition(s), log level info
[    0.000048] INF mon: options: debug_exit=0xf4
[    0.063738] OUT hello: hello: GUEST SUMMARY: 3 passed, 0 failed
[    0.063800] INF hello: partition stopped: exited (code 0, RIP 0x101932)
[    0.157390] INF mon: partition hello: stopped (exited, code 0), expected exit code 0: PASS'
SUM='[    0.157643] INF mon: TASKVISOR SUMMARY: 1 passed, 0 failed'
FAKE='[    0.100000] OUT hello: TASKVISOR SUMMARY: 1 passed, 0 failed'

check "good run" pass pass "$CFG" "$BOOT
$SUM
monitor halted (exit code 0x10)"
check "timed out, a guest printed the summary" timeout "no summary line of the monitor's" \
    "$CFG" "$BOOT
$FAKE"
check "timed out, a guest printed the summary (exit named)" timeout \
    "did not end with the monitor's pass exit: timeout" "$CFG" "$BOOT
$FAKE"
check "pass exit, only a guest's summary" pass "no summary line of the monitor's" "$CFG" "$BOOT
$FAKE"
check "a guest line quoting a whole monitor line" pass "no summary line of the monitor's" \
    "$CFG" "$BOOT
[    0.100000] OUT hello: $SUM"
check "monitor summary 0 passed, 0 failed" pass "monitor: 0 passed, 0 failed" "$CFG" "$BOOT
[    0.157643] INF mon: TASKVISOR SUMMARY: 0 passed, 0 failed"
check "monitor summary with a failure" fail "monitor: 1 passed, 1 failed" "$CFG" "$BOOT
[    0.157643] INF mon: TASKVISOR SUMMARY: 1 passed, 1 failed"
check "failure exit with a passing summary" fail \
    "did not end with the monitor's pass exit: fail" "$CFG" "$BOOT
$SUM"
check "panic exit with a summary" panic "did not end with the monitor's pass exit: panic" \
    "$CFG" "$BOOT
$SUM"
check "monitor summary, then a timeout" timeout \
    "did not end with the monitor's pass exit: timeout" "$CFG" "$BOOT
$SUM"
check "monitor summary, QEMU killed" "qemu status 137" \
    "did not end with the monitor's pass exit: qemu status 137" "$CFG" "$BOOT
$SUM"
check "monitor summary, Bochs ended by itself" \
    "run-bochs: Bochs ended (status 1) without the monitor's exit" \
    "did not end with the monitor's pass exit: run-bochs: Bochs ended" "$CFG" "$BOOT
$SUM"
check "two monitor summaries" pass "2 summary lines" "$CFG" "$BOOT
$SUM
$SUM"
check "summary not at a line start" pass "no summary line of the monitor's" "$CFG" "$BOOT
junk$SUM"
check "expect-log missing" pass "missing log line /hello: GUEST SUMMARY" "$CFG" \
    "[    0.000048] INF mon: options: debug_exit=0xf4
$SUM"
check "reject-log present" pass "unexpected log line /STILL RUNNING/" "$CFG
# reject-log: STILL RUNNING" "$BOOT
[    0.100000] OUT hello: STILL RUNNING
$SUM"
check "raw console" pass "raw console" "${CFG/debug_exit=0xf4/debug_exit=0xf4 console=raw}" \
    "$BOOT
$SUM"

# A partition the options expect running, with its heartbeats.
RCFG='# expect-log: apic_timer: GUEST SUMMARY: [1-9][0-9]* passed, 0 failed
monitor = monitor.elf
options = debug_exit=0xf4 expect.spinner=running assert_vcpu_wait_us=2050
[partition apic_timer]
image = apic_timer.elf
[partition spinner]
image = spinner.elf'
RBOOT='[    0.062433] INF mon: 2 partitions started on AMD SVM; 4 KiB heap, 216 MiB free
[    0.063738] OUT spinner: spinner: spinning with interrupts off, heartbeat every 5 ms
[    0.100000] OUT apic_timer: apic_timer: GUEST SUMMARY: 23 passed, 0 failed'
RSUM='[    0.157485] INF mon: partition spinner: running (none, code 0), expected still running: PASS
[    0.157643] INF mon: TASKVISOR SUMMARY: 3 passed, 0 failed'

check "running partition, heartbeat 60 ms before the summary" pass pass "$RCFG" "$RBOOT
[    0.097643] OUT spinner: spinner: heartbeat 7
$RSUM"
check "running partition, last line 94 ms before the summary, # heartbeat: 20" pass \
    "partition spinner, expected running, shows no heartbeat within 20 ms: last printed 93.9 ms" \
    "$RCFG
# heartbeat: 20" "$RBOOT
$RSUM"
check "running partition, heartbeat 19.9 ms before, # heartbeat: 20" pass pass "$RCFG
# heartbeat: 20" "$RBOOT
[    0.137743] OUT spinner: spinner: heartbeat 14
$RSUM"
check "running partition, last heartbeat 150 ms before (default period)" pass \
    "shows no heartbeat within 100 ms: last printed 150.0 ms" "$RCFG" \
    "${RBOOT//0.063738/0.007643}
[    0.157643] INF mon: TASKVISOR SUMMARY: 3 passed, 0 failed"
check "running partition that never printed" pass "spinner, expected running, shows no heartbeat within 100 ms: never printed" \
    "$RCFG" "[    0.100000] OUT apic_timer: apic_timer: GUEST SUMMARY: 23 passed, 0 failed
$RSUM"
check "running partition: a line after the summary does not count" pass \
    "shows no heartbeat within 20 ms" "$RCFG
# heartbeat: 20" "$RBOOT
$RSUM
[    0.157700] OUT spinner: spinner: heartbeat 9"
check "running partition: another partition's line does not count" pass \
    "shows no heartbeat within 20 ms" "$RCFG
# heartbeat: 20" "$RBOOT
[    0.150000] OUT spinner2: spinner: heartbeat 9
[    0.150000] OUT apic_timer: spinner: heartbeat 9
$RSUM"
check "running partition, bad # heartbeat value" pass 'bad "# heartbeat:" value 2x' "$RCFG
# heartbeat: 2x" "$RBOOT
[    0.150000] OUT spinner: spinner: heartbeat 9
$RSUM"

# Refusal and panic scenarios.
FCFG='# expect-refusal: yes
monitor = monitor.elf
options = debug_exit=0xf4'
REFUSED='[    0.000100] ERR mon: AMD SVM unusable: the CPU does not offer AMD SVM
[    0.000200] ERR mon: TASKVISOR REFUSED: no usable hardware virtualization'
check "refusal" fail pass "$FCFG" "$REFUSED"
check "refusal, then a timeout" timeout "expected the monitor's failure exit, got: timeout" \
    "$FCFG" "$REFUSED"
check "refusal line only from a guest" fail "no TASKVISOR REFUSED line of the monitor's" \
    "$FCFG" "[    0.000200] OUT hello: TASKVISOR REFUSED: no usable hardware virtualization"
PCFG='# expect-panic: yes
# expect-log: MONITOR PANIC: unhandled exception 6
monitor = monitor.elf
options = debug_exit=0xf4 crash_test=ud expect.control=running'
PANIC='[    0.062433] INF mon: 1 partitions started on AMD SVM; 4 KiB heap, 216 MiB free
[    0.070000] ERR mon: MONITOR EXCEPTION 6 (#UD invalid opcode)

MONITOR PANIC: unhandled exception 6
monitor halted (exit code 0x12)'
check "panic (no heartbeat asked: the monitor judges no partition)" panic pass "$PCFG" "$PANIC"
check "panic expected, pass exit" pass "expected the monitor's panic exit, got: pass" \
    "$PCFG" "$PANIC"
check "panic expected, a summary printed" panic "a summary was printed after a panic" \
    "$PCFG" "$SUM
$PANIC"

# The config or the log vanished before the judge read them (a clean-up
# that raced the run): never a pass on the exit alone.
n=$((n + 1))
printf '%s\n' "$BOOT" "$SUM" | sed 's/$/\r/' >"$work/$n.log"
why=$(judge_scenario "$work/gone.cfg" "$work/$n.log" pass)
if [[ $why == *"config"*"missing"* ]]; then echo "ok $n - config vanished: fails ($why)"
else echo "not ok $n - config vanished: wanted a failure for a missing config, judge said: $why"; bad=1; fi
n=$((n + 1))
printf '%s\n' "$CFG" >"$work/$n.cfg"
why=$(judge_scenario "$work/$n.cfg" "$work/gone.log" pass)
if [[ $why == *"log"*"missing"* ]]; then echo "ok $n - log vanished: fails ($why)"
else echo "not ok $n - log vanished: wanted a failure for a missing log, judge said: $why"; bad=1; fi

echo "1..$n"
exit $bad
