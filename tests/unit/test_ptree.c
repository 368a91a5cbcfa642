// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The model and the detectors fed scripted event sequences: orderings of
 * fork/exec/exit/reap, threads, pid reuse, late and out-of-order events,
 * reparenting, auto-reap, thresholds.
 */
#include <string.h>
#include "analyze.h"
#include "event.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define SELF 1
#define ROOT 100

static struct ptree *mk(enum pt_mode mode)
{
	char *argv[] = { "sh", "-c", "x", NULL };
	struct pt_meta m = { .mode = mode, .argv = argv, .t0 = T0, .self_pid = SELF,
			     .root_pid = ROOT };

	return ptree_new(&m);
}

static int feed(struct ptree *pt, void *ev)
{
	const struct mpt_hdr *h = ev;
	const char *why;

	/* a scripted event the validator refuses would test nothing: say so */
	if (event_validate(ev, h->size, &why)) {
		ok(0, "scripted event of type %u accepted by the validator: %s", h->type, why);
		return -99;
	}
	return ptree_feed(pt, ev, NULL);
}

static void hdr(struct mpt_hdr *h, uint32_t type, uint32_t size, uint64_t ms, uint32_t pid, uint64_t start)
{
	h->type = type;
	h->size = size;
	h->ts = T0 + ms * MS;
	h->pid = pid;
	h->tid = pid;
	h->start = start;
}

static void fork_(struct ptree *pt, uint64_t ms, uint32_t ppid, uint32_t pid, bool thread)
{
	struct mpt_fork e = { 0 };

	hdr(&e.h, MPT_EV_FORK, sizeof(e), ms, thread ? ppid : pid, thread ? ppid : pid);
	if (thread)
		e.h.tid = pid;
	e.ppid = ppid;
	e.ptid = ppid;
	e.pstart = ppid;
	e.flags = thread ? MPT_FORK_THREAD : 0;
	strcpy(e.comm, "child");
	feed(pt, &e);
}

/* start times: a process's start is its pid unless given (pid reuse tests) */
static void fork_s(struct ptree *pt, uint64_t ms, uint32_t ppid, uint64_t pstart, uint32_t pid, uint64_t start)
{
	struct mpt_fork e = { 0 };

	hdr(&e.h, MPT_EV_FORK, sizeof(e), ms, pid, start);
	e.ppid = ppid;
	e.ptid = ppid;
	e.pstart = pstart;
	strcpy(e.comm, "child");
	feed(pt, &e);
}

static void exec_(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t start, uint32_t old_pid,
		  const char *file, const char *args, size_t alen)
{
	struct mpt_exec e = { 0 };
	size_t fl = strlen(file) + 1;

	hdr(&e.h, MPT_EV_EXEC, 0, ms, pid, start);
	e.old_pid = old_pid;
	e.fname_len = fl;
	e.args_len = alen;
	memcpy(e.data, file, fl);
	memcpy(e.data + fl, args, alen);
	strncpy(e.comm, file, sizeof(e.comm) - 1);
	e.h.size = (offsetof(struct mpt_exec, data) + fl + alen + 7) & ~7ul;
	feed(pt, &e);
}

static void exit_(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t start, uint32_t status,
		  uint32_t ppid, uint32_t reaper, uint32_t flags)
{
	struct mpt_exit e = { 0 };

	hdr(&e.h, MPT_EV_EXIT, sizeof(e), ms, pid, start);
	e.status = status;
	e.ppid = ppid;
	e.reaper = reaper;
	e.flags = flags;
	strcpy(e.comm, "x");
	feed(pt, &e);
}

/* a release: the kernel frees `pid` `ms` late, with its reaper's wait points */
static void free_w(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t start, uint32_t reaper,
		   const struct mpt_wp *wps, uint32_t nwps)
{
	struct mpt_free e = { 0 };

	hdr(&e.h, MPT_EV_FREE, sizeof(e), ms, pid, start);
	e.reaper = reaper;
	e.nwps = nwps;
	if (nwps)
		memcpy(e.wps, wps, nwps * sizeof(*wps));
	feed(pt, &e);
}

static void free_(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t start, uint32_t reaper)
{
	free_w(pt, ms, pid, start, reaper, NULL, 0);
}

static struct mpt_wp wp(uint64_t ms, uint32_t target)
{
	return (struct mpt_wp){ .ts = T0 + ms * MS, .target = target };
}

/* `waiter` waited from start_ms (blocked, unless WNOHANG) and got `reaped`
 * at ms: the join wait, then, if it was a zombie, the kernel's release of it
 * a grace period (15 ms) later, with the wait as the reaper's wait point. */
static void wait_(struct ptree *pt, uint64_t ms, uint32_t waiter, uint64_t start_ms, uint32_t reaped,
		  uint32_t flags)
{
	struct mpt_wait e = { 0 };
	struct pt_proc *c = reaped ? ptree_find(pt, reaped) : NULL;
	struct mpt_wp w = wp(ms, 0);

	if (!(flags & MPT_WAIT_NOHANG)) {
		hdr(&e.h, MPT_EV_WAIT, sizeof(e), ms, waiter, waiter);
		e.start_ts = T0 + start_ms * MS;
		e.waker = reaped;
		e.target = -1;
		e.flags = flags;
		feed(pt, &e);
	}
	if (c && c->state == PT_ZOMBIE)
		free_w(pt, ms + 15, reaped, c->kstart, waiter, &w, 1);
}

