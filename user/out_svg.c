// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The timeline picture. Rows follow the tree (depth-first, children in fork
 * order) so a parent sits above its children and a grey link shows each fork.
 *
 * Readable at 5 and at thousands of processes: a run of at least
 * SVG_FOLD_MIN plain siblings (leaves that exited 0, were reaped by their
 * parent and have no finding) keeps SVG_FOLD_KEEP rows and folds the rest
 * into one row shaded by how many were alive at each moment, like the text
 * tree's "... N more children" line; whatever has a finding always gets its
 * own row. Past SVG_MAX_ROWS rows the picture stops growing (a tall page that
 * scrolls) and one last density row holds the remaining processes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "out_svg.h"
#include "out_text.h"
#include "timeline.h"

#define WIDTH	1400
#define LABEL_X	10
#define X0	340	/* the time axis: x of t0 ... */
#define X1	(WIDTH - 24)	/* ... and of the end of the trace */
#define TOP	104	/* y of the first row */
#define RH	18	/* row height */
#define BAR	10	/* life bar height */
#define INDENT	12	/* px per tree level in the labels */
#define CHAR_W	6.4	/* rough width of a label character at 11px */
#define BUCKET	2	/* px per column of a density row */

#define C_LIFE	 "#4e79a7"
#define C_ZOMBIE "#f28e2b"
#define C_LOCK	 "#e15759"
#define C_JOIN	 "#59a14f"
#define C_EXEC	 "#1b1b1b"
#define C_SIGNAL "#9c5fb5"
#define C_ORPHAN "#d81b9a"
#define C_LEAK	 "#c00000"
#define C_LINK	 "#b8b8b8"
#define C_DEADLOCK "#ff0040"	/* deadlock marks and the cycle's arrows */
#define C_HOLDER "#6a3d9a"	/* waiter -> holder arrows */
#define MAX_ARROWS 200		/* waiter -> holder arrows drawn, the longest waits first */

struct row {
	const struct pt_proc *p;	/* NULL: a density row of `fold` */
	int depth;
	const struct pt_proc **fold;
	size_t nfold;
	const struct pt_proc *fold_parent;	/* NULL: the overflow row */
};

struct svg {
	struct sbuf *b;
	const struct ptree *pt;
	uint64_t t0, end;
	double px_per_ns;
	struct row *rows;
	size_t n, cap;
	size_t overflow;	/* the last row once SVG_MAX_ROWS is reached, or 0 */
	int *row_of;		/* process id - 1 -> its row, or -1 */
	struct tl_waits locks;
};

/* Text for XML: printable UTF-8 (sb_put_printable), then the five entities. */
static void xml_text(struct sbuf *b, const char *s, size_t n)
{
	struct sbuf t = { 0 };

	sb_put_printable(&t, s, n);
	for (size_t i = 0; i < t.len; i++) {
		switch (t.s[i]) {
		case '&': sb_puts(b, "&amp;"); break;
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '"': sb_puts(b, "&quot;"); break;
		case '\'': sb_puts(b, "&apos;"); break;
		default: sb_putc(b, t.s[i]);
		}
	}
	sb_free(&t);
}

static void xml_str(struct sbuf *b, const char *s)
{
	xml_text(b, s, strlen(s));
}

static void xml_argv(struct sbuf *b, char **argv)
{
	struct sbuf t = { 0 };

	for (int i = 0; argv && argv[i]; i++) {
		if (i)
			sb_putc(&t, ' ');
		sb_put_shell_word(&t, argv[i]);
	}
	xml_text(b, t.s ? t.s : "", t.len);
	sb_free(&t);
}

static double xof(const struct svg *s, uint64_t ts)
{
	double x;

	if (ts == PT_NONE || ts <= s->t0)
		return X0;
	x = X0 + (ts - s->t0) * s->px_per_ns;
	return x > X1 ? X1 : x;
}

static double yof(size_t row)
{
	return TOP + row * RH;
}

static double ms(const struct svg *s, uint64_t ts)
{
	return pt_ms(s->pt, ts);
}

/* ---- rows in tree order ---- */

