/*
 * cache_policy.h - the HTTP caching rules of gatewayd, as pure functions:
 * cache keys and Apache's hashed file names, CacheEnable/CacheDisable
 * matching, Cache-Control and date parsing, whether a response may be
 * stored, how fresh a stored response is and what to do with it, Vary,
 * conditional requests, 304 merging and invalidation (RFC 9111, with
 * Apache mod_cache's directives as the knobs).
 *
 * No I/O and no allocation: messages are struct http_msg (http.h) whose
 * header slices point into the caller's buffers; results go to caller
 * buffers.  Times are seconds since the epoch (int64_t).
 */
#ifndef CACHE_POLICY_H
#define CACHE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "gatewayd.h"
#include "http.h"

#define CP_UNSET	(-1)		/* a delta not given */
#define CP_DELTA_MAX	2147483648LL	/* 2^31: RFC 9111 1.2.2 ceiling */
#define CP_HASH_LEN	22		/* Apache's encoded MD5 */
#define CP_HASH_PATH_MAX (CP_HASH_LEN + 20 + 1)	/* levels x length <= 20 */

/*---------------------------------------------------------------------
 * Knobs: Apache's mod_cache directives, filled by the caller from the
 * configuration.  cache_policy_conf_init sets Apache 2.4's defaults,
 * and honours CDN-Cache-Control (RFC 9213), which Apache does not know.
 */
struct cp_conf {
	int64_t		 default_expire;	/* CacheDefaultExpire 3600 */
	int64_t		 max_expire;		/* CacheMaxExpire 86400 */
	int64_t		 min_expire;		/* CacheMinExpire 0 */
	double		 lm_factor;		/* CacheLastModifiedFactor */
	int		 ignore_cache_control;	/* CacheIgnoreCacheControl */
	int		 ignore_no_last_mod;	/* CacheIgnoreNoLastMod */
	int		 ignore_query_string;	/* CacheIgnoreQueryString */
	int		 store_no_store;	/* CacheStoreNoStore */
	int		 store_private;		/* CacheStorePrivate */
	int		 store_expired;		/* CacheStoreExpired */
	int		 stale_on_error;	/* CacheStaleOnError, On */
	int		 cdn_cache_control;	/* honour CDN-Cache-Control */
	const struct gw_strlist *ignore_headers; /* CacheIgnoreHeaders */
	int		 lock;			/* CacheLock, Off */
	int		 lock_max_age;		/* CacheLockMaxAge 5 */
	uint64_t	 min_file_size;		/* CacheMinFileSize 1 */
	uint64_t	 max_file_size;		/* CacheMaxFileSize 1000000 */
	/* carried for the cache key; cache_policy_key does not use them */
	const struct gw_strlist *ignore_url_session_identifiers;
	const char	*key_base_url;		/* CacheKeyBaseURL */
};

void	cache_policy_conf_init(struct cp_conf *);

/*
 * cache_policy_conf_vhost - *out gets cache_policy_conf_init's defaults,
 * then every knob that v's cache_conf sets (unset markers are skipped).
 * After conf_load a <VirtualHost> holds the main server's values where
 * it sets none, so this is the configuration of v's requests.  Knobs
 * set in <Location> sections are not applied.  v NULL: the defaults.
 */
void	cache_policy_conf_vhost(struct cp_conf *out,
	    const struct gw_vhost *v);
/* cache_policy_conf_apply - the settings k sets (a section's) over *c. */
void	cache_policy_conf_apply(struct cp_conf *, const struct gw_cache_conf *);

/*---------------------------------------------------------------------
 * Keys and file names (Apache cache_storage.c, cache_util.c)
 */

/*
 * cache_policy_key - "scheme://host:port/path?query" into buf, as
 * Apache's cache_canonicalise_key builds it: the '?' is always there,
 * the query is left out when ignore_query is set (CacheIgnoreQueryString),
 * port 0 leaves ":port" out.  scheme and host are lower-cased; target is
 * the request-target in origin form (path, then '?' and the query).
 * Returns the key's length, or -1 when it does not fit buf.
 */
int	cache_policy_key(char *buf, size_t len, const char *scheme,
	    const char *host, unsigned port, const char *target, size_t tlen,
	    int ignore_query);

/*
 * cache_policy_strip_session - target (origin form) without the session
 * identifiers of CacheIgnoreURLSessionIdentifiers: ";id=value" path
 * parameters and "id=value" query members, as Apache leaves them out
 * of the key.  Returns the length written to out, or -1 (too small).
 */
