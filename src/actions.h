/* Actions, declared once: name, default keys, where they apply, help text,
 * and whether they are dangerous. The key map, the help screen, the hint
 * bar and the man page's key table are all made from this table, and key
 * bindings in marketing.conf ("key.down = j Down") change it. No curses
 * here: keys are our own codes (ui/ maps curses' codes to them). */
#ifndef MARKETING_ACTIONS_H
#define MARKETING_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Key codes: a character is itself (up to 0x10FFFF); special keys above. */
enum {
    KEYC_UP = 0x110000, KEYC_DOWN, KEYC_LEFT, KEYC_RIGHT, KEYC_PGUP, KEYC_PGDN,
    KEYC_HOME, KEYC_END, KEYC_ENTER, KEYC_ESC, KEYC_TAB, KEYC_BTAB, KEYC_BACKSPACE,
    KEYC_F1, KEYC_F2, KEYC_DELETE,
};
#define KEYC_CTRL(c) ((c) & 0x1f)

enum action_id {
    ACT_NONE = 0,
    ACT_QUIT, ACT_HELP, ACT_NEXT_PANE, ACT_PREV_PANE,
    ACT_PANE_1, ACT_PANE_2, ACT_PANE_3, ACT_PANE_4,
    ACT_FILTER, ACT_COMMAND, ACT_REFRESH,
    ACT_DOWN, ACT_UP, ACT_PAGE_DOWN, ACT_PAGE_UP, ACT_TOP, ACT_BOTTOM,
    ACT_OPEN, ACT_BACK, ACT_SORT, ACT_REVERSE,
    ACT_LAUNCH, ACT_PAUSE, ACT_RESUME, ACT_CANCEL, ACT_ROLLBACK, ACT_RETRY_FAILED, ACT_STOP_ALL,
    ACT_AUDIT,
    ACT_JUMP, ACT_ACK, ACT_SNOOZE, ACT_UNACK,
    ACT_NEW, ACT_EDIT, ACT_CLONE, ACT_PREVIEW, ACT_TEST_SEND, ACT_PROMOTE, ACT_SEG_REFRESH,
    ACT_COUNT
};

/* Where an action applies. */
enum action_scope { SCOPE_GLOBAL, SCOPE_LIST, SCOPE_CAMPAIGNS, SCOPE_SEGMENTS, SCOPE_ALERTS };
#define SCOPE_LAST SCOPE_ALERTS

#define ACTION_MAX_KEYS 4

struct action_def {
    enum action_id id;
    const char *name;       /* in marketing.conf: key.NAME, and on the command line */
    const char *keys;       /* default keys, space-separated key names */
    enum action_scope scope;
    const char *help;       /* one line */
    const char *hint;       /* short word for the hint bar, or NULL: not hinted */
    bool dangerous;         /* asks for confirmation */
};

extern const struct action_def action_defs[ACT_COUNT];

/* The live bindings: defaults, then overrides from the configuration. */
struct keymap {
    int keys[ACT_COUNT][ACTION_MAX_KEYS]; /* 0 = unused slot */
};

/* Fills km with the default bindings. */
void keymap_init(struct keymap *km);

/* Replaces the keys of the named action with the space-separated key names
 * in value ("j Down"). A key taken from another action is taken away from
 * it. Returns 0, or -1 with a message naming the bad action or key. */
int keymap_bind(struct keymap *km, const char *action, const char *value, char *err, size_t errsz);

/* The action bound to key, or ACT_NONE. */
enum action_id keymap_lookup(const struct keymap *km, int key);

/* Parses a key name ("j", "Down", "C-f", "Space", "F1") into a code, or -1. */
int keyc_parse(const char *name);

/* The name of a key code ("j", "Down", "C-f"), into buf. */
const char *keyc_name(int code, char *buf, size_t n);

/* "j Down": the keys bound to an action, into buf. */
const char *keymap_keys(const struct keymap *km, enum action_id a, char *buf, size_t n);

const struct action_def *action_find(const char *name);

/* The help screen's lines, one per action in scope order: "  keys  help".
 * Returns the number of lines written to out (at most max), each
 * NUL-terminated in a width-byte slot. */
size_t keymap_help_lines(const struct keymap *km, char *out, size_t width, size_t max);

/* Whether the pane in focus takes an action (NULL: every action). */
typedef bool (*action_filter_fn)(void *arg, enum action_id a);

/* The hint bar for a width: "q quit  ? help  Tab pane ...": global actions,
 * and the others the filter accepts; cut at a whole entry. */
void keymap_hint(const struct keymap *km, action_filter_fn accepts, void *arg, char *out, size_t n,
                 int width);

/* The key table for marketing(1), in tbl(1) markup. */
void keymap_print_man(FILE *out);

#endif
