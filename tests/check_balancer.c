/*
 * check_balancer.c - load balancing (balancer.c, and its use in proxy.c).
 *
 * Unit part: configurations parsed by conf_load, then balancer_select
 * asked directly (a private state table, or the shared one across a
 * fork): Apache's byrequests, bybusyness and bytraffic arithmetic,
 * lbsets, status flags, sticky routes, the -t errors.
 *
 * Integration part: the real gatewayd in front of two real test origins
 * (tests/origin, asked for their /count directly), and a backend of our
 * own that accepts and closes.  Distribution counts are exact: every
 * request is a separate, sequential one, so the arithmetic decides
 * alone; several connections held open at once make several workers
 * serve, so exact counts show that the workers share the balancer's
 * state.  Waits are bounded polling; nothing asserts a duration.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balancer.h"
#include "conf.h"
#include "gatewayd.h"
#include "httpc.h"
#include "testlib.h"

#ifndef GW_TEST_ORIGIN
#error "GW_TEST_ORIGIN must name the test origin binary"
#endif

/*---------------------------------------------------------------------
 * Unit part
 */

static char	 udir[128];
static char	*errs;

static void
unit_setup(void)
{
	(void)snprintf(udir, sizeof(udir), "/tmp/gwtest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(udir));
}

static void
unit_teardown(void)
{
	free(errs);
	errs = NULL;
	(void)gwt_rm_tree(udir);
}

/* load - text (after a Listen line) as udir/test.conf; errors in errs. */
static struct gw_config *
load(const char *text, int *nerr)
{
	char			 path[256], *full;
	struct gw_config	*c;
	FILE			*err;
	size_t			 len;

	free(errs);
	errs = NULL;
	ck_assert_int_gt(asprintf(&full, "Listen 127.0.0.1:0\n%s", text), 0);
	(void)snprintf(path, sizeof(path), "%s/test.conf", udir);
	ck_assert_int_eq(gwt_write_file(path, full), 0);
	free(full);
	err = open_memstream(&errs, &len);
	ck_assert_ptr_nonnull(err);
	*nerr = 0;
	c = conf_load(path, NULL, 0, err, nerr);
	ck_assert_int_eq(fclose(err), 0);
	return c;
}

/* good - a configuration that must load; its balancers attached. */
static struct gw_config *
good(const char *text)
{
	int			 n;
	struct gw_config	*c = load(text, &n);

	ck_assert_msg(c != NULL && n == 0, "errors: %s", errs);
	ck_assert_ptr_nonnull(c->balancers);
	balancer_attach(c);
	return c;
}

/* bad - a configuration that must fail with want at test.conf:line. */
static void
bad(const char *text, int line, const char *want)
{
	char			 at[64];
	int			 n;
	struct gw_config	*c = load(text, &n);

	ck_assert_msg(c == NULL && n > 0, "accepted: %s", text);
	(void)snprintf(at, sizeof(at), "test.conf:%d:", line);
	ck_assert_msg(strstr(errs, at) != NULL && strstr(errs, want) != NULL,
	    "want \"%s\" at line %d, got: %s", want, line, errs);
}

/* pick - balancer_select with no route; the member's index. */
static int
pick(const struct gw_balancer *b, const unsigned char *tried)
{
	int sticky;

	return balancer_select(b, NULL, tried, -1, &sticky);
}

/* picks - n choices, each finished at once, as a string of letters. */
static void
picks(const struct gw_balancer *b, int n, char *out)
{
	int	i, m;

	for (i = 0; i < n; i++) {
		m = pick(b, NULL);
		ck_assert_int_ge(m, 0);
		balancer_done(b, m, -1, 0, 0);
		out[i] = (char)('A' + m);
	}
	out[n] = '\0';
}

#define TWO(p1, p2) \
	"<Proxy balancer://c>\n" \
	"BalancerMember http://127.0.0.1:1 " p1 "\n" \
	"BalancerMember http://127.0.0.1:2 " p2 "\n" \
	"</Proxy>\n" \
	"ProxyPass /app/ balancer://c/\n"

START_TEST(test_byrequests_arithmetic)
{
	struct gw_config	*c = good(TWO("loadfactor=1",
				    "loadfactor=3"));
	int			 count[2] = { 0, 0 };
	char			 seq[16];

	/* Apache: lbstatus += lbfactor for each, the highest wins (the
	   first of equals), the winner loses the total: B A B B */
	picks(c->balancers, 4, seq);
	ck_assert_str_eq(seq, "BABB");
	for (int i = 0; i < 400; i++) {
		int m = pick(c->balancers, NULL);

		ck_assert_int_ge(m, 0);
		count[m]++;
		balancer_done(c->balancers, m, -1, 0, 0);
	}
	ck_assert_int_eq(count[0], 100);
	ck_assert_int_eq(count[1], 300);
	conf_free(c);
}
END_TEST

START_TEST(test_round_robin_three)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:1\n"
	    "BalancerMember http://127.0.0.1:2\n"
	    "BalancerMember http://127.0.0.1:3\n"
	    "</Proxy>\n");
	char seq[16];

	picks(c->balancers, 7, seq);
	ck_assert_str_eq(seq, "ABCABCA");
	ck_assert_int_eq(c->balancers->maxattempts, 2);	/* n - 1 */
	conf_free(c);
}
END_TEST

START_TEST(test_lbset_and_standby)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:1 lbset=1\n"
	    "BalancerMember http://127.0.0.1:2\n"
	    "BalancerMember http://127.0.0.1:3 status=+H\n"
	    "BalancerMember http://127.0.0.1:4 lbset=1 status=+H\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers;
	char seq[16];

	picks(b, 4, seq);
	ck_assert_str_eq(seq, "BBBB");		/* lbset 0, not standby */
	balancer_fail(b, 1);
	picks(b, 3, seq);
	ck_assert_str_eq(seq, "CCC");		/* lbset 0's hot standby */
	balancer_fail(b, 2);
	picks(b, 3, seq);
	ck_assert_str_eq(seq, "AAA");		/* then lbset 1 */
	balancer_fail(b, 0);
	picks(b, 2, seq);
	ck_assert_str_eq(seq, "DD");		/* and its standby */
	balancer_ok(b, 1);
	picks(b, 2, seq);
	ck_assert_str_eq(seq, "BB");		/* back */
	conf_free(c);
}
END_TEST

