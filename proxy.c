/*
 * proxy.c - the proxy engine (see proxy.h).
 *
 * One client connection, one request at a time:
 *   read head (deadline) -> http_parse_request -> vhost, path, route
 *   (rules.c) -> access -> backend connection (pooled) -> request head
 *   rewritten -> body streamed -> response head (deadline) -> rewritten
 *   -> body streamed -> next request on a kept-alive connection.
 * Bodies pass through fixed buffers, whatever their size.  This file
 * chooses every status the gateway makes: 4xx for the client's faults,
 * 502 for a bad backend answer, 503 for a backend that cannot be
 * reached (it then stays in error state for `retry` seconds, for every
 * worker), 504 when sending the request body to it times out.  As in
 * Apache, a backend that does not answer in time gets 502.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "balancer.h"
#include "cache.h"
#include "cache_db.h"
#include "conn.h"
#include "dns.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "logrec.h"
#include "proxy.h"
#include "rules.h"
#include "scoreboard.h"
#include "status.h"
#include "tls.h"
#include "worker.h"

#define LINGER_MS	2000
#define TUNNEL_TLS_MS	100		/* a TLS record being completed */

/* A backend, from a ProxyPass URL. */
struct backend {
	char		 scheme[8];
	char		 host[256];	/* without brackets */
	char		 port[8];
	char		 hostport[280];	/* for Host: and the pool key */
	const char	*path;		/* in the URL, from '/' (or "") */
	size_t		 pathlen;
	int		 tls;		/* https:// */
	char		 name[256];	/* TLS: SNI and certificate name */
	char		 key[600];	/* of the pool and TLS sessions */
};

struct pooled {
	char		 key[600];
	int		 fd;
	struct ssl_st	*ssl;		/* TLS on fd, or NULL */
	time_t		 since;
	int		 rcv_ms, snd_ms;	/* kernel deadlines set on fd */
};

/* Per-process state: a worker is one process serving one connection. */
static struct {
	char		*bbuf;		/* backend read buffer */
	char		*obuf;		/* heads being written */
	struct pooled	 pool[PROXY_POOL];
	int		 npool;
	int		 pool_rcv_ms, pool_snd_ms;	/* of the last pool_get */
	struct ssl_st	*pool_ssl;		/* of the last pool_get */
	struct http_msg	 rm;		/* the backend's response head */
	struct cp_conf	 cpc;		/* caching knobs (defaults) */
	struct cache_hit hit;		/* a stored response being sent */
	struct cache_put put;		/* a response being stored */
	struct http_header keep[HTTP_MAX_HEADERS];
	char		 shead[CACHE_HEAD_MAX];	/* head to store */
	struct http_msg	 sm;		/* hit.head, parsed */
	char		 xhdr[4096];	/* fields for this client only */
	size_t		 xhdr_len;
} px;

/* One request and what has been decided about it. */
struct req {
	struct http_msg		 m;
	const struct gw_config	*cfg;
	const struct gw_vhost	*vhost;
	struct gw_worker	*w;
	struct gw_conn		*c;		/* the client */
	struct sockaddr_storage	 peer, local;
	char			 peer_ip[INET6_ADDRSTRLEN];
	char			 peer_name[256];	/* for host rules */
	int			 peer_looked_up;	/* once a connection */
	char			 path[8192];	/* decoded, dots removed */
	const char		*query;		/* raw, after '?', or NULL */
	size_t			 qlen;
	struct slice_raw {
		const char	*p;
		size_t		 n;
	}			 rawpath;
	char			 host[512];	/* Host, or the URI's */
	int			 keepalive;	/* client may send another */
	int			 status;	/* sent, for the log */
	int			 head_sent;
	int			 upgrading;	/* Upgrade sent to backend */
	int			 body_done;	/* request body read whole */
	int			 continued;	/* 100 Continue sent */
	int			 forward;	/* a forward-proxy request */
	int			 secure;	/* came over TLS (https) */
	/* for the access log */
	struct timespec		 t_start;	/* head read (realtime) */
	long long		 mono_start;	/* the same, monotonic us */
	unsigned long long	 in_start;	/* client bytes before it */
	unsigned long long	 hdr_out;	/* head bytes we sent */
	const struct http_msg	*resp;		/* backend head relayed */
	const char		*ctype;		/* of a response we made */
	volatile sig_atomic_t	*stop;
	volatile sig_atomic_t	*retire;
	/* the disk cache: root NULL when the request is not cached */
	struct cache_root	*croot;
	char			 chost[512];	/* host part of the key */
	unsigned		 cport;		/* its port, 0: none */
	const char		*cscheme;	/* its scheme */
	char			 ckey[CACHE_DB_URL_MAX];
	char			 cname[CP_HASH_LEN + 1];
	/* the entry px.hit came from: ckey, or a variant under it */
	const char		*hkey, *hname;
	char			 vkey[CACHE_DB_URL_MAX];	/* variant */
	char			 vname[CP_HASH_LEN + 1];
	char			 vnames[1024];	/* marker's Vary names */
	char			 vnonce[40];	/* marker's generation */
	int64_t			 t_req;		/* request sent upstream */
	int			 cstale;	/* px.hit: a stored response
						   being revalidated */
	int			 creval;	/* validators sent upstream */
	int			 csie;		/* stale on an origin error */
	char			 cinm[1024];	/* If-None-Match sent */
	char			 cims[64];	/* If-Modified-Since sent */
	int			 clocked;	/* holds the CacheLock */
	/* stale-while-revalidate: refresh after the answer went out */
	const struct gw_proxypass *bg_pp;
	size_t			 bg_matched;
	int			 bg;		/* this is that refresh */
	int			 want_bg;	/* served stale: refresh it */
	const char		*xcache;	/* HIT, MISS, REVALIDATE */
	const char		*xdetail;	/* why, for X-Cache-Detail */
	/* load balancing */
	int			 lbtry;		/* another member may take it */
	int			 lbtimeout;	/* no answer in time */
	int			 answered;	/* the backend's answer went */
	const struct gw_balancer *lbb;		/* the member's balancer */
	int			 lbi;		/* the member */
	int			 lbfailed;	/* failonstatus matched */
	/* BALANCER_* for the access log (%{NAME}e), as Apache sets them */
	char			 lbenv[5][320];
	const char		*lbenvp[6];
};

static int	send_error(struct req *, int, const char *);
static const char *peer_name(struct req *, const struct gw_access *);
static int	preserve_host(const struct req *);
static int	cache_status(const struct req *, char *, size_t, size_t *);
static long long stage_deadline(long long, int, int, int, unsigned long long,
		    int);

/*---------------------------------------------------------------------
 * Small helpers
 */

static int
timeout_ms(const struct gw_config *cfg)
{
	return cfg->timeout * 1000;
}

static const char *
reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* What the default error page says, as Apache's. */
static const char *
error_text(int status)
{
	switch (status) {
	case 400: return "Your browser sent a request that this server "
	    "could not understand.";
	case 403: return "You don't have permission to access this resource.";
	case 404: return "The requested URL was not found on this server.";
	case 405: return "The requested method is not allowed for this URL.";
	case 408: return "Server timeout waiting for the HTTP request from "
	    "the client.";
	case 413: return "The requested resource does not allow request data "
	    "with this request, or the amount of data sent exceeds the "
	    "capacity limit.";
	case 414: return "The requested URL's length exceeds the capacity "
	    "limit for this server.";
	case 416: return "None of the range-specifier values in the Range "
	    "request-header field overlap the current extent of the selected "
	    "resource.";
	case 417: return "The expectation given in the Expect request-header "
	    "field could not be met by this server.";
	case 431: return "Your browser sent a request with header fields "
	    "this server could not accept.";
	case 501: return "This server does not support the action requested.";
	case 502: return "The proxy server received an invalid response from "
	    "an upstream server.";
	case 503: return "The server is temporarily unable to service your "
	    "request due to maintenance downtime or capacity problems. "
	    "Please try again later.";
	case 504: return "The gateway did not receive a timely response from "
	    "the upstream server or application.";
	case 505: return "This server does not support the HTTP version of "
	    "the request.";
	default: return "The server encountered an error.";
	}
}

/* buf_printf - append to a bounded buffer; -1 when it would overflow. */
static int
buf_printf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
buf_printf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*len >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

static int
buf_add(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (cap - *len < n)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	return 0;
}

/*
 * count_request - the scoreboard's counts for one request answered:
 * bytes sent for it, and what the cache did (the status page).  One
 * writer per slot: plain increments.
 */
static void
count_request(struct req *r, unsigned long long bytes)
{
	struct gw_worker *w = r->w;
	struct sb_slot	 *s;

	if (w->sb == NULL)
		return;
	s = &w->sb->slots[w->slot];
	s->requests++;
	s->bytes += bytes;
	if (r->xcache == NULL)
		return;
	if (strcmp(r->xcache, "HIT") == 0)
		s->cache_hits++;
	else if (strcmp(r->xcache, "MISS") == 0)
		s->cache_misses++;
	else
		s->cache_revals++;
}

/*---------------------------------------------------------------------
 * Backend URLs and the connection pool
 */

static int
parse_backend(const char *url, struct backend *b)
{
	const char	*h, *end, *colon, *rb;
	size_t		 n;

	memset(b, 0, sizeof(*b));
	if ((h = strstr(url, "://")) == NULL || (size_t)(h - url) >=
	    sizeof(b->scheme))
		return -1;
	memcpy(b->scheme, url, (size_t)(h - url));
	h += 3;
	end = h + strcspn(h, "/?");
	if (*h == '[') {
		if ((rb = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		n = (size_t)(rb - h - 1);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (n >= sizeof(b->host))
			return -1;
		memcpy(b->host, h + 1, n);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
		if (n == 0 || n >= sizeof(b->host))
			return -1;
		memcpy(b->host, h, n);
	}
	if (colon != NULL) {
		n = (size_t)(end - colon - 1);
		if (n == 0 || n >= sizeof(b->port))
			return -1;
		memcpy(b->port, colon + 1, n);
	} else
		strcpy(b->port, strcasecmp(b->scheme, "https") == 0 ||
		    strcasecmp(b->scheme, "wss") == 0 ? "443" : "80");
	if (colon != NULL && strcmp(b->port, strcasecmp(b->scheme, "http") ==
	    0 ? "80" : "443") != 0)
		(void)snprintf(b->hostport, sizeof(b->hostport), "%s%s%s:%s",
		    *h == '[' ? "[" : "", b->host, *h == '[' ? "]" : "",
		    b->port);
	else
		(void)snprintf(b->hostport, sizeof(b->hostport), "%s%s%s",
		    *h == '[' ? "[" : "", b->host, *h == '[' ? "]" : "");
	b->path = end;
	b->pathlen = strlen(end);
	/* ws:// and wss:// are http:// and https:// that upgrade to
	   WebSocket (wants_upgrade), as mod_proxy_wstunnel's */
	if (strcasecmp(b->scheme, "ws") == 0)
		strcpy(b->scheme, "http");
	else if (strcasecmp(b->scheme, "wss") == 0)
		strcpy(b->scheme, "https");
	return 0;
}

int
proxy_backend_key(const char *url, char *out, size_t outlen)
{
	struct backend	b;

	if (url == NULL || strncasecmp(url, "balancer://", 11) == 0 ||
	    parse_backend(url, &b) == -1)
		return -1;
	return snprintf(out, outlen, "%s", b.hostport) < (int)outlen ? 0 : -1;
}

static void
pool_close(int i)
{
	tls_close(px.pool[i].ssl);
	(void)close(px.pool[i].fd);
	px.pool[i] = px.pool[--px.npool];
}

void
proxy_pool_flush(void)
{
	while (px.npool > 0)
		pool_close(px.npool - 1);
}

/* pool_get - an idle connection to key still fit for use, or -1. */
static int
pool_get(const char *key, int ttl)
{
	time_t	now = time(NULL);
	int	i, fd;

	for (i = px.npool - 1; i >= 0; i--) {
		if (strcmp(px.pool[i].key, key) != 0)
			continue;
		if ((ttl > 0 && now - px.pool[i].since >= ttl) ||
		    (px.pool[i].ssl == NULL ? !conn_alive(px.pool[i].fd) :
		    !tls_idle_ok(px.pool[i].ssl, px.pool[i].fd,
		    &px.pool[i].rcv_ms, &px.pool[i].snd_ms))) {
			pool_close(i);
			continue;
		}
		fd = px.pool[i].fd;
		px.pool_rcv_ms = px.pool[i].rcv_ms;
		px.pool_snd_ms = px.pool[i].snd_ms;
		px.pool_ssl = px.pool[i].ssl;
		px.pool[i] = px.pool[--px.npool];
		return fd;
	}
	return -1;
}

static void
pool_put(const char *key, const struct gw_conn *be)
{
	if (px.npool == PROXY_POOL)
		pool_close(0);
	(void)snprintf(px.pool[px.npool].key, sizeof(px.pool[0].key), "%s",
	    key);
	px.pool[px.npool].fd = be->fd;
	px.pool[px.npool].ssl = be->ssl;
	px.pool[px.npool].rcv_ms = be->rcv_ms;
	px.pool[px.npool].snd_ms = be->snd_ms;
	px.pool[px.npool].since = time(NULL);
	px.npool++;
}

/*
 * backend_tls - b's pool key, and for https:// its TLS name: the URL's
 * host, or the client's Host (without port) with ProxyPreserveHost, as
 * mod_proxy's SNI.  The key tells TLS connections apart by that name
 * and by client context, so that none is reused for another.  -1 (and
 * logged) when this server has no SSLProxyEngine On.
 */
static int
backend_tls(struct req *r, struct backend *b)
{
	const char	*h = b->host;
	size_t		 n = strlen(h);

	b->tls = strcasecmp(b->scheme, "https") == 0;
	if (!b->tls) {
		(void)snprintf(b->key, sizeof(b->key), "%s", b->hostport);
		return 0;
	}
	if (r->vhost->ssl_proxy_engine != 1) {
		log_msg(GW_LOG_ERR, "proxy: https:// backend %s needs "
		    "SSLProxyEngine On in this server", b->hostport);
		return -1;
	}
	if (preserve_host(r) && r->host[0] != '\0') {
		h = r->host;
		if (h[0] == '[') {
			h++;
			n = strcspn(h, "]");
		} else
			n = strcspn(h, ":");
	}
	if (n >= sizeof(b->name))
		n = sizeof(b->name) - 1;
	memcpy(b->name, h, n);
	b->name[n] = '\0';
	(void)snprintf(b->key, sizeof(b->key), "https://%s|%s|%u",
	    b->hostport, b->name, tls_client_id(r->cfg, r->vhost));
	return 0;
}

/*
 * backend_connect - a new connection to b within ms.  Names are looked
 * up here (XXX: getaddrinfo has no deadline; IP literals never block).
 */
static int
backend_connect(struct req *r, const struct backend *b, int ms, int keepalive)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, e, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((e = getaddrinfo(b->host, b->port, &hints, &res)) != 0) {
		log_msg(GW_LOG_ERR, "proxy: cannot resolve backend %s: %s",
		    b->hostport, gai_strerror(e));
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = conn_connect(ai->ai_addr, ai->ai_addrlen, ms, r->stop);
		if (fd >= 0)
			break;
	}
	e = errno;
	freeaddrinfo(res);
	if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1)
		log_errno(GW_LOG_DEBUG, "setsockopt(TCP_NODELAY)");
	if (fd >= 0 && keepalive && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE,
	    &one, sizeof(one)) == -1)
		log_errno(GW_LOG_DEBUG, "setsockopt(SO_KEEPALIVE)");
	errno = e;
	return fd;
}

/*---------------------------------------------------------------------
 * Answers made here: errors (with ErrorDocument) and local files
 */

static const struct gw_errordoc *
find_errordoc(const struct gw_errordoc *e, int status)
{
	const struct gw_errordoc *found = NULL;

	for (; e != NULL; e = e->next)
		if (e->status == status)
			found = e;	/* the last one given wins */
	return found;
}

/* errordoc - the ErrorDocument for status: <Location>, vhost, main. */
static const struct gw_errordoc *
errordoc(const struct req *r, int status)
{
	const struct gw_vhost		*v = r->vhost;
	const struct gw_dir		*d;
	const struct gw_errordoc	*e = NULL;

	if (v == NULL)
		v = &r->cfg->main;
	for (d = v->dirs; d != NULL; d = d->next)
		if (d->kind == GW_DIR_LOCATION && !d->is_regex &&
		    rules_prefix(d->match, r->path) > 0 &&
		    (e = find_errordoc(d->errordocs, status)) != NULL)
			return e;
	if ((e = find_errordoc(v->errordocs, status)) != NULL)
		return e;
	if (v != &r->cfg->main)
		e = find_errordoc(r->cfg->main.errordocs, status);
	return e;
}

