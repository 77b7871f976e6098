/*
 * check_cache.c - integration tests of the disk cache (CacheEnable
 * disk): the real gatewayd binary (GW_TEST_BINARY) in front of the
 * real test origin (GW_TEST_ORIGIN).  The origin's /count tells how
 * many requests reached it, so "served from the cache" is a fact, not
 * a timing.  Helpers are those of check_proxy.c.  Every wait is
 * bounded polling; no assertion depends on timing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <grp.h>

#include "cache_db.h"
#include "httpc.h"
#include "testlib.h"

#ifndef GW_TEST_ORIGIN
#error "GW_TEST_ORIGIN must name the test origin binary"
#endif

/* the origin's /size/N body */
#define PATTERN		"0123456789abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n"
#define ORIGIN_SERVER	"gatewayd-demo-origin"

/* Every gateway in this file starts from this. */
#define BASE_CONF \
	"ServerName gw.example\n" \
	"StartServers 2\n" \
	"MinSpareServers 1\n" \
	"MaxSpareServers 4\n" \
	"Timeout 10\n"

static struct gwt_server S;
static struct proc	 O;		/* the origin */

/*---------------------------------------------------------------------
 * Processes, logs, cleanup
 */

static void
cleanup(void)
{
	if (S.pid > 0)
		(void)kill(S.pid, SIGKILL);
	proc_stop(&O, SIGTERM);
	gwt_teardown(&S);
	S.dir[0] = '\0';
}

/* dump - the logs of a failing test. */
static void
dump(void)
{
	show_file(S.errlog);
	show_file(S.out);
	show_file(O.log);
}

/* REQUIRE - on failure show the logs, stop everything, fail the test. */
#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		dump();							\
		cleanup();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

/* start_origin - the test origin, -v, its output in S.dir/name.log. */
static void
start_origin(struct proc *o, const char *name)
{
	REQUIRE(origin_start(o, S.dir, name) == 0,
	    "the origin %s did not start", GW_TEST_ORIGIN);
}

/* origin_count - the origin's /count, asked directly. */
static long
origin_count(const struct proc *o)
{
	long n = origin_ask_count(o);

	REQUIRE(n >= 0, "origin /count failed");
	return n;
}

/*---------------------------------------------------------------------
 * The raw backend: one connection at a time, an answer chosen by path
 */

/*---------------------------------------------------------------------
 * The gateway
 */

static void	start_gw(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
start_gw(const char *fmt, ...)
{
	char	extra[6000], conf[7000];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	REQUIRE(n >= 0 && (size_t)n < sizeof(extra), "config too long");
	(void)snprintf(conf, sizeof(conf), "%s%s", BASE_CONF, extra);
	REQUIRE(gwt_write_conf(&S, NULL, conf) == 0, "cannot write config");
	REQUIRE(gwt_start(&S, NULL) == 0, "gatewayd did not start");
	REQUIRE(S.nports >= 1, "no \"listening on\" line");
}

/* cl_open - a connection to the gateway, or the test fails. */
static void
cl_open(struct client *c)
{
	REQUIRE(httpc_open(c, S.hosts[0], S.ports[0]) == 0,
	    "cannot connect to the gateway");
}

static const char *
hv(const struct resp *r, const char *name)
{
	static char	vals[4][1024];
	static int	k;
	char		*v = vals[k++ % 4];

	if (field(r->head, name, v, sizeof(vals[0])) == 0)
		return NULL;
	return v;
}

/* hv_is - does header name of r have exactly the value want? */
static int
hv_is(const struct resp *r, const char *name, const char *want)
{
	const char *v = hv(r, name);

	return v != NULL && strcmp(v, want) == 0;
}

/* from_origin - did this answer come from the test origin? */
static int
from_origin(const struct resp *r)
{
	const char *s = hv(r, "Server");

	return s != NULL && strcmp(s, ORIGIN_SERVER) == 0;
}

/* pattern_ok - is b[0..n) the origin's /size pattern? */
static int
pattern_ok(const char *b, size_t n)
{
	size_t	plen = sizeof(PATTERN) - 1;

	for (size_t i = 0; i < n; i++)
		if (b[i] != PATTERN[i % plen])
			return 0;
	return 1;
}

/*---------------------------------------------------------------------
 * The cache
 */

#define URL100		"/size/100?header=Cache-Control:max-age=300"
#define GET(u)		"GET " u " HTTP/1.1\r\nHost: gw.example\r\n\r\n"

static char	croot[256];

static void
setup(void)
{
	memset(&O, 0, sizeof(O));
	ck_assert_int_eq(gwt_setup(&S), 0);
	start_origin(&O, "origin");
	(void)snprintf(croot, sizeof(croot), "%s/cache", S.dir);
}

static void
teardown(void)
{
	cleanup();
}

/* start_cached - a gateway caching everything it proxies to O. */
static void
start_cached(const char *root)
{
	start_gw("CacheRoot \"%s\"\nCacheEnable disk /\n"
	    "ProxyPass / http://127.0.0.1:%d/\n", root, O.port);
}

/* start_cached_with - as start_cached, with extra directives. */
static void
start_cached_with(const char *root, const char *extra)
{
	start_gw("CacheRoot \"%s\"\nCacheEnable disk /\n%s"
	    "ProxyPass / http://127.0.0.1:%d/\n", root, extra, O.port);
}

/* ask - one request on c; the status (the answer in r). */
static int
ask(struct client *c, const char *req, struct resp *r)
{
	resp_reset(r);
	REQUIRE(cl_sends(c, req) == 0, "cannot send the request");
	REQUIRE(read_resp(c, r, strncmp(req, "HEAD ", 5) == 0) == 0,
	    "no answer to %s", req);
	return r->status;
}

/* is_100 - the origin's whole 100-byte /size body. */
static int
is_100(const struct resp *r)
{
	return r->status == 200 && r->complete && r->blen == 100 &&
	    pattern_ok(r->body, r->blen);
}

/* find_data - the one body file under dir (recursive), 0 or -1. */
static int
find_data(const char *dir, char *out, size_t outlen)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		 p[1024];
	int		 found = -1;
	size_t		 n;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while (found == -1 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;	/* ., .., .index, .tmp */
		(void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == -1)
			continue;
		n = strlen(p);
		if (S_ISDIR(st.st_mode))
			found = find_data(p, out, outlen);
		else if (S_ISREG(st.st_mode) && n > 5 &&
		    strcmp(p + n - 5, ".data") == 0) {
			(void)snprintf(out, outlen, "%s", p);
			found = 0;
		}
	}
	(void)closedir(d);
	return found;
}

/* prime - URL100 fetched from the origin, then from the cache, on c. */
static void
prime(struct client *c, struct resp *r)
{
	long	n0 = origin_count(&O);

	REQUIRE(ask(c, GET(URL100), r) == 200 && is_100(r) && from_origin(r),
	    "first GET: %d", r->status);
	REQUIRE(origin_count(&O) == n0 + 1, "first GET not from the origin");
	REQUIRE(ask(c, GET(URL100), r) == 200 && is_100(r),
	    "second GET: %d", r->status);
	REQUIRE(origin_count(&O) == n0 + 1, "second GET reached the origin");
	REQUIRE(hv(r, "Age") != NULL, "a hit without Age");
}

