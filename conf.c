/*
 * conf.c - read an Apache-syntax configuration.
 *
 * Three steps.  lex_file turns a file into logical lines (continuations
 * joined, comments dropped, arguments split and unquoted) and builds a
 * tree of directives and <sections>, checking that every section is
 * closed where it opened.  walk() then applies the tree in order: a
 * section handler sets the context and walks its children, a directive
 * is looked up in the table of directives.c and its setter runs.
 * Finally conf_finish fills defaults, inherits the main server's values
 * into each <VirtualHost> and checks what only the whole file can show.
 * Every error is printed as "file:line: message" and parsing goes on, so
 * one run shows them all.  This file owns no directive semantics.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "arena.h"
#include "balancer.h"
#include "conf.h"
#include "directives.h"
#include "tls.h"

#ifndef GW_SYSCONFDIR
#define GW_SYSCONFDIR "/usr/local/etc"
#endif
#ifndef GW_LOCALSTATEDIR
#define GW_LOCALSTATEDIR "/usr/local/var"
#endif
#ifndef GW_RUNSTATEDIR
#define GW_RUNSTATEDIR GW_LOCALSTATEDIR "/run"
#endif

#define MAX_ERRORS	100

/* A directive or a section, as read. */
struct node {
	struct node	*next;
	struct node	*child;		/* sections only */
	const char	*file;
	int		 line;
	int		 section;
	char		*name;		/* without the angle brackets */
	int		 argc;
	char		**argv;
};

static void	 walk(struct gw_parse *, struct node *);

/*---------------------------------------------------------------------
 * Messages
 */

struct conf_msg {
	size_t		 fileno;	/* index in p->files, or SIZE_MAX */
	int		 line;
	size_t		 seq;
	char		*text;		/* the whole line, without newline */
};

/* file_index - position of file in reading order (remembered on first use). */
static size_t
file_index(struct gw_parse *p, const char *file)
{
	size_t i;

	for (i = 0; i < p->nfiles; i++)
		if (p->files[i] == file)
			return i;
	if (p->nfiles == p->filecap) {
		size_t		 cap = p->filecap ? p->filecap * 2 : 8;
		const char	**f = realloc(p->files, cap * sizeof(*f));

		if (f == NULL)
			return SIZE_MAX;
		p->files = f;
		p->filecap = cap;
	}
	p->files[p->nfiles] = file;
	return p->nfiles++;
}

/*
 * vreport - keep one message; conf_load prints them all at the end in
 * file order and line order, whatever order the checks found them in.
 */
