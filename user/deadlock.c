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
			uint32_t hp = w->holder ? w->holder : pt_infer_holder(pt, p, w);
			const struct pt_proc *h = hp ? ptree_find(pt, hp) : NULL;

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
 * From the processes with waits in progress (ptree.waiting), not every
 * process kept: a long run's tracked processes are mostly not waiting. Of
 * the waiting processes in a new cycle, the first created is looked from,
 * as a walk of every process in creation order did. (Not only from the
 * waits that just became old: a holder may be inferred later, from
 * mappings read after the waits began, pt_infer_holder().)
 */
bool dl_detect(const struct ptree *pt, uint64_t now, uint64_t after, struct mpt_deadlock *rec)
{
	struct search s = { .pt = pt, .now = now, .after = after };
	const struct pt_proc *best = NULL;

	if (!pt->ninwaits)
		return false;
	for (const struct pt_proc *p = pt->waiting; p; p = p->wnext)
		if ((!best || p->id < best->id) && search_from(&s, p))
			best = p;
	if (!best)
		return false;
	search_from(&s, best);
	make_record(&s, rec);
	return true;
}

size_t dl_maps_wanted(const struct ptree *pt, uint64_t now, uint64_t after,
		      const struct pt_proc **out, size_t max)
{
	uint64_t newest = 0;
	size_t n = 0;

	if (!pt->ninwaits || pt->meta.mode == PT_MODE_SYSTEM)
		return 0;
	/* the newest semaphore wait old enough for a cycle, with no holder seen */
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[i];

		for (const struct pt_inwait *w = p->inwaits; !p->exited && w; w = w->next) {
			if (w->child || w->holder || now < w->start_ts || now - w->start_ts < after ||
			    !pt_sem_lock(w->lock))
				continue;
			if (w->start_ts > newest)
				newest = w->start_ts;
		}
	}
	if (!newest)
		return 0;
	for (size_t i = 0; i < pt->nprocs && n < max; i++) {
		const struct pt_proc *p = pt->procs[i];

		if (!p->exited && p->pid != pt->meta.self_pid && p->maps_ts < newest)
			out[n++] = p;
	}
	return n;
}
