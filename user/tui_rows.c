// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The live view's rows: which processes a frame shows, in what order, with
 * which tree lines, and each row as text. PURE: the clock and the terminal
 * stay in tui.c, so unit tests feed a model and read the rows back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "out_text.h"
#include "tui_rows.h"

const struct pt_inwait *tr_inwait(const struct pt_proc *p)
{
	const struct pt_inwait *best = NULL;

	for (const struct pt_inwait *w = p->inwaits; w; w = w->next)
		if (!best || (best->child && !w->child) ||
		    (best->child == w->child && w->start_ts < best->start_ts))
			best = w;
	return best;
}

enum tr_state tr_state_of(const struct pt_proc *p)
{
	const struct pt_inwait *w;

	if (p->state == PT_REAPED)
		return TR_REAPED;
	if (p->state == PT_ZOMBIE)
		return TR_ZOMBIE;
	w = tr_inwait(p);
	if (w)
		return w->child ? TR_JOIN_WAIT : TR_LOCK_WAIT;
	return TR_RUNNING;
}

const char *tr_state_name(enum tr_state s)
{
	static const char *const n[] = {
		[TR_RUNNING] = "running", [TR_LOCK_WAIT] = "lock wait",
		[TR_JOIN_WAIT] = "join wait", [TR_ZOMBIE] = "zombie", [TR_REAPED] = "reaped",
	};

	return s <= TR_REAPED ? n[s] : "?";
}

/* The same rules as analyze(), without building messages: a frame asks
 * this of every process several times a second. */
unsigned tr_flags(const struct ptree *pt, const struct pt_proc *p, const struct an_opts *an,
		  uint64_t now)
{
	unsigned f = 0;

	if (p->exited && !p->is_root && !(p->autoreap && p->state == PT_REAPED) &&
	    ((p->orphaned_ts == PT_NONE && p->adopted_by && !p->seen_late) ||
	     an_zombie_over(pt, p, an, now)))
		f |= TR_F_ZOMBIE;
	if (p->orphaned_ts != PT_NONE)
		f |= TR_F_ORPHAN;
	if (an_is_leak(pt, p, an, now))
		f |= TR_F_LEAK;
	if (p->lock_wait.count)
		f |= TR_F_LOCK;
	for (size_t i = 0; i < pt->ndeadlocks; i++)
		for (int m = 0; m < pt->deadlocks[i].n; m++)
			if (pt->deadlocks[i].m[m].proc == p)
				f |= TR_F_DEADLOCK;
	return f;
}

/* Truncated, not rounded, so a growing age never reads ahead of itself. */
char *tr_dur(char *buf, size_t n, uint64_t ns)
{
	const uint64_t us = 1000, ms = 1000 * us, s = 1000 * ms;
	unsigned long long v;

	if (ns < ms)
		snprintf(buf, n, "%lluus", (unsigned long long)(ns / us));
	else if (ns < s)
		snprintf(buf, n, "%llums", (unsigned long long)(ns / ms));
	else if (ns < 10 * s)
		snprintf(buf, n, "%llu.%02llus", (unsigned long long)(ns / s),
			 (unsigned long long)(ns % s / (10 * ms)));
	else if (ns < 60 * s)
		snprintf(buf, n, "%llu.%llus", (unsigned long long)(ns / s),
			 (unsigned long long)(ns % s / (100 * ms)));
	else if ((v = ns / s) < 3600)
		snprintf(buf, n, "%llum%02llus", v / 60, v % 60);
	else if (v < 86400)
		snprintf(buf, n, "%lluh%02llum", v / 3600, v % 3600 / 60);
	else
		snprintf(buf, n, "%llud%02lluh", v / 86400, v % 86400 / 3600);
	return buf;
}

