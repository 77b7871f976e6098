/*
 * origin.c - a small HTTP/1.1 origin server for the demo and for tests.
 *
 * usage: origin [-v] [-t seconds] -l host:port
 *
 * Listens on host:port (port 0 picks a free one), prints
 * "listening on host:port" on stdout, then serves each connection in
 * its own child process, keep-alive and pipelining included.  Every
 * read and write has a deadline (-t, default 30 s; also the keep-alive
 * idle time).  SIGTERM or SIGINT stops it and its children.
 *
 * Resources (any method; HEAD gets the head only):
 *	/		HTML page naming the origin, request headers echoed
 *	/echo		text/plain: the request head as received, then body
 *	/status/NNN	answers with status NNN (200-599)
 *	/size/N		N bytes of a fixed pattern (64-byte lines)
 *	/slow/N		waits N seconds, then answers as "/"
 *	/count		number of requests served so far, /count excluded
 * Query words on any resource: "chunked" (chunked response body),
 * "close" (Connection: close), "header=Name:Value" (percent-decoded,
 * added to the response head; up to 16), and for conditional requests
 * "etag=V" (adds ETag: "V"; a GET or HEAD whose If-None-Match lists "V",
 * W/"V" or * is answered 304 Not Modified, counted by /count) and
 * "header304=Name:Value" (like header=, but only in such a 304), and
 * "ifstatus=NNN" (a request with If-None-Match or If-Modified-Since is
 * answered with status NNN, 200-599, instead: a failing revalidation).
 * Request bodies (Content-Length or chunked) are read whole; the answer
 * to a request with a body says X-Request-Body-Length and
 * X-Request-Body-FNV1a (64-bit FNV-1a of the body, hex).  /echo echoes
 * at most 1 MiB of the body.  /count counts requests of every child.
 * It does not own: anything of gatewayd; it links nothing of it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ		65536		/* request head limit, read buffer */
#define ECHO_MAX	(1024 * 1024)	/* body bytes /echo echoes */
#define MAX_HEADERS	100
#define MAX_EXTRA	16		/* header= query words */
#define MAX_CHILDREN	512
#define SLOW_MAX	3600
#define PATTERN		"0123456789abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n"

struct header {
	char		*name;
	char		*value;
};

struct conn {
	int		 fd;
	char		 peer[INET6_ADDRSTRLEN];
	char		 buf[BUFSZ];
	size_t		 off;		/* first unconsumed byte */
	size_t		 len;		/* bytes in buf */
};

struct request {
	char		 raw[BUFSZ + 1];	/* the head as received */
	char		 head[BUFSZ + 1];	/* the same, split up */
	size_t		 headlen;
	char		*method;
	char		*target;
	char		*path;
	char		*query;		/* NULL when none */
	int		 minor;		/* HTTP/1.x */
	struct header	 h[MAX_HEADERS];
	int		 nh;
	int		 keepalive;
	int		 expect_continue;
	int		 chunked;
	long long	 clen;		/* -1: none */
	char		*body;		/* first ECHO_MAX bytes */
	size_t		 bodykept;
	unsigned long long bodylen;
	uint64_t	 fnv;
};

struct response {
	int		 status;
	const char	*ctype;
	int		 chunked;
	int		 close;
	char		*extra[MAX_EXTRA];	/* "Name: Value" */
	int		 nextra;
	char		*extra304[MAX_EXTRA];	/* only in a 304 */
	int		 nextra304;
	char		*etag;		/* etag=: unquoted, or NULL */
	int		 ifstatus;	/* ifstatus=, or 0 */
};

static volatile sig_atomic_t	got_term, got_chld;
static unsigned long		*counter;	/* shared by all children */
static int			 timeout_s = 30;
static int			 verbose;
static pid_t			 children[MAX_CHILDREN];
static int			 nchildren;

static void	usage(void) __attribute__((noreturn));
static void	die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	fputs("origin: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (saved != 0)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	exit(1);
}

static void
usage(void)
{
	fputs("usage: origin [-v] [-t seconds] -l host:port\n", stderr);
	exit(2);
}

