/*
 * arena.h - bump allocator for objects that die together: a whole
 * configuration, or one connection's requests.  Out of memory is fatal
 * at configuration time, so the config allocators never return NULL.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>

struct gw_arena;

struct gw_arena	*arena_new(size_t chunk);
void		 arena_free(struct gw_arena *);
void		 arena_reset(struct gw_arena *);
void		*arena_alloc(struct gw_arena *, size_t);	/* zeroed */
char		*arena_strdup(struct gw_arena *, const char *);
char		*arena_strndup(struct gw_arena *, const char *, size_t);
char		*arena_printf(struct gw_arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
size_t		 arena_used(const struct gw_arena *);

#endif /* ARENA_H */
