#include "poller.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "healthjson.h"
#include "promtext.h"
#include "ruleng.h"
#include "threadwait.h"
#include "wakepipe.h"

#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_BODY_CAP ((size_t)16 << 20)
#define MAX_BODY_CAP ((size_t)1 << 30)
#define DEFAULT_HISTORY_S 1800
#define MAX_HISTORY_POINTS 100000
#define STOP_WAIT_MS 900
#define MAX_WAIT_MS 1000
#define TOKEN_MAX 16384
#define MAX_REDIRS 3L

/* ---------------------------------------------------------------------- */
/* The worker                                                              */

enum job_kind { JOB_METRICS, JOB_HEALTH, JOB_READY };

struct body {
    char *p;
    size_t n, cap, limit;
    bool over, oom;
};

struct job {
    enum job_kind kind;
    struct endpoint_status st;   /* st.url is ours */
    CURL *easy;
    struct curl_slist *headers;
    struct body body;
    char errbuf[CURL_ERROR_SIZE];
    bool busy;                   /* in the multi handle */
    int64_t started;             /* monotonic ms */
    int64_t started_real;        /* epoch ms, for the series store */
    int64_t next;                /* monotonic ms: the next try (health, ready) */
    /* metrics */
    struct poll_scrape *last;    /* the last good scrape */
    int64_t last_mono;           /* when it started */
    double rate[POLL_NCOUNTERS]; /* between the last two good scrapes */
    /* health, ready */
    struct healthjson doc;       /* the last good document */
    bool have;
    int64_t as_of;               /* epoch ms of doc */
};

struct poller {
    pthread_t thread;
    int wake_fd;
    int interval_ms, timeout_ms, history_s;
    size_t body_cap;
    char *token_file;
    CURLM *multi;
    atomic_bool stop;

    /* the worker's own: */
    struct job *jobs;            /* the metrics targets, then health, ready */
    size_t n_targets, n_jobs;
    struct job *health, *ready;  /* NULL when not polled */
    bool round_busy, round_good;
    int64_t round_started, round_next;
    uint64_t rounds;
    struct ruleng *eng;          /* NULL: no rules evaluated here */
    struct rate_point *hist;     /* a ring of hist_cap */
    size_t hist_cap, hist_head, hist_n;

    bool sync_init;              /* lock and done_cond exist */
    pthread_mutex_t lock;        /* guards the fields below */
    pthread_cond_t done_cond;
    bool done;                   /* the thread has left run() */
    bool orphaned;               /* poller_stop gave up waiting: the thread frees */
    struct poll_snapshot *pending;
};

static void oneline_ascii(char *dst, size_t dstsz, const char *src)
{
    size_t n = 0;
    for (; src && *src && n + 1 < dstsz; src++) {
        unsigned char c = (unsigned char)*src;
        dst[n++] = (c >= 0x20 && c < 0x7F) ? (char)c : ' ';
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
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

/* ---- the token file ---- */

/* Reads the bearer token: NULL with *tok NULL when none is configured; -1
 * with a message naming the file when it cannot be used. */
int poller_load_token(const char *path, char **tok, char *err, size_t errsz)
{
    *tok = NULL;
    if (!path || !*path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errsz, "token file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "token file %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errsz, "token file %s: mode %04o lets group or others read it; chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
        close(fd);
        return -1;
    }
    char *buf = malloc(TOKEN_MAX + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, TOKEN_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == TOKEN_MAX + 1)
            break;
    }
    close(fd);
    const char *why = NULL;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    if (n > TOKEN_MAX)
        why = "larger than 16 KiB";
    else if (n == 0)
        why = "empty";
    for (size_t i = 0; !why && i < n; i++)
        if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7F)
            why = "the token has a space, a control character or a non-ASCII byte";
    if (why) {
        explicit_bzero(buf, TOKEN_MAX + 1);
        free(buf);
        snprintf(err, errsz, "token file %s: %s", path, why);
        return -1;
    }
    buf[n] = '\0';
    *tok = buf;
    return 0;
}

static void free_token(char **tok)
{
    if (*tok) {
        explicit_bzero(*tok, strlen(*tok));
        free(*tok);
        *tok = NULL;
    }
}

