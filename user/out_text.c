// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "event.h"
#include "forget.h"
#include "out_text.h"

static const char *st_arrow(void)
{
	return "\\_";
}

#define TREE_ARGV 60	/* argv bytes in a tree line, unless -s */
#define STREAM_ARGV 200	/* ... in a stream line */
#define STACK_FRAMES 4	/* frames of a lock wait's stack in a line */
#define STACK_INDENT 14	/* a stack line under its stream line */

#define C_RESET "\033[0m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_MAGENTA "\033[35m"
#define C_CYAN "\033[36m"

static void col(struct sbuf *b, const struct text_style *st, const char *c)
{
	if (st->color)
		sb_puts(b, c);
}

static void name(struct sbuf *b, const struct pt_proc *p)
{
	sb_put_printable(b, p->comm, strlen(p->comm));
	sb_printf(b, "[%u]", p->pid);
}

/* The role a Python multiprocessing helper plays, from its argv. */
const char *text_role(const struct pt_proc *p)
{
	static const struct { const char *needle, *role; } roles[] = {
		{ "multiprocessing.resource_tracker", "resource_tracker" },
		{ "multiprocessing.forkserver", "forkserver" },
		{ "multiprocessing.spawn", "spawn child" },
		{ "multiprocessing.popen_spawn", "spawn child" },
	};

	/* (a kernel thread from the /proc snapshot has an empty argv) */
	if (!p->argv_owned || !p->argv || !p->argv[0])
		return NULL;
	for (int i = 1; p->argv[i]; i++) {
		if (!strcmp(p->argv[i], "--multiprocessing-fork"))
			return "spawn child";
		if (strcmp(p->argv[i - 1], "-c"))
			continue;
		for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
			if (strstr(p->argv[i], roles[k].needle))
				return roles[k].role;
	}
	return NULL;
}

/* Where the words that say what runs end: after the script, `-m module`
 * or `-c code` of an interpreter, else after the first argument. */
static int key_words(char **argv)
{
	for (int i = 1; argv[i]; i++) {
		if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "-c")) && argv[i + 1])
			return i + 2;
		if (argv[i][0] != '-')
			return i + 1;
	}
	return argv[1] ? 2 : 1;
}

static void words(struct sbuf *b, char **argv, int from, int to, bool base0)
{
	for (int i = from; argv[i] && (to < 0 || i < to); i++) {
		if (b->len)
			sb_putc(b, ' ');
		sb_put_shell_word(b, i || !base0 ? argv[i] : base_name(argv[i]));
	}
}

/* A cut that does not split a UTF-8 sequence. */
static size_t char_start(const char *s, size_t at)
{
	while (at && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

/* The program and its script alone are wider than the line. A script is
 * known by its file name, at its end: keep the program's name and the end of
 * the script's path, elide the middle. `-c code` and the rest are known by
 * their start: cut their end. */
static void head_cut(struct sbuf *b, const struct sbuf *head, char **argv, int k,
		     size_t width, bool more, const char *dots)
{
	size_t first = strcspn(head->s, " "), room;
	bool script = k >= 2 && argv[k - 1][0] != '-' && strcmp(argv[k - 2], "-c") &&
		      strcmp(argv[k - 2], "-m");

	room = width > first + 4 + (more ? 4 : 0) ? width - first - 4 - (more ? 4 : 0) : 0;
	if (!script || first == head->len || room < 8) {
		sb_printf(b, "%.*s", (int)char_start(head->s, width > 3 ? width - 3 : width), head->s);
		sb_puts(b, dots);
		return;
	}
	sb_printf(b, "%.*s ", (int)first, head->s);
	sb_puts(b, dots);
	sb_puts(b, head->s + char_start(head->s, head->len - room));
	if (more) {
		sb_putc(b, ' ');
		sb_puts(b, dots);
	}
}

void text_argv(struct sbuf *b, char **argv, size_t width, bool base0, bool utf8)
{
	const char *dots = utf8 ? "…" : "...";
	struct sbuf head = { 0 }, tail = { 0 };
	const char *cut;
	size_t room;
	int k;

	if (!argv || !argv[0])
		return;
	k = key_words(argv);
	words(&head, argv, 0, k, base0);
	words(&tail, argv, k, -1, base0);
	if (!width || head.len + 1 + tail.len <= width || (!tail.len && head.len <= width)) {
		sb_puts(b, head.s);
		if (tail.len) {
			sb_putc(b, ' ');
			sb_puts(b, tail.s);
		}
	} else if (head.len + 8 > width) {
		head_cut(b, &head, argv, k, width, tail.len > 0, dots);
	} else {
		/* elide the middle: the start says what runs, the end its last words */
		room = width - head.len - 5;
		sb_puts(b, head.s);
		sb_puts(b, " ");
		sb_puts(b, dots);
		sb_puts(b, " ");
		cut = tail.s + char_start(tail.s, tail.len - room);
		if (cut[-1] != ' ' && strchr(cut, ' '))
			cut = strchr(cut, ' ') + 1;	/* whole words */
		sb_puts(b, cut);
	}
	sb_free(&head);
	sb_free(&tail);
}

void text_fate(struct sbuf *b, const struct pt_proc *p)
{
	if (!p->exited)
		sb_puts(b, p->gone ? "gone (its exit record was lost)" : "running");
	else if (pt_signaled(p))
		sb_printf(b, "killed by %s%s", signal_name(pt_term_sig(p)),
			  pt_core(p) ? " (core dumped)" : "");
	else
		sb_printf(b, "exit %d", pt_exit_code(p));
	if (p->exited && p->gone)
		sb_puts(b, "; gone (its release record was lost)");
}

void text_sig_from(struct sbuf *b, const struct ptree *pt, uint32_t cause, uint32_t sender,
		   const char *comm)
{
	const struct pt_proc *q = pt && sender ? ptree_find(pt, sender) : NULL;

	if (cause != SIG_BY_PROCESS) {
		sb_puts(b, " from the kernel");
		if (cause != SIG_BY_KERNEL)
			sb_printf(b, " (%s)", sig_cause_name(cause));
		return;
	}
	sb_puts(b, " from ");
	if (q) {
		name(b, q);
		return;
	}
	if (pt && sender == pt->meta.self_pid && sender)
		comm = "mptrace";
	sb_put_printable(b, comm, strnlen(comm, MPT_COMM_LEN));
	sb_printf(b, "[%u]", sender);
}

void text_killer(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p)
{
	if (pt_signaled(p) && p->killer_known)
		text_sig_from(b, pt, p->killer_cause, p->killer_pid, p->killer_comm);
}

/* The line's time: ms since the start, the wall clock (-t, -tt), or the
 * time since the previous line (-r). */
static void stamp(struct sbuf *b, const struct text_style *st, const struct ptree *pt, uint64_t ts)
{
	int64_t ns = pt->meta.wall_t0_ns + ((int64_t)ts - (int64_t)pt->meta.t0);
	time_t s = ns / 1000000000;
	uint64_t prev;
	struct tm tm;

	switch (st->clock) {
	case TC_WALL:
	case TC_WALL_US:
		localtime_r(&s, &tm);
		sb_printf(b, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (st->clock == TC_WALL_US)
			sb_printf(b, ".%06ld", (long)(ns % 1000000000 / 1000));
		sb_putc(b, ' ');
		return;
	case TC_DELTA:
		prev = st->prev_ts && *st->prev_ts ? *st->prev_ts : pt->meta.t0;
		sb_printf(b, "+%9.3f ", ts >= prev ? (ts - prev) / 1e6 : 0.0);
		if (st->prev_ts)
			*st->prev_ts = ts;
		return;
	default:
		sb_printf(b, "%10.3f ", pt_ms(pt, ts));
	}
}

static void prefix(struct sbuf *b, const struct text_style *st, const struct ptree *pt, uint64_t ts,
		   const struct pt_proc *p)
{
	size_t start;

	col(b, st, C_DIM);
	stamp(b, st, pt, ts);
	col(b, st, C_RESET);
	start = b->len;
	if (p)
		name(b, p);
	while (b->len - start < 22)
		sb_putc(b, ' ');
	sb_putc(b, ' ');
}

int text_parse_events(const char *list, const char **bad)
{
	static const char *const names[] = { "fork", "thread", "exec", "exit", "reap", "lock",
					     "signal", "deadlock", "zombie", "test", "kill" };
	int bits = 0;

	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ","), k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strlen(names[k]) == n && !strncmp(s, names[k], n))
				break;
		if (n == 3 && !strncmp(s, "all", 3))
			bits |= (1 << (sizeof(names) / sizeof(names[0]))) - 1;
		else if (k < sizeof(names) / sizeof(names[0]))
			bits |= 1 << k;
		else {
			*bad = s;
			return -1;
		}
		s += n + !!s[n];
	}
	if (!bits)
		*bad = list;
	return bits ? bits : -1;
}

