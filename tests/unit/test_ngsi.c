/*
 * test_ngsi.c - unit tests for server/twin/ngsi.c: notifications as
 * Orion-LD, Stellio and Scorpio send them (AirQualityObserved,
 * TrafficFlowObserved, OffStreetParking, ThreePhaseAcMeasurement) in the
 * normalized, concise and keyValues forms, with the context in a Link
 * header, at the top or on each entity; every refusal, with the field it
 * names; the bounds on both sides; the headers and the date-times.
 *
 * The bodies are written with ' for " (J() swaps them back), so that they
 * read as the JSON they are. tests/ngsi-cases/ holds more of them as files.
 */
#include "ngsi.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Like CHECK, reporting the line of the caller (for helpers). */
#define CHECK_AT(line, cond, ...)                                                                  \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, line, #cond);                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* ---- helpers ---------------------------------------------------------- */

static const char JSON[] = "application/json";
static const char LD[] = "application/ld+json";
static const char LINK[] = "<https://smartdatamodels.org/context.jsonld>; "
                           "rel=\"http://www.w3.org/ns/json-ld#context\"; "
                           "type=\"application/ld+json\"";

/* s with every ' turned into ", in one of two static buffers. */
static const char *J(const char *s)
{
    static char bufs[2][65536];
    static int which;
    char *b = bufs[which ^= 1];
    size_t i;

    for (i = 0; s[i] && i + 1 < sizeof bufs[0]; i++)
        b[i] = s[i] == '\'' ? '"' : s[i];
    b[i] = '\0';
    return b;
}

/* A body built piece by piece (for the bounds), in a static buffer. */
static char big[NGSI_BODY_MAX + 4096];
static size_t big_len;

static void big_reset(void)
{
    big_len = 0;
    big[0] = '\0';
}

