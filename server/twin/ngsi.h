/*
 * ngsi.h - NGSI-LD notifications: one untrusted HTTP body in, a checked,
 * bounded struct ngsi_notification out.
 *
 * This module owns the reading of what a context broker (Orion-LD,
 * Stellio, Scorpio) POSTs to /ngsi-ld/v1/notify: the media type, the Link
 * header, the notification and its entities, and each attribute in any of
 * the three forms (normalized, concise, keyValues), told apart attribute by
 * attribute and never by a flag. It has no socket, no database and no
 * clock; it keeps no pointer into the body and never fetches a @context.
 * Names are taken as the broker compacted them; an expanded IRI is cut to
 * its last segment. /work/shared/NGSI-LD.md says what brokers send.
 *
 * Ownership: a struct ngsi_notification owns its entities, each entity its
 * attributes, each value its text; ngsi_free releases all of it.
 *
 * How a caller answers (NGSI-LD.md: brokers retry or fail a subscription on
 * errors, and Stellio counts only 200 as delivered):
 *   body over NGSI_BODY_MAX                 413, before reading all of it
 *   ngsi_media_type fails                   415 (Content-Type unsupported)
 *   ngsi_parse fails for any other reason   400 with the message as detail
 *   ngsi_parse succeeds                     200
 * ngsi_parse checks the media type too, so a caller that skips the 415
 * check still refuses the body (with 400). The one failure that is not the
 * body's is memory running out ("...: out of memory"). Nothing here keeps
 * state between calls: any thread may parse at any time.
 */
#ifndef VENUE_NGSI_H
#define VENUE_NGSI_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds. Past any of them the notification is refused whole, and the
 * message says which bound (bytes are UTF-8 bytes, without the NUL). */
#define NGSI_BODY_MAX     262144 /* bytes of one body: 256 KiB */
#define NGSI_DEPTH_MAX    32     /* nesting of arrays and objects */
#define NGSI_ENTITIES_MAX 100    /* entities in data */
#define NGSI_ATTRS_MAX    64     /* attributes of one entity */
#define NGSI_NAME_MAX     64     /* an attribute name, after shortening */
#define NGSI_TYPE_MAX     64     /* an entity type, after shortening */
#define NGSI_ID_MAX       256    /* ids, subscription ids, relationship targets, URLs */
#define NGSI_UNIT_MAX     16     /* a unitCode (UN/CEFACT codes have 2-3) */
#define NGSI_TEXT_MAX     1024   /* a string value */
#define NGSI_JSON_MAX     4096   /* a JSON value, as compact text */
#define NGSI_ERR_SIZE     256    /* an err buffer this big holds any message whole */

/* The one JSON-LD context relation (RFC 8288 Link rel), compared exactly. */
#define NGSI_CONTEXT_REL "http://www.w3.org/ns/json-ld#context"

enum ngsi_media {
    NGSI_MEDIA_JSON,    /* application/json: the context comes in a Link header */
    NGSI_MEDIA_LD_JSON, /* application/ld+json: @context in the body, if anywhere */
};

/* What a value is. */
enum ngsi_kind {
    NGSI_NULL,   /* JSON null: no value (num 0, text NULL) */
    NGSI_NUMBER, /* num, always finite */
    NGSI_BOOL,   /* b */
    NGSI_STRING, /* text: the string, also a DateTime or a relationship's target */
    NGSI_JSON,   /* text: compact JSON of an array or object (GeoJSON, language maps, ...) */
};

/* The attribute's NGSI-LD type: as sent (normalized), else inferred: a
 * concise "object" is a Relationship, a GeoJSON geometry a GeoProperty,
 * anything else in keyValues a Property. */
enum ngsi_attr_type {
    NGSI_PROPERTY,
    NGSI_GEOPROPERTY,
    NGSI_RELATIONSHIP,
    NGSI_LANGUAGEPROPERTY, /* the languageMap, as NGSI_JSON */
    NGSI_JSONPROPERTY,     /* the json member, as NGSI_JSON whatever it holds */
    NGSI_VOCABPROPERTY,    /* vocab: a string, or an array as NGSI_JSON */
    NGSI_LISTPROPERTY,     /* valueList, as NGSI_JSON */
    NGSI_LISTRELATIONSHIP, /* objectList, as NGSI_JSON */
};

