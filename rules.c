/*
 * rules.c - from a request to a decision (see rules.h).
 *
 * Pure functions over the configuration: no I/O, no allocation: access
 * checks of <Proxy>/<Location> sections, request paths made fit for
 * matching, the choice of virtual host and of ProxyPass rule.  Cache
 * policy arrives with the cache.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

enum verdict { NEUTRAL, GRANTED, DENIED };

/* addr_bytes - the client's address as (family, bytes); v4-mapped -> v4. */
static int
addr_bytes(const struct sockaddr *sa, const unsigned char **b)
{
	const struct sockaddr_in6	*s6;
	static const unsigned char	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		*b = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	*b = s6->sin6_addr.s6_addr;
	if (memcmp(*b, mapped, 12) == 0) {
		*b += 12;
		return AF_INET;
	}
	return AF_INET6;
}

/* host_match - name ends with suffix at a label boundary (Apache). */
static int
host_match(const char *name, const char *suffix)
{
	size_t	ln, ls;

	if (name == NULL)
		return 0;
	if (*suffix == '.')
		suffix++;
	ln = strlen(name);
	ls = strlen(suffix);
	if (ls > ln || strcasecmp(name + ln - ls, suffix) != 0)
		return 0;
	return ln == ls || name[ln - ls - 1] == '.';
}

static int
acl_match(const struct gw_acl *a, const struct sockaddr *sa, const char *host)
{
	const unsigned char	*b = NULL;
	int			 fam, n;

	for (; a != NULL; a = a->next) {
		switch (a->kind) {
		case GW_ACL_ALL:
			return 1;
		case GW_ACL_IP:
			if ((fam = addr_bytes(sa, &b)) != a->family)
				break;
			n = fam == AF_INET ? 4 : 16;
			for (int i = 0; i < n; i++)
				if ((b[i] & a->mask[i]) != a->addr[i])
					goto next;
			return 1;
		case GW_ACL_HOST:
			if (host_match(host, a->name))
				return 1;
			break;
		case GW_ACL_ENV:	/* no request environment yet */
			break;
		}
next:		;
	}
	return 0;
}

static enum verdict
require_eval(const struct gw_require *r, enum gw_req_kind container,
    const struct sockaddr *sa, const char *host)
{
	enum verdict	v, out = NEUTRAL;
	int		granted = 0, denied = 0;

	for (; r != NULL; r = r->next) {
		switch (r->kind) {
		case GW_REQ_ALL_GRANTED:
			v = GRANTED;
			break;
		case GW_REQ_ALL_DENIED:
			v = DENIED;
			break;
		case GW_REQ_IP:
		case GW_REQ_HOST:
			v = acl_match(r->acl, sa, host) ? GRANTED : DENIED;
			if (r->negate)
				v = v == GRANTED ? DENIED : NEUTRAL;
			break;
		default:
			v = require_eval(r->child, r->kind, sa, host);
			break;
		}
		granted |= v == GRANTED;
		denied |= v == DENIED;
	}
	switch (container) {
	case GW_REQ_ALL:
		out = denied ? DENIED : granted ? GRANTED : NEUTRAL;
		break;
	case GW_REQ_NONE:
		out = granted ? DENIED : NEUTRAL;
		break;
	default:	/* ANY */
		out = granted ? GRANTED : denied ? DENIED : NEUTRAL;
		break;
	}
	return out;
}

static int
acl_has_host(const struct gw_acl *a)
{
	for (; a != NULL; a = a->next)
		if (a->kind == GW_ACL_HOST)
			return 1;
	return 0;
}

static int
require_has_host(const struct gw_require *r)
{
	for (; r != NULL; r = r->next)
		if ((r->kind == GW_REQ_HOST && acl_has_host(r->acl)) ||
		    require_has_host(r->child))
			return 1;
	return 0;
}

int
rules_access_needs_host(const struct gw_access *ac)
{
	if (ac->style == 24)
		return require_has_host(ac->require);
	return ac->style == 22 && (acl_has_host(ac->allow) ||
	    acl_has_host(ac->deny));
}

int
rules_access(const struct gw_access *ac, const struct sockaddr *sa,
    const char *host)
{
	int	allow, deny;

	if (ac->style == 24)
		return require_eval(ac->require, GW_REQ_ANY, sa, host) ==
		    GRANTED;
	if (ac->style != 22)
		return 1;
	allow = acl_match(ac->allow, sa, host);
	deny = acl_match(ac->deny, sa, host);
	switch (ac->order) {
	case GW_ORDER_ALLOW_DENY:
	case GW_ORDER_MUTUAL_FAILURE:
		return allow && !deny;
	default:	/* Deny,Allow, Apache's default */
		return allow || !deny;
	}
}

