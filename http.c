/*
 * http.c - strict HTTP/1.1 head parsers and a chunked decoder (http.h).
 *
 * The grammar is RFC 9112's, read narrowly.  Refused, in requests (400
 * unless said): bare CR, NUL and other controls, obs-fold, white space
 * before a colon, invalid token characters, a request-target with space
 * or controls, several Host fields, Content-Length with
 * Transfer-Encoding, differing Content-Lengths, a Transfer-Encoding that
 * is not a lone final "chunked" (501 for other codings), any
 * Transfer-Encoding in HTTP/1.0; versions other than 1.0 and 1.1 (505);
 * a long request line (414) or header field, or too many (431).  A bare
 * LF ends a line, as RFC 9112 section 2.2 allows; the head is always
 * written anew before it is forwarded, so no hop sees the difference.
 * Responses get the same reading; a bad one is a 502.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http.h"

/*---------------------------------------------------------------------
 * Character classes
 */

int
http_is_tchar(int c)
{
	/* RFC 9110 5.6.2 */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB / obs-text */
static int
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int
http_slice_eq(struct http_slice s, const char *t)
{
	return strlen(t) == s.n && memcmp(s.p, t, s.n) == 0;
}

int
http_slice_caseeq(struct http_slice s, const char *t)
{
	return strlen(t) == s.n && strncasecmp(s.p, t, s.n) == 0;
}

/* http_find - index of the next header called name at or after from. */
int
http_find(const struct http_msg *m, const char *name, int from)
{
	for (int i = from; i < m->nheaders; i++)
		if (http_slice_caseeq(m->headers[i].name, name))
			return i;
	return -1;
}

/*---------------------------------------------------------------------
 * Lines
 */

/*
 * line_end - find the end of the line starting at p (before end).
 * Returns the LF's position, or NULL if none yet; *cr is set if a CR
 * precedes it.  A CR anywhere else makes *bad_cr 1.
 */
static const char *
line_end(const char *p, const char *end, int *cr, int *bad_cr)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *stop = lf ? lf : end;
	const char *c = memchr(p, '\r', (size_t)(stop - p));

	*bad_cr = 0;
	*cr = 0;
	if (c != NULL) {
		if (lf != NULL && c == lf - 1)
			*cr = 1;
		else if (c + 1 < stop || lf != NULL)
			*bad_cr = 1;	/* CR not right before LF */
	}
	return lf;
}

static int
fail(struct http_msg *m, int status, const char *why)
{
	m->error = why;
	return status;
}

/*---------------------------------------------------------------------
 * Header fields, shared by requests and responses
 */

/*
 * parse_fields - header lines from p until the empty line.  Returns
 * HTTP_OK with *endp after the empty line, HTTP_AGAIN, or a status.
 * bad is the status for a malformed line (400 or 502).
 */
static int
parse_fields(struct http_msg *m, const char *p, const char *end,
    size_t field_size, int max_fields, int bad, const char **endp)
{
	const char	*lf, *colon, *v, *ve;
	int		 cr, bad_cr;

	for (;;) {
		lf = line_end(p, end, &cr, &bad_cr);
		if (bad_cr)
			return fail(m, bad, "bare CR in a header field");
		if (lf == NULL) {
			if ((size_t)(end - p) > field_size)
				return fail(m, bad == 400 ? 431 : bad,
				    "header field too long");
			return HTTP_AGAIN;
		}
		ve = lf - cr;
		if (ve == p) {			/* the empty line */
			*endp = lf + 1;
			return HTTP_OK;
		}
		if ((size_t)(ve - p) > field_size)
			return fail(m, bad == 400 ? 431 : bad,
			    "header field too long");
		if (*p == ' ' || *p == '\t')
			return fail(m, bad, "obsolete line folding");
		for (colon = p; colon < ve && http_is_tchar((unsigned char)
		    *colon); colon++)
			;
		if (colon == ve || *colon != ':')
			return fail(m, bad, colon < ve && (*colon == ' ' ||
			    *colon == '\t') ? "white space before a colon" :
			    "invalid header field name");
		if (colon == p)
			return fail(m, bad, "empty header field name");
		for (v = colon + 1; v < ve; v++)
			if (!is_field_char((unsigned char)*v))
				return fail(m, bad, "control character in a "
				    "header field");
		if (m->nheaders >= max_fields)
			return fail(m, bad == 400 ? 431 : bad,
			    "too many header fields");
		for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		m->headers[m->nheaders].name.p = p;
		m->headers[m->nheaders].name.n = (size_t)(colon - p);
		m->headers[m->nheaders].value.p = v;
		m->headers[m->nheaders].value.n = (size_t)(ve - v);
		m->nheaders++;
		p = lf + 1;
	}
}

