/* mail: RFC 5322 messages from a campaign revision (or its A/B variant) and
 * a contact: {{placeholder}} rendering from the contact's attributes, header
 * sanitizing, RFC 2047 encoding of non-ASCII subjects. */
#ifndef BACKEND_MAIL_H
#define BACKEND_MAIL_H

#include "util.h"

#include <stdbool.h>

struct mail_parts {
    const char *from;
    const char *to;
    const char *subject;      /* template */
    const char *body;         /* template */
    const char *attributes;   /* the contact's attributes, JSON text */
    const char *campaign_id;
    const char *variant;      /* NULL: none */
    long long delivery_id;    /* or the test delivery's id */
    bool test;                /* a test send: "X-Test-Send: yes", Message-ID <tN.…> */
};

/* The whole message, LF line endings as maildir stores them. "{{ key }}"
 * renders from the attributes object ("email" falls back to the address);
 * unknown keys render empty, an unclosed "{{" stays as it is. */
void mail_compose(struct strbuf *out, const struct mail_parts *m);

#endif
