/*
 * input: the line editor (see input.h). The buffer always holds valid UTF-8
 * without control characters: insertions are cleaned on the way in, so the
 * moves below can step by characters without re-checking.
 */
#include "tui/input.h"

#include <stdlib.h>
#include <string.h>

#include "tui/wrap.h"

struct input {
    char *buf; /* cap + 1 bytes, NUL-terminated */
    size_t len;
    size_t cap;
    size_t cursor;
    size_t view_first;
    bool is_secret;
    char *history[INPUT_HISTORY_MAX];
    size_t n_history;
    size_t history_at; /* == n_history: the live line */
    char *draft;       /* the live line while browsing history */
};

static void
input_free_string(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

struct input *
input_create(size_t cap, bool is_secret)
{
    struct input *in = xcalloc(1, sizeof *in);

    in->buf = xcalloc(cap + 1, 1);
    in->cap = cap;
    in->is_secret = is_secret;
    return in;
}

void
input_destroy(struct input *in)
{
    if (in == NULL) {
        return;
    }
    explicit_bzero(in->buf, in->cap + 1);
    free(in->buf);
    for (size_t i = 0; i < in->n_history; i++) {
        input_free_string(in->history[i]);
    }
    input_free_string(in->draft);
    free(in);
}

static bool
input_is_space(const struct input *in, size_t at)
{
    return in->buf[at] == ' ';
}

/* Start of the character after the one at p, with its zero-width marks. */
static size_t
input_next(const struct input *in, size_t p)
{
    uint32_t cp;

    if (p >= in->len) {
        return in->len;
    }
    p += wrap_decode(in->buf + p, in->len - p, &cp);
    while (p < in->len) {
        size_t step = wrap_decode(in->buf + p, in->len - p, &cp);
        if (wrap_cp_width(cp) != 0) {
            break;
        }
        p += step;
    }
    return p;
}

/* Start of the character before p, stepping over zero-width marks. */
static size_t
input_prev(const struct input *in, size_t p)
{
    for (;;) {
        uint32_t cp;

        if (p == 0) {
            return 0;
        }
        p--;
        while (p > 0 && ((unsigned char)in->buf[p] & 0xC0) == 0x80) {
            p--;
        }
        (void)wrap_decode(in->buf + p, in->len - p, &cp);
        if (wrap_cp_width(cp) != 0 || p == 0) {
            return p;
        }
    }
}

/* Clean utf8 into a fresh buffer: *out malloc'd, returns its length. */
static size_t
input_clean(const char *utf8, size_t len, char **out)
{
    char *clean = xmalloc(len * 3 + 1);
    size_t n = 0;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        i += wrap_decode(utf8 + i, len - i, &cp);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            continue;
        }
        n += wrap_encode(cp, clean + n);
    }
    clean[n] = '\0';
    *out = clean;
    return n;
}

int
input_insert(struct input *in, const char *utf8, size_t len)
{
    char *clean = NULL;
    size_t n = input_clean(utf8, len, &clean);
    int rc = KITH_OK;

    if (in->len + n > in->cap) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    if (in->view_first > in->cursor) {
        in->view_first = in->cursor;
    }
    memmove(in->buf + in->cursor + n, in->buf + in->cursor, in->len - in->cursor);
    memcpy(in->buf + in->cursor, clean, n);
    in->len += n;
    in->cursor += n;
    in->buf[in->len] = '\0';
out:
    explicit_bzero(clean, n);
    free(clean);
    return rc;
}

int
input_set(struct input *in, const char *utf8, size_t len, size_t cursor)
{
    char *clean = NULL;
    size_t n = input_clean(utf8, len, &clean);
    int rc = KITH_OK;

    if (n > in->cap) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    explicit_bzero(in->buf, in->cap + 1);
    memcpy(in->buf, clean, n);
    in->len = n;
    if (cursor > n) {
        cursor = n;
    }
    while (cursor > 0 && cursor < n && ((unsigned char)in->buf[cursor] & 0xC0) == 0x80) {
        cursor--;
    }
    in->cursor = cursor;
    in->view_first = 0;
out:
    explicit_bzero(clean, n);
    free(clean);
    return rc;
}

void
input_clear(struct input *in)
{
    explicit_bzero(in->buf, in->cap + 1);
    in->len = 0;
    in->cursor = 0;
    in->view_first = 0;
}

const char *
input_text(const struct input *in, size_t *len)
{
    if (len != NULL) {
        *len = in->len;
    }
    return in->buf;
}

size_t
input_cursor(const struct input *in)
{
    return in->cursor;
}