/*
 * next_token - the next element of a comma list in s (RFC 9110 5.6.1):
 * empty elements are skipped.  Returns 0 at the end.
 */
static int
next_token(struct http_slice *s, struct http_slice *tok)
{
	const char	*p = s->p, *end = s->p + s->n, *t;

	while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return 0;
	t = p;
	while (p < end && *p != ',')
		p++;
	tok->p = t;
	tok->n = (size_t)(p - t);
	while (tok->n > 0 && (t[tok->n - 1] == ' ' || t[tok->n - 1] == '\t'))
		tok->n--;
	s->p = p;
	s->n = (size_t)(end - p);
	return 1;
}

/* content_length - every Content-Length field and element agree. */
static int
content_length(struct http_msg *m, int bad, int *seen)
{
	struct http_slice	 list, tok;
	uint64_t		 v, first = 0;
	int			 i = -1;

	*seen = 0;
	while ((i = http_find(m, "Content-Length", i + 1)) >= 0) {
		list = m->headers[i].value;
		if (list.n == 0)
			return fail(m, bad, "empty Content-Length");
		while (next_token(&list, &tok)) {
			v = 0;
			if (tok.n == 0 || tok.n > 18)
				return fail(m, bad, "invalid Content-Length");
			for (size_t k = 0; k < tok.n; k++) {
				if (tok.p[k] < '0' || tok.p[k] > '9')
					return fail(m, bad,
					    "invalid Content-Length");
				v = v * 10 + (uint64_t)(tok.p[k] - '0');
			}
			if (*seen && v != first)
				return fail(m, bad, "differing Content-Length "
				    "values");
			first = v;
			*seen = 1;
		}
	}
	m->content_length = first;
	return HTTP_OK;
}

/*
 * transfer_encoding - 1 if the codings end with chunked and are only
 * chunked; 0 if there is no Transfer-Encoding; 2 if chunked is not the
 * last coding or comes twice; 3 if another coding precedes a final
 * chunked.
 */
static int
transfer_encoding(const struct http_msg *m)
{
	struct http_slice	 list, tok;
	int			 i = -1, n = 0, last_chunked = 0, chunked = 0;

	while ((i = http_find(m, "Transfer-Encoding", i + 1)) >= 0) {
		list = m->headers[i].value;
		while (next_token(&list, &tok)) {
			n++;
			last_chunked = http_slice_caseeq(tok, "chunked");
			chunked += last_chunked;
		}
		if (m->headers[i].value.n == 0)
			n++, last_chunked = 0;
	}
	if (n == 0)
		return 0;
	if (!last_chunked || chunked > 1)
		return 2;
	return (n == 1 && chunked == 1) ? 1 : 3;
}

static void
connection_tokens(struct http_msg *m)
{
	struct http_slice	 list, tok;
	int			 i = -1;

	while ((i = http_find(m, "Connection", i + 1)) >= 0) {
		list = m->headers[i].value;
		while (next_token(&list, &tok)) {
			if (http_slice_caseeq(tok, "close"))
				m->connection |= HTTP_CONN_CLOSE;
			else if (http_slice_caseeq(tok, "keep-alive"))
				m->connection |= HTTP_CONN_KEEPALIVE;
			else if (http_slice_caseeq(tok, "upgrade"))
				m->connection |= HTTP_CONN_UPGRADE;
			else
				m->connection |= HTTP_CONN_OTHER;
		}
	}
}

