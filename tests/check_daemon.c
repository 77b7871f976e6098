/*
 * check_daemon.c - integration tests of the process model: the real
 * gatewayd binary (GW_TEST_BINARY) on real sockets in a temp dir.
 * Start/stop, -t, -k, PidFile locking, graceful and plain restarts,
 * worker replacement, pool growth, MaxConnectionsPerChild, several
 * listeners, graceful stop, -X and the User/Group drop.  Nothing here
 * assumes timing: every wait polls for a condition, bounded.
 *
 * Requests ask for the file testlib puts in DocumentRoot (served
 * locally: no ProxyPass).  Which process answered is the one holding
 * the server side of the connection (gwt_server_pid), looked up while
 * the connection is open.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#define HOST	(S.hosts[0])
#define PORT	(S.ports[0])

static struct gwt_server S;

/* dump - show the error log and output of a failing test. */
static void
dump(void)
{
	char	*s;

	if ((s = gwt_read_file(S.errlog)) != NULL) {
		(void)fprintf(stderr, "---- %s\n%s", S.errlog, s);
		free(s);
	}
	if ((s = gwt_read_file(S.out)) != NULL) {
		(void)fprintf(stderr, "---- %s\n%s", S.out, s);
		free(s);
	}
}

#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		dump();							\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

static void
setup(void)
{
	ck_assert_int_eq(gwt_setup(&S), 0);
}

static void
teardown(void)
{
	gwt_teardown(&S);
}

static void
start(const char *extra)
{
	REQUIRE(gwt_write_conf(&S, NULL, extra) == 0, "write conf");
	REQUIRE(gwt_start(&S, NULL) == 0, "server did not start");
	REQUIRE(S.nports >= 1, "no \"listening on\" line");
}

/* check_doc - a whole, right answer for GWT_DOC_PATH. */
static void
check_doc(const struct gwt_resp *r)
{
	REQUIRE(r->status == 200, "status %d", r->status);
	REQUIRE(strcmp(r->body, GWT_DOC_BODY) == 0, "body \"%s\"", r->body);
}

/* request - GWT_KA_REQ on fd, answered (any status), r->pid found. */
static void
request(int fd, struct gwt_resp *r, const char *what)
{
	REQUIRE(gwt_request_pid(S.pid, fd, GWT_KA_REQ, r, 20) == 0,
	    "%s: %s (status %d)", what, r->pid == -1 ? "no gatewayd process "
	    "holds the connection" : "no whole answer", r->status);
}

/* get_from - GET the document on a new connection; who served it. */
static void
get_from(pid_t master, struct gwt_resp *r)
{
	int	 rc;

	memset(r, 0, sizeof(*r));
	rc = gwt_get(master, HOST, PORT, r);
	REQUIRE(rc == 0, "GET: %s (status %d)", r->pid == -1 ? "no gatewayd "
	    "process held the connection" : "no whole answer", r->status);
	check_doc(r);
	REQUIRE(r->pid > 0, "no server pid");
}

static void
get_ok(struct gwt_resp *r)
{
	get_from(S.pid, r);
}

