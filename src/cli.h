/* The command line: options, subcommands and their exit codes. */
#ifndef MARKETING_CLI_H
#define MARKETING_CLI_H

#include "config.h"

enum {
    EXIT_OK = 0,
    EXIT_ERROR = 1,      /* the database or an endpoint failed */
    EXIT_USAGE = 2,      /* bad flags, arguments or configuration */
    EXIT_CONFLICT = 3,   /* the campaign changed, or its status does not allow the action */
    EXIT_DENIED = 4,     /* read-only: --read-only, the database role, or a standby */
    EXIT_UNKNOWN = 5,    /* the connection failed mid-action and the outcome could not be verified */
};

/* For the subcommand files (cli_*.c). */
struct pg_conn;
/* "marketing: " and a message that may quote untrusted text, sanitized. */
void cli_say(const char *msg);
/* Connects as the configuration says; NULL after saying why. */
struct pg_conn *cli_connect(const struct config *cfg);

/* The campaign-control subcommands: launch, pause, resume, cancel,
 * retry-failed, rollback, stop-all, campaign show, audit, recipients. Returns
 * -1 when name is none of them. */
int cli_control(const struct config *cfg, const char *name, int argc, char **argv);

/* marketing alerts ack|snooze|unack|acks (cli_acks.c): acknowledging and
 * snoozing alerts. Returns -1 when argv[0] is none of those words. */
int cli_acks(const struct config *cfg, int argc, char **argv);

/* marketing alerts [--json] [--wait TIME] [--rules] (cli_alerts.c), and
 * every other 'alerts' word but the four above: the rules and their
 * states (argv after 'alerts'). */
int cli_alerts(const struct config *cfg, int argc, char **argv);
/* marketing segment create --name NAME --rule RULE | refresh ID | preview
 * --rule RULE | show ID, each with [--json]. */
int cli_segments(const struct config *cfg, int argc, char **argv);

/* marketing campaign create|edit|clone|preview|test-send|ab|promote: the
 * authoring subcommands (argv[0] is the subcommand). Returns -1 when
 * argv[0] is none of them. */
int cli_campaigns(const struct config *cfg, int argc, char **argv);

/* marketing query 'EXPR' [--json]: PromQL on the console's own scrapes. */
int cli_query(const struct config *cfg, int argc, char **argv);

/* marketing watch [--json] [--interval TIME] [--count N] [--query EXPR]...:
 * one line per interval from the console's engine. */
int cli_watch(const struct config *cfg, int argc, char **argv);

/* Runs the interactive console; supplied by ui/ (the only curses code). */
typedef int (*cli_console_fn)(const struct config *cfg);

/* The whole program: parses argv and envp, loads the configuration, and
 * runs a subcommand or the console. Returns the exit code. */
int cli_main(int argc, char **argv, char **envp, cli_console_fn console);

#endif
