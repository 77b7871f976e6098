/*
 * balancer.c - load balancing over BalancerMembers (see balancer.h).
 *
 * Shared state is one anonymous MAP_SHARED region made by the master:
 * a slot per balancer (its lock) and per member (error time, lbstatus,
 * busy, traffic, health-check state), found by name ("balancer://b" and
 * "balancer://b|member-url"), and one word per scoreboard slot naming
 * the member that worker is busy with, so that the master can give
 * back the busy count of a worker that died.  A process without the
 * region (gatewayd -X before it exists, a unit test) has a private one.
 *
 * lbstatus changes only under the balancer's lock (a robust process-
 * shared mutex taken with a deadline: a worker that dies holding it
 * costs nothing; one that cannot get it in time chooses unlocked).
 * The other counters are single words updated with atomics.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "balancer.h"
#include "conn.h"
#include "directives.h"
#include "gatewayd.h"
#include "log.h"
#include "util.h"

#define LB_BALANCERS	64
#define LB_SLOTS	1024
#define LB_KEY		320
#define LB_LOCK_MS	200

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

struct lb_mshm {
	char			 key[LB_KEY];
	long long		 error_until;	/* time(); 0: none */
	long long		 lbstatus;	/* under the lock */
	long			 busy;
	unsigned long long	 elected, sent, received;
	int			 hc_failed;
	int			 hc_run;	/* >0 passes, <0 fails in a row */
};

struct lb_bshm {
	char			 key[LB_KEY];
	pthread_mutex_t		 lock;
	long long		 probe_at;	/* forcerecovery: next probe */
};

struct lb_shm {
	size_t			 len;
	int			 shared;
	struct lb_bshm		 b[LB_BALANCERS];
	struct lb_mshm		 m[LB_SLOTS];
	int			 nws;
	int			 cur[];		/* per worker: member slot+1 */
};

static struct lb_shm	*shm;

/*---------------------------------------------------------------------
 * Configuration
 */

/* Parameters of a balancer (ProxySet in its section, its ProxyPass). */
static const char *const bal_keys[] = { "lbmethod", "maxattempts",
	"nofailover", "stickysession", "timeout", "failonstatus",
	"failontimeout", "forcerecovery", "growth", "scolonpathdelim",
	NULL };

static int
is_bal_key(const char *k)
{
	for (int i = 0; bal_keys[i] != NULL; i++)
		if (strcmp(bal_keys[i], k) == 0)
			return 1;
	return 0;
}

/* Values were checked by directives.c: these only convert them. */
static int
num(const char *v)
{
	return (int)strtol(v, NULL, 10);
}

static int
flag_on(const char *v)
{
	return strcasecmp(v, "on") == 0;
}

static int
ms_of(const char *v)
{
	size_t n = strlen(v);

	if (n > 2 && strcasecmp(v + n - 2, "ms") == 0)
		return num(v);
	return num(v) * 1000;
}

/* status=+H-D...: Apache's letters; a letter without a sign sets. */
static int
status_flags(const char *s, int flags)
{
	int	set = 1, f;

	for (; *s != '\0'; s++) {
		switch (toupper((unsigned char)*s)) {
		case '+': set = 1; continue;
		case '-': set = 0; continue;
		case 'D': f = GW_BM_DISABLED; break;
		case 'S': f = GW_BM_STOPPED; break;
		case 'I': f = GW_BM_IGNORE; break;
		case 'H': case 'R': f = GW_BM_STANDBY; break;
		case 'E': case 'C': f = GW_BM_ERROR; break;
		case 'N': f = GW_BM_DRAIN; break;
		default: continue;
		}
		flags = set ? flags | f : flags & ~f;
	}
	return flags;
}

static const char *
set_failonstatus(struct gw_parse *p, struct gw_balancer *b, const char *v)
{
	const char	*s = v;
	char		*end;
	long		 st;
	int		 n = 0;

	while (*s != '\0') {
		st = strtol(s, &end, 10);
		if (end == s || st < 100 || st > 599 || n == 15)
			return arena_printf(p->arena, "failonstatus=%s: a "
			    "comma-separated list of up to 15 status codes", v);
		b->failonstatus[n++] = (int)st;
		s = end;
		while (*s == ',' || *s == ' ')
			s++;
	}
	b->failonstatus[n] = 0;
	return NULL;
}

