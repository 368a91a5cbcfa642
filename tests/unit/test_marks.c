// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Runner markers (MPTRACE_FD): which test a process belongs to, the cap on
 * markers kept, and the O(log n) lookup checked against the plain scan it
 * replaced, on nested, overlapping, open and lying markers.
 */
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static struct ptree *mk(void)
{
	char *argv[] = { "sh", NULL };
	struct pt_meta m = { .mode = PT_MODE_COMMAND, .argv = argv, .t0 = T0, .self_pid = 1,
			     .root_pid = 100 };

	return ptree_new(&m);
}

static void mark(struct ptree *pt, uint64_t ms, uint32_t flags, const char *name)
{
	struct mpt_test e = { .h = { .type = MPT_EV_TEST, .size = sizeof(e), .ts = T0 + ms * MS },
			      .flags = flags };
	const char *why;

	memcpy(e.name, name, strnlen(name, sizeof(e.name)));
	if (event_validate(&e, sizeof(e), &why) || ptree_feed(pt, &e.h, NULL))
		printf("# marker refused: %s\n", why);
}

/* A process that started at ms: what pt_test_of() looks at. */
static const char *test_at(struct ptree *pt, uint64_t ms)
{
	struct pt_proc p;

	memset(&p, 0, sizeof(p));
	p.start_ts = T0 + ms * MS;
	return pt_test_of(pt, &p);
}

static bool is(const char *got, const char *want)
{
	return want ? got && !strcmp(got, want) : !got;
}

static void test_sequence_and_nesting(void)
{
	struct ptree *pt = mk();

	mark(pt, 0, MPT_TEST_BEGIN, "suite");
	mark(pt, 10, MPT_TEST_BEGIN, "A");
	mark(pt, 20, MPT_TEST_END, "A");
	mark(pt, 20, MPT_TEST_BEGIN, "B");
	mark(pt, 30, MPT_TEST_END, "B");
	mark(pt, 100, MPT_TEST_END, "suite");
	mark(pt, 200, MPT_TEST_BEGIN, "open");
	ok(is(test_at(pt, 15), "A"), "inside A: A");
	ok(is(test_at(pt, 20), "B"), "at B's begin (A's end): B");
	ok(is(test_at(pt, 25), "B"), "inside B: B");
	ok(is(test_at(pt, 50), "suite"), "after B, inside the suite: the suite");
	ok(is(test_at(pt, 150), NULL), "between: none");
	ok(is(test_at(pt, 5000), "open"), "after an open begin: that test");
	ptree_free(pt);
}

/* What docs/ci.md warns about: traced code can end A and begin B. */
static void test_lying_markers(void)
{
	struct ptree *pt = mk();

	mark(pt, 10, MPT_TEST_BEGIN, "A");
	mark(pt, 12, MPT_TEST_END, "A");	/* sent by A's own leaking code */
	mark(pt, 12, MPT_TEST_BEGIN, "B");
	mark(pt, 40, MPT_TEST_END, "A");	/* the runner's real end: nothing open by that name */
	ok(is(test_at(pt, 15), "B"), "a lie is believed: the leak is B's");
	ok(pt->nmarks == 2, "an end with nothing open is ignored");
	ptree_free(pt);
}

static void test_cap(void)
{
	struct ptree *pt = mk();
	char name[32];

	for (int i = 0; i < PT_MAX_MARKS + 500; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		mark(pt, 2 * (uint64_t)i, MPT_TEST_BEGIN, name);
		mark(pt, 2 * (uint64_t)i + 1, MPT_TEST_END, name);
	}
	is_int(pt->nmarks, PT_MAX_MARKS, "markers kept: capped");
	is_int(pt->marks_dropped, 500, "markers past the cap: counted");
	ok(is(test_at(pt, 2 * 1234), "t1234"), "a kept marker still names its test");
	ok(is(test_at(pt, 2 * (uint64_t)(PT_MAX_MARKS + 10)), NULL), "a dropped one names none");
	ptree_free(pt);
}

/* The scan pt_test_of() used to do: the latest-begun mark around ts. */
static const char *naive(const struct ptree *pt, uint64_t ts)
{
	for (size_t i = pt->nmarks; i-- > 0;)
		if (ts >= pt->marks[i].begin_ts && ts < pt->marks[i].end_ts)
			return pt->marks[i].name;
	return NULL;
}

static void test_against_scan(void)
{
	struct ptree *pt = mk();
	char name[32];
	int bad = 0, named = 0;
	uint64_t t = 0;

	srand(42);
	/* overlapping, nested, unordered ends, some never ended */
	for (int i = 0; i < 3000; i++) {
		t += rand() % 5;
		snprintf(name, sizeof(name), "m%d", i);
		mark(pt, t, MPT_TEST_BEGIN, name);
		if (rand() % 4) {
			snprintf(name, sizeof(name), "m%d", rand() % (i + 1));
			mark(pt, t + rand() % 50, MPT_TEST_END, name);
		}
	}
	/* a begin that arrives late (a clock step): kept in order */
	mark(pt, 3, MPT_TEST_BEGIN, "late");
	for (size_t i = 1; i < pt->nmarks; i++)
		bad += pt->marks[i - 1].begin_ts > pt->marks[i].begin_ts;
	is_int(bad, 0, "marks sorted by begin");
	for (uint64_t ms = 0; ms < t + 100; ms++) {
		const char *a = test_at(pt, ms), *b = naive(pt, T0 + ms * MS);

		bad += !is(a, b);
		named += a != NULL;
	}
	is_int(bad, 0, "the tree lookup agrees with the scan at every ms");
	ok(named > 1000, "and names a test at %d of them", named);
	ptree_free(pt);
}

int main(void)
{
	test_sequence_and_nesting();
	test_lying_markers();
	test_cap();
	test_against_scan();
	return tap_done();
}
