/* content: campaign names, revision texts, A/B variants and revision notes.
 *
 * Runs after the campaigns are in id order (series numbers follow it). Each
 * edit is a real change of the previous revision ("fix typo in subject"
 * fixes a typo the previous revision has); a rollback copies the restored
 * revision, variants included. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexicon.h"
#include "model.h"
#include "rng.h"

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void copy_revision(struct revision *dst, const struct revision *src)
{
    dst->from = xstrdup(src->from);
    dst->subject = xstrdup(src->subject);
    dst->body = xstrdup(src->body);
    dst->nvariants = src->nvariants;
    for (int j = 0; j < src->nvariants; j++) {
        dst->v[j] = src->v[j];
        dst->v[j].subject = dup_or_null(src->v[j].subject);
        dst->v[j].body = dup_or_null(src->v[j].body);
    }
}

static void set_str(char **dst, char *value)
{
    free(*dst);
    *dst = value;
}

static void add_ab(struct revision *v, struct rng *r, const char *alt)
{
    int a = rng_chance(r, 0.6) ? 50 : 70;
    v->nvariants = 2;
    v->v[0] = (struct variant){'A', a, xstrdup(v->subject), NULL};
    v->v[1] = (struct variant){'B', 100 - a, xstrdup(alt), NULL};
}

/* places where swapping two different adjacent letters makes a typo: inside
 * a word of 5+ letters, outside {{placeholders}} */
static size_t typo_spots(const char *s, size_t *cand, size_t max)
{
    size_t len = strlen(s), nc = 0;
    for (size_t i = 0; i < len && nc < max;) {
        if (s[i] == '{') {
            const char *e = strstr(s + i, "}}");
            i = e ? (size_t)(e - s) + 2 : len;
            continue;
        }
        size_t j = i;
        while (j < len && isalpha((unsigned char)s[j]))
            j++;
        if (j - i >= 5)
            for (size_t k = i + 1; k + 2 < j && nc < max; k++)
                if (s[k] != s[k + 1])
                    cand[nc++] = k;
        i = j > i ? j : i + 1;
    }
    return nc;
}

static void make_typo(char *s, struct rng *r)
{
    size_t cand[256], nc = typo_spots(s, cand, 256);
    if (!nc)
        return;
    size_t k = cand[rng_below(r, nc)];
    char t = s[k];
    s[k] = s[k + 1];
    s[k + 1] = t;
}

enum edit_kind { K_TYPO, K_SUBJECT, K_PERSONALIZE, K_DEADLINE, K_AB, K_FROM, K_LEGAL, K_PS,
                 K_SMS_SHORT, K_PUSH_EMOJI, K_NKINDS };

static const char *const edit_notes[K_NKINDS] = {
    "fix typo in subject",
    "new subject line",
    "personalize the subject",
    "add the deadline to the body",
    "A/B test the subject line",
    "send from the team address",
    "legal: add postal address to the footer",
    "add a P.S.",
    "shorter opt-out text",
    "add an emoji to the push text",
};

static int applicable(enum edit_kind k, const struct campaign *c, const struct revision *prev,
                      const char *alt)
{
    int email = c->type == CT_EMAIL;
    switch (k) {
    case K_TYPO: {
        size_t cand[1];
        return !prev->restored_from && !prev->nvariants && typo_spots(prev->subject, cand, 1);
    }
    case K_SUBJECT: return alt && strcmp(alt, prev->subject) != 0 && !prev->nvariants;
    case K_PERSONALIZE: return !strstr(prev->subject, "{{") && !prev->nvariants && c->type != CT_SMS;
    case K_DEADLINE: return email && !strstr(prev->body, "Offer ends");
    case K_AB: return email && alt && !prev->nvariants && strcmp(alt, prev->subject) != 0;
    case K_FROM: return email && strcmp(prev->from, from_addresses[1]) != 0;
    case K_LEGAL: return email && !strstr(prev->body, "Example Way");
    case K_PS: return email && !strstr(prev->body, "P.S.");
    case K_SMS_SHORT: return c->type == CT_SMS && strstr(prev->body, "Reply STOP to opt out");
    case K_PUSH_EMOJI: return c->type == CT_PUSH && !strstr(prev->body, "\xF0\x9F\x8E\x89");
    case K_NKINDS: break;
    }
    return 0;
}

static void apply_edit(enum edit_kind k, struct revision *v, struct revision *prev, struct rng *r,
                       const char *alt)
{
    switch (k) {
    case K_TYPO:
        make_typo(prev->subject, r); /* the previous revision had the typo */
        break;
    case K_SUBJECT:
        set_str(&v->subject, xstrdup(alt));
        break;
    case K_PERSONALIZE: {
        char *s = xasprintf("{{first_name}}, %s", v->subject);
        size_t at = strlen("{{first_name}}, ");
        s[at] = (char)tolower((unsigned char)s[at]);
        set_str(&v->subject, s);
        break;
    }
    case K_DEADLINE:
        set_str(&v->body, str_replace(v->body, "\n\n\xE2\x80\x94 The Acme team",
                                      "\n\nOffer ends Sunday at midnight UTC.\n\n\xE2\x80\x94 The Acme team"));
        break;
    case K_AB:
        add_ab(v, r, alt);
        break;
    case K_FROM:
        set_str(&v->from, xstrdup(from_addresses[1]));
        break;
    case K_LEGAL:
        set_str(&v->body, xasprintf("%s\nAcme Inc., 1 Example Way, Springfield", v->body));
        break;
    case K_PS:
        set_str(&v->body, xasprintf("%s\n\nP.S. Questions? Just reply to this email.", v->body));
        break;
    case K_SMS_SHORT:
        set_str(&v->body, str_replace(v->body, "Reply STOP to opt out", "STOP to end"));
        break;
    case K_PUSH_EMOJI:
        set_str(&v->body, xasprintf("%s \xF0\x9F\x8E\x89", v->body));
        break;
    case K_NKINDS:
        break;
    }
}

