// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Prometheus metrics of a trace: see metrics.h. PURE. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

#define MX_SLOTS (2 * MX_MAX_COMMS)

/* zombie time, seconds: a CI step's slow reap up to a server's forgotten child */
static const double zbounds[MX_NBUCKETS] = { 0.01, 0.1, 0.5, 1, 5, 30, 300, 3600 };

void mx_init(struct mx *m)
{
	memset(m, 0, sizeof(*m));
	m->comms = xcalloc(MX_SLOTS, sizeof(*m->comms));
	strcpy(m->other.comm, "other");
}

void mx_free(struct mx *m)
{
	free(m->comms);
	m->comms = NULL;
}

static uint32_t hash_comm(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The counters of a comm; past MX_MAX_COMMS distinct ones, "other". */
static struct mx_comm *comm_of(struct mx *m, const char *comm)
{
	uint32_t i = hash_comm(comm) % MX_SLOTS;

	for (;; i = (i + 1) % MX_SLOTS) {
		struct mx_comm *c = &m->comms[i];

		if (!c->comm[0]) {
			if (m->ncomms >= MX_MAX_COMMS || !comm[0])
				return &m->other;
			memcpy(c->comm, comm, strnlen(comm, MPT_COMM_LEN));
			m->ncomms++;
			return c;
		}
		if (!strcmp(c->comm, comm))
			return c;
	}
}

static void count_orphans(struct mx *m, const struct pt_proc *dead, uint64_t ts)
{
	for (const struct pt_proc *c = dead->child; c; c = c->sibling)
		if (c->orphaned_ts == ts)
			comm_of(m, c->comm)->orphans++;
}

static void count_reap(struct mx *m, const struct pt_proc *p)
{
	uint64_t ns;

	if (p->state != PT_REAPED || !p->exited || p->exit_ts == PT_NONE ||
	    p->reaped_ts == PT_NONE || p->reaped_ts < p->exit_ts)
		return;
	ns = p->reaped_ts - p->exit_ts;
	m->zcount++;
	m->zsum_ns += ns;
	for (int i = 0; i < MX_NBUCKETS; i++) {
		if (ns <= zbounds[i] * 1e9) {
			m->zbucket[i]++;
			break;
		}
	}
}

void mx_event(struct mx *m, const struct ptree *pt, const struct mpt_hdr *h,
	      const struct pt_change *chg)
{
	const struct pt_proc *p = chg->proc;
	const struct mpt_lock *lk;

	(void)pt;
	switch (h->type) {
	case MPT_EV_FORK:
		if (p && !(((const struct mpt_fork *)h)->flags & MPT_FORK_THREAD))
			comm_of(m, p->comm)->started++;
		break;
	case MPT_EV_EXIT:
		if (!p || !p->exited)
			break;
		if (pt_signaled(p))
			comm_of(m, p->comm)->exit_signal++;
		else
			comm_of(m, p->comm)->exit_code++;
		if (chg->orphaned_some)
			count_orphans(m, p, h->ts);
		break;
	case MPT_EV_FREE:
		/* other: this record reaped it (a second one, the kernel's after
		 * mptrace's own for the command, changes nothing) */
		if (p && chg->other == p)
			count_reap(m, p);
		break;
	case MPT_EV_LOCK:
		lk = (const struct mpt_lock *)h;
		if (chg->lock && chg->lock->type < MX_NLOCKS && h->ts > lk->start_ts)
			m->lock_wait_ns[chg->lock->type] += h->ts - lk->start_ts;
		break;
	case MPT_EV_DEADLOCK:
		m->deadlocks++;
		break;
	default:
		break;
	}
}

void mx_finding(struct mx *m, enum an_kind k)
{
	if (k < AN_NKINDS)
		m->findings[k]++;
}

/* ---- rendering ---- */

struct mx_out {
	struct sbuf *b;
	bool om;		/* OpenMetrics */
};

/* A counter's family is named without _total in OpenMetrics. */
static void family(struct mx_out *o, const char *name, const char *type, const char *help)
{
	size_t n = strlen(name);

	if (o->om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	sb_printf(o->b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name, help, (int)n, name, type);
}

/* A label value: printable ASCII as is (\ and " escaped), any other byte
 * as '?': a kernel comm is bytes, a label value must be UTF-8. */
static void label_value(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '\\' || c == '"')
			sb_putc(b, '\\');
		sb_putc(b, c >= 0x20 && c < 0x7f ? c : '?');
	}
}

