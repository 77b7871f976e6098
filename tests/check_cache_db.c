/*
 * check_cache_db.c - tests of the cache index (cache_db.c) against a real
 * Berkeley DB environment in a temp directory: records, eviction order
 * through the secondaries, walks, lookups that never wait, forked
 * writers deadlocking, a writer killed inside a transaction, kill -9 of
 * everything, corrupted or unwritable environments.
 *
 * Check runs each test in its own process; every BDB handle is opened
 * inside the test (the fixture only makes and removes the directory),
 * and children the tests fork open their own and leave with _exit.
 * Every wait is bounded; no assertion depends on timing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache_db.h"
#include "testlib.h"
#include "log.h"

/*
 * After a panic, DB_ENV->close and DB->close only close file handles
 * and return DB_RUNRECOVERY: BDB abandons the handles' memory on
 * purpose (src/env/env_open.c, __env_close_pp).  LeakSanitizer is told
 * about those handles only, where a test panics an environment.
 */
#ifdef GW_SANITIZERS
#include <sanitizer/lsan_interface.h>
#define ABANDONED_BY_BDB(stmt) do {					\
	__lsan_disable();						\
	stmt;								\
	__lsan_enable();						\
} while (0)
#else
#define ABANDONED_BY_BDB(stmt) do { stmt; } while (0)
#endif

#define WAIT_MS		20000		/* ms for a child or a byte */
#define NAME1		"AbCdEfGhIjKlMnOpQrStUv"	/* as Apache's */
#define URL1		"http://www.example.com:80/index.html?"
#define URL2		"http://www.example.com:80/other.html?"

static char			 root[PATH_MAX];
static char			 home[PATH_MAX];
static struct cache_db_opts	 topts;

/*--------------------------------------------------------------------
 * Helpers
 */

static void
setup(void)
{
	char	 tmpl[] = "/tmp/check_cache_db.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_lt(snprintf(root, sizeof(root), "%s", tmpl),
	    (int)sizeof(root));
	ck_assert_int_lt(snprintf(home, sizeof(home), "%s/%s", root,
	    CACHE_DB_HOME), (int)sizeof(home));
	memset(&topts, 0, sizeof(topts));
	topts.server_limit = 16;
	topts.cachesize = 8 * 1024 * 1024;
}

static void
teardown(void)
{
	ck_assert_int_eq(gwt_rm_tree(root), 0);
}

/* kill_reap - SIGKILL pid and reap it. */
static void
kill_reap(pid_t pid)
{
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 128 + SIGKILL);
}

static struct cache_rec
mkrec(time_t expires, time_t atime, uint64_t size)
{
	struct cache_rec	 r;

	memset(&r, 0, sizeof(r));
	r.expires = expires;
	r.stored = 1000;
	r.atime = atime;
	r.size = size;
	r.inode = 4242;
	r.status = 200;
	return r;
}

static struct cache_db *
master(void)
{
	struct cache_db	*h;
	char		 err[1024];

	err[0] = '\0';
	h = cache_db_master_open(root, &topts, err, sizeof(err));
	ck_assert_msg(h != NULL, "master_open: %s", err);
	return h;
}

static void
put_ok(struct cache_db *h, const char *name, const char *url,
    struct cache_rec r)
{
	enum cache_db_status	 st = cache_db_put(h, name, url, &r);

	ck_assert_msg(st == CACHE_DB_OK, "put %s: %s", name,
	    cache_db_status_name(st));
}

static int
exists(const char *dir, const char *file)
{
	char	 path[PATH_MAX];

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, file),
	    (int)sizeof(path));
	return access(path, F_OK) == 0;
}

/* assert_counts - records in index.db, lru.db and expiry.db (a macro,
 * so that a failure names the caller's line). */
#define assert_counts(h, n, nexp) do {				\
	struct cache_db_stats st_;					\
									\
	ck_assert_int_eq(cache_db_stats((h), &st_), CACHE_DB_OK);	\
	ck_assert_uint_eq(st_.entries, (n));				\
	ck_assert_uint_eq(st_.lru_entries, (n));			\
	ck_assert_uint_eq(st_.expiry_entries, (nexp));			\
} while (0)

/* Names and URLs of numbered records. */
static void
nth(char *name, size_t nlen, char *url, size_t ulen, const char *pfx,
    int i)
{
	(void)snprintf(name, nlen, "%s%05d", pfx, i);
	(void)snprintf(url, ulen, "http://h/%s/%d?", pfx, i);
}

/* fill - n committed records pfx00000..; dies (exit 20) on failure. */
static void
fill(struct cache_db *h, const char *pfx, int n)
{
	struct cache_rec	 r = mkrec(0, 0, 10);
	char			 name[32], url[64];
	int			 i;

	enum cache_db_status	 s;
	int			 tries = 0;

	for (i = 0; i < n; i++) {
		nth(name, sizeof(name), url, sizeof(url), pfx, i);
		/* BUSY: other writers in the way (nobody waits): again */
		while ((s = cache_db_put(h, name, url, &r)) == CACHE_DB_BUSY &&
		    ++tries < 1000)
			;
		if (s != CACHE_DB_OK)
			_exit(20);
	}
}

/* fill_patiently - fill, taking BUSY (a lock timeout) as "again". */
static int
fill_patiently(struct cache_db *h, const char *pfx, int n)
{
	struct cache_rec	 r = mkrec(0, 0, 10);
	enum cache_db_status	 s;
	char			 name[32], url[64];
	int			 i, tries = 0;

	for (i = 0; i < n; i++) {
		nth(name, sizeof(name), url, sizeof(url), pfx, i);
		while ((s = cache_db_put(h, name, url, &r)) == CACHE_DB_BUSY &&
		    ++tries < 1000)
			;
		if (s != CACHE_DB_OK)
			return 20;
	}
	cache_db_close(h);
	return 0;
}

/* count_hits - how many of pfx's n records look up. */
static int
count_hits(struct cache_db *h, const char *pfx, int n)
{
	struct cache_rec	 r;
	char			 name[32], url[64];
	int			 i, hits = 0;

	for (i = 0; i < n; i++) {
		nth(name, sizeof(name), url, sizeof(url), pfx, i);
		if (cache_db_get(h, name, url, &r) == CACHE_DB_OK)
			hits++;
	}
	return hits;
}

