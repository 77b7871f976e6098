/*
 * worker.c - a worker's life (see worker.h): drop privileges, accept
 * one connection at a time, serve it, and exit after
 * MaxConnectionsPerChild connections, on a new generation (graceful
 * restart or stop), on SIGTERM, or when the master is gone.
 *
 * Until the proxy engine lands, worker_fixed_response answers every
 * request with a short text naming the worker; the timed I/O helpers
 * below will move to conn.c with it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#ifdef HAVE_SYS_EPOLL_H
#include <sys/epoll.h>
#endif
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "scoreboard.h"
#include "worker.h"

#define LINGER_MS	2000		/* lingering close, at most */
#define MAX_EVENTS	16

static volatile sig_atomic_t wk_die;	/* TERM, INT, HUP: stop now */
static volatile sig_atomic_t wk_retire;	/* USR1: stop when idle */
static struct gw_worker	*wk_self;	/* the running worker, for shed */
static int		 wk_shed;	/* listeners already closed */

/* What the fixed responder needs from a request head. */
struct req {
	int		 minor;		/* HTTP/1.minor */
	int		 is_head;
	int		 conn_close;
	int		 conn_keepalive;
	int		 has_body;
};

/* One client connection being served. */
struct conn {
	struct gw_worker *w;
	int		 fd;
	char		*buf;		/* w->buf */
	size_t		 len;		/* bytes in buf */
	unsigned	 nreq;		/* requests answered */
};

enum head_result {
	HEAD_OK,		/* a whole head is in the buffer */
	HEAD_CLOSED,		/* EOF, a signal, or idle keep-alive end */
	HEAD_TIMEOUT,		/* part of a head, then the deadline */
	HEAD_TOO_LONG,		/* request line over LimitRequestLine */
	HEAD_TOO_BIG,		/* head larger than the buffer */
	HEAD_ERROR		/* connection error */
};

static void
wk_signal(int sig)
{
	if (sig == SIGUSR1)
		wk_retire = 1;
	else
		wk_die = 1;
}

/* worker_signals - flags for TERM/INT/HUP (die) and USR1 (retire). */
void
worker_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 none;
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: accept gets EINTR */
	sa.sa_handler = wk_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			log_errno(GW_LOG_ERR, "sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGWINCH, &sa, NULL) == -1)
		log_errno(GW_LOG_ERR, "sigaction");
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		log_errno(GW_LOG_ERR, "sigaction");
	(void)sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		log_errno(GW_LOG_ERR, "sigprocmask");
}

/*
 * shed_listeners - once told to retire, stop holding the listening
 * sockets (Apache's stop_listening): after a graceful stop the kernel
 * then refuses new connections while this one finishes.  Not under -X,
 * where the process is the master and closes them itself.
 */
static void
shed_listeners(void)
{
	const struct gw_listen	*l;

	if (!wk_retire || wk_shed || wk_self == NULL || wk_self->master == 0)
		return;
	wk_shed = 1;
	for (l = wk_self->cfg->listeners; l != NULL; l = l->next)
		if (l->fd != -1)
			(void)close(l->fd);
}

/*--------------------------------------------------------------------
 * Privileges
 */

/* parse_id - "#123" into 123; -1 if not a valid number. */
static long
parse_id(const char *s)
{
	char	*end;
	long	 v;

	if (s[0] != '#' || !isdigit((unsigned char)s[1]))
		return -1;
	errno = 0;
	v = strtol(s + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX)
		return -1;
	return v;
}

static int
resolve_user(const char *user, struct gw_creds *cr, gid_t *pw_gid,
    char *err, size_t errlen)
{
	struct passwd	*pw;
	long		 id;

	if (user[0] == '#') {
		if ((id = parse_id(user)) == -1) {
			(void)snprintf(err, errlen, "bad User \"%s\"", user);
			return -1;
		}
		cr->uid = (uid_t)id;
		pw = getpwuid(cr->uid);
	} else if ((pw = getpwnam(user)) == NULL) {
		(void)snprintf(err, errlen, "bad User \"%s\": no such user",
		    user);
		return -1;
	} else
		cr->uid = pw->pw_uid;
	if (pw != NULL) {
		*pw_gid = pw->pw_gid;
		if ((size_t)snprintf(cr->name, sizeof(cr->name), "%s",
		    pw->pw_name) < sizeof(cr->name))
			cr->has_name = 1;
	} else
		*pw_gid = (gid_t)-1;
	return 0;
}

