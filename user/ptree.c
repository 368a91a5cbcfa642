// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The process-tree model. PURE: fed one validated event at a time; no I/O,
 * no clock, no globals, so unit tests and the replay path drive it exactly as
 * the live ring buffer does.
 *
 * A process is keyed by (pid, kernel start time): a reused pid makes a new
 * node. Events for a pid never seen forking (attach mode, a lost record)
 * create the node on the spot, marked seen_late, instead of failing.
 */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "ptree.h"
#include "util.h"

static size_t pid_slot(const struct ptree *pt, uint32_t pid)
{
	return (pid * 2654435761u) & (pt->hsize - 1);
}

struct ptree *ptree_new(const struct pt_meta *meta)
{
	struct ptree *pt = xcalloc(1, sizeof(*pt));
	int n = 0;

	pt->meta = *meta;
	pt->forgets = meta->mode != PT_MODE_COMMAND;
	if (meta->argv)
		while (meta->argv[n])
			n++;
	pt->meta.argv = xcalloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		pt->meta.argv[i] = xstrdup(meta->argv[i]);
	pt->hsize = 4096;
	pt->hash = xcalloc(pt->hsize, sizeof(*pt->hash));
	pt->lhsize = 256;
	pt->lhash = xcalloc(pt->lhsize, sizeof(*pt->lhash));
	pt->tids = xcalloc(1024, sizeof(*pt->tids));
	pt->last_ts = meta->t0;
	pt->root_exit_ts = PT_NONE;
	pt->end_ts = PT_NONE;
	return pt;
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static void idset_free(struct pt_idset *s)
{
	free(s->v);
}

static void free_lock(struct pt_lock *l)
{
	free(l->name);
	free(l->where);
	idset_free(&l->wtids);
	idset_free(&l->ktids);
	idset_free(&l->waiters);
	idset_free(&l->wakers);
	idset_free(&l->holders);
	free(l->waiter_ns);
	free(l);
}

static void free_proc(struct pt_proc *p)
{
	for (int j = 0; j < p->nexecs; j++) {
		free(p->execs[j].filename);
		free_argv(p->execs[j].argv);
	}
	free(p->execs);
	free(p->spans);
	free_argv(p->snap_argv);
	free_argv(p->argv_copy);
	free(p->lineage);
	while (p->sigs) {
		struct pt_sig *s = p->sigs;

		p->sigs = s->next;
		free(s);
	}
	free(p->test);
	free(p->shm);
	while (p->inwaits) {
		struct pt_inwait *w = p->inwaits;

		p->inwaits = w->next;
		free(w);
	}
	free(p);
}

void ptree_free(struct ptree *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < pt->nprocs; i++)
		free_proc(pt->procs[i]);
	for (size_t i = 0; i < 1024; i++) {
		while (pt->tids[i]) {
			struct pt_tid *t = pt->tids[i];

			pt->tids[i] = t->next;
			free(t);
		}
	}
	free(pt->tids);
	while (pt->stacks) {
		struct pt_stack *st = pt->stacks;

		pt->stacks = st->next;
		pt_stack_free(st);
	}
	free(pt->waitlog);
	free(pt->deadlocks);
	free(pt->marks);
	free(pt->mark_end);
	for (size_t i = 0; i < pt->nlocks || i < pt->nlocks_all; i++)
		free_lock(pt->locks[i]);
	free(pt->locks);
	free(pt->lhash);
	free(pt->procs);
	free(pt->hash);
	free_argv(pt->meta.argv);
	free(pt);
}

static void rehash(struct ptree *pt)
{
	size_t old = pt->hsize;
	struct pt_proc **oh = pt->hash;

	pt->hsize *= 2;
	pt->hash = xcalloc(pt->hsize, sizeof(*pt->hash));
	/* Re-insert oldest first so each chain keeps newest-first order. */
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];
		size_t s = pid_slot(pt, p->pid);

		p->hnext = pt->hash[s];
		pt->hash[s] = p;
	}
	(void)old;
	free(oh);
}

/* Newest process with this pid. */
struct pt_proc *ptree_find(const struct ptree *pt, uint32_t pid)
{
	for (struct pt_proc *p = pt->hash[pid_slot(pt, pid)]; p; p = p->hnext)
		if (p->pid == pid)
			return p;
	return NULL;
}

static struct pt_proc *find_exact(const struct ptree *pt, uint32_t pid, uint64_t kstart)
{
	struct pt_proc *unknown = NULL;

	for (struct pt_proc *p = pt->hash[pid_slot(pt, pid)]; p; p = p->hnext) {
		if (p->pid != pid)
			continue;
		if (p->kstart == kstart)
			return p;
		/* A snapshot or root node whose start time we never learnt:
		 * it is the newest process with that pid, so it is this one,
		 * unless it has already been released. */
		if (!p->kstart && !unknown && p->state != PT_REAPED)
			unknown = p;
	}
	if (unknown && kstart)
		unknown->kstart = kstart;
	return unknown;
}

static void add_child(struct pt_proc *parent, struct pt_proc *c)
{
	c->parent = parent;
	if (parent->last_child)
		parent->last_child->sibling = c;
	else
		parent->child = c;
	parent->last_child = c;
}

static struct pt_proc *new_proc(struct ptree *pt, uint32_t pid, uint64_t kstart, uint64_t ts)
{
	struct pt_proc *p = xcalloc(1, sizeof(*p));
	size_t s;

	if (pt->nprocs == pt->cap) {
		pt->cap = pt->cap ? pt->cap * 2 : 256;
		pt->procs = xrealloc(pt->procs, pt->cap * sizeof(*pt->procs));
	}
	if (pt->nprocs >= pt->hsize)
		rehash(pt);
	p->slot = pt->nprocs;
	pt->procs[pt->nprocs++] = p;
	p->id = ++pt->nids;
	p->pid = pid;
	p->kstart = kstart;
	p->start_ts = ts;
	p->exit_ts = p->reaped_ts = p->orphaned_ts = p->adopted_ts = PT_NONE;
	p->threads = 1;
	p->state = PT_RUNNING;
	strcpy(p->comm, "?");
	s = pid_slot(pt, pid);
	p->hnext = pt->hash[s];
	pt->hash[s] = p;
	pt->live++;
	return p;
}

static char **dup_argv(char **argv, int argc)
{
	char **v = xcalloc(argc + 1, sizeof(*v));

	for (int i = 0; i < argc && argv[i]; i++)
		v[i] = xstrdup(argv[i]);
	return v;
}

/* A forgetting model frees parents before their children: the argv a child
 * inherits is then a copy of its own. */
static void inherit_argv(struct ptree *pt, struct pt_proc *c, const struct pt_proc *parent)
{
	c->argv = parent->argv;
	c->argc = parent->argc;
	c->argv_owned = false;
	if (pt->forgets && c->argv)
		c->argv = c->argv_copy = dup_argv(parent->argv, parent->argc);
}

/*
 * The process an event is about, created if never seen. In command mode the
 * first event of the command's pid creates the root.
 */
static struct pt_proc *get_proc(struct ptree *pt, uint32_t pid, uint64_t kstart, uint64_t ts)
{
	struct pt_proc *p = find_exact(pt, pid, kstart);

	if (p)
		return p;
	if (pt->meta.mode == PT_MODE_COMMAND && !pt->root && pid == pt->meta.root_pid) {
		p = new_proc(pt, pid, kstart, pt->meta.t0);
		p->is_root = true;
		p->ppid = p->cur_ppid = pt->meta.self_pid;
		p->argv = pt->meta.argv;
		for (char **a = p->argv; a && *a; a++)
			p->argc++;
		pt->root = p;
		if (p->argv && p->argv[0])
			snprintf(p->comm, sizeof(p->comm), "%s", base_name(p->argv[0]));
		return p;
	}
	p = new_proc(pt, pid, kstart, ts);
	p->seen_late = true;
	p->start_ts = PT_NONE;
	return p;
}

static void set_comm(struct pt_proc *p, const char *comm)
{
	memcpy(p->comm, comm, MPT_COMM_LEN);
	p->comm[MPT_COMM_LEN] = '\0';
}

static char **split_args(const char *buf, size_t len, int *argc)
{
	int n = 0, i = 0;
	char **argv;
	size_t off;

	for (off = 0; off < len; off++)
		if (buf[off] == '\0')
			n++;
	if (len && buf[len - 1] != '\0')
		n++;		/* truncated: the last argument has no NUL */
	argv = xcalloc(n + 1, sizeof(char *));
	for (off = 0; off < len && i < n; i++) {
		size_t l = strnlen(buf + off, len - off);

		argv[i] = xstrndup(buf + off, l);
		off += l + 1;
	}
	*argc = i;
	return argv;
}

static int on_fork(struct ptree *pt, const struct mpt_fork *e, struct pt_change *chg)
{
	struct pt_proc *parent, *c;

	if (e->flags & MPT_FORK_THREAD) {
		struct pt_tid *t = xcalloc(1, sizeof(*t));

		c = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
		c->threads++;
		t->tid = e->h.tid;
		t->proc = c;
		t->next = pt->tids[e->h.tid & 1023];
		pt->tids[e->h.tid & 1023] = t;
		t->pnext = c->threads_l;
		c->threads_l = t;
		chg->proc = c;
		return 0;
	}
	parent = get_proc(pt, e->ppid, e->pstart, e->h.ts);
	c = find_exact(pt, e->h.pid, e->h.start);
	if (c && !c->is_root && c != parent) {
		/* An event of the child overtook its fork, or the /proc
		 * snapshot of -p read it while it was being forked: one
		 * process, one node (pid and start time decide). */
		c->seen_late = false;
	} else {
		c = new_proc(pt, e->h.pid, e->h.start, e->h.ts);
		set_comm(c, e->comm);
		inherit_argv(pt, c, parent);
	}
	c->start_ts = e->h.ts;
	c->ppid = c->cur_ppid = e->ppid;
	if (!c->parent && c != parent)
		add_child(parent, c);
	chg->proc = c;
	chg->other = parent;
	return 0;
}

