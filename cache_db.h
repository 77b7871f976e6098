/*
 * cache_db.h - the cache index: one transactional Berkeley DB
 * environment per CacheRoot (<CacheRoot>/.index), shared by the master
 * and every worker.  It knows records, not HTTP: the caller gives the
 * hash name and the cache key URL, and owns the body files.
 *
 * Life of a handle:
 *   master:  cache_db_master_open (recover or rebuild) before any fork;
 *            cache_db_watch once a second and after each abnormal
 *            child exit (after waitpid, before a replacement is
 *            forked); cache_db_close at stop.  Nothing else: those
 *            never wait on what a dead process held.
 *   worker:  cache_db_worker_open after fork (never a handle across a
 *            fork: in a child, an inherited handle is dead, and
 *            cache_db_close of it touches nothing shared).
 *   cache manager (a child, joined as a worker): cache_db_tick once a
 *            second, which may wait on locks and mutexes.
 * A NULL or dead handle is valid everywhere: every call answers
 * CACHE_DB_DEAD at once, and the gateway serves uncached.
 */
#ifndef CACHE_DB_H
#define CACHE_DB_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#define CACHE_DB_NAME_MAX	64	/* hash name, bytes (Apache's: 22) */
#define CACHE_DB_URL_MAX	16384	/* cache key URL, bytes */
#define CACHE_DB_TOUCH_INTERVAL	60	/* s between LRU updates */
#define CACHE_DB_RETRIES	8	/* write attempts after conflicts */
#define CACHE_DB_HOME		".index" /* environment, under CacheRoot */

enum cache_db_status {
	CACHE_DB_OK,		/* done; for a lookup: a hit */
	CACHE_DB_MISS,		/* no record, other URL, other version */
	CACHE_DB_BUSY,		/* a lock not waited for, or deadlock
				   retries or lock timeout used up */
	CACHE_DB_ERROR,		/* failed (logged, rate-limited) */
	CACHE_DB_DEAD		/* no index (NULL, dead, needs recovery) */
};

/* When the master's open runs DB->verify (~2 s a million records). */
enum cache_db_verify {
	CACHE_DB_VERIFY_ALWAYS,		/* default */
	CACHE_DB_VERIFY_UNCLEAN,	/* only after an unclean stop */
	CACHE_DB_VERIFY_NEVER
};

/*
 * Settings; a zeroed struct (or NULL) means the defaults.
 * server_limit: sizes the lock and thread tables (0: 256).
 * cachesize: the BDB buffer pool, bytes (0: 64 MiB).
 * lock_timeout_ms: how long a writer waits for a lock (0: 1000); the
 *   cache_db_tick of the cache manager enforces it.
 * own, uid, gid: the master (root) gives the index to the workers'
 *   User and Group: a setgid 02770 directory, 0660 files.
 */
struct cache_db_opts {
	int			 server_limit;
	uint64_t		 cachesize;
	unsigned		 lock_timeout_ms;
	enum cache_db_verify	 verify;
	int			 own;
	uid_t			 uid;
	gid_t			 gid;
};

/*
 * One index record, decoded (on disk: versioned, big-endian).  Times
 * are seconds since the epoch; negative ones are stored as 0.
 * expires: may be evicted first after this; 0 = no expiry (LRU only).
 * atime: last use, the LRU order; 0 at put means "stored".
 * size: body bytes, counted against max_bytes.
 */
struct cache_rec {
	time_t		 expires;
	time_t		 stored;	/* when the response was stored */
	time_t		 atime;
	uint64_t	 size;
	uint64_t	 inode;		/* the body file's, 0 if none */
	uint32_t	 status;	/* HTTP status */
	uint32_t	 flags;		/* the caller's bits */
};

/* Totals: entries and bytes from the primary; the secondaries' sizes. */
struct cache_db_stats {
	uint64_t	 entries;
	uint64_t	 bytes;
	uint64_t	 expiry_entries;	/* records with an expiry */
	uint64_t	 lru_entries;		/* = entries */
};

