// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * futexbench [-p PROCS] [-n ITERS] [-w WORK] [-v]: PROCS processes (default
 * 8) contend on one PTHREAD_PROCESS_SHARED mutex in MAP_SHARED memory; each
 * does ITERS (default 200000) rounds of lock, WORK (default 100) steps of
 * work on shared data, unlock. A contended lock sleeps in FUTEX_WAIT and its
 * release does FUTEX_WAKE: the syscalls mptrace's lock tracing hooks. With
 * -v, prints the voluntary context switches (mostly futex sleeps) it caused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "bench.h"

struct shared {
	pthread_mutex_t mu;
	pthread_barrier_t start;
	volatile unsigned long counter;
	volatile unsigned long scratch[16];
};

static void usage(void)
{
	fprintf(stderr, "usage: futexbench [-p PROCS] [-n ITERS] [-w WORK] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long procs = 8, iters = 200000, work = 100;
	pthread_mutexattr_t ma;
	pthread_barrierattr_t ba;
	struct shared *sh;
	struct rusage ru;
	int verbose = 0, fail = 0, c;

	while ((c = getopt(argc, argv, "p:n:w:vh")) != -1) {
		switch (c) {
		case 'p': procs = bench_num("futexbench", "value for -p", optarg, 1); break;
		case 'n': iters = bench_num("futexbench", "value for -n", optarg, 1); break;
		case 'w': work = bench_num("futexbench", "value for -w", optarg, 0); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("futexbench: mmap");
		return 1;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->mu, &ma);
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->start, &ba, (unsigned)procs);

	for (long i = 0; i < procs; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("futexbench: fork");
			return 1;
		}
		if (p == 0) {
			pthread_barrier_wait(&sh->start);
			for (long k = 0; k < iters; k++) {
				pthread_mutex_lock(&sh->mu);
				sh->counter++;
				for (long w = 0; w < work; w++)
					sh->scratch[w & 15] += (unsigned long)w;
				pthread_mutex_unlock(&sh->mu);
			}
			_exit(0);
		}
	}
	for (long i = 0; i < procs; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			fail = 1;
	}
	if (fail || sh->counter != (unsigned long)(procs * iters)) {
		fprintf(stderr, "futexbench: counter %lu, expected %ld: the mutex did not hold\n",
			sh->counter, procs * iters);
		return 1;
	}
	if (verbose) {
		getrusage(RUSAGE_CHILDREN, &ru);
		printf("futexbench: %ld procs x %ld iterations, %ld voluntary context switches\n",
		       procs, iters, ru.ru_nvcsw);
	}
	return 0;
}
