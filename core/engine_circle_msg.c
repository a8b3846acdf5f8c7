/*
 * engine_circle_msg: sending to a circle and reading its history. A circle
 * message is sealed once under our sender key (signed, encrypted, indexed),
 * committed with the advanced key, the history row and the frame we keep for
 * the mesh, and only then pushed to every member we can reach; the others
 * get the identical bytes from anyone who holds them. Circle care (check-ins,
 * support signals and their one-key replies) travels the same way.
 */
#include "core/engine_circle_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kcrypt.h"
#include "net/sync.h"

#define CIRCLE_SUPPORT_TTL_DEFAULT (12 * 3600)

struct circle_send_arg {
    struct engine_circle *c;
    uint8_t type;
    const uint8_t *payload;
    size_t len;
    uint8_t msg_id[16];
    uint8_t *wire;
    size_t wire_len;
    uint32_t epoch;
    uint64_t seq;
};

static int
circle_send_txn(struct engine *e, struct engine_txn *t, void *arg)
{
    struct circle_send_arg *a = arg;
    struct engine_circle *c = a->c;
    struct circle_sender s;
    struct envelope env;
    struct frame f;
    struct store_cframe row;
    struct store_cmsg m;
    uint8_t ad[FRAME_AD_BYTES];
    uint8_t *plain = NULL;
    uint8_t *body = NULL;
    size_t plain_len = 0;
    size_t body_len = 0;
    size_t cap;
    uint64_t lamport = 0;
    int64_t now = engine_now_ms();
    uint8_t keybuf[CIRCLE_SENDER_BYTES];
    int rc = engine_circle_ensure_key(e, t, c, &s);

    if (rc == KITH_OK) {
        rc = store_lamport_tick(e->st, 0, &lamport);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&env, 0, sizeof env);
    env.type = a->type;
    env.version = 1;
    env.lamport = lamport;
    env.sender_seq = s.seq;
    env.sent_at_ms = (uint64_t)now;
    env.payload = a->payload;
    env.payload_len = (uint32_t)a->len;
    plain_len = envelope_size(a->len);
    plain = xmalloc(plain_len);
    rc = envelope_encode(&env, plain, plain_len, &plain_len);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&f, 0, sizeof f);
    f.type = FRAME_CIRCLE_MSG;
    randombytes_buf(a->msg_id, 16);
    memcpy(f.msg_id, a->msg_id, 16);
    memcpy(f.route, c->circle_id, 16);
    f.expires_at = (uint32_t)(now / 1000 + KITH_FRAME_EXPIRY);
    frame_ad(&f, ad);
    cap = CIRCLE_BODY_HEADER + plain_len + 16 + CIRCLE_SIG_BYTES;
    if (cap > FRAME_BODY_MAX) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    body = xmalloc(cap);
    a->epoch = s.epoch_no;
    a->seq = s.seq;
    rc = circle_seal(&s, e->member_id, ad, plain, plain_len, body, cap, &body_len);
    if (rc != KITH_OK) {
        goto out;
    }
    f.body = body;
    f.body_len = (uint32_t)body_len;
    a->wire = xmalloc(FRAME_HEADER_BYTES + body_len);
    rc = frame_encode(&f, a->wire, FRAME_HEADER_BYTES + body_len, &a->wire_len);
    if (rc != KITH_OK) {
        goto out;
    }
    circle_sender_serialize(&s, keybuf);
    rc = store_circle_own_key_set(e->st, c->id, keybuf, sizeof keybuf);
    sodium_memzero(keybuf, sizeof keybuf);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&row, 0, sizeof row);
    row.circle = c->id;
    row.epoch = a->epoch;
    memcpy(row.sender, e->member_id, 16);
    row.seq = a->seq;
    memcpy(row.msg_id, a->msg_id, 16);
    row.verified = true;
    row.expires_at = f.expires_at;
    row.frame = a->wire;
    row.frame_len = a->wire_len;
    rc = store_cframe_add(e->st, &row);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&m, 0, sizeof m);
    memcpy(m.msg_id, a->msg_id, 16);
    m.circle = c->id;
    m.outgoing = true;
    memcpy(m.sender, e->member_id, 16);
    m.epoch = a->epoch;
    m.seq = a->seq;
    m.lamport = lamport;
    m.ts_ms = now;
    m.recv_ms = now;
    m.kind = a->type;
    /* Alone in the circle: nobody else is waiting for it. */
    m.state = c->st->nmembers <= 1 ? STORE_MSG_DELIVERED : STORE_MSG_QUEUED;
    m.payload = (uint8_t *)a->payload;
    m.payload_len = a->len;
    rc = store_cmsg_add(e->st, &m);
    if (rc == KITH_OK) {
        rc = store_seen_add(e->st, a->msg_id, now / 1000);
    }
    engine_crash_point("seal.before_commit");
