/*
 * cli_twin.c - `venued twin subscribe` and `venued demo-feed`: the two
 * ends of a city broker's link to the venue, from the command line.
 *
 * `twin subscribe` builds the NGSI-LD Subscription that makes a broker
 * (Orion-LD, Stellio, Scorpio) notify this venue's /ngsi-ld/v1/notify with
 * its key, prints it, and with --post creates it on the broker. `demo-feed`
 * stands in for a broker: it posts the simulated city of demo_city.c to a
 * running venue once a period, as a broker would (normalized form,
 * application/json with the core context in a Link header), retries with
 * backoff while the venue is away and stops on a count or a signal.
 *
 * HTTP is libcurl's: http and https only, no redirects followed, bounded
 * times, answers read up to REPLY_KEEP bytes. Flags are checked before
 * anything is sent, each refusal naming its flag.
 */
#include "cli_twin.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "demo_city.h"
#include "ingest.h"
#include "ngsi.h"
#include "options.h"

#define CORE_CONTEXT   "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
#define SUBSCRIPTIONS  "/ngsi-ld/v1/subscriptions"
#define URL_MAX        255  /* a --broker or --url, without the path we add */
#define REPLY_KEEP     4096 /* bytes of an answer's body kept to report */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

/* ---- Flags ------------------------------------------------------------ */

/* One flag of a command. value: NULL when not given ("" for a switch). */
struct flag {
    const char *name;
    bool switch_only; /* takes no value (--post) */
    const char *value;
};

static const char subscribe_usage[] =
    "usage: venued twin subscribe --broker URL --entity-type TYPE [--watch ATTR,...]\n"
    "           [--attrs ATTR,...] [--id URI] [--post] [server options]\n"
    "  Prints the NGSI-LD Subscription that makes the broker at URL notify this venue\n"
    "  (--public-url + /ngsi-ld/v1/notify, with the --ingest-key as a Bearer key) of\n"
    "  every entity of TYPE; --watch: only when these attributes change; --attrs: only\n"
    "  these attributes; --id: the subscription's URI (default\n"
    "  urn:ngsi-ld:Subscription:venue-TYPE). --post creates it: POST URL" SUBSCRIPTIONS "\n"
    "  server options: --public-url URL (VENUE_PUBLIC_URL), --ingest-key KEY\n"
    "  (VENUE_INGEST_KEY, required), and any other of `venued --help`\n";

static const char feed_usage[] =
    "usage: venued demo-feed [--url URL] [--ingest-key KEY] [--period-ms MS] [--count N]\n"
    "           [--seed S] [--port PORT]\n"
    "  Plays a simulated Lyon (air quality, traffic, parking, energy, following the\n"
    "  hour) into a running venue's /ngsi-ld/v1/notify, as a city broker would.\n"
    "  --url        the venue (default http://127.0.0.1:PORT, --port/VENUE_PORT or 8080)\n"
    "  --ingest-key the venue's key (VENUE_INGEST_KEY), required\n"
    "  --period-ms  milliseconds between notifications, 50..3600000 (default 2000)\n"
    "  --count      notifications to deliver, then stop; 0 (the default): until a signal\n"
    "  --seed       the noise's seed, a whole number (default: from the clock)\n";

static int usage(const char *cmd, const char *text, const char *why)
{
    if (why)
        fprintf(stderr, "venued %s: %s\n", cmd, why);
    fputs(text, stderr);
    return 2;
}

static bool asks_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            (i == 1 && strcmp(argv[i], "help") == 0))
            return true;
    return false;
}

static bool forwarded(const char *const *forward, const char *name)
{
    if (!forward)
        return true;
    for (size_t k = 0; forward[k]; k++)
        if (strcmp(forward[k], name) == 0)
            return true;
    return false;
}

/*
 * Read argv[first..] into flags (each at most once). A flag that is not
 * the command's goes to options_parse when forward names it (NULL: any),
 * together with the environment, into cfg, which is reset to the defaults
 * first. 0, or -1 with the reason in err.
 */
