/*
 * array.c - doubling growth for owned arrays.
 */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>

int array_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    size_t ncap;
    void *p;
    if (n <= *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    while (ncap < n)
        ncap *= 2;
    if (ncap > SIZE_MAX / sz)
        return -1;
    p = realloc(*arr, ncap * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}