START_TEST(test_hit)
{
	struct client	c, c2;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	REQUIRE(hv_is(&r, "Content-Length", "100"), "hit Content-Length");
	REQUIRE(from_origin(&r), "the origin's Server field was not kept");
	/* another connection (maybe another worker) shares the entry */
	n0 = origin_count(&O);
	cl_open(&c2);
	REQUIRE(ask(&c2, GET(URL100), &r) == 200 && is_100(&r), "third GET");
	REQUIRE(origin_count(&O) == n0, "third GET reached the origin");
	cl_close(&c2);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_no_store)
{
	struct client	c;
	struct resp	r;
	long		n0;
	char		path[1024];

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	n0 = origin_count(&O);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET("/size/100?header=Cache-Control:no-store"),
		    &r) == 200 && is_100(&r), "GET %d", i);
	REQUIRE(origin_count(&O) == n0 + 2, "a no-store answer was reused");
	REQUIRE(find_data(croot, path, sizeof(path)) == -1,
	    "a no-store answer was stored: %s", path);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_request_no_cache)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, "GET " URL100 " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Cache-Control: no-cache\r\n\r\n", &r) == 200 && is_100(&r),
	    "no-cache GET");
	REQUIRE(origin_count(&O) == n0 + 1, "no-cache was served stored");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_only_if_cached)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	n0 = origin_count(&O);
	cl_open(&c);
	REQUIRE(ask(&c, "GET /size/7 HTTP/1.1\r\nHost: gw.example\r\n"
	    "Cache-Control: only-if-cached\r\n\r\n", &r) == 504,
	    "only-if-cached without an entry: %d", r.status);
	REQUIRE(origin_count(&O) == n0, "only-if-cached reached the origin");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_damaged_body)
{
	struct client	c;
	struct resp	r;
	struct stat	st;
	char		path[1024];
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	REQUIRE(find_data(croot, path, sizeof(path)) == 0, "no body file");
	REQUIRE(stat(path, &st) == 0 && truncate(path, st.st_size - 10) == 0,
	    "truncate %s", path);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
	    "GET after truncation: not whole");
	REQUIRE(origin_count(&O) == n0 + 1, "a truncated body was served");
	/* refetched and stored again; now delete it */
	REQUIRE(find_data(croot, path, sizeof(path)) == 0, "not stored again");
	REQUIRE(unlink(path) == 0, "unlink %s", path);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
	    "GET after deletion: not whole");
	REQUIRE(origin_count(&O) == n0 + 2, "a deleted body was a hit");
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r), "GET again");
	REQUIRE(origin_count(&O) == n0 + 2, "the refetched body was not kept");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * Vary: one stored variant per value of the named request field; each
 * request gets its own variant (the origin's /echo body names the
 * field's value), a new value is a miss, and a POST invalidates all.
 */
#define VURL	"/echo?header=Vary:Accept-Language" \
		"&header=Cache-Control:max-age=300"
#define VGET(lang) \
	"GET " VURL " HTTP/1.1\r\nHost: gw.example\r\n" \
	"Accept-Language: " lang "\r\n\r\n"

START_TEST(test_vary)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, VGET("en"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: en\r\n") != NULL, "en: miss");
	REQUIRE(ask(&c, VGET("fr"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: fr\r\n") != NULL, "fr: miss");
	REQUIRE(origin_count(&O) == n0 + 2, "two variants, two fetches");
	/* each value now gets its own stored variant */
	REQUIRE(ask(&c, VGET("en"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: en\r\n") != NULL &&
	    hv(&r, "Age") != NULL, "en: hit");
	REQUIRE(ask(&c, VGET("fr"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: fr\r\n") != NULL &&
	    hv(&r, "Age") != NULL, "fr: hit");
	/* Accept-Language is case-insensitive: "EN" selects "en" */
	REQUIRE(ask(&c, VGET("EN"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: en\r\n") != NULL, "EN");
	REQUIRE(origin_count(&O) == n0 + 2, "a variant hit reached the "
	    "origin (%ld fetches)", origin_count(&O) - n0);
	/* no Accept-Language at all is a variant of its own */
	REQUIRE(ask(&c, GET(VURL), &r) == 200 &&
	    strstr(r.body, "Accept-Language: ") == NULL, "none");
	REQUIRE(origin_count(&O) == n0 + 3, "absent field matched a value");
	REQUIRE(ask(&c, GET(VURL), &r) == 200 && hv(&r, "Age") != NULL,
	    "none: hit");
	/* an unsafe method invalidates every variant */
	REQUIRE(ask(&c, "POST " VURL " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Content-Length: 0\r\n\r\n", &r) == 200, "POST: %d", r.status);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, VGET("en"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: en\r\n") != NULL, "en again");
	REQUIRE(ask(&c, VGET("fr"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: fr\r\n") != NULL, "fr again");
	REQUIRE(origin_count(&O) == n0 + 2, "a variant outlived the POST");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/* Vary: * is never stored: no request could select it (RFC 9111 4.1). */
START_TEST(test_vary_star)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	n0 = origin_count(&O);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET("/size/100?header=Vary:*"
		    "&header=Cache-Control:max-age=300"), &r) == 200 &&
		    is_100(&r), "GET %d", i);
	REQUIRE(origin_count(&O) == n0 + 2, "a Vary: * answer was reused");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/* Range requests are answered from the whole stored response. */
#define RGET(range) \
	"GET " URL100 " HTTP/1.1\r\nHost: gw.example\r\nRange: " range \
	"\r\n\r\n"

START_TEST(test_range)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, RGET("bytes=10-19"), &r) == 206 && r.blen == 10 &&
	    memcmp(r.body, PATTERN + 10, 10) == 0, "10-19: %d", r.status);
	REQUIRE(hv_is(&r, "Content-Range", "bytes 10-19/100") &&
	    hv_is(&r, "Content-Length", "10") && hv(&r, "Age") != NULL,
	    "206 head");
	REQUIRE(ask(&c, RGET("bytes=-5"), &r) == 206 && r.blen == 5 &&
	    hv_is(&r, "Content-Range", "bytes 95-99/100"), "suffix");
	REQUIRE(ask(&c, RGET("bytes=200-"), &r) == 416 &&
	    hv_is(&r, "Content-Range", "bytes */100"), "416: %d", r.status);
	/* several ranges: the whole response is allowed, and simpler */
	REQUIRE(ask(&c, RGET("bytes=0-1,5-6"), &r) == 200 && is_100(&r),
	    "multi: %d", r.status);
	/* If-Range that does not match: the whole response */
	REQUIRE(ask(&c, "GET " URL100 " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Range: bytes=0-9\r\nIf-Range: \"nope\"\r\n\r\n", &r) == 200 &&
	    is_100(&r), "If-Range: %d", r.status);
	REQUIRE(origin_count(&O) == n0, "a range reached the origin");
	/* the connection is still in step after all of them */
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r), "GET");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * CacheLock: while one request fetches a key, a concurrent miss for it
 * waits and is served from the stored response (one origin fetch);
 * without CacheLock both go to the origin.  The second request is sent
 * only once the origin has seen the first, which it answers after 2 s.
 */
#define SLOW	"/slow/2?header=Cache-Control:max-age=300"

static long
concurrent_misses(int lock)
{
	struct client	a, b;
	struct resp	ra, rb;
	long		n0;
	int		i;

	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	start_gw("CacheRoot \"%s\"\nCacheEnable disk /\n%s"
	    "StartServers 4\nMinSpareServers 4\n"
	    "ProxyPass / http://127.0.0.1:%d/\n", croot,
	    lock ? "CacheLock on\nCacheLockMaxAge 60\n" : "", O.port);
	n0 = origin_count(&O);
	cl_open(&a);
	cl_open(&b);
	REQUIRE(cl_sends(&a, GET(SLOW)) == 0, "send a");
	/* wait (bounded) until the origin holds the first request */
	for (i = 0; i < 1000 && origin_count(&O) == n0; i++)
		(void)usleep(10000);
	REQUIRE(origin_count(&O) == n0 + 1, "the first request never came");
	REQUIRE(cl_sends(&b, GET(SLOW)) == 0, "send b");
	REQUIRE(read_resp(&a, &ra, 0) == 0 && ra.status == 200, "a: %d",
	    ra.status);
	REQUIRE(read_resp(&b, &rb, 0) == 0 && rb.status == 200, "b: %d",
	    rb.status);
	/* the origin's page names its request: the same one, or two */
	REQUIRE(!lock || (rb.blen == ra.blen &&
	    memcmp(ra.body, rb.body, ra.blen) == 0), "b got another body");
	cl_close(&a);
	cl_close(&b);
	resp_free(&ra);
	resp_free(&rb);
	return origin_count(&O) - n0;
}

START_TEST(test_lock)
{
	long	n = concurrent_misses(1);

	REQUIRE(n == 1, "CacheLock on: %ld origin fetches", n);
}
END_TEST

START_TEST(test_no_lock)
{
	long	n = concurrent_misses(0);

	REQUIRE(n == 2, "CacheLock off: %ld origin fetches", n);
}
END_TEST

/* The Cache* knobs reach the cache, per virtual host. */
START_TEST(test_knobs)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_gw("CacheRoot \"%s\"\nCacheEnable disk /\n"
	    "CacheMaxFileSize 50\nCacheIgnoreQueryString On\n"
	    "CacheIgnoreNoLastMod On\nCacheDefaultExpire 300\n"
	    "<Location /size/20>\nCacheMaxFileSize 0\n</Location>\n"
	    "ProxyPass / http://127.0.0.1:%d/\n", croot, O.port);
	cl_open(&c);
	/* CacheMaxFileSize 50: 100 bytes are not stored */
	n0 = origin_count(&O);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
		    "GET %d", i);
	REQUIRE(origin_count(&O) == n0 + 2, "a body over CacheMaxFileSize "
	    "was stored");
	/* 40 bytes are; CacheIgnoreQueryString: any query is the same */
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET("/size/40?header=Cache-Control:max-age=300"),
	    &r) == 200 && r.blen == 40, "40 bytes");
	REQUIRE(ask(&c, GET("/size/40?other"), &r) == 200 && r.blen == 40 &&
	    hv(&r, "Age") != NULL, "another query");
	REQUIRE(origin_count(&O) == n0 + 1, "the query was in the key");
	/* no validator, no freshness: CacheIgnoreNoLastMod, then
	   CacheDefaultExpire make it fresh for 300 s */
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET("/size/30"), &r) == 200, "30 bytes");
	REQUIRE(ask(&c, GET("/size/30"), &r) == 200 && r.blen == 30 &&
	    hv(&r, "Age") != NULL, "30 bytes again");
	REQUIRE(origin_count(&O) == n0 + 1, "CacheDefaultExpire not used");
	/* a <Location>'s own CacheMaxFileSize: nothing stored there */
	n0 = origin_count(&O);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET("/size/20"), &r) == 200 && r.blen == 20,
		    "in <Location> %d", i);
	REQUIRE(origin_count(&O) == n0 + 2, "<Location> knob not applied");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_post_invalidates)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, "POST " URL100 " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Content-Length: 3\r\n\r\nabc", &r) == 200, "POST: %d",
	    r.status);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r), "GET");
	REQUIRE(origin_count(&O) == n0 + 2, "POST did not invalidate");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_head_from_get)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, "HEAD " URL100 " HTTP/1.1\r\nHost: gw.example\r\n\r\n",
	    &r) == 200 && r.blen == 0, "HEAD: %d", r.status);
	REQUIRE(hv_is(&r, "Content-Length", "100") && hv(&r, "Age") != NULL,
	    "HEAD head");
	REQUIRE(origin_count(&O) == n0, "HEAD reached the origin");
	/* the connection is still usable after a HEAD hit */
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r), "GET");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_unwritable_root)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_write_file(croot, "a file, not a directory\n") == 0,
	    "write %s", croot);
	start_cached(croot);
	REQUIRE(gwt_log_count(&S, "serving uncached for CacheRoot") >= 1,
	    "no error logged");
	n0 = origin_count(&O);
	cl_open(&c);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
		    "GET %d", i);
	REQUIRE(origin_count(&O) == n0 + 2, "served from a cache");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_kill_worker)
{
	struct client	c;
	struct resp	r;
	pid_t		kids[16];
	long		n0;
	int		n;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	cl_close(&c);
	n = gwt_children(S.pid, kids, 16);
	REQUIRE(n >= 1, "no workers");
	REQUIRE(kill(kids[0], SIGKILL) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "cache: failchk", 1, GWT_WAIT) == 0,
	    "no failchk logged");
	n0 = origin_count(&O);
	for (int i = 0; i < 4; i++) {
		cl_open(&c);
		REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
		    "GET %d after kill", i);
		cl_close(&c);
	}
	REQUIRE(origin_count(&O) == n0, "the entry was lost");
	resp_free(&r);
}
END_TEST