static int on_exec(struct ptree *pt, const struct mpt_exec *e, struct pt_change *chg)
{
	struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
	struct pt_exec *x;
	size_t fl = e->fname_len;

	p->execs = xrealloc(p->execs, (p->nexecs + 1) * sizeof(*p->execs));
	x = &p->execs[p->nexecs++];
	x->ts = e->h.ts;
	x->filename = xstrndup(e->data, fl);
	x->argv = split_args(e->data + fl, e->args_len, &x->argc);
	x->truncated = e->flags & (MPT_EXEC_TRUNC_ARGS | MPT_EXEC_TRUNC_FNAME);
	p->argv = x->argv;
	p->argc = x->argc;
	p->argv_owned = true;
	set_comm(p, e->comm);
	pt->execs++;
	chg->proc = p;
	return 0;
}

struct pt_proc *pt_proc_of_tid(const struct ptree *pt, uint32_t tid)
{
	struct pt_proc *p;

	for (struct pt_tid *t = pt->tids[tid & 1023]; t; t = t->next)
		if (t->tid == tid && t->proc->state == PT_RUNNING)
			return t->proc;
	p = ptree_find(pt, tid);
	return p && p->state == PT_RUNNING ? p : NULL;
}

static void note_ended(struct ptree *pt, uint32_t tid, uint64_t start_ts)
{
	unsigned i = pt->nrecent++ % PT_RECENT;

	pt->recent[i].tid = tid;
	pt->recent[i].start_ts = start_ts;
}

bool pt_wait_known(const struct ptree *pt, uint32_t pid, uint32_t tid, uint64_t start_ts)
{
	const struct pt_proc *p = ptree_find(pt, pid);

	for (unsigned i = 0; i < PT_RECENT && i < pt->nrecent; i++)
		if (pt->recent[i].tid == tid && pt->recent[i].start_ts == start_ts)
			return true;
	if (!p)
		return false;
	for (const struct pt_inwait *w = p->inwaits; w; w = w->next)
		if (w->tid == tid && w->start_ts == start_ts)
			return true;
	return false;
}

/*
 * The processes with waits in progress: the deadlock search and the lock
 * forgetting walk them, not every process kept (docs/design.md "Runs for
 * days"). Called whenever p->inwaits may have become empty or not.
 */
static void waiting_update(struct ptree *pt, struct pt_proc *p)
{
	if (p->inwaits && !p->waiting) {
		p->wprev = NULL;
		p->wnext = pt->waiting;
		if (pt->waiting)
			pt->waiting->wprev = p;
		pt->waiting = p;
		p->waiting = true;
	} else if (!p->inwaits && p->waiting) {
		if (p->wprev)
			p->wprev->wnext = p->wnext;
		else
			pt->waiting = p->wnext;
		if (p->wnext)
			p->wnext->wprev = p->wprev;
		p->wnext = p->wprev = NULL;
		p->waiting = false;
	}
}

/* Removes the in-progress wait of `tid` (a lock wait, or a child wait). */
static struct pt_inwait *take_inwait(struct ptree *pt, struct pt_proc *p, uint32_t tid, bool child)
{
	for (struct pt_inwait **pp = &p->inwaits; *pp; pp = &(*pp)->next) {
		struct pt_inwait *w = *pp;

		if (w->tid == tid && w->child == child) {
			*pp = w->next;
			pt->ninwaits--;
			waiting_update(pt, p);
			return w;
		}
	}
	return NULL;
}

static void drop_inwaits(struct ptree *pt, struct pt_proc *p)
{
	while (p->inwaits) {
		struct pt_inwait *w = p->inwaits;

		p->inwaits = w->next;
		pt->ninwaits--;
		free(w);
	}
	waiting_update(pt, p);
}

/* A parent's group died: whatever it still had running is orphaned and
 * adopted by `reaper`; its unreaped zombies go to the reaper too. */
static bool reparent_children(struct ptree *pt, struct pt_proc *dead, uint32_t reaper, uint64_t ts)
{
	bool orphans = false;

	for (struct pt_proc *c = dead->child; c; c = c->sibling) {
		if (c->cur_ppid != dead->pid || c->state == PT_REAPED)
			continue;
		/* an auto-reaped zombie releases itself: nobody adopts it,
		 * however late its free record comes */
		if (c->exited && c->autoreap)
			continue;
		c->cur_ppid = reaper;
		c->adopted_by = reaper;
		c->adopted_ts = ts;
		if (!c->exited) {
			c->orphaned_ts = ts;
			orphans = true;
		}
	}
	(void)pt;
	return orphans;
}

/*
 * The set of current zombies, in order of exit: per-tick work (the stream's
 * zombie lines, settling) walks what is a zombie now, not every process
 * ever seen.
 */
static void zombie_enter(struct ptree *pt, struct pt_proc *p)
{
	p->state = PT_ZOMBIE;
	pt->zombies_now++;
	p->znext = NULL;
	p->zprev = pt->zombies_tail;
	if (pt->zombies_tail)
		pt->zombies_tail->znext = p;
	else
		pt->zombies = p;
	pt->zombies_tail = p;
}

static void zombie_leave(struct ptree *pt, struct pt_proc *p)
{
	if (pt->zombies_now)
		pt->zombies_now--;
	if (p->zprev)
		p->zprev->znext = p->znext;
	else if (pt->zombies == p)
		pt->zombies = p->znext;
	if (p->znext)
		p->znext->zprev = p->zprev;
	else if (pt->zombies_tail == p)
		pt->zombies_tail = p->zprev;
	p->znext = p->zprev = NULL;
}

/* The reaped processes a forgetting model may free, oldest reap first. */
static void reaped_enter(struct ptree *pt, struct pt_proc *p)
{
	if (!pt->forgets || p->pins || p->is_root)
		return;
	p->rnext = NULL;
	p->rprev = pt->reaped_tail;
	if (pt->reaped_tail)
		pt->reaped_tail->rnext = p;
	else
		pt->reaped = p;
	pt->reaped_tail = p;
	pt->nreaped++;
}

static void reaped_leave(struct ptree *pt, struct pt_proc *p)
{
	if (!p->rprev && pt->reaped != p)
		return;		/* not on the list */
	pt->nreaped--;
	if (p->rprev)
		p->rprev->rnext = p->rnext;
	else
		pt->reaped = p->rnext;
	if (p->rnext)
		p->rnext->rprev = p->rprev;
	else
		pt->reaped_tail = p->rprev;
	p->rnext = p->rprev = NULL;
}

/* Something keeps a pointer to p (a lock wait, a deadlock): not freed
 * until unpin() as often. */
static void pin(struct ptree *pt, struct pt_proc *p)
{
	p->pins++;
	reaped_leave(pt, p);
}

static void unpin(struct ptree *pt, struct pt_proc *p)
{
	if (--p->pins == 0 && p->state == PT_REAPED)
		reaped_enter(pt, p);
}

static void mark_leak_candidates(struct ptree *pt)
{
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];

		/* one mptrace already signalled (--on-deadlock=kill ends the
		 * tree) was not left running by the command */
		if (!p->exited && p != pt->root && !p->killed_by_us)
			p->alive_at_root_exit = true;
	}
}

static void reap(struct ptree *pt, struct pt_proc *c, uint64_t ts, uint32_t by);

static int on_exit_ev(struct ptree *pt, const struct mpt_exit *e, struct pt_change *chg)
{
	struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);

	if (p->exited || p->gone)
		return -EINVAL;
	set_comm(p, e->comm);
	drop_inwaits(pt, p);
	p->exited = true;
	p->exit_ts = e->h.ts;
	p->status = e->status;
	zombie_enter(pt, p);
	p->autoreap = e->flags & MPT_EXIT_AUTOREAP;
	p->kids_listed = e->flags & MPT_EXIT_KIDS_LISTED;
	if (e->ppid && e->ppid != p->cur_ppid && !p->adopted_by && p->cur_ppid) {
		/* Re-parented without us seeing its parent die (attach mode):
		 * when is unknown, but before its exit. */
		p->adopted_by = e->ppid;
		p->adopted_ts = p->exit_ts;
	}
	if (e->ppid)
		p->cur_ppid = e->ppid;
	if (pt_signaled(p)) {
		for (struct pt_sig *s = p->sigs; s; s = s->next) {
			if (s->sig == (uint32_t)pt_term_sig(p)) {
				p->killer_known = true;
				p->killer_cause = s->cause;
				if (s->cause == SIG_BY_PROCESS) {
					p->killer_pid = s->sender;
					memcpy(p->killer_comm, s->comm, sizeof(p->killer_comm));
				}
				break;
			}
		}
	}
	if (pt->live)
		pt->live--;
	chg->proc = p;
	chg->orphaned_some = reparent_children(pt, p, e->reaper, e->h.ts);
	if (p == pt->root) {
		pt->root_exit_ts = e->h.ts;
		mark_leak_candidates(pt);
	}
	/* exit_notify() releases it at once: never a zombie, never adopted,
	 * although its free record comes a grace period later */
	if (p->autoreap)
		reap(pt, p, e->h.ts, 0);
	return 0;
}

/* `by`: the kernel's reaper (the parent at release), 0 for the kernel
 * itself. Anyone but the forking parent that reaps was its adopter. */