static void
vreport(struct gw_parse *p, const char *file, int line, const char *kind,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void
vreport(struct gw_parse *p, const char *file, int line, const char *kind,
    const char *fmt, va_list ap)
{
	struct conf_msg	*m;
	char		*body;

	if (p->nmsgs == p->msgcap) {
		size_t		 cap = p->msgcap ? p->msgcap * 2 : 16;
		struct conf_msg	*n = realloc(p->msgs, cap * sizeof(*n));

		if (n == NULL)
			return;
		p->msgs = n;
		p->msgcap = cap;
	}
	m = &p->msgs[p->nmsgs];
	m->fileno = file != NULL ? file_index(p, file) : SIZE_MAX;
	m->line = line;
	m->seq = p->nmsgs++;
	body = NULL;
	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	if (file != NULL && line > 0)
		m->text = arena_printf(p->arena, "%s:%d: %s%s", file, line,
		    kind, body ? body : "?");
	else if (file != NULL)
		m->text = arena_printf(p->arena, "%s: %s%s", file, kind,
		    body ? body : "?");
	else
		m->text = arena_printf(p->arena, "%s%s", kind,
		    body ? body : "?");
	free(body);
}

static int
cmp_msg(const void *a, const void *b)
{
	const struct conf_msg *x = a, *y = b;

	if (x->fileno != y->fileno)
		return x->fileno < y->fileno ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* flush_msgs - print the kept messages, sorted, and forget them. */
static void
flush_msgs(struct gw_parse *p)
{
	if (p->nmsgs > 0)
		qsort(p->msgs, p->nmsgs, sizeof(*p->msgs), cmp_msg);
	for (size_t i = 0; i < p->nmsgs; i++)
		fprintf(p->err, "%s\n", p->msgs[i].text);
	if (p->nerrors > MAX_ERRORS)
		fprintf(p->err, "%s: %d errors in all; only the first %d are "
		    "shown\n", p->cfg->file, p->nerrors, MAX_ERRORS);
	free(p->msgs);
	free(p->files);
	p->msgs = NULL;
	p->files = NULL;
	p->nmsgs = p->msgcap = p->nfiles = p->filecap = 0;
}

static void
error_at(struct gw_parse *p, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
error_at(struct gw_parse *p, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	if (++p->nerrors > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vreport(p, file, line, "", fmt, ap);
	va_end(ap);
}

/* conf_error_at, conf_warn_at - for checks outside conf.c (tls.c). */
void
conf_error_at(struct gw_parse *p, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	if (++p->nerrors > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vreport(p, file, line, "", fmt, ap);
	va_end(ap);
}

void
conf_warn_at(struct gw_parse *p, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	p->nwarnings++;
	va_start(ap, fmt);
	vreport(p, file, line, "warning: ", fmt, ap);
	va_end(ap);
}

void
conf_warn(struct gw_parse *p, const char *fmt, ...)
{
	va_list	ap;

	p->nwarnings++;
	va_start(ap, fmt);
	vreport(p, p->file, p->line, "warning: ", fmt, ap);
	va_end(ap);
}

static void
warn_at(struct gw_parse *p, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
warn_at(struct gw_parse *p, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	p->nwarnings++;
	va_start(ap, fmt);
	vreport(p, file, line, "warning: ", fmt, ap);
	va_end(ap);
}

/*---------------------------------------------------------------------
 * Lexer: logical lines and arguments
 */

/*
 * split_args - split a logical line into arguments, as Apache's
 * ap_getword_conf does: white space separates, "double" or 'single'
 * quotes group, a backslash before the quote character inside quotes
 * escapes it.  Returns the count, or -1 with *why set.
 */
static int
split_args(struct gw_arena *a, char *s, char **argv, int max, const char **why)
{
	int	 argc = 0;
	char	*out, *start, q;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			return argc;
		if (argc == max) {
			*why = "too many arguments on one line";
			return -1;
		}
		start = out = s;
		if (*s == '"' || *s == '\'') {
			q = *s++;
			while (*s != q) {
				if (*s == '\0') {
					*why = "unterminated quoted argument";
					return -1;
				}
				if (*s == '\\' && (s[1] == q || s[1] == '\\'))
					s++;
				*out++ = *s++;
			}
			s++;
			if (*s != '\0' && !isspace((unsigned char)*s)) {
				*why = "a quoted argument must be followed by "
				    "white space";
				return -1;
			}
		} else {
			while (*s != '\0' && !isspace((unsigned char)*s))
				*out++ = *s++;
		}
		if (*s != '\0')
			s++;
		*out = '\0';
		argv[argc++] = arena_strdup(a, start);
		/* out may trail s: a shorter copy of the same text */
	}
}

/*
 * read_logical - next logical line of f into buf: "\" at the end of a
 * line joins the next one.  *line is the first physical line's number.
 * Returns 1, 0 at EOF, -1 if the line is too long.
 */
static int
read_logical(FILE *f, char *buf, size_t size, int *lineno, int *line)
{
	size_t	len = 0, n;
	char	chunk[GW_MAX_LINE];
	int	first = 1;

	for (;;) {
		if (fgets(chunk, sizeof(chunk), f) == NULL)
			return (first ? 0 : 1);
		(*lineno)++;
		if (first)
			*line = *lineno;
		first = 0;
		n = strlen(chunk);
		while (n > 0 && (chunk[n - 1] == '\n' || chunk[n - 1] == '\r'))
			chunk[--n] = '\0';
		if (len + n + 1 > size)
			return -1;
		memcpy(buf + len, chunk, n + 1);
		len += n;
		if (len > 0 && buf[len - 1] == '\\') {
			buf[--len] = '\0';
			continue;
		}
		return 1;
	}
}

struct open_section {
	struct node	*node;
	struct node	**tail;		/* where the next child goes */
};

/*
 * parse_section_line - "<Name args...>" or "</Name>" into n.  Returns 1
 * for an opener, 2 for a closer, -1 on error (*why set).
 */
static int
parse_section_line(struct gw_arena *a, char *s, struct node *n,
    const char **why)
{
	char	*end, *name, *argv[GW_MAX_ARGS];
	int	 closer = 0, argc;

	s++;				/* '<' */
	if (*s == '/') {
		closer = 1;
		s++;
	}
	end = strrchr(s, '>');
	if (end == NULL) {
		*why = "section line is missing its closing '>'";
		return -1;
	}
	for (char *t = end + 1; *t != '\0'; t++)
		if (!isspace((unsigned char)*t)) {
			*why = "text after the closing '>' of a section line";
			return -1;
		}
	*end = '\0';
	name = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	if (*name == '\0') {
		*why = "section line without a name";
		return -1;
	}
	n->name = arena_strdup(a, name);
	if ((argc = split_args(a, s, argv, GW_MAX_ARGS, why)) < 0)
		return -1;
	if (closer && argc > 0) {
		*why = "a closing section line takes no arguments";
		return -1;
	}
	n->argc = argc;
	n->argv = arena_alloc(a, sizeof(char *) * (size_t)(argc + 1));
	memcpy(n->argv, argv, sizeof(char *) * (size_t)argc);
	return closer ? 2 : 1;
}

/* close_to - a closer for the open section at index i: pop to it. */
static void
close_to(struct gw_parse *p, struct open_section *stack, int *sp, int i,
    const char *file, int line)
{
	while (*sp - 1 > i) {
		struct node *o = stack[*sp - 1].node;

		error_at(p, file, o->line, "<%s> section is not closed: "
		    "expected </%s> before </%s> at line %d", o->name,
		    o->name, stack[i].node->name, line);
		(*sp)--;
	}
	(*sp)--;
}

/* add_line - one logical line into the tree being built. */
static void
add_line(struct gw_parse *p, const char *file, int line, char *buf,
    struct open_section *stack, int *sp, int maxsp)
{
	struct gw_arena	*a = p->arena;
	struct node	*n, **tail = stack[*sp - 1].tail;
	const char	*why = NULL;
	char		*s = buf, *argv[GW_MAX_ARGS];
	int		 kind, argc, i;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '#')
		return;
	n = arena_alloc(a, sizeof(*n));
	n->file = file;
	n->line = line;
	if (*s == '<') {
		if ((kind = parse_section_line(a, s, n, &why)) < 0) {
			error_at(p, file, line, "%s", why);
			return;
		}
		if (kind == 2) {
			for (i = *sp - 1; i > 0; i--)
				if (strcasecmp(stack[i].node->name,
				    n->name) == 0)
					break;
			if (i == 0)
				error_at(p, file, line, "</%s> without "
				    "matching <%s> section", n->name, n->name);
			else {
				if (i != *sp - 1)
					error_at(p, file, line, "</%s> closes "
					    "<%s> opened at line %d",
					    n->name, stack[*sp - 1].node->name,
					    stack[*sp - 1].node->line);
				close_to(p, stack, sp, i, file, line);
			}
			return;
		}
		n->section = 1;
		*tail = n;
		stack[*sp - 1].tail = &n->next;
		if (*sp == maxsp) {
			error_at(p, file, line, "sections nested too deeply");
			return;
		}
		stack[*sp].node = n;
		stack[*sp].tail = &n->child;
		(*sp)++;
		return;
	}
	if ((argc = split_args(a, s, argv, GW_MAX_ARGS, &why)) < 0) {
		error_at(p, file, line, "%s", why);
		return;
	}
	n->name = argv[0];
	n->argc = argc - 1;
	n->argv = arena_alloc(a, sizeof(char *) * (size_t)argc);
	memcpy(n->argv, argv + 1, sizeof(char *) * (size_t)(argc - 1));
	*tail = n;
	stack[*sp - 1].tail = &n->next;
}

/*
 * lex_file - read path into a tree.  Sections must close in the file
 * that opened them, as in Apache.  Returns the first node (maybe NULL);
 * *ok is 0 if the file could not be read.
 */
static struct node *
lex_file(struct gw_parse *p, const char *path, int *ok)
{
	enum { MAXDEPTH = 64 };
	struct open_section	 stack[MAXDEPTH];
	struct node		 root;
	FILE			*f;
	char			*buf;
	const char		*file;
	int			 sp = 1, lineno = 0, line = 0, r;

	*ok = 1;
	if ((f = fopen(path, "r")) == NULL) {
		*ok = 0;
		return NULL;
	}
	file = arena_strdup(p->arena, path);
	(void)file_index(p, file);
	memset(&root, 0, sizeof(root));
	stack[0].node = &root;
	stack[0].tail = &root.child;
	buf = malloc(GW_MAX_LINE);
	if (buf == NULL) {
		(void)fclose(f);
		*ok = 0;
		return NULL;
	}
	while ((r = read_logical(f, buf, GW_MAX_LINE, &lineno, &line)) != 0) {
		if (r < 0) {
			error_at(p, file, line, "line longer than %d bytes",
			    GW_MAX_LINE);
			/* skip the rest of this logical line */
			continue;
		}
		add_line(p, file, line, buf, stack, &sp, MAXDEPTH);
	}
	if (ferror(f))
		error_at(p, file, lineno, "read error");
	free(buf);
	(void)fclose(f);
	while (sp > 1) {
		struct node *o = stack[--sp].node;

		error_at(p, file, o->line, "<%s> section is not closed: "
		    "expected </%s> before the end of the file",
		    o->name, o->name);
	}
	return root.child;
}

/*---------------------------------------------------------------------
 * Variables, paths, defines
 */

int
conf_defined(struct gw_parse *p, const char *name)
{
	struct gw_strlist	*d;
	size_t			 n = strlen(name);

	for (d = p->cfg->defines; d != NULL; d = d->next)
		if (strncmp(d->s, name, n) == 0 &&
		    (d->s[n] == '\0' || d->s[n] == '='))
			return 1;
	return 0;
}

static const char *
define_value(struct gw_parse *p, const char *name, size_t n)
{
	struct gw_strlist	*d;
	static char		 tmp[256];

	for (d = p->cfg->defines; d != NULL; d = d->next)
		if (strncmp(d->s, name, n) == 0) {
			if (d->s[n] == '=')
				return d->s + n + 1;
			if (d->s[n] == '\0')
				return "";
		}
	if (n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, name, n);
	tmp[n] = '\0';
	return getenv(tmp);
}

/*
 * expand_vars - ${NAME} from Define, else the environment, as Apache
 * does.  An undefined one stays as written and gets a warning.
 */
static char *
expand_vars(struct gw_parse *p, char *arg)
{
	char		*s, *end, *out;
	const char	*val;
	size_t		 len;

	if (strstr(arg, "${") == NULL)
		return arg;
	len = 0;
	out = NULL;
	for (int pass = 0; pass < 2; pass++) {
		size_t o = 0;

		for (s = arg; *s != '\0'; ) {
			if (s[0] == '$' && s[1] == '{' &&
			    (end = strchr(s + 2, '}')) != NULL &&
			    (val = define_value(p, s + 2,
			    (size_t)(end - s - 2))) != NULL) {
				size_t vl = strlen(val);

				if (pass)
					memcpy(out + o, val, vl);
				o += vl;
				s = end + 1;
				continue;
			}
			if (pass == 0 && s[0] == '$' && s[1] == '{' &&
			    (end = strchr(s + 2, '}')) != NULL)
				conf_warn(p, "config variable ${%.*s} is not "
				    "defined", (int)(end - s - 2), s + 2);
			if (pass)
				out[o] = *s;
			o++;
			s++;
		}
		if (pass == 0) {
			len = o;
			out = arena_alloc(p->arena, len + 1);
		} else
			out[o] = '\0';
	}
	return out;
}

/* conf_path - a path relative to ServerRoot, as ap_server_root_relative. */
char *
conf_path(struct gw_parse *p, const char *path)
{
	if (path[0] == '/' || strncmp(path, "syslog", 6) == 0 ||
	    path[0] == '|')
		return arena_strdup(p->arena, path);
	return arena_printf(p->arena, "%s/%s", p->cfg->server_root, path);
}

/*---------------------------------------------------------------------
 * Include
 */

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void include_one(struct gw_parse *, const char *, int);

/* include_dir - every file below dir, sorted, recursively (Apache). */
static void
include_dir(struct gw_parse *p, const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		**names = NULL;
	size_t		 n = 0, cap = 0;

	if ((d = opendir(dir)) == NULL) {
		error_at(p, p->file, p->line, "Include: cannot read directory "
		    "%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				break;
		}
		names[n++] = arena_printf(p->arena, "%s/%s", dir, e->d_name);
	}
	(void)closedir(d);
	if (names == NULL)
		return;
	qsort(names, n, sizeof(*names), cmpstr);
	for (size_t i = 0; i < n; i++)
		include_one(p, names[i], 1);
	free(names);
}

static void
include_one(struct gw_parse *p, const char *path, int optional)
{
	struct stat	 st;
	struct node	*tree;
	const char	*file = p->file;
	int		 line = p->line, ok;

	(void)optional;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			include_dir(p, path);
			return;
		}
		for (int i = 0; i < p->depth; i++)
			if (p->reading[i].dev == st.st_dev &&
			    p->reading[i].ino == st.st_ino) {
				error_at(p, file, line, "Include of %s makes "
				    "a loop: that file is already being read",
				    path);
				return;
			}
		p->reading[p->depth].dev = st.st_dev;
		p->reading[p->depth].ino = st.st_ino;
	}
	tree = lex_file(p, path, &ok);
	if (!ok) {
		error_at(p, file, line, "Include: cannot open %s: %s", path,
		    strerror(errno));
		return;
	}
	walk(p, tree);
	p->file = file;
	p->line = line;
}

/*
 * conf_include - Include/IncludeOptional: a path or a glob, relative to
 * ServerRoot.  Include fails on a missing file or a glob that matches
 * nothing (as Apache 2.4); IncludeOptional skips both.
 */
const char *
conf_include(struct gw_parse *p, const char *arg, int optional)
{
	glob_t	 g;
	char	*path;
	int	 r, saved_ctx = p->ctx;

	if (p->depth >= GW_MAX_INCLUDE_DEPTH)
		return "Include nested too deeply (a loop?)";
	path = conf_path(p, arg);
	p->depth++;
	if (strpbrk(path, "*?[") == NULL) {
		if (access(path, F_OK) != 0) {
			p->depth--;
			if (optional)
				return NULL;
			return arena_printf(p->arena, "%s not found: %s",
			    path, strerror(errno));
		}
		include_one(p, path, optional);
	} else {
		r = glob(path, 0, NULL, &g);
		if (r == GLOB_NOMATCH || (r == 0 && g.gl_pathc == 0)) {
			p->depth--;
			if (r == 0)
				globfree(&g);
			if (optional)
				return NULL;
			return arena_printf(p->arena, "no files match the "
			    "wildcard %s", path);
		}
		if (r != 0) {
			p->depth--;
			return arena_printf(p->arena, "cannot expand %s",
			    path);
		}
		for (size_t i = 0; i < g.gl_pathc; i++)
			include_one(p, g.gl_pathv[i], optional);
		globfree(&g);
	}
	p->depth--;
	p->ctx = saved_ctx;
	return NULL;
}

/*---------------------------------------------------------------------
 * Sections
 */

/* cache_conf_unset - every mod_cache knob unset (a vhost, a section). */
static void
cache_conf_unset(struct gw_cache_conf *k)
{
	memset(k, 0, sizeof(*k));
	k->default_expire = k->max_expire = k->min_expire = GW_UNSET;
	k->last_modified_factor = GW_UNSET;
	k->ignore_cache_control = k->ignore_no_last_mod = GW_UNSET;
	k->ignore_query_string = GW_UNSET;
	k->ignore_headers_set = k->ignore_url_session_identifiers_set =
	    GW_UNSET;
	k->store_no_store = k->store_private = k->store_expired = GW_UNSET;
	k->stale_on_error = GW_UNSET;
	k->max_file_size = k->min_file_size = GW_UNSET;
	k->lock = k->lock_max_age = k->quick_handler = GW_UNSET;
	k->read_size = k->read_time = GW_UNSET;
}

/*
 * cache_conf_defaults - Apache 2.4's values, for the main server (the
 * same as cache_policy_conf_init's).  The lists stay unset: empty.
 */
static void
cache_conf_defaults(struct gw_cache_conf *k)
{
	cache_conf_unset(k);
	k->default_expire = 3600;
	k->max_expire = 86400;
	k->min_expire = 0;
	k->last_modified_factor = 0.1;
	k->ignore_cache_control = k->ignore_no_last_mod = 0;
	k->ignore_query_string = 0;
	k->store_no_store = k->store_private = k->store_expired = 0;
	k->stale_on_error = 1;
	k->max_file_size = 1000000;
	k->min_file_size = 1;
	k->lock = 0;
	k->lock_max_age = 5;
	k->quick_handler = 1;
	k->read_size = k->read_time = 0;
}

struct section {
	const char	*name;
	unsigned	 ctx;		/* where it may stand */
	void		(*walk)(struct gw_parse *, struct node *,
			    const struct section *);
	int		 kind;		/* enum gw_dir_kind / gw_req_kind */
	int		 regex;
	unsigned	 inner;		/* context of what it holds */
};

static void
walk_children(struct gw_parse *p, struct node *n, unsigned ctx)
{
	unsigned		 saved = p->ctx;
	struct gw_require	*reqc = p->reqc;

	p->ctx = ctx;
	walk(p, n->child);
	p->ctx = saved;
	p->reqc = reqc;
}

static int
one_arg(struct gw_parse *p, struct node *n)
{
	if (n->argc != 1) {
		error_at(p, n->file, n->line, "<%s> takes one argument",
		    n->name);
		return 0;
	}
	return 1;
}

/*
 * sec_if - <IfModule [!]name> (kind 0) and <IfDefine [!]name> (kind 1):
 * the children count only when the test holds.
 */
static void
sec_if(struct gw_parse *p, struct node *n, const struct section *s)
{
	const char	*m;
	int		 neg, holds;

	if (!one_arg(p, n))
		return;
	m = n->argv[0];
	if ((neg = (*m == '!')))
		m++;
	holds = s->kind == 0 ? directives_module_known(m) :
	    conf_defined(p, m);
	if (holds != neg)
		walk_children(p, n, p->ctx);
}

static const char *
vaddr_parse(struct gw_parse *p, const char *s, struct gw_vaddr *va)
{
	const char	*colon, *port;
	char		*end;
	long		 v;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL)
			return "unterminated [IPv6] address";
		va->host = arena_strndup(p->arena, s + 1, (size_t)(rb - s - 1));
		port = rb[1] == ':' ? rb + 2 : (rb[1] == '\0' ? NULL : "");
	} else if ((colon = strrchr(s, ':')) != NULL) {
		va->host = arena_strndup(p->arena, s, (size_t)(colon - s));
		port = colon + 1;
	} else {
		va->host = arena_strdup(p->arena, s);
		port = NULL;
	}
	if (*va->host == '\0')
		return "empty address";
	if (port == NULL || strcmp(port, "*") == 0) {
		va->port = arena_strdup(p->arena, "*");
		return NULL;
	}
	errno = 0;
	v = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 65535)
		return "invalid port";
	va->port = arena_strdup(p->arena, port);
	return NULL;
}

