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
#include <stdlib.h>
#include <string.h>
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
	if (meta->argv)
		while (meta->argv[n])
			n++;
	pt->meta.argv = xcalloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		pt->meta.argv[i] = xstrdup(meta->argv[i]);
	pt->hsize = 4096;
	pt->hash = xcalloc(pt->hsize, sizeof(*pt->hash));
	pt->lhash = xcalloc(256, sizeof(*pt->lhash));
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

void ptree_free(struct ptree *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];

		for (int j = 0; j < p->nexecs; j++) {
			free(p->execs[j].filename);
			free_argv(p->execs[j].argv);
		}
		free(p->execs);
		free_argv(p->snap_argv);
		while (p->sigs) {
			struct pt_sig *s = p->sigs;

			p->sigs = s->next;
			free(s);
		}
		free(p->test);
		free(p);
	}
	for (size_t i = 0; i < pt->nlocks; i++) {
		struct pt_lock *l = pt->locks[i];

		free(l->name);
		idset_free(&l->waiters);
		idset_free(&l->wakers);
		idset_free(&l->holders);
		free(l->waiter_ns);
		free(l);
	}
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
	pt->procs[pt->nprocs++] = p;
	p->id = pt->nprocs;
	p->pid = pid;
	p->kstart = kstart;
	p->start_ts = ts;
	p->exit_ts = p->reaped_ts = p->orphaned_ts = PT_NONE;
	p->threads = 1;
	p->state = PT_RUNNING;
	strcpy(p->comm, "?");
	s = pid_slot(pt, pid);
	p->hnext = pt->hash[s];
	pt->hash[s] = p;
	pt->live++;
	return p;
}

static void inherit_argv(struct pt_proc *c, const struct pt_proc *parent)
{
	c->argv = parent->argv;
	c->argc = parent->argc;
	c->argv_owned = false;
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
		c = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
		c->threads++;
		chg->proc = c;
		return 0;
	}
	parent = get_proc(pt, e->ppid, e->pstart, e->h.ts);
	c = find_exact(pt, e->h.pid, e->h.start);
	if (c && c->parent == NULL && !c->is_root && c != parent) {
		/* An event of the child overtook its fork: adopt it now. */
		c->seen_late = false;
	} else {
		c = new_proc(pt, e->h.pid, e->h.start, e->h.ts);
		set_comm(c, e->comm);
		inherit_argv(c, parent);
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

/* A parent's group died: whatever it still had running is orphaned and
 * adopted by `reaper`; its unreaped zombies go to the reaper too. */
static bool reparent_children(struct ptree *pt, struct pt_proc *dead, uint32_t reaper, uint64_t ts)
{
	bool orphans = false;

	for (struct pt_proc *c = dead->child; c; c = c->sibling) {
		if (c->cur_ppid != dead->pid || c->state == PT_REAPED)
			continue;
		c->cur_ppid = reaper;
		c->adopted_by = reaper;
		if (!c->exited) {
			c->orphaned_ts = ts;
			orphans = true;
		}
	}
	(void)pt;
	return orphans;
}

static void mark_leak_candidates(struct ptree *pt)
{
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];

		if (!p->exited && p != pt->root)
			p->alive_at_root_exit = true;
	}
}

static int on_exit_ev(struct ptree *pt, const struct mpt_exit *e, struct pt_change *chg)
{
	struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);

	if (p->exited)
		return -EINVAL;
	set_comm(p, e->comm);
	p->exited = true;
	p->exit_ts = e->h.ts;
	p->status = e->status;
	p->state = PT_ZOMBIE;
	p->autoreap = e->flags & MPT_EXIT_AUTOREAP;
	if (e->ppid && e->ppid != p->cur_ppid && !p->adopted_by && p->cur_ppid) {
		/* Re-parented without us seeing its parent die (attach mode). */
		p->adopted_by = e->ppid;
	}
	if (e->ppid)
		p->cur_ppid = e->ppid;
	if (pt_signaled(p)) {
		for (struct pt_sig *s = p->sigs; s; s = s->next) {
			if (s->sig == (uint32_t)pt_term_sig(p)) {
				p->killer_pid = s->sender;
				memcpy(p->killer_comm, s->comm, sizeof(p->killer_comm));
				break;
			}
		}
	}
	if (pt->live)
		pt->live--;
	pt->zombies_now++;
	chg->proc = p;
	chg->orphaned_some = reparent_children(pt, p, e->reaper, e->h.ts);
	if (p == pt->root) {
		pt->root_exit_ts = e->h.ts;
		mark_leak_candidates(pt);
	}
	return 0;
}

