/*
 * testlib.c - integration test helpers (see testlib.h).
 *
 * The server is started with fork/exec in a process group of its own
 * and PR_SET_PDEATHSIG(SIGKILL), so a test that fails (Check's forked
 * child exits without running teardown) still takes its master with it;
 * workers follow their master through their own PDEATHSIG.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static long long
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(void)
{
	(void)poll(NULL, 0, 50);
}

int
gwt_setup(struct gwt_server *s)
{
	char	 doc[256];

	memset(s, 0, sizeof(*s));
	/*
	 * The directory names the test program's runner (GWT_RUNNER, set by
	 * programs that sweep up leftovers), so one program's sweep never
	 * touches the daemons of another running beside it.
	 */
	(void)snprintf(s->dir, sizeof(s->dir), "/tmp/gwtest.%s%sXXXXXX",
	    getenv("GWT_RUNNER") ? getenv("GWT_RUNNER") : "",
	    getenv("GWT_RUNNER") ? "." : "");
	if (mkdtemp(s->dir) == NULL || chmod(s->dir, 0755) == -1)
		return -1;
	(void)snprintf(s->conf, sizeof(s->conf), "%s/gateway.conf", s->dir);
	(void)snprintf(s->errlog, sizeof(s->errlog), "%s/error_log", s->dir);
	(void)snprintf(s->pidfile, sizeof(s->pidfile), "%s/gatewayd.pid",
	    s->dir);
	(void)snprintf(s->out, sizeof(s->out), "%s/stdout", s->dir);
	(void)snprintf(s->docroot, sizeof(s->docroot), "%s/htdocs", s->dir);
	(void)snprintf(doc, sizeof(doc), "%s%s", s->docroot, GWT_DOC_PATH);
	/* workers may run as nobody: world-readable whatever the umask */
	if (mkdir(s->docroot, 0755) == -1 || chmod(s->docroot, 0755) == -1 ||
	    gwt_write_file(doc, GWT_DOC_BODY) == -1 || chmod(doc, 0644) == -1)
		return -1;
	return 0;
}

int
gwt_write_file(const char *path, const char *text)
{
	FILE	*fp;
	int	 rc = 0;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	if (fputs(text, fp) == EOF)
		rc = -1;
	if (fclose(fp) == EOF)
		rc = -1;
	return rc;
}

int
gwt_write_conf(struct gwt_server *s, const char *listen, const char *extra)
{
	char	 buf[8192];
	int	 n;

	n = snprintf(buf, sizeof(buf),
	    "# written by testlib\n"
	    "ServerRoot \"%s\"\n"
	    "PidFile \"%s\"\n"
	    "ErrorLog \"%s\"\n"
	    "LogLevel info\n"
	    "DocumentRoot \"%s\"\n"
	    "%s\n"
	    "%s\n",
	    s->dir, s->pidfile, s->errlog, s->docroot,
	    listen != NULL ? listen : "Listen 127.0.0.1:0",
	    extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return gwt_write_file(s->conf, buf);
}

char *
gwt_read_file(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)len + 1)) == NULL) {
		(void)fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, (size_t)len, fp);
	buf[n] = '\0';
	(void)fclose(fp);
	return buf;
}

int
gwt_log_count(const struct gwt_server *s, const char *needle)
{
	char		*buf, *p;
	int		 n = 0;

	if ((buf = gwt_read_file(s->errlog)) == NULL)
		return 0;
	for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(buf);
	return n;
}

int
gwt_wait_log(const struct gwt_server *s, const char *needle, int count,
    int timeout_s)
{
	long long	 end = now_ms() + timeout_s * 1000LL;

	do {
		if (gwt_log_count(s, needle) >= count)
			return 0;
		nap();
	} while (now_ms() < end);
	return -1;
}

/* gwt_parse_ports - every "listening on ADDR:PORT" line, in order. */
int
gwt_parse_ports(struct gwt_server *s)
{
	const char	*key = "listening on ";
	char		*buf, *p, *eol, *colon, *a;
	size_t		 alen;

	s->nports = 0;
	if ((buf = gwt_read_file(s->errlog)) == NULL)
		return -1;
	for (p = buf; (p = strstr(p, key)) != NULL &&
	    s->nports < GWT_MAXPORTS; p = eol) {
		p += strlen(key);
		if ((eol = strchr(p, '\n')) == NULL)
			break;
		*eol++ = '\0';
		if ((colon = strrchr(p, ':')) == NULL)
			continue;
		*colon = '\0';
		a = p;
		if (*a == '[') {
			a++;
			alen = strlen(a);
			if (alen > 0 && a[alen - 1] == ']')
				a[alen - 1] = '\0';
		}
		(void)snprintf(s->hosts[s->nports], sizeof(s->hosts[0]), "%s",
		    a);
		s->ports[s->nports++] = atoi(colon + 1);
	}
	free(buf);
	return s->nports > 0 ? 0 : -1;
}

