/*
 * engine: lifecycle (profile lock, unlock, start), the one poll loop (poller_wait),
 * the control socket, ZAP admission from in-memory key sets, and the verbs
 * behind every command. Incoming frames are handled in engine_recv.c.
 * Invariant: nothing goes on the wire before the store has committed it.
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
#include "net/poller.h"
#include "proto/frame.h"
#include "proto/invite.h"

#define ENGINE_ZAP_INVITEES_PER_MIN 10

/* Invitee handshakes admitted per minute. Test builds: KITH_TEST_ZAP_PER_MIN raises it for
 * benchmarks that set up a 32-member circle at once. */
static unsigned
engine_zap_invitees_per_min(void)
{
#ifdef KITH_TEST_HOOKS
    const char *v = getenv("KITH_TEST_ZAP_PER_MIN");
    if (v != NULL && atoi(v) > 0) {
        return (unsigned)atoi(v);
    }
#endif
    return ENGINE_ZAP_INVITEES_PER_MIN;
}
#define ENGINE_CONTROL_TIMEOUT_MS 30000

static int engine_sig_fd = -1;

int64_t
engine_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
engine_backoff_ms(uint32_t attempts)
{
    int64_t base = 1000;
    uint32_t shift = attempts > 0 ? attempts - 1 : 0;

    if (shift > 9) {
        shift = 9; /* 512 s */
    }
    base <<= shift;
    return base + (int64_t)randombytes_uniform((uint32_t)(base / 4) + 1);
}

void
engine_crash_point(const char *point)
{
#ifdef KITH_TEST_HOOKS
    static long hits;
    const char *spec = getenv("KITH_CRASH_AT");
    size_t plen = strlen(point);

    if (spec == NULL || strncmp(spec, point, plen) != 0 || spec[plen] != ':') {
        return;
    }
    if (++hits == strtol(spec + plen + 1, NULL, 10)) {
        _exit(137);
    }
#else
    (void)point;
#endif
}

void
engine_emit(struct engine *e, enum engine_event_kind kind, const char *contact,
            const uint8_t *msg_id)
{
    engine_emit_notify(e, kind, contact, msg_id, true);
}

void
engine_emit_notify(struct engine *e, enum engine_event_kind kind, const char *contact,
                   const uint8_t *msg_id, bool notify)
{
    struct engine_event *ev;
    size_t slot;

    if (e->ev_count == ENGINE_EVENTS_MAX) { /* drop the oldest; views reload anyway */
        e->ev_head = (e->ev_head + 1) % ENGINE_EVENTS_MAX;
        e->ev_count--;
    }
    slot = (e->ev_head + e->ev_count) % ENGINE_EVENTS_MAX;
    ev = &e->events[slot];
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    if (contact != NULL) {
        snprintf(ev->contact, sizeof ev->contact, "%s", contact);
    }
    if (msg_id != NULL) {
        kcrypt_hex(ev->msg_id, msg_id, 16);
    }
    ev->notify = notify;
    e->ev_count++;
}

bool
engine_next_event(struct engine *e, struct engine_event *ev)
{
    if (e->ev_count == 0) {
        return false;
    }
    *ev = e->events[e->ev_head];
    e->ev_head = (e->ev_head + 1) % ENGINE_EVENTS_MAX;
    e->ev_count--;
    return true;
}

/* ---- profile paths and lock ---- */

int
engine_home_resolve(const char *arg, char *out, size_t cap)
{
    const char *env;
    int n;

    if (arg != NULL && arg[0] != '\0') {
        n = snprintf(out, cap, "%s", arg);
    } else if ((env = getenv("KITH_HOME")) != NULL && env[0] != '\0') {
        n = snprintf(out, cap, "%s", env);
    } else if ((env = getenv("XDG_DATA_HOME")) != NULL && env[0] != '\0') {
        n = snprintf(out, cap, "%s/kith", env);
    } else if ((env = getenv("HOME")) != NULL && env[0] != '\0') {
        n = snprintf(out, cap, "%s/.local/share/kith", env);
    } else {
        return KITH_EINVAL;
    }
    return (n < 0 || (size_t)n >= cap) ? KITH_EINVAL : KITH_OK;
}

