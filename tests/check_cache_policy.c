/*
 * check_cache_policy.c - cache_policy.c: keys and Apache's hashed names,
 * CacheEnable/CacheDisable, Cache-Control and dates, storing, freshness
 * decisions, Vary, conditional requests, 304 merging and invalidation.
 * Messages are written as text and read by the real HTTP parser; dates
 * in them are given relative to NOW as {+N} or {-N}.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache_policy.h"
#include "conf.h"

#define NOW	1700000000LL		/* 2023-11-14 22:13:20 GMT */

static char		 bufs[4][16384];
static struct http_msg	 msgs[4];

/* imf - an IMF-fixdate for NOW + off. */
static void
imf(long long off, char *out, size_t len)
{
	time_t		t = (time_t)(NOW + off);
	struct tm	tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT",
	    &tm), 0);
}

/*
 * expand - in, with '\n' line ends and {+N}/{-N} dates, appended to out
 * with CRLF line ends.
 */
static void
expand(const char *in, char *out, size_t len)
{
	size_t		 o = strlen(out);
	char		 d[64], *end;
	long long	 off;

	for (; *in != '\0'; in++) {
		if (*in == '{') {
			off = strtoll(in + 1, &end, 10);
			ck_assert_int_eq(*end, '}');
			imf(off, d, sizeof(d));
			ck_assert_uint_lt(o + strlen(d), len);
			memcpy(out + o, d, strlen(d));
			o += strlen(d);
			in = end;
			continue;
		}
		ck_assert_uint_lt(o + 2, len);
		if (*in == '\n')
			out[o++] = '\r';
		out[o++] = *in;
	}
	out[o] = '\0';
}

/* response - "HTTP/1.1 status" with headers (lines ending in '\n'). */
static struct http_msg *
response(int slot, int status, const char *headers)
{
	char	*b = bufs[slot];
	int	 r;

	(void)snprintf(b, sizeof(bufs[0]), "HTTP/1.1 %d Whatever\r\n",
	    status);
	expand(headers, b, sizeof(bufs[0]));
	expand("\n", b, sizeof(bufs[0]));
	memset(&msgs[slot], 0, sizeof(msgs[slot]));
	r = http_parse_response(b, strlen(b), HTTP_M_GET, &msgs[slot]);
	ck_assert_msg(r == HTTP_OK, "response parse %d: %s", r,
	    msgs[slot].error ? msgs[slot].error : "");
	return &msgs[slot];
}

static struct http_msg *
request(int slot, const char *method, const char *target,
    const char *headers)
{
	static const struct http_limits lim = { 8190, 8190, 200 };
	char	*b = bufs[slot];
	int	 r;

	(void)snprintf(b, sizeof(bufs[0]), "%s %s HTTP/1.1\r\n"
	    "Host: example.com\r\n", method, target);
	expand(headers, b, sizeof(bufs[0]));
	expand("\n", b, sizeof(bufs[0]));
	memset(&msgs[slot], 0, sizeof(msgs[slot]));
	r = http_parse_request(b, strlen(b), &lim, &msgs[slot]);
	ck_assert_msg(r == HTTP_OK, "request parse %d: %s", r,
	    msgs[slot].error ? msgs[slot].error : "");
	return &msgs[slot];
}

static struct gw_config *
load(const char *text)
{
	char			 path[] = "/tmp/gwcpXXXXXX";
	struct gw_config	*c;
	FILE			*f;
	int			 fd, n;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	c = conf_load(path, NULL, 0, stderr, &n);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_msg(c != NULL, "config has %d errors", n);
	return c;
}

/*---------------------------------------------------------------------
 * Keys and hashed names
 */

static const struct {
	const char	*scheme, *host;
	unsigned	 port;
	const char	*target;
	int		 ignore_query;
	const char	*want;
} keys[] = {
	{ "http", "www.example.com", 80, "/index.html", 0,
	  "http://www.example.com:80/index.html?" },
	{ "http", "www.example.com", 80, "/index.html?", 0,
	  "http://www.example.com:80/index.html?" },
	{ "http", "www.example.com", 80, "/a?b=1&c=2", 0,
	  "http://www.example.com:80/a?b=1&c=2" },
	{ "http", "www.example.com", 80, "/a?b=1&c=2", 1,
	  "http://www.example.com:80/a?" },
	{ "https", "shop.example", 443, "/", 0, "https://shop.example:443/?" },
	{ "HTTP", "WWW.Example.COM", 8080, "/Case/Kept?Q=A", 0,
	  "http://www.example.com:8080/Case/Kept?Q=A" },
	{ "http", "h", 0, "/x", 0, "http://h/x?" },
	{ "http", "h", 80, "/a?b?c", 0, "http://h:80/a?b?c" },
	{ "http", "h", 80, "/%7Euser/", 0, "http://h:80/%7Euser/?" },
};

START_TEST(test_key)
{
	char	buf[256];
	int	n;

	n = cache_policy_key(buf, sizeof(buf), keys[_i].scheme, keys[_i].host,
	    keys[_i].port, keys[_i].target, strlen(keys[_i].target),
	    keys[_i].ignore_query);
	ck_assert_int_eq(n, (int)strlen(keys[_i].want));
	ck_assert_str_eq(buf, keys[_i].want);
}
END_TEST

START_TEST(test_strip_session)
{
	struct gw_strlist	sid = { NULL, (char *)"sid" };
	struct gw_strlist	js = { &sid, (char *)"jsessionid" };
	char			out[256];
	int			n;

#define STRIP(t)	(n = cache_policy_strip_session(t, strlen(t), &js, \
			    out, sizeof(out)), out[n < 0 ? 0 : n] = '\0', n)
	ck_assert_int_ge(STRIP("/a;jsessionid=123/b?x=1&sid=9&y=2"), 0);
	ck_assert_str_eq(out, "/a/b?x=1&y=2");
	ck_assert_int_ge(STRIP("/a;jsessionid=1;v=2?sid=1"), 0);
	ck_assert_str_eq(out, "/a;v=2?");
	ck_assert_int_ge(STRIP("/a?sidx=1&xsid=2"), 0);
	ck_assert_str_eq(out, "/a?sidx=1&xsid=2");
	ck_assert_int_ge(STRIP("/plain"), 0);
	ck_assert_str_eq(out, "/plain");
	ck_assert_int_ge(STRIP("/a?"), 0);
	ck_assert_str_eq(out, "/a?");
	ck_assert_int_eq(cache_policy_strip_session("/abc", 4, &js, out, 3),
	    -1);
#undef STRIP
}
END_TEST

START_TEST(test_key_short)
{
	char	buf[38];
	const char *want = "http://www.example.com:80/index.html?";

	/* exactly the key and its NUL fit; one byte less does not */
	ck_assert_int_eq(cache_policy_key(buf, sizeof(buf), "http",
	    "www.example.com", 80, "/index.html", 11, 0), 37);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(cache_policy_key(buf, sizeof(buf) - 1, "http",
	    "www.example.com", 80, "/index.html", 11, 0), -1);
	ck_assert_int_eq(cache_policy_key(buf, 0, "http", "h", 80, "/", 1,
	    0), -1);
}
END_TEST

/* Expected values from an independent MD5 + Apache-table encoder. */
static const struct {
	const char	*key;
	int		 levels, length;
	const char	*want;		/* NULL: refused */
} hashes[] = {
	/* mod_cache_disk's documented examples */
	{ "http://www.example.com:80/index.html?", 2, 1,
	  "H/E/oqc1lz@8jGJe9_cl6VNA" },
	{ "http://www.example.com:80/index.html?", 5, 3,
	  "HEo/qc1/lz@/8jG/Je9/_cl6VNA" },
	{ "http://www.example.com:80/index.html?", 2, 2,
	  "HE/oq/c1lz@8jGJe9_cl6VNA" },
	{ "http://www.example.com:80/index.html?", 0, 0,
	  "HEoqc1lz@8jGJe9_cl6VNA" },
	{ "http://www.example.com:80/index.html?", 1, 20,
	  "HEoqc1lz@8jGJe9_cl6V/NA" },
	{ "http://www.example.com:80/index.html?", 20, 1,
	  "H/E/o/q/c/1/l/z/@/8/j/G/J/e/9/_/c/l/6/V/NA" },
	{ "https://shop.example:443/a/b?x=1&y=2", 3, 1,
	  "z/6/L/QJgXCapbsC0K12J@npg" },
	{ "", 2, 2, "1B/2M/2Y8AsgTpgAmY7PhCfg" },
	{ "http://h:8080/?", 4, 5, "Oq@EA/3Q4xC/y1LHz/rTAMw/9w" },
	/* without the '?' or the port it is another key */
	{ "http://www.example.com/index.html?", 0, 0,
	  "SSTbohR1i58TFLXatsOM2w" },
	{ "http://www.example.com:80/index.html", 0, 0,
	  "LmyZtMeoObNIvP@z6SDgEQ" },
	/* levels x length <= 20, length >= 1 */
	{ "x", 3, 7, NULL },
	{ "x", 21, 1, NULL },
	{ "x", 2, 0, NULL },
	{ "x", -1, 2, NULL },
};

START_TEST(test_hash_path)
{
	char	buf[CP_HASH_PATH_MAX];
	int	n;

	n = cache_policy_hash_path(hashes[_i].key, strlen(hashes[_i].key),
	    hashes[_i].levels, hashes[_i].length, buf, sizeof(buf));
	if (hashes[_i].want == NULL) {
		ck_assert_int_eq(n, -1);
		return;
	}
	ck_assert_int_eq(n, (int)strlen(hashes[_i].want));
	ck_assert_str_eq(buf, hashes[_i].want);
}
END_TEST

START_TEST(test_hash)
{
	char	h[CP_HASH_LEN + 1], p[CP_HASH_PATH_MAX];
	const char *k = "http://www.example.com:80/index.html?";

	ck_assert_int_eq(cache_policy_hash(k, strlen(k), h), 0);
	ck_assert_str_eq(h, "HEoqc1lz@8jGJe9_cl6VNA");
	ck_assert_uint_eq(strlen(h), CP_HASH_LEN);
	/* every character is from Apache's alphabet */
	ck_assert_uint_eq(strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
	    "mnopqrstuvwxyz0123456789_@"), CP_HASH_LEN);
	/* the buffer must hold 22 + levels + NUL */
	ck_assert_int_eq(cache_policy_hash_path(k, strlen(k), 2, 1, p, 25),
	    24);
	ck_assert_int_eq(cache_policy_hash_path(k, strlen(k), 2, 1, p, 24),
	    -1);
}
END_TEST

/*---------------------------------------------------------------------
 * CacheEnable / CacheDisable
 */

static const char enable_conf[] =
    "Listen 80\nServerName main.example\n"
    "CacheEnable disk /\n"
    "CacheDisable /private\n"
    "CacheEnable mem /mem\n"
    "CacheDisable http://security.update.server/update-list/\n"
    "CacheEnable disk http://*.example.org/\n"
    "CacheEnable mem ftp://.ftp.example/\n"
    "CacheEnable mem http://port.example:8080/p\n"
    "CacheEnable disk http://anyport.example:/\n"
    "CacheDisable /qry?a=1\n"
    "<Location /loc>\nCacheEnable mem\n</Location>\n"
    "<Location /nocache>\nCacheDisable on\n</Location>\n"
    "<VirtualHost *:80>\nServerName v.example\n"
    "CacheEnable mem /vonly\nCacheDisable /vdis\n"
    "<Location /vloc>\nCacheDisable on\n</Location>\n"
    "</VirtualHost>\n";

static const struct {
	int		 vhost;		/* 0 main, 1 the <VirtualHost> */
	const char	*scheme, *host;
	unsigned	 port;
	const char	*path;
	const char	*want;		/* "" none, "d", "m", "dm", "md" */
} enables[] = {
	{ 0, NULL, NULL, 0, "/", "d" },
	{ 0, NULL, NULL, 0, "/index.html", "d" },
	{ 0, NULL, NULL, 0, "/private", "" },
	{ 0, NULL, NULL, 0, "/private/x", "" },
	{ 0, NULL, NULL, 0, "/private_files", "" },	/* strncmp prefix */
	{ 0, NULL, NULL, 0, "/privat", "d" },
	{ 0, NULL, NULL, 0, "/PRIVATE", "d" },		/* case counts */
	{ 0, NULL, NULL, 0, "/qry", "" },		/* a filter's query */
	{ 0, NULL, NULL, 0, "/qr", "d" },
	{ 0, NULL, NULL, 0, "/mem", "dm" },
	{ 0, NULL, NULL, 0, "/memory", "dm" },
	{ 0, NULL, NULL, 0, "/loc", "md" },		/* <Location> first */
	{ 0, NULL, NULL, 0, "/loc/a", "md" },
	{ 0, NULL, NULL, 0, "/location", "d" },		/* segment match */
	{ 0, NULL, NULL, 0, "/nocache", "" },
	{ 0, NULL, NULL, 0, "/nocache/x", "" },
	{ 0, NULL, NULL, 0, "/nocachex", "d" },
	{ 0, NULL, NULL, 0, "/vonly", "d" },		/* not the vhost's */
	{ 0, NULL, NULL, 0, "/vdis", "d" },
	{ 1, NULL, NULL, 0, "/", "d" },			/* main's apply too */
	{ 1, NULL, NULL, 0, "/vonly", "dm" },		/* main's, then own */
	{ 1, NULL, NULL, 0, "/vdis", "" },
	{ 1, NULL, NULL, 0, "/private", "" },		/* main's disable */
	{ 1, NULL, NULL, 0, "/nocache", "" },		/* main's <Location> */
	{ 1, NULL, NULL, 0, "/vloc/x", "" },
	{ 1, NULL, NULL, 0, "/loc", "md" },
	/* forward-proxy URLs: only scheme:// filters */
	{ 0, "http", "security.update.server", 0, "/update-list/x", "" },
	{ 0, "http", "security.update.server", 80, "/update-list/", "" },
	{ 0, "http", "security.update.server", 0, "/other", "" },
	{ 0, "http", "www.example.org", 0, "/x", "d" },
	{ 0, "http", "a.b.example.org", 0, "/", "d" },
	{ 0, "http", "WWW.EXAMPLE.ORG", 0, "/", "d" },
	{ 0, "http", "www.example.org", 0, NULL, "d" },	/* no path: "/" */
	{ 0, "http", "example.org", 0, "/", "" },	/* "*x" is a suffix */
	{ 0, "http", "badexample.org", 0, "/", "" },
	{ 0, "http", "www.example.org", 8080, "/", "" },	/* port 80 */
	{ 0, "HTTP", "www.example.org", 80, "/", "d" },
	{ 0, "https", "www.example.org", 0, "/", "" },
	{ 0, "ftp", "a.ftp.example", 0, "/f", "m" },
	{ 0, "ftp", "ftp.example", 0, "/f", "" },	/* ".x" needs the dot */
	{ 0, "http", "port.example", 8080, "/p/q", "m" },
	{ 0, "http", "port.example", 80, "/p/q", "" },
	{ 0, "http", "port.example", 8080, "/q", "" },
	{ 0, "http", "anyport.example", 1234, "/", "d" },	/* "host:" */
	{ 0, "http", "anyport.example", 0, "/z", "d" },
	{ 0, "http", "other.example", 0, "/index.html", "" },
	/* a proxied path never meets a local path filter */
	{ 0, "http", "other.example", 0, "/private", "" },
};

