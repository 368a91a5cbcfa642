/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Fleet outputs of a live trace (docs/fleet.md): the Prometheus endpoint
 * (--metrics, libmicrohttpd), findings as JSON lines as they are found
 * (--findings-jsonl) and the node_exporter textfile (--metrics-file).
 * Everything that reads the model runs in the event loop's thread: the
 * HTTP thread only asks for a page and waits for it (docs/design.md).
 */
#ifndef MPTRACE_DAEMON_H
#define MPTRACE_DAEMON_H

#include "analyze.h"
#include "metrics.h"
#include "opts.h"
#include "ptree.h"

struct daemon;

/* Does this command line want any of it? */
bool daemon_wanted(const struct opts *o);
/* Checks the outputs before the run; returns 0 or an exit status. */
int daemon_check(const struct opts *o);
/* Opens the outputs and starts the HTTP server (call after the signals are
 * blocked: its thread inherits the mask). Returns 0 or an exit status. */
int daemon_open(struct daemon **out, const struct opts *o, const struct an_opts *an);
/* Readable when a scrape waits for a page (for epoll), or -1. */
int daemon_fd(const struct daemon *d);
/* Every event the model took. */
void daemon_event(struct daemon *d, struct ptree *pt, const struct mpt_hdr *h,
		  const struct pt_change *chg);
/* A zombie just passed the threshold. */
void daemon_zombie(struct daemon *d, struct ptree *pt, struct pt_proc *p, uint64_t now);
/* Serves the scrapes waiting; s: what the loader counts. */
void daemon_tick(struct daemon *d, struct ptree *pt, const struct mx_self *s);
/* SIGHUP: --findings-jsonl is reopened (log rotation). */
void daemon_reopen(struct daemon *d);
/* The end: --metrics-file from the final analysis. Returns 0 or an exit status. */
int daemon_finish(struct daemon *d, struct ptree *pt, const struct an_result *r,
		  const struct mx_self *s);
void daemon_close(struct daemon *d);

#endif