static bool plain(const struct pt_proc *p)
{
	return !p->child && !p->findings && p->exited && !pt_signaled(p) && !pt_exit_code(p) &&
	       p->state == PT_REAPED && p->reap == PT_REAP_PARENT && !p->lock_wait.count;
}

static struct row *add_row(struct svg *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->rows = xrealloc(s->rows, s->cap * sizeof(*s->rows));
	}
	memset(&s->rows[s->n], 0, sizeof(s->rows[0]));
	return &s->rows[s->n++];
}

static void fold_add(struct row *r, const struct pt_proc *p)
{
	if (!(r->nfold & (r->nfold + 1)) || !r->fold)	/* grow at 0, 1, 3, 7, ... */
		r->fold = xrealloc(r->fold, (r->nfold * 2 + 2) * sizeof(*r->fold));
	r->fold[r->nfold++] = p;
}

/* A process's row, or its place in the overflow row. */
static void place(struct svg *s, const struct pt_proc *p, int depth)
{
	struct row *r;

	if (s->overflow || s->n >= SVG_MAX_ROWS - 1) {
		if (!s->overflow) {
			add_row(s);
			s->overflow = s->n - 1;
		}
		fold_add(&s->rows[s->overflow], p);
		return;
	}
	r = add_row(s);
	r->p = p;
	r->depth = depth;
	s->row_of[p->id - 1] = s->n - 1;
}

struct item {
	const struct pt_proc *p;	/* NULL: emit the fold row of `parent` */
	const struct pt_proc *parent;
	int depth;
	struct row *fold;		/* fold items: the folded children */
};

/* Depth-first with an explicit stack: fork chains can be deep. */
static void build_rows(struct svg *s)
{
	const struct ptree *pt = s->pt;
	struct item *st = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = pt->nprocs; i-- > 0;) {
		if (pt->procs[i]->parent)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			st = xrealloc(st, cap * sizeof(*st));
		}
		st[n++] = (struct item){ .p = pt->procs[i] };
	}
	while (n) {
		struct item it = st[--n];
		size_t nkids = 0, nplain = 0, shown = 0, first;
		struct row *fold = NULL;

		if (!it.p) {
			struct row *r;

			if (s->overflow || s->n >= SVG_MAX_ROWS - 1) {
				for (size_t k = 0; k < it.fold->nfold; k++)
					place(s, it.fold->fold[k], 0);
				free(it.fold->fold);
			} else {
				r = add_row(s);
				*r = *it.fold;
			}
			free(it.fold);
			continue;
		}
		place(s, it.p, it.depth);
		for (const struct pt_proc *c = it.p->child; c; c = c->sibling) {
			nkids++;
			nplain += plain(c);
		}
		if (n + nkids + 1 > cap) {
			cap = (n + nkids + 1) * 2;
			st = xrealloc(st, cap * sizeof(*st));
		}
		if (nplain >= SVG_FOLD_MIN) {
			fold = xcalloc(1, sizeof(*fold));
			fold->depth = it.depth + 1;
			fold->fold_parent = it.p;
			st[n++] = (struct item){ .parent = it.p, .depth = it.depth + 1, .fold = fold };
		}
		/* pushed in reverse so they pop in fork order */
		first = n;
		for (const struct pt_proc *c = it.p->child; c; c = c->sibling) {
			if (fold && plain(c) && shown++ >= SVG_FOLD_KEEP) {
				fold_add(fold, c);
				continue;
			}
			st[n++] = (struct item){ .p = c, .depth = it.depth + 1 };
		}
		for (size_t a = first, z = n; z > a + 1; a++, z--) {
			struct item t = st[a];

			st[a] = st[z - 1];
			st[z - 1] = t;
		}
	}
	free(st);
}

/* ---- drawing ---- */

