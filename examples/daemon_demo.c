/*
 * daemon_demo: a "daemon" child that is terminated, and a normal child that
 * is joined.
 *
 * This is what Python's multiprocessing does with Process(daemon=True): the
 * daemon child runs forever, and when the main process finishes it sends the
 * daemon SIGTERM and reaps it, while normal children are joined (waited for).
 * (This "daemon" is not a Unix daemon that detaches from its terminal: it is
 * just a helper whose lifetime is bound to its parent.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
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
	printf("usage: daemon_demo [--unit MS]\n"
	       "  main starts a daemon child (ticks every unit forever) and a worker child\n"
	       "  (works 2 units); main joins the worker, then SIGTERMs and reaps the daemon.\n"
	       "  --unit MS   time unit (default 200)\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "daemon_demo: %s '%s' (try --help)\n", msg, arg);
	exit(2);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static pid_t spawn(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("daemon_demo: fork");
		exit(1);
	}
	if (pid == 0) {
		fn();
		_exit(0);
	}
	return pid;
}

static void daemon_child(void)
{
	/* Loops forever: it never ends by itself, someone must stop it.  Ticks
	 * fall half a unit off the worker's beat, so the output does not race. */
	sleep_ms(unit_ms / 2);
	for (long tick = 1;; tick++) {
		printf("%5ld ms daemon %d: tick %ld\n", now_ms(), getpid(), tick);
		sleep_ms(unit_ms);
	}
}

static void worker_child(void)
{
	printf("%5ld ms worker %d: working for 2 units\n", now_ms(), getpid());
	sleep_ms(2 * unit_ms);
	printf("%5ld ms worker %d: done, exiting 0\n", now_ms(), getpid());
}

static void report(const char *who, pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		printf("%5ld ms main %d: reaped %s %d: killed by signal %d (%s)\n", now_ms(), getpid(),
		       who, pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		printf("%5ld ms main %d: reaped %s %d: exit status %d\n", now_ms(), getpid(),
		       who, pid, WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unit", required_argument, 0, 'u' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	pid_t daemon, worker;
	char *end;
	int c, st;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
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

	daemon = spawn(daemon_child);
	printf("%5ld ms main %d: started daemon %d\n", now_ms(), getpid(), daemon);
	worker = spawn(worker_child);
	printf("%5ld ms main %d: started worker %d\n", now_ms(), getpid(), worker);

	/* Join the worker: block until it exits, and reap it. */
	printf("%5ld ms main %d: joining worker %d\n", now_ms(), getpid(), worker);
	waitpid(worker, &st, 0);
	report("worker", worker, st);

	/* Main is done.  Left alone the daemon would run forever (a leak), so
	 * terminate it, and reap it too, or it would stay a zombie. */
	printf("%5ld ms main %d: finishing; sending SIGTERM to daemon %d\n", now_ms(), getpid(), daemon);
	kill(daemon, SIGTERM);
	waitpid(daemon, &st, 0);
	report("daemon", daemon, st);
	printf("%5ld ms main %d: exiting 0\n", now_ms(), getpid());
	return 0;
}