/* framing - Content-Length / Transfer-Encoding into m->body. */
static int
framing(struct http_msg *m, int bad, int is_request)
{
	int	te, cl, r;

	if ((r = content_length(m, bad, &cl)) != HTTP_OK)
		return r;
	te = transfer_encoding(m);
	if (te != 0 && cl)
		return fail(m, bad, "both Content-Length and "
		    "Transfer-Encoding");
	if (te != 0 && m->version == 10)
		return fail(m, bad, "Transfer-Encoding in an HTTP/1.0 "
		    "message");
	if (te == 1) {
		m->body = HTTP_BODY_CHUNKED;
		return HTTP_OK;
	}
	if (te != 0) {
		if (!is_request) {
			/* chunked last frames it, else read until close
			   (RFC 9112 6.3); the other codings are the
			   content's, which the cache keeps as it came */
			m->body = te == 3 ? HTTP_BODY_CHUNKED :
			    HTTP_BODY_CLOSE;
			return HTTP_OK;
		}
		return fail(m, te == 3 ? 501 : 400, te == 3 ?
		    "unsupported transfer coding" : "chunked is not the "
		    "final transfer coding");
	}
	if (cl) {
		m->body = m->content_length > 0 || !is_request ?
		    HTTP_BODY_LENGTH : HTTP_BODY_NONE;
		return HTTP_OK;
	}
	m->body = is_request ? HTTP_BODY_NONE : HTTP_BODY_CLOSE;
	return HTTP_OK;
}

/*---------------------------------------------------------------------
 * Requests
 */

static const struct {
	const char		*name;
	enum http_method	 code;
} methods[] = {
	{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD },
	{ "POST", HTTP_M_POST }, { "PUT", HTTP_M_PUT },
	{ "DELETE", HTTP_M_DELETE }, { "OPTIONS", HTTP_M_OPTIONS },
	{ "CONNECT", HTTP_M_CONNECT }, { "TRACE", HTTP_M_TRACE },
	{ "PATCH", HTTP_M_PATCH },
};

static int
parse_version(const char *p, size_t n, int *version)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -1;
	*version = (p[5] - '0') * 10 + (p[7] - '0');
	return 0;
}

/* host_ok - uri-host [":" port] (RFC 3986), possibly empty. */
static int
host_ok(struct http_slice h)
{
	const char	*p = h.p, *end = h.p + h.n;

	if (p < end && *p == '[') {
		while (p < end && *p != ']') {
			if (!(*p == '[' || *p == ':' || *p == '.' ||
			    (*p >= '0' && *p <= '9') || (*p >= 'a' &&
			    *p <= 'f') || (*p >= 'A' && *p <= 'F')))
				return 0;
			p++;
		}
		if (p == end)
			return 0;
		p++;
	} else {
		for (; p < end && *p != ':'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr("-._~%!$&'()*+,;=", *p) != NULL) ||
			    *p == '\0')
				return 0;
	}
	if (p == end)
		return 1;
	if (*p++ != ':')
		return 0;
	if (end - p > 5)
		return 0;
	for (; p < end; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int
target_form(struct http_msg *m)
{
	struct http_slice	 t = m->target;
	const char		*s;

	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return fail(m, 400, "invalid request-target");
	}
	if (m->mcode == HTTP_M_CONNECT) {
		m->tform = HTTP_T_AUTHORITY;
		if (t.n == 0 || t.p[0] == '/' || memchr(t.p, '/', t.n) ||
		    memchr(t.p, '@', t.n) || !host_ok(t))
			return fail(m, 400, "CONNECT needs host:port");
		return HTTP_OK;
	}
	if (t.n == 1 && t.p[0] == '*') {
		m->tform = HTTP_T_ASTERISK;
		if (m->mcode != HTTP_M_OPTIONS)
			return fail(m, 400, "'*' is only for OPTIONS");
		return HTTP_OK;
	}
	if (t.p[0] == '/') {
		m->tform = HTTP_T_ORIGIN;
		return HTTP_OK;
	}
	/* absolute-form: scheme ":" hier-part */
	for (s = t.p; s < t.p + t.n && *s != ':'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (s > t.p && ((*s >= '0' && *s <= '9') || *s == '+' ||
		    *s == '-' || *s == '.'))))
			return fail(m, 400, "invalid request-target");
	if (s == t.p || s == t.p + t.n)
		return fail(m, 400, "invalid request-target");
	m->tform = HTTP_T_ABSOLUTE;
	return HTTP_OK;
}