static void header(struct svg *s, const struct an_result *r, size_t height)
{
	const struct ptree *pt = s->pt;
	struct sbuf *b = s->b;
	struct sbuf fate = { 0 };

	sb_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
		  "viewBox=\"0 0 %d %zu\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		  "font-size=\"11\">\n<title>mptrace: ", WIDTH, height, WIDTH, height);
	xml_argv(b, pt->meta.argv);
	sb_printf(b, "</title>\n<rect width=\"%d\" height=\"%zu\" fill=\"#ffffff\"/>\n", WIDTH, height);
	sb_printf(b, "<defs><marker id=\"ah-dl\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
		  "markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\">"
		  "<path d=\"M0 0 L10 5 L0 10 z\" fill=\"%s\"/></marker>"
		  "<marker id=\"ah-h\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
		  "markerUnits=\"userSpaceOnUse\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
		  "<path d=\"M0 0 L10 5 L0 10 z\" fill=\"%s\"/></marker></defs>\n",
		  C_DEADLOCK, C_HOLDER);
	sb_puts(b, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">mptrace");
	if (pt->meta.argv && pt->meta.argv[0]) {
		sb_puts(b, ": ");
		xml_argv(b, pt->meta.argv);
	}
	sb_puts(b, "</text>\n");
	if (pt->root && pt->root->exited) {
		text_fate(&fate, pt->root);
		text_killer(&fate, pt, pt->root);
	}
	sb_printf(b, "<text x=\"10\" y=\"40\" fill=\"#444\">%zu processes in %.1f ms%s",
		  pt->nprocs, (s->end - s->t0) / 1e6, fate.len ? "; command " : "");
	if (fate.len)
		xml_str(b, fate.s);
	sb_printf(b, "; %u zombies, %u orphans, %u leaks, %llu lock waits (%.1f ms)",
		  r->count[AN_ZOMBIE], r->count[AN_ORPHAN],
		  r->count[AN_LEAK], (unsigned long long)pt->lock_waits, pt->lock_wait_ns / 1e6);
	if (r->count[AN_DEADLOCK])
		sb_printf(b, ", <tspan fill=\"%s\" font-weight=\"bold\">%u deadlock%s</tspan>",
			  C_DEADLOCK, r->count[AN_DEADLOCK], r->count[AN_DEADLOCK] == 1 ? "" : "s");
	sb_printf(b, "%s</text>\n", r->incomplete ? "; INCOMPLETE: events were lost" : "");
	if (pt->spans_dropped || pt->waitlog_dropped)
		sb_printf(b, "<text x=\"10\" y=\"%d\" fill=\"%s\">%llu waits and signals past the "
			  "model's limit are counted but not drawn</text>\n", TOP - 28, C_LEAK,
			  (unsigned long long)(pt->spans_dropped + pt->waitlog_dropped));
	sb_free(&fate);
}

static void legend(struct svg *s)
{
	static const struct { const char *color, *label; int shape; } items[] = {
		{ C_LIFE, "running", 0 }, { C_ZOMBIE, "zombie (exited, not reaped)", 0 },
		{ C_LOCK, "lock wait", 1 }, { C_JOIN, "join wait (wait4/waitid)", 1 },
		{ C_EXEC, "exec", 2 }, { C_SIGNAL, "signal received", 3 },
		{ C_ORPHAN, "orphaned", 4 }, { C_LEAK, "leak: alive when the command exited", 5 },
		{ C_DEADLOCK, "deadlock: member, cycle", 6 }, { C_HOLDER, "waiter to holder", 7 },
		{ "#4e79a766", "folded: shade = how many alive", 0 },
	};
	struct sbuf *b = s->b;
	double x = 10;

	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		const char *c = items[i].color;

		switch (items[i].shape) {
		case 0:
			sb_printf(b, "<rect x=\"%.1f\" y=\"53\" width=\"16\" height=\"%d\" fill=\"%s\"/>",
				  x, BAR, c);
			break;
		case 1:
			sb_printf(b, "<rect x=\"%.1f\" y=\"55\" width=\"16\" height=\"6\" fill=\"%s\"/>",
				  x, c);
			break;
		case 2:
			sb_printf(b, "<rect x=\"%.1f\" y=\"51\" width=\"2\" height=\"14\" fill=\"%s\"/>",
				  x + 7, c);
			break;
		case 3:
			sb_printf(b, "<path d=\"M%.1f 50 l8 0 l-4 6 z\" fill=\"%s\"/>", x + 4, c);
			break;
		case 4:
			sb_printf(b, "<circle cx=\"%.1f\" cy=\"58\" r=\"4.5\" fill=\"%s\"/>", x + 8, c);
			break;
		case 5:
			sb_printf(b, "<path d=\"M%.1f 52 l5 6 l-5 6 l-5 -6 z\" fill=\"%s\"/>", x + 8, c);
			break;
		case 6:
		case 7:
			sb_printf(b, "<line x1=\"%.1f\" y1=\"58\" x2=\"%.1f\" y2=\"58\" stroke=\"%s\" "
				  "stroke-width=\"2\" marker-end=\"url(#%s)\"/>", x, x + 12, c,
				  items[i].shape == 6 ? "ah-dl" : "ah-h");
			break;
		}
		sb_printf(b, "<text x=\"%.1f\" y=\"62\">%s</text>\n", x + 21, items[i].label);
		x += 21 + strlen(items[i].label) * 5.6 + 14;
	}
}

