/*
 * gatewayd.h - types and limits shared by every module of gatewayd.
 *
 * The configuration tree (struct gw_config and what hangs off it) is built
 * by conf.c/directives.c from an Apache-syntax file, lives in one arena
 * and is freed whole on reload.  Nothing here does I/O.
 */
#ifndef GATEWAYD_H
#define GATEWAYD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#define GW_NAME		"gatewayd"
#define GW_UNSET	(-1)		/* int directive not given */
#define GW_MAX_ARGS	64		/* arguments on one directive line */
#define GW_MAX_LINE	16384		/* one logical config line */
#define GW_MAX_INCLUDE_DEPTH 16
#define GW_SERVER_LIMIT_CAP 20000	/* hard cap on ServerLimit */

struct gw_arena;
struct tls_set;

/* Log levels, Apache's names and order. */
enum gw_loglevel {
	GW_LOG_EMERG, GW_LOG_ALERT, GW_LOG_CRIT, GW_LOG_ERR, GW_LOG_WARN,
	GW_LOG_NOTICE, GW_LOG_INFO, GW_LOG_DEBUG,
	GW_LOG_TRACE1, GW_LOG_TRACE2, GW_LOG_TRACE3, GW_LOG_TRACE4,
	GW_LOG_TRACE5, GW_LOG_TRACE6, GW_LOG_TRACE7, GW_LOG_TRACE8
};

/* A string list in file order. */
struct gw_strlist {
	struct gw_strlist	*next;
	char			*s;
};

/* Listen [IP:]port [protocol] */
struct gw_listen {
	struct gw_listen	*next;
	const char		*file;
	int			 line;
	char			*host;		/* NULL: every address */
	char			*port;		/* "0" asks for an ephemeral port */
	char			*proto;		/* "http", "https" or NULL */
	int			 fd;		/* opened by the master, -1 */
};

/* An address of a <VirtualHost addr[:port] ...>. */
struct gw_vaddr {
	struct gw_vaddr		*next;
	char			*host;		/* "*" or "_default_" or an IP */
	char			*port;		/* "*" when none given */
};

/* Allow/Deny from ... entries (mod_access_compat). */
enum gw_acl_kind { GW_ACL_ALL, GW_ACL_IP, GW_ACL_HOST, GW_ACL_ENV };
struct gw_acl {
	struct gw_acl		*next;
	enum gw_acl_kind	 kind;
	int			 family;	/* AF_INET or AF_INET6 for IP */
	unsigned char		 addr[16];
	unsigned char		 mask[16];
	char			*name;		/* host suffix or env name */
};

enum gw_order { GW_ORDER_UNSET = -1, GW_ORDER_DENY_ALLOW,
	GW_ORDER_ALLOW_DENY, GW_ORDER_MUTUAL_FAILURE };

/* Require (mod_authz_core): a tree of providers and containers. */
enum gw_req_kind { GW_REQ_ALL_GRANTED, GW_REQ_ALL_DENIED, GW_REQ_IP,
	GW_REQ_HOST, GW_REQ_ANY, GW_REQ_ALL, GW_REQ_NONE };
struct gw_require {
	struct gw_require	*next;		/* sibling */
	enum gw_req_kind	 kind;
	int			 negate;	/* Require not ... */
	struct gw_acl		*acl;		/* for IP/HOST */
	struct gw_require	*child;		/* for ANY/ALL/NONE */
};

struct gw_access {
	int			 style;		/* 0 none, 22 or 24 */
	enum gw_order		 order;
	struct gw_acl		*allow;
	struct gw_acl		*deny;
	struct gw_require	*require;	/* implicit RequireAny */
};

/* key=value parameters of ProxyPass and BalancerMember, in order. */
struct gw_param {
	struct gw_param		*next;
	char			*key;
	char			*value;
};

struct gw_proxypass {
	struct gw_proxypass	*next;
	const char		*file;
	int			 line;
	char			*path;		/* local prefix */
	char			*url;		/* NULL for "!" exclusions */
	int			 nocanon;
	int			 noquery;
	int			 retry;		/* seconds, default 60 */
	int			 timeout;	/* seconds, GW_UNSET: Timeout */
	int			 connectiontimeout; /* ms, GW_UNSET: timeout */
	int			 ttl;		/* seconds, GW_UNSET: none */
	int			 disablereuse;
	int			 keepalive;
	char			*upgrade;	/* "websocket" or NULL */
	struct gw_param		*params;	/* everything given, verbatim */
	struct gw_balancer	*balancer;	/* balancer:// URL, resolved */
	const char		*lbpath;	/* its path after the name */
};

