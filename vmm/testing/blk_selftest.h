/* The block self-test (test builds only): with option blk_selftest=N, a
 * kernel thread exercises every block device whose sector 0 carries the
 * test signature the integration runner writes (tests/integration/mkdisk.py)
 * and feeds PASS/FAIL checks into the scenario's TASKVISOR SUMMARY.  Fewer
 * than N such devices is a failure.  blk_selftest_fault=no_doorbell adds the
 * timeout check: a request the device is never told about must fail with
 * TV_E_TIMEOUT within the bound (blk_timeout_ms). */
#ifndef TESTING_BLK_SELFTEST_H
#define TESTING_BLK_SELFTEST_H

void blk_selftest_start(const char *options);

#endif