/* ---- requests ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t n = size * nmemb;
    if (n > b->limit - b->n) {
        b->over = true;   /* decoded bytes: a compression bomb stops here */
        return 0;
    }
    if (b->n + n > b->cap) {
        size_t ncap = b->cap ? b->cap : 65536;
        while (ncap < b->n + n)
            ncap *= 2;
        if (ncap > b->limit)
            ncap = b->limit;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = true;
            return 0;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return n;
}

static void body_reset(struct body *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->over = b->oom = false;
}

static int job_init(struct poller *p, struct job *j, enum job_kind kind, const char *url)
{
    j->kind = kind;
    j->st.url = strdup(url);
    j->body.limit = p->body_cap;
    j->doc.uptime = -1;
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        j->rate[k] = NAN;
    j->headers = curl_slist_append(NULL, kind == JOB_METRICS
                                             ? "Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
                                             : "Accept: application/json");
    j->easy = curl_easy_init();
    if (!j->st.url || !j->headers || !j->easy)
        return -1;
    CURL *e = j->easy;
    long t = p->timeout_ms;
    bool ok = true;
    ok &= curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)j) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, t >= 2000 ? t / 1000 : 1L) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_USERAGENT, "marketing/" MARKETING_VERSION) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&j->body) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->body_cap) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf) == CURLE_OK;
    /* do not wait for a name lookup thread when the handle goes away */
    ok &= curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L) == CURLE_OK;
    return ok ? 0 : -1;
}

/* Records how an attempt ended. */
static void job_record(struct job *j, const char *error, int http_status)
{
    j->st.ok = error == NULL;
    j->st.last_try_ms = clock_real_ms();
    j->st.http_status = http_status;
    j->st.tries++;
    j->st.duration_ms = (int)(clock_mono_ms() - j->started);
    if (j->st.ok) {
        j->st.oks++;
        j->st.last_ok_ms = j->st.last_try_ms;
        j->st.error[0] = '\0';
    } else {
        oneline_ascii(j->st.error, sizeof j->st.error, error);
    }
}

