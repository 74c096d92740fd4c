#include "theme.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *const role_names[ROLE_COUNT] = {
    "normal", "header", "tab", "tab-active", "title", "title-focus", "column", "selection", "dim",
    "hint", "status", "ok", "warn", "crit", "graph", "graph-ref", "accent", "production",
};

static const char *const base_colors[8] = { "black", "red", "green", "yellow", "blue", "magenta",
                                            "cyan", "white" };

/* The xterm palette's 16 basic colours, as xterm draws them. */
static const unsigned char basic_rgb[16][3] = {
    { 0, 0, 0 }, { 205, 0, 0 }, { 0, 205, 0 }, { 205, 205, 0 }, { 0, 0, 238 }, { 205, 0, 205 },
    { 0, 205, 205 }, { 229, 229, 229 }, { 127, 127, 127 }, { 255, 0, 0 }, { 0, 255, 0 },
    { 255, 255, 0 }, { 92, 92, 255 }, { 255, 0, 255 }, { 0, 255, 255 }, { 255, 255, 255 },
};

static int parse_color(const char *w, struct color *c)
{
    memset(c, 0, sizeof *c);
    if (strcmp(w, "default") == 0) {
        c->kind = COLOR_DEFAULT;
        return 0;
    }
    if (w[0] == '#' && strlen(w) == 7) {
        for (int i = 1; i < 7; i++)
            if (!isxdigit((unsigned char)w[i]))
                return -1;
        unsigned long v = strtoul(w + 1, NULL, 16);
        c->kind = COLOR_RGB;
        c->r = (unsigned char)(v >> 16);
        c->g = (unsigned char)(v >> 8);
        c->b = (unsigned char)v;
        return 0;
    }
    if (strncmp(w, "color", 5) == 0 && isdigit((unsigned char)w[5])) {
        char *end;
        long n = strtol(w + 5, &end, 10);
        if (*end || n < 0 || n > 255)
            return -1;
        c->kind = COLOR_INDEX;
        c->index = (int)n;
        return 0;
    }
    int bright = strncmp(w, "bright-", 7) == 0 ? 8 : 0;
    const char *name = bright ? w + 7 : w;
    for (int i = 0; i < 8; i++) {
        if (strcmp(name, base_colors[i]) == 0) {
            c->kind = COLOR_INDEX;
            c->index = i + bright;
            return 0;
        }
    }
    return -1;
}

static unsigned parse_attr(const char *w)
{
    static const struct { const char *name; unsigned bit; } a[] = {
        { "bold", THEME_BOLD }, { "dim", THEME_DIM }, { "underline", THEME_UNDERLINE },
        { "reverse", THEME_REVERSE }, { "italic", THEME_ITALIC },
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (strcmp(w, a[i].name) == 0)
            return a[i].bit;
    return 0;
}

int theme_parse_style(const char *value, struct style *st, char *err, size_t errsz)
{
    struct style s = { .set = true };
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    bool want_bg = false;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        unsigned a = parse_attr(w);
        if (a) {
            s.attrs |= a;
            continue;
        }
        if (strcmp(w, "on") == 0) {
            want_bg = true;
            continue;
        }
        struct color c;
        if (parse_color(w, &c) != 0) {
            snprintf(err, errsz, "'%.40s' is not a colour or attribute (like red, bright-blue, "
                                 "color208, #ff8700, bold, dim, underline, reverse, italic)", w);
            return -1;
        }
        if (want_bg) {
            s.bg = c;
            want_bg = false;
        } else if (s.fg.kind == COLOR_NONE) {
            s.fg = c;
        } else {
            snprintf(err, errsz, "two foreground colours (write 'FG on BG')");
            return -1;
        }
    }
    if (want_bg) {
        snprintf(err, errsz, "'on' needs a background colour after it");
        return -1;
    }
    *st = s;
    return 0;
}

int theme_parse(struct theme *t, const char *file, const char *text, char *inherit, size_t inheritsz,
                struct config_errors *errs)
{
    int nerr = 0, lineno = 0;
    if (inheritsz)
        inherit[0] = '\0';
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[512], msg[768];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        p += len + (eol ? 1 : 0);
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(msg, sizeof msg, "%s:%d: expected 'role = colours'", file, lineno);
            config_errors_add(errs, msg);
            nerr++;
            continue;
        }
        *eq = '\0';
        char *key = s, *val = eq + 1;
        n = strlen(key);
        while (n && isspace((unsigned char)key[n - 1]))
            key[--n] = '\0';
        while (isspace((unsigned char)*val))
            val++;
        if (strcmp(key, "inherit") == 0) {
            snprintf(inherit, inheritsz, "%s", val);
            continue;
        }
        int role = -1;
        for (int r = 0; r < ROLE_COUNT; r++)
            if (strcmp(key, role_names[r]) == 0)
                role = r;
        char err[256];
        if (role < 0) {
            snprintf(msg, sizeof msg, "%s:%d: unknown role '%.40s'", file, lineno, key);
            config_errors_add(errs, msg);
            nerr++;
        } else if (theme_parse_style(val, &t->role[role], err, sizeof err) != 0) {
            snprintf(msg, sizeof msg, "%s:%d: %s: %s", file, lineno, key, err);
            config_errors_add(errs, msg);
            nerr++;
        }
    }
    return nerr;
}

