// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Findings (zombies, orphans, leaks, locks) with the rules of
 * docs/cli.md "Terms". PURE: reads the tree, writes findings.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyze.h"
#include "forget.h"
#include "util.h"

static const char *const kind_names[AN_NKINDS] = { "zombie", "orphan", "leak", "lock", "deadlock" };
static const char *const check_names[AN_NKINDS] = { "zombies", "orphans", "leaks", "locks", "deadlocks" };

const char *an_kind_name(enum an_kind k)
{
	return k < AN_NKINDS ? kind_names[k] : "?";
}

const char *an_check_name(enum an_kind k)
{
	return k < AN_NKINDS ? check_names[k] : "?";
}

const char *an_reason_name(enum an_reason r)
{
	static const char *const n[] = { NULL, "slow", "never_reaped_by_parent", "unreaped_at_end" };

	return n[r];
}

int an_parse_check(const char *list, const char **bad)
{
	static char word[64];
	unsigned bits = 0;
	const char *s = list;

	while (*s) {
		size_t n = strcspn(s, ","), k;

		snprintf(word, sizeof(word), "%.*s", (int)n, s);
		for (k = 0; k < AN_NKINDS; k++)
			if (!strcmp(word, check_names[k]))
				break;
		if (k == AN_NKINDS) {
			*bad = word;
			return -1;
		}
		bits |= AN_CHECK(k);
		s += n;
		if (*s == ',')
			s++;
	}
	if (!bits) {
		*bad = list;
		return -1;
	}
	return bits;
}