/* scribble - write len bytes of 0x5a into path at off. */
static void
scribble(const char *path, off_t off, size_t len)
{
	char	 buf[8192];
	int	 fd;

	ck_assert_uint_le(len, sizeof(buf));
	memset(buf, 0x5a, len);
	ck_assert_int_ge(fd = open(path, O_WRONLY), 0);
	ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

static void
home_file(char *path, size_t len, const char *file)
{
	ck_assert_int_lt(snprintf(path, len, "%s/%s", home, file), (int)len);
}

/*--------------------------------------------------------------------
 * Records
 */

START_TEST(test_roundtrip)
{
	struct cache_db		*h = master();
	struct cache_rec	 r = mkrec(2000, 0, 1234), o;
	struct cache_db_stats	 st;
	char			 name[CACHE_DB_NAME_MAX + 2], *url;

	ck_assert(cache_db_alive(h));
	r.flags = 5;
	put_ok(h, NAME1, URL1, r);
	memset(&o, 0xff, sizeof(o));
	ck_assert_int_eq(cache_db_get(h, NAME1, URL1, &o), CACHE_DB_OK);
	ck_assert_int_eq(o.expires, 2000);
	ck_assert_int_eq(o.stored, 1000);
	ck_assert_int_eq(o.atime, 1000);	/* 0 at put: stored */
	ck_assert_uint_eq(o.size, 1234);
	ck_assert_uint_eq(o.inode, 4242);
	ck_assert_uint_eq(o.status, 200);
	ck_assert_uint_eq(o.flags, 5);
	ck_assert_int_eq(cache_db_get(h, NAME1, URL1, NULL), CACHE_DB_OK);

	/* another URL under the same hash name is a miss, as is no name */
	ck_assert_int_eq(cache_db_get(h, NAME1, URL2, &o), CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_get(h, NAME1, "", &o), CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_get(h, "BcCdEfGhIjKlMnOpQrStUv", URL1, &o),
	    CACHE_DB_MISS);

	/* replacing: the new URL hits, the old one no longer */
	r = mkrec(3000, 1500, 77);
	put_ok(h, NAME1, URL2, r);
	ck_assert_int_eq(cache_db_get(h, NAME1, URL1, &o), CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_get(h, NAME1, URL2, &o), CACHE_DB_OK);
	ck_assert_int_eq(o.expires, 3000);
	ck_assert_int_eq(o.atime, 1500);
	ck_assert_uint_eq(o.size, 77);

	/* negative times are stored as 0; expires 0 is not in expiry.db */
	r = mkrec(-5, -7, 1);
	r.stored = -1;
	put_ok(h, "neg", URL1, r);
	ck_assert_int_eq(cache_db_get(h, "neg", URL1, &o), CACHE_DB_OK);
	ck_assert_int_eq(o.expires, 0);
	ck_assert_int_eq(o.stored, 0);
	ck_assert_int_eq(o.atime, 0);
	assert_counts(h, 2, 1);
	ck_assert_int_eq(cache_db_stats(h, &st), CACHE_DB_OK);
	ck_assert_uint_eq(st.bytes, 78);

	/* delete */
	ck_assert_int_eq(cache_db_del(h, NAME1), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, NAME1, URL2, &o), CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_del(h, NAME1), CACHE_DB_MISS);
	assert_counts(h, 1, 0);

	/* bad names and URLs */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';	/* CACHE_DB_NAME_MAX + 1 */
	r = mkrec(1, 1, 1);
	ck_assert_int_eq(cache_db_put(h, "", URL1, &r), CACHE_DB_ERROR);
	ck_assert_int_eq(cache_db_put(h, name, URL1, &r), CACHE_DB_ERROR);
	ck_assert_int_eq(cache_db_get(h, name, URL1, &o), CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_del(h, ""), CACHE_DB_MISS);
	name[CACHE_DB_NAME_MAX] = '\0';		/* the longest allowed */
	put_ok(h, name, URL1, r);
	ck_assert_int_eq(cache_db_get(h, name, URL1, &o), CACHE_DB_OK);
	ck_assert_ptr_nonnull(url = malloc(CACHE_DB_URL_MAX + 2));
	memset(url, 'u', CACHE_DB_URL_MAX + 1);
	url[CACHE_DB_URL_MAX + 1] = '\0';
	ck_assert_int_eq(cache_db_put(h, "long", url, &r), CACHE_DB_ERROR);
	ck_assert_int_eq(cache_db_get(h, "long", url, &o), CACHE_DB_MISS);
	url[CACHE_DB_URL_MAX] = '\0';		/* the longest allowed */
	put_ok(h, "long", url, r);
	ck_assert_int_eq(cache_db_get(h, "long", url, &o), CACHE_DB_OK);
	url[CACHE_DB_URL_MAX - 1] = 'v';
	ck_assert_int_eq(cache_db_get(h, "long", url, &o), CACHE_DB_MISS);
	url[CACHE_DB_URL_MAX - 1] = 'u';
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);

	/* committed records outlive a clean close */
	cache_db_close(h);
	ck_assert(exists(home, "clean-shutdown"));
	h = master();
	ck_assert(!exists(home, "clean-shutdown"));
	ck_assert_int_eq(cache_db_get(h, "long", url, &o), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, "neg", URL1, &o), CACHE_DB_OK);
	assert_counts(h, 3, 2);		/* "neg" has no expiry */
	free(url);
	cache_db_close(h);
}
END_TEST

static int
never(const char *n, const char *u, const struct cache_rec *r, void *a)
{
	(void)n;
	(void)u;
	(void)r;
	(void)a;
	return 1;
}

