/*
 * check_accesslog.c - the access log (accesslog.c): every escape and
 * status filter against a synthetic request record, Apache's escaping,
 * exact CLF and combined lines, format errors, and the targets on real
 * files and pipes in a temp directory (vhost routing, env= conditions,
 * reopening after a rename, a piped logger restarted on its pipe).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "arena.h"
#include "conf.h"
#include "http.h"
#include "logrec.h"

static const struct http_limits lim = { 8190, 8190, 100 };

static const char REQ[] =
    "GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1\r\n"
    "Host: www.example.com:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11) \"quoted\"\r\n"
    "Referer: http://ref.example/\r\n"
    "Cookie: a=1; SESSION = s3cr\"t ; b=2\r\n"
    "X-Multi: one\r\n"
    "X-Multi: two\r\n"
    "\r\n";

static const char RESP[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Set-Cookie: a=1\r\n"
    "Set-Cookie: b=2\r\n"
    "Content-Length: 1234\r\n"
    "Location: http://backend/x\r\n"
    "\r\n";

static struct http_msg	 reqm, respm;
static struct gw_config	 cfg;
static struct gw_vhost	 vh;
static struct gw_vaddr	 va;
static struct gw_logrec	 rec;

/*
 * base - the record every case starts from: a GET through vhost
 * www.example.com (<VirtualHost *:8080>) at 2000-10-10 20:55:36.123456
 * UTC, which is Apache's example time in a -0700 zone.
 */
static void
base(void)
{
	static const char *const env[] = { "HOME=/root", "dontlog=1", NULL };

	ck_assert_int_eq(setenv("TZ", "XST+7", 1), 0);
	tzset();
	memset(&cfg, 0, sizeof(cfg));
	memset(&vh, 0, sizeof(vh));
	memset(&va, 0, sizeof(va));
	cfg.main.server_name = "main.example.com:8000";
	va.host = "*";
	va.port = "8080";
	vh.addrs = &va;
	vh.server_name = "www.example.com";
	cfg.vhosts = &vh;
	cfg.nvhosts = 1;
	ck_assert_int_eq(http_parse_request(REQ, strlen(REQ), &lim, &reqm),
	    HTTP_OK);
	ck_assert_int_eq(http_parse_response(RESP, strlen(RESP), HTTP_M_GET,
	    &respm), HTTP_OK);
	memset(&rec, 0, sizeof(rec));
	rec.cfg = &cfg;
	rec.vhost = &vh;
	rec.req = &reqm;
	rec.resp = &respm;
	rec.request_line = REQ;
	rec.request_line_len = (size_t)(strchr(REQ, '\r') - REQ);
	rec.peer_ip = "192.0.2.7";
	rec.peer_port = 54321;
	rec.local_ip = "192.0.2.1";
	rec.local_port = 8080;
	rec.host = "www.example.com:8080";
	rec.uri_path = "/a b/c";
	rec.query = strchr(REQ, '?') + 1;
	rec.query_len = strlen("x=1&y=%22q%22");
	rec.status_original = 200;
	rec.status_final = 200;
	rec.body_bytes = 1234;
	rec.bytes_out = 1500;
	rec.bytes_in = 300;
	rec.start.tv_sec = 971211336;
	rec.start.tv_nsec = 123456789;
	rec.usec = 2501234;
	rec.keepalive_n = 3;
	rec.conn_status = '+';
	rec.ttfb_usec = 1500;
	rec.env = env;
}

/* fmt1 - rec formatted with fmt, without the '\n' (static buffer). */
static const char *
fmt1(const char *fmt)
{
	static char		 line[ACCESSLOG_LINE_MAX];
	struct accesslog_fmt	*f;
	char			 err[256];
	size_t			 n;

	f = accesslog_compile(fmt, err, sizeof(err));
	ck_assert_msg(f != NULL, "compile \"%s\": %s", fmt, err);
	n = accesslog_format(line, sizeof(line), f, &rec);
	accesslog_fmt_free(f);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n, strlen(line));
	ck_assert_int_eq(line[n - 1], '\n');
	line[n - 1] = '\0';
	return line;
}

/*---------------------------------------------------------------------
 * Every escape, table-driven
 */

static void m_nobody(void) { rec.body_bytes = 0; }
static void m_noquery(void) { rec.query = NULL; rec.query_len = 0; }
static void m_redirect(void) { rec.status_original = 302;
	rec.status_final = 500; }
static void m_404(void) { rec.status_final = 404; rec.status_original = 404; }
static void m_501(void) { rec.status_final = 501; rec.status_original = 200; }
static void m_user(void) { rec.user = "frank"; }
static void m_user_empty(void) { rec.user = ""; }
static void m_user_quote(void) { rec.user = "a\"b\\c"; }
static void m_aborted(void) { rec.conn_status = 'X'; }
static void m_closed(void) { rec.conn_status = '-'; }
static void m_nostatus(void) { rec.conn_status = 0; rec.status_final = 0;
	rec.status_original = 0; }
static void m_tls(void) { rec.tls_protocol = "TLSv1.3";
	rec.tls_cipher = "TLS_AES_128_GCM_SHA256"; }
static void m_location(void) { rec.location = "https://www.example.com/x"; }
static void m_ctype(void) { rec.ctype = "application/json ; charset=x"; }
static void m_noresp(void) { rec.resp = NULL; }
static void m_nohead(void) { rec.req = NULL; rec.resp = NULL;
	rec.uri_path = NULL; }
