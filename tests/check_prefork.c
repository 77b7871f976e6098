/*
 * check_prefork.c - unit tests of the pool decision (prefork_decide),
 * Apache's corrections of the pool numbers (prefork_params) and the
 * scoreboard's bookkeeping.  Table-driven; no process is forked.
 */
#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <string.h>
#include <unistd.h>

#include "gatewayd.h"
#include "prefork.h"
#include "scoreboard.h"

/*--------------------------------------------------------------------
 * prefork_decide
 */

static const struct decide_case {
	const char		*name;
	int			 idle, total;
	int			 min_spare, max_spare, max_workers;
	int			 rate;
	enum prefork_action	 action;
	int			 nspawn, next_rate;
} decide_cases[] = {
	{ "within bounds", 5, 5, 5, 10, 256, 1, PF_NOTHING, 0, 1 },
	{ "within bounds resets rate", 7, 9, 5, 10, 256, 16, PF_NOTHING,
	    0, 1 },
	{ "exactly max spare", 10, 10, 5, 10, 256, 1, PF_NOTHING, 0, 1 },
	{ "one over max spare", 11, 11, 5, 10, 256, 1, PF_RETIRE, 0, 1 },
	{ "far over max spare retires one", 40, 40, 5, 10, 256, 8,
	    PF_RETIRE, 0, 1 },
	{ "short: spawn rate 1", 4, 4, 5, 10, 256, 1, PF_SPAWN, 1, 2 },
	{ "short again: rate 2", 0, 20, 5, 10, 256, 2, PF_SPAWN, 2, 4 },
	{ "rate 4", 0, 20, 5, 10, 256, 4, PF_SPAWN, 4, 8 },
	{ "rate 8", 0, 20, 5, 10, 256, 8, PF_SPAWN, 8, 16 },
	{ "rate 16", 0, 20, 5, 10, 256, 16, PF_SPAWN, 16, 32 },
	{ "rate 32 stays 32", 0, 20, 5, 10, 256, 32, PF_SPAWN, 32, 32 },
	{ "rate above 32 clamped", 0, 20, 5, 10, 256, 100, PF_SPAWN, 32,
	    32 },
	{ "rate 0 taken as 1", 0, 20, 5, 10, 256, 0, PF_SPAWN, 1, 2 },
	{ "spawn bounded by room", 0, 250, 5, 10, 256, 32, PF_SPAWN, 6,
	    32 },
	{ "one slot of room", 0, 15, 2, 4, 16, 8, PF_SPAWN, 1, 16 },
	{ "full", 0, 16, 2, 4, 16, 8, PF_FULL, 0, 1 },
	{ "over full (lowered limit)", 0, 20, 2, 4, 16, 1, PF_FULL, 0, 1 },
	{ "no workers at all", 0, 0, 2, 4, 16, 1, PF_SPAWN, 1, 2 },
	{ "min 1 max 2, none idle", 0, 3, 1, 2, 256, 1, PF_SPAWN, 1, 2 },
	{ "min 1 max 2, three idle", 3, 3, 1, 2, 256, 1, PF_RETIRE, 0, 1 },
	{ "idle counts old busy in total", 1, 30, 2, 4, 30, 4, PF_FULL, 0,
	    1 },
};

START_TEST(test_decide)
{
	const struct decide_case	*c = &decide_cases[_i];
	struct prefork_params		 pp;
	struct prefork_decision		 d;

	memset(&pp, 0, sizeof(pp));
	pp.min_spare = c->min_spare;
	pp.max_spare = c->max_spare;
	pp.max_workers = c->max_workers;
	pp.server_limit = c->max_workers;
	prefork_decide(c->idle, c->total, &pp, c->rate, &d);
	ck_assert_msg(d.action == c->action, "%s: action %d, want %d",
	    c->name, d.action, c->action);
	ck_assert_msg(d.nspawn == c->nspawn, "%s: nspawn %d, want %d",
	    c->name, d.nspawn, c->nspawn);
	ck_assert_msg(d.next_rate == c->next_rate, "%s: rate %d, want %d",
	    c->name, d.next_rate, c->next_rate);
}
END_TEST

