// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Semaphore holders inferred from the processes' used shared mappings, and
 * the wait-for graph built on them (docs/findings.md#deadlock): Python's
 * deadlock.py (two multiprocessing.Locks taken in opposite orders) is a
 * cycle; a correct ticket program (one holds, the others queue) is not, nor
 * anything where two processes could hold the semaphore.
 */
#include <stdlib.h>
#include <string.h>
#include "analyze.h"
#include "deadlock.h"
#include "event.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define SELF 1
#define P 100		/* the parent: it made the locks and forked A and B */
#define A 101
#define B 102
#define SHM_DEV 27	/* /dev/shm's s_dev: 00:1b in /proc/PID/maps */
#define S1 5001		/* the semaphores' inodes */
#define S2 5002

static struct ptree *mk(enum pt_mode mode)
{
	char *argv[] = { "python3", "deadlock.py", NULL };
	struct pt_meta m = { .mode = mode, .argv = argv, .t0 = T0, .self_pid = SELF,
			     .root_pid = P };

	return ptree_new(&m);
}

static void feed(struct ptree *pt, void *ev)
{
	const struct mpt_hdr *h = ev;
	const char *why;

	if (event_validate(ev, h->size, &why)) {
		ok(0, "scripted event of type %u accepted by the validator: %s", h->type, why);
		return;
	}
	ok(!ptree_feed(pt, ev, NULL), "record of type %u taken", h->type);
}

static void hdr(struct mpt_hdr *h, uint32_t type, uint32_t size, uint64_t ms, uint32_t pid)
{
	*h = (struct mpt_hdr){ .type = type, .size = size, .ts = T0 + ms * MS, .pid = pid,
			       .tid = pid, .start = pid };
}

static void fork_(struct ptree *pt, uint64_t ms, uint32_t ppid, uint32_t pid)
{
	struct mpt_fork e = { 0 };

	hdr(&e.h, MPT_EV_FORK, sizeof(e), ms, pid);
	e.ppid = e.ptid = ppid;
	e.pstart = ppid;
	strcpy(e.comm, "python3");
	feed(pt, &e);
}

/* pid's mappings read at `ms`: its program, and the semaphores it used */
static void maps(struct ptree *pt, uint64_t ms, uint32_t pid, const uint64_t *sems, int n)
{
	char text[1024];
	size_t len = 0, size;
	struct mpt_maps *m;

	len += snprintf(text + len, sizeof(text) - len,
			"55d000000000-55d000001000 r-xp 00000000 08:01 4242 /usr/bin/python3.11\n");
	for (int i = 0; i < n; i++)
		len += snprintf(text + len, sizeof(text) - len,
				"7f%010llx-7f%010llx rw-s 00000000 00:1b %llu /dev/shm/sem.mp-%llu (deleted)\n",
				(unsigned long long)sems[i] << 12, ((unsigned long long)sems[i] << 12) + 4096,
				(unsigned long long)sems[i], (unsigned long long)sems[i]);
	size = (offsetof(struct mpt_maps, data) + len + 7) & ~(size_t)7;
	m = calloc(1, size);
	hdr(&m->h, MPT_EV_MAPS, size, ms, pid);
	m->maps_len = len;
	memcpy(m->data, text, len);
	feed(pt, m);
	free(m);
}

/* the semaphore's path, /dev/shm/sem.mp-INO, last component first */
static void sem_path(char (*comps)[MPT_COMP_LEN], uint64_t ino)
{
	snprintf(comps[0], MPT_COMP_LEN, "sem.mp-%llu", (unsigned long long)ino);
	strcpy(comps[1], "shm");
	strcpy(comps[2], "dev");
}

/* pid blocks on semaphore `ino` at `ms`, as the scan reads it from the BPF
 * table, its stack in sem_wait (unless bare: --no-stacks) */
static void sem_wait_begin(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t ino, bool bare)
{
	struct mpt_lock_begin e = { 0 };

	if (!bare) {
		struct pt_stack *st = calloc(1, sizeof(*st));

		st->pid = st->tid = pid;
		st->ts = T0 + ms * MS;
		st->n = 2;
		st->f[0] = (struct pt_frame){ .addr = 0x7f0000001000, .symbol = strdup("sem_wait") };
		st->f[1] = (struct pt_frame){ .addr = 0x7f0000002000,
					      .symbol = strdup("_multiprocessing_SemLock_acquire_impl") };
		ptree_add_stack(pt, st);
	}
	hdr(&e.h, MPT_EV_LOCK_BEGIN, sizeof(e), ms, pid);
	e.kind = MPT_LOCK_FUTEX;
	e.dev = SHM_DEV;
	e.ino = ino;
	sem_path(e.comps, ino);
	feed(pt, &e);
}

/* pid waits for any of its children from `ms` */
static void child_wait_begin(struct ptree *pt, uint64_t ms, uint32_t pid)
{
	struct mpt_wait_begin e = { 0 };

	hdr(&e.h, MPT_EV_WAIT_BEGIN, sizeof(e), ms, pid);
	e.target = -1;
	feed(pt, &e);
}

/* the wait of pid that began at start_ms ends at ms (woken, or killed);
 * flags: MPT_LOCK_HOLDER_INPUT when its releaser was waiting for input */
static void sem_wait_end_f(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t start_ms, uint64_t ino,
			   uint32_t flags, uint32_t waker)
{
	struct mpt_lock e = { 0 };

	hdr(&e.h, MPT_EV_LOCK, sizeof(e), ms, pid);
	e.flags = flags;
	e.waker = e.waker_tid = waker;
	e.start_ts = T0 + start_ms * MS;
	e.kind = MPT_LOCK_FUTEX;
	e.dev = SHM_DEV;
	e.ino = ino;
	sem_path(e.comps, ino);
	feed(pt, &e);
}

static void sem_wait_end(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t start_ms, uint64_t ino)
{
	sem_wait_end_f(pt, ms, pid, start_ms, ino, 0, 0);
}

static const struct pt_inwait *inwait(const struct ptree *pt, uint32_t pid)
{
	const struct pt_proc *p = ptree_find(pt, pid);

	return p ? p->inwaits : NULL;
}

static uint32_t inferred(const struct ptree *pt, uint32_t pid)
{
	return pt_infer_holder(pt, ptree_find(pt, pid), inwait(pt, pid));
}

/* P forks A and B; A takes S1 and waits for S2, B takes S2 and waits for S1 */
static struct ptree *crossed(enum pt_mode mode, bool bare)
{
	struct ptree *pt = mk(mode);

	fork_(pt, 1, SELF, P);
	fork_(pt, 5, P, A);
	fork_(pt, 6, P, B);
	sem_wait_begin(pt, 100, A, S2, bare);
	sem_wait_begin(pt, 101, B, S1, bare);
	return pt;
}

static const uint64_t both[] = { S1, S2 }, s1[] = { S1 };

static void test_deadlock_inferred(void)
{
	struct ptree *pt = crossed(PT_MODE_COMMAND, false);
	const struct pt_proc *want[8];
	struct mpt_deadlock dl;
	const struct pt_lockwait *w;
	char *text;
	size_t n;

	ok(pt_sem_lock(inwait(pt, A)->lock), "a shared semaphore waited on in sem_wait is one");
	is_int(inferred(pt, A), 0, "no mappings known: no holder");
	ok(!dl_detect(pt, T0 + 1200 * MS, 1000 * MS, &dl), "and no cycle");
	n = dl_maps_wanted(pt, T0 + 1200 * MS, 1000 * MS, want, 8);
	is_int(n, 3, "the mappings of the 3 live processes are wanted");
	is_int(dl_maps_wanted(pt, T0 + 900 * MS, 1000 * MS, want, 8), 0,
	       "none while the waits are younger than --deadlock-after");
	/* read after both waits began: P never used either semaphore */
	maps(pt, 1200, P, NULL, 0);
	maps(pt, 1200, A, both, 2);
	maps(pt, 1200, B, both, 2);
	is_int(dl_maps_wanted(pt, T0 + 1250 * MS, 1000 * MS, want, 8), 0, "then no more");
	is_int(inferred(pt, A), B, "A waits on S2: only B used it and is not waiting on it");
	is_int(inferred(pt, B), A, "B waits on S1: only A");
	ok(dl_detect(pt, T0 + 1250 * MS, 1000 * MS, &dl), "a cycle");
	is_int(dl.n, 2, "of two");
	ok((dl.m[0].pid == A && dl.m[1].pid == B) || (dl.m[0].pid == B && dl.m[1].pid == A),
	   "A and B");
	ok(dl.m[0].kind == MPT_LOCK_FUTEX && dl.m[0].ino == (dl.m[0].pid == A ? S2 : S1),
	   "each with the semaphore it waits on");
	hdr(&dl.h, MPT_EV_DEADLOCK, sizeof(dl), 1250, 0);
	feed(pt, &dl);
	is_int(pt->ndeadlocks, 1, "one deadlock");
	ok(pt->ndeadlocks && pt->deadlocks[0].m[0].inferred && pt->deadlocks[0].m[1].inferred,
	   "both holders inferred");
	text = pt->ndeadlocks ? an_deadlock_text(pt, &pt->deadlocks[0], T0 + 1250 * MS) : NULL;
	ok(text && strstr(text, "semaphore /dev/shm/sem.mp-5002 held by python3[102] (inferred)") &&
	   strstr(text, "semaphore /dev/shm/sem.mp-5001 held by python3[101] (inferred)"),
	   "the finding names both semaphores and their holders, as inferred: %s", text ? text : "");
	free(text);
	ok(!dl_detect(pt, T0 + 1300 * MS, 1000 * MS, &dl), "reported once");
	/* --on-deadlock=kill: the waits end as they die */
	sem_wait_end(pt, 1260, A, 100, S2);
	w = pt->nwaitlog ? &pt->waitlog[pt->nwaitlog - 1] : NULL;
	ok(w && w->holder == B && w->holder_inferred, "A's wait names B as its inferred holder");
	ok(w && !w->lock->holders.n, "the lock's holders are the ones seen: none");
	ptree_free(pt);
}

/* --no-stacks: the semaphore is known by glibc's file name */
/* the crossed pair, every mapping read at 1200 ms (A's at a_ms), P's with
 * both semaphores used or none */
static struct ptree *crossed_read(enum pt_mode mode, bool bare, bool p_used, uint64_t a_ms)
{
	struct ptree *pt = crossed(mode, bare);

	maps(pt, 1200, P, both, p_used ? 2 : 0);
	maps(pt, a_ms, A, both, 2);
	maps(pt, 1200, B, both, 2);
	return pt;
}

/* --no-stacks: the semaphore is known by glibc's file name */
static void test_deadlock_bare(void)
{
	struct ptree *pt = crossed_read(PT_MODE_COMMAND, true, false, 1200);
	struct mpt_deadlock dl;

	ok(dl_detect(pt, T0 + 1250 * MS, 1000 * MS, &dl), "without stacks too");
	ptree_free(pt);
}

/* What keeps a cycle from being claimed. */
static void test_no_deadlock(void)
{
	struct mpt_deadlock dl;
	struct ptree *pt;

	/* the parent used both semaphores too: it could hold either */
	pt = crossed_read(PT_MODE_COMMAND, false, true, 1200);
	is_int(inferred(pt, A), 0, "two could hold S2: no holder");
	ok(!dl_detect(pt, T0 + 1250 * MS, 1000 * MS, &dl), "no cycle when another process used the locks");
	ptree_free(pt);
	/* A's mappings were read before B's wait began: not known since */
	pt = crossed_read(PT_MODE_COMMAND, false, false, 100);
	ok(!dl_detect(pt, T0 + 1250 * MS, 1000 * MS, &dl), "no cycle on mappings older than a wait");
	ptree_free(pt);
	/* -a: never inferred */
	pt = crossed_read(PT_MODE_SYSTEM, false, false, 1200);
	ok(!dl_detect(pt, T0 + 1250 * MS, 1000 * MS, &dl), "nor in system mode");
	ptree_free(pt);
}

/* ticket.py: buyer A holds the Lock (sleeps in it), B queues on it, the
 * parent waits for its children: a holder, and no cycle */
static void test_ticket_not_deadlock(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct mpt_deadlock dl;

	fork_(pt, 1, SELF, P);
	fork_(pt, 5, P, A);
	fork_(pt, 6, P, B);
	child_wait_begin(pt, 7, P);
	sem_wait_begin(pt, 100, B, S1, false);
	maps(pt, 1200, P, NULL, 0);
	maps(pt, 1200, A, s1, 1);
	maps(pt, 1200, B, s1, 1);
	is_int(inferred(pt, B), A, "the buyer in the lock is B's inferred holder");
	ok(!dl_detect(pt, T0 + 1250 * MS, 1000 * MS, &dl), "no cycle: the holder waits for nothing");
	/* even with every wait 'long': the parent waits for both children */
	ok(!dl_detect(pt, T0 + 5000 * MS, 10 * MS, &dl), "nor later");
	ptree_free(pt);
}

/* A Pool's task queue lock: each worker queues on it while the one holding
 * it waits in a pipe read for the next task (its releaser had waited for
 * input). A queue, not contention; a lock held for work is contention. */
static void test_queue(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK(AN_LOCK) };
	struct an_result r;
	const struct pt_lock *q, *l;

	fork_(pt, 1, SELF, P);
	fork_(pt, 5, P, A);
	fork_(pt, 6, P, B);
	/* S1: the task queue's lock, 3 waits of 30 ms and one of 2 ms with no input flag */
	for (int i = 0; i < 3; i++) {
		sem_wait_begin(pt, 100 + 100 * i, A, S1, false);
		sem_wait_end_f(pt, 130 + 100 * i, A, 100 + 100 * i, S1, MPT_LOCK_HOLDER_INPUT, P);
	}
	sem_wait_begin(pt, 500, B, S1, false);
	sem_wait_end(pt, 502, B, 500, S1);
	/* S2: a lock held while working: B waits 50 ms for A's work */
	sem_wait_begin(pt, 600, B, S2, false);
	sem_wait_end(pt, 650, B, 600, S2);
	q = pt->nlocks > 0 ? pt->locks[0] : NULL;
	l = pt->nlocks > 1 ? pt->locks[1] : NULL;
	ok(q && pt_lock_class(q) == PT_WC_QUEUE && !pt_lock_contended(q),
	   "a semaphore whose holders waited for input 90%% of the time is a queue, not contention");
	ok(l && pt_lock_class(l) == PT_WC_SEMAPHORE && pt_lock_contended(l),
	   "one held for work is a semaphore used as a lock: contention");
	ok(pt->nwaitlog >= 4 && pt_wait_class_of(&pt->waitlog[0]) == PT_WC_QUEUE, "a queue wait's class");
	analyze(pt, &o, T0 + 700 * MS, &r);
	is_int(r.count[AN_LOCK], 1, "one lock finding: the contended lock");
	ok(r.n && r.v[0].lock == l, "and it is S2");
	an_result_free(&r);
	/* second in line: B queues behind A, who queues for the holder's input */
	sem_wait_begin(pt, 700, A, S1, false);
	sem_wait_begin(pt, 710, B, S1, false);
	sem_wait_end_f(pt, 750, A, 700, S1, MPT_LOCK_HOLDER_INPUT, P);
	sem_wait_end_f(pt, 752, B, 710, S1, 0, A);
	ok(pt->nwaitlog && pt->waitlog[pt->nwaitlog - 1].holder_input &&
	   pt_wait_class_of(&pt->waitlog[pt->nwaitlog - 1]) == PT_WC_QUEUE,
	   "a wait released by a waiter that queued for input most of the time queued too");
	sem_wait_begin(pt, 760, B, S1, false);
	sem_wait_end_f(pt, 762, B, 760, S1, 0, A);
	ok(pt->nwaitlog && !pt->waitlog[pt->nwaitlog - 1].holder_input,
	   "not when the releaser's queueing was before it");
	ok(q && pt_lock_class(q) == PT_WC_QUEUE, "still a queue");
	/* more contention on S1 (20 ms of 204): a lock again */
	sem_wait_begin(pt, 800, B, S1, false);
	sem_wait_end(pt, 820, B, 800, S1);
	ok(q && pt_lock_class(q) == PT_WC_SEMAPHORE && pt_lock_contended(q),
	   "a queue lock with a tenth of its waiting held for work counts as contention");
	ok(pt->nwaitlog && !pt->waitlog[pt->nwaitlog - 1].holder_input, "a wait with no waker is not queued");
	ptree_free(pt);
}

