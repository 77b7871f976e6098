/*
 * cache_db.c - the cache index (see cache_db.h) in a Berkeley DB 5.3
 * Transactional Data Store, as notes/bdb-multiprocess.md prescribes:
 * file-backed regions in <CacheRoot>/.index, an on-disk log written but
 * not fsynced at commit and removed behind checkpoints, deadlock
 * detection on each conflict, failchk through an isalive callback, and
 * DB_RECOVER (or a rebuild) whenever the master opens it.
 *
 * Databases: index.db (btree: hash name -> record); expiry.db and
 * lru.db (btree, sorted duplicates: 8-byte big-endian time -> hash
 * name), associated in every process, written only through index.db.
 *
 * Record, version 1, all big-endian:
 *    0 u32 version      4 u32 URL length   8 i64 expires  16 i64 stored
 *   24 i64 atime       32 u64 size        40 u64 inode    48 u32 status
 *   52 u32 flags       56 8 bytes reserved (0)            64 URL, no NUL
 * The secondary keys are the expires and atime fields as stored: times
 * are never negative, so memcmp order is time order.
 *
 * Not here: HTTP (cache_policy.c), body files (cache_store.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <assert.h>
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
#include "log.h"

#define CDB_MAGIC	0x43444248u	/* "CDBH" */
#define REC_VERSION	1u
#define REC_HDR		64		/* header bytes, then the URL */
#define OFF_EXPIRES	8
#define OFF_ATIME	24
#define PAGESIZE	4096
#define DEF_SERVERS	256
#define DEF_CACHESIZE	(64ULL * 1024 * 1024)
#define DEF_LOCK_MS	1000
#define EVICT_BATCH	100		/* removals per transaction */
#define FUTURE_SLACK	60		/* s: an atime further ahead: bogus */
#define STATS_BATCH	1000		/* records a read transaction */
#define ERR_WINDOW	60		/* s: error log rate limit window */
#define ERR_BURST	10		/* messages per window */
#define CLEAN_MARKER	"clean-shutdown"
#define ASIDE		".index.broken"
#define NOCHANGE	(-30000)	/* an op's "abort, all is well" */
#define HOME_MAX	(PATH_MAX - 64)	/* room for "/<file name>" */

#define ENV_FLAGS	(DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG | \
			    DB_INIT_TXN)

static const char *const db_files[] = { "index.db", "expiry.db", "lru.db" };

struct cache_db {
	unsigned	 magic;
	pid_t		 pid;		/* the process that opened h */
	int		 master;
	int		 dead;		/* said once, then quiet */
	DB_ENV		*env;
	DB		*index;
	DB		*expiry;
	DB		*lru;
	struct cache_db	*orphan_next;	/* inherited ones, see _close */
	time_t		 err_time;	/* start of the log window */
	unsigned	 err_count;	/* messages in the window */
	int		 watching;	/* in cache_db_watch's failchk */
	int		 found;		/* its messages about the dead */
	char		 home[HOME_MAX];
	unsigned char	 buf[REC_HDR + CACHE_DB_URL_MAX];
};

/* An operation run inside a transaction; returns a BDB code. */
typedef int	 txn_op(struct cache_db *, DB_TXN *, void *);

static void	(*test_hook)(const char *);
static struct cache_db	*orphans;	/* inherited handles, kept as is */

static void	 db_log(struct cache_db *, enum gw_loglevel, const char *,
		    ...) __attribute__((format(printf, 3, 4)));

/*--------------------------------------------------------------------
 * Record encoding
 */

/* rec_encode - header and URL into buf; returns the length. */
static size_t
rec_encode(unsigned char *buf, const char *url, size_t ulen,
    const struct cache_rec *r)
{
	time_t	 atime = r->atime > 0 ? r->atime : r->stored;

	memset(buf, 0, REC_HDR);
	enc32(buf, REC_VERSION);
	enc32(buf + 4, (uint32_t)ulen);
	enc64(buf + OFF_EXPIRES, time_field(r->expires));
	enc64(buf + 16, time_field(r->stored));
	enc64(buf + OFF_ATIME, time_field(atime));
	enc64(buf + 32, r->size);
	enc64(buf + 40, r->inode);
	enc32(buf + 48, r->status);
	enc32(buf + 52, r->flags);
	memcpy(buf + REC_HDR, url, ulen);
	return REC_HDR + ulen;
}

/* rec_valid - a version 1 record of consistent length. */
static int
rec_valid(const unsigned char *buf, size_t len)
{
	return len >= REC_HDR && dec32(buf) == REC_VERSION &&
	    dec32(buf + 4) == len - REC_HDR;
}

static void
rec_decode(const unsigned char *buf, struct cache_rec *r)
{
	r->expires = (time_t)dec64(buf + OFF_EXPIRES);
	r->stored = (time_t)dec64(buf + 16);
	r->atime = (time_t)dec64(buf + OFF_ATIME);
	r->size = dec64(buf + 32);
	r->inode = dec64(buf + 40);
	r->status = dec32(buf + 48);
	r->flags = dec32(buf + 52);
}

/* Secondary key callbacks: the stored big-endian time field itself. */
static int
sec_key(const DBT *pd, DBT *sk, size_t off)
{
	if (!rec_valid(pd->data, pd->size))
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
	if (pd->size >= REC_HDR &&
	    dec64((unsigned char *)pd->data + OFF_EXPIRES) == 0)
		return DB_DONOTINDEX;
	return sec_key(pd, sk, OFF_EXPIRES);
}

static int
lru_key(DB *sec, const DBT *pk, const DBT *pd, DBT *sk)
{
	(void)sec;
	(void)pk;
	return sec_key(pd, sk, OFF_ATIME);
}

/*--------------------------------------------------------------------
 * Errors and logging
 */

const char *
cache_db_version(void)
{
	return db_version(NULL, NULL, NULL);
}

