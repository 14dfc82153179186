/* Kernel build only: size_t, NULL and offsetof from the kernel. */
#include <linux/stddef.h>
#include <linux/types.h>
