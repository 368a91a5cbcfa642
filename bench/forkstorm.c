// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * forkstorm [COUNT]: fork COUNT children (default 20000) one after another;
 * each child _exit(0)s at once and the parent reaps it with waitpid before
 * the next fork. The densest stream of fork/exit/wait/free events one
 * process can make: what mptrace's per-event cost shows on.
 */
#include <string.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv)
{
	long n = 20000;

	if (argc > 2 || (argc > 1 && !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: forkstorm [COUNT]\n");
		return 2;
	}
	if (argc > 1)
		n = bench_num("forkstorm", "count", argv[1], 1);
	for (long i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0)
			_exit(0);
		if (bench_reap("forkstorm", "child", p))
			return 1;
	}
	return 0;
}
