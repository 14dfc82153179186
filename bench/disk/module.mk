BENCH_SCRIPTS += bench/disk/run-disk-bench.sh
