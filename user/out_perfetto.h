/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * --perfetto: Chrome trace-event JSON (the "traceEvents" format) that
 * ui.perfetto.dev and chrome://tracing open (docs/visual.md).
 */
#ifndef MPTRACE_OUT_PERFETTO_H
#define MPTRACE_OUT_PERFETTO_H

#include "analyze.h"
#include "ptree.h"
#include "util.h"

void perfetto_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r);
/* The same, written out as it is made (util.h); the rest stays in b. */
void perfetto_report_spill(struct sbuf *b, const struct ptree *pt, const struct an_result *r,
			   const struct sb_spill *sp);

#endif
