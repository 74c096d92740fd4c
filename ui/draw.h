/* Drawing helpers: every string goes through the sanitizer here, clipped
 * to a width in display columns. Roles name what a thing is (header,
 * selection, status-active, ...), never a colour: the theme maps roles to
 * attributes. */
#ifndef MARKETING_DRAW_H
#define MARKETING_DRAW_H

#include <stdbool.h>

#include "layout.h"
#include "theme.h"

struct ui_ctx {
    unsigned san;             /* SAN_ASCII when the terminal is not UTF-8 (or --ascii) */
    int attr[ROLE_COUNT];     /* curses attributes per role */
};

/* Fills ctx->attr with the built-in monochrome attributes. */
void draw_ctx_init(struct ui_ctx *ctx, unsigned san);

/* After curses started: the theme's colours and attributes where the
 * terminal has colours and color is true; else monochrome stays. */
void draw_ctx_apply_theme(struct ui_ctx *ctx, const struct theme *t, bool color);

/* Untrusted text at (y, x) in exactly w columns (padded); right-aligned if
 * right. Returns the columns the text took. */
int draw_text(const struct ui_ctx *ctx, int y, int x, int w, const char *s, bool right,
              enum role role);

/* Blank w columns at (y, x) in a role. */
void draw_blank(const struct ui_ctx *ctx, int y, int x, int w, enum role role);

/* A progress bar of w columns for done/total: blocks in UTF-8, '#' in
 * ASCII. */
void draw_bar(const struct ui_ctx *ctx, int y, int x, int w, double done, double total,
              enum role role);

/* A table: a header of column titles, then rows of cells with one blank
 * column between them, each row starting with a one-column mark (">" for
 * the selection). Columns of width 0 (hidden by layout_columns) are
 * skipped. */
struct table_row {
    const struct ui_ctx *ctx;
    int y, x, end;
    enum role role;
};

/* Draws the titles; right_mask bit i right-aligns column i. */
void table_header(const struct ui_ctx *ctx, int y, struct rect r, const struct col_spec *cols,
                  size_t n, const int *w, unsigned right_mask);

void table_row_begin(struct table_row *t, const struct ui_ctx *ctx, int y, struct rect r,
                     bool selected, enum role role);
void table_cell(struct table_row *t, int w, const char *text, bool right);
/* A cell with a progress bar before its text, when there is room. */
void table_bar_cell(struct table_row *t, int w, double done, double total, const char *text);
/* Blanks the rest of the row. */
void table_row_end(struct table_row *t);

/* A pane's title row: "Title  extra" in the focus or plain title role. */
void draw_title(const struct ui_ctx *ctx, struct rect r, const char *title, const char *extra,
                bool focused);

#endif