static void m_noline(void) { rec.req = NULL; rec.request_line = NULL;
	rec.request_line_len = 0; rec.uri_path = NULL; }
static void m_nohost(void) { rec.host = NULL; }
static void m_main(void) { rec.vhost = &cfg.main; }
static void m_noname(void) { vh.server_name = NULL; cfg.main.server_name =
	"https://secure.example"; va.port = "*"; }
static void m_starport(void) { va.port = "*"; }
static void m_ipv6(void) { rec.host = "[2001:db8::1]:8443"; }
static void m_password(void) { rec.request_line =
	"GET http://bob:hunter2@origin.example/x HTTP/1.1";
	rec.request_line_len = strlen(rec.request_line); }
static void m_ctl(void) { rec.request_line = "GET /\x01\x7f\xff\"\\\t\n\r\b\v"
	"\x1b HTTP/1.1"; rec.request_line_len = 25; }
static void m_http10(void) { reqm.version = 10; }
static void m_noenv(void) { rec.env = NULL; }
static void m_nottfb(void) { rec.ttfb_usec = 0; }

static const struct row {
	const char	*fmt;
	void		(*mod)(void);
	const char	*want;
} rows[] = {
	/* literals and %% */
	{ "%%", NULL, "%" },
	{ "100%% sure", NULL, "100% sure" },
	{ "a\\tb\\nc\\rd", NULL, "a\tb\nc\rd" },
	{ "back\\\\slash \\q \\\"", NULL, "back\\slash \\q \\\"" },
	{ "trailing\\", NULL, "trailing\\" },
	{ "", NULL, "" },
	/* addresses, names, ports */
	{ "%a", NULL, "192.0.2.7" },
	{ "%{c}a", NULL, "192.0.2.7" },
	{ "%h", NULL, "192.0.2.7" },
	{ "%{c}h", NULL, "192.0.2.7" },
	{ "%A", NULL, "192.0.2.1" },
	{ "%l", NULL, "-" },
	{ "%u", NULL, "-" },
	{ "%u", m_user, "frank" },
	{ "%u", m_user_empty, "\"\"" },
	{ "%u", m_user_quote, "a\\\"b\\\\c" },
	{ "%v", NULL, "www.example.com" },
	{ "%v", m_main, "main.example.com" },
	{ "%v", m_noname, "secure.example" },
	{ "%V", NULL, "www.example.com" },
	{ "%V", m_nohost, "www.example.com" },
	{ "%V", m_ipv6, "[2001:db8::1]" },
	{ "%p", NULL, "8080" },
	{ "%{canonical}p", NULL, "8080" },
	{ "%p", m_main, "8000" },
	{ "%p", m_starport, "8000" },
	{ "%p", m_noname, "443" },
	{ "%{local}p", NULL, "8080" },
	{ "%{remote}p", NULL, "54321" },
	{ "%{bogus}p", NULL, "bogus" },
	{ "%P", NULL, "@PID@" },
	{ "%{pid}P", NULL, "@PID@" },
	{ "%{tid}P", NULL, "@PID@" },
	{ "%{hextid}P", NULL, "@HEXPID@" },
	/* the request */
	{ "%r", NULL, "GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1" },
	{ "%r", m_noline, "-" },
	{ "%r", m_password,
	    "GET http://bob:XXXXXXXX@origin.example/x HTTP/1.1" },
	{ "%r", m_ctl, "GET /\\x01\\x7f\\xff\\\"\\\\\\t\\n\\r\\b\\v\\x1b"
	    " HTTP/1.1" },
	{ "%m", NULL, "GET" },
	{ "%m", m_nohead, "GET" },
	{ "%m", m_noline, "-" },
	{ "%H", NULL, "HTTP/1.1" },
	{ "%H", m_http10, "HTTP/1.0" },
	{ "%H", m_nohead, "HTTP/1.1" },
	{ "%H", m_noline, "-" },
	{ "%U", NULL, "/a b/c" },
	{ "%U", m_nohead, "-" },
	{ "%q", NULL, "?x=1&y=%22q%22" },
	{ "[%q]", m_noquery, "[]" },
	{ "%{User-Agent}i", NULL, "Mozilla/5.0 (X11) \\\"quoted\\\"" },
	{ "%{user-agent}i", NULL, "Mozilla/5.0 (X11) \\\"quoted\\\"" },
	{ "%{X-Multi}i", NULL, "one, two" },
	{ "%{X-None}i", NULL, "-" },
	{ "%{Referer}i", m_nohead, "-" },
	{ "%{SESSION}C", NULL, "s3cr\\\"t" },
	{ "%{session}C", NULL, "s3cr\\\"t" },
	{ "%{b}C", NULL, "2" },
	{ "%{nope}C", NULL, "-" },
	{ "%{HOME}e", NULL, "/root" },
	{ "%{home}e", NULL, "/root" },
	{ "%{HOME}e", m_noenv, "-" },
	{ "%{NOPE}e", NULL, "-" },
	/* the response */
	{ "%s", NULL, "200" },
	{ "%>s", NULL, "200" },
	{ "%s %<s %>s", m_redirect, "302 302 500" },
	{ "%s", m_nostatus, "-" },
	{ "%{Content-Type}o", NULL, "text/html" },
	{ "%{content-type}o", m_ctype, "application/json" },
	{ "%{Content-Type}o", m_noresp, "-" },
	{ "%{Set-Cookie}o", NULL, "a=1, b=2" },
	{ "%{Location}o", NULL, "http://backend/x" },
	{ "%{Location}o", m_location, "https://www.example.com/x" },
	{ "%{Content-Length}o", NULL, "1234" },
	{ "%{X-None}o", NULL, "-" },
	{ "%b", NULL, "1234" },
	{ "%b", m_nobody, "-" },
	{ "%B", NULL, "1234" },
	{ "%B", m_nobody, "0" },
	{ "%I %O %S", NULL, "300 1500 1800" },
	{ "%X", NULL, "+" },
	{ "%X", m_aborted, "X" },
	{ "%X", m_closed, "-" },
	{ "%X", m_nostatus, "-" },
	{ "%k", NULL, "3" },
	{ "%^FB", NULL, "1500" },
	{ "%^FB", m_nottfb, "-" },
	/* time */
	{ "%t", NULL, "[10/Oct/2000:13:55:36 -0700]" },
	{ "%{}t", NULL, "[10/Oct/2000:13:55:36 -0700]" },
	{ "%{begin}t", NULL, "[10/Oct/2000:13:55:36 -0700]" },
	{ "%{end}t", NULL, "[10/Oct/2000:13:55:38 -0700]" },
	{ "%{%Y-%m-%d %H:%M:%S}t", NULL, "2000-10-10 13:55:36" },
	{ "%{begin:%H:%M:%S}t", NULL, "13:55:36" },
	{ "%{end:%H:%M:%S}t", NULL, "13:55:38" },
	{ "%{sec}t", NULL, "971211336" },
	{ "%{msec}t", NULL, "971211336123" },
	{ "%{usec}t", NULL, "971211336123456" },
	{ "%{msec_frac}t", NULL, "123" },
	{ "%{usec_frac}t", NULL, "123456" },
	{ "%{end:sec}t", NULL, "971211338" },
	{ "%{end:msec_frac}t", NULL, "624" },
	{ "%{end:usec_frac}t", NULL, "624690" },
	{ "%{msecs}t", NULL, "msecs" },
	{ "%D", NULL, "2501234" },
	{ "%T", NULL, "2" },
	{ "%{s}T", NULL, "2" },
	{ "%{ms}T", NULL, "2501" },
	{ "%{us}T", NULL, "2501234" },
	{ "%{hours}T", NULL, "hours" },
	/* TLS */
	{ "%{SSL_PROTOCOL}x %{SSL_CIPHER}x %{HTTPS}x", NULL, "- - off" },
	{ "%{SSL_PROTOCOL}x %{SSL_CIPHER}x %{HTTPS}x", m_tls,
	    "TLSv1.3 TLS_AES_128_GCM_SHA256 on" },
	{ "%{version}c %{cipher}c %{errcode}c %{subjectdn}c", m_tls,
	    "TLSv1.3 TLS_AES_128_GCM_SHA256 - -" },
	{ "%{SSL_CLIENT_S_DN}x", m_tls, "-" },
	/* known to Apache, never known here */
	{ "%f %F %L %{c}L %R %{note}n %{x}^ti %{x}^to", NULL,
	    "- - - - - - - -" },
	/* status filters: on the final status */
	{ "%200{User-Agent}i", NULL, "Mozilla/5.0 (X11) \\\"quoted\\\"" },
	{ "%400,501{User-Agent}i", NULL, "-" },
	{ "%400,501{User-Agent}i", m_501, "Mozilla/5.0 (X11) \\\"quoted\\\"" },
	{ "%!200,304{Referer}i", NULL, "-" },
	{ "%!200,304{Referer}i", m_404, "http://ref.example/" },
	{ "%!!200{Referer}i", NULL, "http://ref.example/" },
	{ "%500s", m_redirect, "302" },
	{ "%500>s", m_redirect, "500" },
	{ "%302s", m_redirect, "-" },
	{ "%!200b", NULL, "-" },
	{ "%200,304b", NULL, "1234" },
	/* the two formats everyone uses */
	{ ACCESSLOG_CLF, NULL, "192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "
	    "\"GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1\" 200 1234" },
	{ ACCESSLOG_CLF " \"%{Referer}i\" \"%{User-agent}i\"", NULL,
	    "192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "
	    "\"GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1\" 200 1234 "
	    "\"http://ref.example/\" \"Mozilla/5.0 (X11) \\\"quoted\\\"\"" },
	{ "%v:%{local}p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\"", m_nohead,
	    "www.example.com:8080 192.0.2.7 - - [10/Oct/2000:13:55:36 -0700]"
	    " \"GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1\" 200 1500 \"-\"" },
};

