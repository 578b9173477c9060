/*
 * test_scene.c - unit tests for scenes/scene.c and the demo venue.
 *
 * No framework: CHECK counts and reports, main exits non-zero if anything
 * failed and ends with "N passed, M failed". Runs from the source root
 * (CTest sets the working directory). The broken venues of
 * tests/scene-cases/ cover one validation rule each; this file covers what
 * needs code: the demo venue's content, the geometry, inputs too big or
 * odd to keep as files, hostile mutations of real scenes and allocation
 * failures at every point of a load.
 *
 * scene.c is compiled into this file with malloc, calloc and realloc
 * replaced (and jansson given the same allocator), so that the n-th
 * allocation from now can be made to fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static long oom_countdown = -1; /* allocations until one fails; -1: never */
static long oom_failed;         /* allocations refused so far */

static int oom_now(void)
{
    if (oom_countdown == 0) {
        oom_failed++;
        return 1;
    }
    if (oom_countdown > 0)
        oom_countdown--;
    return 0;
}

static void *oom_malloc(size_t n)
{
    return oom_now() ? NULL : malloc(n);
}

static void *oom_calloc(size_t a, size_t b)
{
    return oom_now() ? NULL : calloc(a, b);
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_now() ? NULL : realloc(p, n);
}

#define malloc  oom_malloc
#define calloc  oom_calloc
#define realloc oom_realloc
#include "scene.c"
#undef malloc
#undef calloc
#undef realloc

static int passed, failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

static const char *DEMO = "scenes/demo";

static float dist2d(const float a[3], const float b[3])
{
    return hypotf(a[0] - b[0], a[2] - b[2]);
}

/* Loads JSON text as if it were the file path; NULL (and err) on failure. */
static struct scene *load_text(const char *path, const char *text, char *err, size_t errlen)
{
    struct scene *s = NULL;
    if (scene_load_mem(path, text, strlen(text), &s, err, errlen) != 0)
        return NULL;
    return s;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* ---- The demo venue ---- */

static size_t count_places(const struct scene *s, enum scene_place_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nplaces; i++)
        n += s->places[i].type == t;
    return n;
}

static const struct scene_portal *portal_to(const struct scene *s, const char *room)
{
    for (size_t i = 0; i < s->nportals; i++)
        if (strcmp(s->portals[i].room, room) == 0)
            return &s->portals[i];
    return NULL;
}

static void test_demo(void)
{
    struct scene_set set;
    char err[512] = "";
    static const struct {
        const char *id;
        int capacity;
    } rooms[] = {{"lobby", 300},     {"plenary", 200},   {"plenary-overflow", 300},
                 {"breakout-1", 30}, {"breakout-2", 30}, {"breakout-3", 30},
                 {"expo", 150}};

    int rc = scene_set_load(DEMO, &set, err, sizeof err);
    CHECK(rc == 0, "demo venue: %s", err);
    if (rc != 0)
        return;
    CHECK(set.n == 7, "%zu rooms", set.n);
    /* the venue's order ("order" in each file), not the files' */
    for (size_t i = 0; i < set.n && i < sizeof rooms / sizeof rooms[0]; i++)
        CHECK(strcmp(set.scenes[i]->id, rooms[i].id) == 0, "room %zu is %s, not %s", i,
              set.scenes[i]->id, rooms[i].id);
    const struct scene *lobby = scene_set_find(&set, "lobby");
    CHECK(lobby != NULL, "no lobby");
    CHECK(scene_set_find(&set, "nowhere") == NULL, "found nowhere");
    for (size_t i = 0; i < sizeof rooms / sizeof rooms[0]; i++) {
        const struct scene *s = scene_set_find(&set, rooms[i].id);
        CHECK(s != NULL, "no room %s", rooms[i].id);
        if (!s)
            continue;
        CHECK(s->capacity == rooms[i].capacity, "%s capacity %d", s->id, s->capacity);
        CHECK(s->nspawns >= 8 && s->nspawns <= 20, "%s has %zu spawns", s->id, s->nspawns);
        CHECK(s->name && s->name[0] && s->description && s->description[0], "%s: no name", s->id);
        CHECK(s->json && s->json_len == strlen(s->json) && s->json[0] == '{', "%s: json", s->id);
        CHECK(strlen(s->etag) == 34 && s->etag[0] == '"' && s->etag[33] == '"', "%s etag %s", s->id,
              s->etag);
        CHECK(s->guests_enter && s->guests_chat, "%s guest defaults", s->id);
        for (size_t k = 0; k < s->nspawns; k++)
            CHECK(scene_walkable(s, s->spawns[k].p), "%s spawn %s", s->id, s->spawns[k].id);
        if (strcmp(s->id, "lobby") != 0) {
            const struct scene_portal *back = portal_to(s, "lobby");
            CHECK(back != NULL, "%s has no portal to the lobby", s->id);
            CHECK(lobby && portal_to(lobby, s->id) != NULL, "the lobby has no portal to %s", s->id);
            if (back)
                CHECK(back->spawn[0] && scene_spawn_find(lobby, back->spawn), "%s -> lobby %s",
                      s->id, back->spawn);
        }
        /* The served text is the document: it parses back to the same id. */
        json_t *doc = json_loads(s->json, 0, NULL);
        CHECK(doc && strcmp(json_string_value(json_object_get(doc, "id")), s->id) == 0,
              "%s: served json", s->id);
        json_decref(doc);
    }
    /* Distinct documents have distinct ETags; the same file always the same. */
    for (size_t i = 0; i < set.n; i++)
        for (size_t j = i + 1; j < set.n; j++)
            CHECK(strcmp(set.scenes[i]->etag, set.scenes[j]->etag) != 0, "same etag %s %s",
                  set.scenes[i]->id, set.scenes[j]->id);
    struct scene *again = NULL;
    CHECK(scene_load_file("scenes/demo/lobby.json", &again, err, sizeof err) == 0, "%s", err);
    if (again && lobby)
        CHECK(strcmp(again->etag, lobby->etag) == 0, "etag not stable");
    scene_free(again);

    const struct scene *plenary = scene_set_find(&set, "plenary");
    if (plenary) {
        CHECK(count_places(plenary, SCENE_PLACE_SEAT) == 200, "%zu seats",
              count_places(plenary, SCENE_PLACE_SEAT));
        CHECK(count_places(plenary, SCENE_PLACE_SCREEN) == 2, "plenary screens");
        CHECK(plenary->reserved_seats > 0 && plenary->reserved_seats < 200, "reserved %d",
              plenary->reserved_seats);
        CHECK(strcmp(plenary->overflow, "plenary-overflow") == 0, "overflow %s", plenary->overflow);
        const struct scene_place *stage = scene_place_find(plenary, "stage");
        CHECK(stage && stage->type == SCENE_PLACE_STAGE && stage->has_volume, "stage");
        /* the stage is raised: standing on it is standing higher, and on stage */
        float on[3] = {0, 0, -12}, front[3] = {0, 0, -6};
        CHECK(fabsf(scene_floor_at(plenary, on) - 0.9f) < 1e-5, "stage floor %f",
              scene_floor_at(plenary, on));
        on[1] = scene_floor_at(plenary, on);
        front[1] = scene_floor_at(plenary, front);
        CHECK(scene_place_at(plenary, SCENE_PLACE_STAGE, on) == stage, "not on stage");
        CHECK(scene_place_at(plenary, SCENE_PLACE_STAGE, front) == NULL, "audience on stage");
        const struct scene_place *first = scene_place_find(plenary, "stalls-1-1");
        const struct scene_place *last = scene_place_find(plenary, "stalls-8-25");
        CHECK(first && last && first->type == SCENE_PLACE_SEAT, "seat ids");
        CHECK(scene_place_find(plenary, "stalls-9-1") == NULL, "a ninth row");
        /* The overflow hall's stage is the plenary's, moved: relayed stage avatars land on it
         * by the offset of the two stage translations (FORMAT.md, overflow). */
        const struct scene *over = scene_set_find(&set, plenary->overflow);
        const struct scene_place *ostage = over ? scene_place_find(over, "stage") : NULL;
        CHECK(ostage && ostage->type == SCENE_PLACE_STAGE && ostage->has_volume, "overflow stage");
        if (stage && ostage)
            for (int k = 0; k < 3; k++) {
                float d = ostage->p[k] - stage->p[k];
                CHECK(fabsf(ostage->min[k] - stage->min[k] - d) < 1e-4f &&
                          fabsf(ostage->max[k] - stage->max[k] - d) < 1e-4f,
                      "overflow stage volume is not the plenary's moved (axis %d)", k);
            }
        CHECK(over && over->overflow[0] == '\0' && over->reserved_seats == 0, "overflow hall");
    }
    const struct scene *expo = scene_set_find(&set, "expo");
    if (expo) {
        static const char *topics[] = {"city-block", "air-quality", "mobility", "energy"};
        CHECK(count_places(expo, SCENE_PLACE_SHOWCASE) == 4, "showcases");
        for (size_t i = 0; i < 4; i++) {
            bool found = false;
            for (size_t k = 0; k < expo->nplaces; k++)
                found |= expo->places[k].type == SCENE_PLACE_SHOWCASE &&
                         strcmp(expo->places[k].topic, topics[i]) == 0;
            CHECK(found, "no showcase for %s", topics[i]);
        }
    }
    if (lobby) {
        CHECK(lobby->nportals == 6, "lobby portals %zu", lobby->nportals);
        CHECK(count_places(lobby, SCENE_PLACE_DESK) == 1, "registration desk");
        CHECK(count_places(lobby, SCENE_PLACE_BOARD) == 1, "programme board");
    }
    for (size_t i = 1; i <= 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "breakout-%zu", i);
        const struct scene *b = scene_set_find(&set, id);
        CHECK(b && count_places(b, SCENE_PLACE_SEAT) >= 20, "%s seats", id);
        CHECK(b && count_places(b, SCENE_PLACE_SCREEN) == 1, "%s screen", id);
    }
    scene_set_free(&set);
    CHECK(set.n == 0 && set.scenes == NULL, "set not emptied");
}

