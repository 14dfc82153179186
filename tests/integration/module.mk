# tests/integration/: the monitor booted in QEMU (SVM, UEFI) with test guests.
TEST_SCRIPTS += tests/integration/run-scenarios.sh
# The judge both scenario runners use, on synthetic logs (hosted, fast).
TEST_SCRIPTS += tests/integration/test_judge.sh
TEST_SCRIPTS += tests/integration/default_run.sh
# QEMU killed in the middle of a merge, a compact and a convert; the recovery at the next mount.
TEST_SCRIPTS += tests/integration/powercut_disk.sh
