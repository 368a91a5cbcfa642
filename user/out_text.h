/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Text renderers: the event stream (one line per event) and the final report. */
#ifndef MPTRACE_OUT_TEXT_H
#define MPTRACE_OUT_TEXT_H

#include <stdbool.h>
#include "analyze.h"
#include "ptree.h"
#include "util.h"

enum text_clock { TC_REL, TC_WALL, TC_WALL_US, TC_DELTA };

/* How text is shown: the terminal, and the view options of the command line. */
struct text_style {
	bool color;
	bool utf8;
	bool no_fold;		/* --no-fold: every process a line */
	bool findings_only;	/* --findings-only: summary, findings, verdict */
	bool no_lead;		/* -q: no empty line before the report */
	size_t argv_width;	/* -s: argv bytes shown; 0: the defaults */
	const char *comm;	/* -n: only subtrees of matching processes */
	const char *from_exec;	/* --from-exec: the view starts at this exec */
	enum text_clock clock;	/* -t, -tt, -r */
	unsigned events;	/* -e: TE_* bits of the stream; 0: all */
	uint64_t *prev_ts;	/* -r: the previous line's time (the caller's) */
};

/* -e names: the stream's kinds of line */
enum {
	TE_FORK = 1, TE_THREAD = 2, TE_EXEC = 4, TE_EXIT = 8, TE_REAP = 16, TE_LOCK = 32,
	TE_SIGNAL = 64, TE_DEADLOCK = 128, TE_ZOMBIE = 256, TE_TEST = 512, TE_KILL = 1024,
};
/* Parses "exec,exit" (or "all"); returns TE_* bits, or -1 with *bad at the
 * word not known (it ends at a comma). */
int text_parse_events(const char *list, const char **bad);

/* One line for an event the model just took (nothing for some events). */
void text_event(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		const struct mpt_hdr *ev, const struct pt_change *chg);
/* The zombie line printed when a zombie passes the threshold. */
void text_zombie_alert(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		       const struct pt_proc *p, uint64_t now);
void text_report(struct sbuf *b, const struct text_style *st, struct ptree *pt,
		 const struct an_result *r, const struct an_opts *o);
/* argv as a line shows it: argv[0] (its basename with base0), the script,
 * -m module or -c code kept, the middle elided to fit `width` bytes (0: all). */
void text_argv(struct sbuf *b, char **argv, size_t width, bool base0, bool utf8);
/* A Python multiprocessing helper's role from its argv, or NULL. */
const char *text_role(const struct pt_proc *p);
/* "exit 0", "killed by SIGKILL", "running" */
void text_fate(struct sbuf *b, const struct pt_proc *p);
/* " from the kernel (timer)", " from kill[42]": the sender of a signal, by
 * enum sig_cause (sender and comm only for SIG_BY_PROCESS; pt may be NULL). */
void text_sig_from(struct sbuf *b, const struct ptree *pt, uint32_t cause, uint32_t sender,
		   const char *comm);
/* The same for the signal that killed p, when a signal record said. */
void text_killer(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p);

#endif
