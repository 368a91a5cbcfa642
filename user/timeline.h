/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Helpers of the timeline renderers (out_svg.c, out_perfetto.c): the lock
 * waits of each process, indexed from the tree's wait log. PURE.
 */
#ifndef MPTRACE_TIMELINE_H
#define MPTRACE_TIMELINE_H

#include "ptree.h"

struct tl_waits {
	size_t *first;			/* by process slot: its first wait in v */
	const struct pt_lockwait **v;	/* grouped by process, each in log order */
};

void tl_waits_build(struct tl_waits *w, const struct ptree *pt);
/* The lock waits of p; *n of them. */
const struct pt_lockwait **tl_waits_of(const struct tl_waits *w, const struct pt_proc *p,
				       size_t *n);
void tl_waits_free(struct tl_waits *w);

#endif
