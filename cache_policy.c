/*
 * cache_policy.c - HTTP caching rules as pure functions (see
 * cache_policy.h): what RFC 9111 and Apache's mod_cache say about keys,
 * storing, freshness, Vary, validation and invalidation.
 *
 * It owns no state and does no I/O: the proxy engine asks, cache_db.c
 * and the stores keep what it decides.  Where Apache and RFC 9111 part,
 * the choice and its reason are written at the spot ("Apache:").
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "cache_policy.h"
#include "rules.h"

void
cache_policy_conf_init(struct cp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->default_expire = 3600;
	c->max_expire = 86400;
	c->min_expire = 0;
	c->lm_factor = 0.1;
	c->stale_on_error = 1;
	c->cdn_cache_control = 1;
	c->lock_max_age = 5;
	c->min_file_size = 1;
	c->max_file_size = 1000000;
}

#define KNOB(to, from, unset)	do {				\
		if (k->from != (unset))				\
			c->to = k->from;			\
	} while (0)

void
cache_policy_conf_vhost(struct cp_conf *c, const struct gw_vhost *v)
{
	cache_policy_conf_init(c);
	if (v != NULL)
		cache_policy_conf_apply(c, &v->cache_conf);
}

void
cache_policy_conf_apply(struct cp_conf *c, const struct gw_cache_conf *k)
{
	KNOB(default_expire, default_expire, GW_UNSET);
	KNOB(max_expire, max_expire, GW_UNSET);
	KNOB(min_expire, min_expire, GW_UNSET);
	if (k->last_modified_factor >= 0)
		c->lm_factor = k->last_modified_factor;
	KNOB(ignore_cache_control, ignore_cache_control, GW_UNSET);
	KNOB(ignore_no_last_mod, ignore_no_last_mod, GW_UNSET);
	KNOB(ignore_query_string, ignore_query_string, GW_UNSET);
	if (k->ignore_headers_set != GW_UNSET)
		c->ignore_headers = k->ignore_headers;
	KNOB(store_no_store, store_no_store, GW_UNSET);
	KNOB(store_private, store_private, GW_UNSET);
	KNOB(store_expired, store_expired, GW_UNSET);
	KNOB(stale_on_error, stale_on_error, GW_UNSET);
	if (k->min_file_size >= 0)
		c->min_file_size = (uint64_t)k->min_file_size;
	if (k->max_file_size >= 0)
		c->max_file_size = (uint64_t)k->max_file_size;
	KNOB(lock, lock, GW_UNSET);
	KNOB(lock_max_age, lock_max_age, GW_UNSET);
	if (k->ignore_url_session_identifiers_set != GW_UNSET)
		c->ignore_url_session_identifiers =
		    k->ignore_url_session_identifiers;
	KNOB(key_base_url, key_base_url, NULL);
}

#undef KNOB

/*---------------------------------------------------------------------
 * Small helpers: slices, lists, an output sink
 */

static int
ows(int c)
{
	return c == ' ' || c == '\t';
}

static int
caseeq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && strncasecmp(a, b, an) == 0;
}

static int
slice_caseeq(struct http_slice a, struct http_slice b)
{
	return caseeq(a.p, a.n, b.p, b.n);
}

/* slice_casecmp - order of two slices, ignoring case. */
static int
slice_casecmp(struct http_slice a, struct http_slice b)
{
	size_t	i;
	int	ca, cb;

	for (i = 0; i < a.n && i < b.n; i++) {
		ca = tolower((unsigned char)a.p[i]);
		cb = tolower((unsigned char)b.p[i]);
		if (ca != cb)
			return ca - cb;
	}
	return a.n == b.n ? 0 : (a.n < b.n ? -1 : 1);
}

static struct http_slice
slice(const char *p, size_t n)
{
	struct http_slice s;

	s.p = p;
	s.n = n;
	return s;
}

