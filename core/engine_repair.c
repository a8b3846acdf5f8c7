/*
 * engine_repair: repair conversations (DOMAIN.md §2) on the wire. Each peer
 * keeps a sealed replica (core/store_repair.c) of the pure state machine
 * (core/repair.h). A local step is checked against the replica, sealed once
 * as an ENVELOPE_REPAIR message and committed with the new replica and the
 * outbox row in ONE transaction, then sent. A step that arrives is applied
 * inside the receive batch's transaction and acknowledged like a text; stale,
 * replayed or losing steps are acknowledged and left unapplied, so both
 * replicas converge. Timers (pause, postpone, expiry, checkout) become local
 * steps when repair_next_deadline says so; they survive restarts because the
 * deadline is stored with the replica. Logs and events carry no fields.
 */
#include "core/engine_impl.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/repair.h"
#include "proto/frame.h"

#define ER_RETRY_S    3600          /* a timer step that was refused is tried again after this */
#define ER_HELD_KEY   "repair_held" /* steps held by quiet hours or snooze, see er_hold */
#define ER_HELD_MAX   60000         /* bytes of that setting (under STORE_SETTING_MAX) */
#define ER_RECHECK_MS 1000          /* wall-clock holds: look at the clock at least this often */

static int64_t
er_now(void)
{
    return engine_now_ms() / 1000;
}

static void
er_why(char *why, size_t cap, const char *text)
{
    if (why != NULL && cap > 0) {
        snprintf(why, cap, "%s", text != NULL ? text : "");
    }
}

/* A fresh replica of ours, or one loaded from the store, named after the contact. */
static int
er_parse(const struct store_repair *row, const char *peer_name, struct repair **out)
{
    int rc;

    *out = NULL;
    if (row->state == NULL) {
        return KITH_ENOTFOUND; /* only the agreement was kept */
    }
    rc = repair_parse(row->state, row->state_len, out);
    if (rc == KITH_OK) {
        repair_set_peer_name(*out, peer_name);
    }
    return rc;
}

/* Write the replica back (inside the caller's transaction). */
static int
er_put(struct engine *e, int64_t contact_id, const uint8_t repair_id[REPAIR_ID_BYTES],
       const struct repair *r)
{
    uint8_t *buf = xmalloc(REPAIR_STATE_MAX);
    size_t len = 0;
    int64_t at = 0;
    enum repair_event ev = REPAIR_EV_EXPIRE;
    bool is_open = repair_state(r) != REPAIR_CLOSED;
    int rc = repair_serialize(r, buf, REPAIR_STATE_MAX, &len);

    if (rc == KITH_OK) {
        if (!is_open || !repair_next_deadline(r, &at, &ev)) {
            at = 0;
        }
        rc = store_repair_put(e->st, contact_id, repair_id, is_open, at, buf, len);
    }
    sodium_memzero(buf, REPAIR_STATE_MAX);
    free(buf);
    return rc;
}

/* Seal the applied step for c and commit it with the replica in one transaction. */
static int
er_commit(struct engine *e, const struct store_contact *c, const struct repair *r,
          const struct repair_step *step)
{
    uint8_t *wire = xmalloc(REPAIR_WIRE_MAX);
    struct session *s = NULL;
    struct envelope env;
    uint8_t msg_id[16];
    size_t len = 0;
    int rc = repair_step_encode(step, wire, REPAIR_WIRE_MAX, &len);

    if (rc == KITH_OK && len > ENVELOPE_OPAQUE_MAX) {
        rc = KITH_ETOOBIG;
    }
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_REPAIR;
    env.version = 1;
    env.payload = wire;
    env.payload_len = (uint32_t)len;
    rc = store_begin(e->st);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_session_load(e->st, c->id, &s);
    if (rc == KITH_OK) {
        rc = engine_seal_locked(e, c, s, &env, NULL, msg_id);
    }
    if (rc == KITH_OK) {
        rc = er_put(e, c->id, step->repair_id, r);
    }
    if (rc == KITH_OK) {
        rc = store_session_save(e->st, c->id, s);
    }
    if (rc == KITH_OK) {
        engine_crash_point("repair.before_commit");
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
    }
out:
    session_destroy(s);
    sodium_memzero(wire, REPAIR_WIRE_MAX);
    free(wire);
    return rc;
}

