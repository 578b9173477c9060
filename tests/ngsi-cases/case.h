/*
 * case.h - the format of the files in tests/ngsi-cases/, and the one
 * function that reads it, for tests/unit/ngsi_case.c and
 * tests/fuzz/fuzz_ngsi.c (so that the fuzzer mutates headers too).
 *
 * A file that starts with a header name and ':' (NAME.http) is a head,
 * then the body, as in HTTP: "Name: value" lines up to the first empty
 * line, then the body byte for byte. Content-Type and Link are read (names
 * in any case), other headers (NGSILD-Tenant, Authorization) are ignored;
 * a head without a Content-Type line gives the parser no Content-Type at
 * all. Lines end in \n or \r\n; a value keeps at most NGSI_CASE_HEADER_MAX bytes. Any other
 * file (NAME.json) is a body, sent with Content-Type application/json and
 * no Link header. No JSON text starts with a name and ':', so the two
 * kinds cannot be confused.
 */
#ifndef VENUE_NGSI_CASE_H
#define VENUE_NGSI_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define NGSI_CASE_HEADER_MAX 1024

struct ngsi_case {
    const char *content_type; /* borrowed: ct_buf, or NULL when not sent */
    const char *link;         /* borrowed: link_buf, or NULL when not sent */
    const uint8_t *body;      /* borrowed: points into the file's bytes */
    size_t len;
    char ct_buf[NGSI_CASE_HEADER_MAX + 1];
    char link_buf[NGSI_CASE_HEADER_MAX + 1];
};

/* data starts with a header name ([A-Za-z][A-Za-z0-9-]*) and ':'. */
static inline bool starts_with_header(const uint8_t *data, size_t size)
{
    size_t i = 0;

    if (size == 0 || !((data[0] >= 'A' && data[0] <= 'Z') || (data[0] >= 'a' && data[0] <= 'z')))
        return false;
    while (i < size && ((data[i] >= 'A' && data[i] <= 'Z') || (data[i] >= 'a' && data[i] <= 'z') ||
                        (data[i] >= '0' && data[i] <= '9') || data[i] == '-'))
        i++;
    return i < size && data[i] == ':';
}

/* Split data[0..size) into c; c's pointers borrow from data and from c. */
static inline void ngsi_case_split(const uint8_t *data, size_t size, struct ngsi_case *c)
{
    size_t i = 0;

    c->content_type = "application/json";
    c->link = NULL;
    c->body = data;
    c->len = size;
    if (!starts_with_header(data, size))
        return;
    c->content_type = NULL;
    while (i < size) {
        size_t start = i, end, colon;
        while (i < size && data[i] != '\n')
            i++;
        end = i > start && data[i - 1] == '\r' ? i - 1 : i; /* the line is [start, end) */
        i += i < size;                                      /* past the '\n' */
        if (end == start)
            break; /* the empty line: the body follows */
        for (colon = start; colon < end && data[colon] != ':'; colon++)
            ;
        if (colon == end)
            continue; /* not a header: ignored */
        char *dst;
        if (colon - start == 12 &&
            strncasecmp((const char *)data + start, "Content-Type", 12) == 0) {
            dst = c->ct_buf;
            c->content_type = dst;
        } else if (colon - start == 4 && strncasecmp((const char *)data + start, "Link", 4) == 0) {
            dst = c->link_buf;
            c->link = dst;
        } else {
            continue;
        }
        size_t v = colon + 1;
        while (v < end && (data[v] == ' ' || data[v] == '\t'))
            v++;
        size_t n = end - v > NGSI_CASE_HEADER_MAX ? NGSI_CASE_HEADER_MAX : end - v;
        memcpy(dst, data + v, n);
        dst[n] = '\0'; /* a NUL byte in the value ends it early: harmless */
    }
    c->body = data + i;
    c->len = size - i;
}

#endif
