/*
 * proto_case.c - run one data-driven protocol case: parse a client text
 * from a file and check the outcome.
 *
 *   proto_case FILE ok               FILE must parse
 *   proto_case FILE 'code|substring' FILE must be refused with that error
 *                                    code and a message containing substring
 *
 * The case files are tests/proto-cases/{good,bad}/; tests/proto.cmake adds
 * one CTest test per file.
 */
#include "proto.h"

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
    struct proto_msg msg;
    struct proto_error err;
    size_t len = 0;
    char *text;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE ok|'code|substring'\n", argv[0]);
        return 2;
    }
    text = read_file(argv[1], &len);
    if (!text) {
        perror(argv[1]);
        return 2;
    }
    /* The file is the exact text frame, byte for byte (no newline added). */
    rc = proto_parse(text, len, &msg, &err);
    free(text);
    proto_msg_free(&msg);

    if (strcmp(argv[2], "ok") == 0) {
        if (rc != 0) {
            printf("FAIL %s: refused: %s: %s\n", argv[1], err.code, err.message);
            return 1;
        }
        printf("ok %s (type %d)\n", argv[1], (int)msg.type);
        return 0;
    }

    const char *bar = strchr(argv[2], '|');
    size_t code_len = bar ? (size_t)(bar - argv[2]) : strlen(argv[2]);
    const char *sub = bar ? bar + 1 : "";

    if (rc == 0) {
        printf("FAIL %s: accepted, expected %s\n", argv[1], argv[2]);
        return 1;
    }
    if (strlen(err.code) != code_len || strncmp(err.code, argv[2], code_len) != 0 ||
        !strstr(err.message, sub)) {
        printf("FAIL %s: got %s|%s, expected %s\n", argv[1], err.code, err.message, argv[2]);
        return 1;
    }
    printf("ok %s: %s|%s\n", argv[1], err.code, err.message);
    return 0;
}
