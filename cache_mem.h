/*
 * cache_mem.h - the memory store (CacheEnable mem): Apache's
 * mod_mem_cache, but one store shared by the master and every worker,
 * in named in-memory Berkeley DB databases of a transactional
 * environment of its own.  It knows objects, not HTTP: the caller gives
 * the hash name, the cache key URL and the stored object (for gatewayd:
 * struct cache_file_hdr, head, body), and gets a copy back.
 *
 * Life of the store:
 *   master:  cache_mem_master_open before any fork (a fresh, empty
 *            store at every start); cache_mem_master_failchk after
 *            each abnormal child exit (after waitpid, before a
 *            replacement is forked); cache_mem_master_tick once a
 *            second; cache_mem_master_close at stop.  None of them
 *            waits on what another process holds.
 *   worker:  cache_mem_child after fork; the store is joined on first
 *            use.  A handle never crosses a fork.
 * A store that is not open, or dead, is valid everywhere: every lookup
 * is a miss, every change a no-op (-1), and the gateway serves without
 * it.  A memory cache is disposable: a store that would need recovery
 * is marked dead (logged) rather than repaired; the next start makes a
 * new one.
 */
#ifndef CACHE_MEM_H
#define CACHE_MEM_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

/* Apache 2.2's mod_mem_cache defaults */
#define CACHE_MEM_SIZE		(100ULL * 1024)	/* MCacheSize 100 (KiB) */
#define CACHE_MEM_MAX_COUNT	1009		/* MCacheMaxObjectCount */
#define CACHE_MEM_MIN_OBJ	1		/* MCacheMinObjectSize */
#define CACHE_MEM_MAX_OBJ	10000		/* MCacheMaxObjectSize */

#define CACHE_MEM_URL_MAX	16384	/* a key URL, bytes */
#define CACHE_MEM_TOUCH_INTERVAL 10	/* s between LRU/GDSF updates */
#define CACHE_MEM_GDSF_FOLD	8	/* GDSF: hits that force an update */
#define CACHE_MEM_RETRIES	8	/* a writer's attempts (~6 ms in all) */
#define CACHE_MEM_STUCK_SECS	10	/* see cache_mem_master_tick */

/*
 * Settings.  Zero numbers mean the defaults above (server_limit: 256).
 * size_bytes: MCacheSize in bytes; each object counts its length plus
 *   its URL's, so the store never holds more than that.
 * max_count: MCacheMaxObjectCount.  min_obj, max_obj: objects of other
 *   lengths are not stored (MCacheMinObjectSize, MCacheMaxObjectSize;
 *   max_obj must stay below size_bytes, as Apache requires).
 * gdsf: MCacheRemovalAlgorithm GDSF (1) or LRU (0).
 * server_limit: sizes the lock, thread and process tables.
 * own, uid, gid: the master (root) gives the environment to the
 *   workers' User and Group (a 02770 directory, 0660 files).
 * home: directory for the environment's region files (made if
 *   missing; old region files in it are removed).  NULL: a private
 *   directory made with mkdtemp under $TMPDIR or /tmp, removed at
 *   close.  Region files are memory-mapped: tmpfs (/dev/shm, /run) is
 *   the best place; a full disk under them is a SIGBUS.
 */
struct cache_mem_opts {
	uint64_t	 size_bytes;
	uint64_t	 max_count;
	uint64_t	 min_obj, max_obj;
	int		 gdsf;
	int		 server_limit;
	int		 own;
	uid_t		 uid;
	gid_t		 gid;
	const char	*home;
};

/*
 * cache_mem_master_open - create a fresh, empty store (the master,
 * before any fork).  0, or -1 with the reason in err: serve without
 * the memory store.  Called again while open, it closes the old store
 * first: the workers still attached to it get misses from then on
 * (quietly); new ones join the new one.
 */
int	cache_mem_master_open(const struct cache_mem_opts *, char *err,
	    size_t errlen);

/*
 * cache_mem_master_failchk - after reaping an abnormal child exit:
 * abort the dead process's transaction and release its locks.  If the
 * environment needs recovery (the process died inside Berkeley DB), the
 * store is marked dead for every process (logged once) and stays dead
 * until the next cache_mem_master_open.
 */
void	cache_mem_master_failchk(void);

/*
 * cache_mem_master_tick - once a second: failchk (a dead process that
 * was not a child is noticed too), and forget the process slots of the
 * dead.  No store call waits for a lock, so one lasting
 * CACHE_MEM_STUCK_SECS waits on a mutex that a dead process held, and
 * would wait for ever: the store is marked dead (if it was not yet) and
 * that process is killed (SIGKILL, logged), to be reaped and replaced
 * as any crashed worker.  (There are no lock timeouts to enforce.)
 */
void	cache_mem_master_tick(void);

/* cache_mem_master_close - close and remove the store (master, at stop). */
void	cache_mem_master_close(void);

/* cache_mem_child - in a new child: forget the master's handles. */
void	cache_mem_child(void);

/* cache_mem_alive - 1 if this process can use the store. */
int	cache_mem_alive(void);

/*
 * cache_mem_get - copy name's object into buf if its key URL is url:
 * its length (<= cap), or -1 (miss, other URL, larger than cap, busy,
 * dead).  Never waits for a lock (nothing here does).  Records the
 * use for LRU/GDSF at most once a CACHE_MEM_TOUCH_INTERVAL (GDSF: or
 * every CACHE_MEM_GDSF_FOLD hits, counted in shared memory), skipped
 * if another process is in the way.
 */
ssize_t	cache_mem_get(const char *name, const char *url, void *buf,
	    size_t cap);

/*
 * cache_mem_put - store or replace name's object (url, obj, len) in one
 * transaction, evicting first what must go to stay within size and
 * count: expired objects (expires < now) oldest first, then LRU or GDSF
 * order.  expires 0: never expired.  0, or -1: not stored (outside
 * min_obj..max_obj or larger than the store: an older object under
 * name stays; other writers in the way through CACHE_MEM_RETRIES
 * attempts, Berkeley DB full, dead).  A conflict with another writer
 * is retried after a short sleep (~6 ms in all at most).
 */
int	cache_mem_put(const char *name, const char *url, const void *obj,
	    size_t len, time_t expires);

/* cache_mem_del - remove name's object.  0 (removed, or none), or -1. */
int	cache_mem_del(const char *name);

/* cache_mem_stats - objects and bytes (lengths + URLs) stored.  0 or -1. */
int	cache_mem_stats(uint64_t *entries, uint64_t *bytes);

/*
 * Tests only.  cache_mem_set_test - NULL restores the defaults.
 * hook(where): "put" inside put's transaction just before commit,
 *   "retry" before a writer's next attempt, "get" inside a lookup's
 *   transaction before its reads, "seckey" inside a Berkeley DB call
 *   (a secondary key callback).
 * now: the clock for expiry and last use (NULL: time()).
 * stuck_secs: replaces CACHE_MEM_STUCK_SECS (-1: keep).
 * body_cap: caps the object database's pages, bytes (0: computed), to
 *   reach Berkeley DB's own limit; call before cache_mem_master_open.
 * no_touch: lookups record no use (to look without changing the order).
 */
struct cache_mem_test {
	void		(*hook)(const char *where);
	time_t		(*now)(void);
	int		 stuck_secs;
	uint64_t	 body_cap;
	int		 no_touch;
};

void	cache_mem_set_test(const struct cache_mem_test *);

#endif /* CACHE_MEM_H */
