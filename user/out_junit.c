// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
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

void junit_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r, unsigned kinds)
{
	unsigned tests = 0, failures = 0;
	double secs = ((pt->ended ? pt->end_ts : pt->last_ts) - pt->meta.t0) / 1e9;

	if (!kinds)
		kinds = AN_CHECK_DEFAULT;
	for (int k = 0; k < AN_NKINDS; k++) {
		if (!(kinds & AN_CHECK(k)))
			continue;
		tests++;
		failures += r->count[k] > 0;
	}
	tests++;	/* completeness of the trace */
	failures += r->incomplete;
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
	if (r->incomplete)
		sb_printf(b, "      <failure message=\"%llu events lost\" type=\"incomplete\">the trace "
			  "lost events: findings may be missing</failure>\n", (unsigned long long)pt->lost);
	sb_puts(b, "    </testcase>\n  </testsuite>\n</testsuites>\n");
}

void github_annotations(struct sbuf *b, const struct ptree *pt, const struct an_result *r, unsigned kinds)
{
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
		sb_printf(b, "::error title=mptrace incomplete::%llu events were lost; the trace is incomplete\n",
			  (unsigned long long)pt->lost);
}
