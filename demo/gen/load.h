/* load: the database side. Checks that the database is migrated and empty,
 * reads the base time, and loads the model in one transaction with COPY. */
#ifndef GEN_LOAD_H
#define GEN_LOAD_H

#include <libpq-fe.h>

#include "model.h"

struct load_options {
    int keep_indexes; /* load with every index and foreign key in place */
    int freeze;       /* COPY FREEZE after TRUNCATE of the (empty) tables */
};

/* 0 if the schema is there and the tables are empty; else prints why, -1 */
int load_check(PGconn *conn);
/* the server's now(), to the second; 0 on success */
int load_base_time(PGconn *conn, ts_t *out);
/* 0 on success (committed); else prints why, -1 (rolled back) */
int load_model(PGconn *conn, struct model *m, const struct load_options *opt);

#endif