/*---------------------------------------------------------------------
 * Paths
 */

static int
hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * decode - %XX into bytes.  %2F: refused (0, Apache's default), decoded
 * (1, On) or kept encoded (2, NoDecode, which keeps %25 encoded too).
 */
static int
decode(const char *in, size_t len, int allow_slashes, char *out,
    size_t outlen, size_t *n)
{
	size_t	i, o = 0;
	int	h, l, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len)
				return 400;
			h = hexdigit((unsigned char)in[i + 1]);
			l = hexdigit((unsigned char)in[i + 2]);
			if (h < 0 || l < 0)
				return 400;
			c = h * 16 + l;
			if (c == 0)
				return 400;
			if (c == '/' && allow_slashes == 1)
				;	/* On: decoded like any other */
			else if (c == '/' || (c == '%' && allow_slashes == 2)) {
				/*
				 * NoDecode keeps %2F, and %25 with it, so
				 * that every '%' left in the path starts an
				 * escape and the path can be sent on as is.
				 */
				if (c == '/' && !allow_slashes)
					return 404;
				if (o + 3 > outlen)
					return 414;
				memcpy(out + o, in + i, 3);
				o += 3;
				i += 2;
				continue;
			}
			i += 2;
		}
		if (o + 1 > outlen)
			return 414;
		out[o++] = (char)c;
	}
	*n = o;
	return 0;
}

/*
 * remove_dots - RFC 3986 5.2.4 over buf[0..n), in place, for a path that
 * starts with '/'.  A ".." above the root is an error (400) rather than
 * silently dropped, so "/app/../../etc" is refused, not rewritten.
 */
static int
remove_dots(char *buf, size_t *n)
{
	size_t	r = 0, w = 0, len = *n, seg;

	while (r < len) {
		/* buf[r] == '/' here */
		seg = r + 1;
		while (seg < len && buf[seg] != '/')
			seg++;
		if (seg - r == 2 && buf[r + 1] == '.') {
			r = seg;
			if (r == len)
				buf[w++] = '/';
			continue;
		}
		if (seg - r == 3 && buf[r + 1] == '.' && buf[r + 2] == '.') {
			if (w == 0)
				return 400;
			while (w > 0 && buf[--w] != '/')
				;
			r = seg;
			if (r == len)
				buf[w++] = '/';
			continue;
		}
		memmove(buf + w, buf + r, seg - r);
		w += seg - r;
		r = seg;
	}
	if (w == 0)
		buf[w++] = '/';
	*n = w;
	return 0;
}

int
rules_path(const char *path, size_t len, int allow_slashes, char *out,
    size_t outlen)
{
	size_t	n;
	int	r;

	if (len == 0 || path[0] != '/')
		return 400;
	if (outlen == 0)
		return 414;
	if ((r = decode(path, len, allow_slashes, out, outlen - 1, &n)) != 0)
		return r;
	if ((r = remove_dots(out, &n)) != 0)
		return r;
	out[n] = '\0';
	return 0;
}

/*---------------------------------------------------------------------
 * Virtual hosts
 */

static int
wildmatch(const char *pat, const char *s, size_t n)
{
	if (*pat == '\0')
		return n == 0;
	if (*pat == '*') {
		for (size_t i = 0; i <= n; i++)
			if (wildmatch(pat + 1, s + i, n - i))
				return 1;
		return 0;
	}
	if (n == 0)
		return 0;
	if (*pat != '?' && tolower((unsigned char)*pat) !=
	    tolower((unsigned char)*s))
		return 0;
	return wildmatch(pat + 1, s + 1, n - 1);
}

/* name_of - ServerName without scheme or port. */
static int
name_match(const char *server_name, const char *h, size_t n)
{
	const char	*s = server_name, *e;

	if (s == NULL)
		return 0;
	if ((e = strstr(s, "://")) != NULL)
		s = e + 3;
	e = s[0] == '[' ? strchr(s, ']') : NULL;
	e = strchr(e ? e : s, ':');
	if (e == NULL)
		e = s + strlen(s);
	return (size_t)(e - s) == n && strncasecmp(s, h, n) == 0;
}

static int
port_of(const struct sockaddr *sa)
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	return -1;
}

