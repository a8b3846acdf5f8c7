/*
 * sync: the anti-entropy bookkeeping of one circle (see sync.h). A small
 * sorted array of (epoch, sender) entries; each holds its high-water mark and
 * a sorted list of the seqs held above it.
 */
#include "net/sync.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct sync_entry_state {
    uint32_t epoch;
    uint8_t sender[16];
    uint64_t hwm;
    uint64_t *above; /* sorted, all > hwm + 1 */
    size_t nabove;
    size_t cap;
};

struct sync_vec {
    struct sync_entry_state *e;
    size_t n;
    size_t cap;
};

struct sync_vec *
sync_vec_create(void)
{
    return xcalloc(1, sizeof(struct sync_vec));
}

void
sync_vec_destroy(struct sync_vec *v)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        free(v->e[i].above);
    }
    free(v->e);
    free(v);
}

static int
sync_key_cmp(uint32_t epoch_a, const uint8_t *sender_a, uint32_t epoch_b, const uint8_t *sender_b)
{
    if (epoch_a != epoch_b) {
        return epoch_a < epoch_b ? -1 : 1;
    }
    return memcmp(sender_a, sender_b, 16);
}

/* Index of the entry, or where it would go (*found false). */
static size_t
sync_find(const struct sync_vec *v, uint32_t epoch, const uint8_t sender[16], bool *found)
{
    size_t lo = 0;
    size_t hi = v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = sync_key_cmp(v->e[mid].epoch, v->e[mid].sender, epoch, sender);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

static struct sync_entry_state *
sync_get(struct sync_vec *v, uint32_t epoch, const uint8_t sender[16])
{
    bool found;
    size_t at = sync_find(v, epoch, sender, &found);

    if (found) {
        return &v->e[at];
    }
    if (v->n == v->cap) {
        v->cap = v->cap == 0 ? 16 : v->cap * 2;
        v->e = xrealloc(v->e, v->cap * sizeof *v->e);
    }
    memmove(&v->e[at + 1], &v->e[at], (v->n - at) * sizeof *v->e);
    memset(&v->e[at], 0, sizeof v->e[at]);
    v->e[at].epoch = epoch;
    memcpy(v->e[at].sender, sender, 16);
    v->n++;
    return &v->e[at];
}

static const struct sync_entry_state *
sync_peek(const struct sync_vec *v, uint32_t epoch, const uint8_t sender[16])
{
    bool found;
    size_t at = sync_find(v, epoch, sender, &found);

    return found ? &v->e[at] : NULL;
}

/* Pull seqs that became contiguous into the mark. */
static void
sync_settle(struct sync_entry_state *s)
{
    size_t used = 0;

    while (used < s->nabove && s->above[used] <= s->hwm + 1) {
        if (s->above[used] == s->hwm + 1) {
            s->hwm++;
        }
        used++;
    }
    if (used > 0) {
        memmove(s->above, s->above + used, (s->nabove - used) * sizeof *s->above);
        s->nabove -= used;
    }
}

void
sync_vec_set_hwm(struct sync_vec *v, uint32_t epoch, const uint8_t sender[16], uint64_t hwm)
{
    struct sync_entry_state *s = sync_get(v, epoch, sender);

    if (hwm > s->hwm) {
        s->hwm = hwm;
        sync_settle(s);
    }
}

bool
sync_vec_add(struct sync_vec *v, uint32_t epoch, const uint8_t sender[16], uint64_t seq)
{
    struct sync_entry_state *s;
    size_t at = 0;

    if (seq == 0) {
        return false;
    }
    s = sync_get(v, epoch, sender);
    if (seq <= s->hwm) {
        return false;
    }
    if (seq == s->hwm + 1) {
        s->hwm = seq;
        sync_settle(s);
        return true;
    }
    if (seq - s->hwm > SYNC_GAP_MAX) {
        return false;
    }
    while (at < s->nabove && s->above[at] < seq) {
        at++;
    }
    if (at < s->nabove && s->above[at] == seq) {
        return false;
    }
    if (s->nabove == s->cap) {
        s->cap = s->cap == 0 ? 8 : s->cap * 2;
        s->above = xrealloc(s->above, s->cap * sizeof *s->above);
    }
    memmove(&s->above[at + 1], &s->above[at], (s->nabove - at) * sizeof *s->above);
    s->above[at] = seq;
    s->nabove++;
    return true;
}

bool
sync_vec_holds(const struct sync_vec *v, uint32_t epoch, const uint8_t sender[16], uint64_t seq)
{
    const struct sync_entry_state *s = sync_peek(v, epoch, sender);

    if (s == NULL || seq == 0) {
        return false;
    }
    if (seq <= s->hwm) {
        return true;
    }
    for (size_t i = 0; i < s->nabove; i++) {
        if (s->above[i] == seq) {
            return true;
        }
    }
    return false;
}

uint64_t
sync_vec_hwm(const struct sync_vec *v, uint32_t epoch, const uint8_t sender[16])
{
    const struct sync_entry_state *s = sync_peek(v, epoch, sender);

    return s != NULL ? s->hwm : 0;
}

void
sync_vec_prune(struct sync_vec *v, uint32_t min_epoch)
{
    size_t keep = 0;

    for (size_t i = 0; i < v->n; i++) {
        if (v->e[i].epoch < min_epoch) {
            free(v->e[i].above);
        } else {
            v->e[keep++] = v->e[i];
        }
    }
    v->n = keep;
}

void
sync_vec_have(const struct sync_vec *v, uint32_t min_epoch, uint8_t flags, struct sync_have *out)
{
    size_t first = v->n;
    size_t count = 0;

    out->flags = flags;
    out->n = 0;
    /* The newest epochs win: walk back from the end, then emit in order. */
    for (size_t i = v->n; i-- > 0;) {
        if (v->e[i].epoch < min_epoch || count == SYNC_ENTRIES_MAX) {
            break;
        }
        if (v->e[i].hwm > 0) {
            count++;
        }
        first = i;
    }
    for (size_t i = first; i < v->n && out->n < SYNC_ENTRIES_MAX; i++) {
        if (v->e[i].hwm == 0 || v->e[i].epoch < min_epoch) {
            continue;
        }
        out->entries[out->n].epoch_no = v->e[i].epoch;
        memcpy(out->entries[out->n].sender, v->e[i].sender, 16);
        out->entries[out->n].hwm = v->e[i].hwm;
        out->n++;
    }
}

size_t
sync_vec_diff(const struct sync_vec *v, const struct sync_have *theirs, uint32_t min_epoch,
              struct sync_gap *serve, size_t max, bool *they_have_more)
{
    size_t n = 0;
    size_t j = 0;

    *they_have_more = false;
    /* Both lists are sorted by (epoch, sender): walk them together. */
    for (size_t i = 0; i < v->n; i++) {
        const struct sync_entry_state *s = &v->e[i];
        uint64_t their = 0;
        while (j < theirs->n && sync_key_cmp(theirs->entries[j].epoch_no,
                                             theirs->entries[j].sender, s->epoch, s->sender) < 0) {
            if (theirs->entries[j].epoch_no >= min_epoch && theirs->entries[j].hwm > 0) {
                *they_have_more = true; /* an entry we hold nothing of */
            }
            j++;
        }
        if (j < theirs->n &&
            sync_key_cmp(theirs->entries[j].epoch_no, theirs->entries[j].sender, s->epoch,
                         s->sender) == 0) {
            their = theirs->entries[j].hwm;
            if (their > s->hwm) {
                *they_have_more = true;
            }
            j++;
        }
        if (s->epoch < min_epoch) {
            continue;
        }
        if ((s->hwm > their || s->nabove > 0) && n < max) {
            bool holds_more = s->hwm > their;
            for (size_t k = 0; !holds_more && k < s->nabove; k++) {
                holds_more = s->above[k] > their;
            }
            if (holds_more) {
                serve[n].epoch = s->epoch;
                memcpy(serve[n].sender, s->sender, 16);
                serve[n].from = their + 1;
                n++;
            }
        }
    }
    for (; j < theirs->n; j++) {
        if (theirs->entries[j].epoch_no >= min_epoch && theirs->entries[j].hwm > 0) {
            *they_have_more = true;
        }
    }
    return n;
}
