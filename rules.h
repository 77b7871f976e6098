/*
 * rules.h - from a request to a decision: virtual host, ProxyPass rule,
 * access, cache policy.  Pure functions over a struct gw_config.
 */
#ifndef RULES_H
#define RULES_H

#include <sys/socket.h>

#include "gatewayd.h"

/*
 * rules_access - does this <Proxy>/<Location> access block let a client
 * at addr (with reverse name host, may be NULL) in?  1 yes, 0 no.
 */
int	rules_access(const struct gw_access *, const struct sockaddr *,
	    const char *host);
/* rules_access_needs_host - does the block name hosts (needs a lookup)? */
int	rules_access_needs_host(const struct gw_access *);

/*
 * rules_path - the path of a request-target made fit for matching:
 * %XX decoded, dot-segments removed.  %2F follows AllowEncodedSlashes:
 * 0 Off (refused), 1 On (decoded), 2 NoDecode (kept as %2F; %25 is
 * then kept too, so any '%' in out starts an escape).  Writes at most
 * outlen bytes to out.  Returns 0, or the status to refuse the request
 * with: 400 (bad escape, %00, a path that climbs above the root), 404
 * (encoded slash while refused, as Apache), 414 (too long).
 */
int	rules_path(const char *path, size_t len, int allow_encoded_slashes,
	    char *out, size_t outlen);

/*
 * rules_vhost - Apache's choice of virtual host: the vhosts whose
 * address matches the local address and port (exact IP before "*"),
 * then by Host (ServerName, then ServerAlias, file order) among them;
 * the first candidate when no name matches; the main server when no
 * address matches.  host may be NULL; a port in it is ignored.
 */
const struct gw_vhost *rules_vhost(const struct gw_config *,
	    const struct sockaddr *local, const char *host, size_t hostlen);

/* A ProxyPass decision. */
struct rules_route {
	const struct gw_proxypass *pp;	/* NULL: no rule; url NULL: "!" */
	size_t		 matched;	/* bytes of the path the rule took */
};

/*
 * rules_proxypass - the first ProxyPass whose path is a prefix of path
 * at a segment boundary (runs of '/' count as one, as Apache's
 * alias_match): <Location> rules first, then the main server's, then
 * the vhost's, in file order (Apache appends a vhost's to the main
 * server's).  Returns 1 with *r filled, 0 when none matches.
 */
int	rules_proxypass(const struct gw_config *, const struct gw_vhost *,
	    const char *path, struct rules_route *);

/* rules_prefix - the alias_match above: bytes of path taken, or 0. */
size_t	rules_prefix(const char *alias, const char *path);

#endif /* RULES_H */