static void
er_fingerprints(struct engine *e, const struct store_contact *c, char mine[REPAIR_FP_MAX],
                char theirs[REPAIR_FP_MAX])
{
    char fp[IDENTITY_FINGERPRINT_LEN];

    identity_fingerprint(identity_public(e->id)->ik, fp);
    snprintf(mine, REPAIR_FP_MAX, "%s", fp);
    identity_fingerprint(c->pub.ik, fp);
    snprintf(theirs, REPAIR_FP_MAX, "%s", fp);
}

/* Apply a local step to r and send it (prepare fills its header). */
static int
er_take(struct engine *e, const struct store_contact *c, struct repair *r, struct repair_step *step,
        char *why, size_t why_cap)
{
    int64_t now = er_now();
    enum repair_race race = REPAIR_RACE_NONE;
    int rc;

    repair_prepare(r, step, now);
    rc = repair_apply(r, step, now, &race);
    if (rc != KITH_OK) {
        er_why(why, why_cap, repair_why(r));
        return rc;
    }
    rc = er_commit(e, c, r, step);
    if (rc == KITH_ETOOBIG) {
        er_why(why, why_cap, "That step is too long to send; could you shorten a field?");
    }
    if (rc == KITH_OK) {
        engine_emit_notify(e, ENGINE_EV_REPAIR, c->name, NULL, false);
        engine_flush(e, c->id);
    }
    return rc;
}

int
engine_repair_act(struct engine *e, const char *contact, struct repair_step *step, char *why,
                  size_t why_cap)
{
    struct store_contact c;
    struct store_repair row;
    struct repair *r = NULL;
    char mine[REPAIR_FP_MAX];
    char theirs[REPAIR_FP_MAX];
    char text[REPAIR_WHY_MAX];
    int rc;

    er_why(why, why_cap, "");
    memset(&row, 0, sizeof row);
    rc = store_contact_by_name(e->st, contact, &c);
    if (rc != KITH_OK) {
        return rc;
    }
    if (c.state == STORE_CONTACT_PENDING) {
        snprintf(text, sizeof text, "%s hasn't finished connecting with you yet.", c.name);
        er_why(why, why_cap, text);
        return KITH_ESTATE;
    }
    rc = store_repair_latest(e->st, c.id, true, &row);
    if (rc != KITH_OK && rc != KITH_ENOTFOUND) {
        return rc;
    }
    if (step->event == REPAIR_EV_INVITE) {
        uint8_t id[REPAIR_ID_BYTES];
        if (rc == KITH_OK) {
            snprintf(text, sizeof text, "You already have a conversation open with %s.", c.name);
            er_why(why, why_cap, text);
            rc = KITH_EEXISTS;
            goto out;
        }
        randombytes_buf(id, sizeof id);
        er_fingerprints(e, &c, mine, theirs);
        r = repair_create(REPAIR_INITIATOR, id, mine, theirs);
        repair_set_peer_name(r, c.name);
    } else {
        if (rc == KITH_ENOTFOUND) {
            snprintf(text, sizeof text, "There's no repair conversation open with %s.", c.name);
            er_why(why, why_cap, text);
            goto out;
        }
        rc = er_parse(&row, c.name, &r);
        if (rc != KITH_OK) {
            goto out;
        }
    }
    rc = er_take(e, &c, r, step, why, why_cap);
out:
    repair_destroy(r);
    store_repair_clear(&row);
    return rc;
}

/* The replica shown for a contact: the open one, else the latest kept one. */
static int
er_load(struct engine *e, const char *contact, struct store_contact *c, struct store_repair *row)
{
    int rc = store_contact_by_name(e->st, contact, c);

    memset(row, 0, sizeof *row);
    if (rc == KITH_OK) {
        rc = store_repair_latest(e->st, c->id, false, row);
    }
    return rc;
}

