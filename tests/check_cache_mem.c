/*
 * check_cache_mem.c - tests of the memory store (cache_mem.c) against a
 * real Berkeley DB environment in a temp directory: objects, size and
 * count limits, LRU, GDSF and expired-first eviction, processes sharing
 * one store, lookups that never wait, lock waits that end, writers
 * killed with SIGKILL between calls and inside Berkeley DB, a full
 * Berkeley DB.
 *
 * Check runs each test in its own process; the store is opened inside
 * the test (the fixture only makes and removes the directory), and the
 * children the tests fork leave with _exit.  The clock is the test's
 * where order matters; every wait is bounded; no assertion depends on
 * timing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache_mem.h"
#include "testlib.h"
#include "log.h"

/*
 * After a panic, DB_ENV->close and DB->close leave the handles' memory
 * to the process (src/env/env_open.c, __env_close_pp); cache_mem.c
 * keeps such environments reachable, but what BDB allocated after the
 * panic is not: LeakSanitizer is told, in the tests that panic.
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

#define WAIT_MS		30000		/* ms for a child or a byte */
#define NAME1		"AbCdEfGhIjKlMnOpQrStUv"	/* as Apache's */
#define URL1		"http://www.example.com:80/index.html?"
#define URL2		"http://www.example.com:80/other.html?"

static char			 root[PATH_MAX];
static struct cache_mem_opts	 topts;
static struct cache_mem_test	 cur;		/* what the store is given */
static time_t			 fake_now = 1000000;

/*--------------------------------------------------------------------
 * Helpers
 */

static void
setup(void)
{
	char	 tmpl[] = "/tmp/check_cache_mem.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_lt(snprintf(root, sizeof(root), "%s", tmpl),
	    (int)sizeof(root));
	memset(&topts, 0, sizeof(topts));
	topts.server_limit = 16;
	topts.home = root;
	memset(&cur, 0, sizeof(cur));
	cur.stuck_secs = -1;
	cache_mem_set_test(NULL);
}

static void
teardown(void)
{
	ck_assert_int_eq(gwt_rm_tree(root), 0);
}

static time_t
fake_clock(void)
{
	return fake_now;
}

static void
use_fake_clock(void)
{
	cur.now = fake_clock;
	cache_mem_set_test(&cur);
}

