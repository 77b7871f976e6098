/*
 * status.c - the status page (see status.h), after Apache's mod_status:
 * the same figures under the same names, so that what reads Apache's
 * "?auto" form (monitoring plugins) reads this one, plus what a gateway
 * has that Apache's page lacks: the cache's hits and size, backends in
 * error state and the balancers' members.
 *
 * Everything comes from shared state: the scoreboard (a slot per
 * worker, and the counts of workers gone), health.c's table and
 * balancer.c's.  Nothing here waits on another process: the one walk
 * that may take time is the count of a disk cache's index, which only
 * reads.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "balancer.h"
#include "cache.h"
#include "gatewayd.h"
#include "health.h"
#include "proxy.h"
#include "rules.h"
#include "scoreboard.h"
#include "status.h"

int
status_handler(const struct gw_config *c, const struct gw_vhost *v,
    const char *path)
{
	const struct gw_vhost	*vs[2] = { &c->main, v };
	const struct gw_dir	*d;
	const char		*h = NULL;

	for (int i = 0; i < 2; i++) {
		if (i == 1 && (v == NULL || v == vs[0]))
			break;
		for (d = vs[i]->dirs; d != NULL; d = d->next)
			if (d->kind == GW_DIR_LOCATION && !d->is_regex &&
			    d->handler != NULL &&
			    rules_prefix(d->match, path) > 0)
				h = d->handler;
	}
	return h != NULL && strcasecmp(h, "server-status") == 0;
}

/* The scoreboard's letters, as Apache's. */
static char
letter(int st)
{
	switch (st) {
	case SB_STARTING:	return 'S';
	case SB_READY:		return '_';
	case SB_BUSY:		return 'W';
	case SB_KEEPALIVE:	return 'K';
	case SB_CLOSING:	return 'C';
	case SB_GRACEFUL:	return 'G';
	default:		return '.';
	}
}

struct totals {
	unsigned long long	 requests, bytes, hits, misses, revals;
	int			 busy, idle;
};

static void
add(struct totals *t, const struct sb_slot *s)
{
	t->requests += s->requests;
	t->bytes += s->bytes;
	t->hits += s->cache_hits;
	t->misses += s->cache_misses;
	t->revals += s->cache_revals;
}

static void
sum(const struct gw_scoreboard *sb, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	if (sb == NULL)
		return;
	add(t, &sb->past);
	for (int i = 0; i < sb->nslots; i++) {
		const struct sb_slot *s = &sb->slots[i];

		add(t, s);
		if (s->state == SB_READY)
			t->idle++;
		else if (s->state != SB_DEAD && s->state != SB_STARTING)
			t->busy++;
	}
}

/* html - s with &, <, >, " escaped. */
static void
html(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		switch (*s) {
		case '&': (void)fputs("&amp;", f); break;
		case '<': (void)fputs("&lt;", f); break;
		case '>': (void)fputs("&gt;", f); break;
		case '"': (void)fputs("&quot;", f); break;
		default: (void)fputc(*s, f); break;
		}
}

static void
when(char *buf, size_t len, time_t t)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%A, %d-%b-%Y %H:%M:%S %Z", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
}

/* span - "1 day 2 hours 3 minutes 4 seconds", as Apache's uptime. */
static void
span(char *buf, size_t len, long long s)
{
	static const struct {
		const char	*unit;
		long long	 n;
	} u[] = { { "day", 86400 }, { "hour", 3600 }, { "minute", 60 },
	    { "second", 1 } };
	size_t	o = 0;
	int	n;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		long long k = s / u[i].n;

		s %= u[i].n;
		if (k == 0 && !(i == 3 && o == 0))
			continue;
		n = snprintf(buf + o, len - o, "%s%lld %s%s", o ? " " : "",
		    k, u[i].unit, k == 1 ? "" : "s");
		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
}

/* member_state - a member's state in a word, and its flags. */
static const char *
member_state(const struct gw_bmember *m, const struct balancer_info *in,
    char *buf, size_t len)
{
	if (m->flags & GW_BM_STOPPED)
		return "Stopped";
	if (m->flags & GW_BM_DISABLED)
		return "Disabled";
	if (in->hc_failed)
		return "HcFail";
	if (in->error_left > 0) {
		(void)snprintf(buf, len, "Err %llds", in->error_left);
		return buf;
	}
	return "Ok";
}