START_TEST(test_status_flags)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:1 status=+D route=d\n"
	    "BalancerMember http://127.0.0.1:2 status=S\n"
	    "BalancerMember http://127.0.0.1:3 status=+E\n"
	    "BalancerMember http://127.0.0.1:4 status=+N route=n\n"
	    "BalancerMember http://127.0.0.1:5 status=+I\n"
	    "BalancerMember http://127.0.0.1:6 status=+D-D\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers;
	char	seq[16];
	int	sticky;

	ck_assert_int_eq(b->members[0].flags, GW_BM_DISABLED);
	ck_assert_int_eq(b->members[5].flags, 0);
	ck_assert(balancer_in_error(b, 2));	/* +E: starts in error */
	picks(b, 4, seq);
	ck_assert_str_eq(seq, "EFEF");
	balancer_fail(b, 4);			/* +I: ignored */
	balancer_fail(b, 5);
	picks(b, 3, seq);
	ck_assert_str_eq(seq, "EEE");
	/* draining: its own sessions only; disabled: not even those */
	ck_assert_int_eq(balancer_select(b, "n", NULL, -1, &sticky), 3);
	ck_assert_int_eq(sticky, 1);
	balancer_done(b, 3, -1, 0, 0);
	ck_assert_int_eq(balancer_select(b, "d", NULL, -1, &sticky), 4);
	ck_assert_int_eq(sticky, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_bybusyness)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "ProxySet lbmethod=bybusyness\n"
	    "BalancerMember http://127.0.0.1:1\n"
	    "BalancerMember http://127.0.0.1:2\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers;
	struct balancer_info in;

	ck_assert_int_eq(b->lbmethod, GW_LB_BYBUSYNESS);
	ck_assert_int_eq(pick(b, NULL), 0);	/* equal: byrequests, A */
	ck_assert_int_eq(pick(b, NULL), 1);	/* A busy */
	ck_assert_int_eq(pick(b, NULL), 0);	/* both 1: byrequests */
	ck_assert_int_eq(pick(b, NULL), 1);	/* A 2, B 1 */
	balancer_info(b, 0, &in);
	ck_assert_int_eq(in.busy, 2);
	balancer_done(b, 0, -1, 0, 0);
	balancer_done(b, 0, -1, 0, 0);
	ck_assert_int_eq(pick(b, NULL), 0);	/* A 0, B 2 */
	ck_assert_int_eq(pick(b, NULL), 0);	/* A 1, B 2 */
	conf_free(c);
}
END_TEST

START_TEST(test_bytraffic)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "ProxySet lbmethod=bytraffic\n"
	    "BalancerMember http://127.0.0.1:1 loadfactor=50\n"
	    "BalancerMember http://127.0.0.1:2\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers;

	ck_assert_int_eq(pick(b, NULL), 0);
	balancer_done(b, 0, -1, 1000, 4000);	/* 5000 / 50 = 100 */
	ck_assert_int_eq(pick(b, NULL), 1);
	balancer_done(b, 1, -1, 60, 30);	/* 90 / 1 */
	ck_assert_int_eq(pick(b, NULL), 1);
	balancer_done(b, 1, -1, 10, 0);		/* 100: a tie, the first */
	ck_assert_int_eq(pick(b, NULL), 0);
	balancer_done(b, 0, -1, 0, 0);
	balancer_done(b, 1, -1, 1, 0);
	ck_assert_int_eq(pick(b, NULL), 0);
	conf_free(c);
}
END_TEST

START_TEST(test_tried_and_maxattempts)
{
	struct gw_config *c = good(TWO("", "") "ProxyPass /b/ balancer://c/ "
	    "maxattempts=5\n");
	unsigned char tried[LB_MEMBERS_MAX] = { 1 };

	ck_assert_int_eq(c->balancers->maxattempts, 5);
	ck_assert_int_eq(pick(c->balancers, tried), 1);
	tried[1] = 1;
	ck_assert_int_eq(pick(c->balancers, tried), -1);
	conf_free(c);
}
END_TEST

START_TEST(test_forcerecovery)
{
	struct gw_config *c = good(TWO("", "") "<Proxy balancer://d>\n"
	    "ProxySet forcerecovery=Off\n"
	    "BalancerMember http://127.0.0.1:3\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers, *d = b->next;

	balancer_fail(b, 0);
	balancer_fail(b, 1);
	/* every member in error: one request gets to try them */
	ck_assert_int_ge(pick(b, NULL), 0);
	balancer_fail(d, 0);
	ck_assert_int_eq(pick(d, NULL), -1);
	conf_free(c);
}
END_TEST

static int
route(const struct gw_balancer *b, const char *path, const char *query,
    const char *cookie, char *out)
{
	const char	*cv[1] = { cookie };
	size_t		 cl[1] = { cookie != NULL ? strlen(cookie) : 0 };

	out[0] = '\0';
	return balancer_route(b, path, strlen(path), query, query != NULL ?
	    strlen(query) : 0, cv, cl, cookie != NULL ? 1 : 0, out, 64);
}

START_TEST(test_route_parsing)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "ProxySet stickysession=JSESSIONID|jsessionid\n"
	    "BalancerMember http://127.0.0.1:1 route=n1\n"
	    "</Proxy>\n"
	    "<Proxy balancer://r>\n"
	    "ProxySet stickysession=ROUTEID\n"
	    "BalancerMember http://127.0.0.1:1 route=n1\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers, *r = b->next;
	char out[64];

	ck_assert_str_eq(b->sticky_cookie, "JSESSIONID");
	ck_assert_str_eq(b->sticky_param, "jsessionid");
	ck_assert(route(b, "/a", NULL, "x=1; JSESSIONID=abc.node2; y=2",
	    out));
	ck_assert_str_eq(out, "node2");
	/* the URL first, then the cookie */
	ck_assert(route(b, "/a;jsessionid=abc.node1", NULL,
	    "JSESSIONID=abc.node2", out));
	ck_assert_str_eq(out, "node1");
	ck_assert(route(b, "/a", "q=1&jsessionid=zz.n3&r=2", NULL, out));
	ck_assert_str_eq(out, "n3");
	ck_assert(route(b, "/a", "jsessionid=zz.n4", NULL, out));
	ck_assert_str_eq(out, "n4");
	/* route: after the first dot */
	ck_assert(route(b, "/a", NULL, "JSESSIONID=\"a.b.c\"", out));
	ck_assert_str_eq(out, "b.c");
	ck_assert(!route(b, "/a", NULL, "JSESSIONID=abc", out));
	ck_assert(!route(b, "/a", NULL, "XJSESSIONID=abc.n1", out));
	ck_assert(!route(b, "/a", "xjsessionid=abc.n1", NULL, out));
	ck_assert(!route(b, "/ajsessionid=abc.n1", NULL, NULL, out));
	ck_assert(!route(b, "/a", NULL, "JSESSIONID=abc.", out));
	/* one name for both */
	ck_assert(route(r, "/a", NULL, "ROUTEID=.b", out));
	ck_assert_str_eq(out, "b");
	ck_assert(route(r, "/a", "ROUTEID=.q", NULL, out));
	ck_assert_str_eq(out, "q");
	conf_free(c);
}
END_TEST

