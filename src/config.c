#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "actions.h"
#include "sanitize.h"

#define OFF(field) offsetof(struct config, field)

const struct opt_def config_options[] = {
    { "dsn", OPT_STRING, "", OFF(dsn), NULL, NULL,
      "PostgreSQL connection: a conninfo string (host=db1 dbname=marketing) or a URI "
      "(postgresql://db1/marketing). Empty uses libpq's PG* variables and service file. "
      "Never put a password here: use ~/.pgpass or a service file." },
    { "refresh", OPT_DURATION, "2s", OFF(refresh_ms), "100ms", "1h",
      "How often the panes re-read the database, besides the instant refresh that "
      "a change notification (LISTEN) brings. A duration: 500ms, 2s, 1m." },
    { "environment", OPT_STRING, "", OFF(environment), NULL, NULL,
      "A name for the system this console works on (staging, production), shown in "
      "the header of every screen so that nobody mistakes one system for another." },
    { "metrics_url", OPT_STRING, "", OFF(metrics_url), NULL, NULL,
      "The marketing system's Prometheus /metrics endpoints, comma-separated (up to 8; "
      "their counters are summed). Empty: no metrics." },
    { "prometheus_url", OPT_STRING, "", OFF(prometheus_url), NULL, NULL,
      "A Prometheus server that scrapes the system, as its base URL with any path prefix "
      "(http://prom:9090, https://host/prometheus). When set, marketing query asks its "
      "/api/v1/query instead of scraping metrics_url itself. Requests send token_file's bearer "
      "token, verify TLS, and give up after scrape_timeout. No password in the URL: use token_file. "
      "Empty: no server." },
    { "health_url", OPT_STRING, "", OFF(health_url), NULL, NULL,
      "The system's /health endpoint (JSON: status, version, uptime, checks). Empty: not watched." },
    { "ready_url", OPT_STRING, "", OFF(ready_url), NULL, NULL,
      "The system's /ready endpoint. Empty: not watched." },
    { "token_file", OPT_STRING, "", OFF(token_file), NULL, NULL,
      "A file holding a bearer token sent to the endpoints and to prometheus_url. It must not be "
      "readable by group or others (mode 0600), like libpq's password file. Empty: no token." },
    { "scrape_interval", OPT_DURATION, "1s", OFF(scrape_ms), "200ms", "5m",
      "How often the endpoints are read." },
    { "scrape_timeout", OPT_DURATION, "5s", OFF(scrape_timeout_ms), "100ms", "1m",
      "How long one request to an endpoint may take before it counts as failed." },
    { "rule_file", OPT_STRING, "", OFF(rule_file), NULL, NULL,
      "A Prometheus rule file (the YAML a Prometheus server loads) whose alerting rules the "
      "console evaluates on its own scrapes of metrics_url; recording rules are read and "
      "skipped. An alert's runbook annotation names a file NAME.md in a runbooks folder beside "
      "it. Empty: the shipped rules, the marketing system's four (marketing alerts --rules "
      "prints them)." },
    { "series_history", OPT_DURATION, "1h", OFF(series_history_ms), "1m", "24h",
      "How long the samples of the series that rules select are kept (the others keep their "
      "latest value only)." },
    { "series_max_samples", OPT_INT, "2000000", OFF(series_max_samples), "1000", "100000000",
      "The most samples the series store holds, about 40 bytes each; past it the oldest "
      "samples of the longest series go first." },
    { "ascii", OPT_BOOL, "false", OFF(ascii), NULL, NULL,
      "Draw with 7-bit ASCII only (borders, graphs, glyphs), whatever the locale says. "
      "A locale that is not UTF-8 turns this on by itself." },
    { "theme", OPT_STRING, "dark", OFF(theme), NULL, NULL,
      "The colour theme: dark, light, high-contrast or monochrome, or a theme of your own "
      "in $XDG_CONFIG_HOME/marketing/themes/NAME.theme (see the format in themes/dark.theme)." },
    { "no_color", OPT_BOOL, "false", OFF(no_color), NULL, NULL,
      "No colour at all: the monochrome look, which tells every state apart with bold, "
      "underline, reverse and dim. The NO_COLOR variable (any value) does the same." },
    { "mouse", OPT_BOOL, "false", OFF(mouse), NULL, NULL,
      "Use the mouse: clicks pick tabs, panes and rows, and the wheel scrolls. Off by default, "
      "so that selecting text with the mouse works as the terminal does it." },
    { "read_only", OPT_BOOL, "false", OFF(read_only), NULL, NULL,
      "Refuse every write: the action keys, the command line's actions and the launch, pause, "
      "resume, cancel, rollback, retry-failed and stop-all subcommands, each with a message saying "
      "why. The console is also read-only, by itself, when its database role may not change "
      "campaigns or the server is a standby; the status line says which." },
    { "log_file", OPT_STRING, "", OFF(log_file), NULL, NULL,
      "A file that gets one JSON line (timestamp, level, service, version, request_id, user_id, "
      "message, context) for every action and every error, appended, created with mode 0600. "
      "Empty: no log. The database's audit log records actions whatever this says." },
    { "confirm_name_above", OPT_INT, "10000", OFF(confirm_name_above), "0", "1000000000",
      "Launching to more reachable contacts than this asks the operator to type the campaign's "
      "name instead of pressing y. 0: always." },
};
const size_t config_options_count = sizeof config_options / sizeof config_options[0];

