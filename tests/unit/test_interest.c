/*
 * test_interest.c - interest tiers (server/core/interest.c) against a
 * brute-force reference: for every cell of random rooms over many ticks,
 * the list must be exactly the always-sent movers, the near box's movers,
 * the band ring's movers in phase (nearest ring first) and the rest in
 * background phase, each once, the first nnear the near tier; a mover that
 * stops reaches every cell within a background period; members off the
 * floor land on its edge; the grid stays within its bounds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "interest.h"

#define TICK_HZ 20

static const struct scene_interest CONF = {.on = true,
                                           .from = 1,
                                           .near = 32,
                                           .band = 256,
                                           .band_hz = 5,
                                           .background_hz = 1,
                                           .budget = 64000};

static const float LO[2] = {-100, -100}, HI[2] = {100, 100};

static unsigned seed = 12345;
static unsigned rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

static int cheb(const struct interest *in, size_t a, size_t b)
{
    int dx = abs((int)(a % (size_t)in->gw) - (int)(b % (size_t)in->gw));
    int dz = abs((int)(a / (size_t)in->gw) - (int)(b / (size_t)in->gw));
    return dx > dz ? dx : dz;
}

/* The radius from `from` whose box holds want, counted member by member. */
static int brute_reach(const struct interest *in, size_t cell, int from, size_t want)
{
    int most = in->gw > in->gh ? in->gw : in->gh;
    for (int d = from; d < most; d++) {
        size_t k = 0;
        for (size_t i = 0; i < in->n; i++)
            k += cheb(in, interest_cell_of(in, i), cell) <= d;
        if (k >= want)
            return d;
    }
    return most;
}

/* Check every cell's list of tick against the reference; returns how many
 * cells held member `watch` (or 0 when watch is n). */
static size_t check_tick(struct interest *in, const struct scene_interest *conf, long long tick,
                         size_t watch, bool *ok)
{
    size_t n = in->n, cells = interest_cells(in), held = 0;
    size_t want_near = (size_t)conf->near + 1 < n ? (size_t)conf->near + 1 : n;
    size_t want_band =
        (size_t)conf->near + conf->band + 1 < n ? (size_t)conf->near + conf->band + 1 : n;
    int pb = (int)fmax(1, lround(TICK_HZ / conf->band_hz));
    int pg = (int)fmax(pb, lround(TICK_HZ / conf->background_hz));
    unsigned char *tier = malloc(n), *seen = malloc(n);

    CHECK(tier && seen);
    if (!tier || !seen)
        goto out;
    for (size_t c = 0; c < cells; c++) {
        const uint32_t *list;
        size_t nnear, k = interest_list(in, c, &list, &nnear);
        int dn = brute_reach(in, c, 0, want_near), db = brute_reach(in, c, dn, want_band);
        int last_ring = 0;

        /* tier: 0 left out, 1 near, 2 band, 3 background */
        for (size_t i = 0; i < n; i++) {
            const struct interest_member *m = &in->m[i];
            int d = cheb(in, interest_cell_of(in, i), c);
            bool moved = m->moved_tick == tick, recent = m->moved_tick > tick - pg;
            long long phase = (long long)m->ix + tick;
            tier[i] = 0;
            if (moved && (m->always || d <= dn))
                tier[i] = 1;
            else if (!(moved && m->always) && recent && d > dn && d <= db && phase % pb == 0)
                tier[i] = 2;
            else if (!(moved && m->always) && recent && phase % pg == 0)
                tier[i] = 3;
        }
        memset(seen, 0, n);
        for (size_t j = 0; j < k; j++) {
            uint32_t i = list[j];
            int want = j < nnear ? 1 : tier[i] == 2 ? 2 : 3;
            if (i >= n || seen[i] || tier[i] != want) {
                *ok = false;
                continue;
            }
            seen[i] = 1;
            if (tier[i] == 2) { /* nearest ring first */
                int d = cheb(in, interest_cell_of(in, i), c);
                if (d < last_ring)
                    *ok = false;
                last_ring = d;
            }
            if (i == watch)
                held++;
        }
        for (size_t i = 0; i < n; i++)
            if (tier[i] && !seen[i])
                *ok = false;
    }
out:
    free(tier);
    free(seen);
    return held;
}

/* n members spread over the floor, some in clusters; a share moving. */
static void fill(struct interest *in, size_t n, long long tick, unsigned moving_pct)
{
    struct interest_member *m = interest_members(in, n);
    CHECK(m != NULL);
    for (size_t i = 0; m && i < n; i++) {
        bool crowd = i % 3 == 0; /* a third stand around (20, 20) */
        m[i].x =
            crowd ? 20 + (float)(rnd() % 800) / 100.0f : -100 + (float)(rnd() % 20000) / 100.0f;
        m[i].z =
            crowd ? 20 + (float)(rnd() % 800) / 100.0f : -100 + (float)(rnd() % 20000) / 100.0f;
        m[i].ix = (unsigned)i;
        m[i].always = i % 97 == 5;
        m[i].moved_tick = rnd() % 100 < moving_pct ? tick - (long long)(rnd() % 30) : 0;
        if (rnd() % 100 < moving_pct)
            m[i].moved_tick = tick;
    }
}

