/*
 * voice.h - who may speak and who hears whom, room by room. The media
 * server's client (server/voice, through struct venue_voice_io) carries the
 * decisions out; this file only decides and tells the clients (`voice`,
 * `voice_peers`, PROTOCOL.md "Voice").
 *
 * Each room has a voice room. In a room with a stage (a hall, and its
 * overflow, which hears the hall) only stage rights publish and everyone
 * hears every publisher; elsewhere everyone may publish (unless a moderator
 * locked the microphones) and each listener is told the publishers within
 * VOICE_RANGE_M, nearest first. A publisher that may not speak is muted in
 * the media server at once; one venued does not know is kicked.
 *
 * In the core: rooms call in as people come and go, venue.c at each tick
 * and for the media server's events; this calls only session.h. The
 * session owns its token and participant id; the venue owns the scratch.
 */
#ifndef VENUE_VOICE_H
#define VENUE_VOICE_H

#include <stdbool.h>
#include <stdint.h>

struct venue;
struct session;
struct room;

#define VOICE_RANGE_M     15.0f /* beyond this a voice is not heard, nor subscribed */
#define VOICE_PEERS_MAX   32    /* publishers one listener is told to hear */
#define VOICE_SWEEP_MS    1000  /* rights and peers looked at again this often */
#define VOICE_TOKEN_BYTES 16    /* random bytes of one session's token (hex on the wire) */

/* s has just entered s->room: its token may join the voice rooms there. */
void voice_joined(struct venue *v, struct session *s);
/* s has just left r: its token may no longer join r's, its media there ends
 * and its next participant id is a new one. */
void voice_left(struct venue *v, struct session *s, struct room *r);
/* Queue the `voice` message for s as things stand. */
void voice_send(struct venue *v, struct session *s);
/* s is going away for good: its token is withdrawn. */
void voice_forget(struct venue *v, struct session *s);
/* Whether s may publish in its room now. */
bool voice_may_publish(const struct venue *v, const struct session *s);
/* Something that rights depend on changed: look again at the next tick. */
void voice_touch(struct venue *v);
/* Rights, mutes and peers: at every tick after voice_touch, else every
 * VOICE_SWEEP_MS. */
void voice_tick(struct venue *v);
/* The member of r whose participant id this is, or NULL. */
struct session *voice_find(const struct venue *v, const struct room *r, uint64_t participant);
/* Every session in a room: allowed again (the media server came back or
 * was attached). */
void voice_admit_all(struct venue *v);

#endif
