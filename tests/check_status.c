/*
 * check_status.c - the status page (SetHandler server-status), against
 * the real gatewayd and the real test origin.
 *
 * Counts are read on one kept-alive connection: one worker serves its
 * requests in turn and counts each before it reads the next, so the
 * figures are exact, not a matter of timing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "testlib.h"

#ifndef GW_TEST_ORIGIN
#error "GW_TEST_ORIGIN must name the test origin binary"
#endif

static struct gwt_server S;
static struct proc	 O;
static int		 refuse_fd = -1, REFUSE;	/* bound, not listening */

static void
cleanup(void)
{
	if (S.pid > 0)
		(void)kill(S.pid, SIGKILL);
	proc_stop(&O, SIGTERM);
	if (refuse_fd != -1)
		(void)close(refuse_fd);
	refuse_fd = -1;
	gwt_teardown(&S);
	S.dir[0] = '\0';
}

#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		show_file(S.errlog);					\
		show_file(S.out);					\
		show_file(O.log);					\
		cleanup();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

static void
setup(void)
{
	memset(&O, 0, sizeof(O));
	ck_assert_int_eq(gwt_setup(&S), 0);
	REQUIRE(origin_start(&O, S.dir, "origin") == 0, "origin");
	/* bound, not listening: connections are refused */
	REQUIRE((refuse_fd = gwt_tcp_socket(&REFUSE, 0)) != -1, "bind");
}

static void
teardown(void)
{
	cleanup();
}

/* The gateway every test starts from, with extra lines. */
static void
start_gw(const char *extra)
{
	char	conf[6000];
	int	n;

	n = snprintf(conf, sizeof(conf),
	    "ServerName status.example\n"
	    "StartServers 3\nMinSpareServers 1\nMaxSpareServers 6\n"
	    "Timeout 10\n"
	    "CacheRoot %s/cache\nCacheEnable disk /c/\n"
	    "<Location /server-status>\n  SetHandler server-status\n"
	    "  Require ip 127.0.0.1\n</Location>\n"
	    "<Location /server-status/off>\n  SetHandler None\n</Location>\n"
	    "<Location /locked-status>\n  SetHandler server-status\n"
	    "  Require ip 10.9.8.7\n</Location>\n"
	    "<Proxy balancer://app>\n"
	    "  BalancerMember http://127.0.0.1:%d route=a\n"
	    "  BalancerMember http://127.0.0.1:%d status=+H\n</Proxy>\n"
	    "ProxyPass /b/ balancer://app/\n"
	    "ProxyPass /c/ http://127.0.0.1:%d/\n"
	    "ProxyPass /down/ http://127.0.0.1:%d/\n"
	    "ProxyPass /server-status !\n"
	    "ProxyPass /locked-status !\n"
	    "ProxyPass / http://127.0.0.1:%d/\n%s",
	    S.dir, O.port, REFUSE, O.port, REFUSE, O.port, extra);
	REQUIRE(n > 0 && (size_t)n < sizeof(conf), "config too long");
	REQUIRE(gwt_write_conf(&S, NULL, conf) == 0, "cannot write config");
	REQUIRE(gwt_start(&S, NULL) == 0, "gatewayd did not start");
}

static void
cl_open(struct client *c)
{
	REQUIRE(httpc_open(c, S.hosts[0], S.ports[0]) == 0, "connect");
}

/* ask - one request on c (kept alive); the status. */
static int
ask(struct client *c, const char *method, const char *path, struct resp *r)
{
	char	req[1024];

	(void)snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: s.test\r\n"
	    "\r\n", method, path);
	resp_reset(r);
	REQUIRE(cl_sends(c, req) == 0, "send");
	REQUIRE(read_resp(c, r, strcmp(method, "HEAD") == 0) == 0,
	    "no answer to %s %s", method, path);
	return r->status;
}

/* num - the number after "name: " in an ?auto page; -1 if absent. */
static long long
num(const struct resp *r, const char *name)
{
	char		 key[64];
	const char	*p;

	(void)snprintf(key, sizeof(key), "\n%s: ", name);
	if ((p = strstr(r->body, key)) == NULL)
		return -1;
	return atoll(p + strlen(key));
}