/* bal_param - one balancer parameter; an error message or NULL. */
static const char *
bal_param(struct gw_parse *p, struct gw_balancer *b, const struct gw_param *pr)
{
	const char	*k = pr->key, *v = pr->value;
	char		*bar;

	if (!is_bal_key(k))
		return arena_printf(p->arena, "%s is a BalancerMember "
		    "parameter, not one of the balancer", k);
	if (strcmp(k, "lbmethod") == 0)
		b->lbmethod = strcasecmp(v, "bytraffic") == 0 ?
		    GW_LB_BYTRAFFIC : strcasecmp(v, "bybusyness") == 0 ?
		    GW_LB_BYBUSYNESS : GW_LB_BYREQUESTS;
	else if (strcmp(k, "maxattempts") == 0)
		b->maxattempts = num(v);
	else if (strcmp(k, "nofailover") == 0)
		b->nofailover = flag_on(v);
	else if (strcmp(k, "forcerecovery") == 0)
		b->forcerecovery = flag_on(v);
	else if (strcmp(k, "failontimeout") == 0)
		b->failontimeout = flag_on(v);
	else if (strcmp(k, "scolonpathdelim") == 0)
		b->scolonpathdelim = flag_on(v);
	else if (strcmp(k, "failonstatus") == 0)
		return set_failonstatus(p, b, v);
	else if (strcmp(k, "stickysession") == 0) {
		b->sticky_cookie = arena_strdup(p->arena, v);
		if ((bar = strchr(b->sticky_cookie, '|')) != NULL) {
			*bar = '\0';
			b->sticky_param = bar + 1;
		} else
			b->sticky_param = b->sticky_cookie;
		if (*b->sticky_cookie == '\0' || *b->sticky_param == '\0')
			return arena_printf(p->arena, "stickysession=%s: "
			    "COOKIE or COOKIE|param", v);
	}
	/* timeout (for a free member) and growth: nothing to wait for or
	   to grow here; accepted */
	return NULL;
}

static enum gw_hcmethod
hc_method(const char *v)
{
	static const struct {
		const char		*name;
		enum gw_hcmethod	 m;
	} t[] = {
		{ "TCP", GW_HC_TCP }, { "OPTIONS", GW_HC_OPTIONS },
		{ "OPTIONS11", GW_HC_OPTIONS }, { "HEAD", GW_HC_HEAD },
		{ "HEAD11", GW_HC_HEAD }, { "GET", GW_HC_GET },
		{ "GET11", GW_HC_GET }, { "NONE", GW_HC_NONE },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(t[i].name, v) == 0)
			return t[i].m;
	return (enum gw_hcmethod)-1;
}

/* member_param - one BalancerMember parameter; a message or NULL. */
static const char *
member_param(struct gw_parse *p, struct gw_bmember *m, const struct gw_param *pr)
{
	const char	*k = pr->key, *v = pr->value;

	if (is_bal_key(k) && strcmp(k, "timeout") != 0)
		return arena_printf(p->arena, "%s is a balancer parameter "
		    "(ProxySet in the <Proxy balancer://...> section, or on "
		    "the ProxyPass line), not one of a member", k);
	if (strcmp(k, "loadfactor") == 0)
		m->loadfactor = num(v);
	else if (strcmp(k, "lbset") == 0)
		m->lbset = num(v);
	else if (strcmp(k, "route") == 0)
		m->route = pr->value;
	else if (strcmp(k, "redirect") == 0)
		m->redirect = pr->value;
	else if (strcmp(k, "status") == 0)
		m->flags = status_flags(v, m->flags);
	else if (strcmp(k, "retry") == 0)
		m->retry = num(v);
	else if (strcmp(k, "timeout") == 0)
		m->timeout = num(v);
	else if (strcmp(k, "connectiontimeout") == 0)
		m->connectiontimeout = ms_of(v);
	else if (strcmp(k, "ttl") == 0)
		m->ttl = num(v);
	else if (strcmp(k, "disablereuse") == 0)
		m->disablereuse = flag_on(v);
	else if (strcmp(k, "enablereuse") == 0)
		m->disablereuse = !flag_on(v);
	else if (strcmp(k, "keepalive") == 0)
		m->keepalive = flag_on(v);
	else if (strcmp(k, "hcmethod") == 0) {
		if ((int)(m->hcmethod = hc_method(v)) == -1)
			return arena_printf(p->arena, "hcmethod=%s: use TCP, "
			    "OPTIONS, HEAD or GET (or NONE)", v);
	} else if (strcmp(k, "hcuri") == 0) {
		if (v[0] != '/')
			return arena_printf(p->arena, "hcuri=%s must start "
			    "with /", v);
		m->hcuri = pr->value;
	} else if (strcmp(k, "hcinterval") == 0)
		m->hcinterval = num(v);
	else if (strcmp(k, "hcpasses") == 0)
		m->hcpasses = num(v);
	else if (strcmp(k, "hcfails") == 0)
		m->hcfails = num(v);
	else if (strcmp(k, "hcexpr") == 0)
		return "hcexpr is not supported (without it, a 2xx or 3xx "
		    "answer passes the check)";
	else if (strcmp(k, "upgrade") == 0)
		return "upgrade= belongs on the ProxyPass line of a balancer";
	/* max, min, smax, acquire, ping, flush*, iobuffersize,
	   receivebuffersize: nothing of a pre-fork worker's to set */
	return NULL;
}

/* bal_name - "balancer://name" of url (lower case), *rest after it. */
static char *
bal_name(struct gw_arena *a, const char *url, const char **rest)
{
	size_t	 n = 11 + strcspn(url + 11, "/?#");
	char	*s = arena_alloc(a, n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)url[i]);
	s[n] = '\0';
	if (rest != NULL)
		*rest = url + n;
	return s;
}

static struct gw_balancer *
find_in(const struct gw_vhost *v, const char *name)
{
	for (const struct gw_dir *d = v->dirs; d != NULL; d = d->next)
		if (d->balancer != NULL && strcmp(d->balancer->name, name) == 0)
			return d->balancer;
	return NULL;
}

static int
tls_url(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0 ||
	    strncasecmp(url, "wss://", 6) == 0;
}

