/*
 * log.h - the error log: a file (append), syslog[:facility] or a piped
 * command, Apache's line format and LogLevel filtering.  Messages go to
 * stderr until log_open succeeds.  Notice-level messages are always
 * written, whatever LogLevel says, as Apache does for its startup lines.
 */
#ifndef LOG_H
#define LOG_H

#include <sys/types.h>

#include "gatewayd.h"

/* log_open - open spec (path, "syslog[:facility]" or "|command"). */
int		 log_open(const char *spec, enum gw_loglevel level);
/* log_reopen - reopen a file log at the same path (logrotate). */
int		 log_reopen(void);
void		 log_close(void);
void		 log_set_level(enum gw_loglevel);
enum gw_loglevel log_get_level(void);
/* log_set_tee - also copy errors and fatal messages to stderr. */
void		 log_set_tee(int);
/* log_fd - the descriptor stderr may be pointed at, or -1 (syslog). */
int		 log_fd(void);
/* log_reap - pid exited: if it was the piped logger, restart it (1). */
int		 log_reap(pid_t pid, int status);
const char	*log_level_name(enum gw_loglevel);
/* log_syslog_priority - the syslog(3) priority of a level. */
int		 log_syslog_priority(enum gw_loglevel);
/*
 * log_set_divert - while set, each message is first offered to fn (the
 * whole line, and the message alone for syslog); fn returns 1 when it
 * wrote it elsewhere (a virtual host's own ErrorLog), 0 to have it go
 * to the error log.  NULL: none.
 */
typedef int	(*log_divert_fn)(void *, enum gw_loglevel, const char *line,
		    size_t len, const char *msg);
void		 log_set_divert(log_divert_fn, void *);
/* log_set_request_level - LogLevel while a request of a virtual host
 * with its own is served; -1: the server's again. */
void		 log_set_request_level(int);

void		 log_msg(enum gw_loglevel, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 log_errno(enum gw_loglevel, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* fatal, fatalx - startup errors only: log (and stderr), exit 1. */
void		 fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
void		 fatalx(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
