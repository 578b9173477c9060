/*
 * scene.h - scene descriptions: load, validate, and answer the geometric
 * questions the server asks of a room (is this point walkable, where is the
 * nearest walkable point, which portal is here, where do people spawn).
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
};

struct scene {
    char id[SCENE_ID_MAX + 1];
    char *name;
    char *description;
    int capacity;
    float floor_y;
    struct scene_poly *walk; /* walkable area: union of polygons (boxes become polygons) */
    size_t nwalk;
    struct scene_spawn *spawns; /* at least one */
    size_t nspawns;
    struct scene_portal *portals;
    size_t nportals;
    char *json;      /* the document as served: compact JSON text, owned */
    size_t json_len;
    char etag[48];   /* strong ETag of json, quotes included: "\"...\"" */
    char *path;      /* file it came from, for messages */
};

/* Every scene of a venue, one per room, in file-name order. */
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

void scene_free(struct scene *s);

/* True if (p[0], p[2]) lies inside the walkable area (edges count). */
bool scene_walkable(const struct scene *s, const float p[3]);

/*
 * Move p to the nearest point of the walkable area (unchanged if already
 * inside) and set p[1] to the floor height. Returns true if p moved
 * horizontally.
 */
bool scene_clamp(const struct scene *s, float p[3]);

/* The portal whose trigger volume holds p, or NULL. */
const struct scene_portal *scene_portal_at(const struct scene *s, const float p[3]);

/* A spawn point by id, or NULL. */
const struct scene_spawn *scene_spawn_find(const struct scene *s, const char *id);

/*
 * Where the k-th arrival spawns: cycles over the spawn points and, on each
 * round, offsets by a small ring so that people do not stack, keeping the
 * result walkable. Writes p and q.
 */
void scene_spawn_at(const struct scene *s, unsigned k, float p[3], float q[4]);

#endif