static void
build_member(struct gw_parse *p, struct gw_bmember *m,
    const struct gw_member *src)
{
	const struct gw_param	*pr;
	const char		*e;
	size_t			 n;

	m->file = src->file;
	m->line = src->line;
	m->url = src->url;
	n = strlen(src->url);
	while (n > 0 && src->url[n - 1] == '/')
		n--;
	m->name = arena_alloc(p->arena, n + 1);
	memcpy(m->name, src->url, n);
	m->name[n] = '\0';
	m->loadfactor = 1;
	m->retry = 60;
	m->timeout = m->connectiontimeout = m->ttl = GW_UNSET;
	m->hcinterval = 30;
	m->hcpasses = m->hcfails = 1;
	m->slot = -1;
	for (pr = src->params; pr != NULL; pr = pr->next)
		if ((e = member_param(p, m, pr)) != NULL)
			conf_error_at(p, m->file, m->line, "BalancerMember %s: "
			    "%s", m->url, e);
	if (strncasecmp(m->url, "http://", 7) != 0 &&
	    strncasecmp(m->url, "ws://", 5) != 0 && !tls_url(m->url))
		conf_error_at(p, m->file, m->line, "BalancerMember %s: "
		    "members are http://, https://, ws:// or wss:// URLs",
		    m->url);
	if (m->hcmethod != GW_HC_NONE && m->hcmethod != GW_HC_TCP &&
	    tls_url(m->url))
		conf_error_at(p, m->file, m->line, "BalancerMember %s: "
		    "health checks of a TLS member are hcmethod=TCP only in "
		    "this release", m->url);
}

/* build - the balancer of section d (a <Proxy balancer://...>). */
static struct gw_balancer *
build(struct gw_parse *p, struct gw_dir *d)
{
	struct gw_balancer	*b;
	const struct gw_member	*src;
	const struct gw_param	*pr;
	const char		*e, *rest;
	int			 i, j;

	b = arena_alloc(p->arena, sizeof(*b));
	b->file = d->file;
	b->line = d->line;
	b->name = bal_name(p->arena, d->match, &rest);
	b->maxattempts = GW_UNSET;
	b->forcerecovery = 1;
	b->slot = -1;
	if (*rest != '\0' && strcmp(rest, "/") != 0)
		conf_error_at(p, d->file, d->line, "<Proxy %s>: a balancer "
		    "section names the balancer only, without a path",
		    d->match);
	for (pr = d->proxyset; pr != NULL; pr = pr->next)
		if ((e = bal_param(p, b, pr)) != NULL)
			conf_error_at(p, d->file, d->line, "ProxySet in <Proxy "
			    "%s>: %s", b->name, e);
	for (src = d->members; src != NULL; src = src->next)
		b->nmembers++;
	if (b->nmembers == 0) {
		conf_error_at(p, d->file, d->line, "<Proxy %s> has no "
		    "BalancerMember: the balancer could serve nothing",
		    b->name);
		return b;
	}
	if (b->nmembers > LB_MEMBERS_MAX) {
		conf_error_at(p, d->file, d->line, "<Proxy %s>: more than %d "
		    "members", b->name, LB_MEMBERS_MAX);
		b->nmembers = 0;
		return b;
	}
	b->members = arena_alloc(p->arena, (size_t)b->nmembers *
	    sizeof(*b->members));
	for (i = 0, src = d->members; src != NULL; src = src->next, i++) {
		build_member(p, &b->members[i], src);
		for (j = 0; j < i; j++)
			if (strcasecmp(b->members[j].name,
			    b->members[i].name) == 0)
				conf_error_at(p, src->file, src->line,
				    "BalancerMember %s is already a member of "
				    "%s (line %d)", src->url, b->name,
				    b->members[j].line);
	}
	for (i = 0; i < b->nmembers; i++) {
		const char *rd = b->members[i].redirect;

		if (rd == NULL)
			continue;
		for (j = 0; j < b->nmembers; j++)
			if (j != i && b->members[j].route != NULL &&
			    strcmp(b->members[j].route, rd) == 0)
				break;
		if (j == b->nmembers)
			conf_error_at(p, b->members[i].file,
			    b->members[i].line, "BalancerMember %s: "
			    "redirect=%s names no other member's route",
			    b->members[i].url, rd);
	}
	return b;
}

/* use - pp names a balancer: find it (its server's, else the main
   server's) and apply the line's balancer parameters to it. */
static void
use(struct gw_parse *p, const struct gw_vhost *v, struct gw_proxypass *pp)
{
	const struct gw_param	*pr;
	const char		*e, *rest;
	char			*name;

	if (pp->url == NULL || strncasecmp(pp->url, "balancer://", 11) != 0)
		return;
	name = bal_name(p->arena, pp->url, &rest);
	pp->lbpath = rest;
	if ((pp->balancer = find_in(v, name)) == NULL &&
	    (pp->balancer = find_in(&p->cfg->main, name)) == NULL) {
		conf_error_at(p, pp->file, pp->line, "ProxyPass %s: no <Proxy "
		    "%s> section with BalancerMember lines defines this "
		    "balancer", pp->url, name);
		return;
	}
	for (pr = pp->params; pr != NULL; pr = pr->next)
		if (strcmp(pr->key, "upgrade") != 0 &&	/* the line's own */
		    (e = bal_param(p, pp->balancer, pr)) != NULL)
			conf_error_at(p, pp->file, pp->line, "ProxyPass %s: %s",
			    pp->url, e);
}

