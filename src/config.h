/* Options, declared once in a typed table (config.c). The parser, the
 * environment and flag readers, --dump-config, the sample marketing.conf and
 * the man page's option list all come from that table.
 *
 * Precedence, lowest first: defaults, the file (--config, else
 * $XDG_CONFIG_HOME/marketing/marketing.conf, else
 * /etc/marketing/marketing.conf), MARKETING_* variables, flags. */
#ifndef MARKETING_CONFIG_H
#define MARKETING_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_MAX_BINDINGS 64

struct config {
    char *dsn;            /* PostgreSQL conninfo or URI; "" = libpq's PG* variables */
    int refresh_ms;       /* how often panes re-read the database */
    char *environment;    /* shown in the header */
    char *metrics_url;    /* comma-separated /metrics targets; "" = none */
    char *prometheus_url; /* a Prometheus server's base URL; "" = none (scrape ourselves) */
    char *health_url;     /* the system's /health; "" = none */
    char *ready_url;      /* the system's /ready; "" = none */
    char *token_file;     /* bearer token for the endpoints; "" = none */
    int scrape_ms;        /* how often endpoints are read */
    int scrape_timeout_ms;
    char *rule_file;      /* Prometheus rule file evaluated here; "" = the shipped rules */
    int series_history_ms; /* history kept for the series rules select */
    int series_max_samples; /* the series store's cap */
    bool ascii;           /* 7-bit output whatever the locale says */
    char *theme;          /* a theme name: themes/NAME.theme */
    bool no_color;        /* no colour escapes at all (NO_COLOR does the same) */
    bool mouse;           /* clicks and the wheel (off: the terminal keeps selecting text) */
    bool read_only;       /* no writes (shown in the status line) */
    char *log_file;       /* the structured JSON log; "" = none */
    int confirm_name_above; /* launches to more reachable contacts than this need the name typed */
    char *source[32];     /* where each option's value came from, by table index */
    /* key bindings: "key.NAME = KEYS" lines, applied in order over the defaults */
    char *bind_action[CONFIG_MAX_BINDINGS], *bind_keys[CONFIG_MAX_BINDINGS];
    size_t n_bind;
};

enum opt_type { OPT_STRING, OPT_DURATION, OPT_BOOL, OPT_INT };

struct opt_def {
    const char *name;      /* in the file; the flag is --name with '_' as '-' */
    enum opt_type type;
    const char *def;       /* default, as text */
    size_t offset;         /* into struct config */
    const char *min, *max; /* bounds for durations and integers, as text; NULL: none */
    const char *doc;       /* one paragraph for the sample file and man page */
};

extern const struct opt_def config_options[];
extern const size_t config_options_count;

/* An error list: each entry a complete "file:line: message". */
struct config_errors {
    char **msg;
    size_t n;
};

void config_init(struct config *cfg);          /* defaults */
void config_free(struct config *cfg);
void config_errors_free(struct config_errors *errs);

/* Appends a copy of msg to errs (dropped if memory runs out). */
void config_errors_add(struct config_errors *errs, const char *msg);

/* Records a "key.ACTION = KEYS" binding after checking it against the
 * action table. Returns 0, or -1 with a message. */
int config_add_binding(struct config *cfg, const char *action, const char *keys, char *err,
                       size_t errsz);

/* Finds an option by file name ("refresh") or flag name ("refresh"). */
const struct opt_def *config_find(const char *name);

/* Sets one option from text; source names where it came from ("flag",
 * "MARKETING_DSN", "file:12"). Returns 0, or -1 with a message. */
int config_set(struct config *cfg, const struct opt_def *opt, const char *value,
               const char *source, char *err, size_t errsz);

/* Reads a file's text (name used in messages). Appends "name:line: ..." to
 * errs for each bad line and goes on. Returns the number of errors. */
int config_parse(struct config *cfg, const char *name, const char *text,
                 struct config_errors *errs);

/* Loads the file: path if given (it must exist), else the first of the
 * default places that exists. Returns the number of errors (a missing
 * --config file is one). *used is set to the file read, or NULL. */
int config_load_file(struct config *cfg, const char *path, const char **used,
                     struct config_errors *errs);

/* Applies MARKETING_<NAME> variables from envp (NULL-terminated). */
int config_load_env(struct config *cfg, char *const *envp, struct config_errors *errs);

/* Splits a comma-separated list (metrics_url) into at most max items,
 * trimmed of spaces, empty ones skipped: item i is copied into bufs[i]
 * and urls[i] points at it. Returns the count. */
size_t config_split_list(const char *list, char bufs[][1024], const char **urls, size_t max);

/* Prints the effective configuration, each value with its source. Secrets
 * in the DSN (password) are shown as ***. */
void config_dump(const struct config *cfg, FILE *out);

/* Prints the documented sample configuration (marketing.conf). */
void config_print_sample(FILE *out);

/* Prints the option list in man(7) markup for marketing.conf(5). */
void config_print_man(FILE *out);

/* Parses "2s", "500ms", "1m", "1.5s" into milliseconds; -1 if invalid. */
long config_parse_duration(const char *s);

/* The dsn with any password replaced by ***; caller frees. */
char *config_redact_dsn(const char *dsn);

#endif
