/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The wait-for graph: PURE. Edges go from a waiting process to the process
 * holding the lock it waits on, or to the children it waits for; a cycle
 * whose every wait has lasted --deadlock-after is a deadlock.
 */
#ifndef MPTRACE_DEADLOCK_H
#define MPTRACE_DEADLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include "ptree.h"

/* Fills rec (all but its header) with a cycle not reported before. */
bool dl_detect(const struct ptree *pt, uint64_t now, uint64_t after, struct mpt_deadlock *rec);

/*
 * Holder inference (pt_infer_holder) needs the mappings of every live
 * process since the semaphore waits began: the processes (at most max) whose
 * mappings are to be read now, because a semaphore wait with no holder seen
 * has lasted `after` and their newest MPT_EV_MAPS record is older than it.
 * None in system mode.
 */
size_t dl_maps_wanted(const struct ptree *pt, uint64_t now, uint64_t after,
		      const struct pt_proc **out, size_t max);

#endif