/*
 * local_file - the file a local path maps to: the longest Alias, else
 * DocumentRoot.  0 with out filled, -1 when nothing maps it.
 */
static int
local_file(const struct req *r, const char *path, char *out, size_t outlen)
{
	const struct gw_vhost	*vs[2] = { r->vhost, &r->cfg->main };
	const struct gw_strlist	*a;
	size_t			 best = 0, n;
	const char		*dir = NULL, *sp;

	for (int i = 0; i < 2; i++) {
		if (vs[i] == NULL || (i == 1 && vs[0] == vs[1]))
			continue;
		for (a = vs[i]->aliases_path; a != NULL; a = a->next) {
			sp = strchr(a->s, ' ');
			n = (size_t)(sp - a->s);
			if (n > best && strncmp(path, a->s, n) == 0 &&
			    (a->s[n - 1] == '/' || path[n] == '/' ||
			    path[n] == '\0')) {
				best = n;
				dir = sp + 1;
			}
		}
	}
	if (dir == NULL) {
		dir = r->vhost ? r->vhost->document_root : NULL;
		if (dir == NULL)
			dir = r->cfg->main.document_root;
		if (dir == NULL)
			return -1;
		best = 0;
	}
	if ((size_t)snprintf(out, outlen, "%s%s%s", dir, path[best] == '/' ||
	    path[best] == '\0' ? "" : "/", path + best) >= outlen)
		return -1;
	return 0;
}

static const char *
mime_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html" }, { ".htm", "text/html" },
		{ ".css", "text/css" }, { ".js", "text/javascript" },
		{ ".txt", "text/plain" }, { ".png", "image/png" },
		{ ".gif", "image/gif" }, { ".jpg", "image/jpeg" },
		{ ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" },
		{ ".json", "application/json" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) /
	    sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

/* send_head - a response head we make, with the framing we know. */
static int
send_head(struct req *r, int status, const char *ctype, long long length,
    const char *extra)
{
	size_t	len = 0;
	char	date[64];
	time_t	now = time(NULL);
	struct tm tm;

	/* a body left unread would be taken for the next request */
	if (r->m.body != HTTP_BODY_NONE && !r->body_done)
		r->keepalive = 0;
	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof(date),
	    "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	if (buf_printf(px.obuf, PROXY_BUF, &len, "HTTP/1.1 %d %s\r\n"
	    "Date: %s\r\nServer: %s\r\n", status, reason(status), date,
	    GW_NAME) == -1)
		return -1;
	if (length >= 0 && buf_printf(px.obuf, PROXY_BUF, &len,
	    "Content-Length: %lld\r\n", length) == -1)
		return -1;
	if (ctype != NULL && buf_printf(px.obuf, PROXY_BUF, &len,
	    "Content-Type: %s\r\n", ctype) == -1)
		return -1;
	if (extra != NULL && buf_printf(px.obuf, PROXY_BUF, &len, "%s",
	    extra) == -1)
		return -1;
	if (buf_printf(px.obuf, PROXY_BUF, &len, "%s\r\n", r->keepalive ?
	    (r->m.version == 10 ? "Connection: keep-alive\r\n" : "") :
	    "Connection: close\r\n") == -1)
		return -1;
	r->status = status;
	r->head_sent = 1;
	r->hdr_out += len;
	r->ctype = ctype;
	return conn_write(r->c, px.obuf, len, timeout_ms(r->cfg));
}

/* send_file - a local file as the answer, with the given status. */
static int
send_file(struct req *r, int status, const char *file)
{
	struct stat	 st;
	char		 buf[16384];
	ssize_t		 n;
	off_t		 left;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return 1;
	}
	if (send_head(r, status, mime_type(file), (long long)st.st_size,
	    NULL) == -1) {
		(void)close(fd);
		return -1;
	}
	for (left = st.st_size; r->m.mcode != HTTP_M_HEAD && left > 0;
	    left -= n) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || conn_write(r->c, buf, (size_t)n,
		    timeout_ms(r->cfg)) == -1) {
			(void)close(fd);
			r->keepalive = 0;
			return -1;	/* head promised more: close */
		}
	}
	(void)close(fd);
	return 0;
}

/* default_page - Apache's built-in error page. */
static int
default_page(struct req *r, int status, const char *extra)
{
	char	body[1024];
	int	n;

	n = snprintf(body, sizeof(body),
	    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n"
	    "<html><head>\n<title>%d %s</title>\n</head><body>\n"
	    "<h1>%s</h1>\n<p>%s</p>\n</body></html>\n", status,
	    reason(status), reason(status), error_text(status));
	if (n < 0 || (size_t)n >= sizeof(body))
		return -1;
	if (send_head(r, status, "text/html; charset=iso-8859-1", n,
	    extra) == -1)
		return -1;
	if (r->m.mcode == HTTP_M_HEAD)
		return 0;
	return conn_write(r->c, body, (size_t)n, timeout_ms(r->cfg));
}

/*
 * send_error - answer with status: the ErrorDocument if one is set
 * (text, a redirect, or a local file), else the built-in page.
 */
static int
send_error(struct req *r, int status, const char *extra)
{
	const struct gw_errordoc	*e;
	char				 file[4096], hdr[4200];
	size_t				 n;

	if (status >= 500 || status == 400 || status == 408 || status == 413 ||
	    status == 414 || status == 431 || status == 505 || status == 501)
		r->keepalive = 0;
	e = r->m.version != 0 ? errordoc(r, status) : NULL;
	if (e == NULL || e->kind == GW_ERRDOC_DEFAULT)
		return default_page(r, status, extra);
	switch (e->kind) {
	case GW_ERRDOC_TEXT:
		n = strlen(e->doc);
		if (send_head(r, status, "text/html; charset=iso-8859-1",
		    (long long)n, extra) == -1)
			return -1;
		return r->m.mcode == HTTP_M_HEAD ? 0 : conn_write(r->c,
		    e->doc, n, timeout_ms(r->cfg));
	case GW_ERRDOC_URL:
		(void)snprintf(hdr, sizeof(hdr), "Location: %s\r\n", e->doc);
		return default_page(r, 302, hdr);
	case GW_ERRDOC_LOCAL:
		if (local_file(r, e->doc, file, sizeof(file)) == 0) {
			int rc = send_file(r, status, file);

			if (rc <= 0)
				return rc;
		}
		log_msg(GW_LOG_ERR, "ErrorDocument %d: %s cannot be served "
		    "from a local file (set DocumentRoot or Alias)", status,
		    e->doc);
		return default_page(r, status, extra);
	default:
		return default_page(r, status, extra);
	}
}

/* serve_local - a request no ProxyPass forwards: a file, or 404. */
/* directory_ok - the <Directory> sections over file let the client in. */
static int
directory_ok(struct req *r, const char *file)
{
	const struct gw_vhost	*vs[2] = { &r->cfg->main, r->vhost };
	const struct gw_dir	*d;

	for (int i = 0; i < 2; i++) {
		if (i == 1 && vs[1] == vs[0])
			break;
		for (d = vs[i]->dirs; d != NULL; d = d->next)
			if (d->kind == GW_DIR_DIRECTORY && d->access.style != 0 &&
			    (d->is_regex ? d->re != NULL && regexec(d->re,
			    file, 0, NULL, 0) == 0 :
			    rules_prefix(d->match, file) > 0) &&
			    !rules_access(&d->access,
			    (struct sockaddr *)&r->peer, peer_name(r,
			    &d->access)))
				return 0;
	}
	return 1;
}

/*
 * serve_status - SetHandler server-status: the page, or with "auto" in
 * the query its text form; "refresh=N" asks the browser to reload.
 */
static int
serve_status(struct req *r)
{
	enum status_form form = STATUS_HTML;
	char		*page = NULL, extra[64] = "", word[32];
	const char	*q = r->query, *end, *host;
	size_t		 len = 0, n;
	FILE		*f;
	int		 rc;

	if (r->m.mcode != HTTP_M_GET && r->m.mcode != HTTP_M_HEAD)
		return send_error(r, 405, "Allow: GET, HEAD\r\n");
	for (end = q != NULL ? q + r->qlen : NULL; q != NULL && q < end;
	    q += n + 1) {
		n = strcspn(q, "&;");
		if (q + n > end)
			n = (size_t)(end - q);
		if (n >= sizeof(word))
			continue;
		memcpy(word, q, n);
		word[n] = '\0';
		if (strcmp(word, "auto") == 0)
			form = STATUS_AUTO;
		else if (strncmp(word, "refresh=", 8) == 0 &&
		    strspn(word + 8, "0123456789") == strlen(word + 8) &&
		    word[8] != '\0' && strlen(word + 8) < 6)
			(void)snprintf(extra, sizeof(extra), "Refresh: %s\r\n",
			    word + 8);
	}
	host = r->vhost->server_name != NULL ? r->vhost->server_name :
	    r->host[0] != '\0' ? r->host : r->cfg->main.server_name;
	if ((f = open_memstream(&page, &len)) == NULL)
		return send_error(r, 500, NULL);
	rc = status_page(f, form, r->cfg, r->w->sb, host != NULL ? host :
	    "");
	if (fclose(f) != 0 || rc == -1) {
		free(page);
		return send_error(r, 500, NULL);
	}
	rc = send_head(r, 200, form == STATUS_AUTO ?
	    "text/plain; charset=ISO-8859-1" : "text/html; charset=ISO-8859-1",
	    (long long)len, extra[0] != '\0' ? extra : NULL);
	if (rc == 0 && r->m.mcode != HTTP_M_HEAD)
		rc = conn_write(r->c, page, len, timeout_ms(r->cfg));
	free(page);
	return rc;
}

static int
serve_local(struct req *r)
{
	char	file[4096];
	int	rc;

	struct stat st;

	if (local_file(r, r->path, file, sizeof(file)) == -1 ||
	    stat(file, &st) == -1 || !S_ISREG(st.st_mode))
		return send_error(r, 404, NULL);
	if (!directory_ok(r, file))
		return send_error(r, 403, NULL);
	if (r->m.mcode != HTTP_M_GET && r->m.mcode != HTTP_M_HEAD)
		return send_error(r, 405, "Allow: GET, HEAD\r\n");
	if ((rc = send_file(r, 200, file)) <= 0)
		return rc;
	return send_error(r, 404, NULL);
}

/*---------------------------------------------------------------------
 * Access: <Proxy> sections matched against the backend URL, <Location>
 * sections against the path
 */

static int
proxy_section_matches(const struct gw_dir *d, const char *url)
{
	if (d->is_regex)
		return d->re != NULL && regexec(d->re, url, 0, NULL, 0) == 0;
	if (strcmp(d->match, "*") == 0)
		return 1;
	if (strpbrk(d->match, "*?[") != NULL)
		return fnmatch(d->match, url, FNM_CASEFOLD) == 0;
	return strncasecmp(d->match, url, strlen(d->match)) == 0;
}

/*
 * peer_name - the client's host name when a rule names hosts: looked up
 * once a connection (double-reverse, as Apache), NULL if there is none.
 */
static const char *
peer_name(struct req *r, const struct gw_access *ac)
{
	if (!rules_access_needs_host(ac))
		return NULL;
	if (!r->peer_looked_up) {
		r->peer_looked_up = 1;
		if (dns_peer_name((struct sockaddr *)&r->peer,
		    r->peer.ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    r->peer_name, sizeof(r->peer_name)) == -1)
			r->peer_name[0] = '\0';
	}
	return r->peer_name[0] != '\0' ? r->peer_name : NULL;
}

static int
access_ok(struct req *r, const char *url)
{
	const struct gw_vhost	*vs[2] = { &r->cfg->main, r->vhost };
	const struct gw_dir	*d;

	for (int i = 0; i < 2; i++) {
		if (i == 1 && vs[1] == vs[0])
			break;
		for (d = vs[i]->dirs; d != NULL; d = d->next) {
			if (d->access.style == 0)
				continue;
			if (d->kind == GW_DIR_PROXY && url != NULL &&
			    !proxy_section_matches(d, url))
				continue;
			if (d->kind == GW_DIR_PROXY && url == NULL)
				continue;
			if (d->kind == GW_DIR_LOCATION && (d->is_regex ?
			    d->re == NULL || regexec(d->re, r->path, 0, NULL,
			    0) != 0 : rules_prefix(d->match, r->path) == 0))
				continue;
			if (d->kind == GW_DIR_DIRECTORY)
				continue;
			if (!rules_access(&d->access,
			    (struct sockaddr *)&r->peer, peer_name(r,
			    &d->access)))
				return 0;
		}
	}
	return 1;
}

/*---------------------------------------------------------------------
 * The request head sent to the backend
 */

static int
is_hop_by_hop(struct http_slice name)
{
	static const char *const hop[] = { "Connection", "Keep-Alive",
	    "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
	    "Upgrade", NULL };

	for (int i = 0; hop[i] != NULL; i++)
		if (http_slice_caseeq(name, hop[i]))
			return 1;
	return 0;
}

/* named_in_connection - is name listed in a Connection header of m? */
static int
named_in_connection(const struct http_msg *m, struct http_slice name)
{
	int i = -1;

	while ((i = http_find(m, "Connection", i + 1)) >= 0) {
		const char	*p = m->headers[i].value.p;
		const char	*end = p + m->headers[i].value.n, *t;

		while (p < end) {
			while (p < end && (*p == ',' || *p == ' ' ||
			    *p == '\t'))
				p++;
			t = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if ((size_t)(p - t) == name.n && name.n > 0 &&
			    strncasecmp(t, name.p, name.n) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * encode_path - percent-encode what a decoded path cannot carry raw.
 * keep_pct: the path came through AllowEncodedSlashes NoDecode, where
 * every '%' already starts an escape.
 */
static int
encode_path(char *buf, size_t cap, size_t *len, const char *s, int keep_pct)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~!$&'()*+,;=:@/", c) != NULL ||
		    (c == '%' && keep_pct)) {
			if (*len + 1 > cap)
				return -1;
			buf[(*len)++] = (char)c;
		} else {
			if (*len + 3 > cap)
				return -1;
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[c >> 4];
			buf[(*len)++] = hex[c & 15];
		}
	}
	return 0;
}

/*
 * via_value - what this hop adds to Via (ProxyVia On: "1.1 name:port",
 * Full: and the software), into buf.
 */
static void
via_value(const struct req *r, char *buf, size_t len)
{
	const char	*name = r->vhost->server_name;
	int		 port = 0;

	if (name == NULL)
		name = r->cfg->main.server_name;
	if (name == NULL)
		name = "gatewayd";
	if (r->local.ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)(const void *)
		    &r->local)->sin_port);
	else if (r->local.ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)
		    &r->local)->sin6_port);
	(void)snprintf(buf, len, "%s %s%s%d%s", r->m.version == 10 ? "1.0" :
	    "1.1", name, strchr(name, ':') ? "" : ":", port,
	    r->vhost->proxy_via == 2 ? " (" GW_NAME "/" PACKAGE_VERSION ")" :
	    "");
	if (strchr(name, ':') != NULL) {
		/* the ServerName has its port: do not add another */
		(void)snprintf(buf, len, "%s %s%s", r->m.version == 10 ?
		    "1.0" : "1.1", name, r->vhost->proxy_via == 2 ?
		    " (" GW_NAME "/" PACKAGE_VERSION ")" : "");
	}
}

/* merged - "old, new" for X-Forwarded-* (Apache appends to what came). */
static int
add_forwarded(struct req *r, size_t *len, const char *name, const char *val)
{
	const struct http_msg	*m = &r->m;
	int			 i = -1, first = 1;

	if (buf_printf(px.obuf, PROXY_BUF, len, "%s: ", name) == -1)
		return -1;
	while ((i = http_find(m, name, i + 1)) >= 0) {
		if (buf_add(px.obuf, PROXY_BUF, len, m->headers[i].value.p,
		    m->headers[i].value.n) == -1 || buf_add(px.obuf, PROXY_BUF,
		    len, ", ", 2) == -1)
			return -1;
		first = 0;
	}
	(void)first;
	return buf_printf(px.obuf, PROXY_BUF, len, "%s\r\n", val);
}