static struct http_slice
trim(struct http_slice s)
{
	while (s.n > 0 && ows(*s.p)) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && ows(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* skip_quoted - p is at a '"': the position after the closing quote. */
static const char *
skip_quoted(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\' && p + 1 < end)
			p++;
	return p < end ? p + 1 : end;
}

/*
 * list_next - the next non-empty member of a comma list (RFC 9110
 * 5.6.1), commas inside quoted strings kept; OWS trimmed.  0 at the end.
 */
static int
list_next(struct http_slice *s, struct http_slice *m)
{
	const char	*p = s->p, *end = s->p + s->n, *start;

	for (;;) {
		while (p < end && (ows(*p) || *p == ','))
			p++;
		if (p == end) {
			s->p = end;
			s->n = 0;
			return 0;
		}
		start = p;
		while (p < end && *p != ',')
			p = *p == '"' ? skip_quoted(p, end) : p + 1;
		*m = trim(slice(start, (size_t)(p - start)));
		s->p = p;
		s->n = (size_t)(end - p);
		if (m->n > 0)
			return 1;
	}
}

/* only_header - index of the single field called name; -1 none, -2 many */
static int
only_header(const struct http_msg *m, const char *name)
{
	int	i = http_find(m, name, 0);

	if (i >= 0 && http_find(m, name, i + 1) >= 0)
		return -2;
	return i;
}

/*
 * A sink writes into a buffer (always leaving room for a NUL), or, with
 * cmp set, compares what would be written with cmp.
 */
struct sink {
	char		*buf;
	size_t		 len;
	size_t		 off;
	const char	*cmp;
	size_t		 cmplen;
	int		 bad;
};

static void
sink_put(struct sink *s, const char *p, size_t n)
{
	if (s->bad || n == 0)
		return;
	if (s->cmp != NULL) {
		if (n > s->cmplen - s->off || memcmp(s->cmp + s->off, p, n))
			s->bad = 1;
		else
			s->off += n;
		return;
	}
	if (s->len == 0 || n > s->len - 1 - s->off) {
		s->bad = 1;
		return;
	}
	memcpy(s->buf + s->off, p, n);
	s->off += n;
}

static void
sink_str(struct sink *s, const char *p)
{
	sink_put(s, p, strlen(p));
}

static void
sink_lower(struct sink *s, const char *p, size_t n)
{
	char	c;

	for (size_t i = 0; i < n; i++) {
		c = (char)tolower((unsigned char)p[i]);
		sink_put(s, &c, 1);
	}
}

/* sink_end - the length written, or -1; the buffer is NUL-terminated. */
static int
sink_end(struct sink *s)
{
	if (s->len > 0)
		s->buf[s->bad ? 0 : s->off] = '\0';
	if (s->bad || s->off > (size_t)INT32_MAX)
		return -1;
	return (int)s->off;
}

static void
sink_init(struct sink *s, char *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->len = len;
}

/*---------------------------------------------------------------------
 * Keys and Apache's hashed names
 */

int
cache_policy_key(char *buf, size_t len, const char *scheme, const char *host,
    unsigned port, const char *target, size_t tlen, int ignore_query)
{
	struct sink	 s;
	const char	*q;
	size_t		 plen;
	char		 pbuf[16];

	sink_init(&s, buf, len);
	q = memchr(target, '?', tlen);
	plen = q != NULL ? (size_t)(q - target) : tlen;
	sink_lower(&s, scheme, strlen(scheme));
	sink_str(&s, "://");
	sink_lower(&s, host, strlen(host));
	if (port != 0) {
		(void)snprintf(pbuf, sizeof(pbuf), ":%u", port);
		sink_str(&s, pbuf);
	}
	sink_put(&s, target, plen);
	sink_put(&s, "?", 1);
	if (q != NULL && !ignore_query)
		sink_put(&s, q + 1, tlen - plen - 1);
	return sink_end(&s);
}

/* session_id - is p[0..n) "<id>=..." for one of ids?  Its id length. */
static size_t
session_id(const char *p, size_t n, const struct gw_strlist *ids)
{
	size_t	l;

	for (; ids != NULL; ids = ids->next) {
		l = strlen(ids->s);
		if (l > 0 && l < n && memcmp(p, ids->s, l) == 0 && p[l] == '=')
			return l;
	}
	return 0;
}

int
cache_policy_strip_session(const char *target, size_t tlen,
    const struct gw_strlist *ids, char *out, size_t outlen)
{
	struct sink	 s;
	const char	*q = memchr(target, '?', tlen), *p, *e, *end;
	size_t		 plen = q != NULL ? (size_t)(q - target) : tlen;
	int		 first = 1;

	sink_init(&s, out, outlen);
	/* the path: ";id=value" parameters go, up to a ';' or '/' */
	for (p = target, end = target + plen; p < end; p = e) {
		e = p + 1;
		while (e < end && *e != ';' && *e != '/')
			e++;
		if (*p == ';' && session_id(p + 1, (size_t)(e - p - 1), ids))
			continue;
		sink_put(&s, p, (size_t)(e - p));
	}
	if (q == NULL)
		return sink_end(&s);
	sink_put(&s, "?", 1);
	/* the query: "id=value" members go, with their '&' */
	for (p = q + 1, end = target + tlen; p <= end; p = e + 1) {
		e = memchr(p, '&', (size_t)(end - p));
		if (e == NULL)
			e = end;
		if (session_id(p, (size_t)(e - p), ids))
			continue;
		if (!first)
			sink_put(&s, "&", 1);
		sink_put(&s, p, (size_t)(e - p));
		first = 0;
	}
	return sink_end(&s);
}

/* Apache's alphabet for the hash, in its order (cache_util.c). */
static const char enc_table[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@";

int
cache_policy_hash(const char *key, size_t keylen, char out[CP_HASH_LEN + 1])
{
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 dn = 0, x;
	int		 i, k = 0;

	if (EVP_Digest(key, keylen, d, &dn, EVP_md5(), NULL) != 1 ||
	    dn != 16)
		return -1;
	/* 5 x (3 bytes -> 4 characters), then the last byte -> 2 */
	for (i = 0; i < 15; i += 3) {
		x = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
		out[k++] = enc_table[x >> 18];
		out[k++] = enc_table[(x >> 12) & 0x3f];
		out[k++] = enc_table[(x >> 6) & 0x3f];
		out[k++] = enc_table[x & 0x3f];
	}
	out[k++] = enc_table[d[15] >> 2];
	out[k++] = enc_table[(d[15] << 4) & 0x3f];
	out[k] = '\0';
	return 0;
}

int
cache_policy_hash_path(const char *key, size_t keylen, int levels,
    int length, char *buf, size_t len)
{
	char	h[CP_HASH_LEN + 1];
	size_t	o = 0, k = 0;

	if (levels < 0 || (levels > 0 && length < 1) ||
	    (levels > 0 && length > 20) || levels * length > 20 ||
	    len < (size_t)(CP_HASH_LEN + levels + 1))
		return -1;
	if (cache_policy_hash(key, keylen, h) != 0)
		return -1;
	for (int l = 0; l < levels; l++) {
		memcpy(buf + o, h + k, (size_t)length);
		o += (size_t)length;
		k += (size_t)length;
		buf[o++] = '/';
	}
	memcpy(buf + o, h + k, CP_HASH_LEN - k);
	o += CP_HASH_LEN - k;
	buf[o] = '\0';
	return (int)o;
}

/*---------------------------------------------------------------------
 * CacheEnable / CacheDisable
 */

/* A URL as apr_uri_parse would split it; NULL parts are absent. */
struct url {
	struct http_slice	 scheme;	/* p NULL: none */
	struct http_slice	 host;		/* p NULL: none */
	struct http_slice	 port;		/* p NULL: none; n 0: "host:" */
	struct http_slice	 path;		/* p NULL: none */
};

static unsigned
default_port(struct http_slice scheme)
{
	static const struct {
		const char	*name;
		unsigned	 port;
	} ports[] = {
		{ "http", 80 }, { "https", 443 }, { "ftp", 21 },
		{ "ws", 80 }, { "wss", 443 }, { "gopher", 70 },
		{ "nntp", 119 }, { "snews", 563 },
	};

	if (scheme.p == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (caseeq(scheme.p, scheme.n, ports[i].name,
		    strlen(ports[i].name)))
			return ports[i].port;
	return 0;
}

static unsigned
port_value(struct http_slice p)
{
	unsigned long	v = 0;

	for (size_t i = 0; i < p.n; i++) {
		if (!isdigit((unsigned char)p.p[i]) || v > 65535)
			return 0;
		v = v * 10 + (unsigned long)(p.p[i] - '0');
	}
	return v > 65535 ? 0 : (unsigned)v;
}

/* parse_authority - [userinfo@]host[:port]; -1 with userinfo. */
static int
parse_authority(const char *p, const char *end, struct url *u)
{
	const char	*h = p, *c;

	if (memchr(p, '@', (size_t)(end - p)) != NULL)
		return -1;
	if (p < end && *p == '[') {
		c = memchr(p, ']', (size_t)(end - p));
		if (c == NULL)
			return -1;
		u->host = slice(p + 1, (size_t)(c - p - 1));
		h = c + 1;
	} else {
		for (c = p; c < end && *c != ':'; c++)
			;
		u->host = slice(p, (size_t)(c - p));
		h = c;
	}
	if (h < end && *h == ':')
		u->port = slice(h + 1, (size_t)(end - h - 1));
	else if (h != end)
		return -1;
	return 0;
}

/* url_parse - a CacheEnable/CacheDisable url-string: /path or scheme://. */
static int
url_parse(const char *s, struct url *u)
{
	const char	*p, *a, *end = s + strlen(s);

	memset(u, 0, sizeof(*u));
	end = s + strcspn(s, "?#");		/* the path, as apr's */
	if (*s == '/') {
		u->path = slice(s, (size_t)(end - s));
		return 0;
	}
	for (p = s; p < end && (isalnum((unsigned char)*p) || *p == '+' ||
	    *p == '-' || *p == '.'); p++)
		;
	if (p == s || p == end || *p != ':')
		return -1;
	u->scheme = slice(s, (size_t)(p - s));
	p++;
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
		for (a = p; a < end && *a != '/' && *a != '?'; a++)
			;
		if (parse_authority(p, a, u) != 0)
			return -1;
		p = a;
	}
	if (p < end)
		u->path = slice(p, (size_t)(end - p));
	return 0;
}

/*
 * host_meets - Apache: an empty filter host takes any; ".x" and "*x"
 * match the end of the host ("." included); else the same host.
 */
static int
host_meets(struct http_slice f, const char *host)
{
	size_t	hl = host != NULL ? strlen(host) : 0;

	if (f.p == NULL || f.n == 0)
		return 1;
	if (f.p[0] == '*') {
		f.p++;
		f.n--;
	} else if (f.p[0] != '.')
		return host != NULL && caseeq(f.p, f.n, host, hl);
	if (host == NULL)
		return f.n == 0;
	return f.n <= hl && caseeq(f.p, f.n, host + hl - f.n, f.n);
}

/*
 * url_meets - Apache's uri_meets_conditions: a path filter takes only
 * local/reverse requests, a scheme://host filter only forward-proxy ones
 * (scheme, host, port, then a plain strncmp prefix of the path).
 */
static int
url_meets(const char *filter, const char *scheme, const char *host,
    unsigned port, const char *path)
{
	struct url	 f;
	struct http_slice fpath, rs;
	unsigned	 fport;

	if (url_parse(filter, &f) != 0)
		return 0;
	if (f.scheme.p == NULL) {
		if (scheme != NULL || host != NULL)
			return 0;
	} else {
		if (scheme == NULL || !caseeq(f.scheme.p, f.scheme.n, scheme,
		    strlen(scheme)))
			return 0;
		if (!host_meets(f.host, host))
			return 0;
		rs = slice(scheme, strlen(scheme));
		if (!(f.port.p != NULL && f.port.n == 0)) {
			fport = f.port.p != NULL ? port_value(f.port) :
			    default_port(f.scheme);
			if (fport != (port != 0 ? port : default_port(rs)))
				return 0;
		}
	}
	fpath = f.path.p != NULL ? f.path : slice("/", 1);
	if (path == NULL)
		return fpath.n == 1 && fpath.p[0] == '/';
	return strncmp(fpath.p, path, fpath.n) == 0;
}

static int
add_type(enum gw_cache_type *types, int n, enum gw_cache_type t)
{
	for (int i = 0; i < n; i++)
		if (types[i] == t)
			return n;
	if (n < 2)
		types[n++] = t;
	return n;
}

/*
 * location_rules - the cache rules of the <Location>s of v that take
 * path.  Apache: "CacheDisable on" in one disables; a CacheEnable in one
 * applies without looking at its URL.  A CacheDisable with another URL
 * (which Apache refuses in <Location>) also needs that URL to match.
 * XXX <LocationMatch> sections are skipped, as in rules.c.
 */
static int
location_rules(const struct gw_vhost *v, const char *path, int enable,
    enum gw_cache_type *types, int n)
{
	const struct gw_dir		*d;
	const struct gw_cache_rule	*r;

	for (d = v->dirs; d != NULL; d = d->next) {
		if (d->kind != GW_DIR_LOCATION || d->is_regex ||
		    rules_prefix(d->match, path) == 0)
			continue;
		for (r = d->cache; r != NULL; r = r->next) {
			if (enable && r->enable)
				n = add_type(types, n, r->type);
			else if (!enable && !r->enable &&
			    (strcmp(r->url, d->match) == 0 ||
			    url_meets(r->url, NULL, NULL, 0, path)))
				return -1;
		}
	}
	return n;
}

static int
list_rules(const struct gw_cache_rule *r, int enable, const char *scheme,
    const char *host, unsigned port, const char *path,
    enum gw_cache_type *types, int n)
{
	for (; r != NULL; r = r->next) {
		if (r->enable != enable ||
		    !url_meets(r->url, scheme, host, port, path))
			continue;
		if (!enable)
			return -1;
		n = add_type(types, n, r->type);
	}
	return n;
}

/*
 * Apache's order (cache_get_providers): the <Location> "CacheDisable on",
 * then every server CacheDisable (the main server's, then the vhost's:
 * Apache appends a vhost's lists to the main server's); the first that
 * matches wins.  Then the <Location> CacheEnables, then the server ones.
 * <Location> sections apply to local and reverse-proxied requests only.
 */
int
cache_policy_enabled(const struct gw_config *c, const struct gw_vhost *v,
    const char *scheme, const char *host, unsigned port, const char *path,
    enum gw_cache_type types[2])
{
	const struct gw_vhost	*vs[2];
	int			 nv = 0, n = 0, i;
	int			 local = scheme == NULL && path != NULL;

	vs[nv++] = &c->main;
	if (v != NULL && v != &c->main)
		vs[nv++] = v;
	for (i = 0; i < nv; i++)
		if (local && location_rules(vs[i], path, 0, NULL, 0) < 0)
			return 0;
	for (i = 0; i < nv; i++)
		if (list_rules(vs[i]->cache, 0, scheme, host, port, path,
		    NULL, 0) < 0)
			return 0;
	for (i = 0; i < nv && local; i++)
		n = location_rules(vs[i], path, 1, types, n);
	for (i = 0; i < nv; i++)
		n = list_rules(vs[i]->cache, 1, scheme, host, port, path,
		    types, n);
	return n;
}

/*---------------------------------------------------------------------
 * Cache-Control
 */

/* One element of a Cache-Control list. */
struct cc_elem {
	struct http_slice	 name;
	struct http_slice	 value;
	int			 has_value;
	int			 quoted;
	int			 bad;		/* malformed after the name */
};

/*
 * cc_next - the next directive of a Cache-Control value at *pp:
 * token [ "=" ( token / quoted-string ) ], then OWS and ',' or the end.
 * Anything else marks the element bad and is skipped to the next comma.
 */
static int
cc_next(const char **pp, const char *end, struct cc_elem *e)
{
	const char	*p = *pp;

	memset(e, 0, sizeof(*e));
	while (p < end && (ows(*p) || *p == ','))
		p++;
	if (p == end)
		return 0;
	e->name.p = p;
	while (p < end && http_is_tchar((unsigned char)*p))
		p++;
	e->name.n = (size_t)(p - e->name.p);
	if (p < end && *p == '=') {
		e->has_value = 1;
		if (++p < end && *p == '"') {
			e->quoted = 1;
			e->value.p = ++p;
			while (p < end && *p != '"')
				p += *p == '\\' && p + 1 < end ? 2 : 1;
			e->value.n = (size_t)(p - e->value.p);
			if (p < end)
				p++;
			else
				e->bad = 1;	/* unterminated */
		} else {
			e->value.p = p;
			while (p < end && http_is_tchar((unsigned char)*p))
				p++;
			e->value.n = (size_t)(p - e->value.p);
		}
	}
	while (p < end && ows(*p))
		p++;
	if (p < end && *p != ',') {
		e->bad = 1;
		while (p < end && *p != ',')
			p = *p == '"' ? skip_quoted(p, end) : p + 1;
	}
	*pp = p;
	return 1;
}

/* delta - delta-seconds (1*DIGIT) saturated at 2^31; -1 when invalid. */
static int64_t
delta(struct http_slice v)
{
	int64_t	d = 0;

	if (v.n == 0)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		d = d * 10 + (v.p[i] - '0');
		if (d > CP_DELTA_MAX)
			d = CP_DELTA_MAX;
	}
	return d;
}

enum cc_kind { CC_FLAG, CC_PERMIT, CC_DELTA, CC_OPT_DELTA, CC_FIELDS };
enum cc_invalid { INV_ZERO, INV_MAX, INV_IGNORE };

static const struct cc_directive {
	const char	*name;
	enum cc_kind	 kind;
	unsigned	 flag;		/* CC_FIELDS: unqualified */
	unsigned	 flag2;		/* CC_FIELDS: qualified */
	size_t		 off;		/* deltas */
	enum cc_invalid	 invalid;
} cc_directives[] = {
	{ "max-age", CC_DELTA, 0, 0, offsetof(struct cp_cc, max_age),
	    INV_ZERO },
	{ "s-maxage", CC_DELTA, 0, 0, offsetof(struct cp_cc, s_maxage),
	    INV_ZERO },
	{ "min-fresh", CC_DELTA, 0, 0, offsetof(struct cp_cc, min_fresh),
	    INV_MAX },
	{ "max-stale", CC_OPT_DELTA, CP_CC_MAX_STALE, 0,
	    offsetof(struct cp_cc, max_stale), INV_IGNORE },
	{ "stale-while-revalidate", CC_DELTA, 0, 0,
	    offsetof(struct cp_cc, swr), INV_IGNORE },
	{ "stale-if-error", CC_DELTA, 0, 0, offsetof(struct cp_cc, sie),
	    INV_IGNORE },
	{ "no-cache", CC_FIELDS, CP_CC_NO_CACHE, CP_CC_NO_CACHE_FIELDS, 0, 0 },
	{ "private", CC_FIELDS, CP_CC_PRIVATE, CP_CC_PRIVATE_FIELDS, 0, 0 },
	{ "no-store", CC_FLAG, CP_CC_NO_STORE, 0, 0, 0 },
	{ "must-revalidate", CC_FLAG, CP_CC_MUST_REVALIDATE, 0, 0, 0 },
	{ "proxy-revalidate", CC_FLAG, CP_CC_PROXY_REVALIDATE, 0, 0, 0 },
	{ "no-transform", CC_FLAG, CP_CC_NO_TRANSFORM, 0, 0, 0 },
	{ "only-if-cached", CC_FLAG, CP_CC_ONLY_IF_CACHED, 0, 0, 0 },
	{ "public", CC_PERMIT, CP_CC_PUBLIC, 0, 0, 0 },
	{ "must-understand", CC_PERMIT, CP_CC_MUST_UNDERSTAND, 0, 0, 0 },
	{ "immutable", CC_PERMIT, CP_CC_IMMUTABLE, 0, 0, 0 },
};

void
cache_policy_cc_init(struct cp_cc *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh =
	    cc->swr = cc->sie = CP_UNSET;
}

static int64_t *
cc_field(struct cp_cc *cc, const struct cc_directive *d)
{
	return (int64_t *)(void *)((char *)cc + d->off);
}

/* field_list_ok - a no-cache/private argument: a list of field names. */
static int
field_list_ok(struct http_slice v)
{
	struct http_slice	m;
	int			n = 0;

	while (list_next(&v, &m)) {
		for (size_t i = 0; i < m.n; i++)
			if (!http_is_tchar((unsigned char)m.p[i]))
				return 0;
		n++;
	}
	return n > 0;
}

/*
 * cc_delta - a delta directive.  The first occurrence wins (RFC 9111
 * 4.2.1 allows it); an invalid one is stale (max-age, s-maxage), never
 * fresh enough (min-fresh) or ignored (the ones that allow staleness).
 */
static void
cc_delta(struct cp_cc *cc, const struct cc_directive *d,
    const struct cc_elem *e)
{
	int64_t		*f = cc_field(cc, d), v;

	if (*f != CP_UNSET || (d->flag != 0 && (cc->flags & d->flag)))
		return;
	if (d->kind == CC_OPT_DELTA && !e->has_value && !e->bad) {
		cc->flags |= d->flag;
		*f = CP_DELTA_MAX;
		return;
	}
	v = e->bad || !e->has_value ? -1 : delta(e->value);
	if (v >= 0) {
		cc->flags |= d->flag;
		*f = v;
		return;
	}
	cc->flags |= CP_CC_INVALID;
	if (d->invalid == INV_ZERO)
		*f = 0;
	else if (d->invalid == INV_MAX)
		*f = CP_DELTA_MAX;
}

static void
cc_apply(struct cp_cc *cc, const struct cc_elem *e)
{
	const struct cc_directive	*d = NULL;

	for (size_t i = 0; i < sizeof(cc_directives) /
	    sizeof(cc_directives[0]); i++)
		if (caseeq(e->name.p, e->name.n, cc_directives[i].name,
		    strlen(cc_directives[i].name)))
			d = &cc_directives[i];
	if (d == NULL) {
		if (e->name.n == 0 || e->bad)
			cc->flags |= CP_CC_INVALID;
		return;				/* an extension */
	}
	switch (d->kind) {
	case CC_FLAG:		/* restrictive: honoured even malformed */
		cc->flags |= d->flag;
		if (e->has_value || e->bad)
			cc->flags |= CP_CC_INVALID;
		break;
	case CC_PERMIT:		/* permissive: only when well-formed */
		if (e->has_value || e->bad)
			cc->flags |= CP_CC_INVALID;
		else
			cc->flags |= d->flag;
		break;
	case CC_FIELDS:		/* a bad field list counts as unqualified */
		if (!e->has_value)
			cc->flags |= e->bad ? (d->flag | CP_CC_INVALID) :
			    d->flag;
		else if (!e->bad && field_list_ok(e->value))
			cc->flags |= d->flag2;
		else
			cc->flags |= d->flag | CP_CC_INVALID;
		break;
	default:
		cc_delta(cc, d, e);
		break;
	}
}

void
cache_policy_cc_parse(const char *s, size_t n, struct cp_cc *cc)
{
	const char	*p = s, *end = s + n;
	struct cc_elem	 e;

	while (cc_next(&p, end, &e))
		cc_apply(cc, &e);
}

static void
cc_all(const struct http_msg *m, const char *field, struct cp_cc *cc)
{
	for (int i = http_find(m, field, 0); i >= 0;
	    i = http_find(m, field, i + 1))
		cache_policy_cc_parse(m->headers[i].value.p,
		    m->headers[i].value.n, cc);
}

void
cache_policy_cc_request(const struct http_msg *m, struct cp_cc *cc)
{
	struct http_slice	list, t;
	int			i;

	cache_policy_cc_init(cc);
	if (http_find(m, "Cache-Control", 0) >= 0) {
		cc_all(m, "Cache-Control", cc);
		return;
	}
	for (i = http_find(m, "Pragma", 0); i >= 0;
	    i = http_find(m, "Pragma", i + 1)) {
		list = m->headers[i].value;
		while (list_next(&list, &t))
			if (caseeq(t.p, t.n, "no-cache", 8))
				cc->flags |= CP_CC_PRAGMA_NO_CACHE;
	}
}

/*---------------------------------------------------------------------
 * CDN-Cache-Control: a Structured Field Dictionary (RFC 8941, 9213)
 */

enum sf_type { SF_NONE, SF_INT, SF_DEC, SF_STR, SF_TOKEN, SF_BYTES,
	SF_BOOL, SF_LIST };

struct sf_item {
	enum sf_type	 type;
	int64_t		 i;		/* SF_INT (saturated), SF_BOOL */
};

static int
lcalpha(int c)
{
	return c >= 'a' && c <= 'z';
}

static const char *
sf_key(const char *p, const char *end)
{
	if (p == end || !(lcalpha(*p) || *p == '*'))
		return NULL;
	for (p++; p < end && (lcalpha(*p) || isdigit((unsigned char)*p) ||
	    strchr("_-.*", *p) != NULL); p++)
		;
	return p;
}

static const char *
sf_number(const char *p, const char *end, struct sf_item *it)
{
	int	neg = 0, nd = 0, nf = 0;
	int64_t	v = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	for (; p < end && isdigit((unsigned char)*p); p++, nd++)
		if ((v = v * 10 + (*p - '0')) > CP_DELTA_MAX)
			v = CP_DELTA_MAX;
	if (nd == 0 || nd > 15)
		return NULL;
	it->type = SF_INT;
	if (p < end && *p == '.') {
		for (p++; p < end && isdigit((unsigned char)*p); p++)
			nf++;
		if (nd > 12 || nf == 0 || nf > 3)
			return NULL;
		it->type = SF_DEC;
	}
	it->i = neg ? -v : v;
	return p;
}

static const char *
sf_bare(const char *p, const char *end, struct sf_item *it)
{
	memset(it, 0, sizeof(*it));
	if (p == end)
		return NULL;
	if (*p == '-' || isdigit((unsigned char)*p))
		return sf_number(p, end, it);
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && (p + 1 == end ||
			    (p[1] != '"' && p[1] != '\\')))
				return NULL;
			if (*p == '\\')
				p++;
			else if (*p < 0x20 || *p > 0x7e)
				return NULL;
		}
		it->type = SF_STR;
		return p < end ? p + 1 : NULL;
	}
	if (isalpha((unsigned char)*p) || *p == '*') {
		for (p++; p < end && (http_is_tchar((unsigned char)*p) ||
		    *p == ':' || *p == '/'); p++)
			;
		it->type = SF_TOKEN;
		return p;
	}
	if (*p == ':') {
		for (p++; p < end && (isalnum((unsigned char)*p) ||
		    *p == '+' || *p == '/' || *p == '='); p++)
			;
		it->type = SF_BYTES;
		return p < end && *p == ':' ? p + 1 : NULL;
	}
	if (*p == '?' && p + 1 < end && (p[1] == '0' || p[1] == '1')) {
		it->type = SF_BOOL;
		it->i = p[1] == '1';
		return p + 2;
	}
	return NULL;
}