/* a process found in the /proc snapshot (attach mode) */
static void snap_(struct ptree *pt, uint32_t pid, uint32_t ppid)
{
	struct mpt_proc e = { 0 };

	hdr(&e.h, MPT_EV_PROC, sizeof(e), 0, pid, 0);
	e.ppid = ppid;
	e.nthreads = 1;
	e.args_len = 2;
	memcpy(e.args, "p", 2);
	strcpy(e.comm, "p");
	feed(pt, &e);
}

static void end_lt(struct ptree *pt, uint64_t ms, uint64_t lost, uint64_t lost_track)
{
	struct mpt_end e = { 0 };

	hdr(&e.h, MPT_EV_END, sizeof(e), ms, 0, 0);
	e.lost[MPT_EV_FORK] = lost;
	e.lost_track = lost_track;
	feed(pt, &e);
}

static void end_(struct ptree *pt, uint64_t ms, uint64_t lost)
{
	end_lt(pt, ms, lost, 0);
}

static void lock_(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t wait_ms, uint64_t ino,
		  uint32_t waker)
{
	struct mpt_lock e = { 0 };

	hdr(&e.h, MPT_EV_LOCK, sizeof(e), ms, pid, pid);
	e.start_ts = e.h.ts - wait_ms * MS;
	e.kind = MPT_LOCK_FUTEX;
	e.dev = 7;
	e.ino = ino;
	e.off = 16;
	e.waker = waker;
	strcpy(e.comps[0], "sem.ticket");
	strcpy(e.comps[1], "shm");
	strcpy(e.comps[2], "dev");
	feed(pt, &e);
}

static const struct an_finding *finding(const struct an_result *r, enum an_kind k, uint32_t pid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == k && (!r->v[i].proc || r->v[i].proc->pid == pid))
			return &r->v[i];
	return NULL;
}

static void test_basic_lifecycle(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *root, *c;
	struct an_result r;
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0-c\0x\0", 9);
	fork_(pt, 2, ROOT, 101, false);
	exec_(pt, 3, 101, 101, 101, "/bin/sleep", "sleep\0" "1\0", 8);
	exit_(pt, 10, 101, 101, 0, ROOT, 1, 0);
	wait_(pt, 11, ROOT, 5, 101, 0);
	exit_(pt, 12, ROOT, ROOT, 3 << 8, SELF, 1, 0);
	wait_(pt, 13, SELF, 12, ROOT, MPT_WAIT_NOHANG);
	end_(pt, 14, 0);

	root = pt->root;
	c = ptree_find(pt, 101);
	ok(root && root->is_root && root->id == 1, "the command is the root, id 1");
	is_int(pt->nprocs, 2, "two processes");
	ok(c && c->parent == root, "child's parent is the root");
	is_int(c->state, PT_REAPED, "child reaped");
	is_int(c->reap, PT_REAP_PARENT, "reaped by its parent");
	is_int(c->reaped_by, ROOT, "reaped_by is the parent's pid");
	is_int(pt_zombie_ns(c, 0), 1 * MS, "zombie time is exit to reap");
	is_int(c->argc, 2, "argv from the exec");
	ok(!strcmp(c->argv[0], "sleep") && !strcmp(c->argv[1], "1"), "argv split");
	is_int(root->join_wait.count, 1, "one join wait");
	is_int(root->join_wait.total_ns, 6 * MS, "join wait measured enter to exit");
	is_int(pt_exit_code(root), 3, "root exit code");
	is_int(root->reaped_by, SELF, "mptrace reaped the root");
	is_int(root->reap, PT_REAP_PARENT, "root reap is parent");
	is_int(pt->execs, 2, "execs counted, the command's included");
	analyze(pt, &o, pt->end_ts, &r);
	is_int(r.n, 0, "no findings");
	ok(r.passed, "check passes");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_threads_and_exec_by_thread(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *root;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/usr/bin/python3", "python3\0", 8);
	fork_(pt, 2, ROOT, 105, true);
	fork_(pt, 3, ROOT, 106, true);
	root = pt->root;
	is_int(pt->nprocs, 1, "threads are not processes");
	is_int(root->threads, 3, "threads counted per process");
	exec_(pt, 4, ROOT, ROOT, 105, "/bin/true", "true\0", 5);
	is_int(pt->nprocs, 1, "exec by a non-leader thread keeps the process");
	ok(!strcmp(root->argv[0], "true"), "argv replaced by the thread's exec");
	is_int(root->nexecs, 2, "both execs listed");
	ptree_free(pt);
}

static void test_pid_reuse(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *a, *b;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_s(pt, 2, ROOT, ROOT, 200, 5000);
	exit_(pt, 3, 200, 5000, 0, ROOT, 1, 0);
	wait_(pt, 4, ROOT, 3, 200, 0);
	a = ptree_find(pt, 200);
	fork_s(pt, 5, ROOT, ROOT, 200, 6000);
	b = ptree_find(pt, 200);
	ok(a != b, "a reused pid makes a new process");
	ok(a->id != b->id, "with its own id");
	is_int(pt->nprocs, 3, "three processes");
	exit_(pt, 6, 200, 6000, 1 << 8, ROOT, 1, 0);
	ok(b->exited && pt_exit_code(b) == 1, "the new one exits");
	is_int(pt_exit_code(a), 0, "the old one keeps its status");
	/* a late free of the old process must not touch the new one */
	free_(pt, 7, 200, 5000, ROOT);
	is_int(b->state, PT_ZOMBIE, "late free of the old pid leaves the new one alone");
	ptree_free(pt);
}

static void test_unknown_and_out_of_order(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *p;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	exit_(pt, 2, 555, 555, 0, 77, 1, 0);
	p = ptree_find(pt, 555);
	ok(p && p->seen_late, "an exit of an unknown pid creates a seen-late process");
	ok(p && p->exited, "and records its exit");
	/* child's exec arrives before its fork (different CPUs) */
	exec_(pt, 4, 300, 300, 300, "/bin/ls", "ls\0", 3);
	fork_(pt, 3, ROOT, 300, false);
	p = ptree_find(pt, 300);
	is_int(pt->nprocs, 3, "the overtaken fork merges with the early node");
	ok(p->parent == pt->root, "and links it to its parent");
	ok(!p->seen_late, "no longer seen late");
	ok(!strcmp(p->argv[0], "ls"), "keeps the exec's argv");
	ptree_free(pt);
}

static void test_orphan_and_zombie_leak(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct pt_proc *orphan, *zombie;
	const struct an_finding *f;
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);	/* will be orphaned while running */
	fork_(pt, 4, 101, 103, false);	/* will be a zombie its parent abandons */
	exit_(pt, 5, 103, 103, 0, 101, 1, 0);
	exit_(pt, 6, 101, 101, 0, ROOT, 1, 0);	/* reaper: init */
	wait_(pt, 7, ROOT, 2, 101, 0);
	orphan = ptree_find(pt, 102);
	zombie = ptree_find(pt, 103);
	is_int(orphan->orphaned_ts, T0 + 6 * MS, "orphaned when its parent died");
	is_int(orphan->adopted_by, 1, "adopted by the reaper the kernel chose");
	is_int(zombie->adopted_by, 1, "the abandoned zombie goes to the reaper too");
	ok(zombie->orphaned_ts == PT_NONE, "a zombie is not an orphan");
	free_(pt, 2000, 103, 103, 1);	/* init reaps it */
	is_int(zombie->reap, PT_REAP_ADOPTER, "reaped by the adopter");
	is_int(zombie->reaped_by, 1, "reaped_by is the adopter");
	exit_(pt, 2500, 102, 102, 0, 1, 1, 0);
	exit_(pt, 3000, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 3001, 0);
	analyze(pt, &o, pt->end_ts, &r);
	f = finding(&r, AN_ZOMBIE, 103);
	ok(f && f->reason == AN_R_NEVER_REAPED, "abandoned zombie: never_reaped_by_parent");
	f = finding(&r, AN_ORPHAN, 102);
	ok(f != NULL, "orphan finding");
	f = finding(&r, AN_ZOMBIE, 102);
	ok(!f, "an orphan left unreaped by its untraced adopter (init) is no zombie finding");
	is_int(orphan->adopted_ts, T0 + 6 * MS, "handed to the adopter when its parent died");
	ok(!finding(&r, AN_LEAK, 102), "exited before the root: not a leak");
	ok(!r.passed, "zombies fail the default check");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_subreaper(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);
	exit_(pt, 4, 101, 101, 0, ROOT, ROOT, 0);	/* the root is a subreaper */
	wait_(pt, 5, ROOT, 4, 101, 0);
	exit_(pt, 6, 102, 102, 0, ROOT, 1, 0);
	wait_(pt, 7, ROOT, 6, 102, 0);
	c = ptree_find(pt, 102);
	is_int(c->adopted_by, ROOT, "adopted by the subreaper");
	is_int(c->reap, PT_REAP_ADOPTER, "its wait counts as the adopter's");
	is_int(c->reaped_by, ROOT, "reaped_by the subreaper");
	ptree_free(pt);
}