/*
 * wants_upgrade - the client asks to switch protocols and the ProxyPass
 * says this one may be relayed (upgrade=websocket, or * / ANY).
 */
static int
wants_upgrade(const struct req *r, const struct gw_proxypass *pp)
{
	struct http_slice u;
	const char	*up = pp->upgrade;

	if (up == NULL && pp->url != NULL && (strncasecmp(pp->url, "ws://", 5)
	    == 0 || strncasecmp(pp->url, "wss://", 6) == 0))
		up = "websocket";	/* a ws:// URL upgrades by itself */
	if (up == NULL || strcasecmp(up, "NONE") == 0 ||
	    !(r->m.connection & HTTP_CONN_UPGRADE) || r->m.upgrade < 0 ||
	    r->m.version != 11)
		return 0;
	u = r->m.headers[r->m.upgrade].value;
	if (strcmp(up, "*") == 0 || strcasecmp(up, "ANY") == 0)
		return 1;
	return u.n == strlen(up) && strncasecmp(u.p, up, u.n) == 0;
}

/* preserve_host - ProxyPreserveHost of the <Location>, else the vhost's. */
static int
preserve_host(const struct req *r)
{
	const struct gw_vhost	*vs[2] = { r->vhost, &r->cfg->main };
	const struct gw_dir	*d;
	int			 v = GW_UNSET;

	for (int i = 0; i < 2 && v == GW_UNSET; i++) {
		if (i == 1 && vs[0] == vs[1])
			break;
		for (d = vs[i]->dirs; d != NULL; d = d->next)
			if (d->kind == GW_DIR_LOCATION && !d->is_regex &&
			    d->preserve_host != GW_UNSET &&
			    rules_prefix(d->match, r->path) > 0)
				v = d->preserve_host;
	}
	return v != GW_UNSET ? v == 1 : r->vhost->preserve_host == 1;
}

/*
 * build_request - the head for the backend in px.obuf.  The request
 * line carries the backend URL's path plus what is left of the client's
 * path after the ProxyPass prefix, then the query.
 */
static int
build_request(struct req *r, const struct gw_proxypass *pp,
    const struct backend *b, size_t matched, size_t *lenp)
{
	const struct http_msg	*m = &r->m;
	size_t			 len = 0;
	const char		*server;
	int			 i;

	if (buf_add(px.obuf, PROXY_BUF, &len, m->method.p, m->method.n) ==
	    -1 || buf_add(px.obuf, PROXY_BUF, &len, " ", 1) == -1 ||
	    buf_add(px.obuf, PROXY_BUF, &len, b->path, b->pathlen) == -1)
		return -1;
	if (b->pathlen == 0 && r->path[matched] != '/' &&
	    buf_add(px.obuf, PROXY_BUF, &len, "/", 1) == -1)
		return -1;
	if (pp->nocanon && rules_prefix(pp->path, r->rawpath.p) > 0) {
		size_t raw = rules_prefix(pp->path, r->rawpath.p);

		if (buf_add(px.obuf, PROXY_BUF, &len, r->rawpath.p + raw,
		    r->rawpath.n - raw) == -1)
			return -1;
	} else if (encode_path(px.obuf, PROXY_BUF, &len, r->path + matched,
	    r->vhost->allow_encoded_slashes == 2) == -1)
		return -1;
	if (r->query != NULL && !pp->noquery && (buf_add(px.obuf, PROXY_BUF,
	    &len, "?", 1) == -1 || buf_add(px.obuf, PROXY_BUF, &len, r->query,
	    r->qlen) == -1))
		return -1;
	if (buf_printf(px.obuf, PROXY_BUF, &len, " HTTP/1.1\r\nHost: %s\r\n",
	    preserve_host(r) && r->host[0] != '\0' ? r->host : b->hostport) ==
	    -1)
		return -1;
	for (i = 0; i < m->nheaders; i++) {
		struct http_slice n = m->headers[i].name;

		if (is_hop_by_hop(n) || named_in_connection(m, n) ||
		    http_slice_caseeq(n, "Host") ||
		    http_slice_caseeq(n, "Content-Length") ||
		    http_slice_caseeq(n, "Expect") ||
		    (r->vhost->add_headers && !r->forward &&
		    (http_slice_caseeq(n, "X-Forwarded-For") ||
		    http_slice_caseeq(n, "X-Forwarded-Host") ||
		    http_slice_caseeq(n, "X-Forwarded-Server") ||
		    http_slice_caseeq(n, "X-Forwarded-Proto"))) ||
		    (r->vhost->proxy_via != 0 && http_slice_caseeq(n, "Via")) ||
		    (r->creval && (http_slice_caseeq(n, "If-None-Match") ||
		    http_slice_caseeq(n, "If-Modified-Since"))))
			continue;
		if (buf_add(px.obuf, PROXY_BUF, &len, n.p, n.n) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, ": ", 2) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, m->headers[i].value.p,
		    m->headers[i].value.n) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, "\r\n", 2) == -1)
			return -1;
	}
	/* X-Forwarded-*: reverse proxying only, as Apache (privacy) */
	if (r->vhost->add_headers && !r->forward) {
		server = r->vhost->server_name ? r->vhost->server_name :
		    r->cfg->main.server_name;
		if (add_forwarded(r, &len, "X-Forwarded-For", r->peer_ip) ==
		    -1 || (r->host[0] != '\0' && add_forwarded(r, &len,
		    "X-Forwarded-Host", r->host) == -1) ||
		    (server != NULL && add_forwarded(r, &len,
		    "X-Forwarded-Server", server) == -1) ||
		    add_forwarded(r, &len, "X-Forwarded-Proto", r->secure ?
		    "https" : "http") == -1)
			return -1;
	}
	if (r->vhost->proxy_via == 1 || r->vhost->proxy_via == 2) {
		char via[512];

		via_value(r, via, sizeof(via));
		if (add_forwarded(r, &len, "Via", via) == -1)
			return -1;
	}
	/* revalidating a stored response: its validators, not the client's */
	if (r->creval && ((r->cinm[0] != '\0' && buf_printf(px.obuf,
	    PROXY_BUF, &len, "If-None-Match: %s\r\n", r->cinm) == -1) ||
	    (r->cims[0] != '\0' && buf_printf(px.obuf, PROXY_BUF, &len,
	    "If-Modified-Since: %s\r\n", r->cims) == -1)))
		return -1;
	if (m->body == HTTP_BODY_LENGTH && buf_printf(px.obuf, PROXY_BUF, &len,
	    "Content-Length: %llu\r\n", (unsigned long long)m->content_length)
	    == -1)
		return -1;
	if (m->body == HTTP_BODY_CHUNKED && buf_printf(px.obuf, PROXY_BUF,
	    &len, "Transfer-Encoding: chunked\r\n") == -1)
		return -1;
	if (wants_upgrade(r, pp)) {
		struct http_slice u = m->headers[m->upgrade].value;

		if (buf_printf(px.obuf, PROXY_BUF, &len, "Upgrade: %.*s\r\n"
		    "Connection: Upgrade\r\n", (int)u.n, u.p) == -1)
			return -1;
	} else if (pp->disablereuse && buf_printf(px.obuf, PROXY_BUF, &len,
	    "Connection: close\r\n") == -1)
		return -1;
	if (buf_add(px.obuf, PROXY_BUF, &len, "\r\n", 2) == -1)
		return -1;
	*lenp = len;
	return 0;
}

/*---------------------------------------------------------------------
 * Bodies
 */

/*
 * send_chunk - len bytes of data to c, as one chunk when chunked is set
 * (else as they are); *framing counts the bytes the chunking added.
 * len 0 with chunked writes the last chunk.
 */
static int
send_chunk(struct gw_conn *c, const char *data, size_t len, int chunked,
    int ms, unsigned long long *framing)
{
	struct iovec	iov[3];
	char		hdr[24];
	size_t		n = 0;

	if (!chunked)
		return len == 0 ? 0 : conn_write(c, data, len, ms);
	if (len == 0) {
		*framing += 5;
		return conn_write(c, "0\r\n\r\n", 5, ms);
	}
	n = (size_t)snprintf(hdr, sizeof(hdr), "%zx\r\n", len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = n;
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	*framing += n + 2;
	return conn_writev(c, iov, 3, ms);
}

/*
 * relay_request_body - the client's body to the backend: Content-Length
 * bytes as they are, chunked re-chunked (extensions and trailers
 * dropped).  Returns 0, -1 when the client failed (errno), -2 when the
 * backend did, 413 when LimitRequestBody is passed.
 */
static int
relay_request_body(struct req *r, struct gw_conn *be, int ms)
{
	const struct gw_config	*cfg = r->cfg;
	long long		 t0 = conn_now_ms(), wait;
	unsigned long long	 got = 0, framing = 0;
	ssize_t			 f;
	struct gw_conn		*c = r->c;
	struct http_chunk	 ch;
	const char		*data;
	size_t			 dlen, n;
	uint64_t		 left = r->m.content_length;
	long long		 limit = r->cfg->limit_request_body;
	long			 used;

#define BODY_FILL() do {						\
		wait = stage_deadline(t0, cfg->body_timeout,		\
		    cfg->body_timeout_max, cfg->body_min_rate, got,	\
		    cfg->timeout) - conn_now_ms();			\
		if (wait <= 0) {					\
			errno = ETIMEDOUT;				\
			return -1;					\
		}							\
		if ((f = conn_fill(c, (int)wait)) <= 0)			\
			return -1;					\
		got += (unsigned long long)f;				\
	} while (0)

	if (r->m.body == HTTP_BODY_LENGTH) {
		while (left > 0) {
			if (conn_pending(c) == 0)
				BODY_FILL();
			n = conn_pending(c);
			if (n > left)
				n = (size_t)left;
			if (conn_write(be, c->buf + c->start, n, ms) == -1)
				return -2;
			conn_consume(c, n);
			left -= n;
		}
		return 0;
	}
	http_chunk_init(&ch);
	while (!http_chunk_done(&ch)) {
		if (conn_pending(c) == 0)
			BODY_FILL();
		used = http_chunk_feed(&ch, c->buf + c->start, conn_pending(c),
		    &data, &dlen);
		if (used < 0) {
			errno = EPROTO;
			return -1;
		}
		if (limit > 0 && ch.total > (uint64_t)limit)
			return 413;
		if (dlen > 0 && send_chunk(be, data, dlen, 1, ms, &framing) ==
		    -1)
			return -2;
		conn_consume(c, (size_t)used);
	}
	if (send_chunk(be, NULL, 0, 1, ms, &framing) == -1)
		return -2;
	return 0;
#undef BODY_FILL
}

/*
 * relay_response_body - the backend's body to the client, re-framed as
 * decided: chunked to a 1.1 client when the length is unknown.
 * Every body byte sent to the client also goes to put, when storing.
 * Returns 0 when the whole body went through, -1 when the backend
 * failed (truncated: the client connection must close), -2 when the
 * client did.
 */
static int
relay_response_body(struct req *r, struct gw_conn *be,
    const struct http_msg *rm, int chunk_out, int ms, struct cache_put *put)
{
	struct gw_conn		*c = r->c;
	struct http_chunk	 ch;
	const char		*data;
	size_t			 dlen, n;
	uint64_t		 left = rm->content_length;
	long			 used;
	ssize_t			 got;

	if (rm->body == HTTP_BODY_NONE)
		return 0;
	if (rm->body == HTTP_BODY_LENGTH) {
		while (left > 0) {
			if (conn_pending(be) == 0 && conn_fill(be, ms) <= 0)
				return -1;
			n = conn_pending(be);
			if (n > left)
				n = (size_t)left;
			if (conn_write(c, be->buf + be->start, n,
			    timeout_ms(r->cfg)) == -1)
				return -2;
			if (put != NULL)
				cache_put_write(put, be->buf + be->start, n);
			conn_consume(be, n);
			left -= n;
		}
		return 0;
	}
	if (rm->body == HTTP_BODY_CLOSE) {
		for (;;) {
			if (conn_pending(be) == 0) {
				got = conn_fill(be, ms);
				if (got == 0)
					break;
				if (got < 0)
					return -1;
			}
			n = conn_pending(be);
			if (send_chunk(c, be->buf + be->start, n, chunk_out,
			    timeout_ms(r->cfg), &r->hdr_out) == -1)
				return -2;
			if (put != NULL)
				cache_put_write(put, be->buf + be->start, n);
			conn_consume(be, n);
		}
		if (send_chunk(c, NULL, 0, chunk_out, timeout_ms(r->cfg),
		    &r->hdr_out) == -1)
			return -2;
		return 0;
	}
	/* chunked from the backend */
	http_chunk_init(&ch);
	while (!http_chunk_done(&ch)) {
		if (conn_pending(be) == 0 && conn_fill(be, ms) <= 0)
			return -1;
		used = http_chunk_feed(&ch, be->buf + be->start,
		    conn_pending(be), &data, &dlen);
		if (used < 0)
			return -1;
		if (dlen > 0 && send_chunk(c, data, dlen, chunk_out,
		    timeout_ms(r->cfg), &r->hdr_out) == -1)
			return -2;
		if (dlen > 0 && put != NULL)
			cache_put_write(put, data, dlen);
		conn_consume(be, (size_t)used);
	}
	if (send_chunk(c, NULL, 0, chunk_out, timeout_ms(r->cfg),
	    &r->hdr_out) == -1)
		return -2;
	return 0;
}

/*---------------------------------------------------------------------
 * The response head sent to the client
 */

/*
 * reverse_map - ProxyPassReverse: a Location-like value that starts
 * with a backend URL becomes this server's URL.  0 when unchanged.
 */
/*
 * reverse_match - v starts with p's URL (for a balancer, with any
 * member's URL followed by the path after the balancer's name, as
 * Apache): 1 with *n its length.
 */
static int
reverse_match(const struct gw_proxypassreverse *p, struct http_slice v,
    size_t *n)
{
	const struct gw_bmember	*m;
	size_t			 mn, ln;

	if (p->balancer == NULL) {
		*n = strlen(p->url);
		return v.n >= *n && strncmp(v.p, p->url, *n) == 0;
	}
	ln = strlen(p->lbpath);
	for (int i = 0; i < p->balancer->nmembers; i++) {
		m = &p->balancer->members[i];
		mn = strlen(m->name);
		if (v.n >= mn + ln && strncasecmp(v.p, m->name, mn) == 0 &&
		    strncmp(v.p + mn, p->lbpath, ln) == 0) {
			*n = mn + ln;
			return 1;
		}
	}
	return 0;
}

static int
reverse_map(const struct req *r, struct http_slice v, char *out, size_t cap)
{
	const struct gw_vhost			*vs[2] = { &r->cfg->main,
						    r->vhost };
	const struct gw_proxypassreverse	*p;
	const struct gw_dir			*d;
	const char				*name;
	size_t					 n;
	int					 n2;

	for (int i = 1; i >= 0; i--) {
		if (i == 0 && vs[0] == vs[1])
			break;
		for (d = vs[i]->dirs; d != NULL; d = d->next)
			for (p = d->proxypassreverse; p != NULL; p = p->next)
				if (reverse_match(p, v, &n))
					goto found;
		for (p = vs[i]->proxypassreverse; p != NULL; p = p->next)
			if (reverse_match(p, v, &n))
				goto found;
	}
	return 0;
found:
	/*
	 * Absolute, as Apache's ap_construct_url with UseCanonicalName
	 * Off: the name the client used, else ServerName.
	 */
	name = r->host[0] != '\0' ? r->host : r->vhost->server_name ?
	    r->vhost->server_name : r->cfg->main.server_name;
	if (name != NULL && strstr(name, "://") != NULL)
		name = strstr(name, "://") + 3;
	if (name == NULL)
		n2 = snprintf(out, cap, "%s%.*s", p->path, (int)(v.n - n),
		    v.p + n);
	else
		n2 = snprintf(out, cap, "%s://%s%s%.*s", r->secure ?
		    "https" : "http", name, p->path, (int)(v.n - n), v.p + n);
	return n2 >= 0 && (size_t)n2 < cap;
}

/*
 * cookie_map - ProxyPassReverseCookieDomain/Path on one Set-Cookie
 * value: an attribute domain=internal (exact, any case) or path=
 * starting with internal gets the public value.  0 when unchanged.
 */
