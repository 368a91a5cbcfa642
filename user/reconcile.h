/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * After the ring buffer dropped records (-a, top, -p, daemon): the model
 * may hold as running or zombies processes whose exit or release record was
 * lost. They are looked up in /proc, a few at a time, and those the kernel
 * no longer has (the pid gone, or another process's: start times differ)
 * are fed to the model as MPT_EV_GONE records. docs/design.md "Reconciling
 * after a loss": this reads /proc to repair a known loss; it is no event
 * source.
 */
#ifndef MPTRACE_RECONCILE_H
#define MPTRACE_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>
#include "ptree.h"

struct rc_cand;

struct reconcile {
	uint64_t lost_seen;	/* drops counted when the last pass began */
	bool active;		/* a pass is under way */
	int cursor;		/* the pass goes on after the process with this id */
	uint64_t next_pass;	/* no pass begins before (monotonic ns) */
	uint64_t next_batch;	/* no batch of lookups before */
	uint64_t t0;		/* tracing began (monotonic ns) */
	uint64_t off0;		/* CLOCK_BOOTTIME - CLOCK_MONOTONIC then */
	uint64_t tick_ns;	/* one clock tick of /proc/PID/stat */
	struct rc_cand *cand;	/* found gone, waiting for their records to be due */
	size_t ncand, cap;
	uint64_t looked_up;	/* /proc lookups made */
};

typedef void (*rc_feed_fn)(void *ctx, const void *rec, size_t len);

void rc_init(struct reconcile *r, uint64_t t0);
void rc_free(struct reconcile *r);
/*
 * Once per turn of the event loop: `lost` is every drop counted so far,
 * `drained` whether the ring was emptied this turn. Bounded work a call.
 */
void rc_step(struct reconcile *r, struct ptree *pt, uint64_t lost, bool drained, uint64_t now,
	     rc_feed_fn feed, void *ctx);

#endif
