/* Campaign authoring: the draft a form or a JSON file fills in, what is
 * wrong with it (field by field), saving it as a new revision through
 * campaign_save() (sql/004_authoring.sql), cloning, test sends, promoting
 * an A/B winner, the preview renderer, and the A/B significance test.
 *
 * Like control.c, every write is one statement and so one short
 * transaction on the server, under a request id made here: sending the
 * same request twice applies it once, and after a lost connection
 * authoring_verify() settles the outcome by that id. Nothing here includes
 * curses; the UI calls these from its database worker. */
#ifndef MARKETING_AUTHORING_H
#define MARKETING_AUTHORING_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "control.h"

#define AUTHORING_MAX_VARIANTS 4
#define AUTHORING_MAX_PROBLEMS 24
#define AUTHORING_NAME_MAX 200
#define AUTHORING_RATE_DEFAULT 600
#define AUTHORING_RATE_MAX 10000000

struct authoring_variant {
    char letter[2];             /* "A" to "D" */
    int split;                  /* percent, 1 to 100 */
    char *subject, *body;       /* NULL: the revision's */
};

/* A campaign as the operator writes it. Strings are owned (malloc) and
 * NULL when not given. */
struct authoring_draft {
    char *name, *type, *segment_id, *from, *subject, *body;
    char *send_at;              /* text with a zone: "2026-12-01 09:00 Europe/Berlin"; NULL: none */
    char *note;                 /* goes on the revision and the audit row */
    struct authoring_variant variants[AUTHORING_MAX_VARIANTS];
    size_t nvariants;
    int rate_limit;             /* per minute; 0: the default (600) */
    int version;                /* the file's "version": the one the edit expects; 0: none */
};

/* One thing wrong: the field ("subject", "variants[1].split_percent") and
 * the whole message ("subject: empty"). */
struct authoring_problem {
    char field[48];
    char text[256];
};

struct authoring_problems {
    struct authoring_problem v[AUTHORING_MAX_PROBLEMS];
    size_t n;
};

void authoring_draft_init(struct authoring_draft *d);
void authoring_draft_free(struct authoring_draft *d);

/* A deep copy of src into dst (initialized or freed): for handing a draft
 * from the UI thread to the database worker. 0, or -1 when memory ran out
 * (dst is then empty). */
int authoring_draft_copy(struct authoring_draft *dst, const struct authoring_draft *src);

/* Adds a problem (printf-style message after "field: "). */
void authoring_problem_add(struct authoring_problems *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads the JSON format (README, demo/campaign.example.json) into d,
 * strictly: unknown fields and wrong types are problems naming the field.
 * Fields present replace d's; fields absent keep them (an edit starts from
 * the campaign as it is). "variants", when present, replaces them all.
 * Returns the number of problems added (0: all read). */
size_t authoring_draft_apply_json(struct authoring_draft *d, const json_t *obj,
                                  struct authoring_problems *p);

/* The same from text (a file's contents); a syntax error is one problem,
 * "file: line L, column C: ...". */
size_t authoring_draft_parse(struct authoring_draft *d, const char *text, struct authoring_problems *p);

/* The fields as campaign_save() takes them (no note, no version). New
 * reference. */
json_t *authoring_draft_to_json(const struct authoring_draft *d);

/* What is wrong, without the database: every required field, types, name
 * length, rate limit bounds, send_at with a zone, 2 to 4 variants A-D whose
 * splits add up to 100 and none 0, placeholders that are well formed.
 * Returns the number of problems added. */
size_t authoring_validate(const struct authoring_draft *d, struct authoring_problems *p);

/* What is wrong that only the database knows: the segment exists, and
 * every {{placeholder}} is an attribute of some member of the segment
 * ("email" always is), with a suggestion for a near miss ("did you mean
 * first_name?"). Reads only. Returns the number of problems added, or -1
 * with err when a query or the connection failed. */
int authoring_validate_db(PGconn *conn, const struct authoring_draft *d, int timeout_ms, int cancel_fd,
                          struct authoring_problems *p, char *err, size_t errsz);

/* The candidate nearest to word by edit distance, if it is near enough to
 * be a typo (at most 2 edits, and fewer than half the word); NULL if none. */
const char *authoring_suggest(const char *word, const char *const *cands, size_t n);

/* Loads a campaign's current fields (campaign_fields()) into d, and its
 * version and status. Returns 0, 1 when there is no such campaign, or -1
 * with err. */
int authoring_load(PGconn *conn, const char *id, int timeout_ms, int cancel_fd, struct authoring_draft *d,
                   int *version, char *status, size_t status_sz, char *err, size_t errsz);

/* Who a preview is for: the contact with address email (any case), or,
 * with email NULL, the segment's first reachable member. Sets *email_out
 * and *attrs_out (the attributes' JSON text; malloc'd, the caller frees).
 * Returns 0 when found; 1 when there is no such contact (then *email_out
 * is a copy of email or NULL, and *attrs_out "{}", as the backend renders
 * a test send to a stranger); -1 with err. */