static void test_autoreap_and_thresholds(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct an_result r;
	struct pt_proc *a;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, ROOT, 102, false);
	fork_(pt, 4, ROOT, 103, false);
	fork_(pt, 5, ROOT, 104, false);
	exit_(pt, 10, 101, 101, 0, ROOT, 1, MPT_EXIT_AUTOREAP);
	exit_(pt, 10, 102, 102, 0, ROOT, 1, 0);
	exit_(pt, 10, 103, 103, 0, ROOT, 1, 0);
	exit_(pt, 10, 104, 104, 0, ROOT, 1, 0);
	wait_(pt, 1010, ROOT, 1000, 102, 0);	/* exactly the threshold: not over */
	wait_(pt, 1011, ROOT, 1000, 103, 0);	/* 1 ms over */
	exit_(pt, 1100, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 1101, 0);	/* 104 is still a zombie */
	a = ptree_find(pt, 101);
	is_int(a->reap, PT_REAP_AUTO, "SIGCHLD ignored: auto-reaped");
	is_int(a->reaped_by, 0, "auto-reap has no reaper");
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_ZOMBIE, 101), "auto-reaped: no zombie finding");
	ok(!finding(&r, AN_ZOMBIE, 102), "zombie for exactly the threshold: no finding");
	ok(finding(&r, AN_ZOMBIE, 103) && finding(&r, AN_ZOMBIE, 103)->reason == AN_R_SLOW,
	   "1 ms over the threshold: slow");
	ok(finding(&r, AN_ZOMBIE, 104) &&
	   finding(&r, AN_ZOMBIE, 104)->reason == AN_R_NEVER_REAPED,
	   "left unreaped by a parent that exited: never_reaped_by_parent comes first");
	an_result_free(&r);
	o.zombie_threshold_ns = 2000 * MS;
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_ZOMBIE, 103), "a higher threshold drops the slow finding");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_unreaped_at_end(void)
{
	struct ptree *pt = mk(PT_MODE_PID);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS };
	struct an_result r;

	fork_(pt, 2, 500, 501, false);
	exit_(pt, 3, 501, 501, 0, 500, 1, 0);
	end_(pt, 50, 0);
	analyze(pt, &o, pt->end_ts, &r);
	ok(finding(&r, AN_ZOMBIE, 501) && finding(&r, AN_ZOMBIE, 501)->reason == AN_R_UNREAPED_AT_END,
	   "a zombie whose parent lives on at the end: unreaped_at_end, under the threshold too");
	ok(ptree_find(pt, 500)->seen_late, "attach mode: the parent is seen late");
	ok(!finding(&r, AN_LEAK, 500), "no leaks without a command");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_leaks_locks_lost(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK(AN_LOCK) };
	struct an_result r;
	struct pt_lock *l;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, ROOT, 102, false);
	lock_(pt, 200, 101, 100, 42, 102);
	lock_(pt, 300, 102, 150, 42, 0);
	lock_(pt, 310, 102, 5, 43, 0);
	exit_(pt, 400, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 401, 3);
	is_int(pt->nlocks, 2, "two lock identities");
	l = pt->locks[0];
	is_int(l->waits, 2, "one lock, two waits");
	is_int(l->waiters.n, 2, "two waiters");
	is_int(l->total_ns, 250 * MS, "total wait");
	is_int(l->max_ns, 150 * MS, "max wait");
	ok(l->name && !strcmp(l->name, "/dev/shm/sem.ticket"), "name from the path components");
	is_int(l->wakers.n, 1, "the waker is recorded");
	is_int(ptree_find(pt, 102)->lock_wait.count, 2, "per-process lock waits");
	is_int(pt->top[0].dur_ns, 150 * MS, "longest wait first");
	analyze(pt, &o, pt->end_ts, &r);
	ok(finding(&r, AN_LEAK, 101) && finding(&r, AN_LEAK, 102), "alive at the root's exit: leaks");
	is_int(r.count[AN_LOCK], 2, "one lock finding per lock");
	ok(r.incomplete, "lost events make the trace incomplete");
	ok(!r.passed, "an incomplete trace never passes");
	an_result_free(&r);
	ptree_free(pt);
}