static void tick_label(struct sbuf *b, double ns, double step)
{
	if (step >= 1e9)
		sb_printf(b, "%g s", ns / 1e9);
	else if (step >= 1e6)
		sb_printf(b, "%g ms", ns / 1e6);
	else
		sb_printf(b, "%g µs", ns / 1e3);
}

/* Ticks every 1, 2 or 5 times a power of ten, 5 to 12 of them; grid lines
 * through every row, labels above the first row and below the last. */
static void axis(struct svg *s, size_t rows)
{
	struct sbuf *b = s->b;
	double dur = s->end - s->t0, raw = dur / 8, mag, step;
	double ybot = yof(rows);

	if (raw < 1)
		raw = 1;
	mag = pow(10, floor(log10(raw)));
	step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
	sb_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#666\"/>\n",
		  X0, TOP - 6, X1, TOP - 6);
	for (int i = 0; i * step <= dur + step / 1e6 && i < 100; i++) {
		double x = X0 + i * step * s->px_per_ns;

		sb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			  "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#666\"/>"
			  "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">",
			  x, TOP - 6, x, ybot, x, TOP - 10, x, TOP - 6, x, TOP - 14);
		tick_label(b, i * step, step);
		sb_puts(b, "</text>\n");
		if (rows > 30) {
			sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444\">", x,
				  ybot + 14);
			tick_label(b, i * step, step);
			sb_puts(b, "</text>\n");
		}
	}
	sb_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"#444\">time since start</text>\n", LABEL_X,
		  TOP - 14);
}

/* Parent to child at the fork, drawn under the bars; past a few hundred
 * rows they only hatch the picture, so they are left out there. */
static void links(struct svg *s)
{
	if (s->n > 200)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct pt_proc *p = s->rows[i].p;
		const struct pt_proc *par = p ? p->parent : s->rows[i].fold_parent;
		double x;
		int pr;

		if (!par || (!p && !s->rows[i].nfold))
			continue;
		pr = s->row_of[par->id - 1];
		if (pr < 0)
			continue;
		x = xof(s, p ? p->start_ts : s->rows[i].fold[0]->start_ts);
		sb_printf(s->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			  x, yof(pr) + RH / 2.0, x, yof(i) + RH / 2.0, C_LINK);
	}
}

static void rect(struct sbuf *b, double x0, double x1, double y, double h, const char *fill,
		 const char *extra)
{
	if (x1 - x0 < 1)
		x1 = x0 + 1;
	sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s/>",
		  x0, y, x1 - x0, h, fill, extra);
}

/* Waits as bars over the life bar; neighbours closer than a pixel merge into
 * one rect so thousands of tiny waits do not become thousands of elements. */
struct iv {
	uint64_t a, z;
};

static void wait_bars(struct svg *s, const struct iv *v, size_t n, double y, const char *c)
{
	double a = -1, z = -1;

	for (size_t i = 0; i < n; i++) {
		double x0 = xof(s, v[i].a), x1 = xof(s, v[i].z);

		if (a >= 0 && x0 <= z + 1 && x1 >= a - 1) {
			a = x0 < a ? x0 : a;
			z = x1 > z ? x1 : z;
			continue;
		}
		if (a >= 0)
			rect(s->b, a, z, y, 6, c, "");
		a = x0;
		z = x1;
	}
	if (a >= 0)
		rect(s->b, a, z, y, 6, c, "");
}