static unsigned event_kind(const struct mpt_hdr *ev)
{
	switch (ev->type) {
	case MPT_EV_FORK:
		return ((const struct mpt_fork *)ev)->flags & MPT_FORK_THREAD ? TE_THREAD : TE_FORK;
	case MPT_EV_EXEC: return TE_EXEC;
	case MPT_EV_EXIT: case MPT_EV_GONE: return TE_EXIT;
	case MPT_EV_WAIT: case MPT_EV_FREE: return TE_REAP;
	case MPT_EV_LOCK: return TE_LOCK;
	case MPT_EV_SIGNAL: return TE_SIGNAL;
	case MPT_EV_DEADLOCK: return TE_DEADLOCK;
	case MPT_EV_TEST: return TE_TEST;
	case MPT_EV_KILL: return TE_KILL;
	default: return 0;
	}
}

static void by_name(struct sbuf *b, const struct ptree *pt, uint32_t pid)
{
	const struct pt_proc *q = ptree_find(pt, pid);

	if (q)
		name(b, q);
	else if (pid == pt->meta.self_pid && pid)
		sb_printf(b, "mptrace[%u]", pid);
	else
		sb_printf(b, "[%u]", pid);
}

/* A wait's holder, and whether the kernel showed it or mptrace inferred it. */
static void holder_name(struct sbuf *b, const struct ptree *pt, const struct pt_lockwait *w)
{
	by_name(b, pt, w->holder);
	if (w->holder_inferred)
		sb_puts(b, " (inferred)");
}

