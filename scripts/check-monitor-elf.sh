#!/usr/bin/env bash
# The loader applies only R_X86_64_RELATIVE relocations: refuse a monitor
# image that needs anything else, at build time rather than at boot.
set -eu
bad=$(readelf -rW "$1" | awk '/^[0-9a-f]+ +[0-9a-f]+ +R_X86_64/ && $3 != "R_X86_64_RELATIVE" {print $3}' | sort -u)
if [ -n "$bad" ]; then
    echo "check-monitor-elf: $1 has relocations the loader does not apply: $bad" >&2
    exit 1
fi
type=$(readelf -hW "$1" | awk '/Type:/ {print $2}')
[ "$type" = "DYN" ] || { echo "check-monitor-elf: $1 is $type, expected DYN (PIE)" >&2; exit 1; }