struct ngsi_value {
    enum ngsi_kind kind;
    double num;
    bool b;
    char *text;                   /* owned: NUL-terminated, at most NGSI_TEXT_MAX bytes for a
                                     string or NGSI_JSON_MAX for JSON; NULL for the other kinds */
    char unit[NGSI_UNIT_MAX + 1]; /* unitCode, printable ASCII; "" if none */
    long long observed_ms;        /* observedAt, ms since the epoch (UTC); 0 if none */
    bool has_point;               /* the value is a GeoJSON Point: */
    double lon, lat;              /* its WGS84 degrees, within +-180 and +-90 */
};

struct ngsi_attr {
    char name[NGSI_NAME_MAX + 1]; /* [A-Za-z0-9_], 1..NGSI_NAME_MAX bytes, unique in the entity */
    enum ngsi_attr_type type;
    struct ngsi_value v;
};

struct ngsi_entity {
    char id[NGSI_ID_MAX + 1];     /* a URI ("urn:ngsi-ld:AirQualityObserved:1") */
    char type[NGSI_TYPE_MAX + 1]; /* [A-Za-z0-9_]: the first type if several were sent */
    struct ngsi_attr *attrs;      /* owned: nattrs, in body order; NULL if none */
    size_t nattrs;                /* 0..NGSI_ATTRS_MAX */
};

struct ngsi_notification {
    char id[NGSI_ID_MAX + 1];              /* the notification's URI */
    char subscription_id[NGSI_ID_MAX + 1]; /* a URI, or "" when not sent */
    char context[NGSI_ID_MAX + 1];         /* the Link header's context URL (application/json)
                                              or a top-level string @context; "" if neither;
                                              never fetched */
    enum ngsi_media media;
    long long notified_ms;        /* notifiedAt, ms since the epoch (UTC); 0 if not sent */
    struct ngsi_entity *entities; /* owned: nentities, in body order */
    size_t nentities;             /* 1..NGSI_ENTITIES_MAX */
};