void text_event(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		const struct mpt_hdr *ev, const struct pt_change *chg)
{
	const struct pt_proc *p = chg->proc;
	const char *arrow = st->utf8 ? "→" : "->";

	if (st->events && !(st->events & event_kind(ev)))
		return;
	switch (ev->type) {
	case MPT_EV_FORK: {
		const struct mpt_fork *e = (const void *)ev;

		if (e->flags & MPT_FORK_THREAD) {
			prefix(b, st, pt, ev->ts, p);
			sb_printf(b, "thread %u (%u threads)\n", ev->tid, p->threads);
			return;
		}
		prefix(b, st, pt, ev->ts, chg->other);
		col(b, st, C_GREEN);
		sb_printf(b, "fork %s %u", arrow, ev->pid);
		col(b, st, C_RESET);
		sb_putc(b, '\n');
		return;
	}
	case MPT_EV_EXEC:
		prefix(b, st, pt, ev->ts, p);
		col(b, st, C_CYAN);
		sb_puts(b, "exec ");
		col(b, st, C_RESET);
		text_argv(b, p->argv, st->argv_width ? st->argv_width : STREAM_ARGV, false, st->utf8);
		if (p->nexecs && (!p->argv || !p->argv[0] ||
				  strcmp(p->execs[p->nexecs - 1].filename, p->argv[0]))) {
			const char *fn = p->execs[p->nexecs - 1].filename;

			col(b, st, C_DIM);
			sb_puts(b, "  (");
			sb_put_printable(b, fn, strlen(fn));
			sb_putc(b, ')');
			col(b, st, C_RESET);
		}
		if (p->nexecs && p->execs[p->nexecs - 1].truncated)
			sb_puts(b, " (argv truncated)");
		sb_putc(b, '\n');
		return;
	case MPT_EV_EXIT: {
		prefix(b, st, pt, ev->ts, p);
		col(b, st, pt_signaled(p) || pt_exit_code(p) ? C_RED : C_BOLD);
		text_fate(b, p);
		col(b, st, C_RESET);
		text_killer(b, pt, p);
		if (p->start_ts != PT_NONE)
			sb_printf(b, " after %.1f ms", (ev->ts - p->start_ts) / 1e6);
		if (chg->orphaned_some) {
			const struct mpt_exit *e = (const void *)ev;

			col(b, st, C_MAGENTA);
			sb_printf(b, "; its running children are orphaned, adopted by [%u]", e->reaper);
			col(b, st, C_RESET);
		}
		sb_putc(b, '\n');
		return;
	}
	case MPT_EV_FREE: {
		/* the kernel released it: its reaper's wait, or auto-reap */
		const struct pt_proc *c = chg->other, *r;

		if (!c)
			return;
		r = c->reaped_by ? ptree_find(pt, c->reaped_by) : NULL;
		if (c->reap == PT_REAP_AUTO) {
			prefix(b, st, pt, c->reaped_ts, c);
			sb_puts(b, "released by the kernel (auto-reap, SIGCHLD ignored)");
			sb_printf(b, " after %.1f ms as a zombie\n", pt_zombie_ns(c, c->reaped_ts) / 1e6);
			return;
		}
		if (r || (c->reaped_by && c->reaped_by == pt->meta.self_pid)) {
			/* a traced reaper, or mptrace: "P reaped C" */
			prefix(b, st, pt, c->reaped_ts, r);
			if (!r)
				sb_printf(b, "mptrace[%u] ", c->reaped_by);
			sb_puts(b, "reaped ");
			name(b, c);
			sb_printf(b, " (zombie for %.1f ms", pt_zombie_ns(c, c->reaped_ts) / 1e6);
			if (c->reap == PT_REAP_ADOPTER)
				sb_puts(b, ", as its adopter");
			sb_puts(b, ")\n");
			return;
		}
		prefix(b, st, pt, c->reaped_ts, c);
		sb_puts(b, "reaped by ");
		by_name(b, pt, c->reaped_by);
		if (c->reap == PT_REAP_ADOPTER)
			sb_puts(b, ", its adopter,");
		sb_printf(b, " after %.1f ms as a zombie\n", pt_zombie_ns(c, c->reaped_ts) / 1e6);
		return;
	}
	case MPT_EV_LOCK: {
		const struct mpt_lock *e = (const void *)ev;
		const struct pt_lock *l = chg->lock;

		prefix(b, st, pt, ev->ts, p);
		col(b, st, C_YELLOW);
		sb_printf(b, "lock wait %.1f ms", (ev->ts - e->start_ts) / 1e6);
		col(b, st, C_RESET);
		sb_puts(b, " on ");
		pt_lock_label(b, l);
		if (pt->nwaitlog && pt->waitlog[pt->nwaitlog - 1].holder &&
		    pt->waitlog[pt->nwaitlog - 1].proc == p) {
			sb_puts(b, " held by ");
			holder_name(b, pt, &pt->waitlog[pt->nwaitlog - 1]);
		} else if (e->waker && e->waker != ev->pid) {
			sb_puts(b, " (woken by ");
			by_name(b, pt, e->waker);
			sb_putc(b, ')');
		}
		if (ev->tid != ev->pid)
			sb_printf(b, " [thread %u]", ev->tid);
		sb_putc(b, '\n');
		if (pt->nwaitlog && pt->waitlog[pt->nwaitlog - 1].proc == p &&
		    pt->waitlog[pt->nwaitlog - 1].stack) {
			sb_printf(b, "%*s", STACK_INDENT, "");
			pt_stack_text(b, pt->waitlog[pt->nwaitlog - 1].stack, STACK_FRAMES, st->utf8);
			sb_putc(b, '\n');
		}
		return;
	}
	case MPT_EV_SIGNAL: {
		const struct mpt_signal *e = (const void *)ev;

		prefix(b, st, pt, ev->ts, p);
		sb_printf(b, "signal %s", signal_name(e->sig));
		text_sig_from(b, NULL, sig_cause(e->sig, e->code, e->origin), e->sender_pid,
			      e->sender_comm);
		sb_putc(b, '\n');
		return;
	}
	case MPT_EV_DEADLOCK: {
		const struct pt_deadlock *d = &pt->deadlocks[pt->ndeadlocks - 1];
		char *msg = an_deadlock_text(pt, d, ev->ts);

		prefix(b, st, pt, ev->ts, NULL);
		col(b, st, C_RED C_BOLD);
		sb_puts(b, "DEADLOCK");
		col(b, st, C_RESET);
		sb_printf(b, " %s\n", msg);
		free(msg);
		return;
	}
	case MPT_EV_TEST: {
		const struct mpt_test *e = (const void *)ev;

		if (e->flags == MPT_TEST_ENV)
			return;
		prefix(b, st, pt, ev->ts, NULL);
		sb_printf(b, "test %s ", e->flags == MPT_TEST_BEGIN ? "begins:" : "ends:");
		sb_put_printable(b, e->name, strnlen(e->name, MPT_TEST_LEN));
		sb_putc(b, '\n');
		return;
	}
	case MPT_EV_KILL:
		if (!p)
			return;
		prefix(b, st, pt, ev->ts, p);
		col(b, st, C_RED);
		sb_printf(b, "mptrace sends %s (%s)\n", signal_name(((const struct mpt_kill *)ev)->sig),
			  ((const struct mpt_kill *)ev)->reason == MPT_KILL_DEADLOCK ?
			  "--on-deadlock" : "--kill-leaks: leaked");
		col(b, st, C_RESET);
		return;
	case MPT_EV_GONE:
		if (!p)
			return;
		prefix(b, st, pt, ev->ts, p);
		col(b, st, C_YELLOW);
		sb_printf(b, "gone: its %s record was lost (ring buffer full); how it ended is "
			  "unknown\n", ((const struct mpt_gone *)ev)->flags & MPT_GONE_ZOMBIE ?
			  "release" : "exit");
		col(b, st, C_RESET);
		return;
	default:
		return;
	}
}

void text_zombie_alert(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		       const struct pt_proc *p, uint64_t now)
{
	if (st->events && !(st->events & TE_ZOMBIE))
		return;
	prefix(b, st, pt, now, p);
	col(b, st, C_YELLOW C_BOLD);
	sb_printf(b, "ZOMBIE for %.1f ms", pt_zombie_ns(p, now) / 1e6);
	col(b, st, C_RESET);
	sb_puts(b, ": not reaped by ");
	by_name(b, pt, p->cur_ppid);
	sb_putc(b, '\n');
}