/* tmp_bytes - bytes in the temp files under CacheRoot/.tmp, or -1. */
static long long
tmp_bytes(void)
{
	char		 dir[512], p[1024];
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	long long	 n = -1;

	(void)snprintf(dir, sizeof(dir), "%s/.tmp", croot);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			n = (n < 0 ? 0 : n) + (long long)st.st_size;
	}
	(void)closedir(d);
	return n;
}

/*
 * kill -9 the worker in the middle of storing a response: no partial
 * object is ever served, and the next request stores it whole.  The
 * client reads nothing, so the worker stalls mid-body with a temp file
 * on disk; that worker is killed.
 */
#define BIGURL	"/size/50000000?header=Cache-Control:max-age=300"

START_TEST(test_kill_while_storing)
{
	struct client	a, c;
	struct resp	r;
	pid_t		pid;
	long		n0;
	int		i;

	memset(&r, 0, sizeof(r));
	start_cached_with(croot, "CacheMaxFileSize 100000000\n");
	cl_open(&a);
	REQUIRE(cl_sends(&a, GET(BIGURL)) == 0, "send");
	for (i = 0; i < 1000 && tmp_bytes() < 65536; i++)
		(void)usleep(10000);
	REQUIRE(tmp_bytes() >= 65536, "no temp body file being written");
	REQUIRE((pid = gwt_server_pid(S.pid, a.fd, 10)) > 0 && pid != S.pid,
	    "which worker serves it?");
	REQUIRE(kill(pid, SIGKILL) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "cache: failchk", 1, GWT_WAIT) == 0,
	    "no failchk logged");
	cl_close(&a);
	n0 = origin_count(&O);
	cl_open(&c);
	REQUIRE(ask(&c, GET(BIGURL), &r) == 200 && r.complete &&
	    r.blen == 50000000 && pattern_ok(r.body, r.blen),
	    "after the kill: %d, %zu bytes", r.status, r.blen);
	REQUIRE(origin_count(&O) == n0 + 1, "a partial object was served");
	REQUIRE(ask(&c, GET(BIGURL), &r) == 200 && r.complete &&
	    r.blen == 50000000 && hv(&r, "Age") != NULL, "then a hit");
	REQUIRE(origin_count(&O) == n0 + 1, "it was not stored whole");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * kill -9 of every process (a machine crash, as far as the cache
 * knows), then a new start on the same CacheRoot: the index is
 * recovered (or rebuilt) and the gateway serves, caching again.
 */
