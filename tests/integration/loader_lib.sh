# Shared helpers for the loader's QEMU integration tests (sourced, not run).
# Each test builds an ESP with scripts/mkesp.sh, boots it with
# scripts/run-qemu.sh (headless, bounded) and checks the serial log; output is TAP.

LOADER=build/esp/EFI/BOOT/BOOTX64.EFI
TESTMON=build/boot/testmon.elf
QEMU_TIMEOUT=${QEMU_TIMEOUT:-60}
# The firmware prints this once our loader has returned an error to it.
FW_FAILED='BdsDxe: failed to start Boot'

tap_n=0
tap_failed=0

ok() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $*"
}

not_ok() {
    tap_n=$((tap_n + 1))
    tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $*"
}

# check "description" command...: ok when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# has_line LOG FIXED-STRING: the log (CRs removed) holds the string.
has_line() {
    tr -d '\r' <"$1" | grep -qF -- "$2"
}

# Prints the log's interesting lines as TAP comments (for failures).
show_log() {
    tr -d '\r' <"$1" | grep -E 'taskvisor|TESTMON|BdsDxe|run-qemu' | sed 's/^/# /'
}

need_build() {
    local f
    for f in "$LOADER" "$TESTMON"; do
        if [ ! -f "$f" ]; then
            echo "1..1"
            echo "not ok 1 - $f is missing: run make first"
            exit 1
        fi
    done
}

# workdir NAME: a fresh directory under build/ for this test's files.
workdir() {
    local d=build/tests/integration/$1
    rm -rf "$d"
    mkdir -p "$d"
    echo "$d"
}

# boot ESP LOG [run-qemu options...]: boots headless; sets $boot_rc.
boot() {
    local esp=$1 log=$2
    shift 2
    scripts/run-qemu.sh --log "$log" --timeout "$QEMU_TIMEOUT" "$esp" "$@" 2>"$log.run-qemu"
    boot_rc=$?
    cat "$log.run-qemu" >>"$log"
}

finish() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
