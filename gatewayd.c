/*
 * gatewayd.c - main: the apache2-like command line (-f -t -D -X -k -v
 * -V -h), startup (PidFile lock, ErrorLog, Listen, daemonizing), the
 * master's signal-driven loop (stop, restart, graceful restart,
 * graceful stop) and -X, the single-process debugging mode.
 *
 * The pool itself (spawn, reap, maintenance) is prefork.c; what a
 * worker does is worker.c.  The master never serves a request, and
 * never waits on the cache index (cache.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "accesslog.h"
#include "balancer.h"
#include "cache.h"
#include "conf.h"
#include "listen.h"
#include "health.h"
#include "log.h"
#include "prefork.h"
#include "scoreboard.h"
#include "worker.h"

#define DEFAULT_CONFIG	GW_SYSCONFDIR "/gatewayd/gateway.conf"
#define PIDFILE_MAX	32

/* The command line. */
struct opts {
	const char	*file;		/* absolute after absolute_file */
	char		*file_abs;	/* realpath of file (malloc) */
	const char	**defines;
	int		 ndefines;
	int		 test;		/* -t */
	int		 one_process;	/* -X */
	int		 foreground;	/* -X, -D FOREGROUND, -D NO_DETACH */
	const char	*kcmd;		/* -k */
};

static volatile sig_atomic_t sig_stop;		/* TERM, INT */
static volatile sig_atomic_t sig_restart;	/* HUP */
static volatile sig_atomic_t sig_graceful;	/* USR1 */
static volatile sig_atomic_t sig_gstop;		/* WINCH */
static volatile sig_atomic_t sig_chld;		/* CHLD: reap now */

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	(void)fprintf(fp,
	    "Usage: %s [-D name] [-f file] [-k start|restart|graceful|"
	    "graceful-stop|stop]\n"
	    "       %*s [-v] [-V] [-h] [-t] [-X]\n"
	    "Options:\n"
	    "  -D name            : define a name for use in <IfDefine name> "
	    "directives\n"
	    "                       (-D FOREGROUND: do not detach)\n"
	    "  -f file            : specify an alternate ServerConfigFile "
	    "(default %s)\n"
	    "  -k start|stop|restart|graceful|graceful-stop\n"
	    "                     : start, or signal the running master "
	    "found through PidFile\n"
	    "  -v                 : show version number\n"
	    "  -V                 : show compile settings\n"
	    "  -h                 : list available command line options "
	    "(this page)\n"
	    "  -t                 : run syntax check for config files\n"
	    "  -X                 : debug mode (only one process, do not "
	    "detach)\n",
	    GW_NAME, (int)strlen(GW_NAME), "", DEFAULT_CONFIG);
	exit(status);
}

static void
print_version(int settings)
{
	int	 maj, min, patch;

	(void)printf("Server version: %s/%s\n", GW_NAME, PACKAGE_VERSION);
	if (!settings)
		return;
	(void)printf("Server MPM:     prefork\n");
	(void)printf("OpenSSL:        %s (built with %s)\n",
	    OpenSSL_version(OPENSSL_VERSION), OPENSSL_VERSION_TEXT);
	(void)printf("Berkeley DB:    %s (built with %s)\n",
	    db_version(&maj, &min, &patch), DB_VERSION_STRING);
	(void)printf("Server compiled with....\n");
	(void)printf(" -D GW_SYSCONFDIR=\"%s\"\n", GW_SYSCONFDIR);
	(void)printf(" -D GW_LOCALSTATEDIR=\"%s\"\n", GW_LOCALSTATEDIR);
	(void)printf(" -D GW_RUNSTATEDIR=\"%s\"\n", GW_RUNSTATEDIR);
	(void)printf(" -D GW_SBINDIR=\"%s\"\n", GW_SBINDIR);
	(void)printf(" -D SERVER_CONFIG_FILE=\"%s\"\n", DEFAULT_CONFIG);
	(void)printf(" -D GW_SERVER_LIMIT_CAP=%d\n", GW_SERVER_LIMIT_CAP);
#ifdef HAVE_SYS_EPOLL_H
	(void)printf(" -D HAVE_EPOLL (EPOLLEXCLUSIVE accept)\n");
#endif
#ifdef GW_SANITIZERS
	(void)printf(" -D GW_SANITIZERS\n");
#endif
}

