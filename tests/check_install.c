/*
 * check_install.c - "make install" and what it installs, run for real:
 * the build tree is installed under a temp prefix (every directory
 * variable overridden, so nothing lands outside it), then the installed
 * init script, gatewayctl, systemd unit lines and logrotate snippet
 * drive the installed gatewayd on temp configurations with "Listen
 * 127.0.0.1:0".  Also: the installed sample configuration starts as it
 * is, uninstall keeps modified configuration files, and every manual
 * page passes mandoc -Tlint.
 *
 * gatewayctl status/fullstatus are checked against a stand-in HTTP
 * responder (a child of this program on port 0) serving the page the
 * status handler contract gives, since this tree has no status page.
 * Every wait polls for a condition, bounded; a missing tool fails.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define RUN_WAIT	60	/* seconds for one command (make install) */
#define OUTMAX		16384

/* What the stand-in status handler serves. */
#define AUTO_BODY	"Total Accesses: 42\nTotal kBytes: 7\nUptime: 99\n" \
	"ReqPerSec: .424242\nBusyWorkers: 1\nIdleWorkers: 4\n" \
	"Scoreboard: _W___......\n"
#define HTML_BODY	"<html><head><title>Gateway Status</title></head>" \
	"<body><h1>Gateway Status for 127.0.0.1</h1>\n" \
	"<dl><dt>Server uptime: 99 seconds</dt>\n" \
	"<dt>Total accesses: 42 &amp; kB: 7</dt></dl>\n" \
	"<p>1 requests currently being processed, 4 idle workers</p>\n" \
	"</body></html>\n"

static char	 top[128];		/* this run's temp dir */
static char	 prefix[192];		/* top/inst */
static char	 initd[256], ctl[256], daemon_bin[256], deffile[256];
static struct gwt_server S;		/* the test's own dir and config */
static char	 out[OUTMAX];

/* sfmt - snprintf that fails the test on truncation. */
static void __attribute__((format(printf, 3, 4)))
sfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		ck_abort_msg("string too long for %zu bytes: %s", len, buf);
}

/*--------------------------------------------------------------------
 * Running commands
 */

/*
 * run - argv to the end (at most RUN_WAIT s) with env (NAME=value, NULL
 * ended) added; stdout and stderr in out; the exit status, -1 if it did
 * not end or died of a signal.
 */
static int
run(const char *const *argv, const char *const *env, char *buf,
    size_t buflen)
{
	long long	 end = gwt_now_ms() + RUN_WAIT * 1000LL;
	pid_t		 pid;
	int		 p[2], i, fd;

	buf[0] = '\0';
	if (pipe(p) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		(void)close(p[0]);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			(void)dup2(fd, STDIN_FILENO);
		(void)dup2(p[1], STDOUT_FILENO);
		(void)dup2(p[1], STDERR_FILENO);
		(void)close(p[1]);
		/* no redirection to systemctl by Debian's init-functions */
		(void)setenv("_SYSTEMCTL_SKIP_REDIRECT", "1", 1);
		(void)unsetenv("MAKEFLAGS");
		(void)unsetenv("MFLAGS");
		(void)unsetenv("STATUSURL");
		for (i = 0; env != NULL && env[i] != NULL; i++)
			(void)putenv((char *)env[i]);
		execv(argv[0], (char *const *)argv);
		(void)fprintf(stderr, "exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	(void)close(p[1]);
	return gwt_collect(pid, p[0], end, buf, buflen);
}

/* sh - /bin/sh -c cmd. */
static int
sh(const char *cmd, const char *const *env)
{
	const char	*argv[] = { "/bin/sh", "-c", cmd, NULL };

	return run(argv, env, out, sizeof(out));
}

static int
initd_env(const char *cmd, const char *const *env)
{
	const char	*argv[] = { initd, cmd, NULL };

	return run(argv, env, out, sizeof(out));
}

static int
initd_cmd(const char *cmd)
{
	return initd_env(cmd, NULL);
}

static int
ctl_env(const char *cmd, const char *const *env)
{
	const char	*argv[] = { ctl, cmd, NULL };

	return run(argv, env, out, sizeof(out));
}

static int
ctl_cmd(const char *cmd)
{
	return ctl_env(cmd, NULL);
}

/* which - tool's path in $PATH, or NULL. */
static const char *
which(const char *tool)
{
	static char	 path[PATH_MAX];
	const char	*p, *e;
	size_t		 n;

	for (p = getenv("PATH"); p != NULL && *p != '\0'; p = e + 1) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		sfmt(path, sizeof(path), "%.*s/%s", (int)n, p, tool);
		if (n > 0 && access(path, X_OK) == 0)
			return path;
		if (*e == '\0')
			break;
	}
	return NULL;
}

/*
 * make_install - "make TARGET" in the build tree with every directory
 * under dir; the exit status, its output in out.
 */
static int
make_install(const char *target, const char *dir)
{
	char		 v[14][PATH_MAX + 32];
	const char	*argv[24];
	int		 i, n = 0, k = 0;
	static const char *const vars[][2] = {
		{ "prefix", "" }, { "exec_prefix", "" },
		{ "bindir", "/bin" }, { "sbindir", "/sbin" },
		{ "libdir", "/lib" }, { "libexecdir", "/libexec" },
		{ "sysconfdir", "/etc" }, { "localstatedir", "/var" },
		{ "runstatedir", "/var/run" }, { "datarootdir", "/share" },
		{ "datadir", "/share" }, { "mandir", "/share/man" },
		{ "systemdsystemunitdir", "/lib/systemd/system" },
		{ "DESTDIR", NULL },
	};

	argv[n++] = GW_TEST_MAKE;
	argv[n++] = "-C";
	argv[n++] = GW_TEST_BUILDDIR;
	argv[n++] = target;
	for (i = 0; i < 14; i++) {
		if (vars[i][1] == NULL)
			sfmt(v[k], sizeof(v[k]), "%s=", vars[i][0]);
		else
			sfmt(v[k], sizeof(v[k]), "%s=%s%s",
			    vars[i][0], dir, vars[i][1]);
		argv[n++] = v[k++];
	}
	argv[n] = NULL;
	if (GW_TEST_MAKE[0] != '/') {
		const char *m = which(GW_TEST_MAKE);

		if (m == NULL)
			return -1;
		argv[0] = m;
	}
	return run(argv, NULL, out, sizeof(out));
}

/*--------------------------------------------------------------------
 * Files and processes
 */

static int
exists(const char *a, const char *b)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	sfmt(path, sizeof(path), "%s%s", a, b);
	return stat(path, &st) == 0;
}

