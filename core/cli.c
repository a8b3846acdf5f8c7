/*
 * cli: one function per profile command, on engine verbs only. Output for
 * people is plain and calm; --json output is one document with the stable
 * field names of DESIGN.md.
 */
#include "core/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/err.h"

void
cli_printf(struct cli_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 256 : b->cap;
        while (cap < b->len + (size_t)n + 1) {
            cap *= 2;
        }
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
cli_json_str(struct cli_buf *b, const char *s)
{
    cli_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            cli_printf(b, "\\\"");
            break;
        case '\\':
            cli_printf(b, "\\\\");
            break;
        case '\n':
            cli_printf(b, "\\n");
            break;
        case '\r':
            cli_printf(b, "\\r");
            break;
        case '\t':
            cli_printf(b, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                cli_printf(b, "\\u%04x", *p);
            } else {
                cli_printf(b, "%c", *p);
            }
        }
    }
    cli_printf(b, "\"");
}

void
cli_buf_free(struct cli_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

long
cli_parse_duration(const char *s)
{
    char *end = NULL;
    long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return -1;
    }
    v = strtol(s, &end, 10);
    if (v < 0 || v > 100000000) {
        return -1;
    }
    if (*end == '\0' || strcmp(end, "s") == 0) {
        return v;
    }
    if (strcmp(end, "m") == 0) {
        return v * 60;
    }
    if (strcmp(end, "h") == 0) {
        return v * 3600;
    }
    if (strcmp(end, "d") == 0) {
        return v * 86400;
    }
    return -1;
}

bool
cli_has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            return true;
        }
    }
    return false;
}

/* Value of "--opt VALUE" or "--opt=VALUE", else NULL. */
const char *
cli_opt(int argc, char **argv, const char *opt)
{
    size_t n = strlen(opt);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], opt) == 0 && i + 1 < argc) {
            return argv[i + 1];
        }
        if (strncmp(argv[i], opt, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }
    return NULL;
}

int
cli_fail(struct cli_buf *err, int rc, const char *what)
{
    cli_printf(err, "kith: %s%s%s\n", what != NULL ? what : "", what != NULL ? ": " : "",
               kith_strerror(rc));
    return 1;
}

int
cli_usage(struct cli_buf *err, const char *usage)
{
    cli_printf(err, "usage: kith %s\n", usage);
    return 2;
}

static int
cli_id(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_me me;
    int rc = engine_me(e, &me);

    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (cli_has_flag(argc, argv, "--json")) {
        cli_printf(out, "{\"name\":");
        cli_json_str(out, me.name);
        cli_printf(out, ",\"fingerprint\":");
        cli_json_str(out, me.fingerprint);
        cli_printf(out, ",\"endpoints\":[");
        if (me.endpoint[0] != '\0') {
            cli_json_str(out, me.endpoint);
        }
        cli_printf(out, "],\"online\":%s}\n", me.online ? "true" : "false");
        return 0;
    }
    cli_printf(out, "name:        %s\nfingerprint: %s\nendpoint:    %s\n", me.name,
               me.fingerprint, me.endpoint[0] != '\0' ? me.endpoint : "(none: others can't connect to you)");
    return 0;
}

static int
cli_invite(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    char code[ENGINE_INVITE_BUF];
    const char *ttl_s = cli_opt(argc, argv, "--ttl");
    long ttl = ttl_s != NULL ? cli_parse_duration(ttl_s) : 0;
    int rc;

    if (ttl < 0) {
        return cli_usage(err, "invite [--circle NAME] [--ttl DURATION]   (like 30m, 48h, 7d)");
    }
    if (cli_opt(argc, argv, "--circle") != NULL) {
        return cli_invite_circle(e, cli_opt(argc, argv, "--circle"), ttl, out, err);
    }
    rc = engine_invite(e, (uint32_t)ttl, code);
    if (rc != KITH_OK) {
        return cli_fail(err, rc, "couldn't make an invite");
    }
    cli_printf(out, "Give this code to one person you trust, through a channel you trust.\n"
                    "It works once and expires in %ld hours.\n%s\n",
               (ttl > 0 ? ttl : 48 * 3600) / 3600, code);
    return 0;
}