static void
flags(char *buf, size_t len, int fl)
{
	(void)snprintf(buf, len, "%s%s%s%s", fl & GW_BM_STANDBY ? "H" : "",
	    fl & GW_BM_DRAIN ? "N" : "", fl & GW_BM_IGNORE ? "I" : "",
	    (fl & (GW_BM_STANDBY | GW_BM_DRAIN | GW_BM_IGNORE)) ? "" : "-");
}

static const char *
method_name(enum gw_lbmethod m)
{
	return m == GW_LB_BYTRAFFIC ? "bytraffic" : m == GW_LB_BYBUSYNESS ?
	    "bybusyness" : "byrequests";
}

/*
 * Backends: every ProxyPass backend of the configuration, then those
 * the health table knows of besides (forward proxy targets), each
 * once, with the seconds of error state left.
 */
#define STATUS_BACKENDS	256

struct backends {
	int	 n;
	char	 key[STATUS_BACKENDS][128];
	long long left[STATUS_BACKENDS];
};

static void
backend_add(struct backends *bs, const char *key, long long left)
{
	for (int i = 0; i < bs->n; i++)
		if (strcmp(bs->key[i], key) == 0)
			return;
	if (bs->n == STATUS_BACKENDS)
		return;
	(void)snprintf(bs->key[bs->n], sizeof(bs->key[0]), "%s", key);
	bs->left[bs->n++] = left;
}

static void
backends_of(struct backends *bs, const struct gw_vhost *v)
{
	const struct gw_proxypass	*pp;
	const struct gw_dir		*d;
	char				 key[128];

	for (pp = v->proxypass; pp != NULL; pp = pp->next)
		if (proxy_backend_key(pp->url, key, sizeof(key)) == 0)
			backend_add(bs, key, health_left(key));
	for (d = v->dirs; d != NULL; d = d->next)
		for (pp = d->proxypass; pp != NULL; pp = pp->next)
			if (proxy_backend_key(pp->url, key, sizeof(key)) == 0)
				backend_add(bs, key, health_left(key));
}

static struct backends *
backends(const struct gw_config *c)
{
	static struct backends	 bs;
	char			 key[128];
	long long		 left;

	bs.n = 0;
	backends_of(&bs, &c->main);
	for (const struct gw_vhost *v = c->vhosts; v != NULL; v = v->next)
		backends_of(&bs, v);
	for (int i = 0; i < HEALTH_SLOTS; i++)
		if (health_entry(i, key, sizeof(key), &left))
			backend_add(&bs, key, left);
	return &bs;
}

/* Cache sizes, gathered through cache_stats. */
struct csize {
	FILE		*f;
	int		 auto_form;
	uint64_t	 entries, bytes;
};

static void
cache_line(void *arg, const char *where, int ok, uint64_t entries,
    uint64_t bytes)
{
	struct csize	*c = arg;

	c->entries += entries;
	c->bytes += bytes;
	if (c->auto_form)
		return;
	(void)fputs("<tr><td>", c->f);
	html(c->f, where);
	if (ok)
		(void)fprintf(c->f, "</td><td>%llu</td><td>%llu</td></tr>\n",
		    (unsigned long long)entries,
		    (unsigned long long)(bytes / 1024));
	else
		(void)fputs("</td><td colspan=\"2\">not available</td></tr>\n",
		    c->f);
}

