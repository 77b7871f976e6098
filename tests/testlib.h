/*
 * testlib.h - helpers for the integration tests: a temp dir with a
 * config, the real gatewayd binary started in the foreground, waiting on
 * its error log, a small HTTP/1.1 client with deadlines, counting a
 * master's children through /proc, and finding which of them serves a
 * connection (its socket inode in /proc/net/tcp and /proc/PID/fd; as
 * root that needs CAP_SYS_PTRACE, since workers run as another user).
 * Every wait is bounded polling.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <sys/types.h>

#include <stddef.h>

#define GWT_WAIT	30		/* seconds, for any condition */
#define GWT_PID_WAIT	2		/* seconds, to find who serves a fd */
#define GWT_MAXPORTS	4

/* The file every server is given in its DocumentRoot, and a keep-alive
 * request for it. */
#define GWT_DOC_PATH	"/index.html"
#define GWT_DOC_BODY	"<html><body>gatewayd test page</body></html>\n"
#define GWT_KA_REQ	"GET " GWT_DOC_PATH " HTTP/1.1\r\nHost: test\r\n\r\n"

struct gwt_server {
	char		 dir[128];
	char		 conf[192];
	char		 errlog[192];
	char		 pidfile[192];
	char		 out[192];	/* the server's stdout and stderr */
	char		 docroot[192];	/* holds GWT_DOC_PATH */
	pid_t		 pid;		/* the process we started */
	int		 nports;
	int		 ports[GWT_MAXPORTS];
	char		 hosts[GWT_MAXPORTS][64];
};

struct gwt_resp {
	int		 status;
	int		 close;		/* "Connection: close" */
	long		 pid;		/* serving process; 0 not asked, -1 not
					   found */
	char		 body[512];
};

/* gwt_setup - a temp dir, with DOCROOT/GWT_DOC_PATH holding GWT_DOC_BODY. */
int	 gwt_setup(struct gwt_server *);
/* gwt_write_conf - ServerRoot, PidFile, ErrorLog, LogLevel, DocumentRoot,
 * listen (default "Listen 127.0.0.1:0"), then extra lines (from line 8). */
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
/* gwt_collect - child pid's output from pipe fd (closed) into out until
 * it ends or the deadline end (gwt_now_ms); its exit status, -1 if it
 * died of a signal or was killed at the deadline. */
int	 gwt_collect(pid_t pid, int fd, long long end, char *out,
	    size_t outlen);
/* gwt_rm_tree - remove dir and everything below it; 0 or -1. */
int	 gwt_rm_tree(const char *dir);
/* gwt_now_ms - the monotonic clock, in milliseconds. */
long long gwt_now_ms(void);
/* gwt_exit_code - pid's exit status (128 + signal) within ms; -2 late
 * (then killed and reaped), -1 on error. */
int	 gwt_exit_code(pid_t pid, int ms);
/* gwt_read_bytes - up to n bytes from fd within ms, dropped; the count. */
int	 gwt_read_bytes(int fd, int n, int ms);
int	 gwt_children(pid_t parent, pid_t *pids, int max);
int	 gwt_wait_children(pid_t parent, int min, int timeout_s);
int	 gwt_wait_exit(pid_t pid, int timeout_s, int *status);
int	 gwt_alive(pid_t);
int	 gwt_wait_gone(pid_t pid, int timeout_s);
long	 gwt_read_pidfile(const struct gwt_server *);
void	 gwt_teardown(struct gwt_server *);

int	 gwt_connect(const char *host, int port, int timeout_s);
/* gwt_tcp_socket - a socket on 127.0.0.1:0, listening when backlog > 0
 * (else bound only: connections to it are refused); its port in *port.
 * The fd, or -1. */
int	 gwt_tcp_socket(int *port, int backlog);
int	 gwt_request(int fd, const char *req, struct gwt_resp *,
	    int timeout_s);
/* gwt_server_pid - master or the child of master that holds the server
 * side of the connected client socket fd; -1 if none is found (or more
 * than one) within timeout_s (0: look once). */
pid_t	 gwt_server_pid(pid_t master, int fd, int timeout_s);
/* gwt_request_pid - gwt_request, and r->pid from gwt_server_pid;
 * -1 if either fails. */
int	 gwt_request_pid(pid_t master, int fd, const char *req,
	    struct gwt_resp *, int timeout_s);
/* gwt_get - GWT_KA_REQ on a new connection, r->pid (if master > 0) found
 * before the connection is closed. */
int	 gwt_get(pid_t master, const char *host, int port, struct gwt_resp *);
int	 gwt_proc_ids(pid_t pid, const char *field, long ids[4]);

#endif /* TESTLIB_H */
