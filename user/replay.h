/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* mptrace report FILE.mpt: a recording through the same model and outputs. */
#ifndef MPTRACE_REPLAY_H
#define MPTRACE_REPLAY_H

#include "opts.h"

int replay_run(const struct opts *o);

#endif
