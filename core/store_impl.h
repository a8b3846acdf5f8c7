/*
 * store_impl: internals shared by store.c (open/create, keys, schema,
 * transactions, sealing and statement helpers), store_people.c (identity,
 * settings, contacts, invites, sessions, replay tables) and store_msg.c
 * (messages, counters, outbox). Not a public header.
 */
#ifndef KITH_CORE_STORE_IMPL_H
#define KITH_CORE_STORE_IMPL_H

#include "core/store.h"

#include <sqlite3.h>

#include "core/kcrypt.h"

#define STORE_APPLICATION_ID  0x6b697468 /* 'kith' */
#define STORE_SCHEMA_VERSION  8
/* Bound into every sealed value's AD. Fixed for kith-v1: migrations add tables and columns
 * without re-sealing what is stored. */
#define STORE_SEAL_VERSION    1
#define STORE_DEK             32
#define STORE_SALT            16
#define STORE_WRAPPED         (KCRYPT_OVERHEAD + STORE_DEK)
#define STORE_PAD_BLOCK       256
#define STORE_HEADER          100
#define STORE_PUB_PLAIN       (IDENTITY_PUBLIC_BYTES + IDENTITY_MEMBER_ID)
#define STORE_INVITE_PLAIN    96
#define STORE_SETTING_KEY_MAX 255
#define STORE_SETTING_MAX     65536
#define STORE_SESSION_MAX     (1u << 24) /* far above KITH_MAX_SKIPPED_PER_SESSION keys */
#define STORE_KDF_OPS_MAX     16
#define STORE_KDF_MEM_MAX     (1024u * 1024u * 1024u)
#define STORE_REASON_MAX      15 /* boundary reasons stored with a message */
#define STORE_TELL_MAX        15 /* receipt tells stored with a message */

/* Subkey ids (crypto_kdf subkey_id) and the table names bound into AD. */
enum store_table {
    STORE_T_IDENTITY = 1,
    STORE_T_SETTING,
    STORE_T_CONTACT,
    STORE_T_INVITE,
    STORE_T_SESSION,
    STORE_T_MSG,
    STORE_T_OUTBOX,
    /* circles (store_circle.c, store_relay.c) */
    STORE_T_CIRCLE,
    STORE_T_CHAIN,
    STORE_T_CFRAME,
    STORE_T_CMSG,
    STORE_T_RELAY,
    STORE_T_COUNT,
};

/* Domain tags for the keyed lookup hashes. */
enum store_idx {
    STORE_IDX_NAME = 'n',
    STORE_IDX_MEMBER = 'm',
    STORE_IDX_SETTING = 's',
    STORE_IDX_EK = 'e',
    STORE_IDX_CIRCLE_NAME = 'c',   /* over the name's STORE_IDX_NAME hash */
    STORE_IDX_CIRCLE_MEMBER = 'k', /* over circle row id || member id */
    STORE_IDX_ROUTE = 'r',         /* relay routes */
};

