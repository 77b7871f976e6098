/*
 * check_tls.c - integration tests of TLS (tls.c, conn.c over TLS, and
 * proxy.c's https:// backends): the real gatewayd binary
 * (GW_TEST_BINARY), the real test origin (GW_TEST_ORIGIN) for plain
 * HTTP backends, and a TLS backend of our own (a child process using
 * OpenSSL) that answers every request with what it saw: the SNI name,
 * the client certificate, whether the session was resumed, the
 * protocol, and which connection (its process) served it.  The
 * certificates come from tests/tlsfix.c, made fresh in each test's
 * directory.  Clients are OpenSSL clients in the test process.  Every
 * wait is bounded; no assertion depends on timing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "httpc.h"
#include "testlib.h"
#include "tlsfix.h"

#ifndef GW_TEST_ORIGIN
#error "GW_TEST_ORIGIN must name the test origin binary"
#endif

#define PATTERN		"0123456789abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n"
#define TBUF		(1024 * 1024)	/* a TLS client's read buffer */

/* Every gateway in this file starts from this. */
#define BASE_CONF \
	"ServerName gw.example\n" \
	"StartServers 2\n" \
	"MinSpareServers 1\n" \
	"MaxSpareServers 4\n" \
	"Timeout 10\n" \
	"LogFormat \"%h %{SSL_PROTOCOL}x %{SSL_CIPHER}x %{HTTPS}x \\\"%r\\\" " \
	"%>s\" tls\n"

static struct gwt_server S;
static struct proc	 O;		/* the plain origin */
static struct proc	 B;		/* our TLS backend */
static struct tlsfix	 fx;
static char		 alog[256];	/* the gateway's access log */

/*---------------------------------------------------------------------
 * Processes, logs, cleanup
 */

static void
cleanup(void)
{
	if (S.pid > 0)
		(void)kill(S.pid, SIGKILL);
	proc_stop(&O, SIGTERM);
	proc_stop(&B, SIGKILL);
	gwt_teardown(&S);
	S.dir[0] = '\0';
}

static void
dump(void)
{
	show_file(S.errlog);
	show_file(S.out);
	show_file(O.log);
	show_file(B.log);
}

/* REQUIRE - on failure show the logs, stop everything, fail the test. */
#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		dump();							\
		cleanup();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

static void	start_gw(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* start_gw - the gateway with BASE_CONF and the given lines. */
static void
start_gw(const char *fmt, ...)
{
	char	extra[8000], conf[9000];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	REQUIRE(n >= 0 && (size_t)n < sizeof(extra), "config too long");
	(void)snprintf(conf, sizeof(conf), "%sCustomLog \"%s\" tls\n%s",
	    BASE_CONF, alog, extra);
	REQUIRE(gwt_write_conf(&S, NULL, conf) == 0, "cannot write config");
	REQUIRE(gwt_start(&S, NULL) == 0, "gatewayd did not start");
	REQUIRE(S.nports >= 1, "no \"listening on\" line");
}

static void
setup(void)
{
	memset(&O, 0, sizeof(O));
	memset(&B, 0, sizeof(B));
	ck_assert_int_eq(gwt_setup(&S), 0);
	ck_assert_int_eq(tlsfix_make(&fx, S.dir), 0);
	(void)snprintf(alog, sizeof(alog), "%s/access_log", S.dir);
	REQUIRE(origin_start(&O, S.dir, "origin") == 0,
	    "the origin %s did not start", GW_TEST_ORIGIN);
}

static void
teardown(void)
{
	cleanup();
}

static int
file_has(const char *path, const char *needle)
{
	char	*s = gwt_read_file(path);
	int	 found = s != NULL && strstr(s, needle) != NULL;

	free(s);
	return found;
}

/* log_wait - until the error log holds needle; 0, or -1 after 10 s. */
static int
log_wait(const char *needle)
{
	return gwt_wait_log(&S, needle, 1, 10);
}

/* alog_wait - the same for the access log. */
static int
alog_wait(const char *needle)
{
	for (int i = 0; i < 500; i++) {
		if (file_has(alog, needle))
			return 0;
		(void)poll(NULL, 0, 20);
	}
	return -1;
}

/*---------------------------------------------------------------------
 * A TLS client
 */

struct tc {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		*buf;
	size_t		 len;
};

struct tresp {
	int		 status;
	char		 head[8192];
	char		*body;		/* in a static buffer, NUL-ended */
	size_t		 blen;
	int		 closed;	/* the server closed after it */
};

/* tcp - a blocking connection to 127.0.0.1:port with 10 s deadlines. */
static int
tcp(int port)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { IO_TIMEOUT, 0 };
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Options of tc_open. */
struct topt {
	const char	*sni;		/* NULL: none */
	const char	*ca;		/* verify against it; NULL: no check */
	int		 version;	/* TLS1_2_VERSION ...; 0: any */
	SSL_SESSION	*sess;		/* to resume */
};

/* tc_open - a TLS connection to the gateway; 0, or -1 (handshake). */
static int
tc_open(struct tc *c, const struct topt *o)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if ((c->buf = malloc(TBUF)) == NULL ||
	    (c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	if (o->version != 0 && (SSL_CTX_set_min_proto_version(c->ctx,
	    o->version) != 1 || SSL_CTX_set_max_proto_version(c->ctx,
	    o->version) != 1))
		return -1;
	if (o->ca != NULL) {
		if (SSL_CTX_load_verify_locations(c->ctx, o->ca, NULL) != 1)
			return -1;
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	}
	if ((c->fd = tcp(S.ports[0])) == -1 ||
	    (c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (o->sni != NULL && SSL_set_tlsext_host_name(c->ssl, o->sni) !=
	    1) || (o->sess != NULL && SSL_set_session(c->ssl, o->sess) != 1))
		return -1;
	return SSL_connect(c->ssl) == 1 ? 0 : -1;
}

static void
tc_close(struct tc *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		(void)close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* tc_fill - more bytes into c->buf: >0, 0 closed, -1 error. */
static int
tc_fill(struct tc *c)
{
	int n;

	if (c->len >= TBUF - 1)
		return -1;
	n = SSL_read(c->ssl, c->buf + c->len, (int)(TBUF - 1 - c->len));
	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		return n;
	}
	return SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN ||
	    (SSL_get_error(c->ssl, n) == SSL_ERROR_SYSCALL && errno == 0) ?
	    0 : -1;
}

/*
 * tc_ask - send req, read one response (Content-Length framed, or up to
 * the close); 0, or -1.  The body stays valid until the next tc_ask.
 */
static int
tc_ask(struct tc *c, const char *req, struct tresp *r)
{
	static char	 body[TBUF];
	char		 v[64], *e;
	size_t		 hl, want;
	int		 n;

	memset(r, 0, sizeof(*r));
	r->body = body;
	body[0] = '\0';
	if (SSL_write(c->ssl, req, (int)strlen(req)) != (int)strlen(req))
		return -1;
	while ((e = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) :
	    NULL) == NULL)
		if (tc_fill(c) <= 0)
			return -1;
	hl = (size_t)(e + 4 - c->buf);
	if (hl >= sizeof(r->head) || sscanf(c->buf, "HTTP/1.%*d %d",
	    &r->status) != 1)
		return -1;
	memcpy(r->head, c->buf, hl);
	r->head[hl] = '\0';
	if (r->status < 200 || r->status == 204 || r->status == 304)
		want = 0;
	else if (field(r->head, "Content-Length", v, sizeof(v)) > 0) {
		want = strtoul(v, NULL, 10);
		while (c->len - hl < want)
			if (tc_fill(c) <= 0)
				return -1;
	} else {
		while ((n = tc_fill(c)) > 0)
			;
		if (n < 0)
			return -1;
		want = c->len - hl;
		r->closed = 1;
	}
	memcpy(body, c->buf + hl, want);
	body[want] = '\0';
	r->blen = want;
	memmove(c->buf, c->buf + hl + want, c->len - hl - want);
	c->len -= hl + want;
	return 0;
}

/* peer_cn - the CN of the certificate the gateway showed. */
static const char *
peer_cn(const struct tc *c)
{
	static char	 cn[256];
	X509		*x = SSL_get0_peer_certificate(c->ssl);

	cn[0] = '\0';
	if (x == NULL || X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) < 0)
		return "";
	return cn;
}

/* get - one request on a new connection (o), closed after. */
static int
get(const struct topt *o, const char *req, struct tresp *r, char *cn,
    size_t cnlen)
{
	struct tc	 c;
	int		 rc;

	if (tc_open(&c, o) == -1) {
		tc_close(&c);
		return -1;
	}
	if (cn != NULL)
		(void)snprintf(cn, cnlen, "%s", peer_cn(&c));
	rc = tc_ask(&c, req, r);
	tc_close(&c);
	return rc;
}

/* body_has - does the answer's body contain s? */
static int
body_has(const struct tresp *r, const char *s)
{
	return strstr(r->body, s) != NULL;
}

/*---------------------------------------------------------------------
 * Our TLS backend: a child that forks per connection and answers each
 * request with what it saw (see be_answer).
 */

static void
be_answer(SSL *ssl, const char *line, const char *host)
{
	char		 body[2048], out[4096], client[256] = "-";
	const char	*sni = SSL_get_servername(ssl,
			    TLSEXT_NAMETYPE_host_name);
	X509		*x = SSL_get0_peer_certificate(ssl);
	int		 bn, n;

	if (x != NULL)
		(void)X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, client, sizeof(client));
	bn = snprintf(body, sizeof(body), "sni=%s\nclient=%s\nresumed=%d\n"
	    "proto=%s\nconn=%ld\nline=%s\nhost=%s\n", sni ? sni : "-",
	    client, SSL_session_reused(ssl), SSL_get_version(ssl),
	    (long)getpid(), line, host);
	n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %d\r\nServer: tls-backend\r\n"
	    "\r\n%s", bn, body);
	if (SSL_write(ssl, out, n) != n)
		_exit(0);
}