/* Starts a request; on failure records why and returns -1. */
static int job_start(struct poller *p, struct job *j, const char *token, int64_t now)
{
    j->started = now;
    j->started_real = clock_real_ms();
    body_reset(&j->body);
    j->errbuf[0] = '\0';
    if (token) {
        curl_easy_setopt(j->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(j->easy, CURLOPT_XOAUTH2_BEARER, token);
    }
    CURLMcode mc = curl_multi_add_handle(p->multi, j->easy);
    if (mc != CURLM_OK) {
        job_record(j, curl_multi_strerror(mc), 0);
        return -1;
    }
    j->busy = true;
    return 0;
}

/* A short, specific message for a failed transfer. */
static void transfer_error(const struct poller *p, struct job *j, CURLcode rc, char *err, size_t errsz)
{
    long oserr = 0;
    curl_easy_getinfo(j->easy, CURLINFO_OS_ERRNO, &oserr);
    char detail[CURL_ERROR_SIZE];
    oneline_ascii(detail, sizeof detail, j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
    char cap[32];
    format_bytes(cap, sizeof cap, p->body_cap);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connected = 0;
        curl_easy_getinfo(j->easy, CURLINFO_CONNECT_TIME_T, &connected);
        if (strstr(detail, "too slow"))
            snprintf(err, errsz, "too slow: under 1 byte/s for %d s", p->timeout_ms >= 2000 ? p->timeout_ms / 1000 : 1);
        else if (connected == 0)
            snprintf(err, errsz, "timeout after %d ms (connecting)", p->timeout_ms);
        else
            snprintf(err, errsz, "timeout after %d ms", p->timeout_ms);
        return;
    }
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (j->body.oom)
            snprintf(err, errsz, "out of memory");
        else if (j->body.over || rc == CURLE_FILESIZE_EXCEEDED)
            snprintf(err, errsz, "body larger than %s", cap);
        else
            snprintf(err, errsz, "%s", detail);
        return;
    case CURLE_COULDNT_CONNECT:
        if (oserr == ECONNREFUSED || strstr(detail, "refused"))
            snprintf(err, errsz, "connection refused");
        else if (oserr == EHOSTUNREACH)
            snprintf(err, errsz, "host unreachable");
        else if (oserr == ENETUNREACH)
            snprintf(err, errsz, "network unreachable");
        else
            snprintf(err, errsz, "cannot connect: %s", detail);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(err, errsz, "cannot resolve the host name");
        return;
    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(err, errsz, "cannot resolve the proxy");
        return;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(err, errsz, "too many redirects (more than %ld)", MAX_REDIRS);
        return;
    case CURLE_UNSUPPORTED_PROTOCOL: {
        /* curl says: Protocol "file" not supported or disabled in libcurl */
        const char *q = strchr(detail, '"');
        const char *q2 = q ? strchr(q + 1, '"') : NULL;
        if (q2 && q2 - q <= 17)
            snprintf(err, errsz, "unsupported protocol %.*s (only http and https)", (int)(q2 - q + 1), q);
        else
            snprintf(err, errsz, "unsupported protocol (only http and https)");
        return;
    }
    case CURLE_URL_MALFORMAT:
        snprintf(err, errsz, "malformed URL");
        return;
    case CURLE_GOT_NOTHING:
        snprintf(err, errsz, "empty reply");
        return;
    case CURLE_PARTIAL_FILE:
        snprintf(err, errsz, "truncated response (%s)", detail);
        return;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (oserr == ECONNRESET)
            snprintf(err, errsz, "connection reset");
        else
            snprintf(err, errsz, "%s", detail);
        return;
    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(err, errsz, "TLS verification failed: %s", detail);
        return;
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(err, errsz, "TLS handshake failed: %s", detail);
        return;
    case CURLE_BAD_CONTENT_ENCODING:
        snprintf(err, errsz, "bad content encoding: %s", detail);
        return;
    default:
        snprintf(err, errsz, "%s", detail);
        return;
    }
}

static void metrics_done(struct poller *p, struct job *j, CURLcode rc, long code)
{
    char err[256];
    int dur = (int)(clock_mono_ms() - j->started);
    size_t target = (size_t)(j - p->jobs);
    if (rc != CURLE_OK) {
        transfer_error(p, j, rc, err, sizeof err);
    } else if (code < 200 || code > 299) {
        snprintf(err, sizeof err, "HTTP %ld", code);
    } else {
        /* the format by the answer's Content-Type, as Prometheus chooses */
        char *ct = NULL;
        curl_easy_getinfo(j->easy, CURLINFO_CONTENT_TYPE, &ct);
        enum promtext_format fmt = promtext_format_for_content_type(ct);
        if (p->eng)
            ruleng_scraped_as(p->eng, target, fmt, j->body.p ? j->body.p : "", j->body.n, j->started_real, dur);
        struct poll_scrape *s = poll_scrape_parse_as(fmt, j->body.p, j->body.n, err, sizeof err);
        if (s) {
            if (j->last)
                poll_scrape_rates(j->last, s, j->started - j->last_mono, j->rate);
            poll_scrape_free(&j->last);
            j->last = s;
            j->last_mono = j->started;
            p->round_good = true;
            job_record(j, NULL, (int)code);
            return;
        }
        job_record(j, err, (int)code);
        return;
    }
    if (p->eng)
        ruleng_scrape_failed(p->eng, target, err, j->started_real, dur);
    job_record(j, err, (int)code);
}

static void health_done(struct poller *p, struct job *j, CURLcode rc, long code)
{
    char err[256];
    if (rc != CURLE_OK) {
        transfer_error(p, j, rc, err, sizeof err);
    } else if ((code >= 200 && code <= 299) || code == 503) {
        /* an unhealthy service answers 503 with the document that says why */
        struct healthjson d;
        if (healthjson_parse(j->body.p, j->body.n, &d, err, sizeof err) == 0) {
            healthjson_free(&j->doc);
            j->doc = d;
            j->have = true;
            j->as_of = clock_real_ms();
            job_record(j, NULL, (int)code);
            return;
        }
        if (code == 503)
            snprintf(err, sizeof err, "HTTP %ld", code);
    } else {
        snprintf(err, sizeof err, "HTTP %ld", code);
    }
    job_record(j, err, (int)code);
}

