/*
 * repair_codec: the bytes of a repair step on the wire, the serialised
 * replica for the sealed store, and the JSON status.
 *
 * Step v1 (big-endian): version(1)=1 event(1) actor(1) reserved(1)=0
 * repair_id(16) seq(u32) sent_at(i64), then fields as tag(u8) len(u16) value,
 * tags strictly ascending, absent/default values omitted (one encoding per
 * step): 1..16 text field f+1 (UTF-8, no NUL), 32..37 id list l (1..3 ids),
 * 48 until(i64) 49 when(i64) 50 answer 51 kind 52 impact_ack(=1) 53 shared(=1)
 * 54 rating(1..5) 55 word 56 version(u32). A kept checkout sends no rating or
 * word (only the "done" marker). The decoder then checks the step against
 * its event, exactly as repair_apply does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/repair_impl.h"

#define STEP_VERSION  1
#define STATE_VERSION 1
#define STEP_HEADER   (4 + REPAIR_ID_BYTES + 4 + 8)
#define TAG_TEXT      1
#define TAG_LIST      32
#define TAG_UNTIL     48
#define TAG_WHEN      49
#define TAG_ANSWER    50
#define TAG_KIND      51
#define TAG_IMPACT    52
#define TAG_SHARED    53
#define TAG_RATING    54
#define TAG_WORD      55
#define TAG_VERSION   56

_Static_assert(REPAIR_TEXT_CAP < 65536, "text fields fit a u16 length");
_Static_assert(STEP_HEADER == 32, "step header is 32 bytes");

struct wbuf {
    uint8_t *p;
    size_t cap, len;
    bool is_full;
};

static void
put(struct wbuf *w, const void *src, size_t n)
{
    if (w->is_full || n > w->cap - w->len) {
        w->is_full = true;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void
put_u8(struct wbuf *w, uint8_t v)
{
    put(w, &v, 1);
}

static void
put_be(struct wbuf *w, uint64_t v, int bytes)
{
    uint8_t b[8];

    for (int i = 0; i < bytes; i++) {
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    }
    put(w, b, (size_t)bytes);
}

static void
put_tlv(struct wbuf *w, uint8_t tag, const void *v, size_t n)
{
    put_u8(w, tag);
    put_be(w, n, 2);
    put(w, v, n);
}

static void
put_tlv_be(struct wbuf *w, uint8_t tag, uint64_t v, int bytes)
{
    put_u8(w, tag);
    put_be(w, (uint64_t)bytes, 2);
    put_be(w, v, bytes);
}

struct rbuf {
    const uint8_t *p;
    size_t len, off;
    bool is_bad;
};

static const uint8_t *
take(struct rbuf *r, size_t n)
{
    const uint8_t *at;

    if (r->is_bad || n > r->len - r->off) {
        r->is_bad = true;
        return NULL;
    }
    at = r->p + r->off;
    r->off += n;
    return at;
}

static uint64_t
get_be(struct rbuf *r, int bytes)
{
    const uint8_t *b = take(r, (size_t)bytes);
    uint64_t v = 0;

    for (int i = 0; b != NULL && i < bytes; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

int
repair_impl_fields_encode(const struct repair_step *s, bool all_fields, uint8_t *out, size_t cap,
                          size_t *len)
{
    struct wbuf w = { out, cap, 0, false };
    const bool private_checkout = s->event == REPAIR_EV_CHECKOUT && !s->shared && !all_fields;

    for (int f = 0; f < REPAIR_F_COUNT; f++) {
        size_t n = strnlen(s->text[f], REPAIR_TEXT_CAP);
        if (n == REPAIR_TEXT_CAP) {
            return KITH_EINVAL;
        }
        if (n > 0) {
            put_tlv(&w, (uint8_t)(TAG_TEXT + f), s->text[f], n);
        }
    }
    for (int l = 0; l < REPAIR_L_COUNT; l++) {
        if (s->list_len[l] > REPAIR_PICKS_MAX) {
            return KITH_EINVAL;
        }
        if (s->list_len[l] > 0) {
            put_tlv(&w, (uint8_t)(TAG_LIST + l), s->list[l], s->list_len[l]);
        }
    }
    if (s->until != 0) {
        put_tlv_be(&w, TAG_UNTIL, (uint64_t)s->until, 8);
    }
    if (s->when != 0) {
        put_tlv_be(&w, TAG_WHEN, (uint64_t)s->when, 8);
    }
    if (s->answer != 0) {
        put_tlv_be(&w, TAG_ANSWER, s->answer, 1);
    }
    if (s->kind != 0) {
        put_tlv_be(&w, TAG_KIND, s->kind, 1);
    }
    if (s->impact_ack) {
        put_tlv_be(&w, TAG_IMPACT, 1, 1);
    }
    if (s->shared) {
        put_tlv_be(&w, TAG_SHARED, 1, 1);
    }
    if (s->rating != 0 && !private_checkout) {
        put_tlv_be(&w, TAG_RATING, s->rating, 1);
    }
    if (s->word != REPAIR_NO_ID && !private_checkout) {
        put_tlv_be(&w, TAG_WORD, s->word, 1);
    }
    if (s->version != 0) {
        put_tlv_be(&w, TAG_VERSION, s->version, 4);
    }
    if (w.is_full) {
        return KITH_ETOOBIG;
    }
    *len = w.len;
    return KITH_OK;
}

/* One scalar TLV: exact width, never the default value. */
static int
decode_scalar(struct repair_step *s, uint8_t tag, const uint8_t *v, size_t n)
{
    uint64_t x = 0;
    size_t want = tag == TAG_UNTIL || tag == TAG_WHEN ? 8 : tag == TAG_VERSION ? 4 : 1;

    if (n != want) {
        return KITH_EMALFORMED;
    }
    for (size_t i = 0; i < n; i++) {
        x = (x << 8) | v[i];
    }
    if (x == 0 || (tag == TAG_WORD && x == REPAIR_NO_ID) ||
        ((tag == TAG_IMPACT || tag == TAG_SHARED) && x != 1)) {
        return KITH_EMALFORMED;
    }
    switch (tag) {
    case TAG_UNTIL:
        s->until = (int64_t)x;
        break;
    case TAG_WHEN:
        s->when = (int64_t)x;
        break;
    case TAG_ANSWER:
        s->answer = (uint8_t)x;
        break;
    case TAG_KIND:
        s->kind = (uint8_t)x;
        break;
    case TAG_IMPACT:
        s->impact_ack = true;
        break;
    case TAG_SHARED:
        s->shared = true;
        break;
    case TAG_RATING:
        s->rating = (uint8_t)x;
        break;
    case TAG_WORD:
        s->word = (uint8_t)x;
        break;
    case TAG_VERSION:
        s->version = (uint32_t)x;
        break;
    default:
        return KITH_EMALFORMED;
    }
    return KITH_OK;
}

