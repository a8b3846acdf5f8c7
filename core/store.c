/*
 * store: one SQLite file per profile, sealed column by column. Invariants:
 * nothing is written to a file before its header says "kith" and its DEK
 * unwraps; every sealed value's AD names its table, column, row key and
 * schema version, so a value moved elsewhere fails to open; every row read
 * back is checked (types, ranges, lengths, AEAD) and a damaged one is
 * KITH_ECORRUPT; the DEK and its subkeys live in sodium_malloc memory.
 */
#include "core/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/kcrypt.h"
#include "core/limits.h"

const struct store_kdf STORE_KDF_MODERATE = { crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
                                              crypto_pwhash_argon2id_MEMLIMIT_MODERATE };
const struct store_kdf STORE_KDF_MIN = { crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };

static const char STORE_DEK_AD[] = "kith-v1/dek-wrap";

_Static_assert(STORE_DEK == crypto_kdf_KEYBYTES, "DEK is a crypto_kdf master key");
_Static_assert(STORE_SALT == crypto_pwhash_SALTBYTES, "Argon2id salt size");
_Static_assert(IDENTITY_PUBLIC_BYTES == 32 + 32 + 64 + 32 + 4 + 64, "public bundle layout");
_Static_assert(STORE_ENDPOINT_MAX < 256 && STORE_ENDPOINTS_MAX < 256, "endpoint lengths fit u8");

static const char *const store_table_name[STORE_T_COUNT] = {
    [STORE_T_IDENTITY] = "identity", [STORE_T_SETTING] = "setting",
    [STORE_T_CONTACT] = "contact",   [STORE_T_INVITE] = "invite",
    [STORE_T_SESSION] = "session",   [STORE_T_MSG] = "msg",
    [STORE_T_OUTBOX] = "outbox",     [STORE_T_CIRCLE] = "circle",
    [STORE_T_CHAIN] = "circle_key",  [STORE_T_CFRAME] = "circle_frame",
    [STORE_T_CMSG] = "cmsg",         [STORE_T_RELAY] = "relay",
};

struct store_keys {
    uint8_t dek[STORE_DEK];
    uint8_t idx[32];
    uint8_t sub[STORE_T_COUNT][KCRYPT_KEY];
};

#define CONTACT_COLS "id, state, verified, trust, created_at, name, pub, endpoints"
#define MSG_COLS                                                                                   \
    "msg_id, contact_id, outgoing, lamport, sender_seq, ts_ms, state, release_at, flags, body, " \
    "visible_at, reason, digest, tell, tell_at"
#define OUTBOX_COLS "msg_id, contact_id, attempts, next_at_ms, frame"
#define MSG_OB_COLS "msg_id, contact_id, ob_attempts, ob_next_at, ob_frame"
#define CIRCLE_COLS "id, circle_id, state, created_at, name"
#define CMSG_COLS   "msg_id, circle, outgoing, epoch, seq, lamport, ts_ms, kind, state, body, recv_ms"
#define CKEY_WHERE  "circle = ?1 AND epoch = ?2 AND sender_idx = ?3"

