/*
 * cache_mem.c - the memory store (see cache_mem.h): named in-memory
 * Berkeley DB databases in a transactional environment of their own,
 * made fresh by the master at every start and joined by each worker.
 * As notes/bdb-multiprocess.md prescribes: file-backed regions, failchk
 * through an isalive callback; the log is kept in memory
 * (DB_LOG_IN_MEMORY, in the shared log region), so that failchk can
 * abort the transaction of a process killed between two calls
 * (DB_TXN_NOT_DURABLE keeps undo records in the writer's own heap, and
 * failchk of such a transaction answers DB_RUNRECOVERY).
 *
 * No process ever waits for a lock: every transaction is DB_TXN_NOWAIT,
 * and a writer that meets a conflict aborts, backs off (at most ~6 ms in
 * all) and tries again.  A process killed while blocked in a lock wait
 * leaves itself registered on its locker's condition variable; failchk
 * then frees that lock, and __mutex_refresh's pthread_cond_destroy waits
 * for the dead waiter for ever (glibc >= 2.25): the master would hang.
 * Without lock waits there are no deadlocks and no lock timeouts either.
 *
 * Databases (btree, all in memory: DB_MPOOL_NOFILE, capped by
 * DB_MPOOLFILE->set_maxsize after open):
 *   mem.meta    hash name -> meta record (48 bytes, below)
 *   mem.body    hash name -> u32 URL length, u32 object length, URL,
 *               object (no NUL)
 *   mem.expiry  8-byte big-endian expiry -> name (sorted duplicates;
 *               objects that never expire are not in it)
 *   mem.order   8-byte big-endian eviction key -> name: the last use
 *               (LRU) or the GDSF priority
 *   mem.totals  "totals" -> u64 objects, u64 bytes
 * Every change is a transaction that write-locks mem.totals first, so
 * writers meet there before they have done anything (a conflict costs
 * little), and the totals are exact, even after failchk aborts a dead
 * writer's transaction.
 *
 * Meta record, version 1, big-endian:
 *    0 u32 version   4 u32 0        8 i64 expires   16 i64 last use
 *   24 u64 bytes (object + URL)    32 u64 frequency 40 u64 priority
 *
 * GDSF (Cao and Irani; Apache 2.2's mod_mem_cache): priority H = L +
 * frequency * 2^20 / bytes, evict the lowest H, then L = that H.  L is
 * in shared memory (an aborted eviction may leave it a little ahead:
 * harmless).  Hits are counted in shared memory (counters by name
 * hash; a collision only blurs the counts) and folded into the record
 * with the next update of the last use.
 *
 * Shared memory (made by the master before fork): the dead flag, L,
 * the hit counters, and one slot per process {pid, start time, in a
 * call since}, with which the master finds a process stuck for good
 * (on a mutex a process that died inside Berkeley DB held) and kills
 * it.
 *
 * Not here: HTTP, the object format (cache.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bdb_util.h"
#include "cache_db.h"
#include "cache_mem.h"
#include "log.h"

#define SHM_MAGIC	0x474d454du	/* "GMEM" */
#define META_VERSION	1u
#define META_LEN	48
#define OFF_EXPIRES	8
#define OFF_ATIME	16
#define OFF_BYTES	24
#define OFF_FREQ	32
#define OFF_PRI		40
#define BODY_HDR	8		/* u32 URL length, u32 object length */
#define TOTALS_KEY	"totals"
#define TOTALS_LEN	16
#define NAME_MAX_LEN	CACHE_DB_NAME_MAX
#define PSZ_SMALL	1024		/* meta, secondaries, totals */
#define PSZ_BODY	1024		/* objects, while max_obj <= ... */
#define PSZ_BODY_BIG	4096		/* ... this, else these pages */
#define BIG_OBJ		(64 * 1024)
#define OVFL_HDR	26		/* an overflow page's header */
#define DEF_SERVERS	256
#define EVICT_PER_TXN	64		/* evictions in one transaction */
#define PUT_ROUNDS	16		/* transactions for one put */
#define SQUEEZE		16		/* evicted when Berkeley DB is full */
#define GDSF_SHIFT	20
#define FREQ_MAX	(1ULL << 24)
#define FUTURE_SLACK	60		/* s: a last use further ahead: reset */
#define HITS_MIN	4096
#define HITS_MAX	65536
#define JOIN_RETRY	5		/* s before a busy join is retried */
#define ERR_WINDOW	60		/* s: error log rate limit window */
#define ERR_BURST	10
#define ABANDONED_MAX	16
#define NOCHANGE	(-30000)	/* an op's "abort, all is well" */
#define PROGRESS	(-30001)	/* an op's "commit, then again" */

#define ENV_FLAGS	(DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG | \
			    DB_INIT_TXN)

static const char *const db_names[] = {
	"mem.meta", "mem.body", "mem.expiry", "mem.order", "mem.totals"
};

enum mstat { M_OK, M_PROGRESS, M_MISS, M_BUSY, M_FULL, M_ERROR, M_DEAD };

/* One process's handles on the environment. */
struct mem_h {
	pid_t		 pid;		/* who opened them */
	int		 master;
	int		 dead;		/* said once, then quiet */
	int		 watching;	/* in failchk: routine messages */
	int		 found;		/* dead transactions it aborted */
	DB_ENV		*env;
	DB		*meta, *body, *expiry, *order, *totals;
};

struct mem_slot {
	pid_t		 pid;		/* 0: free (compare-and-swap) */
	int		 pad;
	uint64_t	 start;		/* /proc start time, to match pid */
	int64_t		 since;		/* monotonic s + 1 in a call, or 0 */
};

struct mem_shm {
	uint32_t	 magic;
	int		 dead;		/* the store is dead, for everyone */
	uint64_t	 gdsf_l;	/* GDSF's L */
	uint32_t	 nslots, nhits;
	struct mem_slot	 slots[];	/* then uint32_t hits[nhits] */
};

/* The store as the master opened it; children inherit it. */
static struct {
	int		 open;
	pid_t		 opener;
	int		 temp_home;	/* made by mkdtemp: removed at close */
	uint64_t	 size, count, min_obj, max_obj;
	int		 gdsf;
	int		 servers;
	int		 own;
	uid_t		 uid;
	gid_t		 gid;
	u_int32_t	 body_psz;
	uint64_t	 cap[5];	/* per database, bytes */
	uint64_t	 cachesize, lg_bsize, lg_max;
	char		 home[PATH_MAX];
} conf;

static struct mem_h	 mh;		/* the master's */
static struct mem_h	 wh;		/* this child's */
static struct mem_h	 orphan;	/* a parent's, inherited: kept */
static pid_t		 join_tried;	/* pid that tried to join */
static int64_t		 join_again;	/* mono() when it may try again */
static struct mem_shm	*shm;
static size_t		 shm_len;
static uint32_t		*hits;
static int		 my_slot = -1;
static pid_t		 my_slot_pid;
static unsigned char	*putbuf;	/* a body record being put */
static size_t		 putbuf_len;
static time_t		 err_time;	/* start of the log window */
static unsigned		 err_count;
static DB_ENV		*abandoned[ABANDONED_MAX];	/* see close_h */
static int		 nabandoned;

static struct cache_mem_test	 test = { NULL, NULL, CACHE_MEM_STUCK_SECS,
				    0, 0 };