static void
child_exec(const char *out, const char *const *args, pid_t parent)
{
	const char	*argv[32];
	int		 i, fd;

	/* parent > 0: die with the test (Check's forked child) */
	if (parent > 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != parent))
		_exit(126);
	(void)setpgid(0, 0);
	if ((fd = open("/dev/null", O_RDONLY)) != -1)
		(void)dup2(fd, STDIN_FILENO);
	if (out != NULL &&
	    (fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
	}
	argv[0] = "gatewayd";
	for (i = 0; args[i] != NULL && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	execv(GW_TEST_BINARY, (char *const *)argv);
	_exit(127);
}

pid_t
gwt_spawn(struct gwt_server *s, const char *const *args)
{
	pid_t	 pid, self = getpid();

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		child_exec(s->out, args, self);
	s->pid = pid;
	return pid;
}

int
gwt_start(struct gwt_server *s, const char *extra_arg)
{
	const char	*args[8];
	long long	 end;
	int		 n = 0, status;

	args[n++] = "-f";
	args[n++] = s->conf;
	args[n++] = "-D";
	args[n++] = "FOREGROUND";
	if (extra_arg != NULL)
		args[n++] = extra_arg;
	args[n] = NULL;
	if (gwt_spawn(s, args) == -1)
		return -1;
	end = now_ms() + GWT_WAIT * 1000LL;
	do {
		if (gwt_log_count(s, "resuming normal operations") >= 1)
			return gwt_parse_ports(s);
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		nap();
	} while (now_ms() < end);
	return -1;
}

int
gwt_collect(pid_t pid, int fd, long long end, char *out, size_t outlen)
{
	struct pollfd	 pfd;
	size_t		 len = 0;
	ssize_t		 n;
	int		 status, ms;

	for (;;) {
		if ((ms = (int)(end - now_ms())) <= 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) <= 0)
			break;
		if (len + 1 >= outlen)
			len = 0;	/* keep the tail */
		if ((n = read(fd, out + len, outlen - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	(void)close(fd);
	if (gwt_wait_exit(pid, (int)((end - now_ms()) / 1000) + 1,
	    &status) == -1) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
gwt_tcp_socket(int *port, int backlog)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (backlog > 0 && listen(fd, backlog) == -1) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		(void)close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

int
gwt_run(const char *const *args, int timeout_s, char *out, size_t outlen)
{
	long long	 end = now_ms() + timeout_s * 1000LL;
	pid_t		 pid;
	int		 p[2];

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		(void)close(p[0]);
		(void)dup2(p[1], STDOUT_FILENO);
		(void)dup2(p[1], STDERR_FILENO);
		(void)close(p[1]);
		child_exec(NULL, args, 0);
	}
	(void)close(p[1]);
	return gwt_collect(pid, p[0], end, out, outlen);
}

/* proc_stat - state and ppid of pid from /proc; -1 if gone. */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp)
{
	char	 path[64], buf[512], *p;
	FILE	*fp;
	long	 pp, pg;
	size_t	 n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	(void)fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld %ld", state, &pp, &pg) != 3)
		return -1;
	*ppid = (pid_t)pp;
	*pgrp = (pid_t)pg;
	return 0;
}

int
gwt_children(pid_t parent, pid_t *pids, int max)
{
	DIR		*d;
	struct dirent	*e;
	pid_t		 pid, ppid, pg;
	char		 st;
	int		 n = 0;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)atol(e->d_name);
		if (proc_stat(pid, &st, &ppid, &pg) == -1 || ppid != parent ||
		    st == 'Z' || st == 'X')
			continue;
		if (pids != NULL && n < max)
			pids[n] = pid;
		n++;
	}
	(void)closedir(d);
	return n;
}

int
gwt_wait_children(pid_t parent, int min, int timeout_s)
{
	long long	 end = now_ms() + timeout_s * 1000LL;
	int		 n;

	do {
		if ((n = gwt_children(parent, NULL, 0)) >= min)
			return n;
		nap();
	} while (now_ms() < end);
	return -1;
}

int
gwt_wait_exit(pid_t pid, int timeout_s, int *status)
{
	long long	 end = now_ms() + timeout_s * 1000LL;
	pid_t		 r;

	do {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return 0;
		if (r == -1)
			return -1;
		nap();
	} while (now_ms() < end);
	return -1;
}

int
gwt_alive(pid_t pid)
{
	pid_t	 ppid, pg;
	char	 st;

	if (proc_stat(pid, &st, &ppid, &pg) == -1)
		return 0;
	return st != 'Z' && st != 'X';
}

int
gwt_wait_gone(pid_t pid, int timeout_s)
{
	long long	 end = now_ms() + timeout_s * 1000LL;

	do {
		if (!gwt_alive(pid))
			return 0;
		nap();
	} while (now_ms() < end);
	return -1;
}

long
gwt_read_pidfile(const struct gwt_server *s)
{
	char	*buf;
	long	 pid;

	if ((buf = gwt_read_file(s->pidfile)) == NULL)
		return 0;
	pid = atol(buf);
	free(buf);
	return pid;
}

/* gwt_proc_ids - the four ids of "Uid:" or "Gid:" in /proc/pid/status. */
int
gwt_proc_ids(pid_t pid, const char *field, long ids[4])
{
	char	 path[64], line[256];
	FILE	*fp;
	int	 rc = -1;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, strlen(field)) == 0 &&
		    sscanf(line + strlen(field), "%ld %ld %ld %ld", &ids[0],
		    &ids[1], &ids[2], &ids[3]) == 4) {
			rc = 0;
			break;
		}
	(void)fclose(fp);
	return rc;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path) == -1 ? -1 : 0;
}

