/*
 * directives.c - the table of every directive gatewayd accepts, and
 * their setters.
 *
 * A row names the directive, where it may stand, how many arguments it
 * takes, the setter and (for the generic setters) which field it sets
 * and its range.  Setters return NULL or a message; conf.c adds the
 * file and line.  Meaning follows Apache httpd 2.4 (2.2 names too);
 * see man/gateway.conf.5.  The table is sorted by name (bsearch).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "accesslog.h"
#include "arena.h"
#include "directives.h"
#include "tls.h"

#define BIG_RATE	1000000000LL
#define FIELD(p, d)	((char *)slot_base((p), (d)) + (d)->offset)

static void *
slot_base(struct gw_parse *p, const struct gw_directive *d)
{
	switch (d->slot) {
	case GW_SLOT_SERVER:
		return p->cfg;
	case GW_SLOT_VHOST:
		return p->vhost;
	case GW_SLOT_DIR:
		return p->dir;
	default:
		abort();
	}
}

/*---------------------------------------------------------------------
 * Value parsers
 */

static const char *
parse_flag(const char *s, int *v)
{
	if (strcasecmp(s, "on") == 0)
		*v = 1;
	else if (strcasecmp(s, "off") == 0)
		*v = 0;
	else
		return "takes On or Off";
	return NULL;
}

static const char *
parse_ll(struct gw_parse *p, const char *s, long long lo, long long hi,
    long long *v)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || isspace((unsigned
	    char)*s))
		return arena_printf(p->arena, "\"%s\" is not a whole number",
		    s);
	if (n < lo || n > hi)
		return arena_printf(p->arena, "%lld is out of range (%lld to "
		    "%lld)", n, lo, hi);
	*v = n;
	return NULL;
}

/*---------------------------------------------------------------------
 * Generic setters
 */

static const char *
flag(struct gw_parse *p, const char *s, int *v)
{
	if (parse_flag(s, v) != NULL)
		return arena_printf(p->arena, "takes On or Off, not \"%s\"",
		    s);
	return NULL;
}

static const char *
set_flag(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)argc;
	return flag(p, argv[0], (int *)(void *)FIELD(p, d));
}

static const char *
set_int(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	long long	 v;
	const char	*e;

	(void)argc;
	if ((e = parse_ll(p, argv[0], d->lo, d->hi, &v)) != NULL)
		return e;
	*(int *)(void *)FIELD(p, d) = (int)v;
	return NULL;
}

static const char *
set_llong(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)argc;
	return parse_ll(p, argv[0], d->lo, d->hi,
	    (long long *)(void *)FIELD(p, d));
}

static const char *
set_string(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)argc;
	*(char **)(void *)FIELD(p, d) = argv[0];
	return NULL;
}

static const char *
set_path(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)argc;
	*(char **)(void *)FIELD(p, d) = conf_path(p, argv[0]);
	return NULL;
}

/* set_mpm - a prefork number; remember where, for later warnings. */
static const char *
set_mpm(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	if ((e = set_int(p, d, argc, argv)) == NULL) {
		p->cfg->mpm_file = p->file;
		p->cfg->mpm_line = p->line;
	}
	return e;
}

static const char *
set_mcache(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	if ((e = set_llong(p, d, argc, argv)) == NULL) {
		p->cfg->mcache_file = p->file;
		p->cfg->mcache_line = p->line;
	}
	return e;
}

static const char *
set_cache_dir(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	if ((e = set_int(p, d, argc, argv)) == NULL) {
		p->vhost->cache_dir_file = p->file;
		p->vhost->cache_dir_line = p->line;
	}
	return e;
}

/* set_ignored - accepted for compatibility, with a warning. */
static const char *
set_ignored(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)argc;
	(void)argv;
	conf_warn(p, "%s has no effect in gatewayd (%s); ignored", d->name,
	    d->help);
	return NULL;
}

/*---------------------------------------------------------------------
 * Core
 */

static const char *
set_server_root(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	char	*r = argv[0];
	size_t	 n = strlen(r);

	(void)d;
	(void)argc;
	if (r[0] != '/')
		return "must be an absolute path";
	while (n > 1 && r[n - 1] == '/')
		r[--n] = '\0';
	if (access(r, X_OK) != 0)
		return arena_printf(p->arena, "%s is not a usable directory: "
		    "%s", r, strerror(errno));
	p->cfg->server_root = r;
	return NULL;
}

static const char *
parse_port(const char *s, int zero_ok)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < (zero_ok ? 0 : 1) ||
	    v > 65535)
		return "invalid port";
	return NULL;
}

static const char *
set_listen(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_listen	*l, **tail;
	char			*s = argv[0], *colon;
	const char		*e;

	(void)d;
	l = arena_alloc(p->arena, sizeof(*l));
	l->file = p->file;
	l->line = p->line;
	l->fd = -1;
	if (s[0] == '[') {
		char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return "IPv6 addresses are written [addr]:port";
		l->host = arena_strndup(p->arena, s + 1, (size_t)(rb - s - 1));
		l->port = rb + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		l->host = arena_strndup(p->arena, s, (size_t)(colon - s));
		l->port = colon + 1;
	} else
		l->port = s;
	if (l->host != NULL && (*l->host == '\0' || strcmp(l->host, "*") == 0))
		l->host = NULL;
	if ((e = parse_port(l->port, 1)) != NULL)
		return arena_printf(p->arena, "%s in \"%s\"", e, s);
	if (argc > 1) {
		if (strcasecmp(argv[1], "http") != 0 &&
		    strcasecmp(argv[1], "https") != 0)
			return "the protocol must be http or https";
		l->proto = argv[1];
	}
	for (tail = &p->cfg->listeners; *tail != NULL; tail = &(*tail)->next) {
		struct gw_listen *o = *tail;

		if (strcmp(o->port, l->port) == 0 && strcmp(o->port, "0") != 0 &&
		    ((o->host == NULL && l->host == NULL) ||
		    (o->host != NULL && l->host != NULL &&
		    strcmp(o->host, l->host) == 0)))
			return arena_printf(p->arena, "%s is already given at "
			    "%s:%d", s, o->file, o->line);
	}
	*tail = l;
	return NULL;
}

static const char *levels[] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
	"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7",
	"trace8", NULL
};

static int
level_of(const char *s)
{
	for (int i = 0; levels[i] != NULL; i++)
		if (strcasecmp(levels[i], s) == 0)
			return i;
	return -1;
}

/* LogLevel level [module:level ...]: per-module levels are accepted. */
static const char *
set_loglevel(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char	*colon;
	int		 lv;

	(void)d;
	for (int i = 0; i < argc; i++) {
		colon = strchr(argv[i], ':');
		if ((lv = level_of(colon ? colon + 1 : argv[i])) < 0)
			return arena_printf(p->arena, "unknown level \"%s\" "
			    "(emerg, alert, crit, error, warn, notice, info, "
			    "debug, trace1 to trace8)", argv[i]);
		if (colon == NULL && p->ctx == GW_CTX_SERVER)
			p->cfg->log_level = (enum gw_loglevel)lv;
		else if (colon == NULL)	/* that virtual host's requests */
			p->vhost->log_level = lv;
	}
	return NULL;
}

static struct gw_strlist *
strlist_add(struct gw_parse *p, struct gw_strlist **head, char *s)
{
	struct gw_strlist *n;

	n = arena_alloc(p->arena, sizeof(*n));
	n->s = s;
	while (*head != NULL)
		head = &(*head)->next;
	*head = n;
	return n;
}

static const char *
set_user(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char	*e;
	long long	 id;

	(void)argc;
	if (argv[0][0] == '#' &&
	    (e = parse_ll(p, argv[0] + 1, -1, INT_MAX, &id)) != NULL)
		return e;
	*(char **)(void *)FIELD(p, d) = argv[0];
	return NULL;
}

static const char *
check_hostname(const char *h)
{
	if (*h == '\0')
		return "empty host name";
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && strchr("-._*?[]:", *h) ==
		    NULL)
			return "invalid character in host name";
	return NULL;
}

/* ServerName [scheme://]fqdn[:port] */
static const char *
set_server_name(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	char		*s = argv[0], *h, *port;
	const char	*e;

	(void)d;
	(void)argc;
	h = strstr(s, "://");
	h = h ? h + 3 : s;
	if (h[0] != '[' && (port = strrchr(h, ':')) != NULL) {
		if ((e = parse_port(port + 1, 0)) != NULL)
			return e;
		*port = '\0';
		e = check_hostname(h);
		*port = ':';
	} else
		e = h[0] == '[' ? NULL : check_hostname(h);
	if (e != NULL)
		return e;
	p->vhost->server_name = s;
	return NULL;
}

static const char *
set_server_alias(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	(void)d;
	for (int i = 0; i < argc; i++) {
		if ((e = check_hostname(argv[i])) != NULL)
			return arena_printf(p->arena, "%s: %s", argv[i], e);
		strlist_add(p, &p->vhost->aliases, argv[i]);
	}
	return NULL;
}

static const char *
set_alias(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)d;
	(void)argc;
	if (argv[0][0] != '/')
		return "the URL path must start with /";
	strlist_add(p, &p->vhost->aliases_path, arena_printf(p->arena,
	    "%s %s", argv[0], conf_path(p, argv[1])));
	return NULL;
}

static const char *
set_define(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)d;
	if (strchr(argv[0], ':') != NULL || strchr(argv[0], '=') != NULL)
		return "a variable name cannot contain ':' or '='";
	strlist_add(p, &p->cfg->defines, argc > 1 ? arena_printf(p->arena,
	    "%s=%s", argv[0], argv[1]) : argv[0]);
	return NULL;
}

static const char *
set_include(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)argc;
	return conf_include(p, argv[0], strcasecmp(d->name,
	    "IncludeOptional") == 0);
}

/*---------------------------------------------------------------------
 * Modules
 */

