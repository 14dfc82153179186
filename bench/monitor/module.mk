BENCH_SCRIPTS += bench/monitor/run-bench.sh
