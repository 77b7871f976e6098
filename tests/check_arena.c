/*
 * check_arena.c - unit tests of the bump allocator (arena.c): zeroed
 * and aligned memory, string copies, big one-off allocations, reset.
 */
#include "config.h"

#include <check.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"

START_TEST(test_alloc_zeroed_aligned)
{
	static const size_t	 sizes[] = { 1, 3, 8, 15, 16, 17, 100, 255 };
	struct gw_arena		*a = arena_new(256);
	unsigned char		*p;
	size_t			 i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = arena_alloc(a, sizes[i]);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % alignof(max_align_t), 0);
		for (j = 0; j < sizes[i]; j++)
			ck_assert_uint_eq(p[j], 0);
		memset(p, 0xa5, sizes[i]);	/* ASan sees overflows */
	}
	ck_assert_uint_ge(arena_used(a), 1 + 3 + 8 + 15 + 16 + 17 + 100 + 255);
	arena_free(a);
}
END_TEST

START_TEST(test_strings)
{
	struct gw_arena	*a = arena_new(0);	/* minimum chunk */
	char		*s;

	ck_assert_str_eq(arena_strdup(a, "ServerRoot"), "ServerRoot");
	ck_assert_str_eq(arena_strdup(a, ""), "");
	s = arena_strndup(a, "Listen 80", 6);
	ck_assert_str_eq(s, "Listen");
	ck_assert_str_eq(arena_printf(a, "%s:%d", "127.0.0.1", 8080),
	    "127.0.0.1:8080");
	arena_free(a);
}
END_TEST

/* Many allocations and a big one: every pointer stays valid and apart. */
START_TEST(test_big_and_many)
{
	struct gw_arena	*a = arena_new(512);
	char		*small[200], *big;
	int		 i;

	for (i = 0; i < 200; i++) {
		small[i] = arena_printf(a, "item-%d", i);
		if (i == 100) {
			big = arena_alloc(a, 100000);
			memset(big, 'x', 100000);
		}
	}
	for (i = 0; i < 200; i++) {
		char want[32];

		(void)snprintf(want, sizeof(want), "item-%d", i);
		ck_assert_str_eq(small[i], want);
	}
	ck_assert_uint_ge(arena_used(a), 100000);
	arena_free(a);
}
END_TEST

START_TEST(test_reset)
{
	struct gw_arena	*a = arena_new(1024);
	char		*p;
	int		 round;

	for (round = 0; round < 5; round++) {
		(void)arena_alloc(a, 50000);	/* a one-off chunk */
		p = arena_alloc(a, 64);
		memset(p, 1, 64);
		ck_assert_uint_gt(arena_used(a), 0);
		arena_reset(a);
		ck_assert_uint_eq(arena_used(a), 0);
		p = arena_alloc(a, 64);
		ck_assert_uint_eq((unsigned char)p[0], 0);
	}
	arena_free(a);
	arena_free(NULL);
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite	*s = suite_create("arena");
	TCase	*tc = tcase_create("arena");

	tcase_add_test(tc, test_alloc_zeroed_aligned);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_big_and_many);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(arena_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
