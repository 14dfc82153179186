# Judging a scenario's serial log: shared by run-scenarios.sh (QEMU) and
# run-scenarios-bochs.sh (Bochs).  Sourced, not run.
#
# judge_scenario CFG LOG EXIT
#   EXIT is how the monitor ended the run, as the runner read it: pass,
#   fail, panic, or anything else (a description such as "timeout").
#   Prints nothing when the scenario passed, else why it did not.
# Rules: a scenario passes when the monitor printed its own closing line
# "TASKVISOR SUMMARY: N passed, 0 failed", every "# expect-log: REGEX"
# matches and no "# reject-log: REGEX" does.  "# expect-refusal: yes" wants
# the monitor's refusal (TASKVISOR REFUSED, failure exit) instead, and
# "# expect-panic: yes" its panic exit and no summary.
judge_scenario() {
    local cfg=$1 log=$2 exit_kind=$3 why="" summary re
    summary=$(grep -aoE 'TASKVISOR SUMMARY: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if grep -q '^# expect-refusal: yes' "$cfg"; then
        [ "$exit_kind" = fail ] || why="expected the monitor's failure exit, got: $exit_kind"
        grep -aq 'TASKVISOR REFUSED' "$log" || why="${why:+$why; }no TASKVISOR REFUSED line"
    elif grep -q '^# expect-panic: yes' "$cfg"; then
        [ "$exit_kind" = panic ] || why="expected the monitor's panic exit, got: $exit_kind"
        [ -n "$summary" ] && why="${why:+$why; }a summary was printed after a panic"
    elif [ -z "$summary" ]; then
        why="no monitor summary (run ended: $exit_kind)"
    elif ! [[ $summary =~ ,\ 0\ failed ]]; then
        why="monitor: ${summary#TASKVISOR SUMMARY: }"
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