/*
 * worker_creds - who workers run as: nothing changes unless the master
 * runs as root; then User (default nobody) and Group (default nogroup,
 * else the user's primary group), names or Apache's #id.
 */
int
worker_creds(const struct gw_config *cfg, struct gw_creds *cr, char *err,
    size_t errlen)
{
	const char	*user, *group;
	struct group	*gr;
	gid_t		 pw_gid;
	long		 id;

	memset(cr, 0, sizeof(*cr));
	if (geteuid() != 0)
		return 0;
	cr->drop = 1;
	user = cfg->user != NULL ? cfg->user : "nobody";
	group = cfg->group != NULL ? cfg->group : "nogroup";
	if (resolve_user(user, cr, &pw_gid, err, errlen) == -1)
		return -1;
	if (group[0] == '#') {
		if ((id = parse_id(group)) == -1) {
			(void)snprintf(err, errlen, "bad Group \"%s\"", group);
			return -1;
		}
		cr->gid = (gid_t)id;
	} else if ((gr = getgrnam(group)) != NULL)
		cr->gid = gr->gr_gid;
	else if (cfg->group == NULL && pw_gid != (gid_t)-1)
		cr->gid = pw_gid;
	else {
		(void)snprintf(err, errlen, "bad Group \"%s\": no such group",
		    group);
		return -1;
	}
	if (cr->uid == 0)
		(void)snprintf(err, errlen, "workers will run as root "
		    "(User %s)", user);
	return 0;
}

/* worker_drop_privileges - groups, gid, uid; each step checked. */
int
worker_drop_privileges(const struct gw_creds *cr)
{
	if (!cr->drop)
		return 0;
	if (cr->has_name) {
		if (initgroups(cr->name, cr->gid) == -1) {
			log_errno(GW_LOG_ALERT, "initgroups: unable to set "
			    "groups for User %s and Group %lu", cr->name,
			    (unsigned long)cr->gid);
			return -1;
		}
	} else if (setgroups(1, &cr->gid) == -1) {
		log_errno(GW_LOG_ALERT, "setgroups: unable to set groups to "
		    "%lu", (unsigned long)cr->gid);
		return -1;
	}
	if (setgid(cr->gid) == -1) {
		log_errno(GW_LOG_ALERT, "setgid: unable to set group id to "
		    "%lu", (unsigned long)cr->gid);
		return -1;
	}
	if (setuid(cr->uid) == -1) {
		log_errno(GW_LOG_ALERT, "setuid: unable to change to uid %lu",
		    (unsigned long)cr->uid);
		return -1;
	}
	if (cr->uid != 0 && setuid(0) != -1) {
		log_msg(GW_LOG_ALERT, "setuid: root privileges could be "
		    "regained after dropping them");
		return -1;
	}
#if defined(GW_SANITIZERS) && defined(HAVE_SYS_PRCTL_H)
	/* LeakSanitizer reads /proc/self, which setuid made root's */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

/*--------------------------------------------------------------------
 * Worker life
 */

/* worker_main - after fork: shed the master's things, drop, serve, exit. */
void
worker_main(struct gw_worker *w, const struct gw_creds *cr, int closefd)
{
	int	 rc;

	if (closefd >= 0)
		(void)close(closefd);
	worker_signals();
	if (w->sb != NULL)
		scoreboard_set_pid(w->sb, w->slot, getpid());
	if (worker_drop_privileges(cr) == -1) {
		log_msg(GW_LOG_ALERT, "worker cannot drop privileges, "
		    "exiting");
		exit(WORKER_EXIT_FATAL);
	}
#ifdef HAVE_SYS_PRCTL_H
	/* after setuid, which clears the parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		log_errno(GW_LOG_WARN, "prctl(PR_SET_PDEATHSIG)");
#endif
	if (getppid() != w->master)
		exit(0);		/* the master died before prctl */
	rc = worker_run(w);
	exit(rc == -1 ? 1 : 0);
}

static void
set_state(struct gw_worker *w, enum sb_state st)
{
	if (w->sb != NULL)
		scoreboard_set_state(w->sb, w->slot, st);
}

/* should_stop - a reason to leave the accept loop, or NULL. */
static const char *
should_stop(const struct gw_worker *w)
{
	if (wk_die)
		return "signal";
	if (wk_retire)
		return "graceful";
	if (w->sb != NULL && scoreboard_generation(w->sb) != w->generation)
		return "new generation";
	if (w->master != 0 && getppid() != w->master)
		return "master gone";
	if (w->cfg->max_connections_per_child > 0 &&
	    w->connections >= (unsigned long)w->cfg->max_connections_per_child)
		return "MaxConnectionsPerChild";
	return NULL;
}

/*
 * accept_error - 0 to try again, -1 if the listener is unusable.  Out
 * of descriptors or memory is logged and waited out for a second.
 */
static int
accept_error(void)
{
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case ETIMEDOUT:
	case EPERM:
		return 0;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_errno(GW_LOG_ERR, "accept");
		(void)poll(NULL, 0, 1000);
		return 0;
	default:
		log_errno(GW_LOG_ERR, "accept: listener unusable");
		return -1;
	}
}