int
engine_repair_load(struct engine *e, const char *contact, struct repair **out)
{
    struct store_contact c;
    struct store_repair row;
    int rc = er_load(e, contact, &c, &row);

    *out = NULL;
    if (rc == KITH_OK) {
        rc = er_parse(&row, c.name, out);
    }
    store_repair_clear(&row);
    return rc;
}

int
engine_repair_status(struct engine *e, const char *contact, char *json, size_t cap)
{
    struct store_contact c;
    struct store_repair row;
    struct repair *r = NULL;
    int rc = er_load(e, contact, &c, &row);

    if (cap > 0) {
        json[0] = '\0';
    }
    if (rc == KITH_OK && row.state == NULL) {
        char hex[2 * REPAIR_ID_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, row.repair_id, REPAIR_ID_BYTES);
        /* Only the agreement was kept: the JSON string is escaped by the caller's rules. */
        if ((size_t)snprintf(json, cap,
                             "{\"repair_id\":\"%s\",\"state\":\"closed\",\"turn\":\"none\","
                             "\"kept\":\"agreement\"}",
                             hex) >= cap) {
            rc = KITH_ETOOBIG;
        }
    } else if (rc == KITH_OK) {
        rc = er_parse(&row, c.name, &r);
        if (rc == KITH_OK) {
            rc = repair_status_json(r, json, cap);
        }
    }
    repair_destroy(r);
    store_repair_clear(&row);
    return rc;
}

int
engine_repair_keep(struct engine *e, const char *contact, enum engine_repair_keep how)
{
    struct store_contact c;
    struct store_repair row;
    struct repair *r = NULL;
    int rc = er_load(e, contact, &c, &row);

    if (rc != KITH_OK) {
        goto out;
    }
    if (row.is_open) {
        rc = KITH_ESTATE; /* end it first; nothing to keep or delete while it is open */
        goto out;
    }
    switch (how) {
    case ENGINE_REPAIR_KEEP:
        break;
    case ENGINE_REPAIR_DELETE:
        rc = store_repair_delete(e->st, c.id, row.repair_id);
        break;
    case ENGINE_REPAIR_KEEP_AGREEMENT:
        if (row.state == NULL) {
            break; /* already only the agreement */
        }
        rc = er_parse(&row, c.name, &r);
        if (rc == KITH_OK &&
            (repair_agreement_version(r) == 0 || repair_outcome(r) != REPAIR_OUTCOME_REPAIRED)) {
            rc = KITH_ENOTFOUND; /* no agreement was reached */
        }
        if (rc == KITH_OK) {
            rc = store_repair_keep_agreement(e->st, c.id, row.repair_id,
                                             repair_fields(r)->text[REPAIR_F_TEXT]);
        }
        break;
    default:
        rc = KITH_EINVAL;
    }
out:
    repair_destroy(r);
    store_repair_clear(&row);
    return rc;
}

/* ---- receiving (inside the batch transaction) ---- */

/* Two invitations crossed: the lower repair id stands on both sides. True if theirs wins. */
static bool
er_theirs_wins(const struct store_repair *ours, const struct repair_step *theirs)
{
    return memcmp(theirs->repair_id, ours->repair_id, REPAIR_ID_BYTES) < 0;
}

/* A replica for a step of an unknown repair: only an invitation starts one. */
static int
er_adopt(struct engine *e, const struct store_contact *c, const struct repair_step *step,
         struct repair **out)
{
    struct store_repair open_row;
    char mine[REPAIR_FP_MAX];
    char theirs[REPAIR_FP_MAX];
    int rc;

    *out = NULL;
    if (step->event != REPAIR_EV_INVITE || step->actor != REPAIR_INITIATOR) {
        return KITH_ENOTFOUND; /* a step of a repair we deleted or never had */
    }
    rc = store_repair_latest(e->st, c->id, true, &open_row);
    if (rc == KITH_OK) {
        /* One open repair per pair: a crossing invitation resolves the same on both sides. */
        bool ours_is_invite = open_row.state != NULL;
        struct repair *ours = NULL;
        if (ours_is_invite && er_parse(&open_row, c->name, &ours) == KITH_OK) {
            ours_is_invite = repair_state(ours) == REPAIR_INVITED && repair_seq(ours) == 1 &&
                             !repair_is_my_turn(ours);
        }
        repair_destroy(ours);
        if (!ours_is_invite || !er_theirs_wins(&open_row, step)) {
            store_repair_clear(&open_row);
            return KITH_EEXISTS;
        }
        rc = store_repair_delete(e->st, c->id, open_row.repair_id);
        store_repair_clear(&open_row);
        if (rc != KITH_OK) {
            return rc;
        }
    } else if (rc != KITH_ENOTFOUND) {
        return rc;
    }
    er_fingerprints(e, c, mine, theirs);
    *out = repair_create(REPAIR_PARTNER, step->repair_id, theirs, mine);
    repair_set_peer_name(*out, c->name);
    return KITH_OK;
}

