#!/usr/bin/env bash
# make bench entry for the VHD engine (see bench_vhd.py).
exec /usr/bin/python3 "$(dirname "$0")/bench_vhd.py" "$@"