static int
has_define(const struct opts *o, const char *name)
{
	int	 i;

	for (i = 0; i < o->ndefines; i++)
		if (strcmp(o->defines[i], name) == 0)
			return 1;
	return 0;
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->file = DEFAULT_CONFIG;
	if ((o->defines = calloc((size_t)argc + 1, sizeof(char *))) == NULL) {
		perror(GW_NAME);
		exit(1);
	}
	while ((ch = getopt(argc, argv, "D:f:hk:tvVX")) != -1) {
		switch (ch) {
		case 'D':
			o->defines[o->ndefines++] = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'k':
			o->kcmd = optarg;
			break;
		case 't':
			o->test = 1;
			break;
		case 'v':
			print_version(0);
			exit(0);
		case 'V':
			print_version(1);
			exit(0);
		case 'X':
			o->one_process = 1;
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (optind != argc)
		usage(stderr, 1);
	o->foreground = o->one_process || has_define(o, "FOREGROUND") ||
	    has_define(o, "NO_DETACH");
}

/* absolute_file - the -f path made absolute, for restarts after chdir. */
static void
absolute_file(struct opts *o)
{
	if (o->file[0] == '/')
		return;
	if ((o->file_abs = realpath(o->file, NULL)) != NULL)
		o->file = o->file_abs;
}

/*--------------------------------------------------------------------
 * PidFile: an flock held for the master's life (flock, not fcntl, so
 * the lock survives the daemonizing forks).
 */

/* read_pid - the pid written in an open PidFile, or 0. */
static long
read_pid(int fd)
{
	char	 buf[PIDFILE_MAX];
	ssize_t	 n;
	long	 pid;
	char	*end;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0') || pid <= 1)
		return 0;
	return pid;
}

/* pidfile_lock - lock PidFile or refuse to start; *stale if taken over. */
static int
pidfile_lock(const char *path, long *stale)
{
	long	 pid;
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		(void)fprintf(stderr, "%s: cannot open PidFile %s: %s\n",
		    GW_NAME, path, strerror(errno));
		exit(1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			pid = read_pid(fd);
			(void)fprintf(stderr, "%s: another %s (pid %ld) is "
			    "running with PidFile %s; not starting\n",
			    GW_NAME, GW_NAME, pid, path);
		} else
			(void)fprintf(stderr, "%s: cannot lock PidFile %s: "
			    "%s\n", GW_NAME, path, strerror(errno));
		exit(1);
	}
	*stale = read_pid(fd);
	return fd;
}

static void
pidfile_write(int fd, const char *path)
{
	char	 buf[PIDFILE_MAX];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || n < 0 ||
	    pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n)
		fatal("cannot write PidFile %s", path);
}

static void
pidfile_remove(struct gw_master *m)
{
	if (m->pidfd == -1)
		return;
	if (unlink(m->pid_file) == -1 && errno != ENOENT)
		log_errno(GW_LOG_WARN, "cannot remove PidFile %s",
		    m->pid_file);
	(void)close(m->pidfd);
	m->pidfd = -1;
}

/* signal_master - -k stop|restart|graceful|graceful-stop. */
static int
signal_master(const struct gw_config *cfg, const char *cmd)
{
	static const struct {
		const char	*cmd;
		int		 sig;
	} cmds[] = {
		{ "stop", SIGTERM }, { "restart", SIGHUP },
		{ "graceful", SIGUSR1 }, { "graceful-stop", SIGWINCH }
	};
	size_t	 i;
	long	 pid;
	int	 fd, sig = 0;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].cmd) == 0)
			sig = cmds[i].sig;
	if (sig == 0)
		usage(stderr, 1);
	if ((fd = open(cfg->pid_file, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)fprintf(stderr, "%s (no pid file %s) not running\n",
		    GW_NAME, cfg->pid_file);
		return 1;
	}
	pid = read_pid(fd);
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)fprintf(stderr, "%s (pid %ld?) not running (stale "
		    "PidFile %s)\n", GW_NAME, pid, cfg->pid_file);
		(void)close(fd);
		return 1;
	}
	(void)close(fd);
	if (pid == 0) {
		(void)fprintf(stderr, "%s: PidFile %s holds no pid yet; "
		    "try again\n", GW_NAME, cfg->pid_file);
		return 1;
	}
	if (kill((pid_t)pid, sig) == -1) {
		(void)fprintf(stderr, "%s: cannot signal pid %ld: %s\n",
		    GW_NAME, pid, strerror(errno));
		return 1;
	}
	return 0;
}

