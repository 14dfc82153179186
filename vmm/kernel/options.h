/* Monitor options: the "options" line of the boot config, key=value pairs. */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Finds key in a "k=v k2=v2" line; copies the value.  False when absent. */
bool option_get(const char *line, const char *key, char *value, size_t size);
/* Numeric value (decimal or 0x hex); def when absent or malformed. */
uint64_t option_get_u64(const char *line, const char *key, uint64_t def);
/* Parses a whole number; false on garbage or overflow. */
bool parse_u64(const char *s, uint64_t *out);

#endif