/* Built-in modules: Apache's id and source name. */
static const char *const modules[][2] = {
	{ "access_compat_module",	"mod_access_compat.c" },
	{ "alias_module",		"mod_alias.c" },
	{ "authz_core_module",		"mod_authz_core.c" },
	{ "authz_host_module",		"mod_authz_host.c" },
	{ "cache_disk_module",		"mod_cache_disk.c" },
	{ "cache_module",		"mod_cache.c" },
	{ "disk_cache_module",		"mod_disk_cache.c" },
	{ "lbmethod_bybusyness_module",	"mod_lbmethod_bybusyness.c" },
	{ "lbmethod_byrequests_module",	"mod_lbmethod_byrequests.c" },
	{ "lbmethod_bytraffic_module",	"mod_lbmethod_bytraffic.c" },
	{ "log_config_module",		"mod_log_config.c" },
	{ "mem_cache_module",		"mod_mem_cache.c" },
	{ "mpm_prefork_module",		"prefork.c" },
	{ "proxy_balancer_module",	"mod_proxy_balancer.c" },
	{ "proxy_http_module",		"mod_proxy_http.c" },
	{ "proxy_module",		"mod_proxy.c" },
	{ "proxy_wstunnel_module",	"mod_proxy_wstunnel.c" },
	{ "ssl_module",			"mod_ssl.c" },
};

int
directives_module_known(const char *name)
{
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (strcmp(modules[i][0], name) == 0 ||
		    strcmp(modules[i][1], name) == 0)
			return 1;
	return 0;
}

static const char *
set_loadmodule(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)d;
	(void)argc;
	if (!directives_module_known(argv[0]))
		conf_warn(p, "LoadModule: %s is not built into gatewayd; "
		    "ignored (its <IfModule> sections are skipped)", argv[0]);
	return NULL;
}

/*---------------------------------------------------------------------
 * Logs
 */

static const char *
set_log_format(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	(void)d;
	if ((e = accesslog_check_format(p->arena, argv[0])) != NULL)
		return e;
	strlist_add(p, &p->cfg->log_formats, arena_printf(p->arena, "%s\t%s",
	    argc > 1 ? argv[1] : "", argv[0]));
	return NULL;
}

static const char *
set_custom_log(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *fmt, *e;

	if (strcasecmp(d->name, "TransferLog") == 0) {
		fmt = "";
	} else {
		fmt = argv[1];
		if ((e = accesslog_check_format(p->arena, fmt)) != NULL ||
		    (argc > 2 && (e = accesslog_check_condition(p->arena,
		    argv[2])) != NULL))
			return e;
	}
	/* path, format, condition, where (for errors at open time) */
	strlist_add(p, &p->vhost->custom_logs, arena_printf(p->arena,
	    "%s\t%s\t%s\t%s:%d", conf_path(p, argv[0]), fmt, argc > 2 ?
	    argv[2] : "", p->file, p->line));
	return NULL;
}

static const char *
set_error_log(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	char *path;

	(void)d;
	(void)argc;
	path = conf_path(p, argv[0]);
	if (p->ctx == GW_CTX_SERVER)
		p->cfg->error_log = path;
	else
		p->vhost->error_log = path;
	return NULL;
}

/*---------------------------------------------------------------------
 * ErrorDocument
 */

static const char *
set_errordoc(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_errordoc	*e, **head;
	long long		 code;
	const char		*msg, *doc = argv[1];

	(void)d;
	(void)argc;
	if ((msg = parse_ll(p, argv[0], 100, 599, &code)) != NULL)
		return arena_printf(p->arena, "unsupported HTTP response code "
		    "%s", argv[0]);
	if (code < 400)
		return arena_printf(p->arena, "%lld: only 4xx and 5xx errors "
		    "can have an ErrorDocument", code);
	e = arena_alloc(p->arena, sizeof(*e));
	e->status = (int)code;
	e->doc = argv[1];
	/* Apache's heuristic (core.c set_error_document) */
	if (strcmp(doc, "default") == 0)
		e->kind = GW_ERRDOC_DEFAULT;
	else if (strchr(doc, ' ') != NULL)
		e->kind = GW_ERRDOC_TEXT;
	else if (doc[0] == '/')
		e->kind = GW_ERRDOC_LOCAL;
	else if (strncasecmp(doc, "http://", 7) == 0 ||
	    strncasecmp(doc, "https://", 8) == 0) {
		e->kind = GW_ERRDOC_URL;
		if (code == 401)
			conf_warn(p, "ErrorDocument 401 to a full URL loses "
			    "the 401 (the client gets a redirect)");
	} else
		e->kind = GW_ERRDOC_TEXT;
	head = p->dir != NULL ? &p->dir->errordocs : &p->vhost->errordocs;
	while (*head != NULL)
		head = &(*head)->next;
	*head = e;
	return NULL;
}

/*---------------------------------------------------------------------
 * mod_proxy
 */

static const char *
set_proxy_requests(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	const char *e;

	(void)d;
	(void)argc;
	if ((e = flag(p, argv[0], &p->vhost->proxy_requests)) == NULL) {
		p->vhost->proxy_requests_file = p->file;
		p->vhost->proxy_requests_line = p->line;
	}
	return e;
}

/*
 * check_url - scheme://host[:port][/path] with a scheme gatewayd can
 * talk to.  balancer://name has no port.
 */
