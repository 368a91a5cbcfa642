/*
 * pool_demo: a process pool fed through pipes, like multiprocessing.Pool.
 *
 * The parent starts W workers, writes T task numbers into a task pipe and
 * reads results from a result pipe.  Idle workers block in read() on the
 * task pipe, so whoever is free takes the next task.  "close" = the parent
 * closes the task pipe's write end: once it is empty, every read() returns 0
 * (EOF) and the workers exit.  "join" = the parent waits for all of them.
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

/* One result record.  It is written with a single write() of fewer than
 * PIPE_BUF bytes, which the kernel keeps whole: records from different
 * workers never interleave in the pipe. */
struct result {
	int task;
	int worker;
	long long value;
};

static void usage(void)
{
	printf("usage: pool_demo [-w W] [-t T] [--work MS]\n"
	       "  W worker processes (default 4) compute the squares of tasks 1..T\n"
	       "  (default 7), each task taking MS (default 50) ms; tasks go out through\n"
	       "  one pipe, results come back through another.\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "pool_demo: %s '%s' (try --help)\n", msg, arg);
	exit(2);
}

static long parse_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		bad_usage("bad number", s);
	return v;
}

static void die(const char *what)
{
	fprintf(stderr, "pool_demo %d: %s: %s\n", getpid(), what, strerror(errno));
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int by_task(const void *a, const void *b)
{
	return ((const struct result *)a)->task - ((const struct result *)b)->task;
}

static void worker(int task_rd, int result_wr, long work_ms)
{
	struct result r = { .worker = getpid() };
	int done = 0;

	/* Every task is one int written by the parent, and every read() asks
	 * for exactly one: the pipe hands each task to exactly one worker. */
	while (read(task_rd, &r.task, sizeof(r.task)) == sizeof(r.task)) {
		sleep_ms(work_ms);		/* the "work" */
		r.value = (long long)r.task * r.task;
		printf("worker %d: task %d -> %lld\n", r.worker, r.task, r.value);
		if (write(result_wr, &r, sizeof(r)) != sizeof(r))
			die("write result");
		done++;
	}
	printf("worker %d: EOF on the task pipe, exiting after %d tasks\n", r.worker, done);
	_exit(0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "work", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	long nworkers = 4, ntasks = 7, work_ms = 50, i;
	int tasks[2], results[2], c;
	struct result *res;
	pid_t *pids;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': nworkers = parse_long(optarg, 1, 256); break;
		/* At most 1000 tasks: they all fit in the pipe buffer at once. */
		case 't': ntasks = parse_long(optarg, 0, 1000); break;
		case 'k': work_ms = parse_long(optarg, 0, 60000); break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* nothing buffered at fork() */
	pids = calloc(nworkers, sizeof(*pids));
	res = calloc(ntasks + 1, sizeof(*res));
	if (!pids || !res || pipe(tasks) < 0 || pipe(results) < 0)
		die("setup");

	for (i = 0; i < nworkers; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			/* Close the ends this worker does not use.  Above all the
			 * task pipe's write end: while any process holds it open,
			 * readers never see EOF, and the pool would never stop. */
			close(tasks[1]);
			close(results[0]);
			worker(tasks[0], results[1], work_ms);
		}
		printf("parent %d: started worker %d\n", getpid(), pids[i]);
	}
	/* Likewise the parent drops its copy of the result write end, so that
	 * a read() would return EOF if every worker died. */
	close(tasks[0]);
	close(results[1]);

	for (i = 1; i <= ntasks; i++) {
		int t = i;

		if (write(tasks[1], &t, sizeof(t)) != sizeof(t))
			die("write task");
	}
	printf("parent %d: queued %ld tasks; collecting results\n", getpid(), ntasks);
	for (i = 0; i < ntasks; i++) {
		ssize_t n = read(results[0], &res[i], sizeof(res[i]));

		if (n != sizeof(res[i])) {
			fprintf(stderr, "pool_demo: result pipe closed early\n");
			return 1;
		}
	}
	qsort(res, ntasks, sizeof(*res), by_task);
	for (i = 0; i < ntasks; i++)
		printf("result: %d^2 = %lld (by worker %d)\n", res[i].task, res[i].value, res[i].worker);

	printf("parent %d: close: no more tasks (closing the task pipe)\n", getpid());
	close(tasks[1]);
	printf("parent %d: join: waiting for %ld workers\n", getpid(), nworkers);
	for (i = 0; i < nworkers; i++) {
		int st;

		waitpid(pids[i], &st, 0);
		printf("parent %d: joined worker %d (exit status %d)\n", getpid(), pids[i],
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}