/* Apply one decoded step of contact_id's to our replica (inside the caller's transaction).
 * KITH_OK also when it is stale, replayed or refused; KITH_EAGAIN when an earlier step is
 * still missing. */
static int
er_apply_step(struct engine *e, int64_t contact_id, const struct repair_step *step)
{
    struct store_contact c;
    struct store_repair row;
    struct repair *r = NULL;
    enum repair_race race = REPAIR_RACE_NONE;
    int rc;

    memset(&row, 0, sizeof row);
    rc = store_contact_by_id(e->st, contact_id, &c);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_repair_get(e->st, c.id, step->repair_id, &row);
    if (rc == KITH_OK) {
        rc = er_parse(&row, c.name, &r);
    } else if (rc == KITH_ENOTFOUND && step->seq > 1) {
        rc = KITH_EAGAIN; /* the invitation itself is still on its way */
        goto out;
    } else if (rc == KITH_ENOTFOUND) {
        rc = er_adopt(e, &c, step, &r);
    }
    if (rc == KITH_ENOTFOUND || rc == KITH_EEXISTS) {
        rc = KITH_OK; /* nothing to apply it to: acknowledged, not applied */
        goto out;
    }
    if (rc != KITH_OK) {
        goto out;
    }
    if (step->actor == (uint8_t)repair_my_role(r)) {
        e->rejected++; /* a step in our name that we never took */
        goto out;
    }
    if (step->seq > repair_seq(r) + 1) {
        rc = KITH_EAGAIN; /* an earlier step is still on its way: wait for it */
        goto out;
    }
    /* Replays, stale seqs, lost races and steps this replica refuses leave it unchanged. */
    if (repair_apply(r, step, er_now(), &race) == KITH_OK) {
        rc = er_put(e, c.id, step->repair_id, r);
        if (rc == KITH_OK) {
            engine_emit(e, ENGINE_EV_REPAIR, c.name, NULL);
        }
    }
out:
    repair_destroy(r);
    store_repair_clear(&row);
    return rc;
}

/* ---- time holds (DOMAIN.md §2.5: quiet hours and snooze hold repair frames like any
 * message; pause, end and check-in are control frames and never wait) ----
 * Held steps wait, still as their wire bytes, in one sealed setting: a line per step,
 * "CONTACT RELEASE BASE64\n" in arrival order. A contact's steps are applied in that order
 * when due, so a step that arrives behind held ones waits with them (it could not apply before
 * them anyway). Full: the step is not acknowledged and the sender's retry brings it later. */

static bool
er_is_control(enum repair_event ev)
{
    return ev == REPAIR_EV_PAUSE || ev == REPAIR_EV_END || ev == REPAIR_EV_CHECK_IN;
}

/* The held list (malloc'd, "" when none). */
static char *
er_held_load(struct engine *e)
{
    char *value = NULL;

    if (store_setting_get(e->st, ER_HELD_KEY, &value) != KITH_OK) {
        value = xstrdup("");
    }
    return value;
}

static void
er_held_free(char *held)
{
    if (held != NULL) {
        sodium_memzero(held, strlen(held));
        free(held);
    }
}

/* One line of the list: contact, release and the base64 step (borrowed, b64_len bytes). */
struct er_held_line {
    int64_t contact_id;
    int64_t release_at;
    const char *b64;
    size_t b64_len;
    const char *next; /* the following line */
};

