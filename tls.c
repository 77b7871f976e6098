/*
 * tls.c - OpenSSL contexts and handshakes (see tls.h).
 *
 * Server side: one SSL_CTX per server (main or <VirtualHost>) with
 * SSLEngine on.  A connection starts with the context of the default
 * server for its local address (rules_vhost without a name) and the SNI
 * callback switches to the named virtual host's.  Session tickets are
 * sealed with keys made once, in the master, before the first fork, so
 * a client resumes with any worker; there is no per-process session
 * cache.  Client side: one SSL_CTX per distinct set of SSLProxy*
 * settings; sessions to backends are kept per worker, by pool key.
 * Reading and writing over TLS is conn.c's; statuses are proxy.c's.
 * This file does not own the sockets: callers close them.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "directives.h"
#include "log.h"
#include "rules.h"
#include "tls.h"

#define TICKET_NAME_LEN	16
#define TLS_SESSIONS	16		/* backend sessions kept per worker */
#define PLAIN_LINGER_MS	2000

/* A server's context. */
struct tls_srv {
	const struct gw_vhost	*v;
	SSL_CTX			*ctx;
};

/* A client context, shared by the servers with the same SSLProxy*. */
struct tls_cli {
	const struct gw_vhost	*v;	/* the first server that uses it */
	SSL_CTX			*ctx;
	unsigned		 id;	/* for pool and session keys */
};

struct tls_set {
	struct tls_srv		*srv;
	int			 nsrv;
	struct tls_cli		*cli;
	struct tls_cli		**cli_of;	/* per server, main first */
	int			 ncli;
	int			 nservers;
};

/* What the SNI callback needs during tls_accept. */
struct accept_arg {
	const struct gw_config	*cfg;
	const struct sockaddr	*local;
};

/* Session ticket keys: made once per master, kept across reloads. */
static struct {
	int		 ready;
	unsigned char	 name[TICKET_NAME_LEN];
	unsigned char	 aes[32];
	unsigned char	 hmac[32];
} tk;

/* Backend sessions of this process, by key (pool key). */
static struct {
	char		*key;
	SSL_SESSION	*sess;
	long long	 used;
} sessions[TLS_SESSIONS];
static long long	 session_clock;
static unsigned		 cli_ids;	/* client context ids, per process */
static int		 key_idx = -1;	/* SSL ex_data: session key */

/*---------------------------------------------------------------------
 * Errors
 */