START_TEST(test_enabled)
{
	struct gw_config	*c = load(enable_conf);
	const struct gw_vhost	*v = enables[_i].vhost ? c->vhosts : &c->main;
	enum gw_cache_type	 t[2];
	char			 got[3] = "";
	int			 n;

	ck_assert_ptr_nonnull(v);
	n = cache_policy_enabled(c, v, enables[_i].scheme, enables[_i].host,
	    enables[_i].port, enables[_i].path, t);
	ck_assert_int_ge(n, 0);
	ck_assert_int_le(n, 2);
	for (int i = 0; i < n; i++)
		got[i] = t[i] == GW_CACHE_DISK ? 'd' : 'm';
	got[n] = '\0';
	ck_assert_msg(strcmp(got, enables[_i].want) == 0,
	    "%s%s: got \"%s\", want \"%s\"", enables[_i].host ?
	    enables[_i].host : "", enables[_i].path ? enables[_i].path : "",
	    got, enables[_i].want);
	conf_free(c);
}
END_TEST

START_TEST(test_enabled_none)
{
	struct gw_config	*c = load("Listen 80\n<Location /x>\n"
	    "CacheDisable on\n</Location>\n");
	enum gw_cache_type	 t[2];

	/* no CacheEnable anywhere: nothing is cached */
	ck_assert_int_eq(cache_policy_enabled(c, &c->main, NULL, NULL, 0,
	    "/", t), 0);
	ck_assert_int_eq(cache_policy_enabled(c, &c->main, "http", "h", 0,
	    "/", t), 0);
	conf_free(c);
	/* CacheDisable wins over an enabling <Location> */
	c = load("Listen 80\nCacheDisable /a\n<Location /a/b>\n"
	    "CacheEnable disk\n</Location>\n");
	ck_assert_int_eq(cache_policy_enabled(c, &c->main, NULL, NULL, 0,
	    "/a/b", t), 0);
	ck_assert_int_eq(cache_policy_enabled(c, &c->main, NULL, NULL, 0,
	    "/b", t), 0);
	conf_free(c);
	/* two enables of one type count once */
	c = load("Listen 80\nCacheEnable disk /\nCacheEnable disk /a\n");
	ck_assert_int_eq(cache_policy_enabled(c, &c->main, NULL, NULL, 0,
	    "/a", t), 1);
	ck_assert_int_eq(t[0], GW_CACHE_DISK);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * Cache-Control
 */

#define U	CP_UNSET
#define M	CP_DELTA_MAX

static const struct {
	const char	*value;
	unsigned	 flags;		/* exactly these, CP_CC_INVALID aside */
	int		 invalid;
	int64_t		 max_age, s_maxage, max_stale, min_fresh, swr, sie;
} ccs[] = {
	{ "", 0, 0, U, U, U, U, U, U },
	{ "max-age=3600", 0, 0, 3600, U, U, U, U, U },
	{ "MAX-AGE=3600", 0, 0, 3600, U, U, U, U, U },
	{ "max-age=0", 0, 0, 0, U, U, U, U, U },
	{ "max-age=003600", 0, 0, 3600, U, U, U, U, U },
	{ "max-age=\"3600\"", 0, 0, 3600, U, U, U, U, U },
	{ "max-age='3600'", 0, 1, 0, U, U, U, U, U },
	{ "max-age=-1", 0, 1, 0, U, U, U, U, U },
	{ "max-age=3600.0", 0, 1, 0, U, U, U, U, U },
	{ "max-age=a3600", 0, 1, 0, U, U, U, U, U },
	{ "max-age=3600a", 0, 1, 0, U, U, U, U, U },
	{ "max-age", 0, 1, 0, U, U, U, U, U },
	{ "max-age=", 0, 1, 0, U, U, U, U, U },
	{ "max-age =3600", 0, 1, 0, U, U, U, U, U },
	{ "max-age= 3600", 0, 1, 0, U, U, U, U, U },
	{ "max-age=\"36 00\"", 0, 1, 0, U, U, U, U, U },
	{ "max-age=\"3600", 0, 1, 0, U, U, U, U, U },
	{ "max-age=2147483647", 0, 0, 2147483647LL, U, U, U, U, U },
	{ "max-age=2147483648", 0, 0, M, U, U, U, U, U },
	{ "max-age=99999999999999999999999", 0, 0, M, U, U, U, U, U },
	/* the first occurrence wins */
	{ "max-age=1800, max-age=1", 0, 0, 1800, U, U, U, U, U },
	{ "max-age=1, max-age=1800", 0, 0, 1, U, U, U, U, U },
	{ "max-age=x, max-age=1800", 0, 1, 0, U, U, U, U, U },
	/* quoted strings hide what is in them */
	{ "extension=\"max-age=3600\", max-age=1", 0, 0, 1, U, U, U, U, U },
	{ "max-age=1, extension=\"max-age=3600\"", 0, 0, 1, U, U, U, U, U },
	{ "foo=\"a,no-store\", max-age=5", 0, 0, 5, U, U, U, U, U },
	{ "foo=\"a\\\"no-store\", max-age=5", 0, 0, 5, U, U, U, U, U },
	{ "foobar, max-age=3600", 0, 0, 3600, U, U, U, U, U },
	{ " , ,max-age=7 ,, ", 0, 0, 7, U, U, U, U, U },
	{ "s-maxage=10, max-age=20", 0, 0, 20, 10, U, U, U, U },
	{ "s-maxage=x", 0, 1, U, 0, U, U, U, U },
	{ "no-cache", CP_CC_NO_CACHE, 0, U, U, U, U, U, U },
	{ "No-CaChE", CP_CC_NO_CACHE, 0, U, U, U, U, U, U },
	{ "no-cache=\"a, b\"", CP_CC_NO_CACHE_FIELDS, 0, U, U, U, U, U, U },
	{ "no-cache=a", CP_CC_NO_CACHE_FIELDS, 0, U, U, U, U, U, U },
	{ "no-cache=\"\"", CP_CC_NO_CACHE, 1, U, U, U, U, U, U },
	{ "no-cache=\"a b\"", CP_CC_NO_CACHE, 1, U, U, U, U, U, U },
	{ "no-cache=\"a\" x", CP_CC_NO_CACHE, 1, U, U, U, U, U, U },
	{ "private", CP_CC_PRIVATE, 0, U, U, U, U, U, U },
	{ "private=\"set-cookie\"", CP_CC_PRIVATE_FIELDS, 0, U, U, U, U, U,
	  U },
	{ "no-store", CP_CC_NO_STORE, 0, U, U, U, U, U, U },
	{ "NO-STORE=1", CP_CC_NO_STORE, 1, U, U, U, U, U, U },
	{ "no-store junk", CP_CC_NO_STORE, 1, U, U, U, U, U, U },
	{ "public", CP_CC_PUBLIC, 0, U, U, U, U, U, U },
	{ "public=1", 0, 1, U, U, U, U, U, U },
	{ "must-revalidate, proxy-revalidate", CP_CC_MUST_REVALIDATE |
	  CP_CC_PROXY_REVALIDATE, 0, U, U, U, U, U, U },
	{ "no-transform, only-if-cached, immutable, must-understand",
	  CP_CC_NO_TRANSFORM | CP_CC_ONLY_IF_CACHED | CP_CC_IMMUTABLE |
	  CP_CC_MUST_UNDERSTAND, 0, U, U, U, U, U, U },
	{ "max-stale", CP_CC_MAX_STALE, 0, U, U, M, U, U, U },
	{ "max-stale=100", CP_CC_MAX_STALE, 0, U, U, 100, U, U, U },
	{ "max-stale=x", 0, 1, U, U, U, U, U, U },
	{ "min-fresh=30", 0, 0, U, U, U, 30, U, U },
	{ "min-fresh=x", 0, 1, U, U, U, M, U, U },
	{ "stale-while-revalidate=60, stale-if-error=600", 0, 0, U, U, U, U,
	  60, 600 },
	{ "stale-while-revalidate", 0, 1, U, U, U, U, U, U },
	{ "stale-if-error=-5", 0, 1, U, U, U, U, U, U },
	{ "=5, max-age=4", 0, 1, 4, U, U, U, U, U },
	{ "max-age=10, no-cache, no-store, private, public",
	  CP_CC_NO_CACHE | CP_CC_NO_STORE | CP_CC_PRIVATE | CP_CC_PUBLIC, 0,
	  10, U, U, U, U, U },
};

START_TEST(test_cc_parse)
{
	struct cp_cc	cc;

	cache_policy_cc_init(&cc);
	cache_policy_cc_parse(ccs[_i].value, strlen(ccs[_i].value), &cc);
	ck_assert_msg((cc.flags & ~CP_CC_INVALID) == ccs[_i].flags,
	    "\"%s\": flags %#x", ccs[_i].value, cc.flags);
	ck_assert_msg(!!(cc.flags & CP_CC_INVALID) == ccs[_i].invalid,
	    "\"%s\": invalid", ccs[_i].value);
	ck_assert_int_eq(cc.max_age, ccs[_i].max_age);
	ck_assert_int_eq(cc.s_maxage, ccs[_i].s_maxage);
	ck_assert_int_eq(cc.max_stale, ccs[_i].max_stale);
	ck_assert_int_eq(cc.min_fresh, ccs[_i].min_fresh);
	ck_assert_int_eq(cc.swr, ccs[_i].swr);
	ck_assert_int_eq(cc.sie, ccs[_i].sie);
}
END_TEST

/* Several lines, Pragma, and the targeted CDN-Cache-Control. */
static const struct {
	int		 response;	/* else a request */
	int		 cdn;		/* conf->cdn_cache_control */
	const char	*headers;
	unsigned	 flags;		/* these must be set */
	unsigned	 unset;		/* these must not */
	int64_t		 max_age, s_maxage;
} cclines[] = {
	{ 1, 1, "Cache-Control: max-age=1800\nCache-Control: max-age=1\n",
	  0, 0, 1800, U },
	{ 1, 1, "Cache-Control: max-age=1\nCache-Control: max-age=1800\n",
	  0, 0, 1, U },
	{ 1, 1, "Cache-Control: max-age=3600\nCache-Control: s-maxage=1\n",
	  0, 0, 3600, 1 },
	{ 1, 1, "Cache-Control: public\ncache-control: no-store\n",
	  CP_CC_PUBLIC | CP_CC_NO_STORE, 0, U, U },
	/* Pragma means nothing in a response */
	{ 1, 1, "Pragma: no-cache\n", 0, CP_CC_NO_CACHE |
	  CP_CC_PRAGMA_NO_CACHE, U, U },
	{ 0, 1, "Pragma: no-cache\n", CP_CC_PRAGMA_NO_CACHE, 0, U, U },
	{ 0, 1, "Pragma: foo, No-Cache\n", CP_CC_PRAGMA_NO_CACHE, 0, U, U },
	{ 0, 1, "Pragma: unrecognised-extension\n", 0,
	  CP_CC_PRAGMA_NO_CACHE, U, U },
	/* with Cache-Control, Pragma is not looked at */
	{ 0, 1, "Pragma: no-cache\nCache-Control: max-stale\n",
	  CP_CC_MAX_STALE, CP_CC_PRAGMA_NO_CACHE | CP_CC_NO_CACHE, U, U },
	{ 0, 1, "Cache-Control: max-age=0\nCache-Control: only-if-cached\n",
	  CP_CC_ONLY_IF_CACHED, 0, 0, U },
	/* CDN-Cache-Control, when valid, replaces Cache-Control */
	{ 1, 1, "Cache-Control: no-store\nCDN-Cache-Control: max-age=600\n",
	  CP_CC_TARGETED, CP_CC_NO_STORE, 600, U },
	{ 1, 0, "Cache-Control: no-store\nCDN-Cache-Control: max-age=600\n",
	  CP_CC_NO_STORE, CP_CC_TARGETED, U, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: no-store\n",
	  CP_CC_NO_STORE | CP_CC_TARGETED, 0, U, U },
	{ 1, 1, "CDN-Cache-Control: private, no-cache\n", CP_CC_PRIVATE |
	  CP_CC_NO_CACHE | CP_CC_TARGETED, 0, U, U },
	{ 1, 1, "CDN-Cache-Control: max-age=99999999999\n", CP_CC_TARGETED,
	  0, M, U },
	{ 1, 1, "CDN-Cache-Control: max-age=5;foo=bar, s-maxage=7\n",
	  CP_CC_TARGETED, 0, 5, 7 },
	{ 1, 1, "CDN-Cache-Control: max-age=5\nCDN-Cache-Control: "
	  "max-age=9\n", CP_CC_TARGETED, 0, 9, U },	/* the last wins */
	{ 1, 1, "CDN-Cache-Control: no-store=?0, max-age=5\n",
	  CP_CC_TARGETED, CP_CC_NO_STORE, 5, U },
	{ 1, 1, "CDN-Cache-Control: foo=(\"a\" b), max-age=5\n",
	  CP_CC_TARGETED, 0, 5, U },
	/* a wrong type is ignored: no freshness from it */
	{ 1, 1, "Cache-Control: no-store\nCDN-Cache-Control: "
	  "max-age=\"10000\"\n", CP_CC_TARGETED, CP_CC_NO_STORE, U, U },
	{ 1, 1, "CDN-Cache-Control: max-age=1.5\n", CP_CC_TARGETED, 0, U,
	  U },
	/* invalid Structured Fields: back to Cache-Control */
	{ 1, 1, "Cache-Control: no-store\nCDN-Cache-Control: "
	  "max-age=10000, &&&&&\n", CP_CC_NO_STORE, CP_CC_TARGETED, U, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: "
	  "MaX-aGe=3600\n", 0, CP_CC_TARGETED, 1, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: "
	  "max-age =100\n", 0, CP_CC_TARGETED, 1, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: "
	  "max-age= 100\n", 0, CP_CC_TARGETED, 1, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: "
	  "max-age=100,\n", 0, CP_CC_TARGETED, 1, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: \n", 0,
	  CP_CC_TARGETED, 1, U },
	{ 1, 1, "Cache-Control: max-age=1\nCDN-Cache-Control: a=\"x\n", 0,
	  CP_CC_TARGETED, 1, U },
};

START_TEST(test_cc_lines)
{
	struct cp_conf	 conf;
	struct cp_cc	 cc;
	struct http_msg	*m;

	cache_policy_conf_init(&conf);
	conf.cdn_cache_control = cclines[_i].cdn;
	if (cclines[_i].response) {
		m = response(0, 200, cclines[_i].headers);
		cache_policy_cc_response(&conf, m, &cc);
	} else {
		m = request(0, "GET", "/", cclines[_i].headers);
		cache_policy_cc_request(m, &cc);
	}
	ck_assert_msg((cc.flags & cclines[_i].flags) == cclines[_i].flags,
	    "case %d: flags %#x", _i, cc.flags);
	ck_assert_msg((cc.flags & cclines[_i].unset) == 0,
	    "case %d: flags %#x", _i, cc.flags);
	ck_assert_int_eq(cc.max_age, cclines[_i].max_age);
	ck_assert_int_eq(cc.s_maxage, cclines[_i].s_maxage);
}
END_TEST

/*---------------------------------------------------------------------
 * Dates and Age
 */

static const struct {
	const char	*text;
	int		 ok;
	long long	 t;
} dates[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 1, 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 1, 784111777 },
	{ "Sun Nov  6 08:49:37 1994", 1, 784111777 },
	{ "  Sun, 06 Nov 1994 08:49:37 GMT\t", 1, 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 1, 0 },
	{ "Wed, 31 Dec 1969 23:59:59 GMT", 1, -1 },
	{ "Tue, 19 Jan 2038 03:14:08 GMT", 1, 2147483648LL },
	{ "Sun, 21 Nov 2286 04:46:39 GMT", 1, 10000039599LL },
	{ "Tue, 29 Feb 2000 00:00:00 GMT", 1, 951782400 },
	{ "Thu, 29 Feb 2024 12:00:60 GMT", 1, 1709208060 },
	/* RFC 850: two-digit years within 50 years of NOW (2023) */
	{ "Thursday, 18-Aug-50 02:01:18 GMT", 1, 2544400878LL },
	{ "Friday, 18-Aug-73 02:01:18 GMT", 1, 3270247278LL },
	{ "Sunday, 18-Aug-74 02:01:18 GMT", 1, 146023278LL },
	{ "Thu Aug  8 02:01:18 2050", 1, 2543536878LL },
	{ "Thu Aug 18 02:01:18 2050", 1, 2544400878LL },
	/* names are case-insensitive, the weekday is not checked */
	{ "THU, 18 Aug 2050 02:01:18 GMT", 1, 2544400878LL },
	{ "Thu, 18 AUG 2050 02:01:18 GMT", 1, 2544400878LL },
	{ "Thu, 18 Aug 2050 02:01:18 gMT", 1, 2544400878LL },
	{ "Mon, 18 Aug 2050 02:01:18 GMT", 1, 2544400878LL },
	/* invalid */
	{ "Thu, 18 Aug 2050 02:01:18 UTC", 0, 0 },
	{ "Thu, 18 Aug 2050 02:01:18 AEST", 0, 0 },
	{ "Thu, 18 Aug 50 02:01:18 GMT", 0, 0 },
	{ "Thu 18 Aug 2050 02:01:18 GMT", 0, 0 },
	{ "Thu, 18  Aug  2050 02:01:18 GMT", 0, 0 },
	{ "Thu, 18-Aug-2050 02:01:18 GMT", 0, 0 },
	{ "Thu, 18 Aug 2050 02.01.18 GMT", 0, 0 },
	{ "Thu, 18 Aug 2050 2:01:18 GMT", 0, 0 },
	{ "Thu, 18 Aug 2050 24:00:00 GMT", 0, 0 },
	{ "Thu, 18 Aug 2050 23:60:00 GMT", 0, 0 },
	{ "Thu, 31 Feb 2050 02:01:18 GMT", 0, 0 },
	{ "Wed, 29 Feb 2023 02:01:18 GMT", 0, 0 },
	{ "Thu, 29 Feb 1900 00:00:00 GMT", 0, 0 },
	{ "Thu, 00 Aug 2050 02:01:18 GMT", 0, 0 },
	{ "Xyz, 18 Aug 2050 02:01:18 GMT", 0, 0 },
	{ "Thu, 18 Foo 2050 02:01:18 GMT", 0, 0 },
	{ "Thu, 18 Aug 2050 02:01:18 GMT x", 0, 0 },
	{ "Thursday, 18-Aug-2050 02:01:18 GMT", 0, 0 },
	{ "Thurs, 18-Aug-50 02:01:18 GMT", 0, 0 },
	{ "Thu Aug 8 02:01:18 2050", 0, 0 },
	{ "0", 0, 0 },
	{ "-1", 0, 0 },
	{ "", 0, 0 },
	{ "1700000000", 0, 0 },
};