static int by_activity(const void *a, const void *b)
{
	const struct mx_comm *x = *(const struct mx_comm *const *)a;
	const struct mx_comm *y = *(const struct mx_comm *const *)b;
	uint64_t vx = x->started + x->exit_code + x->exit_signal + x->orphans + x->zombies;
	uint64_t vy = y->started + y->exit_code + y->exit_signal + y->orphans + y->zombies;

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return strcmp(x->comm, y->comm);
}

/* The comms exported under their own label: the ncomms most active. The
 * rest are summed into *rest (its comm "other"). Returns the array. */
static struct mx_comm **top_comms(struct mx *m, const struct ptree *pt, int ncomms,
				  size_t *n, struct mx_comm *rest)
{
	struct mx_comm **v = xcalloc(m->ncomms + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < MX_SLOTS; i++)
		m->comms[i].zombies = 0;
	m->other.zombies = 0;
	for (const struct pt_proc *p = pt->zombies; p; p = p->znext)
		comm_of(m, p->comm)->zombies++;
	for (size_t i = 0; i < MX_SLOTS; i++)
		if (m->comms[i].comm[0])
			v[k++] = &m->comms[i];
	qsort(v, k, sizeof(*v), by_activity);
	*rest = m->other;
	for (size_t i = 0; i < k; i++) {
		v[i]->top = (int)i < ncomms;
		if (v[i]->top)
			continue;
		rest->started += v[i]->started;
		rest->exit_code += v[i]->exit_code;
		rest->exit_signal += v[i]->exit_signal;
		rest->orphans += v[i]->orphans;
		rest->zombies += v[i]->zombies;
	}
	*n = k < (size_t)ncomms ? k : (size_t)ncomms;
	return v;
}

enum mx_field { F_STARTED, F_EXIT_CODE, F_EXIT_SIGNAL, F_ORPHANS, F_ZOMBIES };

static uint64_t field(const struct mx_comm *c, enum mx_field f)
{
	switch (f) {
	case F_STARTED: return c->started;
	case F_EXIT_CODE: return c->exit_code;
	case F_EXIT_SIGNAL: return c->exit_signal;
	case F_ORPHANS: return c->orphans;
	default: return c->zombies;
	}
}

/* One sample per exported comm and one for "other"; extra is ",how=..." */
static void per_comm(struct mx_out *o, const char *name, struct mx_comm **v, size_t n,
		     const struct mx_comm *rest, enum mx_field f, const char *extra)
{
	for (size_t i = 0; i <= n; i++) {
		const struct mx_comm *c = i < n ? v[i] : rest;

		sb_printf(o->b, "%s{comm=\"", name);
		label_value(o->b, c->comm);
		sb_printf(o->b, "\"%s} %" PRIu64 "\n", extra, field(c, f));
	}
}

static void comm_metrics(struct mx_out *o, struct mx *m, const struct ptree *pt, int ncomms)
{
	struct mx_comm rest;
	size_t n;
	struct mx_comm **v = top_comms(m, pt, ncomms, &n, &rest);

	family(o, "mptrace_processes_started_total", "counter",
	       "Processes created (fork), by the comm they had then.");
	per_comm(o, "mptrace_processes_started_total", v, n, &rest, F_STARTED, "");
	family(o, "mptrace_process_exits_total", "counter",
	       "Processes that exited, by comm and how: code (exit status) or signal.");
	per_comm(o, "mptrace_process_exits_total", v, n, &rest, F_EXIT_CODE, ",how=\"code\"");
	per_comm(o, "mptrace_process_exits_total", v, n, &rest, F_EXIT_SIGNAL, ",how=\"signal\"");
	family(o, "mptrace_zombies", "gauge",
	       "Processes that exited and are not reaped yet (zombies), now, by comm.");
	per_comm(o, "mptrace_zombies", v, n, &rest, F_ZOMBIES, "");
	family(o, "mptrace_orphans_total", "counter",
	       "Processes orphaned (their parent exited while they ran), by comm.");
	per_comm(o, "mptrace_orphans_total", v, n, &rest, F_ORPHANS, "");
	free(v);
}