static void
auto_form(FILE *f, const struct gw_config *c, const struct gw_scoreboard *sb,
    const struct totals *t, long long up)
{
	const struct gw_balancer *b;
	struct balancer_info	 in;
	struct csize		 cs = { f, 1, 0, 0 };
	struct backends		*bs;
	char			 now[96], rst[96], upt[96], st[32];

	when(now, sizeof(now), time(NULL));
	when(rst, sizeof(rst), sb != NULL ? sb->restart_time : time(NULL));
	span(upt, sizeof(upt), up);
	(void)fprintf(f, "ServerVersion: %s/%s\nServerMPM: prefork\n"
	    "CurrentTime: %s\nRestartTime: %s\n"
	    "ParentServerConfigGeneration: %u\n"
	    "ServerUptimeSeconds: %lld\nServerUptime: %s\n",
	    GW_NAME, PACKAGE_VERSION, now, rst,
	    sb != NULL ? sb->generation + 1 : 1, up, upt);
	if (c->extended_status)
		(void)fprintf(f, "Total Accesses: %llu\nTotal kBytes: %llu\n",
		    t->requests, t->bytes / 1024);
	(void)fprintf(f, "Uptime: %lld\n", up);
	if (c->extended_status && up > 0)
		(void)fprintf(f, "ReqPerSec: %g\nBytesPerSec: %g\n",
		    (double)t->requests / (double)up,
		    (double)t->bytes / (double)up);
	if (c->extended_status && t->requests > 0)
		(void)fprintf(f, "BytesPerReq: %g\n", (double)t->bytes /
		    (double)t->requests);
	(void)fprintf(f, "BusyWorkers: %d\nIdleWorkers: %d\nScoreboard: ",
	    t->busy, t->idle);
	for (int i = 0; sb != NULL && i < sb->nslots; i++)
		(void)fputc(letter(sb->slots[i].state), f);
	(void)fprintf(f, "\nCacheHits: %llu\nCacheMisses: %llu\n"
	    "CacheRevalidations: %llu\n", t->hits, t->misses, t->revals);
	cache_stats(cache_line, &cs);
	(void)fprintf(f, "CacheEntries: %llu\nCacheKBytes: %llu\n",
	    (unsigned long long)cs.entries,
	    (unsigned long long)(cs.bytes / 1024));
	bs = backends(c);
	for (int i = 0; i < bs->n; i++)
		(void)fprintf(f, "Backend: %s %s %lld\n", bs->key[i],
		    bs->left[i] > 0 ? "error" : "ok", bs->left[i]);
	for (b = c->balancers; b != NULL; b = b->next)
		for (int i = 0; i < b->nmembers; i++) {
			balancer_info(b, i, &in);
			(void)fprintf(f, "BalancerMember: %s %s %s %ld %llu\n",
			    b->name, b->members[i].name,
			    member_state(&b->members[i], &in, st, sizeof(st)),
			    in.busy, in.elected);
		}
}

static void
html_balancers(FILE *f, const struct gw_config *c)
{
	const struct gw_balancer *b;
	struct balancer_info	 in;
	char			 st[32], fl[8];

	for (b = c->balancers; b != NULL; b = b->next) {
		(void)fputs("<h2>Balancer ", f);
		html(f, b->name);
		(void)fprintf(f, "</h2>\n<p>lbmethod %s, maxattempts %d, "
		    "stickysession ", method_name(b->lbmethod),
		    b->maxattempts);
		html(f, b->sticky_cookie != NULL ? b->sticky_cookie : "(none)");
		(void)fprintf(f, ", nofailover %s</p>\n<table border=\"0\">"
		    "<tr><th>Worker URL</th><th>Route</th><th>Set</th>"
		    "<th>Factor</th><th>Flags</th><th>State</th><th>Busy</th>"
		    "<th>Elected</th><th>To</th><th>From</th></tr>\n",
		    b->nofailover ? "On" : "Off");
		for (int i = 0; i < b->nmembers; i++) {
			const struct gw_bmember *m = &b->members[i];

			balancer_info(b, i, &in);
			flags(fl, sizeof(fl), m->flags);
			(void)fputs("<tr><td>", f);
			html(f, m->url);
			(void)fputs("</td><td>", f);
			html(f, m->route != NULL ? m->route : "");
			(void)fprintf(f, "</td><td>%d</td><td>%d</td><td>%s"
			    "</td><td>%s</td><td>%ld</td><td>%llu</td>"
			    "<td>%llu</td><td>%llu</td></tr>\n", m->lbset,
			    m->loadfactor, fl, member_state(m, &in, st,
			    sizeof(st)), in.busy, in.elected, in.sent,
			    in.received);
		}
		(void)fputs("</table>\n", f);
	}
}

