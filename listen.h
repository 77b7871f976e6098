/*
 * listen.h - the master's listening sockets: one per Listen directive,
 * IPv4 or IPv6, kept open across restarts when the address is the same.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include <stddef.h>

#include "gatewayd.h"

/*
 * listen_open - open every Listen of cfg that old (may be NULL) does not
 * already have open; take over old's matching sockets.  Each new one is
 * logged as "listening on ADDR:PORT".  On failure (logged) nothing
 * changes and -1 is returned.
 */
int		 listen_open(struct gw_config *cfg, struct gw_config *old);
/* listen_close - close the sockets cfg still holds. */
void		 listen_close(struct gw_config *cfg);
int		 listen_count(const struct gw_config *cfg);
/* listen_name - "127.0.0.1:80" or "[::1]:80" for a bound socket. */
int		 listen_name(int fd, char *buf, size_t len);

#endif /* LISTEN_H */