static int
cli_accept(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    char name[ENGINE_NAME_BUF];
    const char *as = cli_opt(argc, argv, "--as");
    const char *code = NULL;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0) {
            i++;
        } else if (strncmp(argv[i], "--", 2) != 0) {
            code = argv[i];
        }
    }
    if (code == NULL) {
        return cli_usage(err, "accept CODE [--as NAME]");
    }
    rc = engine_accept(e, code, as, name);
    if (rc == KITH_EEXISTS) {
        cli_printf(err, "kith: that person is already a contact, or the name is taken "
                        "(choose one with --as NAME)\n");
        return 1;
    }
    if (rc != KITH_OK) {
        return cli_fail(err, rc, "couldn't accept that invite");
    }
    cli_printf(out, "Added %s. The handshake completes when you are both online.\n"
                    "Compare safety numbers with `kith contacts` when you can.\n",
               name);
    return 0;
}

static int
cli_contacts(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_contact *cs = NULL;
    size_t n = 0;
    bool json = cli_has_flag(argc, argv, "--json");
    int rc = engine_contacts(e, &cs, &n);

    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (json) {
        cli_printf(out, "[");
    } else if (n == 0) {
        cli_printf(out, "No contacts yet. `kith invite` makes a code to share.\n");
    }
    for (size_t i = 0; i < n; i++) {
        struct engine_contact *c = &cs[i];
        if (json) {
            cli_printf(out, "%s{\"name\":", i > 0 ? "," : "");
            cli_json_str(out, c->name);
            cli_printf(out, ",\"fingerprint\":");
            cli_json_str(out, c->fingerprint);
            cli_printf(out, ",\"safety_number\":");
            cli_json_str(out, c->safety);
            cli_printf(out,
                       ",\"online\":%s,\"verified\":%s,\"trust\":%d,\"state\":\"%s\"",
                       c->online ? "true" : "false", c->verified ? "true" : "false", c->trust,
                       c->pending ? "pending" : "active");
            cli_printf(out, ",\"boundaries\":[");
            for (const char *b = c->boundaries; *b != '\0';) {
                size_t len = strcspn(b, ",");
                cli_printf(out, "%s\"%.*s\"", b == c->boundaries ? "" : ",", (int)len, b);
                b += len + (b[len] == ',' ? 1 : 0);
            }
            cli_printf(out, "],\"endpoints\":[");
            for (size_t k = 0; k < c->n_endpoints; k++) {
                cli_printf(out, "%s", k > 0 ? "," : "");
                cli_json_str(out, c->endpoints[k]);
            }
            cli_printf(out, "]}");
        } else {
            cli_printf(out, "%-20s %-8s %-9s %s\n  safety number: %s\n", c->name,
                       c->online ? "online" : "offline", c->pending ? "pending" : "",
                       c->verified ? "verified" : "not verified", c->safety);
        }
    }
    if (json) {
        cli_printf(out, "]\n");
    }
    free(cs);
    return 0;
}

static int
cli_no_target(struct cli_buf *err, const char *target)
{
    cli_printf(err, "kith: there is no %s called %s\n", target[0] == '#' ? "circle" : "contact",
               target[0] == '#' ? target + 1 : target);
    return 1;
}

/* kith send TARGET TEXT... --each: every TEXT its own message, sealed together (up to
 * KITH_TEXTS_MAX in a frame) and committed at once; one id per line, in order. */
static int
cli_send_each(struct engine *e, const char *target, const char *const *texts, size_t n,
              unsigned flags, struct cli_buf *out, struct cli_buf *err)
{
    char(*ids)[ENGINE_ID_HEX] = xcalloc(n, sizeof *ids);
    int rc = engine_send_batch(e, target, texts, n, flags, ids);

    for (size_t i = 0; i < n && ids[i][0] != '\0'; i++) {
        cli_printf(out, "%s\n", ids[i]); /* the ones queued, also when a later one failed */
    }
    free(ids);
    if (rc == KITH_ENOTFOUND) {
        return cli_no_target(err, target);
    }
    if (rc == KITH_EINVAL) {
        cli_printf(err, "kith: each message needs some text, in UTF-8; nothing was queued\n");
        return 1;
    }
    return rc == KITH_OK ? 0 : cli_fail(err, rc, "couldn't queue the messages");
}