/* The rules one at a time, each with the one fact that decides it. */
static void test_short_abandoned_zombie(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 5000 * MS, .check = AN_CHECK_DEFAULT };
	const struct an_finding *f;
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);
	exit_(pt, 5, 102, 102, 0, 101, 1, 0);
	exit_(pt, 10, 101, 101, 0, ROOT, 7, 0);	/* 7: a subreaper */
	wait_(pt, 11, ROOT, 10, 101, 0);
	free_(pt, 20, 102, 102, 7);	/* the adopter reaps it 15 ms after its exit */
	exit_(pt, 30, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 31, 0);
	analyze(pt, &o, pt->end_ts, &r);
	f = finding(&r, AN_ZOMBIE, 102);
	ok(f && f->reason == AN_R_NEVER_REAPED,
	   "abandoned for 15 ms under a 5 s threshold: still never_reaped_by_parent");
	ok(f && !strcmp(f->message, "x[102] was never reaped by its parent x[101], which exited "
			 "first; reaped by its adopter [7] after 15.0 ms as a zombie"),
	   "the message names the parent, the adopter and the time (%s)", f ? f->message : "");
	is_int(r.count[AN_ZOMBIE], 1, "only that one");
	ok(!r.passed, "it fails the default check");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_seen_late_zombie(void)
{
	struct ptree *pt = mk(PT_MODE_PID);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	const struct an_finding *f;
	struct an_result r;

	/* -p 600: 600 and its child 601 were there before the attach */
	snap_(pt, 600, 1);
	snap_(pt, 601, 600);
	exit_(pt, 5, 601, 601, 0, 600, 1, 0);
	exit_(pt, 10, 600, 600, 0, 1, 1, 0);
	is_int(ptree_find(pt, 601)->adopted_by, 1, "the seen-late zombie is handed to init");
	ok(ptree_find(pt, 601)->seen_late, "and was seen late");
	free_(pt, 2000, 601, 601, 1);
	end_(pt, 2001, 0);
	analyze(pt, &o, pt->end_ts, &r);
	f = finding(&r, AN_ZOMBIE, 601);
	/* (the time after the parent's death is the untraced adopter's,
	 * reported, not charged: docs/findings.md) */
	ok(!f || f->reason != AN_R_NEVER_REAPED, "seen late: never blamed on its parent");
	an_result_free(&r);
	o.zombie_threshold_ns = 5000 * MS;
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_ZOMBIE, 601), "seen late, under the threshold: no finding");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_leak_exits_later(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK(AN_LEAK) };
	const struct an_finding *f;
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	exit_(pt, 10, ROOT, ROOT, 0, SELF, 1, 0);
	exit_(pt, 50, 101, 101, 0, 1, 1, 0);
	free_(pt, 51, 101, 101, 1);
	end_(pt, 60, 0);
	analyze(pt, &o, pt->end_ts, &r);
	f = finding(&r, AN_LEAK, 101);
	ok(f != NULL, "alive when the command exited, gone 40 ms later: still a leak");
	ok(f && !strcmp(f->message, "x[101] was still running when the command exited "
			 "(it exited 40.0 ms later)"), "the message says when (%s)",
	   f ? f->message : "");
	ok(!r.passed, "--check=leaks fails on it");
	an_result_free(&r);
	ptree_free(pt);
}

static void kill_r(struct ptree *pt, uint64_t ms, uint32_t pid, uint32_t sig, uint32_t reason)
{
	struct mpt_kill e = { 0 };

	hdr(&e.h, MPT_EV_KILL, sizeof(e), ms, pid, pid);
	e.sig = sig;
	e.reason = reason;
	feed(pt, &e);
}