START_TEST(test_sticky_select)
{
	struct gw_config *c = good("<Proxy balancer://c>\n"
	    "ProxySet stickysession=S\n"
	    "BalancerMember http://127.0.0.1:1 route=a redirect=b\n"
	    "BalancerMember http://127.0.0.1:2 route=b\n"
	    "BalancerMember http://127.0.0.1:3 route=c\n"
	    "</Proxy>\n"
	    "<Proxy balancer://f>\n"
	    "ProxySet stickysession=S nofailover=On\n"
	    "BalancerMember http://127.0.0.1:1 route=a\n"
	    "BalancerMember http://127.0.0.1:2 route=b\n"
	    "</Proxy>\n");
	const struct gw_balancer *b = c->balancers, *f = b->next;
	int	sticky, i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(balancer_select(b, "c", NULL, -1, &sticky),
		    2);
		ck_assert_int_eq(sticky, 1);
		balancer_done(b, 2, -1, 0, 0);
	}
	/* a route no member has: the lbmethod decides */
	ck_assert_int_eq(balancer_select(b, "zz", NULL, -1, &sticky), 0);
	ck_assert_int_eq(sticky, 0);
	/* a's member down: its redirect= route */
	balancer_fail(b, 0);
	ck_assert_int_eq(balancer_select(b, "a", NULL, -1, &sticky), 1);
	ck_assert_int_eq(sticky, 1);
	/* c down: another member (failover) */
	balancer_fail(b, 2);
	ck_assert_int_eq(balancer_select(b, "c", NULL, -1, &sticky), 1);
	ck_assert_int_eq(sticky, 0);
	/* nofailover: the session's member or nothing */
	ck_assert_int_eq(balancer_select(f, "b", NULL, -1, &sticky), 1);
	balancer_fail(f, 1);
	ck_assert_int_eq(balancer_select(f, "b", NULL, -1, &sticky), -1);
	ck_assert_int_eq(balancer_select(f, "nope", NULL, -1, &sticky), -1);
	ck_assert_int_ge(balancer_select(f, NULL, NULL, -1, &sticky), 0);
	conf_free(c);
}
END_TEST

/* The state is shared: a child's choices and busy counts are seen by
   the parent, and the master gives back a dead worker's busy count. */
START_TEST(test_shared_state)
{
	struct gw_config	*c;
	struct balancer_info	 in;
	pid_t			 pid;
	int			 st, sticky;

	ck_assert_int_eq(balancer_create(4), 0);
	c = good(TWO("loadfactor=1", "loadfactor=3"));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)	/* the first choice, then gone without done */
		_exit(balancer_select(c->balancers, NULL, NULL, 2,
		    &sticky) == 1 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	balancer_info(c->balancers, 1, &in);
	ck_assert_int_eq(in.busy, 1);
	ck_assert_int_eq((int)in.elected, 1);
	balancer_worker_gone(2);
	balancer_info(c->balancers, 1, &in);
	ck_assert_int_eq(in.busy, 0);
	balancer_worker_gone(2);	/* once only */
	balancer_info(c->balancers, 1, &in);
	ck_assert_int_eq(in.busy, 0);
	/* the sequence goes on where the child left it: B A B B */
	ck_assert_int_eq(pick(c->balancers, NULL), 0);
	/* a new configuration with the same members keeps their state */
	balancer_fail(c->balancers, 1);
	conf_free(c);
	c = good(TWO("loadfactor=1", "loadfactor=3"));
	ck_assert(balancer_in_error(c->balancers, 1));
	ck_assert(!balancer_in_error(c->balancers, 0));
	conf_free(c);
	balancer_destroy();
}
END_TEST

/* Apache's form outside a section: BalancerMember and ProxySet name
   their balancer first; a section with that name gets them. */
START_TEST(test_url_form)
{
	struct gw_config *c = good(
	    "BalancerMember balancer://x http://127.0.0.1:1 route=a\n"
	    "<Proxy balancer://y>\nBalancerMember http://127.0.0.1:5\n"
	    "</Proxy>\n"
	    "BalancerMember balancer://X/ http://127.0.0.1:2\n"
	    "ProxySet balancer://x lbmethod=bybusyness\n"
	    "BalancerMember balancer://y http://127.0.0.1:6\n"
	    "ProxyPass /x/ balancer://x/\n");
	const struct gw_balancer *x = c->balancers, *y = x->next;

	ck_assert_str_eq(x->name, "balancer://x");
	ck_assert_int_eq(x->nmembers, 2);
	ck_assert_str_eq(x->members[0].route, "a");
	ck_assert_int_eq(x->lbmethod, GW_LB_BYBUSYNESS);
	ck_assert_ptr_eq(c->main.proxypass->balancer, x);
	ck_assert_str_eq(y->name, "balancer://y");
	ck_assert_int_eq(y->nmembers, 2);
	ck_assert_ptr_null(y->next);
	conf_free(c);
}
END_TEST

/* More balancers than the shared table holds: the rest still work,
   each with state of its own. */