int authoring_preview_contact(PGconn *conn, const char *segment_id, const char *email, int timeout_ms,
                              int cancel_fd, char **email_out, char **attrs_out, char *err, size_t errsz);

/* ---- writes ---- */

enum authoring_op { AU_CREATE, AU_EDIT, AU_CLONE, AU_PROMOTE, AU_TEST_SEND };

struct authoring_request {
    char request_id[37];
    enum authoring_op op;
    char campaign_id[64];       /* "" for create */
    int expected_version;       /* edit, promote: 0 any */
    char note[256];
    const struct authoring_draft *draft;  /* create, edit (not owned) */
    char name[256];             /* clone: "" for "Copy of NAME" */
    char variant[2];            /* promote: the winner; test send: "" for the base content */
    char address[321];          /* test send */
};

struct authoring_result {
    struct ctl_result r;        /* outcome, campaign_id, status, version, revision, changed_by, ... */
    struct authoring_problems problems;   /* outcome invalid: the server's list */
    char changed[256];          /* edit: the fields that changed, "body, subject" */
    int previous_revision;      /* edit, promote */
    char cloned_from[64];
    long long test_delivery_id;
};

/* "create", "edit", "clone", "promote", "test_send": the audit log's words. */
const char *authoring_op_name(enum authoring_op op);

/* Starts a request with a new random request id. 0, or -1 without randomness. */
int authoring_request_init(struct authoring_request *rq, enum authoring_op op, const char *campaign_id,
                           int expected_version);

/* Runs the request: one statement, retried whole after a serialization
 * failure or deadlock. Returns 0 when out->r.outcome is settled, or -1
 * when the connection failed (CTL_UNKNOWN if the request may have reached
 * the server: settle it with authoring_verify on a new connection). */
int authoring_execute(PGconn *conn, const struct authoring_request *rq, const struct ctl_identity *id,
                      int timeout_ms, int cancel_fd, struct authoring_result *out);

/* Settles an unknown outcome by request id (ctl_verify): APPLIED with the
 * campaign as the request left it, or NOT_APPLIED. -1 when it still cannot
 * tell. */
int authoring_verify(PGconn *conn, const struct authoring_request *rq, int timeout_ms, int cancel_fd,
                     struct authoring_result *out);

/* One sentence for the operator: "Campaign created: cmp_12 (draft, version 1, revision 1)". */
void authoring_describe(const struct authoring_request *rq, const struct authoring_result *r, char *buf,
                        size_t n);

/* ---- preview ---- */

/* {{placeholder}} substitution exactly as the demo backend sends it
 * (demo/backend/mail.c): "{{ key }}" takes the attribute's value (strings
 * as they are, numbers and booleans as text), "email" falls back to the
 * address, unknown keys render empty, an unclosed "{{" stays. attributes
 * is the contact's JSON object text (NULL or invalid: none). malloc'd. */
char *authoring_render_template(const char *tmpl, const char *attributes, const char *email);

/* Whether a body is HTML (it has a known tag such as <p>, <br>, <a ...>). */
bool authoring_is_html(const char *body);

/* An HTML body as plain text for the terminal: tags stripped, script and
 * style dropped, the common entities decoded, links as "text (url)",
 * paragraphs, headings and <br> as line breaks, list items as "- ".
 * malloc'd. */
char *authoring_html_to_text(const char *html);

/* What a recipient sees: the template rendered, then as text if HTML. */
char *authoring_render(const char *tmpl, const char *attributes, const char *email);

/* ---- A/B results ---- */

/* A pooled two-proportion z-test of x1/n1 against x2/n2. Returns 0 with z
 * (positive when the first rate is higher) and the two-sided p-value, or
 * -1 with why when the samples are too small to say anything (fewer than
 * 30 in a group, or fewer than 5 expected successes or failures), or the
 * rates cannot differ (both 0% or both 100%). */
int authoring_ztest(long long x1, long long n1, long long x2, long long n2, double *z, double *p,
                    char *why, size_t whysz);

struct authoring_ab_row {
    char variant[2];            /* "" for deliveries without a variant */
    long long sent, opened, clicked;
    /* against the leader (by click rate); tested false: see why */
    bool tested;
    double z_open, p_open, z_click, p_click;
    char why[120];
};

struct authoring_ab {
    struct authoring_ab_row v[AUTHORING_MAX_VARIANTS + 1];
    size_t n;
    int leader;                 /* index into v, -1: no variants */
    bool significant;           /* the leader's click rate beats every other at 5% */
    char verdict[240];
};

/* Reads campaign_ab_results(). 0, or -1 with err. */
int authoring_ab_fetch(PGconn *conn, const char *id, int timeout_ms, int cancel_fd, struct authoring_ab *out,
                       char *err, size_t errsz);

/* Fills the leader, each row's test against it and the verdict. */
void authoring_ab_analyze(struct authoring_ab *ab);

#endif
