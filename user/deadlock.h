/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The wait-for graph: PURE. Edges go from a waiting process to the process
 * holding the lock it waits on, or to the children it waits for; a cycle
 * whose every wait has lasted --deadlock-after is a deadlock.
 */
#ifndef MPTRACE_DEADLOCK_H
#define MPTRACE_DEADLOCK_H

#include <stdbool.h>
#include "ptree.h"

/* Fills rec (all but its header) with a cycle not reported before. It
 * looks from the processes whose waits became `after` old since the last
 * call (ptree.young, which it consumes), so it must be called regularly. */
bool dl_detect(struct ptree *pt, uint64_t now, uint64_t after, struct mpt_deadlock *rec);

#endif