static const char *
check_url(struct gw_parse *p, const char *url)
{
	static const char *const schemes[] = { "http://", "https://",
	    "ws://", "wss://", "balancer://", NULL };
	const char	*h = NULL, *end, *colon;
	int		 i;

	for (i = 0; schemes[i] != NULL; i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0) {
			h = url + strlen(schemes[i]);
			break;
		}
	if (h == NULL)
		return arena_printf(p->arena, "\"%s\": the URL must start "
		    "with http://, https://, ws://, wss:// or balancer://",
		    url);
	end = h + strcspn(h, "/?#");
	if (end == h)
		return arena_printf(p->arena, "\"%s\": no host in the URL",
		    url);
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return arena_printf(p->arena, "\"%s\": unterminated "
			    "[IPv6] address", url);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else
		colon = memchr(h, ':', (size_t)(end - h));
	if (colon != NULL) {
		char	port[8];
		size_t	n = (size_t)(end - colon - 1);

		if (i == 4)
			return arena_printf(p->arena, "\"%s\": a balancer "
			    "name has no port", url);
		if (n == 0 || n >= sizeof(port))
			return arena_printf(p->arena, "\"%s\": invalid port",
			    url);
		memcpy(port, colon + 1, n);
		port[n] = '\0';
		if (parse_port(port, 0) != NULL)
			return arena_printf(p->arena, "\"%s\": invalid port",
			    url);
	}
	for (const char *c = url; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return arena_printf(p->arena, "\"%s\": control "
			    "character or space in the URL", url);
	return NULL;
}

/* Worker and balancer parameters of ProxyPass/BalancerMember/ProxySet. */
enum ptype { P_INT, P_FLAG, P_TIME_MS, P_WORD };
static const struct {
	const char	*key;
	enum ptype	 type;
	long long	 lo, hi;
} params[] = {
	{ "acquire",		P_TIME_MS,	0, 86400000 },
	{ "connectiontimeout",	P_TIME_MS,	1, 86400000 },
	{ "disablereuse",	P_FLAG,		0, 0 },
	{ "enablereuse",	P_FLAG,		0, 0 },
	{ "failonstatus",	P_WORD,		0, 0 },
	{ "failontimeout",	P_FLAG,		0, 0 },
	{ "flushpackets",	P_WORD,		0, 0 },
	{ "flushwait",		P_INT,		0, 1000000 },
	{ "forcerecovery",	P_FLAG,		0, 0 },
	{ "growth",		P_INT,		0, 1000 },
	{ "hcexpr",		P_WORD,		0, 0 },
	{ "hcfails",		P_INT,		1, 1000 },
	{ "hcinterval",		P_INT,		1, 86400 },
	{ "hcmethod",		P_WORD,		0, 0 },
	{ "hcpasses",		P_INT,		1, 1000 },
	{ "hcuri",		P_WORD,		0, 0 },
	{ "iobuffersize",	P_INT,		512, 16777216 },
	{ "keepalive",		P_FLAG,		0, 0 },
	{ "lbmethod",		P_WORD,		0, 0 },
	{ "lbset",		P_INT,		0, 99 },
	{ "loadfactor",		P_INT,		1, 100 },
	{ "max",		P_INT,		0, 100000 },
	{ "maxattempts",	P_INT,		0, 1000 },
	{ "min",		P_INT,		0, 100000 },
	{ "nofailover",		P_FLAG,		0, 0 },
	{ "ping",		P_TIME_MS,	0, 86400000 },
	{ "receivebuffersize",	P_INT,		0, 16777216 },
	{ "redirect",		P_WORD,		0, 0 },
	{ "retry",		P_INT,		0, 86400 },
	{ "route",		P_WORD,		0, 0 },
	{ "scolonpathdelim",	P_FLAG,		0, 0 },
	{ "smax",		P_INT,		0, 100000 },
	{ "status",		P_WORD,		0, 0 },
	{ "stickysession",	P_WORD,		0, 0 },
	{ "timeout",		P_INT,		1, 86400 },
	{ "ttl",		P_INT,		1, 86400 },
	{ "upgrade",		P_WORD,		0, 0 },
};

/*
 * parse_param - "key=value" into *out after checking key and value;
 * *ms gets numeric values (P_TIME_MS in milliseconds: "500ms" or
 * seconds).
 */
static const char *
parse_param(struct gw_parse *p, char *kv, struct gw_param **out,
    long long *num)
{
	char		*eq = strchr(kv, '='), *v, buf[32];
	size_t		 i, n;
	long long	 mult = 1;
	const char	*e;
	int		 flag;

	if (eq == NULL || eq == kv)
		return arena_printf(p->arena, "\"%s\" is not key=value", kv);
	*eq = '\0';
	v = eq + 1;
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (strcasecmp(params[i].key, kv) == 0)
			break;
	if (i == sizeof(params) / sizeof(params[0]))
		return arena_printf(p->arena, "unknown parameter \"%s\"", kv);
	*num = 0;
	switch (params[i].type) {
	case P_FLAG:
		if (parse_flag(v, &flag) != NULL)
			return arena_printf(p->arena, "%s takes On or Off",
			    params[i].key);
		*num = flag;
		break;
	case P_TIME_MS:
		n = strlen(v);
		if (n > 2 && strcasecmp(v + n - 2, "ms") == 0 &&
		    n - 2 < sizeof(buf)) {
			memcpy(buf, v, n - 2);
			buf[n - 2] = '\0';
		} else if (n < sizeof(buf)) {
			memcpy(buf, v, n + 1);
			mult = 1000;
		} else
			return arena_printf(p->arena, "%s: bad time", kv);
		if ((e = parse_ll(p, buf, 0, params[i].hi, num)) != NULL)
			return arena_printf(p->arena, "%s: %s", kv, e);
		*num *= mult;
		if (*num < params[i].lo || *num > params[i].hi)
			return arena_printf(p->arena, "%s=%s is out of range",
			    kv, v);
		break;
	case P_INT:
		if ((e = parse_ll(p, v, params[i].lo, params[i].hi, num)) !=
		    NULL)
			return arena_printf(p->arena, "%s: %s", kv, e);
		break;
	case P_WORD:
		if (*v == '\0')
			return arena_printf(p->arena, "%s needs a value", kv);
		break;
	}
	*out = arena_alloc(p->arena, sizeof(**out));
	(*out)->key = arena_strdup(p->arena, params[i].key);
	(*out)->value = v;
	return NULL;
}

static const char *
check_param_value(struct gw_parse *p, const struct gw_param *pr)
{
	if (strcmp(pr->key, "upgrade") == 0 && strcasecmp(pr->value,
	    "websocket") != 0 && strcmp(pr->value, "*") != 0 &&
	    strcasecmp(pr->value, "ANY") != 0 && strcasecmp(pr->value,
	    "NONE") != 0)
		return arena_printf(p->arena, "upgrade=%s: gatewayd relays "
		    "upgrade=websocket (or *, ANY, NONE)", pr->value);
	if (strcmp(pr->key, "lbmethod") == 0 && strcasecmp(pr->value,
	    "byrequests") != 0 && strcasecmp(pr->value, "bytraffic") != 0 &&
	    strcasecmp(pr->value, "bybusyness") != 0)
		return arena_printf(p->arena, "lbmethod=%s: use byrequests, "
		    "bytraffic or bybusyness", pr->value);
	if (strcmp(pr->key, "status") == 0) {
		const char *s = pr->value;

		for (; *s != '\0'; s++)
			if (strchr("+-DSIHENRC", toupper((unsigned char)*s)) ==
			    NULL)
				return arena_printf(p->arena, "status=%s: "
				    "flags are +/- and D S I H E N R C",
				    pr->value);
	}
	return NULL;
}

/* apply_param - the typed fields of a ProxyPass from one parameter. */
static void
apply_param(struct gw_proxypass *pp, const struct gw_param *pr, long long n)
{
	if (strcmp(pr->key, "retry") == 0)
		pp->retry = (int)n;
	else if (strcmp(pr->key, "timeout") == 0)
		pp->timeout = (int)n;
	else if (strcmp(pr->key, "connectiontimeout") == 0)
		pp->connectiontimeout = (int)n;
	else if (strcmp(pr->key, "ttl") == 0)
		pp->ttl = (int)n;
	else if (strcmp(pr->key, "disablereuse") == 0)
		pp->disablereuse = (int)n;
	else if (strcmp(pr->key, "enablereuse") == 0)
		pp->disablereuse = !n;
	else if (strcmp(pr->key, "keepalive") == 0)
		pp->keepalive = (int)n;
	else if (strcmp(pr->key, "upgrade") == 0)
		pp->upgrade = pr->value;
}

/*
 * parse_params - the key=value (and flag) words after a URL into
 * *head; pp (may be NULL) gets the typed ones.
 */
static const char *
parse_params(struct gw_parse *p, int argc, char **argv,
    struct gw_param **head, struct gw_proxypass *pp)
{
	struct gw_param	*pr = NULL, **tail = head;
	const char	*e;
	long long	 n = 0;

	while (*tail != NULL)
		tail = &(*tail)->next;
	for (int i = 0; i < argc; i++) {
		if (pp != NULL && strcasecmp(argv[i], "nocanon") == 0) {
			pp->nocanon = 1;
			continue;
		}
		if (pp != NULL && strcasecmp(argv[i], "noquery") == 0) {
			pp->noquery = 1;
			continue;
		}
		if (pp != NULL && strcasecmp(argv[i], "interpolate") == 0)
			continue;
		if ((e = parse_param(p, argv[i], &pr, &n)) != NULL)
			return e;
		if ((e = check_param_value(p, pr)) != NULL)
			return e;
		if (pp != NULL)
			apply_param(pp, pr, n);
		*tail = pr;
		tail = &pr->next;
	}
	return NULL;
}

/* ProxyPass [path] !|url [key=value ...] [nocanon] [noquery] */
static const char *
set_proxypass(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_proxypass	*pp, **tail;
	const char		*e;
	int			 in_loc = p->ctx == GW_CTX_LOCATION, i = 0;

	(void)d;
	pp = arena_alloc(p->arena, sizeof(*pp));
	pp->file = p->file;
	pp->line = p->line;
	pp->retry = 60;
	pp->timeout = pp->connectiontimeout = pp->ttl = GW_UNSET;
	if (in_loc) {
		if (p->dir->is_regex)
			return "ProxyPass in <LocationMatch> is not supported "
			    "(use ProxyPassMatch semantics in a later release)";
		if (p->dir->proxypass != NULL)
			return "only one ProxyPass per <Location>";
		pp->path = p->dir->match;
	} else {
		if (argc < 2)
			return "syntax: ProxyPass path !|url [key=value ...] "
			    "(the path may be left out only in <Location>)";
		pp->path = argv[i++];
		if (pp->path[0] != '/')
			return arena_printf(p->arena, "the path \"%s\" must "
			    "start with /", pp->path);
	}
	if (strcmp(argv[i], "!") == 0) {
		if (argc > i + 1)
			return "an exclusion (!) takes no parameters";
		pp->url = NULL;
	} else {
		if ((e = check_url(p, argv[i])) != NULL)
			return e;
		pp->url = argv[i];
		if ((e = parse_params(p, argc - i - 1, argv + i + 1,
		    &pp->params, pp)) != NULL)
			return e;
	}
	if (in_loc) {
		p->dir->proxypass = pp;
		return NULL;
	}
	for (tail = &p->vhost->proxypass; *tail != NULL;
	    tail = &(*tail)->next)
		;
	*tail = pp;
	return NULL;
}

/* ProxyPassReverse [path] url [interpolate] */
static const char *
set_proxypassreverse(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	struct gw_proxypassreverse	*r, **tail;
	const char			*e;
	int				 i = 0;

	(void)d;
	if (argc > 1 && strcasecmp(argv[argc - 1], "interpolate") == 0)
		argc--;
	r = arena_alloc(p->arena, sizeof(*r));
	if (p->ctx == GW_CTX_LOCATION) {
		if (argc != 1)
			return "in <Location> the syntax is ProxyPassReverse "
			    "url";
		r->path = p->dir->match;
	} else {
		if (argc != 2)
			return "syntax: ProxyPassReverse path url";
		r->path = argv[i++];
		if (r->path[0] != '/')
			return "the path must start with /";
	}
	if ((e = check_url(p, argv[i])) != NULL)
		return e;
	r->url = argv[i];
	tail = p->ctx == GW_CTX_LOCATION ? &p->dir->proxypassreverse :
	    &p->vhost->proxypassreverse;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = r;
	return NULL;
}

static const char *
set_proxy_via(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	static const char *const words[] = { "Off", "On", "Full", "Block" };

	(void)d;
	(void)argc;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(argv[0], words[i]) == 0) {
			p->vhost->proxy_via = i;
			return NULL;
		}
	return "takes Off, On, Full or Block";
}

static const char *
set_proxy_error_override(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	const char	*e;
	long long	 code;

	(void)d;
	if ((e = flag(p, argv[0], &p->vhost->proxy_error_override)) != NULL)
		return e;
	if (argc - 1 >= 16)
		return "at most 15 status codes";
	memset(p->vhost->error_override_codes, 0,
	    sizeof(p->vhost->error_override_codes));
	for (int i = 1; i < argc; i++) {
		if (parse_ll(p, argv[i], 400, 599, &code) != NULL)
			return arena_printf(p->arena, "\"%s\": the codes "
			    "must be 4xx or 5xx statuses", argv[i]);
		p->vhost->error_override_codes[i - 1] = (int)code;
	}
	return NULL;
}

/* AllowEncodedSlashes On|Off|NoDecode */
static const char *
set_encoded_slashes(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	(void)d;
	(void)argc;
	if (strcasecmp(argv[0], "off") == 0)
		p->vhost->allow_encoded_slashes = 0;
	else if (strcasecmp(argv[0], "on") == 0)
		p->vhost->allow_encoded_slashes = 1;
	else if (strcasecmp(argv[0], "nodecode") == 0)
		p->vhost->allow_encoded_slashes = 2;
	else
		return "takes On, Off or NoDecode";
	return NULL;
}

/* ProxyPassReverseCookieDomain|Path internal public */
static const char *
set_cookie_rewrite(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	(void)argc;
	strlist_add(p, strcasecmp(d->name, "ProxyPassReverseCookieDomain") ==
	    0 ? &p->vhost->cookie_domains : &p->vhost->cookie_paths,
	    arena_printf(p->arena, "%s %s", argv[0], argv[1]));
	return NULL;
}

/*
 * parse_stage - "20", "20-40", with ",MinRate=500": mod_reqtimeout's
 * syntax for one stage.
 */
static const char *
parse_stage(struct gw_parse *p, const char *s, int *t, int *tmax, int *rate)
{
	char		 buf[64], *comma, *dash;
	long long	 v;
	const char	*e;

	if (strlen(s) >= sizeof(buf))
		return "value too long";
	strcpy(buf, s);
	*rate = 0;
	if ((comma = strchr(buf, ',')) != NULL) {
		*comma++ = '\0';
		if (strncasecmp(comma, "MinRate=", 8) != 0)
			return arena_printf(p->arena, "\"%s\": expected "
			    "MinRate=bytes/s", comma);
		if ((e = parse_ll(p, comma + 8, 1, BIG_RATE, &v)) != NULL)
			return e;
		*rate = (int)v;
	}
	*tmax = 0;
	if ((dash = strchr(buf, '-')) != NULL) {
		*dash++ = '\0';
		if ((e = parse_ll(p, dash, 0, 86400, &v)) != NULL)
			return e;
		*tmax = (int)v;
	}
	if ((e = parse_ll(p, buf, 0, 86400, &v)) != NULL)
		return e;
	*t = (int)v;
	if (*tmax != 0 && *tmax < *t)
		return "the maximum is below the initial timeout";
	if (*tmax != 0 && *rate == 0)
		return "a timeout range needs MinRate";
	return NULL;
}

