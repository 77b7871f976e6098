/*
 * check_rules.c - rules.c: request paths, the choice of virtual host and
 * of ProxyPass rule, over configurations read by the real conf_load.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "rules.h"

static struct gw_config *
load(const char *text)
{
	char			 path[] = "/tmp/gwrulesXXXXXX";
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
 * Paths
 */

static const struct {
	const char	*in;
	int		 allow;		/* AllowEncodedSlashes */
	int		 status;
	const char	*out;
} paths[] = {
	{ "/", 0, 0, "/" },
	{ "/a/b/c.html", 0, 0, "/a/b/c.html" },
	{ "/a/./b/", 0, 0, "/a/b/" },
	{ "/a/b/..", 0, 0, "/a/" },
	{ "/a/b/../c", 0, 0, "/a/c" },
	{ "/app/../secret", 0, 0, "/secret" },
	{ "/app/%2e%2e/secret", 0, 0, "/secret" },
	{ "/app/%2E%2E/secret", 0, 0, "/secret" },
	{ "/app/.%2e/.%2E/x", 0, 400, NULL },
	{ "/app/b/.%2e/.%2E/x", 0, 0, "/x" },
	{ "/a/.", 0, 0, "/a/" },
	{ "/..", 0, 400, NULL },
	{ "/../etc/passwd", 0, 400, NULL },
	{ "/a/../../etc/passwd", 0, 400, NULL },
	{ "/%2e%2e/etc", 0, 400, NULL },
	{ "/a%20b", 0, 0, "/a b" },
	{ "/a%2fb", 0, 404, NULL },
	{ "/a%2Fb", 0, 404, NULL },
	{ "/a%2Fb", 2, 0, "/a%2Fb" },
	{ "/a%2F..%2Fb", 2, 0, "/a%2F..%2Fb" },
	{ "/a%252Fb", 2, 0, "/a%252Fb" },
	{ "/a%252Fb", 0, 0, "/a%2Fb" },
	{ "/a%2Fb", 1, 0, "/a/b" },
	{ "/a/b%2F..%2F..%2Fc", 1, 0, "/c" },
	{ "/a%00b", 0, 400, NULL },
	{ "/a%zzb", 0, 400, NULL },
	{ "/a%4", 0, 400, NULL },
	{ "/a%", 0, 400, NULL },
	{ "a/b", 0, 400, NULL },
	{ "/a...b/..c/", 0, 0, "/a...b/..c/" },
};

START_TEST(test_paths)
{
	char	out[64];
	int	r;

	r = rules_path(paths[_i].in, strlen(paths[_i].in), paths[_i].allow,
	    out, sizeof(out));
	ck_assert_msg(r == paths[_i].status, "%s: got %d", paths[_i].in, r);
	if (r == 0)
		ck_assert_str_eq(out, paths[_i].out);
}
END_TEST

START_TEST(test_path_too_long)
{
	char out[8];

	ck_assert_int_eq(rules_path("/abcdefghij", 11, 0, out, sizeof(out)),
	    414);
	ck_assert_int_eq(rules_path("/abcdef", 7, 0, out, sizeof(out)), 0);
}
END_TEST

/*---------------------------------------------------------------------
 * Virtual hosts
 */

static struct sockaddr_storage ss;

static const struct sockaddr *
local(const char *ip, int port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)&ss;
}

static const char vhosts[] =
    "Listen 80\nServerName main.example\n"
    "<VirtualHost *:80>\nServerName www.host.com\n"
    "ServerAlias host.com *.host.org\n</VirtualHost>\n"
    "<VirtualHost *:80>\nServerName other.com:80\n</VirtualHost>\n"
    "<VirtualHost 10.0.0.5:80>\nServerName ten.example\n</VirtualHost>\n"
    "<VirtualHost 10.0.0.5:80>\nServerName ten2.example\n</VirtualHost>\n"
    "<VirtualHost *:8080 [::1]:8081>\nServerName eighty.example\n"
    "</VirtualHost>\n";

static const struct {
	const char	*ip;
	int		 port;
	const char	*host;
	const char	*want;		/* ServerName, "main" for main */
} vcases[] = {
	{ "127.0.0.1", 80, "www.host.com", "www.host.com" },
	{ "127.0.0.1", 80, "WWW.Host.COM:80", "www.host.com" },
	{ "127.0.0.1", 80, "www.host.com.", "www.host.com" },
	{ "127.0.0.1", 80, "host.com", "www.host.com" },
	{ "127.0.0.1", 80, "a.b.host.org", "www.host.com" },
	{ "127.0.0.1", 80, "other.com", "other.com:80" },
	{ "127.0.0.1", 80, "nobody.example", "www.host.com" },
	{ "127.0.0.1", 80, NULL, "www.host.com" },
	/* an exact address wins over *; then names among those */
	{ "10.0.0.5", 80, "www.host.com", "ten.example" },
	{ "10.0.0.5", 80, "ten2.example", "ten2.example" },
	{ "127.0.0.1", 8080, "x", "eighty.example" },
	{ "::1", 8081, "x", "eighty.example" },
	{ "::2", 8081, "x", "main" },
	{ "127.0.0.1", 9999, "www.host.com", "main" },
};