const char *an_proc_name(const struct pt_proc *p, char *buf, size_t n)
{
	struct sbuf b = { 0 };

	sb_put_printable(&b, p->comm, strlen(p->comm));
	snprintf(buf, n, "%s[%u]", b.s ? b.s : "", p->pid);
	sb_free(&b);
	return buf;
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static struct an_finding *add(struct an_result *r, enum an_kind k, struct pt_proc *p)
{
	struct an_finding *f;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	f = &r->v[r->n++];
	memset(f, 0, sizeof(*f));
	f->kind = k;
	f->proc = p;
	r->count[k]++;
	if (p)
		p->findings |= AN_CHECK(k);
	return f;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	struct sbuf b = { 0 };
	va_list ap;
	char tmp[1024];

	va_start(ap, f);
	vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	sb_puts(&b, tmp);
	return b.s;
}

bool an_leak_allowed(const struct pt_proc *p, const struct an_opts *o)
{
	for (int i = 0; i < o->nallow; i++) {
		if (!fnmatch(o->allow_leak[i], p->comm, 0))
			return true;
		for (int a = 0; p->argv && p->argv[a]; a++)
			if (!fnmatch(o->allow_leak[i], p->argv[a], 0))
				return true;
	}
	return false;
}

bool an_zombie_over(const struct ptree *pt, const struct pt_proc *p, const struct an_opts *o,
		    uint64_t now)
{
	struct pt_zsplit z;

	if (!p->exited || p->is_root || p->autoreap)
		return false;
	pt_zombie_split(pt, p, now, &z);
	return z.counted_ns > o->zombie_threshold_ns;
}

bool an_is_leak(const struct ptree *pt, const struct pt_proc *p, const struct an_opts *o,
		uint64_t now)
{
	uint64_t until;

	if (!p->alive_at_root_exit || pt->meta.mode != PT_MODE_COMMAND || an_leak_allowed(p, o))
		return false;
	until = p->exited ? p->exit_ts : now;
	/* still running when tracing ended, or killed by --kill-leaks (after
	 * the grace of the run that recorded it), is a leak whatever the grace;
	 * one killed with a deadlock's cycle is judged by when it exited */
	if ((!p->exited && pt->ended) || p->killed_as_leak)
		return true;
	return until > pt->root_exit_ts && until - pt->root_exit_ts > o->leak_grace_ns;
}

static void reaper_text(const struct ptree *pt, const struct pt_proc *p, char *buf, size_t n)
{
	const struct pt_proc *r;
	char name[64];

	switch (p->reap) {
	case PT_REAP_AUTO:
		snprintf(buf, n, "the kernel (auto-reap: SIGCHLD ignored)");
		return;
	case PT_REAP_NONE:
		snprintf(buf, n, "nobody");
		return;
	default:
		break;
	}
	r = ptree_find(pt, p->reaped_by);
	if (r && r->pid != pt->meta.self_pid)
		an_proc_name(r, name, sizeof(name));
	else if (p->reaped_by == pt->meta.self_pid && pt->meta.self_pid)
		snprintf(name, sizeof(name), "mptrace[%u]", p->reaped_by);
	else
		snprintf(name, sizeof(name), "[%u]", p->reaped_by);
	snprintf(buf, n, "%s%s", p->reap == PT_REAP_ADOPTER ? "its adopter " : "its parent ", name);
}

/* mptrace itself killed it or its parent (--kill-leaks, --on-deadlock):
 * the zombies and orphans that follow are of its own making. */
static bool by_mptrace(const struct pt_proc *p)
{
	return p->killed_by_us || (p->parent && p->parent->killed_by_us);
}

/* An orphan is of mptrace's making only if mptrace killed its parent: one
 * it killed itself (a leak) had been orphaned before and without it. */
static bool orphaned_by_mptrace(const struct pt_proc *p)
{
	return p->parent && p->parent->killed_by_us;
}

/* Why a zombie is a finding, or AN_R_NONE. Only the traced tree's part of
 * its zombie time is judged: an untraced adopter's delay is reported, not
 * charged (docs/findings.md). */
static enum an_reason zombie_reason(const struct ptree *pt, const struct pt_proc *p,
				    const struct an_opts *o, const struct pt_zsplit *z)
{
	/* Exited while its parent lived, then the parent died without
	 * reaping it: the zombie was handed to the adopter. */
	if (p->orphaned_ts == PT_NONE && p->adopted_by && !p->seen_late)
		return AN_R_NEVER_REAPED;
	if (p->state == PT_ZOMBIE && (!p->adopted_by || z->adopter_traced))
		return AN_R_UNREAPED_AT_END;
	if (z->counted_ns > o->zombie_threshold_ns)
		return AN_R_SLOW;
	(void)pt;
	return AN_R_NONE;
}

static void zombie_message(struct ptree *pt, struct an_finding *f, const struct pt_zsplit *z,
			   const struct an_opts *o)
{
	const struct pt_proc *p = f->proc;
	char name[64], par[64], by[128];
	uint64_t zn = f->zombie_ns;

	an_proc_name(p, name, sizeof(name));
	if (p->parent)
		an_proc_name(p->parent, par, sizeof(par));
	else
		snprintf(par, sizeof(par), "[%u]", p->ppid);
	reaper_text(pt, p, by, sizeof(by));
	switch (f->reason) {
	case AN_R_NEVER_REAPED:
		if (p->state == PT_REAPED)
			f->message = fmt("%s was never reaped by its parent %s, which exited first; "
					 "reaped by %s after %.1f ms as a zombie", name, par, by, ms(zn));
		else
			f->message = fmt("%s was never reaped by its parent %s, which exited first; "
					 "still a zombie after %.1f ms (adopted by [%u])", name, par,
					 ms(zn), p->adopted_by);
		break;
	case AN_R_UNREAPED_AT_END:
		if (p->adopted_by)
			f->message = fmt("%s is still a zombie at the end of the trace: unreaped for %.1f ms "
					 "by its adopter [%u]", name, ms(zn), p->adopted_by);
		else
			f->message = fmt("%s is still a zombie at the end of the trace: unreaped for %.1f ms "
					 "by %s", name, ms(zn), par);
		break;
	default:
		if (z->adopter_ns && z->adopter_traced)
			f->message = fmt("%s was a zombie for %.1f ms (threshold %.1f ms; %.1f ms waiting "
					 "for its parent, %.1f ms for its traced adopter) before %s "
					 "reaped it", name, ms(zn), ms(o->zombie_threshold_ns),
					 ms(z->parent_ns), ms(z->adopter_ns), by);
		else if (z->adopter_ns)
			f->message = fmt("%s was a zombie for %.1f ms (threshold %.1f ms) waiting for its "
					 "parent %s, then %.1f ms for its adopter (not counted) before "
					 "%s reaped it", name, ms(z->parent_ns), ms(o->zombie_threshold_ns),
					 par, ms(z->adopter_ns), by);
		else
			f->message = fmt("%s was a zombie for %.1f ms (threshold %.1f ms) before %s reaped it",
					 name, ms(zn), ms(o->zombie_threshold_ns), by);
		break;
	}
}

static void zombie(struct ptree *pt, struct pt_proc *p, const struct an_opts *o,
		   uint64_t now, struct an_result *r)
{
	uint64_t zn = pt_zombie_ns(p, now);
	enum an_reason why;
	struct an_finding *f;
	struct pt_zsplit z;

	/* gone: its release was lost, how long it was a zombie is unknown */
	if (!p->exited || p->is_root || p->gone)
		return;
	if (zn > r->max_zombie_ns)
		r->max_zombie_ns = zn;
	if (by_mptrace(p))
		return;
	if (p->autoreap && p->state == PT_REAPED)
		return;
	pt_zombie_split(pt, p, now, &z);
	why = zombie_reason(pt, p, o, &z);
	if (why == AN_R_NONE)
		return;
	f = add(r, AN_ZOMBIE, p);
	f->reason = why;
	f->zombie_ns = zn;
	zombie_message(pt, f, &z, o);
}

static void lock_name(struct sbuf *b, const struct pt_lock *l)
{
	if (!l) {
		sb_puts(b, "its children");
		return;
	}
	pt_lock_label(b, l);
}

static char *lock_text(const struct pt_lock *l)
{
	struct sbuf b = { 0 };

	pt_lock_label(&b, l);
	sb_printf(&b, ": %u wait%s by %zu process%s, total %.1f ms, max %.1f ms", l->waits,
		  l->waits == 1 ? "" : "s", l->waiters.n, l->waiters.n == 1 ? "" : "es",
		  ms(l->total_ns), ms(l->max_ns));
	return b.s;
}

char *an_deadlock_text(const struct ptree *pt, const struct pt_deadlock *d, uint64_t now)
{
	struct sbuf b = { 0 };
	uint64_t since = 0;
	char name[64];

	(void)pt;
	for (int i = 0; i < d->n; i++) {
		const struct pt_dl_member *m = &d->m[i], *next = &d->m[(i + 1) % d->n];

		if (m->since > since)
			since = m->since;
		sb_puts(&b, i ? "; " : "");
		sb_puts(&b, an_proc_name(m->proc, name, sizeof(name)));
		sb_puts(&b, " waits on ");
		lock_name(&b, m->waits_on);
		if (m->waits_on) {
			sb_puts(&b, " held by ");
			sb_puts(&b, an_proc_name(next->proc, name, sizeof(name)));
			if (m->inferred)
				sb_puts(&b, " (inferred)");
		}
	}
	sb_printf(&b, " (stuck for %.1f ms)", now > since ? (now - since) / 1e6 : 0.0);
	return b.s;
}

/* Every reason the trace may miss something, in one line, and one lost
 * figure: events the kernel dropped, malformed records, records of a cut
 * recording. */
static void incompleteness(const struct ptree *pt, struct an_result *r)
{
	const struct pt_damage *d = &pt->damage;
	struct sbuf b = { 0 };

	r->lost = pt->lost + d->records;
	r->incomplete = pt->lost || pt->lost_track || pt->ngone || d->cut || d->unended;
	if (!r->incomplete)
		return;
	if (pt->lost)
		sb_printf(&b, "%llu events lost while tracing (ring buffer full or malformed)",
			  (unsigned long long)pt->lost);
	if (pt->ngone)
		sb_printf(&b, "%s%llu processes found gone whose exit or release was among them",
			  b.len ? "; " : "", (unsigned long long)pt->ngone);
	if (pt->lost_track)
		sb_printf(&b, "%s%llu processes not tracked (pid map full)", b.len ? "; " : "",
			  (unsigned long long)pt->lost_track);
	if (d->cut && d->records)
		sb_printf(&b, "%srecording cut at byte %llu: %llu records (%llu bytes) lost",
			  b.len ? "; " : "", (unsigned long long)d->offset,
			  (unsigned long long)d->records, (unsigned long long)d->bytes);
	else if (d->cut)
		sb_printf(&b, "%srecording cut at byte %llu: %llu bytes lost", b.len ? "; " : "",
			  (unsigned long long)d->offset, (unsigned long long)d->bytes);
	if (d->unended)
		sb_printf(&b, "%srecording has no end record (the recording run was killed or the "
			  "file cut): what followed its last block is missing", b.len ? "; " : "");
	r->incomplete_why = b.s;
}

void an_process(struct ptree *pt, struct pt_proc *p, const struct an_opts *o, uint64_t now,
		struct an_result *r)
{
	char name[64], par[64];

	p->findings = 0;
	r->threads += p->threads;
	zombie(pt, p, o, now, r);
	if (p->orphaned_ts != PT_NONE && !orphaned_by_mptrace(p)) {
		struct an_finding *f = add(r, AN_ORPHAN, p);

		an_proc_name(p, name, sizeof(name));
		if (p->parent)
			an_proc_name(p->parent, par, sizeof(par));
		else
			snprintf(par, sizeof(par), "[%u]", p->ppid);
		f->message = fmt("%s was orphaned at %.1f ms when its parent %s exited; adopted by [%u]",
				 name, pt_ms(pt, p->orphaned_ts), par, p->adopted_by);
	}
	if (an_is_leak(pt, p, o, now)) {
		struct an_finding *f = add(r, AN_LEAK, p);

		an_proc_name(p, name, sizeof(name));
		if (p->killed_by_us && p->exited)
			f->message = fmt("%s was still running when the command exited; killed by "
					 "mptrace (%s)", name,
					 pt_signaled(p) ? (pt_term_sig(p) == 9 ? "SIGKILL" : "SIGTERM") : "exited");
		else if (p->exited)
			f->message = fmt("%s was still running when the command exited (it exited "
					 "%.1f ms later)", name, ms(p->exit_ts - pt->root_exit_ts));
		else
			f->message = fmt("%s was still running when the command exited", name);
	}
}

void analyze(struct ptree *pt, const struct an_opts *o, uint64_t now, struct an_result *r)
{
	memset(r, 0, sizeof(*r));
	/* what forgotten processes left: their findings first, as older */
	if (pt->fg)
		fg_results(pt->fg, r);
	for (size_t i = 0; i < pt->nprocs; i++)
		an_process(pt, pt->procs[i], o, now, r);
	for (size_t i = 0; i < pt->nlocks; i++) {
		struct pt_lock *l = pt->locks[i];
		struct an_finding *f;

		/* contention only: a condition or join wait is a wait, not a finding */
		if (!l->waits || !pt_lock_contended(l))
			continue;
		f = add(r, AN_LOCK, NULL);
		f->lock = l;
		f->message = lock_text(l);
	}
	for (size_t i = 0; i < pt->ndeadlocks; i++) {
		const struct pt_deadlock *d = &pt->deadlocks[i];
		struct an_finding *f = add(r, AN_DEADLOCK, d->m[0].proc);

		for (int k = 1; k < d->n; k++)
			d->m[k].proc->findings |= AN_CHECK(AN_DEADLOCK);
		f->dl = d;
		f->message = an_deadlock_text(pt, d, d->ts);
	}
	incompleteness(pt, r);
	r->passed = !r->incomplete;
	for (int k = 0; k < AN_NKINDS; k++)
		if ((o->check & AN_CHECK(k)) && r->count[k])
			r->passed = false;
}

void an_result_free(struct an_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].message);
	free(r->v);
	free(r->incomplete_why);
	memset(r, 0, sizeof(*r));
}
