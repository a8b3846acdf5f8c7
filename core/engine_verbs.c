/*
 * engine_verbs: what the engine does on request — make and accept invites, and answer the
 * views' queries (sending is in core/engine_send.c).
 */
#include "core/engine_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "core/cli.h"
#include "core/kcrypt.h"
#include "core/session.h"
#include "proto/frame.h"
#include "proto/invite.h"
#include "core/engine_circle_impl.h"

/* ---- invites ---- */

static void
engine_own_card(struct engine *e, struct contact_card *card)
{
    memset(card, 0, sizeof *card);
    snprintf(card->name, sizeof card->name, "%s", e->name);
    if (e->publish[0] != '\0' && frame_valid_endpoint(e->publish, strlen(e->publish), false)) {
        snprintf(card->endpoints[0], sizeof card->endpoints[0], "%s", e->publish);
        card->n_endpoints = 1;
    }
}

int
engine_invite(struct engine *e, uint32_t ttl_s, char code[ENGINE_INVITE_BUF])
{
    return engine_invite_for(e, ttl_s, NULL, code);
}

int
engine_invite_for(struct engine *e, uint32_t ttl_s, const uint8_t *circle_id,
                  char code[ENGINE_INVITE_BUF])
{
    struct store_invite si;
    struct invite inv;
    uint32_t now = (uint32_t)(engine_now_ms() / 1000);
    int rc;

    code[0] = '\0';
    if (ttl_s == 0) {
        ttl_s = KITH_INVITE_TTL_DEFAULT;
    }
    if (ttl_s > KITH_INVITE_TTL_MAX) {
        return KITH_EINVAL;
    }
    memset(&si, 0, sizeof si);
    do {
        si.invite_id = randombytes_random();
    } while (si.invite_id == 0 || si.invite_id == 0xFFFFFFFFu);
    randombytes_buf(si.inv_sk, sizeof si.inv_sk);
    crypto_scalarmult_base(si.inv_pk, si.inv_sk);
    randombytes_buf(si.secret, sizeof si.secret);
    si.expires_at = now + ttl_s;
    si.state = STORE_INVITE_ISSUED;

    memset(&inv, 0, sizeof inv);
    inv.version = 1;
    inv.from = *identity_public(e->id);
    memcpy(inv.inv_pk, si.inv_pk, 32);
    inv.invite_id = si.invite_id;
    memcpy(inv.secret, si.secret, 32);
    inv.expires_at = si.expires_at;
    if (circle_id != NULL) {
        inv.flags = INVITE_FLAG_CIRCLE;
        memcpy(inv.circle_id, circle_id, 16);
    }
    snprintf(inv.name, sizeof inv.name, "%s", e->name);
    if (frame_valid_endpoint(e->publish, strlen(e->publish), false)) {
        snprintf(inv.endpoints[0], sizeof inv.endpoints[0], "%s", e->publish);
        inv.n_endpoints = 1;
    }
    rc = invite_encode(&inv, e->id, code, ENGINE_INVITE_BUF);
    if (rc == KITH_OK) {
        rc = store_invite_add(e->st, &si);
    }
    if (rc == KITH_OK && circle_id != NULL) {
        rc = store_invite_set_circle(e->st, si.invite_id, circle_id);
    }
    if (rc == KITH_OK) {
        e->open_invites++;
        e->invites_checked_ms = engine_now_ms();
    } else {
        code[0] = '\0';
    }
    sodium_memzero(&si, sizeof si);
    sodium_memzero(&inv, sizeof inv);
    return rc;
}