static void markers(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		    const struct pt_proc *p, uint64_t end)
{
	if (p->findings & AN_CHECK(AN_ZOMBIE)) {
		col(b, st, C_YELLOW C_BOLD);
		sb_printf(b, " [ZOMBIE %.1f ms]", pt_zombie_ns(p, end) / 1e6);
		col(b, st, C_RESET);
	}
	if (p->findings & AN_CHECK(AN_ORPHAN)) {
		col(b, st, C_MAGENTA C_BOLD);
		sb_printf(b, " [ORPHAN %s %u]", st->utf8 ? "→" : "->", p->adopted_by);
		col(b, st, C_RESET);
	}
	if (p->findings & AN_CHECK(AN_DEADLOCK)) {
		col(b, st, C_RED C_BOLD);
		sb_puts(b, " [DEADLOCK]");
		col(b, st, C_RESET);
	}
	if (p->findings & AN_CHECK(AN_LEAK)) {
		col(b, st, C_RED C_BOLD);
		sb_puts(b, p->killed_by_us && p->exited ? " [LEAK, killed]" : " [LEAK]");
		col(b, st, C_RESET);
	}
	(void)pt;
}

/* How it was reaped; an untraced adopter's wait is shown, marked as not
 * counted against the tree (docs/findings.md). */
static void reap_text(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p, uint64_t end)
{
	struct pt_zsplit z;

	if (p->is_root || !p->exited)
		return;
	pt_zombie_split(pt, p, end, &z);
	if (p->state == PT_ZOMBIE) {
		sb_puts(b, ", unreaped");
		if (z.adopter_ns && !z.adopter_traced && !(p->findings & AN_CHECK(AN_ZOMBIE)))
			sb_printf(b, " (%.1f ms waiting for untraced adopter [%u], not counted)",
				  z.adopter_ns / 1e6, p->adopted_by);
		return;
	}
	if (p->reap == PT_REAP_AUTO) {
		sb_puts(b, ", auto-reaped");
		return;
	}
	if (p->reap == PT_REAP_ADOPTER) {
		sb_printf(b, ", reaped by adopter [%u] after %.1f ms", p->reaped_by,
			  pt_zombie_ns(p, end) / 1e6);
		/* says why a long wait is no finding; a finding says enough */
		if (z.adopter_ns && !z.adopter_traced && !(p->findings & AN_CHECK(AN_ZOMBIE)))
			sb_printf(b, " (%.1f ms waiting for the untraced adopter, not counted)",
				  z.adopter_ns / 1e6);
		return;
	}
	if (pt_zombie_ns(p, end) >= 1000000)
		sb_printf(b, ", reaped after %.1f ms", pt_zombie_ns(p, end) / 1e6);
}

static void tree_line(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		      const struct pt_proc *p, uint64_t end)
{
	const char *role = text_role(p);

	col(b, st, C_BOLD);
	name(b, p);
	col(b, st, C_RESET);
	sb_putc(b, ' ');
	if (role)
		sb_printf(b, "[%s] ", role);
	if (!p->argv_owned && p->parent && !p->is_root) {
		role = text_role(p->parent);
		col(b, st, C_DIM);
		sb_printf(b, "(fork of %s%s%u)", role ? role : "", role ? " " : "", p->parent->pid);
		col(b, st, C_RESET);
	} else {
		text_argv(b, p->argv, st->argv_width ? st->argv_width : TREE_ARGV, true, st->utf8);
	}
	col(b, st, C_DIM);
	if (p->start_ts != PT_NONE)
		sb_printf(b, "  %.1f", pt_ms(pt, p->start_ts));
	else
		sb_puts(b, "  (before)");
	if (p->exited)
		sb_printf(b, "..%.1f ms", pt_ms(pt, p->exit_ts));
	else
		sb_puts(b, "..");
	col(b, st, C_RESET);
	sb_puts(b, "  ");
	col(b, st, pt_signaled(p) || (p->exited && pt_exit_code(p)) ? C_RED : "");
	text_fate(b, p);
	col(b, st, pt_signaled(p) || (p->exited && pt_exit_code(p)) ? C_RESET : "");
	text_killer(b, pt, p);
	reap_text(b, pt, p, end);
	if (p->threads > 1)
		sb_printf(b, ", %u threads", p->threads);
	if (p->lock_wait.count)
		sb_printf(b, ", lock wait %.1f ms", p->lock_wait.total_ns / 1e6);
	if (p->join_wait.count && p->join_wait.total_ns >= 1000000)
		sb_printf(b, ", join wait %.1f ms", p->join_wait.total_ns / 1e6);
	markers(b, st, pt, p, end);
	sb_putc(b, '\n');
}

/*
 * Folding. Two rules, both off with --no-fold:
 * - helpers: a child that ran another program (exec), whose whole subtree
 *   is over, reaped, free of findings and short (1/20 of the trace, or up
 *   to 250 ms and 1/4 of it), no Python helper with a role (a build's
 *   sh -c, a test's 2,000 runs of /bin/false), or any child over before its
 *   parent's last exec (a wrapper's readlink and subshells), joins one line
 *   after its siblings;
 * - many alike leaves (a fork storm, a pool of 1,000 workers): the first
 *   FOLD_KEEP are shown and the rest counted.
 */
#define FOLD_MIN 12
#define FOLD_KEEP 3
#define SHORT_PART 20	/* a helper lives at most 1/20 of the trace ... */
#define SHORT_NS 250000000ull	/* ... or 250 ms and 1/4 of it: a loaded machine stretches a /bin/false */
#define WRAP_PART 4	/* ... or 1/4 when it ran before its parent's last exec */
#define FOLD_NAMES 5

struct sub {			/* a process and all its descendants */
	uint64_t first, last;	/* the first start, the last exit */
	uint32_t n;
	bool over;		/* all exited and reaped, no findings, born in the trace */
};

struct view {
	const struct text_style *st;
	const struct ptree *pt;
	uint64_t end, dur;
	struct sub *sub;	/* by slot */
};

static void subtrees(struct view *v)
{
	const struct ptree *pt = v->pt;

	v->sub = xcalloc(pt->nprocs, sizeof(*v->sub));
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[i];
		struct sub *s = &v->sub[i];

		s->n = 1;
		s->over = p->exited && p->state == PT_REAPED && !p->findings &&
			  p->start_ts != PT_NONE && !p->is_root;
		s->first = p->start_ts;
		s->last = p->exited ? p->exit_ts : PT_NONE;
	}
	/* a child is created after its parent: higher ids first folds
	 * every subtree into its parent's before that one is read */
	for (size_t i = pt->nprocs; i-- > 0;) {
		const struct pt_proc *p = pt->procs[i];
		struct sub *s = &v->sub[i], *ps;

		if (!p->parent)
			continue;
		ps = &v->sub[p->parent->slot];
		ps->over = ps->over && s->over;
		ps->n += s->n;
		if (s->first < ps->first)
			ps->first = s->first;
		if (s->last != PT_NONE && (ps->last == PT_NONE || s->last > ps->last))
			ps->last = s->last;
	}
}

