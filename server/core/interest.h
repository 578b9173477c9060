/*
 * interest.h - interest tiers for a large room (the scene's "interest"):
 * which movers go in the poses frame of each grid cell this tick.
 *
 * Each tick the room hands over its members' floor positions and when
 * they last moved. interest lays a grid over the floor, sized so that a
 * 3 x 3 box of cells holds about `near` people, counts each cell, and for
 * a cell asked about finds in a summed-area table how far the nearest
 * `near` others reach, and then `band` more: the cell's near box and band
 * box. A cell's list, made once and shared by everyone in it, holds:
 *
 *   1. who is always sent (on stage, talking) and moved this tick;
 *   2. who moved this tick in the near box: these two are the near tier;
 *   3. the band tier: who is in the band box but not the near box and
 *      in its band phase this tick, nearest ring first;
 *   4. the background: everyone else in its background phase.
 *
 * A phase comes round every tick_hz / band_hz (or background_hz) ticks,
 * at a tick set by the member's ix, so the cost spreads evenly; in its
 * phase a member counts if it moved within the last background period. So
 * a mover's newest pose reaches every receiver within a background period
 * of its stopping, whatever tier it is in. The cost grows with members and
 * with cells times box area, never with pairs of people.
 *
 * No sessions, no sockets: the caller fills an array of members and gets
 * back indexes into it. The room owns its struct interest; interest_free
 * frees what it holds.
 */
#ifndef VENUE_INTEREST_H
#define VENUE_INTEREST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scene.h"

#define INTEREST_GRID_MAX 64 /* cells along an axis */

struct interest_member {
    float x, z;           /* on the floor */
    long long moved_tick; /* the last tick it moved */
    unsigned ix;          /* sets its phases */
    bool always;          /* in every frame when it moves (stage, talking) */
};

struct interest {
    struct interest_member *m; /* the members, filled by the caller */
    size_t n, m_cap;
    long long tick;
    int band_period, bg_period;  /* ticks */
    size_t want_near, want_band; /* others the near and band boxes must hold */
    int gw, gh;                  /* the grid, gw x gh cells of side metres */
    float x0, z0, side;
    uint16_t *cell;              /* per member: its cell */
    uint32_t *sat;               /* (gw + 1) x (gh + 1) summed counts */
    uint32_t *near_at, *band_at; /* per cell + 1: where its movers start in near_ix, band_ix */
    uint32_t *near_ix, *band_ix; /* movers this tick, band phase: by cell */
    uint32_t *always_ix, *bg_ix; /* always sent and moved, background phase */
    size_t nalways, nbg;
    uint8_t *in_band;                     /* per member: in band_ix this tick */
    uint32_t *list;                       /* the last cell's list */
    size_t cell_cap, sat_cap, member_cap; /* what the three groups of arrays hold */
};

void interest_free(struct interest *in);

/* An array of n members to fill before interest_plan, or NULL when memory
 * runs out. */
struct interest_member *interest_members(struct interest *in, size_t n);

/*
 * Plan tick for the members filled in, on a floor from lo to hi (x, z).
 * Returns 0, or -1 when memory runs out (then the caller sends untiered).
 */
int interest_plan(struct interest *in, const struct scene_interest *conf, const float lo[2],
                  const float hi[2], long long tick, int tick_hz);

/* The grid cell member i stands in: 0 to interest_cells() - 1. */
size_t interest_cells(const struct interest *in);
size_t interest_cell_of(const struct interest *in, size_t i);

/*
 * The frame of cell: member indexes in *list (valid until the next call),
 * tiers in the order above, the first *nnear of them the near tier.
 * Returns how many. A member is listed at most once.
 */
size_t interest_list(struct interest *in, size_t cell, const uint32_t **list, size_t *nnear);

#endif
