/*
 * balancer.h - mod_proxy_balancer: <Proxy balancer://name> sections
 * with BalancerMember lines, the choice of a member for each request,
 * and the members' state shared by every worker.
 *
 * After parsing, balancer_conf_build turns each balancer section (with
 * its ProxySet and the ProxyPass lines that name it) into a struct
 * gw_balancer and reports what is wrong with file:line.  The master
 * maps the shared table (balancer_create) before it forks, and gives
 * every balancer and member of a configuration its slot there
 * (balancer_attach), keeping the state of members it already knows
 * across restarts, as Apache's shared memory does.
 *
 * A worker asks balancer_select for a member, tells balancer_done how
 * it went, and marks a member that cannot be reached with
 * balancer_fail: it is then out, for every worker, for its retry
 * seconds.  The choice is Apache's arithmetic (mod_lbmethod_*), made
 * under a per-balancer lock so that the counts are exact with many
 * workers.  Active health checks (hcmethod=) run in the manager child
 * (balancer_hc_tick).
 */
#ifndef BALANCER_H
#define BALANCER_H

#include <signal.h>
#include <stddef.h>

struct gw_parse;
struct gw_config;
struct gw_balancer;

#define LB_MEMBERS_MAX	64	/* per balancer */

/* Configuration (conf.c, after the servers are merged) */
void	balancer_conf_build(struct gw_parse *);

/* Shared state: the master, before the first fork */
int	balancer_create(int nworkers);
void	balancer_destroy(void);
void	balancer_attach(struct gw_config *);
/* the master: a worker in scoreboard slot ws is gone */
void	balancer_worker_gone(int ws);

/*
 * balancer_route - the route of a sticky session: the part after the
 * first '.' of the stickysession URL parameter (in path, ;name=, or in
 * query) or cookie, as Apache.  1 with out set, 0 none.
 */
int	balancer_route(const struct gw_balancer *, const char *path,
	    size_t pathlen, const char *query, size_t qlen,
	    const char *const *cookies, const size_t *cookielens, int ncookies,
	    char *out, size_t cap);

/*
 * balancer_select - the member for a request: index into b->members, or
 * -1 when none may be used (the answer is 503).  tried marks members
 * this request has already failed on (may be NULL).  route: the
 * session's route or NULL.  *sticky is set when the member is the
 * route's.  ws is the caller's scoreboard slot (for busy counts; -1
 * none).
 */
int	balancer_select(const struct gw_balancer *b, const char *route,
	    const unsigned char *tried, int ws, int *sticky);
/* balancer_done - the request on member i ended: bytes each way */
void	balancer_done(const struct gw_balancer *, int i, int ws,
	    unsigned long long sent, unsigned long long received);
/* balancer_fail - member i is in error for its retry seconds */
void	balancer_fail(const struct gw_balancer *, int i);
/* balancer_ok - member i answered: out of error state */
void	balancer_ok(const struct gw_balancer *, int i);
/* balancer_in_error - member i cannot be chosen now (error or check) */
int	balancer_in_error(const struct gw_balancer *, int i);
/* balancer_status_match - status is one of b's failonstatus */
int	balancer_status_match(const struct gw_balancer *, int status);

/* What the status page shows of member i. */
struct balancer_info {
	long long	 error_left;	/* seconds in error state left */
	int		 hc_failed;	/* the health check says down */
	long		 busy;
	unsigned long long elected;
	unsigned long long sent, received;
	long long	 lbstatus;
};
void	balancer_info(const struct gw_balancer *, int i,
	    struct balancer_info *);

/* Active health checks, in the manager child */
int	balancer_hc_wanted(const struct gw_config *);
/* balancer_hc_tick - run the checks that are due; ms until the next */
int	balancer_hc_tick(const struct gw_config *,
	    volatile sig_atomic_t *stop);

#endif /* BALANCER_H */
