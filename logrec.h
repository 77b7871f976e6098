/*
 * logrec.h - what the proxy engine knows about one finished request,
 * for the access log (accesslog.c) to format.
 */
#ifndef LOGREC_H
#define LOGREC_H

#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "gatewayd.h"

struct http_msg;

struct gw_logrec {
	const struct gw_config	*cfg;
	const struct gw_vhost	*vhost;		/* never NULL */
	const struct http_msg	*req;		/* NULL if no head was parsed */
	const struct http_msg	*resp;		/* backend response, or NULL */
	const char		*request_line;	/* as received, may be NULL */
	size_t			 request_line_len;
	const char		*peer_ip;
	int			 peer_port;
	int			 local_port;
	const char		*host;		/* Host or the URI's host */
	const char		*uri_path;	/* decoded path (%U) */
	const char		*query;		/* raw, without '?' (%q) */
	size_t			 query_len;
	int			 status_original;	/* %s */
	int			 status_final;		/* %>s */
	unsigned long long	 body_bytes;	/* %b, %B */
	unsigned long long	 bytes_out;	/* %O */
	unsigned long long	 bytes_in;	/* %I */
	struct timespec		 start;		/* head read, CLOCK_REALTIME */
	long long		 usec;		/* %D */
	unsigned		 keepalive_n;	/* %k: requests before this one
					   on the connection */
	int			 conn_status;	/* %X: 'X' aborted, '+' kept
					   alive, '-' closed */
	/* response headers we generated (when resp is NULL) */
	const char		*ctype;
	const char		*location;

	/*
	 * Added for accesslog.c; zero (NULL, 0) means "not known" and logs
	 * as Apache logs an absent value ("-").  When ctype or location is
	 * set it wins over the one in resp (a rewritten Location).
	 */
	const char		*local_ip;	/* %A */
	const char		*user;		/* %u; NULL: "-" */
	const char		*tls_protocol;	/* SSL_PROTOCOL, NULL: no TLS */
	const char		*tls_cipher;	/* SSL_CIPHER (%{..}x) */
	long long		 ttfb_usec;	/* %^FB: start to 1st byte */
	const char *const	*env;		/* "NAME=value" ..., NULL: none;
						   CustomLog env=, %{NAME}e */
};

#endif /* LOGREC_H */
