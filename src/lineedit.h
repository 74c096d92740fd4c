/* A single line of text being typed, with a cursor: UTF-8 aware insertion,
 * movement and deletion by whole characters, and the part of the line that
 * a field of some width shows. Pure text handling: the segment editor uses
 * it, and it is tested without a terminal. */
#ifndef MARKETING_LINEEDIT_H
#define MARKETING_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

#define LINEEDIT_CAP 4097 /* bytes, with the NUL: a rule of SEGRULE_MAX_LEN */

struct lineedit {
    char buf[LINEEDIT_CAP]; /* valid UTF-8, NUL-terminated, no control characters */
    size_t len;             /* bytes */
    size_t cur;             /* the cursor: a byte offset on a character boundary */
    size_t max;             /* bytes allowed (< LINEEDIT_CAP); 0 means LINEEDIT_CAP - 1 */
};

enum lineedit_step {
    LINEEDIT_IGNORED,  /* not an editing key */
    LINEEDIT_MOVED,    /* the cursor moved (or the key did nothing here) */
    LINEEDIT_CHANGED,  /* the text changed */
};

/* Empties e and sets its limit (0: the whole buffer). */
void lineedit_init(struct lineedit *e, size_t max);

/* Replaces the text with s (cut at a character boundary to the limit;
 * invalid UTF-8 and control characters are left out); the cursor goes to
 * the end. */
void lineedit_set(struct lineedit *e, const char *s);

/* Inserts the code point cp at the cursor. False (nothing changes) for a
 * control character, a surrogate, a value beyond U+10FFFF, or when the
 * limit would be passed. */
bool lineedit_insert(struct lineedit *e, long cp);

/* A key (actions.h's KEYC_* codes or a character): Left, Right, Home, End
 * (and C-a, C-e), Backspace, Delete (and C-d), C-u (to the start) and C-k
 * (to the end) delete; a printable character is inserted. */
enum lineedit_step lineedit_key(struct lineedit *e, int key);

/* For a field of width columns (>= 1) showing the text sanitized with
 * flags (sanitize.h): the byte offset of the first character shown, so
 * that the cursor is in view, and in *cursor_col the cursor's column in
 * the field. */
size_t lineedit_view(const struct lineedit *e, int width, unsigned flags, int *cursor_col);

#endif
