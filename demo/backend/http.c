/* http: routing, fault injection and request accounting. Handlers read only
 * in-memory state (metrics registry, health facts, fault switches); they
 * never touch PostgreSQL. */
#include "http.h"

#include "faults.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define HTTP_CT_JSON "application/json"
#define HTTP_CT_TEXT "text/plain; charset=utf-8"

struct http {
    struct MHD_Daemon *daemon;
    struct sockaddr_storage addr;
    unsigned port;
};

struct http_req {
    int64_t start_ns;
    enum http_method method;
    enum http_path path;
    unsigned status;
    size_t body_bytes;
};

/* read-modify-write of the fault state by concurrent POSTs */
static pthread_mutex_t http_control_lock = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result http_send(struct MHD_Connection *conn, struct http_req *r, unsigned status,
                                 const char *ctype, char *body, size_t len)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->path == HP_CONTROL ? "GET, POST" : "GET, HEAD");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES)
        r->status = status;
    return ret;
}

static enum MHD_Result http_send_text(struct MHD_Connection *conn, struct http_req *r, unsigned status,
                                      const char *text)
{
    char *body = strdup(text);

    if (!body)
        return MHD_NO;
    return http_send(conn, r, status, HTTP_CT_TEXT, body, strlen(body));
}

static enum MHD_Result http_send_json(struct MHD_Connection *conn, struct http_req *r, unsigned status,
                                      json_t *o)
{
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    if (!body)
        return http_send_text(conn, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    return http_send(conn, r, status, HTTP_CT_JSON, body, strlen(body));
}

struct http_control_args {
    struct fault_state st;
    char err[256];
    bool bad;
    int count;
};

static enum MHD_Result http_control_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct http_control_args *a = cls;

    (void)kind;
    a->count++;
    if (faults_parse_param(&a->st, key, value, a->err, sizeof a->err) < 0) {
        a->bad = true;
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result http_control(struct MHD_Connection *conn, struct http_req *r)
{
    struct http_control_args a;

    memset(&a, 0, sizeof a);
    if (r->method == HM_GET) {
        faults_get(&a.st);
        return http_send_json(conn, r, MHD_HTTP_OK, faults_to_json(&a.st));
    }
    if (r->method != HM_POST)
        return http_send_text(conn, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (r->body_bytes)
        return http_send_json(conn, r, MHD_HTTP_BAD_REQUEST,
                              json_pack("{s:s}", "error", "parameters go in the query string, not the body"));
    pthread_mutex_lock(&http_control_lock);
    faults_get(&a.st);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, http_control_arg, &a);
    if (!a.bad && a.count == 0) {
        a.bad = true;
        str_copy(a.err, sizeof a.err, "no parameters (known: latency_ms, error_rate, garbage, hang, send)");
    }
    if (!a.bad)
        faults_set(&a.st);
    pthread_mutex_unlock(&http_control_lock);
    if (a.bad)
        return http_send_json(conn, r, MHD_HTTP_BAD_REQUEST, json_pack("{s:s}", "error", a.err));
    log_event(LOG_INFO, NULL, "fault state changed", faults_to_json(&a.st));
    return http_send_json(conn, r, MHD_HTTP_OK, faults_to_json(&a.st));
}

static enum MHD_Result http_route(struct MHD_Connection *conn, struct http_req *r)
{
    struct fault_state st;
    bool probe = r->path == HP_METRICS || r->path == HP_HEALTH || r->path == HP_READY;
    struct strbuf sb;
    unsigned status = MHD_HTTP_OK;
    char *body;
    size_t len = 0;

    if (r->path == HP_CONTROL)
        return http_control(conn, r);
    if ((probe && !faults_wait_hang()) || !faults_wait_latency(r->start_ns))
        return http_send_text(conn, r, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
    if (faults_roll_error())
        return http_send_text(conn, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "injected error\n");
    if (!probe)
        return http_send_text(conn, r, MHD_HTTP_NOT_FOUND, "not found\n");
    if (r->method != HM_GET && r->method != HM_HEAD)
        return http_send_text(conn, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

    faults_get(&st);
    if (r->path == HP_METRICS) {
        strbuf_init(&sb);
        metrics_render(&sb);
        body = strbuf_steal(&sb, &len);
    } else {
        body = health_render(r->path == HP_READY, &status);
        len = body ? strlen(body) : 0;
    }
    if (!body)
        return http_send_text(conn, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    if (st.garbage) {
        free(body);
        body = faults_garbage(&len);
        if (!body)
            return MHD_NO;
    }
    return http_send(conn, r, status, r->path == HP_METRICS ? HTTP_CT_METRICS : HTTP_CT_JSON, body, len);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *version, const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    struct http_req *r = *con_cls;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->start_ns = clock_mono_ns();
        r->method = metrics_method(method);
        r->path = metrics_path(url);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        r->body_bytes += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return http_route(conn, r);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    struct http_req *r = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    if (r->status)
        metrics_http_observe(r->method, r->path, r->status, (double)(clock_mono_ns() - r->start_ns) / 1e9);
    free(r);
    *con_cls = NULL;
}

ATTR_PRINTF(2, 0)
static void http_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_event(LOG_WARN, NULL, "http daemon", json_pack("{s:s}", "detail", msg));
}

static int http_resolve(const char *host, unsigned port, struct http *h, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%u", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "--listen: cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int http_start(const char *host, unsigned port, struct http **out, char *err, size_t errlen)
{
    struct http *h = calloc(1, sizeof *h);
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;

    *out = NULL;
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (http_resolve(host, port, h, err, errlen) < 0) {
        free(h);
        return -1;
    }
    if (h->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, http_access, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, http_log, h,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        snprintf(err, errlen, "--listen: cannot listen on %s:%u (address in use or not local?)", host, port);
        free(h);
        return -1;
    }
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    *out = h;
    return 0;
}

unsigned http_port(const struct http *h)
{
    return h->port;
}

void http_stop(struct http **hp)
{
    struct http *h = *hp;

    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
    *hp = NULL;
}
