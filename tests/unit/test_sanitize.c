/* The sanitizer: RELIABILITY.md checklist items 1-5. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "sanitize.h"

static char out[SAN_MAX_INPUT * 3 + 64];

static const char *fit(const char *in, int cols, unsigned flags, struct san_result *r)
{
    struct san_result tmp = san_fit(out, sizeof out, in, (size_t)-1, cols, flags);
    if (r)
        *r = tmp;
    return out;
}

/* No byte a terminal acts on: C0, DEL, C1 (as UTF-8 C2 80..9F), bidi. */
static void assert_inert(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        assert_false(*p < 0x20 || *p == 0x7F);
        if (p[0] == 0xC2)
            assert_false(p[1] >= 0x80 && p[1] <= 0x9F);
        if (p[0] == 0xE2 && p[1] == 0x80)
            assert_false(p[2] >= 0xAA && p[2] <= 0xAE); /* U+202A..202E */
        if (p[0] == 0xE2 && p[1] == 0x81)
            assert_false(p[2] >= 0xA6 && p[2] <= 0xA9); /* U+2066..2069 */
    }
}

/* Display width of valid UTF-8 by wcwidth, to check what we report. */
static int measured_width(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0;
    size_t len = strlen(s);
    while (len > 0) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, len, &st);
        assert_true(n != (size_t)-1 && n != (size_t)-2 && n != 0);
        int cw = wcwidth(wc);
        assert_true(cw >= 0);
        w += cw;
        s += n;
        len -= n;
    }
    return w;
}

static void test_escape_sequences(void **state)
{
    (void)state;
    assert_string_equal(fit("a\x1b[2Jb", -1, 0, NULL), "a^[[2Jb");
    assert_string_equal(fit("\x1b]0;title\x07", -1, 0, NULL), "^[]0;title^G");
    assert_string_equal(fit("\x1b]52;c;ZXZpbA==\x07", -1, 0, NULL), "^[]52;c;ZXZpbA==^G");
    assert_string_equal(fit("x\xC2\x9B" "31m", -1, 0, NULL), "x<U+009B>31m");
    assert_string_equal(fit("a\rb\bc\nd\te\x7f", -1, 0, NULL), "a^Mb^Hc^Jd^Ie^?");
    assert_inert(out);
}

