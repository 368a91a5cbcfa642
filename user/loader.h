/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The only user of the BPF skeleton: probe, load, attach, poll, count drops. */
#ifndef MPTRACE_LOADER_H
#define MPTRACE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

struct loader;

struct loader_opts {
	uint32_t self_pid;
	bool trace_all;
	bool locks;
	uint64_t lock_min_ns;
	uint32_t ring_mb;
	int verbose;
	uint32_t mutex_owner_off;	/* where glibc keeps a mutex's owner tid; 0: unknown */
	bool no_find_vma;		/* tests: shared futex keys from user space only */
	bool maps_by_libbpf;		/* tests: no maps made beside the BTF's cut */
	bool stacks;			/* user stacks of long waits (not --no-stacks) */
};

/* Called for every ring-buffer record; a non-zero return stops the drain. */
typedef int (*loader_cb)(void *ctx, const void *data, size_t len);

/* Checks privileges and kernel features, loads and attaches. On failure it
 * has printed one line saying what is wrong and returns the exit status. */
int loader_open(struct loader **out, const struct loader_opts *o, loader_cb cb, void *ctx);
int loader_track(struct loader *l, uint32_t pid, uint64_t start);
/* 1: the process (pid, start) was still in its parent's list of children
 * when the parent's group died (MPT_EXIT_KIDS_LISTED); 0: it was not (it had
 * been reaped); -1: not known (another process of that pid is there). */
int loader_kid_left(struct loader *l, uint32_t pid, uint64_t start);
/* The wait points BPF still has for a release of `child` by `reaper`, as
 * on_free puts them in a record: the one naming it, then the reaper's ring.
 * Returns the time from which the ring has them all (0: since its first;
 * UINT64_MAX: BPF has none for `reaper`). */
uint64_t loader_wait_points(struct loader *l, uint32_t reaper, uint32_t child, struct mpt_free *f);
int loader_fd(struct loader *l);		/* epoll fd: readable when woken */
int loader_consume(struct loader *l);		/* drain what is queued */
void loader_lost(struct loader *l, __u64 lost[MPT_EV_MAX], __u64 *lost_track);
/* Reads the BPF tables of waits in progress that began before `before`
 * (monotonic ns) as records; the caller frees *locks and *waits. */
int loader_scan_waits(struct loader *l, uint64_t before, struct mpt_lock_begin **locks,
		      size_t *nlocks, struct mpt_wait_begin **waits, size_t *nwaits);
/* The user stack the BPF side keeps for the wait of `tid` that began at
 * `ts`, as a record; 0, or -ENOENT. */
int loader_stack(struct loader *l, uint32_t tid, uint64_t ts, struct mpt_stack *out);
/* Waits whose stack the BPF side could not keep. */
uint64_t loader_lost_stacks(struct loader *l);
/* Whether a walk (loader_scan_waits) can find a wait older than `before`
 * it has not returned yet. */
bool loader_waits_since(struct loader *l, uint64_t before);
/* The optional features this run has: PT_FEAT_* of ptree.h. */
uint16_t loader_features(const struct loader *l);
/* Bytes written to the ring buffer and not yet read. */
uint64_t loader_ring_used(struct loader *l);
void loader_close(struct loader *l);
/* Kernel start_time (CLOCK_MONOTONIC ns) of a process is not in /proc:
 * this returns 0, the model's "unknown", which matches any start. */

#endif