void tr_highlight(struct tr_ann *a, enum tr_hl hl, uint64_t now, const struct tr_view *v)
{
	/* a process that is still new stays "new" through its first exec */
	if (a->hl == TR_HL_NEW && hl == TR_HL_CHANGE && now < a->hl_until)
		return;
	a->hl = hl;
	a->hl_until = now + v->hl_ns;
}

enum tr_hl tr_note(struct tr_ann *a, enum tr_state s, const struct tr_view *v)
{
	if (!a->seen) {
		a->seen = true;
		a->shown = s;
	} else if (a->shown != s) {
		a->shown = s;
		tr_highlight(a, TR_HL_CHANGE, v->now, v);
	}
	if (a->hl != TR_HL_NONE && v->now >= a->hl_until)
		a->hl = TR_HL_NONE;
	return a->hl;
}

static bool present(const struct pt_proc *p, const struct tr_view *v)
{
	return p->state != PT_REAPED || p->reaped_ts == PT_NONE || v->now < p->reaped_ts ||
	       v->now - p->reaped_ts < v->linger_ns;
}

/* The filter is a process id, or a substring of the command line as the
 * row shows it (arguments joined by spaces), or of the name. */
static bool cmd_matches(struct tr_rows *r, const struct pt_proc *p, const char *filter)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%u", p->pid);
	if (!strcmp(pid, filter) || strcasestr(p->comm, filter))
		return true;
	r->cmd.len = 0;
	for (int i = 0; p->argv && p->argv[i]; i++) {
		if (i)
			sb_putc(&r->cmd, ' ');
		sb_puts(&r->cmd, p->argv[i]);
	}
	return r->cmd.s && strcasestr(r->cmd.s, filter);
}

static bool matches(struct tr_rows *r, const struct ptree *pt, const struct pt_proc *p,
		    const struct tr_view *v)
{
	if (v->filter && *v->filter && !cmd_matches(r, p, v->filter))
		return false;
	return !v->findings_only || tr_flags(pt, p, v->an, v->now);
}

static void grow_scratch(struct tr_rows *r, size_t n)
{
	if (n <= r->scap)
		return;
	r->scap = n + n / 2 + 64;
	r->keep = xrealloc(r->keep, r->scap * sizeof(*r->keep));
	r->nkept = xrealloc(r->nkept, r->scap * sizeof(*r->nkept));
	r->order = xrealloc(r->order, r->scap * sizeof(*r->order));
	r->lastkept = xrealloc(r->lastkept, r->scap * sizeof(*r->lastkept));
	r->childmore = xrealloc(r->childmore, (r->scap + 1) * sizeof(*r->childmore));
}

/* Preorder successor of p inside the tree of `root`; with `into` false,
 * p's own subtree is skipped. */
static struct pt_proc *next_in(struct pt_proc *p, const struct pt_proc *root, bool into, int *depth)
{
	if (into && p->child) {
		(*depth)++;
		return p->child;
	}
	while (p != root) {
		if (p->sibling)
			return p->sibling;
		p = p->parent;
		(*depth)--;
	}
	return NULL;
}

/* The model's parent links form a forest; `budget` ends a walk that would
 * go on forever if a bug ever made a cycle. */
static size_t preorder(struct tr_rows *r, const struct ptree *pt)
{
	size_t n = 0, budget = pt->nprocs;

	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *root = pt->procs[i], *p;
		int d = 0;

		if (root->parent)
			continue;
		for (p = root; p && n < budget; p = next_in(p, root, true, &d))
			r->order[n++] = p;
	}
	return n;
}

static void add_row(struct tr_rows *r, struct pt_proc *p, unsigned depth)
{
	struct tr_row *row;
	uint64_t more = depth ? r->childmore[depth - 1] : 0;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	row = &r->v[r->n++];
	memset(row, 0, sizeof(*row));
	row->p = p;
	row->depth = depth;
	row->more = more;
	row->last = !p->parent || r->lastkept[p->parent->slot] == (uint32_t)p->id;
	row->context = r->keep[p->slot] == 1;
	row->has_children = r->nkept[p->slot] > 0;
	/* what this row's children inherit: a bar where this row goes on */
	if (depth && !row->last && depth - 1 < 64)
		more |= 1ull << (depth - 1);
	r->childmore[depth] = more;
}

