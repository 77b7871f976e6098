/*
 * log.c - the error log (see log.h).
 *
 * One process-wide log target, opened by the master as root and
 * inherited by every worker.  Each line is formatted into one buffer
 * and written with a single write(2), so lines from several processes
 * do not interleave (O_APPEND file, or a pipe write of at most
 * PIPE_BUF).  The access log is not here yet.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	4096		/* one log line, truncated beyond */
#define LOG_SPEC_MAX	(PATH_MAX + 64)

enum log_kind { LK_STDERR, LK_FILE, LK_SYSLOG, LK_PIPE };

static struct {
	enum log_kind	 kind;
	int		 fd;		/* file or pipe write end */
	pid_t		 pipe_pid;	/* piped logger */
	enum gw_loglevel level;
	int		 tee;		/* copy errors to stderr */
	char		 spec[LOG_SPEC_MAX];
} lg = { LK_STDERR, STDERR_FILENO, -1, GW_LOG_WARN, 0, "" };

static const char *const level_names[] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
	"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7",
	"trace8"
};

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON }, { "ftp", LOG_FTP },
	{ "kern", LOG_KERN }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { "lpr", LOG_LPR }, { "mail", LOG_MAIL },
	{ "news", LOG_NEWS }, { "syslog", LOG_SYSLOG }, { "user", LOG_USER },
	{ "uucp", LOG_UUCP }
};

static void	 log_vmsg(enum gw_loglevel, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

const char *
log_level_name(enum gw_loglevel level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

/* syslog_priority - map an Apache level onto a syslog priority. */
static log_divert_fn	 divert;
static void		*divert_arg;
static int		 diverting;	/* a message of the divert's own */

static int		 request_level = -1;

void
log_set_request_level(int level)
{
	request_level = level;
}

void
log_set_divert(log_divert_fn fn, void *arg)
{
	divert = fn;
	divert_arg = arg;
}

static int
syslog_priority(enum gw_loglevel level)
{
	static const int map[] = { LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR,
	    LOG_WARNING, LOG_NOTICE, LOG_INFO };

	if ((unsigned)level < sizeof(map) / sizeof(map[0]))
		return map[level];
	return LOG_DEBUG;
}

int
log_syslog_priority(enum gw_loglevel level)
{
	return syslog_priority(level);
}

static int
parse_facility(const char *name, int *facility)
{
	size_t	 i;

	if (*name == '\0') {
		*facility = LOG_LOCAL7;		/* Apache's default */
		return 0;
	}
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0) {
			*facility = facilities[i].facility;
			return 0;
		}
	return -1;
}

/* write_all - write a whole line, waiting at most a second on a pipe. */
static void
write_all(int fd, const char *buf, size_t len)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 waited = 0;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || waited)
			return;		/* nowhere left to report it */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 1000);
		waited = 1;
	}
}