const char *
cache_db_status_name(enum cache_db_status st)
{
	static const char *const names[] = {
		"ok", "miss", "busy", "error", "dead"
	};

	if ((unsigned)st >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[st];
}

/* db_log - log about h, at most ERR_BURST lines a window for errors. */
static void
db_log(struct cache_db *h, enum gw_loglevel level, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;
	time_t	 now;

	if (level <= GW_LOG_ERR) {
		now = time(NULL);
		if (now - h->err_time >= ERR_WINDOW) {
			if (h->err_count > ERR_BURST)
				log_msg(GW_LOG_ERR, "cache index %s: %u more "
				    "errors not logged", h->home,
				    h->err_count - ERR_BURST);
			h->err_time = now;
			h->err_count = 0;
		}
		if (++h->err_count > ERR_BURST)
			return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "cache index %s: %s", h->home, msg);
}

static void
mark_dead(struct cache_db *h, const char *why)
{
	if (h->dead)
		return;
	h->dead = 1;
	log_msg(GW_LOG_ERR, "cache index %s: %s; serving uncached in "
	    "process %ld", h->home, why, (long)getpid());
}

/* fail - map a BDB code onto a status, logging real failures. */
static enum cache_db_status
fail(struct cache_db *h, int rc, const char *what)
{
	switch (rc) {
	case 0:
		return CACHE_DB_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return CACHE_DB_MISS;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return CACHE_DB_BUSY;
	case DB_RUNRECOVERY:
		mark_dead(h, db_strerror(rc));
		return CACHE_DB_DEAD;
	default:
		db_log(h, GW_LOG_ERR, "%s: %s", what, db_strerror(rc));
		return CACHE_DB_ERROR;
	}
}

static void
on_error(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct cache_db	*h = env->app_private;

	(void)pfx;
	if (h != NULL && !h->dead)	/* once dead, the rest is noise */
		db_log(h, GW_LOG_ERR, "%s", msg);
}

static void
on_message(const DB_ENV *env, const char *msg)
{
	struct cache_db	*h = env->app_private;

	if (h == NULL)
		return;
	/*
	 * cache_db_watch: every worker exits with its databases open, so
	 * each second's failchk may free what a dead process's handles
	 * held: their read locks (BDB2053), log file registrations
	 * (BDB1502), mutexes (BDB2017).  Routine, not news.  A dead
	 * process's transaction aborted (BDB4503) is.
	 */
	if (h->watching) {
		if (strstr(msg, "Aborting txn") == NULL) {
			db_log(h, GW_LOG_DEBUG, "%s", msg);
			return;
		}
		h->found++;
	}
	db_log(h, GW_LOG_NOTICE, "%s", msg);
}

static void
on_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct cache_db	*h = env->app_private;

	(void)info;
	if (h == NULL)
		return;
	if (event == DB_EVENT_PANIC)
		mark_dead(h, "environment panic, recovery needed");
	else if (event == DB_EVENT_WRITE_FAILED)
		db_log(h, GW_LOG_ERR, "a write failed");
}

/*
 * cache_db_self - getpid(), remembered: the hit path asks for it many
 * times (and Berkeley DB once per call, for its thread id), and glibc
 * no longer caches it.  A fork forgets it (pthread_atfork).
 */
static pid_t	self_pid;

static void
self_forget(void)
{
	self_pid = 0;
}

pid_t
cache_db_self(void)
{
	static int	registered;

	if (!registered) {
		registered = 1;
		if (pthread_atfork(NULL, NULL, self_forget) != 0)
			registered = 0;	/* then never remembered */
	}
	if (self_pid == 0 || !registered)
		return self_pid = getpid();
	return self_pid;
}

/* usable - h may be used by this process. */
static int
usable(struct cache_db *h)
{
	if (h == NULL || h->dead)
		return 0;
	assert(h->magic == CDB_MAGIC);
	if (h->pid != cache_db_self()) {
		mark_dead(h, "handle used across fork (a bug)");
		return 0;
	}
	return 1;
}

int
cache_db_alive(const struct cache_db *h)
{
	return h != NULL && !h->dead && h->pid == cache_db_self();
}

/*--------------------------------------------------------------------
 * Opening
 */

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

static void
opts_fill(struct cache_db_opts *o, const struct cache_db_opts *in)
{
	if (in != NULL)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
	if (o->server_limit <= 0)
		o->server_limit = DEF_SERVERS;
	if (o->cachesize == 0)
		o->cachesize = DEF_CACHESIZE;
	if (o->lock_timeout_ms == 0)
		o->lock_timeout_ms = DEF_LOCK_MS;
}

/*
 * env_setup - the settings every process makes before env->open; the
 * sizes only count when the environment is created.
 */
static int
env_setup(struct cache_db *h, const struct cache_db_opts *o)
{
	DB_ENV		*env = h->env;
	u_int32_t	 n = (u_int32_t)o->server_limit;
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
	    (rc = env->set_lk_max_locks(env, at_least(20 * n, 1000))) != 0 ||
	    (rc = env->set_lk_max_objects(env, at_least(20 * n, 1000))) != 0 ||
	    (rc = env->set_tx_max(env, at_least(n + 8, 100))) != 0 ||
	    (rc = env->set_cachesize(env,
	    (u_int32_t)(o->cachesize >> 30),
	    (u_int32_t)(o->cachesize & ((1u << 30) - 1)), 1)) != 0 ||
	    (rc = env->set_flags(env,
	    DB_TXN_WRITE_NOSYNC | DB_TIME_NOTGRANTED, 1)) != 0 ||
	    (rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0 ||
	    (rc = env->set_timeout(env, (db_timeout_t)o->lock_timeout_ms *
	    1000, DB_SET_LOCK_TIMEOUT)) != 0)
		return rc;
	if (o->own && (rc = env->set_lg_filemode(env, 0660)) != 0)
		return rc;
	return 0;
}

static struct cache_db *
handle_new(const char *home, int master)
{
	struct cache_db	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->magic = CDB_MAGIC;
	h->pid = cache_db_self();
	h->master = master;
	if ((size_t)snprintf(h->home, sizeof(h->home), "%s", home) >=
	    sizeof(h->home)) {
		free(h);
		errno = ENAMETOOLONG;
		return NULL;
	}
	return h;
}

/* close_all - close whatever h has open; 0 or the first BDB error. */
static int
close_all(struct cache_db *h)
{
	DB	**dbs[] = { &h->expiry, &h->lru, &h->index };
	size_t	 i;
	int	 rc, first = 0;

	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		if (*dbs[i] == NULL)
			continue;
		if ((rc = (*dbs[i])->close(*dbs[i], 0)) != 0 && first == 0)
			first = rc;
		*dbs[i] = NULL;
	}
	if (h->env != NULL) {
		if ((rc = h->env->close(h->env, 0)) != 0 && first == 0)
			first = rc;
		h->env = NULL;
	}
	return first;
}

