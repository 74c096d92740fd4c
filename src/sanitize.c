#include "sanitize.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

int san_decode(const unsigned char *s, size_t len, long *cp)
{
    unsigned char c = s[0];
    int n;
    long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; v = c & 0x07; min = 0x10000;
    } else {
        *cp = -1; /* continuation byte, C0/C1 overlong lead, or F5..FF */
        return 1;
    }
    if ((size_t)n > len) {
        *cp = -1;
        return 1;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

/* Characters that reorder, hide or join text: shown as <U+XXXX>. */
static bool is_format_char(long cp)
{
    return (cp >= 0x80 && cp <= 0x9F)          /* C1 controls, 8-bit CSI among them */
        || cp == 0xAD                          /* soft hyphen */
        || cp == 0x34F                         /* combining grapheme joiner */
        || cp == 0x61C                         /* Arabic letter mark */
        || cp == 0x115F || cp == 0x1160        /* Hangul fillers */
        || cp == 0x180E                        /* Mongolian vowel separator */
        || (cp >= 0x200B && cp <= 0x200F)      /* zero-width, LRM, RLM */
        || (cp >= 0x2028 && cp <= 0x202E)      /* separators, bidi embeddings and overrides */
        || (cp >= 0x2060 && cp <= 0x206F)      /* word joiner, invisible ops, bidi isolates */
        || cp == 0x3164 || cp == 0xFFA0        /* Hangul fillers */
        || (cp >= 0xFE00 && cp <= 0xFE0F)      /* variation selectors */
        || cp == 0xFEFF                        /* BOM, zero-width no-break space */
        || (cp >= 0xFFF9 && cp <= 0xFFFB)      /* interlinear annotation */
        || (cp & 0xFFFE) == 0xFFFE             /* non-characters */
        || (cp >= 0xE0000 && cp <= 0xE0FFF);   /* tags, variation selectors supplement */
}

struct unit {
    char buf[16];
    size_t len;
    int cols;
    bool attaches;  /* a combining mark that belongs to the unit before */
    bool base;      /* a printable character a combining mark may follow */
};

/* One input code point (or invalid byte) as what we draw for it. */
static void unit_for(struct unit *u, long cp, unsigned flags, bool have_base)
{
    u->attaches = false;
    u->base = false;
    if (cp < 0) {
        if (flags & SAN_ASCII) {
            u->len = (size_t)snprintf(u->buf, sizeof u->buf, "?");
        } else {
            u->len = (size_t)snprintf(u->buf, sizeof u->buf, "\xEF\xBF\xBD");
        }
        u->cols = 1;
        return;
    }
    if (cp < 0x20 || cp == 0x7F) {
        u->len = (size_t)snprintf(u->buf, sizeof u->buf, "^%c", cp == 0x7F ? '?' : (char)(cp + 0x40));
        u->cols = 2;
        return;
    }
    if (cp < 0x7F) {
        u->buf[0] = (char)cp;
        u->len = 1;
        u->cols = 1;
        u->base = true;
        return;
    }
    int w = is_format_char(cp) ? -1 : wcwidth((wchar_t)cp);
    if (w < 0 || (w == 0 && !have_base)) {
        u->len = (size_t)snprintf(u->buf, sizeof u->buf, "<U+%04lX>", (unsigned long)cp);
        u->cols = (int)u->len;
        return;
    }
    if (flags & SAN_ASCII) {
        if (w == 0) {
            u->len = 0; /* a combining mark on a '?' adds nothing */
            u->cols = 0;
            u->attaches = true;
            return;
        }
        u->len = (size_t)snprintf(u->buf, sizeof u->buf, "%s", w == 2 ? "??" : "?");
        u->cols = w;
        u->base = true;
        return;
    }
    /* encode back: the input was valid, so copy its canonical bytes */
    unsigned long v = (unsigned long)cp;
    if (v < 0x800) {
        u->buf[0] = (char)(0xC0 | (v >> 6));
        u->buf[1] = (char)(0x80 | (v & 0x3F));
        u->len = 2;
    } else if (v < 0x10000) {
        u->buf[0] = (char)(0xE0 | (v >> 12));
        u->buf[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        u->buf[2] = (char)(0x80 | (v & 0x3F));
        u->len = 3;
    } else {
        u->buf[0] = (char)(0xF0 | (v >> 18));
        u->buf[1] = (char)(0x80 | ((v >> 12) & 0x3F));
        u->buf[2] = (char)(0x80 | ((v >> 6) & 0x3F));
        u->buf[3] = (char)(0x80 | (v & 0x3F));
        u->len = 4;
    }
    u->cols = w;
    u->attaches = (w == 0);
    u->base = (w > 0);
}

struct san_result san_fit(char *out, size_t outsz, const char *in, size_t inlen,
                          int maxcols, unsigned flags)
{
    struct san_result r = { 0, false };
    if (outsz == 0)
        return r;
    out[0] = '\0';
    if (!in)
        return r;
    if (inlen == (size_t)-1)
        inlen = strnlen(in, SAN_MAX_INPUT + 1);
    bool capped = inlen > SAN_MAX_INPUT;
    if (capped)
        inlen = SAN_MAX_INPUT;

    const char *marker = (flags & SAN_ASCII) ? "~" : "\xE2\x80\xA6";
    size_t mlen = strlen(marker);
    int limit = maxcols < 0 ? 1 << 30 : maxcols;

    const unsigned char *s = (const unsigned char *)in;
    size_t pos = 0, olen = 0;
    int cols = 0;
    /* the last unit boundary (before a base character) where the marker
     * still fits in both columns and bytes */
    size_t cut_olen = 0;
    int cut_cols = 0;
    bool have_base = false;
    bool overflow = false;

    while (pos < inlen) {
        long cp;
        int n = san_decode(s + pos, inlen - pos, &cp);
        struct unit u;
        unit_for(&u, cp, flags, have_base);
        if (!u.attaches) {
            if (cols + 1 <= limit && olen + mlen + 1 <= outsz) {
                cut_olen = olen;
                cut_cols = cols;
            }
        }
        if (cols + u.cols > limit || olen + u.len + 1 > outsz) {
            overflow = true;
            break;
        }
        memcpy(out + olen, u.buf, u.len);
        olen += u.len;
        cols += u.cols;
        have_base = u.base || (have_base && u.attaches);
        pos += (size_t)n;
    }
    if (capped && !overflow) {
        /* more input than we look at: the end must show it was cut */
        if (cols + 1 <= limit && olen + mlen + 1 <= outsz) {
            cut_olen = olen;
            cut_cols = cols;
        }
        overflow = true;
    }
    if (overflow) {
        if (limit >= 1 && cut_olen + mlen + 1 <= outsz) {
            memcpy(out + cut_olen, marker, mlen);
            olen = cut_olen + mlen;
            cols = cut_cols + 1;
        } else {
            olen = 0;
            cols = 0;
        }
        r.cut = true;
    }
    out[olen] = '\0';
    r.cols = cols;
    return r;
}

/* Room for SAN_MAX_INPUT bytes at the worst growth: one byte of C1 (in two)
 * becomes "<U+0080>", four times its size. */
#define SAN_OUT_MAX (SAN_MAX_INPUT * 4 + 16)

int san_width(const char *in, size_t inlen, unsigned flags)
{
    char buf[SAN_OUT_MAX];
    return san_fit(buf, sizeof buf, in, inlen, -1, flags).cols;
}

void san_fputs(const char *s, FILE *f, unsigned flags)
{
    char buf[SAN_OUT_MAX];
    san_fit(buf, sizeof buf, s, (size_t)-1, -1, flags);
    fputs(buf, f);
}