/* A NULL handle (no index) answers at once, everywhere. */
START_TEST(test_null_handle)
{
	struct cache_rec	 r = mkrec(1, 1, 1);
	struct cache_db_stats	 st;
	struct cache_db_limits	 lim = { 1, 0 };
	enum cache_db_status	 s = CACHE_DB_OK;

	ck_assert(!cache_db_alive(NULL));
	ck_assert_int_eq(cache_db_get(NULL, NAME1, URL1, &r), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_put(NULL, NAME1, URL1, &r), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_del(NULL, NAME1), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_touch(NULL, NAME1, 5), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_stats(NULL, &st), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_iterate(NULL, never, NULL), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_failchk(NULL), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_tick(NULL), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_verify(NULL), CACHE_DB_DEAD);
	ck_assert_int_eq(cache_db_evict(NULL, 1, &lim, NULL, NULL, NULL, &s),
	    0);
	ck_assert_int_eq(s, CACHE_DB_DEAD);
	cache_db_close(NULL);
	ck_assert_str_eq(cache_db_status_name(CACHE_DB_OK), "ok");
	ck_assert_str_eq(cache_db_status_name(CACHE_DB_DEAD), "dead");
	ck_assert_str_eq(cache_db_status_name((enum cache_db_status)99), "?");
	ck_assert_ptr_nonnull(strstr(cache_db_version(), "5.3"));
	/* a worker cannot join an index that was never made */
	log_set_level(GW_LOG_CRIT);
	ck_assert_ptr_null(cache_db_worker_open(root, &topts));
}
END_TEST

/*--------------------------------------------------------------------
 * Touch and eviction
 */

struct order {
	int			 n;
	char			 names[400][CACHE_DB_NAME_MAX + 1];
	struct cache_rec	 recs[400];
};

static void
record_order(const char *name, const struct cache_rec *r, void *arg)
{
	struct order	*o = arg;

	if (o->n < 400) {
		(void)snprintf(o->names[o->n], sizeof(o->names[0]), "%s",
		    name);
		o->recs[o->n] = *r;
	}
	o->n++;
}