START_TEST(test_table_full)
{
	char			*text = malloc(70 * 128), *o = text;
	struct gw_config	*c;
	const struct gw_balancer *b;
	int			 n = 0, own = 0;
	char			 seq[8];

	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < 70; i++)
		o += sprintf(o, "<Proxy balancer://b%d>\nBalancerMember "
		    "http://127.0.0.1:1\nBalancerMember http://127.0.0.1:2\n"
		    "</Proxy>\n", i);
	c = good(text);
	for (b = c->balancers; b != NULL; b = b->next, n++) {
		if (b->members[0].slot == -1)
			own++;
		picks(b, 4, seq);
		ck_assert_str_eq(seq, "ABAB");
		balancer_fail(b, 0);
		picks(b, 2, seq);
		ck_assert_str_eq(seq, "BB");
	}
	ck_assert_int_eq(n, 70);
	ck_assert_int_eq(own, 70 - 64);
	conf_free(c);
	free(text);
}
END_TEST

START_TEST(test_conf_build)
{
	struct gw_config	*c;
	struct gw_proxypass	*pp;

	c = good("<Proxy balancer://Main/>\n"
	    "BalancerMember http://127.0.0.1:1/app/ route=x retry=5 "
	    "timeout=7 connectiontimeout=250ms ttl=9 disablereuse=On "
	    "keepalive=On hcmethod=HEAD hcuri=/ping hcinterval=3 hcpasses=2 "
	    "hcfails=4\n"
	    "</Proxy>\n"
	    "ProxyPass /a/ balancer://main/x/ stickysession=J failonstatus=500,"
	    "503 failontimeout=On\n"
	    "ProxyPass /ws/ balancer://main/ upgrade=websocket\n"
	    "<VirtualHost *>\n"
	    "ServerName v\n"
	    "ProxyPass /b/ balancer://main/\n"
	    "</VirtualHost>\n");
	const struct gw_balancer *b = c->balancers;
	const struct gw_bmember *m = &b->members[0];

	ck_assert_str_eq(b->name, "balancer://main");
	ck_assert_int_eq(b->nmembers, 1);
	ck_assert_int_eq(b->maxattempts, 0);
	ck_assert_str_eq(b->sticky_cookie, "J");
	ck_assert(balancer_status_match(b, 503));
	ck_assert(balancer_status_match(b, 500));
	ck_assert(!balancer_status_match(b, 502));
	ck_assert_int_eq(b->failontimeout, 1);
	ck_assert_str_eq(m->name, "http://127.0.0.1:1/app");
	ck_assert_str_eq(m->route, "x");
	ck_assert_int_eq(m->retry, 5);
	ck_assert_int_eq(m->timeout, 7);
	ck_assert_int_eq(m->connectiontimeout, 250);
	ck_assert_int_eq(m->ttl, 9);
	ck_assert_int_eq(m->disablereuse, 1);
	ck_assert_int_eq(m->keepalive, 1);
	ck_assert_int_eq(m->hcmethod, GW_HC_HEAD);
	ck_assert_str_eq(m->hcuri, "/ping");
	ck_assert_int_eq(m->hcinterval, 3);
	ck_assert_int_eq(m->hcpasses, 2);
	ck_assert_int_eq(m->hcfails, 4);
	ck_assert(balancer_hc_wanted(c));
	pp = c->main.proxypass;
	ck_assert_ptr_eq(pp->balancer, b);
	ck_assert_str_eq(pp->lbpath, "/x/");
	/* a virtual host uses the main server's balancers */
	ck_assert_ptr_eq(c->vhosts->proxypass->balancer, b);
	conf_free(c);
}
END_TEST

/* The commented balancer in the sample gateway.conf is a good one. */
START_TEST(test_sample_balancer)
{
	char		*sample, *from, *to, *text, *o;
	const char	*begin = "#<Proxy balancer://app>";
	const char	*end = "#ProxyPassReverse / balancer://app/\n";
	struct gw_config *c;

	sample = gwt_read_file(GW_TEST_SRCDIR "/gateway.conf");
	ck_assert_ptr_nonnull(sample);
	from = strstr(sample, begin);
	ck_assert_ptr_nonnull(from);
	to = strstr(from, end);
	ck_assert_ptr_nonnull(to);
	to += strlen(end);
	/* back to the start of the line, then each line without its '#' */
	while (from > sample && from[-1] != '\n')
		from--;
	text = o = calloc(1, (size_t)(to - from) + 1);
	ck_assert_ptr_nonnull(text);
	for (const char *p = from; p < to; p++) {
		if (*p == '#' && (p == from || p[-1] == ' ' || p[-1] == '\n'))
			continue;
		*o++ = *p;
	}
	c = good(text);
	ck_assert_int_eq(c->balancers->nmembers, 3);
	ck_assert_ptr_eq(c->main.proxypass->balancer, c->balancers);
	ck_assert_str_eq(c->balancers->sticky_param, "jsessionid");
	conf_free(c);
	free(text);
	free(sample);
}
END_TEST

START_TEST(test_conf_errors)
{
	bad("<Proxy balancer://e>\n</Proxy>\n", 2, "<Proxy balancer://e> has "
	    "no BalancerMember");
	bad("ProxyPass /x/ balancer://nope/\n", 2, "no <Proxy "
	    "balancer://nope> section");
	bad("<Proxy balancer://c>\nProxySet loadfactor=2\n"
	    "BalancerMember http://h:1\n</Proxy>\n", 2, "loadfactor is a "
	    "BalancerMember parameter");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1 "
	    "lbmethod=bytraffic\n</Proxy>\n", 3, "lbmethod is a balancer "
	    "parameter");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1 redirect=zz\n"
	    "</Proxy>\n", 3, "redirect=zz names no other member's route");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1 hcexpr=ok\n"
	    "</Proxy>\n", 3, "hcexpr is not supported");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1 hcmethod=PUT\n"
	    "</Proxy>\n", 3, "hcmethod=PUT");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1\n"
	    "BalancerMember http://h:1/\n</Proxy>\n", 4, "already a member");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1\n</Proxy>\n"
	    "<Proxy balancer://C>\nBalancerMember http://h:2\n</Proxy>\n", 5,
	    "already defined");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1\n</Proxy>\n"
	    "ProxyPass /x/ balancer://c/ retry=3\n", 5, "retry is a "
	    "BalancerMember parameter");
	bad("<Proxy balancer://c>\nProxySet lbmethod=heartbeat\n"
	    "BalancerMember http://h:1\n</Proxy>\n", 3, "lbmethod=heartbeat");
	bad("<Proxy balancer://c>\nProxySet failonstatus=5xx\n"
	    "BalancerMember http://h:1\n</Proxy>\n", 2, "failonstatus=5xx");
	bad("BalancerMember http://h:1\n", 2, "name the balancer first");
	bad("ProxySet lbmethod=bytraffic\n", 2, "name a balancer first");
	bad("ProxySet http://h:1 retry=5\n", 2, "name a balancer first");
	bad("<Proxy balancer://c>\nBalancerMember balancer://d\n</Proxy>\n", 3,
	    "cannot itself be a balancer");
	bad("<Proxy balancer://c>\nBalancerMember http://h:1 loadfactor=0\n"
	    "</Proxy>\n", 3, "loadfactor");
	bad("<Proxy balancer://c>\nBalancerMember https://h:1 "
	    "hcmethod=GET\n</Proxy>\nSSLProxyEngine On\n", 3,
	    "hcmethod=TCP only");
}
END_TEST

