/*
 * engine_circle: support circles in the engine (PROTOCOL-NOTES.md §2.6).
 * The membership is a signed op log resolved by core/circle; this file keeps
 * each circle's resolved state in memory, turns membership changes into new
 * epochs (fresh sender keys handed out over the 1:1 sessions, introductions
 * between members who do not know each other yet), and holds the verbs:
 * create, invite, remove, leave, send, and the views' queries.
 *
 * Everything a membership change produces (the new op log, our new sender
 * key, the distributions and introductions as sealed outbox rows) commits in
 * one transaction, so a crash never leaves a half-applied epoch.
 */
#include "core/engine_circle_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kcrypt.h"
#include "core/session.h"
#include "net/sync.h"
#include "proto/invite.h"

/* ---- memory ---- */

static void
circle_mem_free(struct engine_circle *c)
{
    free(c->st);
    sync_vec_destroy(c->held);
    c->st = NULL;
    c->held = NULL;
}

void
engine_circles_free(struct engine *e)
{
    for (size_t i = 0; i < e->ncircles; i++) {
        circle_mem_free(&e->circles[i]);
    }
    free(e->circles);
    e->circles = NULL;
    e->ncircles = 0;
}

/* What we hold of a circle's frames, from the store. */
static void
circle_load_held(struct engine *e, struct engine_circle *c)
{
    uint8_t (*senders)[16];
    size_t n = 0;
    struct store_hwm *hw = NULL;
    size_t nhw = 0;

    c->held = sync_vec_create();
    if (c->st == NULL) {
        return;
    }
    senders = xcalloc(CIRCLE_EPOCHS_KEPT * CIRCLE_MAX_MEMBERS + 1, 16);
    for (size_t i = 0; i < c->st->nepochs; i++) {
        for (size_t m = 0; m < c->st->epochs[i].nmembers; m++) {
            bool dup = false;
            for (size_t k = 0; k < n && !dup; k++) {
                dup = memcmp(senders[k], c->st->epochs[i].members[m], 16) == 0;
            }
            if (!dup) {
                memcpy(senders[n++], c->st->epochs[i].members[m], 16);
            }
        }
    }
    if (store_cframe_hwms(e->st, c->id, c->st->nepochs > 0 ? c->st->epochs[0].epoch_no : 0,
                          (const uint8_t (*)[16])senders, n, &hw, &nhw) == KITH_OK) {
        for (size_t i = 0; i < nhw; i++) {
            sync_vec_set_hwm(c->held, hw[i].epoch, hw[i].sender, hw[i].hwm);
        }
    }
    free(hw);
    free(senders);
}

int
engine_circles_reload(struct engine *e)
{
    struct store_circle *cs = NULL;
    size_t n = 0;
    int rc = store_circles_list(e->st, &cs, &n);

    if (rc != KITH_OK) {
        return rc;
    }
    engine_circles_free(e);
    e->circles = xcalloc(n + 1, sizeof *e->circles);
    for (size_t i = 0; i < n; i++) {
        struct engine_circle *c = &e->circles[e->ncircles++];
        uint8_t *ops = NULL;
        size_t ops_len = 0;
        c->id = cs[i].id;
        memcpy(c->circle_id, cs[i].circle_id, 16);
        c->state = cs[i].state;
        if (store_circle_ops_get(e->st, c->id, &ops, &ops_len) == KITH_OK && ops_len > 0) {
            c->st = xmalloc(sizeof *c->st);
            if (circle_resolve(ops, ops_len, c->st) != KITH_OK) {
                free(c->st);
                c->st = NULL;
            }
        }
        store_blob_free(ops, ops_len);
        circle_load_held(e, c);
    }
    free(cs);
    return KITH_OK;
}

struct engine_circle *
engine_circle_by_cid(struct engine *e, const uint8_t circle_id[16])
{
    for (size_t i = 0; i < e->ncircles; i++) {
        if (memcmp(e->circles[i].circle_id, circle_id, 16) == 0) {
            return &e->circles[i];
        }
    }
    return NULL;
}

bool
engine_circle_shared(struct engine *e, const uint8_t member_id[16])
{
    for (size_t i = 0; i < e->ncircles; i++) {
        const struct engine_circle *c = &e->circles[i];
        if (c->st != NULL && c->state == STORE_CIRCLE_ACTIVE &&
            circle_member_find(c->st, member_id) != NULL) {
            return true;
        }
    }
    return false;
}