struct gw_proxypassreverse {
	struct gw_proxypassreverse *next;
	char			*path;
	char			*url;
	struct gw_balancer	*balancer;	/* balancer:// URL, resolved */
	const char		*lbpath;	/* its path after the name */
};

/* ErrorDocument, classified as Apache does (see errordoc_kind). */
enum gw_errordoc_kind { GW_ERRDOC_LOCAL, GW_ERRDOC_URL, GW_ERRDOC_TEXT,
	GW_ERRDOC_DEFAULT };
struct gw_errordoc {
	struct gw_errordoc	*next;
	int			 status;
	enum gw_errordoc_kind	 kind;
	char			*doc;
};

enum gw_cache_type { GW_CACHE_DISK, GW_CACHE_MEM };
struct gw_cache_rule {
	struct gw_cache_rule	*next;
	int			 enable;	/* CacheEnable 1, CacheDisable 0 */
	enum gw_cache_type	 type;
	char			*url;		/* prefix or scheme://host/ */
};

struct gw_member {
	struct gw_member	*next;
	const char		*file;
	int			 line;
	char			*url;
	struct gw_param		*params;
};

/*
 * A load balancer (<Proxy balancer://name>), built from its section,
 * ProxySet and the ProxyPass lines that use it after parsing
 * (balancer.c).  Member status flags are Apache's letters.
 */
#define GW_BM_DISABLED	0x01		/* D */
#define GW_BM_STOPPED	0x02		/* S */
#define GW_BM_IGNORE	0x04		/* I: errors never take it out */
#define GW_BM_STANDBY	0x08		/* H (and R): when none else */
#define GW_BM_ERROR	0x10		/* E (and C): starts in error */
#define GW_BM_DRAIN	0x20		/* N: its sticky sessions only */
enum gw_lbmethod { GW_LB_BYREQUESTS, GW_LB_BYTRAFFIC, GW_LB_BYBUSYNESS };
enum gw_hcmethod { GW_HC_NONE, GW_HC_TCP, GW_HC_OPTIONS, GW_HC_HEAD,
	GW_HC_GET };
struct gw_bmember {
	const char		*file;
	int			 line;
	char			*url;		/* as given */
	char			*name;		/* url without a trailing / */
	char			*route;		/* route=, or NULL */
	char			*redirect;	/* redirect=, or NULL */
	int			 loadfactor;	/* 1..100 */
	int			 lbset;
	int			 flags;		/* GW_BM_* */
	int			 retry;		/* seconds */
	int			 timeout;	/* seconds, GW_UNSET */
	int			 connectiontimeout; /* ms, GW_UNSET */
	int			 ttl;		/* seconds, GW_UNSET */
	int			 disablereuse;
	int			 keepalive;
	enum gw_hcmethod	 hcmethod;
	char			*hcuri;		/* NULL: the member's URL */
	int			 hcinterval;	/* seconds */
	int			 hcpasses, hcfails;
	int			 slot;		/* shared state, -1: none */
};
struct gw_balancer {
	struct gw_balancer	*next;
	const char		*file;
	int			 line;
	char			*name;		/* "balancer://name" */
	enum gw_lbmethod	 lbmethod;
	char			*sticky_cookie;	/* stickysession=, or NULL */
	char			*sticky_param;	/* its |param part (or it) */
	int			 scolonpathdelim;
	int			 nofailover;
	int			 maxattempts;	/* failovers after the first */
	int			 forcerecovery;
	int			 failontimeout;
	int			 failonstatus[16];	/* 0-ended */
	int			 nmembers;
	struct gw_bmember	*members;	/* [nmembers] */
	int			 slot;		/* shared state, -1: none */
	void			*priv;		/* state of members without
						   a shared slot (balancer.c) */
};

/*
 * mod_cache and mod_cache_disk knobs (CacheDefaultExpire ...), for a
 * server (struct gw_vhost) or a <Location>, <Directory> or <Proxy>
 * section (struct gw_dir).  Field = directive without "Cache", in
 * snake_case.  Unset is GW_UNSET for numbers and flags, a negative
 * last_modified_factor, NULL for strings, *_set == GW_UNSET for the
 * lists (an empty list can be set: "None").  The main server holds
 * Apache's defaults; a <VirtualHost> inherits what it leaves unset
 * (conf.c); a section keeps only what it sets.
 */
