/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the bench workloads share: strict number arguments, reaping a child. */
#ifndef MPTRACE_BENCH_H
#define MPTRACE_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

/* S as a whole decimal number >= MIN, or exit 2 naming PROG and WHAT. */
static inline long bench_num(const char *prog, const char *what, const char *s, long min)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < min) {
		fprintf(stderr, "%s: bad %s '%s'\n", prog, what, s);
		exit(2);
	}
	return n;
}

/* Reap child P; 0 when it exited 0, else -1 with a message naming PROG and WHAT. */
static inline int bench_reap(const char *prog, const char *what, pid_t p)
{
	int st;

	if (p < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return -1;
	}
	while (waitpid(p, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", prog, strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s: %s (pid %d) did not exit 0\n", prog, what, (int)p);
		return -1;
	}
	return 0;
}

#endif
