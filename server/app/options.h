/*
 * options.h - venued's settings from flags and the environment. Every
 * setting is a flag and an environment variable; a flag wins over the
 * variable, the variable over the default. Values are checked and a bad
 * one is refused with a message naming the option.
 */
#ifndef VENUE_OPTIONS_H
#define VENUE_OPTIONS_H

#include <stddef.h>

#include "config.h"

/*
 * Apply the environment, then argv, to c (which holds the defaults).
 * Returns 0, 1 when --help was asked (the help is written to stdout), or
 * -1 with a reason in err.
 */
int options_parse(struct venue_config *c, int argc, char **argv, char *err, size_t errlen);

/* Is database (as --database takes it, given as from) well formed? 0, or
 * -1 with a reason in err. */
int options_check_database(const char *database, const char *from, char *err, size_t errlen);

#endif