START_TEST(test_date)
{
	int64_t	t = 42;
	int	r;

	r = cache_policy_date(dates[_i].text, strlen(dates[_i].text), NOW,
	    &t);
	ck_assert_msg((r == 0) == dates[_i].ok, "\"%s\": %d", dates[_i].text,
	    r);
	if (dates[_i].ok)
		ck_assert_int_eq(t, dates[_i].t);
}
END_TEST

static const struct {
	const char	*headers;
	int64_t		 age;
} ages[] = {
	{ "", 0 },
	{ "Age: 30\n", 30 },
	{ "Age: 0\n", 0 },
	{ "Age: abc\n", 0 },
	{ "Age: -7200\n", 0 },
	{ "Age: 7200.0\n", 0 },
	{ "Age: 2147483647\n", 2147483647LL },
	{ "Age: 2147483648\n", M },
	{ "Age: 2147483649\n", M },
	{ "Age: 99999999999999999999\n", M },
	{ "Age: 7200, 0\n", 7200 },
	{ "Age: 0, 7200\n", 0 },
	{ "Age: 7200\nAge: 0\n", 7200 },
	{ "Age: 0\nAge: 7200\n", 0 },
	{ "Age: 7200;foo=bar\n", 7200 },
	{ "Age: 7200;\n", 7200 },
	{ "Age: ;7200\n", 0 },
	{ "Age: \n", 0 },
};

START_TEST(test_age)
{
	ck_assert_int_eq(cache_policy_age(response(0, 200, ages[_i].headers)),
	    ages[_i].age);
}
END_TEST

/*---------------------------------------------------------------------
 * Knob variants used by the tables below
 */

enum { C_DEFAULT, C_IGNORE_CC, C_NO_STALE_ON_ERROR, C_MIN_60, C_MAX_HUGE,
	C_DEFAULT_0, C_FACTOR_HALF, C_NO_CDN, C_STORE_NO_STORE,
	C_STORE_PRIVATE, C_IGNORE_QUERY, C_IGNORE_NO_LM, C_STORE_EXPIRED,
	C_IGNORE_HEADERS };

static void
conf_variant(int v, struct cp_conf *c)
{
	static char		 server[] = "server", secret[] = "X-Secret";
	static struct gw_strlist ign2 = { NULL, server };
	static struct gw_strlist ign1 = { &ign2, secret };

	cache_policy_conf_init(c);
	switch (v) {
	case C_IGNORE_CC:		c->ignore_cache_control = 1; break;
	case C_NO_STALE_ON_ERROR:	c->stale_on_error = 0; break;
	case C_MIN_60:			c->min_expire = 60; break;
	case C_MAX_HUGE:		c->max_expire = CP_DELTA_MAX; break;
	case C_DEFAULT_0:		c->default_expire = 0; break;
	case C_FACTOR_HALF:		c->lm_factor = 0.5; break;
	case C_NO_CDN:			c->cdn_cache_control = 0; break;
	case C_STORE_NO_STORE:		c->store_no_store = 1; break;
	case C_STORE_PRIVATE:		c->store_private = 1; break;
	case C_IGNORE_QUERY:		c->ignore_query_string = 1; break;
	case C_IGNORE_NO_LM:		c->ignore_no_last_mod = 1; break;
	case C_STORE_EXPIRED:		c->store_expired = 1; break;
	case C_IGNORE_HEADERS:		c->ignore_headers = &ign1; break;
	}
}

START_TEST(test_conf_init)
{
	struct cp_conf	c;

	memset(&c, 0xff, sizeof(c));
	cache_policy_conf_init(&c);
	ck_assert_int_eq(c.default_expire, 3600);
	ck_assert_int_eq(c.max_expire, 86400);
	ck_assert_int_eq(c.min_expire, 0);
	ck_assert(c.lm_factor > 0.0999 && c.lm_factor < 0.1001);
	ck_assert_int_eq(c.stale_on_error, 1);
	ck_assert_int_eq(c.ignore_cache_control, 0);
	ck_assert_int_eq(c.ignore_no_last_mod, 0);
	ck_assert_int_eq(c.store_no_store, 0);
	ck_assert_int_eq(c.store_private, 0);
	ck_assert_int_eq(c.store_expired, 0);
	ck_assert_ptr_null(c.ignore_headers);
}
END_TEST

/*
 * cache_policy_conf_vhost: NULL, and a server that sets nothing, give
 * cache_policy_conf_init's defaults (conf.c's defaults agree).
 */
START_TEST(test_conf_vhost_defaults)
{
	struct gw_config	*cfg;
	struct cp_conf		 want, c;

	cache_policy_conf_init(&want);
	ck_assert_int_eq(want.lock, 0);
	ck_assert_int_eq(want.lock_max_age, 5);
	ck_assert_uint_eq(want.min_file_size, 1);
	ck_assert_uint_eq(want.max_file_size, 1000000);
	ck_assert_ptr_null(want.ignore_url_session_identifiers);
	ck_assert_ptr_null(want.key_base_url);
	memset(&c, 0xff, sizeof(c));
	cache_policy_conf_vhost(&c, NULL);
	ck_assert_mem_eq(&c, &want, sizeof(c));
	cfg = load("Listen 80\n<VirtualHost *:80>\n</VirtualHost>\n");
	memset(&c, 0xff, sizeof(c));
	cache_policy_conf_vhost(&c, &cfg->main);
	ck_assert_mem_eq(&c, &want, sizeof(c));
	memset(&c, 0xff, sizeof(c));
	cache_policy_conf_vhost(&c, cfg->vhosts);
	ck_assert_mem_eq(&c, &want, sizeof(c));
	conf_free(cfg);
}
END_TEST

/*
 * A vhost with settings gets them, the main server's where it sets none;
 * one without gets the main server's; CDN-Cache-Control stays on.
 */
START_TEST(test_conf_vhost)
{
	struct gw_config	*cfg;
	struct cp_conf		 c;
	struct cp_meta		 m;

	cfg = load("Listen 80\n"
	    "CacheDefaultExpire 100\n"
	    "CacheMaxExpire 1000\n"
	    "CacheIgnoreHeaders X-Main\n"
	    "CacheLock On\n"
	    "CacheMaxFileSize 2000000\n"
	    "<VirtualHost *:80>\n"
	    "ServerName a\n"
	    "CacheMaxExpire 60\n"
	    "CacheMinExpire 5\n"
	    "CacheLastModifiedFactor 0.5\n"
	    "CacheIgnoreCacheControl On\n"
	    "CacheIgnoreNoLastMod On\n"
	    "CacheIgnoreQueryString On\n"
	    "CacheIgnoreHeaders None\n"
	    "CacheIgnoreURLSessionIdentifiers jsessionid\n"
	    "CacheStoreNoStore On\n"
	    "CacheStorePrivate On\n"
	    "CacheStoreExpired On\n"
	    "CacheStaleOnError Off\n"
	    "CacheMinFileSize 0\n"
	    "CacheLockMaxAge 9\n"
	    "CacheKeyBaseURL http://shared.example.com/\n"
	    "</VirtualHost>\n"
	    "<VirtualHost *:81>\n"
	    "ServerName b\n"
	    "</VirtualHost>\n");

	cache_policy_conf_vhost(&c, cfg->vhosts);
	ck_assert_int_eq(c.default_expire, 100);	/* the main server's */
	ck_assert_int_eq(c.max_expire, 60);
	ck_assert_int_eq(c.min_expire, 5);
	ck_assert(c.lm_factor == 0.5);
	ck_assert_int_eq(c.ignore_cache_control, 1);
	ck_assert_int_eq(c.ignore_no_last_mod, 1);
	ck_assert_int_eq(c.ignore_query_string, 1);
	ck_assert_ptr_null(c.ignore_headers);
	ck_assert_str_eq(c.ignore_url_session_identifiers->s, "jsessionid");
	ck_assert_int_eq(c.store_no_store, 1);
	ck_assert_int_eq(c.store_private, 1);
	ck_assert_int_eq(c.store_expired, 1);
	ck_assert_int_eq(c.stale_on_error, 0);
	ck_assert_uint_eq(c.min_file_size, 0);
	ck_assert_uint_eq(c.max_file_size, 2000000);	/* the main's */
	ck_assert_int_eq(c.lock, 1);			/* the main's */
	ck_assert_int_eq(c.lock_max_age, 9);
	ck_assert_str_eq(c.key_base_url, "http://shared.example.com/");
	ck_assert_int_eq(c.cdn_cache_control, 1);
	/* and the knobs act: max-age=3600 is cut to CacheMaxExpire */
	cache_policy_meta(&c, response(0, 200, "Date: {0}\n"
	    "Cache-Control: max-age=3600\n"), NOW, NOW, &m);
	ck_assert_int_eq(m.lifetime, 60);

	cache_policy_conf_vhost(&c, cfg->vhosts->next);
	ck_assert_int_eq(c.default_expire, 100);
	ck_assert_int_eq(c.max_expire, 1000);
	ck_assert_int_eq(c.min_expire, 0);
	ck_assert(c.lm_factor > 0.0999 && c.lm_factor < 0.1001);
	ck_assert_int_eq(c.ignore_cache_control, 0);
	ck_assert_int_eq(c.ignore_query_string, 0);
	ck_assert_str_eq(c.ignore_headers->s, "X-Main");
	ck_assert_ptr_null(c.ignore_url_session_identifiers);
	ck_assert_int_eq(c.store_no_store, 0);
	ck_assert_int_eq(c.stale_on_error, 1);
	ck_assert_uint_eq(c.min_file_size, 1);
	ck_assert_uint_eq(c.max_file_size, 2000000);
	ck_assert_int_eq(c.lock, 1);
	ck_assert_int_eq(c.lock_max_age, 5);
	ck_assert_ptr_null(c.key_base_url);
	cache_policy_meta(&c, response(0, 200, "Date: {0}\n"
	    "Cache-Control: max-age=3600\n"), NOW, NOW, &m);
	ck_assert_int_eq(m.lifetime, 1000);
	conf_free(cfg);
}
END_TEST

/*---------------------------------------------------------------------
 * Metadata: lifetime and age
 */

#define MF_HEUR		CP_M_HEURISTIC
#define MF_NOSTALE	CP_M_NO_STALE
#define MF_NOCACHE	CP_M_NO_CACHE
#define MF_ETAG		CP_M_ETAG
#define MF_LM		CP_M_LAST_MODIFIED
#define MF_DATE		CP_M_DATE

