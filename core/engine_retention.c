/*
 * engine_retention: disappearing messages (issue 7), agreed per conversation.
 * The agreement is core/retention.c's state machine; its state is sealed in
 * the store and every step we take is committed in the same transaction as
 * the outbox row that carries it (seal once, commit, then send). Messages of
 * a conversation with a retention in force are stamped with delete_at when
 * committed; a timer in the loop deletes them when due (never while they still
 * wait in the outbox) and checkpoints the WAL so the rows leave the -wal file.
 */
#include "core/engine_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/retention.h"
#include "core/session.h"
#include "proto/frame.h"
#include "proto/update.h"

_Static_assert(ENGINE_RETENTION_MAX == UPDATE_RETENTION_MAX, "one limit");

static int
er_load(struct engine *e, int64_t contact_id, struct retention *r)
{
    uint8_t buf[RETENTION_STATE_BYTES];
    size_t len = 0;
    int rc = store_retention_get(e->st, contact_id, buf, sizeof buf, &len);

    memset(r, 0, sizeof *r);
    if (rc == KITH_ENOTFOUND) {
        return KITH_OK; /* never changed: off, nothing open */
    }
    if (rc == KITH_OK) {
        rc = retention_parse(buf, len, r) == KITH_OK ? KITH_OK : KITH_ECORRUPT;
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

static int
er_save(struct engine *e, int64_t contact_id, const struct retention *r)
{
    uint8_t buf[RETENTION_STATE_BYTES];
    int rc;

    retention_serialize(r, buf);
    rc = store_retention_put(e->st, contact_id, r->seconds, buf, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* One step of ours: the new state and the outbox row carrying the step, in one transaction. */
static int
er_commit_step(struct engine *e, const struct store_contact *c, const struct retention *r,
               const struct update_retention *step)
{
    uint8_t payload[UPDATE_RETENTION_BYTES];
    struct session *s = NULL;
    struct envelope env;
    uint8_t msg_id[16];
    int rc = update_retention_encode(step, payload);

    if (rc != KITH_OK) {
        return rc;
    }
    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_RETENTION;
    env.version = 1;
    env.payload = payload;
    env.payload_len = sizeof payload;
    rc = store_begin(e->st);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_session_load(e->st, c->id, &s);
    if (rc == KITH_ENOTFOUND) {
        rc = KITH_ESTATE; /* no session to carry it yet */
    }
    if (rc == KITH_OK) {
        rc = engine_seal_locked(e, c, s, &env, NULL, msg_id);
    }
    if (rc == KITH_OK) {
        rc = store_session_save(e->st, c->id, s);
    }
    if (rc == KITH_OK) {
        rc = er_save(e, c->id, r);
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    } else {
        store_rollback(e->st);
    }
    session_destroy(s);
    if (rc == KITH_OK) {
        engine_emit(e, ENGINE_EV_CONTACT, c->name, NULL);
        engine_flush(e, c->id);
    }
    return rc;
}

int
engine_retention_get(struct engine *e, const char *contact, struct engine_retention *out)
{
    struct store_contact c;
    struct retention r;
    int rc = store_contact_by_name(e->st, contact, &c);

    memset(out, 0, sizeof *out);
    if (rc == KITH_OK) {
        rc = er_load(e, c.id, &r);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    out->seconds = r.seconds;
    out->has_proposal = r.has_proposal;
    out->is_ours = r.is_ours;
    out->proposal_seconds = r.proposal_seconds;
    return KITH_OK;
}

int
engine_retention_propose(struct engine *e, const char *contact, uint32_t seconds)
{
    struct update_retention step;
    struct store_contact c;
    struct retention r;
    uint8_t id[16];
    int rc;

    if (seconds > ENGINE_RETENTION_MAX) {
        return KITH_EINVAL;
    }
    rc = store_contact_by_name(e->st, contact, &c);
    if (rc == KITH_OK) {
        rc = er_load(e, c.id, &r);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    do {
        randombytes_buf(id, sizeof id);
    } while (sodium_is_zero(id, sizeof id));
    rc = retention_propose(&r, seconds, id, engine_now_ms(), &step);
    if (rc != KITH_OK) {
        return rc;
    }
    return er_commit_step(e, &c, &r, &step);
}

int
engine_retention_answer(struct engine *e, const char *contact, bool accept)
{
    struct update_retention step;
    struct store_contact c;
    struct retention r;
    int rc = store_contact_by_name(e->st, contact, &c);

    if (rc == KITH_OK) {
        rc = er_load(e, c.id, &r);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    rc = retention_answer(&r, accept, engine_now_ms(), &step);
    if (rc == KITH_ENOTFOUND) {
        return KITH_ESTATE;
    }
    if (rc != KITH_OK) {
        return rc;
    }
    return er_commit_step(e, &c, &r, &step);
}

void
engine_retention_text(uint32_t seconds, char *out, size_t cap)
{
    retention_describe(seconds, out, cap);
}

int
engine_retention_receive(struct engine *e, const struct engine_peer *p, const struct envelope *env)
{
    struct update_retention step;
    struct retention r;
    int rc = update_retention_decode(env->payload, env->payload_len, &step);

    if (rc != KITH_OK) {
        return KITH_EMALFORMED;
    }
    rc = er_load(e, p->contact_id, &r);
    if (rc != KITH_OK) {
        return rc;
    }
    if (retention_receive(&r, &step) == RETENTION_IGNORED) {
        return KITH_OK; /* stale, replayed or lost a crossing: acknowledged, nothing changes */
    }
    rc = er_save(e, p->contact_id, &r);
    if (rc == KITH_OK) {
        engine_emit(e, ENGINE_EV_CONTACT, p->name, NULL); /* views show the proposal or setting */
    }
    return rc;
}

int
engine_retention_stamp(struct engine *e, int64_t contact_id, const uint8_t msg_id[16])
{
    return engine_retention_stamp_texts(e, contact_id, msg_id, 1);
}

int
engine_retention_stamp_texts(struct engine *e, int64_t contact_id, const uint8_t first[16],
                             size_t n)
{
    uint32_t seconds = 0;
    int rc = store_retention_seconds(e->st, contact_id, &seconds);

    for (size_t i = 0; i < n && rc == KITH_OK && seconds > 0; i++) {
        uint8_t id[16];
        memcpy(id, first, 16);
        id[15] = (uint8_t)(first[15] + i);
        rc = store_msg_set_delete_at(e->st, id, engine_now_ms() / 1000 + seconds);
    }
    return rc;
}

int64_t
engine_retention_delete_at(struct engine *e, const uint8_t msg_id[16])
{
    int64_t at = 0;

    return store_msg_delete_at(e->st, msg_id, &at) == KITH_OK ? at : 0;
}

int64_t
engine_retention_next_ms(struct engine *e)
{
    int64_t at = 0;
    int64_t wait;

    if (store_msg_next_delete(e->st, &at) != KITH_OK) {
        return -1;
    }
    wait = at * 1000 - engine_now_ms();
    return wait < 0 ? 0 : wait; /* the loop caps its wait at a minute: wall-clock jumps heal */
}

/* Once an hour, forget the ids of frames received more than KITH_SEEN_KEEP_S ago (metadata at
 * rest that duplicate detection no longer needs). Bookkeeping only: no fsync; if it is lost,
 * the next pass deletes them. */
static void
engine_seen_prune(struct engine *e, int64_t now)
{
    size_t n = 0;

    if (now < e->seen_prune_s && e->seen_prune_s - now <= 3600) {
        return;
    }
    e->seen_prune_s = now + 3600;
    if (store_begin_relaxed(e->st) != KITH_OK) {
        return;
    }
    if (store_seen_prune(e->st, now - KITH_SEEN_KEEP_S, &n) != KITH_OK ||
        store_commit(e->st) != KITH_OK) {
        store_rollback(e->st);
    }
}

void
engine_retention_run_due(struct engine *e)
{
    int64_t at = 0;
    int64_t now = engine_now_ms() / 1000;
    size_t deleted = 0;
    int rc;

    engine_seen_prune(e, now);
    if (store_msg_next_delete(e->st, &at) != KITH_OK || at > now) {
        return;
    }
    rc = store_begin(e->st);
    if (rc != KITH_OK) {
        return; /* the rows stay due: the next pass tries again */
    }
    rc = store_msg_delete_due(e->st, now, &deleted);
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
        return;
    }
    /* secure_delete zeroed the cells; the checkpoint moves those pages into the database and
     * empties the WAL, where the old images of the rows would otherwise linger. */
    KITH_IGNORE(store_checkpoint(e->st));
    if (deleted > 0) {
        engine_emit_notify(e, ENGINE_EV_STATE, NULL, NULL, false); /* views reload */
    }
}