/* ssl_unset - a <VirtualHost>'s mod_ssl numbers, before its lines. */
static void
ssl_unset(struct gw_vhost *v)
{
	v->ssl_engine = v->ssl_proxy_engine = GW_UNSET;
	v->ssl_protocol = v->ssl_honor_cipher_order = GW_UNSET;
	v->ssl_proxy_verify = v->ssl_proxy_verify_depth = GW_UNSET;
	v->ssl_proxy_check_peer_name = v->ssl_proxy_check_peer_cn = GW_UNSET;
	v->ssl_proxy_check_peer_expire = v->ssl_proxy_protocol = GW_UNSET;
}

static void
sec_virtualhost(struct gw_parse *p, struct node *n, const struct section *s)
{
	struct gw_vhost	*v, **tail;
	struct gw_vaddr	*va, **atail;
	struct gw_vhost	*saved = p->vhost;
	const char	*why;

	(void)s;
	if (n->argc < 1) {
		error_at(p, n->file, n->line, "<VirtualHost> needs at least "
		    "one address, e.g. <VirtualHost *:80>");
		return;
	}
	v = arena_alloc(p->arena, sizeof(*v));
	v->file = n->file;
	v->line = n->line;
	atail = &v->addrs;
	for (int i = 0; i < n->argc; i++) {
		va = arena_alloc(p->arena, sizeof(*va));
		if ((why = vaddr_parse(p, n->argv[i], va)) != NULL) {
			error_at(p, n->file, n->line, "<VirtualHost %s>: %s",
			    n->argv[i], why);
			continue;
		}
		*atail = va;
		atail = &va->next;
	}
	v->proxy_requests = v->preserve_host = v->add_headers = GW_UNSET;
	v->proxy_via = v->proxy_error_override = v->proxy_timeout = GW_UNSET;
	v->allow_encoded_slashes = GW_UNSET;
	v->log_level = GW_UNSET;
	v->cache_dir_levels = v->cache_dir_length = GW_UNSET;
	v->cache_header = v->cache_detail_header = GW_UNSET;
	ssl_unset(v);
	cache_conf_unset(&v->cache_conf);
	for (tail = &p->cfg->vhosts; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = v;
	p->cfg->nvhosts++;
	p->vhost = v;
	walk_children(p, n, GW_CTX_VHOST);
	p->vhost = saved;
}

/* sec_dir - <Proxy>, <Location>, <Directory> and their Match forms. */
struct gw_dir *
conf_new_dir(struct gw_parse *p, int kind, const char *file, int line,
    char *match, int is_regex)
{
	struct gw_dir	*d, **tail;

	d = arena_alloc(p->arena, sizeof(*d));
	d->kind = (enum gw_dir_kind)kind;
	d->file = file;
	d->line = line;
	d->match = match;
	d->is_regex = is_regex;
	if (is_regex) {
		regex_t	*re = arena_alloc(p->arena, sizeof(*re));
		char	 why[256];
		int	 e;

		/* POSIX extended: Apache's PCRE for the usual patterns */
		if ((e = regcomp(re, match, REG_EXTENDED | REG_NOSUB)) != 0) {
			(void)regerror(e, re, why, sizeof(why));
			error_at(p, file, line, "\"%s\": bad regular expression: "
			    "%s", match, why);
		} else {
			d->re = re;
			d->next_re = p->cfg->regex_dirs;
			p->cfg->regex_dirs = d;
		}
	}
	d->access.order = GW_ORDER_UNSET;
	d->preserve_host = GW_UNSET;
	cache_conf_unset(&d->cache_conf);
	for (tail = &p->vhost->dirs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = d;
	return d;
}

static void
sec_dir(struct gw_parse *p, struct node *n, const struct section *s)
{
	struct gw_dir	*d;
	struct gw_dir	*saved = p->dir;

	if (!one_arg(p, n))
		return;
	d = conf_new_dir(p, s->kind, n->file, n->line, n->argv[0], s->regex);
	p->dir = d;
	p->reqc = NULL;
	walk_children(p, n, s->inner);
	p->dir = saved;
}

/* <RequireAll>/<RequireAny>/<RequireNone>: nested Require containers. */
static void
sec_require(struct gw_parse *p, struct node *n, const struct section *s)
{
	struct gw_require	*r, **tail;
	struct gw_access	*ac = &p->dir->access;

	if (n->argc != 0) {
		error_at(p, n->file, n->line, "<%s> takes no arguments",
		    n->name);
		return;
	}
	if (ac->style == 22) {
		error_at(p, n->file, n->line, "<%s> cannot be mixed with "
		    "Order/Allow/Deny in one section", n->name);
		return;
	}
	ac->style = 24;
	r = arena_alloc(p->arena, sizeof(*r));
	r->kind = (enum gw_req_kind)s->kind;
	tail = p->reqc != NULL ? &p->reqc->child : &ac->require;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = r;
	p->reqc = r;
	walk_children(p, n, p->ctx);
	if (r->child == NULL)
		error_at(p, n->file, n->line, "<%s> holds no Require "
		    "directive", n->name);
}

static const struct section sections[] = {
	{ "Directory", GW_CTX_SV, sec_dir, GW_DIR_DIRECTORY, 0,
	    GW_CTX_DIRECTORY },
	{ "DirectoryMatch", GW_CTX_SV, sec_dir, GW_DIR_DIRECTORY, 1,
	    GW_CTX_DIRECTORY },
	{ "IfDefine", GW_CTX_ANY, sec_if, 1, 0, 0 },
	{ "IfModule", GW_CTX_ANY, sec_if, 0, 0, 0 },
	{ "Location", GW_CTX_SV, sec_dir, GW_DIR_LOCATION, 0,
	    GW_CTX_LOCATION },
	{ "LocationMatch", GW_CTX_SV, sec_dir, GW_DIR_LOCATION, 1,
	    GW_CTX_LOCATION },
	{ "Proxy", GW_CTX_SV, sec_dir, GW_DIR_PROXY, 0, GW_CTX_PROXY },
	{ "ProxyMatch", GW_CTX_SV, sec_dir, GW_DIR_PROXY, 1, GW_CTX_PROXY },
	{ "RequireAll", GW_CTX_DIR, sec_require, GW_REQ_ALL, 0, 0 },
	{ "RequireAny", GW_CTX_DIR, sec_require, GW_REQ_ANY, 0, 0 },
	{ "RequireNone", GW_CTX_DIR, sec_require, GW_REQ_NONE, 0, 0 },
	{ "VirtualHost", GW_CTX_SERVER, sec_virtualhost, 0, 0, 0 },
};

/* conf_section_names - for tests and docs. */
const char *
conf_section_name(size_t i)
{
	if (i >= sizeof(sections) / sizeof(sections[0]))
		return NULL;
	return sections[i].name;
}

static const struct section *
find_section(const char *name)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcasecmp(sections[i].name, name) == 0)
			return &sections[i];
	return NULL;
}