/*--------------------------------------------------------------------
 * Startup
 */

static void
daemonize(void)
{
	pid_t	 pid;
	int	 fd, errfd;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	/* as Apache: stray stderr output lands in the error log */
	errfd = log_fd() >= 0 ? log_fd() : fd;
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(errfd, STDERR_FILENO) == -1)
		fatal("dup2");
	if (fd > STDERR_FILENO)
		(void)close(fd);
	log_set_tee(0);
}

/* apply_params - the pool numbers of cfg, warning about corrections. */
static void
apply_params(struct gw_master *m, int server_limit)
{
	const struct gw_config	*cfg = m->cfg;
	struct prefork_params	*pp = &m->pp;
	int			 fix;

	fix = prefork_params(cfg, server_limit, pp);
	if (fix & PF_FIX_MAX_WORKERS)
		log_msg(GW_LOG_WARN, "MaxRequestWorkers of %d exceeds "
		    "ServerLimit value of %d, decreasing to match",
		    cfg->max_request_workers, server_limit);
	if (fix & PF_FIX_MAX_WORKERS_LOW)
		log_msg(GW_LOG_WARN, "MaxRequestWorkers of %d not allowed, "
		    "increasing to 1", cfg->max_request_workers);
	if (fix & PF_FIX_MIN_SPARE)
		log_msg(GW_LOG_WARN, "MinSpareServers set to non-positive, "
		    "resetting to 1");
	if (fix & PF_FIX_MAX_SPARE)
		log_msg(GW_LOG_WARN, "MaxSpareServers %d is not above "
		    "MinSpareServers %d, using %d", cfg->max_spare_servers,
		    pp->min_spare, pp->max_spare);
	if (fix & PF_FIX_START)
		log_msg(GW_LOG_WARN, "StartServers %d exceeds "
		    "MaxRequestWorkers %d, starting %d",
		    cfg->start_servers, pp->max_workers, pp->start);
}

static int
clamp_server_limit(int n)
{
	if (n < 1)
		return 1;
	return n > GW_SERVER_LIMIT_CAP ? GW_SERVER_LIMIT_CAP : n;
}

/*
 * startup - everything before the first fork of a worker: PidFile,
 * ErrorLog, User/Group, Listen, detaching.  Any failure exits 1 with a
 * message on stderr (and in the error log once it is open).
 */
static void
startup(struct gw_master *m, const struct opts *o)
{
	struct gw_config	*cfg = m->cfg;
	struct accesslog	*al;
	char			 err[512];
	long			 stale;

	m->pidfd = pidfile_lock(cfg->pid_file, &stale);
	if (log_open(cfg->error_log, cfg->log_level) == -1) {
		(void)fprintf(stderr, "%s: could not open error log %s: %s\n",
		    GW_NAME, cfg->error_log, strerror(errno));
		exit(1);
	}
	log_set_tee(1);
	if (stale != 0)
		log_msg(GW_LOG_WARN, "pid file %s overwritten -- unclean "
		    "shutdown of previous %s run (pid %ld)?", cfg->pid_file,
		    GW_NAME, stale);
	err[0] = '\0';
	if (worker_creds(cfg, &m->creds, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (err[0] != '\0')
		log_msg(GW_LOG_WARN, "%s", err);
	apply_params(m, clamp_server_limit(cfg->server_limit));
	if (listen_open(cfg, NULL) == -1)
		fatalx("no listening sockets available, shutting down");
	/* access logs: opened as root; piped loggers start after detach */
	if ((al = accesslog_open(cfg, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (!o->foreground)
		daemonize();
	(void)accesslog_swap(al);
	pidfile_write(m->pidfd, cfg->pid_file);
}

/*--------------------------------------------------------------------
 * The master's loop
 */

static void
master_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		sig_stop = 1;
		break;
	case SIGHUP:
		sig_restart = 1;
		break;
	case SIGUSR1:
		sig_graceful = 1;
		break;
	case SIGWINCH:
		sig_gstop = 1;
		break;
	case SIGCHLD:
		sig_chld = 1;
		break;
	}
}

/* master_signals - flag handlers; the signals stay blocked but in ppoll. */
static void
master_signals(sigset_t *orig)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				    SIGWINCH, SIGCHLD };
	struct sigaction	 sa;
	sigset_t		 block;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	(void)sigemptyset(&block);
	sa.sa_flags = 0;
	sa.sa_handler = master_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
		(void)sigaddset(&block, sigs[i]);
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGXFSZ, &sa, NULL) == -1)
		fatal("sigaction");
	if (sigprocmask(SIG_BLOCK, &block, orig) == -1)
		fatal("sigprocmask");
	(void)sigdelset(orig, SIGTERM);
	(void)sigdelset(orig, SIGINT);
	(void)sigdelset(orig, SIGHUP);
	(void)sigdelset(orig, SIGUSR1);
	(void)sigdelset(orig, SIGWINCH);
	(void)sigdelset(orig, SIGCHLD);
}

