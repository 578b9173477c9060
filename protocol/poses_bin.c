/*
 * poses_bin.c - the binary poses frames: quantising positions against a
 * room's bounds and packing orientations as "smallest three".
 *
 * Smallest three: of a unit quaternion's four components, the largest in
 * magnitude is left out (made positive by negating the whole, which is
 * the same rotation) and rebuilt from the other three, each of which then
 * lies within +-1/sqrt(2): 2 bits say which was left out, 10 bits each the
 * others: the same rotation within 0.26 degrees (tests/unit/test_poses_bin.c).
 */
#include "poses_bin.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>

#define Q16_MAX  65535.0
#define Q10_MAX  1023.0
#define ROT_EDGE 0.70710678118654752 /* 1/sqrt(2) */

static void put16(unsigned char *o, unsigned v)
{
    o[0] = (unsigned char)(v & 0xff);
    o[1] = (unsigned char)(v >> 8 & 0xff);
}

static void put32(unsigned char *o, uint32_t v)
{
    put16(o, v & 0xffff);
    put16(o + 2, v >> 16);
}

static unsigned get16(const unsigned char *i)
{
    return (unsigned)i[0] | (unsigned)i[1] << 8;
}

static uint32_t get32(const unsigned char *i)
{
    return get16(i) | (uint32_t)get16(i + 2) << 16;
}

/* v in [lo, hi] onto 0..steps, clamped; NaN counts as lo. */
static unsigned quantise(double v, double lo, double hi, double steps)
{
    double k = (v - lo) / (hi - lo) * steps;
    if (!(k > 0))
        return 0;
    return k >= steps ? (unsigned)steps : (unsigned)lround(k);
}

static double dequantise(unsigned k, double lo, double hi, double steps)
{
    return lo + (double)k * (hi - lo) / steps;
}

static void put_position(unsigned char *out, const struct poses_bin_bounds *b, const float p[3])
{
    for (int i = 0; i < 3; i++) {
        assert(b->max[i] > b->min[i]);
        put16(out + 2 * i, quantise(p[i], b->min[i], b->max[i], Q16_MAX));
    }
}

static void get_position(const unsigned char *in, const struct poses_bin_bounds *b, float p[3])
{
    for (int i = 0; i < 3; i++)
        p[i] = (float)dequantise(get16(in + 2 * i), b->min[i], b->max[i], Q16_MAX);
}

static uint32_t pack_rotation(const float q[4])
{
    double n =
        sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] + (double)q[3] * q[3]);
    double c[4] = {0, 0, 0, 1};
    unsigned big = 3;
    uint32_t bits;

    if (n > 1e-6 && isfinite(n))
        for (int i = 0; i < 4; i++)
            c[i] = q[i] / n;
    for (unsigned i = 0; i < 4; i++)
        if (fabs(c[i]) > fabs(c[big]))
            big = i;
    bits = (uint32_t)big << 30;
    for (unsigned i = 0, shift = 20; i < 4; i++) {
        if (i == big)
            continue;
        double v = c[big] < 0 ? -c[i] : c[i];
        bits |= (uint32_t)quantise(v, -ROT_EDGE, ROT_EDGE, Q10_MAX) << shift;
        shift -= 10;
    }
    return bits;
}

/* The rotation bits into q; the sum of the three squares, which a
 * well-formed encoding keeps within 1 (plus rounding). */
static double unpack_rotation(uint32_t bits, float q[4])
{
    unsigned big = bits >> 30;
    double c[4], sum = 0, n;

    for (unsigned i = 0, shift = 20; i < 4; i++) {
        if (i == big)
            continue;
        c[i] = dequantise(bits >> shift & 0x3ff, -ROT_EDGE, ROT_EDGE, Q10_MAX);
        sum += c[i] * c[i];
        shift -= 10;
    }
    c[big] = sqrt(sum < 1 ? 1 - sum : 0);
    n = sqrt(sum + c[big] * c[big]);
    for (int i = 0; i < 4; i++)
        q[i] = (float)(c[i] / n);
    return sum;
}

size_t poses_bin_head(unsigned char *out, long long tick, size_t count, int near)
{
    assert(count <= 0xffff && near <= (long)count);
    out[0] = POSES_BIN_FRAME;
    out[1] = near >= 0 ? POSES_BIN_TIERED : 0;
    put32(out + 2, (uint32_t)(tick & 0xffffffff));
    put16(out + 6, (unsigned)count);
    if (near < 0)
        return POSES_BIN_HEAD;
    put16(out + 8, (unsigned)near);
    return POSES_BIN_HEAD_MAX;
}

void poses_bin_entry(unsigned char *out, unsigned ix, const struct poses_bin_bounds *b,
                     const float p[3], const float q[4])
{
    assert(ix <= 0xffff);
    put16(out, ix);
    put_position(out + 2, b, p);
    put32(out + 8, pack_rotation(q));
}

void poses_bin_mark_stage(unsigned char *entry)
{
    put16(entry, get16(entry) | POSES_BIN_STAGE);
}

void poses_bin_decode_entry(const unsigned char *entry, const struct poses_bin_bounds *b,
                            unsigned *ix, float p[3], float q[4])
{
    *ix = get16(entry);
    get_position(entry + 2, b, p);
    unpack_rotation(get32(entry + 8), q);
}

void poses_bin_pose(unsigned char *out, const struct poses_bin_bounds *b, const float p[3],
                    const float q[4])
{
    out[0] = POSES_BIN_POSE;
    out[1] = 0;
    put_position(out + 2, b, p);
    put32(out + 8, pack_rotation(q));
}

int poses_bin_decode_pose(const unsigned char *buf, size_t len, const struct poses_bin_bounds *b,
                          float p[3], float q[4], char *err, size_t errlen)
{
    if (len != POSES_BIN_SIZE) {
        snprintf(err, errlen, "pose (binary): must be %d bytes, not %zu", POSES_BIN_SIZE, len);
        return -1;
    }
    if (buf[0] != POSES_BIN_POSE) {
        snprintf(err, errlen, "pose (binary): byte 0 (kind) must be %d, not %u", POSES_BIN_POSE,
                 buf[0]);
        return -1;
    }
    if (buf[1] != 0) {
        snprintf(err, errlen, "pose (binary): byte 1 (flags) must be 0, not %u", buf[1]);
        return -1;
    }
    /* Three components of at most 1/sqrt(2) can square to 1.5: over 1
     * (with a step's rounding) is no rotation. */
    if (unpack_rotation(get32(buf + 8), q) > 1.005) {
        snprintf(err, errlen, "pose (binary): bytes 8-11 (rotation): not a unit quaternion");
        return -1;
    }
    get_position(buf + 2, b, p);
    return 0;
}