/*---------------------------------------------------------------------
 * Integration part
 */

static struct gwt_server S;
static struct proc	 A, B, Z;	/* origins; Z: accepts and closes */
static long		 na, nb;	/* their counts, for messages */

static void
cleanup(void)
{
	if (S.pid > 0)
		(void)kill(S.pid, SIGKILL);
	proc_stop(&A, SIGTERM);
	proc_stop(&B, SIGTERM);
	proc_stop(&Z, SIGKILL);
	gwt_teardown(&S);
	S.dir[0] = '\0';
}

static void
dump(void)
{
	show_file(S.errlog);
	show_file(S.out);
	show_file(A.log);
	show_file(B.log);
}

#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		dump();							\
		cleanup();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

static void
it_setup(void)
{
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	memset(&Z, 0, sizeof(Z));
	ck_assert_int_eq(gwt_setup(&S), 0);
	REQUIRE(origin_start(&A, S.dir, "a") == 0, "origin a did not start");
	REQUIRE(origin_start(&B, S.dir, "b") == 0, "origin b did not start");
}

static void
it_teardown(void)
{
	cleanup();
}

static void	start_gw(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
start_gw(const char *fmt, ...)
{
	char	conf[6000];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(conf, sizeof(conf), fmt, ap);
	va_end(ap);
	REQUIRE(n >= 0 && (size_t)n < sizeof(conf), "config too long");
	REQUIRE(gwt_write_conf(&S, NULL, conf) == 0, "cannot write config");
	REQUIRE(gwt_start(&S, NULL) == 0, "gatewayd did not start");
	REQUIRE(S.nports >= 1, "no \"listening on\" line");
}

#define GW_BASE \
	"ServerName gw.example\n" \
	"StartServers 3\n" \
	"MinSpareServers 3\n" \
	"MaxSpareServers 6\n" \
	"Timeout 10\n"

/* get - one request on a new connection; the status (r filled). */
static int
get(const char *path, const char *extra, struct resp *r)
{
	struct client	c;
	char		req[2048];
	int		rc;

	(void)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: gw.test\r\n"
	    "%s\r\n", path, extra != NULL ? extra : "");
	REQUIRE(httpc_open(&c, S.hosts[0], S.ports[0]) == 0,
	    "cannot connect to the gateway");
	REQUIRE(cl_sends(&c, req) == 0, "cannot send the request");
	rc = read_resp(&c, r, 0);
	cl_close(&c);
	REQUIRE(rc == 0, "no answer to %s", path);
	return r->status;
}

/* get_ok - n GETs of path, each 200. */
static void
get_ok(int n, const char *path, const char *extra)
{
	struct resp r = { 0 };

	for (int i = 0; i < n; i++) {
		resp_reset(&r);
		REQUIRE(get(path, extra, &r) == 200, "%s: status %d, want 200",
		    path, r.status);
	}
	resp_free(&r);
}

static long
count(const struct proc *o)
{
	long n = origin_ask_count(o);

	REQUIRE(n >= 0, "origin /count failed");
	return n;
}

/*
 * Three connections held open at once are served by three workers;
 * 30 requests over them in turn are counted exactly 10:20 by the
 * members: one lbstatus, shared by every worker.
 */
START_TEST(test_it_distribution_shared)
{
	struct client	c[3];
	struct resp	r = { 0 };
	pid_t		pid[3];

	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d loadfactor=1\n"
	    "BalancerMember http://127.0.0.1:%d loadfactor=2\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port);
	for (int i = 0; i < 3; i++) {
		REQUIRE(httpc_open(&c[i], S.hosts[0], S.ports[0]) == 0,
		    "cannot connect");
		REQUIRE(cl_sends(&c[i], "GET /app/ HTTP/1.1\r\nHost: t\r\n\r\n")
		    == 0, "send");
		resp_reset(&r);
		REQUIRE(read_resp(&c[i], &r, 0) == 0 && r.status == 200,
		    "first answer on connection %d", i);
		pid[i] = gwt_server_pid(S.pid, c[i].fd, GWT_PID_WAIT);
		REQUIRE(pid[i] > 0 && pid[i] != S.pid, "no worker found for "
		    "connection %d", i);
	}
	REQUIRE(pid[0] != pid[1] && pid[1] != pid[2] && pid[0] != pid[2],
	    "the connections share a worker");
	for (int k = 0; k < 27; k++) {
		struct client *cc = &c[k % 3];

		REQUIRE(cl_sends(cc, "GET /app/ HTTP/1.1\r\nHost: t\r\n\r\n")
		    == 0, "send");
		resp_reset(&r);
		REQUIRE(read_resp(cc, &r, 0) == 0 && r.status == 200,
		    "answer %d", k);
	}
	for (int i = 0; i < 3; i++)
		cl_close(&c[i]);
	resp_free(&r);
	na = count(&A);
	nb = count(&B);
	REQUIRE(na == 10 && nb == 20, "counts %ld:%ld, want "
	    "10:20", na, nb);
}
END_TEST

/* wait_text - until file path holds text; 1, or 0 after GWT_WAIT s. */
static int
wait_text(const char *path, const char *text)
{
	long long	 end = gwt_now_ms() + GWT_WAIT * 1000LL;
	char		*s;
	int		 found;

	do {
		s = gwt_read_file(path);
		found = s != NULL && strstr(s, text) != NULL;
		free(s);
		if (found)
			return 1;
		(void)poll(NULL, 0, 20);
	} while (gwt_now_ms() < end);
	return 0;
}

