/*
 * session_fuzz: fuzzer bytes as message bodies (raw, or mutations of valid
 * ones) for a fixed responder session, and as serialised state for
 * session_parse. Invariants: a failed decrypt leaves the serialised state
 * byte-identical; a decrypt succeeds only for an unmodified valid body and
 * never twice; a parsed state serialises back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/session.h"

#define FUZZ_NOW     1700000000u
#define FUZZ_VALID   5
#define FUZZ_MSG_CAP 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef KITH_FUZZING
/* Deterministic RNG so every input replays identically (fuzz builds only). */
static uint64_t fuzz_rng_state;

static uint64_t
fuzz_rng_next(void)
{
    uint64_t z = (fuzz_rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *
fuzz_rng_name(void)
{
    return "kith-fuzz-splitmix";
}

static uint32_t
fuzz_rng_random(void)
{
    return (uint32_t)fuzz_rng_next();
}

static void
fuzz_rng_stir(void)
{
}

static uint32_t
fuzz_rng_uniform(const uint32_t upper)
{
    return upper < 2 ? 0 : fuzz_rng_random() % upper;
}

static void
fuzz_rng_buf(void *const buf, const size_t size)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < size; i++) {
        p[i] = (uint8_t)fuzz_rng_next();
    }
}

static int
fuzz_rng_close(void)
{
    return 0;
}

static struct randombytes_implementation fuzz_rng = {
    fuzz_rng_name, fuzz_rng_random, fuzz_rng_stir, fuzz_rng_uniform, fuzz_rng_buf, fuzz_rng_close,
};
#endif

struct fuzz_msg {
    uint8_t body[FUZZ_MSG_CAP + SESSION_MSG_OVERHEAD];
    size_t len;
};

static const uint8_t fuzz_ad[4] = { 'k', 'f', 'z', 1 };
static uint8_t *fuzz_state;
static size_t fuzz_state_len;
static struct fuzz_msg fuzz_valid[FUZZ_VALID];

static void
fuzz_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void
fuzz_send(struct session *from, struct fuzz_msg *m, size_t pt_len)
{
    uint8_t pt[FUZZ_MSG_CAP];

    memset(pt, 0x41, sizeof pt);
    fuzz_check(session_encrypt(from, fuzz_ad, sizeof fuzz_ad, pt, pt_len, m->body, sizeof m->body,
                               &m->len) == KITH_OK);
}

static void
fuzz_deliver(struct session *to, const struct fuzz_msg *m)
{
    uint8_t pt[FUZZ_MSG_CAP];
    size_t pt_len = 0;

    fuzz_check(session_decrypt(to, fuzz_ad, sizeof fuzz_ad, m->body, m->len, FUZZ_NOW, pt,
                               sizeof pt, &pt_len) == KITH_OK);
}

/* a and b talk; b's state (with three skipped keys) is what inputs attack. */
static void
fuzz_build(void)
{
    struct identity *a = identity_generate(FUZZ_NOW);
    struct identity *b = identity_generate(FUZZ_NOW);
    struct session *sa = NULL, *sb = NULL;
    struct identity_public peer;
    struct fuzz_msg m;
    uint8_t spk_sk[32], spk_pk[32], ek[32];

    randombytes_buf(spk_sk, sizeof spk_sk);
    crypto_scalarmult_base(spk_pk, spk_sk);
    fuzz_check(session_initiate(a, identity_public(b), spk_pk, 1, NULL, &sa) == KITH_OK);
    fuzz_check(session_respond(b, spk_sk, spk_pk, NULL, session_init_header(sa),
                               SESSION_INIT_HEADER_BYTES, &peer, ek, &sb) == KITH_OK);
    fuzz_send(sa, &m, 8);
    fuzz_deliver(sb, &m);
    fuzz_send(sb, &m, 8);
    fuzz_deliver(sa, &m);
    fuzz_send(sa, &fuzz_valid[0], 1); /* n = 0..2 held back: skipped keys */
    fuzz_send(sa, &fuzz_valid[1], 2);
    fuzz_send(sa, &fuzz_valid[2], 3);
    fuzz_send(sa, &m, 4);
    fuzz_deliver(sb, &m);
    fuzz_send(sa, &fuzz_valid[3], 5); /* the next in order */
    fuzz_send(sb, &m, 8);
    fuzz_deliver(sa, &m);
    fuzz_send(sa, &fuzz_valid[4], 6); /* needs b to take a DH ratchet step */
    session_serialize(sb, &fuzz_state, &fuzz_state_len);
    session_destroy(sa);
    session_destroy(sb);
    identity_destroy(a);
    identity_destroy(b);
    sodium_memzero(spk_sk, sizeof spk_sk);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
#ifdef KITH_FUZZING
    fuzz_rng_state = 0x6b697468;
    randombytes_set_implementation(&fuzz_rng);
#endif
    if (sodium_init() < 0) {
        abort();
    }
    fuzz_build();
    return 0;
}

