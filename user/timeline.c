// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdlib.h>
#include "timeline.h"
#include "util.h"

/* A counting sort by process slot: one pass to count, one to place, so the
 * renderers find a process's waits without scanning the whole log per row. */
void tl_waits_build(struct tl_waits *w, const struct ptree *pt)
{
	size_t *fill;

	w->first = xcalloc(pt->nprocs + 2, sizeof(*w->first));
	w->v = xcalloc(pt->nwaitlog + 1, sizeof(*w->v));
	for (size_t i = 0; i < pt->nwaitlog; i++)
		w->first[pt->waitlog[i].proc->slot + 1]++;
	for (size_t i = 1; i <= pt->nprocs + 1; i++)
		w->first[i] += w->first[i - 1];
	fill = xcalloc(pt->nprocs + 1, sizeof(*fill));
	for (size_t i = 0; i < pt->nwaitlog; i++) {
		int k = pt->waitlog[i].proc->slot;

		w->v[w->first[k] + fill[k]++] = &pt->waitlog[i];
	}
	free(fill);
}

const struct pt_lockwait **tl_waits_of(const struct tl_waits *w, const struct pt_proc *p,
				       size_t *n)
{
	*n = w->first[p->slot + 1] - w->first[p->slot];
	return w->v + w->first[p->slot];
}

void tl_waits_free(struct tl_waits *w)
{
	free(w->first);
	free(w->v);
}