out:
    if (plain != NULL) {
        sodium_memzero(plain, plain_len);
        free(plain);
    }
    free(body);
    sodium_memzero(&s, sizeof s);
    return rc;
}

static int
circle_send(struct engine *e, const char *name, uint8_t type, const uint8_t *payload, size_t len,
            char id_out[ENGINE_ID_HEX])
{
    struct circle_send_arg a;
    size_t reached = 0;
    int rc;

    id_out[0] = '\0';
    memset(&a, 0, sizeof a);
    a.c = engine_circle_by_name(e, name, true);
    if (a.c == NULL) {
        return KITH_ENOTFOUND;
    }
    a.type = type;
    a.payload = payload;
    a.len = len;
    rc = engine_circle_txn(e, circle_send_txn, &a);
    if (rc == KITH_OK) {
        struct engine_circle *c = engine_circle_by_name(e, name, true);
        engine_crash_point("seal.after_commit");
        kcrypt_hex(id_out, a.msg_id, 16);
        if (c != NULL) {
            sync_vec_add(c->held, a.epoch, e->member_id, a.seq);
            for (size_t i = 0; i < c->st->nmembers && e->tp != NULL; i++) {
                const uint8_t *m = c->st->members[i].member_id;
                if (memcmp(m, e->member_id, 16) != 0 && transport_peer_reachable(e->tp, m)) {
                    reached++;
                }
            }
            engine_circle_push(e, c, a.wire, a.wire_len, NULL);
            engine_crash_point("send.after_zmq_send");
            if (reached > 0 && c->st->nmembers > 1 &&
                store_cmsg_set_state(e->st, a.msg_id, STORE_MSG_SENT) == KITH_OK) {
                engine_emit(e, ENGINE_EV_STATE, c->st->name, a.msg_id);
            }
        }
    }
    free(a.wire);
    return rc;
}

int
engine_circle_send_text(struct engine *e, const char *name, const char *text,
                        char id_out[ENGINE_ID_HEX])
{
    return circle_send(e, name, ENVELOPE_TEXT, (const uint8_t *)text, strlen(text), id_out);
}

int
engine_circle_checkin(struct engine *e, const char *name, int mood, unsigned with,
                      const char *note, char id_out[ENGINE_ID_HEX])
{
    struct checkin ci;
    uint8_t buf[8 + CHECKIN_NOTE_MAX];
    size_t len = 0;
    int rc;

    id_out[0] = '\0';
    memset(&ci, 0, sizeof ci);
    if (mood < MOOD_NONE || mood > MOOD_GOOD || with > 31 || (mood == 0 && with == 0) ||
        (note != NULL && strlen(note) > CHECKIN_NOTE_MAX)) {
        return KITH_EINVAL;
    }
    ci.mood = (uint8_t)mood;
    ci.with = (uint8_t)with;
    snprintf(ci.note, sizeof ci.note, "%s", note != NULL ? note : "");
    rc = checkin_encode(&ci, buf, sizeof buf, &len);
    if (rc != KITH_OK) {
        return KITH_EINVAL;
    }
    return circle_send(e, name, ENVELOPE_CHECKIN, buf, len, id_out);
}