/*---------------------------------------------------------------- I/O */

static long long
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitfd - poll fd for events until deadline (ms); 1 ready, 0 timeout. */
static int
waitfd(int fd, short events, long long deadline)
{
	struct pollfd	pfd;
	long long	left;
	int		n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* fill - read more into c->buf before deadline; bytes read, 0 EOF, -1. */
static ssize_t
fill(struct conn *c, long long deadline)
{
	ssize_t	n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof(c->buf))
		return -1;
	for (;;) {
		if (waitfd(c->fd, POLLIN, deadline) != 1)
			return -1;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n > 0)
			c->len += (size_t)n;
		return n;
	}
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	long long	 deadline = now_ms() + timeout_s * 1000LL;
	ssize_t		 w;

	while (n > 0) {
		if (waitfd(fd, POLLOUT, deadline) != 1)
			return -1;
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* getline_crlf - next line (CRLF or LF stripped) from c; NULL on error. */
static char *
getline_crlf(struct conn *c, long long deadline)
{
	char	*line, *nl;

	for (;;) {
		nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl != NULL)
			break;
		if (fill(c, deadline) <= 0)
			return NULL;
	}
	line = c->buf + c->off;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	c->off = (size_t)(nl - c->buf) + 1;
	return line;
}

/*---------------------------------------------------------- request body */

static void
body_add(struct request *r, const char *p, size_t n)
{
	size_t	i, keep;

	for (i = 0; i < n; i++) {
		r->fnv ^= (unsigned char)p[i];
		r->fnv *= 0x100000001b3ULL;
	}
	keep = ECHO_MAX - r->bodykept;
	if (keep > n)
		keep = n;
	if (keep > 0) {
		memcpy(r->body + r->bodykept, p, keep);
		r->bodykept += keep;
	}
	r->bodylen += n;
}

/* read_n - consume n body bytes from c into r. */
static int
read_n(struct conn *c, struct request *r, unsigned long long n,
    long long deadline)
{
	size_t	avail;

	while (n > 0) {
		if (c->off == c->len && fill(c, deadline) <= 0)
			return -1;
		avail = c->len - c->off;
		if (avail > n)
			avail = (size_t)n;
		body_add(r, c->buf + c->off, avail);
		c->off += avail;
		n -= avail;
	}
	return 0;
}

static int
read_chunked(struct conn *c, struct request *r, long long deadline)
{
	unsigned long long	 size;
	char			*line, *end;

	for (;;) {
		if ((line = getline_crlf(c, deadline)) == NULL)
			return -1;
		if (!isxdigit((unsigned char)*line))
			return -1;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (errno != 0 || (*end != '\0' && *end != ';' &&
		    *end != ' ' && *end != '\t'))
			return -1;
		if (size == 0)
			break;
		if (read_n(c, r, size, deadline) == -1)
			return -1;
		if ((line = getline_crlf(c, deadline)) == NULL ||
		    *line != '\0')
			return -1;
	}
	do {				/* trailer section */
		if ((line = getline_crlf(c, deadline)) == NULL)
			return -1;
	} while (*line != '\0');
	return 0;
}

/*---------------------------------------------------------- request head */

