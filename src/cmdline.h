/* The ':' command line: commands are the actions' names (declared once in
 * actions.c), completed with Tab, with a history. Pure text handling. */
#ifndef MARKETING_CMDLINE_H
#define MARKETING_CMDLINE_H

#include <stddef.h>

#include "actions.h"

#define CMDLINE_HISTORY 32
#define CMDLINE_MAX 256

struct cmd_history {
    char line[CMDLINE_HISTORY][CMDLINE_MAX];
    size_t n;       /* entries, oldest first */
};

/* Completes the command word in buf in place: to the one action that has
 * it as a prefix, or to the longest common prefix of several. Writes the
 * candidates, space-separated, to cands (empty when there are none).
 * Returns how many matched. */
size_t cmdline_complete(char *buf, size_t bufsz, char *cands, size_t candsz);

/* Parses a command: its action, and in *arg what follows the first word
 * (or ""). ACT_NONE when the word names no action; 'q' is quit. */
enum action_id cmdline_parse(const char *line, const char **arg);

/* Adds a line (not empty, not the same as the last one). */
void cmd_history_add(struct cmd_history *h, const char *line);

#endif
