/*
 * deadlock_demo: two processes, two locks, opposite order.
 *
 * A takes lock1, pauses 100 ms, then wants lock2; B takes lock2, pauses, then
 * wants lock1.  Each now waits for a lock the other holds and will never let
 * go: a deadlock.  Nothing in the kernel breaks it for flock(), OFD locks
 * (F_OFD_SETLKW) or futex-based mutexes, so the parent plays watchdog: after
 * --timeout it SIGKILLs both.  Classic POSIX record locks (F_SETLKW, --kind
 * posix) are the exception: the kernel follows the wait-for chain and fails
 * one request with EDEADLK.  --ordered takes the locks in the same order in
 * both processes, which is the usual cure: then there is no cycle.
 *
 * The lock files live in a private folder in $TMPDIR (else /tmp), removed
 * as soon as both workers have opened them: a demo killed while stuck (as
 * mptrace --on-deadlock=kill does) leaves nothing behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind { K_FLOCK, K_FCNTL, K_POSIX, K_MUTEX, K_SYSV, K_NKINDS };
static const char *const kind_name[] = { "flock", "fcntl", "posix", "mutex", "sysv" };

static enum kind kind = K_FLOCK;
static char dir[PATH_MAX], paths[2][PATH_MAX + 8];
static int fds[2];
static int ready[2] = { -1, -1 };	/* each worker writes a byte once it opened the files */
/* Unless --ordered, each worker tells (took) that it holds its first lock and
 * waits for the parent's go, sent once both do: then they want each other's
 * lock whatever the scheduler did, and the deadlock always happens. */
static int barrier, took[2] = { -1, -1 }, go[2] = { -1, -1 };
static pthread_mutex_t *mutexes;	/* two, in shared memory */
static int semid = -1;			/* --kind sysv: a set of two, each 1 */

static void usage(void)
{
	printf("usage: deadlock_demo [--kind KIND] [--timeout SECS] [--ordered]\n"
	       "  A takes lock1 then lock2, B takes lock2 then lock1: they deadlock.\n"
	       "  --kind flock   flock(LOCK_EX) on two temp files (default)\n"
	       "         fcntl   OFD locks, F_OFD_SETLKW, on two temp files\n"
	       "         posix   classic F_SETLKW locks: the kernel detects it (EDEADLK)\n"
	       "         mutex   two process-shared pthread mutexes in shared memory\n"
	       "         sysv    a System V semaphore set of two, each one slot\n"
	       "  --timeout SECS  kill both with SIGKILL if still stuck after SECS\n"
	       "                  (default 5); exit 1 if it had to, else 0\n"
	       "  --ordered       both take lock1 first: no deadlock\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "deadlock_demo: %s '%s' (try --help)\n", msg, arg);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "deadlock_demo %d: %s: %s\n", getpid(), what, strerror(errno));
	exit(1);
}

/* Returns 0, or the error (EDEADLK for --kind posix). */
static int lock(int i)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };	/* whole file */

	switch (kind) {
	case K_FLOCK:
		return flock(fds[i], LOCK_EX) < 0 ? errno : 0;
	case K_FCNTL:
		return fcntl(fds[i], F_OFD_SETLKW, &fl) < 0 ? errno : 0;
	case K_POSIX:
		return fcntl(fds[i], F_SETLKW, &fl) < 0 ? errno : 0;
	case K_MUTEX:
		return pthread_mutex_lock(&mutexes[i]);
	case K_SYSV: {
		/* SEM_UNDO: the kernel gives the slot back if the holder dies */
		struct sembuf op = { .sem_num = i, .sem_op = -1, .sem_flg = SEM_UNDO };

		return semop(semid, &op, 1) < 0 ? errno : 0;
	}
	default:
		break;
	}
	return EINVAL;
}

