/*
 * gwcacheclean.c - gatewayd's htcacheclean(8): keeps a CacheRoot within
 * size and entry limits, lists its entries, deletes URLs, and sweeps
 * what no index record names (orphan body files, stale temp files,
 * empty directories).  Eviction, listing and deletion work from the
 * index; only the orphan sweep walks the directories.
 *
 * It joins the index as a worker does and never creates or recovers
 * it: the master does that when it starts.  Not here: the HTTP rules
 * (cache_policy.c), the record format (cache_db.c), the body layout
 * (cache_store.c).  man/gwcacheclean.8 says what a SIGKILL costs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cache_db.h"
#include "cache_policy.h"
#include "cache_store.h"
#include "log.h"

#define PROG		"gwcacheclean"
#define GRACE		600	/* s: younger temp and orphan files stay */
#define FUTURE_SLACK	60	/* s: cache_db.c's; a later atime is bogus */
#define WATCHDOG	300	/* s without progress: the index is stuck */
#define NICE_EVERY	100	/* items between naps with -n */
#define NICE_NAP_MS	10
#define MAX_MINUTES	(366L * 24 * 60)	/* -d */
#define MAX_LEVELS	20	/* CacheDirLevels x CacheDirLength <= 20 */
#define TMP_DIR		".tmp"	/* cache_store.c's temp files */
#define TMP_PREFIX	"body."
#define TMP_NAMELEN	11	/* "body.XXXXXX" (mkostemp) */
#define DATA_SUFFIX	".data"
#define DATA_SUFFIXLEN	5

enum mode { M_CLEAN, M_LIST, M_URLS };

struct opts {
	enum mode		 mode;
	char			 root[PATH_MAX];	/* absolute */
	struct cache_db_limits	 lim;
	long			 minutes;	/* -d; 0: one pass */
	int			 details;	/* -A */
	int			 dry, verbose, nice, dirs, realclean;
	int			 intelligent, foreground;
	char			 pidfile[PATH_MAX];
	char *const		*urls;
	int			 nurls;
};

/* What a pass removed (or, with -D, would remove). */
struct counts {
	uint64_t	 future, expired, lru;	/* evicted */
	uint64_t	 stale;			/* -r: expired, any limit */
	uint64_t	 nobody;		/* records without a body */
	uint64_t	 orphans, orphan_bytes;
	uint64_t	 temps, dirs, urls;
};

struct gwc {
	const struct opts	*o;
	struct cache_db		*h;
	int			 alone;		/* no gatewayd attached */
	int			 failed;	/* an error was reported */
	int			 lockfd;
	time_t			 now;
	int			 levels, length; /* the layout found last */
	unsigned long		 items;		/* for -n */
	struct cache_db_limits	 lim;		/* -l, -L; lifted to stop */
	struct cache_db_stats	 tot;		/* entries, bytes, as we go */
	struct counts		 c;
};

/* A record for the -D simulation of cache_db_evict. */
struct item {
	char			 name[CACHE_DB_NAME_MAX + 1];
	char			*url;
	struct cache_rec	 rec;
	int			 gone;
};

enum body { BODY_FOUND, BODY_MISSING, BODY_UNKNOWN };

static volatile sig_atomic_t	 stopping;
static int			 use_syslog;
static char			 stuck_msg[PATH_MAX + 256];
static size_t			 stuck_len;

static void	 say(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 usage(FILE *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*---------------------------------------------------------------------
 * Messages, signals, naps
 */

/* say - a message: stderr as "gwcacheclean: ...", or syslog (-d). */
static void
say(int prio, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		(void)fprintf(stderr, "%s: ", PROG);
		(void)vfprintf(stderr, fmt, ap);
		(void)fputc('\n', stderr);
		(void)fflush(stderr);
	}
	va_end(ap);
}

static void
usage(FILE *fp, const char *fmt, ...)
{
	va_list	 ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		(void)fprintf(fp, "%s: ", PROG);
		(void)vfprintf(fp, fmt, ap);
		(void)fputc('\n', fp);
		va_end(ap);
	}
	(void)fprintf(fp,
	    "usage: %s [-Dnrtv] [-l limit] [-L limit] -p root\n"
	    "       %s [-fint] [-P pidfile] [-l limit] [-L limit] "
	    "-d minutes -p root\n"
	    "       %s -a | -A -p root\n"
	    "       %s [-Dntv] -p root url ...\n", PROG, PROG, PROG, PROG);
}

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * on_alarm - the watchdog: no progress for WATCHDOG seconds means a
 * Berkeley DB call waits for good, on a lock or mutex of a process that
 * died with nobody to time the wait out.  A flag cannot end that wait,
 * so this says why and exits, with async-signal-safe calls only (in a
 * daemon, stderr is the pipe the parent relays to syslog).
 */
static void
on_alarm(int sig)
{
	(void)sig;
	if (write(STDERR_FILENO, stuck_msg, stuck_len) == -1)
		_exit(1);
	_exit(1);
}

static int
set_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;	/* no SA_RESTART: naps end early */
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;	/* a closed stdout is an error */
	return sigaction(SIGPIPE, &sa, NULL);
}

