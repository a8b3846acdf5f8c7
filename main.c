/*
 * main: argument parsing and the subcommands of the command-line contract
 * (DESIGN.md). It never touches a socket or runs SQL: profile commands go to
 * a running engine through its control socket, or to a freshly opened one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/cli.h"
#include "core/engine.h"
#include "core/err.h"
#include "core/kcrypt.h"
#include "core/practice.h"
#include "demo.h"
#include "tui/tui.h"

#define PASS_MAX 1024

#if defined(__SANITIZE_ADDRESS__)
#define KITH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KITH_SANITIZED 1
#endif
#endif

struct opts {
    const char *home_arg;
    const char *pass_file;
    char home[4096];
    bool cost_min;
};

static void
usage(FILE *f)
{
    struct cli_buf commands = { 0 };

    KITH_IGNORE(cli_help(NULL, &commands)); /* every command: cannot fail */
    fprintf(f,
            "usage: kith [--home DIR] [--passphrase-file FILE] [COMMAND]\n"
            "\n"
            "%s"
            "\n"
            "kith COMMAND --help says more about one command.\n"
            "The profile is --home, else $KITH_HOME, else $XDG_DATA_HOME/kith.\n"
            "kith helps people who trust each other talk kindly. It isn't therapy or a\n"
            "crisis service, and it can't keep anyone safe on its own.\n",
            commands.s != NULL ? commands.s : "");
    cli_buf_free(&commands);
}

/* `kith COMMAND --help` (anywhere before a "--"): that command's usage from the same table. */
static bool
command_help(int argc, char **argv)
{
    struct cli_buf out = { 0 };
    bool asked = false;

    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        asked = asked || strcmp(argv[i], "--help") == 0 || (i == 1 && strcmp(argv[i], "-h") == 0);
    }
    if (!asked || cli_help(argv[0], &out) != KITH_OK) {
        return false;
    }
    fputs(out.s, stdout);
    cli_buf_free(&out);
    return true;
}

