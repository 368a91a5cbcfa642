/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The trace as OpenTelemetry spans: an OTLP/JSON ExportTraceServiceRequest
 * (the protobuf JSON mapping; docs/fleet.md). PURE: the trace id comes from
 * the caller.
 */
#ifndef MPTRACE_OUT_OTLP_H
#define MPTRACE_OUT_OTLP_H

#include <stdint.h>
#include "analyze.h"
#include "ptree.h"
#include "util.h"

struct otlp_opts {
	uint8_t trace_id[16];	/* random, not all zero */
	uint64_t wait_min_ns;	/* lock and join waits from this long are child spans */
	const char *version;	/* mptrace's, for the instrumentation scope */
};

/* One span per process (parent span: its parent process), its waits as
 * child spans, its findings as span events. */
void otlp_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r,
		 const struct otlp_opts *o);

#endif
