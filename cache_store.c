/*
 * cache_store.c - cached bodies on disk (see cache_store.h).
 *
 * Temp files live in CacheRoot/.tmp, on the same file system as the
 * bodies, so that rename(2) is atomic: a reader sees the old body, the
 * new one, or none, never a part.  Directories are made lazily, as
 * mod_cache_disk does.  Nothing here is fsync'ed: the cache is
 * disposable, and a body that does not match its index record after a
 * crash is simply a miss.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"

#define HASHLEN	22

int
cache_store_init(struct cache_store *s, const char *root, int levels,
    int length)
{
	if (levels < 1 || length < 1 || levels * length > 20 ||
	    strlen(root) + 64 >= sizeof(s->root) || root[0] != '/')
		return -1;
	(void)snprintf(s->root, sizeof(s->root), "%s", root);
	s->levels = levels;
	s->length = length;
	return 0;
}

int
cache_store_path(const struct cache_store *s, const char *h, char *out,
    size_t outlen)
{
	size_t	o, k = 0;
	int	n;

	if (strlen(h) != HASHLEN)
		return -1;
	n = snprintf(out, outlen, "%s/", s->root);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	o = (size_t)n;
	for (int l = 0; l < s->levels; l++) {
		if (o + (size_t)s->length + 2 >= outlen)
			return -1;
		memcpy(out + o, h + k, (size_t)s->length);
		o += (size_t)s->length;
		k += (size_t)s->length;
		out[o++] = '/';
	}
	n = snprintf(out + o, outlen - o, "%s.data", h + k);
	return n < 0 || (size_t)n >= outlen - o ? -1 : 0;
}

/* mkdirs - every directory of path up to its last '/'. */
static int
mkdirs(char *path, size_t from)
{
	char *p;

	for (p = path + from; (p = strchr(p + 1, '/')) != NULL; ) {
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int
cache_store_begin(const struct cache_store *s, struct cache_tmp *t)
{
	char dir[PATH_MAX];

	t->fd = -1;
	t->size = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/.tmp", s->root) >=
	    sizeof(dir) || (mkdir(dir, 0700) == -1 && errno != EEXIST))
		return -1;
	if ((size_t)snprintf(t->path, sizeof(t->path), "%s/body.XXXXXX",
	    dir) >= sizeof(t->path))
		return -1;
	if ((t->fd = mkostemp(t->path, O_CLOEXEC)) == -1)
		return -1;
	return 0;
}

int
cache_store_write(struct cache_tmp *t, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(t->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		t->size += (unsigned long long)n;
	}
	return 0;
}

void
cache_store_abort(struct cache_tmp *t)
{
	if (t->fd != -1) {
		(void)close(t->fd);
		(void)unlink(t->path);
		t->fd = -1;
	}
}

int
cache_store_commit(const struct cache_store *s, struct cache_tmp *t,
    const char *h, ino_t *ino)
{
	struct stat	st;
	char		path[PATH_MAX];

	if (t->fd == -1)
		return -1;
	if (fstat(t->fd, &st) == -1 || (unsigned long long)st.st_size !=
	    t->size || close(t->fd) == -1) {
		(void)close(t->fd);
		t->fd = -1;
		(void)unlink(t->path);
		return -1;
	}
	t->fd = -1;
	if (cache_store_path(s, h, path, sizeof(path)) == -1 ||
	    mkdirs(path, strlen(s->root)) == -1 ||
	    rename(t->path, path) == -1) {
		(void)unlink(t->path);
		return -1;
	}
	*ino = st.st_ino;
	return 0;
}

int
cache_store_open(const struct cache_store *s, const char *h,
    unsigned long long size, ino_t ino)
{
	struct stat	st;
	char		path[PATH_MAX];
	int		fd;

	if (cache_store_path(s, h, path, sizeof(path)) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size != size || st.st_ino != ino) {
		(void)close(fd);
		(void)unlink(path);	/* damaged or stale: never served */
		return -1;
	}
	return fd;
}

int
cache_store_remove(const struct cache_store *s, const char *h)
{
	char path[PATH_MAX];

	if (cache_store_path(s, h, path, sizeof(path)) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}