/* addr_match - 2: exact IP and port, 1: wildcard address, 0: no. */
static int
addr_match(const struct gw_vaddr *va, const struct sockaddr *local)
{
	const unsigned char	*b;
	unsigned char		 want[16];
	int			 fam, port = port_of(local);

	if (strcmp(va->port, "*") != 0 && atoi(va->port) != port)
		return 0;
	if (strcmp(va->host, "*") == 0 || strcmp(va->host, "_default_") == 0)
		return 1;
	if ((fam = addr_bytes(local, &b)) == 0)
		return 0;
	if (fam == AF_INET && inet_pton(AF_INET, va->host, want) == 1)
		return memcmp(b, want, 4) == 0 ? 2 : 0;
	if (fam == AF_INET6 && inet_pton(AF_INET6, va->host, want) == 1)
		return memcmp(b, want, 16) == 0 ? 2 : 0;
	return 0;		/* a name: resolved at startup, later */
}

static int
vhost_addr(const struct gw_vhost *v, const struct sockaddr *local)
{
	const struct gw_vaddr	*va;
	int			 best = 0, m;

	for (va = v->addrs; va != NULL; va = va->next)
		if ((m = addr_match(va, local)) > best)
			best = m;
	return best;
}

static int
vhost_name(const struct gw_vhost *v, const char *h, size_t n)
{
	const struct gw_strlist *a;

	if (name_match(v->server_name, h, n))
		return 1;
	for (a = v->aliases; a != NULL; a = a->next)
		if (wildmatch(a->s, h, n))
			return 1;
	return 0;
}

const struct gw_vhost *
rules_vhost(const struct gw_config *c, const struct sockaddr *local,
    const char *host, size_t n)
{
	const struct gw_vhost	*v, *first = NULL;
	int			 level = 0, m;
	size_t			 i;

	/* the best address match level among all vhosts: exact, then * */
	for (v = c->vhosts; v != NULL; v = v->next)
		if ((m = vhost_addr(v, local)) > level)
			level = m;
	if (level == 0)
		return &c->main;
	/* Host without port and trailing dot */
	if (host != NULL) {
		if (n > 0 && host[0] == '[') {
			for (i = 0; i < n && host[i] != ']'; i++)
				;
			n = i < n ? i + 1 : n;
		} else {
			for (i = 0; i < n && host[i] != ':'; i++)
				;
			n = i;
		}
		if (n > 0 && host[n - 1] == '.')
			n--;
	}
	for (v = c->vhosts; v != NULL; v = v->next) {
		if (vhost_addr(v, local) != level)
			continue;
		if (first == NULL)
			first = v;
		if (host != NULL && n > 0 && vhost_name(v, host, n))
			return v;
	}
	return first;
}

/*---------------------------------------------------------------------
 * ProxyPass
 */

size_t
rules_prefix(const char *alias, const char *path)
{
	const char	*a = alias, *p = path;

	while (*a != '\0') {
		if (*a == '/') {
			if (*p != '/')
				return 0;
			while (*a == '/')
				a++;
			while (*p == '/')
				p++;
			continue;
		}
		if (*a++ != *p++)
			return 0;
	}
	/* the alias must end at a segment boundary of the path */
	if (a > alias && a[-1] != '/' && *p != '\0' && *p != '/')
		return 0;
	return (size_t)(p - path);
}

static const struct gw_proxypass *
match_list(const struct gw_proxypass *pp, const char *path, size_t *n)
{
	for (; pp != NULL; pp = pp->next)
		if ((*n = rules_prefix(pp->path, path)) > 0)
			return pp;
	return NULL;
}

static const struct gw_proxypass *
match_locations(const struct gw_vhost *v, const char *path, size_t *n)
{
	const struct gw_dir *d;

	for (d = v->dirs; d != NULL; d = d->next)
		if (d->kind == GW_DIR_LOCATION && d->proxypass != NULL &&
		    !d->is_regex && (*n = rules_prefix(d->match, path)) > 0)
			return d->proxypass;
	return NULL;
}

int
rules_proxypass(const struct gw_config *c, const struct gw_vhost *v,
    const char *path, struct rules_route *r)
{
	const struct gw_proxypass	*pp = NULL;
	size_t				 n = 0;

	if (v != &c->main)
		pp = match_locations(v, path, &n);
	if (pp == NULL)
		pp = match_locations(&c->main, path, &n);
	if (pp == NULL)
		pp = match_list(c->main.proxypass, path, &n);
	if (pp == NULL && v != &c->main)
		pp = match_list(v->proxypass, path, &n);
	r->pp = pp;
	r->matched = pp != NULL ? n : 0;
	return pp != NULL;
}
