/*
 * engine_boundary: the receiver's boundaries, wired into the engine (DOMAIN.md §3). Incoming
 * text is judged by boundary_evaluate before its inbox row commits; held messages are released
 * by the loop's timer (rebuilt from the store, so a restart loses nothing); rule changes are
 * stored sealed, re-evaluate held messages at once, refresh the ZAP block list and send the
 * contact a boundary notice with the tell=on subset only. Invariant: the content of a held,
 * folded or awaiting_consent message never reaches a view before its boundary allows it.
 */
#include "core/engine_impl.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/boundary.h"
#include "core/kcrypt.h"
#include "core/session.h"
#include "proto/frame.h"

#define EB_HISTORY_S    (366 * 86400) /* visible times a rate window may look back on */
#define EB_RECHECK_MS   1000          /* see engine_boundary_next_ms */
#define EB_BLOCK_HIDE_S 3600          /* a held message under a new block: look again hourly */
#define EB_ZONE_MAX     BOUNDARY_TZ_MAX
#define EB_CONSENT_KEY  "consent_until/"
#define EB_BREAK_KEY    "breakthroughs/" /* per contact: "DAY COUNT", DAY in the person's zone */

/* The person's IANA zone name ($TZ, else /etc/localtime's link), "" when unknown: stored with
 * rules that name no zone, so a boundary notice says which clock "08:00" is on. Looked up
 * again once a minute (the judge asks for every message; a changed zone is seen within it). */
static const char *
eb_zone(int64_t now_s)
{
    static char zone[EB_ZONE_MAX];
    static int64_t looked_at = INT64_MIN;
    char link[256];
    const char *tz = getenv("TZ");
    const char *at;
    ssize_t n;

    if (looked_at != INT64_MIN && now_s >= looked_at && now_s - looked_at < 60) {
        return zone;
    }
    looked_at = now_s;
    zone[0] = '\0';
    if (tz != NULL && tz[0] == ':') {
        tz++;
    }
    if (tz != NULL && tz[0] != '\0' && boundary_tz_system(NULL, tz, 0, &(int){ 0 }) == KITH_OK &&
        strlen(tz) < sizeof zone) {
        snprintf(zone, sizeof zone, "%s", tz);
        return zone;
    }
    n = readlink("/etc/localtime", link, sizeof link - 1);
    if (n <= 0) {
        return zone;
    }
    link[n] = '\0';
    at = strstr(link, "zoneinfo/");
    if (at != NULL && strlen(at + 9) < sizeof zone) {
        snprintf(zone, sizeof zone, "%s", at + 9);
    }
    return zone;
}

static void
eb_clock(struct boundary_clock *clk, int64_t now_s)
{
    memset(clk, 0, sizeof *clk);
    clk->now = now_s;
    clk->tz = eb_zone(now_s);
    clk->utc_offset = boundary_tz_system;
}

static int64_t
eb_now(void)
{
    return engine_now_ms() / 1000;
}

/* A contact's stored rule set of one kind; *out stays NULL (KITH_OK) when none is stored. */
static int
eb_rules_load(struct engine *e, int64_t contact_id, enum store_rules_kind kind,
              struct boundary_rules **out)
{
    struct boundary_rules *r = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = store_rules_get(e->st, contact_id, kind, &buf, &len);

    *out = NULL;
    if (rc == KITH_ENOTFOUND) {
        return KITH_OK;
    }
    if (rc != KITH_OK) {
        return rc;
    }
    r = boundary_rules_create();
    rc = boundary_rules_decode(r, buf, len);
    store_rules_free(buf, len);
    if (rc != KITH_OK) {
        boundary_rules_destroy(r);
        return KITH_ECORRUPT;
    }
    *out = r;
    return KITH_OK;
}

bool
engine_boundary_blocked(struct engine *e, int64_t contact_id)
{
    struct boundary_rules *r = NULL;
    bool blocked;

    if (eb_rules_load(e, contact_id, STORE_RULES_OURS, &r) != KITH_OK) {
        return false;
    }
    blocked = r != NULL && boundary_is_blocked(r, eb_now());
    boundary_rules_destroy(r);
    return blocked;
}

static int64_t
eb_consent_until(struct engine *e, int64_t contact_id)
{
    char key[48];
    char *value = NULL;
    int64_t until = 0;

    snprintf(key, sizeof key, EB_CONSENT_KEY "%" PRId64, contact_id);
    if (store_setting_get(e->st, key, &value) == KITH_OK) {
        until = strtoll(value, NULL, 10);
        free(value);
    }
    return until;
}

/* The person's day at now: whole days since 1970-01-01 on their wall clock. */
static int64_t
eb_local_day(int64_t now)
{
    int offset = 0;
    int64_t wall;

    if (boundary_tz_system(NULL, eb_zone(now), now, &offset) != KITH_OK) {
        offset = 0;
    }
    wall = now + offset;
    return wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400);
}

/* Urgent breakthroughs this contact used today (DOMAIN.md §3 `breakthrough=N/day`). */
static unsigned
eb_breakthroughs_today(struct engine *e, int64_t contact_id, int64_t now)
{
    char key[48];
    char *value = NULL;
    long long day = -1;
    unsigned count = 0;

    snprintf(key, sizeof key, EB_BREAK_KEY "%" PRId64, contact_id);
    if (store_setting_get(e->st, key, &value) != KITH_OK) {
        return 0;
    }
    if (sscanf(value, "%lld %u", &day, &count) != 2 || day != eb_local_day(now)) {
        count = 0; /* another day (or a damaged value): a fresh allowance */
    }
    free(value);
    return count;
}

/* One more breakthrough today; in the caller's transaction, so it counts with its message. */
static int
eb_breakthrough_used(struct engine *e, int64_t contact_id, int64_t now, unsigned *today)
{
    char key[48];
    char value[48];

    *today = eb_breakthroughs_today(e, contact_id, now) + 1;
    snprintf(key, sizeof key, EB_BREAK_KEY "%" PRId64, contact_id);
    snprintf(value, sizeof value, "%" PRId64 " %u", eb_local_day(now), *today);
    return store_setting_set(e->st, key, value);
}

