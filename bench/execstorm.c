// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * execstorm [COUNT [PROGRAM]]: run PROGRAM (default /bin/true) COUNT times
 * (default 5000), one after another: fork, execv, waitpid. Adds exec events
 * (filename and argv copied in the kernel) to the fork storm's.
 */
#include <string.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv)
{
	const char *prog = argc > 2 ? argv[2] : "/bin/true";
	char *const args[] = { (char *)prog, NULL };
	long n = 5000;

	if (argc > 3 || (argc > 1 && !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: execstorm [COUNT [PROGRAM]]\n");
		return 2;
	}
	if (argc > 1)
		n = bench_num("execstorm", "count", argv[1], 1);
	for (long i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			execv(prog, args);
			fprintf(stderr, "execstorm: %s: %s\n", prog, strerror(errno));
			_exit(127);
		}
		if (bench_reap("execstorm", prog, p))
			return 1;
	}
	return 0;
}