static void waits(struct svg *s, const struct pt_proc *p, double y)
{
	const struct pt_lockwait **lw;
	size_t n, k = 0;
	struct iv *v;

	lw = tl_waits_of(&s->locks, p, &n);
	v = xcalloc(n + p->nspans + 1, sizeof(*v));
	for (uint32_t i = 0; i < p->nspans; i++)
		if (p->spans[i].kind == PT_SPAN_JOIN)
			v[k++] = (struct iv){ p->spans[i].start_ts, p->spans[i].end_ts };
	wait_bars(s, v, k, y, C_JOIN);
	for (k = 0; k < n; k++)
		v[k] = (struct iv){ lw[k]->start_ts, lw[k]->start_ts + lw[k]->dur_ns };
	wait_bars(s, v, n, y, C_LOCK);
	free(v);
}

/* A received signal: a marker saying which, and who sent it (a process,
 * or the kernel and why). */
static void signal_mark(struct svg *s, struct sbuf *b, const struct pt_span *sp, size_t row)
{
	struct sbuf t = { 0 };

	sb_puts(&t, signal_name(sp->sig));
	text_sig_from(&t, s->pt, sp->cause, sp->other, "");
	sb_printf(b, "<path d=\"M%.1f %.1f l8 0 l-4 6 z\" fill=\"%s\"><title>",
		  xof(s, sp->start_ts) - 4, yof(row) + 0.5, C_SIGNAL);
	xml_str(b, t.s);
	sb_puts(b, "</title></path>");
	sb_free(&t);
}

static void row_title(struct svg *s, const struct pt_proc *p)
{
	const struct ptree *pt = s->pt;
	struct sbuf *b = s->b;
	struct sbuf t = { 0 };

	sb_puts(b, "<title>");
	xml_str(b, p->comm);
	sb_printf(b, "[%u] ", p->pid);
	xml_argv(b, p->argv);
	if (p->nexecs) {
		sb_puts(b, "\nexe: ");
		xml_str(b, p->execs[p->nexecs - 1].filename);
	}
	if (p->start_ts != PT_NONE)
		sb_printf(b, "\nforked at %.3f ms", ms(s, p->start_ts));
	else
		sb_puts(b, "\nrunning before tracing started");
	text_fate(&t, p);
	text_killer(&t, pt, p);
	if (p->exited) {
		/* the killer's comm is the traced code's: escaped for XML */
		sb_printf(b, ", exited at %.3f ms (", ms(s, p->exit_ts));
		xml_str(b, t.s);
		sb_putc(b, ')');
	}
	else
		sb_puts(b, ", still running at the end");
	if (p->state == PT_REAPED && p->reap != PT_REAP_AUTO)
		sb_printf(b, "; reaped by [%u] at %.3f ms after %.3f ms as a zombie", p->reaped_by,
			  ms(s, p->reaped_ts), pt_zombie_ns(p, s->end) / 1e6);
	else if (p->state == PT_REAPED)
		sb_puts(b, "; auto-reaped");
	else if (p->state == PT_ZOMBIE)
		sb_printf(b, "; unreaped zombie for %.3f ms", pt_zombie_ns(p, s->end) / 1e6);
	if (p->threads > 1)
		sb_printf(b, "\n%u threads", p->threads);
	if (p->lock_wait.count)
		sb_printf(b, "\nlock waits: %u, %.3f ms in all, longest %.3f ms", p->lock_wait.count,
			  p->lock_wait.total_ns / 1e6, p->lock_wait.max_ns / 1e6);
	if (p->join_wait.count)
		sb_printf(b, "\njoin waits: %u, %.3f ms in all, longest %.3f ms", p->join_wait.count,
			  p->join_wait.total_ns / 1e6, p->join_wait.max_ns / 1e6);
	if (p->orphaned_ts != PT_NONE)
		sb_printf(b, "\norphaned at %.3f ms, adopted by [%u]", ms(s, p->orphaned_ts),
			  p->adopted_by);
	for (int k = 0; k < AN_NKINDS; k++)
		if (p->findings & AN_CHECK(k))
			sb_printf(b, "\nfinding: %s", an_kind_name(k));
	(void)pt;
	sb_free(&t);
	sb_puts(b, "</title>");
}