static int
cookie_map(const struct req *r, struct http_slice v, char *out, size_t cap)
{
	const struct gw_strlist	*lists[2] = { r->vhost->cookie_domains,
				    r->vhost->cookie_paths };
	static const char *const attr[2] = { "domain=", "path=" };
	const char		*p = v.p, *end = v.p + v.n, *a, *ae, *sp;
	size_t			 o = 0, n;
	int			 changed = 0;

	if (lists[0] == NULL && lists[1] == NULL)
		return 0;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));

		ae = semi ? semi : end;
		for (a = p; a < ae && (*a == ' ' || *a == ';'); a++)
			;
		for (int k = 0; k < 2; k++) {
			const struct gw_strlist *l;

			n = strlen(attr[k]);
			if ((size_t)(ae - a) < n || strncasecmp(a, attr[k], n))
				continue;
			for (l = lists[k]; l != NULL; l = l->next) {
				size_t il;

				sp = strchr(l->s, ' ');
				il = (size_t)(sp - l->s);
				if (k == 0 ? ((size_t)(ae - a - n) == il &&
				    strncasecmp(a + n, l->s, il) == 0) :
				    ((size_t)(ae - a - n) >= il &&
				    strncmp(a + n, l->s, il) == 0)) {
					if (buf_add(out, cap, &o, p,
					    (size_t)(a - p) + n) == -1 ||
					    buf_add(out, cap, &o, sp + 1,
					    strlen(sp + 1)) == -1 ||
					    buf_add(out, cap, &o, a + n + il,
					    (size_t)(ae - a - n - il)) == -1)
						return 0;
					changed = 1;
					goto next;
				}
			}
		}
		if (buf_add(out, cap, &o, p, (size_t)(ae - p)) == -1)
			return 0;
next:
		if (semi != NULL && buf_add(out, cap, &o, ";", 1) == -1)
			return 0;
		p = semi ? semi + 1 : end;
	}
	if (!changed || o >= cap)
		return 0;
	out[o] = '\0';
	return 1;
}

static int
build_response(struct req *r, const struct http_msg *rm, int chunk_out,
    int close_client, size_t *lenp)
{
	size_t	len = 0;
	char	mapped[4096];
	int	i;

	if (buf_printf(px.obuf, PROXY_BUF, &len, "HTTP/1.1 %d ",
	    rm->status) == -1 || buf_add(px.obuf, PROXY_BUF, &len,
	    rm->reason.p, rm->reason.n) == -1 || buf_add(px.obuf, PROXY_BUF,
	    &len, "\r\n", 2) == -1)
		return -1;
	for (i = 0; i < rm->nheaders; i++) {
		struct http_slice n = rm->headers[i].name, v;

		v = rm->headers[i].value;
		if (is_hop_by_hop(n) || named_in_connection(rm, n))
			continue;
		if (http_slice_caseeq(n, "Content-Length") && rm->body !=
		    HTTP_BODY_LENGTH && rm->status != 304 &&
		    r->m.mcode != HTTP_M_HEAD)
			continue;
		if ((http_slice_caseeq(n, "Location") ||
		    http_slice_caseeq(n, "Content-Location") ||
		    http_slice_caseeq(n, "URI")) &&
		    reverse_map(r, v, mapped, sizeof(mapped))) {
			v.p = mapped;
			v.n = strlen(mapped);
		}
		if (http_slice_caseeq(n, "Set-Cookie") &&
		    cookie_map(r, v, mapped, sizeof(mapped))) {
			v.p = mapped;
			v.n = strlen(mapped);
		}
		if ((r->vhost->proxy_via == 1 || r->vhost->proxy_via == 2) &&
		    http_slice_caseeq(n, "Via"))
			continue;	/* merged below */
		if (buf_add(px.obuf, PROXY_BUF, &len, n.p, n.n) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, ": ", 2) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, v.p, v.n) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, "\r\n", 2) == -1)
			return -1;
	}
	if (r->vhost->proxy_via == 1 || r->vhost->proxy_via == 2) {
		char	via[512];
		int	k = -1, first = 1;

		via_value(r, via, sizeof(via));
		if (buf_printf(px.obuf, PROXY_BUF, &len, "Via: ") == -1)
			return -1;
		while ((k = http_find(rm, "Via", k + 1)) >= 0) {
			if (buf_add(px.obuf, PROXY_BUF, &len,
			    rm->headers[k].value.p, rm->headers[k].value.n) ==
			    -1 || buf_add(px.obuf, PROXY_BUF, &len, ", ", 2) ==
			    -1)
				return -1;
			first = 0;
		}
		(void)first;
		if (buf_printf(px.obuf, PROXY_BUF, &len, "%s\r\n", via) == -1)
			return -1;
	}
	if (chunk_out && buf_printf(px.obuf, PROXY_BUF, &len,
	    "Transfer-Encoding: chunked\r\n") == -1)
		return -1;
	if (cache_status(r, px.obuf, PROXY_BUF, &len) == -1)
		return -1;
	if (close_client ? buf_printf(px.obuf, PROXY_BUF, &len,
	    "Connection: close\r\n") == -1 : (r->m.version == 10 &&
	    buf_printf(px.obuf, PROXY_BUF, &len,
	    "Connection: keep-alive\r\n") == -1))
		return -1;
	if (buf_add(px.obuf, PROXY_BUF, &len, "\r\n", 2) == -1)
		return -1;
	*lenp = len;
	return 0;
}

/*---------------------------------------------------------------------
 * The disk cache (CacheEnable disk): lookup, hits, storing, invalidation
 */

/*
 * key_base - CacheKeyBaseURL: the scheme, host and port of url go into
 * the keys of reverse-proxied requests instead of the server's own.
 */
static int
key_base(struct req *r, const char *url)
{
	const char	*h, *e, *colon;
	unsigned long	 port = 0;

	if ((h = strstr(url, "://")) == NULL)
		return -1;
	r->cscheme = strncasecmp(url, "https", 5) == 0 ? "https" : "http";
	h += 3;
	e = h + strcspn(h, "/");
	if ((colon = memchr(h, ':', (size_t)(e - h))) != NULL &&
	    memchr(h, ']', (size_t)(e - h)) == NULL) {
		port = strtoul(colon + 1, NULL, 10);
		e = colon;
	}
	if ((size_t)(e - h) >= sizeof(r->chost) || e == h || port > 65535)
		return -1;
	memcpy(r->chost, h, (size_t)(e - h));
	r->chost[e - h] = '\0';
	r->cport = (unsigned)port;
	return 0;
}

/*
 * make_key - the cache key of target (origin form) on r's host, and
 * its hash name: without CacheIgnoreURLSessionIdentifiers' parameters,
 * without the query under CacheIgnoreQueryString.  0 or -1.
 */
static int
make_key(const struct req *r, const char *target, size_t tlen, char *key,
    size_t keylen, char name[CP_HASH_LEN + 1])
{
	char	stripped[8192];
	int	n;

	if (px.cpc.ignore_url_session_identifiers != NULL) {
		if ((n = cache_policy_strip_session(target, tlen,
		    px.cpc.ignore_url_session_identifiers, stripped,
		    sizeof(stripped))) < 0)
			return -1;
		target = stripped;
		tlen = (size_t)n;
	}
	if (cache_policy_key(key, keylen, r->cscheme, r->chost, r->cport,
	    target, tlen, px.cpc.ignore_query_string) < 0 ||
	    cache_policy_hash(key, strlen(key), name) == -1)
		return -1;
	return 0;
}

/*
 * cache_conf_of - the caching knobs for r: its vhost's, then those set
 * in the <Proxy> sections matching the backend URL, then in the
 * <Location> sections matching the path (Apache merges directory-like
 * sections before locations), main server's sections first.
 */
static void
cache_conf_of(const struct req *r, const char *url)
{
	const struct gw_vhost	*vs[2] = { &r->cfg->main, r->vhost };
	const struct gw_dir	*d;

	cache_policy_conf_vhost(&px.cpc, r->vhost);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 2; i++) {
			if (i == 1 && vs[1] == vs[0])
				break;
			for (d = vs[i]->dirs; d != NULL; d = d->next) {
				if (pass == 0 && (d->kind != GW_DIR_PROXY ||
				    url == NULL ||
				    !proxy_section_matches(d, url)))
					continue;
				if (pass == 1 && (d->kind != GW_DIR_LOCATION ||
				    d->is_regex ||
				    rules_prefix(d->match, r->path) == 0))
					continue;
				cache_policy_conf_apply(&px.cpc,
				    &d->cache_conf);
			}
		}
}

/*
 * cache_prepare - is r's URL, going to the backend url, cached on disk
 * (CacheEnable/CacheDisable) and its root open?  Then r->croot, the key
 * and its hash name are set.  The key's host is the vhost's ServerName,
 * else the Host.
 */
static void
cache_prepare(struct req *r, const char *url)
{
	enum gw_cache_type	 types[2];
	struct cache_root	*cr = NULL;
	const char		*host;
	size_t			 tlen;
	int			 n;

	r->croot = NULL;
	px.xhdr_len = 0;
	r->hkey = r->ckey;
	r->hname = r->cname;
	r->vnames[0] = r->vnonce[0] = '\0';
	r->cport = 0;
	if (r->forward) {
		/* the URI's host and port: Apache's key for proxy requests */
		char		*colon;
		unsigned long	 port = 80;

		(void)snprintf(r->chost, sizeof(r->chost), "%s", r->host);
		if ((colon = strrchr(r->chost, ':')) != NULL &&
		    strchr(colon, ']') == NULL) {
			*colon++ = '\0';
			port = strtoul(colon, NULL, 10);
			if (port == 0 || port > 65535)
				return;
		}
		r->cport = (unsigned)port;
		n = cache_policy_enabled(r->cfg, r->vhost, "http", r->chost,
		    r->cport, r->path, types);
	} else
		n = cache_policy_enabled(r->cfg, r->vhost, NULL, NULL, 0,
		    r->path, types);
	/* the first of the enabled stores that is open (Apache's order) */
	for (int i = 0; i < n && cr == NULL; i++)
		cr = types[i] == GW_CACHE_MEM ? cache_root_mem() :
		    cache_root_of(r->vhost);
	if (cr == NULL)
		return;			/* not cached: no more work */
	cache_conf_of(r, url);
	if (!r->forward) {
		host = r->vhost->server_name != NULL ? r->vhost->server_name :
		    r->host[0] != '\0' ? r->host : r->cfg->main.server_name;
		if (host == NULL || strlen(host) >= sizeof(r->chost))
			return;
		(void)snprintf(r->chost, sizeof(r->chost), "%s", host);
	}
	/* a request that came over TLS is https:// in the key, as Apache */
	r->cscheme = r->secure ? "https" : "http";
	if (!r->forward && px.cpc.key_base_url != NULL &&
	    key_base(r, px.cpc.key_base_url) == -1)
		return;
	/* the path and query are one run of the request-target */
	tlen = r->rawpath.n + (r->query != NULL ? r->qlen + 1 : 0);
	if (make_key(r, r->rawpath.p, tlen, r->ckey, sizeof(r->ckey),
	    r->cname) == -1)
		return;
	r->croot = cr;
}

/*
 * cache_status - CacheHeader and CacheDetailHeader: X-Cache and
 * X-Cache-Detail fields naming what the cache did, as Apache's
 * mod_cache words them ("HIT from host", "\"cache hit\" from host").
 */
static int
cache_status(const struct req *r, char *buf, size_t cap, size_t *len)
{
	const char *host = r->vhost->server_name != NULL ?
	    r->vhost->server_name : r->cfg->main.server_name != NULL ?
	    r->cfg->main.server_name : r->chost;

	if (r->xcache == NULL)
		return 0;
	if (r->vhost->cache_header == 1 && buf_printf(buf, cap, len,
	    "X-Cache: %s from %s\r\n", r->xcache, host) == -1)
		return -1;
	if (r->vhost->cache_detail_header == 1 && r->xdetail != NULL &&
	    buf_printf(buf, cap, len, "X-Cache-Detail: \"%s\" from %s\r\n",
	    r->xdetail, host) == -1)
		return -1;
	return 0;
}

/* stored_parse - px.hit's head into px.sm; 0 or -1. */
static int
stored_parse(void)
{
	return http_parse_response(px.hit.head, px.hit.head_len, HTTP_M_GET,
	    &px.sm) == HTTP_OK ? 0 : -1;
}

/*
 * if_range - does the request's If-Range (RFC 9110 13.1.5) allow its
 * Range on the stored response px.sm?  Only a strong match counts: the
 * same strong ETag, or exactly its Last-Modified date.
 */
static int
if_range(const struct req *r)
{
	struct http_slice	v, e;
	int			i, j;

	if ((i = http_find(&r->m, "If-Range", 0)) < 0)
		return 1;
	v = r->m.headers[i].value;
	if (v.n > 0 && (v.p[0] == '"' || v.p[0] == 'W')) {
		if ((j = http_find(&px.sm, "ETag", 0)) < 0)
			return 0;
		e = px.sm.headers[j].value;
		return v.p[0] == '"' && e.n == v.n && e.p[0] == '"' &&
		    memcmp(e.p, v.p, v.n) == 0;
	}
	if ((j = http_find(&px.sm, "Last-Modified", 0)) < 0)
		return 0;
	e = px.sm.headers[j].value;
	return e.n == v.n && memcmp(e.p, v.p, v.n) == 0;
}

/*
 * cached_range - a Range request on the stored 200 (whole in the
 * cache): 1 with [*first, *last] for a 206, -1 for a 416, 0 to send the
 * whole response.
 */
static int
cached_range(const struct req *r, uint64_t *first, uint64_t *last)
{
	int	i;

	if ((r->m.mcode != HTTP_M_GET && r->m.mcode != HTTP_M_HEAD) ||
	    px.hit.meta.status != 200 ||
	    (i = http_find(&r->m, "Range", 0)) < 0 ||
	    http_find(&r->m, "Range", i + 1) >= 0 || stored_parse() == -1 ||
	    !if_range(r))
		return 0;
	return http_range(r->m.headers[i].value.p, r->m.headers[i].value.n,
	    px.hit.body_len, first, last);
}

/* send_cached - the stored response in px.hit, with Age. */
static int
send_cached(struct req *r, int64_t age)
{
	struct cache_hit	*h = &px.hit;
	const char		*rest;
	uint64_t		 first = 0, last = 0, blen = h->body_len;
	size_t			 len = 0;
	int			 range;

	if (r->m.body != HTTP_BODY_NONE && !r->body_done)
		r->keepalive = 0;
	if ((range = cached_range(r, &first, &last)) == -1) {
		char	cr[64];

		(void)snprintf(cr, sizeof(cr), "Content-Range: bytes "
		    "*/%llu\r\n", (unsigned long long)h->body_len);
		return send_error(r, 416, cr);
	}
	if (range == 1 && (rest = memchr(h->head, '\n', h->head_len)) !=
	    NULL) {
		/* the stored head but its status line, which says 206 */
		rest++;
		blen = last - first + 1;
		if (buf_printf(px.obuf, PROXY_BUF, &len, "HTTP/1.1 206 "
		    "Partial Content\r\nContent-Range: bytes %llu-%llu/%llu"
		    "\r\n", (unsigned long long)first,
		    (unsigned long long)last,
		    (unsigned long long)h->body_len) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, rest,
		    h->head_len - 2 - (size_t)(rest - h->head)) == -1)
			return -1;
	} else if (buf_add(px.obuf, PROXY_BUF, &len, h->head,
	    h->head_len - 2) == -1)	/* leave out the empty line */
		return -1;
	else
		first = 0;
	if (buf_printf(px.obuf, PROXY_BUF, &len, "Age: %lld\r\n"
	    "Content-Length: %llu\r\n", (long long)age,
	    (unsigned long long)blen) == -1 ||
	    buf_add(px.obuf, PROXY_BUF, &len, px.xhdr, px.xhdr_len) == -1 ||
	    cache_status(r, px.obuf, PROXY_BUF, &len) == -1 ||
	    buf_printf(px.obuf, PROXY_BUF, &len, "%s\r\n", !r->keepalive ?
	    "Connection: close\r\n" : r->m.version == 10 ?
	    "Connection: keep-alive\r\n" : "") == -1)
		return -1;
	r->status = range == 1 ? 206 : h->meta.status;
	r->head_sent = 1;
	r->hdr_out += len;
	if (r->m.mcode != HTTP_M_HEAD && blen > 0 && h->have == h->body_len) {
		/* a small body came with the head: one write for both */
		struct iovec	iov[2];

		iov[0].iov_base = px.obuf;
		iov[0].iov_len = len;
		iov[1].iov_base = (char *)(uintptr_t)(h->body + first);
		iov[1].iov_len = (size_t)blen;
		if (conn_writev(r->c, iov, 2, timeout_ms(r->cfg)) == -1) {
			r->keepalive = 0;
			return -1;
		}
		return 0;
	}
	if (conn_write(r->c, px.obuf, len, timeout_ms(r->cfg)) == -1)
		return -1;
	if (r->m.mcode == HTTP_M_HEAD || blen == 0 || r->bg)
		return 0;
	if ((r->c->ssl != NULL ? conn_send_fd(r->c, h->fd,
	    (off_t)(h->body_off + first), blen, timeout_ms(r->cfg)) :
	    cache_send_file(r->c->fd, h->fd, h->body_off + first, blen,
	    timeout_ms(r->cfg), &r->c->snd_ms, r->stop, &r->c->out)) == -1) {
		log_errno(GW_LOG_INFO, "proxy: sending a cached body to %s",
		    r->peer_ip);
		r->keepalive = 0;
		return -1;	/* the head promised more: close */
	}
	return 0;
}