static size_t opt_index(const struct opt_def *opt) { return (size_t)(opt - config_options); }

static void *opt_ptr(struct config *cfg, const struct opt_def *opt)
{
    return (char *)cfg + opt->offset;
}

static const void *opt_cptr(const struct config *cfg, const struct opt_def *opt)
{
    return (const char *)cfg + opt->offset;
}

long config_parse_duration(const char *s)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || !isfinite(v))
        return -1;
    double mult;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else
        return -1;
    double ms = v * mult;
    if (ms > 86400000.0 * 366)
        return -1;
    return (long)llround(ms);
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return true; }
        if (strcasecmp(s, no[i]) == 0) { *out = false; return true; }
    }
    return false;
}

int config_set(struct config *cfg, const struct opt_def *opt, const char *value,
               const char *source, char *err, size_t errsz)
{
    switch (opt->type) {
    case OPT_STRING: {
        char *dup = strdup(value);
        if (!dup) {
            snprintf(err, errsz, "%s: out of memory", opt->name);
            return -1;
        }
        char **p = opt_ptr(cfg, opt);
        free(*p);
        *p = dup;
        break;
    }
    case OPT_DURATION: {
        long ms = config_parse_duration(value);
        long lo = opt->min ? config_parse_duration(opt->min) : 0;
        long hi = opt->max ? config_parse_duration(opt->max) : 86400000L;
        if (ms < 0) {
            snprintf(err, errsz, "%s: '%s' is not a duration (like 500ms, 2s or 1m)", opt->name, value);
            return -1;
        }
        if (ms < lo || ms > hi) {
            snprintf(err, errsz, "%s: %s is out of range (%s to %s)", opt->name, value,
                     opt->min ? opt->min : "0", opt->max ? opt->max : "1d");
            return -1;
        }
        *(int *)opt_ptr(cfg, opt) = (int)ms;
        break;
    }
    case OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        long long lo = opt->min ? strtoll(opt->min, NULL, 10) : 0;
        long long hi = opt->max ? strtoll(opt->max, NULL, 10) : 2147483647LL;
        if (end == value || *end || errno) {
            snprintf(err, errsz, "%s: '%s' is not a whole number", opt->name, value);
            return -1;
        }
        if (v < lo || v > hi) {
            snprintf(err, errsz, "%s: %s is out of range (%s to %s)", opt->name, value,
                     opt->min ? opt->min : "0", opt->max ? opt->max : "2147483647");
            return -1;
        }
        *(int *)opt_ptr(cfg, opt) = (int)v;
        break;
    }
    case OPT_BOOL: {
        bool b;
        if (!parse_bool(value, &b)) {
            snprintf(err, errsz, "%s: '%s' is not a boolean (true or false)", opt->name, value);
            return -1;
        }
        *(bool *)opt_ptr(cfg, opt) = b;
        break;
    }
    }
    size_t i = opt_index(opt);
    free(cfg->source[i]);
    cfg->source[i] = strdup(source);
    return 0;
}

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    for (size_t i = 0; i < config_options_count; i++) {
        /* the defaults are ours and valid; a failure here is a bug */
        if (config_set(cfg, &config_options[i], config_options[i].def, "default", err, sizeof err) != 0)
            abort();
    }
}

