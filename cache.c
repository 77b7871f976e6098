/*
 * cache.c - the disk cache's processes and files (see cache.h).
 *
 * One struct cache_root per distinct CacheRoot, in a table the master
 * fills before it forks, so every worker inherits it: the master's
 * index handle (used only by the master; a child only frees it), the
 * worker's own handle (opened on first use), and the body store.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "balancer.h"
#include "cache.h"
#include "cache_db.h"
#include "cache_mem.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#define CACHE_ROOTS_MAX	64

struct cache_root {
	char			 path[PATH_MAX];
	int			 levels, length;
	struct cache_store	 store;
	struct cache_db		*mdb;		/* the master's handle */
	pid_t			 opener;	/* who opened mdb */
	int			 master_ok;	/* mdb was alive at fork */
	struct cache_db		*wdb;		/* this worker's handle */
	int			 tried;		/* worker open attempted */
	int			 used;		/* in the current config */
	int			 dead;		/* mdb died: rebuild due */
	int			 is_mem;	/* the memory store */
};

static struct cache_root	 roots[CACHE_ROOTS_MAX];
static int			 nroots;
static struct cache_db_opts	 dbopts;

/*
 * The memory store (CacheEnable mem, cache_mem.c): one for the server,
 * opened by the master.  memroot stands for it where a root is asked
 * for; a worker copies an object into membuf to serve it and builds
 * one in putbuf to store it.
 */
static struct cache_root	 memroot = { .is_mem = 1 };
static struct cache_mem_opts	 memopts;
static int			 mem_open;	/* the master opened it */
static uint64_t			 mem_min_body, mem_max_body;
static char			*membuf, *putbuf;
static size_t			 memcap;

/*
 * CacheLock: the keys being fetched from an origin right now, in shared
 * memory made by the master before the first fork.  One slot per hash
 * of the name (a collision only means no collapsing for that key); a
 * slot is taken by compare-and-swap of its owner pid, and one whose
 * owner is gone or that is older than CacheLockMaxAge is taken over.
 */
#define CACHE_LOCKS	4096

struct cache_lock_slot {
	pid_t		 owner;		/* 0: free (atomic) */
	int		 root;		/* index in roots[] */
	int64_t		 since;
	char		 name[CP_HASH_LEN + 1];
};

static struct cache_lock_slot	*locks;

/*---------------------------------------------------------------------
 * Master
 */

static int
has_disk_rule(const struct gw_cache_rule *r)
{
	for (; r != NULL; r = r->next)
		if (r->enable && r->type == GW_CACHE_DISK)
			return 1;
	return 0;
}

static int
vhost_uses_disk(const struct gw_config *cfg, const struct gw_vhost *v)
{
	const struct gw_vhost	*vs[2] = { v, &cfg->main };
	const struct gw_dir	*d;

	for (int i = 0; i < 2; i++) {
		if (has_disk_rule(vs[i]->cache))
			return 1;
		for (d = vs[i]->dirs; d != NULL; d = d->next)
			if (has_disk_rule(d->cache))
				return 1;
	}
	return 0;
}

/* uses_mem - does any rule of cfg say CacheEnable mem? */
static int
uses_mem(const struct gw_config *cfg)
{
	const struct gw_vhost		*v;
	const struct gw_dir		*d;
	const struct gw_cache_rule	*r;

	for (v = &cfg->main; v != NULL; v = v == &cfg->main ? cfg->vhosts :
	    v->next) {
		for (r = v->cache; r != NULL; r = r->next)
			if (r->enable && r->type == GW_CACHE_MEM)
				return 1;
		for (d = v->dirs; d != NULL; d = d->next)
			for (r = d->cache; r != NULL; r = r->next)
				if (r->enable && r->type == GW_CACHE_MEM)
					return 1;
	}
	return 0;
}

/*
 * mem_master_open - the memory store for cfg (MCache*), before fork.
 * On a restart with the same settings the store and what it holds
 * stay; other settings make a new, empty one.
 */