enum store_stmt {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SP_BEGIN,
    S_SP_RELEASE,
    S_SP_ROLLBACK,
    S_KDF_UPDATE,
    S_ID_SAVE,
    S_ID_LOAD,
    S_SET_SET,
    S_SET_GET,
    S_CONTACT_ADD,
    S_CONTACT_UPDATE,
    S_CONTACT_BY_ID,
    S_CONTACT_BY_NAME,
    S_CONTACT_BY_MEMBER,
    S_CONTACT_ALL,
    S_INV_ADD,
    S_INV_GET,
    S_INV_SET,
    S_INV_OPEN,
    S_SESS_SAVE,
    S_SESS_LOAD,
    S_EK_ADD,
    S_SEEN_ADD,
    S_SEEN_HAS,
    S_SEEN_PRUNE,
    S_MSG_ADD,
    S_MSG_SENT,
    S_MSG_STATE,
    S_MSG_GET,
    S_MSG_GET_STATE,
    S_MSG_LOG,
    S_MSG_COUNTS,
    S_LAMPORT,
    S_CONV_GET,
    S_CONV_SET,
    S_OB_ADD,
    S_OB_DUE_ONE,
    S_OB_DUE_ALL,
    S_OB_RESCHED,
    S_MSG_OB_RESCHED,
    S_OB_WAKE,
    S_MSG_OB_WAKE,
    S_OB_REMOVE,
    S_MSG_OB_REMOVE,
    S_OB_NEXT,
    S_OB_ACK,
    S_RULES_SET,
    S_RULES_GET,
    S_TOLD_SET,
    S_TOLD_GET,
    S_MSG_VISIBLE,
    S_MSG_VISIBLE_DIGEST,
    S_MSG_HELD,
    S_MSG_NEXT_RELEASE,
    S_MSG_RELEASE,
    S_MSG_TELL,
    S_MSG_TEXTS_FOLLOW,
    S_MSG_TEXT_TOLD,
    S_MSG_DELIVERED,
    S_MSG_ACKED,
    /* circles (store_circle.c, store_relay.c) */
    S_CIRCLE_ADD,
    S_CIRCLE_BY_NAME,
    S_CIRCLE_BY_CID,
    S_CIRCLE_ALL,
    S_CIRCLE_STATE,
    S_CIRCLE_RENAME,
    S_CIRCLE_OPS_GET,
    S_CIRCLE_OPS_SET,
    S_CIRCLE_KEY_GET,
    S_CIRCLE_KEY_SET,
    S_CHAIN_PUT,
    S_CHAIN_GET,
    S_CHAIN_PURGE,
    S_CMSG_ADD,
    S_CMSG_GET,
    S_CMSG_LOG,
    S_CMSG_STATE,
    S_CMSG_DELIVERED,
    S_INV_CIRCLE_SET,
    S_INV_CIRCLE_GET,
    S_CFRAME_ADD,
    S_CFRAME_HAS,
    S_CFRAME_VERIFIED,
    S_CFRAME_DELETE,
    S_CFRAME_RANGE,
    S_CFRAME_HWMS,
    S_CFRAME_EXPIRE,
    S_CHAVE_SET,
    S_CHAVE_GET,
    S_RELAY_ADD,
    S_RELAY_FOR,
    S_RELAY_COUNT,
    S_RELAY_REMOVE,
    S_RELAY_EXPIRE,
    S_COUNT,
};

/* Statements of the side modules that run on every loop pass or every message: prepared on
 * first use (their tables may come from a later migration) and kept until close. */
enum store_lazy {
    S_LAZY_SYNC_FULL,
    S_LAZY_SYNC_NORMAL,
    S_LAZY_SYNC_MARK,
    S_LAZY_REPAIR_NEXT,
    S_LAZY_MSG_NEXT_DELETE,
    S_LAZY_RETENTION_S,
    S_LAZY_LAMPORT_GET,
    S_LAZY_TEXTS_TELLS,
    S_LAZY_COUNT,
};

struct store {
    sqlite3 *db;
    bool relaxed; /* the transaction open (or the next one) commits without a sync */
    /* Opened through store_vfs: durability is the log's (store_vfs_wal_durable), the
     * connection runs synchronous=NORMAL. Otherwise PRAGMA synchronous switches. */
    bool vfs_sync;
    struct store_keys *keys; /* sodium_malloc'd */
    sqlite3_stmt *stmt[S_COUNT];
    sqlite3_stmt *lazy[S_LAZY_COUNT];
    /* No outbox row is due before this instant (ms): set from a committed min(next_at_ms),
     * only ever lowered by writes, so store_outbox_due can answer "none" without a query.
     * 0: unknown. */
    int64_t outbox_due_hint;
    /* The Lamport clock in memory (store_lamport_add): lamport_now is the last time handed
     * out, lamport_hi what the counter row holds (written in blocks, ahead of lamport_now, in
     * the transaction of the tick that passed the last block). A rollback forgets both
     * (lamport_ok false): the row is read again. */
    bool lamport_ok;
    uint64_t lamport_now;
    uint64_t lamport_hi;
};

/* ---- helpers defined in store.c ---- */

