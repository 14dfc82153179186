#!/usr/bin/env bash
# make test: a subset of the integration scenarios on Bochs with AMD SVM +
# NPT (ryzen), booted through GRUB and Multiboot2 (TAP).  SVM is covered in
# full by QEMU (UEFI); this run proves the Multiboot2 path and a second SVM
# implementation.  BOCHS_SCENARIOS overrides the set.
cd "$(dirname "$0")/../../.." || exit 1
BOCHS_SCENARIOS=${BOCHS_SCENARIOS:-"boot_control isolation io_msr multiboot1 privilege libselftest fpu_state tasks tasks_cpu_bound monitor_exception"} \
    exec tests/integration/run-scenarios-bochs.sh --cpu ryzen "$@"