void tr_build(struct tr_rows *r, const struct ptree *pt, const struct tr_ann *ann,
	      const struct tr_view *v)
{
	size_t n;

	grow_scratch(r, pt->nprocs);
	memset(&r->tot, 0, sizeof(r->tot));
	r->n = 0;
	n = preorder(r, pt);
	for (size_t i = 0; i < pt->nprocs; i++) {
		r->keep[i] = 0;
		r->nkept[i] = 0;
		r->lastkept[i] = 0;
	}
	/* Reverse preorder meets children before their parent, and a
	 * parent's later children before its earlier ones. */
	for (size_t i = n; i-- > 0;) {
		struct pt_proc *p = r->order[i];
		size_t k = p->slot;

		if (present(p, v) && matches(r, pt, p, v))
			r->keep[k] |= 2;
		if (p->state == PT_RUNNING && p->orphaned_ts != PT_NONE)
			r->tot.orphans++;
		if (tr_flags(pt, p, v->an, v->now))
			r->tot.findings++;
		if (!r->keep[k] || !p->parent)
			continue;
		r->keep[p->parent->slot] |= 1;
		r->nkept[p->parent->slot] += 1 + r->nkept[k];
		if (!r->lastkept[p->parent->slot])
			r->lastkept[p->parent->slot] = p->id;
	}
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *root = pt->procs[i], *p;
		size_t budget = pt->nprocs;
		int d = 0;

		if (root->parent || !r->keep[i])
			continue;
		for (p = root; p && budget--;) {
			bool kept = r->keep[p->slot], open = !ann[p->slot].collapsed;

			if (kept) {
				add_row(r, p, d);
				if (!open)
					r->v[r->n - 1].folded = r->nkept[p->slot];
			}
			p = next_in(p, root, kept && open, &d);
		}
	}
	r->tot.shown = r->n;
	r->tot.procs = pt->nids;	/* seen, forgotten ones included */
	r->tot.live = pt->live;
	r->tot.zombies = pt->zombies_now;
}

void tr_rows_free(struct tr_rows *r)
{
	free(r->v);
	free(r->keep);
	free(r->nkept);
	free(r->order);
	free(r->lastkept);
	free(r->childmore);
	sb_free(&r->cmd);
	memset(r, 0, sizeof(*r));
}

long tr_find(const struct tr_rows *r, int id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].p->id == id)
			return i;
	return -1;
}