/* RequestReadTimeout [handshake=..] [header=..] [body=..] */
static const char *
set_reqtimeout(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_config	*c = p->cfg;
	const char		*e;
	int			 t, tmax, rate;

	(void)d;
	for (int i = 0; i < argc; i++) {
		if (strncasecmp(argv[i], "header=", 7) == 0) {
			if ((e = parse_stage(p, argv[i] + 7, &t, &tmax,
			    &rate)) != NULL)
				return e;
			c->header_timeout = t;
			c->header_timeout_max = tmax;
			c->header_min_rate = rate;
		} else if (strncasecmp(argv[i], "body=", 5) == 0) {
			if ((e = parse_stage(p, argv[i] + 5, &t, &tmax,
			    &rate)) != NULL)
				return e;
			c->body_timeout = t;
			c->body_timeout_max = tmax;
			c->body_min_rate = rate;
		} else if (strncasecmp(argv[i], "handshake=", 10) == 0) {
			if ((e = parse_stage(p, argv[i] + 10, &t, &tmax,
			    &rate)) != NULL)
				return e;
			/* XXX: applies with TLS (the handshake deadline) */
		} else
			return arena_printf(p->arena, "\"%s\": expected "
			    "handshake=, header= or body=", argv[i]);
	}
	return NULL;
}

static const char *
set_preserve_host(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	(void)d;
	(void)argc;
	return flag(p, argv[0], p->dir != NULL ? &p->dir->preserve_host :
	    &p->vhost->preserve_host);
}

/*
 * balancer_section - for the form of BalancerMember and ProxySet that
 * names its balancer (outside a <Proxy balancer://...> section): that
 * balancer's section in this server, the last one if several, or a new
 * one as if it stood here, as Apache makes.
 */
static struct gw_dir *
balancer_section(struct gw_parse *p, char *url)
{
	struct gw_dir	*d, *found = NULL;
	size_t		 n = 11 + strcspn(url + 11, "/?#");

	for (d = p->vhost->dirs; d != NULL; d = d->next)
		if (d->kind == GW_DIR_PROXY && !d->is_regex &&
		    strncasecmp(d->match, url, n) == 0 &&
		    (d->match[n] == '\0' || strcmp(d->match + n, "/") == 0))
			found = d;
	if (found != NULL)
		return found;
	url[n] = '\0';			/* the name only */
	return conf_new_dir(p, GW_DIR_PROXY, p->file, p->line, url, 0);
}

/*
 * named_balancer - outside a section, the balancer:// URL that comes
 * first picks *sec (and is taken off argc/argv); NULL, or why not.
 */
static const char *
named_balancer(struct gw_parse *p, int *argc, char ***argv,
    struct gw_dir **sec, const char *usage)
{
	const char	*e;

	if (*argc < 2 || strncasecmp((*argv)[0], "balancer://", 11) != 0)
		return usage;
	if ((e = check_url(p, (*argv)[0])) != NULL)
		return e;
	*sec = balancer_section(p, (*argv)[0]);
	(*argc)--;
	(*argv)++;
	return NULL;
}

/* BalancerMember [balancer://name] url [key=value ...] */
static const char *
set_member(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_member	*m, **tail;
	struct gw_dir		*sec = p->dir;
	const char		*e;

	(void)d;
	if (sec == NULL) {
		if ((e = named_balancer(p, &argc, &argv, &sec, "outside a "
		    "<Proxy balancer://name> section, name the balancer "
		    "first: BalancerMember balancer://name url "
		    "[key=value ...]")) != NULL)
			return e;
	} else if (sec->kind != GW_DIR_PROXY ||
	    strncasecmp(sec->match, "balancer://", 11) != 0)
		return "belongs in a <Proxy balancer://name> section";
	if ((e = check_url(p, argv[0])) != NULL)
		return e;
	if (strncasecmp(argv[0], "balancer://", 11) == 0)
		return "a member cannot itself be a balancer";
	m = arena_alloc(p->arena, sizeof(*m));
	m->file = p->file;
	m->line = p->line;
	m->url = argv[0];
	if ((e = parse_params(p, argc - 1, argv + 1, &m->params, NULL)) != NULL)
		return e;
	for (tail = &sec->members; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = m;
	return NULL;
}

/* ProxySet [balancer://name] key=value ... */
static const char *
set_proxyset(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_dir	*sec = p->dir;
	const char	*e;

	(void)d;
	if (sec == NULL) {
		if ((e = named_balancer(p, &argc, &argv, &sec, "outside a "
		    "<Proxy> section, name a balancer first: ProxySet "
		    "balancer://name key=value ... (the form with a backend "
		    "URL is not supported)")) != NULL)
			return e;
	} else if (sec->kind != GW_DIR_PROXY)
		return "belongs in a <Proxy> section";
	return parse_params(p, argc, argv, &sec->proxyset, NULL);
}

static const char *
set_handler(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)d;
	(void)argc;
	if (strcasecmp(argv[0], "server-status") != 0 &&
	    strcasecmp(argv[0], "none") != 0)
		return arena_printf(p->arena, "unknown handler \"%s\" "
		    "(gatewayd has server-status)", argv[0]);
	p->dir->handler = argv[0];
	return NULL;
}

/*---------------------------------------------------------------------
 * Access control: Order/Allow/Deny and Require
 */

static int
parse_ip(const char *s, int *family, unsigned char *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 1;
	}
	return 0;
}

static void
mask_bits(unsigned char *mask, int bits)
{
	memset(mask, 0, 16);
	for (int i = 0; i < bits; i++)
		mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
}

/* partial_ip - "10.1" (Apache: whole octets) into addr/mask; 1 if it is. */
static int
partial_ip(const char *s, unsigned char *addr, unsigned char *mask)
{
	int	octets = 0;
	long	v;
	char	*end;

	memset(addr, 0, 16);
	while (*s != '\0' && octets < 4) {
		if (!isdigit((unsigned char)*s))
			return 0;
		v = strtol(s, &end, 10);
		if (v > 255 || end == s)
			return 0;
		addr[octets++] = (unsigned char)v;
		s = end;
		if (*s == '.')
			s++;
		else if (*s != '\0')
			return 0;
	}
	if (*s != '\0' || octets == 0)
		return 0;
	mask_bits(mask, octets * 8);
	return 1;
}

/*
 * directives_parse_acl - one Allow/Deny/Require host word: all, an IP,
 * a partial IP, IP/bits, IP/netmask, env=name, or a host name suffix.
 */
int
directives_parse_acl(struct gw_arena *a, const char *s, struct gw_acl **out,
    const char **why)
{
	struct gw_acl	*acl;
	char		 buf[64], *slash;
	int		 fam;
	long		 bits;

	acl = arena_alloc(a, sizeof(*acl));
	*out = acl;
	if (strcasecmp(s, "all") == 0) {
		acl->kind = GW_ACL_ALL;
		return 0;
	}
	if (strncasecmp(s, "env=", 4) == 0) {
		acl->kind = GW_ACL_ENV;
		acl->name = arena_strdup(a, s + 4);
		return 0;
	}
	if (strlen(s) < sizeof(buf) && (isxdigit((unsigned char)*s) ||
	    *s == ':')) {
		memcpy(buf, s, strlen(s) + 1);
		slash = strchr(buf, '/');
		if (slash != NULL)
			*slash++ = '\0';
		if (parse_ip(buf, &fam, acl->addr)) {
			acl->kind = GW_ACL_IP;
			acl->family = fam;
			if (slash == NULL) {
				mask_bits(acl->mask, fam == AF_INET ? 32 : 128);
				return 0;
			}
			if (strchr(slash, '.') != NULL && fam == AF_INET) {
				if (inet_pton(AF_INET, slash, acl->mask) != 1) {
					*why = "bad netmask";
					return -1;
				}
			} else {
				char *end;

				bits = strtol(slash, &end, 10);
				if (*slash == '\0' || *end != '\0' || bits < 0 ||
				    bits > (fam == AF_INET ? 32 : 128)) {
					*why = "bad prefix length";
					return -1;
				}
				mask_bits(acl->mask, (int)bits);
			}
			for (int i = 0; i < 16; i++)
				acl->addr[i] &= acl->mask[i];
			return 0;
		}
		if (slash == NULL && partial_ip(buf, acl->addr, acl->mask)) {
			acl->kind = GW_ACL_IP;
			acl->family = AF_INET;
			return 0;
		}
		if (slash != NULL || isdigit((unsigned char)s[strlen(s) - 1])) {
			*why = "not a valid IP address or network";
			return -1;
		}
	}
	if (check_hostname(s) != NULL) {
		*why = "not a host name, IP address or network";
		return -1;
	}
	acl->kind = GW_ACL_HOST;
	acl->name = arena_strdup(a, s);
	return 0;
}

static const char *
access_style(struct gw_parse *p, int style)
{
	struct gw_access *ac = &p->dir->access;

	if (ac->style != 0 && ac->style != style)
		return "cannot mix Order/Allow/Deny (Apache 2.2) with Require "
		    "(Apache 2.4) in one section";
	ac->style = style;
	return NULL;
}

static const char *
set_order(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_access	*ac = &p->dir->access;
	const char		*e;

	(void)d;
	(void)argc;
	if ((e = access_style(p, 22)) != NULL)
		return e;
	if (strcasecmp(argv[0], "deny,allow") == 0)
		ac->order = GW_ORDER_DENY_ALLOW;
	else if (strcasecmp(argv[0], "allow,deny") == 0)
		ac->order = GW_ORDER_ALLOW_DENY;
	else if (strcasecmp(argv[0], "mutual-failure") == 0)
		ac->order = GW_ORDER_MUTUAL_FAILURE;
	else
		return arena_printf(p->arena, "unknown order \"%s\": use "
		    "Deny,Allow or Allow,Deny (no spaces) or Mutual-failure",
		    argv[0]);
	return NULL;
}

static const char *
acl_list(struct gw_parse *p, int argc, char **argv, struct gw_acl **head)
{
	struct gw_acl	*acl;
	const char	*why = NULL;

	while (*head != NULL)
		head = &(*head)->next;
	for (int i = 0; i < argc; i++) {
		if (directives_parse_acl(p->arena, argv[i], &acl, &why) < 0)
			return arena_printf(p->arena, "\"%s\": %s", argv[i],
			    why);
		*head = acl;
		head = &acl->next;
	}
	return NULL;
}