static void reap(struct ptree *pt, struct pt_proc *c, uint64_t ts, uint32_t by)
{
	c->state = PT_REAPED;
	c->reaped_ts = ts;
	if (pt->zombies_now)
		pt->zombies_now--;
	if (c->autoreap && !by) {
		c->reap = PT_REAP_AUTO;
		c->reaped_by = 0;
	} else if (c->adopted_by && (!by || by == c->adopted_by)) {
		c->reap = PT_REAP_ADOPTER;
		c->reaped_by = c->adopted_by;
	} else {
		c->reap = PT_REAP_PARENT;
		c->reaped_by = by ? by : c->cur_ppid;
	}
}

static void waitstat_add(struct pt_waitstat *w, uint64_t ns)
{
	w->count++;
	w->total_ns += ns;
	if (ns > w->max_ns)
		w->max_ns = ns;
}

static int on_wait(struct ptree *pt, const struct mpt_wait *e, struct pt_change *chg)
{
	struct pt_proc *w = NULL, *c;
	bool self = e->h.pid == pt->meta.self_pid && pt->meta.self_pid;

	if (!self) {
		w = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
		if (!(e->flags & MPT_WAIT_NOHANG) && e->h.ts >= e->start_ts)
			waitstat_add(&w->join_wait, e->h.ts - e->start_ts);
	}
	chg->proc = w;
	if (!e->reaped)
		return 0;
	c = ptree_find(pt, e->reaped);
	/* wait4 also reports stopped/continued children: only an exited
	 * one is reaped by the call. */
	if (!c || !c->exited || c->state != PT_ZOMBIE)
		return 0;
	reap(pt, c, e->h.ts, e->h.pid);
	chg->other = c;
	return 0;
}

