/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* JUnit XML of the checks, and GitHub Actions annotations. */
#ifndef MPTRACE_OUT_JUNIT_H
#define MPTRACE_OUT_JUNIT_H

#include "analyze.h"
#include "util.h"

/* One test case per checked kind (the default kinds when none were asked). */
void junit_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r, unsigned kinds);
/* "::error title=...::message" lines for findings of the checked kinds. */
void github_annotations(struct sbuf *b, const struct ptree *pt, const struct an_result *r, unsigned kinds);

#endif
