/* The audit log as the Audit pane and `marketing audit` read it: every
 * campaign action with the server's identity of the session (role,
 * application, address) and what the client said about itself (OS user,
 * SSH client, tty). Filters are parameters, never text in the SQL. */
#ifndef MARKETING_AUDIT_H
#define MARKETING_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct audit_entry {
    int64_t id, at_ms;
    int from_version, to_version, revision;   /* 0: none */
    /* all untrusted: sanitize before drawing */
    char *action, *campaign_id, *from_status, *to_status, *db_user, *app, *client_addr,
         *os_user, *ssh_client, *tty, *request_id, *note, *details;
};

struct audit_list {
    struct audit_entry *v;   /* newest first */
    size_t n;
    int64_t fetched_ms;
};

struct audit_filter {
    const char *campaign_id; /* NULL: any */
    const char *user;        /* an OS user or a database role; NULL: any */
    const char *action;      /* NULL: any */
    int limit;               /* 0: 500 */
};

/* $1 campaign, $2 user, $3 action (each NULL for any), $4 limit. */
extern const char audit_list_query[];

/* Reads the newest entries that pass the filter. NULL with a message in err
 * on failure; *lost is set when the connection failed (NULL allowed). */
struct audit_list *audit_list_fetch(PGconn *conn, const struct audit_filter *f, int timeout_ms,
                                    int cancel_fd, int *lost, char *err, size_t errsz);

struct audit_list *audit_list_from_result(const PGresult *res, char *err, size_t errsz);
void audit_list_free(struct audit_list **l);

#endif