static const char *const store_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SP_BEGIN] = "SAVEPOINT store_op",
    [S_SP_RELEASE] = "RELEASE store_op",
    [S_SP_ROLLBACK] = "ROLLBACK TO store_op",
    [S_KDF_UPDATE] = "UPDATE kdf SET alg = ?1, ops = ?2, mem = ?3, salt = ?4, wrapped = ?5, "
                     "created = ?6 WHERE id = 1",
    [S_ID_SAVE] = "INSERT INTO identity(id, secret, name) VALUES (1, ?1, ?2) ON CONFLICT(id) "
                  "DO UPDATE SET secret = excluded.secret, name = excluded.name",
    [S_ID_LOAD] = "SELECT secret, name FROM identity WHERE id = 1",
    [S_SET_SET] = "INSERT INTO setting(key_idx, value) VALUES (?1, ?2) ON CONFLICT(key_idx) "
                  "DO UPDATE SET value = excluded.value",
    [S_SET_GET] = "SELECT value FROM setting WHERE key_idx = ?1",
    [S_CONTACT_ADD] = "INSERT INTO contact(id, name_idx, member_idx, state, verified, trust, "
                      "created_at, name, pub, endpoints) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                      "?9, ?10)",
    [S_CONTACT_UPDATE] = "UPDATE contact SET name_idx = ?2, member_idx = ?3, state = ?4, "
                         "verified = ?5, trust = ?6, created_at = ?7, name = ?8, pub = ?9, "
                         "endpoints = ?10 WHERE id = ?1",
    [S_CONTACT_BY_ID] = "SELECT " CONTACT_COLS " FROM contact WHERE id = ?1",
    [S_CONTACT_BY_NAME] = "SELECT " CONTACT_COLS " FROM contact WHERE name_idx = ?1",
    [S_CONTACT_BY_MEMBER] = "SELECT " CONTACT_COLS " FROM contact WHERE member_idx = ?1",
    [S_CONTACT_ALL] = "SELECT " CONTACT_COLS " FROM contact",
    [S_INV_ADD] = "INSERT INTO invite(invite_id, state, expires_at, keys) VALUES (?1, ?2, ?3, ?4)",
    [S_INV_GET] = "SELECT invite_id, state, expires_at, keys FROM invite WHERE invite_id = ?1",
    [S_INV_SET] = "UPDATE invite SET state = ?2, keys = ?3 WHERE invite_id = ?1",
    [S_INV_OPEN] = "SELECT count(*) FROM invite WHERE state = 0 AND expires_at > ?1",
    [S_SESS_SAVE] = "INSERT INTO session(contact_id, state) VALUES (?1, ?2) "
                    "ON CONFLICT(contact_id) DO UPDATE SET state = excluded.state",
    [S_SESS_LOAD] = "SELECT state FROM session WHERE contact_id = ?1",
    [S_EK_ADD] = "INSERT INTO seen_ek(ek_idx, seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_SEEN_ADD] = "INSERT INTO seen(msg_id, seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_SEEN_HAS] = "SELECT 1 FROM seen WHERE msg_id = ?1",
    [S_SEEN_PRUNE] = "DELETE FROM seen WHERE seen_at < ?1",
    [S_MSG_ADD] = "INSERT INTO msg(" MSG_COLS ", ob_attempts, ob_next_at, ob_frame, ob_ack) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                  "?16, ?17, ?18, ?19)",
    [S_MSG_STATE] = "UPDATE msg SET state = ?2 WHERE msg_id = ?1",
    [S_MSG_SENT] = "UPDATE msg SET state = 1 WHERE msg_id = ?1 AND state = 0",
    [S_MSG_GET] = "SELECT " MSG_COLS " FROM msg WHERE msg_id = ?1",
    [S_MSG_GET_STATE] = "SELECT state FROM msg WHERE msg_id = ?1",
    [S_MSG_LOG] = "SELECT " MSG_COLS " FROM (SELECT " MSG_COLS " FROM msg WHERE contact_id = ?1 "
                  "AND lamport < ?2 ORDER BY lamport DESC, outgoing DESC, sender_seq DESC, "
                  "msg_id DESC LIMIT ?3) ORDER BY lamport, outgoing, sender_seq, msg_id",
    [S_MSG_COUNTS] = "SELECT (SELECT count(*) FROM msg WHERE state IN (0, 1) AND outgoing = 1), "
                     "(SELECT count(*) FROM msg WHERE state = 4 AND outgoing = 0)",
    [S_LAMPORT] = "UPDATE counter SET value = max(value, ?1) + ?2 WHERE name = 'lamport' "
                  "RETURNING value",
    [S_CONV_GET] = "SELECT last_seq, last_msg_id FROM conv WHERE contact_id = ?1",
    [S_CONV_SET] = "INSERT INTO conv(contact_id, last_seq, last_msg_id) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT(contact_id) DO UPDATE SET last_seq = excluded.last_seq, "
                   "last_msg_id = excluded.last_msg_id",
    [S_OB_ADD] = "INSERT INTO outbox(msg_id, contact_id, attempts, next_at_ms, frame, ack) "
                 "VALUES (?1, ?2, ?5, ?3, ?4, ?6)",
    /* Waiting frames live in two places: a history message's in its msg row (ob_*, schema
     * 7), every other frame (handshakes, receipts, control) in outbox. Control frames first,
     * then each table in insertion order. */
    [S_OB_DUE_ONE] = "SELECT " OUTBOX_COLS " FROM (SELECT 0 AS src, seq AS k, " OUTBOX_COLS
                     " FROM outbox WHERE contact_id = ?1 AND next_at_ms <= ?2 UNION ALL "
                     "SELECT 1, rowid, " MSG_OB_COLS " FROM msg WHERE contact_id = ?1 AND "
                     "ob_next_at <= ?2) ORDER BY src, k LIMIT ?3",
    [S_OB_DUE_ALL] = "SELECT " OUTBOX_COLS " FROM (SELECT 0 AS src, seq AS k, " OUTBOX_COLS
                     " FROM outbox WHERE next_at_ms <= ?2 UNION ALL "
                     "SELECT 1, rowid, " MSG_OB_COLS " FROM msg WHERE ob_next_at <= ?2) "
                     "ORDER BY src, k LIMIT ?3",
    [S_OB_RESCHED] = "UPDATE outbox SET attempts = ?2, next_at_ms = ?3 WHERE msg_id = ?1",
    [S_MSG_OB_RESCHED] = "UPDATE msg SET ob_attempts = ?2, ob_next_at = ?3 WHERE msg_id = ?1 "
                         "AND ob_next_at IS NOT NULL",
    [S_OB_WAKE] = "UPDATE outbox SET next_at_ms = 0 WHERE contact_id = ?1 AND next_at_ms > 0",
    [S_MSG_OB_WAKE] = "UPDATE msg SET ob_next_at = 0 WHERE contact_id = ?1 AND ob_next_at > 0",
    [S_OB_REMOVE] = "DELETE FROM outbox WHERE msg_id = ?1",
    [S_MSG_OB_REMOVE] = "UPDATE msg SET ob_attempts = 0, ob_next_at = NULL, ob_frame = NULL, "
                        "ob_ack = NULL WHERE msg_id = ?1 AND ob_next_at IS NOT NULL",
    [S_OB_NEXT] = "SELECT min(x) FROM (SELECT min(next_at_ms) AS x FROM outbox UNION ALL "
                  "SELECT min(ob_next_at) FROM msg WHERE ob_next_at IS NOT NULL)",
    [S_OB_ACK] = "SELECT ack FROM outbox WHERE msg_id = ?1 UNION ALL "
                 "SELECT ob_ack FROM msg WHERE msg_id = ?1 AND ob_next_at IS NOT NULL",
    [S_RULES_SET] = "UPDATE contact SET rules = ?2 WHERE id = ?1",
    [S_RULES_GET] = "SELECT rules FROM contact WHERE id = ?1",
    [S_TOLD_SET] = "UPDATE contact SET told = ?2 WHERE id = ?1",
    [S_TOLD_GET] = "SELECT told FROM contact WHERE id = ?1",
    /* A digest released together counts once (DOMAIN.md §3 rate limit). */
    /* The newest first, each walking its index backwards and stopping at the limit
     * (store_msg_visible_since merges them): a compound SELECT read the whole window. */
    [S_MSG_VISIBLE] = "SELECT visible_at FROM msg INDEXED BY msg_visible_plain WHERE outgoing = 0 "
                      "AND visible_at >= ?2 AND "
                      "(?1 = 0 OR contact_id = ?1) AND digest = 0 ORDER BY visible_at DESC "
                      "LIMIT ?3",
    /* Digests: the newest release time below ?4, one seek per distinct time (the texts of one
     * digest share it; a DISTINCT walked every one of them to find the next time). */
    [S_MSG_VISIBLE_DIGEST] = "SELECT visible_at FROM msg INDEXED BY msg_digest WHERE "
                             "outgoing = 0 AND visible_at >= ?2 AND visible_at < ?4 AND "
                             "(?1 = 0 OR contact_id = ?1) AND digest = 1 "
                             "ORDER BY visible_at DESC LIMIT 1",
    [S_MSG_HELD] = "SELECT " MSG_COLS " FROM msg WHERE outgoing = 0 AND state = 4 AND "
                   "(?1 = 0 OR contact_id = ?1) ORDER BY contact_id, lamport, sender_seq, msg_id",
    [S_MSG_NEXT_RELEASE] = "SELECT min(release_at) FROM msg WHERE outgoing = 0 AND state = 4",
    [S_MSG_RELEASE] = "UPDATE msg SET state = ?2, reason = ?3, release_at = ?4, visible_at = ?5, "
                      "digest = ?6 WHERE msg_id = ?1",
    [S_MSG_DELIVERED] = "UPDATE msg SET state = 2, tell = ?2, tell_at = ?3 WHERE msg_id = ?1",
    [S_MSG_ACKED] = "UPDATE msg SET state = 2, tell = ?2, tell_at = ?3, ob_attempts = 0, "
                    "ob_next_at = NULL, ob_frame = NULL, ob_ack = NULL WHERE msg_id = ?1 AND "
                    "ob_next_at IS NOT NULL",
    [S_MSG_TELL] = "UPDATE msg SET tell = ?2, tell_at = ?3 WHERE msg_id = ?1",
    /* a TEXTS frame's other texts: ids ?1 < id < ?2 share the first one's 15 bytes */
    [S_MSG_TEXTS_FOLLOW] = "UPDATE msg SET state = ?3, tell = CASE WHEN ?3 = 2 THEN ?5 ELSE tell "
                           "END, tell_at = CASE WHEN ?3 = 2 THEN ?6 ELSE tell_at END WHERE "
                           "msg_id > ?1 AND msg_id < ?2 AND +outgoing = 1 AND +state < ?4",
    /* comparisons, not IN lists: an IN list costs each statement an ephemeral table */
    [S_MSG_TEXT_TOLD] = "UPDATE msg SET state = 2, tell = ?2, tell_at = ?3 WHERE msg_id = ?1 "
                        "AND +contact_id = ?4 AND +outgoing = 1 AND +state <= 2",
    /* circles (store_circle.c, store_relay.c) */
    [S_CIRCLE_ADD] = "INSERT INTO circle(id, circle_id, name_idx, state, created_at, name, ops, "
                     "own_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
    [S_CIRCLE_BY_NAME] = "SELECT " CIRCLE_COLS " FROM circle WHERE name_idx = ?1",
    [S_CIRCLE_BY_CID] = "SELECT " CIRCLE_COLS " FROM circle WHERE circle_id = ?1",
    [S_CIRCLE_ALL] = "SELECT " CIRCLE_COLS " FROM circle",
    [S_CIRCLE_STATE] = "UPDATE circle SET state = ?2 WHERE id = ?1",
    [S_CIRCLE_RENAME] = "UPDATE circle SET name_idx = ?2, name = ?3 WHERE id = ?1",
    [S_CIRCLE_OPS_GET] = "SELECT ops FROM circle WHERE id = ?1",
    [S_CIRCLE_OPS_SET] = "UPDATE circle SET ops = ?2 WHERE id = ?1",
    [S_CIRCLE_KEY_GET] = "SELECT own_key FROM circle WHERE id = ?1",
    [S_CIRCLE_KEY_SET] = "UPDATE circle SET own_key = ?2 WHERE id = ?1",
    [S_CHAIN_PUT] = "INSERT INTO circle_key(circle, epoch, sender_idx, gen, created_at, state) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(circle, epoch, sender_idx, gen) "
                    "DO UPDATE SET created_at = excluded.created_at, state = excluded.state",
    [S_CHAIN_GET] = "SELECT state FROM circle_key WHERE " CKEY_WHERE " AND gen = ?4",
    [S_CHAIN_PURGE] = "DELETE FROM circle_key WHERE circle = ?1 AND (epoch < ?2 OR "
                      "created_at < ?3)",
    [S_CMSG_ADD] = "INSERT INTO cmsg(" CMSG_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                   "?10, ?11)",
    [S_CMSG_GET] = "SELECT " CMSG_COLS " FROM cmsg WHERE msg_id = ?1",
    [S_CMSG_LOG] = "SELECT " CMSG_COLS " FROM (SELECT " CMSG_COLS " FROM cmsg WHERE circle = ?1 "
                   "AND lamport < ?2 ORDER BY lamport DESC, msg_id DESC LIMIT ?3) "
                   "ORDER BY lamport, msg_id",
    [S_CMSG_STATE] = "UPDATE cmsg SET state = ?2 WHERE msg_id = ?1",
    [S_CMSG_DELIVERED] = "UPDATE cmsg SET state = 2 WHERE circle = ?1 AND outgoing = 1 AND "
                         "epoch = ?2 AND seq <= ?3 AND state < 2",
    [S_INV_CIRCLE_SET] = "UPDATE invite SET circle_id = ?2 WHERE invite_id = ?1",
    [S_INV_CIRCLE_GET] = "SELECT circle_id FROM invite WHERE invite_id = ?1",
    [S_CFRAME_ADD] = "INSERT INTO circle_frame(circle, epoch, sender_idx, seq, msg_id, verified, "
                     "expires_at, frame) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_CFRAME_HAS] = "SELECT 1 FROM circle_frame WHERE " CKEY_WHERE " AND seq = ?4",
    [S_CFRAME_VERIFIED] = "UPDATE circle_frame SET verified = 1 WHERE msg_id = ?1",
    [S_CFRAME_DELETE] = "DELETE FROM circle_frame WHERE msg_id = ?1 AND verified = 0",
    [S_CFRAME_RANGE] =
        "SELECT seq, msg_id, verified, expires_at, frame FROM circle_frame WHERE " CKEY_WHERE
        " AND seq > ?4 AND NOT (?5 = 1 AND verified = 0) AND "
        "NOT (?6 = 0 AND verified = 1) ORDER BY seq LIMIT ?7",
    /* Seqs of one (epoch, sender) are distinct and >= 1, so seq - rank never decreases and
     * the rows with seq = rank are exactly 1..hwm: one ordered pass, no self-join. */
    [S_CFRAME_HWMS] = "SELECT epoch, sender_idx, sum(seq = rn) FROM (SELECT epoch, sender_idx, "
                      "seq, row_number() OVER (PARTITION BY epoch, sender_idx ORDER BY seq) AS rn "
                      "FROM circle_frame WHERE circle = ?1 AND epoch >= ?2) "
                      "GROUP BY epoch, sender_idx",
    [S_CFRAME_EXPIRE] = "DELETE FROM circle_frame WHERE expires_at <= ?1",
    [S_CHAVE_SET] = "INSERT INTO circle_have(circle, member_idx, epoch, sender_idx, hwm) "
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(circle, member_idx, epoch, "
                    "sender_idx) DO UPDATE SET hwm = max(hwm, excluded.hwm)",
    [S_CHAVE_GET] = "SELECT hwm FROM circle_have WHERE circle = ?1 AND member_idx = ?2 AND "
                    "epoch = ?3 AND sender_idx = ?4",
    [S_RELAY_ADD] = "INSERT INTO relay(msg_id, route_idx, expires_at, created_at, frame) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_RELAY_FOR] = "SELECT msg_id, expires_at, frame FROM relay WHERE route_idx = ?1 "
                    "ORDER BY seq LIMIT ?2",
    [S_RELAY_COUNT] = "SELECT count(*) FROM relay WHERE route_idx = ?1",
    [S_RELAY_REMOVE] = "DELETE FROM relay WHERE msg_id = ?1",
    [S_RELAY_EXPIRE] = "DELETE FROM relay WHERE expires_at <= ?1",
};

