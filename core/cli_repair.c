/*
 * cli_repair: `kith repair act|status|keep` (DESIGN.md, DOMAIN.md §2) on the
 * engine's repair verbs. EVENT and FIELD names are the state machine's own;
 * a bare word is a flag (`confirm yes`), FIELD=VALUE sets a field, lists are
 * comma-separated (`feelings=hurt,lonely`), and a time (until, when) is unix
 * seconds or a duration from now (`until=20m`). The wording coach's hints are
 * printed with the result; they never stop a step.
 */
#include "core/cli.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/coach.h"
#include "core/engine.h"
#include "core/err.h"
#include "core/repair.h"

static const char cli_repair_usage[] = "repair act CONTACT EVENT [FIELD=VALUE|FLAG ...]\n"
                                       "       kith repair status CONTACT [--json]\n"
                                       "       kith repair keep CONTACT keep|agreement|delete";

static bool
cli_repair_is_time(const char *name)
{
    return strcmp(name, "until") == 0 || strcmp(name, "when") == 0;
}

/* A time field: "1700000000" as given; "20m", "2h", "1d" from now. */
static const char *
cli_repair_time(const char *value, char *buf, size_t cap)
{
    size_t n = strlen(value);
    long d;

    if (n == 0 || (value[n - 1] >= '0' && value[n - 1] <= '9')) {
        return value;
    }
    d = cli_parse_duration(value);
    if (d < 0) {
        return value; /* the state machine says why */
    }
    snprintf(buf, cap, "%lld", (long long)time(NULL) + d);
    return buf;
}

/* The fields after EVENT into step; hints for text fields are appended to out. */
static int
cli_repair_fields(int argc, char **argv, const char *contact, struct repair_step *step,
                  struct cli_buf *hints, struct cli_buf *err)
{
    for (int i = 3; i < argc; i++) {
        char name[32];
        char timebuf[32];
        const char *eq = strchr(argv[i], '=');
        const char *value = NULL;
        const char *why = NULL;
        size_t name_len = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);

        if (name_len == 0 || name_len >= sizeof name) {
            cli_printf(err, "kith: '%.40s' isn't a field kith knows\n", argv[i]);
            return 2;
        }
        memcpy(name, argv[i], name_len);
        name[name_len] = '\0';
        if (eq != NULL) {
            value = eq + 1;
            if (cli_repair_is_time(name)) {
                value = cli_repair_time(value, timebuf, sizeof timebuf);
            }
        }
        if (repair_step_set_field(step, name, value, &why) != KITH_OK) {
            cli_printf(err, "kith: %s\n", why != NULL ? why : "that field doesn't fit this step");
            return 1;
        }
        if (value != NULL && !cli_repair_is_time(name)) {
            struct coach_hint found[COACH_HINTS_MAX];
            size_t n = coach_check(coach_field_for(name), value, contact, found);
            for (size_t k = 0; k < n; k++) {
                cli_printf(hints, "hint (%s): %s\n", name, found[k].text);
            }
            sodium_memzero(found, sizeof found);
        }
    }
    return 0;
}

static void
cli_repair_now(struct engine *e, const char *contact, struct cli_buf *out)
{
    struct repair *r = NULL;

    if (engine_repair_load(e, contact, &r) != KITH_OK) {
        return;
    }
    if (repair_state(r) == REPAIR_CLOSED) {
        cli_printf(out, "Now: closed (%s).\n", repair_outcome_name(repair_outcome(r)));
    } else {
        cli_printf(out, "Now: %s; %s.\n", repair_state_name(repair_state(r)),
                   repair_is_my_turn(r) ? "you can take the next step"
                                        : "nothing you need to do until they answer");
    }
    repair_destroy(r);
}

