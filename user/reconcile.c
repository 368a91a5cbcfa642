// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Reconciling the model after lost records: see reconcile.h. Without it a
 * process whose exit record was dropped stays "running" for good, and a
 * long run with losses grows without bound (docs/performance.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "events.h"
#include "reconcile.h"
#include "util.h"

#define RC_GRACE_NS 2000000000ull	/* a found-gone process's records are due by then */
#define RC_PERIOD_NS 1000000000ull	/* passes begin at most this often */
#define RC_BATCH_EVERY_NS 10000000ull	/* a batch of lookups at most this often */
#define RC_BATCH 64			/* /proc lookups a batch */
#define RC_VISIT 1024			/* processes a batch passes over (reaped ones) */

struct rc_cand {
	uint32_t pid;
	uint32_t flags;		/* MPT_GONE_* */
	uint64_t start;		/* the kernel start time the model has */
	uint64_t seen;		/* when /proc showed it gone */
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* How far CLOCK_BOOTTIME (/proc's start times) is ahead of CLOCK_MONOTONIC
 * (the kernel's start_time): the time the machine slept. */
static uint64_t boot_offset(void)
{
	uint64_t m = clock_ns(CLOCK_MONOTONIC), b = clock_ns(CLOCK_BOOTTIME);

	return b > m ? b - m : 0;
}

void rc_init(struct reconcile *r, uint64_t t0)
{
	long hz = sysconf(_SC_CLK_TCK);

	*r = (struct reconcile){ .t0 = t0, .off0 = boot_offset() };
	r->tick_ns = hz > 0 ? 1000000000ull / hz : 10000000ull;
}

void rc_free(struct reconcile *r)
{
	free(r->cand);
	r->cand = NULL;
	r->ncand = r->cap = 0;
}

/* Does the kernel still have the process (pid, kstart)? 1 yes, 0 no, -1
 * cannot tell (then it stays as it is). */
static int still_there(const struct reconcile *r, uint32_t pid, uint64_t kstart, uint64_t off)
{
	char path[32], buf[1024];
	uint64_t ticks;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? 0 : -1;	/* it went between open and read */
	buf[n] = '\0';
	if (stat_start_ticks(buf, &ticks))
		return -1;
	/* the pid is another process's now: the one the model has is gone */
	return start_matches(kstart, ticks, kstart >= r->t0 ? r->off0 : 0, off, r->tick_ns);
}

static void add_cand(struct reconcile *r, const struct pt_proc *p, uint64_t now)
{
	if (r->ncand == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->cand = xrealloc(r->cand, r->cap * sizeof(*r->cand));
	}
	r->cand[r->ncand++] = (struct rc_cand){ .pid = p->pid, .start = p->kstart, .seen = now,
						.flags = p->state == PT_ZOMBIE ? MPT_GONE_ZOMBIE : 0 };
}

/* The first slot whose process came after id `after` (ids grow with slots). */
static size_t slot_after(const struct ptree *pt, int after)
{
	size_t lo = 0, hi = pt->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pt->procs[mid]->id <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One batch of the pass: the next processes held as running or zombies. */
static void look_up(struct reconcile *r, struct ptree *pt, uint64_t now)
{
	uint64_t off = boot_offset();
	size_t i = slot_after(pt, r->cursor), asked = 0, visited = 0;

	for (; i < pt->nprocs && asked < RC_BATCH && visited < RC_VISIT; i++, visited++) {
		const struct pt_proc *p = pt->procs[i];

		r->cursor = p->id;
		/* a snapshot process whose start time was never learnt cannot
		 * be told from a later one with its pid: left as it is */
		if (p->state == PT_REAPED || !p->kstart || p->is_root)
			continue;
		asked++;
		r->looked_up++;
		if (!still_there(r, p->pid, p->kstart, off))
			add_cand(r, p, now);
	}
	if (i >= pt->nprocs)
		r->active = false;
}

/*
 * A process that /proc no longer has may still have records in flight: its
 * release comes an RCU grace period after /proc lost it, and the ring may
 * hold more. Once the ring has been emptied (or has given records) past
 * RC_GRACE_NS after the lookup, what did not come was lost. The model
 * refuses the record if the process's records came after all.
 */
static void confirm(struct reconcile *r, struct ptree *pt, bool drained, uint64_t now,
		    rc_feed_fn feed, void *ctx)
{
	size_t j = 0;

	for (size_t i = 0; i < r->ncand; i++) {
		const struct rc_cand *c = &r->cand[i];
		uint64_t due = c->seen + RC_GRACE_NS;
		struct mpt_gone g = { .h = { .type = MPT_EV_GONE, .size = sizeof(g), .ts = now,
					     .pid = c->pid, .tid = c->pid, .start = c->start },
				      .flags = c->flags };

		if (!(drained && now >= due) && pt->last_ts < due) {
			r->cand[j++] = *c;
			continue;
		}
		if (pt->last_ts > g.h.ts)
			g.h.ts = pt->last_ts;
		feed(ctx, &g, sizeof(g));
	}
	r->ncand = j;
}

void rc_step(struct reconcile *r, struct ptree *pt, uint64_t lost, bool drained, uint64_t now,
	     rc_feed_fn feed, void *ctx)
{
	if (!pt->forgets || pt->ended)
		return;
	if (r->ncand)
		confirm(r, pt, drained, now, feed, ctx);
	if (!r->active && lost > r->lost_seen && now >= r->next_pass) {
		/* what was dropped until now is looked for from the oldest */
		r->active = true;
		r->cursor = 0;
		r->lost_seen = lost;
		r->next_pass = now + RC_PERIOD_NS;
	}
	if (r->active && now >= r->next_batch) {
		r->next_batch = now + RC_BATCH_EVERY_NS;
		look_up(r, pt, now);
	}
}