static bool
fuzz_same(const struct session *s, const uint8_t *want, size_t want_len)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool same;

    session_serialize(s, &bytes, &len);
    same = len == want_len && memcmp(bytes, want, len) == 0;
    sodium_memzero(bytes, len);
    free(bytes);
    return same;
}

/* Decrypt body on a fresh copy of b. A failure must leave the state as it
 * was; a success must not repeat (the key is gone) and that repeat must
 * leave the state as the success left it. Returns whether it decrypted. */
static bool
fuzz_decrypt(const uint8_t *body, size_t len, uint64_t now_s)
{
    struct session *s = NULL;
    uint8_t pt[FUZZ_MSG_CAP];
    uint8_t *after = NULL;
    size_t after_len = 0;
    size_t pt_len = 0;
    int rc;

    fuzz_check(session_parse(fuzz_state, fuzz_state_len, &s) == KITH_OK);
    rc = session_decrypt(s, fuzz_ad, sizeof fuzz_ad, body, len, now_s, pt, sizeof pt, &pt_len);
    if (rc != KITH_OK) {
        fuzz_check(pt_len == 0 && fuzz_same(s, fuzz_state, fuzz_state_len));
        session_destroy(s);
        return false;
    }
    session_serialize(s, &after, &after_len);
    fuzz_check(session_decrypt(s, fuzz_ad, sizeof fuzz_ad, body, len, now_s, pt, sizeof pt,
                               &pt_len) != KITH_OK);
    fuzz_check(fuzz_same(s, after, after_len));
    sodium_memzero(after, after_len);
    free(after);
    session_destroy(s);
    return true;
}

/* Mode 2: a valid body, chosen by data[0], with (offset, xor) edits after it. */
static void
fuzz_mutate(const uint8_t *data, size_t size, uint64_t now_s)
{
    const struct fuzz_msg *orig;
    struct fuzz_msg m;
    bool changed;

    if (size < 1) {
        return;
    }
    orig = &fuzz_valid[data[0] % FUZZ_VALID];
    m = *orig;
    for (size_t i = 1; i + 2 < size; i += 3) {
        size_t at = ((size_t)data[i] << 8 | data[i + 1]) % (m.len + 1);

        if (at == m.len) {
            m.len = (size_t)data[i + 2] % (orig->len + 1); /* truncate */
            continue;
        }
        m.body[at] ^= data[i + 2];
    }
    changed = m.len != orig->len || memcmp(m.body, orig->body, m.len) != 0;
    if (fuzz_decrypt(m.body, m.len, now_s)) {
        fuzz_check(!changed);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct session *s = NULL;
    uint64_t now_s;

#ifdef KITH_FUZZING
    fuzz_rng_state = 0x66757a7a; /* DH ratchet steps draw keys: same input, same run */
#endif
    if (size < 2) {
        return 0;
    }
    now_s = FUZZ_NOW + (uint64_t)data[1] * 4 * 3600; /* up to ~42 days: expiry */
    switch (data[0] % 3) {
    case 0:
        (void)fuzz_decrypt(data + 2, size - 2, now_s);
        break;
    case 1:
        if (session_parse(data + 2, size - 2, &s) == KITH_OK) {
            fuzz_check(fuzz_same(s, data + 2, size - 2));
            session_destroy(s);
        }
        break;
    default:
        fuzz_mutate(data + 2, size - 2, now_s);
        break;
    }
    return 0;
}