int config_add_binding(struct config *cfg, const char *action, const char *keys, char *err,
                       size_t errsz)
{
    struct keymap km;
    keymap_init(&km);
    /* checked now, against the action table, so the error has a line */
    if (keymap_bind(&km, action, keys, err, errsz) != 0)
        return -1;
    if (cfg->n_bind == CONFIG_MAX_BINDINGS) {
        snprintf(err, errsz, "key.%s: more than %d key bindings", action, CONFIG_MAX_BINDINGS);
        return -1;
    }
    cfg->bind_action[cfg->n_bind] = strdup(action);
    cfg->bind_keys[cfg->n_bind] = strdup(keys);
    if (!cfg->bind_action[cfg->n_bind] || !cfg->bind_keys[cfg->n_bind]) {
        free(cfg->bind_action[cfg->n_bind]);
        free(cfg->bind_keys[cfg->n_bind]);
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    cfg->n_bind++;
    return 0;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->n_bind; i++) {
        free(cfg->bind_action[i]);
        free(cfg->bind_keys[i]);
    }
    cfg->n_bind = 0;
    for (size_t i = 0; i < config_options_count; i++) {
        if (config_options[i].type == OPT_STRING) {
            char **p = opt_ptr(cfg, &config_options[i]);
            free(*p);
            *p = NULL;
        }
        free(cfg->source[i]);
        cfg->source[i] = NULL;
    }
}

void config_errors_free(struct config_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msg[i]);
    free(errs->msg);
    errs->msg = NULL;
    errs->n = 0;
}

void config_errors_add(struct config_errors *errs, const char *msg)
{
    char **grown = realloc(errs->msg, (errs->n + 1) * sizeof *grown);
    if (!grown)
        return;
    errs->msg = grown;
    errs->msg[errs->n] = strdup(msg);
    if (errs->msg[errs->n])
        errs->n++;
}