/*
 * send_not_modified - a 304 made from the stored response (px.sm): its
 * fields but those describing the content (RFC 9110 15.4.5), with Age.
 */
static int
send_not_modified(struct req *r, int64_t age)
{
	size_t	len = 0;

	if (r->m.body != HTTP_BODY_NONE && !r->body_done)
		r->keepalive = 0;
	if (buf_printf(px.obuf, PROXY_BUF, &len,
	    "HTTP/1.1 304 Not Modified\r\n") == -1)
		return -1;
	for (int i = 0; i < px.sm.nheaders; i++) {
		struct http_slice n = px.sm.headers[i].name;
		struct http_slice v = px.sm.headers[i].value;

		if (!cache_policy_in_304(n))
			continue;
		if (buf_add(px.obuf, PROXY_BUF, &len, n.p, n.n) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, ": ", 2) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, v.p, v.n) == -1 ||
		    buf_add(px.obuf, PROXY_BUF, &len, "\r\n", 2) == -1)
			return -1;
	}
	if (buf_printf(px.obuf, PROXY_BUF, &len, "Age: %lld\r\n",
	    (long long)age) == -1 ||
	    buf_add(px.obuf, PROXY_BUF, &len, px.xhdr, px.xhdr_len) == -1 ||
	    cache_status(r, px.obuf, PROXY_BUF, &len) == -1 ||
	    buf_printf(px.obuf, PROXY_BUF, &len, "%s\r\n", !r->keepalive ?
	    "Connection: close\r\n" : r->m.version == 10 ?
	    "Connection: keep-alive\r\n" : "") == -1)
		return -1;
	r->status = 304;
	r->head_sent = 1;
	r->hdr_out += len;
	return conn_write(r->c, px.obuf, len, timeout_ms(r->cfg));
}

/*
 * serve_stored - px.hit to the client: a 304 when the client's own
 * If-None-Match or If-Modified-Since holds for it, else the response.
 */
static int
serve_stored(struct req *r, int64_t age)
{
	if (stored_parse() == 0 && cache_policy_conditional(&r->m, &px.sm,
	    &px.hit.meta) == CP_COND_304)
		return send_not_modified(r, age);
	return send_cached(r, age);
}

/*
 * serve_stale - the origin failed (5xx, unreachable) while px.hit was
 * being revalidated and stale-if-error or CacheStaleOnError allows it:
 * the stored response goes out instead (RFC 9111 dropped Warning, so
 * only Age says it is old).  1 (*rc the result), or 0: not allowed.
 */
static int
serve_stale(struct req *r, int *rc)
{
	if (!r->cstale || !r->csie || r->head_sent)
		return 0;
	log_msg(GW_LOG_INFO, "cache: origin failed, serving stale %s",
	    r->ckey);
	r->xcache = "HIT";
	r->xdetail = "cache hit: stale entity served on origin error";
	r->resp = NULL;
	*rc = serve_stored(r, cache_policy_current_age(&px.hit.meta,
	    (int64_t)time(NULL)));
	return 1;
}

/*
 * Vary (RFC 9111 4.1).  A response with Vary is stored as a variant,
 * under the key "<key>\t<generation>\t<name:value\t...>" of the
 * request's values of the Vary fields, and the key itself holds a
 * marker: an empty entry whose head names the fields and the
 * generation.  A lookup that finds a marker looks the request's
 * variant up.  Invalidating the key removes the marker, and the next
 * marker has a new generation, so the old variants are never reached
 * again (they age out of the index).
 */

/* marker_read - px.hit is a marker: its names and generation into r. */
static int
marker_read(struct req *r)
{
	int	i, n;

	if (stored_parse() == -1 || (n = cache_policy_vary_names(&px.sm,
	    r->vnames, sizeof(r->vnames))) <= 0 ||
	    (i = http_find(&px.sm, "Gw-Variants", 0)) < 0 ||
	    px.sm.headers[i].value.n == 0 ||
	    px.sm.headers[i].value.n >= sizeof(r->vnonce)) {
		r->vnames[0] = '\0';
		return -1;
	}
	memcpy(r->vnonce, px.sm.headers[i].value.p, px.sm.headers[i].value.n);
	r->vnonce[px.sm.headers[i].value.n] = '\0';
	return 0;
}

/* variant_name - r's variant under the marker in r->vnames/vnonce. */
static int
variant_name(struct req *r)
{
	char	 key[4096];
	size_t	 len = 0;
	int	 n;

	if ((n = cache_policy_vary_key(r->vnames, strlen(r->vnames), &r->m,
	    key, sizeof(key))) < 0 || buf_printf(r->vkey, sizeof(r->vkey),
	    &len, "%s\t%s\t", r->ckey, r->vnonce) == -1 ||
	    buf_add(r->vkey, sizeof(r->vkey) - 1, &len, key, (size_t)n) == -1)
		return -1;
	r->vkey[len] = '\0';
	for (char *p = r->vkey + len - (size_t)n; *p != '\0'; p++)
		if (*p == '\n')
			*p = '\t';
	return cache_policy_hash(r->vkey, len, r->vname);
}

/*
 * marker_write - a new generation of variants for r's key, whose
 * responses vary on names: the marker is stored (replacing what the key
 * held) and r->vnames/vnonce are set.  0, or -1.
 */
static int
marker_write(struct req *r, const char *names)
{
	static unsigned	 seq;
	struct cp_meta	 meta;
	size_t		 len = 0;

	if (strlen(names) >= sizeof(r->vnames))
		return -1;
	(void)snprintf(r->vnonce, sizeof(r->vnonce), "%llx.%x.%x",
	    (unsigned long long)time(NULL), (unsigned)getpid(), ++seq);
	(void)snprintf(r->vnames, sizeof(r->vnames), "%s", names);
	memset(&meta, 0, sizeof(meta));	/* expires 0: evicted by LRU */
	meta.status = 200;
	meta.flags = CACHE_M_VARY;
	if (buf_printf(px.shead, sizeof(px.shead), &len, "HTTP/1.1 200 "
	    "Variants\r\nVary: %s\r\nGw-Variants: %s\r\n\r\n", names,
	    r->vnonce) == -1 || cache_put_begin(&px.put, r->croot, r->cname,
	    r->ckey, &meta, px.shead, len) == -1)
		return -1;
	px.put.min_body = 0;		/* a marker has no body */
	cache_put_end(&px.put, 1);
	return 0;
}

/*
 * cache_find - r's stored response into px.hit (r->hkey, r->hname say
 * which entry), through a marker to the request's variant; 0 or -1.
 */
static int
cache_find(struct req *r)
{
	int	rc;

	if (cache_lookup(r->croot, r->cname, r->ckey, &px.hit) == -1)
		return -1;
	if (!(px.hit.meta.flags & CACHE_M_VARY))
		return 0;
	rc = marker_read(r);
	cache_hit_close(&px.hit);
	if (rc == -1 || variant_name(r) == -1)
		return -1;
	r->hkey = r->vkey;
	r->hname = r->vname;
	return cache_lookup(r->croot, r->vname, r->vkey, &px.hit);
}

/* cache_release - the CacheLock goes, when r holds it. */
static void
cache_release(struct req *r)
{
	if (r->clocked)
		cache_unlock(r->cname);
	r->clocked = 0;
}

/*
 * collapse - CacheLock: may r go to the origin for its key now (0), or
 * is another process fetching it, so that r should wait a little and
 * look again (1)?  r waits one fetch at most (*waited, ms so far), and
 * never longer than CacheLockMaxAge: after that it fetches as well.
 */
static int
collapse(struct req *r, int *waited)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		max_age = px.cpc.lock_max_age;

	if (!px.cpc.lock || r->clocked || *waited < 0)
		return 0;
	switch (cache_lock(r->croot, r->cname, max_age)) {
	case CACHE_LOCK_HELD:
		r->clocked = 1;
		return 0;
	case CACHE_LOCK_NONE:
		if (*waited > 0)
			*waited = -1;	/* its fetch ended without an entry */
		return 0;
	case CACHE_LOCK_WAIT:
		break;
	}
	if (*waited >= max_age * 1000 || *r->stop) {
		*waited = -1;
		return 0;
	}
	(void)nanosleep(&ts, NULL);
	*waited += 10;
	return 1;
}

/*
 * cache_serve - GET or HEAD: a usable stored response goes out (1,
 * *rc the result); otherwise 0, on to the origin.  A stale one that
 * must be revalidated stays open in px.hit (r->cstale), and its
 * validators go upstream (r->creval) unless the client's own
 * preconditions (If-Match, If-Unmodified-Since) are the origin's to
 * judge.  only-if-cached without a usable entry is 504.
 */
static int
cache_serve(struct req *r, int *rc)
{
	struct cp_cc		cc;
	struct cp_decision	d;
	enum cp_cond		cond;
	int			waited = 0;

	cache_policy_cc_request(&r->m, &cc);
again:
	memset(&d, 0, sizeof(d));
	r->xcache = "MISS";
	r->xdetail = "cache miss: attempting entity save";
	if (cache_find(r) == 0) {
		cache_policy_decide(&px.cpc, &px.hit.meta, &cc,
		    (int64_t)time(NULL), &d);
		cond = stored_parse() == 0 ? cache_policy_conditional(&r->m,
		    &px.sm, &px.hit.meta) : CP_COND_FORWARD;
		if (r->bg) {
			/* the refresh: whatever is stored is revalidated */
			if (d.verdict == CP_STALE_OK && d.background)
				d.verdict = CP_REVALIDATE;
			else if (d.verdict != CP_REVALIDATE)
				goto done;	/* someone refreshed it */
			if (cache_lock(r->croot, r->cname, px.cpc.lock_max_age)
			    != CACHE_LOCK_HELD)
				goto done;	/* someone is refreshing it */
			r->clocked = 1;
			cond = CP_COND_NONE;
			d.conditional = 1;
		}
		if ((d.verdict == CP_FRESH || d.verdict == CP_STALE_OK) &&
		    cond != CP_COND_FORWARD) {
			/* a stale answer, within stale-while-revalidate:
			   refreshed once it went out (bg_refresh) */
			r->want_bg = d.verdict == CP_STALE_OK && d.background;
			r->xcache = "HIT";
			r->xdetail = "cache hit";
			*rc = cond == CP_COND_304 ?
			    send_not_modified(r, d.age) :
			    send_cached(r, d.age);
			cache_hit_close(&px.hit);
			return 1;
		}
		if (d.verdict == CP_REVALIDATE && !d.only_if_cached &&
		    cond != CP_COND_FORWARD) {
			if (collapse(r, &waited)) {
				cache_hit_close(&px.hit);
				goto again;
			}
			r->cstale = 1;
			r->csie = d.stale_if_error;
			r->creval = d.conditional &&
			    cache_policy_validators(&px.sm, r->cinm,
			    sizeof(r->cinm), r->cims, sizeof(r->cims)) > 0;
			return 0;
		}
		cache_hit_close(&px.hit);
	}
	if (r->bg)
		goto done;		/* gone meanwhile: nothing to refresh */
	if (cc.flags & CP_CC_ONLY_IF_CACHED) {
		*rc = send_error(r, 504, NULL);
		return 1;
	}
	if (collapse(r, &waited))
		goto again;
	return 0;
done:
	cache_hit_close(&px.hit);
	*rc = 0;
	return 1;
}

/*
 * copy_body - the body of px.hit into the put; 0, or -1 (put dropped).
 */
