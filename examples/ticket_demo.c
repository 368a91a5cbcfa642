/*
 * ticket_demo: the classic ticket-buying race, and four locks that fix it.
 *
 * A file holds the number of tickets left.  N buyer processes each: take the
 * lock, read the count, wait a simulated network delay, buy a ticket if any is
 * left (write count-1 back), release the lock.  With --lock=none every buyer
 * reads the same count before anyone writes it back, so the show is oversold.
 *
 * The lock is held across read + delay + write, so buyers queue up on it: the
 * k-th buyer in line waits about k*delay, and all of them together wait about
 * delay*N*(N-1)/2.  That is what a tracer sees as lock waits on one object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
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

enum kind { K_FLOCK, K_FCNTL, K_SEM, K_MUTEX, K_NONE, K_PIMUTEX, K_SYSV };
#define K_NKINDS 7
static const char *const kind_name[] = { "flock", "fcntl", "sem", "mutex", "none", "pimutex", "sysv" };
static int semid = -1;	/* --lock=sysv: a System V semaphore set of one */

/* Shared by all buyers.  It must be a MAP_SHARED mapping made before fork():
 * an ordinary global is copied on fork, so each child would count alone. */
struct shared {
	pthread_mutex_t mutex;	/* --lock=mutex and --lock=pimutex */
	long sold;		/* tickets really handed out (atomic adds) */
	long wait_ms;		/* sum of all buyers' lock waits */
};

static enum kind kind = K_SEM;
static long buyers = 5, tickets = 2, delay_ms = 100;
static const char *path;
static sem_t *sem;
static struct shared *sh;
static struct timespec t0;

static void usage(void)
{
	printf("usage: ticket_demo [-n N] [--tickets T] [--delay MS] [--lock=KIND] [--file PATH]\n"
	       "  N buyers (default 5) race for T tickets (default 2) kept in a file.\n"
	       "  Each buyer holds the lock while it reads, waits MS (default 100), writes.\n"
	       "  --lock=flock|fcntl|sem|mutex|pimutex|sysv|none  (default sem, like multiprocessing.Lock;\n"
	       "        pimutex: a priority-inheritance mutex, whose futex word names its owner;\n"
	       "        sysv: a System V semaphore, semop)\n"
	       "  --file PATH   ticket file to use (default: a temp file in /tmp, removed after)\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ticket_demo: %s '%s' (try --help)\n", msg, arg);
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
	fprintf(stderr, "ticket_demo %d: %s: %s\n", getpid(), what, strerror(errno));
	exit(1);
}

/* Milliseconds since the parent started: children inherit t0, so all the
 * buyers' timestamps are on one clock and can be compared. */
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

static long read_count(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		die("read ticket file");
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static void write_count(int fd, long count)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", count);

	/* Write first, then trim: the file is never seen empty. */
	if (pwrite(fd, buf, len, 0) != len || ftruncate(fd, len) < 0)
		die("write ticket file");
}

static void lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };	/* whole file */

	switch (kind) {
	case K_FLOCK:
		if (flock(fd, LOCK_EX) < 0)
			die("flock");
		break;
	case K_FCNTL:
		if (fcntl(fd, F_SETLKW, &fl) < 0)
			die("fcntl(F_SETLKW)");
		break;
	case K_SEM:
		while (sem_wait(sem) < 0)
			if (errno != EINTR)
				die("sem_wait");
		break;
	case K_MUTEX:
	case K_PIMUTEX:
		errno = pthread_mutex_lock(&sh->mutex);
		if (errno)
			die("pthread_mutex_lock");
		break;
	case K_SYSV: {
		struct sembuf op = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO };

		while (semop(semid, &op, 1) < 0)
			if (errno != EINTR)
				die("semop");
		break;
	}
	case K_NONE:
		break;
	}
}

static void unlock(int fd)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	switch (kind) {
	case K_FLOCK: flock(fd, LOCK_UN); break;
	case K_FCNTL: fcntl(fd, F_SETLK, &fl); break;
	case K_SEM: sem_post(sem); break;
	case K_MUTEX:
	case K_PIMUTEX: pthread_mutex_unlock(&sh->mutex); break;
	case K_SYSV: {
		struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };

		semop(semid, &op, 1);
		break;
	}
	case K_NONE: break;
	}
}

