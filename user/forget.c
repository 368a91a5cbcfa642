// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Forgetting reaped processes (forget.h). PURE: the caller says what time it
 * is (the newest event's), so a recording replays the same forgetting.
 */
#include <stdlib.h>
#include <string.h>
#include "forget.h"
#include "util.h"

#define FG_COMMS 1024		/* distinct comms counted; the rest are "other" */
#define FG_COMM_SLOTS 2048

struct fg_state *fg_new(size_t keep, size_t ring, uint64_t grace_ns)
{
	struct fg_state *fg = xcalloc(1, sizeof(*fg));

	fg->keep = keep ? keep : 1;
	fg->grace_ns = grace_ns;
	fg->ring_max = ring ? ring : 1;
	fg->ring = xcalloc(fg->ring_max, sizeof(*fg->ring));
	fg->comms = xcalloc(FG_COMM_SLOTS, sizeof(*fg->comms));
	strcpy(fg->other.comm, "(other)");
	return fg;
}

static void kept_clear(struct fg_kept *k)
{
	free(k->f.message);
	free(k->ghost.test);
	memset(k, 0, sizeof(*k));
}

void fg_free(struct fg_state *fg)
{
	if (!fg)
		return;
	for (size_t i = 0; i < fg->ring_n; i++)
		kept_clear(&fg->ring[i]);
	free(fg->ring);
	free(fg->comms);
	free(fg->batch);
	an_result_free(&fg->scratch);
	free(fg);
}

static void count_comm(struct fg_state *fg, const struct pt_proc *p)
{
	unsigned h = 5381;
	struct fg_comm *c = &fg->other;

	for (const char *s = p->comm; *s; s++)
		h = h * 33 + (unsigned char)*s;
	for (size_t i = 0; i < FG_COMM_SLOTS; i++) {
		struct fg_comm *e = &fg->comms[(h + i) & (FG_COMM_SLOTS - 1)];

		if (!strcmp(e->comm, p->comm) && e->processes) {
			c = e;
			break;
		}
		if (!e->processes) {
			if (fg->ncomms < FG_COMMS) {
				memcpy(e->comm, p->comm, sizeof(e->comm));
				fg->ncomms++;
				c = e;
			}
			break;
		}
	}
	c->processes++;
	c->failed += p->exited && !pt_signaled(p) && pt_exit_code(p);
	c->signaled += pt_signaled(p);
}

/* A finding outlives its process: the ring keeps it with a copy of the
 * process's own fields (no links: they may go too). */
static void keep_finding(struct fg_state *fg, struct an_finding *f, const struct pt_proc *p)
{
	struct fg_kept *k = &fg->ring[fg->ring_next];

	if (fg->ring_n == fg->ring_max)
		fg->older[k->f.kind]++;
	else
		fg->ring_n++;
	kept_clear(k);
	fg->ring_next = (fg->ring_next + 1) % fg->ring_max;
	k->ghost = *p;
	k->ghost.parent = k->ghost.child = k->ghost.sibling = k->ghost.last_child = NULL;
	k->ghost.hnext = k->ghost.znext = k->ghost.zprev = k->ghost.rnext = k->ghost.rprev = NULL;
	k->ghost.argv = k->ghost.snap_argv = k->ghost.argv_copy = NULL;
	k->ghost.argc = 0;
	k->ghost.execs = NULL;
	k->ghost.nexecs = 0;
	k->ghost.sigs = NULL;
	k->ghost.spans = NULL;
	k->ghost.nspans = 0;
	k->ghost.inwaits = NULL;
	k->ghost.wnext = k->ghost.wprev = NULL;
	k->ghost.waiting = false;
	k->ghost.threads_l = NULL;
	k->ghost.lineage = NULL;
	k->ghost.test = p->test ? xstrdup(p->test) : NULL;
	k->f = *f;
	k->f.proc = &k->ghost;
	f->message = NULL;	/* the ring owns it now */
}

static void fold(struct fg_state *fg, struct ptree *pt, struct pt_proc *p,
		 const struct an_opts *an, uint64_t now)
{
	struct an_result *r = &fg->scratch;

	r->n = 0;
	r->threads = 0;
	an_process(pt, p, an, now, r);
	for (size_t i = 0; i < r->n; i++)
		keep_finding(fg, &r->v[i], p);
	r->n = 0;
	fg->threads += p->threads;
	if (r->max_zombie_ns > fg->max_zombie_ns)
		fg->max_zombie_ns = r->max_zombie_ns;
	count_comm(fg, p);
}

size_t fg_step(struct ptree *pt, const struct an_opts *an, uint64_t now,
	       void (*moved)(void *ctx, uint32_t from, uint32_t to), void *ctx)
{
	struct fg_state *fg = pt->fg;
	size_t n = 0;

	if (!fg)
		return 0;
	/* a forgotten lock's finding is only counted */
	fg->older[AN_LOCK] += ptree_forget_locks(pt, PT_KEEP_LOCKS);
	ptree_forget_stacks(pt);
	if (pt->nreaped <= fg->keep)
		return 0;
	if (fg->batch_cap < pt->nreaped) {
		fg->batch_cap = pt->nreaped * 2;
		fg->batch = xrealloc(fg->batch, fg->batch_cap * sizeof(*fg->batch));
	}
	for (struct pt_proc *p = pt->reaped; p && pt->nreaped - n > fg->keep / 2; p = p->rnext) {
		if (p->reaped_ts != PT_NONE && p->reaped_ts + fg->grace_ns > now &&
		    pt->nreaped - n <= FG_GRACE_MAX)
			break;	/* still on the live view */
		fg->batch[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		fold(fg, pt, fg->batch[i], an, now);
	if (n)
		ptree_forget(pt, fg->batch, n, moved, ctx);
	return n;
}

void fg_results(const struct fg_state *fg, struct an_result *r)
{
	size_t first = fg->ring_n == fg->ring_max ? fg->ring_next : 0;

	for (int k = 0; k < AN_NKINDS; k++) {
		r->older[k] = fg->older[k];
		r->count[k] += fg->older[k];
	}
	for (size_t i = 0; i < fg->ring_n; i++) {
		const struct fg_kept *k = &fg->ring[(first + i) % fg->ring_max];
		struct an_finding *f;

		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 16;
			r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
		}
		f = &r->v[r->n++];
		*f = k->f;
		f->message = xstrdup(k->f.message ? k->f.message : "");
		r->count[f->kind]++;
	}
	r->forgotten = r->n;
	r->threads += fg->threads;
	if (fg->max_zombie_ns > r->max_zombie_ns)
		r->max_zombie_ns = fg->max_zombie_ns;
}

static int by_count(const void *a, const void *b)
{
	const struct fg_comm *x = a, *y = b;

	if (x->processes != y->processes)
		return x->processes < y->processes ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

struct fg_comm *fg_comms(const struct fg_state *fg, size_t *n)
{
	struct fg_comm *v = xcalloc(fg->ncomms + 2, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < FG_COMM_SLOTS; i++)
		if (fg->comms[i].processes)
			v[k++] = fg->comms[i];
	qsort(v, k, sizeof(*v), by_count);
	if (fg->other.processes)
		v[k++] = fg->other;
	*n = k;
	return v;
}
