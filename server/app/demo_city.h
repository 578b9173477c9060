/*
 * demo_city.h - a simulated Lyon for the demo expo: the NGSI-LD
 * notifications a city broker would send for the entities the demo scene
 * binds (scenes/demo/expo.json), with values that follow the local time of
 * day (traffic rush hours, NO2 peaks with them, afternoon ozone, the
 * temperature cycle, a station car park filling in the morning, a town
 * hall's office-hours power) plus a little correlated noise.
 *
 * This module owns the model and the notification's body; it has no
 * socket and reads no clock: the caller passes the wall-clock time.
 * `venued demo-feed` (cli_twin.c) posts what it makes.
 */
#ifndef VENUE_DEMO_CITY_H
#define VENUE_DEMO_CITY_H

#include <jansson.h>
#include <stdint.h>

/* The noise channels: one slowly wandering value per simulated series. */
#define DEMO_CITY_CHANNELS 16

/* The subscription the notifications say they come through. */
#define DEMO_CITY_SUBSCRIPTION "urn:ngsi-ld:Subscription:venue-demo-feed"

/* The city's state between notifications; plain data, nothing to free. */
struct demo_city {
    uint64_t rng;                     /* the generator's state (never 0) */
    double noise[DEMO_CITY_CHANNELS]; /* each about N(0,1), correlated in time */
    double energy_kwh;                /* the town hall's import since local midnight */
    long long energy_ms;              /* when energy_kwh was last advanced; 0: never */
    int energy_day;                   /* the local day (tm_yday) energy_kwh counts */
    unsigned long long notifications; /* made so far (ids are unique per run) */
};

/* Start a city from seed (any value; the same seed plays the same noise). */
void demo_city_init(struct demo_city *c, uint64_t seed);

/*
 * The next notification at the wall-clock time now_ms (ms since the
 * epoch): {"id","type":"Notification","subscriptionId","notifiedAt",
 * "data":[...]} with every demo entity in the normalized form (unitCode and
 * observedAt on each measured property), without @context: it is sent as
 * application/json with the core context in a Link header. Returns a new
 * reference, or NULL when memory runs out.
 */
json_t *demo_city_notification(struct demo_city *c, long long now_ms);

#endif