/* contains - does the file hold needle? */
static int
contains(const char *path, const char *needle)
{
	char	*s;
	int	 r;

	if ((s = gwt_read_file(path)) == NULL)
		return 0;
	r = strstr(s, needle) != NULL;
	free(s);
	return r;
}

/* wait_contains - contains(), polled for up to GWT_WAIT seconds. */
static int
wait_contains(const char *path, const char *needle)
{
	long long	 end = gwt_now_ms() + GWT_WAIT * 1000LL;

	do {
		if (contains(path, needle))
			return 1;
		(void)poll(NULL, 0, 50);
	} while (gwt_now_ms() < end);
	return 0;
}

static void
dump(void)
{
	char	*s;

	if ((s = gwt_read_file(S.errlog)) != NULL) {
		(void)fprintf(stderr, "---- %s\n%s", S.errlog, s);
		free(s);
	}
	(void)fprintf(stderr, "---- last command's output\n%s\n", out);
}

#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		dump();							\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

/* live_pid - the pid in S's PidFile once it names a live process. */
static long
live_pid(void)
{
	long long	 end = gwt_now_ms() + GWT_WAIT * 1000LL;
	long		 pid;

	do {
		if ((pid = gwt_read_pidfile(&S)) > 1 && gwt_alive((pid_t)pid))
			return pid;
		(void)poll(NULL, 0, 50);
	} while (gwt_now_ms() < end);
	return -1;
}

/*
 * last_port - S.hosts[0], S.ports[0] from the last "listening on" line
 * of the error log (a restart with Listen ...:0 binds a new port; a
 * graceful one keeps the sockets and logs none); -1 if never known.
 */
static int
last_port(void)
{
	const char	*key = "listening on ";
	char		*buf, *p, *last = NULL, *colon;

	if ((buf = gwt_read_file(S.errlog)) != NULL) {
		for (p = buf; (p = strstr(p, key)) != NULL; p += strlen(key))
			last = p + strlen(key);
		if (last != NULL) {
			last[strcspn(last, "\n")] = '\0';
			if ((colon = strrchr(last, ':')) != NULL) {
				*colon = '\0';
				sfmt(S.hosts[0], sizeof(S.hosts[0]), "%s",
				    last);
				S.ports[0] = atoi(colon + 1);
				S.nports = 1;
			}
		}
		free(buf);
	}
	return S.nports > 0 ? 0 : -1;
}

/* serves - a GET of the test page on a new connection is answered. */
static void
serves(const char *what)
{
	struct gwt_resp	 r;

	REQUIRE(last_port() == 0, "%s: no \"listening on\"", what);
	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_get(0, S.hosts[0], S.ports[0], &r) == 0, "%s: GET "
	    "failed (status %d)", what, r.status);
	REQUIRE(r.status == 200 && strcmp(r.body, GWT_DOC_BODY) == 0,
	    "%s: status %d body \"%s\"", what, r.status, r.body);
}

/* write_defaults - /etc/default/gatewayd for S's config, plus extra. */
static void
write_defaults(const char *extra)
{
	char	 buf[1024];

	sfmt(buf, sizeof(buf), "GATEWAYD_CONF=%s\n%s\n", S.conf,
	    extra != NULL ? extra : "");
	REQUIRE(gwt_write_file(deffile, buf) == 0, "write %s", deffile);
}

#define POOL	"StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\n" \
	"KeepAliveTimeout 30\nMaxKeepAliveRequests 0\n"

/* lines - the number of lines of a file: the next one appended is +1. */
static int
lines(const char *path)
{
	char	*s, *p;
	int	 n = 0;

	if ((s = gwt_read_file(path)) == NULL)
		return -1;
	for (p = s; *p != '\0'; p++)
		if (*p == '\n')
			n++;
	free(s);
	return n;
}

/* break_conf - append an unknown directive; "file:line:" it gives. */
static void
break_conf(char *where, size_t len)
{
	char	*s, buf[8192];
	int	 n;

	REQUIRE((n = lines(S.conf)) > 0, "conf lines");
	REQUIRE((s = gwt_read_file(S.conf)) != NULL, "read conf");
	sfmt(buf, sizeof(buf), "%sNoSuchDirective on\n", s);
	free(s);
	REQUIRE(gwt_write_file(S.conf, buf) == 0, "write conf");
	sfmt(where, len, "%s:%d:", S.conf, n + 1);
}

static void
fix_conf(void)
{
	REQUIRE(gwt_write_conf(&S, NULL, POOL) == 0, "write conf");
}

/*
 * sweep - KILL every process running the installed gatewayd: all of
 * them are this program's (the binary is in this run's temp prefix).
 */