/* wait_exit_ticking - wait_exit, with a master tick every 50 ms. */
static int
wait_exit_ticking(pid_t pid, int ms)
{
	long long end = gwt_now_ms() + ms;
	pid_t	 r;
	int	 st;

	while (gwt_now_ms() < end) {
		if ((r = waitpid(pid, &st, WNOHANG)) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		if (r == -1)
			return -1;
		cache_mem_master_tick();
		(void)poll(NULL, 0, 50);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -2;
}

static void
kill_reap(pid_t pid)
{
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 128 + SIGKILL);
}

static void
mopen(void)
{
	char	 err[1024];

	err[0] = '\0';
	ck_assert_msg(cache_mem_master_open(&topts, err, sizeof(err)) == 0,
	    "master_open: %s", err);
	ck_assert(cache_mem_alive());
}

/*
 * Objects that prove themselves whole: 16 bytes of header (length,
 * generation, sum of the rest), then bytes from the name and
 * generation.  obj_ok - buf holds such an object of length len.
 */
static size_t
obj_make(unsigned char *buf, const char *name, unsigned gen, size_t len)
{
	uint32_t	 sum = 0;
	size_t		 i, nl = strlen(name);

	ck_assert_uint_ge(len, 16);
	for (i = 16; i < len; i++) {
		buf[i] = (unsigned char)(name[i % nl] + gen * 7 + i);
		sum = sum * 31 + buf[i];
	}
	memcpy(buf, &len, sizeof(uint32_t));
	memcpy(buf + 4, &gen, sizeof(gen));
	memcpy(buf + 8, &sum, sizeof(sum));
	memset(buf + 12, 0x5a, 4);
	return len;
}

static int
obj_ok(const unsigned char *buf, size_t len, const char *name)
{
	uint32_t	 l, sum = 0, want;
	unsigned	 gen;
	size_t		 i, nl = strlen(name);

	if (len < 16)
		return 0;
	memcpy(&l, buf, sizeof(l));
	memcpy(&gen, buf + 4, sizeof(gen));
	memcpy(&want, buf + 8, sizeof(want));
	if (l != len || buf[12] != 0x5a || buf[15] != 0x5a)
		return 0;
	for (i = 16; i < len; i++) {
		if (buf[i] != (unsigned char)(name[i % nl] + gen * 7 + i))
			return 0;
		sum = sum * 31 + buf[i];
	}
	return sum == want;
}

/* put_n - name's object of len bytes, generation gen. */
static int
put_n(const char *name, const char *url, unsigned gen, size_t len,
    time_t expires)
{
	static unsigned char	 buf[65536];

	ck_assert_uint_le(len, sizeof(buf));
	obj_make(buf, name, gen, len);
	return cache_mem_put(name, url, buf, len, expires);
}

/* has - name is stored under url, whole. */
static int
has(const char *name, const char *url)
{
	static unsigned char	 buf[65536];
	ssize_t			 n;

	if ((n = cache_mem_get(name, url, buf, sizeof(buf))) < 0)
		return 0;
	ck_assert_msg(obj_ok(buf, (size_t)n, name), "%s: a partial object",
	    name);
	return 1;
}

static void
url_of(char *url, size_t len, const char *name)
{
	(void)snprintf(url, len, "http://t/%s", name);
}

/* Single-letter names for the eviction scenarios: URL "http://t/X". */
static int
put_x(const char *name, size_t len, time_t expires)
{
	char	 url[64];

	url_of(url, sizeof(url), name);
	return put_n(name, url, 1, len, expires);
}

static int
has_x(const char *name)
{
	char	 url[64];

	url_of(url, sizeof(url), name);
	return has(name, url);
}

/*
 * present - which of the one-letter objects are stored now, e.g. "ACD"
 * (looked up without recording a use).
 */
static const char *
present(const char *letters)
{
	static char	 out[32];
	char		 one[2];
	size_t		 n = 0;

	cur.no_touch = 1;
	cache_mem_set_test(&cur);
	for (; *letters != '\0'; letters++) {
		one[0] = *letters;
		one[1] = '\0';
		if (has_x(one))
			out[n++] = *letters;
	}
	out[n] = '\0';
	cur.no_touch = 0;
	cache_mem_set_test(&cur);
	return out;
}

static void
stats_are(uint64_t entries, uint64_t bytes)
{
	uint64_t	 e = 0, b = 0;

	ck_assert_int_eq(cache_mem_stats(&e, &b), 0);
	ck_assert_uint_eq(e, entries);
	ck_assert_uint_eq(b, bytes);
}

/*--------------------------------------------------------------------
 * Objects
 */

START_TEST(test_roundtrip)
{
	unsigned char	 buf[4096], small[10];
	ssize_t		 n;

	mopen();
	ck_assert_int_eq(cache_mem_get(NAME1, URL1, buf, sizeof(buf)), -1);
	stats_are(0, 0);
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 1000, 0), 0);
	ck_assert(has(NAME1, URL1));
	n = cache_mem_get(NAME1, URL1, buf, sizeof(buf));
	ck_assert_int_eq(n, 1000);
	ck_assert(obj_ok(buf, (size_t)n, NAME1));
	stats_are(1, 1000 + strlen(URL1));

	/* another URL under the same name is a miss; so is a small buf */
	ck_assert_int_eq(cache_mem_get(NAME1, URL2, buf, sizeof(buf)), -1);
	ck_assert_int_eq(cache_mem_get(NAME1, "http://www.example.com:80/"
	    "index.html", buf, sizeof(buf)), -1);
	ck_assert_int_eq(cache_mem_get(NAME1, URL1, small, sizeof(small)),
	    -1);
	ck_assert_int_eq(cache_mem_get(NAME1, URL1, buf, 999), -1);
	ck_assert_int_eq(cache_mem_get(NAME1, URL1, buf, 1000), 1000);

	/* replace: other URL, other size */
	ck_assert_int_eq(put_n(NAME1, URL2, 2, 3000, 0), 0);
	ck_assert(!has(NAME1, URL1));
	n = cache_mem_get(NAME1, URL2, buf, sizeof(buf));
	ck_assert_int_eq(n, 3000);
	ck_assert(obj_ok(buf, 3000, NAME1));
	ck_assert_uint_eq(buf[4], 2);
	stats_are(1, 3000 + strlen(URL2));

	ck_assert_int_eq(put_n("other", URL1, 1, 100, 0), 0);
	stats_are(2, 3100 + strlen(URL1) + strlen(URL2));
	ck_assert_int_eq(cache_mem_del(NAME1), 0);
	ck_assert(!has(NAME1, URL2));
	ck_assert_int_eq(cache_mem_del(NAME1), 0);	/* none: fine */
	stats_are(1, 100 + strlen(URL1));
	ck_assert(has("other", URL1));

	/* bad arguments */
	ck_assert_int_eq(cache_mem_put(NULL, URL1, buf, 10, 0), -1);
	ck_assert_int_eq(cache_mem_put("", URL1, buf, 10, 0), -1);
	ck_assert_int_eq(cache_mem_put(NAME1, NULL, buf, 10, 0), -1);
	ck_assert_int_eq(cache_mem_put(NAME1, URL1, NULL, 10, 0), -1);
	ck_assert_int_eq(cache_mem_get(NULL, URL1, buf, 10), -1);
	ck_assert_int_eq(cache_mem_get(NAME1, NULL, buf, 10), -1);
	ck_assert_int_eq(cache_mem_del(NULL), -1);
	cache_mem_master_close();
	ck_assert(!cache_mem_alive());
	ck_assert_int_eq(cache_mem_get("other", URL1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(put_n("other", URL1, 1, 100, 0), -1);
	ck_assert_int_eq(cache_mem_stats(NULL, NULL), -1);
	cache_mem_master_close();			/* twice: fine */
}
END_TEST

/* A fresh store at every open; old region files go, other files stay. */
START_TEST(test_fresh_store)
{
	char	 path[PATH_MAX];
	int	 fd;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/__db.009", root),
	    (int)sizeof(path));
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(write(fd, "garbage", 7), 7);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/keep", root),
	    (int)sizeof(path));
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(close(fd), 0);

	mopen();
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 500, 0), 0);
	mopen();		/* again: closes, then a new, empty store */
	ck_assert(!has(NAME1, URL1));
	stats_are(0, 0);
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 500, 0), 0);
	cache_mem_master_close();
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/__db.009", root),
	    (int)sizeof(path));
	ck_assert_int_eq(access(path, F_OK), -1);
	mopen();
	ck_assert(!has(NAME1, URL1));
	cache_mem_master_close();
}
END_TEST

/* count_entries - directory entries of dir whose names start with pfx. */
static int
count_entries(const char *dir, const char *pfx)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, pfx, strlen(pfx)) == 0)
			n++;
	ck_assert_int_eq(closedir(d), 0);
	return n;
}

/* No home: a private directory under $TMPDIR, gone at close. */
START_TEST(test_temp_home)
{
	ck_assert_int_eq(setenv("TMPDIR", root, 1), 0);
	topts.home = NULL;
	mopen();
	ck_assert_int_eq(count_entries(root, "gatewayd-mem."), 1);
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 500, 0), 0);
	ck_assert(has(NAME1, URL1));
	cache_mem_master_close();
	ck_assert_int_eq(count_entries(root, "gatewayd-mem."), 0);
	ck_assert_int_eq(count_entries(root, "__db."), 0);
}
END_TEST

