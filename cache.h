/*
 * cache.h - the disk cache (CacheEnable disk) between the proxy engine
 * and its three parts: the index (cache_db), the body files
 * (cache_store) and the HTTP rules (cache_policy).
 *
 * The master opens one index per distinct CacheRoot before it forks
 * (cache_master_open), runs failchk on it each second
 * (cache_master_tick) and after an abnormal child exit
 * (cache_master_failchk), and closes it at stop; it never waits on the
 * index.  Checkpoints, which may wait, are the cache manager's, a child
 * (cache_manager_run).  A worker joins an index on first use, and only
 * when the master holds it open: a root the master could not open is
 * served uncached.  An index found dead is rebuilt at run time
 * (cache_master_rebuild) once every attached process is stopped.
 *
 * A body file is a versioned header, the stored response head, then
 * the body, so a hit is one open and one read of the head:
 *
 *	struct cache_file_hdr | head (status line, fields, CRLF) | body
 */
#ifndef CACHE_H
#define CACHE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cache_policy.h"
#include "cache_store.h"
#include "gatewayd.h"

#define CACHE_FILE_MAGIC	0x47574331u	/* "GWC1" */
#define CACHE_FILE_VERSION	1
#define CACHE_HEAD_MAX		32768		/* a stored head, bytes */
/* Apache's CacheMaxFileSize default */
#define CACHE_MAX_FILE_SIZE	1000000ULL

/* cp_meta flags of cache.c's own (above the CP_M_* bits) */
#define CACHE_M_VARY		0x80000000u	/* a Vary marker, no body */

struct cache_file_hdr {
	uint32_t	 magic;
	uint32_t	 version;
	uint32_t	 head_len;	/* bytes of head after this header */
	uint32_t	 reserved;
	struct cp_meta	 meta;
};

struct gw_creds;
struct cache_root;

/* Master side. */
void	cache_master_open(const struct gw_config *, const struct gw_creds *,
	    int server_limit);
void	cache_master_tick(void);
void	cache_master_failchk(void);
void	cache_master_close(void);

/*
 * Run-time rebuild.  When cache_master_tick or cache_master_failchk
 * finds an index dead (a process died inside Berkeley DB, maybe holding
 * a mutex, or the environment panicked), it is panicked for every
 * process and served uncached; new workers do not join it.
 * cache_master_dead - 1 while some index waits for its rebuild.
 * cache_master_rebuild_due - 1 if one does and no rebuild happened in
 * the last CACHE_REBUILD_INTERVAL seconds: the caller stops every
 * worker (all generations) and the cache manager, then calls
 * cache_master_rebuild, which reopens (recovers, or rebuilds empty)
 * each dead index; one that cannot be reopened stays uncached.
 */
#define CACHE_REBUILD_INTERVAL	10	/* s, at least, between rebuilds */

int	cache_master_dead(void);
int	cache_master_rebuild_due(void);
void	cache_master_rebuild(void);

/*
 * The cache manager: a child of the master, forked once an index is
 * open, that joins every open index as a worker does and runs the
 * upkeep that may wait on Berkeley DB (checkpoints, lock timeouts) once
 * a second.  cache_manager_wanted - 1 if some index is open.
 * cache_manager_run - in the child, after cache_child and dropping
 * privileges: the loop, until SIGTERM (or INT, HUP, USR1) or the
 * master (pid master) is gone; then it returns (exit 0).
 */
int	cache_manager_wanted(void);
void	cache_manager_run(pid_t master, const struct gw_config *);

/*
 * cache_stats - for the status page: fn(arg, where, ok, entries, bytes)
 * for each cache in use: every CacheRoot (a walk of its index), then
 * the memory store ("memory").  ok 0: it could not be counted.
 */
void	cache_stats(void (*fn)(void *, const char *, int, uint64_t,
	    uint64_t), void *arg);

/* cache_child - in a new worker: drop the master's handles (memory). */
void	cache_child(void);