static void
sweep(void)
{
	char		 path[64], exe[PATH_MAX];
	struct dirent	*e;
	ssize_t		 n;
	DIR		*d;

	if (daemon_bin[0] == '\0' || (d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		sfmt(path, sizeof(path), "/proc/%s/exe", e->d_name);
		if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
			continue;
		exe[n] = '\0';
		if (strcmp(exe, daemon_bin) == 0)
			(void)kill((pid_t)atol(e->d_name), SIGKILL);
	}
	(void)closedir(d);
}

static void
setup(void)
{
	ck_assert_int_eq(gwt_setup(&S), 0);
	ck_assert_int_eq(gwt_write_conf(&S, NULL, POOL), 0);
	write_defaults(NULL);
}

static void
teardown(void)
{
	long	 pid;

	if ((pid = gwt_read_pidfile(&S)) > 1 && gwt_alive((pid_t)pid)) {
		(void)kill((pid_t)pid, SIGTERM);
		(void)gwt_wait_gone((pid_t)pid, GWT_WAIT);
	}
	gwt_teardown(&S);
}

/*--------------------------------------------------------------------
 * The installed files
 */

START_TEST(test_layout)
{
	static const char *const files[] = {
		"/sbin/gatewayd", "/sbin/gatewayctl", "/sbin/gwcacheclean",
		"/etc/gatewayd/gateway.conf", "/etc/init.d/gatewayd",
		"/etc/default/gatewayd", "/etc/logrotate.d/gatewayd",
		"/share/man/man8/gatewayctl.8", "/share/man/man8/gatewayd.8",
		"/share/man/man5/gateway.conf.5",
		"/share/gatewayd/errors/503.html",
		"/var/log/gatewayd", "/var/cache/gatewayd", NULL
	};
	static const char *const subst[] = {
		"/sbin/gatewayctl", "/etc/init.d/gatewayd",
		"/etc/logrotate.d/gatewayd",
#if GW_TEST_SYSTEMD
		"/lib/systemd/system/gatewayd.service",
#endif
		NULL
	};
	char		 path[PATH_MAX], want[PATH_MAX + 64];
	const char	*argv[6];
	int		 i;

	for (i = 0; files[i] != NULL; i++)
		REQUIRE(exists(prefix, files[i]), "not installed: "
		    "%s%s", prefix, files[i]);
	REQUIRE(access(initd, X_OK) == 0 && access(ctl, X_OK) == 0,
	    "init script or gatewayctl not executable");
	/* paths substituted, none left from the tree or the build */
	sfmt(path, sizeof(path), "%s/etc/gatewayd/gateway.conf",
	    prefix);
	REQUIRE(!contains(path, "/usr/local"), "/usr/local in %s", path);
	sfmt(want, sizeof(want), "PidFile %s/var/run/gatewayd.pid",
	    prefix);
	REQUIRE(contains(path, want), "no \"%s\" in %s", want, path);
	sfmt(want, sizeof(want), "ServerRoot \"%s/etc/gatewayd\"", prefix);
	REQUIRE(contains(path, want), "no \"%s\" in %s", want, path);
	sfmt(want, sizeof(want), "CacheRoot %s/var/cache/gatewayd",
	    prefix);
	REQUIRE(contains(path, want), "no \"%s\" in %s", want, path);
	sfmt(want, sizeof(want), "Alias /errors/ %s/share/gatewayd/"
	    "errors/", prefix);
	REQUIRE(contains(path, want), "no \"%s\" in %s", want, path);
	for (i = 0; subst[i] != NULL; i++) {
		sfmt(path, sizeof(path), "%s%s", prefix, subst[i]);
		REQUIRE(!contains(path, "dir@"), "unsubstituted path in %s",
		    path);
		REQUIRE(contains(path, prefix), "no %s in %s", prefix, path);
	}
	/* the installed sample parses */
	sfmt(path, sizeof(path), "%s/etc/gatewayd/gateway.conf",
	    prefix);
	argv[0] = daemon_bin;
	argv[1] = "-t";
	argv[2] = "-f";
	argv[3] = path;
	argv[4] = NULL;
	REQUIRE(run(argv, NULL, out, sizeof(out)) == 0 &&
	    strstr(out, "Syntax OK") != NULL, "installed sample: %s", out);
}
END_TEST

/* The scripts are plain POSIX sh (dash parses them). */
START_TEST(test_scripts_sh)
{
	const char	*dash = which("dash");
	const char	*argv[4];

	REQUIRE(dash != NULL, "dash is not installed: it checks that the "
	    "scripts are POSIX sh (apt-get install dash)");
	argv[0] = dash;
	argv[1] = "-n";
	argv[3] = NULL;
	argv[2] = initd;
	REQUIRE(run(argv, NULL, out, sizeof(out)) == 0, "dash -n %s: %s",
	    initd, out);
	argv[2] = ctl;
	REQUIRE(run(argv, NULL, out, sizeof(out)) == 0, "dash -n %s: %s",
	    ctl, out);
}
END_TEST

/*
 * The installed sample configuration starts as it is, with only its
 * Listen line and virtual host address moved to a free port: its
 * PidFile, logs, cache and error page are where make install put them.
 */
START_TEST(test_sample_starts)
{
	char		 cmd[2048], page[PATH_MAX], req[256], logf[PATH_MAX];
	char		 env1[160];
	const char	*env[2] = { env1, NULL };
	struct gwt_resp	 r;
	char		*want;
	long		 pid;
	int		 fd;

	sfmt(cmd, sizeof(cmd), "sed -e 's/^Listen 80$/Listen "
	    "127.0.0.1:0/' -e 's/<VirtualHost \\*:80>/<VirtualHost *>/' "
	    "'%s/etc/gatewayd/gateway.conf' > '%s/sample.conf'", prefix,
	    S.dir);
	REQUIRE(sh(cmd, NULL) == 0, "sed: %s", out);
	sfmt(S.conf, sizeof(S.conf), "%s/sample.conf", S.dir);
	write_defaults(NULL);
	sfmt(S.pidfile, sizeof(S.pidfile), "%s/var/run/gatewayd.pid",
	    prefix);
	sfmt(S.errlog, sizeof(S.errlog),
	    "%s/var/log/gatewayd/error_log", prefix);
	(void)unlink(S.errlog);
	REQUIRE(initd_cmd("start") == 0, "init start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in %s", S.pidfile);
	REQUIRE(last_port() == 0, "no port in %s", S.errlog);
	sfmt(page, sizeof(page), "%s/errors/503.html",
	    GW_TEST_SRCDIR);
	REQUIRE((want = gwt_read_file(page)) != NULL, "read %s", page);
	REQUIRE((fd = gwt_connect(S.hosts[0], S.ports[0], 10)) != -1,
	    "connect");
	sfmt(req, sizeof(req), "GET /errors/503.html HTTP/1.1\r\n"
	    "Host: www.example.com\r\nConnection: close\r\n\r\n");
	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_request(fd, req, &r, 20) == 0, "GET /errors/503.html");
	(void)close(fd);
	REQUIRE(r.status == 200, "error page: status %d", r.status);
	REQUIRE(strncmp(r.body, want, strlen(r.body)) == 0 &&
	    strlen(r.body) > 0, "error page: \"%s\"", r.body);
	free(want);
	sfmt(logf, sizeof(logf), "%s/var/log/gatewayd/access_log",
	    prefix);
	REQUIRE(wait_contains(logf, "GET /errors/503.html"), "no access log "
	    "line in %s", logf);
	REQUIRE(exists(prefix, "/var/cache/gatewayd/.index"),
	    "no cache index under the installed CacheRoot");
	/* the sample's status page, read by the installed gatewayctl */
	sfmt(env1, sizeof(env1), "STATUSURL=http://127.0.0.1:%d/"
	    "server-status", S.ports[0]);
	REQUIRE(ctl_env("status", env) == 0 && strstr(out,
	    "\nTotal Accesses: ") != NULL && strstr(out, "\nScoreboard: ") !=
	    NULL, "gatewayctl status: %s", out);
	REQUIRE(ctl_env("fullstatus", env) == 0 && strstr(out,
	    "gatewayd status for www.example.com") != NULL &&
	    strchr(out, '<') == NULL, "gatewayctl fullstatus: %s", out);
	REQUIRE(initd_cmd("stop") == 0, "init stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "still running");
}
END_TEST

/*--------------------------------------------------------------------
 * The init script
 */

START_TEST(test_initd_start_status_stop)
{
	long	 pid;

	REQUIRE(initd_cmd("status") == 3, "status before start: not 3: %s",
	    out);
	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	serves("after start");
	REQUIRE(initd_cmd("status") == 0, "status when running: %s", out);
	REQUIRE(initd_cmd("start") == 0, "second start: %s", out);
	REQUIRE(gwt_read_pidfile(&S) == pid, "second start changed the pid");
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
	REQUIRE(access(S.pidfile, F_OK) == -1, "PidFile left");
	REQUIRE(initd_cmd("status") == 3, "status after stop: not 3: %s",
	    out);
	REQUIRE(initd_cmd("stop") == 0, "stop when stopped: %s", out);
}
END_TEST

/* Without Debian's init-functions, the same in plain sh. */
START_TEST(test_initd_no_lsb_functions)
{
	long	 pid;

	write_defaults("INIT_FUNCTIONS=/nonexistent/init-functions");
	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	serves("after start");
	REQUIRE(initd_cmd("status") == 0 && strstr(out, "is running"),
	    "status: %s", out);
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
	REQUIRE(initd_cmd("status") == 3, "status after stop: %s", out);
}
END_TEST

/* A master that died without removing its PidFile: LSB's 1. */
START_TEST(test_initd_status_dead)
{
	long	 pid;

	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	REQUIRE(kill((pid_t)pid, SIGKILL) == 0, "kill");
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
	REQUIRE(access(S.pidfile, F_OK) == 0, "PidFile went");
	REQUIRE(initd_cmd("status") == 1, "status, dead with PidFile: not "
	    "1: %s", out);
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(initd_cmd("status") == 3, "status after stop: not 3: %s",
	    out);
}
END_TEST

/*
 * reload: a graceful restart; a client's keep-alive connection opened
 * before is still answered after it, and the master stays the same.
 */
START_TEST(test_initd_reload_keepalive)
{
	struct gwt_resp	 r;
	long		 pid;
	int		 fd;

	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	REQUIRE(last_port() == 0, "no port");
	REQUIRE((fd = gwt_connect(S.hosts[0], S.ports[0], 10)) != -1,
	    "connect");
	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_request(fd, GWT_KA_REQ, &r, 20) == 0 && r.status == 200 &&
	    !r.close, "first request: status %d close %d", r.status, r.close);
	REQUIRE(initd_cmd("reload") == 0, "reload: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2,
	    GWT_WAIT) == 0, "no graceful restart in the log");
	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_request(fd, GWT_KA_REQ, &r, 20) == 0 && r.status == 200 &&
	    strcmp(r.body, GWT_DOC_BODY) == 0, "keep-alive request after "
	    "reload: status %d", r.status);
	(void)close(fd);
	REQUIRE(gwt_read_pidfile(&S) == pid && gwt_alive((pid_t)pid),
	    "the master changed on reload");
	serves("after reload");
	REQUIRE(initd_cmd("force-reload") == 0, "force-reload: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 3,
	    GWT_WAIT) == 0, "no graceful restart on force-reload");
	REQUIRE(gwt_read_pidfile(&S) == pid, "the master changed");
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
	REQUIRE(initd_cmd("reload") == 7, "reload when stopped: not 7: %s",
	    out);
}
END_TEST

