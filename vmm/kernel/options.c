#include "kernel/options.h"
#include "tv_string.h"
#include "tv_fmt.h"

bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = (unsigned)(*s - 'A' + 10);
        else return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

bool option_get(const char *line, const char *key, char *value, size_t size)
{
    size_t klen = tv_strlen(key);
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tlen = (size_t)(p - tok);
        if (tlen > klen && tok[klen] == '=' && tv_strncmp(tok, key, klen) == 0) {
            size_t vlen = tlen - klen - 1;
            if (size == 0)
                return true;
            if (vlen >= size)
                vlen = size - 1;
            tv_memcpy(value, tok + klen + 1, vlen);
            value[vlen] = 0;
            return true;
        }
        if (tlen == klen && tv_strncmp(tok, key, klen) == 0) {
            if (size)
                tv_strlcpy(value, "1", size);
            return true;
        }
    }
    return false;
}

uint64_t option_get_u64(const char *line, const char *key, uint64_t def)
{
    char buf[32];
    uint64_t v;
    if (!option_get(line, key, buf, sizeof buf) || !parse_u64(buf, &v))
        return def;
    return v;
}

/* The monitor's options, each with the values it accepts.  A bad value
 * refuses the boot (TASKVISOR REFUSED) rather than being replaced by a
 * default: a typo must not run a different configuration. */
const struct option_spec monitor_options[] = {
    { "debug_exit", OPT_NUMBER, 0, 0xffff, 0 },             /* 0: no exit port */
    { "sched_tick_us", OPT_NUMBER, 100, 1000000, 0 },
    { "task_share", OPT_NUMBER, 1, 99, 0 },
    { "console", OPT_WORD, 0, 0, "raw" },
    { "store_polled", OPT_WORD, 0, 0, "yes|no" },  /* services/image_store.c */
    { "task_workers", OPT_NUMBER, 1, 16, 0 },
    { "task_max_running", OPT_NUMBER, 1, 64, 0 },
    { "task_max", OPT_NUMBER, 1, 65536, 0 },
    { "task_retention_s", OPT_NUMBER, 1, 31536000, 0 },
    { "task_wait_slice_us", OPT_NUMBER, 1, 1000000, 0 },
    { "blk_timeout_ms", OPT_NUMBER, 10, 600000, 0 },      /* per block request */
    { "agent_timeout_ms", OPT_NUMBER, 10, 600000, 0 },    /* guest agent's answer (docs/agent.md) */
    /* Where VM_SAVE writes a VM's state (docs/savestate.md): save.NAME is
     * the file of VM NAME, save_dir a folder for NAME.vsv of every VM. */
    { "save.", OPT_PATH, 0, 0, 0 },
    { "save_dir", OPT_PATH, 0, 0, 0 },
#ifdef TV_TEST_BUILD
    /* The scenario verdict (vmm/testing/verdict.c): test builds only. */
    { "expect.", OPT_EXPECT, 0, 0xffffffffull, "triple_fault|bad_access|entry_failed|running|exception_loop|off" },
    /* vm_cycles.NAME=N: N Startup/TurnOff cycles of VM NAME, memory checked */
    { "vm_cycles.", OPT_NUMBER, 1, 100000, 0 },
    { "assert_vcpu_wait_us", OPT_NUMBER, 0, 3600000000ull, 0 },
    { "crash_test", OPT_WORD, 0, 0, "pf|ud" },
    { "blk_selftest", OPT_NUMBER, 1, 16, 0 },        /* block devices expected */
    { "blk_selftest_fault", OPT_WORD, 0, 0, "no_doorbell|device_error" },
    { "disk_memvol", OPT_NUMBER, 0, 1, 0 },         /* the TESTMEM volume (testing/disk_memvol.c) */
    { "timer_stall_test", OPT_WORD, 0, 0, "yes|tpr" },  /* testing/test_hooks.c */
    { "save_test_corrupt", OPT_NUMBER, 1, 1000, 0 }, /* vm/vm_save.c: damage the Nth saved state */
    { "blk_bench_mib", OPT_NUMBER, 1, 4096, 0 },    /* raw throughput (testing/blk_bench.c) */
    { "blk_bench_lba", OPT_NUMBER, 0, 0xffffffffffffull, 0 },
#endif
};
const unsigned monitor_option_count = sizeof monitor_options / sizeof monitor_options[0];

