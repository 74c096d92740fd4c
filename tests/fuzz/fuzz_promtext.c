/* libFuzzer target: the Prometheus text parser in both formats, and the
 * scrape built on it. Each input is parsed whole, then fed to the stream in
 * chunks whose sizes come from the input itself; the two must agree on the
 * count, on every sample (a digest of them) and on the error text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "poller.h"
#include "promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
    long n;
    uint64_t h;
};

static void mix(struct digest *d, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ c[i]) * 0x100000001b3ULL;
    d->h = (d->h ^ 0xff) * 0x100000001b3ULL; /* a separator */
}

static int record(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    (void)msg;
    (void)msgsz;
    struct digest *d = arg;
    d->n++;
    mix(d, s->name, strlen(s->name));
    mix(d, s->family, strlen(s->family));
    for (size_t i = 0; i < s->n_labels; i++) {
        mix(d, s->labels[i].name, strlen(s->labels[i].name));
        mix(d, s->labels[i].value, strlen(s->labels[i].value));
    }
    mix(d, &s->value, sizeof s->value);
    mix(d, &s->type, sizeof s->type);
    int64_t ts = s->has_timestamp ? s->timestamp_ms : INT64_MIN;
    mix(d, &ts, sizeof ts);
    mix(d, &s->line, sizeof s->line);
    return 0;
}

/* Chunk sizes from the input: a small generator seeded by its length and
 * first bytes, so that libFuzzer's mutations move the splits too. */
static size_t next_chunk(uint64_t *state, size_t left)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t r = *state >> 33;
    size_t n;
    switch (r & 3) {
    case 0: n = 1; break;
    case 1: n = (size_t)(r >> 2) % 8 + 1; break;
    case 2: n = (size_t)(r >> 2) % 256 + 1; break;
    default: n = (size_t)(r >> 2) % 70000 + 1; break;
    }
    return n < left ? n : left;
}

static void check_format(enum promtext_format format, const uint8_t *data, size_t size)
{
    char err[256], err2[256];
    struct digest whole = { 0, 0 }, chunked = { 0, 0 };
    err[0] = err2[0] = '\0';
    long n = promtext_parse_format(format, (const char *)data, size, record, &whole, err, sizeof err);

    uint64_t seed = size;
    for (size_t i = 0; i < size && i < 8; i++)
        seed = seed * 131u + data[i];
    struct promtext_stream *st = promtext_stream_new(format, record, &chunked);
    if (!st)
        abort();
    long m = 0;
    size_t at = 0;
    while (at < size && m == 0) {
        size_t k = next_chunk(&seed, size - at);
        if (promtext_stream_feed(st, (const char *)data + at, k, err2, sizeof err2) != 0)
            m = -1;
        at += k;
    }
    if (m == 0)
        m = promtext_stream_end(st, err2, sizeof err2);
    promtext_stream_free(&st);
    if (n != m || (n < 0 && strcmp(err, err2) != 0) || whole.n != chunked.n || whole.h != chunked.h) {
        fprintf(stderr, "%s: whole body %ld \"%s\" (%ld samples), chunked %ld \"%s\" (%ld samples)\n",
                promtext_format_name(format), n, n < 0 ? err : "", whole.n, m, m < 0 ? err2 : "", chunked.n);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_format(PROMTEXT_FORMAT_TEXT, data, size);
    check_format(PROMTEXT_FORMAT_OPENMETRICS, data, size);
    char err[256];
    struct poll_scrape *s = poll_scrape_parse((const char *)data, size, err, sizeof err);
    poll_scrape_free(&s);
    return 0;
}
