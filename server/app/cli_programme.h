/*
 * cli_programme.h - `venued programme import|list|demo`: the programme in
 * the database of --data, from the command line.
 *
 *   import FILE  replace the programme with a programme file (README:
 *                "The programme"), all or nothing;
 *   list         print it as a table;
 *   demo         the demo venue's programme template
 *                (SCENES/programme/demo.json, times relative to now),
 *                rebased to now, with its people registered when missing.
 *
 * They write the database a running venued read when it started: while it
 * runs, POST /api/admin/programme is the way (or restart it).
 */
#ifndef VENUE_CLI_PROGRAMME_H
#define VENUE_CLI_PROGRAMME_H

#include "config.h"

/*
 * argv[0] is "programme". cfg holds the environment's settings; the
 * subcommand takes --data, --scenes, --public-url and --port itself.
 * Returns the exit code: 0 ok, 1 failure (nothing imported), 2 usage.
 */
int cli_programme_main(int argc, char **argv, struct venue_config *cfg);

#endif
