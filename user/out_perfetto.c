// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Chrome trace-event JSON for ui.perfetto.dev and chrome://tracing.
 *
 * One Perfetto process per traced process, named comm[pid]. Its main track
 * holds the lifetime slice (fork to exit) followed by the zombie slice (exit
 * to reap), instants for its execs, the forks of its children and the signals
 * it received, and a flow arrow from each fork to the child's lifetime.
 * Lock and join waits go to tracks of their own under the process, as many
 * lanes as there are overlapping waits (threads wait concurrently; slices on
 * one track must nest).
 *
 * Perfetto keys processes by pid, so a reused pid gets a generation offset
 * (pid + n * 2^23, above any kernel pid_max); the name keeps the real pid.
 * Times are microseconds since the start of the trace.
 */
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "out_json.h"
#include "out_perfetto.h"
#include "out_text.h"
#include "timeline.h"

#define GEN_STEP (1u << 23)
#define LANE_TID_BASE 0x40000000u	/* synthetic thread ids of wait lanes */
#define MAX_LANES 8
/* flow ids: forks use the process id; these ranges sit far above it */
#define FLOW_DEADLOCK 1000000000ull
#define FLOW_HOLDER 2000000000ull

struct pf {
	struct sbuf *b;
	const struct ptree *pt;
	uint64_t end;
	uint32_t *key;		/* process slot -> Perfetto pid */
	uint32_t next_tid;
	bool first;
	struct tl_waits locks;
};

static void jstr(struct sbuf *b, const char *s)
{
	json_str(b, s, strlen(s));
}

static void us(struct pf *f, uint64_t ts)
{
	if (ts == PT_NONE || ts < f->pt->meta.t0)
		ts = f->pt->meta.t0;
	sb_printf(f->b, "%.3f", (ts - f->pt->meta.t0) / 1e3);
}

/* Starts an event object: {"ph":..,"pid":..,"tid":..[,"ts":..] */
static void ev(struct pf *f, const char *ph, uint32_t pid, uint32_t tid, uint64_t ts)
{
	sb_printf(f->b, "%s\n{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u", f->first ? "" : ",", ph, pid, tid);
	f->first = false;
	if (ts != PT_NONE) {
		sb_puts(f->b, ",\"ts\":");
		us(f, ts);
	}
}

static void meta(struct pf *f, const char *what, uint32_t pid, uint32_t tid, const char *name)
{
	ev(f, "M", pid, tid, PT_NONE);
	sb_printf(f->b, ",\"name\":\"%s\",\"args\":{\"name\":", what);
	jstr(f->b, name);
	sb_puts(f->b, "}}");
}

static void slice(struct pf *f, uint32_t pid, uint32_t tid, const char *name, const char *cat,
		  uint64_t a, uint64_t z)
{
	ev(f, "X", pid, tid, a);
	sb_puts(f->b, ",\"dur\":");
	sb_printf(f->b, "%.3f", (z > a ? z - a : 0) / 1e3);
	sb_puts(f->b, ",\"name\":");
	jstr(f->b, name);
	sb_printf(f->b, ",\"cat\":\"%s\"", cat);
}

static int by_pid(const void *a, const void *b, void *arg)
{
	const struct ptree *pt = arg;
	const struct pt_proc *p = pt->procs[*(const uint32_t *)a], *q = pt->procs[*(const uint32_t *)b];

	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	return p->id - q->id;
}

static void assign_keys(struct pf *f)
{
	const struct ptree *pt = f->pt;
	uint32_t *idx = xcalloc(pt->nprocs + 1, sizeof(*idx)), gen = 0;

	for (size_t i = 0; i < pt->nprocs; i++)
		idx[i] = i;
	qsort_r(idx, pt->nprocs, sizeof(*idx), by_pid, (void *)pt);
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[idx[i]];

		gen = i && pt->procs[idx[i - 1]]->pid == p->pid ? gen + 1 : 0;
		f->key[idx[i]] = p->pid + gen * GEN_STEP;
	}
	free(idx);
}

/* A wait on a lane: a lock wait or a join wait. */
struct wv {
	uint64_t a, z;
	const struct pt_lockwait *lw;	/* NULL: a join wait */
	const struct pt_span *sp;
};

static int by_start(const void *a, const void *b)
{
	const struct wv *x = a, *y = b;

	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->z < y->z ? -1 : x->z > y->z;
}

