// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The live view's rows without a terminal: a scripted model, then the rows
 * a frame would show (order, tree lines, states, flags, filters, collapse,
 * lingering reaped processes), the row text, highlights and rates.
 */
#include <stdlib.h>
#include <string.h>
#include "analyze.h"
#include "event.h"
#include "forget.h"
#include "ptree.h"
#include "tui_rows.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define SELF 1
#define ROOT 100
#define AT(ms) (T0 + (ms) * MS)

static struct an_opts an = { .zombie_threshold_ns = 1000 * MS };

static struct ptree *mk(enum pt_mode mode)
{
	char *argv[] = { "sh", "-c", "x", NULL };
	struct pt_meta m = { .mode = mode, .argv = argv, .t0 = T0, .self_pid = SELF,
			     .root_pid = ROOT };

	return ptree_new(&m);
}

static void feed(struct ptree *pt, void *ev)
{
	const struct mpt_hdr *h = ev;
	const char *why;

	if (event_validate(ev, h->size, &why) || ptree_feed(pt, ev, NULL))
		printf("# event of type %u not taken\n", h->type);
}

static void hdr(struct mpt_hdr *h, uint32_t type, uint32_t size, uint64_t ms, uint32_t pid)
{
	h->type = type;
	h->size = size;
	h->ts = AT(ms);
	h->pid = pid;
	h->tid = pid;
	h->start = pid;
}

static void fork_(struct ptree *pt, uint64_t ms, uint32_t ppid, uint32_t pid)
{
	struct mpt_fork e = { 0 };

	hdr(&e.h, MPT_EV_FORK, sizeof(e), ms, pid);
	e.ppid = ppid;
	e.ptid = ppid;
	e.pstart = ppid;
	strcpy(e.comm, "child");
	feed(pt, &e);
}

static void exec_(struct ptree *pt, uint64_t ms, uint32_t pid, const char *file, const char *args,
		  size_t alen)
{
	struct mpt_exec e = { 0 };
	size_t fl = strlen(file) + 1;

	hdr(&e.h, MPT_EV_EXEC, 0, ms, pid);
	e.old_pid = pid;
	e.fname_len = fl;
	e.args_len = alen;
	memcpy(e.data, file, fl);
	memcpy(e.data + fl, args, alen);
	strncpy(e.comm, base_name(file), sizeof(e.comm) - 1);
	e.h.size = (offsetof(struct mpt_exec, data) + fl + alen + 7) & ~7ul;
	feed(pt, &e);
}

static void exit_(struct ptree *pt, uint64_t ms, uint32_t pid, uint32_t status, uint32_t ppid)
{
	struct mpt_exit e = { 0 };

	hdr(&e.h, MPT_EV_EXIT, sizeof(e), ms, pid);
	e.status = status;
	e.ppid = ppid;
	e.reaper = SELF;
	strcpy(e.comm, "x");
	feed(pt, &e);
}

static void wait_(struct ptree *pt, uint64_t ms, uint32_t waiter, uint32_t reaped)
{
	struct mpt_wait e = { 0 };

	struct pt_proc *c = reaped ? ptree_find(pt, reaped) : NULL;
	struct mpt_free r = { 0 };

	hdr(&e.h, MPT_EV_WAIT, sizeof(e), ms, waiter);
	e.start_ts = AT(ms);
	e.waker = reaped;
	e.target = -1;
	feed(pt, &e);
	if (!c || c->state != PT_ZOMBIE)
		return;
	/* the kernel's release of the zombie, with the wait as its reap */
	hdr(&r.h, MPT_EV_FREE, sizeof(r), ms, reaped);
	r.reaper = waiter;
	r.nwps = 1;
	r.wps[0].ts = AT(ms);
	feed(pt, &r);
}