/* "Short" is against the time the processes ran: from the start to the
 * last exit, not to the end of tracing, which waits for adopters' reaps
 * (up to 2.5 s on a busy machine) and would make a whole short command
 * look like a helper of itself. */
static void busy_span(struct view *v)
{
	uint64_t last = 0;

	for (size_t i = 0; i < v->pt->nprocs; i++)
		if (v->sub[i].last != PT_NONE && v->sub[i].last > last)
			last = v->sub[i].last;
	if (last > v->pt->meta.t0 && last - v->pt->meta.t0 < v->dur)
		v->dur = last - v->pt->meta.t0;
}

static bool helper(const struct view *v, const struct pt_proc *c)
{
	const struct sub *s = &v->sub[c->slot];
	const struct pt_proc *p = c->parent;
	uint64_t span;

	if (v->st->no_fold || !s->over || s->last == PT_NONE || s->last < s->first)
		return false;
	span = s->last - s->first;
	/* a fork that ran another program; one that did not is the program's
	 * own (a pool's worker), however short */
	if (c->nexecs && !text_role(c) &&
	    (span * SHORT_PART <= v->dur || (span <= SHORT_NS && span * WRAP_PART <= v->dur)))
		return true;
	/* the wrapper's helpers: over before their parent became the program */
	return p->nexecs && p->execs[p->nexecs - 1].ts > s->last && span * WRAP_PART <= v->dur;
}

static bool plain_sibling(const struct pt_proc *p)
{
	return !p->child && !p->findings && p->exited && !pt_signaled(p) &&
	       p->state == PT_REAPED && p->reap == PT_REAP_PARENT;
}

struct tally {
	struct { const char *comm; size_t n; } *v;
	size_t n, procs, failed, killed;
};

static void tally_add(struct tally *t, const struct pt_proc *p)
{
	size_t i;

	t->procs++;
	t->failed += p->exited && !pt_signaled(p) && pt_exit_code(p);
	t->killed += pt_signaled(p);
	for (i = 0; i < t->n && strcmp(t->v[i].comm, p->comm); i++)
		;
	if (i == t->n) {
		t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
		t->v[t->n].comm = p->comm;
		t->v[t->n++].n = 0;
	}
	t->v[i].n++;
}

static void tally_subtree(struct tally *t, const struct pt_proc *top)
{
	const struct pt_proc *p = top;

	/* preorder without a stack: down, else next sibling, else up */
	while (p) {
		tally_add(t, p);
		if (p->child) {
			p = p->child;
			continue;
		}
		while (p != top && !p->sibling)
			p = p->parent;
		p = p == top ? NULL : p->sibling;
	}
}

static int by_count(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	return x[1] < y[1] ? 1 : x[1] > y[1] ? -1 : 0;
}

/* "… 38 short-lived helpers: bash ×31, readlink ×7 (2 exited non-zero)" */
static char *tally_line(struct tally *t, const char *one, const char *many, bool utf8)
{
	struct sbuf b = { 0 };
	size_t (*idx)[2] = xcalloc(t->n, sizeof(*idx));

	for (size_t i = 0; i < t->n; i++) {
		idx[i][0] = i;
		idx[i][1] = t->v[i].n;
	}
	qsort(idx, t->n, sizeof(*idx), by_count);	/* ties: any order, then by name below */
	sb_printf(&b, "%s %zu %s:", utf8 ? "…" : "...", t->procs, t->procs == 1 ? one : many);
	for (size_t i = 0; i < t->n && i < FOLD_NAMES; i++) {
		const char *c = t->v[idx[i][0]].comm;

		sb_puts(&b, i ? ", " : " ");
		sb_put_printable(&b, c, strlen(c));
		sb_printf(&b, " %s%zu", utf8 ? "×" : "x", idx[i][1]);
	}
	if (t->n > FOLD_NAMES)
		sb_printf(&b, ", %s", utf8 ? "…" : "...");
	if (t->failed || t->killed) {
		sb_puts(&b, " (");
		if (t->failed)
			sb_printf(&b, "%zu exited non-zero", t->failed);
		if (t->killed)
			sb_printf(&b, "%s%zu killed", t->failed ? ", " : "", t->killed);
		sb_putc(&b, ')');
	}
	free(idx);
	free(t->v);
	memset(t, 0, sizeof(*t));
	return b.s;
}

struct tree_it {
	const struct pt_proc **kids;	/* then the fold lines */
	char *fold[2];
	size_t n, nfold, i, plen;
	const struct pt_proc *resume;	/* a chain's fold line: the link shown below it */
};

static void kids_of(const struct view *v, const struct pt_proc *p, uint64_t since,
		    struct tree_it *it)
{
	struct tally helpers = { 0 }, rest = { 0 };
	size_t cnt = 0, plain = 0, shown = 0;

	memset(it, 0, sizeof(*it));
	for (const struct pt_proc *c = p->child; c; c = c->sibling) {
		cnt++;
		plain += plain_sibling(c) && !helper(v, c);
	}
	if (!cnt)
		return;
	it->kids = xcalloc(cnt, sizeof(*it->kids));
	for (const struct pt_proc *c = p->child; c; c = c->sibling) {
		if (since && (c->start_ts == PT_NONE || c->start_ts < since))
			continue;	/* --from-exec: forked before the program */
		if (helper(v, c))
			tally_subtree(&helpers, c);
		else if (!v->st->no_fold && plain >= FOLD_MIN && plain_sibling(c) &&
			 shown++ >= FOLD_KEEP)
			tally_add(&rest, c);
		else
			it->kids[it->n++] = c;
	}
	if (rest.procs)
		it->fold[it->nfold++] = tally_line(&rest, "more child that exited and was reaped",
						       "more children that exited and were reaped", v->st->utf8);
	if (helpers.procs == 1 && !it->nfold) {
		/* one helper alone is shown as itself */
		free(helpers.v);
		for (const struct pt_proc *c = p->child; c; c = c->sibling)
			if (helper(v, c) && !(since && c->start_ts < since))
				it->kids[it->n++] = c;
	} else if (helpers.procs) {
		it->fold[it->nfold++] = tally_line(&helpers, "short-lived helper", "short-lived helpers",
						       v->st->utf8);
	}
}

