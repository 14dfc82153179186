/* Fault hooks for test builds (TV_TEST_BUILD) only: they let integration
 * scenarios drive failure paths no emulator produces on its own.  In a
 * normal build test_hooks_start does nothing. */
#ifndef VMM_TEST_HOOKS_H
#define VMM_TEST_HOOKS_H

void test_hooks_start(const char *options);

#endif
