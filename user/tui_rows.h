/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The live view's rows and header as text: PURE (no curses, no clock, no
 * globals). tui.c owns the terminal and the clock and asks this module what
 * to draw, so the unit tests check every row the screen would show.
 */
#ifndef MPTRACE_TUI_ROWS_H
#define MPTRACE_TUI_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "analyze.h"
#include "ptree.h"
#include "util.h"

/* What a row's STATE column says. The two waits are the model's waits in
 * progress (pt_proc.inwaits, read from the BPF wait tables). */
enum tr_state { TR_RUNNING, TR_LOCK_WAIT, TR_JOIN_WAIT, TR_ZOMBIE, TR_REAPED };
enum tr_hl { TR_HL_NONE, TR_HL_NEW, TR_HL_CHANGE };

/* Finding flags of a row (the FLAGS column). */
#define TR_F_ZOMBIE 0x1		/* Z: zombie over the threshold, or never reaped by its parent */
#define TR_F_ORPHAN 0x2		/* O: its parent exited while it ran */
#define TR_F_LEAK 0x4		/* L: alive when the command exited */
#define TR_F_LOCK 0x8		/* W: waited on a lock */
#define TR_F_DEADLOCK 0x10	/* D: in a deadlock cycle that was detected */

/* What the view knows of a process beyond the model; indexed by pt_proc.slot. */
struct tr_ann {
	enum tr_state shown;	/* the state the last frame showed */
	bool seen;		/* it has been on a frame */
	enum tr_hl hl;
	uint64_t hl_until;
	bool collapsed;		/* its subtree is folded */
	char kstate;		/* the kernel's task state as last read, 0 unread */
	uint64_t kstate_at;	/* when (view time) */
};

struct tr_view {
	uint64_t now;		/* CLOCK_MONOTONIC ns, as the events' ts */
	uint64_t linger_ns;	/* reaped processes stay this long */
	uint64_t hl_ns;		/* highlights last this long */
	const char *filter;	/* command substring (case-insensitive), or NULL */
	bool findings_only;
	bool utf8;		/* tree lines in box-drawing characters */
	const struct an_opts *an;
};

struct tr_row {
	struct pt_proc *p;
	unsigned depth;
	uint64_t more;		/* bit d: the ancestor at depth d+1 has a later sibling */
	bool last;		/* last shown child of its parent */
	bool context;		/* shown only because a descendant matches */
	uint32_t folded;	/* descendants hidden by collapse */
	bool has_children;	/* something to fold */
	char kstate;		/* the kernel's task state (R S D T Z), 0 unknown */
};

struct tr_totals {
	uint32_t shown, procs, live, zombies, orphans, findings;
};

/* Rows of one frame, with the scratch space reused from frame to frame. */
struct tr_rows {
	struct tr_row *v;
	size_t n, cap;
	struct tr_totals tot;
	/* scratch, by pt_proc.slot */
	uint8_t *keep;		/* 2: shown for itself, 1: as a matching row's ancestor */
	uint32_t *nkept;	/* shown descendants */
	uint32_t *lastkept;	/* id of the last shown child */
	struct pt_proc **order;	/* preorder */
	uint64_t *childmore;	/* by depth: the tree-line bits children inherit */
	struct sbuf cmd;	/* a command line, for the filter */
	size_t scap;
};

/* Event rates over the last whole second, in 100 ms buckets: a rate moves
 * smoothly instead of jumping once a second. */
enum tr_rate { TR_R_FORK, TR_R_EXEC, TR_R_EXIT, TR_R_LOCK, TR_NRATES };
#define TR_BUCKETS 10
#define TR_BUCKET_NS 100000000ull
struct tr_rates {
	uint64_t idx[TR_BUCKETS];	/* which 100 ms a slot counts (ts / TR_BUCKET_NS) */
	uint32_t n[TR_BUCKETS][TR_NRATES];
};

/* The column titles line and the row text share these widths. */
enum { TR_W_PID = 7, TR_W_STATE = 9, TR_W_TIME = 7, TR_W_EXIT = 8, TR_W_LOCK = 7, TR_W_FLAGS = 5 };

/* The state a row shows: a lock wait before a child wait. */
enum tr_state tr_state_of(const struct pt_proc *p);
/* The wait in progress a row shows (a lock first, the oldest), or NULL. */
const struct pt_inwait *tr_inwait(const struct pt_proc *p);
const char *tr_state_name(enum tr_state s);
/* Z/O/L/W/D bits of a process at `now`. */
unsigned tr_flags(const struct ptree *pt, const struct pt_proc *p, const struct an_opts *an,
		  uint64_t now);
/* Compact duration: "850us", "12ms", "1.25s", "12.5s", "3m05s", "2h10m", "4d03h". */
char *tr_dur(char *buf, size_t n, uint64_t ns);

/* Notes the state a frame at v->now shows for a process: a state other than
 * the last frame's starts a change highlight (waits begin and end between
 * events). Returns the highlight in effect. */
enum tr_hl tr_note(struct tr_ann *a, enum tr_state s, const struct tr_view *v);
/* Starts a highlight at `now`: a fork (new), an exec, exit or reap (change).
 * A process still new stays new through its first changes. */
void tr_highlight(struct tr_ann *a, enum tr_hl hl, uint64_t now, const struct tr_view *v);

/* Lays out the tree as rows: roots in creation order, children below their
 * parent, reaped processes gone after linger_ns, descendants of collapsed
 * processes folded, filters applied with the matches' ancestors kept as
 * context. ann has pt->nprocs entries. */
void tr_build(struct tr_rows *r, const struct ptree *pt, const struct tr_ann *ann,
	      const struct tr_view *v);
void tr_rows_free(struct tr_rows *r);
/* Index of the row of process id, or -1. */
long tr_find(const struct tr_rows *r, int id);

/* The STATE text of a row: a wait in progress, else the model's state,
 * with a running process's kernel task state (sleeping, disk wait ...). */
const char *tr_row_state(const struct tr_row *r);
/* "futex /dev/shm/sem.x held by python3[12] for 1.2s" for a lock wait in
 * progress, else nothing; brief: the path's last name, no time. */
void tr_wait_text(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p, uint64_t now,
		  bool brief);
/* The detail panel of a process (Enter): lines separated by '\n'. */
void tr_format_detail(struct sbuf *b, const struct ptree *pt, const struct tr_row *r,
		      const struct tr_view *v);
/* The titles line, `width` columns. */
void tr_format_titles(struct sbuf *b, int width);
/* One row, `width` columns (padded with spaces, cut at a character). */
void tr_format_row(struct sbuf *b, const struct ptree *pt, const struct tr_row *r,
		   const struct tr_view *v, int width);

void tr_rate_add(struct tr_rates *r, enum tr_rate k, uint64_t ts);
/* Events per second in the last ten whole buckets before `now`'s. */
double tr_rate_get(const struct tr_rates *r, enum tr_rate k, uint64_t now);

/* The totals line: live, zombies, orphans, rates, lost records. */
void tr_format_totals(struct sbuf *b, const struct tr_totals *t, const struct tr_rates *rates,
		      uint64_t lost, uint64_t now, int width);

/* Columns of the UTF-8 text s (one per character; no wide characters). */
size_t tr_columns(const char *s, size_t len);
/* Cuts or pads b, from byte `from`, to exactly `cols` columns. */
void tr_fit(struct sbuf *b, size_t from, size_t cols);

#endif