START_TEST(test_bad_opts)
{
	char	 err[256], path[PATH_MAX];
	int	 fd;

	topts.min_obj = 200;
	topts.max_obj = 100;
	ck_assert_int_eq(cache_mem_master_open(&topts, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "MCacheMinObjectSize"));
	ck_assert(!cache_mem_alive());
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 150, 0), -1);

	topts.min_obj = 0;
	topts.max_obj = 0;
	topts.size_bytes = 10000;	/* = MCacheMaxObjectSize 10000 */
	ck_assert_int_eq(cache_mem_master_open(&topts, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "MCacheSize"));

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/file", root),
	    (int)sizeof(path));
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(close(fd), 0);
	topts.size_bytes = 0;
	topts.home = path;
	ck_assert_int_eq(cache_mem_master_open(&topts, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Not a directory"));
	ck_assert(!cache_mem_alive());
	cache_mem_master_close();
}
END_TEST

/* MCacheMinObjectSize, MCacheMaxObjectSize; Apache's defaults. */
START_TEST(test_object_sizes)
{
	unsigned char	 buf[16];

	mopen();			/* 1..10000 bytes */
	ck_assert_int_eq(cache_mem_put("zero", URL1, buf, 0, 0), -1);
	ck_assert_int_eq(put_n("max", URL1, 1, 10000, 0), 0);
	ck_assert_int_eq(put_n("over", URL1, 1, 10001, 0), -1);
	ck_assert(has("max", URL1));
	ck_assert(!has("over", URL1));
	cache_mem_master_close();

	topts.min_obj = 100;
	topts.max_obj = 2000;
	mopen();
	ck_assert_int_eq(put_n("a", URL1, 1, 99, 0), -1);
	ck_assert_int_eq(put_n("a", URL1, 1, 100, 0), 0);
	ck_assert_int_eq(put_n("b", URL1, 1, 2000, 0), 0);
	ck_assert_int_eq(put_n("c", URL1, 1, 2001, 0), -1);
	/* a refused object leaves the older one in place */
	ck_assert_int_eq(put_n("a", URL1, 2, 2001, 0), -1);
	ck_assert(has("a", URL1));
	stats_are(2, 2100 + 2 * strlen(URL1));
	cache_mem_master_close();
}
END_TEST

/*--------------------------------------------------------------------
 * Eviction
 */

/* MCacheMaxObjectCount: the least recently used go first. */
START_TEST(test_count_lru)
{
	topts.max_count = 5;
	use_fake_clock();
	mopen();
	ck_assert_int_eq(put_x("A", 100, 0), 0);
	fake_now++;
	ck_assert_int_eq(put_x("B", 100, 0), 0);
	fake_now++;
	ck_assert_int_eq(put_x("C", 100, 0), 0);
	fake_now++;
	ck_assert_int_eq(put_x("D", 100, 0), 0);
	fake_now++;
	ck_assert_int_eq(put_x("E", 100, 0), 0);
	stats_are(5, 5 * 110);

	/* a use within the touch interval of the store does not count */
	ck_assert(has_x("A"));
	fake_now += CACHE_MEM_TOUCH_INTERVAL;
	ck_assert(has_x("B"));		/* B used now: A is the oldest */
	ck_assert_int_eq(put_x("F", 100, 0), 0);
	ck_assert_str_eq(present("ABCDEF"), "BCDEF");
	fake_now++;
	ck_assert_int_eq(put_x("G", 100, 0), 0);
	ck_assert_str_eq(present("BCDEFG"), "BDEFG");
	/* replacing counts once, and as a use */
	fake_now++;
	ck_assert_int_eq(put_x("D", 100, 0), 0);
	stats_are(5, 5 * 110);
	ck_assert_int_eq(put_x("H", 100, 0), 0);
	ck_assert_str_eq(present("BDEFGH"), "BDFGH");
	cache_mem_master_close();
}
END_TEST

/* MCacheSize: bytes are objects plus URLs; LRU order. */
START_TEST(test_size_lru)
{
	uint64_t	 e, b;

	topts.size_bytes = 1000;
	topts.max_obj = 500;
	use_fake_clock();
	mopen();
	ck_assert_int_eq(put_x("A", 290, 0), 0);	/* 300 bytes each */
	fake_now++;
	ck_assert_int_eq(put_x("B", 290, 0), 0);
	fake_now++;
	ck_assert_int_eq(put_x("C", 290, 0), 0);
	stats_are(3, 900);
	fake_now += CACHE_MEM_TOUCH_INTERVAL;
	ck_assert_int_eq(put_x("D", 90, 0), 0);		/* 100: fits */
	stats_are(4, 1000);
	fake_now++;
	ck_assert(has_x("A"));				/* A used now */
	fake_now++;
	ck_assert_int_eq(put_x("E", 190, 0), 0);	/* 200: B goes */
	ck_assert_str_eq(present("ABCDE"), "ACDE");
	stats_are(4, 900);
	fake_now++;
	ck_assert_int_eq(put_x("F", 490, 0), 0);	/* 500: C, D go */
	ck_assert_str_eq(present("ACDEF"), "AEF");
	stats_are(3, 1000);
	ck_assert_int_eq(put_x("G", 501, 0), -1);	/* > max_obj */
	ck_assert_int_eq(cache_mem_stats(&e, &b), 0);
	ck_assert_uint_le(b, 1000);
	cache_mem_master_close();
}
END_TEST

/* Expired objects go first, oldest expiry first, then LRU. */
START_TEST(test_expired_first)
{
	time_t	 t0 = fake_now;

	topts.max_count = 4;
	use_fake_clock();
	mopen();
	ck_assert_int_eq(put_x("A", 100, 0), 0);	/* never expires */
	fake_now++;
	ck_assert_int_eq(put_x("B", 100, t0 + 100), 0);
	fake_now++;
	ck_assert_int_eq(put_x("C", 100, t0 + 5), 0);
	fake_now++;
	ck_assert_int_eq(put_x("D", 100, t0 + 50), 0);
	fake_now = t0 + 10;				/* C expired */
	ck_assert_int_eq(put_x("E", 100, 0), 0);
	ck_assert_str_eq(present("ABCDE"), "ABDE");
	fake_now++;				/* none expired: LRU (A) */
	ck_assert_int_eq(put_x("F", 100, 0), 0);
	ck_assert_str_eq(present("ABDEF"), "BDEF");
	fake_now = t0 + 200;			/* B, D expired: D first */
	ck_assert_int_eq(put_x("G", 100, 0), 0);
	ck_assert_str_eq(present("BDEFG"), "BEFG");
	ck_assert_int_eq(put_x("H", 100, 0), 0);
	ck_assert_str_eq(present("BEFGH"), "EFGH");
	/* an expired object is still served until evicted */
	ck_assert_int_eq(put_x("H", 100, t0 + 1), 0);
	ck_assert(has_x("H"));
	cache_mem_master_close();
}
END_TEST

/*
 * GDSF: H = L + frequency * 2^20 / bytes; the lowest H goes and sets L.
 * With 10-byte URLs: 1024 bytes (1014 + 10) weigh 1024 a use, 512 bytes
 * 2048, 128 bytes 8192.
 */
START_TEST(test_gdsf)
{
	int	 i;

	topts.max_count = 3;
	topts.gdsf = 1;
	use_fake_clock();
	mopen();
	ck_assert_int_eq(put_x("A", 1014, 0), 0);	/* H 1024 */
	ck_assert_int_eq(put_x("B", 118, 0), 0);	/* H 8192 */
	ck_assert_int_eq(put_x("C", 1014, 0), 0);	/* H 1024 */
	for (i = 0; i < 5; i++) {		/* 5 uses: C's H 6144 */
		fake_now += CACHE_MEM_TOUCH_INTERVAL;
		ck_assert(has_x("C"));
	}
	/* LRU would evict A, then B (the least recently used) */
	ck_assert_int_eq(put_x("D", 502, 0), 0);	/* A; L 1024 */
	ck_assert_str_eq(present("ABCD"), "BCD");	/* D: 3072 */
	ck_assert_int_eq(put_x("E", 1014, 0), 0);	/* D; L 3072 */
	ck_assert_str_eq(present("BCDE"), "BCE");	/* E: 4096 */
	ck_assert_int_eq(put_x("F", 1014, 0), 0);	/* E; L 4096 */
	ck_assert_str_eq(present("BCEF"), "BCF");	/* F: 5120 */
	ck_assert_int_eq(put_x("G", 1014, 0), 0);	/* F; L 5120 */
	ck_assert_str_eq(present("BCFG"), "BCG");	/* G: 6144 */
	/* C and G tie at 6144: the name decides; B stays */
	ck_assert_int_eq(put_x("H", 118, 0), 0);	/* C; L 6144 */
	ck_assert_str_eq(present("BCGH"), "BGH");
	cache_mem_master_close();
}
END_TEST

/* GDSF: hits are counted in shared memory; 8 force an update. */
START_TEST(test_gdsf_hits)
{
	int	 i;

	topts.max_count = 2;
	topts.gdsf = 1;
	use_fake_clock();
	mopen();
	ck_assert_int_eq(put_x("X", 1014, 0), 0);
	ck_assert_int_eq(put_x("Y", 1014, 0), 0);
	for (i = 0; i < CACHE_MEM_GDSF_FOLD; i++)	/* same second */
		ck_assert(has_x("X"));
	ck_assert_int_eq(put_x("Z", 1014, 0), 0);
	ck_assert_str_eq(present("XYZ"), "XZ");
	cache_mem_master_close();

	topts.gdsf = 0;				/* LRU: a tie, X goes */
	mopen();
	ck_assert_int_eq(put_x("X", 1014, 0), 0);
	ck_assert_int_eq(put_x("Y", 1014, 0), 0);
	for (i = 0; i < CACHE_MEM_GDSF_FOLD; i++)
		ck_assert(has_x("X"));
	ck_assert_int_eq(put_x("Z", 1014, 0), 0);
	ck_assert_str_eq(present("XYZ"), "YZ");
	cache_mem_master_close();
}
END_TEST

/* Many small objects make room for a large one, over several rounds. */
START_TEST(test_evict_many)
{
	char	 name[32], url[64];
	int	 i, n = 0;

	topts.size_bytes = 20000;
	topts.max_count = 100000;
	use_fake_clock();
	mopen();
	for (i = 0; i < 1000; i++) {
		(void)snprintf(name, sizeof(name), "s%04d", i);
		url_of(url, sizeof(url), name);		/* 14 bytes */
		ck_assert_int_eq(put_n(name, url, 1, 16, 0), 0);
		fake_now++;
	}
	stats_are(666, 666 * 30);
	ck_assert_int_eq(put_x("big", 9990, 0), 0);	/* 10002 bytes */
	for (i = 0; i < 1000; i++) {
		(void)snprintf(name, sizeof(name), "s%04d", i);
		url_of(url, sizeof(url), name);
		n += has(name, url);
	}
	ck_assert_int_eq(n, 333);	/* 334 + 333 = 667 oldest gone */
	ck_assert(has_x("big"));
	stats_are(334, 333 * 30 + 10002);
	cache_mem_master_close();
}
END_TEST

/*
 * Within MCacheSize and MCacheMaxObjectCount, Berkeley DB never runs
 * out of room first: with Apache's defaults, every put of objects of
 * every size (many tiny ones fill the count; sizes around the overflow
 * threshold waste the most pages) succeeds, LRU and GDSF.
 */
START_TEST(test_limits_fit)
{
	char		 name[32], url[64];
	uint64_t	 e, b;
	unsigned	 x = 12345;
	size_t		 len;
	int		 i, algo;

	for (algo = 0; algo < 2; algo++) {
		topts.gdsf = algo;
		mopen();
		for (i = 0; i < 6000; i++) {
			x = x * 1103515245 + 12345;
			(void)snprintf(name, sizeof(name), "%c%07u",
			    'a' + (int)(x >> 28), (x >> 8) % 3000);
			url_of(url, sizeof(url), name);
			if (i % 3000 < 1500)		/* tiny */
				len = 16 + (x >> 4) % 16;
			else if (i % 2 == 0)		/* about a page */
				len = 200 + (x >> 4) % 1200;
			else
				len = 16 + (x >> 4) % 9985;
			ck_assert_msg(put_n(name, url, (unsigned)i, len,
			    (x & 1) ? 0 : time(NULL) + (x >> 20) % 60) == 0,
			    "put %d (%zu bytes) failed", i, len);
			if (i % 7 == 0)
				(void)has(name, url);
		}
		ck_assert_int_eq(cache_mem_stats(&e, &b), 0);
		ck_assert_uint_le(e, CACHE_MEM_MAX_COUNT);
		ck_assert_uint_le(b, CACHE_MEM_SIZE);
		cache_mem_master_close();
	}
}
END_TEST

/* Large objects (4 KiB pages) replace and evict each other whole. */
START_TEST(test_big_objects)
{
	unsigned char	*buf;
	char		 name[32], url[64];
	ssize_t		 n;
	size_t		 len;
	int		 i, kept = 0;

	topts.size_bytes = 2 * 1024 * 1024;
	topts.max_obj = 512 * 1024;
	ck_assert_ptr_nonnull(buf = malloc(topts.max_obj));
	mopen();
	for (i = 0; i < 40; i++) {
		(void)snprintf(name, sizeof(name), "big%d", i % 13);
		url_of(url, sizeof(url), name);
		len = 100000 + (size_t)i * 10007;
		obj_make(buf, name, (unsigned)i, len);
		ck_assert_int_eq(cache_mem_put(name, url, buf, len, 0), 0);
		n = cache_mem_get(name, url, buf, topts.max_obj);
		ck_assert_int_eq(n, (ssize_t)len);
		ck_assert(obj_ok(buf, len, name));
	}
	for (i = 0; i < 13; i++) {
		(void)snprintf(name, sizeof(name), "big%d", i);
		url_of(url, sizeof(url), name);
		if ((n = cache_mem_get(name, url, buf, topts.max_obj)) < 0)
			continue;
		ck_assert(obj_ok(buf, (size_t)n, name));
		kept++;
	}
	ck_assert_int_ge(kept, 3);
	cache_mem_master_close();
	free(buf);
}
END_TEST

/*--------------------------------------------------------------------
 * A full Berkeley DB
 */

START_TEST(test_bdb_full)
{
	char		 name[32], url[64];
	uint64_t	 e, b;
	int		 i, ok = 0, n = 0;

	log_set_level(GW_LOG_CRIT);		/* ENOSPC is expected */
	cur.body_cap = 10 * 1024;		/* 10 pages of 1 KiB */
	cache_mem_set_test(&cur);
	mopen();
	/* larger than Berkeley DB allows even when empty: refused */
	ck_assert_int_eq(put_n("huge", URL1, 1, 9990, 0), -1);
	stats_are(0, 0);
	/* more than fits: the oldest are squeezed out, no put hangs */
	for (i = 0; i < 60; i++) {
		(void)snprintf(name, sizeof(name), "f%04d", i);
		url_of(url, sizeof(url), name);
		if (put_n(name, url, 1, 1500, 0) == 0)
			ok++;
	}
	ck_assert_int_gt(ok, 30);
	ck_assert_int_eq(cache_mem_stats(&e, &b), 0);
	for (i = 0; i < 60; i++) {
		(void)snprintf(name, sizeof(name), "f%04d", i);
		url_of(url, sizeof(url), name);
		n += has(name, url);
	}
	ck_assert_uint_eq(e, (uint64_t)n);
	ck_assert_uint_eq(b, (uint64_t)n * (1500 + 14));
	ck_assert_int_gt(n, 0);
	ck_assert(has("f0059", "http://t/f0059"));
	ck_assert_int_eq(put_n("small", URL1, 1, 16, 0), 0);
	ck_assert(has("small", URL1));
	cache_mem_master_close();
}
END_TEST

/*--------------------------------------------------------------------
 * Processes
 */

/* One store for all: each process sees the others' objects. */
START_TEST(test_shared)
{
	int	 p1[2], p2[2], back[2];
	pid_t	 a, b;

	mopen();
	ck_assert_int_eq(put_n("master", URL1, 1, 100, 0), 0);
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	ck_assert_int_eq(pipe(back), 0);
	if ((a = fork()) == 0) {
		cache_mem_child();
		if (!cache_mem_alive() || !has("master", URL1))
			_exit(2);
		if (put_n("childa", URL1, 1, 200, 0) != 0)
			_exit(3);
		if (write(back[1], "a", 1) != 1 ||
		    gwt_read_bytes(p1[0], 1, WAIT_MS) != 1)
			_exit(4);
		_exit(has("childb", URL2) ? 0 : 5);
	}
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(gwt_read_bytes(back[0], 1, WAIT_MS), 1);
	ck_assert(has("childa", URL1));
	if ((b = fork()) == 0) {
		cache_mem_child();
		if (!has("childa", URL1) || !has("master", URL1))
			_exit(2);
		if (put_n("childb", URL2, 1, 300, 0) != 0 ||
		    cache_mem_del("master") != 0)
			_exit(3);
		_exit(write(back[1], "b", 1) == 1 ? 0 : 4);
	}
	ck_assert_int_ne(b, -1);
	ck_assert_int_eq(gwt_read_bytes(back[0], 1, WAIT_MS), 1);
	ck_assert_int_eq(gwt_exit_code(b, WAIT_MS), 0);
	ck_assert(has("childb", URL2));
	ck_assert(!has("master", URL1));
	ck_assert_int_eq(write(p1[1], "g", 1), 1);
	ck_assert_int_eq(gwt_exit_code(a, WAIT_MS), 0);
	stats_are(2, 500 + strlen(URL1) + strlen(URL2));
	cache_mem_master_tick();
	cache_mem_master_failchk();
	ck_assert(cache_mem_alive());
	cache_mem_master_close();
}
END_TEST

/*
 * The master opens the store again (a restart) while an old worker is
 * attached: the old worker's calls fail from then on; a new worker
 * shares the new store with the master.
 */
START_TEST(test_reopen)
{
	int	 go[2], back[2];
	pid_t	 old, nw;

	topts.home = NULL;
	ck_assert_int_eq(setenv("TMPDIR", root, 1), 0);
	mopen();
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(back), 0);
	if ((old = fork()) == 0) {
		cache_mem_child();
		if (put_n("old", URL1, 1, 100, 0) != 0 ||
		    write(back[1], "o", 1) != 1 ||
		    gwt_read_bytes(go[0], 1, WAIT_MS) != 1)
			_exit(2);
		if (has("old", URL1) || put_n("old", URL1, 2, 100, 0) != -1 ||
		    cache_mem_alive())
			_exit(3);
		_exit(0);
	}
	ck_assert_int_ne(old, -1);
	ck_assert_int_eq(gwt_read_bytes(back[0], 1, WAIT_MS), 1);
	ck_assert(has("old", URL1));
	mopen();				/* the restart */
	ck_assert_int_eq(count_entries(root, "gatewayd-mem."), 1);
	ck_assert(!has("old", URL1));
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(gwt_exit_code(old, WAIT_MS), 0);
	if ((nw = fork()) == 0) {
		cache_mem_child();
		_exit(put_n("new", URL1, 1, 100, 0) == 0 ? 0 : 2);
	}
	ck_assert_int_ne(nw, -1);
	ck_assert_int_eq(gwt_exit_code(nw, WAIT_MS), 0);
	ck_assert(has("new", URL1));
	cache_mem_master_close();
	ck_assert_int_eq(count_entries(root, "gatewayd-mem."), 0);
}
END_TEST

