/*
 * cli_retention: `kith retention CONTACT [DURATION|off|accept|decline] [--json]`, disappearing
 * messages agreed per conversation, on engine verbs only.
 */
#include "core/cli.h"

#include <stdbool.h>
#include <string.h>

#include "core/engine.h"

#define CLI_RETENTION_USAGE "retention CONTACT [DURATION|off|accept|decline] [--json]"

static void
cli_retention_json(struct cli_buf *out, const char *contact, const struct engine_retention *r)
{
    char text[32];

    engine_retention_text(r->seconds, text, sizeof text);
    cli_printf(out, "{\"contact\":");
    cli_json_str(out, contact);
    cli_printf(out, ",\"seconds\":%u,\"text\":\"%s\",\"proposal\":", r->seconds, text);
    if (!r->has_proposal) {
        cli_printf(out, "null}\n");
        return;
    }
    engine_retention_text(r->proposal_seconds, text, sizeof text);
    cli_printf(out, "{\"seconds\":%u,\"text\":\"%s\",\"by\":\"%s\"}}\n", r->proposal_seconds, text,
               r->is_ours ? "us" : "them");
}

static void
cli_retention_plain(struct cli_buf *out, const char *contact, const struct engine_retention *r)
{
    char text[32];

    engine_retention_text(r->seconds, text, sizeof text);
    if (r->seconds == 0) {
        cli_printf(out, "Messages with %s stay until you delete them.\n", contact);
    } else {
        cli_printf(out, "Messages with %s disappear %s after they are sent or received.\n", contact,
                   text);
    }
    if (!r->has_proposal) {
        return;
    }
    engine_retention_text(r->proposal_seconds, text, sizeof text);
    if (r->is_ours) {
        cli_printf(out, "You proposed: %s. It takes effect when %s accepts.\n",
                   r->proposal_seconds == 0 ? "keep messages (off)" : text, contact);
    } else {
        cli_printf(out, "%s proposes: %s. Answer with `kith retention %s accept` or `decline`.\n",
                   contact, r->proposal_seconds == 0 ? "keep messages (off)" : text, contact);
    }
}

static int
cli_retention_change(struct engine *e, const char *contact, const char *what, struct cli_buf *out,
                     struct cli_buf *err)
{
    bool is_answer = strcmp(what, "accept") == 0 || strcmp(what, "decline") == 0;
    long seconds = strcmp(what, "off") == 0 ? 0 : cli_parse_duration(what);
    char text[32];
    int rc;

    if (!is_answer && (seconds < 0 || (seconds == 0 && strcmp(what, "off") != 0) ||
                       seconds > (long)ENGINE_RETENTION_MAX)) {
        cli_printf(err, "usage: kith %s   (DURATION like 30s, 10m, 1h, 7d; at most 366d)\n",
                   CLI_RETENTION_USAGE);
        return 2;
    }
    rc = is_answer ? engine_retention_answer(e, contact, strcmp(what, "accept") == 0)
                   : engine_retention_propose(e, contact, (uint32_t)seconds);
    if (rc == KITH_ENOTFOUND) {
        cli_printf(err, "kith: there is no contact called %s\n", contact);
        return 1;
    }
    if (rc == KITH_ESTATE) {
        cli_printf(err,
                   is_answer ? "kith: %s hasn't proposed a change to answer\n"
                             : "kith: that is already the setting with %s\n",
                   contact);
        return 1;
    }
    if (rc != KITH_OK) {
        cli_printf(err, "kith: couldn't change it: %s\n", kith_strerror(rc));
        return 1;
    }
    engine_retention_text((uint32_t)seconds, text, sizeof text);
    if (strcmp(what, "accept") == 0) {
        cli_printf(out, "Accepted. It is in force now; %s is told.\n", contact);
    } else if (strcmp(what, "decline") == 0) {
        cli_printf(out, "Declined. Nothing changes; %s is told.\n", contact);
    } else {
        cli_printf(out, "Proposed to %s: %s. Nothing changes until %s accepts.\n", contact,
                   seconds == 0 ? "keep messages (off)" : text, contact);
    }
    return 0;
}

int
cli_retention(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_retention r;
    const char *words[2] = { NULL, NULL };
    size_t n = 0;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            continue;
        }
        if (n == 2) {
            n = 3;
            break;
        }
        words[n++] = argv[i];
    }
    if (n == 0 || n > 2) {
        cli_printf(err, "usage: kith %s\n", CLI_RETENTION_USAGE);
        return 2;
    }
    if (n == 2) {
        return cli_retention_change(e, words[0], words[1], out, err);
    }
    rc = engine_retention_get(e, words[0], &r);
    if (rc == KITH_ENOTFOUND) {
        cli_printf(err, "kith: there is no contact called %s\n", words[0]);
        return 1;
    }
    if (rc != KITH_OK) {
        cli_printf(err, "kith: %s\n", kith_strerror(rc));
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            cli_retention_json(out, words[0], &r);
            return 0;
        }
    }
    cli_retention_plain(out, words[0], &r);
    return 0;
}
