/* marketing-demo-gen: fills an empty, migrated marketing database with a
 * deterministic, realistic demo data set.
 *
 *   marketing-demo-gen [--dsn DSN] [--contacts N] [--segments N]
 *                      [--campaigns N] [--seed S] [--now TIME] [--quiet]
 *
 * main.c: the flags and the order of the steps. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "model.h"

#ifndef MARKETING_VERSION
#define MARKETING_VERSION "dev"
#endif

static const char usage[] =
    "usage: " PROG " [--dsn DSN] [--contacts N] [--segments N] [--campaigns N]\n"
    "                          [--seed S] [--now TIME] [--quiet]\n"
    "\n"
    "Fills an empty, migrated marketing database with demo data: contacts,\n"
    "segments and their members, campaigns with revisions, A/B variants and an\n"
    "audit trail, the deliveries ledger and conversions. Loads with COPY in one\n"
    "transaction; refuses a database that already has data.\n"
    "\n"
    "  --dsn DSN        libpq connection string (default: $MARKETING_DSN, else\n"
    "                   libpq's defaults: PGHOST, PGDATABASE, ...)\n"
    "  --contacts N     contacts (default 20000; 1 to 20000000)\n"
    "  --segments N     segments seg_1..seg_N (default 8; 1 to 1000)\n"
    "  --campaigns N    campaigns cmp_1..cmp_N (default 24; 0 to 100000)\n"
    "  --seed S         seed of the generator (default 42; 0 to 2^64-1)\n"
    "  --now TIME       the data set's \"now\", e.g. 2025-06-01T12:00:00Z or epoch\n"
    "                   seconds (default: the server's now(), to the second)\n"
    "  --quiet          no progress on stderr and no summary on stdout\n"
    "  --keep-indexes   load with every index and foreign key in place (slower;\n"
    "                   for comparison)\n"
    "  --no-freeze      plain COPY instead of COPY FREEZE\n"
    "  --help, --version\n"
    "\n"
    "The same seed, sizes and --now give the same data, byte for byte. Without\n"
    "--now every timestamp is relative to the server's clock at the start, so\n"
    "two runs have the same shape (scheduled campaigns are in the future, active\n"
    "ones are sending, opens trail sends) at different absolute times.\n"
    "Exit status: 0 done, 1 failed (nothing loaded), 2 bad usage.\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    exit(2);
}

/* "--name VALUE" or "--name=VALUE": the value, advancing *i; NULL if argv[*i]
 * is not this flag */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (!a)
        return NULL;
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        usage_error("%s needs a value", name);
    return argv[++*i];
}

static uint64_t parse_count(const char *flag, const char *v, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    if (!*v || *v == '-' || *v == '+') {
        fprintf(stderr, PROG ": %s: '%s' is not a number\nTry '" PROG " --help'.\n", flag, v);
        exit(2);
    }
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno == ERANGE) {
        fprintf(stderr, PROG ": %s: '%s' is not a number\nTry '" PROG " --help'.\n", flag, v);
        exit(2);
    }
    if (x < min || x > max) {
        fprintf(stderr, PROG ": %s: %llu is out of range (%" PRIu64 " to %" PRIu64 ")\n", flag,
                x, min, max);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    const char *dsn = NULL, *now_text = NULL;
    struct model m = {.seed = 42, .ncontacts = 20000, .nseg = 8, .ncamp = 24};
    struct load_options opt = {.keep_indexes = 0, .freeze = 1};
    int quiet = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf(PROG " %s\n", MARKETING_VERSION);
            return 0;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--keep-indexes") == 0) {
            opt.keep_indexes = 1;
        } else if (strcmp(a, "--no-freeze") == 0) {
            opt.freeze = 0;
        } else if ((v = flag_value(argc, argv, &i, "--dsn"))) {
            dsn = v;
        } else if ((v = flag_value(argc, argv, &i, "--contacts"))) {
            m.ncontacts = parse_count("--contacts", v, 1, 20000000);
        } else if ((v = flag_value(argc, argv, &i, "--segments"))) {
            m.nseg = parse_count("--segments", v, 1, 1000);
        } else if ((v = flag_value(argc, argv, &i, "--campaigns"))) {
            m.ncamp = parse_count("--campaigns", v, 0, 100000);
        } else if ((v = flag_value(argc, argv, &i, "--seed"))) {
            m.seed = parse_count("--seed", v, 0, UINT64_MAX);
        } else if ((v = flag_value(argc, argv, &i, "--now"))) {
            now_text = v;
            if (ts_parse(v, &m.base) != 0)
                usage_error("--now: '%s' is not a time (like 2025-06-01T12:00:00Z or epoch "
                            "seconds)", v);
        } else if (a[0] == '-') {
            usage_error("unknown option '%s'", a);
        } else {
            usage_error("unexpected argument '%s'", a);
        }
    }
    progress_quiet = quiet;
    progress_t0 = now_seconds();

    if (!dsn)
        dsn = getenv("MARKETING_DSN");
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *vals[] = {dsn ? dsn : "", PROG, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, PROG ": cannot connect to the database: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    if (load_check(conn) != 0 || (!now_text && load_base_time(conn, &m.base) != 0)) {
        PQfinish(conn);
        return 1;
    }
    char when[40];
    ts_format(when, m.base);
    progress("seed %" PRIu64 ", now %s", m.seed, when);

    model_contacts(&m);
    model_segments(&m);
    model_campaigns(&m);
    model_content(&m);
    model_deliveries(&m);
    progress("generated the data set in memory");

    int rc = load_model(conn, &m, &opt);
    PQfinish(conn);
    if (rc == 0 && !quiet) {
        char n[8][32];
        printf(PROG ": loaded %s contacts, %zu segments (%s members), %zu campaigns "
                    "(%s revisions, %s variants), %s deliveries, %s audit rows, %s conversions "
                    "in %.1f s\n",
               fmt_count(n[0], m.ncontacts), m.nseg, fmt_count(n[1], m.nmembers), m.ncamp,
               fmt_count(n[2], m.nrevisions), fmt_count(n[3], m.nvariants),
               fmt_count(n[4], m.ndeliveries), fmt_count(n[5], m.naudit),
               fmt_count(n[6], m.nconv), now_seconds() - progress_t0);
    }
    model_free(&m);
    return rc == 0 ? 0 : 1;
}
