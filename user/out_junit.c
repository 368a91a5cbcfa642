// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdbool.h>
#include <string.h>
#include "out_junit.h"

static void xml_text(struct sbuf *b, const char *s)
{
	struct sbuf clean = { 0 };

	/* printable first: XML 1.0 forbids most control characters */
	sb_put_printable(&clean, s, strlen(s));
	for (const char *c = clean.s ? clean.s : ""; *c; c++) {
		switch (*c) {
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '&': sb_puts(b, "&amp;"); break;
		case '"': sb_puts(b, "&quot;"); break;
		default: sb_putc(b, *c);
		}
	}
	sb_free(&clean);
}

/* The tests (from MPTRACE_TEST or the runner's markers) that findings of
 * the checked kinds were born in, in order of first appearance. */
static size_t failing_tests(const struct ptree *pt, const struct an_result *r, unsigned kinds,
			    const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n && n < max; i++) {
		const char *t;
		bool seen = false;

		if (!(kinds & AN_CHECK(r->v[i].kind)) || !r->v[i].proc)
			continue;
		t = pt_test_of(pt, r->v[i].proc);
		if (!t)
			continue;
		for (size_t k = 0; k < n; k++)
			seen |= !strcmp(out[k], t);
		if (!seen)
			out[n++] = t;
	}
	return n;
}

static bool same_test(const struct ptree *pt, const struct an_result *r, unsigned kinds, size_t i,
		      const char *test)
{
	const char *t;

	if (!(kinds & AN_CHECK(r->v[i].kind)) || !r->v[i].proc)
		return false;
	t = pt_test_of(pt, r->v[i].proc);
	return t && !strcmp(t, test);
}

void junit_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r, unsigned kinds)
{
	unsigned tests = 0, failures = 0;
	double secs = ((pt->ended ? pt->end_ts : pt->last_ts) - pt->meta.t0) / 1e9;
	const char *failing[256];
	size_t nfailing;

	if (!kinds)
		kinds = AN_CHECK_DEFAULT;
	nfailing = failing_tests(pt, r, kinds, failing, 256);
	for (int k = 0; k < AN_NKINDS; k++) {
		if (!(kinds & AN_CHECK(k)))
			continue;
		tests++;
		failures += r->count[k] > 0;
	}
	tests++;	/* completeness of the trace */
	failures += r->incomplete;
	tests += nfailing;
	failures += nfailing;
	sb_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_printf(b, "<testsuites name=\"mptrace\" tests=\"%u\" failures=\"%u\">\n", tests, failures);
	sb_printf(b, "  <testsuite name=\"mptrace\" tests=\"%u\" failures=\"%u\" errors=\"0\" time=\"%.3f\">\n",
		  tests, failures, secs);
	for (int k = 0; k < AN_NKINDS; k++) {
		if (!(kinds & AN_CHECK(k)))
			continue;
		sb_printf(b, "    <testcase classname=\"mptrace\" name=\"%s\" time=\"0\">\n", an_check_name(k));
		if (r->count[k]) {
			sb_printf(b, "      <failure message=\"%u %s finding%s\" type=\"%s\">", r->count[k],
				  an_kind_name(k), r->count[k] == 1 ? "" : "s", an_kind_name(k));
			for (size_t i = 0; i < r->n; i++) {
				if (r->v[i].kind != (enum an_kind)k)
					continue;
				xml_text(b, r->v[i].message);
				sb_putc(b, '\n');
			}
			sb_puts(b, "</failure>\n");
		}
		sb_puts(b, "    </testcase>\n");
	}
	sb_puts(b, "    <testcase classname=\"mptrace\" name=\"complete\" time=\"0\">\n");
	if (r->incomplete) {
		sb_printf(b, "      <failure message=\"%llu events lost\" type=\"incomplete\">",
			  (unsigned long long)r->lost);
		xml_text(b, r->incomplete_why);
		sb_puts(b, ": findings may be missing</failure>\n");
	}
	sb_puts(b, "    </testcase>\n");
	/* the runner's own tests that left findings behind, by name */
	for (size_t t = 0; t < nfailing; t++) {
		unsigned n = 0;

		for (size_t i = 0; i < r->n; i++)
			n += same_test(pt, r, kinds, i, failing[t]);
		sb_puts(b, "    <testcase classname=\"mptrace.tests\" name=\"");
		xml_text(b, failing[t]);
		sb_printf(b, "\" time=\"0\">\n      <failure message=\"%u finding%s\" type=\"mptrace\">",
			  n, n == 1 ? "" : "s");
		for (size_t i = 0; i < r->n; i++) {
			if (!same_test(pt, r, kinds, i, failing[t]))
				continue;
			xml_text(b, r->v[i].message);
			sb_putc(b, '\n');
		}
		sb_puts(b, "</failure>\n    </testcase>\n");
	}
	sb_puts(b, "  </testsuite>\n</testsuites>\n");
}

void github_annotations(struct sbuf *b, const struct ptree *pt, const struct an_result *r, unsigned kinds)
{
	(void)pt;
	if (!kinds)
		kinds = AN_CHECK_DEFAULT;
	for (size_t i = 0; i < r->n; i++) {
		const struct an_finding *f = &r->v[i];
		struct sbuf m = { 0 };

		if (!(kinds & AN_CHECK(f->kind)))
			continue;
		/* workflow commands end at a newline; % and CR/LF are escaped */
		sb_put_printable(&m, f->message, strlen(f->message));
		sb_printf(b, "::error title=mptrace %s::", an_kind_name(f->kind));
		for (const char *c = m.s ? m.s : ""; *c; c++) {
			if (*c == '%')
				sb_puts(b, "%25");
			else
				sb_putc(b, *c);
		}
		sb_putc(b, '\n');
		sb_free(&m);
	}
	if (r->incomplete)
		sb_printf(b, "::error title=mptrace incomplete::the trace is incomplete: %s\n",
			  r->incomplete_why);
}