static const char *
hget(const struct request *r, const char *name)
{
	int	i;

	for (i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* has_token - does the comma list v hold token t (no case)? */
static int
has_token(const char *v, const char *t)
{
	size_t	tl = strlen(t), n;

	while (v != NULL && *v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		n = strcspn(v, ", \t");
		if (n == tl && strncasecmp(v, t, n) == 0)
			return 1;
		v += n;
		v = strchr(v, ',');
	}
	return 0;
}

static int
tchar(int ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* parse_header - one field line into r; -1 if malformed. */
static int
parse_header(struct request *r, char *line)
{
	char		*colon, *p, *v, *end;
	long long	 n;

	if (*line == ' ' || *line == '\t')	/* obs-fold */
		return -1;
	if ((colon = strchr(line, ':')) == NULL || colon == line)
		return -1;
	for (p = line; p < colon; p++)
		if (!tchar((unsigned char)*p))
			return -1;
	*colon = '\0';
	v = trim(colon + 1);
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;
	if (r->nh == MAX_HEADERS)
		return -1;
	r->h[r->nh].name = line;
	r->h[r->nh++].value = v;
	if (strcasecmp(line, "Content-Length") == 0) {
		if (!isdigit((unsigned char)*v))
			return -1;
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0' ||
		    (r->clen != -1 && r->clen != n))
			return -1;
		r->clen = n;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		if (strcasecmp(v, "chunked") != 0)
			return -1;	/* only plain chunked is understood */
		r->chunked = 1;
	} else if (strcasecmp(line, "Expect") == 0 &&
	    strcasecmp(v, "100-continue") == 0)
		r->expect_continue = 1;
	return 0;
}

/* parse_head - request line and fields of the head in r->head. */
static int
parse_head(struct request *r)
{
	char	*line, *next, *sp;
	const char *conn;

	line = r->head;
	if ((next = strchr(line, '\n')) == NULL)
		return -1;
	*next++ = '\0';
	if (next - line >= 2 && next[-2] == '\r')
		next[-2] = '\0';
	r->method = line;
	if ((sp = strchr(line, ' ')) == NULL)
		return -1;
	*sp = '\0';
	r->target = sp + 1;
	if ((sp = strchr(r->target, ' ')) == NULL)
		return -1;
	*sp = '\0';
	if (strncmp(sp + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)sp[8]) || sp[9] != '\0' ||
	    *r->method == '\0' || *r->target == '\0')
		return -1;
	r->minor = sp[8] - '0';
	for (sp = r->method; *sp != '\0'; sp++)
		if (!tchar((unsigned char)*sp))
			return -1;

	for (line = next; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			return -1;
		*next++ = '\0';
		if (next - line >= 2 && next[-2] == '\r')
			next[-2] = '\0';
		if (*line == '\0')
			break;
		if (parse_header(r, line) == -1)
			return -1;
	}
	if (r->chunked && r->clen != -1)
		return -1;
	if (r->minor >= 1 && hget(r, "Host") == NULL)
		return -1;
	conn = hget(r, "Connection");
	if (r->minor >= 1)
		r->keepalive = !has_token(conn, "close");
	else
		r->keepalive = has_token(conn, "keep-alive");
	r->path = r->target;
	if ((r->query = strchr(r->target, '?')) != NULL)
		*r->query++ = '\0';
	return 0;
}

/* head_end - just past the empty line ending a head in p, or NULL. */
static char *
head_end(char *p, size_t n)
{
	char	*nl = p, *e = p + n;

	while ((nl = memchr(nl, '\n', (size_t)(e - nl))) != NULL) {
		nl++;
		if (nl < e && *nl == '\n')
			return nl + 1;
		if (nl + 1 < e && nl[0] == '\r' && nl[1] == '\n')
			return nl + 2;
	}
	return NULL;
}

/*
 * read_request - the next request on c into r.  Returns 1 with a
 * request, 0 when the client closed or its deadline passed, -1 (400)
 * on a malformed head, -2 (431) on one larger than the buffer.
 */
static int
read_request(struct conn *c, struct request *r)
{
	long long	 deadline = now_ms() + timeout_s * 1000LL;
	char		*end;
	size_t		 n;
	ssize_t		 got;

	for (;;) {
		/* tolerate empty lines before a request (RFC 9112 2.2) */
		while (c->off < c->len && (c->buf[c->off] == '\r' ||
		    c->buf[c->off] == '\n'))
			c->off++;
		if ((end = head_end(c->buf + c->off, c->len - c->off)) != NULL)
			break;
		got = fill(c, deadline);
		if (got < 0 && c->off == 0 && c->len == sizeof(c->buf))
			return -2;		/* head too large */
		if (got <= 0)
			return 0;		/* closed or timed out */
	}
	n = (size_t)(end - (c->buf + c->off));
	memcpy(r->raw, c->buf + c->off, n);
	memcpy(r->head, c->buf + c->off, n);
	r->raw[n] = r->head[n] = '\0';
	r->headlen = n;
	c->off += n;
	if (memchr(r->head, '\0', n) != NULL)
		return -1;
	return parse_head(r) == 0 ? 1 : -1;
}

/*--------------------------------------------------------------- response */

static const char *
reason(int status)
{
	static const struct { int code; const char *text; } tab[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 203, "Non-Authoritative Information" },
		{ 204, "No Content" }, { 206, "Partial Content" },
		{ 300, "Multiple Choices" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 303, "See Other" },
		{ 304, "Not Modified" }, { 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 410, "Gone" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t	i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == status)
			return tab[i].text;
	return "Unknown";
}

static int
no_body_status(int status)
{
	return status == 204 || status == 304 || (status >= 100 && status < 200);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* pct_decode - decode %XX and '+' in place; -1 on CR, LF or NUL. */
static int
pct_decode(char *s)
{
	char	*o = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%' && (hi = hexval((unsigned char)s[1])) >= 0 &&
		    (lo = hexval((unsigned char)s[2])) >= 0) {
			*o = (char)(hi * 16 + lo);
			s += 2;
		} else
			*o = *s == '+' ? ' ' : *s;
		if (*o == '\r' || *o == '\n' || *o == '\0')
			return -1;
		o++;
	}
	*o = '\0';
	return 0;
}

