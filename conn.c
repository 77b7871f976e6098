/*
 * conn.c - timed socket I/O (see conn.h).
 *
 * Sockets are blocking and every read or write carries the kernel
 * deadline SO_RCVTIMEO/SO_SNDTIMEO, so the common case is one system
 * call, not recv-EAGAIN-poll-recv.  Connecting is non-blocking, to put
 * a deadline on it.  A signal interrupts a wait (no SA_RESTART).
 * Over TLS, SSL_read and SSL_write run on the same blocking socket:
 * a kernel deadline that passes shows as SSL_ERROR_WANT_*, and the
 * call is repeated until the deadline of the conn_ call is over.
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

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"
#include "tls.h"

#define TLS_STAGE	16384		/* small writes gathered: one record */

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

static ssize_t	tls_read(struct gw_conn *, void *, size_t, int);
static int	tls_writev(struct gw_conn *, const struct iovec *, int, int);

static ssize_t
raw_read(struct gw_conn *c, void *buf, size_t len, int ms)
{
	long long	 deadline = conn_now_ms() + ms, left;
	ssize_t		 n;

	if (c->ssl != NULL)
		return tls_read(c, buf, len, ms);
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

/*
 * tls_failed - a fatal TLS error on c: no close_notify later (OpenSSL
 * forbids SSL_shutdown then); logged at info, since clients and
 * backends that go away are common.  errno is EPROTO, or the system's.
 */
static void
tls_failed(struct gw_conn *c, int e)
{
	int saved = errno;

	SSL_set_quiet_shutdown(c->ssl, 1);
	if (e == SSL_ERROR_SSL) {
		log_msg(GW_LOG_INFO, "TLS: connection failed: %s",
		    tls_error());
		saved = EPROTO;
	} else if (saved == 0)
		saved = ECONNRESET;
	ERR_clear_error();
	errno = saved;
}

/*
 * tls_wait - after SSL_ERROR_WANT_*: 0 to call again, -1 to give up
 * (errno).  The kernel deadline has passed (EAGAIN; the caller's loop
 * then says ETIMEDOUT), or a signal came (EINTR).  *other says that
 * OpenSSL waits in the other direction (a read needs a write, or the
 * reverse, as in a key update): its deadline is set too from then on.
 */
static int
tls_wait(struct gw_conn *c, int e, int reading, int *other)
{
	if (errno == EINTR && interrupted(c))
		return -1;
	if ((e == SSL_ERROR_WANT_WRITE) == reading)
		*other = 1;
	return 0;
}

static ssize_t
tls_read(struct gw_conn *c, void *buf, size_t len, int ms)
{
	long long	 deadline = conn_now_ms() + ms, left;
	int		 n, e, other = 0;

	if (len > INT_MAX)
		len = INT_MAX;
	for (;;) {
		if ((left = deadline - conn_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (set_timeo(c->fd, SO_RCVTIMEO, &c->rcv_ms, (int)left) ==
		    -1 || (other && set_timeo(c->fd, SO_SNDTIMEO, &c->snd_ms,
		    (int)left) == -1))
			return -1;
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_read(c->ssl, buf, (int)len)) > 0) {
			c->in += (unsigned long long)n;
			return n;
		}
		switch (e = SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_ZERO_RETURN:
			c->eof = 1;
			return 0;
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			if (tls_wait(c, e, 1, &other) == -1)
				return -1;
			continue;
		case SSL_ERROR_SYSCALL:
			if (errno == 0 && ERR_peek_error() == 0) {
				c->eof = 1;	/* closed, no close_notify */
				SSL_set_quiet_shutdown(c->ssl, 1);
				return 0;
			}
			/* FALLTHROUGH */
		default:
			tls_failed(c, e);
			return -1;
		}
	}
}

/* tls_write - all of buf, as one SSL_write repeated until it is done. */
static int
tls_write(struct gw_conn *c, const void *buf, size_t len, long long deadline)
{
	long long	 left;
	int		 n, e, chunk, other = 0;

	while (len > 0) {
		if ((left = deadline - conn_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (set_timeo(c->fd, SO_SNDTIMEO, &c->snd_ms, (int)left) ==
		    -1 || (other && set_timeo(c->fd, SO_RCVTIMEO, &c->rcv_ms,
		    (int)left) == -1))
			return -1;
		chunk = len > (1U << 30) ? 1 << 30 : (int)len;
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_write(c->ssl, buf, chunk)) > 0) {
			c->out += (unsigned long long)n;
			buf = (const char *)buf + n;
			len -= (size_t)n;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			if (tls_wait(c, e, 0, &other) == -1)
				return -1;
			continue;	/* the same bytes again, as required */
		}
		tls_failed(c, e);
		if (errno == ECONNRESET)
			errno = EPIPE;
		return -1;
	}
	return 0;
}

/*
 * tls_writev - the pieces, small ones gathered so that a head and a
 * short body go out in one TLS record.
 */
static int
tls_writev(struct gw_conn *c, const struct iovec *iov, int n, int ms)
{
	long long	 deadline = conn_now_ms() + ms;
	char		 stage[TLS_STAGE];
	size_t		 used = 0;

	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			continue;
		if (used + iov[i].iov_len <= sizeof(stage)) {
			memcpy(stage + used, iov[i].iov_base, iov[i].iov_len);
			used += iov[i].iov_len;
			continue;
		}
		if (used > 0 && tls_write(c, stage, used, deadline) == -1)
			return -1;
		used = 0;
		if (iov[i].iov_len < sizeof(stage) / 2) {
			memcpy(stage, iov[i].iov_base, iov[i].iov_len);
			used = iov[i].iov_len;
		} else if (tls_write(c, iov[i].iov_base, iov[i].iov_len,
		    deadline) == -1)
			return -1;
	}
	return used > 0 ? tls_write(c, stage, used, deadline) : 0;
}

size_t
conn_tls_pending(const struct gw_conn *c)
{
	int n;

	if (c->ssl == NULL)
		return 0;
	n = SSL_pending(c->ssl);
	return n > 0 ? (size_t)n : 0;
}

void
conn_tls_end(struct gw_conn *c)
{
	if (c->ssl == NULL)
		return;
	/* close_notify goes out with a short deadline */
	if (c->fd != -1 && set_timeo(c->fd, SO_SNDTIMEO, &c->snd_ms,
	    1000) == -1)
		SSL_set_quiet_shutdown(c->ssl, 1);
	tls_close(c->ssl);
	c->ssl = NULL;
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
	if (c->ssl != NULL)
		return tls_writev(c, iov, n, ms);

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

/*
 * conn_send_fd - where sendfile(2) cannot go (TLS): the file read in
 * pieces and written with conn_write, each piece within ms.
 */
int
conn_send_fd(struct gw_conn *c, int fd, off_t off, unsigned long long len,
    int ms)
{
	char	buf[TLS_STAGE];
	ssize_t	n;

	while (len > 0) {
		n = pread(fd, buf, len < sizeof(buf) ? (size_t)len :
		    sizeof(buf), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* shorter than said */
			return -1;
		}
		if (conn_write(c, buf, (size_t)n, ms) == -1)
			return -1;
		off += n;
		len -= (unsigned long long)n;
	}
	return 0;
}
