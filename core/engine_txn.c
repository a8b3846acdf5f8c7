/*
 * engine_txn: the crypto state one transaction touches. Sessions (and circle
 * receiving chains) are loaded from the store once, advanced in memory by
 * every frame sealed or opened in the transaction, and saved just before
 * COMMIT, so the ratchet state and the rows it produced commit together.
 * After COMMIT the saved sessions stay in the engine's cache, each with the
 * tag of its stored copy: the next transaction reuses one without unsealing
 * only while the store still holds that very copy.
 */
#include "core/engine_impl.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/circle.h"
#include "core/session.h"
#include "proto/frame.h"

void
engine_txn_init(struct engine_txn *t)
{
    memset(t, 0, sizeof *t);
}

static struct engine_txn_session *
engine_txn_find(struct engine_txn *t, int64_t contact_id)
{
    for (size_t i = 0; i < t->nsessions; i++) {
        if (t->sessions[i].contact_id == contact_id) {
            return &t->sessions[i];
        }
    }
    return NULL;
}

static struct engine_txn_session *
engine_txn_slot(struct engine_txn *t, int64_t contact_id)
{
    struct engine_txn_session *ts;

    if (t->nsessions == t->cap) {
        t->cap = t->cap == 0 ? 8 : t->cap * 2;
        t->sessions = xrealloc(t->sessions, t->cap * sizeof *t->sessions);
    }
    ts = &t->sessions[t->nsessions++];
    memset(ts, 0, sizeof *ts);
    ts->contact_id = contact_id;
    return ts;
}

/* ---- the engine's session cache ---- */

static size_t
engine_cache_find(const struct engine *e, int64_t contact_id)
{
    for (size_t i = 0; i < e->nsess_cache; i++) {
        if (e->sess_cache[i].contact_id == contact_id) {
            return i;
        }
    }
    return SIZE_MAX;
}

static void
engine_cache_drop(struct engine *e, size_t i)
{
    session_destroy(e->sess_cache[i].s); /* wipes */
    e->sess_cache[i] = e->sess_cache[--e->nsess_cache];
    sodium_memzero(&e->sess_cache[e->nsess_cache], sizeof e->sess_cache[0]);
}

void
engine_txn_cache_clear(struct engine *e)
{
    while (e->nsess_cache > 0) {
        engine_cache_drop(e, e->nsess_cache - 1);
    }
    free(e->sess_cache);
    e->sess_cache = NULL;
    e->sess_cache_cap = 0;
}

void
engine_txn_keep(struct engine *e, struct engine_txn *t)
{
    for (size_t i = 0; i < t->nsessions; i++) {
        struct engine_txn_session *ts = &t->sessions[i];
        size_t at;
        if (!ts->saved || ts->s == NULL) {
            continue; /* not written in this transaction: the next one reloads it */
        }
        at = engine_cache_find(e, ts->contact_id);
        if (at != SIZE_MAX) {
            engine_cache_drop(e, at);
        }
        if (e->nsess_cache == e->sess_cache_cap) {
            e->sess_cache_cap = e->sess_cache_cap == 0 ? 8 : e->sess_cache_cap * 2;
            e->sess_cache = xrealloc(e->sess_cache, e->sess_cache_cap * sizeof *e->sess_cache);
        }
        e->sess_cache[e->nsess_cache++] = *ts;
        ts->s = NULL; /* the cache owns it now */
    }
}

struct session *
engine_txn_session(struct engine *e, struct engine_txn *t, int64_t contact_id)
{
    struct engine_txn_session *ts = engine_txn_find(t, contact_id);
    size_t at;
    uint8_t tag[STORE_SESSION_TAG];
    struct session *s = NULL;
    int rc;

    if (ts != NULL) {
        return ts->s;
    }
    /* A cached session is used only while the stored copy is the one it was saved as (or
     * loaded from): any other writer, or a rolled-back transaction, changes the tag. */
    at = engine_cache_find(e, contact_id);
    rc = store_session_load_tagged(e->st, contact_id, at != SIZE_MAX ? e->sess_cache[at].tag : NULL,
                                   &s, tag);
    if (rc == KITH_OK && s == NULL && at != SIZE_MAX) {
        s = e->sess_cache[at].s;
        memcpy(tag, e->sess_cache[at].tag, sizeof tag);
        e->sess_cache[at].s = NULL; /* moves into the transaction */
    }
    if (at != SIZE_MAX) {
        engine_cache_drop(e, at);
    }
    if (rc != KITH_OK || s == NULL) {
        return NULL;
    }
    ts = engine_txn_slot(t, contact_id);
    ts->s = s;
    memcpy(ts->tag, tag, sizeof tag);
    return s;
}

void
engine_txn_adopt(struct engine_txn *t, int64_t contact_id, struct session *s)
{
    struct engine_txn_session *ts = engine_txn_find(t, contact_id);

    if (ts != NULL) {
        session_destroy(ts->s);
    } else {
        ts = engine_txn_slot(t, contact_id);
    }
    ts->s = s;
    ts->dirty = true;
}

void
engine_txn_forget(struct engine_txn *t, int64_t contact_id)
{
    for (size_t i = 0; i < t->nsessions; i++) {
        if (t->sessions[i].contact_id == contact_id) {
            session_destroy(t->sessions[i].s);
            t->sessions[i] = t->sessions[--t->nsessions];
            return;
        }
    }
}

