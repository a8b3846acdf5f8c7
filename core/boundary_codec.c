/*
 * boundary_codec: a rule set as the compact versioned bytes the store seals. Strict: only the
 * canonical encoding parses (kinds in order, bools 0/1, unused fields zero), so decode then
 * encode gives the same bytes; a refused input leaves the caller's set unchanged.
 */
#include <string.h>

#include <sodium.h>

#include "core/boundary_impl.h"

struct writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
};

static void
put(struct writer *w, const void *bytes, size_t n)
{
    if (w->len <= w->cap && n <= w->cap - w->len) {
        memcpy(w->buf + w->len, bytes, n);
    }
    w->len += n; /* keep counting so the caller learns it didn't fit */
}

static void
put_uint(struct writer *w, uint64_t v, size_t n)
{
    uint8_t le[8];
    for (size_t i = 0; i < n; i++) {
        le[i] = (uint8_t)(v >> (8 * i));
    }
    put(w, le, n);
}

static void
put_head(struct writer *w, enum boundary_kind kind, const struct boundary_meta *meta)
{
    put_uint(w, (uint64_t)kind, 1);
    put_uint(w, meta->tell ? BOUNDARY_TELL_FLAG : 0, 1);
    put_uint(w, (uint64_t)meta->until, 8);
}

static void
put_words(struct writer *w, const struct boundary_words *words, bool told_only)
{
    put_uint(w, told_only ? 0 : words->count, 1);
    for (int i = 0; !told_only && i < words->count; i++) {
        size_t len = strlen(words->word[i]);
        put_uint(w, len, 1);
        put(w, words->word[i], len);
    }
}

static bool
told(const struct boundary_meta *meta, bool told_only)
{
    return meta->is_set && (!told_only || meta->tell);
}

int
boundary_rules_encode(const struct boundary_rules *r, bool told_only, uint8_t *buf, size_t cap,
                      size_t *len)
{
    struct writer w = { buf, cap, 0 };

    *len = 0;
    put_uint(&w, BOUNDARY_VERSION, 1);
    if (!told_only && r->block.is_set) {
        put_head(&w, BOUNDARY_KIND_BLOCK, &r->block);
    }
    if (!told_only && r->mute.is_set) {
        put_head(&w, BOUNDARY_KIND_MUTE, &r->mute);
    }
    if (told(&r->snooze, told_only)) {
        put_head(&w, BOUNDARY_KIND_SNOOZE, &r->snooze);
    }
    for (int i = 0; i < r->quiet_count; i++) {
        const struct boundary_quiet *q = &r->quiet[i];
        if (told(&q->meta, told_only)) {
            put_head(&w, BOUNDARY_KIND_QUIET, &q->meta);
            put_uint(&w, q->start_min, 2);
            put_uint(&w, q->end_min, 2);
            put_uint(&w, q->days, 1);
            put_uint(&w, strlen(q->tz), 1);
            put(&w, q->tz, strlen(q->tz));
        }
    }
    if (told(&r->rate, told_only)) {
        put_head(&w, BOUNDARY_KIND_RATE, &r->rate);
        put_uint(&w, r->rate_mode, 1);
        put_uint(&w, r->rate_is_scope_all, 1);
        put_uint(&w, r->rate_count, 4);
        put_uint(&w, r->rate_window_s, 4);
    }
    if (told(&r->heavy, told_only)) {
        put_head(&w, BOUNDARY_KIND_HEAVY, &r->heavy);
        put_uint(&w, r->heavy_is_off, 1);
        put_uint(&w, r->consent_window_s, 4);
        put_words(&w, &r->heavy_words, told_only);
    }
    if (!told_only && r->notes.is_set) {
        put_head(&w, BOUNDARY_KIND_NOTES, &r->notes);
        put_uint(&w, r->notes_expand_cw, 1);
        put_words(&w, &r->note_words, false);
    }
    if (!told_only && r->trust.is_set) {
        put_head(&w, BOUNDARY_KIND_TRUST, &r->trust);
        put_uint(&w, r->trust_level, 1);
    }
    if (told(&r->breakthrough, told_only)) {
        put_head(&w, BOUNDARY_KIND_BREAKTHROUGH, &r->breakthrough);
        put_uint(&w, r->breakthrough_per_day, 1);
    }
    if (w.len > cap) {
        return KITH_ETOOBIG;
    }
    *len = w.len;
    return KITH_OK;
}

struct reader {
    const uint8_t *p;
    size_t left;
    bool ok;
};

static uint64_t
get_uint(struct reader *rd, size_t n)
{
    uint64_t v = 0;
    if (!rd->ok || rd->left < n) {
        rd->ok = false;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)rd->p[i] << (8 * i);
    }
    rd->p += n;
    rd->left -= n;
    return v;
}

static bool
get_bool(struct reader *rd, bool *out)
{
    uint64_t v = get_uint(rd, 1);
    *out = v == 1;
    return rd->ok && v <= 1;
}

static bool
get_words(struct reader *rd, struct boundary_words *w)
{
    uint64_t count = get_uint(rd, 1);
    if (!rd->ok || count > BOUNDARY_WORDS_MAX) {
        return false;
    }
    for (uint64_t i = 0; i < count; i++) {
        uint64_t len = get_uint(rd, 1);
        if (!rd->ok || len == 0 || len >= BOUNDARY_WORD_MAX || len > rd->left ||
            !boundary_word_ok((const char *)rd->p, len)) {
            return false;
        }
        char *word = w->word[w->count];
        memcpy(word, rd->p, len);
        rd->p += len;
        rd->left -= len;
        for (int k = 0; k < w->count; k++) {
            if (strcmp(w->word[k], word) == 0) {
                return false;
            }
        }
        w->count++;
    }
    return true;
}

