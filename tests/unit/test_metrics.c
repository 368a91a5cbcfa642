// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Prometheus metrics (issue 16): struct mx fed synthetic events through the
 * model, as the event loop feeds it: counts per comm, the zombie gauge from
 * the current zombies, the histogram, a reap counted once, bounded comm
 * labels, and the two formats.
 */
#include <stdio.h>
#include <string.h>
#include "analyze.h"
#include "event.h"
#include "metrics.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static struct ptree *pt;
static struct mx mx;
static uint64_t now_ms;

static void put(void *ev, uint32_t type, size_t size, uint32_t pid)
{
	struct mpt_hdr *h = ev;
	struct pt_change chg = { 0 };
	const char *why;

	h->type = type;
	h->size = size;
	h->ts = T0 + now_ms * MS;
	h->pid = h->tid = pid;
	h->start = pid;
	if (event_validate(ev, size, &why) || ptree_feed(pt, ev, &chg)) {
		printf("# record of type %u not taken\n", type);
		return;
	}
	mx_event(&mx, pt, h, &chg);
}

#include "synth.h"

static void start(void)
{
	struct pt_meta m = { .mode = PT_MODE_SYSTEM, .t0 = T0, .self_pid = 1 };

	pt = ptree_new(&m);
	mx_init(&mx);
	now_ms = 0;
}

static void stop(void)
{
	mx_free(&mx);
	ptree_free(pt);
}

static bool has_line(const struct sbuf *b, const char *line)
{
	size_t n = strlen(line);

	for (const char *s = b->s; s && (s = strstr(s, line)); s++)
		if ((s == b->s || s[-1] == '\n') && s[n] == '\n')
			return true;
	return false;
}

static void render(struct sbuf *b, int ncomms, bool om)
{
	struct mx_self self = { .lost = 7, .have_self = true, .rss_bytes = 4096 };

	b->len = 0;
	mx_render(b, &mx, pt, &self, ncomms, om);
	sb_putc(b, '\0');
	b->len--;
}

static void test_counts(void)
{
	struct sbuf b = { 0 };

	start();
	spawn(1, 10, "make");
	spawn(10, 11, "cc");
	spawn(10, 12, "cc");
	spawn(10, 13, "ld");
	now_ms = 100;
	die(11, 0, 1);
	die(12, 1 << 8, 1);		/* exit 1 */
	die(13, 9, 1);			/* SIGKILL */
	now_ms = 150;
	reaped(10, 11);
	reaped(10, 11);			/* a second release record changes nothing */
	now_ms = 2100;
	reaped(10, 12);
	render(&b, 20, false);
	ok(has_line(&b, "mptrace_processes_started_total{comm=\"cc\"} 2"), "2 cc started");
	ok(has_line(&b, "mptrace_process_exits_total{comm=\"cc\",how=\"code\"} 2"),
	   "exit 0 and exit 1 are both how=code");
	ok(has_line(&b, "mptrace_process_exits_total{comm=\"ld\",how=\"signal\"} 1"), "ld killed");
	ok(has_line(&b, "mptrace_zombies{comm=\"ld\"} 1"), "ld is a zombie now");
	ok(has_line(&b, "mptrace_zombies{comm=\"cc\"} 0"), "both cc reaped");
	ok(has_line(&b, "mptrace_zombie_seconds_count 2"), "two reaps observed, the repeated release not");
	ok(has_line(&b, "mptrace_zombie_seconds_bucket{le=\"0.1\"} 1"), "50 ms in le=0.1");
	ok(has_line(&b, "mptrace_zombie_seconds_bucket{le=\"1\"} 1"), "2 s not in le=1");
	ok(has_line(&b, "mptrace_zombie_seconds_bucket{le=\"5\"} 2"), "2 s in le=5 (cumulative)");
	ok(has_line(&b, "mptrace_zombie_seconds_sum 2.050000000"), "sum 0.05 + 2 s");
	ok(has_line(&b, "mptrace_events_lost_total 7"), "lost events as given");
	ok(has_line(&b, "# TYPE mptrace_processes_started_total counter"), "text format: TYPE with _total");
	ok(!strstr(b.s, "# EOF"), "no # EOF in the text format");
	render(&b, 20, true);
	ok(has_line(&b, "# TYPE mptrace_processes_started counter"), "OpenMetrics: family without _total");
	ok(b.len > 6 && !strcmp(b.s + b.len - 6, "# EOF\n"), "OpenMetrics ends with # EOF");
	sb_free(&b);
	stop();
}

static void test_orphans_and_bounded_labels(void)
{
	struct sbuf b = { 0 };
	char name[16];

	start();
	spawn(1, 10, "sh");
	spawn(10, 11, "daemonized");
	now_ms = 10;
	die(10, 0, 1);			/* 11 is orphaned */
	for (uint32_t i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "job%u", i);
		spawn(1, 100 + i, name);
	}
	render(&b, 3, false);
	ok(has_line(&b, "mptrace_orphans_total{comm=\"daemonized\"} 1"), "the orphan counted under its comm");
	{
		size_t n = 0;

		for (const char *s = b.s; (s = strstr(s, "\nmptrace_processes_started_total{")); s++)
			n++;
		is_int(n, 4, "3 comms and other: %zu series", n);
	}
	ok(strstr(b.s, "mptrace_processes_started_total{comm=\"other\"} 49") != NULL,
	   "the 49 least active comms summed into other");
	sb_free(&b);
	stop();
}

static void test_label_escaping(void)
{
	struct sbuf b = { 0 };

	start();
	spawn(1, 10, "a\"b\\c\x01");
	render(&b, 20, false);
	ok(has_line(&b, "mptrace_processes_started_total{comm=\"a\\\"b\\\\c?\"} 1"),
	   "quote and backslash escaped, a control byte as ?");
	sb_free(&b);
	stop();
}

int main(void)
{
	test_counts();
	test_orphans_and_bounded_labels();
	test_label_escaping();
	return tap_done();
}