/* ---- snapshots ---- */

struct sums {
    bool have;
    double total[POLL_NCOUNTERS], rate[POLL_NCOUNTERS], gauge[POLL_NGAUGES];
};

static void compute_sums(const struct poller *p, struct sums *s)
{
    size_t n[POLL_NCOUNTERS] = { 0 };
    memset(s, 0, sizeof *s);
    for (int g = 0; g < POLL_NGAUGES; g++)
        s->gauge[g] = NAN;
    for (size_t t = 0; t < p->n_targets; t++) {
        const struct job *j = &p->jobs[t];
        if (!j->last)
            continue;
        s->have = true;
        for (int k = 0; k < POLL_NCOUNTERS; k++) {
            if (!j->last->present[k])
                continue;
            n[k]++;
            s->total[k] += j->last->total[k];
            s->rate[k] += j->rate[k];   /* a NAN here makes the sum NAN */
        }
        for (int g = 0; g < POLL_NGAUGES; g++) {
            double v = j->last->gauge[g];
            if (!isnan(v) && (isnan(s->gauge[g]) || v > s->gauge[g]))
                s->gauge[g] = v;
        }
    }
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        if (n[k] == 0)
            s->total[k] = s->rate[k] = NAN;
}

static char *sdup(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static void copy_status(struct endpoint_status *dst, const struct endpoint_status *src, bool *oom)
{
    *dst = *src;
    dst->url = sdup(src->url, oom);
}

static void health_info_free(struct health_info *h)
{
    free(h->ep.url);
    free(h->status);
    free(h->version);
    for (size_t i = 0; i < h->n_checks; i++) {
        free(h->check_names ? h->check_names[i] : NULL);
        free(h->check_status ? h->check_status[i] : NULL);
    }
    free(h->check_names);
    free(h->check_status);
    memset(h, 0, sizeof *h);
}

static void copy_health(struct health_info *dst, const struct job *j, bool *oom)
{
    memset(dst, 0, sizeof *dst);
    dst->uptime = -1;
    if (!j)
        return;
    copy_status(&dst->ep, &j->st, oom);
    if (!j->have)
        return;
    dst->have = true;
    dst->status = sdup(j->doc.status, oom);
    dst->version = sdup(j->doc.version, oom);
    dst->uptime = j->doc.uptime;
    dst->as_of_ms = j->as_of;
    if (j->doc.n_checks == 0)
        return;
    dst->check_names = calloc(j->doc.n_checks, sizeof *dst->check_names);
    dst->check_status = calloc(j->doc.n_checks, sizeof *dst->check_status);
    if (!dst->check_names || !dst->check_status) {
        *oom = true;
        return;
    }
    dst->n_checks = j->doc.n_checks;
    for (size_t i = 0; i < j->doc.n_checks; i++) {
        dst->check_names[i] = sdup(j->doc.check_names[i], oom);
        dst->check_status[i] = sdup(j->doc.check_status[i], oom);
    }
}

void poll_snapshot_free(struct poll_snapshot **sp)
{
    struct poll_snapshot *s = *sp;
    if (!s)
        return;
    for (size_t i = 0; s->targets && i < s->n_targets; i++)
        free(s->targets[i].url);
    free(s->targets);
    free(s->sent_hist);
    rule_views_free(&s->rules, &s->n_rules);
    query_views_free(&s->queries, &s->n_queries);
    health_info_free(&s->health);
    health_info_free(&s->ready);
    free(s);
    *sp = NULL;
}

static void hist_add(struct poller *p, int64_t t, double v)
{
    if (p->hist_cap == 0)
        return;
    size_t i = (p->hist_head + p->hist_n) % p->hist_cap;
    p->hist[i] = (struct rate_point){ .t_ms = t, .v = v };
    if (p->hist_n < p->hist_cap)
        p->hist_n++;
    else
        p->hist_head = (p->hist_head + 1) % p->hist_cap;
}

static struct poll_snapshot *build(const struct poller *p)
{
    bool oom = false;
    struct poll_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->as_of_ms = clock_real_ms();
    s->rounds = p->rounds;
    if (p->n_targets) {
        s->targets = calloc(p->n_targets, sizeof *s->targets);
        if (!s->targets)
            oom = true;
        else
            s->n_targets = p->n_targets;
        for (size_t t = 0; s->targets && t < p->n_targets; t++)
            copy_status(&s->targets[t], &p->jobs[t].st, &oom);
    }
    struct sums m;
    compute_sums(p, &m);
    s->have_counters = m.have;
    s->sent = m.total[POLL_SENT];
    s->opened = m.total[POLL_OPENED];
    s->clicked = m.total[POLL_CLICKED];
    s->failed = m.total[POLL_FAILED];
    s->bounced = m.total[POLL_BOUNCED];
    s->http_requests = m.total[POLL_HTTP];
    s->http_5xx = m.total[POLL_HTTP_5XX];
    s->db_conn_active = m.gauge[POLL_DB_ACTIVE];
    s->db_conn_max = m.gauge[POLL_DB_MAX];
    s->sent_rate = m.rate[POLL_SENT];
    s->opened_rate = m.rate[POLL_OPENED];
    s->clicked_rate = m.rate[POLL_CLICKED];
    s->failed_rate = m.rate[POLL_FAILED];
    s->bounced_rate = m.rate[POLL_BOUNCED];
    s->http_rate = m.rate[POLL_HTTP];
    s->error_rate = m.rate[POLL_HTTP_5XX];
    if (p->hist_n) {
        s->sent_hist = malloc(p->hist_n * sizeof *s->sent_hist);
        if (!s->sent_hist)
            oom = true;
        int64_t oldest = s->as_of_ms - (int64_t)p->history_s * 1000;
        for (size_t i = 0; s->sent_hist && i < p->hist_n; i++) {
            const struct rate_point *r = &p->hist[(p->hist_head + i) % p->hist_cap];
            if (r->t_ms >= oldest)
                s->sent_hist[s->sent_hist_n++] = *r;
        }
    }
    copy_health(&s->health, p->health, &oom);
    copy_health(&s->ready, p->ready, &oom);
    s->have_rules = p->eng != NULL;
    if (p->eng) {
        if (ruleng_views(p->eng, &s->rules, &s->n_rules, &s->queries, &s->n_queries) != 0)
            oom = true;
        ruleng_usage(p->eng, &s->tsdb_series, &s->tsdb_samples);
    }
    if (oom)
        poll_snapshot_free(&s);
    return s;
}

static void publish(struct poller *p)
{
    struct poll_snapshot *s = build(p);
    if (!s)
        return; /* out of memory: the next one will do */
    pthread_mutex_lock(&p->lock);
    struct poll_snapshot *old = p->pending; /* never taken: the UI was busy */
    p->pending = s;
    pthread_mutex_unlock(&p->lock);
    poll_snapshot_free(&old);
    wakepipe_signal(p->wake_fd);
}

/* ---- the loop ---- */

static void round_begin(struct poller *p, int64_t now)
{
    p->round_busy = true;
    p->round_good = false;
    p->round_started = now;
    char err[256];
    char *token = NULL;
    int trc = poller_load_token(p->token_file, &token, err, sizeof err);
    for (size_t t = 0; t < p->n_targets; t++) {
        struct job *j = &p->jobs[t];
        if (trc != 0) {
            j->started = now;
            job_record(j, err, 0);
        } else {
            job_start(p, j, token, now);
        }
    }
    free_token(&token);
}

static bool round_over(const struct poller *p)
{
    for (size_t t = 0; t < p->n_targets; t++)
        if (p->jobs[t].busy)
            return false;
    return true;
}

static void round_end(struct poller *p)
{
    p->round_busy = false;
    p->rounds++;
    p->round_next = p->round_started + p->interval_ms;
    if (p->round_good) {
        struct sums m;
        compute_sums(p, &m);
        hist_add(p, clock_real_ms(), m.rate[POLL_SENT]);
    }
    if (p->eng)
        ruleng_eval(p->eng, clock_real_ms());
}

static void probe_begin(struct poller *p, struct job *j, int64_t now)
{
    char err[256];
    char *token = NULL;
    j->next = now + p->interval_ms;
    if (poller_load_token(p->token_file, &token, err, sizeof err) != 0) {
        j->started = now;
        job_record(j, err, 0);
        return;
    }
    job_start(p, j, token, now);
    free_token(&token);
}

static void job_done(struct poller *p, struct job *j, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(p->multi, j->easy);
    j->busy = false;
    if (j->kind == JOB_METRICS)
        metrics_done(p, j, rc, code);
    else
        health_done(p, j, rc, code);
    body_reset(&j->body);
}

/* Frees p and everything it holds; the thread is gone, or is the caller. */
static void free_all(struct poller *p);

static void *run(void *arg)
{
    struct poller *p = arg;
    int64_t now = clock_mono_ms();
    p->round_next = now;
    publish(p); /* the targets, before any answer */
    while (!atomic_load(&p->stop)) {
        now = clock_mono_ms();
        bool news = false;
        if (p->n_targets && !p->round_busy && now >= p->round_next)
            round_begin(p, now);
        struct job *probes[2] = { p->health, p->ready };
        for (int i = 0; i < 2; i++)
            if (probes[i] && !probes[i]->busy && now >= probes[i]->next) {
                probe_begin(p, probes[i], now);
                news |= !probes[i]->busy; /* failed before it started */
            }
        int running = 0;
        curl_multi_perform(p->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *easy = m->easy_handle;
            CURLcode rc = m->data.result; /* m dies with the handle's removal */
            char *priv = NULL;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
            struct job *j = (struct job *)(void *)priv;
            if (j)
                job_done(p, j, rc);
            news = true;
        }
        if (p->round_busy && round_over(p)) {
            round_end(p);
            news = true;
        }
        if (news)
            publish(p);
        if (atomic_load(&p->stop))
            break;
        now = clock_mono_ms();
        int64_t until = now + MAX_WAIT_MS;
        if (p->n_targets && !p->round_busy && p->round_next < until)
            until = p->round_next;
        for (int i = 0; i < 2; i++)
            if (probes[i] && !probes[i]->busy && probes[i]->next < until)
                until = probes[i]->next;
        if (until > now)
            curl_multi_poll(p->multi, NULL, 0, (int)(until - now), NULL);
    }
    pthread_mutex_lock(&p->lock);
    p->done = true;
    bool orphan = p->orphaned;
    pthread_cond_signal(&p->done_cond);
    pthread_mutex_unlock(&p->lock);
    if (orphan)
        free_all(p);
    return NULL;
}

static void free_all(struct poller *p)
{
    for (size_t i = 0; p->jobs && i < p->n_jobs; i++) {
        struct job *j = &p->jobs[i];
        if (j->easy) {
            if (j->busy && p->multi)
                curl_multi_remove_handle(p->multi, j->easy);
            curl_easy_cleanup(j->easy);
        }
        curl_slist_free_all(j->headers);
        body_reset(&j->body);
        poll_scrape_free(&j->last);
        healthjson_free(&j->doc);
        free(j->st.url);
    }
    free(p->jobs);
    ruleng_free(&p->eng);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    poll_snapshot_free(&p->pending);
    free(p->hist);
    free(p->token_file);
    if (p->sync_init) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->done_cond);
    }
    free(p);
}