static const struct {
	int		 conf;
	int		 status;
	const char	*headers;
	int64_t		 lifetime;
	unsigned	 flags;		/* exactly */
	int64_t		 swr, sie;
} metas[] = {
	{ C_DEFAULT, 200, "Cache-Control: max-age=600\n", 600, 0, U, U },
	{ C_DEFAULT, 200, "Cache-Control: max-age=100000\n", 86400, 0, U, U },
	{ C_MAX_HUGE, 200, "Cache-Control: max-age=100000\n", 100000, 0, U,
	  U },
	{ C_MAX_HUGE, 200, "Cache-Control: max-age=99999999999\n", M, 0, U,
	  U },
	{ C_MIN_60, 200, "Cache-Control: max-age=0\n", 60, 0, U, U },
	{ C_MIN_60, 200, "Cache-Control: max-age=600\n", 600, 0, U, U },
	{ C_DEFAULT, 200, "Cache-Control: s-maxage=5, max-age=100\n", 5,
	  MF_NOSTALE, U, U },
	{ C_DEFAULT, 200, "Cache-Control: max-age=100, must-revalidate\n",
	  100, MF_NOSTALE, U, U },
	{ C_DEFAULT, 200, "Cache-Control: max-age=100, proxy-revalidate\n",
	  100, MF_NOSTALE, U, U },
	/* Expires - Date, not clamped (Apache) */
	{ C_DEFAULT, 200, "Expires: {+100000}\nDate: {0}\n", 100000, MF_DATE,
	  U, U },
	{ C_DEFAULT, 200, "Expires: {+100}\nDate: {-50}\n", 150, MF_DATE, U,
	  U },
	{ C_DEFAULT, 200, "Expires: {+100}\n", 100, 0, U, U },
	{ C_DEFAULT, 200, "Expires: {-100}\nDate: {0}\n", 0, MF_DATE, U, U },
	{ C_DEFAULT, 200, "Expires: 0\nDate: {0}\n", 0, MF_DATE, U, U },
	{ C_DEFAULT, 200, "Expires: {+100}\nExpires: {+200}\n", 0, 0, U, U },
	{ C_DEFAULT, 200, "Expires: {+100}\nExpires: {+100}\n", 100, 0, U, U },
	{ C_DEFAULT, 200, "Expires: Sun, 21 Nov 2286 04:46:39 GMT\n", M, 0, U,
	  U },
	{ C_DEFAULT, 200, "Expires: {+100}\nCache-Control: max-age=7\n", 7, 0,
	  U, U },
	/* heuristics */
	{ C_DEFAULT, 200, "Last-Modified: {-1000}\nDate: {0}\n", 100,
	  MF_HEUR | MF_LM | MF_DATE, U, U },
	{ C_DEFAULT, 200, "Last-Modified: {-9}\nDate: {0}\n", 0,
	  MF_HEUR | MF_LM | MF_DATE, U, U },
	{ C_FACTOR_HALF, 200, "Last-Modified: {-1000}\nDate: {0}\n", 500,
	  MF_HEUR | MF_LM | MF_DATE, U, U },
	{ C_DEFAULT, 200, "Last-Modified: {-315360000}\nDate: {0}\n", 86400,
	  MF_HEUR | MF_LM | MF_DATE, U, U },
	{ C_MIN_60, 200, "Last-Modified: {-100}\nDate: {0}\n", 60,
	  MF_HEUR | MF_LM | MF_DATE, U, U },
	{ C_DEFAULT, 200, "ETag: \"x\"\n", 3600, MF_HEUR | MF_ETAG, U, U },
	{ C_DEFAULT_0, 200, "ETag: \"x\"\n", 0, MF_HEUR | MF_ETAG, U, U },
	{ C_DEFAULT, 200, "Last-Modified: {+100}\nDate: {0}\n", 3600,
	  MF_HEUR | MF_LM | MF_DATE, U, U },
	{ C_DEFAULT, 200, "Last-Modified: nonsense\n", 3600, MF_HEUR, U, U },
	{ C_DEFAULT, 404, "Last-Modified: {-1000}\n", 100, MF_HEUR | MF_LM,
	  U, U },
	{ C_DEFAULT, 302, "Last-Modified: {-1000}\n", 0, MF_LM, U, U },
	{ C_DEFAULT, 599, "Last-Modified: {-1000}\nCache-Control: public\n",
	  100, MF_HEUR | MF_LM, U, U },
	{ C_DEFAULT, 200, "Cache-Control: no-cache, must-revalidate\n", 3600,
	  MF_HEUR | MF_NOCACHE | MF_NOSTALE, U, U },
	{ C_DEFAULT, 200, "Cache-Control: max-age=5, stale-while-revalidate=7, "
	  "stale-if-error=9\n", 5, 0, 7, 9 },
	/* CDN-Cache-Control: Expires is ignored with it */
	{ C_DEFAULT, 200, "CDN-Cache-Control: max-age=50\nCache-Control: "
	  "max-age=5\n", 50, 0, U, U },
	{ C_NO_CDN, 200, "CDN-Cache-Control: max-age=50\nCache-Control: "
	  "max-age=5\n", 5, 0, U, U },
	{ C_DEFAULT, 200, "CDN-Cache-Control: no-cache\nExpires: {+100}\n"
	  "ETag: \"a\"\n", 3600, MF_HEUR | MF_NOCACHE | MF_ETAG, U, U },
};

START_TEST(test_meta)
{
	struct cp_conf	 c;
	struct cp_meta	 m;

	conf_variant(metas[_i].conf, &c);
	cache_policy_meta(&c, response(0, metas[_i].status,
	    metas[_i].headers), NOW - 1, NOW, &m);
	ck_assert_msg(m.lifetime == metas[_i].lifetime,
	    "case %d: lifetime %lld", _i, (long long)m.lifetime);
	ck_assert_msg(m.flags == metas[_i].flags, "case %d: flags %#x", _i,
	    m.flags);
	ck_assert_int_eq(m.swr, metas[_i].swr);
	ck_assert_int_eq(m.sie, metas[_i].sie);
	ck_assert_int_eq(m.status, metas[_i].status);
	ck_assert_int_eq(m.request_time, NOW - 1);
	ck_assert_int_eq(m.response_time, NOW);
	if (!(m.flags & CP_M_DATE))
		ck_assert_int_eq(m.date, NOW);
}
END_TEST

START_TEST(test_meta_dates)
{
	struct cp_conf	 c;
	struct cp_meta	 m;

	cache_policy_conf_init(&c);
	cache_policy_meta(&c, response(0, 200, "Date: {-30}\n"
	    "Last-Modified: {-90}\nAge: 12\nETag: \"e\"\n"), NOW - 2, NOW, &m);
	ck_assert_int_eq(m.date, NOW - 30);
	ck_assert_int_eq(m.last_modified, NOW - 90);
	ck_assert_int_eq(m.age_value, 12);
	/* Last-Modified after Date counts as Date (Apache) */
	cache_policy_meta(&c, response(0, 200, "Date: {-30}\n"
	    "Last-Modified: {+90}\n"), NOW, NOW, &m);
	ck_assert_int_eq(m.last_modified, NOW - 30);
	/* two Date fields: as if none */
	cache_policy_meta(&c, response(0, 200, "Date: {-30}\nDate: {-20}\n"),
	    NOW, NOW, &m);
	ck_assert_int_eq(m.date, NOW);
	ck_assert_uint_eq(m.flags & CP_M_DATE, 0);
}
END_TEST

static const struct {
	const char	*headers;
	long long	 sent, recv, at;
	int64_t		 age;
} cur_ages[] = {
	{ "Date: {0}\n", 0, 0, 0, 0 },
	{ "Date: {0}\n", 0, 0, 100, 100 },
	{ "Date: {-50}\n", 0, 0, 0, 50 },		/* apparent age */
	{ "Date: {0}\nAge: 30\n", 0, 0, 0, 30 },
	{ "Date: {-50}\nAge: 30\n", 0, 0, 0, 50 },
	{ "Date: {-10}\nAge: 30\n", -5, 0, 0, 35 },	/* + response delay */
	{ "Date: {-40}\nAge: 30\n", -5, 0, 7, 47 },
	{ "Date: {+100}\n", 0, 0, 5, 5 },		/* clock skew */
	{ "", -3, 0, 7, 10 },
	{ "Age: 2147483648\n", 0, 0, 100, M },
	{ "Date: {0}\n", 0, 0, -10, 0 },
	{ "Date: {-100}\n", -20, -10, 0, 100 },
};

START_TEST(test_current_age)
{
	struct cp_conf	 c;
	struct cp_meta	 m;

	cache_policy_conf_init(&c);
	cache_policy_meta(&c, response(0, 200, cur_ages[_i].headers),
	    NOW + cur_ages[_i].sent, NOW + cur_ages[_i].recv, &m);
	ck_assert_int_eq(cache_policy_current_age(&m, NOW + cur_ages[_i].at),
	    cur_ages[_i].age);
}
END_TEST

/*---------------------------------------------------------------------
 * Storing
 */

static const struct {
	int		 conf;
	const char	*method, *target, *req;
	int		 status;
	const char	*resp;
	const char	*why;		/* NULL: storable; else in the reason */
} stores[] = {
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=3600\n",
	  NULL },
	{ C_DEFAULT, "POST", "/", "", 200, "Cache-Control: max-age=3600\n",
	  "GET" },
	{ C_DEFAULT, "HEAD", "/", "", 200, "Cache-Control: max-age=3600\n",
	  "GET" },
	{ C_DEFAULT, "PUT", "/", "", 200, "Cache-Control: max-age=3600\n",
	  "GET" },
	{ C_DEFAULT, "GET", "/", "Cache-Control: no-store\n", 200,
	  "Cache-Control: max-age=3600\n", "request" },
	{ C_IGNORE_CC, "GET", "/", "Cache-Control: no-store\n", 200,
	  "Cache-Control: max-age=3600\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: no-store\n",
	  "no-store" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: No-StOrE\n",
	  "no-store" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=10000, "
	  "no-store\nExpires: {+10000}\nDate: {0}\n", "no-store" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=3600\n"
	  "Cache-Control: no-store\n", "no-store" },
	{ C_STORE_NO_STORE, "GET", "/", "", 200, "Cache-Control: no-store, "
	  "max-age=60\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=3600, "
	  "no-store, must-understand\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 599, "Cache-Control: max-age=3600, "
	  "no-store, must-understand\n", "must-understand" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: private, "
	  "max-age=3600\n", "private" },
	{ C_STORE_PRIVATE, "GET", "/", "", 200, "Cache-Control: private, "
	  "max-age=3600\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: private=\"x\", "
	  "max-age=3600\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 206, "Cache-Control: max-age=3600\n"
	  "Content-Range: bytes 0-4/10\n", "partial" },
	{ C_DEFAULT, "GET", "/", "", 304, "Cache-Control: max-age=3600\n",
	  "final" },
	/* statuses cacheable by default (RFC 9110 15.1) */
	{ C_DEFAULT, "GET", "/", "", 200, "Last-Modified: {-86400}\n"
	  "Date: {0}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 203, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 204, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 300, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 301, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 308, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 404, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 405, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 410, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 414, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 501, "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 201, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 202, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 302, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 303, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 307, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 400, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 403, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 500, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 502, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 503, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 504, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 599, "Last-Modified: {-86400}\n",
	  "status" },
	{ C_DEFAULT, "GET", "/", "", 599, "Last-Modified: {-86400}\n"
	  "Cache-Control: public\n", NULL },
	/* any final status with explicit freshness */
	{ C_DEFAULT, "GET", "/", "", 302, "Cache-Control: max-age=100000\n",
	  NULL },
	{ C_DEFAULT, "GET", "/", "", 307, "Expires: {+100}\nDate: {0}\n",
	  NULL },
	{ C_DEFAULT, "GET", "/", "", 299, "Cache-Control: max-age=1\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 500, "Cache-Control: max-age=1\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 599, "Cache-Control: max-age=1\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 400, "Cache-Control: s-maxage=1\n", NULL },
	/* Authorization: only public, must-revalidate, s-maxage (RFC 9111) */
	{ C_DEFAULT, "GET", "/", "Authorization: FOO\n", 200,
	  "Cache-Control: max-age=100000\n", "Authorization" },
	{ C_DEFAULT, "GET", "/", "Authorization: FOO\n", 200,
	  "Cache-Control: max-age=3600, public\n", NULL },
	{ C_DEFAULT, "GET", "/", "Authorization: FOO\n", 200,
	  "Cache-Control: max-age=3600, must-revalidate\n", NULL },
	{ C_DEFAULT, "GET", "/", "Authorization: FOO\n", 200,
	  "Cache-Control: s-maxage=3600\n", NULL },
	{ C_DEFAULT, "GET", "/", "Authorization: FOO\n", 200,
	  "Cache-Control: max-age=3600, proxy-revalidate\n", "Authorization" },
	{ C_DEFAULT, "GET", "/", "Cookie: a=b\n", 200,
	  "Cache-Control: max-age=3600\n", NULL },
	/* Vary: * */
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: *\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: *, *\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: *\nVary: *\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: , *\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: \nVary: *\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: *, Foo\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: Foo, *\n", "Vary" },
	{ C_STORE_NO_STORE, "GET", "/", "", 200, "Cache-Control: "
	  "max-age=5000\nVary: *\n", "Vary" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=5000\n"
	  "Vary: Foo\nVary: Bar\n", NULL },
	/* Set-Cookie: not stored, and then only with explicit freshness */
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=100000\n"
	  "Set-Cookie: a=b\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Last-Modified: {-86400}\n"
	  "Date: {0}\nSet-Cookie: a=b\n", "Set-Cookie" },
	{ C_DEFAULT, "GET", "/", "", 200, "Last-Modified: {-86400}\n"
	  "Date: {0}\nSet-Cookie2: a=b\n", "Set-Cookie" },
	{ C_DEFAULT, "GET", "/", "", 200, "Last-Modified: {-86400}\n"
	  "Set-Cookie: a=b\nCache-Control: public\n", NULL },
	/* Apache: a query string needs explicit expiry */
	{ C_DEFAULT, "GET", "/a?b=1", "", 200, "Last-Modified: {-86400}\n",
	  "query" },
	{ C_IGNORE_QUERY, "GET", "/a?b=1", "", 200,
	  "Last-Modified: {-86400}\n", NULL },
	{ C_DEFAULT, "GET", "/a?b=1", "", 200, "Cache-Control: max-age=5\n",
	  NULL },
	{ C_DEFAULT, "GET", "/a?b=1", "", 200, "Expires: {+100}\n", NULL },
	/* Apache: 200 with nothing to go by is not stored */
	{ C_DEFAULT, "GET", "/", "", 200, "Date: {0}\n", "Last-Modified" },
	{ C_DEFAULT, "GET", "/", "", 200, "", "Last-Modified" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: public\n",
	  "Last-Modified" },
	{ C_DEFAULT, "GET", "/", "", 404, "Date: {0}\n", "Last-Modified" },
	{ C_IGNORE_NO_LM, "GET", "/", "", 200, "Date: {0}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "ETag: \"x\"\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Last-Modified: nonsense\n",
	  "Last-Modified" },
	/* Expires: invalid or passed (Apache), unless max-age */
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: {-100}\nDate: {0}\n",
	  "Expires" },
	{ C_STORE_EXPIRED, "GET", "/", "", 200, "Expires: {-100}\n"
	  "Date: {0}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: {-5000}\n"
	  "Last-Modified: {-100000}\nDate: {0}\n", "Expires" },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: 0\nDate: {0}\n",
	  "Expires" },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: {0}\nDate: {0}\n",
	  "Expires" },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: {+100}\nDate: {+200}\n",
	  "Expires" },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: {+100}\nDate: {0}\n",
	  NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: 0\nCache-Control: "
	  "max-age=10\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Expires: {-7200}\nCache-Control: "
	  "max-age=3600\n", NULL },
	/* stale at once and no validator to revalidate it with */
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=0, "
	  "must-revalidate\n", "stale" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=0, "
	  "proxy-revalidate\n", "stale" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=0, "
	  "must-revalidate\nETag: \"a\"\n", NULL },
	{ C_STORE_EXPIRED, "GET", "/", "", 200, "Cache-Control: max-age=0, "
	  "must-revalidate\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=10, "
	  "must-revalidate\n", NULL },
	/* no-cache: stored, revalidated each time */
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: no-cache\n"
	  "ETag: \"a\"\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=0\n", NULL },
	/* CDN-Cache-Control decides when present and valid */
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: no-store\n"
	  "CDN-Cache-Control: max-age=10000\n", NULL },
	{ C_NO_CDN, "GET", "/", "", 200, "Cache-Control: no-store\n"
	  "CDN-Cache-Control: max-age=10000\n", "no-store" },
	{ C_DEFAULT, "GET", "/", "", 200, "Cache-Control: max-age=10000\n"
	  "CDN-Cache-Control: no-store\n", "no-store" },
	{ C_DEFAULT, "GET", "/", "", 200, "CDN-Cache-Control: private\n"
	  "Cache-Control: max-age=10000\n", "private" },
	{ C_DEFAULT, "GET", "/", "", 200, "CDN-Cache-Control: max-age=10000,"
	  " &&&&&\nCache-Control: no-store\n", "no-store" },
	{ C_DEFAULT, "GET", "/", "", 200, "CDN-Cache-Control: max-age=3600\n"
	  "Expires: {-100}\nDate: {0}\n", NULL },
	{ C_DEFAULT, "GET", "/", "", 200, "CDN-Cache-Control: "
	  "max-age=\"10000\"\nCache-Control: no-store\n", "Last-Modified" },
};

