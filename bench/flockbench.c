// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * flockbench [-p PROCS] [-n ITERS] [-v]: PROCS processes (default 2), each
 * with its own open file description of one temporary file, do ITERS
 * (default 50000) rounds of flock(LOCK_EX) then flock(LOCK_UN). Two syscalls
 * a round and nothing else: strace -f pays its stop-and-resume on each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "bench.h"

int main(int argc, char **argv)
{
	char path[] = "/tmp/mptrace-flockbench.XXXXXX";
	long procs = 2, iters = 50000;
	struct rusage ru;
	int verbose = 0, fail = 0, c, fd;

	while ((c = getopt(argc, argv, "p:n:vh")) != -1) {
		switch (c) {
		case 'p': procs = bench_num("flockbench", "value for -p", optarg, 1); break;
		case 'n': iters = bench_num("flockbench", "value for -n", optarg, 1); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: flockbench [-p PROCS] [-n ITERS] [-v]\n");
			return 2;
		}
	}
	fd = mkstemp(path);
	if (fd < 0) {
		perror("flockbench: mkstemp");
		return 1;
	}
	close(fd);
	for (long i = 0; i < procs; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("flockbench: fork");
			fail = 1;
			break;
		}
		if (p == 0) {
			/* its own open file description: flock conflicts between them */
			int lfd = open(path, O_RDWR | O_CLOEXEC);

			if (lfd < 0) {
				perror("flockbench: open");
				_exit(1);
			}
			for (long k = 0; k < iters; k++) {
				if (flock(lfd, LOCK_EX) || flock(lfd, LOCK_UN)) {
					perror("flockbench: flock");
					_exit(1);
				}
			}
			_exit(0);
		}
	}
	for (;;) {
		int st;

		if (wait(&st) < 0)
			break;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail = 1;
	}
	unlink(path);
	if (verbose && !fail) {
		getrusage(RUSAGE_CHILDREN, &ru);
		printf("flockbench: %ld procs x %ld lock/unlock rounds, %ld voluntary context switches\n",
		       procs, iters, ru.ru_nvcsw);
	}
	return fail;
}