/* Eviction limits; 0 means no limit on that axis. */
struct cache_db_limits {
	uint64_t	 max_entries;
	uint64_t	 max_bytes;
};

struct cache_db;

/* cache_db_version - "Berkeley DB 5.3.28: ..." of the linked library. */
const char	*cache_db_version(void);

/* cache_db_status_name - "ok", "miss", "busy", "error", "dead". */
const char	*cache_db_status_name(enum cache_db_status);

/*
 * cache_db_master_open - create or recover (DB_RECOVER) root's index,
 * verify it per opts->verify, open and associate the databases.  If
 * that fails, rename the index aside (<root>/.index.broken, replacing
 * an older one) and build an empty one.  NULL (reason in err) if even
 * that fails: serve uncached.  No other process may be attached.
 */
struct cache_db	*cache_db_master_open(const char *root,
		    const struct cache_db_opts *, char *err, size_t errlen);

/*
 * cache_db_worker_open - join root's index after fork: own environment
 * and database handles, secondaries associated.  NULL (logged) if the
 * index is missing or broken: serve uncached.
 */
struct cache_db	*cache_db_worker_open(const char *root,
		    const struct cache_db_opts *);

/*
 * cache_db_close - close the handles and free h (the master also
 * checkpoints and marks a clean stop: call it after the workers are
 * gone).  In a process that did not open h (a child after fork) it
 * only keeps h on a list: the parent's handles are not the child's to
 * close, and stay reachable (no leak report) but unused.
 * After a panic BDB keeps the handles' memory (~30 KB).  NULL is fine.
 */
void		 cache_db_close(struct cache_db *);

/* cache_db_self - this process's pid, cheaply (reset by fork). */
pid_t		 cache_db_self(void);

/* cache_db_alive - 1 if h can be used (not NULL, not dead). */
int		 cache_db_alive(const struct cache_db *);

/*
 * cache_db_failchk - master, after reaping an abnormal exit: release
 * the dead process's locks and abort its transaction.  CACHE_DB_OK, or
 * CACHE_DB_DEAD: the environment needs recovery; stop every other
 * process, cache_db_close and cache_db_master_open again.
 */
enum cache_db_status cache_db_failchk(struct cache_db *);

/*
 * cache_db_watch - master, once a second and after each abnormal child
 * exit: failchk, which frees what dead processes held (read locks,
 * transactions, mutexes of their handles) without waiting on it;
 * *found (if not NULL) is the number of dead processes' transactions
 * it aborted (each logged at notice level; the routine release of what
 * a dead process's open handles held is logged at debug).  CACHE_DB_OK,
 * or CACHE_DB_DEAD: a process died inside a Berkeley DB call (so maybe
 * holding a mutex: whoever needs it next waits forever) or the
 * environment panicked.  Then the environment is panicked for every
 * process attached (a process's next call answers CACHE_DB_DEAD at
 * once instead of waiting; one already waiting waits on: stop it), and
 * h is dead: cache_db_close of it is quick and writes nothing.  Stop
 * every other process attached, then cache_db_master_open again.
 */
enum cache_db_status cache_db_watch(struct cache_db *, int *found);

/*
 * cache_db_tick - once a second, in one process (gatewayd's cache
 * manager; a tool alone), never the master: checkpoint the log when due
 * (1 MiB or 1 min; old log files go), and fail lock waits older than
 * lock_timeout_ms (BDB only checks timeouts when asked).
 */
enum cache_db_status cache_db_tick(struct cache_db *);

/*
 * cache_db_get - look name up; a hit only if the record holds url
 * exactly.  Never waits for a lock (a conflict is CACHE_DB_BUSY, a
 * miss to the caller).  *out is a copy.
 */
enum cache_db_status cache_db_get(struct cache_db *, const char *name,
		    const char *url, struct cache_rec *out);

/*
 * cache_db_put - insert or replace name's record (url, *rec) in one
 * transaction, retried after deadlocks.  Negative times are stored as
 * 0; atime 0 is stored as rec->stored.
 */
enum cache_db_status cache_db_put(struct cache_db *, const char *name,
		    const char *url, const struct cache_rec *rec);

