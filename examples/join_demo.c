/*
 * join_demo: where you join decides whether children run in parallel.
 *
 * Three children sleep 1, 2 and 3 units.  --parallel starts all three, then
 * joins (waitpid) them one by one: they overlap, and the total is about the
 * longest, 3 units.  --serial joins each child right after starting it: the
 * parent blocks, so the next one starts only when the previous has ended, and
 * the total is the sum, 6 units.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long unit_ms = 200;
static struct timespec t0;

static void usage(void)
{
	printf("usage: join_demo [--parallel|--serial] [--unit MS]\n"
	       "  three children sleep 1, 2, 3 units (default unit 200 ms)\n"
	       "  --parallel  start all, then join each (default): total ~3 units\n"
	       "  --serial    join each right after starting it:    total ~6 units\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "join_demo: %s '%s' (try --help)\n", msg, arg);
	exit(2);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static pid_t start(int units)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("join_demo: fork");
		exit(1);
	}
	if (pid == 0) {
		long ms = units * unit_ms;
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		printf("%5ld ms child %d: slept %d unit%s, exiting\n", now_ms(), getpid(), units,
		       units > 1 ? "s" : "");
		_exit(0);
	}
	printf("%5ld ms parent %d: started child %d (sleeps %d unit%s = %ld ms)\n",
	       now_ms(), getpid(), pid, units, units > 1 ? "s" : "", units * unit_ms);
	return pid;
}

static void join(pid_t pid)
{
	long before = now_ms(), after;
	int st;

	waitpid(pid, &st, 0);	/* blocks until the child exits, then reaps it */
	after = now_ms();
	printf("%5ld ms parent %d: joined child %d (waited %ld ms)\n",
	       after, getpid(), pid, after - before);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parallel", no_argument, 0, 'p' },
		{ "serial", no_argument, 0, 's' },
		{ "unit", required_argument, 0, 'u' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int serial = 0, c, i;
	long total;
	pid_t pids[3];
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': serial = 0; break;
		case 's': serial = 1; break;
		case 'u':
			errno = 0;
			unit_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || unit_ms < 1 || unit_ms > 60000)
				bad_usage("bad milliseconds", optarg);
			break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* nothing buffered at fork() */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("%5ld ms parent %d: %s mode, unit %ld ms\n", now_ms(), getpid(),
	       serial ? "serial" : "parallel", unit_ms);

	if (serial) {
		for (i = 0; i < 3; i++)
			join(start(i + 1));
	} else {
		for (i = 0; i < 3; i++)
			pids[i] = start(i + 1);
		for (i = 0; i < 3; i++)
			join(pids[i]);
	}
	total = now_ms();
	printf("%5ld ms parent %d: total %ld ms (%s: expected ~%ld ms)\n", total, getpid(),
	       total, serial ? "serial, the sum 1+2+3 units" : "parallel, the longest child, 3 units",
	       (serial ? 6 : 3) * unit_ms);
	return 0;
}
