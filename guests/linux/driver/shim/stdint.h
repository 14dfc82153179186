/* Kernel build only: the ABI headers include <stdint.h>; the kernel's own
 * types provide the same names (uint32_t, int32_t, uintptr_t, ...). */
#include <linux/types.h>
#include <linux/limits.h>
#ifndef UINT64_MAX
#define UINT64_MAX U64_MAX
#endif
