/*
 * health.c - backend error state in shared memory (see health.h).
 *
 * Slots are found by hashing the backend key ("host:port"), with linear
 * probing.  Each slot's fields are single words updated with relaxed
 * atomics; a lost race between two workers marking the same backend
 * costs nothing but a second probe.  A full table simply stops
 * remembering new backends (they are then tried every time).
 */
#include "config.h"

#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "health.h"
#include "util.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

struct slot {
	char		key[HEALTH_KEY];
	long long	error_until;	/* time(), 0: healthy */
};

static struct slot	 private_table[HEALTH_SLOTS];
static struct slot	*table = private_table;
static int		 shared;

int
health_create(void)
{
	void *p;

	if (shared)
		return 0;
	p = mmap(NULL, sizeof(private_table), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	table = p;
	shared = 1;
	return 0;
}

void
health_destroy(void)
{
	if (shared)
		(void)munmap(table, sizeof(private_table));
	table = private_table;
	shared = 0;
}

/* find - the slot of key, claiming a free one when create is set. */
static struct slot *
find(const char *key, int create)
{
	uint32_t	 h = gw_fnv1a(key);
	struct slot	*s;

	if (strlen(key) >= HEALTH_KEY)
		return NULL;
	for (int i = 0; i < HEALTH_SLOTS; i++) {
		s = &table[(h + (uint32_t)i) % HEALTH_SLOTS];
		if (strcmp(s->key, key) == 0)
			return s;
		if (s->key[0] == '\0') {
			if (!create)
				return NULL;
			/* claim: the key is written before it is used */
			memcpy(s->key, key, strlen(key) + 1);
			return s;
		}
	}
	return NULL;
}

long long
health_left(const char *key)
{
	struct slot	*s = find(key, 0);
	long long	 left;

	if (s == NULL)
		return 0;
	left = LOAD(&s->error_until) - (long long)time(NULL);
	return left > 0 ? left : 0;
}

int
health_in_error(const char *key)
{
	struct slot *s = find(key, 0);

	return s != NULL && LOAD(&s->error_until) > (long long)time(NULL);
}

void
health_set_error(const char *key, int seconds)
{
	struct slot *s = find(key, 1);

	if (s != NULL)
		STORE(&s->error_until, (long long)time(NULL) + seconds);
}

int
health_entry(int i, char *key, size_t keylen, long long *left)
{
	struct slot	*s;
	long long	 until;

	if (i < 0 || i >= HEALTH_SLOTS)
		return 0;
	s = &table[i];
	if (s->key[0] == '\0')
		return 0;
	(void)snprintf(key, keylen, "%s", s->key);
	until = LOAD(&s->error_until) - (long long)time(NULL);
	*left = until > 0 ? until : 0;
	return 1;
}

void
health_clear(const char *key)
{
	struct slot *s = find(key, 0);

	if (s != NULL && LOAD(&s->error_until) != 0)
		STORE(&s->error_until, 0);
}
