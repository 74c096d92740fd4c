/* The console's Prometheus text parser (src/promtext.c) on one file, for
 * bench/parse.sh:
 *
 *     promparse FILE
 *
 * Reads the file in 64 KiB chunks into one buffer and feeds each to the
 * streaming parser (promtext_stream_feed), so the body is never whole in
 * memory, with a callback that reads every sample
 * (sums the finite values and the timestamps, counts the non-finite values
 * and the bytes of every name and label, so that nothing is optimised away)
 * and prints one line:
 *
 *     samples=N parse_ms=X total_ms=Y peak_rss_kib=Z check=... names=... ...
 *
 * parse_ms is the reads and the parse (they interleave); total_ms is from
 * before open() to the end. Peak RSS is getrusage's ru_maxrss. Exit status 1
 * with the parser's message when the body is refused. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "promtext.h"

struct tally {
    double sum;           /* finite values */
    unsigned long nonfinite;
    unsigned long name_bytes;   /* sample and family names */
    unsigned long label_bytes;  /* label names and values */
    int64_t ts_sum;
    unsigned long with_ts;
    unsigned long types[PROMTEXT_N_TYPES];
};

static int consume(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    (void)msg;
    (void)msgsz;
    struct tally *t = arg;
    if (isfinite(s->value))
        t->sum += s->value;
    else
        t->nonfinite++;
    t->name_bytes += strlen(s->name) + strlen(s->family);
    for (size_t i = 0; i < s->n_labels; i++)
        t->label_bytes += strlen(s->labels[i].name) + strlen(s->labels[i].value);
    if (s->has_timestamp) {
        t->ts_sum += s->timestamp_ms / 1000;
        t->with_ts++;
    }
    t->types[s->type]++;
    return 0;
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: promparse FILE\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 2;
    }

    struct tally t = { 0 };
    char err[256];
    static char chunk[64 * 1024];
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct promtext_stream *ps = promtext_stream_new(PROMTEXT_FORMAT_TEXT, consume, &t);
    if (!ps) {
        fprintf(stderr, "promparse: out of memory\n");
        return 2;
    }
    long n = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0) {
            perror(argv[1]);
            return 2;
        }
        if (got == 0) {
            n = promtext_stream_end(ps, err, sizeof err);
            break;
        }
        if (promtext_stream_feed(ps, chunk, (size_t)got, err, sizeof err) != 0) {
            n = -1;
            break;
        }
    }
    promtext_stream_free(&ps);
    close(fd);
    double parse_ms = ms_since(&t1);
    double total_ms = ms_since(&t0);
    if (n < 0) {
        fprintf(stderr, "promparse: %s: %s\n", argv[1], err);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* check= is what bench/parse.sh compares with python's reading of the
     * same file: samples, sum of the finite values, non-finite values, label
     * bytes, samples with a timestamp, sum of the timestamps in seconds */
    printf("samples=%ld parse_ms=%.3f total_ms=%.3f peak_rss_kib=%ld"
           " check=%ld/%.17g/%lu/%lu/%lu/%lld names=%lu counter=%lu gauge=%lu histogram=%lu\n",
           n, parse_ms, total_ms, ru.ru_maxrss, n, t.sum, t.nonfinite, t.label_bytes, t.with_ts,
           (long long)t.ts_sum, t.name_bytes, t.types[PROMTEXT_COUNTER], t.types[PROMTEXT_GAUGE],
           t.types[PROMTEXT_HISTOGRAM]);
    return 0;
}