int	cache_policy_strip_session(const char *target, size_t tlen,
	    const struct gw_strlist *ids, char *out, size_t outlen);

/* cache_policy_hash - MD5 of key as Apache's 22 characters; 0 or -1. */
int	cache_policy_hash(const char *key, size_t keylen,
	    char out[CP_HASH_LEN + 1]);

/*
 * cache_policy_hash_path - the hash split into levels directories of
 * length characters, "H/E/oqc1lz@8jGJe9_cl6VNA" (mod_cache_disk's file
 * stem under CacheRoot).  Returns its length, or -1 for bad levels or
 * length (levels x length must be <= 20) or a short buffer.
 */
int	cache_policy_hash_path(const char *key, size_t keylen, int levels,
	    int length, char *buf, size_t len);

/*---------------------------------------------------------------------
 * CacheEnable / CacheDisable (Apache cache_util.c cache_get_providers)
 */

/*
 * cache_policy_enabled - the cache types to use for a request, in order,
 * without repeats, into types[2]; returns how many (0: not cached).
 * scheme, host and port describe an absolute-form (forward proxy)
 * request-target and are NULL/0 for local and reverse-proxied requests;
 * path is the target's path as received, without the query (NULL: an
 * absolute URL without one).
 */
int	cache_policy_enabled(const struct gw_config *,
	    const struct gw_vhost *, const char *scheme, const char *host,
	    unsigned port, const char *path, enum gw_cache_type types[2]);

/*---------------------------------------------------------------------
 * Parsing
 */

/* Cache-Control directives seen (RFC 9111 5.2, RFC 5861, RFC 9213). */
#define CP_CC_NO_CACHE		0x0001	/* unqualified no-cache */
#define CP_CC_NO_CACHE_FIELDS	0x0002	/* no-cache="field, ..." */
#define CP_CC_NO_STORE		0x0004
#define CP_CC_PRIVATE		0x0008	/* unqualified private */
#define CP_CC_PRIVATE_FIELDS	0x0010	/* private="field, ..." */
#define CP_CC_PUBLIC		0x0020
#define CP_CC_MUST_REVALIDATE	0x0040
#define CP_CC_PROXY_REVALIDATE	0x0080
#define CP_CC_NO_TRANSFORM	0x0100
#define CP_CC_ONLY_IF_CACHED	0x0200
#define CP_CC_MUST_UNDERSTAND	0x0400
#define CP_CC_IMMUTABLE		0x0800
#define CP_CC_MAX_STALE		0x1000	/* see max_stale */
#define CP_CC_PRAGMA_NO_CACHE	0x2000	/* request Pragma, no CC */
#define CP_CC_TARGETED		0x4000	/* from CDN-Cache-Control */
#define CP_CC_INVALID		0x8000	/* some directive was malformed */

/*
 * Deltas are CP_UNSET when absent, saturate at CP_DELTA_MAX, and the
 * first occurrence of a directive wins (RFC 9111 4.2.1).  An invalid
 * max-age or s-maxage counts as 0 (stale); an invalid min-fresh as
 * CP_DELTA_MAX (never fresh enough); an invalid max-stale,
 * stale-while-revalidate or stale-if-error is ignored.  max-stale
 * without a value is CP_DELTA_MAX.
 */
struct cp_cc {
	unsigned	 flags;
	int64_t		 max_age;
	int64_t		 s_maxage;
	int64_t		 max_stale;
	int64_t		 min_fresh;
	int64_t		 swr;		/* stale-while-revalidate */
	int64_t		 sie;		/* stale-if-error */
};

/*
 * cache_policy_cc_request - the request's Cache-Control (every line),
 * and Pragma: no-cache when the request has no Cache-Control (RFC 7234
 * 5.4; Pragma in responses means nothing).
 */
void	cache_policy_cc_request(const struct http_msg *, struct cp_cc *);

/*
 * cache_policy_cc_response - the response's caching directives: the
 * CDN-Cache-Control field (RFC 9213) when conf->cdn_cache_control is set
 * and that field is valid and not empty (then CP_CC_TARGETED is set and
 * Expires must be ignored), else Cache-Control.
 */
void	cache_policy_cc_response(const struct cp_conf *,
	    const struct http_msg *, struct cp_cc *);

/* cache_policy_cc_parse - one Cache-Control value, added to *cc. */
void	cache_policy_cc_parse(const char *, size_t, struct cp_cc *);
void	cache_policy_cc_init(struct cp_cc *);

