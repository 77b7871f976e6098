/*
 * accesslog.c - the access log (see accesslog.h): Apache's
 * mod_log_config formats and targets.
 *
 * Owns: compiling LogFormat strings, formatting a struct gw_logrec into
 * one line, the files and "|command" pipes of CustomLog/TransferLog,
 * the piped logger processes.  Does not own: what a request was (the
 * proxy engine fills the record), the error log (log.c).
 *
 * The master keeps both ends of each logger's pipe, so a logger that
 * dies is restarted on the same pipe: workers keep their descriptor
 * and lose nothing but what the dead logger had read.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "arena.h"
#include "http.h"
#include "log.h"

#define AL_PIPE_LINE_MAX	PIPE_BUF	/* one atomic pipe write */
#define AL_RESPAWN_MAX		64		/* seconds between restarts */
#define AL_SHORT_LIFE		10		/* died sooner: back off */
#define AL_STALL_SECONDS	5		/* full pipe: drop at once */
#define AL_REPORT_SECONDS	60		/* write errors, at most */

/*---------------------------------------------------------------------
 * Compiled formats
 */

enum al_kind {
	AL_LITERAL, AL_REMOTE_HOST, AL_REMOTE_ADDR, AL_LOCAL_ADDR,
	AL_BYTES_CLF, AL_BYTES, AL_COOKIE, AL_DURATION_US, AL_ENV,
	AL_NONE, AL_PROTOCOL, AL_HEADER_IN, AL_KEEPALIVES, AL_METHOD,
	AL_HEADER_OUT, AL_PORT, AL_PID, AL_QUERY, AL_REQUEST_LINE,
	AL_STATUS, AL_TIME, AL_DURATION, AL_USER, AL_URI, AL_VHOST,
	AL_SERVER_NAME, AL_CONN_STATUS, AL_BYTES_IN, AL_BYTES_OUT,
	AL_BYTES_INOUT, AL_SSL_SHORT, AL_SSL_VAR, AL_TTFB
};

/* sub-modes, chosen at compile time from the {argument} */
enum { T_CLF, T_CUSTOM, T_SEC, T_MSEC, T_USEC, T_MSEC_FRAC, T_USEC_FRAC };
enum { D_SEC, D_MSEC, D_USEC, D_BOGUS };
enum { P_CANONICAL, P_LOCAL, P_REMOTE, P_BOGUS };
enum { PID_PID, PID_TID, PID_HEXTID, PID_BOGUS };

struct al_item {
	enum al_kind	 kind;
	int		 want_orig;	/* %<s (and %s): the first status */
	int		 negate;	/* %!200,304... */
	int		 sub;		/* T_*, D_*, P_*, PID_* */
	int		 at_end;	/* %{end:...}t */
	size_t		 nconds;
	const int	*conds;
	const char	*arg;		/* {argument} or literal text */
	size_t		 arglen;
};

struct accesslog_fmt {
	size_t		 nitems;
	struct al_item	*items;
};

/*
 * Apache's tags (mod_log_config, mod_logio, mod_ssl); 1 in orig means
 * that without < or > the first request of an internal redirect is
 * meant (it matters for %s only).  Known tags whose value gatewayd
 * never has (notes, log ids, handlers, file names, trailers) log "-".
 */
static const struct al_tag {
	const char	*tag;
	enum al_kind	 kind;
	int		 orig;
} al_tags[] = {
	{ "a", AL_REMOTE_ADDR, 0 },	{ "A", AL_LOCAL_ADDR, 0 },
	{ "b", AL_BYTES_CLF, 0 },	{ "B", AL_BYTES, 0 },
	{ "c", AL_SSL_SHORT, 0 },	{ "C", AL_COOKIE, 0 },
	{ "D", AL_DURATION_US, 1 },	{ "e", AL_ENV, 0 },
	{ "f", AL_NONE, 0 },		{ "F", AL_NONE, 1 },
	{ "h", AL_REMOTE_HOST, 0 },	{ "H", AL_PROTOCOL, 0 },
	{ "i", AL_HEADER_IN, 0 },	{ "I", AL_BYTES_IN, 0 },
	{ "k", AL_KEEPALIVES, 0 },	{ "l", AL_NONE, 0 },
	{ "L", AL_NONE, 1 },		{ "m", AL_METHOD, 0 },
	{ "n", AL_NONE, 0 },		{ "o", AL_HEADER_OUT, 0 },
	{ "O", AL_BYTES_OUT, 0 },	{ "p", AL_PORT, 0 },
	{ "P", AL_PID, 0 },		{ "q", AL_QUERY, 0 },
	{ "r", AL_REQUEST_LINE, 1 },	{ "R", AL_NONE, 1 },
	{ "s", AL_STATUS, 1 },		{ "S", AL_BYTES_INOUT, 0 },
	{ "t", AL_TIME, 0 },		{ "T", AL_DURATION, 1 },
	{ "u", AL_USER, 0 },		{ "U", AL_URI, 1 },
	{ "v", AL_VHOST, 0 },		{ "V", AL_SERVER_NAME, 0 },
	{ "x", AL_SSL_VAR, 0 },		{ "X", AL_CONN_STATUS, 0 },
	{ "^FB", AL_TTFB, 0 },		{ "^ti", AL_NONE, 0 },
	{ "^to", AL_NONE, 0 },
};

static const struct al_tag *
tag_of(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(al_tags) / sizeof(al_tags[0]); i++)
		if (strlen(al_tags[i].tag) == n &&
		    strncmp(al_tags[i].tag, s, n) == 0)
			return &al_tags[i];
	return NULL;
}

/* find_tag - "^" and two characters first, then one, as Apache. */
static const struct al_tag *
find_tag(const char *s, size_t *used)
{
	const struct al_tag	*t;

	if (s[0] == '^' && s[1] != '\0' && s[2] != '\0' &&
	    (t = tag_of(s, 3)) != NULL) {
		*used = 3;
		return t;
	}
	*used = 1;
	return tag_of(s, 1);
}

/* The pieces of one compile, carved from a single allocation. */
struct al_build {
	struct accesslog_fmt	*f;
	int			*conds;		/* next free condition */
	char			*chars;		/* next free character */
	char			*err;
	size_t			 errlen;
};

/*
 * literal - text up to the next '%', with Apache's \\ \r \n \t; any
 * other backslash stays as it is.
 */
static const char *
literal(struct al_build *b, const char *s)
{
	struct al_item	*it = &b->f->items[b->f->nitems++];
	char		*d = b->chars;

	memset(it, 0, sizeof(*it));
	it->kind = AL_LITERAL;
	it->arg = d;
	while (*s != '\0' && *s != '%') {
		if (*s != '\\') {
			*d++ = *s++;
			continue;
		}
		switch (*++s) {
		case '\\': *d++ = '\\'; s++; break;
		case 'r': *d++ = '\r'; s++; break;
		case 'n': *d++ = '\n'; s++; break;
		case 't': *d++ = '\t'; s++; break;
		default: *d++ = '\\'; break;
		}
	}
	it->arglen = (size_t)(d - it->arg);
	*d++ = '\0';
	b->chars = d;
	return s;
}

