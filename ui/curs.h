/* The one curses include. Only ui/ includes this. */
#ifndef MARKETING_CURS_H
#define MARKETING_CURS_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>


#endif
