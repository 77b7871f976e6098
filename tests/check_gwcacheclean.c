/*
 * check_gwcacheclean.c - tests of gwcacheclean, the real binary
 * (GWC_TEST_BINARY), on a real CacheRoot in a temp dir: an index made
 * with cache_db_master_open and body files written as cache.c writes
 * them (struct cache_file_hdr, the head, the body; temp file, rename,
 * then the index record).  The test keeps the master's handle open
 * while the tool runs, as a running gatewayd does, except where it
 * tests a stopped one.
 *
 * Check runs each test in its own process; every BDB handle is opened
 * inside the test.  Every wait is bounded; no assertion depends on
 * timing (file ages are set with utimensat, times are far apart).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cache_db.h"
#include "testlib.h"
#include "cache_policy.h"
#include "cache_store.h"

#define WAIT_MS		60000		/* for a run of the tool */
#define HOST		"www.example.com"
#define OLD		3600		/* s: an age past the tool's grace */

struct ent {
	char		 key[512];
	char		 name[CP_HASH_LEN + 1];
	char		 path[PATH_MAX];
	uint64_t	 size;
};

static char			 base[PATH_MAX];
static char			 root[PATH_MAX];
static char			 outpath[PATH_MAX], errpath[PATH_MAX];
static char			 out[65536], err[16384];
static struct cache_store	 store;
static struct cache_db_opts	 topts;
static time_t			 now;

/*--------------------------------------------------------------------
 * Helpers
 */

static void
setup(void)
{
	char	 tmpl[] = "/tmp/check_gwcacheclean.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_lt(snprintf(base, sizeof(base), "%s", tmpl),
	    (int)sizeof(base));
	ck_assert_int_lt(snprintf(root, sizeof(root), "%s/cache", base),
	    (int)sizeof(root));
	ck_assert_int_lt(snprintf(outpath, sizeof(outpath), "%s/out", base),
	    (int)sizeof(outpath));
	ck_assert_int_lt(snprintf(errpath, sizeof(errpath), "%s/err", base),
	    (int)sizeof(errpath));
	ck_assert_int_eq(mkdir(root, 0700), 0);
	ck_assert_int_eq(cache_store_init(&store, root, 2, 2), 0);
	memset(&topts, 0, sizeof(topts));
	topts.server_limit = 16;
	topts.cachesize = 8 * 1024 * 1024;
	now = time(NULL);
}

static void
teardown(void)
{
	ck_assert_int_eq(gwt_rm_tree(base), 0);
}