/* apply_query - the query words of r into resp; -1 if malformed. */
static int
apply_query(struct request *r, struct response *resp)
{
	char	*q, *w, *colon;

	if (r->query == NULL)
		return 0;
	for (q = r->query; (w = strsep(&q, "&")) != NULL; ) {
		if (strcmp(w, "chunked") == 0)
			resp->chunked = 1;
		else if (strcmp(w, "close") == 0)
			resp->close = 1;
		else if (strncmp(w, "header=", 7) == 0) {
			w += 7;
			if (pct_decode(w) == -1 ||
			    (colon = strchr(w, ':')) == NULL ||
			    colon == w || resp->nextra == MAX_EXTRA)
				return -1;
			resp->extra[resp->nextra++] = w;
		} else if (strncmp(w, "header304=", 10) == 0) {
			w += 10;
			if (pct_decode(w) == -1 ||
			    (colon = strchr(w, ':')) == NULL ||
			    colon == w || resp->nextra304 == MAX_EXTRA)
				return -1;
			resp->extra304[resp->nextra304++] = w;
		} else if (strncmp(w, "ifstatus=", 9) == 0) {
			resp->ifstatus = atoi(w + 9);
			if (resp->ifstatus < 200 || resp->ifstatus > 599)
				return -1;
		} else if (strncmp(w, "etag=", 5) == 0) {
			w += 5;
			if (pct_decode(w) == -1 || *w == '\0' ||
			    strpbrk(w, "\"\\\r\n") != NULL)
				return -1;
			resp->etag = w;
		}
	}
	return 0;
}

