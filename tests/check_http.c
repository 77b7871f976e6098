/*
 * check_http.c - the HTTP/1.1 parsers and the chunked decoder (http.c):
 * valid messages, and every framing ambiguity refused with its status.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const struct http_limits lim = { 8190, 8190, 100 };

static struct http_msg m;

static int
req(const char *s)
{
	return http_parse_request(s, strlen(s), &lim, &m);
}

/*---------------------------------------------------------------------
 * Requests that are fine
 */

START_TEST(test_simple_get)
{
	const char *s = "GET /index.html?a=1 HTTP/1.1\r\n"
	    "Host: www.example.com\r\n"
	    "User-Agent:  curl/8  \r\n"
	    "Accept: */*\r\n\r\nNEXT";

	ck_assert_int_eq(req(s), HTTP_OK);
	ck_assert_uint_eq(m.head_len, strlen(s) - 4);
	ck_assert(http_slice_eq(m.method, "GET"));
	ck_assert_int_eq(m.mcode, HTTP_M_GET);
	ck_assert(http_slice_eq(m.target, "/index.html?a=1"));
	ck_assert_int_eq(m.tform, HTTP_T_ORIGIN);
	ck_assert_int_eq(m.version, 11);
	ck_assert_int_eq(m.nheaders, 3);
	ck_assert_int_eq(m.host, 0);
	ck_assert(http_slice_eq(m.headers[1].value, "curl/8"));
	ck_assert_int_eq(m.body, HTTP_BODY_NONE);
}
END_TEST

START_TEST(test_incomplete)
{
	const char *full = "POST /x HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5\r\n\r\n";

	for (size_t n = 0; n < strlen(full); n++)
		ck_assert_int_eq(http_parse_request(full, n, &lim, &m),
		    HTTP_AGAIN);
	ck_assert_int_eq(req(full), HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(m.content_length, 5);
}
END_TEST

static const struct {
	const char	*text;
	int		 body;
	unsigned long	 length;
} good[] = {
	/* bare LF line ends (RFC 9112 2.2 allows them) */
	{ "GET / HTTP/1.1\nHost: a\n\n", HTTP_BODY_NONE, 0 },
	/* empty lines before the request line are skipped */
	{ "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BODY_NONE, 0 },
	{ "GET / HTTP/1.0\r\n\r\n", HTTP_BODY_NONE, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	  HTTP_BODY_CHUNKED, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
	  HTTP_BODY_CHUNKED, 0 },
	/* repeated identical lengths may be taken as one (RFC 9110 8.6) */
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
	  "Content-Length: 7\r\n\r\n", HTTP_BODY_LENGTH, 7 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n",
	  HTTP_BODY_LENGTH, 7 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	  HTTP_BODY_NONE, 0 },
	{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BODY_NONE, 0 },
	{ "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
	  HTTP_BODY_NONE, 0 },
	{ "GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n",
	  HTTP_BODY_NONE, 0 },
	{ "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", HTTP_BODY_NONE, 0 },
	{ "GET / HTTP/1.1\r\nHost:\r\n\r\n", HTTP_BODY_NONE, 0 },
	{ "BREW /pot HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
	  HTTP_BODY_NONE, 0 },
};

START_TEST(test_good)
{
	ck_assert_msg(req(good[_i].text) == HTTP_OK, "case %d: %s", _i,
	    m.error ? m.error : "?");
	ck_assert_int_eq(m.body, good[_i].body);
	ck_assert_uint_eq(m.content_length, good[_i].length);
}
END_TEST

START_TEST(test_connection_expect)
{
	ck_assert_int_eq(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: "
	    "keep-alive, Upgrade, X-Foo\r\nUpgrade: websocket\r\n"
	    "Expect: 100-continue\r\n\r\n"), HTTP_OK);
	ck_assert_uint_eq(m.connection, HTTP_CONN_KEEPALIVE |
	    HTTP_CONN_UPGRADE | HTTP_CONN_OTHER);
	ck_assert_int_eq(m.upgrade, 2);
	ck_assert_int_eq(m.expect_continue, 1);
	ck_assert_int_eq(req("GET / HTTP/1.0\r\nConnection: close\r\n\r\n"),
	    HTTP_OK);
	ck_assert_uint_eq(m.connection, HTTP_CONN_CLOSE);
	ck_assert_int_eq(m.upgrade, -1);
}
END_TEST

/*---------------------------------------------------------------------
 * Requests refused: each ambiguity or fault with its status
 */

