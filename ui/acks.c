#include "acks.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertack.h"
#include "chrome.h"
#include "clock.h"
#include "dbworker.h"
#include "oplog.h"
#include "pane.h"

/* The next word of *p (at most n-1 bytes), moving past it. */
static void next_word(const char **p, char *out, size_t n)
{
    while (isspace((unsigned char)**p))
        (*p)++;
    size_t len = 0;
    while ((*p)[len] && !isspace((unsigned char)(*p)[len]))
        len++;
    snprintf(out, n, "%.*s", (int)len, *p);
    *p += len;
    while (isspace((unsigned char)**p))
        (*p)++;
}

/* The ack in force that an unack of rule (or of ack id) means: the one
 * on the whole rule, else the newest of the rule's. */
static const struct alertack *find_ack(const struct alertack_list *l, const char *word)
{
    char *end;
    errno = 0;
    long long id = strtoll(word, &end, 10);
    bool numeric = !errno && end != word && !*end && id > 0;
    const struct alertack *best = NULL;
    for (size_t i = 0; l && i < l->n; i++) {
        const struct alertack *k = &l->v[i];
        if (numeric ? k->id == id : strcmp(k->rule, word) == 0) {
            if (!best || (best->n_labels && !k->n_labels))
                best = k;
        }
    }
    return best;
}

static void send_request(struct ui *ui, struct alertack_request *rq)
{
    char why[300];
    if (alertack_request_check(rq, why, sizeof why) != 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: %s", alertack_op_name(rq->op), why);
        chrome_message(ui, msg);
        return;
    }
    if (!dbworker_submit_ack(ui->db, rq, &ui->ident, why, sizeof why)) {
        char msg[400];
        snprintf(msg, sizeof msg, "Not sent: %s", why);
        chrome_message(ui, msg);
        return;
    }
    chrome_message(ui, rq->op == ALERTACK_OP_UNACK ? "Ending the acknowledgement..." : "Sending...");
}

static void from_line(struct ui *ui, enum alertack_op op, const char *arg)
{
    const char *p = arg;
    char rule[ALERTACK_RULE_MAX + 1], word[64];
    next_word(&p, rule, sizeof rule);
    struct alertack_request rq;
    if (alertack_request_init(&rq, op) != 0) {
        chrome_message(ui, "No randomness for a request id: nothing was sent.");
        return;
    }
    if (op == ALERTACK_OP_UNACK) {
        const struct alertack *k = *rule ? find_ack(ui->acks, rule) : NULL;
        if (!k) {
            chrome_message(ui, *rule ? "Nothing acknowledged or snoozed by that name or id is in force."
                                     : "unack: which rule (or ack id)? e.g. :unack HighErrorRate");
            return;
        }
        rq.ack_id = k->id;
        snprintf(rq.comment, sizeof rq.comment, "%s", p);
        send_request(ui, &rq);
        return;
    }
    if (!*rule) {
        chrome_message(ui, op == ALERTACK_OP_ACK ? "ack: RULE [DURATION] COMMENT, e.g. :ack HighErrorRate 2h on it"
                                                 : "snooze: RULE DURATION COMMENT, e.g. :snooze SlowResponseTime 1h deploy");
        return;
    }
    snprintf(rq.rule, sizeof rq.rule, "%s", rule);
    const char *rest = p;
    next_word(&rest, word, sizeof word);
    int64_t secs;
    if (*word && alertack_parse_duration(word, &secs) == 0) {
        rq.for_s = secs;
        p = rest;
    } else if (op == ALERTACK_OP_SNOOZE) {
        chrome_message(ui, "snooze: how long? e.g. :snooze SlowResponseTime 1h deploy in progress");
        return;
    } else {
        rq.for_s = ALERTACK_DEFAULT_FOR_S;
    }
    snprintf(rq.comment, sizeof rq.comment, "%s", p);
    send_request(ui, &rq);
}

void acks_begin(struct ui *ui, enum action_id a, const char *arg)
{
    enum alertack_op op = a == ACT_SNOOZE ? ALERTACK_OP_SNOOZE : a == ACT_UNACK ? ALERTACK_OP_UNACK
                                                                                : ALERTACK_OP_ACK;
    if (arg) {
        from_line(ui, op, arg);
        return;
    }
    /* a key: the selected rule, onto the command line */
    struct pane *p = &ui->panes[ui->focus];
    if (p->ops != &alerts_pane) {
        chrome_message(ui, "Acknowledging works on an alert, in the Alerts pane (or :ack RULE ...).");
        return;
    }
    struct pane_data d = pane_data_of(ui);
    const char *rule = alerts_pane_rule(p->st, &d);
    if (!rule) {
        chrome_message(ui, "Select an alert rule first (the lines at the top of the pane).");
        return;
    }
    ui->mode = MODE_COMMAND;
    ui->hist_pos = ui->hist.n;
    if (op == ALERTACK_OP_ACK)
        snprintf(ui->input, sizeof ui->input, "ack %s 4h ", rule);
    else if (op == ALERTACK_OP_SNOOZE)
        snprintf(ui->input, sizeof ui->input, "snooze %s 1h ", rule);
    else
        snprintf(ui->input, sizeof ui->input, "unack %s ", rule);
    ui->dirty = true;
}

void acks_take_news(struct ui *ui)
{
    struct alertack_request rq;
    struct alertack_result res;
    while (dbworker_take_ack_result(ui->db, &rq, &res)) {
        char msg[1024];
        alertack_describe(&rq, &res, msg, sizeof msg);
        chrome_message(ui, msg);
        if (res.outcome != CTL_UNKNOWN)
            dbworker_refresh(ui->db);
    }
}