static int
send_head(struct conn *c, struct request *r, struct response *resp,
    unsigned long long len)
{
	char		 h[8192], date[64];
	struct tm	 tm;
	time_t		 t = time(NULL);
	int		 n, i, m;
	char		*colon;

	(void)gmtime_r(&t, &tm);
	(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Server: gatewayd-demo-origin\r\n", resp->status,
	    reason(resp->status), date);
	if (r->chunked || r->clen >= 0)
		n += snprintf(h + n, sizeof(h) - n,
		    "X-Request-Body-Length: %llu\r\n"
		    "X-Request-Body-FNV1a: %016" PRIx64 "\r\n",
		    r->bodylen, r->fnv);
	if (!no_body_status(resp->status)) {
		m = snprintf(h + n, sizeof(h) - n, "Content-Type: %s\r\n",
		    resp->ctype);
		n += m;
		if (resp->chunked)
			m = snprintf(h + n, sizeof(h) - n,
			    "Transfer-Encoding: chunked\r\n");
		else
			m = snprintf(h + n, sizeof(h) - n,
			    "Content-Length: %llu\r\n", len);
		n += m;
	}
	if (resp->etag != NULL && (size_t)n < sizeof(h))
		n += snprintf(h + n, sizeof(h) - n, "ETag: \"%s\"\r\n",
		    resp->etag);
	for (i = 0; i < resp->nextra && (size_t)n < sizeof(h); i++) {
		colon = strchr(resp->extra[i], ':');
		n += snprintf(h + n, sizeof(h) - n, "%.*s: %s\r\n",
		    (int)(colon - resp->extra[i]), resp->extra[i],
		    trim(colon + 1));
	}
	for (i = 0; resp->status == 304 && i < resp->nextra304 &&
	    (size_t)n < sizeof(h); i++) {
		colon = strchr(resp->extra304[i], ':');
		n += snprintf(h + n, sizeof(h) - n, "%.*s: %s\r\n",
		    (int)(colon - resp->extra304[i]), resp->extra304[i],
		    trim(colon + 1));
	}
	if ((size_t)n < sizeof(h)) {
		if (resp->close || !r->keepalive)
			m = snprintf(h + n, sizeof(h) - n,
			    "Connection: close\r\n\r\n");
		else if (r->minor == 0)
			m = snprintf(h + n, sizeof(h) - n,
			    "Connection: keep-alive\r\n\r\n");
		else
			m = snprintf(h + n, sizeof(h) - n, "\r\n");
		n += m;
	}
	if ((size_t)n >= sizeof(h))
		return -1;
	return write_all(c->fd, h, (size_t)n);
}

/* send_body - len bytes from p (or the pattern when p is NULL). */
static int
send_body(struct conn *c, struct response *resp, const char *p,
    unsigned long long len)
{
	char			 buf[16384], ch[32];
	unsigned long long	 off = 0;
	size_t			 n, i, plen = sizeof(PATTERN) - 1;
	int			 m;

	while (off < len) {
		n = len - off > sizeof(buf) ? sizeof(buf) : (size_t)(len - off);
		if (p == NULL)
			for (i = 0; i < n; i++)
				buf[i] = PATTERN[(off + i) % plen];
		else
			memcpy(buf, p + off, n);
		if (resp->chunked) {
			m = snprintf(ch, sizeof(ch), "%zx\r\n", n);
			if (write_all(c->fd, ch, (size_t)m) == -1)
				return -1;
		}
		if (write_all(c->fd, buf, n) == -1)
			return -1;
		if (resp->chunked && write_all(c->fd, "\r\n", 2) == -1)
			return -1;
		off += n;
	}
	if (resp->chunked && write_all(c->fd, "0\r\n\r\n", 5) == -1)
		return -1;
	return 0;
}

static int
send_response(struct conn *c, struct request *r, struct response *resp,
    const char *body, unsigned long long len, int pattern)
{
	int	head = strcmp(r->method, "HEAD") == 0;

	if (no_body_status(resp->status)) {
		resp->chunked = 0;
		len = 0;
	}
	if (send_head(c, r, resp, len) == -1)
		return -1;
	if (head || no_body_status(resp->status))
		return 0;
	return send_body(c, resp, pattern ? NULL : body, len);
}

/* html_escape - append s to b (at *n, size sz), HTML-escaped. */
static void
html_escape(char *b, size_t sz, size_t *n, const char *s)
{
	const char	*rep;
	size_t		 rl;

	for (; *s != '\0' && *n + 7 < sz; s++) {
		switch (*s) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = NULL; break;
		}
		if (rep == NULL) {
			b[(*n)++] = *s;
			continue;
		}
		rl = strlen(rep);
		memcpy(b + *n, rep, rl);
		*n += rl;
	}
	b[*n] = '\0';
}

