#include "draw.h"

#include <stdio.h>
#include <string.h>

#include "curs.h"
#include "sanitize.h"

void draw_ctx_init(struct ui_ctx *ctx, unsigned san)
{
    ctx->san = san;
    /* monochrome is a real theme: every role is told apart without colour */
    static const int mono[ROLE_COUNT] = {
        [ROLE_NORMAL] = A_NORMAL,
        [ROLE_HEADER] = A_REVERSE | A_BOLD,
        [ROLE_TAB] = A_REVERSE,
        [ROLE_TAB_ACTIVE] = A_BOLD | A_UNDERLINE,
        [ROLE_TITLE] = A_BOLD,
        [ROLE_TITLE_FOCUS] = A_REVERSE | A_BOLD,
        [ROLE_COLUMN] = A_UNDERLINE,
        [ROLE_SELECTION] = A_REVERSE,
        [ROLE_DIM] = A_DIM,
        [ROLE_HINT] = A_DIM,
        [ROLE_STATUS] = A_REVERSE,
        [ROLE_OK] = A_NORMAL,
        [ROLE_WARN] = A_BOLD,
        [ROLE_CRIT] = A_BOLD | A_UNDERLINE,
        [ROLE_GRAPH] = A_NORMAL,
        [ROLE_GRAPH_REF] = A_DIM,
        [ROLE_ACCENT] = A_BOLD,
        [ROLE_PRODUCTION] = A_REVERSE | A_BOLD | A_UNDERLINE,
    };
    memcpy(ctx->attr, mono, sizeof mono);
}

static bool is_colour(const struct color *c)
{
    return c->kind == COLOR_INDEX || c->kind == COLOR_RGB;
}

void draw_ctx_apply_theme(struct ui_ctx *ctx, const struct theme *t, bool color)
{
    if (!color)
        return;
    /* a theme without colours (monochrome) starts no colour at all: not
     * even the default-colour resets reach the terminal */
    bool any = false;
    for (int r = 0; r < ROLE_COUNT; r++)
        any |= t->role[r].set && (is_colour(&t->role[r].fg) || is_colour(&t->role[r].bg));
    bool have = any && has_colors() && start_color() != ERR;
    if (have)
        use_default_colors(); /* the terminal's own background shows through */
    if (any && !have)
        return; /* no colours here: the built-in monochrome look, designed for it */
    for (int r = 0; r < ROLE_COUNT; r++) {
        const struct style *s = &t->role[r];
        if (!s->set)
            continue;
        int a = A_NORMAL;
        bool bold_fg = false, bold_bg = false;
        int fg = have ? theme_color_number(&s->fg, COLORS, &bold_fg) : -1;
        int bg = have ? theme_color_number(&s->bg, COLORS, &bold_bg) : -1;
        if (s->attrs & THEME_BOLD || bold_fg)
            a |= A_BOLD;
        if (s->attrs & THEME_DIM)
            a |= A_DIM;
        if (s->attrs & THEME_UNDERLINE)
            a |= A_UNDERLINE;
        if (s->attrs & THEME_REVERSE)
            a |= A_REVERSE;
        if (s->attrs & THEME_ITALIC)
            a |= A_ITALIC;
        if (fg >= 0 || bg >= 0) {
            int pair = alloc_pair(fg, bg);
            if (pair > 0)
                a |= COLOR_PAIR(pair);
        }
        ctx->attr[r] = a;
    }
}

int draw_text(const struct ui_ctx *ctx, int y, int x, int w, const char *s, bool right,
              enum role role)
{
    if (w <= 0)
        return 0;
    char buf[SAN_MAX_INPUT * 4 + 16];
    struct san_result r = san_fit(buf, sizeof buf, s, (size_t)-1, w, ctx->san);
    attrset(ctx->attr[role]);
    move(y, x);
    if (right)
        printw("%*s", w - r.cols, "");
    addstr(buf);
    if (!right)
        printw("%*s", w - r.cols, "");
    attrset(A_NORMAL);
    return r.cols;
}