static int
cli_send(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct cli_buf text = { 0 };
    const char *target = NULL;
    const char **each = NULL;
    size_t neach = 0;
    bool is_each = false;
    char id[ENGINE_ID_HEX];
    unsigned flags = 0;
    int words = 0;
    int rc;

    for (int i = 1; i < argc; i++) {
        is_each = is_each || strcmp(argv[i], "--each") == 0;
    }
    each = xcalloc((size_t)argc, sizeof *each);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--heavy") == 0) {
            flags |= ENGINE_SEND_HEAVY;
        } else if (strcmp(argv[i], "--urgent") == 0) {
            flags |= ENGINE_SEND_URGENT;
        } else if (strcmp(argv[i], "--wait") == 0) {
            i++; /* handled by the caller */
        } else if (strcmp(argv[i], "--") == 0 || strcmp(argv[i], "--each") == 0) {
            continue;
        } else if (target == NULL) {
            target = argv[i];
        } else if (is_each) {
            each[neach++] = argv[i];
        } else {
            cli_printf(&text, "%s%s", words++ > 0 ? " " : "", argv[i]);
        }
    }
    if (target == NULL || (text.len == 0 && neach == 0)) {
        cli_buf_free(&text);
        free(each);
        return cli_usage(err, "send TARGET TEXT... [--each] [--wait SECONDS] [--heavy]");
    }
    {
        char preview[256];
        if (engine_send_preview(e, target, flags, preview, sizeof preview) == KITH_OK &&
            preview[0] != '\0') {
            cli_printf(err, "%s\n", preview); /* kind, and only what they chose to tell */
        }
    }
    if (is_each) {
        rc = cli_send_each(e, target, each, neach, flags, out, err);
        free(each);
        return rc;
    }
    free(each);
    rc = engine_send(e, target, text.s, flags, id);
    cli_buf_free(&text);
    if (rc == KITH_ENOTFOUND) {
        return cli_no_target(err, target);
    }
    if (rc != KITH_OK) {
        return cli_fail(err, rc, "couldn't queue the message");
    }
    cli_printf(out, "%s\n", id);
    return 0;
}

static void
cli_log_boundary_json(struct cli_buf *out, const struct engine_msg *m)
{
    if (m->is_heavy) {
        cli_printf(out, ",\"heavy\":true");
    }
    if (m->is_digest) {
        cli_printf(out, ",\"digest\":true");
    }
    if (m->folded_reason != NULL) {
        cli_printf(out, ",\"folded_reason\":\"%s\"", m->folded_reason);
    }
    if (m->note != NULL) {
        cli_printf(out, ",\"note\":");
        cli_json_str(out, m->note);
    }
    if (m->told != NULL) {
        cli_printf(out, ",\"told\":\"%s\"", m->told);
    }
    if (m->arrives_at > 0) {
        cli_printf(out, ",\"arrives_at\":%lld", (long long)m->arrives_at);
    }
}

static int
cli_log(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_msg *ms = NULL;
    const char *limit_s = cli_opt(argc, argv, "--limit");
    const char *target = NULL;
    bool json = cli_has_flag(argc, argv, "--json");
    size_t n = 0;
    long limit = limit_s != NULL ? strtol(limit_s, NULL, 10) : 0;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--limit") == 0) {
            i++;
        } else if (strncmp(argv[i], "--", 2) != 0) {
            target = argv[i];
        }
    }
    if (target == NULL || limit < 0) {
        return cli_usage(err, "log TARGET [--limit N] [--json]");
    }
    rc = engine_history(e, target, (size_t)limit, 0, &ms, &n);
    if (rc == KITH_ENOTFOUND) {
        cli_printf(err, "kith: there is no %s called %s\n", target[0] == '#' ? "circle" : "contact",
                   target[0] == '#' ? target + 1 : target);
        return 1;
    }
    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (json) {
        cli_printf(out, "[");
    }
    for (size_t i = 0; i < n; i++) {
        struct engine_msg *m = &ms[i];
        if (json) {
            cli_printf(out, "%s{\"id\":\"%s\",\"from\":", i > 0 ? "," : "", m->id);
            cli_json_str(out, m->from);
            cli_printf(out, ",\"text\":");
            cli_json_str(out, m->text);
            cli_printf(out, ",\"ts\":%lld,\"ts_ms\":%lld,\"state\":\"%s\",\"outgoing\":%s",
                       (long long)(m->ts_ms / 1000), (long long)m->ts_ms, m->state,
                       m->outgoing ? "true" : "false");
            if (m->release_at > 0) {
                cli_printf(out, ",\"release_at\":%lld", (long long)m->release_at);
            }
            if (m->delete_at > 0) {
                cli_printf(out, ",\"delete_at\":%lld", (long long)m->delete_at);
            }
            if (m->kind != NULL) { /* a circle message */
                cli_printf(out, ",\"kind\":\"%s\",\"epoch\":%u,\"received_ms\":%lld", m->kind,
                           m->epoch, (long long)m->received_ms);
                if (m->reply_to[0] != '\0') {
                    cli_printf(out, ",\"reply_to\":\"%s\"", m->reply_to);
                }
            }
            cli_log_boundary_json(out, m);
            cli_printf(out, "}");
        } else {
            cli_printf(out, "%s %-10s %s: %s\n", m->outgoing ? ">" : "<", m->state, m->from,
                       m->text);
            if (m->note != NULL) {
                cli_printf(out, "    (%s%s%s)\n", m->state[0] == 'a' ? m->from : "",
                           m->state[0] == 'a' ? " " : "", m->note);
            }
        }
    }
    if (json) {
        cli_printf(out, "]\n");
    }
    engine_msgs_free(ms, n);
    return 0;
}

