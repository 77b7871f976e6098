/*
 * dns.c - double-reverse lookup of a client (see dns.h).
 */
#include "config.h"

#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "dns.h"

/* same_addr - a and b are the same address (v4-mapped counts as v4). */
static int
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	const unsigned char	*pa, *pb;
	size_t			 na, nb;

	if (a->sa_family == AF_INET) {
		pa = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)a)->sin_addr;
		na = 4;
	} else {
		pa = ((const struct sockaddr_in6 *)(const void *)a)->
		    sin6_addr.s6_addr;
		na = 16;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)
		    (const void *)pa)) {
			pa += 12;
			na = 4;
		}
	}
	if (b->sa_family == AF_INET) {
		pb = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)b)->sin_addr;
		nb = 4;
	} else {
		pb = ((const struct sockaddr_in6 *)(const void *)b)->
		    sin6_addr.s6_addr;
		nb = 16;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)
		    (const void *)pb)) {
			pb += 12;
			nb = 4;
		}
	}
	return na == nb && memcmp(pa, pb, na) == 0;
}

int
dns_peer_name(const struct sockaddr *sa, socklen_t len, char *out,
    size_t outlen)
{
	struct addrinfo	 hints, *res, *ai;
	int		 ok = 0;

	if (outlen == 0 || getnameinfo(sa, len, out, (socklen_t)outlen, NULL,
	    0, NI_NAMEREQD) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(out, NULL, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && !ok; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			ok = same_addr(sa, ai->ai_addr);
	freeaddrinfo(res);
	if (!ok)
		out[0] = '\0';
	return ok ? 0 : -1;
}