START_TEST(test_kill_all_restart)
{
	struct client	c;
	struct resp	r;
	pid_t		kids[64];
	long		n0;
	int		n;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	cl_close(&c);
	n = gwt_children(S.pid, kids, 64);
	REQUIRE(kill(S.pid, SIGKILL) == 0, "kill the master");
	for (int i = 0; i < n; i++)
		(void)kill(kids[i], SIGKILL);
	REQUIRE(gwt_wait_exit(S.pid, 10, NULL) == 0, "master gone");
	for (int i = 0; i < n; i++)
		REQUIRE(gwt_wait_gone(kids[i], 10) == 0, "worker %d gone", i);
	S.pid = 0;
	REQUIRE(truncate(S.errlog, 0) == 0, "truncate the error log");
	REQUIRE(gwt_start(&S, NULL) == 0, "no restart after kill -9");
	n0 = origin_count(&O);
	cl_open(&c);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r), "GET 1");
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r) &&
	    hv(&r, "Age") != NULL, "GET 2");
	/* recovered: a hit at once; rebuilt: one fetch, then hits */
	REQUIRE(origin_count(&O) <= n0 + 1, "not caching after the restart");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

#define NOCACHE(u)	"GET " u " HTTP/1.1\r\nHost: gw.example\r\n" \
			"Cache-Control: no-cache\r\n\r\n"

/*
 * A stored response with an ETag, revalidated (request no-cache): the
 * origin answers 304 to our If-None-Match, counted once; the body
 * comes from the cache; a field of the 304 is merged into the stored
 * head and stays for later hits.  CacheHeader and CacheDetailHeader
 * name each step.
 */
#define URL304	"/size/100?etag=v1&header=Cache-Control:max-age=300" \
		"&header304=X-Revalidated:yes"
/*
 * stale-while-revalidate: a stale response within its window is served
 * at once, then refreshed (a conditional request, answered 304 with an
 * s-maxage that outweighs the Age) before the next request on the connection is read, so
 * that request is a fresh hit.
 */
#define SWR	"/size/100?etag=s&header=Age:5&header=Cache-Control:" \
		"max-age%3D1,stale-while-revalidate%3D600" \
		"&header304=Cache-Control:s-maxage%3D600" \
		"&header304=X-Refreshed:yes"

START_TEST(test_swr)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached_with(croot, "CacheHeader On\n");
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(SWR), &r) == 200 && is_100(&r), "first GET");
	REQUIRE(origin_count(&O) == n0 + 1, "first GET not from the origin");
	REQUIRE(ask(&c, GET(SWR), &r) == 200 && is_100(&r) &&
	    hv_is(&r, "X-Cache", "HIT from gw.example") &&
	    hv(&r, "X-Refreshed") == NULL, "stale GET: %d %s", r.status,
	    hv(&r, "X-Cache"));
	/* the refresh ran before this request was read */
	REQUIRE(ask(&c, GET(SWR), &r) == 200 && is_100(&r) &&
	    hv_is(&r, "X-Refreshed", "yes") &&
	    hv_is(&r, "X-Cache", "HIT from gw.example"), "refreshed GET");
	REQUIRE(origin_count(&O) == n0 + 2, "%ld origin requests, not 2",
	    origin_count(&O) - n0);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * A forward proxy (ProxyRequests On) caches by the full URL, and a
 * CacheEnable/CacheDisable rule may name a scheme and host.
 */
START_TEST(test_forward_proxy)
{
	struct client	c;
	struct resp	r;
	char		req[512], dis[512];
	long		n0;

	memset(&r, 0, sizeof(r));
	start_gw("ProxyRequests On\n<Proxy *>\nRequire ip 127.0.0.1\n"
	    "</Proxy>\nCacheRoot \"%s\"\n"
	    "CacheEnable disk http://127.0.0.1:%d/size/\n"
	    "CacheDisable http://127.0.0.1:%d/size/7\n", croot, O.port,
	    O.port);
	cl_open(&c);
	(void)snprintf(req, sizeof(req), "GET http://127.0.0.1:%d" URL100
	    " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", O.port, O.port);
	(void)snprintf(dis, sizeof(dis), "GET http://127.0.0.1:%d/size/70?"
	    "header=Cache-Control:max-age=300 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", O.port, O.port);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, req, &r) == 200 && is_100(&r), "first: %d",
	    r.status);
	REQUIRE(ask(&c, req, &r) == 200 && is_100(&r) &&
	    hv(&r, "Age") != NULL, "second: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 1, "a forward proxy hit reached "
	    "the origin");
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, dis, &r) == 200 && r.blen == 70, "disabled %d",
		    i);
	REQUIRE(origin_count(&O) == n0 + 3, "CacheDisable URL not honoured");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * CacheKeyBaseURL: two virtual hosts with the same base share entries;
 * CacheIgnoreURLSessionIdentifiers: a session id is not in the key.
 */
START_TEST(test_key_knobs)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_gw("CacheRoot \"%s\"\nCacheEnable disk /\n"
	    "CacheKeyBaseURL http://shared.example/\n"
	    "CacheIgnoreURLSessionIdentifiers sid jsessionid\n"
	    "<VirtualHost *>\nServerName a.example\n"
	    "ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\nServerName b.example\n"
	    "ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n", croot,
	    O.port, O.port);
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, "GET " URL100 "&sid=1 HTTP/1.1\r\n"
	    "Host: a.example\r\n\r\n", &r) == 200 && is_100(&r), "a");
	REQUIRE(ask(&c, "GET " URL100 "&sid=2 HTTP/1.1\r\n"
	    "Host: b.example\r\n\r\n", &r) == 200 && is_100(&r) &&
	    hv(&r, "Age") != NULL, "b");
	REQUIRE(ask(&c, "GET /size/100;jsessionid=7?header=Cache-Control:"
	    "max-age=300 HTTP/1.1\r\nHost: a.example\r\n\r\n", &r) == 200 &&
	    is_100(&r), "path parameter");
	REQUIRE(origin_count(&O) == n0 + 1, "%ld origin requests, not 1",
	    origin_count(&O) - n0);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * CacheEnable mem: no CacheRoot, nothing on disk; one store shared by
 * every worker (hits on new connections, served by whichever worker);
 * MCacheMaxObjectSize bounds the bodies kept; Vary works there too; a
 * POST invalidates.
 */
