/*
 * cache_store.h - cached bodies on disk under CacheRoot.
 *
 * A body lives in CacheRoot/<levels x length hash dirs>/<rest>.data,
 * the layout of Apache's mod_cache_disk.  It is written to a temp file
 * and renamed into place only when whole; the index (cache_db) records
 * its size and inode, and a body that does not match its record is
 * removed, never served.
 */
#ifndef CACHE_STORE_H
#define CACHE_STORE_H

#include <limits.h>
#include <sys/types.h>

struct cache_store {
	char		 root[PATH_MAX];
	int		 levels;
	int		 length;
};

struct cache_tmp {
	int			 fd;		/* -1 when none */
	char			 path[PATH_MAX];
	unsigned long long	 size;
};

/* cache_store_init - 0, or -1 if the root's layout cannot be used. */
int	cache_store_init(struct cache_store *, const char *root, int levels,
	    int length);
/* cache_store_path - the body file of a 22-char hash name. */
int	cache_store_path(const struct cache_store *, const char *hashname,
	    char *out, size_t outlen);
int	cache_store_begin(const struct cache_store *, struct cache_tmp *);
int	cache_store_write(struct cache_tmp *, const void *, size_t);
/*
 * cache_store_commit - rename the whole temp file into place (the
 * directories made as needed); *ino gets its inode.  The temp file is
 * gone afterwards either way.
 */
int	cache_store_commit(const struct cache_store *, struct cache_tmp *,
	    const char *hashname, ino_t *ino);
void	cache_store_abort(struct cache_tmp *);
/*
 * cache_store_open - the body file, checked against what the index
 * says (size and inode): an fd, or -1.  A file that does not match is
 * removed (a damaged cache is never served).
 */
int	cache_store_open(const struct cache_store *, const char *hashname,
	    unsigned long long size, ino_t ino);
int	cache_store_remove(const struct cache_store *, const char *hashname);

#endif /* CACHE_STORE_H */
