/*
 * tls.h - TLS with OpenSSL: a server context per server with SSLEngine
 * on (SNI picks the virtual host's), a client context per server with
 * SSLProxyEngine on, the handshakes with their deadlines, and the checks
 * of a backend's certificate.  Contexts are built while the master reads
 * the configuration (as root, before fork) and hang off it (cfg->tls);
 * workers inherit them.  Reading and writing over TLS is conn.c's.
 */
#ifndef TLS_H
#define TLS_H

#include <signal.h>
#include <stddef.h>

#include "gatewayd.h"

struct gw_parse;
struct ssl_st;

/*---------------------------------------------------------------------
 * Configuration time (conf.c, directives.c)
 */

/* tls_cipher_ok - does OpenSSL accept spec (TLS 1.3 suites if v13)? */
int		 tls_cipher_ok(const char *spec, int v13);
/*
 * tls_conf_build - the contexts of every server of the configuration
 * being read, into p->cfg->tls; what is wrong (unreadable or mismatched
 * files, bad cipher lists) is a config error at the directive's line,
 * an expired certificate or a key others may read is a warning.
 */
void		 tls_conf_build(struct gw_parse *);
void		 tls_free(struct tls_set *);

/*---------------------------------------------------------------------
 * Client connections (worker.c)
 */

/*
 * tls_accept - the TLS handshake on an accepted socket, when the server
 * for its local address has SSLEngine on; within ms.  0 with *ssl set
 * (NULL: a plain connection), or -1 when the connection is over (the
 * reason logged at info; a plain HTTP request got a 400).  The caller
 * closes fd either way.
 */
int		 tls_accept(const struct gw_config *, int fd, int ms,
		    volatile sig_atomic_t *stop, struct ssl_st **ssl);

/*---------------------------------------------------------------------
 * Backend connections (proxy.c)
 */

/* tls_client_id - which client context v uses (for pool keys); 0: none. */
unsigned	 tls_client_id(const struct gw_config *,
		    const struct gw_vhost *);
/*
 * tls_connect - TLS on a connected backend socket for server v: SNI is
 * name unless it is an IP address; the certificate is checked as
 * SSLProxyVerify and SSLProxyCheckPeer* say; a session kept under key
 * is resumed.  0 with *ssl set, or -1 with why filled.
 */
int		 tls_connect(const struct gw_config *, const struct gw_vhost *,
		    int fd, const char *name, const char *key, int ms,
		    volatile sig_atomic_t *stop, struct ssl_st **ssl,
		    char *why, size_t whylen);
/*
 * tls_idle_ok - a pooled TLS connection is open and has nothing to say
 * (late TLS 1.3 session tickets aside).  If it had to wait for them, the
 * kernel deadlines of fd changed: *rcv_ms and *snd_ms become -1.
 */
int		 tls_idle_ok(struct ssl_st *, int fd, int *rcv_ms,
		    int *snd_ms);
/* tls_flush_sessions - forget every backend session (worker exit). */
void		 tls_flush_sessions(void);

/*---------------------------------------------------------------------
 * Either side
 */

/* tls_close - close_notify (unless the connection failed), then free. */
void		 tls_close(struct ssl_st *);
/* tls_version, tls_cipher - for %{SSL_PROTOCOL}x and %{SSL_CIPHER}x. */
const char	*tls_version(const struct ssl_st *);
const char	*tls_cipher(const struct ssl_st *);
/* tls_error - the latest OpenSSL error as text (a static buffer). */
const char	*tls_error(void);

#endif /* TLS_H */
