/* Kernel build only: bool, true and false from the kernel. */
#include <linux/types.h>