START_TEST(test_it_sticky)
{
	char	log[256], want[256];

	(void)snprintf(log, sizeof(log), "%s/lb_log", S.dir);
	start_gw(GW_BASE "LogFormat \"%%U %%{BALANCER_NAME}e "
	    "%%{BALANCER_WORKER_NAME}e %%{BALANCER_WORKER_ROUTE}e "
	    "%%{BALANCER_SESSION_ROUTE}e %%{BALANCER_ROUTE_CHANGED}e\" lb\n"
	    "CustomLog %s lb\n"
	    "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d route=a\n"
	    "BalancerMember http://127.0.0.1:%d route=b\n"
	    "ProxySet stickysession=JSESSIONID|jsessionid\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", log, A.port, B.port);
	get_ok(6, "/app/", "Cookie: JSESSIONID=s1.b\r\n");
	na = count(&A);
	nb = count(&B);
	REQUIRE(na == 0 && nb == 6, "cookie: %ld:%ld, want "
	    "0:6", na, nb);
	get_ok(5, "/app/?jsessionid=s2.a", NULL);
	na = count(&A);
	nb = count(&B);
	REQUIRE(na == 5 && nb == 6, "URL: %ld:%ld, want 5:6", na, nb);
	/* the session's member gone: another one answers */
	proc_stop(&B, SIGKILL);
	get_ok(3, "/app/", "Cookie: JSESSIONID=s1.b\r\n");
	na = count(&A);
	REQUIRE(na == 8, "failover of a session: %ld, want 8", na);
	/* the access log says who took what */
	(void)snprintf(want, sizeof(want), "/app/ balancer://c "
	    "http://127.0.0.1:%d b b -\n", B.port);
	REQUIRE(wait_text(log, want), "not logged: %s", want);
	(void)snprintf(want, sizeof(want), "/app/ balancer://c "
	    "http://127.0.0.1:%d a b 1\n", A.port);
	REQUIRE(wait_text(log, want), "not logged: %s", want);
}
END_TEST

START_TEST(test_it_nofailover)
{
	struct resp r = { 0 };

	start_gw(GW_BASE "ErrorDocument 503 \"session lost\"\n"
	    "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d route=a\n"
	    "BalancerMember http://127.0.0.1:%d route=b\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/ stickysession=SID "
	    "nofailover=On\n", A.port, B.port);
	get_ok(2, "/app/", "Cookie: SID=x.b\r\n");
	proc_stop(&B, SIGKILL);
	REQUIRE(get("/app/", "Cookie: SID=x.b\r\n", &r) == 503, "status %d, "
	    "want 503", r.status);
	REQUIRE(strstr(r.body, "session lost") != NULL, "not the "
	    "ErrorDocument: %s", r.body);
	resp_free(&r);
	REQUIRE(count(&A) == 0, "a member without the session was used");
}
END_TEST

/* A member that cannot be reached: the request goes to another, the
   client never sees it, and the member is out for everyone. */
START_TEST(test_it_failover)
{
	struct resp	r = { 0 };
	char		req[256];
	struct client	c;

	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port);
	get_ok(1, "/app/", NULL);	/* A; B is next */
	REQUIRE(count(&A) == 1, "first request not to the first member");
	proc_stop(&B, SIGKILL);
	/* a POST with a body: nothing was sent, so it may go on */
	(void)snprintf(req, sizeof(req), "POST /app/echo HTTP/1.1\r\n"
	    "Host: t\r\nContent-Length: 5\r\n\r\nhello");
	REQUIRE(httpc_open(&c, S.hosts[0], S.ports[0]) == 0, "connect");
	REQUIRE(cl_sends(&c, req) == 0, "send");
	REQUIRE(read_resp(&c, &r, 0) == 0 && r.status == 200, "POST: %d",
	    r.status);
	REQUIRE(strstr(r.body, "hello") != NULL, "body lost: %s", r.body);
	cl_close(&c);
	resp_free(&r);
	REQUIRE(count(&A) == 2, "the POST did not go to the other member");
	get_ok(8, "/app/", NULL);
	na = count(&A);
	REQUIRE(na == 10, "A served %ld of 10", na);
	REQUIRE(gwt_log_count(&S, "is in error state") == 1, "the member "
	    "was not put in error state once (it stays out)");
	/* a graceful restart keeps what the members' state says */
	REQUIRE(kill(S.pid, SIGUSR1) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2, GWT_WAIT)
	    == 0, "no restart");
	get_ok(4, "/app/", NULL);
	na = count(&A);
	REQUIRE(na == 14, "A served %ld of 14", na);
	REQUIRE(gwt_log_count(&S, "is in error state") == 1, "the member "
	    "in error was tried again after the restart");
}
END_TEST

/* z_start - a backend that accepts, reads a little and closes. */
static void
z_start(void)
{
	pid_t			parent = getpid();
	char			buf[4096];
	int			lfd, fd;

	REQUIRE((lfd = gwt_tcp_socket(&Z.port, 16)) != -1, "listen");
	Z.pid = fork();
	REQUIRE(Z.pid >= 0, "fork");
	if (Z.pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
		    getppid() != parent)
			_exit(1);
		(void)alarm(60);
		for (;;) {
			struct pollfd pfd;

			if ((fd = accept(lfd, NULL, NULL)) == -1)
				continue;
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 2000) == 1)
				(void)read(fd, buf, sizeof(buf));
			(void)close(fd);
		}
	}
	(void)close(lfd);
}

/* A member that takes the request and closes without an answer: a GET
   goes on to another member; a POST whose body went does not. */
START_TEST(test_it_no_answer)
{
	struct resp	r = { 0 };
	struct client	c;

	z_start();
	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d lbset=1\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", Z.port, A.port);
	get_ok(3, "/app/", NULL);
	na = count(&A);
	REQUIRE(na == 3, "GETs: A served %ld of 3", na);
	REQUIRE(httpc_open(&c, S.hosts[0], S.ports[0]) == 0, "connect");
	REQUIRE(cl_sends(&c, "POST /app/echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 5\r\n\r\nhello") == 0, "send");
	REQUIRE(read_resp(&c, &r, 0) == 0 && r.status == 502, "POST: %d, "
	    "want 502 (not sent twice)", r.status);
	cl_close(&c);
	resp_free(&r);
	REQUIRE(count(&A) == 3, "the POST was sent to a second member");
}
END_TEST