static const char *
suggest_section(const char *name)
{
	size_t	n = strlen(name);

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strncasecmp(sections[i].name, name, n < 4 ? n : 4) == 0)
			return sections[i].name;
	return NULL;
}

/*---------------------------------------------------------------------
 * Walking the tree
 */

static void
do_section(struct gw_parse *p, struct node *n)
{
	const struct section	*s;
	const char		*hint;

	if ((s = find_section(n->name)) == NULL) {
		hint = suggest_section(n->name);
		if (hint != NULL)
			error_at(p, n->file, n->line, "unknown section <%s> "
			    "(did you mean <%s>?)", n->name, hint);
		else
			error_at(p, n->file, n->line, "unknown section <%s>",
			    n->name);
		return;
	}
	if ((s->ctx & p->ctx) == 0) {
		error_at(p, n->file, n->line, "<%s> is not allowed in %s",
		    s->name, directives_ctx_name(p->ctx));
		return;
	}
	if (s->walk != sec_if) {
		for (int i = 0; i < n->argc; i++)
			n->argv[i] = expand_vars(p, n->argv[i]);
	}
	p->file = n->file;
	p->line = n->line;
	s->walk(p, n, s);
}

static void
do_directive(struct gw_parse *p, struct node *n)
{
	const struct gw_directive	*d;
	const char			*msg, *hint;

	p->file = n->file;
	p->line = n->line;
	if ((d = directives_find(n->name)) == NULL) {
		if ((hint = directives_suggest(n->name)) != NULL)
			error_at(p, n->file, n->line, "unknown directive "
			    "\"%s\" (did you mean \"%s\"?)", n->name, hint);
		else
			error_at(p, n->file, n->line, "unknown directive "
			    "\"%s\"", n->name);
		return;
	}
	if ((d->ctx & p->ctx) == 0) {
		error_at(p, n->file, n->line, "%s is not allowed in %s",
		    d->name, directives_ctx_name(p->ctx));
		return;
	}
	if (n->argc < d->min_args || (d->max_args >= 0 &&
	    n->argc > d->max_args)) {
		if (d->min_args == 0 && d->max_args == 0)
			error_at(p, n->file, n->line, "%s takes no arguments",
			    d->name);
		else
			error_at(p, n->file, n->line, "%s: wrong number of "
			    "arguments (%d); syntax: %s %s", d->name, n->argc,
			    d->name, d->syntax);
		return;
	}
	for (int i = 0; i < n->argc; i++)
		n->argv[i] = expand_vars(p, n->argv[i]);
	if ((msg = d->set(p, d, n->argc, n->argv)) != NULL)
		error_at(p, n->file, n->line, "%s: %s", d->name, msg);
}