START_TEST(test_storable)
{
	struct cp_conf	 c;
	struct http_msg	*req, *resp;
	const char	*why = "unset";
	int		 r;

	conf_variant(stores[_i].conf, &c);
	req = request(1, stores[_i].method, stores[_i].target,
	    stores[_i].req);
	resp = response(0, stores[_i].status, stores[_i].resp);
	r = cache_policy_storable(&c, req, resp, NOW, &why);
	if (stores[_i].why == NULL) {
		ck_assert_msg(r == 1, "case %d: not stored: %s", _i, why);
		ck_assert_ptr_null(why);
	} else {
		ck_assert_msg(r == 0, "case %d: stored", _i);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, stores[_i].why) != NULL,
		    "case %d: \"%s\" does not say \"%s\"", _i, why,
		    stores[_i].why);
	}
}
END_TEST

/* kept - the names of out[0..n) joined by ','. */
static void
kept(const struct http_header *h, int n, char *buf, size_t len)
{
	size_t	o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		ck_assert_uint_lt(o + h[i].name.n + 2, len);
		if (i > 0)
			buf[o++] = ',';
		memcpy(buf + o, h[i].name.p, h[i].name.n);
		o += h[i].name.n;
		buf[o] = '\0';
	}
}

static const struct {
	int		 conf;
	const char	*headers;
	const char	*want;
} store_hdrs[] = {
	{ C_DEFAULT, "Cache-Control: max-age=100000\nDate: {0}\n"
	  "Connection: a, b\na: 1\nb: 2\nc: 3\n", "Cache-Control,Date,c" },
	{ C_DEFAULT, "Cache-Control: max-age=3600\nConnection: close\n"
	  "Keep-Alive: timeout=5\nProxy-Connection: x\nTE: trailers\n"
	  "Trailer: X\nUpgrade: h2c\nProxy-Authenticate: Basic\n"
	  "Proxy-Authentication-Info: a\nProxy-Authorization: b\n"
	  "Set-Cookie: a=b\nSet-Cookie2: c=d\nAge: 5\nX-Kept: 1\n",
	  "Cache-Control,X-Kept" },
	{ C_DEFAULT, "Transfer-Encoding: chunked\nCache-Control: max-age=1\n",
	  "Cache-Control" },
	{ C_DEFAULT, "connection: X-A\nx-a: 1\nX-B: 2\n", "X-B" },
	{ C_IGNORE_HEADERS, "Server: x\nX-Secret: y\nx-secret: z\n"
	  "X-Public: 1\n", "X-Public" },
	{ C_DEFAULT, "Server: x\nX-Secret: y\n", "Server,X-Secret" },
	{ C_DEFAULT, "Cache-Control: no-cache=\"a\", max-age=3600\na: 1\n"
	  "b: 2\n", "Cache-Control,b" },
	{ C_DEFAULT, "Cache-Control: no-cache=\"a, b\"\nCache-Control: "
	  "max-age=3600\na: 1\nb: 2\nc: 3\nDate: {0}\n",
	  "Cache-Control,Cache-Control,c,Date" },
	{ C_DEFAULT, "Cache-Control: private=\"Set-Cookie, X-User\"\n"
	  "X-User: u\nX-Other: o\n", "Cache-Control,X-Other" },
	{ C_DEFAULT, "Cache-Control: no-cache=A\na: 1\nB: 2\n",
	  "Cache-Control,B" },
	{ C_DEFAULT, "Content-Type: text/plain\nContent-Length: 10\n"
	  "Content-Encoding: gzip\nContent-Location: /bar\nETag: \"x\"\n"
	  "Expires: {+1}\nLast-Modified: {-1}\nVary: Foo\n"
	  "Content-Security-Policy: default-src 'self'\n"
	  "X-Frame-Options: deny\n",
	  "Content-Type,Content-Length,Content-Encoding,Content-Location,"
	  "ETag,Expires,Last-Modified,Vary,Content-Security-Policy,"
	  "X-Frame-Options" },
	{ C_DEFAULT, "", "" },
};

START_TEST(test_store_headers)
{
	struct cp_conf		 c;
	struct http_header	 out[32];
	struct http_msg		*m;
	char			 got[512];
	int			 n;

	conf_variant(store_hdrs[_i].conf, &c);
	m = response(0, 200, store_hdrs[_i].headers);
	n = cache_policy_store_headers(&c, m, out, 32);
	ck_assert_int_ge(n, 0);
	kept(out, n, got, sizeof(got));
	ck_assert_str_eq(got, store_hdrs[_i].want);
	for (int i = 0, k = 0; i < m->nheaders; i++)
		if (cache_policy_header_storable(&c, m, i))
			ck_assert_ptr_eq(out[k++].name.p,
			    m->headers[i].name.p);
	/* one slot short: refused, not cut */
	if (n > 0)
		ck_assert_int_eq(cache_policy_store_headers(&c, m, out, n - 1),
		    -1);
}
END_TEST

/*---------------------------------------------------------------------
 * The decision
 */

#define F_BG	0x01
#define F_COND	0x02
#define F_SIE	0x04
#define F_OIC	0x08

#define FRESH	CP_FRESH
#define STALE	CP_STALE_OK
#define REVAL	CP_REVALIDATE
#define MISS	CP_MISS