/* Visible times for the rate limit (this contact, or everyone with scope=all). *vis malloc'd. */
static int
eb_counters(struct engine *e, int64_t contact_id, const struct boundary_rules *r, int64_t now,
            int64_t **vis, size_t *n, struct boundary_counters *c)
{
    int64_t scope = boundary_rate_is_scope_all(r, now) ? 0 : contact_id;
    int64_t window = 0;
    size_t newest = 0;
    int rc;

    /* Only what a rate limit can count: the newest few inside its window (not a year of
     * history on every receive). */
    boundary_rate_horizon(r, &window, &newest);
    rc = store_msg_visible_since(e->st, scope, now - window, newest, vis, n);

    memset(c, 0, sizeof *c);
    if (rc != KITH_OK) {
        return rc;
    }
    c->visible_at = *vis;
    c->visible_count = *n;
    c->consent_open_until = eb_consent_until(e, contact_id);
    c->breakthroughs_today = eb_breakthroughs_today(e, contact_id, now);
    return KITH_OK;
}

static void
eb_msg(struct boundary_msg *bm, uint16_t flags, const char *text, size_t text_len)
{
    memset(bm, 0, sizeof *bm);
    bm->is_heavy = (flags & ENVELOPE_F_HEAVY) != 0;
    bm->is_urgent = (flags & ENVELOPE_F_URGENT) != 0;
    bm->text = text_len > 0 ? text : NULL;
    bm->text_len = text_len;
}

static void
eb_show_verdict(struct boundary_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->disposition = BOUNDARY_SHOW;
    v->notify = true;
    v->tell = BOUNDARY_TELL_DELIVERED;
}

/* The judge's inputs inside one receive batch (one transaction, one moment): our rules for
 * the contact, the clock and zone, and the counters are read once per contact and batch; the
 * batch then keeps them current (each visible message stored, each breakthrough used). Only
 * engine_process_batch turns it on; our own rules and consent windows change only in
 * transactions of their own, never inside a batch. */
static struct {
    const struct engine *e; /* the batch's engine, NULL outside a batch */
    bool valid;
    int64_t contact_id;
    struct boundary_rules *r;
    struct boundary_clock clk;
    int64_t *vis;
    size_t nvis;
    size_t cap;
    struct boundary_counters c;
} eb_batch;

static void
eb_batch_drop(void)
{
    boundary_rules_destroy(eb_batch.r);
    free(eb_batch.vis);
    eb_batch.r = NULL;
    eb_batch.vis = NULL;
    eb_batch.nvis = 0;
    eb_batch.cap = 0;
    eb_batch.valid = false;
}

void
engine_boundary_batch(struct engine *e, bool on)
{
    eb_batch_drop();
    eb_batch.e = on ? e : NULL;
}

void
engine_boundary_note_visible(struct engine *e, int64_t contact_id, int64_t visible_at)
{
    size_t at;

    if (eb_batch.e != e || !eb_batch.valid || eb_batch.contact_id != contact_id ||
        visible_at <= 0 || visible_at < eb_batch.clk.now - EB_HISTORY_S) {
        return;
    }
    if (eb_batch.nvis == eb_batch.cap) {
        eb_batch.cap = eb_batch.cap < 32 ? 32 : eb_batch.cap * 2;
        eb_batch.vis = xrealloc(eb_batch.vis, eb_batch.cap * sizeof *eb_batch.vis);
    }
    at = eb_batch.nvis;
    while (at > 0 && eb_batch.vis[at - 1] > visible_at) { /* oldest first, as the store gives */
        eb_batch.vis[at] = eb_batch.vis[at - 1];
        at--;
    }
    eb_batch.vis[at] = visible_at;
    eb_batch.nvis++;
    eb_batch.c.visible_at = eb_batch.vis;
    eb_batch.c.visible_count = eb_batch.nvis;
}

/* Our rules (New defaults when none), the clock and the counters for contact_id: from the
 * batch when it holds them, else from the store (kept by the batch when one is on). */
static int
eb_judge_inputs(struct engine *e, int64_t contact_id, struct boundary_rules **r,
                struct boundary_clock *clk, int64_t **vis, struct boundary_counters *c)
{
    size_t nvis = 0;
    int rc;

    *vis = NULL;
    if (eb_batch.e == e && eb_batch.valid && eb_batch.contact_id == contact_id) {
        *r = eb_batch.r;
        *clk = eb_batch.clk;
        *c = eb_batch.c;
        return KITH_OK;
    }
    rc = eb_rules_load(e, contact_id, STORE_RULES_OURS, r);
    if (rc != KITH_OK) {
        return rc;
    }
    if (*r == NULL) {
        *r = boundary_rules_create(); /* none chosen yet: trust level 0, New (DOMAIN.md §3) */
    }
    eb_clock(clk, eb_now());
    rc = eb_counters(e, contact_id, *r, clk->now, vis, &nvis, c);
    if (rc != KITH_OK) {
        boundary_rules_destroy(*r);
        free(*vis);
        *r = NULL;
        *vis = NULL;
        return rc;
    }
    if (eb_batch.e == e) {
        eb_batch_drop();
        eb_batch.valid = true;
        eb_batch.contact_id = contact_id;
        eb_batch.r = *r;
        eb_batch.clk = *clk;
        eb_batch.vis = *vis;
        eb_batch.nvis = nvis;
        eb_batch.cap = nvis;
        eb_batch.c = *c;
        *vis = NULL; /* the batch owns them now */
    }
    return KITH_OK;
}