/* Migration i takes the schema from version i to i + 1 (constant SQL only). */
static const char *const store_migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE kdf(id INTEGER PRIMARY KEY CHECK (id = 1), alg INTEGER NOT NULL,"
    " ops INTEGER NOT NULL, mem INTEGER NOT NULL, salt BLOB NOT NULL, wrapped BLOB NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE counter(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO counter(name, value) VALUES ('lamport', 0);"
    "CREATE TABLE identity(id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL,"
    " name BLOB NOT NULL);"
    "CREATE TABLE setting(key_idx BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE contact(id INTEGER PRIMARY KEY, name_idx BLOB NOT NULL UNIQUE,"
    " member_idx BLOB NOT NULL UNIQUE, state INTEGER NOT NULL, verified INTEGER NOT NULL,"
    " trust INTEGER NOT NULL, created_at INTEGER NOT NULL, name BLOB NOT NULL,"
    " pub BLOB NOT NULL, endpoints BLOB NOT NULL, rules BLOB, told BLOB);"
    "CREATE TABLE invite(invite_id INTEGER PRIMARY KEY, state INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, keys BLOB NOT NULL);"
    "CREATE TABLE session(contact_id INTEGER PRIMARY KEY REFERENCES contact(id)"
    " ON DELETE CASCADE, state BLOB NOT NULL);"
    "CREATE TABLE seen_ek(ek_idx BLOB PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE seen(msg_id BLOB PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE conv(contact_id INTEGER PRIMARY KEY REFERENCES contact(id) ON DELETE CASCADE,"
    " last_seq INTEGER NOT NULL, last_msg_id BLOB NOT NULL);"
    "CREATE TABLE msg(msg_id BLOB NOT NULL UNIQUE, contact_id INTEGER NOT NULL"
    " REFERENCES contact(id) ON DELETE CASCADE, outgoing INTEGER NOT NULL,"
    " lamport INTEGER NOT NULL, sender_seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL, release_at INTEGER NOT NULL, flags INTEGER NOT NULL,"
    " body BLOB NOT NULL, visible_at INTEGER NOT NULL DEFAULT 0,"
    " reason INTEGER NOT NULL DEFAULT 0, digest INTEGER NOT NULL DEFAULT 0,"
    " tell INTEGER NOT NULL DEFAULT 0, tell_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX msg_log ON msg(contact_id, lamport, outgoing, sender_seq, msg_id);"
    "CREATE INDEX msg_state ON msg(state, outgoing);"
    "CREATE INDEX msg_visible ON msg(outgoing, visible_at);"
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY, msg_id BLOB NOT NULL UNIQUE,"
    " contact_id INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,"
    " attempts INTEGER NOT NULL, next_at_ms INTEGER NOT NULL, frame BLOB NOT NULL);"
    "CREATE INDEX outbox_due ON outbox(next_at_ms);"
    "CREATE INDEX outbox_contact ON outbox(contact_id, next_at_ms);"
    "CREATE TABLE repair(repair_id BLOB PRIMARY KEY, contact_id INTEGER NOT NULL"
    " REFERENCES contact(id) ON DELETE CASCADE, open INTEGER NOT NULL,"
    " deadline INTEGER NOT NULL, updated INTEGER NOT NULL, state BLOB, agreement BLOB)"
    " WITHOUT ROWID;"
    "CREATE INDEX repair_contact ON repair(contact_id, open, updated);"
    "CREATE INDEX repair_due ON repair(open, deadline);",
    /* 2: circles (core/store_circle.c). circle_id, epochs, sequence numbers and msg ids are
     * random or counters and stay clear; names, op logs, keys, frames and bodies are sealed;
     * members and senders appear only as keyed hashes (sender_idx, member_idx, route_idx). */
    "CREATE TABLE circle(id INTEGER PRIMARY KEY, circle_id BLOB NOT NULL UNIQUE,"
    " name_idx BLOB NOT NULL UNIQUE, state INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " name BLOB NOT NULL, ops BLOB NOT NULL, own_key BLOB);"
    "CREATE TABLE circle_key(circle INTEGER NOT NULL REFERENCES circle(id) ON DELETE CASCADE,"
    " epoch INTEGER NOT NULL, sender_idx BLOB NOT NULL, gen INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, state BLOB NOT NULL,"
    " PRIMARY KEY(circle, epoch, sender_idx, gen)) WITHOUT ROWID;"
    "CREATE TABLE circle_frame(circle INTEGER NOT NULL REFERENCES circle(id) ON DELETE CASCADE,"
    " epoch INTEGER NOT NULL, sender_idx BLOB NOT NULL, seq INTEGER NOT NULL,"
    " msg_id BLOB NOT NULL UNIQUE, verified INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " frame BLOB NOT NULL, PRIMARY KEY(circle, epoch, sender_idx, seq)) WITHOUT ROWID;"
    "CREATE INDEX circle_frame_expiry ON circle_frame(expires_at);"
    "CREATE TABLE circle_have(circle INTEGER NOT NULL REFERENCES circle(id) ON DELETE CASCADE,"
    " member_idx BLOB NOT NULL, epoch INTEGER NOT NULL, sender_idx BLOB NOT NULL,"
    " hwm INTEGER NOT NULL, PRIMARY KEY(circle, member_idx, epoch, sender_idx)) WITHOUT ROWID;"
    "CREATE TABLE cmsg(msg_id BLOB NOT NULL UNIQUE, circle INTEGER NOT NULL"
    " REFERENCES circle(id) ON DELETE CASCADE, outgoing INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL, seq INTEGER NOT NULL, lamport INTEGER NOT NULL,"
    " ts_ms INTEGER NOT NULL, kind INTEGER NOT NULL, state INTEGER NOT NULL,"
    " body BLOB NOT NULL, recv_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX cmsg_log ON cmsg(circle, lamport, msg_id);"
    "CREATE INDEX cmsg_mine ON cmsg(circle, outgoing, epoch, seq);"
    "CREATE TABLE relay(seq INTEGER PRIMARY KEY, msg_id BLOB NOT NULL UNIQUE,"
    " route_idx BLOB NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " frame BLOB NOT NULL);"
    "CREATE INDEX relay_route ON relay(route_idx, seq);"
    "CREATE INDEX relay_expiry ON relay(expires_at);"
    "ALTER TABLE invite ADD COLUMN circle_id BLOB;",
    /* 3: disappearing messages and moving addresses (core/store_retention.c). delete_at (unix
     * seconds, 0 = kept) and the retention in force stay clear, as timestamps do; the
     * agreement state (proposals) is sealed. endpoint_seq: the last endpoint record applied. */
    "ALTER TABLE msg ADD COLUMN delete_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX msg_delete ON msg(delete_at) WHERE delete_at > 0;"
    "CREATE TABLE contact_pref(contact_id INTEGER PRIMARY KEY REFERENCES contact(id)"
    " ON DELETE CASCADE, retention_s INTEGER NOT NULL DEFAULT 0,"
    " endpoint_seq INTEGER NOT NULL DEFAULT 0, retention BLOB);",
    /* 4: the next release among held messages (S_MSG_NEXT_RELEASE, every loop pass) without
     * a scan of every held row; partial, so rows that are not held cost nothing. */
    "CREATE INDEX msg_release ON msg(state, outgoing, release_at) WHERE state = 4;",
    /* 5: the acknowledgement key of each waiting message (sealed), so that a FRAME_ACK
     * confirms it without a ratchet turn (proto/PROTOCOL.md §7.1). NULL in older rows. */
    "ALTER TABLE outbox ADD COLUMN ack BLOB;",
    /* 6: fewer index pages per message. Pending (queued or sent) outgoing messages and
     * visible incoming ones are indexed alone: a received message no longer writes a state
     * index page, a sent one no longer writes a visibility page. */
    "DROP INDEX msg_state;"
    "CREATE INDEX msg_pending ON msg(outgoing) WHERE state IN (0, 1);"
    "DROP INDEX msg_visible;"
    "CREATE INDEX msg_visible_in ON msg(visible_at) WHERE outgoing = 0;",
    /* 7: a history message waits for its acknowledgement in its own row: the sealed frame
     * (sealed as an outbox "frame" value, so rows move over as they are), attempts, next try
     * and acknowledgement key; ob_next_at is NULL once it is acknowledged or expired. One
     * insert and the msg b-trees per message instead of a second row and outbox's four
     * b-trees; outbox keeps the frames without a history row. */
    "ALTER TABLE msg ADD COLUMN ob_attempts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE msg ADD COLUMN ob_next_at INTEGER;"
    "ALTER TABLE msg ADD COLUMN ob_frame BLOB;"
    "ALTER TABLE msg ADD COLUMN ob_ack BLOB;"
    "UPDATE msg SET (ob_attempts, ob_next_at, ob_frame, ob_ack) = (SELECT attempts, next_at_ms,"
    " frame, ack FROM outbox WHERE outbox.msg_id = msg.msg_id)"
    " WHERE msg_id IN (SELECT msg_id FROM outbox);"
    "DELETE FROM outbox WHERE msg_id IN (SELECT msg_id FROM msg);"
    "CREATE INDEX msg_outbox ON msg(ob_next_at) WHERE ob_next_at IS NOT NULL;"
    /* digests apart (few rows): the rate limit's newest digest times without walking every
     * visible message in its window */
    "CREATE INDEX msg_digest ON msg(visible_at) WHERE outgoing = 0 AND digest = 1;",
    /* 8: the rate limit's newest visible times without stepping over digests: they sat at the
     * top of msg_visible_in (their release time is the latest), so each judged message walked
     * every digest held from that contact. Digests keep msg_digest only. */
    "DROP INDEX msg_visible_in;"
    "CREATE INDEX msg_visible_plain ON msg(visible_at)"
    " WHERE outgoing = 0 AND digest = 0;",
};