static void
build_server(struct gw_parse *p, struct gw_vhost *v, struct gw_balancer ***tail)
{
	struct gw_balancer	*b;
	struct gw_dir		*d;

	for (d = v->dirs; d != NULL; d = d->next) {
		if (d->kind != GW_DIR_PROXY || d->is_regex ||
		    strncasecmp(d->match, "balancer://", 11) != 0)
			continue;
		b = build(p, d);
		if ((d->balancer = find_in(v, b->name)) != NULL) {
			conf_error_at(p, d->file, d->line, "<Proxy %s> is "
			    "already defined in this server (%s:%d)",
			    b->name, d->balancer->file, d->balancer->line);
			continue;
		}
		d->balancer = b;
		**tail = b;
		*tail = &b->next;
	}
}

/* use_reverse - a ProxyPassReverse of a balancer: every member's URL. */
static void
use_reverse(struct gw_parse *p, const struct gw_vhost *v,
    struct gw_proxypassreverse *r)
{
	const char	*rest;
	char		*name;

	if (strncasecmp(r->url, "balancer://", 11) != 0)
		return;
	name = bal_name(p->arena, r->url, &rest);
	r->lbpath = rest;
	if ((r->balancer = find_in(v, name)) == NULL &&
	    (r->balancer = find_in(&p->cfg->main, name)) == NULL)
		conf_warn(p, "ProxyPassReverse %s: no <Proxy %s> section "
		    "defines this balancer; the line has no effect", r->url,
		    name);
}

static void
use_server(struct gw_parse *p, struct gw_vhost *v)
{
	struct gw_proxypass		*pp;
	struct gw_proxypassreverse	*r;
	struct gw_dir			*d;

	for (pp = v->proxypass; pp != NULL; pp = pp->next)
		use(p, v, pp);
	for (r = v->proxypassreverse; r != NULL; r = r->next)
		use_reverse(p, v, r);
	for (d = v->dirs; d != NULL; d = d->next) {
		for (pp = d->proxypass; pp != NULL; pp = pp->next)
			use(p, v, pp);
		for (r = d->proxypassreverse; r != NULL; r = r->next)
			use_reverse(p, v, r);
	}
}

void
balancer_conf_build(struct gw_parse *p)
{
	struct gw_config	 *c = p->cfg;
	struct gw_balancer	**tail = &c->balancers, *b;
	struct gw_vhost		 *v;

	build_server(p, &c->main, &tail);
	for (v = c->vhosts; v != NULL; v = v->next)
		build_server(p, v, &tail);
	use_server(p, &c->main);
	for (v = c->vhosts; v != NULL; v = v->next)
		use_server(p, v);
	for (b = c->balancers; b != NULL; b = b->next)
		if (b->maxattempts == GW_UNSET)
			b->maxattempts = b->nmembers > 0 ? b->nmembers - 1 : 0;
}

/*---------------------------------------------------------------------
 * Shared state
 */

static size_t
shm_len(int nws)
{
	return sizeof(struct lb_shm) + (size_t)(nws > 0 ? nws : 0) *
	    sizeof(int);
}

static int
init_locks(struct lb_shm *s)
{
	pthread_mutexattr_t	a;
	int			e = 0;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	if (s->shared && pthread_mutexattr_setpshared(&a,
	    PTHREAD_PROCESS_SHARED) != 0)
		e = -1;
	if (pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0)
		e = -1;
	for (int i = 0; i < LB_BALANCERS && e == 0; i++)
		if (pthread_mutex_init(&s->b[i].lock, &a) != 0)
			e = -1;
	(void)pthread_mutexattr_destroy(&a);
	return e;
}

int
balancer_create(int nworkers)
{
	struct lb_shm	*s;
	size_t		 len = shm_len(nworkers);
	void		*p;

	if (shm != NULL && shm->shared)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	s = p;
	memset(s, 0, len);
	s->len = len;
	s->shared = 1;
	s->nws = nworkers;
	if (init_locks(s) == -1) {
		(void)munmap(p, len);
		return -1;
	}
	if (shm != NULL)
		free(shm);
	shm = s;
	return 0;
}

void
balancer_destroy(void)
{
	if (shm == NULL)
		return;
	if (shm->shared)
		(void)munmap(shm, shm->len);
	else
		free(shm);
	shm = NULL;
}

static struct lb_shm *
state(void)
{
	if (shm == NULL) {
		if ((shm = calloc(1, shm_len(0))) == NULL)
			return NULL;
		shm->len = shm_len(0);
		if (init_locks(shm) == -1)
			log_msg(GW_LOG_WARN, "balancer: cannot set up locks");
	}
	return shm;
}

/* claim - the slot of key in a table of n, *fresh when it was free. */
static int
claim(char *base, size_t size, int n, const char *key, int *fresh)
{
	uint32_t	 h = gw_fnv1a(key);
	char		*k;

	*fresh = 0;
	if (strlen(key) >= LB_KEY)
		return -1;
	for (int i = 0; i < n; i++) {
		int j = (int)((h + (uint32_t)i) % (uint32_t)n);

		k = base + (size_t)j * size;	/* key is the first field */
		if (strcmp(k, key) == 0)
			return j;
		if (*k == '\0') {
			memcpy(k, key, strlen(key) + 1);
			*fresh = 1;
			return j;
		}
	}
	return -1;
}

