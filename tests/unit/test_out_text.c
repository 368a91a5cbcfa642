// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The text report's view of real-program shapes, from scripted events: a
 * wrapper chain before the program, 2,000 failing helpers, a pool of alike
 * children, argv shown in a width, Python roles, --findings-only, -n,
 * --from-exec, -e.
 */
#include <stddef.h>
#include <string.h>
#include "analyze.h"
#include "event.h"
#include "out_text.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define SELF 1
#define ROOT 100

static void put(struct ptree *pt, void *ev, uint32_t type, uint32_t size, uint64_t ms, uint32_t pid)
{
	struct mpt_hdr *h = ev;
	const char *why;

	h->type = type;
	h->size = size;
	h->ts = T0 + ms * MS;
	h->pid = h->tid = pid;
	h->start = pid;
	if (!event_validate(ev, size, &why))
		ptree_feed(pt, ev, NULL);
}

static void spawn(struct ptree *pt, uint64_t ms, uint32_t ppid, uint32_t pid)
{
	struct mpt_fork e = { 0 };

	e.ppid = e.ptid = e.pstart = ppid;
	strcpy(e.comm, "sh");
	put(pt, &e, MPT_EV_FORK, sizeof(e), ms, pid);
}

/* args: NUL-separated, alen bytes */
static void run(struct ptree *pt, uint64_t ms, uint32_t pid, const char *file, const char *args,
		size_t alen)
{
	struct mpt_exec e = { 0 };
	size_t fl = strlen(file) + 1;

	e.old_pid = pid;
	e.fname_len = fl;
	e.args_len = alen;
	memcpy(e.data, file, fl);
	memcpy(e.data + fl, args, alen);
	snprintf(e.comm, sizeof(e.comm), "%s", strrchr(file, '/') + 1);
	put(pt, &e, MPT_EV_EXEC, (offsetof(struct mpt_exec, data) + fl + alen + 7) & ~7ul, ms, pid);
}

#define RUN(pt, ms, pid, file, args) run(pt, ms, pid, file, args, sizeof(args) - 1)

/* exits with `code` at ms and is reaped by ppid right away */
static void done(struct ptree *pt, uint64_t ms, uint32_t pid, uint32_t ppid, int code)
{
	struct mpt_exit x = { 0 };
	struct mpt_free f = { 0 };

	x.status = code << 8;
	x.ppid = ppid;
	x.reaper = 1;
	memcpy(x.comm, ptree_find(pt, pid)->comm, sizeof(x.comm) - 1);
	put(pt, &x, MPT_EV_EXIT, sizeof(x), ms, pid);
	/* the kernel's release, a grace period later, and the parent's wait
	 * that reaped it at ms */
	f.reaper = ppid;
	f.nwps = 1;
	f.wps[0].ts = T0 + ms * MS;
	put(pt, &f, MPT_EV_FREE, sizeof(f), ms + 15, pid);
}

static void end(struct ptree *pt, uint64_t ms)
{
	struct mpt_end e = { 0 };

	put(pt, &e, MPT_EV_END, sizeof(e), ms, 0);
}

static struct ptree *mk(void)
{
	static char *argv[] = { "python3", "examples/python/pool.py", NULL };
	struct pt_meta m = { .mode = PT_MODE_COMMAND, .argv = argv, .t0 = T0, .self_pid = SELF,
			     .root_pid = ROOT };

	return ptree_new(&m);
}