static void reap(struct ptree *pt, struct pt_proc *c, uint64_t ts, uint32_t by)
{
	zombie_leave(pt, c);
	c->state = PT_REAPED;
	c->reaped_ts = ts;
	reaped_enter(pt, c);
	if (c->autoreap && !by) {
		c->reap = PT_REAP_AUTO;
		c->reaped_by = 0;
	} else if (by && by == c->ppid) {
		/* its release is seen late, perhaps after the parent's exit
		 * handed it over: a parent reaps only while alive */
		c->reap = PT_REAP_PARENT;
		c->reaped_by = by;
		c->adopted_by = 0;
		c->cur_ppid = by;
	} else if (by || c->adopted_by) {
		if (by)
			c->adopted_by = by;
		c->reap = PT_REAP_ADOPTER;
		c->reaped_by = c->adopted_by;
	} else {
		c->reap = PT_REAP_PARENT;
		c->reaped_by = c->cur_ppid;
	}
}

static void waitstat_add(struct pt_waitstat *w, uint64_t ns)
{
	w->count++;
	w->total_ns += ns;
	if (ns > w->max_ns)
		w->max_ns = ns;
}

static void add_span(struct ptree *pt, struct pt_proc *p, const struct pt_span *sp)
{
	if (pt->nspans == PT_MAX_SPANS) {
		pt->spans_dropped++;
		return;
	}
	pt->nspans++;
	if (!(p->nspans & (p->nspans - 1)))	/* 0, 1, 2, 4...: grow by doubling */
		p->spans = xrealloc(p->spans, (p->nspans ? p->nspans * 2 : 1) * sizeof(*p->spans));
	p->spans[p->nspans++] = *sp;
}

/* A join wait ended. Who was reaped is the free record's business: a
 * wait's return value is in the waiter's pid namespace, a WNOWAIT peek and
 * a ptracer's wait report a child without reaping it. */
static int on_wait(struct ptree *pt, const struct mpt_wait *e, struct pt_change *chg)
{
	struct pt_proc *w;

	if (e->h.pid == pt->meta.self_pid && pt->meta.self_pid)
		return 0;
	w = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
	/* the child wait the scan saw in progress is over */
	free(take_inwait(pt, w, e->h.tid, true));
	note_ended(pt, e->h.tid, e->start_ts);
	if (!(e->flags & MPT_WAIT_NOHANG) && e->h.ts >= e->start_ts) {
		struct pt_span sp = { .start_ts = e->start_ts, .end_ts = e->h.ts,
				      .tid = e->h.tid, .other = e->waker,
				      .kind = PT_SPAN_JOIN };

		waitstat_add(&w->join_wait, e->h.ts - e->start_ts);
		add_span(pt, w, &sp);
	}
	/* A blocking wait that a zombie child's exit woke, and which then
	 * ended: most likely its reap. Kept as evidence for a release record
	 * that never comes (pt_proc.parent_woke_ts), not as the reap. */
	if (e->waker && !(e->flags & (MPT_WAIT_NOHANG | MPT_WAIT_NOWAIT))) {
		struct pt_proc *c = ptree_find(pt, e->waker);

		if (c && c->parent == w && c->state == PT_ZOMBIE && !c->parent_woke_ts &&
		    (e->target == -1 || e->target == (int32_t)c->pid))
			c->parent_woke_ts = e->h.ts;
	}
	chg->proc = w;
	return 0;
}

/* When the reaper reaped `pid`, which exited at exit_ts: at its earliest
 * wait point since the exit (an entry into a wait, or a wake-up inside one)
 * that named this child (a wait for its pid, the wake-up its exit caused),
 * else at the earliest that waited for any child; the release itself is seen
 * a grace period later. */
uint64_t pt_reap_time(const struct mpt_free *e, uint32_t pid, uint64_t exit_ts)
{
	uint64_t named = UINT64_MAX, any = e->h.ts;

	for (uint32_t i = 0; i < e->nwps && i < MPT_FREE_WPS; i++) {
		const struct mpt_wp *w = &e->wps[i];

		if (w->ts < exit_ts)
			continue;
		if (w->target == pid && w->ts < named)
			named = w->ts;
		else if (!w->target && w->ts < any)
			any = w->ts;
	}
	return named != UINT64_MAX && named <= e->h.ts ? named : any;
}

static int on_free(struct ptree *pt, const struct mpt_free *e, struct pt_change *chg)
{
	struct pt_proc *p = find_exact(pt, e->h.pid, e->h.start);

	if (!p || p->gone)
		return 0;	/* released before we ever saw it, or found gone: nothing to say */
	chg->proc = p;
	if (!p->exited) {
		/* its exit record was lost: it is gone all the same */
		p->exited = true;
		p->exit_ts = e->h.ts;
		zombie_enter(pt, p);
		if (pt->live)
			pt->live--;
	}
	if (p->state == PT_ZOMBIE)
		reap(pt, p, pt_reap_time(e, p->pid, p->exit_ts), p->autoreap ? 0 : e->reaper);
	else if (p->reap != PT_REAP_AUTO)
		return 0;
	chg->other = p;
	return 0;
}

/*
 * After lost records: the kernel no longer has a process the model holds as
 * running or a zombie. It leaves the living (and the zombies) as released,
 * at a time and in a way nobody knows: no exit status, no reaper, no
 * reap time; a forgetting model then frees it like any reaped process.
 */
static int on_gone(struct ptree *pt, const struct mpt_gone *e, struct pt_change *chg)
{
	struct pt_proc *p = find_exact(pt, e->h.pid, e->h.start);

	if (!p || p->state == PT_REAPED || !e->h.start)
		return -EINVAL;		/* its records came after all, or not this one */
	chg->proc = p;
	drop_inwaits(pt, p);
	if (p->state == PT_ZOMBIE) {
		zombie_leave(pt, p);
	} else if (pt->live) {
		pt->live--;
	}
	p->gone = true;
	p->state = PT_REAPED;
	p->reap = PT_REAP_NONE;
	p->reaped_by = 0;
	p->reaped_ts = PT_NONE;
	pt->ngone++;
	reaped_enter(pt, p);
	return 0;
}

static void idset_add(struct pt_idset *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = id;
}

static size_t idset_index(const struct pt_idset *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return i;
	return s->n;
}

static char *comps_path(const char comps[MPT_PATH_COMPS][MPT_COMP_LEN])
{
	char buf[MPT_PATH_COMPS * (MPT_COMP_LEN + 1) + 1];
	size_t n = 0;
	int k;

	for (k = 0; k < MPT_PATH_COMPS && comps[k][0]; k++)
		;
	if (!k)
		return NULL;
	buf[0] = '\0';
	for (int i = k - 1; i >= 0; i--)
		n += snprintf(buf + n, sizeof(buf) - n, "/%.*s", MPT_COMP_LEN, comps[i]);
	return xstrdup(buf);
}

struct lock_key {
	uint32_t kind, flags;
	uint64_t dev, ino, off;
};

/* `comps` (or NULL) names the lock if it has no name yet */
static unsigned lock_hash(const char *id)
{
	unsigned h = 0;

	for (const char *c = id; *c; c++)
		h = h * 31 + (unsigned char)*c;
	return h;
}

/* Two locks a bucket at most on average: a lookup costs the same with a
 * million locks (command mode keeps them all) as with a hundred. */
static void lock_rehash(struct ptree *pt)
{
	free(pt->lhash);
	pt->lhsize *= 2;
	pt->lhash = xcalloc(pt->lhsize, sizeof(*pt->lhash));
	for (size_t i = 0; i < pt->nlocks; i++) {
		struct pt_lock *l = pt->locks[i];
		unsigned h = lock_hash(l->id) & (pt->lhsize - 1);

		l->hnext = pt->lhash[h];
		pt->lhash[h] = l;
	}
}

static struct pt_lock *get_lock(struct ptree *pt, const struct lock_key *k,
				const char (*comps)[MPT_COMP_LEN])
{
	static const char *const kinds[] = {
		[MPT_LOCK_FUTEX] = "futex", [MPT_LOCK_FLOCK] = "flock",
		[MPT_LOCK_POSIX] = "posix", [MPT_LOCK_OFD] = "ofd",
		[MPT_LOCK_SYSV] = "sysv_sem",
	};
	char id[96];
	unsigned h = 0;
	struct pt_lock *l;

	if (k->kind == MPT_LOCK_SYSV)
		snprintf(id, sizeof(id), "sysv_sem:%llu:%llu", (unsigned long long)k->ino,
			 (unsigned long long)k->off);
	else if (k->kind == MPT_LOCK_FUTEX && (k->flags & MPT_LOCK_PRIVATE))
		snprintf(id, sizeof(id), "futex:pid%llu:0x%llx", (unsigned long long)k->dev,
			 (unsigned long long)k->ino);
	else if (k->kind == MPT_LOCK_FUTEX)
		snprintf(id, sizeof(id), "futex:%llu:%llu+%llu", (unsigned long long)k->dev,
			 (unsigned long long)k->ino, (unsigned long long)k->off);
	else
		snprintf(id, sizeof(id), "%s:%llu:%llu", kinds[k->kind], (unsigned long long)k->dev,
			 (unsigned long long)k->ino);
	h = lock_hash(id) & (pt->lhsize - 1);
	for (l = pt->lhash[h]; l; l = l->hnext) {
		if (strcmp(l->id, id))
			continue;
		if (!l->name && comps)
			l->name = comps_path(comps);
		l->keyfail |= !!(k->flags & MPT_LOCK_KEY_FAIL);
		return l;
	}
	l = xcalloc(1, sizeof(*l));
	memcpy(l->id, id, sizeof(id));
	l->type = k->kind - 1;
	l->kflags = k->flags & MPT_LOCK_PRIVATE;
	l->keyfail = !!(k->flags & MPT_LOCK_KEY_FAIL);
	l->kdev = k->dev;
	l->kino = k->ino;
	l->koff = k->off;
	l->name = comps ? comps_path(comps) : NULL;
	if (pt->nlocks >= 2 * pt->lhsize) {
		lock_rehash(pt);
		h = lock_hash(id) & (pt->lhsize - 1);
	}
	l->hnext = pt->lhash[h];
	pt->lhash[h] = l;
	if (pt->nlocks == pt->lcap) {
		pt->lcap = pt->lcap ? pt->lcap * 2 : 16;
		pt->locks = xrealloc(pt->locks, pt->lcap * sizeof(*pt->locks));
	}
	pt->locks[pt->nlocks++] = l;
	return l;
}