static const char *
sf_params(const char *p, const char *end)
{
	struct sf_item	it;

	while (p < end && *p == ';') {
		for (p++; p < end && *p == ' '; p++)
			;
		if ((p = sf_key(p, end)) == NULL)
			return NULL;
		if (p < end && *p == '=' &&
		    (p = sf_bare(p + 1, end, &it)) == NULL)
			return NULL;
	}
	return p;
}

static const char *
sf_inner_list(const char *p, const char *end)
{
	struct sf_item	it;

	for (p++; p < end; ) {
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p == ')')
			return sf_params(p + 1, end);
		if ((p = sf_bare(p, end, &it)) == NULL ||
		    (p = sf_params(p, end)) == NULL)
			return NULL;
		if (p < end && *p != ' ' && *p != ')')
			return NULL;
	}
	return NULL;
}

/* sf_apply - a member of CDN-Cache-Control; the last duplicate wins. */
static void
sf_apply(struct cp_cc *cc, struct http_slice key, const struct sf_item *it)
{
	const struct cc_directive	*d = NULL;
	int64_t				*f;

	for (size_t i = 0; i < sizeof(cc_directives) /
	    sizeof(cc_directives[0]); i++)
		if (caseeq(key.p, key.n, cc_directives[i].name,
		    strlen(cc_directives[i].name)))
			d = &cc_directives[i];
	if (d == NULL)
		return;
	if (d->kind == CC_DELTA || d->kind == CC_OPT_DELTA) {
		f = cc_field(cc, d);
		if (it->type == SF_INT)
			*f = it->i < 0 ? 0 : it->i;
		else if (d->kind == CC_OPT_DELTA && it->type == SF_BOOL &&
		    it->i)
			*f = CP_DELTA_MAX;
		else
			return;			/* wrong type: ignored */
		cc->flags |= d->flag;
		return;
	}
	if (it->type == SF_BOOL && it->i)
		cc->flags |= d->flag;
	else if (d->kind != CC_PERMIT && !(it->type == SF_BOOL))
		cc->flags |= d->flag;		/* restrictive: honoured */
}