START_TEST(test_escape_row)
{
	const struct row	*r = &rows[_i];
	char			 want[256];

	base();
	if (r->mod != NULL)
		r->mod();
	if (strcmp(r->want, "@PID@") == 0)
		snprintf(want, sizeof(want), "%ld", (long)getpid());
	else if (strcmp(r->want, "@HEXPID@") == 0)
		snprintf(want, sizeof(want), "%lx", (long)getpid());
	else
		snprintf(want, sizeof(want), "%s", r->want);
	ck_assert_msg(strcmp(fmt1(r->fmt), want) == 0,
	    "row %d: \"%s\" gave \"%s\", want \"%s\"", _i, r->fmt,
	    fmt1(r->fmt), want);
}
END_TEST

/*---------------------------------------------------------------------
 * Apache's documented example lines, byte for byte
 */

START_TEST(test_apache_examples)
{
	base();
	rec.req = NULL;
	rec.resp = NULL;
	rec.peer_ip = "127.0.0.1";
	rec.user = "frank";
	rec.request_line = "GET /apache_pb.gif HTTP/1.0";
	rec.request_line_len = strlen(rec.request_line);
	rec.body_bytes = 2326;
	ck_assert_str_eq(fmt1(ACCESSLOG_CLF), "127.0.0.1 - frank "
	    "[10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" "
	    "200 2326");
	/* combined needs the headers: a parsed head this time */
	{
		static const char h[] = "GET /apache_pb.gif HTTP/1.0\r\n"
		    "Referer: http://www.example.com/start.html\r\n"
		    "User-Agent: Mozilla/4.08 [en] (Win98; I ;Nav)\r\n\r\n";

		ck_assert_int_eq(http_parse_request(h, strlen(h), &lim,
		    &reqm), HTTP_OK);
		rec.req = &reqm;
	}
	ck_assert_str_eq(fmt1("%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" "
	    "\"%{User-agent}i\""), "127.0.0.1 - frank "
	    "[10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" "
	    "200 2326 \"http://www.example.com/start.html\" "
	    "\"Mozilla/4.08 [en] (Win98; I ;Nav)\"");
}
END_TEST