int
engine_boundary_judge(struct engine *e, int64_t contact_id, uint16_t flags, const char *text,
                      size_t text_len, struct boundary_verdict *v)
{
    struct boundary_rules *r = NULL;
    struct boundary_counters c;
    struct boundary_clock clk;
    struct boundary_msg bm;
    int64_t *vis = NULL;
    bool cached;
    int rc;

    eb_show_verdict(v);
    rc = eb_judge_inputs(e, contact_id, &r, &clk, &vis, &c);
    if (rc != KITH_OK) {
        return rc;
    }
    cached = eb_batch.e == e && eb_batch.valid && eb_batch.r == r;
    eb_msg(&bm, flags, text, text_len);
    rc = boundary_evaluate(r, &bm, &clk, &c, v);
    if (rc == KITH_OK && v->used_breakthrough) {
        unsigned today = 0;
        rc = eb_breakthrough_used(e, contact_id, clk.now, &today);
        if (cached) {
            eb_batch.c.breakthroughs_today = today;
        }
    }
    if (rc != KITH_OK && cached) {
        eb_batch_drop(); /* read again from the store next time */
    } else if (!cached) {
        free(vis);
        boundary_rules_destroy(r);
    }
    return rc;
}

int
engine_boundary_time_hold(struct engine *e, int64_t contact_id, int64_t *release_at,
                          int64_t *tell_at)
{
    struct boundary_rules *r = NULL;
    struct boundary_verdict v;
    struct boundary_clock clk;
    struct boundary_msg bm;
    int rc = eb_rules_load(e, contact_id, STORE_RULES_OURS, &r);

    *release_at = 0;
    *tell_at = 0;
    if (rc != KITH_OK || r == NULL) {
        return rc; /* no rules: the New defaults hold nothing in time */
    }
    eb_clock(&clk, eb_now());
    memset(&bm, 0, sizeof bm);
    /* No counters: the rate limit never digests these (DOMAIN.md §2.5), and no text, so no
     * words fold them; only snooze and quiet hours hold. */
    rc = boundary_evaluate(r, &bm, &clk, NULL, &v);
    if (rc == KITH_OK && v.disposition == BOUNDARY_DROP) {
        *release_at = clk.now + EB_BLOCK_HIDE_S; /* a new block hides them; look again later */
    } else if (rc == KITH_OK && v.disposition == BOUNDARY_HOLD_UNTIL &&
               (v.reason == BOUNDARY_REASON_QUIET || v.reason == BOUNDARY_REASON_SNOOZE)) {
        *release_at = v.release_at;
        *tell_at = v.tell == BOUNDARY_TELL_HELD_UNTIL ? v.tell_at : 0;
    }
    boundary_rules_destroy(r);
    return rc;
}

static int
eb_state_of(enum boundary_disposition d)
{
    switch (d) {
    case BOUNDARY_HOLD_UNTIL:
        return STORE_MSG_HELD;
    case BOUNDARY_FOLD:
        return STORE_MSG_FOLDED;
    case BOUNDARY_AWAIT_CONSENT:
        return STORE_MSG_AWAITING_CONSENT;
    default:
        return STORE_MSG_RECEIVED;
    }
}

void
engine_boundary_apply(const struct boundary_verdict *v, int64_t now_s, struct store_msg *m)
{
    m->state = eb_state_of(v->disposition);
    m->reason = (int)v->reason;
    m->release_at = v->disposition == BOUNDARY_HOLD_UNTIL ? v->release_at : 0;
    m->visible_at = v->disposition == BOUNDARY_HOLD_UNTIL ? 0 : now_s;
    m->is_digest = v->disposition == BOUNDARY_HOLD_UNTIL && v->is_digest;
    /* Incoming: what our receipt told the sender, so a re-sent receipt says the same. */
    m->tell = v->tell == BOUNDARY_TELL_NOTHING ? RECEIPT_DELIVERED : (int)v->tell;
    m->tell_at = v->tell_at;
}

/* ---- sender side: receipts and boundary notices ---- */

static int64_t
eb_get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v > (uint64_t)INT64_MAX ? 0 : (int64_t)v;
}

/* A later receipt for a message of ours that was already acknowledged: the receiver answered
 * the consent question (or repeated itself). True when it names one of our messages. */
static bool
eb_receipt_update(struct engine *e, const struct engine_peer *p, const uint8_t id[16], int tell,
                  int64_t at)
{
    struct store_msg m;
    bool is_ours;

    if (store_msg_get(e->st, id, &m) != KITH_OK) {
        return false; /* an acknowledgement of a control message: nothing to answer */
    }
    is_ours = m.outgoing && m.contact_id == p->contact_id;
    if (is_ours && (m.tell != tell || m.tell_at != at) &&
        store_msg_set_tell(e->st, id, tell, at) == KITH_OK) {
        engine_emit(e, ENGINE_EV_STATE, p->name, id);
    }
    store_msg_free(&m);
    return is_ours;
}

int64_t
engine_receipt_at(int tell, int64_t at)
{
    return tell == RECEIPT_HELD_UNTIL || tell == RECEIPT_DIGEST_AT ? at : 0;
}

/* An acknowledgement of one of our messages; *texts_left (when not NULL): the message was a
 * TEXTS frame's first text, just acknowledged, and its other texts are left for the caller
 * to settle (their own receipts first, then store_msg_texts_follow: one write each). */
static bool
eb_receipt(struct engine *e, const struct engine_peer *p, const uint8_t id[16], int tell,
           int64_t at, bool *texts_left)
{
    at = engine_receipt_at(tell, at);
    if (store_msg_acknowledged(e->st, id, tell, at) == KITH_OK) {
        if (texts_left != NULL) {
            *texts_left = id[15] == 0;
        } else { /* the other texts of its frame, if it had any, are delivered with it */
            KITH_IGNORE(store_msg_texts_follow(e->st, id, STORE_MSG_DELIVERED, tell, at));
        }
        engine_notes_forget(e, id); /* delivered: its "sent" is moot */
        engine_emit(e, ENGINE_EV_STATE, p->name, id); /* a message, its frame waiting */
        return false;
    }
    if (store_outbox_remove(e->st, id) != KITH_OK) {
        /* Already acknowledged: an update (a consent answer) or a repeat. Only receipts
         * that name our messages are acknowledged, so acknowledgements never echo. */
        return eb_receipt_update(e, p, id, tell, at);
    }
    engine_notes_forget(e, id);
    /* Control messages have no history row: ENOTFOUND is expected for them. */
    if (store_msg_set_delivered(e->st, id, tell, at) == KITH_OK) {
        engine_emit(e, ENGINE_EV_STATE, p->name, id);
    }
    return false;
}

