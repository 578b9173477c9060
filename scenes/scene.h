/*
 * scene.h - scene descriptions: load, validate, and answer the geometric
 * questions the server asks of a room (is this point walkable, where is the
 * nearest walkable point, which portal is here, where do people spawn), and
 * say which live city data (NGSI-LD entities) its showcases bind.
 *
 * A struct scene is immutable once loaded and owns all its memory; free it
 * with scene_free. A struct scene_set owns its scenes. scenes/FORMAT.md and
 * scenes/scene.schema.json describe the file format.
 */
#ifndef VENUE_SCENE_H
#define VENUE_SCENE_H

#include <stdbool.h>
#include <stddef.h>

#define SCENE_ID_MAX 64

/* Limits on hostile or absurd input; a file past one is refused with a message. */
#define SCENE_FILE_MAX       (4 * 1024 * 1024) /* bytes in one scene file */
#define SCENE_NODES_MAX      10000             /* nodes in one scene, all levels */
#define SCENE_DEPTH_MAX      32                /* nesting of node children */
#define SCENE_PLACES_MAX     10000             /* places, seat_rows expanded */
#define SCENE_SPAWNS_MAX     256
#define SCENE_PORTALS_MAX    64
#define SCENE_WALK_MAX       64      /* polygons in the walkable area */
#define SCENE_VERTS_MAX      1024    /* vertices in one polygon */
#define SCENE_WALK_VERTS_MAX 4096    /* vertices in all polygons of a scene */
#define SCENE_ROOMS_MAX      256     /* scene files in one venue */
#define SCENE_COORD_MAX      10000.0 /* |coordinate| in metres */
#define SCENE_TWINS_MAX      16      /* twin bindings in one showcase */
#define SCENE_TWINS_ALL_MAX  1024    /* twin bindings in one scene, all showcases */

/* Twin bindings (scenes/FORMAT.md, "Live data in a showcase"): bytes without the NUL. */
#define SCENE_TWIN_ENTITY_MAX 256 /* an entity's URI */
#define SCENE_TWIN_ATTR_MAX   64  /* an attribute name */
#define SCENE_TWIN_LABEL_MAX  64
#define SCENE_TWIN_UNIT_MAX   16
#define SCENE_TWIN_COLORS_MAX 5     /* colours of a ramp */
#define SCENE_TWIN_STALE      900   /* stale_after when absent, seconds */
#define SCENE_TWIN_STALE_MAX  86400 /* seconds */

struct scene_spawn {
    char id[SCENE_ID_MAX + 1];
    float p[3]; /* on the floor, inside the walkable area */
    float q[4]; /* x, y, z, w; unit */
};

/* Walking into the trigger box takes you to room/spawn. */
struct scene_portal {
    char id[SCENE_ID_MAX + 1];
    float min[3], max[3]; /* axis-aligned trigger volume */
    char room[SCENE_ID_MAX + 1];
    char spawn[SCENE_ID_MAX + 1];
};

/* A simple polygon on the floor plane, vertices as (x, z) pairs. */
struct scene_poly {
    float (*v)[2];
    size_t n;
    float y; /* floor height of this polygon (the scene's floor_y unless given) */
};

/* What a place is for (scenes/FORMAT.md, "Places"). */
enum scene_place_type {
    SCENE_PLACE_STAGE,
    SCENE_PLACE_SCREEN,
    SCENE_PLACE_SEAT,
    SCENE_PLACE_DESK,
    SCENE_PLACE_SHOWCASE,
    SCENE_PLACE_BOARD,
    SCENE_PLACE_SIGN,
};

/* How a showcase shows one attribute. */
enum scene_twin_show {
    SCENE_TWIN_LABEL,     /* value, unit and age as text */
    SCENE_TWIN_RAMP,      /* a colour ramp over range */
    SCENE_TWIN_BAR,       /* a bar whose height follows the value over range */
    SCENE_TWIN_SPARKLINE, /* recent history (over range when has_range) */
    SCENE_TWIN_MARKER,    /* a marker on a small map at the entity's location */
};