/* spawn_logger - start "|command" with its stdin on a new pipe. */
static int
spawn_logger(const char *cmd, int *fdp, pid_t *pidp)
{
	sigset_t none;
	int	 pfd[2], fd;
	pid_t	 pid;

	if (pipe(pfd) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		(void)sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(pfd[0], STDIN_FILENO) == -1)
			_exit(127);
		for (fd = 3; fd < 1024; fd++)
			(void)close(fd);
		(void)signal(SIGPIPE, SIG_DFL);
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGHUP, SIG_IGN);	/* survives restarts */
		(void)signal(SIGUSR1, SIG_IGN);
		(void)signal(SIGWINCH, SIG_IGN);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	(void)close(pfd[0]);
	if (fcntl(pfd[1], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(pfd[1], F_SETFL, O_NONBLOCK) == -1) {
		(void)close(pfd[1]);
		(void)kill(pid, SIGTERM);
		return -1;
	}
	*fdp = pfd[1];
	*pidp = pid;
	return 0;
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* close_target - release the current target (not stderr). */
static void
close_target(void)
{
	switch (lg.kind) {
	case LK_FILE:
	case LK_PIPE:
		(void)close(lg.fd);	/* a piped logger sees EOF and exits */
		break;
	case LK_SYSLOG:
		closelog();
		break;
	case LK_STDERR:
		break;
	}
	lg.kind = LK_STDERR;
	lg.fd = STDERR_FILENO;
	lg.pipe_pid = -1;
}

int
log_open(const char *spec, enum gw_loglevel level)
{
	int	 fd = -1, facility = LOG_LOCAL7;
	pid_t	 pid = -1;
	enum log_kind kind;

	if (strlen(spec) >= sizeof(lg.spec)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (strcmp(spec, lg.spec) == 0 && lg.kind != LK_STDERR) {
		lg.level = level;
		return log_reopen();
	}
	if (strncmp(spec, "syslog", 6) == 0 &&
	    (spec[6] == '\0' || spec[6] == ':')) {
		if (parse_facility(spec[6] ? spec + 7 : "", &facility) == -1) {
			errno = EINVAL;
			return -1;
		}
		kind = LK_SYSLOG;
	} else if (spec[0] == '|') {
		if (spawn_logger(spec + (spec[1] == '$' ? 2 : 1), &fd,
		    &pid) == -1)
			return -1;
		kind = LK_PIPE;
	} else {
		if ((fd = open_file(spec)) == -1)
			return -1;
		kind = LK_FILE;
	}
	close_target();
	if (kind == LK_SYSLOG)
		openlog(GW_NAME, LOG_PID | LOG_NDELAY, facility);
	lg.kind = kind;
	lg.fd = fd;
	lg.pipe_pid = pid;
	lg.level = level;
	(void)snprintf(lg.spec, sizeof(lg.spec), "%s", spec); /* fits */
	return 0;
}

int
log_reopen(void)
{
	int	 fd;

	if (lg.kind != LK_FILE)
		return 0;
	if ((fd = open_file(lg.spec)) == -1)
		return -1;
	if (dup2(fd, lg.fd) == -1) {
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	/* dup2 clears close-on-exec on the target descriptor */
	(void)fcntl(lg.fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

void
log_close(void)
{
	close_target();
	lg.spec[0] = '\0';
}

int
log_reap(pid_t pid, int status)
{
	int	 fd;
	pid_t	 npid;

	if (lg.kind != LK_PIPE || pid != lg.pipe_pid)
		return 0;
	(void)status;
	if (spawn_logger(lg.spec + (lg.spec[1] == '$' ? 2 : 1), &fd,
	    &npid) == -1) {
		close_target();
		log_errno(GW_LOG_ERR, "cannot restart piped logger \"%s\"",
		    lg.spec);
		return 1;
	}
	/* keep the descriptor number the workers know */
	if (dup2(fd, lg.fd) == -1) {
		(void)close(lg.fd);
		lg.fd = fd;
	} else {
		(void)close(fd);
		(void)fcntl(lg.fd, F_SETFD, FD_CLOEXEC);
	}
	lg.pipe_pid = npid;
	log_msg(GW_LOG_WARN, "piped logger \"%s\" (pid %ld) exited, "
	    "restarted as pid %ld", lg.spec, (long)pid, (long)npid);
	return 1;
}

void
log_set_level(enum gw_loglevel level)
{
	lg.level = level;
}

enum gw_loglevel
log_get_level(void)
{
	return lg.level;
}

void
log_set_tee(int on)
{
	lg.tee = on;
}

int
log_fd(void)
{
	return lg.kind == LK_SYSLOG ? -1 : lg.fd;
}

/* format_stamp - "[Thu Nov 26 15:25:40.123456 2026] " */
static size_t
format_stamp(char *buf, size_t len)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 a[32], y[8];
	int		 n;

	if (gettimeofday(&tv, NULL) == -1 ||
	    localtime_r(&tv.tv_sec, &tm) == NULL)
		return 0;
	if (strftime(a, sizeof(a), "%a %b %d %H:%M:%S", &tm) == 0 ||
	    strftime(y, sizeof(y), "%Y", &tm) == 0)
		return 0;
	n = snprintf(buf, len, "[%s.%06ld %s] ", a, (long)tv.tv_usec, y);
	if (n < 0 || (size_t)n >= len)
		return 0;
	return (size_t)n;
}

static void
log_vmsg(enum gw_loglevel level, int err, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	size_t	 off, msgoff;
	int	 n;

	if (level != GW_LOG_NOTICE && (int)level > (request_level >= 0 ?
	    request_level : (int)lg.level))
		return;
	off = format_stamp(line, sizeof(line));
	n = snprintf(line + off, sizeof(line) - off, "[%s] [pid %ld] ",
	    log_level_name(level), (long)getpid());
	if (n > 0 && (size_t)n < sizeof(line) - off)
		off += (size_t)n;
	msgoff = off;
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (n > 0)
		off += (size_t)n < sizeof(line) - off ? (size_t)n :
		    sizeof(line) - off - 1;
	if (err != 0 && off < sizeof(line) - 1) {
		n = snprintf(line + off, sizeof(line) - off, ": %s",
		    strerror(err));
		if (n > 0)
			off += (size_t)n < sizeof(line) - off ? (size_t)n :
			    sizeof(line) - off - 1;
	}
	if (off >= sizeof(line) - 1)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	line[off] = '\0';

	if (divert != NULL && !diverting) {
		diverting = 1;
		n = divert(divert_arg, level, line, off, line + msgoff);
		diverting = 0;
	} else
		n = 0;
	if (n == 1)
		;			/* the virtual host's own log */
	else if (lg.kind == LK_SYSLOG)
		syslog(syslog_priority(level), "%s", line + msgoff);
	else
		write_all(lg.fd, line, off);
	if (lg.tee && level <= GW_LOG_ERR && lg.kind != LK_STDERR &&
	    lg.fd != STDERR_FILENO) {
		(void)fprintf(stderr, "%s: %s", GW_NAME, line + msgoff);
		(void)fflush(stderr);
	}
}

void
log_msg(enum gw_loglevel level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

void
log_errno(enum gw_loglevel level, const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	log_vmsg(level, err, fmt, ap);
	va_end(ap);
	errno = err;
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	log_vmsg(GW_LOG_EMERG, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(GW_LOG_EMERG, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