static void lock_(struct ptree *pt, uint64_t ms, uint32_t pid, uint64_t wait_ms)
{
	struct mpt_lock e = { 0 };

	hdr(&e.h, MPT_EV_LOCK, sizeof(e), ms, pid);
	e.start_ts = e.h.ts - wait_ms * MS;
	e.kind = MPT_LOCK_FLOCK;
	e.dev = 7;
	e.ino = 42;
	strcpy(e.comps[0], "tickets");
	feed(pt, &e);
}

static void lock_begin_(struct ptree *pt, uint64_t ms, uint32_t pid)
{
	struct mpt_lock_begin e = { 0 };

	hdr(&e.h, MPT_EV_LOCK_BEGIN, sizeof(e), ms, pid);
	e.kind = MPT_LOCK_FLOCK;
	e.dev = 7;
	e.ino = 42;
	feed(pt, &e);
}

static void wait_begin_(struct ptree *pt, uint64_t ms, uint32_t pid)
{
	struct mpt_wait_begin e = { 0 };

	hdr(&e.h, MPT_EV_WAIT_BEGIN, sizeof(e), ms, pid);
	e.target = -1;
	feed(pt, &e);
}

static void proc_(struct ptree *pt, uint32_t pid, uint32_t ppid, const char *comm, const char *args,
		  size_t alen)
{
	struct mpt_proc e = { 0 };

	hdr(&e.h, MPT_EV_PROC, sizeof(e), 0, pid);
	e.h.start = 0;
	e.ppid = ppid;
	e.nthreads = 1;
	e.args_len = alen;
	memcpy(e.args, args, alen);
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	feed(pt, &e);
}

struct fixture {
	struct ptree *pt;
	struct tr_ann ann[64];
	struct tr_rows rows;
	struct tr_view v;
	struct sbuf b;
};

/* root 100 (sh -c x) -> 101 (worker -n 1) -> 103 (sleep 5); 100 -> 102 (exits at 50 ms) */
static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->pt = mk(PT_MODE_COMMAND);
	fork_(f->pt, 1, ROOT, 101);
	exec_(f->pt, 2, 101, "/usr/bin/worker", "worker\0-n\0" "1\0", 12);
	fork_(f->pt, 3, ROOT, 102);
	fork_(f->pt, 4, 101, 103);
	exec_(f->pt, 5, 103, "/bin/sleep", "sleep\0" "5\0", 8);
	lock_(f->pt, 40, 103, 30);
	exit_(f->pt, 50, 102, 0, ROOT);
	f->v = (struct tr_view){ .now = AT(60), .linger_ns = 3000 * MS, .hl_ns = 1000 * MS,
				 .utf8 = true, .an = &an };
}

static void teardown(struct fixture *f)
{
	tr_rows_free(&f->rows);
	sb_free(&f->b);
	ptree_free(f->pt);
}

static const char *row_text(struct fixture *f, size_t i, int width)
{
	f->b.len = 0;
	tr_format_row(&f->b, f->pt, &f->rows.v[i], &f->v, width);
	return f->b.s;
}