static const struct {
	int		 conf;
	int		 status;
	const char	*resp;
	long long	 sent, recv;	/* request sent, response in */
	const char	*req;		/* the new request's headers */
	long long	 at;		/* when it is asked */
	enum cp_verdict	 want;
	int		 flags;		/* exactly these F_* */
} decides[] = {
	/* max-age */
	{ 0, 200, "Cache-Control: max-age=3600\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=2\nDate: {0}\n", 0, 0, "", 3,
	  REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=0\n", 0, 0, "", 0, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=2147483647\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Cache-Control: max-age=2147483648\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Cache-Control: max-age=99999999999\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0, "", 90000, REVAL,
	  F_SIE },			/* CacheMaxExpire 86400 */
	{ C_MAX_HUGE, 200, "Cache-Control: max-age=100000\n", 0, 0, "",
	  90000, FRESH, 0 },
	{ C_MIN_60, 200, "Cache-Control: max-age=0\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: 7200\n", 0,
	  0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Date: {-7200}\nCache-Control: max-age=3600\n", 0, 0, "",
	  3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=3600\nExpires: {-7200}\n"
	  "Date: {0}\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=3600\nExpires: 0\nDate: {0}\n", 0,
	  0, "", 3, FRESH, 0 },
	{ 0, 200, "Expires: {+3600}\nCache-Control: max-age=0\nDate: {0}\n",
	  0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: foobar, max-age=3600\n", 0, 0, "", 3,
	  FRESH, 0 },
	{ 0, 200, "Cache-Control: MaX-aGe=3600\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=-3600\n", 0, 0, "", 0, REVAL,
	  F_SIE },
	/* s-maxage: ours, and it forbids serving stale */
	{ 0, 200, "Cache-Control: s-maxage=3600\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=3600, s-maxage=1\n", 0, 0, "", 3,
	  REVAL, 0 },
	{ 0, 200, "Cache-Control: s-maxage=1, max-age=3600\n", 0, 0, "", 3,
	  REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=3600\nCache-Control: s-maxage=1\n",
	  0, 0, "", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=1, s-maxage=3600\n", 0, 0, "", 3,
	  FRESH, 0 },
	{ 0, 200, "Expires: {-10}\nCache-Control: max-age=0, s-maxage=3600\n",
	  0, 0, "", 3, FRESH, 0 },
	/* parsing (RFC 9111 4.2.1: the first occurrence, invalid stale) */
	{ 0, 200, "Cache-Control: max-age=1800, max-age=1\n", 0, 0, "", 3,
	  FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=1800\nCache-Control: max-age=1\n",
	  0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=1, max-age=1800\n", 0, 0, "", 3,
	  REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=\"3600\"\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Cache-Control: extension=\"max-age=3600\", max-age=1\n",
	  0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=1, extension=\"max-age=3600\"\n",
	  0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age =3600\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Cache-Control: max-age= 3600\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Cache-Control: max-age=003600\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age='3600'\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Cache-Control: max-age=3600.0\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Cache-Control: max-age=a3600\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	/* Age */
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: abc\n", 0, 0,
	  "", 3, FRESH, 0 },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: -7200\n", 0,
	  0, "", 3, FRESH, 0 },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: 7200.0\n", 0,
	  0, "", 3, FRESH, 0 },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\n"
	  "Age: 2147483648\n", 0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: 7200, 0\n",
	  0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: 0, 7200\n",
	  0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=3600\nAge: 7200\n"
	  "Age: 0\n", 0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Date: {0}\nCache-Control: max-age=10000\nAge: 3600\n"
	  "Age: 3600\n", 0, 0, "", 3, FRESH, 0 },
	/* Expires */
	{ 0, 200, "Expires: {+2592000}\nDate: {0}\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Expires: {-2592000}\nDate: {0}\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Expires: {0}\nDate: {0}\n", 0, 0, "", 0, REVAL, F_SIE },
	{ 0, 200, "Expires: {+300}\nDate: {+400}\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Expires: 0\nDate: {0}\n", 0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Date: foo\nExpires: {+10}\n", 0, 0, "", 0, FRESH, 0 },
	{ 0, 200, "Date: {-10}\nExpires: {+10}\nAge: 25\n", 0, 0, "", 0,
	  REVAL, F_SIE },
	{ 0, 200, "Date: {+10}\nExpires: {+20}\nAge: 15\n", 0, 0, "", 0,
	  REVAL, F_SIE },
	{ 0, 200, "Expires: Thursday, 18-Aug-50 02:01:18 GMT\nDate: {0}\n",
	  0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Expires: Thu Aug  8 02:01:18 2050\nDate: {0}\n", 0, 0, "",
	  3, FRESH, 0 },
	{ 0, 200, "Expires: Tue, 19 Jan 2038 14:14:08 GMT\nDate: {0}\n", 0,
	  0, "", 3, FRESH, 0 },
	{ 0, 200, "Expires: Thu, 18 Aug 2050 02:01:18 UTC\nDate: {0}\n", 0,
	  0, "", 3, REVAL, F_SIE },
	{ 0, 200, "Expires: Thu, 18 Aug 50 02:01:18 GMT\nDate: {0}\n", 0, 0,
	  "", 3, REVAL, F_SIE },
	{ 0, 200, "Expires: {+100}\nExpires: {+200}\nDate: {0}\n", 0, 0, "",
	  3, REVAL, F_SIE },
	/* must-revalidate, proxy-revalidate, no-cache: never stale */
	{ 0, 200, "Cache-Control: max-age=10000, must-revalidate\n"
	  "ETag: \"abcd\"\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 200, "Cache-Control: max-age=2, must-revalidate\n"
	  "ETag: \"abcd\"\n", 0, 0, "", 3, REVAL, F_COND },
	{ 0, 200, "Cache-Control: max-age=2, proxy-revalidate\n", 0, 0, "",
	  3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=2, s-maxage=2\n", 0, 0, "", 3,
	  REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=2, no-cache\n", 0, 0, "", 3,
	  REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=10000, no-cache\nETag: \"a\"\n", 0,
	  0, "", 0, REVAL, F_COND },
	{ 0, 200, "Cache-Control: max-age=10000, No-CaChE\n", 0, 0, "", 0,
	  REVAL, 0 },
	{ 0, 200, "Cache-Control: no-cache=\"a\", max-age=3600\n", 0, 0, "",
	  3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=3600\nPragma: no-cache\n", 0, 0,
	  "", 3, FRESH, 0 },
	/* stale-if-error and CacheStaleOnError */
	{ C_NO_STALE_ON_ERROR, 200, "Cache-Control: max-age=2\n", 0, 0, "",
	  3, REVAL, 0 },
	{ C_NO_STALE_ON_ERROR, 200, "Cache-Control: max-age=2, "
	  "stale-if-error=60\n", 0, 0, "", 3, REVAL, F_SIE },
	{ C_NO_STALE_ON_ERROR, 200, "Cache-Control: max-age=2, "
	  "stale-if-error=60\n", 0, 0, "", 70, REVAL, 0 },
	{ C_NO_STALE_ON_ERROR, 200, "Cache-Control: max-age=2\n", 0, 0,
	  "Cache-Control: stale-if-error=30\n", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=2, must-revalidate, "
	  "stale-if-error=60\n", 0, 0, "", 3, REVAL, 0 },
	/* stale-while-revalidate */
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=3600\n"
	  "ETag: \"abc\"\n", 0, 0, "", 3, STALE, F_BG | F_COND },
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=4\n", 0,
	  0, "", 3, STALE, F_BG },
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=4\n", 0,
	  0, "", 6, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=60, "
	  "must-revalidate\n", 0, 0, "", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: s-maxage=1, stale-while-revalidate=60\n",
	  0, 0, "", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=60\n", 0,
	  0, "Cache-Control: max-age=1\n", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=60\n", 0,
	  0, "Cache-Control: min-fresh=1\n", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=1, stale-while-revalidate=60\n", 0,
	  0, "Cache-Control: no-cache\n", 3, REVAL, 0 },
	/* the request's directives */
	{ 0, 200, "Cache-Control: max-age=100000\nDate: {0}\n", 0, 0,
	  "Cache-Control: no-cache\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=3600\nETag: \"x\"\n", 0, 0,
	  "Cache-Control: no-cache\n", 0, REVAL, F_COND },
	{ 0, 200, "Cache-Control: max-age=3600\nLast-Modified: {-10000}\n"
	  "Date: {0}\n", 0, 0, "Cache-Control: no-cache\n", 0, REVAL,
	  F_COND },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0,
	  "Pragma: no-cache\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0,
	  "Pragma: no-cache\nCache-Control: max-stale\n", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0,
	  "Pragma: unrecognised-extension\n", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\nDate: {0}\n", 0, 0,
	  "Cache-Control: max-age=0\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\nDate: {0}\n", 0, 0,
	  "Cache-Control: max-age=1\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\nDate: {0}\n", 0, 0,
	  "Cache-Control: max-age=3\n", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\nDate: {0}\nAge: 1800\n", 0,
	  0, "Cache-Control: max-age=600\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0,
	  "Cache-Control: max-age=3600\n", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0,
	  "Cache-Control: max-age=x\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=2\nDate: {0}\n", 0, 0,
	  "Cache-Control: max-stale=1000\n", 3, STALE, 0 },
	{ 0, 200, "Cache-Control: max-age=1500\nAge: 2000\n", 0, 0,
	  "Cache-Control: max-stale=1000\n", 0, STALE, 0 },
	{ 0, 200, "Cache-Control: max-age=1500\nAge: 2000\n", 0, 0,
	  "Cache-Control: max-stale=100\n", 0, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=2\n", 0, 0,
	  "Cache-Control: max-stale\n", 100000, STALE, 0 },
	{ 0, 200, "Cache-Control: max-age=2, must-revalidate\n", 0, 0,
	  "Cache-Control: max-stale=1000\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=2, proxy-revalidate\n", 0, 0,
	  "Cache-Control: max-stale=1000\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: s-maxage=2\n", 0, 0,
	  "Cache-Control: max-stale=1000\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=2, no-cache\n", 0, 0,
	  "Cache-Control: max-stale=1000\n", 3, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=2\n", 0, 0,
	  "Cache-Control: max-stale=1000, max-age=1\n", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=2\n", 0, 0,
	  "Cache-Control: max-stale=x\n", 3, REVAL, F_SIE },
	{ 0, 200, "Cache-Control: max-age=1500\n", 0, 0,
	  "Cache-Control: min-fresh=2000\n", 0, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=1500\nAge: 1000\n", 0, 0,
	  "Cache-Control: min-fresh=1000\n", 0, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=1500\n", 0, 0,
	  "Cache-Control: min-fresh=100\n", 0, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=1500\n", 0, 0,
	  "Cache-Control: min-fresh=junk\n", 0, REVAL, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\nDate: {0}\n", 0, 0,
	  "Cache-Control: no-store\n", 3, MISS, 0 },
	{ 0, 200, "Cache-Control: max-age=100000\n", 0, 0,
	  "Cache-Control: only-if-cached\n", 3, FRESH, F_OIC },
	{ 0, 200, "Cache-Control: max-age=2\n", 0, 0,
	  "Cache-Control: only-if-cached\n", 3, REVAL, F_OIC | F_SIE },
	/* CacheIgnoreCacheControl: the client cannot refuse the cache */
	{ C_IGNORE_CC, 200, "Cache-Control: max-age=3600\n", 0, 0,
	  "Cache-Control: no-cache\n", 3, FRESH, 0 },
	{ C_IGNORE_CC, 200, "Cache-Control: max-age=3600\n", 0, 0,
	  "Pragma: no-cache\n", 3, FRESH, 0 },
	{ C_IGNORE_CC, 200, "Cache-Control: max-age=3600\n", 0, 0,
	  "Cache-Control: max-age=0, min-fresh=5000\n", 3, FRESH, 0 },
	{ C_IGNORE_CC, 200, "Cache-Control: max-age=3600\n", 0, 0,
	  "Cache-Control: no-store\n", 3, FRESH, 0 },
	{ C_IGNORE_CC, 200, "Cache-Control: max-age=3600, no-cache\n", 0, 0,
	  "", 3, REVAL, 0 },
	/* heuristic freshness */
	{ 0, 200, "Last-Modified: {-86400}\nDate: {0}\n", 0, 0, "", 3, FRESH,
	  F_COND },
	{ 0, 200, "Last-Modified: {-86400}\nDate: {0}\n", 0, 0, "", 8640,
	  REVAL, F_COND | F_SIE },
	{ 0, 200, "Last-Modified: {-5}\nDate: {0}\n", 0, 0, "", 3, REVAL,
	  F_COND | F_SIE },
	{ 0, 203, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 204, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 404, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 405, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 410, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 414, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 501, "Last-Modified: {-86400}\n", 0, 0, "", 3, FRESH, F_COND },
	{ 0, 201, "Last-Modified: {-86400}\n", 0, 0, "", 3, REVAL,
	  F_COND | F_SIE },
	{ 0, 503, "Last-Modified: {-86400}\n", 0, 0, "", 3, REVAL,
	  F_COND | F_SIE },
	{ 0, 599, "Last-Modified: {-86400}\nCache-Control: public\n", 0, 0,
	  "", 3, FRESH, F_COND },
	{ 0, 200, "ETag: \"x\"\n", 0, 0, "", 3, FRESH, F_COND },
	{ C_DEFAULT_0, 200, "ETag: \"x\"\n", 0, 0, "", 3, REVAL,
	  F_COND | F_SIE },
	{ 0, 200, "Last-Modified: {+100}\nDate: {0}\n", 0, 0, "", 3, FRESH,
	  F_COND },
	{ C_FACTOR_HALF, 200, "Last-Modified: {-100}\nDate: {0}\n", 0, 0, "",
	  3, FRESH, F_COND },
	{ C_FACTOR_HALF, 200, "Last-Modified: {-100}\nDate: {0}\n", 0, 0, "",
	  60, REVAL, F_COND | F_SIE },
	{ 0, 200, "Last-Modified: {-315360000}\nDate: {0}\n", 0, 0, "",
	  80000, FRESH, F_COND },
	{ 0, 200, "Last-Modified: {-315360000}\nDate: {0}\n", 0, 0, "",
	  90000, REVAL, F_COND | F_SIE },
	/* timing: no Date, response delay, Age, clock skew */
	{ 0, 200, "Cache-Control: max-age=10\n", 0, 0, "", 5, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=10\n", 0, 0, "", 10, REVAL,
	  F_SIE },
	{ 0, 200, "Cache-Control: max-age=15\n", -10, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=15\n", -10, 0, "", 6, REVAL,
	  F_SIE },
	{ 0, 200, "Date: {-5}\nAge: 10\nCache-Control: max-age=20\n", -2, 0,
	  "", 3, FRESH, 0 },
	{ 0, 200, "Date: {-5}\nAge: 10\nCache-Control: max-age=20\n", -2, 0,
	  "", 9, REVAL, F_SIE },
	{ 0, 200, "Date: {+100}\nCache-Control: max-age=10\n", 0, 0, "", 5,
	  FRESH, 0 },
	/* CDN-Cache-Control */
	{ 0, 200, "CDN-Cache-Control: max-age=3600\n", 0, 0, "", 3, FRESH,
	  0 },
	{ 0, 200, "Date: {0}\nCDN-Cache-Control: max-age=3600\nAge: 7200\n",
	  0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "CDN-Cache-Control: max-age=0\n", 0, 0, "", 3, REVAL,
	  F_SIE },
	{ 0, 200, "Cache-Control: max-age=1\nCDN-Cache-Control: "
	  "max-age=3600\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "Cache-Control: max-age=3600\nCDN-Cache-Control: "
	  "max-age=1\n", 0, 0, "", 3, REVAL, F_SIE },
	{ 0, 200, "CDN-Cache-Control: no-cache\nCache-Control: "
	  "max-age=10000\n", 0, 0, "", 0, REVAL, 0 },
	{ 0, 200, "CDN-Cache-Control: max-age=3600\nExpires: {-10000}\n"
	  "Date: {0}\n", 0, 0, "", 3, FRESH, 0 },
	{ 0, 200, "CDN-Cache-Control: max-age=0\nExpires: {+10000}\n"
	  "Date: {0}\n", 0, 0, "", 3, REVAL, F_SIE },
	{ C_NO_CDN, 200, "Cache-Control: max-age=3600\nCDN-Cache-Control: "
	  "max-age=1\n", 0, 0, "", 3, FRESH, 0 },
};

START_TEST(test_decide)
{
	struct cp_conf		 c;
	struct cp_meta		 m;
	struct cp_cc		 rq;
	struct cp_decision	 d;
	int			 f;

	conf_variant(decides[_i].conf, &c);
	cache_policy_meta(&c, response(0, decides[_i].status,
	    decides[_i].resp), NOW + decides[_i].sent, NOW + decides[_i].recv,
	    &m);
	cache_policy_cc_request(request(1, "GET", "/", decides[_i].req), &rq);
	memset(&d, 0xa5, sizeof(d));
	cache_policy_decide(&c, &m, &rq, NOW + decides[_i].at, &d);
	f = (d.background ? F_BG : 0) | (d.conditional ? F_COND : 0) |
	    (d.stale_if_error ? F_SIE : 0) | (d.only_if_cached ? F_OIC : 0);
	ck_assert_msg(d.verdict == decides[_i].want,
	    "case %d: verdict %d (%s), want %d; age %lld lifetime %lld", _i,
	    d.verdict, d.reason, decides[_i].want, (long long)d.age,
	    (long long)d.lifetime);
	ck_assert_msg(f == decides[_i].flags, "case %d: flags %#x, want %#x",
	    _i, f, decides[_i].flags);
	ck_assert_ptr_nonnull(d.reason);
	ck_assert_int_eq(d.age, cache_policy_current_age(&m,
	    NOW + decides[_i].at));
	ck_assert_int_eq(d.lifetime, m.lifetime);
}
END_TEST

/*---------------------------------------------------------------------
 * Vary
 */

static const struct {
	const char	*headers;
	int		 ret;		/* length, CP_VARY_STAR */
	const char	*want;
} vnames[] = {
	{ "", 0, "" },
	{ "Vary: Foo\n", 3, "foo" },
	{ "Vary: Foo, Bar\n", 7, "bar,foo" },
	{ "Vary: foo\nVary: FOO, bar\n", 7, "bar,foo" },
	{ "Vary: Accept-Encoding,accept-language\n", 31,
	  "accept-encoding,accept-language" },
	{ "Vary: b, a, c, a, B\n", 5, "a,b,c" },
	{ "Vary: \n", 0, "" },
	{ "Vary: , ,\n", 0, "" },
	{ "Vary: *\n", CP_VARY_STAR, NULL },
	{ "Vary: Foo, *\n", CP_VARY_STAR, NULL },
	{ "Vary: *, Foo\n", CP_VARY_STAR, NULL },
	{ "Vary: , *\n", CP_VARY_STAR, NULL },
	{ "Vary: *, *\n", CP_VARY_STAR, NULL },
	{ "Vary: \nVary: *\n", CP_VARY_STAR, NULL },
	{ "Vary: Foo\nVary: *\n", CP_VARY_STAR, NULL },
	{ "Vary: fo o\n", CP_VARY_STAR, NULL },
	{ "Vary: \"foo\"\n", CP_VARY_STAR, NULL },
};

START_TEST(test_vary_names)
{
	char	buf[64];
	int	n;

	n = cache_policy_vary_names(response(0, 200, vnames[_i].headers), buf,
	    sizeof(buf));
	ck_assert_int_eq(n, vnames[_i].ret);
	if (vnames[_i].want != NULL)
		ck_assert_str_eq(buf, vnames[_i].want);
}
END_TEST

START_TEST(test_vary_names_short)
{
	char	buf[8];

	ck_assert_int_eq(cache_policy_vary_names(response(0, 200,
	    "Vary: Foo, Bar\n"), buf, 8), 7);
	ck_assert_int_eq(cache_policy_vary_names(response(0, 200,
	    "Vary: Foo, Bar\n"), buf, 7), -1);
}
END_TEST

static const struct {
	const char	*names;
	const char	*req;
	const char	*want;
} vkeys[] = {
	{ "foo", "Foo: 1\n", "foo:1\n" },
	{ "foo", "", "foo\n" },
	{ "foo", "Foo: \n", "foo:\n" },
	{ "foo", "Foo: ,,\n", "foo:\n" },
	{ "foo", "Foo: 1, 2\n", "foo:1,2\n" },
	{ "foo", "Foo: 1\nFoo: 2\n", "foo:1,2\n" },
	{ "foo", "Foo:  1 ,   2 \n", "foo:1,2\n" },
	{ "foo", "Foo: a   b\tc\n", "foo:a b c\n" },
	{ "foo", "Foo: A\n", "foo:A\n" },
	{ "foo", "Foo: a ; q = 1\n", "foo:a;q=1\n" },
	{ "foo", "Foo: \"a  b\", c\n", "foo:\"a  b\",c\n" },
	{ "foo", "Foo: x=\"1,2\"\n", "foo:x=\"1,2\"\n" },
	{ "accept-language", "Accept-Language: eN, De\n",
	  "accept-language:en,de\n" },
	{ "accept-encoding", "Accept-Encoding: GZIP ;q=1.0 , br\n",
	  "accept-encoding:gzip;q=1.0,br\n" },
	{ "bar,foo", "Foo: 1\nBar: abc\n", "bar:abc\nfoo:1\n" },
	{ "a,b,c", "B: 2\n", "a\nb:2\nc\n" },
	{ "", "Foo: 1\n", "" },
};

START_TEST(test_vary_key)
{
	char	buf[128];
	int	n;

	n = cache_policy_vary_key(vkeys[_i].names, strlen(vkeys[_i].names),
	    request(1, "GET", "/", vkeys[_i].req), buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(vkeys[_i].want));
	ck_assert_str_eq(buf, vkeys[_i].want);
	/* what the key was made from matches it */
	ck_assert_int_eq(cache_policy_vary_match(vkeys[_i].names,
	    strlen(vkeys[_i].names), buf, (size_t)n, &msgs[1]), 1);
	/* and a short buffer is refused */
	if (n > 0)
		ck_assert_int_eq(cache_policy_vary_key(vkeys[_i].names,
		    strlen(vkeys[_i].names), &msgs[1], buf, (size_t)n), -1);
}
END_TEST