const struct opt_def *config_find(const char *name)
{
    for (size_t i = 0; i < config_options_count; i++) {
        const char *a = config_options[i].name, *b = name;
        while (*a && (*a == *b || (*a == '_' && *b == '-'))) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return &config_options[i];
    }
    return NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Unquotes "..." in place (\" and \\ escapes). NULL if malformed. */
static char *unquote(char *v)
{
    if (*v != '"')
        return v;
    char *w = v, *r = v + 1;
    for (; *r && *r != '"'; r++) {
        if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
            r++;
        *w++ = *r;
    }
    if (*r != '"' || *trim(r + 1) != '\0')
        return NULL;
    *w = '\0';
    return v;
}

int config_parse(struct config *cfg, const char *name, const char *text,
                 struct config_errors *errs)
{
    int nerr = 0, lineno = 0;
    char msg[1024];
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        lineno++;
        char *line = strndup(p, len);
        p += len + (eol ? 1 : 0);
        if (!line)
            return nerr + 1;
        char *s = trim(line);
        if (*s == '\0' || *s == '#') {
            free(line);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(msg, sizeof msg, "%s:%d: expected 'name = value'", name, lineno);
            config_errors_add(errs, msg);
            nerr++;
            free(line);
            continue;
        }
        *eq = '\0';
        char *key = trim(s), *val = unquote(trim(eq + 1));
        const struct opt_def *opt = config_find(key);
        char err[512], src[300];
        if (strncmp(key, "key.", 4) == 0 && val) {
            if (config_add_binding(cfg, key + 4, val, err, sizeof err) != 0) {
                snprintf(msg, sizeof msg, "%s:%d: %s", name, lineno, err);
                config_errors_add(errs, msg);
                nerr++;
            }
        } else if (!opt) {
            snprintf(msg, sizeof msg, "%s:%d: unknown option '%.64s'", name, lineno, key);
            config_errors_add(errs, msg);
            nerr++;
        } else if (!val) {
            snprintf(msg, sizeof msg, "%s:%d: %s: unterminated quoted value", name, lineno, opt->name);
            config_errors_add(errs, msg);
            nerr++;
        } else {
            snprintf(src, sizeof src, "%s:%d", name, lineno);
            if (config_set(cfg, opt, val, src, err, sizeof err) != 0) {
                snprintf(msg, sizeof msg, "%s:%d: %s", name, lineno, err);
                config_errors_add(errs, msg);
                nerr++;
            }
        }
        free(line);
    }
    return nerr;
}

static char *read_file(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            if (cap >= (1u << 20)) {
                snprintf(err, errsz, "%s: larger than 1 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            char *g = realloc(buf, cap * 2);
            if (!g) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = g;
            cap *= 2;
        }
    }
    if (buf && ferror(f)) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    else if (!*err)
        snprintf(err, errsz, "%s: out of memory", path);
    return buf;
}

int config_load_file(struct config *cfg, const char *path, const char **used,
                     struct config_errors *errs)
{
    static char found[4096];
    char err[512] = "";
    *used = NULL;
    if (!path) {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(found, sizeof found, "%s/marketing/marketing.conf", xdg);
        else if (home && *home)
            snprintf(found, sizeof found, "%s/.config/marketing/marketing.conf", home);
        else
            found[0] = '\0';
        if (!found[0] || access(found, F_OK) != 0)
            snprintf(found, sizeof found, "%s/marketing/marketing.conf", MARKETING_SYSCONFDIR);
        if (access(found, F_OK) != 0)
            return 0;
        path = found;
    }
    char *text = read_file(path, err, sizeof err);
    if (!text) {
        config_errors_add(errs, err);
        return 1;
    }
    *used = path;
    int n = config_parse(cfg, path, text, errs);
    free(text);
    return n;
}

int config_load_env(struct config *cfg, char *const *envp, struct config_errors *errs)
{
    int nerr = 0;
    for (size_t i = 0; i < config_options_count; i++) {
        char var[64] = "MARKETING_";
        size_t n = strlen(var);
        for (const char *c = config_options[i].name; *c && n + 1 < sizeof var; c++)
            var[n++] = (char)toupper((unsigned char)*c);
        var[n] = '\0';
        for (char *const *e = envp; e && *e; e++) {
            if (strncmp(*e, var, n) == 0 && (*e)[n] == '=') {
                char err[512];
                if (config_set(cfg, &config_options[i], *e + n + 1, var, err, sizeof err) != 0) {
                    char msg[640];
                    snprintf(msg, sizeof msg, "%s: %s", var, err);
                    config_errors_add(errs, msg);
                    nerr++;
                }
            }
        }
    }
    return nerr;
}

char *config_redact_dsn(const char *dsn)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &errmsg);
    if (!opts) {
        PQfreemem(errmsg);
        return strdup("(unparseable)");
    }
    /* libpq marks secret options (password, sslpassword) with '*' */
    bool has_password = false;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->dispchar && o->dispchar[0] == '*' && o->val && *o->val)
            has_password = true;
    char *out = NULL;
    if (!has_password) {
        out = strdup(dsn ? dsn : "");
    } else {
        /* rebuild as key=value without the password */
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        const char *sep = "";
        for (PQconninfoOption *o = opts; f && o->keyword; o++) {
            if (!o->val || !*o->val)
                continue;
            fprintf(f, "%s%s=%s", sep, o->keyword,
                    o->dispchar && o->dispchar[0] == '*' ? "***" : o->val);
            sep = " ";
        }
        if (f)
            fclose(f);
    }
    PQconninfoFree(opts);
    return out;
}

static void format_value(const struct config *cfg, const struct opt_def *opt, char *buf, size_t n)
{
    const void *p = opt_cptr(cfg, opt);
    switch (opt->type) {
    case OPT_STRING: {
        const char *s = *(char *const *)p;
        if (opt->offset == OFF(dsn)) {
            char *r = config_redact_dsn(s);
            snprintf(buf, n, "\"%s\"", r ? r : "");
            free(r);
        } else {
            snprintf(buf, n, "\"%s\"", s ? s : "");
        }
        break;
    }
    case OPT_DURATION: {
        int ms = *(const int *)p;
        if (ms % 1000 == 0)
            snprintf(buf, n, "%ds", ms / 1000);
        else
            snprintf(buf, n, "%dms", ms);
        break;
    }
    case OPT_BOOL:
        snprintf(buf, n, "%s", *(const bool *)p ? "true" : "false");
        break;
    case OPT_INT:
        snprintf(buf, n, "%d", *(const int *)p);
        break;
    }
}

