/* faults: the injected-fault state (latency, error rate, garbage, hang) and
 * the send switch, changed by flags at start and by POST /control at run
 * time. Waiting handlers sleep on a condition variable that is signalled when
 * the state changes or the process shuts down. */
#ifndef BACKEND_FAULTS_H
#define BACKEND_FAULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fault_state {
    int latency_ms;
    double error_rate;
    bool garbage;
    bool hang;
    bool send;
};

void faults_init(const struct fault_state *initial, uint64_t seed);
void faults_get(struct fault_state *out);
void faults_set(const struct fault_state *st);
/* wake every waiter for good; later waits return at once */
void faults_shutdown(void);
bool faults_stopping(void);
bool faults_sending(void);

/* block while the hang fault is on; false if woken by shutdown */
bool faults_wait_hang(void);
/* sleep until start_ns + latency (re-read when the state changes); false on shutdown */
bool faults_wait_latency(int64_t start_ns);
/* true for about error_rate of the calls */
bool faults_roll_error(void);
/* malloc'ed random bytes (with NULs, controls and invalid UTF-8) and their length */
char *faults_garbage(size_t *len);

/* apply one control parameter to st; -1 with a message on a bad name or value */
int faults_parse_param(struct fault_state *st, const char *key, const char *value, char *err, size_t errlen);
json_t *faults_to_json(const struct fault_state *st);

#endif