static void big_add(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void big_add(const char *f, ...)
{
    va_list ap;
    int wrote;

    va_start(ap, f);
    wrote = vsnprintf(big + big_len, sizeof big - big_len, f, ap);
    va_end(ap);
    if (wrote > 0 && big_len + (size_t)wrote < sizeof big)
        big_len += (size_t)wrote;
}

/* s repeated n times, in one of two static buffers. */
static const char *rep(const char *s, int n)
{
    static char bufs[2][8192];
    static int which;
    char *b = bufs[which ^= 1];
    size_t len = strlen(s), off = 0;
    for (int i = 0; i < n && off + len < sizeof bufs[0]; i++, off += len)
        memcpy(b + off, s, len);
    b[off] = '\0';
    return b;
}

static struct ngsi_notification n;
static char err[NGSI_ERR_SIZE];

static int ok_at(int line, const char *body, const char *ct, const char *link)
{
    int rc;
    ngsi_free(&n);
    rc = ngsi_parse(body, strlen(body), ct, link, &n, err, sizeof err);
    CHECK_AT(line, rc == 0, "refused %.300s: %s", body, err);
    return rc == 0;
}

static void bad_at(int line, const char *body, size_t len, const char *ct, const char *link,
                   const char *sub)
{
    const unsigned char *bytes = (const unsigned char *)&n;
    int rc;
    ngsi_free(&n);
    rc = ngsi_parse(body, len, ct, link, &n, err, sizeof err);
    CHECK_AT(line, rc == -1, "accepted %.300s", body);
    if (rc != -1) {
        ngsi_free(&n);
        return;
    }
    size_t nonzero = 0; /* every byte: ngsi_parse emptied it */
    for (size_t i = 0; i < sizeof n; i++)
        nonzero += bytes[i] != 0;
    CHECK_AT(line, nonzero == 0, "out not empty after a refusal (%zu bytes set)", nonzero);
    CHECK_AT(line, strstr(err, sub) != NULL, "%.200s: message \"%s\" lacks \"%s\"", body, err, sub);
    bool ascii = true;
    for (const char *p = err; *p; p++)
        ascii = ascii && *p >= 0x20 && *p <= 0x7E;
    CHECK_AT(line, ascii, "message \"%s\" not printable ASCII", err);
}

#define OK(body)                   ok_at(__LINE__, body, JSON, NULL)
#define OK_WITH(body, ct, link)    ok_at(__LINE__, body, ct, link)
#define BAD(body, sub)             bad_at(__LINE__, body, strlen(body), JSON, NULL, sub)
#define BAD_WITH(body, ct, l, sub) bad_at(__LINE__, body, strlen(body), ct, l, sub)

/* The attribute of entity e named name, or NULL. */
static const struct ngsi_attr *attr(size_t e, const char *name)
{
    if (e >= n.nentities)
        return NULL;
    for (size_t i = 0; i < n.entities[e].nattrs; i++) {
        if (strcmp(n.entities[e].attrs[i].name, name) == 0)
            return &n.entities[e].attrs[i];
    }
    return NULL;
}

static bool is_num(const struct ngsi_attr *a, double want)
{
    return a && a->v.kind == NGSI_NUMBER && fabs(a->v.num - want) < 1e-9;
}

static bool is_str(const struct ngsi_attr *a, const char *want)
{
    return a && a->v.kind == NGSI_STRING && a->v.text && strcmp(a->v.text, want) == 0;
}

static bool is_json(const struct ngsi_attr *a, const char *want)
{
    return a && a->v.kind == NGSI_JSON && a->v.text && strcmp(a->v.text, want) == 0;
}

/* 2026-05-12T09:00:00Z in ms. */
#define T0 1778576400000LL

/* A notification around entities (a JSON fragment with ' for "). */
static const char *notif(const char *entities)
{
    static char buf[60000];
    snprintf(buf, sizeof buf,
             "{'id':'urn:ngsi-ld:Notification:1','type':'Notification',"
             "'subscriptionId':'urn:ngsi-ld:Subscription:venue',"
             "'notifiedAt':'2026-05-12T09:00:00.000Z','data':[%s]}",
             entities);
    return J(buf);
}

/* One entity with one attribute (ids and type fixed). */
static const char *one_attr(const char *name_and_value)
{
    static char buf[40000];
    snprintf(buf, sizeof buf, "{'id':'urn:ngsi-ld:Thing:1','type':'Thing',%s}", name_and_value);
    return notif(buf);
}

/* ---- the brokers ------------------------------------------------------ */

/* Orion-LD, format normalized, accept application/json: Link header. */
static const char ORION_AIR[] =
    "{'id':'urn:ngsi-ld:Notification:6a1f3c2e-8d3b-11ee-9b8e-0242ac120004',"
    "'type':'Notification','subscriptionId':'urn:ngsi-ld:Subscription:venue-air',"
    "'notifiedAt':'2026-05-12T09:00:01.250Z','data':[{"
    "'id':'urn:ngsi-ld:AirQualityObserved:Madrid-PlazaEspana','type':'AirQualityObserved',"
    "'dateObserved':{'type':'Property','value':{'@type':'DateTime',"
    "'@value':'2026-05-12T09:00:00.000Z'}},"
    "'location':{'type':'GeoProperty','value':{'type':'Point',"
    "'coordinates':[-3.712247,40.423853]}},"
    "'no2':{'type':'Property','value':22,'unitCode':'GQ','observedAt':'2026-05-12T09:00:00.000Z'},"
    "'pm10':{'type':'Property','value':13.5,'unitCode':'GQ',"
    "'observedAt':'2026-05-12T09:00:00.000Z'},"
    "'pm25':{'type':'Property','value':8.1,'unitCode':'GQ',"
    "'observedAt':'2026-05-12T09:00:00.000Z'},"
    "'o3':{'type':'Property','value':61,'unitCode':'GQ','observedAt':'2026-05-12T09:00:00.000Z'},"
    "'temperature':{'type':'Property','value':21.4,'unitCode':'CEL',"
    "'observedAt':'2026-05-12T09:00:00.000Z'},"
    "'relativeHumidity':{'type':'Property','value':0.54,'unitCode':'C62',"
    "'observedAt':'2026-05-12T09:00:00.000Z'},"
    "'airQualityIndex':{'type':'Property','value':65,'observedAt':'2026-05-12T09:00:00.000Z'},"
    "'airQualityLevel':{'type':'Property','value':'moderate'},"
    "'refDevice':{'type':'Relationship','object':'urn:ngsi-ld:Device:aq-madrid-01'}}]}";

static void test_orion_normalized(void)
{
    const struct ngsi_attr *a;

    if (!OK_WITH(J(ORION_AIR), JSON, LINK))
        return;
    CHECK(strcmp(n.id, "urn:ngsi-ld:Notification:6a1f3c2e-8d3b-11ee-9b8e-0242ac120004") == 0);
    CHECK(strcmp(n.subscription_id, "urn:ngsi-ld:Subscription:venue-air") == 0);
    CHECK(strcmp(n.context, "https://smartdatamodels.org/context.jsonld") == 0);
    CHECK(n.media == NGSI_MEDIA_JSON);
    CHECK(n.notified_ms == T0 + 1250);
    CHECK(n.nentities == 1);
    CHECK(strcmp(n.entities[0].id, "urn:ngsi-ld:AirQualityObserved:Madrid-PlazaEspana") == 0);
    CHECK(strcmp(n.entities[0].type, "AirQualityObserved") == 0);
    CHECK(n.entities[0].nattrs == 11);
    CHECK(strcmp(n.entities[0].attrs[0].name, "dateObserved") == 0); /* body order */
    a = attr(0, "no2");
    CHECK(is_num(a, 22) && strcmp(a->v.unit, "GQ") == 0 && a->v.observed_ms == T0);
    CHECK(a && a->type == NGSI_PROPERTY && !a->v.has_point && a->v.text == NULL);
    CHECK(is_num(attr(0, "pm10"), 13.5) && is_num(attr(0, "pm25"), 8.1));
    CHECK(is_num(attr(0, "o3"), 61));
    a = attr(0, "temperature");
    CHECK(is_num(a, 21.4) && strcmp(a->v.unit, "CEL") == 0);
    CHECK(is_num(attr(0, "relativeHumidity"), 0.54));
    a = attr(0, "airQualityIndex");
    CHECK(is_num(a, 65) && a->v.unit[0] == '\0' && a->v.observed_ms == T0);
    a = attr(0, "airQualityLevel");
    CHECK(is_str(a, "moderate") && a->v.observed_ms == 0);
    a = attr(0, "dateObserved"); /* the DateTime value object unwraps */
    CHECK(is_str(a, "2026-05-12T09:00:00.000Z"));
    a = attr(0, "location");
    CHECK(a && a->type == NGSI_GEOPROPERTY && a->v.kind == NGSI_JSON && a->v.has_point);
    CHECK(a && a->v.lon == -3.712247 && a->v.lat == 40.423853);
    CHECK(is_json(a, "{\"type\":\"Point\",\"coordinates\":[-3.712247,40.423853]}"));
    a = attr(0, "refDevice");
    CHECK(is_str(a, "urn:ngsi-ld:Device:aq-madrid-01") && a->type == NGSI_RELATIONSHIP);

    /* The same, but the broker was told to send application/ld+json: the
     * context is in the body, at the top (Orion-LD). */
    static char body[8192];
    snprintf(body, sizeof body, "%s%s",
             J("{'@context':['https://smartdatamodels.org/context.jsonld',"
               "'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld'],"),
             J(ORION_AIR) + 1); /* after its '{' */
    if (OK_WITH(body, LD, NULL)) {
        CHECK(n.media == NGSI_MEDIA_LD_JSON && n.context[0] == '\0'); /* an array */
        CHECK(n.entities[0].nattrs == 11 && is_num(attr(0, "no2"), 22));
    }
    /* A Link header with ld+json is not read (the body carries the context). */
    if (OK_WITH(body, LD, "garbage"))
        CHECK(n.context[0] == '\0');
    /* ... and with application/json, an @context in the body is a mistake. */
    BAD_WITH(body, JSON, LINK, "@context: not allowed with Content-Type application/json");
}

/* Scorpio, application/ld+json: the context on each entity, and names the
 * context does not define expanded with the core context's default vocab. */
static void test_scorpio_per_entity(void)
{
    const struct ngsi_attr *a;
    const char *body =
        J("{'id':'urn:ngsi-ld:Notification:9d41','type':'Notification',"
          "'subscriptionId':'urn:ngsi-ld:Subscription:traffic','notifiedAt':'2026-05-12T11:00:00+"
          "02:00',"
          "'data':[{'id':'urn:ngsi-ld:TrafficFlowObserved:Gran-Via-1','type':'TrafficFlowObserved',"
          "'https://uri.etsi.org/ngsi-ld/default-context/intensity':{'type':'Property','value':197,"
          "'observedAt':'2026-05-12T08:59:00Z'},"
          "'occupancy':{'type':'Property','value':0.76},"
          "'averageVehicleSpeed':{'type':'Property','value':52.6,'unitCode':'KMH'},"
          "'laneDirection':{'type':'Property','value':'forward'},"
          "'reversedLane':{'type':'Property','value':false},"
          "'dateObservedFrom':{'type':'Property','value':{'@type':'DateTime',"
          "'@value':'2026-05-12T08:45:00Z'}},"
          "'location':{'type':'GeoProperty','value':{'type':'LineString','coordinates':"
          "[[-3.7036,40.4199],[-3.7058,40.4203],[-3.7079,40.4211]]}},"
          "'@context':['https://smartdatamodels.org/context.jsonld',"
          "'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld']},"
          "{'id':'urn:ngsi-ld:TrafficFlowObserved:Gran-Via-2','type':'TrafficFlowObserved',"
          "'intensity':{'type':'Property','value':143},"
          "'@context':'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'}]}");

    if (!OK_WITH(body, LD, NULL))
        return;
    CHECK(n.notified_ms == T0); /* 11:00+02:00 is 09:00Z */
    CHECK(n.nentities == 2 && n.entities[0].nattrs == 7 && n.entities[1].nattrs == 1);
    a = attr(0, "intensity");
    CHECK(is_num(a, 197) && a->v.observed_ms == T0 - 60000);
    CHECK(is_num(attr(0, "occupancy"), 0.76));
    a = attr(0, "averageVehicleSpeed");
    CHECK(is_num(a, 52.6) && strcmp(a->v.unit, "KMH") == 0);
    CHECK(is_str(attr(0, "laneDirection"), "forward"));
    a = attr(0, "reversedLane");
    CHECK(a && a->v.kind == NGSI_BOOL && !a->v.b);
    CHECK(is_str(attr(0, "dateObservedFrom"), "2026-05-12T08:45:00Z"));
    a = attr(0, "location");
    CHECK(a && a->type == NGSI_GEOPROPERTY && !a->v.has_point);
    CHECK(is_json(a, "{\"type\":\"LineString\",\"coordinates\":[[-3.7036,40.4199],[-3.7058,"
                     "40.4203],[-3.7079,40.4211]]}"));
    CHECK(is_num(attr(1, "intensity"), 143));

    /* The same body as application/json is refused at the first @context. */
    BAD_WITH(body, JSON, NULL, "data[0].@context: not allowed");
}

/* Stellio, normalized with sysAttrs and a multi-attribute; Link header
 * with its own context, among other links, rel unquoted. */
static void test_stellio_parking(void)
{
    const struct ngsi_attr *a;
    const char *link = "<https://example.org/a>; rel=\"alternate\", "
                       "<https://easy-global-market.github.io/ngsild-api-data-models/"
                       "parking/jsonld-contexts/parking-compound.jsonld>; "
                       "rel=http://www.w3.org/ns/json-ld#context; type=\"application/ld+json\"";
    const char *body = J(
        "{'id':'urn:ngsi-ld:Notification:1c0b6a0e-5a2b-4a8e-9a55-0f3b0c8f7e21',"
        "'type':'Notification','subscriptionId':'urn:ngsi-ld:Subscription:parking',"
        "'notifiedAt':'2026-05-12T09:00:00.123456Z','data':[{"
        "'id':'urn:ngsi-ld:OffStreetParking:Downtown1','type':'OffStreetParking',"
        "'createdAt':'2026-01-02T10:00:00.000000Z','modifiedAt':'2026-05-12T08:59:59.5Z',"
        "'availableSpotNumber':[{'type':'Property','value':121,"
        "'observedAt':'2026-05-12T09:00:00.000000Z','datasetId':'urn:ngsi-ld:Dataset:camera',"
        "'createdAt':'2026-01-02T10:00:00Z'},{'type':'Property','value':118,"
        "'observedAt':'2026-05-12T08:58:00Z','modifiedAt':'2026-05-12T08:58:00Z'}],"
        "'totalSpotNumber':{'type':'Property','value':200,'createdAt':'2026-01-02T10:00:00Z'},"
        "'name':{'type':'Property','value':'Downtown One'},"
        "'location':{'type':'GeoProperty','value':{'type':'Point','coordinates':[4.3653,50.8467]}}"
        "}]}");

    if (!OK_WITH(body, "application/json; charset=UTF-8", link))
        return;
    CHECK(strcmp(n.context, "https://easy-global-market.github.io/ngsild-api-data-models/"
                            "parking/jsonld-contexts/parking-compound.jsonld") == 0);
    CHECK(n.notified_ms == T0 + 123);
    CHECK(n.entities[0].nattrs == 4);   /* createdAt and modifiedAt are not attributes */
    a = attr(0, "availableSpotNumber"); /* the default instance, not the first */
    CHECK(is_num(a, 118) && a->v.observed_ms == T0 - 120000);
    CHECK(is_num(attr(0, "totalSpotNumber"), 200));
    CHECK(is_str(attr(0, "name"), "Downtown One"));
    a = attr(0, "location");
    CHECK(a && a->v.has_point && a->v.lon == 4.3653 && a->v.lat == 50.8467);
    CHECK(attr(0, "createdAt") == NULL && attr(0, "modifiedAt") == NULL);

    /* Every instance with a datasetId: the first is taken. */
    OK(one_attr("'power':[{'type':'Property','value':1,'datasetId':'urn:a'},"
                "{'type':'Property','value':2,'datasetId':'urn:b'}]"));
    CHECK(is_num(attr(0, "power"), 1));
    /* Concise instances, one with a datasetId. */
    OK(one_attr("'power':[{'value':3,'datasetId':'urn:a'},{'value':4}]"));
    CHECK(is_num(attr(0, "power"), 4));
    /* An array of objects that are not instances is a keyValues array. */
    OK(one_attr("'list':[{'value':3},{'value':4}]"));
    CHECK(is_json(attr(0, "list"), "[{\"value\":3},{\"value\":4}]"));
    /* The taken instance is checked, and named with its index. */
    BAD(one_attr("'power':[{'type':'Property','value':1,'datasetId':'urn:a'},"
                 "{'type':'Property','value':2,'unitCode':5}]"),
        "data[0].power[1].unitCode: must be a string");
}

/* ThreePhaseAcMeasurement in the three forms, also from Stellio. */
static void test_energy_forms(void)
{
    const struct ngsi_attr *a;

    /* normalized */
    OK_WITH(notif("{'id':'urn:ngsi-ld:ThreePhaseAcMeasurement:venue-main','type':"
                  "'ThreePhaseAcMeasurement',"
                  "'totalActivePower':{'type':'Property','value':48.2,'unitCode':'KWT',"
                  "'observedAt':'2026-05-12T09:00:00Z'},"
                  "'totalActiveEnergyImport':{'type':'Property','value':1250433.5,"
                  "'unitCode':'KWH','observedAt':'2026-05-12T09:00:00Z'},"
                  "'activePower':{'type':'Property','value':{'L1':16.1,'L2':15.9,'L3':16.2},"
                  "'unitCode':'KWT'},"
                  "'refDevice':{'type':'Relationship','object':'urn:ngsi-ld:Device:meter-7'}}"),
            JSON, LINK);
    a = attr(0, "totalActivePower");
    CHECK(is_num(a, 48.2) && strcmp(a->v.unit, "KWT") == 0 && a->v.observed_ms == T0);
    a = attr(0, "totalActiveEnergyImport");
    CHECK(is_num(a, 1250433.5) && strcmp(a->v.unit, "KWH") == 0);
    a = attr(0, "activePower");
    CHECK(is_json(a, "{\"L1\":16.1,\"L2\":15.9,\"L3\":16.2}") && strcmp(a->v.unit, "KWT") == 0);

    /* concise: no "type" on attributes */
    OK(notif(
        "{'id':'urn:ngsi-ld:ThreePhaseAcMeasurement:venue-main','type':"
        "'ThreePhaseAcMeasurement',"
        "'totalActivePower':{'value':48.2,'unitCode':'KWT','observedAt':'2026-05-12T09:00:00Z'},"
        "'totalActiveEnergyImport':{'value':1250433.5,'unitCode':'KWH'},"
        "'refDevice':{'object':'urn:ngsi-ld:Device:meter-7'},"
        "'location':{'type':'Point','coordinates':[2.1734,41.3851]},"
        "'site':{'value':{'type':'Point','coordinates':[2.17,41.38]},"
        "'observedAt':'2026-05-12T09:00:00Z'}}"));
    a = attr(0, "totalActivePower");
    CHECK(is_num(a, 48.2) && strcmp(a->v.unit, "KWT") == 0 && a->v.observed_ms == T0);
    CHECK(a && a->type == NGSI_PROPERTY);
    a = attr(0, "refDevice");
    CHECK(is_str(a, "urn:ngsi-ld:Device:meter-7") && a->type == NGSI_RELATIONSHIP);
    a = attr(0, "location");
    CHECK(a && a->type == NGSI_GEOPROPERTY && a->v.has_point && a->v.lat == 41.3851);
    a = attr(0, "site"); /* a concise GeoProperty with a sub-attribute */
    CHECK(a && a->type == NGSI_GEOPROPERTY && a->v.has_point && a->v.observed_ms == T0);

    /* keyValues: bare values */
    OK(notif(
        "{'id':'urn:ngsi-ld:ThreePhaseAcMeasurement:venue-main','type':"
        "'ThreePhaseAcMeasurement','totalActivePower':48.2,"
        "'totalActiveEnergyImport':1250433,'frequency':50.01,'powerFactor':0.97,"
        "'phaseVoltage':{'L1':229.8,'L2':230.4,'L3':231},'refDevice':'urn:ngsi-ld:Device:meter-7',"
        "'online':true,'comment':null,'tags':['main','hall-a'],"
        "'location':{'type':'Point','coordinates':[2.1734,41.3851,12.5]}}"));
    CHECK(is_num(attr(0, "totalActivePower"), 48.2));
    CHECK(is_num(attr(0, "totalActiveEnergyImport"), 1250433));
    CHECK(is_json(attr(0, "phaseVoltage"), "{\"L1\":229.8,\"L2\":230.4,\"L3\":231}"));
    a = attr(0, "refDevice"); /* keyValues cannot say it is a relationship */
    CHECK(is_str(a, "urn:ngsi-ld:Device:meter-7") && a->type == NGSI_PROPERTY);
    a = attr(0, "online");
    CHECK(a && a->v.kind == NGSI_BOOL && a->v.b);
    a = attr(0, "comment");
    CHECK(a && a->v.kind == NGSI_NULL && a->v.text == NULL);
    CHECK(is_json(attr(0, "tags"), "[\"main\",\"hall-a\"]"));
    a = attr(0, "location");
    CHECK(a && a->type == NGSI_GEOPROPERTY && a->v.has_point && a->v.lon == 2.1734);
}

/* AirQualityObserved and OffStreetParking in keyValues and concise, and
 * TrafficFlowObserved concise, as the brokers send them. */
static void test_keyvalues_concise(void)
{
    const struct ngsi_attr *a;

    OK_WITH(notif("{'id':'urn:ngsi-ld:AirQualityObserved:Madrid-PlazaEspana',"
                  "'type':'AirQualityObserved','dateObserved':'2026-05-12T09:00:00Z',"
                  "'no2':22,'pm10':13.5,'pm25':8.1,'o3':61,'temperature':21.4,"
                  "'relativeHumidity':0.54,'airQualityIndex':65,'airQualityLevel':'moderate',"
                  "'location':{'type':'Point','coordinates':[-3.712247,40.423853]}},"
                  "{'id':'urn:ngsi-ld:OffStreetParking:Downtown1','type':'OffStreetParking',"
                  "'availableSpotNumber':118,'totalSpotNumber':200}"),
            JSON, LINK);
    CHECK(n.nentities == 2 && n.entities[0].nattrs == 10 && n.entities[1].nattrs == 2);
    a = attr(0, "no2");
    CHECK(is_num(a, 22) && a->v.unit[0] == '\0' && a->v.observed_ms == 0);
    CHECK(is_str(attr(0, "dateObserved"), "2026-05-12T09:00:00Z"));
    CHECK(is_num(attr(1, "availableSpotNumber"), 118) && is_num(attr(1, "totalSpotNumber"), 200));

    OK(notif("{'id':'urn:ngsi-ld:TrafficFlowObserved:Gran-Via-1','type':'TrafficFlowObserved',"
             "'intensity':{'value':197,'observedAt':'2026-05-12T09:00:00Z'},"
             "'averageVehicleSpeed':{'value':52.6,'unitCode':'KMH'},"
             "'location':{'type':'LineString','coordinates':[[-3.7036,40.4199],[-3.7058,40.4203]]},"
             "'refRoadSegment':{'object':'urn:ngsi-ld:RoadSegment:GV'}}"));
    a = attr(0, "intensity");
    CHECK(is_num(a, 197) && a->v.observed_ms == T0);
    a = attr(0, "location");
    CHECK(a && a->type == NGSI_GEOPROPERTY && !a->v.has_point && a->v.kind == NGSI_JSON);
    CHECK(is_str(attr(0, "refRoadSegment"), "urn:ngsi-ld:RoadSegment:GV"));

    /* Forms may mix within one entity: each attribute says what it is. */
    OK(one_attr("'a':{'type':'Property','value':1},'b':{'value':2},'c':3"));
    CHECK(is_num(attr(0, "a"), 1) && is_num(attr(0, "b"), 2) && is_num(attr(0, "c"), 3));
    /* An object with a type that is no attribute type is a keyValues object. */
    OK(one_attr("'address':{'type':'PostalAddress','streetAddress':'Gran Via 1'}"));
    CHECK(is_json(attr(0, "address"),
                  "{\"type\":\"PostalAddress\",\"streetAddress\":\"Gran Via 1\"}"));
    /* A GeoJSON Point inside a normalized Property is just JSON. */
    OK(one_attr("'p':{'type':'Property','value':{'type':'Point','coordinates':[500,500]}}"));
    a = attr(0, "p");
    CHECK(a && a->type == NGSI_PROPERTY && !a->v.has_point && a->v.kind == NGSI_JSON);
}

/* The other attribute types of NGSI-LD 1.8. */
static void test_other_types(void)
{
    const struct ngsi_attr *a;

    OK(one_attr("'name':{'type':'LanguageProperty','languageMap':{'en':'Main hall','es':"
                "'Sala principal'}},"
                "'config':{'type':'JsonProperty','json':{'rows':[1,2],'x':null}},"
                "'category':{'type':'VocabProperty','vocab':'indoor'},"
                "'categories':{'type':'VocabProperty','vocab':['indoor','hall']},"
                "'readings':{'type':'ListProperty','valueList':[1,2.5,3]},"
                "'sensors':{'type':'ListRelationship','objectList':[{'object':'urn:a:1'}]},"
                "'owners':{'type':'Relationship','object':['urn:a:1','urn:a:2']},"
                "'raw':{'json':5}"));
    a = attr(0, "name");
    CHECK(a && a->type == NGSI_LANGUAGEPROPERTY &&
          is_json(a, "{\"en\":\"Main hall\",\"es\":\"Sala principal\"}"));
    a = attr(0, "config");
    CHECK(a && a->type == NGSI_JSONPROPERTY && is_json(a, "{\"rows\":[1,2],\"x\":null}"));
    a = attr(0, "category");
    CHECK(a && a->type == NGSI_VOCABPROPERTY && is_str(a, "indoor"));
    CHECK(is_json(attr(0, "categories"), "[\"indoor\",\"hall\"]"));
    a = attr(0, "readings");
    CHECK(a && a->type == NGSI_LISTPROPERTY && is_json(a, "[1,2.5,3]"));
    a = attr(0, "sensors");
    CHECK(a && a->type == NGSI_LISTRELATIONSHIP && is_json(a, "[{\"object\":\"urn:a:1\"}]"));
    a = attr(0, "owners");
    CHECK(a && a->type == NGSI_RELATIONSHIP && is_json(a, "[\"urn:a:1\",\"urn:a:2\"]"));
    a = attr(0, "raw"); /* concise JsonProperty: whatever json holds, as JSON */
    CHECK(a && a->type == NGSI_JSONPROPERTY && is_json(a, "5"));

    /* Value objects: @value unwraps whatever its @type. */
    OK(one_attr(
        "'when':{'type':'Property','value':{'@type':'DateTime','@value':'2026-05-12T09:00:00Z'}},"
        "'n':{'value':{'@value':7}},'kv':{'@type':'Date','@value':'2026-05-12'},"
        "'lit':{'type':'Property','value':{'@type':'@json','@value':{'a':1}}}"));
    CHECK(is_str(attr(0, "when"), "2026-05-12T09:00:00Z"));
    CHECK(is_num(attr(0, "n"), 7));
    CHECK(is_str(attr(0, "kv"), "2026-05-12"));
    CHECK(is_json(attr(0, "lit"), "{\"a\":1}"));
    /* An object with @value and other members is not a value object. */
    OK(one_attr("'o':{'type':'Property','value':{'@value':1,'x':2}}"));
    CHECK(is_json(attr(0, "o"), "{\"@value\":1,\"x\":2}"));

    /* The remaining GeoJSON geometries. */
    OK(one_attr(
        "'a':{'type':'GeoProperty','value':{'type':'MultiPoint','coordinates':[[1,2],[3,4]]}},"
        "'b':{'type':'GeoProperty','value':{'type':'Polygon','coordinates':"
        "[[[0,0],[1,0],[1,1],[0,0]]]}},"
        "'c':{'type':'GeoProperty','value':{'type':'MultiPolygon','coordinates':"
        "[[[[0,0],[1,0],[1,1],[0,0]]]]}},"
        "'d':{'type':'GeoProperty','value':{'type':'MultiLineString','coordinates':"
        "[[[0,0],[1,1]],[[2,2],[3,3]]]}},"
        "'e':{'type':'GeoProperty','value':{'type':'Point','coordinates':[180,-90]}}"));
    CHECK(n.entities[0].nattrs == 5);
    a = attr(0, "e");
    CHECK(a && a->v.has_point && a->v.lon == 180 && a->v.lat == -90);
    CHECK(attr(0, "b") && !attr(0, "b")->v.has_point);
}

/* Names: compact or IRIs, shortened; which members are not attributes. */
static void test_names(void)
{
    OK_WITH(notif("{'id':'urn:ngsi-ld:AirQualityObserved:1',"
                  "'type':'https://smartdatamodels.org/dataModel.Environment/AirQualityObserved',"
                  "'https://smartdatamodels.org/dataModel.Environment/no2':{'type':'Property',"
                  "'value':22},'https://uri.etsi.org/ngsi-ld/location':{'type':'GeoProperty',"
                  "'value':{'type':'Point','coordinates':[1,2]}},"
                  "'http://example.org/vocab#pm10':7,'sdm:o3':61,"
                  "'https://uri.etsi.org/ngsi-ld/createdAt':'2026-01-01T00:00:00Z',"
                  "'deletedAt':'2026-01-01T00:00:00Z','@id':'urn:x:1','@type':'X',"
                  "'@context':'https://smartdatamodels.org/context.jsonld'}"),
            LD, NULL);
    CHECK(strcmp(n.entities[0].type, "AirQualityObserved") == 0);
    CHECK(n.entities[0].nattrs == 4);
    CHECK(is_num(attr(0, "no2"), 22) && attr(0, "location") && attr(0, "location")->v.has_point);
    CHECK(is_num(attr(0, "pm10"), 7) && is_num(attr(0, "o3"), 61));

    /* Several types: the first is kept, all must be strings. */
    OK(notif("{'id':'urn:ngsi-ld:Venue:1','type':['Building','https://x.org/Venue']}"));
    CHECK(strcmp(n.entities[0].type, "Building") == 0 && n.entities[0].nattrs == 0);
    CHECK(n.entities[0].attrs == NULL);

    /* A top-level string @context is kept (not fetched); an entity's is not. */
    OK_WITH(J("{'@context':'https://smartdatamodels.org/context.jsonld','id':'urn:n:1',"
              "'type':'Notification','data':[{'id':'urn:x:1','type':'T'}]}"),
            LD, NULL);
    CHECK(strcmp(n.context, "https://smartdatamodels.org/context.jsonld") == 0);
    OK_WITH(J("{'@context':{'no2':'https://x.org/no2'},'id':'urn:n:1',"
              "'type':'Notification','data':[{'id':'urn:x:1','type':'T'}]}"),
            LD, NULL);
    CHECK(n.context[0] == '\0');

    /* Exactly NGSI_NAME_MAX bytes, and NGSI_TYPE_MAX. */
    static char buf[1024];
    snprintf(buf, sizeof buf, "'%s':1", rep("n", NGSI_NAME_MAX));
    OK(one_attr(buf));
    CHECK(n.entities[0].nattrs == 1 && strlen(n.entities[0].attrs[0].name) == NGSI_NAME_MAX);
    snprintf(buf, sizeof buf, "'%s':1", rep("n", NGSI_NAME_MAX + 1));
    BAD(one_attr(buf), "is not a name ([A-Za-z0-9_], 1..64 bytes)");
    snprintf(buf, sizeof buf, "'https://x.org/%s':1", rep("n", NGSI_NAME_MAX + 1));
    BAD(one_attr(buf), "data[0]: attribute name \"https://x.org/nnnnnnnnnn");
    snprintf(buf, sizeof buf, "{'id':'urn:x:1','type':'%s'}", rep("T", NGSI_TYPE_MAX));
    OK(notif(buf));
    snprintf(buf, sizeof buf, "{'id':'urn:x:1','type':'%s'}", rep("T", NGSI_TYPE_MAX + 1));
    BAD(notif(buf), "data[0].type: \"TTTT");

    BAD(one_attr("'no 2':1"), "data[0]: attribute name \"no 2\" is not a name");
    BAD(one_attr("'no-2':1"), "attribute name \"no-2\"");
    BAD(one_attr("'':1"), "attribute name \"\"");
    BAD(one_attr("'https://x.org/':1"), "attribute name \"https://x.org/\"");
    BAD(one_attr("'https://x.org/a-b':1"), "attribute name \"https://x.org/a-b\"");
    BAD(one_attr("'caf\\u00e9':1"), "attribute name \"caf??\""); /* quoted as ASCII */
    BAD(one_attr("'no2':1,'https://x.org/no2':2"), "data[0].no2: named twice");
    BAD(notif("{'id':'urn:x:1','type':'Air Quality'}"),
        "data[0].type: \"Air Quality\" is not a name");
    BAD(notif("{'id':'urn:x:1','type':[]}"), "data[0].type: an empty array");
    BAD(notif("{'id':'urn:x:1','type':['A',3]}"), "data[0].type[1]: must be a string");
    BAD(notif("{'id':'urn:x:1','type':7}"), "data[0].type: must be a string or an array");
    BAD(notif("{'id':'urn:x:1'}"), "data[0].type: missing");
}

/* ---- refusals --------------------------------------------------------- */

static void test_notification_refusals(void)
{
    BAD("", "body: invalid JSON");
    BAD("{", "body: invalid JSON");
    BAD("not json", "body: invalid JSON");
    BAD(J("{'type':'Notification'} x"), "body: invalid JSON");
    BAD("[]", "body: must be a JSON object");
    BAD("\"Notification\"", "body: must be a JSON object");
    BAD("42", "body: must be a JSON object");
    bad_at(__LINE__, NULL, 0, JSON, NULL, "body: invalid JSON");
    bad_at(__LINE__, "{\"a\":1}\0{}", 10, JSON, NULL, "body: invalid JSON");
    BAD(J("{'id':'urn:n:1','data':[]}"), "type: missing");
    BAD(J("{'id':'urn:n:1','type':'notification','data':[]}"),
        "type: must be \"Notification\", not \"notification\"");
    BAD(J("{'id':'urn:n:1','type':['Notification'],'data':[]}"), "type: must be \"Notification\"");
    BAD(J("{'type':'Notification','data':[{'id':'urn:x:1','type':'T'}]}"), "id: missing");
    BAD(J("{'id':'n1','type':'Notification','data':[{'id':'urn:x:1','type':'T'}]}"),
        "id: \"n1\" is not a URI");
    BAD(J("{'id':'urn:n:1','type':'Notification','subscriptionId':5,'data':[]}"),
        "subscriptionId: must be a string");
    BAD(J("{'id':'urn:n:1','type':'Notification','subscriptionId':'sub 1','data':[]}"),
        "subscriptionId: \"sub 1\" is not a URI");
    BAD(J("{'id':'urn:n:1','type':'Notification','notifiedAt':1715504400000,'data':[]}"),
        "notifiedAt: must be a string");
    BAD(J("{'id':'urn:n:1','type':'Notification','notifiedAt':'2026-05-12 09:00:00Z','data':[]}"),
        "notifiedAt: \"2026-05-12 09:00:00Z\" is not a date-time");
    BAD(J("{'id':'urn:n:1','type':'Notification'}"), "data: missing");
    BAD(J("{'id':'urn:n:1','type':'Notification','data':{}}"), "data: must be an array");
    BAD(J("{'id':'urn:n:1','type':'Notification','data':[]}"), "data: empty");
    BAD(J("{'id':'urn:n:1','type':'Notification','data':[1]}"), "data[0]: must be an object");
    BAD(J("{'id':'urn:n:1','type':'Notification','data':[{'id':'urn:x:1','type':'T'},null]}"),
        "data[1]: must be an object");
    BAD(J("{'id':'urn:n:1','type':'Notification','data':[{'id':'urn:x:1','type':'T'}],"
          "'@context':'https://x.org/c'}"),
        "@context: not allowed with Content-Type application/json");
    BAD_WITH(J("{'id':'urn:n:1','type':'Notification','data':[{'id':'urn:x:1','type':'T'}],"
               "'@context':5}"),
             LD, NULL, "@context: must be a string, an array or an object");
    BAD_WITH(J("{'id':'urn:n:1','type':'Notification','data':[{'id':'urn:x:1','type':'T',"
               "'@context':true}]}"),
             LD, NULL, "data[0].@context: must be a string, an array or an object");
    /* Duplicate keys, at the top and deep inside. */
    BAD(J("{'id':'urn:n:1','type':'Notification','type':'Notification','data':[]}"),
        "duplicate object key near '\"type\"'");
    BAD(one_attr("'no2':{'type':'Property','value':1,'value':2}"), "duplicate object key");
    /* Unknown top-level members are ignored; subscriptionId may be absent. */
    OK(J("{'id':'urn:n:1','type':'Notification','data':[{'id':'urn:x:1','type':'T'}],"
         "'triggerReason':'entityUpdated','x-extra':{'a':[1]}}"));
    CHECK(n.subscription_id[0] == '\0' && n.notified_ms == 0 && n.context[0] == '\0');
    /* Not UTF-8, a NUL escape. */
    BAD(one_attr("'s':'\xff'"), "body: invalid JSON: unable to decode byte 0xff");
    BAD(one_attr("'s':'a\\u0000b'"), "body: invalid JSON");
}

static void test_entity_refusals(void)
{
    static char buf[2048];

    BAD(notif("{'type':'T'}"), "data[0].id: missing");
    BAD(notif("{'id':5,'type':'T'}"), "data[0].id: must be a string");
    BAD(notif("{'id':'','type':'T'}"), "data[0].id: empty");
    BAD(notif("{'id':'urn:x:1','type':'T'},{'id':'Madrid 1','type':'T'}"),
        "data[1].id: \"Madrid 1\" is not a URI");
    BAD(notif("{'id':'Madrid','type':'T'}"), "data[0].id: \"Madrid\" is not a URI");
    BAD(notif("{'id':'urn:','type':'T'}"), "data[0].id: \"urn:\" is not a URI");
    BAD(notif("{'id':'1urn:x','type':'T'}"), "is not a URI");
    BAD(notif("{'id':'urn:x:<b>','type':'T'}"), "is not a URI");
    BAD(notif("{'id':'urn:x:\\u00e9','type':'T'}"), "data[0].id: \"urn:x:??\" is not a URI");
    BAD(notif("{'id':'urn:x:\\t1','type':'T'}"), "data[0].id: \"urn:x:?1\" is not a URI");
    snprintf(buf, sizeof buf, "{'id':'urn:x:%s','type':'T'}", rep("a", NGSI_ID_MAX - 6));
    OK(notif(buf));
    CHECK(strlen(n.entities[0].id) == NGSI_ID_MAX);
    snprintf(buf, sizeof buf, "{'id':'urn:x:%s','type':'T'}", rep("a", NGSI_ID_MAX - 5));
    BAD(notif(buf), "data[0].id: longer than 256 bytes");
}

static void test_value_refusals(void)
{
    static char buf[8192];

    /* Numbers jansson cannot hold; there is no NaN or Infinity in JSON. */
    BAD(one_attr("'no2':{'type':'Property','value':1e400}"), "real number overflow near '1e400'");
    BAD(one_attr("'no2':-1e999"), "real number overflow");
    BAD(one_attr("'no2':99999999999999999999"), "too big integer");
    BAD(one_attr("'no2':NaN"), "body: invalid JSON");
    BAD(one_attr("'no2':Infinity"), "body: invalid JSON");
    OK(one_attr("'no2':1e308,'tiny':1e-400,'big':9223372036854775807"));
    CHECK(is_num(attr(0, "no2"), 1e308) && is_num(attr(0, "tiny"), 0));

    /* unitCode and observedAt */
    BAD(notif("{'id':'urn:x:1','type':'T'},{'id':'urn:x:2','type':'T'},{'id':'urn:x:3','type':"
              "'T','no2':{'type':'Property','value':22,'unitCode':5}}"),
        "data[2].no2.unitCode: must be a string");
    BAD(one_attr("'no2':{'value':22,'unitCode':['GQ']}"), "data[0].no2.unitCode: must be a string");
    BAD(one_attr("'no2':{'value':22,'unitCode':''}"), "data[0].no2.unitCode: empty");
    BAD(one_attr("'no2':{'value':22,'unitCode':'G Q'}"), "data[0].no2.unitCode: \"G Q\" is not");
    BAD(one_attr("'no2':{'value':22,'unitCode':'12345678901234567'}"),
        "data[0].no2.unitCode: longer than 16 bytes");
    OK(one_attr("'no2':{'value':22,'unitCode':'1234567890123456'}"));
    BAD(one_attr("'no2':{'type':'Property','value':22,'observedAt':'2026-13-01T00:00:00Z'}"),
        "data[0].no2.observedAt: \"2026-13-01T00:00:00Z\" is not a date-time");
    BAD(one_attr("'no2':{'value':22,'observedAt':'2026-02-29T00:00:00Z'}"),
        "data[0].no2.observedAt");
    BAD(one_attr("'no2':{'value':22,'observedAt':'yesterday'}"), "data[0].no2.observedAt");
    BAD(one_attr("'no2':{'value':22,'observedAt':1778576400000}"),
        "data[0].no2.observedAt: must be a string");

    /* missing values */
    BAD(one_attr("'no2':{'type':'Property','unitCode':'GQ'}"),
        "data[0].no2.value: missing (a Property has one)");
    BAD(one_attr("'ref':{'type':'Relationship','value':'urn:x:1'}"),
        "data[0].ref.object: missing (a Relationship has one)");
    BAD(one_attr("'loc':{'type':'GeoProperty'}"), "data[0].loc.value: missing");

    /* relationships */
    BAD(one_attr("'ref':{'type':'Relationship','object':'Device 7'}"),
        "data[0].ref.object: \"Device 7\" is not a URI");
    BAD(one_attr("'ref':{'object':7}"), "data[0].ref.object: must be a URI or an array of URIs");
    BAD(one_attr("'ref':{'object':[]}"), "data[0].ref.object: an empty array");
    BAD(one_attr("'ref':{'object':['urn:a:1','x']}"), "data[0].ref.object[1]: must be a URI");
    snprintf(buf, sizeof buf, "'ref':{'object':'urn:x:%s'}", rep("a", NGSI_ID_MAX));
    BAD(one_attr(buf), "data[0].ref.object: longer than 256 bytes");

    /* GeoJSON */
    BAD(one_attr("'location':{'type':'GeoProperty','value':'40.4,-3.7'}"),
        "data[0].location.value: must be a GeoJSON geometry object");
    BAD(one_attr("'location':{'type':'GeoProperty','value':{'type':'Feature'}}"),
        "data[0].location.value.type: must be a GeoJSON geometry type");
    BAD(one_attr("'location':{'type':'GeoProperty','value':{'type':'Point'}}"),
        "data[0].location.value.coordinates: missing");
    BAD(one_attr("'location':{'type':'GeoProperty','value':{'type':'Point','coordinates':[1]}}"),
        "data[0].location.value.coordinates: a position must be an array of 2 or 3 numbers");
    BAD(one_attr("'location':{'type':'Point','coordinates':[1,2,3,4]}"),
        "data[0].location.coordinates: a position must be");
    BAD(one_attr("'location':{'type':'Point','coordinates':['1','2']}"), "a position must be");
    BAD(one_attr("'location':{'value':{'type':'Point','coordinates':[-3.7,140.4]}}"),
        "data[0].location.value.coordinates: latitude 140.4 is out of range -90..90");
    BAD(one_attr("'location':{'type':'Point','coordinates':[-183.7,40.4]}"),
        "longitude -183.7 is out of range -180..180");
    BAD(one_attr("'location':{'type':'GeoProperty','value':{'type':'LineString','coordinates':"
                 "[[1,2]]}}"),
        "data[0].location.value.coordinates: a line needs 2 positions at least");
    BAD(one_attr("'location':{'type':'LineString','coordinates':[1,2]}"),
        "a position must be an array of 2 or 3 numbers");
    BAD(one_attr("'location':{'type':'Polygon','coordinates':[[1,2]]}"), "a position must be");
    BAD(one_attr("'location':{'type':'MultiPolygon','coordinates':{}}"),
        "data[0].location.coordinates: must be an array nested 3 deep");

    /* the other types */
    BAD(one_attr("'n':{'type':'LanguageProperty','languageMap':'Main hall'}"),
        "data[0].n.languageMap: must be an object");
    BAD(one_attr("'v':{'type':'VocabProperty','vocab':3}"),
        "data[0].v.vocab: must be a string or an array");
    BAD(one_attr("'l':{'type':'ListProperty','valueList':3}"),
        "data[0].l.valueList: must be an array");
    BAD(one_attr("'l':{'type':'ListRelationship','objectList':'urn:x:1'}"),
        "data[0].l.objectList: must be an array");
    BAD(one_attr("'j':{'type':'JsonProperty','value':{}}"), "data[0].j.json: missing");
    BAD(one_attr("'d':{'type':'Property','value':{'@type':'DateTime','@value':'x','@value':'y'}}"),
        "duplicate object key");
}

/* ---- bounds ----------------------------------------------------------- */

static void add_entities(int count, int attrs)
{
    big_reset();
    big_add("{\"id\":\"urn:ngsi-ld:Notification:1\",\"type\":\"Notification\",\"data\":[");
    for (int i = 0; i < count; i++) {
        big_add("%s{\"id\":\"urn:ngsi-ld:OffStreetParking:%d\",\"type\":\"OffStreetParking\"",
                i ? "," : "", i);
        for (int k = 0; k < attrs; k++)
            big_add(",\"a%d\":{\"type\":\"Property\",\"value\":%d}", k, k);
        big_add("}");
    }
    big_add("]}");
}

static void test_bounds(void)
{
    static char buf[16384];

    add_entities(NGSI_ENTITIES_MAX, 2);
    if (OK(big))
        CHECK(n.nentities == NGSI_ENTITIES_MAX && is_num(attr(99, "a1"), 1));
    add_entities(NGSI_ENTITIES_MAX + 1, 0);
    BAD(big, "data: 101 entities, more than 100");

    add_entities(1, NGSI_ATTRS_MAX);
    if (OK(big))
        CHECK(n.entities[0].nattrs == NGSI_ATTRS_MAX && is_num(attr(0, "a63"), 63));
    add_entities(1, NGSI_ATTRS_MAX + 1);
    BAD(big, "data[0]: more than 64 attributes");
    /* Members that are not attributes do not count. */
    add_entities(1, NGSI_ATTRS_MAX);
    big_len -= 3;
    big_add(",\"createdAt\":\"2026-01-01T00:00:00Z\",\"@id\":\"urn:x:1\"}]}");
    OK(big);

    /* The whole notification at the bounds: 100 entities of 64 attributes
     * fit in a body. */
    add_entities(NGSI_ENTITIES_MAX, NGSI_ATTRS_MAX);
    CHECK(big_len <= NGSI_BODY_MAX);
    if (OK(big))
        CHECK(n.nentities == NGSI_ENTITIES_MAX && n.entities[99].nattrs == NGSI_ATTRS_MAX);

    /* Text values: NGSI_TEXT_MAX bytes, in bytes of UTF-8. */
    snprintf(buf, sizeof buf, "'s':'%s'", rep("x", NGSI_TEXT_MAX));
    OK(one_attr(buf));
    CHECK(attr(0, "s") && strlen(attr(0, "s")->v.text) == NGSI_TEXT_MAX);
    snprintf(buf, sizeof buf, "'s':{'type':'Property','value':'%s'}", rep("x", NGSI_TEXT_MAX + 1));
    BAD(one_attr(buf), "data[0].s.value: longer than 1024 bytes");
    snprintf(buf, sizeof buf, "'s':'%s'", rep("\\u00e9", NGSI_TEXT_MAX / 2 + 1));
    BAD(one_attr(buf), "data[0].s: longer than 1024 bytes");
    /* JSON values: NGSI_JSON_MAX bytes of compact text. */
    snprintf(buf, sizeof buf, "'j':['%s']", rep("x", NGSI_JSON_MAX - 4));
    OK(one_attr(buf));
    CHECK(attr(0, "j") && strlen(attr(0, "j")->v.text) == NGSI_JSON_MAX);
    snprintf(buf, sizeof buf, "'j':['%s']", rep("x", NGSI_JSON_MAX - 3));
    BAD(one_attr(buf), "data[0].j: JSON value longer than 4096 bytes");

    /* Nesting: refused before jansson recurses (a normalized MultiPolygon
     * in a multi-attribute is 10 deep). The entity's members are at 3. */
    snprintf(buf, sizeof buf, "'j':%s1%s", rep("[", NGSI_DEPTH_MAX - 3),
             rep("]", NGSI_DEPTH_MAX - 3));
    OK(one_attr(buf));
    snprintf(buf, sizeof buf, "'j':%s1%s", rep("[", NGSI_DEPTH_MAX - 2),
             rep("]", NGSI_DEPTH_MAX - 2));
    BAD(one_attr(buf), "body: nested deeper than 32 levels");
    snprintf(buf, sizeof buf, "%s", rep("[", 100000 / 2));
    BAD(buf, "nested deeper than 32");
    BAD(rep("{\"a\":", 1000), "nested deeper");
    /* Brackets in strings do not count; unbalanced closers do not hide
     * depth. */
    snprintf(buf, sizeof buf, "'s':'%s'", rep("[{", 100));
    OK(one_attr(buf));
    snprintf(buf, sizeof buf, "]]]]%s", rep("[", NGSI_DEPTH_MAX + 1));
    BAD(buf, "nested deeper");

    /* The body itself. */
    bad_at(__LINE__, big, NGSI_BODY_MAX + 1, JSON, NULL, "body: 262145 bytes, more than 262144");
}

/* ---- headers ---------------------------------------------------------- */

static void test_media_types(void)
{
    const char *body = one_attr("'a':1");
    enum ngsi_media m;
    char e[NGSI_ERR_SIZE];

    OK_WITH(body, "application/json", NULL);
    OK_WITH(body, "application/json; charset=utf-8", NULL);
    OK_WITH(body, "Application/JSON;Charset=\"UTF-8\"", NULL);
    OK_WITH(body, " application/ld+json ; profile=\"http://www.w3.org/ns/json-ld#compacted\"",
            NULL);
    CHECK(n.media == NGSI_MEDIA_LD_JSON);
    OK_WITH(body, "application/json;", NULL);
    BAD_WITH(body, NULL, NULL, "Content-Type: missing");
    BAD_WITH(body, "", NULL, "Content-Type: missing");
    BAD_WITH(body, "text/plain", NULL, "Content-Type: \"text/plain\" is not supported");
    BAD_WITH(body, "application/jsonx", NULL, "is not supported");
    BAD_WITH(body, "application/json-patch+json", NULL, "is not supported");
    BAD_WITH(body, "application/geo+json", NULL, "is not supported");
    BAD_WITH(body, "application/json; charset=iso-8859-1", NULL,
             "Content-Type: charset \"iso-8859-1\" is not supported (utf-8 only)");
    BAD_WITH(body, "application/json; charset", NULL, "malformed parameters");
    BAD_WITH(body, "application/json; charset=\"utf-8", NULL, "malformed parameters");
    BAD_WITH(body, "application/json utf-8", NULL, "malformed parameters");
    BAD_WITH(body, "application/json; charset=\"utf-8\\\"\"", NULL, "charset \"utf-8\"\"");
    CHECK(ngsi_media_type("application/ld+json", &m, e, sizeof e) == 0 && m == NGSI_MEDIA_LD_JSON);
    CHECK(ngsi_media_type("application/xml", &m, NULL, 0) == -1);
    /* A message cut to a small buffer stays a string. */
    CHECK(ngsi_media_type("application/xml", &m, e, 8) == -1 && strlen(e) == 7);
}

static void test_link(void)
{
    const char *body = one_attr("'a':1");
    char url[NGSI_ID_MAX + 1], e[NGSI_ERR_SIZE], small[8];

    CHECK(ngsi_link_context(LINK, url, sizeof url, e, sizeof e) == 1);
    CHECK(strcmp(url, "https://smartdatamodels.org/context.jsonld") == 0);
    CHECK(ngsi_link_context(NULL, url, sizeof url, e, sizeof e) == 0 && url[0] == '\0');
    CHECK(ngsi_link_context("", url, sizeof url, e, sizeof e) == 0);
    /* Other relations are ignored, whatever else they say. */
    CHECK(ngsi_link_context("<https://x.org/next>; rel=next", url, sizeof url, e, sizeof e) == 0);
    CHECK(ngsi_link_context("<https://x.org/c>; rel=\"https://www.w3.org/ns/json-ld#context\"", url,
                            sizeof url, e, sizeof e) == 0);
    CHECK(ngsi_link_context("<https://x.org/c>; rel=\"http://www.w3.org/ns/json-ld#context/\"", url,
                            sizeof url, e, sizeof e) == 0);
    CHECK(ngsi_link_context("<https://x.org/c>; rel=\"HTTP://www.w3.org/ns/json-ld#context\"", url,
                            sizeof url, e, sizeof e) == 0);
    CHECK(ngsi_link_context("<https://x.org/c>; type=\"application/ld+json\"", url, sizeof url, e,
                            sizeof e) == 0);
    /* Only the first rel of a link counts (RFC 8288). */
    CHECK(ngsi_link_context(
              "<https://x.org/c>; rel=next; rel=\"http://www.w3.org/ns/json-ld#context\"", url,
              sizeof url, e, sizeof e) == 0);
    /* Several relation types in one rel; quoted commas and semicolons. */
    CHECK(ngsi_link_context("<https://x.org/c>; title=\"a, b; c\"; "
                            "rel=\"alternate http://www.w3.org/ns/json-ld#context\"",
                            url, sizeof url, e, sizeof e) == 1 &&
          strcmp(url, "https://x.org/c") == 0);
    CHECK(ngsi_link_context("<https://x.org/a>;rel=next,<https://x.org/c>;rel=\"http://www.w3.org/"
                            "ns/json-ld#context\",<https://x.org/b>;rel=prev",
                            url, sizeof url, e, sizeof e) == 1 &&
          strcmp(url, "https://x.org/c") == 0);
    /* Refused: malformed, two contexts, a context that is not a URI. */
    CHECK(ngsi_link_context("https://x.org/c; rel=next", url, sizeof url, e, sizeof e) == -1 &&
          strstr(e, "Link: \"https://x.org/c; rel=next\": a link must start with <url>"));
    CHECK(ngsi_link_context("<https://x.org/c; rel=next", url, sizeof url, e, sizeof e) == -1 &&
          strstr(e, "no '>'"));
    CHECK(ngsi_link_context("<https://x.org/c> rel=next", url, sizeof url, e, sizeof e) == -1 &&
          strstr(e, "expected ',' or ';'"));
    CHECK(ngsi_link_context("<https://x.org/c>; =next", url, sizeof url, e, sizeof e) == -1 &&
          strstr(e, "malformed parameter"));
    CHECK(ngsi_link_context("<https://x.org/c>; rel=\"next", url, sizeof url, e, sizeof e) == -1 &&
          strstr(e, "malformed parameter"));
    CHECK(ngsi_link_context("<https://x.org/a>; rel=\"http://www.w3.org/ns/json-ld#context\", "
                            "<https://x.org/b>; rel=\"http://www.w3.org/ns/json-ld#context\"",
                            url, sizeof url, e, sizeof e) == -1 &&
          strstr(e, "more than one JSON-LD context") && url[0] == '\0');
    CHECK(ngsi_link_context("<context.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"", url,
                            sizeof url, e, sizeof e) == -1 &&
          strstr(e, "Link: context <context.jsonld> is not an absolute URI"));
    CHECK(ngsi_link_context(LINK, small, sizeof small, e, sizeof e) == -1 &&
          strstr(e, "longer than 7 bytes") && small[0] == '\0');

    /* Through ngsi_parse: a bad Link is a refusal, another rel is not. */
    BAD_WITH(body, JSON,
             "<https://x.org/a>; rel=\"http://www.w3.org/ns/json-ld#context\", "
             "<https://x.org/b>; rel=\"http://www.w3.org/ns/json-ld#context\"",
             "Link: more than one JSON-LD context");
    BAD_WITH(body, JSON, "garbage", "Link: \"garbage\"");
    if (OK_WITH(body, JSON, "<https://x.org/next>; rel=\"next\""))
        CHECK(n.context[0] == '\0');
}

/* ---- date-times ------------------------------------------------------- */

static void test_time(void)
{
    long long ms = 0;

    CHECK(ngsi_parse_time("2026-05-12T09:00:00.000Z", &ms) == 0 && ms == T0);
    CHECK(ngsi_parse_time("2026-05-12T09:00:00Z", &ms) == 0 && ms == T0);
    CHECK(ngsi_parse_time("2026-05-12T11:00:00+02:00", &ms) == 0 && ms == T0);
    CHECK(ngsi_parse_time("2026-05-12T04:30:00-04:30", &ms) == 0 && ms == T0);
    CHECK(ngsi_parse_time("2026-05-12T09:00:00-00:00", &ms) == 0 && ms == T0);
    CHECK(ngsi_parse_time("2026-05-12T09:00:00.5Z", &ms) == 0 && ms == T0 + 500);
    CHECK(ngsi_parse_time("2026-05-12T09:00:00.05Z", &ms) == 0 && ms == T0 + 50);
    CHECK(ngsi_parse_time("2026-05-12T09:00:00.123456789Z", &ms) == 0 && ms == T0 + 123);
    CHECK(ngsi_parse_time("2026-05-12T09:00:00.999999Z", &ms) == 0 && ms == T0 + 999); /* cut */
    CHECK(ngsi_parse_time("2026-05-12T09:00:00.0000000000000000000000000000001Z", &ms) == 0 &&
          ms == T0);
    CHECK(ngsi_parse_time("1970-01-01T00:00:00Z", &ms) == 0 && ms == 0);
    CHECK(ngsi_parse_time("1969-12-31T23:59:59.999Z", &ms) == 0 && ms == -1);
    CHECK(ngsi_parse_time("2000-02-29T00:00:00Z", &ms) == 0 && ms == 951782400000LL);
    CHECK(ngsi_parse_time("2024-02-29T12:00:00Z", &ms) == 0 && ms == 1709208000000LL);
    CHECK(ngsi_parse_time("0001-01-01T00:00:00Z", &ms) == 0 && ms == -62135596800000LL);
    CHECK(ngsi_parse_time("9999-12-31T23:59:59.999Z", &ms) == 0 && ms == 253402300799999LL);
    CHECK(ngsi_parse_time("2016-12-31T23:59:60Z", &ms) == 0 && ms == 1483228800000LL);
    CHECK(ngsi_parse_time("2026-01-31T00:00:00Z", &ms) == 0);
    CHECK(ngsi_parse_time("2026-04-30T23:59:59+23:59", &ms) == 0);

    ms = 7;
    static const char *const bad[] = {
        "",
        "2026",
        "2026-05-12",
        "2026-05-12T09:00Z",
        "2026-05-12T09:00:00",
        "2026-05-12 09:00:00Z",
        "2026-05-12t09:00:00Z",
        "2026-05-12T09:00:00z",
        "2026-00-12T09:00:00Z",
        "2026-13-12T09:00:00Z",
        "2026-05-00T09:00:00Z",
        "2026-05-32T09:00:00Z",
        "2026-02-29T09:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T09:00:00Z",
        "2026-06-31T00:00:00Z",
        "2026-09-31T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-05-12T24:00:00Z",
        "2026-05-12T09:60:00Z",
        "2026-05-12T09:00:61Z",
        "0000-01-01T00:00:00Z",
        "2026-05-12T09:00:00.Z",
        "2026-05-12T09:00:00+02",
        "2026-05-12T09:00:00+0200",
        "2026-05-12T09:00:00+24:00",
        "2026-05-12T09:00:00+02:60",
        "2026-05-12T09:00:00Z ",
        " 2026-05-12T09:00:00Z",
        "2026-05-12T09:00:00ZZ",
        "+2026-05-12T09:00:00Z",
        "20260-05-12T09:00:00Z",
        "2026-5-12T09:00:00Z",
        "2026-05-12T9:00:00Z",
        "2026-05-12T09:00:00,5Z",
        "2026-05-12T09:00:00.5",
        "2026-05-12T09:00:00.5+",
        "2026-05-12T09:00:00.-5Z",
        "2026-05-12T09:00:00+02:00Z",
        "2026-\xff\xff-12T09:00:00Z",
        "2026-05-12T09:00:0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ngsi_parse_time(bad[i], &ms);
        CHECK_AT(__LINE__, rc == -1 && ms == 7, "accepted \"%s\"", bad[i]);
    }
    CHECK(ngsi_parse_time(NULL, &ms) == -1 && ms == 7);
}

/* ---- results ---------------------------------------------------------- */

static void test_free_and_errors(void)
{
    struct ngsi_notification m;
    char small[12];

    /* ngsi_free: twice, and on a refused parse. */
    CHECK(ngsi_parse(J(ORION_AIR), strlen(J(ORION_AIR)), JSON, NULL, &m, NULL, 0) == 0);
    ngsi_free(&m);
    CHECK(m.entities == NULL && m.nentities == 0);
    ngsi_free(&m);
    memset(&m, 0x5A, sizeof m); /* garbage in: out is overwritten, never read */
    CHECK(ngsi_parse("{", 1, JSON, NULL, &m, NULL, 0) == -1 && m.entities == NULL);
    ngsi_free(&m);
    /* The error at the last entity frees the ones before. */
    BAD(notif("{'id':'urn:x:1','type':'T','a':'aaa','b':[1]},{'id':'urn:x:2','type':'T',"
              "'c':{'value':'x','unitCode':'GQ','observedAt':'bad'}}"),
        "data[1].c.observedAt");
    /* A small err buffer: cut, still a string. */
    CHECK(ngsi_parse("{", 1, JSON, NULL, &m, small, sizeof small) == -1 &&
          strlen(small) == sizeof small - 1);
    CHECK(ngsi_parse("{", 1, JSON, NULL, &m, small, 1) == -1 && small[0] == '\0');
}

int main(void)
{
    test_orion_normalized();
    test_scorpio_per_entity();
    test_stellio_parking();
    test_energy_forms();
    test_keyvalues_concise();
    test_other_types();
    test_names();
    test_notification_refusals();
    test_entity_refusals();
    test_value_refusals();
    test_bounds();
    test_media_types();
    test_link();
    test_time();
    test_free_and_errors();
    ngsi_free(&n);
    return check_report();
}
