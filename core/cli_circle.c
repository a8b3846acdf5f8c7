/*
 * cli_circle: the circle commands of the command-line contract (DESIGN.md):
 * `circle create|members|remove|leave NAME [CONTACT] [--json]`, `circles
 * [--json]`, `invite --circle NAME`, and circle care: `circle checkin`,
 * `circle support`, `circle reply`. Uses only engine verbs.
 */
#include "core/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"

static const char cli_circle_usage_text[] =
    "circle create|members|remove|admin|leave NAME [CONTACT] [--json]\n"
    "       kith circle checkin NAME [--mood rough|low|okay|steady|good]"
    " [--with seen,safe,soothed,secure,stable] [--note TEXT]\n"
    "       kith circle support NAME [--kind company|distraction|listening|practical|presence]"
    " [--note TEXT]\n"
    "       kith circle reply NAME MSG_ID here|later|care|cant [--at HH:MM]";

/* Positional arguments (options and their values skipped). */
static int
cli_circle_args(int argc, char **argv, const char *pos[], int max)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--json") != 0) {
                i++; /* its value */
            }
            continue;
        }
        if (n < max) {
            pos[n++] = argv[i];
        }
    }
    return n;
}

static int
cli_circle_fail(struct cli_buf *err, int rc, const char *name)
{
    if (rc == KITH_ENOTFOUND) {
        cli_printf(err, "kith: there is no circle called %s (or no such member)\n", name);
        return 1;
    }
    if (rc == KITH_ESTATE) {
        cli_printf(err, "kith: only the circle's admins can add or remove people in %s\n", name);
        return 1;
    }
    if (rc == KITH_EEXISTS) {
        cli_printf(err, "kith: there is already a circle called %s\n", name);
        return 1;
    }
    if (rc == KITH_EINVAL) {
        cli_printf(err, "kith: a circle name is 1 to 64 characters without spaces\n");
        return 1;
    }
    return cli_fail(err, rc, NULL);
}

static int
cli_circle_members(struct engine *e, const char *name, bool json, struct cli_buf *out,
                   struct cli_buf *err)
{
    struct engine_member *ms = NULL;
    size_t n = 0;
    int rc = engine_circle_members(e, name, &ms, &n);

    if (rc != KITH_OK) {
        return cli_circle_fail(err, rc, name);
    }
    if (json) {
        cli_printf(out, "[");
    }
    for (size_t i = 0; i < n; i++) {
        if (json) {
            cli_printf(out, "%s{\"name\":", i > 0 ? "," : "");
            cli_json_str(out, ms[i].name);
            cli_printf(out, ",\"fingerprint\":");
            cli_json_str(out, ms[i].fingerprint);
            cli_printf(out, ",\"admin\":%s,\"online\":%s,\"me\":%s,\"pending\":%s}",
                       ms[i].admin ? "true" : "false", ms[i].online ? "true" : "false",
                       ms[i].me ? "true" : "false", ms[i].pending ? "true" : "false");
        } else {
            cli_printf(out, "%-20s %-8s %s%s\n", ms[i].name,
                       ms[i].me ? "(you)" : ms[i].online ? "online" : "offline",
                       ms[i].admin ? "admin" : "", ms[i].pending ? " (introducing)" : "");
        }
    }
    if (json) {
        cli_printf(out, "]\n");
    }
    free(ms);
    return 0;
}

static int
cli_circle_mood(const char *s)
{
    static const char *const moods[] = { "rough", "low", "okay", "steady", "good" };

    for (int i = 0; i < 5; i++) {
        if (strcmp(s, moods[i]) == 0) {
            return i + 1;
        }
    }
    return -1;
}

static long
cli_circle_with(const char *s)
{
    static const char *const words[] = { "seen", "safe", "soothed", "secure", "stable" };
    long mask = 0;

    while (*s != '\0') {
        size_t len = strcspn(s, ",");
        bool found = false;
        for (int i = 0; i < 5; i++) {
            if (strlen(words[i]) == len && strncmp(s, words[i], len) == 0) {
                mask |= 1L << i;
                found = true;
            }
        }
        if (!found) {
            return -1;
        }
        s += len + (s[len] == ',' ? 1 : 0);
    }
    return mask;
}

static int
cli_circle_care(struct engine *e, const char *verb, int argc, char **argv, const char *pos[],
                int npos, struct cli_buf *out, struct cli_buf *err)
{
    char id[ENGINE_ID_HEX];
    const char *note = cli_opt(argc, argv, "--note");
    int rc;

    if (strcmp(verb, "checkin") == 0) {
        const char *mood_s = cli_opt(argc, argv, "--mood");
        const char *with_s = cli_opt(argc, argv, "--with");
        int mood = mood_s != NULL ? cli_circle_mood(mood_s) : 0;
        long with = with_s != NULL ? cli_circle_with(with_s) : 0;
        if (npos != 2 || mood < 0 || with < 0 || (mood == 0 && with == 0)) {
            return cli_usage(err, cli_circle_usage_text);
        }
        rc = engine_circle_checkin(e, pos[1], mood, (unsigned)with, note, id);
    } else if (strcmp(verb, "support") == 0) {
        static const char *const kinds[] = { "company", "distraction", "listening", "practical",
                                             "presence" };
        const char *kind_s = cli_opt(argc, argv, "--kind");
        int kind = 0;
        for (int i = 0; kind_s != NULL && i < 5; i++) {
            if (strcmp(kind_s, kinds[i]) == 0) {
                kind = i + 1;
            }
        }
        if (npos != 2 || (kind_s != NULL && kind == 0)) {
            return cli_usage(err, cli_circle_usage_text);
        }
        rc = engine_circle_support(e, pos[1], kind, note, 0, id);
    } else {
        static const char *const answers[] = { "here", "later", "care", "cant" };
        const char *at = cli_opt(argc, argv, "--at");
        int answer = 0;
        long later = 0;
        for (int i = 0; npos == 4 && i < 4; i++) {
            if (strcmp(pos[3], answers[i]) == 0) {
                answer = i + 1;
            }
        }
        if (answer == 2) {
            later = at != NULL ? cli_parse_duration(at) : 3600; /* "in 2h"; default an hour */
            if (later <= 0) {
                return cli_usage(err, cli_circle_usage_text);
            }
            later += (long)(time(NULL));
        }
        if (npos != 4 || answer == 0) {
            return cli_usage(err, cli_circle_usage_text);
        }
        rc = engine_circle_reply(e, pos[1], pos[2], answer, later, id);
    }
    if (rc != KITH_OK) {
        return cli_circle_fail(err, rc, pos[1]);
    }
    cli_printf(out, "%s\n", id);
    return 0;
}