static void
walk(struct gw_parse *p, struct node *n)
{
	for (; n != NULL; n = n->next) {
		if (n->section)
			do_section(p, n);
		else
			do_directive(p, n);
	}
}

/*---------------------------------------------------------------------
 * Defaults, inheritance and whole-file checks
 */

static void
set_defaults(struct gw_config *c)
{
	struct gw_vhost	*m = &c->main;

	c->server_root = arena_strdup(c->arena, GW_SYSCONFDIR);
	c->log_level = GW_LOG_WARN;
	c->start_servers = 5;
	c->min_spare_servers = 5;
	c->max_spare_servers = 10;
	c->max_request_workers = 256;
	c->server_limit = 256;
	c->max_connections_per_child = 0;
	c->listen_backlog = 511;
	c->graceful_shutdown_timeout = 0;
	c->timeout = 60;
	c->keepalive = 1;
	c->extended_status = 1;		/* Apache 2.4 with mod_status */
	c->max_keepalive_requests = 100;
	c->keepalive_timeout = 5;
	c->limit_request_line = 8190;
	c->limit_request_field_size = 8190;
	c->limit_request_fields = 100;
	c->limit_request_body = 1024LL * 1024 * 1024;
	/* mod_reqtimeout's defaults, on in Apache 2.4 */
	c->header_timeout = 20;
	c->header_timeout_max = 40;
	c->header_min_rate = 500;
	c->body_timeout = 20;
	c->body_timeout_max = 0;
	c->body_min_rate = 500;
	c->mcache_size = 100;
	c->mcache_max_object_count = 1009;
	c->mcache_min_object_size = 1;
	c->mcache_max_object_size = 10000;
	c->mcache_removal_gdsf = 1;
	m->proxy_requests = 0;
	m->preserve_host = 0;
	m->add_headers = 1;
	m->proxy_via = 0;
	m->proxy_error_override = 0;
	m->allow_encoded_slashes = 0;
	m->proxy_timeout = GW_UNSET;	/* Timeout */
	m->log_level = GW_UNSET;	/* the server's: cfg->log_level */
	m->cache_dir_levels = 2;
	m->cache_header = 0;		/* Apache: CacheHeader Off */
	m->cache_detail_header = 0;
	m->cache_dir_length = 2;
	cache_conf_defaults(&m->cache_conf);
	/* mod_ssl; SSLProtocol as the issue asks: TLS 1.2 and 1.3 */
	m->ssl_engine = 0;
	m->ssl_protocol = GW_TLS_DEFAULT;
	m->ssl_honor_cipher_order = 0;
	m->ssl_proxy_engine = 0;
	m->ssl_proxy_verify = GW_VERIFY_NONE;
	m->ssl_proxy_verify_depth = 1;
	m->ssl_proxy_check_peer_name = 1;
	m->ssl_proxy_check_peer_cn = 1;
	m->ssl_proxy_check_peer_expire = 1;
	m->ssl_proxy_protocol = GW_TLS_DEFAULT;
}

