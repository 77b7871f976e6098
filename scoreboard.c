/*
 * scoreboard.c - the shared-memory scoreboard (see scoreboard.h).
 *
 * The master claims and releases slots (and marks a worker it retires
 * GRACEFUL); a worker writes only its own slot's state and counters.
 * Fields read by another process (pid, state, generation) go through
 * relaxed atomics: each is one word and nothing depends on ordering
 * between them beyond "eventually seen".
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>

#include <stddef.h>
#include <time.h>

#include "scoreboard.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

static const char *const state_names[] = {
	"dead", "starting", "ready", "busy", "keepalive", "closing",
	"graceful"
};

/* scoreboard_create - map nslots slots shared with every future child. */
struct gw_scoreboard *
scoreboard_create(int nslots)
{
	struct gw_scoreboard	*sb;
	size_t			 len;
	void			*p;

	if (nslots < 1)
		nslots = 1;
	len = offsetof(struct gw_scoreboard, slots) +
	    (size_t)nslots * sizeof(struct sb_slot);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	sb = p;
	sb->magic = SB_MAGIC;
	sb->generation = 0;
	sb->nslots = nslots;
	sb->maplen = len;
	sb->start_time = sb->restart_time = time(NULL);
	scoreboard_clear(sb);
	return sb;
}

void
scoreboard_destroy(struct gw_scoreboard *sb)
{
	if (sb != NULL)
		(void)munmap(sb, sb->maplen);
}

/* scoreboard_clear - every slot DEAD (after all workers are gone). */
void
scoreboard_clear(struct gw_scoreboard *sb)
{
	int	 i;

	for (i = 0; i < sb->nslots; i++) {
		sb->slots[i].magic = SB_MAGIC;
		scoreboard_release(sb, i);
	}
}

unsigned
scoreboard_generation(const struct gw_scoreboard *sb)
{
	return LOAD(&sb->generation);
}

void
scoreboard_set_generation(struct gw_scoreboard *sb, unsigned gen)
{
	STORE(&sb->generation, gen);
}

void
scoreboard_set_state(struct gw_scoreboard *sb, int i, enum sb_state st)
{
	struct sb_slot	*s = &sb->slots[i];

	if (LOAD(&s->state) != (int)st) {
		STORE(&s->state, (int)st);
		s->since = time(NULL);
	}
}

enum sb_state
scoreboard_state(const struct gw_scoreboard *sb, int i)
{
	return (enum sb_state)LOAD(&sb->slots[i].state);
}

pid_t
scoreboard_pid(const struct gw_scoreboard *sb, int i)
{
	return LOAD(&sb->slots[i].pid);
}

void
scoreboard_claim(struct gw_scoreboard *sb, int i, unsigned gen)
{
	struct sb_slot	*s = &sb->slots[i];

	s->magic = SB_MAGIC;
	sb->past.requests += s->requests;
	sb->past.bytes += s->bytes;
	sb->past.connections += s->connections;
	sb->past.cache_hits += s->cache_hits;
	sb->past.cache_misses += s->cache_misses;
	sb->past.cache_revals += s->cache_revals;
	s->requests = s->bytes = s->connections = 0;
	s->cache_hits = s->cache_misses = s->cache_revals = 0;
	STORE(&s->generation, gen);
	STORE(&s->pid, (pid_t)0);
	STORE(&s->state, (int)SB_STARTING);
	s->since = time(NULL);
}

void
scoreboard_set_pid(struct gw_scoreboard *sb, int i, pid_t pid)
{
	STORE(&sb->slots[i].pid, pid);
}

void
scoreboard_release(struct gw_scoreboard *sb, int i)
{
	struct sb_slot	*s = &sb->slots[i];

	STORE(&s->pid, (pid_t)0);
	STORE(&s->state, (int)SB_DEAD);
	s->since = time(NULL);
}

/* scoreboard_find - the slot of a live pid, or -1. */
int
scoreboard_find(const struct gw_scoreboard *sb, pid_t pid)
{
	int	 i;

	if (pid <= 0)
		return -1;
	for (i = 0; i < sb->nslots; i++)
		if (LOAD(&sb->slots[i].pid) == pid &&
		    LOAD(&sb->slots[i].state) != SB_DEAD)
			return i;
	return -1;
}

/* scoreboard_free_slot - the lowest DEAD slot below limit, or -1. */
int
scoreboard_free_slot(const struct gw_scoreboard *sb, int limit)
{
	int	 i;

	if (limit > sb->nslots)
		limit = sb->nslots;
	for (i = 0; i < limit; i++)
		if (LOAD(&sb->slots[i].state) == SB_DEAD)
			return i;
	return -1;
}

/*
 * scoreboard_count - idle = STARTING or READY workers of the current
 * generation (Apache counts a starting worker as idle, so a slow start
 * does not make the master fork more); total = every slot not DEAD.
 */
void
scoreboard_count(const struct gw_scoreboard *sb, int *idle, int *total)
{
	unsigned	 gen = scoreboard_generation(sb);
	int		 i, st;

	*idle = *total = 0;
	for (i = 0; i < sb->nslots; i++) {
		st = LOAD(&sb->slots[i].state);
		if (st == SB_DEAD)
			continue;
		(*total)++;
		if ((st == SB_STARTING || st == SB_READY) &&
		    LOAD(&sb->slots[i].generation) == gen)
			(*idle)++;
	}
}

const char *
scoreboard_state_name(enum sb_state st)
{
	if ((unsigned)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[st];
}
