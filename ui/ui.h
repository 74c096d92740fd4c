/* The interactive console. The only code that draws is under ui/. */
#ifndef MARKETING_UI_H
#define MARKETING_UI_H

#include "config.h"

/* Runs the full-screen console until the user quits or a signal ends it.
 * The terminal is restored on every exit path. Returns an exit code. */
int ui_run(const struct config *cfg);

#endif
