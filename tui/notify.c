/*
 * notify: see notify.h. The decision is pure (state in, bits out, the clock passed in); the
 * desktop path is one posix_spawnp with a fixed argv (no shell, so nothing from a message or a
 * name can reach a command line) and WNOHANG reaping of our own children only: the client
 * may have other children (kith demo's companions) whose exits are not ours to collect.
 */
#include "tui/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct notify {
    enum notify_mode mode;
    bool has_new;         /* a shown message arrived since the last take */
    bool has_bell;        /* last_bell_ms is set */
    bool has_desktop;     /* last_desktop_ms is set */
    bool is_missing;      /* notify-send is not installed */
    int64_t last_bell_ms; /* monotonic */
    int64_t last_desktop_ms;
    pid_t children[NOTIFY_CHILDREN_MAX]; /* 0: free slot */
};

struct notify *
notify_create(void)
{
    struct notify *n = xcalloc(1, sizeof *n);

    n->mode = NOTIFY_BELL;
    return n;
}

void
notify_destroy(struct notify *n)
{
    if (n == NULL) {
        return;
    }
    notify_reap(n);
    free(n);
}

int
notify_mode_parse(const char *value, enum notify_mode *mode)
{
    static const struct {
        const char *name;
        enum notify_mode mode;
    } names[] = {
        { "bell", NOTIFY_BELL },
        { "desktop", NOTIFY_DESKTOP },
        { "both", NOTIFY_BOTH },
        { "off", NOTIFY_OFF },
    };

    *mode = NOTIFY_BELL;
    if (value == NULL) {
        return KITH_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(value, names[i].name) == 0) {
            *mode = names[i].mode;
            return KITH_OK;
        }
    }
    return KITH_EINVAL;
}

void
notify_set_mode(struct notify *n, enum notify_mode mode)
{
    n->mode = mode;
}

enum notify_mode
notify_get_mode(const struct notify *n)
{
    return n->mode;
}

bool
notify_note_message(struct notify *n, bool engine_notify, const char *state)
{
    /* Only "received" is shown as it arrived: held waits silently for its release (which
     * comes as a new event), folded and awaiting_consent ask to be opened, and every other
     * state name belongs to our own messages. */
    bool counts = engine_notify && state != NULL && strcmp(state, "received") == 0;

    n->has_new = n->has_new || counts;
    return counts;
}

bool
notify_has_new(const struct notify *n)
{
    return n->has_new;
}

static bool
notify_due(bool has_last, int64_t last_ms, int64_t now_ms, int64_t gap_ms)
{
    return !has_last || now_ms - last_ms >= gap_ms || now_ms < last_ms;
}

unsigned
notify_take(struct notify *n, int64_t now_ms, bool is_hidden)
{
    unsigned pending_signals = 0;
    bool wants_bell = n->mode == NOTIFY_BELL || n->mode == NOTIFY_BOTH;
    bool wants_desktop = n->mode == NOTIFY_DESKTOP || n->mode == NOTIFY_BOTH;

    if (!n->has_new || is_hidden) {
        n->has_new = false;
        return 0;
    }
    n->has_new = false;
    if (wants_bell && notify_due(n->has_bell, n->last_bell_ms, now_ms, NOTIFY_BELL_GAP_MS)) {
        pending_signals |= NOTIFY_DO_BELL;
        n->has_bell = true;
        n->last_bell_ms = now_ms;
    }
    if (wants_desktop && !n->is_missing &&
        notify_due(n->has_desktop, n->last_desktop_ms, now_ms, NOTIFY_DESKTOP_GAP_MS)) {
        pending_signals |= NOTIFY_DO_DESKTOP;
        n->has_desktop = true;
        n->last_desktop_ms = now_ms;
    }
    return pending_signals;
}

static int
notify_spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr)
{
    sigset_t none;
    sigset_t defaults;

    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGWINCH);
    sigaddset(&defaults, SIGCHLD);
    if (posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawnattr_setsigmask(attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(attr, &defaults) != 0 ||
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                           POSIX_SPAWN_SETPGROUP) != 0 ||
        posix_spawnattr_setpgroup(attr, 0) != 0) {
        return KITH_ESYS;
    }
    return KITH_OK;
}

/* Is there an executable `prog` in a PATH directory? posix_spawnp's own ENOENT is not
 * reliable everywhere (an emulated spawn reports it only as the child's exit 127). */
static bool
notify_on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char candidate[4096];

    if (path == NULL || *path == '\0') {
        path = "/usr/bin:/bin";
    }
    for (const char *p = path; *p != '\0';) {
        size_t len = strcspn(p, ":");
        int n = snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len,
                         len > 0 ? p : ".", prog);
        if (n > 0 && (size_t)n < sizeof candidate && access(candidate, X_OK) == 0) {
            return true;
        }
        p += len;
        if (*p == ':') {
            p++;
        }
    }
    return false;
}

int
notify_desktop_spawn(struct notify *n)
{
    /* Fixed words only: no message text, no contact name, nothing for a shell. */
    static char prog[] = "notify-send";
    static char app[] = "--app-name=kith";
    static char text[] = NOTIFY_DESKTOP_TEXT;
    char *argv[] = { prog, app, text, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    size_t slot = NOTIFY_CHILDREN_MAX;
    pid_t pid = 0;
    int rc;
    int err;

    if (n->is_missing || !notify_on_path(prog)) {
        n->is_missing = true; /* not installed: stop trying */
        return KITH_ENOTFOUND;
    }
    notify_reap(n);
    for (size_t i = 0; i < NOTIFY_CHILDREN_MAX; i++) {
        if (n->children[i] == 0) {
            slot = i;
            break;
        }
    }
    if (slot == NOTIFY_CHILDREN_MAX) {
        return KITH_EAGAIN; /* a desktop that hangs must not fill the process table */
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return KITH_ESYS;
    }
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return KITH_ESYS;
    }
    rc = notify_spawn_setup(&fa, &attr);
    if (rc != KITH_OK) {
        goto out;
    }
    err = posix_spawnp(&pid, prog, &fa, &attr, argv, environ);
    if (err == ENOENT) {
        n->is_missing = true; /* not installed: stop trying */
        rc = KITH_ENOTFOUND;
        goto out;
    }
    if (err != 0) {
        rc = KITH_ESYS;
        goto out;
    }
    n->children[slot] = pid;
out:
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

void
notify_reap(struct notify *n)
{
    for (size_t i = 0; i < NOTIFY_CHILDREN_MAX; i++) {
        int status;
        pid_t got;

        if (n->children[i] == 0) {
            continue;
        }
        got = waitpid(n->children[i], &status, WNOHANG);
        if (got == n->children[i] && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
            n->is_missing = true; /* the child could not exec it after all */
        }
        if (got == n->children[i] || (got == -1 && errno == ECHILD)) {
            n->children[i] = 0; /* exited, or somebody else reaped it */
        }
    }
}

size_t
notify_children(const struct notify *n)
{
    size_t count = 0;

    for (size_t i = 0; i < NOTIFY_CHILDREN_MAX; i++) {
        count += n->children[i] != 0;
    }
    return count;
}
