/* model: contacts and segments (membership by rule evaluation). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexicon.h"
#include "rng.h"

const char *const contact_status_names[] = {"active", "unsubscribed", "bounced", "blocklisted"};
const char *const campaign_status_names[] = {"draft", "scheduled", "active", "paused",
                                             "completed", "cancelled"};
const char *const campaign_type_names[] = {"email", "sms", "push"};
const char *const action_names[] = {"create", "edit", "launch", "pause",
                                    "resume", "complete", "cancel", "rollback"};
const char *const channel_names[] = {"email", "sms", "push", "organic", "paid"};

/* Contacts sign up over the two years before the base time, more of them
 * recently (the density grows linearly). Ids follow created_at. */
void model_contacts(struct model *m)
{
    lexicon_init();
    struct rng r;
    rng_seed(&r, m->seed, STREAM_CONTACTS);
    size_t n = m->ncontacts;
    m->contacts = xcalloc(n, sizeof *m->contacts);
    unsigned cw[32];
    for (size_t i = 0; i < ncountries; i++)
        cw[i] = countries[i].weight;
    ts_t span = 730 * TS_DAY - TS_HOUR, start = m->base - 730 * TS_DAY;
    static const unsigned status_w[] = {940, 30, 20, 10};

    for (size_t i = 0; i < n; i++) {
        struct contact *c = &m->contacts[i];
        double x = ((double)i + rng_unit(&r)) / (double)n;
        c->created_at = start + (ts_t)(sqrt(x) * (double)span);
        size_t k = rng_weighted(&r, cw, ncountries);
        const struct country *co = &countries[k];
        c->country = (uint8_t)k;
        c->first = (uint16_t)rng_range(&r, (int64_t)region_first[co->region],
                                       (int64_t)region_first[co->region + 1] - 1);
        c->last = (uint16_t)rng_range(&r, (int64_t)region_last[co->region],
                                      (int64_t)region_last[co->region + 1] - 1);
        c->plan = (uint8_t)rng_weighted(&r, plan_weights, nplans);
        double age = rng_normal(&r, 38, 12);
        c->age = (uint8_t)(age < 18 ? 18 : age > 79 ? 79 : lround(age));
        /* language: 0 main, 1 second, 2 English */
        unsigned l = rng_chance(&r, co->lang2_pct / 100.0) ? 1 : 0;
        if (!l && strcmp(co->lang, "en") != 0 && rng_chance(&r, 0.04))
            l = 2;
        c->language = (uint8_t)l;
        c->domain = (uint8_t)rng_weighted(&r, email_domain_weights, nemail_domains);
        c->status = (uint8_t)rng_weighted(&r, status_w, 4);
        if (c->status != CS_ACTIVE)
            c->changed_at = c->created_at + (ts_t)(rng_unit(&r) * (double)(m->base - c->created_at));
        int64_t day = ts_day(c->created_at);
        if (rng_chance(&r, 0.08)) /* imported from an older CRM */
            day -= rng_range(&r, 30, 1500);
        c->signup_day = (int32_t)day;
    }
}

