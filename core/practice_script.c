/*
 * practice_script: the JSON-lines face of practice (`kith practice --script`).
 * The parser reads bytes from outside, so it is small and strict: one object;
 * keys are strings; values are strings, integers, true/false or arrays of
 * strings; no duplicates, no trailing bytes; strings are valid UTF-8 with
 * standard escapes (\uXXXX and surrogate pairs become UTF-8; \u0000 is
 * refused). Each key is a field name of repair_step_set_field, plus "event".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/practice.h"

#define KEY_MAX   32
#define KEYS_MAX  24
#define VALUE_MAX (REPAIR_TEXT_CAP + 8)

struct parser {
    const char *p;
    const char *end;
};

static void
skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static bool
eat(struct parser *ps, char c)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static int
hex4(struct parser *ps, uint32_t *out)
{
    uint32_t v = 0;

    if (ps->end - ps->p < 4) {
        return KITH_EMALFORMED;
    }
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v |= (uint32_t)((c | 0x20) - 'a' + 10);
        } else {
            return KITH_EMALFORMED;
        }
    }
    *out = v;
    return KITH_OK;
}

static int
put_utf8(uint32_t cp, char *out, size_t cap, size_t *o)
{
    uint8_t b[4];
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

    if (cp == 0 || *o + n >= cap) {
        return KITH_EMALFORMED;
    }
    if (n == 1) {
        b[0] = (uint8_t)cp;
    } else {
        for (size_t i = n - 1; i > 0; i--) {
            b[i] = (uint8_t)(0x80 | (cp & 0x3f));
            cp >>= 6;
        }
        b[0] = (uint8_t)((n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0) | cp);
    }
    memcpy(out + *o, b, n);
    *o += n;
    return KITH_OK;
}

/* A JSON string into out (NUL-terminated); raw bytes are checked as UTF-8 afterwards. */
static int
parse_string(struct parser *ps, char *out, size_t cap)
{
    size_t o = 0;

    if (!eat(ps, '"')) {
        return KITH_EMALFORMED;
    }
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) {
            return KITH_EMALFORMED;
        }
        if (c != '\\') {
            if (o + 1 >= cap) {
                return KITH_EMALFORMED;
            }
            out[o++] = (char)c;
            continue;
        }
        if (ps->p >= ps->end) {
            return KITH_EMALFORMED;
        }
        c = (unsigned char)*ps->p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c != 0 && simple != NULL) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            if (o + 1 >= cap) {
                return KITH_EMALFORMED;
            }
            out[o++] = map[simple - "\"\\/bfnrt"];
        } else if (c == 'u') {
            uint32_t cp, lo;
            if (hex4(ps, &cp) != KITH_OK || (cp >= 0xdc00 && cp <= 0xdfff)) {
                return KITH_EMALFORMED;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    return KITH_EMALFORMED;
                }
                ps->p += 2;
                if (hex4(ps, &lo) != KITH_OK || lo < 0xdc00 || lo > 0xdfff) {
                    return KITH_EMALFORMED;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (put_utf8(cp, out, cap, &o) != KITH_OK) {
                return KITH_EMALFORMED;
            }
        } else {
            return KITH_EMALFORMED;
        }
    }
    if (!eat(ps, '"')) {
        return KITH_EMALFORMED;
    }
    out[o] = '\0';
    return KITH_OK;
}

/* One value, as the text repair_step_set_field takes (arrays joined by ','). */
static int
parse_value(struct parser *ps, char *out, size_t cap)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        return KITH_EMALFORMED;
    }
    if (*ps->p == '"') {
        return parse_string(ps, out, cap);
    }
    if (*ps->p == '[') {
        size_t o = 0;
        ps->p++;
        out[0] = '\0';
        if (eat(ps, ']')) {
            return KITH_OK;
        }
        do {
            char item[64];
            if (parse_string(ps, item, sizeof item) != KITH_OK || strchr(item, ',') != NULL ||
                o + strlen(item) + 2 >= cap) {
                return KITH_EMALFORMED;
            }
            o += (size_t)snprintf(out + o, cap - o, "%s%s", o > 0 ? "," : "", item);
        } while (eat(ps, ','));
        return eat(ps, ']') ? KITH_OK : KITH_EMALFORMED;
    }
    for (size_t lit = 0; lit < 2; lit++) {
        const char *word = lit == 0 ? "true" : "false";
        size_t n = strlen(word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
            ps->p += n;
            snprintf(out, cap, "%s", lit == 0 ? "yes" : "no");
            return KITH_OK;
        }
    }
    size_t o = 0;
    if (*ps->p == '-') {
        out[o++] = *ps->p++;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && o < 19) {
        out[o++] = *ps->p++;
    }
    out[o] = '\0';
    if (o == 0 || out[o - 1] == '-' || (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')) {
        return KITH_EMALFORMED;
    }
    return KITH_OK;
}

/* ---- the answer line ---------------------------------------------------- */