/* Every portal in the venue lands on a spawn that is clear of portals there. */
static void test_portals_round_trip(void)
{
    struct scene_set set;
    char err[512];
    if (scene_set_load(DEMO, &set, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        return;
    }
    for (size_t i = 0; i < set.n; i++) {
        const struct scene *s = set.scenes[i];
        for (size_t k = 0; k < s->nportals; k++) {
            const struct scene_portal *pt = &s->portals[k];
            /* walking to the middle of the trigger, clamped, gets you through */
            float p[3] = {(pt->min[0] + pt->max[0]) / 2, 0, (pt->min[2] + pt->max[2]) / 2};
            scene_clamp(s, p);
            CHECK(scene_portal_at(s, p) == pt, "%s: portal %s not reachable", s->id, pt->id);
            const struct scene *to = scene_set_find(&set, pt->room);
            const struct scene_spawn *sp = to ? scene_spawn_find(to, pt->spawn) : NULL;
            CHECK(sp != NULL, "%s -> %s/%s", s->id, pt->room, pt->spawn);
            for (unsigned n = 0; sp && n < 40; n++) {
                float q[4], a[3];
                scene_spawn_near(to, sp, n, a, q);
                CHECK(scene_walkable(to, a) && scene_portal_at(to, a) == NULL,
                      "%s arrival %u at %.2f,%.2f", to->id, n, a[0], a[2]);
            }
        }
    }
    scene_set_free(&set);
}

/* ---- Geometry on small scenes ---- */

static const char *U_ROOM = /* a U: the notch x in (3, 7), z in (4, 10) is not walkable */
    "{\"format_version\":1,\"id\":\"u\",\"name\":\"U\",\"capacity\":5,"
    "\"walk\":[{\"polygon\":[[0,0],[10,0],[10,10],[7,10],[7,4],[3,4],[3,10],[0,10]]},"
    "{\"min\":[20,0],\"max\":[22,2],\"y\":0.5}],"
    "\"spawns\":[{\"id\":\"s\",\"p\":[1,0,1]},{\"id\":\"hi\",\"p\":[21,0.5,1]}],"
    "\"portals\":[{\"id\":\"door\",\"label\":\"Door\",\"trigger\":{\"min\":[9,-0.1,0],\"max\":"
    "[10.5,2.5,2]},\"room\":\"u\",\"spawn\":\"s\"}],"
    "\"places\":[{\"type\":\"stage\",\"id\":\"stage\",\"translation\":[21,0.5,1],"
    "\"volume\":{\"min\":[20,0.2,0],\"max\":[22,3,2]}},"
    "{\"type\":\"seat_rows\",\"id\":\"r\",\"translation\":[5,0,1],\"rows\":2,\"columns\":3,"
    "\"spacing\":[1,0.5]},"
    "{\"type\":\"seat_rows\",\"id\":\"c\",\"translation\":[5,0,3],\"rotation\":[0,1,0,0],"
    "\"rows\":2,\"columns\":4,\"spacing\":[0.6,1],\"radius\":5,\"aisles\":[2]}],"
    "\"x-note\":\"kept\"}";

static void check_clamp(const struct scene *s, float x, float z, float ex, float ez, bool moved,
                        int line)
{
    float p[3] = {x, 7, z};
    bool m = scene_clamp(s, p);
    bool ok = m == moved && fabsf(p[0] - ex) < 1e-4 && fabsf(p[2] - ez) < 1e-4 &&
              scene_walkable(s, p) && p[1] == scene_floor_at(s, p);
    CHECK(ok, "line %d: clamp(%g, %g) -> (%g, %g, %g) moved %d, want (%g, %g) moved %d", line, x, z,
          p[0], p[1], p[2], m, ex, ez, moved);
}

static void test_geometry(void)
{
    char err[512] = "";
    struct scene *s = load_text("u.json", U_ROOM, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    if (!s)
        return;
    float in[3] = {1, 0, 9}, notch[3] = {5, 0, 6}, edge[3] = {3, 0, 7}, corner[3] = {0, 0, 0};
    CHECK(scene_walkable(s, in), "inside a leg of the U");
    CHECK(!scene_walkable(s, notch), "the notch is walkable");
    CHECK(scene_walkable(s, edge), "an edge is not walkable");
    CHECK(scene_walkable(s, corner), "a vertex is not walkable");
    float nan3[3] = {NAN, 0, 0};
    CHECK(!scene_walkable(s, nan3), "NaN walkable");

    /* inside stays put (and lands on the floor) */
    check_clamp(s, 1, 9, 1, 9, false, __LINE__);
    /* outside: to the nearest point of the nearest edge */
    check_clamp(s, 15, 5, 10, 5, true, __LINE__);
    check_clamp(s, -3, -4, 0, 0, true, __LINE__);
    check_clamp(s, 5, -2, 5, 0, true, __LINE__);
    /* in the notch of the concave U: the nearest of its three sides */
    check_clamp(s, 5, 5, 5, 4, true, __LINE__);
    check_clamp(s, 3.5, 9, 3, 9, true, __LINE__);
    check_clamp(s, 6.8, 8, 7, 8, true, __LINE__);
    /* between the two shapes: the closer one wins, with its own floor height */
    check_clamp(s, 18, 1, 20, 1, true, __LINE__);
    check_clamp(s, 13, 1, 10, 1, true, __LINE__);
    float hi[3] = {21, 0, 1};
    scene_clamp(s, hi);
    CHECK(hi[1] == 0.5f, "raised floor %g", hi[1]);
    float lost[3] = {NAN, 1, INFINITY};
    CHECK(scene_clamp(s, lost) && scene_walkable(s, lost), "clamp of NaN");

    /* portals: inside, on the boundary, outside, and above */
    float door[3] = {9.5f, 0, 1}, door_edge[3] = {9, 0, 2}, off[3] = {8.9f, 0, 1},
          up[3] = {9.5f, 3, 1};
    CHECK(scene_portal_at(s, door) == &s->portals[0], "in the door");
    CHECK(scene_portal_at(s, door_edge) == &s->portals[0], "on the door's edge");
    CHECK(scene_portal_at(s, off) == NULL, "beside the door");
    CHECK(scene_portal_at(s, up) == NULL, "over the door");

    /* places: the stage by volume, seat_rows expanded exactly as FORMAT.md says */
    float stage[3] = {21, 0.5f, 1};
    CHECK(scene_place_at(s, SCENE_PLACE_STAGE, stage) == scene_place_find(s, "stage"), "stage");
    CHECK(scene_place_at(s, SCENE_PLACE_SEAT, stage) == NULL, "seats have no volume");
    CHECK(s->nplaces == 1 + 6 + 8, "%zu places", s->nplaces);
    const struct scene_place *r11 = scene_place_find(s, "r-1-1"),
                             *r23 = scene_place_find(s, "r-2-3");
    CHECK(r11 && fabsf(r11->p[0] - 4) < 1e-5 && fabsf(r11->p[2] - 1) < 1e-5, "r-1-1");
    CHECK(r23 && fabsf(r23->p[0] - 6) < 1e-5 && fabsf(r23->p[2] - 0.5f) < 1e-5, "r-2-3");
    /* curved, turned to face -Z: 4 seats + 1 aisle = 5 slots; seat 3 sits in slot 3, u = 0.6 */
    const struct scene_place *c13 = scene_place_find(s, "c-1-3"),
                             *c21 = scene_place_find(s, "c-2-1");
    double th = 0.6 / 5, lx = 5 * sin(th), lz = 5 - 5 * cos(th);
    CHECK(c13 && fabs(c13->p[0] - (5 - lx)) < 1e-4 && fabs(c13->p[2] - (3 - lz)) < 1e-4,
          "c-1-3 at %g %g", c13 ? c13->p[0] : 0, c13 ? c13->p[2] : 0);
    /* it faces the arc's centre at (5, 0, -2) (objects face +Z) */
    if (c13) {
        versor q = {c13->q[0], c13->q[1], c13->q[2], c13->q[3]};
        vec3 fwd;
        glm_quat_rotatev(q, (vec3){0, 0, 1}, fwd);
        double cx = 5 - c13->p[0], cz = -2 - c13->p[2], n = hypot(cx, cz);
        CHECK(fabs(fwd[0] - cx / n) < 1e-4 && fabs(fwd[2] - cz / n) < 1e-4, "c-1-3 facing");
    }
    double th2 = -1.2 / 6; /* row 2: radius 6; seat 1 in slot 0, u = -1.2 */
    CHECK(c21 && fabs(c21->p[0] - (5 - 6 * sin(th2))) < 1e-4 &&
              fabs(c21->p[2] - (3 - (5 - 6 * cos(th2)))) < 1e-4,
          "c-2-1");

    /* the served JSON keeps extension fields */
    CHECK(strstr(s->json, "\"x-note\":\"kept\"") != NULL, "x- field dropped");
    scene_free(s);
}

/* Arrivals: walkable, clear of portals, on the spawn's floor, and not stacked. */
static void check_spread(const struct scene *s, unsigned n, float min_gap)
{
    float(*pts)[3] = calloc(n, sizeof *pts);
    float q[4];
    unsigned bad = 0, close = 0;
    if (!pts)
        return;
    for (unsigned k = 0; k < n; k++) {
        scene_spawn_at(s, k, pts[k], q);
        const struct scene_spawn *sp = &s->spawns[s->arrivals[k % s->narrivals].spawn];
        if (!scene_walkable(s, pts[k]) || scene_portal_at(s, pts[k]) ||
            pts[k][1] != scene_floor_at(s, sp->p) || memcmp(q, sp->q, sizeof q) != 0)
            bad++;
        for (unsigned j = 0; j < k; j++)
            if (dist2d(pts[j], pts[k]) < min_gap)
                close++;
    }
    CHECK(bad == 0, "%s: %u arrivals badly placed", s->id, bad);
    CHECK(close == 0, "%s: %u pairs of the first %u arrivals closer than %.2f m", s->id, close, n,
          min_gap);
    free(pts);
}

static void test_spawns(void)
{
    struct scene_set set;
    char err[512] = "";
    if (scene_set_load(DEMO, &set, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        return;
    }
    for (size_t i = 0; i < set.n; i++)
        check_spread(set.scenes[i], (unsigned)set.scenes[i]->capacity, 0.49f);
    /* far past the rings the pattern repeats but stays valid */
    const struct scene *b = scene_set_find(&set, "breakout-1");
    if (b) {
        float p[3], q[4], first[3], q0[4];
        scene_spawn_at(b, 0, first, q0);
        CHECK(memcmp(first, b->spawns[0].p, sizeof first) == 0, "arrival 0 off its spawn");
        scene_spawn_at(b, 4000000000u, p, q);
        CHECK(scene_walkable(b, p), "arrival 4e9");
    }
    scene_set_free(&set);

    /* a spawn in a tight corner: rings that leave the area are skipped */
    char e2[512] = "";
    struct scene *s = load_text("corner.json",
                                "{\"format_version\":1,\"id\":\"c\",\"name\":\"C\",\"capacity\":3,"
                                "\"walk\":[{\"min\":[0,0],\"max\":[1,1]}],"
                                "\"spawns\":[{\"id\":\"s\",\"p\":[0.1,0,0.1],\"q\":[0,1,0,0]}]}",
                                e2, sizeof e2);
    CHECK(s != NULL, "%s", e2);
    for (unsigned k = 0; s && k < 200; k++) {
        float p[3], q[4];
        scene_spawn_at(s, k, p, q);
        CHECK(scene_walkable(s, p) && q[1] == 1, "corner arrival %u", k);
    }
    scene_free(s);
}

/* ---- Live data: the twin bindings of showcases ---- */

#define URN_AIR     "urn:ngsi-ld:AirQualityObserved:demo-centre"
#define URN_HARBOUR "urn:ngsi-ld:AirQualityObserved:demo-harbour"
#define URN_RING    "urn:ngsi-ld:TrafficFlowObserved:demo-ring-north"
#define URN_BRIDGE  "urn:ngsi-ld:TrafficFlowObserved:demo-bridge"
#define URN_STATION "urn:ngsi-ld:OffStreetParking:demo-station"
#define URN_HALL    "urn:ngsi-ld:ThreePhaseAcMeasurement:demo-town-hall"
#define UG          "\xc2\xb5g/m\xc2\xb3" /* µg/m³ */

/* What the simulated city feed publishes; the demo expo must bind exactly this. */
static const struct {
    const char *showcase, *entity, *attr;
    enum scene_twin_show show;
    const char *label, *unit; /* NULL: absent */
    double lo, hi;            /* range when lo < hi */
} EXPO_TWINS[] = {
    {"showcase-city-block", URN_STATION, "totalSpotNumber", SCENE_TWIN_LABEL, "Station car park",
     "spaces", 0, 0},
    {"showcase-city-block", URN_AIR, "airQualityIndex", SCENE_TWIN_LABEL, "Air quality index", "",
     0, 0},
    {"showcase-air-quality", URN_AIR, "no2", SCENE_TWIN_RAMP, "NO\xe2\x82\x82", UG, 0, 200},
    {"showcase-air-quality", URN_AIR, "pm10", SCENE_TWIN_BAR, "PM10", UG, 0, 100},
    {"showcase-air-quality", URN_AIR, "pm25", SCENE_TWIN_LABEL, "PM2.5", UG, 0, 0},
    {"showcase-air-quality", URN_AIR, "temperature", SCENE_TWIN_LABEL, "Temperature",
     "\xc2\xb0"
     "C",
     0, 0},
    {"showcase-air-quality", URN_AIR, "no2", SCENE_TWIN_SPARKLINE, NULL, NULL, 0, 200},
    {"showcase-air-quality", URN_HARBOUR, "no2", SCENE_TWIN_LABEL, "NO\xe2\x82\x82 harbour", UG, 0,
     0},
    {"showcase-mobility", URN_RING, "intensity", SCENE_TWIN_BAR, "Ring road north", "veh/h", 0,
     3000},
    {"showcase-mobility", URN_RING, "averageVehicleSpeed", SCENE_TWIN_LABEL, "Average speed",
     "km/h", 0, 0},
    {"showcase-mobility", URN_BRIDGE, "intensity", SCENE_TWIN_BAR, "Bridge", "veh/h", 0, 2000},
    {"showcase-mobility", URN_STATION, "availableSpotNumber", SCENE_TWIN_LABEL,
     "Free at the station", "spaces", 0, 0},
    {"showcase-mobility", URN_STATION, "location", SCENE_TWIN_MARKER, NULL, NULL, 0, 0},
    {"showcase-energy", URN_HALL, "totalActivePower", SCENE_TWIN_RAMP, "Town hall power", "kW", 0,
     500},
    {"showcase-energy", URN_HALL, "totalActivePower", SCENE_TWIN_SPARKLINE, NULL, NULL, 0, 500},
    {"showcase-energy", URN_HALL, "totalActiveEnergyImport", SCENE_TWIN_LABEL, "Energy today",
     "kWh", 0, 0},
};

static void test_demo_twins(void)
{
    struct scene_set set;
    char err[512] = "";
    if (scene_set_load(DEMO, &set, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        return;
    }
    const size_t n = sizeof EXPO_TWINS / sizeof EXPO_TWINS[0];
    const struct scene *expo = scene_set_find(&set, "expo");
    CHECK(expo && expo->ntwins == n, "expo binds %zu", expo ? expo->ntwins : 0);
    for (size_t i = 0; expo && i < n && i < expo->ntwins; i++) {
        const struct scene_twin_binding *b = &expo->twins[i];
        const struct scene_place *pl = scene_place_find(expo, EXPO_TWINS[i].showcase);
        bool ranged = EXPO_TWINS[i].lo < EXPO_TWINS[i].hi;
        CHECK(strcmp(b->entity, EXPO_TWINS[i].entity) == 0 &&
                  strcmp(b->attr, EXPO_TWINS[i].attr) == 0 && b->show == EXPO_TWINS[i].show,
              "binding %zu is %s %s %s", i, b->entity, b->attr, scene_twin_show_name(b->show));
        CHECK(pl && pl->type == SCENE_PLACE_SHOWCASE && &expo->places[b->place] == pl &&
                  b >= pl->twins && b < pl->twins + pl->ntwins,
              "binding %zu is not on %s", i, EXPO_TWINS[i].showcase);
        CHECK(strcmp(b->label, EXPO_TWINS[i].label ? EXPO_TWINS[i].label : "") == 0,
              "binding %zu label \"%s\"", i, b->label);
        CHECK(b->has_unit == (EXPO_TWINS[i].unit != NULL) &&
                  strcmp(b->unit, EXPO_TWINS[i].unit ? EXPO_TWINS[i].unit : "") == 0,
              "binding %zu unit \"%s\"", i, b->unit);
        CHECK(b->has_range == ranged &&
                  (!ranged || (b->range[0] == EXPO_TWINS[i].lo && b->range[1] == EXPO_TWINS[i].hi)),
              "binding %zu range %g..%g", i, b->range[0], b->range[1]);
        CHECK(b->stale_after == 120 && b->ncolors == 0, "binding %zu stale_after %d", i,
              b->stale_after);
        CHECK(scene_binds_entity(expo, b->entity), "binding %zu entity not bound", i);
        if (b->show == SCENE_TWIN_MARKER)
            CHECK(b->map[0] == 4.8 && b->map[1] == 45.72 && b->map[2] == 4.9 && b->map[3] == 45.79,
                  "marker map %g %g %g %g", b->map[0], b->map[1], b->map[2], b->map[3]);
        else
            CHECK(b->map[0] == 0 && b->map[2] == 0, "binding %zu has a map", i);
    }
    /* each showcase's slice: the four booths, in place order */
    static const struct {
        const char *id;
        size_t n;
    } slices[] = {{"showcase-city-block", 2},
                  {"showcase-air-quality", 6},
                  {"showcase-mobility", 5},
                  {"showcase-energy", 3}};
    for (size_t i = 0; expo && i < 4; i++) {
        const struct scene_place *pl = scene_place_find(expo, slices[i].id);
        CHECK(pl && pl->ntwins == slices[i].n, "%s has %zu bindings", slices[i].id,
              pl ? pl->ntwins : 0);
    }
    const struct scene_place *sign = expo ? scene_place_find(expo, "sign-energy") : NULL;
    CHECK(sign && sign->ntwins == 0 && sign->twins == NULL, "a sign with bindings");
    /* the distinct entities, first seen first */
    static const char *const entities[] = {URN_STATION, URN_AIR,    URN_HARBOUR,
                                           URN_RING,    URN_BRIDGE, URN_HALL};
    CHECK(expo && expo->ntwin_entities == 6, "%zu entities", expo ? expo->ntwin_entities : 0);
    for (size_t i = 0; expo && i < 6 && i < expo->ntwin_entities; i++)
        CHECK(strcmp(expo->twin_entities[i], entities[i]) == 0, "entity %zu is %s", i,
              expo->twin_entities[i]);
    if (expo) {
        CHECK(!scene_binds_entity(expo, "urn:ngsi-ld:AirQualityObserved:demo-centr") &&
                  !scene_binds_entity(expo, URN_AIR ":x") && !scene_binds_entity(expo, "") &&
                  !scene_binds_entity(expo, NULL),
              "binds what it does not");
        /* the served JSON has the bindings exactly as the file has them */
        json_t *file = json_load_file("scenes/demo/expo.json", 0, NULL);
        json_t *served = json_loads(expo->json, 0, NULL);
        json_t *fp = json_object_get(file, "places"), *sp = json_object_get(served, "places");
        size_t with = 0;
        CHECK(json_array_size(fp) > 0 && json_array_size(fp) == json_array_size(sp), "places");
        for (size_t i = 0; i < json_array_size(fp); i++) {
            json_t *ft = json_object_get(json_array_get(fp, i), "twins");
            json_t *st = json_object_get(json_array_get(sp, i), "twins");
            CHECK((!ft && !st) || json_equal(ft, st), "places[%zu].twins served changed", i);
            with += ft != NULL;
        }
        CHECK(with == 4, "%zu places with twins in the file", with);
        CHECK(strstr(expo->json, "\"unit\":\"" UG "\"") != NULL, "served units not UTF-8 as is");
        json_decref(file);
        json_decref(served);
    }
    /* no other room binds anything */
    for (size_t i = 0; i < set.n; i++)
        if (set.scenes[i] != expo)
            CHECK(set.scenes[i]->ntwins == 0 && set.scenes[i]->ntwin_entities == 0 &&
                      !set.scenes[i]->twins && !set.scenes[i]->twin_entities &&
                      !scene_binds_entity(set.scenes[i], URN_AIR),
                  "%s binds", set.scenes[i]->id);
    scene_set_free(&set);
}

#define TWIN_ROOM_HEAD                                                                             \
    "{\"format_version\":1,\"id\":\"t\",\"name\":\"T\",\"capacity\":5,"                            \
    "\"walk\":[{\"min\":[-5,-5],\"max\":[5,5]}],\"spawns\":[{\"id\":\"s\",\"p\":[0,0,0]}],"        \
    "\"places\":["
#define TWIN_SHOWCASE(id, twins)                                                                   \
    "{\"type\":\"showcase\",\"id\":\"" id "\",\"translation\":[0,0,0],\"topic\":\"t\","            \
    "\"twins\":[" twins "]}"

/* Loads one showcase with the given bindings: NULL and err when refused. */
static struct scene *load_twins(const char *twins, char *err, size_t errlen)
{
    char text[8192];
    snprintf(text, sizeof text,
             TWIN_ROOM_HEAD "{\"type\":\"showcase\",\"id\":\"show\",\"translation\":[0,0,0],"
                            "\"topic\":\"t\",\"twins\":[%s]}]}",
             twins);
    return load_text("t.json", text, err, errlen);
}

/* The bindings are refused with a message containing want. */
static void refuse_twin(const char *twins, const char *want)
{
    char err[512] = "";
    struct scene *s = load_twins(twins, err, sizeof err);
    CHECK(!s && strstr(err, want), "want \"%s\", got: %s", want, s ? "loaded" : err);
    scene_free(s);
}

static void test_twins(void)
{
    char err[512] = "";
    /* defaults, colours, extension fields, an empty unit, a URI that is not a URN */
    struct scene *s = load_twins(
        "{\"entity\":\"urn:x:y\",\"attr\":\"a_1\",\"show\":\"ramp\",\"range\":[-10.5,1e6],"
        "\"colors\":[\"#00ff00\",\"#FFCC00\",\"#ff0000\"],\"x-note\":\"kept\"},"
        "{\"entity\":\"https://city.example/ngsi-ld/v1/entities/urn:x:y?a=1&b=%20#f\","
        "\"attr\":\"location\",\"show\":\"marker\",\"unit\":\"\","
        "\"map\":{\"west\":-180,\"south\":-90,\"east\":180,\"north\":90,\"x-crs\":\"WGS84\"}},"
        "{\"entity\":\"urn:x:y\",\"attr\":\"a_1\",\"show\":\"sparkline\",\"stale_after\":86400}",
        err, sizeof err);
    CHECK(s != NULL, "%s", err);
    if (s) {
        const struct scene_twin_binding *t = s->twins;
        CHECK(s->ntwins == 3 && s->nplaces == 1 && s->places[0].twins == s->twins &&
                  s->places[0].ntwins == 3,
              "%zu bindings", s->ntwins);
        CHECK(t[0].show == SCENE_TWIN_RAMP && t[0].has_range && t[0].range[0] == -10.5 &&
                  t[0].range[1] == 1e6 && t[0].ncolors == 3 &&
                  strcmp(t[0].colors[1], "#FFCC00") == 0 && !t[0].has_unit && !t[0].label[0] &&
                  t[0].stale_after == SCENE_TWIN_STALE && t[0].place == 0,
              "ramp binding");
        CHECK(t[1].show == SCENE_TWIN_MARKER && t[1].has_unit && !t[1].unit[0] && !t[1].has_range &&
                  t[1].map[0] == -180 && t[1].map[3] == 90,
              "marker binding");
        CHECK(t[2].show == SCENE_TWIN_SPARKLINE && !t[2].has_range && t[2].stale_after == 86400,
              "sparkline without a range");
        CHECK(s->ntwin_entities == 2 && strcmp(s->twin_entities[0], "urn:x:y") == 0 &&
                  scene_binds_entity(s, t[1].entity) && !scene_binds_entity(s, "urn:x:Y"),
              "%zu entities", s->ntwin_entities);
        CHECK(strstr(s->json, "\"x-note\":\"kept\"") && strstr(s->json, "\"x-crs\":\"WGS84\""),
              "x- fields of a binding not served");
        CHECK(strcmp(scene_twin_show_name(SCENE_TWIN_SPARKLINE), "sparkline") == 0 &&
                  strcmp(scene_twin_show_name((enum scene_twin_show)99), "?") == 0,
              "show names");
    }
    scene_free(s);

    /* byte limits, at the limit and past it (the schema counts characters; the loader bytes) */
    char e256[300], a64[80], twins[1024];
    memset(e256, 'e', sizeof e256);
    memcpy(e256, "urn:", 4);
    e256[256] = '\0';
    memset(a64, 'a', 64);
    a64[64] = '\0';
    snprintf(twins, sizeof twins,
             "{\"entity\":\"%s\",\"attr\":\"%s\",\"show\":\"label\","
             "\"label\":\"%s\",\"unit\":\"1234567890123456\"}",
             e256, a64, a64);
    s = load_twins(twins, err, sizeof err);
    CHECK(s && strlen(s->twins[0].entity) == 256 && strlen(s->twins[0].attr) == 64 &&
              strlen(s->twins[0].label) == 64 && strlen(s->twins[0].unit) == 16,
          "at the limits: %s", s ? "short" : err);
    scene_free(s);
    e256[256] = 'e';
    e256[257] = '\0';
    snprintf(twins, sizeof twins, "{\"entity\":\"%s\",\"attr\":\"a\",\"show\":\"label\"}", e256);
    refuse_twin(twins, "twins[0].entity: too long (257 bytes, limit 256)");
    snprintf(twins, sizeof twins, "{\"entity\":\"urn:x\",\"attr\":\"%sa\",\"show\":\"label\"}",
             a64);
    refuse_twin(twins, "twins[0].attr: too long (65 bytes, limit 64)");
    snprintf(twins, sizeof twins,
             "{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\",\"label\":\"%sa\"}", a64);
    refuse_twin(twins, "twins[0].label: too long (65 bytes, limit 64)");
    /* nine characters, eighteen bytes */
    refuse_twin("{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\","
                "\"unit\":\"\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2"
                "\xb5\"}",
                "twins[0].unit: too long (18 bytes, limit 16)");

    /* what a person might get wrong, beyond tests/scene-cases/ */
    static const struct {
        const char *twins, *want;
    } bad[] = {
        {"{\"entity\":\"urn\",\"attr\":\"a\",\"show\":\"label\"}", "entity: not a URI: it needs"},
        {"{\"entity\":\":x\",\"attr\":\"a\",\"show\":\"label\"}", "entity: not a URI: it needs"},
        {"{\"entity\":\"1urn:x\",\"attr\":\"a\",\"show\":\"label\"}",
         "entity: not a URI: it needs"},
        {"{\"entity\":\"urn:\",\"attr\":\"a\",\"show\":\"label\"}",
         "entity: not a URI: nothing after \"urn:\""},
        {"{\"entity\":\"urn:a<b\",\"attr\":\"a\",\"show\":\"label\"}",
         "entity: not a URI: '<' at offset 5"},
        {"{\"entity\":\"urn:a\\u00e9\",\"attr\":\"a\",\"show\":\"label\"}",
         "entity: not a URI: 0xc3 at offset 5"},
        {"{\"entity\":\"urn:a\\tb\",\"attr\":\"a\",\"show\":\"label\"}",
         "entity: not a URI: 0x09 at offset 5"},
        {"{\"entity\":\"urn:a`b\",\"attr\":\"a\",\"show\":\"label\"}",
         "entity: not a URI: '`' at offset 5"},
        {"{\"entity\":7,\"attr\":\"a\",\"show\":\"label\"}", "entity: expected a string"},
        {"{\"entity\":\"urn:x\",\"attr\":\"\",\"show\":\"label\"}", "attr: must not be empty"},
        {"{\"entity\":\"urn:x\",\"attr\":\"no2.value\",\"show\":\"label\"}",
         "attr: not an attribute name"},
        {"{\"entity\":\"urn:x\",\"show\":\"label\"}", "twins[0].attr: required field is missing"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\"}", "twins[0].show: required field is missing"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"Label\"}",
         "show: unknown show \"Label\""},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\",\"label\":\"\"}",
         "label: must not be empty"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\",\"unit\":null}",
         "unit: expected a string, got null"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"bar\"}",
         "range: required for show \"bar\""},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"bar\",\"range\":[1,1]}",
         "range: must be [min, max] with min < max, got [1, 1]"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"bar\",\"range\":[0,\"9\"]}",
         "twins[0].range[1]: expected a number, got a string"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"bar\",\"range\":[0,1,2]}",
         "range: expected 2 numbers, got 3"},
        {"{\"entity\":\"urn:x\",\"attr\":\"location\",\"show\":\"marker\",\"range\":[0,1],"
         "\"map\":{\"west\":0,\"south\":0,\"east\":1,\"north\":1}}",
         "range: not allowed for show \"marker\""},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"ramp\",\"range\":[0,1],"
         "\"colors\":[\"#00ff00\"]}",
         "colors: a ramp needs 2 to 5 colours, got 1"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"ramp\",\"range\":[0,1],"
         "\"colors\":[\"#00ff00\",0]}",
         "colors[1]: expected a colour string, got an integer"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"ramp\",\"range\":[0,1],\"colors\":{}}",
         "colors: expected an array"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"sparkline\",\"colors\":[\"#000000\","
         "\"#ffffff\"]}",
         "colors: not allowed for show \"sparkline\""},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\",\"stale_after\":0}",
         "stale_after: must be from 1 to 86400, got 0"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\",\"stale_after\":60.5}",
         "stale_after: expected an integer"},
        {"{\"entity\":\"urn:x\",\"attr\":\"location\",\"show\":\"marker\",\"map\":[0,0,1,1]}",
         "twins[0].map: expected an object"},
        {"{\"entity\":\"urn:x\",\"attr\":\"location\",\"show\":\"marker\","
         "\"map\":{\"west\":0,\"south\":0,\"east\":1}}",
         "map.north: required field is missing"},
        {"{\"entity\":\"urn:x\",\"attr\":\"location\",\"show\":\"marker\","
         "\"map\":{\"west\":0,\"south\":0,\"east\":181,\"north\":1}}",
         "map.east: must be from -180 to 180, got 181"},
        {"{\"entity\":\"urn:x\",\"attr\":\"location\",\"show\":\"marker\","
         "\"map\":{\"west\":0,\"south\":1,\"east\":1,\"north\":1}}",
         "map.north: must be greater than south (1)"},
        {"{\"entity\":\"urn:x\",\"attr\":\"location\",\"show\":\"marker\","
         "\"map\":{\"west\":0,\"south\":0,\"east\":1,\"north\":1,\"zoom\":3}}",
         "map.zoom: unknown field"},
        {"\"urn:x\"", "twins[0]: expected an object, got a string"},
        {"{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\"},"
         "{\"entity\":\"urn:x\",\"attr\":\"a\",\"show\":\"label\",\"stale_after\":5}",
         "twins[1]: the same entity, attr and show as twins[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse_twin(bad[i].twins, bad[i].want);

    /* twins belong to showcases only; not an array is refused */
    CHECK(!load_text("t.json",
                     TWIN_ROOM_HEAD "{\"type\":\"desk\",\"id\":\"d\",\"translation\":[0,0,0],"
                                    "\"twins\":[]}]}",
                     err, sizeof err) &&
              strstr(err, "t.json: places[0].twins: unknown field"),
          "%s", err);
    CHECK(!load_text("t.json",
                     TWIN_ROOM_HEAD "{\"type\":\"showcase\",\"id\":\"d\",\"translation\":[0,0,0],"
                                    "\"topic\":\"t\",\"twins\":{}}]}",
                     err, sizeof err) &&
              strstr(err, "t.json: places[0].twins: expected an array, got an object"),
          "%s", err);

    /* two showcases: the same binding on both is fine; the entity is listed once */
    s = load_text(
        "t.json",
        TWIN_ROOM_HEAD TWIN_SHOWCASE("a", "{\"entity\":\"urn:x:1\",\"attr\":\"a\",\"show\":"
                                          "\"label\"}") ","
                                                        "{\"type\":\"sign\",\"id\":\"s\","
                                                        "\"translation\":[0,1,0],\"size\":[1,1],"
                                                        "\"label\":\"S\"}," TWIN_SHOWCASE(
                                                            "b", "{\"entity\":\"urn:x:2\",\"attr\":"
                                                                 "\"a\",\"show\":\"label\"},"
                                                                 "{\"entity\":\"urn:x:1\",\"attr\":"
                                                                 "\"a\",\"show\":\"label\"}") "]}",
        err, sizeof err);
    CHECK(s && s->ntwins == 3 && s->ntwin_entities == 2 &&
              strcmp(s->twin_entities[1], "urn:x:2") == 0 && s->places[2].ntwins == 2 &&
              s->places[2].twins == &s->twins[1] && s->twins[2].place == 2,
          "two showcases: %s", s ? "wrong" : err);
    scene_free(s);

    /* SCENE_TWINS_ALL_MAX in all showcases, and one more */
    size_t cap = (size_t)128 * 1024, len = 0;
    char *big = malloc(cap);
    for (int extra = 0; big && extra < 2; extra++) {
        len = (size_t)snprintf(big, cap, TWIN_ROOM_HEAD);
        int places = SCENE_TWINS_ALL_MAX / SCENE_TWINS_MAX + extra;
        for (int p = 0; p < places; p++) {
            len += (size_t)snprintf(big + len, cap - len,
                                    "%s{\"type\":\"showcase\",\"id\":\"p%d\",\"translation\":[0,0,"
                                    "0],\"topic\":\"t\",\"twins\":[",
                                    p ? "," : "", p);
            for (int k = 0; k < SCENE_TWINS_MAX && (!extra || p < places - 1 || k == 0); k++)
                len += (size_t)snprintf(big + len, cap - len,
                                        "%s{\"entity\":\"urn:e:%d\",\"attr\":\"a%d\","
                                        "\"show\":\"label\"}",
                                        k ? "," : "", p, k);
            len += (size_t)snprintf(big + len, cap - len, "]}");
        }
        snprintf(big + len, cap - len, "]}");
        CHECK(len + 8 < cap, "buffer");
        s = load_text("t.json", big, err, sizeof err);
        if (!extra)
            CHECK(s && s->ntwins == SCENE_TWINS_ALL_MAX &&
                      s->ntwin_entities == SCENE_TWINS_ALL_MAX / SCENE_TWINS_MAX,
                  "at the limit: %s", s ? "wrong" : err);
        else
            CHECK(!s && strstr(err, "t.json: places: too many twin bindings in all showcases "
                                    "(1025, limit 1024)"),
                  "past the limit: %s", err);
        scene_free(s);
    }
    free(big);
}

/* ---- Inputs that are not files a person would write ---- */

static char tmpdir[64];

static void path_in_tmp(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Rooms by "order", ties and rooms without one by file name, the latter last. */
/* Rooms in the venue's order; and each room's interest tiers, defaulted,
 * off or set. */
static void test_order(void)
{
    static const struct {
        const char *file, *extra;
    } files[] = {{"a.json", ""},
                 {"b.json", "\"order\":5,\"interest\":false,"},
                 {"c.json", "\"order\":1,\"interest\":{\"from\":3,\"near\":4,\"band\":8,"
                            "\"band_hz\":2.5,\"budget\":5000},"},
                 {"d.json", "\"order\":5,\"interest\":{},"}};
    static const char *const want[] = {"c", "b", "d", "a"};
    char dir[300], path[400], err[512] = "";
    struct scene_set set;

    path_in_tmp(dir, sizeof dir, "order");
    CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].file);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL, "%s", path);
        if (!f)
            return;
        fprintf(
            f,
            "{\"format_version\":1,\"id\":\"%c\",\"name\":\"R\",\"capacity\":1,%s"
            "\"walk\":[{\"min\":[0,0],\"max\":[1,1]}],\"spawns\":[{\"id\":\"s\",\"p\":[0,0,0]}]}",
            files[i].file[0], files[i].extra);
        fclose(f);
    }
    int rc = scene_set_load(dir, &set, err, sizeof err);
    CHECK(rc == 0 && set.n == 4, "%s", err);
    for (size_t i = 0; rc == 0 && i < set.n; i++)
        CHECK(strcmp(set.scenes[i]->id, want[i]) == 0, "room %zu is %s, not %s", i,
              set.scenes[i]->id, want[i]);
    if (rc == 0) {
        const struct scene_interest *c = &set.scenes[0]->interest, *b = &set.scenes[1]->interest;
        const struct scene_interest *d = &set.scenes[2]->interest, *a = &set.scenes[3]->interest;
        CHECK(a->on && a->from == SCENE_INTEREST_FROM && a->near == SCENE_INTEREST_NEAR &&
                  a->band == SCENE_INTEREST_BAND && a->band_hz == SCENE_INTEREST_BAND_HZ &&
                  a->background_hz == SCENE_INTEREST_BG_HZ && a->budget == SCENE_INTEREST_BUDGET,
              "interest defaults");
        CHECK(memcmp(a, d, sizeof(*a)) == 0, "\"interest\":{} is the defaults");
        CHECK(!b->on, "\"interest\":false");
        CHECK(c->on && c->from == 3 && c->near == 4 && c->band == 8 && c->band_hz == 2.5 &&
                  c->background_hz == SCENE_INTEREST_BG_HZ && c->budget == 5000,
              "interest set");
        scene_set_free(&set);
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].file);
        unlink(path);
    }
    rmdir(dir);
}