static void
harden_process(void)
{
    struct rlimit no_core = { 0, 0 };

    umask(077);
    (void)setrlimit(RLIMIT_CORE, &no_core);
#ifndef KITH_SANITIZED
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* First line of a file, without the newline. */
static int
read_pass_file(const char *path, char **pass, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;

    if (f == NULL) {
        fprintf(stderr, "kith: can't read the passphrase file %s: %s\n", path, strerror(errno));
        return KITH_ESYS;
    }
    buf = sodium_malloc(PASS_MAX);
    if (buf == NULL) {
        fclose(f);
        return KITH_ENOMEM;
    }
    if (fgets(buf, PASS_MAX, f) == NULL) {
        buf[0] = '\0';
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    *pass = buf;
    *len = strlen(buf);
    return KITH_OK;
}

static int
prompt_pass(const char *prompt, char **pass, size_t *len)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios old;
    struct termios quiet;
    char *buf;
    bool ok;

    if (tty == NULL) {
        fprintf(stderr, "kith: no terminal to ask for the passphrase; use --passphrase-file\n");
        return KITH_EINVAL;
    }
    buf = sodium_malloc(PASS_MAX);
    if (buf == NULL) {
        fclose(tty);
        return KITH_ENOMEM;
    }
    fputs(prompt, tty);
    fflush(tty);
    tcgetattr(fileno(tty), &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    ok = fgets(buf, PASS_MAX, tty) != NULL;
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    if (!ok) {
        sodium_free(buf);
        return KITH_EINVAL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    *pass = buf;
    *len = strlen(buf);
    return KITH_OK;
}

static int
get_pass(const struct opts *o, bool confirm, char **pass, size_t *len)
{
    const char *file = o->pass_file != NULL ? o->pass_file : getenv("KITH_PASSPHRASE_FILE");
    char *again = NULL;
    size_t again_len = 0;
    int rc;

    if (file != NULL && file[0] != '\0') {
        return read_pass_file(file, pass, len);
    }
    rc = prompt_pass("Passphrase: ", pass, len);
    if (rc != KITH_OK || !confirm) {
        return rc;
    }
    rc = prompt_pass("The same passphrase again: ", &again, &again_len);
    if (rc == KITH_OK && (again_len != *len || sodium_memcmp(again, *pass, *len) != 0)) {
        fprintf(stderr, "kith: the two passphrases differ; nothing was created\n");
        rc = KITH_EINVAL;
    }
    sodium_free(again);
    if (rc != KITH_OK) {
        sodium_free(*pass);
        *pass = NULL;
    }
    return rc;
}

static const char *
opt_value(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc) {
            return argv[i + 1];
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }
    return NULL;
}

static int
report(int rc, const char *what)
{
    fprintf(stderr, "kith: %s%s%s\n", what != NULL ? what : "", what != NULL ? ": " : "",
            kith_strerror(rc));
    return 1;
}

static int
cmd_init(struct opts *o, int argc, char **argv)
{
    const char *name = opt_value(argc, argv, "--name");
    const char *listen = opt_value(argc, argv, "--listen");
    char *pass = NULL;
    size_t len = 0;
    int rc;

    if (name == NULL) {
        fputs("usage: kith init --name NAME [--listen ENDPOINT]\n", stderr);
        return 2;
    }
    rc = get_pass(o, true, &pass, &len);
    if (rc != KITH_OK) {
        return 1;
    }
    if (len == 0) {
        fputs("kith: an empty passphrase would leave your history readable; choose one\n",
              stderr);
        sodium_free(pass);
        return 1;
    }
    rc = engine_init_profile(o->home, name, listen, pass, len, o->cost_min);
    sodium_free(pass);
    if (rc == KITH_EEXISTS) {
        fprintf(stderr, "kith: there is already a profile in %s; nothing was changed\n", o->home);
        return 1;
    }
    if (rc == KITH_EINVAL) {
        fputs("kith: the name must be 1-64 characters, and the endpoint like "
              "tcp://127.0.0.1:7741 (a port of * picks one)\n",
              stderr);
        return 1;
    }
    if (rc != KITH_OK) {
        return report(rc, "couldn't create the profile");
    }
    printf("Created a profile for %s in %s.\n", name, o->home);
    return 0;
}

static int
open_engine(struct opts *o, struct engine **e)
{
    char *pass = NULL;
    size_t len = 0;
    int rc = get_pass(o, false, &pass, &len);

    if (rc != KITH_OK) {
        return rc;
    }
    rc = engine_open(o->home, pass, len, e);
    sodium_free(pass);
    return rc;
}

static void
explain_open_error(const struct opts *o, int rc)
{
    if (rc == KITH_ENOTFOUND) {
        fprintf(stderr, "kith: there is no profile in %s yet (kith init --name NAME)\n", o->home);
    } else if (rc == KITH_EBUSY) {
        fputs("kith: another kith is already running on this profile\n", stderr);
    } else if (rc != KITH_EINVAL && rc != KITH_ESYS) {
        report(rc, NULL); /* EINVAL/ESYS were explained while reading the passphrase */
    }
}

static void sleep_ms(long ms);

static int
cmd_run(struct opts *o)
{
    struct engine *e = NULL;
    struct engine_me me;
    int rc = KITH_EBUSY;

    /* A short command may hold the profile for a moment; an engine holds it for long. */
    for (int tries = 0; tries < 100 && rc == KITH_EBUSY; tries++) {
        if (tries > 0) {
            sleep_ms(100);
        }
        rc = open_engine(o, &e);
    }
    if (rc != KITH_OK) {
        explain_open_error(o, rc);
        return 1;
    }

    if (rc != KITH_OK) {
        return 1;
    }
    rc = engine_start(e);
    if (rc != KITH_OK) {
        if (rc == KITH_ESELFTEST) {
            fputs("kith: transport authentication is not active; refusing to run\n", stderr);
        } else {
            report(rc, "couldn't start the network");
        }
        engine_close(e);
        return 1;
    }
    if (engine_me(e, &me) == KITH_OK) {
        printf("kith is running as %s on %s\n", me.name, me.endpoint);
        fflush(stdout);
    }
    rc = engine_run(e);
    engine_close(e);
    return rc == KITH_OK ? 0 : report(rc, NULL);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run a profile command in this process (no engine running). */
static int
run_local(struct opts *o, struct engine *e, int argc, char **argv, char **out_copy)
{
    struct cli_buf out = { 0 };
    struct cli_buf err = { 0 };
    int status = cli_exec(e, argc, argv, &out, &err);

    if (out.s != NULL) {
        fputs(out.s, stdout);
        if (out_copy != NULL) {
            *out_copy = xstrdup(out.s);
        }
    }
    if (err.s != NULL) {
        fputs(err.s, stderr);
    }
    cli_buf_free(&out);
    cli_buf_free(&err);
    (void)o;
    return status;
}

/* Hand a command to the running engine; retries briefly while it starts. */
static int
run_remote(struct opts *o, int argc, char **argv, int *status, char **out_copy)
{
    char *out = NULL;
    char *err = NULL;
    int rc = KITH_ENOENGINE;

    for (int tries = 0; tries < 100; tries++) {
        rc = engine_control_call(o->home, argc, argv, status, &out, &err);
        if (rc != KITH_ENOENGINE || !engine_is_running(o->home)) {
            break;
        }
        sleep_ms(50);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    fputs(out, stdout);
    fputs(err, stderr);
    if (out_copy != NULL) {
        *out_copy = out;
        out = NULL;
    }
    free(out);
    free(err);
    return KITH_OK;
}

static bool
is_delivered(struct opts *o, struct engine *e, const char *id)
{
    char *args[] = { "msgstate", (char *)id, NULL };
    const char *state = NULL;
    bool done = false;

    if (e != NULL) {
        return engine_msg_state(e, id, &state) == KITH_OK && strcmp(state, "delivered") == 0;
    }
    {
        char *out = NULL;
        char *err = NULL;
        int status = 1;
        if (engine_control_call(o->home, 2, args, &status, &out, &err) == KITH_OK &&
            status == 0) {
            done = strncmp(out, "delivered", 9) == 0;
        }
        free(out);
        free(err);
    }
    return done;
}

static int
cmd_profile(struct opts *o, int argc, char **argv)
{
    const char *wait_s = strcmp(argv[0], "send") == 0 ? opt_value(argc, argv, "--wait") : NULL;
    double wait = wait_s != NULL ? atof(wait_s) : 0;
    struct engine *e = NULL;
    char *out = NULL;
    char id[64] = "";
    int status = 1;
    int rc;

    if (wait_s != NULL && wait <= 0) {
        fputs("usage: kith send TARGET TEXT... --wait SECONDS\n", stderr);
        return 2;
    }
    /* A running engine does the work; else open the profile here. */
    for (int tries = 0; tries < 200; tries++) {
        if (engine_is_running(o->home)) {
            rc = run_remote(o, argc, argv, &status, &out);
            if (rc == KITH_OK) {
                break;
            }
            if (rc == KITH_ESTATE) {
                fputs("kith: kith stopped while doing this; `kith log` shows whether it was "
                      "saved\n",
                      stderr);
                return 1;
            }
            if (rc != KITH_ENOENGINE) {
                return report(rc, NULL);
            }
        }
        rc = open_engine(o, &e);
        if (rc == KITH_OK) {
            status = run_local(o, e, argc, argv, &out);
            break;
        }
        if (rc != KITH_EBUSY) {
            explain_open_error(o, rc);
            return 1;
        }
        sleep_ms(50); /* another short command holds the profile */
    }
    if (status != 0 || wait_s == NULL) {
        free(out);
        engine_close(e);
        return status;
    }
    if (e != NULL) {
        rc = engine_start(e);
        if (rc != KITH_OK) {
            free(out);
            engine_close(e);
            return report(rc, "couldn't start the network");
        }
    }
    /* Every id printed (one per line: --each prints several) until each is delivered. */
    for (double deadline = now_s() + wait; now_s() < deadline;) {
        const char *line = out != NULL ? out : "";
        bool all = strlen(line) >= 32;
        while (all && strlen(line) >= 32) {
            snprintf(id, sizeof id, "%.32s", line);
            all = is_delivered(o, e, id);
            line = strchr(line, '\n') != NULL ? strchr(line, '\n') + 1 : "";
        }
        if (all) {
            free(out);
            engine_close(e);
            return 0;
        }
        if (e != NULL) {
            if (engine_step(e, 100) != KITH_OK || engine_stopping(e)) {
                break;
            }
        } else {
            sleep_ms(50);
        }
    }
    free(out);
    engine_close(e);
    fputs("kith: not delivered yet; it is saved and will go when they are online\n", stderr);
    return 1;
}

static int
cmd_tui(struct opts *o)
{
    struct engine *e = NULL;
    char *pass = NULL;
    size_t len = 0;
    int rc;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fputs("kith: the client needs a terminal; see kith --help for commands\n", stderr);
        return 1;
    }
    if (access(o->home, F_OK) != 0 || !engine_profile_exists(o->home)) {
        return tui_first_run(o->home, o->cost_min);
    }
    if (engine_is_running(o->home)) {
        fputs("kith: kith is already running on this profile (kith run?); stop it first\n",
              stderr);
        return 1;
    }
    if (o->pass_file != NULL || getenv("KITH_PASSPHRASE_FILE") != NULL) {
        rc = get_pass(o, false, &pass, &len);
        if (rc != KITH_OK) {
            return 1;
        }
        rc = engine_open(o->home, pass, len, &e);
        sodium_free(pass);
    } else {
        for (;;) {
            char *typed = NULL;
            size_t typed_len = 0;
            if (tui_ask_passphrase(o->home, &typed, &typed_len) != 0) {
                return 0;
            }
            rc = engine_open(o->home, typed, typed_len, &e);
            sodium_memzero(typed, typed_len);
            free(typed);
            if (rc != KITH_EPASSPHRASE) {
                break;
            }
        }
    }
    if (rc != KITH_OK) {
        return report(rc, NULL);
    }
    rc = tui_run(e);
    engine_close(e);
    return rc;
}

/* `kith practice`: a rehearsal with a scripted partner (DOMAIN.md §2.6). Local only: no
 * engine, no network, no profile, unless --save asks to keep the transcript sealed in it. */
static void
practice_keep(char **transcript, const char *line)
{
    size_t had = *transcript != NULL ? strlen(*transcript) : 0;
    size_t add = strlen(line);

    if (had + add + 2 >= ENGINE_PRACTICE_MAX) {
        return; /* the rest of a very long session is not kept */
    }
    *transcript = xrealloc(*transcript, had + add + 2);
    memcpy(*transcript + had, line, add);
    (*transcript)[had + add] = '\n';
    (*transcript)[had + add + 1] = '\0';
}

static int
practice_script(struct practice *p, char **transcript)
{
    struct practice_out *out = xmalloc(sizeof *out);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') {
            continue;
        }
        KITH_IGNORE(practice_script_step(p, line, out)); /* a refusal is in the JSON answer */
        printf("%s\n", out->json);
        fflush(stdout);
        if (transcript != NULL) {
            practice_keep(transcript, line);
            practice_keep(transcript, out->json);
        }
    }
    if (line != NULL) {
        sodium_memzero(line, cap);
        free(line);
    }
    sodium_memzero(out, sizeof *out);
    free(out);
    return 0;
}

static int
cmd_practice(struct opts *o, int argc, char **argv)
{
    const char *partner = opt_value(argc, argv, "--partner");
    const char *seed_s = opt_value(argc, argv, "--seed");
    bool is_script = false;
    bool is_save = false;
    enum practice_persona persona = PRACTICE_RECEPTIVE;
    unsigned long long seed = 0;
    struct engine *e = NULL;
    struct practice *p = NULL;
    char *transcript = NULL;
    int status;

    for (int i = 1; i < argc; i++) {
        is_script = is_script || strcmp(argv[i], "--script") == 0;
        is_save = is_save || strcmp(argv[i], "--save") == 0;
    }
    if ((partner != NULL && practice_persona_from_name(partner, &persona) != KITH_OK) ||
        (seed_s != NULL && (seed_s[0] < '0' || seed_s[0] > '9'))) {
        fputs("usage: kith practice [--partner receptive|defensive|withdrawn] [--seed N] "
              "[--script] [--save]\n",
              stderr);
        return 2;
    }
    seed = seed_s != NULL ? strtoull(seed_s, NULL, 10) : randombytes_random();
    if (is_save) {
        if (!engine_profile_exists(o->home)) {
            fprintf(stderr, "kith: --save keeps the practice sealed in your profile, and there is "
                            "no profile in %s yet (kith init --name NAME). You can practise "
                            "without --save; nothing is kept then.\n",
                    o->home);
            return 1;
        }
        if (open_engine(o, &e) != KITH_OK) {
            fputs("kith: couldn't open your profile to keep the practice; nothing was "
                  "saved\n",
                  stderr);
            return 1;
        }
    }
    if (is_script) {
        p = practice_create(persona, seed);
        status = practice_script(p, is_save ? &transcript : NULL);
        practice_destroy(p);
    } else {
        status = tui_practice(practice_persona_name(persona), seed,
                              is_save ? &transcript : NULL);
    }
    if (e != NULL && transcript != NULL) {
        if (engine_practice_save(e, transcript) == KITH_OK) {
            fputs("kith: the practice is kept, sealed, in your profile\n", stderr);
        } else {
            fputs("kith: the practice couldn't be kept; nothing was saved\n", stderr);
            status = 1;
        }
    }
    if (transcript != NULL) {
        sodium_memzero(transcript, strlen(transcript));
        free(transcript);
    }
    engine_close(e);
    return status;
}

/* ---- passwd, backup, restore, wipe (the engine verbs are in core/engine_profile.c) ---- */

static bool
has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            return true;
        }
    }
    return false;
}