/* spawn - the tool with argv, stdout and stderr into outpath, errpath. */
static pid_t
spawn(const char *const *argv)
{
	pid_t	 pid;
	int	 o, e;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if ((o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1 || (e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) == -1 || dup2(o, STDOUT_FILENO) == -1 ||
		    dup2(e, STDERR_FILENO) == -1)
			_exit(126);
		execv(GWC_TEST_BINARY, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void
slurp(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	int	 fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return;
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	(void)close(fd);
}

/* run - the tool with the arguments (NULL after the last): its exit
 * status; out and err hold what it wrote. */
static int
run(const char *arg, ...)
{
	const char	*argv[32];
	va_list		 ap;
	int		 n = 0, st;

	argv[n++] = GWC_TEST_BINARY;
	va_start(ap, arg);
	for (; arg != NULL && n < 31; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	st = gwt_exit_code(spawn(argv), WAIT_MS);
	slurp(outpath, out, sizeof(out));
	slurp(errpath, err, sizeof(err));
	return st;
}

#define RUN(...)	run(__VA_ARGS__, (const char *)NULL)

/* run_ok - RUN that must exit 0 (a macro: failures name the line). */
#define RUN_OK(...) do {						\
	int st_ = RUN(__VA_ARGS__);					\
	ck_assert_msg(st_ == 0, "exit %d, stderr: %s", st_, err);	\
} while (0)

static struct cache_db *
master(void)
{
	struct cache_db	*h;
	char		 e[1024];

	e[0] = '\0';
	h = cache_db_master_open(root, &topts, e, sizeof(e));
	ck_assert_msg(h != NULL, "master_open: %s", e);
	return h;
}

/* url - the cache key gatewayd builds for http://HOST/target. */
static void
url(char *buf, size_t len, const char *target)
{
	ck_assert_int_gt(cache_policy_key(buf, len, "http", HOST, 0, target,
	    strlen(target), 0), 0);
}

/* body_file - a body file for key, as cache.c writes one: header, head,
 * len bytes of body, temp file renamed into place.  Its inode. */
static ino_t
body_file(struct ent *e, size_t len, uint32_t flags)
{
	struct cache_file_hdr	 fh;
	struct cache_tmp	 t;
	char			 head[128], chunk[4096];
	ino_t			 ino;
	size_t			 n;
	int			 hl;

	ck_assert_int_eq(cache_policy_hash(e->key, strlen(e->key), e->name),
	    0);
	hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	memset(&fh, 0, sizeof(fh));
	fh.magic = CACHE_FILE_MAGIC;
	fh.version = CACHE_FILE_VERSION;
	fh.head_len = (uint32_t)hl;
	fh.meta.status = 200;
	fh.meta.flags = flags;
	fh.meta.response_time = now;
	ck_assert_int_eq(cache_store_begin(&store, &t), 0);
	ck_assert_int_eq(cache_store_write(&t, &fh, sizeof(fh)), 0);
	ck_assert_int_eq(cache_store_write(&t, head, (size_t)hl), 0);
	memset(chunk, 'b', sizeof(chunk));
	for (; len > 0; len -= n) {
		n = len < sizeof(chunk) ? len : sizeof(chunk);
		ck_assert_int_eq(cache_store_write(&t, chunk, n), 0);
	}
	e->size = t.size;
	ck_assert_int_eq(cache_store_commit(&store, &t, e->name, &ino), 0);
	ck_assert_int_eq(cache_store_path(&store, e->name, e->path,
	    sizeof(e->path)), 0);
	return ino;
}

/* add - an entry for key: body file, then its index record. */
static void
add_key(struct cache_db *h, struct ent *e, const char *key, size_t len,
    time_t expires, time_t atime, uint32_t flags)
{
	struct cache_rec	 r;
	ino_t			 ino;

	ck_assert_int_lt(snprintf(e->key, sizeof(e->key), "%s", key),
	    (int)sizeof(e->key));
	ino = body_file(e, len, flags);
	memset(&r, 0, sizeof(r));
	r.expires = expires;
	r.stored = now - 100000;
	r.atime = atime;
	r.size = e->size;
	r.inode = (uint64_t)ino;
	r.status = 200;
	ck_assert_int_eq(cache_db_put(h, e->name, e->key, &r), CACHE_DB_OK);
}

static void
add(struct cache_db *h, struct ent *e, const char *target, size_t len,
    time_t expires, time_t atime)
{
	char	 key[512];

	url(key, sizeof(key), target);
	add_key(h, e, key, len, expires, atime, 0);
}

static int
exists(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0;
}

static int
has_record(struct cache_db *h, const struct ent *e)
{
	return cache_db_get(h, e->name, e->key, NULL) == CACHE_DB_OK;
}

/* alive - e's record and body file are both there (1), or neither (0). */
#define assert_alive(h, e, yes) do {					\
	ck_assert_msg(has_record((h), (e)) == (yes), "record of %s",	\
	    (e)->key);							\
	ck_assert_msg(exists((e)->path) == (yes), "body of %s",	\
	    (e)->key);							\
} while (0)

static uint64_t
entries(struct cache_db *h)
{
	struct cache_db_stats	 st;

	ck_assert_int_eq(cache_db_stats(h, &st), CACHE_DB_OK);
	return st.entries;
}

/* age - set path's times secs in the past. */
static void
age(const char *path, time_t secs)
{
	struct timespec	 ts[2];

	ts[0].tv_sec = ts[1].tv_sec = now - secs;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW),
	    0);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
}

/* under - root/rel into buf. */
static char *
under(char *buf, size_t len, const char *rel)
{
	ck_assert_int_lt(snprintf(buf, len, "%s/%s", root, rel), (int)len);
	return buf;
}