bool
engine_boundary_receipt(struct engine *e, const struct engine_peer *p, const uint8_t id[16],
                        int tell, int64_t at)
{
    return eb_receipt(e, p, id, tell, at, NULL);
}

void
engine_boundary_frame_receipt(struct engine *e, const struct engine_peer *p,
                              const uint8_t id[16], int tell, int64_t at, bool *texts_left)
{
    *texts_left = false;
    KITH_IGNORE(eb_receipt(e, p, id, tell, at, texts_left));
}

void
engine_boundary_text_receipt(struct engine *e, const struct engine_peer *p, const uint8_t id[16],
                             int tell, int64_t at)
{
    if (store_msg_text_told(e->st, id, p->contact_id, tell, engine_receipt_at(tell, at)) ==
        KITH_OK) {
        engine_emit(e, ENGINE_EV_STATE, p->name, id);
    }
}

bool
engine_boundary_receipts(struct engine *e, const struct engine_peer *p, const struct envelope *env)
{
    bool owes_ack = false;

    for (uint32_t off = 0; off + RECEIPT_BYTES <= env->payload_len; off += RECEIPT_BYTES) {
        owes_ack = engine_boundary_receipt(e, p, env->payload + off, env->payload[off + 16],
                                           eb_get_be64(env->payload + off + 17)) ||
                   owes_ack;
    }
    return owes_ack;
}

int
engine_boundary_notice(struct engine *e, const struct engine_peer *p, const struct envelope *env)
{
    struct boundary_rules *r = boundary_rules_create();
    int rc = boundary_rules_decode(r, env->payload, env->payload_len);

    boundary_rules_destroy(r);
    if (rc != KITH_OK) {
        return KITH_EMALFORMED;
    }
    return store_rules_set(e->st, p->contact_id, STORE_RULES_TOLD, env->payload, env->payload_len);
}

/* ---- timers: releasing held messages ---- */

int64_t
engine_boundary_next_ms(struct engine *e)
{
    int64_t release = 0;
    int64_t wait;

    if (store_msg_next_release(e->st, &release) != KITH_OK) {
        return -1;
    }
    wait = release > INT64_MAX / 1000 ? INT64_MAX : release * 1000 - engine_now_ms();
    /* Release times are wall-clock instants, but zmq_poll's timeout runs on the monotonic
     * clock, and the wall clock can jump (suspend, NTP, a time zone change): while something
     * is held, look at the wall clock again at least once a second. */
    if (wait < 0) {
        wait = 0;
    }
    return wait > EB_RECHECK_MS ? EB_RECHECK_MS : wait;
}

/* The visible times of one contact as they grow during a release pass. */
struct eb_pass {
    int64_t contact_id;
    const struct engine_peer *p;
    struct boundary_rules *r;
    int64_t *vis;
    size_t nvis;
    size_t cap;
    size_t digest_mark; /* visible count before this pass's digest went out; SIZE_MAX: none */
    struct boundary_counters c;
};

static void
eb_pass_reset(struct eb_pass *ps)
{
    boundary_rules_destroy(ps->r);
    free(ps->vis);
    memset(ps, 0, sizeof *ps);
    ps->digest_mark = SIZE_MAX;
}

static int
eb_pass_load(struct engine *e, struct eb_pass *ps, int64_t contact_id, int64_t now)
{
    int rc;

    eb_pass_reset(ps);
    ps->contact_id = contact_id;
    ps->p = engine_peer_by_contact(e, contact_id);
    rc = eb_rules_load(e, contact_id, STORE_RULES_OURS, &ps->r);
    if (rc == KITH_OK && ps->r == NULL) {
        ps->r = boundary_rules_create(); /* trust level 0 defaults */
    }
    if (rc == KITH_OK) {
        rc = eb_counters(e, contact_id, ps->r, now, &ps->vis, &ps->nvis, &ps->c);
        ps->cap = ps->nvis;
    }
    return rc;
}

static void
eb_pass_visible(struct eb_pass *ps, int64_t now, bool is_digest)
{
    if (is_digest && ps->digest_mark != SIZE_MAX) {
        return; /* a digest counts once */
    }
    if (is_digest) {
        ps->digest_mark = ps->nvis;
    }
    if (ps->nvis == ps->cap) {
        ps->cap = ps->cap == 0 ? 16 : ps->cap * 2;
        ps->vis = xrealloc(ps->vis, ps->cap * sizeof *ps->vis);
    }
    ps->vis[ps->nvis++] = now;
}

/* Decide one held message under the rules now in force; *d is what to store. */
static int
eb_decide(struct engine *e, struct eb_pass *ps, const struct store_msg *m, int64_t now,
          struct store_disposition *d, bool *notify)
{
    struct boundary_verdict v;
    struct boundary_clock clk;
    struct boundary_msg bm;
    struct boundary_counters c = ps->c;
    int64_t release = 0;
    int rc;

