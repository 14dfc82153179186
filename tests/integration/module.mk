# tests/integration/: the monitor booted in QEMU (SVM, UEFI) with test guests.
TEST_SCRIPTS += tests/integration/run-scenarios.sh
