/*
 * poses_bin.h - the binary poses frames (PROTOCOL.md, "Binary poses"):
 * what a client that said hello with "poses":"binary" receives instead of
 * JSON poses frames, and the binary pose it may send.
 *
 * Positions are quantised to 16 bits an axis against the room's bounds
 * (sent in joined), orientations packed as "smallest three" in 32 bits,
 * avatars named by their per-room index (the user object's "ix") instead
 * of their id. Little-endian throughout. Pure functions on caller buffers:
 * nothing here allocates.
 */
#ifndef VENUE_POSES_BIN_H
#define VENUE_POSES_BIN_H

#include <stddef.h>
#include <stdint.h>

#define POSES_BIN_FRAME    0x01 /* byte 0 of a server's poses frame */
#define POSES_BIN_POSE     0x02 /* byte 0 of a client's pose */
#define POSES_BIN_HEAD     8    /* kind, flags, tick (u32), count (u16) */
#define POSES_BIN_TIERED   0x01 /* flags: a tiered frame; near (u16) follows count */
#define POSES_BIN_HEAD_MAX 10   /* a tiered frame's head */
#define POSES_BIN_ENTRY    12   /* ix (u16), x y z (u16 each), rotation (u32) */
#define POSES_BIN_SIZE     12   /* a client's pose: kind, flags, x y z, rotation */
/* An entry's ix with this bit set names someone on the stage of the hall
 * an overflow room shows (the stage message's users, its bounds). */
#define POSES_BIN_STAGE  0x8000u
#define POSES_BIN_IX_MAX 0x7fffu

/* The box positions are quantised in; max > min on every axis. */
struct poses_bin_bounds {
    float min[3], max[3];
};

/* The frame head for tick and count entries into out[POSES_BIN_HEAD_MAX];
 * near >= 0 makes it a tiered frame whose first near entries are the
 * nearest tier. Returns its length: POSES_BIN_HEAD, or the max if tiered. */
size_t poses_bin_head(unsigned char *out, long long tick, size_t count, int near);

/* One entry into out[POSES_BIN_ENTRY]: ix (with POSES_BIN_STAGE if it
 * applies), p clamped into b, q normalised (q and -q are one rotation:
 * the largest component comes back positive). */
void poses_bin_entry(unsigned char *out, unsigned ix, const struct poses_bin_bounds *b,
                     const float p[3], const float q[4]);

/* Turn an entry's ix into a stage person's, in place. */
void poses_bin_mark_stage(unsigned char *entry);

/*
 * A client's binary pose of len bytes into p and q (a unit quaternion).
 * Returns 0, or -1 with a sentence naming what is wrong in err.
 */
int poses_bin_decode_pose(const unsigned char *buf, size_t len, const struct poses_bin_bounds *b,
                          float p[3], float q[4], char *err, size_t errlen);

/* Decoding one entry (for tests and tools; the browser has its own). */
void poses_bin_decode_entry(const unsigned char *entry, const struct poses_bin_bounds *b,
                            unsigned *ix, float p[3], float q[4]);

/* The same encoding as a client's pose into out[POSES_BIN_SIZE]. */
void poses_bin_pose(unsigned char *out, const struct poses_bin_bounds *b, const float p[3],
                    const float q[4]);

#endif
