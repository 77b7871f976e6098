/*
 * http.h - HTTP/1.1 message parsing over a buffer (RFC 9110, 9112).
 *
 * Pure code: no I/O, no allocation.  A parsed head refers to the
 * caller's buffer by (pointer, length) slices.  The parsers are strict:
 * anything whose framing could be read two ways is refused, so that the
 * gateway never forwards a message that another hop might split
 * differently (request smuggling).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS	256	/* hard cap; LimitRequestFields below */

/* Results of the head parsers. */
#define HTTP_AGAIN		0	/* incomplete: read more */
#define HTTP_OK			1	/* a whole head; see head_len */
/* anything else is an HTTP status to answer with (400, 414, 431, ...) */

struct http_slice {
	const char	*p;
	size_t		 n;
};

struct http_header {
	struct http_slice	 name;
	struct http_slice	 value;
};

enum http_body { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED,
	HTTP_BODY_CLOSE };

enum http_method { HTTP_M_OTHER, HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST,
	HTTP_M_PUT, HTTP_M_DELETE, HTTP_M_OPTIONS, HTTP_M_CONNECT,
	HTTP_M_TRACE, HTTP_M_PATCH };

enum http_target { HTTP_T_ORIGIN, HTTP_T_ABSOLUTE, HTTP_T_AUTHORITY,
	HTTP_T_ASTERISK };

/* Connection header tokens seen */
#define HTTP_CONN_CLOSE		0x01
#define HTTP_CONN_KEEPALIVE	0x02
#define HTTP_CONN_UPGRADE	0x04
#define HTTP_CONN_OTHER		0x08	/* names further hop-by-hop fields */

struct http_limits {
	size_t		 request_line;		/* LimitRequestLine */
	size_t		 field_size;		/* LimitRequestFieldSize */
	int		 fields;		/* LimitRequestFields, 0: cap */
};

struct http_msg {
	/* request line, or status line for responses */
	struct http_slice	 method;
	enum http_method	 mcode;
	struct http_slice	 target;
	enum http_target	 tform;
	int			 version;	/* 10 or 11 */
	int			 status;	/* responses */
	struct http_slice	 reason;

	struct http_header	 headers[HTTP_MAX_HEADERS];
	int			 nheaders;

	/* what the head says about the message */
	enum http_body		 body;
	uint64_t		 content_length;
	int			 host;		/* index of Host, -1 none */
	unsigned		 connection;	/* HTTP_CONN_* */
	int			 expect_continue;
	int			 upgrade;	/* index of Upgrade, -1 */
	size_t			 head_len;	/* bytes of the whole head */
	const char		*error;		/* why, when refused */
};

int	http_parse_request(const char *, size_t, const struct http_limits *,
	    struct http_msg *);
/*
 * http_parse_response - req_method is the method of the request it
 * answers (HEAD and CONNECT change the framing).  Returns HTTP_OK,
 * HTTP_AGAIN, or 502 when the backend's answer is not acceptable.
 */
int	http_parse_response(const char *, size_t, enum http_method,
	    struct http_msg *);

/* header lookup helpers */
int	http_find(const struct http_msg *, const char *name, int from);
int	http_slice_eq(struct http_slice, const char *);
int	http_slice_caseeq(struct http_slice, const char *);
int	http_is_tchar(int);

/*
 * http_range - a Range field value v[0..n) against a representation of
 * len bytes (RFC 9110 14.1-14.2): 1 with [*first, *last] when it is one
 * satisfiable byte range; 0 when it is to be ignored (not "bytes=",
 * malformed, or several ranges: the whole representation is sent);
 * -1 when no range is satisfiable (416).
 */
int	http_range(const char *v, size_t n, uint64_t len, uint64_t *first,
	    uint64_t *last);

/*
 * Chunked decoding, incremental: feed any number of bytes; the decoder
 * says how many it used and which of them are body data.
 */
enum http_chunk_state { HC_SIZE, HC_EXT, HC_SIZE_LF, HC_DATA, HC_DATA_CR,
	HC_DATA_LF, HC_TRAILER, HC_TRAILER_LF, HC_FINAL_LF, HC_DONE };

struct http_chunk {
	enum http_chunk_state	 state;
	uint64_t		 left;		/* data bytes left in chunk */
	unsigned		 digits;
	size_t			 linelen;	/* ext or trailer line */
	int			 ext_quote;	/* in a quoted ext value */
	int			 ext_esc;	/* after '\' in a quoted value */
	int			 ext_semi;	/* a ';' began the extensions */
	int			 trailer_empty;	/* this trailer line empty */
	uint64_t		 total;		/* data bytes so far */
};

#define HTTP_CHUNK_MAX_LINE	4096	/* ext or trailer line */

void	http_chunk_init(struct http_chunk *);
/*
 * http_chunk_feed - decode from buf[0..len).  Returns bytes consumed
 * (>= 0), or -1 on malformed input.  *data and *datalen, if non-NULL, get
 * the first run of body data within the consumed bytes: the decoder
 * stops right after a data run so the caller sees each one.
 */
long	http_chunk_feed(struct http_chunk *, const char *buf, size_t len,
	    const char **data, size_t *datalen);
int	http_chunk_done(const struct http_chunk *);

#endif /* HTTP_H */