/* Only the listed options ("=" marks one with a value) and at most max_plain other words. */
static bool
args_ok(int argc, char **argv, const char *const *options, int max_plain)
{
    int plain = 0;

    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (const char *const *o = options; *o != NULL && !known; o++) {
            size_t n = strcspn(*o, "=");
            if (strncmp(argv[i], *o, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) {
                known = true;
                if ((*o)[n] == '=' && argv[i][n] == '\0' && ++i >= argc) {
                    return false;
                }
            }
        }
        if (!known && (strncmp(argv[i], "--", 2) == 0 || ++plain > max_plain)) {
            return false;
        }
    }
    return true;
}

static int
refuse_running(const char *command)
{
    fprintf(stderr, "kith: kith is running on this profile; stop it first (Ctrl-C in the client, "
                    "or stop `kith run`), then run kith %s again\n",
            command);
    return 1;
}

/* The new passphrase: from --new-passphrase-file, else asked twice without echo. */
static int
get_new_pass(int argc, char **argv, char **pass, size_t *len)
{
    const char *file = opt_value(argc, argv, "--new-passphrase-file");
    char *again = NULL;
    size_t again_len = 0;
    int rc;

    if (file != NULL) {
        return read_pass_file(file, pass, len);
    }
    rc = prompt_pass("New passphrase: ", pass, len);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = prompt_pass("The new passphrase again: ", &again, &again_len);
    if (rc == KITH_OK && (again_len != *len || sodium_memcmp(again, *pass, *len) != 0)) {
        fputs("kith: the two new passphrases differ; nothing was changed\n", stderr);
        rc = KITH_EINVAL;
    }
    sodium_free(again);
    if (rc != KITH_OK) {
        sodium_free(*pass);
        *pass = NULL;
    }
    return rc;
}

