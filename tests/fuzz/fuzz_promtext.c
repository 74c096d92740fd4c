/* libFuzzer target: the Prometheus text parser, and the scrape built on it. */
#include <stddef.h>
#include <stdint.h>

#include "poller.h"
#include "promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    (void)s;
    (void)msg;
    (void)msgsz;
    ++*(long *)arg;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    long n = 0;
    promtext_parse((const char *)data, size, count, &n, err, sizeof err);
    struct poll_scrape *s = poll_scrape_parse((const char *)data, size, err, sizeof err);
    poll_scrape_free(&s);
    return 0;
}