/* The sample gateway.conf's "combined" gives Apache's combined line. */
START_TEST(test_sample_conf)
{
	struct gw_config	*c;
	const struct gw_strlist	*l;
	struct accesslog_fmt	*f = NULL;
	char			 err[256], line[1024];
	int			 nerr = 0;

	c = conf_load(GW_TEST_SRCDIR "/gateway.conf", NULL, 0, stderr, &nerr);
	ck_assert_ptr_nonnull(c);
	for (l = c->log_formats; l != NULL; l = l->next)
		if (strncmp(l->s, "combined\t", 9) == 0) {
			accesslog_fmt_free(f);
			f = accesslog_compile(l->s + 9, err, sizeof(err));
			ck_assert_msg(f != NULL, "%s", err);
		}
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(c->main.custom_logs);
	ck_assert_ptr_nonnull(strstr(c->main.custom_logs->s,
	    "access_log\tcombined\t"));
	base();
	(void)accesslog_format(line, sizeof(line), f, &rec);
	ck_assert_str_eq(line, "192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "
	    "\"GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1\" 200 1234 "
	    "\"http://ref.example/\" \"Mozilla/5.0 (X11) \\\"quoted\\\"\"\n");
	accesslog_fmt_free(f);
	conf_free(c);
}
END_TEST

/* A zone east of Greenwich and a negative one with minutes. */
START_TEST(test_time_zones)
{
	base();
	ck_assert_int_eq(setenv("TZ", "YST-5:30", 1), 0);
	tzset();
	ck_assert_str_eq(fmt1("%t"), "[11/Oct/2000:02:25:36 +0530]");
	ck_assert_int_eq(setenv("TZ", "NST+3:30", 1), 0);
	tzset();
	ck_assert_str_eq(fmt1("%t"), "[10/Oct/2000:17:25:36 -0330]");
}
END_TEST

/*---------------------------------------------------------------------
 * Compile errors, with Apache's messages
 */

static const struct bad {
	const char	*fmt;
	const char	*err;		/* prefix of the message */
} bads[] = {
	{ "%Z", "Unrecognized LogFormat directive %Z" },
	{ "%h %j", "Unrecognized LogFormat directive %j" },
	{ "%^xy", "Unrecognized LogFormat directive %^" },
	{ "%{foo}Q", "Unrecognized LogFormat directive %Q" },
	{ "%", "Ran off end of LogFormat parsing args to some directive" },
	{ "abc %", "Ran off end of LogFormat parsing args" },
	{ "%{User-agent", "Ran off end of LogFormat parsing args" },
	{ "%{User-agent}", "Ran off end of LogFormat parsing args" },
	{ "%400", "Ran off end of LogFormat parsing args" },
	{ "%!", "Ran off end of LogFormat parsing args" },
	{ "%>", "Ran off end of LogFormat parsing args" },
};

START_TEST(test_compile_errors)
{
	struct accesslog_fmt	*f;
	char			 err[256];

	err[0] = '\0';
	f = accesslog_compile(bads[_i].fmt, err, sizeof(err));
	ck_assert_msg(f == NULL, "\"%s\" compiled", bads[_i].fmt);
	ck_assert_msg(strncmp(err, bads[_i].err, strlen(bads[_i].err)) == 0,
	    "\"%s\": got \"%s\"", bads[_i].fmt, err);
}
END_TEST

START_TEST(test_config_checks)
{
	struct gw_arena	*a = arena_new(1024);

	ck_assert_ptr_null(accesslog_check_format(a, ACCESSLOG_CLF));
	ck_assert_ptr_null(accesslog_check_format(a, "combined"));
	ck_assert_ptr_null(accesslog_check_format(a,
	    "%{X-Forwarded-For}i %^FB %<s %!200,304{Referer}i %{c}h %%"));
	ck_assert_str_eq(accesslog_check_format(a, "%h %y"),
	    "Unrecognized LogFormat directive %y");
	ck_assert_ptr_null(accesslog_check_condition(a, ""));
	ck_assert_ptr_null(accesslog_check_condition(a, "env=dontlog"));
	ck_assert_ptr_null(accesslog_check_condition(a, "ENV=!dontlog"));
	ck_assert_str_eq(accesslog_check_condition(a, "env="),
	    "missing environment variable name");
	ck_assert_str_eq(accesslog_check_condition(a, "env=!"),
	    "missing environment variable name");
	ck_assert_ptr_nonnull(strstr(accesslog_check_condition(a,
	    "expr=%{REQUEST_URI} =~ /x/"), "not supported"));
	ck_assert_str_eq(accesslog_check_condition(a, "foo"),
	    "error in condition clause");
	arena_free(a);
}
END_TEST

