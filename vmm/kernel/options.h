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

/* What an option's value may be. */
enum option_kind {
    OPT_NUMBER,     /* decimal or 0x hex in [min, max] */
    OPT_WORD,       /* one of the '|'-separated words in `words` */
    OPT_EXPECT,     /* exit:N, or one of `words` */
    OPT_PATH,       /* VOLUME:/path (a ':' followed by '/') */
};

struct option_spec {
    const char *key;        /* ends in '.' for a family (expect.NAME) */
    enum option_kind kind;
    uint64_t min, max;
    const char *words;
};

/* Every option the monitor knows (docs/boot.md, "Monitor options"). */
extern const struct option_spec monitor_options[];
extern const unsigned monitor_option_count;

/* Checks every word of an options line against specs: unknown keys,
 * repeated keys, values that do not parse or lie out of range.  False on
 * the first bad word, with a line naming the option and its value in why. */
bool options_check(const char *line, const struct option_spec *specs, unsigned count,
                   char *why, size_t why_len);

#endif