/* Waits for a holder that was preempted (runnable, not running) are the
 * CPU's, not the lock's: a lock waited on so is not contention. */
static void test_preempted(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	const struct pt_lock *l;

	fork_(pt, 1, SELF, P);
	fork_(pt, 5, P, A);
	fork_(pt, 6, P, B);
	sem_wait_begin(pt, 100, A, S1, false);
	sem_wait_end_f(pt, 110, A, 100, S1, MPT_LOCK_HOLDER_PREEMPTED, B);
	l = pt->nlocks ? pt->locks[0] : NULL;
	ok(l && pt_lock_class(l) == PT_WC_SEMAPHORE && !pt_lock_contended(l),
	   "a semaphore waited on only while its holder was preempted: not contention");
	sem_wait_begin(pt, 200, A, S1, false);
	sem_wait_end(pt, 205, A, 200, S1);
	ok(l && pt_lock_contended(l), "one wait on a holder at work (5 ms of 15): contention");
	ptree_free(pt);

	/* a futex released before its waiter slept: a wait for the CPU, with no waker */
	pt = mk(PT_MODE_COMMAND);
	fork_(pt, 1, SELF, P);
	fork_(pt, 5, P, A);
	sem_wait_begin(pt, 100, A, S1, false);
	sem_wait_end_f(pt, 104, A, 100, S1, MPT_LOCK_RELEASED, 0);
	l = pt->nlocks ? pt->locks[0] : NULL;
	ok(l && pt->nwaitlog && pt->waitlog[0].holder_preempted && !pt_lock_contended(l),
	   "a futex released before its waiter slept: a wait for the CPU, not contention");
	ptree_free(pt);
}