static void test_bidi_and_invisible(void **state)
{
    (void)state;
    struct san_result r;
    fit("abc\xE2\x80\xAE" "def", -1, 0, &r);
    assert_string_equal(out, "abc<U+202E>def");
    assert_int_equal(r.cols, 14);
    assert_string_equal(fit("\xE2\x81\xA6x\xE2\x81\xA9", -1, 0, NULL), "<U+2066>x<U+2069>");
    assert_string_equal(fit("a\xE2\x80\x8B" "b", -1, 0, NULL), "a<U+200B>b");
    assert_string_equal(fit("\xEF\xBB\xBFhi", -1, 0, NULL), "<U+FEFF>hi");
    assert_inert(out);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct san_result r;
    /* overlong '/', a surrogate, beyond U+10FFFF, truncated at the end */
    fit("\xC0\xAF", -1, 0, &r);
    assert_string_equal(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(r.cols, 2);
    fit("\xED\xA0\x80", -1, 0, &r);
    assert_int_equal(r.cols, 3);
    assert_int_equal(measured_width(out), 3);
    fit("\xF4\x90\x80\x80", -1, 0, &r);
    assert_int_equal(r.cols, 4);
    fit("ok\xE2\x82", -1, 0, &r);
    assert_string_equal(out, "ok\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(r.cols, 4);
    /* valid four-byte character passes */
    fit("\xF0\x9F\x98\x80", -1, 0, &r);
    assert_string_equal(out, "\xF0\x9F\x98\x80");
}

static void test_wide_and_combining_at_edge(void **state)
{
    (void)state;
    struct san_result r;
    fit("\xE4\xB8\xAD\xE6\x96\x87", 4, 0, &r); /* 中文: exactly 4 columns */
    assert_false(r.cut);
    assert_int_equal(r.cols, 4);
    fit("\xE4\xB8\xAD\xE6\x96\x87", 3, 0, &r); /* does not fit: 中… */
    assert_true(r.cut);
    assert_string_equal(out, "\xE4\xB8\xAD\xE2\x80\xA6");
    assert_int_equal(r.cols, 3);
    fit("a\xE4\xB8\xAD", 2, 0, &r); /* never half a wide character */
    assert_string_equal(out, "a\xE2\x80\xA6");
    assert_int_equal(r.cols, 2);
    /* e + combining acute stays one column, and is never split */
    fit("e\xCC\x81" "e\xCC\x81" "x", 2, 0, &r);
    assert_string_equal(out, "e\xCC\x81\xE2\x80\xA6");
    assert_int_equal(r.cols, 2);
    assert_int_equal(measured_width(out), 2);
    /* a combining mark with nothing to combine with is shown escaped */
    assert_string_equal(fit("\xCC\x81x", -1, 0, NULL), "<U+0301>x");
}

static void test_cut_marker_and_limits(void **state)
{
    (void)state;
    struct san_result r;
    fit("abcdefg", 5, 0, &r);
    assert_string_equal(out, "abcd\xE2\x80\xA6");
    assert_true(r.cut);
    assert_int_equal(r.cols, 5);
    fit("abcde", 5, 0, &r);
    assert_string_equal(out, "abcde");
    assert_false(r.cut);
    fit("abc", 0, 0, &r);
    assert_string_equal(out, "");
    assert_int_equal(r.cols, 0);
    /* an escape is never split: it goes whole or not at all */
    fit("ab\x1b", 3, 0, &r);
    assert_string_equal(out, "ab\xE2\x80\xA6");
    fit(NULL, 10, 0, &r);
    assert_string_equal(out, "");
    /* a small output buffer still gets a terminated, valid string */
    char tiny[6];
    r = san_fit(tiny, sizeof tiny, "\xE4\xB8\xAD\xE6\x96\x87xyz", (size_t)-1, -1, 0);
    assert_true(r.cut);
    assert_true(strlen(tiny) < sizeof tiny);
    assert_int_equal(measured_width(tiny), r.cols);
}

static void test_huge_input_is_cut(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    struct san_result r;
    fit(big, 80, 0, &r);
    assert_true(r.cut);
    assert_int_equal(r.cols, 80);
    fit(big, -1, 0, &r); /* no column limit: still cut at SAN_MAX_INPUT */
    assert_true(r.cut);
    assert_true(r.cols <= SAN_MAX_INPUT + 1);
    free(big);
}

static void test_ascii_mode(void **state)
{
    (void)state;
    struct san_result r;
    fit("Sale \xE2\x80\x94 DE \xE4\xB8\xAD", -1, SAN_ASCII, &r);
    assert_string_equal(out, "Sale ? DE ??");
    assert_int_equal(r.cols, 12);
    fit("abcdef", 4, SAN_ASCII, &r);
    assert_string_equal(out, "abc~");
    fit("\xC2\x9B\xE2\x80\xAE\xFF", -1, SAN_ASCII, &r);
    for (const char *p = out; *p; p++)
        assert_true((unsigned char)*p < 0x80 && (unsigned char)*p >= 0x20);
}

/* Random bytes, many times: output is always inert, valid and as wide as
 * reported, and never wider than asked. */
static void test_random_inputs(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char in[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        for (; len < sizeof in - 1; len++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if ((x & 31) == 0)
                break;
            unsigned char b = (unsigned char)(x >> 24);
            /* bias towards interesting bytes */
            static const unsigned char pick[] = { 0x1b, 0xC2, 0x9B, 0xE2, 0x80, 0xAE, 0xCC, 0x81,
                                                  0xF0, 0x9F, 0xE4, 0xB8, 'a', '\n', 0xFF, 0xED };
            in[len] = (char)((x >> 40) & 1 ? pick[b & 15] : b);
        }
        in[len] = '\0';
        int cols = (int)((x >> 8) % 30);
        struct san_result r = san_fit(out, sizeof out, in, len, cols, 0);
        assert_inert(out);
        assert_true(r.cols <= cols);
        assert_int_equal(measured_width(out), r.cols);
    }
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(san_width("abc", 3, 0), 3);
    assert_int_equal(san_width("\x1b", 1, 0), 2);
    assert_int_equal(san_width("\xE4\xB8\xAD", (size_t)-1, 0), 2);
}

int main(void)
{
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_sequences),
        cmocka_unit_test(test_bidi_and_invisible),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_wide_and_combining_at_edge),
        cmocka_unit_test(test_cut_marker_and_limits),
        cmocka_unit_test(test_huge_input_is_cut),
        cmocka_unit_test(test_ascii_mode),
        cmocka_unit_test(test_random_inputs),
        cmocka_unit_test(test_width),
    };
    return cmocka_run_group_tests_name("sanitize", tests, NULL, NULL);
}