/* campaign names seen so far: an open-addressing set */
struct name_set {
    const char **slot;
    size_t cap;
};

static int name_taken(struct name_set *ns, const char *name, int add)
{
    uint64_t h = 1469598103934665603u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    for (size_t i = h & (ns->cap - 1);; i = (i + 1) & (ns->cap - 1)) {
        if (!ns->slot[i]) {
            if (add)
                ns->slot[i] = name;
            return 0;
        }
        if (strcmp(ns->slot[i], name) == 0)
            return 1;
    }
}

/* "Renewal reminder", then "Renewal reminder (Mar 2025)", then "... #2" */
static char *unique_name(struct name_set *ns, char *name, ts_t created)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (name_taken(ns, name, 0)) {
        int y;
        unsigned mo, d;
        civil_from_days(ts_day(created), &y, &mo, &d);
        char *dated = xasprintf("%s (%s %d)", name, months[mo - 1], y);
        free(name);
        name = xstrdup(dated);
        for (int k = 2; name_taken(ns, name, 0); k++) {
            free(name);
            name = xasprintf("%s #%d", dated, k);
        }
        free(dated);
    }
    name_taken(ns, name, 1);
    return name;
}

static char *fill(const char *tmpl, const char *num)
{
    return str_replace(tmpl ? tmpl : "", "{n}", num);
}

void model_content(struct model *m)
{
    int series[64] = {0};
    struct name_set names = {.cap = 16};
    while (names.cap < 2 * m->ncamp)
        names.cap *= 2;
    names.slot = xcalloc(names.cap, sizeof *names.slot);
    for (size_t i = 0; i < m->ncamp; i++) {
        struct campaign *c = &m->camps[i];
        struct rng r;
        rng_seed(&r, m->seed, STREAM_CONTENT + c->gen);
        const struct campaign_template *t = &templates[c->tmpl];
        const struct segment *s = &m->segs[c->seg];
        char num[16] = "";
        if (t->flags & T_SERIES) {
            c->series_no = ++series[c->tmpl];
            snprintf(num, sizeof num, "%d", c->series_no);
        }
        char *tname = fill(t->name, num);
        if ((t->flags & T_LABEL) && strcmp(s->label, "All") != 0)
            c->name = xasprintf("%s \xE2\x80\x94 %s", tname, s->label);
        else
            c->name = xstrdup(tname);
        c->name = unique_name(&names, c->name, c->created_at);

        struct revision *v = &c->rev[0];
        const char *alt_src = NULL;
        switch (c->type) {
        case CT_EMAIL:
            v->from = xstrdup(from_addresses[t->from]);
            v->subject = fill(t->subject, num);
            v->body = fill(t->body, num);
            alt_src = t->subject_alt;
            break;
        case CT_SMS:
            v->from = xstrdup(sms_sender);
            v->subject = fill(t->push_title ? t->push_title : t->name, num);
            v->body = fill(t->sms, num);
            break;
        default:
            v->from = xstrdup(push_sender);
            v->subject = fill(t->push_title, num);
            v->body = fill(t->push_body, num);
            break;
        }
        char *alt = alt_src ? fill(alt_src, num) : NULL;
        v->note = xstrdup("first draft");
        if (c->type == CT_EMAIL && alt && rng_chance(&r, 0.25))
            add_ab(v, &r, alt);

        for (int k = 1; k < c->nrev; k++) {
            struct revision *cur = &c->rev[k], *prev = &c->rev[k - 1];
            if (cur->restored_from) {
                copy_revision(cur, &c->rev[cur->restored_from - 1]);
                cur->note = xasprintf("roll back to revision %d: %s", cur->restored_from,
                                      rollback_reasons[rng_below(&r, nrollback_reasons)]);
                continue;
            }
            enum edit_kind kinds[K_NKINDS];
            int nk = 0;
            for (int e = 0; e < K_NKINDS; e++)
                if (applicable((enum edit_kind)e, c, prev, alt))
                    kinds[nk++] = (enum edit_kind)e;
            copy_revision(cur, prev);
            if (!nk) {
                cur->note = xstrdup("copy review, no changes");
                continue;
            }
            enum edit_kind kind = kinds[rng_below(&r, (uint64_t)nk)];
            apply_edit(kind, cur, prev, &r, alt);
            cur->note = xstrdup(edit_notes[kind]);
        }
        free(alt);

        for (int k = 0; k < c->naudit; k++) {
            struct audit *a = &c->audit[k];
            if (a->action == A_CREATE)
                a->note = xasprintf("created from the \"%s\" template", tname);
            else if (a->action == A_EDIT || a->action == A_ROLLBACK)
                a->note = xstrdup(c->rev[a->revision - 1].note);
        }
        free(tname);
        for (int k = 0; k < c->nrev; k++)
            m->nvariants += (uint64_t)c->rev[k].nvariants;
    }
    free(names.slot);
}
