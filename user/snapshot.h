/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The initial /proc snapshot of already-running processes (-p, -a, top):
 * the only use of /proc. Everything after it comes from kernel events. */
#ifndef MPTRACE_SNAPSHOT_H
#define MPTRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "events.h"

struct snap_proc {
	uint32_t pid, ppid, nthreads;
	bool selected;
	struct mpt_proc rec;	/* the record fed to the model */
};

struct snapshot {
	struct snap_proc *v;	/* parents before children once ordered */
	size_t n;
};

/* Reads every process in /proc. Returns 0 or -errno. */
int snapshot_read(struct snapshot *s, uint64_t ts);
/* Marks `pids` and their descendants; returns how many are marked. */
size_t snapshot_select(struct snapshot *s, const uint32_t *pids, int npids, bool all);
/* Orders the snapshot so that parents come before their children. */
void snapshot_order(struct snapshot *s);
void snapshot_free(struct snapshot *s);
bool pid_exists(uint32_t pid);
/* Up to n bytes of a /proc file (close-on-exec); -1 if it cannot be opened. */
ssize_t read_file(const char *path, char *buf, size_t n);

#endif