static int
db_open(struct cache_db *h, DB **dbp, const char *file, int dup,
    int create)
{
	DB	*db;
	int	 rc;

	if ((rc = db_create(&db, h->env, 0)) != 0)
		return rc;
	*dbp = db;		/* closed by close_all, even if open fails */
	if ((rc = db->set_pagesize(db, PAGESIZE)) != 0 ||
	    (dup && (rc = db->set_flags(db, DB_DUP | DB_DUPSORT)) != 0))
		return rc;
	return db->open(db, NULL, file, NULL, DB_BTREE,
	    DB_AUTO_COMMIT | (create ? DB_CREATE : 0), 0);
}

/*
 * open_dbs - open the three databases and associate the secondaries
 * (the master with DB_CREATE, which also fills an empty secondary).
 */
static int
open_dbs(struct cache_db *h, int create)
{
	u_int32_t	 af = create ? DB_CREATE : 0;
	int		 rc;

	if ((rc = db_open(h, &h->index, db_files[0], 0, create)) != 0 ||
	    (rc = db_open(h, &h->expiry, db_files[1], 1, create)) != 0 ||
	    (rc = db_open(h, &h->lru, db_files[2], 1, create)) != 0 ||
	    (rc = h->index->associate(h->index, NULL, h->expiry, expiry_key,
	    af)) != 0 ||
	    (rc = h->index->associate(h->index, NULL, h->lru, lru_key,
	    af)) != 0)
		return rc;
	/* from now on this process never waits for a lock (see backoff);
	   opening may, briefly, as nothing else holds its locks long */
	return h->env->set_flags(h->env, DB_TXN_NOWAIT, 1);
}

/*
 * verify_files - DB->verify each existing file, on disk, in a private
 * environment of its own (its scratch databases would exhaust the
 * shared environment's mutexes).  h's dirty pages go to disk first;
 * nothing may write meanwhile.
 */
