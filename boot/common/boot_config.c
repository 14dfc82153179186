/* Parser for the boot configuration.  One pass over the lines; the first
 * problem stops it with the line number and a sentence saying what is wrong.
 *
 *   # comment            (also ';'; only whole-line comments)
 *   monitor   = \taskvisor\monitor.elf
 *   log_level = info
 *   options   = key=value ...
 *   [partition NAME]
 *   image   = guest.bin
 *   memory  = 64M
 *   initrd  = initramfs.cpio.gz   (optional: a module for a Linux kernel)
 *   cmdline = text passed to the guest
 *   control = yes
 *   autostart = no       (optional: default yes, started at boot)
 *   disk    = VOLUME:/path/disk.vhd   (optional, repeatable: a virtio-blk disk)
 */
#include "boot_config.h"

#include "tv_fmt.h"
#include "tv_string.h"

enum key_id {
    KEY_MONITOR, KEY_LOG_LEVEL, KEY_OPTIONS,           /* global */
    KEY_IMAGE, KEY_MEMORY, KEY_CMDLINE, KEY_CONTROL, KEY_INITRD, KEY_AUTOSTART, KEY_DISK, /* per partition */
    KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
    [KEY_MONITOR] = "monitor", [KEY_LOG_LEVEL] = "log_level", [KEY_OPTIONS] = "options",
    [KEY_IMAGE] = "image", [KEY_MEMORY] = "memory", [KEY_CMDLINE] = "cmdline",
    [KEY_CONTROL] = "control", [KEY_INITRD] = "initrd", [KEY_AUTOSTART] = "autostart",
    [KEY_DISK] = "disk",
};

struct parser {
    struct tv_boot_config *cfg;
    struct tv_config_error *err;
    uint32_t line;
    struct tv_config_partition *part;   /* current section, NULL before the first */
    uint32_t key_line[KEY_COUNT];       /* where each key of the current scope was set */
    uint32_t control_line;              /* header line of the control partition */
    uint64_t total_memory;
};

__attribute__((format(printf, 3, 4)))
static tv_status_t fail(struct parser *p, tv_status_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    p->err->line = p->line;
    return status;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Trims spaces and tabs at both ends, in place; returns the new start. */
static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = tv_strlen(s);
    while (n && is_space(s[n - 1]))
        s[--n] = 0;
    return s;
}

/* Closes the current partition section: its required keys must be there. */
static tv_status_t finish_partition(struct parser *p)
{
    struct tv_config_partition *part = p->part;
    if (!part)
        return TV_OK;
    uint32_t line = p->line;
    p->line = part->line;
    tv_status_t st = TV_OK;
    if (!p->key_line[KEY_IMAGE])
        st = fail(p, TV_E_NOT_FOUND, "partition '%s' has no 'image =' line", part->name);
    else if (!p->key_line[KEY_MEMORY])
        st = fail(p, TV_E_NOT_FOUND, "partition '%s' has no 'memory =' line", part->name);
    else if ((part->flags & TV_PART_CONTROL) && (part->flags & TV_PART_NO_AUTOSTART)) {
        p->line = p->key_line[KEY_AUTOSTART];
        st = fail(p, TV_E_INVALID_ARGUMENT,
                  "the control partition '%s' always starts at boot: 'autostart = no' is "
                  "not allowed for it", part->name);
    }
    p->line = line;
    return st;
}