/*
 * Parse one notification body of len bytes (not necessarily NUL-terminated;
 * body may be NULL when len is 0), sent with the Content-Type content_type
 * and the Link header link (either NULL when absent). Returns 0 and fills
 * *out, or -1 with *out emptied (all zero: nothing is returned, not even
 * the entities that were good) and a sentence naming the field in err
 * (printable ASCII, cut to errlen; err may be NULL):
 *   "data[2].no2.unitCode: must be a string".
 * *out is overwritten, not freed: free a previous result first.
 *
 * What is read, and what is refused (tests/unit/test_ngsi.c and
 * tests/ngsi-cases/ show each rule):
 *  - The body: JSON (jansson checks syntax and UTF-8, refuses NUL
 *    characters and numbers it cannot hold), nested at most
 *    NGSI_DEPTH_MAX deep, no key twice in one object.
 *  - The notification: "type" must be "Notification"; "id" a URI
 *    (printable ASCII without spaces or <>"{}|\^`, a scheme such as urn:
 *    or https:, at most NGSI_ID_MAX bytes); "subscriptionId" optional, a
 *    URI; "notifiedAt" optional, a date-time (ngsi_parse_time); "data" an
 *    array of 1..NGSI_ENTITIES_MAX entity objects. Other members are
 *    ignored.
 *  - @context: with application/json it is refused in the body (the
 *    context comes in the Link header); with application/ld+json it may be
 *    at the top and on any entity, a string, an array or an object, and
 *    its content is ignored. The Link header is read only with
 *    application/json (ngsi_link_context).
 *  - An entity: "id" a URI as above, required; "type" required, a string
 *    or an array of strings whose first is kept. Entity types and
 *    attribute names are compact names ([A-Za-z0-9_]) or IRIs, which keep
 *    their last segment (after the last '/', '#' or ':'):
 *    "https://smartdatamodels.org/dataModel.Environment/no2" is "no2".
 *    Members "id", "type", JSON-LD keywords ("@context", "@id", ...) and
 *    the system attributes createdAt, modifiedAt and deletedAt are not
 *    attributes; every other member is, up to NGSI_ATTRS_MAX, and two
 *    that shorten to the same name are refused.
 *  - An attribute, by its own shape:
 *    normalized, an object whose "type" names an NGSI-LD attribute type:
 *      Property "value", GeoProperty "value" (a GeoJSON geometry),
 *      Relationship "object" (a URI, or an array of URIs as JSON),
 *      LanguageProperty "languageMap", JsonProperty "json",
 *      VocabProperty "vocab", ListProperty "valueList", ListRelationship
 *      "objectList"; with "unitCode" (a string) and "observedAt" (a
 *      date-time) optional, and other sub-attributes ignored;
 *    concise, an object without "type" but with one of those members
 *      ("value" first, then "object", ...): the same, the type inferred;
 *    keyValues, anything else: a number, string, boolean, null, array or
 *      object as it is, and a GeoJSON geometry (an object whose "type" is
 *      Point, MultiPoint, LineString, MultiLineString, Polygon or
 *      MultiPolygon, with "coordinates") as a GeoProperty;
 *    a multi-attribute, an array of instances (objects of the two forms
 *      above, one at least with "datasetId" or a normalized "type"): the
 *      default instance (the first without "datasetId") is kept, else the
 *      first; the others are not read.
 *    A value {"@type":"DateTime","@value":"..."} (any JSON-LD value object
 *    with a scalar "@value") is that scalar. Numbers must be finite.
 *    A GeoJSON geometry is checked: positions of 2 or 3 numbers, longitude
 *    within +-180 and latitude within +-90, a LineString of 2 positions at
 *    least; a Point also sets has_point, lon and lat.
 */
int ngsi_parse(const char *body, size_t len, const char *content_type, const char *link,
               struct ngsi_notification *out, char *err, size_t errlen);

/* Free what n owns and empty it; the struct itself is the caller's. Safe on
 * an emptied struct (a failed parse) and twice. */
void ngsi_free(struct ngsi_notification *n);

/*
 * Check a Content-Type header value (content_type may be NULL: missing):
 * application/json or application/ld+json, case-insensitive, with
 * parameters allowed but charset, if given, utf-8. Returns 0 and sets
 * *media, or -1 with the reason in err (the caller answers 415).
 */
int ngsi_media_type(const char *content_type, enum ngsi_media *media, char *err, size_t errlen);

/*
 * Find the JSON-LD context in a Link header value (RFC 8288: one or more
 * "<url>; param=value; ..." separated by commas, values quoted or not).
 * Returns 1 and copies the URL of the link whose rel is NGSI_CONTEXT_REL
 * (exactly: one of the space-separated relation types of its first rel
 * parameter) into url (size bytes); 0 when no link has that rel (others
 * are ignored); -1 with the reason in err when the header is malformed,
 * names two contexts, or the URL is not an absolute URI of at most
 * NGSI_ID_MAX bytes (or does not fit in size). Nothing is fetched.
 */
int ngsi_link_context(const char *link, char *url, size_t size, char *err, size_t errlen);

/*
 * Parse an ISO 8601 / RFC 3339 date-time with seconds and a zone,
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), into ms since the epoch
 * (UTC). Strict: year 0001-9999, month 01-12, a day of that month (leap
 * years counted), hour 00-23, minute 00-59, second 00-60 (a leap second
 * counts as the next second's start), offset up to 23:59; 'T' and 'Z' in
 * capitals; a fraction of any length, cut (not rounded) to the
 * millisecond; nothing before or after. Returns 0 and sets *ms, or -1
 * (then *ms is not changed).
 */
int ngsi_parse_time(const char *iso8601, long long *ms);

#endif
