/* The command line: options, subcommands and their exit codes. */
#ifndef MARKETING_CLI_H
#define MARKETING_CLI_H

#include "config.h"

enum {
    EXIT_OK = 0,
    EXIT_ERROR = 1,      /* the database or an endpoint failed */
    EXIT_USAGE = 2,      /* bad flags, arguments or configuration */
};

/* Runs the interactive console; supplied by ui/ (the only curses code). */
typedef int (*cli_console_fn)(const struct config *cfg);

/* The whole program: parses argv and envp, loads the configuration, and
 * runs a subcommand or the console. Returns the exit code. */
int cli_main(int argc, char **argv, char **envp, cli_console_fn console);

#endif
