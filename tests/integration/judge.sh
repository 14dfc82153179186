# shellcheck shell=bash
# Judging a scenario's serial log: shared by run-scenarios.sh (QEMU) and
# run-scenarios-bochs.sh (Bochs).  Sourced, not run.
#
# judge_scenario CFG LOG EXIT
#   EXIT is how the monitor ended the run, as the runner learned it from the
#   monitor's exit-port write: pass, fail, panic, or anything else (a
#   description such as "timeout").
#   Prints nothing when the scenario passed, else every reason it did not.
#
# Only the monitor's own lines count.  The monitor's log lines start
# "[  sec.usec] TAG SOURCE: " with TAG one of ERR WRN INF DBG TRC; a guest's
# output reaches the log as "[  sec.usec] OUT NAME: text" (one line per
# guest line, control characters replaced), so no guest can make a line
# that starts like the monitor's.  Options that hand a guest the raw serial
# port (console=raw) would let it, and fail the scenario.
#
# Rules of the normal scenario: PASS needs
#   - the monitor's pass exit (EXIT = pass): a timeout, a KILL, a failure or
#     panic exit, or an emulator that ended any other way fails;
#   - exactly one summary line of the monitor's,
#     "[  sec.usec] INF SOURCE: TASKVISOR SUMMARY: N passed, M failed",
#     with N >= 1 and M = 0;
#   - for every partition the options expect running (expect.NAME=running):
#     a line of its output ("OUT NAME: ") at most the heartbeat period
#     before the summary, so a frozen guest fails although the monitor still
#     counts it running.  "# heartbeat: MS" sets the period (default
#     JUDGE_HEARTBEAT_MS, 100 ms of the monitor's clock);
#   - every "# expect-log: REGEX" matches and no "# reject-log: REGEX" does.
# "# expect-refusal: yes" wants the monitor's refusal instead (its ERR line
# "TASKVISOR REFUSED: ..." and the failure exit), "# expect-panic: yes" its
# panic exit and no summary.  Both end before the monitor judges any
# partition, so expect.NAME=running there only keeps the run going until the
# refusal or panic, and no heartbeat is asked for.
JUDGE_HEARTBEAT_MS=100
JUDGE_STAMP='^\[ *[0-9]+\.[0-9]{6}\] '