/*
 * A broken configuration: configtest names file:line; restart and
 * reload are refused and the running gatewayd goes on unchanged.
 */
START_TEST(test_initd_broken_config)
{
	char	 where[256];
	long	 pid;

	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	break_conf(where, sizeof(where));
	REQUIRE(initd_cmd("configtest") != 0, "configtest passed: %s", out);
	REQUIRE(strstr(out, where) != NULL, "configtest: no %s in: %s", where,
	    out);
	REQUIRE(initd_cmd("restart") != 0, "restart not refused: %s", out);
	REQUIRE(strstr(out, where) != NULL, "restart: no %s in: %s", where,
	    out);
	REQUIRE(gwt_alive((pid_t)pid), "restart stopped the running gatewayd");
	REQUIRE(initd_cmd("reload") != 0, "reload not refused: %s", out);
	REQUIRE(strstr(out, where) != NULL, "reload: no %s in: %s", where,
	    out);
	REQUIRE(gwt_read_pidfile(&S) == pid && gwt_alive((pid_t)pid),
	    "the running gatewayd went");
	REQUIRE(gwt_log_count(&S, "resuming normal operations") == 1,
	    "the running gatewayd was restarted");
	serves("after the refused restart");
	fix_conf();
	REQUIRE(initd_cmd("configtest") == 0, "configtest: %s", out);
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
	break_conf(where, sizeof(where));
	REQUIRE(initd_cmd("start") != 0, "start on a broken config: %s", out);
	REQUIRE(strstr(out, where) != NULL, "start: no %s in: %s", where,
	    out);
}
END_TEST