static int
copy_body(struct cache_put *p)
{
	char		 buf[16384];
	uint64_t	 off = px.hit.body_off, left = px.hit.body_len;
	ssize_t		 n;

	if (px.hit.have == px.hit.body_len) {	/* in memory already */
		cache_put_write(p, px.hit.body, (size_t)px.hit.body_len);
		return p->active ? 0 : -1;
	}
	while (left > 0 && p->active) {
		n = pread(px.hit.fd, buf, left > sizeof(buf) ? sizeof(buf) :
		    (size_t)left, (off_t)off);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		cache_put_write(p, buf, (size_t)n);
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return p->active ? 0 : -1;
}

/*
 * revalidated - the origin answered our validators with a 304 (rm) for
 * the stored response (RFC 9111 4.3.4, checked by forward): the stored
 * fields are updated by it (3.2) and stored again - a new body file
 * renamed over the old one, never the old one changed in place, since
 * another worker may be reading it - and the stored response (or a 304
 * for the client's own conditional) goes out, with the Set-Cookie
 * fields of the 304, which were meant for this client (never stored).
 */
static int
revalidated(struct req *r, const struct http_msg *rm)
{
	struct cp_meta	 meta;
	int64_t		 now = (int64_t)time(NULL);
	size_t		 len = 0;
	int		 n;

	r->xcache = "REVALIDATE";
	r->xdetail = "conditional cache hit: entity refreshed";
	for (int i = 0; i < rm->nheaders; i++) {
		struct http_slice k = rm->headers[i].name;
		struct http_slice v = rm->headers[i].value;
		size_t old = px.xhdr_len;

		if (!http_slice_caseeq(k, "Set-Cookie") &&
		    !http_slice_caseeq(k, "Set-Cookie2"))
			continue;
		if (buf_add(px.xhdr, sizeof(px.xhdr), &px.xhdr_len, k.p,
		    k.n) == -1 || buf_add(px.xhdr, sizeof(px.xhdr),
		    &px.xhdr_len, ": ", 2) == -1 || buf_add(px.xhdr,
		    sizeof(px.xhdr), &px.xhdr_len, v.p, v.n) == -1 ||
		    buf_add(px.xhdr, sizeof(px.xhdr), &px.xhdr_len, "\r\n",
		    2) == -1) {
			px.xhdr_len = old;	/* too many: the rest go */
			break;
		}
	}
	if ((n = cache_policy_merge(&px.cpc, &px.sm, rm, px.keep,
	    HTTP_MAX_HEADERS)) < 0 || buf_printf(px.shead, sizeof(px.shead),
	    &len, "HTTP/1.1 %d ", px.sm.status) == -1 || buf_add(px.shead,
	    sizeof(px.shead), &len, px.sm.reason.p, px.sm.reason.n) == -1 ||
	    buf_add(px.shead, sizeof(px.shead), &len, "\r\n", 2) == -1)
		goto unchanged;
	for (int i = 0; i < n; i++) {
		struct http_slice k = px.keep[i].name, v = px.keep[i].value;

		if (http_slice_caseeq(k, "Content-Length"))
			continue;
		if (buf_add(px.shead, sizeof(px.shead), &len, k.p, k.n) ==
		    -1 || buf_add(px.shead, sizeof(px.shead), &len, ": ", 2) ==
		    -1 || buf_add(px.shead, sizeof(px.shead), &len, v.p, v.n) ==
		    -1 || buf_add(px.shead, sizeof(px.shead), &len, "\r\n",
		    2) == -1)
			goto unchanged;
	}
	if (buf_add(px.shead, sizeof(px.shead), &len, "\r\n", 2) == -1 ||
	    len > sizeof(px.hit.head))
		goto unchanged;
	/* the new head becomes px.hit's (px.sm pointed into the old) */
	memcpy(px.hit.head, px.shead, len);
	px.hit.head_len = len;
	if (!px.hit.mem)
		px.hit.have = 0;	/* the body after the old head is gone */
	if (stored_parse() == -1) {
		cache_invalidate(r->croot, r->hname);	/* cannot happen */
		return send_error(r, 502, NULL);
	}
	cache_policy_meta(&px.cpc, &px.sm, r->t_req, now, &meta);
	meta.age_value = cache_policy_age(rm);
	meta.status = px.sm.status;
	px.hit.meta = meta;
	if (cache_put_begin(&px.put, r->croot, r->hname, r->hkey, &meta,
	    px.hit.head, px.hit.head_len) == 0) {
		px.put.max_body = UINT64_MAX;	/* it was stored already */
		cache_put_end(&px.put, copy_body(&px.put) == 0);
	}
unchanged:
	return serve_stored(r, cache_policy_current_age(&px.hit.meta, now));
}

/*
 * store_begin - after the backend's head: when the response may be
 * stored, a body file with the head to keep; 0, or -1 (not stored).
 * A response with Vary is stored as a variant (see cache_find).
 */
static int
store_begin(struct req *r, const struct http_msg *rm)
{
	struct cp_meta	 meta;
	const char	*why = NULL, *name, *key;
	char		 mapped[4096], names[1024];
	uint64_t	 bmin, bmax;
	size_t		 len = 0;
	int64_t		 now = (int64_t)time(NULL);
	int		 n;

	if (r->croot == NULL || r->m.mcode != HTTP_M_GET)
		return -1;
	if (!cache_policy_storable(&px.cpc, &r->m, rm, now, &why)) {
		log_msg(GW_LOG_DEBUG, "cache: not storing %s: %s", r->ckey,
		    why != NULL ? why : "?");
		return -1;
	}
	/* the store's body sizes: CacheMin/MaxFileSize, MCache*ObjectSize;
	   not for a 204, which has none */
	cache_body_limits(r->croot, px.cpc.min_file_size,
	    px.cpc.max_file_size, &bmin, &bmax);
	if (rm->status == 204)
		bmin = 0;
	if (rm->body == HTTP_BODY_LENGTH && (rm->content_length > bmax ||
	    rm->content_length < bmin)) {
		log_msg(GW_LOG_DEBUG, "cache: not storing %s: its %llu bytes "
		    "are outside %llu..%llu", r->ckey,
		    (unsigned long long)rm->content_length,
		    (unsigned long long)bmin, (unsigned long long)bmax);
		return -1;
	}
	if ((n = cache_policy_vary_names(rm, names, sizeof(names))) == 0) {
		name = r->cname;	/* varies on nothing */
		key = r->ckey;
	} else if (n < 0 || ((r->vnames[0] == '\0' ||
	    strcmp(names, r->vnames) != 0) && marker_write(r, names) == -1) ||
	    variant_name(r) == -1) {
		return -1;		/* Vary: *, or too long */
	} else {
		name = r->vname;
		key = r->vkey;
	}
	if ((n = cache_policy_store_headers(&px.cpc, rm, px.keep,
	    HTTP_MAX_HEADERS)) < 0)
		return -1;
	if (buf_printf(px.shead, sizeof(px.shead), &len, "HTTP/1.1 %d ",
	    rm->status) == -1 || buf_add(px.shead, sizeof(px.shead), &len,
	    rm->reason.p, rm->reason.n) == -1 || buf_add(px.shead,
	    sizeof(px.shead), &len, "\r\n", 2) == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		struct http_slice k = px.keep[i].name, v = px.keep[i].value;

		if (http_slice_caseeq(k, "Content-Length"))
			continue;	/* set when served */
		if ((http_slice_caseeq(k, "Location") ||
		    http_slice_caseeq(k, "Content-Location") ||
		    http_slice_caseeq(k, "URI")) &&
		    reverse_map(r, v, mapped, sizeof(mapped))) {
			v.p = mapped;
			v.n = strlen(mapped);
		}
		if (buf_add(px.shead, sizeof(px.shead), &len, k.p, k.n) ==
		    -1 || buf_add(px.shead, sizeof(px.shead), &len, ": ", 2) ==
		    -1 || buf_add(px.shead, sizeof(px.shead), &len, v.p, v.n) ==
		    -1 || buf_add(px.shead, sizeof(px.shead), &len, "\r\n", 2) ==
		    -1)
			return -1;
	}
	if (buf_add(px.shead, sizeof(px.shead), &len, "\r\n", 2) == -1)
		return -1;
	cache_policy_meta(&px.cpc, rm, r->t_req, now, &meta);
	if (cache_put_begin(&px.put, r->croot, name, key, &meta,
	    px.shead, len) == -1)
		return -1;
	px.put.min_body = bmin;
	px.put.max_body = bmax;
	return 0;
}

/* invalidate_one - the entry of target (origin form) on r's host. */
static void
invalidate_one(struct req *r, const char *target, size_t tlen)
{
	char	key[CACHE_DB_URL_MAX], name[CP_HASH_LEN + 1];

	if (make_key(r, target, tlen, key, sizeof(key), name) == 0)
		cache_invalidate(r->croot, name);
}

/*
 * cache_after - an unsafe method answered 2xx or 3xx invalidates the
 * URL, and its same-origin Location and Content-Location (RFC 9111 4.4).
 */
static void
cache_after(struct req *r)
{
	static const char *const fields[] = { "Location", "Content-Location" };
	char	 target[8192];
	size_t	 blen;
	int	 n;

	if (r->croot == NULL || r->resp == NULL ||
	    !cache_policy_invalidates(&r->m, r->resp))
		return;
	cache_invalidate(r->croot, r->cname);
	blen = r->rawpath.n + (r->query != NULL ? r->qlen + 1 : 0);
	for (int i = 0; i < 2; i++) {
		n = cache_policy_related(r->resp, fields[i], r->cscheme,
		    r->chost,
		    r->cport, r->rawpath.p, blen, target, sizeof(target));
		if (n > 0)
			invalidate_one(r, target, (size_t)n);
	}
}

/*---------------------------------------------------------------------
 * Forwarding
 */

/* FWD_REFETCH: ask again without our validators (a 304 not for us) */
/* FWD_NEXT: no answer, and another balancer member may take it */
enum fwd { FWD_DONE, FWD_RETRY, FWD_CLOSE, FWD_REFETCH, FWD_NEXT };

/* send_continue - "100 Continue" once, if the client waits for it. */
static int
send_continue(struct req *r)
{
	if (!r->m.expect_continue || r->continued || conn_pending(r->c) > 0)
		return 0;
	r->continued = 1;
	r->hdr_out += 25;
	return conn_write(r->c, "HTTP/1.1 100 Continue\r\n\r\n", 25,
	    timeout_ms(r->cfg));
}

/*
 * prefetch_chunked - before any backend is contacted, read the start of
 * a chunked body (up to PREFETCH bytes, as Apache's proxy prefetch) and
 * check it against LimitRequestBody: 0 fine, 413 over, -1 client
 * failure.  The bytes stay in the client buffer for the relay.
 */
#define PREFETCH	16384
static int
prefetch_chunked(struct req *r)
{
	struct http_chunk	 ch;
	long long		 limit = r->cfg->limit_request_body;
	long			 used;
	size_t			 off, n;
	const char		*data;
	size_t			 dlen;

	if (r->m.body != HTTP_BODY_CHUNKED || limit <= 0)
		return 0;
	if (send_continue(r) == -1)
		return -1;
	http_chunk_init(&ch);
	off = 0;
	for (;;) {
		n = conn_pending(r->c);
		while (off < n && !http_chunk_done(&ch)) {
			used = http_chunk_feed(&ch, r->c->buf + r->c->start +
			    off, n - off, &data, &dlen);
			if (used < 0)
				return 0;	/* the relay reports it */
			off += (size_t)used;
		}
		if (ch.total > (uint64_t)limit)
			return 413;
		if (http_chunk_done(&ch) || n >= PREFETCH ||
		    r->c->end == r->c->cap)
			return 0;
		if (conn_fill(r->c, timeout_ms(r->cfg)) <= 0)
			return -1;
	}
}

/*
 * tunnel - after a 101: bytes both ways until either side closes or
 * nothing moves for Timeout.  What each side sent early (already in
 * our buffers) goes first.
 */
static void
tunnel(struct req *r, struct gw_conn *be)
{
	struct gw_conn	*c = r->c;
	struct pollfd	 pfd[2];
	int		 ms = timeout_ms(r->cfg), n;
	ssize_t		 got;

	if ((conn_pending(be) > 0 && conn_write(c, be->buf + be->start,
	    conn_pending(be), ms) == -1) || (conn_pending(c) > 0 &&
	    conn_write(be, c->buf + c->start, conn_pending(c), ms) == -1))
		return;
	c->pin = 0;
	c->start = c->end = 0;
	be->start = be->end = 0;
	for (;;) {
		if (*r->stop)
			return;
		pfd[0].fd = c->fd;
		pfd[1].fd = be->fd;
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		/* TLS may hold decrypted bytes that poll cannot see */
		if (conn_tls_pending(c) > 0 || conn_tls_pending(be) > 0) {
			pfd[0].revents = conn_tls_pending(c) > 0 ? POLLIN : 0;
			pfd[1].revents = conn_tls_pending(be) > 0 ? POLLIN : 0;
			n = 1;
		} else
			n = poll(pfd, 2, ms);
		if (n == 0)
			return;		/* idle past Timeout */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			struct gw_conn *from = i == 0 ? c : be;
			struct gw_conn *to = i == 0 ? be : c;

			if (pfd[i].revents == 0)
				continue;
			/*
			 * Over TLS a readable socket may hold only part of
			 * a record, or no data (a session ticket): a short
			 * wait, then back to poll; OpenSSL keeps the part.
			 */
			if (from->ssl != NULL) {
				got = conn_read(from, from->buf, from->cap,
				    TUNNEL_TLS_MS);
				if (got < 0 && errno == ETIMEDOUT)
					continue;
			} else
				got = recv(from->fd, from->buf, from->cap, 0);
			if (got == 0 || (got < 0 && errno != EAGAIN &&
			    errno != EINTR))
				return;
			if (got > 0 && conn_write(to, from->buf, (size_t)got,
			    ms) == -1)
				return;
		}
	}
}

/* error_override - does ProxyErrorOverride replace this backend status? */
static int
error_override(const struct req *r, int status)
{
	const int *codes = r->vhost->error_override_codes;

	if (r->vhost->proxy_error_override != 1 || status < 400)
		return 0;
	if (codes[0] == 0)
		return 1;
	for (int i = 0; i < 16 && codes[i] != 0; i++)
		if (codes[i] == status)
			return 1;
	return 0;
}

static int
idempotent(enum http_method m)
{
	return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_OPTIONS ||
	    m == HTTP_M_TRACE || m == HTTP_M_PUT || m == HTTP_M_DELETE;
}

/*
 * read_response_head - 1xx handled; HTTP_OK, or a status to answer: -1
 * the client is gone, -2 the backend closed before a byte of an
 * answer, -3 it sent none in time.
 */
static int
read_response_head(struct req *r, struct gw_conn *be, struct http_msg *rm,
    int ms, int *got_any)
{
	int	pr;
	ssize_t	n;

	for (;;) {
		pr = http_parse_response(be->buf + be->start,
		    conn_pending(be), r->m.mcode, rm);
		if (pr == HTTP_OK) {
			if (rm->status == 100) {
				conn_consume(be, rm->head_len);
				continue;	/* ours to send, or not */
			}
			if (rm->status >= 102 && rm->status < 200) {
				/* 102, 103 ...: on to 1.1 clients (RFC
				   9110 15.2: a proxy forwards 1xx) */
				if (r->m.version == 11 && conn_write(r->c,
				    be->buf + be->start, rm->head_len,
				    timeout_ms(r->cfg)) == -1)
					return -1;
				if (r->m.version == 11)
					r->hdr_out += rm->head_len;
				conn_consume(be, rm->head_len);
				continue;
			}
			if (rm->status == 101 && !r->upgrading)
				return 502;	/* not asked for */
			return HTTP_OK;
		}
		if (pr != HTTP_AGAIN) {
			log_msg(GW_LOG_ERR, "proxy: bad response from backend "
			    "for %.*s: %s", (int)r->m.target.n, r->m.target.p,
			    rm->error ? rm->error : "?");
			return 502;
		}
		if (conn_pending(be) == be->cap)
			return 502;	/* head larger than the buffer */
		n = conn_fill(be, ms);
		if (n > 0) {
			*got_any = 1;
			continue;
		}
		if (n == 0)
			return *got_any ? 502 : -2;	/* closed */
		if (errno == ETIMEDOUT) {
			/* Apache answers 502 here, not 504 */
			log_msg(GW_LOG_ERR, "proxy: timeout reading the "
			    "response head from the backend for %.*s",
			    (int)r->m.target.n, r->m.target.p);
			return *got_any ? 502 : -3;
		}
		return *got_any ? 502 : -2;
	}
}

/* be_close - the end of a backend connection that is not pooled. */
static void
be_close(struct gw_conn *be)
{
	conn_tls_end(be);
	(void)close(be->fd);
}

/*
 * forward - one attempt at the backend.  reused says the connection
 * came from the pool: a close before any answer may then be retried.
 */