/* ---- helpers shared with engine_circle_recv.c ---- */

void
engine_circle_me(struct engine *e, struct circle_member *m)
{
    memset(m, 0, sizeof *m);
    m->pub = *identity_public(e->id);
    memcpy(m->member_id, e->member_id, 16);
    snprintf(m->name, sizeof m->name, "%s", e->name);
    if (strcmp(e->publish, "none") != 0 &&
        frame_valid_endpoint(e->publish, strlen(e->publish), false)) {
        snprintf(m->endpoint, sizeof m->endpoint, "%s", e->publish);
    }
}

int
engine_circle_intro_secret_set(struct engine *e, const uint8_t member_id[16],
                               const uint8_t secret[32])
{
    char key[64];
    char hex[65];
    int rc;

    memcpy(key, "intro:", 6);
    kcrypt_hex(key + 6, member_id, 16);
    kcrypt_hex(hex, secret, 32);
    rc = store_setting_set(e->st, key, hex);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int
engine_circle_intro_secret_get(struct engine *e, const uint8_t member_id[16], uint8_t secret[32])
{
    char key[64];
    char *hex = NULL;
    size_t bin_len = 0;
    int rc;

    memcpy(key, "intro:", 6);
    kcrypt_hex(key + 6, member_id, 16);
    rc = store_setting_get(e->st, key, &hex);
    if (rc != KITH_OK) {
        return rc;
    }
    if (strlen(hex) != 64 ||
        sodium_hex2bin(secret, 32, hex, 64, NULL, &bin_len, NULL) != 0 || bin_len != 32) {
        rc = KITH_ECORRUPT;
    }
    sodium_memzero(hex, strlen(hex));
    free(hex);
    return rc;
}

/* A contact for a member we were introduced to (no session yet). *contact_id set. */
int
engine_circle_contact_for(struct engine *e, const struct circle_member *m, int64_t *contact_id)
{
    struct store_contact c;
    int rc = store_contact_by_member(e->st, m->member_id, &c);

    if (rc == KITH_OK) {
        *contact_id = c.id;
        return KITH_OK;
    }
    if (rc != KITH_ENOTFOUND) {
        return rc;
    }
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", m->name[0] != '\0' ? m->name : "member");
    for (int i = 2; i < 100; i++) {
        struct store_contact tmp;
        if (store_contact_by_name(e->st, c.name, &tmp) != KITH_OK) {
            break;
        }
        snprintf(c.name, sizeof c.name, "%.58s %d", m->name, i);
    }
    c.pub = m->pub;
    memcpy(c.member_id, m->member_id, 16);
    if (m->endpoint[0] != '\0') {
        snprintf(c.endpoints[0], sizeof c.endpoints[0], "%s", m->endpoint);
        c.n_endpoints = 1;
    }
    c.state = STORE_CONTACT_PENDING;
    c.created_at = engine_now_ms() / 1000;
    rc = store_contact_add(e->st, &c);
    if (rc == KITH_OK) {
        *contact_id = c.id;
    }
    return rc;
}

/* Our sender key for the circle's current epoch: loaded, or a fresh one when the epoch moved
 * or rotation is due (*fresh true: it must be handed out). */
static int
circle_own_key(struct engine *e, const struct engine_circle *c, struct circle_sender *s,
               bool *fresh)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    uint32_t now = (uint32_t)(engine_now_ms() / 1000);
    int rc = store_circle_own_key_get(e->st, c->id, &buf, &len);

    *fresh = false;
    if (rc == KITH_OK) {
        rc = circle_sender_parse(buf, len, s);
        store_blob_free(buf, len);
    }
    if (rc == KITH_ENOTFOUND || (rc == KITH_OK && s->epoch_no != c->st->epoch_no)) {
        circle_sender_new(s, c->st->epoch_no, c->st->epoch_id, 0, 1, now);
        *fresh = true;
        return KITH_OK;
    }
    if (rc == KITH_OK && circle_sender_due(s, now)) {
        /* A new generation (100 messages or 7 days): copies first, s is rewritten. */
        uint8_t epoch_id[16];
        uint32_t epoch_no = s->epoch_no;
        uint32_t gen = s->gen + 1;
        uint64_t seq = s->seq;
        memcpy(epoch_id, s->epoch_id, sizeof epoch_id);
        circle_sender_new(s, epoch_no, epoch_id, gen, seq, now);
        *fresh = true;
    }
    return rc;
}