/*
 * cache_policy_date - an HTTP-date (IMF-fixdate, RFC 850, asctime) into
 * *t.  now resolves RFC 850's two-digit years (RFC 9110 5.6.7).  0, or -1
 * when the text is not a valid date.
 */
int	cache_policy_date(const char *, size_t, int64_t now, int64_t *t);

/*
 * cache_policy_age - the Age header: the first member of the first line
 * when it is delta-seconds, saturated at CP_DELTA_MAX; 0 when absent or
 * invalid.
 */
int64_t	cache_policy_age(const struct http_msg *);

/*---------------------------------------------------------------------
 * Storing
 */

/* What the cache keeps about a stored response besides its headers. */
#define CP_META_VERSION		1

#define CP_M_NO_CACHE		0x0001	/* revalidate every use */
#define CP_M_NO_STALE		0x0002	/* must-/proxy-revalidate, s-maxage */
#define CP_M_HEURISTIC		0x0004	/* lifetime is a heuristic */
#define CP_M_ETAG		0x0008	/* has an ETag */
#define CP_M_LAST_MODIFIED	0x0010	/* has a valid Last-Modified */
#define CP_M_DATE		0x0020	/* had a valid Date */

struct cp_meta {
	int64_t		 request_time;	/* request sent upstream */
	int64_t		 response_time;	/* response head received */
	int64_t		 date;		/* Date, else response_time */
	int64_t		 last_modified;	/* when CP_M_LAST_MODIFIED */
	int64_t		 age_value;	/* Age header, 0 if none */
	int64_t		 lifetime;	/* freshness lifetime */
	int64_t		 swr;		/* stale-while-revalidate, CP_UNSET */
	int64_t		 sie;		/* stale-if-error, CP_UNSET */
	int32_t		 status;
	uint32_t	 flags;		/* CP_M_* */
};

/*
 * cache_policy_meta - the metadata of response resp to a request sent at
 * request_time and answered at response_time: Date, Age, freshness
 * lifetime (s-maxage, max-age, Expires - Date, else heuristic), etc.
 */
void	cache_policy_meta(const struct cp_conf *, const struct http_msg *resp,
	    int64_t request_time, int64_t response_time, struct cp_meta *);

/*
 * cache_policy_storable - may this shared cache store resp, the answer
 * to req?  1 yes; 0 no, with *reason saying why (static text).
 */
int	cache_policy_storable(const struct cp_conf *,
	    const struct http_msg *req, const struct http_msg *resp,
	    int64_t now, const char **reason);

/*
 * cache_policy_store_headers - the header fields of resp to keep, in
 * order, into out[n]: not hop-by-hop ones or those Connection names,
 * not Set-Cookie/Set-Cookie2, Age (kept in cp_meta), CacheIgnoreHeaders,
 * nor fields named by no-cache="..." or private="...".  Returns how many,
 * or -1 when more than n.
 */
int	cache_policy_store_headers(const struct cp_conf *,
	    const struct http_msg *resp, struct http_header *out, int n);

/* cache_policy_header_storable - would resp's header i be kept? */
int	cache_policy_header_storable(const struct cp_conf *,
	    const struct http_msg *resp, int i);

/*---------------------------------------------------------------------
 * Serving
 */

/* cache_policy_current_age - RFC 9111 4.2.3 at time now. */
int64_t	cache_policy_current_age(const struct cp_meta *, int64_t now);

enum cp_verdict {
	CP_MISS,		/* do not use the stored response */
	CP_FRESH,		/* serve it */
	CP_STALE_OK,		/* serve it though stale (max-stale, SWR) */
	CP_REVALIDATE		/* ask the origin first */
};

struct cp_decision {
	enum cp_verdict	 verdict;
	int64_t		 age;		/* for the Age header */
	int64_t		 lifetime;
	int		 background;	/* STALE_OK by stale-while-revalidate:
					   revalidate asynchronously */
	int		 conditional;	/* REVALIDATE: has validators */
	int		 stale_if_error; /* REVALIDATE: on an origin error
					   (5xx, unreachable) serve stale */
	int		 only_if_cached; /* MISS/REVALIDATE: answer 504 */
	const char	*reason;	/* static text, for logs */
};

/*
 * cache_policy_decide - what to do with a stored response (m) for a
 * request whose directives are req (cache_policy_cc_request) at now.
 */
void	cache_policy_decide(const struct cp_conf *, const struct cp_meta *m,
	    const struct cp_cc *req, int64_t now, struct cp_decision *);

