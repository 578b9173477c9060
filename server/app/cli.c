/*
 * cli.c - the usage message and the command of a subcommand group.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cli_usage(const struct cli_group *g, const char *why)
{
    if (why)
        fprintf(stderr, "%s: %s\n", g->name, why);
    fputs(g->usage, stderr);
    return 2;
}

int cli_dispatch(const struct cli_group *g, int argc, char **argv, struct venue_config *cfg)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    char msg[96];

    if (!sub)
        return cli_usage(g, "which command?");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            (i == 1 && strcmp(argv[i], "help") == 0)) {
            fputs(g->usage, stdout);
            return 0;
        }
    }
    for (size_t i = 0; i < g->ncmds; i++)
        if (strcmp(sub, g->cmds[i].name) == 0)
            return g->cmds[i].run(argc, argv, cfg);
    snprintf(msg, sizeof(msg), "unknown command \"%.40s\"", sub);
    return cli_usage(g, msg);
}
