/*
 * twins.h - live digital-twin data kept across restarts: the latest value
 * of every attribute of every entity a city broker has sent, and a bounded
 * history of each attribute.
 *
 * On the store's database, SQLite or PostgreSQL (own tables and statements).
 * The venue writes in batches from its flush, never per notification, and
 * reads everything back once at start.
 */
#ifndef VENUE_TWINS_H
#define VENUE_TWINS_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

#define TWINS_HISTORY_DEFAULT 500 /* values kept per attribute */

enum twin_kind { TWIN_NUMBER, TWIN_STRING, TWIN_BOOL, TWIN_JSON };

/* One attribute's value. Strings borrowed: when writing, from the caller;
 * when reading, valid only during the callback. */
struct twin_value {
    const char *entity; /* the entity's URI, e.g. urn:ngsi-ld:AirQualityObserved:a1 */
    const char *etype;  /* its type, e.g. AirQualityObserved */
    const char *attr;   /* the attribute, e.g. no2 */
    enum twin_kind kind;
    double num;            /* TWIN_NUMBER; TWIN_BOOL as 0 or 1 */
    const char *text;      /* TWIN_STRING: the string; TWIN_JSON: compact JSON text */
    const char *unit;      /* UN/CEFACT unit code, "" when none */
    long long observed_ms; /* when it was measured, ms since the epoch; 0 unknown */
    long long received_ms; /* when venued got it */
    const char *source;    /* the subscription it came through, "" when unknown */
};

struct twins;

/* Open on st's database (creating its tables), keeping history_max
 * (1..100000) values per attribute; st must outlive it. NULL with a
 * reason in err. */
struct twins *twins_open(struct store *st, int history_max, char *err, size_t errlen);
void twins_close(struct twins *t);

/* Write n values, oldest first, in one transaction: each joins its
 * attribute's history, the last of each attribute becomes its latest, and
 * the history is trimmed to history_max. All or nothing. */
int twins_put(struct twins *t, const struct twin_value *v, size_t n);
/* Call fn with the latest value of every attribute, by entity then name. */
int twins_latest_each(struct twins *t, void (*fn)(void *arg, const struct twin_value *v),
                      void *arg);
/* Call fn with the newest max values of entity's attribute attr (every
 * attribute when attr is NULL), oldest first. */
int twins_history_each(struct twins *t, const char *entity, const char *attr, size_t max,
                       void (*fn)(void *arg, const struct twin_value *v), void *arg);

/* The last error, for a log line. */
const char *twins_error(struct twins *t);

#endif