static void test_killed_before_the_command_ended(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, ROOT, 102, false);
	/* --on-deadlock=kill: children first, then the command; 101 dies last */
	kill_r(pt, 50, 101, 9, MPT_KILL_DEADLOCK);
	kill_r(pt, 50, ROOT, 9, MPT_KILL_DEADLOCK);
	exit_(pt, 51, ROOT, ROOT, 9, SELF, 1, 0);
	exit_(pt, 52, 101, 101, 9, ROOT, 1, 0);
	free_(pt, 53, 101, 101, 1);
	/* --kill-leaks signals after the command ended: still a leak */
	kill_r(pt, 60, 102, 15, MPT_KILL_LEAK);
	exit_(pt, 61, 102, 102, 15, 1, 1, 0);
	free_(pt, 62, 102, 102, 1);
	end_(pt, 70, 0);
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_LEAK, 101), "killed by mptrace before the command ended: not a leak");
	ok(!finding(&r, AN_ZOMBIE, 101) && !finding(&r, AN_ORPHAN, 101),
	   "nor a zombie or orphan of mptrace's making");
	ok(finding(&r, AN_LEAK, 102) != NULL, "alive when the command ended, killed after: a leak");
	an_result_free(&r);
	ptree_free(pt);
}

/* SIGCHLD ignored: the kernel releases the child itself, a grace period
 * after its exit; that time is nobody's zombie, whatever the threshold. */
static void test_autoreap_late_release(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 5 * MS, .check = AN_CHECK_DEFAULT };
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	exit_(pt, 10, 101, 101, 0, ROOT, 1, MPT_EXIT_AUTOREAP);
	free_(pt, 30, 101, 101, 0);	/* released 20 ms later, by no one */
	exit_(pt, 40, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 41, 0);
	is_int(ptree_find(pt, 101)->reap, PT_REAP_AUTO, "auto-reaped");
	is_int(pt_zombie_ns(ptree_find(pt, 101), pt->end_ts), 0, "never a zombie: released at its exit");
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_ZOMBIE, 101), "20 ms to its release over a 5 ms threshold: still no finding");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_allow_leak_argv(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	char *allow[] = { "--serve" };
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK(AN_LEAK),
			     .allow_leak = allow, .nallow = 1 };
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	exec_(pt, 3, 101, 101, 101, "/usr/bin/python3", "python3\0app.py\0--serve\0", 23);
	fork_(pt, 4, ROOT, 102, false);
	exit_(pt, 10, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 20, 0);
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_LEAK, 101), "--allow-leak matches a word of the argv");
	ok(finding(&r, AN_LEAK, 102) != NULL, "and only the process whose argv has it");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_holder_thread(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct mpt_lock e = { 0 };
	struct pt_lock *l;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 1011, true);	/* a second thread of 101 */
	fork_(pt, 4, ROOT, 102, false);
	hdr(&e.h, MPT_EV_LOCK, sizeof(e), 100, 102, 102);
	e.start_ts = e.h.ts - 50 * MS;
	e.kind = MPT_LOCK_FUTEX;
	e.dev = 7;
	e.ino = 44;
	e.holder = 1011;
	e.hkind = MPT_HOLDER_OWNER_TID;
	strcpy(e.comps[0], "m");
	feed(pt, &e);
	l = pt->nlocks ? pt->locks[0] : NULL;
	ok(l && l->holders.n == 1, "one holder");
	ok(l && l->holders.n == 1 && l->holders.v[0] == 101,
	   "a holder's thread id is reported as its process (%u)",
	   l && l->holders.n ? l->holders.v[0] : 0);
	ptree_free(pt);
}

static void test_incomplete_never_passes(void)
{
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct an_result r;

	for (int k = 0; k < 3; k++) {
		struct ptree *pt = mk(PT_MODE_COMMAND);

		exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/true", "true\0", 5);
		exit_(pt, 10, ROOT, ROOT, 0, SELF, 1, 0);
		end_lt(pt, 11, k == 1, k == 2);
		analyze(pt, &o, pt->end_ts, &r);
		is_int(r.n, 0, "no finding (case %d)", k);
		is_int(r.incomplete, k != 0, "%s", k == 0 ? "nothing lost: complete" :
		       k == 1 ? "one lost record: incomplete" : "one process left untracked: incomplete");
		is_int(r.passed, k == 0, "%s", k == 0 ? "a complete clean trace passes" :
		       "an incomplete trace never passes, even without findings");
		an_result_free(&r);
		ptree_free(pt);
	}
}

static void test_wait_edges(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	wait_(pt, 5, ROOT, 3, 101, 0);	/* a stopped child reported by WUNTRACED */
	c = ptree_find(pt, 101);
	is_int(c->state, PT_RUNNING, "a wait for a running child reaps nothing");
	exit_(pt, 6, 101, 101, 9, ROOT, 1, 0);
	ok(pt_signaled(c) && pt_term_sig(c) == 9, "killed by a signal");
	wait_(pt, 7, ROOT, 7, 101, MPT_WAIT_NOHANG);
	is_int(c->state, PT_REAPED, "a WNOHANG wait that returns the pid reaps it");
	is_int(pt->root->join_wait.count, 1, "WNOHANG polls are not join waits");
	ptree_free(pt);
}

/* unshare -fp: the waiter's wait4 returns the child's pid in the namespace
 * (2), and the release comes after the parent's own exit. The reaper is the
 * global pid the kernel names at the release. */