/*---------------------------------------------------------------------
 * Truncation
 */

START_TEST(test_truncation)
{
	struct accesslog_fmt	*f;
	char			 err[64], big[10000], out[64];
	size_t			 n, i;

	base();
	f = accesslog_compile("%r", err, sizeof(err));
	ck_assert_ptr_nonnull(f);
	/* too small for anything but the newline */
	memset(out, 'Z', sizeof(out));
	ck_assert_uint_eq(accesslog_format(out, 1, f, &rec), 0);
	ck_assert_int_eq(out[0], '\0');
	ck_assert_uint_eq(accesslog_format(out, 2, f, &rec), 1);
	ck_assert_str_eq(out, "\n");
	ck_assert_uint_eq(accesslog_format(out, 10, f, &rec), 9);
	ck_assert_str_eq(out, "GET /a%2\n");
	/* escapes are never cut: 7 '"' need 14 bytes, 13 fit */
	rec.request_line = "\"\"\"\"\"\"\"";
	rec.request_line_len = 7;
	ck_assert_uint_eq(accesslog_format(out, 15, f, &rec), 13);
	ck_assert_str_eq(out, "\\\"\\\"\\\"\\\"\\\"\\\"\n");
	/* a huge value stops at the buffer, still one line */
	for (i = 0; i < sizeof(big); i++)
		big[i] = i % 3 == 0 ? '\x01' : 'a';
	rec.request_line = big;
	rec.request_line_len = sizeof(big);
	n = accesslog_format(big + 0, 0, f, &rec);	/* cap 0: nothing */
	ck_assert_uint_eq(n, 0);
	{
		char line[ACCESSLOG_LINE_MAX];

		n = accesslog_format(line, sizeof(line), f, &rec);
		ck_assert_uint_le(n, sizeof(line) - 1);
		ck_assert_uint_gt(n, sizeof(line) - 6);
		ck_assert_int_eq(line[n - 1], '\n');
		ck_assert_ptr_eq(memchr(line, '\n', n), line + n - 1);
		/* whole units only: "\x01" or "a", none cut in half */
		for (i = 0; i < n - 1; )
			if (line[i] == 'a')
				i++;
			else {
				ck_assert_uint_le(i + 4, n - 1);
				ck_assert_int_eq(memcmp(line + i, "\\x01", 4),
				    0);
				i += 4;
			}
	}
	accesslog_fmt_free(f);
}
END_TEST

/*---------------------------------------------------------------------
 * Targets on real files
 */

static char	 dir[64];