/* kill_tree - KILL a process group and whatever its master left. */
static void
kill_tree(pid_t pid)
{
	pid_t	 kids[256];
	pid_t	 pg = getpgid(pid);
	int	 i, n;

	if (pg > 1 && pg != getpgrp())
		(void)kill(-pg, SIGKILL);
	n = gwt_children(pid, kids, 256);
	for (i = 0; i < n && i < 256; i++)
		(void)kill(kids[i], SIGKILL);
	(void)kill(pid, SIGKILL);
}

void
gwt_teardown(struct gwt_server *s)
{
	long	 pid;
	int	 status;

	if (s->pid > 0) {
		kill_tree(s->pid);
		(void)gwt_wait_exit(s->pid, 10, &status);
		s->pid = 0;
	}
	if ((pid = gwt_read_pidfile(s)) > 1 && gwt_alive((pid_t)pid))
		kill_tree((pid_t)pid);
	if (s->dir[0] != '\0' && getenv("GWT_KEEP") == NULL)
		(void)nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*--------------------------------------------------------------------
 * HTTP client
 */

int
gwt_connect(const char *host, int port, int timeout_s)
{
	struct addrinfo	 hints, *res;
	struct pollfd	 pfd;
	char		 sport[16];
	socklen_t	 sl;
	int		 fd, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	(void)snprintf(sport, sizeof(sport), "%d", port);
	if (getaddrinfo(host, sport, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		freeaddrinfo(res);
		return -1;
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		freeaddrinfo(res);
		(void)close(fd);
		return -1;
	}
	freeaddrinfo(res);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	sl = sizeof(err);
	if (poll(&pfd, 1, timeout_s * 1000) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static int
wait_fd(int fd, short ev, long long end)
{
	struct pollfd	 pfd;
	int		 ms;

	if ((ms = (int)(end - now_ms())) <= 0)
		return -1;
	pfd.fd = fd;
	pfd.events = ev;
	return poll(&pfd, 1, ms) == 1 ? 0 : -1;
}

/* parse_resp - status, Connection: close, Content-Length of a head. */
static int
parse_resp(char *head, struct gwt_resp *r, long *clen)
{
	char	*line, *next;

	if (sscanf(head, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	*clen = -1;
	for (line = strstr(head, "\r\n"); line != NULL; line = next) {
		line += 2;
		if ((next = strstr(line, "\r\n")) != NULL)
			*next = '\0';
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			*clen = atol(line + 15);
		else if (strncasecmp(line, "Connection:", 11) == 0 &&
		    strcasestr(line, "close") != NULL)
			r->close = 1;
		if (next != NULL)
			*next = '\r';
	}
	return 0;
}

int
gwt_request(int fd, const char *req, struct gwt_resp *r, int timeout_s)
{
	long long	 end = now_ms() + timeout_s * 1000LL;
	char		 buf[4096], *hend;
	size_t		 off = 0, len = strlen(req), have;
	ssize_t		 n;
	long		 clen;

	memset(r, 0, sizeof(*r));
	while (off < len) {
		if (wait_fd(fd, POLLOUT, end) == -1)
			return -1;
		if ((n = send(fd, req + off, len - off, MSG_NOSIGNAL)) <= 0)
			return -1;
		off += (size_t)n;
	}
	off = 0;
	for (;;) {
		buf[off] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (off + 1 >= sizeof(buf) || wait_fd(fd, POLLIN, end) == -1)
			return -1;
		if ((n = recv(fd, buf + off, sizeof(buf) - off - 1, 0)) <= 0)
			return -1;
		off += (size_t)n;
	}
	*hend = '\0';
	if (parse_resp(buf, r, &clen) == -1 || clen < 0 ||
	    clen >= (long)sizeof(r->body))
		return -1;
	have = off - (size_t)(hend + 4 - buf);
	if (have > (size_t)clen)
		have = (size_t)clen;
	memcpy(r->body, hend + 4, have);
	while (have < (size_t)clen) {
		if (wait_fd(fd, POLLIN, end) == -1)
			return -1;
		if ((n = recv(fd, r->body + have, (size_t)clen - have, 0)) <= 0)
			return -1;
		have += (size_t)n;
	}
	r->body[have] = '\0';
	return 0;
}

/*
 * gwt_request_pid - gwt_request, and the process that answered.  The
 * holder of an accepted connection cannot change while the connection
 * stays open, so it is looked up once before the request (the only way
 * when the answer says close and the server may already be closing);
 * if the server had not accepted yet, after the answer, polling
 * briefly: it has accepted by then, and a worker that says close keeps
 * its socket through the lingering close, as we keep ours open.
 */
int
gwt_request_pid(pid_t master, int fd, const char *req, struct gwt_resp *r,
    int timeout_s)
{
	pid_t	 before, after;

	before = gwt_server_pid(master, fd, 0);
	if (gwt_request(fd, req, r, timeout_s) == -1)
		return -1;
	if (before > 0 && r->close) {
		r->pid = before;
		return 0;
	}
	after = gwt_server_pid(master, fd, GWT_PID_WAIT);
	r->pid = after > 0 && (before <= 0 || before == after) ? after : -1;
	return r->pid > 0 ? 0 : -1;
}

/* gwt_get - one keep-alive GET GWT_DOC_PATH on a new connection. */
int
gwt_get(pid_t master, const char *host, int port, struct gwt_resp *r)
{
	int	 fd, rc;

	if ((fd = gwt_connect(host, port, 10)) == -1)
		return -1;
	if (master > 0)
		rc = gwt_request_pid(master, fd, GWT_KA_REQ, r, 15);
	else
		rc = gwt_request(fd, GWT_KA_REQ, r, 15);
	(void)close(fd);
	return rc;
}

/*--------------------------------------------------------------------
 * Which process serves a connection: the server side of a client
 * socket is the /proc/net/tcp{,6} row whose local end is the client's
 * peer and whose remote end is the client's own address; its inode
 * then shows as "socket:[inode]" in /proc/PID/fd of the holder.
 */

/* An endpoint, IPv4 as v4-mapped IPv6. */
struct gwt_ep {
	unsigned char	 a[16];
	unsigned	 port;
};

static int
ep_from_sa(const struct sockaddr_storage *ss, struct gwt_ep *ep)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;

	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET) {
		ep->a[10] = ep->a[11] = 0xff;
		memcpy(ep->a + 12, &s4->sin_addr, 4);
		ep->port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(ep->a, &s6->sin6_addr, 16);
		ep->port = ntohs(s6->sin6_port);
	} else
		return -1;
	return 0;
}

/*
 * ep_from_hex - "0100007F:1F90": the kernel prints each 32-bit word of
 * the network-order address as a native integer (%08X), and the port
 * in host order (%04X).
 */
static int
ep_from_hex(const char *hex, unsigned port, struct gwt_ep *ep)
{
	char		 w[9], *end;
	uint32_t	 v;
	size_t		 i, n = strlen(hex);
	unsigned char	*dst;

	if (n != 8 && n != 32)
		return -1;
	memset(ep, 0, sizeof(*ep));
	if (n == 8) {
		ep->a[10] = ep->a[11] = 0xff;
		dst = ep->a + 12;
	} else
		dst = ep->a;
	for (i = 0; i < n / 8; i++) {
		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, &end, 16);
		if (*end != '\0')
			return -1;
		memcpy(dst + i * 4, &v, 4);
	}
	ep->port = port;
	return 0;
}

static int
ep_eq(const struct gwt_ep *a, const struct gwt_ep *b)
{
	return a->port == b->port && memcmp(a->a, b->a, 16) == 0;
}

/* tcp_inode - the inode of the socket local -> remote in file, or 0. */
static unsigned long
tcp_inode(const char *file, const struct gwt_ep *local,
    const struct gwt_ep *remote)
{
	struct gwt_ep	 l, r;
	FILE		*fp;
	char		 line[512], la[40], ra[40];
	unsigned	 lp, rp, st;
	unsigned long	 ino, found = 0;

	if ((fp = fopen(file, "r")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x "
		    "%x %*x:%*x %*x:%*x %*x %*u %*d %lu", la, &lp, ra, &rp,
		    &st, &ino) != 6 || ino == 0)
			continue;	/* the header, or no socket yet */
		if (ep_from_hex(la, lp, &l) == 0 &&
		    ep_from_hex(ra, rp, &r) == 0 && ep_eq(&l, local) &&
		    ep_eq(&r, remote))
			found = ino;
	}
	(void)fclose(fp);
	return found;
}

/* holds - has pid a descriptor on want ("socket:[inode]")? */
static int
holds(pid_t pid, const char *want)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[320], link[64];
	ssize_t		 n;
	int		 found = 0;

	(void)snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/fd/%s",
		    (long)pid, e->d_name);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	(void)closedir(d);
	return found;
}