struct gw_cache_conf {
	long long		 default_expire;	/* seconds */
	long long		 max_expire;		/* seconds */
	long long		 min_expire;		/* seconds */
	double			 last_modified_factor; /* < 0: unset */
	int			 ignore_cache_control;
	int			 ignore_no_last_mod;
	int			 ignore_query_string;
	struct gw_strlist	*ignore_headers;	/* NULL: None */
	int			 ignore_headers_set;
	struct gw_strlist	*ignore_url_session_identifiers;
	int			 ignore_url_session_identifiers_set;
	int			 store_no_store;
	int			 store_private;
	int			 store_expired;
	int			 stale_on_error;
	long long		 max_file_size;		/* bytes */
	long long		 min_file_size;		/* bytes */
	int			 lock;
	int			 lock_max_age;		/* seconds */
	char			*lock_path;		/* no effect */
	int			 quick_handler;	/* no effect */
	char			*key_base_url;
	long long		 read_size;		/* no effect */
	long long		 read_time;		/* ms, no effect */
	/* where Cache{Min,Max}Expire, Cache{Min,Max}FileSize were last set
	   in this server or section (not inherited), for warnings */
	const char		*expire_file;
	int			 expire_line;
	const char		*file_size_file;
	int			 file_size_line;
};

/*
 * A value a directive set (a file name, a cipher list) and where, for
 * messages about it after parsing (tls.c loads the files).  value NULL:
 * not set.
 */
struct gw_setting {
	char			*value;
	const char		*file;
	int			 line;
};

/* SSLProtocol and SSLProxyProtocol: a set of these. */
#define GW_TLS_SSLV3	0x01		/* accepted as a word, never used */
#define GW_TLS_V1	0x02
#define GW_TLS_V1_1	0x04
#define GW_TLS_V1_2	0x08
#define GW_TLS_V1_3	0x10
#define GW_TLS_ALL	(GW_TLS_V1 | GW_TLS_V1_1 | GW_TLS_V1_2 | GW_TLS_V1_3)
#define GW_TLS_DEFAULT	(GW_TLS_V1_2 | GW_TLS_V1_3)

/* SSLProxyVerify */
enum gw_verify { GW_VERIFY_NONE, GW_VERIFY_OPTIONAL, GW_VERIFY_REQUIRE,
	GW_VERIFY_OPTIONAL_NO_CA };

/* <Proxy match>, <Location path> and <Directory path> sections. */
enum gw_dir_kind { GW_DIR_PROXY, GW_DIR_LOCATION, GW_DIR_DIRECTORY };
struct gw_dir {
	struct gw_dir		*next;
	struct gw_dir		*next_re;	/* gw_config's regex_dirs */
	enum gw_dir_kind	 kind;
	const char		*file;
	int			 line;
	char			*match;
	int			 is_regex;	/* <ProxyMatch>/<LocationMatch> */
	void			*re;		/* its regex_t, compiled */
	struct gw_access	 access;
	int			 preserve_host;	/* GW_UNSET: the vhost's */
	struct gw_proxypass	*proxypass;	/* <Location>: at most one */
	struct gw_proxypassreverse *proxypassreverse;
	struct gw_errordoc	*errordocs;
	struct gw_cache_rule	*cache;
	struct gw_member	*members;	/* <Proxy balancer://..> */
	struct gw_param		*proxyset;
	struct gw_balancer	*balancer;	/* built from it */
	char			*handler;	/* SetHandler */
	struct gw_cache_conf	 cache_conf;	/* only what it sets */
};

/*
 * Settings that may appear in the main server and in <VirtualHost>.  A
 * vhost starts with every field unset (GW_UNSET or NULL) and inherits the
 * main server's after parsing (conf_merge).
 */
