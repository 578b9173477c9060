/*
 * cli_twin.h - the twin commands of venued's command line:
 *   venued twin subscribe  prints (and with --post sends) the NGSI-LD
 *                          Subscription that points a city broker at this
 *                          venue's /ngsi-ld/v1/notify
 *   venued demo-feed       plays a simulated city (demo_city.h) through a
 *                          running venue's /ngsi-ld/v1/notify
 * Both speak HTTP with libcurl and take the server's --ingest-key
 * (VENUE_INGEST_KEY); `twin subscribe` also its --public-url and the other
 * server options that shape it. Results on stdout, messages on stderr,
 * each naming the flag it is about; the key never appears in a message.
 */
#ifndef VENUE_CLI_TWIN_H
#define VENUE_CLI_TWIN_H

#include "config.h"

/*
 * argv[0] is "twin" (cli_twin_main) or "demo-feed" (cli_twin_feed_main).
 * cfg is the command's to fill: it is reset to the defaults, then given
 * the environment and the server options among the arguments. Returns the
 * process exit code: 0 done, 1 failed (the broker or the venue refused, or
 * could not be reached), 2 a usage error.
 */
int cli_twin_main(int argc, char **argv, struct venue_config *cfg);
int cli_twin_feed_main(int argc, char **argv, struct venue_config *cfg);

#endif