static void unlock(int i)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	switch (kind) {
	case K_FLOCK: flock(fds[i], LOCK_UN); break;
	case K_FCNTL: fcntl(fds[i], F_OFD_SETLK, &fl); break;
	case K_POSIX: fcntl(fds[i], F_SETLK, &fl); break;
	case K_MUTEX: pthread_mutex_unlock(&mutexes[i]); break;
	case K_SYSV: {
		struct sembuf op = { .sem_num = i, .sem_op = 1, .sem_flg = SEM_UNDO };

		semop(semid, &op, 1);
		break;
	}
	default: break;
	}
}

static void worker(const char *name, int first, int second)
{
	struct timespec pause = { 0, 100 * 1000000L };
	int me = getpid(), err;

	/* Open the files here, not in the parent: flock and OFD locks belong
	 * to an open file description, and one shared by A and B would make
	 * them the same lock owner, so they could never block each other. */
	if (kind != K_MUTEX && kind != K_SYSV)
		for (int i = 0; i < 2; i++)
			if ((fds[i] = open(paths[i], O_RDWR)) < 0)
				die(paths[i]);
	if (write(ready[1], "", 1) != 1)
		die("write");
	close(ready[0]);
	close(ready[1]);

	if ((err = lock(first))) {
		errno = err;
		die("lock");
	}
	printf("%s %d: took lock%d, pausing 100 ms\n", name, me, first + 1);
	if (barrier) {
		char c;

		close(took[0]);
		close(go[1]);
		if (write(took[1], "", 1) != 1 || read(go[0], &c, 1) != 1)
			die("barrier");
	}
	nanosleep(&pause, NULL);
	printf("%s %d: waiting for lock%d\n", name, me, second + 1);
	err = lock(second);
	if (err == EDEADLK) {
		printf("%s %d: kernel said EDEADLK (it saw the cycle); releasing lock%d and giving up\n",
		       name, me, first + 1);
		unlock(first);
		_exit(3);
	}
	if (err) {
		errno = err;
		die("lock");
	}
	printf("%s %d: took lock%d too; done\n", name, me, second + 1);
	unlock(second);
	unlock(first);
	_exit(0);
}

static pid_t spawn(const char *name, int first, int second)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);	/* undo the parent's block */
		worker(name, first, second);
	}
	printf("parent %d: started %s %d (lock%d, then lock%d)\n", getpid(), name, pid, first + 1, second + 1);
	return pid;
}

/* Once both workers opened the lock files (or died trying), the names are
 * no longer needed: the open files keep the locks. Then the barrier: the go
 * once both hold their first lock. */
