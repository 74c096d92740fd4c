/* faults: one mutex, one condition variable on the monotonic clock, and an
 * atomic counter-based random source that any HTTP thread can draw from. */
#include "faults.h"

#include "config.h"
#include "rng.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct fault_state st;
    bool stopping;
    atomic_bool stopping_flag;
    atomic_bool sending;
    atomic_ullong rnd;
} faults = {.lock = PTHREAD_MUTEX_INITIALIZER};

void faults_init(const struct fault_state *initial, uint64_t seed)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&faults.changed, &attr);
    pthread_condattr_destroy(&attr);
    faults.st = *initial;
    faults.stopping = false;
    atomic_store(&faults.stopping_flag, false);
    atomic_store(&faults.sending, initial->send);
    atomic_store(&faults.rnd, rng_mix(seed ^ 0x5eed5eed5eedULL));
}

void faults_get(struct fault_state *out)
{
    pthread_mutex_lock(&faults.lock);
    *out = faults.st;
    pthread_mutex_unlock(&faults.lock);
}

void faults_set(const struct fault_state *st)
{
    pthread_mutex_lock(&faults.lock);
    faults.st = *st;
    atomic_store(&faults.sending, st->send);
    pthread_cond_broadcast(&faults.changed);
    pthread_mutex_unlock(&faults.lock);
}

void faults_shutdown(void)
{
    pthread_mutex_lock(&faults.lock);
    faults.stopping = true;
    atomic_store(&faults.stopping_flag, true);
    pthread_cond_broadcast(&faults.changed);
    pthread_mutex_unlock(&faults.lock);
}

bool faults_stopping(void)
{
    return atomic_load(&faults.stopping_flag);
}

bool faults_sending(void)
{
    return atomic_load(&faults.sending);
}

bool faults_wait_hang(void)
{
    bool ok;

    pthread_mutex_lock(&faults.lock);
    while (faults.st.hang && !faults.stopping)
        pthread_cond_wait(&faults.changed, &faults.lock);
    ok = !faults.stopping;
    pthread_mutex_unlock(&faults.lock);
    return ok;
}

bool faults_wait_latency(int64_t start_ns)
{
    struct timespec ts;
    int64_t deadline;
    bool ok;

    pthread_mutex_lock(&faults.lock);
    for (;;) {
        if (faults.stopping)
            break;
        deadline = start_ns + (int64_t)faults.st.latency_ms * 1000000;
        if (clock_mono_ns() >= deadline)
            break;
        ts.tv_sec = (time_t)(deadline / 1000000000);
        ts.tv_nsec = (long)(deadline % 1000000000);
        pthread_cond_timedwait(&faults.changed, &faults.lock, &ts);
    }
    ok = !faults.stopping;
    pthread_mutex_unlock(&faults.lock);
    return ok;
}

static uint64_t faults_random(void)
{
    return rng_mix(atomic_fetch_add(&faults.rnd, 0x9e3779b97f4a7c15ULL));
}

bool faults_roll_error(void)
{
    double rate;

    pthread_mutex_lock(&faults.lock);
    rate = faults.st.error_rate;
    pthread_mutex_unlock(&faults.lock);
    if (rate <= 0.0)
        return false;
    if (rate >= 1.0)
        return true;
    return (double)(faults_random() >> 11) * 0x1.0p-53 < rate;
}

char *faults_garbage(size_t *len)
{
    size_t n = 64 + (size_t)(faults_random() % 4033);
    char *p = malloc(n);
    size_t i;
    uint64_t r = 0;

    if (!p)
        return NULL;
    for (i = 0; i < n; i++) {
        if (i % 8 == 0)
            r = faults_random();
        p[i] = (char)(r & 0xff);
        r >>= 8;
    }
    /* make sure the usual traps are in there: NUL, ESC, an overlong and a lone continuation byte */
    memcpy(p, "\x1b[2J\xc0\xaf\x80\x00# TYPE {\"", 16);
    *len = n;
    return p;
}

static int faults_bool(const char *key, const char *value, bool *out, char *err, size_t errlen)
{
    if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0) {
        *out = false;
        return 0;
    }
    snprintf(err, errlen, "%s: expected 0 or 1, got '%.64s'", key, value);
    return -1;
}

int faults_parse_param(struct fault_state *st, const char *key, const char *value, char *err, size_t errlen)
{
    char *end;

    if (!value)
        value = "";
    if (strcmp(key, "latency_ms") == 0) {
        long long v;
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < 0 || v > CONFIG_LATENCY_MAX) {
            snprintf(err, errlen, "latency_ms: expected an integer from 0 to %d, got '%.64s'",
                     CONFIG_LATENCY_MAX, value);
            return -1;
        }
        st->latency_ms = (int)v;
        return 0;
    }
    if (strcmp(key, "error_rate") == 0) {
        double v;
        errno = 0;
        v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || v < 0.0 || v > 1.0) {
            snprintf(err, errlen, "error_rate: expected a number from 0 to 1, got '%.64s'", value);
            return -1;
        }
        st->error_rate = v;
        return 0;
    }
    if (strcmp(key, "garbage") == 0)
        return faults_bool(key, value, &st->garbage, err, errlen);
    if (strcmp(key, "hang") == 0)
        return faults_bool(key, value, &st->hang, err, errlen);
    if (strcmp(key, "send") == 0)
        return faults_bool(key, value, &st->send, err, errlen);
    snprintf(err, errlen,
             "unknown parameter '%.64s' (known: latency_ms, error_rate, garbage, hang, send)", key);
    return -1;
}

json_t *faults_to_json(const struct fault_state *st)
{
    return json_pack("{s:i, s:f, s:b, s:b, s:b}", "latency_ms", st->latency_ms, "error_rate",
                     st->error_rate, "garbage", st->garbage, "hang", st->hang, "send", st->send);
}