static int
cli_msgstate(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    const char *state = NULL;
    int rc;

    if (argc != 2) {
        return cli_usage(err, "msgstate ID");
    }
    rc = engine_msg_state(e, argv[1], &state);
    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    cli_printf(out, "%s\n", state);
    return 0;
}

static int
cli_rename(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    int rc;

    if (argc != 3) {
        return cli_usage(err, "rename CONTACT NEW_NAME");
    }
    rc = engine_rename(e, argv[1], argv[2]);
    if (rc != KITH_OK) {
        return cli_fail(err, rc, "couldn't rename");
    }
    cli_printf(out, "%s is now called %s.\n", argv[1], argv[2]);
    return 0;
}

static int
cli_verify(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_contact c;
    int rc;

    if (argc < 2) {
        return cli_usage(err, "verify CONTACT [--yes|--no]");
    }
    rc = engine_contact(e, argv[1], &c);
    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (cli_has_flag(argc, argv, "--yes") || cli_has_flag(argc, argv, "--no")) {
        rc = engine_set_verified(e, argv[1], cli_has_flag(argc, argv, "--yes"));
        if (rc != KITH_OK) {
            return cli_fail(err, rc, NULL);
        }
        cli_printf(out, "%s is now marked %s.\n", c.name,
                   cli_has_flag(argc, argv, "--yes") ? "verified" : "not verified");
        return 0;
    }
    cli_printf(out,
               "Safety number with %s:\n  %s\nCompare it with %s in person or on a call.\n"
               "If it matches: kith verify %s --yes\n",
               c.name, c.safety, c.name, c.name);
    return 0;
}

static int
cli_status(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_status s;
    struct engine_me me;
    int rc = engine_status(e, &s);

    if (rc == KITH_OK) {
        rc = engine_me(e, &me);
    }
    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (cli_has_flag(argc, argv, "--json")) {
        cli_printf(out,
                   "{\"online\":%s,\"contacts_online\":%zu,\"queued\":%zu,\"held\":%zu,"
                   "\"rejected\":%llu}\n",
                   me.online ? "true" : "false", s.contacts_online, s.queued, s.held,
                   (unsigned long long)s.rejected);
    } else {
        cli_printf(out, "%s, %zu contacts online, %zu waiting to be delivered, %zu held\n",
                   me.online ? "running" : "not running", s.contacts_online, s.queued, s.held);
    }
    return 0;
}

static int
cli_config(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    char *value = NULL;
    int rc;

    if (argc == 3 && strcmp(argv[1], "get") == 0) {
        rc = engine_config_get(e, argv[2], &value);
        if (rc == KITH_ENOTFOUND) {
            cli_printf(out, "(not set)\n");
            return 0;
        }
        if (rc != KITH_OK) {
            return cli_fail(err, rc, argv[2]);
        }
        cli_printf(out, "%s\n", value);
        free(value);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "set") == 0) {
        rc = engine_config_set(e, argv[2], argv[3]);
        if (rc != KITH_OK) {
            return cli_fail(err, rc, argv[2]);
        }
        if (strcmp(argv[2], "crisis_line") == 0 || strcmp(argv[2], "my_people") == 0 ||
            strcmp(argv[2], "country") == 0) {
            cli_printf(out, "%s saved. It shows on the help screen (F1).\n", argv[2]);
            return 0;
        }
        if (strcmp(argv[2], "notify") == 0) {
            cli_printf(out, "notify set to %s; the client uses it from the next message.\n",
                       argv[3]);
            return 0;
        }
        cli_printf(out, "%s set; it takes effect the next time kith starts.\n", argv[2]);
        return 0;
    }
    return cli_usage(err, "config get KEY | config set KEY VALUE   "
                          "(keys: listen, socks5, notify, crisis_line, my_people, country)");
}

