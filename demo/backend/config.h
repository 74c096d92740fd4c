/* config: the command line, parsed and validated into one struct. */
#ifndef BACKEND_CONFIG_H
#define BACKEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sink_kind { SINK_NULL, SINK_MAILDIR };

struct config {
    const char *dsn;          /* NULL: libpq defaults and PG* variables */
    char listen_host[256];
    unsigned listen_port;
    const char *port_file;    /* NULL: none */
    enum sink_kind sink;
    const char *maildir;      /* with SINK_MAILDIR */
    int batch;
    int tick_ms;
    int scan_ms;
    double open_prob;
    double click_prob;
    double bounce_prob;
    double fail_prob;
    uint64_t seed;
    bool seed_given;
    /* initial fault state */
    int latency_ms;
    double error_rate;
    bool garbage;
    bool hang;
    bool no_send;
    size_t sim_capacity;
};

enum config_result { CONFIG_RUN, CONFIG_EXIT_OK, CONFIG_ERROR };

/* Fills cfg. CONFIG_EXIT_OK after --help or --version (printed to stdout);
 * CONFIG_ERROR with a message naming the flag in err. */
enum config_result config_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen);

/* "latency_ms" style limits, shared with the control endpoint */
#define CONFIG_LATENCY_MAX 600000

#endif
