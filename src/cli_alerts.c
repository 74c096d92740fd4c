/* marketing alerts [--json]: the alerts themselves, with their states.
 * Not built yet: the alert engine and the Alerts pane come with it (issue
 * 5, item 6). 'alerts ack|snooze|unack|acks' are cli_acks.c's. */
#include <stdio.h>

#include "cli.h"

int cli_alerts(const struct config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    fprintf(stderr, "marketing alerts: listing alerts is not built yet\n");
    return EXIT_ERROR;
}
