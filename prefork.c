/*
 * prefork.c - the master's pool of workers (see prefork.h).
 *
 * prefork_params and prefork_decide are pure: the numbers and the
 * once-a-second decision of Apache's perform_idle_server_maintenance.
 * The rest forks, reaps and signals, using the scoreboard as the list
 * of children (never the process group: a piped logger lives there).
 * Nothing here reads the configuration file or handles signals.
 */
#include "config.h"

#include <sys/types.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "balancer.h"
#include "cache.h"
#include "listen.h"
#include "log.h"
#include "prefork.h"
#include "scoreboard.h"
#include "util.h"
#include "worker.h"

/*
 * prefork_params - the pool numbers with Apache's corrections applied:
 * MinSpare < 1 becomes 1, MaxSpare <= MinSpare becomes MinSpare + 1,
 * MaxRequestWorkers is clamped to ServerLimit, StartServers to
 * MaxRequestWorkers.  Returns the PF_FIX_* bits of what was changed.
 */
int
prefork_params(const struct gw_config *cfg, int server_limit,
    struct prefork_params *pp)
{
	int	 fix = 0;

	if (server_limit < 1)
		server_limit = 1;
	pp->server_limit = server_limit;
	pp->max_workers = cfg->max_request_workers;
	if (pp->max_workers < 1) {
		pp->max_workers = 1;
		fix |= PF_FIX_MAX_WORKERS_LOW;
	}
	if (pp->max_workers > server_limit) {
		pp->max_workers = server_limit;
		fix |= PF_FIX_MAX_WORKERS;
	}
	pp->min_spare = cfg->min_spare_servers;
	if (pp->min_spare < 1) {
		pp->min_spare = 1;
		fix |= PF_FIX_MIN_SPARE;
	}
	pp->max_spare = cfg->max_spare_servers;
	if (pp->max_spare <= pp->min_spare) {
		pp->max_spare = pp->min_spare + 1;
		fix |= PF_FIX_MAX_SPARE;
	}
	pp->start = cfg->start_servers;
	if (pp->start < 0) {
		pp->start = 0;
		fix |= PF_FIX_START_LOW;
	}
	if (pp->start > pp->max_workers) {
		pp->start = pp->max_workers;
		fix |= PF_FIX_START;
	}
	return fix;
}

/*
 * prefork_decide - one second's decision.  More idle than MaxSpare:
 * retire one.  Fewer than MinSpare: spawn rate workers (no more than
 * the free room below MaxRequestWorkers) and double the rate for the
 * next second, up to 32; no room at all is PF_FULL.  Otherwise, or
 * after retiring or finding no room, the rate falls back to 1.
 * XXX: Apache also holds the doubling off for a few seconds after a
 * graceful restart (hold_off_on_exponential_spawning); not done here.
 */
void
prefork_decide(int idle, int total, const struct prefork_params *pp,
    int rate, struct prefork_decision *d)
{
	int	 room;

	if (rate < 1)
		rate = 1;
	if (rate > PREFORK_MAX_SPAWN_RATE)
		rate = PREFORK_MAX_SPAWN_RATE;
	d->nspawn = 0;
	d->next_rate = 1;
	if (idle > pp->max_spare) {
		d->action = PF_RETIRE;
		return;
	}
	if (idle >= pp->min_spare) {
		d->action = PF_NOTHING;
		return;
	}
	room = pp->max_workers - total;
	if (room <= 0) {
		d->action = PF_FULL;
		return;
	}
	d->action = PF_SPAWN;
	d->nspawn = rate < room ? rate : room;
	d->next_rate = rate * 2 > PREFORK_MAX_SPAWN_RATE ?
	    PREFORK_MAX_SPAWN_RATE : rate * 2;
}

/*--------------------------------------------------------------------*/

