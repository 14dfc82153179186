#!/usr/bin/env bash
# TAP: the portable monitor parts (vmm/guestload, vmm/emul, vmm/hcall) build
# freestanding with the kernel flags the monitor may use, and link against
# nothing but lib/ and themselves (no libc, no libgcc helpers such as
# __udivti3, no floating point).  Run from the top of the tree.
set -u
cd "$(dirname "$0")/../../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
srcs="$(ls vmm/guestload/*.c vmm/emul/*.c vmm/hcall/*.c) lib/tv_string.c lib/tv_fmt.c lib/tv_status.c"
base="-std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin -nostdinc
      -isystem $(gcc -print-file-name=include) -mgeneral-regs-only -mno-red-zone
      -mno-sse -mno-mmx -mno-80387 -Iinclude -Ilib -Ivmm"
n=0
fail=0
# name | extra flags
variants=(
  "kernel|-mcmodel=kernel -fno-pic"
  "kernel-testbuild|-mcmodel=kernel -fno-pic -DTV_TEST_BUILD"
  "pie|-fpie -fvisibility=hidden"
)
for v in "${variants[@]}"; do
  name=${v%%|*}
  flags=${v#*|}
  n=$((n + 1))
  mkdir -p "$out/$name"
  # Two compilers at a time: the machine is shared.
  if printf '%s\n' $srcs | xargs -P2 -I{} sh -c \
       'gcc '"$(echo $base) $flags"' -c "$1" -o "$2/$(echo "$1" | tr / _).o" 2>"$2/$(echo "$1" | tr / _).err" ||
        { echo "# $1: $(head -c 600 "$2/$(echo "$1" | tr / _).err")"; exit 1; }' _ {} "$out/$name"; then
    ld -r -o "$out/$name.o" "$out/$name"/*.o
    undef=$(nm -u "$out/$name.o" | awk '{print $2}' | grep -vE '^(memcpy|memset|memmove|memcmp)$' || true)
    if [ -z "$undef" ]; then
      echo "ok $n - freestanding build, $name ($flags)"
      continue
    fi
    echo "# undefined symbols: $undef"
  fi
  echo "not ok $n - freestanding build, $name ($flags)"
  fail=1
done
echo "1..$n"
exit $fail
