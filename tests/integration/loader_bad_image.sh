#!/usr/bin/env bash
# Partition images the loader refuses: an empty file, and a file larger than
# the partition's memory.  The message names the config line, the partition
# and the file; the firmware gets the error status.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/loader_lib.sh
need_build
d=$(workdir loader_bad_image)
cfg='\taskvisor\taskvisor.cfg'
printf 'CONTROL\n' >"$d/ctl.bin"
: >"$d/empty.bin"
head -c $((1024 * 1024 + 1)) /dev/zero >"$d/big.bin"

cat >"$d/taskvisor.cfg" <<'CFG'
monitor = testmon.elf
[partition ctl]
image = ctl.bin
memory = 16M
[partition small]
memory = 1M
image = big.bin
CFG
scripts/mkesp.sh "$d/big.img" "$d/taskvisor.cfg" "$TESTMON" "$d/ctl.bin" "$d/big.bin" >/dev/null
boot "$d/big.img" "$d/big.log" --stop-on "$FW_FAILED"
check "image larger than memory: line 7, partition, file and sizes" \
    has_line "$d/big.log" "taskvisor: error: $cfg:7: partition 'small': image 'big.bin' (\\taskvisor\\big.bin): the file (1048577 bytes) is larger than the partition's memory (1048576 bytes)"
check "image larger than memory: the firmware received the error status (Bad Buffer Size)" \
    bash -c "tr -d '\r' <'$d/big.log' | grep -qE 'BdsDxe: failed to start Boot[0-9]+ .*: Bad Buffer Size' && [ $boot_rc -eq 125 ]"
[ "$tap_failed" -eq 0 ] || show_log "$d/big.log"

failed_before=$tap_failed
printf 'monitor = testmon.elf\n[partition ctl]\nimage = empty.bin\nmemory = 16M\n' >"$d/empty.cfg"
scripts/mkesp.sh "$d/empty.img" "$d/empty.cfg" "$TESTMON" "$d/empty.bin" >/dev/null
boot "$d/empty.img" "$d/empty.log" --stop-on "$FW_FAILED"
check "empty image: line 3, partition and file" \
    has_line "$d/empty.log" "taskvisor: error: $cfg:3: partition 'ctl': image 'empty.bin' (\\taskvisor\\empty.bin): file is empty"
check "empty image: the firmware received the error status (Load Error)" \
    bash -c "tr -d '\r' <'$d/empty.log' | grep -qE 'BdsDxe: failed to start Boot[0-9]+ .*: Load Error' && [ $boot_rc -eq 125 ]"
[ "$tap_failed" -eq "$failed_before" ] || show_log "$d/empty.log"
finish