size_t tr_columns(const char *s, size_t len)
{
	size_t c = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

void tr_fit(struct sbuf *b, size_t from, size_t cols)
{
	size_t c = 0, i;

	for (i = from; i < b->len; i++) {
		if (((unsigned char)b->s[i] & 0xc0) != 0x80 && c++ == cols)
			break;
	}
	if (i < b->len) {
		b->len = i;
		b->s[i] = '\0';
		return;
	}
	while (c++ < cols)
		sb_putc(b, ' ');
}

/* Appends s in a field of w columns: left-aligned, or right-aligned. */
static void field(struct sbuf *b, const char *s, int w, bool right)
{
	size_t start = b->len, n = strlen(s);
	int pad = w - (int)tr_columns(s, n);

	if (right)
		while (pad-- > 0)
			sb_putc(b, ' ');
	sb_puts(b, s);
	tr_fit(b, start, w);
	sb_putc(b, ' ');
}

void tr_format_titles(struct sbuf *b, int width)
{
	size_t start = b->len;

	field(b, "PID", TR_W_PID, true);
	field(b, "STATE", TR_W_STATE, false);
	field(b, "TIME", TR_W_TIME, true);
	field(b, "EXIT", TR_W_EXIT, false);
	field(b, "LOCKED", TR_W_LOCK, true);
	field(b, "FLAG", TR_W_FLAGS, false);
	sb_puts(b, "COMMAND");
	tr_fit(b, start, width);
}

/* age of a running process, zombie time of a zombie, lifetime once reaped */
static void time_text(char *buf, size_t n, const struct pt_proc *p, uint64_t now)
{
	buf[0] = '\0';
	if (p->state == PT_ZOMBIE)
		tr_dur(buf, n, pt_zombie_ns(p, now));
	else if (p->start_ts == PT_NONE)
		return;		/* found in /proc: its start is not known */
	else if (!p->exited && now >= p->start_ts)
		tr_dur(buf, n, now - p->start_ts);
	else if (p->exited && p->exit_ts != PT_NONE && p->exit_ts >= p->start_ts)
		tr_dur(buf, n, p->exit_ts - p->start_ts);
}

static void exit_text(char *buf, size_t n, const struct pt_proc *p)
{
	buf[0] = '\0';
	if (!p->exited)
		return;
	if (pt_signaled(p))
		snprintf(buf, n, "%s%s", signal_name(pt_term_sig(p)), pt_core(p) ? "*" : "");
	else
		snprintf(buf, n, "%d", pt_exit_code(p));
}

static void tree_text(struct sbuf *b, const struct tr_row *r, bool utf8)
{
	const char *bar = utf8 ? "\u2502  " : "|  ";
	unsigned d = r->depth, from = 0;

	if (!d)
		return;
	/* Deep chains would push the command off the screen: past 20 levels
	 * only the depth is written. */
	if (d > 20) {
		sb_printf(b, "%s(%u) ", utf8 ? "\u2026" : "..", d);
		from = d - 8;
	}
	for (unsigned j = from; j + 1 < d; j++)
		sb_puts(b, j < 64 && (r->more >> j) & 1 ? bar : "   ");
	if (utf8)
		sb_puts(b, r->last ? "\u2514\u2500 " : "\u251c\u2500 ");
	else
		sb_puts(b, r->last ? "`- " : "|- ");
}

/* What runs, in `cols` columns: a fork shows whose, a Python helper its
 * role, argv its program and script first (text_argv). */
static void command_text(struct sbuf *b, const struct pt_proc *p, size_t cols, bool utf8)
{
	const char *role = text_role(p);

	if (!p->argv || !p->argv[0]) {
		/* kernel threads and processes that cleared their argv, like ps */
		sb_putc(b, '[');
		sb_put_printable(b, p->comm, strlen(p->comm));
		sb_putc(b, ']');
		return;
	}
	if (!p->argv_owned && p->parent && !p->is_root) {
		role = text_role(p->parent);
		sb_put_printable(b, p->comm, strlen(p->comm));
		sb_printf(b, " (fork of %s%s%u)", role ? role : "", role ? " " : "", p->parent->pid);
		return;
	}
	if (role) {
		sb_printf(b, "[%s] ", role);
		cols = cols > strlen(role) + 3 ? cols - strlen(role) - 3 : 1;
	}
	text_argv(b, p->argv, cols < 4096 ? cols : 4096, false, utf8);
}

const char *tr_row_state(const struct tr_row *r)
{
	enum tr_state s = tr_state_of(r->p);

	if (s != TR_RUNNING)
		return tr_state_name(s);
	switch (r->kstate) {
	case 'S': return "sleeping";
	case 'D': return "disk wait";
	case 'T': case 't': return "stopped";
	case 'Z': case 'X': return "exiting";
	case 'I': return "idle";
	default: return "running";
	}
}

static void proc_ref(struct sbuf *b, const struct ptree *pt, uint32_t pid)
{
	const struct pt_proc *q = ptree_find(pt, pid);

	if (q)
		sb_put_printable(b, q->comm, strlen(q->comm));
	sb_printf(b, "[%u]", pid);
}

void tr_wait_text(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p, uint64_t now,
		  bool brief)
{
	const struct pt_inwait *w = tr_inwait(p);
	const char *name;
	char d[32];

	if (!w || w->child || !w->lock)
		return;
	name = w->lock->name ? w->lock->name : w->lock->id;
	if (brief && w->lock->name)
		name = base_name(name);
	sb_printf(b, "%s ", pt_lock_type_name(w->lock->type));
	sb_put_printable(b, name, strlen(name));
	if (w->holder) {
		sb_puts(b, " held by ");
		proc_ref(b, pt, w->holder);
		if (w->holder_inferred)
			sb_puts(b, " (inferred)");
	}
	if (!brief && now > w->start_ts)
		sb_printf(b, " for %s", tr_dur(d, sizeof(d), now - w->start_ts));
}

void tr_format_row(struct sbuf *b, const struct ptree *pt, const struct tr_row *r,
		   const struct tr_view *v, int width)
{
	const struct pt_proc *p = r->p;
	size_t start = b->len;
	unsigned f = tr_flags(pt, p, v->an, v->now);
	uint64_t locked = p->lock_wait.total_ns;
	char buf[32], fl[8], *c = fl;
	size_t used;

	snprintf(buf, sizeof(buf), "%u", p->pid);
	field(b, buf, TR_W_PID, true);
	field(b, tr_row_state(r), TR_W_STATE, false);
	time_text(buf, sizeof(buf), p, v->now);
	field(b, buf, TR_W_TIME, true);
	exit_text(buf, sizeof(buf), p);
	field(b, buf, TR_W_EXIT, false);
	/* the waits in progress count too, or a hung wait would read 0 */
	for (const struct pt_inwait *w = p->inwaits; w; w = w->next)
		if (!w->child && v->now > w->start_ts)
			locked += v->now - w->start_ts;
	buf[0] = '\0';
	if (locked || p->lock_wait.count)
		tr_dur(buf, sizeof(buf), locked);
	field(b, buf, TR_W_LOCK, true);
	if (f & TR_F_ZOMBIE)
		*c++ = 'Z';
	if (f & TR_F_ORPHAN)
		*c++ = 'O';
	if (f & TR_F_LEAK)
		*c++ = 'L';
	if (f & TR_F_LOCK)
		*c++ = 'W';
	if (f & TR_F_DEADLOCK)
		*c++ = 'D';
	*c = '\0';
	field(b, fl, TR_W_FLAGS, false);
	tree_text(b, r, v->utf8);
	if (r->folded)
		sb_printf(b, "[+%u] ", r->folded);
	/* a lock wait in progress: its lock and holder before the command,
	 * where a narrow screen does not cut them */
	if (tr_inwait(p) && !tr_inwait(p)->child && tr_inwait(p)->lock) {
		sb_puts(b, "[waits ");
		tr_wait_text(b, pt, p, v->now, true);
		sb_puts(b, "] ");
	}
	used = tr_columns(b->s + start, b->len - start);
	command_text(b, p, width > 0 && (size_t)width > used ? (size_t)width - used : 1, v->utf8);
	tr_fit(b, start, width);
}

void tr_format_detail(struct sbuf *b, const struct ptree *pt, const struct tr_row *r,
		      const struct tr_view *v)
{
	const struct pt_proc *p = r->p;
	unsigned f = tr_flags(pt, p, v->an, v->now);
	char d[32];

	sb_put_printable(b, p->comm, strlen(p->comm));
	sb_printf(b, "[%u]", p->pid);
	if (p->parent) {
		sb_puts(b, "  parent ");
		proc_ref(b, pt, p->parent->pid);
	}
	if (p->parent && p->cur_ppid && p->cur_ppid != p->parent->pid)
		sb_printf(b, "  now child of [%u]", p->cur_ppid);
	sb_puts(b, "\ncommand: ");
	if (p->argv && p->argv[0])
		text_argv(b, p->argv, 600, false, v->utf8);
	if (!p->argv_owned && p->parent && !p->is_root)
		sb_printf(b, " (fork of %u, no exec)", p->parent->pid);
	sb_printf(b, "\nstate: %s", tr_row_state(r));
	if (r->kstate)
		sb_printf(b, " (kernel %c)", r->kstate);
	if (p->start_ts != PT_NONE && v->now > p->start_ts)
		sb_printf(b, ", started %s ago", tr_dur(d, sizeof(d), v->now - p->start_ts));
	if (p->exited) {
		sb_puts(b, ", ");
		text_fate(b, p);
	}
	if (p->threads > 1)
		sb_printf(b, ", %u threads", p->threads);
	if (tr_inwait(p) && !tr_inwait(p)->child) {
		sb_puts(b, "\nwaits on ");
		tr_wait_text(b, pt, p, v->now, false);
		if (tr_inwait(p)->stack) {
			sb_puts(b, "\n  ");
			pt_stack_text(b, tr_inwait(p)->stack, 6, v->utf8);
		}
	}
	if (p->lock_wait.count)
		sb_printf(b, "\nlock waits: %u, total %.1f ms, longest %.1f ms", p->lock_wait.count,
			  p->lock_wait.total_ns / 1e6, p->lock_wait.max_ns / 1e6);
	if (p->join_wait.count)
		sb_printf(b, "\njoin waits: %u, total %.1f ms", p->join_wait.count,
			  p->join_wait.total_ns / 1e6);
	if (f)
		sb_printf(b, "\nflags:%s%s%s%s%s", f & TR_F_ZOMBIE ? " zombie" : "",
			  f & TR_F_ORPHAN ? " orphan" : "", f & TR_F_LEAK ? " leaked" : "",
			  f & TR_F_LOCK ? " waited-on-a-lock" : "", f & TR_F_DEADLOCK ? " DEADLOCK" : "");
}

void tr_rate_add(struct tr_rates *r, enum tr_rate k, uint64_t ts)
{
	uint64_t idx = ts / TR_BUCKET_NS;
	unsigned s = idx % TR_BUCKETS;

	if (r->idx[s] != idx) {
		if (r->idx[s] > idx)
			return;	/* older than the window: late, not counted */
		r->idx[s] = idx;
		memset(r->n[s], 0, sizeof(r->n[s]));
	}
	r->n[s][k]++;
}

double tr_rate_get(const struct tr_rates *r, enum tr_rate k, uint64_t now)
{
	uint64_t cur = now / TR_BUCKET_NS, sum = 0;

	for (uint64_t idx = cur >= TR_BUCKETS ? cur - TR_BUCKETS : 0; idx < cur; idx++)
		if (r->idx[idx % TR_BUCKETS] == idx)
			sum += r->n[idx % TR_BUCKETS][k];
	return sum * 1e9 / (TR_BUCKETS * TR_BUCKET_NS);
}

static void rate_text(struct sbuf *b, const char *what, double v)
{
	sb_printf(b, v < 100 ? "  %s/s %.1f" : "  %s/s %.0f", what, v);
}

void tr_format_totals(struct sbuf *b, const struct tr_totals *t, const struct tr_rates *rates,
		      uint64_t lost, uint64_t now, int width)
{
	size_t start = b->len;

	sb_printf(b, "live %u  zombies %u  orphans %u  findings %u ", t->live, t->zombies,
		  t->orphans, t->findings);
	sb_puts(b, "|");
	rate_text(b, "forks", tr_rate_get(rates, TR_R_FORK, now));
	rate_text(b, "execs", tr_rate_get(rates, TR_R_EXEC, now));
	rate_text(b, "exits", tr_rate_get(rates, TR_R_EXIT, now));
	rate_text(b, "lock waits", tr_rate_get(rates, TR_R_LOCK, now));
	sb_printf(b, "  | lost %llu", (unsigned long long)lost);
	tr_fit(b, start, width);
}
