/*
 * circle internals shared by core/circle.c (state lookups, epoch ids),
 * core/circle_op.c (ops, log, resolve) and core/circle_chain.c (sender keys,
 * receiving chains). Not part of the public interface.
 */
#ifndef KITH_CORE_CIRCLE_IMPL_H
#define KITH_CORE_CIRCLE_IMPL_H

#include <stdint.h>
#include <string.h>

#include "core/circle.h"

static inline void
circle_impl_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t
circle_impl_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
circle_impl_put_u64(uint8_t *p, uint64_t v)
{
    circle_impl_put_u32(p, (uint32_t)(v >> 32));
    circle_impl_put_u32(p + 4, (uint32_t)v);
}

static inline uint64_t
circle_impl_get_u64(const uint8_t *p)
{
    return (uint64_t)circle_impl_get_u32(p) << 32 | circle_impl_get_u32(p + 4);
}

/* qsort comparator for member ids (16 bytes). */
int circle_impl_id_cmp(const void *a, const void *b);

#endif