static void after_spawn(void)
{
	char b[2];
	ssize_t n = 0, r;

	close(ready[1]);
	while (n < 2 && ((r = read(ready[0], b, sizeof(b))) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? r : 0;
	close(ready[0]);
	if (kind != K_MUTEX && kind != K_SYSV) {
		for (int i = 0; i < 2; i++)
			unlink(paths[i]);
		rmdir(dir);
	}
	if (barrier) {
		n = 0;
		close(took[1]);
		while (n < 2 && ((r = read(took[0], b, sizeof(b))) > 0 || (r < 0 && errno == EINTR)))
			n += r > 0 ? r : 0;
		if (write(go[1], "gg", 2) != 2)
			die("write");
		close(took[0]);
		close(go[1]);
	}
}

static int gave_up;	/* a worker got EDEADLK */

static void report(const char *name, pid_t pid, int st)
{
	gave_up |= WIFEXITED(st) && WEXITSTATUS(st) == 3;
	if (WIFSIGNALED(st))
		printf("parent %d: reaped %s %d: killed by signal %d (%s)\n", getpid(), name, pid,
		       WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		printf("parent %d: reaped %s %d: exit status %d\n", getpid(), name, pid, WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, 0, 'k' },
		{ "timeout", required_argument, 0, 't' },
		{ "ordered", no_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	static const char *const names[2] = { "A", "B" };
	double timeout = 5, left;
	int ordered = 0, c, i, alive, st;
	struct timespec start, now, ts;
	pid_t pids[2];
	sigset_t chld;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			for (i = 0; i < K_NKINDS && strcmp(optarg, kind_name[i]); i++)
				;
			if (i == K_NKINDS)
				bad_usage("unknown lock kind", optarg);
			kind = i;
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (end == optarg || *end || !(timeout > 0 && timeout <= 3600))
				bad_usage("bad seconds", optarg);
			break;
		case 'o': ordered = 1; break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* nothing buffered at fork() */
	if (kind == K_MUTEX) {
		pthread_mutexattr_t a;

		mutexes = mmap(NULL, 2 * sizeof(*mutexes), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (mutexes == MAP_FAILED)
			die("mmap");
		/* (A PTHREAD_MUTEX_ROBUST mutex would tell the next locker
		 * EOWNERDEAD if a holder dies; a plain one stays locked.) */
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutex_init(&mutexes[0], &a);
		pthread_mutex_init(&mutexes[1], &a);
		printf("parent %d: lock1, lock2 = two process-shared mutexes in shared memory\n", getpid());
	} else if (kind == K_SYSV) {
		unsigned short one[2] = { 1, 1 };

		semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
		if (semid < 0 || semctl(semid, 0, SETALL, one) < 0)
			die("semget");
		printf("parent %d: lock1, lock2 = System V semaphores 0 and 1 of set %d\n", getpid(), semid);
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/deadlock_demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir))
			die("mkdtemp");
		for (i = 0; i < 2; i++) {
			int fd;

			snprintf(paths[i], sizeof(paths[i]), "%s/lock%d", dir, i + 1);
			fd = open(paths[i], O_RDWR | O_CREAT | O_EXCL, 0600);
			if (fd < 0)
				die(paths[i]);
			close(fd);
		}
		printf("parent %d: lock1 = %s, lock2 = %s (%s)\n", getpid(), paths[0], paths[1], kind_name[kind]);
	}

	/* Block SIGCHLD so that sigtimedwait() can wait for "a child exited"
	 * or "the timeout passed", whichever comes first. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	signal(SIGCHLD, SIG_DFL);	/* an inherited SIG_IGN would reap them behind our back */
	barrier = !ordered;
	if (pipe(ready) || (barrier && (pipe(took) || pipe(go))))
		die("pipe");
	clock_gettime(CLOCK_MONOTONIC, &start);
	pids[0] = spawn(names[0], 0, 1);
	pids[1] = ordered ? spawn(names[1], 0, 1) : spawn(names[1], 1, 0);
	after_spawn();

	for (;;) {
		alive = 0;
		for (i = 0; i < 2; i++) {
			if (pids[i] && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				report(names[i], pids[i], st);
				pids[i] = 0;
			}
			alive += pids[i] != 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout - (now.tv_sec - start.tv_sec) - (now.tv_nsec - start.tv_nsec) / 1e9;
		if (!alive || left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sigtimedwait(&chld, NULL, &ts);
	}

	if (alive) {
		for (i = 0; i < 2; i++)
			if (pids[i])
				kill(pids[i], SIGKILL);	/* SIGKILL: a blocked lock wait cannot ignore it */
		for (i = 0; i < 2; i++)
			if (pids[i]) {
				waitpid(pids[i], &st, 0);
				report(names[i], pids[i], st);
			}
		if (alive == 2)
			printf("deadlock: both stuck after %g s; killed them\n", timeout);
		else
			printf("stuck: one process still blocked after %g s; killed it\n", timeout);
	} else if (gave_up) {
		printf("no deadlock left: the kernel broke the cycle with EDEADLK; both finished\n");
	} else {
		printf("no deadlock: both finished\n");
	}
	if (semid >= 0)
		semctl(semid, 0, IPC_RMID);
	return alive ? 1 : 0;
}