/* be_echo - a 101, then every read is written back after "echo:". */
static void
be_echo(SSL *ssl)
{
	static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	char	buf[4096];
	int	n;

	if (SSL_write(ssl, sw, sizeof(sw) - 1) != (int)sizeof(sw) - 1)
		_exit(0);
	memcpy(buf, "echo:", 5);
	while ((n = SSL_read(ssl, buf + 5, (int)sizeof(buf) - 5)) > 0)
		if (SSL_write(ssl, buf, n + 5) != n + 5)
			break;
	_exit(0);
}

/* be_conn - one connection: requests until EOF or Connection: close. */
static void
be_conn(SSL_CTX *ctx, int fd)
{
	struct timeval	 tv = { 10, 0 };
	char		 buf[16384], line[1024], host[256], *e, *h;
	size_t		 len = 0;
	SSL		*ssl;
	int		 n, close_after;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		_exit(1);
	if (SSL_accept(ssl) != 1) {
		(void)fprintf(stderr, "tls-backend[%ld]: handshake failed: "
		    "%s\n", (long)getpid(), ERR_reason_error_string(
		    ERR_peek_last_error()));
		_exit(0);
	}
	for (;;) {
		while ((e = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) :
		    NULL) == NULL) {
			if (len >= sizeof(buf) - 1 || (n = SSL_read(ssl,
			    buf + len, (int)(sizeof(buf) - 1 - len))) <= 0)
				_exit(0);
			len += (size_t)n;
		}
		*e = '\0';
		(void)snprintf(line, sizeof(line), "%.*s",
		    (int)strcspn(buf, "\r\n"), buf);
		(void)snprintf(host, sizeof(host), "-");
		if ((h = strcasestr(buf, "\r\nHost: ")) != NULL)
			(void)snprintf(host, sizeof(host), "%.*s",
			    (int)strcspn(h + 8, "\r\n"), h + 8);
		close_after = strcasestr(buf, "\r\nConnection: close") != NULL;
		if (strcasestr(buf, "\r\nUpgrade: websocket") != NULL)
			be_echo(ssl);
		(void)fprintf(stderr, "tls-backend[%ld]: \"%s\" resumed=%d\n",
		    (long)getpid(), line, SSL_session_reused(ssl));
		be_answer(ssl, line, host);
		n = (int)(e + 4 - buf);
		memmove(buf, buf + n, len - (size_t)n);
		len -= (size_t)n;
		if (close_after) {
			(void)SSL_shutdown(ssl);
			_exit(0);
		}
	}
}

/*
 * be_start - the TLS backend with certificate crt/key; client_ca:
 * demand a client certificate signed by it.  Its port in B.port.
 */
