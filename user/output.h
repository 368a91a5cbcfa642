/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The end of a trace, live or replayed: every requested report, written once. */
#ifndef MPTRACE_OUTPUT_H
#define MPTRACE_OUTPUT_H

#include <stdio.h>
#include "analyze.h"
#include "opts.h"
#include "out_text.h"
#include "ptree.h"

/* The terminal's (colour, UTF-8) and the command line's view options. */
struct text_style text_style_for(FILE *f, const struct opts *o);
/* True if any output was asked for on stdout ("-"): JSON, JSON lines, JUnit, SVG, Perfetto. */
bool stdout_wanted(const struct opts *o);
/* Opens -o (else *out = deflt) and --events-jsonl, and checks that the
 * reports written at the end can be: a bad path is found before the run.
 * Returns 0 or an exit status after one error line. */
int open_streams(const struct opts *o, FILE *deflt, FILE **out, FILE **jsonl);
/* One line for an output that cannot be opened; returns the exit status:
 * 1 for a symbolic link (refused), 2 otherwise. */
int output_open_error(const char *path, const char *what, int err);
/* Text report to `out` (and GitHub annotations), JSON, JUnit, SVG, Perfetto.
 * Returns 0 or an exit status after one error line. */
int write_outputs(struct ptree *pt, const struct an_result *r, const struct an_opts *an,
		  const struct opts *o, FILE *out, const struct text_style *st);

#endif