static void test_reap_in_pidns(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct mpt_wp w[] = { wp(21, 0) };
	struct mpt_wait e = { 0 };
	struct an_result r;
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	exit_(pt, 20, 101, 101, 0, ROOT, 1, 0);
	hdr(&e.h, MPT_EV_WAIT, sizeof(e), 21, ROOT, ROOT);
	e.start_ts = T0 + 3 * MS;
	e.waker = 2;	/* the namespace's pid: means nothing here */
	e.target = 2;
	feed(pt, &e);
	exit_(pt, 22, ROOT, ROOT, 0, SELF, 1, 0);	/* 1: its children go to init */
	free_w(pt, 36, 101, 101, ROOT, w, 1);
	wait_(pt, 23, SELF, 22, ROOT, MPT_WAIT_NOHANG);
	end_(pt, 60, 0);
	c = ptree_find(pt, 101);
	is_int(c->reap, PT_REAP_PARENT, "pidns: reaped by its parent");
	is_int(c->reaped_by, ROOT, "pidns: reaped_by is the parent's global pid");
	is_int(c->adopted_by, 0, "pidns: a release seen after the parent's exit is no adoption");
	is_int(c->reaped_ts, T0 + 21 * MS, "pidns: reaped at the wait point, not the late release");
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_ZOMBIE, 101), "pidns: no zombie finding");
	ok(r.passed, "pidns: check passes");
	an_result_free(&r);
	ptree_free(pt);
}

/* waitid(WNOWAIT) is no wait point (BPF drops it); the reap is the earliest
 * wait point after the exit that waited for this child or for any. */
static void test_reap_after_peek(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	/* newest first: the real reap, a wait for another child, one before the exit */
	struct mpt_wp w[] = { wp(2012, 101), wp(30, 150), wp(5, 0) };
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	exit_(pt, 10, 101, 101, 0, ROOT, 1, 0);
	free_w(pt, 2030, 101, 101, ROOT, w, 3);
	c = ptree_find(pt, 101);
	is_int(c->reaped_ts, T0 + 2012 * MS, "peek: reaped by the wait for it, 2 s later");
	is_int(pt_zombie_ns(c, 0), 2002 * MS, "peek: a zombie all along");
	is_int(pt_reap_time(&(struct mpt_free){ .h.ts = T0 + 2030 * MS }, 101, T0 + 10 * MS),
	       T0 + 2030 * MS, "no wait point: the release's own time");
	{
		/* a wait for any child came first, but the one that named it reaped it */
		struct mpt_free f = { .h.ts = T0 + 2030 * MS, .nwps = 2,
				      .wps = { wp(2012, 101), wp(20, 0) } };

		is_int(pt_reap_time(&f, 101, T0 + 10 * MS), T0 + 2012 * MS,
		       "a wait point naming the child beats an earlier one for any child");
	}
	ptree_free(pt);
}

/* strace -f: the tracer's wait reports the exit but releases nothing; the
 * real parent reaps later. */
static void test_reap_under_ptrace(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct mpt_wp w[] = { wp(2000, 0) };
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/usr/bin/strace", "strace\0", 7);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);
	exit_(pt, 10, 102, 102, 0, 101, 1, 0);
	{
		struct mpt_wait e = { 0 };

		hdr(&e.h, MPT_EV_WAIT, sizeof(e), 11, ROOT, ROOT);
		e.start_ts = T0 + 4 * MS;
		e.waker = 102;
		e.target = -1;
		feed(pt, &e);
	}
	c = ptree_find(pt, 102);
	is_int(c->state, PT_ZOMBIE, "ptrace: the tracer's wait reaps nothing");
	free_w(pt, 2015, 102, 102, 101, w, 1);
	is_int(c->reap, PT_REAP_PARENT, "ptrace: reaped by its parent");
	is_int(c->reaped_by, 101, "ptrace: reaped_by is the parent, not the tracer");
	is_int(c->reaped_ts, T0 + 2000 * MS, "ptrace: when the parent waited");
	ptree_free(pt);
}

/* SIGCHLD ignored: released at the exit by the kernel; the release record
 * comes after the parent's exit, which must not hand it to an adopter. */
static void test_autoreap_no_adopter(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	exit_(pt, 10, 101, 101, 0, ROOT, 1, MPT_EXIT_AUTOREAP);
	exit_(pt, 11, ROOT, ROOT, 0, SELF, 1, 0);
	c = ptree_find(pt, 101);
	is_int(c->reap, PT_REAP_AUTO, "auto-reap: released at its exit");
	is_int(c->reaped_ts, T0 + 10 * MS, "auto-reap: at the exit");
	free_(pt, 26, 101, 101, ROOT);
	is_int(c->adopted_by, 0, "auto-reap: never adopted");
	is_int(c->reap, PT_REAP_AUTO, "auto-reap: the late release changes nothing");
	is_int(c->reaped_ts, T0 + 10 * MS, "auto-reap: still at the exit");
	ptree_free(pt);
}

static void test_validate(void)
{
	struct mpt_exec e = { 0 };
	struct mpt_hdr h = { 0 };
	const char *why;

	ok(event_validate(&h, 4, &why) < 0, "a short record is rejected");
	h.type = 99;
	h.size = sizeof(h);
	ok(event_validate(&h, sizeof(h), &why) < 0, "an unknown type is rejected");
	h.type = MPT_EV_EXIT;
	ok(event_validate(&h, sizeof(h), &why) < 0, "a record too short for its type is rejected");
	e.h.type = MPT_EV_EXEC;
	e.h.size = sizeof(e);
	e.fname_len = 10;
	e.args_len = MPT_ARGS_MAX + 1;
	ok(event_validate(&e, sizeof(e), &why) < 0, "impossible exec lengths are rejected");
	e.args_len = 10;
	ok(event_validate(&e, sizeof(e), &why) == 0, "a good exec passes");
	h.type = MPT_EV_FREE;
	h.size = sizeof(h) + 64;
	ok(event_validate(&h, sizeof(h), &why) < 0, "a size beyond the buffer is rejected");
}