static int
accept_on(int lfd)
{
	int	 fd;

#ifdef HAVE_ACCEPT4
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	if ((fd = accept(lfd, NULL, NULL)) != -1 &&
	    (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)) {
		(void)close(fd);
		fd = -1;
	}
#endif
	return fd;
}

/*
 * accept_next - a new connection, or -1 (errno) after about a second.
 * One listener: a blocking accept, woken by SO_RCVTIMEO or a signal;
 * the kernel hands each connection to one waiter.  Several: epoll with
 * EPOLLEXCLUSIVE, then non-blocking accepts, EAGAIN tolerated.
 */
static int
accept_next(int epfd, int lfd)
{
#ifdef HAVE_SYS_EPOLL_H
	struct epoll_event	 ev[MAX_EVENTS];
	int			 i, n, fd;

	if (epfd != -1) {
		n = epoll_wait(epfd, ev, MAX_EVENTS, 1000);
		if (n == -1)
			return -1;
		for (i = 0; i < n; i++) {
			if ((fd = accept_on(ev[i].data.fd)) != -1)
				return fd;
			if (accept_error() == -1)
				return -2;
		}
		errno = EAGAIN;
		return -1;
	}
#else
	(void)epfd;
#endif
	return accept_on(lfd);
}

/* poll_setup - an epoll set over several listeners; -1 with one. */
static int
poll_setup(const struct gw_config *cfg, int *single)
{
	const struct gw_listen	*l;
	int			 n = 0, epfd = -1;
#ifdef HAVE_SYS_EPOLL_H
	struct epoll_event	 ev;
#endif

	*single = -1;
	for (l = cfg->listeners; l != NULL; l = l->next)
		if (l->fd != -1) {
			n++;
			*single = l->fd;
		}
	if (n <= 1)
		return n == 1 ? -1 : -2;
#ifdef HAVE_SYS_EPOLL_H
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_errno(GW_LOG_ALERT, "epoll_create1");
		return -2;
	}
	for (l = cfg->listeners; l != NULL; l = l->next) {
		if (l->fd == -1)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.fd = l->fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev) == -1) {
			log_errno(GW_LOG_ALERT, "epoll_ctl");
			(void)close(epfd);
			return -2;
		}
	}
#else
#error "several listeners need epoll (XXX: an accept lock elsewhere)"
#endif
	return epfd;
}

/* worker_run - the accept loop; -1 if it cannot go on. */
int
worker_run(struct gw_worker *w)
{
	const char	*why;
	int		 epfd, lfd, fd, rc = 0;
	char		*buf;

	if ((buf = malloc(WORKER_HEAD_MAX)) == NULL) {
		log_errno(GW_LOG_ALERT, "worker buffer");
		return -1;
	}
	if ((epfd = poll_setup(w->cfg, &lfd)) == -2) {
		log_msg(GW_LOG_ALERT, "worker has no usable listener");
		free(buf);
		return -1;
	}
	w->buf = buf;
	wk_self = w;
	while ((why = should_stop(w)) == NULL) {
		set_state(w, SB_READY);
		if ((fd = accept_next(epfd, lfd)) < 0) {
			if (fd == -2 || accept_error() == -1) {
				rc = -1;
				break;
			}
			continue;
		}
		w->connections++;
		if (w->sb != NULL)
			w->sb->slots[w->slot].connections++;
		set_state(w, SB_BUSY);
		worker_fixed_response(w, fd);
	}
	if (why != NULL)
		log_msg(GW_LOG_DEBUG, "worker exiting: %s after %lu "
		    "connection(s)", why, w->connections);
	set_state(w, SB_GRACEFUL);
	if (epfd >= 0)
		(void)close(epfd);
	w->buf = NULL;
	wk_self = NULL;
	free(buf);
	return rc;
}

