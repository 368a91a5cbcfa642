// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Runs for days (issue 11): the forgetting model (-a, top, -p) fed long
 * synthetic runs: nodes bounded by what is alive, the findings ring, the
 * lineage of a living process whose ancestors were freed, pinned processes;
 * the set of current zombies; and the text tree of very deep chains.
 */
#include <stdio.h>
#include <string.h>
#include "analyze.h"
#include "event.h"
#include "forget.h"
#include "out_json.h"
#include "out_perfetto.h"
#include "out_text.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static struct ptree *pt;
static uint64_t now_ms;
static struct an_opts an = { .zombie_threshold_ns = 1000 * MS };
static size_t max_nodes;
static uint64_t grace_ns;	/* the live view's: fg_new's third argument */

static void start(enum pt_mode mode, size_t keep, size_t ring)
{
	char *argv[] = { "sh", NULL };
	struct pt_meta m = { .mode = mode, .argv = argv, .t0 = T0, .self_pid = 1, .root_pid = 100 };

	pt = ptree_new(&m);
	if (pt->forgets)
		pt->fg = fg_new(keep, ring, grace_ns);
	now_ms = 0;
	max_nodes = 0;
}

static void stop(void)
{
	fg_free(pt->fg);
	ptree_free(pt);
}

/* One record at now_ms, then what the live loop does after it. */
static void put(void *ev, uint32_t type, size_t size, uint32_t pid)
{
	struct mpt_hdr *h = ev;
	const char *why;

	h->type = type;
	h->size = size;
	h->ts = T0 + now_ms * MS;
	h->pid = h->tid = pid;
	h->start = pid;
	if (event_validate(ev, size, &why) || ptree_feed(pt, ev, NULL))
		printf("# record of type %u not taken\n", type);
	fg_step(pt, &an, h->ts, NULL, NULL);
	if (pt->nprocs > max_nodes)
		max_nodes = pt->nprocs;
}

#include "synth.h"

static bool slots_ok(void)
{
	for (size_t i = 0; i < pt->nprocs; i++)
		if (pt->procs[i]->slot != i || pt->procs[i]->doomed)
			return false;
	return true;
}

static void test_bounded(void)
{
	const uint32_t n = 20000;

	start(PT_MODE_SYSTEM, 64, 8);
	spawn(1, 50, "daemon");
	for (uint32_t i = 0; i < n; i++) {
		now_ms++;
		spawn(50, 1000 + i, "job");
		die(1000 + i, 0, 1);
		reaped(50, 1000 + i);
	}
	is_int(pt->nids, n + 2, "every process got an id: %u jobs, the daemon, pid 1", n);
	ok(max_nodes <= 2 + 64 + 1, "nodes never passed 67 (the 2 alive, 64 reaped kept, 1 over): %zu",
	   max_nodes);
	is_int(pt->nprocs + pt->nforgotten, n + 2, "kept + forgotten = seen");
	ok(slots_ok(), "every kept process's slot is its index");
	ok(!ptree_find(pt, 1000), "the first job is gone from the pid hash");
	ok(ptree_find(pt, 1000 + n - 1) != NULL, "the last job is still known");
	ok(ptree_find(pt, 50)->child && ptree_find(pt, 50)->child->pid >= 1000 + n - 64,
	   "the daemon's children are the recent jobs only");
	{
		size_t nc;
		struct fg_comm *c = fg_comms(pt->fg, &nc);

		ok(nc == 1 && !strcmp(c[0].comm, "job") && c[0].processes == pt->nforgotten,
		   "per-comm totals: all forgotten were 'job'");
		free(c);
	}
	stop();
}

/* top: reaped processes stay for the live view's grace, but a storm's
 * rows are bounded by count (FG_GRACE_MAX), not by rate x grace. */
static void test_grace_bounded(void)
{
	const uint32_t n = 20000;

	grace_ns = FG_LIVE_GRACE_NS;
	start(PT_MODE_SYSTEM, 64, 8);
	spawn(1, 50, "daemon");
	for (uint32_t i = 0; i < 100; i++) {
		spawn(50, 1000 + i, "job");
		die(1000 + i, 0, 1);
		reaped(50, 1000 + i);
	}
	is_int(pt->nprocs, 102, "100 jobs reaped within the grace all stay on the view (keep is 64)");
	for (uint32_t i = 100; i < n; i++) {
		if (i % 4 == 0)
			now_ms++;	/* 4,000 a second: 24,000 in one grace */
		spawn(50, 1000 + i, "job");
		die(1000 + i, 0, 1);
		reaped(50, 1000 + i);
	}
	ok(max_nodes <= 2 + FG_GRACE_MAX + 1, "nodes never passed %d in a storm: %zu",
	   2 + FG_GRACE_MAX + 1, max_nodes);
	ok(max_nodes >= FG_GRACE_MAX, "but the grace kept up to %d of them: %zu", FG_GRACE_MAX, max_nodes);
	ok(ptree_find(pt, 1000 + n - 1) && !ptree_find(pt, 1000 + n - 1 - FG_GRACE_MAX - 1),
	   "the newest %d are the ones kept", FG_GRACE_MAX);
	stop();
	grace_ns = 0;
}