/*---------------------------------------------------------------------
 * Vary (RFC 9111 4.1)
 */

#define CP_VARY_STAR	(-2)

/*
 * cache_policy_vary_names - the field names of resp's Vary, lower-cased,
 * sorted, without repeats, comma-separated ("accept-encoding,foo").
 * Returns the length (0: no Vary), CP_VARY_STAR for "*" or an invalid
 * name, -1 when buf is too small.
 */
int	cache_policy_vary_names(const struct http_msg *resp, char *buf,
	    size_t len);

/*
 * cache_policy_vary_key - the secondary key of req for the names above:
 * "name:value\n" per name, the values of every line joined by ", ",
 * white space normalised, lower-cased for the Accept-* fields; an
 * absent field is "name\n".  Returns the length or -1 (too small).
 */
int	cache_policy_vary_key(const char *names, size_t nlen,
	    const struct http_msg *req, char *buf, size_t len);

/* cache_policy_vary_match - does req select the variant with this key? */
int	cache_policy_vary_match(const char *names, size_t nlen,
	    const char *key, size_t klen, const struct http_msg *req);

/*---------------------------------------------------------------------
 * Conditional requests
 */

#define CP_VAL_INM	0x01	/* an If-None-Match value was written */
#define CP_VAL_IMS	0x02	/* an If-Modified-Since value was written */

/*
 * cache_policy_validators - the If-None-Match and If-Modified-Since
 * values to revalidate stored response st (its ETag, quoted if it was
 * not; its Last-Modified), NUL-terminated, "" when none.  Returns
 * CP_VAL_* bits, or -1 when a buffer is too small.
 */
int	cache_policy_validators(const struct http_msg *st, char *inm,
	    size_t inmlen, char *ims, size_t imslen);

enum cp_cond {
	CP_COND_NONE,		/* no precondition: serve as usual */
	CP_COND_304,		/* answer 304 Not Modified */
	CP_COND_FULL,		/* preconditions evaluated: serve the 200 */
	CP_COND_FORWARD		/* If-Match/If-Unmodified-Since: origin's */
};

/*
 * cache_policy_conditional - a client's If-None-Match (weak comparison)
 * or, without it, If-Modified-Since, against the usable stored response
 * st (RFC 9111 4.3.2).
 */
enum cp_cond cache_policy_conditional(const struct http_msg *req,
	    const struct http_msg *st, const struct cp_meta *);

/* cache_policy_etag_weak_eq - RFC 9110 8.8.3.2 weak comparison. */
int	cache_policy_etag_weak_eq(struct http_slice, struct http_slice);

/* cache_policy_in_304 - may stored header name go into a 304 we make? */
int	cache_policy_in_304(struct http_slice name);

/*
 * cache_policy_304_matches - may a 304 (or HEAD response) r update the
 * stored response st (RFC 9111 4.3.4): same strong ETag, weakly same
 * weak ETag, same Last-Modified without ETag, or no validator in r.
 */
int	cache_policy_304_matches(const struct http_msg *st,
	    const struct http_msg *r);

/*
 * cache_policy_merge - the stored headers updated by a 304 or HEAD
 * response r (RFC 9111 3.2): every storable field of r replaces all of
 * st's fields of that name, except Content-Length; st's Date goes even
 * when r has none (r is the newer response).  Into out[n]; returns the
 * count or -1 when more than n.  Then recompute cp_meta from the result
 * with the revalidation's times, and age_value = cache_policy_age(r).
 */
int	cache_policy_merge(const struct cp_conf *, const struct http_msg *st,
	    const struct http_msg *r, struct http_header *out, int n);

/*---------------------------------------------------------------------
 * Invalidation (RFC 9111 4.4)
 */

/* cache_policy_unsafe - the request's method is not known to be safe. */
int	cache_policy_unsafe(const struct http_msg *req);

/* cache_policy_invalidates - unsafe method answered 2xx or 3xx. */
int	cache_policy_invalidates(const struct http_msg *req,
	    const struct http_msg *resp);

/*
 * cache_policy_related - the target (origin form, "/path?query") named
 * by resp's field (Location or Content-Location), resolved against the
 * request target base, when it has the same origin as (scheme, host,
 * port).  Returns its length, 0 when there is none or it is elsewhere,
 * -1 when out is too small.
 */
int	cache_policy_related(const struct http_msg *resp, const char *field,
	    const char *scheme, const char *host, unsigned port,
	    const char *base, size_t blen, char *out, size_t outlen);

#endif /* CACHE_POLICY_H */
