/*
 * voice_link.h - venued's voice, put together: the Janus client
 * (server/voice) carries out what the core (core/voice.c) decides, and
 * Janus' events (up, down, publishers, talking) go back to the core. Only
 * when --janus is set; without it the core tells clients voice is off.
 */
#ifndef VENUE_VOICE_LINK_H
#define VENUE_VOICE_LINK_H

#include <stddef.h>

struct server;
struct voice_link;

/* Read --janus-secrets, start the client on srv's context and attach the
 * venue to it. NULL with err for a bad file or URL (Janus being down is no
 * error: voice comes when it does). The link is freed by voice_link_free. */
struct voice_link *voice_link_new(struct server *srv, char *err, size_t errlen);
/* Before lws_context_destroy. NULL is fine. */
void voice_link_free(struct voice_link *l);

#endif
