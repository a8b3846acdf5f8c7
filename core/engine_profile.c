/*
 * engine_profile: housekeeping of a whole profile: a new passphrase (the DEK re-wrapped, history
 * untouched), backup and restore of the sealed database, wiping every trace kith left in the
 * profile directory, and the personal settings the crisis screen shows. Restore and wipe work
 * without an open engine but take the profile lock, so they never race a running one.
 */
#include "core/engine_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/frame.h"

/* Files kith keeps in a profile directory besides the database (and the database's own). */
static const char *const engine_profile_leaves[] = { "control", "lock" };
#define ENGINE_RESTORE_LEAF "kith.db.restore"

int
engine_change_passphrase(struct engine *e, const char *pass, size_t pass_len, bool cost_min)
{
    int rc;

    if (pass == NULL || pass_len == 0) {
        return KITH_EINVAL;
    }
    rc = store_begin(e->st);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_rekey(e->st, pass, pass_len, cost_min ? &STORE_KDF_MIN : &STORE_KDF_MODERATE);
    if (rc != KITH_OK) {
        store_rollback(e->st);
        return rc;
    }
    return store_commit(e->st);
}

int
engine_backup(struct engine *e, const char *path)
{
    if (path == NULL || path[0] == '\0') {
        return KITH_EINVAL;
    }
    return store_backup(e->st, path);
}

/* Remove what a failed restore made: the lock file if it was new, the directory if it was. */
static void
engine_restore_undo(const char *home, bool made_home, bool made_lock)
{
    char path[ENGINE_PATH_MAX + 16];

    if ((made_home || made_lock) && engine_path(path, sizeof path, home, "lock") == KITH_OK) {
        (void)unlink(path);
    }
    if (made_home) {
        (void)rmdir(home);
    }
}

int
engine_restore(const char *backup, const char *home, const char *pass, size_t pass_len)
{
    char db[ENGINE_PATH_MAX + 16];
    char tmp[ENGINE_PATH_MAX + 16];
    char lock[ENGINE_PATH_MAX + 16];
    struct stat sb;
    bool made_home = false;
    bool made_lock;
    int lock_fd = -1;
    int rc;

    if (backup == NULL || home == NULL || (pass == NULL && pass_len != 0)) {
        return KITH_EINVAL;
    }
    if (engine_path(db, sizeof db, home, "kith.db") != KITH_OK ||
        engine_path(tmp, sizeof tmp, home, ENGINE_RESTORE_LEAF) != KITH_OK ||
        engine_path(lock, sizeof lock, home, "lock") != KITH_OK) {
        return KITH_EINVAL;
    }
    if (engine_profile_exists(home)) {
        return KITH_EEXISTS;
    }
    if (stat(backup, &sb) != 0) {
        return errno == ENOENT ? KITH_ENOTFOUND : KITH_ESYS;
    }
    if (mkdir(home, 0700) == 0) {
        made_home = true;
    } else if (errno != EEXIST || stat(home, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return KITH_ESYS;
    }
    made_lock = access(lock, F_OK) != 0;
    rc = engine_lock(home, &lock_fd);
    if (rc != KITH_OK) {
        made_lock = made_lock && rc != KITH_EBUSY;
        goto out;
    }
    if (engine_profile_exists(home)) {
        rc = KITH_EEXISTS; /* someone made one meanwhile */
        goto out;
    }
    (void)unlink(tmp); /* a leftover of an interrupted restore; never a profile */
    rc = store_restore(backup, tmp, pass, pass_len);
    if (rc == KITH_OK && rename(tmp, db) != 0) {
        rc = KITH_ESYS;
        KITH_IGNORE(store_wipe(tmp));
    }
out:
    if (lock_fd >= 0) {
        close(lock_fd);
    }
    if (rc != KITH_OK) {
        engine_restore_undo(home, made_home, made_lock);
    }
    return rc;
}

int
engine_wipe(const char *home, bool *dir_removed)
{
    char path[ENGINE_PATH_MAX + 16];
    int lock_fd = -1;
    int rc;

    *dir_removed = false;
    if (!engine_profile_exists(home)) {
        return KITH_ENOTFOUND;
    }
    rc = engine_lock(home, &lock_fd);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = engine_path(path, sizeof path, home, "kith.db");
    if (rc == KITH_OK) {
        rc = store_wipe(path);
    }
    if (rc == KITH_OK && engine_path(path, sizeof path, home, ENGINE_RESTORE_LEAF) == KITH_OK) {
        rc = store_wipe(path);
    }
    for (size_t i = 0;
         rc == KITH_OK && i < sizeof engine_profile_leaves / sizeof *engine_profile_leaves; i++) {
        if (engine_path(path, sizeof path, home, engine_profile_leaves[i]) == KITH_OK &&
            unlink(path) != 0 && errno != ENOENT) {
            rc = KITH_ESYS;
        }
    }
    close(lock_fd); /* the lock file is gone already; its name can't be taken again */
    if (rc != KITH_OK) {
        return rc;
    }
    if (rmdir(home) == 0) {
        *dir_removed = true;
    } else if (errno != ENOTEMPTY && errno != EEXIST) {
        return KITH_ESYS;
    }
    return KITH_OK;
}

/* ---- personal settings ---- */

bool
engine_config_is_personal(const char *key)
{
    return key != NULL && (strcmp(key, "crisis_line") == 0 || strcmp(key, "my_people") == 0 ||
                           strcmp(key, "country") == 0);
}

static bool
engine_personal_text_ok(const char *value, size_t len)
{
    if (len > ENGINE_PERSONAL_MAX || !frame_valid_utf8((const uint8_t *)value, len)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

int
engine_config_set_personal(struct engine *e, const char *key, const char *value)
{
    char country[3];
    size_t len;

    if (!engine_config_is_personal(key) || value == NULL) {
        return KITH_EINVAL;
    }
    len = strlen(value);
    if (strcmp(key, "country") == 0) {
        if (strcmp(value, "auto") == 0) {
            return store_setting_set(e->st, key, "auto");
        }
        if (len != 2 || !isalpha((unsigned char)value[0]) || !isalpha((unsigned char)value[1]) ||
            (value[0] & 0x80) != 0 || (value[1] & 0x80) != 0) {
            return KITH_EINVAL;
        }
        country[0] = (char)toupper((unsigned char)value[0]);
        country[1] = (char)toupper((unsigned char)value[1]);
        country[2] = '\0';
        return store_setting_set(e->st, key, country);
    }
    if (strcmp(value, "off") == 0) {
        value = "";
        len = 0;
    }
    if (!engine_personal_text_ok(value, len)) {
        return KITH_EINVAL;
    }
    return store_setting_set(e->st, key, value);
}
