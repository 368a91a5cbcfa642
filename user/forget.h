/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A model that forgets (-a, top, -p): PURE. Runs for days stay bounded by
 * what is alive. Past `keep` reaped processes, the oldest ones are folded
 * into totals (per comm), their findings go to a ring of the last `ring`
 * (older ones only counted), and ptree_forget() frees them. Processes held
 * by a zombie, a wait in progress, a lock-wait record or a deadlock are
 * never on the reaped list, so never forgotten.
 */
#ifndef MPTRACE_FORGET_H
#define MPTRACE_FORGET_H

#include "analyze.h"
#include "ptree.h"

#define FG_KEEP 8192		/* reaped processes kept, at most */
#define FG_KEEP_VIEW 64		/* the same for mptrace top with no report: past the
				 * view's grace, its rows are what is alive */
#define FG_RING 1024		/* findings of forgotten processes kept */
#define FG_LIVE_GRACE_NS 6000000000ull	/* the live view shows a reaped process 5 s */
#define FG_GRACE_MAX 2048	/* reaped processes kept for that grace, at most: in a
				 * storm the oldest go sooner (no screen shows more),
				 * so memory is bounded by count, not by rate x 6 s */

struct fg_comm {		/* forgotten processes of one comm */
	char comm[MPT_COMM_LEN + 1];
	uint64_t processes;
	uint64_t failed;	/* exited with a status other than 0 */
	uint64_t signaled;	/* killed by a signal */
};

struct fg_kept {		/* a finding of a forgotten process */
	struct an_finding f;	/* f.proc is ghost */
	struct pt_proc ghost;	/* the process's fields, without its links */
};

struct fg_state {
	size_t keep;		/* reaped processes kept; past it, down to keep / 2 */
	uint64_t grace_ns;	/* a reaped process stays this long at least (the live view) */
	struct fg_kept *ring;
	size_t ring_max, ring_n, ring_next;
	uint64_t older[AN_NKINDS];	/* findings that left the ring */
	uint64_t threads, max_zombie_ns;
	struct fg_comm *comms;	/* open addressing, FG_COMM_SLOTS */
	size_t ncomms;
	struct fg_comm other;	/* past FG_COMMS distinct comms */
	struct pt_proc **batch;
	size_t batch_cap;
	struct an_result scratch;
};

struct fg_state *fg_new(size_t keep, size_t ring, uint64_t grace_ns);
void fg_free(struct fg_state *fg);
/*
 * Forgets the oldest reaped processes of pt (pt->fg) when more than keep
 * are kept, down to keep / 2, none reaped less than grace_ns before `now`
 * (event time). O(1) when there is nothing to do. moved is passed on to
 * ptree_forget(). Returns how many processes were forgotten.
 */
size_t fg_step(struct ptree *pt, const struct an_opts *an, uint64_t now,
	       void (*moved)(void *ctx, uint32_t from, uint32_t to), void *ctx);
/* analyze(): the kept findings of forgotten processes first, and the counts. */
void fg_results(const struct fg_state *fg, struct an_result *r);
/* The per-comm totals, most processes first (free the array). */
struct fg_comm *fg_comms(const struct fg_state *fg, size_t *n);

#endif