static tv_status_t parse_section(struct parser *p, char *s)
{
    size_t n = tv_strlen(s);
    if (s[n - 1] != ']')
        return fail(p, TV_E_CORRUPT, "section header without closing ']'");
    s[n - 1] = 0;
    char *body = trim(s + 1);
    if (tv_strncmp(body, "partition", 9) != 0 || !(is_space(body[9]) || body[9] == 0))
        return fail(p, TV_E_CORRUPT, "unknown section '[%s]' (expected [partition NAME])", body);
    char *name = trim(body + 9);
    if (!*name)
        return fail(p, TV_E_CORRUPT, "[partition] needs a name: [partition NAME]");
    if (!tv_config_name_is_valid(name))
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "invalid partition name '%.40s' (1-%d characters of A-Z a-z 0-9 _ . -, "
                    "starting with a letter or digit)", name, TV_BOOT_NAME_LEN - 1);

    tv_status_t st = finish_partition(p);
    if (st != TV_OK)
        return st;
    struct tv_boot_config *cfg = p->cfg;
    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        if (tv_strcmp(cfg->partitions[i].name, name) == 0)
            return fail(p, TV_E_EXISTS, "partition name '%s' is already used at line %u",
                        name, (unsigned)cfg->partitions[i].line);
    }
    if (cfg->partition_count >= TV_BOOT_MAX_PARTITIONS)
        return fail(p, TV_E_LIMIT, "too many partitions (at most %d)", TV_BOOT_MAX_PARTITIONS);

    p->part = &cfg->partitions[cfg->partition_count++];
    tv_strlcpy(p->part->name, name, sizeof p->part->name);
    p->part->line = p->line;
    for (int k = KEY_IMAGE; k < KEY_COUNT; k++)
        p->key_line[k] = 0;
    return TV_OK;
}

static tv_status_t copy_text(struct parser *p, char *dst, size_t size,
                             const char *key, const char *value)
{
    size_t len = tv_strlen(value);
    if (len >= size)
        return fail(p, TV_E_LIMIT, "'%s' is too long (%zu bytes, at most %zu)",
                    key, len, size - 1);
    tv_strlcpy(dst, value, size);
    return TV_OK;
}

static tv_status_t copy_path(struct parser *p, char *dst, const char *key, const char *value)
{
    if (!tv_config_path_is_valid(value))
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "'%s' is not a valid path: '%.60s' (1-%d printable characters, "
                    "no empty, '.' or '..' components)", key, value, TV_BOOT_PATH_LEN - 1);
    tv_strlcpy(dst, value, TV_BOOT_PATH_LEN);
    return TV_OK;
}

static tv_status_t set_memory(struct parser *p, const char *value)
{
    uint64_t bytes;
    if (tv_config_parse_size(value, &bytes) != TV_OK)
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "'memory' must be a number with an optional K, M or G suffix, not '%.40s'",
                    value);
    if (bytes < TV_CONFIG_MIN_MEMORY || bytes > TV_CONFIG_MAX_MEMORY)
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "'memory = %.40s' is out of range (1M to 1024G)", value);
    if (bytes % 4096)
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "'memory = %.40s' is not a multiple of 4K", value);
    if (p->total_memory + bytes > TV_CONFIG_MAX_TOTAL)
        return fail(p, TV_E_LIMIT, "partitions ask for more than 4096G of memory in total");
    p->total_memory += bytes;
    p->part->memory_bytes = bytes;
    return TV_OK;
}

static tv_status_t set_control(struct parser *p, const char *value)
{
    int on;
    if (tv_config_parse_bool(value, &on) != TV_OK)
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "'control' must be yes or no, not '%.40s'", value);
    if (!on)
        return TV_OK;
    struct tv_boot_config *cfg = p->cfg;
    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        if (&cfg->partitions[i] != p->part && (cfg->partitions[i].flags & TV_PART_CONTROL))
            return fail(p, TV_E_EXISTS,
                        "only one partition may be the control partition: '%s' "
                        "(line %u) already is", cfg->partitions[i].name,
                        (unsigned)cfg->partitions[i].line);
    }
    p->part->flags |= TV_PART_CONTROL;
    return TV_OK;
}

/* "disk = VOLUME:/path": an image in the image store (the volume name and
 * the path are judged again when the VM starts, against the volumes that
 * exist then); up to TV_BOOT_MAX_DISKS per partition, in PCI slot order. */
