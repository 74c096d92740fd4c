/* rows: the COPY of every table, from the model, parents first.
 *
 * Ids are explicit and deterministic: contacts 1..N in order of created_at,
 * deliveries in (campaign, contact) order, audit rows and conversions in
 * order of time. Only active contacts get deliveries; the deliveries are
 * the second run of the simulation in deliver.c, streamed as generated. */
#include "rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "deliver.h"
#include "lexicon.h"
#include "rng.h"

static int use_freeze; /* COPY ... WITH (FREEZE) */

static int finish(struct copy *c, const char *table)
{
    if (copy_end(c) != 0) {
        fprintf(stderr, PROG ": loading %s: %s\n", table, c->err);
        return -1;
    }
    char n[32];
    progress("%-18s %12s rows", table, fmt_count(n, c->rows));
    return 0;
}

static size_t json_str(char *o, const char *key, const char *v)
{
    char *start = o;
    o += sprintf(o, "\"%s\": \"", key);
    for (; *v; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char)ch;
        } else if (ch < 0x20) {
            o += sprintf(o, "\\u%04x", ch);
        } else {
            *o++ = (char)ch;
        }
    }
    *o++ = '"';
    return (size_t)(o - start);
}

static int rows_contacts(PGconn *conn, const struct model *m)
{
    struct copy c;
    if (copy_begin(&c, conn, "contacts",
                   "id, email, attributes, status, created_at, updated_at, unsubscribed_at, "
                   "last_opened_at, last_clicked_at", use_freeze) != 0)
        return finish(&c, "contacts");
    char buf[1024], date[11];
    for (size_t i = 0; i < m->ncontacts && !c.failed; i++) {
        const struct contact *ct = &m->contacts[i];
        const struct person_name *fn = &first_names[ct->first], *ln = &last_names[ct->last];
        copy_int(&c, (int64_t)i + 1);
        int n = snprintf(buf, sizeof buf, "%s.%s.%zu@%s", fn->slug[0] ? fn->slug : "x",
                         ln->slug[0] ? ln->slug : "x", i + 1, email_domains[ct->domain]);
        copy_textn(&c, buf, (size_t)n);
        char *o = buf;
        *o++ = '{';
        o += json_str(o, "first_name", fn->display);
        *o++ = ',';
        *o++ = ' ';
        o += json_str(o, "last_name", ln->display);
        date_format(date, ct->signup_day);
        o += sprintf(o, ", \"country\": \"%s\", \"plan\": \"%s\", \"age\": %u, "
                        "\"signup_date\": \"%s\", \"language\": \"%s\"}",
                     countries[ct->country].code, plans[ct->plan], (unsigned)ct->age, date,
                     contact_language(ct));
        copy_textn(&c, buf, (size_t)(o - buf));
        copy_text(&c, contact_status_names[ct->status]);
        ts_t updated = ct->created_at;
        if (ct->changed_at > updated)
            updated = ct->changed_at;
        if (ct->last_opened_at > updated)
            updated = ct->last_opened_at;
        if (ct->last_clicked_at > updated)
            updated = ct->last_clicked_at;
        copy_ts(&c, ct->created_at);
        copy_ts(&c, updated);
        copy_ts(&c, ct->status == CS_UNSUBSCRIBED ? ct->changed_at : 0);
        copy_ts(&c, ct->last_opened_at);
        copy_ts(&c, ct->last_clicked_at);
        copy_row_end(&c);
    }
    return finish(&c, "contacts");
}

static int rows_segments(PGconn *conn, const struct model *m)
{
    struct copy c;
    if (copy_begin(&c, conn, "segments",
                   "id, name, rule, size, reachable, refreshed_at, created_at, updated_at", use_freeze) != 0)
        return finish(&c, "segments");
    for (size_t k = 0; k < m->nseg; k++) {
        const struct segment *s = &m->segs[k];
        copy_text(&c, s->id);
        copy_text(&c, s->name);
        copy_text(&c, s->rule_text);
        copy_int(&c, (int64_t)s->size);
        copy_int(&c, (int64_t)s->nreach);
        copy_ts(&c, s->refreshed_at);
        copy_ts(&c, s->created_at);
        copy_ts(&c, s->refreshed_at);
        copy_row_end(&c);
    }
    if (finish(&c, "segments") != 0)
        return -1;

    if (copy_begin(&c, conn, "segment_members",
                   "segment_id, contact_id, added_at", use_freeze) != 0)
        return finish(&c, "segment_members");
    size_t words = (m->ncontacts + 63) / 64;
    for (size_t k = 0; k < m->nseg && !c.failed; k++) {
        const struct segment *s = &m->segs[k];
        for (size_t w = 0; w < words; w++) {
            for (uint64_t bits = s->bits[w]; bits; bits &= bits - 1) {
                size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
                const struct contact *ct = &m->contacts[i];
                ts_t added = ct->created_at > s->created_at ? ct->created_at : s->created_at;
                /* the first refresh after the contact appeared */
                added += (ts_t)(mix64(m->seed ^ ((uint64_t)k << 40) ^ i) % (uint64_t)(59 * TS_MIN)) + TS_MIN;
                if (added > s->refreshed_at)
                    added = s->refreshed_at;
                copy_text(&c, s->id);
                copy_int(&c, (int64_t)i + 1);
                copy_ts(&c, added);
                copy_row_end(&c);
            }
        }
    }
    return finish(&c, "segment_members");
}