int
engine_circle_support(struct engine *e, const char *name, int kind, const char *note,
                      uint32_t ttl_s, char id_out[ENGINE_ID_HEX])
{
    struct support_signal sig;
    uint8_t buf[16 + CHECKIN_NOTE_MAX];
    size_t len = 0;

    id_out[0] = '\0';
    memset(&sig, 0, sizeof sig);
    if (kind < SUPPORT_ANY || kind > SUPPORT_PRESENCE ||
        (note != NULL && strlen(note) > CHECKIN_NOTE_MAX)) {
        return KITH_EINVAL;
    }
    sig.kind = (uint8_t)kind;
    sig.expires_at = (uint32_t)(engine_now_ms() / 1000 +
                                (ttl_s > 0 ? ttl_s : CIRCLE_SUPPORT_TTL_DEFAULT));
    snprintf(sig.note, sizeof sig.note, "%s", note != NULL ? note : "");
    if (support_encode(&sig, buf, sizeof buf, &len) != KITH_OK) {
        return KITH_EINVAL;
    }
    return circle_send(e, name, ENVELOPE_SUPPORT, buf, len, id_out);
}

int
engine_circle_reply(struct engine *e, const char *name, const char *signal_id, int answer,
                    int64_t later_at, char id_out[ENGINE_ID_HEX])
{
    struct support_reply r;
    struct store_cmsg sig;
    uint8_t buf[32];
    size_t bin_len = 0;
    size_t len = 0;
    struct engine_circle *c = engine_circle_by_name(e, name, true);

    id_out[0] = '\0';
    memset(&r, 0, sizeof r);
    if (c == NULL) {
        return KITH_ENOTFOUND;
    }
    if (signal_id == NULL || strlen(signal_id) != 32 ||
        sodium_hex2bin(r.signal_id, 16, signal_id, 32, NULL, &bin_len, NULL) != 0 ||
        bin_len != 16 || answer < SUPPORT_HERE || answer > SUPPORT_CANT ||
        (answer == SUPPORT_LATER) != (later_at > 0)) {
        return KITH_EINVAL;
    }
    if (store_cmsg_get(e->st, r.signal_id, &sig) != KITH_OK) {
        return KITH_ENOTFOUND;
    }
    if (sig.circle != c->id || sig.kind != ENVELOPE_SUPPORT || sig.outgoing) {
        store_cmsg_clear(&sig);
        return KITH_EINVAL;
    }
    store_cmsg_clear(&sig);
    r.answer = (uint8_t)answer;
    r.later_at = (uint32_t)(later_at > 0 ? later_at : 0);
    if (support_reply_encode(&r, buf, sizeof buf, &len) != KITH_OK) {
        return KITH_EINVAL;
    }
    return circle_send(e, name, ENVELOPE_SUPPORT_REPLY, buf, len, id_out);
}

/* ---- history ---- */

static const char *const circle_moods[] = { "", "rough", "low", "okay", "steady", "good" };
static const char *const circle_withs[] = { "seen", "safe", "soothed", "secure", "stable" };
static const char *const circle_kinds[] = { "", "company", "distraction", "to be listened to",
                                            "practical help", "just knowing someone's there" };
static const char *const circle_answers[] = { "", "I'm here - I can talk now", "I can later",
                                              "Sending care", "not available right now" };

/* The words a view shows for a care message. */
static char *
circle_render(const struct store_cmsg *m, bool outgoing, char reply_to[ENGINE_ID_HEX])
{
    char buf[512];
    size_t n = 0;

    reply_to[0] = '\0';
    buf[0] = '\0';
    if (m->kind == ENVELOPE_CHECKIN) {
        struct checkin ci;
        if (checkin_decode(m->payload, m->payload_len, &ci) != KITH_OK) {
            return xstrdup("(a check-in that could not be read)");
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "check-in:");
        if (ci.mood > 0) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, " %s", circle_moods[ci.mood]);
        }
        for (int i = 0, first = 1; i < 5; i++) {
            if (ci.with & (1u << i)) {
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", first ? " - with me: " : ", ",
                                      circle_withs[i]);
                first = 0;
            }
        }
        if (ci.note[0] != '\0') {
            snprintf(buf + n, sizeof buf - n, " - %s", ci.note);
        }
        return xstrdup(buf);
    }
    if (m->kind == ENVELOPE_SUPPORT) {
        struct support_signal sig;
        if (support_decode(m->payload, m->payload_len, &sig) != KITH_OK) {
            return xstrdup("(a support signal that could not be read)");
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "could use support");
        if (sig.kind > 0) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, " (%s)", circle_kinds[sig.kind]);
        }
        if (sig.note[0] != '\0') {
            snprintf(buf + n, sizeof buf - n, " - %s", sig.note);
        }
        return xstrdup(buf);
    }
    if (m->kind == ENVELOPE_SUPPORT_REPLY) {
        struct support_reply r;
        if (support_reply_decode(m->payload, m->payload_len, &r) != KITH_OK) {
            return xstrdup("(a reply that could not be read)");
        }
        kcrypt_hex(reply_to, r.signal_id, 16);
        /* "can't" reaches the asker only as "not available right now" (DOMAIN.md §4). */
        snprintf(buf, sizeof buf, "%s", r.answer == SUPPORT_CANT && outgoing
                                            ? "I can't right now"
                                            : circle_answers[r.answer]);
        return xstrdup(buf);
    }
    {
        char *t = xmalloc(m->payload_len + 1);
        memcpy(t, m->payload, m->payload_len);
        t[m->payload_len] = '\0';
        return t;
    }
}

