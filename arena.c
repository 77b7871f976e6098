/*
 * arena.c - bump allocator (see arena.h).
 *
 * Memory comes in chunks; a request larger than the chunk size gets a
 * chunk of its own.  arena_reset keeps the first chunk and frees the
 * rest, so a connection that once needed a big arena gives it back.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct chunk {
	struct chunk	*next;
	size_t		 size;
	size_t		 used;
	max_align_t	 data[];
};

struct gw_arena {
	struct chunk	*head;
	size_t		 chunk;
	size_t		 total;
};

#define ALIGN(n)	(((n) + sizeof(max_align_t) - 1) & \
			    ~(sizeof(max_align_t) - 1))

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n)) == NULL) {
		fprintf(stderr, "gatewayd: out of memory (%zu bytes)\n", n);
		abort();
	}
	return p;
}

static struct chunk *
chunk_new(size_t size)
{
	struct chunk	*c;

	c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct gw_arena *
arena_new(size_t chunk)
{
	struct gw_arena	*a;

	if (chunk < 256)
		chunk = 256;
	a = xmalloc(sizeof(*a));
	a->chunk = ALIGN(chunk);
	a->head = chunk_new(a->chunk);
	a->total = 0;
	return a;
}

void
arena_free(struct gw_arena *a)
{
	struct chunk	*c, *n;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

/* arena_reset - forget every allocation; keep one chunk of the usual size. */
void
arena_reset(struct gw_arena *a)
{
	struct chunk	*c, *n, *keep = NULL;

	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		if (keep == NULL && c->size == a->chunk)
			keep = c;
		else
			free(c);
	}
	if (keep == NULL)
		keep = chunk_new(a->chunk);
	keep->next = NULL;
	keep->used = 0;
	a->head = keep;
	a->total = 0;
}

void *
arena_alloc(struct gw_arena *a, size_t n)
{
	struct chunk	*c = a->head;
	void		*p;

	n = ALIGN(n ? n : 1);
	if (c->size - c->used < n) {
		c = chunk_new(n > a->chunk ? n : a->chunk);
		if (n > a->chunk && a->head != NULL) {
			/* big one-off: keep filling the current chunk */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c->data + c->used;
	c->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct gw_arena *a, const char *s, size_t n)
{
	char	*p;

	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct gw_arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct gw_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t
arena_used(const struct gw_arena *a)
{
	return a->total;
}