/* Allow from host...  /  Deny from host... */
static const char *
set_allow_deny(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_access	*ac = &p->dir->access;
	const char		*e;

	if ((e = access_style(p, 22)) != NULL)
		return e;
	if (strcasecmp(argv[0], "from") != 0)
		return arena_printf(p->arena, "syntax: %s from host ...",
		    d->name);
	if (argc < 2)
		return "\"from\" must be followed by hosts";
	return acl_list(p, argc - 1, argv + 1, strcasecmp(d->name,
	    "Allow") == 0 ? &ac->allow : &ac->deny);
}

/* Require [not] all granted|denied / ip ... / host ... */
static const char *
set_require(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_require	*r, **tail;
	const char		*e;
	int			 i = 0;

	(void)d;
	if ((e = access_style(p, 24)) != NULL)
		return e;
	r = arena_alloc(p->arena, sizeof(*r));
	if (strcasecmp(argv[0], "not") == 0) {
		if (p->reqc == NULL || p->reqc->kind == GW_REQ_ANY)
			return "a negated Require has no effect outside "
			    "<RequireAll> or <RequireNone>";
		r->negate = 1;
		i++;
	}
	if (i >= argc)
		return "syntax: Require [not] all granted|denied, ip ..., "
		    "host ...";
	if (strcasecmp(argv[i], "all") == 0) {
		if (argc != i + 2)
			return "syntax: Require all granted|denied";
		if (r->negate)
			return "Require not all ... is not allowed";
		if (strcasecmp(argv[i + 1], "granted") == 0)
			r->kind = GW_REQ_ALL_GRANTED;
		else if (strcasecmp(argv[i + 1], "denied") == 0)
			r->kind = GW_REQ_ALL_DENIED;
		else
			return "syntax: Require all granted|denied";
	} else if (strcasecmp(argv[i], "ip") == 0 ||
	    strcasecmp(argv[i], "host") == 0) {
		r->kind = tolower((unsigned char)argv[i][0]) == 'i' ?
		    GW_REQ_IP : GW_REQ_HOST;
		if (argc < i + 2)
			return arena_printf(p->arena, "Require %s needs at "
			    "least one argument", argv[i]);
		if ((e = acl_list(p, argc - i - 1, argv + i + 1, &r->acl)) !=
		    NULL)
			return e;
		for (struct gw_acl *a = r->acl; a != NULL; a = a->next)
			if ((r->kind == GW_REQ_IP) != (a->kind == GW_ACL_IP))
				return arena_printf(p->arena, "Require %s: "
				    "\"%s\" is not %s", argv[i], a->name ?
				    a->name : "an address", r->kind ==
				    GW_REQ_IP ? "an IP address or network" :
				    "a host name");
	} else
		return arena_printf(p->arena, "unsupported provider \"%s\" "
		    "(gatewayd has all, ip and host; it does no "
		    "authentication)", argv[i]);
	tail = p->reqc != NULL ? &p->reqc->child : &p->dir->access.require;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = r;
	return NULL;
}

/*---------------------------------------------------------------------
 * mod_cache, mod_mem_cache
 */

static const char *
cache_rule(struct gw_parse *p, int enable, enum gw_cache_type type,
    const char *url)
{
	struct gw_cache_rule *r, **tail;

	r = arena_alloc(p->arena, sizeof(*r));
	r->enable = enable;
	r->type = type;
	r->url = arena_strdup(p->arena, url);
	tail = p->dir != NULL ? &p->dir->cache : &p->vhost->cache;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = r;
	return NULL;
}

static const char *
check_cache_url(struct gw_parse *p, const char *url)
{
	if (url[0] == '/')
		return NULL;
	if (strstr(url, "://") != NULL && url[0] != ':')
		return NULL;
	return arena_printf(p->arena, "\"%s\": use a path (/...) or a URL "
	    "(scheme://host/...)", url);
}

/* CacheEnable disk|mem [url-string] */
static const char *
set_cache_enable(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	enum gw_cache_type	 type;
	const char		*url, *e;

	(void)d;
	if (strcasecmp(argv[0], "disk") == 0)
		type = GW_CACHE_DISK;
	else if (strcasecmp(argv[0], "mem") == 0)
		type = GW_CACHE_MEM;
	else if (strcasecmp(argv[0], "socache") == 0)
		return "the socache provider is not supported; use disk or mem";
	else
		return arena_printf(p->arena, "unknown cache type \"%s\" "
		    "(disk or mem)", argv[0]);
	if (argc > 1)
		url = argv[1];
	else if (p->ctx == GW_CTX_LOCATION)
		url = p->dir->match;
	else
		return "needs a URL or path outside <Location>, e.g. "
		    "CacheEnable disk /";
	if ((e = check_cache_url(p, url)) != NULL)
		return e;
	return cache_rule(p, 1, type, url);
}

/* CacheDisable url-string | on (in <Location>) */
static const char *
set_cache_disable(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	const char	*url = argv[0], *e;

	(void)d;
	(void)argc;
	if (p->ctx == GW_CTX_LOCATION) {
		if (strcasecmp(url, "on") == 0)
			url = p->dir->match;
	} else if (strcasecmp(url, "on") == 0)
		return "\"on\" is only allowed in <Location>";
	if ((e = check_cache_url(p, url)) != NULL)
		return e;
	return cache_rule(p, 0, GW_CACHE_DISK, url);
}

/*
 * The mod_cache knobs (struct gw_cache_conf) of the server at hand, or
 * of the <Location>, <Directory> or <Proxy> section at hand.  Their rows
 * give an offset in struct gw_cache_conf (CK() in the table).
 */
static struct gw_cache_conf *
cache_conf(struct gw_parse *p)
{
	return p->dir != NULL ? &p->dir->cache_conf : &p->vhost->cache_conf;
}

#define KNOB(p, d)	((char *)cache_conf(p) + (d)->offset)


/*
 * dir_knob - a cache knob in <Directory>: kept, but no proxied request
 * is ever in a directory, so it says so.
 */
static void
dir_knob(struct gw_parse *p, const struct gw_directive *d)
{
	if (p->dir != NULL && p->dir->kind == GW_DIR_DIRECTORY)
		conf_warn(p, "%s in <Directory> has no effect: proxied "
		    "requests are in no directory (use <Location> or "
		    "<Proxy>)", d->name);
}

static const char *
set_cache_flag(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	(void)argc;
	if ((e = flag(p, argv[0], (int *)(void *)KNOB(p, d))) == NULL)
		dir_knob(p, d);
	return e;
}

/* set_cache_ll - seconds, bytes or milliseconds, in [d->lo, d->hi]. */
static const char *
set_cache_ll(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	(void)argc;
	if ((e = parse_ll(p, argv[0], d->lo, d->hi,
	    (long long *)(void *)KNOB(p, d))) == NULL)
		dir_knob(p, d);
	return e;
}

/* set_cache_expire - CacheMinExpire, CacheMaxExpire: remember where. */
static const char *
set_cache_expire(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	const char *e;

	if ((e = set_cache_ll(p, d, argc, argv)) == NULL) {
		cache_conf(p)->expire_file = p->file;
		cache_conf(p)->expire_line = p->line;
	}
	return e;
}

/* set_cache_size - CacheMinFileSize, CacheMaxFileSize: remember where. */
static const char *
set_cache_size(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	const char *e;

	if ((e = set_cache_ll(p, d, argc, argv)) == NULL) {
		cache_conf(p)->file_size_file = p->file;
		cache_conf(p)->file_size_line = p->line;
	}
	return e;
}

static const char *
set_cache_int(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	long long	 v;
	const char	*e;

	(void)argc;
	if ((e = parse_ll(p, argv[0], d->lo, d->hi, &v)) != NULL)
		return e;
	*(int *)(void *)KNOB(p, d) = (int)v;
	return NULL;
}

/*
 * CacheLastModifiedFactor: a decimal number from 0 to 1e9 (strtod's
 * hexadecimal, "inf" and "nan" are refused: the x and n).
 */
static const char *
set_cache_factor(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	const char	*s = argv[0];
	char		*end;
	double		 v;

	(void)argc;
	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 ||
	    isspace((unsigned char)*s) || !(v >= 0 && v <= 1e9) ||
	    strpbrk(s, "xXnN") != NULL)
		return arena_printf(p->arena, "\"%s\" is not a number from 0 "
		    "to 1e9, e.g. 0.1", s);
	cache_conf(p)->last_modified_factor = v;
	dir_knob(p, d);
	return NULL;
}

/* is_token - an HTTP token (RFC 9110 5.6.2): a field name, say. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

/*
 * cache_list - CacheIgnoreHeaders, CacheIgnoreURLSessionIdentifiers:
 * names add up over lines; "None" empties the list, and names after it
 * in the same server are dropped, as Apache's add_ignore_header does.
 */
static const char *
cache_list(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv, struct gw_strlist **list, int *set)
{
	for (int i = 0; i < argc; i++)
		if (strcasecmp(argv[i], "None") != 0 && !is_token(argv[i]))
			return arena_printf(p->arena, "\"%s\" is not a valid "
			    "name (letters, digits and !#$%%&'*+-.^_`|~)",
			    argv[i]);
	for (int i = 0; i < argc; i++) {
		if (strcasecmp(argv[i], "None") == 0)
			*list = NULL;
		else if (*set != GW_UNSET && *list == NULL)
			conf_warn(p, "%s: \"%s\" after None is ignored (as in "
			    "Apache)", d->name, argv[i]);
		else
			strlist_add(p, list, argv[i]);
		*set = 1;
	}
	return NULL;
}

static const char *
set_ignore_headers(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	struct gw_cache_conf *k = cache_conf(p);

	return cache_list(p, d, argc, argv, &k->ignore_headers,
	    &k->ignore_headers_set);
}

static const char *
set_ignore_session_ids(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	struct gw_cache_conf *k = cache_conf(p);

	return cache_list(p, d, argc, argv, &k->ignore_url_session_identifiers,
	    &k->ignore_url_session_identifiers_set);
}

static const char *
set_cache_lock_path(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	(void)d;
	(void)argc;
	cache_conf(p)->lock_path = conf_path(p, argv[0]);
	return NULL;
}

/* CacheKeyBaseURL http[s]://host[:port][/path] */
static const char *
set_key_base_url(struct gw_parse *p, const struct gw_directive *d,
    int argc, char **argv)
{
	const char *e;

	(void)d;
	(void)argc;
	if (strncasecmp(argv[0], "http://", 7) != 0 &&
	    strncasecmp(argv[0], "https://", 8) != 0)
		return arena_printf(p->arena, "\"%s\": the URL must start with "
		    "http:// or https://", argv[0]);
	if ((e = check_url(p, argv[0])) != NULL)
		return e;
	cache_conf(p)->key_base_url = argv[0];
	return NULL;
}

