/*
 * worker.c - a worker's life (see worker.h): drop privileges, accept
 * one connection at a time, serve it, and exit after
 * MaxConnectionsPerChild connections, on a new generation (graceful
 * restart or stop), on SIGTERM, or when the master is gone.
 *
 * Each connection is handed to the proxy engine (proxy_serve), after
 * the TLS handshake (tls_accept) where the server has SSLEngine on.
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

#include "accesslog.h"
#include "cache.h"
#include "conn.h"
#include "log.h"
#include "proxy.h"
#include "scoreboard.h"
#include "tls.h"
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
	/* SIGXFSZ: a file over RLIMIT_FSIZE is a failed write (EFBIG),
	   which drops a cache store, not the worker */
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGWINCH, &sa, NULL) == -1 ||
	    sigaction(SIGXFSZ, &sa, NULL) == -1)
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
	accesslog_child();
	cache_child();
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

	/* blocking: conn.c waits with SO_RCVTIMEO/SO_SNDTIMEO deadlines */
#ifdef HAVE_ACCEPT4
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
#else
	if ((fd = accept(lfd, NULL, NULL)) != -1 &&
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
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

	if ((buf = malloc(WORKER_HEAD_MAX)) == NULL || proxy_init() == -1) {
		log_errno(GW_LOG_ALERT, "worker buffers");
		free(buf);
		return -1;
	}
	conn_set_intr_hook(shed_listeners);
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
		/* TLS first, where the address's server has SSLEngine on */
		if (tls_accept(w->cfg, fd, w->cfg->timeout * 1000, &wk_die,
		    &w->ssl) == -1) {
			(void)close(fd);
			continue;
		}
		proxy_serve(w, fd, &wk_die, &wk_retire);
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
	proxy_fini();
	return rc;
}