static int
cli_repair_act(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    struct repair_step *step = xmalloc(sizeof *step);
    struct cli_buf hints = { 0 };
    enum repair_event ev = REPAIR_EV_COUNT;
    char why[ENGINE_REPAIR_WHY];
    int status = 0;
    int rc;

    /* argv: act CONTACT EVENT [FIELD=VALUE|FLAG ...] */
    if (argc < 3 || repair_event_from_name(argv[2], &ev) != KITH_OK) {
        status = argc < 3 ? 2 : 1;
        if (status == 2) {
            cli_printf(err, "usage: kith %s\n", cli_repair_usage);
        } else {
            cli_printf(err, "kith: '%s' isn't a repair step kith knows\n", argv[2]);
        }
        goto out;
    }
    repair_step_init(step, ev);
    status = cli_repair_fields(argc, argv, argv[1], step, &hints, err);
    if (status != 0) {
        goto out;
    }
    rc = engine_repair_act(e, argv[1], step, why, sizeof why);
    if (rc != KITH_OK) {
        if (why[0] != '\0') {
            cli_printf(err, "kith: %s\n", why);
        } else {
            cli_printf(err, "kith: %s\n", kith_strerror(rc));
        }
        status = 1;
        goto out;
    }
    if (hints.s != NULL) {
        cli_printf(out, "%s", hints.s);
    }
    cli_printf(out, "Sent: %s.\n", repair_event_name(ev));
    cli_repair_now(e, argv[1], out);
out:
    if (hints.s != NULL) {
        sodium_memzero(hints.s, hints.len);
    }
    cli_buf_free(&hints);
    sodium_memzero(step, sizeof *step);
    free(step);
    return status;
}

static int
cli_repair_status(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    char *json = xmalloc(ENGINE_REPAIR_JSON);
    bool as_json = argc >= 4 && strcmp(argv[3], "--json") == 0;
    int status = 0;
    int rc;

    if (argc < 3 || argc > 4 || (argc == 4 && !as_json)) {
        free(json);
        cli_printf(err, "usage: kith %s\n", cli_repair_usage);
        return 2;
    }
    rc = engine_repair_status(e, argv[2], json, ENGINE_REPAIR_JSON);
    if (rc == KITH_ENOTFOUND && as_json) {
        struct repair *none = NULL;
        /* A contact with no repair: a document all the same, so scripts can read it. */
        if (engine_repair_load(e, argv[2], &none) == KITH_ENOTFOUND) {
            cli_printf(out, "{\"state\":\"none\",\"turn\":\"none\",\"repair_id\":null}\n");
            free(json);
            return 0;
        }
        repair_destroy(none);
    }
    if (rc != KITH_OK) {
        free(json);
        cli_printf(err, "kith: %s\n",
                   rc == KITH_ENOTFOUND ? "there's no repair conversation with that contact"
                                        : kith_strerror(rc));
        return 1;
    }
    if (as_json) {
        cli_printf(out, "%s\n", json);
    } else {
        cli_printf(out, "Repair with %s:\n", argv[2]);
        cli_repair_now(e, argv[2], out);
    }
    sodium_memzero(json, ENGINE_REPAIR_JSON);
    free(json);
    return status;
}

static int
cli_repair_keep(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    static const struct {
        const char *word;
        enum engine_repair_keep how;
        const char *done;
    } choices[] = {
        { "keep", ENGINE_REPAIR_KEEP, "Kept on this device, sealed." },
        { "agreement", ENGINE_REPAIR_KEEP_AGREEMENT, "Kept only the agreement." },
        { "delete", ENGINE_REPAIR_DELETE, "Deleted your copy. The other person keeps theirs." },
    };
    int rc;

    if (argc != 4) {
        cli_printf(err, "usage: kith %s\n", cli_repair_usage);
        return 2;
    }
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (strcmp(argv[3], choices[i].word) != 0) {
            continue;
        }
        rc = engine_repair_keep(e, argv[2], choices[i].how);
        if (rc == KITH_ESTATE) {
            cli_printf(err, "kith: the conversation is still open; this choice comes at its "
                            "end\n");
            return 1;
        }
        if (rc != KITH_OK) {
            cli_printf(err, "kith: %s\n",
                       rc == KITH_ENOTFOUND ? "there's nothing like that to keep"
                                            : kith_strerror(rc));
            return 1;
        }
        cli_printf(out, "%s\n", choices[i].done);
        return 0;
    }
    cli_printf(err, "usage: kith %s\n", cli_repair_usage);
    return 2;
}

int
cli_repair(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    if (argc >= 2 && strcmp(argv[1], "act") == 0) {
        return cli_repair_act(e, argc - 1, argv + 1, out, err);
    }
    if (argc >= 2 && strcmp(argv[1], "status") == 0) {
        return cli_repair_status(e, argc, argv, out, err);
    }
    if (argc >= 2 && strcmp(argv[1], "keep") == 0) {
        return cli_repair_keep(e, argc, argv, out, err);
    }
    cli_printf(err, "usage: kith %s\n", cli_repair_usage);
    return 2;
}