static void	 mem_log(enum gw_loglevel, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*--------------------------------------------------------------------
 * Encoding
 */

struct meta {
	uint64_t	 expires, atime, bytes, freq, pri;
};

static void
meta_encode(unsigned char *p, const struct meta *m)
{
	memset(p, 0, META_LEN);
	enc32(p, META_VERSION);
	enc64(p + OFF_EXPIRES, m->expires);
	enc64(p + OFF_ATIME, m->atime);
	enc64(p + OFF_BYTES, m->bytes);
	enc64(p + OFF_FREQ, m->freq);
	enc64(p + OFF_PRI, m->pri);
}

static int
meta_decode(const unsigned char *p, size_t len, struct meta *m)
{
	if (len != META_LEN || dec32(p) != META_VERSION)
		return -1;
	m->expires = dec64(p + OFF_EXPIRES);
	m->atime = dec64(p + OFF_ATIME);
	m->bytes = dec64(p + OFF_BYTES);
	m->freq = dec64(p + OFF_FREQ);
	m->pri = dec64(p + OFF_PRI);
	return 0;
}

/* gdsf_pri - L + frequency / bytes, scaled, saturating. */
static uint64_t
gdsf_pri(uint64_t l, uint64_t freq, uint64_t bytes)
{
	uint64_t	 inc;

	if (freq > FREQ_MAX)
		freq = FREQ_MAX;
	inc = (freq << GDSF_SHIFT) / (bytes > 0 ? bytes : 1);
	return l > UINT64_MAX - inc ? UINT64_MAX : l + inc;
}

/* Secondary keys: the stored big-endian field itself. */
static int
sec_key(const DBT *pd, DBT *sk, size_t off)
{
	if (test.hook != NULL)
		test.hook("seckey");
	if (pd->size != META_LEN)
		return DB_DONOTINDEX;
	memset(sk, 0, sizeof(*sk));
	sk->data = (unsigned char *)pd->data + off;
	sk->size = 8;
	return 0;
}

static int
expiry_key(DB *sec, const DBT *pk, const DBT *pd, DBT *sk)
{
	(void)sec;
	(void)pk;
	if (pd->size == META_LEN &&
	    dec64((unsigned char *)pd->data + OFF_EXPIRES) == 0)
		return DB_DONOTINDEX;
	return sec_key(pd, sk, OFF_EXPIRES);
}

static int
order_key(DB *sec, const DBT *pk, const DBT *pd, DBT *sk)
{
	(void)sec;
	(void)pk;
	return sec_key(pd, sk, conf.gdsf ? OFF_PRI : OFF_ATIME);
}

static void
dbt_set(DBT *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)(uintptr_t)data;
	d->size = (u_int32_t)len;
}

/* key_set - k = name, if name is a plausible hash name. */
static int
key_set(DBT *k, const char *name)
{
	size_t	 len;

	if (name == NULL || (len = strlen(name)) == 0 || len > NAME_MAX_LEN)
		return -1;
	dbt_set(k, name, len);
	return 0;
}

static time_t
now(void)
{
	return test.now != NULL ? test.now() : time(NULL);
}

static int64_t
mono(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == -1 &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec;
}

/*--------------------------------------------------------------------
 * Logging, errors
 */

static void
mem_log(enum gw_loglevel level, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;
	time_t	 t;

	if (level <= GW_LOG_ERR) {
		t = time(NULL);
		if (t - err_time >= ERR_WINDOW) {
			if (err_count > ERR_BURST)
				log_msg(GW_LOG_ERR, "cache mem: %u more errors "
				    "not logged", err_count - ERR_BURST);
			err_time = t;
			err_count = 0;
		}
		if (++err_count > ERR_BURST)
			return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "cache mem: %s", msg);
}

static int
store_dead(void)
{
	return shm == NULL || __atomic_load_n(&shm->dead, __ATOMIC_ACQUIRE);
}

/*
 * mark_dead - h (and so the store) needs recovery: no more use.  Only
 * the first process to find out says so (the master, usually); the
 * others just stop.
 */
static void
mark_dead(struct mem_h *h, const char *why)
{
	int	 known = 0;

	if (shm != NULL)
		known = __atomic_exchange_n(&shm->dead, 1, __ATOMIC_ACQ_REL);
	if (h->dead)
		return;
	h->dead = 1;
	if (!known)
		log_msg(GW_LOG_ERR, "cache mem: %s; the memory store is dead, "
		    "serving without it", why);
}

/* fail - map a Berkeley DB code onto a status; log real failures. */
static enum mstat
fail(struct mem_h *h, int rc, const char *what)
{
	switch (rc) {
	case 0:
		return M_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
	case DB_BUFFER_SMALL:
		return M_MISS;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return M_BUSY;
	case ENOSPC:
	case ENOMEM:
	case DB_LOG_BUFFER_FULL:
		mem_log(GW_LOG_DEBUG, "%s: %s", what, db_strerror(rc));
		return M_FULL;
	case DB_RUNRECOVERY:
		mark_dead(h, db_strerror(rc));
		return M_DEAD;
	default:
		mem_log(GW_LOG_ERR, "%s: %s", what, db_strerror(rc));
		return M_ERROR;
	}
}

static void
on_error(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct mem_h	*h = env->app_private;

	(void)pfx;
	if (h != NULL && !h->dead)	/* once dead, the rest is noise */
		mem_log(GW_LOG_ERR, "%s", msg);
}

static void
on_message(const DB_ENV *env, const char *msg)
{
	struct mem_h	*h = env->app_private;

	if (h == NULL)
		return;
	/* failchk: what exited processes' handles held is routine */
	if (h->watching) {
		if (strstr(msg, "Aborting txn") == NULL) {
			mem_log(GW_LOG_DEBUG, "%s", msg);
			return;
		}
		h->found++;
	}
	mem_log(GW_LOG_NOTICE, "%s", msg);
}

static void
on_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct mem_h	*h = env->app_private;

	(void)info;
	if (h != NULL && event == DB_EVENT_PANIC)
		mark_dead(h, "environment panic");
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*--------------------------------------------------------------------
 * Shared memory: process slots, hit counters
 */

/* proc_start - pid's start time (/proc/pid/stat field 22), or 0. */
static uint64_t
proc_start(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	ssize_t		 n;
	int		 fd, field;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 2; *p != '\0' && field < 22; p++)
		if (*p == ' ')
			field++;
	return field == 22 ? strtoull(p, NULL, 10) : 0;
}

static int
shm_make(void)
{
	uint64_t	 n;

	n = HITS_MIN;
	while (n < 4 * conf.count && n < HITS_MAX)
		n *= 2;
	shm_len = sizeof(*shm) + (conf.servers + 16) *
	    sizeof(struct mem_slot) + n * sizeof(uint32_t);
	shm = mmap(NULL, shm_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		shm = NULL;
		return -1;
	}
	shm->magic = SHM_MAGIC;
	shm->nslots = (uint32_t)conf.servers + 16;
	shm->nhits = (uint32_t)n;
	hits = (uint32_t *)(void *)&shm->slots[shm->nslots];
	return 0;
}

static void
shm_drop(void)
{
	if (shm != NULL && munmap(shm, shm_len) == -1)
		log_errno(GW_LOG_WARN, "cache mem: munmap");
	shm = NULL;
	hits = NULL;
	shm_len = 0;
}

/* slot_claim - a process slot for this process, if one is free. */
static void
slot_claim(pid_t self)
{
	struct mem_slot	*s;
	pid_t		 p;
	uint32_t	 i;

	my_slot = -1;
	my_slot_pid = self;
	for (i = 0; shm != NULL && i < shm->nslots; i++) {
		s = &shm->slots[i];
		p = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
		if ((p != 0 && p != self) || !__atomic_compare_exchange_n(
		    &s->pid, &p, self, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&s->since, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&s->start, proc_start(self),
		    __ATOMIC_RELEASE);
		my_slot = (int)i;
		return;
	}
	mem_log(GW_LOG_DEBUG, "no process slot free for pid %ld",
	    (long)self);
}

/* enter, leave - mark this process as inside a store call. */
static void
enter(void)
{
	if (my_slot >= 0 && my_slot_pid == cache_db_self())
		__atomic_store_n(&shm->slots[my_slot].since, mono() + 1,
		    __ATOMIC_RELEASE);
}

static void
leave(void)
{
	if (my_slot >= 0 && my_slot_pid == cache_db_self())
		__atomic_store_n(&shm->slots[my_slot].since, 0,
		    __ATOMIC_RELEASE);
}

static uint32_t *
hit_counter(const char *name)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return &hits[h & (shm->nhits - 1)];
}

