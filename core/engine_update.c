/*
 * engine_update: moving addresses (issue 7). When the endpoint this profile
 * listens on is not the one it last announced, the engine queues to every
 * contact an endpoint record signed with our identity key, over the normal
 * outbox (retried until acknowledged). A contact applies a record only when
 * its signature verifies against our IK and its seq is above the last one it
 * applied; then it re-points its connection to us at once.
 */
#include "core/engine_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "proto/frame.h"
#include "proto/update.h"

#define EU_ANNOUNCED "announced_listen" /* sealed settings, not exposed by `kith config` */
#define EU_SEQ       "endpoint_seq"

/* The endpoints we publish now: what invites carry (none for "none"). */
static void
eu_own_record(const struct engine *e, struct update_endpoint *u)
{
    memset(u, 0, sizeof *u);
    if (strcmp(e->publish, "none") != 0 &&
        frame_valid_endpoint(e->publish, strlen(e->publish), false)) {
        snprintf(u->endpoints[0], sizeof u->endpoints[0], "%s", e->publish);
        u->n_endpoints = 1;
    }
}

/* The next seq: above the last we announced, and the wall clock in ms, so a profile restored
 * from an old backup still announces above what its contacts have applied. */
static int
eu_next_seq(struct engine *e, uint64_t *seq)
{
    char *text = NULL;
    uint64_t last = 0;
    uint64_t now = (uint64_t)engine_now_ms();
    int rc = store_setting_get(e->st, EU_SEQ, &text);

    if (rc == KITH_OK) {
        last = strtoull(text, NULL, 10);
    } else if (rc != KITH_ENOTFOUND) {
        return rc;
    }
    free(text);
    *seq = last + 1 > now ? last + 1 : now;
    return KITH_OK;
}

/* Queue the record to one contact (its own transaction). A contact without a session yet
 * (nothing to seal with) learns our endpoint from the handshake instead. */
static int
eu_queue(struct engine *e, const struct store_contact *c, const uint8_t *rec, size_t len)
{
    struct envelope env;
    uint8_t msg_id[16];
    int rc;

    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_ENDPOINT;
    env.version = 1;
    env.payload = rec;
    env.payload_len = (uint32_t)len;
    rc = engine_seal_and_queue(e, c, &env, NULL, msg_id);
    return rc == KITH_ENOTFOUND ? KITH_OK : rc;
}

int
engine_endpoint_announce(struct engine *e)
{
    struct update_endpoint u;
    struct store_contact *cs = NULL;
    uint8_t rec[UPDATE_ENDPOINT_BYTES_MAX];
    char *announced = NULL;
    char seq_text[24];
    size_t rec_len = 0;
    size_t n = 0;
    int rc;

    eu_own_record(e, &u);
    rc = store_setting_get(e->st, EU_ANNOUNCED, &announced);
    if (rc == KITH_OK && strcmp(announced, u.n_endpoints > 0 ? u.endpoints[0] : "") == 0) {
        free(announced);
        return KITH_OK; /* nothing moved */
    }
    free(announced);
    if (rc != KITH_OK && rc != KITH_ENOTFOUND) {
        return rc;
    }
    rc = eu_next_seq(e, &u.seq);
    if (rc == KITH_OK) {
        rc = update_endpoint_encode(&u, e->id, rec, sizeof rec, &rec_len);
    }
    if (rc == KITH_OK) {
        rc = store_contacts_list(e->st, &cs, &n);
    }
    /* Blocked contacts too: the row waits in their outbox until the block is lifted. */
    for (size_t i = 0; i < n && rc == KITH_OK; i++) {
        rc = eu_queue(e, &cs[i], rec, rec_len);
    }
    if (rc == KITH_OK) {
        /* Only now: a crash before this line announces again, with a higher seq. */
        snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)u.seq);
        rc = store_begin(e->st);
        if (rc == KITH_OK) {
            rc = store_setting_set(e->st, EU_SEQ, seq_text);
        }
        if (rc == KITH_OK) {
            rc = store_setting_set(e->st, EU_ANNOUNCED, u.n_endpoints > 0 ? u.endpoints[0] : "");
        }
        if (rc == KITH_OK) {
            rc = store_commit(e->st);
        } else {
            store_rollback(e->st);
        }
    }
    if (cs != NULL) {
        sodium_memzero(cs, n * sizeof *cs);
        free(cs);
    }
    return rc;
}

int
engine_endpoint_receive(struct engine *e, const struct engine_peer *p, const struct envelope *env,
                        bool *reload)
{
    struct update_endpoint u;
    struct store_contact c;
    uint64_t last = 0;
    bool is_same;
    int rc = store_contact_by_id(e->st, p->contact_id, &c);

    if (rc != KITH_OK) {
        return rc;
    }
    rc = update_endpoint_decode(env->payload, env->payload_len, c.pub.ik, &u);
    if (rc != KITH_OK) {
        return KITH_EMALFORMED; /* not signed by them: never applied, counted as rejected */
    }
    rc = store_endpoint_seq_get(e->st, c.id, &last);
    if (rc != KITH_OK || u.seq <= last) {
        return rc; /* an older record (a retry, or overtaken): acknowledged, not applied */
    }
    is_same = c.n_endpoints == u.n_endpoints;
    for (uint8_t i = 0; is_same && i < u.n_endpoints; i++) {
        is_same = strcmp(c.endpoints[i], u.endpoints[i]) == 0;
    }
    if (!is_same) {
        memset(c.endpoints, 0, sizeof c.endpoints);
        c.n_endpoints = u.n_endpoints;
        for (uint8_t i = 0; i < u.n_endpoints && i < STORE_ENDPOINTS_MAX; i++) {
            snprintf(c.endpoints[i], sizeof c.endpoints[i], "%s", u.endpoints[i]);
        }
        rc = store_contact_update(e->st, &c);
        if (rc != KITH_OK) {
            return rc;
        }
        *reload = true; /* after COMMIT: the DEALER is re-pointed (engine_reload_peers) */
        engine_emit(e, ENGINE_EV_CONTACT, p->name, NULL);
    }
    return store_endpoint_seq_set(e->st, c.id, u.seq);
}
