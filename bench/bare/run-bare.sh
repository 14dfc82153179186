#!/usr/bin/env bash
# Runs the bare reference monitor (build/bench/bare.elf) with one guest.
#   bench/bare/run-bare.sh qemu  LOG GUEST.elf [CMDLINE]   QEMU TCG SVM, -icount
#                                                          shift=3, Multiboot1 by -kernel
#   bench/bare/run-bare.sh CPU   LOG GUEST.elf [CMDLINE]   Bochs model CPU through GRUB
#                                                          (`multiboot`), scripts/run-bochs.sh
# Exit status 0 when the guest's own summary says it passed and the bare
# monitor saw it halt; the serial log holds the guest's BENCH lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
where=$1 log=$2 guest=$3 cmdline=${4:-}
bare=build/bench/bare.elf
for f in "$bare" "$guest"; do [ -f "$f" ] || { echo "run-bare: $f missing" >&2; exit 1; }; done
mkdir -p "$(dirname "$log")"
rm -f "$log"
if [ "$where" = qemu ]; then
    # The guest ends QEMU through isa-debug-exit itself; its status says nothing here.
    timeout -s KILL 300 qemu-system-x86_64 -machine pc -accel tcg -cpu qemu64,+svm,+npt \
        -icount shift=3,sleep=off,align=off -m 128M -nodefaults -display none -no-reboot \
        -serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$bare" -initrd "$guest $cmdline" </dev/null >"$log.stderr" 2>&1 || true
else
    tree=$(mktemp -d)
    trap 'rm -rf "$tree"' EXIT
    mkdir -p "$tree/boot/grub"
    cp "$bare" "$tree/boot/bare.elf"
    cp "$guest" "$tree/boot/guest.elf"
    cat >"$tree/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "bare reference monitor" {
    multiboot /boot/bare.elf
    module /boot/guest.elf guest.elf $cmdline
    boot
}
CFG
    iso=${log%.log}.iso
    grub-mkrescue -d /usr/lib/grub/i386-pc --locales= --fonts= --themes= \
        --install-modules="multiboot normal configfile iso9660 biosdisk" \
        -o "$iso" "$tree" >"$log.mkrescue" 2>&1 || { cat "$log.mkrescue" >&2; exit 1; }
    # The bare monitor writes 0x10 to port 0xf4 when the guest halts.
    scripts/run-bochs.sh --cpu "$where" --log "$log" --timeout 600 "$iso" >"$log.stderr" 2>&1 || true
fi
grep -aqE '^GUEST SUMMARY: [1-9][0-9]* passed, 0 failed' "$log" || { echo "run-bare: the guest did not pass on $where; see $log" >&2; exit 1; }
if [ "$where" != qemu ]; then
    grep -aq '^BARE: guest halted' "$log" || { echo "run-bare: no halt seen on $where; see $log" >&2; exit 1; }
fi
