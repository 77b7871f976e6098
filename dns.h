/*
 * dns.h - the client's host name, for host-based access rules.
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * dns_peer_name - the client's name by double-reverse lookup, as
 * Apache's access rules do: the address's name, kept only if that name
 * resolves back to the same address.  0 with out filled, -1 when there
 * is no such name.  The wait is the system resolver's (resolv.conf
 * timeout and attempts); it is only called when a rule names hosts.
 */
int	dns_peer_name(const struct sockaddr *, socklen_t, char *out,
	    size_t outlen);

#endif /* DNS_H */