/* A holder as a process id: owner tids are mapped to their process where
 * the thread is known; otherwise the kernel's number is kept as is. */
static uint32_t holder_pid(const struct ptree *pt, uint32_t holder, uint32_t hkind)
{
	const struct pt_proc *p;

	if (!holder || hkind == MPT_HOLDER_NONE)
		return 0;
	if (hkind != MPT_HOLDER_OWNER_TID)
		return holder;
	p = pt_proc_of_tid(pt, holder);
	return p ? p->pid : holder;
}

static void note_top_wait(struct ptree *pt, const struct pt_lockwait *w)
{
	size_t i = pt->ntop;

	if (i == PT_TOP_WAITS) {
		if (w->dur_ns <= pt->top[PT_TOP_WAITS - 1].dur_ns)
			return;
		i--;
		pin(pt, w->proc);
		unpin(pt, pt->top[i].proc);
	} else {
		pt->ntop++;
		pin(pt, w->proc);
	}
	/* keep sorted, longest first; ties keep arrival order */
	while (i > 0 && pt->top[i - 1].dur_ns < w->dur_ns) {
		pt->top[i] = pt->top[i - 1];
		i--;
	}
	pt->top[i] = *w;
}

/* -p, -a, top: the older half of the lock-wait log goes (only counted) */
static void waitlog_halve(struct ptree *pt)
{
	size_t half = pt->nwaitlog / 2;

	for (size_t i = 0; i < half; i++)
		unpin(pt, pt->waitlog[i].proc);
	memmove(pt->waitlog, pt->waitlog + half, (pt->nwaitlog - half) * sizeof(*pt->waitlog));
	pt->nwaitlog -= half;
	pt->waitlog_dropped += half;
}

static void count_lock_wait(struct ptree *pt, struct pt_proc *p, struct pt_lock *l,
			    const struct pt_lockwait *w)
{
	size_t i;

	l->waits++;
	l->last_ts = pt->last_ts;
	l->total_ns += w->dur_ns;
	if (w->holder_input)
		l->qwait_ns += w->dur_ns;
	else if (w->holder_preempted)
		l->pwait_ns += w->dur_ns;
	if (w->dur_ns > l->max_ns)
		l->max_ns = w->dur_ns;
	i = idset_index(&l->waiters, p->pid);
	if (i == l->waiters.n) {
		idset_add(&l->waiters, p->pid);
		l->waiter_ns = xrealloc(l->waiter_ns, l->waiters.cap * sizeof(*l->waiter_ns));
		l->waiter_ns[i] = 0;
	}
	l->waiter_ns[i] += w->dur_ns;
	if (w->waker && w->waker != p->pid)
		idset_add(&l->wakers, w->waker);
	if (w->holder && w->holder != p->pid && !w->holder_inferred)
		idset_add(&l->holders, w->holder);
	idset_add(&l->wtids, w->tid);
	if (w->waker_tid && w->waker_tid != w->tid)
		idset_add(&l->ktids, w->waker_tid);
	if (l->cls == PT_WC_UNKNOWN)
		l->cls = w->cls;
	if (!l->comm[0])
		memcpy(l->comm, p->comm, sizeof(l->comm));
	waitstat_add(&p->lock_wait, w->dur_ns);
	pt->lock_waits++;
	pt->lock_wait_ns += w->dur_ns;
	note_top_wait(pt, w);
	/* each entry pins its process: a forgetting model keeps the newest */
	if (pt->forgets && pt->nwaitlog == PT_MAX_WAITLOG_FORGET)
		waitlog_halve(pt);
	if (pt->nwaitlog == PT_MAX_WAITLOG) {
		pt->waitlog_dropped++;
		return;
	}
	pin(pt, p);
	if (pt->nwaitlog == pt->waitlog_cap) {
		pt->waitlog_cap = pt->waitlog_cap ? pt->waitlog_cap * 2 : 256;
		pt->waitlog = xrealloc(pt->waitlog, pt->waitlog_cap * sizeof(*pt->waitlog));
	}
	pt->waitlog[pt->nwaitlog++] = *w;
}

void pt_stack_free(struct pt_stack *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n; i++) {
		free(s->f[i].module);
		free(s->f[i].symbol);
	}
	free(s);
}

static void frame_text(struct sbuf *b, const struct pt_frame *f)
{
	const char *base;

	if (f->symbol) {
		sb_puts(b, f->symbol);
		return;
	}
	if (!f->module) {
		sb_printf(b, "0x%llx", (unsigned long long)f->addr);
		return;
	}
	base = strrchr(f->module, '/');
	sb_printf(b, "%s+0x%llx", base ? base + 1 : f->module, (unsigned long long)f->offset);
}

void pt_stack_text(struct sbuf *b, const struct pt_stack *s, unsigned max, bool utf8)
{
	const char *sep = utf8 ? " ← " : " <- ";
	uint32_t i = 0, shown = 0;

	/* the unnamed innermost frames are a library's insides (a static
	 * futex helper under sem_wait): the call the program made comes first */
	while (i < s->n && !s->f[i].symbol)
		i++;
	if (i == s->n)
		i = 0;
	sb_puts(b, "in ");
	for (; i < s->n && shown < max; i++, shown++) {
		if (shown)
			sb_puts(b, sep);
		frame_text(b, &s->f[i]);
	}
	if (i < s->n)
		sb_printf(b, "%s%s", sep, utf8 ? "…" : "...");
}

void ptree_add_stack(struct ptree *pt, struct pt_stack *s)
{
	if (pt->nstacks >= PT_MAX_STACKS) {
		pt->stacks_dropped++;
		pt_stack_free(s);
		return;
	}
	s->next = pt->stacks;
	pt->stacks = s;
	pt->nstacks++;
	pt->pending[pt->npending++ % PT_STACK_PENDING] = s;
}

/* The stack that came for the wait of `tid` that began at `ts`, or NULL. */
static const struct pt_stack *take_stack(struct ptree *pt, uint32_t tid, uint64_t ts)
{
	for (unsigned i = 0; i < PT_STACK_PENDING; i++) {
		struct pt_stack *s = pt->pending[i];

		if (s && s->tid == tid && s->ts == ts) {
			pt->pending[i] = NULL;
			return s;
		}
	}
	return NULL;
}

#define QUEUE_LOOKBACK 64	/* waits of the log looked at for the releaser's own */

/*
 * A wait whose releaser had itself queued on the same lock for at least half
 * of it (a queue wait of the releaser's, which then took the lock and let it
 * go) queued too: the second in line behind a holder waiting for input.
 */
static bool queued_behind(const struct ptree *pt, const struct pt_lockwait *w)
{
	uint64_t end = w->start_ts + w->dur_ns;

	if (!w->waker_tid || w->waker_tid == w->tid)
		return false;
	for (size_t i = pt->nwaitlog, n = 0; i-- > 0 && n < QUEUE_LOOKBACK; n++) {
		const struct pt_lockwait *x = &pt->waitlog[i];
		uint64_t lo, hi;

		if (x->tid != w->waker_tid || x->lock != w->lock)
			continue;
		if (!x->holder_input)
			return false;
		lo = x->start_ts > w->start_ts ? x->start_ts : w->start_ts;
		hi = x->start_ts + x->dur_ns < end ? x->start_ts + x->dur_ns : end;
		return hi > lo && (hi - lo) * 2 >= w->dur_ns;
	}
	return false;
}

static int on_lock(struct ptree *pt, const struct mpt_lock *e, struct pt_change *chg)
{
	struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
	struct lock_key k = { e->kind, e->flags, e->dev, e->ino, e->off };
	struct pt_inwait *in;
	struct pt_lockwait w;
	struct pt_lock *l;

	if (e->kind < MPT_LOCK_FUTEX || e->kind > MPT_LOCK_SYSV)
		return -EINVAL;
	l = get_lock(pt, &k, e->comps);
	in = take_inwait(pt, p, e->h.tid, false);
	note_ended(pt, e->h.tid, e->start_ts);
	w = (struct pt_lockwait){ .start_ts = e->start_ts, .proc = p, .tid = e->h.tid, .lock = l,
				  .waker = e->waker,
				  .holder = holder_pid(pt, e->holder, e->hkind) };
	if (!w.holder && in) {
		w.holder = in->holder;
		w.holder_inferred = in->holder_inferred;
	}
	w.stack = take_stack(pt, e->h.tid, e->start_ts);
	if (!w.stack && in)
		w.stack = in->stack;
	w.cls = pt_classify(l->type, w.stack, e->hkind);
	w.waker_tid = e->waker_tid;
	w.holder_input = !!(e->flags & MPT_LOCK_HOLDER_INPUT);
	w.holder_preempted = !!(e->flags & (MPT_LOCK_HOLDER_PREEMPTED | MPT_LOCK_RELEASED));
	w.dur_ns = e->h.ts >= e->start_ts ? e->h.ts - e->start_ts : 0;
	if (!w.holder_input)
		w.holder_input = queued_behind(pt, &w);
	free(in);
	count_lock_wait(pt, p, l, &w);
	chg->proc = p;
	chg->lock = l;
	return 0;
}

/* A wait in progress from a begin record; NULL if already known or moot. */
static struct pt_inwait *add_inwait(struct ptree *pt, const struct mpt_hdr *h, struct pt_change *chg)
{
	struct pt_inwait *w;
	struct pt_proc *p;

