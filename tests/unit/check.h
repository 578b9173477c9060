/*
 * check.h - the unit tests' one assertion: CHECK counts passes and
 * failures, prints where a check failed and goes on. check_report prints
 * the closing line CTest and CI read ("N passed, N failed") and gives the
 * exit code.
 */
#ifndef VENUE_CHECK_H
#define VENUE_CHECK_H

#include <stdio.h>

extern int passed, failed; /* defined once, in check.c */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

int check_report(void);

#endif
