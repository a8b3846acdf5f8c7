/*
 * notify_test: which arrivals may make a sound (only shown ones, never held, folded, asking,
 * muted or our own), what each setting does, the pacing, and the desktop path: a fake
 * notify-send on PATH records its arguments, which carry no content; it is reaped without
 * blocking; a missing notify-send is noticed once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tui/notify.h"

static enum notify_mode
parsed(const char *value)
{
    enum notify_mode mode = NOTIFY_OFF;

    assert_int_equal(notify_mode_parse(value, &mode), KITH_OK);
    return mode;
}

static void
mode_parse__accepts__the_four_settings_and_defaults_to_bell(void **state)
{
    enum notify_mode mode = NOTIFY_OFF;

    (void)state;
    assert_int_equal(parsed("bell"), NOTIFY_BELL);
    assert_int_equal(parsed("desktop"), NOTIFY_DESKTOP);
    assert_int_equal(parsed("both"), NOTIFY_BOTH);
    assert_int_equal(parsed("off"), NOTIFY_OFF);
    assert_int_equal(parsed(NULL), NOTIFY_BELL);
    assert_int_equal(notify_mode_parse("loud", &mode), KITH_EINVAL);
    assert_int_equal(mode, NOTIFY_BELL);
    assert_int_equal(notify_mode_parse("", &mode), KITH_EINVAL);
    assert_int_equal(notify_mode_parse("Bell", &mode), KITH_EINVAL);
    assert_int_equal(notify_mode_parse("bell ", &mode), KITH_EINVAL);
}

static void
create__starts__with_the_bell(void **state)
{
    struct notify *n = notify_create();

    (void)state;
    assert_int_equal(notify_get_mode(n), NOTIFY_BELL);
    assert_int_equal(notify_children(n), 0);
    notify_destroy(n);
    notify_destroy(NULL);
}

static void
note__counts__only_messages_shown_on_arrival(void **state)
{
    static const char *const silent[] = { "held",    "folded", "awaiting_consent",
                                          "queued",  "sent",   "delivered",
                                          "expired", "",       "receivedx" };
    struct notify *n = notify_create();

    (void)state;
    assert_true(notify_note_message(n, true, "received"));
    assert_false(notify_note_message(n, false, "received")); /* muted, or a control update */
    assert_false(notify_note_message(n, true, NULL));        /* state unknown */
    for (size_t i = 0; i < sizeof silent / sizeof silent[0]; i++) {
        assert_false(notify_note_message(n, true, silent[i]));
        assert_false(notify_note_message(n, false, silent[i]));
    }
    notify_destroy(n);
}

static void
take__rings__nothing_for_held_folded_muted_or_own_messages(void **state)
{
    struct notify *n = notify_create();

    (void)state;
    notify_set_mode(n, NOTIFY_BOTH);
    notify_note_message(n, true, "held");
    notify_note_message(n, true, "folded");
    notify_note_message(n, true, "awaiting_consent");
    notify_note_message(n, false, "received");
    notify_note_message(n, true, "delivered");
    assert_int_equal(notify_take(n, 1000, false), 0);
    notify_destroy(n);
}