static bool
er_held_parse(const char *at, struct er_held_line *ln)
{
    char *end = NULL;
    const char *nl;

    if (at == NULL || *at == '\0' || (nl = strchr(at, '\n')) == NULL) {
        return false;
    }
    ln->contact_id = strtoll(at, &end, 10);
    ln->release_at = end != NULL && *end == ' ' ? strtoll(end + 1, &end, 10) : 0;
    if (end == NULL || *end != ' ' || end > nl) {
        return false;
    }
    ln->b64 = end + 1;
    ln->b64_len = (size_t)(nl - ln->b64);
    ln->next = nl + 1;
    return true;
}

/* The latest release among contact_id's held steps (0: none held). */
static int64_t
er_held_last(const char *held, int64_t contact_id)
{
    struct er_held_line ln;
    int64_t last = 0;

    for (const char *at = held; er_held_parse(at, &ln); at = ln.next) {
        if (ln.contact_id == contact_id && ln.release_at > last) {
            last = ln.release_at;
        }
    }
    return last;
}

/* Decide whether a step waits; if so append it (inside the batch transaction). */
static int
er_hold(struct engine *e, int64_t contact_id, const struct repair_step *step,
        const struct envelope *env, int64_t *held_until)
{
    char *held = er_held_load(e);
    size_t b64_cap = sodium_base64_encoded_len(env->payload_len, sodium_base64_VARIANT_ORIGINAL);
    int64_t release = 0;
    int64_t tell_at = 0;
    int64_t behind = er_held_last(held, contact_id);
    char *out = NULL;
    size_t len = strlen(held);
    int rc = KITH_OK;

    *held_until = 0;
    if (behind == 0 && !er_is_control((enum repair_event)step->event)) {
        rc = engine_boundary_time_hold(e, contact_id, &release, &tell_at);
    }
    if (rc != KITH_OK || (release == 0 && behind == 0)) {
        goto out; /* applied now */
    }
    if (behind > 0) {
        release = behind; /* behind held steps: with them, at the time they were told */
        tell_at = behind % 60 == 0 ? behind : behind + 60 - behind % 60;
    }
    *held_until = tell_at > 0 ? tell_at : -1; /* -1: held, but the rule says tell=off */
    if (len + b64_cap + 48 > ER_HELD_MAX) {
        rc = KITH_EAGAIN; /* no room: unacknowledged, the sender's retry comes back later */
        goto out;
    }
    out = xmalloc(len + b64_cap + 48);
    memcpy(out, held, len);
    len += (size_t)snprintf(out + len, 48, "%" PRId64 " %" PRId64 " ", contact_id, release);
    sodium_bin2base64(out + len, b64_cap, env->payload, env->payload_len,
                      sodium_base64_VARIANT_ORIGINAL);
    len += strlen(out + len);
    out[len++] = '\n';
    out[len] = '\0';
    rc = store_setting_set(e->st, ER_HELD_KEY, out);
    sodium_memzero(out, len);
    free(out);
out:
    if (rc != KITH_OK) {
        *held_until = 0;
    }
    er_held_free(held);
    return rc;
}

int
engine_repair_receive(struct engine *e, const struct engine_peer *p, const struct envelope *env,
                      int64_t *held_until)
{
    struct repair_step *step = xmalloc(sizeof *step);
    int rc;

    *held_until = 0;
    if (repair_step_decode(env->payload, env->payload_len, step) != KITH_OK) {
        e->rejected++; /* acknowledged and set aside: the same bytes would fail again */
        rc = KITH_OK;
        goto out;
    }
    rc = er_hold(e, p->contact_id, step, env, held_until);
    if (rc == KITH_OK && *held_until == 0) {
        rc = er_apply_step(e, p->contact_id, step);
    }
out:
    sodium_memzero(step, sizeof *step);
    free(step);
    return rc;
}

/* What became of one held line. */
enum er_held_fate {
    ER_HELD_DONE,      /* applied, stale, or undecodable: drop it */
    ER_HELD_WAIT_TIME, /* still held in time: the contact's later steps wait behind it */
    ER_HELD_WAIT_STEP  /* an earlier step is missing (maybe a later line): try again soon */
};

/* Apply one held line if its time has come (or, force, re-judge it under the rules now in
 * force); *release is when to look again when it stays. */
