/* Themes: colours by role, read from theme files (themes/NAME.theme, compiled
 * in, and the user's own), with inheritance and a fallback to monochrome,
 * and colours brought down to what the terminal has (256, 16 or 8).
 * No curses here: ui/ turns a resolved theme into attributes. */
#ifndef MARKETING_THEME_H
#define MARKETING_THEME_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum role {
    ROLE_NORMAL, ROLE_HEADER, ROLE_TAB, ROLE_TAB_ACTIVE, ROLE_TITLE, ROLE_TITLE_FOCUS,
    ROLE_COLUMN, ROLE_SELECTION, ROLE_DIM, ROLE_HINT, ROLE_STATUS, ROLE_OK, ROLE_WARN,
    ROLE_CRIT, ROLE_GRAPH, ROLE_GRAPH_REF, ROLE_ACCENT, ROLE_PRODUCTION,
    ROLE_COUNT
};

extern const char *const role_names[ROLE_COUNT];

enum color_kind { COLOR_NONE, COLOR_DEFAULT, COLOR_INDEX, COLOR_RGB };

struct color {
    enum color_kind kind;
    int index;               /* COLOR_INDEX: 0-255 (8-15 are the bright ones) */
    unsigned char r, g, b;   /* COLOR_RGB */
};

#define THEME_BOLD 0x1u
#define THEME_DIM 0x2u
#define THEME_UNDERLINE 0x4u
#define THEME_REVERSE 0x8u
#define THEME_ITALIC 0x10u

struct style {
    bool set;                /* the theme (or one it inherits) names this role */
    struct color fg, bg;     /* COLOR_NONE: not given */
    unsigned attrs;
};

struct theme {
    char name[64];
    struct style role[ROLE_COUNT];
};

/* A compiled-in theme file (generated from themes/). */
struct theme_file {
    const char *name;
    const char *text;
};
extern const struct theme_file builtin_themes[];
extern const size_t builtin_themes_count;

/* Loads theme name: the user's $XDG_CONFIG_HOME/marketing/themes/NAME.theme
 * (or ~/.config/...) if it exists, else the compiled-in one; with what it
 * inherits. Errors go to errs as "file:line: message" (and loading goes on
 * past a bad line). Returns the number of errors; an unknown theme is one. */
int theme_load(const char *name, struct theme *out, struct config_errors *errs);

/* Parses one theme file's text into t over what t already has. Returns the
 * number of errors. inherit receives an 'inherit =' value (or ""). */
int theme_parse(struct theme *t, const char *file, const char *text, char *inherit, size_t inheritsz,
                struct config_errors *errs);

/* Parses "bright-white on blue bold" into a style. Returns 0, or -1 with
 * a message naming the bad word. */
int theme_parse_style(const char *value, struct style *st, char *err, size_t errsz);

/* The terminal colour number for c on a terminal of ncolors colours (8, 16,
 * 256 or more): -1 for the default colour. *bold is set when a bright
 * colour was brought down to 8 colours (bold gives brightness there). */
int theme_color_number(const struct color *c, int ncolors, bool *bold);

#endif