int
repair_impl_fields_decode(const uint8_t *in, size_t len, struct repair_step *s)
{
    struct rbuf r = { in, len, 0, false };
    int last_tag = 0;

    while (r.off < r.len) {
        uint8_t tag = (uint8_t)get_be(&r, 1);
        size_t n = (size_t)get_be(&r, 2);
        const uint8_t *v = take(&r, n);

        if (r.is_bad || tag <= last_tag || n == 0) {
            return KITH_EMALFORMED;
        }
        last_tag = tag;
        if (tag >= TAG_TEXT && tag < TAG_TEXT + REPAIR_F_COUNT) {
            bool valid;
            if (n >= REPAIR_TEXT_CAP || memchr(v, '\0', n) != NULL) {
                return KITH_EMALFORMED;
            }
            (void)repair_impl_utf8_chars((const char *)v, n, &valid);
            if (!valid) {
                return KITH_EMALFORMED;
            }
            memcpy(s->text[tag - TAG_TEXT], v, n);
            s->text[tag - TAG_TEXT][n] = '\0';
        } else if (tag >= TAG_LIST && tag < TAG_LIST + REPAIR_L_COUNT) {
            if (n > REPAIR_PICKS_MAX) {
                return KITH_EMALFORMED;
            }
            memcpy(s->list[tag - TAG_LIST], v, n);
            s->list_len[tag - TAG_LIST] = (uint8_t)n;
        } else if (decode_scalar(s, tag, v, n) != KITH_OK) {
            return KITH_EMALFORMED;
        }
    }
    return KITH_OK;
}