static void
mem_master_open(const struct gw_config *cfg, const struct gw_creds *creds,
    int server_limit)
{
	struct cache_mem_opts	o;
	char			err[256];
	uint64_t		room;

	if (!uses_mem(cfg)) {
		if (mem_open)
			cache_mem_master_close();
		mem_open = 0;
		return;
	}
	memset(&o, 0, sizeof(o));
	o.size_bytes = (uint64_t)cfg->mcache_size * 1024;
	o.max_count = (uint64_t)cfg->mcache_max_object_count;
	/* the bounds are on bodies (ours); an object adds head and header */
	room = sizeof(struct cache_file_hdr) + CACHE_HEAD_MAX;
	o.min_obj = 1;
	o.max_obj = (uint64_t)cfg->mcache_max_object_size + room;
	if (o.max_obj >= o.size_bytes)
		o.max_obj = o.size_bytes - 1;
	o.gdsf = cfg->mcache_removal_gdsf;
	o.server_limit = server_limit;
	if (creds != NULL && creds->drop) {
		o.own = 1;
		o.uid = creds->uid;
		o.gid = creds->gid;
	}
	mem_min_body = (uint64_t)cfg->mcache_min_object_size;
	mem_max_body = (uint64_t)cfg->mcache_max_object_size;
	if (mem_open && memcmp(&o, &memopts, sizeof(o)) == 0 &&
	    cache_mem_alive())
		return;			/* a dead one is made anew */
	if (cache_mem_master_open(&o, err, sizeof(err)) == -1) {
		log_msg(GW_LOG_ERR, "cache: no memory store (%s); CacheEnable "
		    "mem is served uncached", err);
		mem_open = 0;
		return;
	}
	memopts = o;
	mem_open = 1;
	log_msg(GW_LOG_INFO, "cache: memory store of %llu KiB, %llu objects "
	    "at most, bodies of %llu to %llu bytes, %s", (unsigned long long)
	    cfg->mcache_size, (unsigned long long)o.max_count,
	    (unsigned long long)mem_min_body,
	    (unsigned long long)mem_max_body, o.gdsf ? "GDSF" : "LRU");
}

static struct cache_root *
find_root(const char *path)
{
	for (int i = 0; i < nroots; i++)
		if (strcmp(roots[i].path, path) == 0)
			return &roots[i];
	return NULL;
}

/* make_root - the directory, owned by the workers' user. */
static int
make_root(const char *path, const struct gw_creds *cr)
{
	struct stat	st;

	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		log_errno(GW_LOG_ERR, "cache: cannot create CacheRoot %s",
		    path);
		return -1;
	}
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_msg(GW_LOG_ERR, "cache: CacheRoot %s is not a directory",
		    path);
		return -1;
	}
	if (cr != NULL && cr->drop && (st.st_uid != cr->uid ||
	    st.st_gid != cr->gid) && chown(path, cr->uid, cr->gid) == -1) {
		log_errno(GW_LOG_ERR, "cache: cannot chown CacheRoot %s",
		    path);
		return -1;
	}
	return 0;
}

static void
open_root(struct cache_root *cr, const struct gw_creds *creds)
{
	char	err[512];

	if (make_root(cr->path, creds) == -1)
		goto uncached;
	if (cache_store_init(&cr->store, cr->path, cr->levels, cr->length) ==
	    -1) {
		log_msg(GW_LOG_ERR, "cache: CacheRoot %s cannot be used with "
		    "CacheDirLevels %d and CacheDirLength %d", cr->path,
		    cr->levels, cr->length);
		goto uncached;
	}
	err[0] = '\0';
	if ((cr->mdb = cache_db_master_open(cr->path, &dbopts, err,
	    sizeof(err))) == NULL) {
		log_msg(GW_LOG_ERR, "cache: cannot open the index under %s: "
		    "%s", cr->path, err[0] != '\0' ? err : "unknown error");
		goto uncached;
	}
	cr->opener = getpid();
	cr->master_ok = 1;
	log_msg(GW_LOG_INFO, "cache: disk cache under %s (%s)", cr->path,
	    cache_db_version());
	return;
uncached:
	log_msg(GW_LOG_ERR, "cache: serving uncached for CacheRoot %s",
	    cr->path);
	cr->master_ok = 0;
}

/* close_root - failchk first: a dead one is panicked, closed quietly */
static void
close_root(struct cache_root *cr)
{
	if (cr->master_ok)
		(void)cache_db_watch(cr->mdb, NULL);
	cache_db_close(cr->mdb);
	cr->mdb = NULL;
	cr->master_ok = 0;
	cr->dead = 0;
}

/*
 * cache_master_open - for each distinct CacheRoot used by a CacheEnable
 * disk rule.  On a restart, roots still in use keep their open index
 * (old workers may still be attached, so it is not reopened); roots no
 * longer used are closed; new ones are opened.
 */