/* request_line - "method SP target SP version" in [p, e). */
static int
request_line(struct http_msg *m, const char *p, const char *e)
{
	const char	*sp1, *sp2;
	size_t		 i;

	for (sp1 = p; sp1 < e && http_is_tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == p || sp1 == e || *sp1 != ' ')
		return fail(m, 400, "invalid method");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return fail(m, 400, "malformed request line");
	m->method.p = p;
	m->method.n = (size_t)(sp1 - p);
	m->mcode = HTTP_M_OTHER;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (http_slice_eq(m->method, methods[i].name))
			m->mcode = methods[i].code;
	m->target.p = sp1 + 1;
	m->target.n = (size_t)(sp2 - sp1 - 1);
	if (parse_version(sp2 + 1, (size_t)(e - sp2 - 1), &m->version) < 0)
		return fail(m, 400, "malformed request line");
	if (m->version != 10 && m->version != 11)
		return fail(m, 505, "HTTP version not supported");
	return target_form(m);
}

static int
request_semantics(struct http_msg *m)
{
	struct http_slice	 list, tok;
	int			 r, i;

	if ((r = framing(m, 400, 1)) != HTTP_OK)
		return r;
	m->host = http_find(m, "Host", 0);
	if (m->host >= 0 && http_find(m, "Host", m->host + 1) >= 0)
		return fail(m, 400, "more than one Host");
	if (m->host < 0 && m->version == 11)
		return fail(m, 400, "no Host in an HTTP/1.1 request");
	if (m->host >= 0 && !host_ok(m->headers[m->host].value))
		return fail(m, 400, "invalid Host");
	connection_tokens(m);
	m->upgrade = http_find(m, "Upgrade", 0);
	for (i = -1; (i = http_find(m, "Expect", i + 1)) >= 0; ) {
		list = m->headers[i].value;
		while (next_token(&list, &tok)) {
			if (!http_slice_caseeq(tok, "100-continue"))
				return fail(m, 417, "unsupported expectation");
			m->expect_continue = m->version == 11;
		}
	}
	return HTTP_OK;
}

static void
msg_init(struct http_msg *m)
{
	m->nheaders = 0;
	m->body = HTTP_BODY_NONE;
	m->content_length = 0;
	m->host = m->upgrade = -1;
	m->connection = 0;
	m->expect_continue = 0;
	m->head_len = 0;
	m->status = 0;
	m->error = NULL;
	m->reason.p = NULL;
	m->reason.n = 0;
}

int
http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
    struct http_msg *m)
{
	const char	*p = buf, *end = buf + len, *lf, *next;
	int		 cr, bad_cr, r, maxf;

	msg_init(m);
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end &&
	    p[1] == '\n')))
		p += *p == '\r' ? 2 : 1;
	lf = line_end(p, end, &cr, &bad_cr);
	if (bad_cr)
		return fail(m, 400, "bare CR in the request line");
	if (lf == NULL) {
		if ((size_t)(end - p) > lim->request_line)
			return fail(m, 414, "request line too long");
		return HTTP_AGAIN;
	}
	if ((size_t)(lf - cr - p) > lim->request_line)
		return fail(m, 414, "request line too long");
	for (const char *c = p; c < lf - cr; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail(m, 400, "control character in the request "
			    "line");
	if ((r = request_line(m, p, lf - cr)) != HTTP_OK)
		return r;
	maxf = lim->fields > 0 && lim->fields < HTTP_MAX_HEADERS ?
	    lim->fields : HTTP_MAX_HEADERS;
	r = parse_fields(m, lf + 1, end, lim->field_size, maxf, 400, &next);
	if (r != HTTP_OK)
		return r;
	if ((r = request_semantics(m)) != HTTP_OK)
		return r;
	m->head_len = (size_t)(next - buf);
	return HTTP_OK;
}

