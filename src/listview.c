#include "listview.h"

bool listview_move(struct listview *lv, enum action_id a, size_t n, size_t page)
{
    if (page == 0)
        page = 1;
    switch (a) {
    case ACT_DOWN: if (lv->sel + 1 < n) lv->sel++; return true;
    case ACT_UP: if (lv->sel > 0) lv->sel--; return true;
    case ACT_PAGE_DOWN: lv->sel = lv->sel + page < n ? lv->sel + page : (n ? n - 1 : 0); return true;
    case ACT_PAGE_UP: lv->sel = lv->sel > page ? lv->sel - page : 0; return true;
    case ACT_TOP: lv->sel = 0; return true;
    case ACT_BOTTOM: lv->sel = n ? n - 1 : 0; return true;
    default: return false;
    }
}

void listview_fit(struct listview *lv, size_t n, size_t rows)
{
    if (n == 0) {
        lv->sel = lv->top = 0;
        return;
    }
    if (lv->sel >= n)
        lv->sel = n - 1;
    if (lv->sel < lv->top)
        lv->top = lv->sel;
    if (rows > 0 && lv->sel >= lv->top + rows)
        lv->top = lv->sel - rows + 1;
    /* no empty space below when there are rows above */
    if (rows > 0 && lv->top + rows > n)
        lv->top = n > rows ? n - rows : 0;
}

enum list_step listview_keys(struct listview *lv, enum action_id a, size_t n, size_t page,
                             bool *detail, bool filter_set)
{
    if (*detail) {
        if (a != ACT_BACK)
            return LIST_IGNORED;
        *detail = false;
        return LIST_REDRAW;
    }
    if (listview_move(lv, a, n, page))
        return LIST_MOVED;
    if (a == ACT_OPEN && lv->sel < n) {
        *detail = true;
        return LIST_MOVED;
    }
    if (a == ACT_BACK && filter_set)
        return LIST_CLEAR_FILTER;
    return LIST_IGNORED;
}

bool listview_click(struct listview *lv, int row, size_t n)
{
    if (row < 2 || lv->top + (size_t)(row - 2) >= n)
        return false;
    lv->sel = lv->top + (size_t)(row - 2);
    return true;
}

bool listview_accepts(enum action_id a, bool detail)
{
    if (detail)
        return a == ACT_BACK;
    return a == ACT_DOWN || a == ACT_UP || a == ACT_PAGE_DOWN || a == ACT_PAGE_UP || a == ACT_TOP ||
           a == ACT_BOTTOM || a == ACT_OPEN || a == ACT_BACK || a == ACT_FILTER;
}