START_TEST(test_mem)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_gw("CacheEnable mem /\nMCacheSize 1024\n"
	    "MCacheMaxObjectSize 60000\nCacheHeader On\n"
	    "StartServers 3\nMinSpareServers 3\n"
	    "ProxyPass / http://127.0.0.1:%d/\n", O.port);
	REQUIRE(gwt_wait_log(&S, "cache: memory store of 1024 KiB", 1,
	    GWT_WAIT) == 0, "no memory store opened");
	n0 = origin_count(&O);
	for (int i = 0; i < 6; i++) {
		cl_open(&c);
		REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
		    "GET %d: %d", i, r.status);
		REQUIRE(i == 0 || (hv(&r, "Age") != NULL &&
		    hv_is(&r, "X-Cache", "HIT from gw.example")),
		    "GET %d not from the memory store", i);
		cl_close(&c);
	}
	REQUIRE(origin_count(&O) == n0 + 1, "%ld origin requests, not 1",
	    origin_count(&O) - n0);
	/* a body over MCacheMaxObjectSize is not kept */
	cl_open(&c);
	n0 = origin_count(&O);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET("/size/70000?header=Cache-Control:"
		    "max-age=300"), &r) == 200 && r.blen == 70000, "big %d", i);
	REQUIRE(origin_count(&O) == n0 + 2, "a body over "
	    "MCacheMaxObjectSize was kept");
	/* variants */
	n0 = origin_count(&O);
	REQUIRE(ask(&c, VGET("en"), &r) == 200, "en");
	REQUIRE(ask(&c, VGET("fr"), &r) == 200, "fr");
	REQUIRE(ask(&c, VGET("en"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: en\r\n") != NULL &&
	    hv(&r, "Age") != NULL, "en hit");
	REQUIRE(ask(&c, VGET("fr"), &r) == 200 &&
	    strstr(r.body, "Accept-Language: fr\r\n") != NULL &&
	    hv(&r, "Age") != NULL, "fr hit");
	REQUIRE(origin_count(&O) == n0 + 2, "variants not kept in memory");
	/* invalidation */
	REQUIRE(ask(&c, "POST " URL100 " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Content-Length: 0\r\n\r\n", &r) == 200, "POST");
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r), "after POST");
	REQUIRE(origin_count(&O) == n0 + 1, "POST did not invalidate");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * Under a small file-size limit (ulimit -f) writes past it fail with
 * EFBIG instead of killing the process (SIGXFSZ is ignored): gatewayd
 * starts (its cache may be off: the index cannot grow its files),
 * serves whole answers, and no worker dies.
 */
#define BIG5	"/size/5000000?header=Cache-Control:max-age=300"

START_TEST(test_fsize_limit)
{
	struct client	c;
	struct resp	r;
	struct rlimit	old, rl;

	memset(&r, 0, sizeof(r));
	/* the gateway inherits a 1 MiB soft limit; this process gets its
	   own back once the gateway has started */
	REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0, "getrlimit");
	rl = old;
	rl.rlim_cur = 1024 * 1024;
	REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit");
	start_cached_with(croot, "CacheMaxFileSize 100000000\n");
	REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0, "setrlimit back");
	cl_open(&c);
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET(BIG5), &r) == 200 && r.complete &&
		    r.blen == 5000000 && pattern_ok(r.body, r.blen),
		    "GET %d: %d, %zu bytes", i, r.status, r.blen);
	REQUIRE(gwt_log_count(&S, "exit signal") == 0, "a worker died");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_revalidate_304)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached_with(croot, "CacheHeader On\nCacheDetailHeader On\n");
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URL304), &r) == 200 && is_100(&r) &&
	    from_origin(&r), "first GET: %d", r.status);
	REQUIRE(hv_is(&r, "X-Cache", "MISS from gw.example"), "X-Cache: %s",
	    hv(&r, "X-Cache"));
	REQUIRE(hv_is(&r, "X-Cache-Detail",
	    "\"cache miss: attempting entity save\" from gw.example"),
	    "X-Cache-Detail: %s", hv(&r, "X-Cache-Detail"));
	REQUIRE(hv(&r, "X-Revalidated") == NULL, "a 200 with header304");
	REQUIRE(origin_count(&O) == n0 + 1, "first GET not from the origin");
	REQUIRE(ask(&c, GET(URL304), &r) == 200 && is_100(&r), "hit");
	REQUIRE(hv_is(&r, "X-Cache", "HIT from gw.example") &&
	    hv_is(&r, "X-Cache-Detail", "\"cache hit\" from gw.example"),
	    "hit X-Cache: %s", hv(&r, "X-Cache"));
	REQUIRE(origin_count(&O) == n0 + 1, "a fresh hit reached the origin");
	/* revalidated: one request upstream, answered 304 */
	REQUIRE(ask(&c, NOCACHE(URL304), &r) == 200 && is_100(&r),
	    "revalidated GET: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 2, "no revalidation upstream");
	REQUIRE(hv_is(&r, "X-Revalidated", "yes"), "the 304 was not merged");
	REQUIRE(hv_is(&r, "ETag", "\"v1\"") && hv(&r, "Age") != NULL,
	    "revalidated head");
	REQUIRE(hv_is(&r, "X-Cache", "REVALIDATE from gw.example"),
	    "revalidated X-Cache: %s", hv(&r, "X-Cache"));
	REQUIRE(hv_is(&r, "X-Cache-Detail", "\"conditional cache hit: entity "
	    "refreshed\" from gw.example"), "revalidated X-Cache-Detail: %s",
	    hv(&r, "X-Cache-Detail"));
	/* the merged head was stored */
	REQUIRE(ask(&c, GET(URL304), &r) == 200 && is_100(&r), "later hit");
	REQUIRE(origin_count(&O) == n0 + 2, "the later hit reached the origin");
	REQUIRE(hv_is(&r, "X-Revalidated", "yes"), "merged head not stored");
	/* a HEAD revalidates too */
	REQUIRE(ask(&c, "HEAD " URL304 " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Cache-Control: no-cache\r\n\r\n", &r) == 200 && r.blen == 0 &&
	    hv_is(&r, "Content-Length", "100"), "revalidated HEAD: %d",
	    r.status);
	REQUIRE(origin_count(&O) == n0 + 3, "HEAD not revalidated");
	/* the connection is still in step */
	REQUIRE(ask(&c, GET(URL304), &r) == 200 && is_100(&r), "last hit");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * A 304 that selects nothing we hold (another ETag) is not merged: the
 * entry goes and the request is asked again without validators.  (The
 * key ignores the query, so the query words can change the origin's
 * answers under one entry.)
 */
START_TEST(test_304_mismatch)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached_with(croot, "CacheIgnoreQueryString On\n");
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET("/size/100?etag=v1&header=Cache-Control:"
	    "max-age=0"), &r) == 200 && is_100(&r), "first GET");
	REQUIRE(ask(&c, GET("/size/100?ifstatus=304&header=ETag:%22v2%22"
	    "&header=Cache-Control:max-age=0"), &r) == 200 && is_100(&r) &&
	    hv_is(&r, "ETag", "\"v2\""), "after a foreign 304: %d %s",
	    r.status, hv(&r, "ETag"));
	REQUIRE(origin_count(&O) == n0 + 3, "%ld origin requests, not 3",
	    origin_count(&O) - n0);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * A 304's Set-Cookie goes to the client whose request was revalidated,
 * and is never stored for others; a 204 is stored though it has no
 * body (CacheMinFileSize is about bodies).
 */
