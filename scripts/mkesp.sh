#!/usr/bin/env bash
# Builds a FAT EFI System Partition image for Taskvisor, without root and
# deterministically (same inputs -> same bytes): mkfs.vfat + mtools.
#
#   scripts/mkesp.sh [--loader EFI] OUT.img CONFIG [FILE...]
#
# Layout of the image:
#   \EFI\BOOT\BOOTX64.EFI         the loader (default build/esp/EFI/BOOT/BOOTX64.EFI)
#   \taskvisor\taskvisor.cfg      CONFIG
#   \taskvisor\<basename FILE>    each FILE (monitor image, partition images)
# Relative paths in the config are relative to \taskvisor\ (docs/boot.md).
# A path the config names but no FILE provides is reported as a warning (the
# loader's tests build such images on purpose).
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }

loader=build/esp/EFI/BOOT/BOOTX64.EFI
while [ $# -gt 0 ]; do
    case $1 in
    --loader) loader=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    -*) echo "mkesp: unknown option $1" >&2; usage ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || usage
out=$1 config=$2
shift 2

for f in "$loader" "$config" "$@"; do
    [ -f "$f" ] || { echo "mkesp: $f: no such file" >&2; exit 1; }
done
for t in mkfs.vfat mmd mcopy; do
    command -v "$t" >/dev/null || { echo "mkesp: $t not found (packages dosfstools, mtools)" >&2; exit 1; }
done

# Names under \taskvisor\ must be unique (FAT compares case-insensitively).
declare -A seen=()
for f in "$@"; do
    key=$(basename "$f" | tr '[:upper:]' '[:lower:]')
    [ -z "${seen[$key]:-}" ] || { echo "mkesp: two files named $(basename "$f")" >&2; exit 1; }
    seen[$key]=1
done

# Warn about config paths that the image will not contain.
while IFS= read -r path; do
    p=${path//\//\\}
    case $p in
    \\*) p=${p#\\} ;;
    *) p="taskvisor\\$p" ;;
    esac
    lower=$(echo "$p" | tr '[:upper:]' '[:lower:]')
    dir=${lower%\\*} base=${lower##*\\}
    if [ "$dir" != taskvisor ] || [ -z "${seen[$base]:-}" ]; then
        echo "mkesp: warning: $config names '$path', which is not among the files given" >&2
    fi
done < <(sed -n 's/\r$//; s/^[[:space:]]*\(monitor\|image\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\2/p' "$config")

# Size: the files plus room for FAT metadata; at least 16 MiB.
total=0
for f in "$loader" "$config" "$@"; do
    total=$((total + $(stat -c %s "$f")))
done
mib=$(( (total * 5 / 4) / 1048576 + 4 ))
[ "$mib" -ge 16 ] || mib=16

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/esp.img
# Fixed timestamps everywhere (dosfstools and mtools both honour this).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
truncate -s "${mib}M" "$img"
mkfs.vfat --invariant -i 54564953 -n TASKVISOR "$img" >/dev/null
export MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0
# Copies with a fixed modification time (mcopy -m keeps the source's).
put() {
    local src=$1 dst=$2 staged
    staged=$tmp/stage/$(basename "$dst")
    mkdir -p "$tmp/stage"
    cp "$src" "$staged"
    touch -d "@$SOURCE_DATE_EPOCH" "$staged"
    mcopy -m -o -i "$img" "$staged" "::$dst"
    rm -f "$staged"
}
mmd -i "$img" ::/EFI ::/EFI/BOOT ::/taskvisor
put "$loader" /EFI/BOOT/BOOTX64.EFI
put "$config" /taskvisor/taskvisor.cfg
for f in "$@"; do
    put "$f" "/taskvisor/$(basename "$f")"
done
mkdir -p "$(dirname "$out")"
mv "$img" "$out"
echo "mkesp: $out (${mib} MiB): EFI/BOOT/BOOTX64.EFI, taskvisor/taskvisor.cfg$(for f in "$@"; do printf ', taskvisor/%s' "$(basename "$f")"; done)"
