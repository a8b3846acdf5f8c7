/*
 * store_vfs: SQLite's own unix VFS, with the write-ahead log's frames written together.
 *
 * SQLite writes every WAL frame as two system calls (its 24-byte header, then the page) and
 * calls fdatasync at a durable COMMIT. This shim keeps a contiguous run of frame writes in
 * memory and hands it to the file in one pwrite when the transaction's commit frame has been
 * written, before anything reads, syncs, truncates, measures or closes the log, and before a
 * write that does not continue the run. Nothing else changes: the same bytes reach the same
 * offsets, in order, before SQLite publishes the frames in the WAL index (walFrames writes all
 * of a transaction's frames, then syncs, then indexes them), so other connections and
 * processes never see a frame that is not in the file. Only WAL files are wrapped; the
 * database, its journal and the shared-memory index go straight to the unix VFS.
 *
 * Why (tests/bench/README.md): on these machines a commit of 14 frames took ~250 us written
 * frame by frame and ~190 us written at once.
 *
 * Durability is the shim's too. A log it opens is "durable": as soon as a commit frame is
 * written, the log is synced, which is what synchronous=FULL does, so kith's connections run
 * synchronous=NORMAL (SQLite then syncs only around checkpoints, as it must) and a relaxed
 * transaction is the same connection with the log marked relaxed until its COMMIT
 * (store_vfs_wal_durable); store_vfs_wal_sync makes earlier relaxed commits durable. Switching
 * with PRAGMA synchronous instead recompiled the pragma at every switch (~10 us; twice per
 * message on a sender).
 */
#include "core/store_impl.h"
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#define STORE_VFS_NAME "kith-unix"
#define WAL_FRAME_HEADER 24
#define STORE_VFS_RUN_MAX (4u << 20) /* a larger run is written at once and a new one begun */
/* The unix VFS writes at most 128 KiB - 1 bytes per call (os_unix.c, seekAndWrite). */
#define STORE_VFS_WRITE_MAX 0x1f000

struct wal_file {
    sqlite3_file base;  /* methods: store_wal_methods */
    sqlite3_file *real; /* the unix VFS's file, in the memory after this struct */
    unsigned char *buf; /* the run: bytes for [off, off + len) of the file */
    size_t len;
    size_t cap;
    sqlite3_int64 off;
    int commit_page;  /* the header just written marks a commit: its page completes it */
    int after_commit; /* the commit frame is written: so is everything until the next frame */
    int relaxed;      /* 0: sync the log when a commit frame is written (the default) */
};

static sqlite3_vfs store_vfs;
static sqlite3_vfs *store_vfs_root;
static sqlite3_io_methods store_wal_methods;
static pthread_once_t store_vfs_once = PTHREAD_ONCE_INIT;
static int store_vfs_rc = SQLITE_ERROR;
static struct store_vfs_stats store_vfs_counts;
static pthread_mutex_t store_vfs_lock = PTHREAD_MUTEX_INITIALIZER;

static void
store_vfs_count(size_t calls_in, size_t calls_out)
{
    pthread_mutex_lock(&store_vfs_lock);
    store_vfs_counts.writes_in += calls_in;
    store_vfs_counts.writes_out += calls_out;
    pthread_mutex_unlock(&store_vfs_lock);
}

static int
wal_real_sync(struct wal_file *w, int flags)
{
    pthread_mutex_lock(&store_vfs_lock);
    store_vfs_counts.syncs++;
    pthread_mutex_unlock(&store_vfs_lock);
    return w->real->pMethods->xSync(w->real, flags);
}

static int
wal_flush(struct wal_file *w)
{
    int rc = SQLITE_OK;

    for (size_t done = 0; done < w->len && rc == SQLITE_OK;) {
        size_t n = w->len - done < STORE_VFS_WRITE_MAX ? w->len - done : STORE_VFS_WRITE_MAX;
        rc = w->real->pMethods->xWrite(w->real, w->buf + done, (int)n,
                                       w->off + (sqlite3_int64)done);
        store_vfs_count(0, 1);
        done += n;
    }
    w->len = 0;
    return rc;
}