static int
in_set(pid_t pid, const pid_t *set, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

static int
wait_stopped(int timeout_s)
{
	int	 status;

	if (gwt_wait_exit(S.pid, timeout_s, &status) == -1)
		return -1;
	S.pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

#define POOL	"StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\n"

/*--------------------------------------------------------------------*/

START_TEST(test_start_stop)
{
	struct gwt_resp	 r;
	pid_t		 kids[64];
	int		 i, n;

	start(POOL);
	get_ok(&r);
	REQUIRE(r.pid != S.pid, "the master answered");
	REQUIRE(gwt_wait_children(S.pid, 2, GWT_WAIT) >= 2, "no workers");
	REQUIRE(gwt_read_pidfile(&S) == S.pid, "PidFile is not the master");
	n = gwt_children(S.pid, kids, 64);
	REQUIRE(kill(S.pid, SIGTERM) == 0, "kill");
	REQUIRE(wait_stopped(GWT_WAIT) == 0, "master did not exit 0");
	for (i = 0; i < n && i < 64; i++)
		REQUIRE(gwt_wait_gone(kids[i], GWT_WAIT) == 0,
		    "worker %ld survived", (long)kids[i]);
	REQUIRE(access(S.pidfile, F_OK) == -1, "PidFile left behind");
	REQUIRE(gwt_log_count(&S, "caught SIGTERM, shutting down") == 1,
	    "no shutdown line");
}
END_TEST

/* A PidFile left by a dead master is taken over, with a warning. */
START_TEST(test_stale_pidfile)
{
	struct gwt_resp	 r;

	REQUIRE(gwt_write_file(S.pidfile, "999999\n") == 0, "pidfile");
	start(POOL);
	REQUIRE(gwt_read_pidfile(&S) == S.pid, "PidFile not taken over");
	REQUIRE(gwt_log_count(&S, "overwritten") == 1, "no warning");
	get_ok(&r);
}
END_TEST

START_TEST(test_syntax_ok)
{
	const char	*args[] = { "-t", "-f", S.conf, NULL };
	char		 out[4096];

	REQUIRE(gwt_write_conf(&S, NULL, POOL) == 0, "write conf");
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 0,
	    "-t failed: %s", out);
	REQUIRE(strstr(out, "Syntax OK") != NULL, "no Syntax OK: %s", out);
}
END_TEST

START_TEST(test_syntax_bad)
{
	const char	*args[] = { "-t", "-f", S.conf, NULL };
	char		 out[4096], want[256];

	/* line 8: see gwt_write_conf */
	REQUIRE(gwt_write_conf(&S, NULL, "NoSuchDirective on") == 0, "conf");
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 1,
	    "-t did not fail: %s", out);
	(void)snprintf(want, sizeof(want), "%s:8", S.conf);
	REQUIRE(strstr(out, want) != NULL, "no %s in: %s", want, out);
	REQUIRE(strstr(out, "Syntax OK") == NULL, "Syntax OK: %s", out);
}
END_TEST

START_TEST(test_pidfile_refused)
{
	const char	*args[] = { "-f", S.conf, "-D", "FOREGROUND", NULL };
	struct gwt_resp	 r;
	char		 out[4096], want[64];

	start(POOL);
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 1,
	    "second start not refused: %s", out);
	(void)snprintf(want, sizeof(want), "(pid %ld)", (long)S.pid);
	REQUIRE(strstr(out, want) != NULL, "no %s in: %s", want, out);
	REQUIRE(gwt_read_pidfile(&S) == S.pid, "PidFile overwritten");
	get_ok(&r);
}
END_TEST

START_TEST(test_k_stop)
{
	const char	*args[] = { "-f", S.conf, "-k", "stop", NULL };
	char		 out[4096];

	start(POOL);
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 0,
	    "-k stop: %s", out);
	REQUIRE(wait_stopped(GWT_WAIT) == 0, "master did not stop");
	REQUIRE(access(S.pidfile, F_OK) == -1, "PidFile left behind");
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 1,
	    "-k stop with nothing running: %s", out);
	REQUIRE(strstr(out, "not running") != NULL, "message: %s", out);
}
END_TEST

START_TEST(test_k_graceful)
{
	const char	*args[] = { "-f", S.conf, "-k", "graceful", NULL };
	struct gwt_resp	 r;
	pid_t		 old[64];
	char		 out[4096], rotated[256];
	int		 i, n;

	start(POOL);
	get_ok(&r);
	REQUIRE(gwt_wait_children(S.pid, 2, GWT_WAIT) >= 2, "no workers");
	n = gwt_children(S.pid, old, 64);
	/* logrotate: the restart opens a new error log */
	(void)snprintf(rotated, sizeof(rotated), "%s.1", S.errlog);
	REQUIRE(rename(S.errlog, rotated) == 0, "rename");
	REQUIRE(gwt_run(args, GWT_WAIT, out, sizeof(out)) == 0,
	    "-k graceful: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 1,
	    GWT_WAIT) == 0, "no second generation in a new error log");
	for (i = 0; i < n && i < 64; i++)
		REQUIRE(gwt_wait_gone(old[i], GWT_WAIT) == 0,
		    "old worker %ld stays", (long)old[i]);
	get_ok(&r);
	REQUIRE(!in_set((pid_t)r.pid, old, n), "old worker answered");
	REQUIRE(gwt_alive(S.pid), "master gone");
}
END_TEST

/*
 * Clients keep sending on keep-alive connections across USR1: every
 * request is answered; a connection the server closes (Connection:
 * close) is opened again; in the end new workers answer.
 */
