/* Entropy sources, best first:
 *  - RDSEED (CPUID.(EAX=07H,ECX=0):EBX bit 18): conditioned output of the
 *    hardware entropy source (Intel SDM vol. 1, 7.3.17.2; AMD APM vol. 3);
 *  - RDRAND (CPUID.01H:ECX bit 30): the DRBG seeded from it.
 * Both may fail transiently (CF = 0) when the source is drained; the
 * retries are bounded: 10 for RDRAND (Intel's DRNG software
 * implementation guide: a failure after 10 retries means a broken DRNG),
 * 100 with PAUSE for RDSEED, after which that word falls back to RDRAND.
 * A CPU without both (old hardware, Bochs' default models) gets the
 * fallback: each output word hashes a pool that absorbed the wall clock at
 * boot and, per word, 16 TSC readings taken around tiny busy loops (their
 * low bits wobble with cache, interrupt and emulator timing).  That is not
 * cryptographic randomness; it is enough for what the monitor uses it for,
 * ids that must differ between disks (VHD unique ids), and is logged. */
#include "kernel/entropy.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/wallclock.h"

static bool have_rdseed, have_rdrand, checked;
static uint64_t pool[4];
static spinlock_t pool_lock = SPINLOCK_INIT;

static bool rdrand64(uint64_t *v)
{
    for (unsigned i = 0; i < 10; i++) {
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
        if (ok)
            return true;
    }
    return false;
}

static bool rdseed64(uint64_t *v)
{
    for (unsigned i = 0; i < 100; i++) {
        uint8_t ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
        if (ok)
            return true;
        cpu_pause();
    }
    return false;
}

/* SplitMix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void absorb(uint64_t x)
{
    pool[0] = mix64(pool[0] ^ x) + pool[3];
    pool[1] = mix64(pool[1] + pool[0]);
    pool[2] ^= mix64(pool[1] ^ 0x9e3779b97f4a7c15ull);
    pool[3] = mix64(pool[3] + pool[2] + x);
}

static uint64_t jitter_word(void)
{
    bool irq = spin_lock_irqsave(&pool_lock);
    for (unsigned i = 0; i < 16; i++) {
        uint64_t t = rdtsc();
        for (volatile unsigned k = 0; k < (t & 15); k++)
            ;
        absorb(rdtsc() ^ (t << 32));
    }
    uint64_t out = mix64(pool[0] ^ pool[2]) ^ pool[3];
    absorb(out);   /* never hand out the same state twice */
    spin_unlock_irqrestore(&pool_lock, irq);
    return out;
}

void entropy_init(void)
{
    struct cpuid_regs l0 = cpuid(0, 0);
    have_rdrand = (cpuid(1, 0).ecx >> 30) & 1;
    have_rdseed = l0.eax >= 7 && ((cpuid(7, 0).ebx >> 18) & 1);
    absorb(wallclock_unix_ns());
    absorb(rdtsc());
    checked = true;
    log_info("entropy: %s", entropy_source());
}

const char *entropy_source(void)
{
    return have_rdseed ? "rdseed" : have_rdrand ? "rdrand" : "tsc-jitter (no RDSEED/RDRAND)";
}

static uint64_t word(void)
{
    uint64_t v;
    if (have_rdseed && rdseed64(&v))
        return v;
    if (have_rdrand && rdrand64(&v))
        return v;
    return jitter_word();
}

void entropy_fill(void *buf, size_t len)
{
    if (!checked)
        entropy_init();
    uint8_t *p = buf;
    while (len) {
        uint64_t v = word();
        for (unsigned i = 0; i < 8 && len; i++, len--) {
            *p++ = (uint8_t)v;
            v >>= 8;
        }
    }
}
