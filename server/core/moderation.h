/*
 * moderation.h - the `mod` actions of moderators and admins, the rank
 * rules that govern them, their audit, and the breakouts they start.
 *
 * Above rooms and sessions; called by the dispatcher and the tick. The
 * venue owns the running breakouts.
 */
#ifndef VENUE_MODERATION_H
#define VENUE_MODERATION_H

#include "proto.h"
#include "session.h"

struct venue;
struct session;
struct room;

/* A breakout running from one room: its people come back together. Its
 * moderators (those in from or in one of its rooms) get a breakout_view
 * of who is where at the tick after any of these rooms' members change,
 * at most once every MOD_VIEW_MS. */
#define MOD_VIEW_MS 1000
struct breakout {
    struct room *from;
    struct room *to[PROTO_MOD_ROOMS_MAX]; /* its rooms; borrowed from the venue */
    size_t nto;
    char actor_id[SESSION_ID_LEN];
    char actor_name[PROTO_NAME_MAX * 4 + 1];
    long long started_ms;   /* on the core's clock */
    long long ends_ms;      /* on the core's clock */
    int minutes;            /* as asked for */
    unsigned long seen_gen; /* the rooms' members_gen summed when the view was last sent */
    long long view_ms;      /* when it was sent, on the core's clock */
};

/* One checked mod message from actor: done and answered with mod_ok, or
 * refused with an error naming why. */
void mod_handle(struct venue *v, struct session *actor, const struct proto_msg *m);
/* Write one action to the audit log; actor NULL: the venue itself (the
 * clock's recall of a breakout, a session starting or ending on time). */
void mod_audit(struct venue *v, const struct session *actor, const char *action, const char *target,
               const struct room *room, const char *reason);
/* Breakouts whose time is up come back; their views go to their moderators. */
void mod_tick(struct venue *v);
/*
 * Another node's moderator acted on user_id, whom this node holds (the
 * mesh says so): action is kick, ban, unban, mute or unmute, as
 * proto_mod_action_name names it; room_id the ban's (NULL: the venue),
 * until the sanction's end (0: none). The sanction is kept in this node's
 * registry too; the audit is the other node's. Anything else is ignored.
 */
void mod_enforce(struct venue *v, const char *user_id, const char *action, const char *room_id,
                 long long until, const char *reason, const char *by);
/* s resumed (its page forgot what it knew): if it moderates in a room of a
 * running breakout, that breakout's view goes out again at the next tick. */
void mod_resumed(struct venue *v, const struct session *s);

/*
 * Whether a guest's hello (its name, hello.browser, the connection's
 * address) comes from someone a moderator kicked less than --kick-minutes
 * ago: the same browser id, or the same address under the same name
 * (letters compared without case). Returns the whole minutes left, at
 * least 1, or 0 when it may come in.
 */
int mod_kicked_minutes(const struct venue *v, const char *name, const char *browser,
                       const char *addr);

#endif