/* Issue 12: the gate on real software. */
static void kill_(struct ptree *pt, uint64_t ms, uint32_t pid)
{
	struct mpt_kill e = { 0 };

	hdr(&e.h, MPT_EV_KILL, sizeof(e), ms, pid, pid);
	e.sig = 15;
	e.reason = MPT_KILL_LEAK;
	feed(pt, &e);
}

static void test_leak_grace(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT,
			     .leak_grace_ns = 100 * MS };
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, ROOT, 102, false);
	fork_(pt, 4, ROOT, 103, false);
	fork_(pt, 5, ROOT, 104, false);
	exit_(pt, 100, ROOT, ROOT, 0, SELF, 1, 0);
	exit_(pt, 150, 101, 101, 0, 1, 1, 0);	/* 50 ms after the command */
	exit_(pt, 200, 104, 104, 0, 1, 1, 0);	/* exactly the grace: not over */
	exit_(pt, 250, 102, 102, 0, 1, 1, 0);	/* 150 ms after */
	end_(pt, 300, 0);			/* 103 still running */
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_LEAK, 101), "exited within --leak-grace: no leak");
	ok(!finding(&r, AN_LEAK, 104), "exited at exactly the grace: no leak");
	ok(finding(&r, AN_LEAK, 102), "exited after the grace: a leak");
	ok(finding(&r, AN_LEAK, 103), "still running at the end: a leak");
	ok(finding(&r, AN_ORPHAN, 101), "within the grace it is still an orphan");
	an_result_free(&r);
	o.leak_grace_ns = 0;
	analyze(pt, &o, pt->end_ts, &r);
	ok(finding(&r, AN_LEAK, 101), "--leak-grace=0: any survivor is a leak");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_zombie_split(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct pt_zsplit z;
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);	/* orphaned, adopted by untraced init */
	fork_(pt, 4, ROOT, 103, false);
	fork_(pt, 5, 103, 104, false);	/* orphaned, adopted by the traced root */
	exit_(pt, 6, 101, 101, 0, ROOT, 1, 0);
	wait_(pt, 7, ROOT, 6, 101, 0);
	exit_(pt, 8, 103, 103, 0, ROOT, ROOT, 0);
	wait_(pt, 9, ROOT, 8, 103, 0);
	exit_(pt, 10, 102, 102, 0, 1, 1, 0);
	exit_(pt, 10, 104, 104, 0, ROOT, 1, 0);
	free_(pt, 2000, 102, 102, 1);		/* init: 1990 ms later */
	wait_(pt, 2010, ROOT, 2000, 104, 0);	/* the subreaper: 2000 ms later */
	exit_(pt, 2100, ROOT, ROOT, 0, SELF, 1, 0);
	end_(pt, 2101, 0);
	pt_zombie_split(pt, ptree_find(pt, 102), pt->end_ts, &z);
	is_int(z.parent_ns, 0, "orphaned before it exited: no parent part");
	is_int(z.adopter_ns, 1990 * MS, "all of it waiting for the adopter");
	is_int(z.counted_ns, 0, "an untraced adopter's wait is not counted");
	ok(!z.adopter_traced, "init is not traced");
	pt_zombie_split(pt, ptree_find(pt, 104), pt->end_ts, &z);
	ok(z.adopter_traced, "the subreaper root is traced");
	is_int(z.counted_ns, 2000 * MS, "a traced adopter's wait is counted");
	analyze(pt, &o, pt->end_ts, &r);
	ok(!finding(&r, AN_ZOMBIE, 102), "slow untraced adopter: no zombie finding");
	ok(finding(&r, AN_ZOMBIE, 104) && finding(&r, AN_ZOMBIE, 104)->reason == AN_R_SLOW,
	   "slow traced subreaper: a slow finding");
	ok(finding(&r, AN_ORPHAN, 102), "the orphaning is still reported");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_zombie_handed_over(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_zsplit z;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);
	exit_(pt, 5, 102, 102, 0, 101, 1, 0);	/* a zombie of a live parent */
	exit_(pt, 500, 101, 101, 0, ROOT, 1, 0);	/* which dies without reaping */
	free_(pt, 2500, 102, 102, 1);
	pt_zombie_split(pt, ptree_find(pt, 102), pt->last_ts, &z);
	is_int(z.parent_ns, 495 * MS, "its parent's part ends at the hand-over");
	is_int(z.adopter_ns, 2000 * MS, "the adopter's part after it");
	ptree_free(pt);
}

static void test_kill_leaks_keeps_orphan(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT,
			     .leak_grace_ns = 100 * MS };
	struct an_result r;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);	/* a double-forked daemon */
	fork_(pt, 4, ROOT, 103, false);
	fork_(pt, 5, 103, 104, false);
	exit_(pt, 6, 101, 101, 0, ROOT, 1, 0);	/* orphaned by its own program */
	wait_(pt, 7, ROOT, 6, 101, 0);
	exit_(pt, 10, ROOT, ROOT, 0, SELF, 1, 0);
	kill_(pt, 120, 102);
	kill_(pt, 120, 103);			/* mptrace kills 104's parent */
	exit_(pt, 121, 102, 102, 15, 1, 1, 0);
	exit_(pt, 121, 103, 103, 15, 1, 1, 0);
	end_(pt, 200, 0);
	analyze(pt, &o, pt->end_ts, &r);
	ok(finding(&r, AN_ORPHAN, 102), "orphaned before and without mptrace: kept under --kill-leaks");
	ok(finding(&r, AN_LEAK, 102), "and the leak");
	ok(!finding(&r, AN_ORPHAN, 104), "orphaned by mptrace's kill of its parent: not reported");
	an_result_free(&r);
	ptree_free(pt);
}