#define COOKIE	"/size/100?etag=c&header=Cache-Control:max-age=0" \
		"&header304=Set-Cookie:a%3Dc" \
		"&header304=Cache-Control:s-maxage%3D300"

START_TEST(test_304_cookie_and_204)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	REQUIRE(ask(&c, GET(COOKIE), &r) == 200 && hv(&r, "Set-Cookie") ==
	    NULL, "first GET");
	REQUIRE(ask(&c, GET(COOKIE), &r) == 200 && is_100(&r) &&
	    hv_is(&r, "Set-Cookie", "a=c"), "revalidated: Set-Cookie %s",
	    hv(&r, "Set-Cookie"));
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(COOKIE), &r) == 200 && is_100(&r) &&
	    hv(&r, "Set-Cookie") == NULL, "the cookie was stored");
	REQUIRE(origin_count(&O) == n0, "the refreshed entry is not fresh");
	for (int i = 0; i < 2; i++)
		REQUIRE(ask(&c, GET("/status/204?header=Cache-Control:"
		    "max-age=300"), &r) == 204, "204 %d: %d", i, r.status);
	REQUIRE(origin_count(&O) == n0 + 1, "a 204 was not stored");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * Revalidation answered 200 (the origin ignores our If-None-Match):
 * the new response replaces the stored one.  The origin's "/" page
 * echoes the request head, so the stored body says whether it is the
 * revalidation's.
 */
#define URL200	"/?header=Cache-Control:max-age=300&header=ETag:%22x%22"
START_TEST(test_revalidate_200)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URL200), &r) == 200 && r.complete &&
	    strstr(r.body, "If-None-Match") == NULL, "first GET: %d",
	    r.status);
	REQUIRE(hv(&r, "X-Cache") == NULL, "X-Cache without CacheHeader");
	REQUIRE(ask(&c, NOCACHE(URL200), &r) == 200 && r.complete,
	    "revalidated GET: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 2, "no revalidation upstream");
	REQUIRE(strstr(r.body, "If-None-Match") != NULL,
	    "the validator was not sent");
	REQUIRE(ask(&c, GET(URL200), &r) == 200 && r.complete, "hit");
	REQUIRE(origin_count(&O) == n0 + 2, "the hit reached the origin");
	REQUIRE(strstr(r.body, "If-None-Match") != NULL,
	    "the 200 did not replace the stored body");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * A stale entry whose origin is down: CacheStaleOnError (On) serves
 * it, with an Age past its lifetime.
 */
#define URLSIE	"/size/100?etag=v2&header=Cache-Control:max-age=2"
START_TEST(test_stale_if_error)
{
	struct client	c;
	struct resp	r;
	time_t		t1;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached_with(croot, "CacheHeader On\n");
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URLSIE), &r) == 200 && is_100(&r), "first GET");
	t1 = time(NULL);
	REQUIRE(ask(&c, GET(URLSIE), &r) == 200 && is_100(&r) &&
	    origin_count(&O) == n0 + 1, "not stored");
	cl_close(&c);
	/* stale: the lifetime is past by the clock, not by a race */
	while (time(NULL) < t1 + 3)
		(void)poll(NULL, 0, 100);
	proc_stop(&O, SIGTERM);
	cl_open(&c);
	REQUIRE(ask(&c, GET(URLSIE), &r) == 200 && is_100(&r),
	    "stale GET with the origin down: %d", r.status);
	REQUIRE(hv(&r, "Age") != NULL && atoi(hv(&r, "Age")) >= 2,
	    "stale Age: %s", hv(&r, "Age"));
	REQUIRE(hv(&r, "Warning") == NULL, "a Warning (RFC 9111 has none)");
	REQUIRE(hv_is(&r, "X-Cache", "HIT from gw.example"), "X-Cache: %s",
	    hv(&r, "X-Cache"));
	/* a URL never stored still fails */
	REQUIRE(ask(&c, GET("/size/5"), &r) >= 500, "uncached: %d", r.status);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * The origin answers a revalidation 503: a stale entry is served (as
 * CacheStaleOnError On), unless it said must-revalidate: then the 503
 * goes to the client.
 */
#define URL5XX	"/size/100?etag=v5&ifstatus=503" \
		"&header=Cache-Control:max-age=2"
#define URL5XXMR "/size/100?etag=v6&ifstatus=503" \
		"&header=Cache-Control:max-age=2,must-revalidate"