static int
verify_files(struct cache_db *h)
{
	char	 path[PATH_MAX];
	DB	*db;
	size_t	 i;
	int	 rc;

	if ((rc = h->env->memp_sync(h->env, NULL)) != 0)
		return rc;
	for (i = 0; i < sizeof(db_files) / sizeof(db_files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", h->home,
		    db_files[i]);
		if (access(path, F_OK) == -1 && errno == ENOENT)
			continue;
		if ((rc = db_create(&db, NULL, 0)) != 0)
			return rc;
		db->dbenv->app_private = h;	/* its private env */
		db->set_errcall(db, on_error);
		db->set_msgcall(db, on_message);
		/* verify destroys the handle, whatever it returns */
		if ((rc = db->verify(db, path, NULL, NULL, 0)) != 0) {
			db_log(h, GW_LOG_ERR, "%s: %s", db_files[i],
			    db_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* own_home - give the index to the workers' uid:gid (setgid dir). */
static int
own_home(const char *home, uid_t uid, gid_t gid)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd, rc = 0;

	if (chown(home, uid, gid) == -1 || chmod(home, 02770) == -1)
		return -1;
	if ((d = opendir(home)) == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fchownat(dfd, de->d_name, uid, gid,
		    AT_SYMLINK_NOFOLLOW) == -1 ||
		    fchmodat(dfd, de->d_name, 0660, 0) == -1)
			rc = -1;
	}
	if (closedir(d) == -1)
		rc = -1;
	return rc;
}

static int
make_home(const char *home, const struct cache_db_opts *o)
{
	struct stat	 st;

	if (mkdir(home, 0700) == -1 && errno != EEXIST)
		return -1;
	if (stat(home, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (o->own && (chown(home, o->uid, o->gid) == -1 ||
	    chmod(home, 02770) == -1))
		return -1;
	return 0;
}

/*
 * master_try - one attempt at the master's open: make the directory,
 * recover, verify if asked, open.  NULL with the reason in err.
 */
static struct cache_db *
master_try(const char *home, const struct cache_db_opts *o, char *err,
    size_t errlen)
{
	struct cache_db	*h;
	char		 marker[PATH_MAX];
	int		 rc, unclean, check;

	if (make_home(home, o) == -1) {
		set_err(err, errlen, "%s: %s", home, strerror(errno));
		return NULL;
	}
	if ((h = handle_new(home, 1)) == NULL) {
		set_err(err, errlen, "%s: %s", home, strerror(errno));
		return NULL;
	}
	(void)snprintf(marker, sizeof(marker), "%s/%s", h->home, CLEAN_MARKER);
	unclean = access(marker, F_OK) == -1;
	check = o->verify == CACHE_DB_VERIFY_ALWAYS ||
	    (o->verify == CACHE_DB_VERIFY_UNCLEAN && unclean);
	if ((rc = db_env_create(&h->env, 0)) != 0 ||
	    (rc = env_setup(h, o)) != 0 ||
	    (rc = h->env->open(h->env, home,
	    ENV_FLAGS | DB_CREATE | DB_RECOVER, o->own ? 0660 : 0600)) != 0 ||
	    (check && (rc = verify_files(h)) != 0) ||
	    (rc = open_dbs(h, 1)) != 0) {
		set_err(err, errlen, "%s: %s", home, db_strerror(rc));
		(void)close_all(h);
		free(h);
		return NULL;
	}
	if (unlink(marker) == -1 && errno != ENOENT)
		db_log(h, GW_LOG_WARN, "unlink %s: %s", marker,
		    strerror(errno));
	if (o->own && own_home(home, o->uid, o->gid) == -1) {
		set_err(err, errlen, "%s: chown to %ld:%ld: %s", home,
		    (long)o->uid, (long)o->gid, strerror(errno));
		(void)close_all(h);
		free(h);
		return NULL;
	}
	return h;
}

/* rm_flat - remove a file, or a directory of files (none is fine). */
static int
rm_flat(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOTDIR)
			return unlink(dir);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1)
			rc = -1;
	}
	if (closedir(d) == -1)
		rc = -1;
	if (rc == 0 && rmdir(dir) == -1)
		rc = -1;
	return rc;
}

/* set_aside - move home to <root>/.index.broken, replacing an old one. */
static int
set_aside(const char *root, const char *home, char *err, size_t errlen)
{
	char	 aside[PATH_MAX];

	if ((size_t)snprintf(aside, sizeof(aside), "%s/%s", root, ASIDE) >=
	    sizeof(aside)) {
		set_err(err, errlen, "%s: %s", root, strerror(ENAMETOOLONG));
		return -1;
	}
	if (rm_flat(aside) == -1) {
		set_err(err, errlen, "removing %s: %s", aside,
		    strerror(errno));
		return -1;
	}
	if (rename(home, aside) == -1 && errno != ENOENT) {
		set_err(err, errlen, "renaming %s to %s: %s", home, aside,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
home_path(char *home, size_t len, const char *root, char *err,
    size_t errlen)
{
	struct stat	 st;

	if (root == NULL || *root == '\0') {
		set_err(err, errlen, "no CacheRoot");
		return -1;
	}
	if (stat(root, &st) == -1) {
		set_err(err, errlen, "CacheRoot %s: %s", root, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "CacheRoot %s: %s", root,
		    strerror(ENOTDIR));
		return -1;
	}
	if ((size_t)snprintf(home, len, "%s/%s", root, CACHE_DB_HOME) >=
	    (len < HOME_MAX ? len : HOME_MAX)) {
		set_err(err, errlen, "CacheRoot %s: %s", root,
		    strerror(ENAMETOOLONG));
		return -1;
	}
	return 0;
}

struct cache_db *
cache_db_master_open(const char *root, const struct cache_db_opts *in,
    char *err, size_t errlen)
{
	struct cache_db_opts	 o;
	struct cache_db		*h;
	char			 home[HOME_MAX], why[512], why2[512];

	opts_fill(&o, in);
	if (home_path(home, sizeof(home), root, err, errlen) == -1)
		return NULL;
	if ((h = master_try(home, &o, why, sizeof(why))) != NULL)
		return h;
	log_msg(GW_LOG_ERR, "cache index %s unusable (%s): rebuilding it "
	    "empty", home, why);
	if (set_aside(root, home, why2, sizeof(why2)) == 0 &&
	    (h = master_try(home, &o, why2, sizeof(why2))) != NULL) {
		log_msg(GW_LOG_NOTICE, "cache index %s rebuilt; the old one "
		    "is in %s/%s", home, root, ASIDE);
		return h;
	}
	set_err(err, errlen, "cache index %s: %s; rebuild failed: %s", home,
	    why, why2);
	return NULL;
}

struct cache_db *
cache_db_worker_open(const char *root, const struct cache_db_opts *in)
{
	struct cache_db_opts	 o;
	struct cache_db		*h;
	char			 home[HOME_MAX], why[512];
	int			 rc;

	opts_fill(&o, in);
	if (home_path(home, sizeof(home), root, why, sizeof(why)) == -1) {
		log_msg(GW_LOG_ERR, "cache index: %s", why);
		return NULL;
	}
	if ((h = handle_new(home, 0)) == NULL) {
		log_errno(GW_LOG_ERR, "cache index %s", home);
		return NULL;
	}
	if ((rc = db_env_create(&h->env, 0)) != 0 ||
	    (rc = env_setup(h, &o)) != 0 ||
	    (rc = h->env->open(h->env, home, ENV_FLAGS, 0)) != 0 ||
	    (rc = open_dbs(h, 0)) != 0) {
		log_msg(GW_LOG_ERR, "cache index %s: %s; serving uncached",
		    home, db_strerror(rc));
		(void)close_all(h);
		free(h);
		return NULL;
	}
	return h;
}

/* mark_clean - master's clean stop: the next open need not verify. */
static void
mark_clean(struct cache_db *h)
{
	char	 marker[PATH_MAX];
	int	 fd;

	(void)snprintf(marker, sizeof(marker), "%s/%s", h->home,
	    CLEAN_MARKER);
	if ((fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    close(fd) == -1)
		db_log(h, GW_LOG_WARN, "%s: %s", marker, strerror(errno));
}

/*
 * After a panic, DB_ENV->close and DB->close close file handles and
 * leave the handles' memory to the process (src/env/env_open.c,
 * __env_close_pp).  A master that rebuilds an index at run time, or a
 * cache manager stopped for it, then lives on (and forks) with that
 * memory: a pointer to each such environment is kept here, so that it
 * stays reachable (no leak report) though never used again.
 */
#define ABANDONED_MAX	64
static DB_ENV	*abandoned[ABANDONED_MAX];
static int	 nabandoned;

void
cache_db_close(struct cache_db *h)
{
	DB_ENV	*env;
	int	 rc, clean;

	if (h == NULL)
		return;
	assert(h->magic == CDB_MAGIC);
	if (h->pid != getpid()) {	/* inherited: not ours to touch */
		h->orphan_next = orphans;	/* and not a leak either */
		orphans = h;
		return;
	}
	clean = h->master && !h->dead;
	if (clean && (rc = h->env->txn_checkpoint(h->env, 0, 0,
	    DB_FORCE)) != 0) {
		(void)fail(h, rc, "checkpoint");
		clean = 0;
	}
	env = h->env;
	if ((rc = close_all(h)) != 0) {
		(void)fail(h, rc, "close");
		clean = 0;
	}
	if (h->dead && env != NULL && nabandoned < ABANDONED_MAX)
		abandoned[nabandoned++] = env;
	if (clean)
		mark_clean(h);
	h->magic = 0;
	free(h);
}

/*--------------------------------------------------------------------
 * Master upkeep
 */

enum cache_db_status
cache_db_failchk(struct cache_db *h)
{
	int	 rc;

	if (!usable(h))
		return CACHE_DB_DEAD;
	assert(h->master);
	if ((rc = h->env->failchk(h->env, 0)) == 0)
		return CACHE_DB_OK;
	mark_dead(h, db_strerror(rc));
	return CACHE_DB_DEAD;
}

enum cache_db_status
cache_db_tick(struct cache_db *h)
{
	int	 rc, rejected = 0;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if ((rc = h->env->txn_checkpoint(h->env, 1024, 1, 0)) != 0)
		return fail(h, rc, "checkpoint");
	if ((rc = h->env->lock_detect(h->env, 0, DB_LOCK_EXPIRE,
	    &rejected)) != 0)
		return fail(h, rc, "lock_detect");
	if (rejected > 0)
		db_log(h, GW_LOG_INFO, "%d lock waits timed out", rejected);
	return CACHE_DB_OK;
}

/*
 * cache_db_watch - failchk, and on failure a panic: see cache_db.h.
 * Neither waits on what a process that died inside Berkeley DB held:
 * failchk first walks the thread table (no mutex) and stops at such a
 * process, and setting the panic flag is a store into the region.
 */
enum cache_db_status
cache_db_watch(struct cache_db *h, int *found)
{
	int	 rc;

	if (found != NULL)
		*found = 0;
	if (h != NULL && h->dead && h->env != NULL &&
	    h->pid == cache_db_self()) {
		/* already dead (a panic seen): make sure all see it */
		(void)h->env->set_flags(h->env, DB_PANIC_ENVIRONMENT, 1);
		return CACHE_DB_DEAD;
	}
	if (!usable(h))
		return CACHE_DB_DEAD;
	h->found = 0;
	h->watching = 1;
	rc = h->env->failchk(h->env, 0);
	h->watching = 0;
	if (found != NULL)
		*found = h->found;
	if (rc == 0)
		return CACHE_DB_OK;
	mark_dead(h, rc == DB_RUNRECOVERY ? "failchk: a process died inside "
	    "Berkeley DB (or the environment panicked), recovery needed" :
	    db_strerror(rc));
	/* quiet now (dead): the panic's own messages are not logged */
	(void)h->env->set_flags(h->env, DB_PANIC_ENVIRONMENT, 1);
	return CACHE_DB_DEAD;
}

/*--------------------------------------------------------------------
 * Records
 */

/* key_set - k = name, if name is a valid hash name. */
static int
key_set(DBT *k, const char *name)
{
	size_t	 len;

	if (name == NULL || (len = strlen(name)) == 0 ||
	    len > CACHE_DB_NAME_MAX)
		return -1;
	memset(k, 0, sizeof(*k));
	k->data = (void *)(uintptr_t)name;
	k->size = (u_int32_t)len;
	return 0;
}

/*
 * No process ever waits for a lock (DB_TXN_NOWAIT on each handle once
 * its databases are open, see open_dbs):
 * a process killed while waiting for one leaves a condition variable
 * that the next failchk, freeing its lock, waits on for good (glibc's
 * pthread_cond_destroy; seen with Berkeley DB 5.3 and glibc 2.36), and
 * the master runs failchk.  A writer that meets a lock aborts, sleeps a
 * little (backoff) and tries again.
 */
static void
backoff(int attempt)
{
	struct timespec	ts = { 0, 500000L << (attempt < 4 ? attempt : 4) };

	(void)nanosleep(&ts, NULL);
}

/*
 * in_txn - run op in a transaction and commit it; after a lock conflict
 * or a deadlock, abort and run it again after a backoff (not when the
 * caller asked for DB_TXN_NOWAIT itself: it skips).
 */
static enum cache_db_status
in_txn(struct cache_db *h, u_int32_t flags, txn_op *op, void *arg,
    const char *what)
{
	DB_TXN	*t;
	int	 i, rc, rc2;

	for (i = 0; i < CACHE_DB_RETRIES; i++) {
		if ((rc = h->env->txn_begin(h->env, NULL, &t, flags)) != 0)
			return fail(h, rc, "txn_begin");
		if ((rc = op(h, t, arg)) == 0)
			return (rc = t->commit(t, 0)) == 0 ? CACHE_DB_OK :
			    fail(h, rc, "commit");
		if ((rc2 = t->abort(t)) != 0)
			return fail(h, rc2, "abort");
		if (rc == NOCHANGE)
			return CACHE_DB_OK;
		if ((rc != DB_LOCK_DEADLOCK && rc != DB_LOCK_NOTGRANTED) ||
		    (flags & DB_TXN_NOWAIT))
			return fail(h, rc, what);
		if (test_hook != NULL)
			test_hook("retry");
		backoff(i);
	}
	db_log(h, GW_LOG_INFO, "%s: still in conflict after %d tries",
	    what, CACHE_DB_RETRIES);
	return CACHE_DB_BUSY;
}

enum cache_db_status
cache_db_get(struct cache_db *h, const char *name, const char *url,
    struct cache_rec *out)
{
	DB_TXN	*t;
	DBT	 k, d;
	size_t	 ulen;
	int	 rc, rc2;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if (key_set(&k, name) == -1 || url == NULL ||
	    (ulen = strlen(url)) > CACHE_DB_URL_MAX)
		return CACHE_DB_MISS;
	if ((rc = h->env->txn_begin(h->env, NULL, &t,
	    DB_TXN_NOWAIT | DB_READ_COMMITTED)) != 0)
		return fail(h, rc, "txn_begin");
	dbt_usermem(&d, h->buf, sizeof(h->buf));
	rc = h->index->get(h->index, t, &k, &d, 0);
	if ((rc2 = t->abort(t)) != 0 && rc == 0)	/* read only */
		rc = rc2;
	if (rc == DB_BUFFER_SMALL)
		return CACHE_DB_MISS;
	if (rc != 0)
		return fail(h, rc, "get");
	if (!rec_valid(h->buf, d.size) || d.size - REC_HDR != ulen ||
	    memcmp(h->buf + REC_HDR, url, ulen) != 0)
		return CACHE_DB_MISS;
	if (out != NULL)
		rec_decode(h->buf, out);
	return CACHE_DB_OK;
}

struct put_arg {
	DBT	*k, *d;
};

static int
put_op(struct cache_db *h, DB_TXN *t, void *arg)
{
	struct put_arg	*a = arg;
	int		 rc;

	rc = h->index->put(h->index, t, a->k, a->d, 0);
	if (rc == 0 && test_hook != NULL)
		test_hook("put");
	return rc;
}

enum cache_db_status
cache_db_put(struct cache_db *h, const char *name, const char *url,
    const struct cache_rec *rec)
{
	struct put_arg	 a;
	DBT		 k, d;
	size_t		 ulen;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if (key_set(&k, name) == -1 || url == NULL || rec == NULL ||
	    (ulen = strlen(url)) > CACHE_DB_URL_MAX) {
		db_log(h, GW_LOG_DEBUG, "put: bad name or URL");
		return CACHE_DB_ERROR;
	}
	memset(&d, 0, sizeof(d));
	d.data = h->buf;
	d.size = (u_int32_t)rec_encode(h->buf, url, ulen, rec);
	a.k = &k;
	a.d = &d;
	return in_txn(h, 0, put_op, &a, "put");
}

static int
del_op(struct cache_db *h, DB_TXN *t, void *arg)
{
	return h->index->del(h->index, t, arg, 0);
}

enum cache_db_status
cache_db_del(struct cache_db *h, const char *name)
{
	DBT	 k;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if (key_set(&k, name) == -1)
		return CACHE_DB_MISS;
	return in_txn(h, 0, del_op, &k, "del");
}

struct touch_arg {
	DBT	*k;
	time_t	 now;
};

static int
touch_op(struct cache_db *h, DB_TXN *t, void *arg)
{
	struct touch_arg	*a = arg;
	DBT			 d, nd;
	time_t			 atime;
	int			 rc;

	/* a read lock first: most touches find the time recent enough */
	dbt_usermem(&d, h->buf, sizeof(h->buf));
	if ((rc = h->index->get(h->index, t, a->k, &d, 0)) != 0)
		return rc;
	if (!rec_valid(h->buf, d.size))
		return DB_NOTFOUND;
	atime = (time_t)dec64(h->buf + OFF_ATIME);
	if (atime <= a->now && a->now - atime < CACHE_DB_TOUCH_INTERVAL)
		return NOCHANGE;
	enc64(h->buf + OFF_ATIME, time_field(a->now));
	memset(&nd, 0, sizeof(nd));
	nd.data = h->buf;
	nd.size = d.size;
	return h->index->put(h->index, t, a->k, &nd, 0);
}

enum cache_db_status
cache_db_touch(struct cache_db *h, const char *name, time_t now)
{
	struct touch_arg	 a;
	DBT			 k;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if (key_set(&k, name) == -1)
		return CACHE_DB_MISS;
	a.k = &k;
	a.now = now;
	return in_txn(h, DB_TXN_NOWAIT, touch_op, &a, "touch");
}

/*--------------------------------------------------------------------
 * Eviction
 */

enum evict_phase { EV_FUTURE, EV_EXPIRED, EV_LRU, EV_DONE };

struct evict_item {
	char			 name[CACHE_DB_NAME_MAX + 1];
	struct cache_rec	 rec;
};

struct evict_arg {
	const struct cache_db_limits *lim;
	time_t			 now;
	enum evict_phase	 phase;
	int			 phase_done;	/* nothing more to take */
	uint64_t		 entries, bytes; /* in: batch start; out */
	int			 n;
	struct evict_item	 items[EVICT_BATCH];
};

static int
over(const struct cache_db_limits *l, uint64_t entries, uint64_t bytes)
{
	return (l->max_entries > 0 && entries > l->max_entries) ||
	    (l->max_bytes > 0 && bytes > l->max_bytes);
}

/* in_phase - is the record keyed at 'when' taken by this phase? */
static int
in_phase(const struct evict_arg *a, uint64_t when)
{
	switch (a->phase) {
	case EV_FUTURE:
		return when > time_field(a->now) + FUTURE_SLACK;
	case EV_EXPIRED:
		return when < time_field(a->now);
	default:
		return 1;
	}
}

/*
 * evict_op - one batch: walk the phase's secondary, removing records
 * (DBC->del on a secondary removes the primary record and every index
 * entry) until the limits hold, the batch is full or the phase ends.
 */
static int
evict_op(struct cache_db *h, DB_TXN *t, void *arg)
{
	struct evict_arg	*a = arg;
	struct evict_item	*it;
	DB			*sec;
	u_int32_t		 how;
	uint64_t		 entries = a->entries, bytes = a->bytes;
	unsigned char		 skb[8];
	DBC			*c;
	DBT			 sk, pk, pd;
	int			 rc, rc2;

	sec = a->phase == EV_EXPIRED ? h->expiry : h->lru;
	how = a->phase == EV_FUTURE ? DB_LAST : DB_FIRST;
	a->n = 0;
	a->phase_done = 0;
	if ((rc = sec->cursor(sec, t, &c, 0)) != 0)
		return rc;
	while (a->n < EVICT_BATCH && over(a->lim, entries, bytes)) {
		it = &a->items[a->n];
		dbt_usermem(&sk, skb, sizeof(skb));
		dbt_usermem(&pk, it->name, CACHE_DB_NAME_MAX);
		dbt_usermem(&pd, h->buf, sizeof(h->buf));
		rc = c->pget(c, &sk, &pk, &pd, how);
		how = a->phase == EV_FUTURE ? DB_PREV : DB_NEXT;
		if (rc == DB_NOTFOUND || (rc == 0 && (sk.size != 8 ||
		    !in_phase(a, dec64(skb))))) {
			a->phase_done = 1;
			rc = 0;
			break;
		}
		if (rc != 0 || (rc = c->del(c, 0)) != 0)
			break;
		it->name[pk.size] = '\0';
		memset(&it->rec, 0, sizeof(it->rec));
		if (rec_valid(h->buf, pd.size))
			rec_decode(h->buf, &it->rec);
		entries = entries > 0 ? entries - 1 : 0;
		bytes = bytes > it->rec.size ? bytes - it->rec.size : 0;
		a->n++;
	}
	if ((rc2 = c->close(c)) != 0 && rc == 0)
		rc = rc2;
	if (rc == 0) {
		a->entries = entries;
		a->bytes = bytes;
	}
	return rc;
}

long
cache_db_evict(struct cache_db *h, time_t now,
    const struct cache_db_limits *lim, struct cache_db_stats *totals,
    cache_db_evict_fn *fn, void *arg, enum cache_db_status *status)
{
	struct cache_db_stats	 counted;
	struct evict_arg	*a;
	enum cache_db_status	 st = CACHE_DB_OK;
	long			 removed = 0;
	int			 i;

	if (!usable(h))
		st = CACHE_DB_DEAD;
	else if (totals == NULL &&
	    (st = cache_db_stats(h, &counted)) == CACHE_DB_OK)
		totals = &counted;
	if (st != CACHE_DB_OK || (a = calloc(1, sizeof(*a))) == NULL) {
		if (st == CACHE_DB_OK)
			st = CACHE_DB_ERROR;
		if (status != NULL)
			*status = st;
		return 0;
	}
	a->lim = lim;
	a->now = now;
	a->phase = EV_FUTURE;
	while (a->phase != EV_DONE &&
	    over(lim, totals->entries, totals->bytes)) {
		a->entries = totals->entries;
		a->bytes = totals->bytes;
		if ((st = in_txn(h, 0, evict_op, a, "evict")) != CACHE_DB_OK)
			break;
		totals->entries = a->entries;
		totals->bytes = a->bytes;
		for (i = 0; i < a->n; i++)
			if (fn != NULL)
				fn(a->items[i].name, &a->items[i].rec, arg);
		removed += a->n;
		if (a->phase_done)
			a->phase++;
	}
	free(a);
	if (status != NULL)
		*status = st;
	return removed;
}

/*--------------------------------------------------------------------
 * Walks
 */

struct scan_pos {
	unsigned char	 key[CACHE_DB_NAME_MAX];
	u_int32_t	 len;
	int		 started;
};

typedef void	 scan_fn(const DBT *k, const DBT *d, void *arg);

/* scan_next - position c on the first record after pos. */
static int
scan_next(DBC *c, const struct scan_pos *pos, DBT *k, DBT *d, int first)
{
	int	 rc;

	if (!first || !pos->started)
		return c->get(c, k, d, first ? DB_FIRST : DB_NEXT);
	memcpy(k->data, pos->key, pos->len);
	k->size = pos->len;
	rc = c->get(c, k, d, DB_SET_RANGE);
	if (rc == 0 && k->size == pos->len &&
	    memcmp(k->data, pos->key, pos->len) == 0)
		rc = c->get(c, k, d, DB_NEXT);
	return rc;
}

/*
 * scan - visit at most max records of index.db after pos, in one
 * read-committed transaction; fn runs with the cursor open (it must
 * not use h's databases).  *end is set after the last record.
 */
static int
scan(struct cache_db *h, struct scan_pos *pos, int max, scan_fn *fn,
    void *arg, int *end)
{
	unsigned char	 kb[CACHE_DB_NAME_MAX];
	DB_TXN		*t;
	DBC		*c;
	DBT		 k, d;
	int		 n, rc, rc2;

	*end = 0;
	if ((rc = h->env->txn_begin(h->env, NULL, &t,
	    DB_READ_COMMITTED)) != 0)
		return rc;
	if ((rc = h->index->cursor(h->index, t, &c, 0)) != 0) {
		rc2 = t->abort(t);
		return rc2 != 0 ? rc2 : rc;
	}
	for (n = 0; n < max; n++) {
		dbt_usermem(&k, kb, sizeof(kb));
		dbt_usermem(&d, h->buf, sizeof(h->buf));
		if ((rc = scan_next(c, pos, &k, &d, n == 0)) != 0)
			break;
		fn(&k, &d, arg);
		memcpy(pos->key, kb, k.size);
		pos->len = k.size;
		pos->started = 1;
	}
	if (rc == DB_NOTFOUND) {
		*end = 1;
		rc = 0;
	}
	if ((rc2 = c->close(c)) != 0 && rc == 0)
		rc = rc2;
	if (rc == 0)
		return t->commit(t, 0);
	return (rc2 = t->abort(t)) != 0 ? rc2 : rc;
}

/*
 * scan_all - scan to the end in batches of max, going on from where a
 * deadlock or lock timeout stopped (at most CACHE_DB_RETRIES in a row).
 */
static enum cache_db_status
scan_all(struct cache_db *h, int max, scan_fn *fn, void *arg)
{
	struct scan_pos	 pos;
	int		 rc, end = 0, tries = 0;

	memset(&pos, 0, sizeof(pos));
	while (!end) {
		rc = scan(h, &pos, max, fn, arg, &end);
		if (rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED) {
			if (++tries >= CACHE_DB_RETRIES)
				return CACHE_DB_BUSY;
			backoff(tries);
			continue;
		}
		if (rc != 0)
			return fail(h, rc, "scan");
		tries = 0;
	}
	return CACHE_DB_OK;
}

struct count_arg {
	uint64_t	 entries, bytes, expiring;
};

static void
count_rec(const DBT *k, const DBT *d, void *arg)
{
	struct count_arg	*a = arg;
	struct cache_rec	 r;

	(void)k;
	a->entries++;
	if (!rec_valid(d->data, d->size))
		return;
	rec_decode(d->data, &r);
	a->bytes += r.size;
	if (r.expires != 0)
		a->expiring++;
}

/* sec_count - data items in a secondary (a full DB->stat). */
static int
sec_count(DB *db, uint64_t *n)
{
	DB_BTREE_STAT	*sp;
	DB_ENV		*env = db->get_env(db);
	DB_TXN		*t;
	int		 rc, rc2, tries;

	for (tries = 0; tries < CACHE_DB_RETRIES; tries++) {
		/* in a transaction, so that it never waits (see backoff) */
		if ((rc = env->txn_begin(env, NULL, &t, DB_TXN_NOWAIT |
		    DB_READ_COMMITTED)) != 0)
			return rc;
		rc = db->stat(db, t, &sp, DB_READ_COMMITTED);
		if ((rc2 = rc == 0 ? t->commit(t, 0) : t->abort(t)) != 0) {
			if (rc == 0)
				free(sp);
			return rc2;
		}
		if (rc == 0) {
			*n = sp->bt_ndata;
			free(sp);
			return 0;
		}
		if (rc != DB_LOCK_DEADLOCK && rc != DB_LOCK_NOTGRANTED)
			break;
		backoff(tries);
	}
	return rc;
}

static enum cache_db_status
count_all(struct cache_db *h, struct count_arg *ca, struct cache_db_stats *st)
{
	enum cache_db_status	 s;
	int			 rc;

	memset(ca, 0, sizeof(*ca));
	memset(st, 0, sizeof(*st));
	if ((s = scan_all(h, STATS_BATCH, count_rec, ca)) != CACHE_DB_OK)
		return s;
	st->entries = ca->entries;
	st->bytes = ca->bytes;
	if ((rc = sec_count(h->expiry, &st->expiry_entries)) != 0 ||
	    (rc = sec_count(h->lru, &st->lru_entries)) != 0)
		return fail(h, rc, "stat");
	return CACHE_DB_OK;
}

enum cache_db_status
cache_db_stats(struct cache_db *h, struct cache_db_stats *st)
{
	struct count_arg	 ca;

	if (!usable(h))
		return CACHE_DB_DEAD;
	return count_all(h, &ca, st);
}

struct iter_arg {
	char			 name[CACHE_DB_NAME_MAX + 1];
	char			*url;		/* URL_MAX + 1 bytes */
	struct cache_rec	 rec;
	int			 valid;
};

static void
copy_rec(const DBT *k, const DBT *d, void *arg)
{
	struct iter_arg	*a = arg;
	size_t		 ulen;

	memcpy(a->name, k->data, k->size);
	a->name[k->size] = '\0';
	a->valid = rec_valid(d->data, d->size);
	if (!a->valid)
		return;
	ulen = d->size - REC_HDR;
	memcpy(a->url, (unsigned char *)d->data + REC_HDR, ulen);
	a->url[ulen] = '\0';
	rec_decode(d->data, &a->rec);
}

enum cache_db_status
cache_db_iterate(struct cache_db *h, cache_db_iter_fn *fn, void *arg)
{
	struct iter_arg	 a;
	struct scan_pos	 pos;
	int		 rc, end = 0, tries = 0, stop = 0;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if ((a.url = malloc(CACHE_DB_URL_MAX + 1)) == NULL) {
		db_log(h, GW_LOG_ERR, "iterate: %s", strerror(errno));
		return CACHE_DB_ERROR;
	}
	memset(&pos, 0, sizeof(pos));
	while (!end && !stop) {
		a.valid = 0;
		rc = scan(h, &pos, 1, copy_rec, &a, &end);
		if (rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED) {
			if (++tries < CACHE_DB_RETRIES) {
				backoff(tries);
				continue;
			}
			free(a.url);
			return CACHE_DB_BUSY;
		}
		if (rc != 0) {
			free(a.url);
			return fail(h, rc, "iterate");
		}
		tries = 0;
		if (!end && a.valid)	/* no lock held now */
			stop = fn(a.name, a.url, &a.rec, arg);
	}
	free(a.url);
	return CACHE_DB_OK;
}

/*--------------------------------------------------------------------
 * Verification, tests
 */

enum cache_db_status
cache_db_verify(struct cache_db *h)
{
	struct count_arg	 ca;
	struct cache_db_stats	 st;
	enum cache_db_status	 s;
	int			 rc;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if ((rc = verify_files(h)) != 0)
		return rc == DB_RUNRECOVERY ? fail(h, rc, "verify") :
		    CACHE_DB_ERROR;
	if ((s = count_all(h, &ca, &st)) != CACHE_DB_OK)
		return s;
	if (st.lru_entries != st.entries ||
	    st.expiry_entries != ca.expiring) {
		db_log(h, GW_LOG_ERR, "secondaries disagree with index.db: "
		    "%llu records, %llu expiring; lru.db %llu, expiry.db %llu",
		    (unsigned long long)st.entries,
		    (unsigned long long)ca.expiring,
		    (unsigned long long)st.lru_entries,
		    (unsigned long long)st.expiry_entries);
		return CACHE_DB_ERROR;
	}
	return CACHE_DB_OK;
}

void
cache_db_set_test_hook(void (*fn)(const char *))
{
	test_hook = fn;
}

/*--------------------------------------------------------------------
 * Tools (gwcacheclean): join, look up by name, failchk alone
 */

struct cache_db *
cache_db_tool_open(const char *root, const struct cache_db_opts *in,
    char *err, size_t errlen)
{
	struct cache_db_opts	 o;
	struct cache_db		*h;
	char			 home[HOME_MAX];
	int			 rc;

	opts_fill(&o, in);
	if (home_path(home, sizeof(home), root, err, errlen) == -1)
		return NULL;
	if ((h = handle_new(home, 0)) == NULL) {
		set_err(err, errlen, "%s: %s", home, strerror(errno));
		return NULL;
	}
	if ((rc = db_env_create(&h->env, 0)) != 0 ||
	    (rc = env_setup(h, &o)) != 0 ||
	    (rc = h->env->open(h->env, home, ENV_FLAGS, 0)) != 0 ||
	    (rc = open_dbs(h, 0)) != 0) {
		set_err(err, errlen, "%s: %s", home, db_strerror(rc));
		(void)close_all(h);
		free(h);
		return NULL;
	}
	return h;
}

enum cache_db_status
cache_db_find(struct cache_db *h, const char *name, char *url,
    size_t urllen, struct cache_rec *out)
{
	DB_TXN	*t;
	DBT	 k, d;
	size_t	 ulen;
	int	 rc, rc2;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if (key_set(&k, name) == -1)
		return CACHE_DB_MISS;
	if ((rc = h->env->txn_begin(h->env, NULL, &t,
	    DB_TXN_NOWAIT | DB_READ_COMMITTED)) != 0)
		return fail(h, rc, "txn_begin");
	dbt_usermem(&d, h->buf, sizeof(h->buf));
	rc = h->index->get(h->index, t, &k, &d, 0);
	if ((rc2 = t->abort(t)) != 0 && rc == 0)	/* read only */
		rc = rc2;
	if (rc != 0 && rc != DB_BUFFER_SMALL)
		return fail(h, rc, "find");
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (url != NULL && urllen > 0)
		url[0] = '\0';
	if (rc == DB_BUFFER_SMALL || !rec_valid(h->buf, d.size))
		return CACHE_DB_OK;	/* a record, if not one of ours */
	if (out != NULL)
		rec_decode(h->buf, out);
	if (url != NULL && urllen > 0) {
		ulen = d.size - REC_HDR < urllen - 1 ? d.size - REC_HDR :
		    urllen - 1;
		memcpy(url, h->buf + REC_HDR, ulen);
		url[ulen] = '\0';
	}
	return CACHE_DB_OK;
}

enum cache_db_status
cache_db_failchk_alone(struct cache_db *h)
{
	int	 rc;

	if (!usable(h))
		return CACHE_DB_DEAD;
	if ((rc = h->env->failchk(h->env, 0)) == 0)
		return CACHE_DB_OK;
	mark_dead(h, db_strerror(rc));
	return CACHE_DB_DEAD;
}

int
cache_db_clean_stop(const char *root)
{
	char	 marker[PATH_MAX];

	if ((size_t)snprintf(marker, sizeof(marker), "%s/%s/%s", root,
	    CACHE_DB_HOME, CLEAN_MARKER) >= sizeof(marker))
		return 0;
	return access(marker, F_OK) == 0;
}
