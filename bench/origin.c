/*
 * origin.c - a small, fast origin server for benchmarks (bench/run).
 *
 * usage: origin [-n procs] [-T seconds] -l host:port
 *
 * One epoll loop per process over non-blocking sockets, keep-alive and
 * pipelining.  -n gives the number of processes (default 1; 0 is one per
 * online CPU); each listens on host:port with SO_REUSEPORT and the kernel
 * spreads connections among them.  Once all listen, prints
 * "listening on host:port" on stdout (the real port when 0 was asked).
 * -T stops it after that many seconds, a safety net for scripts; else it
 * runs until SIGTERM or SIGINT.
 *
 * Resources (any method; HEAD gets the head only):
 *	/		a small text body
 *	/size/N		N bytes (N <= 1 GiB), sent from one static buffer
 *	/stats		"connections C\nrequests R\n": totals of every
 *			process since start (/stats itself not counted)
 *	anything else	404
 * Request bodies with Content-Length are read and dropped; a chunked
 * request body gets 501 and the connection is closed.
 *
 * Nothing is allocated per connection or per request: connection slots
 * (indexed by descriptor) and the body buffer are allocated at start.
 * Built by bench/run with cc -O2; not part of the project's build and
 * links nothing of gatewayd.
 */
#define _GNU_SOURCE

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define INBUF		8192		/* request head limit per connection */
#define HEADBUF		256		/* response head */
#define BODYBUF		(1024 * 1024)	/* static body; larger N cycle it */
#define MAX_SIZE	(1024LL * 1024 * 1024)
#define MAX_SLOTS	65536		/* connection slots per process */
#define MAX_PROCS	256
#define NEVENTS		256

struct conn {
	int		 fd;
	int		 open;		/* 0: a free slot */
	int		 want_out;	/* registered for EPOLLOUT */
	int		 close_after;	/* close once the response is out */
	size_t		 inoff, inlen;	/* unparsed bytes: in[inoff..inlen) */
	long long	 discard;	/* request body bytes still to drop */
	size_t		 headoff, headlen;	/* response head in head[] */
	long long	 bodyoff, bodylen;	/* response body, from body[] */
	char		 head[HEADBUF];
	char		 in[INBUF];
};

struct counters {
	unsigned long long	 conns;
	unsigned long long	 reqs;
	char			 pad[48];	/* a cache line each */
};

static struct conn		*conns;
static int			 nslots;
static int			 ep;
static int			 lfd;
static char			*body;
static struct counters		*stats;		/* shared, one per process */
static struct counters		*mine;
static int			 nprocs = 1;
static volatile sig_atomic_t	 stop;
static char			 datehdr[64];
static time_t			 datewhen;

static const char small_body[] = "Hello from the gatewayd bench origin.\n";

static void __attribute__((noreturn))
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* update_date - keep the Date header text current, once a second. */
static void
update_date(void)
{
	time_t		 now = time(NULL);
	struct tm	 tm;

	if (now == datewhen)
		return;
	datewhen = now;
	(void)gmtime_r(&now, &tm);
	(void)strftime(datehdr, sizeof(datehdr),
	    "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

/* open_listener - a non-blocking SO_REUSEPORT listener on host:port. */
static int
open_listener(const char *host, const char *port)
{
	struct addrinfo	 hints, *res;
	int		 fd, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "origin: %s:%s: %s\n", host, port,
		    gai_strerror(rc));
		exit(1);
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		die("setsockopt");
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		die("bind");
	if (listen(fd, 4096) == -1)
		die("listen");
	freeaddrinfo(res);
	return fd;
}

static void
conn_close(struct conn *c)
{
	(void)close(c->fd);
	c->open = 0;
}

static int
set_events(struct conn *c, unsigned ev)
{
	struct epoll_event	 e;

	e.events = ev;
	e.data.fd = c->fd;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) == -1) {
		conn_close(c);
		return -1;
	}
	c->want_out = (ev & EPOLLOUT) != 0;
	return 0;
}

/*
 * flush - write what is pending.  0: all out (connection kept),
 * 1: the socket is full (waiting for EPOLLOUT), -1: closed.
 */
