/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The live view (--live, mptrace top): the only curses user. */
#ifndef MPTRACE_TUI_H
#define MPTRACE_TUI_H

#include <stdbool.h>
#include <stdint.h>
#include "analyze.h"
#include "opts.h"
#include "ptree.h"

enum { TUI_OK = 0, TUI_QUIT = 1 };

struct tui;

/* NULL (after one line saying so) when stdout is not a terminal: the caller
 * falls back to the event stream. */
struct tui *tui_open(struct ptree *pt, const struct opts *o, const struct an_opts *an);
/* An event the model just took: for highlights and rates. */
void tui_event(struct tui *t, const struct mpt_hdr *ev, const struct pt_change *chg);
/* Reads keys, redraws at most every --interval. TUI_QUIT when q was pressed. */
int tui_tick(struct tui *t, uint64_t now_ns);
void tui_resize(struct tui *t);
/* The traced command ended: show a banner and wait for q, unless
 * --exit-on-end or q was already pressed (*stop). */
void tui_finish(struct tui *t, bool *stop);
/* Restores the terminal. */
void tui_close(struct tui *t);

#endif
