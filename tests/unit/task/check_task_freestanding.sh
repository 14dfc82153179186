#!/usr/bin/env bash
# TAP: the portable task core (task/, minus the hosted seam) and libtaskvisor
# (client/tv_client.c) build freestanding with the monitor's kernel flags,
# and need nothing but lib/ and, for the core, the platform seam (tp_*):
# no libc, no libgcc helpers (__udivti3 ...), no floating point.
set -u
cd "$(dirname "$0")/../../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
core=$(ls task/*.c | grep -v platform_hosted)
lib="lib/tv_string.c lib/tv_fmt.c lib/tv_status.c"
client="client/tv_client.c"
export GCC_INC
GCC_INC=$(gcc -print-file-name=include)
n=0
fail=0
obj() { echo "$out/$1/$(echo "$2" | tr / _).o"; }
check() { # name, flagset index, allowed-undefined regex, sources...
    local name=$1 idx=$2 allow=$3 fs=$4
    shift 4
    n=$((n + 1))
    local ok=1 objs=()
    for s in "$@"; do
        local o
        o=$(obj "$idx" "$s")
        if [ ! -f "$o" ]; then
            echo "# $s: $(head -c 600 "$o.err")"
            ok=0
        fi
        objs+=("$o")
    done
    if [ $ok = 1 ]; then
        ld -r -o "$out/$idx/all.o" "${objs[@]}"
        local undef
        undef=$(nm -u "$out/$idx/all.o" | awk '{print $2}' | grep -vE "$allow" || true)
        if [ -n "$undef" ]; then
            echo "# undefined symbols: $undef"
            ok=0
        fi
    fi
    if [ $ok = 1 ]; then
        echo "ok $n - $name freestanding ($fs)"
    else
        echo "not ok $n - $name freestanding ($fs)"
        fail=1
    fi
}
idx=0
for fs in "-mcmodel=kernel -fno-pic" "-fpie -fvisibility=hidden"; do
    idx=$((idx + 1))
    mkdir -p "$out/$idx"
    # two compilers at a time (shared 2-core machine)
    printf '%s\n' $core $lib $client | FS="$fs" D="$out/$idx" xargs -P2 -I{} sh -c '
        o="$D/$(echo "{}" | tr / _).o"
        gcc -std=gnu11 -Wall -Wextra -Werror -O1 -ffreestanding -fno-builtin -nostdinc \
            -isystem "$GCC_INC" -mgeneral-regs-only -mno-red-zone -mno-sse -mno-mmx \
            -mno-80387 $FS -Iinclude -Ilib -Itask -Iclient -c "{}" -o "$o" 2>"$o.err" ||
            rm -f "$o"'
    check "task core" $idx '^(tp_[a-z_]+|_GLOBAL_OFFSET_TABLE_|memcpy|memset|memmove|memcmp)$' \
        "$fs" $core $lib
    check "libtaskvisor" $idx '^(memcpy|memset|memmove|memcmp)$' "$fs" $client $lib
done
echo "1..$n"
exit $fail
