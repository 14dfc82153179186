#!/usr/bin/env bash
# Opt-in (not in `make test`: a TCG boot of a distribution kernel takes
# minutes): Debian's stock kernel with the busybox initramfs as a partition.
#   1. the linux_boot scenario, judged like every scenario (TAP line);
#   2. the same kernel, initramfs and command line booted directly by QEMU
#      TCG in the same run, for the ratio;
#   3. figures: time from monitor entry to the init's shell marker (monitor
#      clock, the serial log's timestamps), the same for the direct boot
#      (wall clock from QEMU's start, lines timestamped as they arrive), the
#      ratio, and the partition's exits per second by reason over the boot
#      (the test build's exit counts at the partition's stop, divided by the
#      time from its first entry to its stop);
#   4. tvctl's round trip for a task query: the linux_tvctl_ops scenario
#      (judged too) runs `tvctl time-query` (500 queries of a running test
#      task: tvctl -> libtaskvisor -> ioctl -> driver -> VMMCALL -> monitor
#      and back) and the mean and minimum are printed.
# Usage: tests/integration/run-linux-boot.sh   (after make and make linux-guest)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=build/integration/linux_boot
marker='TASKVISOR-LINUX: shell ran: 42'
kernel=build/guests/vmlinuz
initrd=build/guests/linux-initramfs.cpio.gz
for f in "$kernel" "$initrd" build/monitor-test.elf; do
    [ -f "$f" ] || { echo "not ok - linux boot: $f missing (run make and make linux-guest)"; exit 1; }
done

tests/integration/run-scenarios.sh linux_boot
status=$?
log=$out/serial.log

# The direct boot: the same command line the scenario gives the partition,
# plus the tsc_early_khz= the monitor adds (taken from the monitor's log).
cmdline=$(sed -n 's/^cmdline[[:space:]]*=[[:space:]]*//p' tests/integration/scenarios/linux_boot.cfg)
khz=$(grep -aoE 'tsc_early_khz=[0-9]+' "$log" | head -1)
direct=$out/direct.log
start=$(date +%s.%N)
timeout -s KILL 300 qemu-system-x86_64 -machine pc -accel tcg -cpu qemu64,+svm,+npt -m 256M \
    -nodefaults -display none -no-reboot -monitor none -serial stdio \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" -initrd "$initrd" -append "$cmdline $khz" </dev/null 2>/dev/null |
    while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done >"$direct"
t_direct=$(tr -d '\r' <"$direct" | awk -v s="$start" -v m="$marker" 'index($0, m) { printf "%.2f", $1 - s; exit }')

# Under the monitor: the marker's monitor timestamp; exits from the stop.
stamp() { tr -d '\r' <"$log" | grep -aF -m1 "$1" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
t_mon=$(stamp "$marker")
t_first=$(sed -n 's/.*first guest entry \([0-9]*\) us after monitor entry.*/\1/p' "$log" | head -1)
t_stop=$(stamp 'INF linux: partition stopped')
exits=$(tr -d '\r' <"$log" | grep -a 'partition linux exits:' | sed 's/.*exits: //')
if [ -n "$t_direct" ] && [ -n "$t_mon" ]; then
    echo "# linux boot: monitor entry -> shell marker ${t_mon} s under the monitor (QEMU TCG, SVM);" \
         "QEMU start -> shell marker ${t_direct} s booted directly by QEMU TCG;" \
         "ratio $(awk -v a="$t_mon" -v b="$t_direct" 'BEGIN { printf "%.2f", a / b }')"
else
    echo "# linux boot: no figures (marker missing: monitor '${t_mon}', direct '${t_direct}')"
fi
if [ -n "$exits" ] && [ -n "$t_first" ] && [ -n "$t_stop" ]; then
    echo "$exits" | awk -v f="$t_first" -v s="$t_stop" '{
        secs = s - f / 1e6
        line = sprintf("# linux boot exits per second over %.1f s:", secs)
        for (i = 1; i < NF; i += 2) {
            n = split($(i + 1), parts, "/")
            total = 0
            for (j = 1; j <= n; j++) total += parts[j]
            line = line sprintf(" %s %.0f", $i, total / secs)
        }
        print line
    }'
fi
tests/integration/run-scenarios.sh linux_tvctl_ops || status=1
rt=$(tr -d '\r' <build/integration/linux_tvctl_ops/serial.log | grep -a 'TVCTL-OPS: info: [0-9]* queries' |
     sed 's/.*TVCTL-OPS: info: //')
echo "# tvctl round trip: ${rt:-no figure (time-query line missing)}"
exit $status