static int
circle_own_key_save(struct engine *e, int64_t circle, const struct circle_sender *s)
{
    uint8_t buf[CIRCLE_SENDER_BYTES];
    int rc;

    circle_sender_serialize(s, buf);
    rc = store_circle_own_key_set(e->st, circle, buf, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* Seal one circle envelope to one member over our 1:1 session (KITH_ESTATE: no session yet;
 * the introduction sends it when the session comes up). */
int
engine_circle_send_env(struct engine *e, struct engine_txn *t, const uint8_t member_id[16],
                       uint8_t type, const uint8_t *payload, size_t len)
{
    struct store_contact c;
    struct envelope env;
    uint8_t msg_id[16];
    int rc = store_contact_by_member(e->st, member_id, &c);

    if (rc != KITH_OK) {
        return rc;
    }
    memset(&env, 0, sizeof env);
    env.type = type;
    env.version = 1;
    env.payload = payload;
    env.payload_len = (uint32_t)len;
    return engine_txn_seal(e, t, c.id, &env, NULL, msg_id);
}

/* Hand our current sender key to one member (or every member when member_id is NULL). */
static int
circle_distribute(struct engine *e, struct engine_txn *t, const struct engine_circle *c,
                  const struct circle_sender *s, const uint8_t *member_id)
{
    struct circle_skd skd;
    uint8_t buf[CIRCLE_SKD_BYTES];
    int rc = KITH_OK;

    circle_sender_skd(s, c->circle_id, &skd);
    circle_skd_encode(&skd, buf);
    for (size_t i = 0; i < c->st->nmembers && rc == KITH_OK; i++) {
        const uint8_t *m = c->st->members[i].member_id;
        if (memcmp(m, e->member_id, 16) == 0 ||
            (member_id != NULL && memcmp(m, member_id, 16) != 0)) {
            continue;
        }
        rc = engine_circle_send_env(e, t, m, ENVELOPE_SENDER_KEY, buf, sizeof buf);
        if (rc == KITH_ESTATE || rc == KITH_ENOTFOUND) {
            rc = KITH_OK; /* introduction pending: sent when their session comes up */
        }
        engine_crash_point("epoch.mid_distribution");
    }
    sodium_memzero(&skd, sizeof skd);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int
engine_circle_ensure_key(struct engine *e, struct engine_txn *t, const struct engine_circle *c,
                         struct circle_sender *s)
{
    bool fresh = false;
    int rc = circle_own_key(e, c, s, &fresh);

    if (rc == KITH_OK && fresh) {
        rc = circle_own_key_save(e, c->id, s);
        if (rc == KITH_OK) {
            rc = circle_distribute(e, t, c, s, NULL);
        }
    }
    return rc;
}

int
engine_circle_intro_done(struct engine *e, struct engine_txn *t, int64_t contact_id)
{
    struct store_contact pc;
    int rc = store_contact_by_id(e->st, contact_id, &pc);

    for (size_t i = 0; i < e->ncircles && rc == KITH_OK; i++) {
        struct engine_circle *c = &e->circles[i];
        struct circle_sender s;
        bool fresh = false;
        if (c->st == NULL || c->state != STORE_CIRCLE_ACTIVE ||
            circle_member_find(c->st, pc.member_id) == NULL) {
            continue;
        }
        rc = circle_own_key(e, c, &s, &fresh);
        if (rc == KITH_OK && fresh) {
            rc = circle_own_key_save(e, c->id, &s);
            if (rc == KITH_OK) {
                rc = circle_distribute(e, t, c, &s, NULL);
            }
        } else if (rc == KITH_OK) {
            rc = circle_distribute(e, t, c, &s, pc.member_id);
        }
        sodium_memzero(&s, sizeof s);
    }
    return rc;
}

/* Start a 1:1 session with a member we were introduced to: our first frame to them is a
 * SESSION_INIT against their IKdh with the intro PSK. */
static int
circle_introduce(struct engine *e, struct engine_txn *t, const struct circle_member *m,
                 const uint8_t intro_secret[32])
{
    int64_t contact_id = 0;
    struct session *s = NULL;
    uint8_t psk[32];
    int rc = engine_circle_contact_for(e, m, &contact_id);

    if (rc != KITH_OK) {
        return rc;
    }
    if (engine_txn_session(e, t, contact_id) != NULL) {
        return KITH_OK; /* we talk already */
    }
    rc = engine_circle_intro_secret_set(e, m->member_id, intro_secret);
    if (rc != KITH_OK) {
        return rc;
    }
    circle_intro_psk(intro_secret, identity_public(e->id)->ik, m->pub.ik, psk);
    rc = session_initiate(e->id, &m->pub, m->pub.ikdh, ENGINE_INTRO_SPK_ID, psk, &s);
    sodium_memzero(psk, sizeof psk);
    if (rc != KITH_OK) {
        return rc;
    }
    engine_txn_adopt(t, contact_id, s);
    t->reload_peers = true;
    return KITH_OK;
}

/* Would a LEAVE of member_id be accepted on top of st? Not for the last admin while others
 * stay (the circle would have nobody to add or remove people). */
static bool
circle_may_leave(const struct circle_state *st, const uint8_t member_id[16])
{
    const struct circle_member *me = circle_member_find(st, member_id);
    size_t admins = 0;

    if (me == NULL) {
        return false;
    }
    for (size_t i = 0; i < st->nmembers; i++) {
        admins += st->members[i].admin ? 1 : 0;
    }
    return !me->admin || admins > 1 || st->nmembers == 1;
}

/* The welcome for a member we added: the whole log (so they can check every step) and the
 * secret of their introductions. */
int
engine_circle_welcome(struct engine *e, struct engine_txn *t, const struct engine_circle *c,
                      const uint8_t member_id[16], const uint8_t secret[32])
{
    uint8_t *log = NULL;
    size_t log_len = 0;
    uint8_t *payload;
    int rc = store_circle_ops_get(e->st, c->id, &log, &log_len);

    if (rc != KITH_OK) {
        return rc;
    }
    payload = xmalloc(32 + log_len);
    memcpy(payload, secret, 32);
    memcpy(payload + 32, log, log_len);
    rc = engine_circle_send_env(e, t, member_id, ENVELOPE_CIRCLE_WELCOME, payload, 32 + log_len);
    sodium_memzero(payload, 32);
    free(payload);
    store_blob_free(log, log_len);
    return rc;
}

/* Ops of ours that lost a race (another op on the same epoch hashed lower) are issued again on
 * top of the winner while they still mean something (PROTOCOL-NOTES.md §2.6). */
static int
circle_reissue(struct engine *e, struct engine_txn *t, struct engine_circle *c,
               const uint8_t *log, size_t log_len)
{
    const uint8_t *my_ik = identity_public(e->id)->ik;
    size_t nlosers = c->st->nlosers < 8 ? c->st->nlosers : 8;
    size_t off = 0;
    const uint8_t *op;
    size_t op_len;
    int rc = KITH_OK;

    while (nlosers > 0 && rc == KITH_OK &&
           circle_log_next(log, log_len, &off, &op, &op_len) == KITH_OK) {
        struct circle_op dec;
        bool lost = false;
        if (circle_op_decode(op, op_len, &dec) != KITH_OK ||
            memcmp(dec.issuer_ik, my_ik, 32) != 0) {
            continue;
        }
        for (size_t i = 0; i < nlosers; i++) {
            lost = lost || memcmp(c->st->losers[i], dec.hash, 32) == 0;
        }
        if (!lost) {
            continue;
        }
        if (dec.type == CIRCLE_OP_ADD &&
            circle_member_find(c->st, dec.subject.member_id) == NULL) {
            struct circle_op again;
            uint8_t secret[32];
            memset(&again, 0, sizeof again);
            again.type = CIRCLE_OP_ADD;
            again.subject = dec.subject;
            randombytes_buf(secret, sizeof secret);
            rc = engine_circle_issue(e, t, c, &again, secret, NULL);
            if (rc == KITH_OK) {
                rc = engine_circle_welcome(e, t, c, dec.subject.member_id, secret);
            }
            sodium_memzero(secret, sizeof secret);
            return rc; /* the log changed under us: one at a time */
        }
        if (dec.type == CIRCLE_OP_REMOVE &&
            circle_member_find(c->st, dec.subject.member_id) != NULL) {
            struct circle_op again;
            memset(&again, 0, sizeof again);
            again.type = CIRCLE_OP_REMOVE;
            again.subject = dec.subject;
            return engine_circle_issue(e, t, c, &again, NULL, dec.subject.member_id);
        }
    }
    return rc;
}

/*
 * The op log of circle c grew to (log, log_len). Resolve it; when the epoch moved: store the
 * log, follow our own membership, introduce ourselves to members who joined (intro_secret,
 * when we were given one for this op), and start our sender key of the new epoch.
 */
int
engine_circle_apply(struct engine *e, struct engine_txn *t, struct engine_circle *c,
                    const uint8_t *log, size_t log_len, const uint8_t *intro_secret)
{
    struct circle_state *ns = xmalloc(sizeof *ns);
    struct circle_state *old = c->st;
    int state = c->state;
    int rc = circle_resolve(log, log_len, ns);

    if (rc != KITH_OK) {
        free(ns);
        return rc;
    }
    rc = store_circle_ops_set(e->st, c->id, log, log_len);
    if (rc != KITH_OK) {
        free(ns);
        return rc;
    }
    t->reload_circles = true;
    if (circle_member_find(ns, e->member_id) == NULL) {
        /* Removed (or we left): no keys of the new epoch come to us; ours are dropped. */
        state = state == STORE_CIRCLE_LEFT ? STORE_CIRCLE_LEFT : STORE_CIRCLE_REMOVED;
        rc = store_circle_set_state(e->st, c->id, state);
        if (rc == KITH_OK) {
            rc = store_circle_own_key_set(e->st, c->id, NULL, 0);
        }
        c->st = ns;
        c->state = state;
        free(old);
        return rc;
    }
    if (state == STORE_CIRCLE_LEFT) {
        /* Our LEAVE lost a race with another op: leave again on top of the winner, once, and
         * only while it is a leave the others will accept (not the last admin's). */
        struct circle_op again;
        bool may_leave = circle_may_leave(ns, e->member_id);
        c->st = ns;
        free(old);
        if (!may_leave) {
            return KITH_OK; /* our copy stays "left"; the others keep us listed */
        }
        memset(&again, 0, sizeof again);
        again.type = CIRCLE_OP_LEAVE;
        engine_circle_me(e, &again.subject);
        c->state = STORE_CIRCLE_ACTIVE; /* issue applies it: we end "left" again */
        rc = engine_circle_issue(e, t, c, &again, NULL, NULL);
        c->state = STORE_CIRCLE_LEFT;
        return rc;
    }
    if (state == STORE_CIRCLE_JOINING) {
        rc = store_circle_set_state(e->st, c->id, STORE_CIRCLE_ACTIVE);
        state = STORE_CIRCLE_ACTIVE;
    }
    /* Members we did not know: make them contacts; introduce ourselves when we were already in
     * (the joiner waits for our SESSION_INIT, so no two sides start at once). */
    for (size_t i = 0; i < ns->nmembers && rc == KITH_OK; i++) {
        const struct circle_member *m = &ns->members[i];
        int64_t cid = 0;
        if (memcmp(m->member_id, e->member_id, 16) == 0 ||
            (old != NULL && circle_member_find(old, m->member_id) != NULL)) {
            continue;
        }
        if (old != NULL && intro_secret != NULL) {
            rc = circle_introduce(e, t, m, intro_secret);
        } else {
            rc = engine_circle_contact_for(e, m, &cid);
            if (rc == KITH_OK && intro_secret != NULL) {
                rc = engine_circle_intro_secret_set(e, m->member_id, intro_secret);
            }
            t->reload_peers = true;
        }
    }
    c->st = ns;
    c->state = state;
    free(old);
    if (rc == KITH_OK && state == STORE_CIRCLE_ACTIVE) {
        struct circle_sender s;
        rc = engine_circle_ensure_key(e, t, c, &s);
        sodium_memzero(&s, sizeof s);
        engine_crash_point("epoch.after_apply");
    }
    if (rc == KITH_OK && state == STORE_CIRCLE_ACTIVE && c->st->nlosers > 0) {
        rc = circle_reissue(e, t, c, log, log_len);
    }
    return rc;
}

/* Sign an op of ours on top of the current epoch, add it to the log and apply it. The op is
 * then sent to every member of the new epoch, and to `also` (the member removed). */
int
engine_circle_issue(struct engine *e, struct engine_txn *t, struct engine_circle *c,
                    struct circle_op *op, const uint8_t *intro_secret, const uint8_t *also)
{
    uint8_t opbuf[CIRCLE_OP_MAX];
    uint8_t payload[2 + CIRCLE_OP_MAX + 32];
    size_t op_len = 0;
    uint8_t *log = NULL;
    size_t log_len = 0;
    bool added = false;
    int rc;

    memcpy(op->circle_id, c->circle_id, 16);
    op->epoch_no = c->st->epoch_no + 1;
    memcpy(op->parent, c->st->epoch_id, 16);
    op->issued_at = (uint32_t)(engine_now_ms() / 1000);
    rc = circle_op_make(op, e->id, opbuf, sizeof opbuf, &op_len);
    if (rc == KITH_OK) {
        rc = store_circle_ops_get(e->st, c->id, &log, &log_len);
    }
    if (rc == KITH_OK) {
        rc = circle_log_add(&log, &log_len, opbuf, op_len, &added);
    }
    if (rc == KITH_OK) {
        rc = engine_circle_apply(e, t, c, log, log_len, NULL);
    }
    free(log);
    if (rc != KITH_OK) {
        return rc;
    }
    /* Tell everyone of the new epoch (and the one removed) over the 1:1 sessions. */
    payload[0] = (uint8_t)(op_len >> 8);
    payload[1] = (uint8_t)op_len;
    memcpy(payload + 2, opbuf, op_len);
    if (intro_secret != NULL) {
        memcpy(payload + 2 + op_len, intro_secret, 32);
    } else {
        memset(payload + 2 + op_len, 0, 32);
    }
    for (size_t i = 0; i < c->st->nmembers && rc == KITH_OK; i++) {
        const uint8_t *m = c->st->members[i].member_id;
        if (memcmp(m, e->member_id, 16) == 0 ||
            (op->type == CIRCLE_OP_ADD && memcmp(m, op->subject.member_id, 16) == 0)) {
            continue; /* the joiner gets the whole log in its welcome */
        }
        rc = engine_circle_send_env(e, t, m, ENVELOPE_CIRCLE_OP, payload, 2 + op_len + 32);
        if (rc == KITH_ESTATE) {
            rc = KITH_OK; /* no session yet: they learn it from the next op or a welcome */
        }
    }
    if (rc == KITH_OK && also != NULL) {
        rc = engine_circle_send_env(e, t, also, ENVELOPE_CIRCLE_OP, payload, 2 + op_len + 32);
        if (rc == KITH_ESTATE || rc == KITH_ENOTFOUND) {
            rc = KITH_OK;
        }
    }
    sodium_memzero(payload, sizeof payload);
    return rc;
}

/* ---- verbs ---- */

/* Run fn inside one durable transaction with a fresh engine_txn; flush afterwards. */
int
engine_circle_txn(struct engine *e, int (*fn)(struct engine *, struct engine_txn *, void *),
                  void *arg)
{
    struct engine_txn t;
    int rc = store_begin(e->st);

    if (rc != KITH_OK) {
        return rc;
    }
    engine_txn_init(&t);
    rc = fn(e, &t, arg);
    if (rc == KITH_OK) {
        rc = engine_txn_save(e, &t);
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
    }
    if (rc != KITH_OK || t.reload_circles) {
        KITH_IGNORE(engine_circles_reload(e));
    }
    if (rc == KITH_OK && t.reload_peers) {
        KITH_IGNORE(engine_reload_peers(e));
    }
    engine_txn_fini(&t);
    if (rc == KITH_OK) {
        engine_flush(e, 0);
    }
    return rc;
}

struct engine_circle *
engine_circle_by_name(struct engine *e, const char *name, bool active_only)
{
    struct store_circle sc;

    if (name[0] == '#') {
        name++;
    }
    if (store_circle_by_name(e->st, name, &sc) != KITH_OK) {
        return NULL;
    }
    for (size_t i = 0; i < e->ncircles; i++) {
        struct engine_circle *c = &e->circles[i];
        if (c->id == sc.id) {
            if (active_only && (c->state != STORE_CIRCLE_ACTIVE || c->st == NULL)) {
                return NULL;
            }
            return c;
        }
    }
    return NULL;
}

static bool
circle_name_ok(const char *name)
{
    size_t len = strlen(name);

    return len > 0 && name[0] != '#' && frame_valid_name(name, len) &&
           strpbrk(name, " \t") == NULL;
}

int
engine_circle_create(struct engine *e, const char *name)
{
    struct store_circle sc;
    struct circle_op op;
    uint8_t opbuf[CIRCLE_OP_MAX];
    size_t op_len = 0;
    uint8_t *log = NULL;
    size_t log_len = 0;
    bool added = false;
    int rc;

    if (name[0] == '#') {
        name++;
    }
    if (!circle_name_ok(name)) {
        return KITH_EINVAL;
    }
    memset(&sc, 0, sizeof sc);
    randombytes_buf(sc.circle_id, 16);
    snprintf(sc.name, sizeof sc.name, "%s", name);
    sc.state = STORE_CIRCLE_ACTIVE;
    sc.created_at = engine_now_ms() / 1000;
    memset(&op, 0, sizeof op);
    op.type = CIRCLE_OP_CREATE;
    memcpy(op.circle_id, sc.circle_id, 16);
    op.epoch_no = 1;
    op.issued_at = (uint32_t)sc.created_at;
    engine_circle_me(e, &op.subject);
    op.subject.admin = true;
    snprintf(op.circle_name, sizeof op.circle_name, "%s", name);
    rc = circle_op_make(&op, e->id, opbuf, sizeof opbuf, &op_len);
    if (rc == KITH_OK) {
        rc = circle_log_add(&log, &log_len, opbuf, op_len, &added);
    }
    if (rc == KITH_OK) {
        rc = store_begin(e->st);
        if (rc == KITH_OK) {
            rc = store_circle_add(e->st, &sc, log, log_len);
            if (rc == KITH_OK) {
                rc = store_commit(e->st);
            } else {
                store_rollback(e->st);
            }
        }
    }
    free(log);
    if (rc == KITH_OK) {
        rc = engine_circles_reload(e);
    }
    return rc;
}

int
engine_circle_invite(struct engine *e, const char *name, uint32_t ttl_s,
                     char code[ENGINE_INVITE_BUF])
{
    struct engine_circle *c = engine_circle_by_name(e, name, true);
    const struct circle_member *me;

    code[0] = '\0';
    if (c == NULL) {
        return KITH_ENOTFOUND;
    }
    me = circle_member_find(c->st, e->member_id);
    if (me == NULL || !me->admin) {
        return KITH_ESTATE; /* only the circle's admins add people */
    }
    if (c->st->nmembers >= CIRCLE_MAX_MEMBERS) {
        return KITH_ETOOBIG;
    }
    return engine_invite_for(e, ttl_s, c->circle_id, code);
}

struct circle_remove_arg {
    struct engine_circle *c;
    const struct circle_member *who;
    int type;
};

static int
circle_remove_txn(struct engine *e, struct engine_txn *t, void *arg)
{
    struct circle_remove_arg *a = arg;
    struct circle_op op;
    uint8_t who[16];

    memset(&op, 0, sizeof op);
    op.type = (uint8_t)a->type;
    op.subject = *a->who;
    memcpy(who, a->who->member_id, 16);
    if (a->type == CIRCLE_OP_LEAVE) {
        /* One quiet step: the others hear it; our copy stops at "left". */
        a->c->state = STORE_CIRCLE_LEFT;
        return engine_circle_issue(e, t, a->c, &op, NULL, NULL);
    }
    return engine_circle_issue(e, t, a->c, &op, NULL,
                               a->type == CIRCLE_OP_REMOVE ? who : NULL);
}

int
engine_circle_remove(struct engine *e, const char *name, const char *contact)
{
    struct engine_circle *c = engine_circle_by_name(e, name, true);
    struct store_contact sc;
    struct circle_remove_arg a;
    const struct circle_member *me;
    int rc;

    if (c == NULL) {
        return KITH_ENOTFOUND;
    }
    me = circle_member_find(c->st, e->member_id);
    if (me == NULL || !me->admin) {
        return KITH_ESTATE;
    }
    rc = store_contact_by_name(e->st, contact, &sc);
    if (rc != KITH_OK) {
        return rc;
    }
    a.c = c;
    a.who = circle_member_find(c->st, sc.member_id);
    a.type = CIRCLE_OP_REMOVE;
    if (a.who == NULL || memcmp(sc.member_id, e->member_id, 16) == 0) {
        return KITH_EINVAL;
    }
    return engine_circle_txn(e, circle_remove_txn, &a);
}

int
engine_circle_admin(struct engine *e, const char *name, const char *contact)
{
    struct engine_circle *c = engine_circle_by_name(e, name, true);
    struct store_contact sc;
    struct circle_remove_arg a;
    const struct circle_member *me;
    int rc;

    if (c == NULL) {
        return KITH_ENOTFOUND;
    }
    me = circle_member_find(c->st, e->member_id);
    if (me == NULL || !me->admin) {
        return KITH_ESTATE;
    }
    rc = store_contact_by_name(e->st, contact, &sc);
    if (rc != KITH_OK) {
        return rc;
    }
    a.c = c;
    a.who = circle_member_find(c->st, sc.member_id);
    a.type = CIRCLE_OP_ADMIN;
    if (a.who == NULL) {
        return KITH_ENOTFOUND;
    }
    if (a.who->admin) {
        return KITH_OK; /* already */
    }
    return engine_circle_txn(e, circle_remove_txn, &a);
}

int
engine_circle_leave(struct engine *e, const char *name)
{
    struct engine_circle *c = engine_circle_by_name(e, name, true);
    struct circle_remove_arg a;

    if (c == NULL) {
        return KITH_ENOTFOUND;
    }
    a.c = c;
    a.who = circle_member_find(c->st, e->member_id);
    a.type = CIRCLE_OP_LEAVE;
    if (a.who == NULL) {
        return KITH_ESTATE;
    }
    if (!circle_may_leave(c->st, e->member_id)) {
        return KITH_EBUSY; /* the last admin: make someone else an admin first */
    }
    return engine_circle_txn(e, circle_remove_txn, &a);
}

static const char *
circle_state_name(int state)
{
    switch (state) {
    case STORE_CIRCLE_ACTIVE:
        return "active";
    case STORE_CIRCLE_LEFT:
        return "left";
    case STORE_CIRCLE_REMOVED:
        return "removed";
    default:
        return "joining";
    }
}

int
engine_circles(struct engine *e, struct engine_circle_info **out, size_t *n)
{
    struct store_circle *cs = NULL;
    size_t count = 0;
    int rc = store_circles_list(e->st, &cs, &count);

    *out = NULL;
    *n = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(count + 1, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        struct engine_circle_info *ci = &(*out)[i];
        struct engine_circle *c = engine_circle_by_cid(e, cs[i].circle_id);
        snprintf(ci->name, sizeof ci->name, "%s", cs[i].name);
        ci->state = circle_state_name(cs[i].state);
        if (c != NULL && c->st != NULL) {
            const struct circle_member *me = circle_member_find(c->st, e->member_id);
            ci->members = c->st->nmembers;
            ci->epoch = c->st->epoch_no;
            ci->admin = me != NULL && me->admin;
        }
    }
    *n = count;
    free(cs);
    return KITH_OK;
}

int
engine_circle_members(struct engine *e, const char *name, struct engine_member **out, size_t *n)
{
    struct engine_circle *c = engine_circle_by_name(e, name, false);

    *out = NULL;
    *n = 0;
    if (c == NULL || c->st == NULL) {
        return KITH_ENOTFOUND;
    }
    *out = xcalloc(c->st->nmembers + 1, sizeof **out);
    for (size_t i = 0; i < c->st->nmembers; i++) {
        const struct circle_member *m = &c->st->members[i];
        struct engine_member *em = &(*out)[i];
        struct store_contact sc;
        em->me = memcmp(m->member_id, e->member_id, 16) == 0;
        em->admin = m->admin;
        identity_fingerprint(m->pub.ik, em->fingerprint);
        if (em->me) {
            snprintf(em->name, sizeof em->name, "%s", e->name);
            em->online = e->started;
        } else if (store_contact_by_member(e->st, m->member_id, &sc) == KITH_OK) {
            snprintf(em->name, sizeof em->name, "%s", sc.name);
            em->online = e->tp != NULL && transport_peer_reachable(e->tp, m->member_id);
            em->pending = sc.state == STORE_CONTACT_PENDING;
        } else {
            snprintf(em->name, sizeof em->name, "%s", m->name);
        }
    }
    *n = c->st->nmembers;
    return KITH_OK;
}