static int parse_flags(int argc, char **argv, int first, struct flag *flags,
                       const char *const *forward, struct venue_config *cfg, char *err,
                       size_t errlen)
{
    char **fwd = calloc((size_t)argc + 1, sizeof(*fwd));
    int nfwd = 0, rc = -1;

    if (!fwd) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fwd[nfwd++] = argv[0];
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i], *eq;
        char name[32];
        size_t len;
        struct flag *f = NULL;

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            snprintf(err, errlen, "unexpected argument \"%.40s\"", arg);
            goto done;
        }
        eq = strchr(arg + 2, '=');
        len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof(name)) {
            snprintf(err, errlen, "unknown option \"%.40s\"", arg);
            goto done;
        }
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        for (size_t k = 0; flags[k].name && !f; k++)
            if (strcmp(flags[k].name, name) == 0)
                f = &flags[k];
        if (!f) {
            if (!forwarded(forward, name)) {
                snprintf(err, errlen, "unknown option \"--%s\" for this command", name);
                goto done;
            }
            /* Every server option takes a value: keep it with its flag. */
            fwd[nfwd++] = argv[i];
            if (!eq && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                fwd[nfwd++] = argv[++i];
            continue;
        }
        if (f->value) {
            snprintf(err, errlen, "--%s: given twice", name);
            goto done;
        }
        if (f->switch_only) {
            if (eq) {
                snprintf(err, errlen, "--%s: takes no value", name);
                goto done;
            }
            f->value = "";
        } else if (eq) {
            f->value = eq + 1;
        } else if (i + 1 < argc) {
            f->value = argv[++i];
        } else {
            snprintf(err, errlen, "--%s: needs a value", name);
            goto done;
        }
    }
    config_defaults(cfg);
    rc = options_parse(cfg, nfwd, fwd, err, errlen) == 0 ? 0 : -1;
done:
    free(fwd);
    return rc;
}

/* The value of the flag called name, NULL when it was not given. */
static const char *flag_value(const struct flag *flags, const char *name)
{
    for (size_t k = 0; flags[k].name; k++)
        if (strcmp(flags[k].name, name) == 0)
            return flags[k].value;
    return NULL;
}

/* A character that may stand in a URL or URI as we accept them: printable
 * ASCII other than space and "<>\^`{|} (RFC 3986's excluded ones). */
static bool uri_char(char ch)
{
    return ch > ' ' && ch < 0x7f && !strchr("\"<>\\^`{|}", ch);
}

/*
 * An http:// or https:// URL with a host, without a query or fragment, at
 * most URL_MAX bytes; copied to out without trailing slashes. 0, or -1
 * with the reason, naming flag, in err.
 */
static int check_url(const char *flag, const char *url, char *out, size_t size, char *err,
                     size_t errlen)
{
    size_t n = strlen(url), scheme;

    if (strncasecmp(url, "http://", 7) == 0)
        scheme = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        scheme = 8;
    else {
        snprintf(err, errlen, "%s: \"%.60s\" must start with http:// or https://", flag, url);
        return -1;
    }
    if (n > URL_MAX || n >= size) {
        snprintf(err, errlen, "%s: longer than %d characters", flag, URL_MAX);
        return -1;
    }
    if (url[scheme] == '\0' || url[scheme] == '/' || url[scheme] == ':') {
        snprintf(err, errlen, "%s: \"%.60s\" has no host", flag, url);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!uri_char(url[i]) || url[i] == '?' || url[i] == '#') {
            snprintf(err, errlen,
                     "%s: \"%.60s\" may hold no spaces, control characters, query or fragment",
                     flag, url);
            return -1;
        }
    }
    while (n > scheme && url[n - 1] == '/')
        n--;
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