int
repair_step_encode(const struct repair_step *s, uint8_t *out, size_t cap, size_t *len)
{
    struct wbuf w = { out, cap, 0, false };
    const char *why = NULL;
    size_t flen = 0;
    int rc;

    *len = 0;
    if (repair_impl_validate(s, &why) != KITH_OK) {
        return KITH_EINVAL;
    }
    put_u8(&w, STEP_VERSION);
    put_u8(&w, s->event);
    put_u8(&w, s->actor);
    put_u8(&w, 0);
    put(&w, s->repair_id, REPAIR_ID_BYTES);
    put_be(&w, s->seq, 4);
    put_be(&w, (uint64_t)s->sent_at, 8);
    if (w.is_full) {
        return KITH_ETOOBIG;
    }
    rc = repair_impl_fields_encode(s, false, out + w.len, cap - w.len, &flen);
    if (rc != KITH_OK) {
        return rc;
    }
    *len = w.len + flen;
    return KITH_OK;
}

static int repair_step_decode_fields(const uint8_t *in, size_t len, struct repair_step *s);

/* Only the canonical encoding of a step parses: whatever decodes must encode back to the same
 * bytes, so two replicas can never read one step two ways. */
int
repair_step_decode(const uint8_t *in, size_t len, struct repair_step *s)
{
    uint8_t *again;
    size_t again_len = 0;
    int rc = repair_step_decode_fields(in, len, s);

    if (rc != KITH_OK) {
        return rc;
    }
    again = xmalloc(REPAIR_WIRE_MAX);
    if (repair_step_encode(s, again, REPAIR_WIRE_MAX, &again_len) != KITH_OK ||
        again_len != len || memcmp(again, in, len) != 0) {
        rc = KITH_EMALFORMED;
        memset(s, 0, sizeof *s);
    }
    free(again);
    return rc;
}

static int
repair_step_decode_fields(const uint8_t *in, size_t len, struct repair_step *s)
{
    struct rbuf r = { in, len, 0, false };
    const uint8_t *id;
    const char *why = NULL;
    uint8_t version, reserved;

    repair_step_init(s, REPAIR_EV_INVITE);
    if (len > REPAIR_WIRE_MAX) {
        return KITH_ETOOBIG;
    }
    version = (uint8_t)get_be(&r, 1);
    s->event = (uint8_t)get_be(&r, 1);
    s->actor = (uint8_t)get_be(&r, 1);
    reserved = (uint8_t)get_be(&r, 1);
    id = take(&r, REPAIR_ID_BYTES);
    s->seq = (uint32_t)get_be(&r, 4);
    s->sent_at = (int64_t)get_be(&r, 8);
    if (r.is_bad || version != STEP_VERSION || reserved != 0 || s->event >= REPAIR_EV_COUNT ||
        s->actor > REPAIR_PARTNER || s->seq == 0) {
        goto bad;
    }
    memcpy(s->repair_id, id, REPAIR_ID_BYTES);
    if (repair_impl_fields_decode(in + r.off, len - r.off, s) != KITH_OK ||
        repair_impl_validate(s, &why) != KITH_OK) {
        goto bad;
    }
    return KITH_OK;
bad:
    repair_step_init(s, REPAIR_EV_INVITE);
    return KITH_EMALFORMED;
}

/* ---- the whole replica -------------------------------------------------- */

static void
put_core(struct wbuf *w, const struct repair_core *c, bool *is_bad)
{
    const int64_t times[7] = { c->last_event_at, c->invite_expires_at, c->postpone_until,
                               c->pause_until,   c->pause_started,     c->pause_used,
                               c->checkout_since };
    const uint8_t bytes[16] = { c->state,           c->resume_state,  c->outcome,
                                c->pending_outcome, c->partly_rounds, c->more_count,
                                c->close_enough,    c->my_side_sent,  c->version_author,
                                c->pauser,          c->check_in_by,   c->checked_out,
                                c->rating[0],       c->rating[1],     c->word[0],
                                c->word[1] };
    size_t flen = 0;

    put_be(w, c->seq, 4);
    put_be(w, c->version, 4);
    put(w, bytes, sizeof bytes);
    for (int i = 0; i < 7; i++) {
        put_be(w, (uint64_t)times[i], 8);
    }
    if (w->is_full || w->cap - w->len < 4) {
        w->is_full = true;
        return;
    }
    if (repair_impl_fields_encode(&c->fields, true, w->p + w->len + 4, w->cap - w->len - 4,
                                  &flen) != KITH_OK) {
        *is_bad = true;
        return;
    }
    put_be(w, flen, 4);
    w->len += flen;
}