/* The structured parts of a check-in or support signal, for views. */
static void
circle_care_fields(const struct store_cmsg *sm, struct engine_msg *m)
{
    if (sm->kind == ENVELOPE_CHECKIN) {
        struct checkin ci;
        if (checkin_decode(sm->payload, sm->payload_len, &ci) == KITH_OK) {
            m->mood = ci.mood;
            m->with_mask = ci.with;
            snprintf(m->care_note, sizeof m->care_note, "%s", ci.note);
        }
    } else if (sm->kind == ENVELOPE_SUPPORT) {
        struct support_signal sig;
        if (support_decode(sm->payload, sm->payload_len, &sig) == KITH_OK) {
            snprintf(m->care_note, sizeof m->care_note, "%s", sig.note);
        }
    }
}

static const char *
circle_kind_name(int kind)
{
    switch (kind) {
    case ENVELOPE_CHECKIN:
        return "checkin";
    case ENVELOPE_SUPPORT:
        return "support";
    case ENVELOPE_SUPPORT_REPLY:
        return "support_reply";
    default:
        return "text";
    }
}

int
engine_circle_history(struct engine *e, const char *name, size_t limit, uint64_t before_lamport,
                      struct engine_msg **out, size_t *n)
{
    struct engine_circle *c = engine_circle_by_name(e, name, false);
    struct store_cmsg *ms = NULL;
    size_t count = 0;
    static const char *const states[] = { "queued", "sent", "delivered", "received" };
    int rc;

    *out = NULL;
    *n = 0;
    if (c == NULL) {
        return KITH_ENOTFOUND;
    }
    rc = store_cmsg_log(e->st, c->id, limit, before_lamport, &ms, &count);
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(count + 1, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        struct engine_msg *m = &(*out)[i];
        struct store_contact sc;
        kcrypt_hex(m->id, ms[i].msg_id, 16);
        if (ms[i].outgoing) {
            snprintf(m->from, sizeof m->from, "%s", e->name);
        } else if (store_contact_by_member(e->st, ms[i].sender, &sc) == KITH_OK) {
            snprintf(m->from, sizeof m->from, "%s", sc.name);
        } else {
            const struct circle_member *cm =
                c->st != NULL ? circle_member_find(c->st, ms[i].sender) : NULL;
            snprintf(m->from, sizeof m->from, "%s", cm != NULL ? cm->name : "a former member");
        }
        m->outgoing = ms[i].outgoing;
        m->text = circle_render(&ms[i], ms[i].outgoing, m->reply_to);
        m->ts_ms = ms[i].ts_ms;
        m->lamport = ms[i].lamport;
        m->state = ms[i].state >= 0 && ms[i].state <= 3 ? states[ms[i].state] : "unknown";
        m->kind = circle_kind_name(ms[i].kind);
        circle_care_fields(&ms[i], m);
        m->epoch = ms[i].epoch;
        m->received_ms = ms[i].recv_ms;
    }
    *n = count;
    store_cmsgs_free(ms, count);
    return KITH_OK;
}

int
engine_circle_msg_state(struct engine *e, const uint8_t id[16], const char **state)
{
    struct store_cmsg m;
    static const char *const states[] = { "queued", "sent", "delivered", "received" };
    int rc = store_cmsg_get(e->st, id, &m);

    if (rc == KITH_OK) {
        *state = m.state >= 0 && m.state <= 3 ? states[m.state] : "unknown";
        store_cmsg_clear(&m);
    }
    return rc;
}