/* A store's connection is used by one thread at a time (kith starts no threads; libzmq's
 * never touch the store): no per-connection mutex around every SQLite call. */
#define STORE_OPEN_FLAGS (SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX)

/* ---- small helpers ---- */

void
store_be32(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

uint32_t
store_get_be32(const uint8_t in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

void
store_be64(uint8_t out[8], int64_t v)
{
    store_be32(out, (uint32_t)((uint64_t)v >> 32));
    store_be32(out + 4, (uint32_t)v);
}

int
store_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return KITH_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return KITH_ENOTFOUND;
        }
        return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? KITH_EEXISTS
                                                                                    : KITH_ESTORE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return KITH_EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_MISMATCH:
    case SQLITE_SCHEMA:
        return KITH_ECORRUPT;
    case SQLITE_NOMEM:
        return KITH_ENOMEM;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_FULL:
        return KITH_ESYS;
    default:
        return KITH_ESTORE;
    }
}

/* A cached statement, reset and ready to bind. */
sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt id)
{
    sqlite3_stmt *s = st->stmt[id];

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

int
store_stmt_lazy(struct store *st, enum store_lazy id, const char *sql, sqlite3_stmt **s)
{
    int rc;

    *s = NULL;
    if (st->lazy[id] == NULL) {
        rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->lazy[id], NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st->lazy[id]);
            st->lazy[id] = NULL;
            return store_rc(rc) == KITH_OK ? KITH_ESTORE : store_rc(rc);
        }
    }
    sqlite3_reset(st->lazy[id]);
    sqlite3_clear_bindings(st->lazy[id]);
    *s = st->lazy[id];
    return KITH_OK;
}

/* Release a statement's row and bindings (bound buffers may be freed next). */
void
store_done(sqlite3_stmt *s)
{
    if (s != NULL) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

/* Step a statement that returns no rows; KITH_OK or a mapped error. */
int
store_exec_stmt(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        rc = sqlite3_reset(s);
    }
    store_done(s);
    return rc == SQLITE_DONE ? KITH_OK : store_rc(rc);
}

