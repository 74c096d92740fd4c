/* model: the whole generated data set, in memory before it is loaded.
 *
 * Everything is derived from (seed, sizes, base time). The base time is the
 * one "now" of the data set: read once from the server (now(), truncated to
 * the second) or given with --now. Every timestamp is base plus or minus a
 * drawn offset, so two runs with the same seed and sizes have the same shape
 * relative to their base, and the same bytes when the base is the same. */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "rule.h"
#include "util.h"

enum contact_status { CS_ACTIVE, CS_UNSUBSCRIBED, CS_BOUNCED, CS_BLOCKLISTED };
extern const char *const contact_status_names[];

struct contact {
    ts_t created_at;
    ts_t changed_at;      /* when the status left 'active' (0: never) */
    ts_t last_opened_at;  /* from the generated deliveries (0: never) */
    ts_t last_clicked_at;
    int32_t signup_day;   /* days since the epoch */
    uint16_t first, last; /* into first_names, last_names */
    uint8_t country, plan, age, language, domain, status;
};

struct segment {
    char id[32];
    char *name, *label, *rule_text;
    struct rule *rule;
    ts_t created_at, refreshed_at;
    uint64_t size;
    uint64_t *bits;   /* membership, one bit per contact */
    uint32_t *reach;  /* active members (contact indexes, ascending) */
    size_t nreach;
};

enum campaign_status { ST_DRAFT, ST_SCHEDULED, ST_ACTIVE, ST_PAUSED, ST_COMPLETED, ST_CANCELLED,
                       ST_N };
extern const char *const campaign_status_names[];
enum campaign_type { CT_EMAIL, CT_SMS, CT_PUSH };
extern const char *const campaign_type_names[];
enum action { A_CREATE, A_EDIT, A_LAUNCH, A_PAUSE, A_RESUME, A_COMPLETE, A_CANCEL, A_ROLLBACK };
extern const char *const action_names[];

#define MAX_REV 4
#define MAX_WIN 3
#define MAX_AUDIT 16
#define OP_BACKEND (-1)

struct variant {
    char letter;
    int split;      /* percent */
    char *subject;  /* NULL: the revision's */
    char *body;     /* NULL: the revision's */
};

struct revision {
    int restored_from; /* 0: an edit (or the first revision) */
    ts_t created_at;
    int author;        /* operator index */
    char *from, *subject, *body, *note;
    int nvariants;
    struct variant v[2];
};

/* a stretch of sending at the campaign's rate, under one revision */
struct window {
    ts_t start, end;
    int revision;
};

struct audit {
    uint8_t action;
    int8_t from_status, to_status; /* -1: NULL */
    int from_version, to_version;  /* 0: NULL */
    int revision;
    int op;                        /* operator index or OP_BACKEND */
    ts_t at;
    char *note;
    char request_id[37];
    uint16_t ssh_port, tty;
};

struct campaign {
    unsigned gen;      /* generation index: names the campaign's rng streams */
    int id;            /* cmp_<id>, in order of created_at */
    char *name;
    int type, tmpl, series_no, seg, status, version, owner;
    int rate;          /* per minute */
    ts_t send_at;
    int64_t audience;  /* -1: NULL */
    int64_t cost_cents;
    ts_t created_at, updated_at, launched_at, paused_at, completed_at, cancelled_at;
    int nrev;
    struct revision rev[MAX_REV];
    int nwin;
    struct window win[MAX_WIN];
    uint64_t eligible; /* reachable members created by launch time */
    uint64_t planned;  /* deliveries: the first 'planned' eligible members */
    double open_rate, click_rate, bounce_rate, fail_rate, conv_rate;
    int naudit;
    struct audit audit[MAX_AUDIT];
    /* counted by the first delivery pass */
    uint64_t sent, bounced, failed, opened, clicked, converted;
};

struct conversion {
    uint32_t contact;
    int campaign;      /* index into campaigns, -1: none */
    uint8_t channel;   /* 0 email, 1 sms, 2 push, 3 organic, 4 paid */
    int64_t revenue_cents;
    ts_t at;
};
extern const char *const channel_names[];

struct model {
    uint64_t seed;
    ts_t base;
    size_t ncontacts, nseg, ncamp;
    struct contact *contacts;
    struct segment *segs;
    struct campaign *camps;  /* sorted by id */
    struct conversion *conv; /* sorted by time */
    size_t nconv, conv_cap;
    uint64_t nmembers, ndeliveries, nrevisions, nvariants, naudit;
    char date_year_ago[11];
};

/* the generation steps, in this order */
void model_contacts(struct model *m);
void model_segments(struct model *m);
void model_campaigns(struct model *m);   /* campaign.c */
void model_content(struct model *m);     /* content.c */
void model_deliveries(struct model *m);  /* deliver.c: first pass */
void model_free(struct model *m);

/* the eligible members of a segment at time t: reach[0 .. n) */
size_t segment_eligible(const struct model *m, const struct segment *s, ts_t t);
/* the contact's "language" attribute */
const char *contact_language(const struct contact *c);

#endif