/* master_sleep - wait up to ms for a signal (unblocked only here). */
static void
master_sleep(const sigset_t *orig, int ms)
{
	struct timespec	 ts;

	if (ms < 0)
		ms = 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (ppoll(NULL, 0, &ts, orig) == -1 && errno != EINTR)
		log_errno(GW_LOG_ERR, "ppoll");
	sig_chld = 0;
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
resuming(void)
{
	log_msg(GW_LOG_NOTICE, "%s/%s configured -- resuming normal "
	    "operations", GW_NAME, PACKAGE_VERSION);
}

/*
 * reload - read the configuration again; on errors log every message
 * conf_load wrote and return NULL (the caller keeps the old one).
 */
static struct gw_config *
reload(const struct opts *o)
{
	struct gw_config	*cfg;
	char			*buf = NULL, *line, *next;
	size_t			 len = 0;
	FILE			*fp;
	int			 nerr = 0;

	if ((fp = open_memstream(&buf, &len)) == NULL) {
		log_errno(GW_LOG_ERR, "open_memstream");
		return NULL;
	}
	cfg = conf_load(o->file, o->defines, o->ndefines, fp, &nerr);
	if (fclose(fp) == EOF)
		log_errno(GW_LOG_ERR, "fclose(memstream)");
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		log_msg(cfg == NULL ? GW_LOG_ERR : GW_LOG_WARN, "%s", line);
	}
	free(buf);
	if (cfg == NULL)
		log_msg(GW_LOG_ERR, "%d error(s) in %s: restart refused, "
		    "keeping the old configuration", nerr, o->file);
	return cfg;
}

/* reopen_logs - the new ErrorLog (or the same, reopened for logrotate). */
static void
reopen_logs(const struct gw_config *cfg, const struct opts *o)
{
	if (log_open(cfg->error_log, cfg->log_level) == -1)
		log_errno(GW_LOG_ERR, "cannot open error log %s, keeping "
		    "the old one", cfg->error_log);
	else
		log_set_level(cfg->log_level);
	if (!o->foreground && log_fd() >= 0 &&
	    dup2(log_fd(), STDERR_FILENO) == -1)
		log_errno(GW_LOG_WARN, "dup2 stderr");
}

/*
 * restart_prepare - everything that may fail, before anything changes:
 * the new configuration, its User/Group, its listeners (sockets with the
 * same address are taken over from the running configuration).
 */
static struct gw_config *
restart_prepare(struct gw_master *m, const struct opts *o,
    struct gw_creds *creds, struct accesslog **al)
{
	struct gw_config	*ncfg;
	char			 err[512];

	if ((ncfg = reload(o)) == NULL)
		return NULL;
	err[0] = '\0';
	if (worker_creds(ncfg, creds, err, sizeof(err)) == -1) {
		log_msg(GW_LOG_ERR, "%s: restart refused", err);
		conf_free(ncfg);
		return NULL;
	}
	if (err[0] != '\0')
		log_msg(GW_LOG_WARN, "%s", err);
	if ((*al = accesslog_open(ncfg, err, sizeof(err))) == NULL) {
		log_msg(GW_LOG_ERR, "%s: restart refused", err);
		conf_free(ncfg);
		return NULL;
	}
	if (listen_open(ncfg, m->cfg) == -1) {
		log_msg(GW_LOG_ERR, "restart refused, keeping the old "
		    "configuration");
		accesslog_close(*al);
		conf_free(ncfg);
		return NULL;
	}
	if (strcmp(ncfg->pid_file, m->pid_file) != 0)
		log_msg(GW_LOG_WARN, "PidFile change to %s ignored until a "
		    "full stop and start", ncfg->pid_file);
	if (clamp_server_limit(ncfg->server_limit) != m->pp.server_limit)
		log_msg(GW_LOG_WARN, "changing ServerLimit to %d from "
		    "original value of %d not allowed during restart",
		    ncfg->server_limit, m->pp.server_limit);
	return ncfg;
}