/* Step expecting one row: KITH_OK (row ready), KITH_ENOTFOUND or an error. */
int
store_step_row(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        return KITH_OK;
    }
    if (rc == SQLITE_DONE) {
        return KITH_ENOTFOUND;
    }
    return store_rc(sqlite3_reset(s));
}

int
store_changed(struct store *st, int rc)
{
    if (rc == KITH_OK && sqlite3_changes(st->db) == 0) {
        return KITH_ENOTFOUND;
    }
    return rc;
}

int
store_exec_counted(struct store *st, enum store_stmt id, int64_t arg, size_t *changed)
{
    sqlite3_stmt *s = store_stmt(st, id);
    int rc;

    *changed = 0;
    sqlite3_bind_int64(s, 1, arg);
    rc = store_exec_stmt(s);
    if (rc == KITH_OK) {
        *changed = (size_t)sqlite3_changes(st->db);
    }
    return rc;
}

bool
store_col_int(sqlite3_stmt *s, int col, int64_t min, int64_t max, int64_t *out)
{
    int64_t v;

    if (sqlite3_column_type(s, col) != SQLITE_INTEGER) {
        return false;
    }
    v = sqlite3_column_int64(s, col);
    if (v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool
store_col_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t len)
{
    const void *p;

    if (sqlite3_column_type(s, col) != SQLITE_BLOB || (size_t)sqlite3_column_bytes(s, col) != len) {
        return false;
    }
    p = sqlite3_column_blob(s, col);
    if (p == NULL) {
        return false;
    }
    memcpy(out, p, len);
    return true;
}

static void
store_casefold(char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
}

/* out = HMAC(idx_key, tag || value) */
void
store_index(const struct store *st, enum store_idx tag, const uint8_t *value, size_t len,
            uint8_t out[32])
{
    crypto_auth_hmacsha256_state h;
    uint8_t t = (uint8_t)tag;

    crypto_auth_hmacsha256_init(&h, st->keys->idx, sizeof st->keys->idx);
    crypto_auth_hmacsha256_update(&h, &t, 1);
    crypto_auth_hmacsha256_update(&h, value, len);
    crypto_auth_hmacsha256_final(&h, out);
    sodium_memzero(&h, sizeof h);
}

void
store_name_index(const struct store *st, const char *name, size_t len, uint8_t out[32])
{
    char folded[KITH_NAME_MAX];

    store_casefold(folded, name, len);
    store_index(st, STORE_IDX_NAME, (const uint8_t *)folded, len, out);
    sodium_memzero(folded, sizeof folded);
}

/* ---- sealing ---- */

/* AD = "kith-v1/db" || u8 len || table || u8 len || column || u8 len || row key || u32be ver */
static size_t
store_ad(uint8_t ad[128], enum store_table t, const char *column, const uint8_t *rowkey,
         size_t rowkey_len)
{
    static const char prefix[] = "kith-v1/db";
    const char *table = store_table_name[t];
    size_t tl = strlen(table);
    size_t cl = strlen(column);
    size_t n = 0;

    if (tl > 20 || cl > 20 || rowkey_len > 32) {
        KITH_BUG("store_ad: label or row key too long");
    }
    memcpy(ad, prefix, sizeof prefix - 1);
    n += sizeof prefix - 1;
    ad[n++] = (uint8_t)tl;
    memcpy(ad + n, table, tl);
    n += tl;
    ad[n++] = (uint8_t)cl;
    memcpy(ad + n, column, cl);
    n += cl;
    ad[n++] = (uint8_t)rowkey_len;
    memcpy(ad + n, rowkey, rowkey_len);
    n += rowkey_len;
    store_be32(ad + n, STORE_SEAL_VERSION);
    return n + 4;
}

/* nonce || AEAD(subkey(t), pt, AD); malloc'd, *out_len set. */
uint8_t *
store_seal(const struct store *st, enum store_table t, const char *column, const uint8_t *rowkey,
           size_t rowkey_len, const uint8_t *pt, size_t pt_len, size_t *out_len)
{
    uint8_t ad[128];
    size_t ad_len = store_ad(ad, t, column, rowkey, rowkey_len);
    uint8_t *out = xmalloc(pt_len + KCRYPT_OVERHEAD);

    kcrypt_seal(out, pt, pt_len, ad, ad_len, st->keys->sub[t]);
    *out_len = pt_len + KCRYPT_OVERHEAD;
    return out;
}

/* Open column col of the current row into a malloc'd buffer (one spare byte
 * for a NUL). Type, length bound and AEAD are checked: KITH_ECORRUPT. */
int
store_unseal(const struct store *st, enum store_table t, const char *column, const uint8_t *rowkey,
             size_t rowkey_len, sqlite3_stmt *s, int col, size_t max_pt, uint8_t **pt,
             size_t *pt_len)
{
    uint8_t ad[128];
    size_t ad_len;
    const uint8_t *blob;
    size_t len;
    uint8_t *buf;

    *pt = NULL;
    *pt_len = 0;
    if (sqlite3_column_type(s, col) != SQLITE_BLOB) {
        return KITH_ECORRUPT;
    }
    len = (size_t)sqlite3_column_bytes(s, col);
    blob = sqlite3_column_blob(s, col);
    if (blob == NULL || len < KCRYPT_OVERHEAD || len - KCRYPT_OVERHEAD > max_pt) {
        return KITH_ECORRUPT;
    }
    ad_len = store_ad(ad, t, column, rowkey, rowkey_len);
    buf = xmalloc(len - KCRYPT_OVERHEAD + 1);
    if (kcrypt_open(buf, blob, len, ad, ad_len, st->keys->sub[t]) != KITH_OK) {
        free(buf);
        return KITH_ECORRUPT;
    }
    buf[len - KCRYPT_OVERHEAD] = 0;
    *pt = buf;
    *pt_len = len - KCRYPT_OVERHEAD;
    return KITH_OK;
}

void
store_wipe_free(uint8_t *p, size_t len)
{
    if (p != NULL) {
        sodium_memzero(p, len);
        free(p);
    }
}

/* u32be len || value || zeros, to a multiple of STORE_PAD_BLOCK. */
static uint8_t *
store_pad(const void *value, size_t len, size_t *out_len)
{
    size_t total = (4 + len + STORE_PAD_BLOCK - 1) / STORE_PAD_BLOCK * STORE_PAD_BLOCK;
    uint8_t *out = xcalloc(1, total);

    store_be32(out, (uint32_t)len);
    if (len > 0) {
        memcpy(out + 4, value, len);
    }
    *out_len = total;
    return out;
}

/* Seal a padded value. */
uint8_t *
store_seal_padded(const struct store *st, enum store_table t, const char *column,
                  const uint8_t *rowkey, size_t rowkey_len, const void *value, size_t len,
                  size_t *out_len)
{
    size_t padded_len;
    uint8_t *padded = store_pad(value, len, &padded_len);
    uint8_t *out = store_seal(st, t, column, rowkey, rowkey_len, padded, padded_len, out_len);

    store_wipe_free(padded, padded_len);
    return out;
}

/* Open a padded value in place: *value points into *pt (length *len, NUL after it). */
int
store_unseal_padded(const struct store *st, enum store_table t, const char *column,
                    const uint8_t *rowkey, size_t rowkey_len, sqlite3_stmt *s, int col,
                    size_t max_len, uint8_t **pt, size_t *pt_len, size_t *len)
{
    size_t max_pt = (4 + max_len + STORE_PAD_BLOCK - 1) / STORE_PAD_BLOCK * STORE_PAD_BLOCK;
    uint32_t n;
    int rc;

    *len = 0;
    rc = store_unseal(st, t, column, rowkey, rowkey_len, s, col, max_pt, pt, pt_len);
    if (rc != KITH_OK) {
        return rc;
    }
    if (*pt_len < 4 || *pt_len % STORE_PAD_BLOCK != 0) {
        goto bad;
    }
    n = store_get_be32(*pt);
    if (n > max_len || n > *pt_len - 4) {
        goto bad;
    }
    memmove(*pt, *pt + 4, n);
    memset(*pt + n, 0, *pt_len - n); /* NUL-terminates: the buffer has a spare byte */
    *len = n;
    return KITH_OK;
bad:
    store_wipe_free(*pt, *pt_len);
    *pt = NULL;
    *pt_len = 0;
    return KITH_ECORRUPT;
}

/* ---- keys ---- */

static int
store_kdf_check(unsigned long long ops, size_t mem)
{
#ifdef KITH_FUZZING
    if (ops > crypto_pwhash_OPSLIMIT_MIN || mem > 8 * crypto_pwhash_MEMLIMIT_MIN) {
        return KITH_ECORRUPT; /* keep every fuzz iteration cheap */
    }
#endif
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > STORE_KDF_OPS_MAX ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > STORE_KDF_MEM_MAX) {
        return KITH_EINVAL;
    }
    return KITH_OK;
}