/* prefork_spawn - fork up to n workers into free slots; how many did. */
int
prefork_spawn(struct gw_master *m, int n)
{
	struct gw_worker	 w;
	pid_t			 pid, self = getpid();
	int			 slot, done;

	(void)fflush(NULL);		/* no stdio buffer copied twice */
	for (done = 0; done < n; done++) {
		slot = scoreboard_free_slot(m->sb, m->pp.max_workers);
		if (slot == -1)
			break;
		scoreboard_claim(m->sb, slot, m->generation);
		if ((pid = fork()) == -1) {
			log_errno(GW_LOG_ALERT, "fork: unable to fork new "
			    "process");
			scoreboard_release(m->sb, slot);
			break;
		}
		if (pid == 0) {
			memset(&w, 0, sizeof(w));
			w.cfg = m->cfg;
			w.sb = m->sb;
			w.slot = slot;
			w.generation = m->generation;
			w.master = self;
			worker_main(&w, &m->creds, m->pidfd);
		}
		scoreboard_set_pid(m->sb, slot, pid);
	}
	return done;
}

/* report_exit - say why a worker ended, as Apache's ap_process_child_status. */
static void
report_exit(struct gw_master *m, pid_t pid, int status, unsigned gen)
{
	int	 sig;

	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
			log_msg(GW_LOG_ALERT, "child pid %ld exit status %d: "
			    "the worker could not start", (long)pid,
			    WEXITSTATUS(status));
			if (gen == m->generation)
				m->child_fatal = 1;
		} else if (WEXITSTATUS(status) != 0)
			log_msg(GW_LOG_ERR, "child pid %ld exit status %d",
			    (long)pid, WEXITSTATUS(status));
		return;
	}
	if (!WIFSIGNALED(status))
		return;
	sig = WTERMSIG(status);
	if (m->quiet && (sig == SIGTERM || sig == SIGKILL))
		return;
	log_msg(GW_LOG_NOTICE, "child pid %ld exit signal %s (%d)%s",
	    (long)pid, strsignal(sig), sig,
#ifdef WCOREDUMP
	    WCOREDUMP(status) ? ", possible coredump" :
#endif
	    "");
}

/*--------------------------------------------------------------------
 * The cache manager
 */

#define MGR_YOUNG_MS	10000	/* died within this of its start: young */
#define MGR_BACKOFF_MS	10000	/* start delay after young deaths */

/* manager_child - the child side of the fork; never returns. */
static void __attribute__((noreturn))
manager_child(struct gw_master *m, pid_t master)
{
	if (m->pidfd >= 0)
		(void)close(m->pidfd);
	log_set_tee(0);			/* errors to the ErrorLog only */
	listen_close(m->cfg);		/* this copy's: the master keeps its */
	accesslog_child();
	cache_child();
	if (worker_drop_privileges(&m->creds) == -1) {
		log_msg(GW_LOG_ALERT, "cache manager cannot drop privileges, "
		    "exiting");
		exit(WORKER_EXIT_FATAL);
	}
#ifdef HAVE_SYS_PRCTL_H
	/* its name in ps -o comm and top: "gatewayd-cache" */
	(void)prctl(PR_SET_NAME, "gatewayd-cache", 0, 0, 0);
	/* after setuid, which clears the parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		log_errno(GW_LOG_WARN, "prctl(PR_SET_PDEATHSIG)");
#endif
	if (getppid() != master)
		exit(0);		/* the master died before prctl */
	cache_manager_run(master, m->cfg);
	exit(0);
}

static void
manager_spawn(struct gw_master *m)
{
	pid_t	 pid, self = getpid();

	(void)fflush(NULL);
	if ((pid = fork()) == -1) {
		log_errno(GW_LOG_ALERT, "fork: unable to fork the cache "
		    "manager");
		m->mgr_next = gw_mono_ms() + 1000;
		return;
	}
	if (pid == 0)
		manager_child(m, self);
	m->cache_mgr = pid;
	m->mgr_started = gw_mono_ms();
	m->mgr_stopping = 0;
}

static void
manager_signal(struct gw_master *m, int sig)
{
	if (m->cache_mgr <= 0)
		return;
	if (kill(m->cache_mgr, sig) == -1 && errno != ESRCH)
		log_errno(GW_LOG_WARN, "kill %ld", (long)m->cache_mgr);
	m->mgr_stopping = 1;
}

