/*
 * wrap: UTF-8, display widths and line breaking for the views (see wrap.h).
 * Everything works on byte offsets into the caller's text, never allocates,
 * and treats malformed bytes as one replacement character each, so hostile
 * text can neither crash the layout nor reach the terminal raw.
 */
#include "tui/wrap.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

size_t
wrap_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0];
    uint32_t min;
    size_t need;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        *cp = WRAP_REPLACEMENT;
        return 1;
    }
    if (len < need) {
        *cp = WRAP_REPLACEMENT;
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = WRAP_REPLACEMENT;
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = WRAP_REPLACEMENT;
        return 1;
    }
    *cp = c;
    return need;
}

size_t
wrap_encode(uint32_t cp, char out[4])
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        cp = WRAP_REPLACEMENT;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int
wrap_cp_width(uint32_t cp)
{
    int w = wcwidth((wchar_t)cp);

    if (w < 0) {
        return 1; /* controls: wrap_sanitize replaces them with one column */
    }
    return w > 2 ? 2 : w;
}

size_t
wrap_width(const char *s, size_t len)
{
    size_t cols = 0;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        i += wrap_decode(s + i, len - i, &cp);
        cols += (size_t)wrap_cp_width(cp);
    }
    return cols;
}

size_t
wrap_fit(const char *s, size_t len, size_t width)
{
    size_t cols = 0;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t step = wrap_decode(s + i, len - i, &cp);
        size_t w = (size_t)wrap_cp_width(cp);

        if (cols + w > width) {
            break;
        }
        cols += w;
        i += step;
    }
    return i;
}

static bool
wrap_is_unsafe(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
        return true;
    }
    /* bidi embeddings, overrides and isolates can make text lie about its order */
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t
wrap_sanitize(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    size_t i = 0;

    while (i < len) {
        char enc[4];
        uint32_t cp;
        size_t n;

        i += wrap_decode(in + i, len - i, &cp);
        if (cp == '\t') {
            cp = ' ';
        } else if (cp != '\n' && wrap_is_unsafe(cp)) {
            cp = WRAP_REPLACEMENT;
        }
        n = wrap_encode(cp, enc);
        if (o + n + 1 > cap) {
            break;
        }
        memcpy(out + o, enc, n);
        o += n;
    }
    if (cap > 0) {
        out[o] = '\0';
    }
    return o;
}

/* Emit one line if there is room; always count it. */
static void
wrap_emit(struct wrap_line *lines, size_t max, size_t *count, size_t off, size_t end)
{
    if (*count < max) {
        lines[*count].off = off;
        lines[*count].len = end - off;
    }
    (*count)++;
}

size_t
wrap_lines(const char *text, size_t len, size_t width, struct wrap_line *lines, size_t max)
{
    size_t count = 0;
    size_t start = 0;
    size_t col = 0;
    size_t space_at = 0;
    bool has_space = false;
    size_t p = 0;

    if (width == 0) {
        width = 1;
    }
    while (p < len) {
        uint32_t cp;
        size_t step = wrap_decode(text + p, len - p, &cp);
        size_t w = (size_t)wrap_cp_width(cp);

        if (cp == '\n') {
            wrap_emit(lines, max, &count, start, p);
            start = p + step;
            col = 0;
            has_space = false;
        } else if (cp == ' ' && col + 1 > width) {
            wrap_emit(lines, max, &count, start, p); /* the space goes with the break */
            start = p + step;
            col = 0;
            has_space = false;
        } else if (cp == ' ') {
            space_at = p;
            has_space = true;
            col += 1;
        } else {
            if (col + w > width && col > 0) {
                if (has_space) {
                    wrap_emit(lines, max, &count, start, space_at);
                    start = space_at + 1;
                    col = wrap_width(text + start, p - start);
                    has_space = false;
                }
                if (col + w > width && col > 0) {
                    wrap_emit(lines, max, &count, start, p); /* a word wider than a line */
                    start = p;
                    col = 0;
                }
            }
            col += w;
        }
        p += step;
    }
    wrap_emit(lines, max, &count, start, len);
    return count;
}

void
wrap_clock(int64_t ts_ms, char out[6])
{
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL) {
        snprintf(out, 6, "--:--");
        return;
    }
    out[0] = (char)('0' + (tm.tm_hour / 10) % 10);
    out[1] = (char)('0' + tm.tm_hour % 10);
    out[2] = ':';
    out[3] = (char)('0' + (tm.tm_min / 10) % 10);
    out[4] = (char)('0' + tm.tm_min % 10);
    out[5] = '\0';
}

void
wrap_boundary_note(const char *from, const char *state, const char *told, int64_t arrives_at_s,
                   bool is_digest, char *out, size_t cap)
{
    char hhmm[6];

    wrap_clock(arrives_at_s * 1000, hhmm);
    if (state == NULL) {
        return;
    }
    if (from != NULL && strcmp(state, "folded") == 0) {
        snprintf(out, cap, "Folded \u2014 mentions something on your list. /show opens it");
    } else if (from != NULL && strcmp(state, "awaiting_consent") == 0) {
        snprintf(out, cap,
                 "%s would like to share something heavy. Do you have space right now? "
                 "/consent yes \u00b7 later \u00b7 no",
                 from);
    } else if (from != NULL && strcmp(state, "held") == 0 && is_digest && arrives_at_s == 0) {
        /* a digest keeps its own wording; the release time is in the state note already */
        snprintf(out + strlen(out), cap > strlen(out) ? cap - strlen(out) : 0, " (a bundle)");
    } else if (from == NULL && told != NULL && strcmp(told, "held_until") == 0 &&
               arrives_at_s > 0) {
        snprintf(out, cap, "%s \u00b7 they asked for some quiet \u2014 it arrives %s", state, hhmm);
    } else if (from == NULL && told != NULL && strcmp(told, "digest_at") == 0 && arrives_at_s > 0) {
        snprintf(out, cap, "%s \u00b7 they asked for a slower pace \u2014 in a bundle around %s",
                 state, hhmm);
    } else if (from == NULL && told != NULL && strcmp(told, "awaiting_consent") == 0) {
        snprintf(out, cap, "%s \u00b7 waiting until they have space", state);
    } else if (from == NULL && told != NULL && strcmp(told, "consent_later") == 0 &&
               arrives_at_s > 0) {
        snprintf(out, cap, "%s \u00b7 they will look at %s", state, hhmm);
    } else if (from == NULL && told != NULL && strcmp(told, "no_space") == 0) {
        snprintf(out, cap,
                 "%s \u00b7 they can't take this on right now \u2014 it might help to reach "
                 "out to someone else too",
                 state);
    }
}

void
wrap_state_note(const char *state, int64_t release_at_s, char *out, size_t cap)
{
    static const struct {
        const char *state;
        const char *note;
    } notes[] = {
        { "awaiting_consent", "waiting for your yes" },
    };

    if (state == NULL) {
        snprintf(out, cap, "%s", "");
        return;
    }
    if (strcmp(state, "held") == 0) {
        char hhmm[6];
        if (release_at_s <= 0) {
            snprintf(out, cap, "held");
            return;
        }
        wrap_clock(release_at_s * 1000, hhmm);
        snprintf(out, cap, "held until %s", hhmm);
        return;
    }
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        if (strcmp(state, notes[i].state) == 0) {
            snprintf(out, cap, "%s", notes[i].note);
            return;
        }
    }
    snprintf(out, cap, "%s", state); /* queued, sent, delivered, received, folded, expired */
}
