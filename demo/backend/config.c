/* config: flag parsing. Accepts "--flag value" and "--flag=value"; every
 * error names the flag and what was expected. */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char config_usage[] =
    "usage: " BACKEND_NAME " [options]\n"
    "\n"
    "The demo backend: sends active campaigns at their rate limit into a sink,\n"
    "records the deliveries ledger, sends test deliveries (counted apart),\n"
    "simulates opens and clicks, and serves\n"
    "/metrics, /health, /ready and /control.\n"
    "\n"
    "  --dsn DSN          PostgreSQL connection string (else $MARKETING_DSN,\n"
    "                     else libpq defaults)\n"
    "  --listen HOST:PORT address to serve HTTP on (default 127.0.0.1:9464;\n"
    "                     port 0 picks a free one)\n"
    "  --port-file FILE   write the bound port to FILE once listening\n"
    "  --sink null|maildir:DIR\n"
    "                     where messages go (default null)\n"
    "  --batch N          most messages per batch (default 200)\n"
    "  --tick-ms N        sending tick (default 100)\n"
    "  --scan-ms N        periodic campaign scan (default 2000)\n"
    "  --open-prob P      chance a sent message is opened (default 0.3)\n"
    "  --click-prob P     chance an open is clicked (default 0.15)\n"
    "  --bounce-prob P    chance a message bounces (default 0.01)\n"
    "  --fail-prob P      chance a message fails (default 0.005)\n"
    "  --seed N           seed of the simulation (default: random)\n"
    "\n"
    "Faults (also changed at run time through POST /control):\n"
    "  --latency-ms N     delay every response by N ms\n"
    "  --error-rate F     replace this fraction of responses with a 500\n"
    "  --garbage          /metrics, /health and /ready answer garbage bytes\n"
    "  --hang             /metrics, /health and /ready never answer\n"
    "  --no-send          start with sending stopped\n"
    "\n"
    "  --help             show this help\n"
    "  --version          show the version\n";

static int config_fail(char *err, size_t errlen, const char *flag, const char *what, const char *got)
{
    if (got)
        snprintf(err, errlen, "%s: %s, got '%s'", flag, what, got);
    else
        snprintf(err, errlen, "%s: %s", flag, what);
    return -1;
}

static int config_int(const char *flag, const char *s, long long lo, long long hi, long long *out,
                      char *err, size_t errlen)
{
    char *end;
    long long v;
    char what[96];

    snprintf(what, sizeof what, "expected an integer from %lld to %lld", lo, hi);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return config_fail(err, errlen, flag, what, s);
    *out = v;
    return 0;
}

static int config_prob(const char *flag, const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0.0 || v > 1.0)
        return config_fail(err, errlen, flag, "expected a number from 0 to 1", s);
    *out = v;
    return 0;
}

static int config_listen(const char *s, struct config *cfg, char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    size_t hostlen;
    long long port;

    if (!colon || colon == s)
        return config_fail(err, errlen, "--listen", "expected HOST:PORT", s);
    hostlen = (size_t)(colon - s);
    if (s[0] == '[') {
        if (hostlen < 3 || s[hostlen - 1] != ']')
            return config_fail(err, errlen, "--listen", "expected [IPV6]:PORT", s);
        s++;
        hostlen -= 2;
    }
    if (hostlen >= sizeof cfg->listen_host)
        return config_fail(err, errlen, "--listen", "host name too long", NULL);
    if (config_int("--listen", colon + 1, 0, 65535, &port, err, errlen) < 0)
        return -1;
    memcpy(cfg->listen_host, s, hostlen);
    cfg->listen_host[hostlen] = '\0';
    cfg->listen_port = (unsigned)port;
    return 0;
}

static int config_sink(const char *s, struct config *cfg, char *err, size_t errlen)
{
    if (strcmp(s, "null") == 0) {
        cfg->sink = SINK_NULL;
        cfg->maildir = NULL;
        return 0;
    }
    if (strncmp(s, "maildir:", 8) == 0 && s[8]) {
        cfg->sink = SINK_MAILDIR;
        cfg->maildir = s + 8;
        return 0;
    }
    return config_fail(err, errlen, "--sink", "expected 'null' or 'maildir:DIR'", s);
}

static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    str_copy(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 9464;
    cfg->sink = SINK_NULL;
    cfg->batch = 200;
    cfg->tick_ms = 100;
    cfg->scan_ms = 2000;
    cfg->open_prob = 0.3;
    cfg->click_prob = 0.15;
    cfg->bounce_prob = 0.01;
    cfg->fail_prob = 0.005;
    cfg->sim_capacity = 200000;
}