#define INHERIT(f, unset)	do { if (v->f == (unset)) v->f = m->f; } \
				while (0)

#define INHERIT_K(f, unset)	do { if (k->f == (unset)) k->f = mk->f; } \
				while (0)

/* merge_cache_conf - Apache's merge_cache_config and merge_dir_config. */
static void
merge_cache_conf(struct gw_cache_conf *k, const struct gw_cache_conf *mk)
{
	INHERIT_K(default_expire, GW_UNSET);
	INHERIT_K(max_expire, GW_UNSET);
	INHERIT_K(min_expire, GW_UNSET);
	if (k->last_modified_factor < 0)
		k->last_modified_factor = mk->last_modified_factor;
	INHERIT_K(ignore_cache_control, GW_UNSET);
	INHERIT_K(ignore_no_last_mod, GW_UNSET);
	INHERIT_K(ignore_query_string, GW_UNSET);
	if (k->ignore_headers_set == GW_UNSET) {
		k->ignore_headers = mk->ignore_headers;
		k->ignore_headers_set = mk->ignore_headers_set;
	}
	if (k->ignore_url_session_identifiers_set == GW_UNSET) {
		k->ignore_url_session_identifiers =
		    mk->ignore_url_session_identifiers;
		k->ignore_url_session_identifiers_set =
		    mk->ignore_url_session_identifiers_set;
	}
	INHERIT_K(store_no_store, GW_UNSET);
	INHERIT_K(store_private, GW_UNSET);
	INHERIT_K(store_expired, GW_UNSET);
	INHERIT_K(stale_on_error, GW_UNSET);
	INHERIT_K(max_file_size, GW_UNSET);
	INHERIT_K(min_file_size, GW_UNSET);
	INHERIT_K(lock, GW_UNSET);
	INHERIT_K(lock_max_age, GW_UNSET);
	INHERIT_K(lock_path, NULL);
	INHERIT_K(quick_handler, GW_UNSET);
	INHERIT_K(key_base_url, NULL);
	INHERIT_K(read_size, GW_UNSET);
	INHERIT_K(read_time, GW_UNSET);
}

#define INHERIT_S(f)	do { if (v->f.value == NULL) v->f = m->f; } while (0)

/* merge_ssl - mod_ssl's merge: what v leaves unset, the main server's. */
static void
merge_ssl(struct gw_vhost *v, const struct gw_vhost *m)
{
	if (v->ssl_engine == GW_UNSET) {
		v->ssl_engine = m->ssl_engine;
		v->ssl_engine_file = m->ssl_engine_file;
		v->ssl_engine_line = m->ssl_engine_line;
	}
	INHERIT_S(ssl_cert_file);
	INHERIT_S(ssl_key_file);
	INHERIT_S(ssl_chain_file);
	INHERIT(ssl_protocol, GW_UNSET);
	INHERIT_S(ssl_cipher_suite);
	INHERIT_S(ssl_cipher_suite_13);
	INHERIT(ssl_honor_cipher_order, GW_UNSET);
	INHERIT(ssl_proxy_engine, GW_UNSET);
	if (v->ssl_proxy_verify == GW_UNSET) {
		v->ssl_proxy_verify = m->ssl_proxy_verify;
		v->ssl_proxy_verify_file = m->ssl_proxy_verify_file;
		v->ssl_proxy_verify_line = m->ssl_proxy_verify_line;
	}
	INHERIT(ssl_proxy_verify_depth, GW_UNSET);
	INHERIT_S(ssl_proxy_ca_file);
	INHERIT_S(ssl_proxy_ca_path);
	INHERIT(ssl_proxy_check_peer_name, GW_UNSET);
	INHERIT(ssl_proxy_check_peer_cn, GW_UNSET);
	INHERIT(ssl_proxy_check_peer_expire, GW_UNSET);
	INHERIT(ssl_proxy_protocol, GW_UNSET);
	INHERIT_S(ssl_proxy_cipher_suite);
	INHERIT_S(ssl_proxy_cipher_suite_13);
	INHERIT_S(ssl_proxy_machine_cert);
}

/* merge_vhost - unset values of v come from the main server. */
static void
merge_vhost(struct gw_vhost *v, const struct gw_vhost *m)
{
	INHERIT(server_name, NULL);
	INHERIT(server_admin, NULL);
	INHERIT(document_root, NULL);
	if (v->proxy_requests == GW_UNSET) {
		v->proxy_requests = m->proxy_requests;
		v->proxy_requests_file = m->proxy_requests_file;
		v->proxy_requests_line = m->proxy_requests_line;
	}
	INHERIT(preserve_host, GW_UNSET);
	INHERIT(add_headers, GW_UNSET);
	INHERIT(proxy_via, GW_UNSET);
	if (v->proxy_error_override == GW_UNSET) {
		v->proxy_error_override = m->proxy_error_override;
		memcpy(v->error_override_codes, m->error_override_codes,
		    sizeof(v->error_override_codes));
	}
	INHERIT(allow_encoded_slashes, GW_UNSET);
	INHERIT(cookie_domains, NULL);
	INHERIT(cookie_paths, NULL);
	INHERIT(proxy_timeout, GW_UNSET);
	INHERIT(cache_root, NULL);
	INHERIT(cache_dir_levels, GW_UNSET);
	INHERIT(cache_header, GW_UNSET);
	INHERIT(cache_detail_header, GW_UNSET);
	INHERIT(cache_dir_length, GW_UNSET);
	merge_cache_conf(&v->cache_conf, &m->cache_conf);
	merge_ssl(v, m);
	INHERIT(error_log, NULL);
	if (v->cache_dir_file == NULL) {
		v->cache_dir_file = m->cache_dir_file;
		v->cache_dir_line = m->cache_dir_line;
	}
	/*
	 * Lists (ProxyPass, ErrorDocument, CacheEnable, <Proxy>) are not
	 * copied: rules.c looks in the vhost first, then the main server,
	 * which is Apache's merge order for them.
	 */
}