static void label(struct svg *s, const struct row *r, size_t i, const char *text, size_t len,
		  const char *color)
{
	double x = LABEL_X + (r->depth > 16 ? 16 : r->depth) * INDENT;
	size_t max = (X0 - 8 - x) / CHAR_W;
	struct sbuf *b = s->b;

	sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", x, yof(i) + RH / 2.0 + 4, color);
	if (len > max && max > 1) {
		xml_text(b, text, max - 1);
		sb_puts(b, "…");
	} else {
		xml_text(b, text, len);
	}
	sb_puts(b, "</text>");
}

/* A deadlock member: its stuck wait outlined from the moment it began to
 * wait, and a tag at the left of its bar. */
static void deadlock_mark(struct svg *s, const struct pt_proc *p, size_t i)
{
	const struct ptree *pt = s->pt;

	for (size_t d = 0; d < pt->ndeadlocks; d++) {
		for (int k = 0; k < pt->deadlocks[d].n; k++) {
			const struct pt_dl_member *m = &pt->deadlocks[d].m[k];
			double x0 = xof(s, m->since), x1 = xof(s, p->exited ? p->exit_ts : s->end);

			if (m->proc != p)
				continue;
			sb_printf(s->b, "<rect class=\"deadlock\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				  "height=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>",
				  x0, yof(i) + 1.5, x1 - x0 < 2 ? 2 : x1 - x0, RH - 3, C_DEADLOCK);
			sb_printf(s->b, "<text x=\"%d\" y=\"%.1f\" fill=\"%s\" font-weight=\"bold\" "
				  "text-anchor=\"end\">DEADLOCK</text>", X0 - 4, yof(i) + RH / 2.0 + 4,
				  C_DEADLOCK);
			return;
		}
	}
}

/* An arrow between two rows at x, bowed to the right so that arrows of one
 * moment stay apart. */
static void arrow(struct svg *s, double x, int from, int to, const char *color,
		  const char *marker, double bow, const char *cls, const char *title)
{
	double y0 = yof(from) + RH / 2.0, y1 = yof(to) + RH / 2.0;

	struct sbuf d = { 0 };

	sb_printf(&d, "M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f", x, y0, x + bow, y0, x + bow, y1,
		  x, y1 + (y1 > y0 ? -3 : 3));
	/* a white halo under it: readable over bars of any colour */
	sb_printf(s->b, "<g class=\"%s\"><title>%s</title><path d=\"%s\" fill=\"none\" "
		  "stroke=\"#ffffff\" stroke-width=\"4\"/><path d=\"%s\" fill=\"none\" "
		  "stroke=\"%s\" stroke-width=\"2\" marker-end=\"url(#%s)\"/></g>\n", cls, title,
		  d.s, d.s, color, marker);
	sb_free(&d);
}

/* Each deadlock's cycle, member to the member holding what it waits on,
 * drawn where it was detected. */
static void deadlock_arrows(struct svg *s)
{
	const struct ptree *pt = s->pt;

	for (size_t d = 0; d < pt->ndeadlocks; d++) {
		const struct pt_deadlock *dl = &pt->deadlocks[d];

		for (int k = 0; k < dl->n; k++) {
			const struct pt_proc *a = dl->m[k].proc, *z = dl->m[(k + 1) % dl->n].proc;
			int ra = s->row_of[a->id - 1], rz = s->row_of[z->id - 1];
			char t[96];

			if (ra < 0 || rz < 0 || ra == rz)
				continue;
			snprintf(t, sizeof(t), "deadlock: [%u] waits on what [%u] holds", a->pid, z->pid);
			/* out one side and back the other: the arrows close a loop */
			arrow(s, xof(s, dl->ts) - 50, ra, rz, C_DEADLOCK, "ah-dl",
			      (k % 2 ? -1 : 1) * (36 + 10 * (k / 2)), "deadlock-arrow", t);
		}
	}
}