/*--------------------------------------------------------------------
 * Timed I/O (moves to conn.c with the proxy engine)
 */

static int
deadline_set(struct timespec *d, int ms)
{
	if (clock_gettime(CLOCK_MONOTONIC, d) == -1)
		return -1;
	d->tv_sec += ms / 1000;
	d->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (d->tv_nsec >= 1000000000L) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000L;
	}
	return 0;
}

/* ms_left - milliseconds until the deadline, at least 0. */
static int
ms_left(const struct timespec *d)
{
	struct timespec	 now;
	long long	 ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (long long)(d->tv_sec - now.tv_sec) * 1000 +
	    (d->tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * wait_io - poll fd for events until the deadline: 0 ready, -1 with
 * errno ETIMEDOUT, or EINTR when told to die.
 */
static int
wait_io(int fd, short events, const struct timespec *deadline)
{
	struct pollfd	 pfd;
	int		 ms, n;

	for (;;) {
		if (wk_die) {
			errno = EINTR;
			return -1;
		}
		if ((ms = ms_left(deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
		shed_listeners();
	}
}

/* timed_read - some bytes (>0), 0 at EOF, -1 with errno. */
static ssize_t
timed_read(int fd, void *buf, size_t len, const struct timespec *deadline)
{
	ssize_t	 n;

	for (;;) {
		if ((n = recv(fd, buf, len, 0)) >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (wait_io(fd, POLLIN, deadline) == -1)
			return -1;
	}
}

/* timed_write - all of buf before the deadline, or -1. */
static int
timed_write(int fd, const char *buf, size_t len,
    const struct timespec *deadline)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (wait_io(fd, POLLOUT, deadline) == -1)
			return -1;
	}
	return 0;
}

/*--------------------------------------------------------------------
 * The fixed responder (replaced by the proxy engine)
 */

/* head_end - length of the head if buf holds a blank line, else 0. */
static size_t
head_end(const char *buf, size_t len, size_t from)
{
	size_t	 i;

	for (i = from; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/*
 * read_head - fill the buffer until it holds a whole request head,
 * within timeout_s seconds.  Leading blank lines are skipped.
 */
static enum head_result
read_head(struct conn *c, int timeout_s, size_t *headlen)
{
	struct timespec	 deadline;
	size_t		 scanned = 0, line_max;
	ssize_t		 n;

	line_max = (size_t)c->w->cfg->limit_request_line + 2;
	if (deadline_set(&deadline, timeout_s * 1000) == -1)
		return HEAD_ERROR;
	for (;;) {
		while (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n')) {
			memmove(c->buf, c->buf + 1, --c->len);
			scanned = 0;
		}
		if ((*headlen = head_end(c->buf, c->len, scanned)) > 0)
			return HEAD_OK;
		scanned = c->len > 2 ? c->len - 2 : 0;
		if (c->len > line_max && memchr(c->buf, '\n', line_max) == NULL)
			return HEAD_TOO_LONG;
		if (c->len == WORKER_HEAD_MAX)
			return HEAD_TOO_BIG;
		n = timed_read(c->fd, c->buf + c->len, WORKER_HEAD_MAX - c->len,
		    &deadline);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || errno == EINTR)
			return c->len == 0 ? HEAD_CLOSED : HEAD_ERROR;
		if (errno == ETIMEDOUT)
			return c->len == 0 ? HEAD_CLOSED : HEAD_TIMEOUT;
		return HEAD_ERROR;
	}
}

/* line_len - length of the line at p (without CR LF), *next after it. */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char	*nl;
	size_t		 n;

	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		nl = end;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	*next = nl < end ? nl + 1 : end;
	return n;
}

static int
is_tchar(int ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/* parse_request_line - "METHOD SP target SP HTTP/1.x"; 0 or a status. */
static int
parse_request_line(const char *p, size_t n, struct req *r)
{
	const char	*end = p + n, *sp;
	size_t		 mlen;

	for (mlen = 0; mlen < n && is_tchar((unsigned char)p[mlen]); mlen++)
		continue;
	if (mlen == 0 || mlen >= n || p[mlen] != ' ')
		return 400;
	r->is_head = mlen == 4 && memcmp(p, "HEAD", 4) == 0;
	p += mlen + 1;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL || sp == p)
		return 400;
	for (; p < sp; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 400;
	p = sp + 1;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)p[5]) || p[6] != '.' ||
	    !isdigit((unsigned char)p[7]))
		return 400;
	if (p[5] != '1')
		return 505;
	r->minor = p[7] - '0';
	return 0;
}

/* has_token - does the comma list v contain token t (any case)? */
static int
has_token(const char *v, size_t n, const char *t)
{
	size_t	 tl = strlen(t), i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, t, tl) == 0)
			return 1;
	}
	return 0;
}