/*
 * A fork chain (each link the only child of the one before, all alike: a
 * respawn-by-fork daemon) longer than CHAIN_FOLD_MIN shows its first link,
 * one line for the middle and its last CHAIN_KEEP links.
 */
#define CHAIN_FOLD_MIN 12
#define CHAIN_KEEP 3

static bool same_link(const struct pt_proc *a, const struct pt_proc *b)
{
	return !strcmp(a->comm, b->comm) && a->exited == b->exited && a->status == b->status &&
	       a->threads == b->threads && !a->lock_wait.count && !b->lock_wait.count;
}

static bool chain_link(const struct pt_proc *p)
{
	return p->child && p->child == p->last_child && same_link(p, p->child);
}

/* The fold line of a chain's middle: how many links, and their findings
 * (listed one by one under "findings:"). */
static char *chain_line(const struct pt_proc *first, size_t links, bool utf8)
{
	unsigned count[AN_NKINDS] = { 0 };
	const struct pt_proc *p = first;
	struct sbuf b = { 0 };
	bool any = false;

	for (size_t i = 0; i < links; i++, p = p->child)
		for (int k = 0; k < AN_NKINDS; k++)
			count[k] += !!(p->findings & AN_CHECK(k));
	sb_printf(&b, "%s %zu more links of this fork chain, each the only child of the one before: ",
		  utf8 ? "…" : "...", links);
	sb_put_printable(&b, first->comm, strlen(first->comm));
	sb_puts(&b, ", ");
	text_fate(&b, first);
	for (int k = 0; k < AN_NKINDS; k++) {
		if (!count[k])
			continue;
		sb_printf(&b, "%s%u %s%s", any ? ", " : "; ", count[k], an_kind_name(k),
			  count[k] == 1 ? "" : "s");
		any = true;
	}
	return b.s;
}

/* A chain starting below p folds: its fold line stands for the middle
 * links, and the last CHAIN_KEEP links follow under it. */
static bool chain_fold(const struct view *v, const struct pt_proc *p, struct tree_it *it)
{
	const struct pt_proc *q = p, *resume = p;
	size_t len = 0;

	if (v->st->no_fold || (p->parent && chain_link(p->parent) && p->parent->child == p))
		return false;	/* not the first link: its chain was handled */
	while (chain_link(q)) {
		q = q->child;
		len++;
	}
	if (len < CHAIN_FOLD_MIN)
		return false;
	for (size_t i = 0; i < len - CHAIN_KEEP + 1; i++)
		resume = resume->child;
	memset(it, 0, sizeof(*it));
	it->fold[it->nfold++] = chain_line(p->child, len - CHAIN_KEEP, v->st->utf8);
	it->resume = resume;
	return true;
}

/* Past this many levels the tree stops indenting: a line says how many
 * levels deeper it is, and the chain goes on flat. A fork chain 100,000
 * deep would otherwise take 3 bytes per level on every line. */
#define TREE_MAX_INDENT 32
#define SPILL_BYTES 65536

static void spill(struct sbuf *b, const struct text_style *st)
{
	if (st->spill && b->len >= SPILL_BYTES) {
		st->spill(b, st->spill_ctx);
		b->len = 0;
	}
}

static struct tree_it *push_it(struct tree_it **stack, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap *= 2;
		*stack = xrealloc(*stack, *cap * sizeof(**stack));
	}
	memset(&(*stack)[*n], 0, sizeof(**stack));
	return &(*stack)[(*n)++];
}

/* One level down: p's children, or a chain's fold line for its middle. */
static void open_level(const struct view *v, struct tree_it *it, const struct pt_proc *p,
		       uint64_t since, size_t plen)
{
	if (!chain_fold(v, p, it))
		kids_of(v, p, since, it);
	it->plen = plen;
}

/* Depth-first, with an explicit stack: fork chains can be very deep. */
static void tree(struct sbuf *b, const struct view *v, const struct pt_proc *root, uint64_t since)
{
	const struct text_style *st = v->st;
	const char *more = st->utf8 ? "…" : "...";
	const char *tee = st->utf8 ? "├─ " : "|- ", *elbow = st->utf8 ? "└─ " : "`- ";
	const char *bar = st->utf8 ? "│  " : "|  ";
	struct tree_it *stack;
	size_t n = 0, cap = 16;
	struct sbuf pre = { 0 };

	sb_puts(&pre, "");
	if (root->lineage) {
		/* its ancestors were forgotten: their names remain */
		col(b, st, C_DIM);
		sb_puts(b, root->lineage);
		sb_puts(b, " > ");
		col(b, st, C_RESET);
	}
	tree_line(b, st, v->pt, root, v->end);
	stack = xcalloc(cap, sizeof(*stack));
	open_level(v, push_it(&stack, &n, &cap), root, since, 0);
	while (n) {
		struct tree_it *top = &stack[n - 1];
		const struct pt_proc *c = NULL;
		size_t i = top->i++;
		bool last = top->i == top->n + top->nfold;

		if (i == top->n + top->nfold) {
			free(top->kids);
			n--;
			continue;
		}
		pre.len = top->plen;
		pre.s[pre.len] = '\0';
		sb_puts(b, pre.s);
		if (n > TREE_MAX_INDENT + 1) {
			size_t deeper = n - 1 - TREE_MAX_INDENT;

			col(b, st, C_DIM);
			sb_printf(b, "%s(+%zu level%s) ", more, deeper, deeper == 1 ? "" : "s");
			col(b, st, C_RESET);
		}
		sb_puts(b, last ? elbow : tee);
		if (i >= top->n) {
			const struct pt_proc *resume = top->resume;
			struct tree_it *it;

			col(b, st, C_DIM);
			sb_puts(b, top->fold[i - top->n]);
			col(b, st, C_RESET);
			sb_putc(b, '\n');
			free(top->fold[i - top->n]);
			if (!resume)
				continue;
			/* a chain's last links, under its fold line */
			if (n <= TREE_MAX_INDENT)
				sb_puts(&pre, "   ");
			it = push_it(&stack, &n, &cap);
			it->kids = xcalloc(1, sizeof(*it->kids));
			it->kids[it->n++] = resume;
			it->plen = pre.len;
			continue;
		}
		c = top->kids[i];
		tree_line(b, st, v->pt, c, v->end);
		spill(b, st);
		if (n <= TREE_MAX_INDENT)
			sb_puts(&pre, last ? "   " : bar);
		open_level(v, push_it(&stack, &n, &cap), c, 0, pre.len);
	}
	free(stack);
	sb_free(&pre);
}

