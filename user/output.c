// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <langinfo.h>
#include <libgen.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "log.h"
#include "out_json.h"
#include "out_otlp.h"
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

int output_open_error(const char *path, const char *what, int err)
{
	if (err == ELOOP) {
		p_err("refusing to write the %s to '%s': it is a symbolic link; "
		      "remove it or give the real path", what, path);
		return EXIT_ENV;
	}
	p_err("cannot open '%s' for the %s: %s", path, what, strerror(err));
	return EXIT_USAGE;
}

/* An output as a stream: see open_output(). */
static FILE *open_stream(const char *path, const char *what, int *status)
{
	int fd = open_output(path, 0644);
	FILE *f;

	if (fd < 0) {
		*status = output_open_error(path, what, errno);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		*status = output_open_error(path, what, errno);
		close(fd);
	}
	return f;
}

/*
 * A report written at the end could not be: say so before the run, but
 * create nothing (what is refused here must not be left behind, and an
 * existing file keeps its contents until the report replaces it).
 */
static int check_late(const char *path, const char *what)
{
	struct stat st;
	char *dir;
	int err = 0;

	if (!lstat(path, &st)) {
		if (S_ISLNK(st.st_mode))
			err = ELOOP;
		else if (S_ISDIR(st.st_mode))
			err = EISDIR;
		else if (access(path, W_OK))
			err = errno;
		return err ? output_open_error(path, what, err) : 0;
	}
	if (errno != ENOENT)
		return output_open_error(path, what, errno);
	dir = xstrdup(path);
	if (access(dirname(dir), W_OK | X_OK))
		err = errno;
	free(dir);
	return err ? output_open_error(path, what, err) : 0;
}

static bool is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

bool stdout_wanted(const struct opts *o)
{
	return is_stdout(o->out_file) || is_stdout(o->json_file) || is_stdout(o->jsonl_file) ||
	       is_stdout(o->junit_file) || is_stdout(o->svg_file) || is_stdout(o->perfetto_file) ||
	       is_stdout(o->otlp_file) || is_stdout(o->findings_file);
}

int open_streams(const struct opts *o, FILE *deflt, FILE **out, FILE **jsonl)
{
	const char *late[][2] = {
		{ o->json_file, "JSON report" }, { o->junit_file, "JUnit report" },
		{ o->svg_file, "SVG timeline" }, { o->perfetto_file, "Perfetto trace" },
		{ o->otlp_file, "OTLP trace" },
	};
	int err = 0;

	*out = deflt;
	*jsonl = NULL;
	for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		if (!late[i][0] || !strcmp(late[i][0], "-"))
			continue;
		err = check_late(late[i][0], late[i][1]);
		if (err)
			return err;
	}
	if (o->out_file) {
		*out = is_stdout(o->out_file) ? stdout : open_stream(o->out_file, "output", &err);
		if (!*out)
			return err;
	}
	if (o->jsonl_file) {
		*jsonl = !strcmp(o->jsonl_file, "-") ? stdout :
			 open_stream(o->jsonl_file, "event lines", &err);
		if (!*jsonl)
			return err;
	}
	return 0;
}

static FILE *open_out(const char *what, const char *path, int *err)
{
	return strcmp(path, "-") ? open_stream(path, what, err) : stdout;
}

/* Writes the rest of a report, b, to f (open_out) and closes it. */
static int close_out(const char *what, const char *path, FILE *f, const struct sbuf *b)
{
	int ok;

	ok = fwrite(b->s ? b->s : "", 1, b->len, f) == b->len;
	ok = !ferror(f) && ok;	/* spill_to's writes too */
	ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
	if (!ok) {
		p_err("cannot write the %s to '%s': %s", what, path, strerror(errno));
		return EXIT_ENV;
	}
	return 0;
}

/* A random trace id (W3C: not all zero). */
static void otlp_trace_id(uint8_t id[16])
{
	if (getrandom(id, 16, 0) != 16)
		memset(id, 0, 16);
	id[15] |= 1;
}

static void spill_to(struct sbuf *b, void *f)
{
	fwrite(b->s, 1, b->len, f);
}

/* Writes b to path ("-" is stdout). */
static int write_file(const char *what, const char *path, const struct sbuf *b)
{
	int err = 0;
	FILE *f = open_out(what, path, &err);

	return f ? close_out(what, path, f, b) : err;
}

int write_outputs(struct ptree *pt, const struct an_result *r, const struct an_opts *an,
		  const struct opts *o, FILE *out, const struct text_style *st)
{
	struct text_style ts = *st;
	struct sbuf b = { 0 };
	int err = 0;

	/* mptrace top is a view: a whole-system report only when asked */
	if ((o->mode != RUN_TOP || o->top_report) && !o->daemon) {
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
		/* written as it is made: a million processes are ~400 MB */
		FILE *f = open_out("JSON report", o->json_file, &err);

		if (f) {
			json_report_spill(&b, pt, r, an, &(struct sb_spill){ spill_to, f });
			err = close_out("JSON report", o->json_file, f, &b);
		}
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
		FILE *f = open_out("Perfetto trace", o->perfetto_file, &err);

		if (f) {
			perfetto_report_spill(&b, pt, r, &(struct sb_spill){ spill_to, f });
			err = close_out("Perfetto trace", o->perfetto_file, f, &b);
		}
		b.len = 0;
	}
	if (!err && o->otlp_file) {
		struct otlp_opts oo = { .wait_min_ns = o->lock_thr_ns, .version = MPTRACE_VERSION };

		otlp_trace_id(oo.trace_id);
		otlp_report(&b, pt, r, &oo);
		err = write_file("OTLP trace", o->otlp_file, &b);
		b.len = 0;
	}
	sb_free(&b);
	return err;
}