struct poller *poller_start(const struct poller_opts *o, int wake_fd, char *err, size_t errsz)
{
    struct ruleng *eng = o->engine;
    if (eng && o->n_metrics == 0) {
        snprintf(err, errsz, "rules need a metrics target to evaluate");
        ruleng_free(&eng);
        return NULL;
    }
    if (o->n_metrics > POLLER_MAX_TARGETS) {
        snprintf(err, errsz, "at most %d metrics targets (got %zu)", POLLER_MAX_TARGETS, o->n_metrics);
        ruleng_free(&eng);
        return NULL;
    }
    for (size_t i = 0; i < o->n_metrics; i++)
        if (!o->metrics_urls || !o->metrics_urls[i] || !*o->metrics_urls[i]) {
            snprintf(err, errsz, "metrics target %zu has no URL", i + 1);
            ruleng_free(&eng);
            return NULL;
        }
    char *token = NULL;
    if (poller_load_token(o->token_file, &token, err, errsz) != 0) {
        ruleng_free(&eng);
        return NULL;
    }
    free_token(&token);

    struct poller *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsz, "out of memory");
        ruleng_free(&eng);
        return NULL;
    }
    p->eng = eng;
    p->wake_fd = wake_fd;
    p->interval_ms = o->interval_ms > 0 ? o->interval_ms : DEFAULT_INTERVAL_MS;
    p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    p->body_cap = o->body_cap > 0 ? o->body_cap : DEFAULT_BODY_CAP;
    if (p->body_cap > MAX_BODY_CAP)
        p->body_cap = MAX_BODY_CAP;
    p->history_s = o->history_s > 0 ? o->history_s : DEFAULT_HISTORY_S;
    atomic_init(&p->stop, false);
    int64_t points = (int64_t)p->history_s * 1000 / p->interval_ms + 2;
    p->hist_cap = points > MAX_HISTORY_POINTS ? MAX_HISTORY_POINTS : (size_t)points;
    p->hist = calloc(p->hist_cap, sizeof *p->hist);
    p->jobs = calloc(o->n_metrics + 2, sizeof *p->jobs);
    p->multi = curl_multi_init();
    if (o->token_file && *o->token_file && !(p->token_file = strdup(o->token_file)))
        goto oom;
    if (!p->hist || !p->jobs || !p->multi)
        goto oom;
    for (size_t i = 0; i < o->n_metrics; i++) {
        if (job_init(p, &p->jobs[p->n_jobs++], JOB_METRICS, o->metrics_urls[i]) != 0)
            goto curl_fail;
    }
    p->n_targets = o->n_metrics;
    if (o->health_url && *o->health_url) {
        p->health = &p->jobs[p->n_jobs++];
        if (job_init(p, p->health, JOB_HEALTH, o->health_url) != 0)
            goto curl_fail;
    }
    if (o->ready_url && *o->ready_url) {
        p->ready = &p->jobs[p->n_jobs++];
        if (job_init(p, p->ready, JOB_READY, o->ready_url) != 0)
            goto curl_fail;
    }

    pthread_mutex_init(&p->lock, NULL);
    threadwait_cond_init(&p->done_cond);
    p->sync_init = true;
    int rc = threadwait_spawn(&p->thread, run, p);
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the poller: %s", strerror(rc));
        free_all(p);
        return NULL;
    }
    return p;
