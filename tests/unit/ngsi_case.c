/*
 * ngsi_case.c - run one data-driven NGSI-LD case: parse a notification
 * from a file (tests/ngsi-cases/case.h: a bare body, or a head of headers
 * and a body) and check the outcome.
 *
 *   ngsi_case FILE ok           FILE must parse
 *   ngsi_case FILE 'substring'  FILE must be refused with a message
 *                               containing substring
 *
 * The case files are tests/ngsi-cases/{good,bad}/; tests/ngsi.cmake adds
 * one CTest test per file.
 */
#include "ngsi.h"

#include "../ngsi-cases/case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *p = realloc(buf, cap ? cap * 2 : 4096);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap = cap ? cap * 2 : 4096;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    static struct ngsi_case c; /* two header buffers: not on the stack */
    struct ngsi_notification n;
    char err[NGSI_ERR_SIZE];
    size_t len = 0, nattrs = 0;
    char *text;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE ok|substring\n", argv[0]);
        return 2;
    }
    text = read_file(argv[1], &len);
    if (!text) {
        perror(argv[1]);
        return 2;
    }
    ngsi_case_split((const uint8_t *)text, len, &c);
    rc = ngsi_parse((const char *)c.body, c.len, c.content_type, c.link, &n, err, sizeof err);
    free(text);
    for (size_t i = 0; i < n.nentities; i++)
        nattrs += n.entities[i].nattrs;

    if (strcmp(argv[2], "ok") == 0) {
        if (rc != 0) {
            printf("FAIL %s: refused: %s\n", argv[1], err);
            return 1;
        }
        printf("ok %s: %zu entities, %zu attributes, first %s (%s)\n", argv[1], n.nentities, nattrs,
               n.entities[0].id, n.entities[0].type);
        ngsi_free(&n);
        return 0;
    }
    if (rc == 0) {
        printf("FAIL %s: accepted, expected \"%s\"\n", argv[1], argv[2]);
        ngsi_free(&n);
        return 1;
    }
    if (!strstr(err, argv[2])) {
        printf("FAIL %s: got \"%s\", expected \"%s\"\n", argv[1], err, argv[2]);
        return 1;
    }
    printf("ok %s: %s\n", argv[1], err);
    return 0;
}