struct jout {
    char *p;
    size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void
jadd(struct jout *j, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (j->len >= j->cap) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(j->p + j->len, j->cap - j->len, fmt, ap);
    va_end(ap);
    j->len = n < 0 ? j->cap : j->len + (size_t)n;
}

static void
jstr(struct jout *j, const char *s)
{
    jadd(j, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            jadd(j, "\\%c", c);
        } else if (c < 0x20) {
            jadd(j, "\\u%04x", c);
        } else {
            jadd(j, "%c", c);
        }
    }
    jadd(j, "\"");
}

static int
answer(struct practice *p, struct practice_out *out, int rc)
{
    struct jout j = { out->json, sizeof out->json, 0 };
    char status[4096];

    jadd(&j, "{");
    if (rc != KITH_OK) {
        jadd(&j, "\"error\":");
        jstr(&j, out->error[0] != '\0' ? out->error : kith_strerror(rc));
        jadd(&j, ",");
    }
    jadd(&j, "\"partner\":");
    jstr(&j, out->reply);
    if (out->has_partner_step) {
        jadd(&j, ",\"partner_event\":\"%s\"", repair_event_name(out->partner_event));
    }
    jadd(&j, ",\"state\":\"%s\"", repair_state_name(repair_state(practice_repair(p))));
    if (repair_status_json(practice_repair(p), status, sizeof status) == KITH_OK) {
        jadd(&j, ",\"status\":%s", status);
    }
    jadd(&j, ",\"guard\":%d,\"hints\":[", practice_guard(p));
    for (size_t i = 0; i < out->n_hints; i++) {
        jadd(&j, "%s{\"field\":\"%s\",\"rule\":\"%s\",\"text\":", i > 0 ? "," : "",
             out->hints[i].field, coach_rule_name(out->hints[i].hint.rule));
        jstr(&j, out->hints[i].hint.text);
        jadd(&j, "}");
    }
    jadd(&j, "],\"done\":%s", out->is_done ? "true" : "false");
    if (out->is_done) {
        jadd(&j, ",\"feedback\":");
        jstr(&j, out->feedback);
    }
    jadd(&j, "}");
    if (j.len >= j.cap) {
        snprintf(out->json, sizeof out->json, "{\"error\":\"The answer was too long.\"}");
    }
    return rc;
}

static int
refuse_line(struct practice *p, struct practice_out *out, int rc, const char *why)
{
    memset(out, 0, sizeof *out);
    snprintf(out->error, sizeof out->error, "%s", why);
    return answer(p, out, rc);
}

int
practice_script_step(struct practice *p, const char *json_line, struct practice_out *out)
{
    static const char bad_json[] = "That line isn't one JSON object of fields.";
    struct parser ps = { json_line, json_line + strnlen(json_line, PRACTICE_LINE_MAX + 1) };
    char keys[KEYS_MAX][KEY_MAX];
    size_t n_keys = 0;
    struct repair_step step_buf; /* 32 KB on the stack: no allocation per line */
    struct repair_step *step = &step_buf;
    char value[VALUE_MAX];
    bool has_event = false;
    const char *why = NULL;
    int rc = KITH_EMALFORMED;

    repair_step_init(step, REPAIR_EV_COUNT);
    if (ps.end - ps.p > PRACTICE_LINE_MAX || !eat(&ps, '{')) {
        rc = refuse_line(p, out, KITH_EMALFORMED, bad_json);
        goto out;
    }
    if (!eat(&ps, '}')) {
        do {
            char key[KEY_MAX];
            if (parse_string(&ps, key, sizeof key) != KITH_OK || !eat(&ps, ':') ||
                parse_value(&ps, value, VALUE_MAX) != KITH_OK || n_keys >= KEYS_MAX) {
                rc = refuse_line(p, out, KITH_EMALFORMED, bad_json);
                goto out;
            }
            for (size_t i = 0; i < n_keys; i++) {
                if (strcmp(keys[i], key) == 0) {
                    rc = refuse_line(p, out, KITH_EMALFORMED, "A field appears twice.");
                    goto out;
                }
            }
            snprintf(keys[n_keys++], KEY_MAX, "%s", key);
            if (strcmp(key, "event") == 0) {
                enum repair_event ev;
                if (repair_event_from_name(value, &ev) != KITH_OK) {
                    rc = refuse_line(p, out, KITH_EINVAL, "That isn't a step kith knows.");
                    goto out;
                }
                step->event = (uint8_t)ev;
                has_event = true;
            } else if (repair_step_set_field(step, key, value, &why) != KITH_OK) {
                rc = refuse_line(p, out, KITH_EINVAL, why);
                goto out;
            }
        } while (eat(&ps, ','));
        if (!eat(&ps, '}')) {
            rc = refuse_line(p, out, KITH_EMALFORMED, bad_json);
            goto out;
        }
    }
    skip_ws(&ps);
    if (ps.p != ps.end || !has_event) {
        rc = refuse_line(p, out, KITH_EMALFORMED,
                         has_event ? bad_json
                                   : "Say which step: "
                                     "\"event\".");
        goto out;
    }
    rc = answer(p, out, practice_step(p, step, out));
out:
    sodium_memzero(step, sizeof *step); /* the user's words */
    sodium_memzero(value, sizeof value);
    return rc;
}