static enum fwd
forward(struct req *r, const struct gw_proxypass *pp, const struct backend *b,
    size_t matched, int fd, struct ssl_st *ssl, int reused)
{
	struct gw_conn		 be;
	struct http_msg		*rm;
	size_t			 len;
	int			 ms, rc, got_any = 0, chunk_out, close_client;
	int			 sent_body = 0, reusable;
	struct cache_put	*put;

	ms = (pp->timeout > 0 ? pp->timeout : r->vhost->proxy_timeout > 0 ?
	    r->vhost->proxy_timeout : r->cfg->timeout) * 1000;
	conn_init(&be, fd, px.bbuf, PROXY_BUF, r->stop);
	be.ssl = ssl;
	if (reused) {		/* the deadlines it has: no setsockopt */
		be.rcv_ms = px.pool_rcv_ms;
		be.snd_ms = px.pool_snd_ms;
	}
	if (build_request(r, pp, b, matched, &len) == -1) {
		be_close(&be);
		return send_error(r, 414, NULL) == 0 ? FWD_DONE : FWD_CLOSE;
	}
	r->t_req = (int64_t)time(NULL);
	if (conn_write(&be, px.obuf, len, ms) == -1) {
		be_close(&be);
		if (reused && idempotent(r->m.mcode))
			return FWD_RETRY;
		if (r->lbtry)		/* not even the head went: anything */
			return FWD_NEXT;
		return send_error(r, 502, NULL) == 0 ? FWD_DONE : FWD_CLOSE;
	}
	if (r->m.body != HTTP_BODY_NONE) {
		if (send_continue(r) == -1) {
			be_close(&be);
			return FWD_CLOSE;
		}
		sent_body = 1;
		rc = relay_request_body(r, &be, ms);
		r->body_done = rc == 0;
		if (rc != 0) {
			be_close(&be);
			if (rc == 413)
				return send_error(r, 413, NULL), FWD_CLOSE;
			if (rc == -2)	/* Apache: 504 when the send timed out */
				return send_error(r, errno == ETIMEDOUT ? 504 :
				    502, NULL), FWD_CLOSE;
			log_errno(GW_LOG_INFO, "proxy: reading the request "
			    "body from %s", r->peer_ip);
			if (errno == ETIMEDOUT)	/* as mod_reqtimeout */
				return send_error(r, 408, NULL), FWD_CLOSE;
			r->status = 400;
			return FWD_CLOSE;
		}
	}
	rm = &px.rm;
	r->upgrading = wants_upgrade(r, pp);
	rc = read_response_head(r, &be, rm, ms, &got_any);
	if (rc != HTTP_OK) {
		be_close(&be);
		if (rc == -2 && reused && !sent_body && idempotent(r->m.mcode))
			return FWD_RETRY;
		if (rc == -1)
			return FWD_CLOSE;
		r->lbtimeout = rc == -3;
		if (rc == -3)
			rc = 502;
		if (r->lbtry && !sent_body && idempotent(r->m.mcode))
			return FWD_NEXT;	/* to another member */
		if (serve_stale(r, &rc))
			return rc == 0 ? FWD_DONE : FWD_CLOSE;
		return send_error(r, rc == -2 ? 502 : rc, NULL) == 0 ?
		    FWD_DONE : FWD_CLOSE;
	}
	if (rm->status == 101) {
		/* the switch: relay the 101 as it came, then the bytes */
		r->status = 101;
		r->hdr_out += rm->head_len;
		r->head_sent = 1;
		r->keepalive = 0;
		if (conn_write(r->c, be.buf + be.start, rm->head_len,
		    timeout_ms(r->cfg)) == 0) {
			conn_consume(&be, rm->head_len);
			tunnel(r, &be);
		}
		be_close(&be);
		return FWD_CLOSE;
	}
	if (r->lbb != NULL && balancer_status_match(r->lbb, rm->status)) {
		/* failonstatus: out before this answer is relayed, so that
		   no request after it goes there */
		log_msg(GW_LOG_ERR, "proxy: %s: member %s answered %d "
		    "(failonstatus)", r->lbb->name, r->lbb->members[r->lbi].url,
		    rm->status);
		balancer_fail(r->lbb, r->lbi);
		r->lbfailed = 1;
	}
	be.pin = rm->head_len;		/* the head stays for the log */
	conn_consume(&be, rm->head_len);
	if (r->cstale && r->creval && rm->status == 304 &&
	    !cache_policy_304_matches(&px.sm, rm)) {
		/* RFC 9111 4.3.4: it selects nothing we hold: the entry
		   goes, and the request is asked again plainly */
		log_msg(GW_LOG_INFO, "cache: a 304 for %s does not match the "
		    "stored response; entry removed, asking again", r->hkey);
		cache_invalidate(r->croot, r->hname);
		cache_hit_close(&px.hit);
		r->cstale = r->creval = r->csie = 0;
		be_close(&be);
		return FWD_REFETCH;
	}
	if (r->cstale && r->creval && rm->status == 304) {
		/* our validators held: the stored response, refreshed */
		rc = revalidated(r, rm);
		cache_release(r);
		if (rc == 0 && rm->body == HTTP_BODY_NONE &&
		    !pp->disablereuse && !(rm->connection & HTTP_CONN_CLOSE) &&
		    (rm->version == 11 || (rm->connection &
		    HTTP_CONN_KEEPALIVE)) && conn_pending(&be) == 0)
			pool_put(b->key, &be);
		else
			be_close(&be);
		return rc == 0 ? FWD_DONE : FWD_CLOSE;
	}
	if (r->cstale && r->csie && rm->status >= 500) {
		be_close(&be);
		(void)serve_stale(r, &rc);
		return rc == 0 ? FWD_DONE : FWD_CLOSE;
	}
	if (error_override(r, rm->status)) {
		/* ProxyErrorOverride: our page, not the backend's */
		be_close(&be);
		return send_error(r, rm->status, NULL) == 0 ? FWD_DONE :
		    FWD_CLOSE;
	}
	chunk_out = rm->body == HTTP_BODY_CHUNKED || rm->body ==
	    HTTP_BODY_CLOSE;
	if (chunk_out && r->m.version == 10) {
		chunk_out = 0;
		r->keepalive = 0;	/* close-delimited to a 1.0 client */
	}
	close_client = !r->keepalive;
	put = store_begin(r, rm) == 0 ? &px.put : NULL;
	if (put == NULL)
		cache_release(r);	/* nothing for the waiters */
	if (r->xcache != NULL && put == NULL)
		r->xdetail = "cache miss: cache unwilling to store response";
	if (build_response(r, rm, chunk_out, close_client, &len) == -1) {
		if (put != NULL)
			cache_put_end(put, 0);
		cache_release(r);
		be_close(&be);
		return send_error(r, 502, NULL), FWD_CLOSE;
	}
	/* the head goes out with the first body bytes, in one write */
	conn_hold(r->c, px.obuf, len);
	r->status = rm->status;
	r->head_sent = 1;
	r->hdr_out += len;
	r->resp = rm;
	rc = relay_response_body(r, &be, rm, chunk_out, ms, put);
	if (put != NULL)	/* stored only when the whole body came */
		cache_put_end(put, rc == 0);
	cache_release(r);
	if (rc == -1 && r->c->heldlen > 0) {
		/* nothing went out yet: the client gets a clean 502 */
		r->c->heldlen = 0;
		r->resp = NULL;
		r->hdr_out = 0;
		be_close(&be);
		log_msg(GW_LOG_ERR, "proxy: the backend's body was cut short "
		    "for %.*s", (int)r->m.target.n, r->m.target.p);
		return send_error(r, 502, NULL), FWD_CLOSE;
	}
	if (rc == 0 && conn_flush(r->c, timeout_ms(r->cfg)) == -1)
		rc = -2;
	reusable = rc == 0 && rm->body != HTTP_BODY_CLOSE &&
	    !(rm->connection & HTTP_CONN_CLOSE) && (rm->version == 11 ||
	    (rm->connection & HTTP_CONN_KEEPALIVE)) && !pp->disablereuse &&
	    conn_pending(&be) == 0;
	if (reusable)
		pool_put(b->key, &be);
	else
		be_close(&be);
	if (rc == -1) {
		log_msg(GW_LOG_ERR, "proxy: the backend's body was cut short "
		    "for %.*s", (int)r->m.target.n, r->m.target.p);
		return FWD_CLOSE;	/* never a short body as whole */
	}
	return rc == 0 ? FWD_DONE : FWD_CLOSE;
}

/*
 * try_backend - r to backend b over a pooled or a new connection: 0
 * answered, -1 answered and the client connection ends, TRY_DOWN when
 * b could not be reached (nothing answered yet), TRY_NEXT when b gave
 * no answer and r may go to another balancer member (r->lbtry).
 */
#define TRY_DOWN	1
#define TRY_NEXT	2
static int
try_backend(struct req *r, const struct gw_proxypass *pp, struct backend *b,
    size_t matched)
{
	struct ssl_st	*ssl;
	char		 why[512];
	int		 fd, reused, ms, attempt, rc, refetched = 0;
	enum fwd	 f;

	ms = pp->connectiontimeout > 0 ? pp->connectiontimeout :
	    (pp->timeout > 0 ? pp->timeout : r->cfg->timeout) * 1000;
	for (attempt = 0; attempt < 2; attempt++) {
		reused = 0;
		ssl = NULL;
		fd = pp->disablereuse ? -1 : pool_get(b->key,
		    pp->ttl > 0 ? pp->ttl : 0);
		if (fd >= 0) {
			reused = 1;
			ssl = px.pool_ssl;
		} else if ((fd = backend_connect(r, b, ms, pp->keepalive)) ==
		    -1) {
			log_errno(GW_LOG_ERR, "proxy: cannot connect to "
			    "backend %s", b->hostport);
			return TRY_DOWN;
		} else if (b->tls && tls_connect(r->cfg, r->vhost, fd, b->name,
		    b->key, ms, r->stop, &ssl, why, sizeof(why)) == -1) {
			/* Apache: 502, the reason in the error log */
			log_msg(GW_LOG_ERR, "proxy: TLS to backend %s (%s): %s",
			    b->hostport, b->name, why);
			(void)close(fd);
			return send_error(r, 502, NULL);
		}
		f = forward(r, pp, b, matched, fd, ssl, reused);
		if (f == FWD_RETRY)
			continue;
		if (f == FWD_NEXT)
			return TRY_NEXT;
		if (f == FWD_REFETCH && !refetched) {
			refetched = 1;	/* once, and not a retry */
			attempt--;
			continue;
		}
		if (f == FWD_REFETCH)
			f = FWD_CLOSE;
		cache_after(r);
		r->answered = f == FWD_DONE;
		return f == FWD_DONE ? 0 : -1;
	}
	if (serve_stale(r, &rc))
		return rc;
	return send_error(r, 502, NULL);
}

/* unreachable - every backend for r is down: a stored copy, or 503. */
static int
unreachable(struct req *r)
{
	int	rc;

	if (serve_stale(r, &rc))
		return rc;
	return send_error(r, 503, NULL);
}

/* sticky_route - the route r's session names for balancer bl. */
static int
sticky_route(const struct req *r, const struct gw_balancer *bl, char *out,
    size_t cap)
{
	const char	*v[8];
	size_t		 n[8];
	int		 nc = 0;

	for (int i = 0; i < r->m.nheaders && nc < 8; i++)
		if (http_slice_caseeq(r->m.headers[i].name, "Cookie")) {
			v[nc] = r->m.headers[i].value.p;
			n[nc++] = r->m.headers[i].value.n;
		}
	return balancer_route(bl, r->rawpath.p, r->rawpath.n, r->query,
	    r->query != NULL ? r->qlen : 0, v, n, nc, out, cap);
}

/* lb_env - the BALANCER_* variables of r, member m, session route rt. */
static void
lb_env(struct req *r, const struct gw_balancer *bl, const struct gw_bmember *m,
    const char *rt)
{
	int	n = 0;

#define LB_ENV(...) (void)snprintf(r->lbenv[n], sizeof(r->lbenv[0]), \
	    __VA_ARGS__), r->lbenvp[n] = r->lbenv[n], n++
	LB_ENV("BALANCER_NAME=%s", bl->name);
	LB_ENV("BALANCER_WORKER_NAME=%s", m->name);
	if (m->route != NULL)
		LB_ENV("BALANCER_WORKER_ROUTE=%s", m->route);
	if (rt != NULL)
		LB_ENV("BALANCER_SESSION_ROUTE=%s", rt);
	if (bl->sticky_cookie != NULL && (rt == NULL || m->route == NULL ||
	    strcmp(rt, m->route) != 0))
		LB_ENV("BALANCER_ROUTE_CHANGED=1");
#undef LB_ENV
	r->lbenvp[n] = NULL;
}

/*
 * to_balancer - r to a member of pp's balancer: chosen by the lbmethod
 * (or the session's route), and on to another one while a member
 * cannot be reached or gives no answer and maxattempts allows.
 */
static int
to_balancer(struct req *r, const struct gw_proxypass *pp, size_t matched)
{
	const struct gw_balancer *bl = pp->balancer;
	const struct gw_bmember	*m;
	struct gw_proxypass	 mpp;
	struct backend		 b;
	unsigned char		 tried[LB_MEMBERS_MAX];
	char			 route[128], url[8192];
	const char		*rt = NULL;
	unsigned long long	 in0, out0;
	int			 i, sticky, rc, attempts = 0, n;
	int			 ws = r->w->sb != NULL ? r->w->slot : -1;

	memset(tried, 0, sizeof(tried));
	if (bl->sticky_cookie != NULL && sticky_route(r, bl, route,
	    sizeof(route)))
		rt = route;
	for (;;) {
		if ((i = balancer_select(bl, rt, tried, ws, &sticky)) < 0) {
			log_msg(GW_LOG_ERR, "proxy: %s: no usable member for "
			    "%.*s", bl->name, (int)r->m.target.n,
			    r->m.target.p);
			return unreachable(r);
		}
		tried[i] = 1;
		m = &bl->members[i];
		lb_env(r, bl, m, rt);
		n = snprintf(url, sizeof(url), "%s%s", m->name, pp->lbpath);
		if (n < 0 || (size_t)n >= sizeof(url) ||
		    parse_backend(url, &b) == -1 || backend_tls(r, &b) == -1) {
			balancer_done(bl, i, ws, 0, 0);
			return send_error(r, 500, NULL);
		}
		/* the member's own settings, the ProxyPass line's others */
		mpp = *pp;
		mpp.url = url;
		mpp.retry = m->retry;
		mpp.timeout = m->timeout;
		mpp.connectiontimeout = m->connectiontimeout;
		mpp.ttl = m->ttl;
		mpp.disablereuse = m->disablereuse;
		mpp.keepalive = m->keepalive;
		r->lbtry = attempts < bl->maxattempts;
		r->lbtimeout = r->answered = r->lbfailed = 0;
		r->lbb = bl;
		r->lbi = i;
		/* the request head counts as sent to the first member */
		in0 = attempts == 0 ? r->in_start : r->c->in;
		out0 = r->c->out;
		rc = try_backend(r, &mpp, &b, matched);
		balancer_done(bl, i, ws, r->c->in - in0, r->c->out - out0);
		if (rc == TRY_DOWN || (r->lbtimeout && bl->failontimeout))
			balancer_fail(bl, i);
		else if (r->answered && !r->lbfailed)
			balancer_ok(bl, i);
		if (rc != TRY_DOWN && rc != TRY_NEXT)
			return rc;
		if (attempts++ >= bl->maxattempts)
			return rc == TRY_DOWN ? unreachable(r) :
			    send_error(r, 502, NULL);
	}
}

static int
to_origin(struct req *r, const struct gw_proxypass *pp, size_t matched)
{
	struct backend	 b;
	char		 url[8192];
	int		 rc;

	if (pp->balancer == NULL && (parse_backend(pp->url, &b) == -1 ||
	    (strcasecmp(b.scheme, "http") != 0 &&
	    strcasecmp(b.scheme, "https") != 0))) {
		log_msg(GW_LOG_ERR, "proxy: cannot use backend %s (only "
		    "http://, https:// and balancer:// in this release)",
		    pp->url);
		return send_error(r, 500, NULL);
	}
	if (pp->balancer == NULL && backend_tls(r, &b) == -1)
		return send_error(r, 500, NULL);
	(void)snprintf(url, sizeof(url), "%s%s", pp->url, r->path + matched);
	if (!access_ok(r, url))
		return send_error(r, 403, NULL);
	if (r->cfg->limit_request_body > 0 && r->m.body == HTTP_BODY_LENGTH &&
	    r->m.content_length > (uint64_t)r->cfg->limit_request_body)
		return send_error(r, 413, NULL);
	cache_prepare(r, url);
	if (r->croot != NULL && (r->m.mcode == HTTP_M_GET ||
	    r->m.mcode == HTTP_M_HEAD) && cache_serve(r, &rc))
		return rc;
	switch (prefetch_chunked(r)) {
	case 0:
		break;
	case 413:
		return send_error(r, 413, NULL);
	default:
		r->keepalive = 0;
		return -1;
	}
	if (pp->balancer != NULL)
		return to_balancer(r, pp, matched);
	if (health_in_error(b.hostport)) {
		log_msg(GW_LOG_INFO, "proxy: backend %s is in error state",
		    b.hostport);
		return unreachable(r);
	}
	r->lbtry = 0;
	r->answered = 0;
	r->lbb = NULL;
	rc = try_backend(r, pp, &b, matched);
	if (rc == TRY_DOWN) {
		if (pp->retry > 0)
			health_set_error(b.hostport, pp->retry);
		return unreachable(r);
	}
	if (r->answered)
		health_clear(b.hostport);
	return rc;
}

/* proxy_to - to_origin, then a stored response held for it is let go. */
static int
proxy_to(struct req *r, const struct gw_proxypass *pp, size_t matched)
{
	int	rc;

	r->want_bg = 0;
	rc = to_origin(r, pp, matched);
	if (r->cstale) {
		cache_hit_close(&px.hit);
		r->cstale = 0;
	}
	if (r->want_bg && !r->bg) {
		r->bg_pp = pp;
		r->bg_matched = matched;
	}
	return rc;
}

/*
 * bg_refresh - stale-while-revalidate (RFC 5861): the stale response
 * r was answered with is revalidated now that the answer went out and
 * was logged, before the next request on the connection is read.  Its
 * output goes to a sink connection; CacheLock or not, one worker at a
 * time refreshes an entry.
 */
static void
bg_refresh(struct req *r)
{
	const struct gw_proxypass *pp = r->bg_pp;
	struct gw_conn	 sink, *client = r->c;
	char		 buf[256];
	int		 keepalive = r->keepalive;

	r->bg_pp = NULL;
	if (*r->stop)
		return;
	conn_init(&sink, -1, buf, sizeof(buf), r->stop);
	r->c = &sink;
	r->bg = 1;
	r->head_sent = 0;
	r->resp = NULL;
	r->cstale = r->creval = r->csie = r->clocked = 0;
	(void)proxy_to(r, pp, r->bg_matched);
	cache_release(r);
	r->bg = 0;
	r->c = client;
	r->keepalive = keepalive;
}

/*---------------------------------------------------------------------
 * One request
 */

/* absolute_target - "http://host/path" into r->host and the path. */
static int
absolute_target(struct req *r, const char **path, size_t *plen)
{
	const char	*t = r->m.target.p, *end = t + r->m.target.n, *h, *p;
	size_t		 n;

	if ((h = memchr(t, ':', r->m.target.n)) == NULL || end - h < 3 ||
	    h[1] != '/' || h[2] != '/')
		return 400;
	h += 3;
	for (p = h; p < end && *p != '/' && *p != '?'; p++)
		;
	n = (size_t)(p - h);
	if (n == 0 || n >= sizeof(r->host) || memchr(h, '@', n) != NULL)
		return 400;
	memcpy(r->host, h, n);
	r->host[n] = '\0';
	*path = p < end && *p == '/' ? p : "/";
	*plen = p < end && *p == '/' ? (size_t)(end - p) : 1;
	return 0;
}

