/*
 * proxy.h - the proxy engine: a client connection's requests, each
 * routed by rules.c and forwarded to its backend, or answered here with
 * an error (and its ErrorDocument) or a local file.
 */
#ifndef PROXY_H
#define PROXY_H

#include <signal.h>
#include <sys/socket.h>

#include "gatewayd.h"

struct gw_worker;
struct gw_scoreboard;

#define PROXY_BUF	65536		/* each of the per-worker buffers */
#define PROXY_POOL	16		/* idle backend connections kept */

/* proxy_init - per-process buffers; 0, or -1 when out of memory. */
int	proxy_init(void);
void	proxy_fini(void);
/*
 * proxy_serve - serve the client connection fd until it ends, and close
 * it.  *stop: give up now; *retire: answer the request at hand, then
 * close (graceful restart).
 */
void	proxy_serve(struct gw_worker *, int fd, volatile sig_atomic_t *stop,
	    volatile sig_atomic_t *retire);
/* proxy_pool_flush - close every idle backend connection. */
void	proxy_pool_flush(void);
/*
 * proxy_backend_key - the key a backend URL's state is kept under in
 * health.c ("host:port", the port only when not the scheme's), or -1
 * for a URL that is not a plain backend (balancer://, unparsable).
 */
int	proxy_backend_key(const char *url, char *out, size_t outlen);

#endif /* PROXY_H */