	if (pt_wait_known(pt, h->pid, h->tid, h->ts))
		return NULL;
	p = get_proc(pt, h->pid, h->start, h->ts);
	if (p->exited)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->tid = h->tid;
	w->start_ts = h->ts;
	w->stack = take_stack(pt, h->tid, h->ts);
	w->next = p->inwaits;
	p->inwaits = w;
	pt->ninwaits++;
	waiting_update(pt, p);
	chg->proc = p;
	return w;
}

static int on_lock_begin(struct ptree *pt, const struct mpt_lock_begin *e, struct pt_change *chg)
{
	struct lock_key k = { e->kind, e->flags, e->dev, e->ino, e->off };
	struct pt_inwait *w;

	if (e->kind < MPT_LOCK_FUTEX || e->kind > MPT_LOCK_SYSV)
		return -EINVAL;
	w = add_inwait(pt, &e->h, chg);
	if (!w)
		return 0;
	w->lock = get_lock(pt, &k, e->comps);
	w->lock->last_ts = pt->last_ts;
	w->holder = holder_pid(pt, e->holder, e->hkind);
	if (w->lock->cls == PT_WC_UNKNOWN)
		w->lock->cls = pt_classify(w->lock->type, w->stack, e->hkind);
	if (!w->lock->comm[0])
		memcpy(w->lock->comm, chg->proc->comm, sizeof(w->lock->comm));
	chg->lock = w->lock;
	return 0;
}

static int on_wait_begin(struct ptree *pt, const struct mpt_wait_begin *e, struct pt_change *chg)
{
	struct pt_inwait *w = add_inwait(pt, &e->h, chg);

	if (w) {
		w->child = true;
		w->target = e->target;
	}
	return 0;
}

static struct pt_proc *find_any(const struct ptree *pt, uint32_t pid, uint64_t start)
{
	struct pt_proc *p = find_exact(pt, pid, start);

	return p ? p : ptree_find(pt, pid);
}

/*
 * A lock wait of a cycle with no holder seen (a semaphore's): the search
 * (dl_detect) found the next member as its one possible holder, so the wait
 * and the finding name it, as inferred.
 */
static void infer_member(struct pt_deadlock *d, int i)
{
	struct pt_dl_member *m = &d->m[i];

	if (!m->waits_on)
		return;
	for (struct pt_inwait *w = m->proc->inwaits; w; w = w->next) {
		if (w->child || w->start_ts != m->since || w->lock != m->waits_on)
			continue;
		if (!w->holder || w->holder_inferred) {
			w->holder = d->m[(i + 1) % d->n].proc->pid;
			w->holder_inferred = true;
			m->inferred = true;
		}
		return;
	}
}

static int on_deadlock(struct ptree *pt, const struct mpt_deadlock *e, struct pt_change *chg)
{
	struct pt_deadlock d = { .ts = e->h.ts };

	if (e->n < 2 || e->n > MPT_DL_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < e->n; i++) {
		const struct mpt_dl_member *m = &e->m[i];
		struct lock_key k = { m->kind, m->flags, m->dev, m->ino, m->off };

		d.m[i].proc = find_any(pt, m->pid, m->start);
		if (!d.m[i].proc)
			return -EINVAL;
		pin(pt, d.m[i].proc);
		if (m->kind >= MPT_LOCK_FUTEX && m->kind <= MPT_LOCK_SYSV) {
			d.m[i].waits_on = get_lock(pt, &k, NULL);
		}
		d.m[i].since = m->since;
		for (const struct pt_inwait *w = d.m[i].proc->inwaits; w; w = w->next)
			if (w->start_ts == m->since && w->stack)
				d.m[i].stack = w->stack;
	}
	d.n = e->n;
	for (int i = 0; i < d.n; i++)
		infer_member(&d, i);
	pt->deadlocks = xrealloc(pt->deadlocks, (pt->ndeadlocks + 1) * sizeof(*pt->deadlocks));
	pt->deadlocks[pt->ndeadlocks++] = d;
	chg->proc = d.m[0].proc;
	return 0;
}

/*
 * Marker intervals are kept in order of begin and looked up for every
 * process of a report: mark_end is a segment tree holding, per node, the
 * latest end among its marks (an open mark's end is PT_NONE, the latest of
 * all), so the innermost mark around a time is found in O(log n) however
 * markers nest or overlap (traced code writes them: they can lie).
 */
static void mark_tree_set(struct ptree *pt, size_t i)
{
	size_t k = pt->marks_cap + i;

	pt->mark_end[k] = pt->marks[i].end_ts;
	for (k /= 2; k; k /= 2) {
		uint64_t l = pt->mark_end[2 * k], r = pt->mark_end[2 * k + 1];

		pt->mark_end[k] = l > r ? l : r;
	}
}

static void marks_grow(struct ptree *pt)
{
	size_t cap = pt->marks_cap ? pt->marks_cap * 2 : 64;

	pt->marks = xrealloc(pt->marks, cap * sizeof(*pt->marks));
	free(pt->mark_end);
	pt->mark_end = xcalloc(2 * cap, sizeof(*pt->mark_end));
	pt->marks_cap = cap;
	for (size_t i = 0; i < pt->nmarks; i++)
		mark_tree_set(pt, i);
}

static void mark_begin(struct ptree *pt, const char *name, uint64_t ts)
{
	size_t at = pt->nmarks;

	if (pt->nmarks >= PT_MAX_MARKS) {
		pt->marks_dropped++;
		return;
	}
	if (pt->nmarks == pt->marks_cap)
		marks_grow(pt);
	/* markers come in order of sending; a clock step can still put one
	 * before the last: keep the array sorted by begin */
	while (at > 0 && pt->marks[at - 1].begin_ts > ts)
		at--;
	memmove(&pt->marks[at + 1], &pt->marks[at], (pt->nmarks - at) * sizeof(*pt->marks));
	memcpy(pt->marks[at].name, name, sizeof(pt->marks[at].name));
	pt->marks[at].begin_ts = ts;
	pt->marks[at].end_ts = PT_NONE;
	pt->nmarks++;
	for (size_t i = at; i < pt->nmarks; i++)
		mark_tree_set(pt, i);
}

static void mark_end(struct ptree *pt, const char *name, uint64_t ts)
{
	for (size_t i = pt->nmarks; i-- > 0;) {
		if (pt->marks[i].end_ts == PT_NONE && !strcmp(pt->marks[i].name, name)) {
			pt->marks[i].end_ts = ts;
			mark_tree_set(pt, i);
			return;
		}
	}
}

static int on_test(struct ptree *pt, const struct mpt_test *e, struct pt_change *chg)
{
	char name[MPT_TEST_LEN + 1];

	memcpy(name, e->name, MPT_TEST_LEN);
	name[MPT_TEST_LEN] = '\0';
	if (e->flags == MPT_TEST_ENV) {
		struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);

		free(p->test);
		p->test = xstrdup(name);
		chg->proc = p;
		return 0;
	}
	if (e->flags == MPT_TEST_BEGIN) {
		mark_begin(pt, name, e->h.ts);
		return 0;
	}
	if (e->flags == MPT_TEST_END) {
		mark_end(pt, name, e->h.ts);
		return 0;
	}
	return -EINVAL;
}

/* The rightmost mark in [0, last] of node k (covering [lo, hi]) whose end
 * is after ts, or -1. Descends only where the subtree's latest end is. */
static long mark_find(const struct ptree *pt, size_t k, size_t lo, size_t hi, size_t last,
		      uint64_t ts)
{
	size_t mid;
	long r;

	if (lo > last || pt->mark_end[k] <= ts)
		return -1;
	if (lo == hi)
		return (long)lo;
	mid = lo + (hi - lo) / 2;
	r = mark_find(pt, 2 * k + 1, mid + 1, hi, last, ts);
	return r >= 0 ? r : mark_find(pt, 2 * k, lo, mid, last, ts);
}