/* sf_dict - one line of a Dictionary into cc; members, or -1 invalid. */
static int
sf_dict(const char *p, size_t n, struct cp_cc *cc)
{
	const char	*end = p + n, *k, *ks;
	struct sf_item	 it;
	int		 members = 0;

	while (p < end && *p == ' ')
		p++;
	while (p < end) {
		ks = p;
		if ((k = sf_key(p, end)) == NULL)
			return -1;
		it.type = SF_BOOL;
		it.i = 1;
		if (k < end && *k == '=') {
			if (k + 1 < end && k[1] == '(') {
				it.type = SF_LIST;
				p = sf_inner_list(k + 1, end);
			} else
				p = sf_bare(k + 1, end, &it);
			if (p == NULL)
				return -1;
		} else
			p = k;
		if ((p = sf_params(p, end)) == NULL)
			return -1;
		sf_apply(cc, slice(ks, (size_t)(k - ks)), &it);
		members++;
		while (p < end && ows(*p))
			p++;
		if (p == end)
			break;
		if (*p != ',')
			return -1;
		for (p++; p < end && ows(*p); p++)
			;
		if (p == end)
			return -1;		/* trailing comma */
	}
	return members;
}

void
cache_policy_cc_response(const struct cp_conf *conf, const struct http_msg *m,
    struct cp_cc *cc)
{
	struct cp_cc	t;
	int		i, n, members = 0, bad = 0;

	if (conf->cdn_cache_control &&
	    (i = http_find(m, "CDN-Cache-Control", 0)) >= 0) {
		cache_policy_cc_init(&t);
		for (; i >= 0; i = http_find(m, "CDN-Cache-Control", i + 1)) {
			n = sf_dict(m->headers[i].value.p,
			    m->headers[i].value.n, &t);
			if (n < 0)
				bad = 1;
			else
				members += n;
		}
		if (!bad && members > 0) {
			*cc = t;
			cc->flags |= CP_CC_TARGETED;
			return;
		}
	}
	cache_policy_cc_init(cc);
	cc_all(m, "Cache-Control", cc);
}

/*---------------------------------------------------------------------
 * Dates (RFC 9110 5.6.7) and Age
 */

static const char *const wkdays[7] = { "Mon", "Tue", "Wed", "Thu", "Fri",
	"Sat", "Sun" };
static const char *const weekdays[7] = { "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday", "Sunday" };
static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* year_of - the Gregorian year of t. */
static int64_t
year_of(int64_t t)
{
	int64_t	z, era, doe, yoe, doy, mp, y;

	z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return mp >= 10 ? y + 1 : y;
}

static int
name_index(const char *p, size_t n, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (caseeq(p, n, names[i], strlen(names[i])))
			return i;
	return -1;
}