bool
input_is_empty(const struct input *in)
{
    return in->len == 0;
}

void
input_left(struct input *in)
{
    in->cursor = input_prev(in, in->cursor);
}

void
input_right(struct input *in)
{
    in->cursor = input_next(in, in->cursor);
}

static size_t
input_word_start(const struct input *in, size_t p)
{
    while (p > 0 && input_is_space(in, input_prev(in, p))) {
        p = input_prev(in, p);
    }
    while (p > 0 && !input_is_space(in, input_prev(in, p))) {
        p = input_prev(in, p);
    }
    return p;
}

void
input_word_left(struct input *in)
{
    in->cursor = input_word_start(in, in->cursor);
}

void
input_word_right(struct input *in)
{
    size_t p = in->cursor;

    while (p < in->len && input_is_space(in, p)) {
        p = input_next(in, p);
    }
    while (p < in->len && !input_is_space(in, p)) {
        p = input_next(in, p);
    }
    in->cursor = p;
}

void
input_home(struct input *in)
{
    in->cursor = 0;
}

void
input_end(struct input *in)
{
    in->cursor = in->len;
}

/* Remove bytes [from, to) and wipe the freed tail. */
static void
input_cut(struct input *in, size_t from, size_t to)
{
    size_t n = to - from;

    if (to <= from) {
        return;
    }
    memmove(in->buf + from, in->buf + to, in->len - to);
    explicit_bzero(in->buf + in->len - n, n);
    in->len -= n;
    in->buf[in->len] = '\0';
    if (in->view_first > from) {
        in->view_first = from;
    }
    if (in->cursor >= to) {
        in->cursor -= n;
    } else if (in->cursor > from) {
        in->cursor = from;
    }
}

void
input_backspace(struct input *in)
{
    input_cut(in, input_prev(in, in->cursor), in->cursor);
}

void
input_delete(struct input *in)
{
    input_cut(in, in->cursor, input_next(in, in->cursor));
}

void
input_kill_word(struct input *in)
{
    input_cut(in, input_word_start(in, in->cursor), in->cursor);
}

void
input_kill_to_start(struct input *in)
{
    input_cut(in, 0, in->cursor);
}

void
input_kill_to_end(struct input *in)
{
    input_cut(in, in->cursor, in->len);
}

static void
input_show(struct input *in, const char *text)
{
    if (input_set(in, text, strlen(text), strlen(text)) != KITH_OK) {
        input_clear(in); /* cannot happen: every stored line fitted once */
    }
}

void
input_commit(struct input *in)
{
    bool is_repeat = in->n_history > 0 && strcmp(in->history[in->n_history - 1], in->buf) == 0;

    if (!in->is_secret && in->len > 0 && !is_repeat) {
        if (in->n_history == INPUT_HISTORY_MAX) {
            input_free_string(in->history[0]);
            memmove(in->history, in->history + 1, (INPUT_HISTORY_MAX - 1) * sizeof in->history[0]);
            in->n_history--;
        }
        in->history[in->n_history++] = xstrdup(in->buf);
    }
    input_free_string(in->draft);
    in->draft = NULL;
    in->history_at = in->n_history;
    input_clear(in);
}

void
input_history_up(struct input *in)
{
    if (in->is_secret || in->history_at == 0) {
        return;
    }
    if (in->history_at == in->n_history) {
        input_free_string(in->draft);
        in->draft = xstrdup(in->buf);
    }
    in->history_at--;
    input_show(in, in->history[in->history_at]);
}

void
input_history_down(struct input *in)
{
    if (in->is_secret || in->history_at >= in->n_history) {
        return;
    }
    in->history_at++;
    if (in->history_at == in->n_history) {
        input_show(in, in->draft != NULL ? in->draft : "");
        input_free_string(in->draft);
        in->draft = NULL;
        return;
    }
    input_show(in, in->history[in->history_at]);
}

void
input_view(struct input *in, size_t width, size_t *first, size_t *cursor_col)
{
    size_t room = width > 1 ? width - 1 : 1; /* keep a column for the cursor at the end */
    size_t f = in->view_first;

    if (wrap_width(in->buf, in->cursor) <= room) {
        f = 0;
    } else {
        if (f > in->cursor || f > in->len) {
            f = in->cursor;
        }
        while (f < in->cursor && wrap_width(in->buf + f, in->cursor - f) > room) {
            f = input_next(in, f);
        }
    }
    in->view_first = f;
    *first = f;
    *cursor_col = wrap_width(in->buf + f, in->cursor - f);
}
