#!/usr/bin/env bash
# The one QEMU launcher of Taskvisor: boots an ESP image with OVMF on a
# TCG machine that offers SVM + nested paging.
#
# Usage: scripts/run-qemu.sh [options] ESP.img [-- extra QEMU arguments]
#
# Modes:
#   (default)            interactive: serial console on this terminal
#                        (-serial mon:stdio; Ctrl-A X quits, Ctrl-A C toggles
#                        the QEMU monitor)
#   --log FILE           headless test run: serial output to FILE, no terminal
# Options:
#   --timeout SEC        headless: kill QEMU after SEC seconds (default 60;
#                        enforced with timeout -s KILL)
#   --stop-on REGEX      headless: end the run as soon as the serial log
#                        matches REGEX (grep -E), e.g. a loader error line
#   --icount             deterministic guest time:
#                        -icount shift=3,sleep=off,align=off (slower boot)
#   --memory SIZE        guest RAM (default 256M)
#   --cpu MODEL          CPU model (default qemu64,+svm,+npt)
#   --machine TYPE       machine type (default pc; q35 offers ECAM through MCFG)
#   --dry-run            print the QEMU command line and exit
#   -h, --help           this text
#
# Exit status (headless and interactive):
#   0                    QEMU ended normally (power-off, reset under -no-reboot, quit)
#   1                    QEMU failed (bad arguments, missing firmware, ...)
#   (V << 1) | 1         the guest wrote V to isa-debug-exit (port 0xf4):
#                        V=0x10 -> 33 (the test monitor's pass), V=0x11 -> 35 (fail)
#   124                  headless: the --timeout ran out (QEMU killed)
#   125                  headless: the serial log matched --stop-on (QEMU stopped)
# The meaning of the status is printed on stderr at the end of the run.
#
# NMI injection (headless): each new serial-log line containing
# "qemu-nmi-request" makes this script send "nmi" to QEMU's monitor (a
# second, private monitor on a socket in the temporary directory), which
# raises LINT1 on every CPU.  Test guests print the line to ask for a host
# NMI while partitions run (tests/guest/x86/nmi_request.c).
#
# Firmware: /usr/share/OVMF/OVMF_CODE_4M.fd (read-only) and a fresh writable
# copy of OVMF_VARS_4M.fd per run in a temporary directory.  The ESP image is
# opened with snapshot=on, so runs never modify it and can share it.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }

ovmf_code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
ovmf_vars=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
log= timeout_s=60 stop_on= icount=0 memory=256M cpu=qemu64,+svm,+npt machine=pc dry=0 esp=
extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --log) log=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --stop-on) stop_on=$2; shift 2 ;;
    --icount) icount=1; shift ;;
    --memory) memory=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --machine) machine=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "run-qemu: unknown option $1" >&2; usage ;;
    *) [ -z "$esp" ] || { echo "run-qemu: more than one ESP image given" >&2; usage; }
       esp=$1; shift ;;
    esac
done
[ -n "$esp" ] || usage
[ -f "$esp" ] || { echo "run-qemu: $esp: no such file" >&2; exit 1; }
for f in "$ovmf_code" "$ovmf_vars"; do
    [ -f "$f" ] || { echo "run-qemu: $f missing (package ovmf)" >&2; exit 1; }
done
if [ -n "$stop_on" ] && [ -z "$log" ]; then
    echo "run-qemu: --stop-on needs --log" >&2
    exit 1
fi
[[ $timeout_s =~ ^[0-9]+$ ]] || { echo "run-qemu: --timeout wants whole seconds" >&2; exit 1; }

tmp=$(mktemp -d)
qpid=
cleanup() {
    [ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$ovmf_vars" "$tmp/OVMF_VARS.fd"

cmd=(qemu-system-x86_64 -machine "$machine" -accel tcg -cpu "$cpu" -smp 1 -m "$memory"
     -nodefaults -display none -no-reboot
     -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
     -drive "if=pflash,format=raw,file=$tmp/OVMF_VARS.fd"
     -drive "format=raw,file=$esp,snapshot=on"
     -device isa-debug-exit,iobase=0xf4,iosize=0x04)
[ "$icount" = 1 ] && cmd+=(-icount shift=3,sleep=off,align=off)
if [ -n "$log" ]; then
    mkdir -p "$(dirname "$log")"
    : >"$log"
    cmd+=(-monitor none -serial "file:$log")
    cmd+=(-chardev "socket,id=tvmon,path=$tmp/monitor.sock,server=on,wait=off"
          -mon "chardev=tvmon,mode=readline")
else
    cmd+=(-serial mon:stdio)
fi
cmd+=("${extra[@]}")

if [ "$dry" = 1 ]; then
    printf '%q ' "${cmd[@]}"; echo
    exit 0
fi

explain() {
    local rc=$1
    case $rc in
    0) echo "run-qemu: QEMU ended normally (status 0)" ;;
    1) echo "run-qemu: QEMU failed (status 1)" ;;
    124) echo "run-qemu: time limit of ${timeout_s}s reached, QEMU killed (status 124)" ;;
    125) echo "run-qemu: serial log matched '$stop_on', QEMU stopped (status 125)" ;;
    *) if [ $((rc & 1)) = 1 ] && [ "$rc" -lt 256 ]; then
           printf 'run-qemu: isa-debug-exit value 0x%x -> status %d\n' $((rc >> 1)) "$rc"
       else
           echo "run-qemu: QEMU ended with status $rc"
       fi ;;
    esac >&2
}

if [ -z "$log" ]; then
    "${cmd[@]}"
    rc=$?
    explain "$rc"
    exit "$rc"
fi

start=$SECONDS
# --foreground: only QEMU gets the KILL (no "Killed" job notice from bash).
timeout --foreground -s KILL "$timeout_s" "${cmd[@]}" </dev/null &
qpid=$!
stopped=0
nmi_sent=0
# Sends QEMU's "nmi" monitor command once per new request line in the log.
send_nmis() {
    local want
    want=$(grep -c -- 'qemu-nmi-request' "$log" 2>/dev/null)
    while [ "${want:-0}" -gt "$nmi_sent" ]; do
        python3 - "$tmp/monitor.sock" <<'PY' >/dev/null 2>&1
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"nmi\n")
time.sleep(0.1)
s.close()
PY
        nmi_sent=$((nmi_sent + 1))
    done
}
while kill -0 "$qpid" 2>/dev/null; do
    send_nmis
    if [ -n "$stop_on" ] && grep -qE -- "$stop_on" "$log" 2>/dev/null; then
        sleep 0.3           # let the rest of the message reach the log
        kill -TERM "$qpid" 2>/dev/null   # timeout passes it on to QEMU
        stopped=1
        break
    fi
    sleep 0.2
done
wait "$qpid"
rc=$?
qpid=
if [ "$stopped" = 1 ]; then
    rc=125
elif [ "$rc" = 137 ] && [ $((SECONDS - start)) -ge "$timeout_s" ]; then
    rc=124
fi
explain "$rc"
exit "$rc"