/* A run of short seconds doubles the rate 1, 2, 4 ... 32, 32. */
START_TEST(test_decide_doubling)
{
	static const int	 want[] = { 1, 2, 4, 8, 16, 32, 32, 32 };
	struct prefork_params	 pp = { 0, 5, 10, 100000, 100000 };
	struct prefork_decision	 d;
	int			 i, rate = 1, total = 0;

	for (i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
		prefork_decide(0, total, &pp, rate, &d);
		ck_assert_int_eq(d.action, PF_SPAWN);
		ck_assert_int_eq(d.nspawn, want[i]);
		total += d.nspawn;
		rate = d.next_rate;
	}
	prefork_decide(5, total, &pp, rate, &d);
	ck_assert_int_eq(d.action, PF_NOTHING);
	ck_assert_int_eq(d.next_rate, 1);
}
END_TEST

/*--------------------------------------------------------------------
 * prefork_params
 */

static const struct params_case {
	const char	*name;
	int		 start, min_spare, max_spare, mrw, server_limit;
	int		 w_start, w_min, w_max, w_workers, w_fix;
} params_cases[] = {
	{ "Apache defaults", 5, 5, 10, 256, 256, 5, 5, 10, 256, 0 },
	{ "MinSpare 0 becomes 1", 5, 0, 10, 256, 256, 5, 1, 10, 256,
	    PF_FIX_MIN_SPARE },
	{ "MinSpare negative", 5, -3, 10, 256, 256, 5, 1, 10, 256,
	    PF_FIX_MIN_SPARE },
	{ "MaxSpare equal to MinSpare", 5, 5, 5, 256, 256, 5, 5, 6, 256,
	    PF_FIX_MAX_SPARE },
	{ "MaxSpare below MinSpare", 5, 8, 3, 256, 256, 5, 8, 9, 256,
	    PF_FIX_MAX_SPARE },
	{ "both corrections", 5, 0, 1, 256, 256, 5, 1, 2, 256,
	    PF_FIX_MIN_SPARE | PF_FIX_MAX_SPARE },
	{ "MaxRequestWorkers clamped to ServerLimit", 5, 5, 10, 400, 256,
	    5, 5, 10, 256, PF_FIX_MAX_WORKERS },
	{ "StartServers clamped to MaxRequestWorkers", 20, 2, 4, 8, 256,
	    8, 2, 4, 8, PF_FIX_START },
	{ "MaxRequestWorkers 0", 0, 1, 2, 0, 256, 0, 1, 2, 1,
	    PF_FIX_MAX_WORKERS_LOW },
	{ "StartServers negative", -1, 1, 2, 10, 256, 0, 1, 2, 10,
	    PF_FIX_START_LOW },
};

START_TEST(test_params)
{
	const struct params_case	*c = &params_cases[_i];
	struct gw_config		 cfg;
	struct prefork_params		 pp;
	int				 fix;

	memset(&cfg, 0, sizeof(cfg));
	cfg.start_servers = c->start;
	cfg.min_spare_servers = c->min_spare;
	cfg.max_spare_servers = c->max_spare;
	cfg.max_request_workers = c->mrw;
	cfg.server_limit = c->server_limit;
	fix = prefork_params(&cfg, c->server_limit, &pp);
	ck_assert_msg(pp.start == c->w_start, "%s: start %d", c->name,
	    pp.start);
	ck_assert_msg(pp.min_spare == c->w_min, "%s: min %d", c->name,
	    pp.min_spare);
	ck_assert_msg(pp.max_spare == c->w_max, "%s: max %d", c->name,
	    pp.max_spare);
	ck_assert_msg(pp.max_workers == c->w_workers, "%s: workers %d",
	    c->name, pp.max_workers);
	ck_assert_msg(fix == c->w_fix, "%s: fix %#x, want %#x", c->name, fix,
	    c->w_fix);
}
END_TEST