static void
be_start(const char *crt, const char *key, const char *client_ca)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	static const unsigned char sid[] = "tls-backend";
	SSL_CTX			*ctx;
	pid_t			 parent = getpid(), pid;
	int			 lfd, fd, one = 1;

	(void)snprintf(B.log, sizeof(B.log), "%s/tls-backend.log", S.dir);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ctx = SSL_CTX_new(TLS_server_method());
	REQUIRE(ctx != NULL && SSL_CTX_use_certificate_chain_file(ctx, crt) ==
	    1 && SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) ==
	    1 && SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) ==
	    1, "backend context");
	if (client_ca != NULL) {
		REQUIRE(SSL_CTX_load_verify_locations(ctx, client_ca, NULL) ==
		    1, "backend client CA");
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(lfd != -1 && setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0 && bind(lfd, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && listen(lfd, 64) == 0 && getsockname(lfd,
	    (struct sockaddr *)&sin, &sl) == 0, "backend socket");
	B.port = ntohs(sin.sin_port);
	REQUIRE((pid = fork()) != -1, "fork");
	if (pid > 0) {
		B.pid = pid;
		(void)close(lfd);
		SSL_CTX_free(ctx);
		return;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != parent)
		_exit(1);
	if ((fd = open(B.log, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		(void)close(fd);
	}
	setvbuf(stderr, NULL, _IONBF, 0);
	(void)signal(SIGCHLD, SIG_IGN);	/* no zombies */
	(void)signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		if ((pid = fork()) == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			(void)close(lfd);
			be_conn(ctx, fd);
			_exit(0);
		}
		(void)close(fd);
	}
}

/*---------------------------------------------------------------------
 * The front end: certificates by SNI, protocols, plain HTTP, deadlines
 */

/* Two TLS virtual hosts on the gateway's one address. */
#define TWO_VHOSTS \
	"<VirtualHost *>\n" \
	"  ServerName a.test\n" \
	"  SSLEngine on\n" \
	"  SSLCertificateFile \"%s\"\n" \
	"  SSLCertificateKeyFile \"%s\"\n" \
	"  ProxyPass / http://127.0.0.1:%d/\n" \
	"  ProxyPassReverse / http://127.0.0.1:%d/\n" \
	"</VirtualHost>\n" \
	"<VirtualHost *>\n" \
	"  ServerName b.test\n" \
	"  SSLEngine on\n" \
	"  SSLCertificateFile \"%s\"\n" \
	"  SSLCertificateKeyFile \"%s\"\n" \
	"  ProxyPass / http://127.0.0.1:%d/\n" \
	"</VirtualHost>\n"

static void
start_two_vhosts(const char *extra)
{
	start_gw("%s" TWO_VHOSTS, extra, fx.a_crt, fx.a_key, O.port, O.port,
	    fx.b_crt, fx.b_key, O.port);
}

/* Each SNI name gets its virtual host's certificate, which verifies. */
START_TEST(test_sni_two_vhosts)
{
	struct topt	 o = { NULL, NULL, 0, NULL };
	struct tresp	 r;
	char		 cn[256], v[256];

	start_two_vhosts("");
	o.ca = fx.ca;
	o.sni = "a.test";
	REQUIRE(get(&o, "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n", &r, cn,
	    sizeof(cn)) == 0 && r.status == 200, "no answer over TLS "
	    "(a.test)");
	REQUIRE(strcmp(cn, "a.test") == 0, "SNI a.test got \"%s\"", cn);
	REQUIRE(body_has(&r, "X-Forwarded-Server: a.test\r\n"),
	    "not served by a.test:\n%s", r.body);
	o.sni = "b.test";
	REQUIRE(get(&o, "GET /echo HTTP/1.1\r\nHost: b.test\r\n\r\n", &r, cn,
	    sizeof(cn)) == 0 && r.status == 200, "no answer over TLS "
	    "(b.test)");
	REQUIRE(strcmp(cn, "b.test") == 0, "SNI b.test got \"%s\"", cn);
	REQUIRE(body_has(&r, "X-Forwarded-Server: b.test\r\n"),
	    "not served by b.test:\n%s", r.body);
	/* the Host header still picks the vhost of each request */
	o.sni = "a.test";
	REQUIRE(get(&o, "GET /echo HTTP/1.1\r\nHost: b.test\r\n\r\n", &r, cn,
	    sizeof(cn)) == 0 && r.status == 200 && strcmp(cn, "a.test") == 0,
	    "SNI a.test, Host b.test");
	REQUIRE(field(r.body, "X-Forwarded-Server", v, sizeof(v)) == 1 &&
	    strcmp(v, "b.test") == 0, "Host b.test served by \"%s\"", v);
	/* an unknown name: the first vhost's certificate */
	o.sni = "other.test";
	o.ca = NULL;
	REQUIRE(get(&o, "GET / HTTP/1.1\r\nHost: other.test\r\n\r\n", &r, cn,
	    sizeof(cn)) == 0 && r.status == 200 && strcmp(cn, "a.test") == 0,
	    "SNI other.test got \"%s\"", cn);
}
END_TEST

/* A client that sends no SNI gets the first vhost's certificate. */
START_TEST(test_no_sni)
{
	struct topt	 o = { NULL, NULL, 0, NULL };
	struct tresp	 r;
	char		 cn[256];

	start_two_vhosts("");
	REQUIRE(get(&o, "GET / HTTP/1.1\r\nHost: b.test\r\n\r\n", &r, cn,
	    sizeof(cn)) == 0 && r.status == 200, "no answer without SNI");
	REQUIRE(strcmp(cn, "a.test") == 0, "no SNI got \"%s\"", cn);
}
END_TEST

/* TLS 1.2 and 1.3 both work, and the access log names each. */
START_TEST(test_tls12_and_13)
{
	static const struct {
		int		 version;
		const char	*name;
	} vs[] = { { TLS1_2_VERSION, "TLSv1.2" }, { TLS1_3_VERSION,
	    "TLSv1.3" } };
	struct topt	 o = { "a.test", NULL, 0, NULL };
	struct tresp	 r;
	struct tc	 c;
	char		 want[256], req[256];

	start_two_vhosts("");
	for (int i = 0; i < 2; i++) {
		o.ca = fx.ca;
		o.version = vs[i].version;
		REQUIRE(tc_open(&c, &o) == 0, "%s handshake", vs[i].name);
		REQUIRE(strcmp(SSL_get_version(c.ssl), vs[i].name) == 0,
		    "%s asked, %s spoken", vs[i].name,
		    SSL_get_version(c.ssl));
		(void)snprintf(want, sizeof(want), "127.0.0.1 %s %s on "
		    "\"GET /?%s HTTP/1.1\" 200", vs[i].name,
		    SSL_get_cipher_name(c.ssl), vs[i].name);
		(void)snprintf(req, sizeof(req), "GET /?%s HTTP/1.1\r\n"
		    "Host: a.test\r\n\r\n", vs[i].name);
		REQUIRE(tc_ask(&c, req, &r) == 0 && r.status == 200,
		    "a request over %s", vs[i].name);
		tc_close(&c);
		REQUIRE(alog_wait(want) == 0, "the access log lacks \"%s\"",
		    want);
	}
}
END_TEST

/* SSLProtocol: a version left out is refused, logged at info. */
START_TEST(test_protocol_directive)
{
	struct topt	 o = { "a.test", NULL, TLS1_2_VERSION, NULL };
	struct tresp	 r;
	struct tc	 c;

	start_two_vhosts("SSLProtocol -all +TLSv1.3\n");
	REQUIRE(tc_open(&c, &o) == -1, "TLS 1.2 accepted under "
	    "SSLProtocol -all +TLSv1.3");
	tc_close(&c);
	REQUIRE(log_wait("[info]") == 0 && log_wait("TLS: handshake with "
	    "127.0.0.1 failed: ") == 0, "no info line for the handshake");
	o.version = TLS1_3_VERSION;
	REQUIRE(get(&o, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", &r, NULL,
	    0) == 0 && r.status == 200, "TLS 1.3 refused");
}
END_TEST

/* Plain HTTP to the TLS port: Apache's 400, then the close. */
START_TEST(test_plain_http_to_tls_port)
{
	char		 buf[4096];
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	start_two_vhosts("");
	REQUIRE((fd = tcp(S.ports[0])) != -1, "connect");
	REQUIRE(write_all(fd, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", 32) ==
	    0, "send");
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len,
	    sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	(void)close(fd);
	REQUIRE(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0,
	    "plain HTTP got:\n%s", buf);
	REQUIRE(strstr(buf, "speaking plain HTTP to an SSL-enabled server "
	    "port") != NULL && strstr(buf, "Connection: close\r\n") != NULL,
	    "not the plain HTTP page:\n%s", buf);
	REQUIRE(log_wait("TLS: 127.0.0.1 sent plain HTTP to a TLS port; "
	    "400") == 0, "not logged");
	/* the worker lives on: a TLS client is served after it */
	{
		struct topt	o = { "b.test", NULL, 0, NULL };
		struct tresp	tr;

		REQUIRE(get(&o, "GET / HTTP/1.1\r\nHost: b.test\r\n\r\n", &tr,
		    NULL, 0) == 0 && tr.status == 200, "TLS after plain");
	}
}
END_TEST

/* The handshake has a deadline: a silent client is let go. */
START_TEST(test_handshake_deadline)
{
	char	 b;
	ssize_t	 n;
	int	 fd;

	start_two_vhosts("Timeout 1\n");
	REQUIRE((fd = tcp(S.ports[0])) != -1, "connect");
	n = read(fd, &b, 1);		/* 10 s SO_RCVTIMEO */
	(void)close(fd);
	REQUIRE(n == 0, "a silent client was not let go (read %zd, %s)", n,
	    n < 0 ? strerror(errno) : "data");
	REQUIRE(log_wait("TLS: 127.0.0.1 sent nothing in time") == 0,
	    "not logged");
	/* and garbage instead of a ClientHello: info, no crash */
	REQUIRE((fd = tcp(S.ports[0])) != -1, "connect");
	REQUIRE(write_all(fd, "\x16\x03\x01\x00\x05hello", 10) == 0, "send");
	n = read(fd, &b, 1);
	(void)close(fd);
	REQUIRE(log_wait("TLS: handshake with 127.0.0.1 failed: ") == 0,
	    "garbage handshake not logged");
	REQUIRE(gwt_log_count(&S, "exit signal") == 0, "a worker crashed");
}
END_TEST

/*
 * Session tickets work across workers: with MaxConnectionsPerChild 1
 * every connection has a new worker, and each resumes the session the
 * first one got.
 */
START_TEST(test_resumption_across_workers)
{
	static const int vs[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	struct topt	 o = { "a.test", NULL, 0, NULL };
	SSL_SESSION	*sess;
	struct tresp	 r;
	struct tc	 c;
	pid_t		 first, pid;

	start_two_vhosts("MaxConnectionsPerChild 1\n");
	for (int v = 0; v < 2; v++) {
		o.version = vs[v];
		o.sess = NULL;
		REQUIRE(tc_open(&c, &o) == 0, "handshake");
		first = gwt_server_pid(S.pid, c.fd, GWT_PID_WAIT);
		REQUIRE(tc_ask(&c, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n",
		    &r) == 0 && r.status == 200, "first request");
		REQUIRE((sess = SSL_get1_session(c.ssl)) != NULL &&
		    SSL_SESSION_is_resumable(sess), "no resumable session");
		tc_close(&c);
		for (int i = 0; i < 3; i++) {
			o.sess = sess;
			REQUIRE(tc_open(&c, &o) == 0, "resuming handshake");
			pid = gwt_server_pid(S.pid, c.fd, GWT_PID_WAIT);
			REQUIRE(SSL_session_reused(c.ssl) == 1, "session not "
			    "resumed (%s, connection %d)",
			    SSL_get_version(c.ssl), i);
			REQUIRE(pid > 0 && first > 0 && pid != first,
			    "served by the same worker %ld", (long)pid);
			REQUIRE(tc_ask(&c, "GET / HTTP/1.1\r\nHost: a.test\r\n"
			    "\r\n", &r) == 0 && r.status == 200, "request");
			SSL_SESSION_free(sess);
			sess = SSL_get1_session(c.ssl);
			tc_close(&c);
		}
		SSL_SESSION_free(sess);
	}
}
END_TEST

/* SSLCertificateChainFile: the intermediate goes out with the leaf. */
START_TEST(test_chain_file)
{
	struct topt	 o = { "c.test", NULL, 0, NULL };
	struct tresp	 r;
	char		 cn[256];

	start_gw("<VirtualHost *>\n  ServerName c.test\n  SSLEngine on\n"
	    "  SSLCertificateFile \"%s\"\n  SSLCertificateKeyFile \"%s\"\n"
	    "  SSLCertificateChainFile \"%s\"\n"
	    "  ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n",
	    fx.c_crt, fx.c_key, fx.inter, O.port);
	o.ca = fx.ca;			/* the root only */
	REQUIRE(get(&o, "GET / HTTP/1.1\r\nHost: c.test\r\n\r\n", &r, cn,
	    sizeof(cn)) == 0 && r.status == 200 && strcmp(cn, "c.test") == 0,
	    "the chain did not verify");
}
END_TEST

/* Per virtual host (chosen by SNI) cipher lists and their order. */
START_TEST(test_cipher_suite)
{
	struct topt	 o = { "a.test", NULL, TLS1_2_VERSION, NULL };
	struct tc	 c;
	char		 cipher[128];

	start_gw("<VirtualHost *>\n  ServerName first.test\n  SSLEngine on\n"
	    "  SSLCertificateFile \"%s\"\n  SSLCertificateKeyFile \"%s\"\n"
	    "  SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256\n"
	    "  ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName a.test\n  SSLEngine on\n"
	    "  SSLCertificateFile \"%s\"\n  SSLCertificateKeyFile \"%s\"\n"
	    "  ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName b.test\n  SSLEngine on\n"
	    "  SSLCertificateFile \"%s\"\n  SSLCertificateKeyFile \"%s\"\n"
	    "  SSLCipherSuite ECDHE-ECDSA-CHACHA20-POLY1305:"
	    "ECDHE-ECDSA-AES256-GCM-SHA384\n"
	    "  SSLHonorCipherOrder on\n"
	    "  ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName c.test\n  SSLEngine on\n"
	    "  SSLCertificateFile \"%s\"\n  SSLCertificateKeyFile \"%s\"\n"
	    "  SSLCipherSuite ECDHE-ECDSA-CHACHA20-POLY1305:"
	    "ECDHE-ECDSA-AES256-GCM-SHA384\n"
	    "  ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n",
	    fx.a_crt, fx.a_key, O.port, fx.a_crt, fx.a_key, O.port,
	    fx.b_crt, fx.b_key, O.port, fx.b_crt, fx.b_key, O.port);
	/* no SNI: the first vhost's list */
	o.sni = NULL;
	REQUIRE(tc_open(&c, &o) == 0, "handshake without SNI");
	(void)snprintf(cipher, sizeof(cipher), "%s",
	    SSL_get_cipher_name(c.ssl));
	tc_close(&c);
	REQUIRE(strcmp(cipher, "ECDHE-ECDSA-AES128-GCM-SHA256") == 0,
	    "the first vhost chose %s", cipher);
	/*
	 * a.test sets no list: OpenSSL's defaults, not the first vhost's;
	 * OpenSSL's client prefers AES-256-GCM to ChaCha20
	 */
	o.sni = "a.test";
	REQUIRE(tc_open(&c, &o) == 0, "a.test handshake");
	(void)snprintf(cipher, sizeof(cipher), "%s",
	    SSL_get_cipher_name(c.ssl));
	tc_close(&c);
	REQUIRE(strcmp(cipher, "ECDHE-ECDSA-AES256-GCM-SHA384") == 0,
	    "a.test (OpenSSL's defaults) chose %s", cipher);
	/* b.test: its own list, its own order (SSLHonorCipherOrder) */
	o.sni = "b.test";
	REQUIRE(tc_open(&c, &o) == 0, "b.test handshake");
	(void)snprintf(cipher, sizeof(cipher), "%s",
	    SSL_get_cipher_name(c.ssl));
	tc_close(&c);
	REQUIRE(strcmp(cipher, "ECDHE-ECDSA-CHACHA20-POLY1305") == 0,
	    "b.test chose %s", cipher);
	/* c.test: the same list, the client's order */
	o.sni = "c.test";
	REQUIRE(tc_open(&c, &o) == 0, "c.test handshake");
	(void)snprintf(cipher, sizeof(cipher), "%s",
	    SSL_get_cipher_name(c.ssl));
	tc_close(&c);
	REQUIRE(strcmp(cipher, "ECDHE-ECDSA-AES256-GCM-SHA384") == 0,
	    "c.test chose %s", cipher);
}
END_TEST

/* two_vhosts_conf - the TWO_VHOSTS config, a.test with key akey. */
static void
write_two_vhosts(const char *akey)
{
	char	conf[9000];
	int	n;

	n = snprintf(conf, sizeof(conf), "%sCustomLog \"%s\" tls\n"
	    TWO_VHOSTS, BASE_CONF, alog, fx.a_crt, akey, O.port, O.port,
	    fx.b_crt, fx.b_key, O.port);
	REQUIRE(n > 0 && (size_t)n < sizeof(conf) &&
	    gwt_write_conf(&S, NULL, conf) == 0, "cannot write config");
}

/*
 * A restart with a key that does not match is refused and TLS goes on;
 * a good one is taken, and sessions from before it still resume (the
 * ticket keys are the master's, not the configuration's).
 */
START_TEST(test_restart_keeps_tls)
{
	struct topt	 o = { "a.test", NULL, 0, NULL };
	SSL_SESSION	*sess;
	struct tresp	 r;
	struct tc	 c;

	start_two_vhosts("");
	o.ca = fx.ca;
	REQUIRE(tc_open(&c, &o) == 0 && tc_ask(&c, "GET / HTTP/1.1\r\n"
	    "Host: a.test\r\n\r\n", &r) == 0 && r.status == 200, "first");
	REQUIRE((sess = SSL_get1_session(c.ssl)) != NULL, "session");
	tc_close(&c);
	write_two_vhosts(fx.stray_key);
	REQUIRE(kill(S.pid, SIGUSR1) == 0, "kill");
	REQUIRE(log_wait("restart refused") == 0, "a bad key was taken");
	REQUIRE(log_wait("the private key in ") == 0, "no reason given");
	REQUIRE(get(&o, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", &r, NULL,
	    0) == 0 && r.status == 200, "TLS stopped after a refused restart");
	write_two_vhosts(fx.a_key);
	REQUIRE(kill(S.pid, SIGUSR1) == 0, "kill");
	REQUIRE(gwt_wait_log(&S, "resuming normal operations", 2, 10) == 0,
	    "the good restart was not taken");
	o.sess = sess;
	REQUIRE(tc_open(&c, &o) == 0, "handshake after the restart");
	REQUIRE(SSL_session_reused(c.ssl) == 1, "no resumption across the "
	    "restart");
	REQUIRE(tc_ask(&c, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", &r) == 0 &&
	    r.status == 200, "request after the restart");
	tc_close(&c);
	SSL_SESSION_free(sess);
}
END_TEST

/*---------------------------------------------------------------------
 * Offload: TLS in front of the plain origin, X-Forwarded-*, rewriting,
 * the cache
 */

START_TEST(test_offload_forwarded)
{
	struct topt	 o = { "a.test", NULL, 0, NULL };
	struct tresp	 r;
	char		 req[512], v[512], want[256];

	start_two_vhosts("");
	o.ca = fx.ca;
	REQUIRE(get(&o, "GET /echo HTTP/1.1\r\nHost: a.test:8443\r\n"
	    "X-Forwarded-For: 10.1.2.3\r\n\r\n", &r, NULL, 0) == 0 &&
	    r.status == 200, "no answer");
	REQUIRE(field(r.body, "X-Forwarded-For", v, sizeof(v)) == 1 &&
	    strcmp(v, "10.1.2.3, 127.0.0.1") == 0, "X-Forwarded-For \"%s\"",
	    v);
	REQUIRE(field(r.body, "X-Forwarded-Host", v, sizeof(v)) == 1 &&
	    strcmp(v, "a.test:8443") == 0, "X-Forwarded-Host \"%s\"", v);
	REQUIRE(field(r.body, "X-Forwarded-Server", v, sizeof(v)) == 1 &&
	    strcmp(v, "a.test") == 0, "X-Forwarded-Server \"%s\"", v);
	REQUIRE(field(r.body, "X-Forwarded-Proto", v, sizeof(v)) == 1 &&
	    strcmp(v, "https") == 0, "X-Forwarded-Proto \"%s\"", v);
	/* a backend redirect comes back as an https:// URL */
	(void)snprintf(req, sizeof(req), "GET /status/302?header=Location:"
	    "http://127.0.0.1:%d/next HTTP/1.1\r\nHost: a.test:8443\r\n\r\n",
	    O.port);
	REQUIRE(get(&o, req, &r, NULL, 0) == 0 && r.status == 302,
	    "no redirect");
	(void)snprintf(want, sizeof(want), "https://a.test:8443/next");
	REQUIRE(field(r.head, "Location", v, sizeof(v)) == 1 &&
	    strcmp(v, want) == 0, "Location \"%s\", want \"%s\"", v, want);
	REQUIRE(alog_wait(" on \"GET /echo HTTP/1.1\" 200") == 0,
	    "%%{HTTPS}x is not on");
}
END_TEST

static int
pattern_ok(const char *b, size_t n)
{
	size_t	plen = sizeof(PATTERN) - 1;

	for (size_t i = 0; i < n; i++)
		if (b[i] != PATTERN[i % plen])
			return 0;
	return 1;
}

/* Cached responses go out over TLS, big (read + write) and small. */
START_TEST(test_cache_over_tls)
{
	static const struct {
		const char	*url;
		size_t		 len;
	} us[] = {
		{ "/size/300000?header=Cache-Control:max-age=300", 300000 },
		{ "/size/100?header=Cache-Control:max-age=300", 100 },
	};
	struct topt	 o = { "a.test", NULL, 0, NULL };
	struct tresp	 r;
	struct tc	 c;
	char		 req[512], croot[256], v[256];
	long		 n0;

	(void)snprintf(croot, sizeof(croot), "%s/cache", S.dir);
	start_gw("CacheRoot \"%s\"\nCacheHeader on\n" TWO_VHOSTS
	    "CacheEnable disk /\n", croot, fx.a_crt, fx.a_key, O.port,
	    O.port, fx.b_crt, fx.b_key, O.port);
	for (size_t i = 0; i < 2; i++) {
		n0 = origin_ask_count(&O);
		REQUIRE(tc_open(&c, &o) == 0, "handshake");
		(void)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
		    "Host: a.test\r\n\r\n", us[i].url);
		for (int k = 0; k < 3; k++) {
			REQUIRE(tc_ask(&c, req, &r) == 0 && r.status == 200 &&
			    r.blen == us[i].len && pattern_ok(r.body, r.blen),
			    "answer %d for %s: %d, %zu bytes", k, us[i].url,
			    r.status, r.blen);
			if (k > 0)
				REQUIRE(field(r.head, "X-Cache", v, sizeof(v))
				    == 1 && strncmp(v, "HIT", 3) == 0,
				    "answer %d not from the cache: %s", k,
				    r.head);
		}
		tc_close(&c);
		REQUIRE(origin_ask_count(&O) == n0 + 1, "the origin was asked "
		    "%ld times", origin_ask_count(&O) - n0);
	}
}
END_TEST

/*---------------------------------------------------------------------
 * https:// backends
 */

/*
 * One gateway, a plain front, several virtual hosts that each proxy to
 * the TLS backend with other SSLProxy* settings; Host picks one.
 */
static void
start_backend_gw(const char *extra)
{
	start_gw("SSLProxyEngine on\n%s"
	    "<VirtualHost *>\n  ServerName good.gw\n"
	    "  SSLProxyVerify require\n  SSLProxyCACertificateFile \"%s\"\n"
	    "  ProxyPass /nopool/ https://localhost:%d/ disablereuse=On\n"
	    "  ProxyPass / https://localhost:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName badca.gw\n"
	    "  SSLProxyVerify require\n  SSLProxyCACertificateFile \"%s\"\n"
	    "  ProxyPass / https://localhost:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName backend.test\n"
	    "  ServerAlias wrong.test\n  ProxyPreserveHost On\n"
	    "  SSLProxyVerify require\n  SSLProxyCACertificateFile \"%s\"\n"
	    "  ProxyPass / https://localhost:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName ip.gw\n"
	    "  SSLProxyVerify require\n  SSLProxyCACertificateFile \"%s\"\n"
	    "  ProxyPass / https://127.0.0.1:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName none.gw\n"
	    "  ProxyPreserveHost On\n  ServerAlias none.wrong\n"
	    "  SSLProxyVerify none\n"
	    "  ProxyPass / https://localhost:%d/\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName nocheck.wrong\n"
	    "  ProxyPreserveHost On\n  SSLProxyCheckPeerName off\n"
	    "  SSLProxyVerify require\n  SSLProxyCACertificateFile \"%s\"\n"
	    "  ProxyPass / https://localhost:%d/\n</VirtualHost>\n",
	    extra, fx.ca, B.port, B.port, fx.ca2, B.port, fx.ca, B.port,
	    fx.ca, B.port, B.port, fx.ca, B.port);
}

/* ask_plain - one request to the gateway's plain front. */
static int
ask_plain(const char *host, const char *path, struct resp *r)
{
	struct client	 c;
	char		 req[512];
	int		 rc;

	if (httpc_open(&c, S.hosts[0], S.ports[0]) == -1)
		return -1;
	(void)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "\r\n", path, host);
	resp_reset(r);
	rc = cl_sends(&c, req) == 0 && read_resp(&c, r, 0) == 0 ? 0 : -1;
	cl_close(&c);
	return rc;
}

START_TEST(test_backend_verify)
{
	struct resp	 r;

	memset(&r, 0, sizeof(r));
	be_start(fx.be_crt, fx.be_key, NULL);
	start_backend_gw("");
	/* the right CA: through, SNI = the URL's host */
	REQUIRE(ask_plain("good.gw", "/x", &r) == 0 && r.status == 200,
	    "good CA: %d", r.status);
	REQUIRE(strstr(r.body, "sni=localhost\n") != NULL &&
	    strstr(r.body, "line=GET /x HTTP/1.1\n") != NULL &&
	    strstr(r.body, "host=localhost:") != NULL, "good CA:\n%s",
	    r.body);
	/* another CA: 502, and the error log says why */
	REQUIRE(ask_plain("badca.gw", "/x", &r) == 0 && r.status == 502,
	    "wrong CA: %d", r.status);
	REQUIRE(log_wait("proxy: TLS to backend localhost:") == 0 &&
	    log_wait("certificate verify failed: unable to get local issuer "
	    "certificate (SSLProxyVerify)") == 0, "no reason logged");
	/* ProxyPreserveHost: SNI and the checked name are the client's */
	REQUIRE(ask_plain("backend.test:81", "/y", &r) == 0 &&
	    r.status == 200 && strstr(r.body, "sni=backend.test\n") != NULL &&
	    strstr(r.body, "host=backend.test:81\n") != NULL,
	    "preserved host: %d\n%s", r.status, r.body);
	REQUIRE(ask_plain("wrong.test", "/y", &r) == 0 && r.status == 502,
	    "wrong name: %d", r.status);
	REQUIRE(log_wait("(wrong.test): the backend's certificate does not "
	    "name wrong.test (SSLProxyCheckPeerName)") == 0,
	    "no name reason logged");
	/* an IP address: no SNI, checked against the IP in the cert */
	REQUIRE(ask_plain("ip.gw", "/z", &r) == 0 && r.status == 200 &&
	    strstr(r.body, "sni=-\n") != NULL, "IP backend: %d\n%s",
	    r.status, r.body);
	/* SSLProxyVerify none: no chain check, but the name still counts */
	REQUIRE(ask_plain("none.gw", "/", &r) == 0 && r.status == 502,
	    "verify none, name none.gw: %d", r.status);
	/* SSLProxyCheckPeerName off: the name does not count */
	REQUIRE(ask_plain("nocheck.wrong", "/", &r) == 0 && r.status == 200 &&
	    strstr(r.body, "sni=nocheck.wrong\n") != NULL,
	    "SSLProxyCheckPeerName off: %d", r.status);
	resp_free(&r);
	REQUIRE(gwt_log_count(&S, "exit signal") == 0, "a worker crashed");
}
END_TEST

/*
 * A balancer with an https:// member: each request that reaches it is
 * verified and named as for a plain https:// ProxyPass; the member that
 * refuses connections (a bound socket that does not listen) is passed
 * over without the client seeing it.
 */
START_TEST(test_backend_balancer)
{
	struct resp		 r;
	int			 fd, port;

	memset(&r, 0, sizeof(r));
	REQUIRE((fd = gwt_tcp_socket(&port, 0)) != -1,
	    "cannot bind a refusing port");
	be_start(fx.be_crt, fx.be_key, NULL);
	start_gw("SSLProxyEngine on\nSSLProxyVerify require\n"
	    "SSLProxyCACertificateFile \"%s\"\n"
	    "<Proxy balancer://tls>\n"
	    "  BalancerMember http://127.0.0.1:%d\n"
	    "  BalancerMember https://localhost:%d/ hcmethod=TCP\n"
	    "</Proxy>\n"
	    "ProxyPass /b/ balancer://tls/\n", fx.ca, port,
	    B.port);
	for (int i = 0; i < 3; i++) {
		REQUIRE(ask_plain("any.gw", "/b/p", &r) == 0 &&
		    r.status == 200, "request %d: %d", i, r.status);
		REQUIRE(strstr(r.body, "sni=localhost\n") != NULL &&
		    strstr(r.body, "line=GET /p HTTP/1.1\n") != NULL,
		    "request %d:\n%s", i, r.body);
	}
	(void)close(fd);
	resp_free(&r);
	REQUIRE(gwt_log_count(&S, "is in error state") == 1, "the refusing "
	    "member was not put in error state once");
}
END_TEST

/*
 * SSLProxyVerify none and optional_no_ca forgive an unknown CA when the
 * name fits; require does not.
 */
START_TEST(test_backend_verify_none)
{
	struct resp	 r;

	memset(&r, 0, sizeof(r));
	be_start(fx.be_crt, fx.be_key, NULL);
	start_gw("SSLProxyEngine on\nSSLProxyCACertificateFile \"%s\"\n"
	    "ProxyPass / https://localhost:%d/\n"
	    "<VirtualHost *>\n  ServerName none.gw\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName noca.gw\n"
	    "  SSLProxyVerify optional_no_ca\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName require.gw\n"
	    "  SSLProxyVerify require\n</VirtualHost>\n", fx.ca2, B.port);
	REQUIRE(ask_plain("none.gw", "/", &r) == 0 && r.status == 200 &&
	    strstr(r.body, "sni=localhost\n") != NULL,
	    "verify none: %d", r.status);
	REQUIRE(ask_plain("noca.gw", "/", &r) == 0 && r.status == 200,
	    "optional_no_ca: %d", r.status);
	REQUIRE(ask_plain("require.gw", "/", &r) == 0 && r.status == 502,
	    "require, unknown CA: %d", r.status);
	resp_free(&r);
}
END_TEST

/* SSLProxyMachineCertificateFile: the backend asks, the gateway shows. */
START_TEST(test_backend_client_cert)
{
	struct resp	 r;

	memset(&r, 0, sizeof(r));
	be_start(fx.be_crt, fx.be_key, fx.ca);
	start_gw("SSLProxyEngine on\nSSLProxyVerify require\n"
	    "SSLProxyCACertificateFile \"%s\"\n"
	    "SSLProxyMachineCertificateFile \"%s\"\n"
	    "ProxyPass / https://localhost:%d/\n", fx.ca, fx.client, B.port);
	REQUIRE(ask_plain("gw.example", "/", &r) == 0 && r.status == 200 &&
	    strstr(r.body, "client=gateway-client\n") != NULL,
	    "client certificate: %d\n%s", r.status, r.body);
	resp_free(&r);
}
END_TEST

/* A backend that wants a client certificate and gets none: 502. */
START_TEST(test_backend_client_cert_missing)
{
	struct resp	 r;

	memset(&r, 0, sizeof(r));
	be_start(fx.be_crt, fx.be_key, fx.ca);
	start_gw("SSLProxyEngine on\nProxyPass / https://localhost:%d/\n",
	    B.port);
	REQUIRE(ask_plain("gw.example", "/", &r) == 0 && r.status == 502,
	    "no client certificate: %d", r.status);
	resp_free(&r);
	REQUIRE(gwt_log_count(&S, "exit signal") == 0, "a worker crashed");
}
END_TEST

/* body_conn - the backend connection (its pid) an answer came from. */
static long
body_conn(const struct resp *r)
{
	const char *p = strstr(r->body, "conn=");

	return p != NULL ? atol(p + 5) : -1;
}

/*
 * TLS backend connections are pooled (one worker: one client
 * connection), and with disablereuse=On each request has a new one that
 * resumes the worker's session.
 */
START_TEST(test_backend_pool_and_resume)
{
	struct client	 c;
	struct resp	 r;
	long		 conn[3];

	memset(&r, 0, sizeof(r));
	be_start(fx.be_crt, fx.be_key, NULL);
	start_backend_gw("");
	REQUIRE(httpc_open(&c, S.hosts[0], S.ports[0]) == 0, "connect");
	for (int i = 0; i < 3; i++) {
		resp_reset(&r);
		REQUIRE(cl_sends(&c, "GET /p HTTP/1.1\r\nHost: good.gw\r\n\r\n")
		    == 0 && read_resp(&c, &r, 0) == 0 && r.status == 200,
		    "pooled request %d", i);
		conn[i] = body_conn(&r);
	}
	REQUIRE(conn[0] > 0 && conn[0] == conn[1] && conn[1] == conn[2],
	    "the TLS connection was not reused: %ld %ld %ld", conn[0],
	    conn[1], conn[2]);
	for (int i = 0; i < 3; i++) {
		resp_reset(&r);
		REQUIRE(cl_sends(&c, "GET /nopool/q HTTP/1.1\r\n"
		    "Host: good.gw\r\n\r\n") == 0 && read_resp(&c, &r, 0) ==
		    0 && r.status == 200, "unpooled request %d", i);
		conn[i] = body_conn(&r);
		REQUIRE(strstr(r.body, "resumed=1\n") != NULL,
		    "request %d: the TLS session was not resumed:\n%s", i,
		    r.body);
	}
	REQUIRE(conn[0] != conn[1] && conn[1] != conn[2],
	    "disablereuse=On reused a connection");
	cl_close(&c);
	resp_free(&r);
}
END_TEST

/* SSLProxyCheckPeerExpire: an expired backend certificate is refused. */
START_TEST(test_backend_expired)
{
	struct resp	 r;

	memset(&r, 0, sizeof(r));
	be_start(fx.old_crt, fx.old_key, NULL);
	start_gw("SSLProxyEngine on\nProxyPreserveHost On\n"
	    "ProxyPass / https://localhost:%d/\n"
	    "<VirtualHost *>\n  ServerName old.test\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName off.test\n"
	    "  SSLProxyCheckPeerName off\n"
	    "  SSLProxyCheckPeerExpire off\n</VirtualHost>\n", B.port);
	REQUIRE(ask_plain("old.test", "/", &r) == 0 && r.status == 502,
	    "an expired certificate: %d", r.status);
	REQUIRE(log_wait("the backend's certificate has expired "
	    "(SSLProxyCheckPeerExpire)") == 0, "no reason logged");
	REQUIRE(ask_plain("off.test", "/", &r) == 0 && r.status == 200,
	    "SSLProxyCheckPeerExpire off: %d", r.status);
	resp_free(&r);
}
END_TEST

/* SSLProxyVerifyDepth: how many CAs may stand above the backend's. */
START_TEST(test_backend_verify_depth)
{
	struct resp	 r;
	char		 chain[512], *a, *b, *both;

	memset(&r, 0, sizeof(r));
	/* the backend sends c.test's certificate and the intermediate */
	(void)snprintf(chain, sizeof(chain), "%s/c-chain.crt", S.dir);
	a = gwt_read_file(fx.c_crt);
	b = gwt_read_file(fx.inter);
	REQUIRE(a != NULL && b != NULL && asprintf(&both, "%s%s", a, b) > 0 &&
	    gwt_write_file(chain, both) == 0, "chain file");
	free(a);
	free(b);
	free(both);
	be_start(chain, fx.c_key, NULL);
	start_gw("SSLProxyEngine on\nProxyPreserveHost On\n"
	    "SSLProxyVerify require\nSSLProxyCACertificateFile \"%s\"\n"
	    "ProxyPass / https://localhost:%d/\n"
	    "<VirtualHost *>\n  ServerName one.test\n"
	    "  SSLProxyCheckPeerName off\n</VirtualHost>\n"
	    "<VirtualHost *>\n  ServerName c.test\n"
	    "  SSLProxyVerifyDepth 2\n</VirtualHost>\n", fx.ca, B.port);
	REQUIRE(ask_plain("c.test", "/", &r) == 0 && r.status == 200 &&
	    strstr(r.body, "sni=c.test\n") != NULL, "depth 2: %d", r.status);
	REQUIRE(ask_plain("one.test", "/", &r) == 0 && r.status == 502,
	    "depth 1 (the default): %d", r.status);
	REQUIRE(log_wait("certificate verify failed: certificate chain too "
	    "long (SSLProxyVerify)") == 0, "no reason logged");
	resp_free(&r);
}
END_TEST

/*
 * WebSocket through TLS on both sides: a TLS client, an https://
 * backend, the tunnel between them.
 */
START_TEST(test_websocket_over_tls)
{
	struct topt	 o = { "a.test", NULL, 0, NULL };
	struct tresp	 r;
	struct tc	 c;
	char		 got[64];
	int		 n;

	be_start(fx.be_crt, fx.be_key, NULL);
	start_gw("SSLProxyEngine on\n"
	    "<VirtualHost *>\n  ServerName a.test\n  SSLEngine on\n"
	    "  SSLCertificateFile \"%s\"\n  SSLCertificateKeyFile \"%s\"\n"
	    "  ProxyPass /ws/ https://localhost:%d/ upgrade=websocket\n"
	    "</VirtualHost>\n", fx.a_crt, fx.a_key, B.port);
	REQUIRE(tc_open(&c, &o) == 0, "handshake");
	REQUIRE(tc_ask(&c, "GET /ws/ HTTP/1.1\r\nHost: a.test\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n", &r) == 0 &&
	    r.status == 101, "no 101 (%d)", r.status);
	for (int i = 0; i < 3; i++) {
		char msg[32];

		(void)snprintf(msg, sizeof(msg), "ping %d", i);
		REQUIRE(SSL_write(c.ssl, msg, (int)strlen(msg)) ==
		    (int)strlen(msg), "write");
		while (c.len < strlen(msg) + 5)
			REQUIRE(tc_fill(&c) > 0, "the tunnel closed");
		n = snprintf(got, sizeof(got), "%.*s", (int)c.len, c.buf);
		c.len = 0;
		REQUIRE(n == (int)strlen(msg) + 5 && strncmp(got, "echo:", 5) ==
		    0 && strcmp(got + 5, msg) == 0, "got \"%s\"", got);
	}
	tc_close(&c);
}
END_TEST

/*---------------------------------------------------------------------
 * gatewayd -t
 */

static int
run_t(char *out, size_t outlen)
{
	const char *args[] = { "-t", "-f", S.conf, NULL };

	return gwt_run(args, 30, out, outlen);
}

START_TEST(test_t_catches_bad_pairs)
{
	char	 out[8192], conf[2048], want[1024];
	int	 rc;

	/* a key that is not the certificate's */
	(void)snprintf(conf, sizeof(conf), "<VirtualHost *:443>\n"
	    "SSLEngine on\nSSLCertificateFile \"%s\"\n"
	    "SSLCertificateKeyFile \"%s\"\n</VirtualHost>\n", fx.a_crt,
	    fx.stray_key);
	REQUIRE(gwt_write_conf(&S, "Listen 127.0.0.1:0", conf) == 0, "conf");
	rc = run_t(out, sizeof(out));
	(void)snprintf(want, sizeof(want), "%s:11: the private key in %s does "
	    "not match the certificate in %s\n", S.conf, fx.stray_key,
	    fx.a_crt);
	REQUIRE(rc == 1 && strstr(out, want) != NULL, "-t said (%d):\n%s", rc,
	    out);
	/* a missing file */
	(void)snprintf(conf, sizeof(conf), "SSLEngine on\n"
	    "SSLCertificateFile \"%s/missing.crt\"\n", S.dir);
	REQUIRE(gwt_write_conf(&S, "Listen 127.0.0.1:0", conf) == 0, "conf");
	rc = run_t(out, sizeof(out));
	(void)snprintf(want, sizeof(want), "%s:9: SSLCertificateFile: cannot "
	    "read %s/missing.crt: No such file or directory\n", S.conf,
	    S.dir);
	REQUIRE(rc == 1 && strstr(out, want) != NULL, "-t said (%d):\n%s", rc,
	    out);
	/* expired and readable by all: warnings, and still Syntax OK */
	REQUIRE(chmod(fx.old_key, 0644) == 0, "chmod");
	(void)snprintf(conf, sizeof(conf), "SSLEngine on\n"
	    "SSLCertificateFile \"%s\"\nSSLCertificateKeyFile \"%s\"\n",
	    fx.old_crt, fx.old_key);
	REQUIRE(gwt_write_conf(&S, "Listen 127.0.0.1:0", conf) == 0, "conf");
	rc = run_t(out, sizeof(out));
	(void)snprintf(want, sizeof(want), "%s:9: warning: the certificate "
	    "in %s expired on ", S.conf, fx.old_crt);
	REQUIRE(rc == 0 && strstr(out, want) != NULL &&
	    strstr(out, "Syntax OK") != NULL, "-t said (%d):\n%s", rc, out);
	(void)snprintf(want, sizeof(want), "%s:10: warning: the private key "
	    "%s is readable by others (mode 0644)", S.conf, fx.old_key);
	REQUIRE(strstr(out, want) != NULL, "-t said (%d):\n%s", rc, out);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc = tcase_create("tls");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sni_two_vhosts);
	tcase_add_test(tc, test_no_sni);
	tcase_add_test(tc, test_tls12_and_13);
	tcase_add_test(tc, test_protocol_directive);
	tcase_add_test(tc, test_plain_http_to_tls_port);
	tcase_add_test(tc, test_handshake_deadline);
	tcase_add_test(tc, test_resumption_across_workers);
	tcase_add_test(tc, test_chain_file);
	tcase_add_test(tc, test_cipher_suite);
	tcase_add_test(tc, test_restart_keeps_tls);
	tcase_add_test(tc, test_offload_forwarded);
	tcase_add_test(tc, test_cache_over_tls);
	tcase_add_test(tc, test_backend_verify);
	tcase_add_test(tc, test_backend_verify_none);
	tcase_add_test(tc, test_backend_balancer);
	tcase_add_test(tc, test_backend_client_cert);
	tcase_add_test(tc, test_backend_client_cert_missing);
	tcase_add_test(tc, test_backend_pool_and_resume);
	tcase_add_test(tc, test_backend_expired);
	tcase_add_test(tc, test_backend_verify_depth);
	tcase_add_test(tc, test_websocket_over_tls);
	tcase_add_test(tc, test_t_catches_bad_pairs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	(void)setenv("GWT_RUNNER", "tls", 0);
	sr = srunner_create(tls_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
