/*
 * conn.c - timed socket I/O (see conn.h).
 *
 * Sockets are blocking and every read or write carries the kernel
 * deadline SO_RCVTIMEO/SO_SNDTIMEO, so the common case is one system
 * call, not recv-EAGAIN-poll-recv.  Connecting is non-blocking, to put
 * a deadline on it.  A signal interrupts a wait (no SA_RESTART).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

static void	(*intr_hook)(void);

void
conn_set_intr_hook(void (*fn)(void))
{
	intr_hook = fn;
}

long long
conn_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
conn_wait(int fd, short events, int ms, volatile sig_atomic_t *stop)
{
	struct pollfd	 pfd;
	long long	 deadline = conn_now_ms() + ms, left;
	int		 n;

	for (;;) {
		if (stop != NULL && *stop) {
			errno = EINTR;
			return -1;
		}
		if ((left = deadline - conn_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
		if (n == -1 && intr_hook != NULL)
			intr_hook();
	}
}

void
conn_init(struct gw_conn *c, int fd, char *buf, size_t cap,
    volatile sig_atomic_t *stop)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->buf = buf;
	c->cap = cap;
	c->stop = stop;
	c->rcv_ms = c->snd_ms = -1;	/* unknown: set on first use */
}

size_t
conn_pending(const struct gw_conn *c)
{
	return c->end - c->start;
}

void
conn_consume(struct gw_conn *c, size_t n)
{
	c->start += n;
	if (c->start >= c->end)
		c->start = c->end = c->pin;
}

void
conn_compact(struct gw_conn *c)
{
	if (c->start > c->pin) {
		memmove(c->buf + c->pin, c->buf + c->start, c->end - c->start);
		c->end -= c->start - c->pin;
		c->start = c->pin;
	}
}

/*
 * set_timeo - the kernel's deadline for the next blocking call on the
 * socket (SO_RCVTIMEO or SO_SNDTIMEO), set only when it changes: the
 * sockets are blocking, so a read or write is one system call.
 */
static int
set_timeo(int fd, int opt, int *cur, int ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	if (*cur == ms)
		return 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == -1)
		return -1;
	*cur = ms;
	return 0;
}

/* interrupted - after EINTR: give up if told to stop, else go on. */
static int
interrupted(struct gw_conn *c)
{
	int saved = errno;

	if (c->stop != NULL && *c->stop)
		return 1;
	if (intr_hook != NULL)
		intr_hook();
	errno = saved;
	return 0;
}

static ssize_t
raw_read(struct gw_conn *c, void *buf, size_t len, int ms)
{
	long long	 deadline = conn_now_ms() + ms, left;
	ssize_t		 n;

	for (;;) {
		if ((left = deadline - conn_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (set_timeo(c->fd, SO_RCVTIMEO, &c->rcv_ms, (int)left) == -1)
			return -1;
		if ((n = recv(c->fd, buf, len, 0)) >= 0) {
			if (n == 0)
				c->eof = 1;
			c->in += (unsigned long long)n;
			return n;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR || interrupted(c))
			return -1;
	}
}

ssize_t
conn_fill(struct gw_conn *c, int ms)
{
	ssize_t n;

	if (c->end == c->cap)
		conn_compact(c);
	if (c->end == c->cap) {
		errno = ENOBUFS;
		return -1;
	}
	if ((n = raw_read(c, c->buf + c->end, c->cap - c->end, ms)) > 0)
		c->end += (size_t)n;
	return n;
}

ssize_t
conn_read(struct gw_conn *c, void *buf, size_t len, int ms)
{
	size_t n = conn_pending(c);

	if (n > 0) {
		if (n > len)
			n = len;
		memcpy(buf, c->buf + c->start, n);
		conn_consume(c, n);
		return (ssize_t)n;
	}
	return raw_read(c, buf, len, ms);
}

/*
 * conn_hold - keep len bytes of buf (a response head) to go out with the
 * next write, in the same system call; buf must stay valid until then.
 */
void
conn_hold(struct gw_conn *c, const char *buf, size_t len)
{
	c->held = buf;
	c->heldlen = len;
}

/* conn_flush - write what conn_hold kept, if it is still there. */
int
conn_flush(struct gw_conn *c, int ms)
{
	return c->heldlen > 0 ? conn_writev(c, NULL, 0, ms) : 0;
}

int
conn_writev(struct gw_conn *c, struct iovec *iov, int n, int ms)
{
	long long	 deadline = conn_now_ms() + ms, left;
	struct msghdr	 mh;
	struct iovec	 both[9];
	ssize_t		 w;

	if (c->fd == -1) {		/* a sink */
		c->heldlen = 0;
		return 0;
	}
	if (c->heldlen > 0 && n < 8) {
		both[0].iov_base = (void *)(uintptr_t)c->held;
		both[0].iov_len = c->heldlen;
		for (int i = 0; i < n; i++)
			both[i + 1] = iov[i];
		iov = both;
		n++;
		c->heldlen = 0;
	}

	while (n > 0) {
		if (iov->iov_len == 0) {
			iov++;
			n--;
			continue;
		}
		if ((left = deadline - conn_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (set_timeo(c->fd, SO_SNDTIMEO, &c->snd_ms, (int)left) == -1)
			return -1;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		if ((w = sendmsg(c->fd, &mh, MSG_NOSIGNAL)) >= 0) {
			c->out += (unsigned long long)w;
			while (n > 0 && (size_t)w >= iov->iov_len) {
				w -= (ssize_t)iov->iov_len;
				iov++;
				n--;
			}
			if (n > 0) {
				iov->iov_base = (char *)iov->iov_base + w;
				iov->iov_len -= (size_t)w;
			}
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR || interrupted(c))
			return -1;
	}
	return 0;
}

int
conn_write(struct gw_conn *c, const void *buf, size_t len, int ms)
{
	struct iovec iov;

	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	return conn_writev(c, &iov, 1, ms);
}

int
conn_connect(const struct sockaddr *sa, socklen_t len, int ms,
    volatile sig_atomic_t *stop)
{
	int		 fd, err, fl;
	socklen_t	 elen = sizeof(err);

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (connect(fd, sa, len) == -1) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		if (conn_wait(fd, POLLOUT, ms, stop) == -1)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	/* connected: blocking from now on, with kernel deadlines */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	(void)close(fd);
	errno = err;
	return -1;
}

/*
 * conn_alive - before reusing an idle backend connection: it must have
 * nothing to say (a pending byte or EOF means the backend closed it or
 * is out of step), checked without waiting.
 */
int
conn_alive(int fd)
{
	char	 b;
	ssize_t	 n;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;
	return 0;
}
