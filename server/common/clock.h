/*
 * clock.h - the two clocks venued reads: monotonic time for the core's
 * timers and the wall clock for what is stored or shown to people.
 *
 * The core never calls these: its events take now_ms, so tests drive its
 * clock. The layers that feed it (the transport, the admin API, main) read
 * the time here.
 */
#ifndef VENUE_CLOCK_H
#define VENUE_CLOCK_H

/* Monotonic milliseconds: the core's clock. */
long long clock_mono_ms(void);
/* Monotonic seconds, for measuring durations into histograms. */
double clock_mono_seconds(void);
/* The wall clock in ms since the epoch. */
long long clock_wall_ms(void);

#endif
