/*
 * test_poses_bin.c - unit tests for protocol/poses_bin.c: the bytes of a
 * binary poses frame, the precision of its positions and rotations, and
 * every refusal of a client's binary pose.
 */
#include "poses_bin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const struct poses_bin_bounds room = {{-20.0f, -1.0f, -30.0f}, {20.0f, 10.0f, 30.0f}};

static float frand(float lo, float hi)
{
    return lo + (hi - lo) * (float)rand() / (float)RAND_MAX;
}

static void test_head_and_entry_bytes(void)
{
    unsigned char h[POSES_BIN_HEAD_MAX], e[POSES_BIN_ENTRY];
    static const unsigned char want_head[] = {1, 0, 4, 3, 2, 1, 3, 0};
    static const unsigned char want_tiered[] = {1, 1, 4, 3, 2, 1, 0x2c, 1, 3, 1};
    const float q_id[4] = {0, 0, 0, 1};
    unsigned ix;
    float p[3], q[4];

    CHECK(poses_bin_head(h, 0x501020304LL, 3, -1) == POSES_BIN_HEAD); /* the tick's low 32 bits */
    CHECK(memcmp(h, want_head, sizeof(want_head)) == 0);
    /* Tiered: flag 1, count 300, then the near tier's 259. */
    CHECK(poses_bin_head(h, 0x501020304LL, 300, 259) == POSES_BIN_HEAD_MAX);
    CHECK(memcmp(h, want_tiered, sizeof(want_tiered)) == 0);

    poses_bin_entry(e, 0x1234, &room, room.min, q_id);
    CHECK(e[0] == 0x34 && e[1] == 0x12);
    CHECK(e[2] == 0 && e[3] == 0 && e[4] == 0 && e[5] == 0 && e[6] == 0 && e[7] == 0);
    /* identity: w left out (index 3), x y z at the middle of 0..1023 */
    {
        unsigned long bits = (unsigned long)e[8] | (unsigned long)e[9] << 8 |
                             (unsigned long)e[10] << 16 | (unsigned long)e[11] << 24;
        CHECK(bits >> 30 == 3);
        CHECK((bits >> 20 & 0x3ff) == 512 && (bits >> 10 & 0x3ff) == 512 && (bits & 0x3ff) == 512);
    }
    poses_bin_entry(e, 7, &room, room.max, q_id);
    CHECK(e[2] == 0xff && e[3] == 0xff && e[6] == 0xff && e[7] == 0xff);
    poses_bin_mark_stage(e);
    poses_bin_decode_entry(e, &room, &ix, p, q);
    CHECK(ix == (7 | POSES_BIN_STAGE));
    CHECK(p[0] == room.max[0] && p[2] == room.max[2]);
    CHECK(fabsf(q[3] - 1.0f) < 1e-6f);
}

/* Every position within half a step of where it was, outside the box on
 * its edge. */
static void test_positions(void)
{
    int bad = 0;
    for (int n = 0; n < 10000; n++) {
        float p[3] = {frand(-20, 20), frand(-1, 10), frand(-30, 30)}, q0[4] = {0, 0, 0, 1}, p2[3],
              q2[4];
        unsigned char e[POSES_BIN_ENTRY];
        unsigned ix;
        poses_bin_entry(e, 1, &room, p, q0);
        poses_bin_decode_entry(e, &room, &ix, p2, q2);
        for (int i = 0; i < 3; i++) {
            float half = (room.max[i] - room.min[i]) / 65535.0f / 2.0f;
            bad += fabsf(p2[i] - p[i]) > half * 1.001f + 1e-6f;
        }
    }
    CHECK(bad == 0);
    {
        float out[3] = {-500, 99, NAN}, q0[4] = {0, 0, 0, 1}, p2[3], q2[4];
        unsigned char e[POSES_BIN_ENTRY];
        unsigned ix;
        poses_bin_entry(e, 1, &room, out, q0);
        poses_bin_decode_entry(e, &room, &ix, p2, q2);
        CHECK(p2[0] == room.min[0] && p2[1] == room.max[1] && p2[2] == room.min[2]);
    }
}

/* A height stamped to the millisecond (the load generator's) survives. */
static void test_height_stamp(void)
{
    int bad = 0;
    for (int ms = 0; ms < 8000; ms++) {
        float p[3] = {0, 1.0f + (float)ms / 1000.0f, 0}, q0[4] = {0, 0, 0, 1}, p2[3], q2[4];
        unsigned char e[POSES_BIN_ENTRY];
        unsigned ix;
        poses_bin_entry(e, 0, &room, p, q0);
        poses_bin_decode_entry(e, &room, &ix, p2, q2);
        bad += lround((p2[1] - 1.0) * 1000.0) != ms;
    }
    CHECK(bad == 0);
}