START_TEST(test_stale_on_5xx)
{
	struct client	c;
	struct resp	r;
	time_t		t1;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URL5XX), &r) == 200 && is_100(&r), "first GET");
	REQUIRE(ask(&c, GET(URL5XXMR), &r) == 200 && is_100(&r),
	    "first GET, must-revalidate");
	t1 = time(NULL);
	REQUIRE(ask(&c, GET(URL5XX), &r) == 200 && ask(&c, GET(URL5XXMR),
	    &r) == 200 && origin_count(&O) == n0 + 2, "not stored");
	while (time(NULL) < t1 + 3)
		(void)poll(NULL, 0, 100);
	REQUIRE(ask(&c, GET(URL5XX), &r) == 200 && is_100(&r),
	    "stale GET with a 503 upstream: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 3, "not revalidated");
	REQUIRE(hv(&r, "Age") != NULL && atoi(hv(&r, "Age")) >= 2,
	    "stale Age: %s", hv(&r, "Age"));
	REQUIRE(ask(&c, GET(URL5XXMR), &r) == 503 && from_origin(&r),
	    "must-revalidate with a 503 upstream: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 4, "not revalidated");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*
 * The client's own If-None-Match on a fresh entry: 304 from the cache,
 * no request upstream; a tag that does not match gets the stored 200.
 */
#define URLINM	"/size/100?etag=v3&header=Cache-Control:max-age=300"
START_TEST(test_client_inm)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, GET(URLINM), &r) == 200 && is_100(&r), "first GET");
	REQUIRE(ask(&c, "GET " URLINM " HTTP/1.1\r\nHost: gw.example\r\n"
	    "If-None-Match: \"zz\", W/\"v3\"\r\n\r\n", &r) == 304,
	    "If-None-Match hit: %d", r.status);
	REQUIRE(r.blen == 0 && hv_is(&r, "ETag", "\"v3\"") &&
	    hv(&r, "Content-Length") == NULL && hv(&r, "Content-Type") == NULL
	    && hv(&r, "Age") != NULL, "the 304's head");
	REQUIRE(ask(&c, "GET " URLINM " HTTP/1.1\r\nHost: gw.example\r\n"
	    "If-None-Match: \"other\"\r\n\r\n", &r) == 200 && is_100(&r),
	    "If-None-Match miss: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 1, "a conditional hit reached the "
	    "origin");
	/* revalidation with the client's tag: ours upstream, 304 to it */
	REQUIRE(ask(&c, "GET " URLINM " HTTP/1.1\r\nHost: gw.example\r\n"
	    "Cache-Control: no-cache\r\nIf-None-Match: \"v3\"\r\n\r\n", &r) ==
	    304, "revalidated If-None-Match: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 2, "no-cache did not revalidate");
	/* If-Match is the origin's to judge */
	REQUIRE(ask(&c, "GET " URLINM " HTTP/1.1\r\nHost: gw.example\r\n"
	    "If-Match: \"v3\"\r\n\r\n", &r) == 200 && is_100(&r) &&
	    from_origin(&r), "If-Match: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 3, "If-Match served from the cache");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/*---------------------------------------------------------------------
 * A process attached to the index dies at a bad moment; the cache
 * manager dies.  The gateway keeps serving, and caching.
 */

#define URL_B		"/size/100?b=1&header=Cache-Control:max-age=300"
#define DEAD_NAME	"gwtestdeadprocess00000"	/* a hash name */

/* How the joined process stops (SIGSTOP), to be killed (SIGKILL). */
enum stop_at {
	STOP_IN_TXN,		/* between calls, in a write transaction */
	STOP_IN_LOG_WRITE	/* inside commit, holding the log mutex */
};

static volatile sig_atomic_t	pw_armed;

/* hook_stop - cache_db's test hook: stop inside put's transaction. */
static void
hook_stop(const char *where)
{
	if (strcmp(where, "put") == 0)
		(void)raise(SIGSTOP);
}

/*
 * stop_pwrite - Berkeley DB's pwrite (db_env_set_func_pwrite): once
 * armed, stop on a write to a log file.  Berkeley DB writes the log
 * holding the log region's mutex, which every commit and checkpoint of
 * every process needs.
 */
static ssize_t
stop_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	char	 link[64], target[1024];
	ssize_t	 len;

	if (pw_armed) {
		(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			if (strstr(target, "/log.") != NULL)
				(void)raise(SIGSTOP);
		}
	}
	return pwrite(fd, buf, n, off);
}

/* joiner - the child: join croot's index as a worker would, store. */
static void __attribute__((noreturn))
joiner(enum stop_at at)
{
	struct cache_rec	 rec;
	struct cache_db		*h;
	struct stat		 st;
	char			 home[512];
	gid_t			 gid;

	(void)snprintf(home, sizeof(home), "%s/%s", croot, CACHE_DB_HOME);
	if (stat(home, &st) == -1)
		_exit(2);
	gid = st.st_gid;	/* the workers' user and group own it */
	if (setgroups(1, &gid) == -1 || setgid(st.st_gid) == -1 ||
	    setuid(st.st_uid) == -1)
		_exit(2);
	if ((h = cache_db_worker_open(croot, NULL)) == NULL)
		_exit(2);
	if (at == STOP_IN_TXN)
		cache_db_set_test_hook(hook_stop);
	else if (db_env_set_func_pwrite(stop_pwrite) != 0)
		_exit(2);
	memset(&rec, 0, sizeof(rec));
	rec.stored = time(NULL);
	rec.size = 1;
	pw_armed = 1;
	(void)cache_db_put(h, DEAD_NAME, "http://gw.example/dead", &rec);
	_exit(3);		/* never stopped */
}

/*
 * kill_joiner - SIGKILL the stopped process, then reap it: from now on
 * kill(pid, 0) says it is gone, as failchk asks.
 */
static void
kill_joiner(pid_t pid)
{
	int	 status;

	REQUIRE(kill(pid, SIGKILL) == 0, "kill");
	REQUIRE(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL, "not killed");
}

/*
 * join_and_die - a process joins the index and stops where asked;
 * *stopped: its pid, or it is killed (kill_joiner) there at once.
 */
static void
join_and_die(enum stop_at at, pid_t *stopped)
{
	pid_t	 pid, r;
	int	 status = 0, i;

	(void)fflush(NULL);
	REQUIRE((pid = fork()) != -1, "fork");
	if (pid == 0)
		joiner(at);
	for (i = 0; i < GWT_WAIT * 100; i++) {
		r = waitpid(pid, &status, WNOHANG | WUNTRACED);
		if (r == pid)
			break;
		(void)usleep(10000);
	}
	if (!(i < GWT_WAIT * 100 && WIFSTOPPED(status))) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		REQUIRE(0, "the joining process did not stop where asked "
		    "(status %#x)", status);
	}
	if (stopped != NULL)
		*stopped = pid;
	else
		kill_joiner(pid);
}

/* cached_again - a new URL: from the origin, then from the cache. */
static void
cached_again(const char *url_req)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	cl_open(&c);
	n0 = origin_count(&O);
	REQUIRE(ask(&c, url_req, &r) == 200 && is_100(&r), "new URL: %d",
	    r.status);
	REQUIRE(ask(&c, url_req, &r) == 200 && is_100(&r) &&
	    hv(&r, "Age") != NULL, "new URL again: %d", r.status);
	REQUIRE(origin_count(&O) == n0 + 1, "not cached again");
	cl_close(&c);
	resp_free(&r);
}

/*
 * A process (gwcacheclean, say: not the master's child) dies inside a
 * write transaction, between two Berkeley DB calls: it holds locks, no
 * mutex.  The master's once-a-second failchk aborts its transaction
 * (no rebuild); the entry it was blocking is a hit again.
 */
START_TEST(test_dead_joiner_locks)
{
	struct client	c;
	struct resp	r;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	cl_close(&c);
	join_and_die(STOP_IN_TXN, NULL);
	REQUIRE(gwt_wait_log(&S, "Aborting txn", 1, GWT_WAIT) == 0,
	    "failchk did not abort the dead process's transaction");
	REQUIRE(gwt_wait_log(&S, "aborted the transaction(s) of dead "
	    "processes", 1, GWT_WAIT) == 0, "the master did not say so");
	REQUIRE(gwt_log_count(&S, "is dead") == 0, "the index died");
	n0 = origin_count(&O);
	cl_open(&c);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r) &&
	    hv(&r, "Age") != NULL, "GET after: %d", r.status);
	REQUIRE(origin_count(&O) == n0, "the entry was lost");
	cl_close(&c);
	cached_again(GET(URL_B));
	REQUIRE(gwt_log_count(&S, "rebuilding the cache index") == 0,
	    "rebuilt for no reason");
	resp_free(&r);
}
END_TEST

/* wchan - where the kernel says pid sleeps ("0": it does not say). */
static void
wchan(pid_t pid, char *out, size_t len)
{
	char	 path[64];
	FILE	*fp;

	(void)snprintf(out, len, "0");
	(void)snprintf(path, sizeof(path), "/proc/%ld/wchan", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(out, (int)len, fp) == NULL)
		(void)snprintf(out, len, "0");
	(void)fclose(fp);
}

static int
wchan_known(pid_t pid)
{
	char	 w[128];

	wchan(pid, w, sizeof(w));
	return strcmp(w, "0") != 0;
}

