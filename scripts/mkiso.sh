#!/usr/bin/env bash
# Builds a BIOS-bootable ISO that starts Taskvisor through GRUB (Multiboot2).
#
#   scripts/mkiso.sh [--loader ELF] OUT.iso CONFIG FILE[=NAME]...
#
# GRUB loads the Multiboot2 loader (default build/taskvisor-mb2.elf) and one
# module per file: CONFIG as "taskvisor.cfg", each FILE under its basename,
# which is how the config names images (monitor = monitor.elf, image = x.elf),
# or under NAME when given (build/monitor-test.elf=monitor.elf).
# Needs grub-mkrescue (grub-common, grub-pc-bin) and xorriso.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }

loader=build/taskvisor-mb2.elf
while [ $# -gt 0 ]; do
    case $1 in
    --loader) loader=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "mkiso: unknown option $1" >&2; usage ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || usage
out=$1 config=$2
shift 2
for f in "$loader" "$config" "${@%%=*}"; do
    [ -f "$f" ] || { echo "mkiso: $f: no such file" >&2; exit 1; }
done
for t in grub-mkrescue xorriso; do
    command -v "$t" >/dev/null || { echo "mkiso: $t not found (packages grub-common grub-pc-bin xorriso)" >&2; exit 1; }
done
[ -d /usr/lib/grub/i386-pc ] || { echo "mkiso: /usr/lib/grub/i386-pc missing (package grub-pc-bin)" >&2; exit 1; }

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/boot/grub" "$tree/tv"
cp "$loader" "$tree/boot/taskvisor-mb2.elf"
cp "$config" "$tree/tv/taskvisor.cfg"
{
    echo 'set timeout=0'
    echo 'set default=0'
    echo 'serial --unit=0 --speed=115200'
    echo 'terminal_output serial'
    echo 'menuentry "Taskvisor (Multiboot2)" {'
    echo '    multiboot2 /boot/taskvisor-mb2.elf'
    echo '    module2 /tv/taskvisor.cfg taskvisor.cfg'
    for arg in "$@"; do
        f=${arg%%=*} b=$(basename "$arg")
        [[ $arg == *=* ]] && b=${arg#*=}
        case $b in */*|*' '*|'') echo "mkiso: bad module name '$b'" >&2; exit 1 ;; esac
        cp "$f" "$tree/tv/$b"
        echo "    module2 /tv/$b $b"
    done
    echo '    boot'
    echo '}'
} >"$tree/boot/grub/grub.cfg"
mkdir -p "$(dirname "$out")"
# BIOS only, no locales/themes/fonts: a small image that boots fast.
grub-mkrescue -d /usr/lib/grub/i386-pc --locales= --fonts= --themes= \
    --install-modules="multiboot2 normal serial terminal configfile iso9660 biosdisk" \
    -o "$out" "$tree" >"$out.mkrescue.log" 2>&1 ||
    { cat "$out.mkrescue.log" >&2; exit 1; }
rm -f "$out.mkrescue.log"
