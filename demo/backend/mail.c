/* mail: message composition. */
#include "mail.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void mail_value(struct strbuf *out, json_t *v)
{
    if (json_is_string(v))
        strbuf_append(out, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        strbuf_printf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        strbuf_printf(out, "%g", json_real_value(v));
    else if (json_is_true(v))
        strbuf_puts(out, "true");
    else if (json_is_false(v))
        strbuf_puts(out, "false");
}

static void mail_render_with(struct strbuf *out, const char *tmpl, json_t *attrs, const char *email)
{
    const char *p = tmpl;
    const char *open, *close, *k, *e;
    char key[128];
    size_t n;
    json_t *v;

    while ((open = strstr(p, "{{")) != NULL) {
        close = strstr(open + 2, "}}");
        if (!close)
            break;
        strbuf_append(out, p, (size_t)(open - p));
        k = open + 2;
        e = close;
        while (k < e && (*k == ' ' || *k == '\t'))
            k++;
        while (e > k && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        n = (size_t)(e - k);
        if (n < sizeof key) {
            memcpy(key, k, n);
            key[n] = '\0';
            v = json_is_object(attrs) ? json_object_get(attrs, key) : NULL;
            if (v)
                mail_value(out, v);
            else if (strcmp(key, "email") == 0 && email)
                strbuf_puts(out, email);
        }
        p = close + 2;
    }
    strbuf_puts(out, p);
}

/* a header value: control characters (CR and LF above all) become spaces */
static void mail_header(struct strbuf *out, const char *name, const char *value)
{
    const unsigned char *p;

    strbuf_puts(out, name);
    strbuf_puts(out, ": ");
    for (p = (const unsigned char *)value; *p; p++)
        strbuf_putc(out, (char)(*p < 0x20 || *p == 0x7f ? ' ' : *p));
    strbuf_putc(out, '\n');
}

static void mail_base64(struct strbuf *out, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    unsigned v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        strbuf_putc(out, tab[v >> 18]);
        strbuf_putc(out, tab[(v >> 12) & 63]);
        strbuf_putc(out, tab[(v >> 6) & 63]);
        strbuf_putc(out, tab[v & 63]);
    }
    if (i < n) {
        v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
        strbuf_putc(out, tab[v >> 18]);
        strbuf_putc(out, tab[(v >> 12) & 63]);
        strbuf_putc(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
        strbuf_putc(out, '=');
    }
}

/* Subject: as is when ASCII, else RFC 2047 encoded words of at most 45
 * bytes each, never splitting a UTF-8 sequence, folded onto new lines */
static void mail_subject(struct strbuf *out, const char *subject)
{
    struct strbuf clean;
    const unsigned char *p, *s;
    size_t n, len, take;
    bool ascii = true;

    strbuf_init(&clean);
    for (p = (const unsigned char *)subject; *p; p++) {
        strbuf_putc(&clean, (char)(*p < 0x20 || *p == 0x7f ? ' ' : *p));
        if (*p >= 0x80)
            ascii = false;
    }
    s = (const unsigned char *)strbuf_str(&clean);
    if (!s) {
        strbuf_free(&clean);
        return;
    }
    if (ascii) {
        mail_header(out, "Subject", (const char *)s);
        strbuf_free(&clean);
        return;
    }
    strbuf_puts(out, "Subject: ");
    len = clean.len;
    for (n = 0; n < len; n += take) {
        take = len - n < 45 ? len - n : 45;
        while (take > 1 && n + take < len && (s[n + take] & 0xc0) == 0x80)
            take--;
        if (n)
            strbuf_puts(out, "\n ");
        strbuf_puts(out, "=?UTF-8?B?");
        mail_base64(out, s + n, take);
        strbuf_puts(out, "?=");
    }
    strbuf_putc(out, '\n');
    strbuf_free(&clean);
}

void mail_compose(struct strbuf *out, const struct mail_parts *m)
{
    json_t *attrs = m->attributes ? json_loads(m->attributes, 0, NULL) : NULL;
    struct strbuf text;
    char date[64], id[160];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    snprintf(id, sizeof id, "<%c%lld.%s@" BACKEND_NAME ".invalid>", m->test ? 't' : 'd', m->delivery_id,
             m->campaign_id);

    mail_header(out, "From", m->from);
    mail_header(out, "To", m->to);
    strbuf_init(&text);
    mail_render_with(&text, m->subject, attrs, m->to);
    mail_subject(out, strbuf_str(&text) ? strbuf_str(&text) : "");
    mail_header(out, "Date", date);
    mail_header(out, "Message-ID", id);
    strbuf_puts(out, "MIME-Version: 1.0\n");
    strbuf_puts(out, "Content-Type: text/plain; charset=utf-8\n");
    strbuf_puts(out, "Content-Transfer-Encoding: 8bit\n");
    mail_header(out, "X-Campaign-Id", m->campaign_id);
    if (m->variant)
        mail_header(out, "X-Variant", m->variant);
    if (m->test)
        mail_header(out, "X-Test-Send", "yes");
    strbuf_putc(out, '\n');
    strbuf_reset(&text);
    mail_render_with(&text, m->body, attrs, m->to);
    if (strbuf_str(&text)) {
        strbuf_append(out, text.data, text.len);
        if (text.len == 0 || text.data[text.len - 1] != '\n')
            strbuf_putc(out, '\n');
    }
    strbuf_free(&text);
    json_decref(attrs);
}