/* manager_exited - the cache manager was reaped: 1 if abnormally. */
static int
manager_exited(struct gw_master *m, pid_t pid, int status)
{
	long long	 now = gw_mono_ms();
	int		 abnormal, sig;

	abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	m->cache_mgr = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_msg(GW_LOG_ERR, "cache manager pid %ld exit status %d",
		    (long)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (!((m->quiet || m->mgr_stopping) && (sig == SIGTERM ||
		    sig == SIGKILL)))
			log_msg(GW_LOG_NOTICE, "cache manager pid %ld exit "
			    "signal %s (%d)", (long)pid, strsignal(sig), sig);
	}
	if (m->mgr_stopping) {		/* asked to: a successor at once */
		m->mgr_quick = 0;
		m->mgr_next = 0;
	} else {
		if (abnormal && now - m->mgr_started < MGR_YOUNG_MS)
			m->mgr_quick++;
		else
			m->mgr_quick = 0;
		m->mgr_next = now + (m->mgr_quick >= 2 ? MGR_BACKOFF_MS :
		    1000);
	}
	m->mgr_stopping = 0;
	return abnormal;
}

void
prefork_manager(struct gw_master *m)
{
	if (!cache_manager_wanted() && !balancer_hc_wanted(m->cfg)) {
		if (m->cache_mgr > 0 && !m->mgr_stopping)
			manager_signal(m, SIGTERM);
		return;
	}
	if (m->cache_mgr > 0 || gw_mono_ms() < m->mgr_next)
		return;
	manager_spawn(m);
}

void
prefork_manager_restart(struct gw_master *m)
{
	if (m->cache_mgr > 0) {
		if (!m->mgr_stopping)
			manager_signal(m, SIGTERM);
		return;			/* its successor: once reaped */
	}
	m->mgr_quick = 0;
	m->mgr_next = 0;
	prefork_manager(m);
}

/*--------------------------------------------------------------------*/

/* prefork_reap - collect every exited child without blocking. */
void
prefork_reap(struct gw_master *m)
{
	pid_t		 pid;
	unsigned	 gen;
	int		 status, slot, abnormal = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->cache_mgr) {
			if (manager_exited(m, pid, status))
				abnormal = 1;
			continue;
		}
		slot = scoreboard_find(m->sb, pid);
		if (slot == -1) {
			if (!log_reap(pid, status) && !accesslog_reap(pid, status))
				log_msg(GW_LOG_DEBUG, "reaped unknown child "
				    "pid %ld", (long)pid);
			continue;
		}
		gen = m->sb->slots[slot].generation;
		balancer_worker_gone(slot);	/* its busy count, if any */
		scoreboard_release(m->sb, slot);
		report_exit(m, pid, status, gen);
		if (WIFSIGNALED(status) || (WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0))
			abnormal = 1;
	}
	/* a dead child's index locks go before any replacement forks */
	if (abnormal)
		cache_master_failchk();
	if (pid == -1 && errno != ECHILD && errno != EINTR)
		log_errno(GW_LOG_ERR, "waitpid");
}

/* retire_one - ask the highest-numbered idle worker to exit (USR1). */
static void
retire_one(struct gw_master *m)
{
	pid_t	 pid;
	int	 i, pick = -1;

	for (i = 0; i < m->sb->nslots; i++) {
		if (m->sb->slots[i].generation != m->generation ||
		    scoreboard_pid(m->sb, i) <= 0)
			continue;
		if (scoreboard_state(m->sb, i) == SB_READY)
			pick = i;
	}
	if (pick == -1)
		return;
	pid = scoreboard_pid(m->sb, pick);
	log_msg(GW_LOG_DEBUG, "retiring idle child pid %ld", (long)pid);
	/* not idle any more, even if it is slow to go (the worker only
	 * writes its state again to say BUSY, which is true then) */
	scoreboard_set_state(m->sb, pick, SB_GRACEFUL);
	if (kill(pid, SIGUSR1) == -1 && errno != ESRCH)
		log_errno(GW_LOG_WARN, "kill %ld", (long)pid);
}

