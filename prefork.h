/*
 * prefork.h - the master's pool of workers: spawn, reap, once-a-second
 * idle maintenance (Apache's prefork rhythm) and graceful retirement.
 * prefork_decide is the pure decision the maintenance applies.
 */
#ifndef PREFORK_H
#define PREFORK_H

#include <sys/types.h>

#include "gatewayd.h"
#include "worker.h"

struct gw_scoreboard;

#define PREFORK_MAX_SPAWN_RATE	32	/* Apache's MAX_SPAWN_RATE */

/* The pool numbers after Apache's corrections. */
struct prefork_params {
	int		 start;
	int		 min_spare;
	int		 max_spare;
	int		 max_workers;
	int		 server_limit;
};

/* Corrections prefork_params applied, for the caller to warn about. */
#define PF_FIX_MIN_SPARE	0x01	/* MinSpareServers < 1: 1 */
#define PF_FIX_MAX_SPARE	0x02	/* MaxSpare <= MinSpare: Min + 1 */
#define PF_FIX_MAX_WORKERS	0x04	/* MaxRequestWorkers > ServerLimit */
#define PF_FIX_MAX_WORKERS_LOW	0x08	/* MaxRequestWorkers < 1: 1 */
#define PF_FIX_START		0x10	/* StartServers > MaxRequestWorkers */
#define PF_FIX_START_LOW	0x20	/* StartServers < 0: 0 */

enum prefork_action {
	PF_NOTHING,		/* idle count within bounds */
	PF_SPAWN,		/* fork nspawn workers */
	PF_RETIRE,		/* ask one idle worker to exit */
	PF_FULL			/* too few idle, MaxRequestWorkers reached */
};

struct prefork_decision {
	enum prefork_action	 action;
	int			 nspawn;
	int			 next_rate;
};

int		 prefork_params(const struct gw_config *, int server_limit,
		    struct prefork_params *);
void		 prefork_decide(int idle, int total,
		    const struct prefork_params *, int rate,
		    struct prefork_decision *);

/* The master's state, owned by gatewayd.c, worked on here. */
struct gw_master {
	struct gw_config	*cfg;
	struct gw_scoreboard	*sb;
	struct prefork_params	 pp;
	struct gw_creds		 creds;
	int			 pidfd;		/* PidFile lock, -1 */
	char			*pid_file;	/* PidFile in use (malloc) */
	unsigned		 generation;
	int			 spawn_rate;
	int			 reported_full;
	int			 quiet;		/* stopping: no exit reports */
	int			 child_fatal;	/* a worker could not start */
	/* the cache manager: a child, not a worker (no scoreboard slot) */
	pid_t			 cache_mgr;	/* 0: not running */
	long long		 mgr_started;	/* when, monotonic ms */
	long long		 mgr_next;	/* no start before (ms) */
	int			 mgr_quick;	/* quick deaths in a row */
	int			 mgr_stopping;	/* asked to exit */
};

int		 prefork_spawn(struct gw_master *, int n);
void		 prefork_reap(struct gw_master *);
void		 prefork_maintain(struct gw_master *);
void		 prefork_signal_all(struct gw_master *, int sig);
int		 prefork_live(const struct gw_master *);
int		 prefork_wait(struct gw_master *, int ms);
void		 prefork_stop_children(struct gw_master *);

/*
 * The cache manager (cache.h).  prefork_manager - once a second: start
 * it if an index is open and it is not running (again after a second,
 * or 10 s after dying young, abnormally, twice in a row); stop it if
 * no index is open.  prefork_manager_restart - on a restart: the
 * running one exits, a new one (for the new set of roots) starts once
 * it is reaped.  prefork_reap reaps it; prefork_stop_children and
 * prefork_wait include it.
 */
void		 prefork_manager(struct gw_master *);
void		 prefork_manager_restart(struct gw_master *);

/*
 * prefork_cache_rebuild - a dead index (cache_master_rebuild_due):
 * TERM every worker of every generation and the cache manager, KILL
 * those left after PREFORK_REBUILD_GRACE ms (they may wait inside
 * Berkeley DB for good), rebuild, start StartServers new workers and
 * a new cache manager.  The stopped workers' connections are lost.
 */
#define PREFORK_REBUILD_GRACE	2000	/* ms */

void		 prefork_cache_rebuild(struct gw_master *);

#endif /* PREFORK_H */
