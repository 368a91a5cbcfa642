// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * JSON renderers. Everything printed comes from the model, the analysis and
 * the trace's meta data, so a replayed recording prints the same bytes.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "event.h"
#include "forget.h"
#include "out_json.h"

void json_str(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	sb_putc(b, '"');
	for (size_t i = 0; i < n && u[i];) {
		uint32_t cp;
		size_t l = utf8_next(u + i, n - i, &cp);

		if (l == 0) {
			sb_puts(b, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
			continue;
		}
		if (l == 1) {
			switch (u[i]) {
			case '"': sb_puts(b, "\\\""); break;
			case '\\': sb_puts(b, "\\\\"); break;
			case '\n': sb_puts(b, "\\n"); break;
			case '\t': sb_puts(b, "\\t"); break;
			case '\r': sb_puts(b, "\\r"); break;
			default:
				if (u[i] < 0x20 || u[i] == 0x7f)
					sb_printf(b, "\\u%04x", u[i]);
				else
					sb_putc(b, u[i]);
			}
			i++;
			continue;
		}
		if (utf8_unsafe(cp))
			sb_printf(b, "\\u%04x", cp);	/* the same string, safe to cat */
		else
			for (size_t k = 0; k < l; k++)
				sb_putc(b, u[i + k]);
		i += l;
	}
	sb_putc(b, '"');
}

static void jstr(struct sbuf *b, const char *s)
{
	json_str(b, s, strlen(s));
}

static void jms(struct sbuf *b, const struct ptree *pt, uint64_t ts)
{
	if (ts == PT_NONE)
		sb_puts(b, "null");
	else
		sb_printf(b, "%.3f", pt_ms(pt, ts));
}

static void jdur(struct sbuf *b, uint64_t ns)
{
	sb_printf(b, "%.3f", ns / 1e6);
}

static void jpid(struct sbuf *b, uint32_t pid)
{
	if (pid)
		sb_printf(b, "%u", pid);
	else
		sb_puts(b, "null");
}

static void jargv(struct sbuf *b, char **argv)
{
	sb_putc(b, '[');
	for (int i = 0; argv && argv[i]; i++) {
		if (i)
			sb_putc(b, ',');
		jstr(b, argv[i]);
	}
	sb_putc(b, ']');
}

static void jwait(struct sbuf *b, const struct pt_waitstat *w)
{
	sb_printf(b, "{\"count\":%u,\"total_ms\":", w->count);
	jdur(b, w->total_ns);
	sb_puts(b, ",\"max_ms\":");
	jdur(b, w->max_ns);
	sb_putc(b, '}');
}

/* Who the zombie waited for: its parent, then its adopter; the part the
 * traced tree answers for is what --zombie-threshold judges. */
static void jzombie_split(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p,
			  uint64_t end)
{
	struct pt_zsplit z;

	if (!p->exited) {
		sb_puts(b, ",\"zombie_parent_ms\":null,\"zombie_adopter_ms\":null,"
			   "\"zombie_counted_ms\":null,\"adopter_traced\":null");
		return;
	}
	pt_zombie_split(pt, p, end, &z);
	sb_puts(b, ",\"zombie_parent_ms\":");
	jdur(b, z.parent_ns);
	sb_puts(b, ",\"zombie_adopter_ms\":");
	jdur(b, z.adopter_ns);
	sb_puts(b, ",\"zombie_counted_ms\":");
	jdur(b, z.counted_ns);
	sb_puts(b, ",\"adopter_traced\":");
	if (p->adopted_by && p->adopted_ts != PT_NONE)
		sb_puts(b, z.adopter_traced ? "true" : "false");
	else
		sb_puts(b, "null");
}

static void jprocess(struct sbuf *b, const struct ptree *pt, const struct pt_proc *p, uint64_t end)
{
	sb_printf(b, "{\"id\":%d,\"pid\":%u,\"parent\":", p->id, p->pid);
	if (p->parent)
		sb_printf(b, "%d", p->parent->id);
	else
		sb_puts(b, "null");
	sb_puts(b, ",\"ppid\":");
	jpid(b, p->ppid);
	sb_puts(b, ",\"comm\":");
	jstr(b, p->comm);
	sb_puts(b, ",\"argv\":");
	jargv(b, p->argv);
	sb_puts(b, ",\"exe\":");
	if (p->nexecs)
		jstr(b, p->execs[p->nexecs - 1].filename);
	else
		sb_puts(b, "null");
	sb_puts(b, ",\"execs\":[");
	for (int i = 0; i < p->nexecs; i++) {
		const struct pt_exec *x = &p->execs[i];

		sb_puts(b, i ? ",{\"t_ms\":" : "{\"t_ms\":");
		jms(b, pt, x->ts);
		sb_puts(b, ",\"filename\":");
		jstr(b, x->filename);
		sb_puts(b, ",\"argv\":");
		jargv(b, x->argv);
		sb_printf(b, ",\"truncated\":%s}", x->truncated ? "true" : "false");
	}
	sb_printf(b, "],\"seen_late\":%s,\"start_ms\":", p->seen_late ? "true" : "false");
	jms(b, pt, p->start_ts);
	sb_puts(b, ",\"exit_ms\":");
	jms(b, pt, p->exited ? p->exit_ts : PT_NONE);
	sb_puts(b, ",\"exit_code\":");
	if (p->exited && !pt_signaled(p))
		sb_printf(b, "%d", pt_exit_code(p));
	else
		sb_puts(b, "null");
	sb_puts(b, ",\"signal\":");
	if (pt_signaled(p))
		sb_printf(b, "%d", pt_term_sig(p));
	else
		sb_puts(b, "null");
	sb_printf(b, ",\"core_dumped\":%s,\"killed_by\":", pt_core(p) ? "true" : "false");
	if (pt_signaled(p) && p->killer_known && p->killer_cause == SIG_BY_PROCESS) {
		sb_printf(b, "{\"kind\":\"process\",\"pid\":%u,\"comm\":", p->killer_pid);
		jstr(b, p->killer_comm);
		sb_printf(b, ",\"reason\":null,\"signal\":%d}", pt_term_sig(p));
	} else if (pt_signaled(p) && p->killer_known) {
		/* the task that ran when the kernel sent it is no sender */
		sb_printf(b, "{\"kind\":\"kernel\",\"pid\":null,\"comm\":null,\"reason\":\"%s\","
			  "\"signal\":%d}", sig_cause_name(p->killer_cause), pt_term_sig(p));
	} else {
		sb_puts(b, "null");
	}
	sb_puts(b, ",\"reaped_ms\":");
	jms(b, pt, p->state == PT_REAPED ? p->reaped_ts : PT_NONE);
	sb_puts(b, ",\"reaped_by\":");
	jpid(b, p->state == PT_REAPED ? p->reaped_by : 0);
	sb_puts(b, ",\"reap\":");
	if (p->state == PT_REAPED && p->reap != PT_REAP_NONE)	/* not when gone */
		jstr(b, pt_reap_name(p->reap));
	else
		sb_puts(b, "null");
	sb_puts(b, ",\"zombie_ms\":");
	if (p->exited)
		jdur(b, pt_zombie_ns(p, end));
	else
		sb_puts(b, "null");
	jzombie_split(b, pt, p, end);
	sb_puts(b, ",\"orphaned_ms\":");
	jms(b, pt, p->orphaned_ts);
	sb_puts(b, ",\"adopted_by\":");
	jpid(b, p->adopted_by);
	sb_printf(b, ",\"threads\":%u,\"lock_wait\":", p->threads);
	jwait(b, &p->lock_wait);
	sb_puts(b, ",\"join_wait\":");
	jwait(b, &p->join_wait);
	if (pt_test_of(pt, p)) {
		sb_puts(b, ",\"test\":");
		jstr(b, pt_test_of(pt, p));
	}
	if (p->gone)
		sb_puts(b, ",\"gone\":true");
	if (p->lineage) {
		sb_puts(b, ",\"lineage\":");
		jstr(b, p->lineage);
	}
	sb_putc(b, '}');
}

/* -a, top, -p: what the processes folded away left (forget.h). */
static void jforgotten(struct sbuf *b, const struct ptree *pt, const struct an_result *r)
{
	size_t n;
	struct fg_comm *c = fg_comms(pt->fg, &n);
	uint64_t older = 0;

	for (int k = 0; k < AN_NKINDS; k++)
		older += r->older[k];
	sb_printf(b, ",\n\"forgotten\":{\"processes\":%" PRIu64 ",\"locks\":%" PRIu64
		  ",\"findings_kept\":%zu,\"findings_not_kept\":%" PRIu64 ",\"by_comm\":[",
		  pt->nforgotten, pt->locks_forgotten, r->forgotten, older);
	for (size_t i = 0; i < n; i++) {
		sb_puts(b, i ? ",{\"comm\":" : "{\"comm\":");
		jstr(b, c[i].comm);
		sb_printf(b, ",\"processes\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"signaled\":%" PRIu64 "}",
			  c[i].processes, c[i].failed, c[i].signaled);
	}
	sb_puts(b, "]}");
	free(c);
}

/* ,"stack":[{addr, module, symbol, offset}...] innermost first, or null */
static void jstack(struct sbuf *b, const struct pt_stack *st)
{
	sb_puts(b, ",\"stack\":");
	if (!st) {
		sb_puts(b, "null");
		return;
	}
	sb_putc(b, '[');
	for (uint32_t i = 0; i < st->n; i++) {
		const struct pt_frame *f = &st->f[i];

		sb_printf(b, "%s{\"addr\":\"0x%" PRIx64 "\",\"module\":", i ? "," : "", f->addr);
		if (f->module)
			jstr(b, f->module);
		else
			sb_puts(b, "null");
		sb_puts(b, ",\"symbol\":");
		if (f->symbol)
			jstr(b, f->symbol);
		else
			sb_puts(b, "null");
		sb_printf(b, ",\"offset\":%" PRIu64 "}", f->offset);
	}
	sb_putc(b, ']');
}

void json_finding(struct sbuf *b, const struct ptree *pt, const struct an_finding *f)
{
	const struct pt_proc *p = f->proc;

	sb_puts(b, "{\"kind\":");
	jstr(b, an_kind_name(f->kind));
	if (p) {
		sb_printf(b, ",\"id\":%d,\"pid\":%u,\"comm\":", p->id, p->pid);
		jstr(b, p->comm);
	} else {
		sb_puts(b, ",\"id\":null,\"pid\":null,\"comm\":null");
	}
	sb_puts(b, ",\"message\":");
	jstr(b, f->message);
	switch (f->kind) {
	case AN_ZOMBIE:
		sb_puts(b, ",\"reason\":");
		jstr(b, an_reason_name(f->reason));
		sb_puts(b, ",\"zombie_ms\":");
		jdur(b, f->zombie_ns);
		sb_puts(b, ",\"parent_pid\":");
		jpid(b, p->ppid);
		sb_puts(b, ",\"reaped_by\":");
		jpid(b, p->state == PT_REAPED ? p->reaped_by : 0);
		sb_puts(b, ",\"adopted_by\":");
		jpid(b, p->adopted_by);
		break;
	case AN_ORPHAN:
		sb_puts(b, ",\"parent_pid\":");
		jpid(b, p->ppid);
		sb_puts(b, ",\"adopted_by\":");
		jpid(b, p->adopted_by);
		break;
	case AN_LEAK:
		sb_puts(b, ",\"parent_pid\":");
		jpid(b, p->ppid);
		sb_printf(b, ",\"killed\":%s", p->killed_by_us && p->exited ? "true" : "false");
		break;
	case AN_LOCK:
		sb_puts(b, ",\"lock\":");
		jstr(b, f->lock->id);
		break;
	case AN_DEADLOCK:
		sb_puts(b, ",\"cycle\":[");
		for (int i = 0; i < f->dl->n; i++) {
			const struct pt_dl_member *m = &f->dl->m[i];
			const struct pt_dl_member *prev = &f->dl->m[(i + f->dl->n - 1) % f->dl->n];

			sb_printf(b, "%s{\"pid\":%u,\"comm\":", i ? "," : "", m->proc->pid);
			jstr(b, m->proc->comm);
			sb_puts(b, ",\"waits_on\":");
			jstr(b, m->waits_on ? m->waits_on->id : "children");
			sb_puts(b, ",\"holds\":");
			/* a parent waiting for its children waits for this one's exit */
			jstr(b, prev->waits_on ? prev->waits_on->id : "exit");
			sb_puts(b, ",\"since_ms\":");
			jms(b, pt, m->since);
			sb_printf(b, ",\"holder_inferred\":%s", m->inferred ? "true" : "false");
			jstack(b, m->stack);
			sb_putc(b, '}');
		}
		sb_putc(b, ']');
		break;
	default:
		break;
	}
	if (p) {
		const char *test = pt_test_of(pt, p);

		sb_puts(b, ",\"test\":");
		if (test)
			jstr(b, test);
		else
			sb_puts(b, "null");
	}
	sb_putc(b, '}');
}

static void jidset(struct sbuf *b, const struct pt_idset *s)
{
	sb_putc(b, '[');
	for (size_t i = 0; i < s->n; i++)
		sb_printf(b, i ? ",%u" : "%u", s->v[i]);
	sb_putc(b, ']');
}

static void jlock(struct sbuf *b, const struct pt_lock *l)
{
	struct sbuf lb = { 0 };

	sb_puts(b, "{\"id\":");
	jstr(b, l->id);
	sb_puts(b, ",\"type\":");
	jstr(b, pt_lock_type_name(l->type));
	sb_puts(b, ",\"name\":");
	if (l->name)
		jstr(b, l->name);
	else
		sb_puts(b, "null");
	sb_printf(b, ",\"waits\":%u,\"total_ms\":", l->waits);
	jdur(b, l->total_ns);
	sb_puts(b, ",\"max_ms\":");
	jdur(b, l->max_ns);
	sb_puts(b, ",\"waiters\":");
	jidset(b, &l->waiters);
	sb_puts(b, ",\"wakers\":");
	jidset(b, &l->wakers);
	sb_puts(b, ",\"holders\":");
	jidset(b, &l->holders);
	sb_puts(b, ",\"class\":");
	jstr(b, pt_wait_class_name(pt_lock_class(l)));
	sb_printf(b, ",\"contended\":%s,\"label\":", pt_lock_contended(l) ? "true" : "false");
	lb.len = 0;
	pt_lock_label(&lb, l);
	json_str(b, lb.s ? lb.s : "", lb.len);
	sb_free(&lb);
	sb_putc(b, '}');
}

static void rfc3339(struct sbuf *b, int64_t ns)
{
	time_t s = ns / 1000000000;
	struct tm tm;
	char buf[64];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_printf(b, "\"%s.%06ld+00:00\"", buf, (long)((ns % 1000000000) / 1000));
}

/* The optional kernel features the trace had (docs/kernels.md); null for a
 * recording made before they were recorded. */
static void jfeatures(struct sbuf *b, uint16_t f)
{
	if (!(f & PT_FEAT_KNOWN)) {
		sb_puts(b, ",\"features\":null");
		return;
	}
	sb_printf(b, ",\"features\":{\"lock_waits\":%s,\"file_lock_holders\":%s,\"futex2\":%s}",
		  f & PT_FEAT_LOCK_WAITS ? "true" : "false",
		  f & PT_FEAT_FILE_LOCK_HOLDERS ? "true" : "false",
		  f & PT_FEAT_FUTEX2 ? "true" : "false");
}

void json_report(struct sbuf *b, struct ptree *pt, const struct an_result *r,
		 const struct an_opts *o)
{
	json_report_spill(b, pt, r, o, NULL);
}

void json_report_spill(struct sbuf *b, struct ptree *pt, const struct an_result *r,
		       const struct an_opts *o, const struct sb_spill *sp)
{
	static const char *const modes[] = { "command", "pid", "system" };
	uint64_t end = pt->ended ? pt->end_ts : pt->last_ts;
	const struct pt_proc *root = pt->root;

	sb_puts(b, "{\"schema_version\":" MPTRACE_SCHEMA_VERSION ",\"mptrace_version\":");
	jstr(b, MPTRACE_VERSION);
	sb_puts(b, ",\"mode\":");
	jstr(b, modes[pt->meta.mode]);
	sb_puts(b, ",\"command\":");
	jargv(b, pt->meta.argv);
	sb_puts(b, ",\"start_time\":");
	rfc3339(b, pt->meta.wall_t0_ns);
	sb_puts(b, ",\"duration_ms\":");
	jdur(b, end >= pt->meta.t0 ? end - pt->meta.t0 : 0);
	sb_puts(b, ",\"exit\":");
	if (pt->meta.mode == PT_MODE_COMMAND && root && root->exited) {
		sb_puts(b, "{\"code\":");
		if (pt_signaled(root))
			sb_printf(b, "null,\"signal\":%d", pt_term_sig(root));
		else
			sb_printf(b, "%d,\"signal\":null", pt_exit_code(root));
		sb_printf(b, ",\"core_dumped\":%s}", pt_core(root) ? "true" : "false");
	} else {
		sb_puts(b, "null");
	}
	sb_printf(b, ",\"complete\":%s,\"lost_events\":%" PRIu64 ",\"lost_processes\":%" PRIu64
		  ",\"test_markers_dropped\":%" PRIu64,
		  r->incomplete ? "false" : "true", r->lost, pt->lost_track, pt->marks_dropped);
	if (pt->ngone)	/* only after lost records: absent from complete reports */
		sb_printf(b, ",\"gone_processes\":%" PRIu64, pt->ngone);
	sb_printf(b, ",\"lost_bytes\":%" PRIu64 ",\"incomplete_reason\":", pt->damage.bytes);
	if (r->incomplete_why)
		jstr(b, r->incomplete_why);
	else
		sb_puts(b, "null");
	jfeatures(b, pt->meta.features);
	sb_puts(b, ",\n\"processes\":[");
	for (size_t i = 0; i < pt->nprocs; i++) {
		sb_puts(b, i ? ",\n" : "\n");
		jprocess(b, pt, pt->procs[i], end);
		sb_spill(b, sp);
	}
	sb_puts(b, "],\n\"findings\":[");
	for (size_t i = 0; i < r->n; i++) {
		sb_puts(b, i ? ",\n" : "\n");
		json_finding(b, pt, &r->v[i]);
		sb_spill(b, sp);
	}
	sb_puts(b, "],\n\"locks\":[");
	for (size_t i = 0; i < pt->nlocks; i++) {
		sb_puts(b, i ? ",\n" : "\n");
		jlock(b, pt->locks[i]);
		sb_spill(b, sp);
	}
	sb_puts(b, "],\n\"longest_lock_waits\":[");
	for (size_t i = 0; i < pt->ntop; i++) {
		const struct pt_lockwait *w = &pt->top[i];

		sb_printf(b, "%s{\"pid\":%u,\"tid\":%u,\"comm\":", i ? "," : "", w->proc->pid, w->tid);
		jstr(b, w->proc->comm);
		sb_puts(b, ",\"lock\":");
		jstr(b, w->lock->id);
		sb_puts(b, ",\"start_ms\":");
		jms(b, pt, w->start_ts);
		sb_puts(b, ",\"wait_ms\":");
		jdur(b, w->dur_ns);
		sb_puts(b, ",\"waker\":");
		jpid(b, w->waker);
		sb_puts(b, ",\"holder\":");
		jpid(b, w->holder);
		sb_printf(b, ",\"holder_inferred\":%s,\"unfinished\":%s,\"class\":",
			  w->holder_inferred ? "true" : "false", w->unfinished ? "true" : "false");
		jstr(b, pt_wait_class_name(pt_wait_class_of(w)));
		jstack(b, w->stack);
		sb_putc(b, '}');
	}
	sb_printf(b, "],\n\"summary\":{\"processes\":%zu,\"threads\":%" PRIu64 ",\"execs\":%" PRIu64
		  ",\"zombies\":%u,\"orphans\":%u,\"leaks\":%u,\"lock_waits\":%" PRIu64 ",\"lock_wait_ms\":",
		  pt->nprocs, r->threads, pt->execs, r->count[AN_ZOMBIE], r->count[AN_ORPHAN],
		  r->count[AN_LEAK], pt->lock_waits);
	jdur(b, pt->lock_wait_ns);
	sb_puts(b, ",\"max_zombie_ms\":");
	jdur(b, r->max_zombie_ns);
	sb_printf(b, ",\"deadlocks\":%u}", r->count[AN_DEADLOCK]);
	if (pt->fg)
		jforgotten(b, pt, r);
	if (o->check) {
		bool first = true;

		sb_puts(b, ",\n\"check\":{\"kinds\":[");
		for (int k = 0; k < AN_NKINDS; k++) {
			if (!(o->check & AN_CHECK(k)))
				continue;
			if (!first)
				sb_putc(b, ',');
			first = false;
			jstr(b, an_check_name(k));
		}
		sb_printf(b, "],\"passed\":%s}", r->passed ? "true" : "false");
	}
	sb_puts(b, "}\n");
}

void json_event(struct sbuf *b, const struct ptree *pt, const struct mpt_hdr *ev)
{
	sb_puts(b, "{\"type\":");
	jstr(b, event_type_name(ev->type));
	sb_puts(b, ",\"t_ms\":");
	jms(b, pt, ev->ts);
	sb_printf(b, ",\"pid\":%u,\"tid\":%u", ev->pid, ev->tid);
	switch (ev->type) {
	case MPT_EV_FORK: {
		const struct mpt_fork *e = (const void *)ev;

		sb_printf(b, ",\"ppid\":%u,\"ptid\":%u,\"thread\":%s,\"comm\":", e->ppid, e->ptid,
			  e->flags & MPT_FORK_THREAD ? "true" : "false");
		json_str(b, e->comm, MPT_COMM_LEN);
		break;
	}
	case MPT_EV_EXEC: {
		const struct mpt_exec *e = (const void *)ev;
		size_t off = 0;
		bool first = true;

		sb_printf(b, ",\"old_pid\":%u,\"comm\":", e->old_pid);
		json_str(b, e->comm, MPT_COMM_LEN);
		sb_puts(b, ",\"filename\":");
		json_str(b, e->data, e->fname_len);
		sb_puts(b, ",\"argv\":[");
		while (off < e->args_len) {
			size_t l = strnlen(e->data + e->fname_len + off, e->args_len - off);

			if (!first)
				sb_putc(b, ',');
			first = false;
			json_str(b, e->data + e->fname_len + off, l);
			off += l + 1;
		}
		sb_printf(b, "],\"truncated\":%s", e->flags ? "true" : "false");
		break;
	}
	case MPT_EV_EXIT: {
		const struct mpt_exit *e = (const void *)ev;
		int st = e->status;

		sb_puts(b, ",\"comm\":");
		json_str(b, e->comm, MPT_COMM_LEN);
		if ((st & 0x7f) == 0)
			sb_printf(b, ",\"exit_code\":%d,\"signal\":null", (st >> 8) & 0xff);
		else
			sb_printf(b, ",\"exit_code\":null,\"signal\":%d", st & 0x7f);
		sb_printf(b, ",\"ppid\":%u,\"reaper\":%u,\"autoreap\":%s", e->ppid, e->reaper,
			  e->flags & MPT_EXIT_AUTOREAP ? "true" : "false");
		break;
	}
	case MPT_EV_WAIT: {
		const struct mpt_wait *e = (const void *)ev;

		sb_puts(b, ",\"start_ms\":");
		jms(b, pt, e->start_ts);
		sb_puts(b, ",\"waker\":");
		jpid(b, e->waker);
		sb_printf(b, ",\"target\":%d,\"nowait\":%s", e->target,
			  e->flags & MPT_WAIT_NOWAIT ? "true" : "false");
		break;
	}
	case MPT_EV_FREE: {
		const struct mpt_free *e = (const void *)ev;
		const struct pt_proc *p = ptree_find(pt, e->h.pid);

		sb_printf(b, ",\"reaper\":%u,\"reaped_ms\":", e->reaper);
		jms(b, pt, p && p->kstart == e->h.start && p->exit_ts != PT_NONE ? pt_reap_time(e, p->pid, p->exit_ts) : e->h.ts);
		break;
	}
	case MPT_EV_LOCK: {
		const struct mpt_lock *e = (const void *)ev;
		static const char *const k[] = { "", "futex", "flock", "posix", "ofd", "sysv_sem" };

		sb_puts(b, ",\"kind\":");
		jstr(b, k[e->kind <= MPT_LOCK_SYSV ? e->kind : 0]);
		sb_puts(b, ",\"start_ms\":");
		jms(b, pt, e->start_ts);
		sb_printf(b, ",\"wait_ms\":%.3f,\"dev\":%llu,\"ino\":%llu,\"off\":%llu,\"private\":%s,\"ret\":%d,"
			  "\"holder_input\":%s,\"holder_preempted\":%s,\"waker\":",
			  (e->h.ts - e->start_ts) / 1e6, (unsigned long long)e->dev,
			  (unsigned long long)e->ino, (unsigned long long)e->off,
			  e->flags & MPT_LOCK_PRIVATE ? "true" : "false", e->ret,
			  e->flags & MPT_LOCK_HOLDER_INPUT ? "true" : "false",
			  e->flags & (MPT_LOCK_HOLDER_PREEMPTED | MPT_LOCK_RELEASED) ? "true" : "false");
		jpid(b, e->waker);
		break;
	}
	case MPT_EV_SIGNAL: {
		const struct mpt_signal *e = (const void *)ev;

		enum sig_cause c = sig_cause(e->sig, e->code, e->origin);

		sb_printf(b, ",\"signal\":%u,\"name\":\"%s\",\"code\":%d,\"kind\":\"%s\",\"reason\":",
			  e->sig, signal_name(e->sig), e->code, c == SIG_BY_PROCESS ? "process" : "kernel");
		if (c == SIG_BY_PROCESS) {
			sb_printf(b, "null,\"sender\":%u,\"sender_comm\":", e->sender_pid);
			json_str(b, e->sender_comm, MPT_COMM_LEN);
		} else {
			sb_printf(b, "\"%s\",\"sender\":null,\"sender_comm\":null", sig_cause_name(c));
		}
		break;
	}
	case MPT_EV_PROC: {
		const struct mpt_proc *e = (const void *)ev;

		sb_printf(b, ",\"ppid\":%u,\"comm\":", e->ppid);
		json_str(b, e->comm, MPT_COMM_LEN);
		break;
	}
	case MPT_EV_KILL: {
		const struct mpt_kill *e = (const void *)ev;

		sb_printf(b, ",\"signal\":%u,\"name\":\"%s\",\"reason\":\"%s\"", e->sig,
			  signal_name(e->sig), e->reason == MPT_KILL_DEADLOCK ? "deadlock" : "leak");
		break;
	}
	case MPT_EV_LOCK_BEGIN: {
		const struct mpt_lock_begin *e = (const void *)ev;
		static const char *const k[] = { "", "futex", "flock", "posix", "ofd", "sysv_sem" };

		sb_puts(b, ",\"kind\":");
		jstr(b, k[e->kind <= MPT_LOCK_SYSV ? e->kind : 0]);
		sb_printf(b, ",\"dev\":%llu,\"ino\":%llu,\"off\":%llu,\"private\":%s,\"holder\":",
			  (unsigned long long)e->dev, (unsigned long long)e->ino,
			  (unsigned long long)e->off, e->flags & MPT_LOCK_PRIVATE ? "true" : "false");
		jpid(b, e->holder);
		break;
	}
	case MPT_EV_WAIT_BEGIN: {
		const struct mpt_wait_begin *e = (const void *)ev;

		sb_printf(b, ",\"target\":%d", e->target);
		break;
	}
	case MPT_EV_DEADLOCK: {
		const struct mpt_deadlock *e = (const void *)ev;

		sb_puts(b, ",\"cycle\":[");
		for (uint32_t i = 0; i < e->n && i < MPT_DL_MAX; i++) {
			const struct mpt_dl_member *m = &e->m[i];

			sb_printf(b, "%s{\"pid\":%u,\"kind\":%u,\"dev\":%llu,\"ino\":%llu,\"off\":%llu,\"since_ms\":",
				  i ? "," : "", m->pid, m->kind, (unsigned long long)m->dev,
				  (unsigned long long)m->ino, (unsigned long long)m->off);
			jms(b, pt, m->since);
			sb_putc(b, '}');
		}
		sb_putc(b, ']');
		break;
	}
	case MPT_EV_TEST: {
		const struct mpt_test *e = (const void *)ev;
		static const char *const k[] = { "env", "begin", "end" };

		sb_puts(b, ",\"mark\":");
		jstr(b, k[e->flags <= MPT_TEST_END ? e->flags : 0]);
		sb_puts(b, ",\"name\":");
		json_str(b, e->name, MPT_TEST_LEN);
		break;
	}
	case MPT_EV_END: {
		const struct mpt_end *e = (const void *)ev;
		uint64_t lost = 0;

		for (int i = 0; i < MPT_EV_MAX; i++)
			lost += e->lost[i];
		sb_printf(b, ",\"lost_events\":%" PRIu64 ",\"lost_processes\":%llu", lost,
			  (unsigned long long)e->lost_track);
		break;
	}
	default:
		break;
	}
	sb_putc(b, '}');
}