/*
 * restart - HUP (graceful 0): stop the workers, apply the new
 * configuration, start a new pool.  USR1 (graceful 1): old workers
 * finish their connection while a new generation starts.  A config
 * with errors, unknown users or unbindable listeners changes nothing.
 * Logs are reopened either way (logrotate).
 */
static void
restart(struct gw_master *m, const struct opts *o, int graceful)
{
	struct gw_config	*ncfg, *old = m->cfg;
	struct gw_creds		 creds;
	struct accesslog	*al;

	log_msg(GW_LOG_NOTICE, graceful ? "Graceful restart requested, "
	    "doing restart" : "SIGHUP received.  Attempting to restart");
	if ((ncfg = restart_prepare(m, o, &creds, &al)) == NULL)
		return;
	if (!graceful)
		prefork_stop_children(m);
	listen_close(old);		/* the sockets not taken over */
	reopen_logs(ncfg, o);
	accesslog_close(accesslog_swap(al));	/* reopened: logrotate */
	m->cfg = ncfg;
	m->creds = creds;
	/* roots kept open when still used, closed when gone, new opened */
	cache_master_open(ncfg, &m->creds, m->pp.server_limit);
	balancer_attach(ncfg);		/* members known keep their state */
	prefork_manager_restart(m);	/* one for the new set of roots */
	conf_free(old);
	apply_params(m, m->pp.server_limit);
	m->generation++;
	scoreboard_set_generation(m->sb, m->generation);
	m->sb->restart_time = time(NULL);
	if (graceful)
		prefork_signal_all(m, SIGUSR1);	/* all of the old generation */
	m->spawn_rate = 1;
	m->reported_full = 0;
	(void)prefork_spawn(m, m->pp.start);
	resuming();
}

/* stop - TERM: every worker now, then the PidFile. */
static int
stop(struct gw_master *m, const char *why, int status)
{
	if (why != NULL)
		log_msg(GW_LOG_NOTICE, "%s", why);
	prefork_stop_children(m);
	cache_master_close();
	listen_close(m->cfg);
	pidfile_remove(m);
	return status;
}

/*
 * graceful_stop - WINCH: no more connections (listeners and PidFile
 * go), busy workers finish theirs for up to GracefulShutdownTimeout
 * (0: as long as they take), then stop() for the rest.  A TERM meanwhile
 * stops at once.
 */
static int
graceful_stop(struct gw_master *m, const sigset_t *orig)
{
	long long	 deadline = 0;
	int		 t = m->cfg->graceful_shutdown_timeout;

	log_msg(GW_LOG_NOTICE, "caught SIGWINCH, shutting down gracefully");
	pidfile_remove(m);
	listen_close(m->cfg);
	m->generation++;
	scoreboard_set_generation(m->sb, m->generation);
	prefork_signal_all(m, SIGUSR1);
	if (t > 0)
		deadline = now_ms() + (long long)t * 1000;
	for (;;) {
		prefork_reap(m);
		if (prefork_live(m) == 0 || sig_stop)
			break;
		if (deadline != 0 && now_ms() >= deadline) {
			log_msg(GW_LOG_WARN, "GracefulShutdownTimeout of %d s "
			    "exceeded, stopping the remaining workers", t);
			break;
		}
		/* a dead index may hold workers for good: no waiting then */
		cache_master_tick();
		if (cache_master_dead()) {
			log_msg(GW_LOG_WARN, "a cache index died, stopping "
			    "the remaining workers");
			break;
		}
		master_sleep(orig, 1000);
	}
	return stop(m, sig_stop ? "caught SIGTERM, shutting down" : NULL, 0);
}