static int
flush(struct conn *c)
{
	struct iovec	 iov[2];
	ssize_t		 n;
	int		 niov;
	size_t		 off, len;

	while (c->headoff < c->headlen || c->bodyoff < c->bodylen) {
		niov = 0;
		if (c->headoff < c->headlen) {
			iov[niov].iov_base = c->head + c->headoff;
			iov[niov].iov_len = c->headlen - c->headoff;
			niov++;
		}
		if (c->bodyoff < c->bodylen) {
			off = (size_t)(c->bodyoff % BODYBUF);
			len = BODYBUF - off;
			if ((long long)len > c->bodylen - c->bodyoff)
				len = (size_t)(c->bodylen - c->bodyoff);
			iov[niov].iov_base = body + off;
			iov[niov].iov_len = len;
			niov++;
		}
		n = writev(c->fd, iov, niov);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!c->want_out &&
				    set_events(c, EPOLLOUT) == -1)
					return -1;
				return 1;
			}
			conn_close(c);
			return -1;
		}
		if ((size_t)n <= c->headlen - c->headoff) {
			c->headoff += (size_t)n;
		} else {
			n -= (ssize_t)(c->headlen - c->headoff);
			c->headoff = c->headlen;
			c->bodyoff += n;
		}
	}
	c->headoff = c->headlen = 0;
	c->bodyoff = c->bodylen = 0;
	if (c->close_after) {
		conn_close(c);
		return -1;
	}
	if (c->want_out && set_events(c, EPOLLIN) == -1)
		return -1;
	return 0;
}