static int
digits(const char *p, int n)
{
	int	v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* hms - "HH:MM:SS" at p into seconds of the day; -1 when invalid. */
static int
hms(const char *p)
{
	int	h = digits(p, 2), m = digits(p + 3, 2), s = digits(p + 6, 2);

	if (h < 0 || m < 0 || s < 0 || p[2] != ':' || p[5] != ':' ||
	    h > 23 || m > 59 || s > 60)
		return -1;
	return h * 3600 + m * 60 + s;
}

static int
make_time(int64_t y, int mon, int d, int secs, int64_t *t)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (mon < 0 || d < 1 || d > mdays[mon] || secs < 0 ||
	    (mon == 1 && d == 29 && !leap))
		return -1;
	*t = days_from_civil(y, mon + 1, d) * 86400 + secs;
	return 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
imf_fixdate(const char *p, size_t n, int64_t *t)
{
	int	d, y;

	if (n != 29 || name_index(p, 3, wkdays, 7) < 0 || p[3] != ',' ||
	    p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
	    p[25] != ' ' || !caseeq(p + 26, 3, "GMT", 3))
		return -1;
	if ((d = digits(p + 5, 2)) < 0 || (y = digits(p + 12, 4)) < 0)
		return -1;
	return make_time(y, name_index(p + 8, 3, months, 12), d,
	    hms(p + 17), t);
}

/* rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT" */
static int
rfc850_date(const char *p, size_t n, int64_t now, int64_t *t)
{
	const char	*c = memchr(p, ',', n);
	size_t		 w;
	int		 d, yy;
	int64_t		 y, ny;

	if (c == NULL)
		return -1;
	w = (size_t)(c - p);
	if (name_index(p, w, weekdays, 7) < 0 || n != w + 24)
		return -1;
	p = c;
	if (p[1] != ' ' || p[4] != '-' || p[8] != '-' || p[11] != ' ' ||
	    p[20] != ' ' || !caseeq(p + 21, 3, "GMT", 3))
		return -1;
	if ((d = digits(p + 2, 2)) < 0 || (yy = digits(p + 9, 2)) < 0)
		return -1;
	/* more than 50 years ahead means the past century (RFC 9110) */
	ny = year_of(now);
	y = ny - ny % 100 + yy;
	if (y > ny + 50)
		y -= 100;
	return make_time(y, name_index(p + 5, 3, months, 12), d,
	    hms(p + 12), t);
}

/* asctime-date: "Sun Nov  6 08:49:37 1994" */
static int
asctime_date(const char *p, size_t n, int64_t *t)
{
	int	d, y;

	if (n != 24 || name_index(p, 3, wkdays, 7) < 0 || p[3] != ' ' ||
	    p[7] != ' ' || p[10] != ' ' || p[19] != ' ')
		return -1;
	if (p[8] == ' ')
		d = digits(p + 9, 1);
	else
		d = digits(p + 8, 2);
	if (d < 0 || (y = digits(p + 20, 4)) < 0)
		return -1;
	return make_time(y, name_index(p + 4, 3, months, 12), d,
	    hms(p + 11), t);
}

int
cache_policy_date(const char *s, size_t n, int64_t now, int64_t *t)
{
	struct http_slice v = trim(slice(s, n));

	if (imf_fixdate(v.p, v.n, t) == 0 ||
	    rfc850_date(v.p, v.n, now, t) == 0 ||
	    asctime_date(v.p, v.n, t) == 0)
		return 0;
	return -1;
}

/* header_date - the single field name as a date; -1 absent or invalid. */
static int
header_date(const struct http_msg *m, const char *name, int64_t now,
    int64_t *t)
{
	int	i = only_header(m, name);

	if (i < 0)
		return -1;
	return cache_policy_date(m->headers[i].value.p, m->headers[i].value.n,
	    now, t);
}

int64_t
cache_policy_age(const struct http_msg *m)
{
	struct http_slice	list, first;
	int64_t			a;
	int			i = http_find(m, "Age", 0);

	if (i < 0)
		return 0;
	list = m->headers[i].value;
	if (!list_next(&list, &first))
		return 0;
	/* "7200;foo=bar": a parameter after the seconds is ignored */
	for (size_t k = 0; k < first.n; k++)
		if (first.p[k] == ';') {
			first.n = k;
			break;
		}
	if ((a = delta(first)) < 0)
		return 0;
	return a;
}

/*---------------------------------------------------------------------
 * Freshness lifetime and metadata
 */

/* RFC 9110 15.1: cacheable by default (heuristically). */
static int
heuristic_status(int s)
{
	switch (s) {
	case 200: case 203: case 204: case 206: case 300: case 301:
	case 308: case 404: case 405: case 410: case 414: case 501:
		return 1;
	}
	return 0;
}

/* understood_status - one whose caching rules we know (must-understand). */
static int
understood_status(int s)
{
	return (s >= 200 && s <= 206) || (s >= 300 && s <= 305) ||
	    s == 307 || s == 308 || (s >= 400 && s <= 417) || s == 421 ||
	    s == 422 || s == 426 || s == 428 || s == 429 || s == 431 ||
	    s == 451 || (s >= 500 && s <= 505) || s == 511;
}

static int64_t
clamp_expire(const struct cp_conf *c, int64_t v)
{
	if (v < c->min_expire)
		v = c->min_expire;
	if (v > c->max_expire)
		v = c->max_expire;
	return v;
}

/*
 * expires_lifetime - Expires - Date.  1 with *life set when Expires
 * counts, with 0 for an invalid one or several that disagree (RFC 9111
 * 4.2.1: already expired).  Apache: not clamped by CacheMaxExpire.
 */
static int
expires_lifetime(const struct http_msg *m, const struct cp_meta *md,
    int64_t *life)
{
	int		i = http_find(m, "Expires", 0), j;
	int64_t		e;
	struct http_slice v;

	if (i < 0)
		return 0;
	*life = 0;
	v = m->headers[i].value;
	for (j = http_find(m, "Expires", i + 1); j >= 0;
	    j = http_find(m, "Expires", j + 1))
		if (m->headers[j].value.n != v.n ||
		    memcmp(m->headers[j].value.p, v.p, v.n) != 0)
			return 1;
	if (cache_policy_date(v.p, v.n, md->response_time, &e) != 0)
		return 1;
	if (e > md->date)
		*life = e - md->date > CP_DELTA_MAX ? CP_DELTA_MAX :
		    e - md->date;
	return 1;
}

/*
 * lifetime - s-maxage (we are a shared cache), max-age, Expires - Date,
 * else a heuristic for statuses cacheable by default or "public":
 * CacheLastModifiedFactor x (Date - Last-Modified), else
 * CacheDefaultExpire.  Apache clamps the directives and the factor
 * heuristic into [CacheMinExpire, CacheMaxExpire], not Expires.
 */
static int64_t
lifetime(const struct cp_conf *c, const struct http_msg *m,
    const struct cp_cc *cc, struct cp_meta *md)
{
	int64_t	life;
	double	h;

	if (cc->s_maxage != CP_UNSET)
		return clamp_expire(c, cc->s_maxage);
	if (cc->max_age != CP_UNSET)
		return clamp_expire(c, cc->max_age);
	if (!(cc->flags & CP_CC_TARGETED) && expires_lifetime(m, md, &life))
		return life;
	if (!heuristic_status(md->status) && !(cc->flags & CP_CC_PUBLIC))
		return 0;
	md->flags |= CP_M_HEURISTIC;
	if ((md->flags & CP_M_LAST_MODIFIED) && md->last_modified < md->date) {
		h = (double)(md->date - md->last_modified) * c->lm_factor;
		if (h > (double)CP_DELTA_MAX)
			h = (double)CP_DELTA_MAX;
		return clamp_expire(c, h > 0 ? (int64_t)h : 0);
	}
	return c->default_expire;
}

void
cache_policy_meta(const struct cp_conf *c, const struct http_msg *m,
    int64_t request_time, int64_t response_time, struct cp_meta *md)
{
	struct cp_cc	cc;
	int64_t		t;

	memset(md, 0, sizeof(*md));
	md->request_time = request_time;
	md->response_time = response_time;
	md->status = m->status;
	md->date = response_time;
	if (header_date(m, "Date", response_time, &t) == 0) {
		md->date = t;
		md->flags |= CP_M_DATE;
	}
	if (header_date(m, "Last-Modified", response_time, &t) == 0) {
		/* Apache: a Last-Modified after Date is Date */
		md->last_modified = t > md->date ? md->date : t;
		md->flags |= CP_M_LAST_MODIFIED;
	}
	if (http_find(m, "ETag", 0) >= 0)
		md->flags |= CP_M_ETAG;
	md->age_value = cache_policy_age(m);
	cache_policy_cc_response(c, m, &cc);
	md->lifetime = lifetime(c, m, &cc, md);
	if (cc.flags & CP_CC_NO_CACHE)
		md->flags |= CP_M_NO_CACHE;
	/* s-maxage has proxy-revalidate's meaning (RFC 9111 5.2.2.10) */
	if ((cc.flags & (CP_CC_MUST_REVALIDATE | CP_CC_PROXY_REVALIDATE)) ||
	    cc.s_maxage != CP_UNSET)
		md->flags |= CP_M_NO_STALE;
	md->swr = cc.swr;
	md->sie = cc.sie;
}

/*---------------------------------------------------------------------
 * Storing
 */

/* vary_star - Vary has "*" or something that is not a field name. */
static int
vary_star(const struct http_msg *m)
{
	struct http_slice	list, t;

	for (int i = http_find(m, "Vary", 0); i >= 0;
	    i = http_find(m, "Vary", i + 1)) {
		list = m->headers[i].value;
		while (list_next(&list, &t))
			for (size_t k = 0; k < t.n; k++)
				if (!http_is_tchar((unsigned char)t.p[k]) ||
				    t.p[k] == '*')
					return 1;
	}
	return 0;
}

static int
has_query(const struct http_msg *req)
{
	return memchr(req->target.p, '?', req->target.n) != NULL;
}

/*
 * store_status - the status code and the directives that can allow or
 * forbid storing at all.  NULL when they allow it.
 */
static const char *
store_status(const struct cp_conf *c, const struct http_msg *resp,
    const struct cp_cc *cc, int explicit)
{
	int	s = resp->status;

	if (s < 200 || s == 206 || s == 304)
		return s == 206 ? "partial content is not stored" :
		    "not a final, complete response";
	if (cc->flags & CP_CC_MUST_UNDERSTAND) {
		/* RFC 9111 5.2.2.3: then no-store does not apply */
		if (!understood_status(s))
			return "must-understand with an unknown status";
	} else if ((cc->flags & CP_CC_NO_STORE) && !c->store_no_store)
		return "Cache-Control: no-store";
	if ((cc->flags & CP_CC_PRIVATE) && !c->store_private)
		return "Cache-Control: private";
	if (!explicit && !(cc->flags & CP_CC_PUBLIC) && !heuristic_status(s))
		return "status not cacheable without explicit freshness";
	return NULL;
}

/*
 * store_freshness - Apache's refusals about expiry, where RFC 9111
 * leaves the choice to the cache.  NULL when none applies.
 */
static const char *
store_freshness(const struct cp_conf *c, const struct http_msg *req,
    const struct http_msg *resp, const struct cp_cc *cc, int64_t now)
{
	struct cp_meta	md;
	int		explicit_cc, expires, validators;
	int64_t		life;

	cache_policy_meta(c, resp, now, now, &md);
	explicit_cc = cc->max_age != CP_UNSET || cc->s_maxage != CP_UNSET;
	expires = !explicit_cc && !(cc->flags & CP_CC_TARGETED) &&
	    http_find(resp, "Expires", 0) >= 0;
	validators = md.flags & (CP_M_ETAG | CP_M_LAST_MODIFIED);
	if (expires && expires_lifetime(resp, &md, &life) &&
	    !c->store_expired && (life == 0 || md.date + life <= now))
		return "Expires invalid or already passed";
	if (!explicit_cc && !expires && has_query(req) &&
	    !c->ignore_query_string)
		return "query string without explicit expiry";
	if (!explicit_cc && !expires && !validators && !c->ignore_no_last_mod)
		return "no Last-Modified, ETag, Expires, max-age or s-maxage";
	if ((cc->flags & (CP_CC_MUST_REVALIDATE | CP_CC_PROXY_REVALIDATE)) &&
	    md.lifetime <= cache_policy_current_age(&md, now) && !validators &&
	    !c->store_expired)
		return "stale at once and cannot be revalidated";
	return NULL;
}

/* store_response - why the response may not be stored, or NULL. */
static const char *
store_response(const struct cp_conf *c, const struct http_msg *req,
    const struct http_msg *resp, const struct cp_cc *cc, int64_t now)
{
	const char	*why;
	int		 explicit;

	explicit = cc->max_age != CP_UNSET || cc->s_maxage != CP_UNSET ||
	    (!(cc->flags & CP_CC_TARGETED) &&
	    http_find(resp, "Expires", 0) >= 0);
	if ((why = store_status(c, resp, cc, explicit)) != NULL)
		return why;
	/* RFC 9111 3.5: public, must-revalidate or s-maxage allow it */
	if (http_find(req, "Authorization", 0) >= 0 &&
	    !(cc->flags & (CP_CC_PUBLIC | CP_CC_MUST_REVALIDATE)) &&
	    cc->s_maxage == CP_UNSET)
		return "request has Authorization";
	if (vary_star(resp))
		return "Vary: *";
	/* Set-Cookie is never stored; guessing freshness here is unsafe */
	if ((http_find(resp, "Set-Cookie", 0) >= 0 ||
	    http_find(resp, "Set-Cookie2", 0) >= 0) && !explicit &&
	    !(cc->flags & CP_CC_PUBLIC))
		return "Set-Cookie without explicit freshness";
	return store_freshness(c, req, resp, cc, now);
}

int
cache_policy_storable(const struct cp_conf *c, const struct http_msg *req,
    const struct http_msg *resp, int64_t now, const char **reason)
{
	struct cp_cc	 rq, cc;
	const char	*why;

	*reason = NULL;
	if (req->mcode != HTTP_M_GET) {
		*reason = "only GET responses are stored";
		return 0;
	}
	cache_policy_cc_request(req, &rq);
	if ((rq.flags & CP_CC_NO_STORE) && !c->ignore_cache_control) {
		*reason = "request Cache-Control: no-store";
		return 0;
	}
	cache_policy_cc_response(c, resp, &cc);
	why = store_response(c, req, resp, &cc, now);
	*reason = why;
	return why == NULL;
}

static int
name_is(struct http_slice n, const char *s)
{
	return caseeq(n.p, n.n, s, strlen(s));
}

/* Never stored (RFC 9110 7.6.1, RFC 9111 3.1) or kept elsewhere. */
static int
unstored_name(struct http_slice n)
{
	static const char *const names[] = { "Connection", "Keep-Alive",
		"Proxy-Connection", "TE", "Trailer", "Trailers",
		"Transfer-Encoding", "Upgrade", "Proxy-Authenticate",
		"Proxy-Authentication-Info", "Proxy-Authorization",
		"Set-Cookie", "Set-Cookie2", "Age" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name_is(n, names[i]))
			return 1;
	return 0;
}

/* in_list_field - does a comma list in any field fname name n? */
static int
in_list_field(const struct http_msg *m, const char *fname,
    struct http_slice n)
{
	struct http_slice	list, t;

	for (int i = http_find(m, fname, 0); i >= 0;
	    i = http_find(m, fname, i + 1)) {
		list = m->headers[i].value;
		while (list_next(&list, &t))
			if (slice_caseeq(t, n))
				return 1;
	}
	return 0;
}

/* cc_names - is n named by a no-cache="..." or private="..."? */
static int
cc_names(const struct http_msg *m, struct http_slice n)
{
	const char		*p, *end;
	struct cc_elem		 e;
	struct http_slice	 list, t;

	for (int i = http_find(m, "Cache-Control", 0); i >= 0;
	    i = http_find(m, "Cache-Control", i + 1)) {
		p = m->headers[i].value.p;
		end = p + m->headers[i].value.n;
		while (cc_next(&p, end, &e)) {
			if (!e.has_value || (!name_is(e.name, "no-cache") &&
			    !name_is(e.name, "private")))
				continue;
			list = e.value;
			while (list_next(&list, &t))
				if (slice_caseeq(t, n))
					return 1;
		}
	}
	return 0;
}

static int
ignored_name(const struct cp_conf *c, struct http_slice n)
{
	for (const struct gw_strlist *l = c->ignore_headers; l != NULL;
	    l = l->next)
		if (name_is(n, l->s))
			return 1;
	return 0;
}

int
cache_policy_header_storable(const struct cp_conf *c,
    const struct http_msg *m, int i)
{
	struct http_slice n = m->headers[i].name;

	return !unstored_name(n) && !in_list_field(m, "Connection", n) &&
	    !ignored_name(c, n) && !cc_names(m, n);
}

int
cache_policy_store_headers(const struct cp_conf *c, const struct http_msg *m,
    struct http_header *out, int n)
{
	int	k = 0;

	for (int i = 0; i < m->nheaders; i++) {
		if (!cache_policy_header_storable(c, m, i))
			continue;
		if (k == n)
			return -1;
		out[k++] = m->headers[i];
	}
	return k;
}

/*---------------------------------------------------------------------
 * Serving: age, freshness and the decision
 */

int64_t
cache_policy_current_age(const struct cp_meta *m, int64_t now)
{
	int64_t	apparent, corrected, initial, age;

	apparent = m->response_time - m->date;
	if (apparent < 0)
		apparent = 0;
	corrected = m->age_value + (m->response_time - m->request_time);
	initial = apparent > corrected ? apparent : corrected;
	age = initial + (now - m->response_time);
	if (age < 0)
		age = 0;
	return age > CP_DELTA_MAX ? CP_DELTA_MAX : age;
}

static void
verdict(struct cp_decision *d, enum cp_verdict v, const char *why)
{
	d->verdict = v;
	d->reason = why;
}

/*
 * decide_stale - a stale response: the client's max-stale, then the
 * origin's stale-while-revalidate, else revalidate; stale-if-error (the
 * response's or the request's) or CacheStaleOnError then allow serving
 * it if the origin fails.  RFC 9111 4.2.4: no stale response at all
 * under no-cache, must-revalidate, proxy-revalidate or s-maxage.
 * Apache's CacheStaleOnError only looks at the two revalidate directives.
 */
static void
decide_stale(const struct cp_conf *c, const struct cp_meta *m,
    const struct cp_cc *rq, int use_rq, struct cp_decision *d)
{
	int64_t	stale = d->age - d->lifetime;
	int	no_stale = m->flags & (CP_M_NO_STALE | CP_M_NO_CACHE);
	int	rq_age_ok = !use_rq || rq->max_age == CP_UNSET ||
		    d->age <= rq->max_age;

	if (!no_stale && (rq->flags & CP_CC_MAX_STALE) &&
	    stale <= rq->max_stale && rq_age_ok && (!use_rq ||
	    rq->min_fresh == CP_UNSET)) {
		verdict(d, CP_STALE_OK, "stale, within the request's "
		    "max-stale");
		return;
	}
	if (!no_stale && m->swr != CP_UNSET && stale <= m->swr && rq_age_ok &&
	    (!use_rq || rq->min_fresh == CP_UNSET)) {
		verdict(d, CP_STALE_OK, "stale-while-revalidate");
		d->background = 1;
		return;
	}
	verdict(d, CP_REVALIDATE, "stale");
	if (no_stale)
		return;
	d->stale_if_error = (m->sie != CP_UNSET && stale <= m->sie) ||
	    (rq->sie != CP_UNSET && stale <= rq->sie) || c->stale_on_error;
}

void
cache_policy_decide(const struct cp_conf *c, const struct cp_meta *m,
    const struct cp_cc *rq, int64_t now, struct cp_decision *d)
{
	/* CacheIgnoreCacheControl: the client's wishes against the cache */
	int	use_rq = !c->ignore_cache_control;

	memset(d, 0, sizeof(*d));
	d->age = cache_policy_current_age(m, now);
	d->lifetime = m->lifetime;
	d->conditional = (m->flags & (CP_M_ETAG | CP_M_LAST_MODIFIED)) != 0;
	d->only_if_cached = (rq->flags & CP_CC_ONLY_IF_CACHED) != 0;
	if (use_rq && (rq->flags & CP_CC_NO_STORE))
		verdict(d, CP_MISS, "request no-store");
	else if (m->flags & CP_M_NO_CACHE)
		verdict(d, CP_REVALIDATE, "response no-cache");
	else if (use_rq && (rq->flags & (CP_CC_NO_CACHE |
	    CP_CC_PRAGMA_NO_CACHE)))
		verdict(d, CP_REVALIDATE, "request no-cache");
	else if (d->age >= d->lifetime)
		decide_stale(c, m, rq, use_rq, d);
	else if (use_rq && rq->max_age != CP_UNSET && d->age > rq->max_age)
		verdict(d, CP_REVALIDATE, "older than the request's max-age");
	else if (use_rq && rq->min_fresh != CP_UNSET &&
	    d->lifetime - d->age < rq->min_fresh)
		verdict(d, CP_REVALIDATE, "not fresh enough for min-fresh");
	else
		verdict(d, CP_FRESH, "fresh");
}

/*---------------------------------------------------------------------
 * Vary
 */

/* vary_min - the least Vary member after last (case-insensitive). */
static int
vary_min(const struct http_msg *m, const struct http_slice *last,
    struct http_slice *best)
{
	struct http_slice	list, t;
	int			found = 0;

	for (int i = http_find(m, "Vary", 0); i >= 0;
	    i = http_find(m, "Vary", i + 1)) {
		list = m->headers[i].value;
		while (list_next(&list, &t)) {
			if (last != NULL && slice_casecmp(t, *last) <= 0)
				continue;
			if (!found || slice_casecmp(t, *best) < 0)
				*best = t;
			found = 1;
		}
	}
	return found;
}

int
cache_policy_vary_names(const struct http_msg *m, char *buf, size_t len)
{
	struct sink		s;
	struct http_slice	cur, prev;
	int			n = 0;

	if (vary_star(m))
		return CP_VARY_STAR;
	sink_init(&s, buf, len);
	while (vary_min(m, n > 0 ? &prev : NULL, &cur)) {
		if (n++ > 0)
			sink_put(&s, ",", 1);
		sink_lower(&s, cur.p, cur.n);
		prev = cur;
	}
	return sink_end(&s);
}

/* accept_field - fields whose values are case-insensitive tokens. */
static int
accept_field(struct http_slice n)
{
	return name_is(n, "accept-encoding") || name_is(n, "accept-language") ||
	    name_is(n, "accept-charset");
}

/*
 * vary_member - one list member, normalised: runs of white space become
 * one space, none around ';' and '=', outside quoted strings.
 */
static void
vary_member(struct sink *s, struct http_slice v, int lower)
{
	const char	*p = v.p, *end = v.p + v.n, *q;
	int		 space = 0, glue = 1;

	while (p < end) {
		if (ows(*p)) {
			space = 1;
			p++;
			continue;
		}
		if (*p == ';' || *p == '=')
			glue = 1;
		else if (space && !glue)
			sink_put(s, " ", 1);
		space = 0;
		q = *p == '"' ? skip_quoted(p, end) : p + 1;
		if (lower)
			sink_lower(s, p, (size_t)(q - p));
		else
			sink_put(s, p, (size_t)(q - p));
		glue = *p == ';' || *p == '=';
		p = q;
	}
}

/* vary_field - "name:v1,v2\n" or "name\n" for the field name of req. */
static void
vary_field(struct sink *s, struct http_slice name, const struct http_msg *req)
{
	struct http_slice	list, mem;
	int			i, lines = 0, members = 0;
	int			lower = accept_field(name);

	sink_put(s, name.p, name.n);
	for (i = 0; i < req->nheaders; i++) {
		if (!slice_caseeq(req->headers[i].name, name))
			continue;
		if (lines++ == 0)
			sink_put(s, ":", 1);
		list = req->headers[i].value;
		while (list_next(&list, &mem)) {
			if (members++ > 0)
				sink_put(s, ",", 1);
			vary_member(s, mem, lower);
		}
	}
	sink_put(s, "\n", 1);
}

static void
vary_emit(struct sink *s, const char *names, size_t nlen,
    const struct http_msg *req)
{
	struct http_slice	list = slice(names, nlen), name;

	while (list_next(&list, &name))
		vary_field(s, name, req);
}

int
cache_policy_vary_key(const char *names, size_t nlen,
    const struct http_msg *req, char *buf, size_t len)
{
	struct sink	s;

	sink_init(&s, buf, len);
	vary_emit(&s, names, nlen, req);
	return sink_end(&s);
}

int
cache_policy_vary_match(const char *names, size_t nlen, const char *key,
    size_t klen, const struct http_msg *req)
{
	struct sink	s;

	sink_init(&s, NULL, 0);
	s.cmp = key;
	s.cmplen = klen;
	vary_emit(&s, names, nlen, req);
	return !s.bad && s.off == s.cmplen;
}

/*---------------------------------------------------------------------
 * Validators, conditional requests, 304
 */

/* opaque - an entity-tag without "W/" (or a lenient "w/") and quotes. */
static struct http_slice
opaque(struct http_slice t, int *weak)
{
	*weak = t.n >= 2 && (t.p[0] == 'W' || t.p[0] == 'w') && t.p[1] == '/';
	if (*weak)
		t = slice(t.p + 2, t.n - 2);
	if (t.n >= 2 && t.p[0] == '"' && t.p[t.n - 1] == '"')
		t = slice(t.p + 1, t.n - 2);
	return t;
}

int
cache_policy_etag_weak_eq(struct http_slice a, struct http_slice b)
{
	struct http_slice	oa, ob;
	int			wa, wb;

	a = trim(a);
	b = trim(b);
	if (a.n == b.n && memcmp(a.p, b.p, a.n) == 0)
		return a.n > 0;
	oa = opaque(a, &wa);
	ob = opaque(b, &wb);
	return oa.n > 0 && oa.n == ob.n && memcmp(oa.p, ob.p, oa.n) == 0;
}

/* etag_strong_eq - RFC 9110 8.8.3.2: both strong and the same. */
static int
etag_strong_eq(struct http_slice a, struct http_slice b)
{
	struct http_slice	oa, ob;
	int			wa, wb;

	oa = opaque(trim(a), &wa);
	ob = opaque(trim(b), &wb);
	return !wa && !wb && oa.n > 0 && oa.n == ob.n &&
	    memcmp(oa.p, ob.p, oa.n) == 0;
}

int
cache_policy_validators(const struct http_msg *st, char *inm, size_t inmlen,
    char *ims, size_t imslen)
{
	struct sink		 s;
	struct http_slice	 v, o;
	size_t			 w;
	int			 i, bits = 0, weak;
	int64_t			 t;

	if (inmlen > 0)
		inm[0] = '\0';
	if (imslen > 0)
		ims[0] = '\0';
	if ((i = http_find(st, "ETag", 0)) >= 0 &&
	    (v = trim(st->headers[i].value)).n > 0) {
		sink_init(&s, inm, inmlen);
		o = opaque(v, &weak);
		w = weak ? 2 : 0;
		if (o.n == v.n - w) {
			/* not quoted: quote it (the field must be) */
			sink_put(&s, v.p, w);
			sink_put(&s, "\"", 1);
			sink_put(&s, v.p + w, v.n - w);
			sink_put(&s, "\"", 1);
		} else
			sink_put(&s, v.p, v.n);
		if (sink_end(&s) < 0)
			return -1;
		bits |= CP_VAL_INM;
	}
	if ((i = only_header(st, "Last-Modified")) >= 0 &&
	    cache_policy_date(st->headers[i].value.p, st->headers[i].value.n,
	    0, &t) == 0) {
		sink_init(&s, ims, imslen);
		v = trim(st->headers[i].value);
		sink_put(&s, v.p, v.n);
		if (sink_end(&s) < 0)
			return -1;
		bits |= CP_VAL_IMS;
	}
	return bits;
}

/* inm_matches - does If-None-Match (every line) match the stored ETag? */
static int
inm_matches(const struct http_msg *req, const struct http_msg *st)
{
	struct http_slice	 list, t, etag;
	int			 i, e = http_find(st, "ETag", 0);

	for (i = http_find(req, "If-None-Match", 0); i >= 0;
	    i = http_find(req, "If-None-Match", i + 1)) {
		list = req->headers[i].value;
		while (list_next(&list, &t)) {
			if (t.n == 1 && t.p[0] == '*')
				return 1;
			if (e < 0)
				continue;
			etag = st->headers[e].value;
			if (cache_policy_etag_weak_eq(t, etag))
				return 1;
		}
	}
	return 0;
}

/*
 * ims_not_modified - RFC 9111 4.3.2: the stored response's Last-Modified,
 * else its Date, else when it was received, is not after If-Modified-Since.
 * -1 when the field is to be ignored (invalid, several).
 */
static int
ims_not_modified(const struct http_msg *req, const struct cp_meta *m)
{
	int64_t	ims, ref;

	if (header_date(req, "If-Modified-Since", m->response_time, &ims) != 0)
		return -1;
	if (m->flags & CP_M_LAST_MODIFIED)
		ref = m->last_modified;
	else
		ref = m->date;		/* Date, or response_time */
	return ref <= ims;
}

enum cp_cond
cache_policy_conditional(const struct http_msg *req, const struct http_msg *st,
    const struct cp_meta *m)
{
	int	r;

	if (req->mcode != HTTP_M_GET && req->mcode != HTTP_M_HEAD)
		return CP_COND_NONE;
	if (http_find(req, "If-Match", 0) >= 0 ||
	    http_find(req, "If-Unmodified-Since", 0) >= 0)
		return CP_COND_FORWARD;
	if (st->status < 200 || st->status > 299)
		return CP_COND_NONE;	/* preconditions apply to 2xx only */
	if (http_find(req, "If-None-Match", 0) >= 0)
		return inm_matches(req, st) ? CP_COND_304 : CP_COND_FULL;
	if (http_find(req, "If-Modified-Since", 0) < 0)
		return CP_COND_NONE;
	if ((r = ims_not_modified(req, m)) < 0)
		return CP_COND_NONE;
	return r ? CP_COND_304 : CP_COND_FULL;
}

/*
 * cache_policy_in_304 - a 304 we generate carries the stored fields but
 * not those that describe the content (RFC 9110 15.4.5; Apache strips
 * the same "entity headers", but keeps no Last-Modified: we do).
 */
int
cache_policy_in_304(struct http_slice n)
{
	static const char *const names[] = { "Content-Length",
		"Content-Type", "Content-Encoding", "Content-Language",
		"Content-Range", "Content-MD5", "Allow", "Transfer-Encoding",
		"Trailer" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name_is(n, names[i]))
			return 0;
	return 1;
}

int
cache_policy_304_matches(const struct http_msg *st, const struct http_msg *r)
{
	int			 er = http_find(r, "ETag", 0);
	int			 es = http_find(st, "ETag", 0);
	int			 weak;
	int64_t			 a, b;
	struct http_slice	 v;

	if (er >= 0) {
		if (es < 0)
			return 0;
		v = r->headers[er].value;
		(void)opaque(trim(v), &weak);
		if (weak)
			return cache_policy_etag_weak_eq(v,
			    st->headers[es].value);
		return etag_strong_eq(v, st->headers[es].value);
	}
	if (header_date(r, "Last-Modified", 0, &a) == 0)
		return header_date(st, "Last-Modified", 0, &b) == 0 && a == b;
	return 1;	/* no validator in r: it answers our conditions */
}

/* updates - is r's header j one that replaces the stored ones? */
static int
updates(const struct cp_conf *c, const struct http_msg *r, int j)
{
	return !name_is(r->headers[j].name, "Content-Length") &&
	    cache_policy_header_storable(c, r, j);
}

static int
replaced(const struct cp_conf *c, const struct http_msg *r,
    struct http_slice name)
{
	for (int j = 0; j < r->nheaders; j++)
		if (slice_caseeq(r->headers[j].name, name) && updates(c, r, j))
			return 1;
	return 0;
}

int
cache_policy_merge(const struct cp_conf *c, const struct http_msg *st,
    const struct http_msg *r, struct http_header *out, int n)
{
	int	k = 0, i;

	for (i = 0; i < st->nheaders; i++) {
		/* r without Date was received now (RFC 9110 6.6.1) */
		if (replaced(c, r, st->headers[i].name) ||
		    name_is(st->headers[i].name, "Date"))
			continue;
		if (k == n)
			return -1;
		out[k++] = st->headers[i];
	}
	for (i = 0; i < r->nheaders; i++) {
		if (!updates(c, r, i))
			continue;
		if (k == n)
			return -1;
		out[k++] = r->headers[i];
	}
	return k;
}

/*---------------------------------------------------------------------
 * Invalidation
 */

int
cache_policy_unsafe(const struct http_msg *req)
{
	switch (req->mcode) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
	case HTTP_M_OPTIONS:
	case HTTP_M_TRACE:
		return 0;
	default:
		return 1;
	}
}