/* check_mpm - Apache's corrections of the prefork numbers, with warnings. */
static void
check_mpm(struct gw_parse *p)
{
	struct gw_config	*c = p->cfg;
	const char		*f = c->mpm_file ? c->mpm_file : c->file;
	int			 l = c->mpm_line;

	if (c->max_request_workers > c->server_limit) {
		warn_at(p, f, l, "MaxRequestWorkers %d is above ServerLimit "
		    "%d; lowered to %d", c->max_request_workers,
		    c->server_limit, c->server_limit);
		c->max_request_workers = c->server_limit;
	}
	if (c->max_spare_servers <= c->min_spare_servers) {
		warn_at(p, f, l, "MaxSpareServers %d is not above "
		    "MinSpareServers %d; raised to %d", c->max_spare_servers,
		    c->min_spare_servers, c->min_spare_servers + 1);
		c->max_spare_servers = c->min_spare_servers + 1;
	}
	if (c->start_servers > c->max_request_workers)
		c->start_servers = c->max_request_workers;
}

static void
check_cache_dirs(struct gw_parse *p, struct gw_vhost *v)
{
	if (v->cache_dir_levels * v->cache_dir_length > 20)
		error_at(p, v->cache_dir_file ? v->cache_dir_file :
		    p->cfg->file, v->cache_dir_line, "CacheDirLevels (%d) "
		    "times CacheDirLength (%d) must not be above 20",
		    v->cache_dir_levels, v->cache_dir_length);
}

/*
 * check_cache_conf - limits that contradict each other, where k (a
 * server's or a section's own knobs, before inheritance) sets one of
 * them; in gives what k leaves unset.  Apache takes them silently.
 */
static void
check_cache_conf(struct gw_parse *p, const struct gw_cache_conf *k,
    const struct gw_cache_conf *in)
{
	long long	minx, maxx, minf, maxf;

	minx = k->min_expire != GW_UNSET ? k->min_expire : in->min_expire;
	maxx = k->max_expire != GW_UNSET ? k->max_expire : in->max_expire;
	if (k->expire_file != NULL && minx > maxx)
		warn_at(p, k->expire_file, k->expire_line, "CacheMinExpire "
		    "(%lld) is above CacheMaxExpire (%lld): every lifetime "
		    "they bound becomes %lld", minx, maxx, maxx);
	minf = k->min_file_size != GW_UNSET ? k->min_file_size :
	    in->min_file_size;
	maxf = k->max_file_size != GW_UNSET ? k->max_file_size :
	    in->max_file_size;
	if (k->file_size_file != NULL && minf > maxf)
		warn_at(p, k->file_size_file, k->file_size_line,
		    "CacheMinFileSize (%lld) is above CacheMaxFileSize (%lld): "
		    "no response will be stored", minf, maxf);
}

/* check_dir_caches - check_cache_conf of v's sections (v merged). */
static void
check_dir_caches(struct gw_parse *p, const struct gw_vhost *v)
{
	const struct gw_dir *d;

	for (d = v->dirs; d != NULL; d = d->next)
		check_cache_conf(p, &d->cache_conf, &v->cache_conf);
}

static int
uses_mem_cache(const struct gw_config *c)
{
	const struct gw_vhost	*v;
	const struct gw_cache_rule *r;
	const struct gw_dir	*d;

	for (v = &c->main; v != NULL; v = v == &c->main ? c->vhosts : v->next) {
		for (r = v->cache; r != NULL; r = r->next)
			if (r->enable && r->type == GW_CACHE_MEM)
				return 1;
		for (d = v->dirs; d != NULL; d = d->next)
			for (r = d->cache; r != NULL; r = r->next)
				if (r->enable && r->type == GW_CACHE_MEM)
					return 1;
	}
	return 0;
}

/* check_mcache - mod_mem_cache refused to start unless min < max < size. */
static void
check_mcache(struct gw_parse *p)
{
	struct gw_config	*c = p->cfg;
	const char		*f = c->mcache_file ? c->mcache_file : c->file;
	int			 l = c->mcache_line;

	if (c->mcache_file == NULL && !uses_mem_cache(c))
		return;
	if (c->mcache_min_object_size >= c->mcache_max_object_size)
		error_at(p, f, l, "MCacheMinObjectSize (%lld) must be below "
		    "MCacheMaxObjectSize (%lld)", c->mcache_min_object_size,
		    c->mcache_max_object_size);
	if (c->mcache_max_object_size >= c->mcache_size * 1024)
		error_at(p, f, l, "MCacheMaxObjectSize (%lld bytes) must be "
		    "below MCacheSize (%lld KiB = %lld bytes)",
		    c->mcache_max_object_size, c->mcache_size,
		    c->mcache_size * 1024);
}

/* is_tls_url - an https:// or wss:// backend URL. */
static int
is_tls_url(const char *url)
{
	return url != NULL && (strncasecmp(url, "https://", 8) == 0 ||
	    strncasecmp(url, "wss://", 6) == 0);
}

/*
 * check_tls_backends - an https:// or wss:// ProxyPass or BalancerMember
 * needs SSLProxyEngine On in its server (v merged), as in Apache, where
 * the request fails at run time instead.
 */
static void
check_tls_backends(struct gw_parse *p, const struct gw_vhost *v)
{
	const struct gw_proxypass	*pp;
	const struct gw_member		*mb;
	const struct gw_dir		*d;
	static const char		 why[] = "%s %s: TLS to this backend "
					    "needs SSLProxyEngine On in this "
					    "server";

	if (v->ssl_proxy_engine == 1)
		return;
	for (pp = v->proxypass; pp != NULL; pp = pp->next)
		if (is_tls_url(pp->url))
			error_at(p, pp->file, pp->line, why, "ProxyPass",
			    pp->url);
	for (d = v->dirs; d != NULL; d = d->next) {
		for (pp = d->proxypass; pp != NULL; pp = pp->next)
			if (is_tls_url(pp->url))
				error_at(p, pp->file, pp->line, why,
				    "ProxyPass", pp->url);
		for (mb = d->members; mb != NULL; mb = mb->next)
			if (is_tls_url(mb->url))
				error_at(p, mb->file, mb->line, why,
				    "BalancerMember", mb->url);
	}
}

