#include "healthjson.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies src into dst as printable ASCII on one line: other bytes (jansson
 * quotes the body near an error) become '?'. */
static void ascii_line(char *dst, size_t dstsz, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < dstsz; src++) {
        unsigned char c = (unsigned char)*src;
        dst[n++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    dst[n] = '\0';
}

static int invalid(char *err, size_t errsz, const char *what)
{
    snprintf(err, errsz, "invalid response (%s)", what);
    return -1;
}

void healthjson_free(struct healthjson *h)
{
    if (!h)
        return;
    free(h->status);
    free(h->version);
    for (size_t i = 0; i < h->n_checks; i++) {
        free(h->check_names[i]);
        free(h->check_status[i]);
    }
    free(h->check_names);
    free(h->check_status);
    memset(h, 0, sizeof *h);
    h->uptime = -1;
}

static int parse_checks(json_t *checks, struct healthjson *out, char *err, size_t errsz)
{
    if (!json_is_object(checks))
        return invalid(err, errsz, "\"checks\" is not an object");
    size_t n = json_object_size(checks);
    if (n > HEALTHJSON_MAX_CHECKS) {
        char what[64];
        snprintf(what, sizeof what, "more than %d checks", HEALTHJSON_MAX_CHECKS);
        return invalid(err, errsz, what);
    }
    if (n == 0)
        return 0;
    out->check_names = calloc(n, sizeof *out->check_names);
    out->check_status = calloc(n, sizeof *out->check_status);
    if (!out->check_names || !out->check_status)
        return invalid(err, errsz, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(checks, key, v) {
        if (json_is_object(v))
            v = json_object_get(v, "status");
        if (!json_is_string(v)) {
            char what[160], name[80];
            ascii_line(name, sizeof name, key);
            snprintf(what, sizeof what, "check \"%s\" is not a string", name);
            return invalid(err, errsz, what);
        }
        size_t i = out->n_checks;
        out->check_names[i] = strdup(key);
        out->check_status[i] = strdup(json_string_value(v));
        out->n_checks++; /* counted first: healthjson_free frees both */
        if (!out->check_names[i] || !out->check_status[i])
            return invalid(err, errsz, "out of memory");
    }
    return 0;
}

static int parse_doc(json_t *root, struct healthjson *out, char *err, size_t errsz)
{
    if (!json_is_object(root))
        return invalid(err, errsz, "not a JSON object");
    json_t *status = json_object_get(root, "status");
    if (!status)
        return invalid(err, errsz, "no \"status\"");
    if (!json_is_string(status))
        return invalid(err, errsz, "\"status\" is not a string");
    if (!(out->status = strdup(json_string_value(status))))
        return invalid(err, errsz, "out of memory");
    json_t *version = json_object_get(root, "version");
    if (version) {
        if (!json_is_string(version))
            return invalid(err, errsz, "\"version\" is not a string");
        if (!(out->version = strdup(json_string_value(version))))
            return invalid(err, errsz, "out of memory");
    }
    json_t *uptime = json_object_get(root, "uptime");
    if (uptime) {
        if (json_is_integer(uptime)) {
            json_int_t u = json_integer_value(uptime);
            if (u < 0)
                return invalid(err, errsz, "\"uptime\" is negative");
            out->uptime = (int64_t)u;
        } else if (json_is_real(uptime)) {
            double u = json_real_value(uptime);
            if (!(u >= 0.0 && u < 9.2e18))
                return invalid(err, errsz, "\"uptime\" is out of range");
            out->uptime = (int64_t)u;
        } else {
            return invalid(err, errsz, "\"uptime\" is not a number");
        }
    }
    json_t *checks = json_object_get(root, "checks");
    if (checks)
        return parse_checks(checks, out, err, errsz);
    return 0;
}

int healthjson_parse(const char *body, size_t len, struct healthjson *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    out->uptime = -1;
    if (len > HEALTHJSON_MAX_BYTES) {
        char what[64];
        snprintf(what, sizeof what, "larger than %d bytes", HEALTHJSON_MAX_BYTES);
        return invalid(err, errsz, what);
    }
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        char text[JSON_ERROR_TEXT_LENGTH];
        ascii_line(text, sizeof text, jerr.text);
        snprintf(err, errsz, "invalid response (%d:%d %s)", jerr.line, jerr.column, text);
        return -1;
    }
    int rc = parse_doc(root, out, err, errsz);
    json_decref(root);
    if (rc != 0)
        healthjson_free(out);
    return rc;
}
