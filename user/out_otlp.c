// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* OTLP/JSON traces: see out_otlp.h. PURE. */
#include <inttypes.h>
#include <string.h>
#include "out_json.h"
#include "out_otlp.h"

struct ot {
	struct sbuf *b;
	const struct ptree *pt;
	const struct an_result *r;
	const struct otlp_opts *o;
	bool first;		/* no span written yet */
};

static void jstr(struct sbuf *b, const char *s)
{
	json_str(b, s ? s : "", s ? strlen(s) : 0);
}

static void hex(struct sbuf *b, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%02x", v[i]);
}

/* A span id from the trace id and a number: unique within the trace
 * (splitmix64 is a bijection), never zero (an invalid span id). */
static uint64_t span_id(const struct ot *t, uint64_t n)
{
	uint64_t z = n, seed;

	memcpy(&seed, t->o->trace_id + 8, sizeof(seed));
	z = (z + seed) + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

static void put_span_id(struct sbuf *b, const char *key, uint64_t id)
{
	uint8_t v[8];

	for (int i = 0; i < 8; i++)
		v[i] = id >> (56 - 8 * i);
	sb_printf(b, ",\"%s\":\"", key);
	hex(b, v, 8);
	sb_putc(b, '"');
}

/* Model time (monotonic ns) as nanoseconds since the epoch, a string (int64). */
static void put_time(struct sbuf *b, const struct ot *t, const char *key, uint64_t ts)
{
	const struct pt_meta *m = &t->pt->meta;
	int64_t wall = m->wall_t0_ns + (int64_t)(ts - m->t0);

	sb_printf(b, ",\"%s\":\"%" PRId64 "\"", key, wall < 0 ? 0 : wall);
}

static void attr_str(struct sbuf *b, bool *first, const char *key, const char *v)
{
	sb_printf(b, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":", *first ? "" : ",", key);
	jstr(b, v);
	sb_puts(b, "}}");
	*first = false;
}

static void attr_int(struct sbuf *b, bool *first, const char *key, int64_t v)
{
	sb_printf(b, "%s{\"key\":\"%s\",\"value\":{\"intValue\":\"%" PRId64 "\"}}",
		  *first ? "" : ",", key, v);
	*first = false;
}

static void attr_argv(struct sbuf *b, bool *first, const char *key, char **argv)
{
	sb_printf(b, "%s{\"key\":\"%s\",\"value\":{\"arrayValue\":{\"values\":[", *first ? "" : ",", key);
	for (int i = 0; argv && argv[i]; i++) {
		sb_puts(b, i ? ",{\"stringValue\":" : "{\"stringValue\":");
		jstr(b, argv[i]);
		sb_putc(b, '}');
	}
	sb_puts(b, "]}}}");
	*first = false;
}

static uint64_t start_of(const struct ptree *pt, const struct pt_proc *p)
{
	return p->start_ts == PT_NONE ? pt->meta.t0 : p->start_ts;
}

static uint64_t end_of(const struct ptree *pt, const struct pt_proc *p)
{
	uint64_t end = p->exited && p->exit_ts != PT_NONE ? p->exit_ts : pt->end_ts;

	return end < start_of(pt, p) ? start_of(pt, p) : end;
}

static void span_head(struct ot *t, uint64_t id, uint64_t parent, const char *name,
		      uint64_t start, uint64_t end)
{
	struct sbuf *b = t->b;

	sb_puts(b, t->first ? "{\"traceId\":\"" : ",\n{\"traceId\":\"");
	t->first = false;
	hex(b, t->o->trace_id, 16);
	sb_putc(b, '"');
	put_span_id(b, "spanId", id);
	if (parent)
		put_span_id(b, "parentSpanId", parent);
	sb_puts(b, ",\"name\":");
	jstr(b, name);
	sb_puts(b, ",\"kind\":1");	/* SPAN_KIND_INTERNAL */
	put_time(b, t, "startTimeUnixNano", start);
	put_time(b, t, "endTimeUnixNano", end < start ? start : end);
}

static uint64_t finding_ts(const struct ptree *pt, const struct an_finding *f)
{
	const struct pt_proc *p = f->proc;

	switch (f->kind) {
	case AN_ZOMBIE: return p->exit_ts;
	case AN_ORPHAN: return p->orphaned_ts;
	case AN_LEAK: return pt->root_exit_ts != PT_NONE ? pt->root_exit_ts : pt->end_ts;
	case AN_DEADLOCK: return f->dl->ts;
	default: return pt->end_ts;
	}
}

/* The findings of p (a live process of the model, not a forgotten one's ghost). */
static int proc_events(struct ot *t, const struct pt_proc *p)
{
	const struct an_result *r = t->r;
	struct sbuf *b = t->b;
	int n = 0;

	for (size_t i = r->forgotten; i < r->n; i++) {
		const struct an_finding *f = &r->v[i];
		uint64_t ts;
		bool first = true;

		if (f->proc != p)
			continue;
		ts = finding_ts(t->pt, f);
		sb_puts(b, n++ ? ",{" : ",\"events\":[{");
		sb_puts(b, "\"name\":");
		sb_printf(b, "\"mptrace.finding.%s\"", an_kind_name(f->kind));
		put_time(b, t, "timeUnixNano", ts == PT_NONE ? end_of(t->pt, p) : ts);
		sb_puts(b, ",\"attributes\":[");
		attr_str(b, &first, "mptrace.finding.kind", an_kind_name(f->kind));
		attr_str(b, &first, "mptrace.finding.message", f->message);
		sb_puts(b, "]}");
	}
	if (n)
		sb_putc(b, ']');
	return n;
}

static void proc_attrs(struct ot *t, const struct pt_proc *p)
{
	struct sbuf *b = t->b;
	bool first = true;

	sb_puts(b, ",\"attributes\":[");
	attr_int(b, &first, "process.pid", p->pid);
	attr_int(b, &first, "process.parent_pid", p->ppid);
	attr_str(b, &first, "process.executable.name", p->comm);
	if (p->nexecs && p->execs[p->nexecs - 1].filename)
		attr_str(b, &first, "process.executable.path", p->execs[p->nexecs - 1].filename);
	if (p->argv)
		attr_argv(b, &first, "process.command_args", p->argv);
	if (p->exited && !pt_signaled(p))
		attr_int(b, &first, "process.exit.code", pt_exit_code(p));
	if (p->exited && pt_signaled(p))
		attr_int(b, &first, "mptrace.exit.signal", pt_term_sig(p));
	attr_int(b, &first, "mptrace.process.id", p->id);
	if (p->exited && p->state != PT_RUNNING)
		attr_int(b, &first, "mptrace.zombie_ns", (int64_t)pt_zombie_ns(p, t->pt->end_ts));
	if (p->threads)
		attr_int(b, &first, "mptrace.threads", p->threads);
	sb_putc(b, ']');
}

static void proc_span(struct ot *t, const struct pt_proc *p)
{
	struct sbuf *b = t->b;
	bool failed = p->exited && (pt_signaled(p) || pt_exit_code(p));

	span_head(t, span_id(t, p->id), p->parent ? span_id(t, p->parent->id) : 0, p->comm,
		  start_of(t->pt, p), end_of(t->pt, p));
	proc_attrs(t, p);
	if (proc_events(t, p))
		failed = true;
	if (failed) {
		sb_puts(b, ",\"status\":{\"code\":2,\"message\":");	/* STATUS_CODE_ERROR */
		jstr(b, p->findings ? "mptrace finding" : "non-zero exit");
		sb_putc(b, '}');
	}
	sb_putc(b, '}');
}

/* Child span numbers live above the processes' ids. */
#define OT_WAIT_BASE (1ull << 40)

static void lock_spans(struct ot *t, uint64_t *n)
{
	const struct ptree *pt = t->pt;
	struct sbuf label = { 0 };

	for (size_t i = 0; i < pt->nwaitlog; i++) {
		const struct pt_lockwait *w = &pt->waitlog[i];
		bool first = true;

		if (!w->proc || w->dur_ns < t->o->wait_min_ns || w->proc->doomed)
			continue;
		label.len = 0;
		sb_puts(&label, "lock wait ");
		pt_lock_label(&label, w->lock);
		span_head(t, span_id(t, OT_WAIT_BASE + (*n)++), span_id(t, w->proc->id), label.s,
			  w->start_ts, w->start_ts + w->dur_ns);
		sb_puts(t->b, ",\"attributes\":[");
		attr_int(t->b, &first, "thread.id", w->tid);
		attr_str(t->b, &first, "mptrace.lock.id", w->lock->id);
		if (w->holder)
			attr_int(t->b, &first, "mptrace.lock.holder_pid", w->holder);
		sb_puts(t->b, "]}");
	}
	sb_free(&label);
}

static void join_spans(struct ot *t, const struct pt_proc *p, uint64_t *n)
{
	for (uint32_t i = 0; i < p->nspans; i++) {
		const struct pt_span *s = &p->spans[i];
		bool first = true;

		if (s->kind != PT_SPAN_JOIN || s->end_ts - s->start_ts < t->o->wait_min_ns)
			continue;
		span_head(t, span_id(t, OT_WAIT_BASE + (*n)++), span_id(t, p->id), "wait for a child",
			  s->start_ts, s->end_ts);
		sb_puts(t->b, ",\"attributes\":[");
		attr_int(t->b, &first, "thread.id", s->tid);
		if (s->other)
			attr_int(t->b, &first, "mptrace.reaped_pid", s->other);
		sb_puts(t->b, "]}");
	}
}

void otlp_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r,
		 const struct otlp_opts *o)
{
	struct ot t = { .b = b, .pt = pt, .r = r, .o = o, .first = true };
	bool first = true;
	uint64_t nwait = 0;

	sb_puts(b, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
	attr_str(b, &first, "service.name", "mptrace");
	if (pt->meta.argv && pt->meta.argv[0])
		attr_argv(b, &first, "mptrace.command", pt->meta.argv);
	sb_puts(b, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"mptrace\",\"version\":");
	jstr(b, o->version);
	sb_puts(b, "},\"spans\":[\n");
	for (size_t i = 0; i < pt->nprocs; i++)
		proc_span(&t, pt->procs[i]);
	for (size_t i = 0; i < pt->nprocs; i++)
		join_spans(&t, pt->procs[i], &nwait);
	lock_spans(&t, &nwait);
	sb_puts(b, "\n]}]}]}\n");
}