static int
cmd_passwd(struct opts *o, int argc, char **argv)
{
    static const char *const options[] = { "--new-passphrase-file=", NULL };
    const char *file = o->pass_file != NULL ? o->pass_file : getenv("KITH_PASSPHRASE_FILE");
    struct engine *e = NULL;
    char *pass = NULL;
    size_t len = 0;
    int rc;

    if (!args_ok(argc, argv, options, 0)) {
        fputs("usage: kith passwd [--new-passphrase-file FILE]\n", stderr);
        return 2;
    }
    if (!engine_profile_exists(o->home)) {
        fprintf(stderr, "kith: there is no profile in %s\n", o->home);
        return 1;
    }
    if (engine_is_running(o->home)) {
        return refuse_running("passwd");
    }
    rc = file != NULL && file[0] != '\0' ? read_pass_file(file, &pass, &len)
                                         : prompt_pass("Current passphrase: ", &pass, &len);
    if (rc != KITH_OK) {
        return 1;
    }
    rc = engine_open(o->home, pass, len, &e);
    sodium_free(pass);
    pass = NULL;
    if (rc == KITH_EPASSPHRASE) {
        fputs("kith: that isn't this profile's passphrase; nothing was changed\n", stderr);
        return 1;
    }
    if (rc == KITH_EBUSY) {
        return refuse_running("passwd");
    }
    if (rc != KITH_OK) {
        return report(rc, "nothing was changed");
    }
    rc = get_new_pass(argc, argv, &pass, &len);
    if (rc == KITH_OK && len == 0) {
        fputs("kith: an empty passphrase would leave your history readable; nothing was "
              "changed\n",
              stderr);
        rc = KITH_EINVAL;
    }
    if (rc == KITH_OK) {
        rc = engine_change_passphrase(e, pass, len, o->cost_min);
        if (rc != KITH_OK) {
            report(rc, "the passphrase was not changed");
        }
    }
    sodium_free(pass);
    engine_close(e);
    if (rc != KITH_OK) {
        return 1;
    }
    printf("Your passphrase is changed. Backups made before still open with the old one.\n");
    return 0;
}