START_TEST(test_graceful_keepalive)
{
	struct gwt_resp	 r;
	pid_t		 old[64];
	char		 what[64];
	int		 fd[3], i, n, round, fresh = 0, reopened = 0;

	start("StartServers 4\nMinSpareServers 4\nMaxSpareServers 8\n"
	    "KeepAliveTimeout 30\nMaxKeepAliveRequests 0\n");
	for (i = 0; i < 3; i++) {
		REQUIRE((fd[i] = gwt_connect(HOST, PORT, 10)) != -1,
		    "connect");
		request(fd[i], &r, "first request");
		check_doc(&r);
		REQUIRE(!r.close, "first request closed");
	}
	/* 3 busy + MinSpare 4 idle: the pool is settled at 7 */
	REQUIRE(gwt_wait_children(S.pid, 7, GWT_WAIT) >= 7, "pool");
	n = gwt_children(S.pid, old, 64);
	REQUIRE(kill(S.pid, SIGUSR1) == 0, "kill");
	for (round = 0; round < 200 && (fresh < 3 || reopened < 3);
	    round++) {
		for (i = 0; i < 3; i++) {
			(void)snprintf(what, sizeof(what), "round %d", round);
			request(fd[i], &r, what);
			check_doc(&r);
			if (!in_set((pid_t)r.pid, old, n))
				fresh++;
			if (r.close) {
				(void)close(fd[i]);
				reopened++;
				REQUIRE((fd[i] = gwt_connect(HOST, PORT, 10))
				    != -1, "reconnect");
			}
		}
		(void)poll(NULL, 0, 20);
	}
	REQUIRE(fresh >= 3 && reopened >= 3, "after %d rounds: %d answers "
	    "from new workers, %d reconnections", round, fresh, reopened);
	for (i = 0; i < 3; i++)
		(void)close(fd[i]);
	REQUIRE(gwt_log_count(&S, "resuming normal operations") == 2,
	    "not one graceful restart");
}
END_TEST

START_TEST(test_hup_broken_config)
{
	struct gwt_resp	 r;
	pid_t		 kids[64];
	char		 want[256];
	int		 i, n;

	start(POOL);
	get_ok(&r);
	REQUIRE(gwt_wait_children(S.pid, 2, GWT_WAIT) >= 2, "no workers");
	n = gwt_children(S.pid, kids, 64);
	REQUIRE(gwt_write_conf(&S, NULL, "NoSuchDirective on") == 0, "conf");
	REQUIRE(kill(S.pid, SIGHUP) == 0, "kill");
	(void)snprintf(want, sizeof(want), "%s:8", S.conf);
	REQUIRE(gwt_wait_log(&S, want, 1, GWT_WAIT) == 0,
	    "error log does not name %s", want);
	REQUIRE(gwt_wait_log(&S, "restart refused", 1, GWT_WAIT) == 0,
	    "no refusal logged");
	get_ok(&r);
	for (i = 0; i < n && i < 64; i++)
		REQUIRE(gwt_alive(kids[i]), "worker %ld was stopped",
		    (long)kids[i]);
	/* a good config is taken: workers replaced */
	REQUIRE(gwt_write_conf(&S, NULL, POOL) == 0, "conf");
	REQUIRE(kill(S.pid, SIGHUP) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2,
	    GWT_WAIT) == 0, "no restart");
	for (i = 0; i < n && i < 64; i++)
		REQUIRE(gwt_wait_gone(kids[i], GWT_WAIT) == 0,
		    "worker %ld survived the restart", (long)kids[i]);
	get_ok(&r);
	REQUIRE(!in_set((pid_t)r.pid, kids, n), "old worker answered");
}
END_TEST

