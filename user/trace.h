/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* A live trace: spawn or attach, feed the model from the ring, report. */
#ifndef MPTRACE_TRACE_H
#define MPTRACE_TRACE_H

#include "opts.h"

/* Returns mptrace's exit status. */
int trace_run(const struct opts *o);

#endif