/* respond - set up a response head (and body length) in c. */
static void
respond(struct conn *c, int status, const char *reason, const char *type,
    long long len, int head_only, int ka10)
{
	int	 n;

	update_date();
	n = snprintf(c->head, sizeof(c->head),
	    "HTTP/1.1 %d %s\r\nServer: bench-origin\r\n%s"
	    "Content-Type: %s\r\nContent-Length: %lld\r\n%s\r\n",
	    status, reason, datehdr, type, len,
	    c->close_after ? "Connection: close\r\n" :
	    ka10 ? "Connection: keep-alive\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(c->head))
		n = 0;		/* cannot happen with these arguments */
	c->headoff = 0;
	c->headlen = (size_t)n;
	c->bodyoff = 0;
	c->bodylen = head_only ? 0 : len;
}

/* header_is - does the header line at p (length n) have this name? */
static const char *
header_is(const char *p, size_t n, const char *name)
{
	size_t	 k = strlen(name);

	if (n <= k || p[k] != ':' || strncasecmp(p, name, k) != 0)
		return NULL;
	p += k + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* has_token - does the header value v (up to end) contain word? */
static int
has_token(const char *v, const char *end, const char *word)
{
	size_t	 k = strlen(word);

	for (; v + k <= end; v++)
		if (strncasecmp(v, word, k) == 0)
			return 1;
	return 0;
}

/*
 * handle - set up the answer to the request whose head is p[0..n)
 * (CRLFCRLF included).  A head it cannot use gets 400 and a close.
 */
static void
handle(struct conn *c, const char *p, size_t n)
{
	const char	*end = p + n, *eol, *sp1, *sp2, *v, *path;
	size_t		 plen;
	int		 http10, head_only, ka10 = 0, conn_close_hdr = 0;
	int		 conn_ka = 0, chunked = 0;
	long long	 clen = 0, size;
	char		*q;

	eol = memchr(p, '\r', n);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) :
	    NULL;
	if (sp1 == NULL || sp2 == NULL) {
		c->close_after = 1;
		respond(c, 400, "Bad Request", "text/plain", 0, 0, 0);
		return;
	}
	http10 = eol - sp2 - 1 == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
	head_only = sp1 - p == 4 && memcmp(p, "HEAD", 4) == 0;
	path = sp1 + 1;
	plen = (size_t)(sp2 - path);

	/* headers: Connection, Content-Length, Transfer-Encoding */
	for (p = eol + 2; p < end - 2; p = eol + 2) {
		eol = memchr(p, '\r', (size_t)(end - p));
		if ((v = header_is(p, (size_t)(eol - p), "Connection"))) {
			conn_close_hdr |= has_token(v, eol, "close");
			conn_ka |= has_token(v, eol, "keep-alive");
		} else if ((v = header_is(p, (size_t)(eol - p),
		    "Content-Length")))
			clen = strtoll(v, NULL, 10);
		else if (header_is(p, (size_t)(eol - p), "Transfer-Encoding"))
			chunked = 1;
	}
	if (http10) {
		if (conn_ka && !conn_close_hdr)
			ka10 = 1;
		else
			conn_close_hdr = 1;
	}
	c->close_after = conn_close_hdr;
	if (chunked || clen < 0) {
		c->close_after = 1;
		respond(c, 501, "Not Implemented", "text/plain", 0, 0, 0);
		return;
	}
	c->discard = clen;

	if (plen == 6 && memcmp(path, "/stats", 6) == 0) {
		/* the totals; the body goes into head[] after the head */
		unsigned long long	 tc = 0, tr = 0;
		char			 txt[96];
		int			 i, k;

		for (i = 0; i < nprocs; i++) {
			tc += stats[i].conns;
			tr += stats[i].reqs;
		}
		k = snprintf(txt, sizeof(txt), "connections %llu\nrequests "
		    "%llu\n", tc, tr);
		c->close_after = 1;
		respond(c, 200, "OK", "text/plain", k, 1, 0);
		if (!head_only && c->headlen + (size_t)k < sizeof(c->head)) {
			memcpy(c->head + c->headlen, txt, (size_t)k);
			c->headlen += (size_t)k;
		}
		return;
	}
	mine->reqs++;
	if (plen == 1 && path[0] == '/') {
		respond(c, 200, "OK", "text/plain", sizeof(small_body) - 1,
		    head_only, ka10);
		/* small: the body goes into head[] for a single write */
		if (c->bodylen > 0) {
			memcpy(c->head + c->headlen, small_body,
			    sizeof(small_body) - 1);
			c->headlen += sizeof(small_body) - 1;
			c->bodylen = 0;
		}
		return;
	}
	if (plen > 6 && memcmp(path, "/size/", 6) == 0 &&
	    path[6] >= '0' && path[6] <= '9') {
		size = strtoll(path + 6, &q, 10);
		if ((q == sp2 || *q == '?') && size >= 0 && size <= MAX_SIZE) {
			respond(c, 200, "OK", "application/octet-stream",
			    size, head_only, ka10);
			return;
		}
	}
	respond(c, 404, "Not Found", "text/plain", 0, 0, ka10);
}

/* serve - answer every complete request buffered in c, in order. */
static void
serve(struct conn *c)
{
	const char	*p, *e;
	size_t		 avail, n;

	while (c->open && c->headlen == 0 && c->bodylen == 0) {
		avail = c->inlen - c->inoff;
		if (c->discard > 0) {
			n = (long long)avail < c->discard ? avail :
			    (size_t)c->discard;
			c->inoff += n;
			c->discard -= (long long)n;
			if (c->discard > 0)
				break;
			avail = c->inlen - c->inoff;
		}
		p = c->in + c->inoff;
		e = avail >= 4 ? memmem(p, avail, "\r\n\r\n", 4) : NULL;
		if (e == NULL) {
			if (c->inoff > 0) {
				memmove(c->in, p, avail);
				c->inoff = 0;
				c->inlen = avail;
			}
			if (c->inlen == INBUF) {
				c->close_after = 1;
				respond(c, 431, "Request Header Fields Too "
				    "Large", "text/plain", 0, 0, 0);
				(void)flush(c);
			}
			return;
		}
		n = (size_t)(e - p) + 4;
		handle(c, p, n);
		c->inoff += n;
		if (flush(c) != 0)
			return;
	}
	if (c->open && c->inoff == c->inlen)
		c->inoff = c->inlen = 0;
}

static void
on_readable(struct conn *c)
{
	ssize_t	 n;

	if (c->inlen == INBUF) {	/* a response is pending; wait */
		return;
	}
	n = read(c->fd, c->in + c->inlen, INBUF - c->inlen);
	if (n == 0) {
		conn_close(c);
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	serve(c);
}

static void
accept_all(void)
{
	struct epoll_event	 e;
	struct conn		*c;
	int			 fd, on = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;		/* EAGAIN, or a transient error */
		if (fd >= nslots) {
			(void)close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
		c = &conns[fd];
		c->fd = fd;
		c->open = 1;
		c->want_out = c->close_after = 0;
		c->inoff = c->inlen = 0;
		c->discard = 0;
		c->headoff = c->headlen = 0;
		c->bodyoff = c->bodylen = 0;
		e.events = EPOLLIN;
		e.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1) {
			conn_close(c);
			continue;
		}
		mine->conns++;
	}
}

/* loop - one process's event loop, until stop. */
static void
loop(void)
{
	struct epoll_event	 evs[NEVENTS], e;
	struct conn		*c;
	int			 i, n;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	e.events = EPOLLIN;
	e.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e) == -1)
		die("epoll_ctl");
	while (!stop) {
		n = epoll_wait(ep, evs, NEVENTS, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd) {
				accept_all();
				continue;
			}
			c = &conns[evs[i].data.fd];
			if (!c->open)
				continue;
			if (c->want_out) {
				if (evs[i].events & (EPOLLOUT | EPOLLERR |
				    EPOLLHUP) && flush(c) == 0)
					serve(c);
			} else if (evs[i].events & (EPOLLIN | EPOLLERR |
			    EPOLLHUP))
				on_readable(c);
		}
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: origin [-n procs] [-T seconds] "
	    "-l host:port\n");
	exit(2);
}