static void wait_args(struct pf *f, const struct wv *w)
{
	struct sbuf *b = f->b;

	if (w->lw) {
		sb_printf(b, ",\"args\":{\"tid\":%u,\"lock\":", w->lw->tid);
		jstr(b, w->lw->lock->id);
		if (w->lw->lock->name) {
			sb_puts(b, ",\"path\":");
			jstr(b, w->lw->lock->name);
		}
		if (w->lw->waker)
			sb_printf(b, ",\"waker\":%u", w->lw->waker);
		if (w->lw->holder)
			sb_printf(b, ",\"holder\":%u%s", w->lw->holder,
				  w->lw->holder_inferred ? ",\"holder_inferred\":true" : "");
		if (w->lw->unfinished)
			sb_puts(b, ",\"unfinished\":true");
		sb_puts(b, ",\"class\":");
		jstr(b, pt_wait_class_name(pt_wait_class_of(w->lw)));
		if (w->lw->stack) {
			/* the frames as one line: Perfetto shows args as text */
			struct sbuf st = { 0 };

			pt_stack_text(&st, w->lw->stack, PT_MAX_FRAMES, true);
			sb_puts(b, ",\"stack\":");
			json_str(b, st.s, st.len);
			sb_free(&st);
		}
	} else {
		sb_printf(b, ",\"args\":{\"tid\":%u", w->sp->tid);
		if (w->sp->other)
			sb_printf(b, ",\"reaped\":%u", w->sp->other);
	}
	sb_puts(b, "}}");
}

/* An arrow from a lock wait to the process that held the lock, when the
 * holder is known and is another traced process alive then. */
static void holder_flow(struct pf *f, uint32_t pid, uint32_t tid, const struct pt_lockwait *lw)
{
	const struct pt_proc *h = lw->holder ? ptree_find(f->pt, lw->holder) : NULL;
	unsigned long long id = FLOW_HOLDER + (unsigned long long)(lw - f->pt->waitlog);
	uint32_t hk;

	if (!h || h == lw->proc || h->start_ts > lw->start_ts ||
	    (h->exited && h->exit_ts < lw->start_ts))
		return;
	hk = f->key[h->slot];
	ev(f, "s", pid, tid, lw->start_ts);
	sb_printf(f->b, ",\"id\":%llu,\"name\":\"held by\",\"cat\":\"holder\"}", id);
	ev(f, "f", hk, hk, lw->start_ts);
	sb_printf(f->b, ",\"id\":%llu,\"name\":\"held by\",\"cat\":\"holder\",\"bp\":\"e\"}", id);
}

/* Waits of one kind on lanes: each goes to the first lane free at its
 * start, so the slices of one track never overlap. */
static void lanes(struct pf *f, const struct pt_proc *p, struct wv *v, size_t n, bool lock)
{
	uint64_t lane_end[MAX_LANES];
	uint32_t lane_tid[MAX_LANES];
	uint32_t pid = f->key[p->slot];
	size_t nlanes = 0;

	qsort(v, n, sizeof(*v), by_start);
	for (size_t i = 0; i < n; i++) {
		size_t l;

		for (l = 0; l < nlanes && lane_end[l] > v[i].a; l++)
			;
		if (l == MAX_LANES)
			l = MAX_LANES - 1;	/* overlaps; Perfetto still shows it */
		if (l == nlanes) {
			lane_tid[l] = f->next_tid++;
			nlanes++;
			meta(f, "thread_name", pid, lane_tid[l], lock ? "lock waits" : "join waits");
		}
		lane_end[l] = v[i].z;
		slice(f, pid, lane_tid[l], lock ? "lock wait" : "join wait", lock ? "lock" : "join",
		      v[i].a, v[i].z);
		wait_args(f, &v[i]);
		if (lock)
			holder_flow(f, pid, lane_tid[l], v[i].lw);
	}
}

