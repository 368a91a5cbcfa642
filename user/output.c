// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "out_json.h"
#include "out_junit.h"
#include "out_perfetto.h"
#include "out_svg.h"
#include "output.h"
#include "util.h"

struct text_style text_style_for(FILE *f, const struct opts *o)
{
	enum color_mode mode = o->color;
	struct text_style st = { 0 };
	const char *term = getenv("TERM");
	const char *cs;

	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	st.utf8 = cs && !strcmp(cs, "UTF-8");
	if (mode == COLOR_ALWAYS)
		st.color = true;
	else if (mode == COLOR_AUTO)
		st.color = isatty(fileno(f)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) && term &&
			   strcmp(term, "dumb");
	st.no_fold = o->no_fold;
	st.findings_only = o->findings_only;
	st.no_lead = o->quiet;
	st.argv_width = o->argv_width < 0 ? 0 : o->argv_width ? (size_t)o->argv_width : SIZE_MAX;
	st.comm = o->comm;
	st.from_exec = o->from_exec;
	st.clock = o->delta ? TC_DELTA : o->wall >= 2 ? TC_WALL_US : o->wall ? TC_WALL : TC_REL;
	st.events = o->events;
	return st;
}

static bool is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

bool stdout_wanted(const struct opts *o)
{
	return is_stdout(o->json_file) || is_stdout(o->jsonl_file) || is_stdout(o->junit_file) ||
	       is_stdout(o->svg_file) || is_stdout(o->perfetto_file);
}

int open_streams(const struct opts *o, FILE *deflt, FILE **out, FILE **jsonl)
{
	const char *late[][2] = {
		{ o->json_file, "JSON report" }, { o->junit_file, "JUnit report" },
		{ o->svg_file, "SVG timeline" }, { o->perfetto_file, "Perfetto trace" },
	};

	*out = deflt;
	*jsonl = NULL;
	if (o->out_file) {
		*out = fopen(o->out_file, "w");
		if (!*out) {
			p_err("cannot open '%s' for the output: %s", o->out_file, strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (o->jsonl_file) {
		*jsonl = !strcmp(o->jsonl_file, "-") ? stdout : fopen(o->jsonl_file, "w");
		if (!*jsonl) {
			p_err("cannot open '%s' for the event lines: %s", o->jsonl_file, strerror(errno));
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		FILE *f;

		if (!late[i][0] || !strcmp(late[i][0], "-"))
			continue;
		f = fopen(late[i][0], "a");
		if (!f) {
			p_err("cannot open '%s' for the %s: %s", late[i][0], late[i][1], strerror(errno));
			return EXIT_USAGE;
		}
		fclose(f);
	}
	return 0;
}

/* Writes b to path ("-" is stdout). */
static int write_file(const char *what, const char *path, const struct sbuf *b)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int ok;

	if (!f) {
		p_err("cannot open '%s' for the %s: %s", path, what, strerror(errno));
		return EXIT_USAGE;
	}
	ok = fwrite(b->s ? b->s : "", 1, b->len, f) == b->len;
	ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
	if (!ok) {
		p_err("cannot write the %s to '%s': %s", what, path, strerror(errno));
		return EXIT_ENV;
	}
	return 0;
}

static void spill_to(struct sbuf *b, void *f)
{
	fwrite(b->s, 1, b->len, f);
}

int write_outputs(struct ptree *pt, const struct an_result *r, const struct an_opts *an,
		  const struct opts *o, FILE *out, const struct text_style *st)
{
	struct text_style ts = *st;
	struct sbuf b = { 0 };
	int err = 0;

	/* mptrace top is a view: a whole-system report only when asked */
	if (o->mode != RUN_TOP || o->top_report) {
		/* the text report goes out as it is made */
		ts.spill = spill_to;
		ts.spill_ctx = out;
		text_report(&b, &ts, pt, r, an);
		fwrite(b.s, 1, b.len, out);
		fflush(out);
		b.len = 0;
	}
	if (getenv("GITHUB_ACTIONS") && !strcmp(getenv("GITHUB_ACTIONS"), "true")) {
		/* the runner reads workflow commands from both streams: keep
		 * them out of a JSON (or other) output on stdout */
		FILE *ann = stdout_wanted(o) ? stderr : stdout;

		github_annotations(&b, pt, r, an->check);
		if (b.len) {
			fwrite(b.s, 1, b.len, ann);
			fflush(ann);
		}
		b.len = 0;
	}
	if (o->json_file) {
		json_report(&b, pt, r, an);
		err = write_file("JSON report", o->json_file, &b);
		b.len = 0;
	}
	if (!err && o->junit_file) {
		junit_report(&b, pt, r, an->check);
		err = write_file("JUnit report", o->junit_file, &b);
		b.len = 0;
	}
	if (!err && o->svg_file) {
		svg_report(&b, pt, r);
		err = write_file("SVG timeline", o->svg_file, &b);
		b.len = 0;
	}
	if (!err && o->perfetto_file) {
		perfetto_report(&b, pt, r);
		err = write_file("Perfetto trace", o->perfetto_file, &b);
		b.len = 0;
	}
	sb_free(&b);
	return err;
}