static tv_status_t add_disk(struct parser *p, const char *value)
{
    struct tv_config_partition *part = p->part;
    const char *colon = value;
    while (*colon && *colon != ':')
        colon++;
    if (!*colon)
        colon = 0;
    if (part->disk_count >= TV_BOOT_MAX_DISKS)
        return fail(p, TV_E_LIMIT, "partition '%s' has more than %d 'disk =' lines", part->name,
                    TV_BOOT_MAX_DISKS);
    if (!colon || colon == value || colon[1] != '/' || !tv_config_path_is_valid(value))
        return fail(p, TV_E_INVALID_ARGUMENT,
                    "'disk' must be VOLUME:/path of an image in the image store, not '%.60s'",
                    value);
    struct tv_boot_disk *d = &part->disks[part->disk_count++];
    tv_strlcpy(d->path, value, sizeof d->path);
    d->mode = TV_DISK_MODE_NORMAL;
    d->line = p->line;
    return TV_OK;
}

static tv_status_t set_key(struct parser *p, enum key_id key, const char *value)
{
    struct tv_boot_config *cfg = p->cfg;
    int optional_value = key == KEY_OPTIONS || key == KEY_CMDLINE;
    if (!*value && !optional_value)
        return fail(p, TV_E_INVALID_ARGUMENT, "'%s' needs a value", key_names[key]);
    switch (key) {
    case KEY_MONITOR:
        cfg->monitor_line = p->line;
        return copy_path(p, cfg->monitor_path, "monitor", value);
    case KEY_LOG_LEVEL:
        if (tv_config_parse_log_level(value, &cfg->log_level) != TV_OK)
            return fail(p, TV_E_INVALID_ARGUMENT,
                        "'log_level' must be error, warn, info, debug or trace, not '%.40s'",
                        value);
        return TV_OK;
    case KEY_OPTIONS:
        return copy_text(p, cfg->options, sizeof cfg->options, "options", value);
    case KEY_IMAGE:
        p->part->image_line = p->line;
        return copy_path(p, p->part->image_path, "image", value);
    case KEY_MEMORY:
        return set_memory(p, value);
    case KEY_CMDLINE:
        return copy_text(p, p->part->cmdline, sizeof p->part->cmdline, "cmdline", value);
    case KEY_CONTROL:
        return set_control(p, value);
    case KEY_INITRD:
        p->part->initrd_line = p->line;
        return copy_path(p, p->part->initrd_path, "initrd", value);
    case KEY_AUTOSTART: {
        int on;
        if (tv_config_parse_bool(value, &on) != TV_OK)
            return fail(p, TV_E_INVALID_ARGUMENT,
                        "'autostart' must be yes or no, not '%.40s'", value);
        if (!on)
            p->part->flags |= TV_PART_NO_AUTOSTART;
        return TV_OK;
    }
    case KEY_DISK:
        return add_disk(p, value);
    case KEY_COUNT:
        break;
    }
    return fail(p, TV_E_CORRUPT, "internal: unhandled key");
}

static tv_status_t parse_assignment(struct parser *p, char *s)
{
    size_t klen = 0;
    while (is_key_char(s[klen]))
        klen++;
    char *rest = s + klen;
    while (is_space(*rest))
        rest++;
    if (klen == 0 || *rest != '=')
        return fail(p, TV_E_CORRUPT,
                    "expected 'key = value', '[partition NAME]' or a # comment, got '%.40s'", s);
    s[klen] = 0;
    char *value = trim(rest + 1);

    int first = p->part ? KEY_IMAGE : KEY_MONITOR;
    int last = p->part ? KEY_COUNT : KEY_IMAGE;
    for (int k = first; k < last; k++) {
        if (tv_strcmp(s, key_names[k]) != 0)
            continue;
        if (p->key_line[k] && k != KEY_DISK)
            return fail(p, TV_E_EXISTS, "'%s' is given twice (first at line %u)",
                        s, (unsigned)p->key_line[k]);
        p->key_line[k] = p->line;
        return set_key(p, (enum key_id)k, value);
    }
    for (int k = 0; k < KEY_COUNT; k++) {
        if (tv_strcmp(s, key_names[k]) != 0)
            continue;
        if (p->part)
            return fail(p, TV_E_CORRUPT,
                        "'%s' is a global key: put it before the first [partition] section", s);
        return fail(p, TV_E_CORRUPT,
                    "'%s' belongs inside a [partition NAME] section", s);
    }
    if (p->part)
        return fail(p, TV_E_CORRUPT,
                    "unknown key '%.40s' in partition '%s' (expected image, memory, cmdline, "
                    "control, initrd, autostart or disk)", s, p->part->name);
    return fail(p, TV_E_CORRUPT,
                "unknown key '%.40s' (expected monitor, log_level or options)", s);
}