static void waits(struct pf *f, const struct pt_proc *p)
{
	const struct pt_lockwait **lw;
	size_t n, k = 0;
	struct wv *v;

	lw = tl_waits_of(&f->locks, p, &n);
	v = xcalloc(n + p->nspans + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct wv){ .a = lw[i]->start_ts, .z = lw[i]->start_ts + lw[i]->dur_ns,
				    .lw = lw[i] };
	lanes(f, p, v, n, true);
	for (uint32_t i = 0; i < p->nspans; i++)
		if (p->spans[i].kind == PT_SPAN_JOIN)
			v[k++] = (struct wv){ .a = p->spans[i].start_ts, .z = p->spans[i].end_ts,
					      .sp = &p->spans[i] };
	lanes(f, p, v, k, false);
	free(v);
}

static void lifetime(struct pf *f, const struct pt_proc *p)
{
	struct sbuf *b = f->b, fate = { 0 };
	uint32_t pid = f->key[p->slot];
	uint64_t start = p->start_ts == PT_NONE ? f->pt->meta.t0 : p->start_ts;

	slice(f, pid, pid, p->comm, "process", start, p->exited ? p->exit_ts : f->end);
	sb_printf(b, ",\"args\":{\"pid\":%u,\"ppid\":%u,\"argv\":[", p->pid, p->ppid);
	for (int i = 0; p->argv && p->argv[i]; i++) {
		if (i)
			sb_putc(b, ',');
		jstr(b, p->argv[i]);
	}
	text_fate(&fate, p);
	text_killer(&fate, NULL, p);
	sb_puts(b, "],\"fate\":");
	jstr(b, fate.s);
	sb_printf(b, ",\"threads\":%u,\"seen_late\":%s}}", p->threads,
		  p->seen_late ? "true" : "false");
	sb_free(&fate);
	if (p->exited) {
		uint64_t z = p->state == PT_REAPED ? p->reaped_ts : f->end;

		slice(f, pid, pid, "zombie", "zombie", p->exit_ts, z);
		sb_printf(b, ",\"args\":{\"reaped\":%s,\"reaped_by\":%u,\"finding\":%s}}",
			  p->state == PT_REAPED ? "true" : "false",
			  p->state == PT_REAPED ? p->reaped_by : 0,
			  p->findings & AN_CHECK(AN_ZOMBIE) ? "true" : "false");
	}
}

static void instants(struct pf *f, const struct pt_proc *p)
{
	struct sbuf *b = f->b;
	uint32_t pid = f->key[p->slot];

	for (int i = 0; i < p->nexecs; i++) {
		ev(f, "i", pid, pid, p->execs[i].ts);
		sb_puts(b, ",\"s\":\"t\",\"name\":\"exec\",\"cat\":\"exec\",\"args\":{\"filename\":");
		jstr(b, p->execs[i].filename);
		sb_puts(b, "}}");
	}
	for (uint32_t i = 0; i < p->nspans; i++) {
		const struct pt_span *sp = &p->spans[i];

		if (sp->kind != PT_SPAN_SIGNAL)
			continue;
		ev(f, "i", pid, pid, sp->start_ts);
		sb_printf(b, ",\"s\":\"t\",\"name\":\"%s\",\"cat\":\"signal\",\"args\":{\"signal\":%u,"
			  "\"sender\":", signal_name(sp->sig), sp->sig);
		if (sp->cause == SIG_BY_PROCESS)
			sb_printf(b, "%u", sp->other);
		else
			sb_puts(b, "null");
		sb_printf(b, ",\"kind\":\"%s\",\"reason\":", sp->cause == SIG_BY_PROCESS ? "process" : "kernel");
		if (sp->cause == SIG_BY_PROCESS)
			sb_puts(b, "null}}");
		else
			sb_printf(b, "\"%s\"}}", sig_cause_name(sp->cause));
	}
	if (p->parent && p->start_ts != PT_NONE) {
		uint32_t ppid = f->key[p->parent->slot];

		ev(f, "i", ppid, ppid, p->start_ts);
		sb_printf(b, ",\"s\":\"t\",\"name\":\"fork\",\"cat\":\"fork\",\"args\":{\"child\":%u}}",
			  p->pid);
		/* the arrow: starts in the parent's lifetime, ends at the child's */
		ev(f, "s", ppid, ppid, p->start_ts);
		sb_printf(b, ",\"id\":%d,\"name\":\"fork\",\"cat\":\"fork\"}", p->id);
		ev(f, "f", pid, pid, p->start_ts);
		sb_printf(b, ",\"id\":%d,\"name\":\"fork\",\"cat\":\"fork\",\"bp\":\"e\"}", p->id);
	}
}

