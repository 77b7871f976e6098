/*
 * util.h - two small helpers several files need: the monotonic clock in
 * milliseconds and the 32-bit FNV-1a hash of a string.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdint.h>
#include <time.h>

/* gw_mono_ms - CLOCK_MONOTONIC in milliseconds (0 if it fails). */
static inline long long
gw_mono_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* gw_fnv1a - FNV-1a of a NUL-ended string, for open-addressed tables. */
static inline uint32_t
gw_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

#endif /* UTIL_H */
