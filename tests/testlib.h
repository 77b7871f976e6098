/*
 * testlib.h - helpers for the integration tests: a temp dir with a
 * config, the real gatewayd binary started in the foreground, waiting on
 * its error log, a small HTTP/1.1 client with deadlines, and counting a
 * master's children through /proc.  Every wait is bounded polling.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <sys/types.h>

#include <stddef.h>

#define GWT_WAIT	30		/* seconds, for any condition */
#define GWT_MAXPORTS	4

struct gwt_server {
	char		 dir[128];
	char		 conf[192];
	char		 errlog[192];
	char		 pidfile[192];
	char		 out[192];	/* the server's stdout and stderr */
	pid_t		 pid;		/* the process we started */
	int		 nports;
	int		 ports[GWT_MAXPORTS];
	char		 hosts[GWT_MAXPORTS][64];
};

struct gwt_resp {
	int		 status;
	int		 close;		/* "Connection: close" */
	long		 pid;		/* from the body, or 0 */
	char		 body[512];
};

int	 gwt_setup(struct gwt_server *);
/* gwt_write_conf - ServerRoot, PidFile, ErrorLog, listen (default
 * "Listen 127.0.0.1:0"), then extra lines. */
int	 gwt_write_conf(struct gwt_server *, const char *listen,
	    const char *extra);
int	 gwt_write_file(const char *path, const char *text);
pid_t	 gwt_spawn(struct gwt_server *, const char *const *args);
/* gwt_start - -f conf -D FOREGROUND [extra], wait for "resuming". */
int	 gwt_start(struct gwt_server *, const char *extra_arg);
int	 gwt_wait_log(const struct gwt_server *, const char *needle,
	    int count, int timeout_s);
int	 gwt_log_count(const struct gwt_server *, const char *needle);
char	*gwt_read_file(const char *path);	/* malloc, NUL-ended */
int	 gwt_parse_ports(struct gwt_server *);
/* gwt_run - run the binary with args to the end; exit status, output. */
int	 gwt_run(const char *const *args, int timeout_s, char *out,
	    size_t outlen);
int	 gwt_children(pid_t parent, pid_t *pids, int max);
int	 gwt_wait_children(pid_t parent, int min, int timeout_s);
int	 gwt_wait_exit(pid_t pid, int timeout_s, int *status);
int	 gwt_alive(pid_t);
int	 gwt_wait_gone(pid_t pid, int timeout_s);
long	 gwt_read_pidfile(const struct gwt_server *);
void	 gwt_teardown(struct gwt_server *);

int	 gwt_connect(const char *host, int port, int timeout_s);
int	 gwt_request(int fd, const char *req, struct gwt_resp *,
	    int timeout_s);
int	 gwt_get(const char *host, int port, struct gwt_resp *);
int	 gwt_proc_ids(pid_t pid, const char *field, long ids[4]);

#endif /* TESTLIB_H */