START_TEST(test_page)
{
	struct client	 c;
	struct resp	 r = { 0 };
	char		 v[128];
	const char	*p;
	int		 rows = 0;

	start_gw("");
	cl_open(&c);
	REQUIRE(ask(&c, "GET", "/server-status", &r) == 200, "status %d",
	    r.status);
	REQUIRE(field(r.head, "Content-Type", v, sizeof(v)) &&
	    strncmp(v, "text/html", 9) == 0, "type %s", v);
	REQUIRE(strstr(r.body, "gatewayd status for status.example") !=
	    NULL && strstr(r.body, "Scoreboard Key") != NULL &&
	    strstr(r.body, "Server MPM: prefork") != NULL, "page:\n%s",
	    r.body);
	for (p = r.body; (p = strstr(p, "<tr><td>")) != NULL; p++)
		if (p[8] >= '0' && p[8] <= '9' && strchr(p, '-') != NULL)
			rows++;
	REQUIRE(rows >= 3, "%d worker rows:\n%s", rows, r.body);
	REQUIRE(strstr(r.body, "<h2>Balancer balancer://app</h2>") != NULL,
	    "no balancer");
	/* HEAD: the head only; the connection goes on */
	REQUIRE(ask(&c, "HEAD", "/server-status", &r) == 200 && r.blen == 0,
	    "HEAD: %d, %zu bytes", r.status, r.blen);
	REQUIRE(ask(&c, "POST", "/server-status", &r) == 405, "POST: %d",
	    r.status);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_auto_counts)
{
	struct client	 c;
	struct resp	 r = { 0 };
	long long	 a1, a2, k1, k2;
	char		 v[128];

	start_gw("");
	cl_open(&c);
	REQUIRE(ask(&c, "GET", "/server-status?auto", &r) == 200, "auto");
	REQUIRE(field(r.head, "Content-Type", v, sizeof(v)) &&
	    strncmp(v, "text/plain", 10) == 0, "type %s", v);
	REQUIRE(strncmp(r.body, "ServerVersion: gatewayd/", 24) == 0,
	    "auto:\n%s", r.body);
	static const char *const fields[] = { "ServerMPM", "CurrentTime",
	    "RestartTime", "ServerUptimeSeconds", "Uptime", "Total Accesses",
	    "Total kBytes", "BusyWorkers", "IdleWorkers", "Scoreboard",
	    "CacheHits", "CacheMisses", "CacheEntries" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char key[64];

		(void)snprintf(key, sizeof(key), "\n%s: ", fields[i]);
		REQUIRE(strstr(r.body, key) != NULL, "no %s:\n%s", fields[i],
		    r.body);
	}
	REQUIRE(num(&r, "BusyWorkers") >= 1, "this request is busy");
	a1 = num(&r, "Total Accesses");
	k1 = num(&r, "Total kBytes");
	for (int i = 0; i < 3; i++)
		REQUIRE(ask(&c, "GET", "/size/2048", &r) == 200, "proxied");
	REQUIRE(ask(&c, "GET", "/server-status?auto", &r) == 200, "auto");
	a2 = num(&r, "Total Accesses");
	k2 = num(&r, "Total kBytes");
	/* the first ?auto and the three in between */
	REQUIRE(a2 - a1 == 4, "Total Accesses %lld then %lld", a1, a2);
	REQUIRE(k2 - k1 >= 6, "Total kBytes %lld then %lld", k1, k2);
	/* ?refresh=N asks for a reload */
	REQUIRE(ask(&c, "GET", "/server-status?refresh=5", &r) == 200 &&
	    field(r.head, "Refresh", v, sizeof(v)) && strcmp(v, "5") == 0,
	    "refresh: %s", r.head);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_access_and_paths)
{
	struct client	 c;
	struct resp	 r = { 0 };
	long		 n0;

	start_gw("");
	cl_open(&c);
	REQUIRE(ask(&c, "GET", "/locked-status", &r) == 403, "locked: %d",
	    r.status);
	REQUIRE(ask(&c, "GET", "/locked-status?auto", &r) == 403,
	    "locked auto: %d", r.status);
	/* SetHandler None deeper down: not the page */
	REQUIRE(ask(&c, "GET", "/server-status/off", &r) == 404, "None: %d",
	    r.status);
	/* outside the Location: proxied */
	n0 = origin_ask_count(&O);
	REQUIRE(ask(&c, "GET", "/server-statusx", &r) == 404 &&
	    strstr(r.body, "Scoreboard") == NULL, "statusx: %d", r.status);
	REQUIRE(origin_ask_count(&O) == n0 + 1, "not proxied");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/* Without the "ProxyPass /server-status !" a ProxyPass / takes it, as
   in Apache. */
START_TEST(test_proxypass_wins)
{
	struct client	 c;
	struct resp	 r = { 0 };
	char		 conf[1024];

	(void)snprintf(conf, sizeof(conf), "<Location /server-status>\n"
	    "  SetHandler server-status\n</Location>\n"
	    "ProxyPass / http://127.0.0.1:%d/\n", O.port);
	REQUIRE(gwt_write_conf(&S, NULL, conf) == 0, "config");
	REQUIRE(gwt_start(&S, NULL) == 0, "start");
	cl_open(&c);
	REQUIRE(ask(&c, "GET", "/server-status", &r) == 404 &&
	    strstr(r.body, "Scoreboard") == NULL, "%d", r.status);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_cache_backends_balancers)
{
	struct client	 c, d;
	struct resp	 r = { 0 };
	char		 want[128];

	start_gw("");
	cl_open(&c);
	/* a miss that is stored, then a hit */
	REQUIRE(ask(&c, "GET", "/c/size/100?header=Cache-Control:max-age%3D"
	    "300", &r) == 200, "miss");
	REQUIRE(ask(&c, "GET", "/c/size/100?header=Cache-Control:max-age%3D"
	    "300", &r) == 200 && strstr(r.head, "Age:") != NULL, "not a hit:"
	    "\n%s", r.head);
	REQUIRE(ask(&c, "GET", "/b/", &r) == 200, "balancer: %d", r.status);
	/* a 503 ends its connection, as in Apache: on one of its own */
	cl_open(&d);
	REQUIRE(ask(&d, "GET", "/down/", &r) == 503, "down: %d", r.status);
	cl_close(&d);
	REQUIRE(ask(&c, "GET", "/server-status?auto", &r) == 200, "auto");
	REQUIRE(num(&r, "CacheHits") == 1 && num(&r, "CacheMisses") == 1 &&
	    num(&r, "CacheEntries") == 1, "cache counts:\n%s", r.body);
	(void)snprintf(want, sizeof(want), "\nBackend: 127.0.0.1:%d error ",
	    REFUSE);
	REQUIRE(strstr(r.body, want) != NULL, "no %s:\n%s", want, r.body);
	/* a configured backend that never failed is listed too */
	(void)snprintf(want, sizeof(want), "\nBackend: 127.0.0.1:%d ok 0\n",
	    O.port);
	REQUIRE(strstr(r.body, want) != NULL, "no %s:\n%s", want, r.body);
	(void)snprintf(want, sizeof(want), "\nBalancerMember: balancer://app "
	    "http://127.0.0.1:%d Ok 0 1\n", O.port);
	REQUIRE(strstr(r.body, want) != NULL, "no %s:\n%s", want, r.body);
	REQUIRE(ask(&c, "GET", "/server-status", &r) == 200, "page");
	REQUIRE(strstr(r.body, "1 hits, 1 misses") != NULL &&
	    strstr(r.body, "hit ratio 50.0%") != NULL, "cache part:\n%s",
	    r.body);
	(void)snprintf(want, sizeof(want), "<tr><td>127.0.0.1:%d</td><td>Err "
	    , REFUSE);
	REQUIRE(strstr(r.body, want) != NULL, "backend part:\n%s", r.body);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

START_TEST(test_extended_off)
{
	struct client	 c;
	struct resp	 r = { 0 };

	start_gw("ExtendedStatus Off\n");
	cl_open(&c);
	REQUIRE(ask(&c, "GET", "/server-status?auto", &r) == 200, "auto");
	REQUIRE(num(&r, "Total Accesses") == -1 && num(&r, "BusyWorkers") >=
	    1, "ExtendedStatus Off:\n%s", r.body);
	REQUIRE(ask(&c, "GET", "/server-status", &r) == 200 &&
	    strstr(r.body, "<th>PID</th>") == NULL &&
	    strstr(r.body, "Total accesses") == NULL, "page:\n%s", r.body);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

static Suite *
status_suite(void)
{
	Suite	*s = suite_create("status");
	TCase	*tc = tcase_create("page");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_page);
	tcase_add_test(tc, test_auto_counts);
	tcase_add_test(tc, test_access_and_paths);
	tcase_add_test(tc, test_proxypass_wins);
	tcase_add_test(tc, test_cache_backends_balancers);
	tcase_add_test(tc, test_extended_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(status_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
