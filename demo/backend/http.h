/* http: the libmicrohttpd daemon (one thread per connection, so a hanging
 * request holds only its own connection) and its routes:
 *   GET /metrics /health /ready    subject to the injected faults
 *   GET|POST /control              the fault switches, never faulted */
#ifndef BACKEND_HTTP_H
#define BACKEND_HTTP_H

#include <stddef.h>

struct http;

/* bind host:port (port 0: any free port) and start serving */
int http_start(const char *host, unsigned port, struct http **out, char *err, size_t errlen);
unsigned http_port(const struct http *h);
/* stops the daemon; call faults_shutdown() first so hanging handlers return */
void http_stop(struct http **h);

#endif