/*
 * own: the master (root here) gives the environment to the workers'
 * uid and gid; a worker that dropped to them joins and writes.
 */
START_TEST(test_owner)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	pid_t		 pid;

	if (geteuid() != 0)
		return;			/* needs root to chown */
	topts.own = 1;
	topts.uid = 65534;
	topts.gid = 65534;
	mopen();
	ck_assert_int_eq(stat(root, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	ck_assert_uint_eq(st.st_mode & 07777, 02770);
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/__db.001", root),
	    (int)sizeof(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	if ((pid = fork()) == 0) {
		cache_mem_child();
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(2);
		if (put_n("worker", URL1, 1, 100, 0) != 0 ||
		    !has("worker", URL1))
			_exit(3);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(gwt_exit_code(pid, WAIT_MS), 0);
	ck_assert(has("worker", URL1));
	cache_mem_master_close();
}
END_TEST

static int	 hook_fd = -1;		/* a byte here when the hook runs */
static int	 hook_hold = -1;	/* then wait for a byte here */
static const char *hook_at;

static void
hook_stall(const char *where)
{
	char	 b;

	if (hook_at == NULL || strcmp(where, hook_at) != 0)
		return;
	hook_at = NULL;			/* once */
	if (write(hook_fd, "h", 1) != 1)
		_exit(40);
	if (hook_hold == -1 || read(hook_hold, &b, 1) != 1)
		for (;;)
			(void)pause();
}

static void
set_hook(const char *at, int fd, int hold)
{
	cur.hook = hook_stall;
	cache_mem_set_test(&cur);
	hook_at = at;
	hook_fd = fd;
	hook_hold = hold;
}

/*
 * A writer stalls inside its transaction (between Berkeley DB calls):
 * lookups do not wait, nor does another writer (it retries a few
 * times, then gives up).  Released, the writer commits.
 */
START_TEST(test_stall_nowait)
{
	unsigned char	 buf[256];
	int		 ready[2], hold[2], res[2];
	pid_t		 a, b;
	char		 r;

	mopen();
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 100, 0), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	ck_assert_int_eq(pipe(res), 0);
	if ((a = fork()) == 0) {
		cache_mem_child();
		set_hook("put", ready[1], hold[0]);
		_exit(put_n(NAME1, URL2, 2, 100, 0) == 0 ? 0 : 3);
	}
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	/* a holds the totals and NAME1's pages: no lookup waits */
	ck_assert_int_eq(cache_mem_get(NAME1, URL1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(cache_mem_get(NAME1, URL2, buf, sizeof(buf)), -1);

	if ((b = fork()) == 0) {	/* does not wait for a */
		cache_mem_child();
		r = put_n("other", URL1, 1, 100, 0) == 0 ? 'y' : 'n';
		_exit(write(res[1], &r, 1) == 1 ? 0 : 4);
	}
	ck_assert_int_ne(b, -1);
	ck_assert_int_eq(gwt_exit_code(b, WAIT_MS), 0);
	ck_assert_int_eq(read(res[0], &r, 1), 1);
	ck_assert_int_eq(r, 'n');

	ck_assert_int_eq(write(hold[1], "g", 1), 1);
	ck_assert_int_eq(gwt_exit_code(a, WAIT_MS), 0);
	ck_assert(!has(NAME1, URL1));
	ck_assert(has(NAME1, URL2));
	stats_are(1, 100 + strlen(URL2));
	cache_mem_master_close();
}
END_TEST

/*
 * A writer killed between Berkeley DB calls, inside its transaction:
 * failchk aborts the transaction (the in-memory log is in the shared
 * region), nothing of the dead put is visible, and the store works.
 */
START_TEST(test_kill_in_txn)
{
	int	 ready[2], res[2];
	pid_t	 a, b;
	char	 r;

	mopen();
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 100, 0), 0);
	ck_assert_int_eq(put_n("gone", URL1, 1, 100, 0), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(res), 0);
	if ((a = fork()) == 0) {
		cache_mem_child();
		set_hook("put", ready[1], -1);
		(void)cache_mem_del("gone");
		(void)put_n(NAME1, URL2, 2, 5000, 0);
		_exit(31);			/* never reached */
	}
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	if ((b = fork()) == 0) {	/* a is in the way: gives up */
		cache_mem_child();
		r = put_n("b", URL1, 1, 100, 0) == 0 ? 'y' : 'n';
		_exit(write(res[1], &r, 1) == 1 ? 0 : 4);
	}
	ck_assert_int_ne(b, -1);
	ck_assert_int_eq(gwt_exit_code(b, WAIT_MS), 0);
	ck_assert_int_eq(read(res[0], &r, 1), 1);
	ck_assert_int_eq(r, 'n');
	kill_reap(a);
	cache_mem_master_failchk();
	ck_assert(cache_mem_alive());
	ck_assert_int_eq(put_n("b", URL1, 1, 100, 0), 0);

	ck_assert(has(NAME1, URL1));
	ck_assert(!has(NAME1, URL2));
	ck_assert(!has("gone", URL1));		/* a's del committed */
	ck_assert(has("b", URL1));
	stats_are(2, 200 + 2 * strlen(URL1));
	ck_assert_int_eq(put_n(NAME1, URL2, 3, 5000, 0), 0);
	ck_assert(has(NAME1, URL2));
	cache_mem_master_tick();
	ck_assert(cache_mem_alive());
	cache_mem_master_close();
}
END_TEST

/*
 * A writer killed inside a Berkeley DB call (here: a secondary key
 * callback of its put) may hold mutexes: failchk says recovery is
 * needed, and the store is dead for every process: calls fail at
 * once.  A process that was inside a store call then (here: stalled in
 * a lookup; in life: waiting on a mutex the dead one held) would stay
 * there for ever: the master's tick kills it.
 */
START_TEST(test_kill_in_bdb)
{
	unsigned char	 buf[256];
	int		 ready[2], res[2];
	pid_t		 a, b, c, d;
	char		 r;

	log_set_level(GW_LOG_CRIT);		/* the death is expected */
	ABANDONED_BY_BDB(mopen());
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 100, 0), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(res), 0);
	if ((c = fork()) == 0) {	/* stalls inside a lookup */
		cache_mem_child();
		set_hook("get", ready[1], -1);
		(void)cache_mem_get(NAME1, URL1, buf, sizeof(buf));
		_exit(31);			/* never reached */
	}
	ck_assert_int_ne(c, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	if ((a = fork()) == 0) {	/* stalls inside Berkeley DB */
		cache_mem_child();
		set_hook("seckey", ready[1], -1);
		(void)put_n(NAME1, URL2, 2, 100, 0);
		_exit(31);
	}
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	if ((b = fork()) == 0) {	/* a is in the way: gives up */
		cache_mem_child();
		r = put_n("b", URL1, 1, 100, 0) == 0 ? 'y' : 'n';
		_exit(write(res[1], &r, 1) == 1 ? 0 : 4);
	}
	ck_assert_int_ne(b, -1);
	ck_assert_int_eq(gwt_exit_code(b, WAIT_MS), 0);
	ck_assert_int_eq(read(res[0], &r, 1), 1);
	ck_assert_int_eq(r, 'n');

	kill_reap(a);
	ABANDONED_BY_BDB(cache_mem_master_failchk());
	ck_assert(!cache_mem_alive());
	ck_assert_int_eq(cache_mem_get(NAME1, URL1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(put_n("x", URL1, 1, 100, 0), -1);
	ck_assert_int_eq(cache_mem_del(NAME1), -1);
	ck_assert_int_eq(cache_mem_stats(NULL, NULL), -1);

	/* c is still inside its call: the tick kills it */
	cache_mem_master_tick();
	ck_assert_int_eq(kill(c, 0), 0);	/* not before stuck_secs */
	cur.stuck_secs = 0;
	cache_mem_set_test(&cur);
	ck_assert_int_eq(wait_exit_ticking(c, WAIT_MS), 128 + SIGKILL);

	/* a child forked now sees a dead store */
	if ((d = fork()) == 0) {
		cache_mem_child();
		if (cache_mem_alive() ||
		    cache_mem_get(NAME1, URL1, buf, sizeof(buf)) != -1 ||
		    put_n("d", URL1, 1, 100, 0) != -1)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_ne(d, -1);
	ck_assert_int_eq(gwt_exit_code(d, WAIT_MS), 0);
	ABANDONED_BY_BDB(cache_mem_master_close());

	/* the next open is a new store */
	mopen();
	ck_assert(!has(NAME1, URL1));
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 100, 0), 0);
	ck_assert(has(NAME1, URL1));
	cache_mem_master_close();
}
END_TEST

/*
 * A process inside a store call for CACHE_MEM_STUCK_SECS while failchk
 * sees nothing wrong (in life: waiting on a mutex of a process that
 * died before Berkeley DB registered it; here: stalled in a lookup):
 * the tick marks the store dead and kills the process.
 */
START_TEST(test_stuck_alive)
{
	unsigned char	 buf[256];
	int		 ready[2];
	pid_t		 c;

	log_set_level(GW_LOG_CRIT);
	ABANDONED_BY_BDB(mopen());
	ck_assert_int_eq(put_n(NAME1, URL1, 1, 100, 0), 0);
	ck_assert_int_eq(pipe(ready), 0);
	if ((c = fork()) == 0) {
		cache_mem_child();
		set_hook("get", ready[1], -1);
		(void)cache_mem_get(NAME1, URL1, buf, sizeof(buf));
		_exit(31);			/* never reached */
	}
	ck_assert_int_ne(c, -1);
	ck_assert_int_eq(gwt_read_bytes(ready[0], 1, WAIT_MS), 1);
	ABANDONED_BY_BDB(cache_mem_master_tick());
	ck_assert(cache_mem_alive());		/* not before stuck_secs */
	ck_assert_int_eq(kill(c, 0), 0);
	cur.stuck_secs = 0;
	cache_mem_set_test(&cur);
	ABANDONED_BY_BDB(ck_assert_int_eq(wait_exit_ticking(c, WAIT_MS),
	    128 + SIGKILL));
	ck_assert(!cache_mem_alive());
	ck_assert(!has(NAME1, URL1));
	ABANDONED_BY_BDB(cache_mem_master_close());
}
END_TEST

#define NWORKERS	3
#define NNAMES		40
#define NROUNDS		6

static volatile int	*stop_flag;	/* shared: workers, stop */

static void
make_stop_flag(void)
{
	stop_flag = mmap(NULL, sizeof(*stop_flag), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(stop_flag != MAP_FAILED);
	*stop_flag = 0;
}

/*
 * worker - put, replace, look up and delete shared names with objects
 * that prove themselves whole, a byte to progress after each round of
 * NNAMES, until *stop_flag; exit 0, or the number of the check that
 * failed (a partial object is 10).
 */
static int
worker(int id, int progress)
{
	static unsigned char	 buf[65536];
	char			 name[32], url[64];
	unsigned		 gen = 0;
	ssize_t			 n;
	int			 i;

	cache_mem_child();
	while (!*stop_flag) {
		for (i = 0; i < NNAMES; i++) {
			(void)snprintf(name, sizeof(name), "n%03d", i);
			url_of(url, sizeof(url), name);
			gen++;
			(void)put_n(name, url, gen, 16 +
			    (size_t)((gen * 977 + (unsigned)id * 131) % 9000),
			    time(NULL) + (i % 3) - 1);
			n = cache_mem_get(name, url, buf, sizeof(buf));
			if (n >= 0 && !obj_ok(buf, (size_t)n, name))
				return 10;
			if (i % 7 == id)
				(void)cache_mem_del(name);
		}
		if (write(progress, "p", 1) != 1)
			return 11;
	}
	return 0;
}

/* check_store - every object whole; totals = what is there. */
static void
check_store(void)
{
	static unsigned char	 buf[65536];
	char			 name[32], url[64];
	uint64_t		 e, b, n = 0, bytes = 0;
	ssize_t			 len;
	int			 i;

	for (i = 0; i < NNAMES; i++) {
		(void)snprintf(name, sizeof(name), "n%03d", i);
		url_of(url, sizeof(url), name);
		if ((len = cache_mem_get(name, url, buf, sizeof(buf))) < 0)
			continue;
		ck_assert_msg(obj_ok(buf, (size_t)len, name), "%s: partial",
		    name);
		n++;
		bytes += (uint64_t)len + strlen(url);
	}
	ck_assert_int_eq(cache_mem_stats(&e, &b), 0);
	ck_assert_uint_eq(e, n);
	ck_assert_uint_eq(b, bytes);
}

/*
 * Workers loop over shared names; one is killed with SIGKILL wherever
 * it is, then failchk.  Either the store lives on (every object whole,
 * totals exact, the other workers go on and stop when told) or it is
 * cleanly dead (every call fails at once; the other workers stop when
 * told or, stuck behind the dead one, are killed by the tick).  Each
 * round a new store.
 */
START_TEST(test_kill_loop)
{
	int	 progress[2], round, i, st, lived = 0;
	pid_t	 w[NWORKERS];

	log_set_level(GW_LOG_CRIT);
	topts.size_bytes = 64 * 1024;
	make_stop_flag();
	cur.stuck_secs = 2;
	cache_mem_set_test(&cur);
	for (round = 0; round < NROUNDS; round++) {
		ABANDONED_BY_BDB(mopen());
		*stop_flag = 0;
		ck_assert_int_eq(pipe(progress), 0);
		for (i = 0; i < NWORKERS; i++) {
			if ((w[i] = fork()) == 0)
				_exit(worker(i, progress[1]));
			ck_assert_int_ne(w[i], -1);
		}
		ck_assert_int_eq(gwt_read_bytes(progress[0], 3 + round, WAIT_MS),
		    3 + round);
		kill_reap(w[0]);
		ABANDONED_BY_BDB(cache_mem_master_failchk());
		if (cache_mem_alive()) {	/* the others go on */
			lived++;
			ck_assert_int_eq(gwt_read_bytes(progress[0], 4, WAIT_MS),
			    4);
		}
		*stop_flag = 1;
		for (i = 1; i < NWORKERS; i++) {
			ABANDONED_BY_BDB(st = wait_exit_ticking(w[i],
			    WAIT_MS));
			ck_assert_msg(st == 0 || (st == 128 + SIGKILL &&
			    !cache_mem_alive()), "worker %d: %d", i, st);
		}
		if (cache_mem_alive()) {
			check_store();
			ck_assert_int_eq(put_n("after", URL1, 1, 100, 0), 0);
			ck_assert(has("after", URL1));
		} else {
			ck_assert_int_eq(cache_mem_get("n001",
			    "http://t/n001", NULL, 0), -1);
			ck_assert_int_eq(put_n("after", URL1, 1, 100, 0), -1);
		}
		ABANDONED_BY_BDB(cache_mem_master_close());
		ck_assert_int_eq(close(progress[0]), 0);
		ck_assert_int_eq(close(progress[1]), 0);
	}
	fprintf(stderr, "test_kill_loop: the store lived through %d of %d "
	    "kills\n", lived, NROUNDS);
}
END_TEST

/* Forked writers at once: all objects whole, totals exact. */
START_TEST(test_concurrent)
{
	int	 progress[2], i;
	pid_t	 w[NWORKERS];

	topts.size_bytes = 64 * 1024;
	make_stop_flag();
	mopen();
	ck_assert_int_eq(pipe(progress), 0);
	for (i = 0; i < NWORKERS; i++) {
		if ((w[i] = fork()) == 0)
			_exit(worker(i, progress[1]));
		ck_assert_int_ne(w[i], -1);
	}
	ck_assert_int_eq(gwt_read_bytes(progress[0], 10 * NWORKERS, WAIT_MS),
	    10 * NWORKERS);
	*stop_flag = 1;
	for (i = 0; i < NWORKERS; i++)
		ck_assert_int_eq(gwt_exit_code(w[i], WAIT_MS), 0);
	cache_mem_master_failchk();
	ck_assert(cache_mem_alive());
	check_store();
	cache_mem_master_close();
}
END_TEST

static Suite *
cache_mem_suite(void)
{
	Suite	*s = suite_create("cache_mem");
	TCase	*tc;

	tc = tcase_create("objects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_fresh_store);
	tcase_add_test(tc, test_temp_home);
	tcase_add_test(tc, test_bad_opts);
	tcase_add_test(tc, test_object_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("eviction");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_count_lru);
	tcase_add_test(tc, test_size_lru);
	tcase_add_test(tc, test_expired_first);
	tcase_add_test(tc, test_gdsf);
	tcase_add_test(tc, test_gdsf_hits);
	tcase_add_test(tc, test_evict_many);
	tcase_add_test(tc, test_limits_fit);
	tcase_add_test(tc, test_big_objects);
	tcase_add_test(tc, test_bdb_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shared);
	tcase_add_test(tc, test_owner);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_stall_nowait);
	tcase_add_test(tc, test_kill_in_txn);
	tcase_add_test(tc, test_kill_in_bdb);
	tcase_add_test(tc, test_stuck_alive);
	tcase_add_test(tc, test_kill_loop);
	tcase_add_test(tc, test_concurrent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(cache_mem_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