static const struct {
	const char	*text;
	int		 status;
} bad[] = {
	/* framing ambiguities (smuggling vectors) */
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 5\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Content-Length: 6\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "99999999999999999999\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, "
	  "identity\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
	  "chunked\r\n\r\n", 501 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n"
	  "\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n"
	  "\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400 },
	{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
	  "\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n"
	  "\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: "
	  "chunked\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tz\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b"
	  "chunked\r\n\r\n", 400 },
	/* bare CR, NUL, controls */
	{ "GET / HTTP/1.1\rHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400 },
	{ "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	/* header names */
	{ "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nBad\"Name: x\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400 },
	/* Host */
	{ "GET / HTTP/1.1\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400 },
	/* request line */
	{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
	{ "GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400 },
	{ "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /\r\n\r\n", 400 },
	{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
	{ "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
	{ "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505 },
	/* expectations */
	{ "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417 },
};

START_TEST(test_bad)
{
	int r = req(bad[_i].text);

	ck_assert_msg(r == bad[_i].status, "case %d: got %d (%s), want %d",
	    _i, r, m.error ? m.error : "no error", bad[_i].status);
	ck_assert_ptr_nonnull(m.error);
}
END_TEST

START_TEST(test_limits)
{
	struct http_limits	 l = { 20, 16, 3 };
	char			 big[200];

	/* request line over LimitRequestLine: 414, complete or not */
	ck_assert_int_eq(http_parse_request("GET /aaaaaaaaaaaaaaaaaaaaaa "
	    "HTTP/1.1\r\n\r\n", 38, &l, &m), 414);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	ck_assert_int_eq(http_parse_request(big, sizeof(big), &l, &m), 414);
	/* a field over LimitRequestFieldSize: 431 */
	ck_assert_int_eq(http_parse_request("GET / HTTP/1.1\r\nHost: a\r\n"
	    "X-Long: 0123456789\r\n\r\n", 48, &l, &m), 431);
	/* more than LimitRequestFields: 431 */
	ck_assert_int_eq(http_parse_request("GET / HTTP/1.1\r\nHost: a\r\n"
	    "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 45, &l, &m), 431);
	ck_assert_int_eq(http_parse_request("GET / HTTP/1.1\r\nHost: a\r\n"
	    "A: 1\r\nB: 2\r\n\r\n", 39, &l, &m), HTTP_OK);
	/* an unfinished long field is refused before its end arrives */
	ck_assert_int_eq(http_parse_request("GET / HTTP/1.1\r\nHost: a\r\n"
	    "X: 0123456789012345678", 47, &l, &m), 431);
}
END_TEST

/*---------------------------------------------------------------------
 * Responses
 */

static int
resp(const char *s, enum http_method mcode)
{
	return http_parse_response(s, strlen(s), mcode, &m);
}

START_TEST(test_responses)
{
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
	    HTTP_M_GET), HTTP_OK);
	ck_assert_int_eq(m.status, 200);
	ck_assert(http_slice_eq(m.reason, "OK"));
	ck_assert_int_eq(m.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(m.content_length, 12);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
	    HTTP_M_HEAD), HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_NONE);
	ck_assert_int_eq(resp("HTTP/1.1 304 Not Modified\r\nContent-Length: "
	    "12\r\n\r\n", HTTP_M_GET), HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_NONE);
	ck_assert_int_eq(resp("HTTP/1.1 204 No Content\r\n\r\n", HTTP_M_GET),
	    HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_NONE);
	ck_assert_int_eq(resp("HTTP/1.1 100 Continue\r\n\r\n", HTTP_M_POST),
	    HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_NONE);
	ck_assert_int_eq(resp("HTTP/1.0 200 OK\r\n\r\n", HTTP_M_GET),
	    HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_CLOSE);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", HTTP_M_GET), HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_CHUNKED);
	/* chunked not final, or not there: read until close (9112 6.3) */
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "gzip\r\n\r\n", HTTP_M_GET), HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_CLOSE);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked, gzip\r\n\r\n", HTTP_M_GET), HTTP_OK);
	ck_assert_int_eq(m.body, HTTP_BODY_CLOSE);
	ck_assert_int_eq(resp("HTTP/1.1 404\r\n\r\n", HTTP_M_GET), HTTP_OK);
	ck_assert_int_eq(m.status, 404);
	ck_assert_uint_eq(m.reason.n, 0);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n",
	    HTTP_M_GET), HTTP_AGAIN);
}
END_TEST

static const char *const bad_resp[] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 4\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 099 Low\r\n\r\n",
	"HTTP/2 200 OK\r\n\r\n",
	"HTTP/1.1  200 OK\r\n\r\n",
	"ICY 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\x01\r\n\r\n",
};

START_TEST(test_bad_responses)
{
	ck_assert_int_eq(resp(bad_resp[_i], HTTP_M_GET), 502);
}
END_TEST

/*---------------------------------------------------------------------
 * Chunked bodies
 */

/* decode - the whole of s through the decoder, n bytes at a time. */
static int
decode(const char *s, size_t step, char *out, size_t *outlen)
{
	struct http_chunk	 c;
	size_t			 len = strlen(s), off = 0, chunk;
	const char		*data;
	size_t			 dlen;
	long			 r;

	http_chunk_init(&c);
	*outlen = 0;
	while (off < len && !http_chunk_done(&c)) {
		chunk = len - off < step ? len - off : step;
		r = http_chunk_feed(&c, s + off, chunk, &data, &dlen);
		if (r < 0)
			return -1;
		if (dlen > 0) {
			memcpy(out + *outlen, data, dlen);
			*outlen += dlen;
		}
		off += (size_t)r;
		ck_assert_int_le(off, len);
	}
	return http_chunk_done(&c) ? (int)off : 0;
}

START_TEST(test_chunked)
{
	const char	*body = "5\r\nhello\r\n7;ext=1;q=\"a;b\"\r\n, world"
	    "\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	char		 out[64];
	size_t		 n;

	for (size_t step = 1; step < 80; step++) {
		ck_assert_int_eq(decode(body, step, out, &n),
		    (int)strlen(body) - 4);
		ck_assert_uint_eq(n, 22);
		ck_assert(memcmp(out, "hello, world0123456789", 22) == 0);
	}
	ck_assert_int_eq(decode("0\r\n\r\n", 3, out, &n), 5);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static const char *const bad_chunks[] = {
	"5\nhello\r\n0\r\n\r\n",		/* bare LF after size */
	"5\r\nhello\n0\r\n\r\n",		/* bare LF after data */
	"5\r\nhelloX\r\n0\r\n\r\n",		/* data longer than size */
	"-5\r\nhello\r\n0\r\n\r\n",
	"0x5\r\nhello\r\n0\r\n\r\n",
	"5 \r\nhello\r\n0\r\n\r\n",		/* BWS without an extension */
	"\r\nhello\r\n0\r\n\r\n",		/* no size */
	"ffffffffffffffff0\r\n",		/* size overflow */
	"5;a=\"unterminated\r\nhello\r\n0\r\n\r\n",
	"5;a\x01\r\nhello\r\n0\r\n\r\n",
	"0\r\n folded: trailer\r\n\r\n",
	"0\r\nX: a\x01\r\n\r\n",
	"5\rhello\r\n",
};

START_TEST(test_range)
{
	uint64_t	f = 0, l = 0;

#define R(s, len)	http_range(s, strlen(s), len, &f, &l)
	ck_assert_int_eq(R("bytes=0-9", 100), 1);
	ck_assert(f == 0 && l == 9);
	ck_assert_int_eq(R("bytes=90-", 100), 1);
	ck_assert(f == 90 && l == 99);
	ck_assert_int_eq(R("bytes=-10", 100), 1);
	ck_assert(f == 90 && l == 99);
	ck_assert_int_eq(R("bytes=-500", 100), 1);
	ck_assert(f == 0 && l == 99);
	ck_assert_int_eq(R("bytes=50-5000", 100), 1);
	ck_assert(f == 50 && l == 99);
	ck_assert_int_eq(R("BYTES= 1-2 ", 100), 1);
	ck_assert(f == 1 && l == 2);
	/* unsatisfiable: 416 */
	ck_assert_int_eq(R("bytes=100-", 100), -1);
	ck_assert_int_eq(R("bytes=-0", 100), -1);
	ck_assert_int_eq(R("bytes=0-0", 0), -1);
	/* ignored: the whole representation */
	ck_assert_int_eq(R("bytes=0-1,5-6", 100), 0);
	ck_assert_int_eq(R("bytes=9-1", 100), 0);
	ck_assert_int_eq(R("bytes=-", 100), 0);
	ck_assert_int_eq(R("items=0-1", 100), 0);
	ck_assert_int_eq(R("bytes=a-b", 100), 0);
	ck_assert_int_eq(R("bytes=99999999999999999999999-", 100), -1);
#undef R
}
END_TEST

START_TEST(test_bad_chunks)
{
	char	out[64];
	size_t	n;

	ck_assert_int_eq(decode(bad_chunks[_i], 1, out, &n), -1);
	ck_assert_int_eq(decode(bad_chunks[_i], 100, out, &n), -1);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("http");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_simple_get);
	tcase_add_test(tc, test_incomplete);
	tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, test_connection_expect);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_responses);
	tcase_add_loop_test(tc, test_bad_responses, 0,
	    sizeof(bad_resp) / sizeof(bad_resp[0]));
	tcase_add_test(tc, test_chunked);
	tcase_add_test(tc, test_range);
	tcase_add_loop_test(tc, test_bad_chunks, 0,
	    sizeof(bad_chunks) / sizeof(bad_chunks[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(http_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
