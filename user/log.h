/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* One family of messages: "mptrace: what failed: why", lowercase, no full stop. */
#ifndef MPTRACE_LOG_H
#define MPTRACE_LOG_H

#define EXIT_ENV 1	/* environment: privileges, kernel features */
#define EXIT_USAGE 2	/* bad command line */
#define EXIT_CHECK_DEFAULT 3	/* --check failed (--check-exitcode changes it) */

void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: prints the message and the --help hint. */
void p_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The help the hint names: "mptrace --help", or a subcommand's. */
extern const char *log_help;
extern int log_verbose;
void p_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