/* The latest-begun mark with begin <= ts < end. */
static const struct pt_testmark *mark_at(const struct ptree *pt, uint64_t ts)
{
	size_t lo = 0, hi = pt->nmarks;
	long i;

	while (lo < hi) {		/* marks begun at or before ts: [0, lo) */
		size_t mid = lo + (hi - lo) / 2;

		if (pt->marks[mid].begin_ts <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	i = mark_find(pt, 1, 0, pt->marks_cap - 1, lo - 1, ts);
	return i >= 0 ? &pt->marks[i] : NULL;
}

const char *pt_test_of(const struct ptree *pt, const struct pt_proc *p)
{
	for (int depth = 0; p && depth < 4096; depth++, p = p->parent) {
		const struct pt_testmark *m;

		if (p->test)
			return p->test;
		if (p->start_ts == PT_NONE)
			continue;
		m = mark_at(pt, p->start_ts);
		if (m)
			return m->name;
	}
	return NULL;
}

static int on_signal(struct ptree *pt, const struct mpt_signal *e, struct pt_change *chg)
{
	struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
	struct pt_sig *s;

	for (s = p->sigs; s; s = s->next)
		if (s->sig == e->sig)
			break;
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->next = p->sigs;
		p->sigs = s;
		s->sig = e->sig;
	}
	s->cause = sig_cause(e->sig, e->code, e->origin);
	/* a kernel-sent signal has no sender: the task that ran is a bystander */
	s->sender = s->cause == SIG_BY_PROCESS ? e->sender_pid : 0;
	memset(s->comm, 0, sizeof(s->comm));
	if (s->cause == SIG_BY_PROCESS)
		memcpy(s->comm, e->sender_comm, MPT_COMM_LEN);
	add_span(pt, p, &(struct pt_span){ .start_ts = e->h.ts, .end_ts = e->h.ts, .tid = e->h.tid,
				       .other = s->sender, .kind = PT_SPAN_SIGNAL,
				       .sig = e->sig, .cause = s->cause });
	chg->proc = p;
	return 0;
}

static int on_proc(struct ptree *pt, const struct mpt_proc *e, struct pt_change *chg)
{
	struct pt_proc *p = ptree_find(pt, e->h.pid), *parent;

	/* already known from a kernel event; if released, then after the
	 * snapshot read it alive: the same process, not a new one */
	if (p && (p->state != PT_REAPED || p->reaped_ts >= e->h.ts))
		return 0;
	p = new_proc(pt, e->h.pid, e->h.start, PT_NONE);
	p->seen_late = true;
	p->ppid = p->cur_ppid = e->ppid;
	p->threads = e->nthreads ? e->nthreads : 1;
	set_comm(p, e->comm);
	p->snap_argv = split_args(e->args, e->args_len, &p->argc);
	p->argv = p->snap_argv;
	p->argv_owned = true;
	parent = ptree_find(pt, e->ppid);
	if (parent && parent != p && parent->state != PT_REAPED)
		add_child(parent, p);
	if (e->flags & MPT_PROC_ZOMBIE) {
		/* exited before tracing began: a zombie since at least now */
		p->exited = true;
		p->status = e->status;
		p->exit_ts = e->h.ts;
		p->state = PT_ZOMBIE;
		if (pt->live)
			pt->live--;
		pt->zombies_now++;
	}
	chg->proc = p;
	return 0;
}

/*
 * A process's mappings (for the symbolizer, stacks.c): the model keeps the
 * shared file mappings it has used (mptrace leaves out the ones without a
 * page in its page tables), for pt_infer_holder(). The lines are
 * /proc/PID/maps's: "lo-hi perms offset MAJ:MIN inode path".
 */
static int on_maps(struct ptree *pt, const struct mpt_maps *e)
{
	struct pt_proc *p = find_exact(pt, e->h.pid, e->h.start);
	const char *text = e->data, *end = e->data + e->maps_len;

	if (!p || p->exited)
		return 0;
	p->nshm = 0;
	p->shm_full = false;
	p->maps_ts = e->h.ts ? e->h.ts : 1;
	while (text < end) {
		const char *nl = memchr(text, '\n', end - text);
		size_t n = (nl ? nl : end) - text;
		unsigned int maj, min;
		unsigned long long ino;
		char line[256], perms[5];

		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		text += n + 1;
		if (sscanf(line, "%*x-%*x %4s %*x %x:%x %llu", perms, &maj, &min, &ino) != 4 ||
		    strlen(perms) != 4 || perms[3] != 's' || !ino)
			continue;
		if (pt_maps_file(p, (uint64_t)maj << 20 | min, ino))
			continue;
		if (p->nshm == PT_MAX_SHM) {
			p->shm_full = true;
			break;
		}
		if (!p->shm)
			p->shm = xcalloc(PT_MAX_SHM, sizeof(*p->shm));
		p->shm[p->nshm++] = (struct pt_shm){ (uint64_t)maj << 20 | min, ino };
	}
	return 0;
}

bool pt_maps_file(const struct pt_proc *p, uint64_t dev, uint64_t ino)
{
	for (uint32_t i = 0; i < p->nshm; i++)
		if (p->shm[i].dev == dev && p->shm[i].ino == ino)
			return true;
	return false;
}

bool pt_sem_lock(const struct pt_lock *l)
{
	if (l->type != PT_LK_FUTEX || (l->kflags & MPT_LOCK_PRIVATE) || l->keyfail)
		return false;
	/* without a stack (--no-stacks), glibc's file name for a named semaphore */
	if (l->cls == PT_WC_UNKNOWN)
		return l->name && !strncmp(l->name, "/dev/shm/sem.", 13);
	return pt_lock_class(l) == PT_WC_SEMAPHORE || pt_lock_class(l) == PT_WC_QUEUE;
}

static bool waits_on(const struct pt_proc *p, const struct pt_lock *l)
{
	for (const struct pt_inwait *w = p->inwaits; w; w = w->next)
		if (!w->child && w->lock == l)
			return true;
	return false;
}

enum { HOLD_NO, HOLD_YES, HOLD_UNKNOWN };

/* Could q hold the semaphore of wait w? */
static int could_hold(const struct pt_proc *q, const struct pt_proc *waiter,
		      const struct pt_inwait *w)
{
	/* a process blocked on it holds it only through another thread */
	if ((q == waiter || waits_on(q, w->lock)) && q->threads <= 1)
		return HOLD_NO;
	if (!q->maps_ts || q->maps_ts < w->start_ts || q->shm_full)
		return HOLD_UNKNOWN;	/* its mappings are not known since the wait began */
	return pt_maps_file(q, w->lock->kdev, w->lock->kino) ? HOLD_YES : HOLD_NO;
}

uint32_t pt_infer_holder(const struct ptree *pt, const struct pt_proc *waiter,
			 const struct pt_inwait *w)
{
	uint32_t holder = 0;

	/* -a: every process of the machine would be a candidate to read */
	if (pt->meta.mode == PT_MODE_SYSTEM || w->child || !w->lock || !pt_sem_lock(w->lock))
		return 0;
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *q = pt->procs[i];
		int c;

		if (q->exited || q->pid == pt->meta.self_pid)
			continue;
		c = could_hold(q, waiter, w);
		if (c == HOLD_NO)
			continue;
		if (c == HOLD_UNKNOWN || holder)
			return 0;	/* one not known, or two could: no answer */
		holder = q->pid;
	}
	return holder;
}

/* A lock known only from a wait in progress that then ended under another
 * key (a shared futex's key found late, see design.md) was never waited on:
 * it leaves the list, and stays allocated until ptree_free(). */
static void drop_unwaited_locks(struct ptree *pt)
{
	struct pt_lock **v = xcalloc(pt->nlocks ? pt->nlocks : 1, sizeof(*v));
	size_t n = 0, all = pt->nlocks;

	for (size_t i = 0; i < all; i++)
		if (pt->locks[i]->waits)
			v[n++] = pt->locks[i];
	pt->nlocks = n;
	for (size_t i = 0; i < all; i++)
		if (!pt->locks[i]->waits)
			v[n++] = pt->locks[i];
	if (all)
		memcpy(pt->locks, v, all * sizeof(*v));
	free(v);
	pt->nlocks_all = all;
}

static void on_end(struct ptree *pt, const struct mpt_end *e)
{
	pt->ended = true;
	pt->end_ts = e->h.ts;
	pt->lost = 0;
	for (int i = 0; i < MPT_EV_MAX; i++) {
		pt->lost_type[i] = e->lost[i];
		pt->lost += e->lost[i];
	}
	pt->lost_track = e->lost_track;
	/* A lock wait still blocked at the end lasted at least until now. */
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];

		for (struct pt_inwait *w = p->inwaits; w; w = w->next) {
			struct pt_lockwait lw;

			if (w->child)
				continue;
			lw = (struct pt_lockwait){ .start_ts = w->start_ts, .proc = p, .tid = w->tid,
						   .lock = w->lock, .holder = w->holder,
						   .holder_inferred = w->holder_inferred,
						   .unfinished = true, .stack = w->stack };
			lw.cls = pt_classify(w->lock->type, w->stack, MPT_HOLDER_NONE);
			lw.dur_ns = e->h.ts > w->start_ts ? e->h.ts - w->start_ts : 0;
			count_lock_wait(pt, p, w->lock, &lw);
		}
	}
	drop_unwaited_locks(pt);
	/* An auto-reaped zombie is released by the exiting task itself; its
	 * RCU-delayed free record may come after we stopped listening. */
	for (struct pt_proc *p = pt->zombies, *next; p; p = next) {
		next = p->znext;
		if (p->autoreap)
			reap(pt, p, p->exit_ts, 0);
	}
}

int ptree_feed(struct ptree *pt, const struct mpt_hdr *ev, struct pt_change *chg)
{
	struct pt_change dummy;
	int err = 0;

	if (!chg)
		chg = &dummy;
	memset(chg, 0, sizeof(*chg));
	if (pt->ended)
		return -EINVAL;
	if (ev->type < MPT_EV_NTYPES)
		pt->nevents[ev->type]++;
	if (ev->ts > pt->last_ts)
		pt->last_ts = ev->ts;
	switch (ev->type) {
	case MPT_EV_FORK:
		err = on_fork(pt, (const struct mpt_fork *)ev, chg);
		break;
	case MPT_EV_EXEC:
		err = on_exec(pt, (const struct mpt_exec *)ev, chg);
		break;
	case MPT_EV_EXIT:
		err = on_exit_ev(pt, (const struct mpt_exit *)ev, chg);
		break;
	case MPT_EV_WAIT:
		err = on_wait(pt, (const struct mpt_wait *)ev, chg);
		break;
	case MPT_EV_FREE:
		err = on_free(pt, (const struct mpt_free *)ev, chg);
		break;
	case MPT_EV_LOCK:
		err = on_lock(pt, (const struct mpt_lock *)ev, chg);
		break;
	case MPT_EV_SIGNAL:
		err = on_signal(pt, (const struct mpt_signal *)ev, chg);
		break;
	case MPT_EV_PROC:
		err = on_proc(pt, (const struct mpt_proc *)ev, chg);
		break;
	case MPT_EV_END:
		on_end(pt, (const struct mpt_end *)ev);
		break;
	case MPT_EV_LOCK_BEGIN:
		err = on_lock_begin(pt, (const struct mpt_lock_begin *)ev, chg);
		break;
	case MPT_EV_WAIT_BEGIN:
		err = on_wait_begin(pt, (const struct mpt_wait_begin *)ev, chg);
		break;
	case MPT_EV_DEADLOCK:
		err = on_deadlock(pt, (const struct mpt_deadlock *)ev, chg);
		break;
	case MPT_EV_TEST:
		err = on_test(pt, (const struct mpt_test *)ev, chg);
		break;
	case MPT_EV_MAPS:
		err = on_maps(pt, (const struct mpt_maps *)ev);
		break;
	case MPT_EV_STACK:
		break;	/* for the symbolizer (stacks.c), which feeds ptree_add_stack() */
	case MPT_EV_GONE:
		err = on_gone(pt, (const struct mpt_gone *)ev, chg);
		break;
	case MPT_EV_KILL: {
		struct pt_proc *p = find_exact(pt, ev->pid, ev->start);

		if (p) {
			p->killed_by_us = true;
			p->sigkilled_by_us |= ((const struct mpt_kill *)ev)->sig == SIGKILL;
			if (((const struct mpt_kill *)ev)->reason == MPT_KILL_LEAK)
				p->killed_as_leak = true;
		}
		chg->proc = p;
		break;
	}
	default:
		err = -EINVAL;
	}
	return err;
}

