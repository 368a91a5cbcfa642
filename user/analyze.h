/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Findings from the tree: PURE. Thresholds are passed in; the same code runs
 * on a live trace and on a replayed recording.
 */
#ifndef MPTRACE_ANALYZE_H
#define MPTRACE_ANALYZE_H

#include "ptree.h"

enum an_kind { AN_ZOMBIE, AN_ORPHAN, AN_LEAK, AN_LOCK, AN_DEADLOCK, AN_NKINDS };
enum an_reason { AN_R_NONE, AN_R_SLOW, AN_R_NEVER_REAPED, AN_R_UNREAPED_AT_END };

#define AN_CHECK(k) (1u << (k))
#define AN_CHECK_DEFAULT (AN_CHECK(AN_ZOMBIE) | AN_CHECK(AN_LEAK))

struct an_opts {
	uint64_t zombie_threshold_ns;
	uint64_t leak_grace_ns;	/* a descendant exiting this soon after the command is no leak */
	unsigned check;		/* AN_CHECK bits; 0: no check requested */
	char **allow_leak;	/* fnmatch patterns on comm or argv: not leaks */
	int nallow;
};

struct an_finding {
	enum an_kind kind;
	struct pt_proc *proc;	/* NULL for locks */
	struct pt_lock *lock;	/* locks only */
	const struct pt_deadlock *dl;	/* deadlocks only */
	enum an_reason reason;	/* zombies only */
	uint64_t zombie_ns;
	char *message;
};

struct an_result {
	struct an_finding *v;
	size_t n, cap;
	unsigned count[AN_NKINDS];
	uint64_t max_zombie_ns;
	uint64_t threads;
	bool passed;		/* the check (if any) passed */
	bool incomplete;	/* events were lost */
	uint64_t lost;		/* events lost, all causes (kernel drops, malformed, a cut recording) */
	char *incomplete_why;	/* why it is incomplete, one line; NULL if complete */
};

/* `now` is the end of the trace (or the current time for a live view). */
void analyze(struct ptree *pt, const struct an_opts *o, uint64_t now, struct an_result *r);
void an_result_free(struct an_result *r);
const char *an_kind_name(enum an_kind k);	/* "zombie" */
const char *an_check_name(enum an_kind k);	/* "zombies" */
const char *an_reason_name(enum an_reason r);
/* Parses "zombies,leaks"; returns AN_CHECK bits or -1 and sets *bad. */
int an_parse_check(const char *list, const char **bad);
/* One line describing a deadlock's cycle. */
char *an_deadlock_text(const struct ptree *pt, const struct pt_deadlock *d, uint64_t now);
/* "sh[12]" into buf */
const char *an_proc_name(const struct pt_proc *p, char *buf, size_t n);
/* Is this process's zombie time over the threshold right now? (stream) */
/* Is this process allowed to outlive the command (--allow-leak)? */
bool an_leak_allowed(const struct pt_proc *p, const struct an_opts *o);
/* Is the traced tree's part of its zombie time over the threshold at `now`? */
bool an_zombie_over(const struct ptree *pt, const struct pt_proc *p, const struct an_opts *o,
		    uint64_t now);
/* Did it outlive the command by more than the grace (still running at `now`
 * counts once the grace has passed)? */
bool an_is_leak(const struct ptree *pt, const struct pt_proc *p, const struct an_opts *o,
		uint64_t now);

#endif