static int
page_root(struct conn *c, struct request *r, struct response *resp)
{
	static char	 b[BUFSZ * 2];
	size_t		 n;
	int		 i;

	n = (size_t)snprintf(b, sizeof(b), "<!DOCTYPE html>\n<html><head>"
	    "<title>gatewayd demo origin</title></head>\n<body>\n"
	    "<h1>Hello from the gatewayd demo origin</h1>\n"
	    "<p>This page was served by the demo origin server "
	    "(pid %ld), request %lu.  If you asked gatewayd for it, the "
	    "request went through the gateway.</p>\n"
	    "<p>The request as the origin saw it:</p>\n<pre>",
	    (long)getpid(), *counter);
	html_escape(b, sizeof(b), &n, r->method);
	html_escape(b, sizeof(b), &n, " ");
	html_escape(b, sizeof(b), &n, r->target);
	if (r->query != NULL) {
		html_escape(b, sizeof(b), &n, "?");
		html_escape(b, sizeof(b), &n, r->query);
	}
	html_escape(b, sizeof(b), &n, r->minor ? " HTTP/1.1\n" : " HTTP/1.0\n");
	for (i = 0; i < r->nh; i++) {
		html_escape(b, sizeof(b), &n, r->h[i].name);
		html_escape(b, sizeof(b), &n, ": ");
		html_escape(b, sizeof(b), &n, r->h[i].value);
		html_escape(b, sizeof(b), &n, "\n");
	}
	if (n + 32 < sizeof(b))
		n += (size_t)snprintf(b + n, sizeof(b) - n,
		    "</pre>\n</body></html>\n");
	resp->ctype = "text/html; charset=utf-8";
	return send_response(c, r, resp, b, n, 0);
}

static int
page_echo(struct conn *c, struct request *r, struct response *resp)
{
	char	*b;
	size_t	 n;
	int	 rv;

	n = r->headlen + r->bodykept;
	if ((b = malloc(n + 1)) == NULL)
		return -1;
	memcpy(b, r->raw, r->headlen);
	memcpy(b + r->headlen, r->body, r->bodykept);
	resp->ctype = "text/plain; charset=utf-8";
	rv = send_response(c, r, resp, b, n, 0);
	free(b);
	return rv;
}

/* number - the decimal after prefix in path, or -1. */
static long long
number(const char *path, const char *prefix)
{
	size_t		 pl = strlen(prefix);
	char		*end;
	long long	 v;

	if (strncmp(path, prefix, pl) != 0 ||
	    !isdigit((unsigned char)path[pl]))
		return -1;
	errno = 0;
	v = strtoll(path + pl, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return v;
}

static int
text(struct conn *c, struct request *r, struct response *resp,
    const char *s)
{
	resp->ctype = "text/plain; charset=utf-8";
	return send_response(c, r, resp, s, strlen(s), 0);
}

/*
 * not_modified - etag= given, and the request a GET or HEAD whose
 * If-None-Match lists that tag (weak comparison) or is "*".
 */
static int
not_modified(const struct request *r, const struct response *resp)
{
	const char	*v, *p;
	size_t		 n;

	if (resp->etag == NULL || (strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "HEAD") != 0))
		return 0;
	for (int i = 0; i < r->nh; i++) {
		if (strcasecmp(r->h[i].name, "If-None-Match") != 0)
			continue;
		v = r->h[i].value;
		n = strlen(resp->etag);
		for (p = v; *p != '\0'; p++) {
			if (*p == '*')
				return 1;
			if (*p == '"' && strncmp(p + 1, resp->etag, n) == 0 &&
			    p[n + 1] == '"')
				return 1;
			if (*p == '"' && (p = strchr(p + 1, '"')) == NULL)
				break;
		}
	}
	return 0;
}