int
repair_serialize(const struct repair *r, uint8_t *out, size_t cap, size_t *len)
{
    struct wbuf w = { out, cap, 0, false };
    bool is_bad = false;

    *len = 0;
    put(&w, "KRS", 3);
    put_u8(&w, STATE_VERSION);
    put_u8(&w, r->me);
    put(&w, r->repair_id, REPAIR_ID_BYTES);
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(r->fp[i]);
        put_u8(&w, (uint8_t)n);
        put(&w, r->fp[i], n);
    }
    put_u8(&w, r->has_prev);
    put_u8(&w, r->last_event);
    put_u8(&w, r->last_actor);
    put_be(&w, (uint64_t)r->last_sent_at, 8);
    put_core(&w, &r->cur, &is_bad);
    if (r->has_prev) {
        put_core(&w, &r->prev, &is_bad);
    }
    if (is_bad) {
        return KITH_EINVAL;
    }
    if (w.is_full) {
        return KITH_ETOOBIG;
    }
    *len = w.len;
    return KITH_OK;
}

static bool
is_role_or_nobody(uint8_t v)
{
    return v <= REPAIR_PARTNER || v == REPAIR_NOBODY;
}

static int
get_core(struct rbuf *r, struct repair_core *c)
{
    int64_t *times[7] = { &c->last_event_at, &c->invite_expires_at, &c->postpone_until,
                          &c->pause_until,   &c->pause_started,     &c->pause_used,
                          &c->checkout_since };
    const uint8_t *b;
    size_t flen;
    const uint8_t *fields;

    c->seq = (uint32_t)get_be(r, 4);
    c->version = (uint32_t)get_be(r, 4);
    b = take(r, 16);
    for (int i = 0; i < 7; i++) {
        *times[i] = (int64_t)get_be(r, 8);
    }
    flen = (size_t)get_be(r, 4);
    fields = take(r, flen);
    if (r->is_bad) {
        return KITH_ECORRUPT;
    }
    c->state = b[0];
    c->resume_state = b[1];
    c->outcome = b[2];
    c->pending_outcome = b[3];
    c->partly_rounds = b[4];
    c->more_count = b[5];
    c->close_enough = b[6] != 0;
    c->my_side_sent = b[7] != 0;
    c->version_author = b[8];
    c->pauser = b[9];
    c->check_in_by = b[10];
    c->checked_out = b[11];
    memcpy(c->rating, b + 12, 2);
    memcpy(c->word, b + 14, 2);
    if (c->state >= REPAIR_STATE_COUNT || c->state == REPAIR_AGREED ||
        c->resume_state >= REPAIR_PAUSED || c->outcome >= REPAIR_OUTCOME_COUNT ||
        c->pending_outcome >= REPAIR_OUTCOME_COUNT || c->partly_rounds > REPAIR_PARTLY_MAX ||
        c->more_count > REPAIR_MORE_MAX || b[6] > 1 || b[7] > 1 ||
        !is_role_or_nobody(c->version_author) || !is_role_or_nobody(c->pauser) ||
        !is_role_or_nobody(c->check_in_by) || c->checked_out > 3 || c->rating[0] > 5 ||
        c->rating[1] > 5 || (c->state == REPAIR_PAUSED && c->pauser == REPAIR_NOBODY)) {
        return KITH_ECORRUPT;
    }
    for (int i = 0; i < 2; i++) {
        if (c->word[i] != REPAIR_NO_ID && c->word[i] >= repair_feeling_count()) {
            return KITH_ECORRUPT;
        }
    }
    repair_step_init(&c->fields, REPAIR_EV_INVITE);
    return repair_impl_fields_decode(fields, flen, &c->fields) == KITH_OK ? KITH_OK : KITH_ECORRUPT;
}