/* `backup FILE` goes to the engine (a running one, or opened here) with FILE made absolute. */
static int
cmd_backup(struct opts *o, int argc, char **argv)
{
    char cwd[4096];
    char path[8200];
    char *args[3] = { argv[0], path, NULL };

    if (argc != 2 || strncmp(argv[1], "--", 2) == 0 || argv[1][0] == '\0') {
        fputs("usage: kith backup FILE\n", stderr);
        return 2;
    }
    if (argv[1][0] == '/') {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else if (getcwd(cwd, sizeof cwd) == NULL ||
               snprintf(path, sizeof path, "%s/%s", cwd, argv[1]) >= (int)sizeof path) {
        fputs("kith: couldn't tell where that file would be; give an absolute path\n", stderr);
        return 1;
    }
    return cmd_profile(o, 2, args);
}

static int
cmd_restore(struct opts *o, int argc, char **argv)
{
    static const char *const options[] = { "--home=", NULL };
    const char *home_arg = opt_value(argc, argv, "--home");
    const char *file = NULL;
    char home[4096];
    char *pass = NULL;
    size_t len = 0;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0) {
            i++;
        } else if (strncmp(argv[i], "--", 2) != 0) {
            file = argv[i];
        }
    }
    if (!args_ok(argc, argv, options, 1) || file == NULL) {
        fputs("usage: kith restore FILE [--home DIR]\n", stderr);
        return 2;
    }
    if (home_arg == NULL) {
        snprintf(home, sizeof home, "%s", o->home);
    } else if (engine_home_resolve(home_arg, home, sizeof home) != KITH_OK) {
        fputs("usage: kith restore FILE [--home DIR]\n", stderr);
        return 2;
    }
    if (engine_profile_exists(home)) {
        fprintf(stderr, "kith: there is already a profile in %s; restore into a new directory "
                        "(--home DIR). Nothing was changed.\n",
                home);
        return 1;
    }
    if (access(file, R_OK) != 0) {
        fprintf(stderr, "kith: can't read %s: %s\n", file, strerror(errno));
        return 1;
    }
    if (get_pass(o, false, &pass, &len) != KITH_OK) {
        return 1;
    }
    rc = engine_restore(file, home, pass, len);
    sodium_free(pass);
    if (rc == KITH_EPASSPHRASE) {
        fputs("kith: that passphrase doesn't open this backup (it opens with the passphrase the "
              "profile had when the backup was made); nothing was written\n",
              stderr);
        return 1;
    }
    if (rc == KITH_ENOTKITH || rc == KITH_ECORRUPT) {
        fprintf(stderr, "kith: %s is not a kith backup, or it is damaged; nothing was written\n",
                file);
        return 1;
    }
    if (rc == KITH_EEXISTS) {
        fprintf(stderr, "kith: there is already a profile in %s; nothing was changed\n", home);
        return 1;
    }
    if (rc != KITH_OK) {
        return report(rc, "nothing was restored");
    }
    printf("Restored the backup into %s: your contacts, boundaries and history are back.\n"
           "Messages your contacts sent after the backup was made may not open here; see "
           "SECURITY.md.\n",
           home);
    return 0;
}

