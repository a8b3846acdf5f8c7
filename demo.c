/*
 * demo: see demo.h. The companions are ordinary kith engines in forked
 * children whose idle hook answers each arriving message with a short, kind,
 * scripted line; everything else (invites, handshakes, sealing, delivery)
 * is the real thing over real sockets.
 */
#include "demo.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "core/engine.h"
#include "tui/tui.h"

#define DEMO_COMPANIONS 2

static const char *const demo_names[DEMO_COMPANIONS] = { "Robin", "Sam" };

static const char *const demo_robin[] = {
    "Thanks for writing. I'm glad you're here.",
    "That makes sense. Take your time, there's no rush.",
    "I hear you. What would feel good right now?",
    "Sending care your way.",
    "I'm here whenever you want to talk.",
};

static const char *const demo_sam[] = {
    "Hey. Good to hear from you.",
    "Mm, I get that. Thank you for telling me.",
    "No pressure to reply quickly, by the way.",
    "That sounds like a lot. Be gentle with yourself today.",
    "I'll be around.",
};

const char *
demo_reply(const char *companion, unsigned n)
{
    if (strcmp(companion, "Sam") == 0) {
        return demo_sam[n % (sizeof demo_sam / sizeof demo_sam[0])];
    }
    return demo_robin[n % (sizeof demo_robin / sizeof demo_robin[0])];
}

struct demo_companion {
    struct engine *e;
    const char *name;
    unsigned replies;
};

/* The companions are friends you chose: trust level 2, so the defaults for new
 * contacts (pacing, ask-first) don't slow the demo down. */
static int
demo_trust(struct engine *e, const char *contact)
{
    static const char *const rule[] = { "trust=2" };
    const char *why = NULL;
    char *summary = NULL;
    int rc = engine_boundary_set(e, contact, rule, 1, &why, &summary);

    free(summary);
    return rc;
}

static void
demo_companion_idle(void *ctx)
{
    struct demo_companion *c = ctx;
    struct engine_event ev;
    char id[ENGINE_ID_HEX];

    while (engine_next_event(c->e, &ev)) {
        if (ev.kind == ENGINE_EV_MESSAGE) {
            KITH_IGNORE(engine_send(c->e, ev.contact, demo_reply(c->name, c->replies++), 0, id));
        } else if (ev.kind == ENGINE_EV_CONTACT) {
            char hello[256];
            KITH_IGNORE(demo_trust(c->e, ev.contact)); /* a nicety for the demo's pace */
            snprintf(hello, sizeof hello,
                     "Hi, I'm %s, a scripted companion running on your own computer for "
                     "this demo. Write anything; I'll answer.",
                     c->name);
            KITH_IGNORE(engine_send(c->e, ev.contact, hello, 0, id)); /* a reply is a nicety */
        }
    }
}

static int
demo_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
demo_cleanup(const char *dir, pid_t *kids, int nkids)
{
    for (int i = 0; i < nkids; i++) {
        if (kids[i] > 0) {
            kill(kids[i], SIGTERM);
        }
    }
    for (int i = 0; i < nkids; i++) {
        if (kids[i] > 0) {
            waitpid(kids[i], NULL, 0);
        }
    }
    if (dir[0] != '\0') {
        nftw(dir, demo_rm, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static int
demo_profile(const char *dir, const char *who, const char *pass, bool cost_min, char *home,
             size_t cap)
{
    snprintf(home, cap, "%s/%s", dir, who);
    return engine_init_profile(home, who, "tcp://127.0.0.1:*", pass, strlen(pass), cost_min);
}

int
demo_run(int argc, char **argv, bool cost_min)
{
    char dir[] = "/tmp/kith-demo-XXXXXX";
    char pass[33];
    char homes[DEMO_COMPANIONS + 1][256];
    char codes[DEMO_COMPANIONS][ENGINE_INVITE_BUF];
    pid_t kids[DEMO_COMPANIONS] = { 0 };
    struct engine *e = NULL;
    int status = 1;
    int rc;

    (void)argc;
    (void)argv;
    (void)cost_min; /* demo profiles are throwaway: always the cheapest KDF */
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "kith: couldn't make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(pass, sizeof pass, raw, sizeof raw);
    }
    fprintf(stderr, "Setting up a demo under %s (removed when you quit)...\n", dir);
    rc = demo_profile(dir, "you", pass, true, homes[0], sizeof homes[0]);
    for (int i = 0; i < DEMO_COMPANIONS && rc == 0; i++) {
        rc = demo_profile(dir, demo_names[i], pass, true, homes[i + 1], sizeof homes[i + 1]);
        if (rc == 0) {
            rc = engine_open(homes[i + 1], pass, strlen(pass), &e);
        }
        if (rc == 0) {
            rc = engine_invite(e, 3600, codes[i]);
        }
        engine_close(e);
        e = NULL;
    }
    if (rc == 0) {
        rc = engine_open(homes[0], pass, strlen(pass), &e);
    }
    for (int i = 0; i < DEMO_COMPANIONS && rc == 0; i++) {
        char name[ENGINE_NAME_BUF];
        rc = engine_accept(e, codes[i], NULL, name);
        if (rc == 0) {
            rc = demo_trust(e, name);
        }
    }
    engine_close(e);
    e = NULL;
    if (rc != 0) {
        fprintf(stderr, "kith: the demo couldn't be set up: %s\n", kith_strerror(rc));
        demo_cleanup(dir, kids, 0);
        return 1;
    }
    fflush(NULL);
    for (int i = 0; i < DEMO_COMPANIONS; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct demo_companion c = { .name = demo_names[i] };
            int devnull = open("/dev/null", O_RDWR);
            if (devnull >= 0) {
                dup2(devnull, STDIN_FILENO);
                dup2(devnull, STDOUT_FILENO);
                dup2(devnull, STDERR_FILENO);
            }
            if (engine_open(homes[i + 1], pass, strlen(pass), &c.e) != 0 ||
                engine_start(c.e) != 0) {
                _exit(1);
            }
            engine_set_idle(c.e, demo_companion_idle, &c);
            rc = engine_run(c.e);
            engine_close(c.e);
            _exit(rc == 0 ? 0 : 1);
        }
        kids[i] = pid;
    }
    rc = engine_open(homes[0], pass, strlen(pass), &e);
    sodium_memzero(pass, sizeof pass);
    if (rc == 0) {
        status = tui_run(e);
    } else {
        fprintf(stderr, "kith: the demo couldn't start: %s\n", kith_strerror(rc));
    }
    engine_close(e);
    demo_cleanup(dir, kids, DEMO_COMPANIONS);
    return status;
}