int
cache_policy_invalidates(const struct http_msg *req,
    const struct http_msg *resp)
{
	return cache_policy_unsafe(req) && resp->status >= 200 &&
	    resp->status < 400;
}

/*
 * remove_dots - RFC 3986 5.2.4 on buf[0..n) in place (a path starting
 * with '/'); returns the new length.
 */
static size_t
remove_dots(char *buf, size_t n)
{
	size_t	in = 0, out = 0;

	while (in < n) {
		if (n - in >= 3 && memcmp(buf + in, "/./", 3) == 0)
			in += 2;
		else if (n - in == 2 && memcmp(buf + in, "/.", 2) == 0) {
			in += 1;
			buf[in] = '/';
		} else if ((n - in >= 4 && memcmp(buf + in, "/../", 4) == 0) ||
		    (n - in == 3 && memcmp(buf + in, "/..", 3) == 0)) {
			in += 3;
			if (in == n)
				buf[--in] = '/';
			while (out > 0 && buf[--out] != '/')
				;
		} else {
			do
				buf[out++] = buf[in++];
			while (in < n && buf[in] != '/');
		}
	}
	return out;
}

/* same_origin - the authority at p..end is host:port under scheme. */
static int
same_origin(const char *p, const char *end, const char *scheme,
    const char *host, unsigned port)
{
	struct url		 u;
	struct http_slice	 sch = slice(scheme, strlen(scheme));
	unsigned		 up, dp = default_port(sch);

	memset(&u, 0, sizeof(u));
	if (parse_authority(p, end, &u) != 0 || u.host.n == 0)
		return 0;
	up = u.port.p != NULL && u.port.n > 0 ? port_value(u.port) : dp;
	return caseeq(u.host.p, u.host.n, host, strlen(host)) &&
	    up == (port != 0 ? port : dp);
}

