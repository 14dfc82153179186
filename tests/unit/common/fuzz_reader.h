/* libFuzzer targets' input reader: the input as a stream of big-endian
 * values, zeros once it runs out (so every input decodes to something). */
#ifndef TESTS_FUZZ_READER_H
#define TESTS_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

struct reader {
    const uint8_t *p;
    size_t n;
};

/* The next `bytes` bytes (at most 8) as one value. */
static inline uint64_t take(struct reader *r, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) {
        v <<= 8;
        if (r->n) {
            v |= *r->p++;
            r->n--;
        }
    }
    return v;
}

#endif
