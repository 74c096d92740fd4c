/* The Prometheus HTTP API client: requests on libcurl easy handles, one per
 * call, so calls on one client may run in several threads at once. The
 * responses are parsed by promapi_parse.c. */
#include "promapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "clock.h"
#include "poller.h"

#define MAX_REDIRS 3L

struct promapi {
    char *url;             /* without a trailing '/' */
    char *token_file;      /* NULL: none */
    int connect_ms, timeout_ms;
    size_t cap;
    const atomic_bool *cancel;
};

struct body {
    char *p;
    size_t n, cap, limit;
    bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t len = size * nmemb;
    if (len > b->limit - b->n) {
        b->too_big = true;
        return 0; /* ends the transfer */
    }
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *g = realloc(b->p, cap);
        if (!g)
            return 0;
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const atomic_bool *cancel = arg;
    return cancel && atomic_load(cancel) ? 1 : 0;
}

static void format_bytes(char *out, size_t outsz, size_t v)
{
    if (v >= ((size_t)1 << 20) && v % ((size_t)1 << 20) == 0)
        snprintf(out, outsz, "%zu MiB", v >> 20);
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(out, outsz, "%zu KiB", v >> 10);
    else
        snprintf(out, outsz, "%zu bytes", v);
}

struct promapi *promapi_new(const struct promapi_opts *o, char *err, size_t errsz)
{
    const char *url = o && o->url ? o->url : "";
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        snprintf(err, errsz, "prometheus_url: '%.200s' is not an http:// or https:// URL", url);
        return NULL;
    }
    if (strpbrk(url, "?# \t\r\n")) {
        snprintf(err, errsz, "prometheus_url: '%.200s' has a query, a fragment or a space: give "
                             "the server's base URL (http://host:9090, or with its path prefix)",
                 url);
        return NULL;
    }
    /* the token file is checked now, so that a bad one is said at once */
    char *tok = NULL;
    if (poller_load_token(o->token_file, &tok, err, errsz) != 0)
        return NULL;
    free(tok);
    struct promapi *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url)) ||
        (o->token_file && o->token_file[0] && !(c->token_file = strdup(o->token_file)))) {
        promapi_free(&c);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    size_t len = strlen(c->url);
    while (len > 0 && c->url[len - 1] == '/')
        c->url[--len] = '\0';
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : PROMAPI_DEFAULT_TIMEOUT_MS;
    c->connect_ms = o->connect_timeout_ms > 0 && o->connect_timeout_ms < c->timeout_ms
                        ? o->connect_timeout_ms
                        : c->timeout_ms;
    c->cap = o->body_cap ? o->body_cap : PROMAPI_DEFAULT_BODY_CAP;
    c->cancel = o->cancel;
    return c;
}

void promapi_free(struct promapi **c)
{
    if (!c || !*c)
        return;
    free((*c)->url);
    free((*c)->token_file);
    free(*c);
    *c = NULL;
}

const char *promapi_url(const struct promapi *c) { return c->url; }

/* A short, specific message for a failed transfer, one line of ASCII. */
static void transfer_error(const struct promapi *c, CURL *e, CURLcode rc, const struct body *b,
                           const char *ebuf, char *err, size_t errsz)
{
    char detail[CURL_ERROR_SIZE], cap[32];
    const char *d = ebuf && ebuf[0] ? ebuf : curl_easy_strerror(rc);
    size_t n = 0;
    for (; d[n] && n + 1 < sizeof detail; n++)
        detail[n] = d[n] >= 0x20 && d[n] < 0x7f ? d[n] : ' ';
    detail[n] = '\0';
    format_bytes(cap, sizeof cap, c->cap);
    curl_off_t connected = 0;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connected);
        if (strstr(detail, "too slow"))
            snprintf(err, errsz, "too slow: under 1 byte/s for %d s",
                     c->timeout_ms >= 2000 ? c->timeout_ms / 1000 : 1);
        else if (connected == 0)
            snprintf(err, errsz, "timeout after %d ms (connecting)", c->connect_ms);
        else
            snprintf(err, errsz, "timeout after %d ms", c->timeout_ms);
        return;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
            snprintf(err, errsz, "response larger than the %s cap", cap);
        else
            snprintf(err, errsz, "out of memory");
        return;
    case CURLE_ABORTED_BY_CALLBACK:
        snprintf(err, errsz, "cancelled");
        return;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(err, errsz, "too many redirects (more than %ld)", MAX_REDIRS);
        return;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(err, errsz, "%s (only http and https)", detail);
        return;
    default:
        snprintf(err, errsz, "%s", detail);
        return;
    }
}

/* GETs url + endpoint + "?" + params into *b. Returns the HTTP status, or
 * -1 with "endpoint: why" in err when no response was read whole. */