START_TEST(test_it_all_down)
{
	struct resp r = { 0 };

	start_gw(GW_BASE "ErrorDocument 503 \"all members are down\"\n"
	    "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port);
	proc_stop(&A, SIGKILL);
	proc_stop(&B, SIGKILL);
	for (int i = 0; i < 3; i++) {
		resp_reset(&r);
		REQUIRE(get("/app/", NULL, &r) == 503, "status %d, want 503",
		    r.status);
		REQUIRE(strstr(r.body, "all members are down") != NULL,
		    "not the ErrorDocument: %s", r.body);
	}
	resp_free(&r);
	REQUIRE(gwt_log_count(&S, "no usable member") >= 1, "not logged");
}
END_TEST

/* A member back after its retry seconds gets requests again. */
START_TEST(test_it_recovery)
{
	long long	end;
	int		port;

	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d retry=1\n"
	    "BalancerMember http://127.0.0.1:%d retry=1\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port);
	port = B.port;
	proc_stop(&B, SIGKILL);
	get_ok(4, "/app/", NULL);
	na = count(&A);
	REQUIRE(na == 4, "A served %ld of 4", na);
	REQUIRE(origin_start_at(&B, S.dir, "b-again", port) == 0,
	    "origin b did not start again on port %d", port);
	end = gwt_now_ms() + GWT_WAIT * 1000LL;
	while (count(&B) == 0 && gwt_now_ms() < end) {
		get_ok(1, "/app/", NULL);
		(void)poll(NULL, 0, 100);
	}
	REQUIRE(count(&B) > 0, "the member never came back");
}
END_TEST

/*
 * bybusyness across workers: while one worker waits on the first
 * member (this test is that member, and holds the request), requests
 * that other workers serve all go to the second.
 */
START_TEST(test_it_bybusyness_shared)
{
	struct client		 c, k;
	struct resp		 r = { 0 };
	struct pollfd		 pfd;
	char			 buf[4096];
	int			 lfd, fd, zport;
	static const char	 ans[] = "HTTP/1.1 200 OK\r\nContent-Length: "
				    "4\r\nConnection: close\r\n\r\nheld";

	REQUIRE((lfd = gwt_tcp_socket(&zport, 4)) != -1, "listen");
	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "ProxySet lbmethod=bybusyness\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n",
	    zport, A.port);
	REQUIRE(httpc_open(&c, S.hosts[0], S.ports[0]) == 0, "connect");
	REQUIRE(cl_sends(&c, "GET /app/ HTTP/1.1\r\nHost: t\r\n\r\n") == 0,
	    "send");
	pfd.fd = lfd;
	pfd.events = POLLIN;
	REQUIRE(poll(&pfd, 1, GWT_WAIT * 1000) == 1, "the first member was "
	    "not asked");
	REQUIRE((fd = accept(lfd, NULL, NULL)) >= 0, "accept");
	pfd.fd = fd;
	REQUIRE(poll(&pfd, 1, GWT_WAIT * 1000) == 1 && read(fd, buf,
	    sizeof(buf)) > 0, "no request head");
	/*
	 * One busy on the first member: the others go to the second.  They
	 * are sent on one kept-alive connection, so one worker serves them
	 * in turn and has counted each done before it reads the next: the
	 * busy counts are exact at each choice, not a matter of timing.
	 */
	REQUIRE(httpc_open(&k, S.hosts[0], S.ports[0]) == 0, "connect");
	for (int i = 0; i < 4; i++) {
		REQUIRE(cl_sends(&k, "GET /app/ HTTP/1.1\r\nHost: t\r\n\r\n")
		    == 0, "send");
		resp_reset(&r);
		REQUIRE(read_resp(&k, &r, 0) == 0 && r.status == 200,
		    "request %d: %d", i, r.status);
	}
	cl_close(&k);
	na = count(&A);
	REQUIRE(na == 4, "the second member served %ld of 4", na);
	REQUIRE(write_all(fd, ans, sizeof(ans) - 1) == 0, "answer");
	(void)close(fd);
	(void)close(lfd);
	resp_reset(&r);
	REQUIRE(read_resp(&c, &r, 0) == 0 && r.status == 200 &&
	    strcmp(r.body, "held") == 0, "the held request: %d", r.status);
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/* auto_has - the status page's ?auto form holds text; 1, 0 if not. */
static int
auto_has(const char *text)
{
	struct resp	r = { 0 };
	int		found;

	found = get("/server-status?auto", NULL, &r) == 200 &&
	    strstr(r.body, text) != NULL;
	resp_free(&r);
	return found;
}

/*
 * A worker killed while it waits on a member: the master gives the
 * member's busy count back, so bybusyness does not shun it for ever.
 * Seen on the status page.
 */
START_TEST(test_it_busy_of_dead_worker)
{
	struct client		 c;
	struct pollfd		 pfd;
	char			 busy1[160], busy0[160];
	pid_t			 wpid;
	long long		 end;
	int			 lfd, fd, zport;

	REQUIRE((lfd = gwt_tcp_socket(&zport, 4)) != -1, "listen");
	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "ProxySet lbmethod=bybusyness\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "</Proxy>\nProxyPass /server-status !\n"
	    "<Location /server-status>\n  SetHandler server-status\n"
	    "</Location>\nProxyPass / balancer://c/\n",
	    zport, A.port);
	(void)snprintf(busy1, sizeof(busy1), "\nBalancerMember: balancer://c "
	    "http://127.0.0.1:%d Ok 1 1\n", zport);
	(void)snprintf(busy0, sizeof(busy0), "\nBalancerMember: balancer://c "
	    "http://127.0.0.1:%d Ok 0 1\n", zport);
	REQUIRE(httpc_open(&c, S.hosts[0], S.ports[0]) == 0, "connect");
	REQUIRE(cl_sends(&c, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n") == 0,
	    "send");
	pfd.fd = lfd;
	pfd.events = POLLIN;
	REQUIRE(poll(&pfd, 1, GWT_WAIT * 1000) == 1 &&
	    (fd = accept(lfd, NULL, NULL)) >= 0, "the member was not asked");
	REQUIRE(auto_has(busy1), "not busy on the status page");
	wpid = gwt_server_pid(S.pid, c.fd, GWT_PID_WAIT);
	REQUIRE(wpid > 0 && wpid != S.pid, "no worker for the connection");
	REQUIRE(kill(wpid, SIGKILL) == 0, "kill");
	end = gwt_now_ms() + GWT_WAIT * 1000LL;
	while (!auto_has(busy0) && gwt_now_ms() < end)
		(void)poll(NULL, 0, 50);
	REQUIRE(auto_has(busy0), "the dead worker's busy count stayed");
	(void)close(fd);
	(void)close(lfd);
	cl_close(&c);
}
END_TEST

START_TEST(test_it_hot_standby)
{
	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d status=+H\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port);
	get_ok(6, "/app/", NULL);
	na = count(&A);
	nb = count(&B);
	REQUIRE(na == 6 && nb == 0, "%ld:%ld, want 6:0", na, nb);
	proc_stop(&A, SIGKILL);
	get_ok(4, "/app/", NULL);
	nb = count(&B);
	REQUIRE(nb == 4, "the standby served %ld of 4", nb);
}
END_TEST

