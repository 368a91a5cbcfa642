/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The JSON report (docs/report.schema.json) and event lines (jsonl). */
#ifndef MPTRACE_OUT_JSON_H
#define MPTRACE_OUT_JSON_H

/* The report schema's version (its "schema_version" const): raised only when
 * a field changes meaning or goes away; new fields do not raise it. */
#define MPTRACE_SCHEMA_VERSION "1"

#include <stdio.h>
#include "analyze.h"
#include "ptree.h"
#include "util.h"

/* JSON string: escapes controls, replaces invalid UTF-8 with U+FFFD. */
void json_str(struct sbuf *b, const char *s, size_t n);
void json_report(struct sbuf *b, struct ptree *pt, const struct an_result *r,
		 const struct an_opts *o);
/* The same, written out as it is made (a million processes are ~400 MB of
 * JSON): what is left at the end stays in b. */
void json_report_spill(struct sbuf *b, struct ptree *pt, const struct an_result *r,
		       const struct an_opts *o, const struct sb_spill *sp);
/* One finding as a JSON object (no newline), as in the report's "findings". */
void json_finding(struct sbuf *b, const struct ptree *pt, const struct an_finding *f);
/* One event as a JSON object (no newline), for --events-jsonl. */
void json_event(struct sbuf *b, const struct ptree *pt, const struct mpt_hdr *ev);

#endif