static int
store_kek(uint8_t kek[KCRYPT_KEY], const char *pass, size_t pass_len,
          const uint8_t salt[STORE_SALT], unsigned long long ops, size_t mem)
{
    if (crypto_pwhash(kek, KCRYPT_KEY, pass == NULL ? "" : pass, pass_len, salt, ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(kek, KCRYPT_KEY);
        return KITH_ENOMEM;
    }
    return KITH_OK;
}

static struct store_keys *
store_keys_alloc(void)
{
    struct store_keys *k = sodium_malloc(sizeof *k);

    if (k == NULL) {
        KITH_BUG("store: sodium_malloc failed");
    }
    sodium_memzero(k, sizeof *k);
    return k;
}

static void
store_keys_free(struct store_keys *k)
{
    if (k != NULL) {
        sodium_memzero(k, sizeof *k);
        sodium_free(k);
    }
}

static void
store_keys_derive(struct store_keys *k)
{
    for (int t = STORE_T_IDENTITY; t < STORE_T_COUNT; t++) {
        crypto_kdf_derive_from_key(k->sub[t], KCRYPT_KEY, (uint64_t)t, "kithstor", k->dek);
    }
    crypto_kdf_derive_from_key(k->idx, sizeof k->idx, 1, "kithidx_", k->dek);
}

/* Wrap the DEK under a fresh salt and write the kdf row (UPDATE or INSERT). */
static int
store_write_kdf(sqlite3 *db, sqlite3_stmt *s, const struct store_keys *k, const char *pass,
                size_t pass_len, const struct store_kdf *kdf)
{
    uint8_t salt[STORE_SALT];
    uint8_t kek[KCRYPT_KEY];
    uint8_t wrapped[STORE_WRAPPED];
    int rc;

    randombytes_buf(salt, sizeof salt);
    rc = store_kek(kek, pass, pass_len, salt, kdf->ops, kdf->mem);
    if (rc != KITH_OK) {
        goto out;
    }
    kcrypt_seal(wrapped, k->dek, STORE_DEK, (const uint8_t *)STORE_DEK_AD, sizeof STORE_DEK_AD - 1,
                kek);
    sqlite3_bind_int(s, 1, crypto_pwhash_ALG_ARGON2ID13);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)kdf->ops);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)kdf->mem);
    sqlite3_bind_blob(s, 4, salt, sizeof salt, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, wrapped, sizeof wrapped, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
    rc = store_exec_stmt(s);
    if (rc == KITH_OK && sqlite3_changes(db) != 1) {
        rc = KITH_ECORRUPT;
    }
out:
    sodium_memzero(kek, sizeof kek);
    return rc;
}

/* ---- open/create ---- */

static int
store_exec(sqlite3 *db, const char *sql)
{
    return store_rc(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* Connection settings; none of them writes to the file. */
static int
store_configure(sqlite3 *db)
{
    int on = 0;
    int rc;

    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on) != SQLITE_OK || on != 1) {
        return KITH_ESTORE;
    }
    /* EXCLUSIVE before the first read: the WAL index lives in this process's memory, not in
     * a shared -shm file, and the file lock is taken once and held until close. Otherwise
     * every transaction and every statement outside one takes and drops POSIX locks on the
     * -shm file: 4 fcntl calls per commit and 2 per lone SELECT, ~25 per message on a
     * receiver. One engine per profile holds the database anyway (the profile lock). */
    /* synchronous: FULL, or NORMAL where store_vfs syncs each durable commit (store_vfs.c). */
    rc = store_exec(db, "PRAGMA locking_mode = EXCLUSIVE;");
    if (rc == KITH_OK) {
        rc = store_exec(db, store_vfs_name() != NULL ? "PRAGMA synchronous = NORMAL;"
                                                     : "PRAGMA synchronous = FULL;");
    }
    if (rc != KITH_OK) {
        return rc; /* KITH_EBUSY: another connection holds it */
    }
    return store_exec(db, "PRAGMA foreign_keys = ON;"
                          "PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;"
                          "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;"
                          "PRAGMA cache_size = -16384;");
}

static int
store_pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = store_rc(sqlite3_prepare_v2(db, sql, -1, &s, NULL));

    if (rc == KITH_OK) {
        rc = store_step_row(s);
    }
    if (rc == KITH_OK && sqlite3_column_type(s, 0) != SQLITE_INTEGER) {
        rc = KITH_ECORRUPT;
    }
    if (rc == KITH_OK) {
        *out = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return rc;
}

static int
store_prepare_all(struct store *st)
{
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            return KITH_ECORRUPT; /* the schema is not the one we wrote */
        }
    }
    return KITH_OK;
}

static void
store_free(struct store *st)
{
    if (st == NULL) {
        return;
    }
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    for (int i = 0; i < S_LAZY_COUNT; i++) {
        sqlite3_finalize(st->lazy[i]);
    }
    sqlite3_close_v2(st->db);
    store_keys_free(st->keys);
    free(st);
}

static int store_migrate_open(sqlite3 *db, int64_t from);

