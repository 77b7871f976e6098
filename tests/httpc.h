/*
 * httpc.h - a raw HTTP/1.1 client for the integration tests, that reads
 * responses byte by byte as framed and says what the framing was, so a
 * test can check exactly what the gateway sent.
 */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IO_TIMEOUT	10		/* s, any one socket operation */
#define CBUF		(256 * 1024)	/* client read buffer */

/* A process the test started: an origin or a raw backend. */
struct proc {
	pid_t		 pid;
	int		 port;
	char		 log[256];
};

struct client {
	int		 fd;
	char		*buf;
	size_t		 len;
	int		 eof;		/* the peer closed (or reset) */
};

struct resp {
	int		 status;
	char		 head[16384];	/* as received, NUL-ended */
	char		*body;		/* NUL-ended; never NULL after read */
	size_t		 blen, bcap;
	int		 complete;	/* the body ended as framed */
	int		 chunked;	/* Transfer-Encoding: chunked */
	int		 closedelim;	/* no length: delimited by close */
	int		 badframe;	/* malformed chunked framing */
	int		 eof;		/* the connection closed meanwhile */
};

int	httpc_open(struct client *, const char *host, int port);
int	write_all(int fd, const void *, size_t);
/* origin_start - tests/origin -v on an ephemeral port, its output in
 * dir/name.log; 0 once it listens, -1 (the caller fails the test). */
int	origin_start(struct proc *, const char *dir, const char *name);
/* origin_start_at - the same on a given port (0: ephemeral). */
int	origin_start_at(struct proc *, const char *dir, const char *name,
	    int port);
/* origin_ask_count - the origin's /count, asked directly; -1 on error. */
long	origin_ask_count(const struct proc *);
/* proc_stop - sig to p, SIGKILL if it lingers 5 s, reaped; pid 0. */
void	proc_stop(struct proc *, int sig);
/* show_file - a log for a failing test, on stderr ("" or absent: none). */
void	show_file(const char *path);
void	cl_close(struct client *c);
int	cl_send(struct client *c, const void *p, size_t n);
int	cl_sends(struct client *c, const char *s);
ssize_t	cl_fill(struct client *c);
void	cl_consume(struct client *c, size_t n);
void	body_add(struct resp *r, const char *p, size_t n);
void	resp_reset(struct resp *r);
void	resp_free(struct resp *r);
int	field(const char *head, const char *name, char *out, size_t outlen);
int	cl_need(struct client *c, size_t n);
int	cl_line(struct client *c, char *out, size_t outlen);
int	read_body_n(struct client *c, struct resp *r, uint64_t n);
void	read_chunked(struct client *c, struct resp *r);
int	read_resp(struct client *c, struct resp *r, int head_request);

#endif /* HTTPC_H */