/* in_futex - pid sleeps in a futex (a Berkeley DB mutex's wait). */
static int
in_futex(pid_t pid)
{
	char	 w[128];

	wchan(pid, w, sizeof(w));
	return strstr(w, "futex") != NULL;
}

/*
 * A process dies inside Berkeley DB holding the log mutex (it stops in
 * the log write of its commit and is killed there): every other
 * process would wait forever at its next commit or checkpoint.  The
 * master's failchk finds it, the master stops every worker and the
 * cache manager, rebuilds the index and serves (and caches) again; and
 * it still obeys SIGTERM.
 */
START_TEST(test_dead_joiner_mutex)
{
	struct client	a, c;
	struct resp	r;
	pid_t		pid, w;
	long		n0;
	int		status, i, waiting;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	cl_open(&c);
	prime(&c, &r);
	cl_close(&c);
	join_and_die(STOP_IN_LOG_WRITE, &pid);
	/*
	 * While it is stopped, the worker that takes a request waits on
	 * the mutex in its lookup (a transaction's start reads the log's
	 * position), for good: only SIGKILL ends it, and its client gets
	 * no answer.
	 */
	cl_open(&a);
	REQUIRE(cl_sends(&a, GET(URL_B)) == 0, "send");
	REQUIRE((w = gwt_server_pid(S.pid, a.fd, 10)) > 0 && w != S.pid,
	    "which worker serves it?");
	for (i = 0; i < GWT_WAIT * 20 && !in_futex(w); i++)
		(void)usleep(50000);
	waiting = in_futex(w);
	kill_joiner(pid);
	REQUIRE(gwt_wait_log(&S, "open again after a rebuild", 1,
	    GWT_WAIT) == 0, "the index was not rebuilt");
	REQUIRE(gwt_log_count(&S, "is dead") >= 1, "no error logged");
	/* (if the kernel tells where processes sleep) */
	REQUIRE(waiting || !wchan_known(w), "the worker does not wait");
	if (waiting)
		REQUIRE(gwt_log_count(&S, "sending SIGKILL") >= 1,
		    "the waiting worker was not killed");
	resp_reset(&r);
	REQUIRE(read_resp(&a, &r, 0) != 0 || r.status == 0,
	    "an answer from a worker that waited: %d", r.status);
	cl_close(&a);
	n0 = origin_count(&O);
	cl_open(&c);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
	    "GET after: %d", r.status);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r) &&
	    hv(&r, "Age") != NULL, "GET again: %d", r.status);
	/* recovered: a hit at once; rebuilt empty: one fetch */
	REQUIRE(origin_count(&O) <= n0 + 1, "not cached after the rebuild");
	cl_close(&c);
	cached_again(GET(URL_B));
	REQUIRE(gwt_log_count(&S, "rebuilding the cache index") == 1,
	    "rebuilt more than once");
	REQUIRE(kill(S.pid, SIGTERM) == 0, "kill");
	REQUIRE(gwt_wait_exit(S.pid, GWT_WAIT, &status) == 0,
	    "the master does not stop on SIGTERM");
	S.pid = 0;
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "exit status %#x", status);
	resp_free(&r);
}
END_TEST

/* manager_pid - the master's child named gatewayd-cache, 0 if none. */
static pid_t
manager_pid(void)
{
	pid_t	 kids[64];
	char	 path[64], comm[64];
	pid_t	 found = 0;
	FILE	*fp;
	int	 n;

	n = gwt_children(S.pid, kids, 64);
	for (int i = 0; i < n && i < 64 && found == 0; i++) {
		(void)snprintf(path, sizeof(path), "/proc/%ld/comm",
		    (long)kids[i]);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), fp) != NULL &&
		    strcmp(comm, "gatewayd-cache\n") == 0)
			found = kids[i];
		(void)fclose(fp);
	}
	return found;
}

/* wait_manager - a cache manager other than old, or the test fails. */
static pid_t
wait_manager(pid_t old)
{
	pid_t	 pid = 0;

	for (int i = 0; i < GWT_WAIT * 20; i++) {
		if ((pid = manager_pid()) > 0 && pid != old)
			return pid;
		(void)usleep(50000);
	}
	REQUIRE(0, "no cache manager (other than %ld)", (long)old);
	return 0;
}

/*
 * kill -9 of the cache manager: the master reaps it, runs failchk and
 * starts another; the gateway keeps serving and caching.
 */
START_TEST(test_kill_manager)
{
	struct client	c;
	struct resp	r;
	pid_t		mgr, mgr2;
	long		n0;

	memset(&r, 0, sizeof(r));
	start_cached(croot);
	mgr = wait_manager(0);
	REQUIRE(gwt_log_count(&S, "cache manager pid") >= 1,
	    "the manager's start was not logged");
	cl_open(&c);
	prime(&c, &r);
	cl_close(&c);
	REQUIRE(kill(mgr, SIGKILL) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "cache: failchk of", 1, GWT_WAIT) == 0,
	    "no failchk after the manager's death");
	mgr2 = wait_manager(mgr);
	REQUIRE(mgr2 != mgr, "same manager");
	n0 = origin_count(&O);
	cl_open(&c);
	REQUIRE(ask(&c, GET(URL100), &r) == 200 && is_100(&r),
	    "GET after: %d", r.status);
	/* killed between checkpoints: still a hit; inside one: rebuilt */
	REQUIRE(origin_count(&O) == n0 || gwt_log_count(&S,
	    "open again after a rebuild") == 1, "the entry was lost");
	cl_close(&c);
	cached_again(GET(URL_B));
	resp_free(&r);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc = tcase_create("disk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hit);
	tcase_add_test(tc, test_no_store);
	tcase_add_test(tc, test_request_no_cache);
	tcase_add_test(tc, test_only_if_cached);
	tcase_add_test(tc, test_damaged_body);
	tcase_add_test(tc, test_post_invalidates);
	tcase_add_test(tc, test_head_from_get);
	tcase_add_test(tc, test_unwritable_root);
	tcase_add_test(tc, test_kill_worker);
	tcase_add_test(tc, test_kill_while_storing);
	tcase_add_test(tc, test_kill_all_restart);
	tcase_add_test(tc, test_revalidate_304);
	tcase_add_test(tc, test_revalidate_200);
	tcase_add_test(tc, test_stale_if_error);
	tcase_add_test(tc, test_stale_on_5xx);
	tcase_add_test(tc, test_client_inm);
	tcase_add_test(tc, test_vary);
	tcase_add_test(tc, test_vary_star);
	tcase_add_test(tc, test_range);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_no_lock);
	tcase_add_test(tc, test_knobs);
	tcase_add_test(tc, test_swr);
	tcase_add_test(tc, test_forward_proxy);
	tcase_add_test(tc, test_key_knobs);
	tcase_add_test(tc, test_mem);
	tcase_add_test(tc, test_fsize_limit);
	tcase_add_test(tc, test_304_mismatch);
	tcase_add_test(tc, test_304_cookie_and_204);
	tcase_add_test(tc, test_dead_joiner_locks);
	tcase_add_test(tc, test_dead_joiner_mutex);
	tcase_add_test(tc, test_kill_manager);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(cache_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