static int rows_campaigns(PGconn *conn, const struct model *m)
{
    struct copy c;
    char id[32];
    if (copy_begin(&c, conn, "campaigns",
                   "id, name, type, segment_id, status, version, current_revision, "
                   "rate_limit_per_minute, send_at, audience, cost, created_by, created_at, "
                   "updated_at, launched_at, paused_at, completed_at, cancelled_at", use_freeze) != 0)
        return finish(&c, "campaigns");
    for (size_t i = 0; i < m->ncamp; i++) {
        const struct campaign *p = &m->camps[i];
        snprintf(id, sizeof id, "cmp_%d", p->id);
        copy_text(&c, id);
        copy_text(&c, p->name);
        copy_text(&c, campaign_type_names[p->type]);
        copy_text(&c, m->segs[p->seg].id);
        copy_text(&c, campaign_status_names[p->status]);
        copy_int(&c, p->version);
        copy_int(&c, p->nrev);
        copy_int(&c, p->rate);
        copy_ts(&c, p->send_at);
        copy_int_or_null(&c, p->audience, p->audience < 0);
        copy_money(&c, p->cost_cents);
        copy_text(&c, operators[p->owner].db_user);
        copy_ts(&c, p->created_at);
        copy_ts(&c, p->updated_at);
        copy_ts(&c, p->launched_at);
        copy_ts(&c, p->paused_at);
        copy_ts(&c, p->completed_at);
        copy_ts(&c, p->cancelled_at);
        copy_row_end(&c);
    }
    if (finish(&c, "campaigns") != 0)
        return -1;

    if (copy_begin(&c, conn, "campaign_revisions",
                   "campaign_id, revision, from_address, subject, body, author, note, "
                   "restored_from, created_at", use_freeze) != 0)
        return finish(&c, "campaign_revisions");
    for (size_t i = 0; i < m->ncamp; i++) {
        const struct campaign *p = &m->camps[i];
        snprintf(id, sizeof id, "cmp_%d", p->id);
        for (int k = 0; k < p->nrev; k++) {
            const struct revision *v = &p->rev[k];
            copy_text(&c, id);
            copy_int(&c, k + 1);
            copy_text(&c, v->from);
            copy_text(&c, v->subject);
            copy_text(&c, v->body);
            copy_text(&c, operators[v->author].db_user);
            copy_text(&c, v->note);
            copy_int_or_null(&c, v->restored_from, v->restored_from == 0);
            copy_ts(&c, v->created_at);
            copy_row_end(&c);
        }
    }
    if (finish(&c, "campaign_revisions") != 0)
        return -1;

    if (copy_begin(&c, conn, "campaign_variants",
                   "campaign_id, revision, variant, split_percent, subject, body", use_freeze) != 0)
        return finish(&c, "campaign_variants");
    for (size_t i = 0; i < m->ncamp; i++) {
        const struct campaign *p = &m->camps[i];
        snprintf(id, sizeof id, "cmp_%d", p->id);
        for (int k = 0; k < p->nrev; k++)
            for (int j = 0; j < p->rev[k].nvariants; j++) {
                const struct variant *v = &p->rev[k].v[j];
                copy_text(&c, id);
                copy_int(&c, k + 1);
                copy_raw(&c, &v->letter, 1);
                copy_int(&c, v->split);
                copy_text(&c, v->subject);
                copy_text(&c, v->body);
                copy_row_end(&c);
            }
    }
    return finish(&c, "campaign_variants");
}

struct pass2 {
    struct copy *c;
    int64_t next_id;
    char id[32];
    size_t idlen;
};

static void write_delivery(void *ctx, const struct campaign *cp, const struct delivery *d)
{
    struct pass2 *p = ctx;
    struct copy *c = p->c;
    (void)cp;
    copy_int(c, p->next_id++);
    copy_raw(c, p->id, p->idlen);
    copy_int(c, (int64_t)d->contact + 1);
    copy_int(c, d->revision);
    if (d->variant)
        copy_raw(c, &d->variant, 1);
    else
        copy_null(c);
    copy_text(c, delivery_status_names[d->status]);
    copy_ts(c, d->queued_at);
    copy_ts(c, d->sent_at);
    copy_ts(c, d->opened_at);
    copy_ts(c, d->clicked_at);
    copy_text(c, d->error);
    copy_row_end(c);
}

