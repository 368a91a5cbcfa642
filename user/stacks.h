/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* User stacks of long waits: unwound and symbolized with libdwfl (stacks.c). */
#ifndef MPTRACE_STACKS_H
#define MPTRACE_STACKS_H

#include <stdbool.h>
#include "events.h"
#include "ptree.h"

struct stk;

/* live: a running trace (mappings come from /proc); else a replay, which
 * checks the recorded build ids against the files there now. */
struct stk *stk_new(bool live);
void stk_free(struct stk *s);
/* Live: are the mappings of the stack's process known? If not, the caller
 * feeds stk_read_maps()'s record (recorded too) before the stack. */
bool stk_has_maps(struct stk *s, const struct mpt_hdr *stack);
/* The MPT_EV_MAPS record of a stack's process from /proc/PID/maps now (its
 * file mappings; the shared ones only if it used them), or NULL (it is
 * gone); the caller frees it. Only pid, start and ts of `stack` are used. */
struct mpt_maps *stk_read_maps(const struct mpt_hdr *stack);
/* A process gone before its maps were read, forked from `pid` and
 * not exec'd since: its parent's mappings as its own record, or NULL. */
struct mpt_maps *stk_inherit_maps(struct stk *s, uint32_t pid, uint64_t start,
				  const struct mpt_hdr *for_stack);
/* Where a private futex at `addr` of a process lies, for its label: "heap",
 * "stack", "sym+0x10 in lib.so", "anonymous memory"; NULL if its mappings are
 * not known. The caller frees it. */
char *stk_where(struct stk *s, uint32_t pid, uint64_t start, uint64_t addr);
/* A private futex's place (pt_lock.where), once its process's mappings are known. */
void name_private_lock(struct stk *s, struct pt_lock *l);
/* Every validated record: MAPS are kept, EXEC and EXIT forget a process's
 * mappings, a STACK is unwound: a new stack for ptree_add_stack(), else NULL. */
struct pt_stack *stk_feed(struct stk *s, const struct mpt_hdr *h);

#endif