int
engine_accept(struct engine *e, const char *code, const char *as_name,
              char name_out[ENGINE_NAME_BUF])
{
    struct invite inv;
    struct store_contact c;
    struct store_contact existing;
    struct session *s = NULL;
    struct envelope env;
    struct contact_card card;
    uint8_t card_buf[512];
    size_t card_len = 0;
    uint8_t msg_id[16];
    int rc;

    name_out[0] = '\0';
    rc = invite_decode(code, (uint32_t)(engine_now_ms() / 1000), &inv);
    if (rc != KITH_OK) {
        return rc;
    }
    if (memcmp(inv.from.ik, identity_public(e->id)->ik, 32) == 0) {
        rc = KITH_EINVAL; /* our own invite */
        goto out;
    }
    if (inv.flags & INVITE_FLAG_CIRCLE) {
        /* core/engine_circle_recv.c: KITH_EAGAIN means "now accept it as a contact too". */
        rc = engine_circle_accept(e, &inv, name_out);
        if (rc != KITH_EAGAIN) {
            goto out;
        }
    }
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", as_name != NULL ? as_name : inv.name);
    if (!frame_valid_name(c.name, strlen(c.name))) {
        rc = KITH_EINVAL;
        goto out;
    }
    c.pub = inv.from;
    identity_member_id(inv.from.ik, c.member_id);
    if (store_contact_by_member(e->st, c.member_id, &existing) == KITH_OK) {
        rc = KITH_EEXISTS;
        goto out;
    }
    c.n_endpoints = inv.n_endpoints > STORE_ENDPOINTS_MAX ? STORE_ENDPOINTS_MAX : inv.n_endpoints;
    for (uint8_t i = 0; i < c.n_endpoints; i++) {
        snprintf(c.endpoints[i], sizeof c.endpoints[i], "%s", inv.endpoints[i]);
    }
    c.state = STORE_CONTACT_PENDING;
    c.created_at = engine_now_ms() / 1000;
    rc = session_initiate(e->id, &inv.from, inv.inv_pk, inv.invite_id, inv.secret, &s);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_begin(e->st);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_contact_add(e->st, &c);
    if (rc == KITH_OK) {
        rc = store_session_save(e->st, c.id, s);
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    } else {
        store_rollback(e->st);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    engine_own_card(e, &card);
    rc = card_encode(&card, card_buf, sizeof card_buf, &card_len);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_CONTACT_CARD;
    env.version = 1;
    env.payload = card_buf;
    env.payload_len = (uint32_t)card_len;
    rc = engine_seal_and_queue(e, &c, &env, NULL, msg_id);
    if (rc != KITH_OK) {
        goto out;
    }
    snprintf(name_out, ENGINE_NAME_BUF, "%s", c.name);
    rc = engine_reload_peers(e);
    engine_emit(e, ENGINE_EV_CONTACT, c.name, NULL);
    engine_flush(e, c.id);
out:
    session_destroy(s);
    sodium_memzero(&inv, sizeof inv);
    return rc;
}

/* ---- queries ---- */

int
engine_me(struct engine *e, struct engine_me *me)
{
    memset(me, 0, sizeof *me);
    snprintf(me->name, sizeof me->name, "%s", e->name);
    identity_fingerprint(identity_public(e->id)->ik, me->fingerprint);
    if (strcmp(e->publish, e->listen) != 0) {
        snprintf(me->endpoint, sizeof me->endpoint, "%s", e->publish); /* e.g. an onion service */
    } else if (strcmp(e->listen, "none") != 0) { /* "none": we publish no address */
        snprintf(me->endpoint, sizeof me->endpoint, "%s",
                 e->tp != NULL ? transport_endpoint(e->tp) : e->listen);
    }
    me->online = e->started;
    return KITH_OK;
}

static void
engine_fill_contact(struct engine *e, const struct store_contact *sc, struct engine_contact *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", sc->name);
    identity_fingerprint(sc->pub.ik, c->fingerprint);
    identity_safety_number(identity_public(e->id)->ik, sc->pub.ik, c->safety);
    c->online = e->tp != NULL && transport_peer_reachable(e->tp, sc->member_id);
    c->verified = sc->verified;
    c->pending = sc->state == STORE_CONTACT_PENDING;
    c->trust = sc->trust;
    engine_boundary_names(e, sc->id, c->boundaries, sizeof c->boundaries);
    for (uint8_t i = 0; i < sc->n_endpoints && i < 4; i++) {
        snprintf(c->endpoints[c->n_endpoints++], sizeof c->endpoints[0], "%s", sc->endpoints[i]);
    }
}

int
engine_contacts(struct engine *e, struct engine_contact **out, size_t *n)
{
    struct store_contact *cs = NULL;
    size_t count = 0;
    int rc = store_contacts_list(e->st, &cs, &count);

    *out = NULL;
    *n = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        engine_fill_contact(e, &cs[i], &(*out)[i]);
    }
    *n = count;
    sodium_memzero(cs, count * sizeof *cs);
    free(cs);
    return KITH_OK;
}

int
engine_contact(struct engine *e, const char *name, struct engine_contact *c)
{
    struct store_contact sc;
    int rc = store_contact_by_name(e->st, name, &sc);

    if (rc == KITH_OK) {
        engine_fill_contact(e, &sc, c);
    }
    return rc;
}

int
engine_rename(struct engine *e, const char *name, const char *new_name)
{
    struct store_contact sc;
    int rc;

    if (!frame_valid_name(new_name, strlen(new_name))) {
        return KITH_EINVAL;
    }
    rc = store_contact_by_name(e->st, name, &sc);
    if (rc != KITH_OK) {
        return rc;
    }
    snprintf(sc.name, sizeof sc.name, "%s", new_name);
    rc = store_contact_update(e->st, &sc);
    if (rc == KITH_OK) {
        rc = engine_reload_peers(e);
    }
    return rc;
}

int
engine_set_verified(struct engine *e, const char *name, bool verified)
{
    struct store_contact sc;
    int rc = store_contact_by_name(e->st, name, &sc);

    if (rc != KITH_OK) {
        return rc;
    }
    sc.verified = verified;
    return store_contact_update(e->st, &sc);
}

static const char *
engine_state_name(int state)
{
    static const char *const names[] = { "queued", "sent", "delivered", "received",
                                         "held", "folded", "awaiting_consent", "expired" };
    if (state < 0 || (size_t)state >= sizeof names / sizeof names[0]) {
        return "unknown";
    }
    return names[state];
}

