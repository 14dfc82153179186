/* Test builds: the 1,000-cycle start/turn-off memory test (vm_cycles.NAME=N). */
#ifndef TESTING_VM_CYCLES_H
#define TESTING_VM_CYCLES_H

void vm_cycles_start(const char *options);

#endif
