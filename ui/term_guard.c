#include "term_guard.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sanitize.h"
#include "curs.h"
#include <term.h> /* tigetstr; after curs.h. It defines macros like "columns". */

static struct termios saved_modes;
static bool have_modes;
static SCREEN *screen;
/* Written from the fatal-signal handler: leave the alternate screen, show
 * the cursor, reset attributes. Filled in at start from terminfo. */
static char restore_seq[256];
static size_t restore_len;

/* SIGQUIT too: Ctrl-\ still sends it in cbreak mode */
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };

static void on_fatal(int sig)
{
    /* only async-signal-safe calls here */
    if (have_modes)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_modes);
    if (restore_len && write(STDOUT_FILENO, restore_seq, restore_len) < 0) {
        /* nothing more we can do */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void add_cap(const char *name)
{
    const char *s = tigetstr(name);
    /* tigetstr's documented "not a string capability" value */
    if (!s || s == (char *)-1) // NOLINT(performance-no-int-to-ptr)
        return;
    /* copy without terminfo padding ($<5>), which only tputs understands */
    for (; *s && restore_len + 1 < sizeof restore_seq; s++) {
        if (s[0] == '$' && s[1] == '<') {
            const char *end = strchr(s, '>');
            if (end) {
                s = end;
                continue;
            }
        }
        restore_seq[restore_len++] = *s;
    }
    restore_seq[restore_len] = '\0';
}

int term_guard_start(char *err, size_t errsz)
{
    have_modes = tcgetattr(STDIN_FILENO, &saved_modes) == 0;
    const char *term = getenv("TERM");
    if (!term || !*term || strcmp(term, "dumb") == 0) {
        snprintf(err, errsz, "TERM is %s: the console needs a terminal that can move the cursor "
                             "(for scripts use 'marketing campaigns --json')",
                 term && *term ? "dumb" : "not set");
        return -1;
    }
    screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        char safe[80];
        san_fit(safe, sizeof safe, term, (size_t)-1, 64, 0);
        snprintf(err, errsz, "cannot use terminal type '%s' (no terminfo entry?)", safe);
        return -1;
    }
    set_term(screen);
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    add_cap("rmcup");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaction(fatal_signals[i], &sa, NULL);

    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    return 0;
}

void term_guard_end(void)
{
    if (!screen)
        return;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        signal(fatal_signals[i], SIG_DFL);
    endwin();
    delscreen(screen);
    screen = NULL;
    if (have_modes)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_modes);
}
