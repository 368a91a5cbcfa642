// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * forkchain [DEPTH]: a fork chain DEPTH processes deep (default 10000), as a
 * respawn-by-fork daemon builds one over days: each process forks the next
 * and exits. forkchain itself is the subreaper of the chain and reaps every
 * link, so no zombie waits for init. What the depth of a tree costs the
 * model and the reports.
 */
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include "bench.h"

int main(int argc, char **argv)
{
	long n = 10000, reaped = 0;
	pid_t p;

	if (argc > 2 || (argc > 1 && !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: forkchain [DEPTH]\n");
		return 2;
	}
	if (argc > 1)
		n = bench_num("forkchain", "depth", argv[1], 1);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fprintf(stderr, "forkchain: cannot become a subreaper: %s\n", strerror(errno));
		return 1;
	}
	p = fork();
	if (p < 0) {
		fprintf(stderr, "forkchain: fork: %s\n", strerror(errno));
		return 1;
	}
	if (p == 0) {
		/* a link: fork the next one, then go */
		for (long i = 1; i < n; i++) {
			p = fork();
			if (p < 0)
				_exit(1);
			if (p)
				_exit(0);
		}
		_exit(0);
	}
	for (;;) {
		int st;

		if (waitpid(-1, &st, 0) < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: the chain has ended */
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "forkchain: a link could not fork\n");
			return 1;
		}
		reaped++;
	}
	if (reaped != n) {
		fprintf(stderr, "forkchain: %ld links reaped, %ld expected\n", reaped, n);
		return 1;
	}
	return 0;
}