const char *
tls_error(void)
{
	static char	 buf[256];
	unsigned long	 e = ERR_peek_last_error();

	if (e == 0)
		return "no OpenSSL error";
	if (ERR_reason_error_string(e) != NULL)
		(void)snprintf(buf, sizeof(buf), "%s",
		    ERR_reason_error_string(e));
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/*---------------------------------------------------------------------
 * Configuration time
 */

int
tls_cipher_ok(const char *spec, int v13)
{
	SSL_CTX	*ctx;
	int	 ok;

	if ((ctx = SSL_CTX_new(TLS_method())) == NULL)
		return 0;
	ok = v13 ? SSL_CTX_set_ciphersuites(ctx, spec) :
	    SSL_CTX_set_cipher_list(ctx, spec);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ok == 1;
}

/*
 * no_passphrase - encrypted keys are refused (there is no
 * SSLPassPhraseDialog); *asked says one was needed.
 */
static int
no_passphrase(char *buf, int size, int rw, void *asked)
{
	(void)buf;
	(void)size;
	(void)rw;
	if (asked != NULL)
		*(int *)asked = 1;
	return -1;
}

/* set_protocols - GW_TLS_* bits as a version range minus its holes. */
static int
set_protocols(SSL_CTX *ctx, int mask)
{
	static const struct {
		int		 bit;
		int		 version;
		uint64_t	 no;
	} vs[] = {
		{ GW_TLS_V1, TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ GW_TLS_V1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ GW_TLS_V1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ GW_TLS_V1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	int		 lo = -1, hi = -1;
	uint64_t	 no = 0;

	for (int i = 0; i < 4; i++)
		if (mask & vs[i].bit) {
			if (lo == -1)
				lo = i;
			hi = i;
		}
	if (lo == -1)
		return -1;
	for (int i = lo; i <= hi; i++)
		if (!(mask & vs[i].bit))
			no |= vs[i].no;
	if (SSL_CTX_set_min_proto_version(ctx, vs[lo].version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, vs[hi].version) != 1)
		return -1;
	(void)SSL_CTX_set_options(ctx, no);
	return 0;
}

/* set_ciphers - the cipher lists that are set; 0 or -1 (reported). */
static int
set_ciphers(struct gw_parse *p, SSL_CTX *ctx, const struct gw_setting *c12,
    const struct gw_setting *c13)
{
	if (c12->value != NULL && SSL_CTX_set_cipher_list(ctx, c12->value) !=
	    1) {
		conf_error_at(p, c12->file, c12->line, "no usable cipher in "
		    "\"%s\": %s", c12->value, tls_error());
		return -1;
	}
	if (c13->value != NULL && SSL_CTX_set_ciphersuites(ctx, c13->value) !=
	    1) {
		conf_error_at(p, c13->file, c13->line, "no usable TLS 1.3 "
		    "cipher suite in \"%s\": %s", c13->value, tls_error());
		return -1;
	}
	return 0;
}

/* time_text - an ASN.1 time as "2024-05-01 12:00:00 UTC". */
static const char *
time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		(void)snprintf(buf, len, "an unreadable date");
	return buf;
}

/* check_dates - warnings for a certificate outside its validity. */
static void
check_dates(struct gw_parse *p, const struct gw_setting *s, X509 *x)
{
	char	 when[64];

	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		conf_warn_at(p, s->file, s->line, "the certificate in %s "
		    "expired on %s", s->value, time_text(X509_get0_notAfter(x),
		    when, sizeof(when)));
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		conf_warn_at(p, s->file, s->line, "the certificate in %s is "
		    "not valid before %s", s->value,
		    time_text(X509_get0_notBefore(x), when, sizeof(when)));
}

/* check_key_mode - a private key file that others may read: a warning. */
static void
check_key_mode(struct gw_parse *p, const struct gw_setting *s)
{
	struct stat st;

	if (stat(s->value, &st) == 0 && (st.st_mode & S_IROTH))
		conf_warn_at(p, s->file, s->line, "the private key %s is "
		    "readable by others (mode %04o); chmod o-r it", s->value,
		    (unsigned)(st.st_mode & 07777));
}

/* add_chain - the certificates of SSLCertificateChainFile. */
static int
add_chain(struct gw_parse *p, SSL_CTX *ctx, const struct gw_setting *s)
{
	FILE	*f;
	X509	*x;
	int	 n = 0, rc = 0;

	if ((f = fopen(s->value, "r")) == NULL) {
		conf_error_at(p, s->file, s->line, "cannot open %s: %s",
		    s->value, strerror(errno));
		return -1;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add1_chain_cert(ctx, x) != 1)
			rc = -1;
		X509_free(x);
		n++;
	}
	ERR_clear_error();		/* the end of the file */
	(void)fclose(f);
	if (n == 0 || rc == -1) {
		conf_error_at(p, s->file, s->line, "%s: %s", s->value, n == 0 ?
		    "no PEM certificate in it" : "cannot use its certificates");
		return -1;
	}
	return 0;
}

/* read_key - the first private key in s's file; NULL (reported). */
static EVP_PKEY *
read_key(struct gw_parse *p, const struct gw_setting *s)
{
	EVP_PKEY	*k;
	FILE		*f;
	int		 asked = 0;

	if ((f = fopen(s->value, "r")) == NULL) {
		conf_error_at(p, s->file, s->line, "cannot open %s: %s",
		    s->value, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
	(void)fclose(f);
	if (k == NULL && asked)
		conf_error_at(p, s->file, s->line, "the private key in %s is "
		    "encrypted: remove its passphrase (there is no "
		    "SSLPassPhraseDialog)", s->value);
	else if (k == NULL)
		conf_error_at(p, s->file, s->line, "cannot read a private key "
		    "from %s: %s", s->value, tls_error());
	return k;
}

/*
 * load_pair - certificate (with the chain after it) and key into ctx,
 * checked against each other, as mod_ssl does at startup.
 */
static int
load_pair(struct gw_parse *p, SSL_CTX *ctx, const struct gw_setting *cert,
    const struct gw_setting *key)
{
	EVP_PKEY	*k;
	X509		*x;
	int		 rc = -1;

	if (SSL_CTX_use_certificate_chain_file(ctx, cert->value) != 1 ||
	    (x = SSL_CTX_get0_certificate(ctx)) == NULL) {
		conf_error_at(p, cert->file, cert->line, "cannot load a "
		    "certificate from %s: %s", cert->value, tls_error());
		return -1;
	}
	check_dates(p, cert, x);
	if ((k = read_key(p, key)) == NULL)
		return -1;
	if (X509_check_private_key(x, k) != 1)
		conf_error_at(p, key->file, key->line, "the private key in %s "
		    "does not match the certificate in %s", key->value,
		    cert->value);
	else if (SSL_CTX_use_PrivateKey(ctx, k) != 1)
		conf_error_at(p, key->file, key->line, "cannot use the private "
		    "key in %s: %s", key->value, tls_error());
	else
		rc = 0;
	EVP_PKEY_free(k);
	if (rc == 0)
		check_key_mode(p, key);
	return rc;
}

/*---------------------------------------------------------------------
 * Server contexts
 */

/*
 * ticket_cb - seal and open session tickets with the master's keys
 * (RFC 5077 layout: AES-256-CBC, HMAC-SHA256), so every worker takes
 * the tickets every other worker issued.
 */
static int
ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM	 params[3];

	(void)ssl;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    tk.hmac, sizeof(tk.hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (enc) {
		memcpy(name, tk.name, TICKET_NAME_LEN);
		if (RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc())) !=
		    1 || EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    tk.aes, iv) != 1 || EVP_MAC_CTX_set_params(hctx, params) !=
		    1)
			return -1;
		return 1;
	}
	if (memcmp(name, tk.name, TICKET_NAME_LEN) != 0)
		return 0;		/* not ours: a full handshake */
	if (EVP_MAC_CTX_set_params(hctx, params) != 1 ||
	    EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, tk.aes, iv) != 1)
		return -1;
	return 1;
}

