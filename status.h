/*
 * status.h - the status page (mod_status's server-status handler).
 *
 * status_handler says whether a <Location> with SetHandler server-status
 * covers a path; status_page writes the page itself from the shared
 * state every worker can read: the scoreboard, the backends' error
 * table, the balancers' members and the caches.  The caller sends it
 * (proxy.c), after the section's access control.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stdio.h>

struct gw_config;
struct gw_vhost;
struct gw_scoreboard;

/*
 * status_handler - 1 when the last <Location> with a SetHandler that
 * covers path (the main server's sections, then the vhost's, in file
 * order, as Apache merges them) says server-status.
 */
int	status_handler(const struct gw_config *, const struct gw_vhost *,
	    const char *path);

enum status_form { STATUS_HTML, STATUS_AUTO };

/*
 * status_page - the page to f: HTML, or the ?auto text.  sb may be NULL
 * (gatewayd -X: no scoreboard).  host names the server in the title.
 * 0, or -1 if f failed.
 */
int	status_page(FILE *f, enum status_form, const struct gw_config *,
	    const struct gw_scoreboard *sb, const char *host);

#endif /* STATUS_H */
