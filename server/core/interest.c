/*
 * interest.c - interest tiers: a grid of counts, a summed-area table over
 * it, and per-cell buckets of this tick's movers, so that a cell's list
 * costs the cells of its boxes and the entries it holds.
 */
#include "interest.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

void interest_free(struct interest *in)
{
    free(in->m);
    free(in->cell);
    free(in->sat);
    free(in->near_at);
    free(in->band_at);
    free(in->near_ix);
    free(in->band_ix);
    free(in->always_ix);
    free(in->bg_ix);
    free(in->in_band);
    free(in->list);
    memset(in, 0, sizeof(*in));
}

struct interest_member *interest_members(struct interest *in, size_t n)
{
    if (array_grow((void **)&in->m, &in->m_cap, n ? n : 1, sizeof(*in->m)) < 0)
        return NULL;
    in->n = n;
    return in->m;
}

/* Make each of arrs hold n elements of its size, *cap the count they all
 * hold. 0, or -1 out of memory (what was grown stays, *cap unchanged). */
static int grow_all(void **const arrs[], const size_t sizes[], size_t k, size_t *cap, size_t n)
{
    size_t want = *cap ? *cap : 16;
    if (n <= *cap)
        return 0;
    while (want < n)
        want *= 2;
    for (size_t i = 0; i < k; i++) {
        void *p = realloc(*arrs[i], want * sizes[i]);
        if (!p)
            return -1;
        *arrs[i] = p;
    }
    *cap = want;
    return 0;
}