/* prefork_maintain - the once-a-second idle server maintenance. */
void
prefork_maintain(struct gw_master *m)
{
	struct prefork_decision	 d;
	int			 idle, total;

	scoreboard_count(m->sb, &idle, &total);
	prefork_decide(idle, total, &m->pp, m->spawn_rate, &d);
	switch (d.action) {
	case PF_RETIRE:
		retire_one(m);
		break;
	case PF_SPAWN:
		if (m->spawn_rate >= 8)
			log_msg(GW_LOG_INFO, "server seems busy, (you may "
			    "need to increase StartServers, or Min/"
			    "MaxSpareServers), spawning %d children, there "
			    "are %d idle, and %d total children", d.nspawn,
			    idle, total);
		(void)prefork_spawn(m, d.nspawn);
		break;
	case PF_FULL:
		if (!m->reported_full) {
			log_msg(GW_LOG_ERR, "server reached MaxRequestWorkers "
			    "setting, consider raising the MaxRequestWorkers "
			    "setting");
			m->reported_full = 1;
		}
		break;
	case PF_NOTHING:
		break;
	}
	m->spawn_rate = d.next_rate;
}

/* prefork_signal_all - send sig to every worker on the scoreboard. */
void
prefork_signal_all(struct gw_master *m, int sig)
{
	pid_t	 pid;
	int	 i;

	for (i = 0; i < m->sb->nslots; i++) {
		if (scoreboard_state(m->sb, i) == SB_DEAD ||
		    (pid = scoreboard_pid(m->sb, i)) <= 0)
			continue;
		if (kill(pid, sig) == -1 && errno != ESRCH)
			log_errno(GW_LOG_WARN, "kill %ld", (long)pid);
	}
}

int
prefork_live(const struct gw_master *m)
{
	int	 i, n = 0;

	for (i = 0; i < m->sb->nslots; i++)
		if (scoreboard_state(m->sb, i) != SB_DEAD)
			n++;
	return n;
}

/*
 * prefork_wait - reap for up to ms milliseconds; children (workers and
 * the cache manager) still alive.
 */
int
prefork_wait(struct gw_master *m, int ms)
{
	struct timespec	 t0, t;
	long		 elapsed;
	int		 live;

	if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
		return prefork_live(m) + (m->cache_mgr > 0);
	for (;;) {
		prefork_reap(m);
		if ((live = prefork_live(m) + (m->cache_mgr > 0)) == 0)
			return 0;
		if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
			return live;
		elapsed = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed >= ms)
			return live;
		(void)poll(NULL, 0, 20);
	}
}

/*
 * stop_all - TERM every worker and the cache manager, KILL the ones
 * still there after grace ms; children left.
 */
static int
stop_all(struct gw_master *m, int grace)
{
	int	 left;

	m->quiet = 1;
	prefork_signal_all(m, SIGTERM);
	manager_signal(m, SIGTERM);
	if ((left = prefork_wait(m, grace)) > 0) {
		log_msg(GW_LOG_WARN, "%d child(ren) still alive after "
		    "SIGTERM, sending SIGKILL", left);
		prefork_signal_all(m, SIGKILL);
		manager_signal(m, SIGKILL);
		if ((left = prefork_wait(m, 5000)) > 0)
			log_msg(GW_LOG_ERR, "%d child(ren) could not be "
			    "reaped", left);
	}
	m->quiet = 0;
	return left;
}

/* prefork_stop_children - TERM every child, KILL the ones that linger. */
void
prefork_stop_children(struct gw_master *m)
{
	(void)stop_all(m, 5000);
}

void
prefork_cache_rebuild(struct gw_master *m)
{
	log_msg(GW_LOG_ERR, "cache: rebuilding the cache index: stopping "
	    "every worker and the cache manager (the connections they "
	    "serve are lost)");
	if (stop_all(m, PREFORK_REBUILD_GRACE) > 0)
		log_msg(GW_LOG_ERR, "cache: rebuilding with children left "
		    "over");
	cache_master_rebuild();
	/* any left over exits as soon as it can run */
	m->generation++;
	scoreboard_set_generation(m->sb, m->generation);
	m->spawn_rate = 1;
	m->reported_full = 0;
	(void)prefork_spawn(m, m->pp.start);
	m->mgr_quick = 0;
	m->mgr_next = 0;
	prefork_manager(m);
}
