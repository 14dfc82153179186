# Shared by the bench scripts (sourced): figures from serial logs and the
# exit-cost check against bench/exit-bounds.tsv.
bench_failed=0

# bench_cycles LOG NAME: the guest's "BENCH NAME cycles=N" figure (last one).
bench_cycles() { grep -aoE "BENCH $2 cycles=[0-9]+" "$1" | tail -1 | sed 's/.*cycles=//'; }

# bench_bound PLATFORM FIGURE: the bound from the table (empty if none).
bench_bound() {
    awk -v p="$1" -v f="$2" '$1 == p && $2 == f { print $3 }' bench/exit-bounds.tsv
}

# bench_ratio PLATFORM FIGURE VALUE BARE UNIT: one line, the figure as a
# ratio to the bare round trip, checked against its bound; a miss is a FAIL
# line and makes bench_finish fail.
bench_ratio() {
    local plat=$1 fig=$2 val=$3 bare=$4 unit=$5 bound verdict r
    if [ -z "$val" ] || [ -z "$bare" ] || [ "$bare" -eq 0 ]; then
        echo "FAIL $plat $fig: no figure"; bench_failed=1; return
    fi
    r=$(awk -v a="$val" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')
    bound=$(bench_bound "$plat" "$fig")
    if [ -z "$bound" ]; then
        verdict="(no bound)"
    elif awk -v r="$r" -v b="$bound" 'BEGIN { exit !(r <= b) }'; then
        verdict="ok   (bound ${bound}x)"
    else
        verdict="FAIL (bound ${bound}x)"; bench_failed=1
    fi
    printf '%-24s %10s %-12s %8sx bare  %s\n' "$fig" "$val" "$unit" "$r" "$verdict"
}

bench_finish() {
    if [ "$bench_failed" -ne 0 ]; then
        echo "bench: FAIL (a figure missed its bound; see the FAIL lines above)"
        return 1
    fi
    echo "bench: all figures within their bounds"
}