/*---------------------------------------------------------------------
 * Responses
 */

static int
status_line(struct http_msg *m, const char *p, const char *e)
{
	const char *c;

	if (e - p < 12 || parse_version(p, 8, &m->version) < 0 || p[8] != ' ')
		return fail(m, 502, "malformed status line");
	if (m->version != 10 && m->version != 11)
		return fail(m, 502, "unsupported HTTP version from backend");
	for (c = p + 9; c < p + 12; c++)
		if (*c < '0' || *c > '9')
			return fail(m, 502, "malformed status code");
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (m->status < 100)
		return fail(m, 502, "malformed status code");
	if (e > p + 12 && p[12] != ' ')
		return fail(m, 502, "malformed status line");
	m->reason.p = e > p + 12 ? p + 13 : e;
	m->reason.n = (size_t)(e - m->reason.p);
	for (c = m->reason.p; c < e; c++)
		if (!is_field_char((unsigned char)*c))
			return fail(m, 502, "control character in the reason");
	return HTTP_OK;
}

int
http_parse_response(const char *buf, size_t len, enum http_method req,
    struct http_msg *m)
{
	const char	*end = buf + len, *lf, *next;
	int		 cr, bad_cr, r;

	msg_init(m);
	lf = line_end(buf, end, &cr, &bad_cr);
	if (bad_cr)
		return fail(m, 502, "bare CR in the status line");
	if (lf == NULL)
		return len > 8192 ? fail(m, 502, "status line too long") :
		    HTTP_AGAIN;
	if ((r = status_line(m, buf, lf - cr)) != HTTP_OK)
		return r;
	r = parse_fields(m, lf + 1, end, len + 1, HTTP_MAX_HEADERS, 502,
	    &next);
	if (r != HTTP_OK)
		return r;
	m->head_len = (size_t)(next - buf);
	connection_tokens(m);
	m->upgrade = http_find(m, "Upgrade", 0);
	if ((r = framing(m, 502, 0)) != HTTP_OK)
		return r;
	if (m->status < 200 || m->status == 204 || m->status == 304 ||
	    req == HTTP_M_HEAD || (req == HTTP_M_CONNECT && m->status < 300))
		m->body = HTTP_BODY_NONE;
	return HTTP_OK;
}

/*---------------------------------------------------------------------
 * Chunked bodies (RFC 9112 7.1)
 */

void
http_chunk_init(struct http_chunk *c)
{
	memset(c, 0, sizeof(*c));
	c->state = HC_SIZE;
}

