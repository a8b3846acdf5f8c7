/*
 * circle: what a resolved circle state answers (who is a member, which epochs
 * are kept, whether a frame of an epoch may still be accepted), the epoch id
 * and the intro PSK. The op log and its resolution live in circle_op.c, sender
 * keys and receiving chains in circle_chain.c. Pure: no I/O, no clock reads.
 */
#include "core/circle.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/circle_impl.h"
#include "core/kcrypt.h"

_Static_assert(CIRCLE_MEMBER_BYTES == IDENTITY_MEMBER_ID, "a circle member is an identity");
_Static_assert(CIRCLE_NAME_BUF == 64 + 1 && CIRCLE_ENDPOINT_BUF == 96 + 1, "name buffers");

#define CIRCLE_EPOCH_LABEL "kith-v1/epoch"
#define CIRCLE_INTRO_INFO  "kith-v1/intro"

int
circle_impl_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, IDENTITY_MEMBER_ID);
}

void
circle_epoch_id(const uint8_t circle_id[16], uint32_t epoch_no, const uint8_t parent[16],
                const uint8_t (*members)[IDENTITY_MEMBER_ID], size_t n, uint8_t out[16])
{
    uint8_t buf[16 + 4 + 16 + CIRCLE_MAX_MEMBERS * IDENTITY_MEMBER_ID];
    uint8_t(*ids)[IDENTITY_MEMBER_ID] = (uint8_t(*)[IDENTITY_MEMBER_ID])(buf + 36);

    if (n > CIRCLE_MAX_MEMBERS) {
        KITH_BUG("circle_epoch_id: too many members");
    }
    memcpy(buf, circle_id, 16);
    circle_impl_put_u32(buf + 16, epoch_no);
    memcpy(buf + 20, parent, 16);
    if (n > 0) {
        memcpy(ids, members, n * IDENTITY_MEMBER_ID);
        qsort(ids, n, IDENTITY_MEMBER_ID, circle_impl_id_cmp);
    }
    kcrypt_hash(out, 16, CIRCLE_EPOCH_LABEL, buf, 36 + n * IDENTITY_MEMBER_ID, NULL, 0);
}

/* bsearch: a member id against a struct circle_member. */
static int
circle_member_key_cmp(const void *key, const void *member)
{
    return memcmp(key, ((const struct circle_member *)member)->member_id, IDENTITY_MEMBER_ID);
}

const struct circle_member *
circle_member_find(const struct circle_state *st, const uint8_t member_id[IDENTITY_MEMBER_ID])
{
    return bsearch(member_id, st->members, st->nmembers, sizeof st->members[0],
                   circle_member_key_cmp);
}

const struct circle_epoch *
circle_epoch_find(const struct circle_state *st, uint32_t epoch_no)
{
    for (size_t i = 0; i < st->nepochs; i++) {
        if (st->epochs[i].epoch_no == epoch_no) {
            return &st->epochs[i];
        }
    }
    return NULL;
}

bool
circle_epoch_has(const struct circle_epoch *ep, const uint8_t member_id[IDENTITY_MEMBER_ID])
{
    return bsearch(member_id, ep->members, ep->nmembers, IDENTITY_MEMBER_ID, circle_impl_id_cmp) !=
           NULL;
}

bool
circle_frame_acceptable(const struct circle_state *st, uint32_t epoch_no,
                        const uint8_t sender[IDENTITY_MEMBER_ID], uint32_t now_s)
{
    const struct circle_epoch *ep;
    const struct circle_epoch *next;

    if (st->nepochs == 0 || epoch_no > st->epoch_no) {
        return false;
    }
    if (epoch_no == st->epoch_no) {
        return circle_member_find(st, sender) != NULL;
    }
    ep = circle_epoch_find(st, epoch_no);
    next = circle_epoch_find(st, epoch_no + 1);
    if (ep == NULL || next == NULL || !circle_epoch_has(ep, sender)) {
        return false;
    }
    /* A clock behind the op's issuer counts as inside the grace period. */
    return (uint64_t)now_s < (uint64_t)next->started_at + CIRCLE_EPOCH_GRACE_S;
}

void
circle_intro_psk(const uint8_t intro_secret[32], const uint8_t ik_a[32], const uint8_t ik_b[32],
                 uint8_t out[32])
{
    uint8_t info[sizeof CIRCLE_INTRO_INFO - 1 + 64];
    bool a_first = memcmp(ik_a, ik_b, 32) <= 0;

    memcpy(info, CIRCLE_INTRO_INFO, sizeof CIRCLE_INTRO_INFO - 1);
    memcpy(info + sizeof CIRCLE_INTRO_INFO - 1, a_first ? ik_a : ik_b, 32);
    memcpy(info + sizeof CIRCLE_INTRO_INFO - 1 + 32, a_first ? ik_b : ik_a, 32);
    if (kcrypt_hkdf(out, 32, NULL, 0, intro_secret, 32, info, sizeof info) != KITH_OK) {
        KITH_BUG("circle_intro_psk: hkdf arguments");
    }
}
