/*
 * health.h - backend error state shared by every worker.
 *
 * A backend that cannot be reached is "in error" for its retry seconds:
 * every worker then answers 503 at once instead of trying it.  The
 * table is mapped shared by the master before it forks; a process that
 * has none (a test, or before health_create) keeps a private one.
 */
#ifndef HEALTH_H
#define HEALTH_H

#define HEALTH_SLOTS	256
#define HEALTH_KEY	96

int	health_create(void);
void	health_destroy(void);
int	health_in_error(const char *key);
/* health_left - seconds of key's error state left, 0 when healthy. */
long long health_left(const char *key);
void	health_set_error(const char *key, int seconds);
void	health_clear(const char *key);
/*
 * health_entry - slot i (0 .. HEALTH_SLOTS-1) of the table, for the
 * status page: 1 with its backend key and seconds of error state left
 * (0: healthy), 0 for a free slot.
 */
int	health_entry(int i, char *key, size_t keylen, long long *left);

#endif /* HEALTH_H */