/* The user's theme file text, if there is one; the caller frees. */
static char *user_theme(const char *name, char *path, size_t pathsz)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(path, pathsz, "%s/marketing/themes/%s.theme", xdg, name);
    else if (home && *home)
        snprintf(path, pathsz, "%s/.config/marketing/themes/%s.theme", home, name);
    else
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65537);
    size_t got = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf)
        buf[got] = '\0';
    return buf;
}

static int load(const char *name, struct theme *out, struct config_errors *errs, int depth)
{
    char msg[300], path[1024];
    if (depth > 4) {
        snprintf(msg, sizeof msg, "theme %.40s: 'inherit' goes more than 4 deep (a loop?)", name);
        config_errors_add(errs, msg);
        return 1;
    }
    for (const char *c = name; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') {
            snprintf(msg, sizeof msg, "theme '%.40s': a theme name is letters, digits, '-' and '_'", name);
            config_errors_add(errs, msg);
            return 1;
        }
    }
    char *text = user_theme(name, path, sizeof path);
    const char *src = text, *file = path;
    if (!src) {
        for (size_t i = 0; i < builtin_themes_count; i++) {
            if (strcmp(builtin_themes[i].name, name) == 0) {
                src = builtin_themes[i].text;
                snprintf(path, sizeof path, "themes/%s.theme", name);
            }
        }
    }
    if (!src) {
        size_t used = 0;
        char known[200] = "";
        for (size_t i = 0; i < builtin_themes_count; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                     builtin_themes[i].name);
        snprintf(msg, sizeof msg, "theme '%.40s' not found (built in: %s)", name, known);
        config_errors_add(errs, msg);
        return 1;
    }
    /* first what it inherits, then its own lines over that */
    struct theme mine;
    memset(&mine, 0, sizeof mine);
    char inherit[64];
    int nerr = theme_parse(&mine, file, src, inherit, sizeof inherit, errs);
    if (inherit[0])
        nerr += load(inherit, out, errs, depth + 1);
    for (int r = 0; r < ROLE_COUNT; r++)
        if (mine.role[r].set)
            out->role[r] = mine.role[r];
    snprintf(out->name, sizeof out->name, "%s", name);
    free(text);
    return nerr;
}

int theme_load(const char *name, struct theme *out, struct config_errors *errs)
{
    memset(out, 0, sizeof *out);
    return load(name, out, errs, 0);
}

static int dist2(int r, int g, int b, const unsigned char *c)
{
    return (r - c[0]) * (r - c[0]) + (g - c[1]) * (g - c[1]) + (b - c[2]) * (b - c[2]);
}

/* The RGB that xterm gives palette index i. */
static void index_rgb(int i, int *r, int *g, int *b)
{
    if (i < 16) {
        *r = basic_rgb[i][0];
        *g = basic_rgb[i][1];
        *b = basic_rgb[i][2];
    } else if (i < 232) {
        static const int level[6] = { 0, 95, 135, 175, 215, 255 };
        int n = i - 16;
        *r = level[n / 36];
        *g = level[(n / 6) % 6];
        *b = level[n % 6];
    } else {
        *r = *g = *b = 8 + 10 * (i - 232);
    }
}

static int nearest(int r, int g, int b, int first, int count)
{
    int best = first, bd = -1;
    for (int i = first; i < first + count; i++) {
        int ir, ig, ib;
        index_rgb(i, &ir, &ig, &ib);
        unsigned char c[3] = { (unsigned char)ir, (unsigned char)ig, (unsigned char)ib };
        int d = dist2(r, g, b, c);
        if (bd < 0 || d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

int theme_color_number(const struct color *c, int ncolors, bool *bold)
{
    *bold = false;
    if (c->kind == COLOR_NONE || c->kind == COLOR_DEFAULT)
        return -1;
    int r, g, b;
    if (c->kind == COLOR_INDEX) {
        if (c->index < ncolors)
            return c->index;
        index_rgb(c->index, &r, &g, &b);
    } else {
        r = c->r;
        g = c->g;
        b = c->b;
        if (ncolors >= 256)
            return nearest(r, g, b, 16, 240); /* the cube and the greys, not the themable 16 */
    }
    if (ncolors >= 16)
        return nearest(r, g, b, 0, 16);
    int n = nearest(r, g, b, 0, 16);
    if (n >= 8) {
        *bold = true;
        n -= 8;
    }
    return n;
}