START_TEST(test_it_failonstatus)
{
	struct resp r = { 0 };

	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "ProxySet failonstatus=500\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port);
	REQUIRE(get("/app/status/500", NULL, &r) == 500, "status %d",
	    r.status);
	resp_free(&r);
	REQUIRE(count(&A) == 1, "the first member did not answer");
	get_ok(4, "/app/", NULL);
	na = count(&A);
	nb = count(&B);
	REQUIRE(na == 1 && nb == 4, "%ld:%ld, want 1:4", na, nb);
	REQUIRE(gwt_log_count(&S, "(failonstatus)") == 1, "not logged");
}
END_TEST

/* Active health check: a member whose check fails is left out before
   any client meets it. */
START_TEST(test_it_health_check)
{
	REQUIRE(origin_start(&Z, S.dir, "c") == 0, "origin c");
	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d hcmethod=GET hcuri=/count "
	    "hcinterval=1\n"
	    "BalancerMember http://127.0.0.1:%d hcmethod=HEAD "
	    "hcuri=/status/503 hcinterval=1\n"
	    "BalancerMember http://127.0.0.1:%d hcmethod=TCP hcinterval=1 "
	    "hcfails=2\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n", A.port, B.port,
	    Z.port);
	REQUIRE(gwt_wait_log(&S, "failed its health check", 1, GWT_WAIT) ==
	    0, "the failing check was not logged");
	proc_stop(&Z, SIGKILL);
	REQUIRE(gwt_wait_log(&S, "failed its health check", 2, GWT_WAIT) ==
	    0, "the stopped member's check was not logged");
	get_ok(6, "/app/", NULL);
	/* (the checks themselves count at B; A's ask /count, not counted) */
	na = count(&A);
	REQUIRE(na == 6, "A served %ld of 6", na);
}
END_TEST

START_TEST(test_it_reverse)
{
	struct resp	r = { 0 };
	char		path[512], want[128], loc[256];

	start_gw(GW_BASE "<Proxy balancer://c>\n"
	    "BalancerMember http://127.0.0.1:%d/\n"
	    "BalancerMember http://127.0.0.1:%d\n"
	    "</Proxy>\nProxyPass /app/ balancer://c/\n"
	    "ProxyPassReverse /app/ balancer://c/\n", A.port, B.port);
	for (int i = 0; i < 2; i++) {
		/* whichever answers, a redirect to either member maps */
		(void)snprintf(path, sizeof(path), "/app/status/302?header="
		    "Location:http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fnext%%3Fq",
		    i == 0 ? B.port : A.port);
		resp_reset(&r);
		REQUIRE(get(path, NULL, &r) == 302, "status %d", r.status);
		REQUIRE(field(r.head, "Location", loc, sizeof(loc)),
		    "no Location");
		(void)snprintf(want, sizeof(want), "http://gw.test/app/next?q");
		REQUIRE(strcmp(loc, want) == 0, "Location %s, want %s", loc,
		    want);
	}
	resp_free(&r);
}
END_TEST

START_TEST(test_it_configtest)
{
	char		 out[4096], path[256];
	const char	*args[] = { "-t", "-f", path, NULL };

	(void)snprintf(path, sizeof(path), "%s/t.conf", S.dir);
	REQUIRE(gwt_write_file(path, "Listen 127.0.0.1:0\n"
	    "<Proxy balancer://empty>\n</Proxy>\n"
	    "ProxyPass /a/ balancer://empty/\n") == 0, "write");
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 1, "-t did not "
	    "fail: %s", out);
	REQUIRE(strstr(out, "t.conf:2: <Proxy balancer://empty> has no "
	    "BalancerMember") != NULL, "message: %s", out);
}
END_TEST

static Suite *
balancer_suite(void)
{
	Suite	*s = suite_create("balancer");
	TCase	*tc = tcase_create("unit");

	tcase_add_checked_fixture(tc, unit_setup, unit_teardown);
	tcase_add_test(tc, test_byrequests_arithmetic);
	tcase_add_test(tc, test_round_robin_three);
	tcase_add_test(tc, test_lbset_and_standby);
	tcase_add_test(tc, test_status_flags);
	tcase_add_test(tc, test_bybusyness);
	tcase_add_test(tc, test_bytraffic);
	tcase_add_test(tc, test_tried_and_maxattempts);
	tcase_add_test(tc, test_forcerecovery);
	tcase_add_test(tc, test_route_parsing);
	tcase_add_test(tc, test_sticky_select);
	tcase_add_test(tc, test_shared_state);
	tcase_add_test(tc, test_conf_build);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_url_form);
	tcase_add_test(tc, test_conf_errors);
	tcase_add_test(tc, test_sample_balancer);
	suite_add_tcase(s, tc);

	tc = tcase_create("gateway");
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_it_distribution_shared);
	tcase_add_test(tc, test_it_sticky);
	tcase_add_test(tc, test_it_nofailover);
	tcase_add_test(tc, test_it_failover);
	tcase_add_test(tc, test_it_no_answer);
	tcase_add_test(tc, test_it_all_down);
	tcase_add_test(tc, test_it_recovery);
	tcase_add_test(tc, test_it_bybusyness_shared);
	tcase_add_test(tc, test_it_busy_of_dead_worker);
	tcase_add_test(tc, test_it_hot_standby);
	tcase_add_test(tc, test_it_failonstatus);
	tcase_add_test(tc, test_it_health_check);
	tcase_add_test(tc, test_it_reverse);
	tcase_add_test(tc, test_it_configtest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(balancer_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
