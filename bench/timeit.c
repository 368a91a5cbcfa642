// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * timeit -o FILE -- COMMAND [ARG...]: run COMMAND, wait for it, and write
 * one line "WALL USER SYS PARENT" (seconds) to FILE: the wall time from fork
 * to reap, the CPU time of COMMAND and every descendant it waited for, and
 * the CPU time timeit's parent used meanwhile (all its threads, from
 * /proc/PPID/task/TID/schedstat, in ns: exact, not tick-sampled).
 * Exits with COMMAND's status (128+N if killed by signal N).
 *
 * bench/run.sh nests two: an outer one around the tracer (end-to-end time,
 * tracer included) and an inner one inside it, around the workload (the
 * workload alone, without the tracer's start-up and report). The outer
 * CPU minus the inner CPU is the tracer's own; the inner one's PARENT is
 * the tracer's CPU while the workload ran: what it costs to consume events.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU nanoseconds used so far by every thread of process PID; 0 if unknown. */
static unsigned long long proc_cpu_ns(pid_t pid)
{
	unsigned long long sum = 0, ns;
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		char f[128];
		FILE *s;

		if (d->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "/proc/%d/task/%.20s/schedstat", (int)pid, d->d_name);
		s = fopen(f, "r");
		if (!s)
			continue;
		if (fscanf(s, "%llu", &ns) == 1)
			sum += ns;
		fclose(s);
	}
	closedir(dir);
	return sum;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	unsigned long long pc0, pc1;
	pid_t parent = getppid();
	struct rusage ru, self;
	double t0, t1;
	FILE *f;
	pid_t p;
	int c, st;

	while ((c = getopt(argc, argv, "+o:h")) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "usage: timeit -o FILE -- COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (!out || optind >= argc) {
		fprintf(stderr, "usage: timeit -o FILE -- COMMAND [ARG...]\n");
		return 2;
	}
	pc0 = proc_cpu_ns(parent);
	t0 = mono();
	p = fork();
	if (p < 0) {
		perror("timeit: fork");
		return 1;
	}
	if (p == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "timeit: %s: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (wait4(p, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("timeit: wait4");
			return 1;
		}
	}
	t1 = mono();
	pc1 = proc_cpu_ns(parent);
	getrusage(RUSAGE_SELF, &self);
	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "timeit: %s: %s\n", out, strerror(errno));
		return 1;
	}
	/* timeit's own CPU is counted with the command's: it is a few µs */
	fprintf(f, "%.6f %.6f %.6f %.6f\n", t1 - t0, tv(ru.ru_utime) + tv(self.ru_utime),
		tv(ru.ru_stime) + tv(self.ru_stime), pc1 > pc0 ? (double)(pc1 - pc0) / 1e9 : 0.0);
	if (fclose(f)) {
		fprintf(stderr, "timeit: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