int
engine_path(char *out, size_t cap, const char *home, const char *leaf)
{
    int n = snprintf(out, cap, "%s/%s", home, leaf);
    return (n < 0 || (size_t)n >= cap) ? KITH_EINVAL : KITH_OK;
}

int
engine_lock(const char *home, int *fd_out)
{
    char path[ENGINE_PATH_MAX + 16];
    int fd;

    *fd_out = -1;
    if (engine_path(path, sizeof path, home, "lock") != KITH_OK) {
        return KITH_EINVAL;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno == ENOENT ? KITH_ENOTFOUND : KITH_ESYS;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return KITH_EBUSY;
    }
    *fd_out = fd;
    return KITH_OK;
}

bool
engine_profile_exists(const char *home)
{
    char path[ENGINE_PATH_MAX + 16];
    struct stat sb;

    return engine_path(path, sizeof path, home, "kith.db") == KITH_OK && stat(path, &sb) == 0 &&
           sb.st_size > 0;
}

bool
engine_is_running(const char *home)
{
    char path[ENGINE_PATH_MAX + 16];
    bool running = false;
    int fd;

    if (engine_path(path, sizeof path, home, "lock") != KITH_OK) {
        return false;
    }
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        running = (errno == EWOULDBLOCK);
    }
    close(fd);
    return running;
}

/* A free TCP port outside the ephemeral range (PROTOCOL-NOTES M4). */
static int
engine_pick_port(const char *host)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
    }
    for (int i = 0; i < 200; i++) {
        int port = 20000 + (int)randombytes_uniform(12000);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok;
        if (fd < 0) {
            return -1;
        }
        sa.sin_port = htons((uint16_t)port);
        ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok) {
            return port;
        }
    }
    return -1;
}

/* "tcp://HOST:*" -> "tcp://HOST:PORT" with a free port; others unchanged. */
int
engine_resolve_listen(const char *listen, char out[ENGINE_ENDPOINT_BUF])
{
    const char *colon;
    char host[ENGINE_ENDPOINT_BUF];
    int port;

    if (strcmp(listen, "none") == 0) {
        snprintf(out, ENGINE_ENDPOINT_BUF, "none");
        return KITH_OK;
    }
    if (!frame_valid_endpoint(listen, strlen(listen), true)) {
        return KITH_EINVAL;
    }
    colon = strrchr(listen, ':');
    if (colon == NULL || strcmp(colon, ":*") != 0) {
        snprintf(out, ENGINE_ENDPOINT_BUF, "%s", listen);
        return KITH_OK;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen - 6), listen + 6);
    port = engine_pick_port(host);
    if (port < 0) {
        return KITH_ENET;
    }
    if (snprintf(out, ENGINE_ENDPOINT_BUF, "tcp://%.80s:%d", host, port) >= ENGINE_ENDPOINT_BUF) {
        return KITH_EINVAL;
    }
    return KITH_OK;
}

