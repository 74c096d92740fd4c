#include "layout.h"

#include <stdbool.h>
#include <string.h>

static int total(const int *w, size_t n)
{
    int sum = 0, vis = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] > 0) {
            sum += w[i];
            vis++;
        }
    }
    return sum + (vis > 1 ? vis - 1 : 0);
}

int layout_columns(const struct col_spec *cols, size_t n, int width, int *widths)
{
    bool hidden[64] = { false };
    if (n > 64)
        n = 64;
    for (;;) {
        /* start from the minimums of the visible columns */
        for (size_t i = 0; i < n; i++)
            widths[i] = hidden[i] ? 0 : cols[i].min;
        if (total(widths, n) <= width)
            break;
        /* hide the lowest-priority visible column (the last one on ties) */
        int victim = -1;
        for (size_t i = 0; i < n; i++) {
            if (!hidden[i] && (victim < 0 || cols[i].priority >= cols[victim].priority))
                victim = (int)i;
        }
        if (victim < 0)
            return 0;
        hidden[victim] = true;
    }
    /* grow towards 'want', left to right */
    int room = width - total(widths, n);
    for (size_t i = 0; i < n && room > 0; i++) {
        if (hidden[i] || cols[i].want <= widths[i])
            continue;
        int add = cols[i].want - widths[i];
        if (add > room)
            add = room;
        widths[i] += add;
        room -= add;
    }
    /* share what is left by flex */
    int flex_sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!hidden[i])
            flex_sum += cols[i].flex;
    if (room > 0 && flex_sum > 0) {
        int given = 0, last = -1;
        for (size_t i = 0; i < n; i++) {
            if (hidden[i] || cols[i].flex == 0)
                continue;
            int add = room * cols[i].flex / flex_sum;
            widths[i] += add;
            given += add;
            last = (int)i;
        }
        if (last >= 0)
            widths[last] += room - given;
    }
    int vis = 0;
    for (size_t i = 0; i < n; i++)
        if (widths[i] > 0)
            vis++;
    return vis;
}

static struct rect mkrect(int y, int x, int h, int w)
{
    struct rect r = { y, x, h, w };
    return r;
}

void layout_screen(int cols, int lines, struct screen_layout *out)
{
    struct screen_layout l;
    memset(&l, 0, sizeof l);
    l.vsep_x = -1;
    if (cols < SCREEN_MIN_COLS || lines < SCREEN_MIN_LINES) {
        l.mode = SCREEN_TOO_SMALL;
        *out = l;
        return;
    }
    l.header = mkrect(0, 0, 1, cols);
    l.hint = mkrect(lines - 2, 0, 1, cols);
    l.status = mkrect(lines - 1, 0, 1, cols);
    int body_y = 1, body_h = lines - 3;
    if (cols >= SCREEN_GRID_COLS && lines >= SCREEN_GRID_LINES) {
        l.mode = SCREEN_GRID;
        int left = (cols - 1) / 2, right = cols - 1 - left;
        int top = body_h / 2, bottom = body_h - top;
        l.vsep_x = left;
        l.pane[0] = mkrect(body_y, 0, top, left);
        l.pane[1] = mkrect(body_y, left + 1, top, right);
        l.pane[2] = mkrect(body_y + top, 0, bottom, left);
        l.pane[3] = mkrect(body_y + top, left + 1, bottom, right);
    } else {
        l.mode = SCREEN_TABS;
        for (int i = 0; i < SCREEN_PANES; i++)
            l.pane[i] = mkrect(body_y, 0, body_h, cols);
    }
    *out = l;
}