static char *report(struct ptree *pt, const struct text_style *st)
{
	struct an_opts o = { .zombie_threshold_ns = 1000 * MS, .check = AN_CHECK_DEFAULT };
	struct an_result r;
	struct sbuf b = { 0 };

	analyze(pt, &o, pt->end_ts, &r);
	text_report(&b, st, pt, &r, &o);
	an_result_free(&r);
	return b.s;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* A pyenv-like shim: 10 readlink helpers, then exec python3 pool.py with 4 workers. */
static struct ptree *wrapped(void)
{
	struct ptree *pt = mk();

	RUN(pt, 1, ROOT, "/bin/bash", "bash\0/root/.pyenv/shims/python3\0examples/python/pool.py\0");
	for (uint32_t i = 0; i < 10; i++) {
		spawn(pt, 2 + 2 * i, ROOT, 200 + i);
		RUN(pt, 2 + 2 * i, 200 + i, "/usr/bin/readlink", "readlink\0-f\0x\0");
		done(pt, 3 + 2 * i, 200 + i, ROOT, 0);
	}
	/* a subshell of the wrapper: a fork without exec, over before the exec */
	spawn(pt, 24, ROOT, 250);
	done(pt, 25, 250, ROOT, 0);
	RUN(pt, 30, ROOT, "/usr/bin/python3", "python3\0examples/python/pool.py\0");
	for (uint32_t i = 0; i < 4; i++)
		spawn(pt, 40 + i, ROOT, 300 + i);
	/* 2 short workers of the program: forks without exec, its own */
	spawn(pt, 50, ROOT, 310);
	spawn(pt, 50, ROOT, 311);
	done(pt, 55, 310, ROOT, 0);
	done(pt, 55, 311, ROOT, 0);
	for (uint32_t i = 0; i < 4; i++)
		done(pt, 900 + i, 300 + i, ROOT, 0);
	done(pt, 1000, ROOT, SELF, 0);
	end(pt, 1001);
	return pt;
}

static void test_wrapper_chain(void)
{
	struct ptree *pt = wrapped();
	struct text_style st = { .utf8 = true };
	char *s = report(pt, &st);
	const char *fold = strstr(s, "… 11 short-lived helpers: readlink ×10, sh ×1");


	ok(fold, "the 10 helpers and the wrapper's subshell are one line");
	ok(strstr(s, "python3[100] python3 examples/python/pool.py "), "the root shows the script");
	is_int(count(s, "(fork of 100)"), 6, "the workers, short ones too, say whose fork they are");
	ok(fold && strstr(s, "[303]") && strstr(s, "[303]") < fold,
	   "the program's processes come before the folded helpers");
	is_int(count(s, "readlink["), 0, "no helper has a line of its own");
	ok(s[0] == '\n', "the report is set apart from the stream by an empty line");
	free(s);
	st.no_fold = true;
	s = report(pt, &st);
	is_int(count(s, "readlink["), 10, "--no-fold: every helper has its line");
	ok(!strstr(s, "short-lived"), "--no-fold: nothing folded");
	free(s);
	st.no_fold = false;
	st.from_exec = "pool.py";
	s = report(pt, &st);
	ok(!strstr(s, "readlink") && !strstr(s, "short-lived"),
	   "--from-exec: the wrappers' helpers are out of the view");
	is_int(count(s, "(fork of 100)"), 6, "--from-exec: the program's children stay");
	ok(strstr(s, "18 processes"), "--from-exec: the summary still counts the wrappers");
	free(s);
	st.from_exec = NULL;
	st.comm = "readlink";
	st.no_fold = true;
	s = report(pt, &st);
	is_int(count(s, "readlink["), 10, "-n readlink: each matching process is a tree");
	ok(!strstr(s, "python3[30"), "-n readlink: nothing else");
	free(s);
	st = (struct text_style){ .no_lead = true, .findings_only = true };
	s = report(pt, &st);
	ok(!strncmp(s, "18 processes", 12), "--findings-only -q: the summary is the first line");
	ok(!strstr(s, "python3["), "--findings-only: no tree");
	free(s);
	ptree_free(pt);
}

static void test_failing_helpers(void)
{
	struct ptree *pt = mk();
	struct text_style st = { .utf8 = false };
	char *s;

	RUN(pt, 1, ROOT, "/bin/sh", "sh\0-c\0loop\0");
	for (uint32_t i = 0; i < 2000; i++) {
		spawn(pt, 2 + i, ROOT, 1000 + i);
		RUN(pt, 2 + i, 1000 + i, "/bin/false", "false\0");
		done(pt, 2 + i, 1000 + i, ROOT, 1);
	}
	done(pt, 2003, ROOT, SELF, 1);
	end(pt, 2004);
	s = report(pt, &st);
	ok(strstr(s, "`- ... 2000 short-lived helpers: false x2000 (2000 exited non-zero)\n"),
	   "2,000 runs of /bin/false are one line that says they failed");
	is_int(count(s, "\n"), 7, "the whole report is 7 lines, 3 of them empty");
	free(s);
	ptree_free(pt);
}

static void test_alike_children(void)
{
	struct ptree *pt = mk();
	struct text_style st = { .utf8 = true };
	char *s;

	RUN(pt, 1, ROOT, "/usr/bin/python3", "python3\0t.py\0");
	for (uint32_t i = 0; i < 20; i++)
		spawn(pt, 2, ROOT, 400 + i);
	for (uint32_t i = 0; i < 20; i++)
		done(pt, 900, 400 + i, ROOT, 7);
	done(pt, 1000, ROOT, SELF, 0);
	end(pt, 1001);
	s = report(pt, &st);
	is_int(count(s, "exit 7"), 3, "3 long-lived children that exited 7 are shown");
	ok(strstr(s, "… 17 more children that exited and were reaped: sh ×17 (17 exited non-zero)"),
	   "the other 17 are counted in one line");
	free(s);
	ptree_free(pt);
}

static void argv_is(char **argv, size_t width, const char *want, const char *what)
{
	struct sbuf b = { 0 };

	text_argv(&b, argv, width, true, true);
	ok(b.s && !strcmp(b.s, want), "%s", what);
	if (!b.s || strcmp(b.s, want))
		printf("#   got '%s', want '%s'\n", b.s ? b.s : "", want);
	sb_free(&b);
}

static void test_argv(void)
{
	char *py[] = { "/usr/local/bin/python3", "-B", "examples/python/zombie.py", "--children", "8",
		       "--sleep", "100", NULL };
	char *mod[] = { "python3", "-m", "pytest", "-x", "tests/test_a.py", "tests/test_b.py",
			"tests/test_c.py", NULL };
	char *c[] = { "python3", "-c", "from multiprocessing.resource_tracker import main;main(5)",
		      NULL };
	char *plain[] = { "/bin/sleep", "1", NULL };
	char *longpath[] = { "/usr/bin/python3", "/tmp/zz.abcdefghij/mptrace-long-path-here/examples/python/pool.py",
			     "-w", "3", NULL };

	argv_is(plain, 60, "sleep 1", "argv[0] is shown by its basename");
	argv_is(py, 0, "python3 -B examples/python/zombie.py --children 8 --sleep 100",
		"width 0: all of it");
	argv_is(py, 52, "python3 -B examples/python/zombie.py … --sleep 100",
		"the script survives; the middle is elided");
	argv_is(mod, 40, "python3 -m pytest … tests/test_c.py", "-m module survives");
	argv_is(c, 40, "python3 -c 'from multiprocessing.reso…", "-c code is cut at the end");
	argv_is(longpath, 40, "python3 …e/examples/python/pool.py …",
		"a long script path keeps the program and the script's file name");
}

static void test_roles_and_events(void)
{
	struct ptree *pt = mk();
	struct text_style st = { .events = TE_EXIT };
	struct sbuf b = { 0 };
	struct pt_change chg = { 0 };
	struct mpt_exec e = { 0 };
	const char *bad = NULL;

	RUN(pt, 1, ROOT, "/usr/bin/python3",
	    "python3\0-c\0from multiprocessing.resource_tracker import main;main(5)\0");
	ok(text_role(pt->root) && !strcmp(text_role(pt->root), "resource_tracker"),
	   "resource_tracker from argv");
	RUN(pt, 2, ROOT, "/usr/bin/python3",
	    "python3\0-c\0from multiprocessing.spawn import spawn_main\0--multiprocessing-fork\0");
	ok(text_role(pt->root) && !strcmp(text_role(pt->root), "spawn child"), "spawn child");
	RUN(pt, 3, ROOT, "/usr/bin/python3", "python3\0x.py\0");
	ok(!text_role(pt->root), "a plain script has no role");
	e.h.type = MPT_EV_EXEC;
	chg.proc = pt->root;
	text_event(&b, &st, pt, &e.h, &chg);
	is_int(b.len, 0, "-e exit: an exec line is not shown");
	is_int(text_parse_events("exec,exit,lock", &bad), TE_EXEC | TE_EXIT | TE_LOCK,
	       "-e parses a list");
	ok(text_parse_events("exec,bogus", &bad) < 0 && !strcmp(bad, "bogus"),
	   "-e names the unknown word");
	sb_free(&b);
	ptree_free(pt);
}

/* -a and -p snapshot kernel threads: an empty argv (none at all) */
static void test_empty_argv(void)
{
	struct pt_meta m = { .mode = PT_MODE_SYSTEM, .t0 = T0, .self_pid = SELF };
	struct ptree *pt = ptree_new(&m);
	struct text_style st = { 0 };
	struct mpt_proc e = { 0 };
	char *out;

	e.ppid = 2;
	e.nthreads = 1;
	strcpy(e.comm, "kworker/0:1");
	put(pt, &e, MPT_EV_PROC, sizeof(e), 0, 77);
	ok(ptree_find(pt, 77) && ptree_find(pt, 77)->argv && !ptree_find(pt, 77)->argv[0],
	   "a kernel thread's argv is empty");
	ok(!text_role(ptree_find(pt, 77)), "no role, and no read past the empty argv");
	end(pt, 10);
	out = report(pt, &st);
	ok(out && strstr(out, "kworker/0:1[77]"), "the tree shows it by its comm");
	free(out);
	ptree_free(pt);
}

int main(void)
{
	test_wrapper_chain();
	test_failing_helpers();
	test_alike_children();
	test_argv();
	test_roles_and_events();
	test_empty_argv();
	return tap_done();
}
