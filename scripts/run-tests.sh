#!/usr/bin/env bash
# Runs test suites and prints one closing line "N passed, N failed".
# Each argument is a suite:
#   path/to/executable-or-script   prints TAP lines ("ok ..." / "not ok ...")
#   fuzz:build/fuzz/NAME           libFuzzer target: bounded run over tests/fuzz/corpus/NAME
# A suite that exits non-zero without reporting a failure counts as one failure;
# so does a suite that reports nothing at all.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
suite_timeout=${SUITE_TIMEOUT:-900}
fuzz_seconds=${FUZZ_SECONDS:-20}
logdir=build/test-logs
mkdir -p "$logdir"

for suite in "$@"; do
    name=${suite#fuzz:}
    log="$logdir/$(echo "$name" | tr '/' '_').log"
    if [[ $suite == fuzz:* ]]; then
        fname=$(basename "$name")
        corpus="tests/fuzz/corpus/$fname"
        work="${BUILD_FUZZ_WORK:-build/fuzz-work}/$fname"
        mkdir -p "$work" "$corpus"
        timeout -s KILL $((fuzz_seconds + 60)) "$name" -max_total_time="$fuzz_seconds" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" "$corpus" >"$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            echo "ok - fuzz $fname (${fuzz_seconds}s)"
            passed=$((passed + 1))
        else
            echo "not ok - fuzz $fname (exit $rc, see $log)"
            tail -n 30 "$log" | sed 's/^/#   /'
            failed=$((failed + 1))
        fi
        continue
    fi
    echo "# suite $name"
    started=$SECONDS
    CMOCKA_MESSAGE_OUTPUT=TAP timeout -s KILL "$suite_timeout" "$name" >"$log" 2>&1
    rc=$?
    p=$(grep -cE '^ok( |$)' "$log")
    f=$(grep -cE '^not ok( |$)' "$log")
    grep -E '^(ok|not ok)( |$)' "$log" | grep -v '^ok' | sed 's/^/  /'
    if [ "$f" -gt 0 ] || [ $rc -ne 0 ] || [ "$p" -eq 0 ]; then
        if [ "$f" -eq 0 ]; then
            f=1
            echo "  not ok - $name exited with status $rc after $p passing tests (see $log)"
        fi
        tail -n 40 "$log" | sed 's/^/#   /'
    fi
    echo "  $p passed, $f failed in $name ($((SECONDS - started)) s)"
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