/* dispatch - answer one parsed request; -1 ends the connection. */
static int
dispatch(struct conn *c, struct request *r, struct response *resp)
{
	char		 msg[128];
	long long	 v;

	if (apply_query(r, resp) == -1) {
		resp->status = 400;
		resp->close = 1;
		return text(c, r, resp, "bad query\n");
	}
	if (strcmp(r->path, "/count") == 0) {
		(void)snprintf(msg, sizeof(msg), "%lu\n",
		    __atomic_load_n(counter, __ATOMIC_SEQ_CST));
		return text(c, r, resp, msg);
	}
	(void)__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	if (resp->ifstatus != 0 && (hget(r, "If-None-Match") != NULL ||
	    hget(r, "If-Modified-Since") != NULL)) {
		resp->status = resp->ifstatus;
		(void)snprintf(msg, sizeof(msg), "%d %s\n", resp->status,
		    reason(resp->status));
		return text(c, r, resp, msg);
	}
	if (not_modified(r, resp)) {
		resp->status = 304;
		return send_response(c, r, resp, NULL, 0, 0);
	}
	if (strcmp(r->path, "/") == 0)
		return page_root(c, r, resp);
	if (strcmp(r->path, "/echo") == 0)
		return page_echo(c, r, resp);
	if ((v = number(r->path, "/status/")) != -1) {
		if (v < 200 || v > 599) {
			resp->status = 400;
			return text(c, r, resp, "status must be 200-599\n");
		}
		resp->status = (int)v;
		(void)snprintf(msg, sizeof(msg), "%d %s\n", resp->status,
		    reason(resp->status));
		return text(c, r, resp, msg);
	}
	if ((v = number(r->path, "/size/")) != -1) {
		resp->ctype = "application/octet-stream";
		return send_response(c, r, resp, NULL,
		    (unsigned long long)v, 1);
	}
	if ((v = number(r->path, "/slow/")) != -1) {
		if (v > SLOW_MAX)
			v = SLOW_MAX;
		(void)sleep((unsigned int)v);
		return page_root(c, r, resp);
	}
	resp->status = 404;
	return text(c, r, resp, "no such resource on the demo origin\n");
}

static void
logreq(const struct conn *c, const char *reqline, int status)
{
	if (verbose)
		fprintf(stderr, "origin[%ld]: %s \"%s\" %d\n",
		    (long)getpid(), c->peer, reqline, status);
}

/* request_reset - r ready for the next request. */
static void
request_reset(struct request *r)
{
	r->nh = 0;
	r->clen = -1;
	r->chunked = r->expect_continue = r->keepalive = 0;
	r->bodykept = 0;
	r->bodylen = 0;
	r->fnv = 0xcbf29ce484222325ULL;	/* FNV-1a offset basis */
	r->query = NULL;
	r->minor = 1;
	r->method = r->target = r->path = (char *)"GET";
}

/* read_body - the request body, after 100 Continue if asked for. */
static int
read_body(struct conn *c, struct request *r)
{
	long long	deadline;

	if (r->expect_continue && (r->chunked || r->clen > 0) &&
	    r->minor >= 1 && write_all(c->fd,
	    "HTTP/1.1 100 Continue\r\n\r\n", 25) == -1)
		return -1;
	deadline = now_ms() + timeout_s * 1000LL;
	if (r->chunked)
		return read_chunked(c, r, deadline);
	if (r->clen > 0)
		return read_n(c, r, (unsigned long long)r->clen, deadline);
	return 0;
}

/* serve - the keep-alive loop of one connection. */
static void
serve(struct conn *c)
{
	struct request	*r;
	struct response	 resp;
	char		 reqline[256];
	int		 rv;

	if ((r = malloc(sizeof(*r))) == NULL)
		return;
	if ((r->body = malloc(ECHO_MAX)) == NULL) {
		free(r);
		return;
	}
	for (;;) {
		request_reset(r);
		memset(&resp, 0, sizeof(resp));
		resp.status = 200;
		if ((rv = read_request(c, r)) == 0)
			break;
		if (rv < 0) {
			request_reset(r);
			resp.status = rv == -2 ? 431 : 400;
			resp.close = 1;
			(void)text(c, r, &resp, rv == -2 ?
			    "request head too large\n" : "bad request\n");
			logreq(c, "-", resp.status);
			break;
		}
		(void)snprintf(reqline, sizeof(reqline), "%s %s%s%s",
		    r->method, r->path, r->query != NULL ? "?" : "",
		    r->query != NULL ? r->query : "");
		if (read_body(c, r) == -1) {
			resp.status = 400;
			resp.close = 1;
			(void)text(c, r, &resp, "bad request body\n");
			logreq(c, reqline, 400);
			break;
		}
		rv = dispatch(c, r, &resp);
		logreq(c, reqline, resp.status);
		if (rv == -1 || resp.close || !r->keepalive)
			break;
	}
	free(r->body);
	free(r);
}