void draw_blank(const struct ui_ctx *ctx, int y, int x, int w, enum role role)
{
    if (w <= 0)
        return;
    attrset(ctx->attr[role]);
    mvprintw(y, x, "%*s", w, "");
    attrset(A_NORMAL);
}

void draw_bar(const struct ui_ctx *ctx, int y, int x, int w, double done, double total,
              enum role role)
{
    if (w <= 0)
        return;
    double f = total > 0 ? done / total : 0;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    char buf[512];
    size_t n = 0;
    if (ctx->san) {
        int full = (int)(f * w + 0.5);
        for (int i = 0; i < w && n + 2 < sizeof buf; i++)
            buf[n++] = i < full ? '#' : '.';
    } else {
        /* eighths of a cell: ▏▎▍▌▋▊▉█ */
        static const char *const eighth[] = { "", "\xE2\x96\x8F", "\xE2\x96\x8E", "\xE2\x96\x8D",
            "\xE2\x96\x8C", "\xE2\x96\x8B", "\xE2\x96\x8A", "\xE2\x96\x89" };
        int units = (int)(f * w * 8 + 0.5), cells = 0;
        for (; units >= 8 && n + 4 < sizeof buf; units -= 8, cells++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "\xE2\x96\x88");
        if (units > 0 && cells < w) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", eighth[units]);
            cells++;
        }
        for (; cells < w && n + 4 < sizeof buf; cells++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "\xC2\xB7"); /* · */
    }
    buf[n] = '\0';
    attrset(ctx->attr[role]);
    mvaddstr(y, x, buf);
    attrset(A_NORMAL);
}

void draw_title(const struct ui_ctx *ctx, struct rect r, const char *title, const char *extra,
                bool focused)
{
    char line[512];
    snprintf(line, sizeof line, " %s%s%s", title, extra && *extra ? "  " : "", extra ? extra : "");
    draw_text(ctx, r.y, r.x, r.w, line, false, focused ? ROLE_TITLE_FOCUS : ROLE_TITLE);
}

void table_header(const struct ui_ctx *ctx, int y, struct rect r, const struct col_spec *cols,
                  size_t n, const int *w, unsigned right_mask)
{
    struct table_row t;
    table_row_begin(&t, ctx, y, r, false, ROLE_COLUMN);
    for (size_t c = 0; c < n; c++)
        table_cell(&t, w[c], cols[c].title, (right_mask >> c) & 1u);
    table_row_end(&t);
}

void table_row_begin(struct table_row *t, const struct ui_ctx *ctx, int y, struct rect r,
                     bool selected, enum role role)
{
    t->ctx = ctx;
    t->y = y;
    t->x = r.x + 1;
    t->end = r.x + r.w;
    t->role = role;
    draw_text(ctx, y, r.x, 1, selected ? ">" : " ", false, role);
}

static void table_sep(struct table_row *t, int w)
{
    t->x += w;
    if (t->x < t->end)
        draw_blank(t->ctx, t->y, t->x++, 1, t->role);
}

void table_cell(struct table_row *t, int w, const char *text, bool right)
{
    if (w <= 0)
        return;
    draw_text(t->ctx, t->y, t->x, w, text, right, t->role);
    table_sep(t, w);
}

void table_bar_cell(struct table_row *t, int w, double done, double total, const char *text)
{
    if (w <= 0)
        return;
    int tw = 11, bw = w - tw - 1;
    if (bw >= 4) {
        draw_bar(t->ctx, t->y, t->x, bw, done, total, t->role);
        draw_blank(t->ctx, t->y, t->x + bw, 1, t->role);
        draw_text(t->ctx, t->y, t->x + bw + 1, tw, text, true, t->role);
    } else {
        draw_text(t->ctx, t->y, t->x, w, text, true, t->role);
    }
    table_sep(t, w);
}

void table_row_end(struct table_row *t)
{
    if (t->x < t->end)
        draw_blank(t->ctx, t->y, t->x, t->end - t->x, t->role);
}