int
http_chunk_done(const struct http_chunk *c)
{
	return c->state == HC_DONE;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * ext_char - one character of chunk extensions: BWS ";" BWS token
 * [BWS "=" BWS (token / quoted-string)], checked loosely for structure
 * and strictly for characters.  Returns -1 on a bad one.
 */
static int
ext_char(struct http_chunk *c, unsigned char ch)
{
	if (c->ext_quote) {
		if (c->ext_esc) {
			c->ext_esc = 0;
			return is_field_char(ch) ? 0 : -1;
		}
		if (ch == '\\')
			c->ext_esc = 1;
		else if (ch == '"')
			c->ext_quote = 0;
		else if (!is_field_char(ch))
			return -1;
		return 0;
	}
	if (ch == '"') {
		c->ext_quote = 1;
		return 0;
	}
	if (ch == ';' || ch == '=' || ch == ' ' || ch == '\t' ||
	    http_is_tchar(ch))
		return 0;
	return -1;
}

long
http_chunk_feed(struct http_chunk *c, const char *buf, size_t len,
    const char **data, size_t *datalen)
{
	size_t	i = 0, n;
	int	h;

	if (data != NULL) {
		*data = NULL;
		*datalen = 0;
	}
	while (i < len && c->state != HC_DONE) {
		unsigned char ch = (unsigned char)buf[i];

		switch (c->state) {
		case HC_SIZE:
			if ((h = hexval(ch)) >= 0) {
				if (++c->digits > 15)
					return -1;	/* absurd size */
				c->left = c->left * 16 + (uint64_t)h;
				i++;
				break;
			}
			if (c->digits == 0)
				return -1;
			if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = HC_EXT;	/* ch is read there */
				c->linelen = 0;
				c->ext_semi = 0;
				break;
			}
			if (ch == '\r') {
				c->state = HC_SIZE_LF;
				i++;
				break;
			}
			return -1;
		case HC_EXT:
			if (ch == '\r' && !c->ext_quote) {
				if (!c->ext_semi)	/* "5 \r\n" */
					return -1;
				c->state = HC_SIZE_LF;
				i++;
				break;
			}
			if (ch == ';' && !c->ext_quote)
				c->ext_semi = 1;
			if (++c->linelen > HTTP_CHUNK_MAX_LINE ||
			    ext_char(c, ch) < 0)
				return -1;
			i++;
			break;
		case HC_SIZE_LF:
			if (ch != '\n')
				return -1;
			i++;
			c->digits = 0;
			if (c->left == 0) {
				c->state = HC_TRAILER;
				c->linelen = 0;
				c->trailer_empty = 1;
			} else
				c->state = HC_DATA;
			break;
		case HC_DATA:
			n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			if (data != NULL) {
				*data = buf + i;
				*datalen = n;
			}
			c->left -= n;
			c->total += n;
			i += n;
			if (c->left == 0)
				c->state = HC_DATA_CR;
			if (data != NULL)
				return (long)i;
			break;
		case HC_DATA_CR:
			if (ch != '\r')
				return -1;
			c->state = HC_DATA_LF;
			i++;
			break;
		case HC_DATA_LF:
			if (ch != '\n')
				return -1;
			c->state = HC_SIZE;
			i++;
			break;
		case HC_TRAILER:
			/* trailer fields: checked as field lines, dropped */
			if (ch == '\r') {
				c->state = c->trailer_empty ? HC_FINAL_LF :
				    HC_TRAILER_LF;
				i++;
				break;
			}
			if (++c->linelen > HTTP_CHUNK_MAX_LINE ||
			    !is_field_char(ch) || (c->trailer_empty &&
			    (ch == ' ' || ch == '\t')))
				return -1;
			c->trailer_empty = 0;
			i++;
			break;
		case HC_TRAILER_LF:
			if (ch != '\n')
				return -1;
			c->state = HC_TRAILER;
			c->linelen = 0;
			c->trailer_empty = 1;
			i++;
			break;
		case HC_FINAL_LF:
			if (ch != '\n')
				return -1;
			c->state = HC_DONE;
			i++;
			break;
		case HC_DONE:
			break;
		}
	}
	return (long)i;
}

/*---------------------------------------------------------------------
 * Range (RFC 9110 14)
 */

/* digits - a run of DIGITs at *p into *v (saturating); 0 if none. */
static int
range_digits(const char **p, const char *end, uint64_t *v)
{
	const char	*q = *p;

	*v = 0;
	while (q < end && *q >= '0' && *q <= '9') {
		*v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX :
		    *v * 10 + (uint64_t)(*q - '0');
		q++;
	}
	if (q == *p)
		return 0;
	*p = q;
	return 1;
}

int
http_range(const char *v, size_t n, uint64_t len, uint64_t *first,
    uint64_t *last)
{
	const char	*p = v, *end = v + n;
	uint64_t	 a, b;
	int		 has_a, has_b;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - p < 6 || strncasecmp(p, "bytes=", 6) != 0)
		return 0;
	p += 6;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	has_a = range_digits(&p, end, &a);
	if (p == end || *p++ != '-')
		return 0;
	has_b = range_digits(&p, end, &b);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end)
		return 0;		/* several ranges, or junk */
	if (!has_a && !has_b)
		return 0;
	if (!has_a) {			/* suffix: the last b bytes */
		if (b == 0 || len == 0)
			return -1;
		*first = b >= len ? 0 : len - b;
		*last = len - 1;
		return 1;
	}
	if (has_b && b < a)
		return 0;		/* invalid: ignored */
	if (a >= len)
		return -1;
	*first = a;
	*last = !has_b || b >= len ? len - 1 : b;
	return 1;
}
