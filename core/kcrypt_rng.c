/*
 * kcrypt_rng: libsodium's random bytes from the kernel's getrandom(2), fetched 4 KiB at a
 * time. libsodium 1.0.18 makes one getrandom call per randombytes_buf (its "internal"
 * generator adds a getpid call instead); kith draws 6-8 small values per message (nonces,
 * message ids), and a system call costs a few microseconds on the virtual machines kith
 * is measured on: ~9 % of the sender's CPU in a burst.
 *
 * The bytes are the kernel's, unchanged. The pool sits in one page-aligned, locked page,
 * kept out of core dumps; each value handed out is wiped from it at once, so the pool only
 * ever holds bytes no one has used. A forked child starts with an empty pool (pthread_atfork),
 * so parent and child never share a value. Thread-safe: libzmq's I/O thread draws CURVE
 * nonces from the same generator.
 */
#include "core/kcrypt.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>

#define RNG_POOL 4096

static struct {
    pthread_mutex_t mu;
    size_t left; /* unused bytes at the end of pool */
    bool locked; /* sodium_mlock tried */
    _Alignas(RNG_POOL) uint8_t pool[RNG_POOL];
} rng = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* getrandom until n bytes are in; the kernel's generator is always seeded once it returns. */
static void
rng_kernel(uint8_t *out, size_t n)
{
    while (n > 0) {
        ssize_t got = getrandom(out, n, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            abort(); /* no randomness: nothing may be sealed */
        }
        out += got;
        n -= (size_t)got;
    }
}

static void
rng_buf(void *const buf, const size_t size)
{
    uint8_t *out = buf;

    if (size > RNG_POOL / 8) {
        rng_kernel(out, size); /* keys in bulk: straight from the kernel */
        return;
    }
    pthread_mutex_lock(&rng.mu);
    if (!rng.locked) {
        (void)sodium_mlock(rng.pool, sizeof rng.pool); /* best effort, as for every secret */
        rng.locked = true;
    }
    if (rng.left < size) {
        rng_kernel(rng.pool, RNG_POOL);
        rng.left = RNG_POOL;
    }
    memcpy(out, rng.pool + RNG_POOL - rng.left, size);
    sodium_memzero(rng.pool + RNG_POOL - rng.left, size);
    rng.left -= size;
    pthread_mutex_unlock(&rng.mu);
}

static uint32_t
rng_random(void)
{
    uint32_t v;

    rng_buf(&v, sizeof v);
    return v;
}

static void
rng_stir(void)
{
    pthread_mutex_lock(&rng.mu);
    sodium_memzero(rng.pool, sizeof rng.pool);
    rng.left = 0;
    pthread_mutex_unlock(&rng.mu);
}

static int
rng_close(void)
{
    rng_stir();
    return 0;
}

static const char *
rng_name(void)
{
    return "kith-getrandom-pool";
}

static void
rng_prepare(void)
{
    pthread_mutex_lock(&rng.mu);
}

static void
rng_parent(void)
{
    pthread_mutex_unlock(&rng.mu);
}

static void
rng_child(void)
{
    sodium_memzero(rng.pool, sizeof rng.pool); /* the parent's bytes are the parent's */
    rng.left = 0;
    pthread_mutex_unlock(&rng.mu);
}

static randombytes_implementation rng_impl = {
    .implementation_name = rng_name,
    .random = rng_random,
    .stir = rng_stir,
    .uniform = NULL, /* libsodium's, over rng_random */
    .buf = rng_buf,
    .close = rng_close,
};

int
kcrypt_rng_install(void)
{
    if (pthread_atfork(rng_prepare, rng_parent, rng_child) != 0 ||
        randombytes_set_implementation(&rng_impl) != 0) {
        return KITH_ESYS;
    }
    return KITH_OK;
}

size_t
kcrypt_rng_pooled(void)
{
    size_t left;

    pthread_mutex_lock(&rng.mu);
    left = rng.left;
    pthread_mutex_unlock(&rng.mu);
    return left;
}
