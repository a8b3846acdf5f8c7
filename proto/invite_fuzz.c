/*
 * invite fuzz target: the input both as a text code (NUL-terminated) and as
 * a raw binary record, which is given a correct checksum and wrapped as
 * "kith1-" + base32 so the fuzzer gets past the checksum to the version,
 * expiry, signature and grammar checks. Invariant: a clean error, or a
 * decoded invite that our own identity signed re-encodes to the same code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/identity.h"
#include "core/kcrypt.h"
#include "proto/invite.h"

#define INVITE_FUZZ_NOW        1700000000u
#define INVITE_FUZZ_RECORD_MAX 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct identity *fuzz_identity;

#ifdef KITH_FUZZING
/* Deterministic RNG (fuzzing builds only) so the fuzzer's identity is the one
 * the committed seeds were signed with, and runs are reproducible. */
static uint64_t fuzz_rng_state = 0x6b697468fa11ed01ull;

static const char *
fuzz_rng_name(void)
{
    return "kith-fuzz";
}

static uint32_t
fuzz_rng_random(void)
{
    fuzz_rng_state ^= fuzz_rng_state >> 12;
    fuzz_rng_state ^= fuzz_rng_state << 25;
    fuzz_rng_state ^= fuzz_rng_state >> 27;
    return (uint32_t)((fuzz_rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void
fuzz_rng_buf(void *buf, size_t n)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)fuzz_rng_random();
    }
}

static struct randombytes_implementation fuzz_rng = {
    .implementation_name = fuzz_rng_name,
    .random = fuzz_rng_random,
    .buf = fuzz_rng_buf,
};
#endif

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
#ifdef KITH_FUZZING
    randombytes_set_implementation(&fuzz_rng);
#endif
    if (sodium_init() < 0) {
        abort();
    }
    fuzz_identity = identity_generate(INVITE_FUZZ_NOW);
    return 0;
}

static void
invite_fuzz_text(const char *code)
{
    struct invite inv;
    char again[INVITE_CODE_MAX];
    const char *start = code;
    size_t len;

    if (invite_decode(code, INVITE_FUZZ_NOW, &inv) != KITH_OK) {
        return;
    }
    if (memcmp(inv.from.ik, identity_public(fuzz_identity)->ik, 32) != 0) {
        return; /* signed by a key we do not hold: cannot re-sign */
    }
    if (invite_encode(&inv, fuzz_identity, again, sizeof again) != KITH_OK) {
        abort();
    }
    /* The same code up to surrounding whitespace and base32 letter case. */
    while (*start == ' ' || (*start >= '\t' && *start <= '\r')) {
        start++;
    }
    len = strlen(again);
    if (strncasecmp(start, again, len) != 0 || strncmp(start, again, 6) != 0) {
        abort();
    }
    sodium_memzero(&inv, sizeof inv);
}

static const char invite_fuzz_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
invite_fuzz_record(const uint8_t *data, size_t size)
{
    uint8_t rec[INVITE_FUZZ_RECORD_MAX];
    char code[INVITE_CODE_MAX];
    uint8_t sum[32];
    size_t pos = 6;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (size < 4 || size > sizeof rec || 6 + (size * 8 + 4) / 5 + 1 > sizeof code) {
        return;
    }
    memcpy(rec, data, size);
    kcrypt_hash(sum, sizeof sum, "kith-v1/invite-sum", rec, size - 4, NULL, 0);
    memcpy(rec + size - 4, sum, 4);
    memcpy(code, INVITE_PREFIX, 6);
    for (size_t i = 0; i < size; i++) {
        acc = (acc << 8 | rec[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            code[pos++] = invite_fuzz_b32[(acc >> bits) & 31];
        }
    }
    if (bits > 0) {
        code[pos++] = invite_fuzz_b32[(acc << (5 - bits)) & 31];
    }
    code[pos] = '\0';
    invite_fuzz_text(code);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[INVITE_CODE_MAX + 64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;

    memcpy(text, data, n);
    text[n] = '\0';
    invite_fuzz_text(text);
    invite_fuzz_record(data, size);
    return 0;
}