static const char *
set_removal(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)d;
	(void)argc;
	if (strcasecmp(argv[0], "LRU") == 0)
		p->cfg->mcache_removal_gdsf = 0;
	else if (strcasecmp(argv[0], "GDSF") == 0)
		p->cfg->mcache_removal_gdsf = 1;
	else
		return "takes LRU or GDSF";
	return NULL;
}

/*---------------------------------------------------------------------
 * mod_ssl
 */

static const char *
set_ssl_engine(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	(void)d;
	(void)argc;
	if (strcasecmp(argv[0], "on") == 0)
		p->vhost->ssl_engine = 1;
	else if (strcasecmp(argv[0], "off") == 0)
		p->vhost->ssl_engine = 0;
	else if (strcasecmp(argv[0], "optional") == 0)
		return "\"optional\" (RFC 2817 upgrade) is not supported; use "
		    "on or off";
	else
		return "takes on or off";
	p->vhost->ssl_engine_file = p->file;
	p->vhost->ssl_engine_line = p->line;
	return NULL;
}

static void
setting(struct gw_parse *p, const struct gw_directive *d, char *value)
{
	struct gw_setting *s = (struct gw_setting *)(void *)FIELD(p, d);

	s->value = value;
	s->file = p->file;
	s->line = p->line;
}

/*
 * set_ssl_file - a certificate or key file that must be readable now
 * (tls.c loads it once the whole file is read).
 */
static const char *
set_ssl_file(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct stat	 st;
	char		*path;

	(void)argc;
	path = conf_path(p, argv[0]);
	if (access(path, R_OK) != 0)
		return arena_printf(p->arena, "cannot read %s: %s", path,
		    strerror(errno));
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return arena_printf(p->arena, "%s is a directory, not a file",
		    path);
	setting(p, d, path);
	return NULL;
}

/* set_ssl_dir - SSLProxyCACertificatePath: a readable directory. */
static const char *
set_ssl_dir(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct stat	 st;
	char		*path;

	(void)argc;
	path = conf_path(p, argv[0]);
	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return arena_printf(p->arena, "%s is not a directory", path);
	if (stat(path, &st) != 0 || access(path, R_OK | X_OK) != 0)
		return arena_printf(p->arena, "cannot read %s: %s", path,
		    strerror(errno));
	setting(p, d, path);
	return NULL;
}

/*
 * set_ssl_protocol - SSLProtocol and SSLProxyProtocol, as mod_ssl's
 * ssl_cmd_protocol_parse: from nothing, "+x" adds, "-x" takes away, a
 * bare word replaces what the line said so far.  SSLv3 is accepted as
 * a word and never enabled (OpenSSL 3 has none).
 */
static const char *
set_ssl_protocol(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	static const struct {
		const char	*name;
		int		 bits;
	} protos[] = {
		{ "all", GW_TLS_ALL }, { "SSLv3", GW_TLS_SSLV3 },
		{ "TLSv1", GW_TLS_V1 }, { "TLSv1.1", GW_TLS_V1_1 },
		{ "TLSv1.2", GW_TLS_V1_2 }, { "TLSv1.3", GW_TLS_V1_3 },
	};
	int	 mask = 0, bits;
	char	 op;

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		op = *w == '+' || *w == '-' ? *w++ : '\0';
		bits = -1;
		for (size_t j = 0; j < sizeof(protos) / sizeof(protos[0]); j++)
			if (strcasecmp(w, protos[j].name) == 0)
				bits = protos[j].bits;
		if (bits == -1)
			return arena_printf(p->arena, "unknown protocol \"%s\" "
			    "(all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)",
			    w);
		if (op == '-')
			mask &= ~bits;
		else if (op == '+')
			mask |= bits;
		else {
			if (mask != 0)
				conf_warn(p, "%s: \"%s\" replaces the "
				    "protocols before it; is a + or - "
				    "missing?", d->name, argv[i]);
			mask = bits;
		}
	}
	if (mask & GW_TLS_SSLV3)
		conf_warn(p, "%s: SSLv3 is not supported and stays off",
		    d->name);
	mask &= ~GW_TLS_SSLV3;
	if (mask == 0)
		return "no protocol left: TLS could never be spoken";
	*(int *)(void *)FIELD(p, d) = mask;
	return NULL;
}

/*
 * set_ssl_cipher - SSLCipherSuite and SSLProxyCipherSuite
 * [SSL|TLSv1.3] spec: an OpenSSL cipher list for TLS 1.2 and below, or
 * with TLSv1.3 the TLS 1.3 cipher suites.  The TLS 1.3 field follows
 * the TLS 1.2 one in struct gw_vhost.
 */
_Static_assert(offsetof(struct gw_vhost, ssl_cipher_suite_13) ==
    offsetof(struct gw_vhost, ssl_cipher_suite) + sizeof(struct gw_setting),
    "SSLCipherSuite TLSv1.3 goes in the field after the TLS 1.2 one");
_Static_assert(offsetof(struct gw_vhost, ssl_proxy_cipher_suite_13) ==
    offsetof(struct gw_vhost, ssl_proxy_cipher_suite) +
    sizeof(struct gw_setting),
    "SSLProxyCipherSuite TLSv1.3 goes in the field after the TLS 1.2 one");

static const char *
set_ssl_cipher(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	struct gw_directive	 d13 = *d;
	const char		*spec = argv[argc - 1];
	int			 v13 = 0;

	if (argc == 2) {
		if (strcasecmp(argv[0], "TLSv1.3") == 0)
			v13 = 1;
		else if (strcasecmp(argv[0], "SSL") != 0)
			return arena_printf(p->arena, "unknown protocol \"%s\" "
			    "(SSL or TLSv1.3)", argv[0]);
	}
	if (!tls_cipher_ok(spec, v13))
		return arena_printf(p->arena, "OpenSSL accepts no cipher%s in "
		    "\"%s\"", v13 ? " suite" : "", spec);
	d13.offset += v13 ? sizeof(struct gw_setting) : 0;
	setting(p, &d13, argv[argc - 1]);
	return NULL;
}

static const char *
set_ssl_verify(struct gw_parse *p, const struct gw_directive *d, int argc,
    char **argv)
{
	static const char *const words[] = { "none", "optional", "require",
	    "optional_no_ca" };

	(void)d;
	(void)argc;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(argv[0], words[i]) == 0) {
			p->vhost->ssl_proxy_verify = i;
			p->vhost->ssl_proxy_verify_file = p->file;
			p->vhost->ssl_proxy_verify_line = p->line;
			return NULL;
		}
	return "takes none, optional, require or optional_no_ca";
}

/*---------------------------------------------------------------------
 * The table, sorted by name (strcasecmp) for bsearch.
 */

#define S(f)	GW_SLOT_SERVER, offsetof(struct gw_config, f)
#define V(f)	GW_SLOT_VHOST, offsetof(struct gw_vhost, f)
#define NONE	GW_SLOT_NONE, 0
#define BIG	2147483647LL
#define BIGLL	9223372036854775807LL
/* offset in struct gw_cache_conf: the setter finds the struct */
#define CK(f)	GW_SLOT_NONE, offsetof(struct gw_cache_conf, f)
#define CACHE_DIR (GW_CTX_SV | GW_CTX_DIR)

