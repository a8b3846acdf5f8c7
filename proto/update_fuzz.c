/*
 * update fuzz target: arbitrary bytes as an endpoint record and as a
 * retention step. Invariant: a clean error, or the parsed fields encode back
 * to the same bytes (the record's body; its signature is not ours to make),
 * and a record never verifies under a key that did not sign it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
update_fuzz_endpoint(const uint8_t *data, size_t size)
{
    static const uint8_t zero_ik[32];
    uint8_t out[UPDATE_ENDPOINT_BYTES_MAX];
    struct update_endpoint u;
    size_t len = 0;

    if (update_endpoint_parse(data, size, &u) != KITH_OK) {
        return;
    }
    if (update_endpoint_body(&u, out, sizeof out, &len) != KITH_OK ||
        len + UPDATE_SIG_BYTES != size || memcmp(out, data, len) != 0) {
        abort();
    }
    if (update_endpoint_decode(data, size, zero_ik, &u) == KITH_OK) {
        abort(); /* the all-zero key is not a valid Ed25519 public key */
    }
}

static void
update_fuzz_retention(const uint8_t *data, size_t size)
{
    uint8_t out[UPDATE_RETENTION_BYTES];
    struct update_retention r;

    if (update_retention_decode(data, size, &r) != KITH_OK) {
        return;
    }
    if (update_retention_encode(&r, out) != KITH_OK || size != sizeof out ||
        memcmp(out, data, size) != 0) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    update_fuzz_endpoint(data, size);
    update_fuzz_retention(data, size);
    return 0;
}
