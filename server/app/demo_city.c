/*
 * demo_city.c - the simulated city behind `venued demo-feed`: six Smart
 * Data Models entities in Lyon whose values follow the local hour.
 *
 * Each series is a daily curve (smooth bumps for rush hours, logistic
 * steps for opening hours, cosines for the weather) times a weekday or
 * weekend profile, plus AR(1) noise that wanders instead of jittering.
 * The entities and attributes are the ones scenes/demo/expo.json binds,
 * with the Smart Data Models' names and UN/CEFACT unit codes:
 *   GQ  microgram per cubic metre      CEL  degree Celsius
 *   C62 one (a ratio 0..1)             KMH  kilometre per hour
 *   KWT kilowatt                       KWH  kilowatt hour
 * Counts (vehicles per hour, parking spaces) and the index carry no
 * unitCode: UN/CEFACT Recommendation 20 has no code for vehicles per hour.
 */
#include "demo_city.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846

/* What each noise channel drives. */
enum {
    N_CENTRE_NO2,
    N_CENTRE_PM10,
    N_CENTRE_PM25,
    N_CENTRE_O3,
    N_TEMP,
    N_RH,
    N_HARBOUR_NO2,
    N_HARBOUR_PM10,
    N_HARBOUR_PM25,
    N_HARBOUR_O3,
    N_HARBOUR_TEMP,
    N_RING,
    N_BRIDGE,
    N_SPEED,
    N_PARKING,
    N_POWER,
    N_COUNT
};
_Static_assert(N_COUNT <= DEMO_CITY_CHANNELS, "a noise channel per series");

/* The local time a value is computed for. */
struct when {
    double h;      /* hour of the day, 0..24 */
    bool weekend;  /* Saturday or Sunday */
    double summer; /* 0 in mid-January .. 1 in mid-July */
    int month;     /* 0..11 */
    int yday;      /* day of the year, to restart the daily energy count */
};