static void
take__follows__the_setting(void **state)
{
    static const struct {
        enum notify_mode mode;
        unsigned pending_signals;
    } cases[] = {
        { NOTIFY_BELL, NOTIFY_DO_BELL },
        { NOTIFY_DESKTOP, NOTIFY_DO_DESKTOP },
        { NOTIFY_BOTH, NOTIFY_DO_BELL | NOTIFY_DO_DESKTOP },
        { NOTIFY_OFF, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct notify *n = notify_create();
        notify_set_mode(n, cases[i].mode);
        assert_true(notify_note_message(n, true, "received"));
        assert_int_equal(notify_take(n, 5000, false), cases[i].pending_signals);
        notify_destroy(n);
    }
}

static void
take__makes__one_signal_for_many_arrivals_and_then_forgets(void **state)
{
    struct notify *n = notify_create();

    (void)state;
    for (int i = 0; i < 20; i++) {
        notify_note_message(n, true, "received"); /* a released digest */
    }
    assert_int_equal(notify_take(n, 10000, false), NOTIFY_DO_BELL);
    assert_int_equal(notify_take(n, 60000, false), 0); /* nothing new since */
    notify_destroy(n);
}

static void
take__paces__bells_and_desktop_notifications(void **state)
{
    struct notify *n = notify_create();
    int64_t t = 100000;

    (void)state;
    notify_set_mode(n, NOTIFY_BOTH);
    notify_note_message(n, true, "received");
    assert_int_equal(notify_take(n, t, false), NOTIFY_DO_BELL | NOTIFY_DO_DESKTOP);
    notify_note_message(n, true, "received");
    assert_int_equal(notify_take(n, t + NOTIFY_BELL_GAP_MS - 1, false), 0);
    notify_note_message(n, true, "received");
    assert_int_equal(notify_take(n, t + NOTIFY_BELL_GAP_MS, false), NOTIFY_DO_BELL);
    notify_note_message(n, true, "received");
    assert_int_equal(notify_take(n, t + NOTIFY_DESKTOP_GAP_MS, false),
                     NOTIFY_DO_BELL | NOTIFY_DO_DESKTOP);
    notify_destroy(n);
}

static void
take__stays__silent_while_the_client_is_hidden(void **state)
{
    struct notify *n = notify_create();

    (void)state;
    notify_set_mode(n, NOTIFY_BOTH);
    assert_true(notify_note_message(n, true, "received"));
    assert_int_equal(notify_take(n, 1000, true), 0);
    assert_int_equal(notify_take(n, 90000, false), 0); /* not saved up for later either */
    notify_destroy(n);
}

/* ---- the desktop path, with a fake notify-send ---- */

struct fake_env {
    char dir[64];
    char log[96];
    char *old_path;
};

static int
fake_setup(void **state)
{
    struct fake_env *f = calloc(1, sizeof *f);
    const char *path = getenv("PATH");

    if (f == NULL) {
        return -1;
    }
    strcpy(f->dir, "/tmp/kith-notify-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->log, sizeof f->log, "%s/args", f->dir);
    f->old_path = path != NULL ? strdup(path) : NULL;
    *state = f;
    return 0;
}

static int
fake_teardown(void **state)
{
    struct fake_env *f = *state;
    char file[128];

    snprintf(file, sizeof file, "%s/notify-send", f->dir);
    unlink(file);
    unlink(f->log);
    rmdir(f->dir);
    if (f->old_path != NULL) {
        setenv("PATH", f->old_path, 1);
    }
    free(f->old_path);
    free(f);
    return 0;
}

/* PATH: our directory first, then the system's (the fake needs mv and sleep). */
static void
fake_path(const struct fake_env *f)
{
    char path[512];

    snprintf(path, sizeof path, "%s:/usr/bin:/bin", f->dir);
    assert_int_equal(setenv("PATH", path, 1), 0);
}

static void
fake_install(const struct fake_env *f)
{
    char file[128];
    FILE *fp;

    snprintf(file, sizeof file, "%s/notify-send", f->dir);
    fp = fopen(file, "w");
    assert_non_null(fp);
    /* One argument a line, then where its stdin and stdout lead (both must be /dev/null). */
    fprintf(fp,
            "#!/bin/sh\n"
            "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > %s.tmp\n"
            "echo \"in=$(readlink /proc/$$/fd/0) out=$(readlink /proc/$$/fd/1)\" >> %s.tmp\n"
            "mv %s.tmp %s\n",
            f->log, f->log, f->log, f->log);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(file, 0700), 0);
    fake_path(f);
}

static void
wait_reaped(struct notify *n)
{
    struct timespec pause = { 0, 10 * 1000 * 1000 };

    for (int i = 0; i < 500 && notify_children(n) > 0; i++) {
        nanosleep(&pause, NULL);
        notify_reap(n);
    }
    assert_int_equal(notify_children(n), 0);
}

static void
desktop__runs__notify_send_with_a_fixed_text_and_reaps_it(void **state)
{
    struct fake_env *f = *state;
    struct notify *n = notify_create();
    char got[256] = { 0 };
    size_t len;
    FILE *fp;

    fake_install(f);
    assert_int_equal(notify_desktop_spawn(n), KITH_OK);
    assert_int_equal(notify_children(n), 1); /* running, not waited for */
    wait_reaped(n);
    fp = fopen(f->log, "r");
    assert_non_null(fp);
    len = fread(got, 1, sizeof got - 1, fp);
    fclose(fp);
    got[len] = '\0';
    assert_string_equal(got, "--app-name=kith\n" NOTIFY_DESKTOP_TEXT "\n"
                             "in=/dev/null out=/dev/null\n");
    notify_destroy(n);
}

static void
desktop__keeps__no_more_than_a_few_children(void **state)
{
    struct fake_env *f = *state;
    struct notify *n = notify_create();
    char file[128];
    FILE *fp;

    /* A notify-send that hangs (a stuck desktop): slots fill, then EAGAIN, never blocking. */
    snprintf(file, sizeof file, "%s/notify-send", f->dir);
    fp = fopen(file, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\nexec sleep 1\n");
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(file, 0700), 0);
    fake_path(f);
    for (int i = 0; i < NOTIFY_CHILDREN_MAX; i++) {
        assert_int_equal(notify_desktop_spawn(n), KITH_OK);
    }
    assert_int_equal(notify_desktop_spawn(n), KITH_EAGAIN);
    assert_int_equal(notify_children(n), NOTIFY_CHILDREN_MAX);
    wait_reaped(n);
    assert_int_equal(notify_desktop_spawn(n), KITH_OK); /* a slot is free again */
    wait_reaped(n);
    notify_destroy(n);
}

static void
desktop__stops_trying__when_notify_send_is_missing(void **state)
{
    struct fake_env *f = *state;
    struct notify *n = notify_create();

    assert_int_equal(setenv("PATH", f->dir, 1), 0); /* an empty directory */
    assert_int_equal(notify_desktop_spawn(n), KITH_ENOTFOUND);
    assert_int_equal(notify_children(n), 0);
    fake_install(f); /* installed later: the client keeps its first answer */
    assert_int_equal(notify_desktop_spawn(n), KITH_ENOTFOUND);
    notify_set_mode(n, NOTIFY_DESKTOP);
    notify_note_message(n, true, "received");
    assert_int_equal(notify_take(n, 1000, false), 0); /* nothing left to ask for */
    notify_destroy(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mode_parse__accepts__the_four_settings_and_defaults_to_bell),
        cmocka_unit_test(create__starts__with_the_bell),
        cmocka_unit_test(note__counts__only_messages_shown_on_arrival),
        cmocka_unit_test(take__rings__nothing_for_held_folded_muted_or_own_messages),
        cmocka_unit_test(take__follows__the_setting),
        cmocka_unit_test(take__makes__one_signal_for_many_arrivals_and_then_forgets),
        cmocka_unit_test(take__paces__bells_and_desktop_notifications),
        cmocka_unit_test(take__stays__silent_while_the_client_is_hidden),
        cmocka_unit_test_setup_teardown(desktop__runs__notify_send_with_a_fixed_text_and_reaps_it,
                                        fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(desktop__keeps__no_more_than_a_few_children, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(desktop__stops_trying__when_notify_send_is_missing,
                                        fake_setup, fake_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
