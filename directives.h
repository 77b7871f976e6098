/*
 * directives.h - the directive table and the parse state its setters
 * work on.  Internal to conf.c and directives.c (and their tests).
 */
#ifndef DIRECTIVES_H
#define DIRECTIVES_H

#include <stddef.h>
#include <stdio.h>

#include "gatewayd.h"

/* Where a directive may stand (Apache's contexts). */
#define GW_CTX_SERVER	0x01	/* main server config */
#define GW_CTX_VHOST	0x02	/* <VirtualHost> */
#define GW_CTX_PROXY	0x04	/* <Proxy>, <ProxyMatch> */
#define GW_CTX_LOCATION	0x08	/* <Location>, <LocationMatch> */
#define GW_CTX_DIRECTORY 0x10	/* <Directory> */
#define GW_CTX_SV	(GW_CTX_SERVER | GW_CTX_VHOST)
#define GW_CTX_DIR	(GW_CTX_PROXY | GW_CTX_LOCATION | GW_CTX_DIRECTORY)
#define GW_CTX_ANY	(GW_CTX_SV | GW_CTX_DIR)

/* Which struct a generic setter writes into. */
enum gw_slot { GW_SLOT_NONE, GW_SLOT_SERVER, GW_SLOT_VHOST, GW_SLOT_DIR };

/* Parse state, owned by conf.c, seen by setters. */
struct gw_parse {
	struct gw_config	*cfg;
	struct gw_arena		*arena;
	FILE			*err;
	int			 nerrors;
	int			 nwarnings;
	const char		*file;		/* of the directive at hand */
	int			 line;
	unsigned		 ctx;		/* one GW_CTX_* bit */
	struct gw_vhost		*vhost;		/* &cfg->main or a vhost */
	struct gw_dir		*dir;		/* current section or NULL */
	struct gw_require	*reqc;		/* current Require container */
	int			 depth;		/* Include depth */
	struct {
		dev_t		 dev;
		ino_t		 ino;
	}			 reading[GW_MAX_INCLUDE_DEPTH + 1];
						/* files being read: [0] main */
	struct conf_msg		*msgs;		/* errors and warnings, */
	size_t			 nmsgs, msgcap;	/* printed sorted at end */
	const char		**files;	/* files in reading order */
	size_t			 nfiles, filecap;
};

struct gw_directive;
struct conf_msg;
typedef const char *(*gw_setter)(struct gw_parse *,
		    const struct gw_directive *, int, char **);

struct gw_directive {
	const char	*name;
	unsigned	 ctx;		/* GW_CTX_* mask */
	int		 min_args;
	int		 max_args;	/* -1: any number */
	gw_setter	 set;
	enum gw_slot	 slot;
	size_t		 offset;
	long long	 lo, hi;	/* numeric range */
	const char	*syntax;	/* arguments, for messages and docs */
	const char	*help;
};

const struct gw_directive *directives_find(const char *);
const struct gw_directive *directives_table(size_t *);
const char	*directives_suggest(const char *);
const char	*directives_ctx_name(unsigned);
int		 directives_module_known(const char *);

/* conf.c helpers for setters */
void		 conf_warn(struct gw_parse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 conf_error_at(struct gw_parse *, const char *file, int line,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
void		 conf_warn_at(struct gw_parse *, const char *file, int line,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
char		*conf_path(struct gw_parse *, const char *);
/* conf_new_dir - a section (enum gw_dir_kind) at the end of the current
 * server's, as if it were written at file:line. */
struct gw_dir	*conf_new_dir(struct gw_parse *, int kind, const char *file,
		    int line, char *match, int is_regex);
const char	*conf_include(struct gw_parse *, const char *, int optional);
int		 conf_defined(struct gw_parse *, const char *);

/* pure helpers, also used by rules.c */
int		 directives_parse_acl(struct gw_arena *, const char *,
		    struct gw_acl **, const char **);

#endif /* DIRECTIVES_H */
