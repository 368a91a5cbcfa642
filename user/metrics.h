/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Prometheus metrics of a trace: PURE (no libbpf, no clock, no I/O, no
 * globals). The event loop counts every event into a struct mx; rendering
 * reads it and the model (the current zombies) in the same thread, so the
 * HTTP server never touches either (docs/design.md "Metrics").
 * Text exposition format 0.0.4, or OpenMetrics 1.0.0; docs/fleet.md lists
 * every metric.
 */
#ifndef MPTRACE_METRICS_H
#define MPTRACE_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "analyze.h"
#include "ptree.h"
#include "util.h"

#define MX_MAX_COMMS 1024	/* distinct comms counted apart; later ones count as "other" */
#define MX_DEFAULT_COMMS 20	/* comm label values exported (--metrics-comms) */
#define MX_NBUCKETS 8		/* mptrace_zombie_seconds buckets, +Inf apart */
#define MX_NLOCKS 5		/* enum pt_lock_type */

struct mx_comm {
	char comm[MPT_COMM_LEN + 1];
	uint64_t started, exit_code, exit_signal, orphans;
	uint64_t zombies;	/* scratch: current zombies, while rendering */
	bool top;		/* scratch: exported under its own label */
};

struct mx {
	struct mx_comm *comms;	/* open addressing, 2 * MX_MAX_COMMS slots */
	size_t ncomms;
	struct mx_comm other;	/* past MX_MAX_COMMS distinct comms */
	uint64_t zbucket[MX_NBUCKETS], zcount;	/* zombie time at reap: not cumulative here */
	uint64_t zsum_ns;
	uint64_t findings[AN_NKINDS];
	uint64_t lock_wait_ns[MX_NLOCKS];
	uint64_t deadlocks;
};

/* What the caller measures: mptrace itself and the BPF side. */
struct mx_self {
	uint64_t lost;		/* records dropped in the kernel, malformed, untracked */
	uint64_t ring_used;	/* bytes waiting in the ring buffer */
	uint64_t rss_bytes;
	double cpu_seconds;
	double start_time;	/* seconds since the epoch */
	bool have_self;		/* the process_* metrics (not in a --metrics-file) */
};

void mx_init(struct mx *m);
void mx_free(struct mx *m);
/* One event the model has taken (ptree_feed) and what it did. */
void mx_event(struct mx *m, const struct ptree *pt, const struct mpt_hdr *h,
	      const struct pt_change *chg);
/* One finding, as reported (the daemon's stream, or the end's analysis). */
void mx_finding(struct mx *m, enum an_kind k);
/* All of it: ncomms comm label values (the most active), the rest "other". */
void mx_render(struct sbuf *b, struct mx *m, const struct ptree *pt, const struct mx_self *s,
	       int ncomms, bool openmetrics);

#endif
