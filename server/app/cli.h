/*
 * cli.h - what the subcommand groups (`venued user ...`, `venued
 * programme ...`) share: their usage message and picking the command.
 */
#ifndef VENUE_CLI_H
#define VENUE_CLI_H

#include <stddef.h>

#include "config.h"

struct cli_command {
    const char *name; /* "add", "import", ... */
    int (*run)(int argc, char **argv, struct venue_config *cfg);
};

struct cli_group {
    const char *name;  /* "venued user": the prefix of its messages */
    const char *usage; /* the whole usage text */
    const struct cli_command *cmds;
    size_t ncmds;
};

/* why (NULL: none) and the usage text on stderr; returns 2, the exit code
 * of a usage error. */
int cli_usage(const struct cli_group *g, const char *why);
/* Run argv[1]'s command; --help or -h anywhere (or help as the command)
 * prints the usage text on stdout and returns 0. */
int cli_dispatch(const struct cli_group *g, int argc, char **argv, struct venue_config *cfg);

#endif
