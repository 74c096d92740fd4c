/* Starting and restoring the terminal: curses setup, and a last-resort
 * restore on fatal signals so a crash never leaves a broken terminal. */
#ifndef MARKETING_TERM_GUARD_H
#define MARKETING_TERM_GUARD_H

#include <stddef.h>

/* Saves the terminal's modes, starts curses and installs the fatal-signal
 * handlers. Returns 0, or -1 with a message (unknown TERM, say). */
int term_guard_start(char *err, size_t errsz);

/* Ends curses and restores everything term_guard_start changed. */
void term_guard_end(void);

#endif