void store_be32(uint8_t out[4], uint32_t v);
uint32_t store_get_be32(const uint8_t in[4]);
void store_be64(uint8_t out[8], int64_t v);
int store_rc(int rc);
/* A cached statement, reset and ready to bind. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt id);
/* A statement of enum store_lazy, prepared from sql on first use and cached: *s reset and
 * ready to bind, released with store_done (never finalized by the caller). KITH_OK or a
 * mapped error. */
int store_stmt_lazy(struct store *st, enum store_lazy id, const char *sql, sqlite3_stmt **s);
/* Release a statement's row and bindings (bound buffers may be freed next). */
void store_done(sqlite3_stmt *s);
/* Step a statement that returns no rows; KITH_OK or a mapped error. */
int store_exec_stmt(sqlite3_stmt *s);
/* Step expecting one row: KITH_OK (row ready), KITH_ENOTFOUND or an error. */
int store_step_row(sqlite3_stmt *s);
int store_changed(struct store *st, int rc);
/* Run statement id (one int64 parameter, ?1: a time) and count the rows it changed. */
int store_exec_counted(struct store *st, enum store_stmt id, int64_t arg, size_t *changed);
bool store_col_int(sqlite3_stmt *s, int col, int64_t min, int64_t max, int64_t *out);
bool store_col_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t len);
/* out = HMAC(idx_key, tag || value) */
void store_index(const struct store *st, enum store_idx tag, const uint8_t *value, size_t len,
                 uint8_t out[32]);
void store_name_index(const struct store *st, const char *name, size_t len, uint8_t out[32]);
/* nonce || AEAD(subkey(t), pt, AD); malloc'd, *out_len set. */
uint8_t *store_seal(const struct store *st, enum store_table t, const char *column,
                    const uint8_t *rowkey, size_t rowkey_len, const uint8_t *pt, size_t pt_len,
                    size_t *out_len);
/* Open column col of the current row into a malloc'd buffer (one spare byte
 * for a NUL). Type, length bound and AEAD are checked: KITH_ECORRUPT. */
int store_unseal(const struct store *st, enum store_table t, const char *column,
                 const uint8_t *rowkey, size_t rowkey_len, sqlite3_stmt *s, int col, size_t max_pt,
                 uint8_t **pt, size_t *pt_len);
void store_wipe_free(uint8_t *p, size_t len);
/* Seal a padded value. */
uint8_t *store_seal_padded(const struct store *st, enum store_table t, const char *column,
                           const uint8_t *rowkey, size_t rowkey_len, const void *value, size_t len,
                           size_t *out_len);
/* Open a padded value in place: *value points into *pt (length *len, NUL after it). */
int store_unseal_padded(const struct store *st, enum store_table t, const char *column,
                        const uint8_t *rowkey, size_t rowkey_len, sqlite3_stmt *s, int col,
                        size_t max_len, uint8_t **pt, size_t *pt_len, size_t *len);
/* An internal savepoint around multi-statement operations (nests inside store_begin). */
int store_op_begin(struct store *st);
int store_op_end(struct store *st, int rc);

/* ---- helpers defined in store_circle.c ---- */

/* A member's (or sender's) keyed hash within one circle: HMAC(idx_key, tag || circle row id ||
 * member id), so the same person is not linkable across circles or to their contact row. */
void store_circle_member_index(const struct store *st, int64_t circle, const uint8_t member[16],
                               uint8_t out[32]);

/* ---- store_vfs.c: the unix VFS with each transaction's WAL frames written at once ---- */

/* The VFS every profile database is opened with; NULL (SQLite's default) if it could not be
 * registered. */
const char *store_vfs_name(void);

struct store_vfs_stats {
    size_t writes_in;  /* WAL writes SQLite asked for */
    size_t writes_out; /* WAL writes the file received */
    size_t syncs;      /* syncs the log received */
};

/* Process-wide counts, for tests. */
void store_vfs_stats(struct store_vfs_stats *out);
/* db's write-ahead log opened through this VFS: its commits synced as they are written
 * (durable, how a log opens) or not (relaxed). SQLite result codes. */
int store_vfs_wal_durable(sqlite3 *db, bool durable);
/* Write and sync what db's log holds: every relaxed commit before becomes durable. */
int store_vfs_wal_sync(sqlite3 *db);

#endif
