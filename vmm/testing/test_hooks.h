/* Fault hooks for test builds (TV_TEST_BUILD) only: they let integration
 * scenarios drive failure paths no emulator produces on its own.  Compiled only
 * into the test build (vmm/testing/ is not part of monitor.elf). */
#ifndef VMM_TEST_HOOKS_H
#define VMM_TEST_HOOKS_H

void test_hooks_start(const char *options);

#endif