size_t segment_eligible(const struct model *m, const struct segment *s, ts_t t)
{
    size_t lo = 0, hi = s->nreach;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->contacts[s->reach[mid]].created_at <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *contact_language(const struct contact *c)
{
    const struct country *co = &countries[c->country];
    return c->language == 1 ? co->lang2 : c->language == 2 ? "en" : co->lang;
}

/* Beyond the catalog: country and plan combinations. */
static void extra_segment(struct segment *s, size_t k, struct rng *r)
{
    const struct country *co = &countries[rng_below(r, 12)];
    const char *plan = plans[rng_below(r, nplans)];
    int age = (int)rng_range(r, 2, 5) * 10;
    s->name = xasprintf("%s, %s plan, %d and over (#%zu)", co->code, plan, age, k + 1);
    s->label = xasprintf("%s %s %d+", co->code, plan, age);
    s->rule_text = xasprintf("country = \"%s\" and plan = \"%s\" and age >= %d", co->code, plan, age);
}

void model_segments(struct model *m)
{
    struct rng r;
    rng_seed(&r, m->seed, STREAM_SEGMENTS);
    date_format(m->date_year_ago, ts_day(m->base - 365 * TS_DAY));
    m->segs = xcalloc(m->nseg, sizeof *m->segs);
    size_t words = (m->ncontacts + 63) / 64;
    ts_t created = m->base - 735 * TS_DAY;
    ts_t step_max = (m->nseg > 1 ? (600 * TS_DAY) / (ts_t)m->nseg : 25 * TS_DAY);
    if (step_max > 25 * TS_DAY)
        step_max = 25 * TS_DAY;

    for (size_t k = 0; k < m->nseg; k++) {
        struct segment *s = &m->segs[k];
        snprintf(s->id, sizeof s->id, "seg_%zu", k + 1);
        if (k < nsegment_catalog) {
            s->name = xstrdup(segment_catalog[k].name);
            s->label = xstrdup(segment_catalog[k].label);
            s->rule_text = str_replace(segment_catalog[k].rule, "{date}", m->date_year_ago);
        } else {
            extra_segment(s, k, &r);
        }
        char err[256];
        if (rule_parse(s->rule_text, &s->rule, err, sizeof err) != 0)
            die("segment %s: bad rule '%s': %s", s->id, s->rule_text, err);
        if (k > 0)
            created += rng_range(&r, step_max / 5, step_max);
        s->created_at = created;
        s->refreshed_at = m->base - rng_range(&r, 2 * TS_MIN, 50 * TS_MIN);
        s->bits = xcalloc(words, sizeof *s->bits);
    }
    size_t *cap = xcalloc(m->nseg, sizeof *cap);

    char date[11];
    struct rule_subject subj;
    subj.str[RF_SIGNUP_DATE] = date;
    for (size_t i = 0; i < m->ncontacts; i++) {
        const struct contact *c = &m->contacts[i];
        date_format(date, c->signup_day);
        subj.str[RF_COUNTRY] = countries[c->country].code;
        subj.str[RF_PLAN] = plans[c->plan];
        subj.str[RF_LANGUAGE] = contact_language(c);
        subj.str[RF_FIRST_NAME] = first_names[c->first].display;
        subj.str[RF_LAST_NAME] = last_names[c->last].display;
        subj.str[RF_AGE] = NULL;
        subj.age = c->age;
        for (size_t k = 0; k < m->nseg; k++) {
            struct segment *s = &m->segs[k];
            if (!rule_eval(s->rule, &subj))
                continue;
            s->bits[i >> 6] |= UINT64_C(1) << (i & 63);
            s->size++;
            if (c->status != CS_ACTIVE)
                continue;
            if (s->nreach == cap[k]) {
                cap[k] = cap[k] ? cap[k] * 2 : 1024;
                s->reach = xrealloc(s->reach, cap[k] * sizeof *s->reach);
            }
            s->reach[s->nreach++] = (uint32_t)i;
        }
    }
    free(cap);
    for (size_t k = 0; k < m->nseg; k++)
        m->nmembers += m->segs[k].size;
}

void model_free(struct model *m)
{
    for (size_t k = 0; k < m->nseg; k++) {
        struct segment *s = &m->segs[k];
        free(s->name);
        free(s->label);
        free(s->rule_text);
        rule_free(s->rule);
        free(s->bits);
        free(s->reach);
    }
    for (size_t i = 0; i < m->ncamp; i++) {
        struct campaign *c = &m->camps[i];
        free(c->name);
        for (int k = 0; k < c->nrev; k++) {
            struct revision *v = &c->rev[k];
            free(v->from);
            free(v->subject);
            free(v->body);
            free(v->note);
            for (int j = 0; j < v->nvariants; j++) {
                free(v->v[j].subject);
                free(v->v[j].body);
            }
        }
        for (int k = 0; k < c->naudit; k++)
            free(c->audit[k].note);
    }
    free(m->segs);
    free(m->camps);
    free(m->contacts);
    free(m->conv);
}