/* HUP with one more Listen: the old socket is kept, the new one opened. */
START_TEST(test_hup_listeners)
{
	struct gwt_resp	 r;
	int		 port = 0, i;

	start(POOL);
	port = PORT;
	REQUIRE(gwt_write_conf(&S, "Listen 127.0.0.1:0\nListen 127.0.0.2:0",
	    POOL "ServerLimit 300\n") == 0, "conf");
	REQUIRE(kill(S.pid, SIGHUP) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2,
	    GWT_WAIT) == 0, "no restart");
	REQUIRE(gwt_log_count(&S, "not allowed during restart") == 1,
	    "ServerLimit change not refused");
	REQUIRE(gwt_parse_ports(&S) == 0 && S.nports == 2,
	    "%d listening lines", S.nports);
	REQUIRE(S.ports[0] == port, "first listener reopened on port %d",
	    S.ports[0]);
	for (i = 0; i < 2; i++) {
		REQUIRE(gwt_get(S.pid, S.hosts[i], S.ports[i], &r) == 0,
		    "GET on %s:%d", S.hosts[i], S.ports[i]);
		check_doc(&r);
	}
	/* and back to one: the second socket is closed */
	REQUIRE(gwt_write_conf(&S, NULL, POOL) == 0, "conf");
	REQUIRE(kill(S.pid, SIGHUP) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 3,
	    GWT_WAIT) == 0, "no restart");
	get_ok(&r);
	REQUIRE(gwt_connect(S.hosts[1], S.ports[1], 5) == -1,
	    "removed listener still open");
}
END_TEST

/* More clients than MaxRequestWorkers: the pool stops there and says so. */
START_TEST(test_max_request_workers)
{
	int	 fd[4], i;

	start("StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\n"
	    "MaxRequestWorkers 2\nTimeout 30\n");
	for (i = 0; i < 4; i++)
		REQUIRE((fd[i] = gwt_connect(HOST, PORT, 10)) != -1,
		    "connect %d", i);
	REQUIRE(gwt_wait_log(&S, "reached MaxRequestWorkers", 1,
	    GWT_WAIT) == 0, "MaxRequestWorkers not reported");
	REQUIRE(gwt_children(S.pid, NULL, 0) == 2, "%d workers",
	    gwt_children(S.pid, NULL, 0));
	for (i = 0; i < 4; i++)
		(void)close(fd[i]);
}
END_TEST

START_TEST(test_kill9_worker)
{
	struct gwt_resp	 r;
	pid_t		 kids[64], victim = 0;
	char		 want[128];
	long		 held;
	int		 fd, i, n;

	start("StartServers 3\nMinSpareServers 3\nMaxSpareServers 6\n"
	    "KeepAliveTimeout 30\n");
	REQUIRE((fd = gwt_connect(HOST, PORT, 10)) != -1, "connect");
	request(fd, &r, "request");
	check_doc(&r);
	held = r.pid;
	REQUIRE(gwt_wait_children(S.pid, 3, GWT_WAIT) >= 3, "pool");
	n = gwt_children(S.pid, kids, 64);
	for (i = 0; i < n && i < 64; i++)
		if (kids[i] != (pid_t)held)
			victim = kids[i];
	REQUIRE(victim > 0, "no other worker");
	REQUIRE(kill(victim, SIGKILL) == 0, "kill");
	(void)snprintf(want, sizeof(want), "child pid %ld exit signal",
	    (long)victim);
	REQUIRE(gwt_wait_log(&S, want, 1, GWT_WAIT) == 0, "no exit report");
	REQUIRE(gwt_wait_gone(victim, GWT_WAIT) == 0, "victim alive");
	REQUIRE(gwt_wait_children(S.pid, 3, GWT_WAIT) >= 3,
	    "worker not replaced");
	request(fd, &r, "held connection broken");
	check_doc(&r);
	REQUIRE(r.pid == held, "held connection moved to %ld", r.pid);
	(void)close(fd);
}
END_TEST

/* Workers do not outlive their master. */
START_TEST(test_master_killed)
{
	pid_t	 kids[64];
	int	 i, n;

	start(POOL);
	REQUIRE(gwt_wait_children(S.pid, 2, GWT_WAIT) >= 2, "no workers");
	n = gwt_children(S.pid, kids, 64);
	REQUIRE(kill(S.pid, SIGKILL) == 0, "kill");
	REQUIRE(wait_stopped(GWT_WAIT) == 128, "master not killed");
	for (i = 0; i < n && i < 64; i++)
		REQUIRE(gwt_wait_gone(kids[i], GWT_WAIT) == 0,
		    "worker %ld outlived its master", (long)kids[i]);
}
END_TEST

