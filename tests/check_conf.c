/*
 * check_conf.c - unit tests of the configuration reader (conf.c), the
 * directive table and setters (directives.c) and the access check
 * (rules.c).  Each test writes real files in its own temp directory.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "directives.h"
#include "rules.h"
#include "tls.h"
#include "tlsfix.h"

static char	 dir[64];
static char	*errs;		/* what conf_load printed, paths shortened */

static void
setup(void)
{
	strcpy(dir, "/tmp/gwconfXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	errs = NULL;
}

static void
teardown(void)
{
	char cmd[128];

	free(errs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* put - write a file under the temp dir; returns its path (static). */
static const char *
put(const char *name, const char *text)
{
	static char	 path[256];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* replace every "dir/" in s by "" so messages read "test.conf:3: ..." */
static char *
shorten(char *s)
{
	char	 pat[80], *p;
	size_t	 n;

	snprintf(pat, sizeof(pat), "%s/", dir);
	n = strlen(pat);
	while ((p = strstr(s, pat)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
	return s;
}

/*
 * load - conf_load of text as test.conf with ServerRoot = the temp dir
 * prepended; errs gets what it printed.
 */
static struct gw_config *
loadd(const char *text, const char *const *defs, int ndefs, int *nerr)
{
	struct gw_config	*c;
	FILE			*err;
	size_t			 len;
	char			*full;

	free(errs);
	errs = NULL;
	/* "@DIR@" in text stands for the temp dir */
	ck_assert_int_gt(asprintf(&full, "%s", text), 0);
	for (char *at; (at = strstr(full, "@DIR@")) != NULL; ) {
		char *next;

		*at = '\0';
		ck_assert_int_gt(asprintf(&next, "%s%s%s", full, dir, at + 5),
		    0);
		free(full);
		full = next;
	}
	err = open_memstream(&errs, &len);
	ck_assert_ptr_nonnull(err);
	c = conf_load(put("test.conf", full), defs, ndefs, err, nerr);
	ck_assert_int_eq(fclose(err), 0);
	free(full);
	shorten(errs);
	return c;
}

static struct gw_config *
load(const char *text, int *nerr)
{
	return loadd(text, NULL, 0, nerr);
}

/* sanity - conf_sanity's output for c, paths shortened. */
static char *
sanity(struct gw_config *c, int *n)
{
	char	*out = NULL;
	size_t	 len;
	FILE	*f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	*n = conf_sanity(c, f);
	ck_assert_int_eq(fclose(f), 0);
	return shorten(out);
}

/*---------------------------------------------------------------------
 * The seed tutorial's configuration
 */

static const char seed[] =
    "LoadModule proxy_module modules/mod_proxy.so\n"
    "LoadModule proxy_http_module modules/mod_proxy_http.so\n"
    "LoadModule disk_cache_module modules/mod_disk_cache.so\n"
    "LoadModule mem_cache_module modules/mod_mem_cache.so\n"
    "Listen 127.0.0.1:0\n"
    "ProxyRequests Off\n"
    "<Proxy *>\n"
    "  Order deny,allow\n"
    "  Allow from all\n"
    "</Proxy>\n"
    "<VirtualHost *:80>\n"
    "    ServerName www.host.com\n"
    "    ProxyPreserveHost On\n"
    "    ProxyPass / http://192.168.1.10/\n"
    "    ProxyPassReverse / http://192.168.1.10/\n"
    "    <IfModule mod_disk_cache.c>\n"
    "        CacheEnable disk /\n"
    "        CacheRoot \"/var/cache/mod_proxy\"\n"
    "        CacheDirLevels 3\n"
    "        CacheDirLength 5\n"
    "    </IfModule>\n"
    "    <IfModule mod_mem_cache.c>\n"
    "        CacheEnable mem /\n"
    "        MCacheSize 4096\n"
    "        MCacheMaxObjectCount 100\n"
    "        MCacheMinObjectSize 1\n"
    "        MCacheMaxObjectSize 2048\n"
    "    </IfModule>\n"
    "    CacheDisable http://security.update.server/update-list/\n"
    "    ErrorDocument 503 /errors/503.html\n"
    "    ProxyPass /errors/ !\n"
    "</VirtualHost>\n"
    "<VirtualHost *:443>\n"
    "    ServerName www.host.com\n"
    "    SSLProxyEngine On\n"
    "    ProxyPass / https://192.168.1.10/\n"
    "</VirtualHost>\n";

START_TEST(test_seed)
{
	struct gw_config	*c;
	struct gw_vhost		*v;
	struct gw_cache_rule	*r;
	int			 n;

	c = load(seed, &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(errs, "");
	ck_assert_int_eq(c->nvhosts, 2);
	v = c->vhosts;
	ck_assert_str_eq(v->server_name, "www.host.com");
	ck_assert_str_eq(v->addrs->host, "*");
	ck_assert_str_eq(v->addrs->port, "80");
	ck_assert_int_eq(v->preserve_host, 1);
	ck_assert_int_eq(v->proxy_requests, 0);
	ck_assert_str_eq(v->proxypass->path, "/");
	ck_assert_str_eq(v->proxypass->url, "http://192.168.1.10/");
	ck_assert_int_eq(v->proxypass->retry, 60);
	ck_assert_str_eq(v->proxypass->next->path, "/errors/");
	ck_assert_ptr_null(v->proxypass->next->url);
	ck_assert_str_eq(v->proxypassreverse->url, "http://192.168.1.10/");
	ck_assert_str_eq(v->cache_root, "/var/cache/mod_proxy");
	ck_assert_int_eq(v->cache_dir_levels, 3);
	ck_assert_int_eq(v->cache_dir_length, 5);
	r = v->cache;
	ck_assert_int_eq(r->enable, 1);
	ck_assert_int_eq(r->type, GW_CACHE_DISK);
	r = r->next;
	ck_assert_int_eq(r->type, GW_CACHE_MEM);
	r = r->next;
	ck_assert_int_eq(r->enable, 0);
	ck_assert_str_eq(r->url, "http://security.update.server/update-list/");
	ck_assert_int_eq(c->mcache_size, 4096);
	ck_assert_int_eq(c->mcache_max_object_count, 100);
	ck_assert_int_eq(c->mcache_max_object_size, 2048);
	ck_assert_int_eq(v->errordocs->status, 503);
	ck_assert_int_eq(v->errordocs->kind, GW_ERRDOC_LOCAL);
	/* main server defaults inherited */
	ck_assert_int_eq(v->add_headers, 1);
	ck_assert_int_eq(c->main.dirs->access.style, 22);
	ck_assert_int_eq(c->main.dirs->access.order, GW_ORDER_DENY_ALLOW);
	ck_assert_int_eq(c->vhosts->next->ssl_proxy_engine, 1);
	ck_assert_int_eq(c->vhosts->next->preserve_host, 0);
	ck_assert_int_eq(c->start_servers, 5);
	ck_assert_int_eq(c->timeout, 60);
	ck_assert_int_eq(c->log_level, GW_LOG_WARN);
	conf_free(c);
}
END_TEST

/* The seed's own snippets leave sections open: say exactly that. */
START_TEST(test_seed_unclosed)
{
	int n;

	ck_assert_ptr_null(load(
	    "Listen 80\n"
	    "<VirtualHost *:80>\n"
	    "    ServerName www.host.com\n"
	    "    <IfModule mod_disk_cache.c>\n"
	    "        CacheEnable disk /\n"
	    "        CacheRoot \"/var/cache/mod_proxy\"\n", &n));
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(errs,
	    "test.conf:2: <VirtualHost> section is not closed: expected "
	    "</VirtualHost> before the end of the file\n"
	    "test.conf:4: <IfModule> section is not closed: expected "
	    "</IfModule> before the end of the file\n");
}
END_TEST

/*---------------------------------------------------------------------
 * Error paths, each with its exact message
 */

static const struct {
	const char	*text;
	const char	*want;
} bad[] = {
	{ "Listen 80\nProxyPas / http://a/\n",
	  "test.conf:2: unknown directive \"ProxyPas\" (did you mean "
	  "\"ProxyPass\"?)\n" },
	{ "Listen 80\nFrobnicate on\n",
	  "test.conf:2: unknown directive \"Frobnicate\"\n" },
	{ "Listen 80\n<VirtualHost *:80>\nListen 81\n</VirtualHost>\n",
	  "test.conf:3: Listen is not allowed in <VirtualHost>\n" },
	{ "Listen 80\n<Proxy *>\nProxyPass / http://a/\n</Proxy>\n",
	  "test.conf:3: ProxyPass is not allowed in <Proxy>\n" },
	{ "Listen 80\n<VirtualHost *:80>\n<VirtualHost *:81>\n"
	  "</VirtualHost>\n</VirtualHost>\n",
	  "test.conf:3: <VirtualHost> is not allowed in <VirtualHost>\n" },
	{ "Listen 80\nProxyPreserveHost yes\n",
	  "test.conf:2: ProxyPreserveHost: takes On or Off, not \"yes\"\n" },
	{ "Listen 80\nStartServers many\n",
	  "test.conf:2: StartServers: \"many\" is not a whole number\n" },
	{ "Listen 80\nCacheDirLevels 0\n",
	  "test.conf:2: CacheDirLevels: 0 is out of range (1 to 20)\n" },
	{ "Listen 80\nTimeout\n",
	  "test.conf:2: Timeout: wrong number of arguments (0); syntax: "
	  "Timeout seconds\n" },
	{ "Listen 80\nProxyPass / ftp://a/\n",
	  "test.conf:2: ProxyPass: \"ftp://a/\": the URL must start with "
	  "http://, https://, ws://, wss:// or balancer://\n" },
	{ "Listen 80\nProxyPass / http://a/ retry=x\n",
	  "test.conf:2: ProxyPass: retry: \"x\" is not a whole number\n" },
	{ "Listen 80\nProxyPass / http://a/ bogus=1\n",
	  "test.conf:2: ProxyPass: unknown parameter \"bogus\"\n" },
	{ "Listen 80\nProxyPass app http://a/\n",
	  "test.conf:2: ProxyPass: the path \"app\" must start with /\n" },
	{ "Listen 80\nProxyPass / http://a:99999/\n",
	  "test.conf:2: ProxyPass: \"http://a:99999/\": invalid port\n" },
	{ "Listen 80\nListen 80\n",
	  "test.conf:2: Listen: 80 is already given at test.conf:1\n" },
	{ "Listen 80x\n",
	  "test.conf:1: Listen: invalid port in \"80x\"\n" },
	{ "Listen [::1:80\n",
	  "test.conf:1: Listen: IPv6 addresses are written [addr]:port\n" },
	{ "ServerName www.example.com\n",
	  "test.conf: no Listen directive: gatewayd would accept no "
	  "connections (add e.g. \"Listen 80\")\n" },
	{ "Listen 80\n</VirtualHost>\n",
	  "test.conf:2: </VirtualHost> without matching <VirtualHost> "
	  "section\n" },
	{ "Listen 80\n<VirtualHost *:80>\n<IfModule mod_proxy.c>\n"
	  "</VirtualHost>\n",
	  "test.conf:3: <IfModule> section is not closed: expected "
	  "</IfModule> before </VirtualHost> at line 4\n"
	  "test.conf:4: </VirtualHost> closes <IfModule> opened at line 3\n" },
	{ "Listen 80\n<Directry /x>\n</Directry>\n",
	  "test.conf:2: unknown section <Directry> (did you mean "
	  "<Directory>?)\n" },
	{ "Listen 80\n<VirtualHost>\n</VirtualHost>\n",
	  "test.conf:2: <VirtualHost> needs at least one address, e.g. "
	  "<VirtualHost *:80>\n" },
	{ "Listen 80\n<VirtualHost *:http>\n</VirtualHost>\n",
	  "test.conf:2: <VirtualHost *:http>: invalid port\n" },
	{ "Listen 80\n<Proxy *\n</Proxy>\n",
	  "test.conf:2: section line is missing its closing '>'\n"
	  "test.conf:3: </Proxy> without matching <Proxy> section\n" },
	{ "Listen 80\nServerName \"www.a.com\n",
	  "test.conf:2: unterminated quoted argument\n" },
	{ "ServerRoot @DIR@\nListen 80\nInclude missing.conf\n",
	  "test.conf:3: Include: DIR/missing.conf not found: "
	  "No such file or directory\n" },
	{ "ServerRoot @DIR@\nListen 80\nInclude conf.d/*.conf\n",
	  "test.conf:3: Include: no files match the wildcard "
	  "DIR/conf.d/*.conf\n" },
	{ "Listen 80\nCacheDirLevels 5\nCacheDirLength 5\n",
	  "test.conf:3: CacheDirLevels (5) times CacheDirLength (5) must "
	  "not be above 20\n" },
	{ "Listen 80\nMCacheSize 1\nMCacheMaxObjectSize 2048\n",
	  "test.conf:3: MCacheMaxObjectSize (2048 bytes) must be below "
	  "MCacheSize (1 KiB = 1024 bytes)\n" },
	{ "Listen 80\nMCacheMinObjectSize 500\nMCacheMaxObjectSize 400\n",
	  "test.conf:3: MCacheMinObjectSize (500) must be below "
	  "MCacheMaxObjectSize (400)\n" },
	{ "Listen 80\nCacheEnable socache /\n",
	  "test.conf:2: CacheEnable: the socache provider is not supported; "
	  "use disk or mem\n" },
	{ "Listen 80\nCacheEnable disk\n",
	  "test.conf:2: CacheEnable: needs a URL or path outside <Location>, "
	  "e.g. CacheEnable disk /\n" },
	{ "Listen 80\n<Proxy *>\nOrder deny, allow\n</Proxy>\n",
	  "test.conf:3: Order: wrong number of arguments (2); syntax: Order "
	  "Deny,Allow|Allow,Deny|Mutual-failure\n" },
	{ "Listen 80\n<Proxy *>\nOrder allow-deny\n</Proxy>\n",
	  "test.conf:3: Order: unknown order \"allow-deny\": use Deny,Allow "
	  "or Allow,Deny (no spaces) or Mutual-failure\n" },
	{ "Listen 80\n<Proxy *>\nAllow all\n</Proxy>\n",
	  "test.conf:3: Allow: syntax: Allow from host ...\n" },
	{ "Listen 80\n<Proxy *>\nAllow from 10.0.0.0/33\n</Proxy>\n",
	  "test.conf:3: Allow: \"10.0.0.0/33\": bad prefix length\n" },
	{ "Listen 80\n<Proxy *>\nAllow from all\nRequire all granted\n"
	  "</Proxy>\n",
	  "test.conf:4: Require: cannot mix Order/Allow/Deny (Apache 2.2) "
	  "with Require (Apache 2.4) in one section\n" },
	{ "Listen 80\n<Proxy *>\nRequire not ip 10.0.0.1\n</Proxy>\n",
	  "test.conf:3: Require: a negated Require has no effect outside "
	  "<RequireAll> or <RequireNone>\n" },
	{ "Listen 80\n<Proxy *>\nRequire valid-user\n</Proxy>\n",
	  "test.conf:3: Require: unsupported provider \"valid-user\" "
	  "(gatewayd has all, ip and host; it does no authentication)\n" },
	{ "Listen 80\nErrorDocument 200 /x.html\n",
	  "test.conf:2: ErrorDocument: 200: only 4xx and 5xx errors can have "
	  "an ErrorDocument\n" },
	{ "Listen 80\nErrorDocument 5x3 /x.html\n",
	  "test.conf:2: ErrorDocument: unsupported HTTP response code 5x3\n" },
	{ "Listen 80\nLogLevel chatty\n",
	  "test.conf:2: LogLevel: unknown level \"chatty\" (emerg, alert, "
	  "crit, error, warn, notice, info, debug, trace1 to trace8)\n" },
	{ "Listen 80\nSSLCertificateFile /nonexistent/cert.pem\n",
	  "test.conf:2: SSLCertificateFile: cannot read "
	  "/nonexistent/cert.pem: No such file or directory\n" },
	{ "Listen 80\nSSLEngine maybe\n",
	  "test.conf:2: SSLEngine: takes on or off\n" },
	{ "Listen 80\nBalancerMember http://a/\n",
	  "test.conf:2: BalancerMember: outside a <Proxy balancer://name> "
	  "section, name the balancer first: BalancerMember balancer://name "
	  "url [key=value ...]\n" },
	{ "Listen 80\n<Location /a>\nBalancerMember balancer://b http://a/\n"
	  "</Location>\n",
	  "test.conf:3: BalancerMember is not allowed in <Location>\n" },
	{ "Listen 80\n<Proxy *>\nBalancerMember http://a/\n</Proxy>\n",
	  "test.conf:3: BalancerMember: belongs in a <Proxy balancer://name> "
	  "section\n" },
	{ "Listen 80\n<Location /a>\nProxyPass http://a/\nProxyPass "
	  "http://b/\n</Location>\n",
	  "test.conf:4: ProxyPass: only one ProxyPass per <Location>\n" },
	{ "Listen 80\nKeepAlive\n",
	  "test.conf:2: KeepAlive: wrong number of arguments (0); syntax: "
	  "KeepAlive On|Off\n" },
	{ "Listen 80\n<IfModule>\n</IfModule>\n",
	  "test.conf:2: <IfModule> takes one argument\n" },
	{ "Listen 80\nServerRoot relative/dir\n",
	  "test.conf:2: ServerRoot: must be an absolute path\n" },
	/* mod_cache knobs */
	{ "Listen 80\nCacheMaxExpire -1\n",
	  "test.conf:2: CacheMaxExpire: -1 is out of range (0 to "
	  "2147483647)\n" },
	{ "Listen 80\nCacheDefaultExpire 1h\n",
	  "test.conf:2: CacheDefaultExpire: \"1h\" is not a whole number\n" },
	{ "Listen 80\n<VirtualHost *:80>\nCacheMinExpire 1e3\n"
	  "</VirtualHost>\n",
	  "test.conf:3: CacheMinExpire: \"1e3\" is not a whole number\n" },
	{ "Listen 80\nCacheLastModifiedFactor -0.5\n",
	  "test.conf:2: CacheLastModifiedFactor: \"-0.5\" is not a number "
	  "from 0 to 1e9, e.g. 0.1\n" },
	{ "Listen 80\nCacheLastModifiedFactor nan\n",
	  "test.conf:2: CacheLastModifiedFactor: \"nan\" is not a number "
	  "from 0 to 1e9, e.g. 0.1\n" },
	{ "Listen 80\nCacheLastModifiedFactor 0.1x\n",
	  "test.conf:2: CacheLastModifiedFactor: \"0.1x\" is not a number "
	  "from 0 to 1e9, e.g. 0.1\n" },
	{ "Listen 80\nCacheLock maybe\n",
	  "test.conf:2: CacheLock: takes On or Off, not \"maybe\"\n" },
	{ "Listen 80\nCacheStorePrivate\n",
	  "test.conf:2: CacheStorePrivate: wrong number of arguments (0); "
	  "syntax: CacheStorePrivate On|Off\n" },
	{ "Listen 80\nCacheLockMaxAge 0\n",
	  "test.conf:2: CacheLockMaxAge: 0 is out of range (1 to "
	  "2147483647)\n" },
	{ "Listen 80\nCacheMinFileSize -5\n",
	  "test.conf:2: CacheMinFileSize: -5 is out of range (0 to "
	  "9223372036854775807)\n" },
	{ "Listen 80\nCacheMaxFileSize 1MB\n",
	  "test.conf:2: CacheMaxFileSize: \"1MB\" is not a whole number\n" },
	{ "Listen 80\nCacheReadTime 5s\n",
	  "test.conf:2: CacheReadTime: \"5s\" is not a whole number\n" },
	{ "Listen 80\nCacheIgnoreHeaders X-Foo Set-Cookie:\n",
	  "test.conf:2: CacheIgnoreHeaders: \"Set-Cookie:\" is not a valid "
	  "name (letters, digits and !#$%&'*+-.^_`|~)\n" },
	{ "Listen 80\nCacheIgnoreHeaders\n",
	  "test.conf:2: CacheIgnoreHeaders: wrong number of arguments (0); "
	  "syntax: CacheIgnoreHeaders header-string ...|None\n" },
	{ "Listen 80\nCacheIgnoreURLSessionIdentifiers jsessionid=\n",
	  "test.conf:2: CacheIgnoreURLSessionIdentifiers: \"jsessionid=\" "
	  "is not a valid name (letters, digits and !#$%&'*+-.^_`|~)\n" },
	{ "Listen 80\n<Location /a>\nCacheIgnoreHeaders X-Foo\n"
	  "</Location>\n",
	  "test.conf:3: CacheIgnoreHeaders is not allowed in <Location>\n" },
	{ "Listen 80\n<Location /a>\nCacheLock On\n</Location>\n",
	  "test.conf:3: CacheLock is not allowed in <Location>\n" },
	{ "Listen 80\n<Proxy *>\nCacheQuickHandler Off\n</Proxy>\n",
	  "test.conf:3: CacheQuickHandler is not allowed in <Proxy>\n" },
	{ "Listen 80\n<Location /a>\nCacheKeyBaseURL http://a/\n"
	  "</Location>\n",
	  "test.conf:3: CacheKeyBaseURL is not allowed in <Location>\n" },
	{ "Listen 80\nCacheKeyBaseURL www.example.com\n",
	  "test.conf:2: CacheKeyBaseURL: \"www.example.com\": the URL must "
	  "start with http:// or https://\n" },
	{ "Listen 80\nCacheKeyBaseURL http:///x\n",
	  "test.conf:2: CacheKeyBaseURL: \"http:///x\": no host in the URL\n" },
	{ "Listen 80\nCacheKeyBaseURL http://a:0/\n",
	  "test.conf:2: CacheKeyBaseURL: \"http://a:0/\": invalid port\n" },
};

START_TEST(test_bad)
{
	char	*want, *p;
	int	 n;

	/* messages naming files under the temp dir say DIR/ */
	ck_assert_int_gt(asprintf(&want, "%s", bad[_i].want), 0);
	ck_assert_ptr_null(load(bad[_i].text, &n));
	while ((p = strstr(want, "DIR/")) != NULL)
		memmove(p, p + 4, strlen(p + 4) + 1);
	ck_assert_int_ge(n, 1);
	ck_assert_str_eq(errs, want);
	free(want);
}
END_TEST

/* Every error of a file is reported in one pass, in line order. */
START_TEST(test_all_errors_one_pass)
{
	int n;

	ck_assert_ptr_null(load(
	    "Listen 80\n"
	    "Bogus 1\n"
	    "<VirtualHost *:80>\n"
	    "  ProxyPreserveHost perhaps\n"
	    "  StartServers 3\n"
	    "  Timeout -1\n"
	    "</VirtualHost>\n"
	    "KeepAliveTimeout x\n", &n));
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(errs,
	    "test.conf:2: unknown directive \"Bogus\"\n"
	    "test.conf:4: ProxyPreserveHost: takes On or Off, not "
	    "\"perhaps\"\n"
	    "test.conf:5: StartServers is not allowed in <VirtualHost>\n"
	    "test.conf:6: Timeout is not allowed in <VirtualHost>\n"
	    "test.conf:8: KeepAliveTimeout: \"x\" is not a whole number\n");
}
END_TEST

/*---------------------------------------------------------------------
 * Lexical rules
 */

START_TEST(test_lexical)
{
	struct gw_config	*c;
	int			 n;

	c = load(
	    "# a comment\n"
	    "   # an indented comment\n"
	    "\n"
	    "listen \\\n"
	    "   127.0.0.1:0\n"
	    "SERVERNAME 'www.example.com'\n"
	    "ErrorDocument 404 \"Sorry, \\\"nothing\\\" here\"\n"
	    "proxypass /a/ http://backend:8080/a/ \\\n"
	    "    retry=5 timeout=30 connectiontimeout=500ms ttl=10 \\\n"
	    "    disablereuse=On keepalive=on upgrade=websocket\n"
	    "ProxyPass /b http://[::1]:81/b nocanon noquery\n"
	    "keepalive off\r\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(c->listeners->host, "127.0.0.1");
	ck_assert_str_eq(c->listeners->port, "0");
	ck_assert_int_eq(c->listeners->line, 4);
	ck_assert_str_eq(c->main.server_name, "www.example.com");
	ck_assert_str_eq(c->main.errordocs->doc, "Sorry, \"nothing\" here");
	ck_assert_int_eq(c->main.errordocs->kind, GW_ERRDOC_TEXT);
	ck_assert_int_eq(c->main.proxypass->line, 8);
	ck_assert_int_eq(c->main.proxypass->retry, 5);
	ck_assert_int_eq(c->main.proxypass->timeout, 30);
	ck_assert_int_eq(c->main.proxypass->connectiontimeout, 500);
	ck_assert_int_eq(c->main.proxypass->ttl, 10);
	ck_assert_int_eq(c->main.proxypass->disablereuse, 1);
	ck_assert_int_eq(c->main.proxypass->keepalive, 1);
	ck_assert_str_eq(c->main.proxypass->upgrade, "websocket");
	ck_assert_int_eq(c->main.proxypass->next->nocanon, 1);
	ck_assert_int_eq(c->main.proxypass->next->noquery, 1);
	ck_assert_int_eq(c->main.proxypass->next->connectiontimeout,
	    GW_UNSET);
	ck_assert_int_eq(c->keepalive, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_errordoc_kinds)
{
	struct gw_config	*c;
	struct gw_errordoc	*e;
	int			 n;

	c = load("Listen 80\n"
	    "ErrorDocument 500 http://errors.example.com/500\n"
	    "ErrorDocument 502 /errors/502.html\n"
	    "ErrorDocument 503 \"Service away\"\n"
	    "ErrorDocument 504 Gone\n"
	    "ErrorDocument 404 default\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	e = c->main.errordocs;
	ck_assert_int_eq(e->kind, GW_ERRDOC_URL);
	ck_assert_int_eq((e = e->next)->kind, GW_ERRDOC_LOCAL);
	ck_assert_int_eq((e = e->next)->kind, GW_ERRDOC_TEXT);
	ck_assert_int_eq((e = e->next)->kind, GW_ERRDOC_TEXT);
	ck_assert_int_eq((e = e->next)->kind, GW_ERRDOC_DEFAULT);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * Conditional sections, modules, defines, variables
 */

START_TEST(test_ifmodule)
{
	struct gw_config	*c;
	int			 n;

	c = load("Listen 80\n"
	    "LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\n"
	    "LoadModule rewrite_module modules/mod_rewrite.so\n"
	    "<IfModule proxy_module>\nProxyPass /a http://a/\n</IfModule>\n"
	    "<IfModule mod_proxy.c>\nProxyPass /b http://b/\n</IfModule>\n"
	    "<IfModule !mod_proxy.c>\nProxyPass /c http://c/\n</IfModule>\n"
	    "<IfModule mod_rewrite.c>\nRewriteEngine On\n</IfModule>\n"
	    "<IfModule !mod_rewrite.c>\n<IfModule mod_mem_cache.c>\n"
	    "ProxyPass /d http://d/\n</IfModule>\n</IfModule>\n"
	    "<IfModule mod_cache_disk.c>\nCacheRoot /tmp\n</IfModule>\n",
	    &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	/* unknown module: a warning, and its sections are skipped */
	ck_assert_str_eq(errs, "test.conf:3: warning: LoadModule: "
	    "rewrite_module is not built into gatewayd; ignored (its "
	    "<IfModule> sections are skipped)\n");
	ck_assert_str_eq(c->main.proxypass->path, "/a");
	ck_assert_str_eq(c->main.proxypass->next->path, "/b");
	ck_assert_str_eq(c->main.proxypass->next->next->path, "/d");
	ck_assert_ptr_null(c->main.proxypass->next->next->next);
	ck_assert_str_eq(c->main.cache_root, "/tmp");
	ck_assert(conf_module_known("ssl_module"));
	ck_assert(conf_module_known("mod_disk_cache.c"));
	ck_assert(!conf_module_known("mod_rewrite.c"));
	conf_free(c);
}
END_TEST

START_TEST(test_ifdefine_and_vars)
{
	static const char *const defs[] = { "SSL", "FOREGROUND" };
	struct gw_config	*c;
	int			 n;

	c = loadd("Listen 80\n"
	    "Define backend 10.0.0.7:8080\n"
	    "<IfDefine SSL>\nServerName ssl.example.com\n</IfDefine>\n"
	    "<IfDefine !SSL>\nServerName plain.example.com\n</IfDefine>\n"
	    "<IfDefine NOPE>\nThisIsNotADirective here\n</IfDefine>\n"
	    "ProxyPass / http://${backend}/\n"
	    "ProxyPass /u http://${UNDEFINED_GW_VAR}/\n", defs, 2, &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(c->main.server_name, "ssl.example.com");
	ck_assert_str_eq(c->main.proxypass->url, "http://10.0.0.7:8080/");
	ck_assert_str_eq(c->main.proxypass->next->url,
	    "http://${UNDEFINED_GW_VAR}/");
	ck_assert_str_eq(errs, "test.conf:13: warning: config variable "
	    "${UNDEFINED_GW_VAR} is not defined\n");
	conf_free(c);

	c = loadd("Listen 80\n<IfDefine SSL>\nServerName s\n</IfDefine>\n",
	    NULL, 0, &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_ptr_null(c->main.server_name);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * Include
 */

START_TEST(test_include)
{
	struct gw_config	*c;
	struct gw_proxypass	*pp;
	char			 sub[128], text[512];
	int			 n;

	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/sites", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put("conf.d/20-b.conf", "ProxyPass /b http://b/\n");
	put("conf.d/10-a.conf", "ProxyPass /a http://a/\n");
	put("conf.d/notes.txt", "this is not read\n");
	put("sites/z", "ProxyPass /z http://z/\n");
	put("sites/y", "<VirtualHost *:80>\nServerName y\n</VirtualHost>\n");
	snprintf(text, sizeof(text), "ServerRoot %s\nListen 80\n"
	    "Include conf.d/*.conf\n"
	    "IncludeOptional nothing/*.conf\n"
	    "IncludeOptional missing.conf\n"
	    "Include %s/sites\n", dir, dir);
	c = load(text, &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	pp = c->main.proxypass;
	ck_assert_str_eq(pp->path, "/a");
	ck_assert_str_eq(pp->next->path, "/b");
	ck_assert_str_eq(pp->next->next->path, "/z");
	ck_assert_int_eq(c->nvhosts, 1);
	ck_assert_str_eq(c->vhosts->server_name, "y");
	conf_free(c);
}
END_TEST

START_TEST(test_include_errors)
{
	char	text[256];
	int	n;

	/* errors inside an included file name that file */
	put("inc.conf", "ProxyPass /a http://a/\nBogusDirective x\n"
	    "<VirtualHost *:80>\n");
	snprintf(text, sizeof(text), "ServerRoot %s\nListen 80\n"
	    "Include inc.conf\nInclude test.conf\n", dir);
	ck_assert_ptr_null(load(text, &n));
	ck_assert_str_eq(errs,
	    "test.conf:4: Include of test.conf makes a loop: that file "
	    "is already being read\n"
	    "inc.conf:2: unknown directive \"BogusDirective\"\n"
	    "inc.conf:3: <VirtualHost> section is not closed: expected "
	    "</VirtualHost> before the end of the file\n");
}
END_TEST

/*---------------------------------------------------------------------
 * Whole-file checks and -t warnings
 */

START_TEST(test_mpm_corrections)
{
	struct gw_config	*c;
	int			 n;

	c = load("Listen 80\nServerLimit 10\nMaxRequestWorkers 50\n"
	    "MinSpareServers 4\nMaxSpareServers 3\nStartServers 20\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_int_eq(c->max_request_workers, 10);
	ck_assert_int_eq(c->max_spare_servers, 5);
	ck_assert_int_eq(c->start_servers, 10);
	ck_assert_str_eq(errs,
	    "test.conf:6: warning: MaxRequestWorkers 50 is above ServerLimit "
	    "10; lowered to 10\n"
	    "test.conf:6: warning: MaxSpareServers 3 is not above "
	    "MinSpareServers 4; raised to 5\n");
	conf_free(c);

	c = load("Listen 80\nMaxClients 30\nMaxRequestsPerChild 1000\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_int_eq(c->max_request_workers, 30);
	ck_assert_int_eq(c->max_connections_per_child, 1000);
	conf_free(c);
}
END_TEST

START_TEST(test_sanity_warnings)
{
	struct gw_config	*c;
	char			*out;
	int			 n;

	/* <Proxy *> denying everyone while reverse proxying */
	c = load("Listen 80\n<Proxy *>\nOrder deny,allow\nDeny from all\n"
	    "</Proxy>\n<VirtualHost *:80>\nProxyPass / http://b/\n"
	    "</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	out = sanity(c, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(out, "test.conf:2: warning: <Proxy *> denies every "
	    "client, and it covers reverse-proxied requests too: every "
	    "ProxyPass request will get 403 (Apache does the same)\n");
	free(out);
	conf_free(c);

	/* the 2.4 spelling */
	c = load("Listen 80\nProxyPass / http://b/\n<Proxy *>\n"
	    "Require all denied\n</Proxy>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	out = sanity(c, &n);
	ck_assert_int_eq(n, 1);
	free(out);
	conf_free(c);

	/* open proxy */
	c = load("Listen 80\nProxyRequests On\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	out = sanity(c, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(out, "test.conf:2: warning: ProxyRequests On with "
	    "no <Proxy> access control: this is an open proxy that anyone "
	    "can use to reach any host\n");
	free(out);
	conf_free(c);

	/* nothing to say about a sound config */
	c = load("Listen 80\nProxyRequests On\n<Proxy *>\n"
	    "Require ip 10.0.0.0/8\n</Proxy>\nProxyPass /x http://b/\n"
	    "<Proxy http://b/private>\nOrder allow,deny\nAllow from 10.1\n"
	    "</Proxy>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	out = sanity(c, &n);
	ck_assert_int_eq(n, 0);
	ck_assert_str_eq(out, "");
	free(out);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * The table
 */

START_TEST(test_table_sorted_and_found)
{
	const struct gw_directive	*t;
	char				 lower[64];
	size_t				 n;

	t = directives_table(&n);
	ck_assert_uint_gt(n, 50);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ck_assert_msg(strcasecmp(t[i - 1].name, t[i].name) < 0,
			    "%s before %s", t[i - 1].name, t[i].name);
		ck_assert_ptr_eq(directives_find(t[i].name), &t[i]);
		for (size_t j = 0; j <= strlen(t[i].name); j++)
			lower[j] = (char)tolower((unsigned char)t[i].name[j]);
		ck_assert_ptr_eq(directives_find(lower), &t[i]);
		ck_assert_ptr_nonnull(t[i].help);
		ck_assert_ptr_nonnull(t[i].syntax);
	}
	ck_assert_ptr_null(directives_find("NoSuchThing"));
	ck_assert_str_eq(directives_suggest("ProxyPassRevers"),
	    "ProxyPassReverse");
	ck_assert_str_eq(directives_suggest("cachedirlevel"),
	    "CacheDirLevels");
	ck_assert_ptr_null(directives_suggest("Completely"));
}
END_TEST

/* A regular expression that does not compile is an error at its line. */
START_TEST(test_bad_regex)
{
	int	n;

	ck_assert_ptr_null(load("Listen 80\n<LocationMatch \"^/(a\">\n"
	    "</LocationMatch>\n<ProxyMatch \"[z-a]\">\n</ProxyMatch>\n",
	    &n));
	ck_assert_int_eq(n, 2);
	ck_assert_msg(strstr(errs, "test.conf:2: \"^/(a\": bad regular "
	    "expression: ") != NULL && strstr(errs, "test.conf:4: \"[z-a]\": "
	    "bad regular expression: ") != NULL, "%s", errs);
}
END_TEST

/* slurp - a whole file, NUL-ended (malloc), or the test fails. */
static char *
slurp(const char *path)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(getdelim(&text, &len, '\0', f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Every directive and section has its entry in gateway.conf(5). */
START_TEST(test_man_page_covers_table)
{
	const struct gw_directive	*t;
	const char			*s;
	char				*page, want[128];
	size_t				 n;

	page = slurp(GW_TEST_SRCDIR "/man/gateway.conf.5");
	t = directives_table(&n);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "\n.It Ic %s ", t[i].name);
		if (strstr(page, want) == NULL) {
			snprintf(want, sizeof(want), "\n.It Ic %s\n",
			    t[i].name);
			ck_assert_msg(strstr(page, want) != NULL,
			    "gateway.conf.5 has no entry for %s", t[i].name);
		}
	}
	for (size_t i = 0; (s = conf_section_name(i)) != NULL; i++) {
		snprintf(want, sizeof(want), "Ic <%s", s);
		ck_assert_msg(strstr(page, want) != NULL,
		    "gateway.conf.5 has no entry for <%s>", s);
	}
	free(page);
}
END_TEST

/* The shipped sample configuration is valid. */
START_TEST(test_sample_config)
{
	struct gw_config	*c;
	FILE			*err;
	size_t			 len;
	int			 n;

	err = open_memstream(&errs, &len);
	ck_assert_ptr_nonnull(err);
	c = conf_load(GW_TEST_SRCDIR "/gateway.conf", NULL, 0, err, &n);
	ck_assert_int_eq(fclose(err), 0);
	ck_assert_msg(c != NULL, "sample gateway.conf: %s", errs);
	ck_assert_str_eq(errs, "");
	ck_assert_ptr_nonnull(c->listeners);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * Access control (rules_access)
 */

static struct sockaddr_storage ss;

static const struct sockaddr *
ip(const char *s)
{
	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, s, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, s, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)&ss;
}

static const struct {
	const char	*body;		/* inside <Proxy *> */
	const char	*client;
	const char	*host;
	int		 allowed;
} access_cases[] = {
	{ "", "10.0.0.1", NULL, 1 },
	{ "Order deny,allow\nAllow from all\n", "10.0.0.1", NULL, 1 },
	{ "Order deny,allow\nDeny from all\n", "10.0.0.1", NULL, 0 },
	{ "Order deny,allow\nDeny from all\nAllow from 10.0.0.0/8\n",
	  "10.2.3.4", NULL, 1 },
	{ "Order deny,allow\nDeny from all\nAllow from 10.0.0.0/8\n",
	  "11.2.3.4", NULL, 0 },
	{ "Deny from 10.1\n", "10.1.200.3", NULL, 0 },
	{ "Deny from 10.1\n", "10.10.200.3", NULL, 1 },
	{ "Order allow,deny\n", "10.0.0.1", NULL, 0 },
	{ "Order allow,deny\nAllow from all\nDeny from 192.168.0.0/255.255.0.0\n",
	  "192.168.4.4", NULL, 0 },
	{ "Order allow,deny\nAllow from all\nDeny from 192.168.0.0/255.255.0.0\n",
	  "192.169.4.4", NULL, 1 },
	{ "Order allow,deny\nAllow from 127.0.0.1\n", "::ffff:127.0.0.1",
	  NULL, 1 },
	{ "Order allow,deny\nAllow from ::1\n", "::1", NULL, 1 },
	{ "Order allow,deny\nAllow from 2001:db8::/32\n", "2001:db8::5",
	  NULL, 1 },
	{ "Order allow,deny\nAllow from 2001:db8::/32\n", "2001:db9::5",
	  NULL, 0 },
	{ "Order allow,deny\nAllow from example.org\n", "1.2.3.4",
	  "www.example.org", 1 },
	{ "Order allow,deny\nAllow from example.org\n", "1.2.3.4",
	  "badexample.org", 0 },
	{ "Order allow,deny\nAllow from .example.org\n", "1.2.3.4",
	  "example.org", 1 },
	{ "Order Mutual-failure\nAllow from 10.0.0.0/8\nDeny from 10.9\n",
	  "10.9.0.1", NULL, 0 },
	{ "Require all granted\n", "10.0.0.1", NULL, 1 },
	{ "Require all denied\n", "10.0.0.1", NULL, 0 },
	{ "Require ip 10.0.0.0/8 192.168.1\n", "192.168.1.77", NULL, 1 },
	{ "Require ip 10.0.0.0/8 192.168.1\n", "192.168.2.77", NULL, 0 },
	{ "Require host example.org\n", "1.1.1.1", "a.example.org", 1 },
	{ "<RequireAll>\nRequire ip 10.0.0.0/8\nRequire not ip 10.1.0.0/16\n"
	  "</RequireAll>\n", "10.2.0.1", NULL, 1 },
	{ "<RequireAll>\nRequire ip 10.0.0.0/8\nRequire not ip 10.1.0.0/16\n"
	  "</RequireAll>\n", "10.1.0.1", NULL, 0 },
	{ "<RequireAny>\nRequire ip 10.0.0.1\n<RequireAll>\n"
	  "Require all granted\nRequire not ip 10.0.0.0/8\n</RequireAll>\n"
	  "</RequireAny>\n", "10.0.0.1", NULL, 1 },
	{ "<RequireAny>\nRequire ip 10.0.0.1\n<RequireAll>\n"
	  "Require all granted\nRequire not ip 10.0.0.0/8\n</RequireAll>\n"
	  "</RequireAny>\n", "10.0.0.2", NULL, 0 },
	{ "<RequireAny>\nRequire ip 10.0.0.1\n<RequireAll>\n"
	  "Require all granted\nRequire not ip 10.0.0.0/8\n</RequireAll>\n"
	  "</RequireAny>\n", "11.0.0.2", NULL, 1 },
	{ "Require all granted\n<RequireNone>\nRequire ip 10.0.0.1\n"
	  "</RequireNone>\n", "10.0.0.1", NULL, 1 },
};

START_TEST(test_access)
{
	struct gw_config	*c;
	char			*text;
	int			 n;

	ck_assert_int_gt(asprintf(&text, "Listen 80\n<Proxy *>\n%s</Proxy>\n",
	    access_cases[_i].body), 0);
	c = load(text, &n);
	free(text);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_int_eq(rules_access(&c->main.dirs->access,
	    ip(access_cases[_i].client), access_cases[_i].host),
	    access_cases[_i].allowed);
	/* a lookup is wanted exactly when a host name is in the rules */
	ck_assert_int_eq(rules_access_needs_host(&c->main.dirs->access),
	    strstr(access_cases[_i].body, "example.org") != NULL);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * Sections and vhosts
 */

START_TEST(test_sections)
{
	struct gw_config	*c;
	struct gw_dir		*d;
	struct gw_vhost		*v;
	int			 n;

	c = load("Listen 80\nListen [::1]:8443 https\nProxyPreserveHost On\n"
	    "<VirtualHost 10.0.0.1:80 [2001:db8::1]:80 _default_>\n"
	    "ServerName a.example.com:80\nServerAlias *.a.example.com b\n"
	    "<Location /app>\nProxyPass http://app:8080/\n"
	    "ProxyPassReverse http://app:8080/\nCacheDisable on\n"
	    "</Location>\n"
	    "<Proxy balancer://pool>\nBalancerMember http://m1:80 "
	    "loadfactor=2 route=m1\nBalancerMember http://m2:80 status=+H\n"
	    "ProxySet lbmethod=bybusyness stickysession=JSESSIONID\n"
	    "</Proxy>\n"
	    "<Location /server-status>\nSetHandler server-status\n"
	    "Require ip 127.0.0.1\n</Location>\n"
	    "</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(c->listeners->next->host, "::1");
	ck_assert_str_eq(c->listeners->next->proto, "https");
	v = c->vhosts;
	ck_assert_str_eq(v->addrs->host, "10.0.0.1");
	ck_assert_str_eq(v->addrs->next->host, "2001:db8::1");
	ck_assert_str_eq(v->addrs->next->port, "80");
	ck_assert_str_eq(v->addrs->next->next->host, "_default_");
	ck_assert_str_eq(v->addrs->next->next->port, "*");
	ck_assert_str_eq(v->aliases->s, "*.a.example.com");
	ck_assert_int_eq(v->preserve_host, 1);	/* inherited */
	d = v->dirs;
	ck_assert_int_eq(d->kind, GW_DIR_LOCATION);
	ck_assert_str_eq(d->proxypass->path, "/app");
	ck_assert_str_eq(d->proxypass->url, "http://app:8080/");
	ck_assert_str_eq(d->proxypassreverse->path, "/app");
	ck_assert_int_eq(d->cache->enable, 0);
	ck_assert_str_eq(d->cache->url, "/app");
	d = d->next;
	ck_assert_int_eq(d->kind, GW_DIR_PROXY);
	ck_assert_str_eq(d->members->url, "http://m1:80");
	ck_assert_str_eq(d->members->params->key, "loadfactor");
	ck_assert_str_eq(d->members->params->next->value, "m1");
	ck_assert_str_eq(d->members->next->params->value, "+H");
	ck_assert_str_eq(d->proxyset->value, "bybusyness");
	d = d->next;
	ck_assert_str_eq(d->handler, "server-status");
	ck_assert_int_eq(d->access.style, 24);
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * mod_cache knobs: values, defaults, inheritance, sections, warnings
 */

static const char knobs[] =
    "ServerRoot @DIR@\n"
    "Listen 80\n"
    "CacheDefaultExpire 600\n"
    "CacheMaxExpire 7200\n"
    "CacheLastModifiedFactor 0.25\n"
    "CacheIgnoreHeaders Set-Cookie X-Foo\n"
    "CacheIgnoreHeaders X-Bar\n"
    "CacheLock on\n"
    "CacheStaleOnError Off\n"
    "CacheMaxFileSize 5000000\n"
    "CacheKeyBaseURL https://cache.example.com:8443/\n"
    "CacheLockPath run/lock\n"
    "<VirtualHost *:80>\n"
    "  ServerName a.example.com\n"
    "  CacheMaxExpire 60\n"
    "  CacheMinExpire 10\n"
    "  CacheLastModifiedFactor 1\n"
    "  CacheIgnoreHeaders None\n"
    "  CacheStoreNoStore On\n"
    "  CacheStorePrivate On\n"
    "  CacheStoreExpired On\n"
    "  CacheIgnoreCacheControl On\n"
    "  CacheIgnoreNoLastMod On\n"
    "  CacheIgnoreQueryString On\n"
    "  CacheIgnoreURLSessionIdentifiers jsessionid PHPSESSID\n"
    "  CacheMinFileSize 0\n"
    "  CacheLock Off\n"
    "  CacheLockMaxAge 30\n"
    "  CacheQuickHandler off\n"
    "  CacheReadSize 1024\n"
    "  CacheReadTime 250\n"
    "</VirtualHost>\n"
    "<VirtualHost *:81>\n"
    "  ServerName b.example.com\n"
    "</VirtualHost>\n";

START_TEST(test_cache_knobs)
{
	struct gw_config		*c;
	const struct gw_cache_conf	*m, *a, *b;
	char				 path[128];
	int				 n;

	c = load(knobs, &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(errs, "");
	m = &c->main.cache_conf;
	a = &c->vhosts->cache_conf;
	b = &c->vhosts->next->cache_conf;

	/* the main server: what it sets, Apache's defaults for the rest */
	ck_assert_int_eq(m->default_expire, 600);
	ck_assert_int_eq(m->max_expire, 7200);
	ck_assert_int_eq(m->min_expire, 0);
	ck_assert(m->last_modified_factor == 0.25);
	ck_assert_str_eq(m->ignore_headers->s, "Set-Cookie");
	ck_assert_str_eq(m->ignore_headers->next->s, "X-Foo");
	ck_assert_str_eq(m->ignore_headers->next->next->s, "X-Bar");
	ck_assert_ptr_null(m->ignore_headers->next->next->next);
	ck_assert_int_eq(m->ignore_headers_set, 1);
	ck_assert_int_eq(m->lock, 1);
	ck_assert_int_eq(m->lock_max_age, 5);
	ck_assert_int_eq(m->stale_on_error, 0);
	ck_assert_int_eq(m->max_file_size, 5000000);
	ck_assert_int_eq(m->min_file_size, 1);
	ck_assert_str_eq(m->key_base_url, "https://cache.example.com:8443/");
	snprintf(path, sizeof(path), "%s/run/lock", dir);
	ck_assert_str_eq(m->lock_path, path);
	ck_assert_int_eq(m->store_no_store, 0);
	ck_assert_int_eq(m->store_private, 0);
	ck_assert_int_eq(m->store_expired, 0);
	ck_assert_int_eq(m->ignore_cache_control, 0);
	ck_assert_int_eq(m->ignore_no_last_mod, 0);
	ck_assert_int_eq(m->ignore_query_string, 0);
	ck_assert_ptr_null(m->ignore_url_session_identifiers);
	ck_assert_int_eq(m->ignore_url_session_identifiers_set, GW_UNSET);
	ck_assert_int_eq(m->quick_handler, 1);
	ck_assert_int_eq(m->read_size, 0);
	ck_assert_int_eq(m->read_time, 0);

	/* a vhost's own values win */
	ck_assert_int_eq(a->max_expire, 60);
	ck_assert_int_eq(a->min_expire, 10);
	ck_assert(a->last_modified_factor == 1.0);
	ck_assert_ptr_null(a->ignore_headers);		/* None */
	ck_assert_int_eq(a->ignore_headers_set, 1);
	ck_assert_int_eq(a->store_no_store, 1);
	ck_assert_int_eq(a->store_private, 1);
	ck_assert_int_eq(a->store_expired, 1);
	ck_assert_int_eq(a->ignore_cache_control, 1);
	ck_assert_int_eq(a->ignore_no_last_mod, 1);
	ck_assert_int_eq(a->ignore_query_string, 1);
	ck_assert_str_eq(a->ignore_url_session_identifiers->s, "jsessionid");
	ck_assert_str_eq(a->ignore_url_session_identifiers->next->s,
	    "PHPSESSID");
	ck_assert_int_eq(a->min_file_size, 0);
	ck_assert_int_eq(a->lock, 0);
	ck_assert_int_eq(a->lock_max_age, 30);
	ck_assert_int_eq(a->quick_handler, 0);
	ck_assert_int_eq(a->read_size, 1024);
	ck_assert_int_eq(a->read_time, 250);
	/* ... and what it leaves unset comes from the main server */
	ck_assert_int_eq(a->default_expire, 600);
	ck_assert_int_eq(a->stale_on_error, 0);
	ck_assert_int_eq(a->max_file_size, 5000000);
	ck_assert_str_eq(a->key_base_url, m->key_base_url);
	ck_assert_str_eq(a->lock_path, m->lock_path);

	/* a vhost that sets nothing has the main server's values */
	ck_assert_int_eq(b->default_expire, 600);
	ck_assert_int_eq(b->max_expire, 7200);
	ck_assert_int_eq(b->min_expire, 0);
	ck_assert(b->last_modified_factor == 0.25);
	ck_assert_ptr_eq(b->ignore_headers, m->ignore_headers);
	ck_assert_int_eq(b->ignore_headers_set, 1);
	ck_assert_ptr_null(b->ignore_url_session_identifiers);
	ck_assert_int_eq(b->lock, 1);
	ck_assert_int_eq(b->lock_max_age, 5);
	ck_assert_int_eq(b->stale_on_error, 0);
	ck_assert_int_eq(b->store_no_store, 0);
	ck_assert_int_eq(b->ignore_query_string, 0);
	ck_assert_int_eq(b->max_file_size, 5000000);
	ck_assert_int_eq(b->min_file_size, 1);
	ck_assert_int_eq(b->quick_handler, 1);
	ck_assert_str_eq(b->key_base_url, m->key_base_url);
	conf_free(c);
}
END_TEST

/* Every knob's default, with nothing set (Apache 2.4's). */
START_TEST(test_cache_knob_defaults)
{
	struct gw_config		*c;
	const struct gw_cache_conf	*k;
	int				 n;

	c = load("Listen 80\n<VirtualHost *:80>\n</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	for (int i = 0; i < 2; i++) {
		k = i == 0 ? &c->main.cache_conf : &c->vhosts->cache_conf;
		ck_assert_int_eq(k->default_expire, 3600);
		ck_assert_int_eq(k->max_expire, 86400);
		ck_assert_int_eq(k->min_expire, 0);
		ck_assert(k->last_modified_factor == 0.1);
		ck_assert_int_eq(k->ignore_cache_control, 0);
		ck_assert_int_eq(k->ignore_no_last_mod, 0);
		ck_assert_int_eq(k->ignore_query_string, 0);
		ck_assert_ptr_null(k->ignore_headers);
		ck_assert_ptr_null(k->ignore_url_session_identifiers);
		ck_assert_int_eq(k->store_no_store, 0);
		ck_assert_int_eq(k->store_private, 0);
		ck_assert_int_eq(k->store_expired, 0);
		ck_assert_int_eq(k->stale_on_error, 1);
		ck_assert_int_eq(k->max_file_size, 1000000);
		ck_assert_int_eq(k->min_file_size, 1);
		ck_assert_int_eq(k->lock, 0);
		ck_assert_int_eq(k->lock_max_age, 5);
		ck_assert_ptr_null(k->lock_path);
		ck_assert_int_eq(k->quick_handler, 1);
		ck_assert_ptr_null(k->key_base_url);
		ck_assert_int_eq(k->read_size, 0);
		ck_assert_int_eq(k->read_time, 0);
	}
	conf_free(c);
}
END_TEST

/*
 * In <Location>, <Directory> and <Proxy> the knobs Apache allows there
 * are kept in the section, unset otherwise, with a warning that the
 * server's value applies for now.
 */
START_TEST(test_cache_knob_sections)
{
	struct gw_config	*c;
	struct gw_dir		*d;
	int			 n;

	c = load("Listen 80\n"
	    "<Location /api/>\n"
	    "  CacheMaxExpire 30\n"
	    "  CacheEnable disk\n"
	    "  CacheStaleOnError off\n"
	    "</Location>\n"
	    "<VirtualHost *:80>\n"
	    "  <Proxy http://backend/>\n"
	    "    CacheMaxFileSize 10\n"
	    "  </Proxy>\n"
	    "  <Directory /srv>\n"
	    "    CacheLastModifiedFactor 0.5\n"
	    "  </Directory>\n"
	    "</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(errs,
	    "test.conf:12: warning: CacheLastModifiedFactor in <Directory> "
	    "has no effect: proxied requests are in no directory (use "
	    "<Location> or <Proxy>)\n");
	d = c->main.dirs;
	ck_assert_int_eq(d->cache_conf.max_expire, 30);
	ck_assert_int_eq(d->cache_conf.stale_on_error, 0);
	ck_assert_int_eq(d->cache_conf.min_expire, GW_UNSET);
	ck_assert_int_eq(d->cache_conf.max_file_size, GW_UNSET);
	ck_assert(d->cache_conf.last_modified_factor < 0);
	ck_assert_int_eq(d->cache->enable, 1);
	/* the servers keep their own */
	ck_assert_int_eq(c->main.cache_conf.max_expire, 86400);
	ck_assert_int_eq(c->main.cache_conf.stale_on_error, 1);
	d = c->vhosts->dirs;
	ck_assert_int_eq(d->cache_conf.max_file_size, 10);
	ck_assert_int_eq(d->cache_conf.max_expire, GW_UNSET);
	ck_assert(d->next->cache_conf.last_modified_factor == 0.5);
	ck_assert_int_eq(c->vhosts->cache_conf.max_file_size, 1000000);
	ck_assert(c->vhosts->cache_conf.last_modified_factor == 0.1);
	conf_free(c);
}
END_TEST

/* Legal but contradictory settings load, with a warning at their line. */
static const struct {
	const char	*text;
	const char	*want;
} knob_warnings[] = {
	{ "Listen 80\nCacheMinExpire 600\nCacheMaxExpire 60\n",
	  "test.conf:3: warning: CacheMinExpire (600) is above "
	  "CacheMaxExpire (60): every lifetime they bound becomes 60\n" },
	{ "Listen 80\nCacheMinExpire 100000\n",
	  "test.conf:2: warning: CacheMinExpire (100000) is above "
	  "CacheMaxExpire (86400): every lifetime they bound becomes "
	  "86400\n" },
	/* the vhost's own contradiction, at its line; told once */
	{ "Listen 80\nCacheMinExpire 60\n<VirtualHost *:80>\n"
	  "CacheMaxExpire 10\n</VirtualHost>\n<VirtualHost *:81>\n"
	  "</VirtualHost>\n",
	  "test.conf:4: warning: CacheMinExpire (60) is above "
	  "CacheMaxExpire (10): every lifetime they bound becomes 10\n" },
	/* the main server's, inherited, is told once, at its line */
	{ "Listen 80\nCacheMinFileSize 500\nCacheMaxFileSize 100\n"
	  "<VirtualHost *:80>\nCacheDefaultExpire 5\n</VirtualHost>\n",
	  "test.conf:3: warning: CacheMinFileSize (500) is above "
	  "CacheMaxFileSize (100): no response will be stored\n" },
	/* fixed in the vhost: no warning for it */
	{ "Listen 80\nCacheMinFileSize 500\nCacheMaxFileSize 100\n"
	  "<VirtualHost *:80>\nCacheMinFileSize 0\n</VirtualHost>\n",
	  "test.conf:3: warning: CacheMinFileSize (500) is above "
	  "CacheMaxFileSize (100): no response will be stored\n" },
	{ "Listen 80\n<Location /a>\nCacheMaxExpire 0\n</Location>\n"
	  "CacheMinExpire 5\n",
	  "test.conf:3: warning: CacheMinExpire (5) is above CacheMaxExpire "
	  "(0): every lifetime they bound becomes 0\n" },
	/* Apache drops names after None, in the same server */
	{ "Listen 80\nCacheIgnoreHeaders X-A None X-B\n"
	  "CacheIgnoreHeaders X-C\n",
	  "test.conf:2: warning: CacheIgnoreHeaders: \"X-B\" after None is "
	  "ignored (as in Apache)\n"
	  "test.conf:3: warning: CacheIgnoreHeaders: \"X-C\" after None is "
	  "ignored (as in Apache)\n" },
	/* ... but a vhost starts its own list */
	{ "Listen 80\nCacheIgnoreHeaders None\n<VirtualHost *:80>\n"
	  "CacheIgnoreHeaders X-A\n</VirtualHost>\n", "" },
};

START_TEST(test_cache_knob_warnings)
{
	struct gw_config	*c;
	int			 n;

	c = load(knob_warnings[_i].text, &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_int_eq(n, 0);
	ck_assert_str_eq(errs, knob_warnings[_i].want);
	conf_free(c);
}
END_TEST

/* CacheIgnoreHeaders and CacheIgnoreURLSessionIdentifiers lists. */
START_TEST(test_cache_knob_lists)
{
	struct gw_config	*c;
	struct gw_vhost		*v;
	int			 n;

	c = load("Listen 80\n"
	    "CacheIgnoreURLSessionIdentifiers jsessionid\n"
	    "CacheIgnoreHeaders X-A none\n"
	    "<VirtualHost *:80>\n"
	    "  CacheIgnoreHeaders X-B\n"
	    "  CacheIgnoreURLSessionIdentifiers None\n"
	    "</VirtualHost>\n"
	    "<VirtualHost *:81>\n"
	    "  CacheIgnoreHeaders None\n"
	    "</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "errors: %s", errs);
	ck_assert_str_eq(errs, "");
	ck_assert_ptr_null(c->main.cache_conf.ignore_headers);
	ck_assert_int_eq(c->main.cache_conf.ignore_headers_set, 1);
	ck_assert_str_eq(c->main.cache_conf.ignore_url_session_identifiers->s,
	    "jsessionid");
	v = c->vhosts;
	/* a vhost's list replaces the server's, it does not add to it */
	ck_assert_str_eq(v->cache_conf.ignore_headers->s, "X-B");
	ck_assert_ptr_null(v->cache_conf.ignore_headers->next);
	ck_assert_ptr_null(v->cache_conf.ignore_url_session_identifiers);
	ck_assert_int_eq(v->cache_conf.ignore_url_session_identifiers_set, 1);
	v = v->next;
	ck_assert_ptr_null(v->cache_conf.ignore_headers);
	ck_assert_str_eq(v->cache_conf.ignore_url_session_identifiers->s,
	    "jsessionid");
	conf_free(c);
}
END_TEST

/*---------------------------------------------------------------------
 * mod_ssl: what -t and every start check, with the certificates of
 * tests/tlsfix.c made in the temp dir
 */

static struct tlsfix fx;

static const struct {
	const char	*text;		/* after "Listen 80\n" */
	const char	*want;		/* the whole output, or its start */
	int		 prefix;	/* want is only the start */
} tls_bad[] = {
	{ "SSLEngine on\n",
	  "test.conf:2: SSLEngine on needs SSLCertificateFile in this "
	  "server\n", 0 },
	{ "<VirtualHost *:443>\nSSLEngine on\n</VirtualHost>\n",
	  "test.conf:3: SSLEngine on needs SSLCertificateFile in this "
	  "server\n", 0 },
	{ "SSLEngine on\nSSLCertificateFile @DIR@/a.crt\n"
	  "SSLCertificateKeyFile @DIR@/b.key\n",
	  "test.conf:4: the private key in b.key does not match the "
	  "certificate in a.crt\n", 0 },
	{ "SSLEngine on\nSSLCertificateFile @DIR@/a.crt\n",
	  "test.conf:3: cannot read a private key from a.crt: ", 1 },
	{ "SSLEngine on\nSSLCertificateFile @DIR@/a.key\n",
	  "test.conf:3: cannot load a certificate from a.key: ", 1 },
	{ "SSLEngine on\nSSLCertificateFile @DIR@/a.crt\n"
	  "SSLCertificateKeyFile @DIR@/a.key\n"
	  "SSLCertificateChainFile @DIR@/a.key\n",
	  "test.conf:5: a.key: no PEM certificate in it\n", 0 },
	{ "SSLEngine on\nSSLCertificateFile @DIR@/a.crt\n"
	  "SSLCertificateKeyFile @DIR@/enc.key\n",
	  "test.conf:4: the private key in enc.key is encrypted: remove its "
	  "passphrase (there is no SSLPassPhraseDialog)\n", 0 },
	{ "SSLCertificateKeyFile @DIR@/none.key\n",
	  "test.conf:2: SSLCertificateKeyFile: cannot read none.key: No "
	  "such file or directory\n", 0 },
	{ "SSLProxyCACertificatePath @DIR@/a.crt\n",
	  "test.conf:2: SSLProxyCACertificatePath: a.crt is not a "
	  "directory\n", 0 },
	{ "ProxyPass / https://a/\n",
	  "test.conf:2: ProxyPass https://a/: TLS to this backend needs "
	  "SSLProxyEngine On in this server\n", 0 },
	{ "<VirtualHost *:80>\n<Location /x>\nProxyPass https://a/\n"
	  "</Location>\n</VirtualHost>\n",
	  "test.conf:4: ProxyPass https://a/: TLS to this backend needs "
	  "SSLProxyEngine On in this server\n", 0 },
	{ "<Proxy balancer://c>\nBalancerMember https://a/\n</Proxy>\n",
	  "test.conf:3: BalancerMember https://a/: TLS to this backend needs "
	  "SSLProxyEngine On in this server\n", 0 },
	{ "SSLProtocol TLSv2\n",
	  "test.conf:2: SSLProtocol: unknown protocol \"TLSv2\" (all, SSLv3, "
	  "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)\n", 0 },
	{ "SSLProxyProtocol -all\n",
	  "test.conf:2: SSLProxyProtocol: no protocol left: TLS could never "
	  "be spoken\n", 0 },
	{ "SSLCipherSuite NO-SUCH-CIPHER\n",
	  "test.conf:2: SSLCipherSuite: OpenSSL accepts no cipher in "
	  "\"NO-SUCH-CIPHER\"\n", 0 },
	{ "SSLProxyCipherSuite TLSv1.3 TLS_NO_SUCH_SUITE\n",
	  "test.conf:2: SSLProxyCipherSuite: OpenSSL accepts no cipher suite "
	  "in \"TLS_NO_SUCH_SUITE\"\n", 0 },
	{ "SSLCipherSuite TLSv1.4 HIGH\n",
	  "test.conf:2: SSLCipherSuite: unknown protocol \"TLSv1.4\" (SSL or "
	  "TLSv1.3)\n", 0 },
	{ "SSLProxyEngine on\nSSLProxyVerify require\n",
	  "test.conf:3: SSLProxyVerify require needs "
	  "SSLProxyCACertificateFile or SSLProxyCACertificatePath\n", 0 },
	{ "SSLProxyVerify always\n",
	  "test.conf:2: SSLProxyVerify: takes none, optional, require or "
	  "optional_no_ca\n", 0 },
	{ "SSLProxyEngine on\nSSLProxyCACertificateFile @DIR@/a.key\n",
	  "test.conf:3: no CA certificate could be read from a.key: ", 1 },
	{ "SSLProxyEngine on\nSSLProxyMachineCertificateFile @DIR@/a.crt\n",
	  "test.conf:3: cannot read a private key from a.crt: ", 1 },
	{ "SSLProxyVerifyDepth -1\n",
	  "test.conf:2: SSLProxyVerifyDepth: -1 is out of range (0 to 100)\n",
	  0 },
};

/* tls_setup - the certificates, and an encrypted copy of a.key. */
static void
tls_setup(void)
{
	char	 cmd[512];

	ck_assert_int_eq(tlsfix_make(&fx, dir), 0);
	snprintf(cmd, sizeof(cmd), "openssl pkey -in '%s/a.key' -aes256 "
	    "-passout pass:secret -out '%s/enc.key' 2>/dev/null", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * Every configuration in gateway.conf(5)'s EXAMPLES (the literal blocks
 * that start with Listen) loads without an error, with its certificate
 * and key files replaced by the test's own.
 */
START_TEST(test_man_examples)
{
	char		*man, *p, *end, *block, *o, *text;
	int		 n, seen = 0;
	struct gw_config *c;
	static const struct {
		const char	*from;
		int		 key;
	} files[] = {
		{ "/etc/ssl/certs/www.example.com.pem", 0 },
		{ "/etc/ssl/private/www.example.com.key", 1 },
	};

	tls_setup();
	man = slurp(GW_TEST_SRCDIR "/man/gateway.conf.5");
	ck_assert_ptr_nonnull(p = strstr(man, "\n.Sh EXAMPLES\n"));
	ck_assert_ptr_nonnull(end = strstr(p, "\n.Sh SEE ALSO\n"));
	while ((p = strstr(p, ".Bd -literal -offset indent\nListen ")) !=
	    NULL && p < end) {
		p = strchr(p, '\n') + 1;
		block = strndup(p, (size_t)(strstr(p, "\n.Ed\n") - p + 1));
		ck_assert_ptr_nonnull(block);
		/* the file names, made real */
		text = calloc(1, strlen(block) + 4096);
		ck_assert_ptr_nonnull(text);
		o = text;
		for (const char *q = block; *q != '\0'; ) {
			size_t i;

			for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
				if (strncmp(q, files[i].from,
				    strlen(files[i].from)) == 0)
					break;
			if (i < sizeof(files) / sizeof(files[0])) {
				o += sprintf(o, "%s", files[i].key ? fx.a_key :
				    fx.a_crt);
				q += strlen(files[i].from);
			} else
				*o++ = *q++;
		}
		c = load(text, &n);
		ck_assert_msg(c != NULL && n == 0, "example %d: %s\n%s", seen,
		    errs, text);
		conf_free(c);
		free(text);
		free(block);
		seen++;
	}
	ck_assert_int_ge(seen, 3);
	free(man);
}
END_TEST

START_TEST(test_tls_bad)
{
	char	 text[1024];
	int	 n;

	tls_setup();
	snprintf(text, sizeof(text), "Listen 80\n%s", tls_bad[_i].text);
	ck_assert_ptr_null(load(text, &n));
	ck_assert_int_ge(n, 1);
	if (tls_bad[_i].prefix)
		ck_assert_msg(strncmp(errs, tls_bad[_i].want,
		    strlen(tls_bad[_i].want)) == 0 && strchr(errs, '\n') ==
		    errs + strlen(errs) - 1, "got \"%s\", want \"%s...\"", errs,
		    tls_bad[_i].want);
	else
		ck_assert_str_eq(errs, tls_bad[_i].want);
}
END_TEST

/* Several errors of TLS files, all reported in one pass, line order. */
START_TEST(test_tls_all_errors)
{
	int n;

	tls_setup();
	ck_assert_ptr_null(load("Listen 443\n"
	    "<VirtualHost *:443>\n"
	    "  SSLEngine on\n"
	    "  SSLCertificateFile @DIR@/a.crt\n"
	    "  SSLCertificateKeyFile @DIR@/b.key\n"
	    "</VirtualHost>\n"
	    "<VirtualHost *:443>\n"
	    "  SSLEngine on\n"
	    "</VirtualHost>\n"
	    "ProxyPass /x https://b/\n", &n));
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(errs,
	    "test.conf:5: the private key in b.key does not match the "
	    "certificate in a.crt\n"
	    "test.conf:8: SSLEngine on needs SSLCertificateFile in this "
	    "server\n"
	    "test.conf:10: ProxyPass https://b/: TLS to this backend needs "
	    "SSLProxyEngine On in this server\n");
}
END_TEST

/* What vhosts inherit is reported once, not once per vhost. */
START_TEST(test_tls_inherited_once)
{
	int n;

	tls_setup();
	ck_assert_ptr_null(load("Listen 443\n"
	    "SSLEngine on\n"
	    "SSLCertificateFile @DIR@/a.crt\n"
	    "SSLCertificateKeyFile @DIR@/b.key\n"
	    "SSLProxyEngine on\n"
	    "SSLProxyVerify require\n"
	    "<VirtualHost *:443>\n</VirtualHost>\n"
	    "<VirtualHost *:443>\n</VirtualHost>\n", &n));
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(errs,
	    "test.conf:4: the private key in b.key does not match the "
	    "certificate in a.crt\n"
	    "test.conf:6: SSLProxyVerify require needs "
	    "SSLProxyCACertificateFile or SSLProxyCACertificatePath\n");
}
END_TEST

/* Warnings: an expired certificate, a key others can read. */
START_TEST(test_tls_warnings)
{
	struct gw_config	*c;
	char			 want[256];
	int			 n;

	tls_setup();
	ck_assert_int_eq(chmod(fx.b_key, 0644), 0);
	c = load("Listen 443\n"
	    "<VirtualHost *:443>\n"
	    "  SSLEngine on\n"
	    "  SSLCertificateFile @DIR@/old.crt\n"
	    "  SSLCertificateKeyFile @DIR@/old.key\n"
	    "</VirtualHost>\n"
	    "<VirtualHost *:443>\n"
	    "  SSLEngine on\n"
	    "  SSLCertificateFile @DIR@/b.crt\n"
	    "  SSLCertificateKeyFile @DIR@/b.key\n"
	    "</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(strncmp(errs, "test.conf:4: warning: the certificate in "
	    "old.crt expired on 20", 62) == 0, "%s", errs);
	snprintf(want, sizeof(want), "\ntest.conf:10: warning: the private "
	    "key b.key is readable by others (mode 0644); chmod o-r it\n");
	ck_assert_msg(strstr(errs, want) != NULL && strstr(errs, want)[
	    strlen(want)] == '\0', "%s", errs);
	conf_free(c);
}
END_TEST

/* What a TLS configuration holds: defaults, inheritance, files, lines. */
START_TEST(test_tls_settings)
{
	struct gw_config	*c;
	const struct gw_vhost	*m, *v, *w;
	int			 n;

	tls_setup();
	c = load("Listen 443\n"
	    "SSLCertificateFile @DIR@/a.pem\n"
	    "SSLProxyEngine on\n"
	    "SSLProxyCACertificateFile @DIR@/ca.crt\n"
	    "SSLProxyVerify require\n"
	    "<VirtualHost *:443>\n"
	    "  SSLEngine on\n"
	    "  SSLProtocol all -TLSv1 -TLSv1.1\n"
	    "  SSLCipherSuite HIGH:!aNULL\n"
	    "  SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256\n"
	    "  SSLHonorCipherOrder on\n"
	    "</VirtualHost>\n"
	    "<VirtualHost *:443>\n"
	    "  SSLEngine on\n"
	    "  SSLCertificateFile @DIR@/b.crt\n"
	    "  SSLCertificateKeyFile @DIR@/b.key\n"
	    "  SSLCertificateChainFile @DIR@/ca.crt\n"
	    "  SSLProxyVerify none\n"
	    "  SSLProxyCheckPeerName off\n"
	    "  SSLProxyVerifyDepth 3\n"
	    "  SSLProxyProtocol TLSv1.3\n"
	    "  SSLProxyMachineCertificateFile @DIR@/client.pem\n"
	    "</VirtualHost>\n", &n);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_str_eq(errs, "");
	m = &c->main;
	v = c->vhosts;
	w = v->next;
	ck_assert_int_eq(m->ssl_engine, 0);
	ck_assert_int_eq(m->ssl_protocol, GW_TLS_V1_2 | GW_TLS_V1_3);
	ck_assert_int_eq(m->ssl_proxy_verify_depth, 1);
	ck_assert_int_eq(m->ssl_proxy_check_peer_expire, 1);
	ck_assert_int_eq(v->ssl_engine, 1);
	ck_assert_int_eq(v->ssl_engine_line, 7);
	ck_assert_int_eq(v->ssl_protocol, GW_TLS_V1_2 | GW_TLS_V1_3);
	ck_assert_str_eq(v->ssl_cipher_suite.value, "HIGH:!aNULL");
	ck_assert_int_eq(v->ssl_cipher_suite.line, 9);
	ck_assert_str_eq(v->ssl_cipher_suite_13.value,
	    "TLS_AES_128_GCM_SHA256");
	ck_assert_int_eq(v->ssl_honor_cipher_order, 1);
	/* inherited from the main server, where it was set */
	ck_assert_str_eq(v->ssl_cert_file.value, fx.both);
	ck_assert_int_eq(v->ssl_cert_file.line, 2);
	ck_assert_ptr_null(v->ssl_key_file.value);
	ck_assert_int_eq(v->ssl_proxy_engine, 1);
	ck_assert_int_eq(v->ssl_proxy_verify, GW_VERIFY_REQUIRE);
	ck_assert_int_eq(v->ssl_proxy_verify_line, 5);
	ck_assert_str_eq(w->ssl_key_file.value, fx.b_key);
	ck_assert_str_eq(w->ssl_chain_file.value, fx.ca);
	ck_assert_int_eq(w->ssl_honor_cipher_order, 0);
	ck_assert_int_eq(w->ssl_proxy_verify, GW_VERIFY_NONE);
	ck_assert_int_eq(w->ssl_proxy_check_peer_name, 0);
	ck_assert_int_eq(w->ssl_proxy_check_peer_cn, 1);
	ck_assert_int_eq(w->ssl_proxy_verify_depth, 3);
	ck_assert_int_eq(w->ssl_proxy_protocol, GW_TLS_V1_3);
	ck_assert_str_eq(w->ssl_proxy_machine_cert.value, fx.client);
	/* one client context for the same SSLProxy*, another for w */
	ck_assert_uint_ne(tls_client_id(c, m), 0);
	ck_assert_uint_eq(tls_client_id(c, v), tls_client_id(c, m));
	ck_assert_uint_ne(tls_client_id(c, w), 0);
	ck_assert_uint_ne(tls_client_id(c, w), tls_client_id(c, m));
	conf_free(c);
}
END_TEST

/* SSLProtocol's arithmetic, as mod_ssl's, with its warnings. */
START_TEST(test_tls_protocol_words)
{
	static const struct {
		const char	*words;
		int		 mask;
		const char	*warn;
	} cases[] = {
		{ "all", GW_TLS_ALL, NULL },
		{ "all -SSLv3", GW_TLS_ALL, NULL },
		{ "-all +TLSv1.3", GW_TLS_V1_3, NULL },
		{ "TLSv1.2", GW_TLS_V1_2, NULL },
		{ "+TLSv1.1 +TLSv1.3", GW_TLS_V1_1 | GW_TLS_V1_3, NULL },
		{ "all -TLSv1.2", GW_TLS_V1 | GW_TLS_V1_1 | GW_TLS_V1_3, NULL },
		{ "TLSv1.2 TLSv1.3", GW_TLS_V1_3, "test.conf:2: warning: "
		  "SSLProtocol: \"TLSv1.3\" replaces the protocols before it; "
		  "is a + or - missing?\n" },
		{ "+SSLv3 +TLSv1.2", GW_TLS_V1_2, "test.conf:2: warning: "
		  "SSLProtocol: SSLv3 is not supported and stays off\n" },
	};
	struct gw_config	*c;
	char			 text[256];
	int			 n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "Listen 80\nSSLProtocol %s\n",
		    cases[i].words);
		c = load(text, &n);
		ck_assert_msg(c != NULL, "%s: %s", cases[i].words, errs);
		ck_assert_int_eq(c->main.ssl_protocol, cases[i].mask);
		ck_assert_str_eq(errs, cases[i].warn ? cases[i].warn : "");
		conf_free(c);
	}
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_seed);
	tcase_add_test(tc, test_seed_unclosed);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_all_errors_one_pass);
	tcase_add_test(tc, test_lexical);
	tcase_add_test(tc, test_errordoc_kinds);
	tcase_add_test(tc, test_ifmodule);
	tcase_add_test(tc, test_ifdefine_and_vars);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_errors);
	tcase_add_test(tc, test_mpm_corrections);
	tcase_add_test(tc, test_sanity_warnings);
	tcase_add_test(tc, test_table_sorted_and_found);
	tcase_add_test(tc, test_man_page_covers_table);
	tcase_add_test(tc, test_bad_regex);
	tcase_add_test(tc, test_sample_config);
	tcase_add_loop_test(tc, test_access, 0,
	    sizeof(access_cases) / sizeof(access_cases[0]));
	tcase_add_test(tc, test_sections);
	tcase_add_test(tc, test_cache_knobs);
	tcase_add_test(tc, test_cache_knob_defaults);
	tcase_add_test(tc, test_cache_knob_sections);
	tcase_add_loop_test(tc, test_cache_knob_warnings, 0,
	    sizeof(knob_warnings) / sizeof(knob_warnings[0]));
	tcase_add_test(tc, test_cache_knob_lists);
	tcase_add_loop_test(tc, test_tls_bad, 0,
	    sizeof(tls_bad) / sizeof(tls_bad[0]));
	tcase_add_test(tc, test_tls_all_errors);
	tcase_add_test(tc, test_man_examples);
	tcase_add_test(tc, test_tls_inherited_once);
	tcase_add_test(tc, test_tls_warnings);
	tcase_add_test(tc, test_tls_settings);
	tcase_add_test(tc, test_tls_protocol_words);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