double pt_ms(const struct ptree *pt, uint64_t ts)
{
	if (ts == PT_NONE)
		return 0;
	return ((double)(int64_t)(ts - pt->meta.t0)) / 1e6;
}

bool pt_signaled(const struct pt_proc *p)
{
	return p->exited && (p->status & 0x7f) != 0 && (p->status & 0x7f) != 0x7f;
}

int pt_exit_code(const struct pt_proc *p)
{
	return (p->status >> 8) & 0xff;
}

int pt_term_sig(const struct pt_proc *p)
{
	return p->status & 0x7f;
}

bool pt_core(const struct pt_proc *p)
{
	return pt_signaled(p) && (p->status & 0x80);
}

const char *pt_lock_type_name(enum pt_lock_type t)
{
	static const char *const n[] = { "futex", "flock", "posix", "ofd", "sysv_sem" };

	return t <= PT_LK_SYSV ? n[t] : "?";
}

void pt_lock_label(struct sbuf *b, const struct pt_lock *l)
{
	enum pt_wait_class c = pt_lock_class(l);

	if (l->type != PT_LK_FUTEX || c == PT_WC_UNKNOWN) {
		if (!l->name) {
			sb_puts(b, l->id);
			return;
		}
		sb_printf(b, "%s ", pt_lock_type_name(l->type));
		sb_put_printable(b, l->name, strlen(l->name));
		return;
	}
	sb_printf(b, "%s ", pt_wait_class_name(c));
	if (l->name) {
		sb_put_printable(b, l->name, strlen(l->name));
	} else if (l->kflags & MPT_LOCK_PRIVATE) {
		sb_puts(b, "in ");
		sb_put_printable(b, l->comm, strlen(l->comm));
		if (l->where) {
			sb_puts(b, " (");
			sb_put_printable(b, l->where, strlen(l->where));
			sb_putc(b, ')');
		} else {
			sb_printf(b, " (0x%llx)", (unsigned long long)l->kino);
		}
	} else {
		sb_puts(b, l->id);
	}
}

const char *pt_wait_class_name(enum pt_wait_class c)
{
	static const char *const n[PT_WC_N] = {
		[PT_WC_UNKNOWN] = "unknown", [PT_WC_MUTEX] = "mutex",
		[PT_WC_SEMAPHORE] = "semaphore", [PT_WC_CONDITION] = "condition",
		[PT_WC_JOIN] = "thread join", [PT_WC_RWLOCK] = "rwlock",
		[PT_WC_BARRIER] = "barrier", [PT_WC_OTHER] = "other", [PT_WC_QUEUE] = "queue",
		[PT_WC_FILE] = "file lock", [PT_WC_SYSV] = "sysv semaphore",
	};

	return (unsigned)c < PT_WC_N ? n[c] : "unknown";
}

/* The functions a futex wait's stack can be in, by name prefix: glibc's
 * (the call site names the entry point a tail call hides) and CPython's. */
static const struct {
	const char *prefix;
	enum pt_wait_class cls;
} wc_rules[] = {
	{ "_queue_SimpleQueue_get", PT_WC_CONDITION },	/* queue.SimpleQueue.get: for an item */
	{ "pthread_cond_", PT_WC_CONDITION }, { "__pthread_cond_", PT_WC_CONDITION },
	{ "pthread_join", PT_WC_JOIN }, { "pthread_timedjoin", PT_WC_JOIN },
	{ "pthread_clockjoin", PT_WC_JOIN }, { "__pthread_clockjoin", PT_WC_JOIN },
	{ "pthread_rwlock_", PT_WC_RWLOCK }, { "__pthread_rwlock_", PT_WC_RWLOCK },
	{ "pthread_barrier_", PT_WC_BARRIER },
	{ "pthread_mutex_", PT_WC_MUTEX }, { "__pthread_mutex_", PT_WC_MUTEX },
	{ "__lll_lock_wait", PT_WC_MUTEX }, { "mtx_", PT_WC_MUTEX },
	{ "sem_", PT_WC_SEMAPHORE }, { "__new_sem_", PT_WC_SEMAPHORE },
	{ "cnd_", PT_WC_CONDITION }, { "thrd_join", PT_WC_JOIN },
};

static enum pt_wait_class frame_class(const char *sym)
{
	for (size_t i = 0; i < sizeof(wc_rules) / sizeof(wc_rules[0]); i++)
		if (!strncmp(sym, wc_rules[i].prefix, strlen(wc_rules[i].prefix)))
			return wc_rules[i].cls;
	return PT_WC_UNKNOWN;
}

enum pt_wait_class pt_classify(enum pt_lock_type type, const struct pt_stack *st, uint32_t hkind)
{
	enum pt_wait_class c = PT_WC_UNKNOWN;
	bool named = false;

	if (type == PT_LK_SYSV)
		return PT_WC_SYSV;
	if (type != PT_LK_FUTEX)
		return PT_WC_FILE;
	for (uint32_t i = 0; st && i < st->n; i++) {
		enum pt_wait_class f;

		if (!st->f[i].symbol)
			continue;
		named = true;
		f = frame_class(st->f[i].symbol);
		/* the innermost known call says what it is; a queue's get
		 * further out says what its semaphore is for */
		if (f == PT_WC_CONDITION && c == PT_WC_SEMAPHORE)
			return f;
		if (f != PT_WC_UNKNOWN && c == PT_WC_UNKNOWN)
			c = f;
		if (i >= 8)
			break;
	}
	if (c == PT_WC_UNKNOWN && named)
		c = PT_WC_OTHER;
	if (c == PT_WC_UNKNOWN && hkind == MPT_HOLDER_OWNER_TID)
		c = PT_WC_MUTEX;	/* no stack: a futex word that names its owner */
	return c;
}

/* A private semaphore that no waiter ever released to another is a signal
 * (an Event, a Condition's waiter lock): its wakers hold nothing. */
static bool pt_sem_signals(const struct pt_lock *l)
{
	/* a shared semaphore whose key could not be read looks private: a lock */
	if (l->cls != PT_WC_SEMAPHORE || !(l->kflags & MPT_LOCK_PRIVATE) || l->keyfail)
		return false;
	for (size_t i = 0; i < l->ktids.n; i++)
		if (idset_index(&l->wtids, l->ktids.v[i]) < l->wtids.n)
			return false;	/* a waiter released it to another */
	return true;
}

enum pt_wait_class pt_lock_class(const struct pt_lock *l)
{
	uint64_t own = l->total_ns - l->pwait_ns;	/* not waiting for a preempted holder */

	/* first: a signal's waker waiting for input is no holder queued on */
	if (pt_sem_signals(l))
		return PT_WC_CONDITION;
	if (l->cls == PT_WC_SEMAPHORE && l->qwait_ns && l->qwait_ns >= own - own / 10)
		return PT_WC_QUEUE;
	return l->cls;
}

enum pt_wait_class pt_wait_class_of(const struct pt_lockwait *w)
{
	if (w->cls == PT_WC_SEMAPHORE && w->lock && pt_sem_signals(w->lock))
		return PT_WC_CONDITION;
	if (w->cls == PT_WC_SEMAPHORE && w->holder_input)
		return PT_WC_QUEUE;
	return w->cls == PT_WC_SEMAPHORE && w->lock ? pt_lock_class(w->lock) : w->cls;
}

bool pt_lock_contended(const struct pt_lock *l)
{
	/* the waiting came from the CPU the holders did not get */
	if (l->total_ns && l->pwait_ns >= l->total_ns - l->total_ns / 10)
		return false;
	switch (pt_lock_class(l)) {
	case PT_WC_CONDITION:
	case PT_WC_JOIN:
	case PT_WC_BARRIER:
	case PT_WC_OTHER:
	case PT_WC_QUEUE:
		return false;
	default:
		return true;
	}
}

const char *pt_reap_name(enum pt_reap r)
{
	static const char *const n[] = { NULL, "parent", "adopter", "auto" };

	return n[r];
}

uint64_t pt_zombie_ns(const struct pt_proc *p, uint64_t now)
{
	if (!p->exited || p->exit_ts == PT_NONE)
		return 0;
	if (p->state == PT_REAPED)	/* gone: its release time is unknown */
		return p->reaped_ts != PT_NONE && p->reaped_ts >= p->exit_ts ?
		       p->reaped_ts - p->exit_ts : 0;
	return now >= p->exit_ts ? now - p->exit_ts : 0;
}

/* Was `pid` a process of the traced tree (not mptrace) alive at `ts`? */
static bool traced_at(const struct ptree *pt, uint32_t pid, uint64_t ts)
{
	const struct pt_proc *r = ptree_find(pt, pid);

	if (!r || !pid || (pt->meta.self_pid && pid == pt->meta.self_pid))
		return false;
	if (r->start_ts != PT_NONE && r->start_ts > ts)
		return false;	/* a later process with a reused pid */
	return !r->exited || r->exit_ts >= ts;
}