/* parse_field - one "name: value" line into r; 0 or a status. */
static int
parse_field(const char *p, size_t n, struct req *r)
{
	const char	*colon, *v;
	size_t		 nl, vl, i;

	if (p[0] == ' ' || p[0] == '\t')
		return 400;		/* obs-fold */
	if ((colon = memchr(p, ':', n)) == NULL || colon == p)
		return 400;
	nl = (size_t)(colon - p);
	for (i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)p[i]))
			return 400;
	v = colon + 1;
	vl = n - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
		r->conn_close |= has_token(v, vl, "close");
		r->conn_keepalive |= has_token(v, vl, "keep-alive");
	} else if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		if (vl == 0)
			return 400;
		for (i = 0; i < vl; i++)
			if (!isdigit((unsigned char)v[i]))
				return 400;
			else if (v[i] != '0')
				r->has_body = 1;
	} else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0)
		r->has_body = 1;
	return 0;
}

/*
 * parse_head - the little the fixed responder needs, with Apache's
 * limits: LimitRequestLine (414), LimitRequestFieldSize and
 * LimitRequestFields (400).  Returns 0 or an HTTP status.
 */
static int
parse_head(const struct gw_config *cfg, const char *buf, size_t len,
    struct req *r)
{
	const char	*p = buf, *end = buf + len, *next;
	size_t		 n;
	int		 status, nfields = 0;

	memset(r, 0, sizeof(*r));
	n = line_len(p, end, &next);
	if (n > (size_t)cfg->limit_request_line)
		return 414;
	if ((status = parse_request_line(p, n, r)) != 0)
		return status;
	for (p = next; p < end; p = next) {
		if ((n = line_len(p, end, &next)) == 0)
			break;		/* the blank line */
		if (n > (size_t)cfg->limit_request_field_size)
			return 400;
		if (cfg->limit_request_fields > 0 &&
		    ++nfields > cfg->limit_request_fields)
			return 400;
		if ((status = parse_field(p, n, r)) != 0)
			return status;
	}
	return 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 408: return "Request Timeout";
	case 414: return "Request-URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/*
 * send_response - status line, headers and body in one write, with a
 * Timeout deadline.  keepalive > 0 is the number of requests the
 * connection may still carry (-1: no limit); 0 closes it.
 */
static int
send_response(struct conn *c, int status, int minor, int keepalive,
    const char *body, int with_body)
{
	const struct gw_config	*cfg = c->w->cfg;
	struct timespec		 deadline;
	struct tm		 tm;
	time_t			 now = time(NULL);
	char			 out[1024], date[64], ka[96];
	size_t			 blen = strlen(body);
	int			 n;

	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof(date),
	    "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	if (keepalive == 0)
		n = snprintf(ka, sizeof(ka), "Connection: close\r\n");
	else if (keepalive < 0)
		n = snprintf(ka, sizeof(ka), "Keep-Alive: timeout=%d\r\n"
		    "Connection: Keep-Alive\r\n", cfg->keepalive_timeout);
	else
		n = snprintf(ka, sizeof(ka), "Keep-Alive: timeout=%d, max=%d"
		    "\r\nConnection: Keep-Alive\r\n", cfg->keepalive_timeout,
		    keepalive);
	if (n < 0 || (size_t)n >= sizeof(ka))
		return -1;
	(void)minor;			/* Apache answers HTTP/1.1 to 1.0 too */
	n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Server: %s/%s\r\nContent-Length: %zu\r\n%s"
	    "Content-Type: text/plain\r\n\r\n%s", status, reason(status), date,
	    GW_NAME, PACKAGE_VERSION, blen, ka, with_body ? body : "");
	if (n < 0 || (size_t)n >= sizeof(out))
		return -1;
	if (deadline_set(&deadline, cfg->timeout * 1000) == -1 ||
	    timed_write(c->fd, out, (size_t)n, &deadline) == -1)
		return -1;
	if (c->w->sb != NULL)
		c->w->sb->slots[c->w->slot].bytes += (unsigned long)n;
	return 0;
}

