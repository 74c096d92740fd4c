/* The preview: {{placeholder}} substitution as the demo backend sends it,
 * and HTML bodies as plain text for a terminal. */
#include "authoring.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growing string; on allocation failure it stays failed and empty. */
struct buf {
    char *data;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (!b->data || b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }
static void putc_(struct buf *b, char c) { put(b, &c, 1); }

static char *finish(struct buf *b)
{
    if (b->failed) {
        free(b->data);
        return NULL;
    }
    if (!b->data)
        return strdup("");
    return b->data;
}

/* ---- placeholders (demo/backend/mail.c: mail_render_with) ---- */

static void put_value(struct buf *b, const json_t *v)
{
    char num[64];
    if (json_is_string(v)) {
        put(b, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        puts_(b, num);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%g", json_real_value(v));
        puts_(b, num);
    } else if (json_is_true(v)) {
        puts_(b, "true");
    } else if (json_is_false(v)) {
        puts_(b, "false");
    }
}

char *authoring_render_template(const char *tmpl, const char *attributes, const char *email)
{
    struct buf b = { 0 };
    json_t *attrs = attributes ? json_loads(attributes, 0, NULL) : NULL;
    const char *p = tmpl ? tmpl : "";
    const char *open;
    while ((open = strstr(p, "{{")) != NULL) {
        const char *close = strstr(open + 2, "}}");
        if (!close)
            break;
        put(&b, p, (size_t)(open - p));
        const char *k = open + 2, *e = close;
        while (k < e && (*k == ' ' || *k == '\t'))
            k++;
        while (e > k && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        size_t n = (size_t)(e - k);
        char key[128];
        if (n < sizeof key) {
            memcpy(key, k, n);
            key[n] = '\0';
            const json_t *v = json_is_object(attrs) ? json_object_get(attrs, key) : NULL;
            if (v)
                put_value(&b, v);
            else if (strcmp(key, "email") == 0 && email)
                puts_(&b, email);
        }
        p = close + 2;
    }
    puts_(&b, p);
    json_decref(attrs);
    return finish(&b);
}

/* ---- HTML as text ---- */

static const char *const html_tags[] = {
    "html", "body", "head", "p", "br", "div", "a", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "tr", "td", "th", "span", "strong", "b", "i", "em", "img", "hr", "blockquote", "style",
};

/* the tag's name at s (after '<' and an optional '/'), lowercased into name */
static size_t tag_name(const char *s, char *name, size_t n)
{
    size_t i = 0;
    while (i + 1 < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                         (i > 0 && s[i] >= '0' && s[i] <= '9'))) {
        name[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
        i++;
    }
    name[i] = '\0';
    return i;
}

bool authoring_is_html(const char *body)
{
    for (const char *p = body ? strchr(body, '<') : NULL; p; p = strchr(p + 1, '<')) {
        char name[16];
        const char *s = p + 1 + (p[1] == '/');
        size_t n = tag_name(s, name, sizeof name);
        if (!n || (s[n] != '>' && s[n] != ' ' && s[n] != '/' && s[n] != '\t' && s[n] != '\n'))
            continue;
        for (size_t i = 0; i < sizeof html_tags / sizeof html_tags[0]; i++)
            if (strcmp(name, html_tags[i]) == 0)
                return true;
    }
    return false;
}

static void put_utf8(struct buf *b, unsigned long cp)
{
    char u[4];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        put(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        put(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        put(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        put(b, u, 4);
    }
}

/* An entity at s ('&'): decoded into b; returns the bytes used, or 0 when
 * it is not one we know (the '&' is then literal). */
static size_t entity(const char *s, struct buf *b)
{
    static const struct { const char *name; unsigned long cp; } named[] = {
        { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }, { "nbsp", ' ' },
        { "mdash", 0x2014 }, { "ndash", 0x2013 }, { "hellip", 0x2026 }, { "copy", 0xA9 }, { "reg", 0xAE },
        { "trade", 0x2122 }, { "euro", 0x20AC }, { "pound", 0xA3 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
        { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "bull", 0x2022 }, { "middot", 0xB7 },
    };
    const char *semi = strchr(s, ';');
    if (!semi || semi - s > 10)
        return 0;
    if (s[1] == '#') {
        char *end;
        unsigned long cp = (s[2] == 'x' || s[2] == 'X') ? strtoul(s + 3, &end, 16) : strtoul(s + 2, &end, 10);
        if (end != semi || end == s + 2 || end == s + 3)
            return 0;
        put_utf8(b, cp);
        return (size_t)(semi - s) + 1;
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(semi - s - 1) == n && strncmp(s + 1, named[i].name, n) == 0) {
            put_utf8(b, named[i].cp);
            return n + 2;
        }
    }
    return 0;
}

/* Text with entities decoded (for attribute values). */
static void put_decoded(struct buf *b, const char *s, size_t n)
{
    char *tmp = strndup(s, n);
    if (!tmp) {
        b->failed = true;
        return;
    }
    for (const char *p = tmp; *p;) {
        size_t used = *p == '&' ? entity(p, b) : 0;
        if (used) {
            p += used;
        } else {
            putc_(b, *p);
            p++;
        }
    }
    free(tmp);
}

/* The writer of the text: whitespace collapses as HTML's does, and breaks
 * wait until the next word so that none trail or pile up. */
struct out {
    struct buf b;
    int pending_nl;     /* newlines owed before the next word (at most 2) */
    bool pending_space;
    size_t link_start;  /* where the current link's text began */
    char *href;
    int list_depth;
};

static void brk(struct out *o, int n)
{
    if (o->b.len == 0)
        return;
    if (n > o->pending_nl)
        o->pending_nl = n;
    o->pending_space = false;
}

static void word_char(struct out *o, const char *s, size_t n)
{
    if (o->pending_nl) {
        for (int i = 0; i < o->pending_nl; i++)
            putc_(&o->b, '\n');
        o->pending_nl = 0;
        o->pending_space = false;
    } else if (o->pending_space && o->b.len) {
        putc_(&o->b, ' ');
    }
    o->pending_space = false;
    put(&o->b, s, n);
}

/* the value of attribute attr in the tag text [s, e), or NULL; malloc'd */
static char *attr_value(const char *s, const char *e, const char *attr)
{
    size_t an = strlen(attr);
    for (const char *p = s; p + an < e; p++) {
        if (strncasecmp(p, attr, an) != 0 || (p > s && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n'))
            continue;
        const char *q = p + an;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= e || *q != '=')
            continue;
        q++;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        const char *v = q, *ve;
        if (q < e && (*q == '"' || *q == '\'')) {
            char quote = *q;
            v = q + 1;
            ve = memchr(v, quote, (size_t)(e - v));
            if (!ve)
                ve = e;
        } else {
            ve = v;
            while (ve < e && *ve != ' ' && *ve != '\t' && *ve != '>')
                ve++;
        }
        struct buf b = { 0 };
        put_decoded(&b, v, (size_t)(ve - v));
        return finish(&b);
    }
    return NULL;
}

static void open_tag(struct out *o, const char *name, bool closing, const char *s, const char *e)
{
    if (strcmp(name, "br") == 0) {
        if (o->b.len && o->pending_nl < 2)
            o->pending_nl++;
        o->pending_space = false;
    } else if (strcmp(name, "p") == 0 || strcmp(name, "blockquote") == 0 || strcmp(name, "table") == 0 ||
               (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2])) {
        brk(o, 2);
    } else if (strcmp(name, "div") == 0 || strcmp(name, "tr") == 0 || strcmp(name, "hr") == 0) {
        brk(o, 1);
    } else if (strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0) {
        if (!closing) {
            o->list_depth++;
            brk(o, 1);
        } else {
            o->list_depth -= o->list_depth > 0;
            brk(o, o->list_depth ? 1 : 2);
        }
    } else if (strcmp(name, "li") == 0) {
        if (!closing) {
            char mark[24];
            int depth = o->list_depth > 1 ? (o->list_depth < 8 ? o->list_depth : 8) : 1;
            snprintf(mark, sizeof mark, "%*s-", 2 * (depth - 1), "");
            brk(o, 1);
            word_char(o, mark, strlen(mark));
            o->pending_space = true;
        }
    } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
        if (!closing)
            o->pending_space = true;
    } else if (strcmp(name, "a") == 0) {
        if (!closing) {
            free(o->href);
            o->href = attr_value(s, e, "href");
            o->link_start = o->b.len;
        } else if (o->href) {
            const char *text = o->b.data ? o->b.data + o->link_start : "";
            while (*text == ' ' || *text == '\n')
                text++;
            if (o->href[0] && strcmp(text, o->href) != 0) {
                o->pending_space = o->pending_space || *text;
                word_char(o, "(", 1);
                put(&o->b, o->href, strlen(o->href));
                putc_(&o->b, ')');
            }
            free(o->href);
            o->href = NULL;
        }
    } else if (strcmp(name, "img") == 0) {
        char *alt = attr_value(s, e, "alt");
        if (alt && alt[0]) {
            o->pending_space = o->pending_space || o->b.len;
            word_char(o, "[", 1);
            put(&o->b, alt, strlen(alt));
            putc_(&o->b, ']');
        }
        free(alt);
    }
}

char *authoring_html_to_text(const char *html)
{
    struct out o;
    memset(&o, 0, sizeof o);
    const char *p = html ? html : "";
    while (*p) {
        if (*p == '<') {
            if (strncmp(p, "<!--", 4) == 0) {
                const char *end = strstr(p + 4, "-->");
                p = end ? end + 3 : p + strlen(p);
                continue;
            }
            bool closing = p[1] == '/';
            char name[16];
            size_t n = tag_name(p + 1 + closing, name, sizeof name);
            const char *gt = strchr(p, '>');
            if (!n && p[1] != '!') {
                /* not a tag: a literal '<' */
                word_char(&o, "<", 1);
                p++;
                continue;
            }
            if (!gt)
                break;
            if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
                             strcmp(name, "head") == 0 || strcmp(name, "title") == 0)) {
                char close[24];
                snprintf(close, sizeof close, "</%s", name);
                const char *end = gt;
                while ((end = strchr(end, '<')) != NULL && strncasecmp(end, close, strlen(close)) != 0)
                    end++;
                gt = end ? strchr(end, '>') : NULL;
                if (!gt)
                    break;
                p = gt + 1;
                continue;
            }
            open_tag(&o, name, closing, p + 1 + closing + n, gt);
            p = gt + 1;
        } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
            o.pending_space = true;
            p++;
        } else if (*p == '&') {
            struct buf tmp = { 0 };
            size_t used = entity(p, &tmp);
            if (used && tmp.data) {
                /* &nbsp; is a space that holds */
                if (strcmp(tmp.data, " ") == 0) {
                    if (o.b.len && !o.pending_nl) {
                        word_char(&o, " ", 1);
                    }
                } else {
                    word_char(&o, tmp.data, tmp.len);
                }
                p += used;
            } else {
                word_char(&o, "&", 1);
                p++;
            }
            free(tmp.data);
        } else {
            const char *s = p;
            while (*p && *p != '<' && *p != '&' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
                   *p != '\f')
                p++;
            word_char(&o, s, (size_t)(p - s));
        }
    }
    free(o.href);
    return finish(&o.b);
}

char *authoring_render(const char *tmpl, const char *attributes, const char *email)
{
    char *text = authoring_render_template(tmpl, attributes, email);
    if (!text || !authoring_is_html(text))
        return text;
    char *plain = authoring_html_to_text(text);
    free(text);
    return plain;
}