static void test_odd_files(void)
{
    char path[256], err[512] = "";
    struct scene *s = NULL;

    CHECK(scene_load_file("scenes/demo/no-such-room.json", &s, err, sizeof err) != 0 && !s &&
              strstr(err, "no-such-room.json: cannot open"),
          "%s", err);
    CHECK(scene_load_file("scenes/demo", &s, err, sizeof err) != 0 &&
              strstr(err, "not a regular file"),
          "directory: %s", err);

    /* a FIFO must not hang start-up */
    path_in_tmp(path, sizeof path, "fifo.json");
    if (mkfifo(path, 0600) == 0) {
        CHECK(scene_load_file(path, &s, err, sizeof err) != 0 && strstr(err, "not a regular file"),
              "fifo: %s", err);
        unlink(path);
    }

    /* over 4 MiB: refused before it is parsed */
    path_in_tmp(path, sizeof path, "big.json");
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("{\"x-pad\":\"", f);
        for (int i = 0; i < SCENE_FILE_MAX / 64 + 1; i++)
            fputs("0123456789012345678901234567890123456789012345678901234567890123", f);
        fputs("\"}", f);
        fclose(f);
        CHECK(scene_load_file(path, &s, err, sizeof err) != 0 && strstr(err, "file too big"),
              "big: %s", err);
        unlink(path);
    }
    /* the same from memory */
    char *big = malloc(SCENE_FILE_MAX + 2);
    if (big) {
        memset(big, ' ', SCENE_FILE_MAX + 1);
        big[SCENE_FILE_MAX + 1] = '\0';
        CHECK(scene_load_mem("big.json", big, SCENE_FILE_MAX + 1, &s, err, sizeof err) != 0 &&
                  strstr(err, "big.json: file too big"),
              "%s", err);
        free(big);
    }

    /* more than 10000 nodes, counted over all levels */
    size_t cap = 512 + 20 * (SCENE_NODES_MAX + 4), len = 0;
    char *many = malloc(cap);
    if (many) {
        len += (size_t)sprintf(many, "{\"format_version\":1,\"id\":\"m\",\"name\":\"M\","
                                     "\"capacity\":1,\"walk\":[{\"min\":[0,0],\"max\":[1,1]}],"
                                     "\"spawns\":[{\"id\":\"s\",\"p\":[0,0,0]}],\"nodes\":[");
        for (int g = 0; g < 2; g++) {
            len +=
                (size_t)sprintf(many + len, "%s{\"type\":\"group\",\"children\":[", g ? "," : "");
            for (int i = 0; i < SCENE_NODES_MAX / 2 + 1; i++)
                len += (size_t)sprintf(many + len, "%s{\"type\":\"group\"}", i ? "," : "");
            len += (size_t)sprintf(many + len, "]}");
        }
        strcpy(many + len, "]}");
        CHECK(load_text("many.json", many, err, sizeof err) == NULL &&
                  strstr(err, "many.json: nodes[1].children[4997]: too many nodes (limit 10000)"),
              "%s", err);
        free(many);
    }

    /* a tiny buffer for the message, and none at all: truncated, never overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(load_text("t.json", "[]", small, sizeof small) == NULL && small[7] == '\0' &&
              strncmp(small, "t.json:", 7) == 0,
          "small err buffer");
    CHECK(load_text("t.json", "[]", NULL, 0) == NULL, "no err buffer");

    /* an empty directory, a missing one */
    struct scene_set set = {(struct scene **)1, 99};
    CHECK(scene_set_load(tmpdir, &set, err, sizeof err) != 0 && set.n == 0 && !set.scenes &&
              strstr(err, "no scene files"),
          "%s", err);
    CHECK(scene_set_load("/nonexistent/scenes", &set, err, sizeof err) != 0 &&
              strstr(err, "cannot open scene directory"),
          "%s", err);
}

