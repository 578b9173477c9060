/*
 * find.h - finding a person across the venue (find, answered by found),
 * arriving beside them (join.near), and each session's privacy settings
 * (the privacy message: whether it may be found, whether it takes direct
 * messages).
 *
 * Beside moderation, above rooms and sessions: the dispatcher hands it
 * find, privacy and a join that names near. Nothing here runs per tick: a
 * find is one linear scan over the venue's sessions, bounded by the
 * sender's chat rate bucket (MRATE_CHAT: a search costs what a chat line
 * does, not what a pose does).
 */
#ifndef VENUE_FIND_H
#define VENUE_FIND_H

#include <stdbool.h>

#include "proto.h"
#include "scene.h"

struct venue;
struct session;
struct room;
struct scene;

/* find: the people seeker may find whose name holds q, at most
 * PROTO_FIND_MAX, answered with found (truncated when there were more). */
void find_handle(struct venue *v, struct session *s, const struct proto_msg *m);
/* privacy: change the fields sent (a registered user's are stored first;
 * nothing changes when that fails), then echo the settings in force. */
void find_privacy(struct venue *v, struct session *s, const struct proto_msg *m);
/* Queue privacy with s's settings (re may be NULL): after welcome, so that
 * a reload or resume shows the truth. */
void find_send_privacy(struct venue *v, struct session *s, const struct proto_id *re);
/* A registered user's stored settings into s (defaults when none). */
void find_load_privacy(struct venue *v, struct session *s);
/* join with near: enter r, beside near when they are in r. */
void find_join_near(struct venue *v, struct session *s, struct room *r, const char *near,
                    const struct proto_id *re);

/*
 * Whether seeker may find t: t said hello, is not gone, is in a room, is
 * not seeker, and is findable; a guest only by someone in its own room.
 */
bool find_visible(const struct session *seeker, const struct session *t);
/*
 * Whether name holds q, ignoring case: ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic capitals are folded to their small letters; anything
 * else must match exactly. Both valid UTF-8 (as the parser leaves them); a
 * string longer than PROTO_NAME_MAX code points is cut there.
 */
bool find_name_matches(const char *name, const char *q);
/*
 * Where to stand beside someone at tp facing tq in scene sc: behind them,
 * else beside, else in front, 1.5 m away and then 2.5 m, on the walkable
 * floor, outside every portal and off the stage place no_stage (NULL:
 * none) says is not for the joiner. Writes p (on the floor there) and q
 * (facing them) and returns true; false when no such place is free.
 */
bool find_place_near(const struct scene *sc, const struct scene_place *no_stage, const float tp[3],
                     const float tq[4], float p[3], float q[4]);

#endif
