/*
 * queue_demo: producers and consumers over a bounded queue in shared memory,
 * like multiprocessing.Queue (default) and JoinableQueue (--joinable).
 *
 * The queue is a ring of 4 slots in a MAP_SHARED mapping, guarded by three
 * process-shared POSIX semaphores: "slots" counts free places (producers
 * block on it when the queue is full: back-pressure), "items" counts filled
 * places (consumers block on it when the queue is empty), and "mutex" lets
 * one process at a time move the ring's head or tail.
 *
 * Default: main joins the producers, then puts one sentinel per consumer;
 * each consumer stops at its sentinel and is joined.
 * --joinable: consumers loop forever (like daemon=True); every item is
 * marked task_done, main waits until all are done (JoinableQueue.join()),
 * then terminates the consumers with SIGTERM and reaps them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAP 4
#define SENTINEL (-1)

struct queue {
	sem_t slots, items, mutex;
	int buf[CAP];
	int head, tail;
	long unfinished;	/* --joinable: put but not yet task_done */
	int joiner;		/* --joinable: main sleeps in join() */
	sem_t all_done;		/* posted when unfinished reaches 0 for the joiner */
	long consumed;
};

static struct queue *q;
static long work_ms = 20;

static void usage(void)
{
	printf("usage: queue_demo [-p P] [-c C] [-n ITEMS] [--work MS] [--joinable]\n"
	       "  P producers (default 2) each put ITEMS items (default 5) into a 4-slot\n"
	       "  shared-memory queue; C consumers (default 2) take them, MS (default 20)\n"
	       "  ms per item.  Consumers stop at sentinels, or with --joinable loop forever\n"
	       "  while main waits for every item's task_done, then SIGTERMs them.\n");
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "queue_demo: %s '%s' (try --help)\n", msg, arg);
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
	fprintf(stderr, "queue_demo %d: %s: %s\n", getpid(), what, strerror(errno));
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void P(sem_t *s)
{
	while (sem_wait(s) < 0)
		if (errno != EINTR)
			die("sem_wait");
}

static void V(sem_t *s)
{
	sem_post(s);
}

static void put(int v)
{
	P(&q->slots);			/* wait for a free slot */
	P(&q->mutex);
	q->buf[q->tail] = v;
	q->tail = (q->tail + 1) % CAP;
	q->unfinished++;		/* JoinableQueue counts at put() */
	V(&q->mutex);
	V(&q->items);			/* wake a consumer */
}

static int get(void)
{
	int v;

	P(&q->items);			/* wait for an item */
	P(&q->mutex);
	v = q->buf[q->head];
	q->head = (q->head + 1) % CAP;
	V(&q->mutex);
	V(&q->slots);			/* wake a producer */
	return v;
}

static void task_done(void)
{
	P(&q->mutex);
	if (--q->unfinished == 0 && q->joiner) {
		q->joiner = 0;
		V(&q->all_done);
	}
	V(&q->mutex);
}

/* JoinableQueue.join(): return once every item put has been task_done.
 * Checking and registering under the mutex means no wake-up is missed. */
static void join_queue(void)
{
	P(&q->mutex);
	if (q->unfinished == 0) {
		V(&q->mutex);
		return;
	}
	q->joiner = 1;
	V(&q->mutex);
	P(&q->all_done);
}

static void producer(int id, long items)
{
	for (long i = 1; i <= items; i++) {
		int v = id * 1000 + i;	/* producer number and item number */

		put(v);
		printf("producer %d: put %d\n", getpid(), v);
	}
	printf("producer %d: done, exiting\n", getpid());
	_exit(0);
}

static void consumer(int joinable)
{
	long n = 0;

	for (;;) {
		int v = get();

		if (v == SENTINEL) {
			printf("consumer %d: got sentinel, exiting after %ld items\n", getpid(), n);
			_exit(0);
		}
		sleep_ms(work_ms);	/* "process" the item */
		n++;
		__atomic_add_fetch(&q->consumed, 1, __ATOMIC_SEQ_CST);
		printf("consumer %d: got %d\n", getpid(), v);
		if (joinable)
			task_done();
	}
}

static pid_t spawn(const char *what, int id, long items, int joinable)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (id)
			producer(id, items);
		consumer(joinable);
	}
	printf("main %d: started %s %d\n", getpid(), what, pid);
	return pid;
}

static void reap(const char *what, pid_t pid)
{
	int st;

	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("main %d: reaped %s %d: killed by signal %d (%s)\n", getpid(), what, pid,
		       WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		printf("main %d: joined %s %d (exit status %d)\n", getpid(), what, pid, WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "joinable", no_argument, 0, 'j' },
		{ "work", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	long np = 2, nc = 2, items = 5, i;
	int joinable = 0, c;
	pid_t *prod, *cons;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': np = parse_long(optarg, 1, 64); break;
		case 'c': nc = parse_long(optarg, 1, 64); break;
		case 'n': items = parse_long(optarg, 0, 999); break;
		case 'k': work_ms = parse_long(optarg, 0, 60000); break;
		case 'j': joinable = 1; break;
		case 'h': usage(); return 0;
		case ':': bad_usage("missing value for", argv[optind - 1]); break;
		default: bad_usage("unknown option", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* nothing buffered at fork() */
	/* Shared memory made before fork(), so every child sees the same queue.
	 * pshared=1 tells sem_init the semaphores are used across processes. */
	q = mmap(NULL, sizeof(*q), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		die("mmap");
	if (sem_init(&q->slots, 1, CAP) || sem_init(&q->items, 1, 0) ||
	    sem_init(&q->mutex, 1, 1) || sem_init(&q->all_done, 1, 0))
		die("sem_init");
	prod = calloc(np, sizeof(*prod));
	cons = calloc(nc, sizeof(*cons));
	if (!prod || !cons)
		die("calloc");

	for (i = 0; i < nc; i++)
		cons[i] = spawn(joinable ? "daemon consumer" : "consumer", 0, 0, joinable);
	for (i = 0; i < np; i++)
		prod[i] = spawn("producer", i + 1, items, joinable);
	for (i = 0; i < np; i++)
		reap("producer", prod[i]);

	if (joinable) {
		printf("main %d: all producers done; join(): waiting until every item is task_done\n", getpid());
		join_queue();
		printf("main %d: queue drained; terminating %ld daemon consumers\n", getpid(), nc);
		for (i = 0; i < nc; i++)
			kill(cons[i], SIGTERM);
		for (i = 0; i < nc; i++)
			reap("daemon consumer", cons[i]);
	} else {
		printf("main %d: all producers done; putting %ld sentinels\n", getpid(), nc);
		for (i = 0; i < nc; i++)
			put(SENTINEL);
		for (i = 0; i < nc; i++)
			reap("consumer", cons[i]);
	}
	printf("main %d: %ld of %ld items consumed\n", getpid(), q->consumed, np * items);
	return q->consumed == np * items ? 0 : 1;
}
