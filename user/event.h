/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One gate for every record, live or replayed: event_validate() checks size
 * and type before anything reads a field.
 */
#ifndef MPTRACE_EVENT_H
#define MPTRACE_EVENT_H

#include <stddef.h>
#include "events.h"

/* 0 if the `len` bytes at data are a well-formed record; else -EINVAL and
 * *why says what is wrong (a static string). */
int event_validate(const void *data, size_t len, const char **why);
const char *event_type_name(unsigned type);
const char *signal_name(int sig);	/* "SIGTERM", or "SIG42" */

#endif
