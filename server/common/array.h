/*
 * array.h - growing the arrays that structs own and reuse (rosters,
 * scratch lists, batches), so that the hot path stops allocating once an
 * array has reached its working size.
 */
#ifndef VENUE_ARRAY_H
#define VENUE_ARRAY_H

#include <stddef.h>

/*
 * Make *arr (of *cap elements of sz bytes) hold at least n elements,
 * doubling. 0, or -1 when memory runs out (then *arr and *cap are as they
 * were). The owner of *arr frees it.
 */
int array_grow(void **arr, size_t *cap, size_t n, size_t sz);

#endif