START_TEST(test_vhosts)
{
	static struct gw_config	*c;
	const struct gw_vhost	*v;
	const char		*h = vcases[_i].host;

	c = load(vhosts);
	v = rules_vhost(c, local(vcases[_i].ip, vcases[_i].port), h,
	    h ? strlen(h) : 0);
	if (strcmp(vcases[_i].want, "main") == 0)
		ck_assert_ptr_eq(v, &c->main);
	else {
		ck_assert_ptr_ne(v, &c->main);
		ck_assert_str_eq(v->server_name, vcases[_i].want);
	}
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * ProxyPass
 */

static const struct {
	const char	*alias;
	const char	*path;
	size_t		 taken;
} prefixes[] = {
	{ "/", "/", 1 },
	{ "/", "/anything", 1 },
	{ "/foo", "/foo", 4 },
	{ "/foo", "/foo/bar", 4 },
	{ "/foo", "/foobar", 0 },
	{ "/foo/", "/foo/bar", 5 },
	{ "/foo/", "/foo", 0 },
	{ "/foo", "//foo//bar", 5 },
	{ "//foo", "/foo", 4 },
	{ "/a/b", "/a/c", 0 },
};

START_TEST(test_prefix)
{
	ck_assert_uint_eq(rules_prefix(prefixes[_i].alias, prefixes[_i].path),
	    prefixes[_i].taken);
}
END_TEST

static const char routes[] =
    "Listen 80\n"
    "ProxyPass /global http://g/\n"
    "<Location /loc>\nProxyPass http://l/\n</Location>\n"
    "<VirtualHost *:80>\nServerName v\n"
    "ProxyPass /app/static !\n"
    "ProxyPass /app http://app/\n"
    "ProxyPass /app/other http://never/\n"
    "ProxyPass / http://root/\n"
    "<Location /vl>\nProxyPass http://vl/\n</Location>\n"
    "</VirtualHost>\n";

static const struct {
	const char	*path;
	const char	*url;		/* NULL: "!"; "-": no rule */
	size_t		 matched;
} rcases[] = {
	{ "/app", "http://app/", 4 },
	{ "/app/x", "http://app/", 4 },
	{ "/app/other/x", "http://app/", 4 },	/* first match wins */
	{ "/app/static/x.css", NULL, 11 },
	{ "/apple", "http://root/", 1 },
	{ "/global/x", "http://g/", 7 },	/* main server's first */
	{ "/loc/y", "http://l/", 4 },		/* <Location> before all */
	{ "/vl/y", "http://vl/", 3 },
};

START_TEST(test_routes)
{
	struct gw_config	*c = load(routes);
	struct rules_route	 r;
	const struct gw_vhost	*v = c->vhosts;

	ck_assert_int_eq(rules_proxypass(c, v, rcases[_i].path, &r), 1);
	if (rcases[_i].url == NULL)
		ck_assert_ptr_null(r.pp->url);
	else
		ck_assert_str_eq(r.pp->url, rcases[_i].url);
	ck_assert_uint_eq(r.matched, rcases[_i].matched);
	conf_free(c);
}
END_TEST

START_TEST(test_no_route)
{
	struct gw_config	*c = load("Listen 80\nProxyPass /a http://a/\n");
	struct rules_route	 r;

	ck_assert_int_eq(rules_proxypass(c, &c->main, "/b", &r), 0);
	ck_assert_ptr_null(r.pp);
	ck_assert_int_eq(rules_proxypass(c, &c->main, "/a/b", &r), 1);
	conf_free(c);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite	*s = suite_create("rules");
	TCase	*tc = tcase_create("rules");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_paths, 0, sizeof(paths) /
	    sizeof(paths[0]));
	tcase_add_test(tc, test_path_too_long);
	tcase_add_loop_test(tc, test_vhosts, 0, sizeof(vcases) /
	    sizeof(vcases[0]));
	tcase_add_loop_test(tc, test_prefix, 0, sizeof(prefixes) /
	    sizeof(prefixes[0]));
	tcase_add_loop_test(tc, test_routes, 0, sizeof(rcases) /
	    sizeof(rcases[0]));
	tcase_add_test(tc, test_no_route);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(rules_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
