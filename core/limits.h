/*
 * limits: every constant the protocol and the engine rely on, in one place
 * (PROTOCOL-NOTES.md §2.11).
 */
#ifndef KITH_CORE_LIMITS_H
#define KITH_CORE_LIMITS_H

#define KITH_MAXMSGSIZE 70000
#define KITH_BODY_MAX 65000
#define KITH_TEXT_MAX 16384
#define KITH_NAME_MAX 64          /* bytes of UTF-8 in a display name */
#define KITH_ENDPOINT_MAX 96      /* bytes of one endpoint string */
#define KITH_ENDPOINTS_MAX 4      /* endpoints carried in an invite or card */
#define KITH_MAX_SKIP 1000
#define KITH_MAX_SKIPPED_PER_SESSION 2000
#define KITH_INVITE_TTL_DEFAULT (48 * 3600)
#define KITH_INVITE_TTL_MAX (7 * 24 * 3600)
#define KITH_FRAME_EXPIRY (14 * 24 * 3600)
/* Ids of frames received are kept this long for duplicate detection (proto/PROTOCOL.md §7):
 * no honest copy of a frame arrives after its expiry, and the ratchet refuses a replay. */
#define KITH_SEEN_KEEP_S (KITH_FRAME_EXPIRY + 7 * 24 * 3600)
#define KITH_HANDSHAKE_IVL_MS 10000
#define KITH_HEARTBEAT_IVL_MS 10000
#define KITH_HEARTBEAT_TIMEOUT_MS 30000
#define KITH_HEARTBEAT_TTL_MS 60000
#define KITH_RECONNECT_IVL_MS 1000
#define KITH_RECONNECT_IVL_MAX_MS 60000
#define KITH_ACK_BATCH 256
#define KITH_GROUP_COMMIT 64
/* Messages of ours sealed and committed per transaction by engine_send_batch. */
#define KITH_SEND_CHUNK 256
/* Texts sealed together in one frame (an ENVELOPE_TEXTS): text i's msg_id ends in byte i. */
#define KITH_TEXTS_MAX 64
#define KITH_RETRY_MAX_S 512
/* A frame refused while its peer is connected (the send queue is full): tried again this soon.
 * Refused without a connection, it waits for the peer to come up (at most KITH_AWAY_WAIT_MS). */
#define KITH_BACKPRESSURE_MS 200
#define KITH_AWAY_WAIT_MS 30000

#endif
