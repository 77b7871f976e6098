/*
 * check_cache_store.c - cached bodies on disk (cache_store.c): layout,
 * temp-then-rename, and bodies that do not match their record.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"

static char root[64];

static void
setup(void)
{
	strcpy(root, "/tmp/gwstoreXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* Apache's documented layout of one hash name. */
START_TEST(test_layout)
{
	struct cache_store	s;
	char			p[PATH_MAX], want[PATH_MAX];

	ck_assert_int_eq(cache_store_init(&s, root, 2, 1), 0);
	ck_assert_int_eq(cache_store_path(&s, "HEoqc1lz@8jGJe9_cl6VNA", p,
	    sizeof(p)), 0);
	snprintf(want, sizeof(want), "%s/H/E/oqc1lz@8jGJe9_cl6VNA.data", root);
	ck_assert_str_eq(p, want);
	ck_assert_int_eq(cache_store_init(&s, root, 5, 3), 0);
	ck_assert_int_eq(cache_store_path(&s, "HEoqc1lz@8jGJe9_cl6VNA", p,
	    sizeof(p)), 0);
	snprintf(want, sizeof(want), "%s/HEo/qc1/lz@/8jG/Je9/_cl6VNA.data",
	    root);
	ck_assert_str_eq(p, want);
	ck_assert_int_eq(cache_store_path(&s, "short", p, sizeof(p)), -1);
	ck_assert_int_eq(cache_store_init(&s, root, 5, 5), -1);
	ck_assert_int_eq(cache_store_init(&s, "relative", 2, 2), -1);
}
END_TEST

static void
store(struct cache_store *s, const char *h, const char *body, ino_t *ino)
{
	struct cache_tmp t;

	ck_assert_int_eq(cache_store_begin(s, &t), 0);
	ck_assert_int_eq(cache_store_write(&t, body, strlen(body)), 0);
	ck_assert_int_eq(cache_store_commit(s, &t, h, ino), 0);
	ck_assert_int_eq(t.fd, -1);
}

START_TEST(test_round_trip)
{
	struct cache_store	s;
	const char		*h = "AbCdEfGhIjKlMnOpQrStUv";
	char			buf[PATH_MAX];
	ino_t			ino;
	int			fd;

	ck_assert_int_eq(cache_store_init(&s, root, 2, 2), 0);
	store(&s, h, "hello, cache", &ino);
	fd = cache_store_open(&s, h, 12, ino);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 12);
	ck_assert(memcmp(buf, "hello, cache", 12) == 0);
	ck_assert_int_eq(close(fd), 0);
	/* the temp dir holds nothing once committed */
	snprintf(buf, sizeof(buf), "%s/.tmp", root);
	ck_assert_int_eq(rmdir(buf), 0);
	ck_assert_int_eq(cache_store_remove(&s, h), 0);
	ck_assert_int_eq(cache_store_open(&s, h, 12, ino), -1);
	ck_assert_int_eq(cache_store_remove(&s, h), 0);	/* already gone */
}
END_TEST

/* A body that does not match its record is a miss, and is removed. */
START_TEST(test_mismatch_removed)
{
	struct cache_store	s;
	const char		*h = "ZyXwVuTsRqPoNmLkJiHgFe";
	char			path[PATH_MAX];
	ino_t			ino, ino2;
	struct stat		st;

	ck_assert_int_eq(cache_store_init(&s, root, 2, 1), 0);
	ck_assert_int_eq(cache_store_path(&s, h, path, sizeof(path)), 0);
	/* truncated */
	store(&s, h, "0123456789", &ino);
	ck_assert_int_eq(truncate(path, 4), 0);
	ck_assert_int_eq(cache_store_open(&s, h, 10, ino), -1);
	ck_assert_int_eq(stat(path, &st), -1);
	/* replaced by another file (another inode) */
	store(&s, h, "0123456789", &ino);
	store(&s, "ZyXwVuTsRqPoNmLkJiHgFf", "keep", &ino2);
	ck_assert_int_eq(unlink(path), 0);
	store(&s, h, "9876543210", &ino2);
	if (ino2 != ino) {
		ck_assert_int_eq(cache_store_open(&s, h, 10, ino), -1);
		ck_assert_int_eq(stat(path, &st), -1);
	}
	/* the right record still opens */
	store(&s, h, "9876543210", &ino2);
	ck_assert_int_ge(cache_store_open(&s, h, 10, ino2), 0);
}
END_TEST

START_TEST(test_abort)
{
	struct cache_store	s;
	struct cache_tmp	t;
	struct stat		st;
	char			path[PATH_MAX];

	ck_assert_int_eq(cache_store_init(&s, root, 2, 2), 0);
	ck_assert_int_eq(cache_store_begin(&s, &t), 0);
	ck_assert_int_eq(cache_store_write(&t, "part", 4), 0);
	snprintf(path, sizeof(path), "%s", t.path);
	ck_assert_int_eq(stat(path, &st), 0);
	cache_store_abort(&t);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(t.fd, -1);
}
END_TEST

START_TEST(test_unwritable_root)
{
	struct cache_store	s;
	struct cache_tmp	t;

	ck_assert_int_eq(cache_store_init(&s, "/proc/nonexistent/cache", 2, 2),
	    0);
	ck_assert_int_eq(cache_store_begin(&s, &t), -1);
	ck_assert_int_eq(t.fd, -1);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*su = suite_create("cache_store");
	TCase	*tc = tcase_create("cache_store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_mismatch_removed);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_unwritable_root);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner	*sr = srunner_create(store_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
