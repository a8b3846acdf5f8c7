/*
 * sync: anti-entropy between circle members (PROTOCOL-NOTES.md §2.8), the
 * bookkeeping half. A sync_vec is what one member holds of one circle: for
 * each (epoch, sender) the highest seq held with every seq below it also held
 * (the high-water mark), plus the seqs held above it (a gap waits for a
 * frame in between). Two members compare vectors through SYNC_HAVE frames:
 * each serves the other what it lacks, and asks (by answering with its own
 * HAVE) when the other holds more. Pure: no I/O, no clock; the engine sends
 * the frames and reads the store.
 */
#ifndef KITH_NET_SYNC_H
#define KITH_NET_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "proto/circle.h"

#define SYNC_GAP_MAX 4096 /* seqs remembered above one high-water mark */

struct sync_vec; /* defined in sync.c */

/* Never NULL (allocation failure aborts). Destroy accepts NULL. */
struct sync_vec *sync_vec_create(void);
void sync_vec_destroy(struct sync_vec *v);

/* Raise the high-water mark of (epoch, sender) to at least hwm (loading from the store). */
void sync_vec_set_hwm(struct sync_vec *v, uint32_t epoch, const uint8_t sender[16], uint64_t hwm);
/* Record that seq of (epoch, sender) is held. true when it was not held before. Seqs further
 * than SYNC_GAP_MAX above the mark are not remembered (false): they come again later. */
bool sync_vec_add(struct sync_vec *v, uint32_t epoch, const uint8_t sender[16], uint64_t seq);
bool sync_vec_holds(const struct sync_vec *v, uint32_t epoch, const uint8_t sender[16],
                    uint64_t seq);
uint64_t sync_vec_hwm(const struct sync_vec *v, uint32_t epoch, const uint8_t sender[16]);
/* Forget everything of epochs below min_epoch (retention). */
void sync_vec_prune(struct sync_vec *v, uint32_t min_epoch);

/* Our HAVE: every (epoch >= min_epoch, sender) with a mark above 0, sorted, at most
 * SYNC_ENTRIES_MAX (the newest epochs win when there are more). */
void sync_vec_have(const struct sync_vec *v, uint32_t min_epoch, uint8_t flags,
                   struct sync_have *out);

/* What their HAVE means for us. serve: (epoch, sender, from) where we hold seq from (= their
 * mark + 1) and they do not, at most max entries; *they_have_more: they hold something
 * beyond our marks (we answer with our own HAVE so they serve us). Returns the count. */
struct sync_gap {
    uint32_t epoch;
    uint8_t sender[16];
    uint64_t from;
};
size_t sync_vec_diff(const struct sync_vec *v, const struct sync_have *theirs, uint32_t min_epoch,
                     struct sync_gap *serve, size_t max, bool *they_have_more);

#endif