/* time_mode - Apache's reading of %{...}t: begin:/end:, sec, msec... */
static void
time_mode(struct al_item *it)
{
	const char	*f = it->arg;

	it->sub = T_CUSTOM;
	if (it->arg == NULL || *f == '\0') {
		it->sub = T_CLF;
		return;
	}
	if (strncmp(f, "begin", 5) == 0) {
		f += 5;
		if (*f == '\0')
			it->sub = T_CLF;
		else if (*f == ':')
			it->arg = ++f;
	} else if (strncmp(f, "end", 3) == 0) {
		f += 3;
		if (*f == '\0') {
			it->sub = T_CLF;
			it->at_end = 1;
		} else if (*f == ':') {
			it->arg = ++f;
			it->at_end = 1;
		}
	}
	if (it->sub == T_CLF)
		return;
	if (strcmp(f, "msec") == 0)
		it->sub = T_MSEC;
	else if (strcmp(f, "msec_frac") == 0)
		it->sub = T_MSEC_FRAC;
	else if (strcmp(f, "usec") == 0)
		it->sub = T_USEC;
	else if (strcmp(f, "usec_frac") == 0)
		it->sub = T_USEC_FRAC;
	else if (strcmp(f, "sec") == 0)
		it->sub = T_SEC;
	else if (*f == '\0')
		it->sub = T_CLF;
}

/* item_mode - fix the sub-mode of an item from its argument. */
static void
item_mode(struct al_item *it)
{
	const char	*a = it->arg != NULL ? it->arg : "";

	switch (it->kind) {
	case AL_TIME:
		time_mode(it);
		break;
	case AL_DURATION:
		it->sub = *a == '\0' || strcasecmp(a, "s") == 0 ? D_SEC :
		    strcasecmp(a, "ms") == 0 ? D_MSEC :
		    strcasecmp(a, "us") == 0 ? D_USEC : D_BOGUS;
		break;
	case AL_PORT:
		it->sub = *a == '\0' || strcasecmp(a, "canonical") == 0 ?
		    P_CANONICAL : strcasecmp(a, "local") == 0 ? P_LOCAL :
		    strcasecmp(a, "remote") == 0 ? P_REMOTE : P_BOGUS;
		break;
	case AL_PID:
		it->sub = *a == '\0' || strcasecmp(a, "pid") == 0 ? PID_PID :
		    strcasecmp(a, "tid") == 0 ? PID_TID :
		    strcasecmp(a, "hextid") == 0 ? PID_HEXTID : PID_BOGUS;
		break;
	default:
		break;
	}
}

/*
 * directive - the %-directive at start: modifiers (!, <, >, status
 * codes, {argument}) then the tag.  Returns what follows, or NULL with
 * the error set.
 */
static const char *
directive(struct al_build *b, const char *start)
{
	struct al_item		*it = &b->f->items[b->f->nitems];
	const struct al_tag	*tag;
	const char		*s = start + 1, *close;
	size_t			 used;
	long			 code;

	memset(it, 0, sizeof(*it));
	it->want_orig = -1;
	it->conds = b->conds;
	for (;;) {
		switch (*s) {
		case '\0':
			(void)snprintf(b->err, b->errlen, "Ran off end of "
			    "LogFormat parsing args to some directive: %s",
			    start);
			return NULL;
		case '!':
			it->negate = !it->negate;
			s++;
			continue;
		case '<':
		case '>':
			it->want_orig = *s++ == '<';
			continue;
		case ',':
			s++;
			continue;
		case '{':
			close = strchr(++s, '}');
			if (close == NULL)
				close = s + strlen(s);
			it->arglen = (size_t)(close - s);
			memcpy(b->chars, s, it->arglen);
			b->chars[it->arglen] = '\0';
			it->arg = b->chars;
			b->chars += it->arglen + 1;
			s = *close == '}' ? close + 1 : close;
			continue;
		default:
			break;
		}
		if (isdigit((unsigned char)*s)) {
			for (code = 0; isdigit((unsigned char)*s); s++)
				if (code < 100000)
					code = code * 10 + (*s - '0');
			b->conds[0] = (int)code;
			b->conds++;
			it->nconds++;
			continue;
		}
		if ((tag = find_tag(s, &used)) == NULL) {
			(void)snprintf(b->err, b->errlen, "Unrecognized "
			    "LogFormat directive %%%c", *s);
			return NULL;
		}
		it->kind = tag->kind;
		if (it->want_orig == -1)
			it->want_orig = tag->orig;
		item_mode(it);
		b->f->nitems++;
		return s + used;
	}
}