START_TEST(test_pool_growth)
{
	struct gwt_resp	 r;
	pid_t		 seen[8];
	char		 what[32];
	int		 fd[6], i, j;

	start("StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\n"
	    "MaxRequestWorkers 16\nTimeout 30\nKeepAliveTimeout 30\n");
	for (i = 0; i < 6; i++)
		REQUIRE((fd[i] = gwt_connect(HOST, PORT, 10)) != -1,
		    "connect %d", i);
	/* six silent connections hold six workers; the pool must grow */
	REQUIRE(gwt_wait_children(S.pid, 6, GWT_WAIT) >= 6,
	    "pool did not grow");
	for (i = 0; i < 6; i++) {
		(void)snprintf(what, sizeof(what), "request %d", i);
		request(fd[i], &r, what);
		check_doc(&r);
		seen[i] = (pid_t)r.pid;
		for (j = 0; j < i; j++)
			REQUIRE(seen[j] != seen[i],
			    "two connections on worker %ld", r.pid);
	}
	for (i = 0; i < 6; i++)
		(void)close(fd[i]);
}
END_TEST

/* Too many idle workers: retired one a second down to MaxSpareServers. */
START_TEST(test_pool_shrink)
{
	struct gwt_resp	 r;
	long long	 i;

	start("StartServers 5\nMinSpareServers 1\nMaxSpareServers 2\n"
	    "LogLevel debug\n");
	for (i = 0; i < GWT_WAIT * 20 && gwt_children(S.pid, NULL, 0) > 2;
	    i++)
		(void)poll(NULL, 0, 50);
	REQUIRE(gwt_children(S.pid, NULL, 0) == 2, "%d workers left",
	    gwt_children(S.pid, NULL, 0));
	REQUIRE(gwt_log_count(&S, "retiring idle child") == 3,
	    "not three retirements");
	get_ok(&r);
}
END_TEST

START_TEST(test_max_connections_per_child)
{
	struct gwt_resp	 r;
	pid_t		 seen[4];
	int		 i, j;

	start(POOL "MaxConnectionsPerChild 1\n");
	for (i = 0; i < 4; i++) {
		get_ok(&r);
		seen[i] = (pid_t)r.pid;
		for (j = 0; j < i; j++)
			REQUIRE(seen[j] != seen[i], "worker %ld served two "
			    "connections", r.pid);
	}
}
END_TEST

/* have_ipv6_loopback - can [::1] be bound here? */
static int
have_ipv6_loopback(void)
{
	struct sockaddr_in6	 s6;
	int			 fd, ok;

	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0;
	(void)close(fd);
	return ok;
}

START_TEST(test_two_listeners)
{
	struct gwt_resp	 r;
	const char	*listen;
	int		 i, k;

	if (have_ipv6_loopback())
		listen = "Listen 127.0.0.1:0\nListen [::1]:0";
	else {
		(void)printf("NOTE: [::1] cannot be bound here; testing two "
		    "IPv4 listeners instead\n");
		listen = "Listen 127.0.0.1:0\nListen 127.0.0.2:0";
	}
	REQUIRE(gwt_write_conf(&S, listen, POOL) == 0, "conf");
	REQUIRE(gwt_start(&S, NULL) == 0, "server did not start");
	REQUIRE(S.nports == 2, "%d listeners logged", S.nports);
	for (k = 0; k < 6; k++)
		for (i = 0; i < 2; i++) {
			REQUIRE(gwt_get(S.pid, S.hosts[i], S.ports[i], &r) ==
			    0, "GET on %s port %d", S.hosts[i], S.ports[i]);
			check_doc(&r);
			REQUIRE(r.pid != S.pid, "the master answered");
		}
}
END_TEST