static uint64_t
gdsf_l(void)
{
	return __atomic_load_n(&shm->gdsf_l, __ATOMIC_ACQUIRE);
}

static void
gdsf_l_raise(uint64_t l)
{
	uint64_t	 cur = gdsf_l();

	while (l > cur && !__atomic_compare_exchange_n(&shm->gdsf_l, &cur, l,
	    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/*--------------------------------------------------------------------
 * Sizing
 */

static uint64_t
div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/*
 * btree_pages - pages for n items of item bytes each (key, data and
 * their overhead) at half fill (a btree never merges pages that
 * deletes thin out), plus internal pages, the meta page and the root.
 */
static uint64_t
btree_pages(uint64_t n, uint64_t item, uint64_t psz)
{
	uint64_t	 leaf = div_up(n * item * 2, psz) + 1;

	return leaf + leaf / 4 + 4;
}

/*
 * size_env - database caps and the environment's cache and log sizes.
 * The caps bound every in-memory database (Berkeley DB answers ENOSPC
 * past them); the cache holds them all, so it is never what runs out.
 * An object of n bytes takes, at worst, its share of a leaf page (at
 * most a quarter page stays on the leaf) and ceil(n / overflow page)
 * overflow pages, i.e. one page more than its size.
 */
static void
size_env(void)
{
	uint64_t	 c = conf.count, rec, txn, total = 0;
	u_int32_t	 p = conf.body_psz;
	int		 i;

	conf.cap[0] = btree_pages(c, 160, PSZ_SMALL) * PSZ_SMALL;
	conf.cap[1] = (btree_pages(c, p / 4 + 48, p) +
	    div_up(conf.size + BODY_HDR * c, p - OVFL_HDR) + c) * p;
	if (test.body_cap != 0)
		conf.cap[1] = test.body_cap;
	conf.cap[2] = btree_pages(c, 128, PSZ_SMALL) * PSZ_SMALL;
	conf.cap[3] = conf.cap[2];
	conf.cap[4] = 8 * PSZ_SMALL;
	for (i = 0; i < 5; i++)
		total += conf.cap[i];
	conf.cachesize = total + total / 8 + 512 * 1024;
	/*
	 * The in-memory log holds every active transaction's records
	 * back to the start of the oldest one's log "file": one put at a
	 * time (mem.totals) logs at most the new object, the old one and
	 * what it evicts (the room the new one needs, plus at most one
	 * object), plus small touches beside it.
	 */
	rec = BODY_HDR + CACHE_MEM_URL_MAX + conf.max_obj;
	txn = 4 * rec + EVICT_PER_TXN * 4 * PSZ_SMALL + 64 * 1024;
	conf.lg_max = 256 * 1024;
	conf.lg_bsize = 2 * conf.lg_max + 4 * txn;
	if (conf.lg_bsize < 4 * 1024 * 1024)
		conf.lg_bsize = 4 * 1024 * 1024;
}

/*--------------------------------------------------------------------
 * Environment
 */

/* env_setup - what every process sets before env->open. */
static int
env_setup(struct mem_h *h)
{
	DB_ENV		*env = h->env;
	u_int32_t	 n = (u_int32_t)conf.servers;
	int		 rc;

	env->app_private = h;
	env->set_errcall(env, on_error);
	env->set_msgcall(env, on_message);
	if ((rc = env->set_event_notify(env, on_event)) != 0 ||
	    (rc = env->set_thread_count(env, n + 8)) != 0 ||
	    (rc = env->set_isalive(env, is_alive)) != 0 ||
	    (rc = env->set_thread_id(env, thread_id)) != 0 ||
	    (rc = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (rc = env->set_lk_max_lockers(env, at_least(4 * n, 1000))) != 0 ||
	    (rc = env->set_lk_max_locks(env, at_least(20 * n, 4000))) != 0 ||
	    (rc = env->set_lk_max_objects(env, at_least(20 * n, 4000))) != 0 ||
	    (rc = env->set_tx_max(env, at_least(n + 8, 100))) != 0 ||
	    (rc = env->set_cachesize(env, (u_int32_t)(conf.cachesize >> 30),
	    (u_int32_t)(conf.cachesize & ((1u << 30) - 1)), 1)) != 0 ||
	    (rc = env->set_flags(env, DB_TXN_NOSYNC | DB_TIME_NOTGRANTED,
	    1)) != 0 ||
	    (rc = env->log_set_config(env, DB_LOG_IN_MEMORY, 1)) != 0 ||
	    (rc = env->set_lg_bsize(env, (u_int32_t)conf.lg_bsize)) != 0 ||
	    (rc = env->set_lg_max(env, (u_int32_t)conf.lg_max)) != 0)
		return rc;
	return 0;
}

static int
db_open(struct mem_h *h, DB_TXN *t, DB **dbp, int which, u_int32_t psz,
    int dup, int create)
{
	DB_MPOOLFILE	*mpf;
	DB		*db;
	uint64_t	 cap = conf.cap[which];
	int		 rc;

	if ((rc = db_create(&db, h->env, 0)) != 0)
		return rc;
	*dbp = db;		/* closed by close_h, even if open fails */
	mpf = db->get_mpf(db);
	if ((rc = db->set_pagesize(db, psz)) != 0 ||
	    (dup && (rc = db->set_flags(db, DB_DUP | DB_DUPSORT)) != 0) ||
	    (rc = mpf->set_flags(mpf, DB_MPOOL_NOFILE, 1)) != 0 ||
	    (rc = db->open(db, t, NULL, db_names[which], DB_BTREE,
	    (t == NULL ? DB_AUTO_COMMIT : 0) | (create ? DB_CREATE : 0),
	    0)) != 0)
		return rc;
	/*
	 * Only after open does the cap hold (notes, section 5), on the
	 * handle open made: it replaced the one configured before.
	 */
	mpf = db->get_mpf(db);
	if (create && (rc = mpf->set_maxsize(mpf, (u_int32_t)(cap >> 30),
	    (u_int32_t)(cap & ((1u << 30) - 1)))) != 0)
		return rc;
	return 0;
}

/*
 * open_dbs - open the databases (the master: creates them, before any
 * fork) and associate the secondaries.  t: a joiner's DB_TXN_NOWAIT
 * transaction, so that reading a database's metadata page never waits
 * on a writer's lock.
 */
static int
open_dbs(struct mem_h *h, DB_TXN *t, int create)
{
	u_int32_t	 af = create ? DB_CREATE : 0;
	int		 rc;

	if ((rc = db_open(h, t, &h->meta, 0, PSZ_SMALL, 0, create)) != 0 ||
	    (rc = db_open(h, t, &h->body, 1, conf.body_psz, 0, create)) != 0 ||
	    (rc = db_open(h, t, &h->expiry, 2, PSZ_SMALL, 1, create)) != 0 ||
	    (rc = db_open(h, t, &h->order, 3, PSZ_SMALL, 1, create)) != 0 ||
	    (rc = db_open(h, t, &h->totals, 4, PSZ_SMALL, 0, create)) != 0 ||
	    (rc = h->meta->associate(h->meta, t, h->expiry, expiry_key,
	    af)) != 0 ||
	    (rc = h->meta->associate(h->meta, t, h->order, order_key,
	    af)) != 0)
		return rc;
	return 0;
}

/*
 * close_h - close h's handles.  After a panic BDB closes only file
 * handles and leaves the handles' memory to the process
 * (__env_close_pp): such an environment is kept reachable here.
 */
static void
close_dbs(struct mem_h *h)
{
	DB	**dbs[] = { &h->expiry, &h->order, &h->meta, &h->body,
		    &h->totals };
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		if (*dbs[i] == NULL)
			continue;
		if ((rc = (*dbs[i])->close(*dbs[i], 0)) != 0 && !h->dead)
			(void)fail(h, rc, "close");
		*dbs[i] = NULL;
	}
}

static void
close_h(struct mem_h *h)
{
	int	 rc;

	close_dbs(h);
	if (h->env != NULL) {
		if (h->dead && nabandoned < ABANDONED_MAX)
			abandoned[nabandoned++] = h->env;
		if ((rc = h->env->close(h->env, 0)) != 0 && !h->dead)
			(void)fail(h, rc, "close");
		h->env = NULL;
	}
}

static void
quiet(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	(void)pfx;
	(void)msg;
}

/* rm_regions - remove Berkeley DB's files (__db.*) from dir. */
static int
rm_regions(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	DB_ENV		*env;
	int		 rc = 0;

	if (db_env_create(&env, 0) == 0) {	/* remove destroys env */
		env->set_errcall(env, quiet);	/* "PANIC" of a dead one */
		(void)env->remove(env, dir, DB_FORCE);
	}
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "__db.", 5) == 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) == -1 && errno != ENOENT)
			rc = -1;
	if (closedir(d) == -1)
		rc = -1;
	return rc;
}