static int rows_deliveries(PGconn *conn, const struct model *m)
{
    struct copy c;
    if (copy_begin(&c, conn, "deliveries",
                   "id, campaign_id, contact_id, revision, variant, status, queued_at, sent_at, "
                   "opened_at, clicked_at, error", use_freeze) != 0)
        return finish(&c, "deliveries");
    struct pass2 p = {.c = &c, .next_id = 1};
    for (size_t i = 0; i < m->ncamp && !c.failed; i++) {
        const struct campaign *cp = &m->camps[i];
        p.idlen = (size_t)snprintf(p.id, sizeof p.id, "cmp_%d", cp->id);
        deliveries_run(m, cp, write_delivery, &p);
    }
    return finish(&c, "deliveries");
}

struct audit_ref {
    ts_t at;
    int campaign, index;
};

static int cmp_audit(const void *a, const void *b)
{
    const struct audit_ref *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->campaign != y->campaign)
        return x->campaign < y->campaign ? -1 : 1;
    return x->index - y->index;
}

static void copy_status(struct copy *c, int st)
{
    copy_text(c, st < 0 ? NULL : campaign_status_names[st]);
}

static int rows_audit(PGconn *conn, const struct model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->ncamp; i++)
        n += (size_t)m->camps[i].naudit;
    struct audit_ref *refs = xcalloc(n, sizeof *refs);
    size_t k = 0;
    for (size_t i = 0; i < m->ncamp; i++)
        for (int j = 0; j < m->camps[i].naudit; j++)
            refs[k++] = (struct audit_ref){m->camps[i].audit[j].at, (int)i, j};
    qsort(refs, n, sizeof *refs, cmp_audit);

    struct copy c;
    if (copy_begin(&c, conn, "audit_log",
                   "id, request_id, action, campaign_id, from_status, to_status, from_version, "
                   "to_version, revision, db_user, application_name, client_addr, os_user, "
                   "ssh_client, tty, created_at, note", use_freeze) != 0) {
        free(refs);
        return finish(&c, "audit_log");
    }
    char buf[128];
    for (size_t r = 0; r < n; r++) {
        const struct campaign *p = &m->camps[refs[r].campaign];
        const struct audit *a = &p->audit[refs[r].index];
        int backend = a->op == OP_BACKEND;
        copy_int(&c, (int64_t)r + 1);
        copy_text(&c, a->request_id);
        copy_text(&c, action_names[a->action]);
        snprintf(buf, sizeof buf, "cmp_%d", p->id);
        copy_text(&c, buf);
        copy_status(&c, a->from_status);
        copy_status(&c, a->to_status);
        copy_int_or_null(&c, a->from_version, a->from_version == 0);
        copy_int(&c, a->to_version);
        copy_int(&c, a->revision);
        copy_text(&c, backend ? backend_db_user : operators[a->op].db_user);
        copy_text(&c, backend ? backend_application : console_application);
        copy_text(&c, backend ? "10.20.1.9" : "10.20.0.5");
        copy_text(&c, backend ? NULL : operators[a->op].os_user);
        if (backend) {
            copy_null(&c);
            copy_null(&c);
        } else {
            snprintf(buf, sizeof buf, "%s %u 22", operators[a->op].ip, (unsigned)a->ssh_port);
            copy_text(&c, buf);
            snprintf(buf, sizeof buf, "/dev/pts/%u", (unsigned)a->tty);
            copy_text(&c, buf);
        }
        copy_ts(&c, a->at);
        copy_text(&c, a->note);
        copy_row_end(&c);
    }
    free(refs);
    return finish(&c, "audit_log");
}

static int rows_conversions(PGconn *conn, const struct model *m)
{
    struct copy c;
    if (copy_begin(&c, conn, "conversions",
                   "id, contact_id, campaign_id, channel, revenue, converted_at", use_freeze) != 0)
        return finish(&c, "conversions");
    char buf[32];
    for (size_t i = 0; i < m->nconv; i++) {
        const struct conversion *v = &m->conv[i];
        copy_int(&c, (int64_t)i + 1);
        copy_int(&c, (int64_t)v->contact + 1);
        if (v->campaign >= 0) {
            snprintf(buf, sizeof buf, "cmp_%d", m->camps[v->campaign].id);
            copy_text(&c, buf);
        } else {
            copy_null(&c);
        }
        copy_text(&c, channel_names[v->channel]);
        copy_money(&c, v->revenue_cents);
        copy_ts(&c, v->at);
        copy_row_end(&c);
    }
    return finish(&c, "conversions");
}

int rows_load(PGconn *conn, const struct model *m, int freeze)
{
    use_freeze = freeze;
    if (rows_contacts(conn, m) != 0 || rows_segments(conn, m) != 0 ||
        rows_campaigns(conn, m) != 0 || rows_deliveries(conn, m) != 0 ||
        rows_audit(conn, m) != 0 || rows_conversions(conn, m) != 0)
        return -1;
    return 0;
}