static int by_dur(const void *a, const void *b)
{
	const struct pt_lockwait *x = *(const struct pt_lockwait *const *)a;
	const struct pt_lockwait *y = *(const struct pt_lockwait *const *)b;

	return x->dur_ns < y->dur_ns ? 1 : x->dur_ns > y->dur_ns ? -1 : 0;
}

/* Waiter -> holder at the start of each lock wait whose holder is known
 * (every recorded wait passed --lock-threshold), the longest MAX_ARROWS. */
static void holder_arrows(struct svg *s)
{
	const struct ptree *pt = s->pt;
	const struct pt_lockwait **v = xcalloc(pt->nwaitlog + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < pt->nwaitlog; i++)
		if (pt->waitlog[i].holder && pt->waitlog[i].holder != pt->waitlog[i].proc->pid)
			v[n++] = &pt->waitlog[i];
	qsort(v, n, sizeof(*v), by_dur);
	for (size_t i = 0; i < n && i < MAX_ARROWS; i++) {
		const struct pt_proc *h = ptree_find(pt, v[i]->holder);
		int rw = s->row_of[v[i]->proc->id - 1], rh = h ? s->row_of[h->id - 1] : -1;
		char t[128];

		if (rw < 0 || rh < 0 || rw == rh)
			continue;
		snprintf(t, sizeof(t), "[%u] waited %.1f ms on a lock held by [%u]", v[i]->proc->pid,
			 v[i]->dur_ns / 1e6, v[i]->holder);
		arrow(s, xof(s, v[i]->start_ts), rw, rh, C_HOLDER, "ah-h", 14, "holder-arrow", t);
	}
	free(v);
}

static void process_row(struct svg *s, size_t i)
{
	const struct row *r = &s->rows[i];
	const struct pt_proc *p = r->p;
	struct sbuf *b = s->b, name = { 0 };
	double y = yof(i) + (RH - BAR) / 2.0, xs = xof(s, p->start_ts);
	double xe = xof(s, p->exited ? p->exit_ts : s->end);
	const char *lc = p->findings & AN_CHECK(AN_LEAK) ? C_LEAK :
			 p->findings & AN_CHECK(AN_ZOMBIE) ? "#b35900" :
			 p->findings & AN_CHECK(AN_ORPHAN) ? C_ORPHAN : "#111";

	sb_puts(b, "<g>");
	row_title(s, p);
	sb_put_printable(&name, p->comm, strlen(p->comm));
	sb_printf(&name, "[%u]", p->pid);
	label(s, r, i, name.s, name.len, lc);
	sb_free(&name);
	rect(b, xs, xe, y, BAR, C_LIFE, p->start_ts == PT_NONE ? " fill-opacity=\"0.6\"" : "");
	if (p->exited)
		rect(b, xe, xof(s, p->state == PT_REAPED ? p->reaped_ts : s->end), y, BAR, C_ZOMBIE,
		     p->findings & AN_CHECK(AN_ZOMBIE) ? " stroke=\"#b35900\" stroke-width=\"1\"" : "");
	waits(s, p, y + 2);
	for (int k = 0; k < p->nexecs; k++)
		sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"2\" height=\"%d\" fill=\"%s\"/>",
			  xof(s, p->execs[k].ts) - 1, yof(i) + 2, RH - 4, C_EXEC);
	for (uint32_t k = 0; k < p->nspans; k++)
		if (p->spans[k].kind == PT_SPAN_SIGNAL)
			signal_mark(s, b, &p->spans[k], i);
	if (p->orphaned_ts != PT_NONE)
		sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"#fff\"/>",
			  xof(s, p->orphaned_ts), yof(i) + RH / 2.0, C_ORPHAN);
	if (p->findings & AN_CHECK(AN_LEAK)) {
		double x = xof(s, s->pt->root_exit_ts);

		/* the orphan dot is often at the same moment (the command's
		 * exit orphaned it): side by side, neither hides the other */
		if (p->orphaned_ts != PT_NONE && fabs(x - xof(s, p->orphaned_ts)) < 10)
			x = xof(s, p->orphaned_ts) + 10;
		sb_printf(b, "<path d=\"M%.1f %.1f l5 6 l-5 6 l-5 -6 z\" fill=\"%s\" stroke=\"#fff\"/>",
			  x, yof(i) + RH / 2.0 - 6, C_LEAK);
		if (!p->exited)
			sb_printf(b, "<path d=\"M%.1f %.1f l6 5 l-6 5 z\" fill=\"%s\"/>", xe + 1,
				  yof(i) + RH / 2.0 - 5, C_LEAK);
	}
	deadlock_mark(s, p, i);
	sb_puts(b, "</g>\n");
}