int
engine_history(struct engine *e, const char *target, size_t limit, uint64_t before_lamport,
               struct engine_msg **out, size_t *n)
{
    struct store_contact c;
    struct store_msg *ms = NULL;
    size_t count = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (target[0] == '#') {
        return engine_circle_history(e, target, limit, before_lamport, out, n);
    }
    rc = store_contact_by_name(e->st, target, &c);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_msg_log(e->st, c.id, limit, before_lamport, &ms, &count);
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        struct engine_msg *m = &(*out)[i];
        kcrypt_hex(m->id, ms[i].msg_id, 16);
        snprintf(m->from, sizeof m->from, "%s", ms[i].outgoing ? e->name : c.name);
        m->outgoing = ms[i].outgoing;
        m->text = ms[i].text;
        ms[i].text = NULL;
        m->ts_ms = ms[i].ts_ms;
        m->lamport = ms[i].lamport;
        m->state = engine_state_name(ms[i].state);
        m->release_at = ms[i].release_at;
        engine_boundary_describe(&ms[i], m);
        m->delete_at = engine_retention_delete_at(e, ms[i].msg_id);
    }
    *n = count;
    store_msgs_free(ms, count);
    return KITH_OK;
}

void
engine_msgs_free(struct engine_msg *m, size_t n)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].text != NULL) {
            sodium_memzero(m[i].text, strlen(m[i].text));
            free(m[i].text);
        }
    }
    free(m);
}

static int
engine_parse_id(const char *hex, uint8_t id[16])
{
    size_t bin_len = 0;

    if (strlen(hex) != 32 ||
        sodium_hex2bin(id, 16, hex, 32, NULL, &bin_len, NULL) != 0 || bin_len != 16) {
        return KITH_EINVAL;
    }
    return KITH_OK;
}

int
engine_msg_state(struct engine *e, const char *id_hex, const char **state)
{
    uint8_t id[16];
    int st = 0;
    int rc = engine_parse_id(id_hex, id);

    *state = NULL;
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_msg_state(e->st, id, &st);
    if (rc == KITH_OK) {
        *state = engine_state_name(st);
    } else if (rc == KITH_ENOTFOUND) {
        rc = engine_circle_msg_state(e, id, state); /* a circle message */
    }
    return rc;
}

int
engine_status(struct engine *e, struct engine_status *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < e->npeers; i++) {
        if (e->tp != NULL && transport_peer_reachable(e->tp, e->peers[i].member_id)) {
            s->contacts_online++;
        }
    }
    s->rejected = e->rejected;
    return store_msg_counts(e->st, &s->queued, &s->held);
}

int
engine_check_passphrase(struct engine *e, const char *pass, size_t pass_len)
{
    return store_check_passphrase(e->st, pass, pass_len);
}

static bool
engine_config_key_ok(const char *key)
{
    return strcmp(key, "listen") == 0 || strcmp(key, "socks5") == 0 || strcmp(key, "notify") == 0 ||
           strcmp(key, "advertise") == 0 ||
           engine_config_is_personal(key);
}

int
engine_config_get(struct engine *e, const char *key, char **value)
{
    *value = NULL;
    if (!engine_config_key_ok(key)) {
        return KITH_EINVAL;
    }
    return store_setting_get(e->st, key, value);
}

int
engine_config_set(struct engine *e, const char *key, const char *value)
{
    char resolved[ENGINE_ENDPOINT_BUF];

    if (engine_config_is_personal(key)) {
        return engine_config_set_personal(e, key, value); /* core/engine_profile.c */
    }
    if (!engine_config_key_ok(key) || value == NULL || strlen(value) >= ENGINE_ENDPOINT_BUF) {
        return KITH_EINVAL;
    }
    if (strcmp(key, "notify") == 0) { /* read by the client (tui/notify.h) at each arrival */
        if (strcmp(value, "bell") != 0 && strcmp(value, "desktop") != 0 &&
            strcmp(value, "both") != 0 && strcmp(value, "off") != 0) {
            return KITH_EINVAL;
        }
        return store_setting_set(e->st, key, value);
    }
    if (strcmp(key, "advertise") == 0) { /* used from the next start */
        if (strcmp(value, "off") != 0 && !frame_valid_endpoint(value, strlen(value), false)) {
            return KITH_EINVAL;
        }
        return store_setting_set(e->st, key, value);
    }
    if (strcmp(key, "listen") == 0) {
        int rc = engine_resolve_listen(value, resolved);
        if (rc != KITH_OK) {
            return rc;
        }
        value = resolved;
    } else if (strcmp(value, "off") != 0) {
        const char *colon = strrchr(value, ':');
        long port = colon != NULL ? strtol(colon + 1, NULL, 10) : 0;
        if (colon == NULL || colon == value || port < 1 || port > 65535) {
            return KITH_EINVAL;
        }
    }
    return store_setting_set(e->st, key, value);
}