int
repair_parse(const uint8_t *in, size_t len, struct repair **out)
{
    struct rbuf rb = { in, len, 0, false };
    struct repair *r = NULL;
    const uint8_t *magic = take(&rb, 3);
    uint8_t version = (uint8_t)get_be(&rb, 1);
    uint8_t me = (uint8_t)get_be(&rb, 1);
    const uint8_t *id = take(&rb, REPAIR_ID_BYTES);
    char fp[2][REPAIR_FP_MAX] = { { 0 } };
    int rc = KITH_ECORRUPT;

    *out = NULL;
    for (int i = 0; i < 2; i++) {
        size_t n = (size_t)get_be(&rb, 1);
        const uint8_t *p = take(&rb, n);
        if (p == NULL || n >= REPAIR_FP_MAX || memchr(p, '\0', n) != NULL) {
            return KITH_ECORRUPT;
        }
        memcpy(fp[i], p, n);
    }
    if (rb.is_bad || memcmp(magic, "KRS", 3) != 0 || version != STATE_VERSION ||
        me > REPAIR_PARTNER) {
        return KITH_ECORRUPT;
    }
    r = repair_create((enum repair_role)me, id, fp[0], fp[1]);
    uint8_t has_prev = (uint8_t)get_be(&rb, 1);
    r->has_prev = has_prev == 1;
    r->last_event = (uint8_t)get_be(&rb, 1);
    r->last_actor = (uint8_t)get_be(&rb, 1);
    r->last_sent_at = (int64_t)get_be(&rb, 8);
    if (rb.is_bad || has_prev > 1 || r->last_event >= REPAIR_EV_COUNT ||
        !is_role_or_nobody(r->last_actor)) {
        goto out;
    }
    if (get_core(&rb, &r->cur) != KITH_OK || (r->has_prev && get_core(&rb, &r->prev) != KITH_OK) ||
        rb.off != rb.len) {
        goto out;
    }
    *out = r;
    r = NULL;
    rc = KITH_OK;
out:
    repair_destroy(r);
    return rc;
}

/* ---- status ------------------------------------------------------------- */

struct jbuf {
    char *p;
    size_t cap, len;
    bool is_full;
};

__attribute__((format(printf, 2, 3))) static void
jprintf(struct jbuf *j, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (j->is_full) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(j->p + j->len, j->cap - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= j->cap - j->len) {
        j->is_full = true;
        return;
    }
    j->len += (size_t)n;
}

static void
jstring(struct jbuf *j, const char *s)
{
    jprintf(j, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            jprintf(j, "\\%c", c);
        } else if (c < 0x20) {
            jprintf(j, "\\u%04x", c);
        } else {
            jprintf(j, "%c", c);
        }
    }
    jprintf(j, "\"");
}

static const char *
role_name(int turn)
{
    switch (turn) {
    case REPAIR_INITIATOR:
        return "initiator";
    case REPAIR_PARTNER:
        return "partner";
    case REPAIR_EITHER:
        return "either";
    default:
        return "none";
    }
}

static void
closed_prompt(const struct repair *r, char *out, size_t cap)
{
    const struct repair_core *c = &r->cur;
    const bool is_i = r->me == REPAIR_INITIATOR;

    switch ((enum repair_outcome)c->outcome) {
    case REPAIR_OUTCOME_DECLINED:
        if (is_i) {
            snprintf(out, cap,
                     "%s can't do this one right now. That's okay \xe2\x80\x94 it "
                     "took courage to ask.",
                     r->peer_name);
        } else {
            snprintf(out, cap, "You said not this one. That's okay.");
        }
        break;
    case REPAIR_OUTCOME_EXPIRED:
        snprintf(out, cap,
                 "This conversation closed after a long quiet. That can mean many "
                 "things. Nothing is lost.");
        break;
    case REPAIR_OUTCOME_ENDED:
        snprintf(out, cap,
                 "This conversation has ended for now. Nothing is lost, and you can "
                 "start again another day.");
        break;
    case REPAIR_OUTCOME_WITHDRAWN:
    case REPAIR_OUTCOME_DISCARDED:
        snprintf(out, cap, "The invitation was set aside. Nothing else was shared.");
        break;
    default:
        snprintf(out, cap, "This conversation is closed. Thank you for staying with it.");
        break;
    }
}

