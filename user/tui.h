/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The live view (--live, mptrace top): the only curses user. */
#ifndef MPTRACE_TUI_H
#define MPTRACE_TUI_H

#include <stdbool.h>
#include <stdint.h>
#include "analyze.h"
#include "opts.h"
#include "ptree.h"

/* TUI_QUIT: q, leave the view (the trace goes on); TUI_INTERRUPT: ^C and
 * y, signal the command as a terminal's ^C would. */
enum { TUI_OK = 0, TUI_QUIT = 1, TUI_INTERRUPT = 2 };

struct tui;

/* What the view asks the caller for, once a frame, besides the model. */
struct tui_source {
	void *ctx;
	/* records dropped in the kernel so far (the model learns them only at
	 * the end); may be NULL */
	uint64_t (*lost)(void *ctx);
};

/* Whether tui_open can work here (stdout a terminal of a known type): the
 * caller decides before starting the command where its output goes. */
bool tui_usable(void);
/* NULL (after one line saying so) when stdout is not a terminal: the caller
 * falls back to the event stream. */
struct tui *tui_open(struct ptree *pt, const struct opts *o, const struct an_opts *an,
		     const struct tui_source *src);
/* Readable when a key was pressed: the caller polls it with its other fds. */
int tui_fd(const struct tui *t);
/* An event the model just took: for highlights and rates. */
void tui_event(struct tui *t, const struct mpt_hdr *ev, const struct pt_change *chg);
/* Reads keys if `keys` (the terminal is readable: epoll said so), redraws
 * at most every --interval (and at once after a key), and only if something
 * changed, but once a second for the clocks. TUI_QUIT or TUI_INTERRUPT as
 * the keys asked. */
int tui_tick(struct tui *t, uint64_t now_ns, bool keys);
/* Output of the command (its stdout and stderr through a pipe): the last
 * lines show at the bottom, and the tail is printed when the view closes. */
void tui_output(struct tui *t, const char *buf, size_t n);
/* The terminal changed size (SIGWINCH): the next tick redraws. */
void tui_resize(struct tui *t);
/* The trace is over at end_ts (the command ended, or every traced process):
 * a banner says so, the clock stops there; the caller keeps calling tui_tick
 * until TUI_QUIT. */
void tui_finish(struct tui *t, uint64_t end_ts);
/* ptree_forget() moved a process from slot `from` to `to` (ctx: the view). */
void tui_slot_moved(void *ctx, uint32_t from, uint32_t to);
/* Processes were forgotten: the rows, which pointed at them, are laid out
 * again at once. */
void tui_forgotten(struct tui *t);
/* Restores the terminal and frees the view. */
void tui_close(struct tui *t);

#endif