static bool pids_are(const struct tr_rows *r, const uint32_t *want, size_t n)
{
	if (r->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (r->v[i].p->pid != want[i])
			return false;
	return true;
}

/* The command column begins after the fixed columns and their spaces. */
#define CMD_COL (TR_W_PID + TR_W_STATE + TR_W_TIME + TR_W_EXIT + TR_W_LOCK + TR_W_FLAGS + 6)

static void test_durations(void)
{
	char b[32];

	ok(!strcmp(tr_dur(b, sizeof(b), 0), "0us"), "0 is 0us");
	ok(!strcmp(tr_dur(b, sizeof(b), 850000), "850us"), "microseconds");
	ok(!strcmp(tr_dur(b, sizeof(b), 12 * MS + 900000), "12ms"), "milliseconds, truncated");
	ok(!strcmp(tr_dur(b, sizeof(b), 1259 * MS), "1.25s"), "seconds with two decimals under 10 s");
	ok(!strcmp(tr_dur(b, sizeof(b), 12590 * MS), "12.5s"), "one decimal under a minute");
	ok(!strcmp(tr_dur(b, sizeof(b), 185000 * MS), "3m05s"), "minutes");
	ok(!strcmp(tr_dur(b, sizeof(b), 7800000 * MS), "2h10m"), "hours");
	ok(!strcmp(tr_dur(b, sizeof(b), 356400000 * MS), "4d03h"), "days");
	ok(strlen(tr_dur(b, sizeof(b), 9999 * MS)) <= TR_W_TIME, "fits the TIME column");
}

static void test_tree_shape(void)
{
	struct fixture f;
	const uint32_t order[] = { ROOT, 101, 103, 102 };
	const char *s;

	setup(&f);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, order, 4), "preorder: parent, its children in fork order");
	is_int(f.rows.v[0].depth, 0, "the command at depth 0");
	is_int(f.rows.v[2].depth, 2, "grandchild at depth 2");
	ok(!f.rows.v[1].last && f.rows.v[2].last && f.rows.v[3].last, "last children marked");
	ok(f.rows.v[0].has_children && !f.rows.v[2].has_children, "who has children");
	s = row_text(&f, 2, 120);
	ok(!strncmp(s + CMD_COL, "\u2502  \u2514\u2500 sleep 5", 16), "grandchild: bar under a parent that goes on, then a corner");
	is_int(tr_columns(s, strlen(s)), 120, "a row is exactly the width");
	s = row_text(&f, 1, 120);
	ok(!strncmp(s + CMD_COL, "\u251c\u2500 worker -n 1", 18), "child: tee and its argv");
	s = row_text(&f, 0, 120);
	ok(!strncmp(s + CMD_COL, "sh -c x", 7), "root: no tree line");
	f.v.utf8 = false;
	s = row_text(&f, 2, 120);
	ok(!strncmp(s + CMD_COL, "|  `- sleep 5", 13), "ASCII tree lines without UTF-8");
	is_int(f.rows.tot.shown, 4, "totals: shown");
	is_int(f.rows.tot.live, 3, "totals: live");
	is_int(f.rows.tot.zombies, 1, "totals: zombies");
	teardown(&f);
}

static void test_states_and_columns(void)
{
	struct fixture f;
	const char *s;

	setup(&f);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	s = row_text(&f, 3, 120);
	ok(!strncmp(s, "    102 zombie       10ms 0   ", 30), "zombie: state, zombie time, exit code");
	s = row_text(&f, 1, 120);
	ok(!strncmp(s, "    101 running      59ms ", 26), "running: age");
	wait_begin_(f.pt, 52, 101);
	s = row_text(&f, 1, 120);
	ok(strstr(s, " join wait ") != NULL, "a wait4 in progress shows as join wait");
	lock_begin_(f.pt, 55, 101);
	s = row_text(&f, 1, 120);
	ok(strstr(s, " lock wait ") != NULL, "a lock wait in progress comes before a child wait");
	ok(strstr(s, "    5ms W") == NULL && strstr(s, "    5ms ") != NULL,
	   "the lock column counts the wait in progress");
	lock_(f.pt, 58, 101, 3);
	s = row_text(&f, 1, 120);
	ok(strstr(s, " join wait ") != NULL, "the lock wait's end record ends it");
	wait_(f.pt, 59, 101, 0);
	s = row_text(&f, 1, 120);
	ok(strstr(s, " running ") != NULL, "and the wait4's return the join wait");
	s = row_text(&f, 2, 120);
	ok(strstr(s, "   30ms W ") != NULL, "finished lock waits: total and the W flag");
	is_int(tr_state_of(f.rows.v[3].p), TR_ZOMBIE, "state of a zombie");
	/* past the threshold the zombie is flagged */
	f.v.now = AT(50 + 1001);
	s = row_text(&f, 3, 120);
	ok(strstr(s, " Z ") != NULL, "Z once the zombie time passes the threshold");
	ok(strstr(s, " 1.00s ") != NULL, "zombie time keeps growing");
	wait_(f.pt, 1100, ROOT, 102);
	f.v.now = AT(1200);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	s = row_text(&f, 3, 120);
	ok(!strncmp(s, "    102 reaped       47ms 0                Z  ", 46),
	   "reaped: lifetime, exit code, still flagged slow");
	exit_(f.pt, 1300, 103, 9, 101);
	f.v.now = AT(1400);
	s = row_text(&f, 2, 120);
	ok(strstr(s, " SIGKILL ") != NULL, "killed: the signal's name");
	teardown(&f);
}

