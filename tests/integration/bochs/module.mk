# Bochs runs (Intel VMX + EPT on corei7_skylake_x, AMD SVM + NPT on ryzen),
# booted through GRUB and the Multiboot2 loader (boot/multiboot2/).
# Scenario runner: tests/integration/run-scenarios-bochs.sh.
TEST_SCRIPTS  += tests/integration/bochs/scenarios-vmx.sh tests/integration/bochs/scenarios-svm.sh
BENCH_SCRIPTS += tests/integration/bochs/bench-bochs.sh