int
cli_circle(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    const char *pos[5] = { 0 };
    int npos = cli_circle_args(argc, argv, pos, 5);
    bool json = cli_has_flag(argc, argv, "--json");
    int rc;

    if (npos < 2) {
        return cli_usage(err, cli_circle_usage_text);
    }
    if (strcmp(pos[0], "create") == 0 && npos == 2) {
        rc = engine_circle_create(e, pos[1]);
        if (rc != KITH_OK) {
            return cli_circle_fail(err, rc, pos[1]);
        }
        cli_printf(out, "Created #%s. `kith invite --circle %s` makes a code for each person.\n"
                        "Everyone in a circle can see each other's IP address unless they use "
                        "Tor (see the README).\n",
                   pos[1][0] == '#' ? pos[1] + 1 : pos[1], pos[1][0] == '#' ? pos[1] + 1 : pos[1]);
        return 0;
    }
    if (strcmp(pos[0], "members") == 0 && npos == 2) {
        return cli_circle_members(e, pos[1], json, out, err);
    }
    if (strcmp(pos[0], "remove") == 0 && npos == 3) {
        rc = engine_circle_remove(e, pos[1], pos[2]);
        if (rc != KITH_OK) {
            return cli_circle_fail(err, rc, pos[1]);
        }
        cli_printf(out, "%s is no longer in #%s. New messages use new keys they don't have.\n",
                   pos[2], pos[1][0] == '#' ? pos[1] + 1 : pos[1]);
        return 0;
    }
    if (strcmp(pos[0], "admin") == 0 && npos == 3) {
        rc = engine_circle_admin(e, pos[1], pos[2]);
        if (rc != KITH_OK) {
            return cli_circle_fail(err, rc, pos[1]);
        }
        cli_printf(out, "%s can now add and remove people in #%s too.\n", pos[2],
                   pos[1][0] == '#' ? pos[1] + 1 : pos[1]);
        return 0;
    }
    if (strcmp(pos[0], "leave") == 0 && npos == 2) {
        rc = engine_circle_leave(e, pos[1]);
        if (rc == KITH_EBUSY) {
            cli_printf(err, "kith: you're the only admin of #%s; make someone else an admin "
                            "first (kith circle admin %s CONTACT)\n",
                       pos[1][0] == '#' ? pos[1] + 1 : pos[1], pos[1][0] == '#' ? pos[1] + 1 : pos[1]);
            return 1;
        }
        if (rc != KITH_OK) {
            return cli_circle_fail(err, rc, pos[1]);
        }
        cli_printf(out, "You left #%s.\n", pos[1][0] == '#' ? pos[1] + 1 : pos[1]);
        return 0;
    }
    if (strcmp(pos[0], "checkin") == 0 || strcmp(pos[0], "support") == 0 ||
        strcmp(pos[0], "reply") == 0) {
        return cli_circle_care(e, pos[0], argc, argv, pos, npos, out, err);
    }
    return cli_usage(err, cli_circle_usage_text);
}

int
cli_circles(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct engine_circle_info *cs = NULL;
    size_t n = 0;
    bool json = cli_has_flag(argc, argv, "--json");
    int rc = engine_circles(e, &cs, &n);

    if (rc != KITH_OK) {
        return cli_fail(err, rc, NULL);
    }
    if (json) {
        cli_printf(out, "[");
    } else if (n == 0) {
        cli_printf(out, "No circles yet. `kith circle create NAME` starts one.\n");
    }
    for (size_t i = 0; i < n; i++) {
        if (json) {
            cli_printf(out, "%s{\"name\":", i > 0 ? "," : "");
            cli_json_str(out, cs[i].name);
            cli_printf(out, ",\"members\":%zu,\"epoch\":%u,\"state\":\"%s\",\"admin\":%s}",
                       cs[i].members, cs[i].epoch, cs[i].state, cs[i].admin ? "true" : "false");
        } else {
            cli_printf(out, "#%-20s %2zu people  %s\n", cs[i].name, cs[i].members, cs[i].state);
        }
    }
    if (json) {
        cli_printf(out, "]\n");
    }
    free(cs);
    return 0;
}

int
cli_invite_circle(struct engine *e, const char *circle, long ttl, struct cli_buf *out,
                  struct cli_buf *err)
{
    char code[ENGINE_INVITE_BUF];
    int rc = engine_circle_invite(e, circle, (uint32_t)ttl, code);

    if (rc != KITH_OK) {
        return cli_circle_fail(err, rc, circle);
    }
    cli_printf(out, "Give this code to one person you trust, through a channel you trust.\n"
                    "It adds them to #%s, works once and expires in %ld hours.\n%s\n",
               circle[0] == '#' ? circle + 1 : circle, (ttl > 0 ? ttl : 48 * 3600) / 3600, code);
    return 0;
}