/* Many processes in one row: the shade of each column says how many of
 * them were alive then, relative to the most at any time. */
static void density_row(struct svg *s, size_t i)
{
	const struct row *r = &s->rows[i];
	size_t ncol = (X1 - X0) / BUCKET + 1, maxc = 0, cur = 0;
	int *diff = xcalloc(ncol + 1, sizeof(*diff));
	struct sbuf *b = s->b, t = { 0 };

	for (size_t k = 0; k < r->nfold; k++) {
		const struct pt_proc *p = r->fold[k];
		size_t a = (xof(s, p->start_ts) - X0) / BUCKET;
		size_t z = (xof(s, p->exited ? p->exit_ts : s->end) - X0) / BUCKET;

		diff[a]++;
		diff[z + 1 <= ncol ? z + 1 : ncol]--;
	}
	for (size_t c = 0; c < ncol; c++) {
		cur += diff[c];
		if (cur > maxc)
			maxc = cur;
	}
	if (r->fold_parent)
		sb_printf(&t, "+%zu more children that exited 0 and were reaped", r->nfold);
	else
		sb_printf(&t, "+%zu more processes (the picture stops at %d rows)", r->nfold,
			  SVG_MAX_ROWS);
	sb_printf(b, "<g><title>%s; at most %zu alive at once", t.s, maxc);
	if (r->fold_parent) {
		sb_puts(b, " (children of ");
		xml_str(b, r->fold_parent->comm);
		sb_printf(b, "[%u])", r->fold_parent->pid);
	}
	sb_puts(b, "</title>");
	label(s, r, i, t.s, t.len, "#555");
	cur = 0;
	for (size_t c = 0; c < ncol; c++) {
		cur += diff[c];
		if (cur)
			sb_printf(b, "<rect x=\"%zu\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\" "
				  "fill-opacity=\"%.2f\"/>", X0 + c * BUCKET, yof(i) + (RH - BAR) / 2.0,
				  BUCKET, BAR, C_LIFE, 0.15 + 0.85 * cur / maxc);
	}
	sb_puts(b, "</g>\n");
	sb_free(&t);
	free(diff);
}

void svg_report(struct sbuf *b, const struct ptree *pt, const struct an_result *r)
{
	struct svg s = { .b = b, .pt = pt, .t0 = pt->meta.t0 };
	size_t height;

	s.end = pt->ended ? pt->end_ts : pt->last_ts;
	if (s.end < s.t0 + 1000000)
		s.end = s.t0 + 1000000;	/* at least 1 ms wide */
	s.px_per_ns = (double)(X1 - X0) / (s.end - s.t0);
	s.row_of = xcalloc(pt->nprocs + 1, sizeof(*s.row_of));
	for (size_t i = 0; i < pt->nprocs; i++)
		s.row_of[i] = -1;
	build_rows(&s);
	tl_waits_build(&s.locks, pt);
	height = TOP + s.n * RH + (s.n > 30 ? 30 : 12);
	header(&s, r, height);
	legend(&s);
	for (size_t i = 0; i < s.n; i += 2)
		sb_printf(b, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#f5f7fa\"/>\n",
			  yof(i), WIDTH, RH);
	axis(&s, s.n);
	links(&s);
	for (size_t i = 0; i < s.n; i++) {
		if (s.rows[i].p)
			process_row(&s, i);
		else
			density_row(&s, i);
		free(s.rows[i].fold);
	}
	/* over the rows: arrows between them */
	holder_arrows(&s);
	deadlock_arrows(&s);
	sb_puts(b, "</svg>\n");
	free(s.rows);
	free(s.row_of);
	tl_waits_free(&s.locks);
}
