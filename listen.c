/*
 * listen.c - the master's listening sockets (see listen.h).
 *
 * Listen without an address (or [::]) binds [::] with IPV6_V6ONLY off,
 * as Apache does on Linux, unless 0.0.0.0 is listed for the same port
 * (then each family has its own socket); without IPv6, 0.0.0.0.  Every
 * socket gets SO_REUSEADDR, ListenBacklog, close-on-exec, and a one
 * second SO_RCVTIMEO so a worker blocked in accept() wakes each second
 * to look at its generation and its master.  With several listeners
 * the sockets are non-blocking (workers use epoll); with one, blocking.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

/* host_of - the Listen host without [ ], into buf; NULL for "any". */
static const char *
host_of(const struct gw_listen *l, char *buf, size_t len)
{
	const char	*h = l->host;
	size_t		 n;

	if (h == NULL || *h == '\0' || strcmp(h, "*") == 0)
		return NULL;
	n = strlen(h);
	if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, h, n);
	buf[n] = '\0';
	return buf;
}

static int
same_address(const struct gw_listen *a, const struct gw_listen *b)
{
	char		 ha[256], hb[256];
	const char	*x, *y;

	x = host_of(a, ha, sizeof(ha));
	y = host_of(b, hb, sizeof(hb));
	if ((x == NULL) != (y == NULL))
		return 0;
	if (x != NULL && strcasecmp(x, y) != 0)
		return 0;
	return strcmp(a->port, b->port) == 0;
}

int
listen_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 a[INET6_ADDRSTRLEN];
	int			 n;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		if (inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)) == NULL)
			return -1;
		n = snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)) == NULL)
			return -1;
		n = snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* open_one - socket, options, bind, listen; fd or -1 (errno). */
static int
open_one(const struct sockaddr *sa, socklen_t salen, int v6only,
    int backlog)
{
	struct timeval	 tv = { 1, 0 };
	int		 fd, one = 1, err;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1)
		goto fail;
	if (bind(fd, sa, salen) == -1 || listen(fd, backlog) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	(void)close(fd);
	errno = err;
	return -1;
}

/* v4_sibling - does cfg also Listen on 0.0.0.0 at l's port? */
static int
v4_sibling(const struct gw_config *cfg, const struct gw_listen *l)
{
	const struct gw_listen	*o;

	for (o = cfg->listeners; o != NULL; o = o->next)
		if (o != l && o->host != NULL &&
		    strcmp(o->host, "0.0.0.0") == 0 &&
		    strcmp(o->port, l->port) == 0)
			return 1;
	return 0;
}

/* open_any - Listen port: [::] dual-stack, or 0.0.0.0 without IPv6. */
static int
open_any(const struct gw_listen *l, int backlog, int port, int v6only)
{
	struct sockaddr_in6	 s6;
	struct sockaddr_in	 s4;
	int			 fd;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_any;
	s6.sin6_port = htons((unsigned short)port);
	fd = open_one((struct sockaddr *)&s6, sizeof(s6), v6only, backlog);
	if (fd != -1 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL))
		return fd;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_addr.s_addr = htonl(INADDR_ANY);
	s4.sin_port = htons((unsigned short)port);
	(void)l;
	return open_one((struct sockaddr *)&s4, sizeof(s4), 0, backlog);
}

