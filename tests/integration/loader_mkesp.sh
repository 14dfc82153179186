#!/usr/bin/env bash
# scripts/mkesp.sh: layout, byte-for-byte determinism, FILE=ESP-PATH, and
# its refusals.  No QEMU.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/loader_lib.sh
need_build
d=$(workdir loader_mkesp)
export MTOOLS_SKIP_CHECK=1
printf 'monitor = testmon.elf\n[partition a]\nimage = a.bin\nmemory = 1M\n[partition b]\nimage = \\img\\deep\\b.bin\nmemory = 1M\n' >"$d/cfg"
printf 'A\n' >"$d/a.bin"
printf 'B\n' >"$d/b.bin"

scripts/mkesp.sh "$d/one.img" "$d/cfg" "$TESTMON" "$d/a.bin" "$d/b.bin=\\img\\deep\\b.bin" >/dev/null 2>"$d/err1"
sleep 1   # a later wall-clock time must not change the bytes
touch "$d/a.bin"
scripts/mkesp.sh "$d/two.img" "$d/cfg" "$TESTMON" "$d/a.bin" "$d/b.bin=\\img\\deep\\b.bin" >/dev/null 2>&1
check "two builds from the same inputs are identical" cmp -s "$d/one.img" "$d/two.img"
check "no warning when the config's files are all given" test ! -s "$d/err1"
check "the loader is at \\EFI\\BOOT\\BOOTX64.EFI" \
    bash -c "mtype -i '$d/one.img' ::/EFI/BOOT/BOOTX64.EFI | cmp -s - '$LOADER'"
check "the config is at \\taskvisor\\taskvisor.cfg" \
    bash -c "mtype -i '$d/one.img' ::/taskvisor/taskvisor.cfg | cmp -s - '$d/cfg'"
check "FILE goes to \\taskvisor\\ under its own name" \
    bash -c "mtype -i '$d/one.img' ::/taskvisor/testmon.elf | cmp -s - '$TESTMON'"
check "FILE=ESP-PATH goes to that path, directories created" \
    bash -c "[ \"\$(mtype -i '$d/one.img' ::/img/deep/b.bin)\" = B ]"
check "the volume is FAT with the TASKVISOR label" \
    bash -c "mlabel -s -i '$d/one.img' :: | grep -q 'Volume label is TASKVISOR'"

scripts/mkesp.sh "$d/w.img" "$d/cfg" "$TESTMON" "$d/a.bin" >/dev/null 2>"$d/err2"
check "a config path with no file is warned about, the image still built" \
    bash -c "grep -qF \"names '\\img\\deep\\b.bin', which is not among the files given\" '$d/err2' && [ -s '$d/w.img' ]"
check "two files for one ESP path are refused" \
    bash -c "! scripts/mkesp.sh '$d/x.img' '$d/cfg' '$d/a.bin' '$d/b.bin=A.BIN' 2>/dev/null && [ ! -e '$d/x.img' ]"
check "a missing input file is refused" \
    bash -c "! scripts/mkesp.sh '$d/y.img' '$d/cfg' '$d/nothere.bin' 2>/dev/null && [ ! -e '$d/y.img' ]"
check "usage without arguments" bash -c "scripts/mkesp.sh >/dev/null 2>&1; [ \$? -eq 2 ]"
finish