static void
setup(void)
{
	char	 p[128];

	strcpy(dir, "/tmp/gwalogXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/logs", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	(void)umask(022);
}

static void
teardown(void)
{
	char	 cmd[128];

	accesslog_close(accesslog_swap(NULL));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* slurp - the whole file under dir (static buffer), "" if none. */
static const char *
slurp(const char *name)
{
	static char	 buf[16384];
	char		 path[256];
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* load - conf_load of text ("@DIR@": the temp dir) as dir/test.conf. */
static struct gw_config *
load(const char *text)
{
	struct gw_config	*c;
	char			 path[256], *full, *at, *next;
	FILE			*f;
	int			 nerr = 0;

	ck_assert_int_gt(asprintf(&full, "%s", text), 0);
	while ((at = strstr(full, "@DIR@")) != NULL) {
		*at = '\0';
		ck_assert_int_gt(asprintf(&next, "%s%s%s", full, dir, at + 5),
		    0);
		free(full);
		full = next;
	}
	snprintf(path, sizeof(path), "%s/test.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(full, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	free(full);
	c = conf_load(path, NULL, 0, stderr, &nerr);
	ck_assert_msg(c != NULL, "%d config error(s)", nerr);
	return c;
}

static const char ROUTING_CONF[] =
    "ServerRoot \"@DIR@\"\n"
    "Listen 127.0.0.1:0\n"
    "ServerName main.example\n"
    "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" "
    "\\\"%{User-agent}i\\\"\" combined\n"
    "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common\n"
    "LogFormat \"%v %>s\"\n"
    "CustomLog logs/access_log combined\n"
    "CustomLog logs/agent_log \"%{User-agent}i\"\n"
    "TransferLog logs/transfer_log\n"
    "CustomLog logs/skipped_log \"%U\" env=!dontlog\n"
    "<VirtualHost *:8080>\n"
    "    ServerName a.example\n"
    "    CustomLog logs/a_log COMMON\n"
    "    CustomLog logs/a_only \"%v %U\" env=HOME\n"
    "    CustomLog logs/access_log \"shared %v\"\n"
    "</VirtualHost>\n"
    "<VirtualHost *:8081>\n"
    "    ServerName b.example\n"
    "</VirtualHost>\n";

START_TEST(test_routing)
{
	struct gw_config	*c;
	struct accesslog	*al;
	char			 err[512];
	struct stat		 st;

	c = load(ROUTING_CONF);
	al = accesslog_open(c, err, sizeof(err));
	ck_assert_msg(al != NULL, "%s", err);
	ck_assert_ptr_null(accesslog_swap(al));
	base();
	rec.cfg = c;
	rec.req = NULL;		/* no User-Agent, no Referer */
	rec.vhost = &c->main;
	accesslog_request(&rec);
	rec.vhost = c->vhosts;			/* a.example */
	accesslog_request(&rec);
	rec.vhost = c->vhosts->next;		/* b.example: main's logs */
	rec.status_final = 404;
	accesslog_request(&rec);

	ck_assert_str_eq(slurp("logs/access_log"),
	    "192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] \"GET /a%20b/c?x=1&"
	    "y=%22q%22 HTTP/1.1\" 200 1234 \"-\" \"-\"\n"
	    "shared a.example\n"
	    "192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] \"GET /a%20b/c?x=1&"
	    "y=%22q%22 HTTP/1.1\" 404 1234 \"-\" \"-\"\n");
	ck_assert_str_eq(slurp("logs/agent_log"), "-\n-\n");
	ck_assert_str_eq(slurp("logs/transfer_log"),
	    "main.example 200\nb.example 404\n");
	ck_assert_str_eq(slurp("logs/skipped_log"), "");	/* dontlog=1 */
	ck_assert_str_eq(slurp("logs/a_log"),
	    "192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] \"GET /a%20b/c?x=1&"
	    "y=%22q%22 HTTP/1.1\" 200 1234\n");
	ck_assert_str_eq(slurp("logs/a_only"), "a.example /a b/c\n");
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/logs/a_log", dir);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_eq(st.st_mode & 07777, 0644);
	}
	/* without the env variable: env=!dontlog logs, env=HOME does not */
	rec.env = NULL;
	rec.vhost = &c->main;
	accesslog_request(&rec);
	rec.vhost = c->vhosts;
	accesslog_request(&rec);
	ck_assert_str_eq(slurp("logs/skipped_log"), "/a b/c\n");
	ck_assert_str_eq(slurp("logs/a_only"), "a.example /a b/c\n");
	accesslog_close(accesslog_swap(NULL));
	conf_free(c);
}
END_TEST

/* No LogFormat at all: TransferLog writes CLF; "CLF" is a nickname. */
START_TEST(test_defaults)
{
	struct gw_config	*c;
	struct accesslog	*al;
	char			 err[512];
	const char		*clf = "192.0.2.7 - - [10/Oct/2000:13:55:36 "
	    "-0700] \"GET /a%20b/c?x=1&y=%22q%22 HTTP/1.1\" 200 1234\n";

	c = load("ServerRoot \"@DIR@\"\nListen 127.0.0.1:0\n"
	    "TransferLog logs/t\nCustomLog logs/c clf\n"
	    "CustomLog logs/n combined\n");
	al = accesslog_open(c, err, sizeof(err));
	ck_assert_msg(al != NULL, "%s", err);
	(void)accesslog_swap(al);
	base();
	rec.cfg = c;
	rec.vhost = &c->main;
	accesslog_request(&rec);
	ck_assert_str_eq(slurp("logs/t"), clf);
	ck_assert_str_eq(slurp("logs/c"), clf);
	/* as in Apache, an undefined nickname is a format of its own */
	ck_assert_str_eq(slurp("logs/n"), "combined\n");
	accesslog_close(accesslog_swap(NULL));
	conf_free(c);
}
END_TEST

/* logrotate: rename, restart (a new set), the old set closed. */
START_TEST(test_reopen)
{
	struct gw_config	*c;
	struct accesslog	*al, *al2;
	char			 err[512], from[256], to[256];

	c = load("ServerRoot \"@DIR@\"\nListen 127.0.0.1:0\n"
	    "CustomLog logs/access_log \"%U %>s\"\n");
	snprintf(from, sizeof(from), "%s/logs/access_log", dir);
	{
		FILE *f = fopen(from, "w");	/* kept: logs are appended */

		ck_assert_ptr_nonnull(f);
		ck_assert_int_ge(fputs("earlier\n", f), 0);
		ck_assert_int_eq(fclose(f), 0);
	}
	ck_assert_ptr_nonnull(al = accesslog_open(c, err, sizeof(err)));
	(void)accesslog_swap(al);
	base();
	rec.cfg = c;
	rec.vhost = &c->main;
	accesslog_request(&rec);
	snprintf(to, sizeof(to), "%s/logs/access_log.1", dir);
	ck_assert_int_eq(rename(from, to), 0);
	rec.status_final = 201;
	accesslog_request(&rec);		/* still the old file */
	ck_assert_ptr_nonnull(al2 = accesslog_open(c, err, sizeof(err)));
	ck_assert_ptr_eq(accesslog_swap(al2), al);
	accesslog_close(al);
	rec.status_final = 202;
	accesslog_request(&rec);
	ck_assert_str_eq(slurp("logs/access_log.1"),
	    "earlier\n/a b/c 200\n/a b/c 201\n");
	ck_assert_str_eq(slurp("logs/access_log"), "/a b/c 202\n");
	accesslog_close(accesslog_swap(NULL));
	rec.status_final = 203;
	accesslog_request(&rec);		/* no set: nothing, no crash */
	ck_assert_str_eq(slurp("logs/access_log"), "/a b/c 202\n");
	conf_free(c);
}
END_TEST

/* A hand-made config, to give the entries a "file:line" (directives.c). */
START_TEST(test_open_errors)
{
	struct gw_config	 c;
	struct gw_strlist	 l, f;
	struct accesslog	*al;
	char			 err[512], entry[256], want[512];

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	c.main.custom_logs = &l;
	l.next = NULL;
	l.s = entry;
	snprintf(entry, sizeof(entry), "%s/nodir/x\tcommon\t\ttest.conf:7",
	    dir);
	ck_assert_ptr_null(accesslog_open(&c, err, sizeof(err)));
	snprintf(want, sizeof(want), "test.conf:7: CustomLog %s/nodir/x: "
	    "could not open the log file: %s", dir, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	/* without file:line (an older directives.c), still the path */
	snprintf(entry, sizeof(entry), "%s/nodir/x\t\t", dir);
	ck_assert_ptr_null(accesslog_open(&c, err, sizeof(err)));
	snprintf(want, sizeof(want), "TransferLog %s/nodir/x: could not "
	    "open the log file: %s", dir, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	/* a bad format, a bad nicknamed LogFormat, an expr= condition */
	snprintf(entry, sizeof(entry), "%s/logs/x\t%%h %%Z\t\tt.conf:3", dir);
	ck_assert_ptr_null(accesslog_open(&c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "t.conf:3: CustomLog "));
	ck_assert_ptr_nonnull(strstr(err, ": Unrecognized LogFormat "
	    "directive %Z"));
	c.log_formats = &f;
	f.s = "bad\t%y";
	snprintf(entry, sizeof(entry), "%s/logs/x\tBAD\t\tt.conf:4", dir);
	ck_assert_ptr_null(accesslog_open(&c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "%y (in LogFormat \"BAD\")"));
	snprintf(entry, sizeof(entry), "%s/logs/x\tcommon\texpr=1\tt.conf:5",
	    dir);
	ck_assert_ptr_null(accesslog_open(&c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "t.conf:5: CustomLog "));
	ck_assert_ptr_nonnull(strstr(err, "not supported"));
	/* Apache 2.4's syslog provider: a known facility, or an error */
	snprintf(entry, sizeof(entry), "syslog:nonsense\tcommon\t\tt.conf:8");
	ck_assert_ptr_null(accesslog_open(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "t.conf:8: CustomLog syslog:nonsense: unknown "
	    "syslog facility");
	snprintf(entry, sizeof(entry), "syslog:local1\tcommon\t\tt.conf:9");
	ck_assert_ptr_nonnull(al = accesslog_open(&c, err, sizeof(err)));
	accesslog_close(al);
	/* and the good one opens, with a tab inside its format */
	snprintf(entry, sizeof(entry), "%s/logs/x\t%%>s\t%%U\tenv=HOME\t"
	    "t.conf:6", dir);
	ck_assert_ptr_nonnull(al = accesslog_open(&c, err, sizeof(err)));
	(void)accesslog_swap(al);
	base();
	rec.cfg = &c;
	rec.vhost = &c.main;
	accesslog_request(&rec);
	ck_assert_str_eq(slurp("logs/x"), "200\t/a b/c\n");
}
END_TEST

/*---------------------------------------------------------------------
 * Piped loggers
 */

/* wait_for - poll until file name holds want (5 s at most). */
static int
wait_for(const char *name, const char *want)
{
	int	 i;

	for (i = 0; i < 500; i++) {
		if (strcmp(slurp(name), want) == 0)
			return 1;
		(void)usleep(10000);
	}
	return 0;
}

static long
read_pid(void)
{
	const char	*s = slurp("pid");

	return strchr(s, '\n') != NULL ? atol(s) : 0;
}

START_TEST(test_pipe)
{
	struct gw_config	*c;
	struct accesslog	*al;
	char			 err[512];
	long			 pid, pid2 = 0;
	int			 i;

	c = load("ServerRoot \"@DIR@\"\nListen 127.0.0.1:0\n"
	    "CustomLog \"|$echo $$ > @DIR@/pid; exec cat >> @DIR@/piped\" "
	    "\"%>s %U\"\n"
	    "CustomLog \"|cat >> @DIR@/plain\" \"%>s\"\n");
	ck_assert_ptr_nonnull(al = accesslog_open(c, err, sizeof(err)));
	(void)accesslog_swap(al);
	base();
	rec.cfg = c;
	rec.vhost = &c->main;
	accesslog_request(&rec);
	ck_assert(wait_for("piped", "200 /a b/c\n"));
	ck_assert(wait_for("plain", "200\n"));
	for (i = 0; i < 500 && (pid = read_pid()) == 0; i++)
		(void)usleep(10000);
	ck_assert_int_gt(pid, 1);

	/* kill the logger: lines wait in the pipe, a new one reads them */
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	for (i = 0; i < 500 && waitpid((pid_t)pid, NULL, WNOHANG) == 0; i++)
		(void)usleep(10000);
	rec.status_final = 201;
	accesslog_request(&rec);		/* nobody reading just now */
	ck_assert(accesslog_reap((pid_t)pid, SIGKILL));
	ck_assert(!accesslog_reap(1, 0));
	for (i = 0; i < 400; i++) {		/* backoff: about a second */
		accesslog_maintain();
		if ((pid2 = read_pid()) != pid && pid2 != 0)
			break;
		(void)usleep(10000);
	}
	ck_assert_int_ne(pid2, pid);
	ck_assert(wait_for("piped", "200 /a b/c\n201 /a b/c\n"));
	ck_assert(wait_for("plain", "200\n201\n"));

	/* a long line to a pipe is cut to one atomic write */
	{
		static char	 uri[10000];

		memset(uri, 'u', sizeof(uri) - 1);
		rec.uri_path = uri;
		rec.status_final = 202;
		accesslog_request(&rec);
		for (i = 0; i < 500; i++) {
			if (strlen(slurp("piped")) >= 22 + PIPE_BUF)
				break;
			(void)usleep(10000);
		}
		ck_assert_uint_eq(strlen(slurp("piped")), 22 + PIPE_BUF);
		ck_assert_int_eq(slurp("piped")[22 + PIPE_BUF - 1], '\n');
	}

	/* closing the set: the loggers see EOF and exit */
	accesslog_close(accesslog_swap(NULL));
	for (i = 0; i < 500 && kill((pid_t)pid2, 0) == 0; i++) {
		(void)waitpid((pid_t)pid2, NULL, WNOHANG);
		(void)usleep(10000);
	}
	ck_assert_int_eq(kill((pid_t)pid2, 0), -1);
	conf_free(c);
}
END_TEST

/* open_fds - how many descriptors this process has (Linux /proc). */
static int
open_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	/* counted here, not by a child process: a popen'd ls could see
	   the popen pipe's write end or not, depending on who ran first */
	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/*
 * A logger that never reads: the pipe fills, one request waits a
 * second for it, then lines are dropped at once for a while instead
 * of every request waiting.
 */
START_TEST(test_stuck_logger)
{
	struct gw_config	*c;
	struct accesslog	*al;
	char			 err[512], uri[4000];
	struct timespec		 t0, t1;
	long			 pid;
	int			 i;

	c = load("ServerRoot \"@DIR@\"\nListen 127.0.0.1:0\n"
	    "CustomLog \"|$echo $$ > @DIR@/pid; exec sleep 60\" \"%U\"\n");
	ck_assert_ptr_nonnull(al = accesslog_open(c, err, sizeof(err)));
	(void)accesslog_swap(al);
	base();
	rec.cfg = c;
	rec.vhost = &c->main;
	memset(uri, 'u', sizeof(uri) - 1);
	uri[sizeof(uri) - 1] = '\0';
	rec.uri_path = uri;
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	for (i = 0; i < 100; i++)	/* 400 KB into a 64 KB pipe */
		accesslog_request(&rec);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
	for (i = 0; i < 500 && (pid = read_pid()) == 0; i++)
		(void)usleep(10000);
	ck_assert_int_gt(pid, 1);
	ck_assert_int_eq(kill((pid_t)pid, SIGTERM), 0);
	accesslog_close(accesslog_swap(NULL));
	conf_free(c);
}
END_TEST

/* No ServerName anywhere: %v is the host name, as Apache's. */
START_TEST(test_hostname)
{
	struct gw_config	*c;
	struct accesslog	*al;
	char			 err[512], host[256], want[300];

	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	c = load("ServerRoot \"@DIR@\"\nListen 127.0.0.1:0\n"
	    "CustomLog logs/v \"%v\"\n");
	ck_assert_ptr_null(c->main.server_name);
	ck_assert_ptr_nonnull(al = accesslog_open(c, err, sizeof(err)));
	(void)accesslog_swap(al);
	base();
	rec.cfg = c;
	rec.vhost = &c->main;
	accesslog_request(&rec);
	snprintf(want, sizeof(want), "%s\n", host);
	ck_assert_str_eq(slurp("logs/v"), want);
	accesslog_close(accesslog_swap(NULL));
	conf_free(c);
}
END_TEST

/* In a worker: the read ends go, the write ends stay. */
START_TEST(test_child)
{
	struct gw_config	*c;
	struct accesslog	*al;
	char			 err[512];
	pid_t			 pid;
	int			 status;

	c = load("ServerRoot \"@DIR@\"\nListen 127.0.0.1:0\n"
	    "CustomLog \"|cat >> @DIR@/w\" \"%>s worker\"\n");
	ck_assert_ptr_nonnull(al = accesslog_open(c, err, sizeof(err)));
	(void)accesslog_swap(al);
	base();
	rec.cfg = c;
	rec.vhost = &c->main;
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		int before = open_fds();

		accesslog_child();
		/* the pipe's read end, and only it, is gone */
		if (before == -1 || open_fds() != before - 1)
			_exit(2);
		accesslog_request(&rec);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x", status);
	ck_assert(wait_for("w", "200 worker\n"));
	accesslog_close(accesslog_swap(NULL));
	conf_free(c);
}
END_TEST

static Suite *
accesslog_suite(void)
{
	Suite	*s = suite_create("accesslog");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_loop_test(tc, test_escape_row, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_apache_examples);
	tcase_add_test(tc, test_sample_conf);
	tcase_add_test(tc, test_time_zones);
	tcase_add_loop_test(tc, test_compile_errors, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_config_checks);
	tcase_add_test(tc, test_truncation);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("targets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_routing);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_pipe);
	tcase_add_test(tc, test_child);
	tcase_add_test(tc, test_stuck_logger);
	tcase_add_test(tc, test_hostname);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(accesslog_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
