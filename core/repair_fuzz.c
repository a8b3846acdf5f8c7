/*
 * repair_fuzz: bytes from outside, three ways, chosen by the first byte:
 * 0 a repair step (decode; a decoded step re-encodes to the same bytes and is
 *   applied to replicas in several states, which must stay serialisable),
 * 1 a serialised replica (parse; a parsed one serialises to the same bytes),
 * 2 practice --script lines (one per '\n', for each temperament).
 * Nothing here reads the clock or the RNG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/practice.h"
#include "core/repair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_id[REPAIR_ID_BYTES] = { 0 };

static uint8_t out_buf[REPAIR_STATE_MAX];
static struct repair_step fuzz_step;

static void
check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void
fuzz_step_bytes(const uint8_t *data, size_t size)
{
    static const enum repair_event path[] = { REPAIR_EV_INVITE, REPAIR_EV_ACCEPT };
    size_t len = 0;

    if (repair_step_decode(data, size, &fuzz_step) != KITH_OK) {
        return;
    }
    check(repair_step_encode(&fuzz_step, out_buf, sizeof out_buf, &len) == KITH_OK);
    check(len == size && memcmp(out_buf, data, size) == 0);
    memcpy(fuzz_step.repair_id, fuzz_id, REPAIR_ID_BYTES);
    for (size_t depth = 0; depth <= 2; depth++) {
        struct repair *r = repair_create(REPAIR_PARTNER, fuzz_id, "1", "2");
        static struct repair_step s;
        struct repair *back = NULL;
        for (size_t i = 0; i < depth; i++) {
            repair_step_init(&s, path[i]);
            memcpy(s.repair_id, fuzz_id, REPAIR_ID_BYTES);
            s.seq = (uint32_t)i + 1;
            s.actor = i == 0 ? REPAIR_INITIATOR : REPAIR_PARTNER;
            check(repair_apply(r, &s, 1000, NULL) == KITH_OK);
        }
        KITH_IGNORE(repair_apply(r, &fuzz_step, 2000, NULL)); /* refusals are fine */
        check(repair_serialize(r, out_buf, sizeof out_buf, &len) == KITH_OK);
        check(repair_parse(out_buf, len, &back) == KITH_OK);
        repair_destroy(back);
        repair_destroy(r);
    }
}

static void
fuzz_state_bytes(const uint8_t *data, size_t size)
{
    struct repair *r = NULL;
    size_t len = 0;
    char json[8192];

    if (repair_parse(data, size, &r) != KITH_OK) {
        check(r == NULL);
        return;
    }
    check(repair_serialize(r, out_buf, sizeof out_buf, &len) == KITH_OK);
    check(len == size && memcmp(out_buf, data, size) == 0);
    check(repair_status_json(r, json, sizeof json) == KITH_OK);
    repair_destroy(r);
}

static void
fuzz_script(const uint8_t *data, size_t size)
{
    static struct practice_out out;
    char *text = malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    for (int persona = PRACTICE_RECEPTIVE; persona <= PRACTICE_WITHDRAWN; persona++) {
        struct practice *p = practice_create((enum practice_persona)persona, size);
        char *line = text;
        while (line != NULL) {
            char *nl = strchr(line, '\n');
            if (nl != NULL) {
                *nl = '\0';
            }
            KITH_IGNORE(practice_script_step(p, line, &out)); /* errors answer in JSON */
            check(out.json[0] == '{');
            if (nl != NULL) {
                *nl = '\n';
            }
            line = nl != NULL ? nl + 1 : NULL;
        }
        practice_destroy(p);
    }
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        fuzz_step_bytes(data + 1, size - 1);
        break;
    case 1:
        fuzz_state_bytes(data + 1, size - 1);
        break;
    default:
        fuzz_script(data + 1, size - 1);
        break;
    }
    return 0;
}
