/*
 * practice: rehearse a repair against a scripted partner (DOMAIN.md §2.6).
 * Local only and pure: no network, no clock (a virtual clock starts at
 * PRACTICE_EPOCH and moves a minute per step; breaks are skipped by
 * resuming), no randomness but the seed. The user is the initiator; the
 * partner answers each step at once, as one of three temperaments.
 *
 * Variants: index = FNV-1a 64 over (seed, step, round) as little-endian u64s,
 * mod the number of variants. Slots come from the user's own words: {obs} is
 * the observation's first clause with I/you swapped (a word-level
 * approximation), {feeling} and {need} the first picks, {request} the request
 * without "Would you be willing to". Nothing here is stored or sent.
 */
#ifndef KITH_CORE_PRACTICE_H
#define KITH_CORE_PRACTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/coach.h"
#include "core/err.h"
#include "core/repair.h"

#define PRACTICE_EPOCH        1700000000
#define PRACTICE_REPLY_MAX    1024
#define PRACTICE_FEEDBACK_MAX 2048
#define PRACTICE_JSON_MAX     16384
#define PRACTICE_HINTS_MAX    8
#define PRACTICE_LINE_MAX     65536 /* bytes of one --script input line */

enum practice_persona { PRACTICE_RECEPTIVE, PRACTICE_DEFENSIVE, PRACTICE_WITHDRAWN };

struct practice_hint {
    char field[24]; /* repair field name, "observation" */
    struct coach_hint hint;
};

/* What one user step produced. Filled completely by every call. */
struct practice_out {
    bool has_partner_step;
    enum repair_event partner_event;
    char reply[PRACTICE_REPLY_MAX]; /* the partner's words, "" if none */
    enum repair_state state;
    size_t n_hints;
    struct practice_hint hints[PRACTICE_HINTS_MAX];
    bool is_done;
    char feedback[PRACTICE_FEEDBACK_MAX]; /* closing reflection once is_done */
    char error[REPAIR_WHY_MAX];           /* why the step was refused, else "" */
    char json[PRACTICE_JSON_MAX];         /* practice_script_step's answer line */
};

struct practice;

/* Never NULL. Destroy wipes (the transcript is private); NULL-safe. */
struct practice *practice_create(enum practice_persona persona, uint64_t seed);
void practice_destroy(struct practice *p);
KITH_NODISCARD int practice_persona_from_name(const char *name, enum practice_persona *out);
const char *practice_persona_name(enum practice_persona persona);

/* "This is a rehearsal with a pretend partner. ..." (static). */
const char *practice_intro(void);

/*
 * The user takes one step (event and fields set; the header is filled here).
 * `resume` while the partner is on a break, or while the invitation is
 * postponed, skips the simulated wait. KITH_OK, or the refusal code of
 * repair_apply with out->error set (nothing changes). Coach hints are given
 * either way and never block.
 */
KITH_NODISCARD int practice_step(struct practice *p, struct repair_step *user,
                                 struct practice_out *out);

/*
 * One JSON line in, one JSON line out (out->json), for `kith practice
 * --script`: {"event":"share","observation":"…","feelings":["hurt"],…} with
 * the field names of repair_step_set_field. Strict: one object of strings,
 * integers, booleans and arrays of strings; unknown fields are refused.
 * KITH_EMALFORMED (bad JSON), KITH_EINVAL (bad field) or a refusal code;
 * out->json then carries {"error":"…"}.
 */
KITH_NODISCARD int practice_script_step(struct practice *p, const char *json_line,
                                        struct practice_out *out);

int practice_guard(const struct practice *p); /* the defensive partner's guard, 0..3 */
const struct repair *practice_repair(const struct practice *p); /* borrowed */

#endif