/*
 * One binding of live city data to a showcase: attribute attr of the NGSI-LD
 * entity entity, shown as show. Unique in its showcase by (entity, attr, show).
 */
struct scene_twin_binding {
    char entity[SCENE_TWIN_ENTITY_MAX + 1]; /* URI, "urn:ngsi-ld:AirQualityObserved:x" */
    char attr[SCENE_TWIN_ATTR_MAX + 1];     /* [A-Za-z0-9_], "no2" */
    enum scene_twin_show show;
    size_t place;                          /* index of its showcase in the scene's places */
    char label[SCENE_TWIN_LABEL_MAX + 1];  /* "" when absent: the client shows attr */
    bool has_unit;                         /* unit given (it may be "": show no unit) */
    char unit[SCENE_TWIN_UNIT_MAX + 1];    /* "" when absent: the client maps the unitCode */
    bool has_range;                        /* always for ramp and bar; never for label and marker */
    double range[2];                       /* min < max, when has_range */
    size_t ncolors;                        /* ramp colours, low to high; 0: the default */
    char colors[SCENE_TWIN_COLORS_MAX][8]; /* "#rrggbb" */
    int stale_after; /* seconds after observedAt; SCENE_TWIN_STALE if absent */
    double map[4];   /* marker: west, south, east, north, degrees (attr is the GeoProperty) */
};

/* A place with a purpose. seat_rows blocks arrive here expanded into seats. */
struct scene_place {
    char id[SCENE_ID_MAX + 1];
    enum scene_place_type type;
    float p[3]; /* translation, room coordinates */
    float q[4]; /* x, y, z, w; unit; the place's front faces its local +Z */
    bool has_volume;
    float min[3], max[3];         /* axis-aligned volume when has_volume (always for a stage) */
    char topic[SCENE_ID_MAX + 1]; /* showcase topic ("air-quality"), "" for other types */
    const struct scene_twin_binding *twins; /* showcase bindings, borrowed from the scene's twins */
    size_t ntwins;                          /* 0 for other types and a showcase without twins */
};

/* An arrival point of scene_spawn_at, worked out at load. */
struct scene_arrival {
    float p[3];
    size_t spawn; /* index into spawns, whose q it takes */
};

/*
 * Interest tiers (the file's "interest"): in a room of at least from
 * members, each receiver gets the movers among its nearest near others
 * every tick, the next band at band_hz and everyone else at
 * background_hz, its poses frames held to budget bytes a second beyond
 * the nearest tier.
 */
struct scene_interest {
    bool on;
    int from, near, band;
    double band_hz, background_hz;
    int budget;
};

#define SCENE_INTEREST_FROM    500
#define SCENE_INTEREST_NEAR    32
#define SCENE_INTEREST_BAND    256
#define SCENE_INTEREST_BAND_HZ 5.0
#define SCENE_INTEREST_BG_HZ   1.0
#define SCENE_INTEREST_BUDGET  64000

struct scene {
    char id[SCENE_ID_MAX + 1];
    char *name;
    char *description;
    int capacity;
    int order; /* place in the venue's room list, SCENE_ORDER_LAST when the file gives none */
    struct scene_interest interest;
    float floor_y;
    struct scene_poly *walk; /* walkable area: union of polygons (boxes become polygons) */
    size_t nwalk;
    struct scene_spawn *spawns; /* at least one */
    size_t nspawns;
    struct scene_portal *portals;
    size_t nportals;
    char *json; /* the document as served: compact JSON text, owned */
    size_t json_len;
    char etag[48]; /* strong ETag of json, quotes included: "\"...\"" */
    char *path;    /* file it came from, for messages */
    /* Registration and moderation (all optional in the file). */
    int reserved_seats;              /* of capacity, held for speakers and moderators */
    char overflow[SCENE_ID_MAX + 1]; /* room to send people to when full, "" if none */
    bool guests_enter;               /* guests (not registered) may join; default true */
    bool guests_chat;                /* guests may chat; default true */
    struct scene_place *places;      /* every place, seat_rows expanded, in file order */
    size_t nplaces;
    struct scene_arrival *arrivals; /* for scene_spawn_at, owned; at least one */
    size_t narrivals;
    /* Live data: every showcase's bindings, in file order, owned (places point into it). */
    struct scene_twin_binding *twins;
    size_t ntwins;
    /* The distinct entity URIs bound anywhere in the scene, first seen first, owned. */
    char (*twin_entities)[SCENE_TWIN_ENTITY_MAX + 1];
    size_t ntwin_entities;
};