static int
ticket_keys(void)
{
	if (tk.ready)
		return 0;
	if (RAND_bytes(tk.name, sizeof(tk.name)) != 1 ||
	    RAND_bytes(tk.aes, sizeof(tk.aes)) != 1 ||
	    RAND_bytes(tk.hmac, sizeof(tk.hmac)) != 1)
		return -1;
	tk.ready = 1;
	return 0;
}

static SSL_CTX *
srv_ctx_of(const struct tls_set *t, const struct gw_vhost *v)
{
	for (int i = 0; t != NULL && i < t->nsrv; i++)
		if (t->srv[i].v == v)
			return t->srv[i].ctx;
	return NULL;
}

/*
 * sni_cb - the client named a server: the context of the virtual host
 * Apache would pick for that name on this address.  An unknown name or
 * a server without SSLEngine keeps the default's certificate.
 */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	const struct accept_arg	*aa = SSL_get_app_data(ssl);
	const struct gw_vhost	*v;
	const char		*name;
	SSL_CTX			*ctx;

	(void)alert;
	(void)arg;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (aa == NULL || name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	v = rules_vhost(aa->cfg, aa->local, name, strlen(name));
	ctx = srv_ctx_of(aa->cfg->tls, v);
	if (ctx == NULL || v->ssl_engine != 1)
		return SSL_TLSEXT_ERR_OK;
	if (ctx != SSL_get_SSL_CTX(ssl)) {
		if (SSL_set_SSL_CTX(ssl, ctx) == NULL)
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		/* what SSL_set_SSL_CTX leaves: options, cipher lists */
		(void)SSL_clear_options(ssl, SSL_get_options(ssl) &
		    SSL_OP_CIPHER_SERVER_PREFERENCE);
		(void)SSL_set_options(ssl, SSL_CTX_get_options(ctx));
		if (SSL_set_cipher_list(ssl, v->ssl_cipher_suite.value !=
		    NULL ? v->ssl_cipher_suite.value :
		    OSSL_default_cipher_list()) != 1 ||
		    SSL_set_ciphersuites(ssl, v->ssl_cipher_suite_13.value !=
		    NULL ? v->ssl_cipher_suite_13.value :
		    OSSL_default_ciphersuites()) != 1)
			return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* build_srv - the server context of v (merged); NULL after an error. */
static SSL_CTX *
build_srv(struct gw_parse *p, const struct gw_vhost *v)
{
	struct gw_setting	 key;
	static const unsigned char sid[] = "gatewayd";
	SSL_CTX			*ctx;

	if (v->ssl_cert_file.value == NULL) {
		conf_error_at(p, v->ssl_engine_file, v->ssl_engine_line,
		    "SSLEngine on needs SSLCertificateFile in this server");
		return NULL;
	}
	key = v->ssl_key_file.value != NULL ? v->ssl_key_file :
	    v->ssl_cert_file;
	if (ticket_keys() == -1 || (ctx = SSL_CTX_new(TLS_server_method())) ==
	    NULL) {
		conf_error_at(p, v->ssl_engine_file, v->ssl_engine_line,
		    "cannot set up TLS: %s", tls_error());
		return NULL;
	}
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
	    (v->ssl_honor_cipher_order == 1 ?
	    SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/*
	 * One session id context for all: a TLS 1.2 client resumes before
	 * the SNI callback runs (and then keeps its session's name).
	 */
	if (set_protocols(ctx, v->ssl_protocol) == -1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1 ||
	    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1 ||
	    SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb) != 1) {
		conf_error_at(p, v->ssl_engine_file, v->ssl_engine_line,
		    "cannot set up TLS: %s", tls_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (set_ciphers(p, ctx, &v->ssl_cipher_suite,
	    &v->ssl_cipher_suite_13) == -1 ||
	    load_pair(p, ctx, &v->ssl_cert_file, &key) == -1 ||
	    (v->ssl_chain_file.value != NULL &&
	    add_chain(p, ctx, &v->ssl_chain_file) == -1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*---------------------------------------------------------------------
 * Client contexts
 */

/* ca_error - a chain error that SSLProxyVerify optional_no_ca forgives. */
static int
ca_error(int e)
{
	return e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	    e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    e == X509_V_ERR_CERT_UNTRUSTED ||
	    e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

/*
 * verify_cb - mod_ssl's ssl_callback_SSLVerify for backends: CA errors
 * forgiven with optional_no_ca, and no more than SSLProxyVerifyDepth
 * certificates above the backend's.
 */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL			*ssl;
	const struct gw_vhost	*v;
	int			 depth = X509_STORE_CTX_get_error_depth(x);

	ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (v = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) ==
	    NULL)
		return ok;
	if (!ok && v->ssl_proxy_verify == GW_VERIFY_OPTIONAL_NO_CA &&
	    ca_error(X509_STORE_CTX_get_error(x)))
		return 1;
	if (ok && depth > v->ssl_proxy_verify_depth) {
		X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_CHAIN_TOO_LONG);
		return 0;
	}
	return ok;
}

static void
forget_session(const char *key)
{
	for (int i = 0; i < TLS_SESSIONS; i++)
		if (sessions[i].key != NULL && strcmp(sessions[i].key, key) ==
		    0) {
			SSL_SESSION_free(sessions[i].sess);
			free(sessions[i].key);
			sessions[i].key = NULL;
			sessions[i].sess = NULL;
		}
}

/* new_session_cb - a backend gave a resumable session: keep it by key. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	const char	*key = key_idx >= 0 ? SSL_get_ex_data(ssl, key_idx) :
			    NULL;
	int		 slot = 0;
	char		*k;

	if (key == NULL || (k = strdup(key)) == NULL)
		return 0;
	forget_session(key);
	for (int i = 0; i < TLS_SESSIONS; i++) {
		if (sessions[i].key == NULL) {
			slot = i;
			break;
		}
		if (sessions[i].used < sessions[slot].used)
			slot = i;
	}
	if (sessions[slot].key != NULL) {
		SSL_SESSION_free(sessions[slot].sess);
		free(sessions[slot].key);
	}
	sessions[slot].key = k;
	sessions[slot].sess = sess;
	sessions[slot].used = ++session_clock;
	return 1;			/* the reference is ours now */
}

void
tls_flush_sessions(void)
{
	for (int i = 0; i < TLS_SESSIONS; i++)
		if (sessions[i].key != NULL) {
			SSL_SESSION_free(sessions[i].sess);
			free(sessions[i].key);
			sessions[i].key = NULL;
			sessions[i].sess = NULL;
		}
}

static void
free_key(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static int
same_setting(const struct gw_setting *a, const struct gw_setting *b)
{
	if (a->value == NULL || b->value == NULL)
		return a->value == b->value;
	return strcmp(a->value, b->value) == 0;
}

/* same_proxy - do a and b need the same client context? */
static int
same_proxy(const struct gw_vhost *a, const struct gw_vhost *b)
{
	return a->ssl_proxy_verify == b->ssl_proxy_verify &&
	    a->ssl_proxy_verify_depth == b->ssl_proxy_verify_depth &&
	    a->ssl_proxy_protocol == b->ssl_proxy_protocol &&
	    a->ssl_proxy_check_peer_name == b->ssl_proxy_check_peer_name &&
	    a->ssl_proxy_check_peer_cn == b->ssl_proxy_check_peer_cn &&
	    a->ssl_proxy_check_peer_expire == b->ssl_proxy_check_peer_expire &&
	    same_setting(&a->ssl_proxy_ca_file, &b->ssl_proxy_ca_file) &&
	    same_setting(&a->ssl_proxy_ca_path, &b->ssl_proxy_ca_path) &&
	    same_setting(&a->ssl_proxy_cipher_suite,
	    &b->ssl_proxy_cipher_suite) &&
	    same_setting(&a->ssl_proxy_cipher_suite_13,
	    &b->ssl_proxy_cipher_suite_13) &&
	    same_setting(&a->ssl_proxy_machine_cert,
	    &b->ssl_proxy_machine_cert);
}

/* client_trust - SSLProxyCACertificateFile/Path into ctx. */
static int
client_trust(struct gw_parse *p, SSL_CTX *ctx, const struct gw_vhost *v)
{
	const struct gw_setting *f = &v->ssl_proxy_ca_file;
	const struct gw_setting *d = &v->ssl_proxy_ca_path;

	if (f->value != NULL && SSL_CTX_load_verify_locations(ctx, f->value,
	    NULL) != 1) {
		conf_error_at(p, f->file, f->line, "no CA certificate could "
		    "be read from %s: %s", f->value, tls_error());
		return -1;
	}
	if (d->value != NULL && SSL_CTX_load_verify_locations(ctx, NULL,
	    d->value) != 1) {
		conf_error_at(p, d->file, d->line, "cannot use %s: %s",
		    d->value, tls_error());
		return -1;
	}
	if ((v->ssl_proxy_verify == GW_VERIFY_REQUIRE || v->ssl_proxy_verify ==
	    GW_VERIFY_OPTIONAL) && f->value == NULL && d->value == NULL) {
		conf_error_at(p, v->ssl_proxy_verify_file,
		    v->ssl_proxy_verify_line, "SSLProxyVerify %s needs "
		    "SSLProxyCACertificateFile or SSLProxyCACertificatePath",
		    v->ssl_proxy_verify == GW_VERIFY_REQUIRE ? "require" :
		    "optional");
		return -1;
	}
	return 0;
}

/* build_cli - the client context of v (merged); NULL after an error. */
static SSL_CTX *
build_cli(struct gw_parse *p, const struct gw_vhost *v)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		conf_error_at(p, v->file ? v->file : p->cfg->file, v->line,
		    "cannot set up TLS: %s", tls_error());
		return NULL;
	}
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	SSL_CTX_set_verify(ctx, v->ssl_proxy_verify == GW_VERIFY_NONE ?
	    SSL_VERIFY_NONE : SSL_VERIFY_PEER, verify_cb);
	if (SSL_CTX_set_app_data(ctx, (void *)(uintptr_t)v) != 1 ||
	    set_protocols(ctx, v->ssl_proxy_protocol) == -1) {
		conf_error_at(p, v->file ? v->file : p->cfg->file, v->line,
		    "cannot set up TLS: %s", tls_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (set_ciphers(p, ctx, &v->ssl_proxy_cipher_suite,
	    &v->ssl_proxy_cipher_suite_13) == -1 ||
	    client_trust(p, ctx, v) == -1 ||
	    (v->ssl_proxy_machine_cert.value != NULL && load_pair(p, ctx,
	    &v->ssl_proxy_machine_cert, &v->ssl_proxy_machine_cert) == -1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* add_cli - server i's client context: one already built, or a new one. */
static void
add_cli(struct gw_parse *p, struct tls_set *t, const struct gw_vhost *v,
    int i)
{
	SSL_CTX *ctx;

	for (int j = 0; j < t->ncli; j++)
		if (same_proxy(t->cli[j].v, v)) {
			/* built, or failed (and reported) once */
			t->cli_of[i] = t->cli[j].ctx != NULL ? &t->cli[j] :
			    NULL;
			return;
		}
	ctx = build_cli(p, v);
	t->cli[t->ncli].v = v;
	t->cli[t->ncli].ctx = ctx;
	t->cli[t->ncli].id = ++cli_ids;
	t->cli_of[i] = ctx != NULL ? &t->cli[t->ncli] : NULL;
	t->ncli++;
}

/* same_srv - would a and b build the same server context? */
static int
same_srv(const struct gw_vhost *a, const struct gw_vhost *b)
{
	if (a->ssl_cert_file.value == NULL &&
	    (a->ssl_engine_file != b->ssl_engine_file ||
	    a->ssl_engine_line != b->ssl_engine_line))
		return 0;	/* "needs SSLCertificateFile": each line */
	return same_setting(&a->ssl_cert_file, &b->ssl_cert_file) &&
	    same_setting(&a->ssl_key_file, &b->ssl_key_file) &&
	    same_setting(&a->ssl_chain_file, &b->ssl_chain_file) &&
	    same_setting(&a->ssl_cipher_suite, &b->ssl_cipher_suite) &&
	    same_setting(&a->ssl_cipher_suite_13, &b->ssl_cipher_suite_13) &&
	    a->ssl_protocol == b->ssl_protocol &&
	    a->ssl_honor_cipher_order == b->ssl_honor_cipher_order;
}

/*
 * add_srv - v's server context: shared with a server that has the same
 * settings (inherited ones, mostly), else built; a failure is reported
 * once, not once per server that inherits it.
 */
static void
add_srv(struct gw_parse *p, struct tls_set *t, const struct gw_vhost *v)
{
	SSL_CTX *ctx = NULL;
	int	 j;

	for (j = 0; j < t->nsrv; j++)
		if (same_srv(t->srv[j].v, v))
			break;
	if (j == t->nsrv)
		ctx = build_srv(p, v);
	else if (t->srv[j].ctx != NULL && SSL_CTX_up_ref(t->srv[j].ctx) == 1)
		ctx = t->srv[j].ctx;
	t->srv[t->nsrv].v = v;
	t->srv[t->nsrv++].ctx = ctx;
}

void
tls_conf_build(struct gw_parse *p)
{
	struct gw_config	*c = p->cfg;
	const struct gw_vhost	*v;
	struct tls_set		*t;
	int			 i, n = 1 + c->nvhosts;

	if (key_idx < 0)
		key_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_key);
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->srv = calloc((size_t)n, sizeof(*t->srv))) == NULL ||
	    (t->cli = calloc((size_t)n, sizeof(*t->cli))) == NULL ||
	    (t->cli_of = calloc((size_t)n, sizeof(*t->cli_of))) == NULL ||
	    key_idx < 0) {
		tls_free(t);
		conf_error_at(p, c->file, 0, "out of memory for TLS");
		return;
	}
	t->nservers = n;
	c->tls = t;
	for (v = &c->main, i = 0; v != NULL;
	    v = v == &c->main ? c->vhosts : v->next, i++) {
		if (v->ssl_engine == 1)
			add_srv(p, t, v);
		if (v->ssl_proxy_engine == 1)
			add_cli(p, t, v, i);
	}
	ERR_clear_error();
}

void
tls_free(struct tls_set *t)
{
	if (t == NULL)
		return;
	for (int i = 0; t->srv != NULL && i < t->nsrv; i++)
		SSL_CTX_free(t->srv[i].ctx);
	for (int i = 0; t->cli != NULL && i < t->ncli; i++)
		SSL_CTX_free(t->cli[i].ctx);
	free(t->srv);
	free(t->cli);
	free(t->cli_of);
	free(t);
}

/*---------------------------------------------------------------------
 * Handshakes
 */

static long long
now_ms(void)
{
	return conn_now_ms();
}

static int
set_deadline(int fd, long long left)
{
	struct timeval tv;

	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	return 0;
}

/*
 * handshake - SSL_accept or SSL_connect on a blocking socket, each
 * wait bounded by the kernel deadline (SO_RCVTIMEO, SO_SNDTIMEO) set to
 * what is left.  0, or -1: errno ETIMEDOUT, EINTR (stop), ECONNRESET
 * (the peer closed) or EPROTO (OpenSSL's error queue says why).
 */
static int
handshake(SSL *ssl, int fd, int server, long long deadline,
    volatile sig_atomic_t *stop)
{
	long long	left;
	int		rc, e;

	for (;;) {
		if (stop != NULL && *stop) {
			errno = EINTR;
			return -1;
		}
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (set_deadline(fd, left) == -1)
			return -1;
		ERR_clear_error();
		errno = 0;
		rc = server ? SSL_accept(ssl) : SSL_connect(ssl);
		if (rc == 1)
			return 0;
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			continue;	/* EAGAIN: the deadline; or EINTR */
		SSL_set_quiet_shutdown(ssl, 1);
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
			if (errno == 0)
				errno = ECONNRESET;
			return -1;
		}
		errno = EPROTO;
		return -1;
	}
}

/*---------------------------------------------------------------------
 * Client connections
 */

/* wait_first - wait for the first byte of the client; 1, 0 EOF, -1. */
static int
wait_first(int fd, long long deadline, volatile sig_atomic_t *stop,
    unsigned char *b)
{
	ssize_t	n;

	if (conn_wait(fd, POLLIN, (int)(deadline - now_ms()), stop) == -1)
		return -1;
	n = recv(fd, b, 1, MSG_PEEK);
	if (n == -1)
		return -1;
	return n == 1 ? 1 : 0;
}

/*
 * plain_http - the client spoke plain HTTP to a TLS port: Apache's 400
 * (ssl_io_filter_error), in plain text, after its request head, then a
 * lingering close so that the client reads it.
 */
static void
plain_http(int fd, const char *peer)
{
	static const char body[] =
	    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n"
	    "<html><head>\n<title>400 Bad Request</title>\n</head><body>\n"
	    "<h1>Bad Request</h1>\n<p>Your browser sent a request that this "
	    "server could not understand.<br />\nReason: You're speaking "
	    "plain HTTP to an SSL-enabled server port.<br />\n Instead use "
	    "the HTTPS scheme to access this URL, please.<br />\n</p>\n"
	    "</body></html>\n";
	char		 head[256], buf[4096];
	long long	 end = now_ms() + PLAIN_LINGER_MS;
	size_t		 got = 0;
	ssize_t		 n;
	int		 len;

	log_msg(GW_LOG_INFO, "TLS: %s sent plain HTTP to a TLS port; 400",
	    peer);
	/* the head, as far as it comes within the linger time */
	while (got < sizeof(buf) - 1 && now_ms() < end) {
		if (set_deadline(fd, end - now_ms()) == -1 ||
		    (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			break;
	}
	len = snprintf(head, sizeof(head), "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/html; charset=iso-8859-1\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    sizeof(body) - 1);
	if (len < 0 || set_deadline(fd, PLAIN_LINGER_MS) == -1 ||
	    send(fd, head, (size_t)len, MSG_NOSIGNAL) != len ||
	    send(fd, body, sizeof(body) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(body) - 1) || shutdown(fd, SHUT_WR) == -1)
		return;
	end = now_ms() + PLAIN_LINGER_MS;
	while (now_ms() < end && set_deadline(fd, end - now_ms()) == 0 &&
	    recv(fd, buf, sizeof(buf), 0) > 0)
		continue;
}

static void
peer_text(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	const void		*a;

	(void)snprintf(buf, len, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET6)
		a = &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr;
	else
		a = &((struct sockaddr_in *)(void *)&ss)->sin_addr;
	if (inet_ntop(ss.ss_family, a, buf, (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "?");
}

int
tls_accept(const struct gw_config *cfg, int fd, int ms,
    volatile sig_atomic_t *stop, SSL **out)
{
	struct sockaddr_storage	 local;
	socklen_t		 sl = sizeof(local);
	struct accept_arg	 aa;
	const struct gw_vhost	*v;
	long long		 deadline = now_ms() + ms;
	unsigned char		 first;
	char			 peer[INET6_ADDRSTRLEN];
	SSL_CTX			*ctx;
	SSL			*ssl;
	int			 rc;

	*out = NULL;
	if (cfg->tls == NULL || cfg->tls->nsrv == 0)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&local, &sl) == -1)
		return -1;
	v = rules_vhost(cfg, (struct sockaddr *)&local, NULL, 0);
	if (v->ssl_engine != 1 || (ctx = srv_ctx_of(cfg->tls, v)) == NULL)
		return 0;
	peer_text(fd, peer, sizeof(peer));
	if ((rc = wait_first(fd, deadline, stop, &first)) <= 0) {
		if (rc == -1 && errno == ETIMEDOUT)
			log_msg(GW_LOG_INFO, "TLS: %s sent nothing in time",
			    peer);
		return -1;
	}
	if (first >= 'A' && first <= 'Z') {
		plain_http(fd, peer);
		return -1;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		log_msg(GW_LOG_ERR, "TLS: cannot set up a connection: %s",
		    tls_error());
		SSL_free(ssl);
		return -1;
	}
	aa.cfg = cfg;
	aa.local = (struct sockaddr *)&local;
	(void)SSL_set_app_data(ssl, &aa);
	rc = handshake(ssl, fd, 1, deadline, stop);
	(void)SSL_set_app_data(ssl, NULL);
	if (rc == -1) {
		if (errno == EPROTO)
			log_msg(GW_LOG_INFO, "TLS: handshake with %s failed: "
			    "%s", peer, tls_error());
		else if (errno != EINTR)
			log_msg(GW_LOG_INFO, "TLS: handshake with %s failed: "
			    "%s", peer, errno == ETIMEDOUT ? "timed out" :
			    strerror(errno));
		ERR_clear_error();
		SSL_free(ssl);
		return -1;
	}
	*out = ssl;
	return 0;
}

/*---------------------------------------------------------------------
 * Backend connections
 */

static struct tls_cli *
cli_of(const struct gw_config *cfg, const struct gw_vhost *v)
{
	const struct tls_set	*t = cfg->tls;
	const struct gw_vhost	*s;
	int			 i;

	if (t == NULL)
		return NULL;
	for (s = &cfg->main, i = 0; s != NULL && i < t->nservers;
	    s = s == &cfg->main ? cfg->vhosts : s->next, i++)
		if (s == v)
			return t->cli_of[i];
	return NULL;
}

unsigned
tls_client_id(const struct gw_config *cfg, const struct gw_vhost *v)
{
	const struct tls_cli *c = cli_of(cfg, v);

	return c != NULL ? c->id : 0;
}

static int
is_ip(const char *name)
{
	unsigned char b[16];

	return inet_pton(AF_INET, name, b) == 1 ||
	    inet_pton(AF_INET6, name, b) == 1;
}

/*
 * check_peer - mod_ssl's checks of a backend certificate after the
 * handshake, which run whatever SSLProxyVerify says: expiry, and the
 * name (SSLProxyCheckPeerName and SSLProxyCheckPeerCN; either Off turns
 * both off, as since Apache 2.4.21).  0, or -1 with why.
 */
static int
check_peer(const struct gw_vhost *v, SSL *ssl, const char *name, char *why,
    size_t whylen)
{
	X509	*x = SSL_get0_peer_certificate(ssl);
	int	 ok;

	if (x == NULL) {
		(void)snprintf(why, whylen, "the backend sent no certificate");
		return -1;
	}
	if (v->ssl_proxy_check_peer_expire == 1 &&
	    X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		(void)snprintf(why, whylen, "the backend's certificate has "
		    "expired (SSLProxyCheckPeerExpire)");
		return -1;
	}
	if (v->ssl_proxy_check_peer_name != 1 ||
	    v->ssl_proxy_check_peer_cn != 1)
		return 0;
	if (is_ip(name))
		ok = X509_check_ip_asc(x, name, 0);
	else
		ok = X509_check_host(x, name, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
	if (ok != 1) {
		(void)snprintf(why, whylen, "the backend's certificate does "
		    "not name %s (SSLProxyCheckPeerName)", name);
		return -1;
	}
	return 0;
}

/* handshake_why - why a backend handshake failed, for the error log. */
static void
handshake_why(SSL *ssl, char *why, size_t whylen)
{
	long vr = SSL_get_verify_result(ssl);

	if (errno == EPROTO && vr != X509_V_OK)
		(void)snprintf(why, whylen, "certificate verify failed: %s "
		    "(SSLProxyVerify)", X509_verify_cert_error_string(vr));
	else if (errno == EPROTO)
		(void)snprintf(why, whylen, "TLS handshake failed: %s",
		    tls_error());
	else
		(void)snprintf(why, whylen, "TLS handshake failed: %s",
		    errno == ETIMEDOUT ? "timed out" : strerror(errno));
}

static SSL_SESSION *
find_session(const char *key)
{
	for (int i = 0; i < TLS_SESSIONS; i++)
		if (sessions[i].key != NULL && strcmp(sessions[i].key, key) ==
		    0) {
			sessions[i].used = ++session_clock;
			return sessions[i].sess;
		}
	return NULL;
}

int
tls_connect(const struct gw_config *cfg, const struct gw_vhost *v, int fd,
    const char *name, const char *key, int ms, volatile sig_atomic_t *stop,
    SSL **out, char *why, size_t whylen)
{
	const struct tls_cli	*cl = cli_of(cfg, v);
	SSL_SESSION		*sess;
	SSL			*ssl;
	char			*k;

	*out = NULL;
	if (cl == NULL) {
		(void)snprintf(why, whylen, "SSLProxyEngine is not on in this "
		    "server");
		return -1;
	}
	if ((ssl = SSL_new(cl->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    (k = strdup(key)) == NULL) {
		(void)snprintf(why, whylen, "cannot set up TLS: %s",
		    tls_error());
		SSL_free(ssl);
		return -1;
	}
	if (SSL_set_ex_data(ssl, key_idx, k) != 1)
		free(k);
	if ((!is_ip(name) && SSL_set_tlsext_host_name(ssl, name) != 1) ||
	    ((sess = find_session(key)) != NULL && SSL_set_session(ssl, sess) !=
	    1)) {
		(void)snprintf(why, whylen, "cannot set up TLS: %s",
		    tls_error());
		SSL_free(ssl);
		return -1;
	}
	if (handshake(ssl, fd, 0, now_ms() + ms, stop) == -1) {
		handshake_why(ssl, why, whylen);
		forget_session(key);
		ERR_clear_error();
		SSL_free(ssl);
		return -1;
	}
	if (check_peer(v, ssl, name, why, whylen) == -1) {
		forget_session(key);
		tls_close(ssl);
		return -1;
	}
	*out = ssl;
	return 0;
}

int
tls_idle_ok(SSL *ssl, int fd, int *rcv_ms, int *snd_ms)
{
	char	b;
	ssize_t	n;
	int	rc;

	if (SSL_has_pending(ssl))
		return 0;
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;
	if (n <= 0)
		return 0;
	/*
	 * Something came while idle: TLS 1.3 session tickets sent late
	 * are fine, anything else is not.  A short wait tells.
	 */
	*rcv_ms = *snd_ms = -1;		/* changed here */
	if (set_deadline(fd, 1) == -1)
		return 0;
	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_peek(ssl, &b, 1)) > 0)
		return 0;
	if (SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		return !SSL_has_pending(ssl);
	}
	SSL_set_quiet_shutdown(ssl, 1);
	ERR_clear_error();
	return 0;
}

/*---------------------------------------------------------------------
 * Either side
 */

void
tls_close(SSL *ssl)
{
	if (ssl == NULL)
		return;
	ERR_clear_error();
	if (!SSL_get_quiet_shutdown(ssl) && SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);	/* no wait for the peer's */
	ERR_clear_error();
	SSL_free(ssl);
}

const char *
tls_version(const SSL *ssl)
{
	return ssl != NULL ? SSL_get_version(ssl) : NULL;
}

const char *
tls_cipher(const SSL *ssl)
{
	return ssl != NULL ? SSL_get_cipher_name(ssl) : NULL;
}