START_TEST(test_graceful_stop)
{
	struct gwt_resp	 r;
	pid_t		 kids[64];
	long		 held;
	int		 fd, fd2 = -1, i, n;

	start(POOL "KeepAliveTimeout 30\n");
	REQUIRE((fd = gwt_connect(HOST, PORT, 10)) != -1, "connect");
	request(fd, &r, "first request");
	check_doc(&r);
	REQUIRE(!r.close, "first request closed");
	held = r.pid;
	n = gwt_children(S.pid, kids, 64);
	REQUIRE(kill(S.pid, SIGWINCH) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "shutting down gracefully", 1,
	    GWT_WAIT) == 0, "no graceful stop");
	REQUIRE(gwt_alive(S.pid), "master left before the connection ended");
	/* no new connection is taken while the old one is served */
	for (i = 0; i < 600; i++) {
		if ((fd2 = gwt_connect(HOST, PORT, 5)) == -1)
			break;
		(void)close(fd2);
		(void)poll(NULL, 0, 50);
	}
	REQUIRE(fd2 == -1, "still accepting connections");
	/* answered by the same worker until it says close (the log line
	 * may come before the worker is told) */
	for (i = 0; i < 100; i++) {
		request(fd, &r, "open connection got no answer");
		check_doc(&r);
		REQUIRE(r.pid == held, "answered by %ld", r.pid);
		if (r.close)
			break;
		(void)poll(NULL, 0, 50);
	}
	REQUIRE(r.close, "the connection was never closed");
	(void)close(fd);
	REQUIRE(wait_stopped(GWT_WAIT) == 0, "master did not exit 0");
	for (i = 0; i < n && i < 64; i++)
		REQUIRE(gwt_wait_gone(kids[i], GWT_WAIT) == 0,
		    "worker %ld survived", (long)kids[i]);
	REQUIRE(access(S.pidfile, F_OK) == -1, "PidFile left behind");
}
END_TEST

/*
 * GracefulShutdownTimeout bounds the wait for a connection that would
 * otherwise stay open (KeepAliveTimeout 300) far beyond the test's wait.
 */
START_TEST(test_graceful_stop_timeout)
{
	struct gwt_resp	 r;
	int		 fd;

	start(POOL "KeepAliveTimeout 300\nGracefulShutdownTimeout 1\n");
	REQUIRE((fd = gwt_connect(HOST, PORT, 10)) != -1, "connect");
	request(fd, &r, "first request");
	check_doc(&r);
	REQUIRE(!r.close, "first request closed");
	REQUIRE(kill(S.pid, SIGWINCH) == 0, "kill");
	REQUIRE(wait_stopped(GWT_WAIT) == 0, "master did not exit 0");
	REQUIRE(gwt_log_count(&S, "GracefulShutdownTimeout") == 1,
	    "no timeout logged");
	(void)close(fd);
}
END_TEST

START_TEST(test_one_process)
{
	struct gwt_resp	 r;
	int		 i;

	REQUIRE(gwt_write_conf(&S, NULL, POOL) == 0, "conf");
	REQUIRE(gwt_start(&S, "-X") == 0, "-X did not start");
	for (i = 0; i < 3; i++) {
		get_ok(&r);
		REQUIRE(r.pid == S.pid, "answered by %ld, not %ld", r.pid,
		    (long)S.pid);
	}
	REQUIRE(gwt_children(S.pid, NULL, 0) == 0, "-X forked");
	REQUIRE(kill(S.pid, SIGTERM) == 0, "kill");
	REQUIRE(wait_stopped(GWT_WAIT) == 0, "-X did not exit 0");
}
END_TEST

START_TEST(test_user_drop)
{
	struct gwt_resp	 r;
	struct passwd	*pw;
	struct group	*gr;
	pid_t		 kids[64];
	long		 ids[4];
	int		 i, j, n;

	if (geteuid() != 0) {
		(void)printf("NOTE: not root; User/Group drop not tested\n");
		return;
	}
	REQUIRE((pw = getpwnam("nobody")) != NULL, "no user nobody");
	REQUIRE((gr = getgrnam("nogroup")) != NULL, "no group nogroup");
	start(POOL);
	get_ok(&r);
	REQUIRE(gwt_wait_children(S.pid, 2, GWT_WAIT) >= 2, "no workers");
	n = gwt_children(S.pid, kids, 64);
	for (i = 0; i < n && i < 64; i++) {
		REQUIRE(gwt_proc_ids(kids[i], "Uid:", ids) == 0, "status");
		for (j = 0; j < 4; j++)
			REQUIRE(ids[j] == (long)pw->pw_uid, "worker %ld uid "
			    "%ld", (long)kids[i], ids[j]);
		REQUIRE(gwt_proc_ids(kids[i], "Gid:", ids) == 0, "status");
		for (j = 0; j < 4; j++)
			REQUIRE(ids[j] == (long)gr->gr_gid, "worker %ld gid "
			    "%ld", (long)kids[i], ids[j]);
	}
	REQUIRE(gwt_proc_ids(S.pid, "Uid:", ids) == 0 && ids[0] == 0,
	    "master is not root");
}
END_TEST

