#!/bin/sh
# tvctl self-test: run by /init of the test initramfs (tv.tvctltest) in the
# linux_tvctl scenario.  Drives every tvctl verb through taskvisor.ko against
# real test tasks of a test-build monitor, and the refusals (a caller that is
# not root, through busybox su; bad ids, bad timeouts, verbs the state
# forbids).  Each check
# prints "TVCTL-TEST: NAME: PASS" or "TVCTL-TEST: NAME: FAIL (why)"; the
# scenario's judge wants the PASS lines and no FAIL.  Exit status: the
# number of failed checks (the partition's exit code).
pass=0
failed=0
ok() { echo "TVCTL-TEST: $1: PASS"; pass=$((pass + 1)); }
bad() { echo "TVCTL-TEST: $1: FAIL ($2)"; failed=$((failed + 1)); }
# expect_rc NAME WANT GOT [OUTPUT-FILE]
expect_rc() {
    if [ "$3" = "$2" ]; then ok "$1"; else bad "$1" "exit $3, want $2: $(head -c 300 "${4:-/dev/null}" | tr '\n' ' ')"; fi
}
# expect_in NAME FILE REGEX
expect_in() {
    if grep -Eq -- "$3" "$2"; then ok "$1"; else bad "$1" "no /$3/ in: $(head -c 300 "$2" | tr '\n' ' ')"; fi
}
# wait_state ID STATE: poll `tvctl show` up to 10 s
wait_state() {
    n=0
    while [ $n -lt 100 ]; do
        tvctl --json show "$1" 2>/dev/null | grep -q "\"state\":\"$2\"" && return 0
        usleep 100000
        n=$((n + 1))
    done
    return 1
}
O=/tmp/out
E=/tmp/err

# ---- the device and the versions ------------------------------------------
# (no /etc/passwd yet: ls shows the owner as 0)
if ls -l /dev/taskvisor | grep -Eq '^crw------- +1 (root|0) +(root|0) '; then ok device-root-only
else bad device-root-only "$(ls -l /dev/taskvisor 2>&1)"; fi
tvctl version >$O 2>&1; expect_rc version 0 $? $O
expect_in version-abi $O 'monitor ABI 1\.[0-9]+'
tvctl --json version >$O 2>&1
expect_in version-json $O '^\{"abi":"1\.[0-9]+",.*"events":"(irq|timer)"'
echo "TVCTL-TEST: info: $(cat $O)"
expect_in events-by-interrupt $O '"events":"irq"'

# ---- start, list, show --------------------------------------------------------
A=$(tvctl test-start --units 600 --unit-ms 100 --desc "selftest A" 2>$E)
case "$A" in ''|*[!0-9]*) bad test-start "got '$A' $(cat $E)"; A=999999 ;; *) ok test-start ;; esac
tvctl --json test-start --units 3 --unit-ms 10 --desc "selftest json" >$O 2>&1
expect_in test-start-json $O '^\{"id":[0-9]+\}$'
tvctl list >$O 2>&1; expect_rc list 0 $? $O
expect_in list-has-task $O "^$A +(queued|running) +[0-9]+ +selftest A\$"
tvctl --json list >$O 2>&1
expect_in list-json $O "^\\{\"tasks\":\\[.*\\{\"id\":$A,\"seq\":[0-9]+,\"state\":\"(queued|running)\""
tvctl list --unfinished >$O 2>&1
expect_in list-unfinished $O "^$A "
tvctl show "$A" >$O 2>&1; expect_rc show 0 $? $O
expect_in show-fields $O '^description: selftest A$'
tvctl --json show "$A" >$O 2>&1
expect_in show-json $O "^\\{\"id\":$A,.*\"state\":\"(queued|running)\".*\"cancelable\":true.*\"description\":\"selftest A\""