void config_dump(const struct config *cfg, FILE *out)
{
    for (size_t i = 0; i < config_options_count; i++) {
        char v[1024];
        format_value(cfg, &config_options[i], v, sizeof v);
        fprintf(out, "%s = ", config_options[i].name);
        san_fputs(v, out, 0);
        fprintf(out, "  # ");
        san_fputs(cfg->source[i] ? cfg->source[i] : "default", out, 0);
        fputc('\n', out);
    }
    for (size_t i = 0; i < cfg->n_bind; i++) {
        fprintf(out, "key.%s = ", cfg->bind_action[i]);
        san_fputs(cfg->bind_keys[i], out, 0);
        fputc('\n', out);
    }
}

/* Writes text wrapped at width with prefix on every line. */
static void wrap(FILE *out, const char *prefix, const char *text, int width)
{
    const char *p = text;
    while (*p) {
        int room = width - (int)strlen(prefix);
        const char *end = p, *brk = NULL;
        while (*end && end - p < room) {
            if (*end == ' ')
                brk = end;
            end++;
        }
        if (*end && brk)
            end = brk;
        fprintf(out, "%s%.*s\n", prefix, (int)(end - p), p);
        p = end;
        while (*p == ' ')
            p++;
    }
}

static const char *type_name(enum opt_type t)
{
    return t == OPT_STRING ? "string" : t == OPT_DURATION ? "duration" : t == OPT_INT ? "integer" : "boolean";
}

void config_print_sample(FILE *out)
{
    fprintf(out, "# marketing.conf: the marketing console's configuration.\n"
                 "#\n"
                 "# Generated from the option table (marketing config sample); every\n"
                 "# option is shown with its default, commented out. Each can also be\n"
                 "# set by a MARKETING_<NAME> variable or a --name flag, which win.\n"
                 "# Secrets never go here: use libpq's ~/.pgpass or a service file.\n"
                 "# See marketing.conf(5).\n");
    for (size_t i = 0; i < config_options_count; i++) {
        const struct opt_def *o = &config_options[i];
        fprintf(out, "\n");
        wrap(out, "# ", o->doc, 76);
        fprintf(out, "# %s = %s%s%s\n", o->name, o->type == OPT_STRING ? "\"" : "", o->def,
                o->type == OPT_STRING ? "\"" : "");
    }
    fprintf(out, "\n");
    wrap(out, "# ", "Key bindings: key.ACTION = KEYS replaces the keys of an action (key names: "
                    "a character, C-x for Ctrl-x, Up Down Left Right PgUp PgDn Home End Enter Esc "
                    "Tab BTab Backspace Space F1). A key given to one action is taken from any "
                    "other. The actions and their default keys:", 76);
    struct keymap km;
    keymap_init(&km);
    for (int a = 1; a < ACT_COUNT; a++) {
        char keys[64];
        fprintf(out, "# key.%s = %s\n", action_defs[a].name,
                keymap_keys(&km, (enum action_id)a, keys, sizeof keys));
    }
}

void config_print_man(FILE *out)
{
    for (size_t i = 0; i < config_options_count; i++) {
        const struct opt_def *o = &config_options[i];
        const char *q = o->type == OPT_STRING ? "\\(dq" : "";
        fprintf(out, ".TP\n\\fB%s\\fR = \\fI%s\\fR (default: %s%s%s)\n%s\n", o->name,
                type_name(o->type), q, o->def, q, o->doc);
    }
}

size_t config_split_list(const char *list, char bufs[][1024], const char **urls, size_t max)
{
    size_t n = 0;
    const char *p = list ? list : "";
    while (*p && n < max) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            snprintf(bufs[n], 1024, "%.*s", (int)len, p);
            urls[n] = bufs[n];
            n++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}
