/*
 * clock.c - monotonic and wall clock readings.
 */
#include "clock.h"

#include <time.h>

static struct timespec now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts;
}

long long clock_mono_ms(void)
{
    struct timespec ts = now(CLOCK_MONOTONIC);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_mono_seconds(void)
{
    struct timespec ts = now(CLOCK_MONOTONIC);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long clock_wall_ms(void)
{
    struct timespec ts = now(CLOCK_REALTIME);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