/* cache_root_of - the open root serving vhost, or NULL (uncached). */
struct cache_root *cache_root_of(const struct gw_vhost *);
/*
 * cache_root_mem - the memory store (CacheEnable mem) as a root, or
 * NULL when the master could not open it.  Its objects are a whole
 * stored response in memory; MCacheMinObjectSize/MCacheMaxObjectSize
 * bound its bodies, not CacheMinFileSize/CacheMaxFileSize.
 */
struct cache_root *cache_root_mem(void);
/*
 * cache_body_limits - the body sizes root stores: the memory store's
 * own, else the given CacheMinFileSize and CacheMaxFileSize.
 */
void	cache_body_limits(const struct cache_root *, uint64_t file_min,
	    uint64_t file_max, uint64_t *min, uint64_t *max);

/* A stored response found usable: what is needed to send it. */
struct cache_hit {
	int			 fd;		/* the body file */
	int			 fd_kept;	/* kept open: not closed */
	uint64_t		 body_off;	/* body starts here */
	uint64_t		 body_len;
	struct cp_meta		 meta;
	size_t			 head_len;
	size_t			 have;		/* body bytes in memory at
						   body (small ones whole:
						   no sendfile) */
	const char		*body;		/* in head[] after the head,
						   or the memory store's copy */
	int			 mem;		/* from the memory store */
	char			 head[CACHE_HEAD_MAX];	/* stored head */
};

/*
 * cache_lookup - the entry for name and url: 0 with hit filled (fd
 * open), or -1 (a miss; an entry whose file does not match is removed).
 */
int	cache_lookup(struct cache_root *, const char *name, const char *url,
	    struct cache_hit *);
void	cache_hit_close(struct cache_hit *);
/* cache_fd_flush - at a connection's end: close the kept body files. */
void	cache_fd_flush(void);
/* cache_invalidate - remove name's entry and its file. */
void	cache_invalidate(struct cache_root *, const char *name);

/* A response being stored while it is relayed. */
struct cache_put {
	struct cache_root	*root;
	struct cache_tmp	 tmp;
	int			 active;	/* still worth storing */
	uint64_t		 body;		/* body bytes so far */
	uint64_t		 min_body;	/* CacheMinFileSize */
	uint64_t		 max_body;	/* CacheMaxFileSize */
	int			 mem;		/* into the memory store */
	size_t			 len;		/* mem: object bytes so far */
	struct cp_meta		 meta;
	int64_t			 expires;
	char			 name[CP_HASH_LEN + 1];
	const char		*url;
};

/*
 * cache_put_begin - a temp file holding the header and head.  0, or -1
 * (p->active 0: not stored).  A body outside [min_body, max_body]
 * (defaults 0 and CACHE_MAX_FILE_SIZE; the caller may set them after)
 * is not stored.
 */
int	cache_put_begin(struct cache_put *, struct cache_root *,
	    const char *name, const char *url, const struct cp_meta *,
	    const char *head, size_t head_len);
/* cache_put_write - body bytes; past max_body the put is dropped. */
void	cache_put_write(struct cache_put *, const void *, size_t);
/* cache_put_end - complete: rename and index; else the temp goes. */
void	cache_put_end(struct cache_put *, int complete);

/*
 * CacheLock.  cache_lock - before fetching name from the origin:
 * CACHE_LOCK_HELD, this process fetches it (cache_unlock when the
 * response is stored or found not storable); CACHE_LOCK_WAIT, another
 * process is fetching it (look again shortly); CACHE_LOCK_NONE, no
 * collapsing possible (fetch).  A lock older than max_age seconds, or
 * whose holder died, is taken over.
 */
enum cache_lock_state { CACHE_LOCK_NONE, CACHE_LOCK_HELD, CACHE_LOCK_WAIT };

enum cache_lock_state cache_lock(struct cache_root *, const char *name,
	    int max_age);
/* cache_unlock - release name's lock if this process holds it. */
void	cache_unlock(const char *name);

/*
 * cache_send_file - len bytes of fd from off to socket sock with
 * sendfile(2); every call waits at most ms for progress.  *out counts
 * bytes sent.  0, or -1 (errno).
 */
int	cache_send_file(int sock, int fd, uint64_t off, uint64_t len, int ms,
	    int *snd_ms, volatile sig_atomic_t *stop,
	    unsigned long long *out);

#endif /* CACHE_H */