/*------------------------------------------------------------ processes */

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static void
reap(void)
{
	pid_t	pid;
	int	i, status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < nchildren; i++)
			if (children[i] == pid) {
				children[i] = children[--nchildren];
				break;
			}
}

/* child - serve the connection fd in a new process. */
static void
child(int lfd, int fd, const struct sockaddr_storage *ss)
{
	struct conn	*c;
	pid_t		 pid;

	while (nchildren == MAX_CHILDREN) {	/* wait for a slot */
		if ((pid = waitpid(-1, NULL, 0)) > 0) {
			got_chld = 1;
			reap();
			break;
		}
	}
	if ((pid = fork()) == -1) {
		perror("origin: fork");
		(void)close(fd);
		return;
	}
	if (pid > 0) {
		children[nchildren++] = pid;
		(void)close(fd);
		return;
	}
	(void)close(lfd);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
#ifdef __linux__
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	if ((c = malloc(sizeof(*c))) == NULL)
		_exit(1);
	c->fd = fd;
	c->off = c->len = 0;
	if (ss->ss_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    c->peer, sizeof(c->peer));
	else
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)ss)->sin_addr,
		    c->peer, sizeof(c->peer));
	serve(c);
	(void)shutdown(fd, SHUT_WR);
	(void)close(fd);
	free(c);
	_exit(0);
}

/* stop - TERM every child, wait up to 2 s, then KILL the rest. */
static void
stop(void)
{
	long long	deadline = now_ms() + 2000;
	int		i;

	for (i = 0; i < nchildren; i++)
		(void)kill(children[i], SIGTERM);
	while (nchildren > 0 && now_ms() < deadline) {
		reap();
		if (nchildren > 0)
			(void)poll(NULL, 0, 20);
	}
	for (i = 0; i < nchildren; i++)
		(void)kill(children[i], SIGKILL);
	reap();
}

/* open_listener - bind spec "host:port" ("[v6]:port"); prints it. */
static int
open_listener(const char *arg)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			*spec, *host, *port, addr[INET6_ADDRSTRLEN];
	int			 fd, on = 1, e;

	if ((host = spec = strdup(arg)) == NULL)
		die("strdup");
	if ((port = strrchr(spec, ':')) == NULL)
		usage();
	*port++ = '\0';
	if (*host == '[' && port[-2] == ']') {
		host++;
		port[-2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((e = getaddrinfo(*host != '\0' ? host : NULL, port, &hints,
	    &res)) != 0) {
		errno = 0;
		die("%s:%s: %s", host, port, gai_strerror(e));
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		die("bind %s:%s", host, port);
	freeaddrinfo(res);
	free(spec);
	if (listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		die("listen");
	if (ss.ss_family == AF_INET6) {
		(void)inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
		    sizeof(addr));
		printf("listening on [%s]:%u\n", addr,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		(void)inet_ntop(AF_INET,
		    &((struct sockaddr_in *)&ss)->sin_addr, addr,
		    sizeof(addr));
		printf("listening on %s:%u\n", addr,
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	if (fflush(stdout) == EOF)
		die("stdout");
	return fd;
}

static void
setup_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll wakes up */
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGCHLD, &sa, NULL) == -1)
		die("sigaction");
	(void)signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct pollfd		 pfd;
	char			*spec = NULL, *end;
	int			 ch, lfd, fd;

	while ((ch = getopt(argc, argv, "l:t:v")) != -1) {
		switch (ch) {
		case 'l':
			spec = optarg;
			break;
		case 't':
			timeout_s = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || timeout_s < 1 || timeout_s > 3600)
				usage();
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (spec == NULL || optind != argc)
		usage();
	counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		die("mmap");
	setup_signals();
	lfd = open_listener(spec);
	while (!got_term) {
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		sl = sizeof(ss);
		if ((fd = accept(lfd, (struct sockaddr *)&ss, &sl)) == -1)
			continue;
		child(lfd, fd, &ss);
	}
	(void)close(lfd);
	stop();
	return 0;
}