/* A compact NGSI-LD name: [A-Za-z0-9_], 1..max bytes. */
static int check_name(const char *flag, const char *s, size_t len, size_t max, char *err,
                      size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "%s: an empty name", flag);
        return -1;
    }
    if (len > max) {
        snprintf(err, errlen, "%s: a name must have 1..%zu characters", flag, max);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_')) {
            snprintf(err, errlen, "%s: \"%.*s\" may hold only letters, digits and _", flag,
                     (int)(len < 64 ? len : 64), s);
            return -1;
        }
    }
    return 0;
}

/* ATTR,ATTR,...: names as above, none twice, at most NGSI_ATTRS_MAX, into
 * a new JSON array; NULL with the reason in err. */
static json_t *parse_list(const char *flag, const char *list, char *err, size_t errlen)
{
    json_t *arr = json_array();
    const char *p = list;

    if (!arr) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        char name[NGSI_NAME_MAX + 1];
        size_t i;
        json_t *v;
        if (check_name(flag, p, len, NGSI_NAME_MAX, err, errlen) < 0)
            goto fail;
        memcpy(name, p, len);
        name[len] = '\0';
        json_array_foreach(arr, i, v)
        {
            if (strcmp(json_string_value(v), name) == 0) {
                snprintf(err, errlen, "%s: \"%s\" is listed twice", flag, name);
                goto fail;
            }
        }
        if (json_array_size(arr) == NGSI_ATTRS_MAX) {
            snprintf(err, errlen, "%s: at most %d attributes", flag, NGSI_ATTRS_MAX);
            goto fail;
        }
        if (json_array_append_new(arr, json_string(name)) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (p[len] == '\0')
            return arr;
        p += len + 1;
    }
fail:
    json_decref(arr);
    return NULL;
}

/* An absolute URI (scheme:rest) of at most NGSI_ID_MAX bytes. */
static int check_uri(const char *flag, const char *s, char *err, size_t errlen)
{
    size_t n = strlen(s), scheme = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    bool ok = n <= NGSI_ID_MAX && scheme > 0 &&
              ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) && s[scheme] == ':' &&
              s[scheme + 1] != '\0';
    for (size_t i = 0; ok && i < n; i++)
        ok = uri_char(s[i]);
    if (!ok) {
        snprintf(err, errlen,
                 "%s: \"%.60s\" is not a URI of at most %d characters "
                 "(urn:ngsi-ld:Subscription:NAME)",
                 flag, s, NGSI_ID_MAX);
        return -1;
    }
    return 0;
}

/* A whole number in decimal digits within min..max. */
static int parse_whole(const char *flag, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out, char *err, size_t errlen)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (!s[0] || s[strspn(s, "0123456789")] != '\0' || errno || end == s || v < min || v > max) {
        snprintf(err, errlen, "%s: \"%.40s\" must be a whole number %llu..%llu", flag, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* The key both commands send, which venued checks: required. */
static int need_key(const char *cmd, const struct venue_config *cfg)
{
    if (cfg->ingest_key[0])
        return 0;
    fprintf(stderr,
            "venued %s: --ingest-key (or VENUE_INGEST_KEY) is required: the key venued runs "
            "with, which brokers send as Authorization: Bearer KEY\n",
            cmd);
    return -1;
}

/* ---- HTTP ------------------------------------------------------------- */

/* What an HTTP answer said. */
struct reply {
    long status;
    char location[NGSI_ID_MAX + 64]; /* the Location header, printable; "" if none */
    char body[REPLY_KEEP + 1];       /* its first REPLY_KEEP bytes, NUL-terminated */
    size_t len;
    bool cut; /* the body was longer */
};

static volatile sig_atomic_t feed_stop;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct reply *r = arg;
    size_t n = size * nmemb, room = REPLY_KEEP - r->len;
    if (n > room) {
        r->cut = true;
        memcpy(r->body + r->len, data, room);
        r->len += room;
    } else {
        memcpy(r->body + r->len, data, n);
        r->len += n;
    }
    r->body[r->len] = '\0';
    return n;
}

/* Printable ASCII of p[0..n) into out (size bytes), other bytes as '?'. */
static void printable(const char *p, size_t n, char *out, size_t size)
{
    size_t k = 0;
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    for (size_t i = 0; i < n && k + 1 < size; i++)
        out[k++] = p[i] >= ' ' && p[i] < 0x7f ? p[i] : '?';
    out[k] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct reply *r = arg;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->location[0] = '\0'; /* a new answer (after a 100 Continue) */
    } else if (n > 9 && strncasecmp(data, "location:", 9) == 0) {
        size_t skip = 9;
        while (skip < n && (data[skip] == ' ' || data[skip] == '\t'))
            skip++;
        printable(data + skip, n - skip, r->location, sizeof(r->location));
    }
    return n;
}