static void test_against_brute_force(void)
{
    static const size_t sizes[] = {1, 2, 40, 700, 1500};
    struct interest in = {0};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (long long tick = 1000; tick < 1006; tick++) {
            bool ok = true;
            fill(&in, sizes[s], tick, 30);
            CHECK(interest_plan(&in, &CONF, LO, HI, tick, TICK_HZ) == 0);
            CHECK(in.gw >= 1 && in.gw <= INTEREST_GRID_MAX && in.gh >= 1 &&
                  in.gh <= INTEREST_GRID_MAX);
            check_tick(&in, &CONF, tick, sizes[s], &ok);
            if (!ok)
                fprintf(stderr, "n %zu tick %lld: a list differs from the reference\n", sizes[s],
                        tick);
            CHECK(ok);
        }
    }
    /* Another shape of tiers: no band, everything else at the band rate. */
    struct scene_interest narrow = CONF;
    narrow.near = 4;
    narrow.band = 0;
    narrow.background_hz = 5;
    for (long long tick = 50; tick < 54; tick++) {
        bool ok = true;
        fill(&in, 500, tick, 50);
        CHECK(interest_plan(&in, &narrow, LO, HI, tick, TICK_HZ) == 0);
        check_tick(&in, &narrow, tick, 500, &ok);
        CHECK(ok);
    }
    interest_free(&in);
}

/* A far mover that stops is in every cell's frame once within the
 * background period, and the grid is finer where people are many. */
static void test_stopped_mover_reaches_everyone(void)
{
    struct interest in = {0};
    const size_t n = 2000, who = 7;
    const long long stop = 5000;
    size_t *held = NULL, cells = 0;
    bool ok = true;

    for (long long tick = stop; tick < stop + TICK_HZ; tick++) {
        struct interest_member *m = interest_members(&in, n);
        CHECK(m != NULL);
        if (!m)
            break;
        seed = 99; /* the same room every tick; only `who` is moving */
        for (size_t i = 0; i < n; i++) {
            m[i] = (struct interest_member){.x = -100 + (float)(rnd() % 20000) / 100.0f,
                                            .z = -100 + (float)(rnd() % 20000) / 100.0f,
                                            .ix = (unsigned)i};
        }
        m[who].moved_tick = stop;
        CHECK(interest_plan(&in, &CONF, LO, HI, tick, TICK_HZ) == 0);
        if (!held) {
            cells = interest_cells(&in);
            held = calloc(cells, sizeof(*held));
            CHECK(held != NULL);
            if (!held)
                break;
        }
        CHECK(interest_cells(&in) == cells);
        for (size_t c = 0; c < cells; c++) {
            const uint32_t *list;
            size_t nnear, k = interest_list(&in, c, &list, &nnear);
            for (size_t j = 0; j < k; j++)
                held[c] += list[j] == who;
        }
    }
    for (size_t c = 0; held && c < cells; c++)
        if (held[c] == 0)
            ok = false;
    CHECK(ok);
    CHECK(cells > 100); /* 2,000 people on 200 m: a fine grid */
    free(held);
    interest_free(&in);
}

/* Always-sent movers lead every list; off-floor members land on the edge. */
static void test_always_and_edges(void)
{
    struct interest in = {0};
    struct interest_member *m = interest_members(&in, 4);
    const uint32_t *list;
    size_t nnear, k;

    CHECK(m != NULL);
    if (!m)
        return;
    m[0] = (struct interest_member){.x = -100, .z = -100, .moved_tick = 10, .ix = 0};
    m[1] =
        (struct interest_member){.x = 1e9f, .z = -1e9f, .moved_tick = 10, .ix = 1, .always = true};
    m[2] = (struct interest_member){.x = NAN, .z = 100, .moved_tick = 3, .ix = 2};
    m[3] = (struct interest_member){.x = 99.9f, .z = 99.9f, .moved_tick = 10, .ix = 3};
    CHECK(interest_plan(&in, &CONF, LO, HI, 10, TICK_HZ) == 0);
    CHECK(interest_cell_of(&in, 1) == (size_t)in.gw - 1);           /* x beyond: last column */
    CHECK(interest_cell_of(&in, 2) == (size_t)(in.gh - 1) * in.gw); /* NaN x: first column */
    for (size_t c = 0; c < interest_cells(&in); c++) {
        k = interest_list(&in, c, &list, &nnear);
        CHECK(k >= 1 && list[0] == 1 && nnear >= 1);
    }
    /* Four people: everyone is near everyone; all three movers listed. */
    k = interest_list(&in, 0, &list, &nnear);
    CHECK(k == 3 && nnear == 3);
    interest_free(&in);
}

int main(void)
{
    test_against_brute_force();
    test_stopped_mover_reaches_everyone();
    test_always_and_edges();
    return check_report();
}