static int grow(struct interest *in, size_t n, size_t cells, size_t sat)
{
    void **const per_member[] = {
        (void **)&in->cell,  (void **)&in->near_ix, (void **)&in->band_ix, (void **)&in->always_ix,
        (void **)&in->bg_ix, (void **)&in->in_band, (void **)&in->list};
    const size_t member_sizes[] = {
        sizeof(*in->cell),  sizeof(*in->near_ix), sizeof(*in->band_ix), sizeof(*in->always_ix),
        sizeof(*in->bg_ix), sizeof(*in->in_band), sizeof(*in->list)};
    void **const per_cell[] = {(void **)&in->near_at, (void **)&in->band_at};
    const size_t cell_sizes[] = {sizeof(*in->near_at), sizeof(*in->band_at)};
    void **const sat_arr[] = {(void **)&in->sat};
    const size_t sat_size[] = {sizeof(*in->sat)};

    static_assert(sizeof(per_member) / sizeof(per_member[0]) ==
                      sizeof(member_sizes) / sizeof(member_sizes[0]),
                  "a size for each array");
    if (grow_all(per_member, member_sizes, sizeof(member_sizes) / sizeof(member_sizes[0]),
                 &in->member_cap, n ? n : 1) < 0 ||
        grow_all(per_cell, cell_sizes, 2, &in->cell_cap, cells + 1) < 0)
        return -1;
    return grow_all(sat_arr, sat_size, 1, &in->sat_cap, sat);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The cell along an axis; off the floor (or NaN) is its edge cell. */
static int axis_cell(float v, float origin, float side, int cells)
{
    double k = floor(((double)v - origin) / side);
    if (!(k >= 0))
        return 0;
    return k >= cells ? cells - 1 : (int)k;
}

/* A counting sort by cell: counts at[c + 1] become starts at[c + 1] (the
 * end of c), filling advances at[c] to it, and bucket_done shifts them
 * back so that cell c's movers are ix[at[c]] to ix[at[c + 1]]. */
static void bucket_starts(uint32_t *at, size_t cells)
{
    for (size_t c = 0; c < cells; c++)
        at[c + 1] += at[c];
}

static void bucket_done(uint32_t *at, size_t cells)
{
    for (size_t c = cells; c > 0; c--)
        at[c] = at[c - 1];
    at[0] = 0;
}

int interest_plan(struct interest *in, const struct scene_interest *conf, const float lo[2],
                  const float hi[2], long long tick, int tick_hz)
{
    size_t n = in->n, cells;
    double ex = fmax((double)hi[0] - lo[0], 1.0), ez = fmax((double)hi[1] - lo[1], 1.0);
    double side = sqrt(ex * ez * conf->near / (9.0 * (double)(n ? n : 1)));
    const size_t gw1 = (size_t)INTEREST_GRID_MAX + 1;

    side = fmax(side, fmax(ex, ez) / INTEREST_GRID_MAX);
    in->gw = clampi((int)ceil(ex / side), 1, INTEREST_GRID_MAX);
    in->gh = clampi((int)ceil(ez / side), 1, INTEREST_GRID_MAX);
    in->side = (float)side;
    in->x0 = lo[0];
    in->z0 = lo[1];
    cells = (size_t)in->gw * (size_t)in->gh;
    if (grow(in, n, cells, gw1 * gw1) < 0)
        return -1;
    in->tick = tick;
    in->band_period = (int)fmax(1.0, lround(tick_hz / conf->band_hz));
    in->bg_period = (int)fmax(in->band_period, lround(tick_hz / conf->background_hz));
    in->want_near = (size_t)conf->near + 1 < n ? (size_t)conf->near + 1 : n;
    in->want_band =
        (size_t)conf->near + (size_t)conf->band + 1 < n ? (size_t)conf->near + conf->band + 1 : n;
    in->nalways = in->nbg = 0;
    memset(in->sat, 0, sizeof(*in->sat) * (size_t)(in->gw + 1) * (size_t)(in->gh + 1));
    memset(in->near_at, 0, sizeof(*in->near_at) * (cells + 1));
    memset(in->band_at, 0, sizeof(*in->band_at) * (cells + 1));

    for (size_t i = 0; i < n; i++) {
        const struct interest_member *m = &in->m[i];
        int cx = axis_cell(m->x, in->x0, in->side, in->gw);
        int cz = axis_cell(m->z, in->z0, in->side, in->gh);
        size_t c = (size_t)cz * (size_t)in->gw + (size_t)cx;
        bool moved = m->moved_tick == tick, recent = m->moved_tick > tick - in->bg_period;
        long long phase = (long long)m->ix + tick;

        in->cell[i] = (uint16_t)c;
        in->sat[(size_t)(cz + 1) * (size_t)(in->gw + 1) + (size_t)(cx + 1)]++;
        in->in_band[i] = 0;
        if (moved && m->always) {
            in->always_ix[in->nalways++] = (uint32_t)i;
            continue;
        }
        if (moved)
            in->near_at[c + 1]++;
        if (recent && phase % in->band_period == 0) {
            in->in_band[i] = 1;
            in->band_at[c + 1]++;
        }
        if (recent && phase % in->bg_period == 0)
            in->bg_ix[in->nbg++] = (uint32_t)i;
    }
    for (int j = 1; j <= in->gh; j++)
        for (int i = 1; i <= in->gw; i++) {
            size_t w = (size_t)in->gw + 1, at = (size_t)j * w + (size_t)i;
            in->sat[at] += in->sat[at - w] + in->sat[at - 1] - in->sat[at - w - 1];
        }
    bucket_starts(in->near_at, cells);
    bucket_starts(in->band_at, cells);
    for (size_t i = 0; i < n; i++) {
        const struct interest_member *m = &in->m[i];
        if (m->moved_tick == tick && m->always)
            continue;
        if (m->moved_tick == tick)
            in->near_ix[in->near_at[in->cell[i]]++] = (uint32_t)i;
        if (in->in_band[i])
            in->band_ix[in->band_at[in->cell[i]]++] = (uint32_t)i;
    }
    bucket_done(in->near_at, cells);
    bucket_done(in->band_at, cells);
    assert(in->near_at[cells] <= n && in->band_at[cells] <= n && in->nalways + in->nbg <= n);
    return 0;
}

size_t interest_cells(const struct interest *in)
{
    return (size_t)in->gw * (size_t)in->gh;
}

size_t interest_cell_of(const struct interest *in, size_t i)
{
    assert(i < in->n);
    return in->cell[i];
}

/* Members in the cells within d of (cx, cz), the grid's edges clipping. */
static size_t box_count(const struct interest *in, int cx, int cz, int d)
{
    size_t w = (size_t)in->gw + 1;
    size_t x0 = (size_t)clampi(cx - d, 0, in->gw), x1 = (size_t)clampi(cx + d + 1, 0, in->gw);
    size_t z0 = (size_t)clampi(cz - d, 0, in->gh), z1 = (size_t)clampi(cz + d + 1, 0, in->gh);
    return in->sat[z1 * w + x1] - in->sat[z0 * w + x1] - in->sat[z1 * w + x0] +
           in->sat[z0 * w + x0];
}

/* The smallest box radius from `from` holding want members. */
static int reach(const struct interest *in, int cx, int cz, int from, size_t want)
{
    int most = in->gw > in->gh ? in->gw : in->gh;
    int d = from;
    while (d < most && box_count(in, cx, cz, d) < want)
        d++;
    return d;
}

/* Append the bucket of cell (x, z) of at/ix to the list at *k. */
static void take(struct interest *in, const uint32_t *at, const uint32_t *ix, int x, int z,
                 size_t *k)
{
    size_t c = (size_t)z * (size_t)in->gw + (size_t)x;
    for (uint32_t p = at[c]; p < at[c + 1]; p++)
        in->list[(*k)++] = ix[p];
}

static int chebyshev(const struct interest *in, size_t a, size_t b)
{
    int dx = abs((int)(a % (size_t)in->gw) - (int)(b % (size_t)in->gw));
    int dz = abs((int)(a / (size_t)in->gw) - (int)(b / (size_t)in->gw));
    return dx > dz ? dx : dz;
}

size_t interest_list(struct interest *in, size_t cell, const uint32_t **list, size_t *nnear)
{
    int cx = (int)(cell % (size_t)in->gw), cz = (int)(cell / (size_t)in->gw);
    int dn = reach(in, cx, cz, 0, in->want_near), db = reach(in, cx, cz, dn, in->want_band);
    size_t k = 0;

    assert(cell < interest_cells(in));
    for (size_t a = 0; a < in->nalways; a++)
        in->list[k++] = in->always_ix[a];
    for (int z = clampi(cz - dn, 0, in->gh - 1); z <= clampi(cz + dn, 0, in->gh - 1); z++)
        for (int x = clampi(cx - dn, 0, in->gw - 1); x <= clampi(cx + dn, 0, in->gw - 1); x++)
            take(in, in->near_at, in->near_ix, x, z, &k);
    *nnear = k;
    for (int r = dn + 1; r <= db; r++) { /* ring r: its top and bottom rows, then its sides */
        int x0 = clampi(cx - r, 0, in->gw - 1), x1 = clampi(cx + r, 0, in->gw - 1);
        for (int x = x0; x <= x1; x++) {
            if (cz - r >= 0)
                take(in, in->band_at, in->band_ix, x, cz - r, &k);
            if (cz + r < in->gh)
                take(in, in->band_at, in->band_ix, x, cz + r, &k);
        }
        for (int z = clampi(cz - r + 1, 0, in->gh - 1); z <= clampi(cz + r - 1, 0, in->gh - 1);
             z++) {
            if (cx - r >= 0)
                take(in, in->band_at, in->band_ix, cx - r, z, &k);
            if (cx + r < in->gw)
                take(in, in->band_at, in->band_ix, cx + r, z, &k);
        }
    }
    for (size_t b = 0; b < in->nbg; b++) {
        uint32_t i = in->bg_ix[b];
        int d = chebyshev(in, in->cell[i], cell);
        bool listed = d <= dn ? in->m[i].moved_tick == in->tick : d <= db && in->in_band[i];
        if (!listed)
            in->list[k++] = i;
    }
    assert(k <= in->n); /* each member once at most */
    *list = in->list;
    return k;
}