/* kith boundary show|set|clear CONTACT [RULE...] [--json] */
static int
cli_boundary(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    static const char usage[] = "boundary show CONTACT [--json|--theirs] | "
                                "boundary set CONTACT RULE... | boundary clear CONTACT [RULE...]";
    const char *rules[32];
    const char *why = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc;

    if (argc < 3) {
        return cli_usage(err, usage);
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--theirs") == 0) {
            continue;
        }
        if (n == sizeof rules / sizeof rules[0]) {
            return cli_usage(err, usage);
        }
        rules[n++] = argv[i];
    }
    if (strcmp(argv[1], "show") == 0 && n == 0 && cli_has_flag(argc, argv, "--theirs")) {
        rc = engine_boundary_show_told(e, argv[2], &text); /* what they told us */
    } else if (strcmp(argv[1], "show") == 0 && n == 0) {
        rc = engine_boundary_show(e, argv[2], cli_has_flag(argc, argv, "--json"), &text);
    } else if (strcmp(argv[1], "set") == 0) {
        rc = engine_boundary_set(e, argv[2], rules, n, &why, &text);
    } else if (strcmp(argv[1], "clear") == 0) {
        rc = engine_boundary_clear(e, argv[2], rules, n, &why, &text);
    } else {
        return cli_usage(err, usage);
    }
    if (rc == KITH_ENOTFOUND) {
        cli_printf(err, "kith: there is no contact called %s\n", argv[2]);
        return 1;
    }
    if (rc == KITH_EINVAL && why != NULL) {
        cli_printf(err, "kith: %s\n", why);
        return 1;
    }
    if (rc != KITH_OK) {
        free(text);
        return cli_fail(err, rc, NULL);
    }
    if (strcmp(argv[1], "show") != 0) {
        cli_printf(out, "From now on, for %s:\n", argv[2]);
    }
    cli_printf(out, "%s%s", text, text[0] != '\0' && text[strlen(text) - 1] == '\n' ? "" : "\n");
    free(text);
    return 0;
}

/* kith consent CONTACT MSG_ID yes|no|later=DURATION */
static int
cli_consent(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    enum engine_consent answer;
    long later = 0;
    int rc;

    if (argc != 4) {
        return cli_usage(err, "consent CONTACT MSG_ID yes|no|later=DURATION");
    }
    if (strcmp(argv[3], "yes") == 0) {
        answer = ENGINE_CONSENT_YES;
    } else if (strcmp(argv[3], "no") == 0) {
        answer = ENGINE_CONSENT_NO;
    } else if (strncmp(argv[3], "later=", 6) == 0 && (later = cli_parse_duration(argv[3] + 6)) > 0) {
        answer = ENGINE_CONSENT_LATER;
    } else {
        return cli_usage(err, "consent CONTACT MSG_ID yes|no|later=DURATION   (like later=2h)");
    }
    rc = engine_consent(e, argv[1], argv[2], answer, (int64_t)time(NULL) + later);
    if (rc == KITH_ESTATE) {
        cli_printf(err, "kith: that message isn't waiting for your answer\n");
        return 1;
    }
    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (answer == ENGINE_CONSENT_YES) {
        cli_printf(out, "It's open now. `kith log %s` shows it.\n", argv[1]);
    } else if (answer == ENGINE_CONSENT_LATER) {
        cli_printf(out, "kith will ask you again in %ld minutes.\n", later / 60);
    } else {
        cli_printf(out, "It stays folded. You can open it anytime with `kith show %s %s`.\n",
                   argv[1], argv[2]);
    }
    return 0;
}