static void test_ring(void)
{
	struct an_result r;
	struct sbuf b = { 0 };

	start(PT_MODE_SYSTEM, 4, 8);
	spawn(1, 50, "daemon");
	for (uint32_t i = 0; i < 20; i++) {
		spawn(50, 2000 + i, "slow");
		die(2000 + i, 0, 1);
		now_ms += 2000;		/* a zombie for 2 s: over the 1 s threshold */
		reaped(50, 2000 + i);
	}
	for (uint32_t i = 0; i < 10; i++) {	/* quick ones push the slow ones out */
		now_ms++;
		spawn(50, 3000 + i, "quick");
		die(3000 + i, 0, 1);
		reaped(50, 3000 + i);
	}
	analyze(pt, &an, T0 + now_ms * MS, &r);
	is_int(r.count[AN_ZOMBIE], 20, "all 20 slow zombies are counted");
	is_int(r.older[AN_ZOMBIE], 12, "12 older ones are only counted");
	is_int(r.forgotten, 8, "the ring keeps the last 8");
	ok(r.n >= 8 && r.v[0].proc && r.v[0].proc->pid == 2012 && r.v[7].proc->pid == 2019,
	   "the ring holds the last eight, oldest first");
	ok(r.v[0].message && strstr(r.v[0].message, "slow[2012] was a zombie for 2000.0 ms"),
	   "a kept finding keeps its message");
	json_report(&b, pt, &r, &an);
	ok(strstr(b.s, "\"forgotten\":{\"processes\":") && strstr(b.s, "\"findings_not_kept\":12"),
	   "the JSON report says what was forgotten");
	b.len = 0;
	text_report(&b, &(struct text_style){ .utf8 = true }, pt, &r, &an);
	ok(strstr(b.s, "12 older zombies of forgotten processes") != NULL,
	   "the text report counts the findings not kept");
	ok(strstr(b.s, "reaped processes forgotten (only counted), most: ") != NULL,
	   "the text report has the per-comm totals");
	an_result_free(&r);
	sb_free(&b);
	stop();
}

static void test_lineage(void)
{
	struct pt_proc *c;
	struct an_result r;
	struct sbuf b = { 0 };
	char name[8];

	start(PT_MODE_PID, 1, 4);
	spawn(1, 10, "a");
	spawn(10, 11, "b");
	spawn(11, 12, "c");
	now_ms++;
	die(10, 0, 1);
	reaped(1, 10);
	die(11, 0, 1);
	reaped(1, 11);
	c = ptree_find(pt, 12);
	ok(!ptree_find(pt, 10) && !ptree_find(pt, 11), "the reaped ancestors were freed");
	ok(c && !c->parent, "the living process is a root now");
	ok(c && c->lineage && !strcmp(c->lineage, "?[1] > a[10] > b[11]"),
	   "it keeps its ancestors' names: %s", c && c->lineage ? c->lineage : "(none)");
	analyze(pt, &an, T0 + now_ms * MS, &r);
	text_report(&b, &(struct text_style){ .utf8 = true }, pt, &r, &an);
	ok(strstr(b.s, "?[1] > a[10] > b[11] > c[12]") != NULL, "the text tree shows the names");
	b.len = 0;
	json_report(&b, pt, &r, &an);
	ok(strstr(b.s, "\"lineage\":\"?[1] > a[10] > b[11]\"") != NULL, "so does the JSON");
	an_result_free(&r);
	sb_free(&b);
	/* a respawn-by-fork chain: the lineage stays at 16 names */
	for (uint32_t i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		spawn(12 + i, 13 + i, name);
		die(12 + i, 0, 1);
		reaped(1, 12 + i);
	}
	c = ptree_find(pt, 52);
	ok(c && c->lineage && !strncmp(c->lineage, "… > ", 5) && strstr(c->lineage, "g38[51]"),
	   "a long chain keeps the nearest names: %s", c && c->lineage ? c->lineage : "(none)");
	is_int(pt->nprocs, 2, "pid 1 and the living link are all that is kept");
	stop();
}

