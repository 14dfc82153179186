#!/usr/bin/env bash
# Builds a FAT EFI System Partition image for Taskvisor, without root and
# deterministically (same inputs -> same bytes): mkfs.vfat + mtools.
#
#   scripts/mkesp.sh [--loader EFI] OUT.img CONFIG [FILE | FILE=ESP-PATH]...
#
# Layout of the image:
#   \EFI\BOOT\BOOTX64.EFI         the loader (default build/esp/EFI/BOOT/BOOTX64.EFI)
#   \taskvisor\taskvisor.cfg      CONFIG
#   \taskvisor\<basename FILE>    each FILE (monitor image, partition images)
#   ESP-PATH                      FILE=ESP-PATH puts FILE there instead: a path
#                                 from the ESP root (\images\g.bin or /images/g.bin)
#                                 or relative to \taskvisor\, as in the config
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

# esp_path PATH: the config's notion of PATH as /dir/name on the ESP.
esp_path() {
    local p=${1//\\//}
    case $p in
    /*) echo "$p" ;;
    *) echo "/taskvisor/$p" ;;
    esac
}

srcs=() dsts=()
for arg in "$@"; do
    if [[ $arg == *=* ]]; then
        srcs+=("${arg%%=*}")
        dsts+=("$(esp_path "${arg#*=}")")
    else
        srcs+=("$arg")
        dsts+=("/taskvisor/$(basename "$arg")")
    fi
done

for f in "$loader" "$config" "${srcs[@]}"; do
    [ -f "$f" ] || { echo "mkesp: $f: no such file" >&2; exit 1; }
done
for t in mkfs.vfat mmd mcopy; do
    command -v "$t" >/dev/null || { echo "mkesp: $t not found (packages dosfstools, mtools)" >&2; exit 1; }
done

# ESP paths must be unique (FAT compares case-insensitively).
declare -A seen=()
seen[/taskvisor/taskvisor.cfg]=config
seen[/efi/boot/bootx64.efi]=loader
for i in "${!dsts[@]}"; do
    key=$(echo "${dsts[$i]}" | tr '[:upper:]' '[:lower:]')
    [ -z "${seen[$key]:-}" ] || { echo "mkesp: two files for ${dsts[$i]}" >&2; exit 1; }
    seen[$key]=${srcs[$i]}
done

# Warn about config paths that the image will not contain.
while IFS= read -r path; do
    key=$(esp_path "$path" | tr '[:upper:]' '[:lower:]')
    if [ -z "${seen[$key]:-}" ]; then
        echo "mkesp: warning: $config names '$path', which is not among the files given" >&2
    fi
done < <(sed -n 's/\r$//; s/^[[:space:]]*\(monitor\|image\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\2/p' "$config")

# Size: the files plus room for FAT metadata; at least 16 MiB.
total=0
for f in "$loader" "$config" "${srcs[@]}"; do
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
# Directories, parents first, each once.
declare -A made=()
mkdirs() {
    local dir=$1 sofar= part lower
    IFS=/ read -ra parts <<<"${dir#/}"
    for part in "${parts[@]}"; do
        sofar=$sofar/$part
        lower=$(echo "$sofar" | tr '[:upper:]' '[:lower:]')
        if [ -z "${made[$lower]:-}" ]; then
            mmd -i "$img" "::$sofar"
            made[$lower]=1
        fi
    done
}
mkdirs /EFI/BOOT
mkdirs /taskvisor
put "$loader" /EFI/BOOT/BOOTX64.EFI
put "$config" /taskvisor/taskvisor.cfg
for i in "${!srcs[@]}"; do
    mkdirs "$(dirname "${dsts[$i]}")"
    put "${srcs[$i]}" "${dsts[$i]}"
done
mkdir -p "$(dirname "$out")"
mv "$img" "$out"
echo "mkesp: $out (${mib} MiB): /EFI/BOOT/BOOTX64.EFI /taskvisor/taskvisor.cfg ${dsts[*]}"