static void
conf_finish(struct gw_parse *p)
{
	struct gw_config	*c = p->cfg;
	struct gw_vhost		*v;

	if (c->pid_file == NULL)
		c->pid_file = arena_strdup(c->arena,
		    GW_RUNSTATEDIR "/gatewayd.pid");
	if (c->error_log == NULL)
		c->error_log = arena_strdup(c->arena,
		    GW_LOCALSTATEDIR "/log/gatewayd/error_log");
	if (c->listeners == NULL && p->nerrors == 0)
		error_at(p, c->file, 0, "no Listen directive: gatewayd "
		    "would accept no connections (add e.g. \"Listen 80\")");
	check_mpm(p);
	check_mcache(p);
	check_cache_dirs(p, &c->main);
	check_cache_conf(p, &c->main.cache_conf, &c->main.cache_conf);
	check_dir_caches(p, &c->main);
	for (v = c->vhosts; v != NULL; v = v->next) {
		check_cache_conf(p, &v->cache_conf, &c->main.cache_conf);
		merge_vhost(v, &c->main);
		if (v->cache_dir_file != c->main.cache_dir_file ||
		    v->cache_dir_line != c->main.cache_dir_line)
			check_cache_dirs(p, v);
		check_dir_caches(p, v);
	}
	check_tls_backends(p, &c->main);
	for (v = c->vhosts; v != NULL; v = v->next)
		check_tls_backends(p, v);
	balancer_conf_build(p);
	tls_conf_build(p);	/* loads certificates and keys, as root */
}

/*---------------------------------------------------------------------
 * Entry points
 */

struct gw_config *
conf_load(const char *file, const char *const *defines, int ndefines,
    FILE *err, int *nerrors)
{
	struct gw_parse		 p;
	struct gw_config	*c;
	struct gw_strlist	*d, **dtail;
	struct node		*tree;
	struct stat		 st;
	int			 ok;

	c = NULL;
	memset(&p, 0, sizeof(p));
	p.arena = arena_new(16384);
	c = arena_alloc(p.arena, sizeof(*c));
	c->arena = p.arena;
	c->file = arena_strdup(p.arena, file);
	set_defaults(c);
	dtail = &c->defines;
	for (int i = 0; i < ndefines; i++) {
		d = arena_alloc(p.arena, sizeof(*d));
		d->s = arena_strdup(p.arena, defines[i]);
		*dtail = d;
		dtail = &d->next;
	}
	p.cfg = c;
	p.err = err;
	p.ctx = GW_CTX_SERVER;
	p.vhost = &c->main;
	p.file = c->file;
	if (stat(file, &st) == 0) {
		p.reading[0].dev = st.st_dev;
		p.reading[0].ino = st.st_ino;
	}
	tree = lex_file(&p, file, &ok);
	if (!ok) {
		error_at(&p, NULL, 0, "%s: cannot open configuration file: %s",
		    file, strerror(errno));
	} else {
		walk(&p, tree);
		conf_finish(&p);
	}
	flush_msgs(&p);
	*nerrors = p.nerrors;
	if (p.nerrors > 0) {
		for (struct gw_dir *rd = c->regex_dirs; rd != NULL;
		    rd = rd->next_re)
			regfree(rd->re);
		tls_free(c->tls);
		arena_free(p.arena);
		return NULL;
	}
	return c;
}

void
conf_free(struct gw_config *c)
{
	if (c != NULL) {
		for (struct gw_dir *d = c->regex_dirs; d != NULL;
		    d = d->next_re)
			regfree(d->re);
		tls_free(c->tls);
		arena_free(c->arena);
	}
}

int
conf_module_known(const char *name)
{
	return directives_module_known(name);
}

/*---------------------------------------------------------------------
 * conf_sanity: legal but surely not meant
 */

static int
acl_has_all(const struct gw_acl *a)
{
	for (; a != NULL; a = a->next)
		if (a->kind == GW_ACL_ALL)
			return 1;
	return 0;
}

/* require_denies_all - a Require tree that no client can pass. */
static int
require_denies_all(const struct gw_require *r, enum gw_req_kind container)
{
	int	any = 0;

	for (; r != NULL; r = r->next) {
		int denies;

		if (r->kind == GW_REQ_ALL_DENIED && !r->negate)
			denies = 1;
		else if (r->kind == GW_REQ_ALL || r->kind == GW_REQ_ANY)
			denies = require_denies_all(r->child, r->kind);
		else
			denies = 0;
		if (container == GW_REQ_ALL && denies)
			return 1;
		if (container != GW_REQ_ALL && !denies)
			return 0;
		any = 1;
	}
	return container == GW_REQ_ALL ? 0 : any;
}

/* conf_access_denies_all - does this access block refuse every client? */
static int
access_denies_all(const struct gw_access *ac)
{
	if (ac->style == 24)
		return require_denies_all(ac->require, GW_REQ_ANY);
	if (ac->style != 22)
		return 0;
	switch (ac->order) {
	case GW_ORDER_ALLOW_DENY:
	case GW_ORDER_MUTUAL_FAILURE:
		return ac->allow == NULL || acl_has_all(ac->deny);
	default:	/* Deny,Allow */
		return acl_has_all(ac->deny) && ac->allow == NULL;
	}
}

static int
has_proxypass(const struct gw_vhost *v)
{
	const struct gw_proxypass	*pp;
	const struct gw_dir		*d;

	for (pp = v->proxypass; pp != NULL; pp = pp->next)
		if (pp->url != NULL)
			return 1;
	for (d = v->dirs; d != NULL; d = d->next)
		if (d->proxypass != NULL && d->proxypass->url != NULL)
			return 1;
	return 0;
}

static int
has_proxy_access(const struct gw_vhost *v)
{
	const struct gw_dir	*d;

	for (d = v->dirs; d != NULL; d = d->next)
		if (d->kind == GW_DIR_PROXY && d->access.style != 0)
			return 1;
	return 0;
}

/* sanity_vhost - warnings for one server (main or virtual). */
static int
sanity_vhost(const struct gw_config *c, const struct gw_vhost *v, FILE *err)
{
	const struct gw_dir	*d;
	int			 n = 0, pp;

	if (v == &c->main) {
		const struct gw_vhost *o;

		pp = has_proxypass(v);
		for (o = c->vhosts; o != NULL && !pp; o = o->next)
			pp = has_proxypass(o);
	} else
		pp = has_proxypass(v) || has_proxypass(&c->main);
	for (d = v->dirs; d != NULL; d = d->next) {
		if (d->kind != GW_DIR_PROXY || strcmp(d->match, "*") != 0 ||
		    !access_denies_all(&d->access))
			continue;
		if (pp) {
			fprintf(err, "%s:%d: warning: <Proxy *> denies every "
			    "client, and it covers reverse-proxied requests "
			    "too: every ProxyPass request will get 403 "
			    "(Apache does the same)\n", d->file, d->line);
			n++;
		}
	}
	if (v->proxy_requests == 1 && (v == &c->main ||
	    v->proxy_requests_line != c->main.proxy_requests_line) &&
	    !has_proxy_access(v) &&
	    (v == &c->main || !has_proxy_access(&c->main))) {
		fprintf(err, "%s:%d: warning: ProxyRequests On with no "
		    "<Proxy> access control: this is an open proxy that "
		    "anyone can use to reach any host\n",
		    v->proxy_requests_file, v->proxy_requests_line);
		n++;
	}
	return n;
}

int
conf_sanity(const struct gw_config *c, FILE *err)
{
	const struct gw_vhost	*v;
	int			 n;

	n = sanity_vhost(c, &c->main, err);
	for (v = c->vhosts; v != NULL; v = v->next)
		n += sanity_vhost(c, v, err);
	return n;
}