/* restart: a new master on a good configuration. */
START_TEST(test_initd_restart)
{
	long	 pid, npid;

	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	REQUIRE(initd_cmd("restart") == 0, "restart: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "old master stays");
	REQUIRE((npid = live_pid()) > 0 && npid != pid, "no new master");
	serves("after restart");
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)npid, GWT_WAIT) == 0, "master stays");
}
END_TEST

/* The logrotate snippet's postrotate reopens the logs (rotated away). */
START_TEST(test_logrotate_postrotate)
{
	char	 path[PATH_MAX], rotated[256], cmd[PATH_MAX + 128];
	long	 pid;

	REQUIRE(initd_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	sfmt(path, sizeof(path), "%s/etc/logrotate.d/gatewayd",
	    prefix);
	REQUIRE(last_port() == 0, "no port");
	sfmt(rotated, sizeof(rotated), "%s.1", S.errlog);
	REQUIRE(rename(S.errlog, rotated) == 0, "rename");
	/* the lines between postrotate and endscript, run by sh */
	sfmt(cmd, sizeof(cmd), "sed -n '/^[[:space:]]*postrotate/,"
	    "/^[[:space:]]*endscript/p' '%s' | sed '1d;$d' | sh -e", path);
	REQUIRE(sh(cmd, NULL) == 0, "postrotate: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 1,
	    GWT_WAIT) == 0, "no graceful restart into a new error log");
	REQUIRE(gwt_read_pidfile(&S) == pid, "the master changed");
	serves("after postrotate");
	REQUIRE(initd_cmd("stop") == 0, "stop: %s", out);
}
END_TEST

/*--------------------------------------------------------------------
 * The systemd unit: its command lines, run as systemd would run them.
 */

/* unit_cmd - the nth (from 0) KEY= line of the unit with ${GATEWAYD_CONF},
 * $GATEWAYD_ARGS and $MAINPID filled in; 0, or -1 if there is none. */
static int
unit_cmd(const char *key, int nth, long mainpid, char *cmd, size_t len)
{
	char	 path[PATH_MAX], spid[32], *s, *p, *e;
	size_t	 klen = strlen(key), n = 0;

	sfmt(path, sizeof(path),
	    "%s/lib/systemd/system/gatewayd.service", prefix);
	sfmt(spid, sizeof(spid), "%ld", mainpid);
	if ((s = gwt_read_file(path)) == NULL)
		return -1;
	for (p = s; p != NULL && *p != '\0'; p = e) {
		if ((e = strchr(p, '\n')) != NULL)
			*e++ = '\0';
		if (strncmp(p, key, klen) != 0 || p[klen] != '=' || nth-- > 0)
			continue;
		for (p += klen + 1; *p != '\0' && n + 1 < len; ) {
			const char *v = NULL;

			if (strncmp(p, "${GATEWAYD_CONF}", 16) == 0)
				v = S.conf, p += 16;
			else if (strncmp(p, "$GATEWAYD_ARGS", 14) == 0)
				v = "", p += 14;
			else if (strncmp(p, "$MAINPID", 8) == 0)
				v = spid, p += 8;
			if (v == NULL)
				cmd[n++] = *p++;
			else
				n += (size_t)snprintf(cmd + n, len - n, "%s",
				    v);
		}
		cmd[n < len ? n : len - 1] = '\0';
		free(s);
		return 0;
	}
	free(s);
	return -1;
}

START_TEST(test_systemd_unit)
{
	char	 cmd[1024], path[PATH_MAX], where[256], want[PATH_MAX + 16];
	long	 pid;

	sfmt(path, sizeof(path),
	    "%s/lib/systemd/system/gatewayd.service", prefix);
	if (!GW_TEST_SYSTEMD) {
		/* configured --without-systemdsystemunitdir: none, as asked */
		REQUIRE(access(path, F_OK) == -1, "%s installed", path);
		(void)printf("NOTE: configured without a systemd unit "
		    "directory: only its absence is checked\n");
		return;
	}
	REQUIRE(contains(path, "Type=forking"), "not Type=forking");
	sfmt(want, sizeof(want), "PIDFile=%s/var/run/gatewayd.pid",
	    prefix);
	REQUIRE(contains(path, want), "no %s", want);
	/* the configuration's PidFile is the unit's */
	sfmt(S.pidfile, sizeof(S.pidfile), "%s", want + 8);
	fix_conf();
	break_conf(where, sizeof(where));
	REQUIRE(unit_cmd("ExecStartPre", 0, 0, cmd, sizeof(cmd)) == 0,
	    "no ExecStartPre");
	REQUIRE(sh(cmd, NULL) != 0 && strstr(out, where) != NULL,
	    "ExecStartPre on a broken config: %s", out);
	fix_conf();
	REQUIRE(sh(cmd, NULL) == 0, "ExecStartPre: %s", out);
	REQUIRE(unit_cmd("ExecStart", 0, 0, cmd, sizeof(cmd)) == 0,
	    "no ExecStart");
	REQUIRE(sh(cmd, NULL) == 0, "ExecStart: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PIDFile");
	serves("after ExecStart");
	break_conf(where, sizeof(where));
	REQUIRE(unit_cmd("ExecReload", 0, pid, cmd, sizeof(cmd)) == 0,
	    "no ExecReload");
	REQUIRE(sh(cmd, NULL) != 0 && strstr(out, where) != NULL,
	    "first ExecReload on a broken config: %s", out);
	fix_conf();
	REQUIRE(sh(cmd, NULL) == 0, "first ExecReload: %s", out);
	REQUIRE(unit_cmd("ExecReload", 1, pid, cmd, sizeof(cmd)) == 0,
	    "no second ExecReload");
	REQUIRE(sh(cmd, NULL) == 0, "second ExecReload: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2,
	    GWT_WAIT) == 0, "no graceful restart");
	REQUIRE(gwt_read_pidfile(&S) == pid, "MAINPID changed on reload");
	REQUIRE(unit_cmd("ExecStop", 0, pid, cmd, sizeof(cmd)) == 0,
	    "no ExecStop");
	REQUIRE(sh(cmd, NULL) == 0, "ExecStop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
}
END_TEST