static void
html_form(FILE *f, const struct gw_config *c, const struct gw_scoreboard *sb,
    const struct totals *t, long long up, const char *host)
{
	struct csize	 cs = { f, 0, 0, 0 };
	struct backends	*bs;
	char		 now[96], rst[96], upt[96];
	unsigned long long looked = t->hits + t->misses + t->revals;

	when(now, sizeof(now), time(NULL));
	when(rst, sizeof(rst), sb != NULL ? sb->restart_time : time(NULL));
	span(upt, sizeof(upt), up);
	(void)fputs("<!DOCTYPE html>\n<html><head>\n<title>gatewayd "
	    "status</title>\n</head><body>\n<h1>gatewayd status for ", f);
	html(f, host);
	(void)fprintf(f, "</h1>\n<dl><dt>Server Version: %s/%s</dt>\n"
	    "<dt>Server MPM: prefork</dt>\n</dl><hr /><dl>\n"
	    "<dt>Current Time: %s</dt>\n<dt>Restart Time: %s</dt>\n"
	    "<dt>Parent Server Config. Generation: %u</dt>\n"
	    "<dt>Server uptime: %s</dt>\n", GW_NAME, PACKAGE_VERSION, now,
	    rst, sb != NULL ? sb->generation + 1 : 1, upt);
	if (c->extended_status) {
		(void)fprintf(f, "<dt>Total accesses: %llu - Total Traffic: "
		    "%llu kB</dt>\n", t->requests, t->bytes / 1024);
		if (up > 0 && t->requests > 0)
			(void)fprintf(f, "<dt>%.3g requests/sec - %.3g "
			    "B/second - %.3g B/request</dt>\n",
			    (double)t->requests / (double)up,
			    (double)t->bytes / (double)up,
			    (double)t->bytes / (double)t->requests);
	}
	(void)fprintf(f, "<dt>%d requests currently being processed, %d "
	    "idle workers</dt>\n</dl><pre>", t->busy, t->idle);
	for (int i = 0; sb != NULL && i < sb->nslots; i++) {
		(void)fputc(letter(sb->slots[i].state), f);
		if (i % 64 == 63)
			(void)fputc('\n', f);
	}
	(void)fputs("</pre>\n<p>Scoreboard Key:<br />\n\"<b><code>_</code>"
	    "</b>\" Waiting for Connection, \"<b><code>S</code></b>\" "
	    "Starting up, \"<b><code>W</code></b>\" Sending Reply,\n"
	    "\"<b><code>K</code></b>\" Keepalive (read), \"<b><code>C"
	    "</code></b>\" Closing connection,\n\"<b><code>G</code></b>\" "
	    "Gracefully finishing, \"<b><code>.</code></b>\" Open slot "
	    "with no current process</p>\n", f);
	if (c->extended_status && sb != NULL) {
		(void)fputs("<table border=\"0\"><tr><th>Srv</th><th>PID"
		    "</th><th>Conn</th><th>Acc</th><th>M</th><th>SS</th>"
		    "<th>kB</th><th>Hits</th></tr>\n", f);
		for (int i = 0; i < sb->nslots; i++) {
			const struct sb_slot *s = &sb->slots[i];

			if (s->state == SB_DEAD)
				continue;
			(void)fprintf(f, "<tr><td>%d-%u</td><td>%ld</td>"
			    "<td>%lu</td><td>%lu</td><td>%c</td><td>%lld</td>"
			    "<td>%lu</td><td>%lu</td></tr>\n", i,
			    s->generation, (long)s->pid, s->connections,
			    s->requests, letter(s->state),
			    (long long)(time(NULL) - s->since),
			    s->bytes / 1024, s->cache_hits);
		}
		(void)fputs("</table>\n", f);
	}
	(void)fprintf(f, "<h2>Cache</h2>\n<p>%llu hits, %llu misses, %llu "
	    "revalidations", t->hits, t->misses, t->revals);
	if (looked > 0)
		(void)fprintf(f, " - hit ratio %.1f%%", 100.0 *
		    (double)t->hits / (double)looked);
	(void)fputs("</p>\n<table border=\"0\"><tr><th>Store</th><th>Entries"
	    "</th><th>kB</th></tr>\n", f);
	cache_stats(cache_line, &cs);
	(void)fputs("</table>\n<h2>Backends</h2>\n"
	    "<table border=\"0\"><tr><th>Backend</th><th>State</th></tr>\n",
	    f);
	bs = backends(c);
	for (int i = 0; i < bs->n; i++) {
		(void)fputs("<tr><td>", f);
		html(f, bs->key[i]);
		if (bs->left[i] > 0)
			(void)fprintf(f, "</td><td>Err %llds</td></tr>\n",
			    bs->left[i]);
		else
			(void)fputs("</td><td>Ok</td></tr>\n", f);
	}
	(void)fputs("</table>\n", f);
	html_balancers(f, c);
	(void)fputs("<hr />\n<address>", f);
	html(f, GW_NAME "/" PACKAGE_VERSION);
	(void)fputs("</address>\n</body></html>\n", f);
}

int
status_page(FILE *f, enum status_form form, const struct gw_config *c,
    const struct gw_scoreboard *sb, const char *host)
{
	struct totals	 t;
	long long	 up;

	sum(sb, &t);
	up = sb != NULL ? (long long)(time(NULL) - sb->start_time) : 0;
	if (up < 0)
		up = 0;
	if (form == STATUS_AUTO)
		auto_form(f, c, sb, &t, up);
	else
		html_form(f, c, sb, &t, up, host);
	return ferror(f) ? -1 : 0;
}