/* one valued flag with its value */
static int config_apply(struct config *cfg, const char *flag, const char *val, char *err, size_t errlen)
{
    long long n;

    if (strcmp(flag, "--dsn") == 0) {
        cfg->dsn = val;
    } else if (strcmp(flag, "--listen") == 0) {
        return config_listen(val, cfg, err, errlen);
    } else if (strcmp(flag, "--port-file") == 0) {
        if (!*val)
            return config_fail(err, errlen, flag, "expected a file name", val);
        cfg->port_file = val;
    } else if (strcmp(flag, "--sink") == 0) {
        return config_sink(val, cfg, err, errlen);
    } else if (strcmp(flag, "--batch") == 0) {
        if (config_int(flag, val, 1, 100000, &n, err, errlen) < 0)
            return -1;
        cfg->batch = (int)n;
    } else if (strcmp(flag, "--tick-ms") == 0) {
        if (config_int(flag, val, 1, 60000, &n, err, errlen) < 0)
            return -1;
        cfg->tick_ms = (int)n;
    } else if (strcmp(flag, "--scan-ms") == 0) {
        if (config_int(flag, val, 10, 3600000, &n, err, errlen) < 0)
            return -1;
        cfg->scan_ms = (int)n;
    } else if (strcmp(flag, "--open-prob") == 0) {
        return config_prob(flag, val, &cfg->open_prob, err, errlen);
    } else if (strcmp(flag, "--click-prob") == 0) {
        return config_prob(flag, val, &cfg->click_prob, err, errlen);
    } else if (strcmp(flag, "--bounce-prob") == 0) {
        return config_prob(flag, val, &cfg->bounce_prob, err, errlen);
    } else if (strcmp(flag, "--fail-prob") == 0) {
        return config_prob(flag, val, &cfg->fail_prob, err, errlen);
    } else if (strcmp(flag, "--seed") == 0) {
        char *end;
        errno = 0;
        cfg->seed = strtoull(val, &end, 10);
        if (errno || end == val || *end || val[0] == '-')
            return config_fail(err, errlen, flag, "expected a non-negative integer", val);
        cfg->seed_given = true;
    } else if (strcmp(flag, "--latency-ms") == 0) {
        if (config_int(flag, val, 0, CONFIG_LATENCY_MAX, &n, err, errlen) < 0)
            return -1;
        cfg->latency_ms = (int)n;
    } else if (strcmp(flag, "--error-rate") == 0) {
        return config_prob(flag, val, &cfg->error_rate, err, errlen);
    }
    return 0;
}

static bool config_is_bool(const char *flag)
{
    static const char *const bools[] = {"--garbage", "--hang", "--no-send", "--help", "--version"};
    size_t i;

    for (i = 0; i < sizeof bools / sizeof bools[0]; i++)
        if (strcmp(flag, bools[i]) == 0)
            return true;
    return false;
}

static bool config_is_valued(const char *flag)
{
    static const char *const valued[] = {
        "--dsn", "--listen", "--port-file", "--sink", "--batch", "--tick-ms", "--scan-ms",
        "--open-prob", "--click-prob", "--bounce-prob", "--fail-prob", "--seed",
        "--latency-ms", "--error-rate"};
    size_t i;

    for (i = 0; i < sizeof valued / sizeof valued[0]; i++)
        if (strcmp(flag, valued[i]) == 0)
            return true;
    return false;
}

enum config_result config_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen)
{
    char flag[64];
    const char *val;
    const char *eq;
    const char *env;
    int i;

    config_defaults(cfg);
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            config_fail(err, errlen, arg, "unexpected argument (options start with --)", NULL);
            return CONFIG_ERROR;
        }
        eq = strchr(arg, '=');
        if (eq && (size_t)(eq - arg) < sizeof flag) {
            memcpy(flag, arg, (size_t)(eq - arg));
            flag[eq - arg] = '\0';
            val = eq + 1;
        } else {
            str_copy(flag, sizeof flag, arg);
            val = NULL;
        }
        if (config_is_bool(flag)) {
            if (val) {
                config_fail(err, errlen, flag, "takes no value", NULL);
                return CONFIG_ERROR;
            }
            if (strcmp(flag, "--help") == 0) {
                fputs(config_usage, stdout);
                return CONFIG_EXIT_OK;
            }
            if (strcmp(flag, "--version") == 0) {
                printf("%s %s\n", BACKEND_NAME, MARKETING_VERSION);
                return CONFIG_EXIT_OK;
            }
            if (strcmp(flag, "--garbage") == 0)
                cfg->garbage = true;
            else if (strcmp(flag, "--hang") == 0)
                cfg->hang = true;
            else
                cfg->no_send = true;
            continue;
        }
        if (config_is_valued(flag)) {
            if (!val) {
                if (i + 1 >= argc || !argv[i + 1]) {
                    config_fail(err, errlen, flag, "needs a value", NULL);
                    return CONFIG_ERROR;
                }
                val = argv[++i];
            }
        } else {
            config_fail(err, errlen, flag, "unknown option (see --help)", NULL);
            return CONFIG_ERROR;
        }
        if (!val || config_apply(cfg, flag, val, err, errlen) < 0)
            return CONFIG_ERROR;
    }
    if (!cfg->dsn) {
        env = getenv("MARKETING_DSN");
        if (env && *env)
            cfg->dsn = env;
    }
    return CONFIG_RUN;
}