struct gw_vhost {
	struct gw_vhost		*next;
	const char		*file;
	int			 line;
	struct gw_vaddr		*addrs;		/* NULL for the main server */
	char			*server_name;
	struct gw_strlist	*aliases;
	char			*server_admin;
	char			*document_root;
	struct gw_strlist	*aliases_path;	/* Alias url-path file-path */
	int			 proxy_requests;
	const char		*proxy_requests_file;
	int			 proxy_requests_line;
	int			 preserve_host;
	int			 add_headers;
	int			 proxy_via;	/* 0 Off 1 On 2 Full 3 Block */
	int			 proxy_error_override;
	int			 error_override_codes[16];	/* 0-ended */
	int			 proxy_timeout;
	int			 allow_encoded_slashes;	/* 0 Off 1 On 2 NoDecode */
	struct gw_strlist	*cookie_domains;	/* "internal public" */
	struct gw_strlist	*cookie_paths;
	struct gw_proxypass	*proxypass;
	struct gw_proxypassreverse *proxypassreverse;
	struct gw_errordoc	*errordocs;
	struct gw_cache_rule	*cache;
	char			*cache_root;
	int			 cache_header;		/* CacheHeader */
	int			 cache_detail_header;	/* CacheDetailHeader */
	int			 cache_dir_levels;
	int			 cache_dir_length;
	const char		*cache_dir_file;	/* last CacheDir* line */
	int			 cache_dir_line;
	struct gw_cache_conf	 cache_conf;	/* mod_cache knobs */
	/* mod_ssl, facing clients (tls.c builds a context from these) */
	int			 ssl_engine;
	const char		*ssl_engine_file;	/* SSLEngine's line */
	int			 ssl_engine_line;
	struct gw_setting	 ssl_cert_file;
	struct gw_setting	 ssl_key_file;
	struct gw_setting	 ssl_chain_file;
	int			 ssl_protocol;		/* GW_TLS_* bits */
	struct gw_setting	 ssl_cipher_suite;	/* TLS 1.2 and below */
	struct gw_setting	 ssl_cipher_suite_13;	/* TLSv1.3 */
	int			 ssl_honor_cipher_order;
	/* mod_ssl, facing backends (SSLProxy*) */
	int			 ssl_proxy_engine;
	int			 ssl_proxy_verify;	/* enum gw_verify */
	const char		*ssl_proxy_verify_file;
	int			 ssl_proxy_verify_line;
	int			 ssl_proxy_verify_depth;
	struct gw_setting	 ssl_proxy_ca_file;
	struct gw_setting	 ssl_proxy_ca_path;
	int			 ssl_proxy_check_peer_name;
	int			 ssl_proxy_check_peer_cn;
	int			 ssl_proxy_check_peer_expire;
	int			 ssl_proxy_protocol;	/* GW_TLS_* bits */
	struct gw_setting	 ssl_proxy_cipher_suite;
	struct gw_setting	 ssl_proxy_cipher_suite_13;
	struct gw_setting	 ssl_proxy_machine_cert;
	struct gw_dir		*dirs;		/* <Proxy>, <Location> */
	char			*error_log;	/* per-vhost ErrorLog */
	int			 log_level;	/* per-vhost LogLevel, GW_UNSET:
						   the server's */
	struct gw_strlist	*custom_logs;	/* "file format" as given */
};

/* The whole configuration: one per (re)load, in one arena. */
struct gw_config {
	struct gw_arena		*arena;
	char			*file;		/* the -f file */
	char			*server_root;
	char			*pid_file;
	char			*error_log;
	enum gw_loglevel	 log_level;
	char			*user;
	char			*group;
	struct gw_listen	*listeners;
	struct gw_strlist	*defines;	/* -D names and Define */
	struct gw_strlist	*log_formats;	/* "format nickname" */

	/* prefork MPM; *_line say where each was set, 0 if defaulted */
	int			 start_servers;
	int			 min_spare_servers;
	int			 max_spare_servers;
	int			 max_request_workers;
	int			 server_limit;
	int			 max_connections_per_child;
	int			 listen_backlog;
	int			 graceful_shutdown_timeout;
	const char		*mpm_file;
	int			 mpm_line;

	/* HTTP limits and timeouts */
	int			 timeout;
	int			 keepalive;
	int			 max_keepalive_requests;
	int			 keepalive_timeout;
	int			 limit_request_line;
	int			 limit_request_field_size;
	int			 limit_request_fields;
	long long		 limit_request_body;
	/* RequestReadTimeout (mod_reqtimeout): seconds and bytes/s */
	int			 header_timeout;	/* 0: off */
	int			 header_timeout_max;
	int			 header_min_rate;
	int			 body_timeout;		/* 0: off */
	int			 body_timeout_max;
	int			 body_min_rate;

	/* mod_mem_cache (server-wide) */
	long long		 mcache_size;		/* KiB */
	long long		 mcache_max_object_count;
	long long		 mcache_min_object_size;	/* bytes */
	long long		 mcache_max_object_size;	/* bytes */
	int			 mcache_removal_gdsf;
	const char		*mcache_file;	/* where MCache* was last set */
	int			 mcache_line;

	struct tls_set		*tls;		/* TLS contexts (tls.c) */
	struct gw_balancer	*balancers;	/* every one, file order */
	struct gw_dir		*regex_dirs;	/* sections with a regex_t to
						   free (conf_free) */
	int			 extended_status;	/* ExtendedStatus */

	struct gw_vhost		 main;		/* main server */
	struct gw_vhost		*vhosts;	/* <VirtualHost>s, file order */
	int			 nvhosts;
};

#endif /* GATEWAYD_H */