/* nap - sleep ms, or less when asked to stop. */
static void
nap(long ms)
{
	struct timespec	 ts, rem;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (!stopping && nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

/* progress - an item done: feed the watchdog; with -n, nap now and then. */
static void
progress(struct gwc *g)
{
	(void)alarm(WATCHDOG);
	if (g->o->nice && ++g->items % NICE_EVERY == 0)
		nap(NICE_NAP_MS);
}

/*---------------------------------------------------------------------
 * Options
 */

/* parse_count - "123", with B, K, M or G (1024-based) after it. */
static int
parse_count(const char *s, uint64_t *out)
{
	unsigned long long	 v;
	uint64_t		 mul = 1;
	char			*end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0':
	case 'B': case 'b':
		break;
	case 'K': case 'k':
		mul = 1024;
		break;
	case 'M': case 'm':
		mul = 1024 * 1024;
		break;
	case 'G': case 'g':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if ((*end != '\0' && end[1] != '\0') || v == 0 ||
	    v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int
parse_minutes(const char *s, long *out)
{
	char	*end;
	long	 v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > MAX_MINUTES)
		return -1;
	*out = v;
	return 0;
}

/* absolute - path made absolute (the daemon runs in /). */
static int
absolute(const char *path, char *out, size_t len)
{
	char	 cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(out, len, "%s", path) >= (int)len ? -1 : 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return snprintf(out, len, "%s/%s", cwd, path) >= (int)len ? -1 : 0;
}

/* check_opts - htcacheclean's combinations; NULL or what is wrong. */
static const char *
check_opts(const struct opts *o, int seen_p, int list)
{
	int	 limits = o->lim.max_bytes > 0 || o->lim.max_entries > 0;

	if (!seen_p)
		return "-p root is required";
	if (list && (limits || o->dry || o->nice || o->dirs ||
	    o->realclean || o->verbose || o->nurls > 0))
		return "-a and -A go with -p only";
	if (o->nurls > 0 && (limits || o->realclean))
		return "URLs cannot be given with -l, -L or -r";
	if (o->minutes > 0 && (o->dry || o->verbose || o->realclean ||
	    list || o->nurls > 0))
		return "-d cannot be used with -D, -v, -r, -a, -A or URLs";
	if (o->minutes == 0 && (o->intelligent || o->foreground ||
	    o->pidfile[0] != '\0'))
		return "-i, -f and -P need -d";
	return NULL;
}

/*
 * parse_args - fill o; -1 after a usage message, 1 after -h, else 0.
 */
static int
parse_args(int argc, char *argv[], struct opts *o)
{
	const char	*why, *root = NULL;
	int		 ch, list = 0;
	char		 seen[128];

	memset(o, 0, sizeof(*o));
	memset(seen, 0, sizeof(seen));
	opterr = 0;
	while ((ch = getopt(argc, argv, ":aAd:DfhiL:l:nP:p:rtv")) != -1) {
		if (ch != '?' && ch != ':' && seen[ch & 0x7f]++) {
			usage(stderr, "option -%c given twice", ch);
			return -1;
		}
		switch (ch) {
		case 'a': case 'A':
			if (list) {
				usage(stderr, "give -a or -A, not both");
				return -1;
			}
			list = 1;
			o->details = ch == 'A';
			break;
		case 'd':
			if (parse_minutes(optarg, &o->minutes) == -1) {
				usage(stderr, "-d %s: not a number of minutes "
				    "from 1 to %ld", optarg, MAX_MINUTES);
				return -1;
			}
			break;
		case 'D': o->dry = 1; break;
		case 'f': o->foreground = 1; break;
		case 'h': usage(stdout, NULL); return 1;
		case 'i': o->intelligent = 1; break;
		case 'L':
		case 'l':
			if (parse_count(optarg, ch == 'l' ? &o->lim.max_bytes :
			    &o->lim.max_entries) == -1) {
				usage(stderr, "-%c %s: not a limit (a number "
				    "above 0, then B, K, M or G)", ch, optarg);
				return -1;
			}
			break;
		case 'n': o->nice = 1; break;
		case 'P':
			if (absolute(optarg, o->pidfile, sizeof(o->pidfile)) ==
			    -1) {
				usage(stderr, "-P %s: path too long", optarg);
				return -1;
			}
			break;
		case 'p': root = optarg; break;
		case 'r': o->realclean = o->dirs = 1; break;
		case 't': o->dirs = 1; break;
		case 'v': o->verbose = 1; break;
		case ':':
			usage(stderr, "option -%c needs an argument", optopt);
			return -1;
		default:
			usage(stderr, "unknown option -%c", optopt);
			return -1;
		}
	}
	o->urls = argv + optind;
	o->nurls = argc - optind;
	if ((why = check_opts(o, root != NULL, list)) != NULL) {
		usage(stderr, "%s", why);
		return -1;
	}
	o->mode = list ? M_LIST : o->nurls > 0 ? M_URLS : M_CLEAN;
	if (realpath(root, o->root) == NULL) {
		say(LOG_ERR, "%s: %s", root, strerror(errno));
		return -1;
	}
	return 0;
}

/*---------------------------------------------------------------------
 * Joining the index
 */

/* drop_privileges - as root, become the CacheRoot's owner (workers). */
static int
drop_privileges(const char *root)
{
	struct stat	 st;

	if (geteuid() != 0)
		return 0;
	if (stat(root, &st) == -1) {
		say(LOG_ERR, "%s: %s", root, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) == -1 || setgid(st.st_gid) == -1 ||
	    setuid(st.st_uid) == -1 || setuid(0) != -1) {
		say(LOG_ERR, "cannot become uid %ld gid %ld, the owner of %s: "
		    "%s", (long)st.st_uid, (long)st.st_gid, root,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* index_file - 0 if home/file can be used, else -1 (said why). */
static int
index_file(const char *home, const char *file)
{
	char	 path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", home, file) >=
	    (int)sizeof(path)) {
		say(LOG_ERR, "%s: %s", home, strerror(ENAMETOOLONG));
		return -1;
	}
	if (access(path, R_OK | W_OK) == 0)
		return 0;
	if (errno == ENOENT)
		say(LOG_ERR, "the cache index in %s is incomplete (no %s): "
		    "starting gatewayd creates or rebuilds it", home, file);
	else if (errno == EACCES)
		say(LOG_ERR, "%s: permission denied: run %s as root or as "
		    "the user gatewayd's workers run as", path, PROG);
	else
		say(LOG_ERR, "%s: %s", path, strerror(errno));
	return -1;
}

/*
 * lock_index - one gwcacheclean per index: an exclusive flock(2) of the
 * .index directory (no file is created there).  The fd, or -1.
 */
static int
lock_index(const char *root)
{
	char	 home[PATH_MAX];
	int	 fd;

	if (snprintf(home, sizeof(home), "%s/%s", root, CACHE_DB_HOME) >=
	    (int)sizeof(home)) {
		say(LOG_ERR, "%s: %s", root, strerror(ENAMETOOLONG));
		return -1;
	}
	if ((fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			say(LOG_ERR, "no cache index in %s: gatewayd has "
			    "not used this CacheRoot yet (%s never creates "
			    "one)", root, PROG);
		else
			say(LOG_ERR, "%s: %s", home, strerror(errno));
		return -1;
	}
	if (index_file(home, "__db.001") == -1 ||
	    index_file(home, "index.db") == -1) {
		(void)close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			say(LOG_ERR, "another %s is working on %s", PROG,
			    root);
		else
			say(LOG_ERR, "flock %s: %s", home, strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * join - open the index.  Without a gatewayd attached (its master
 * stopped cleanly), nobody else runs failchk, so this does: a process
 * that died in a transaction (an earlier gwcacheclean killed by
 * SIGKILL) would otherwise block every writer for good.
 */
static int
join(struct gwc *g)
{
	char	 err[1024];

	g->alone = cache_db_clean_stop(g->o->root);
	err[0] = '\0';
	if ((g->h = cache_db_tool_open(g->o->root, NULL, err,
	    sizeof(err))) == NULL) {
		say(LOG_ERR, "cannot join the cache index: %s; %s never "
		    "recovers an index: starting gatewayd does", err, PROG);
		return -1;
	}
	if (g->alone && cache_db_failchk_alone(g->h) != CACHE_DB_OK) {
		say(LOG_ERR, "the cache index in %s/%s needs recovery (a "
		    "process died inside Berkeley DB): starting gatewayd "
		    "recovers it", g->o->root, CACHE_DB_HOME);
		return -1;
	}
	return 0;
}

/* index_failed - report what a cache_db call answered; -1. */
static int
index_failed(struct gwc *g, enum cache_db_status st, const char *what)
{
	g->failed = 1;
	switch (st) {
	case CACHE_DB_BUSY:
		say(LOG_ERR, "%s: the index is busy: other processes held "
		    "the locks needed through every retry, or a process "
		    "killed inside a transaction still holds them (gatewayd's "
		    "master frees them within a second); try again", what);
		break;
	case CACHE_DB_DEAD:
		say(LOG_ERR, "%s: the cache index needs recovery: starting "
		    "gatewayd recovers it", what);
		break;
	default:
		say(LOG_ERR, "%s: %s", what, cache_db_status_name(st));
		break;
	}
	return -1;
}

/*---------------------------------------------------------------------
 * Body files
 */

static int
hash_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '@')
			return 0;
	return n > 0;
}

/* body_at - name's body in the levels x length layout into path, st. */
static int
body_at(const struct gwc *g, const char *name, int levels, int length,
    char *path, size_t len, struct stat *st, int *unknown)
{
	struct cache_store	 s;

	if (cache_store_init(&s, g->o->root, levels, length) == -1 ||
	    cache_store_path(&s, name, path, len) == -1) {
		*unknown = 1;
		return -1;
	}
	if (lstat(path, st) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			*unknown = 1;
		return -1;
	}
	return S_ISREG(st->st_mode) ? 0 : -1;
}

/*
 * body_find - name's body file, in whatever layout (CacheDirLevels and
 * CacheDirLength are gatewayd's configuration, not known here): the one
 * found last first, then every other.  BODY_UNKNOWN when some path
 * could not be checked (never taken for "missing").
 */
static enum body
body_find(struct gwc *g, const char *name, char *path, size_t len,
    struct stat *st)
{
	int	 lv, ln, unknown = 0;

	if (strlen(name) != CP_HASH_LEN)
		return BODY_MISSING;	/* no file can have that name */
	if (g->levels > 0 && body_at(g, name, g->levels, g->length, path,
	    len, st, &unknown) == 0)
		return BODY_FOUND;
	for (lv = 1; lv <= MAX_LEVELS; lv++)
		for (ln = 1; lv * ln <= MAX_LEVELS; ln++) {
			if (lv == g->levels && ln == g->length)
				continue;
			if (body_at(g, name, lv, ln, path, len, st,
			    &unknown) == 0) {
				g->levels = lv;
				g->length = ln;
				return BODY_FOUND;
			}
		}
	return unknown ? BODY_UNKNOWN : BODY_MISSING;
}

/* prune - -t after a URL's body went: its directories, while empty. */
static void
prune(struct gwc *g, char *path)
{
	size_t	 rootlen = strlen(g->o->root);
	char	*slash;

	while ((slash = strrchr(path, '/')) != NULL &&
	    (size_t)(slash - path) > rootlen) {
		*slash = '\0';
		if (rmdir(path) == -1)
			break;
		g->c.dirs++;
	}
}

/* body_remove - unlink name's body file, if it has one. */
static void
body_remove(struct gwc *g, const char *name, int prune_dirs)
{
	struct stat	 st;
	char		 path[PATH_MAX];

	if (body_find(g, name, path, sizeof(path), &st) != BODY_FOUND)
		return;
	if (unlink(path) == -1) {
		if (errno != ENOENT)
			say(LOG_WARNING, "unlink %s: %s", path,
			    strerror(errno));
		return;
	}
	if (prune_dirs)
		prune(g, path);
}

/*---------------------------------------------------------------------
 * Records
 */

/* url_len - the URL in a cache key: a variant's ends at a tab. */
static int
url_len(const char *url)
{
	return (int)strcspn(url, "\t");
}

/* report - -D's line for one removal (stdout); -1 if stdout failed. */
static int
report(const char *why, const char *what, int len)
{
	if (printf("would remove %s %.*s\n", why, len, what) < 0) {
		say(LOG_ERR, "stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * record_remove - name's record, then its body (the order of
 * cache_invalidate: an index record always has its file).  1 removed,
 * 0 gone already, 2 busy (locks held through every retry), -1 failed.
 */
static int
record_remove(struct gwc *g, const char *name, const struct cache_rec *r,
    int prune_dirs)
{
	enum cache_db_status	 st;

	st = cache_db_del(g->h, name);
	if (st == CACHE_DB_MISS)
		return 0;
	if (st == CACHE_DB_BUSY)
		return 2;
	if (st != CACHE_DB_OK)
		return index_failed(g, st, "delete");
	g->tot.entries -= g->tot.entries > 0 ? 1 : 0;
	g->tot.bytes -= g->tot.bytes > r->size ? r->size : g->tot.bytes;
	body_remove(g, name, prune_dirs);
	return 1;
}

static int
expired(const struct gwc *g, const struct cache_rec *r)
{
	return r->expires != 0 && r->expires < g->now;
}

/*
 * sweep_why - what the record sweep does with a record: one without a
 * body file goes (gatewayd could never serve it); with -r, so does an
 * expired one.  The reason and its counter, or NULL to keep it.
 */
static const char *
sweep_why(struct gwc *g, const char *name, const struct cache_rec *r,
    uint64_t **count)
{
	struct stat	 st;
	char		 path[PATH_MAX];

	switch (body_find(g, name, path, sizeof(path), &st)) {
	case BODY_MISSING:
		*count = &g->c.nobody;
		return "no-body";
	case BODY_FOUND:
		if (!g->o->realclean || !expired(g, r))
			return NULL;
		*count = &g->c.stale;
		return "expired";
	default:
		return NULL;
	}
}

/* sweep_one - the record sweep, for real. */
static int
sweep_one(const char *name, const char *url, const struct cache_rec *r,
    void *arg)
{
	struct gwc	*g = arg;
	uint64_t	*count;
	int		 rc;

	(void)url;
	progress(g);
	if (stopping)
		return 1;
	if (sweep_why(g, name, r, &count) == NULL)
		return 0;
	if ((rc = record_remove(g, name, r, 0)) == -1)
		return 1;
	*count += rc == 1;	/* busy: left for the next pass */
	return 0;
}

/*---------------------------------------------------------------------
 * Eviction
 */

/*
 * evicted - cache_db_evict's callback, after each batch commits.  Asked
 * to stop, it lifts the limits, which cache_db_evict reads before each
 * batch: a SIGTERM ends a long eviction within a batch, so that no
 * supervisor's stop timeout comes to a SIGKILL (see CAVEATS).
 */
static void
evicted(const char *name, const struct cache_rec *r, void *arg)
{
	struct gwc	*g = arg;

	if (stopping)
		memset(&g->lim, 0, sizeof(g->lim));
	if (r->atime > g->now + FUTURE_SLACK)
		g->c.future++;
	else if (expired(g, r))
		g->c.expired++;
	else
		g->c.lru++;
	body_remove(g, name, 0);
	progress(g);
}

static int
over(const struct cache_db_limits *l, const struct cache_db_stats *t)
{
	return (l->max_entries > 0 && t->entries > l->max_entries) ||
	    (l->max_bytes > 0 && t->bytes > l->max_bytes);
}

static int
evict(struct gwc *g)
{
	enum cache_db_status	 st;

	g->lim = g->o->lim;
	if (!over(&g->lim, &g->tot))
		return 0;
	(void)cache_db_evict(g->h, g->now, &g->lim, &g->tot, evicted, g,
	    &st);
	if (st != CACHE_DB_OK)
		return index_failed(g, st, "evict");
	return 0;
}

/*---------------------------------------------------------------------
 * Dry run (-D): the same sweep and eviction, simulated in memory, in
 * cache_db_evict's order: records last used in the future (latest
 * first), expired ones (soonest first), then least recently used, the
 * name breaking ties as the secondaries' sorted duplicates do.
 */

struct sim {
	struct gwc	*g;
	struct item	*v;
	size_t		 n, cap;
	int		 failed;
};

static int
sim_add(struct sim *s, const char *name, const char *url,
    const struct cache_rec *r)
{
	struct item	*v;
	size_t		 cap;

	if (s->n == s->cap) {
		cap = s->cap > 0 ? s->cap * 2 : 1024;
		if ((v = reallocarray(s->v, cap, sizeof(*v))) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	v = &s->v[s->n];
	memset(v, 0, sizeof(*v));
	(void)snprintf(v->name, sizeof(v->name), "%s", name);
	v->rec = *r;
	if ((v->url = strdup(url)) == NULL)
		return -1;
	s->n++;
	return 0;
}

/* sim_collect - the sweep said, the rest kept for the eviction. */
static int
sim_collect(const char *name, const char *url, const struct cache_rec *r,
    void *arg)
{
	struct sim	*s = arg;
	struct gwc	*g = s->g;
	const char	*why;
	uint64_t	*count;

	progress(g);
	if (stopping)
		return 1;
	if ((why = sweep_why(g, name, r, &count)) != NULL) {
		(*count)++;
		g->tot.entries -= g->tot.entries > 0 ? 1 : 0;
		g->tot.bytes -= g->tot.bytes > r->size ? r->size :
		    g->tot.bytes;
		if (report(why, url, url_len(url)) == -1)
			goto fail;
		return 0;
	}
	if (sim_add(s, name, url, r) == 0)
		return 0;
	say(LOG_ERR, "-D: %s", strerror(errno));
fail:
	s->failed = 1;
	return 1;
}

static time_t	 sim_now;

static int
by_atime(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a;
	const struct item *y = *(const struct item *const *)b;

	if (x->rec.atime != y->rec.atime)
		return x->rec.atime < y->rec.atime ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
by_atime_desc(const void *a, const void *b)
{
	return by_atime(b, a);
}

static int
by_expires(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a;
	const struct item *y = *(const struct item *const *)b;

	if (x->rec.expires != y->rec.expires)
		return x->rec.expires < y->rec.expires ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* in_phase - would cache_db_evict's phase take this record? */
static int
in_phase(int phase, const struct item *it)
{
	switch (phase) {
	case 0:
		return it->rec.atime > sim_now + FUTURE_SLACK;
	case 1:
		return it->rec.expires != 0 && it->rec.expires < sim_now;
	default:
		return 1;
	}
}

/* sim_phase - take the phase's records in order while over a limit. */
static int
sim_phase(struct sim *s, struct item **pv, int phase)
{
	static int (*const order[])(const void *, const void *) = {
		by_atime_desc, by_expires, by_atime
	};
	static const char *const why[] = { "future", "expired", "lru" };
	uint64_t	*count[3];
	struct gwc	*g = s->g;
	size_t		 i, n = 0;

	count[0] = &g->c.future;
	count[1] = &g->c.expired;
	count[2] = &g->c.lru;
	for (i = 0; i < s->n; i++)
		if (!s->v[i].gone && in_phase(phase, &s->v[i]))
			pv[n++] = &s->v[i];
	qsort(pv, n, sizeof(*pv), order[phase]);
	for (i = 0; i < n && over(&g->o->lim, &g->tot); i++) {
		pv[i]->gone = 1;
		(*count[phase])++;
		g->tot.entries--;
		g->tot.bytes -= g->tot.bytes > pv[i]->rec.size ?
		    pv[i]->rec.size : g->tot.bytes;
		if (report(why[phase], pv[i]->url, url_len(pv[i]->url)) ==
		    -1)
			return -1;
	}
	return 0;
}

static int
dry_run(struct gwc *g)
{
	enum cache_db_status	 st;
	struct item		**pv = NULL;
	struct sim		 s;
	int			 phase, rc = 0;

	memset(&s, 0, sizeof(s));
	s.g = g;
	sim_now = g->now;
	st = cache_db_iterate(g->h, sim_collect, &s);
	if (st != CACHE_DB_OK)
		rc = index_failed(g, st, "walk");
	else if (s.failed)
		rc = -1;
	else if (s.n > 0 && (pv = calloc(s.n, sizeof(*pv))) == NULL) {
		say(LOG_ERR, "-D: %s", strerror(errno));
		rc = -1;
	}
	for (phase = 0; rc == 0 && pv != NULL && phase < 3 && !stopping;
	    phase++)
		rc = sim_phase(&s, pv, phase);
	free(pv);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].url);
	free(s.v);
	if (rc == -1)
		g->failed = 1;
	return rc;
}

/*---------------------------------------------------------------------
 * The orphan sweep: the only directory walk.  Under the root, hidden
 * entries (.index, .index.broken, ...) are never entered, but for the
 * temp files in .tmp; a directory is walked only when its name could
 * be a level of a hash name, a file considered only when it is a body
 * file's name.  Nothing else is touched.
 */

/* young - mtime within GRACE of now (either way): maybe in use. */
static int
young(const struct gwc *g, const struct stat *st)
{
	time_t	 d = g->now - st->st_mtime;

	return !g->o->realclean && d < GRACE && d > -GRACE;
}

/* drop_file - remove (or with -D, name) dir/ent; 0 gone, 1 stays. */
static int
drop_file(struct gwc *g, int dfd, const char *dir, const char *ent,
    const char *why)
{
	char	 path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, ent) >=
	    (int)sizeof(path))
		return 1;
	if (g->o->dry)
		return report(why, path, (int)strlen(path)) == -1 ? -1 : 0;
	if (unlinkat(dfd, ent, strcmp(why, "dir") == 0 ? AT_REMOVEDIR :
	    0) == 0 || errno == ENOENT)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)	/* a store began */
		say(LOG_WARNING, "remove %s: %s", path, strerror(errno));
	return 1;
}

/* orphan - a body file named name: gone when no record names it. */
static int
orphan(struct gwc *g, int dfd, const char *dir, const char *ent,
    const char *name, const struct stat *st)
{
	enum cache_db_status	 s;
	int			 rc;

	s = cache_db_find(g->h, name, NULL, 0, NULL);
	if (s == CACHE_DB_OK || s == CACHE_DB_BUSY)
		return 1;
	if (s != CACHE_DB_MISS)
		return index_failed(g, s, "look-up");
	if (young(g, st))
		return 1;	/* maybe renamed, its record not put yet */
	if ((rc = drop_file(g, dfd, dir, ent, "orphan")) == 0) {
		g->c.orphans++;
		g->c.orphan_bytes += (uint64_t)st->st_size;
	}
	return rc;
}

/* sweep_tmp - temp files (cache_store_begin's) older than GRACE. */
static int
sweep_tmp(struct gwc *g, int pfd, const char *root)
{
	struct dirent	*de;
	struct stat	 st;
	char		 dir[PATH_MAX];
	DIR		*d;
	int		 fd, rc = 0;

	if ((fd = openat(pfd, TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : 1;
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return 1;
	}
	(void)snprintf(dir, sizeof(dir), "%s/%s", root, TMP_DIR);
	while (rc != -1 && !stopping && (de = readdir(d)) != NULL) {
		progress(g);
		if (strlen(de->d_name) != TMP_NAMELEN ||
		    strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || young(g, &st))
			continue;
		if ((rc = drop_file(g, fd, dir, de->d_name, "temp")) == 0)
			g->c.temps++;
	}
	if (closedir(d) == -1)
		say(LOG_WARNING, "closedir %s: %s", dir, strerror(errno));
	return rc == -1 ? -1 : 0;
}

struct walk {
	char	 dir[PATH_MAX];		/* for messages */
	char	 name[CP_HASH_LEN + 1];	/* hash name so far */
	size_t	 nlen;
	size_t	 comp;			/* directory name length, 0: any */
	int	 depth;
};

static long	 walk_dir(struct gwc *, int, struct walk *);

/* walk_subdir - dir w->dir/ent, when a hash level; 0 gone, 1 stays. */
static int
walk_subdir(struct gwc *g, int dfd, const struct walk *w, const char *ent)
{
	struct walk	 sub;
	size_t		 len = strlen(ent);
	long		 left;
	int		 fd, rc;

	if (!hash_chars(ent, len) || (w->comp > 0 && len != w->comp) ||
	    w->nlen + len >= CP_HASH_LEN || w->depth >= MAX_LEVELS)
		return 1;
	sub = *w;
	if (snprintf(sub.dir, sizeof(sub.dir), "%s/%s", w->dir, ent) >=
	    (int)sizeof(sub.dir))
		return 1;
	memcpy(sub.name + w->nlen, ent, len + 1);
	sub.nlen = w->nlen + len;
	sub.comp = len;
	sub.depth = w->depth + 1;
	if ((fd = openat(dfd, ent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			say(LOG_WARNING, "%s: %s", sub.dir, strerror(errno));
		return errno == ENOENT ? 0 : 1;
	}
	if ((left = walk_dir(g, fd, &sub)) != 0)
		return left < 0 ? -1 : 1;
	if (!g->o->dirs)
		return 1;
	if ((rc = drop_file(g, dfd, w->dir, ent, "dir")) == 0)
		g->c.dirs++;
	return rc;
}

/* walk_entry - one entry of w->dir: 0 gone, 1 stays, -1 failed. */
static int
walk_entry(struct gwc *g, int dfd, const struct walk *w, const char *ent)
{
	struct stat	 st;
	char		 name[CP_HASH_LEN + 1];
	size_t		 len = strlen(ent), stem;

	if (fstatat(dfd, ent, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : 1;
	if (S_ISDIR(st.st_mode))
		return walk_subdir(g, dfd, w, ent);
	stem = len > DATA_SUFFIXLEN ? len - DATA_SUFFIXLEN : 0;
	if (!S_ISREG(st.st_mode) || w->depth == 0 || stem == 0 ||
	    strcmp(ent + stem, DATA_SUFFIX) != 0 || !hash_chars(ent, stem) ||
	    w->nlen + stem != CP_HASH_LEN)
		return 1;	/* not a body file */
	memcpy(name, w->name, w->nlen);
	memcpy(name + w->nlen, ent, stem);
	name[CP_HASH_LEN] = '\0';
	return orphan(g, dfd, w->dir, ent, name, &st);
}

/*
 * walk_dir - the entries of w->dir, open as fd (closed here): how many
 * stay (so 0: the directory is empty now, or would be with -D), or -1
 * when the index failed.
 */
static long
walk_dir(struct gwc *g, int fd, struct walk *w)
{
	struct dirent	*de;
	DIR		*d;
	long		 left = 0;
	int		 rc = 0;

	if ((d = fdopendir(fd)) == NULL) {
		say(LOG_WARNING, "%s: %s", w->dir, strerror(errno));
		(void)close(fd);
		return 1;
	}
	while (rc != -1 && !stopping) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				say(LOG_WARNING, "readdir %s: %s", w->dir,
				    strerror(errno));
				left++;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		progress(g);
		if (w->depth == 0 && de->d_name[0] == '.') {
			if (strcmp(de->d_name, TMP_DIR) == 0)
				rc = sweep_tmp(g, dirfd(d), w->dir);
			left++;
			continue;
		}
		if ((rc = walk_entry(g, dirfd(d), w, de->d_name)) != -1)
			left += rc;
	}
	if (closedir(d) == -1)
		say(LOG_WARNING, "closedir %s: %s", w->dir, strerror(errno));
	if (rc == -1 || g->failed)
		return -1;
	return stopping ? left + 1 : left;
}

static int
sweep_files(struct gwc *g)
{
	struct walk	 w;
	int		 fd;

	memset(&w, 0, sizeof(w));
	(void)snprintf(w.dir, sizeof(w.dir), "%s", g->o->root);
	if ((fd = open(g->o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		say(LOG_ERR, "%s: %s", g->o->root, strerror(errno));
		return -1;
	}
	return walk_dir(g, fd, &w) < 0 ? -1 : 0;
}

/*---------------------------------------------------------------------
 * Listing (-a, -A)
 */

static const char *
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return "-";
	return buf;
}

/*
 * body_state - -A's BODY column: yes, missing, stale (not the size or
 * inode the record says: gatewayd would remove it), damaged (no body
 * file header), unknown; *type: entry, variant (of a URL with Vary),
 * vary (the marker naming a URL's Vary fields).
 */
static const char *
body_state(struct gwc *g, const char *name, const char *url,
    const struct cache_rec *r, const char **type)
{
	struct cache_file_hdr	 fh;
	struct stat		 st;
	char			 path[PATH_MAX];
	ssize_t			 n;
	int			 fd;

	*type = strchr(url, '\t') != NULL ? "variant" : "entry";
	switch (body_find(g, name, path, sizeof(path), &st)) {
	case BODY_MISSING:
		return "missing";
	case BODY_UNKNOWN:
		return "unknown";
	default:
		break;
	}
	if ((uint64_t)st.st_size != r->size ||
	    (uint64_t)st.st_ino != r->inode)
		return "stale";
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? "missing" : "unknown";
	n = read(fd, &fh, sizeof(fh));
	(void)close(fd);		/* read only */
	if (n != (ssize_t)sizeof(fh) || fh.magic != CACHE_FILE_MAGIC ||
	    fh.version != CACHE_FILE_VERSION)
		return "damaged";
	if (fh.meta.flags & CACHE_M_VARY)
		*type = "vary";
	return "yes";
}

static int
list_one(const char *name, const char *url, const struct cache_rec *r,
    void *arg)
{
	struct gwc	*g = arg;
	const char	*body, *type;
	char		 t1[32], t2[32], t3[32];
	int		 n;

	progress(g);
	if (stopping)
		return 1;
	if (!g->o->details) {
		n = printf("%.*s\n", url_len(url), url);
	} else {
		body = body_state(g, name, url, r, &type);
		n = printf("%.*s %llu %u %s %s %s %s %s %s\n", url_len(url),
		    url, (unsigned long long)r->size, (unsigned)r->status,
		    fmt_time(r->stored, t1, sizeof(t1)),
		    fmt_time(r->expires, t2, sizeof(t2)),
		    fmt_time(r->atime, t3, sizeof(t3)), body, type, name);
	}
	if (n < 0) {
		say(LOG_ERR, "stdout: %s", strerror(errno));
		g->failed = 1;
		return 1;
	}
	return 0;
}

static int
do_list(struct gwc *g)
{
	enum cache_db_status	 st;

	if ((st = cache_db_iterate(g->h, list_one, g)) != CACHE_DB_OK)
		return index_failed(g, st, "walk");
	return g->failed ? -1 : 0;
}

/*---------------------------------------------------------------------
 * Deleting URLs: the entry whose cache key is the URL, and every
 * variant stored under it (key "URL<tab>generation<tab>fields").
 */

struct urls {
	struct gwc	*g;
	char		*found;		/* per URL */
};

/* url_drop - one entry of an asked URL; 0 or -1 (said why). */
static int
url_drop(struct gwc *g, const char *name, const char *url,
    const struct cache_rec *r, const char *why)
{
	int	 rc;

	if (g->o->dry) {
		g->c.urls++;
		return report(why, url, url_len(url));
	}
	if ((rc = record_remove(g, name, r, g->o->dirs)) == 2)
		return index_failed(g, CACHE_DB_BUSY, url);
	g->c.urls += rc == 1;
	return rc == -1 ? -1 : 0;
}

static int
url_variant(const char *name, const char *url, const struct cache_rec *r,
    void *arg)
{
	struct urls	*a = arg;
	struct gwc	*g = a->g;
	size_t		 len = (size_t)url_len(url);

	progress(g);
	if (stopping)
		return 1;
	if (url[len] != '\t')
		return 0;
	for (int i = 0; i < g->o->nurls; i++) {
		if (strlen(g->o->urls[i]) != len ||
		    memcmp(g->o->urls[i], url, len) != 0)
			continue;
		a->found[i] = 1;
		return url_drop(g, name, url, r, "variant") == -1 ? 1 : 0;
	}
	return 0;
}

/* do_urls - 0 all were cached and are gone, 2 some were not, or -1. */
static int
do_urls(struct gwc *g)
{
	const struct opts	*o = g->o;
	enum cache_db_status	 st;
	struct cache_rec	 r;
	struct urls		 a;
	char			 name[CP_HASH_LEN + 1];
	int			 i, missing = 0;

	a.g = g;
	if ((a.found = calloc((size_t)o->nurls, 1)) == NULL) {
		say(LOG_ERR, "%s", strerror(errno));
		return -1;
	}
	for (i = 0; i < o->nurls && !g->failed; i++) {
		if (cache_policy_hash(o->urls[i], strlen(o->urls[i]),
		    name) == -1) {
			say(LOG_ERR, "%s: cannot hash it", o->urls[i]);
			g->failed = 1;
			break;
		}
		st = cache_db_get(g->h, name, o->urls[i], &r);
		if (st == CACHE_DB_MISS)
			continue;
		a.found[i] = 1;
		if (st != CACHE_DB_OK)
			(void)index_failed(g, st, o->urls[i]);
		else
			(void)url_drop(g, name, o->urls[i], &r, "url");
	}
	if (!g->failed &&
	    (st = cache_db_iterate(g->h, url_variant, &a)) != CACHE_DB_OK)
		(void)index_failed(g, st, "walk");
	for (i = 0; i < o->nurls && !g->failed && !stopping; i++) {
		if (a.found[i])
			continue;
		missing = 1;
		say(LOG_WARNING, "%s: not in the cache%s", o->urls[i],
		    strchr(o->urls[i], '?') != NULL ? "" : " (a cache key "
		    "always holds a '?', as in http://host:80/path?)");
	}
	free(a.found);
	return g->failed ? -1 : missing ? 2 : 0;
}

/*---------------------------------------------------------------------
 * A cleaning pass
 */

static const char *
limit_str(uint64_t v, char *buf, size_t len)
{
	if (v == 0)
		return "none";
	(void)snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* print_stats - -v: what the pass did (with -D: would do). */
static int
print_stats(const struct gwc *g, const struct cache_db_stats *b,
    const struct cache_db_stats *a)
{
	const struct counts	*c = &g->c;
	char			 l1[32], l2[32];
	int			 n;

	if (g->o->mode == M_URLS)
		n = printf("%sentries removed: %llu\nempty directories "
		    "removed: %llu\n", g->o->dry ? "dry run: nothing was "
		    "removed\n" : "", (unsigned long long)c->urls,
		    (unsigned long long)c->dirs);
	else
		n = printf("%sentries: %llu -> %llu (limit %s)\n"
		    "bytes: %llu -> %llu (limit %s)\n"
		    "evicted: %llu (used in the future %llu, expired %llu, "
		    "least recently used %llu)\n"
		    "expired entries (-r): %llu\n"
		    "entries without a body file: %llu\n"
		    "orphan body files: %llu (%llu bytes)\n"
		    "stale temp files: %llu\n"
		    "empty directories: %llu\n",
		    g->o->dry ? "dry run: nothing was removed; the figures "
		    "are what a real run would do\n" : "",
		    (unsigned long long)b->entries,
		    (unsigned long long)a->entries,
		    limit_str(g->o->lim.max_entries, l1, sizeof(l1)),
		    (unsigned long long)b->bytes,
		    (unsigned long long)a->bytes,
		    limit_str(g->o->lim.max_bytes, l2, sizeof(l2)),
		    (unsigned long long)(c->future + c->expired + c->lru),
		    (unsigned long long)c->future,
		    (unsigned long long)c->expired,
		    (unsigned long long)c->lru, (unsigned long long)c->stale,
		    (unsigned long long)c->nobody,
		    (unsigned long long)c->orphans,
		    (unsigned long long)c->orphan_bytes,
		    (unsigned long long)c->temps,
		    (unsigned long long)c->dirs);
	if (n < 0) {
		say(LOG_ERR, "stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
same(const struct cache_db_stats *a, const struct cache_db_stats *b)
{
	return a->entries == b->entries && a->bytes == b->bytes &&
	    a->expiry_entries == b->expiry_entries;
}

/*
 * do_clean - the record sweep, eviction, the file sweep.  *after gets
 * the totals at the end (-i compares the next pass's start with them).
 */
static int
do_clean(struct gwc *g, const struct cache_db_stats *last,
    struct cache_db_stats *after)
{
	struct cache_db_stats	 before;
	enum cache_db_status	 st;

	if ((st = cache_db_stats(g->h, &before)) != CACHE_DB_OK)
		return index_failed(g, st, "count");
	*after = before;
	if (g->o->intelligent && last != NULL && same(&before, last))
		return 0;			/* -i: nothing changed */
	g->tot = before;
	if (g->o->dry) {
		if (dry_run(g) == -1)
			return -1;
	} else {
		if ((st = cache_db_iterate(g->h, sweep_one, g)) !=
		    CACHE_DB_OK)
			return index_failed(g, st, "walk");
		if (g->failed || evict(g) == -1)
			return -1;
	}
	if (!stopping && sweep_files(g) == -1)
		return -1;
	if (g->o->dry)
		*after = g->tot;
	else if ((g->o->verbose || g->o->intelligent) &&
	    (st = cache_db_stats(g->h, after)) != CACHE_DB_OK)
		return index_failed(g, st, "count");
	if (g->o->verbose && print_stats(g, &before, after) == -1)
		return -1;
	return 0;
}

static int
removed_any(const struct counts *c)
{
	return c->future + c->expired + c->lru + c->stale + c->nobody +
	    c->urls > 0;
}

/* leave - close the index; alone, checkpoint first (no master does). */
static void
leave(struct gwc *g)
{
	if (g->h == NULL)
		return;
	if (g->alone && !g->o->dry && removed_any(&g->c) &&
	    cache_db_tick(g->h) != CACHE_DB_OK)
		say(LOG_WARNING, "checkpoint of the index failed");
	cache_db_close(g->h);
	g->h = NULL;
}

/*
 * run - one pass of o's mode, in this process: exit status 0, 1 or 2
 * (a URL was not cached).  After a cleaning pass, its end totals go to
 * statfd (not -1) for the daemon's -i.
 */
static int
run(const struct opts *o, const struct cache_db_stats *last, int statfd)
{
	struct cache_db_stats	 after;
	struct gwc		 g;
	int			 n, rc = -1;

	memset(&g, 0, sizeof(g));
	memset(&after, 0, sizeof(after));
	g.o = o;
	g.now = time(NULL);
	n = snprintf(stuck_msg, sizeof(stuck_msg), "%s: no progress in %d "
	    "s: the cache index in %s/%s waits for a lock or mutex of a "
	    "process that died; it needs recovery, which starting gatewayd "
	    "does\n", PROG, WATCHDOG, o->root, CACHE_DB_HOME);
	stuck_len = n > 0 && (size_t)n < sizeof(stuck_msg) ? (size_t)n :
	    strlen(stuck_msg);
	if (drop_privileges(o->root) == -1 ||
	    (g.lockfd = lock_index(o->root)) == -1)
		return 1;
	(void)alarm(WATCHDOG);
	if (join(&g) == 0) {
		if (o->mode == M_LIST)
			rc = do_list(&g);
		else if (o->mode == M_URLS)
			rc = do_urls(&g);
		else
			rc = do_clean(&g, last, &after);
		if (rc != -1 && o->verbose && o->mode == M_URLS &&
		    print_stats(&g, NULL, NULL) == -1)
			rc = -1;
	}
	if (rc == 0 && stopping) {
		say(LOG_NOTICE, "stopped by a signal before the end");
		rc = -1;
	}
	leave(&g);
	(void)alarm(0);
	if (close(g.lockfd) == -1)
		say(LOG_WARNING, "close: %s", strerror(errno));
	if (rc == 0 && statfd != -1 && o->mode == M_CLEAN &&
	    write(statfd, &after, sizeof(after)) != (ssize_t)sizeof(after))
		say(LOG_WARNING, "-i: %s", strerror(errno));
	return rc == -1 ? 1 : rc;
}

/*---------------------------------------------------------------------
 * Daemon (-d): a parent that stays out of Berkeley DB and runs each
 * pass in a child of its own (own handles, privileges dropped there,
 * its messages relayed to syslog, a SIGTERM passed on to it).
 */

static int
daemonize(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1 || (pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1 || (fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		return -1;
	if (fd > STDERR_FILENO)
		(void)close(fd);
	return 0;
}

static int
pidfile_write(const char *path)
{
	char	 buf[32];
	int	 fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static void
pidfile_remove(const char *path, int fd)
{
	if (unlink(path) == -1 && errno != ENOENT && ftruncate(fd, 0) == -1)
		say(LOG_WARNING, "%s: %s", path, strerror(errno));
	if (close(fd) == -1)
		say(LOG_WARNING, "%s: %s", path, strerror(errno));
}

/* pass_on - a stop asked of the parent goes to the child, once. */
static void
pass_on(pid_t child, int *told)
{
	if (stopping && !*told) {
		(void)kill(child, SIGTERM);
		*told = 1;
	}
}

static void
relay_line(const char *line)
{
	size_t	 skip = strlen(PROG ": ");

	if (strncmp(line, PROG ": ", skip) == 0)
		line += skip;
	if (*line != '\0')
		syslog(LOG_ERR, "%s", line);
}

/* relay - the child's stderr lines to syslog, until it closes it. */
static void
relay(int fd, pid_t child, int *told)
{
	char	 buf[2048], *p, *nl;
	size_t	 len = 0;
	ssize_t	 n;

	for (;;) {
		pass_on(child, told);
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			relay_line(p);
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		buf[len] = '\0';
		if (n <= 0 || len == sizeof(buf) - 1) {	/* end, or full */
			relay_line(buf);
			len = 0;
		}
		if (n <= 0)
			break;
	}
}

/* one_pass - a pass in a child; its end totals into *last (-i). */
static void
one_pass(const struct opts *o, struct cache_db_stats *last, int *have)
{
	struct cache_db_stats	 st;
	int			 sp[2], ep[2] = { -1, -1 }, status, told = 0;
	pid_t			 pid;

	if (pipe2(sp, O_CLOEXEC) == -1 ||
	    (use_syslog && pipe2(ep, O_CLOEXEC) == -1)) {
		say(LOG_ERR, "pipe: %s", strerror(errno));
		return;
	}
	(void)fflush(NULL);
	if ((pid = fork()) == -1) {
		say(LOG_ERR, "fork: %s", strerror(errno));
		(void)close(sp[0]);
		(void)close(sp[1]);
		return;
	}
	if (pid == 0) {
		(void)close(sp[0]);
		if (ep[1] != -1 && dup2(ep[1], STDERR_FILENO) == -1)
			_exit(1);
		use_syslog = 0;
		_exit(run(o, *have ? last : NULL, sp[1]));
	}
	(void)close(sp[1]);
	if (ep[0] != -1) {
		(void)close(ep[1]);
		relay(ep[0], pid, &told);
		(void)close(ep[0]);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			say(LOG_ERR, "waitpid: %s", strerror(errno));
			break;
		}
		pass_on(pid, &told);
	}
	if (read(sp[0], &st, sizeof(st)) == (ssize_t)sizeof(st)) {
		*last = st;
		*have = 1;
	}
	(void)close(sp[0]);
	if (WIFSIGNALED(status))
		say(LOG_ERR, "a cleaning pass of %s was killed by signal %d",
		    o->root, WTERMSIG(status));
}

static int
daemon_loop(const struct opts *o)
{
	struct cache_db_stats	 last;
	struct timespec		 ts;
	int			 have = 0, pidfd = -1;

	memset(&last, 0, sizeof(last));
	if (!o->foreground) {
		openlog(PROG, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		if (daemonize() == -1) {
			say(LOG_ERR, "cannot become a daemon: %s",
			    strerror(errno));
			return 1;
		}
		use_syslog = 1;
	}
	if (o->pidfile[0] != '\0' &&
	    (pidfd = pidfile_write(o->pidfile)) == -1) {
		say(LOG_ERR, "%s: %s", o->pidfile, strerror(errno));
		return 1;
	}
	while (!stopping) {
		one_pass(o, &last, &have);
		ts.tv_sec = o->minutes * 60;
		ts.tv_nsec = 0;
		while (!stopping && nanosleep(&ts, &ts) == -1 &&
		    errno == EINTR)
			;
	}
	if (pidfd != -1)
		pidfile_remove(o->pidfile, pidfd);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts	 o;
	int		 rc;

	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc == 1 ? 0 : 1;
	/*
	 * The index's own messages: all of them with -v; else only errors,
	 * copied to stderr (failchk's notices, say, would make cron mail).
	 */
	if (!o.verbose && log_open("/dev/null", GW_LOG_ERR) == 0)
		log_set_tee(1);
	if (set_signals() == -1) {
		say(LOG_ERR, "sigaction: %s", strerror(errno));
		return 1;
	}
	if (o.minutes > 0)
		return daemon_loop(&o);
	rc = run(&o, NULL, -1);
	if (fflush(stdout) == EOF && rc != 1) {
		say(LOG_ERR, "stdout: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}
