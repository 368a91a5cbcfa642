/*
 * orphan_demo: a child that outlives its parent.
 *
 * When a parent exits first, its running children are not killed: the kernel
 * re-parents them ("adoption") to the nearest ancestor that called
 * prctl(PR_SET_CHILD_SUBREAPER), or else to pid 1 of the pid namespace.  The
 * new parent is the one that will reap them.  The child notices only because
 * getppid() changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	printf("usage: orphan_demo [--sleep SECS]\n"
	       "  fork a child, then the parent exits after SECS (default 0.2) without\n"
	       "  waiting; the child watches getppid() change when it is adopted, then exits\n"
	       "  (at most SECS + 2 s later)\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "orphan_demo: %s '%s' (try --help)\n", msg, arg);
	exit(2);
}

static void sleep_secs(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The adopter's name, to tell init from a subreaper (e.g. mptrace, systemd --user). */
static void comm_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, size, f))
		snprintf(buf, size, "?");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static void child(pid_t parent, double secs)
{
	double deadline = now() + secs + 2;
	char name[64];
	pid_t adopter;

	/* Compare with the parent's pid saved before fork(), not with a first
	 * getppid(): with --sleep 0 the parent may already be gone. */
	printf("child %d: started by parent %d; getppid() = %d\n", getpid(), parent, getppid());
	while (getppid() == parent && now() < deadline)
		sleep_secs(0.01);	/* polling is crude, but the kernel sends no notice */
	adopter = getppid();
	if (adopter == parent) {
		printf("child %d: parent %d still alive; giving up\n", getpid(), parent);
		_exit(1);
	}
	comm_of(adopter, name, sizeof(name));
	printf("child %d: parent %d exited; adopted by %d (%s)\n", getpid(), parent, adopter, name);
	printf("child %d: exiting; my new parent %d will reap me\n", getpid(), adopter);
	_exit(0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sleep", required_argument, 0, 's' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	double secs = 0.2;
	char *end;
	pid_t me, pid;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			secs = strtod(optarg, &end);
			if (end == optarg || *end || !(secs >= 0 && secs <= 3600))
				bad_usage("bad seconds", optarg);
			break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* nothing buffered at fork() */
	me = getpid();
	pid = fork();
	if (pid < 0) {
		perror("orphan_demo: fork");
		return 1;
	}
	if (pid == 0)
		child(me, secs);
	printf("parent %d: forked child %d; exiting in %g s without waiting for it\n", me, pid, secs);
	sleep_secs(secs);
	printf("parent %d: exiting now; child %d becomes an orphan\n", me, pid);
	return 0;
}