/* holder - the one process of master's family holding inode, or -1. */
static pid_t
holder(pid_t master, unsigned long inode)
{
	pid_t	 procs[257], who = -1;
	char	 want[48];
	int	 i, n, nheld = 0;

	(void)snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if ((n = gwt_children(master, procs, 256)) < 0)
		return -1;
	if (n > 256)
		n = 256;
	procs[n++] = master;
	for (i = 0; i < n; i++)
		if (holds(procs[i], want)) {
			who = procs[i];
			nheld++;
		}
	return nheld == 1 ? who : -1;
}

pid_t
gwt_server_pid(pid_t master, int fd, int timeout_s)
{
	struct sockaddr_storage	 ss;
	struct gwt_ep		 client, server;
	socklen_t		 sl;
	long long		 end = now_ms() + timeout_s * 1000LL;
	unsigned long		 ino;
	pid_t			 who;

	sl = sizeof(ss);
	if (master <= 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    ep_from_sa(&ss, &client) == -1)
		return -1;
	sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    ep_from_sa(&ss, &server) == -1)
		return -1;
	for (;;) {
		/* not accepted yet: there is a row, but without an inode */
		if ((ino = tcp_inode("/proc/net/tcp", &server, &client)) == 0)
			ino = tcp_inode("/proc/net/tcp6", &server, &client);
		if (ino != 0 && (who = holder(master, ino)) > 0)
			return who;
		if (now_ms() >= end)
			return -1;
		nap();
	}
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

int
gwt_rm_tree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

long long
gwt_now_ms(void)
{
	return now_ms();
}

int
gwt_exit_code(pid_t pid, int ms)
{
	long long	 end = now_ms() + ms;
	pid_t		 r;
	int		 st;

	while (now_ms() < end) {
		if ((r = waitpid(pid, &st, WNOHANG)) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		if (r == -1)
			return -1;
		(void)poll(NULL, 0, 5);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -2;
}

int
gwt_read_bytes(int fd, int n, int ms)
{
	long long	 end = now_ms() + ms;
	struct pollfd	 pfd;
	char		 b;
	int		 got = 0, left;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < n && (left = (int)(end - now_ms())) > 0) {
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (read(fd, &b, 1) != 1)
			break;
		got++;
	}
	return got;
}
