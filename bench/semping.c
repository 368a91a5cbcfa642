// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * semping [-n ROUNDS]: two processes hand a token back and forth through
 * two process-shared POSIX semaphores (ROUNDS, default 100000, round trips).
 * Every sem_wait finds the semaphore at 0 and sleeps in FUTEX_WAIT: each
 * round is two blocking lock waits, the case where mptrace's lock tracing
 * (and its stack capture) does the most per call. Prints ns per round trip.
 */
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	long rounds = 100000;
	struct timespec a, b;
	sem_t *s;
	pid_t p;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (rounds = atol(optarg)) < 1) {
			fprintf(stderr, "usage: semping [-n ROUNDS]\n");
			return 2;
		}
	}
	s = mmap(NULL, 2 * sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED || sem_init(&s[0], 1, 0) || sem_init(&s[1], 1, 0)) {
		perror("semping: setup");
		return 1;
	}
	p = fork();
	if (p < 0) {
		perror("semping: fork");
		return 1;
	}
	if (p == 0) {
		for (long i = 0; i < rounds; i++) {
			sem_wait(&s[0]);
			sem_post(&s[1]);
		}
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < rounds; i++) {
		sem_post(&s[0]);
		sem_wait(&s[1]);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	waitpid(p, NULL, 0);
	printf("semping: %ld round trips, %.0f ns each\n", rounds,
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds);
	return 0;
}
