/*
 * store_backup: whole-file operations on a profile database. A backup is a
 * consistent snapshot (VACUUM INTO) of the sealed database, kdf record
 * included, so it opens with the passphrase that was current when it was
 * made; a restore copies one into a new path and proves it unlocks before
 * anything is kept; a wipe overwrites the database files with random bytes
 * before removing them. Files are created 0600 and never overwritten.
 */
#include "core/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define STORE_COPY_CHUNK 65536

static const char *const store_aux_suffixes[] = { "-wal", "-shm", "-journal" };

static void
store_unlink_with_aux(const char *path)
{
    char aux[4200];

    (void)unlink(path);
    for (size_t i = 0; i < sizeof store_aux_suffixes / sizeof store_aux_suffixes[0]; i++) {
        snprintf(aux, sizeof aux, "%s%s", path, store_aux_suffixes[i]);
        (void)unlink(aux);
    }
}

/* fsync the directory holding path, so a new or removed name is durable. */
static int
store_sync_dir(const char *path)
{
    char dir[4200];
    char *slash;
    int fd;
    int rc = KITH_OK;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return KITH_ESYS;
    }
    if (fsync(fd) != 0) {
        rc = KITH_ESYS;
    }
    close(fd);
    return rc;
}

/* The snapshot VACUUM INTO writes is in rollback-journal mode; a kith database is WAL. */
static int
store_backup_set_wal(const char *path)
{
    sqlite3 *db = NULL;
    int rc = store_rc(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL));

    if (rc == KITH_OK &&
        sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK) {
        rc = KITH_ESTORE;
    }
    if (sqlite3_close(db) != SQLITE_OK) {
        rc = KITH_ESTORE;
    }
    return rc;
}

int
store_backup(struct store *st, const char *path)
{
    sqlite3_stmt *s = NULL;
    int fd = -1;
    int rc;

    if (st == NULL || path == NULL || path[0] == '\0' || strlen(path) > 4000) {
        return KITH_EINVAL;
    }
    if (!sqlite3_get_autocommit(st->db)) {
        return KITH_ESTATE; /* VACUUM cannot run inside a transaction */
    }
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return errno == EEXIST ? KITH_EEXISTS : KITH_ESYS;
    }
    rc = store_rc(sqlite3_prepare_v2(st->db, "VACUUM INTO ?1", -1, &s, NULL));
    if (rc == KITH_OK) {
        sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
        rc = store_exec_stmt(s);
    }
    sqlite3_finalize(s);
    if (rc == KITH_OK) {
        rc = store_backup_set_wal(path);
    }
    /* SQLite does not sync what VACUUM INTO wrote; the backup must survive a power loss. */
    if (rc == KITH_OK && (fchmod(fd, 0600) != 0 || fsync(fd) != 0)) {
        rc = KITH_ESYS;
    }
    close(fd);
    if (rc == KITH_OK) {
        rc = store_sync_dir(path);
    }
    if (rc != KITH_OK) {
        store_unlink_with_aux(path);
    }
    return rc;
}

/* Copy src to a new 0600 file dst (O_EXCL) and fsync it. */
static int
store_copy_new(const char *src, const char *dst)
{
    uint8_t *buf = xmalloc(STORE_COPY_CHUNK);
    struct stat sb;
    int in = -1;
    int out = -1;
    int rc = KITH_OK;

    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = errno == ENOENT ? KITH_ENOTFOUND : KITH_ESYS;
        goto out;
    }
    if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < STORE_HEADER) {
        rc = KITH_ENOTKITH;
        goto out;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        rc = errno == EEXIST ? KITH_EEXISTS : KITH_ESYS;
        goto out;
    }
    for (;;) {
        ssize_t got = read(in, buf, STORE_COPY_CHUNK);
        if (got == 0) {
            break;
        }
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = KITH_ESYS;
            goto out;
        }
        for (ssize_t done = 0; done < got;) {
            ssize_t put = write(out, buf + done, (size_t)(got - done));
            if (put < 0 && errno != EINTR) {
                rc = KITH_ESYS;
                goto out;
            }
            done += put > 0 ? put : 0;
        }
    }
    if (fsync(out) != 0) {
        rc = KITH_ESYS;
    }
out:
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
        if (rc != KITH_OK) {
            (void)unlink(dst);
        }
    }
    free(buf);
    return rc;
}

int
store_restore(const char *backup, const char *path, const char *pass, size_t pass_len)
{
    struct store *st = NULL;
    struct identity *id = NULL;
    char name[KITH_STORE_NAME_BUF];
    int rc;

    if (backup == NULL || path == NULL || strlen(path) > 4000 || strlen(backup) > 4000 ||
        (pass == NULL && pass_len != 0)) {
        return KITH_EINVAL;
    }
    rc = store_copy_new(backup, path);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_open(path, pass, pass_len, &st);
    if (rc == KITH_OK) {
        rc = store_identity_load(st, &id, name);
        rc = rc == KITH_ENOTFOUND ? KITH_ENOTKITH : rc;
    }
    identity_destroy(id);
    sodium_memzero(name, sizeof name);
    store_close(st);
    if (rc == KITH_OK) {
        rc = store_sync_dir(path);
    }
    if (rc != KITH_OK) {
        store_unlink_with_aux(path);
    }
    return rc;
}

/* Overwrite a regular file with random bytes, sync, and unlink it. ENOENT is fine. */
static int
store_shred(const char *path)
{
    uint8_t *buf;
    struct stat sb;
    off_t done = 0;
    int fd;
    int rc = KITH_OK;

    fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            return KITH_OK;
        }
        return unlink(path) == 0 ? KITH_OK : KITH_ESYS; /* e.g. a symlink: remove the name */
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return KITH_ESYS;
    }
    buf = xmalloc(STORE_COPY_CHUNK);
    while (done < sb.st_size) {
        size_t n = (size_t)(sb.st_size - done) < STORE_COPY_CHUNK ? (size_t)(sb.st_size - done)
                                                                  : STORE_COPY_CHUNK;
        ssize_t put;
        randombytes_buf(buf, n);
        put = pwrite(fd, buf, n, done);
        if (put <= 0) {
            if (put < 0 && errno == EINTR) {
                continue;
            }
            rc = KITH_ESYS;
            break;
        }
        done += put;
    }
    if (fsync(fd) != 0) {
        rc = KITH_ESYS;
    }
    close(fd);
    sodium_memzero(buf, STORE_COPY_CHUNK);
    free(buf);
    if (unlink(path) != 0 && errno != ENOENT) {
        rc = KITH_ESYS;
    }
    return rc;
}

int
store_wipe(const char *path)
{
    char aux[4200];
    int rc;

    if (path == NULL || strlen(path) > 4000) {
        return KITH_EINVAL;
    }
    rc = store_shred(path);
    for (size_t i = 0; i < sizeof store_aux_suffixes / sizeof store_aux_suffixes[0]; i++) {
        int rc2;
        snprintf(aux, sizeof aux, "%s%s", path, store_aux_suffixes[i]);
        rc2 = store_shred(aux);
        rc = rc != KITH_OK ? rc : rc2;
    }
    if (rc == KITH_OK) {
        rc = store_sync_dir(path);
    }
    return rc;
}
