/*
 * cli_user.h - `venued user ...`: register, import, list and revoke users
 * from the command line, against the database in --data.
 */
#ifndef VENUE_CLI_USER_H
#define VENUE_CLI_USER_H

#include "config.h"

/*
 * argv[0] is "user". cfg holds the options given before "user" (and the
 * environment); the subcommand may take --data and --public-url itself.
 * Prints results to stdout (JSON or CSV), errors to stderr naming the
 * field. Returns the process exit code: 0 ok, 1 failure, 2 usage.
 */
int cli_user_main(int argc, char **argv, struct venue_config *cfg);

/*
 * venued itself, once it runs: write cfg->public_url to DATA/public-url,
 * so that `venued user add` and `import` on the same data folder make
 * join links for the address (the port) the server really uses. A
 * failure is logged and changes nothing else.
 */
void cli_user_note_public_url(const struct venue_config *cfg);

#endif