/* kith show CONTACT MSG_ID: unfold a folded message. */
static int
cli_show(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    char *text = NULL;
    int rc;

    if (argc != 3) {
        return cli_usage(err, "show CONTACT MSG_ID");
    }
    rc = engine_show(e, argv[1], argv[2], &text);
    if (rc == KITH_ESTATE) {
        cli_printf(err, "kith: that message is still waiting for its time or for your answer\n");
        return 1;
    }
    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    cli_printf(out, "%s\n", text);
    free(text);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct engine *, int, char **, struct cli_buf *, struct cli_buf *);
} cli_commands[] = {
    { "boundary", cli_boundary },
    { "consent", cli_consent },
    { "show", cli_show },
    { "id", cli_id },
    { "invite", cli_invite },
    { "accept", cli_accept },
    { "contacts", cli_contacts },
    { "send", cli_send },
    { "log", cli_log },
    { "msgstate", cli_msgstate },
    { "rename", cli_rename },
    { "verify", cli_verify },
    { "status", cli_status },
    { "config", cli_config },
    { "repair", cli_repair },
    { "backup", cli_backup },
    { "circle", cli_circle },
    { "circles", cli_circles },
    { "retention", cli_retention },
};

int
cli_known(const char *command)
{
    for (size_t i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++) {
        if (strcmp(cli_commands[i].name, command) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The options each command takes ("=" marks one that takes a value); an
 * unknown option is a usage error rather than silently ignored. Commands not
 * listed check their own arguments. */
static const struct {
    const char *name;
    const char *options;
} cli_option_table[] = {
    { "boundary", "--json --theirs" },
    { "consent", "" },
    { "show", "" },
    { "id", "--json" },
    { "invite", "--ttl= --circle= --qr" },
    { "accept", "--as=" },
    { "contacts", "--json" },
    { "send", "--wait= --heavy --urgent --each" },
    { "log", "--limit= --json" },
    { "msgstate", "" },
    { "rename", "" },
    { "verify", "--yes --no" },
    { "status", "--json" },
    { "config", "" },
    { "backup", "" },
    { "retention", "--json" },
    { "circles", "--json" },
    { "circle", "--json --mood= --with= --note= --kind= --at=" },
};

/* Is `arg` (an option, possibly "--opt=value") in the space-separated list? */
static bool
cli_option_listed(const char *options, const char *arg, bool *takes_value)
{
    size_t n = strcspn(arg, "=");

    for (const char *p = options; *p != '\0';) {
        size_t len = strcspn(p, " ");
        bool value = len > 0 && p[len - 1] == '=';
        size_t name_len = value ? len - 1 : len;
        if (name_len == n && strncmp(p, arg, n) == 0) {
            *takes_value = value && arg[n] != '=';
            return arg[n] != '=' || value;
        }
        p += len;
        while (*p == ' ') {
            p++;
        }
    }
    return false;
}

static int
cli_check_options(const char *command, int argc, char **argv, struct cli_buf *err)
{
    for (size_t c = 0; c < sizeof cli_option_table / sizeof cli_option_table[0]; c++) {
        if (strcmp(cli_option_table[c].name, command) != 0) {
            continue;
        }
        for (int i = 1; i < argc; i++) {
            bool takes_value = false;
            if (strcmp(argv[i], "--") == 0) {
                break; /* the rest is text */
            }
            if (strncmp(argv[i], "--", 2) != 0) {
                continue;
            }
            if (!cli_option_listed(cli_option_table[c].options, argv[i], &takes_value)) {
                cli_printf(err, "kith: %s doesn't take %s (kith --help lists the options)\n",
                           command, argv[i]);
                return 2;
            }
            if (takes_value && ++i >= argc) {
                cli_printf(err, "kith: %s needs a value\n", argv[i - 1]);
                return 2;
            }
        }
    }
    return 0;
}

int
cli_exec(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    int status;

    if (argc < 1) {
        return cli_usage(err, "COMMAND ...   (kith --help lists them)");
    }
    status = cli_check_options(argv[0], argc, argv, err);
    if (status != 0) {
        return status;
    }
    for (size_t i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++) {
        if (strcmp(cli_commands[i].name, argv[0]) == 0) {
            return cli_commands[i].fn(e, argc, argv, out, err);
        }
    }
    cli_printf(err, "kith: unknown command '%s' (kith --help lists them)\n", argv[0]);
    return 2;
}