static void test_kernel_state_lock_holder_fork(void)
{
	struct fixture f;
	const uint32_t one[] = { ROOT, 101, 103 };
	const char *s;
	struct mpt_lock_begin e = { 0 };

	setup(&f);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	f.rows.v[1].kstate = 'S';
	ok(strstr(row_text(&f, 1, 120), "    101 sleeping ") != NULL, "kernel S: sleeping");
	f.rows.v[1].kstate = 'D';
	ok(strstr(row_text(&f, 1, 120), " disk wait ") != NULL, "kernel D: disk wait");
	f.rows.v[1].kstate = 'T';
	ok(strstr(row_text(&f, 1, 120), " stopped ") != NULL, "kernel T: stopped");
	f.rows.v[1].kstate = 'R';
	ok(strstr(row_text(&f, 1, 120), " running ") != NULL, "kernel R: running");
	f.rows.v[3].kstate = 'S';
	ok(strstr(row_text(&f, 3, 120), " zombie ") != NULL, "the model's zombie wins");
	/* 103 waits on the flock that 101 holds */
	hdr(&e.h, MPT_EV_LOCK_BEGIN, sizeof(e), 55, 103);
	e.kind = MPT_LOCK_FLOCK;
	e.dev = 7;
	e.ino = 42;
	e.holder = 101;
	e.hkind = MPT_HOLDER_BLOCKER;
	feed(f.pt, &e);
	f.rows.v[2].kstate = 'S';
	s = row_text(&f, 2, 160);
	ok(strstr(s, " lock wait ") && strstr(s, "[waits flock tickets held by worker[101]] sleep 5"),
	   "a lock wait: its lock and holder in the row, before the command");
	f.b.len = 0;
	tr_format_detail(&f.b, f.pt, &f.rows.v[2], &f.v);
	ok(strstr(f.b.s, "\nwaits on flock ") && strstr(f.b.s, " held by worker[101] for 5ms"),
	   "and in the details");
	ok(strstr(f.b.s, "lock waits: 1, total 30.0 ms"), "the details count finished waits");
	/* a fork without exec says whose fork it is */
	s = row_text(&f, 3, 160);
	ok(strstr(s, "└─ x (fork of 100)") != NULL, "a fork that did not exec: (fork of PID)");
	f.v.filter = "103";
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, one, 3), "the filter takes a pid");
	teardown(&f);
}

static void test_linger(void)
{
	struct fixture f;
	const uint32_t all[] = { ROOT, 101, 103, 102 }, gone[] = { ROOT, 101, 103 };

	setup(&f);
	wait_(f.pt, 100, ROOT, 102);
	f.v.now = AT(100 + 2999);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, all, 4), "a reaped process stays for the linger time");
	f.v.now = AT(100 + 3000);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, gone, 3), "then it goes");
	ok(f.rows.v[1].last, "and its older sibling becomes the last child");
	/* a long-gone parent stays as context while a child lives on */
	exit_(f.pt, 4000, 101, 0, ROOT);
	wait_(f.pt, 4001, ROOT, 101);
	f.v.now = AT(9000);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, gone, 3), "a reaped parent of a running child stays");
	ok(f.rows.v[1].context && !f.rows.v[2].context, "as context");
	teardown(&f);
}

