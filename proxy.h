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

#endif /* PROXY_H */
