/*
 * tlsfix.h - a throwaway PKI for the TLS tests, made with the OpenSSL
 * API in a directory the test owns: two unrelated CAs, an intermediate,
 * server certificates for the front end and a backend, a client
 * certificate, an expired one and a key that matches nothing.  Keys
 * are P-256 (fast to make), written mode 0600.
 */
#ifndef TLSFIX_H
#define TLSFIX_H

#define TLSFIX_PATH	256

struct tlsfix {
	char	ca[TLSFIX_PATH];	/* the CA everything is signed by */
	char	ca2[TLSFIX_PATH];	/* another CA, that signed nothing */
	char	a_crt[TLSFIX_PATH];	/* a.test */
	char	a_key[TLSFIX_PATH];
	char	b_crt[TLSFIX_PATH];	/* b.test */
	char	b_key[TLSFIX_PATH];
	char	c_crt[TLSFIX_PATH];	/* c.test, signed by the intermediate */
	char	c_key[TLSFIX_PATH];
	char	inter[TLSFIX_PATH];	/* the intermediate CA's certificate */
	char	both[TLSFIX_PATH];	/* a.test certificate, then its key */
	char	be_crt[TLSFIX_PATH];	/* backend: localhost, backend.test,
					   127.0.0.1 */
	char	be_key[TLSFIX_PATH];
	char	client[TLSFIX_PATH];	/* CN gateway-client: cert and key */
	char	old_crt[TLSFIX_PATH];	/* old.test, expired */
	char	old_key[TLSFIX_PATH];
	char	stray_key[TLSFIX_PATH];	/* a key of no certificate */
};

/* tlsfix_make - every file above, under dir; 0, or -1. */
int	tlsfix_make(struct tlsfix *, const char *dir);

#endif /* TLSFIX_H */