/*--------------------------------------------------------------------
 * gatewayctl
 */

START_TEST(test_ctl_cycle)
{
	struct gwt_resp	 r;
	long		 pid;
	int		 fd;

	REQUIRE(ctl_cmd("configtest") == 0 && strstr(out, "Syntax OK"),
	    "configtest: %s", out);
	REQUIRE(ctl_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	serves("after start");
	REQUIRE(ctl_cmd("start") == 0 && strstr(out, "already running"),
	    "second start: %s", out);
	REQUIRE(gwt_read_pidfile(&S) == pid, "second start changed the pid");
	/* graceful with a keep-alive connection open */
	REQUIRE((fd = gwt_connect(S.hosts[0], S.ports[0], 10)) != -1,
	    "connect");
	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_request(fd, GWT_KA_REQ, &r, 20) == 0 && r.status == 200 &&
	    !r.close, "first request: status %d", r.status);
	REQUIRE(ctl_cmd("graceful") == 0, "graceful: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2,
	    GWT_WAIT) == 0, "no graceful restart");
	memset(&r, 0, sizeof(r));
	REQUIRE(gwt_request(fd, GWT_KA_REQ, &r, 20) == 0 && r.status == 200,
	    "keep-alive request after graceful: status %d", r.status);
	(void)close(fd);
	REQUIRE(gwt_read_pidfile(&S) == pid, "graceful changed the master");
	REQUIRE(ctl_cmd("restart") == 0, "restart: %s", out);
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 3,
	    GWT_WAIT) == 0, "no restart");
	serves("after restart");
	/* stop waits for the master */
	REQUIRE(ctl_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(!gwt_alive((pid_t)pid), "master still there after stop");
	REQUIRE(ctl_cmd("stop") != 0, "stop when stopped succeeded: %s", out);
	/* graceful when stopped starts it, as apachectl's */
	REQUIRE(ctl_cmd("graceful") == 0, "graceful when stopped: %s", out);
	REQUIRE((pid = live_pid()) > 0, "graceful did not start it");
	serves("after graceful from stopped");
	REQUIRE(ctl_cmd("graceful-stop") == 0, "graceful-stop: %s", out);
	REQUIRE(gwt_wait_gone((pid_t)pid, GWT_WAIT) == 0, "master stays");
}
END_TEST

START_TEST(test_ctl_broken_config)
{
	char	 where[256];
	long	 pid;

	REQUIRE(ctl_cmd("start") == 0, "start: %s", out);
	REQUIRE((pid = live_pid()) > 0, "no live pid in PidFile");
	break_conf(where, sizeof(where));
	REQUIRE(ctl_cmd("configtest") != 0, "configtest passed: %s", out);
	REQUIRE(strstr(out, where) != NULL, "configtest: no %s in %s", where,
	    out);
	REQUIRE(ctl_cmd("graceful") != 0, "graceful not refused: %s", out);
	REQUIRE(strstr(out, where) != NULL, "graceful: no %s in %s", where,
	    out);
	REQUIRE(ctl_cmd("restart") != 0, "restart not refused: %s", out);
	REQUIRE(strstr(out, where) != NULL, "restart: no %s in %s", where,
	    out);
	REQUIRE(gwt_alive((pid_t)pid), "restart stopped the running gatewayd");
	REQUIRE(gwt_read_pidfile(&S) == pid && gwt_alive((pid_t)pid),
	    "the running gatewayd went");
	REQUIRE(gwt_log_count(&S, "resuming normal operations") == 1,
	    "the running gatewayd was restarted");
	serves("after the refused graceful");
	/* other arguments go to gatewayd: -t on the same file */
	{
		const char *argv[] = { ctl, "-t", NULL };

		REQUIRE(run(argv, NULL, out, sizeof(out)) != 0 &&
		    strstr(out, where) != NULL, "gatewayctl -t: %s", out);
	}
	fix_conf();
	REQUIRE(ctl_cmd("stop") == 0, "stop: %s", out);
	REQUIRE(!gwt_alive((pid_t)pid), "master still there after stop");
}
END_TEST

/*
 * responder - a stand-in for the status handler on 127.0.0.1:0: serves
 * AUTO_BODY for a path with "?auto", HTML_BODY otherwise, appending each
 * request line to log.  Its port; *pid the child to kill.
 */