/* Checks the raw bytes of one line: no NUL, no control characters but tab,
 * and ASCII only outside comments. */
static tv_status_t check_bytes(struct parser *p, const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && is_space(line[i]))
        i++;
    int comment = i < len && (line[i] == '#' || line[i] == ';');
    for (size_t j = 0; j < len; j++) {
        unsigned char c = (unsigned char)line[j];
        if (c == 0)
            return fail(p, TV_E_CORRUPT, "NUL byte at column %zu (is this a text file?)", j + 1);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(p, TV_E_CORRUPT, "control character 0x%02x at column %zu", c, j + 1);
        if (c >= 0x80 && !comment)
            return fail(p, TV_E_CORRUPT, "non-ASCII byte 0x%02x at column %zu", c, j + 1);
    }
    return TV_OK;
}

static tv_status_t parse_line(struct parser *p, const char *raw, size_t len)
{
    if (len && raw[len - 1] == '\r')
        len--;
    if (len > TV_CONFIG_MAX_LINE)
        return fail(p, TV_E_LIMIT, "line is too long (%zu bytes, at most %u)",
                    len, TV_CONFIG_MAX_LINE);
    tv_status_t st = check_bytes(p, raw, len);
    if (st != TV_OK)
        return st;
    char buf[TV_CONFIG_MAX_LINE + 1];
    tv_memcpy(buf, raw, len);
    buf[len] = 0;
    char *s = trim(buf);
    if (*s == 0 || *s == '#' || *s == ';')
        return TV_OK;
    if (*s == '[')
        return parse_section(p, s);
    return parse_assignment(p, s);
}

tv_status_t tv_boot_config_parse(const char *text, size_t len,
                                 struct tv_boot_config *out,
                                 struct tv_config_error *err)
{
    struct parser p;
    tv_memset(&p, 0, sizeof p);
    tv_memset(out, 0, sizeof *out);
    tv_memset(err, 0, sizeof *err);
    p.cfg = out;
    p.err = err;
    out->log_level = TV_LOG_INFO;

    if (len > TV_CONFIG_MAX_BYTES)
        return fail(&p, TV_E_LIMIT, "file is too large (%zu bytes, at most %u)",
                    len, TV_CONFIG_MAX_BYTES);
    size_t pos = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
        (unsigned char)text[2] == 0xbf)
        pos = 3; /* UTF-8 byte order mark */
    while (pos < len) {
        p.line++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        tv_status_t st = parse_line(&p, text + pos, end - pos);
        if (st != TV_OK)
            return st;
        pos = end + 1;
    }
    p.line++;
    tv_status_t st = finish_partition(&p);
    if (st != TV_OK)
        return st;
    p.line = 0;
    if (!out->monitor_line)
        return fail(&p, TV_E_NOT_FOUND,
                    "no 'monitor =' line: the path of the monitor image is required");
    if (out->partition_count == 0)
        return fail(&p, TV_E_NOT_FOUND,
                    "no [partition NAME] section: at least one partition is required");
    return TV_OK;
}

void tv_boot_config_format_error(char *buf, size_t size, const char *file,
                                 const struct tv_config_error *err)
{
    if (err->line)
        tv_snprintf(buf, size, "%s:%u: %s", file, (unsigned)err->line, err->message);
    else
        tv_snprintf(buf, size, "%s: %s", file, err->message);
}