static void
send_error(struct conn *c, int status)
{
	char	 body[64];

	(void)snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	(void)send_response(c, status, 1, 0, body, 1);
}

/*
 * keepalive_left - may the connection carry another request after
 * this one?  0 no; -1 without limit; else how many more.
 */
static int
keepalive_left(const struct conn *c, const struct req *r)
{
	const struct gw_config	*cfg = c->w->cfg;
	int			 max = cfg->max_keepalive_requests;

	shed_listeners();
	if (!cfg->keepalive || r->conn_close || r->has_body || wk_die ||
	    wk_retire)
		return 0;
	if (c->w->sb != NULL &&
	    scoreboard_generation(c->w->sb) != c->w->generation)
		return 0;
	if (r->minor == 0 && !r->conn_keepalive)
		return 0;
	if (max <= 0)
		return -1;
	if (c->nreq >= (unsigned)max)
		return 0;
	return max - (int)c->nreq;
}

/* lingering_close - half-close, then drain what the client still sends. */
static void
lingering_close(struct conn *c)
{
	struct timespec	 deadline;

	set_state(c->w, SB_CLOSING);
	if (shutdown(c->fd, SHUT_WR) == -1 ||
	    deadline_set(&deadline, LINGER_MS) == -1)
		return;
	while (timed_read(c->fd, c->buf, WORKER_HEAD_MAX, &deadline) > 0)
		continue;
}

/* answer - serve the head at the start of the buffer; keep-alive left. */
static int
answer(struct conn *c, size_t headlen)
{
	struct req	 r;
	char		 body[128];
	int		 status, ka;

	c->nreq++;
	if ((status = parse_head(c->w->cfg, c->buf, headlen, &r)) != 0) {
		send_error(c, status);
		return 0;
	}
	ka = keepalive_left(c, &r);
	(void)snprintf(body, sizeof(body), "%s worker pid %ld\n", GW_NAME,
	    (long)getpid());
	if (send_response(c, 200, r.minor, ka, body, !r.is_head) == -1)
		return 0;
	if (c->w->sb != NULL)
		c->w->sb->slots[c->w->slot].requests++;
	return ka;
}

/*
 * worker_fixed_response - serve one connection: read each request head
 * with a deadline (Timeout for the first, KeepAliveTimeout between
 * requests), answer 200 with a short text naming this worker, keep the
 * connection as KeepAlive, MaxKeepAliveRequests, "Connection: close"
 * and HTTP/1.0 allow, and close it (lingering) after a request with a
 * body or an error.  Closes fd.
 */
void
worker_fixed_response(struct gw_worker *w, int fd)
{
	struct conn	 c;
	size_t		 headlen;
	int		 one = 1, keep;

	memset(&c, 0, sizeof(c));
	c.w = w;
	c.fd = fd;
	c.buf = w->buf;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_errno(GW_LOG_DEBUG, "setsockopt(TCP_NODELAY)");
	for (;;) {
		set_state(w, c.nreq == 0 ? SB_BUSY : SB_KEEPALIVE);
		switch (read_head(&c, c.nreq == 0 ? w->cfg->timeout :
		    w->cfg->keepalive_timeout, &headlen)) {
		case HEAD_OK:
			break;
		case HEAD_TIMEOUT:
			send_error(&c, 408);
			goto linger;
		case HEAD_TOO_LONG:
			send_error(&c, 414);
			goto linger;
		case HEAD_TOO_BIG:
			send_error(&c, 431);
			goto linger;
		case HEAD_CLOSED:
		case HEAD_ERROR:
			goto done;
		}
		set_state(w, SB_BUSY);
		keep = answer(&c, headlen);
		if (keep == 0)
			goto linger;
		c.len -= headlen;
		memmove(c.buf, c.buf + headlen, c.len);
	}
linger:
	lingering_close(&c);
done:
	if (close(fd) == -1)
		log_errno(GW_LOG_DEBUG, "close");
}