static int
responder(const char *log, pid_t *pid)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	char			 req[2048], resp[4096];
	const char		*body;
	ssize_t			 n;
	FILE			*fp;
	int			 s, c;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	if ((*pid = fork()) == -1)
		return -1;
	if (*pid > 0) {
		(void)close(s);
		return ntohs(sin.sin_port);
	}
	/* dies with the test, failed or not */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		_exit(1);
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		n = read(c, req, sizeof(req) - 1);	/* one segment */
		req[n > 0 ? n : 0] = '\0';
		req[strcspn(req, "\r\n")] = '\0';
		if ((fp = fopen(log, "a")) != NULL) {
			(void)fprintf(fp, "%s\n", req);
			(void)fclose(fp);
		}
		body = strstr(req, "?auto") ? AUTO_BODY : HTML_BODY;
		n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: %s\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s", strstr(req, "?auto") ?
		    "text/plain; charset=ISO-8859-1" : "text/html",
		    strlen(body), body);
		(void)write(c, resp, (size_t)n);
		(void)close(c);
	}
}

/* toolbox - dir with links to what gatewayctl needs, plus extra. */
static void
toolbox(const char *dir, const char *extra)
{
	static const char *const tools[] = { "sed", "head", "cat", "sleep",
	    "tr", NULL };
	char		 link[PATH_MAX];
	const char	*p;
	int		 i;

	REQUIRE(mkdir(dir, 0755) == 0, "mkdir %s", dir);
	for (i = 0; tools[i] != NULL || extra != NULL; i++) {
		const char *t = tools[i] != NULL ? tools[i] : extra;

		REQUIRE((p = which(t)) != NULL, "%s is not installed", t);
		sfmt(link, sizeof(link), "%s/%s", dir, t);
		REQUIRE(symlink(p, link) == 0, "symlink %s", link);
		if (tools[i] == NULL)
			break;
	}
}

START_TEST(test_ctl_status)
{
	char		 log[256], url[128], env1[160], env2[PATH_MAX];
	char		 bin[256], *req;
	const char	*env[3] = { env1, NULL, NULL };
	pid_t		 rpid;
	int		 port, i;
	static const char *const auto_lines[] = { "Total Accesses: 42\n",
	    "Total kBytes: 7\n", "Uptime: 99\n", "ReqPerSec: .424242\n",
	    "BusyWorkers: 1\n", "IdleWorkers: 4\n",
	    "Scoreboard: _W___......\n", NULL };

	REQUIRE(which("curl") != NULL, "curl is not installed "
	    "(tools/deps.sh installs it)");
	REQUIRE(which("wget") != NULL, "wget is not installed "
	    "(tools/deps.sh installs it)");
	sfmt(log, sizeof(log), "%s/requests", S.dir);
	REQUIRE((port = responder(log, &rpid)) > 0, "responder");
	sfmt(url, sizeof(url), "http://127.0.0.1:%d/server-status",
	    port);
	sfmt(env1, sizeof(env1), "STATUSURL=%s", url);
	/* status: the ?auto form, as served */
	i = ctl_env("status", env);
	REQUIRE(i == 0, "status: exit %d: %s", i, out);
	for (i = 0; auto_lines[i] != NULL; i++)
		REQUIRE(strstr(out, auto_lines[i]) != NULL, "status: no "
		    "\"%s\" in: %s", auto_lines[i], out);
	req = gwt_read_file(log);
	REQUIRE(req != NULL && strstr(req, "GET /server-status?auto HTTP/1.")
	    == req, "status asked for: %s", req != NULL ? req : "nothing");
	free(req);
	/* fullstatus: the page as text */
	REQUIRE(ctl_env("fullstatus", env) == 0, "fullstatus: %s", out);
	REQUIRE(strstr(out, "Gateway Status for 127.0.0.1") != NULL &&
	    strstr(out, "Total accesses: 42 & kB: 7") != NULL &&
	    strstr(out, "4 idle workers") != NULL && strchr(out, '<') == NULL,
	    "fullstatus: %s", out);
	/* STATUSURL from /etc/default/gatewayd */
	write_defaults(env1);
	REQUIRE(ctl_cmd("status") == 0 && strstr(out, AUTO_BODY) != NULL,
	    "status, STATUSURL in %s: %s", deffile, out);
	/* wget when there is no curl */
	sfmt(bin, sizeof(bin), "%s/wgetonly", S.dir);
	toolbox(bin, "wget");
	sfmt(env2, sizeof(env2), "PATH=%s", bin);
	env[1] = env2;
	REQUIRE(ctl_env("status", env) == 0 && strstr(out, AUTO_BODY) != NULL,
	    "status with wget: %s", out);
	/* neither: said, and not 0 */
	sfmt(bin, sizeof(bin), "%s/none", S.dir);
	toolbox(bin, NULL);
	sfmt(env2, sizeof(env2), "PATH=%s", bin);
	i = ctl_env("status", env);
	REQUIRE(i != 0 && strstr(out, "neither curl nor wget") != NULL,
	    "status without curl and wget: exit %d: %s", i, out);
	/* nothing listening any more: not 0 */
	(void)kill(rpid, SIGKILL);
	(void)waitpid(rpid, NULL, 0);
	env[1] = NULL;
	i = ctl_env("status", env);
	REQUIRE(i != 0 && strstr(out, "cannot read the status page"),
	    "status, no server: exit %d: %s", i, out);
}
END_TEST

/*--------------------------------------------------------------------
 * Uninstall, and configuration files kept
 */

