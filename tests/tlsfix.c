/*
 * tlsfix.c - the TLS tests' certificates (see tlsfix.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlsfix.h"

#define DAY	(24L * 3600)

struct id {
	X509		*x;
	EVP_PKEY	*k;
};

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;
	int		 ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

/*
 * make - a P-256 key and a certificate for cn, valid from `from` to `to`
 * seconds from now, signed by issuer (NULL: by itself); san names its
 * subject alternative names ("DNS:a,IP:1.2.3.4"), ca makes it a CA.
 */
static int
make(struct id *id, const char *cn, const char *san, int ca,
    const struct id *issuer, long from, long to)
{
	static long	 serial = 1;
	X509_NAME	*name;
	X509		*ix;

	memset(id, 0, sizeof(*id));
	if ((id->k = EVP_EC_gen("P-256")) == NULL || (id->x = X509_new()) ==
	    NULL)
		return -1;
	ix = issuer != NULL ? issuer->x : id->x;
	name = X509_get_subject_name(id->x);
	if (X509_set_version(id->x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(id->x), serial++) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(id->x), from) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(id->x), to) == NULL ||
	    X509_set_pubkey(id->x, id->k) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(id->x, X509_get_subject_name(ix)) != 1)
		return -1;
	if (add_ext(id->x, ix, NID_basic_constraints, ca ? "critical,CA:TRUE" :
	    "CA:FALSE") == -1 || add_ext(id->x, ix, NID_key_usage, ca ?
	    "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature,keyEncipherment") == -1 ||
	    add_ext(id->x, ix, NID_subject_key_identifier, "hash") == -1 ||
	    add_ext(id->x, ix, NID_authority_key_identifier,
	    "keyid:always") == -1 ||
	    (san != NULL && add_ext(id->x, ix, NID_subject_alt_name, san) ==
	    -1) || (!ca && add_ext(id->x, ix, NID_ext_key_usage,
	    "serverAuth,clientAuth") == -1))
		return -1;
	if (X509_sign(id->x, issuer != NULL ? issuer->k : id->k,
	    EVP_sha256()) == 0)
		return -1;
	return 0;
}

static void
drop(struct id *id)
{
	X509_free(id->x);
	EVP_PKEY_free(id->k);
	id->x = NULL;
	id->k = NULL;
}

static int
path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, TLSFIX_PATH, "%s/%s", dir, name);

	return n > 0 && n < TLSFIX_PATH ? 0 : -1;
}

/* save - x and/or k into one new file (key files: mode 0600). */
static int
save(const char *file, X509 *x, EVP_PKEY *k)
{
	FILE	*f;
	int	 ok = 1;

	if ((f = fopen(file, "w")) == NULL)
		return -1;
	if (k != NULL && fchmod(fileno(f), 0600) == -1)
		ok = 0;
	if (x != NULL && PEM_write_X509(f, x) != 1)
		ok = 0;
	if (k != NULL && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
	    NULL) != 1)
		ok = 0;
	if (fclose(f) == EOF)
		ok = 0;
	return ok ? 0 : -1;
}

static int
make_paths(struct tlsfix *t, const char *d)
{
	if (path(t->ca, d, "ca.crt") || path(t->ca2, d, "ca2.crt") ||
	    path(t->a_crt, d, "a.crt") || path(t->a_key, d, "a.key") ||
	    path(t->b_crt, d, "b.crt") || path(t->b_key, d, "b.key") ||
	    path(t->c_crt, d, "c.crt") || path(t->c_key, d, "c.key") ||
	    path(t->inter, d, "inter.crt") || path(t->both, d, "a.pem") ||
	    path(t->be_crt, d, "backend.crt") ||
	    path(t->be_key, d, "backend.key") ||
	    path(t->client, d, "client.pem") ||
	    path(t->old_crt, d, "old.crt") || path(t->old_key, d, "old.key") ||
	    path(t->stray_key, d, "stray.key"))
		return -1;
	return 0;
}

int
tlsfix_make(struct tlsfix *t, const char *dir)
{
	struct id	ca, ca2, in, a, b, c, be, cl, old, stray;
	int		rc = -1;

	memset(&ca, 0, sizeof(ca));
	ca2 = in = a = b = c = be = cl = old = stray = ca;
	if (make_paths(t, dir) == -1)
		return -1;
	if (make(&ca, "gatewayd test CA", NULL, 1, NULL, -DAY, 30 * DAY) ||
	    make(&ca2, "another test CA", NULL, 1, NULL, -DAY, 30 * DAY) ||
	    make(&in, "gatewayd test intermediate", NULL, 1, &ca, -DAY,
	    30 * DAY) ||
	    make(&a, "a.test", "DNS:a.test", 0, &ca, -DAY, 30 * DAY) ||
	    make(&b, "b.test", "DNS:b.test", 0, &ca, -DAY, 30 * DAY) ||
	    make(&c, "c.test", "DNS:c.test", 0, &in, -DAY, 30 * DAY) ||
	    make(&be, "backend.test", "DNS:localhost,DNS:backend.test,"
	    "IP:127.0.0.1", 0, &ca, -DAY, 30 * DAY) ||
	    make(&cl, "gateway-client", NULL, 0, &ca, -DAY, 30 * DAY) ||
	    make(&old, "old.test", "DNS:old.test", 0, &ca, -30 * DAY, -DAY) ||
	    make(&stray, "stray", NULL, 0, NULL, -DAY, DAY))
		goto out;
	if (save(t->ca, ca.x, NULL) || save(t->ca2, ca2.x, NULL) ||
	    save(t->inter, in.x, NULL) ||
	    save(t->a_crt, a.x, NULL) || save(t->a_key, NULL, a.k) ||
	    save(t->b_crt, b.x, NULL) || save(t->b_key, NULL, b.k) ||
	    save(t->c_crt, c.x, NULL) || save(t->c_key, NULL, c.k) ||
	    save(t->both, a.x, a.k) ||
	    save(t->be_crt, be.x, NULL) || save(t->be_key, NULL, be.k) ||
	    save(t->client, cl.x, cl.k) ||
	    save(t->old_crt, old.x, NULL) || save(t->old_key, NULL, old.k) ||
	    save(t->stray_key, NULL, stray.k))
		goto out;
	rc = 0;
out:
	drop(&ca);
	drop(&ca2);
	drop(&in);
	drop(&a);
	drop(&b);
	drop(&c);
	drop(&be);
	drop(&cl);
	drop(&old);
	drop(&stray);
	return rc;
}
