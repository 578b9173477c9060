/*
 * scene_case.c - runs one data-driven scene case: tests/scene-cases/NAME/
 * is a small venue directory that must fail to load, and its file
 * "expected" holds a substring of the one-line error it must fail with.
 *
 * Usage: scene_case CASE_DIR. Exit 0 when the load fails with a message
 * containing the expected text (and leaves the set empty), 1 otherwise.
 */
#include "scene.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char path[4096], want[1024] = "", err[1024] = "";
    struct scene_set set = {0};

    if (argc != 2) {
        fprintf(stderr, "usage: scene_case CASE_DIR\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/expected", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(want, sizeof want, f)) {
        fprintf(stderr, "%s: cannot read the expected message\n", path);
        if (f)
            fclose(f);
        return 2;
    }
    fclose(f);
    want[strcspn(want, "\r\n")] = '\0';

    int rc = scene_set_load(argv[1], &set, err, sizeof err);
    printf("error:    %s\nexpected: %s\n", err, want);
    if (rc == 0) {
        printf("FAIL: the venue loaded (%zu scenes)\n", set.n);
        scene_set_free(&set);
        return 1;
    }
    if (set.n != 0 || set.scenes != NULL) {
        printf("FAIL: a failed load left scenes in the set\n");
        return 1;
    }
    if (want[0] == '\0' || !strstr(err, want)) {
        printf("FAIL: wrong message\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
