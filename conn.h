/*
 * conn.h - timed I/O on one socket, client side or backend side.
 *
 * Every call has a deadline (milliseconds from now); past it the call
 * fails with errno ETIMEDOUT.  Sockets are blocking, with the deadline
 * set in the kernel (SO_RCVTIMEO, SO_SNDTIMEO).  A connection reads into
 * its own fixed buffer, so what a parser did not use (a pipelined
 * request, the start of a body) stays there for the next step.  With
 * an SSL object (ssl, set by the caller after tls.c's handshake) the
 * same calls read and write through TLS, with the same deadlines.
 */
#ifndef CONN_H
#define CONN_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct ssl_st;

struct gw_conn {
	int			 fd;
	struct ssl_st		*ssl;		/* TLS on fd, or NULL */
	char			*buf;		/* read buffer */
	size_t			 cap;
	size_t			 start;		/* unread data: buf[start..end) */
	size_t			 end;
	size_t			 pin;		/* buf[0..pin) is kept (a head) */
	int			 eof;
	int			 rcv_ms, snd_ms; /* kernel deadlines in force */
	const char		*held;		/* conn_hold: goes out first */
	size_t			 heldlen;
	volatile sig_atomic_t	*stop;		/* set: give up waiting */
	unsigned long long	 in, out;	/* bytes read and written */
};

/* conn_init - fd -1 makes a sink: writes succeed and go nowhere. */
void	conn_init(struct gw_conn *, int fd, char *buf, size_t cap,
	    volatile sig_atomic_t *stop);
/* conn_fill - read more into the buffer: >0 bytes, 0 EOF, -1 errno. */
ssize_t	conn_fill(struct gw_conn *, int ms);
/* conn_read - up to len bytes, buffered data first; 0 EOF, -1 errno. */
ssize_t	conn_read(struct gw_conn *, void *, size_t, int ms);
int	conn_write(struct gw_conn *, const void *, size_t, int ms);
void	conn_hold(struct gw_conn *, const char *, size_t);
int	conn_flush(struct gw_conn *, int ms);
int	conn_writev(struct gw_conn *, struct iovec *, int, int ms);
/* conn_compact - move unread data to the front (after the pinned part). */
void	conn_compact(struct gw_conn *);
size_t	conn_pending(const struct gw_conn *);
void	conn_consume(struct gw_conn *, size_t);
/* conn_wait - poll for events; 0 ready, -1 errno (ETIMEDOUT). */
int	conn_wait(int fd, short events, int ms, volatile sig_atomic_t *stop);
/* conn_connect - non-blocking connect with a deadline: fd, or -1. */
int	conn_connect(const struct sockaddr *, socklen_t, int ms,
	    volatile sig_atomic_t *stop);
/* conn_now_ms - the monotonic clock in milliseconds. */
long long conn_now_ms(void);
/* conn_set_intr_hook - run fn when a wait is interrupted by a signal. */
void	conn_set_intr_hook(void (*)(void));
/* conn_alive - an idle pooled socket is still open and silent. */
int	conn_alive(int fd);
/* conn_send_fd - len bytes of file fd from off, read and written. */
int	conn_send_fd(struct gw_conn *, int fd, off_t off,
	    unsigned long long len, int ms);
/* conn_tls_pending - bytes TLS holds decrypted, unread (0 plain). */
size_t	conn_tls_pending(const struct gw_conn *);
/* conn_tls_end - close_notify (unless failed), free; ssl becomes NULL. */
void	conn_tls_end(struct gw_conn *);

#endif /* CONN_H */
