#!/usr/bin/env bash
# TAP: the portable monitor parts (vmm/guestload, vmm/emul, vmm/hcall) build
# freestanding with the kernel flags the monitor may use, and link against
# nothing but lib/ and themselves (no libc, no libgcc helpers such as
# __udivti3, no floating point).  Run from the top of the tree.
set -u
cd "$(dirname "$0")/../../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
srcs=$(ls vmm/guestload/*.c vmm/emul/*.c vmm/hcall/*.c)
lib="lib/tv_string.c lib/tv_fmt.c lib/tv_status.c"
n=0
fail=0
flagsets=(
  "-mcmodel=kernel -fno-pic"
  "-fpie -fvisibility=hidden"
)
for fs in "${flagsets[@]}"; do
  for def in "" "-DTV_TEST_BUILD"; do
    n=$((n + 1))
    objs=()
    ok=1
    for s in $srcs $lib; do
      o="$out/$(echo "$s" | tr / _).o"
      if ! gcc -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin -nostdinc \
          -isystem "$(gcc -print-file-name=include)" -mgeneral-regs-only -mno-red-zone \
          -mno-sse -mno-mmx -mno-80387 $fs $def -Iinclude -Ilib -Ivmm -c "$s" -o "$o" 2>"$out/err"; then
        echo "# $s: $(head -c 600 "$out/err")"
        ok=0
      fi
      objs+=("$o")
    done
    if [ $ok = 1 ]; then
      ld -r -o "$out/all.o" "${objs[@]}"
      undef=$(nm -u "$out/all.o" | awk '{print $2}' | grep -vE '^(memcpy|memset|memmove|memcmp)$' || true)
      if [ -n "$undef" ]; then
        echo "# undefined symbols: $undef"
        ok=0
      fi
    fi
    if [ $ok = 1 ]; then
      echo "ok $n - freestanding build ($fs $def)"
    else
      echo "not ok $n - freestanding build ($fs $def)"
      fail=1
    fi
  done
done
echo "1..$n"
exit $fail