static void buyer(void)
{
	int me = getpid();
	/* Open the file anew in each child.  flock() locks belong to the open
	 * file description: one inherited from the parent would be shared by
	 * every buyer, and then nobody would ever wait for anybody. */
	int fd = open(path, O_RDWR);
	long asked, got, done, left, ticket = 0;

	if (fd < 0)
		die(path);
	asked = now_ms();
	lock(fd);
	got = now_ms();
	left = read_count(fd);
	sleep_ms(delay_ms);		/* the "network round trip" */
	if (left > 0) {
		write_count(fd, left - 1);
		ticket = tickets - left + 1;
		__atomic_add_fetch(&sh->sold, 1, __ATOMIC_SEQ_CST);
	}
	done = now_ms();
	unlock(fd);
	__atomic_add_fetch(&sh->wait_ms, got - asked, __ATOMIC_SEQ_CST);

	if (kind == K_NONE)
		printf("buyer %d: no lock; read at %ld ms, finished at %ld ms\n", me, got, done);
	else
		printf("buyer %d: lock acquired at %ld ms, released at %ld ms\n", me, got, done);
	if (ticket)
		printf("buyer %d: got ticket #%ld\n", me, ticket);
	else
		printf("buyer %d: sold out\n", me);
	_exit(0);	/* _exit: the parent's atexit handlers and stdio are not ours to run */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tickets", required_argument, 0, 't' },
		{ "delay", required_argument, 0, 'd' },
		{ "lock", required_argument, 0, 'l' },
		{ "file", required_argument, 0, 'f' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	char semname[64], tmpl[] = "/tmp/ticket_demo-XXXXXX";
	pid_t *pids;
	int c, fd, failed = 0, made_file = 0;
	long i, left;

	opterr = 0;	/* we print our own one-line error */
	while ((c = getopt_long(argc, argv, ":n:t:d:l:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': buyers = parse_long(optarg, 1, 1000); break;
		case 't': tickets = parse_long(optarg, 0, 1000000); break;
		case 'd': delay_ms = parse_long(optarg, 0, 60000); break;
		case 'f': path = optarg; break;
		case 'l':
			for (i = 0; i < K_NKINDS && strcmp(optarg, kind_name[i]); i++)
				;
			if (i == K_NKINDS)
				bad_usage("unknown lock kind", optarg);
			kind = i;
			break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	/* Line-buffered stdout: nothing sits in the buffer at fork(), so no
	 * line is printed twice (once by the parent, once by a child's copy). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (path) {
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	} else {
		fd = mkstemp(tmpl);
		path = tmpl;
		made_file = 1;
	}
	if (fd < 0)
		die("cannot create the ticket file");
	write_count(fd, tickets);
	close(fd);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	if (kind == K_MUTEX || kind == K_PIMUTEX) {
		/* PROCESS_SHARED: the mutex lives in shared memory and is used by
		 * several processes, so its futex must be keyed by the page, not
		 * by one process's address space. */
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		if (kind == K_PIMUTEX)
			pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
		pthread_mutex_init(&sh->mutex, &a);
		pthread_mutexattr_destroy(&a);
	}
	if (kind == K_SEM) {
		/* A named POSIX semaphore (a file in /dev/shm), the same thing
		 * Python's multiprocessing.Lock is built on.  The pid makes the
		 * name unique; children inherit the mapping across fork(). */
		snprintf(semname, sizeof(semname), "/ticket_demo-%d", getpid());
		sem = sem_open(semname, O_CREAT | O_EXCL, 0600, 1);
		if (sem == SEM_FAILED)
			die("sem_open");
	}

	if (kind == K_SYSV) {
		/* private to this family: inherited across fork by its id */
		struct sembuf up = { .sem_num = 0, .sem_op = 1 };

		semid = semget(IPC_PRIVATE, 1, 0600);
		if (semid < 0 || semop(semid, &up, 1) < 0)
			die("semget");
	}

	printf("parent %d: %ld tickets in %s, %ld buyers, lock=%s, delay %ld ms\n",
	       getpid(), tickets, path, buyers, kind_name[kind], delay_ms);
	if (kind == K_NONE)
		printf("expected total lock wait ≈ 0 ms (no lock: nobody waits, and that is the bug)\n");
	else
		printf("expected total lock wait ≈ %ld ms (delay*N*(N-1)/2: buyers queue one by one)\n",
		       delay_ms * buyers * (buyers - 1) / 2);

	pids = calloc(buyers, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (i = 0; i < buyers; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0)
			buyer();
		printf("parent %d: forked buyer %d\n", getpid(), pids[i]);
	}

	/* Wait for every buyer: this reaps them (no zombies) and tells us
	 * whether each one finished cleanly. */
	for (i = 0; i < buyers; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("parent %d: buyer %d failed (status 0x%x)\n", getpid(), pids[i], st);
			failed = 1;
		}
	}

	fd = open(path, O_RDONLY);
	left = fd < 0 ? -1 : read_count(fd);
	if (fd >= 0)
		close(fd);
	printf("measured total lock wait: %ld ms; the file says %ld left\n", sh->wait_ms, left);
	printf("sold %ld of %ld tickets to %ld buyers; lock=%s\n", sh->sold, tickets, buyers, kind_name[kind]);
	if (sh->sold > tickets)
		printf("OVERSOLD: sold %ld tickets but only %ld existed\n", sh->sold, tickets);
	else if (kind == K_NONE && buyers > tickets)
		printf("no oversell this time: the race was lucky (try a larger --delay)\n");

	if (kind == K_SEM) {
		sem_close(sem);
		sem_unlink(semname);	/* else the name stays in /dev/shm */
	}
	if (kind == K_SYSV)
		semctl(semid, 0, IPC_RMID);	/* SysV sets outlive processes */
	if (made_file)
		unlink(path);
	return failed;
}
