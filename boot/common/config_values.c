/* Parsers for the individual values of the boot configuration. */
#include "boot_config.h"

#include "tv_string.h"

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int equals_nocase(const char *a, const char *b)
{
    while (*a && *b) {
        if (lower(*a) != lower(*b))
            return 0;
        a++;
        b++;
    }
    return *a == *b;
}

tv_status_t tv_config_parse_size(const char *s, uint64_t *out)
{
    uint64_t value = 0;
    size_t i = 0;
    if (!s || s[0] < '0' || s[0] > '9')
        return TV_E_INVALID_ARGUMENT;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return TV_E_INVALID_ARGUMENT;
        value = value * 10 + digit;
    }
    unsigned shift = 0;
    switch (s[i]) {
    case 0:
        break;
    case 'k': case 'K': shift = 10; i++; break;
    case 'm': case 'M': shift = 20; i++; break;
    case 'g': case 'G': shift = 30; i++; break;
    default:
        return TV_E_INVALID_ARGUMENT;
    }
    if (s[i] != 0)
        return TV_E_INVALID_ARGUMENT;
    if (shift && value > (UINT64_MAX >> shift))
        return TV_E_INVALID_ARGUMENT;
    *out = value << shift;
    return TV_OK;
}

static const char *const level_names[] = {
    [TV_LOG_ERROR] = "error",
    [TV_LOG_WARN]  = "warn",
    [TV_LOG_INFO]  = "info",
    [TV_LOG_DEBUG] = "debug",
    [TV_LOG_TRACE] = "trace",
};

tv_status_t tv_config_parse_log_level(const char *s, uint32_t *out)
{
    for (uint32_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (equals_nocase(s, level_names[i])) {
            *out = i;
            return TV_OK;
        }
    }
    return TV_E_INVALID_ARGUMENT;
}

const char *tv_config_log_level_name(uint32_t level)
{
    if (level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "?";
}

tv_status_t tv_config_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (equals_nocase(s, yes[i])) {
            *out = 1;
            return TV_OK;
        }
        if (equals_nocase(s, no[i])) {
            *out = 0;
            return TV_OK;
        }
    }
    return TV_E_INVALID_ARGUMENT;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int tv_config_name_is_valid(const char *s)
{
    size_t len = tv_strnlen(s, TV_BOOT_NAME_LEN);
    if (len == 0 || len >= TV_BOOT_NAME_LEN || !is_alnum(s[0]))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    }
    return 1;
}

static int is_separator(char c)
{
    return c == '\\' || c == '/';
}

int tv_config_path_is_valid(const char *s)
{
    size_t len = tv_strnlen(s, TV_BOOT_PATH_LEN);
    if (len == 0 || len >= TV_BOOT_PATH_LEN)
        return 0;
    size_t start = is_separator(s[0]) ? 1 : 0;
    size_t component = start;
    for (size_t i = start; i <= len; i++) {
        char c = s[i];
        if (i < len && (c < 0x20 || c > 0x7e))
            return 0;
        if (i == len || is_separator(c)) {
            size_t clen = i - component;
            if (clen == 0)
                return 0; /* empty component: "a\\\\b", trailing separator */
            if (s[component] == '.' && (clen == 1 || (clen == 2 && s[component + 1] == '.')))
                return 0;
            component = i + 1;
        }
    }
    return 1;
}