/* own_files - give home and its region files to uid:gid. */
static int
own_files(const char *dir, uid_t uid, gid_t gid)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0;

	if (chown(dir, uid, gid) == -1 || chmod(dir, 02770) == -1)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "__db.", 5) != 0)
			continue;
		if (fchownat(dirfd(d), de->d_name, uid, gid,
		    AT_SYMLINK_NOFOLLOW) == -1 ||
		    fchmodat(dirfd(d), de->d_name, 0660, 0) == -1)
			rc = -1;
	}
	if (closedir(d) == -1)
		rc = -1;
	return rc;
}

/* make_home - the given directory, cleared of old regions, or a new one. */
static int
make_home(const char *home, char *err, size_t errlen)
{
	struct stat	 st;
	const char	*tmp;

	if (home == NULL) {
		if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
			tmp = "/tmp";
		if ((size_t)snprintf(conf.home, sizeof(conf.home),
		    "%s/gatewayd-mem.XXXXXX", tmp) >= sizeof(conf.home)) {
			set_err(err, errlen, "%s: %s", tmp,
			    strerror(ENAMETOOLONG));
			return -1;
		}
		if (mkdtemp(conf.home) == NULL) {
			set_err(err, errlen, "mkdtemp %s: %s", conf.home,
			    strerror(errno));
			return -1;
		}
		conf.temp_home = 1;
	} else {
		if ((size_t)snprintf(conf.home, sizeof(conf.home), "%s",
		    home) >= sizeof(conf.home) - 32) {
			set_err(err, errlen, "%s: %s", home,
			    strerror(ENAMETOOLONG));
			return -1;
		}
		if (mkdir(home, 0700) == -1 && errno != EEXIST) {
			set_err(err, errlen, "mkdir %s: %s", home,
			    strerror(errno));
			return -1;
		}
		if (stat(home, &st) == -1) {
			set_err(err, errlen, "%s: %s", home, strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			set_err(err, errlen, "%s: %s", home,
			    strerror(ENOTDIR));
			return -1;
		}
		if (rm_regions(home) == -1) {
			set_err(err, errlen, "removing old regions in %s: %s",
			    home, strerror(errno));
			return -1;
		}
	}
	if (conf.own && (chown(conf.home, conf.uid, conf.gid) == -1 ||
	    chmod(conf.home, 02770) == -1)) {
		set_err(err, errlen, "%s: chown to %ld:%ld: %s", conf.home,
		    (long)conf.uid, (long)conf.gid, strerror(errno));
		return -1;
	}
	return 0;
}

static void
drop_home(void)
{
	if (rm_regions(conf.home) == -1)
		log_errno(GW_LOG_WARN, "cache mem: removing %s", conf.home);
	if (conf.temp_home && rmdir(conf.home) == -1 && errno != ENOENT)
		log_errno(GW_LOG_WARN, "cache mem: rmdir %s", conf.home);
	conf.temp_home = 0;
}

static int
opts_fill(const struct cache_mem_opts *o, char *err, size_t errlen)
{
	static const struct cache_mem_opts	 none;

	if (o == NULL)
		o = &none;
	conf.size = o->size_bytes != 0 ? o->size_bytes : CACHE_MEM_SIZE;
	conf.count = o->max_count != 0 ? o->max_count : CACHE_MEM_MAX_COUNT;
	conf.min_obj = o->min_obj != 0 ? o->min_obj : CACHE_MEM_MIN_OBJ;
	conf.max_obj = o->max_obj != 0 ? o->max_obj : CACHE_MEM_MAX_OBJ;
	conf.gdsf = o->gdsf != 0;
	conf.servers = o->server_limit > 0 ? o->server_limit : DEF_SERVERS;
	conf.own = o->own;
	conf.uid = o->uid;
	conf.gid = o->gid;
	conf.body_psz = conf.max_obj <= BIG_OBJ ? PSZ_BODY : PSZ_BODY_BIG;
	if (conf.min_obj > conf.max_obj) {
		set_err(err, errlen, "MCacheMinObjectSize %llu is above "
		    "MCacheMaxObjectSize %llu",
		    (unsigned long long)conf.min_obj,
		    (unsigned long long)conf.max_obj);
		return -1;
	}
	if (conf.max_obj >= conf.size) {
		set_err(err, errlen, "MCacheSize (%llu bytes) must be greater "
		    "than MCacheMaxObjectSize (%llu)",
		    (unsigned long long)conf.size,
		    (unsigned long long)conf.max_obj);
		return -1;
	}
	if (conf.max_obj > UINT32_MAX - BODY_HDR - CACHE_MEM_URL_MAX ||
	    conf.count > UINT32_MAX / 64) {
		set_err(err, errlen, "MCacheMaxObjectSize or "
		    "MCacheMaxObjectCount too large");
		return -1;
	}
	return 0;
}

/*--------------------------------------------------------------------
 * Master
 */

static int
master_try(char *err, size_t errlen)
{
	int	 rc;

	memset(&mh, 0, sizeof(mh));
	mh.pid = cache_db_self();
	mh.master = 1;
	if ((rc = db_env_create(&mh.env, 0)) != 0 ||
	    (rc = env_setup(&mh)) != 0 ||
	    (rc = mh.env->open(mh.env, conf.home, ENV_FLAGS | DB_CREATE,
	    conf.own ? 0660 : 0600)) != 0 ||
	    (rc = open_dbs(&mh, NULL, 1)) != 0) {
		set_err(err, errlen, "%s: %s", conf.home, db_strerror(rc));
		return -1;
	}
	if (conf.own && own_files(conf.home, conf.uid, conf.gid) == -1) {
		set_err(err, errlen, "%s: chown to %ld:%ld: %s", conf.home,
		    (long)conf.uid, (long)conf.gid, strerror(errno));
		return -1;
	}
	return 0;
}

int
cache_mem_master_open(const struct cache_mem_opts *o, char *err,
    size_t errlen)
{
	if (conf.open)
		cache_mem_master_close();
	memset(&conf, 0, sizeof(conf));
	if (opts_fill(o, err, errlen) == -1)
		return -1;
	size_env();
	if (make_home(o != NULL ? o->home : NULL, err, errlen) == -1) {
		if (conf.temp_home)
			drop_home();
		return -1;
	}
	if (shm_make() == -1) {
		set_err(err, errlen, "shared memory: %s", strerror(errno));
		drop_home();
		return -1;
	}
	if (master_try(err, errlen) == -1) {
		close_h(&mh);
		drop_home();
		shm_drop();
		return -1;
	}
	conf.open = 1;
	conf.opener = mh.pid;
	join_tried = 0;
	join_again = 0;
	my_slot = -1;
	my_slot_pid = 0;
	log_msg(GW_LOG_INFO, "cache mem: %llu KiB, %llu objects of %llu.."
	    "%llu bytes, %s, in %s (Berkeley DB cache %llu KiB)",
	    (unsigned long long)(conf.size / 1024),
	    (unsigned long long)conf.count,
	    (unsigned long long)conf.min_obj,
	    (unsigned long long)conf.max_obj, conf.gdsf ? "GDSF" : "LRU",
	    conf.home, (unsigned long long)(conf.cachesize / 1024));
	return 0;
}

static int
is_master(void)
{
	return conf.open && conf.opener == cache_db_self();
}

/* sweep - free the slots of processes that are gone. */
static void
sweep(void)
{
	struct mem_slot	*s;
	pid_t		 p;
	uint32_t	 i;

	for (i = 0; i < shm->nslots; i++) {
		s = &shm->slots[i];
		p = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
		if (p == 0 || kill(p, 0) == 0 || errno != ESRCH)
			continue;
		__atomic_store_n(&s->since, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&s->start, 0, __ATOMIC_RELEASE);
		(void)__atomic_compare_exchange_n(&s->pid, &p, 0, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
}

/*
 * watch - failchk: frees what dead processes held and aborts their
 * transactions, never waiting on what one that died inside Berkeley DB
 * held (it stops at such a process: DB_RUNRECOVERY).  Then the store
 * is dead, for every process: the shared flag, and the environment's
 * panic for those inside a call now.
 */
static void
watch(const char *why)
{
	int	 rc;

	if (mh.dead || store_dead())
		return;
	mh.found = 0;
	mh.watching = 1;
	rc = mh.env->failchk(mh.env, 0);
	mh.watching = 0;
	if (rc == 0) {
		if (mh.found > 0)
			log_msg(GW_LOG_NOTICE, "cache mem: failchk%s%s: "
			    "aborted %d transaction(s) of dead processes",
			    why != NULL ? " " : "", why != NULL ? why : "",
			    mh.found);
		return;
	}
	mark_dead(&mh, rc == DB_RUNRECOVERY ? "failchk: a process died "
	    "inside Berkeley DB (or the environment panicked)" :
	    db_strerror(rc));
	(void)mh.env->set_flags(mh.env, DB_PANIC_ENVIRONMENT, 1);
}

void
cache_mem_master_failchk(void)
{
	if (!is_master())
		return;
	sweep();
	watch("after an abnormal child exit");
}

/*
 * stuck - slot s's process has been inside one store call for at
 * least stuck_secs (pid and start time still match); its pid, or 0.
 */
static pid_t
stuck(struct mem_slot *s, int64_t t, int64_t *secs)
{
	uint64_t	 start;
	pid_t		 p;

	p = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
	*secs = __atomic_load_n(&s->since, __ATOMIC_ACQUIRE);
	if (p == 0 || p == cache_db_self() || *secs == 0)
		return 0;
	*secs = t - (*secs - 1);
	if (*secs < test.stuck_secs)
		return 0;
	start = __atomic_load_n(&s->start, __ATOMIC_ACQUIRE);
	if (start == 0 || proc_start(p) != start)
		return 0;		/* not that process any more */
	return p;
}

/*
 * unstick - no store call lasts seconds (nothing waits for a lock), so
 * a process inside one for stuck_secs waits on a mutex that a dead
 * process held: one failchk could not see (it died before Berkeley DB
 * registered it), or one of a store already dead.  The store is dead
 * (if it was not yet), and each such process is killed: it would wait
 * for ever.
 */
static void
unstick(int64_t t)
{
	struct mem_slot	*s;
	int64_t		 secs;
	pid_t		 p;
	uint32_t	 i;

	for (i = 0; i < shm->nslots; i++) {
		s = &shm->slots[i];
		if ((p = stuck(s, t, &secs)) == 0)
			continue;
		if (!store_dead()) {
			mark_dead(&mh, "a process is stuck inside the store "
			    "(a dead process held what it waits for)");
			(void)mh.env->set_flags(mh.env, DB_PANIC_ENVIRONMENT,
			    1);
		}
		if (kill(p, SIGKILL) == -1) {
			if (errno != ESRCH)
				log_errno(GW_LOG_ERR, "cache mem: kill %ld",
				    (long)p);
			continue;
		}
		__atomic_store_n(&s->since, 0, __ATOMIC_RELEASE);
		log_msg(GW_LOG_ERR, "cache mem: killed process %ld, stuck for "
		    "%lld s in the dead memory store", (long)p,
		    (long long)secs);
	}
}

void
cache_mem_master_tick(void)
{
	if (!is_master())
		return;
	sweep();
	watch(NULL);
	unstick(mono());
}

void
cache_mem_master_close(void)
{
	if (!conf.open)
		return;
	if (!is_master()) {		/* a child: not ours to close */
		conf.open = 0;
		return;
	}
	/*
	 * Workers still attached (a restart) stop using it at their next
	 * call, quietly; removing it panics it for those inside a call.
	 */
	if (__atomic_exchange_n(&shm->dead, 1, __ATOMIC_ACQ_REL))
		mh.dead = 1;
	close_h(&mh);
	drop_home();
	shm_drop();
	free(putbuf);
	putbuf = NULL;
	putbuf_len = 0;
	conf.open = 0;
}

void
cache_mem_child(void)
{
	pid_t	 self = cache_db_self();

	if (wh.env != NULL && wh.pid != self && orphan.env == NULL)
		orphan = wh;		/* reachable, never used */
	if (wh.pid != self)
		memset(&wh, 0, sizeof(wh));
	if (join_tried != self)
		join_tried = 0;
	if (my_slot_pid != self)
		my_slot = -1;
}

/*--------------------------------------------------------------------
 * Joining
 */

/* backoff - before attempt i (1..) after a lock conflict: ~50us * 2^i. */
static void
backoff(int i)
{
	struct timespec	 ts;

	ts.tv_sec = 0;
	ts.tv_nsec = 25000L << (i < 8 ? i : 8);
	(void)nanosleep(&ts, NULL);
}

/*
 * join_try - open the environment and, in one DB_TXN_NOWAIT
 * transaction, the databases; DB_LOCK_NOTGRANTED if a writer held a
 * metadata page each time.
 */
static int
join_try(pid_t self)
{
	DB_TXN	*t;
	int	 i, rc = 0, rc2;

	memset(&wh, 0, sizeof(wh));
	wh.pid = self;
	if ((rc = db_env_create(&wh.env, 0)) != 0 ||
	    (rc = env_setup(&wh)) != 0 ||
	    (rc = wh.env->open(wh.env, conf.home, ENV_FLAGS, 0)) != 0)
		return rc;
	for (i = 0; i < CACHE_MEM_RETRIES; i++) {
		if (i > 0)
			backoff(i);
		if ((rc = wh.env->txn_begin(wh.env, NULL, &t,
		    DB_TXN_NOWAIT)) != 0)
			return rc;
		if ((rc = open_dbs(&wh, t, 0)) == 0)
			return t->commit(t, 0);
		if ((rc2 = t->abort(t)) != 0)
			return rc2;
		if (rc != DB_LOCK_NOTGRANTED && rc != DB_LOCK_DEADLOCK)
			return rc;
		close_dbs(&wh);
	}
	return rc;
}

/* join - this process's handles; a busy join is tried again later. */
static int
join(pid_t self)
{
	int	 rc;

	join_tried = self;
	if ((rc = join_try(self)) == 0)
		return 0;
	if (rc == DB_LOCK_NOTGRANTED || rc == DB_LOCK_DEADLOCK) {
		join_again = mono() + JOIN_RETRY;
		mem_log(GW_LOG_INFO, "joining %s: busy; again in %d s",
		    conf.home, JOIN_RETRY);
	} else {
		join_again = INT64_MAX;
		log_msg(GW_LOG_ERR, "cache mem: joining %s: %s; serving "
		    "without the memory store", conf.home, db_strerror(rc));
	}
	close_h(&wh);
	memset(&wh, 0, sizeof(wh));
	return -1;
}

/*
 * begin - this process's handles, joining on first use, and this
 * process marked as inside a store call (before it joins: a join can
 * block too); or NULL (not marked).  Each non-NULL begin has its
 * leave.
 */
static struct mem_h *
begin(void)
{
	struct mem_h	*h;
	pid_t		 self;

	if (!conf.open || store_dead())
		return NULL;
	self = cache_db_self();
	if (my_slot_pid != self)
		slot_claim(self);
	enter();
	if (self == conf.opener)
		h = &mh;		/* the master serves itself (-X) */
	else if (wh.pid == self)
		h = &wh;
	else if (join_tried == self && mono() < join_again)
		h = NULL;		/* a busy join: not yet again */
	else {
		cache_mem_child();	/* a new child that did not say so */
		h = join(self) == 0 ? &wh : NULL;
	}
	if (h == NULL || h->dead) {
		leave();
		return NULL;
	}
	return h;
}

int
cache_mem_alive(void)
{
	pid_t	 self;

	if (!conf.open || store_dead())
		return 0;
	self = cache_db_self();
	if (self == conf.opener)
		return !mh.dead;
	if (wh.pid == self)
		return !wh.dead;
	return join_tried != self || join_again != INT64_MAX;
}

/*--------------------------------------------------------------------
 * Transactions
 */

typedef int	 txn_op(struct mem_h *, DB_TXN *, void *);

/*
 * in_txn - run op in a DB_TXN_NOWAIT transaction and commit it (op's
 * PROGRESS too).  After a lock conflict, abort; if patient, back off
 * and run it again, CACHE_MEM_RETRIES times in all (a writer), else
 * give up at once (a lookup's touch).  flags: more txn_begin flags.
 */
static enum mstat
in_txn(struct mem_h *h, int patient, u_int32_t flags, txn_op *op,
    void *arg, const char *what)
{
	DB_TXN	*t;
	int	 i, rc, rc2;

	for (i = 0; i < CACHE_MEM_RETRIES; i++) {
		if (i > 0) {
			if (test.hook != NULL)
				test.hook("retry");
			backoff(i);
		}
		if ((rc = h->env->txn_begin(h->env, NULL, &t,
		    DB_TXN_NOWAIT | flags)) != 0)
			return fail(h, rc, "txn_begin");
		if ((rc = op(h, t, arg)) == 0 || rc == PROGRESS) {
			if ((rc2 = t->commit(t, 0)) != 0)
				return fail(h, rc2, "commit");
			return rc == 0 ? M_OK : M_PROGRESS;
		}
		if ((rc2 = t->abort(t)) != 0)
			return fail(h, rc2, "abort");
		if (rc == NOCHANGE)
			return M_OK;
		if ((rc != DB_LOCK_NOTGRANTED && rc != DB_LOCK_DEADLOCK) ||
		    !patient)
			return fail(h, rc, what);
	}
	mem_log(GW_LOG_DEBUG, "%s: still busy after %d tries", what,
	    CACHE_MEM_RETRIES);
	return M_BUSY;
}

static int
totals_get(struct mem_h *h, DB_TXN *t, uint64_t *entries, uint64_t *bytes)
{
	unsigned char	 buf[TOTALS_LEN];
	DBT		 k, d;
	int		 rc;

	dbt_set(&k, TOTALS_KEY, sizeof(TOTALS_KEY) - 1);
	dbt_usermem(&d, buf, sizeof(buf));
	rc = h->totals->get(h->totals, t, &k, &d, DB_RMW);
	*entries = *bytes = 0;
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc == 0 && d.size == TOTALS_LEN) {
		*entries = dec64(buf);
		*bytes = dec64(buf + 8);
	}
	return rc;
}

static int
totals_put(struct mem_h *h, DB_TXN *t, uint64_t entries, uint64_t bytes)
{
	unsigned char	 buf[TOTALS_LEN];
	DBT		 k, d;

	enc64(buf, entries);
	enc64(buf + 8, bytes);
	dbt_set(&k, TOTALS_KEY, sizeof(TOTALS_KEY) - 1);
	dbt_set(&d, buf, sizeof(buf));
	return h->totals->put(h->totals, t, &k, &d, 0);
}

/* meta_get - name's meta record (write-locked if rmw). */
static int
meta_get(struct mem_h *h, DB_TXN *t, DBT *k, struct meta *m, int rmw)
{
	unsigned char	 buf[META_LEN];
	DBT		 d;
	int		 rc;

	dbt_usermem(&d, buf, sizeof(buf));
	if ((rc = h->meta->get(h->meta, t, k, &d, rmw ? DB_RMW : 0)) != 0)
		return rc == DB_BUFFER_SMALL ? DB_NOTFOUND : rc;
	return meta_decode(buf, d.size, m) == 0 ? 0 : DB_NOTFOUND;
}

static int
meta_put(struct mem_h *h, DB_TXN *t, DBT *k, const struct meta *m)
{
	unsigned char	 buf[META_LEN];
	DBT		 d;

	meta_encode(buf, m);
	dbt_set(&d, buf, sizeof(buf));
	return h->meta->put(h->meta, t, k, &d, 0);
}

/* drop - remove name's object (meta: with its index entries). */
static int
drop(struct mem_h *h, DB_TXN *t, DBT *k)
{
	int	 rc;

	if ((rc = h->meta->del(h->meta, t, k, 0)) != 0 && rc != DB_NOTFOUND)
		return rc;
	rc = h->body->del(h->body, t, k, 0);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/*--------------------------------------------------------------------
 * Eviction
 */

struct evict {
	time_t		 now;
	uint64_t	 entries, bytes;
	uint64_t	 new_l;		/* GDSF: L after these evictions */
};

/*
 * evict_first - remove the first object of secondary sec, if its key
 * is below 'below' (0: any).  DB_NOTFOUND if there is none.
 */
static int
evict_first(struct mem_h *h, DB_TXN *t, DB *sec, uint64_t below,
    struct evict *e)
{
	unsigned char	 skb[8], name[NAME_MAX_LEN], mb[META_LEN];
	struct meta	 m;
	DBC		*c;
	DBT		 sk, pk, pd;
	int		 rc, rc2;

	if ((rc = sec->cursor(sec, t, &c, 0)) != 0)
		return rc;
	dbt_usermem(&sk, skb, sizeof(skb));
	dbt_usermem(&pk, name, sizeof(name));
	dbt_usermem(&pd, mb, sizeof(mb));
	rc = c->pget(c, &sk, &pk, &pd, DB_FIRST | DB_RMW);
	if (rc == 0 && below != 0 && (sk.size != 8 || dec64(skb) >= below))
		rc = DB_NOTFOUND;
	if (rc == 0)
		rc = c->del(c, 0);	/* the primary and its index entries */
	if ((rc2 = c->close(c)) != 0 && rc == 0)
		rc = rc2;
	if (rc != 0)
		return rc;
	dbt_set(&pk, name, pk.size);
	if ((rc = h->body->del(h->body, t, &pk, 0)) != 0 && rc != DB_NOTFOUND)
		return rc;
	if (meta_decode(mb, pd.size, &m) == -1)
		memset(&m, 0, sizeof(m));
	e->entries = e->entries > 0 ? e->entries - 1 : 0;
	e->bytes = e->bytes > m.bytes ? e->bytes - m.bytes : 0;
	if (conf.gdsf && below == 0 && m.pri > e->new_l)
		e->new_l = m.pri;
	return 0;
}

/* evict_one - the oldest expired object, else the LRU/GDSF first. */
static int
evict_one(struct mem_h *h, DB_TXN *t, struct evict *e)
{
	int	 rc;

	rc = evict_first(h, t, h->expiry, time_field(e->now), e);
	if (rc == DB_NOTFOUND)
		rc = evict_first(h, t, h->order, 0, e);
	return rc;
}

struct squeeze_arg {
	struct evict	 e;
	int		 n;
};

/* squeeze_op - Berkeley DB is full: evict SQUEEZE objects, whatever. */
static int
squeeze_op(struct mem_h *h, DB_TXN *t, void *arg)
{
	struct squeeze_arg	*a = arg;
	int			 rc;

	a->n = 0;
	if ((rc = totals_get(h, t, &a->e.entries, &a->e.bytes)) != 0)
		return rc;
	while (a->n < SQUEEZE && (rc = evict_one(h, t, &a->e)) == 0)
		a->n++;
	if (rc != 0 && rc != DB_NOTFOUND)
		return rc;
	if (a->n == 0)
		return NOCHANGE;
	return totals_put(h, t, a->e.entries, a->e.bytes);
}

/*--------------------------------------------------------------------
 * Operations
 */

struct put_arg {
	DBT		 k, d;
	uint64_t	 bytes;		/* counted: object + URL */
	time_t		 expires;
	struct evict	 e;
};

static int
over(const struct evict *e, uint64_t bytes)
{
	return e->entries + 1 > conf.count || e->bytes + bytes > conf.size;
}

/*
 * put_op - replace: totals first (where writers meet), drop the
 * old object, evict until the new one fits (at most EVICT_PER_TXN a
 * transaction: then PROGRESS, committed, and put_op again), store.
 */
static int
put_op(struct mem_h *h, DB_TXN *t, void *arg)
{
	struct put_arg	*a = arg;
	struct meta	 m, old;
	int		 rc, n;

	a->e.new_l = 0;
	if ((rc = totals_get(h, t, &a->e.entries, &a->e.bytes)) != 0)
		return rc;
	memset(&old, 0, sizeof(old));
	if ((rc = meta_get(h, t, &a->k, &old, 1)) == 0) {
		if ((rc = drop(h, t, &a->k)) != 0)
			return rc;
		a->e.entries = a->e.entries > 0 ? a->e.entries - 1 : 0;
		a->e.bytes = a->e.bytes > old.bytes ? a->e.bytes - old.bytes :
		    0;
	} else if (rc != DB_NOTFOUND)
		return rc;
	for (n = 0; over(&a->e, a->bytes); n++) {
		if (n == EVICT_PER_TXN) {
			rc = totals_put(h, t, a->e.entries, a->e.bytes);
			return rc != 0 ? rc : PROGRESS;
		}
		if ((rc = evict_one(h, t, &a->e)) == DB_NOTFOUND)
			break;		/* empty: the totals say otherwise */
		if (rc != 0)
			return rc;
	}
	memset(&m, 0, sizeof(m));
	m.expires = time_field(a->expires);
	m.atime = time_field(a->e.now);
	m.bytes = a->bytes;
	m.freq = old.freq > 0 ? old.freq : 1;
	if (conf.gdsf)
		m.pri = gdsf_pri(a->e.new_l > gdsf_l() ? a->e.new_l : gdsf_l(),
		    m.freq, m.bytes);
	if ((rc = h->body->put(h->body, t, &a->k, &a->d, 0)) != 0 ||
	    (rc = meta_put(h, t, &a->k, &m)) != 0 ||
	    (rc = totals_put(h, t, a->e.entries + 1, a->e.bytes + a->bytes))
	    != 0)
		return rc;
	if (test.hook != NULL)
		test.hook("put");
	return 0;
}

/* body_record - the record to put, in this process's buffer. */
static int
body_record(struct put_arg *a, const char *url, size_t ulen,
    const void *obj, size_t len)
{
	size_t		 need = BODY_HDR + ulen + len;
	unsigned char	*p;

	if (need > putbuf_len) {
		if ((p = realloc(putbuf, need)) == NULL) {
			mem_log(GW_LOG_ERR, "put: %s", strerror(errno));
			return -1;
		}
		putbuf = p;
		putbuf_len = need;
	}
	enc32(putbuf, (uint32_t)ulen);
	enc32(putbuf + 4, (uint32_t)len);
	memcpy(putbuf + BODY_HDR, url, ulen);
	if (len > 0)
		memcpy(putbuf + BODY_HDR + ulen, obj, len);
	dbt_set(&a->d, putbuf, need);
	return 0;
}

/* put_rounds - put_op until done; a full Berkeley DB: squeeze, again. */
static enum mstat
put_rounds(struct mem_h *h, struct put_arg *a)
{
	struct squeeze_arg	 sq;
	enum mstat		 st = M_ERROR;
	int			 r, squeezed = 0;

	for (r = 0; r < PUT_ROUNDS; r++) {
		st = in_txn(h, 1, 0, put_op, a, "put");
		if (conf.gdsf && (st == M_OK || st == M_PROGRESS))
			gdsf_l_raise(a->e.new_l);
		if (st == M_PROGRESS)
			continue;
		if (st != M_FULL || squeezed)
			break;
		squeezed = 1;
		memset(&sq, 0, sizeof(sq));
		sq.e.now = a->e.now;
		if (in_txn(h, 1, 0, squeeze_op, &sq, "squeeze") != M_OK ||
		    sq.n == 0)
			break;
		if (conf.gdsf)
			gdsf_l_raise(sq.e.new_l);
	}
	if (st == M_FULL)
		mem_log(GW_LOG_INFO, "put: Berkeley DB is full; object not "
		    "stored");
	return st;
}

int
cache_mem_put(const char *name, const char *url, const void *obj,
    size_t len, time_t expires)
{
	struct mem_h	*h;
	struct put_arg	 a;
	enum mstat	 st;
	size_t		 ulen;

	memset(&a, 0, sizeof(a));
	if (key_set(&a.k, name) == -1 || url == NULL ||
	    (obj == NULL && len > 0) ||
	    (ulen = strlen(url)) > CACHE_MEM_URL_MAX)
		return -1;
	if (!conf.open || len < conf.min_obj || len > conf.max_obj ||
	    len + ulen > conf.size)
		return -1;
	if ((h = begin()) == NULL)
		return -1;
	st = M_ERROR;
	if (body_record(&a, url, ulen, obj, len) == 0) {
		a.bytes = len + ulen;
		a.expires = expires;
		a.e.now = now();
		st = put_rounds(h, &a);
	}
	leave();
	return st == M_OK ? 0 : -1;
}

struct touch_arg {
	DBT		*k;
	time_t		 now;
	uint32_t	*counter;
	uint32_t	 folded;
};

/* touch_op - record a use: last use now, the counted hits folded in. */
static int
touch_op(struct mem_h *h, DB_TXN *t, void *arg)
{
	struct touch_arg	*a = arg;
	struct meta		 m;
	int			 rc;

	if ((rc = meta_get(h, t, a->k, &m, 1)) != 0)
		return rc;
	m.atime = time_field(a->now);
	a->folded = 0;
	if (conf.gdsf) {
		a->folded = __atomic_load_n(a->counter, __ATOMIC_RELAXED);
		m.freq += a->folded;
		if (m.freq > FREQ_MAX)
			m.freq = FREQ_MAX;
		m.pri = gdsf_pri(gdsf_l(), m.freq, m.bytes);
	}
	return meta_put(h, t, a->k, &m);
}

/* touch - after a hit on an object last used at atime. */
static void
touch(struct mem_h *h, DBT *k, const char *name, uint64_t atime)
{
	struct touch_arg	 a;
	uint64_t		 t;
	uint32_t		 n = 0;
	int			 due;

	memset(&a, 0, sizeof(a));
	a.now = now();
	t = time_field(a.now);
	due = atime > t + FUTURE_SLACK ||
	    (atime <= t && t - atime >= CACHE_MEM_TOUCH_INTERVAL);
	if (conf.gdsf) {
		a.counter = hit_counter(name);
		n = __atomic_add_fetch(a.counter, 1, __ATOMIC_RELAXED);
		due = due || n >= CACHE_MEM_GDSF_FOLD;
	}
	if (!due)
		return;
	a.k = k;
	if (in_txn(h, 0, 0, touch_op, &a, "touch") == M_OK &&
	    a.folded > 0)
		(void)__atomic_sub_fetch(a.counter, a.folded,
		    __ATOMIC_RELAXED);
}

struct get_arg {
	DBT		*k;
	const char	*url;
	size_t		 ulen;
	void		*buf;
	size_t		 cap;
	ssize_t		 len;
	struct meta	 m;
	int		 have_meta;
};

/* The URL part of a body record, for the comparison. */
static unsigned char	 urlbuf[BODY_HDR + CACHE_MEM_URL_MAX];

/*
 * get_reads - in one read transaction (its read locks held to its
 * end, so the three reads see one version): the URL, the object, the
 * meta record.  Never waits (DB_TXN_NOWAIT).
 */
static int
get_reads(struct mem_h *h, DB_TXN *t, struct get_arg *a)
{
	DBT		 d;
	uint32_t	 olen;
	int		 rc;

	if (test.hook != NULL)
		test.hook("get");
	dbt_usermem(&d, urlbuf, BODY_HDR + a->ulen);
	d.flags |= DB_DBT_PARTIAL;
	d.doff = 0;
	d.dlen = (u_int32_t)(BODY_HDR + a->ulen);
	if ((rc = h->body->get(h->body, t, a->k, &d, 0)) != 0)
		return rc;
	if (d.size != BODY_HDR + a->ulen || dec32(urlbuf) != a->ulen ||
	    memcmp(urlbuf + BODY_HDR, a->url, a->ulen) != 0)
		return DB_NOTFOUND;		/* another URL */
	if ((olen = dec32(urlbuf + 4)) > a->cap)
		return DB_NOTFOUND;
	if (olen > 0) {
		dbt_usermem(&d, a->buf, olen);
		d.flags |= DB_DBT_PARTIAL;
		d.doff = (u_int32_t)(BODY_HDR + a->ulen);
		d.dlen = olen;
		if ((rc = h->body->get(h->body, t, a->k, &d, 0)) != 0)
			return rc;
		if (d.size != olen)
			return DB_NOTFOUND;
	}
	a->len = (ssize_t)olen;
	a->have_meta = meta_get(h, t, a->k, &a->m, 0) == 0;
	return 0;
}

ssize_t
cache_mem_get(const char *name, const char *url, void *buf, size_t cap)
{
	struct mem_h	*h;
	struct get_arg	 a;
	DB_TXN		*t;
	DBT		 k;
	int		 rc, rc2;

	if (key_set(&k, name) == -1 || url == NULL || (buf == NULL && cap > 0))
		return -1;
	memset(&a, 0, sizeof(a));
	a.k = &k;
	a.url = url;
	if ((a.ulen = strlen(url)) > CACHE_MEM_URL_MAX)
		return -1;
	a.buf = buf;
	a.cap = cap < UINT32_MAX ? cap : UINT32_MAX;
	a.len = -1;
	if ((h = begin()) == NULL)
		return -1;
	if ((rc = h->env->txn_begin(h->env, NULL, &t, DB_TXN_NOWAIT)) != 0) {
		(void)fail(h, rc, "txn_begin");
		leave();
		return -1;
	}
	rc = get_reads(h, t, &a);
	if ((rc2 = t->abort(t)) != 0 && rc == 0)	/* read only */
		rc = rc2;
	if (rc != 0) {
		(void)fail(h, rc, "get");
		leave();
		return -1;
	}
	if (a.have_meta && !test.no_touch)
		touch(h, &k, name, a.m.atime);
	leave();
	return a.len;
}

struct del_arg {
	DBT	*k;
};

static int
del_op(struct mem_h *h, DB_TXN *t, void *arg)
{
	struct del_arg	*a = arg;
	struct meta	 m;
	uint64_t	 entries, bytes;
	int		 rc;

	if ((rc = totals_get(h, t, &entries, &bytes)) != 0)
		return rc;
	if ((rc = meta_get(h, t, a->k, &m, 1)) != 0)
		return rc == DB_NOTFOUND ? NOCHANGE : rc;
	if ((rc = drop(h, t, a->k)) != 0)
		return rc;
	return totals_put(h, t, entries > 0 ? entries - 1 : 0,
	    bytes > m.bytes ? bytes - m.bytes : 0);
}

int
cache_mem_del(const char *name)
{
	struct mem_h	*h;
	struct del_arg	 a;
	enum mstat	 st;
	DBT		 k;

	if (key_set(&k, name) == -1 || (h = begin()) == NULL)
		return -1;
	a.k = &k;
	st = in_txn(h, 1, 0, del_op, &a, "del");
	leave();
	return st == M_OK ? 0 : -1;
}

struct stats_arg {
	uint64_t	 entries, bytes;
};

static int
stats_op(struct mem_h *h, DB_TXN *t, void *arg)
{
	struct stats_arg	*a = arg;
	unsigned char		 buf[TOTALS_LEN];
	DBT			 k, d;
	int			 rc;

	dbt_set(&k, TOTALS_KEY, sizeof(TOTALS_KEY) - 1);
	dbt_usermem(&d, buf, sizeof(buf));
	a->entries = a->bytes = 0;
	if ((rc = h->totals->get(h->totals, t, &k, &d, 0)) == DB_NOTFOUND)
		return NOCHANGE;
	if (rc == 0 && d.size == TOTALS_LEN) {
		a->entries = dec64(buf);
		a->bytes = dec64(buf + 8);
	}
	return rc;
}

int
cache_mem_stats(uint64_t *entries, uint64_t *bytes)
{
	struct mem_h		*h;
	struct stats_arg	 a;
	enum mstat		 st;

	if ((h = begin()) == NULL)
		return -1;
	st = in_txn(h, 1, DB_READ_COMMITTED, stats_op, &a, "stats");
	leave();
	if (st != M_OK)
		return -1;
	if (entries != NULL)
		*entries = a.entries;
	if (bytes != NULL)
		*bytes = a.bytes;
	return 0;
}

/*--------------------------------------------------------------------
 * Tests
 */

void
cache_mem_set_test(const struct cache_mem_test *t)
{
	test.hook = t != NULL ? t->hook : NULL;
	test.now = t != NULL ? t->now : NULL;
	test.body_cap = t != NULL ? t->body_cap : 0;
	test.no_touch = t != NULL ? t->no_touch : 0;
	if (t == NULL)
		test.stuck_secs = CACHE_MEM_STUCK_SECS;
	else if (t->stuck_secs >= 0)
		test.stuck_secs = t->stuck_secs;
}