/* ---- Hostile mutations of real scenes: errors, never crashes or leaks ---- */

static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Loads a mutated document; a failure must name the file, a success must be usable. */
static void try_doc(const char *path, const char *text, size_t len, unsigned *ok, unsigned *bad)
{
    struct scene *s = NULL;
    char err[512] = "";
    if (scene_load_mem(path, text, len, &s, err, sizeof err) == 0) {
        float p[3] = {1000, 0, 1000}, q[4];
        scene_clamp(s, p);
        scene_spawn_at(s, 7, p, q);
        if (!scene_walkable(s, p))
            (*bad)++;
        (*ok)++;
        scene_free(s);
    } else if (strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':') {
        (*bad)++;
        printf("  unnamed error: %s\n", err);
    }
}

/*
 * Replaces every value under from (doc itself or a container in it) by one of
 * each type in turn, and loads the whole document each time. Returns how many
 * documents it tried; doc is as it was afterwards.
 */
static unsigned mutate_values(const char *path, json_t *doc, json_t *from, unsigned *ok,
                              unsigned *bad)
{
    static const char *const subs[] = {"null", "\"x\"", "-1", "1e300", "0.5", "[]", "{}", "true"};
    unsigned tried = 0;
    /* walk the tree with an explicit stack of (container, index) */
    json_t *stack[64];
    size_t idx[64], depth = 0;
    stack[0] = from;
    idx[0] = 0;
    depth = 1;
    while (depth) {
        json_t *c = stack[depth - 1];
        size_t i = idx[depth - 1]++;
        json_t *child = NULL;
        const char *key = NULL;
        if (json_is_array(c)) {
            if (i >= json_array_size(c)) {
                depth--;
                continue;
            }
            child = json_array_get(c, i);
        } else {
            void *it = json_object_iter(c);
            for (size_t k = 0; it && k < i; k++)
                it = json_object_iter_next(c, it);
            if (!it) {
                depth--;
                continue;
            }
            key = json_object_iter_key(it);
            child = json_object_iter_value(it);
        }
        json_incref(child);
        for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++) {
            json_t *sub = json_loads(subs[k], JSON_DECODE_ANY, NULL);
            if (key)
                json_object_set_new(c, key, sub);
            else
                json_array_set_new(c, i, sub);
            char *t = json_dumps(doc, JSON_COMPACT);
            if (t)
                try_doc(path, t, strlen(t), ok, bad);
            free(t);
            tried++;
        }
        if (key)
            json_object_set(c, key, child);
        else
            json_array_set(c, i, child);
        json_decref(child);
        if ((json_is_object(child) || json_is_array(child)) && depth < 64) {
            stack[depth] = child;
            idx[depth++] = 0;
        }
    }
    return tried;
}