/* setup_process - per-process state: descriptor limit and slots. */
static void
setup_process(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	nslots = MAX_SLOTS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MAX_SLOTS)
		nslots = (int)rl.rlim_cur;
	/* one allocation; calloc's zero pages cost nothing until used */
	conns = calloc((size_t)nslots, sizeof(*conns));
	if (conns == NULL)
		die("calloc");
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 host[256], port[16], *colon, *addr = NULL;
	pid_t			 kids[MAX_PROCS];
	int			 ch, i, lifetime = 0, ready[2];
	long			 ncpu;
	char			 b;

	while ((ch = getopt(argc, argv, "l:n:T:")) != -1) {
		switch (ch) {
		case 'l':
			addr = optarg;
			break;
		case 'n':
			nprocs = atoi(optarg);
			break;
		case 'T':
			lifetime = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (addr == NULL || (colon = strrchr(addr, ':')) == NULL ||
	    (size_t)(colon - addr) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port))
		usage();
	if (nprocs <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		nprocs = ncpu > 0 ? (int)ncpu : 1;
	}
	if (nprocs > MAX_PROCS)
		nprocs = MAX_PROCS;
	if (addr[0] == '[' && colon > addr && colon[-1] == ']')
		(void)snprintf(host, sizeof(host), "%.*s",
		    (int)(colon - addr - 2), addr + 1);
	else
		(void)snprintf(host, sizeof(host), "%.*s",
		    (int)(colon - addr), addr);
	(void)snprintf(port, sizeof(port), "%s", colon + 1);

	body = malloc(BODYBUF);
	if (body == NULL)
		die("malloc");
	for (i = 0; i < BODYBUF; i++)
		body[i] = (i % 64 == 63) ? '\n' : "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"[i % 64];
	stats = mmap(NULL, sizeof(*stats) * (size_t)nprocs,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED)
		die("mmap");
	mine = &stats[0];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	lfd = open_listener(host, port);
	if (getsockname(lfd, (struct sockaddr *)&ss, &sslen) == -1)
		die("getsockname");
	(void)snprintf(port, sizeof(port), "%u", ntohs(ss.ss_family ==
	    AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port));

	if (pipe(ready) == -1)
		die("pipe");
	for (i = 1; i < nprocs; i++) {
		switch (kids[i] = fork()) {
		case -1:
			die("fork");
		case 0:
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(0);
			(void)close(ready[0]);
			(void)close(lfd);
			lfd = open_listener(host, port);
			mine = &stats[i];
			setup_process();
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
			(void)close(ready[1]);
			loop();
			_exit(0);
		default:
			break;
		}
	}
	(void)close(ready[1]);
	for (i = 1; i < nprocs; i++)
		if (read(ready[0], &b, 1) != 1)
			die("origin: a worker process did not start");
	(void)close(ready[0]);
	setup_process();
	if (strchr(host, ':') != NULL)
		printf("listening on [%s]:%s\n", host, port);
	else
		printf("listening on %s:%s\n", host, port);
	(void)fflush(stdout);
	if (lifetime > 0)
		(void)alarm((unsigned)lifetime);

	loop();

	for (i = 1; i < nprocs; i++)
		(void)kill(kids[i], SIGTERM);
	for (i = 1; i < nprocs; i++)
		(void)waitpid(kids[i], NULL, 0);
	return 0;
}