/*
 * mptrace top after a storm (issue 11): the view's model keeps FG_KEEP_VIEW
 * reaped processes past the view's grace, so once the storm has stopped
 * (the clock passes the grace with no event) a frame walks what is alive,
 * not the last thousand processes reaped.
 */
static void test_storm_then_idle(void)
{
	struct ptree *pt = mk(PT_MODE_SYSTEM);
	struct tr_rows rows = { 0 };
	struct tr_ann *ann;
	struct tr_view v = { .linger_ns = 5000 * MS, .hl_ns = 1500 * MS, .an = &an };
	const uint32_t n = 20000;
	size_t peak = 0;

	pt->fg = fg_new(FG_KEEP_VIEW, FG_RING, FG_LIVE_GRACE_NS);
	fork_(pt, 0, SELF, 50);
	for (uint32_t i = 0; i < n; i++) {
		fork_(pt, 1 + i, 50, 1000 + i);
		exit_(pt, 1 + i, 1000 + i, 0, 50);
		wait_(pt, 1 + i, 50, 1000 + i);
		fg_step(pt, &an, AT(1 + i), NULL, NULL);
		if (pt->nprocs > peak)
			peak = pt->nprocs;
	}
	ok(peak <= 2 + 6000 + FG_KEEP_VIEW, "during the storm: what is alive and the view's last "
	   "6 s of reaped processes (%zu at most)", peak);
	/* no event for 10 s: the live loop forgets by the clock */
	fg_step(pt, &an, AT(n + 10000), NULL, NULL);
	/* 64: a frame's walk is the live set and a screenful, not the
	 * 1,024 reaped processes the view once kept (issue 11's soak) */
	ok(pt->nprocs <= 2 + 64, "10 s after it, %zu processes kept: the 2 alive and at most 64 "
	   "reaped", pt->nprocs);
	ann = xcalloc(pt->nprocs, sizeof(*ann));
	v.now = AT(n + 10000);
	tr_build(&rows, pt, ann, &v);
	is_int(rows.n, 2, "a frame shows the 2 alive");
	is_int(rows.tot.procs, n + 2, "and counts every process seen");
	tr_rows_free(&rows);
	free(ann);
	fg_free(pt->fg);
	ptree_free(pt);
}

static void test_filters(void)
{
	struct fixture f;
	const uint32_t worker[] = { ROOT, 101 }, flagged[] = { ROOT, 101, 103 };

	setup(&f);
	f.v.filter = "WORK";
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, worker, 2), "filter: matches and their ancestors");
	ok(f.rows.v[0].context && !f.rows.v[1].context, "the ancestor is context");
	ok(f.rows.v[1].last, "tree lines follow the shown rows");
	f.v.filter = "Sleep 5";
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	is_int(f.rows.n, 3, "the filter spans arguments, case-insensitively");
	f.v.filter = "nothing-like-this";
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	is_int(f.rows.n, 0, "a filter that matches nothing shows nothing");
	f.v.filter = NULL;
	f.v.findings_only = true;
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, flagged, 3), "findings only: the lock waiter and its ancestors");
	is_int(f.rows.tot.findings, 1, "one process with findings");
	teardown(&f);
}

static void test_collapse(void)
{
	struct fixture f;
	const uint32_t folded[] = { ROOT, 101, 102 };
	const char *s;

	setup(&f);
	f.ann[1].collapsed = true;	/* 101 */
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	ok(pids_are(&f.rows, folded, 3), "a collapsed process hides its subtree");
	is_int(f.rows.v[1].folded, 1, "and counts what it hides");
	s = row_text(&f, 1, 120);
	ok(strstr(s, "[+1] worker") != NULL, "the row says how many are folded");
	is_int(tr_find(&f.rows, 3), 2, "tr_find by id");
	is_int(tr_find(&f.rows, 4), -1, "tr_find of a hidden row");
	teardown(&f);
}