/*--------------------------------------------------------------------
 * scoreboard
 */

START_TEST(test_scoreboard_slots)
{
	struct gw_scoreboard	*sb;
	int			 idle, total, i;

	ck_assert_ptr_nonnull(sb = scoreboard_create(8));
	ck_assert_uint_eq(sb->magic, SB_MAGIC);
	ck_assert_int_eq(sb->nslots, 8);
	scoreboard_count(sb, &idle, &total);
	ck_assert_int_eq(idle, 0);
	ck_assert_int_eq(total, 0);

	/* claim three slots; free slots are handed out lowest first */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(scoreboard_free_slot(sb, 8), i);
		scoreboard_claim(sb, i, 0);
		scoreboard_set_pid(sb, i, 1000 + i);
	}
	ck_assert_int_eq(scoreboard_free_slot(sb, 3), -1);	/* limit */
	ck_assert_int_eq(scoreboard_find(sb, 1001), 1);
	ck_assert_int_eq(scoreboard_find(sb, 4242), -1);
	scoreboard_count(sb, &idle, &total);
	ck_assert_int_eq(idle, 3);		/* STARTING counts as idle */
	ck_assert_int_eq(total, 3);

	scoreboard_set_state(sb, 0, SB_READY);
	scoreboard_set_state(sb, 1, SB_BUSY);
	scoreboard_set_state(sb, 2, SB_KEEPALIVE);
	scoreboard_count(sb, &idle, &total);
	ck_assert_int_eq(idle, 1);
	ck_assert_int_eq(total, 3);

	/* a new generation: old idle workers are not idle any more */
	scoreboard_set_generation(sb, 1);
	scoreboard_count(sb, &idle, &total);
	ck_assert_int_eq(idle, 0);
	ck_assert_int_eq(total, 3);

	scoreboard_release(sb, 1);
	ck_assert_int_eq(scoreboard_find(sb, 1001), -1);
	ck_assert_int_eq(scoreboard_free_slot(sb, 8), 1);
	ck_assert_int_eq(scoreboard_state(sb, 1), SB_DEAD);
	ck_assert_str_eq(scoreboard_state_name(SB_KEEPALIVE), "keepalive");
	scoreboard_clear(sb);
	scoreboard_count(sb, &idle, &total);
	ck_assert_int_eq(total, 0);
	scoreboard_destroy(sb);
}
END_TEST

/* The mapping is shared: a child's writes are seen by the parent. */
START_TEST(test_scoreboard_shared)
{
	struct gw_scoreboard	*sb;
	pid_t			 pid;
	int			 i;

	ck_assert_ptr_nonnull(sb = scoreboard_create(4));
	scoreboard_claim(sb, 2, 0);
	if ((pid = fork()) == 0) {
		scoreboard_set_pid(sb, 2, getpid());
		scoreboard_set_state(sb, 2, SB_BUSY);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	for (i = 0; i < 600 && scoreboard_state(sb, 2) != SB_BUSY; i++)
		(void)usleep(50000);
	ck_assert_int_eq(scoreboard_state(sb, 2), SB_BUSY);
	ck_assert_int_eq(scoreboard_pid(sb, 2), pid);
	scoreboard_destroy(sb);
}
END_TEST

static Suite *
prefork_suite(void)
{
	Suite	*s = suite_create("prefork");
	TCase	*tc;

	tc = tcase_create("decide");
	tcase_add_loop_test(tc, test_decide, 0,
	    (int)(sizeof(decide_cases) / sizeof(decide_cases[0])));
	tcase_add_test(tc, test_decide_doubling);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_add_loop_test(tc, test_params, 0,
	    (int)(sizeof(params_cases) / sizeof(params_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("scoreboard");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_scoreboard_slots);
	tcase_add_test(tc, test_scoreboard_shared);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(prefork_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