/* Add a write to the run: written at once instead when it does not continue the run, would
 * make it too long, or finds no memory. */
static int
wal_buffer(struct wal_file *w, const unsigned char *p, int amt, sqlite3_int64 off)
{
    int rc = SQLITE_OK;

    if (w->len > 0 && off != w->off + (sqlite3_int64)w->len) {
        rc = wal_flush(w); /* not the next byte of the run: write the run first */
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (w->len + (size_t)amt > STORE_VFS_RUN_MAX) {
        rc = wal_flush(w);
        if (rc == SQLITE_OK) {
            store_vfs_count(0, 1);
            rc = w->real->pMethods->xWrite(w->real, p, amt, off);
        }
        return rc;
    }
    if (w->len + (size_t)amt > w->cap) {
        size_t cap = w->cap == 0 ? 65536 : w->cap;
        unsigned char *nb;
        while (cap < w->len + (size_t)amt) {
            cap *= 2;
        }
        nb = sqlite3_realloc64(w->buf, cap);
        if (nb == NULL) {
            rc = wal_flush(w); /* no memory for a run: write as SQLite asked */
            if (rc == SQLITE_OK) {
                store_vfs_count(0, 1);
                rc = w->real->pMethods->xWrite(w->real, p, amt, off);
            }
            return rc;
        }
        w->buf = nb;
        w->cap = cap;
    }
    if (w->len == 0) {
        w->off = off;
    }
    memcpy(w->buf + w->len, p, (size_t)amt);
    w->len += (size_t)amt;
    return SQLITE_OK;
}

static int
wal_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
    struct wal_file *w = (struct wal_file *)f;
    const unsigned char *p = data;
    int header = amt == WAL_FRAME_HEADER;
    /* A frame header: bytes 4..7 hold the database size after a commit, zero otherwise. */
    int commit_header = header && (p[4] | p[5] | p[6] | p[7]) != 0;
    int commit_page = !header && w->commit_page; /* the commit frame completes with it */
    int rc;

    store_vfs_count(1, 0);
    if (amt <= 0) {
        return w->real->pMethods->xWrite(w->real, data, amt, off);
    }
    if (header) {
        w->after_commit = 0; /* a frame begins */
        w->commit_page = 0;
    }
    rc = wal_buffer(w, p, amt, off);
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (commit_page || w->after_commit) {
        /* The commit frame is complete: the transaction's run is done. Until the next frame
         * header every write goes out at once: without powersafe overwrite, SQLite pads the
         * log to a sector with copies of the commit frame and may split one around a sync,
         * and those frames are indexed too. A durable log is synced once, here. */
        rc = wal_flush(w);
        w->after_commit = 1;
        w->commit_page = 0;
        if (rc == SQLITE_OK && commit_page && !w->relaxed) {
            rc = wal_real_sync(w, SQLITE_SYNC_NORMAL);
        }
        return rc;
    }
    w->commit_page = commit_header;
    return SQLITE_OK;
}

static int
wal_close(sqlite3_file *f)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = wal_flush(w);
    int rc2 = w->real->pMethods != NULL ? w->real->pMethods->xClose(w->real) : SQLITE_OK;

    if (w->buf != NULL) {
        memset(w->buf, 0, w->cap); /* database pages */
        sqlite3_free(w->buf);
    }
    w->buf = NULL;
    w->cap = 0;
    return rc != SQLITE_OK ? rc : rc2;
}

static int
wal_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = wal_flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, out, amt, off);
}

static int
wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = wal_flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

static int
wal_sync(sqlite3_file *f, int flags)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = wal_flush(w);

    return rc != SQLITE_OK ? rc : wal_real_sync(w, flags);
}