static enum er_held_fate
er_held_try(struct engine *e, const struct er_held_line *ln, int64_t now, bool force,
            int64_t *release)
{
    struct repair_step *step;
    uint8_t *wire = xmalloc(ln->b64_len + 1);
    size_t wire_len = 0;
    int64_t tell_at = 0;
    enum er_held_fate fate = ER_HELD_DONE;
    int rc;

    *release = ln->release_at;
    if (!force && ln->release_at > now) {
        free(wire);
        return ER_HELD_WAIT_TIME;
    }
    if (sodium_base642bin(wire, ln->b64_len + 1, ln->b64, ln->b64_len, NULL, &wire_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(wire);
        return ER_HELD_DONE; /* damaged: nothing could ever apply it */
    }
    step = xmalloc(sizeof *step);
    if (repair_step_decode(wire, wire_len, step) == KITH_OK) {
        rc = engine_boundary_time_hold(e, ln->contact_id, release, &tell_at);
        if (rc != KITH_OK || *release > now) {
            fate = ER_HELD_WAIT_TIME; /* still in quiet hours or a snooze (or unreadable rules) */
            *release = rc == KITH_OK ? *release : now + ER_RETRY_S;
        } else {
            rc = er_apply_step(e, ln->contact_id, step);
            /* A missing earlier step, or a store failure: a little later. No contact: done. */
            fate = rc == KITH_OK || rc == KITH_ENOTFOUND ? ER_HELD_DONE : ER_HELD_WAIT_STEP;
            *release = now + 1;
        }
    }
    sodium_memzero(step, sizeof *step);
    free(step);
    sodium_memzero(wire, ln->b64_len + 1);
    free(wire);
    return fate;
}

/* Release held steps: the due ones, or (force) every one of contact_id after a rule change. One
 * transaction. A contact's later steps wait while an earlier one still waits. */
int
engine_repair_release_held(struct engine *e, int64_t contact_id, bool force)
{
    char *held = er_held_load(e);
    size_t cap = 2 * strlen(held) + 64; /* a rewritten release may be longer */
    char *kept = xcalloc(1, cap);
    int64_t now = er_now();
    int64_t blocked[STORE_REPAIR_DUE_MAX];
    size_t nblocked = 0;
    size_t len = 0;
    struct er_held_line ln;
    int rc;

    if (held[0] == '\0') {
        er_held_free(held);
        free(kept);
        return KITH_OK;
    }
    rc = store_begin(e->st);
    for (const char *at = held; rc == KITH_OK && er_held_parse(at, &ln); at = ln.next) {
        int64_t release = ln.release_at;
        bool is_mine = contact_id == 0 || ln.contact_id == contact_id;
        bool is_waiting = !is_mine;
        enum er_held_fate fate = ER_HELD_WAIT_TIME;

        for (size_t i = 0; i < nblocked; i++) {
            is_waiting = is_waiting || blocked[i] == ln.contact_id;
        }
        if (!is_waiting) {
            fate = er_held_try(e, &ln, now, force, &release);
        }
        if (fate == ER_HELD_DONE) {
            continue;
        }
        if (fate == ER_HELD_WAIT_TIME && !is_waiting && nblocked < STORE_REPAIR_DUE_MAX) {
            blocked[nblocked++] = ln.contact_id; /* keep this contact's order */
        }
        len += (size_t)snprintf(kept + len, cap - len, "%" PRId64 " %" PRId64 " %.*s\n",
                                ln.contact_id, release, (int)ln.b64_len, ln.b64);
    }
    if (rc == KITH_OK) {
        rc = store_setting_set(e->st, ER_HELD_KEY, kept);
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
    }
    er_held_free(kept);
    er_held_free(held);
    return rc;
}

/* The earliest held release (0: none). */
static int64_t
er_held_next(struct engine *e)
{
    char *held = er_held_load(e);
    struct er_held_line ln;
    int64_t next = 0;

    for (const char *at = held; er_held_parse(at, &ln); at = ln.next) {
        if (next == 0 || ln.release_at < next) {
            next = ln.release_at;
        }
    }
    er_held_free(held);
    return next;
}

/* ---- timers ---- */

int64_t
engine_repair_next_ms(struct engine *e)
{
    int64_t at = 0;
    int64_t held_at = er_held_next(e);
    int64_t wait = -1;

    if (store_repair_next_deadline(e->st, &at) == KITH_OK) {
        wait = at > INT64_MAX / 1000 ? INT64_MAX : at * 1000 - engine_now_ms();
        wait = wait < 0 ? 0 : wait;
    }
    if (held_at > 0) {
        /* A wall-clock instant (quiet hours): the clock may jump, so look at least each second. */
        int64_t held_wait = held_at * 1000 - engine_now_ms();
        held_wait = held_wait < 0 ? 0 : held_wait > ER_RECHECK_MS ? ER_RECHECK_MS : held_wait;
        wait = wait < 0 || held_wait < wait ? held_wait : wait;
    }
    return wait;
}

/* One due replica: emit its timer step, or store the deadline it really has. */
static void
er_fire(struct engine *e, const struct store_repair_ref *ref, int64_t now)
{
    struct store_contact c;
    struct store_repair row;
    struct repair *r = NULL;
    struct repair_step *step = NULL;
    enum repair_event ev = REPAIR_EV_EXPIRE;
    int64_t at = 0;
    int rc;

    memset(&row, 0, sizeof row);
    if (store_contact_by_id(e->st, ref->contact_id, &c) != KITH_OK ||
        store_repair_get(e->st, c.id, ref->repair_id, &row) != KITH_OK ||
        er_parse(&row, c.name, &r) != KITH_OK) {
        goto out;
    }
    if (!repair_next_deadline(r, &at, &ev) || at > now) {
        KITH_IGNORE(er_put(e, c.id, ref->repair_id, r)); /* the stored deadline was stale */
        goto out;
    }
    step = xmalloc(sizeof *step);
    repair_step_init(step, ev);
    rc = er_take(e, &c, r, step, NULL, 0);
    if (rc != KITH_OK) {
        /* Refused or not stored: look again later rather than spin. */
        struct repair *fresh = NULL;
        if (er_parse(&row, c.name, &fresh) == KITH_OK) {
            uint8_t *buf = xmalloc(REPAIR_STATE_MAX);
            size_t len = 0;
            if (repair_serialize(fresh, buf, REPAIR_STATE_MAX, &len) == KITH_OK) {
                KITH_IGNORE(store_repair_put(e->st, c.id, ref->repair_id, true, now + ER_RETRY_S,
                                             buf, len));
            }
            sodium_memzero(buf, REPAIR_STATE_MAX);
            free(buf);
        }
        repair_destroy(fresh);
    }
out:
    if (step != NULL) {
        sodium_memzero(step, sizeof *step);
        free(step);
    }
    repair_destroy(r);
    store_repair_clear(&row);
}

void
engine_repair_run_due(struct engine *e)
{
    struct store_repair_ref due[STORE_REPAIR_DUE_MAX];
    int64_t now = er_now();
    int64_t at = er_held_next(e);
    size_t n = 0;

    if (at > 0 && at <= now) {
        KITH_IGNORE(engine_repair_release_held(e, 0, false)); /* on failure: the next pass */
    }
    if (store_repair_next_deadline(e->st, &at) != KITH_OK || at > now) {
        return;
    }
    if (store_repair_due(e->st, now, due, &n) != KITH_OK) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        er_fire(e, &due[i], now);
    }
}

/* ---- practice transcripts (kept only on request) ---- */

int
engine_practice_save(struct engine *e, const char *transcript)
{
    char key[64];
    char hex[17];
    uint8_t nonce[8];

    if (transcript == NULL || transcript[0] == '\0') {
        return KITH_EINVAL;
    }
    if (strlen(transcript) >= ENGINE_PRACTICE_MAX) {
        return KITH_ETOOBIG;
    }
    randombytes_buf(nonce, sizeof nonce);
    sodium_bin2hex(hex, sizeof hex, nonce, sizeof nonce);
    snprintf(key, sizeof key, "practice/%lld/%s", (long long)er_now(), hex);
    return store_setting_set(e->st, key, transcript);
}