static void test_pinned_and_command(void)
{
	struct mpt_lock l = { .kind = MPT_LOCK_FLOCK, .dev = 1, .ino = 2 };

	start(PT_MODE_SYSTEM, 2, 4);
	spawn(1, 10, "locker");
	now_ms += 5;
	l.start_ts = T0 + MS;
	put(&l, MPT_EV_LOCK, sizeof(l), 10);
	die(10, 0, 1);
	reaped(1, 10);
	for (uint32_t i = 0; i < 10; i++) {
		spawn(1, 20 + i, "x");
		die(20 + i, 0, 1);
		reaped(1, 20 + i);
	}
	ok(ptree_find(pt, 10) != NULL, "a process in the lock-wait log is never forgotten");
	ok(!ptree_find(pt, 20), "the others are");
	stop();

	start(PT_MODE_COMMAND, 2, 4);
	ok(!pt->forgets && !pt->fg, "command mode does not forget");
	for (uint32_t i = 0; i < 100; i++) {
		spawn(100, 200 + i, "x");
		die(200 + i, 0, 1);
		reaped(100, 200 + i);
	}
	is_int(pt->nprocs, 101, "it keeps every process");
	stop();
}

/* A machine's short-lived processes each wait on locks of their own (their
 * private futexes): over days neither the processes in the lock-wait log
 * nor the locks may stay for good. */
static struct pt_stack *a_stack(uint32_t pid, uint64_t ts)
{
	struct pt_stack *st = xcalloc(1, sizeof(*st));

	st->pid = st->tid = pid;
	st->ts = ts;
	st->n = 1;
	st->f[0].addr = 0x1000;
	st->f[0].module = xstrdup("/usr/lib/libc.so.6");
	st->f[0].symbol = xstrdup("__futex_abstimed_wait_common");
	return st;
}

/* The next job of a daemon's (pid): forked, then a lock wait of its own
 * (the key's dev is the pid) that ended now, with its stack if asked. */
static void job_waited(uint32_t pid, struct mpt_lock *f, bool stack)
{
	now_ms++;
	spawn(50, pid, "job");
	f->dev = pid;
	f->start_ts = T0 + now_ms * MS;
	if (stack)
		ptree_add_stack(pt, a_stack(pid, f->start_ts));
	put(f, MPT_EV_LOCK, sizeof(*f), pid);
}

static void test_locks_forgotten(void)
{
	const uint32_t n = 3 * PT_MAX_WAITLOG_FORGET + 3 * PT_KEEP_LOCKS;
	struct mpt_lock_begin b = { .kind = MPT_LOCK_FUTEX, .flags = MPT_LOCK_PRIVATE };
	struct mpt_lock l = { .kind = MPT_LOCK_FLOCK, .dev = 9, .ino = 9 };
	struct mpt_lock f = { .kind = MPT_LOCK_FUTEX, .flags = MPT_LOCK_PRIVATE, .ino = 0x1000 };
	size_t max_locks = 0, max_log = 0;
	struct an_result r;

	start(PT_MODE_SYSTEM, 64, 8);
	spawn(1, 50, "daemon");
	/* the daemon waits on a lock all along: its lock is never forgotten */
	b.dev = 50;
	b.ino = 0x50;
	put(&b, MPT_EV_LOCK_BEGIN, sizeof(b), 50);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pid = 1000 + i;

		job_waited(pid, &f, false);
		if (i % 16 == 0) {
			l.start_ts = T0 + now_ms * MS;
			put(&l, MPT_EV_LOCK, sizeof(l), pid);
		}
		die(pid, 0, 1);
		reaped(50, pid);
		if (pt->nlocks > max_locks)
			max_locks = pt->nlocks;
		if (pt->nwaitlog > max_log)
			max_log = pt->nwaitlog;
	}
	ok(max_log <= PT_MAX_WAITLOG_FORGET, "the lock-wait log kept at most %d: %zu",
	   PT_MAX_WAITLOG_FORGET, max_log);
	/* (1000 to 1009 are the longest waits, all of 0 ns: kept) */
	ok(!ptree_find(pt, 1020), "a job in the log once was forgotten after it left it");
	ok(max_nodes <= 2 + 64 + 1 + PT_MAX_WAITLOG_FORGET,
	   "nodes: the living, the reaped kept and the log's at most: %zu", max_nodes);
	ok(max_locks <= 2 * PT_KEEP_LOCKS, "locks never passed 2 x %d: %zu", PT_KEEP_LOCKS,
	   max_locks);
	ok(pt->locks_forgotten >= n - PT_KEEP_LOCKS, "the others were forgotten: %llu",
	   (unsigned long long)pt->locks_forgotten);
	{
		bool daemon = false, shared = false;

		for (size_t i = 0; i < pt->nlocks; i++) {
			daemon |= !strcmp(pt->locks[i]->id, "futex:pid50:0x50");
			shared |= !strcmp(pt->locks[i]->id, "flock:9:9");
		}
		ok(daemon, "the lock of a wait in progress is kept");
		ok(shared, "a lock waited on all along is kept");
	}
	analyze(pt, &an, pt->last_ts, &r);
	ok(r.count[AN_LOCK] == n + 1 && r.older[AN_LOCK] >= n - PT_KEEP_LOCKS,
	   "every lock waited on counts as a finding, the forgotten ones as older: %llu, %llu",
	   (unsigned long long)r.count[AN_LOCK], (unsigned long long)r.older[AN_LOCK]);
	an_result_free(&r);
	stop();
}