START_TEST(test_uninstall_keeps_config)
{
	char	 p2[PATH_MAX], conf[PATH_MAX], def[PATH_MAX], *buf, *s;
	size_t	 len;

	sfmt(p2, sizeof(p2), "%s/inst2", S.dir);
	REQUIRE(make_install("install", p2) == 0, "make install: %s", out);
	sfmt(conf, sizeof(conf), "%s/etc/gatewayd/gateway.conf",
	    p2);
	REQUIRE((s = gwt_read_file(conf)) != NULL, "read %s", conf);
	len = strlen(s) + 16;
	REQUIRE((buf = malloc(len)) != NULL, "malloc");
	sfmt(buf, len, "# mine\n%s", s);
	free(s);
	REQUIRE(gwt_write_file(conf, buf) == 0, "write %s", conf);
	free(buf);
	sfmt(def, sizeof(def), "%s/etc/default/gatewayd", p2);
	REQUIRE(gwt_write_file(def, "GATEWAYD_ARGS=\"-D mine\"\n") == 0,
	    "write %s", def);
	/* again: the changed gateway.conf stays, the new one beside it */
	REQUIRE(make_install("install", p2) == 0, "make install: %s", out);
	REQUIRE(contains(conf, "# mine\n"), "install overwrote %s", conf);
	REQUIRE(contains(def, "-D mine"), "install overwrote %s", def);
	REQUIRE(exists(p2, "/etc/gatewayd/gateway.conf.dist"),
	    "no gateway.conf.dist");
	REQUIRE(make_install("uninstall", p2) == 0, "uninstall: %s", out);
	REQUIRE(contains(conf, "# mine\n"), "uninstall removed changed %s",
	    conf);
	REQUIRE(!exists(p2, "/etc/gatewayd/gateway.conf.dist"),
	    "gateway.conf.dist left");
	REQUIRE(contains(def, "-D mine"), "uninstall removed changed %s",
	    def);
	REQUIRE(!exists(p2, "/etc/logrotate.d/gatewayd") &&
	    !exists(p2, "/etc/init.d/gatewayd") &&
	    !exists(p2, "/sbin/gatewayctl") &&
	    !exists(p2, "/sbin/gatewayd") &&
	    !exists(p2, "/lib/systemd/system/gatewayd.service") &&
	    !exists(p2, "/share/man/man8/gatewayctl.8"),
	    "uninstall left files behind");
}
END_TEST

/*--------------------------------------------------------------------
 * Manual pages
 */

START_TEST(test_mandoc_lint)
{
	char		 path[PATH_MAX], dir[PATH_MAX], *line, *e, *text;
	const char	*mandoc = which("mandoc");
	const char	*argv[4];
	struct dirent	*de;
	DIR		*d;
	int		 pages = 0;

	REQUIRE(mandoc != NULL, "mandoc is not installed: it checks the "
	    "manual pages (tools/deps.sh installs it)");
	argv[0] = mandoc;
	argv[1] = "-Tlint";
	argv[3] = NULL;
	sfmt(dir, sizeof(dir), "%s/man", GW_TEST_SRCDIR);
	REQUIRE((d = opendir(dir)) != NULL, "opendir %s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t	 n = strlen(de->d_name);

		if (n < 3 || de->d_name[n - 2] != '.' ||
		    strchr("158", de->d_name[n - 1]) == NULL)
			continue;
		sfmt(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* every page shows how, and where to read on */
		text = gwt_read_file(path);
		REQUIRE(text != NULL && strstr(text, "\n.Sh EXAMPLES\n") !=
		    NULL && strstr(text, "\n.Sh SEE ALSO\n") != NULL,
		    "%s has no EXAMPLES or no SEE ALSO section", path);
		free(text);
		argv[2] = path;
		(void)run(argv, NULL, out, sizeof(out));
		pages++;
		/* only cross references to pages not installed here pass */
		for (line = out; *line != '\0'; line = e) {
			if ((e = strchr(line, '\n')) != NULL)
				*e++ = '\0';
			else
				e = line + strlen(line);
			if (*line == '\0' ||
			    strstr(line, "referenced manual not found") ||
			    strstr(line, "mandoc.db"))
				continue;
			(void)closedir(d);
			ck_abort_msg("mandoc -Tlint %s: %s", path, line);
		}
	}
	(void)closedir(d);
	REQUIRE(pages >= 4, "only %d manual pages in %s", pages, dir);
}
END_TEST

/*--------------------------------------------------------------------*/

static Suite *
install_suite(void)
{
	Suite	*s = suite_create("install");
	TCase	*tc = tcase_create("installed");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, sweep);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_scripts_sh);
	tcase_add_test(tc, test_sample_starts);
	tcase_add_test(tc, test_initd_start_status_stop);
	tcase_add_test(tc, test_initd_no_lsb_functions);
	tcase_add_test(tc, test_initd_status_dead);
	tcase_add_test(tc, test_initd_reload_keepalive);
	tcase_add_test(tc, test_initd_broken_config);
	tcase_add_test(tc, test_initd_restart);
	tcase_add_test(tc, test_logrotate_postrotate);
	tcase_add_test(tc, test_systemd_unit);
	tcase_add_test(tc, test_ctl_cycle);
	tcase_add_test(tc, test_ctl_broken_config);
	tcase_add_test(tc, test_ctl_status);
	tcase_add_test(tc, test_uninstall_keeps_config);
	tcase_add_test(tc, test_mandoc_lint);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	char	 runner[32];
	int	 failed, rc;

	sfmt(runner, sizeof(runner), "%ld", (long)getpid());
	if (setenv("GWT_RUNNER", runner, 1) == -1)
		return 1;
	sfmt(top, sizeof(top), "/tmp/gwtest.%s.installXXXXXX",
	    runner);
	if (mkdtemp(top) == NULL || chmod(top, 0755) == -1) {
		perror(top);
		return 1;
	}
	sfmt(prefix, sizeof(prefix), "%s/inst", top);
	sfmt(initd, sizeof(initd), "%s/etc/init.d/gatewayd", prefix);
	sfmt(ctl, sizeof(ctl), "%s/sbin/gatewayctl", prefix);
	sfmt(daemon_bin, sizeof(daemon_bin), "%s/sbin/gatewayd",
	    prefix);
	sfmt(deffile, sizeof(deffile), "%s/etc/default/gatewayd",
	    prefix);
	if ((rc = make_install("install", prefix)) != 0) {
		(void)fprintf(stderr, "make install into %s failed (exit %d):"
		    "\n%s\n", prefix, rc, out);
		(void)gwt_rm_tree(top);
		return 1;
	}
	sr = srunner_create(install_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sweep();
	if (getenv("GWT_KEEP") == NULL)
		(void)gwt_rm_tree(top);
	return failed == 0 ? 0 : 1;
}