/* splitmix64: spreads any seed (0 included) over the state. */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* xorshift64*: a uniform in (0, 1). */
static double uniform(struct demo_city *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return ((double)((c->rng * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) / 9007199254740992.0;
}

/* Box-Muller: one standard normal. */
static double gauss(struct demo_city *c)
{
    double u = uniform(c), v = uniform(c);
    return sqrt(-2.0 * log(u)) * cos(2.0 * PI * v);
}

void demo_city_init(struct demo_city *c, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    c->rng = splitmix64(seed);
    if (c->rng == 0)
        c->rng = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < DEMO_CITY_CHANNELS; i++)
        c->noise[i] = gauss(c);
}

/* One step of every channel: AR(1) with a stationary N(0,1). */
static void wander(struct demo_city *c)
{
    const double a = 0.85, b = sqrt(1.0 - a * a);
    for (int i = 0; i < DEMO_CITY_CHANNELS; i++)
        c->noise[i] = a * c->noise[i] + b * gauss(c);
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* A bell around centre (hours, wrapping at midnight), 1 at its top. */
static double bump(double h, double centre, double width)
{
    double d = h - centre;
    d -= 24.0 * round(d / 24.0);
    return exp(-0.5 * (d / width) * (d / width));
}

/* 0 well before at, 1 well after, over about width hours. */
static double step(double h, double at, double width)
{
    return 1.0 / (1.0 + exp(-(h - at) / width));
}

/* The daily cycle of the weather: 1 at 15:00, -1 at 03:00. */
static double daytime(double h)
{
    return cos(2.0 * PI * (h - 15.0) / 24.0);
}

/* Road traffic as a share of a road's capacity. */
static double traffic(const struct when *w, double h)
{
    if (w->weekend)
        return 0.05 + 0.42 * bump(h, 14.5, 3.5) + 0.12 * bump(h, 11.0, 1.5);
    return clamp(0.05 + 0.30 * bump(h, 13.0, 3.0) + 0.70 * bump(h, 8.0, 0.9) +
                     0.75 * bump(h, 17.7, 1.2),
                 0.0, 1.0);
}

/* The town hall's power in kW, without noise. */
static double power(const struct when *w, double h)
{
    if (w->weekend)
        return 48.0 + 12.0 * bump(h, 12.0, 3.0);
    return 55.0 +
           (210.0 + 40.0 * (1.0 - w->summer)) * step(h, 7.8, 0.45) * (1.0 - step(h, 18.5, 0.6)) -
           25.0 * bump(h, 12.75, 0.6);
}

/* Lyon's monthly mean temperature, January first (degrees Celsius). */
static const double mean_temp[12] = {3.9,  5.3,  9.0,  12.1, 16.1, 20.0,
                                     22.6, 22.1, 18.0, 13.6, 8.1,  4.9};

/* The European Air Quality Index (EEA): 1 good .. 6 extremely poor, the
 * worst band of the four pollutants (upper bounds in microgram/m3). */
static int eaqi(double no2, double pm10, double pm25, double o3)
{
    static const double b_no2[5] = {40, 90, 120, 230, 340}, b_pm10[5] = {20, 40, 50, 100, 150},
                        b_pm25[5] = {10, 20, 25, 50, 75}, b_o3[5] = {50, 100, 130, 240, 380};
    const double *bands[4] = {b_no2, b_pm10, b_pm25, b_o3};
    const double v[4] = {no2, pm10, pm25, o3};
    int worst = 1;
    for (int p = 0; p < 4; p++) {
        int level = 1;
        while (level < 6 && v[p] > bands[p][level - 1])
            level++;
        if (level > worst)
            worst = level;
    }
    return worst;
}

/* ---- JSON ------------------------------------------------------------- */

/* Collects failures of json_*_set_new (each steals its value, even when it
 * fails), so that one check at the end covers them all. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (json_object_set_new(obj, key, value) < 0)
        *ok = false;
}

/* A normalized Property: the value rounded to decimals (0: an integer). */
static json_t *prop(double v, int decimals, const char *unit, const char *at)
{
    double scale = pow(10.0, decimals);
    json_t *p = json_object();
    bool ok = true;
    put(p, "type", json_string("Property"), &ok);
    put(p, "value",
        decimals == 0 ? json_integer((json_int_t)llround(v)) : json_real(round(v * scale) / scale),
        &ok);
    if (unit)
        put(p, "unitCode", json_string(unit), &ok);
    put(p, "observedAt", json_string(at), &ok);
    if (!ok) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* A GeoProperty holding a Point (n 1) or a LineString of n positions. */
static json_t *geo(const double (*pos)[2], size_t n)
{
    json_t *coords = n == 1 ? json_pack("[f,f]", pos[0][0], pos[0][1]) : json_array();
    json_t *value = json_object(), *g = json_object();
    bool ok = coords != NULL;
    for (size_t i = 0; ok && n > 1 && i < n; i++)
        ok = json_array_append_new(coords, json_pack("[f,f]", pos[i][0], pos[i][1])) == 0;
    put(value, "type", json_string(n == 1 ? "Point" : "LineString"), &ok);
    put(value, "coordinates", coords, &ok);
    put(g, "type", json_string("GeoProperty"), &ok);
    put(g, "value", value, &ok);
    if (!ok) {
        json_decref(g);
        return NULL;
    }
    return g;
}

static json_t *entity(const char *id, const char *type, bool *ok)
{
    json_t *e = json_object();
    put(e, "id", json_string(id), ok);
    put(e, "type", json_string(type), ok);
    return e;
}

/* ISO 8601 in UTC with milliseconds: 2026-05-12T09:00:00.000Z. */
static void iso_time(long long ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    int n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0'; /* never half a time */
}

static void local_when(long long ms, struct when *w)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    w->h = tm.tm_hour + tm.tm_min / 60.0 + (tm.tm_sec + (double)(ms % 1000) / 1000.0) / 3600.0;
    w->weekend = tm.tm_wday == 0 || tm.tm_wday == 6;
    w->month = tm.tm_mon >= 0 && tm.tm_mon < 12 ? tm.tm_mon : 0;
    w->summer = 0.5 - 0.5 * cos(2.0 * PI * ((double)w->month + tm.tm_mday / 31.0 - 0.5) / 12.0);
    w->yday = tm.tm_yday;
}

/* The town hall's import since local midnight: integrated from midnight
 * on the first call of a day, then advanced by what was drawn since. */
static void advance_energy(struct demo_city *c, const struct when *w, long long now_ms,
                           double kw_now)
{
    if (c->energy_ms == 0 || w->yday != c->energy_day) {
        c->energy_kwh = 0;
        for (double h = 0; h + 1.0 / 60.0 <= w->h; h += 1.0 / 60.0)
            c->energy_kwh += power(w, h + 0.5 / 60.0) / 60.0;
        c->energy_day = w->yday;
    } else if (now_ms > c->energy_ms) {
        double hours = (double)(now_ms - c->energy_ms) / 3600000.0;
        c->energy_kwh += kw_now * (hours < 1.0 ? hours : 1.0);
    }
    c->energy_ms = now_ms;
}

struct air {
    double no2, pm10, pm25, o3, temp, rh;
};

static json_t *air_entity(const char *id, const double pos[2], const struct air *a, const char *at,
                          bool *ok)
{
    json_t *e = entity(id, "AirQualityObserved", ok);
    json_t *observed = json_object();
    put(observed, "type", json_string("Property"), ok);
    put(observed, "value", json_pack("{s:s, s:s}", "@type", "DateTime", "@value", at), ok);
    put(e, "dateObserved", observed, ok);
    put(e, "no2", prop(a->no2, 1, "GQ", at), ok);
    put(e, "pm10", prop(a->pm10, 1, "GQ", at), ok);
    put(e, "pm25", prop(a->pm25, 1, "GQ", at), ok);
    put(e, "o3", prop(a->o3, 1, "GQ", at), ok);
    put(e, "temperature", prop(a->temp, 1, "CEL", at), ok);
    put(e, "relativeHumidity", prop(a->rh, 2, "C62", at), ok);
    put(e, "airQualityIndex", prop(eaqi(a->no2, a->pm10, a->pm25, a->o3), 0, NULL, at), ok);
    put(e, "location", geo((const double(*)[2])pos, 1), ok);
    return e;
}

/* The air at a station: traffic drives NO2 and part of the PM; sunshine
 * makes ozone, which NO2 eats. */
static void air_at(const struct demo_city *c, const struct when *w, double base_no2,
                   double traffic_no2, int n_no2, int n_pm10, int n_pm25, int n_o3, double temp,
                   double rh, struct air *a)
{
    double t = traffic(w, w->h - 0.5); /* the air lags the roads a little */
    double sun = bump(w->h, 15.0, 2.8);
    a->no2 = clamp(base_no2 + traffic_no2 * t + 6.0 * c->noise[n_no2], 2.0, 400.0);
    a->pm10 = clamp(13.0 + 14.0 * t + 6.0 * (1.0 - w->summer) + 3.0 * c->noise[n_pm10], 3.0, 300.0);
    a->pm25 = clamp(0.55 * a->pm10 + 1.5 * c->noise[n_pm25], 1.0, 0.95 * a->pm10);
    a->o3 = clamp(22.0 + (40.0 + 70.0 * w->summer) * sun - 0.25 * a->no2 + 6.0 * c->noise[n_o3],
                  2.0, 400.0);
    a->temp = temp;
    a->rh = rh;
}

static json_t *traffic_entity(const char *id, const double (*line)[2], size_t n, double share,
                              double capacity, double free_speed, double noise_n, double noise_v,
                              const char *at, bool *ok)
{
    double intensity = clamp(capacity * share * (1.0 + 0.05 * noise_n), 0.0, capacity * 1.1);
    double ratio = intensity / capacity;
    double occupancy = clamp(0.02 + 0.9 * pow(ratio, 1.6), 0.0, 0.98);
    double speed = clamp(free_speed * (1.0 - 0.85 * pow(occupancy, 1.5)) + 2.0 * noise_v, 5.0,
                         free_speed + 10.0);
    json_t *e = entity(id, "TrafficFlowObserved", ok);
    put(e, "intensity", prop(intensity, 0, NULL, at), ok);
    put(e, "occupancy", prop(occupancy, 2, "C62", at), ok);
    put(e, "averageVehicleSpeed", prop(speed, 1, "KMH", at), ok);
    put(e, "location", geo(line, n), ok);
    return e;
}

json_t *demo_city_notification(struct demo_city *c, long long now_ms)
{
    static const double centre[2] = {4.8357, 45.7640}, harbour[2] = {4.8222, 45.7300},
                        station[1][2] = {{4.8597, 45.7597}};
    static const double ring[3][2] = {{4.8512, 45.7930}, {4.8620, 45.7958}, {4.8745, 45.7962}},
                        bridge[2][2] = {{4.8381, 45.7629}, {4.8437, 45.7624}};
    struct when w;
    struct air air;
    char at[32], id[96];
    bool ok = true;
    json_t *data = json_array(), *n = json_object(), *e;
    double temp, rh, share, occ, free, kw;

    wander(c);
    local_when(now_ms, &w);
    iso_time(now_ms, at, sizeof(at));
    c->notifications++;
    snprintf(id, sizeof(id), "urn:ngsi-ld:Notification:demo-feed-%016llx-%llu",
             (unsigned long long)(c->rng >> 1), c->notifications);

    /* The weather, shared by both stations (the harbour a little cooler). */
    temp = mean_temp[w.month] + (4.5 + 2.0 * w.summer) * daytime(w.h) + 0.6 * c->noise[N_TEMP];
    rh = clamp(0.62 - 0.20 * daytime(w.h) + 0.04 * c->noise[N_RH], 0.15, 0.99);

    air_at(c, &w, 12.0, 75.0, N_CENTRE_NO2, N_CENTRE_PM10, N_CENTRE_PM25, N_CENTRE_O3, temp, rh,
           &air);
    ok = json_array_append_new(data, air_entity("urn:ngsi-ld:AirQualityObserved:demo-centre",
                                                centre, &air, at, &ok)) == 0 &&
         ok;
    air_at(c, &w, 20.0, 40.0, N_HARBOUR_NO2, N_HARBOUR_PM10, N_HARBOUR_PM25, N_HARBOUR_O3,
           temp - 0.8 + 0.3 * c->noise[N_HARBOUR_TEMP], clamp(rh + 0.05, 0.15, 0.99), &air);
    ok = json_array_append_new(data, air_entity("urn:ngsi-ld:AirQualityObserved:demo-harbour",
                                                harbour, &air, at, &ok)) == 0 &&
         ok;

    share = traffic(&w, w.h);
    ok = json_array_append_new(data,
                               traffic_entity("urn:ngsi-ld:TrafficFlowObserved:demo-ring-north",
                                              ring, 3, share, 3000.0, 85.0, c->noise[N_RING],
                                              c->noise[N_SPEED], at, &ok)) == 0 &&
         ok;
    ok = json_array_append_new(data,
                               traffic_entity("urn:ngsi-ld:TrafficFlowObserved:demo-bridge", bridge,
                                              2, share * 0.95, 1800.0, 45.0, c->noise[N_BRIDGE],
                                              -c->noise[N_SPEED], at, &ok)) == 0 &&
         ok;

    /* Commuters fill the station car park in the morning and leave it in
     * the evening; at weekends it is busiest in the afternoon. */
    occ = w.weekend ? 0.10 + 0.35 * bump(w.h, 14.0, 3.0)
                    : 0.12 + 0.80 * step(w.h, 7.4, 0.5) * (1.0 - step(w.h, 18.3, 0.8));
    free = clamp(400.0 * (1.0 - occ) + 4.0 * c->noise[N_PARKING], 0.0, 400.0);
    e = entity("urn:ngsi-ld:OffStreetParking:demo-station", "OffStreetParking", &ok);
    put(e, "availableSpotNumber", prop(free, 0, NULL, at), &ok);
    put(e, "totalSpotNumber", prop(400.0, 0, NULL, at), &ok);
    put(e, "location", geo(station, 1), &ok);
    ok = json_array_append_new(data, e) == 0 && ok;

    kw = clamp(power(&w, w.h) + 8.0 * c->noise[N_POWER], 5.0, 500.0);
    advance_energy(c, &w, now_ms, kw);
    e = entity("urn:ngsi-ld:ThreePhaseAcMeasurement:demo-town-hall", "ThreePhaseAcMeasurement",
               &ok);
    put(e, "totalActivePower", prop(kw, 1, "KWT", at), &ok);
    put(e, "totalActiveEnergyImport", prop(c->energy_kwh, 1, "KWH", at), &ok);
    ok = json_array_append_new(data, e) == 0 && ok;

    put(n, "id", json_string(id), &ok);
    put(n, "type", json_string("Notification"), &ok);
    put(n, "subscriptionId", json_string(DEMO_CITY_SUBSCRIPTION), &ok);
    put(n, "notifiedAt", json_string(at), &ok);
    put(n, "data", data, &ok);
    if (!ok) {
        json_decref(n);
        return NULL;
    }
    return n;
}
