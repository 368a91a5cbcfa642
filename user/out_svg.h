/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The timeline picture (--svg): one row per process in tree order, its life
 * from fork to exit, zombie time, lock and join waits, execs, signals,
 * orphan and leak markers (docs/visual.md).
 */
#ifndef MPTRACE_OUT_SVG_H
#define MPTRACE_OUT_SVG_H

#include "analyze.h"
#include "ptree.h"
#include "util.h"

/* Siblings folded into one density row: at least this many plain ones. */
#define SVG_FOLD_MIN 12
#define SVG_FOLD_KEEP 3
/* Rows drawn one by one at the most; the rest share one last row. */
#define SVG_MAX_ROWS 1000

void svg_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r);

#endif
