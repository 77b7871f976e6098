/*
 * cache_db.c - the cache index in a shared Berkeley DB environment.
 *
 * The environment, its recovery and the index arrive with the cache
 * (see DESIGN.md, Cache); for now this file reports the library the
 * build linked, which configure checked is 5.3.
 */
#include "config.h"

#include <db.h>

#include "cache_db.h"

const char *
cache_db_version(void)
{
	return db_version(NULL, NULL, NULL);
}
