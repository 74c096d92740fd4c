/* rows: COPY of the model into every table (see rows.c). */
#ifndef GEN_ROWS_H
#define GEN_ROWS_H

#include <libpq-fe.h>

#include "model.h"

/* inside the caller's transaction; 0, or -1 after printing why */
int rows_load(PGconn *conn, const struct model *m, int freeze);

#endif
