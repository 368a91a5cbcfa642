// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <string.h>
#include "deadlock.h"

struct edge {
	const struct pt_proc *to;
	const struct pt_inwait *w;
};

/* The processes p's old-enough waits point at, at most `max`. */
static int edges_of(const struct ptree *pt, const struct pt_proc *p, uint64_t now, uint64_t after,
		    struct edge *out, int max)
{
	int n = 0;

	for (const struct pt_inwait *w = p->inwaits; w && n < max; w = w->next) {
		if (now < w->start_ts || now - w->start_ts < after)
			continue;
		if (!w->child) {
			const struct pt_proc *h = w->holder ? ptree_find(pt, w->holder) : NULL;

			if (h && h != p && !h->exited)
				out[n++] = (struct edge){ h, w };
			continue;
		}
		for (const struct pt_proc *c = p->child; c && n < max; c = c->sibling) {
			if (c->exited || c->cur_ppid != p->pid)
				continue;
			if (w->target > 0 && (uint32_t)w->target != c->pid)
				continue;
			out[n++] = (struct edge){ c, w };
		}
	}
	return n;
}

static bool reported(const struct ptree *pt, const struct pt_proc *const *cyc, int n)
{
	for (size_t i = 0; i < pt->ndeadlocks; i++) {
		const struct pt_deadlock *d = &pt->deadlocks[i];
		int same = 0;

		if (d->n != n)
			continue;
		for (int a = 0; a < n; a++)
			for (int b = 0; b < n; b++)
				same += d->m[a].proc == cyc[b];
		if (same == n)
			return true;
	}
	return false;
}

struct search {
	const struct ptree *pt;
	uint64_t now, after;
	const struct pt_proc *path[MPT_DL_MAX];
	const struct pt_inwait *via[MPT_DL_MAX];
	int depth;
};

/* Depth-first from path[0]; true when an edge leads back to it. */
static bool dfs(struct search *s, const struct pt_proc *p)
{
	struct edge e[16];
	int n;

	s->path[s->depth] = p;
	n = edges_of(s->pt, p, s->now, s->after, e, 16);
	for (int i = 0; i < n; i++) {
		bool seen = false;

		s->via[s->depth] = e[i].w;
		if (e[i].to == s->path[0] && s->depth >= 1) {
			s->depth++;
			if (!reported(s->pt, s->path, s->depth))
				return true;
			s->depth--;
			continue;
		}
		for (int k = 0; k <= s->depth; k++)
			seen |= s->path[k] == e[i].to;
		if (seen || s->depth + 1 >= MPT_DL_MAX)
			continue;
		s->depth++;
		if (dfs(s, e[i].to))
			return true;
		s->depth--;
	}
	return false;
}

/* The cycle in s->path, told from its first-created member, as a walk of
 * every process in creation order told it. */
static void make_record(const struct search *s, struct mpt_deadlock *rec)
{
	int first = 0;

	for (int k = 1; k < s->depth; k++)
		if (s->path[k]->id < s->path[first]->id)
			first = k;
	memset(rec, 0, sizeof(*rec));
	rec->n = s->depth;
	for (int j = 0; j < s->depth; j++) {
		int k = (first + j) % s->depth;
		struct mpt_dl_member *m = &rec->m[j];
		const struct pt_inwait *w = s->via[k];

		m->pid = s->path[k]->pid;
		m->start = s->path[k]->kstart;
		m->since = w->start_ts;
		if (!w->child) {
			m->kind = w->lock->type + 1;
			m->flags = w->lock->kflags;
			m->dev = w->lock->kdev;
			m->ino = w->lock->kino;
			m->off = w->lock->koff;
		}
	}
}

static bool search_from(struct search *s, const struct pt_proc *p)
{
	if (!p || p->exited || !p->inwaits)
		return false;
	s->depth = 0;
	return dfs(s, p);
}

/*
 * A cycle is complete when its youngest wait becomes old enough (`after`):
 * every edge is a wait, and a wait's holder is fixed when it begins. So the
 * search looks from the processes whose waits just became old (ptree.young,
 * in order of beginning), not from every process each scan. A process that
 * was in a cycle is looked from again, for a second cycle, before it goes.
 */
bool dl_detect(struct ptree *pt, uint64_t now, uint64_t after, struct mpt_deadlock *rec)
{
	struct search s = { .pt = pt, .now = now, .after = after };

	if (!pt->ninwaits) {
		pt->young_n = 0;
		pt->young_over = false;
		return false;
	}
	if (pt->young_over) {
		/* the ring overflowed: from every waiting process, once */
		pt->young_over = false;
		for (const struct pt_proc *p = pt->waiting; p; p = p->wnext) {
			if (search_from(&s, p)) {
				make_record(&s, rec);
				pt->young_over = true;	/* and again, for more */
				return true;
			}
		}
		return false;
	}
	while (pt->young_n) {
		const struct pt_young *y = &pt->young[pt->young_head];
		const struct pt_proc *p;

		if (now < y->start_ts || now - y->start_ts < after)
			break;		/* the next ones began later still */
		p = ptree_find(pt, y->pid);
		if (p && (p->kstart == y->kstart || !y->kstart) && search_from(&s, p)) {
			make_record(&s, rec);
			return true;
		}
		pt->young_head = (pt->young_head + 1) % PT_YOUNG_MAX;
		pt->young_n--;
	}
	return false;
}
