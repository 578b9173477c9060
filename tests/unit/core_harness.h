/*
 * core_harness.h - drive the venue core without a network, for the unit
 * tests: a fake transport that records what the core asks of it, a clock
 * the test sets, and helpers that speak the protocol.
 */
#ifndef VENUE_CORE_HARNESS_H
#define VENUE_CORE_HARNESS_H

#include <jansson.h>
#include <stdio.h>

#include "check.h"
#include "poses_bin.h"
#include "scene.h"
#include "registry.h"
#include "venue.h"

/* The fake transport: one struct per connection. */
struct fconn {
    struct session *s;
    char user_id[32];
    int closed_code; /* set when the core closes it */
    char reason[64];
    char farewell[256]; /* the last frame written before the close */
    int wakes;
    struct poses_bin_bounds bounds;       /* from the last joined drained: for binary poses */
    struct poses_bin_bounds stage_bounds; /* from the last stage drained: its entries' */
};

extern const struct venue_io io;
extern struct scene_set scenes;
extern struct venue_config cfg;
extern long long now;

void send_text(struct venue *v, struct fconn *c, const char *text);
/* Pop every queued frame of c and return them as a JSON array (new ref).
 * A binary poses frame comes as {"type":"poses","binary":true,"tick",
 * "users":[{"ix","p","q"}]}, decoded against the bounds of c's last
 * joined (entries of stage people, which keep POSES_BIN_STAGE in ix,
 * against its last stage message's). */
json_t *drain(struct venue *v, struct fconn *c);
const char *type_of(json_t *m);
/* The first message of this type in msgs, borrowed, or NULL. */
json_t *find(json_t *msgs, const char *type);
size_t count(json_t *msgs, const char *type);
/* A new connection that says hello as name (a guest); the caller frees it. */
struct fconn *connect_as(struct venue *v, const char *name, char *resume_out);
/* The same with a hello text of the caller's; CHECKs for a welcome. */
struct fconn *connect_hello(struct venue *v, const char *hello, char *resume_out);
/* Join room and return where the joiner stands (from its roster entry). */
void join_at(struct venue *v, struct fconn *c, const char *room, float pos[3]);
void join(struct venue *v, struct fconn *c, const char *room);
/* A new connection that says hello with a registration token, then joins
 * room (NULL: none); the caller frees it. */
struct fconn *enter_token(struct venue *v, const char *token, const char *room);
/* Send {"type":"mod","id":"m",BODY} from c: "mod_ok", the error's code, or
 * "none"; valid until the next call. */
const char *mod_send(struct venue *v, struct fconn *c, const char *body);
/* How many entries of action reg's audit log holds. */
size_t audit_count(struct registry *reg, const char *action);

/* A person registered by a test: its id and join token. */
struct registered {
    char id[REG_ID_MAX];
    char token[REG_TOKEN_LEN + 1];
};
/* Register name with role (org "City of Test") at wall time at_ms; CHECKs it. */
void registered_add(struct registry *reg, struct registered *p, const char *name, enum role role,
                    long long at_ms);
struct store;
/* A store and its registry in a new folder made from the mkdtemp template
 * dir (check_store_open: on PostgreSQL when VENUE_TEST_PG is set). 0, or -1
 * with the reason printed. */
int open_store(char *dir, struct store **st, struct registry **reg);
/* Close both and remove the folder (CHECKed). */
void remove_store(const char *dir, struct store *st, struct registry *reg);

#endif