void
balancer_attach(struct gw_config *c)
{
	struct lb_shm		*s = state();
	struct gw_balancer	*b;
	char			 key[LB_KEY];
	int			 fresh;

	if (s == NULL)
		return;
	for (b = c->balancers; b != NULL; b = b->next) {
		b->slot = claim((char *)s->b, sizeof(s->b[0]), LB_BALANCERS,
		    b->name, &fresh);
		for (int i = 0; i < b->nmembers; i++) {
			struct gw_bmember *m = &b->members[i];

			(void)snprintf(key, sizeof(key), "%s|%s", b->name,
			    m->name);
			m->slot = b->slot == -1 ? -1 : claim((char *)s->m,
			    sizeof(s->m[0]), LB_SLOTS, key, &fresh);
			if (m->slot == -1 && b->priv == NULL) {
				/* this process's own, then each worker's */
				b->priv = arena_alloc(c->arena,
				    (size_t)b->nmembers *
				    sizeof(struct lb_mshm));
				log_msg(GW_LOG_WARN, "balancer: no room for "
				    "%s in the shared table: each worker "
				    "keeps its own state of it", key);
			}
			if (m->slot == -1)
				continue;
			if (fresh && (m->flags & GW_BM_ERROR))
				STORE(&s->m[m->slot].error_until,
				    (long long)time(NULL) + m->retry);
		}
	}
}

void
balancer_worker_gone(int ws)
{
	int	v;

	if (shm == NULL || ws < 0 || ws >= shm->nws)
		return;
	v = __atomic_exchange_n(&shm->cur[ws], 0, __ATOMIC_RELAXED);
	if (v > 0 && v <= LB_SLOTS && LOAD(&shm->m[v - 1].busy) > 0)
		(void)ADD(&shm->m[v - 1].busy, -1);
}

/* A member without a shared slot (table full) keeps a private one. */
static struct lb_mshm *
mstate(const struct gw_balancer *b, int i)
{
	static struct lb_mshm	 none;
	int			 slot = b->members[i].slot;

	if (slot >= 0 && state() != NULL)
		return &shm->m[slot];
	if (b->priv != NULL)
		return &((struct lb_mshm *)b->priv)[i];
	return &none;		/* never attached: a unit test's mistake */
}

static int
lock(const struct gw_balancer *b)
{
	struct timespec	ts;
	int		e;

	if (b->slot < 0 || state() == NULL)
		return 0;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	ts.tv_nsec += (LB_LOCK_MS % 1000) * 1000000L;
	ts.tv_sec += LB_LOCK_MS / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	e = pthread_mutex_timedlock(&shm->b[b->slot].lock, &ts);
	if (e == EOWNERDEAD) {
		/* its holder died: the counts it was changing are whole
		   words, so the state is usable as it is */
		(void)pthread_mutex_consistent(&shm->b[b->slot].lock);
		return 1;
	}
	if (e != 0)
		log_msg(GW_LOG_WARN, "balancer: %s lock: %s; choosing "
		    "without it", b->name, strerror(e));
	return e == 0;
}

static void
unlock(const struct gw_balancer *b, int locked)
{
	if (locked)
		(void)pthread_mutex_unlock(&shm->b[b->slot].lock);
}

/*---------------------------------------------------------------------
 * Choosing a member
 */

/* usable - member i may take this request (probe: errors ignored). */
static int
usable(const struct gw_balancer *b, int i, long long now, int sticky,
    int probe)
{
	const struct gw_bmember	*m = &b->members[i];
	struct lb_mshm		*st = mstate(b, i);

	if (m->flags & (GW_BM_DISABLED | GW_BM_STOPPED))
		return 0;
	if ((m->flags & GW_BM_DRAIN) && !sticky)
		return 0;
	if (LOAD(&st->hc_failed))
		return 0;
	if (!(m->flags & GW_BM_IGNORE) && !probe &&
	    LOAD(&st->error_until) > now)
		return 0;
	return 1;
}

/*
 * method - the lbmethod's choice among the usable members of lbset set
 * that are (standby set) or are not hot standbys; -1 if none.
 */
