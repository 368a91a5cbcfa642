// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* mptrace: parse, pick the mode, return its exit status. Nothing else. */
#include "log.h"
#include "opts.h"
#include "replay.h"
#include "trace.h"

int main(int argc, char **argv)
{
	struct opts o;
	int r = opts_parse(argc, argv, &o);

	if (r >= 0)
		return r;
	log_verbose = o.verbose;
	if (o.mode == RUN_REPORT)
		r = replay_run(&o);
	else
		r = trace_run(&o);
	opts_free(&o);
	return r;
}