static void test_orphans_and_leaks(void)
{
	struct fixture f;
	const char *s;

	setup(&f);
	exit_(f.pt, 70, ROOT, 0, SELF);
	f.v.now = AT(80);
	tr_build(&f.rows, f.pt, f.ann, &f.v);
	s = row_text(&f, 1, 120);
	ok(strstr(s, " OL ") != NULL, "a child left running by the command: orphan and leak");
	is_int(f.rows.tot.orphans, 1, "one running orphan (the zombie is not one)");
	f.b.len = 0;
	tr_format_totals(&f.b, &f.rows.tot, &(struct tr_rates){ 0 }, 7, f.v.now, 200);
	ok(!strncmp(f.b.s, "live 2  zombies 2  orphans 1  findings ", 39), "totals line");
	ok(strstr(f.b.s, "lost 7") != NULL, "lost records in the totals");
	teardown(&f);
}

static void test_deadlock_flag(void)
{
	struct fixture f;
	struct mpt_deadlock e = { 0 };

	setup(&f);
	lock_begin_(f.pt, 60, 101);
	lock_begin_(f.pt, 61, 103);
	hdr(&e.h, MPT_EV_DEADLOCK, sizeof(e), 1100, 0);
	e.h.start = 0;
	e.n = 2;
	e.m[0] = (struct mpt_dl_member){ .pid = 101, .kind = MPT_LOCK_FLOCK, .start = 101,
					 .dev = 7, .ino = 42, .since = AT(60) };
	e.m[1] = (struct mpt_dl_member){ .pid = 103, .kind = MPT_LOCK_FLOCK, .start = 103,
					 .dev = 7, .ino = 42, .since = AT(61) };
	feed(f.pt, &e);
	f.v.now = AT(1200);
	ok(tr_flags(f.pt, ptree_find(f.pt, 101), &an, f.v.now) & TR_F_DEADLOCK, "D: a cycle member");
	ok(!(tr_flags(f.pt, ptree_find(f.pt, ROOT), &an, f.v.now) & TR_F_DEADLOCK), "not its parent");
	teardown(&f);
}

static void test_snapshot_rows(void)
{
	struct ptree *pt = mk(PT_MODE_SYSTEM);
	struct tr_ann ann[8] = { 0 };
	struct tr_rows rows = { 0 };
	struct tr_view v = { .now = AT(10), .linger_ns = 1, .an = &an };
	struct sbuf b = { 0 };

	proc_(pt, 1, 0, "init", "/sbin/init\0", 11);
	proc_(pt, 2, 0, "kthreadd", "", 0);
	proc_(pt, 50, 1, "getty", "getty\0tty1\0", 11);
	fork_(pt, 5, 50, 60);
	tr_build(&rows, pt, ann, &v);
	is_int(rows.n, 4, "system: two roots and their children");
	ok(rows.v[0].p->pid == 1 && rows.v[1].p->pid == 50 && rows.v[2].p->pid == 60 &&
	   rows.v[3].p->pid == 2, "roots in order, each with its subtree");
	tr_format_row(&b, pt, &rows.v[3], &v, 80);
	ok(strstr(b.s, "[kthreadd]") != NULL, "no argv: the name in brackets");
	ok(!strncmp(b.s, "      2 running         ", 24), "a snapshot process has no known age");
	{
		/* a zombie already when tracing began (state Z in /proc) */
		struct mpt_proc z = { 0 };

		hdr(&z.h, MPT_EV_PROC, sizeof(z), 0, 70);
		z.h.start = 0;
		z.ppid = 50;
		z.nthreads = 1;
		z.flags = MPT_PROC_ZOMBIE;
		z.status = 3 << 8;
		strcpy(z.comm, "defunct");
		feed(pt, &z);
	}
	tr_build(&rows, pt, ann, &v);
	is_int(rows.tot.zombies, 1, "a zombie from the snapshot counts as a zombie");
	b.len = 0;
	tr_format_row(&b, pt, &rows.v[tr_find(&rows, ptree_find(pt, 70)->id)], &v, 80);
	ok(!strncmp(b.s, "     70 zombie ", 15) && strstr(b.s, " 3 "), "and shows as one, with its exit code");
	tr_rows_free(&rows);
	sb_free(&b);
	ptree_free(pt);
}