/* A glob (with * ? [) matches the word or its basename; a plain word is a
 * substring. */
static bool word_match(const char *pat, const char *s)
{
	if (strpbrk(pat, "*?["))
		return !fnmatch(pat, s, 0) || !fnmatch(pat, base_name(s), 0);
	return strstr(s, pat) != NULL;
}

static bool comm_match(const struct pt_proc *p, const char *pat)
{
	return word_match(pat, p->comm) ||
	       (p->argv_owned && p->argv && p->argv[0] && word_match(pat, base_name(p->argv[0])));
}

static bool exec_match(const struct pt_exec *x, const char *pat)
{
	if (word_match(pat, base_name(x->filename)))
		return true;
	for (int i = 0; x->argv && x->argv[i]; i++)
		if (word_match(pat, x->argv[i]))
			return true;
	return false;
}

/* --from-exec: the process of the first matching exec, and the time of its
 * last matching one (a pyenv shim and the interpreter it becomes match
 * alike: the view starts at the interpreter). */
static const struct pt_proc *first_exec(const struct ptree *pt, const char *pat, uint64_t *ts)
{
	const struct pt_proc *best = NULL;

	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[i];

		for (int k = 0; k < p->nexecs; k++) {
			if (exec_match(&p->execs[k], pat) && (!best || p->execs[k].ts < *ts)) {
				best = p;
				*ts = p->execs[k].ts;
			}
		}
	}
	for (int k = 0; best && k < best->nexecs; k++)
		if (exec_match(&best->execs[k], pat))
			*ts = best->execs[k].ts;
	return best;
}

/* In the view rooted at `top` (forked after `since`), below no other match. */
static bool topmost_match(const struct pt_proc *p, const struct pt_proc *top, uint64_t since,
			  const char *pat)
{
	if (!comm_match(p, pat))
		return false;
	for (const struct pt_proc *q = p; q; q = q->parent) {
		if (q == top)
			return true;
		if (q != p && comm_match(q, pat))
			return false;
		if (top && q->parent == top && (q->start_ts == PT_NONE || q->start_ts < since))
			return false;
	}
	return !top;
}

static void trees(struct sbuf *b, const struct view *v)
{
	const struct text_style *st = v->st;
	const struct ptree *pt = v->pt;
	const struct pt_proc *top = NULL;
	uint64_t since = 0;
	size_t shown = 0;

	if (st->from_exec) {
		top = first_exec(pt, st->from_exec, &since);
		if (!top) {
			sb_puts(b, "(no exec matches --from-exec '");
			sb_put_printable(b, st->from_exec, strlen(st->from_exec));
			sb_puts(b, "': the whole tree follows)\n");
		}
	}
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[i];

		if (st->comm ? !topmost_match(p, top, since, st->comm) :
		    top ? p != top : !!p->parent)
			continue;
		tree(b, v, p, p == top ? since : 0);
		shown++;
	}
	if (st->comm && !shown) {
		sb_puts(b, "(no process matches --comm '");
		sb_put_printable(b, st->comm, strlen(st->comm));
		sb_puts(b, "')\n");
	}
}

/* -a, top, -p: the reaped processes folded away, by comm (forget.h). */
#define FORGOTTEN_COMMS 8

static void forgotten(struct sbuf *b, const struct ptree *pt)
{
	size_t n;
	struct fg_comm *c;

	if (!pt->nforgotten)
		return;
	c = fg_comms(pt->fg, &n);
	sb_printf(b, "%llu reaped process%s forgotten (only counted), most: ",
		  (unsigned long long)pt->nforgotten, pt->nforgotten == 1 ? "" : "es");
	for (size_t i = 0; i < n && i < FORGOTTEN_COMMS; i++) {
		sb_puts(b, i ? ", " : "");
		sb_put_printable(b, c[i].comm, strlen(c[i].comm));
		sb_printf(b, " %llu", (unsigned long long)c[i].processes);
		if (c[i].failed || c[i].signaled)
			sb_printf(b, " (%llu failed, %llu killed)", (unsigned long long)c[i].failed,
				  (unsigned long long)c[i].signaled);
	}
	if (n > FORGOTTEN_COMMS)
		sb_printf(b, ", %zu more comms", n - FORGOTTEN_COMMS);
	sb_putc(b, '\n');
	free(c);
}

static void summary(struct sbuf *b, const struct text_style *st, struct ptree *pt,
		    const struct an_result *r, uint64_t end)
{
	sb_printf(b, "%d process%s, %llu thread%s, %llu exec%s in %.1f ms", pt->nids,
		  pt->nids == 1 ? "" : "es", (unsigned long long)r->threads,
		  r->threads == 1 ? "" : "s", (unsigned long long)pt->execs,
		  pt->execs == 1 ? "" : "s", end >= pt->meta.t0 ? (end - pt->meta.t0) / 1e6 : 0.0);
	if (pt->root && pt->root->exited) {
		sb_puts(b, "; command ");
		text_fate(b, pt->root);
	}
	sb_printf(b, "; %u zombie%s, %u orphan%s, %u leak%s, %llu lock wait%s (%.1f ms)",
		  r->count[AN_ZOMBIE], r->count[AN_ZOMBIE] == 1 ? "" : "s", r->count[AN_ORPHAN],
		  r->count[AN_ORPHAN] == 1 ? "" : "s", r->count[AN_LEAK],
		  r->count[AN_LEAK] == 1 ? "" : "s", (unsigned long long)pt->lock_waits,
		  pt->lock_waits == 1 ? "" : "s", pt->lock_wait_ns / 1e6);
	if (r->count[AN_DEADLOCK])
		sb_printf(b, ", %u deadlock%s", r->count[AN_DEADLOCK],
			  r->count[AN_DEADLOCK] == 1 ? "" : "s");
	if (r->incomplete) {
		col(b, st, C_RED C_BOLD);
		sb_printf(b, "; INCOMPLETE: %s", r->incomplete_why);
		col(b, st, C_RESET);
	} else {
		sb_puts(b, "; 0 events lost");
	}
	if (pt->marks_dropped)
		sb_printf(b, "; %llu test markers ignored (over %d kept)",
			  (unsigned long long)pt->marks_dropped, PT_MAX_MARKS);
	sb_putc(b, '\n');
	if (pt->fg)
		forgotten(b, pt);
}

