// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* TEMPORARY until the live view lands (issue 4). */
#include "log.h"
#include "tui.h"
struct tui *tui_open(struct ptree *pt, const struct opts *o, const struct an_opts *an)
{ (void)pt; (void)o; (void)an; p_warn("--live is not built yet: showing the event stream"); return NULL; }
void tui_event(struct tui *t, const struct mpt_hdr *ev, const struct pt_change *chg) { (void)t; (void)ev; (void)chg; }
int tui_tick(struct tui *t, uint64_t now_ns) { (void)t; (void)now_ns; return TUI_OK; }
void tui_resize(struct tui *t) { (void)t; }
void tui_finish(struct tui *t, bool *stop) { (void)t; (void)stop; }
void tui_close(struct tui *t) { (void)t; }
