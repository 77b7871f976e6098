/*
 * scoreboard.h - the shared-memory scoreboard: one slot per worker,
 * mapped MAP_SHARED before the first fork and kept across restarts
 * (so ServerLimit, its size, is fixed for the master's life).
 */
#ifndef SCOREBOARD_H
#define SCOREBOARD_H

#include <sys/types.h>
#include <time.h>

#define SB_MAGIC	0x47575342u	/* "GWSB" */

enum sb_state {
	SB_DEAD,		/* free slot */
	SB_STARTING,		/* forked, not yet accepting */
	SB_READY,		/* idle in accept */
	SB_BUSY,		/* reading or answering a request */
	SB_KEEPALIVE,		/* waiting for the next request */
	SB_CLOSING,		/* lingering close */
	SB_GRACEFUL		/* finishing before exit */
};

struct sb_slot {
	unsigned		 magic;
	pid_t			 pid;
	unsigned		 generation;
	int			 state;		/* enum sb_state */
	unsigned long		 requests;
	unsigned long		 bytes;
	unsigned long		 connections;
	unsigned long		 cache_hits;	/* X-Cache: HIT */
	unsigned long		 cache_misses;	/* MISS */
	unsigned long		 cache_revals;	/* REVALIDATE */
	time_t			 since;		/* last state change */
};

struct gw_scoreboard {
	unsigned		 magic;
	unsigned		 generation;	/* the master's current one */
	int			 nslots;
	size_t			 maplen;
	time_t			 start_time;	/* the master's start */
	time_t			 restart_time;	/* its last (re)start */
	/* the counts of workers gone, added when their slot is reused,
	   so that the server's totals only grow (the master writes) */
	struct sb_slot		 past;
	struct sb_slot		 slots[];
};

struct gw_scoreboard *scoreboard_create(int nslots);
void		 scoreboard_destroy(struct gw_scoreboard *);
void		 scoreboard_clear(struct gw_scoreboard *);
unsigned	 scoreboard_generation(const struct gw_scoreboard *);
void		 scoreboard_set_generation(struct gw_scoreboard *, unsigned);
void		 scoreboard_set_state(struct gw_scoreboard *, int,
		    enum sb_state);
enum sb_state	 scoreboard_state(const struct gw_scoreboard *, int);
pid_t		 scoreboard_pid(const struct gw_scoreboard *, int);
/* scoreboard_claim - mark slot STARTING for generation (master, pre-fork) */
void		 scoreboard_claim(struct gw_scoreboard *, int, unsigned);
void		 scoreboard_set_pid(struct gw_scoreboard *, int, pid_t);
void		 scoreboard_release(struct gw_scoreboard *, int);
int		 scoreboard_find(const struct gw_scoreboard *, pid_t);
int		 scoreboard_free_slot(const struct gw_scoreboard *, int limit);
void		 scoreboard_count(const struct gw_scoreboard *, int *idle,
		    int *total);
const char	*scoreboard_state_name(enum sb_state);

#endif /* SCOREBOARD_H */