    memset(d, 0, sizeof *d);
    *notify = true;
    if (ps->r == NULL) { /* every rule was cleared */
        d->state = STORE_MSG_RECEIVED;
        d->visible_at = now;
        d->is_digest = m->is_digest;
        return KITH_OK;
    }
    eb_clock(&clk, now);
    c.visible_at = ps->vis;
    c.visible_count = m->is_digest && ps->digest_mark != SIZE_MAX ? ps->digest_mark : ps->nvis;
    eb_msg(&bm, m->flags, m->text, m->text_len);
    rc = boundary_next_release(ps->r, &bm, &clk, &c, &release);
    if (rc == KITH_OK && release <= now) {
        rc = boundary_evaluate(ps->r, &bm, &clk, &c, &v);
        if (rc == KITH_OK && v.used_breakthrough) {
            rc = eb_breakthrough_used(e, ps->contact_id, now, &ps->c.breakthroughs_today);
        }
    } else if (rc == KITH_OK) {
        v.disposition = BOUNDARY_HOLD_UNTIL;
        v.reason = (enum boundary_reason)m->reason;
        v.release_at = release;
        v.is_digest = m->is_digest;
    }
    if (rc != KITH_OK) {
        return rc;
    }
    *notify = v.notify;
    d->reason = (int)v.reason;
    switch (v.disposition) {
    case BOUNDARY_DROP: /* a new block hides them; they stay stored and come back with it */
        d->state = STORE_MSG_HELD;
        d->release_at = now + EB_BLOCK_HIDE_S;
        d->is_digest = m->is_digest;
        return KITH_OK;
    case BOUNDARY_HOLD_UNTIL:
        d->state = STORE_MSG_HELD;
        d->release_at = v.release_at > now ? v.release_at : now + 1;
        d->is_digest = v.is_digest;
        return KITH_OK;
    default:
        d->state = eb_state_of(v.disposition);
        d->visible_at = now;
        d->is_digest = m->is_digest;
        return KITH_OK;
    }
}

/* Look at held messages of one contact (0: all): the due ones, or every one (force, after a
 * rule change). One transaction; released messages raise events. */
static int
eb_release_pass(struct engine *e, int64_t contact_id, bool force)
{
    struct store_msg *ms = NULL;
    struct eb_pass ps;
    size_t n = 0;
    int64_t now = eb_now();
    int rc = store_msg_held(e->st, contact_id, &ms, &n);

    memset(&ps, 0, sizeof ps);
    eb_pass_reset(&ps);
    if (rc != KITH_OK || n == 0) {
        store_msgs_free(ms, n);
        return rc;
    }
    rc = store_begin(e->st);
    for (size_t i = 0; i < n && rc == KITH_OK; i++) {
        struct store_msg *m = &ms[i];
        struct store_disposition d;
        bool notify = true;

        if (!force && m->release_at > now) {
            continue;
        }
        if (i == 0 || m->contact_id != ps.contact_id) {
            rc = eb_pass_load(e, &ps, m->contact_id, now);
            if (rc != KITH_OK) {
                break;
            }
        }
        if (eb_decide(e, &ps, m, now, &d, &notify) != KITH_OK) {
            continue; /* a damaged row stays held; the others go on */
        }
        rc = store_msg_release(e->st, m->msg_id, &d);
        if (rc == KITH_OK && d.state != STORE_MSG_HELD) {
            eb_pass_visible(&ps, now, d.is_digest);
            engine_emit_notify(e, ENGINE_EV_MESSAGE, ps.p != NULL ? ps.p->name : NULL, m->msg_id,
                               notify);
        }
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
    }
    eb_pass_reset(&ps);
    store_msgs_free(ms, n);
    return rc;
}

void
engine_boundary_run_due(struct engine *e)
{
    int64_t release = 0;

    if (store_msg_next_release(e->st, &release) != KITH_OK || release > eb_now()) {
        return;
    }
    KITH_IGNORE(eb_release_pass(e, 0, false)); /* on failure the rows stay due: next pass */
}

/* ---- verbs: rules ---- */

static int
eb_send_notice(struct engine *e, const struct store_contact *c, const uint8_t *told, size_t len)
{
    struct envelope env;
    uint8_t msg_id[16];
    int rc;

    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_BOUNDARY;
    env.version = 1;
    env.payload = told;
    env.payload_len = (uint32_t)len;
    rc = engine_seal_and_queue(e, c, &env, NULL, msg_id);
    if (rc == KITH_OK) {
        engine_flush(e, c->id);
    }
    return rc;
}

static char *
eb_summary(const struct boundary_rules *r, const struct boundary_clock *clk, const char *name)
{
    char *out = xmalloc(ENGINE_BOUNDARY_TEXT);

    if (r == NULL) {
        snprintf(out, ENGINE_BOUNDARY_TEXT,
                 "No boundaries for %s: their messages arrive as they are sent.\n", name);
    } else {
        KITH_IGNORE(boundary_rules_summary(r, clk, out, ENGINE_BOUNDARY_TEXT)); /* truncated */
    }
    return out;
}