static int
method(const struct gw_balancer *b, int set, int standby,
    const unsigned char *tried, long long now, int probe)
{
	struct lb_mshm		*st, *bst = NULL;
	long long		 total = 0;
	unsigned long long	 traffic, best_traffic = 0;
	int			 best = -1, lf;

	for (int i = 0; i < b->nmembers; i++) {
		const struct gw_bmember *m = &b->members[i];

		if (m->lbset != set || !(m->flags & GW_BM_STANDBY) !=
		    !standby || (tried != NULL && tried[i]) ||
		    !usable(b, i, now, 0, probe))
			continue;
		st = mstate(b, i);
		lf = m->loadfactor;
		switch (b->lbmethod) {
		case GW_LB_BYTRAFFIC:
			traffic = LOAD(&st->sent) / (unsigned)lf +
			    LOAD(&st->received) / (unsigned)lf;
			if (best == -1 || traffic < best_traffic) {
				best = i;
				best_traffic = traffic;
			}
			continue;
		case GW_LB_BYBUSYNESS:
			st->lbstatus += lf;
			total += lf;
			if (best == -1 || LOAD(&st->busy) < LOAD(&bst->busy) ||
			    (LOAD(&st->busy) == LOAD(&bst->busy) &&
			    st->lbstatus > bst->lbstatus)) {
				best = i;
				bst = st;
			}
			continue;
		case GW_LB_BYREQUESTS:
			st->lbstatus += lf;
			total += lf;
			if (best == -1 || st->lbstatus > bst->lbstatus) {
				best = i;
				bst = st;
			}
			continue;
		}
	}
	if (bst != NULL)
		bst->lbstatus -= total;
	return best;
}

/* pick - the lowest lbset with a usable member decides. */
static int
pick(const struct gw_balancer *b, const unsigned char *tried, long long now,
    int probe)
{
	int	set = -1, next, best;

	for (;;) {
		next = -1;
		for (int i = 0; i < b->nmembers; i++)
			if (b->members[i].lbset > set && (next == -1 ||
			    b->members[i].lbset < next))
				next = b->members[i].lbset;
		if (next == -1)
			return -1;
		set = next;
		if ((best = method(b, set, 0, tried, now, probe)) >= 0 ||
		    (best = method(b, set, 1, tried, now, probe)) >= 0)
			return best;
	}
}

/* all_in_error - every member that is not switched off is in error. */
static int
all_in_error(const struct gw_balancer *b, long long now)
{
	int	n = 0;

	for (int i = 0; i < b->nmembers; i++) {
		if (b->members[i].flags & (GW_BM_DISABLED | GW_BM_STOPPED))
			continue;
		if (usable(b, i, now, 1, 0))
			return 0;
		n++;
	}
	return n > 0;
}

static int
route_member(const struct gw_balancer *b, const char *route)
{
	for (int i = 0; i < b->nmembers; i++)
		if (b->members[i].route != NULL &&
		    strcmp(b->members[i].route, route) == 0)
			return i;
	return -1;
}

static int
sticky_choice(const struct gw_balancer *b, const char *route,
    const unsigned char *tried, long long now)
{
	int	i = route_member(b, route), j;

	if (i < 0)
		return -1;
	if ((tried == NULL || !tried[i]) && usable(b, i, now, 1, 0))
		return i;
	if (b->members[i].redirect != NULL &&
	    (j = route_member(b, b->members[i].redirect)) >= 0 &&
	    (tried == NULL || !tried[j]) && usable(b, j, now, 1, 0))
		return j;
	return -1;
}

int
balancer_select(const struct gw_balancer *b, const char *route,
    const unsigned char *tried, int ws, int *sticky)
{
	long long	 now = (long long)time(NULL);
	int		 locked, i = -1;
	struct lb_mshm	*st;

	*sticky = 0;
	if (b->nmembers == 0)
		return -1;
	if (route != NULL && (i = sticky_choice(b, route, tried, now)) >= 0)
		*sticky = 1;
	else if (route != NULL && b->nofailover) {
		log_msg(GW_LOG_ERR, "balancer: %s: no usable member for route "
		    "\"%s\" (nofailover)", b->name, route);
		return -1;
	}
	locked = lock(b);
	if (i < 0)
		i = pick(b, tried, now, 0);
	if (i < 0 && b->forcerecovery && all_in_error(b, now) &&
	    b->slot >= 0 && state() != NULL &&
	    LOAD(&shm->b[b->slot].probe_at) <= now) {
		/* forcerecovery: one request a second tries the members in
		   error; the others are answered 503 at once meanwhile */
		STORE(&shm->b[b->slot].probe_at, now + 1);
		log_msg(GW_LOG_INFO, "balancer: %s: every member is in error; "
		    "trying them for this request (forcerecovery)", b->name);
		i = pick(b, tried, now, 1);
	}
	unlock(b, locked);
	if (i < 0)
		return -1;
	st = mstate(b, i);
	(void)ADD(&st->elected, 1);
	(void)ADD(&st->busy, 1);
	if (ws >= 0 && shm != NULL && ws < shm->nws &&
	    b->members[i].slot >= 0)
		STORE(&shm->cur[ws], b->members[i].slot + 1);
	return i;
}

void
balancer_done(const struct gw_balancer *b, int i, int ws,
    unsigned long long sent, unsigned long long received)
{
	struct lb_mshm	*st = mstate(b, i);

	if (ws >= 0 && shm != NULL && ws < shm->nws)
		STORE(&shm->cur[ws], 0);
	if (LOAD(&st->busy) > 0)
		(void)ADD(&st->busy, -1);
	(void)ADD(&st->sent, sent);
	(void)ADD(&st->received, received);
}

void
balancer_fail(const struct gw_balancer *b, int i)
{
	const struct gw_bmember	*m = &b->members[i];

	if (m->flags & GW_BM_IGNORE)
		return;
	if (m->retry > 0)
		log_msg(GW_LOG_ERR, "balancer: %s: member %s is in error "
		    "state for %d s", b->name, m->url, m->retry);
	STORE(&mstate(b, i)->error_until, (long long)time(NULL) + m->retry);
}