static bool
get_quiet(struct reader *rd, struct boundary_quiet *q)
{
    q->start_min = (uint16_t)get_uint(rd, 2);
    q->end_min = (uint16_t)get_uint(rd, 2);
    q->days = (uint8_t)get_uint(rd, 1);
    uint64_t tz_len = get_uint(rd, 1);
    if (!rd->ok || q->start_min >= 1440 || q->end_min >= 1440 || q->start_min == q->end_min ||
        q->days == 0 || q->days > BOUNDARY_DAYS_ALL || tz_len > rd->left ||
        (tz_len > 0 && !boundary_tz_name_ok((const char *)rd->p, tz_len))) {
        return false;
    }
    memcpy(q->tz, rd->p, tz_len);
    rd->p += tz_len;
    rd->left -= tz_len;
    return true;
}

static bool
get_rate(struct reader *rd, struct boundary_rules *r)
{
    r->rate_mode = (uint8_t)get_uint(rd, 1);
    bool scope_ok = get_bool(rd, &r->rate_is_scope_all);
    r->rate_count = (uint32_t)get_uint(rd, 4);
    r->rate_window_s = (uint32_t)get_uint(rd, 4);
    if (!rd->ok || !scope_ok || r->rate_mode > BOUNDARY_RATE_HOLD) {
        return false;
    }
    if (r->rate_mode == BOUNDARY_RATE_OFF) {
        return !r->rate_is_scope_all && r->rate_count == 0 && r->rate_window_s == 0;
    }
    return r->rate_count >= 1 && r->rate_count <= BOUNDARY_RATE_COUNT_MAX &&
           r->rate_window_s >= 60 && r->rate_window_s <= BOUNDARY_DURATION_MAX;
}

static bool
get_heavy(struct reader *rd, struct boundary_rules *r)
{
    bool is_off_ok = get_bool(rd, &r->heavy_is_off);
    r->consent_window_s = (uint32_t)get_uint(rd, 4);
    if (!is_off_ok || !get_words(rd, &r->heavy_words)) {
        return false;
    }
    if (r->heavy_is_off) {
        return r->consent_window_s == 0 && r->heavy_words.count == 0;
    }
    return r->consent_window_s >= 60 && r->consent_window_s <= 86400;
}

/* One record; kinds come in increasing order, only quiet repeats. */
static bool
get_record(struct reader *rd, struct boundary_rules *r, int *last_kind)
{
    enum boundary_kind kind = (enum boundary_kind)get_uint(rd, 1);
    uint64_t flags = get_uint(rd, 1);
    uint64_t until = get_uint(rd, 8);
    struct boundary_meta meta = { true, (flags & BOUNDARY_TELL_FLAG) != 0, (int64_t)until };

    if (!rd->ok || kind < BOUNDARY_KIND_BLOCK || kind > BOUNDARY_KIND_LAST ||
        (int)kind < *last_kind || ((int)kind == *last_kind && kind != BOUNDARY_KIND_QUIET) ||
        (flags & ~(uint64_t)BOUNDARY_TELL_FLAG) != 0 ||
        (meta.tell && !boundary_kind_can_tell(kind)) || until > (uint64_t)BOUNDARY_TIME_MAX) {
        return false;
    }
    *last_kind = (int)kind;
    switch (kind) {
    case BOUNDARY_KIND_BLOCK:
        r->block = meta;
        return true;
    case BOUNDARY_KIND_MUTE:
        r->mute = meta;
        return true;
    case BOUNDARY_KIND_SNOOZE:
        r->snooze = meta;
        return meta.until != 0;
    case BOUNDARY_KIND_QUIET:
        if (r->quiet_count >= BOUNDARY_QUIET_MAX) {
            return false;
        }
        r->quiet[r->quiet_count].meta = meta;
        return get_quiet(rd, &r->quiet[r->quiet_count++]);
    case BOUNDARY_KIND_RATE:
        r->rate = meta;
        return get_rate(rd, r);
    case BOUNDARY_KIND_HEAVY:
        r->heavy = meta;
        return get_heavy(rd, r);
    case BOUNDARY_KIND_NOTES:
        r->notes = meta;
        return get_bool(rd, &r->notes_expand_cw) && get_words(rd, &r->note_words);
    case BOUNDARY_KIND_TRUST:
        r->trust = meta;
        r->trust_level = (uint8_t)get_uint(rd, 1);
        return rd->ok && r->trust_level <= 3;
    case BOUNDARY_KIND_BREAKTHROUGH:
        r->breakthrough = meta;
        r->breakthrough_per_day = (uint8_t)get_uint(rd, 1);
        return rd->ok && r->breakthrough_per_day <= BOUNDARY_BREAKTHROUGH_MAX;
    }
    return false;
}

int
boundary_rules_decode(struct boundary_rules *r, const uint8_t *buf, size_t len)
{
    struct boundary_rules next;
    struct reader rd = { buf, len, true };
    int last_kind = 0;
    int rc = KITH_EMALFORMED;

    memset(&next, 0, sizeof next);
    if (len > BOUNDARY_ENCODED_MAX || get_uint(&rd, 1) != BOUNDARY_VERSION || !rd.ok) {
        goto out;
    }
    while (rd.left > 0) {
        if (!get_record(&rd, &next, &last_kind)) {
            goto out;
        }
    }
    *r = next;
    rc = KITH_OK;
out:
    sodium_memzero(&next, sizeof next);
    return rc;
}