/* Called while a transfer runs: a stop signal aborts it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return feed_stop ? 1 : 0;
}

/*
 * POST body to url with headers. use_proxy: honour the *_proxy variables
 * as curl does (the demo feed never does: it talks to --url only). 0 with
 * the answer in *r whatever its status, or -1 when no answer came, with
 * the reason in err.
 */
static int http_post(CURL *h, const char *url, struct curl_slist *headers, const char *body,
                     bool use_proxy, struct reply *r, char *err, size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    curl_easy_reset(h);
    if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, r) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        (!use_proxy && curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK)) {
        snprintf(err, errlen, "libcurl refused an option");
        return -1;
    }
    rc = curl_easy_perform(h);
    /* The buffer lives on this stack: curl must not keep it. */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
        return -1;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK) {
        snprintf(err, errlen, "no status in the answer");
        return -1;
    }
    return 0;
}

/* Append each of the NULL-terminated lines; NULL when out of memory. */
static struct curl_slist *header_list(const char *const *lines)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; lines[i]; i++) {
        struct curl_slist *next = curl_slist_append(list, lines[i]);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

/* ---- twin subscribe --------------------------------------------------- */

/* The Subscription; steals watch and attrs (either may be NULL: left out). */
static json_t *subscription(const char *id, const char *type, json_t *watch, json_t *attrs,
                            const char *endpoint, const char *key)
{
    char bearer[sizeof(((struct venue_config *)0)->ingest_key) + 8];
    json_t *s;

    snprintf(bearer, sizeof(bearer), "Bearer %s", key);
    s = json_pack("{s:s, s:s, s:[{s:s}], s:o*, s:{s:o*, s:s, s:{s:s, s:s, s:[{s:s, s:s}]}}, s:s}",
                  "id", id, "type", "Subscription", "entities", "type", type, "watchedAttributes",
                  watch, "notification", "attributes", attrs, "format", "normalized", "endpoint",
                  "uri", endpoint, "accept", "application/json", "receiverInfo", "key",
                  "Authorization", "value", bearer, "@context", CORE_CONTEXT);
    /* The key was in this buffer: do not leave it on the stack. */
    memset(bearer, 0, sizeof(bearer));
    return s;
}

/* POST the subscription to the broker and report its answer. */
static int post_subscription(const char *broker, const char *text)
{
    static const char *const lines[] = {"Content-Type: application/ld+json",
                                        "Accept: application/json", "Expect:", NULL};
    char url[URL_MAX + sizeof(SUBSCRIPTIONS)], err[CURL_ERROR_SIZE + 64];
    char shown[REPLY_KEEP + 1];
    struct curl_slist *headers = header_list(lines);
    struct reply *r = calloc(1, sizeof(*r));
    CURL *h = curl_easy_init();
    int rc = 1;

    snprintf(url, sizeof(url), "%s%s", broker, SUBSCRIPTIONS);
    if (!headers || !r || !h) {
        fprintf(stderr, "venued twin subscribe: out of memory\n");
    } else if (http_post(h, url, headers, text, true, r, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued twin subscribe: --broker %s: %s\n", broker, err);
    } else if (r->status == 201) {
        fprintf(stderr, "venued twin subscribe: the broker created the subscription (201)%s%s\n",
                r->location[0] ? ": " : "", r->location);
        rc = 0;
    } else {
        printable(r->body, r->len, shown, sizeof(shown));
        fprintf(stderr, "venued twin subscribe: the broker answered %ld: %s%s\n", r->status,
                shown[0] ? shown : "(no body)", r->cut ? " ..." : "");
    }
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    free(r);
    return rc;
}

static int cmd_subscribe(int argc, char **argv, struct venue_config *cfg)
{
    static const char *const cmd = "twin subscribe";
    struct flag flags[] = {{"broker", false, NULL}, {"entity-type", false, NULL},
                           {"watch", false, NULL},  {"attrs", false, NULL},
                           {"id", false, NULL},     {"post", true, NULL},
                           {NULL, false, NULL}};
    const char *broker_flag, *type, *watch_flag, *attrs_flag, *id_flag;
    char err[512], broker[URL_MAX + 1], public_url[URL_MAX + 1];
    char endpoint[URL_MAX + sizeof(INGEST_PATH)], id[NGSI_ID_MAX + 1];
    json_t *watch = NULL, *attrs = NULL, *sub;
    char *text;
    int rc;

    if (parse_flags(argc, argv, 2, flags, NULL, cfg, err, sizeof(err)) < 0)
        return usage(cmd, subscribe_usage, err);
    broker_flag = flag_value(flags, "broker");
    type = flag_value(flags, "entity-type");
    watch_flag = flag_value(flags, "watch");
    attrs_flag = flag_value(flags, "attrs");
    id_flag = flag_value(flags, "id");
    if (!broker_flag)
        return usage(cmd, subscribe_usage, "--broker: required (the broker's base URL)");
    if (!type)
        return usage(cmd, subscribe_usage, "--entity-type: required (e.g. AirQualityObserved)");
    if (check_url("--broker", broker_flag, broker, sizeof(broker), err, sizeof(err)) < 0 ||
        check_name("--entity-type", type, strlen(type), NGSI_TYPE_MAX, err, sizeof(err)) < 0 ||
        (id_flag && check_uri("--id", id_flag, err, sizeof(err)) < 0) ||
        check_url("--public-url", cfg->public_url, public_url, sizeof(public_url), err,
                  sizeof(err)) < 0)
        return usage(cmd, subscribe_usage, err);
    if (need_key(cmd, cfg) < 0)
        return 2;
    if (watch_flag && !(watch = parse_list("--watch", watch_flag, err, sizeof(err))))
        return usage(cmd, subscribe_usage, err);
    if (attrs_flag && !(attrs = parse_list("--attrs", attrs_flag, err, sizeof(err)))) {
        json_decref(watch);
        return usage(cmd, subscribe_usage, err);
    }
    snprintf(endpoint, sizeof(endpoint), "%s%s", public_url, INGEST_PATH);
    if (id_flag)
        snprintf(id, sizeof(id), "%s", id_flag);
    else
        snprintf(id, sizeof(id), "urn:ngsi-ld:Subscription:venue-%s", type);

    sub = subscription(id, type, watch, attrs, endpoint, cfg->ingest_key);
    text = sub ? json_dumps(sub, JSON_INDENT(2)) : NULL;
    json_decref(sub);
    if (!text) {
        fprintf(stderr, "venued %s: out of memory\n", cmd);
        return 1;
    }
    puts(text);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "venued %s: cannot write the subscription\n", cmd);
        free(text);
        return 1;
    }
    if (!flag_value(flags, "post")) {
        fprintf(stderr,
                "venued %s: POST it to %s" SUBSCRIPTIONS
                " with Content-Type application/ld+json, or run again with --post\n",
                cmd, broker);
        free(text);
        return 0;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "venued %s: libcurl failed to start\n", cmd);
        free(text);
        return 1;
    }
    rc = post_subscription(broker, text);
    curl_global_cleanup();
    free(text);
    return rc;
}

