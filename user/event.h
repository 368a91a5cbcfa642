/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One gate for every record, live or replayed: event_validate() checks size
 * and type before anything reads a field.
 */
#ifndef MPTRACE_EVENT_H
#define MPTRACE_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include "events.h"

/* 0 if the `len` bytes at data are a well-formed record; else -EINVAL and
 * *why says what is wrong (a static string). */
int event_validate(const void *data, size_t len, const char **why);
const char *event_type_name(unsigned type);
const char *signal_name(int sig);	/* "SIGTERM", or "SIG42" */

/* Who sent a signal, from how the kernel was handed it (never from the task
 * that happened to run: a timer fires in whatever task is current). */
enum sig_cause {
	SIG_BY_PROCESS,		/* kill, sigqueue, tkill/tgkill: sender_pid sent it */
	SIG_BY_KERNEL,		/* the kernel, for a reason it does not say */
	SIG_BY_TIMER,		/* alarm, setitimer, POSIX timers */
	SIG_BY_FAULT,		/* a fault of the target: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	SIG_BY_PIPE,		/* write to a pipe or socket nobody reads */
	SIG_BY_TERMINAL,	/* the terminal: ^C, ^\, ^Z, hangup, resize */
	SIG_BY_LIMIT,		/* RLIMIT_CPU, RLIMIT_FSIZE */
	SIG_BY_IO,		/* SIGIO/SIGPOLL, async I/O, message queues */
	SIG_BY_CHILD,		/* a child's state change (SIGCHLD) */
	SIG_BY_SECCOMP,		/* a seccomp filter (SIGSYS) */
	SIG_BY_MAX
};
enum sig_cause sig_cause(uint32_t sig, int32_t code, uint32_t origin);
/* NULL for SIG_BY_PROCESS, "kernel" for SIG_BY_KERNEL, else "timer", ... */
const char *sig_cause_name(enum sig_cause c);

#endif