/* Ask on the terminal for the directory's name before a wipe. */
static bool
confirm_wipe(const char *home)
{
    const char *slash = strrchr(home, '/');
    const char *name = slash != NULL && slash[1] != '\0' ? slash + 1 : home;
    FILE *tty = fopen("/dev/tty", "r+");
    char typed[256] = "";
    bool ok;

    if (tty == NULL) {
        fputs("kith: no terminal to confirm on; use kith wipe --yes in scripts\n", stderr);
        return false;
    }
    fprintf(tty,
            "This overwrites and removes the profile in %s: your identity, contacts, boundaries "
            "and history.\nIt can't be undone, and your contacts keep their own copies.\n"
            "Type %s to wipe it, or anything else to keep it: ",
            home, name);
    fflush(tty);
    ok = fgets(typed, sizeof typed, tty) != NULL;
    fclose(tty);
    typed[strcspn(typed, "\r\n")] = '\0';
    return ok && strcmp(typed, name) == 0;
}

static int
cmd_wipe(struct opts *o, int argc, char **argv)
{
    static const char *const options[] = { "--yes", NULL };
    bool dir_removed = false;
    int rc;

    if (!args_ok(argc, argv, options, 0)) {
        fputs("usage: kith wipe [--yes]\n", stderr);
        return 2;
    }
    if (!engine_profile_exists(o->home)) {
        fprintf(stderr, "kith: there is no profile in %s; nothing was wiped\n", o->home);
        return 1;
    }
    if (engine_is_running(o->home)) {
        return refuse_running("wipe");
    }
    if (!has_flag(argc, argv, "--yes") && !confirm_wipe(o->home)) {
        fputs("kith: nothing was wiped\n", stderr);
        return 1;
    }
    rc = engine_wipe(o->home, &dir_removed);
    if (rc == KITH_EBUSY) {
        return refuse_running("wipe");
    }
    if (rc != KITH_OK) {
        return report(rc, "the wipe didn't finish; run kith wipe again");
    }
    if (dir_removed) {
        printf("The profile in %s is wiped and removed.\n", o->home);
    } else {
        printf("kith's files in %s are wiped and removed; the directory stays because it holds "
               "other files.\n",
               o->home);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    const char *cost;
    int i;

    harden_process();
    if (kcrypt_rng_install() != KITH_OK || sodium_init() < 0) {
        fputs("kith: the cryptography library could not start\n", stderr);
        return 1;
    }
    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
            o.home_arg = argv[++i];
        } else if (strncmp(argv[i], "--home=", 7) == 0) {
            o.home_arg = argv[i] + 7;
        } else if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc) {
            o.pass_file = argv[++i];
        } else if (strncmp(argv[i], "--passphrase-file=", 18) == 0) {
            o.pass_file = argv[i] + 18;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("kith %s\n", KITH_VERSION);
            return 0;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "kith: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    if (engine_home_resolve(o.home_arg, o.home, sizeof o.home) != KITH_OK) {
        fputs("kith: no profile directory: use --home DIR or set KITH_HOME\n", stderr);
        return 2;
    }
    cost = getenv("KITH_KDF_COST");
    o.cost_min = cost != NULL && strcmp(cost, "min") == 0;
    argc -= i;
    argv += i;
    if (argc >= 1 && command_help(argc, argv)) {
        return 0;
    }
    if (argc == 0 || strcmp(argv[0], "tui") == 0) {
        return cmd_tui(&o);
    }
    if (strcmp(argv[0], "init") == 0) {
        return cmd_init(&o, argc, argv);
    }
    if (strcmp(argv[0], "run") == 0) {
        return cmd_run(&o);
    }
    if (strcmp(argv[0], "practice") == 0) {
        return cmd_practice(&o, argc, argv);
    }
    if (strcmp(argv[0], "demo") == 0) {
        return demo_run(argc, argv, o.cost_min);
    }
    if (strcmp(argv[0], "passwd") == 0) {
        return cmd_passwd(&o, argc, argv);
    }
    if (strcmp(argv[0], "backup") == 0) {
        return cmd_backup(&o, argc, argv);
    }
    if (strcmp(argv[0], "restore") == 0) {
        return cmd_restore(&o, argc, argv);
    }
    if (strcmp(argv[0], "wipe") == 0) {
        return cmd_wipe(&o, argc, argv);
    }
    if (cli_known(argv[0])) {
        return cmd_profile(&o, argc, argv);
    }
    fprintf(stderr, "kith: unknown command '%s'\n", argv[0]);
    usage(stderr);
    return 2;
}