static void test_mutations(void)
{
    const char *path = "scenes/demo/breakout-2.json";
    size_t len = 0;
    char *text = read_all(path, &len);
    unsigned ok = 0, bad = 0;
    CHECK(text != NULL, "cannot read %s", path);
    if (!text)
        return;
    /* bytes: flips, truncations */
    char *m = malloc(len + 1);
    for (unsigned i = 0; m && i < 3000; i++) {
        memcpy(m, text, len + 1);
        size_t n = len;
        unsigned kind = rnd(3);
        if (kind == 0)
            m[rnd((unsigned)len)] = (char)rnd(256);
        else if (kind == 1)
            n = rnd((unsigned)len);
        else
            for (int k = 0; k < 8; k++)
                m[rnd((unsigned)len)] = "{}[],:\"0-e.\\ "[rnd(14)];
        try_doc(path, m, n, &ok, &bad);
    }
    free(m);
    CHECK(bad == 0, "byte mutations: %u bad outcomes", bad);

    /* values: every value in the document replaced by one of each type */
    json_t *doc = json_loads(text, 0, NULL);
    bad = 0;
    unsigned tried = doc ? mutate_values(path, doc, doc, &ok, &bad) : 0;
    json_decref(doc);
    CHECK(tried > 1000 && bad == 0, "value mutations: %u tried, %u bad outcomes", tried, bad);
    free(text);

    /* and every value of the expo's twin bindings, in a small room (loads are quicker) */
    json_t *expo = json_load_file("scenes/demo/expo.json", 0, NULL);
    json_t *places = json_object_get(expo, "places"), *small = json_array();
    doc = json_loads(TWIN_ROOM_HEAD "]}", 0, NULL);
    json_object_set_new(doc, "places", small);
    for (size_t i = 0; i < json_array_size(places); i++)
        if (json_object_get(json_array_get(places, i), "twins"))
            json_array_append_new(small, json_deep_copy(json_array_get(places, i)));
    tried = bad = 0;
    for (size_t i = 0; i < json_array_size(small); i++)
        tried += mutate_values("t.json", doc, json_array_get(small, i), &ok, &bad);
    CHECK(json_array_size(small) == 4, "%zu showcases", json_array_size(small));
    json_decref(doc);
    json_decref(expo);
    CHECK(tried > 500 && bad == 0, "twin mutations: %u tried, %u bad outcomes", tried, bad);
}