static const struct gw_directive table[] = {
	{ "Alias", GW_CTX_SV, 2, 2, set_alias, NONE, 0, 0,
	    "url-path file-path", "maps a URL path to local files (error "
	    "pages)" },
	{ "Allow", GW_CTX_DIR, 1, -1, set_allow_deny, NONE, 0, 0,
	    "from all|host|ip|ip/bits|env=name ...",
	    "clients allowed (Apache 2.2 access control)" },
	{ "AllowEncodedSlashes", GW_CTX_SV, 1, 1, set_encoded_slashes, NONE,
	    0, 0, "On|Off|NoDecode", "whether %2F may appear in a path" },
	{ "BalancerMember", GW_CTX_SV | GW_CTX_PROXY, 1, -1, set_member,
	    NONE, 0, 0, "[balancer://name] url [key=value ...]",
	    "adds a backend to a balancer" },
	{ "CacheDefaultExpire", CACHE_DIR, 1, 1, set_cache_ll,
	    CK(default_expire), 0, BIG, "seconds",
	    "lifetime of a response with no expiry and no Last-Modified" },
	{ "CacheDetailHeader", GW_CTX_SV, 1, 1, set_flag,
	    V(cache_detail_header), 0, 0, "On|Off",
	    "X-Cache-Detail: why the cache served or stored as it did" },
	{ "CacheDirLength", GW_CTX_SV, 1, 1, set_cache_dir,
	    V(cache_dir_length), 1, 20, "number",
	    "characters per cache subdirectory name" },
	{ "CacheDirLevels", GW_CTX_SV, 1, 1, set_cache_dir,
	    V(cache_dir_levels), 1, 20, "number",
	    "levels of cache subdirectories" },
	{ "CacheDisable", GW_CTX_SV | GW_CTX_LOCATION, 1, 1,
	    set_cache_disable, NONE, 0, 0, "url-string|on",
	    "never cache URLs under this prefix" },
	{ "CacheEnable", GW_CTX_SV | GW_CTX_LOCATION, 1, 2, set_cache_enable,
	    NONE, 0, 0, "disk|mem [url-string]",
	    "cache URLs under this prefix" },
	{ "CacheHeader", GW_CTX_SV, 1, 1, set_flag, V(cache_header), 0, 0,
	    "On|Off", "X-Cache: HIT, MISS or REVALIDATE from ServerName" },
	{ "CacheIgnoreCacheControl", GW_CTX_SV, 1, 1, set_cache_flag,
	    CK(ignore_cache_control), 0, 0, "On|Off",
	    "serve stored responses despite the request's no-cache" },
	{ "CacheIgnoreHeaders", GW_CTX_SV, 1, -1, set_ignore_headers, NONE,
	    0, 0, "header-string ...|None",
	    "response header fields not stored" },
	{ "CacheIgnoreNoLastMod", CACHE_DIR, 1, 1, set_cache_flag,
	    CK(ignore_no_last_mod), 0, 0, "On|Off",
	    "store responses without Last-Modified, ETag or expiry" },
	{ "CacheIgnoreQueryString", GW_CTX_SV, 1, 1, set_cache_flag,
	    CK(ignore_query_string), 0, 0, "On|Off",
	    "leave the query string out of the cache key" },
	{ "CacheIgnoreURLSessionIdentifiers", GW_CTX_SV, 1, -1,
	    set_ignore_session_ids, NONE, 0, 0, "identifier ...|None",
	    "URL parameters left out of the cache key" },
	{ "CacheKeyBaseURL", GW_CTX_SV, 1, 1, set_key_base_url, NONE, 0, 0,
	    "URL", "scheme, host and port of reverse-proxied cache keys" },
	{ "CacheLastModifiedFactor", CACHE_DIR, 1, 1, set_cache_factor, NONE,
	    0, 0, "float",
	    "heuristic lifetime: this times the age of Last-Modified" },
	{ "CacheLock", GW_CTX_SV, 1, 1, set_cache_flag, CK(lock), 0, 0,
	    "On|Off", "one origin fetch per URL at a time" },
	{ "CacheLockMaxAge", GW_CTX_SV, 1, 1, set_cache_int,
	    CK(lock_max_age), 1, BIG, "seconds",
	    "how long a CacheLock holds at most" },
	{ "CacheLockPath", GW_CTX_SV, 1, 1, set_cache_lock_path, NONE, 0, 0,
	    "directory", "no effect: the locks are in shared memory" },
	{ "CacheMaxExpire", CACHE_DIR, 1, 1, set_cache_expire,
	    CK(max_expire), 0, BIG, "seconds",
	    "longest lifetime from max-age or Last-Modified" },
	{ "CacheMaxFileSize", CACHE_DIR, 1, 1, set_cache_size,
	    CK(max_file_size), 0, BIGLL, "bytes",
	    "largest body the disk cache stores" },
	{ "CacheMinExpire", CACHE_DIR, 1, 1, set_cache_expire,
	    CK(min_expire), 0, BIG, "seconds",
	    "shortest lifetime from max-age or Last-Modified" },
	{ "CacheMinFileSize", CACHE_DIR, 1, 1, set_cache_size,
	    CK(min_file_size), 0, BIGLL, "bytes",
	    "smallest body the disk cache stores" },
	{ "CacheQuickHandler", GW_CTX_SV, 1, 1, set_cache_flag,
	    CK(quick_handler), 0, 0, "On|Off",
	    "no effect: the cache always runs after access control" },
	{ "CacheReadSize", CACHE_DIR, 1, 1, set_cache_ll, CK(read_size), 0,
	    BIGLL, "bytes", "no effect: bodies are relayed as they come" },
	{ "CacheReadTime", CACHE_DIR, 1, 1, set_cache_ll, CK(read_time), 0,
	    BIGLL, "milliseconds",
	    "no effect: bodies are relayed as they come" },
	{ "CacheRoot", GW_CTX_SV, 1, 1, set_path, V(cache_root), 0, 0,
	    "directory", "where the disk cache lives" },
	{ "CacheStaleOnError", CACHE_DIR, 1, 1, set_cache_flag,
	    CK(stale_on_error), 0, 0, "On|Off",
	    "serve a stale response when the origin fails" },
	{ "CacheStoreExpired", CACHE_DIR, 1, 1, set_cache_flag,
	    CK(store_expired), 0, 0, "On|Off",
	    "store responses that are already stale" },
	{ "CacheStoreNoStore", CACHE_DIR, 1, 1, set_cache_flag,
	    CK(store_no_store), 0, 0, "On|Off",
	    "store responses marked Cache-Control: no-store" },
	{ "CacheStorePrivate", CACHE_DIR, 1, 1, set_cache_flag,
	    CK(store_private), 0, 0, "On|Off",
	    "store responses marked Cache-Control: private" },
	{ "CustomLog", GW_CTX_SV, 2, 3, set_custom_log, NONE, 0, 0,
	    "file|\"|command\" format|nickname [env=[!]name]",
	    "access log" },
	{ "Define", GW_CTX_ANY, 1, 2, set_define, NONE, 0, 0,
	    "name [value]", "defines a variable for <IfDefine> and ${name}" },
	{ "Deny", GW_CTX_DIR, 1, -1, set_allow_deny, NONE, 0, 0,
	    "from all|host|ip|ip/bits|env=name ...",
	    "clients denied (Apache 2.2 access control)" },
	{ "DocumentRoot", GW_CTX_SV, 1, 1, set_path, V(document_root), 0, 0,
	    "directory", "where local files (error pages) are served from" },
	{ "ErrorDocument", GW_CTX_SV | GW_CTX_DIR, 2, 2, set_errordoc, NONE,
	    0, 0, "code /path|url|\"text\"|default",
	    "what the client gets for an error" },
	{ "ErrorLog", GW_CTX_SV, 1, 1, set_error_log, NONE, 0, 0,
	    "file|syslog[:facility]|\"|command\"", "the error log" },
	{ "ExtendedStatus", GW_CTX_SERVER, 1, 1, set_flag,
	    S(extended_status), 0, 0, "On|Off",
	    "per-worker and traffic figures on the status page" },
	{ "GracefulShutdownTimeout", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(graceful_shutdown_timeout), 0, BIG, "seconds",
	    "how long a graceful stop waits for busy workers (0: forever)" },
	{ "Group", GW_CTX_SERVER, 1, 1, set_user, S(group), 0, 0,
	    "name|#gid", "group the workers run as" },
	{ "Include", GW_CTX_ANY, 1, 1, set_include, NONE, 0, 0,
	    "file|directory|wildcard", "reads other configuration files" },
	{ "IncludeOptional", GW_CTX_ANY, 1, 1, set_include, NONE, 0, 0,
	    "file|directory|wildcard",
	    "reads other configuration files if they exist" },
	{ "KeepAlive", GW_CTX_SERVER, 1, 1, set_flag, S(keepalive), 0, 0,
	    "On|Off", "persistent client connections" },
	{ "KeepAliveTimeout", GW_CTX_SERVER, 1, 1, set_int,
	    S(keepalive_timeout), 0, 3600, "seconds",
	    "how long an idle client connection is kept" },
	{ "LimitRequestBody", GW_CTX_SERVER, 1, 1, set_llong,
	    S(limit_request_body), 0, 9223372036854775807LL, "bytes",
	    "largest request body (0: no limit)" },
	{ "LimitRequestFields", GW_CTX_SERVER, 1, 1, set_int,
	    S(limit_request_fields), 0, 32767, "number",
	    "most header fields in a request (0: no limit)" },
	{ "LimitRequestFieldSize", GW_CTX_SERVER, 1, 1, set_int,
	    S(limit_request_field_size), 1, 65536, "bytes",
	    "longest request header field" },
	{ "LimitRequestLine", GW_CTX_SERVER, 1, 1, set_int,
	    S(limit_request_line), 1, 65536, "bytes",
	    "longest request line" },
	{ "Listen", GW_CTX_SERVER, 1, 2, set_listen, NONE, 0, 0,
	    "[ip:]port [http|https]", "an address to accept connections on" },
	{ "ListenBacklog", GW_CTX_SERVER, 1, 1, set_int, S(listen_backlog),
	    1, 65535, "number", "queue length of pending connections" },
	{ "LoadModule", GW_CTX_SERVER, 2, 2, set_loadmodule, NONE, 0, 0,
	    "module file", "built-in modules are accepted as a no-op" },
	{ "LogFormat", GW_CTX_SV, 1, 2, set_log_format, NONE, 0, 0,
	    "format [nickname]", "an access log format" },
	{ "LogLevel", GW_CTX_SV, 1, -1, set_loglevel, NONE, 0, 0,
	    "level [module:level ...]", "how much the error log says" },
	{ "MaxClients", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(max_request_workers), 1, GW_SERVER_LIMIT_CAP, "number",
	    "Apache 2.2 name of MaxRequestWorkers" },
	{ "MaxConnectionsPerChild", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(max_connections_per_child), 0, BIG, "number",
	    "connections a worker serves before it is replaced (0: never)" },
	{ "MaxKeepAliveRequests", GW_CTX_SERVER, 1, 1, set_int,
	    S(max_keepalive_requests), 0, BIG, "number",
	    "requests per client connection (0: no limit)" },
	{ "MaxRequestsPerChild", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(max_connections_per_child), 0, BIG, "number",
	    "Apache 2.2 name of MaxConnectionsPerChild" },
	{ "MaxRequestWorkers", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(max_request_workers), 1, GW_SERVER_LIMIT_CAP, "number",
	    "most workers at once" },
	{ "MaxSpareServers", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(max_spare_servers), 1, GW_SERVER_LIMIT_CAP, "number",
	    "most idle workers" },
	{ "MCacheMaxObjectCount", GW_CTX_SV, 1, 1, set_mcache,
	    S(mcache_max_object_count), 1, 100000000, "number",
	    "most objects in the memory cache" },
	{ "MCacheMaxObjectSize", GW_CTX_SV, 1, 1, set_mcache,
	    S(mcache_max_object_size), 1, 1LL << 40, "bytes",
	    "largest object the memory cache keeps" },
	{ "MCacheMinObjectSize", GW_CTX_SV, 1, 1, set_mcache,
	    S(mcache_min_object_size), 0, 1LL << 40, "bytes",
	    "smallest object the memory cache keeps" },
	{ "MCacheRemovalAlgorithm", GW_CTX_SV, 1, 1, set_removal, NONE,
	    0, 0, "LRU|GDSF", "what the memory cache evicts first" },
	{ "MCacheSize", GW_CTX_SV, 1, 1, set_mcache, S(mcache_size), 1,
	    1LL << 32, "KiB", "size of the memory cache" },
	{ "MinSpareServers", GW_CTX_SERVER, 1, 1, set_mpm,
	    S(min_spare_servers), 1, GW_SERVER_LIMIT_CAP, "number",
	    "fewest idle workers" },
	{ "NameVirtualHost", GW_CTX_SERVER, 1, 1, set_ignored, NONE, 0, 0,
	    "addr[:port]", "name-based virtual hosts are always on, as in "
	    "Apache 2.4" },
	{ "Order", GW_CTX_DIR, 1, 1, set_order, NONE, 0, 0,
	    "Deny,Allow|Allow,Deny|Mutual-failure",
	    "how Allow and Deny combine (Apache 2.2)" },
	{ "PidFile", GW_CTX_SERVER, 1, 1, set_path, S(pid_file), 0, 0,
	    "file", "where the master writes its process id" },
	{ "ProxyAddHeaders", GW_CTX_SV, 1, 1, set_flag, V(add_headers), 0, 0,
	    "On|Off", "add X-Forwarded-For, -Host and -Server" },
	{ "ProxyErrorOverride", GW_CTX_SV, 1, -1, set_proxy_error_override,
	    NONE, 0, 0, "On|Off [code ...]",
	    "ErrorDocument replaces backend error pages" },
	{ "ProxyPass", GW_CTX_SV | GW_CTX_LOCATION, 1, -1, set_proxypass,
	    NONE, 0, 0, "[path] !|url [key=value ...] [nocanon] [noquery]",
	    "maps a local path to a backend URL" },
	{ "ProxyPassReverse", GW_CTX_SV | GW_CTX_LOCATION, 1, 3,
	    set_proxypassreverse, NONE, 0, 0, "[path] url",
	    "rewrites backend redirects to point here" },
	{ "ProxyPassReverseCookieDomain", GW_CTX_SV, 2, 2,
	    set_cookie_rewrite, NONE, 0, 0, "internal-domain public-domain",
	    "rewrites the domain= of backend cookies" },
	{ "ProxyPassReverseCookiePath", GW_CTX_SV, 2, 2, set_cookie_rewrite,
	    NONE, 0, 0, "internal-path public-path",
	    "rewrites the path= of backend cookies" },
	{ "ProxyPreserveHost", GW_CTX_SV | GW_CTX_DIR, 1, 1,
	    set_preserve_host, NONE, 0, 0, "On|Off",
	    "send the client's Host header to the backend" },
	{ "ProxyRequests", GW_CTX_SV, 1, 1, set_proxy_requests, NONE, 0, 0,
	    "On|Off", "forward (open) proxying; keep Off" },
	{ "ProxySet", GW_CTX_SV | GW_CTX_PROXY, 1, -1, set_proxyset, NONE,
	    0, 0, "[balancer://name] key=value ...",
	    "parameters of a balancer" },
	{ "ProxyTimeout", GW_CTX_SV, 1, 1, set_int, V(proxy_timeout), 1,
	    86400, "seconds", "backend timeout (default: Timeout)" },
	{ "ProxyVia", GW_CTX_SV, 1, 1, set_proxy_via, NONE, 0, 0,
	    "Off|On|Full|Block", "Via header handling" },
	{ "RequestReadTimeout", GW_CTX_SERVER, 1, 3, set_reqtimeout, NONE, 0,
	    0, "[header=t[-max][,MinRate=r]] [body=t[-max][,MinRate=r]]",
	    "deadlines for reading a request (slow clients)" },
	{ "Require", GW_CTX_DIR, 1, -1, set_require, NONE, 0, 0,
	    "[not] all granted|all denied|ip addr ...|host name ...",
	    "who may use this (Apache 2.4 access control)" },
	{ "ServerAdmin", GW_CTX_SV, 1, 1, set_string, V(server_admin), 0, 0,
	    "email|url", "contact shown on error pages" },
	{ "ServerAlias", GW_CTX_VHOST, 1, -1, set_server_alias, NONE, 0, 0,
	    "hostname ...", "other names of a virtual host" },
	{ "ServerLimit", GW_CTX_SERVER, 1, 1, set_mpm, S(server_limit), 1,
	    GW_SERVER_LIMIT_CAP, "number",
	    "upper bound of MaxRequestWorkers (fixed across restarts)" },
	{ "ServerName", GW_CTX_SV, 1, 1, set_server_name, NONE, 0, 0,
	    "[scheme://]hostname[:port]", "the name of this server" },
	{ "ServerRoot", GW_CTX_SERVER, 1, 1, set_server_root, NONE, 0, 0,
	    "directory", "base of relative paths" },
	{ "SetHandler", GW_CTX_LOCATION, 1, 1, set_handler, NONE, 0, 0,
	    "server-status|None", "serve a built-in page here" },
	{ "SSLCertificateChainFile", GW_CTX_SV, 1, 1, set_ssl_file,
	    V(ssl_chain_file), 0, 0, "file",
	    "intermediate certificates (PEM)" },
	{ "SSLCertificateFile", GW_CTX_SV, 1, 1, set_ssl_file,
	    V(ssl_cert_file), 0, 0, "file",
	    "the server certificate (PEM, may hold the chain)" },
	{ "SSLCertificateKeyFile", GW_CTX_SV, 1, 1, set_ssl_file,
	    V(ssl_key_file), 0, 0, "file", "the private key (PEM)" },
	{ "SSLCipherSuite", GW_CTX_SV, 1, 2, set_ssl_cipher,
	    V(ssl_cipher_suite), 0, 0, "[SSL|TLSv1.3] cipher-spec",
	    "ciphers offered to clients (OpenSSL syntax)" },
	{ "SSLEngine", GW_CTX_SV, 1, 1, set_ssl_engine, NONE, 0, 0,
	    "on|off", "TLS on this virtual host" },
	{ "SSLHonorCipherOrder", GW_CTX_SV, 1, 1, set_flag,
	    V(ssl_honor_cipher_order), 0, 0, "on|off",
	    "the server's cipher order wins over the client's" },
	{ "SSLProtocol", GW_CTX_SV, 1, -1, set_ssl_protocol, V(ssl_protocol),
	    0, 0, "[+|-]protocol ...", "TLS versions offered to clients" },
	{ "SSLProxyCACertificateFile", GW_CTX_SV, 1, 1, set_ssl_file,
	    V(ssl_proxy_ca_file), 0, 0, "file",
	    "CA certificates that backend certificates are checked against" },
	{ "SSLProxyCACertificatePath", GW_CTX_SV, 1, 1, set_ssl_dir,
	    V(ssl_proxy_ca_path), 0, 0, "directory",
	    "directory of hashed CA certificates for backends" },
	{ "SSLProxyCheckPeerCN", GW_CTX_SV, 1, 1, set_flag,
	    V(ssl_proxy_check_peer_cn), 0, 0, "on|off",
	    "with SSLProxyCheckPeerName: check the backend's name" },
	{ "SSLProxyCheckPeerExpire", GW_CTX_SV, 1, 1, set_flag,
	    V(ssl_proxy_check_peer_expire), 0, 0, "on|off",
	    "refuse an expired backend certificate" },
	{ "SSLProxyCheckPeerName", GW_CTX_SV, 1, 1, set_flag,
	    V(ssl_proxy_check_peer_name), 0, 0, "on|off",
	    "check that the backend certificate names the backend" },
	{ "SSLProxyCipherSuite", GW_CTX_SV, 1, 2, set_ssl_cipher,
	    V(ssl_proxy_cipher_suite), 0, 0, "[SSL|TLSv1.3] cipher-spec",
	    "ciphers offered to backends (OpenSSL syntax)" },
	{ "SSLProxyEngine", GW_CTX_SV, 1, 1, set_flag, V(ssl_proxy_engine),
	    0, 0, "on|off", "TLS to https:// backends" },
	{ "SSLProxyMachineCertificateFile", GW_CTX_SV, 1, 1, set_ssl_file,
	    V(ssl_proxy_machine_cert), 0, 0, "file",
	    "client certificate and key shown to backends (PEM)" },
	{ "SSLProxyProtocol", GW_CTX_SV, 1, -1, set_ssl_protocol,
	    V(ssl_proxy_protocol), 0, 0, "[+|-]protocol ...",
	    "TLS versions offered to backends" },
	{ "SSLProxyVerify", GW_CTX_SV, 1, 1, set_ssl_verify, NONE, 0, 0,
	    "none|optional|require|optional_no_ca",
	    "whether backend certificates must verify against the CA" },
	{ "SSLProxyVerifyDepth", GW_CTX_SV, 1, 1, set_int,
	    V(ssl_proxy_verify_depth), 0, 100, "number",
	    "most CA certificates between a backend's and a trusted one" },
	{ "StartServers", GW_CTX_SERVER, 1, 1, set_mpm, S(start_servers), 1,
	    GW_SERVER_LIMIT_CAP, "number", "workers forked at start" },
	{ "Timeout", GW_CTX_SERVER, 1, 1, set_int, S(timeout), 1, 86400,
	    "seconds", "deadline of each network wait" },
	{ "TransferLog", GW_CTX_SV, 1, 1, set_custom_log, NONE, 0, 0,
	    "file|\"|command\"", "access log in the last LogFormat" },
	{ "User", GW_CTX_SERVER, 1, 1, set_user, S(user), 0, 0,
	    "name|#uid", "user the workers run as" },
};

