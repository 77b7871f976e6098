/*
 * accesslog.h - the access log: Apache's mod_log_config (LogFormat,
 * CustomLog, TransferLog) for gatewayd.
 *
 * Formats are compiled once per configuration; formatting a line is a
 * pure function of a compiled format and a struct gw_logrec.  The
 * master opens every target (files, "|command" pipes) before it forks
 * and drops privileges; workers inherit the descriptors and write one
 * line with one write(2).
 */
#ifndef ACCESSLOG_H
#define ACCESSLOG_H

#include <sys/types.h>
#include <stddef.h>

#include "gatewayd.h"
#include "logrec.h"

struct gw_arena;
struct accesslog_fmt;		/* a compiled format */
struct accesslog;		/* the targets of one configuration */

/* Apache's default format (Common Log Format), also nickname "CLF". */
#define ACCESSLOG_CLF		"%h %l %u %t \"%r\" %>s %b"
#define ACCESSLOG_LINE_MAX	8192	/* a file line, '\n' included */

/*---------------------------------------------------------------------
 * Formats (pure)
 */

/*
 * accesslog_compile - compile an Apache format string.  NULL on error,
 * with Apache's message ("Unrecognized LogFormat directive %Z") in err.
 */
struct accesslog_fmt *accesslog_compile(const char *fmt, char *err,
		    size_t errlen);
void		 accesslog_fmt_free(struct accesslog_fmt *);
/*
 * accesslog_format - one line for rec into out[cap]: always ends with
 * '\n' and a NUL (cap >= 2); values that do not fit are cut, never in
 * the middle of an escape.  Returns the length, '\n' included.
 */
size_t		 accesslog_format(char *out, size_t cap,
		    const struct accesslog_fmt *, const struct gw_logrec *);

/*
 * Checks for the directive setters (directives.c): NULL, or a message
 * allocated in the arena.  accesslog_check_format for LogFormat and the
 * format argument of CustomLog; accesslog_check_condition for the
 * third argument of CustomLog ("env=[!]name"; "expr=" is refused).
 */
const char	*accesslog_check_format(struct gw_arena *, const char *fmt);
const char	*accesslog_check_condition(struct gw_arena *,
		    const char *cond);

/*---------------------------------------------------------------------
 * Targets (the master)
 */

/*
 * accesslog_open - compile the formats of cfg and open every file
 * (O_APPEND, created 0644) and the pipe of every "|command"; the
 * loggers themselves start on accesslog_swap.  NULL on error, with
 * "file:line: ..." in err.  Nothing of the current set changes.
 */
struct accesslog *accesslog_open(const struct gw_config *cfg, char *err,
		    size_t errlen);
/*
 * accesslog_swap - make al (may be NULL) the set accesslog_request
 * writes to, start its piped loggers, and return the previous set.
 */
struct accesslog *accesslog_swap(struct accesslog *al);
/* accesslog_close - close al's descriptors and free it (NULL: no-op). */
void		 accesslog_close(struct accesslog *al);
/*
 * accesslog_maintain - once a second in the master: restart piped
 * loggers of the current set that exited (with a growing delay if they
 * keep dying).  accesslog_reap - pid was reaped by someone else: 1 if
 * it was one of ours (it will be restarted), else 0.
 */
void		 accesslog_maintain(void);
int		 accesslog_reap(pid_t pid, int status);
/* accesslog_child - in a new worker: drop what only the master needs. */
void		 accesslog_child(void);

/*---------------------------------------------------------------------
 * Requests (a worker)
 */

/* accesslog_request - log rec to the logs of rec->vhost (or main's). */
void		 accesslog_request(const struct gw_logrec *rec);
/*
 * accesslog_error - a log_divert_fn (log.h): the message goes to the
 * ErrorLog of virtual host vhost (a const struct gw_vhost *) when it
 * has one of its own (opened with the access logs); 1 then, else 0.
 */
int		 accesslog_error(void *vhost, enum gw_loglevel, const char *line,
		    size_t len, const char *msg);

#endif /* ACCESSLOG_H */