static bool word_in(const char *value, size_t vlen, const char *words)
{
    while (words && *words) {
        const char *end = words;
        while (*end && *end != '|')
            end++;
        if ((size_t)(end - words) == vlen && tv_strncmp(words, value, vlen) == 0)
            return true;
        words = *end ? end + 1 : end;
    }
    return false;
}

static const struct option_spec *find_spec(const char *key, size_t klen,
                                           const struct option_spec *specs, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        size_t sl = tv_strlen(specs[i].key);
        if (sl && specs[i].key[sl - 1] == '.') {
            if (klen > sl && tv_strncmp(key, specs[i].key, sl) == 0)
                return &specs[i];
        } else if (sl == klen && tv_strncmp(key, specs[i].key, klen) == 0) {
            return &specs[i];
        }
    }
    return 0;
}

static bool check_number(const char *val, const struct option_spec *s, char *why, size_t len,
                         const char *word)
{
    uint64_t v;
    if (!parse_u64(val, &v)) {
        tv_snprintf(why, len, "option %s: not a number (decimal or 0x hex)", word);
        return false;
    }
    if (v < s->min || v > s->max) {
        tv_snprintf(why, len, "option %s: out of range %llu..%llu", word,
                    (unsigned long long)s->min, (unsigned long long)s->max);
        return false;
    }
    return true;
}

bool options_check(const char *line, const struct option_spec *specs, unsigned count,
                   char *why, size_t why_len)
{
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tlen = (size_t)(p - tok);
        char word[96];
        tv_strlcpy(word, tok, tlen + 1 < sizeof word ? tlen + 1 : sizeof word);
        size_t klen = 0;
        while (klen < tlen && tok[klen] != '=')
            klen++;
        const struct option_spec *s = find_spec(tok, klen, specs, count);
        if (!s) {
            tv_snprintf(why, why_len, "unknown option '%s'", word);
            return false;
        }
        if (klen == tlen || klen + 1 == tlen) {
            tv_snprintf(why, why_len, "option '%s' has no value (key=value)", word);
            return false;
        }
        /* A key given twice would leave one of the two unused. */
        for (const char *q = p; *q;) {
            while (*q == ' ' || *q == '\t')
                q++;
            const char *t2 = q;
            while (*q && *q != ' ' && *q != '\t')
                q++;
            if ((size_t)(q - t2) > klen && t2[klen] == '=' && tv_strncmp(t2, tok, klen) == 0) {
                char key[64];
                tv_strlcpy(key, tok, klen + 1 < sizeof key ? klen + 1 : sizeof key);
                tv_snprintf(why, why_len, "option '%s' given twice", key);
                return false;
            }
        }
        char val[64];
        size_t vlen = tlen - klen - 1;
        if (vlen >= sizeof val) {
            tv_snprintf(why, why_len, "option %s: value too long", word);
            return false;
        }
        tv_memcpy(val, tok + klen + 1, vlen);
        val[vlen] = 0;
        bool ok = true;
        switch (s->kind) {
        case OPT_NUMBER:
            ok = check_number(val, s, why, why_len, word);
            break;
        case OPT_WORD:
            if (!word_in(val, vlen, s->words)) {
                tv_snprintf(why, why_len, "option %s: expected one of %s", word, s->words);
                ok = false;
            }
            break;
        case OPT_PATH: {
            const char *colon = 0;
            for (size_t i = 0; i < vlen && !colon; i++)
                if (val[i] == ':')
                    colon = val + i;
            if (!colon || colon == val || colon[1] != '/') {
                tv_snprintf(why, why_len, "option %s: expected VOLUME:/path", word);
                ok = false;
            }
            break;
        }
        case OPT_EXPECT:
            if (vlen > 5 && tv_strncmp(val, "exit:", 5) == 0)
                ok = check_number(val + 5, s, why, why_len, word);
            else if (!word_in(val, vlen, s->words)) {
                tv_snprintf(why, why_len, "option %s: expected exit:N or one of %s", word, s->words);
                ok = false;
            }
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}
