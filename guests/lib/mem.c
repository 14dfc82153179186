/* The four functions a freestanding compiler may emit calls to. */
#include "guest.h"
#include "tv_string.h"

void *memcpy(void *d, const void *s, size_t n) { return tv_memcpy(d, s, n); }
void *memmove(void *d, const void *s, size_t n) { return tv_memmove(d, s, n); }
void *memset(void *d, int c, size_t n) { return tv_memset(d, c, n); }
int memcmp(const void *a, const void *b, size_t n) { return tv_memcmp(a, b, n); }