judge_scenario() {
    local cfg=$1 log=$2 exit_kind=$3 why="" re
    local summaries summary n_sum options
    # A config that vanished or cannot be read has no expectations to check:
    # judging the exit alone could pass a run nobody can judge.
    if [ ! -f "$cfg" ] || [ ! -r "$cfg" ]; then
        echo "the scenario's config $cfg is missing or unreadable: nothing to judge the run against"
        return 0
    fi
    if [ ! -f "$log" ] || [ ! -r "$log" ]; then
        echo "the serial log $log is missing or unreadable"
        return 0
    fi
    options=$(sed -n 's/^[[:space:]]*options[[:space:]]*=//p' "$cfg" | tr '\n' ' ')
    summaries=$(grep -aE "${JUDGE_STAMP}INF [^ ]+: TASKVISOR SUMMARY: [0-9]+ passed, [0-9]+ failed"$'\r?$' \
        "$log" | tr -d '\r')
    n_sum=$(printf '%s' "$summaries" | grep -c .)
    summary=$(printf '%s\n' "$summaries" | tail -1)
    if [[ " $options " =~ [[:space:]]console=raw[[:space:]] ]]; then
        why="options give a guest the raw console (console=raw): its output could pass for the monitor's"
    fi
    if grep -q '^# expect-refusal: yes' "$cfg"; then
        [ "$exit_kind" = fail ] || why="${why:+$why; }expected the monitor's failure exit, got: $exit_kind"
        grep -aqE "${JUDGE_STAMP}ERR [^ ]+: TASKVISOR REFUSED: " "$log" ||
            why="${why:+$why; }no TASKVISOR REFUSED line of the monitor's"
        [ "$n_sum" -eq 0 ] || why="${why:+$why; }a summary was printed by a monitor that refused to start"
    elif grep -q '^# expect-panic: yes' "$cfg"; then
        [ "$exit_kind" = panic ] || why="${why:+$why; }expected the monitor's panic exit, got: $exit_kind"
        [ "$n_sum" -eq 0 ] || why="${why:+$why; }a summary was printed after a panic"
    else
        [ "$exit_kind" = pass ] || why="${why:+$why; }the run did not end with the monitor's pass exit: $exit_kind"
        if [ "$n_sum" -eq 0 ]; then
            why="${why:+$why; }no summary line of the monitor's"
        elif [ "$n_sum" -gt 1 ]; then
            why="${why:+$why; }$n_sum summary lines of the monitor's (one expected)"
        else
            local passed failed
            [[ $summary =~ SUMMARY:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]
            passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
            if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
                why="${why:+$why; }monitor: $passed passed, $failed failed"
            fi
            local hb
            hb=$(judge_heartbeats "$cfg" "$log" "$options")
            [ -z "$hb" ] || why="${why:+$why; }$hb"
        fi
    fi
    while IFS= read -r re; do
        [ -n "$re" ] || continue
        grep -aqE -- "$re" "$log" || why="${why:+$why; }missing log line /$re/"
    done < <(sed -n 's/^# expect-log:[[:space:]]*//p' "$cfg")
    while IFS= read -r re; do
        [ -n "$re" ] || continue
        grep -aqE -- "$re" "$log" && why="${why:+$why; }unexpected log line /$re/"
    done < <(sed -n 's/^# reject-log:[[:space:]]*//p' "$cfg")
    printf '%s' "$why"
}

# judge_heartbeats CFG LOG OPTIONS: for each expect.NAME=running in OPTIONS,
# the gap between NAME's last output line before the monitor's summary and
# the summary, in the monitor's own time stamps.  Prints why it failed, or
# nothing.
judge_heartbeats() {
    local cfg=$1 log=$2 options=$3 period word name why=""
    period=$(sed -n 's/^# heartbeat:[[:space:]]*//p' "$cfg" | head -1 | tr -d '[:space:]')
    period=${period:-$JUDGE_HEARTBEAT_MS}
    if ! [[ $period =~ ^[1-9][0-9]*$ ]]; then
        printf 'bad "# heartbeat:" value %s (milliseconds wanted)' "$period"
        return
    fi
    for word in $options; do
        [[ $word =~ ^expect\.(.+)=running$ ]] || continue
        name=${BASH_REMATCH[1]}
        # Time stamps in microseconds (awk numbers are exact far beyond any
        # run's length).  Lines are compared as text: no regex from a name.
        local r
        r=$(tr -d '\r' <"$log" | awk -v name="$name" -v period="$period" '
            function stamp(line,   s) {
                s = substr(line, 2, index(line, "]") - 2)
                gsub(/ /, "", s)
                split(s, f, ".")
                return f[1] * 1000000 + f[2]
            }
            /^\[ *[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]\] / {
                rest = substr($0, index($0, "]") + 2)
                if (rest ~ /^INF [^ ]+: TASKVISOR SUMMARY: /) { sum = stamp($0); exit }
                if (index(rest, "OUT " name ": ") == 1) last = stamp($0)
            }
            END {
                if (sum == "") print "no summary"
                else if (last == "") print "never printed"
                else if (sum - last > period * 1000)
                    printf "last printed %.1f ms before the summary\n", (sum - last) / 1000
            }')
        [ -n "$r" ] || continue
        why="${why:+$why; }partition $name, expected running, shows no heartbeat within ${period} ms: $r"
    done
    printf '%s' "$why"
}

# run_scenarios OUT JOBS NAME...: runs the caller's run_one for every name,
# JOBS at a time (run_one writes OUT/NAME/result), then prints the results in
# the order given.  Returns 1 when any scenario failed or left no result.
run_scenarios() {
    local out=$1 jobs=$2 status=0 name
    shift 2
    printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
    for name in "$@"; do
        if [ -f "$out/$name/result" ]; then
            cat "$out/$name/result"
            grep -q '^not ok' "$out/$name/result" && status=1
        else
            echo "not ok - scenario $name: no result"
            status=1
        fi
    done
    return $status
}

# The runners' jobs run in child shells (xargs bash -c).
export -f judge_scenario judge_heartbeats
export JUDGE_HEARTBEAT_MS JUDGE_STAMP