/* The waits behind a wait: its holder was itself waiting for ... */
static void chain(struct sbuf *b, const struct ptree *pt, const struct pt_lockwait *w)
{
	uint64_t at = w->start_ts;
	uint32_t holder = w->holder;

	for (int depth = 0; holder && depth < 4; depth++) {
		const struct pt_lockwait *next = NULL;

		for (size_t i = 0; i < pt->nwaitlog; i++) {
			const struct pt_lockwait *c = &pt->waitlog[i];

			if (c->proc->pid == holder && c->start_ts <= at && c->start_ts + c->dur_ns > at) {
				next = c;
				break;
			}
		}
		if (!next)
			return;
		sb_printf(b, "%*s%s which was itself waiting %.1f ms on ", 14 + 2 * depth, "",
			  st_arrow(), next->dur_ns / 1e6);
		pt_lock_label(b, next->lock);
		if (next->holder) {
			sb_puts(b, " held by ");
			holder_name(b, pt, next);
		}
		sb_putc(b, '\n');
		holder = next->holder;
		at = next->start_ts;
	}
}

/* Findings of one kind past this many are counted, not listed: a fork
 * chain 100,000 deep is 100,000 orphans (--json lists every one). */
#define FINDINGS_LISTED 1000

static void findings_list(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
			  const struct an_result *r)
{
	static const char *const tags[AN_NKINDS] = { "ZOMBIE", "ORPHAN", "LEAK", "LOCK", "DEADLOCK" };
	static const char *const colors[AN_NKINDS] = { C_YELLOW, C_MAGENTA, C_RED, C_CYAN, C_RED };
	size_t listed[AN_NKINDS] = { 0 };

	uint64_t older = 0;

	for (int k = 0; k < AN_NKINDS; k++)
		older += r->older[k];
	if (!r->n && !older)
		return;
	sb_puts(b, "\nfindings:\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct an_finding *f = &r->v[i];
		const char *test;

		spill(b, st);
		if (listed[f->kind]++ >= FINDINGS_LISTED)
			continue;
		sb_puts(b, "  ");
		col(b, st, colors[f->kind]);
		col(b, st, C_BOLD);
		sb_printf(b, "%-8s", tags[f->kind]);
		col(b, st, C_RESET);
		sb_putc(b, ' ');
		sb_puts(b, f->message);
		test = f->proc ? pt_test_of(pt, f->proc) : NULL;
		if (test) {
			sb_puts(b, " (test: ");
			sb_put_printable(b, test, strlen(test));
			sb_putc(b, ')');
		}
		sb_putc(b, '\n');
	}
	for (int k = 0; k < AN_NKINDS; k++) {
		if (r->older[k])
			sb_printf(b, "  %s %llu older %s%s of forgotten %s, only counted\n",
				  st->utf8 ? "…" : "...", (unsigned long long)r->older[k],
				  an_kind_name(k), r->older[k] == 1 ? "" : "s",
				  k == AN_LOCK ? "locks" : "processes");
		if (listed[k] <= FINDINGS_LISTED)
			continue;
		sb_printf(b, "  %s %zu more %s%s (the JSON report lists every finding)\n",
			  st->utf8 ? "…" : "...", listed[k] - FINDINGS_LISTED, an_kind_name(k),
			  listed[k] - FINDINGS_LISTED == 1 ? "" : "s");
	}
}

void text_report(struct sbuf *b, const struct text_style *st, struct ptree *pt,
		 const struct an_result *r, const struct an_opts *o)
{
	uint64_t end = pt->ended ? pt->end_ts : pt->last_ts;
	struct view v = { .st = st, .pt = pt, .end = end,
			  .dur = end > pt->meta.t0 ? end - pt->meta.t0 : 0 };

	if (!st->no_lead)
		sb_putc(b, '\n');
	if (!st->findings_only) {
		subtrees(&v);
		busy_span(&v);
		trees(b, &v);
		free(v.sub);
		sb_putc(b, '\n');
	}
	summary(b, st, pt, r, end);
	findings_list(b, st, pt, r);
	if (pt->ntop && !st->findings_only) {
		sb_puts(b, "\nlongest lock waits:\n");
		for (size_t i = 0; i < pt->ntop; i++) {
			const struct pt_lockwait *w = &pt->top[i];

			sb_printf(b, "  %8.1f ms  ", w->dur_ns / 1e6);
			name(b, w->proc);
			sb_printf(b, " at %.1f ms on ", pt_ms(pt, w->start_ts));
			pt_lock_label(b, w->lock);
			if (w->holder) {
				sb_puts(b, ", held by ");
				holder_name(b, pt, w);
			} else if (w->waker && w->waker != w->proc->pid) {
				sb_puts(b, ", woken by ");
				by_name(b, pt, w->waker);
			}
			if (w->unfinished)
				sb_puts(b, " (still waiting at the end)");
			sb_putc(b, '\n');
			if (w->stack) {
				sb_printf(b, "%*s", 13, "");
				pt_stack_text(b, w->stack, STACK_FRAMES, st->utf8);
				sb_putc(b, '\n');
			}
			chain(b, pt, w);
		}
	}
	if (o->check) {
		sb_putc(b, '\n');
		if (r->passed) {
			col(b, st, C_GREEN C_BOLD);
			sb_puts(b, "check passed");
		} else {
			bool first = true;

			col(b, st, C_RED C_BOLD);
			sb_puts(b, "check FAILED:");
			for (int k = 0; k < AN_NKINDS; k++) {
				if ((o->check & AN_CHECK(k)) && r->count[k]) {
					sb_printf(b, "%s %u %s%s", first ? "" : ",", r->count[k],
						  an_kind_name(k), r->count[k] == 1 ? "" : "s");
					first = false;
				}
			}
			if (r->incomplete)
				sb_printf(b, "%s trace incomplete (%llu events lost)", first ? "" : ",",
					  (unsigned long long)r->lost);
		}
		col(b, st, C_RESET);
		sb_putc(b, '\n');
	}
}