void pt_zombie_split(const struct ptree *pt, const struct pt_proc *p, uint64_t now,
		     struct pt_zsplit *z)
{
	uint64_t total = pt_zombie_ns(p, now), handoff;

	memset(z, 0, sizeof(*z));
	z->parent_ns = z->counted_ns = total;
	if (!p->exited || !p->adopted_by || p->adopted_ts == PT_NONE)
		return;
	handoff = p->adopted_ts > p->exit_ts ? p->adopted_ts - p->exit_ts : 0;
	if (handoff > total)
		handoff = total;
	z->parent_ns = handoff;
	z->adopter_ns = total - handoff;
	z->adopter_traced = traced_at(pt, p->adopted_by, p->adopted_ts);
	z->counted_ns = z->parent_ns + (z->adopter_traced ? z->adopter_ns : 0);
}

bool pt_reaper_traced(const struct ptree *pt, const struct pt_proc *p)
{
	return traced_at(pt, p->cur_ppid, pt->last_ts);
}

/* ---- forgetting (-a, top, -p) ---- */

#define LINEAGE_NAMES 16	/* names a lineage keeps, nearest last */

/* Keeps the last LINEAGE_NAMES names of "a[1] > b[2] > ...". */
static char *trim_lineage(char *s)
{
	size_t names = 1;
	char *cut, *t;
	struct sbuf b = { 0 };

	for (const char *c = s; (c = strstr(c, " > ")); c += 3)
		names++;
	if (names <= LINEAGE_NAMES)
		return s;
	cut = s;
	for (size_t k = 0; k < names - LINEAGE_NAMES; k++)
		cut = strstr(cut, " > ") + 3;
	sb_puts(&b, "… > ");
	sb_puts(&b, cut);
	t = b.s;
	free(s);
	return t;
}

/* The names of p and its ancestors, its root's own lineage first. */
static char *lineage_of(const struct pt_proc *p)
{
	const struct pt_proc *chain[LINEAGE_NAMES], *q = p;
	size_t n = 0;
	bool more = false;
	struct sbuf b = { 0 };

	for (;;) {
		if (n < LINEAGE_NAMES)
			chain[n++] = q;
		else
			more = true;
		if (!q->parent)
			break;
		q = q->parent;
	}
	if (more)
		sb_puts(&b, "… > ");
	else if (q->lineage)
		sb_printf(&b, "%s > ", q->lineage);
	for (size_t i = n; i-- > 0;) {
		sb_put_printable(&b, chain[i]->comm, strlen(chain[i]->comm));
		sb_printf(&b, "[%u]%s", chain[i]->pid, i ? " > " : "");
	}
	return trim_lineage(b.s);
}

/* p is going: its children that stay become roots that keep the names. */
static void orphan_kept_children(struct pt_proc *p)
{
	struct pt_proc *c = p->child, *next;

	for (; c; c = next) {
		next = c->sibling;
		if (c->doomed)
			continue;
		free(c->lineage);
		c->lineage = lineage_of(p);
		c->parent = NULL;
		c->sibling = NULL;
	}
}

/* The child list of a kept parent without its doomed children. */
static void relink_children(struct pt_proc *parent)
{
	struct pt_proc *c = parent->child, *prev = NULL, *next;

	parent->child = parent->last_child = NULL;
	for (; c; c = next) {
		next = c->sibling;
		c->sibling = NULL;
		if (c->doomed)
			continue;
		if (prev)
			prev->sibling = c;
		else
			parent->child = c;
		prev = c;
	}
	parent->last_child = prev;
}

static void unhash(struct ptree *pt, struct pt_proc *p)
{
	for (struct pt_proc **pp = &pt->hash[pid_slot(pt, p->pid)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	while (p->threads_l) {
		struct pt_tid *t = p->threads_l;

		p->threads_l = t->pnext;
		for (struct pt_tid **tp = &pt->tids[t->tid & 1023]; *tp; tp = &(*tp)->next) {
			if (*tp == t) {
				*tp = t->next;
				break;
			}
		}
		free(t);
	}
}

void ptree_forget(struct ptree *pt, struct pt_proc **v, size_t n,
		  void (*moved)(void *ctx, uint32_t from, uint32_t to), void *ctx)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++)
		v[i]->doomed = true;
	for (size_t i = 0; i < n; i++) {
		struct pt_proc *p = v[i];

		orphan_kept_children(p);
		if (p->parent && !p->parent->doomed)
			p->parent->relink = true;
	}
	/* each kept parent once */
	for (size_t i = 0; i < n; i++) {
		struct pt_proc *par = v[i]->parent;

		if (par && par->relink) {
			relink_children(par);
			par->relink = false;
		}
	}
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *q = pt->procs[i];

		if (q->doomed)
			continue;
		if (i != j) {
			pt->procs[j] = q;
			q->slot = j;
			if (moved)
				moved(ctx, i, j);
		}
		j++;
	}
	pt->nprocs = j;
	for (size_t i = 0; i < n; i++) {
		struct pt_proc *p = v[i];

		reaped_leave(pt, p);
		unhash(pt, p);
		drop_inwaits(pt, p);
		pt->nspans -= p->nspans;
		free_proc(p);
	}
	pt->nforgotten += n;
}

static void keep_lock(struct pt_lock *l)
{
	if (l)
		l->kept = true;
}

static void keep_stack(const struct pt_stack *st)
{
	if (st)
		((struct pt_stack *)st)->kept = true;
}

/* What points to a lock or a stack: waits in progress, the lock-wait log,
 * the longest waits, deadlocks; each is marked kept. */
static void mark_kept(struct ptree *pt, bool locks)
{
	for (const struct pt_proc *p = pt->waiting; p; p = p->wnext)
		for (struct pt_inwait *w = p->inwaits; w; w = w->next)
			locks ? keep_lock(w->lock) : keep_stack(w->stack);
	for (size_t i = 0; i < pt->nwaitlog; i++)
		locks ? keep_lock(pt->waitlog[i].lock) : keep_stack(pt->waitlog[i].stack);
	for (size_t i = 0; i < pt->ntop; i++)
		locks ? keep_lock(pt->top[i].lock) : keep_stack(pt->top[i].stack);
	for (size_t i = 0; i < pt->ndeadlocks; i++)
		for (int m = 0; m < pt->deadlocks[i].n; m++)
			locks ? keep_lock(pt->deadlocks[i].m[m].waits_on) :
				keep_stack(pt->deadlocks[i].m[m].stack);
}

size_t ptree_forget_stacks(struct ptree *pt)
{
	struct pt_stack **sp = &pt->stacks;
	size_t go = 0;

	if (!pt->forgets || pt->ended || pt->nstacks < PT_KEEP_STACKS || pt->nstacks < pt->stacks_limit)
		return 0;
	mark_kept(pt, false);
	for (unsigned i = 0; i < PT_STACK_PENDING; i++)
		keep_stack(pt->pending[i]);
	while (*sp) {
		struct pt_stack *st = *sp;

		if (st->kept) {
			st->kept = false;
			sp = &st->next;
			continue;
		}
		*sp = st->next;
		pt_stack_free(st);
		go++;
	}
	pt->nstacks -= go;
	pt->stacks_forgotten += go;
	/* the next pass after PT_KEEP_STACKS more: a pass walks the kept
	 * ones (at most the log's and the longest waits', ~2,100), so O(1) a
	 * stack, and at most that many stacks nothing points to */
	pt->stacks_limit = pt->nstacks + PT_KEEP_STACKS < PT_MAX_STACKS ?
		pt->nstacks + PT_KEEP_STACKS : PT_MAX_STACKS - 1;
	return go;
}

static int by_last_ts(const void *a, const void *b)
{
	const struct pt_lock *x = *(const struct pt_lock *const *)a;
	const struct pt_lock *y = *(const struct pt_lock *const *)b;

	return (x->last_ts > y->last_ts) - (x->last_ts < y->last_ts);
}

static void unhash_lock(struct ptree *pt, struct pt_lock *l)
{
	unsigned h = lock_hash(l->id) & (pt->lhsize - 1);

	for (struct pt_lock **lp = &pt->lhash[h]; *lp; lp = &(*lp)->hnext) {
		if (*lp == l) {
			*lp = l->hnext;
			return;
		}
	}
}

size_t ptree_forget_locks(struct ptree *pt, size_t keep)
{
	struct pt_lock **v;
	size_t n = 0, go, waited = 0, j = 0;

	/* after the end, the unwaited locks sit past nlocks (nlocks_all) */
	if (!pt->forgets || pt->ended || pt->nlocks <= keep || pt->nlocks < pt->locks_limit)
		return 0;
	mark_kept(pt, true);
	v = xcalloc(pt->nlocks, sizeof(*v));
	for (size_t i = 0; i < pt->nlocks; i++) {
		if (!pt->locks[i]->kept)
			v[n++] = pt->locks[i];
		pt->locks[i]->kept = false;
	}
	qsort(v, n, sizeof(*v), by_last_ts);
	go = pt->nlocks - keep / 2;
	if (go > n)
		go = n;
	for (size_t i = 0; i < go; i++) {
		unhash_lock(pt, v[i]);
		v[i]->kept = true;	/* here: doomed */
	}
	for (size_t i = 0; i < pt->nlocks; i++)
		if (!pt->locks[i]->kept)
			pt->locks[j++] = pt->locks[i];
	pt->nlocks = j;
	for (size_t i = 0; i < go; i++) {
		waited += v[i]->waits > 0;
		free_lock(v[i]);
	}
	free(v);
	pt->locks_forgotten += go;
	/* most may be kept (waits in progress): the next pass when they have
	 * doubled, so that the passes cost O(1) a lock */
	pt->locks_limit = 2 * pt->nlocks;
	return waited;
}