static void test_zombie_set(void)
{
	start(PT_MODE_COMMAND, 0, 0);
	for (uint32_t i = 0; i < 4; i++)
		spawn(100, 200 + i, "z");
	die(202, 0, 1);
	die(200, 0, 1);
	die(203, 0, 1);
	is_int(pt->zombies_now, 3, "three zombies");
	ok(pt->zombies && pt->zombies->pid == 202 && pt->zombies->znext->pid == 200 &&
	   pt->zombies->znext->znext->pid == 203 && !pt->zombies->znext->znext->znext,
	   "the zombie set holds them in order of exit");
	reaped(100, 200);
	is_int(pt->zombies_now, 2, "one reaped");
	ok(pt->zombies->pid == 202 && pt->zombies->znext->pid == 203 && !pt->zombies->znext->znext &&
	   pt->zombies_tail->pid == 203, "the set lost the reaped one");
	reaped(100, 203);
	reaped(100, 202);
	ok(!pt->zombies && !pt->zombies_tail && !pt->zombies_now, "no zombie left");
	stop();
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

static void test_deep_tree_text(void)
{
	struct an_result r;
	struct sbuf b = { 0 };
	char name[8];
	size_t longest = 0;

	/* 60 deep, every link named differently: indented to 32 levels */
	start(PT_MODE_COMMAND, 0, 0);
	spawn(1, 100, "root");
	for (uint32_t i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "l%u", i);
		spawn(100 + i, 101 + i, name);
	}
	analyze(pt, &an, T0, &r);
	text_report(&b, &(struct text_style){ .utf8 = false }, pt, &r, &an);
	for (const char *l = b.s; *l;) {
		const char *e = strchr(l, '\n');
		size_t ind = strspn(l, " |`-");

		if (ind > longest)
			longest = ind;
		l = e ? e + 1 : l + strlen(l);
	}
	ok(longest <= 3 * 32 + 3, "no line is indented past 32 levels: %zu columns", longest);
	ok(strstr(b.s, "...(+1 level) `- l32[133]") != NULL, "the 34th level says it is one deeper");
	ok(strstr(b.s, "...(+28 levels) `- l59[160]") != NULL, "the 62nd says 28");
	an_result_free(&r);
	stop();

	/* 60 alike links: one line for the middle */
	start(PT_MODE_COMMAND, 0, 0);
	spawn(1, 100, "root");
	for (uint32_t i = 0; i < 60; i++)
		spawn(100 + i, 101 + i, "link");
	analyze(pt, &an, T0, &r);
	b.len = 0;
	text_report(&b, &(struct text_style){ .utf8 = false }, pt, &r, &an);
	ok(strstr(b.s, "... 56 more links of this fork chain, each the only child of the one before: "
		       "link, running") != NULL, "a chain of alike links folds");
	is_int(count(b.s, "link["), 4, "its first and last three links are shown");
	ok(strstr(b.s, "link[158]") && strstr(b.s, "link[160]") && !strstr(b.s, "link[157]"),
	   "the last three are the chain's end");
	an_result_free(&r);
	sb_free(&b);
	stop();
}

struct spilled {
	struct sbuf all;	/* what was written, in order */
	size_t most;		/* the most b held when written out */
};