static int
wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = wal_flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int
wal_lock(sqlite3_file *f, int level)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xLock(w->real, level);
}

static int
wal_unlock(sqlite3_file *f, int level)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xUnlock(w->real, level);
}

static int
wal_check_reserved(sqlite3_file *f, int *out)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int
wal_file_control(sqlite3_file *f, int op, void *arg)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = wal_flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileControl(w->real, op, arg);
}

static int
wal_sector_size(sqlite3_file *f)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xSectorSize(w->real);
}

static int
wal_device_characteristics(sqlite3_file *f)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xDeviceCharacteristics(w->real);
}

static int
store_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc;

    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) == 0) {
        /* Everything else is the unix VFS's own file (szOsFile covers both layouts). */
        return store_vfs_root->xOpen(store_vfs_root, name, f, flags, out_flags);
    }
    memset(w, 0, sizeof *w);
    w->real = (sqlite3_file *)(w + 1);
    rc = store_vfs_root->xOpen(store_vfs_root, name, w->real, flags, out_flags);
    /* pMethods stays NULL on failure: SQLite then does not call xClose on this file. */
    w->base.pMethods = rc == SQLITE_OK ? &store_wal_methods : NULL;
    return rc;
}

static void
store_vfs_setup(void)
{
    store_vfs_root = sqlite3_vfs_find("unix");
    if (store_vfs_root == NULL) {
        return;
    }
    store_vfs = *store_vfs_root;
    store_vfs.zName = STORE_VFS_NAME;
    store_vfs.pNext = NULL;
    store_vfs.szOsFile = (int)sizeof(struct wal_file) + store_vfs_root->szOsFile;
    store_vfs.xOpen = store_vfs_open;
    /* iVersion 1: the log never uses shared memory or memory-mapped pages. */
    store_wal_methods.iVersion = 1;
    store_wal_methods.xClose = wal_close;
    store_wal_methods.xRead = wal_read;
    store_wal_methods.xWrite = wal_write;
    store_wal_methods.xTruncate = wal_truncate;
    store_wal_methods.xSync = wal_sync;
    store_wal_methods.xFileSize = wal_file_size;
    store_wal_methods.xLock = wal_lock;
    store_wal_methods.xUnlock = wal_unlock;
    store_wal_methods.xCheckReservedLock = wal_check_reserved;
    store_wal_methods.xFileControl = wal_file_control;
    store_wal_methods.xSectorSize = wal_sector_size;
    store_wal_methods.xDeviceCharacteristics = wal_device_characteristics;
    store_vfs_rc = sqlite3_vfs_register(&store_vfs, 0);
}

/* The log db writes through this VFS, or NULL (not open yet, or another VFS's). */
static struct wal_file *
store_vfs_wal_of(sqlite3 *db)
{
    sqlite3_file *f = NULL;

    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK ||
        f == NULL || f->pMethods != &store_wal_methods) {
        return NULL;
    }
    return (struct wal_file *)f;
}

int
store_vfs_wal_durable(sqlite3 *db, bool durable)
{
    struct wal_file *w = store_vfs_wal_of(db);

    if (w != NULL) {
        w->relaxed = !durable;
    }
    return SQLITE_OK; /* a log opened later starts durable */
}

int
store_vfs_wal_sync(sqlite3 *db)
{
    struct wal_file *w = store_vfs_wal_of(db);

    return w != NULL ? wal_sync(&w->base, SQLITE_SYNC_NORMAL) : SQLITE_OK;
}

const char *
store_vfs_name(void)
{
    pthread_once(&store_vfs_once, store_vfs_setup);
    return store_vfs_rc == SQLITE_OK ? STORE_VFS_NAME : NULL; /* NULL: SQLite's default */
}

void
store_vfs_stats(struct store_vfs_stats *out)
{
    pthread_mutex_lock(&store_vfs_lock);
    *out = store_vfs_counts;
    pthread_mutex_unlock(&store_vfs_lock);
}