static int
eb_change(struct engine *e, const char *contact, const char *const *rules, size_t n, bool is_clear,
          const char **why, char **summary)
{
    uint8_t buf[BOUNDARY_ENCODED_MAX];
    uint8_t told_old[BOUNDARY_ENCODED_MAX];
    uint8_t told_new[BOUNDARY_ENCODED_MAX];
    size_t len = 0, old_len = 0, new_len = 0;
    struct boundary_rules *r = NULL;
    struct boundary_clock clk;
    struct store_contact c;
    bool had_rules;
    int rc;

    *why = NULL;
    *summary = NULL;
    rc = store_contact_by_name(e->st, contact, &c);
    if (rc == KITH_OK) {
        rc = eb_rules_load(e, c.id, STORE_RULES_OURS, &r);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    had_rules = r != NULL;
    if (r == NULL) {
        r = boundary_rules_create();
    }
    eb_clock(&clk, eb_now());
    rc = boundary_rules_encode(r, true, told_old, sizeof told_old, &old_len);
    if (rc == KITH_OK) {
        rc = is_clear ? boundary_rules_clear(r, rules, n, why)
                      : boundary_rules_set(r, rules, n, &clk, why);
    }
    if (rc == KITH_OK) {
        rc = boundary_rules_encode(r, false, buf, sizeof buf, &len);
    }
    if (rc == KITH_OK) {
        rc = boundary_rules_encode(r, true, told_new, sizeof told_new, &new_len);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    if (is_clear && n == 0) {
        boundary_rules_destroy(r); /* all cleared: back to no boundaries at all */
        r = NULL;
        len = 0;
    }
    rc = store_rules_set(e->st, c.id, STORE_RULES_OURS, buf, len);
    if (rc != KITH_OK) {
        goto out;
    }
    KITH_IGNORE(engine_reload_peers(e)); /* block list for ZAP; the store is already right */
    KITH_IGNORE(eb_release_pass(e, c.id, true)); /* lifting a hold releases at once */
    KITH_IGNORE(engine_repair_release_held(e, c.id, true)); /* and held repair steps too */
    if (!had_rules || old_len != new_len || memcmp(told_old, told_new, new_len) != 0) {
        /* Best effort now; a contact without a session yet hears at the next change. */
        KITH_IGNORE(eb_send_notice(e, &c, told_new, new_len));
    }
    *summary = eb_summary(r, &clk, c.name);
out:
    sodium_memzero(buf, sizeof buf);
    boundary_rules_destroy(r);
    return rc;
}

int
engine_boundary_set(struct engine *e, const char *contact, const char *const *rules, size_t n,
                    const char **why, char **summary)
{
    if (n == 0) {
        *why = "Name at least one rule, like quiet=22:00-08:00 or mute=8h.";
        *summary = NULL;
        return KITH_EINVAL;
    }
    return eb_change(e, contact, rules, n, false, why, summary);
}

int
engine_boundary_clear(struct engine *e, const char *contact, const char *const *rules, size_t n,
                      const char **why, char **summary)
{
    return eb_change(e, contact, rules, n, true, why, summary);
}

int
engine_boundary_show(struct engine *e, const char *contact, bool json, char **out)
{
    struct boundary_rules *r = NULL;
    struct boundary_clock clk;
    struct store_contact c;
    int rc;

    *out = NULL;
    rc = store_contact_by_name(e->st, contact, &c);
    if (rc == KITH_OK) {
        rc = eb_rules_load(e, c.id, STORE_RULES_OURS, &r);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    if (r == NULL) {
        r = boundary_rules_create(); /* nothing chosen yet: show the New defaults in force */
    }
    eb_clock(&clk, eb_now());
    if (!json) {
        *out = eb_summary(r, &clk, c.name);
    } else {
        *out = xmalloc(ENGINE_BOUNDARY_TEXT * 2);
        if (r == NULL) {
            snprintf(*out, ENGINE_BOUNDARY_TEXT * 2, "{\"rules\":[]}");
        } else {
            rc = boundary_rules_json(r, *out, ENGINE_BOUNDARY_TEXT * 2);
        }
    }
    boundary_rules_destroy(r);
    return rc;
}

int
engine_boundary_show_told(struct engine *e, const char *contact, char **out)
{
    struct boundary_rules *r = NULL;
    struct boundary_clock clk;
    struct store_contact c;
    int rc;

    *out = NULL;
    rc = store_contact_by_name(e->st, contact, &c);
    if (rc == KITH_OK) {
        rc = eb_rules_load(e, c.id, STORE_RULES_TOLD, &r);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(1, ENGINE_BOUNDARY_TEXT);
    eb_clock(&clk, eb_now());
    for (size_t i = 0, len = 0; r != NULL && i < boundary_rules_count(r); i++) {
        KITH_IGNORE(
            boundary_rules_summary_one(r, i, &clk, *out + len, ENGINE_BOUNDARY_TEXT - len - 1));
        len += strlen(*out + len);
        if (len + 2 < ENGINE_BOUNDARY_TEXT) {
            (*out)[len++] = '\n';
        }
    }
    boundary_rules_destroy(r);
    return KITH_OK;
}

int
engine_boundary_preview(const char *const *rules, size_t n, const char **why, char **out)
{
    struct boundary_rules *r = boundary_rules_create();
    struct boundary_clock clk;
    struct {
        char *s;
        size_t len;
    } t = { NULL, 0 };
    int rc;

    *out = NULL;
    eb_clock(&clk, eb_now());
    rc = boundary_rules_set(r, rules, n, &clk, why);
    if (rc == KITH_OK) {
        size_t count = boundary_rules_count(r);
        t.s = xcalloc(1, ENGINE_BOUNDARY_TEXT);
        for (size_t i = 0; i < count && t.len + 2 < ENGINE_BOUNDARY_TEXT; i++) {
            KITH_IGNORE(boundary_rules_summary_one(r, i, &clk, t.s + t.len,
                                                   ENGINE_BOUNDARY_TEXT - t.len - 1));
            t.len += strlen(t.s + t.len);
            if (i + 1 < count) {
                t.s[t.len++] = '\n';
            }
        }
        *out = t.s;
    }
    boundary_rules_destroy(r);
    return rc;
}

/* "Rule names in force" for contacts --json and the sidebar mark, from the JSON listing. */
void
engine_boundary_names(struct engine *e, int64_t contact_id, char *buf, size_t cap)
{
    struct boundary_rules *r = NULL;
    char *json = NULL;
    size_t len = 0;

    buf[0] = '\0';
    if (eb_rules_load(e, contact_id, STORE_RULES_OURS, &r) != KITH_OK || r == NULL) {
        return;
    }
    json = xmalloc(ENGINE_BOUNDARY_TEXT * 2);
    if (boundary_rules_json(r, json, ENGINE_BOUNDARY_TEXT * 2) == KITH_OK) {
        for (const char *p = strstr(json, "{\"rule\":\""); p != NULL;
             p = strstr(p + 1, "{\"rule\":\"")) {
            const char *name = p + 9;
            size_t n = strcspn(name, "\"");
            char word[32];
            snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31), name);
            if (strstr(buf, word) != NULL || len + n + 2 > cap) {
                continue; /* quiet may repeat */
            }
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len > 0 ? "," : "", word);
        }
    }
    free(json);
    boundary_rules_destroy(r);
}

/* ---- verbs: the sender's preview ---- */

/* "08:00" at t in zone ("" = local). */
static void
eb_hhmm(int64_t t, const char *zone, char out[16])
{
    struct tm tm;
    time_t tt = (time_t)t;
    int off = 0;

    if (zone != NULL && zone[0] != '\0' && boundary_tz_system(NULL, zone, t, &off) == KITH_OK) {
        tt = (time_t)(t + off);
        gmtime_r(&tt, &tm);
    } else {
        localtime_r(&tt, &tm);
    }
    strftime(out, 16, "%H:%M", &tm);
}

/* The zone of the first quiet interval in a told rule set, "" when none is named. */
static void
eb_told_zone(const struct boundary_rules *r, char out[EB_ZONE_MAX])
{
    char *json = xmalloc(ENGINE_BOUNDARY_TEXT * 2);
    const char *p;

    out[0] = '\0';
    if (boundary_rules_json(r, json, ENGINE_BOUNDARY_TEXT * 2) == KITH_OK &&
        (p = strstr(json, "\"tz\":\"")) != NULL) {
        size_t n = strcspn(p + 6, "\"");
        if (n < EB_ZONE_MAX) {
            snprintf(out, EB_ZONE_MAX, "%.*s", (int)n, p + 6);
        }
    }
    free(json);
}

int
engine_send_preview(struct engine *e, const char *target, unsigned flags, char *line, size_t cap)
{
    struct boundary_rules *told = NULL;
    struct boundary_verdict v;
    struct boundary_clock clk;
    struct boundary_msg bm;
    struct store_contact c;
    char zone[EB_ZONE_MAX];
    char theirs[16], yours[16];
    int rc;

    line[0] = '\0';
    rc = store_contact_by_name(e->st, target, &c);
    if (rc == KITH_OK) {
        rc = eb_rules_load(e, c.id, STORE_RULES_TOLD, &told);
    }
    if (rc != KITH_OK || told == NULL) {
        return rc;
    }
    eb_clock(&clk, eb_now());
    eb_msg(&bm,
           (uint16_t)(((flags & ENGINE_SEND_HEAVY) ? ENVELOPE_F_HEAVY : 0) |
                      ((flags & ENGINE_SEND_URGENT) ? ENVELOPE_F_URGENT : 0)),
           NULL, 0);
    /* Only time holds are previewed: the notice never carries trust, so defaults that depend
     * on it (pace, ask-first) are the receiver's to tell in the receipt. */
    rc = boundary_evaluate(told, &bm, &clk, NULL, &v);
    if (rc == KITH_OK && v.disposition == BOUNDARY_HOLD_UNTIL &&
        (v.reason == BOUNDARY_REASON_QUIET || v.reason == BOUNDARY_REASON_SNOOZE)) {
        eb_told_zone(told, zone);
        eb_hhmm(v.tell_at, "", yours);
        if (v.reason == BOUNDARY_REASON_SNOOZE) {
            snprintf(line, cap, "%s is taking some time; your message will reach them at %s.",
                     c.name, yours);
        } else if (zone[0] != '\0') {
            eb_hhmm(v.tell_at, zone, theirs);
            snprintf(line, cap,
                     "%s has quiet hours now; your message will arrive at %s their time "
                     "(your time %s).",
                     c.name, theirs, yours);
        } else {
            snprintf(line, cap, "%s has quiet hours now; your message will arrive at %s.", c.name,
                     yours);
        }
    }
    boundary_rules_destroy(told);
    return rc;
}

/* ---- verbs: consent and unfolding ---- */

static int
eb_own_incoming(struct engine *e, const char *contact, const char *id_hex, struct store_contact *c,
                struct store_msg *m)
{
    size_t bin_len = 0;
    int rc;

    memset(m, 0, sizeof *m);
    if (strlen(id_hex) != 32 ||
        sodium_hex2bin(m->msg_id, 16, id_hex, 32, NULL, &bin_len, NULL) != 0 || bin_len != 16) {
        return KITH_EINVAL;
    }
    rc = store_contact_by_name(e->st, contact, c);
    if (rc == KITH_OK) {
        uint8_t id[16];
        memcpy(id, m->msg_id, 16);
        rc = store_msg_get(e->st, id, m);
    }
    if (rc == KITH_OK && (m->outgoing || m->contact_id != c->id)) {
        store_msg_free(m);
        rc = KITH_ENOTFOUND;
    }
    return rc;
}

/* The consent answer for the sender (DOMAIN.md §3): a new receipt for that message, through the
 * outbox (retried until acknowledged), committed with the answer; the row remembers what we told
 * so a repeated receipt says the same. Inside the caller's transaction. */
static int
eb_tell_answer(struct engine *e, const struct store_contact *c, const uint8_t msg_id[16],
               int tell, int64_t at)
{
    uint8_t receipt[RECEIPT_BYTES];
    struct session *s = NULL;
    struct envelope env;
    uint8_t frame_id[16];
    uint64_t at_be = at > 0 ? (uint64_t)at : 0;
    int rc = store_msg_set_tell(e->st, msg_id, tell, at);

    memcpy(receipt, msg_id, 16);
    receipt[16] = (uint8_t)tell;
    for (int byte = 0; byte < 8; byte++) {
        receipt[17 + byte] = (uint8_t)(at_be >> (56 - 8 * byte));
    }
    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_RECEIPT;
    env.version = 1;
    env.payload = receipt;
    env.payload_len = sizeof receipt;
    if (rc == KITH_OK) {
        rc = store_session_load(e->st, c->id, &s);
    }
    if (rc == KITH_OK) {
        rc = engine_seal_locked(e, c, s, &env, NULL, frame_id);
    }
    if (rc == KITH_OK) {
        rc = store_session_save(e->st, c->id, s);
    }
    session_destroy(s);
    return rc;
}

/* Rounded up to the minute, as every time the sender is told (boundary.h). */
static int64_t
eb_minute_up(int64_t t)
{
    return t % 60 == 0 ? t : t + (60 - t % 60);
}

int
engine_consent(struct engine *e, const char *contact, const char *id_hex,
               enum engine_consent answer, int64_t later_at)
{
    struct boundary_rules *r = NULL;
    struct store_disposition d;
    struct store_contact c;
    struct store_msg m;
    int64_t now = eb_now();
    int tell = RECEIPT_DELIVERED;
    int64_t tell_at = 0;
    bool is_in_tx = false;
    int rc = eb_own_incoming(e, contact, id_hex, &c, &m);

    if (rc != KITH_OK) {
        return rc;
    }
    memset(&d, 0, sizeof d);
    d.visible_at = m.visible_at > 0 ? m.visible_at : now;
    if (m.state != STORE_MSG_AWAITING_CONSENT) {
        rc = KITH_ESTATE;
    } else {
        rc = store_begin(e->st); /* the answer and the receipt that tells it, together */
        is_in_tx = rc == KITH_OK;
    }
    if (rc != KITH_OK) {
        /* nothing to answer */
    } else if (answer == ENGINE_CONSENT_YES) {
        char key[48], value[32];
        d.state = STORE_MSG_RECEIVED;
        rc = eb_rules_load(e, c.id, STORE_RULES_OURS, &r);
        snprintf(key, sizeof key, EB_CONSENT_KEY "%" PRId64, c.id);
        snprintf(value, sizeof value, "%" PRId64,
                 now + (r != NULL ? boundary_consent_window(r, now) : 3600));
        if (rc == KITH_OK) {
            rc = store_setting_set(e->st, key, value); /* the consent window opens */
        }
    } else if (answer == ENGINE_CONSENT_LATER) {
        d.state = STORE_MSG_HELD;
        d.reason = BOUNDARY_REASON_HEAVY;
        d.release_at = later_at;
        d.visible_at = 0;
        tell = RECEIPT_HELD_UNTIL;
        tell_at = eb_minute_up(later_at);
        rc = later_at > now ? KITH_OK : KITH_EINVAL;
    } else if (answer == ENGINE_CONSENT_NO) {
        d.state = STORE_MSG_FOLDED;
        d.reason = BOUNDARY_REASON_HEAVY;
        tell = RECEIPT_NO_SPACE;
    } else {
        rc = KITH_EINVAL;
    }
    if (rc == KITH_OK) {
        rc = store_msg_release(e->st, m.msg_id, &d);
    }
    if (rc == KITH_OK) {
        rc = eb_tell_answer(e, &c, m.msg_id, tell, tell_at);
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK && is_in_tx) {
        store_rollback(e->st);
    }
    if (rc == KITH_OK) {
        engine_emit_notify(e, ENGINE_EV_MESSAGE, c.name, m.msg_id, false);
        engine_flush(e, c.id);
    }
    boundary_rules_destroy(r);
    store_msg_free(&m);
    return rc;
}

int
engine_show(struct engine *e, const char *contact, const char *id_hex, char **text)
{
    struct store_disposition d;
    struct store_contact c;
    struct store_msg m;
    int rc = eb_own_incoming(e, contact, id_hex, &c, &m);

    *text = NULL;
    if (rc != KITH_OK) {
        return rc;
    }
    if (m.state == STORE_MSG_HELD || m.state == STORE_MSG_AWAITING_CONSENT) {
        rc = KITH_ESTATE;
    } else if (m.state == STORE_MSG_FOLDED) {
        memset(&d, 0, sizeof d);
        d.state = STORE_MSG_RECEIVED;
        d.visible_at = m.visible_at;
        rc = store_msg_release(e->st, m.msg_id, &d);
    }
    if (rc == KITH_OK) {
        *text = xstrdup(m.text);
    }
    store_msg_free(&m);
    return rc;
}

/* ---- history: what a view may see of a message ---- */

static const char *
eb_told_name(int tell)
{
    switch (tell) {
    case RECEIPT_DELIVERED:
        return "delivered";
    case RECEIPT_HELD_UNTIL:
        return "held_until";
    case RECEIPT_AWAITING_CONSENT:
        return "awaiting_consent";
    case RECEIPT_DIGEST_AT:
        return "digest_at";
    case RECEIPT_NO_SPACE:
        return "no_space";
    default:
        return NULL;
    }
}

static const char *
eb_folded_reason(int reason)
{
    switch (reason) {
    case BOUNDARY_REASON_NOTES:
        return "notes";
    case BOUNDARY_REASON_CW:
        return "content_warning";
    case BOUNDARY_REASON_HEAVY:
        return "heavy";
    default:
        return NULL;
    }
}

static const char *
eb_note(const struct store_msg *sm)
{
    switch (sm->state) {
    case STORE_MSG_HELD:
        switch (sm->reason) {
        case BOUNDARY_REASON_QUIET:
            return "Held by your quiet hours.";
        case BOUNDARY_REASON_SNOOZE:
            return "Held while you take some time.";
        case BOUNDARY_REASON_RATE:
            return sm->is_digest ? "Waiting for your next bundle." : "Waiting for a slower pace.";
        case BOUNDARY_REASON_HEAVY:
            return "You asked to be asked again later.";
        default:
            return "Held for now.";
        }
    case STORE_MSG_FOLDED:
        return sm->reason == BOUNDARY_REASON_HEAVY
                   ? "Folded — you said you can't take this on right now. Open it anytime."
                   : "Folded — mentions something on your list.";
    case STORE_MSG_AWAITING_CONSENT:
        return "would like to share something heavy. Do you have space right now?";
    default:
        return NULL;
    }
}

void
engine_boundary_describe(const struct store_msg *sm, struct engine_msg *m)
{
    m->is_heavy = (sm->flags & ENVELOPE_F_HEAVY) != 0;
    m->is_digest = sm->is_digest;
    if (sm->outgoing) {
        m->told = eb_told_name(sm->tell);
        m->arrives_at =
            sm->tell == RECEIPT_HELD_UNTIL || sm->tell == RECEIPT_DIGEST_AT ? sm->tell_at : 0;
        return;
    }
    m->note = eb_note(sm);
    if (sm->state == STORE_MSG_FOLDED) {
        m->folded_reason = eb_folded_reason(sm->reason);
    }
    if (sm->state == STORE_MSG_HELD || sm->state == STORE_MSG_FOLDED ||
        sm->state == STORE_MSG_AWAITING_CONSENT) {
        if (m->text != NULL) {
            sodium_memzero(m->text, strlen(m->text));
            free(m->text);
        }
        m->text = xstrdup(""); /* the content waits for its boundary */
    }
}
