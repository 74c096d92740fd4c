#include "lineedit.h"

#include <string.h>

#include "actions.h"
#include "sanitize.h"

static size_t limit(const struct lineedit *e)
{
    return e->max && e->max < LINEEDIT_CAP ? e->max : LINEEDIT_CAP - 1;
}

void lineedit_init(struct lineedit *e, size_t max)
{
    e->buf[0] = '\0';
    e->len = e->cur = 0;
    e->max = max;
}

static bool printable(long cp)
{
    return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) && !(cp >= 0xd800 && cp < 0xe000) &&
           cp <= 0x10ffff;
}

static size_t encode(long cp, char out[4])
{
    unsigned long c = (unsigned long)cp;
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

bool lineedit_insert(struct lineedit *e, long cp)
{
    char enc[4];
    if (!printable(cp))
        return false;
    size_t k = encode(cp, enc);
    if (e->len + k > limit(e))
        return false;
    memmove(e->buf + e->cur + k, e->buf + e->cur, e->len - e->cur + 1);
    memcpy(e->buf + e->cur, enc, k);
    e->len += k;
    e->cur += k;
    return true;
}

void lineedit_set(struct lineedit *e, const char *s)
{
    lineedit_init(e, e->max);
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        long cp;
        i += (size_t)san_decode((const unsigned char *)s + i, n - i, &cp);
        if (printable(cp) && !lineedit_insert(e, cp))
            break; /* full */
    }
}

/* The start of the character before byte offset at. */
static size_t prev_char(const struct lineedit *e, size_t at)
{
    size_t p = at < e->len ? at : e->len;
    while (p > 0) {
        p--;
        if (((unsigned char)e->buf[p] & 0xC0) != 0x80)
            break; /* not a continuation byte: the character starts here */
    }
    return p;
}

/* The start of the character after the one at byte offset at. */
static size_t next_char(const struct lineedit *e, size_t at)
{
    if (at >= e->len)
        return e->len;
    at++;
    while (at < e->len && ((unsigned char)e->buf[at] & 0xC0) == 0x80)
        at++;
    return at;
}

/* Deletes bytes [from, to). */
static enum lineedit_step cut(struct lineedit *e, size_t from, size_t to)
{
    if (from >= to)
        return LINEEDIT_MOVED;
    memmove(e->buf + from, e->buf + to, e->len - to + 1);
    e->len -= to - from;
    e->cur = from;
    return LINEEDIT_CHANGED;
}

enum lineedit_step lineedit_key(struct lineedit *e, int key)
{
    switch (key) {
    case KEYC_LEFT: e->cur = prev_char(e, e->cur); return LINEEDIT_MOVED;
    case KEYC_RIGHT: e->cur = next_char(e, e->cur); return LINEEDIT_MOVED;
    case KEYC_HOME: case KEYC_CTRL('a'): e->cur = 0; return LINEEDIT_MOVED;
    case KEYC_END: case KEYC_CTRL('e'): e->cur = e->len; return LINEEDIT_MOVED;
    case KEYC_BACKSPACE: return cut(e, prev_char(e, e->cur), e->cur);
    case KEYC_DELETE: case KEYC_CTRL('d'): return cut(e, e->cur, next_char(e, e->cur));
    case KEYC_CTRL('u'): return cut(e, 0, e->cur);
    case KEYC_CTRL('k'): return cut(e, e->cur, e->len);
    default:
        if (key < 0 || key >= KEYC_UP || !printable(key))
            return LINEEDIT_IGNORED;
        return lineedit_insert(e, key) ? LINEEDIT_CHANGED : LINEEDIT_MOVED;
    }
}

size_t lineedit_view(const struct lineedit *e, int width, unsigned flags, int *cursor_col)
{
    int room = width > 1 ? width - 1 : 1; /* a column for the cursor after the last character */
    size_t start = e->cur;
    int cols = 0;
    while (start > 0) {
        size_t p = prev_char(e, start);
        int w = san_width(e->buf + p, start - p, flags);
        if (cols + w > room)
            break;
        cols += w;
        start = p;
    }
    *cursor_col = cols; /* when scrolled, the cursor sits at the right edge */
    return start;
}