/* scheme_len - length of "scheme" before ':' in v, 0 if none. */
static size_t
scheme_len(struct http_slice v)
{
	size_t	i;

	if (v.n == 0 || !isalpha((unsigned char)v.p[0]))
		return 0;
	for (i = 1; i < v.n && (isalnum((unsigned char)v.p[i]) ||
	    v.p[i] == '+' || v.p[i] == '-' || v.p[i] == '.'); i++)
		;
	return i < v.n && v.p[i] == ':' ? i : 0;
}

/*
 * resolve - v (a URI reference, fragment gone) against base into s:
 * RFC 3986 5.2.2 for the path and query of a same-origin reference.
 * 0 when v names another origin.
 */
static int
resolve(struct http_slice v, struct http_slice base, const char *scheme,
    const char *host, unsigned port, struct sink *s)
{
	size_t		 sl = scheme_len(v), bp;
	const char	*a, *end = v.p + v.n, *bq;

	bq = memchr(base.p, '?', base.n);
	bp = bq != NULL ? (size_t)(bq - base.p) : base.n;
	if (sl > 0) {
		if (!caseeq(v.p, sl, scheme, strlen(scheme)))
			return 0;
		v = slice(v.p + sl + 1, v.n - sl - 1);
		if (v.n < 2 || v.p[0] != '/' || v.p[1] != '/')
			return 0;
	}
	if (v.n >= 2 && v.p[0] == '/' && v.p[1] == '/') {
		for (a = v.p + 2; a < end && *a != '/' && *a != '?'; a++)
			;
		if (!same_origin(v.p + 2, a, scheme, host, port))
			return 0;
		v = slice(a, (size_t)(end - a));
		if (v.n == 0 || v.p[0] == '?')
			sink_put(s, "/", 1);
		sink_put(s, v.p, v.n);
	} else if (v.n == 0)
		sink_put(s, base.p, base.n);
	else if (v.p[0] == '/')
		sink_put(s, v.p, v.n);
	else if (v.p[0] == '?') {
		sink_put(s, base.p, bp);
		sink_put(s, v.p, v.n);
	} else {
		while (bp > 0 && base.p[bp - 1] != '/')
			bp--;
		if (bp == 0)
			sink_put(s, "/", 1);
		sink_put(s, base.p, bp);
		sink_put(s, v.p, v.n);
	}
	return 1;
}

int
cache_policy_related(const struct http_msg *resp, const char *field,
    const char *scheme, const char *host, unsigned port, const char *base,
    size_t blen, char *out, size_t outlen)
{
	struct sink		 s;
	struct http_slice	 v;
	const char		*hash, *q;
	size_t			 plen, n;
	int			 i = only_header(resp, field);

	if (i < 0)
		return 0;
	v = trim(resp->headers[i].value);
	if ((hash = memchr(v.p, '#', v.n)) != NULL)
		v.n = (size_t)(hash - v.p);
	sink_init(&s, out, outlen);
	if (!resolve(v, slice(base, blen), scheme, host, port, &s))
		return 0;
	if ((i = sink_end(&s)) <= 0)
		return i < 0 ? -1 : 0;
	n = (size_t)i;
	q = memchr(out, '?', n);
	plen = q != NULL ? (size_t)(q - out) : n;
	i = (int)remove_dots(out, plen);
	memmove(out + i, out + plen, n - plen + 1);
	return i + (int)(n - plen);
}