int cli_twin_main(int argc, char **argv, struct venue_config *cfg)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub)
        return usage("twin", subscribe_usage, "which command?");
    if (asks_help(argc, argv)) {
        fputs(subscribe_usage, stdout);
        return 0;
    }
    if (strcmp(sub, "subscribe") == 0)
        return cmd_subscribe(argc, argv, cfg);
    {
        char msg[96];
        snprintf(msg, sizeof(msg), "unknown command \"%.40s\"", sub);
        return usage("twin", subscribe_usage, msg);
    }
}

/* ---- demo-feed -------------------------------------------------------- */

static void on_stop(int sig)
{
    (void)sig;
    feed_stop = 1;
}

/* Sleep ms, or less when a stop signal comes. */
static void pause_ms(long long ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (!feed_stop && ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* What the feed was given. */
struct feed {
    char url[URL_MAX + sizeof(INGEST_PATH)]; /* the venue's notify endpoint */
    long long period_ms;
    unsigned long long count; /* 0: until a signal */
    uint64_t seed;
};

static int feed_args(int argc, char **argv, struct venue_config *cfg, struct feed *fd)
{
    static const char *const cmd = "demo-feed";
    static const char *const forward[] = {"ingest-key", "port", NULL};
    struct flag flags[] = {{"url", false, NULL},
                           {"period-ms", false, NULL},
                           {"count", false, NULL},
                           {"seed", false, NULL},
                           {NULL, false, NULL}};
    const char *v;
    char err[512], base[URL_MAX + 1], def[64];
    unsigned long long n;

    if (parse_flags(argc, argv, 1, flags, forward, cfg, err, sizeof(err)) < 0)
        return usage(cmd, feed_usage, err);
    snprintf(def, sizeof(def), "http://127.0.0.1:%d", cfg->port);
    v = flag_value(flags, "url");
    if (check_url("--url", v ? v : def, base, sizeof(base), err, sizeof(err)) < 0)
        return usage(cmd, feed_usage, err);
    snprintf(fd->url, sizeof(fd->url), "%s%s", base, INGEST_PATH);
    fd->period_ms = 2000;
    if ((v = flag_value(flags, "period-ms"))) {
        if (parse_whole("--period-ms", v, 50, 3600000, &n, err, sizeof(err)) < 0)
            return usage(cmd, feed_usage, err);
        fd->period_ms = (long long)n;
    }
    fd->count = 0;
    if ((v = flag_value(flags, "count")) &&
        parse_whole("--count", v, 0, 1000000000, &fd->count, err, sizeof(err)) < 0)
        return usage(cmd, feed_usage, err);
    fd->seed = (uint64_t)clock_wall_ms() ^ ((uint64_t)getpid() << 40);
    if ((v = flag_value(flags, "seed"))) {
        if (parse_whole("--seed", v, 0, UINT64_MAX, &n, err, sizeof(err)) < 0)
            return usage(cmd, feed_usage, err);
        fd->seed = n;
    }
    return need_key(cmd, cfg) < 0 ? 2 : 0;
}

/* The Authorization header line; the caller wipes and frees it. */
static char *auth_line(const char *key)
{
    size_t n = strlen(key) + sizeof("Authorization: Bearer ");
    char *line = malloc(n);
    if (line)
        snprintf(line, n, "Authorization: Bearer %s", key);
    return line;
}

/* How one delivery went. */
enum outcome { DELIVERED, RETRY, REFUSED, STOPPED };

static enum outcome deliver(CURL *h, const struct feed *fd, struct curl_slist *headers,
                            struct demo_city *city, char *why, size_t whylen)
{
    json_t *n = demo_city_notification(city, clock_wall_ms());
    char *text = n ? json_dumps(n, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    struct reply *r = calloc(1, sizeof(*r));
    char shown[512];
    enum outcome out;

    json_decref(n);
    if (!text || !r) {
        snprintf(why, whylen, "out of memory");
        out = RETRY;
    } else if (http_post(h, fd->url, headers, text, false, r, why, whylen) < 0) {
        out = feed_stop ? STOPPED : RETRY;
    } else if (r->status == 200) {
        out = DELIVERED;
    } else {
        printable(r->body, r->len, shown, sizeof(shown));
        snprintf(why, whylen, "%s answered %ld: %s", fd->url, r->status, shown);
        /* Busy or broken for now: try again. Anything else is a refusal of
         * what we send (a wrong key, a bad body) that repeating cannot cure. */
        out = r->status == 429 || r->status >= 500 ? RETRY : REFUSED;
    }
    free(text);
    free(r);
    return out;
}

static int feed_loop(const struct feed *fd, const char *key)
{
    static const char link[] =
        "Link: <" CORE_CONTEXT ">; rel=\"" NGSI_CONTEXT_REL "\"; type=\"application/ld+json\"";
    const char *lines[] = {
        "Content-Type: application/json", link, "Accept: application/json", "Expect:", NULL, NULL};
    char *auth = auth_line(key), why[CURL_ERROR_SIZE + 600];
    struct curl_slist *headers = NULL;
    struct demo_city city;
    unsigned long long sent = 0, failed = 0;
    long long backoff = BACKOFF_MIN_MS, next;
    CURL *h = NULL;
    int rc = 1;

    lines[4] = auth;
    if (!auth || !(headers = header_list(lines)) || !(h = curl_easy_init())) {
        fprintf(stderr, "venued demo-feed: out of memory\n");
        goto done;
    }
    demo_city_init(&city, fd->seed);
    fprintf(stderr,
            "venued demo-feed: playing a simulated Lyon to %s every %lld ms (seed %llu, %s)\n",
            fd->url, fd->period_ms, (unsigned long long)fd->seed,
            fd->count ? "then stopping" : "until stopped");
    next = clock_mono_ms();
    rc = 0;
    while (!feed_stop && (fd->count == 0 || sent < fd->count)) {
        enum outcome out = deliver(h, fd, headers, &city, why, sizeof(why));
        long long now;
        if (out == STOPPED)
            break;
        if (out == REFUSED) {
            fprintf(stderr, "venued demo-feed: %s\n", why);
            rc = 1;
            break;
        }
        if (out == RETRY) {
            /* One line per outage, not per attempt. */
            if (failed++ == 0)
                fprintf(stderr, "venued demo-feed: cannot deliver: %s; retrying with backoff\n",
                        why);
            pause_ms(backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            next = clock_mono_ms();
            continue;
        }
        if (failed)
            fprintf(stderr, "venued demo-feed: delivering again, after %llu failed attempts\n",
                    failed);
        failed = 0;
        backoff = BACKOFF_MIN_MS;
        if (++sent == fd->count)
            break;
        now = clock_mono_ms();
        next += fd->period_ms;
        if (next < now)
            next = now;
        pause_ms(next - now);
    }
    fprintf(stderr, "venued demo-feed: stopped after %llu notifications\n", sent);
done:
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    return rc;
}

int cli_twin_feed_main(int argc, char **argv, struct venue_config *cfg)
{
    struct feed fd;
    struct sigaction sa;
    int rc;

    if (asks_help(argc, argv)) {
        fputs(feed_usage, stdout);
        return 0;
    }
    if ((rc = feed_args(argc, argv, cfg, &fd)) != 0)
        return rc;
    /* No SA_RESTART: a signal ends the sleep between notifications. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        fprintf(stderr, "venued demo-feed: cannot catch signals: %s\n", strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "venued demo-feed: libcurl failed to start\n");
        return 1;
    }
    rc = feed_loop(&fd, cfg->ingest_key);
    curl_global_cleanup();
    return rc;
}