static const struct {
	const char	*resp;		/* the stored response's Vary */
	const char	*stored;	/* the request that stored it */
	const char	*req;		/* the new request */
	int		 match;
} vmatches[] = {
	{ "Vary: Foo\n", "Foo: 1\n", "Foo: 1\n", 1 },
	{ "Vary: Foo\n", "Foo: 1\n", "Foo: 2\n", 0 },
	{ "Vary: Foo\n", "", "Foo: 1\n", 0 },
	{ "Vary: Foo\n", "Foo: 1\n", "", 0 },
	{ "Vary: Foo\n", "", "", 1 },
	{ "Vary: Foo\n", "Foo: 1\n", "Foo: 12\n", 0 },
	{ "Vary: Foo\n", "Foo: 1\n", "foo: 1\n", 1 },
	{ "Vary: Foo\n", "Foo: 1\nOther: 2\n", "Foo: 1\nOther: 3\n", 1 },
	{ "Vary: Foo, Bar\n", "Foo: 1\nBar: abc\n", "Foo: 1\nBar: abc\n", 1 },
	{ "Vary: Foo, Bar\n", "Foo: 1\nBar: abc\n", "Bar: abc\nFoo: 1\n", 1 },
	{ "Vary: Foo, Bar\n", "Foo: 1\nBar: abc\n", "Foo: 2\nBar: abc\n", 0 },
	{ "Vary: Foo, Bar\n", "Foo: 1\nBar: abc\n", "", 0 },
	{ "Vary: Foo, Bar, Baz\n", "Foo: 1\nBar: abc\nBaz: 789\n",
	  "Foo: 1\nBaz: 789\nBar: abcde\n", 0 },
	{ "Vary: Foo, Bar, Baz\n", "Foo: 1\nBar: abc\nBaz: 789\n",
	  "Foo: 2\nBar: abc\nBaz: 789\n", 0 },
	{ "Vary: Foo, Bar, Baz\n", "Foo: 1\nBaz: 789\n", "Foo: 1\nBaz: 789\n",
	  1 },
	{ "Vary: Foo\n", "Foo: 1, 2\n", "Foo: 1\nFoo: 2\n", 1 },
	{ "Vary: Foo\n", "Foo: 1,2\n", "Foo:  1, 2 \n", 1 },
	{ "Vary: Foo\n", "Foo: 1\n", "Foo: 1\nFoo: 1\n", 0 },
	{ "Vary: Accept-Language\n", "Accept-Language: en, de\n",
	  "Accept-Language: eN, De\n", 1 },
	{ "Vary: Accept-Language\n", "Accept-Language: en, de\n",
	  "Accept-Language:  en ,   de\n", 1 },
	/* order is meaning: no reordering */
	{ "Vary: Accept-Language\n", "Accept-Language: en, de\n",
	  "Accept-Language: de, en\n", 0 },
	{ "Vary: X-Token\n", "X-Token: Abc\n", "X-Token: abc\n", 0 },
	{ "", "Foo: 1\n", "Foo: 2\n", 1 },
};

START_TEST(test_vary_match)
{
	char	names[64], key[256];
	int	nn, kn;

	nn = cache_policy_vary_names(response(0, 200, vmatches[_i].resp),
	    names, sizeof(names));
	ck_assert_int_ge(nn, 0);
	kn = cache_policy_vary_key(names, (size_t)nn, request(1, "GET", "/",
	    vmatches[_i].stored), key, sizeof(key));
	ck_assert_int_ge(kn, 0);
	ck_assert_int_eq(cache_policy_vary_match(names, (size_t)nn, key,
	    (size_t)kn, request(2, "GET", "/", vmatches[_i].req)),
	    vmatches[_i].match);
}
END_TEST

/*---------------------------------------------------------------------
 * Validators, conditional requests, 304
 */

static const struct {
	const char	*headers;
	int		 bits;
	const char	*inm, *ims;
} validators[] = {
	{ "ETag: \"abcdef\"\n", CP_VAL_INM, "\"abcdef\"", "" },
	{ "ETag: W/\"abcdef\"\n", CP_VAL_INM, "W/\"abcdef\"", "" },
	{ "ETag: abcdef\n", CP_VAL_INM, "\"abcdef\"", "" },
	{ "ETag: W/abc\n", CP_VAL_INM, "W/\"abc\"", "" },
	{ "ETag: \"abc,def\"\n", CP_VAL_INM, "\"abc,def\"", "" },
	{ "Last-Modified: Wed, 01 Jan 2020 00:00:00 GMT\n", CP_VAL_IMS, "",
	  "Wed, 01 Jan 2020 00:00:00 GMT" },
	{ "Last-Modified: Wednesday, 01-Jan-20 00:00:00 GMT\n", CP_VAL_IMS,
	  "", "Wednesday, 01-Jan-20 00:00:00 GMT" },
	{ "ETag: \"e\"\nLast-Modified: Wed, 01 Jan 2020 00:00:00 GMT\n",
	  CP_VAL_INM | CP_VAL_IMS, "\"e\"", "Wed, 01 Jan 2020 00:00:00 GMT" },
	{ "Last-Modified: garbage\n", 0, "", "" },
	{ "ETag: \n", 0, "", "" },
	{ "Cache-Control: max-age=5\n", 0, "", "" },
};

START_TEST(test_validators)
{
	char	inm[64], ims[64];

	memset(inm, 'x', sizeof(inm));
	memset(ims, 'x', sizeof(ims));
	ck_assert_int_eq(cache_policy_validators(response(0, 200,
	    validators[_i].headers), inm, sizeof(inm), ims, sizeof(ims)),
	    validators[_i].bits);
	ck_assert_str_eq(inm, validators[_i].inm);
	ck_assert_str_eq(ims, validators[_i].ims);
}
END_TEST

START_TEST(test_validators_short)
{
	char	inm[8], ims[64];

	ck_assert_int_eq(cache_policy_validators(response(0, 200,
	    "ETag: \"abcdef\"\n"), inm, sizeof(inm), ims, sizeof(ims)), -1);
	ck_assert_int_eq(cache_policy_validators(response(0, 200,
	    "ETag: \"abcde\"\n"), inm, sizeof(inm), ims, sizeof(ims)),
	    CP_VAL_INM);
	ck_assert_str_eq(inm, "\"abcde\"");
}
END_TEST

#define C_NONE	CP_COND_NONE
#define C_304	CP_COND_304
#define C_FULL	CP_COND_FULL
#define C_FWD	CP_COND_FORWARD

static const struct {
	int		 status;
	const char	*stored;
	const char	*method;
	const char	*req;
	enum cp_cond	 want;
} conds[] = {
	{ 200, "ETag: \"abcdef\"\n", "GET", "", C_NONE },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: \"abcdef\"\n", "HEAD", "If-None-Match: \"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: W/\"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: W/\"abcdef\"\n", "GET", "If-None-Match: \"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: W/\"abcdef\"\n", "GET", "If-None-Match: W/\"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"abcdef\", "
	  "\"1234\", \"5678\"\n", C_304 },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"1234\", "
	  "\"abcdef\", \"5678\"\n", C_304 },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"1234\", "
	  "\"5678\", \"abcdef\"\n", C_304 },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"1234\"\n"
	  "If-None-Match: \"abcdef\"\n", C_304 },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"1234\"\n",
	  C_FULL },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"abcdeF\"\n",
	  C_FULL },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: \"abcde\"\n",
	  C_FULL },
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: *\n", C_304 },
	{ 200, "", "GET", "If-None-Match: *\n", C_304 },
	{ 200, "", "GET", "If-None-Match: \"abcdef\"\n", C_FULL },
	{ 200, "ETag: \"abc,def\"\n", "GET", "If-None-Match: \"abc,def\"\n",
	  C_304 },
	{ 200, "ETag: \"abc,def\"\n", "GET", "If-None-Match: \"abc\"\n",
	  C_FULL },
	/* lenient forms, compared as given */
	{ 200, "ETag: \"abcdef\"\n", "GET", "If-None-Match: abcdef\n", C_304 },
	{ 200, "ETag: abcdef\n", "GET", "If-None-Match: abcdef\n", C_304 },
	{ 200, "ETag: abcdef\n", "GET", "If-None-Match: \"abcdef\"\n", C_304 },
	{ 200, "ETag: w/\"abcdef\"\n", "GET", "If-None-Match: w/\"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: W\\\"abcdef\"\n", "GET",
	  "If-None-Match: W\\\"abcdef\"\n", C_304 },
	{ 200, "ETag: W\"abcdef\"\n", "GET", "If-None-Match: W\"abcdef\"\n",
	  C_304 },
	{ 200, "ETag: \"abcdef\xc3\xbc\"\n", "GET",
	  "If-None-Match: \"abcdef\xc3\xbc\"\n", C_304 },
	/* If-None-Match first: If-Modified-Since is then ignored */
	{ 200, "ETag: \"abcdef\"\nLast-Modified: {-5000}\n", "GET",
	  "If-None-Match: \"abcdef\"\nIf-Modified-Since: {-10000}\n", C_304 },
	{ 200, "ETag: \"abcdef\"\nLast-Modified: {-5000}\n", "GET",
	  "If-None-Match: \"x\"\nIf-Modified-Since: {0}\n", C_FULL },
	/* If-Modified-Since: Last-Modified, else Date, else received */
	{ 200, "Last-Modified: {-3000}\nDate: {0}\n", "GET",
	  "If-Modified-Since: {-3000}\n", C_304 },
	{ 200, "Last-Modified: {-3000}\nDate: {0}\n", "GET",
	  "If-Modified-Since: {-2000}\n", C_304 },
	{ 200, "Last-Modified: {-3000}\nDate: {0}\n", "GET",
	  "If-Modified-Since: {-4000}\n", C_FULL },
	{ 200, "Last-Modified: {-3000}\nDate: {0}\n", "HEAD",
	  "If-Modified-Since: {-4000}\n", C_FULL },
	{ 200, "Date: {0}\n", "GET", "If-Modified-Since: {-3000}\n", C_FULL },
	{ 200, "Date: {0}\n", "GET", "If-Modified-Since: {0}\n", C_304 },
	{ 200, "Date: {-100}\n", "GET", "If-Modified-Since: {-50}\n", C_304 },
	{ 200, "", "GET", "If-Modified-Since: {+10}\n", C_304 },
	{ 200, "", "GET", "If-Modified-Since: {-10}\n", C_FULL },
	{ 200, "Last-Modified: Wed, 01 Jan 2020 00:00:00 GMT\n", "GET",
	  "If-Modified-Since: Wednesday, 01-Jan-20 00:00:00 GMT\n", C_304 },
	{ 200, "Last-Modified: {-3000}\n", "GET", "If-Modified-Since: foo\n",
	  C_NONE },
	{ 200, "Last-Modified: {-3000}\n", "GET", "If-Modified-Since: {0}\n"
	  "If-Modified-Since: {0}\n", C_NONE },
	/* preconditions for the origin, and non-2xx stored responses */
	{ 200, "ETag: \"a\"\n", "GET", "If-Match: \"a\"\n", C_FWD },
	{ 200, "ETag: \"a\"\n", "GET", "If-Unmodified-Since: {0}\n", C_FWD },
	{ 200, "ETag: \"a\"\n", "GET", "If-Match: \"a\"\n"
	  "If-None-Match: \"a\"\n", C_FWD },
	{ 404, "ETag: \"a\"\n", "GET", "If-None-Match: \"a\"\n", C_NONE },
	{ 301, "Last-Modified: {-3000}\n", "GET",
	  "If-Modified-Since: {0}\n", C_NONE },
	{ 204, "ETag: \"a\"\n", "GET", "If-None-Match: \"a\"\n", C_304 },
	{ 200, "ETag: \"a\"\n", "POST", "If-None-Match: \"a\"\n", C_NONE },
};

START_TEST(test_conditional)
{
	struct cp_conf	 c;
	struct cp_meta	 m;
	struct http_msg	*st;

	cache_policy_conf_init(&c);
	st = response(0, conds[_i].status, conds[_i].stored);
	cache_policy_meta(&c, st, NOW, NOW, &m);
	ck_assert_int_eq(cache_policy_conditional(request(1, conds[_i].method,
	    "/", conds[_i].req), st, &m), conds[_i].want);
}
END_TEST

static const struct {
	const char	*a, *b;
	int		 eq;
} etags[] = {
	{ "\"1\"", "\"1\"", 1 },
	{ "W/\"1\"", "W/\"1\"", 1 },
	{ "W/\"1\"", "\"1\"", 1 },
	{ "\"1\"", "W/\"1\"", 1 },
	{ "W/\"1\"", "W/\"2\"", 0 },
	{ "\"1\"", "\"2\"", 0 },
	{ "\"\"", "\"\"", 1 },
	{ "", "", 0 },
	{ " \"1\" ", "\"1\"", 1 },
	{ "\"a\"", "\"A\"", 0 },
};

START_TEST(test_etag_weak)
{
	struct http_slice a, b;

	a.p = etags[_i].a;
	a.n = strlen(a.p);
	b.p = etags[_i].b;
	b.n = strlen(b.p);
	ck_assert_int_eq(cache_policy_etag_weak_eq(a, b), etags[_i].eq);
	ck_assert_int_eq(cache_policy_etag_weak_eq(b, a), etags[_i].eq);
}
END_TEST

static const struct {
	const char	*name;
	int		 in;
} in304s[] = {
	{ "ETag", 1 }, { "Cache-Control", 1 }, { "Date", 1 }, { "Expires", 1 },
	{ "Vary", 1 }, { "Content-Location", 1 }, { "Last-Modified", 1 },
	{ "X-Custom", 1 }, { "Content-Length", 0 }, { "content-type", 0 },
	{ "Content-Encoding", 0 }, { "Content-Language", 0 },
	{ "Content-Range", 0 }, { "Content-MD5", 0 }, { "Allow", 0 },
	{ "Transfer-Encoding", 0 }, { "Trailer", 0 },
};

START_TEST(test_in_304)
{
	struct http_slice n;

	n.p = in304s[_i].name;
	n.n = strlen(n.p);
	ck_assert_int_eq(cache_policy_in_304(n), in304s[_i].in);
}
END_TEST

static const struct {
	const char	*stored, *r;
	int		 match;
} matches304[] = {
	{ "ETag: \"a\"\n", "ETag: \"a\"\n", 1 },
	{ "ETag: \"a\"\n", "ETag: \"b\"\n", 0 },
	{ "ETag: W/\"a\"\n", "ETag: W/\"a\"\n", 1 },
	{ "ETag: \"a\"\n", "ETag: W/\"a\"\n", 1 },
	{ "ETag: W/\"a\"\n", "ETag: \"a\"\n", 0 },	/* strong needs both */
	{ "", "ETag: \"a\"\n", 0 },
	{ "ETag: \"a\"\nLast-Modified: {-10}\n", "Last-Modified: {-10}\n", 1 },
	{ "Last-Modified: {-10}\n", "Last-Modified: {-10}\n", 1 },
	{ "Last-Modified: {-10}\n", "Last-Modified: {-20}\n", 0 },
	{ "", "Last-Modified: {-10}\n", 0 },
	{ "ETag: \"a\"\n", "", 1 },
	{ "", "Date: {0}\n", 1 },
};