START_TEST(test_daemon_mode)
{
	const char	*start_args[] = { "-f", S.conf, "-k", "start", NULL };
	const char	*stop_args[] = { "-f", S.conf, "-k", "stop", NULL };
	struct gwt_resp	 r;
	char		 out[4096];
	long		 pid = 0;
	int		 i;

	REQUIRE(gwt_write_conf(&S, NULL, POOL) == 0, "conf");
	REQUIRE(gwt_run(start_args, GWT_WAIT, out, sizeof(out)) == 0,
	    "-k start: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 1,
	    GWT_WAIT) == 0, "daemon did not start");
	for (i = 0; i < 200 && (pid = gwt_read_pidfile(&S)) <= 0; i++)
		(void)poll(NULL, 0, 50);
	REQUIRE(pid > 0 && gwt_alive((pid_t)pid), "no live pid in PidFile");
	REQUIRE(getsid((pid_t)pid) != getsid(0), "daemon kept our session");
	REQUIRE(gwt_parse_ports(&S) == 0, "no port");
	get_from((pid_t)pid, &r);
	REQUIRE(r.pid != pid, "the master answered");
	REQUIRE(gwt_run(stop_args, GWT_WAIT, out, sizeof(out)) == 0,
	    "-k stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "daemon stays");
	REQUIRE(access(S.pidfile, F_OK) == -1, "PidFile left behind");
}
END_TEST

/*--------------------------------------------------------------------*/

/*
 * sweep - in the runner, after each test: KILL any process of this
 * binary still running on a test directory of this runner (a failed
 * test skips its teardown; a daemon escapes PDEATHSIG).  Only this
 * runner's directories (/tmp/gwtest.<runner pid>.*): other test
 * programs may be running their own daemons beside it (make -j check).
 */
static void
sweep(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[300], exe[PATH_MAX], cmd[1024];
	ssize_t		 n;
	size_t		 i;
	FILE		*fp;
	char		 mine[64];

	(void)snprintf(mine, sizeof(mine), "/tmp/gwtest.%ld.", (long)getpid());
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
			continue;
		exe[n] = '\0';
		if (strcmp(exe, GW_TEST_BINARY) != 0)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/cmdline",
		    e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		n = (ssize_t)fread(cmd, 1, sizeof(cmd) - 1, fp);
		(void)fclose(fp);
		for (i = 0; n > 0 && i < (size_t)n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n > 0 ? n : 0] = '\0';
		if (strstr(cmd, mine) != NULL)
			(void)kill((pid_t)atol(e->d_name), SIGKILL);
	}
	(void)closedir(d);
}

static Suite *
daemon_suite(void)
{
	Suite	*s = suite_create("daemon");
	TCase	*tc = tcase_create("process model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, sweep);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_start_stop);
	tcase_add_test(tc, test_stale_pidfile);
	tcase_add_test(tc, test_syntax_ok);
	tcase_add_test(tc, test_syntax_bad);
	tcase_add_test(tc, test_pidfile_refused);
	tcase_add_test(tc, test_k_stop);
	tcase_add_test(tc, test_k_graceful);
	tcase_add_test(tc, test_graceful_keepalive);
	tcase_add_test(tc, test_hup_broken_config);
	tcase_add_test(tc, test_hup_listeners);
	tcase_add_test(tc, test_max_request_workers);
	tcase_add_test(tc, test_kill9_worker);
	tcase_add_test(tc, test_master_killed);
	tcase_add_test(tc, test_pool_growth);
	tcase_add_test(tc, test_pool_shrink);
	tcase_add_test(tc, test_max_connections_per_child);
	tcase_add_test(tc, test_two_listeners);
	tcase_add_test(tc, test_graceful_stop);
	tcase_add_test(tc, test_graceful_stop_timeout);
	tcase_add_test(tc, test_one_process);
	tcase_add_test(tc, test_user_drop);
	tcase_add_test(tc, test_daemon_mode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;
	char	 runner[32];

	(void)snprintf(runner, sizeof(runner), "%ld", (long)getpid());
	if (setenv("GWT_RUNNER", runner, 1) == -1)
		return 1;
	sr = srunner_create(daemon_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sweep();
	return failed == 0 ? 0 : 1;
}
