/* metrics: the process's metric registry and its Prometheus text exposition
 * (format 0.0.4). Counters are C11 atomics; the HTTP tables and the cached
 * database figures sit behind one mutex. HTTP handlers only read from here. */
#ifndef BACKEND_METRICS_H
#define BACKEND_METRICS_H

#include "util.h"

#include <stdbool.h>
#include <stdint.h>

enum http_method { HM_GET, HM_HEAD, HM_POST, HM_OTHER, HM_COUNT };
enum http_path { HP_METRICS, HP_HEALTH, HP_READY, HP_CONTROL, HP_OTHER, HP_COUNT };

enum email_counter {
    EC_SENT,
    EC_OPENED,
    EC_CLICKED,
    EC_FAILED,
    EC_BOUNCED,
    EC_CONVERSIONS,
    EC_SIM_DROPPED,
    EC_TEST_SENT,
    EC_COUNT
};

/* figures read from PostgreSQL by the worker every couple of seconds */
struct db_stats {
    long long campaigns;
    long long launched;
    long long active;
    long long connections;
    long long max_connections;
};

void metrics_init(double start_time);
enum http_method metrics_method(const char *method);
enum http_path metrics_path(const char *url);

void metrics_email_add(enum email_counter c, uint64_t n);
uint64_t metrics_email_get(enum email_counter c);
void metrics_http_observe(enum http_method m, enum http_path p, unsigned status, double seconds);
void metrics_db_set(const struct db_stats *s);

/* appends the whole exposition; false if memory ran out */
bool metrics_render(struct strbuf *out);

#endif