START_TEST(test_304_matches)
{
	ck_assert_int_eq(cache_policy_304_matches(response(0, 200,
	    matches304[_i].stored), response(1, 304, matches304[_i].r)),
	    matches304[_i].match);
}
END_TEST

static const struct {
	const char	*stored, *r, *want;
} merges[] = {
	{ "Date: A\nCache-Control: max-age=1\nETag: \"a\"\n"
	  "Content-Length: 36\nTest-Header: aaa\n",
	  "Date: B\nCache-Control: max-age=3600\nETag: \"a\"\n"
	  "Content-Length: 10\nTest-Header: bbb\nConnection: close\n"
	  "Set-Cookie: x=y\nAge: 5\n",
	  "Content-Length: 36|Date: B|Cache-Control: max-age=3600|"
	  "ETag: \"a\"|Test-Header: bbb" },
	{ "Date: A\nTest-Header: aaa\n", "", "Test-Header: aaa" },
	{ "Test-Header: aaa\nDate: A\n", "Date: B\n",
	  "Test-Header: aaa|Date: B" },
	{ "X: 1\nY: 0\nX: 2\n", "x: 3\n", "Y: 0|x: 3" },
	{ "Content-Encoding: gzip\nContent-Type: text/plain\n",
	  "Content-Encoding: br\nContent-Type: text/html\n",
	  "Content-Encoding: br|Content-Type: text/html" },
	{ "A: 1\n", "Keep-Alive: timeout=5\nConnection: A\nA: 2\n", "A: 1" },
	{ "A: 1\nB: 1\n", "Cache-Control: no-cache=\"A\"\nA: 2\nB: 2\n",
	  "A: 1|Cache-Control: no-cache=\"A\"|B: 2" },
};

START_TEST(test_merge)
{
	struct cp_conf		 c;
	struct http_header	 out[16];
	char			 got[512];
	size_t			 o = 0;
	int			 n;

	cache_policy_conf_init(&c);
	n = cache_policy_merge(&c, response(0, 200, merges[_i].stored),
	    response(1, 304, merges[_i].r), out, 16);
	ck_assert_int_ge(n, 0);
	got[0] = '\0';
	for (int i = 0; i < n; i++) {
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%.*s: %.*s",
		    i ? "|" : "", (int)out[i].name.n, out[i].name.p,
		    (int)out[i].value.n, out[i].value.p);
		ck_assert_uint_lt(o, sizeof(got));
	}
	ck_assert_str_eq(got, merges[_i].want);
	if (n > 0)
		ck_assert_int_eq(cache_policy_merge(&c, &msgs[0], &msgs[1], out,
		    n - 1), -1);
}
END_TEST

/* A stale entry revalidated by a 304 is fresh again, with new headers. */
START_TEST(test_refresh_flow)
{
	struct cp_conf		 c;
	struct cp_meta		 m;
	struct cp_cc		 rq;
	struct cp_decision	 d;
	struct http_msg		*st, *r, *merged = &msgs[3];
	char			 inm[64], ims[64];

	cache_policy_conf_init(&c);
	st = response(0, 200, "Date: {-100}\nCache-Control: max-age=2\n"
	    "ETag: \"v1\"\nTest-Header: old\nContent-Length: 36\n");
	cache_policy_meta(&c, st, NOW - 101, NOW - 100, &m);
	cache_policy_cc_request(request(2, "GET", "/", ""), &rq);
	cache_policy_decide(&c, &m, &rq, NOW, &d);
	ck_assert_int_eq(d.verdict, CP_REVALIDATE);
	ck_assert_int_eq(d.conditional, 1);
	ck_assert_int_eq(cache_policy_validators(st, inm, sizeof(inm), ims,
	    sizeof(ims)), CP_VAL_INM);
	ck_assert_str_eq(inm, "\"v1\"");

	r = response(1, 304, "Date: {0}\nCache-Control: max-age=3600\n"
	    "ETag: \"v1\"\nTest-Header: new\nAge: 2\n");
	ck_assert_int_eq(cache_policy_304_matches(st, r), 1);
	memset(merged, 0, sizeof(*merged));
	merged->status = st->status;
	merged->nheaders = cache_policy_merge(&c, st, r, merged->headers,
	    HTTP_MAX_HEADERS);
	ck_assert_int_eq(merged->nheaders, 5);
	ck_assert_int_ge(http_find(merged, "Content-Length", 0), 0);
	ck_assert_int_eq(http_find(merged, "Age", 0), -1);
	ck_assert(http_slice_eq(merged->headers[http_find(merged,
	    "Test-Header", 0)].value, "new"));
	cache_policy_meta(&c, merged, NOW - 1, NOW, &m);
	m.age_value = cache_policy_age(r);
	ck_assert_int_eq(m.lifetime, 3600);
	cache_policy_decide(&c, &m, &rq, NOW + 3, &d);
	ck_assert_int_eq(d.verdict, CP_FRESH);
	/* Age 2 + 1 s response delay, then 3 s resident */
	ck_assert_int_eq(cache_policy_current_age(&m, NOW), 3);
	ck_assert_int_eq(d.age, 6);
}
END_TEST

/* An unsafe request's Location names the same key a GET would use. */
START_TEST(test_invalidation_keys)
{
	struct http_msg	*req, *resp;
	char		 t[128], k1[256], k2[256];
	int		 n;

	req = request(1, "POST", "/cart/add?x=1", "");
	resp = response(0, 303, "Location: ../cart/view?id=7#top\n"
	    "Content-Location: http://example.com:8080/elsewhere\n");
	ck_assert_int_eq(cache_policy_invalidates(req, resp), 1);
	n = cache_policy_related(resp, "Location", "http", "example.com", 80,
	    req->target.p, req->target.n, t, sizeof(t));
	ck_assert_int_eq(n, 15);
	ck_assert_str_eq(t, "/cart/view?id=7");
	ck_assert_int_gt(cache_policy_key(k1, sizeof(k1), "http",
	    "example.com", 80, t, (size_t)n, 0), 0);
	/* the key a later "GET /cart/view?id=7" looks up */
	ck_assert_int_gt(cache_policy_key(k2, sizeof(k2), "http",
	    "example.com", 80, "/cart/view?id=7", 15, 0), 0);
	ck_assert_str_eq(k1, k2);
	ck_assert_str_eq(k1, "http://example.com:80/cart/view?id=7");
	/* another port: another origin */
	ck_assert_int_eq(cache_policy_related(resp, "Content-Location",
	    "http", "example.com", 80, req->target.p, req->target.n, t,
	    sizeof(t)), 0);
}
END_TEST

/*---------------------------------------------------------------------
 * Invalidation
 */

static const struct {
	const char	*method;
	int		 status;
	int		 unsafe, invalidates;
} unsafes[] = {
	{ "GET", 200, 0, 0 },
	{ "HEAD", 200, 0, 0 },
	{ "OPTIONS", 200, 0, 0 },
	{ "TRACE", 200, 0, 0 },
	{ "POST", 200, 1, 1 },
	{ "POST", 201, 1, 1 },
	{ "POST", 204, 1, 1 },
	{ "POST", 303, 1, 1 },
	{ "POST", 399, 1, 1 },
	{ "POST", 400, 1, 0 },
	{ "POST", 500, 1, 0 },
	{ "PUT", 200, 1, 1 },
	{ "PUT", 500, 1, 0 },
	{ "DELETE", 200, 1, 1 },
	{ "DELETE", 404, 1, 0 },
	{ "PATCH", 200, 1, 1 },
	{ "M-SEARCH", 200, 1, 1 },
	{ "M-SEARCH", 500, 1, 0 },
	{ "PROPPATCH", 207, 1, 1 },
};

START_TEST(test_unsafe)
{
	struct http_msg	*req = request(1, unsafes[_i].method, "/", "");

	ck_assert_int_eq(cache_policy_unsafe(req), unsafes[_i].unsafe);
	ck_assert_int_eq(cache_policy_invalidates(req, response(0,
	    unsafes[_i].status, "")), unsafes[_i].invalidates);
}
END_TEST

static const struct {
	const char	*field;
	const char	*headers;
	unsigned	 port;
	const char	*base;
	const char	*want;		/* "": none */
} related[] = {
	{ "Location", "Location: /a/b?c=1\n", 80, "/x", "/a/b?c=1" },
	{ "Location", "Location: http://example.com/a\n", 80, "/x", "/a" },
	{ "Location", "Location: http://example.com:80/a\n", 80, "/x", "/a" },
	{ "Location", "Location: HTTP://EXAMPLE.com/a\n", 80, "/x", "/a" },
	{ "Location", "Location: http://example.com/a\n", 0, "/x", "/a" },
	{ "Location", "Location: http://example.com:8080/a\n", 80, "/x", "" },
	{ "Location", "Location: http://example.com:8080/a\n", 8080, "/x",
	  "/a" },
	{ "Location", "Location: http://example.com/a\n", 8080, "/x", "" },
	{ "Location", "Location: https://example.com/a\n", 80, "/x", "" },
	{ "Location", "Location: http://other.com/a\n", 80, "/x", "" },
	{ "Location", "Location: http://example.com.evil/a\n", 80, "/x", "" },
	{ "Location", "Location: http://user@example.com/a\n", 80, "/x", "" },
	{ "Location", "Location: //example.com/a\n", 80, "/x", "/a" },
	{ "Location", "Location: //other.com/a\n", 80, "/x", "" },
	{ "Location", "Location: http://example.com\n", 80, "/x", "/" },
	{ "Location", "Location: http://example.com?q\n", 80, "/x", "/?q" },
	{ "Location", "Location: location_target\n", 80, "/test/uuid",
	  "/test/location_target" },
	{ "Location", "Location: ../up\n", 80, "/a/b/c", "/a/up" },
	{ "Location", "Location: ./x/../y\n", 80, "/a/b", "/a/y" },
	{ "Location", "Location: ../../../../x\n", 80, "/a/b", "/x" },
	{ "Location", "Location: ?q=2\n", 80, "/a/b?q=1", "/a/b?q=2" },
	{ "Location", "Location: #frag\n", 80, "/a/b?q=1", "/a/b?q=1" },
	{ "Location", "Location: /a#frag\n", 80, "/x", "/a" },
	{ "Location", "Location: /a/./b/../c?d=/../e\n", 80, "/x",
	  "/a/c?d=/../e" },
	{ "Location", "Location: /../../x\n", 80, "/y", "/x" },
	{ "Location", "Location: /a/..\n", 80, "/y", "/" },
	{ "Location", "Location: /a/.\n", 80, "/y", "/a/" },
	{ "Location", "Location: mailto:x@example.com\n", 80, "/x", "" },
	{ "Location", "Location: /a\nLocation: /b\n", 80, "/x", "" },
	{ "Location", "", 80, "/x", "" },
	{ "Location", "Content-Location: /a\n", 80, "/x", "" },
	{ "Content-Location", "Content-Location: /bar\n", 80, "/x", "/bar" },
	{ "Content-Location", "Content-Location: bar\n", 80, "/x/y",
	  "/x/bar" },
	{ "Location", "Location: http://[::1]:8080/a\n", 8080, "/x", "" },
};

START_TEST(test_related)
{
	char	out[128];
	int	n;

	n = cache_policy_related(response(0, 201, related[_i].headers),
	    related[_i].field, "http", "example.com", related[_i].port,
	    related[_i].base, strlen(related[_i].base), out, sizeof(out));
	if (related[_i].want[0] == '\0') {
		ck_assert_int_eq(n, 0);
		return;
	}
	ck_assert_int_eq(n, (int)strlen(related[_i].want));
	ck_assert_str_eq(out, related[_i].want);
}
END_TEST

START_TEST(test_related_v6)
{
	char	out[8];

	ck_assert_int_eq(cache_policy_related(response(0, 201,
	    "Location: http://[::1]:8080/a\n"), "Location", "http", "::1",
	    8080, "/", 1, out, sizeof(out)), 2);
	ck_assert_str_eq(out, "/a");
	/* too long for out */
	ck_assert_int_eq(cache_policy_related(response(0, 201,
	    "Location: /abcdefghij\n"), "Location", "http", "h", 80, "/", 1,
	    out, sizeof(out)), -1);
}
END_TEST

/*---------------------------------------------------------------------
 * The suite
 */

#define LOOP(tc, fn, table) \
	tcase_add_loop_test(tc, fn, 0, (int)(sizeof(table) / sizeof(table[0])))

static Suite *
cache_policy_suite(void)
{
	Suite	*s = suite_create("cache_policy");
	TCase	*k = tcase_create("keys");
	TCase	*p = tcase_create("parse");
	TCase	*st = tcase_create("store");
	TCase	*d = tcase_create("decide");
	TCase	*v = tcase_create("vary");
	TCase	*c = tcase_create("conditional");
	TCase	*i = tcase_create("invalidate");

	tcase_set_timeout(k, 30);
	LOOP(k, test_key, keys);
	tcase_add_test(k, test_key_short);
	tcase_add_test(k, test_strip_session);
	LOOP(k, test_hash_path, hashes);
	tcase_add_test(k, test_hash);
	LOOP(k, test_enabled, enables);
	tcase_add_test(k, test_enabled_none);
	suite_add_tcase(s, k);

	tcase_set_timeout(p, 30);
	LOOP(p, test_cc_parse, ccs);
	LOOP(p, test_cc_lines, cclines);
	LOOP(p, test_date, dates);
	LOOP(p, test_age, ages);
	suite_add_tcase(s, p);

	tcase_set_timeout(st, 30);
	tcase_add_test(st, test_conf_init);
	tcase_add_test(st, test_conf_vhost_defaults);
	tcase_add_test(st, test_conf_vhost);
	LOOP(st, test_meta, metas);
	tcase_add_test(st, test_meta_dates);
	LOOP(st, test_current_age, cur_ages);
	LOOP(st, test_storable, stores);
	LOOP(st, test_store_headers, store_hdrs);
	suite_add_tcase(s, st);

	tcase_set_timeout(d, 30);
	LOOP(d, test_decide, decides);
	suite_add_tcase(s, d);

	tcase_set_timeout(v, 30);
	LOOP(v, test_vary_names, vnames);
	tcase_add_test(v, test_vary_names_short);
	LOOP(v, test_vary_key, vkeys);
	LOOP(v, test_vary_match, vmatches);
	suite_add_tcase(s, v);

	tcase_set_timeout(c, 30);
	LOOP(c, test_validators, validators);
	tcase_add_test(c, test_validators_short);
	LOOP(c, test_conditional, conds);
	LOOP(c, test_etag_weak, etags);
	LOOP(c, test_in_304, in304s);
	LOOP(c, test_304_matches, matches304);
	LOOP(c, test_merge, merges);
	tcase_add_test(c, test_refresh_flow);
	suite_add_tcase(s, c);

	tcase_set_timeout(i, 30);
	LOOP(i, test_unsafe, unsafes);
	LOOP(i, test_related, related);
	tcase_add_test(i, test_related_v6);
	tcase_add_test(i, test_invalidation_keys);
	suite_add_tcase(s, i);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(cache_policy_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