/* Run migrations from version `from` to STORE_SCHEMA_VERSION in one transaction. */
static int
store_migrate(sqlite3 *db, int64_t from)
{
    int rc = store_migrate_open(db, from);

    if (rc == KITH_OK && from < STORE_SCHEMA_VERSION) {
        rc = store_exec(db, "COMMIT");
        if (rc != KITH_OK) {
            (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    return rc;
}

/* The migrations from `from`, inside a transaction left open on success (nothing to do:
 * KITH_OK, no transaction), so the caller can check the result before it is committed. */
static int
store_migrate_open(sqlite3 *db, int64_t from)
{
    char sql[64];
    int rc;

    if (from >= STORE_SCHEMA_VERSION) {
        return KITH_OK;
    }
    rc = store_exec(db, "BEGIN IMMEDIATE");
    if (rc != KITH_OK) {
        return rc;
    }
    for (int64_t v = from; v < STORE_SCHEMA_VERSION && rc == KITH_OK; v++) {
        rc = store_exec(db, store_migrations[v]);
    }
    if (rc == KITH_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
        rc = store_exec(db, sql);
    }
    if (rc != KITH_OK) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static void
store_path_suffix(char *out, size_t cap, const char *path, const char *suffix)
{
    snprintf(out, cap, "%s%s", path, suffix);
}

/* Make path an empty 0600 file we may fill: KITH_OK (created says whether we made it). */
static int
store_claim_file(const char *path, bool *created)
{
    struct stat sb;
    int fd;

    *created = false;
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        *created = true;
    } else if (errno == EEXIST) {
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) {
        return KITH_ESYS;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return *created ? KITH_ESYS : KITH_EEXISTS;
    }
    if (sb.st_size != 0) {
        close(fd);
        return KITH_EEXISTS;
    }
    if (fchmod(fd, 0600) != 0) {
        close(fd);
        return KITH_ESYS;
    }
    close(fd);
    return KITH_OK;
}

static void
store_unclaim_file(const char *path, bool created)
{
    char aux[4096];

    if (created) {
        (void)unlink(path);
    } else {
        if (truncate(path, 0) != 0) {
            /* best effort: the file was empty when we found it */
        }
    }
    store_path_suffix(aux, sizeof aux, path, "-wal");
    (void)unlink(aux);
    store_path_suffix(aux, sizeof aux, path, "-shm");
    (void)unlink(aux);
}

static int
store_create_schema(struct store *st, const char *pass, size_t pass_len,
                    const struct store_kdf *kdf)
{
    sqlite3_stmt *s = NULL;
    char sql[64];
    int rc;

    /* SQLite's 4 KiB pages. 8 KiB pages were measured (tests/bench/README.md, 2026-12-06):
     * a commit writes every page it dirtied whole, and a one-message commit dirties about as
     * many pages (one per b-tree it touches) whatever their size, so latency rose ~25 %
     * and a burst gained nothing. */
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APPLICATION_ID);
    rc = store_exec(st->db, sql); /* written before WAL: it sits in the main file's header */
    if (rc == KITH_OK) {
        rc = store_exec(st->db, "PRAGMA journal_mode = WAL"); /* persistent */
    }
    if (rc == KITH_OK) {
        rc = store_migrate(st->db, 0);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    randombytes_buf(st->keys->dek, STORE_DEK);
    rc = store_rc(sqlite3_prepare_v2(st->db,
                                     "INSERT INTO kdf(id, alg, ops, mem, salt, wrapped, created) "
                                     "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                                     -1, &s, NULL));
    if (rc == KITH_OK) {
        rc = store_write_kdf(st->db, s, st->keys, pass, pass_len, kdf);
    }
    sqlite3_finalize(s);
    return rc;
}

int
store_create(const char *path, const char *pass, size_t pass_len, const struct store_kdf *kdf,
             struct store **out)
{
    struct store *st = NULL;
    bool created = false;
    int64_t mode = 0;
    int rc;

    *out = NULL;
    if (path == NULL || strlen(path) > 4000 || (pass == NULL && pass_len != 0) || kdf == NULL ||
        store_kdf_check(kdf->ops, kdf->mem) != KITH_OK) {
        return KITH_EINVAL;
    }
    rc = store_claim_file(path, &created);
    if (rc != KITH_OK) {
        return rc;
    }
    st = xcalloc(1, sizeof *st);
    st->keys = store_keys_alloc();
    rc = store_rc(sqlite3_open_v2(path, &st->db, STORE_OPEN_FLAGS, store_vfs_name()));
    st->vfs_sync = store_vfs_name() != NULL;
    if (rc == KITH_OK) {
        rc = store_configure(st->db);
    }
    if (rc == KITH_OK) {
        rc = store_create_schema(st, pass, pass_len, kdf);
    }
    if (rc == KITH_OK) {
        rc = store_pragma_int(st->db, "PRAGMA user_version", &mode);
    }
    if (rc == KITH_OK && mode != STORE_SCHEMA_VERSION) {
        rc = KITH_ESTORE;
    }
    if (rc == KITH_OK) {
        store_keys_derive(st->keys);
        rc = store_prepare_all(st);
    }
    if (rc != KITH_OK) {
        store_free(st);
        store_unclaim_file(path, created);
        return rc == KITH_EEXISTS ? KITH_ESTORE : rc;
    }
    *out = st;
    return KITH_OK;
}

/* Look at the first 100 bytes ourselves: SQLite, WAL mode, kith's application id. */
static int
store_check_header(const char *path)
{
    uint8_t h[STORE_HEADER];
    struct stat sb;
    ssize_t got;
    int fd;

    if (stat(path, &sb) != 0) {
        return errno == ENOENT ? KITH_ENOTFOUND : KITH_ESYS;
    }
    if (!S_ISREG(sb.st_mode)) {
        return KITH_ENOTKITH;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return KITH_ESYS;
    }
    got = read(fd, h, sizeof h);
    close(fd);
    if (got != (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0 || h[18] != 2 ||
        h[19] != 2 || store_get_be32(h + 68) != STORE_APPLICATION_ID) {
        return KITH_ENOTKITH;
    }
    return KITH_OK;
}

/* Read and check the kdf row, then unwrap the DEK into k->dek. No writes. */
static int
store_unlock(sqlite3 *db, const char *pass, size_t pass_len, struct store_keys *k)
{
    sqlite3_stmt *s = NULL;
    uint8_t salt[STORE_SALT];
    uint8_t wrapped[STORE_WRAPPED];
    uint8_t kek[KCRYPT_KEY];
    int64_t alg, ops, mem;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT alg, ops, mem, salt, wrapped FROM kdf WHERE id = 1", -1, &s,
                           NULL) != SQLITE_OK) {
        rc = KITH_ENOTKITH; /* no kdf table */
        goto out;
    }
    rc = store_step_row(s);
    if (rc == KITH_ENOTFOUND) {
        rc = KITH_ENOTKITH;
    }
    if (rc != KITH_OK) {
        goto out;
    }
    if (!store_col_int(s, 0, crypto_pwhash_ALG_ARGON2ID13, crypto_pwhash_ALG_ARGON2ID13, &alg) ||
        !store_col_int(s, 1, 0, INT64_MAX, &ops) || !store_col_int(s, 2, 0, INT64_MAX, &mem) ||
        !store_col_blob(s, 3, salt, sizeof salt) ||
        !store_col_blob(s, 4, wrapped, sizeof wrapped) || (uint64_t)mem > SIZE_MAX ||
        store_kdf_check((unsigned long long)ops, (size_t)mem) != KITH_OK) {
        rc = KITH_ECORRUPT;
        goto out;
    }
    rc = store_kek(kek, pass, pass_len, salt, (unsigned long long)ops, (size_t)mem);
    if (rc != KITH_OK) {
        goto out;
    }
    if (kcrypt_open(k->dek, wrapped, sizeof wrapped, (const uint8_t *)STORE_DEK_AD,
                    sizeof STORE_DEK_AD - 1, kek) != KITH_OK) {
        rc = KITH_EPASSPHRASE; /* a wrong passphrase and a damaged row look the same */
    }
out:
    sqlite3_finalize(s);
    sodium_memzero(kek, sizeof kek);
    return rc;
}

int
store_check_passphrase(struct store *st, const char *pass, size_t pass_len)
{
    struct store_keys *k;
    int rc;

    if (st == NULL || (pass == NULL && pass_len != 0)) {
        return KITH_EINVAL;
    }
    k = store_keys_alloc();
    rc = store_unlock(st->db, pass, pass_len, k);
    if (rc == KITH_OK && sodium_memcmp(k->dek, st->keys->dek, sizeof k->dek) != 0) {
        rc = KITH_EPASSPHRASE; /* another key record than the one this store was opened with */
    }
    store_keys_free(k);
    return rc;
}

/* Everything store_open checks before the first write. */
static int
store_open_checks(struct store *st, const char *pass, size_t pass_len, bool was_unclean,
                  bool *migrating)
{
    sqlite3_stmt *s = NULL;
    int64_t app_id = 0;
    int64_t version = 0;
    int rc;

    rc = store_pragma_int(st->db, "PRAGMA application_id", &app_id);
    if (rc == KITH_OK && app_id != STORE_APPLICATION_ID) {
        rc = KITH_ENOTKITH;
    }
    if (rc == KITH_OK) {
        rc = store_pragma_int(st->db, "PRAGMA user_version", &version);
    }
    if (rc == KITH_OK && version <= 0) {
        rc = KITH_ENOTKITH;
    } else if (rc == KITH_OK && version > STORE_SCHEMA_VERSION) {
        rc = KITH_ECORRUPT; /* written by a newer kith: leave it alone */
    }
    if (rc == KITH_OK) {
        rc = store_rc(sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL));
    }
    if (rc == KITH_OK) {
        rc = store_step_row(s);
    }
    if (rc == KITH_OK && (sqlite3_column_text(s, 0) == NULL ||
                          strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0)) {
        rc = KITH_ENOTKITH;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc == KITH_OK) {
        rc = store_unlock(st->db, pass, pass_len, st->keys);
    }
    if (rc == KITH_OK && was_unclean) {
        rc = store_rc(sqlite3_prepare_v2(st->db, "PRAGMA quick_check", -1, &s, NULL));
        if (rc == KITH_OK) {
            rc = store_step_row(s);
        }
        if (rc == KITH_OK && (sqlite3_column_text(s, 0) == NULL ||
                              strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)) {
            rc = KITH_ECORRUPT;
        }
        sqlite3_finalize(s);
    }
    if (rc == KITH_OK) {
        /* Left uncommitted: store_open commits only once every statement prepares against the
         * new schema, so a file it refuses is left exactly as it was. */
        rc = store_migrate_open(st->db, version);
        *migrating = rc == KITH_OK && version < STORE_SCHEMA_VERSION;
    }
    if (rc == KITH_ENOTFOUND) {
        rc = KITH_ENOTKITH;
    }
    return rc;
}

int
store_open(const char *path, const char *pass, size_t pass_len, struct store **out)
{
    char wal[4096];
    struct stat sb = { 0 };
    struct store *st = NULL;
    bool wal_existed;
    bool migrating = false;
    int rc;

    *out = NULL;
    if (path == NULL || strlen(path) > 4000 || (pass == NULL && pass_len != 0)) {
        return KITH_EINVAL;
    }
    rc = store_check_header(path);
    if (rc != KITH_OK) {
        return rc;
    }
    store_path_suffix(wal, sizeof wal, path, "-wal");
    wal_existed = stat(wal, &sb) == 0;
    st = xcalloc(1, sizeof *st);
    st->keys = store_keys_alloc();
    rc = store_rc(sqlite3_open_v2(path, &st->db, STORE_OPEN_FLAGS, store_vfs_name()));
    st->vfs_sync = store_vfs_name() != NULL;
    if (rc == KITH_OK && wal_existed) {
        /* Until the DEK unwraps, closing must not fold an existing WAL into the file. */
        rc = sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) == SQLITE_OK
                 ? KITH_OK
                 : KITH_ESTORE;
    }
    if (rc == KITH_OK) {
        rc = store_configure(st->db);
    }
    if (rc == KITH_OK) {
        rc = store_open_checks(st, pass, pass_len, wal_existed && sb.st_size > 0, &migrating);
    }
    if (rc == KITH_OK && wal_existed &&
        sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL) != SQLITE_OK) {
        rc = KITH_ESTORE;
    }
    if (rc == KITH_OK) {
        store_keys_derive(st->keys);
        rc = store_prepare_all(st);
    }
    if (migrating) {
        if (rc == KITH_OK) {
            rc = store_exec(st->db, "COMMIT");
        }
        if (rc != KITH_OK) {
            (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (rc != KITH_OK) {
        store_free(st);
        return rc;
    }
    *out = st;
    return KITH_OK;
}

void
store_close(struct store *st)
{
    if (st == NULL) {
        return;
    }
    if (st->db != NULL && !sqlite3_get_autocommit(st->db)) {
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (st->db != NULL && st->lamport_ok && st->lamport_hi > st->lamport_now) {
        /* Give back the rest of the block: every time handed out is at most lamport_now. */
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(st->db,
                               "UPDATE counter SET value = ?1 WHERE name = 'lamport' AND value = ?2",
                               -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(s, 1, (sqlite3_int64)st->lamport_now);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)st->lamport_hi);
            (void)sqlite3_step(s);
        }
        sqlite3_finalize(s);
    }
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
        st->stmt[i] = NULL;
    }
    if (st->db != NULL) {
        (void)sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    store_free(st);
}

/* ---- transactions ---- */

/* synchronous can change only between transactions. */
static int
store_set_relaxed(struct store *st, bool relaxed)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (st->vfs_sync) { /* the log's own flag: nothing to recompile */
        st->relaxed = relaxed;
        return store_vfs_wal_durable(st->db, !relaxed) == SQLITE_OK ? KITH_OK : KITH_ESTORE;
    }
    if (st->relaxed == relaxed) {
        return KITH_OK;
    }
    rc = relaxed ? store_stmt_lazy(st, S_LAZY_SYNC_NORMAL, "PRAGMA synchronous=NORMAL", &s)
                 : store_stmt_lazy(st, S_LAZY_SYNC_FULL, "PRAGMA synchronous=FULL", &s);
    if (rc == KITH_OK) {
        rc = store_exec_stmt(s);
    }
    if (rc != KITH_OK) {
        return KITH_ESTORE;
    }
    st->relaxed = relaxed;
    return KITH_OK;
}

int
store_begin(struct store *st)
{
    int rc;

    if (!sqlite3_get_autocommit(st->db)) {
        return KITH_ESTATE;
    }
    rc = store_set_relaxed(st, false);
    return rc != KITH_OK ? rc : store_exec_stmt(store_stmt(st, S_BEGIN));
}

int
store_begin_relaxed(struct store *st)
{
    int rc;

    if (!sqlite3_get_autocommit(st->db)) {
        return KITH_ESTATE;
    }
    rc = store_set_relaxed(st, true);
    return rc != KITH_OK ? rc : store_exec_stmt(store_stmt(st, S_BEGIN));
}

int
store_sync(struct store *st)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (st->vfs_sync) { /* every relaxed commit is in the log: sync it */
        if (!sqlite3_get_autocommit(st->db)) {
            return KITH_ESTATE;
        }
        return store_vfs_wal_sync(st->db) == SQLITE_OK ? KITH_OK : KITH_ESYS;
    }
    rc = store_begin(st);
    if (rc != KITH_OK) {
        return rc;
    }
    /* One page written under synchronous=FULL: its commit fsyncs the WAL, and with
     * it every earlier relaxed commit. */
    rc = store_stmt_lazy(st, S_LAZY_SYNC_MARK,
                         "INSERT INTO counter(name, value) VALUES('sync', 1) "
                         "ON CONFLICT(name) DO UPDATE SET value = value + 1",
                         &s);
    if (rc == KITH_OK) {
        rc = store_exec_stmt(s);
    }
    if (rc != KITH_OK) {
        store_rollback(st);
        return KITH_ESTORE;
    }
    return store_commit(st);
}

int
store_commit(struct store *st)
{
    int rc;

    if (sqlite3_get_autocommit(st->db)) {
        return KITH_ESTATE;
    }
    rc = store_exec_stmt(store_stmt(st, S_COMMIT)); /* durable: the log synced as it wrote */
    if (st->vfs_sync && st->relaxed && sqlite3_get_autocommit(st->db)) {
        KITH_IGNORE(store_set_relaxed(st, false)); /* writes outside a transaction: durable */
    }
    return rc;
}

void
store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        (void)store_exec_stmt(store_stmt(st, S_ROLLBACK));
    }
    if (st->vfs_sync && st->relaxed) {
        KITH_IGNORE(store_set_relaxed(st, false));
    }
    st->lamport_ok = false; /* a block written in it is gone with it */
}

/* An internal savepoint around multi-statement operations (nests inside store_begin). */
int
store_op_begin(struct store *st)
{
    return store_exec_stmt(store_stmt(st, S_SP_BEGIN));
}

int
store_op_end(struct store *st, int rc)
{
    if (rc != KITH_OK) {
        (void)store_exec_stmt(store_stmt(st, S_SP_ROLLBACK));
        st->lamport_ok = false;
    }
    int rc2 = store_exec_stmt(store_stmt(st, S_SP_RELEASE));
    return rc != KITH_OK ? rc : rc2;
}

int
store_rekey(struct store *st, const char *pass, size_t pass_len, const struct store_kdf *kdf)
{
    int rc;

    if ((pass == NULL && pass_len != 0) || kdf == NULL ||
        store_kdf_check(kdf->ops, kdf->mem) != KITH_OK) {
        return KITH_EINVAL;
    }
    rc = store_op_begin(st);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_write_kdf(st->db, store_stmt(st, S_KDF_UPDATE), st->keys, pass, pass_len, kdf);
    return store_op_end(st, rc);
}