void
balancer_ok(const struct gw_balancer *b, int i)
{
	struct lb_mshm	*st = mstate(b, i);

	if (LOAD(&st->error_until) != 0)
		STORE(&st->error_until, 0);
}

int
balancer_in_error(const struct gw_balancer *b, int i)
{
	struct lb_mshm	*st = mstate(b, i);

	return LOAD(&st->hc_failed) ||
	    LOAD(&st->error_until) > (long long)time(NULL);
}

int
balancer_status_match(const struct gw_balancer *b, int status)
{
	for (int i = 0; i < 16 && b->failonstatus[i] != 0; i++)
		if (b->failonstatus[i] == status)
			return 1;
	return 0;
}

void
balancer_info(const struct gw_balancer *b, int i, struct balancer_info *in)
{
	struct lb_mshm	*st = mstate(b, i);
	long long	 left = LOAD(&st->error_until) - (long long)time(NULL);

	in->error_left = left > 0 ? left : 0;
	in->hc_failed = LOAD(&st->hc_failed);
	in->busy = LOAD(&st->busy);
	in->elected = LOAD(&st->elected);
	in->sent = LOAD(&st->sent);
	in->received = LOAD(&st->received);
	in->lbstatus = LOAD(&st->lbstatus);
}

/*---------------------------------------------------------------------
 * Sticky sessions
 */

static int
is_sep(char c, int scolon)
{
	return c == '&' || c == '?' || c == '#' || (scolon && c == ';');
}

/* url_param - name=value in the path (;name=) or the query string. */
static int
url_param(const char *s, size_t n, const char *name, int in_query,
    int scolon, const char **v, size_t *vn)
{
	size_t	nl = strlen(name), i, j;

	for (i = 0; i + nl < n; i++) {
		if (s[i + nl] != '=' || strncmp(s + i, name, nl) != 0)
			continue;
		if (in_query ? i != 0 && s[i - 1] != '&' && s[i - 1] != ';' :
		    i == 0 || s[i - 1] != ';')
			continue;
		for (j = i + nl + 1; j < n && !is_sep(s[j], scolon) &&
		    (in_query || s[j] != ';'); j++)
			;
		*v = s + i + nl + 1;
		*vn = j - (i + nl + 1);
		return 1;
	}
	return 0;
}

/* cookie_param - name=value in a Cookie field value. */
static int
cookie_param(const char *s, size_t n, const char *name, const char **v,
    size_t *vn)
{
	size_t	nl = strlen(name), i = 0, j;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ';' ||
		    s[i] == ','))
			i++;
		if (n - i > nl && strncmp(s + i, name, nl) == 0 &&
		    s[i + nl] == '=') {
			j = i + nl + 1;
			if (j < n && s[j] == '"')
				j++;
			*v = s + j;
			while (j < n && s[j] != ';' && s[j] != ',' &&
			    s[j] != ' ' && s[j] != '"')
				j++;
			*vn = (size_t)(s + j - *v);
			return 1;
		}
		while (i < n && s[i] != ';' && s[i] != ',')
			i++;
	}
	return 0;
}

int
balancer_route(const struct gw_balancer *b, const char *path, size_t pathlen,
    const char *query, size_t qlen, const char *const *cookies,
    const size_t *cookielens, int ncookies, char *out, size_t cap)
{
	const char	*v = NULL, *dot;
	size_t		 vn = 0;
	int		 found;

	if (b->sticky_cookie == NULL)
		return 0;
	found = url_param(path, pathlen, b->sticky_param, 0,
	    b->scolonpathdelim, &v, &vn) || (query != NULL &&
	    url_param(query, qlen, b->sticky_param, 1, b->scolonpathdelim,
	    &v, &vn));
	for (int i = 0; !found && i < ncookies; i++)
		found = cookie_param(cookies[i], cookielens[i],
		    b->sticky_cookie, &v, &vn);
	if (!found || (dot = memchr(v, '.', vn)) == NULL)
		return 0;
	vn -= (size_t)(dot + 1 - v);
	if (vn == 0 || vn >= cap)
		return 0;
	memcpy(out, dot + 1, vn);
	out[vn] = '\0';
	return 1;
}

/*---------------------------------------------------------------------
 * Active health checks (the manager child)
 */

int
balancer_hc_wanted(const struct gw_config *c)
{
	for (const struct gw_balancer *b = c->balancers; b != NULL;
	    b = b->next)
		for (int i = 0; i < b->nmembers; i++)
			if (b->members[i].hcmethod != GW_HC_NONE)
				return 1;
	return 0;
}

/*
 * hc_connect - a connection to the member's host within ms, or -1.  A
 * host name is looked up first with the resolver's own timeout (as
 * proxy.c's backend_connect; IP literals never wait).
 */