static void take(struct sbuf *b, void *ctx)
{
	struct spilled *s = ctx;

	if (b->len > s->most)
		s->most = b->len;
	sb_printf(&s->all, "%.*s", (int)b->len, b->s);
}

/* A report of a million processes must not be held whole in memory: the
 * JSON report and the Perfetto trace go out in pieces as they are made,
 * the same bytes as made whole. */
static void test_reports_stream(void)
{
	struct an_result r;
	struct sbuf whole = { 0 }, b = { 0 };
	struct spilled s = { 0 };

	start(PT_MODE_COMMAND, 0, 0);
	spawn(1, 100, "root");
	for (uint32_t i = 0; i < 4000; i++) {
		now_ms++;
		spawn(100 + i, 101 + i, "link");
	}
	analyze(pt, &an, pt->last_ts, &r);
	json_report(&whole, pt, &r, &an);
	json_report_spill(&b, pt, &r, &an, &(struct sb_spill){ take, &s });
	sb_printf(&s.all, "%.*s", (int)b.len, b.s);
	ok(whole.len > 1000000, "the JSON of 4,000 processes is over 1 MB: %zu", whole.len);
	ok(s.most && s.most < 70000, "it was written out in pieces under 70 KB: %zu", s.most);
	ok(s.all.len == whole.len && !memcmp(s.all.s, whole.s, whole.len), "the same bytes");
	whole.len = b.len = s.all.len = s.most = 0;
	perfetto_report(&whole, pt, &r);
	perfetto_report_spill(&b, pt, &r, &(struct sb_spill){ take, &s });
	sb_printf(&s.all, "%.*s", (int)b.len, b.s);
	ok(s.most && s.most < 70000 && whole.len > 1000000,
	   "so was the Perfetto trace (%zu bytes): pieces under 70 KB: %zu", whole.len, s.most);
	ok(s.all.len == whole.len && !memcmp(s.all.s, whole.s, whole.len), "the same bytes");
	an_result_free(&r);
	sb_free(&whole);
	sb_free(&b);
	sb_free(&s.all);
	stop();
}

/* Each lock wait brings its stack: -a keeps the stacks something points
 * to, not the first PT_MAX_STACKS of the run for good. */
static void test_stacks_forgotten(void)
{
	const uint32_t n = 3 * PT_MAX_STACKS;
	struct mpt_lock_begin b = { .kind = MPT_LOCK_FUTEX, .flags = MPT_LOCK_PRIVATE,
				    .dev = 50, .ino = 0x50 };
	struct mpt_lock f = { .kind = MPT_LOCK_FUTEX, .flags = MPT_LOCK_PRIVATE, .ino = 0x1000 };
	size_t max_stacks = 0;
	const struct pt_proc *d;

	start(PT_MODE_SYSTEM, 64, 8);
	spawn(1, 50, "daemon");
	/* the daemon's wait in progress, with its stack, all along */
	ptree_add_stack(pt, a_stack(50, T0 + now_ms * MS));
	put(&b, MPT_EV_LOCK_BEGIN, sizeof(b), 50);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pid = 1000 + i;

		job_waited(pid, &f, true);
		die(pid, 0, 1);
		reaped(50, pid);
		if (pt->nstacks > max_stacks)
			max_stacks = pt->nstacks;
	}
	is_int(pt->stacks_dropped, 0, "no wait went without its stack");
	ok(max_stacks <= PT_MAX_WAITLOG_FORGET + PT_TOP_WAITS + 2 + PT_KEEP_STACKS,
	   "stacks kept: the log's, the longest waits', the one in progress and %d more at most: %zu",
	   PT_KEEP_STACKS, max_stacks);
	ok(pt->stacks_forgotten >= n - PT_MAX_STACKS, "the others were freed: %llu",
	   (unsigned long long)pt->stacks_forgotten);
	ok(pt->nwaitlog && pt->waitlog[pt->nwaitlog - 1].stack &&
	   pt->waitlog[pt->nwaitlog - 1].stack->pid == 1000 + n - 1,
	   "the newest wait of the log has its stack");
	d = ptree_find(pt, 50);
	ok(d && d->inwaits && d->inwaits->stack && d->inwaits->stack->pid == 50,
	   "the stack of the wait in progress is kept");
	stop();
}

int main(void)
{
	test_bounded();
	test_grace_bounded();
	test_ring();
	test_lineage();
	test_pinned_and_command();
	test_locks_forgotten();
	test_stacks_forgotten();
	test_reports_stream();
	test_zombie_set();
	test_deep_tree_text();
	return tap_done();
}
