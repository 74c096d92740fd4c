/* lexicon: the words the demo data is made of (names, countries, plans,
 * campaign templates, operators, notes). Tables only; no logic but the
 * email-safe spelling of names. */
#ifndef GEN_LEXICON_H
#define GEN_LEXICON_H

#include <stddef.h>

enum region { R_EN, R_DE, R_FR, R_ES, R_PT, R_IN, R_JA, R_IT, R_NL, R_SV, R_PL, R_NREGIONS };

struct country {
    const char *code;
    unsigned weight;
    enum region region;
    const char *lang;      /* main language */
    const char *lang2;     /* second language, or NULL */
    unsigned lang2_pct;
};
extern const struct country countries[];
extern const size_t ncountries;

struct person_name {
    const char *display; /* as written, UTF-8 */
    char slug[32];       /* lowercase ASCII for email addresses */
};
/* names of a region: first[region_first[r] .. region_first[r + 1]) */
extern struct person_name *first_names, *last_names;
extern size_t region_first[R_NREGIONS + 1], region_last[R_NREGIONS + 1];

extern const char *const plans[];
extern const unsigned plan_weights[];
extern const size_t nplans;
extern const char *const email_domains[];
extern const unsigned email_domain_weights[];
extern const size_t nemail_domains;

/* a segment from the catalog; {date} in the rule is filled with the date
 * one year before the base time */
struct segment_def {
    const char *name;
    const char *label; /* short, for campaign names: "Spring Sale — DE" */
    const char *rule;
};
extern const struct segment_def segment_catalog[];
extern const size_t nsegment_catalog;

enum channel_mask { CH_EMAIL = 1, CH_SMS = 2, CH_PUSH = 4 };
enum template_flags { T_LABEL = 1, T_SERIES = 2 };

/* a campaign template. {n} is the series number, {label} the segment label.
 * Email bodies use {{first_name}} (rendered per contact by the system). */
struct campaign_template {
    const char *name;
    unsigned channels;
    unsigned flags;
    int from;                /* index into from_addresses */
    const char *subject;
    const char *subject_alt; /* the B variant / "new subject line" edit */
    const char *body;
    const char *sms;
    const char *push_title;
    const char *push_body;
};
extern const struct campaign_template templates[];
extern const size_t ntemplates;
extern const char *const from_addresses[];
extern const size_t nfrom_addresses;
extern const char *const sms_sender;
extern const char *const push_sender;

enum operator_role { OP_MARKETER, OP_ONCALL };
struct operator_def {
    const char *db_user;
    const char *os_user;
    const char *ip;
    enum operator_role role;
};
extern const struct operator_def operators[];
extern const size_t noperators;
/* the campaign worker (completes campaigns) */
extern const char *const backend_db_user;
extern const char *const backend_application;
extern const char *const console_application;

extern const char *const pause_notes[];
extern const size_t npause_notes;
extern const char *const resume_notes[];
extern const size_t nresume_notes;
extern const char *const cancel_notes[];
extern const size_t ncancel_notes;
extern const char *const rollback_reasons[];
extern const size_t nrollback_reasons;

/* per channel: delivery errors of failed sends and of bounces */
extern const char *const fail_errors[3][4];
extern const char *const bounce_errors[3][3];

/* builds the name tables (slugs); call once before use */
void lexicon_init(void);

#endif
