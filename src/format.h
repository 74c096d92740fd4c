/* Numbers, ages and times as the console shows them. */
#ifndef MARKETING_FORMAT_H
#define MARKETING_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* 999, 1.2k, 12k, 1.2M, 12M, 1.2G: at most 5 characters. */
void fmt_count(char *buf, size_t n, int64_t v);

/* A count in full with thousands separated by commas: "4,812", "-12". */
void fmt_grouped(char *buf, size_t n, int64_t v);

/* A percentage of part in whole with one decimal ("23.4%"), or "-" when
 * whole is 0. */
void fmt_percent(char *buf, size_t n, int64_t part, int64_t whole);

/* An age or duration in the largest sensible unit: "0s", "42s", "5m",
 * "3h", "2d". Negative ages (clock skew) show as "0s". */
void fmt_age(char *buf, size_t n, int64_t ms);

#endif