void
engine_txn_dirty(struct engine_txn *t, int64_t contact_id)
{
    struct engine_txn_session *ts = engine_txn_find(t, contact_id);

    if (ts != NULL) {
        ts->dirty = true;
    }
}

int
engine_txn_restore(struct engine_txn *t, int64_t contact_id, const uint8_t *snap, size_t len)
{
    struct engine_txn_session *ts = engine_txn_find(t, contact_id);
    struct session *s = NULL;
    int rc;

    if (ts == NULL) {
        return KITH_ESTATE;
    }
    rc = session_parse(snap, len, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    session_destroy(ts->s);
    ts->s = s;
    return KITH_OK;
}

int
engine_txn_seal(struct engine *e, struct engine_txn *t, int64_t contact_id, struct envelope *env,
                struct store_msg *m, uint8_t msg_id[16])
{
    struct store_contact c;
    struct session *s;
    int rc = store_contact_by_id(e->st, contact_id, &c);

    if (rc != KITH_OK) {
        return rc;
    }
    s = engine_txn_session(e, t, contact_id);
    if (s == NULL) {
        return KITH_ESTATE; /* no session yet (an introduction still on its way) */
    }
    rc = engine_seal_locked(e, &c, s, env, m, msg_id);
    if (rc == KITH_OK) {
        engine_txn_dirty(t, contact_id);
        t->sealed = true;
    }
    return rc;
}

/* ---- circle receiving chains ---- */

static struct engine_txn_chain *
engine_txn_chain_find(struct engine_txn *t, int64_t circle, uint32_t epoch,
                      const uint8_t sender[16], uint32_t gen)
{
    for (size_t i = 0; i < t->nchains; i++) {
        struct engine_txn_chain *c = &t->chains[i];
        if (c->circle == circle && c->epoch == epoch && c->gen == gen &&
            memcmp(c->sender, sender, 16) == 0) {
            return c;
        }
    }
    return NULL;
}

struct circle_chain *
engine_txn_chain(struct engine *e, struct engine_txn *t, int64_t circle, uint32_t epoch,
                 const uint8_t sender[16], uint32_t gen)
{
    struct engine_txn_chain *c = engine_txn_chain_find(t, circle, epoch, sender, gen);
    struct circle_chain *chain = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (c != NULL) {
        return c->chain;
    }
    if (store_chain_get(e->st, circle, epoch, sender, gen, &buf, &len) != KITH_OK) {
        return NULL;
    }
    rc = circle_chain_parse(buf, len, &chain);
    store_blob_free(buf, len);
    if (rc != KITH_OK) {
        return NULL;
    }
    engine_txn_chain_put(t, circle, epoch, sender, gen, chain, false);
    return chain;
}

void
engine_txn_chain_put(struct engine_txn *t, int64_t circle, uint32_t epoch,
                     const uint8_t sender[16], uint32_t gen, struct circle_chain *chain,
                     bool dirty)
{
    struct engine_txn_chain *c = engine_txn_chain_find(t, circle, epoch, sender, gen);

    if (c != NULL) {
        if (c->chain != chain) {
            circle_chain_destroy(c->chain);
        }
    } else {
        if (t->nchains == t->chain_cap) {
            t->chain_cap = t->chain_cap == 0 ? 8 : t->chain_cap * 2;
            t->chains = xrealloc(t->chains, t->chain_cap * sizeof *t->chains);
        }
        c = &t->chains[t->nchains++];
        memset(c, 0, sizeof *c);
        c->circle = circle;
        c->epoch = epoch;
        memcpy(c->sender, sender, 16);
        c->gen = gen;
    }
    c->chain = chain;
    c->dirty = c->dirty || dirty;
}

void
engine_txn_chain_dirty(struct engine_txn *t, int64_t circle, uint32_t epoch,
                       const uint8_t sender[16], uint32_t gen)
{
    struct engine_txn_chain *c = engine_txn_chain_find(t, circle, epoch, sender, gen);

    if (c != NULL) {
        c->dirty = true;
    }
}

int
engine_txn_save(struct engine *e, struct engine_txn *t)
{
    int rc = KITH_OK;
    int64_t now = engine_now_ms() / 1000;

    for (size_t i = 0; i < t->nsessions && rc == KITH_OK; i++) {
        if (t->sessions[i].dirty) {
            rc = store_session_save_tagged(e->st, t->sessions[i].contact_id, t->sessions[i].s,
                                           t->sessions[i].tag);
            t->sessions[i].saved = rc == KITH_OK;
        }
    }
    for (size_t i = 0; i < t->nchains && rc == KITH_OK; i++) {
        struct engine_txn_chain *c = &t->chains[i];
        uint8_t *buf = NULL;
        size_t len = 0;
        if (!c->dirty) {
            continue;
        }
        circle_chain_serialize(c->chain, &buf, &len);
        rc = store_chain_put(e->st, c->circle, c->epoch, c->sender, c->gen, now, buf, len);
        sodium_memzero(buf, len);
        free(buf);
    }
    return rc;
}

void
engine_txn_fini(struct engine_txn *t)
{
    for (size_t i = 0; i < t->nsessions; i++) {
        session_destroy(t->sessions[i].s);
    }
    for (size_t i = 0; i < t->nchains; i++) {
        circle_chain_destroy(t->chains[i].chain);
    }
    free(t->sessions);
    free(t->chains);
    memset(t, 0, sizeof *t);
}