static void test_autoreap_not_adopted(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct pt_proc *c;

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, 101, 102, false);
	exit_(pt, 10, 102, 102, 0, 101, 1, MPT_EXIT_AUTOREAP);
	exit_(pt, 11, 101, 101, 0, ROOT, 1, 0);	/* before the child's free record */
	free_(pt, 25, 102, 102, 1);
	c = ptree_find(pt, 102);
	is_int(c->adopted_by, 0, "an auto-reaped child is never adopted");
	is_int(c->reap, PT_REAP_AUTO, "it is auto-reaped");
	ptree_free(pt);
}

static void proc_(struct ptree *pt, uint64_t ms, uint32_t pid, uint32_t ppid)
{
	struct mpt_proc e = { 0 };

	hdr(&e.h, MPT_EV_PROC, offsetof(struct mpt_proc, args) + 8, ms, pid, 0);
	e.ppid = ppid;
	e.nthreads = 1;
	e.args_len = 3;
	memcpy(e.args, "sh\0", 3);
	strcpy(e.comm, "sh");
	feed(pt, &e);
}

static void test_attach_race_one_node(void)
{
	struct ptree *pt = mk(PT_MODE_PID);

	/* the snapshot reads a child its parent is forking right now: the
	 * fork record comes after the snapshot's */
	proc_(pt, 0, 500, 400);
	proc_(pt, 0, 501, 500);
	fork_(pt, 2, 500, 501, false);
	is_int(pt->nprocs, 2, "snapshot then fork of the same pid+start: one node");
	exit_(pt, 5, 501, 501, 0, 500, 1, 0);
	free_(pt, 6, 501, 501, 500);
	exit_(pt, 7, 500, 500, 0, 400, 1, 0);
	is_int(pt->live, 0, "nothing is left running: -p returns");
	ptree_free(pt);

	pt = mk(PT_MODE_PID);
	/* the other order: fork, exit and release come first, then the
	 * snapshot record taken (at 0 ms) while it was alive */
	proc_(pt, 0, 500, 400);
	fork_(pt, 2, 500, 502, false);
	exit_(pt, 3, 502, 502, 0, 500, 1, 0);
	free_(pt, 4, 502, 502, 500);
	proc_(pt, 0, 502, 500);
	is_int(pt->nprocs, 2, "a released process read by an earlier snapshot: no phantom");
	is_int(pt->live, 1, "only the parent runs");
	ptree_free(pt);
}

/* The evidence kept for a release that never comes (user/trace.c writes it
 * then): a blocking wait of the parent that the zombie's exit woke. */
static void test_parent_woke_evidence(void)
{
	struct ptree *pt = mk(PT_MODE_COMMAND);
	struct mpt_wait e = { 0 };

	exec_(pt, 1, ROOT, ROOT, ROOT, "/bin/sh", "sh\0", 3);
	fork_(pt, 2, ROOT, 101, false);
	fork_(pt, 3, ROOT, 102, false);
	fork_(pt, 4, ROOT, 103, false);
	exit_(pt, 10, 101, 101, 0, ROOT, 1, 0);
	exit_(pt, 11, 102, 102, 0, ROOT, 1, 0);
	exit_(pt, 12, 103, 103, 0, ROOT, 1, 0);
	/* woken by 101's exit, any child: evidence */
	hdr(&e.h, MPT_EV_WAIT, sizeof(e), 13, ROOT, ROOT);
	e.start_ts = T0 + 5 * MS;
	e.waker = 101;
	e.target = -1;
	feed(pt, &e);
	/* a WNOWAIT peek woken by 102: a peek reaps nothing */
	e.h.ts = T0 + 14 * MS;
	e.waker = 102;
	e.flags = MPT_WAIT_NOWAIT;
	feed(pt, &e);
	/* woken by 103 while waiting for 101 by pid: not 103's reap */
	e.h.ts = T0 + 15 * MS;
	e.waker = 103;
	e.flags = 0;
	e.target = 101;
	feed(pt, &e);
	is_int(ptree_find(pt, 101)->parent_woke_ts, T0 + 13 * MS, "a wait the exit woke: its end kept");
	is_int(ptree_find(pt, 102)->parent_woke_ts, 0, "a WNOWAIT peek is no evidence");
	is_int(ptree_find(pt, 103)->parent_woke_ts, 0, "a wait for another pid is no evidence");
	ptree_free(pt);
}

int main(void)
{
	test_parent_woke_evidence();
	test_basic_lifecycle();
	test_threads_and_exec_by_thread();
	test_pid_reuse();
	test_unknown_and_out_of_order();
	test_orphan_and_zombie_leak();
	test_subreaper();
	test_autoreap_and_thresholds();
	test_unreaped_at_end();
	test_leaks_locks_lost();
	test_short_abandoned_zombie();
	test_seen_late_zombie();
	test_leak_exits_later();
	test_allow_leak_argv();
	test_autoreap_late_release();
	test_killed_before_the_command_ended();
	test_holder_thread();
	test_incomplete_never_passes();
	test_wait_edges();
	test_reap_in_pidns();
	test_reap_after_peek();
	test_reap_under_ptrace();
	test_autoreap_no_adopter();
	test_validate();
	test_leak_grace();
	test_zombie_split();
	test_zombie_handed_over();
	test_kill_leaks_keeps_orphan();
	test_autoreap_not_adopted();
	test_attach_race_one_node();
	return tap_done();
}