START_TEST(test_touch)
{
	struct cache_db		*h = master();
	struct cache_db_limits	 lim = { 1, 0 };
	struct cache_rec	 o;
	static struct order	 ord;
	enum cache_db_status	 s;

	put_ok(h, "a", URL1, mkrec(0, 1000, 1));
	put_ok(h, "b", URL2, mkrec(0, 2000, 1));
	/* within CACHE_DB_TOUCH_INTERVAL: left alone */
	ck_assert_int_eq(cache_db_touch(h, "a", 1000 +
	    CACHE_DB_TOUCH_INTERVAL - 1), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, "a", URL1, &o), CACHE_DB_OK);
	ck_assert_int_eq(o.atime, 1000);
	/* older: updated, and lru.db follows */
	ck_assert_int_eq(cache_db_touch(h, "a", 3000), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, "a", URL1, &o), CACHE_DB_OK);
	ck_assert_int_eq(o.atime, 3000);
	/* a last use in the future (clock went back) is corrected */
	ck_assert_int_eq(cache_db_touch(h, "b", 1500), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, "b", URL2, &o), CACHE_DB_OK);
	ck_assert_int_eq(o.atime, 1500);
	ck_assert_int_eq(cache_db_touch(h, "nope", 3000), CACHE_DB_MISS);
	assert_counts(h, 2, 0);
	ck_assert_int_eq(cache_db_evict(h, 4000, &lim, NULL, record_order,
	    &ord, &s), 1);
	ck_assert_int_eq(s, CACHE_DB_OK);
	ck_assert_int_eq(ord.n, 1);
	ck_assert_str_eq(ord.names[0], "b");
	ck_assert_int_eq(cache_db_get(h, "a", URL1, &o), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/*
 * Order: last used in the future (latest first), then expired (soonest
 * expiry first), then least recently used; nothing while under limits.
 */
START_TEST(test_evict_order)
{
	static const struct {
		const char	*name;
		time_t		 expires, atime;	/* from now */
	} recs[] = {
		{ "l3", 0, -500 },
		{ "f1", 0, 10000 },
		{ "e1", -300, -10 },
		{ "l1", 0, -2000 },
		{ "f0", 0, 30 },		/* within the slack */
		{ "e3", 1000, -1000 },		/* not expired yet */
		{ "e2", -500, -5 },
		{ "f2", 0, 20000 },
		{ "l2", 0, -1500 },
	};
	static const char *const want[] = {
		"f2", "f1", "e2", "e1", "l1", "l2", "e3", "l3"
	};
	const time_t		 now = 100000;
	struct cache_db		*h = master();
	struct cache_db_limits	 lim = { 100, 0 };
	struct cache_db_stats	 tot;
	static struct order	 ord;
	enum cache_db_status	 s;
	size_t			 i;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		put_ok(h, recs[i].name, URL1, mkrec(recs[i].expires ?
		    now + recs[i].expires : 0, now + recs[i].atime, i + 1));
	assert_counts(h, 9, 3);

	/* under the limit: expired records stay (they may revalidate) */
	ck_assert_int_eq(cache_db_evict(h, now, &lim, NULL, record_order,
	    &ord, &s), 0);
	ck_assert_int_eq(s, CACHE_DB_OK);
	ck_assert_int_eq(ord.n, 0);

	lim.max_entries = 1;
	ck_assert_int_eq(cache_db_evict(h, now, &lim, NULL, record_order,
	    &ord, &s), 8);
	ck_assert_int_eq(s, CACHE_DB_OK);
	ck_assert_int_eq(ord.n, 8);
	for (i = 0; i < 8; i++)
		ck_assert_str_eq(ord.names[i], want[i]);
	ck_assert_int_eq(ord.recs[0].atime, now + 20000);	/* f2's */
	ck_assert_int_eq(ord.recs[2].expires, now - 500);	/* e2's */
	ck_assert_int_eq(cache_db_get(h, "f0", URL1, NULL), CACHE_DB_OK);
	assert_counts(h, 1, 0);

	/* by bytes, with the caller's totals, updated */
	put_ok(h, "s1", URL1, mkrec(0, 1, 100));
	put_ok(h, "s2", URL1, mkrec(0, 2, 100));
	put_ok(h, "s3", URL1, mkrec(0, 3, 100));
	ck_assert_int_eq(cache_db_stats(h, &tot), CACHE_DB_OK);
	ck_assert_uint_eq(tot.bytes, 305);		/* f0 is 5 bytes */
	lim.max_entries = 0;
	lim.max_bytes = 150;
	ord.n = 0;
	ck_assert_int_eq(cache_db_evict(h, now, &lim, &tot, record_order,
	    &ord, &s), 2);
	ck_assert_str_eq(ord.names[0], "s1");
	ck_assert_str_eq(ord.names[1], "s2");
	ck_assert_uint_eq(tot.entries, 2);
	ck_assert_uint_eq(tot.bytes, 105);
	assert_counts(h, 2, 0);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/* Several batches: 350 records, inserted out of order, down to 50. */
START_TEST(test_evict_batches)
{
	struct cache_db		*h = master();
	struct cache_db_limits	 lim = { 50, 0 };
	static struct order	 ord;
	enum cache_db_status	 s;
	char			 name[32];
	int			 i, k;

	for (i = 0; i < 350; i++) {
		k = (i * 137) % 350;		/* a permutation */
		(void)snprintf(name, sizeof(name), "r%03d", k);
		put_ok(h, name, URL1, mkrec(0, 1 + k, 1));
	}
	ck_assert_int_eq(cache_db_evict(h, 1000, &lim, NULL, record_order,
	    &ord, &s), 300);
	ck_assert_int_eq(s, CACHE_DB_OK);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(ord.recs[i].atime, 1 + i);
	assert_counts(h, 50, 0);
	ck_assert_int_eq(cache_db_get(h, "r300", URL1, NULL), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, "r299", URL1, NULL), CACHE_DB_MISS);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * Walks
 */

struct walk {
	struct cache_db	*h;
	int		 n, stop_at, del_even;
	char		 last[CACHE_DB_NAME_MAX + 1];
	int		 sorted, urls_ok;
};

static int
walker(const char *name, const char *url, const struct cache_rec *r,
    void *arg)
{
	struct walk	*w = arg;
	char		 want[64];
	int		 i;

	i = atoi(name + 1);
	(void)snprintf(want, sizeof(want), "http://h/k/%d?", i);
	if (strcmp(url, want) != 0 || r->size != 10)
		w->urls_ok = 0;
	if (w->n > 0 && strcmp(w->last, name) >= 0)
		w->sorted = 0;
	(void)snprintf(w->last, sizeof(w->last), "%s", name);
	w->n++;
	if (w->del_even && i % 2 == 0 &&
	    cache_db_del(w->h, name) != CACHE_DB_OK)
		w->urls_ok = 0;
	return w->stop_at > 0 && w->n >= w->stop_at;
}

START_TEST(test_iterate)
{
	struct cache_db	*h = master();
	struct walk	 w;

	fill(h, "k", 30);
	memset(&w, 0, sizeof(w));
	w.h = h;
	w.sorted = w.urls_ok = 1;
	ck_assert_int_eq(cache_db_iterate(h, walker, &w), CACHE_DB_OK);
	ck_assert_int_eq(w.n, 30);
	ck_assert(w.sorted);
	ck_assert(w.urls_ok);

	/* stop early */
	memset(&w, 0, sizeof(w));
	w.stop_at = 5;
	w.sorted = w.urls_ok = 1;
	ck_assert_int_eq(cache_db_iterate(h, walker, &w), CACHE_DB_OK);
	ck_assert_int_eq(w.n, 5);

	/* the callback may delete (no lock is held while it runs) */
	memset(&w, 0, sizeof(w));
	w.h = h;
	w.del_even = 1;
	w.sorted = w.urls_ok = 1;
	ck_assert_int_eq(cache_db_iterate(h, walker, &w), CACHE_DB_OK);
	ck_assert_int_eq(w.n, 30);
	ck_assert(w.urls_ok);
	ck_assert_int_eq(count_hits(h, "k", 30), 15);
	assert_counts(h, 15, 0);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * Processes
 */

static int	 hook_fd = -1;
static volatile unsigned long hook_retries;

/* hook_stall - signal the parent from inside put's txn, then stall. */
static void
hook_stall(const char *where)
{
	if (strcmp(where, "put") != 0)
		return;
	if (write(hook_fd, "x", 1) != 1)
		_exit(30);
	for (;;)
		(void)pause();
}

static void
hook_count(const char *where)
{
	if (strcmp(where, "retry") == 0)
		hook_retries++;
}

/*
 * Nobody waits for a lock: a writer that meets a lock held by another
 * process's open transaction gives up (BUSY) at once instead of
 * waiting.  (A process killed while waiting for a lock leaves a
 * condition variable that the next failchk, freeing that lock, would
 * wait on for good: the master would hang.)  Then the holder is
 * killed; failchk frees its lock and the write goes through.
 */
START_TEST(test_no_lock_wait)
{
	struct cache_db	*h = master();
	int		 ready[2];
	pid_t		 a, b;
	struct cache_rec r2 = mkrec(0, 2, 2), r3 = mkrec(0, 3, 3);

	put_ok(h, NAME1, URL1, mkrec(0, 1, 1));
	ck_assert_int_eq(pipe(ready), 0);
	if ((a = fork()) == 0) {
		struct cache_db	*w;

		if ((w = cache_db_worker_open(root, &topts)) == NULL)
			_exit(2);
		hook_fd = ready[1];
		cache_db_set_test_hook(hook_stall);
		(void)cache_db_put(w, NAME1, URL1, &r2);
		_exit(3);
	}
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	/* a holds the record's write lock, inside its transaction */
	ck_assert_int_eq(cache_db_put(h, NAME1, URL1, &r3), CACHE_DB_BUSY);
	/* even with a lock timeout of a minute, b gives up at once */
	if ((b = fork()) == 0) {
		struct cache_db_opts	 o = topts;
		struct cache_db		*w;

		o.lock_timeout_ms = 60000;
		if ((w = cache_db_worker_open(root, &o)) == NULL)
			_exit(2);
		_exit(cache_db_put(w, NAME1, URL1, &r3) == CACHE_DB_BUSY ? 0 :
		    4);
	}
	ck_assert_int_ne(b, -1);
	ck_assert_int_eq(gwt_exit_code(b, WAIT_MS), 0);
	kill_reap(a);
	ck_assert_int_eq(cache_db_watch(h, NULL), CACHE_DB_OK);
	put_ok(h, NAME1, URL1, mkrec(0, 4, 4));
	(void)close(ready[0]);
	(void)close(ready[1]);
	cache_db_close(h);
}
END_TEST

/* A handle inherited across fork is dead in the child, fine in the parent. */
START_TEST(test_fork_inherited)
{
	struct cache_db	*h = master();
	pid_t		 pid;

	put_ok(h, NAME1, URL1, mkrec(0, 1, 1));
	if ((pid = fork()) == 0) {
		if (cache_db_alive(h) ||
		    cache_db_get(h, NAME1, URL1, NULL) != CACHE_DB_DEAD)
			_exit(1);
		cache_db_close(h);	/* touches nothing here */
		if (cache_db_get(h, NAME1, URL1, NULL) != CACHE_DB_DEAD)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 0);
	ck_assert(cache_db_alive(h));
	ck_assert_int_eq(cache_db_get(h, NAME1, URL1, NULL), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/* ticker - a child running cache_db_tick until fd is readable. */
static pid_t
ticker(int fd)
{
	struct cache_db	*w;
	struct pollfd	 pfd;
	pid_t		 pid;

	if ((pid = fork()) != 0)
		return pid;
	if ((w = cache_db_worker_open(root, &topts)) == NULL)
		_exit(2);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 20) == 0)
		if (cache_db_tick(w) != CACHE_DB_OK)
			_exit(3);
	cache_db_close(w);
	_exit(0);
}

/*
 * A writer stalls inside its transaction: lookups and touches of the
 * record do not wait (BUSY), a writer's wait ends at the lock timeout
 * (enforced by ticks), another writer blocks.  The stalled writer is
 * killed; failchk aborts its transaction and the blocked one goes on.
 */
START_TEST(test_kill_in_txn)
{
	struct cache_db		*h, *w;
	struct cache_rec	 r = mkrec(0, 1, 1);
	int			 ready[2], stop[2];
	pid_t			 a, b, t;

	topts.lock_timeout_ms = 100;
	h = master();
	put_ok(h, "victim", URL1, r);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(stop), 0);
	if ((a = fork()) == 0) {
		if ((w = cache_db_worker_open(root, &topts)) == NULL)
			_exit(2);
		hook_fd = ready[1];
		cache_db_set_test_hook(hook_stall);
		(void)cache_db_put(w, "victim", URL2, &r);
		_exit(31);			/* never reached */
	}
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);

	ck_assert_int_eq(cache_db_get(h, "victim", URL1, NULL), CACHE_DB_BUSY);
	ck_assert_int_eq(cache_db_touch(h, "victim", 99999), CACHE_DB_BUSY);
	ck_assert_int_ne(t = ticker(stop[0]), -1);
	ck_assert_int_eq(cache_db_put(h, "victim", URL1, &r), CACHE_DB_BUSY);
	ck_assert_int_eq(write(stop[1], "x", 1), 1);
	ck_assert_int_eq(gwt_exit_code(t, WAIT_MS), 0);

	if ((b = fork()) == 0) {	/* blocks on a's locks at first */
		if ((w = cache_db_worker_open(root, &topts)) == NULL)
			_exit(2);
		_exit(fill_patiently(w, "b", 200));
	}
	ck_assert_int_ne(b, -1);
	kill_reap(a);
	ck_assert_int_eq(cache_db_failchk(h), CACHE_DB_OK);
	ck_assert_int_eq(gwt_exit_code(b, WAIT_MS), 0);

	ck_assert_int_eq(cache_db_get(h, "victim", URL1, NULL), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_get(h, "victim", URL2, NULL), CACHE_DB_MISS);
	ck_assert_int_eq(count_hits(h, "b", 200), 200);
	assert_counts(h, 201, 0);
	ck_assert_int_eq(cache_db_tick(h), CACHE_DB_OK);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

#define NWRITERS	4
#define NOPS		1000
#define NSHARED		8
#define NJUNK		300

struct shared {
	unsigned char	 stored[NWRITERS][NOPS];
	unsigned long	 retries[NWRITERS];
	unsigned long	 busy[NWRITERS];
	unsigned long	 get_busy[NWRITERS];
};

/*
 * writer - put, look up, overwrite shared records, delete and touch;
 * note in sh which of its records it left committed.  Exit 0, or the
 * number of the check that failed.
 */
static int
writer(int id, struct shared *sh)
{
	struct cache_db		*w;
	struct cache_rec	 r, o;
	enum cache_db_status	 s;
	char			 name[32], url[64], pfx[8];
	int			 i;

	if ((w = cache_db_worker_open(root, &topts)) == NULL)
		return 2;
	cache_db_set_test_hook(hook_count);
	(void)snprintf(pfx, sizeof(pfx), "w%d-", id);
	for (i = 0; i < NOPS; i++) {
		nth(name, sizeof(name), url, sizeof(url), pfx, i);
		/* used 2 min ago: older than any touch interval, newer
		 * than every junk record, not in the future */
		r = mkrec(time(NULL) + 3600, time(NULL) - 120, (uint64_t)i);
		if ((s = cache_db_put(w, name, url, &r)) == CACHE_DB_OK)
			sh->stored[id][i] = 1;
		else if (s == CACHE_DB_BUSY)
			sh->busy[id]++;
		else
			return 10;
		if ((s = cache_db_get(w, name, url, &o)) == CACHE_DB_BUSY)
			sh->get_busy[id]++;
		if (sh->stored[id][i] && s == CACHE_DB_OK &&
		    o.size != (uint64_t)i)
			return 11;
		if (s != CACHE_DB_OK && s != CACHE_DB_BUSY &&
		    !(s == CACHE_DB_MISS && !sh->stored[id][i]))
			return 12;
		(void)snprintf(name, sizeof(name), "shared%d", i % NSHARED);
		(void)snprintf(url, sizeof(url), "http://s/%d/%d?", id, i);
		s = cache_db_put(w, name, url, &r);
		if (s != CACHE_DB_OK && s != CACHE_DB_BUSY)
			return 13;
		if (i % 5 == 4) {	/* delete an earlier one of ours */
			nth(name, sizeof(name), url, sizeof(url), pfx, i - 2);
			s = cache_db_del(w, name);
			if (s == CACHE_DB_OK)
				sh->stored[id][i - 2] = 0;
			else if (s != CACHE_DB_BUSY &&
			    !(s == CACHE_DB_MISS && !sh->stored[id][i - 2]))
				return 14;
		}
		s = cache_db_touch(w, name, time(NULL));
		if (s == CACHE_DB_ERROR || s == CACHE_DB_DEAD)
			return 15;
	}
	sh->retries[id] = hook_retries;
	cache_db_close(w);
	return 0;
}

/* evict_junk - while writers run: evict exactly k of the junk records. */
static long
evict_junk(struct cache_db *h, long k, int *bad)
{
	struct cache_db_stats	 tot;
	struct cache_db_limits	 lim;
	static struct order	 ord;
	enum cache_db_status	 s;
	long			 n;
	int			 i;

	if (cache_db_stats(h, &tot) != CACHE_DB_OK)
		return 0;
	lim.max_entries = tot.entries - (uint64_t)k;
	lim.max_bytes = 0;
	ord.n = 0;
	n = cache_db_evict(h, time(NULL), &lim, &tot, record_order, &ord, &s);
	for (i = 0; i < ord.n && i < 400; i++)
		if (strncmp(ord.names[i], "junk", 4) != 0)
			(*bad)++;
	if (s != CACHE_DB_OK && s != CACHE_DB_BUSY)
		(*bad)++;
	return n;
}

/*
 * Forked writers deadlock on shared pages and retry, while the master
 * evicts the oldest (junk) records; at the end the index holds exactly
 * what every writer says it committed, and verifies.
 */
START_TEST(test_concurrent_writers)
{
	struct cache_db		*h = master();
	struct cache_rec	 r;
	struct shared		*sh;
	pid_t			 pid[NWRITERS];
	char			 name[32], url[64];
	long			 junk = NJUNK, n;
	unsigned long		 retries = 0, busy = 0, get_busy = 0;
	int			 i, j, bad = 0, loops, want = 0;

	for (i = 0; i < NJUNK; i++) {
		nth(name, sizeof(name), url, sizeof(url), "junk", i);
		put_ok(h, name, url, mkrec(0, 1 + i, 1));
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < NWRITERS; i++) {
		if ((pid[i] = fork()) == 0)
			_exit(writer(i, sh));
		ck_assert_int_ne(pid[i], -1);
	}
	for (loops = 0; junk > 0 && loops < 200; loops++) {
		n = evict_junk(h, junk < 50 ? junk : 50, &bad);
		junk -= n;
	}
	for (i = 0; i < NWRITERS; i++)
		ck_assert_int_eq(gwt_exit_code(pid[i], WAIT_MS), 0);
	/* what the writers' locks left (a loaded machine lets them hold
	   the master off for all 200 rounds): alone now, it must go */
	for (loops = 0; junk > 0 && loops < 200; loops++) {
		n = evict_junk(h, junk < 50 ? junk : 50, &bad);
		junk -= n;
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(junk, 0);

	for (i = 0; i < NWRITERS; i++) {
		char	 pfx[8];

		(void)snprintf(pfx, sizeof(pfx), "w%d-", i);
		for (j = 0; j < NOPS; j++) {
			nth(name, sizeof(name), url, sizeof(url), pfx, j);
			ck_assert_int_eq(cache_db_get(h, name, url, &r),
			    sh->stored[i][j] ? CACHE_DB_OK : CACHE_DB_MISS);
			want += sh->stored[i][j];
		}
		retries += sh->retries[i];
		busy += sh->busy[i];
		get_busy += sh->get_busy[i];
	}
	for (i = 0; i < NSHARED; i++) {
		(void)snprintf(name, sizeof(name), "shared%d", i);
		ck_assert_int_eq(cache_db_del(h, name), CACHE_DB_OK);
	}
	fprintf(stderr, "concurrent writers: %d records kept, %lu deadlock "
	    "retries, %lu puts gave up, %lu lookups met a lock\n", want,
	    retries, busy, get_busy);
	assert_counts(h, (uint64_t)want, (uint64_t)want);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	ck_assert_int_eq(munmap(sh, sizeof(*sh)), 0);
	cache_db_close(h);
}
END_TEST

/*
 * kill -9 of the master and of writers in mid-flight, then the master's
 * open (recovery, and a verify) keeps every committed record.
 */
START_TEST(test_kill_all_recover)
{
	struct cache_db	*h;
	char		 err[512], pfx[8];
	int		 ready[2], i;
	pid_t		 m, w[3];

	ck_assert_int_eq(pipe(ready), 0);
	if ((m = fork()) == 0) {
		h = cache_db_master_open(root, &topts, err, sizeof(err));
		if (h == NULL || write(ready[1], "m", 1) != 1)
			_exit(2);
		for (;;)
			(void)pause();
	}
	ck_assert_int_ne(m, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	for (i = 0; i < 3; i++) {
		if ((w[i] = fork()) == 0) {
			struct cache_db	*wh;

			if ((wh = cache_db_worker_open(root, &topts)) == NULL)
				_exit(2);
			(void)snprintf(pfx, sizeof(pfx), "c%d-", i);
			fill(wh, pfx, 300);
			if (write(ready[1], "w", 1) != 1)
				_exit(3);
			(void)snprintf(pfx, sizeof(pfx), "x%d-", i);
			for (;;)		/* busy until killed */
				fill(wh, pfx, 1000);
		}
		ck_assert_int_ne(w[i], -1);
	}
	ck_assert_int_eq(gwt_read_bytes(ready[0], 3, WAIT_MS), 3);
	for (i = 0; i < 3; i++)
		kill_reap(w[i]);
	kill_reap(m);

	h = master();
	ck_assert(!exists(root, ".index.broken"));	/* recovered */
	for (i = 0; i < 3; i++) {
		(void)snprintf(pfx, sizeof(pfx), "c%d-", i);
		ck_assert_int_eq(count_hits(h, pfx, 300), 300);
	}
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	fill(h, "after", 10);
	ck_assert_int_eq(count_hits(h, "after", 10), 10);
	cache_db_close(h);
}
END_TEST

/*--------------------------------------------------------------------
 * Damage
 */

/* Garbage over every region file: recovery recreates them, data kept. */
START_TEST(test_corrupt_regions)
{
	struct cache_db	*h = master();
	char		 path[PATH_MAX], file[16];
	int		 i, n = 0;

	fill(h, "k", 100);
	cache_db_close(h);
	log_set_level(GW_LOG_CRIT);		/* expected BDB errors */
	for (i = 1; i <= 9; i++) {
		(void)snprintf(file, sizeof(file), "__db.%03d", i);
		if (!exists(home, file))
			continue;
		home_file(path, sizeof(path), file);
		scribble(path, 0, 8192);
		n++;
	}
	ck_assert_int_ge(n, 3);
	h = master();
	ck_assert(!exists(root, ".index.broken"));
	ck_assert_int_eq(count_hits(h, "k", 100), 100);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

/* rebuilt - h is an empty, working index; the old one was set aside. */
static void
assert_rebuilt(struct cache_db *h)
{
	char	 aside[PATH_MAX];

	ck_assert_int_lt(snprintf(aside, sizeof(aside), "%s/.index.broken",
	    root), (int)sizeof(aside));
	ck_assert(exists(aside, "index.db"));
	assert_counts(h, 0, 0);
	fill(h, "new", 50);
	ck_assert_int_eq(count_hits(h, "new", 50), 50);
	ck_assert_int_eq(cache_db_verify(h), CACHE_DB_OK);
}

/* index.db cut short after a clean stop: the verify at open finds it. */
START_TEST(test_corrupt_truncated)
{
	struct cache_db	*h = master();
	char		 path[PATH_MAX];

	fill(h, "k", 2000);
	cache_db_close(h);
	log_set_level(GW_LOG_CRIT);
	home_file(path, sizeof(path), "index.db");
	ck_assert_int_eq(truncate(path, 3 * 4096), 0);
	h = master();
	assert_rebuilt(h);
	cache_db_close(h);
}
END_TEST

/* Garbage in a database page after a clean stop: the same. */
START_TEST(test_corrupt_page)
{
	struct cache_db	*h = master();
	char		 path[PATH_MAX];

	fill(h, "k", 2000);
	cache_db_close(h);
	log_set_level(GW_LOG_CRIT);
	home_file(path, sizeof(path), "lru.db");
	scribble(path, 4096 * 2, 4096);
	h = master();
	assert_rebuilt(h);
	cache_db_close(h);
}
END_TEST

/* A damaged log after a crash: recovery fails, the index is rebuilt. */
START_TEST(test_corrupt_log)
{
	struct cache_db	*h;
	char		 path[PATH_MAX], err[512];
	int		 ready[2];
	pid_t		 m;

	ck_assert_int_eq(pipe(ready), 0);
	if ((m = fork()) == 0) {
		h = cache_db_master_open(root, &topts, err, sizeof(err));
		if (h == NULL)
			_exit(2);
		fill(h, "k", 500);
		if (write(ready[1], "m", 1) != 1)
			_exit(3);
		for (;;)
			(void)pause();
	}
	ck_assert_int_ne(m, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	kill_reap(m);
	log_set_level(GW_LOG_CRIT);
	home_file(path, sizeof(path), "log.0000000001");
	scribble(path, 0, 8192);
	h = master();
	assert_rebuilt(h);
	cache_db_close(h);
}
END_TEST

/* crashed_master - a child: master open, fill pfx, _exit without close. */
static void
crashed_master(const char *pfx, int n)
{
	struct cache_db	*h;
	char		 err[512];
	pid_t		 m;

	if ((m = fork()) == 0) {
		h = cache_db_master_open(root, &topts, err, sizeof(err));
		if (h == NULL)
			_exit(2);
		fill(h, pfx, n);
		_exit(0);
	}
	ck_assert_int_ne(m, -1);
	ck_assert_int_eq(gwt_exit_code(m, WAIT_MS), 0);
	ck_assert(!exists(home, "clean-shutdown"));
}

/*
 * VERIFY_UNCLEAN, and what recovery itself repairs.  A crash, index.db
 * cut: what the log holds since the last checkpoint is redone (here,
 * everything).  A crash after a checkpoint, the same cut: the verify
 * finds it and the index is rebuilt.  (After a clean stop there is no
 * verify; whether a cut shows at open depends on where it falls.)
 */
START_TEST(test_verify_unclean)
{
	struct cache_db	*h;
	char		 path[PATH_MAX];

	topts.verify = CACHE_DB_VERIFY_UNCLEAN;
	log_set_level(GW_LOG_CRIT);
	home_file(path, sizeof(path), "index.db");

	crashed_master("k", 2000);
	ck_assert_int_eq(truncate(path, 3 * 4096), 0);
	h = master();
	ck_assert(!exists(root, ".index.broken"));
	ck_assert_int_eq(count_hits(h, "k", 2000), 2000);
	cache_db_close(h);		/* a checkpoint */

	crashed_master("x", 10);
	ck_assert_int_eq(truncate(path, 3 * 4096), 0);
	h = master();
	assert_rebuilt(h);
	cache_db_close(h);
	ck_assert(exists(home, "clean-shutdown"));
}
END_TEST

/* Something else where the index should be: set aside, rebuilt. */
START_TEST(test_home_not_dir)
{
	struct cache_db	*h;
	int		 fd;

	ck_assert_int_ge(fd = open(home, O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(close(fd), 0);
	log_set_level(GW_LOG_CRIT);
	h = master();
	fill(h, "k", 10);
	ck_assert_int_eq(count_hits(h, "k", 10), 10);
	cache_db_close(h);
}
END_TEST

START_TEST(test_unwritable_root)
{
	struct cache_db	*h;
	char		 err[1024], path[PATH_MAX];
	pid_t		 pid;
	int		 fd;

	log_set_level(GW_LOG_CRIT);
	/* missing */
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/none", root),
	    (int)sizeof(path));
	h = cache_db_master_open(path, &topts, err, sizeof(err));
	ck_assert_ptr_null(h);
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, path));
	/* a file */
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(close(fd), 0);
	h = cache_db_master_open(path, &topts, err, sizeof(err));
	ck_assert_ptr_null(h);
	ck_assert_msg(strstr(err, "Not a directory") != NULL, "%s", err);
	ck_assert_ptr_null(cache_db_worker_open(path, &topts));
	/* a directory this user may not write (as root: as nobody) */
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/ro", root),
	    (int)sizeof(path));
	ck_assert_int_eq(mkdir(path, 0555), 0);
	ck_assert_int_eq(chmod(root, 0755), 0);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && (setgid(65534) == -1 ||
		    setuid(65534) == -1))
			_exit(2);
		h = cache_db_master_open(path, &topts, err, sizeof(err));
		if (h != NULL)
			_exit(3);
		if (strstr(err, "Permission denied") == NULL ||
		    strstr(err, "rebuild failed") == NULL)
			_exit(4);
		if (cache_db_worker_open(path, &topts) != NULL)
			_exit(5);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 0);
}
END_TEST

/* As root: the index is handed to the workers' user, who can use it. */
START_TEST(test_owner)
{
	struct cache_db	*h, *w;
	struct stat	 st;
	char		 path[PATH_MAX];
	pid_t		 pid;

	if (geteuid() != 0) {
		fprintf(stderr, "test_owner: not root, skipped\n");
		return;
	}
	topts.own = 1;
	topts.uid = 65534;
	topts.gid = 65534;
	ck_assert_int_eq(chmod(root, 0755), 0);
	h = master();
	ck_assert_int_eq(stat(home, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	ck_assert_uint_eq(st.st_mode & 07777, 02770);
	home_file(path, sizeof(path), "index.db");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	ck_assert_uint_eq(st.st_gid, 65534);
	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		if ((w = cache_db_worker_open(root, &topts)) == NULL)
			_exit(3);
		fill(w, "k", 500);
		cache_db_close(w);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 0);
	ck_assert_int_eq(count_hits(h, "k", 500), 500);
	ck_assert_int_eq(cache_db_tick(h), CACHE_DB_OK);
	cache_db_close(h);
}
END_TEST

static int
alive_pid(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void
quiet(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	(void)pfx;
	(void)msg;
}

/* panic_env - in a child: join the environment with plain BDB, panic it. */
static int
panic_env(void)
{
	DB_ENV	*env;

	if (db_env_create(&env, 0) != 0)
		return 2;
	env->set_errcall(env, quiet);
	if (env->set_thread_count(env, 32) != 0 ||
	    env->set_isalive(env, alive_pid) != 0 ||
	    env->open(env, home, DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_TXN, 0) != 0)
		return 2;
	if (env->set_flags(env, DB_PANIC_ENVIRONMENT, 1) != 0)
		return 3;
	(void)env->close(env, 0);
	return 0;
}

/*
 * After a panic every handle goes dead: calls answer DEAD at once, the
 * master's failchk says so; the next master open recovers the data.
 */
START_TEST(test_panic_dead)
{
	struct cache_db	*h, *w;
	int		 go[2], done[2];
	pid_t		 p, q;

	ABANDONED_BY_BDB(h = master());

	fill(h, "k", 20);
	log_set_level(GW_LOG_CRIT);		/* the panic is expected */
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	if ((q = fork()) == 0) {
		if ((w = cache_db_worker_open(root, &topts)) == NULL)
			_exit(2);
		if (count_hits(w, "k", 20) != 20 ||
		    write(done[1], "r", 1) != 1)
			_exit(3);
		if (gwt_read_bytes(go[0], 1, WAIT_MS) != 1)
			_exit(4);
		if (cache_db_get(w, "k00001", "http://h/k/1?", NULL) !=
		    CACHE_DB_DEAD || cache_db_alive(w))
			_exit(5);
		if (count_hits(w, "k", 20) != 0 ||
		    cache_db_touch(w, "k00001", 1) != CACHE_DB_DEAD)
			_exit(6);
		cache_db_close(w);
		_exit(0);
	}
	ck_assert_int_ne(q, -1);
	ck_assert_int_eq(gwt_read_bytes(done[0], 1, WAIT_MS), 1);
	if ((p = fork()) == 0)
		_exit(panic_env());
	ck_assert_int_ne(p, -1);
	ck_assert_int_eq(gwt_exit_code(p, WAIT_MS), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(gwt_exit_code(q, WAIT_MS), 0);

	ck_assert_int_eq(cache_db_failchk(h), CACHE_DB_DEAD);
	ck_assert(!cache_db_alive(h));
	ck_assert_int_eq(cache_db_put(h, "z", URL1, NULL), CACHE_DB_DEAD);
	cache_db_close(h);
	h = master();
	ck_assert(!exists(root, ".index.broken"));
	ck_assert_int_eq(count_hits(h, "k", 20), 20);
	cache_db_close(h);
}
END_TEST

static Suite *
cache_db_suite(void)
{
	Suite	*s = suite_create("cache_db");
	TCase	*tc;

	tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_null_handle);
	tcase_add_test(tc, test_touch);
	tcase_add_test(tc, test_evict_order);
	tcase_add_test(tc, test_evict_batches);
	tcase_add_test(tc, test_iterate);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fork_inherited);
	tcase_add_test(tc, test_kill_in_txn);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_kill_all_recover);
	tcase_add_test(tc, test_no_lock_wait);
	tcase_add_test(tc, test_panic_dead);
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_corrupt_regions);
	tcase_add_test(tc, test_corrupt_truncated);
	tcase_add_test(tc, test_corrupt_page);
	tcase_add_test(tc, test_corrupt_log);
	tcase_add_test(tc, test_verify_unclean);
	tcase_add_test(tc, test_home_not_dir);
	tcase_add_test(tc, test_unwritable_root);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(cache_db_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