/* host_is_ours - does the URI's host name this server? */
static int
host_is_ours(const struct req *r)
{
	const struct gw_vhost	*v = rules_vhost(r->cfg,
	    (const struct sockaddr *)&r->local, r->host, strlen(r->host));
	char			 h[512];
	const char		*colon;
	size_t			 n;

	(void)snprintf(h, sizeof(h), "%s", r->host);
	if ((colon = strrchr(h, ':')) != NULL && strchr(colon, ']') == NULL)
		n = (size_t)(colon - h);
	else
		n = strlen(h);
	h[n] = '\0';
	if (v->server_name != NULL && strncasecmp(v->server_name, h, n) == 0 &&
	    (v->server_name[n] == '\0' || v->server_name[n] == ':'))
		return 1;
	for (const struct gw_strlist *a = v->aliases; a != NULL; a = a->next)
		if (fnmatch(a->s, h, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}

/*
 * forward_proxy - ProxyRequests On: an http:// absolute-form request
 * goes to the host it names, if <Proxy> access allows.  With
 * ProxyRequests Off it is refused: gatewayd is never an open proxy.
 */
static int
forward_proxy(struct req *r)
{
	struct gw_proxypass	 pp;
	char			 url[600];

	if (r->vhost->proxy_requests != 1) {
		log_msg(GW_LOG_INFO, "proxy: refused a proxy request for %s "
		    "from %s (ProxyRequests Off)", r->host, r->peer_ip);
		return send_error(r, 403, NULL) == 0 ? 0 : -1;
	}
	if (r->m.target.n < 7 || strncasecmp(r->m.target.p, "http://", 7) != 0)
		return send_error(r, 501, NULL) == 0 ? 0 : -1;
	memset(&pp, 0, sizeof(pp));
	(void)snprintf(url, sizeof(url), "http://%s/", r->host);
	pp.path = (char *)"/";
	pp.url = url;
	pp.retry = 60;
	pp.timeout = pp.connectiontimeout = pp.ttl = GW_UNSET;
	r->forward = 1;
	return proxy_to(r, &pp, 1);
}

/* handle - answer one parsed request; 0 to go on, -1 to close. */
static int
handle(struct req *r)
{
	const char		*path, *q;
	size_t			 plen;
	struct rules_route	 route;
	int			 st;

	if (r->m.mcode == HTTP_M_CONNECT)
		return send_error(r, 405, "Allow: GET, HEAD, POST, PUT, "
		    "DELETE, OPTIONS\r\n") == 0 ? 0 : -1;
	if (r->m.tform == HTTP_T_ASTERISK)
		return send_head(r, 200, NULL, 0, "Allow: GET, HEAD, POST, "
		    "PUT, DELETE, OPTIONS\r\n");
	r->host[0] = '\0';
	if (r->m.tform == HTTP_T_ABSOLUTE) {
		if ((st = absolute_target(r, &path, &plen)) != 0)
			return send_error(r, st, NULL) == 0 ? 0 : -1;
	} else {
		path = r->m.target.p;
		plen = r->m.target.n;
		if (r->m.host >= 0) {
			struct http_slice h = r->m.headers[r->m.host].value;

			if (h.n >= sizeof(r->host))
				return send_error(r, 400, NULL), -1;
			memcpy(r->host, h.p, h.n);
			r->host[h.n] = '\0';
		}
	}
	r->vhost = rules_vhost(r->cfg, (const struct sockaddr *)&r->local,
	    r->host, strlen(r->host));
	/* what is logged for this request goes to its server's ErrorLog */
	if (r->vhost->error_log != NULL && r->vhost != &r->cfg->main)
		log_set_divert(accesslog_error, (void *)(uintptr_t)r->vhost);
	if (r->vhost->log_level != GW_UNSET)
		log_set_request_level(r->vhost->log_level);
	if ((q = memchr(path, '?', plen)) != NULL) {
		r->query = q + 1;
		r->qlen = plen - (size_t)(q - path) - 1;
		plen = (size_t)(q - path);
	}
	r->rawpath.p = path;
	r->rawpath.n = plen;
	if ((st = rules_path(path, plen, r->vhost->allow_encoded_slashes,
	    r->path, sizeof(r->path))) != 0)
		return send_error(r, st, NULL) == 0 ? 0 : -1;
	/* a request for another host: a forward proxy request */
	if (r->m.tform == HTTP_T_ABSOLUTE && !host_is_ours(r))
		return forward_proxy(r);
	if (!rules_proxypass(r->cfg, r->vhost, r->path, &route) ||
	    route.pp->url == NULL) {
		if (!access_ok(r, NULL))
			return send_error(r, 403, NULL) == 0 ? 0 : -1;
		if (status_handler(r->cfg, r->vhost, r->path))
			return serve_status(r) == 0 ? 0 : -1;
		return serve_local(r) == 0 ? 0 : -1;
	}
	return proxy_to(r, route.pp, route.matched);
}

/*---------------------------------------------------------------------
 * The client connection
 */

/*
 * stage_deadline - RequestReadTimeout for one stage (header or body):
 * t seconds from t0, plus a second for every `rate` bytes received, up
 * to tmax seconds (mod_reqtimeout's arithmetic).  0 t: Timeout per read.
 */
static long long
stage_deadline(long long t0, int t, int tmax, int rate, unsigned long long got,
    int timeout)
{
	long long d;

	if (t <= 0)
		return conn_now_ms() + (long long)timeout * 1000;
	d = t0 + (long long)t * 1000;
	if (rate > 0)
		d += (long long)(got * 1000 / (unsigned long long)rate);
	if (tmax > 0 && d > t0 + (long long)tmax * 1000)
		d = t0 + (long long)tmax * 1000;
	return d;
}

/* read_request - a whole head in the client buffer; 0, or a status. */
static int
read_request(struct req *r, int first, int *quiet)
{
	struct http_limits	 lim;
	const struct gw_config	*cfg = r->cfg;
	unsigned long long	 got = 0;
	long long		 t0, left;
	ssize_t			 n;
	int			 pr;

	lim.request_line = (size_t)cfg->limit_request_line;
	lim.field_size = (size_t)cfg->limit_request_field_size;
	lim.fields = cfg->limit_request_fields;
	*quiet = 0;
	r->c->pin = 0;
	/* between requests: KeepAliveTimeout for the first byte */
	if (!first && conn_pending(r->c) == 0) {
		n = conn_fill(r->c, cfg->keepalive_timeout > 0 ?
		    cfg->keepalive_timeout * 1000 : 1);
		if (n <= 0) {
			*quiet = 1;
			return -1;
		}
	}
	t0 = conn_now_ms();
	for (;;) {
		if (conn_pending(r->c) > 0) {
			/* the head stays at the front while it is in use */
			conn_compact(r->c);
			pr = http_parse_request(r->c->buf, conn_pending(r->c),
			    &lim, &r->m);
			if (pr == HTTP_OK) {
				r->c->pin = r->m.head_len;
				conn_consume(r->c, r->m.head_len);
				return 0;
			}
			if (pr != HTTP_AGAIN)
				return pr;
			if (conn_pending(r->c) == r->c->cap)
				return 431;
		}
		left = stage_deadline(t0, cfg->header_timeout,
		    cfg->header_timeout_max, cfg->header_min_rate, got,
		    cfg->timeout) - conn_now_ms();
		n = left > 0 ? conn_fill(r->c, (int)left) : -1;
		if (left <= 0)
			errno = ETIMEDOUT;
		if (n > 0) {
			got += (unsigned long long)n;
			continue;
		}
		*quiet = 1;
		if (n < 0 && errno == ETIMEDOUT && conn_pending(r->c) > 0) {
			*quiet = 0;
			log_msg(GW_LOG_INFO, "proxy: %s sent an incomplete "
			    "request head in time; 408", r->peer_ip);
			return 408;
		}
		return -1;
	}
}

static void
lingering_close(struct gw_conn *c)
{
	char	buf[4096];

	conn_tls_end(c);		/* close_notify; then bytes as they come */
	if (shutdown(c->fd, SHUT_WR) == -1)
		return;
	c->start = c->end = 0;
	while (conn_read(c, buf, sizeof(buf), LINGER_MS) > 0)
		continue;
}

static int
fill_addrs(struct req *r, int fd)
{
	socklen_t len = sizeof(r->peer);

	if (getpeername(fd, (struct sockaddr *)&r->peer, &len) == -1)
		return -1;
	len = sizeof(r->local);
	if (getsockname(fd, (struct sockaddr *)&r->local, &len) == -1)
		return -1;
	if (r->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (void *)&r->peer;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			(void)inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    r->peer_ip, sizeof(r->peer_ip));
		else
			(void)inet_ntop(AF_INET6, &s6->sin6_addr, r->peer_ip,
			    sizeof(r->peer_ip));
	} else
		(void)inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
		    &r->peer)->sin_addr, r->peer_ip, sizeof(r->peer_ip));
	return 0;
}

/* keep_going - may the client send another request after this one? */
static int
keep_going(const struct req *r, unsigned nreq)
{
	const struct gw_config *cfg = r->cfg;

	if (!cfg->keepalive || *r->stop || *r->retire)
		return 0;
	if (cfg->max_keepalive_requests > 0 &&
	    nreq >= (unsigned)cfg->max_keepalive_requests)
		return 0;
	if (r->m.connection & HTTP_CONN_CLOSE)
		return 0;
	if (r->m.version == 10 && !(r->m.connection & HTTP_CONN_KEEPALIVE))
		return 0;
	return 1;
}

static long long
now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->
		    sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port);
	return 0;
}

/*
 * log_request - the access log line of the request just answered.
 * parsed says whether r->m holds a whole head; aborted that the answer
 * did not go out whole.
 */
static void
log_request(struct req *r, int parsed, unsigned nreq, int aborted)
{
	struct gw_logrec	 rec;
	char			 local_ip[INET6_ADDRSTRLEN];
	const char		*line = r->c->buf, *lf;
	size_t			 avail = r->c->end;
	struct sockaddr_storage	*l = &r->local;

	memset(&rec, 0, sizeof(rec));
	rec.cfg = r->cfg;
	rec.vhost = r->vhost != NULL ? r->vhost : &r->cfg->main;
	rec.req = parsed ? &r->m : NULL;
	rec.resp = r->resp;
	/* the request line as received, when there is one */
	while (avail > 0 && (*line == '\r' || *line == '\n')) {
		line++;
		avail--;
	}
	if (avail > 0 && (lf = memchr(line, '\n', avail)) != NULL) {
		rec.request_line = line;
		rec.request_line_len = (size_t)(lf - line);
		if (rec.request_line_len > 0 && lf[-1] == '\r')
			rec.request_line_len--;
	}
	rec.peer_ip = r->peer_ip;
	rec.peer_port = port_of(&r->peer);
	rec.local_port = port_of(l);
	if (l->ss_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)l)->
		    sin6_addr, local_ip, sizeof(local_ip));
	else
		(void)inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)l)->
		    sin_addr, local_ip, sizeof(local_ip));
	rec.local_ip = local_ip;
	rec.tls_protocol = tls_version(r->c->ssl);
	rec.tls_cipher = tls_cipher(r->c->ssl);
	rec.host = r->host[0] != '\0' ? r->host : NULL;
	rec.uri_path = r->path[0] != '\0' ? r->path : NULL;
	rec.query = r->query;
	rec.query_len = r->qlen;
	rec.status_original = rec.status_final = r->status;
	rec.bytes_out = r->c->out;
	rec.body_bytes = r->c->out > r->hdr_out ? r->c->out - r->hdr_out : 0;
	rec.bytes_in = r->c->in - r->in_start;
	rec.start = r->t_start;
	rec.usec = now_us() - r->mono_start;
	rec.keepalive_n = nreq > 0 ? nreq - 1 : 0;
	rec.conn_status = aborted ? 'X' : r->keepalive ? '+' : '-';
	rec.ctype = r->resp == NULL ? r->ctype : NULL;
	rec.env = r->lbenvp[0] != NULL ? r->lbenvp : NULL;
	accesslog_request(&rec);
	count_request(r, r->c->out);	/* c.out starts at 0 a request */
}

void
proxy_serve(struct gw_worker *w, int fd, volatile sig_atomic_t *stop,
    volatile sig_atomic_t *retire)
{
	struct gw_conn	 c;
	struct req	*r;
	unsigned	 nreq = 0;
	int		 st, quiet, one = 1;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_errno(GW_LOG_ERR, "proxy: request state");
		tls_close(w->ssl);
		w->ssl = NULL;
		(void)close(fd);
		return;
	}
	conn_init(&c, fd, w->buf, WORKER_HEAD_MAX, stop);
	c.ssl = w->ssl;			/* tls_accept's, or NULL */
	w->ssl = NULL;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_errno(GW_LOG_DEBUG, "setsockopt(TCP_NODELAY)");
	r->cfg = w->cfg;
	r->w = w;
	r->c = &c;
	r->stop = stop;
	r->retire = retire;
	if (fill_addrs(r, fd) == -1)
		goto done;
	for (;;) {
		r->vhost = &w->cfg->main;
		r->query = NULL;
		r->qlen = 0;
		r->head_sent = 0;
		r->body_done = 0;
		r->continued = 0;
		r->forward = 0;
		r->upgrading = 0;
		r->status = 0;
		r->path[0] = '\0';
		r->host[0] = '\0';
		r->m.version = 0;
		r->m.mcode = HTTP_M_OTHER;
		r->hdr_out = 0;
		r->resp = NULL;
		r->ctype = NULL;
		r->croot = NULL;
		r->secure = c.ssl != NULL;	/* also in a bg_refresh */
		r->cstale = r->creval = r->csie = r->clocked = 0;
		r->xcache = r->xdetail = NULL;
		r->lbenvp[0] = NULL;
		r->lbb = NULL;
		r->in_start = c.in;
		c.out = 0;
		if (w->sb != NULL)
			scoreboard_set_state(w->sb, w->slot, nreq == 0 ?
			    SB_BUSY : SB_KEEPALIVE);
		st = read_request(r, nreq == 0, &quiet);
		if (clock_gettime(CLOCK_REALTIME, &r->t_start) == -1)
			memset(&r->t_start, 0, sizeof(r->t_start));
		r->mono_start = now_us();
		if (st != 0) {
			if (quiet)
				goto done;
			r->keepalive = 0;
			if (r->m.version == 0)
				r->m.version = 11;
			st = send_error(r, st, NULL);
			log_request(r, 0, nreq + 1, st != 0);
			goto linger;
		}
		if (w->sb != NULL)
			scoreboard_set_state(w->sb, w->slot, SB_BUSY);
		nreq++;
		r->keepalive = keep_going(r, nreq);
		r->bg_pp = NULL;
		st = handle(r);
		cache_release(r);	/* on every path out of handle */
		log_request(r, 1, nreq, st != 0 && r->keepalive);
		if (st == 0 && r->bg_pp != NULL)
			bg_refresh(r);
		log_set_divert(NULL, NULL);	/* the server's own again */
		log_set_request_level(-1);
		c.pin = 0;
		if (st != 0 || !r->keepalive)
			goto linger;
	}
linger:
	log_set_divert(NULL, NULL);
	log_set_request_level(-1);
	if (w->sb != NULL)
		scoreboard_set_state(w->sb, w->slot, SB_CLOSING);
	lingering_close(&c);
done:
	log_set_divert(NULL, NULL);
	log_set_request_level(-1);
	cache_fd_flush();
	conn_tls_end(&c);
	(void)close(fd);
	free(r);
}

int
proxy_init(void)
{
	if (px.bbuf == NULL)
		px.bbuf = malloc(PROXY_BUF);
	if (px.obuf == NULL)
		px.obuf = malloc(PROXY_BUF);
	cache_policy_conf_init(&px.cpc);
	px.hit.fd = -1;
	return px.bbuf != NULL && px.obuf != NULL ? 0 : -1;
}

void
proxy_fini(void)
{
	proxy_pool_flush();
	tls_flush_sessions();
	free(px.bbuf);
	free(px.obuf);
	px.bbuf = px.obuf = NULL;
}
