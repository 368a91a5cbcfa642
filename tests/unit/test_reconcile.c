// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Reconciling after a loss (issue 16): a model whose processes' exit or
 * release records were dropped, then told by MPT_EV_GONE records that the
 * kernel no longer has them, holds them as neither alive nor zombies, and
 * forgets them like reaped ones; a pid reused by a newer process is not
 * confused with the one that was gone. And the start-time check that
 * decides who is gone (util.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyze.h"
#include "deadlock.h"
#include "event.h"
#include "forget.h"
#include "out_json.h"
#include "out_text.h"
#include "ptree.h"
#include "tap.h"
#include "util.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static struct ptree *pt;
static uint64_t now_ms;
static struct an_opts an = { .zombie_threshold_ns = 1000 * MS };
static uint64_t starts[4096];	/* a pid's current kernel start time; 0: the pid */
static struct pt_change last;
static int last_err;

static uint64_t start_of(uint32_t pid)
{
	return pid < 4096 && starts[pid] ? starts[pid] : pid;
}

/* One record at now_ms, then the forgetting the live loop does. */
static void put(void *ev, uint32_t type, size_t size, uint32_t pid)
{
	struct mpt_hdr *h = ev;
	const char *why;

	h->type = type;
	h->size = size;
	h->ts = T0 + now_ms * MS;
	h->pid = h->tid = pid;
	if (!h->start)
		h->start = start_of(pid);
	last_err = event_validate(ev, size, &why);
	if (!last_err)
		last_err = ptree_feed(pt, ev, &last);
	fg_step(pt, &an, h->ts, NULL, NULL);
}

#include "synth.h"

/* The kernel no longer has (pid, start): mptrace's /proc lookup said so. */
static int gone(uint32_t pid, uint64_t start, bool zombie)
{
	struct mpt_gone g = { .h = { .start = start }, .flags = zombie ? MPT_GONE_ZOMBIE : 0 };

	put(&g, MPT_EV_GONE, sizeof(g), pid);
	return last_err;
}

static void end(uint64_t lost_exits)
{
	struct mpt_end e = { 0 };

	e.lost[MPT_EV_EXIT] = lost_exits;
	put(&e, MPT_EV_END, sizeof(e), 0);
}

static struct pt_proc *find(uint32_t pid, uint64_t start)
{
	for (size_t i = 0; i < pt->nprocs; i++)
		if (pt->procs[i]->pid == pid && pt->procs[i]->kstart == start)
			return pt->procs[i];
	return NULL;
}

static void test_lost_exits(void)
{
	char *argv[] = { NULL };
	struct pt_meta m = { .mode = PT_MODE_SYSTEM, .argv = argv, .t0 = T0, .self_pid = 1 };
	struct pt_proc *a, *a2, *z;
	struct an_result r;
	struct sbuf b = { 0 };
	uint32_t live;

	pt = ptree_new(&m);
	pt->fg = fg_new(1000, 16, 0);
	spawn(1, 50, "server");
	for (uint32_t i = 0; i < 100; i++) {	/* 100 jobs whose exits were lost */
		now_ms++;
		spawn(50, 1000 + i, "job");
	}
	spawn(50, 200, "zjob");
	die(200, 0, 50);			/* its release was lost */
	spawn(50, 201, "ok");			/* one whose records all came */
	die(201, 0, 50);
	reaped(50, 201);
	live = pt->live;
	is_int(live, 102, "the model believes 100 jobs, the server and pid 1 alive");
	is_int(pt->zombies_now, 1, "and one zombie");
	/* pid 1000 is reused by a newer process while its first one is held alive */
	starts[1000] = 777777;
	now_ms++;
	spawn(50, 1000, "newjob");
	a2 = find(1000, 777777);
	a = find(1000, 1000);
	ok(a && a2 && a != a2, "the reused pid is a process of its own");
	now_ms += 10;
	for (uint32_t i = 0; i < 100; i++)
		is_int(gone(1000 + i, 1000 + i, false), 0, "job %u is found gone", 1000 + i);
	ok(a->state == PT_REAPED && a->gone && !a->exited, "the first pid-1000 process is gone, "
	   "not exited: how it ended is unknown");
	ok(a2->state == PT_RUNNING && !a2->gone, "the newer pid-1000 process is still running");
	is_int(pt->live, live + 1 - 100, "the gone ones are no longer counted alive");
	is_int(gone(200, 200, true), 0, "the zombie whose release was lost is found gone");
	z = find(200, 200);
	is_int(pt->zombies_now, 0, "no zombie is left");
	ok(z && !z->znext && pt->zombies == NULL, "the set of current zombies is empty");
	is_int(pt->ngone, 101, "101 processes found gone");
	ok(gone(1000, 1000, false) != 0, "a second record for the same process is refused");
	ok(gone(50, 12345, false) != 0, "a record for a start time the model does not have is refused");
	is_int(pt->ngone, 101, "and counts nothing");
	/* a late exit record of a gone process changes nothing */
	{
		struct mpt_exit e = { .status = 9, .ppid = 50, .h = { .start = 1001 } };

		memcpy(e.comm, "job", 4);
		put(&e, MPT_EV_EXIT, sizeof(e), 1001);
		ok(last_err != 0 && !find(1001, 1001)->exited, "a late exit of a gone process is refused");
	}
	end(101);
	analyze(pt, &an, pt->end_ts, &r);
	is_int(r.count[AN_ZOMBIE], 0, "a gone zombie is no zombie finding (its reap is unknown)");
	ok(r.incomplete && !r.passed, "the trace is incomplete and fails --check");
	ok(r.incomplete_why && strstr(r.incomplete_why, "101 processes found gone"),
	   "the reason says how many were found gone: %s", r.incomplete_why ? r.incomplete_why : "");
	json_report(&b, pt, &r, &an);
	ok(strstr(b.s, "\"gone_processes\":101") != NULL, "the JSON report counts them");
	ok(strstr(b.s, "\"gone\":true") != NULL, "and marks a gone process");
	b.len = 0;
	text_report(&b, &(struct text_style){ .utf8 = true }, pt, &r, &an);
	ok(strstr(b.s, "zjob[200]") && !strstr(b.s, "zjob[200] was a zombie"),
	   "the text report shows the gone zombie, as no zombie finding");
	if (getenv("SHOW"))
		fputs(b.s, stdout);
	an_result_free(&r);
	sb_free(&b);
	fg_free(pt->fg);
	ptree_free(pt);
}

/* Gone processes are forgotten as reaped ones are: the model is back to what is alive. */
static void test_forgotten(void)
{
	struct pt_meta m = { .mode = PT_MODE_SYSTEM, .t0 = T0, .self_pid = 1 };
	const uint32_t n = 3000;

	memset(starts, 0, sizeof(starts));
	now_ms = 0;
	pt = ptree_new(&m);
	pt->fg = fg_new(64, 16, 0);
	spawn(1, 50, "server");
	for (uint32_t i = 0; i < n; i++) {
		now_ms++;
		spawn(50, 1000 + i % 3000, "job");
	}
	is_int(pt->nprocs, n + 2, "%u jobs held alive after their exits were lost", n);
	for (uint32_t i = 0; i < n; i++)
		gone(1000 + i, 1000 + i, false);
	ok(pt->nprocs <= 2 + 64, "the gone ones were forgotten: %zu kept", pt->nprocs);
	is_int(pt->live, 2, "pid 1 and the server are alive");
	ok(!ptree_find(pt, 50)->child || ptree_find(pt, 50)->child->gone,
	   "the server's kept children are the gone ones not yet folded");
	fg_free(pt->fg);
	ptree_free(pt);
}

static void test_start_check(void)
{
	const uint64_t tick = 10 * MS;
	uint64_t ticks;
	const char *stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
			   "123456 1000 200";

	ok(!stat_start_ticks(stat, &ticks) && ticks == 123456,
	   "field 22 of a stat line whose comm holds ') ': %llu", (unsigned long long)ticks);
	ok(stat_start_ticks("4242 (a) S 1", &ticks) != 0, "a cut stat line has no start time");
	/* no sleep: the one tick the start falls in */
	ok(start_matches(1234567890, 123, 0, 0, tick), "123.4 ticks is tick 123");
	ok(!start_matches(1234567890, 124, 0, 0, tick), "not tick 124 (a later process, pid reused)");
	ok(!start_matches(1234567890, 122, 0, 0, tick), "nor 122");
	/* the machine slept 5 s before it started, or after: either side */
	ok(start_matches(1234567890, 623, 0, 5000 * MS, tick), "after a 5 s sleep: tick 623 too");
	ok(!start_matches(1234567890, 624, 0, 5000 * MS, tick), "but not past the sleep");
}

/* A flock wait of pid, begun at ms, on the lock `ino` held by `holder`. */
static void lock_wait(uint32_t pid, uint64_t ms, uint64_t ino, uint32_t holder)
{
	struct mpt_lock_begin l = { .kind = MPT_LOCK_FLOCK, .dev = 1, .ino = ino,
				    .holder = holder, .hkind = MPT_HOLDER_BLOCKER };
	uint64_t at = now_ms;

	now_ms = ms;
	put(&l, MPT_EV_LOCK_BEGIN, sizeof(l), pid);
	now_ms = at;
}

/*
 * The deadlock search walks the processes with waits in progress only
 * (ptree.waiting), and tells a cycle from its first-created member, as the
 * walk of every process did; a wait that ends leaves the list.
 */
static void test_deadlock_waiting(void)
{
	struct pt_meta m = { .mode = PT_MODE_SYSTEM, .t0 = T0, .self_pid = 1 };
	struct mpt_deadlock dl;
	struct mpt_lock e = { .kind = MPT_LOCK_FLOCK, .dev = 1, .ino = 9 };

	memset(starts, 0, sizeof(starts));
	now_ms = 0;
	pt = ptree_new(&m);
	pt->fg = fg_new(1000, 16, 0);
	for (uint32_t pid = 10; pid < 2010; pid++)	/* many, none waiting */
		spawn(1, pid, "idle");
	spawn(1, 3000, "a");
	spawn(1, 3001, "b");
	spawn(1, 3002, "c");
	now_ms = 100;
	lock_wait(3002, 100, 9, 0);		/* c waits, no cycle */
	lock_wait(3001, 100, 7, 3000);		/* b waits on a's lock */
	lock_wait(3000, 100, 8, 3001);		/* a waits on b's */
	ok(pt->waiting && pt->ninwaits == 3, "three processes wait");
	ok(!dl_detect(pt, T0 + 500 * MS, 1000 * MS, &dl), "no cycle younger than 1 s");
	ok(dl_detect(pt, T0 + 1200 * MS, 1000 * MS, &dl), "a cycle after 1 s");
	ok(dl.n == 2 && dl.m[0].pid == 3000 && dl.m[1].pid == 3001,
	   "a (created first) then b: %u members, %u then %u", dl.n, dl.m[0].pid, dl.m[1].pid);
	/* c's wait ends: it leaves the list */
	e.start_ts = T0 + 100 * MS;
	now_ms = 1300;
	put(&e, MPT_EV_LOCK, sizeof(e), 3002);
	{
		size_t n = 0;

		for (const struct pt_proc *p = pt->waiting; p; p = p->wnext)
			n++;
		is_int(n, 2, "two processes on the waiting list after c's wait ended");
	}
	{
		struct mpt_deadlock f = { .n = 2 };

		f.m[0].pid = 3000;
		f.m[0].start = 3000;
		f.m[1].pid = 3001;
		f.m[1].start = 3001;
		now_ms = 1300;
		put(&f, MPT_EV_DEADLOCK, sizeof(f), 0);	/* as the live loop records it */
	}
	ok(!dl_detect(pt, T0 + 1300 * MS, 1000 * MS, &dl), "the cycle is not told twice");
	/* d waits on e's lock at 2000, e on d's at 2500: complete when e's wait
	 * is 1 s old, not d's */
	spawn(1, 3003, "d");
	spawn(1, 3004, "e");
	lock_wait(3003, 2000, 5, 3004);
	lock_wait(3004, 2500, 6, 3003);
	ok(!dl_detect(pt, T0 + 3100 * MS, 1000 * MS, &dl), "d's wait is old, e's not: no cycle yet");
	ok(dl_detect(pt, T0 + 3600 * MS, 1000 * MS, &dl) && dl.n == 2 && dl.m[0].pid == 3003,
	   "at e's, the cycle, told from d");
	fg_free(pt->fg);
	ptree_free(pt);
}

int main(void)
{
	test_lost_exits();
	test_forgotten();
	test_start_check();
	test_deadlock_waiting();
	return tap_done();
}