#define SCENE_ORDER_LAST 1000000

/* Every scene of a venue, one per room, by order, then file name. */
struct scene_set {
    struct scene **scenes;
    size_t n;
};

/*
 * Load and validate one scene file. Returns 0 and sets *out (caller frees
 * with scene_free), or -1 and writes "file: path.to.field: what is wrong"
 * into err. Checks the schema and the geometry: quaternions normalised,
 * polygons simple and non-empty, spawn points inside the walkable area,
 * unique ids within the scene.
 */
int scene_load_file(const char *path, struct scene **out, char *err, size_t errlen);

/*
 * Load every *.json scene in dir and check what spans scenes: unique room
 * ids, portals leading to rooms and spawn points that exist. Returns 0 and
 * fills *set (caller frees with scene_set_free), or -1 with err as above;
 * on failure *set is left empty.
 */
int scene_set_load(const char *dir, struct scene_set *set, char *err, size_t errlen);
void scene_set_free(struct scene_set *set);
const struct scene *scene_set_find(const struct scene_set *set, const char *room_id);

/*
 * The same from a buffer of len bytes (not necessarily NUL-terminated);
 * path names it in messages and locates the assets its URLs point at.
 * Never keeps a pointer into buf.
 */
int scene_load_mem(const char *path, const char *buf, size_t len, struct scene **out, char *err,
                   size_t errlen);

void scene_free(struct scene *s);

/* True if (p[0], p[2]) lies inside the walkable area (edges count). */
bool scene_walkable(const struct scene *s, const float p[3]);

/*
 * Move p to the nearest point of the walkable area (unchanged if already
 * inside) and set p[1] to the floor height. Returns true if p moved
 * horizontally.
 */
bool scene_clamp(const struct scene *s, float p[3]);

/*
 * Floor height at (p[0], p[2]): the highest walkable polygon there (a
 * raised stage), else the scene's floor_y.
 */
float scene_floor_at(const struct scene *s, const float p[3]);

/* The portal whose trigger volume holds p, or NULL. */
const struct scene_portal *scene_portal_at(const struct scene *s, const float p[3]);

/* A spawn point by id, or NULL. */
const struct scene_spawn *scene_spawn_find(const struct scene *s, const char *id);

/*
 * Where the k-th arrival spawns: cycles over the spawn points and, on each
 * round, offsets by a small ring so that people do not stack, keeping the
 * result walkable. Writes p and q. (The points are worked out at load:
 * walkable, outside portal triggers, at least 0.5 m apart, enough for the
 * capacity when the area allows; after the last the list starts again.)
 */
void scene_spawn_at(const struct scene *s, unsigned k, float p[3], float q[4]);

/*
 * Where the k-th arrival at one spawn point lands (k = 0 on the point
 * itself, then on rings around it), e.g. people coming through a portal.
 * The result is walkable, on the spawn's floor and outside every portal
 * trigger; sp must belong to s.
 */
void scene_spawn_near(const struct scene *s, const struct scene_spawn *sp, unsigned k, float p[3],
                      float q[4]);

/* A place by id (seats from seat_rows too), or NULL. */
const struct scene_place *scene_place_find(const struct scene *s, const char *id);

/* The first place of this type whose volume holds p, or NULL: who is on stage. */
const struct scene_place *scene_place_at(const struct scene *s, enum scene_place_type type,
                                         const float p[3]);

/* "stage", "screen", ... as in the file. */
const char *scene_place_type_name(enum scene_place_type type);

/* True if a showcase of sc binds the entity with this URI (compared exactly). */
bool scene_binds_entity(const struct scene *sc, const char *entity);

/* "label", "ramp", ... as in the file. */
const char *scene_twin_show_name(enum scene_twin_show show);

#endif