/* ---- Allocation failures at every point of a load ---- */

static void *j_malloc(size_t n)
{
    return oom_malloc(n);
}

/* Loads path failing at every allocation point in turn (jansson's allocator set by the caller). */
static void oom_every_point(const char *path)
{
    size_t len = 0;
    char *text = read_all(path, &len);
    char err[512];
    long n;
    if (!text) {
        CHECK(0, "cannot read %s", path);
        return;
    }
    bool all_clean = true;
    for (n = 0; n < 100000; n++) {
        struct scene *s = NULL;
        oom_countdown = n;
        oom_failed = 0;
        int rc = scene_load_mem(path, text, len, &s, err, sizeof err);
        oom_countdown = -1;
        if (oom_failed == 0) { /* every allocation succeeded: done */
            CHECK(rc == 0 && s, "%s without failures: %s", path, err);
            scene_free(s);
            break;
        }
        if (rc == 0) /* a failure jansson absorbed (an optional buffer): still whole */
            scene_free(s);
        else if (!strstr(err, "out of memory") && !strstr(err, "not valid JSON"))
            all_clean = false;
    }
    CHECK(n > 100 && n < 100000, "%s: %ld allocation points", path, n);
    CHECK(all_clean, "%s: an allocation failure gave another error: %s", path, err);
    free(text);
}

static void test_oom(void)
{
    struct scene_set set;
    char err[512];
    long n;
    json_set_alloc_funcs(j_malloc, free);
    oom_every_point("scenes/demo/plenary.json");
    oom_every_point("scenes/demo/expo.json"); /* twin bindings and their entities */
    /* and a whole venue, failing at a spread of points */
    for (n = 0; n < 4000; n += 37) {
        oom_countdown = n;
        int rc = scene_set_load(DEMO, &set, err, sizeof err);
        oom_countdown = -1;
        if (rc == 0)
            scene_set_free(&set);
        else
            CHECK(set.n == 0 && set.scenes == NULL, "set left after failure at %ld", n);
    }
    json_set_alloc_funcs(malloc, free);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_scene.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_demo();
    test_portals_round_trip();
    test_geometry();
    test_spawns();
    test_demo_twins();
    test_twins();
    test_order();
    test_odd_files();
    test_mutations();
    test_oom();
    rmdir(tmpdir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