#define NTABLE	(sizeof(table) / sizeof(table[0]))

static int
cmp_name(const void *key, const void *row)
{
	return strcasecmp(key, ((const struct gw_directive *)row)->name);
}

const struct gw_directive *
directives_find(const char *name)
{
	return bsearch(name, table, NTABLE, sizeof(table[0]), cmp_name);
}

const struct gw_directive *
directives_table(size_t *n)
{
	*n = NTABLE;
	return table;
}

/* edit distance, case-insensitive, capped for speed */
static int
distance(const char *a, const char *b)
{
	int	la = (int)strlen(a), lb = (int)strlen(b), row[64], prev, t;

	if (la >= 63 || lb >= 63)
		return 99;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			t = row[j];
			row[j] = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (t + 1 < row[j])
				row[j] = t + 1;
			prev = t;
		}
	}
	return row[lb];
}

/* directives_suggest - the closest name, if close enough to be a typo. */
const char *
directives_suggest(const char *name)
{
	const char	*best = NULL;
	int		 bestd = 99, d, limit;

	limit = strlen(name) <= 6 ? 1 : strlen(name) <= 12 ? 2 : 3;
	for (size_t i = 0; i < NTABLE; i++) {
		d = distance(name, table[i].name);
		if (d < bestd) {
			bestd = d;
			best = table[i].name;
		}
	}
	return bestd <= limit ? best : NULL;
}

const char *
directives_ctx_name(unsigned ctx)
{
	switch (ctx) {
	case GW_CTX_SERVER:
		return "the main server configuration";
	case GW_CTX_VHOST:
		return "<VirtualHost>";
	case GW_CTX_PROXY:
		return "<Proxy>";
	case GW_CTX_LOCATION:
		return "<Location>";
	case GW_CTX_DIRECTORY:
		return "<Directory>";
	default:
		return "this context";
	}
}