static void test_highlights(void)
{
	struct tr_ann a = { 0 };
	struct tr_view v = { .now = AT(0), .hl_ns = 500 * MS };

	is_int(tr_note(&a, TR_RUNNING, &v), TR_HL_NONE, "first sight: no highlight by itself");
	v.now = AT(100);
	is_int(tr_note(&a, TR_LOCK_WAIT, &v), TR_HL_CHANGE, "a new state: change highlight");
	v.now = AT(599);
	is_int(tr_note(&a, TR_LOCK_WAIT, &v), TR_HL_CHANGE, "lasts hl_ns");
	v.now = AT(600);
	is_int(tr_note(&a, TR_LOCK_WAIT, &v), TR_HL_NONE, "then ends");
	tr_highlight(&a, TR_HL_NEW, AT(700), &v);
	tr_highlight(&a, TR_HL_CHANGE, AT(710), &v);
	v.now = AT(720);
	is_int(tr_note(&a, TR_LOCK_WAIT, &v), TR_HL_NEW, "a new process stays new through an exec");
	v.now = AT(1300);
	is_int(tr_note(&a, TR_LOCK_WAIT, &v), TR_HL_NONE, "new ends too");
}

static void test_rates(void)
{
	struct tr_rates r = { 0 };

	for (int i = 0; i < 5; i++)
		tr_rate_add(&r, TR_R_FORK, AT(10 + i));
	tr_rate_add(&r, TR_R_EXIT, AT(20));
	ok(tr_rate_get(&r, TR_R_FORK, AT(50)) == 0, "the current bucket is not counted yet");
	ok(tr_rate_get(&r, TR_R_FORK, AT(150)) == 5, "five forks in the last second");
	ok(tr_rate_get(&r, TR_R_EXIT, AT(150)) == 1, "rates per kind");
	ok(tr_rate_get(&r, TR_R_FORK, AT(1099)) == 5, "still in the window");
	ok(tr_rate_get(&r, TR_R_FORK, AT(1100)) == 0, "out of the window");
	tr_rate_add(&r, TR_R_FORK, AT(2010));
	tr_rate_add(&r, TR_R_FORK, AT(15));
	ok(tr_rate_get(&r, TR_R_FORK, AT(2100)) == 1, "a slot is reused, a late old event dropped");
}

static void test_fit(void)
{
	struct sbuf b = { 0 };

	sb_puts(&b, "ab\u2502cd");
	tr_fit(&b, 0, 3);
	ok(!strcmp(b.s, "ab\u2502"), "cut after a multibyte character");
	tr_fit(&b, 0, 5);
	ok(!strcmp(b.s, "ab\u2502  "), "padded to the width");
	b.len = 0;
	tr_format_titles(&b, 60);
	ok(!strncmp(b.s, "    PID STATE        TIME EXIT      LOCKED FLAG  COMMAND", 54), "titles line");
	is_int(strlen(b.s), 60, "titles fit the width");
	sb_free(&b);
}

int main(void)
{
	test_durations();
	test_tree_shape();
	test_states_and_columns();
	test_kernel_state_lock_holder_fork();
	test_linger();
	test_storm_then_idle();
	test_filters();
	test_collapse();
	test_orphans_and_leaks();
	test_deadlock_flag();
	test_snapshot_rows();
	test_highlights();
	test_rates();
	test_fit();
	return tap_done();
}
