/* The line editor of the segment editor's fields: UTF-8 aware cursor
 * movement, insertion and deletion, the limit, and the part a narrow field
 * shows; and the grouped counts the editor's messages use. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "actions.h"
#include "format.h"
#include "lineedit.h"

static void type(struct lineedit *e, const char *s)
{
    for (; *s; s++)
        lineedit_key(e, (unsigned char)*s);
}

static void test_edit(void **state)
{
    (void)state;
    static struct lineedit e;
    lineedit_init(&e, 0);
    type(&e, "age >= ");
    assert_string_equal(e.buf, "age >= ");
    assert_int_equal(lineedit_key(&e, 0xE9), LINEEDIT_CHANGED); /* é: two bytes */
    assert_int_equal(lineedit_key(&e, 0x4E2D), LINEEDIT_CHANGED); /* 中: three */
    assert_string_equal(e.buf, "age >= \xC3\xA9\xE4\xB8\xAD");
    assert_int_equal(e.cur, e.len);
    /* Left steps over a whole character, Backspace deletes one */
    assert_int_equal(lineedit_key(&e, KEYC_LEFT), LINEEDIT_MOVED);
    assert_int_equal(e.cur, 9);
    assert_int_equal(lineedit_key(&e, KEYC_BACKSPACE), LINEEDIT_CHANGED);
    assert_string_equal(e.buf, "age >= \xE4\xB8\xAD");
    assert_int_equal(e.cur, 7);
    assert_int_equal(lineedit_key(&e, KEYC_DELETE), LINEEDIT_CHANGED);
    assert_string_equal(e.buf, "age >= ");
    assert_int_equal(lineedit_key(&e, KEYC_DELETE), LINEEDIT_MOVED); /* nothing after the cursor */
    /* Home, insert, End */
    lineedit_key(&e, KEYC_HOME);
    assert_int_equal(e.cur, 0);
    type(&e, "(");
    lineedit_key(&e, KEYC_END);
    type(&e, "30)");
    assert_string_equal(e.buf, "(age >= 30)");
    lineedit_key(&e, KEYC_RIGHT); /* at the end: stays */
    assert_int_equal(e.cur, e.len);
    /* controls are not text; the keys that are not editing are not ours */
    assert_int_equal(lineedit_key(&e, 27), LINEEDIT_IGNORED);
    assert_int_equal(lineedit_key(&e, '\t'), LINEEDIT_IGNORED);
    assert_int_equal(lineedit_key(&e, KEYC_ENTER), LINEEDIT_IGNORED);
    assert_int_equal(lineedit_key(&e, KEYC_UP), LINEEDIT_IGNORED);
    assert_int_equal(lineedit_key(&e, 0x85), LINEEDIT_IGNORED);
    assert_int_equal(lineedit_key(&e, 0xD800), LINEEDIT_IGNORED);
    /* C-u and C-k */
    lineedit_key(&e, KEYC_HOME);
    lineedit_key(&e, KEYC_RIGHT);
    assert_int_equal(lineedit_key(&e, KEYC_CTRL('k')), LINEEDIT_CHANGED);
    assert_string_equal(e.buf, "(");
    assert_int_equal(lineedit_key(&e, KEYC_CTRL('u')), LINEEDIT_CHANGED);
    assert_string_equal(e.buf, "");
    assert_int_equal(e.len, 0);
}

static void test_limit_and_set(void **state)
{
    (void)state;
    static struct lineedit e;
    lineedit_init(&e, 4);
    type(&e, "abc");
    assert_int_equal(lineedit_key(&e, 0xE9), LINEEDIT_MOVED); /* would pass 4 bytes */
    type(&e, "d");
    assert_int_equal(lineedit_key(&e, 'e'), LINEEDIT_MOVED);
    assert_string_equal(e.buf, "abcd");
    /* set leaves out what is not text, and cuts at a character */
    lineedit_set(&e, "x\x1b[1my\xC3\xA9");
    assert_string_equal(e.buf, "x[1m");
    lineedit_init(&e, 0);
    lineedit_set(&e, "a\xC3\xA9\xFFz");
    assert_string_equal(e.buf, "a\xC3\xA9z");
    assert_int_equal(e.cur, e.len);
}

static void test_view(void **state)
{
    (void)state;
    static struct lineedit e;
    lineedit_init(&e, 0);
    int col;
    assert_int_equal(lineedit_view(&e, 10, 0, &col), 0);
    assert_int_equal(col, 0);
    type(&e, "abcdefghijklmnop"); /* 16 characters in a field of 10 */
    size_t start = lineedit_view(&e, 10, 0, &col);
    assert_int_equal(start, 7);
    assert_int_equal(col, 9);
    lineedit_key(&e, KEYC_HOME);
    assert_int_equal(lineedit_view(&e, 10, 0, &col), 0);
    assert_int_equal(col, 0);
    /* wide characters take two columns */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        skip();
    lineedit_init(&e, 0);
    lineedit_key(&e, 0x4E2D);
    lineedit_key(&e, 'x');
    assert_int_equal(lineedit_view(&e, 10, 0, &col), 0);
    assert_int_equal(col, 3);
}

static void test_grouped(void **state)
{
    (void)state;
    char b[32];
    fmt_grouped(b, sizeof b, 0);
    assert_string_equal(b, "0");
    fmt_grouped(b, sizeof b, 999);
    assert_string_equal(b, "999");
    fmt_grouped(b, sizeof b, 4812);
    assert_string_equal(b, "4,812");
    fmt_grouped(b, sizeof b, 1234567);
    assert_string_equal(b, "1,234,567");
    fmt_grouped(b, sizeof b, -12000);
    assert_string_equal(b, "-12,000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit),
        cmocka_unit_test(test_limit_and_set),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_grouped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