void
repair_impl_prompt(const struct repair *r, char *out, size_t cap)
{
    const struct repair_core *c = &r->cur;
    const struct repair_step *f = &c->fields;
    const int turn = repair_impl_turn(c);
    const char *peer = r->peer_name;

    if (c->state == REPAIR_CLOSED) {
        closed_prompt(r, out, cap);
        return;
    }
    if (c->state == REPAIR_PAUSED) {
        snprintf(out, cap,
                 c->pauser == r->me ? "Take the time you need."
                                    : "%s is taking a break. Nothing you need to do.",
                 peer);
        return;
    }
    if (turn != r->me && turn != REPAIR_EITHER) {
        snprintf(out, cap, "It's %s's turn to %s. There's nothing you need to do.", peer,
                 repair_impl_turn_verbs[c->state]);
        return;
    }
    switch ((enum repair_state)c->state) {
    case REPAIR_DRAFT:
        snprintf(out, cap,
                 "Something hurt, and you'd like to clear it up. We'll go slowly. You "
                 "can stop at any point, and nothing is sent until you say so.");
        break;
    case REPAIR_INVITED:
    case REPAIR_POSTPONED:
        snprintf(out, cap,
                 "%s would like to talk about something between you%s%s%s. There's no "
                 "rush.",
                 peer, f->text[REPAIR_F_TOPIC][0] ? ": '" : "", f->text[REPAIR_F_TOPIC],
                 f->text[REPAIR_F_TOPIC][0] ? "'" : "");
        break;
    case REPAIR_ACCEPTED:
        snprintf(out, cap, "What happened, as a camera would have seen it? One moment is enough.");
        break;
    case REPAIR_SHARED:
        snprintf(out, cap,
                 "Before answering, say back what you heard, in your own words. You "
                 "don't have to agree yet \xe2\x80\x94 just show %s you got it.",
                 peer);
        break;
    case REPAIR_REFLECTED:
        snprintf(out, cap, "%s heard: '%s'. Is that close?", peer, f->text[REPAIR_F_TEXT]);
        break;
    case REPAIR_UNDERSTOOD:
        snprintf(out, cap,
                 "What part makes sense to you? Then, if you can, own your part, or "
                 "explain what was going on for you. Explaining what you meant doesn't "
                 "cancel what it felt like for %s.",
                 peer);
        break;
    case REPAIR_RESPONDED:
        snprintf(out, cap, "How does that land?");
        break;
    case REPAIR_AGREEING:
        if (c->version > 0) {
            snprintf(out, cap, "%s suggested: '%s'. Agree, or suggest a change.", peer,
                     f->text[REPAIR_F_TEXT]);
        } else {
            snprintf(out, cap,
                     "Is there one small thing you'd both like to try next time? Small "
                     "is good.");
        }
        break;
    default:
        snprintf(out, cap,
                 "How are you feeling now, 1\xe2\x80\x93"
                 "5? You can keep this to "
                 "yourself.");
        break;
    }
}

int
repair_status_json(const struct repair *r, char *out, size_t cap)
{
    struct jbuf j = { out, cap, 0, false };
    const struct repair_core *c = &r->cur;
    char prompt[1200];
    int64_t at = 0;
    enum repair_event ev = REPAIR_EV_EXPIRE;
    bool has_deadline = repair_next_deadline(r, &at, &ev);

    if (cap == 0) {
        return KITH_ETOOBIG;
    }
    out[0] = '\0';
    jprintf(&j, "{\"repair_id\":\"");
    for (int i = 0; i < REPAIR_ID_BYTES; i++) {
        jprintf(&j, "%02x", r->repair_id[i]);
    }
    jprintf(&j, "\",\"state\":\"%s\",\"turn\":\"%s\",\"my_role\":\"%s\",\"my_turn\":%s",
            repair_state_name((enum repair_state)c->state), role_name(repair_impl_turn(c)),
            role_name(r->me), repair_is_my_turn(r) ? "true" : "false");
    jprintf(&j, ",\"seq\":%u", (unsigned)c->seq);
    if (c->state == REPAIR_PAUSED) {
        jprintf(&j, ",\"resume_state\":\"%s\",\"paused_by\":\"%s\",\"until\":%lld",
                repair_state_name((enum repair_state)c->resume_state), role_name(c->pauser),
                (long long)c->pause_until);
    }
    if (c->state == REPAIR_CLOSED || c->pending_outcome != REPAIR_OUTCOME_NONE) {
        jprintf(&j, ",\"outcome\":\"%s\"", repair_outcome_name(repair_outcome(r)));
    }
    jprintf(&j, ",\"round\":%u,\"more\":%u,\"close_enough\":%s", c->partly_rounds, c->more_count,
            c->close_enough ? "true" : "false");
    if (c->version > 0) {
        jprintf(&j, ",\"agreement_version\":%u,\"agreement\":", (unsigned)c->version);
        jstring(&j, c->fields.text[REPAIR_F_TEXT]);
    }
    if (c->check_in_by != REPAIR_NOBODY) {
        jprintf(&j, ",\"check_in_by\":\"%s\"", role_name(c->check_in_by));
    }
    if (has_deadline) {
        jprintf(&j, ",\"deadline\":%lld,\"deadline_event\":\"%s\"", (long long)at,
                repair_event_name(ev));
    }
    repair_impl_prompt(r, prompt, sizeof prompt);
    jprintf(&j, ",\"prompt\":");
    jstring(&j, prompt);
    jprintf(&j, "}");
    if (j.is_full) {
        out[0] = '\0';
        return KITH_ETOOBIG;
    }
    return KITH_OK;
}
