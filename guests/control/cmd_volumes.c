/* Image store commands of the control console, through libtaskvisor:
 * `volumes`, `ls VOLUME:/path`, `disk info VOLUME:/path.vhd`, `mkdir
 * VOLUME:/path`.  A path is
 * the rest of the line (words joined by single spaces), so names with
 * spaces can be typed. */
#include "console.h"
#include "guest.h"
#include "guest_transport.h"
#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"

static struct tv_client client;

static bool ready(void)
{
    return console_client(&client, "client");
}

static int fail(const char *what, tv_status_t st)
{
    guest_printf("%s: %s (%s)\n", what, tv_status_name(st), tv_status_text(st));
    return 1;
}

/* argv[from..argc) joined by single spaces; false when empty or too long. */
static bool join_path(int argc, char **argv, int from, char *out, size_t cap)
{
    size_t n = 0;
    for (int i = from; i < argc; i++) {
        size_t l = tv_strlen(argv[i]);
        if (n + l + (i > from) + 1 > cap)
            return false;
        if (i > from)
            out[n++] = ' ';
        tv_memcpy(out + n, argv[i], l);
        n += l;
    }
    out[n] = 0;
    return n > 0;
}

static const char *fs_name(uint32_t t)
{
    return t == TV_FS_EXFAT ? "exFAT" : t == TV_FS_FAT32 ? "FAT32" : t == TV_FS_FAT16 ? "FAT16"
         : t == TV_FS_FAT12 ? "FAT12" : "?";
}

static struct tv_volume_info vols[32];

int cmd_volumes(int argc, char **argv)
{
    (void)argv;
    if (argc != 1 || !ready())
        return 1;
    size_t n = 0;
    uint32_t total = 0;
    tv_status_t st = tv_volume_list(&client, 0, vols, 32, &n, &total);
    if (st != TV_OK)
        return fail("volumes", st);
    for (size_t i = 0; i < n; i++) {
        const struct tv_volume_info *v = &vols[i];
        guest_printf("%s: %s, %llu bytes, %llu free, %s partition %u, label \"%s\"%s%s%s\n",
                     v->name, fs_name(v->fs_type), (unsigned long long)v->size_bytes,
                     (unsigned long long)v->free_bytes, v->device, v->partition, v->label,
                     (v->flags & TV_VOLUME_F_GPT) ? ", GPT" : "",
                     (v->flags & TV_VOLUME_F_ESP) ? ", ESP" : "",
                     (v->flags & TV_VOLUME_F_READ_ONLY) ? ", read-only" : "");
    }
    guest_printf("%u volume(s)\n", total);
    return 0;
}

/* Unix seconds to "YYYY-MM-DD hh:mm:ss" (UTC). */
static void format_time(int64_t t, char *out, size_t cap)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    /* Civil date from a day count (the era arithmetic of the proleptic
     * Gregorian calendar: 400-year eras of 146097 days). */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    tv_snprintf(out, cap, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", (long long)y,
                (long long)m, (long long)d, (long long)(secs / 3600),
                (long long)(secs / 60 % 60), (long long)(secs % 60));
}

static struct tv_dir_entry ents[8];
static char path[1024];

int cmd_ls(int argc, char **argv)
{
    if (!join_path(argc, argv, 1, path, sizeof path)) {
        guest_puts("usage: ls VOLUME:/PATH\n");
        return 1;
    }
    if (!ready())
        return 1;
    uint64_t cursor = 0, shown = 0;
    for (;;) {
        size_t n = 0;
        tv_status_t st = tv_dir_list(&client, path, cursor, ents, 8, &n);
        if (st != TV_OK)
            return fail("ls", st);
        for (size_t i = 0; i < n; i++) {
            char when[24] = "-";
            if (ents[i].flags & TV_DIR_F_TIME_VALID)
                format_time(ents[i].mtime, when, sizeof when);
            guest_printf("%c %12llu  %-19s  %s\n", (ents[i].flags & TV_DIR_F_DIR) ? 'd' : '-',
                         (unsigned long long)ents[i].size, when, ents[i].name);
        }
        shown += n;
        cursor += n;
        if (n < 8)
            break;
    }
    guest_printf("%llu entries\n", (unsigned long long)shown);
    return 0;
}

/* `mkdir PATH`: one folder, its parent must exist. */
int cmd_mkdir(int argc, char **argv)
{
    if (!join_path(argc, argv, 1, path, sizeof path)) {
        guest_puts("usage: mkdir VOLUME:/PATH\n");
        return 1;
    }
    if (!ready())
        return 1;
    tv_status_t st = tv_dir_create(&client, path);
    if (st != TV_OK)
        return fail("mkdir", st);
    guest_printf("made folder %s\n", path);
    return 0;
}

static const char *disk_type(uint32_t t)
{
    switch (t) {
    case TV_DISK_FIXED: return "fixed";
    case TV_DISK_DYNAMIC: return "dynamic";
    case TV_DISK_DIFFERENCING: return "differencing";
    case TV_DISK_RAW: return "raw";
    default: return "?";
    }
}

static struct tv_disk_info dinfo;

/* `disk info PATH`: argv[0] is "info" (a two-word command). */
int cmd_disk_info(int argc, char **argv)
{
    if (!join_path(argc, argv, 1, path, sizeof path)) {
        guest_puts("usage: disk info VOLUME:/PATH.vhd\n");
        return 1;
    }
    if (!ready())
        return 1;
    tv_status_t st = tv_disk_info(&client, path, &dinfo);
    if (st != TV_OK)
        return fail("disk info", st);
    const struct tv_disk_info *d = &dinfo;
    guest_printf("%s: %s, virtual size %llu bytes, file size %llu bytes\n", path,
                 disk_type(d->type), (unsigned long long)d->virtual_size,
                 (unsigned long long)d->file_size);
    if (d->block_size)
        guest_printf("  blocks of %u bytes: %u of %u allocated\n", d->block_size,
                     d->allocated_blocks, d->block_count);
    guest_printf("  unique id ");
    for (int i = 0; i < 16; i++)
        guest_printf("%02x", d->unique_id[i]);
    guest_printf("\n");
    for (uint32_t i = 0; i < d->depth && i < TV_DISK_MAX_PARENTS; i++)
        guest_printf("  parent %u: %s\n", i + 1, d->parents[i]);
    if (d->depth > TV_DISK_MAX_PARENTS)
        guest_printf("  ... %u parents in all\n", d->depth);
    if (d->flags & TV_DISK_F_PARENT_MISSING)
        guest_printf("  parent missing: the chain ends here\n");
    if (d->flags & TV_DISK_F_BAT_ALIASED)
        guest_printf("  warning: two blocks share file space\n");
    if (d->flags & TV_DISK_F_PARENT_SIZE)
        guest_printf("  warning: a parent's size differs from what its child recorded\n");
    return 0;
}
