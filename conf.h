/*
 * conf.h - reading an Apache-syntax configuration into a struct gw_config.
 *
 * conf_load reads the file, its Includes and sections, runs each
 * directive's setter from the table in directives.c and reports every
 * error as "file:line: message" on the given stream, all in one pass.
 */
#ifndef CONF_H
#define CONF_H

#include <stdio.h>

#include "gatewayd.h"

/*
 * conf_load - parse file; defines are the -D names (may be NULL).
 * Returns the configuration, or NULL when there were errors (each one
 * already written to err).  *nerrors gets the count.
 */
struct gw_config *conf_load(const char *file, const char *const *defines,
		    int ndefines, FILE *err, int *nerrors);
void		 conf_free(struct gw_config *);

/*
 * conf_sanity - warnings about configs that parse but surely do not do
 * what their author means (-t prints them).  Returns how many.
 */
int		 conf_sanity(const struct gw_config *, FILE *err);

/* conf_section_name - i-th section name known, NULL past the end. */
const char	*conf_section_name(size_t);

/* conf_module_known - is "proxy_module" / "mod_proxy.c" built in? */
int		 conf_module_known(const char *name);

#endif /* CONF_H */
