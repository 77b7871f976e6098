/*
 * cache_db.h - the Berkeley DB index of the cache.
 */
#ifndef CACHE_DB_H
#define CACHE_DB_H

/* cache_db_version - "Berkeley DB 5.3.28: ..." of the linked library. */
const char	*cache_db_version(void);

#endif /* CACHE_DB_H */
