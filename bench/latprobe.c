// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * latprobe COUNT GAP_MS: COUNT children, one every GAP_MS; each writes
 * "PID CLOCK_MONOTONIC_NS" to stdout just before it _exit(0)s. bench/latency.py
 * compares that with when mptrace's line about the exit reaches its reader:
 * the event stream's latency at a low rate.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv)
{
	struct timespec gap, now;
	long n, ms;

	if (argc != 3) {
		fprintf(stderr, "usage: latprobe COUNT GAP_MS\n");
		return 2;
	}
	n = bench_num("latprobe", "count", argv[1], 1);
	ms = bench_num("latprobe", "gap", argv[2], 0);
	gap.tv_sec = ms / 1000;
	gap.tv_nsec = (ms % 1000) * 1000000;
	for (long i = 0; i < n; i++) {
		pid_t p;

		nanosleep(&gap, NULL);
		p = fork();
		if (p == 0) {
			char line[64];
			int len;

			clock_gettime(CLOCK_MONOTONIC, &now);
			len = snprintf(line, sizeof(line), "%d %lld\n", (int)getpid(),
				       (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
			if (write(1, line, len) != len)
				_exit(1);
			_exit(0);
		}
		if (bench_reap("latprobe", "child", p))
			return 1;
	}
	return 0;
}