oom:
    snprintf(err, errsz, "cannot start the poller: out of memory");
    free_all(p);
    return NULL;
curl_fail:
    snprintf(err, errsz, "cannot start the poller: libcurl refused the options for %s",
             p->jobs[p->n_jobs - 1].st.url ? p->jobs[p->n_jobs - 1].st.url : "a URL");
    free_all(p);
    return NULL;
}

struct poll_snapshot *poller_take(struct poller *p)
{
    pthread_mutex_lock(&p->lock);
    struct poll_snapshot *s = p->pending;
    p->pending = NULL;
    pthread_mutex_unlock(&p->lock);
    return s;
}

bool poller_stop(struct poller **pp)
{
    struct poller *p = *pp;
    if (!p)
        return true;
    *pp = NULL;
    atomic_store(&p->stop, true);
    curl_multi_wakeup(p->multi); /* out of curl_multi_poll at once */
    threadwait(&p->lock, &p->done_cond, &p->done, STOP_WAIT_MS);
    pthread_mutex_lock(&p->lock);
    bool done = p->done; /* it may have ended just after the wait */
    pthread_t thread = p->thread;
    if (!done)
        p->orphaned = true; /* from here on the thread owns p */
    pthread_mutex_unlock(&p->lock);
    if (!done) {
        pthread_detach(thread);
        return false;
    }
    pthread_join(thread, NULL);
    free_all(p);
    return true;
}