static int on_free(struct ptree *pt, const struct mpt_hdr *e, struct pt_change *chg)
{
	struct pt_proc *p = find_exact(pt, e->pid, e->start);

	if (!p)
		return 0;	/* released before we ever saw it: nothing to say */
	chg->proc = p;
	if (!p->exited) {
		/* its exit record was lost: it is gone all the same */
		p->exited = true;
		p->exit_ts = e->ts;
		p->state = PT_ZOMBIE;
		if (pt->live)
			pt->live--;
		pt->zombies_now++;
	}
	if (p->state == PT_ZOMBIE)
		reap(pt, p, e->ts, 0);
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

static char *lock_path(const struct mpt_lock *e)
{
	char buf[MPT_PATH_COMPS * (MPT_COMP_LEN + 1) + 1];
	size_t n = 0;
	int k;

	for (k = 0; k < MPT_PATH_COMPS && e->comps[k][0]; k++)
		;
	if (!k)
		return NULL;
	buf[0] = '\0';
	for (int i = k - 1; i >= 0; i--)
		n += snprintf(buf + n, sizeof(buf) - n, "/%.*s", MPT_COMP_LEN, e->comps[i]);
	return xstrdup(buf);
}

static struct pt_lock *get_lock(struct ptree *pt, const struct mpt_lock *e)
{
	static const char *const kinds[] = {
		[MPT_LOCK_FUTEX] = "futex", [MPT_LOCK_FLOCK] = "flock",
		[MPT_LOCK_POSIX] = "posix", [MPT_LOCK_OFD] = "ofd",
		[MPT_LOCK_SYSV] = "sysv_sem",
	};
	char id[96];
	unsigned h = 0;
	struct pt_lock *l;

	if (e->kind == MPT_LOCK_SYSV)
		snprintf(id, sizeof(id), "sysv_sem:%llu", (unsigned long long)e->ino);
	else if (e->kind == MPT_LOCK_FUTEX && (e->flags & MPT_LOCK_PRIVATE))
		snprintf(id, sizeof(id), "futex:pid%llu:0x%llx", (unsigned long long)e->dev,
			 (unsigned long long)e->ino);
	else if (e->kind == MPT_LOCK_FUTEX)
		snprintf(id, sizeof(id), "futex:%llu:%llu+%llu", (unsigned long long)e->dev,
			 (unsigned long long)e->ino, (unsigned long long)e->off);
	else
		snprintf(id, sizeof(id), "%s:%llu:%llu", kinds[e->kind], (unsigned long long)e->dev,
			 (unsigned long long)e->ino);
	for (const char *s = id; *s; s++)
		h = h * 31 + (unsigned char)*s;
	h &= 255;
	for (l = pt->lhash[h]; l; l = l->hnext)
		if (!strcmp(l->id, id))
			return l;
	l = xcalloc(1, sizeof(*l));
	memcpy(l->id, id, sizeof(id));
	l->type = e->kind - 1;
	l->name = lock_path(e);
	l->hnext = pt->lhash[h];
	pt->lhash[h] = l;
	if (pt->nlocks == pt->lcap) {
		pt->lcap = pt->lcap ? pt->lcap * 2 : 16;
		pt->locks = xrealloc(pt->locks, pt->lcap * sizeof(*pt->locks));
	}
	pt->locks[pt->nlocks++] = l;
	return l;
}

static void note_top_wait(struct ptree *pt, const struct pt_lockwait *w)
{
	size_t i = pt->ntop;

	if (i == PT_TOP_WAITS) {
		if (w->dur_ns <= pt->top[PT_TOP_WAITS - 1].dur_ns)
			return;
		i--;
	} else {
		pt->ntop++;
	}
	/* keep sorted, longest first; ties keep arrival order */
	while (i > 0 && pt->top[i - 1].dur_ns < w->dur_ns) {
		pt->top[i] = pt->top[i - 1];
		i--;
	}
	pt->top[i] = *w;
}

static int on_lock(struct ptree *pt, const struct mpt_lock *e, struct pt_change *chg)
{
	struct pt_proc *p = get_proc(pt, e->h.pid, e->h.start, e->h.ts);
	uint64_t ns = e->h.ts >= e->start_ts ? e->h.ts - e->start_ts : 0;
	struct pt_lock *l;
	struct pt_lockwait w;
	size_t i;

	if (e->kind < MPT_LOCK_FUTEX || e->kind > MPT_LOCK_SYSV)
		return -EINVAL;
	l = get_lock(pt, e);
	l->waits++;
	l->total_ns += ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
	i = idset_index(&l->waiters, p->pid);
	if (i == l->waiters.n) {
		idset_add(&l->waiters, p->pid);
		l->waiter_ns = xrealloc(l->waiter_ns, l->waiters.cap * sizeof(*l->waiter_ns));
		l->waiter_ns[i] = 0;
	}
	l->waiter_ns[i] += ns;
	if (e->waker && e->waker != p->pid)
		idset_add(&l->wakers, e->waker);
	waitstat_add(&p->lock_wait, ns);
	pt->lock_waits++;
	pt->lock_wait_ns += ns;
	w = (struct pt_lockwait){ .start_ts = e->start_ts, .dur_ns = ns, .proc = p,
				  .tid = e->h.tid, .lock = l, .waker = e->waker };
	note_top_wait(pt, &w);
	chg->proc = p;
	chg->lock = l;
	return 0;
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
	s->sender = e->sender_pid;
	memcpy(s->comm, e->sender_comm, MPT_COMM_LEN);
	s->comm[MPT_COMM_LEN] = '\0';
	chg->proc = p;
	return 0;
}

static int on_proc(struct ptree *pt, const struct mpt_proc *e, struct pt_change *chg)
{
	struct pt_proc *p = ptree_find(pt, e->h.pid), *parent;

	if (p && p->state != PT_REAPED)
		return 0;	/* already known from a kernel event */
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
	chg->proc = p;
	return 0;
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
	/* An auto-reaped zombie is released by the exiting task itself; its
	 * RCU-delayed free record may come after we stopped listening. */
	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];

		if (p->state == PT_ZOMBIE && p->autoreap)
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
	if (ev->type < MPT_EV_MAX)
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
		err = on_free(pt, ev, chg);
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
	case MPT_EV_KILL: {
		struct pt_proc *p = find_exact(pt, ev->pid, ev->start);

		if (p)
			p->killed_by_us = true;
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

const char *pt_reap_name(enum pt_reap r)
{
	static const char *const n[] = { NULL, "parent", "adopter", "auto" };

	return n[r];
}

uint64_t pt_zombie_ns(const struct pt_proc *p, uint64_t now)
{
	if (!p->exited || p->exit_ts == PT_NONE)
		return 0;
	if (p->state == PT_REAPED)
		return p->reaped_ts >= p->exit_ts ? p->reaped_ts - p->exit_ts : 0;
	return now >= p->exit_ts ? now - p->exit_ts : 0;
}
