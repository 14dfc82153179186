/* Test builds only: the raw sequential throughput of a block device, the
 * yardstick of the disk bench (bench/disk/run-disk-bench.sh); see
 * blk_bench.c. */
#ifndef VMM_TESTING_BLK_BENCH_H
#define VMM_TESTING_BLK_BENCH_H

/* With blk_bench_mib=N (and blk_bench_lba=L): measures the first writable
 * block device that has N MiB from sector L and logs BENCH lines.  Called on the image
 * store's thread before it mounts anything, so nothing else uses the disk
 * meanwhile. */
void blk_bench_run(const char *options);

#endif
