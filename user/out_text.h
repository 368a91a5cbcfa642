/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Text renderers: the event stream (one line per event) and the final report. */
#ifndef MPTRACE_OUT_TEXT_H
#define MPTRACE_OUT_TEXT_H

#include <stdbool.h>
#include "analyze.h"
#include "ptree.h"
#include "util.h"

struct text_style {
	bool color;
	bool utf8;
	/* When set, text_report() hands its text over in pieces as it is
	 * made (spill writes b out and empties it), so that a report of a
	 * huge tree is never whole in memory. */
	void (*spill)(struct sbuf *b, void *ctx);
	void *spill_ctx;
};

/* One line for an event the model just took (nothing for some events). */
void text_event(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		const struct mpt_hdr *ev, const struct pt_change *chg);
/* The zombie line printed when a zombie passes the threshold. */
void text_zombie_alert(struct sbuf *b, const struct text_style *st, const struct ptree *pt,
		       const struct pt_proc *p, uint64_t now);
void text_report(struct sbuf *b, const struct text_style *st, struct ptree *pt,
		 const struct an_result *r, const struct an_opts *o);
/* "exit 0", "killed by SIGKILL", "running" */
void text_fate(struct sbuf *b, const struct pt_proc *p);

#endif