/* A private semaphore (an Event, a Condition's waiter lock in CPython)
 * that `waker` posts and never waits on: the wait's end, with its stack. */
static void signal_wait(struct ptree *pt, uint64_t from, uint64_t to, uint32_t pid, uint32_t flags,
			uint32_t waker)
{
	struct pt_stack *st = calloc(1, sizeof(*st));
	struct mpt_lock e = { 0 };

	st->pid = st->tid = pid;
	st->ts = T0 + from * MS;
	st->n = 2;
	st->f[0] = (struct pt_frame){ .addr = 0x7f0000001000, .symbol = strdup("sem_wait") };
	st->f[1] = (struct pt_frame){ .addr = 0x7f0000003000, .symbol = strdup("PyThread_acquire_lock_timed") };
	ptree_add_stack(pt, st);
	hdr(&e.h, MPT_EV_LOCK, sizeof(e), to, pid);
	e.flags = MPT_LOCK_PRIVATE | flags;
	e.waker = e.waker_tid = waker;
	e.start_ts = T0 + from * MS;
	e.kind = MPT_LOCK_FUTEX;
	e.dev = pid;
	e.ino = 0x3ece2860;
	feed(pt, &e);
}

/* A signal's waker that waited for input (a Pool's result thread reading
 * its pipe before it sets the Event the main thread waits on) holds
 * nothing: the wait is a condition's, not a queue's. */
static void test_signal_not_queue(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	const struct pt_lock *l;

	fork_(pt, 1, SELF, P);
	signal_wait(pt, 100, 300, P, MPT_LOCK_HOLDER_INPUT, P + 1);
	signal_wait(pt, 310, 500, P, MPT_LOCK_HOLDER_INPUT, P + 1);
	l = pt->nlocks ? pt->locks[0] : NULL;
	ok(l && pt_lock_class(l) == PT_WC_CONDITION && !pt_lock_contended(l),
	   "a private semaphore posted by a thread that never waits on it: a condition");
	ok(pt->nwaitlog == 2 && pt_wait_class_of(&pt->waitlog[0]) == PT_WC_CONDITION,
	   "each of its waits too, though its waker had waited for input (not a queue)");
	ptree_free(pt);
}

int main(void)
{
	test_deadlock_inferred();
	test_deadlock_bare();
	test_no_deadlock();
	test_ticket_not_deadlock();
	test_queue();
	test_preempted();
	test_signal_not_queue();
	return tap_done();
}