/* count_lines - lines of text equal to line. */
static int
count_lines(const char *text, const char *line)
{
	size_t	 n = strlen(line);
	int	 c = 0;

	for (const char *p = text; *p != '\0'; ) {
		const char *nl = strchr(p, '\n');
		size_t	 l = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (l == n && memcmp(p, line, n) == 0)
			c++;
		p += l + (nl != NULL);
	}
	return c;
}

static int
lines(const char *text)
{
	int	 c = 0;

	for (; *text != '\0'; text++)
		c += *text == '\n';
	return c;
}

/* iso - t as -A prints times. */
static const char *
iso(time_t t, char buf[32])
{
	struct tm	 tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
	return buf;
}

/*--------------------------------------------------------------------
 * Listing
 */

START_TEST(test_list)
{
	struct cache_db	*h = master();
	struct ent	 a, b, gone, marker, v1, v2;
	char		 key[1024], line[2048], t1[32], t2[32], t3[32];

	add(h, &a, "/a.html", 100, 0, now - 50);
	add(h, &b, "/b.html?x=1", 200, now + 100000, now - 40);
	add(h, &gone, "/gone.html", 10, 0, now - 30);
	ck_assert_int_eq(unlink(gone.path), 0);
	url(key, sizeof(key), "/v.html");
	add_key(h, &marker, key, 0, 0, now - 20, CACHE_M_VARY);
	ck_assert_int_lt(snprintf(line, sizeof(line), "%s\tg1\t"
	    "accept-encoding:gzip\t", key), (int)sizeof(line));
	add_key(h, &v1, line, 30, 0, now - 10, 0);
	ck_assert_int_lt(snprintf(line, sizeof(line), "%s\tg1\t"
	    "accept-encoding\t", key), (int)sizeof(line));
	add_key(h, &v2, line, 40, 0, now - 5, 0);

	RUN_OK("-p", root, "-a");
	ck_assert_int_eq(lines(out), 6);
	ck_assert_int_eq(count_lines(out, "http://" HOST "/a.html?"), 1);
	ck_assert_int_eq(count_lines(out, "http://" HOST "/b.html?x=1"), 1);
	ck_assert_int_eq(count_lines(out, "http://" HOST "/gone.html?"), 1);
	/* the Vary marker and each variant list the URL */
	ck_assert_int_eq(count_lines(out, key), 3);
	ck_assert_str_eq(err, "");

	RUN_OK("-A", "-p", root);
	ck_assert_int_eq(lines(out), 6);
	(void)snprintf(line, sizeof(line), "http://" HOST "/a.html? %llu "
	    "200 %s - %s yes entry %s", (unsigned long long)a.size,
	    iso(now - 100000, t1), iso(now - 50, t2), a.name);
	ck_assert_int_eq(count_lines(out, line), 1);
	(void)snprintf(line, sizeof(line), "http://" HOST "/b.html?x=1 %llu "
	    "200 %s %s %s yes entry %s", (unsigned long long)b.size,
	    iso(now - 100000, t1), iso(now + 100000, t3), iso(now - 40, t2),
	    b.name);
	ck_assert_int_eq(count_lines(out, line), 1);
	(void)snprintf(line, sizeof(line), " missing entry %s\n", gone.name);
	ck_assert_ptr_nonnull(strstr(out, line));
	(void)snprintf(line, sizeof(line), " yes vary %s\n", marker.name);
	ck_assert_ptr_nonnull(strstr(out, line));
	(void)snprintf(line, sizeof(line), " yes variant %s\n", v1.name);
	ck_assert_ptr_nonnull(strstr(out, line));

	/* listing changes nothing, not even the record without a body */
	ck_assert_uint_eq(entries(h), 6);
	ck_assert(has_record(h, &gone));
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * Eviction
 */

/*
 * Eight entries, e0 used longest ago: e5 and e6 expired (e5 first),
 * e7 used "in the future" (a clock that went back).  Down to 4: e7,
 * e5, e6, then e0 - cache_db_evict's order; -D says so and removes
 * nothing.
 */
START_TEST(test_evict_count)
{
	struct cache_db	*h = master();
	struct ent	 e[8];
	char		 target[32], want[4096];
	int		 i;

	for (i = 0; i < 8; i++) {
		(void)snprintf(target, sizeof(target), "/e%d", i);
		add(h, &e[i], target, 100,
		    i == 5 ? now - 2000 : i == 6 ? now - 1000 :
		    i == 1 ? now + 100000 : 0,
		    i == 7 ? now + 100000 : now - 10000 + i * 100);
	}
	ck_assert_uint_eq(entries(h), 8);

	RUN_OK("-D", "-L", "4", "-p", root);
	(void)snprintf(want, sizeof(want),
	    "would remove future %s\n"
	    "would remove expired %s\n"
	    "would remove expired %s\n"
	    "would remove lru %s\n", e[7].key, e[5].key, e[6].key, e[0].key);
	ck_assert_str_eq(out, want);
	for (i = 0; i < 8; i++)
		assert_alive(h, &e[i], 1);

	RUN_OK("-v", "-D", "-L", "4", "-p", root);
	ck_assert_ptr_nonnull(strstr(out, "dry run"));
	ck_assert_ptr_nonnull(strstr(out, "entries: 8 -> 4 (limit 4)\n"));
	ck_assert_uint_eq(entries(h), 8);

	RUN_OK("-v", "-L", "4", "-p", root);
	ck_assert_ptr_nonnull(strstr(out, "entries: 8 -> 4 (limit 4)\n"));
	ck_assert_ptr_nonnull(strstr(out, "evicted: 4 (used in the future "
	    "1, expired 2, least recently used 1)\n"));
	for (i = 0; i < 8; i++)
		assert_alive(h, &e[i], i >= 1 && i <= 4);
	ck_assert_uint_eq(entries(h), 4);

	/* under the limit: nothing to do */
	RUN_OK("-L", "4", "-p", root);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(entries(h), 4);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/*
 * A byte limit, bodies in a 1 x 2 layout (the tool finds it): the two
 * least recently used go, exactly enough to fit.  K, M, G suffixes.
 */
START_TEST(test_evict_bytes)
{
	struct cache_db	*h;
	struct ent	 e[6];
	uint64_t	 total = 0;
	char		 target[32], lim[32];
	int		 i;

	ck_assert_int_eq(cache_store_init(&store, root, 1, 2), 0);
	h = master();
	for (i = 0; i < 6; i++) {
		(void)snprintf(target, sizeof(target), "/big/%d", i);
		add(h, &e[i], target, 1000 * (size_t)(i + 1), 0,
		    now - 1000 + i);
		total += e[i].size;
	}
	RUN_OK("-l", "1M", "-p", root);
	ck_assert_uint_eq(entries(h), 6);

	(void)snprintf(lim, sizeof(lim), "%lluB", (unsigned long long)(total -
	    e[0].size - e[1].size));
	RUN_OK("-n", "-l", lim, "-p", root);
	for (i = 0; i < 6; i++)
		assert_alive(h, &e[i], i >= 2);

	/* both limits: the stricter one decides */
	RUN_OK("-l", "1G", "-L", "3", "-v", "-p", root);
	for (i = 0; i < 6; i++)
		assert_alive(h, &e[i], i >= 3);
	ck_assert_ptr_nonnull(strstr(out, "entries: 4 -> 3 (limit 3)\n"));
	RUN_OK("-l", "1k", "-p", root);
	ck_assert_uint_eq(entries(h), 0);
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * URLs
 */

START_TEST(test_urls)
{
	struct cache_db	*h = master();
	struct ent	 a, b, marker, v1, v2;
	char		 key[512], vkey[1024], bdir[PATH_MAX], *slash;

	add(h, &a, "/a", 10, 0, now - 50);
	add(h, &b, "/b", 10, 0, now - 40);
	url(key, sizeof(key), "/v");
	add_key(h, &marker, key, 0, 0, now - 30, CACHE_M_VARY);
	(void)snprintf(vkey, sizeof(vkey), "%s\tg1\taccept-encoding:gzip\t",
	    key);
	add_key(h, &v1, vkey, 10, 0, now - 20, 0);
	(void)snprintf(vkey, sizeof(vkey), "%s\tg1\taccept-encoding\t", key);
	add_key(h, &v2, vkey, 10, 0, now - 10, 0);

	/* a dry run says, removes nothing */
	RUN_OK("-D", "-p", root, a.key);
	(void)snprintf(vkey, sizeof(vkey), "would remove url %s\n", a.key);
	ck_assert_str_eq(out, vkey);
	assert_alive(h, &a, 1);

	RUN_OK("-p", root, a.key);
	assert_alive(h, &a, 0);
	assert_alive(h, &b, 1);

	/* gone already: exit 2; a key without '?' gets a hint */
	ck_assert_int_eq(RUN("-p", root, a.key), 2);
	ck_assert_ptr_nonnull(strstr(err, "not in the cache"));
	ck_assert_int_eq(RUN("-p", root, "http://" HOST "/b"), 2);
	ck_assert_ptr_nonnull(strstr(err, "always holds a '?'"));
	assert_alive(h, &b, 1);

	/* a URL with variants: the marker and every variant; the URL
	 * after the options (as -a prints it), one of them unknown */
	ck_assert_int_eq(RUN("-v", "-p", root, key, "http://nope/?"), 2);
	ck_assert_ptr_nonnull(strstr(out, "entries removed: 3\n"));
	assert_alive(h, &marker, 0);
	assert_alive(h, &v1, 0);
	assert_alive(h, &v2, 0);
	assert_alive(h, &b, 1);

	/* -t: the directories the body was in go when empty */
	ck_assert_int_lt(snprintf(bdir, sizeof(bdir), "%s", b.path),
	    (int)sizeof(bdir));
	*(slash = strrchr(bdir, '/')) = '\0';
	RUN_OK("-t", "-p", root, b.key);
	assert_alive(h, &b, 0);
	ck_assert(!exists(bdir));
	*(slash = strrchr(bdir, '/')) = '\0';
	ck_assert(!exists(bdir));
	ck_assert(exists(root));
	ck_assert_uint_eq(entries(h), 0);
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * The sweeps
 */

/* orphan_body - a body file with no record, as after a crash between
 * rename and index put. */
static void
orphan_body(struct ent *e, const char *target)
{
	url(e->key, sizeof(e->key), target);
	(void)body_file(e, 50, 0);
}

START_TEST(test_orphans)
{
	struct cache_db	*h = master();
	struct ent	 keep, nobody, old, young;
	char		 p[10][PATH_MAX], hidden[PATH_MAX], line[PATH_MAX + 64];
	int		 i;

	add(h, &keep, "/keep", 10, 0, now - 50);
	add(h, &nobody, "/nobody", 10, 0, now - 40);
	ck_assert_int_eq(unlink(nobody.path), 0);
	orphan_body(&old, "/old-orphan");
	age(old.path, OLD);
	orphan_body(&young, "/young-orphan");
	age(keep.path, OLD);		/* has a record: stays, however old */

	/* temp files: old, young, and not cache_store's */
	write_file(under(p[0], sizeof(p[0]), ".tmp/body.AbC123"), "t");
	age(p[0], OLD);
	write_file(under(p[1], sizeof(p[1]), ".tmp/body.XyZ789"), "t");
	write_file(under(p[2], sizeof(p[2]), ".tmp/notes"), "t");
	age(p[2], OLD);
	/* things that are not cache files, all old */
	write_file(under(p[3], sizeof(p[3]), "README"), "r");
	ck_assert_int_eq(mkdir(under(p[4], sizeof(p[4]), "Ab"), 0700), 0);
	write_file(under(p[4], sizeof(p[4]), "Ab/notes.data"), "n");
	write_file(under(p[5], sizeof(p[5]), "AbCdEfGhIjKlMnOpQrStUv.data"),
	    "top level");
	ck_assert_int_eq(mkdir(under(hidden, sizeof(hidden), ".index.broken"),
	    0700), 0);
	write_file(under(p[6], sizeof(p[6]), ".index.broken/index.db"), "x");
	ck_assert_int_eq(mkdir(under(p[7], sizeof(p[7]), "x-y"), 0700), 0);
	write_file(under(p[7], sizeof(p[7]), "x-y/AbCdEfGhIjKlMnOpQrSt.data"),
	    "not a hash dir");
	ck_assert_int_eq(symlink(old.path, under(p[8], sizeof(p[8]),
	    "Ab/CdEfGhIjKlMnOpQrStUv.data")), 0);
	for (i = 3; i <= 8; i++)
		age(p[i], OLD);

	RUN_OK("-D", "-p", root);
	ck_assert_int_eq(count_lines(out, "would remove no-body http://" HOST
	    "/nobody?"), 1);
	(void)snprintf(line, sizeof(line), "would remove orphan %s",
	    old.path);
	ck_assert_int_eq(count_lines(out, line), 1);
	(void)snprintf(line, sizeof(line), "would remove temp %s", p[0]);
	ck_assert_int_eq(count_lines(out, line), 1);
	ck_assert_int_eq(lines(out), 3);
	ck_assert(has_record(h, &nobody));
	ck_assert(exists(old.path) && exists(p[0]));

	RUN_OK("-n", "-v", "-p", root);
	ck_assert_ptr_nonnull(strstr(out, "entries without a body file: 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "orphan body files: 1 (") );
	ck_assert_ptr_nonnull(strstr(out, "stale temp files: 1\n"));
	ck_assert(!has_record(h, &nobody));
	ck_assert(!exists(old.path));
	ck_assert(!exists(p[0]));
	assert_alive(h, &keep, 1);
	ck_assert(exists(young.path));	/* maybe a store in progress */
	for (i = 1; i <= 8; i++)
		ck_assert_msg(exists(p[i]), "%s removed", p[i]);
	/* no -t: the orphan's directories stay */
	*strrchr(old.path, '/') = '\0';
	ck_assert(exists(old.path));
	ck_assert_uint_eq(entries(h), 1);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/* -t: empty hash directories go; others, and .tmp, stay. */
START_TEST(test_empty_dirs)
{
	struct cache_db	*h = master();
	struct ent	 keep, old;
	char		 d1[PATH_MAX], d2[PATH_MAX], odir[PATH_MAX], line[8192];

	add(h, &keep, "/keep", 10, 0, now - 50);
	orphan_body(&old, "/orphan");
	age(old.path, OLD);
	ck_assert_int_eq(mkdir(under(d1, sizeof(d1), "Zz"), 0700), 0);
	ck_assert_int_eq(mkdir(under(d1, sizeof(d1), "Zz/Yy"), 0700), 0);
	ck_assert_int_eq(mkdir(under(d2, sizeof(d2), "not-hash"), 0700), 0);
	ck_assert_int_lt(snprintf(odir, sizeof(odir), "%s", old.path),
	    (int)sizeof(odir));
	*strrchr(odir, '/') = '\0';
	ck_assert_msg(strncmp(odir, keep.path, strlen(root) + 3) != 0,
	    "pick other URLs: the bodies share a directory");

	RUN_OK("-D", "-t", "-p", root);
	(void)snprintf(line, sizeof(line), "would remove dir %s", d1);
	ck_assert_int_eq(count_lines(out, line), 1);
	(void)snprintf(line, sizeof(line), "would remove dir %s", odir);
	ck_assert_int_eq(count_lines(out, line), 1);
	ck_assert(exists(d1) && exists(old.path));

	RUN_OK("-t", "-p", root);
	ck_assert(!exists(old.path));
	ck_assert(!exists(odir));
	*strrchr(odir, '/') = '\0';
	ck_assert(!exists(odir));
	ck_assert(!exists(d1));
	under(d1, sizeof(d1), "Zz");
	ck_assert(!exists(d1));
	ck_assert(exists(d2));
	ck_assert(exists(under(d1, sizeof(d1), ".tmp")));
	ck_assert(exists(under(d1, sizeof(d1), ".index")));
	assert_alive(h, &keep, 1);
	cache_db_close(h);
}
END_TEST

/* -r: every expired entry, and young temp and orphan files too. */
START_TEST(test_realclean)
{
	struct cache_db	*h = master();
	struct ent	 fresh, stale, young;
	char		 tmp[PATH_MAX];

	add(h, &fresh, "/fresh", 10, now + 100000, now - 50);
	add(h, &stale, "/stale", 10, now - 100, now - 40);
	orphan_body(&young, "/young");
	write_file(under(tmp, sizeof(tmp), ".tmp/body.AbC123"), "t");

	RUN_OK("-r", "-v", "-p", root);
	ck_assert_ptr_nonnull(strstr(out, "expired entries (-r): 1\n"));
	assert_alive(h, &fresh, 1);
	assert_alive(h, &stale, 0);
	ck_assert(!exists(young.path));
	ck_assert(!exists(tmp));
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * Errors and processes
 */

START_TEST(test_usage)
{
	static const char *const bad[][8] = {
		{ NULL },
		{ "-l", "10", NULL },				/* no -p */
		{ "-p", "ROOT", "-l", "10x", NULL },
		{ "-p", "ROOT", "-l", "0", NULL },
		{ "-p", "ROOT", "-L", "-5", NULL },
		{ "-p", "ROOT", "-l", NULL },
		{ "-p", "ROOT", "-d", "0", NULL },
		{ "-p", "ROOT", "-d", "5", "-D", NULL },
		{ "-p", "ROOT", "-d", "5", "-v", NULL },
		{ "-p", "ROOT", "-i", NULL },
		{ "-p", "ROOT", "-P", "/tmp/x.pid", NULL },
		{ "-p", "ROOT", "-a", "-l", "5", NULL },
		{ "-p", "ROOT", "-a", "-A", NULL },
		{ "-p", "ROOT", "-L", "5", "http://h/?", NULL },
		{ "-p", "ROOT", "-x", NULL },
		{ "-p", "ROOT", "-R", "4096", NULL },
		{ "-p", "ROOT", "-p", "ROOT", NULL },
	};
	const char	*argv[10];
	size_t		 i, j;
	pid_t		 pid;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[0] = GWC_TEST_BINARY;
		for (j = 0; bad[i][j] != NULL; j++)
			argv[j + 1] = strcmp(bad[i][j], "ROOT") == 0 ? root :
			    bad[i][j];
		argv[j + 1] = NULL;
		pid = spawn(argv);
		ck_assert_msg(gwt_exit_code(pid, WAIT_MS) == 1, "case %zu", i);
		slurp(errpath, err, sizeof(err));
		ck_assert_msg(strstr(err, "usage: gwcacheclean") != NULL,
		    "case %zu: %s", i, err);
	}
	RUN_OK("-h");
	ck_assert_ptr_nonnull(strstr(out, "usage: gwcacheclean"));
}
END_TEST

/* No index, a broken one, a missing root: exit 1, and why. */
START_TEST(test_no_index)
{
	char	 p[PATH_MAX];

	ck_assert_int_eq(RUN("-p", root, "-L", "5"), 1);
	ck_assert_ptr_nonnull(strstr(err, "no cache index in"));
	ck_assert(!exists(under(p, sizeof(p), ".index")));	/* not made */

	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(RUN("-p", root, "-a"), 1);
	ck_assert_ptr_nonnull(strstr(err, "incomplete"));
	ck_assert_ptr_nonnull(strstr(err, "__db.001"));

	ck_assert_int_eq(RUN("-p", "/nonexistent/cache", "-a"), 1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

/* One gwcacheclean at a time per index (a flock of .index). */
START_TEST(test_one_at_a_time)
{
	struct cache_db	*h = master();
	struct ent	 a;
	char		 home[PATH_MAX];
	int		 fd;

	add(h, &a, "/a", 10, 0, now - 50);
	ck_assert_int_ge(fd = open(under(home, sizeof(home), ".index"),
	    O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(RUN("-p", root, "-L", "1", "-t"), 1);
	ck_assert_ptr_nonnull(strstr(err, "another gwcacheclean"));
	ck_assert_int_eq(close(fd), 0);
	RUN_OK("-p", root, "-a");
	ck_assert_int_eq(lines(out), 1);
	cache_db_close(h);
}
END_TEST

#define STALLED		"StalledStalledStalled0"	/* a hash name */

static int	 hook_fd = -1;

/* hook_stall - in a child: stop inside put's transaction, say so. */
static void
hook_stall(const char *where)
{
	if (strcmp(where, "put") != 0)
		return;
	if (write(hook_fd, "s", 1) != 1)
		_exit(40);
	for (;;)
		(void)pause();
}

/*
 * gatewayd stopped (clean-shutdown marker), then a process joined and
 * was killed inside a transaction: its locks would block every writer
 * for good, with no master to run failchk.  The tool runs failchk
 * itself, then cleans.
 */
START_TEST(test_stopped_dead_txn)
{
	struct cache_db		*h = master(), *w;
	struct cache_rec	 r;
	struct ent		 e[6];
	char			 target[32], byte;
	int			 i, p[2];
	pid_t			 pid;

	for (i = 0; i < 6; i++) {
		(void)snprintf(target, sizeof(target), "/s%d", i);
		add(h, &e[i], target, 10, 0, now - 1000 + i);
	}
	cache_db_close(h);
	ck_assert(cache_db_clean_stop(root));

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		if ((w = cache_db_worker_open(root, &topts)) == NULL)
			_exit(2);
		hook_fd = p[1];
		cache_db_set_test_hook(hook_stall);
		memset(&r, 0, sizeof(r));
		r.stored = r.atime = now;
		(void)cache_db_put(w, STALLED, "http://x/?", &r);
		_exit(3);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(read(p[0], &byte, 1), 1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 128 + SIGKILL);

	RUN_OK("-L", "3", "-p", root);
	ck_assert(cache_db_clean_stop(root));	/* still gatewayd's marker */
	h = master();
	for (i = 0; i < 6; i++)
		assert_alive(h, &e[i], i >= 3);
	ck_assert_int_eq(cache_db_find(h, STALLED, NULL, 0, NULL),
	    CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/* -d: a pass right away; SIGTERM stops it; -P's file comes and goes. */
START_TEST(test_daemon)
{
	struct cache_db	*h = master();
	struct ent	 e[5];
	char		 target[32], pidfile[PATH_MAX], buf[64];
	const char	*argv[12];
	double		 end;
	int		 i, n = 0;
	pid_t		 pid;

	for (i = 0; i < 5; i++) {
		(void)snprintf(target, sizeof(target), "/d%d", i);
		add(h, &e[i], target, 10, 0, now - 1000 + i);
	}
	ck_assert_int_lt(snprintf(pidfile, sizeof(pidfile), "%s/gwc.pid",
	    base), (int)sizeof(pidfile));
	argv[n++] = GWC_TEST_BINARY;
	argv[n++] = "-d";
	argv[n++] = "60";
	argv[n++] = "-f";
	argv[n++] = "-i";
	argv[n++] = "-L";
	argv[n++] = "2";
	argv[n++] = "-P";
	argv[n++] = pidfile;
	argv[n++] = "-p";
	argv[n++] = root;
	argv[n] = NULL;
	pid = spawn(argv);
	for (end = gwt_now_ms() + WAIT_MS; gwt_now_ms() < end && entries(h) > 2; )
		(void)poll(NULL, 0, 20);
	ck_assert_uint_eq(entries(h), 2);
	slurp(pidfile, buf, sizeof(buf));
	ck_assert_int_eq(atol(buf), pid);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 0);
	ck_assert(!exists(pidfile));
	for (i = 0; i < 5; i++)
		assert_alive(h, &e[i], i >= 3);
	cache_db_close(h);
}
END_TEST

static Suite *
gwcacheclean_suite(void)
{
	Suite	*s = suite_create("gwcacheclean");
	TCase	*tc;

	tc = tcase_create("index");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_evict_count);
	tcase_add_test(tc, test_evict_bytes);
	tcase_add_test(tc, test_urls);
	suite_add_tcase(s, tc);

	tc = tcase_create("sweep");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_orphans);
	tcase_add_test(tc, test_empty_dirs);
	tcase_add_test(tc, test_realclean);
	suite_add_tcase(s, tc);

	tc = tcase_create("process");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_no_index);
	tcase_add_test(tc, test_one_at_a_time);
	tcase_add_test(tc, test_stopped_dead_txn);
	tcase_add_test(tc, test_daemon);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(gwcacheclean_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
