// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "forget.h"
#include "out_text.h"

static const char *st_arrow(void)
{
	return "\\_";
}

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

static void argv_text(struct sbuf *b, char **argv, size_t max)
{
	size_t start = b->len;

	for (int i = 0; argv && argv[i]; i++) {
		if (i)
			sb_putc(b, ' ');
		sb_put_shell_word(b, argv[i]);
		if (max && b->len - start > max) {
			b->len = start + max;
			b->s[b->len] = '\0';
			sb_puts(b, "...");
			break;
		}
	}
}

void text_fate(struct sbuf *b, const struct pt_proc *p)
{
	if (!p->exited)
		sb_puts(b, "running");
	else if (pt_signaled(p))
		sb_printf(b, "killed by %s%s", signal_name(pt_term_sig(p)),
			  pt_core(p) ? " (core dumped)" : "");
	else
		sb_printf(b, "exit %d", pt_exit_code(p));
}

static void prefix(struct sbuf *b, const struct text_style *st, const struct ptree *pt, uint64_t ts,
		   const struct pt_proc *p)
{
	size_t start;

	col(b, st, C_DIM);
	sb_printf(b, "%10.3f ", pt_ms(pt, ts));
	col(b, st, C_RESET);
	start = b->len;
	if (p)
		name(b, p);
	while (b->len - start < 22)
		sb_putc(b, ' ');
	sb_putc(b, ' ');
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

void text_event(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		const struct mpt_hdr *ev, const struct pt_change *chg)
{
	const struct pt_proc *p = chg->proc;
	const char *arrow = st->utf8 ? "→" : "->";

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
		argv_text(b, p->argv, 200);
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
		if (pt_signaled(p) && p->killer_pid) {
			sb_puts(b, " from ");
			by_name(b, pt, p->killer_pid);
		}
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
	case MPT_EV_WAIT: {
		const struct pt_proc *c = chg->other;

		if (!c)
			return;
		prefix(b, st, pt, ev->ts, p);
		if (!p)
			sb_printf(b, "mptrace[%u] ", ev->pid);
		sb_puts(b, "reaped ");
		name(b, c);
		sb_printf(b, " (zombie for %.1f ms", pt_zombie_ns(c, ev->ts) / 1e6);
		if (c->reap == PT_REAP_ADOPTER)
			sb_puts(b, ", as its adopter");
		sb_puts(b, ")\n");
		return;
	}
	case MPT_EV_FREE:
		/* Released without a traced wait: init, an untraced parent, or auto-reap. */
		if (!p || p->state != PT_REAPED || p->reaped_ts != ev->ts)
			return;
		prefix(b, st, pt, ev->ts, p);
		if (p->reap == PT_REAP_AUTO)
			sb_puts(b, "released by the kernel (auto-reap, SIGCHLD ignored)");
		else {
			sb_puts(b, "reaped by ");
			by_name(b, pt, p->reaped_by);
			if (p->reap == PT_REAP_ADOPTER)
				sb_puts(b, ", its adopter,");
		}
		sb_printf(b, " after %.1f ms as a zombie\n", pt_zombie_ns(p, ev->ts) / 1e6);
		return;
	case MPT_EV_LOCK: {
		const struct mpt_lock *e = (const void *)ev;
		const struct pt_lock *l = chg->lock;

		prefix(b, st, pt, ev->ts, p);
		col(b, st, C_YELLOW);
		sb_printf(b, "lock wait %.1f ms", (ev->ts - e->start_ts) / 1e6);
		col(b, st, C_RESET);
		sb_printf(b, " on %s ", pt_lock_type_name(l->type));
		if (l->name)
			sb_put_printable(b, l->name, strlen(l->name));
		else
			sb_puts(b, l->id);
		if (pt->nwaitlog && pt->waitlog[pt->nwaitlog - 1].holder &&
		    pt->waitlog[pt->nwaitlog - 1].proc == p) {
			sb_puts(b, " held by ");
			by_name(b, pt, pt->waitlog[pt->nwaitlog - 1].holder);
		} else if (e->waker && e->waker != ev->pid) {
			sb_puts(b, " (woken by ");
			by_name(b, pt, e->waker);
			sb_putc(b, ')');
		}
		if (ev->tid != ev->pid)
			sb_printf(b, " [thread %u]", ev->tid);
		sb_putc(b, '\n');
		return;
	}
	case MPT_EV_SIGNAL: {
		const struct mpt_signal *e = (const void *)ev;

		prefix(b, st, pt, ev->ts, p);
		sb_printf(b, "signal %s from ", signal_name(e->sig));
		sb_put_printable(b, e->sender_comm, strnlen(e->sender_comm, MPT_COMM_LEN));
		sb_printf(b, "[%u]\n", e->sender_pid);
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
	default:
		return;
	}
}

void text_zombie_alert(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		       const struct pt_proc *p, uint64_t now)
{
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

static void tree_line(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		      const struct pt_proc *p, uint64_t end)
{
	col(b, st, C_BOLD);
	name(b, p);
	col(b, st, C_RESET);
	sb_putc(b, ' ');
	argv_text(b, p->argv, 60);
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
	if (pt_signaled(p) && p->killer_pid) {
		sb_puts(b, " from ");
		by_name(b, pt, p->killer_pid);
	}
	if (p->state == PT_REAPED && !p->is_root) {
		if (p->reap == PT_REAP_AUTO)
			sb_puts(b, ", auto-reaped");
		else if (p->reap == PT_REAP_ADOPTER)
			sb_printf(b, ", reaped by adopter [%u]", p->reaped_by);
		else if (pt_zombie_ns(p, end) >= 1000000)
			sb_printf(b, ", reaped after %.1f ms", pt_zombie_ns(p, end) / 1e6);
	} else if (p->state == PT_ZOMBIE) {
		sb_puts(b, ", unreaped");
	}
	if (p->threads > 1)
		sb_printf(b, ", %u threads", p->threads);
	if (p->lock_wait.count)
		sb_printf(b, ", lock wait %.1f ms", p->lock_wait.total_ns / 1e6);
	if (p->join_wait.count && p->join_wait.total_ns >= 1000000)
		sb_printf(b, ", join wait %.1f ms", p->join_wait.total_ns / 1e6);
	markers(b, st, pt, p, end);
	sb_putc(b, '\n');
}

/* Siblings this alike and this many are summarised in one line. */
#define FOLD_MIN 12
#define FOLD_KEEP 3

static bool plain_sibling(const struct pt_proc *p)
{
	return !p->child && !p->findings && p->exited && !pt_signaled(p) && !pt_exit_code(p) &&
	       p->state == PT_REAPED && p->reap == PT_REAP_PARENT;
}

struct tree_it {
	const struct pt_proc **kids;	/* a NULL entry stands for the fold line */
	size_t n, i, folded, plen;
	size_t links;			/* the fold line is a chain's, of this many links */
	const struct pt_proc *first;	/* the chain's first folded link */
	const struct pt_proc *resume;	/* the chain's first link after its fold line */
};

static void kids_of(const struct pt_proc *p, struct tree_it *it)
{
	size_t cnt = 0, plain = 0, k = 0, shown = 0;

	memset(it, 0, sizeof(*it));
	for (const struct pt_proc *c = p->child; c; c = c->sibling) {
		cnt++;
		plain += plain_sibling(c);
	}
	if (!cnt)
		return;
	it->kids = xcalloc(cnt + 1, sizeof(*it->kids));
	for (const struct pt_proc *c = p->child; c; c = c->sibling) {
		if (plain >= FOLD_MIN && plain_sibling(c) && shown++ >= FOLD_KEEP)
			continue;
		it->kids[k++] = c;
	}
	if (plain >= FOLD_MIN) {
		it->folded = plain - FOLD_KEEP;
		it->kids[k++] = NULL;
	}
	it->n = k;
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

/* The fold line of a chain's middle: how many links, and their findings
 * (listed one by one under "findings:"). */
static void chain_line(struct sbuf *b, const struct text_style *st, const struct tree_it *it)
{
	unsigned count[AN_NKINDS] = { 0 };
	const struct pt_proc *p = it->first;
	bool any = false;

	for (size_t i = 0; i < it->links; i++, p = p->child)
		for (int k = 0; k < AN_NKINDS; k++)
			count[k] += !!(p->findings & AN_CHECK(k));
	col(b, st, C_DIM);
	sb_printf(b, "%s %zu more links of this fork chain, each the only child of the one before: ",
		  st->utf8 ? "…" : "...", it->links);
	sb_put_printable(b, it->first->comm, strlen(it->first->comm));
	sb_puts(b, ", ");
	text_fate(b, it->first);
	for (int k = 0; k < AN_NKINDS; k++) {
		if (!count[k])
			continue;
		sb_printf(b, "%s%u %s%s", any ? ", " : "; ", count[k], an_kind_name(k),
			  count[k] == 1 ? "" : "s");
		any = true;
	}
	col(b, st, C_RESET);
	sb_putc(b, '\n');
}

static bool chain_link(const struct pt_proc *p)
{
	return p->child && p->child == p->last_child && same_link(p, p->child);
}

/* The links below the first of a chain that fold, or 0; *first is the
 * first folded link, *resume the first link shown after the fold line. */
static size_t chain_fold(const struct pt_proc *p, const struct pt_proc **first,
			 const struct pt_proc **resume)
{
	const struct pt_proc *q = p;
	size_t len = 0;

	if (p->parent && chain_link(p->parent) && p->parent->child == p)
		return 0;	/* not the first link: its chain was handled */
	while (chain_link(q)) {
		q = q->child;
		len++;
	}
	if (len < CHAIN_FOLD_MIN)
		return 0;
	/* q is the last link; step back to show CHAIN_KEEP of them */
	*first = p->child;
	*resume = p;
	for (size_t i = 0; i < len - CHAIN_KEEP + 1; i++)
		*resume = (*resume)->child;
	return len - CHAIN_KEEP;
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
static void open_level(struct tree_it *it, const struct pt_proc *p, size_t plen)
{
	const struct pt_proc *first = NULL, *resume = NULL;
	size_t links = chain_fold(p, &first, &resume);

	if (links) {
		memset(it, 0, sizeof(*it));
		it->kids = xcalloc(1, sizeof(*it->kids));
		it->n = 1;
		it->links = links;
		it->first = first;
		it->resume = resume;
	} else {
		kids_of(p, it);
	}
	it->plen = plen;
}

/* Depth-first, with an explicit stack: fork chains can be very deep. */
static void tree(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		 const struct pt_proc *root, uint64_t end)
{
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
	tree_line(b, st, pt, root, end);
	stack = xcalloc(cap, sizeof(*stack));
	open_level(push_it(&stack, &n, &cap), root, 0);
	while (n) {
		struct tree_it *top = &stack[n - 1];
		const struct pt_proc *c;
		bool last;

		if (top->i == top->n) {
			free(top->kids);
			n--;
			continue;
		}
		c = top->kids[top->i++];
		last = top->i == top->n;
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
		if (!c && top->links) {
			const struct pt_proc *resume = top->resume;
			struct tree_it *it;

			chain_line(b, st, top);
			if (n <= TREE_MAX_INDENT)
				sb_puts(&pre, "   ");
			it = push_it(&stack, &n, &cap);
			it->kids = xcalloc(1, sizeof(*it->kids));
			it->kids[0] = resume;
			it->n = 1;
			it->plen = pre.len;
			continue;
		}
		if (!c) {
			col(b, st, C_DIM);
			sb_printf(b, "... %zu more children that exited 0 and were reaped\n",
				  top->folded);
			col(b, st, C_RESET);
			continue;
		}
		tree_line(b, st, pt, c, end);
		spill(b, st);
		if (n <= TREE_MAX_INDENT)
			sb_puts(&pre, last ? "   " : bar);
		open_level(push_it(&stack, &n, &cap), c, pre.len);
	}
	free(stack);
	sb_free(&pre);
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
		sb_printf(b, "; INCOMPLETE: %llu events lost", (unsigned long long)pt->lost);
		if (pt->lost_track)
			sb_printf(b, ", %llu processes untracked (pid map full)",
				  (unsigned long long)pt->lost_track);
		col(b, st, C_RESET);
	} else {
		sb_puts(b, "; 0 events lost");
	}
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
		sb_printf(b, "%*s%s which was itself waiting %.1f ms on %s ", 14 + 2 * depth, "",
			  st_arrow(), next->dur_ns / 1e6, pt_lock_type_name(next->lock->type));
		if (next->lock->name)
			sb_put_printable(b, next->lock->name, strlen(next->lock->name));
		else
			sb_puts(b, next->lock->id);
		if (next->holder) {
			sb_puts(b, " held by ");
			by_name(b, pt, next->holder);
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
			sb_printf(b, "  %s %llu older %s%s of forgotten processes, only counted\n",
				  st->utf8 ? "…" : "...", (unsigned long long)r->older[k],
				  an_kind_name(k), r->older[k] == 1 ? "" : "s");
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

	sb_putc(b, '\n');
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[i];

		if (!p->parent)
			tree(b, st, pt, p, end);
	}
	sb_putc(b, '\n');
	summary(b, st, pt, r, end);
	findings_list(b, st, pt, r);
	if (pt->ntop) {
		sb_puts(b, "\nlongest lock waits:\n");
		for (size_t i = 0; i < pt->ntop; i++) {
			const struct pt_lockwait *w = &pt->top[i];

			sb_printf(b, "  %8.1f ms  ", w->dur_ns / 1e6);
			name(b, w->proc);
			sb_printf(b, " at %.1f ms on %s ", pt_ms(pt, w->start_ts),
				  pt_lock_type_name(w->lock->type));
			if (w->lock->name)
				sb_put_printable(b, w->lock->name, strlen(w->lock->name));
			else
				sb_puts(b, w->lock->id);
			if (w->holder) {
				sb_puts(b, ", held by ");
				by_name(b, pt, w->holder);
			} else if (w->waker && w->waker != w->proc->pid) {
				sb_puts(b, ", woken by ");
				by_name(b, pt, w->waker);
			}
			if (w->unfinished)
				sb_puts(b, " (still waiting at the end)");
			sb_putc(b, '\n');
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
					  (unsigned long long)pt->lost);
		}
		col(b, st, C_RESET);
		sb_putc(b, '\n');
	}
}