static int fetch(const struct promapi *c, const char *endpoint, const char *params, struct body *b,
                 char *err, size_t errsz)
{
    memset(b, 0, sizeof *b);
    b->limit = c->cap;
    char *tok = NULL, why[PROMAPI_ERR_MAX];
    if (poller_load_token(c->token_file, &tok, why, sizeof why) != 0) {
        snprintf(err, errsz, "%s: %s", endpoint, why);
        return -1;
    }
    size_t ulen = strlen(c->url) + strlen(endpoint) + (params ? strlen(params) : 0) + 2;
    char *url = malloc(ulen);
    CURL *e = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/json");
    char ebuf[CURL_ERROR_SIZE] = "";
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    long code = 0;
    if (url && e && hdr) {
        snprintf(url, ulen, "%s%s%s%s", c->url, endpoint, params ? "?" : "", params ? params : "");
        long t = c->timeout_ms;
        bool ok = true;
        ok &= curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_ms) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, t >= 2000 ? t / 1000 : 1L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_USERAGENT, "marketing/" MARKETING_VERSION) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)b) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->cap) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_NOPROGRESS, c->cancel ? 0L : 1L) == CURLE_OK;
        if (c->cancel) {
            ok &= curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
            ok &= curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)c->cancel) == CURLE_OK;
        }
        if (tok) {
            ok &= curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) == CURLE_OK;
            ok &= curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, tok) == CURLE_OK;
        }
        rc = ok ? curl_easy_perform(e) : CURLE_FAILED_INIT;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    }
    if (tok) {
        memset(tok, 0, strlen(tok));
        free(tok);
    }
    curl_slist_free_all(hdr);
    free(url);
    if (rc == CURLE_OK) {
        curl_easy_cleanup(e);
        return (int)code;
    }
    transfer_error(c, e, rc, b, ebuf, why, sizeof why);
    curl_easy_cleanup(e);
    snprintf(err, errsz, "%s: %s", endpoint, why);
    free(b->p);
    memset(b, 0, sizeof *b);
    return -1;
}

/* ms as seconds with three decimals, as the API takes times. */
static void format_secs(int64_t ms, char *buf, size_t sz)
{
    unsigned long long a = ms < 0 ? 0ULL - (unsigned long long)ms : (unsigned long long)ms;
    snprintf(buf, sz, "%s%llu.%03llu", ms < 0 ? "-" : "", a / 1000, a % 1000);
}

/* "query=<expr escaped>" and the given name=value pairs (values plain). */
static char *params_of(const char *expr, const char *const *kv, size_t n)
{
    CURL *e = curl_easy_init();
    char *q = e ? curl_easy_escape(e, expr, 0) : NULL;
    char *out = NULL;
    if (q) {
        size_t len = strlen(q) + 8;
        for (size_t i = 0; i < n; i++)
            len += strlen(kv[i]) + 2;
        out = malloc(len);
        if (out) {
            size_t at = (size_t)snprintf(out, len, "query=%s", q);
            for (size_t i = 0; i + 1 < n; i += 2)
                at += (size_t)snprintf(out + at, len - at, "&%s=%s", kv[i], kv[i + 1]);
        }
        curl_free(q);
    }
    curl_easy_cleanup(e);
    return out;
}

int promapi_query(const struct promapi *c, const char *expr, int64_t at_ms, struct promql_result *out,
                  int64_t *t_ms, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    char at[40];
    const char *kv[2] = { "time", at };
    format_secs(at_ms, at, sizeof at);
    int64_t now = at_ms == PROMAPI_NOW ? clock_real_ms() : at_ms;
    char *params = params_of(expr, kv, at_ms == PROMAPI_NOW ? 0 : 2);
    if (!params) {
        snprintf(err, errsz, "/api/v1/query: out of memory");
        return -1;
    }
    struct body b;
    int status = fetch(c, "/api/v1/query", params, &b, err, errsz);
    free(params);
    if (status < 0)
        return -1;
    int64_t t = now;
    int rc = promapi_parse_query(b.p, b.n, status, out, &t, err, errsz);
    free(b.p);
    if (rc == 0 && t_ms)
        *t_ms = t;
    return rc;
}

int promapi_query_range(const struct promapi *c, const char *expr, int64_t start_ms, int64_t end_ms,
                        int64_t step_ms, struct promapi_matrix *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    char start[40], end[40], step[40];
    format_secs(start_ms, start, sizeof start);
    format_secs(end_ms, end, sizeof end);
    format_secs(step_ms, step, sizeof step);
    const char *kv[6] = { "start", start, "end", end, "step", step };
    char *params = params_of(expr, kv, 6);
    if (!params) {
        snprintf(err, errsz, "/api/v1/query_range: out of memory");
        return -1;
    }
    struct body b;
    int status = fetch(c, "/api/v1/query_range", params, &b, err, errsz);
    free(params);
    if (status < 0)
        return -1;
    int rc = promapi_parse_query_range(b.p, b.n, status, out, err, errsz);
    free(b.p);
    return rc;
}

int promapi_alerts(const struct promapi *c, struct promapi_alerts *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    struct body b;
    int status = fetch(c, "/api/v1/alerts", NULL, &b, err, errsz);
    if (status < 0)
        return -1;
    int rc = promapi_parse_alerts(b.p, b.n, status, out, err, errsz);
    free(b.p);
    return rc;
}

int promapi_rules(const struct promapi *c, struct promapi_rules *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    struct body b;
    int status = fetch(c, "/api/v1/rules", NULL, &b, err, errsz);
    if (status < 0)
        return -1;
    int rc = promapi_parse_rules(b.p, b.n, status, out, err, errsz);
    free(b.p);
    return rc;
}