/* Rotations come back as the same rotation (q or -q) within 0.26 degrees
 * (0.002 a component), whichever component is largest and whatever its
 * sign. */
static void test_rotations(void)
{
    int bad = 0;
    for (int n = 0; n < 20000; n++) {
        float q[4] = {frand(-1, 1), frand(-1, 1), frand(-1, 1), frand(-1, 1)}, len = 0, p2[3],
              q2[4], dot = 0;
        unsigned char e[POSES_BIN_ENTRY];
        unsigned ix;
        for (int i = 0; i < 4; i++)
            len += q[i] * q[i];
        len = sqrtf(len);
        if (len < 0.1f)
            continue;
        for (int i = 0; i < 4; i++)
            q[i] /= len;
        poses_bin_entry(e, 0, &room, room.min, q);
        poses_bin_decode_entry(e, &room, &ix, p2, q2);
        for (int i = 0; i < 4; i++)
            dot += q[i] * q2[i];
        for (int i = 0; i < 4; i++)
            bad += fabsf(q2[i] - (dot < 0 ? -q[i] : q[i])) > 0.002f;
        bad += 2.0 * acos(fmin(fabs(dot), 1.0)) * 180.0 / M_PI > 0.26;
    }
    CHECK(bad == 0);
    {
        /* not unit: normalised first; zero: the identity */
        float q[4] = {0, 2, 0, 0}, z[4] = {0, 0, 0, 0}, p2[3], q2[4];
        unsigned char e[POSES_BIN_ENTRY];
        unsigned ix;
        poses_bin_entry(e, 0, &room, room.min, q);
        poses_bin_decode_entry(e, &room, &ix, p2, q2);
        CHECK(fabsf(q2[1] - 1.0f) < 1e-6f);
        poses_bin_entry(e, 0, &room, room.min, z);
        poses_bin_decode_entry(e, &room, &ix, p2, q2);
        CHECK(fabsf(q2[3] - 1.0f) < 1e-6f);
    }
}

static void test_client_pose(void)
{
    const float p[3] = {2.5f, 0.0f, -4.25f}, q[4] = {0, 0.38268f, 0, 0.92388f};
    unsigned char b[POSES_BIN_SIZE + 1];
    float p2[3], q2[4];
    char err[128];

    poses_bin_pose(b, &room, p, q);
    CHECK(b[0] == POSES_BIN_POSE && b[1] == 0);
    CHECK(poses_bin_decode_pose(b, POSES_BIN_SIZE, &room, p2, q2, err, sizeof(err)) == 0);
    CHECK(fabsf(p2[0] - 2.5f) < 0.001f && fabsf(p2[2] + 4.25f) < 0.001f);
    CHECK(fabsf(q2[1] - 0.38268f) < 0.001f && fabsf(q2[3] - 0.92388f) < 0.001f);

    CHECK(poses_bin_decode_pose(b, 11, &room, p2, q2, err, sizeof(err)) < 0);
    CHECK(strcmp(err, "pose (binary): must be 12 bytes, not 11") == 0);
    CHECK(poses_bin_decode_pose(b, 13, &room, p2, q2, err, sizeof(err)) < 0);
    b[0] = POSES_BIN_FRAME;
    CHECK(poses_bin_decode_pose(b, POSES_BIN_SIZE, &room, p2, q2, err, sizeof(err)) < 0);
    CHECK(strstr(err, "byte 0 (kind)") != NULL);
    b[0] = POSES_BIN_POSE;
    b[1] = 4;
    CHECK(poses_bin_decode_pose(b, POSES_BIN_SIZE, &room, p2, q2, err, sizeof(err)) < 0);
    CHECK(strstr(err, "byte 1 (flags)") != NULL);
    b[1] = 0;
    memset(b + 8, 0xff, 4); /* three components of 1/sqrt(2): squares sum to 1.5 */
    CHECK(poses_bin_decode_pose(b, POSES_BIN_SIZE, &room, p2, q2, err, sizeof(err)) < 0);
    CHECK(strstr(err, "rotation") != NULL);
}

int main(void)
{
    srand(7);
    test_head_and_entry_bytes();
    test_positions();
    test_height_stamp();
    test_rotations();
    test_client_pose();
    return check_report();
}
