/*
 * worker.h - a worker's life: privileges and the accept loop.
 */
#ifndef WORKER_H
#define WORKER_H

#include <sys/types.h>

#include "gatewayd.h"

struct gw_scoreboard;
struct ssl_st;

#define WORKER_EXIT_FATAL	0xf	/* as Apache's APEXIT_CHILDFATAL */
#define WORKER_HEAD_MAX		65536	/* request head buffer, bytes */

/* Whom workers run as, resolved by the master from User and Group. */
struct gw_creds {
	int		 drop;		/* master is root: switch to uid/gid */
	uid_t		 uid;
	gid_t		 gid;
	int		 has_name;	/* initgroups(name), else setgroups */
	char		 name[256];
};

struct gw_worker {
	const struct gw_config	*cfg;
	struct gw_scoreboard	*sb;		/* NULL under -X */
	int			 slot;
	unsigned		 generation;
	pid_t			 master;	/* 0 under -X */
	unsigned long		 connections;
	char			*buf;		/* WORKER_HEAD_MAX bytes */
	struct ssl_st		*ssl;		/* TLS of the connection being
						   handed to proxy_serve */
};

/* worker_creds - resolve User/Group (root only); -1 with err filled. */
int		 worker_creds(const struct gw_config *, struct gw_creds *,
		    char *err, size_t errlen);
int		 worker_drop_privileges(const struct gw_creds *);
/* worker_main - the child side of fork(); never returns. */
void		 worker_main(struct gw_worker *, const struct gw_creds *,
		    int closefd) __attribute__((noreturn));
void		 worker_signals(void);
/* worker_run - accept and serve until told to stop; -1 on fatal error. */
int		 worker_run(struct gw_worker *);

#endif /* WORKER_H */