# ---- pause, resume -------------------------------------------------------------
tvctl pause "$A" >$O 2>&1; expect_rc pause 0 $? $O
if wait_state "$A" paused; then ok pause-state; else bad pause-state "not paused"; fi
tvctl pause "$A" >$O 2>&1; expect_rc pause-twice-refused 7 $? $O
tvctl --json resume "$A" >$O 2>&1; expect_rc resume 0 $? $O
expect_in resume-json $O "^\\{\"verb\":\"resume\",\"id\":$A,\"status\":0\\}\$"
if wait_state "$A" running; then ok resume-state; else bad resume-state "not running"; fi
tvctl resume "$A" >$O 2>&1; expect_rc resume-running-refused 7 $? $O
tvctl --json pause "$A" >$O 2>&1; expect_rc pause-json 0 $? $O

# ---- events (A stays paused, so the events are B's) ----------------------------
tvctl events --count 4 --timeout 30000 >/tmp/ev 2>&1 &
evpid=$!
tvctl --json events --count 2 --timeout 30000 >/tmp/evj 2>&1 &
evjpid=$!
n=0; while [ $n -lt 50 ] && ! grep -q following /tmp/ev; do usleep 100000; n=$((n + 1)); done
usleep 300000
B=$(tvctl test-start --units 5 --unit-ms 50 --desc "selftest B")
wait $evpid; expect_rc events 0 $? /tmp/ev
wait $evjpid; expect_rc events-json-rc 0 $? /tmp/evj
expect_in events-lines /tmp/ev "^task $B seq [0-9]+ (queued|running|committing|completed) [0-9]+%\$"
expect_in events-json /tmp/evj '^\{"event":"task","id":[0-9]+,"seq":[0-9]+,"state":"[a-z]+","percent":[0-9]+\}$'
if [ "$(grep -c "^task " /tmp/ev)" -ge 4 ]; then ok events-count; else bad events-count "$(cat /tmp/ev | tr '\n' ' ')"; fi
tvctl resume "$A" >/dev/null 2>&1
if grep -q taskvisor /proc/interrupts; then
    irqs=$(grep taskvisor /proc/interrupts | awk '{print $2}')
    echo "TVCTL-TEST: info: taskvisor interrupts taken: $irqs"
    if [ "${irqs:-0}" -gt 0 ]; then ok events-interrupts; else bad events-interrupts "none taken"; fi
else
    bad events-interrupts "no taskvisor line in /proc/interrupts"
fi

