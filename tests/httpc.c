/*
 * httpc.c - the tests' raw HTTP client (see httpc.h).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "httpc.h"
#include "testlib.h"

/* write_all - all n bytes to fd, or -1. */
int
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = send(fd, s, n, MSG_NOSIGNAL)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}




/* httpc_open - a blocking connection with IO_TIMEOUT deadlines; 0 or -1. */
int
httpc_open(struct client *c, const char *host, int port)
{
	struct timeval	tv = { IO_TIMEOUT, 0 };
	int		fl;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if ((c->buf = malloc(CBUF)) == NULL)
		return -1;
	if ((c->fd = gwt_connect(host, port, IO_TIMEOUT)) == -1)
		return -1;
	fl = fcntl(c->fd, F_GETFL);
	if (fl == -1 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return -1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

void
cl_close(struct client *c)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

int
cl_send(struct client *c, const void *p, size_t n)
{
	return write_all(c->fd, p, n);
}

int
cl_sends(struct client *c, const char *s)
{
	return cl_send(c, s, strlen(s));
}

/* cl_fill - more bytes into the buffer: >0, 0 at EOF, -1 error/timeout. */
ssize_t
cl_fill(struct client *c)
{
	ssize_t	n;

	if (c->eof)
		return 0;
	if (c->len == CBUF)
		return -1;
	do
		n = recv(c->fd, c->buf + c->len, CBUF - c->len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0 || errno == ECONNRESET) {
		c->eof = 1;
		n = 0;
	}
	return n;
}

void
cl_consume(struct client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

void
body_add(struct resp *r, const char *p, size_t n)
{
	if (r->blen + n + 1 > r->bcap) {
		size_t	cap = r->bcap ? r->bcap : 4096;

		while (cap < r->blen + n + 1)
			cap *= 2;
		r->body = realloc(r->body, cap);
		if (r->body == NULL)
			abort();	/* a test out of memory */
		r->bcap = cap;
	}
	memcpy(r->body + r->blen, p, n);
	r->blen += n;
	r->body[r->blen] = '\0';
}

void
resp_reset(struct resp *r)
{
	char	*b = r->body;
	size_t	 cap = r->bcap;

	memset(r, 0, sizeof(*r));
	r->body = b;
	r->bcap = cap;
	body_add(r, "", 0);
}

void
resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
	r->bcap = r->blen = 0;
}

/*
 * field - the first value of header name in a head (the text up to an
 * empty line, after the first line), trimmed, into out; returns how many
 * fields have that name.
 */
int
field(const char *head, const char *name, char *out, size_t outlen)
{
	const char	*p, *eol, *v, *ve;
	size_t		 nl = strlen(name);
	int		 n = 0;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if ((p = strstr(head, "\r\n")) == NULL)
		return 0;
	for (p += 2; *p != '\0' && strncmp(p, "\r\n", 2) != 0; p = eol + 2) {
		if ((eol = strstr(p, "\r\n")) == NULL)
			break;
		if ((size_t)(eol - p) <= nl || strncasecmp(p, name, nl) != 0 ||
		    p[nl] != ':')
			continue;
		if (n++ > 0 || out == NULL)
			continue;
		for (v = p + nl + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		(void)snprintf(out, outlen, "%.*s", (int)(ve - v), v);
	}
	return n;
}

/* cl_need - at least n bytes buffered: 1, 0 at EOF, -1 on error. */
int
cl_need(struct client *c, size_t n)
{
	ssize_t	got;

	while (c->len < n) {
		if ((got = cl_fill(c)) <= 0)
			return got == 0 ? 0 : -1;
	}
	return 1;
}

/* cl_line - one CRLF-ended line (without it) into out: 1, 0 EOF, -1. */
int
cl_line(struct client *c, char *out, size_t outlen)
{
	char	*e;
	size_t	 n;
	ssize_t	 got;

	for (;;) {
		if ((e = memmem(c->buf, c->len, "\r\n", 2)) != NULL)
			break;
		if (c->len > 8192)
			return -1;
		if ((got = cl_fill(c)) <= 0)
			return got == 0 ? 0 : -1;
	}
	n = (size_t)(e - c->buf);
	(void)snprintf(out, outlen, "%.*s", (int)n, c->buf);
	cl_consume(c, n + 2);
	return 1;
}

/* read_body_n - n bytes of body; 1 all, 0 EOF first, -1 error. */
int
read_body_n(struct client *c, struct resp *r, uint64_t n)
{
	size_t	take;
	int	rc;

	while (n > 0) {
		if ((rc = cl_need(c, 1)) <= 0)
			return rc;
		take = c->len < n ? c->len : (size_t)n;
		body_add(r, c->buf, take);
		cl_consume(c, take);
		n -= take;
	}
	return 1;
}

void
read_chunked(struct client *c, struct resp *r)
{
	char		 line[8300], *end;
	uint64_t	 size;
	int		 rc;

	for (;;) {
		if ((rc = cl_line(c, line, sizeof(line))) <= 0) {
			r->eof = rc == 0;
			return;
		}
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno != 0 || (*end != '\0' &&
		    *end != ';' && *end != ' ' && *end != '\t')) {
			r->badframe = 1;
			return;
		}
		if (size == 0)
			break;
		if ((rc = read_body_n(c, r, size)) <= 0) {
			r->eof = rc == 0;
			return;
		}
		if ((rc = cl_need(c, 2)) <= 0) {
			r->eof = rc == 0;
			return;
		}
		if (memcmp(c->buf, "\r\n", 2) != 0) {
			r->badframe = 1;
			return;
		}
		cl_consume(c, 2);
	}
	for (;;) {			/* trailers up to the empty line */
		if ((rc = cl_line(c, line, sizeof(line))) <= 0) {
			r->eof = rc == 0;
			return;
		}
		if (line[0] == '\0')
			break;
	}
	r->complete = 1;
}

/*
 * read_resp - one response (a 1xx too) from c.  0 with r filled (see its
 * flags for how the body ended), -1 when no whole head came.
 */
int
read_resp(struct client *c, struct resp *r, int head_request)
{
	char		*e, te[128], clen[64];
	size_t		 hl;
	ssize_t		 got;
	int		 rc;

	resp_reset(r);
	for (;;) {
		if (c->len >= 4 && (e = memmem(c->buf, c->len, "\r\n\r\n", 4))
		    != NULL)
			break;
		if (c->len >= sizeof(r->head) - 1)
			return -1;
		if ((got = cl_fill(c)) <= 0) {
			r->eof = got == 0;
			return -1;
		}
	}
	hl = (size_t)(e + 4 - c->buf);
	memcpy(r->head, c->buf, hl);
	r->head[hl] = '\0';
	cl_consume(c, hl);
	if ((strncmp(r->head, "HTTP/1.1 ", 9) != 0 && strncmp(r->head,
	    "HTTP/1.0 ", 9) != 0) || sscanf(r->head + 9, "%3d", &r->status)
	    != 1)
		return -1;
	if (r->status < 200 || head_request || r->status == 204 ||
	    r->status == 304) {
		r->complete = 1;
		return 0;
	}
	if (field(r->head, "Transfer-Encoding", te, sizeof(te)) > 0) {
		r->chunked = 1;
		if (strcasecmp(te, "chunked") != 0 || field(r->head,
		    "Content-Length", NULL, 0) > 0) {
			r->badframe = 1;
			return 0;
		}
		read_chunked(c, r);
		return 0;
	}
	if (field(r->head, "Content-Length", clen, sizeof(clen)) > 0) {
		rc = read_body_n(c, r, strtoull(clen, NULL, 10));
		r->complete = rc == 1;
		r->eof = rc == 0;
		return 0;
	}
	r->closedelim = 1;
	for (;;) {
		if (c->len > 0) {
			body_add(r, c->buf, c->len);
			cl_consume(c, c->len);
		}
		if ((got = cl_fill(c)) == 0) {
			r->complete = r->eof = 1;
			break;
		}
		if (got < 0)
			break;
	}
	return 0;
}

int
origin_start(struct proc *o, const char *dir, const char *name)
{
	return origin_start_at(o, dir, name, 0);
}

int
origin_start_at(struct proc *o, const char *dir, const char *name, int port)
{
	const char	*key = "listening on 127.0.0.1:";
	char		*s, *p, addr[32];
	pid_t		 parent = getpid(), pid;
	int		 fd, tries;

	(void)snprintf(o->log, sizeof(o->log), "%s/%s.log", dir, name);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1 ||
		    getppid() != parent)
			_exit(126);
		(void)setpgid(0, 0);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			(void)dup2(fd, STDIN_FILENO);
		if ((fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND,
		    0644)) != -1) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		(void)snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		execl(GW_TEST_ORIGIN, "origin", "-v", "-l", addr,
		    (char *)NULL);
		_exit(127);
	}
	o->pid = pid;
	o->port = 0;
	/* up to GWT_WAIT seconds, polling every 20 ms */
	for (tries = 0; tries < GWT_WAIT * 50; tries++) {
		if ((s = gwt_read_file(o->log)) != NULL) {
			if ((p = strstr(s, key)) != NULL)
				o->port = atoi(p + strlen(key));
			free(s);
		}
		if (o->port > 0)
			return 0;
		(void)poll(NULL, 0, 20);
	}
	return -1;
}

long
origin_ask_count(const struct proc *o)
{
	struct gwt_resp	 r;
	int		 fd, rc;

	if ((fd = gwt_connect("127.0.0.1", o->port, IO_TIMEOUT)) == -1)
		return -1;
	rc = gwt_request(fd, "GET /count HTTP/1.1\r\nHost: origin\r\n"
	    "Connection: close\r\n\r\n", &r, IO_TIMEOUT);
	(void)close(fd);
	if (rc != 0 || r.status != 200)
		return -1;
	return atol(r.body);
}

void
proc_stop(struct proc *p, int sig)
{
	int	status;

	if (p->pid <= 0)
		return;
	(void)kill(p->pid, sig);
	if (gwt_wait_exit(p->pid, 5, &status) == -1) {
		(void)kill(p->pid, SIGKILL);
		(void)waitpid(p->pid, &status, 0);
	}
	p->pid = 0;
}

void
show_file(const char *path)
{
	char	*s;

	if (path[0] != '\0' && (s = gwt_read_file(path)) != NULL) {
		(void)fprintf(stderr, "---- %s\n%s", path, s);
		free(s);
	}
}