/* master_loop - wake at least once a second: signals, reap, maintain. */
static int
master_loop(struct gw_master *m, const struct opts *o, const sigset_t *orig)
{
	long long	 last = now_ms(), now;

	for (;;) {
		now = now_ms();
		master_sleep(orig, (int)(last + 1000 - now));
		if (sig_stop)
			return stop(m, "caught SIGTERM, shutting down", 0);
		if (sig_gstop)
			return graceful_stop(m, orig);
		if (sig_restart || sig_graceful) {
			int graceful = !sig_restart;

			sig_restart = sig_graceful = 0;
			restart(m, o, graceful);
		}
		prefork_reap(m);
		if (m->child_fatal) {
			log_msg(GW_LOG_ALERT, "a worker of the current "
			    "generation could not start, shutting down");
			return stop(m, NULL, 1);
		}
		if ((now = now_ms()) - last >= 1000) {
			last = now;
			cache_master_tick();	/* failchk: never waits */
			if (cache_master_rebuild_due())
				prefork_cache_rebuild(m);
			prefork_manager(m);
			prefork_maintain(m);
			accesslog_maintain();
		}
	}
}

/* run_pool - the normal master: scoreboard, StartServers, the loop. */
static int
run_pool(struct gw_master *m, const struct opts *o)
{
	sigset_t	 orig;
	int		 status;

	if ((m->sb = scoreboard_create(m->pp.server_limit)) == NULL)
		fatal("cannot map the scoreboard (%d slots)",
		    m->pp.server_limit);
	if (health_create() == -1)
		fatal("cannot map the backend health table");
	if (balancer_create(m->pp.server_limit) == -1)
		fatal("cannot map the load balancer table");
	balancer_attach(m->cfg);
	master_signals(&orig);
	cache_master_open(m->cfg, &m->creds, m->pp.server_limit);
	m->spawn_rate = 1;
	(void)prefork_spawn(m, m->pp.start);
	prefork_manager(m);		/* the cache manager, if needed */
	resuming();
	log_set_tee(0);
	status = master_loop(m, o, &orig);
	scoreboard_destroy(m->sb);
	return status;
}

/* run_one_process - -X: this process serves connections itself. */
static int
run_one_process(struct gw_master *m)
{
	struct gw_worker	 w;
	int			 rc;

	memset(&w, 0, sizeof(w));
	w.cfg = m->cfg;
	w.slot = -1;
	worker_signals();
	cache_master_open(m->cfg, &m->creds, m->pp.server_limit);
	balancer_attach(m->cfg);	/* this process's own table */
	if (worker_drop_privileges(&m->creds) == -1)
		fatalx("cannot drop privileges");
	resuming();
	log_set_tee(0);
	rc = worker_run(&w);
	cache_master_close();
	log_msg(GW_LOG_NOTICE, "caught a signal, shutting down");
	listen_close(m->cfg);
	pidfile_remove(m);
	return rc == -1 ? 1 : 0;
}

/* run - everything after the command line; the exit status. */
static int
run(struct opts *o)
{
	struct gw_master	 m;
	int			 nerr = 0, status;

	memset(&m, 0, sizeof(m));
	m.pidfd = -1;
	m.cfg = conf_load(o->file, o->defines, o->ndefines, stderr, &nerr);
	if (m.cfg == NULL) {
		if (o->test)
			(void)fprintf(stderr, "%d error(s) in %s\n", nerr,
			    o->file);
		return 1;
	}
	if (o->test) {
		(void)conf_sanity(m.cfg, stderr);
		(void)fprintf(stderr, "Syntax OK\n");
		conf_free(m.cfg);
		return 0;
	}
	if (o->kcmd != NULL && strcmp(o->kcmd, "start") != 0) {
		status = signal_master(m.cfg, o->kcmd);
		conf_free(m.cfg);
		return status;
	}
	if ((m.pid_file = strdup(m.cfg->pid_file)) == NULL) {
		perror(GW_NAME);
		conf_free(m.cfg);
		return 1;
	}
	startup(&m, o);
	if (o->one_process)
		status = run_one_process(&m);
	else
		status = run_pool(&m, o);
	accesslog_close(accesslog_swap(NULL));
	conf_free(m.cfg);
	free(m.pid_file);
	log_close();
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts	 o;
	int		 status;

	parse_args(argc, argv, &o);
	absolute_file(&o);
	status = run(&o);
	free(o.file_abs);
	free(o.defines);
	return status;
}
