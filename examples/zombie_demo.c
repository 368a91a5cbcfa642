/*
 * zombie_demo: children that exit before their parent waits for them.
 *
 * When a process exits, the kernel frees its memory but keeps a small entry
 * (pid, exit status, CPU times) until the parent collects it with wait().
 * Until then the child is a zombie: "Z" / <defunct> in ps.  A parent that
 * never waits leaks zombies; if it exits, they are re-parented to init (or
 * the nearest subreaper), which reaps them.
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

static void usage(void)
{
	printf("usage: zombie_demo [-n N] [--sleep SECS] [--reap|--exit]\n"
	       "  fork N children (default 3) that exit at once, sleep SECS (default 2)\n"
	       "  without wait()ing, so they are zombies; then\n"
	       "  --reap  reap them with waitpid() (default)\n"
	       "  --exit  exit without reaping: they are handed to init, which reaps them\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "zombie_demo: %s '%s' (try --help)\n", msg, arg);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "zombie_demo %d: %s: %s\n", getpid(), what, strerror(errno));
	exit(1);
}

/* The process state letter from /proc/PID/stat: "pid (comm) S ...".
 * comm may contain spaces or ')', so look after the last ')'. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sleep", required_argument, 0, 's' },
		{ "reap", no_argument, 0, 'r' },
		{ "exit", no_argument, 0, 'x' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	long n = 3, i;
	double secs = 2;
	int reap = 1, c;
	char *end;
	pid_t *pids;
	struct timespec ts;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > 1000)
				bad_usage("bad number", optarg);
			break;
		case 's':
			secs = strtod(optarg, &end);
			if (end == optarg || *end || !(secs >= 0 && secs <= 3600))
				bad_usage("bad seconds", optarg);
			break;
		case 'r': reap = 1; break;
		case 'x': reap = 0; break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* nothing buffered at fork() */
	/* SIGCHLD set to SIG_IGN (which exec keeps, so a caller may have left
	 * it so) makes the kernel reap children by itself: no zombies.  The
	 * default action keeps them until we wait. */
	signal(SIGCHLD, SIG_DFL);

	pids = calloc(n, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			printf("child %d: exiting at once (parent %d)\n", getpid(), getppid());
			_exit(0);
		}
		printf("parent %d: forked child %d\n", getpid(), pids[i]);
	}

	printf("parent %d: sleeping %g s without wait(); try: ps -o pid,stat,cmd --ppid %d\n",
	       getpid(), secs, getpid());
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	for (i = 0; i < n; i++) {
		char s = proc_state(pids[i]);

		printf("parent %d: child %d is in state %c%s\n", getpid(), pids[i], s,
		       s == 'Z' ? " (zombie: exited, not yet reaped)" : "");
	}

	if (!reap) {
		printf("parent %d: exiting without reaping; %ld zombies go to init (or a subreaper), which reaps them\n",
		       getpid(), n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) < 0)
			die("waitpid");
		printf("parent %d: reaped child %d (exit status %d)\n", getpid(), pids[i],
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}
