/* The compiler may emit calls to these for struct copies and initialisers
 * even in freestanding code; they forward to lib/. */
#include <stddef.h>
#include "tv_string.h"

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *d, const void *s, size_t n) { return tv_memcpy(d, s, n); }
void *memmove(void *d, const void *s, size_t n) { return tv_memmove(d, s, n); }
void *memset(void *d, int c, size_t n) { return tv_memset(d, c, n); }
int memcmp(const void *a, const void *b, size_t n) { return tv_memcmp(a, b, n); }