# ---- wait: progress, success, json ---------------------------------------------
C=$(tvctl test-start --units 10 --unit-ms 100 --desc "selftest C")
tvctl wait "$C" --progress >$O 2>$E; expect_rc wait 0 $? $O
expect_in wait-outcome $O "^task $C: completed, result success, data outcome committed \\(100%\\)\$"
expect_in wait-progress-bar $E "^task $C \\[#+\\.*\\] +[0-9]+% "
echo "TVCTL-TEST: info: progress lines: $(grep -c "^task $C \[" $E)"
tvctl --json wait "$C" >$O 2>&1; expect_rc wait-json-rc 0 $? $O
expect_in wait-json $O "^\\{\"verb\":\"wait\",\"id\":$C,\"state\":\"completed\",\"result\":\"success\",\"outcome\":\"committed\",\"percent\":100\\}\$"

# ---- dismiss and bad ids -------------------------------------------------------
tvctl --json dismiss "$C" >$O 2>&1; expect_rc dismiss 0 $? $O
tvctl show "$C" >$O 2>&1; expect_rc dismissed-not-found 5 $? $O
tvctl show 999999 >$O 2>&1; expect_rc bad-id-not-found 5 $? $O
expect_in bad-id-message $O 'show 999999: not found'
tvctl --json show 999999 >$O 2>&1
expect_in bad-id-json $O '^\{"verb":"show","id":999999,"status":4,"error":"not found"\}$'
tvctl show 0 >$O 2>&1; expect_rc id-zero-invalid 6 $? $O
tvctl cancel 999999 >$O 2>&1; expect_rc cancel-bad-id 5 $? $O
tvctl show nonsense >$O 2>&1; expect_rc id-not-a-number-usage 2 $? $O

# ---- bad timeouts (refused by the driver) and a timeout ------------------------
tvctl wait "$A" --timeout 4000001 >$O 2>&1; expect_rc timeout-too-large 6 $? $O
tvctl wait "$A" --timeout -2 >$O 2>&1; expect_rc timeout-negative 6 $? $O
tvctl wait "$A" --timeout 99999999999 >$O 2>&1; expect_rc timeout-out-of-range 6 $? $O
tvctl wait "$A" --timeout 300 >$O 2>&1; expect_rc wait-times-out 8 $? $O

# ---- round trip of a query -----------------------------------------------------
tvctl time-query "$A" 500 >$O 2>&1; expect_rc time-query 0 $? $O
echo "TVCTL-TEST: info: $(cat $O)"

# ---- cancel --------------------------------------------------------------------
tvctl cancel "$A" >$O 2>&1; expect_rc cancel 0 $? $O
tvctl wait "$A" >$O 2>&1; expect_rc wait-cancelled 9 $? $O
expect_in wait-cancelled-outcome $O "^task $A: cancelled, result cancelled, data outcome [a-z-]+ "
tvctl cancel "$A" >$O 2>&1; expect_rc cancel-finished-refused 7 $? $O
N=$(tvctl test-start --units 30 --unit-ms 100 --not-cancelable --desc "selftest N")
tvctl cancel "$N" >$O 2>&1; expect_rc cancel-not-cancelable 7 $? $O
expect_in cancel-not-cancelable-message $O 'not cancelable'

# ---- Ctrl-C during a wait: the task is cancelled, its outcome printed ----------
D=$(tvctl test-start --units 100 --unit-ms 100 --desc "selftest D")
tvctl wait "$D" --no-progress >$O 2>$E &
wpid=$!
sleep 1
kill -INT $wpid
wait $wpid; expect_rc ctrl-c-wait 130 $? $O
expect_in ctrl-c-cancel $O "^task $D: interrupted, cancel accepted\$"
expect_in ctrl-c-outcome $O "^task $D: cancelled, result cancelled, data outcome [a-z-]+ \\([0-9]+%\\)\$"
tvctl --json wait "$D" >$O 2>&1
expect_in ctrl-c-task-state $O '"state":"cancelled","result":"cancelled"'

# ---- a caller that is not root -------------------------------------------------
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >>/etc/group
su -s /bin/sh nobody -c 'id -u; tvctl list' >$O 2>&1
expect_rc non-root-refused 4 $? $O
expect_in non-root-uid $O '^65534$'
expect_in non-root-message $O 'permission denied'
su -s /bin/sh nobody -c "tvctl --json show $D" >$O 2>&1
expect_rc non-root-json-refused 4 $? $O
expect_in non-root-json $O '^\{"verb":"show","status":3,"error":"permission denied'
# Even a node opened up to everybody does not let a non-root caller in: the
# driver checks the capability on open.
chmod 0666 /dev/taskvisor
su -s /bin/sh nobody -c "tvctl show $D" >$O 2>&1
expect_rc non-root-chmod-refused 4 $? $O
chmod 0600 /dev/taskvisor

# ---- docs/client.md's example program ------------------------------------------
W=$(tvctl test-start --units 5 --unit-ms 100 --desc "selftest W")
tvwatch "$W" >$O 2>&1; expect_rc client-example 0 $? $O
expect_in client-example-desc $O "^task $W: selftest W\$"
expect_in client-example-progress $O '^ +[0-9]+%$'
expect_in client-example-result $O "^task $W: result 0 \\(status 0\\)\$"

# ---- the rest ------------------------------------------------------------------
tvctl wait "$N" --timeout 10000 >$O 2>&1; expect_rc wait-not-cancelable-completes 0 $? $O
tvctl frobnicate >$O 2>&1; expect_rc unknown-verb-usage 2 $? $O

echo "TVCTL-TEST: $pass passed, $failed failed"
[ $failed -gt 100 ] && failed=100
exit $failed