/* cache_db_del - remove name's record (CACHE_DB_MISS if none). */
enum cache_db_status cache_db_del(struct cache_db *, const char *name);

/*
 * cache_db_touch - set name's atime to now if it is older than
 * CACHE_DB_TOUCH_INTERVAL; never waits (a conflict skips: BUSY).  OK
 * when touched or recent enough.  A caller holding the record from
 * cache_db_get can skip the call when its atime is recent.
 */
enum cache_db_status cache_db_touch(struct cache_db *, const char *name,
		    time_t now);

/* Called for each evicted record, after its removal is committed. */
typedef void	 cache_db_evict_fn(const char *name,
		    const struct cache_rec *, void *arg);

/*
 * cache_db_evict - remove records until both limits hold: first those
 * last used in the future (clock went back), then those expired before
 * now (expiry order), then least recently used.  *totals gives the
 * starting entries and bytes (NULL: counted here with cache_db_stats)
 * and is updated.  fn(name, rec, arg) runs after each batch commits,
 * so the caller unlinks bodies then.  Returns the number removed;
 * *status (if not NULL) is CACHE_DB_OK, or why it stopped early.
 */
long		 cache_db_evict(struct cache_db *, time_t now,
		    const struct cache_db_limits *,
		    struct cache_db_stats *totals, cache_db_evict_fn *fn,
		    void *arg, enum cache_db_status *status);

/*
 * cache_db_stats - count entries and bytes (a walk of the primary,
 * read-committed, no lock held between records) and the secondaries.
 */
enum cache_db_status cache_db_stats(struct cache_db *,
		    struct cache_db_stats *);

/* Called for each record in name order; nonzero stops the walk. */
typedef int	 cache_db_iter_fn(const char *name, const char *url,
		    const struct cache_rec *, void *arg);

/*
 * cache_db_iterate - call fn for each record.  No lock is held while fn
 * runs, so fn may use h (cache_db_del of the record, say).
 */
enum cache_db_status cache_db_iterate(struct cache_db *,
		    cache_db_iter_fn *fn, void *arg);

/*
 * cache_db_verify - DB->verify each database file (structure, order),
 * then check the secondaries' counts against the primary.  Meaningful
 * only while no process writes.  OK, or CACHE_DB_ERROR (reason logged).
 */
enum cache_db_status cache_db_verify(struct cache_db *);

/*
 * cache_db_set_test_hook - tests only: fn(where) runs inside put's
 * transaction just before commit ("put") and after each deadlock
 * abort before a retry ("retry").  NULL removes it.
 */
void		 cache_db_set_test_hook(void (*fn)(const char *where));

/*
 * For tools (gwcacheclean), which join an index some gatewayd made.
 *
 * cache_db_tool_open - join root's index as cache_db_worker_open does,
 * never creating or recovering it; NULL with the reason in err (not
 * logged).
 */
struct cache_db	*cache_db_tool_open(const char *root,
		    const struct cache_db_opts *, char *err, size_t errlen);

/*
 * cache_db_find - name's record, whatever its URL: CACHE_DB_OK (*out
 * and url, truncated to urllen, filled; zero and "" for a record not
 * in this format), CACHE_DB_MISS if none.  Never waits (BUSY).  Either
 * out or url may be NULL.
 */
enum cache_db_status cache_db_find(struct cache_db *, const char *name,
		    char *url, size_t urllen, struct cache_rec *out);

/*
 * cache_db_failchk_alone - cache_db_failchk from a joined handle, for a
 * tool that knows no other process can run failchk meanwhile (no
 * master attached, no other such tool): two at once could abort the
 * same dead transaction twice.  CACHE_DB_OK, or CACHE_DB_DEAD.
 */
enum cache_db_status cache_db_failchk_alone(struct cache_db *);

/*
 * cache_db_clean_stop - 1 if the last master to open root's index
 * closed it cleanly and none has opened it since (gatewayd is stopped),
 * else 0.
 */
int		 cache_db_clean_stop(const char *root);

#endif /* CACHE_DB_H */