void
cache_master_open(const struct gw_config *cfg, const struct gw_creds *creds,
    int server_limit)
{
	const struct gw_vhost	*v;
	struct cache_root	*cr;
	int			 i, j;

	if (locks == NULL) {
		locks = mmap(NULL, CACHE_LOCKS * sizeof(*locks), PROT_READ |
		    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (locks == MAP_FAILED) {
			log_errno(GW_LOG_WARN, "cache: no shared memory for "
			    "CacheLock; concurrent misses are not collapsed");
			locks = NULL;
		}
	}
	memset(&dbopts, 0, sizeof(dbopts));
	dbopts.server_limit = server_limit;
	if (creds != NULL && creds->drop) {
		dbopts.own = 1;
		dbopts.uid = creds->uid;
		dbopts.gid = creds->gid;
	}
	for (i = 0; i < nroots; i++)
		roots[i].used = 0;
	for (v = &cfg->main; v != NULL; v = v == &cfg->main ? cfg->vhosts :
	    v->next) {
		if (v->cache_root == NULL || !vhost_uses_disk(cfg, v))
			continue;
		if ((cr = find_root(v->cache_root)) != NULL) {
			cr->used = 1;
			continue;
		}
		if (nroots == CACHE_ROOTS_MAX) {
			log_msg(GW_LOG_ERR, "cache: more than %d CacheRoots, "
			    "%s served uncached", CACHE_ROOTS_MAX,
			    v->cache_root);
			continue;
		}
		cr = &roots[nroots++];
		memset(cr, 0, sizeof(*cr));
		(void)snprintf(cr->path, sizeof(cr->path), "%s",
		    v->cache_root);
		cr->levels = v->cache_dir_levels > 0 ? v->cache_dir_levels :
		    2;
		cr->length = v->cache_dir_length > 0 ? v->cache_dir_length :
		    2;
		cr->used = 1;
		open_root(cr, creds);
	}
	mem_master_open(cfg, creds, server_limit);
	/* the roots no longer configured */
	for (i = j = 0; i < nroots; i++) {
		if (!roots[i].used) {
			close_root(&roots[i]);
			continue;
		}
		if (i != j)
			roots[j] = roots[i];
		j++;
	}
	nroots = j;
}

/*
 * root_died - mdb needs recovery.  The panic is set (cache_db_watch):
 * every attached process's next index call fails at once, and those
 * already waiting on what the dead one held wait for good.  New workers
 * do not join (master_ok 0); the master stops every worker and the
 * cache manager, then rebuilds (cache_master_rebuild).
 */
static void
root_died(struct cache_root *cr)
{
	log_msg(GW_LOG_ERR, "cache: the index under %s is dead (a process "
	    "died inside Berkeley DB, or the environment panicked); serving "
	    "it uncached until it is rebuilt, which stops every worker and "
	    "the cache manager", cr->path);
	cr->master_ok = 0;
	cr->dead = 1;
}

/* watch_root - failchk of one open root; why: logged even if all is well */
static void
watch_root(struct cache_root *cr, const char *why)
{
	enum cache_db_status	 st;
	int			 found = 0;

	st = cache_db_watch(cr->mdb, &found);
	if (st == CACHE_DB_OK) {
		if (why != NULL || found > 0)
			log_msg(GW_LOG_NOTICE, "cache: failchk of %s%s%s: "
			    "ok%s", cr->path, why != NULL ? " " : "",
			    why != NULL ? why : "", found > 0 ? ", aborted "
			    "the transaction(s) of dead processes" : "");
		return;
	}
	log_msg(GW_LOG_ERR, "cache: failchk of %s%s%s: %s", cr->path,
	    why != NULL ? " " : "", why != NULL ? why : "",
	    cache_db_status_name(st));
	root_died(cr);
}

/*
 * cache_master_tick - once a second: failchk of every open index, so
 * that a dead process that is not a child (gwcacheclean) or a dead
 * cache manager is noticed too.  failchk walks the thread table and
 * asks kill(pid, 0) for the processes in it; it never waits on what a
 * process that died inside Berkeley DB held (see cache_db_watch).  The
 * checkpoints are the cache manager's: they may wait.
 */
void
cache_master_tick(void)
{
	for (int i = 0; i < nroots; i++)
		if (roots[i].master_ok)
			watch_root(&roots[i], NULL);
	if (mem_open)
		cache_mem_master_tick();
}

/* cache_master_failchk - after an abnormal child exit was reaped. */
void
cache_master_failchk(void)
{
	for (int i = 0; i < nroots; i++)
		if (roots[i].master_ok)
			watch_root(&roots[i], "after an abnormal child exit");
	if (mem_open)
		cache_mem_master_failchk();
}

static long long	rebuilt_at;	/* mono_ms of the last rebuild, 0 */

int
cache_master_dead(void)
{
	for (int i = 0; i < nroots; i++)
		if (roots[i].dead)
			return 1;
	return 0;
}

int
cache_master_rebuild_due(void)
{
	if (!cache_master_dead())
		return 0;
	return rebuilt_at == 0 ||
	    gw_mono_ms() - rebuilt_at >= CACHE_REBUILD_INTERVAL * 1000LL;
}

/*
 * cache_master_rebuild - every worker and the cache manager are gone:
 * close each dead index (panicked: nothing is written) and open it
 * again, which recovers it, or sets it aside and builds an empty one.
 * If that fails the root stays uncached until a full restart.
 */
void
cache_master_rebuild(void)
{
	struct cache_root	*cr;
	char			 err[512];

	for (int i = 0; i < nroots; i++) {
		cr = &roots[i];
		if (!cr->dead)
			continue;
		cr->dead = 0;
		cache_db_close(cr->mdb);
		cr->mdb = NULL;
		err[0] = '\0';
		if ((cr->mdb = cache_db_master_open(cr->path, &dbopts, err,
		    sizeof(err))) == NULL) {
			log_msg(GW_LOG_ERR, "cache: rebuilding the index under "
			    "%s failed: %s; serving it uncached", cr->path,
			    err[0] != '\0' ? err : "unknown error");
			cr->master_ok = 0;
			continue;
		}
		cr->opener = getpid();
		cr->master_ok = 1;
		log_msg(GW_LOG_NOTICE, "cache: the index under %s is open "
		    "again after a rebuild at run time", cr->path);
	}
	rebuilt_at = gw_mono_ms();
	if (rebuilt_at == 0)
		rebuilt_at = 1;
}

void
cache_master_close(void)
{
	for (int i = 0; i < nroots; i++) {
		cache_db_close(roots[i].wdb);
		roots[i].wdb = NULL;
		close_root(&roots[i]);
	}
	nroots = 0;
	if (mem_open)
		cache_mem_master_close();
	mem_open = 0;
}

/*---------------------------------------------------------------------
 * Master: the cache manager, a child
 */

static volatile sig_atomic_t	mgr_stop;

static void
mgr_signal(int sig)
{
	(void)sig;
	mgr_stop = 1;
}

int
cache_manager_wanted(void)
{
	for (int i = 0; i < nroots; i++)
		if (roots[i].master_ok)
			return 1;
	return 0;
}

static void
mgr_signals(void)
{
	static const int	 stop[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction	 sa;
	sigset_t		 none;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_handler = mgr_signal;	/* no SA_RESTART: poll is cut */
	for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		(void)sigaction(stop[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

#define MGR_REJOIN	10	/* s between attempts to join an index */

/*
 * cache_manager_run - the cache manager's loop, in a child after
 * cache_child: join each open index as a worker does, then once a
 * second cache_db_tick each (checkpoint, lock timeouts), until SIGTERM
 * or the master is gone.  A dead index is left alone: the master
 * rebuilds it, stopping this process first.  The balancers' active
 * health checks run here too (balancer_hc_tick), between ticks.
 */
void
cache_manager_run(pid_t master, const struct gw_config *cfg)
{
	struct cache_db	*h[CACHE_ROOTS_MAX];
	long long	 next[CACHE_ROOTS_MAX];
	long long	 now;
	int		 i, wait_ms;

	mgr_signals();
	memset(h, 0, sizeof(h));
	memset(next, 0, sizeof(next));
	log_msg(GW_LOG_INFO, "cache: cache manager pid %ld started",
	    (long)getpid());
	while (!mgr_stop && getppid() == master) {
		now = gw_mono_ms();
		for (i = 0; i < nroots && !mgr_stop; i++) {
			if (!roots[i].master_ok)
				continue;
			if (h[i] == NULL && now >= next[i]) {
				h[i] = cache_db_worker_open(roots[i].path,
				    &dbopts);
				next[i] = now + MGR_REJOIN * 1000LL;
			}
			if (h[i] != NULL)
				(void)cache_db_tick(h[i]);
		}
		/* the balancers' health checks that are due, if any */
		wait_ms = balancer_hc_wanted(cfg) ?
		    balancer_hc_tick(cfg, &mgr_stop) : 1000;
		if (!mgr_stop && wait_ms > 0)
			(void)poll(NULL, 0, wait_ms < 1000 ? wait_ms : 1000);
	}
	for (i = 0; i < nroots; i++)
		cache_db_close(h[i]);
	log_msg(GW_LOG_DEBUG, "cache: cache manager pid %ld exiting (%s)",
	    (long)getpid(), mgr_stop ? "signal" : "master gone");
}

/*---------------------------------------------------------------------
 * Worker
 */

void
cache_child(void)
{
	for (int i = 0; i < nroots; i++) {
		if (roots[i].opener != cache_db_self()) {
			cache_db_close(roots[i].mdb);	/* forgets it */
			roots[i].mdb = NULL;
		}
		roots[i].wdb = NULL;
		roots[i].tried = 0;
	}
	cache_mem_child();
}

static struct cache_db *
root_db(struct cache_root *cr)
{
	if (!cr->master_ok)
		return NULL;
	if (cr->opener == cache_db_self())
		return cr->mdb;		/* -X: the opener serves itself */
	if (!cr->tried) {
		cr->tried = 1;
		cr->wdb = cache_db_worker_open(cr->path, &dbopts);
	}
	return cache_db_alive(cr->wdb) ? cr->wdb : NULL;
}

void
cache_stats(void (*fn)(void *, const char *, int, uint64_t, uint64_t),
    void *arg)
{
	struct cache_db_stats	 st;
	struct cache_db		*db;
	uint64_t		 n, b;
	int			 ok;

	for (int i = 0; i < nroots; i++) {
		if (!roots[i].used || roots[i].is_mem)
			continue;
		db = root_db(&roots[i]);
		ok = db != NULL && cache_db_stats(db, &st) == CACHE_DB_OK;
		fn(arg, roots[i].path, ok, ok ? st.entries : 0,
		    ok ? st.bytes : 0);
	}
	if (mem_open) {
		ok = cache_mem_stats(&n, &b) == 0;
		fn(arg, "memory", ok, ok ? n : 0, ok ? b : 0);
	}
}

struct cache_root *
cache_root_mem(void)
{
	if (!mem_open)
		return NULL;
	if (membuf == NULL) {
		memcap = sizeof(struct cache_file_hdr) + CACHE_HEAD_MAX +
		    mem_max_body;
		if ((membuf = malloc(memcap)) == NULL ||
		    (putbuf = malloc(memcap)) == NULL) {
			log_errno(GW_LOG_ERR, "cache: memory store buffers");
			free(membuf);
			membuf = NULL;
			return NULL;
		}
	}
	return &memroot;
}

void
cache_body_limits(const struct cache_root *cr, uint64_t file_min,
    uint64_t file_max, uint64_t *min, uint64_t *max)
{
	*min = cr != NULL && cr->is_mem ? mem_min_body : file_min;
	*max = cr != NULL && cr->is_mem ? mem_max_body : file_max;
}

struct cache_root *
cache_root_of(const struct gw_vhost *v)
{
	struct cache_root *cr;

	if (v->cache_root == NULL || (cr = find_root(v->cache_root)) == NULL ||
	    root_db(cr) == NULL)
		return NULL;
	return cr;
}

/*---------------------------------------------------------------------
 * Entries
 */

/*
 * Body files kept open for the rest of a connection (cache_fd_flush
 * at its end closes them), so that repeated hits on a keep-alive
 * connection skip open, fstat and close.  One slot per hash of the name.
 * A kept fd is used only while the index still names the same inode
 * and size: the fd holds the inode, which no other file can then get,
 * so a match means the same file.  An unlinked file lives on no longer
 * than the connection that holds it.
 */
#define FDC_SLOTS	64

static struct fdc {
	struct cache_root	*cr;
	uint64_t		 ino, size;
	int			 fd;
	int			 kept;		/* fd is open */
	char			 name[CP_HASH_LEN + 1];
} fdc[FDC_SLOTS];
static int	fdc_used;	/* any slot taken since the last flush */

static struct fdc *
fdc_slot(const char *name)
{
	uint32_t	h = 2166136261u;

	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &fdc[h % FDC_SLOTS];
}

static int
fdc_get(struct cache_root *cr, const char *name, const struct cache_rec *rec)
{
	struct fdc	*f = fdc_slot(name);

	if (!f->kept || f->cr != cr || strcmp(f->name, name) != 0)
		return -1;
	if (f->ino != rec->inode || f->size != rec->size) {
		(void)close(f->fd);	/* replaced meanwhile */
		f->kept = 0;
		return -1;
	}
	return f->fd;
}

/* fdc_put - keep fd in name's slot: 1, or 0 (not kept: close it). */
static int
fdc_put(struct cache_root *cr, const char *name, const struct cache_rec *rec,
    int fd)
{
	struct fdc	*f = fdc_slot(name);

	if (strlen(name) >= sizeof(f->name))
		return 0;
	if (f->kept)
		(void)close(f->fd);
	f->kept = 1;
	f->cr = cr;
	f->ino = rec->inode;
	f->size = rec->size;
	f->fd = fd;
	(void)snprintf(f->name, sizeof(f->name), "%s", name);
	fdc_used = 1;
	return 1;
}

static void
fdc_drop(struct cache_root *cr, const char *name)
{
	struct fdc	*f = fdc_slot(name);

	if (f->kept && f->cr == cr && strcmp(f->name, name) == 0) {
		(void)close(f->fd);
		f->kept = 0;
	}
}

void
cache_fd_flush(void)
{
	if (!fdc_used)
		return;
	for (int i = 0; i < FDC_SLOTS; i++)
		if (fdc[i].kept) {
			(void)close(fdc[i].fd);
			fdc[i].kept = 0;
		}
	fdc_used = 0;
}

/* mem_lookup - the memory store's copy of name into membuf; 0 or -1. */
static int
mem_lookup(const char *name, const char *url, struct cache_hit *h)
{
	struct cache_file_hdr	fh;
	ssize_t			n;

	if (membuf == NULL ||
	    (n = cache_mem_get(name, url, membuf, memcap)) < 0)
		return -1;
	if ((size_t)n < sizeof(fh))
		goto bad;
	memcpy(&fh, membuf, sizeof(fh));
	if (fh.magic != CACHE_FILE_MAGIC || fh.version != CACHE_FILE_VERSION ||
	    fh.head_len == 0 || fh.head_len > sizeof(h->head) ||
	    (size_t)n < sizeof(fh) + fh.head_len)
		goto bad;
	memcpy(h->head, membuf + sizeof(fh), fh.head_len);
	h->meta = fh.meta;
	h->head_len = fh.head_len;
	h->body_off = sizeof(fh) + fh.head_len;
	h->body_len = (uint64_t)n - h->body_off;
	h->body = membuf + h->body_off;
	h->have = (size_t)h->body_len;
	h->mem = 1;
	return 0;
bad:
	log_msg(GW_LOG_WARN, "cache: a damaged object in the memory store "
	    "for %s, removed", url);
	(void)cache_mem_del(name);
	return -1;
}

int
cache_lookup(struct cache_root *cr, const char *name, const char *url,
    struct cache_hit *h)
{
	struct cache_file_hdr	 fh;
	struct cache_rec	 rec;
	struct iovec		 iov[2];
	ssize_t			 n;

	h->fd = -1;
	h->fd_kept = 0;
	h->mem = 0;
	if (cr->is_mem)
		return mem_lookup(name, url, h);
	if (cache_db_get(root_db(cr), name, url, &rec) != CACHE_DB_OK)
		return -1;
	if ((h->fd = fdc_get(cr, name, &rec)) != -1)
		h->fd_kept = 1;
	else if ((h->fd = cache_store_open(&cr->store, name, rec.size,
	    (ino_t)rec.inode)) == -1) {
		(void)cache_db_del(root_db(cr), name);
		return -1;
	} else
		h->fd_kept = fdc_put(cr, name, &rec, h->fd);
	iov[0].iov_base = &fh;
	iov[0].iov_len = sizeof(fh);
	iov[1].iov_base = h->head;
	iov[1].iov_len = sizeof(h->head);
	n = preadv(h->fd, iov, 2, 0);
	/* shorter than the index says (and than asked): damaged */
	if (n < (ssize_t)sizeof(fh) || fh.magic != CACHE_FILE_MAGIC ||
	    fh.version != CACHE_FILE_VERSION || fh.head_len == 0 ||
	    fh.head_len > sizeof(h->head) || (size_t)n < sizeof(fh) +
	    fh.head_len || rec.size < sizeof(fh) + fh.head_len ||
	    ((uint64_t)n < rec.size && (size_t)n < sizeof(fh) +
	    sizeof(h->head))) {
		log_msg(GW_LOG_WARN, "cache: damaged body file for %s, "
		    "removed", url);
		cache_hit_close(h);
		cache_invalidate(cr, name);
		return -1;
	}
	h->meta = fh.meta;
	h->head_len = fh.head_len;
	h->body_off = sizeof(fh) + fh.head_len;
	h->body_len = rec.size - h->body_off;
	h->have = (size_t)n - h->body_off;
	if (h->have > h->body_len)
		h->have = (size_t)h->body_len;
	h->body = h->head + h->head_len;
	(void)cache_db_touch(root_db(cr), name, time(NULL));
	return 0;
}

void
cache_hit_close(struct cache_hit *h)
{
	if (h->fd != -1 && !h->fd_kept)
		(void)close(h->fd);
	h->fd = -1;
	h->fd_kept = 0;
}

void
cache_invalidate(struct cache_root *cr, const char *name)
{
	if (cr->is_mem) {
		(void)cache_mem_del(name);
		return;
	}
	fdc_drop(cr, name);
	(void)cache_db_del(root_db(cr), name);
	(void)cache_store_remove(&cr->store, name);
}

int
cache_put_begin(struct cache_put *p, struct cache_root *cr, const char *name,
    const char *url, const struct cp_meta *m, const char *head,
    size_t head_len)
{
	struct cache_file_hdr	fh;

	memset(p, 0, sizeof(*p));
	p->tmp.fd = -1;
	if (cr->is_mem) {
		/* the object is built in putbuf, stored whole at the end */
		if (putbuf == NULL || head_len == 0 || head_len >
		    CACHE_HEAD_MAX)
			return -1;
		memset(&fh, 0, sizeof(fh));
		fh.magic = CACHE_FILE_MAGIC;
		fh.version = CACHE_FILE_VERSION;
		fh.head_len = (uint32_t)head_len;
		fh.meta = *m;
		memcpy(putbuf, &fh, sizeof(fh));
		memcpy(putbuf + sizeof(fh), head, head_len);
		p->len = sizeof(fh) + head_len;
		p->mem = 1;
		p->root = cr;
		p->min_body = mem_min_body;
		p->max_body = mem_max_body;
		p->meta = *m;
		p->url = url;
		(void)snprintf(p->name, sizeof(p->name), "%s", name);
		p->active = 1;
		return 0;
	}
	if (head_len == 0 || head_len > CACHE_HEAD_MAX ||
	    cache_store_begin(&cr->store, &p->tmp) == -1) {
		if (head_len <= CACHE_HEAD_MAX)
			log_errno(GW_LOG_WARN, "cache: cannot begin a body "
			    "file under %s", cr->path);
		cache_store_abort(&p->tmp);
		return -1;
	}
	memset(&fh, 0, sizeof(fh));
	fh.magic = CACHE_FILE_MAGIC;
	fh.version = CACHE_FILE_VERSION;
	fh.head_len = (uint32_t)head_len;
	fh.meta = *m;
	if (cache_store_write(&p->tmp, &fh, sizeof(fh)) == -1 ||
	    cache_store_write(&p->tmp, head, head_len) == -1) {
		log_errno(GW_LOG_WARN, "cache: cannot write a body file");
		cache_store_abort(&p->tmp);
		return -1;
	}
	p->root = cr;
	p->max_body = CACHE_MAX_FILE_SIZE;
	p->meta = *m;
	p->url = url;
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	p->active = 1;
	return 0;
}

void
cache_put_write(struct cache_put *p, const void *data, size_t n)
{
	if (!p->active)
		return;
	p->body += n;
	if (p->mem) {
		if (p->body > p->max_body || n > memcap - p->len)
			p->active = 0;
		else {
			memcpy(putbuf + p->len, data, n);
			p->len += n;
		}
		return;
	}
	if (p->body > p->max_body ||
	    cache_store_write(&p->tmp, data, n) == -1) {
		cache_store_abort(&p->tmp);
		p->active = 0;
	}
}

void
cache_put_end(struct cache_put *p, int complete)
{
	struct cache_rec	rec;
	ino_t			ino;
	int64_t			exp;

	if (!p->active)
		return;
	p->active = 0;
	if (!complete || p->body < p->min_body) {
		cache_store_abort(&p->tmp);
		return;
	}
	exp = p->meta.response_time + p->meta.lifetime - p->meta.age_value;
	if (p->mem) {
		if (cache_mem_put(p->name, p->url, putbuf, p->len,
		    exp > 0 ? (time_t)exp : 0) == -1)
			log_msg(GW_LOG_DEBUG, "cache: the memory store did "
			    "not take %s", p->url);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.size = p->tmp.size;
	if (cache_store_commit(&p->root->store, &p->tmp, p->name, &ino) ==
	    -1) {
		log_errno(GW_LOG_WARN, "cache: cannot store the body of %s",
		    p->url);
		return;
	}
	rec.stored = time(NULL);
	rec.expires = exp > 0 ? (time_t)exp : 0;
	rec.inode = (uint64_t)ino;
	rec.status = (uint32_t)p->meta.status;
	if (cache_db_put(root_db(p->root), p->name, p->url, &rec) !=
	    CACHE_DB_OK)
		(void)cache_store_remove(&p->root->store, p->name);
}

/*---------------------------------------------------------------------
 * CacheLock: one origin fetch for concurrent misses
 */

static struct cache_lock_slot *
lock_slot(const char *name)
{
	uint32_t	h = 2166136261u;

	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &locks[h % CACHE_LOCKS];
}

enum cache_lock_state
cache_lock(struct cache_root *cr, const char *name, int max_age)
{
	struct cache_lock_slot	*sl;
	pid_t			 owner, me = cache_db_self();
	int64_t			 now = (int64_t)time(NULL);
	int			 root = cr->is_mem ? CACHE_ROOTS_MAX :
				    (int)(cr - roots);

	if (locks == NULL)
		return CACHE_LOCK_NONE;
	sl = lock_slot(name);
	owner = __atomic_load_n(&sl->owner, __ATOMIC_ACQUIRE);
	if (owner != 0 && owner != me) {
		if (now - sl->since < max_age && (kill(owner, 0) == 0 ||
		    errno != ESRCH))
			return sl->root == root && strcmp(sl->name, name) == 0 ?
			    CACHE_LOCK_WAIT : CACHE_LOCK_NONE;
		/* its fetcher died or took too long: take it over */
	}
	if (!__atomic_compare_exchange_n(&sl->owner, &owner, me, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return CACHE_LOCK_NONE;		/* lost a race: fetch too */
	sl->root = root;
	sl->since = now;
	(void)snprintf(sl->name, sizeof(sl->name), "%s", name);
	return CACHE_LOCK_HELD;
}

void
cache_unlock(const char *name)
{
	struct cache_lock_slot	*sl;
	pid_t			 me = cache_db_self();

	if (locks == NULL)
		return;
	sl = lock_slot(name);
	if (__atomic_load_n(&sl->owner, __ATOMIC_ACQUIRE) == me &&
	    strcmp(sl->name, name) == 0)
		__atomic_store_n(&sl->owner, 0, __ATOMIC_RELEASE);
}

/*---------------------------------------------------------------------
 * Sending a body file
 */

int
cache_send_file(int sock, int fd, uint64_t off, uint64_t len, int ms,
    int *snd_ms, volatile sig_atomic_t *stop, unsigned long long *out)
{
	struct timeval	tv;
	off_t		o = (off_t)off;
	ssize_t		n;
	size_t		chunk;

	if (ms < 1)
		ms = 1;
	if (*snd_ms != ms) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		if (setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv)) == -1)
			return -1;
		*snd_ms = ms;
	}
	while (len > 0) {
		chunk = len > (1U << 30) ? (1U << 30) : (size_t)len;
		n = sendfile(sock, fd, &o, chunk);
		if (n > 0) {
			len -= (uint64_t)n;
			*out += (unsigned long long)n;
			continue;
		}
		if (n == 0) {
			errno = EIO;	/* the file is shorter than said */
			return -1;
		}
		if (errno == EINTR && (stop == NULL || !*stop))
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			errno = ETIMEDOUT;	/* no progress within ms */
		return -1;
	}
	return 0;
}
