// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* TEMPORARY until recording lands (issue 5). */
#include "log.h"
#include "replay.h"
int replay_run(const struct opts *o) { (void)o; p_err("report is not built yet"); return EXIT_ENV; }