/* open_listen - one Listen entry; fd or -1 (logged). */
static int
open_listen(const struct gw_config *cfg, const struct gw_listen *l)
{
	struct addrinfo	 hints, *res, *ai;
	char		 hbuf[256];
	const char	*host;
	int		 fd = -1, rv, port;
	char		*end;

	host = host_of(l, hbuf, sizeof(hbuf));
	if (host == NULL || strcmp(host, "::") == 0) {
		port = (int)strtol(l->port, &end, 10);
		if (*l->port == '\0' || *end != '\0' || port < 0 ||
		    port > 65535) {
			log_msg(GW_LOG_EMERG, "%s:%d: bad Listen port \"%s\"",
			    l->file ? l->file : "?", l->line, l->port);
			return -1;
		}
		if ((fd = open_any(l, cfg->listen_backlog, port,
		    v4_sibling(cfg, l))) == -1)
			log_errno(GW_LOG_EMERG, "could not bind to address "
			    "[::]:%s", l->port);
		return fd;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rv = getaddrinfo(host, l->port, &hints, &res)) != 0) {
		log_msg(GW_LOG_EMERG, "%s:%d: cannot resolve Listen address "
		    "%s:%s: %s", l->file ? l->file : "?", l->line, host,
		    l->port, gai_strerror(rv));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = open_one(ai->ai_addr, ai->ai_addrlen, 1,
		    cfg->listen_backlog);
		if (fd != -1)
			break;
	}
	if (fd == -1)
		log_errno(GW_LOG_EMERG, "could not bind to address %s%s%s:%s",
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", l->port);
	freeaddrinfo(res);
	return fd;
}

int
listen_count(const struct gw_config *cfg)
{
	const struct gw_listen	*l;
	int			 n = 0;

	for (l = cfg->listeners; l != NULL; l = l->next)
		if (l->fd != -1)
			n++;
	return n;
}

/* set_blocking - non-blocking iff several listeners (see top). */
static int
set_blocking(struct gw_config *cfg)
{
	struct gw_listen	*l;
	int			 nb, fl;

	nb = listen_count(cfg) > 1;
	for (l = cfg->listeners; l != NULL; l = l->next) {
		if (l->fd == -1)
			continue;
		if ((fl = fcntl(l->fd, F_GETFL)) == -1 ||
		    fcntl(l->fd, F_SETFL, nb ? fl | O_NONBLOCK :
		    fl & ~O_NONBLOCK) == -1) {
			log_errno(GW_LOG_EMERG, "fcntl on listener");
			return -1;
		}
	}
	return 0;
}

static struct gw_listen *
find_match(struct gw_config *old, const struct gw_listen *l)
{
	struct gw_listen	*o;

	if (old == NULL)
		return NULL;
	for (o = old->listeners; o != NULL; o = o->next)
		if (o->fd != -1 && same_address(o, l))
			return o;
	return NULL;
}

int
listen_open(struct gw_config *cfg, struct gw_config *old)
{
	struct gw_listen	*l, *o;
	char			 name[INET6_ADDRSTRLEN + 16];

	/* open what is new; nothing taken from old yet */
	for (l = cfg->listeners; l != NULL; l = l->next) {
		l->fd = -1;
		if (find_match(old, l) != NULL)
			continue;
		if ((l->fd = open_listen(cfg, l)) == -1)
			goto fail;
		if (listen_name(l->fd, name, sizeof(name)) == -1)
			(void)snprintf(name, sizeof(name), "?:%s", l->port);
		log_msg(GW_LOG_NOTICE, "listening on %s", name);
	}
	if (cfg->listeners == NULL) {
		log_msg(GW_LOG_EMERG, "no listening sockets available "
		    "(no Listen directive)");
		return -1;
	}
	/* commit: take over the sockets old already has */
	for (l = cfg->listeners; l != NULL; l = l->next) {
		if (l->fd != -1)
			continue;
		o = find_match(old, l);
		l->fd = o->fd;
		o->fd = -1;
	}
	return set_blocking(cfg);
fail:
	for (l = cfg->listeners; l != NULL; l = l->next) {
		if (l->fd != -1)
			(void)close(l->fd);
		l->fd = -1;
	}
	return -1;
}

void
listen_close(struct gw_config *cfg)
{
	struct gw_listen	*l;

	for (l = cfg->listeners; l != NULL; l = l->next)
		if (l->fd != -1) {
			if (close(l->fd) == -1)
				log_errno(GW_LOG_WARN, "close listener");
			l->fd = -1;
		}
}