static void labels(struct pf *f, const struct pt_proc *p)
{
	struct sbuf *b = f->b;
	bool any = false;
	uint32_t pid = f->key[p->slot];

	for (int k = 0; k < AN_NKINDS; k++) {
		if (!(p->findings & AN_CHECK(k)))
			continue;
		if (!any) {
			ev(f, "M", pid, pid, PT_NONE);
			sb_puts(b, ",\"name\":\"process_labels\",\"args\":{\"labels\":\"");
		}
		sb_printf(b, "%s%s", any ? "," : "", an_kind_name(k));
		any = true;
	}
	if (any)
		sb_puts(b, "\"}}");
}

/* Deadlocks: each member's stuck wait as a DEADLOCK slice on its main
 * track (inside its lifetime), and the cycle as arrows from each member to
 * the one holding what it waits on, at the detection. */
static void deadlocks(struct pf *f)
{
	const struct ptree *pt = f->pt;

	for (size_t d = 0; d < pt->ndeadlocks; d++) {
		const struct pt_deadlock *dl = &pt->deadlocks[d];

		for (int k = 0; k < dl->n; k++) {
			const struct pt_proc *p = dl->m[k].proc, *q = dl->m[(k + 1) % dl->n].proc;
			uint32_t pk = f->key[p->slot], qk = f->key[q->slot];
			uint64_t end = p->exited ? p->exit_ts : f->end;
			unsigned long long id = FLOW_DEADLOCK + d * MPT_DL_MAX + k;

			slice(f, pk, pk, "DEADLOCK", "deadlock",
			      dl->m[k].since < end ? dl->m[k].since : end, end);
			sb_printf(f->b, ",\"args\":{\"waits_for\":%u,\"cycle\":%zu}}", q->pid, d + 1);
			if (p == q || dl->ts > end || (q->exited && dl->ts > q->exit_ts))
				continue;
			ev(f, "s", pk, pk, dl->ts);
			sb_printf(f->b, ",\"id\":%llu,\"name\":\"deadlock\",\"cat\":\"deadlock\"}", id);
			ev(f, "f", qk, qk, dl->ts);
			sb_printf(f->b, ",\"id\":%llu,\"name\":\"deadlock\",\"cat\":\"deadlock\","
				  "\"bp\":\"e\"}", id);
		}
	}
}

void perfetto_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r)
{
	perfetto_report_spill(b, pt, r, NULL);
}

void perfetto_report_spill(struct sbuf *b, const struct ptree *pt, const struct an_result *r,
			   const struct sb_spill *sp)
{
	struct pf f = { .b = b, .pt = pt, .next_tid = LANE_TID_BASE, .first = true };

	f.end = pt->ended ? pt->end_ts : pt->last_ts;
	f.key = xcalloc(pt->nprocs + 1, sizeof(*f.key));
	assign_keys(&f);
	tl_waits_build(&f.locks, pt);
	sb_puts(b, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"mptrace_version\":");
	jstr(b, MPTRACE_VERSION);
	sb_puts(b, ",\"command\":[");
	for (int i = 0; pt->meta.argv && pt->meta.argv[i]; i++) {
		if (i)
			sb_putc(b, ',');
		jstr(b, pt->meta.argv[i]);
	}
	sb_printf(b, "],\"wall_clock_start_ns\":%lld,\"complete\":%s},\n\"traceEvents\":[",
		  (long long)pt->meta.wall_t0_ns, r->incomplete ? "false" : "true");
	for (size_t i = 0; i < pt->nprocs; i++) {
		const struct pt_proc *p = pt->procs[i];
		uint32_t pid = f.key[i];
		struct sbuf name = { 0 };

		sb_printf(&name, "%s[%u]", p->comm, p->pid);
		meta(&f, "process_name", pid, pid, name.s);
		sb_free(&name);
		ev(&f, "M", pid, pid, PT_NONE);
		sb_printf(b, ",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":%d}}", p->id);
		meta(&f, "thread_name", pid, pid, "lifetime");
		labels(&f, p);
		lifetime(&f, p);
		instants(&f, p);
		waits(&f, p);
		sb_spill(b, sp);
	}
	deadlocks(&f);
	sb_puts(b, "\n]}\n");
	free(f.key);
	tl_waits_free(&f.locks);
}