int
engine_init_profile(const char *home, const char *name, const char *listen, const char *pass,
                    size_t pass_len, bool cost_min)
{
    char db[ENGINE_PATH_MAX + 16];
    char endpoint[ENGINE_ENDPOINT_BUF];
    struct store *st = NULL;
    struct identity *id = NULL;
    struct stat sb;
    int lock_fd = -1;
    int rc;

    if (name == NULL || !frame_valid_name(name, strlen(name))) {
        return KITH_EINVAL;
    }
    rc = engine_resolve_listen(listen != NULL ? listen : "tcp://127.0.0.1:*", endpoint);
    if (rc != KITH_OK) {
        return rc;
    }
    if (mkdir(home, 0700) != 0 && errno != EEXIST) {
        return KITH_ESYS;
    }
    if (stat(home, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return KITH_ESYS;
    }
    (void)chmod(home, 0700);
    rc = engine_path(db, sizeof db, home, "kith.db");
    if (rc != KITH_OK) {
        return rc;
    }
    if (stat(db, &sb) == 0 && sb.st_size > 0) {
        return KITH_EEXISTS;
    }
    rc = engine_lock(home, &lock_fd);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_create(db, pass, pass_len, cost_min ? &STORE_KDF_MIN : &STORE_KDF_MODERATE, &st);
    if (rc != KITH_OK) {
        goto out;
    }
    id = identity_generate((uint32_t)(engine_now_ms() / 1000));
    rc = store_begin(st);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_identity_save(st, id, name);
    if (rc == KITH_OK) {
        rc = store_setting_set(st, "listen", endpoint);
    }
    if (rc != KITH_OK) {
        store_rollback(st);
        goto out;
    }
    rc = store_commit(st);
out:
    identity_destroy(id);
    store_close(st);
    if (lock_fd >= 0) {
        close(lock_fd);
    }
    return rc;
}

/* ---- open / close ---- */

int
engine_reload_peers(struct engine *e)
{
    struct store_contact *cs = NULL;
    size_t n = 0;
    int rc = store_contacts_list(e->st, &cs, &n);

    if (rc != KITH_OK) {
        return rc;
    }
    free(e->peers);
    e->peers = xcalloc(n, sizeof *e->peers);
    e->npeers = n;
    for (size_t i = 0; i < n; i++) {
        struct engine_peer *p = &e->peers[i];
        p->contact_id = cs[i].id;
        memcpy(p->member_id, cs[i].member_id, sizeof p->member_id);
        memcpy(p->tk, cs[i].pub.tk, sizeof p->tk);
        snprintf(p->name, sizeof p->name, "%s", cs[i].name);
        if (cs[i].n_endpoints > 0) {
            snprintf(p->endpoint, sizeof p->endpoint, "%s", cs[i].endpoints[0]);
        }
        p->pending = cs[i].state == STORE_CONTACT_PENDING;
        p->blocked = engine_boundary_blocked(e, p->contact_id);
        if (e->tp != NULL && p->blocked) {
            transport_peer_drop(e->tp, p->member_id); /* no path either way while blocked */
        } else if (e->tp != NULL) {
            /* Updates only what changed; a failure leaves the peer reachable inbound. */
            KITH_IGNORE(transport_peer_set(e->tp, p->member_id, p->tk,
                                           p->endpoint[0] != '\0' ? p->endpoint : NULL));
        }
    }
    sodium_memzero(cs, n * sizeof *cs);
    free(cs);
    return KITH_OK;
}

struct engine_peer *
engine_peer_by_member(struct engine *e, const uint8_t member_id[16])
{
    for (size_t i = 0; i < e->npeers; i++) {
        if (memcmp(e->peers[i].member_id, member_id, 16) == 0) {
            return &e->peers[i];
        }
    }
    return NULL;
}

struct engine_peer *
engine_peer_by_contact(struct engine *e, int64_t contact_id)
{
    for (size_t i = 0; i < e->npeers; i++) {
        if (e->peers[i].contact_id == contact_id) {
            return &e->peers[i];
        }
    }
    return NULL;
}

struct engine_peer *
engine_peer_by_tk(struct engine *e, const uint8_t tk[32])
{
    for (size_t i = 0; i < e->npeers; i++) {
        if (sodium_memcmp(e->peers[i].tk, tk, 32) == 0) {
            return &e->peers[i];
        }
    }
    return NULL;
}

int
engine_open(const char *home, const char *pass, size_t pass_len, struct engine **out)
{
    char db[ENGINE_PATH_MAX + 16];
    char *listen = NULL;
    struct engine *e;
    int rc;

    *out = NULL;
    e = xcalloc(1, sizeof *e);
    e->lock_fd = -1;
    e->watch_fd = -1;
    e->sig_pipe[0] = e->sig_pipe[1] = -1;
    snprintf(e->home, sizeof e->home, "%s", home);
    rc = engine_path(db, sizeof db, home, "kith.db");
    if (rc != KITH_OK) {
        goto out;
    }
    if (access(db, F_OK) != 0) {
        rc = KITH_ENOTFOUND;
        goto out;
    }
    rc = engine_lock(home, &e->lock_fd);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_open(db, pass, pass_len, &e->st);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_identity_load(e->st, &e->id, e->name);
    if (rc != KITH_OK) {
        rc = rc == KITH_ENOTFOUND ? KITH_ECORRUPT : rc;
        goto out;
    }
    identity_member_id(identity_public(e->id)->ik, e->member_id);
    rc = store_setting_get(e->st, "listen", &listen);
    if (rc != KITH_OK) {
        goto out;
    }
    snprintf(e->listen, sizeof e->listen, "%s", listen);
    free(listen);
    listen = NULL;
    snprintf(e->publish, sizeof e->publish, "%s", e->listen);
    if (store_setting_get(e->st, "advertise", &listen) == KITH_OK) {
        if (strcmp(listen, "off") != 0) {
            snprintf(e->publish, sizeof e->publish, "%s", listen);
        }
        free(listen);
    }
    rc = engine_reload_peers(e);
    if (rc == KITH_OK) {
        rc = engine_circles_reload(e);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    e->sync_ivl_ms = 60000;
#ifdef KITH_TEST_HOOKS
    if (getenv("KITH_SYNC_IVL_MS") != NULL && atol(getenv("KITH_SYNC_IVL_MS")) > 0) {
        e->sync_ivl_ms = atol(getenv("KITH_SYNC_IVL_MS")); /* tests: faster anti-entropy */
    }
#endif
    engine_retention_run_due(e); /* messages that came due while no engine ran */
    *out = e;
    e = NULL;
out:
    engine_close(e);
    return rc;
}

static void
engine_stop_network(struct engine *e)
{
    if (e->ctl != NULL) {
        char path[ENGINE_PATH_MAX + 16];
        zmq_close(e->ctl);
        e->ctl = NULL;
        if (engine_path(path, sizeof path, e->home, "control") == KITH_OK) {
            unlink(path);
        }
    }
    if (e->ctl_ctx != NULL) {
        zmq_ctx_term(e->ctl_ctx);
        e->ctl_ctx = NULL;
    }
    transport_close(e->tp);
    e->tp = NULL;
    for (int i = 0; i < 2; i++) {
        if (e->sig_pipe[i] >= 0) {
            close(e->sig_pipe[i]);
            e->sig_pipe[i] = -1;
        }
    }
    if (engine_sig_fd >= 0) {
        engine_sig_fd = -1;
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    e->started = false;
}

void
engine_close(struct engine *e)
{
    if (e == NULL) {
        return;
    }
    engine_notes_flush(e, true);
    engine_stop_network(e);
    for (size_t i = 0; i < e->nbatch; i++) {
        free(e->batch[i].buf);
    }
    free(e->notes);
    free(e->peers);
    engine_recv_free(e);
    engine_circles_free(e);
    engine_txn_cache_clear(e); /* wipes the unsealed sessions */
    identity_destroy(e->id);
    store_close(e->st);
    if (e->lock_fd >= 0) {
        close(e->lock_fd);
    }
    sodium_memzero(e, sizeof *e);
    free(e);
}

/* ---- network start ---- */

static enum transport_admit
engine_admit(void *ctx, const uint8_t tk[32], const char *ip, uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct engine *e = ctx;
    struct engine_peer *p = engine_peer_by_tk(e, tk);
    int64_t now = engine_now_ms();

    (void)ip;
    if (p != NULL && p->blocked) {
        return TRANSPORT_REFUSE; /* 300, silent: the same answer an unknown key gets */
    }
    if (p != NULL) {
        memcpy(peer_id, p->member_id, TRANSPORT_PEER_ID);
        return TRANSPORT_CONTACT;
    }
    if (now - e->invites_checked_ms > 60000) {
        size_t n = 0;
        if (store_invites_open(e->st, (uint32_t)(now / 1000), &n) == KITH_OK) {
            e->open_invites = n;
        }
        e->invites_checked_ms = now;
    }
    if (e->open_invites == 0) {
        return TRANSPORT_REFUSE;
    }
    if (now - e->zap_window_start_ms > 60000) {
        e->zap_window_start_ms = now;
        e->zap_invitees_in_window = 0;
    }
    if (e->zap_invitees_in_window >= engine_zap_invitees_per_min()) {
        return TRANSPORT_REFUSE;
    }
    e->zap_invitees_in_window++;
    return TRANSPORT_INVITEE;
}

static void
engine_on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (engine_sig_fd >= 0) {
        ssize_t w = write(engine_sig_fd, &b, 1);
        (void)w;
    }
    errno = saved;
}

static int
engine_start_control(struct engine *e)
{
    char path[ENGINE_PATH_MAX + 16];
    char endpoint[ENGINE_PATH_MAX + 32];
    int linger = 0;

    if (engine_path(path, sizeof path, e->home, "control") != KITH_OK) {
        return KITH_EINVAL;
    }
    snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
    unlink(path); /* a stale socket of a crashed engine; we hold the lock */
    e->ctl_ctx = zmq_ctx_new();
    e->ctl = e->ctl_ctx != NULL ? zmq_socket(e->ctl_ctx, ZMQ_ROUTER) : NULL;
    if (e->ctl == NULL) {
        return KITH_ENET;
    }
    zmq_setsockopt(e->ctl, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(e->ctl, endpoint) != 0) {
        return KITH_ENET;
    }
    (void)chmod(path, 0600);
    return KITH_OK;
}

int
engine_start(struct engine *e)
{
    struct transport_config cfg;
    uint8_t tk_pk[32];
    char *socks = NULL;
    int rc;

    if (e->started) {
        return KITH_OK;
    }
    memcpy(tk_pk, identity_public(e->id)->tk, 32);
    memset(&cfg, 0, sizeof cfg);
    /* "none": nobody can connect to us (behind NAT): bind loopback only for the
     * self-test; peers answer over the connections we open. */
    cfg.listen = strcmp(e->listen, "none") == 0 ? "tcp://127.0.0.1:*" : e->listen;
    cfg.tk_pk = tk_pk;
    cfg.tk_sk = identity_tk_sk(e->id);
    cfg.admit = engine_admit;
    cfg.admit_ctx = e;
    if (store_setting_get(e->st, "socks5", &socks) == KITH_OK && strcmp(socks, "off") != 0) {
        cfg.socks_proxy = socks; /* outbound connections go through the proxy */
    }
    rc = transport_open(&cfg, &e->tp);
    free(socks);
    if (rc != KITH_OK) {
        return rc;
    }
    e->invites_checked_ms = 0;
    rc = engine_reload_peers(e);
    if (rc != KITH_OK) {
        goto fail;
    }
    rc = engine_start_control(e);
    if (rc != KITH_OK) {
        goto fail;
    }
    if (pipe2(e->sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = KITH_ESYS;
        goto fail;
    }
    engine_sig_fd = e->sig_pipe[1];
    signal(SIGINT, engine_on_signal);
    signal(SIGTERM, engine_on_signal);
    signal(SIGPIPE, SIG_IGN);
    e->started = true;
    /* Moved since the last start (config set listen)? Contacts learn it over the outbox. */
    KITH_IGNORE(engine_endpoint_announce(e));
    engine_flush(e, 0);
    return KITH_OK;
fail:
    engine_stop_network(e);
    return rc;
}

void
engine_stop(struct engine *e)
{
    e->stop = true;
}

bool
engine_stopping(const struct engine *e)
{
    return e->stop;
}

void
engine_watch_fd(struct engine *e, int fd, void (*on_ready)(void *ctx), void *ctx)
{
    e->watch_fd = on_ready != NULL ? fd : -1;
    e->on_ready = on_ready;
    e->ready_ctx = ctx;
}

void
engine_set_idle(struct engine *e, void (*idle)(void *ctx), void *ctx)
{
    e->idle = idle;
    e->idle_ctx = ctx;
}

void
engine_set_on_batch(struct engine *e, void (*on_batch)(void *ctx), void *ctx)
{
    e->on_batch = on_batch;
    e->on_batch_ctx = ctx;
}

/* ---- control socket: commands from other kith processes ---- */

/* Arguments one control call may carry (`kith send --each` sends one per text). */
#define ENGINE_CONTROL_ARGS_MAX 1024

static void
engine_control_reply(struct engine *e, zmq_msg_t *route, int st, const struct cli_buf *out,
                     const struct cli_buf *err)
{
    char status[8];

    snprintf(status, sizeof status, "%d", st);
    zmq_send(e->ctl, zmq_msg_data(route), zmq_msg_size(route), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(e->ctl, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(e->ctl, status, strlen(status), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(e->ctl, out->s != NULL ? out->s : "", out->len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(e->ctl, err->s != NULL ? err->s : "", err->len, ZMQ_DONTWAIT);
}

static void
engine_serve_control(struct engine *e)
{
    /* [routing id][empty][arg]...: a call with too many arguments is answered, not run */
    enum { PARTS_MAX = ENGINE_CONTROL_ARGS_MAX + 2 };

    for (int served = 0; served < 16; served++) {
        zmq_msg_t *parts = NULL;
        size_t cap = 0;
        int nparts = 0;
        int more = 1;
        bool too_many = false;
        struct cli_buf out = { 0 };
        struct cli_buf err = { 0 };

        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, e->ctl, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&part);
                break;
            }
            more = zmq_msg_more(&part);
            if (nparts == PARTS_MAX) {
                too_many = true; /* the rest is drained */
                zmq_msg_close(&part);
                continue;
            }
            if ((size_t)nparts == cap) {
                cap = cap == 0 ? 16 : cap * 2;
                parts = xrealloc(parts, cap * sizeof *parts);
            }
            zmq_msg_init(&parts[nparts]);
            zmq_msg_move(&parts[nparts], &part);
            zmq_msg_close(&part);
            nparts++;
        }
        if (nparts == 0) {
            free(parts);
            return; /* nothing waiting */
        }
        if (nparts >= 2 && !more && too_many) {
            cli_printf(&err, "kith: too many arguments for one command (at most %d)\n",
                       ENGINE_CONTROL_ARGS_MAX);
            engine_control_reply(e, &parts[0], 2, &out, &err);
        } else if (nparts >= 2 && !more) {
            char **argv = xcalloc((size_t)nparts, sizeof *argv);
            int argc = 0;
            for (int i = 2; i < nparts; i++) {
                size_t len = zmq_msg_size(&parts[i]);
                argv[argc] = xmalloc(len + 1);
                memcpy(argv[argc], zmq_msg_data(&parts[i]), len);
                argv[argc][len] = '\0';
                argc++;
            }
            argv[argc] = NULL;
            engine_control_reply(e, &parts[0], cli_exec(e, argc, argv, &out, &err), &out, &err);
            for (int i = 0; i < argc; i++) {
                free(argv[i]);
            }
            free(argv);
        }
        cli_buf_free(&out);
        cli_buf_free(&err);
        for (int i = 0; i < nparts; i++) {
            zmq_msg_close(&parts[i]);
        }
        free(parts);
    }
}

int
engine_control_call(const char *home, int argc, char **argv, int *status, char **out, char **err)
{
    char path[ENGINE_PATH_MAX + 16];
    char endpoint[ENGINE_PATH_MAX + 32];
    void *ctx = NULL;
    void *req = NULL;
    int timeout = ENGINE_CONTROL_TIMEOUT_MS;
    int linger = 0;
    int rc = KITH_ENOENGINE;
    char *texts[3] = { NULL, NULL, NULL };

    *status = 1;
    *out = NULL;
    *err = NULL;
    if (engine_path(path, sizeof path, home, "control") != KITH_OK) {
        return KITH_EINVAL;
    }
    if (access(path, F_OK) != 0) {
        return KITH_ENOENGINE;
    }
    snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
    ctx = zmq_ctx_new();
    req = ctx != NULL ? zmq_socket(ctx, ZMQ_REQ) : NULL;
    if (req == NULL) {
        goto out;
    }
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(req, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    if (zmq_connect(req, endpoint) != 0) {
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        if (zmq_send(req, argv[i], strlen(argv[i]), i + 1 < argc ? ZMQ_SNDMORE : 0) < 0) {
            goto out;
        }
    }
    if (argc == 0 && zmq_send(req, "", 0, 0) < 0) {
        goto out;
    }
    /* Wait for the answer in slices, so an engine that dies meanwhile is noticed at
     * once rather than after the whole timeout. */
    for (int waited = 0;; waited += 200) {
        zmq_pollitem_t item = { .socket = req, .events = ZMQ_POLLIN };
        if (zmq_poll(&item, 1, 200) > 0) {
            break;
        }
        if (!engine_is_running(home)) {
            rc = KITH_ESTATE; /* it stopped while handling the command */
            goto out;
        }
        if (waited >= ENGINE_CONTROL_TIMEOUT_MS) {
            rc = KITH_ETIMEDOUT;
            goto out;
        }
    }
    for (int i = 0; i < 3; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, req, 0) < 0) {
            zmq_msg_close(&m);
            rc = errno == EAGAIN ? KITH_ETIMEDOUT : KITH_ENOENGINE;
            goto out;
        }
        texts[i] = xmalloc(zmq_msg_size(&m) + 1);
        memcpy(texts[i], zmq_msg_data(&m), zmq_msg_size(&m));
        texts[i][zmq_msg_size(&m)] = '\0';
        zmq_msg_close(&m);
    }
    *status = atoi(texts[0]);
    *out = texts[1];
    *err = texts[2];
    texts[1] = texts[2] = NULL;
    rc = KITH_OK;
out:
    for (int i = 0; i < 3; i++) {
        free(texts[i]);
    }
    if (req != NULL) {
        zmq_close(req);
    }
    if (ctx != NULL) {
        zmq_ctx_term(ctx);
    }
    return rc;
}

/* ---- the loop ---- */

static void
engine_on_frame(void *ctx, const struct transport_origin *o, const uint8_t *buf, size_t len)
{
    struct engine *e = ctx;
    struct engine_inframe *f;

    if (e->nbatch == KITH_GROUP_COMMIT) {
        engine_process_batch(e); /* cannot happen with max_frames, but never drop */
    }
    f = &e->batch[e->nbatch++];
    f->origin = *o;
    f->buf = xmalloc(len);
    memcpy(f->buf, buf, len);
    f->len = len;
}

static void
engine_on_peer_up(void *ctx, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct engine *e = ctx;
    struct engine_peer *p = engine_peer_by_member(e, peer_id);

    if (p == NULL) {
        return;
    }
    engine_notes_flush(e, true); /* a refused hand-over's wait is written before the wake */
    if (store_outbox_wake(e->st, p->contact_id) == KITH_OK) {
        engine_flush(e, p->contact_id);
    }
    engine_relay_forward(e, p);     /* what we carry for them */
    engine_sync_hello(e, p, true);  /* anti-entropy for the circles we share */
    engine_emit(e, ENGINE_EV_PEER_UP, p->name, NULL);
}

static void
engine_on_peer_down(void *ctx, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct engine *e = ctx;
    struct engine_peer *p = engine_peer_by_member(e, peer_id);

    if (p != NULL) {
        engine_emit(e, ENGINE_EV_PEER_DOWN, p->name, NULL);
    }
}

static int
engine_timeout_ms(struct engine *e, int cap)
{
    int64_t next = 0;
    int64_t wait;
    int64_t release = engine_boundary_next_ms(e);
    int64_t repair_due = engine_repair_next_ms(e);
    int64_t sync_due = engine_sync_next_ms(e);
    int64_t notes_due = engine_notes_next_ms(e);

    if (repair_due >= 0 && (release < 0 || repair_due < release)) {
        release = repair_due; /* repair timers share the release wait */
    }
    if (sync_due >= 0 && (release < 0 || sync_due < release)) {
        release = sync_due; /* and so do anti-entropy rounds */
    }
    if (notes_due >= 0 && (release < 0 || notes_due < release)) {
        release = notes_due; /* and the hand-overs of sends */
    }
    {
        int64_t delete_due = engine_retention_next_ms(e); /* disappearing messages */
        if (delete_due >= 0 && (release < 0 || delete_due < release)) {
            release = delete_due;
        }
    }

    if (store_outbox_next_at(e->st, &next) != KITH_OK) {
        if (release < 0) {
            return cap;
        }
        next = INT64_MAX;
    }
    wait = next == INT64_MAX ? INT64_MAX : next - engine_now_ms();
    if (release >= 0 && release < wait) {
        wait = release;
    }
    if (wait < 0) {
        wait = 0;
    }
    if (cap >= 0 && wait > cap) {
        wait = cap;
    }
    return (int)(wait > 60000 ? 60000 : wait);
}

int
engine_step(struct engine *e, int timeout_ms)
{
    static const struct transport_events ev = {
        .on_frame = engine_on_frame,
        .on_peer_up = engine_on_peer_up,
        .on_peer_down = engine_on_peer_down,
    };
    zmq_pollitem_t items[TRANSPORT_POLL_MAX + 3];
    int n;
    int extra;
    int ctl_at;
    int sig_at;
    int watch_at = -1;

    if (!e->started) {
        return KITH_ESTATE;
    }
    n = transport_pollitems(e->tp, items, TRANSPORT_POLL_MAX);
    extra = n;
    ctl_at = extra;
    items[extra++] = (zmq_pollitem_t){ .socket = e->ctl, .events = ZMQ_POLLIN };
    sig_at = extra;
    items[extra++] = (zmq_pollitem_t){ .fd = e->sig_pipe[0], .events = ZMQ_POLLIN };
    if (e->watch_fd >= 0) {
        watch_at = extra;
        items[extra++] = (zmq_pollitem_t){ .fd = e->watch_fd, .events = ZMQ_POLLIN };
    }
    if (poller_wait(items, extra, engine_timeout_ms(e, timeout_ms)) < 0) {
        if (errno != EINTR) {
            return KITH_ESYS;
        }
        return KITH_OK;
    }
    if (items[sig_at].revents & ZMQ_POLLIN) {
        unsigned char b;
        while (read(e->sig_pipe[0], &b, 1) == 1) {
            e->stop = true;
        }
    }
    /* Read whatever is ready, in group-commit sized batches. */
    for (int round = 0; round < 8; round++) {
        int got = transport_dispatch(e->tp, items, n, &ev, e, KITH_GROUP_COMMIT - e->nbatch);
        if (e->nbatch > 0) {
            engine_process_batch(e);
            if (e->on_batch != NULL) {
                e->on_batch(e->on_batch_ctx);
            }
        }
        if (got < KITH_GROUP_COMMIT) {
            break;
        }
    }
    if (items[ctl_at].revents & ZMQ_POLLIN) {
        engine_serve_control(e);
    }
    if (watch_at >= 0 && (items[watch_at].revents & ZMQ_POLLIN) && e->on_ready != NULL) {
        e->on_ready(e->ready_ctx);
    }
    engine_boundary_run_due(e);
    engine_repair_run_due(e);
    engine_sync_run_due(e);
    engine_retention_run_due(e);
    engine_flush(e, 0);
    engine_notes_flush(e, false);
    if (e->idle != NULL) {
        e->idle(e->idle_ctx);
    }
    return KITH_OK;
}

int
engine_run(struct engine *e)
{
    int rc = KITH_OK;

    while (!e->stop && rc == KITH_OK) {
        rc = engine_step(e, -1);
    }
    return rc;
}

