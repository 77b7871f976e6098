/*
 * bdb_util.h - small helpers shared by the two Berkeley DB users, the
 * disk index (cache_db.c) and the memory store (cache_mem.c): the
 * big-endian record fields (memcmp order is numeric order), DBT set-up,
 * and the process identity callbacks given to every environment.
 */
#ifndef BDB_UTIL_H
#define BDB_UTIL_H

#include <sys/types.h>

#include <db.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cache_db.h"

static inline void
enc32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void
enc64(unsigned char *p, uint64_t v)
{
	enc32(p, v >> 32);
	enc32(p + 4, (uint32_t)v);
}

static inline uint32_t
dec32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
dec64(const unsigned char *p)
{
	return (uint64_t)dec32(p) << 32 | dec32(p + 4);
}

/* time_field - a time as stored: negative ones as 0. */
static inline uint64_t
time_field(time_t t)
{
	return t < 0 ? 0 : (uint64_t)t;
}

static inline u_int32_t
at_least(u_int32_t v, u_int32_t floor)
{
	return v > floor ? v : floor;
}

/* dbt_usermem - d reads into the caller's buf of len bytes. */
static inline void
dbt_usermem(DBT *d, void *buf, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = buf;
	d->ulen = (u_int32_t)len;
	d->flags = DB_DBT_USERMEM;
}

/* is_alive - for failchk: does pid still exist? (tid: one per pid) */
static inline int
is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* thread_id - Berkeley DB's id of the caller: the remembered pid. */
static inline void
thread_id(DB_ENV *env, pid_t *pid, db_threadid_t *tid)
{
	(void)env;
	if (pid != NULL)	/* either may be NULL */
		*pid = cache_db_self();
	if (tid != NULL)
		*tid = pthread_self();
}

#endif /* BDB_UTIL_H */