struct accesslog_fmt *
accesslog_compile(const char *fmt, char *err, size_t errlen)
{
	struct al_build	 b;
	size_t		 n = strlen(fmt), size;
	const char	*s = fmt;
	char		*mem;

	/* every item takes a character at least; chars: text and NULs */
	size = sizeof(struct accesslog_fmt) +
	    (n + 1) * sizeof(struct al_item) + (n + 1) * sizeof(int) +
	    2 * n + 2;
	if ((mem = calloc(1, size)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b.f = (struct accesslog_fmt *)(void *)mem;
	b.f->items = (struct al_item *)(void *)(mem + sizeof(*b.f));
	b.conds = (int *)(void *)(b.f->items + n + 1);
	b.chars = (char *)(b.conds + n + 1);
	b.err = err;
	b.errlen = errlen;
	while (s != NULL && *s != '\0') {
		if (*s == '%' && s[1] == '%') {
			/* "%%": a literal '%' */
			b.f->items[b.f->nitems].kind = AL_LITERAL;
			b.f->items[b.f->nitems].arg = "%";
			b.f->items[b.f->nitems++].arglen = 1;
			s += 2;
		} else if (*s == '%')
			s = directive(&b, s);
		else
			s = literal(&b, s);
	}
	if (s == NULL) {
		free(mem);
		return NULL;
	}
	return b.f;
}

void
accesslog_fmt_free(struct accesslog_fmt *f)
{
	free(f);		/* one allocation */
}

/*---------------------------------------------------------------------
 * Output buffer and Apache's escaping (ap_escape_logitem)
 */

struct al_out {
	char		*p;
	size_t		 len;
	size_t		 max;		/* without the '\n' and the NUL */
	int		 full;
};

static void
put(struct al_out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (n > o->max - o->len) {
		n = o->max - o->len;
		o->full = 1;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
puts_(struct al_out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
dash(struct al_out *o)
{
	put(o, "-", 1);
}

/*
 * put_esc - s[0..n) with what Apache escapes in log items: controls,
 * bytes over 0x7e, '"' and '\\'; \b \n \r \t \v by name, the rest as
 * \xhh.  An escape that does not fit is left out whole.
 */
static void
put_esc(struct al_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 c;
	char		 e[4];
	size_t		 i, k;

	for (i = 0; i < n && !o->full; i++) {
		c = (unsigned char)s[i];
		k = 0;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			e[k++] = (char)c;
		} else {
			e[k++] = '\\';
			switch (c) {
			case '\b': e[k++] = 'b'; break;
			case '\n': e[k++] = 'n'; break;
			case '\r': e[k++] = 'r'; break;
			case '\t': e[k++] = 't'; break;
			case '\v': e[k++] = 'v'; break;
			case '"':
			case '\\': e[k++] = (char)c; break;
			default:
				e[k++] = 'x';
				e[k++] = hex[c >> 4];
				e[k++] = hex[c & 0xf];
			}
		}
		if (k > o->max - o->len) {
			o->full = 1;
			return;
		}
		memcpy(o->p + o->len, e, k);
		o->len += k;
	}
}

/* esc_or_dash - an escaped C string, or "-" for NULL. */
static void
esc_or_dash(struct al_out *o, const char *s)
{
	if (s == NULL)
		dash(o);
	else
		put_esc(o, s, strlen(s));
}

/* put_num - v in decimal, zero-padded to width (0: none), or hex. */
static void
put_num(struct al_out *o, long long v, int width, int hex)
{
	char	 buf[32];
	int	 n;

	if (hex)
		n = snprintf(buf, sizeof(buf), "%llx", (unsigned long long)v);
	else
		n = snprintf(buf, sizeof(buf), "%0*lld", width, v);
	if (n > 0 && (size_t)n < sizeof(buf))
		put(o, buf, (size_t)n);
}

static void
put_ull(struct al_out *o, unsigned long long v)
{
	char	 buf[32];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%llu", v);
	if (n > 0 && (size_t)n < sizeof(buf))
		put(o, buf, (size_t)n);
}

/*---------------------------------------------------------------------
 * Values
 */

static char	 al_hostname[256];	/* %v when there is no ServerName */

/* slice_trim - drop leading and trailing blanks of s[0..*n). */
static const char *
slice_trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/*
 * header_in - every field name of m, comma-joined as Apache merges
 * request headers; "-" if none.
 */
static void
header_all(struct al_out *o, const struct http_msg *m, const char *name)
{
	int	 i, seen = 0;

	for (i = m != NULL ? http_find(m, name, 0) : -1; i != -1;
	    i = http_find(m, name, i + 1)) {
		if (seen++)
			put(o, ", ", 2);
		put_esc(o, m->headers[i].value.p, m->headers[i].value.n);
	}
	if (!seen)
		dash(o);
}

/* noparam - a media type without its parameters (ap_field_noparam). */
static void
put_noparam(struct al_out *o, const char *s, size_t n)
{
	const char	*semi = memchr(s, ';', n);

	if (semi != NULL)
		n = (size_t)(semi - s);
	s = slice_trim(s, &n);
	put_esc(o, s, n);
}

/* header_out - %{name}o as Apache: Content-Type without parameters,
 * every Set-Cookie, else the first. */
static void
header_out(struct al_out *o, const struct gw_logrec *r, const char *name)
{
	const struct http_msg	*m = r->resp;
	int			 i;

	if (strcasecmp(name, "Content-Type") == 0) {
		if (r->ctype != NULL)
			put_noparam(o, r->ctype, strlen(r->ctype));
		else if (m != NULL && (i = http_find(m, name, 0)) != -1)
			put_noparam(o, m->headers[i].value.p,
			    m->headers[i].value.n);
		else
			dash(o);
	} else if (strcasecmp(name, "Location") == 0 && r->location != NULL)
		put_esc(o, r->location, strlen(r->location));
	else if (strcasecmp(name, "Set-Cookie") == 0)
		header_all(o, m, name);
	else if (m != NULL && (i = http_find(m, name, 0)) != -1)
		put_esc(o, m->headers[i].value.p, m->headers[i].value.n);
	else
		dash(o);
}

/* cookie_in - %{name}C: the value of cookie name (any case), or "-". */
static void
cookie_in(struct al_out *o, const struct http_msg *m, const char *name)
{
	const char	*p, *end, *semi, *eq, *k, *v;
	size_t		 kn, vn;
	int		 i;

	for (i = m != NULL ? http_find(m, "Cookie", 0) : -1; i != -1;
	    i = http_find(m, "Cookie", i + 1)) {
		p = m->headers[i].value.p;
		end = p + m->headers[i].value.n;
		for (; p < end; p = semi + 1) {
			if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
				semi = end;
			if ((eq = memchr(p, '=', (size_t)(semi - p))) == NULL)
				continue;
			kn = (size_t)(eq - p);
			k = slice_trim(p, &kn);
			vn = (size_t)(semi - eq - 1);
			v = slice_trim(eq + 1, &vn);
			if (kn == strlen(name) && vn > 0 &&
			    strncasecmp(k, name, kn) == 0) {
				put_esc(o, v, vn);
				return;
			}
		}
	}
	dash(o);
}

/* env_get - the value of name in the record's environment, or NULL. */
static const char *
env_get(const struct gw_logrec *r, const char *name)
{
	const char *const	*e;
	size_t			 n = strlen(name);

	for (e = r->env; e != NULL && *e != NULL; e++)
		if (strncasecmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* server_hostname - ServerName without scheme and port (%v). */
static const char *
server_hostname(const struct gw_logrec *r, size_t *n)
{
	const char	*s = r->vhost != NULL ? r->vhost->server_name : NULL;
	const char	*h, *e;

	if (s == NULL && r->cfg != NULL)
		s = r->cfg->main.server_name;
	if (s == NULL) {
		*n = strlen(al_hostname);
		return *n > 0 ? al_hostname : NULL;
	}
	h = strstr(s, "://");
	h = h != NULL ? h + 3 : s;
	if (h[0] == '[' && (e = strchr(h, ']')) != NULL)
		e++;
	else if ((e = strchr(h, ':')) == NULL)
		e = h + strlen(h);
	*n = (size_t)(e - h);
	return h;
}

/* name_port - the port of a ServerName, 0 if it has none. */
static int
name_port(const char *s)
{
	const char	*h, *c;

	if (s == NULL)
		return 0;
	h = strstr(s, "://");
	h = h != NULL ? h + 3 : s;
	if (h[0] == '[')
		c = (h = strchr(h, ']')) != NULL && h[1] == ':' ? h + 1 : NULL;
	else
		c = strchr(h, ':');
	return c != NULL ? atoi(c + 1) : 0;
}

/*
 * canonical_port - %p as Apache: the vhost's own ServerName port, else
 * the port of its first <VirtualHost> address, else the main server's
 * ServerName port, else the scheme's default.
 */
static int
canonical_port(const struct gw_logrec *r)
{
	const struct gw_vhost	*v = r->vhost;
	const struct gw_vhost	*m = r->cfg != NULL ? &r->cfg->main : NULL;
	const char		*name;
	int			 port;

	if (v != NULL && (m == NULL || v == m ||
	    v->server_name != m->server_name) &&
	    (port = name_port(v->server_name)) > 0)
		return port;
	if (v != NULL && v != m && v->addrs != NULL &&
	    v->addrs->port != NULL && (port = atoi(v->addrs->port)) > 0)
		return port;
	if (m != NULL && (port = name_port(m->server_name)) > 0)
		return port;
	name = v != NULL && v->server_name != NULL ? v->server_name :
	    m != NULL ? m->server_name : NULL;
	if (r->tls_protocol != NULL ||
	    (name != NULL && strncasecmp(name, "https://", 8) == 0))
		return 443;
	return 80;
}

/* line_word - the first (last 0) or last (last 1) word of the line. */
static const char *
line_word(const struct gw_logrec *r, int last, size_t *n)
{
	const char	*p = r->request_line, *sp;
	size_t		 len = r->request_line_len;

	if (p == NULL || len == 0)
		return NULL;
	if (!last) {
		sp = memchr(p, ' ', len);
		*n = sp != NULL ? (size_t)(sp - p) : len;
		return p;
	}
	for (sp = p + len; sp > p && sp[-1] != ' '; sp--)
		continue;
	*n = (size_t)(p + len - sp);
	return sp;
}

static void
put_method(struct al_out *o, const struct gw_logrec *r)
{
	const char	*p;
	size_t		 n;

	if (r->req != NULL)
		put_esc(o, r->req->method.p, r->req->method.n);
	else if ((p = line_word(r, 0, &n)) != NULL)
		put_esc(o, p, n);
	else
		dash(o);
}

static void
put_protocol(struct al_out *o, const struct gw_logrec *r)
{
	const char	*p;
	size_t		 n;

	char		 v[16];
	int		 k;

	if (r->req != NULL && r->req->version > 0) {
		k = snprintf(v, sizeof(v), "HTTP/%d.%d", r->req->version / 10,
		    r->req->version % 10);
		if (k > 0 && (size_t)k < sizeof(v))
			put(o, v, (size_t)k);
	} else if ((p = line_word(r, 1, &n)) != NULL && n > 5 &&
	    strncmp(p, "HTTP/", 5) == 0)
		put_esc(o, p, n);
	else
		dash(o);
}

/*
 * put_request_line - %r, with the password of an absolute URI shown as
 * XXXXXXXX as Apache does.
 */
static void
put_request_line(struct al_out *o, const struct gw_logrec *r)
{
	const char	*p = r->request_line, *end, *u, *at, *colon, *slash;

	if (p == NULL) {
		dash(o);
		return;
	}
	end = p + r->request_line_len;
	if ((u = memchr(p, ' ', r->request_line_len)) == NULL ||
	    (u = memmem(u, (size_t)(end - u), "://", 3)) == NULL)
		goto plain;
	u += 3;
	for (slash = u; slash < end && *slash != '/' && *slash != ' ';
	    slash++)
		continue;
	if ((at = memchr(u, '@', (size_t)(slash - u))) == NULL ||
	    (colon = memchr(u, ':', (size_t)(at - u))) == NULL)
		goto plain;
	put_esc(o, p, (size_t)(colon + 1 - p));
	put(o, "XXXXXXXX", 8);
	put_esc(o, at, (size_t)(end - at));
	return;
plain:
	put_esc(o, p, r->request_line_len);
}

static void
put_uri(struct al_out *o, const struct gw_logrec *r)
{
	const char	*q;
	size_t		 n;

	if (r->uri_path != NULL)
		put_esc(o, r->uri_path, strlen(r->uri_path));
	else if (r->req != NULL && r->req->target.n > 0) {
		n = r->req->target.n;
		if ((q = memchr(r->req->target.p, '?', n)) != NULL)
			n = (size_t)(q - r->req->target.p);
		put_esc(o, r->req->target.p, n);
	} else
		dash(o);
}

/* put_server_name - %V: the Host of the request, else %v. */
static void
put_server_name(struct al_out *o, const struct gw_logrec *r)
{
	const char	*h = r->host, *e;
	size_t		 n;

	if (h != NULL && *h != '\0') {
		if (h[0] == '[' && (e = strchr(h, ']')) != NULL)
			e++;
		else if ((e = strchr(h, ':')) == NULL)
			e = h + strlen(h);
		put_esc(o, h, (size_t)(e - h));
	} else if ((h = server_hostname(r, &n)) != NULL)
		put_esc(o, h, n);
	else
		dash(o);
}

static const char *const al_months[] = { "Jan", "Feb", "Mar", "Apr",
	"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* put_strftime - a LogFormat %{...}t: strftime of the config's text. */
static void
put_strftime(struct al_out *o, const char *fmt, const struct tm *tm)
{
	char	 buf[512];
	size_t	 n;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime(buf, sizeof(buf), fmt, tm);
#pragma GCC diagnostic pop
	put(o, buf, n);
}

/* put_time - %t and %{...}t, in local time like Apache. */
static void
put_time(struct al_out *o, const struct al_item *it,
    const struct gw_logrec *r)
{
	long long	 us;
	time_t		 t;
	struct tm	 tm;
	long		 off;
	char		 buf[64];
	int		 n;

	us = (long long)r->start.tv_sec * 1000000 + r->start.tv_nsec / 1000;
	if (it->at_end && r->usec > 0)
		us += r->usec;
	switch (it->sub) {
	case T_SEC: put_num(o, us / 1000000, 0, 0); return;
	case T_MSEC: put_num(o, us / 1000, 0, 0); return;
	case T_USEC: put_num(o, us, 0, 0); return;
	case T_MSEC_FRAC: put_num(o, us / 1000 % 1000, 3, 0); return;
	case T_USEC_FRAC: put_num(o, us % 1000000, 6, 0); return;
	default: break;
	}
	t = (time_t)(us / 1000000);
	if (localtime_r(&t, &tm) == NULL) {
		dash(o);
		return;
	}
	if (it->sub == T_CUSTOM) {
		put_strftime(o, it->arg, &tm);
		return;
	}
	off = tm.tm_gmtoff;
	n = snprintf(buf, sizeof(buf),
	    "[%02d/%s/%d:%02d:%02d:%02d %c%.2ld%.2ld]", tm.tm_mday,
	    al_months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    labs(off) / 3600, labs(off) % 3600 / 60);
	if (n > 0 && (size_t)n < sizeof(buf))
		put(o, buf, (size_t)n);
}

static void
put_duration(struct al_out *o, const struct al_item *it,
    const struct gw_logrec *r)
{
	switch (it->sub) {
	case D_SEC: put_num(o, r->usec / 1000000, 0, 0); break;
	case D_MSEC: put_num(o, r->usec / 1000, 0, 0); break;
	case D_USEC: put_num(o, r->usec, 0, 0); break;
	default: puts_(o, it->arg); break;	/* Apache logs the bogus unit */
	}
}

static void
put_port(struct al_out *o, const struct al_item *it,
    const struct gw_logrec *r)
{
	switch (it->sub) {
	case P_CANONICAL: put_num(o, canonical_port(r), 0, 0); break;
	case P_LOCAL: put_num(o, r->local_port, 0, 0); break;
	case P_REMOTE: put_num(o, r->peer_port, 0, 0); break;
	default: puts_(o, it->arg); break;
	}
}

static void
put_pid(struct al_out *o, const struct al_item *it)
{
	/* a worker has one thread: its id is the process id */
	switch (it->sub) {
	case PID_HEXTID: put_num(o, (long long)getpid(), 0, 1); break;
	case PID_BOGUS: puts_(o, it->arg); break;
	default: put_num(o, (long long)getpid(), 0, 0); break;
	}
}

/* ssl_var - mod_ssl's variables that gatewayd knows, else NULL. */
static const char *
ssl_var(const struct gw_logrec *r, const char *name)
{
	if (strcasecmp(name, "HTTPS") == 0)
		return r->tls_protocol != NULL ? "on" : "off";
	if (strcasecmp(name, "SSL_PROTOCOL") == 0)
		return r->tls_protocol;
	if (strcasecmp(name, "SSL_CIPHER") == 0)
		return r->tls_cipher;
	return NULL;
}

/* ssl_short - %{version}c and friends (the old mod_ssl names). */
static const char *
ssl_short(const struct gw_logrec *r, const char *name)
{
	if (strcasecmp(name, "version") == 0)
		return ssl_var(r, "SSL_PROTOCOL");
	if (strcasecmp(name, "cipher") == 0)
		return ssl_var(r, "SSL_CIPHER");
	if (strcasecmp(name, "errcode") == 0)
		return "-";
	return NULL;
}

static void
str_or_dash(struct al_out *o, const char *s)
{
	if (s == NULL || *s == '\0')
		dash(o);
	else
		puts_(o, s);
}

/* put_status - %s, %<s (first) or %>s (final); "-" if none. */
static void
put_status(struct al_out *o, const struct al_item *it,
    const struct gw_logrec *r)
{
	int	 s = it->want_orig && r->status_original > 0 ?
		    r->status_original : r->status_final;

	if (s <= 0)
		dash(o);
	else
		put_num(o, s, 0, 0);
}

/* put_request_item - the items that describe the request. */
static void
put_request_item(struct al_out *o, const struct al_item *it,
    const struct gw_logrec *r)
{
	const char	*a = it->arg != NULL ? it->arg : "";

	switch (it->kind) {
	case AL_REQUEST_LINE: put_request_line(o, r); break;
	case AL_METHOD: put_method(o, r); break;
	case AL_PROTOCOL: put_protocol(o, r); break;
	case AL_URI: put_uri(o, r); break;
	case AL_QUERY:
		if (r->query != NULL) {
			put(o, "?", 1);
			put_esc(o, r->query, r->query_len);
		}
		break;
	case AL_HEADER_IN: header_all(o, r->req, a); break;
	case AL_HEADER_OUT: header_out(o, r, a); break;
	case AL_COOKIE: cookie_in(o, r->req, a); break;
	case AL_ENV: esc_or_dash(o, env_get(r, a)); break;
	case AL_SERVER_NAME: put_server_name(o, r); break;
	default: dash(o); break;
	}
}

/* put_item - one directive's value. */
static void
put_item(struct al_out *o, const struct al_item *it,
    const struct gw_logrec *r)
{
	const char	*h;
	size_t		 n;

	switch (it->kind) {
	case AL_LITERAL: put(o, it->arg, it->arglen); break;
	case AL_REMOTE_HOST: esc_or_dash(o, r->peer_ip); break;
	case AL_REMOTE_ADDR: str_or_dash(o, r->peer_ip); break;
	case AL_LOCAL_ADDR: str_or_dash(o, r->local_ip); break;
	case AL_BYTES_CLF:
		if (r->body_bytes == 0)
			dash(o);
		else
			put_ull(o, r->body_bytes);
		break;
	case AL_BYTES: put_ull(o, r->body_bytes); break;
	case AL_BYTES_IN: put_ull(o, r->bytes_in); break;
	case AL_BYTES_OUT: put_ull(o, r->bytes_out); break;
	case AL_BYTES_INOUT: put_ull(o, r->bytes_in + r->bytes_out); break;
	case AL_DURATION_US: put_num(o, r->usec, 0, 0); break;
	case AL_DURATION: put_duration(o, it, r); break;
	case AL_TIME: put_time(o, it, r); break;
	case AL_TTFB:
		if (r->ttfb_usec <= 0)
			dash(o);
		else
			put_num(o, r->ttfb_usec, 0, 0);
		break;
	case AL_KEEPALIVES: put_num(o, r->keepalive_n, 0, 0); break;
	case AL_CONN_STATUS:
		if (r->conn_status == 'X')
			put(o, "X", 1);
		else if (r->conn_status == '+')
			put(o, "+", 1);
		else
			dash(o);
		break;
	case AL_PORT: put_port(o, it, r); break;
	case AL_PID: put_pid(o, it); break;
	case AL_STATUS: put_status(o, it, r); break;
	case AL_USER:
		if (r->user == NULL)
			dash(o);
		else if (*r->user == '\0')
			put(o, "\"\"", 2);
		else
			put_esc(o, r->user, strlen(r->user));
		break;
	case AL_VHOST:
		if ((h = server_hostname(r, &n)) != NULL)
			put_esc(o, h, n);
		else
			dash(o);
		break;
	case AL_SSL_VAR: str_or_dash(o, ssl_var(r, it->arg ? it->arg : ""));
		break;
	case AL_SSL_SHORT:
		str_or_dash(o, ssl_short(r, it->arg ? it->arg : ""));
		break;
	case AL_NONE: dash(o); break;
	default: put_request_item(o, it, r); break;
	}
}

/* status_filter - does a %400,501 / %!200 condition hide the item? */
static int
status_filter(const struct al_item *it, const struct gw_logrec *r)
{
	size_t	 i;
	int	 in = 0;

	if (it->nconds == 0)
		return 0;
	for (i = 0; i < it->nconds; i++)
		if (it->conds[i] == r->status_final)
			in = 1;
	return it->negate ? in : !in;
}

size_t
accesslog_format(char *out, size_t cap, const struct accesslog_fmt *f,
    const struct gw_logrec *r)
{
	struct al_out	 o;
	size_t		 i;

	if (cap < 2) {
		if (cap == 1)
			out[0] = '\0';
		return 0;
	}
	o.p = out;
	o.len = 0;
	o.max = cap - 2;
	o.full = 0;
	for (i = 0; i < f->nitems && !o.full; i++) {
		if (status_filter(&f->items[i], r))
			dash(&o);
		else
			put_item(&o, &f->items[i], r);
	}
	out[o.len++] = '\n';
	out[o.len] = '\0';
	return o.len;
}

/*---------------------------------------------------------------------
 * Config-time checks
 */

const char *
accesslog_check_format(struct gw_arena *a, const char *fmt)
{
	struct accesslog_fmt	*f;
	char			 err[256];

	if ((f = accesslog_compile(fmt, err, sizeof(err))) == NULL)
		return arena_strdup(a, err);
	accesslog_fmt_free(f);
	return NULL;
}

/* parse_condition - "", "env=name", "env=!name"; NULL or why not. */
static const char *
parse_condition(const char *cond, const char **env)
{
	*env = NULL;
	if (cond == NULL || *cond == '\0')
		return NULL;
	if (strncasecmp(cond, "env=", 4) == 0) {
		if (cond[4] == '\0' || (cond[4] == '!' && cond[5] == '\0'))
			return "missing environment variable name";
		*env = cond + 4;
		return NULL;
	}
	if (strncasecmp(cond, "expr=", 5) == 0)
		return "expr= conditions are not supported by gatewayd; "
		    "use env=[!]name";
	return "error in condition clause";
}

const char *
accesslog_check_condition(struct gw_arena *a, const char *cond)
{
	const char	*env;

	(void)a;		/* the messages are constant */
	return parse_condition(cond, &env);
}

/*---------------------------------------------------------------------
 * Targets
 */

struct al_target {
	char		*spec;		/* path or "|command" */
	char		*cmd;		/* what sh -c runs, pipes only */
	const char	*where;		/* "file:line" of its CustomLog */
	int		 is_pipe;
	int		 facility;	/* syslog[:facility], else -1 */
	int		 fd;		/* file, or the pipe's write end */
	int		 rfd;		/* pipe's read end (master), -1 */
	pid_t		 pid;		/* logger, -1 none */
	long long	 spawned;	/* monotonic seconds */
	long long	 respawn_at;
	int		 backoff;	/* seconds */
	long long	 stalled_until;	/* pipe full: do not wait */
	long long	 reported;	/* last write error report */
	unsigned long	 dropped;	/* lines lost since */
};

struct al_log {
	struct al_target		*t;
	const struct accesslog_fmt	*fmt;
	const char			*env;	/* "name", "!name" or NULL */
};

/* One server (main or vhost): its logs, or the main server's. */
struct al_server {
	const struct gw_vhost	*v;
	struct al_log		*logs;
	size_t			 nlogs;
	struct al_target	*errlog;	/* its own ErrorLog, or NULL */
};

struct accesslog {
	struct al_target	*targets;
	size_t			 ntargets;
	struct accesslog_fmt	**fmts;
	char			**fmt_src;
	size_t			 nfmts;
	struct al_log		*logs;
	size_t			 nlogs;
	struct al_server	*servers;	/* [0] is the main server */
	size_t			 nservers;
	char			**strs;		/* copies of the specs */
	size_t			 nstrs;
};

static struct accesslog	*al_cur;	/* what accesslog_request uses */

static long long
mono_sec(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec;
}

/* keep - a copy of s owned by al (freed with it), or NULL. */
static char *
keep(struct accesslog *al, const char *s, size_t n)
{
	char	*c;

	if ((c = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	al->strs[al->nstrs++] = c;
	return c;
}

/*
 * nickname - the last LogFormat named name (any case, as Apache's
 * table), Apache's built-in "CLF", or NULL.
 */
static const char *
nickname(const struct gw_config *cfg, const char *name)
{
	const struct gw_strlist	*l;
	const char		*found = NULL, *tab;
	size_t			 n = strlen(name);

	if (n == 0)
		return NULL;
	for (l = cfg->log_formats; l != NULL; l = l->next)
		if ((tab = strchr(l->s, '\t')) != NULL &&
		    (size_t)(tab - l->s) == n &&
		    strncasecmp(l->s, name, n) == 0)
			found = tab + 1;
	if (found == NULL && strcasecmp(name, "CLF") == 0)
		found = ACCESSLOG_CLF;
	return found;
}

/* default_format - TransferLog's: the last LogFormat without a name. */
static const char *
default_format(const struct gw_config *cfg)
{
	const struct gw_strlist	*l;
	const char		*found = NULL, *nick;

	for (l = cfg->log_formats; l != NULL; l = l->next)
		if (l->s[0] == '\t')
			found = l->s + 1;
	if (found == NULL)
		return ACCESSLOG_CLF;
	/* "LogFormat combined" makes a nickname the default */
	return (nick = nickname(cfg, found)) != NULL ? nick : found;
}

/* is_condition - could s be CustomLog's third argument? */
static int
is_condition(const char *s)
{
	return *s == '\0' || strncasecmp(s, "env=", 4) == 0 ||
	    strncasecmp(s, "expr=", 5) == 0;
}

/*
 * split_entry - "path\tformat\tcondition[\tfile:line]" (directives.c)
 * into its fields, in place.  The format may itself hold tabs.
 */
static int
split_entry(char *s, char **path, char **fmt, char **cond, char **where)
{
	char	*t1, *tl;

	*where = NULL;
	if ((t1 = strchr(s, '\t')) == NULL || (tl = strrchr(s, '\t')) == t1)
		return -1;
	*t1 = '\0';
	*path = s;
	*tl = '\0';
	if (!is_condition(tl + 1)) {
		*where = tl + 1;
		if ((tl = strrchr(t1 + 1, '\t')) == NULL)
			return -1;
		*tl = '\0';
	}
	*fmt = t1 + 1;
	*cond = tl + 1;
	return 0;
}

/* get_fmt - the compiled form of src, shared by equal formats. */
static const struct accesslog_fmt *
get_fmt(struct accesslog *al, const char *src, char *err, size_t errlen)
{
	struct accesslog_fmt	*f;
	size_t			 i;

	for (i = 0; i < al->nfmts; i++)
		if (strcmp(al->fmt_src[i], src) == 0)
			return al->fmts[i];
	if ((f = accesslog_compile(src, err, errlen)) == NULL)
		return NULL;
	if ((al->fmt_src[al->nfmts] = keep(al, src, strlen(src))) == NULL) {
		accesslog_fmt_free(f);
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	al->fmts[al->nfmts++] = f;
	return f;
}

/* pipe_command - what sh -c runs for "|cmd", "||cmd" or "|$cmd". */
static char *
pipe_command(struct accesslog *al, const char *spec)
{
	char	*c;
	int	 n;

	spec++;
	if (*spec == '$') {		/* Apache: through the shell */
		spec++;
		return keep(al, spec, strlen(spec));
	}
	if (*spec == '|')
		spec++;
	if ((n = asprintf(&c, "exec %s", spec)) < 0)
		return NULL;
	al->strs[al->nstrs++] = c;
	return c;
}

/* syslog_facility - "syslog" or "syslog:name": the facility, else -1. */
static int
syslog_facility(const char *spec)
{
	static const struct {
		const char	*name;
		int		 facility;
	} fac[] = {
		{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
		{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON },
		{ "ftp", LOG_FTP }, { "kern", LOG_KERN },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
		{ "lpr", LOG_LPR }, { "mail", LOG_MAIL }, { "news", LOG_NEWS },
		{ "syslog", LOG_SYSLOG }, { "user", LOG_USER },
		{ "uucp", LOG_UUCP }
	};
	size_t	 i;

	if (strcmp(spec, "syslog") == 0)
		return LOG_LOCAL7;		/* Apache's default */
	if (strncmp(spec, "syslog:", 7) != 0)
		return -1;
	for (i = 0; i < sizeof(fac) / sizeof(fac[0]); i++)
		if (strcasecmp(spec + 7, fac[i].name) == 0)
			return fac[i].facility;
	return -1;
}

/* open_target - the target for spec (shared by equal specs). */
static struct al_target *
open_target(struct accesslog *al, const char *spec, const char *where,
    char *err, size_t errlen)
{
	struct al_target	*t;
	int			 fds[2] = { -1, -1 };
	size_t			 i;

	for (i = 0; i < al->ntargets; i++)
		if (strcmp(al->targets[i].spec, spec) == 0)
			return &al->targets[i];
	t = &al->targets[al->ntargets];
	t->fd = t->rfd = -1;
	t->pid = -1;
	t->where = where;
	if ((t->spec = keep(al, spec, strlen(spec))) == NULL)
		goto nomem;
	if ((t->facility = syslog_facility(spec)) != -1) {
		al->ntargets++;
		return t;
	}
	if (strncmp(spec, "syslog", 6) == 0 && spec[0] != '/') {
		(void)snprintf(err, errlen, "unknown syslog facility");
		return NULL;
	}
	if (spec[0] != '|') {
		t->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
		if (t->fd == -1) {
			(void)snprintf(err, errlen, "could not open the log "
			    "file: %s", strerror(errno));
			return NULL;
		}
		al->ntargets++;
		return t;
	}
	t->is_pipe = 1;
	if ((t->cmd = pipe_command(al, spec)) == NULL)
		goto nomem;
	if (pipe2(fds, O_CLOEXEC) == -1 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1) {
		if (fds[0] != -1) {
			(void)close(fds[0]);
			(void)close(fds[1]);
		}
		(void)snprintf(err, errlen, "could not create a pipe: %s",
		    strerror(errno));
		return NULL;
	}
	t->rfd = fds[0];
	t->fd = fds[1];
	al->ntargets++;
	return t;
nomem:
	(void)snprintf(err, errlen, "out of memory");
	return NULL;
}

/* add_log - one CustomLog/TransferLog entry of a server. */
static int
add_log(struct accesslog *al, const struct gw_config *cfg,
    const char *entry, char *err, size_t errlen)
{
	struct al_log	*lg = &al->logs[al->nlogs];
	char		*copy, *path, *fmt, *cond, *where, why[256];
	const char	*src, *env, *e, *origin = NULL;
	int		 n;

	if ((copy = keep(al, entry, strlen(entry))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (split_entry(copy, &path, &fmt, &cond, &where) == -1) {
		(void)snprintf(err, errlen, "malformed access log entry "
		    "\"%s\"", entry);
		return -1;
	}
	why[0] = '\0';
	if ((e = parse_condition(cond, &env)) != NULL)
		(void)snprintf(why, sizeof(why), "%s", e);
	else {
		if (*fmt == '\0') {
			src = default_format(cfg);
			origin = "the LogFormat for TransferLog";
		} else if ((src = nickname(cfg, fmt)) != NULL)
			origin = fmt;
		else
			src = fmt;	/* not a nickname: a format */
		if ((lg->fmt = get_fmt(al, src, why, sizeof(why))) == NULL) {
			/* a LogFormat's fault, if directives.c let it by */
			n = (int)strlen(why);
			if (origin != NULL)
				(void)snprintf(why + n, sizeof(why) - (size_t)n,
				    " (in LogFormat %s%s%s)", origin == fmt ?
				    "\"" : "", origin, origin == fmt ? "\"" :
				    "");
		} else if ((lg->t = open_target(al, path, where, why,
		    sizeof(why))) != NULL) {
			lg->env = env;
			al->nlogs++;
			return 0;
		}
	}
	(void)snprintf(err, errlen, "%s%s%s %s: %s", where ? where : "",
	    where ? ": " : "", *fmt == '\0' ? "TransferLog" : "CustomLog",
	    path, why);
	return -1;
}

static size_t
count(const struct gw_strlist *l)
{
	size_t	 n = 0;

	for (; l != NULL; l = l->next)
		n++;
	return n;
}

/* add_server - the logs of v; none of its own: those of the main. */
static int
add_server(struct accesslog *al, const struct gw_config *cfg,
    const struct gw_vhost *v, char *err, size_t errlen)
{
	struct al_server	*s = &al->servers[al->nservers++];
	const struct gw_strlist	*l;

	s->v = v;
	if (al->nservers > 1 && v->error_log != NULL &&
	    (cfg->error_log == NULL || strcmp(v->error_log, cfg->error_log)
	    != 0)) {
		char	where[300], why[256];

		(void)snprintf(where, sizeof(where), "%s:%d", v->file,
		    v->line);
		if ((s->errlog = open_target(al, v->error_log,
		    keep(al, where, strlen(where)), why, sizeof(why))) ==
		    NULL) {
			(void)snprintf(err, errlen, "ErrorLog %s of the "
			    "virtual host at %s: %s", v->error_log, where,
			    why);
			return -1;
		}
	}
	if (v->custom_logs == NULL && al->nservers > 1) {
		s->logs = al->servers[0].logs;
		s->nlogs = al->servers[0].nlogs;
		return 0;
	}
	s->logs = &al->logs[al->nlogs];
	for (l = v->custom_logs; l != NULL; l = l->next, s->nlogs++)
		if (add_log(al, cfg, l->s, err, errlen) == -1)
			return -1;
	return 0;
}

static int
alloc_set(struct accesslog *al, const struct gw_config *cfg)
{
	const struct gw_vhost	*v;
	size_t			 n = count(cfg->main.custom_logs);

	al->nservers = 1;
	for (v = cfg->vhosts; v != NULL; v = v->next) {
		n += count(v->custom_logs) + 1;	/* + its ErrorLog */
		al->nservers++;
	}
	al->targets = calloc(n + 1, sizeof(*al->targets));
	al->fmts = calloc(n + 1, sizeof(*al->fmts));
	al->fmt_src = calloc(n + 1, sizeof(*al->fmt_src));
	al->logs = calloc(n + 1, sizeof(*al->logs));
	al->servers = calloc(al->nservers, sizeof(*al->servers));
	al->strs = calloc(5 * n + 1, sizeof(*al->strs));	/* keep() */
	al->nservers = 0;
	return al->targets && al->fmts && al->fmt_src && al->logs &&
	    al->servers && al->strs ? 0 : -1;
}

struct accesslog *
accesslog_open(const struct gw_config *cfg, char *err, size_t errlen)
{
	struct accesslog	*al;
	const struct gw_vhost	*v;

	if (gethostname(al_hostname, sizeof(al_hostname)) == -1)
		al_hostname[0] = '\0';
	al_hostname[sizeof(al_hostname) - 1] = '\0';
	if ((al = calloc(1, sizeof(*al))) == NULL || alloc_set(al, cfg) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		accesslog_close(al);
		return NULL;
	}
	if (add_server(al, cfg, &cfg->main, err, errlen) == -1)
		goto fail;
	for (v = cfg->vhosts; v != NULL; v = v->next)
		if (add_server(al, cfg, v, err, errlen) == -1)
			goto fail;
	return al;
fail:
	accesslog_close(al);
	return NULL;
}

void
accesslog_close(struct accesslog *al)
{
	size_t	 i;

	if (al == NULL)
		return;
	if (al == al_cur)
		al_cur = NULL;
	for (i = 0; i < al->ntargets; i++) {
		/* a logger sees EOF once every worker has closed too */
		if (al->targets[i].fd != -1 && close(al->targets[i].fd) == -1)
			log_errno(GW_LOG_WARN, "close access log %s",
			    al->targets[i].spec);
		if (al->targets[i].rfd != -1)
			(void)close(al->targets[i].rfd);
	}
	for (i = 0; i < al->nfmts; i++)
		accesslog_fmt_free(al->fmts[i]);
	for (i = 0; i < al->nstrs; i++)
		free(al->strs[i]);
	free(al->targets);
	free(al->fmts);
	free(al->fmt_src);
	free(al->logs);
	free(al->servers);
	free(al->strs);
	free(al);
}

/*---------------------------------------------------------------------
 * Piped loggers
 */

static void
close_from(int lowfd)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || \
    (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	closefrom(lowfd);
#else
	long	 max = sysconf(_SC_OPEN_MAX);
	int	 fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
#endif
}

/* spawn - start t's logger with the pipe's read end as its stdin. */
static int
spawn(struct al_target *t)
{
	sigset_t	 none;
	pid_t		 pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		(void)sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if (t->rfd == STDIN_FILENO) {
			if (fcntl(t->rfd, F_SETFD, 0) == -1)
				_exit(127);
		} else if (dup2(t->rfd, STDIN_FILENO) == -1)
			_exit(127);
		close_from(STDERR_FILENO + 1);
		(void)signal(SIGPIPE, SIG_DFL);
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGHUP, SIG_IGN);	/* as log.c's loggers */
		(void)signal(SIGUSR1, SIG_IGN);
		(void)signal(SIGWINCH, SIG_IGN);
		execl("/bin/sh", "sh", "-c", t->cmd, (char *)NULL);
		_exit(127);
	}
	t->pid = pid;
	t->spawned = mono_sec();
	return 0;
}

/* start_logger - spawn t's logger now; on failure try again in a second. */
static void
start_logger(struct al_target *t)
{
	if (spawn(t) == 0)
		return;
	log_errno(GW_LOG_ERR, "%s%scannot start piped access log \"%s\"",
	    t->where ? t->where : "", t->where ? ": " : "", t->spec);
	t->respawn_at = mono_sec() + 1;
}

/* died - t's logger is gone: when to start the next one. */
static void
died(struct al_target *t, pid_t pid, int status, int known)
{
	long long	 now = mono_sec();
	char		 how[64];

	if (now - t->spawned < AL_SHORT_LIFE)
		t->backoff = t->backoff == 0 ? 1 :
		    t->backoff * 2 > AL_RESPAWN_MAX ? AL_RESPAWN_MAX :
		    t->backoff * 2;
	else
		t->backoff = 0;
	t->respawn_at = now + t->backoff;
	t->pid = -1;
	if (!known)
		(void)snprintf(how, sizeof(how), "exited");
	else if (WIFSIGNALED(status))
		(void)snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(status));
	else
		(void)snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	log_msg(GW_LOG_WARN, "piped access log \"%s\" (pid %ld) %s; "
	    "restarting it in %d s", t->spec, (long)pid, how, t->backoff);
}

struct accesslog *
accesslog_swap(struct accesslog *al)
{
	struct accesslog	*prev = al_cur;
	size_t			 i;

	al_cur = al;
	for (i = 0; al != NULL && i < al->ntargets; i++)
		if (al->targets[i].is_pipe && al->targets[i].pid == -1 &&
		    al->targets[i].rfd != -1)
			start_logger(&al->targets[i]);
	return prev;
}

void
accesslog_maintain(void)
{
	struct al_target	*t;
	long long		 now = mono_sec();
	size_t			 i;
	pid_t			 r;
	int			 status = 0;

	for (i = 0; al_cur != NULL && i < al_cur->ntargets; i++) {
		t = &al_cur->targets[i];
		if (!t->is_pipe || t->rfd == -1)
			continue;
		if (t->pid > 0) {
			r = waitpid(t->pid, &status, WNOHANG);
			if (r == t->pid)
				died(t, r, status, 1);
			else if (r == -1 && errno == ECHILD)
				died(t, t->pid, 0, 0);	/* reaped elsewhere */
		}
		if (t->pid == -1 && now >= t->respawn_at)
			start_logger(t);
	}
}

int
accesslog_reap(pid_t pid, int status)
{
	struct al_target	*t;
	size_t			 i;

	for (i = 0; al_cur != NULL && i < al_cur->ntargets; i++) {
		t = &al_cur->targets[i];
		if (!t->is_pipe || t->pid != pid || pid <= 0)
			continue;
		died(t, pid, status, 1);
		if (t->backoff == 0)
			start_logger(t);
		return 1;
	}
	return 0;
}

void
accesslog_child(void)
{
	size_t	 i;

	for (i = 0; al_cur != NULL && i < al_cur->ntargets; i++)
		if (al_cur->targets[i].rfd != -1) {
			(void)close(al_cur->targets[i].rfd);
			al_cur->targets[i].rfd = -1;
		}
}

/*---------------------------------------------------------------------
 * Writing lines
 */

/* report - a lost line; said at most once a minute per target. */
static void
report(struct al_target *t, int err)
{
	long long	 now = mono_sec();

	t->dropped++;
	if (t->reported != 0 && now - t->reported < AL_REPORT_SECONDS)
		return;
	errno = err;
	log_errno(GW_LOG_ERR, "access log %s: %lu line(s) lost", t->spec,
	    t->dropped);
	t->reported = now;
	t->dropped = 0;
}

/*
 * write_line - one write(2) of a whole line.  A full pipe gets a
 * second to drain, once; if it stays full, lines are dropped without
 * waiting for AL_STALL_SECONDS so that a stuck logger does not stall
 * every request.
 */
static void
write_line(struct al_target *t, const char *buf, size_t len)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 waited = 0;

	if (t->facility != -1) {
		syslog(t->facility | LOG_INFO, "%.*s", (int)(len - 1), buf);
		return;
	}
	while (len > 0) {
		if ((n = write(t->fd, buf, len)) >= 0) {
			buf += n;	/* a short write: regular files only */
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			report(t, errno);
			return;
		}
		if (waited || mono_sec() < t->stalled_until) {
			if (waited)
				t->stalled_until = mono_sec() +
				    AL_STALL_SECONDS;
			report(t, EAGAIN);
			return;
		}
		pfd.fd = t->fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 1000);
		waited = 1;
	}
}

int
accesslog_error(void *vhost, enum gw_loglevel level, const char *line,
    size_t len, const char *msg)
{
	const struct al_server	*s = NULL;
	size_t			 i;

	if (al_cur == NULL)
		return 0;
	for (i = 1; i < al_cur->nservers; i++)
		if (al_cur->servers[i].v == vhost) {
			s = &al_cur->servers[i];
			break;
		}
	if (s == NULL || s->errlog == NULL)
		return 0;
	if (s->errlog->facility != -1)
		syslog(s->errlog->facility | log_syslog_priority(level), "%s",
		    msg);
	else
		write_line(s->errlog, line, len);
	return 1;
}

/* env_ok - CustomLog's env=name / env=!name for this request. */
static int
env_ok(const struct al_log *lg, const struct gw_logrec *r)
{
	if (lg->env == NULL)
		return 1;
	if (lg->env[0] == '!')
		return env_get(r, lg->env + 1) == NULL;
	return env_get(r, lg->env) != NULL;
}

void
accesslog_request(const struct gw_logrec *r)
{
	const struct al_server		*s;
	const struct al_log		*lg;
	const struct accesslog_fmt	*last = NULL;
	char				 line[ACCESSLOG_LINE_MAX];
	size_t				 i, len = 0, cap, lastcap = 0;

	if (al_cur == NULL || r == NULL)
		return;
	s = &al_cur->servers[0];
	for (i = 1; i < al_cur->nservers; i++)
		if (al_cur->servers[i].v == r->vhost) {
			s = &al_cur->servers[i];
			break;
		}
	for (i = 0; i < s->nlogs; i++) {
		lg = &s->logs[i];
		if (!env_ok(lg, r))
			continue;
		cap = lg->t->is_pipe && AL_PIPE_LINE_MAX + 1 < sizeof(line) ?
		    AL_PIPE_LINE_MAX + 1 : sizeof(line);
		if (lg->fmt != last || cap != lastcap) {
			len = accesslog_format(line, cap, lg->fmt, r);
			last = lg->fmt;
			lastcap = cap;
		}
		write_line(lg->t, line, len);
	}
}