static void zombie_histogram(struct mx_out *o, const struct mx *m)
{
	uint64_t cum = 0;

	family(o, "mptrace_zombie_seconds", "histogram",
	       "Time from a process's exit to its reap, of reaped processes.");
	for (int i = 0; i < MX_NBUCKETS; i++) {
		cum += m->zbucket[i];
		sb_printf(o->b, "mptrace_zombie_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", zbounds[i], cum);
	}
	sb_printf(o->b, "mptrace_zombie_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", m->zcount);
	sb_printf(o->b, "mptrace_zombie_seconds_sum %.9f\n", m->zsum_ns / 1e9);
	sb_printf(o->b, "mptrace_zombie_seconds_count %" PRIu64 "\n", m->zcount);
}

static void totals(struct mx_out *o, const struct mx *m, const struct ptree *pt,
		   const struct mx_self *s)
{
	family(o, "mptrace_findings_total", "counter",
	       "Findings reported, by kind (zombie, orphan, leak, lock, deadlock).");
	for (int k = 0; k < AN_NKINDS; k++)
		sb_printf(o->b, "mptrace_findings_total{kind=\"%s\"} %" PRIu64 "\n",
			  an_kind_name(k), m->findings[k]);
	family(o, "mptrace_lock_wait_seconds_total", "counter",
	       "Time threads spent blocked on locks (waits over --lock-threshold), by lock kind.");
	for (int k = 0; k < MX_NLOCKS; k++)
		sb_printf(o->b, "mptrace_lock_wait_seconds_total{kind=\"%s\"} %.9f\n",
			  pt_lock_type_name(k), m->lock_wait_ns[k] / 1e9);
	family(o, "mptrace_deadlocks_total", "counter", "Wait-for cycles detected (deadlocks).");
	sb_printf(o->b, "mptrace_deadlocks_total %" PRIu64 "\n", m->deadlocks);
	family(o, "mptrace_events_lost_total", "counter",
	       "Events lost: dropped in the kernel (ring buffer full), malformed, or processes "
	       "left untracked. Non-zero: the counts above are incomplete.");
	sb_printf(o->b, "mptrace_events_lost_total %" PRIu64 "\n", s->lost);
	family(o, "mptrace_ring_buffer_bytes_used", "gauge",
	       "Bytes waiting in the BPF ring buffer to be read.");
	sb_printf(o->b, "mptrace_ring_buffer_bytes_used %" PRIu64 "\n", s->ring_used);
	family(o, "mptrace_tracked_processes", "gauge",
	       "Processes the model holds now: running, zombies and recently reaped.");
	sb_printf(o->b, "mptrace_tracked_processes %zu\n", pt->nprocs);
	family(o, "mptrace_processes_gone_total", "counter",
	       "Processes found gone after events were lost: held as running or zombies, their "
	       "exit or release among the lost events, no longer in the kernel.");
	sb_printf(o->b, "mptrace_processes_gone_total %" PRIu64 "\n", pt->ngone);
}

static void self_metrics(struct mx_out *o, const struct mx_self *s)
{
	family(o, "process_resident_memory_bytes", "gauge", "Resident memory size of mptrace in bytes.");
	sb_printf(o->b, "process_resident_memory_bytes %" PRIu64 "\n", s->rss_bytes);
	family(o, "process_cpu_seconds_total", "counter",
	       "User and system CPU time of mptrace in seconds.");
	sb_printf(o->b, "process_cpu_seconds_total %.6f\n", s->cpu_seconds);
	family(o, "process_start_time_seconds", "gauge",
	       "Start time of mptrace since the epoch in seconds.");
	sb_printf(o->b, "process_start_time_seconds %.3f\n", s->start_time);
}

void mx_render(struct sbuf *b, struct mx *m, const struct ptree *pt, const struct mx_self *s,
	       int ncomms, bool openmetrics)
{
	struct mx_out o = { .b = b, .om = openmetrics };

	comm_metrics(&o, m, pt, ncomms);
	zombie_histogram(&o, m);
	totals(&o, m, pt, s);
	if (s->have_self)
		self_metrics(&o, s);
	if (openmetrics)
		sb_puts(b, "# EOF\n");
}