static int
hc_connect(const struct gw_bmember *m, int ms, volatile sig_atomic_t *stop,
    char *hostport, size_t hpcap, const char **path)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*h = strstr(m->name, "://") + 3, *end, *colon;
	char		 host[256], port[8];
	size_t		 n;
	int		 fd = -1;

	end = h + strcspn(h, "/?");
	*path = end;
	n = (size_t)(end - h);
	if (n >= hpcap)
		return -1;
	memcpy(hostport, h, n);
	hostport[n] = '\0';
	if (*h == '[') {
		const char *rb = memchr(h, ']', n);

		if (rb == NULL || (size_t)(rb - h - 1) >= sizeof(host))
			return -1;
		memcpy(host, h + 1, (size_t)(rb - h - 1));
		host[rb - h - 1] = '\0';
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', n);
		n = (size_t)((colon != NULL ? colon : end) - h);
		if (n >= sizeof(host))
			return -1;
		memcpy(host, h, n);
		host[n] = '\0';
	}
	if (colon != NULL && (size_t)(end - colon - 1) < sizeof(port)) {
		memcpy(port, colon + 1, (size_t)(end - colon - 1));
		port[end - colon - 1] = '\0';
	} else
		(void)snprintf(port, sizeof(port), "%s",
		    tls_url(m->url) ? "443" : "80");
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = conn_connect(ai->ai_addr, ai->ai_addrlen, ms, stop);
	freeaddrinfo(res);
	return fd;
}

/* hc_check - one check of m: 1 passed, 0 failed. */
static int
hc_check(const struct gw_bmember *m, int ms, volatile sig_atomic_t *stop)
{
	static const char *const names[] = { "", "", "OPTIONS", "HEAD",
	    "GET" };
	struct gw_conn	 c;
	char		 hostport[300], req[1024], buf[512];
	const char	*path, *nl;
	long long	 end = gw_mono_ms() + ms;
	int		 fd, len, ok = 0, st, left;

	if ((fd = hc_connect(m, ms, stop, hostport, sizeof(hostport),
	    &path)) == -1)
		return 0;
	if (m->hcmethod == GW_HC_TCP) {
		(void)close(fd);
		return 1;
	}
	conn_init(&c, fd, buf, sizeof(buf), stop);
	/* hcuri is added to the member's path, as Apache */
	len = snprintf(req, sizeof(req), "%s %s%s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: gatewayd-hcheck\r\nConnection: close\r\n\r\n",
	    names[m->hcmethod], path, m->hcuri != NULL ? m->hcuri :
	    *path == '\0' ? "/" : "", hostport);
	if (len > 0 && (size_t)len < sizeof(req) &&
	    conn_write(&c, req, (size_t)len, ms) == 0) {
		/* one deadline for the whole status line, however it
		   trickles in */
		while ((nl = memchr(c.buf + c.start, '\n', conn_pending(&c)))
		    == NULL && conn_pending(&c) < c.cap &&
		    (left = (int)(end - gw_mono_ms())) > 0 &&
		    conn_fill(&c, left) > 0)
			;
		nl = memchr(c.buf + c.start, '\n', conn_pending(&c));
		if (nl != NULL && sscanf(c.buf + c.start, "HTTP/1.%*1[01] "
		    "%3d", &st) == 1 && st >= 200 && st < 400)
			ok = 1;
	}
	(void)close(fd);
	return ok;
}

/* hc_record - the outcome of one check of member i of b. */
static void
hc_record(const struct gw_balancer *b, int i, int ok)
{
	const struct gw_bmember	*m = &b->members[i];
	struct lb_mshm		*st = mstate(b, i);
	int			 run = LOAD(&st->hc_run);

	run = ok ? (run > 0 ? run + 1 : 1) : (run < 0 ? run - 1 : -1);
	STORE(&st->hc_run, run);
	if (!ok && !LOAD(&st->hc_failed) && -run >= m->hcfails) {
		STORE(&st->hc_failed, 1);
		log_msg(GW_LOG_ERR, "balancer: %s: member %s failed its "
		    "health check %d time(s): out", b->name, m->url, -run);
	} else if (ok && LOAD(&st->hc_failed) && run >= m->hcpasses) {
		STORE(&st->hc_failed, 0);
		STORE(&st->error_until, 0);
		log_msg(GW_LOG_NOTICE, "balancer: %s: member %s passed its "
		    "health check %d time(s): back", b->name, m->url, run);
	} else if (ok && LOAD(&st->error_until) != 0 && run >= m->hcpasses)
		STORE(&st->error_until, 0);	/* found alive */
}

int
balancer_hc_tick(const struct gw_config *c, volatile sig_atomic_t *stop)
{
	static long long	 due[LB_SLOTS];
	const struct gw_balancer *b;
	long long		 now = gw_mono_ms(), next = now + 1000;
	int			 ms;

	for (b = c->balancers; b != NULL && !*stop; b = b->next)
		for (int i = 0; i < b->nmembers && !*stop; i++) {
			const struct gw_bmember *m = &b->members[i];

			if (m->hcmethod == GW_HC_NONE || m->slot < 0)
				continue;
			if (due[m->slot] <= now) {
				ms = m->connectiontimeout > 0 ?
				    m->connectiontimeout : (m->timeout > 0 ?
				    m->timeout : c->timeout) * 1000;
				if (ms > m->hcinterval * 1000)
					ms = m->hcinterval * 1000;
				hc_record(b, i, hc_check(m, ms, stop));
				now = gw_mono_ms();
				due[m->slot] = now + m->hcinterval * 1000LL;
			}
			if (due[m->slot] < next)
				next = due[m->slot];
		}
	return next > now ? (int)(next - now) : 0;
}
