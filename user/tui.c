// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The live view: a full-screen process tree drawn with ncurses from the same
 * model the report uses. Events only mark the view dirty and start
 * highlights; a frame is drawn at most every --interval (at once after a
 * key), so a storm of events costs one frame, not one per event. What to
 * draw comes from tui_rows.c (pure, unit-tested); this file owns the
 * terminal, the clock and the keys.
 *
 * Signals (SIGINT, SIGTERM, SIGWINCH) reach the caller's signalfd, never an
 * async handler here: the caller calls tui_resize() and tui_close(), so the
 * terminal is restored on every path that leaves the trace loop.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "log.h"
#include "out_text.h"
#include "tui.h"
#include "tui_rows.h"
#include "util.h"

#define LINGER_NS 5000000000ull	/* reaped processes stay on screen */
#define HIGHLIGHT_NS 1500000000ull
#define CLOCK_NS 1000000000ull	/* an unchanged view is drawn again this often */
#define HEAD_LINES 3		/* title, totals, column titles */
#define OUT_KEEP 65536		/* bytes of the command's output kept */
#define OUT_LINES 4		/* lines of it shown at least; more when rows are free */

enum { PAIR_NEW = 1, PAIR_CHANGE, PAIR_ZOMBIE, PAIR_HEAD, PAIR_BANNER, PAIR_LOCK };

struct tui {
	struct ptree *pt;
	const struct opts *o;
	const struct an_opts *an;
	struct tui_source src;
	SCREEN *scr;
	FILE *in;		/* the terminal's input */
	bool own_in;		/* opened /dev/tty ourselves */
	bool color, utf8;

	struct tr_ann *ann;	/* by slot (pt_proc.slot) */
	size_t nann;
	struct tr_rows rows;
	struct tr_rates rates;
	struct tr_view view;
	struct sbuf line;
	uint64_t lost;

	uint64_t interval, next_draw, t_open, end_ts;
	bool dirty, paused, help, finished, resized;
	bool stale;		/* rows point at forgotten processes: rebuild before use */
	uint64_t next_clock;	/* nothing changed: a frame for the clocks at most this often */
	uint32_t findings;	/* the header's count, from analyze() ... */
	uint64_t findings_at;	/* ... made again after this, not every frame */
	bool asking;		/* ^C: "interrupt the command?" on the status line */
	bool detail;		/* Enter: the selected process's panel */
	int sel_id;		/* the selected process survives a rebuild by id */
	long sel, top;
	bool findings_only;
	char filter[128];
	char edit[128];		/* the filter being typed after '/' */
	char saved[128];	/* the filter before '/', for Esc */
	bool editing;
	char *out;		/* the tail of the command's output */
	size_t outlen;
};

static void grow_ann(struct tui *t)
{
	size_t n = t->pt->nprocs;

	if (n <= t->nann)
		return;
	t->ann = xrealloc(t->ann, n * sizeof(*t->ann));
	memset(t->ann + t->nann, 0, (n - t->nann) * sizeof(*t->ann));
	t->nann = n;
}

void tui_slot_moved(void *ctx, uint32_t from, uint32_t to)
{
	struct tui *t = ctx;

	if (from < t->nann && to < t->nann)
		t->ann[to] = t->ann[from];
}

void tui_forgotten(struct tui *t)
{
	size_t n = t->pt->nprocs;

	/* the slots past the kept processes go to new ones: fresh */
	if (n < t->nann)
		memset(t->ann + n, 0, (t->nann - n) * sizeof(*t->ann));
	/* the rows are rebuilt when next used (a key, a frame), not at every
	 * batch forgotten: a storm forgets many times a frame */
	t->stale = true;
	t->dirty = true;
}

static void build_rows(struct tui *t)
{
	grow_ann(t);
	t->view.filter = t->editing ? t->edit : t->filter;
	t->view.findings_only = t->findings_only;
	tr_build(&t->rows, t->pt, t->ann, &t->view);
	t->stale = false;
}

static struct tr_ann *ann_of(struct tui *t, const struct pt_proc *p)
{
	grow_ann(t);
	return &t->ann[p->slot];
}

static bool term_ok(const char *term)
{
	return term && *term && strcmp(term, "dumb");
}

bool tui_usable(void)
{
	return isatty(STDOUT_FILENO) && term_ok(getenv("TERM"));
}

struct tui *tui_open(struct ptree *pt, const struct opts *o, const struct an_opts *an,
		     const struct tui_source *src)
{
	struct tui *t;
	const char *term = getenv("TERM"), *cs;
	FILE *in = stdin;
	bool own_in = false;

	if (!isatty(STDOUT_FILENO)) {
		p_warn("--live needs a terminal on stdout: showing the event stream instead");
		return NULL;
	}
	if (!term_ok(term)) {
		p_warn("--live needs a terminal type (TERM is %s): showing the event stream instead",
		       term && *term ? "dumb" : "not set");
		return NULL;
	}
	if (!isatty(STDIN_FILENO)) {
		/* keys come from the terminal even when stdin is redirected */
		in = fopen("/dev/tty", "re");
		if (!in) {
			p_warn("--live cannot read keys from /dev/tty: %s: showing the event stream instead",
			       strerror(errno));
			return NULL;
		}
		own_in = true;
	}
	t = xcalloc(1, sizeof(*t));
	t->pt = pt;
	t->o = o;
	t->an = an;
	if (src)
		t->src = *src;
	t->in = in;
	t->own_in = own_in;
	t->interval = o->interval_ns;
	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	t->utf8 = cs && !strcmp(cs, "UTF-8");
	t->scr = newterm(NULL, stdout, in);
	if (!t->scr) {
		p_warn("--live cannot drive the terminal '%s': showing the event stream instead", term);
		if (own_in)
			fclose(in);
		free(t);
		return NULL;
	}
	set_term(t->scr);
	/* raw: ^C is a key here, so the view can ask before the command gets
	 * SIGINT (a kill of mptrace still reaches the caller's signalfd) */
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);	/* Esc cancels a filter without a noticeable pause */
	curs_set(0);
	if (o->color != COLOR_NEVER && has_colors() && !(getenv("NO_COLOR") && *getenv("NO_COLOR"))) {
		t->color = true;
		start_color();
		use_default_colors();
		init_pair(PAIR_NEW, COLOR_GREEN, -1);
		init_pair(PAIR_CHANGE, COLOR_YELLOW, -1);
		init_pair(PAIR_ZOMBIE, COLOR_RED, -1);
		init_pair(PAIR_HEAD, COLOR_CYAN, -1);
		init_pair(PAIR_BANNER, COLOR_BLACK, COLOR_YELLOW);
		init_pair(PAIR_LOCK, COLOR_MAGENTA, -1);
	}
	t->view.linger_ns = LINGER_NS;
	t->view.hl_ns = HIGHLIGHT_NS;
	t->view.utf8 = t->utf8;
	t->view.an = an;
	t->sel_id = 0;
	t->dirty = true;
	return t;
}

int tui_fd(const struct tui *t)
{
	return fileno(t->in);
}

void tui_event(struct tui *t, const struct mpt_hdr *ev, const struct pt_change *chg)
{
	struct pt_proc *p = chg->proc;

	grow_ann(t);
	/* an ended lock wait changes only a LOCKED column and a rate: the
	 * once-a-second frame shows them. A machine's own timed waits (a
	 * runtime's 50 ms futex naps) would otherwise redraw every --interval
	 * for nothing a user needs at once (the idle cost of top) */
	if (ev->type != MPT_EV_LOCK)
		t->dirty = true;
	switch (ev->type) {
	case MPT_EV_FORK:
		if (((const struct mpt_fork *)ev)->flags & MPT_FORK_THREAD)
			break;
		tr_rate_add(&t->rates, TR_R_FORK, ev->ts);
		if (p)
			tr_highlight(ann_of(t, p), TR_HL_NEW, ev->ts, &t->view);
		break;
	case MPT_EV_EXEC:
		tr_rate_add(&t->rates, TR_R_EXEC, ev->ts);
		if (p)
			tr_highlight(ann_of(t, p), TR_HL_CHANGE, ev->ts, &t->view);
		break;
	case MPT_EV_EXIT:
		tr_rate_add(&t->rates, TR_R_EXIT, ev->ts);
		if (p)
			tr_highlight(ann_of(t, p), TR_HL_CHANGE, ev->ts, &t->view);
		break;
	case MPT_EV_FREE:
		/* a zombie that is reaped between two frames still blinks */
		if (chg->other)
			tr_highlight(ann_of(t, chg->other), TR_HL_CHANGE, ev->ts, &t->view);
		break;
	case MPT_EV_LOCK:
		tr_rate_add(&t->rates, TR_R_LOCK, ev->ts);
		break;
	default:
		break;
	}
}

void tui_output(struct tui *t, const char *buf, size_t n)
{
	if (n >= OUT_KEEP) {
		buf += n - OUT_KEEP / 2;
		n = OUT_KEEP / 2;
	}
	if (t->outlen + n > OUT_KEEP) {
		/* drop the older half, from a line start */
		size_t drop = t->outlen + n - OUT_KEEP / 2;
		char *nl = drop < t->outlen ? memchr(t->out + drop, '\n', t->outlen - drop) : NULL;

		drop = nl ? (size_t)(nl + 1 - t->out) : t->outlen;
		memmove(t->out, t->out + drop, t->outlen - drop);
		t->outlen -= drop;
	}
	if (!t->out)
		t->out = xcalloc(1, OUT_KEEP + 1);
	memcpy(t->out + t->outlen, buf, n);
	t->outlen += n;
	t->dirty = true;
}

/* ---- drawing ---- */

/* Lines of output kept, a final line without newline counted. */
static int output_count(const struct tui *t, int max)
{
	int n = 0;

	for (const char *s = t->out, *end = t->out + t->outlen; s < end && n < max; n++) {
		const char *nl = memchr(s, '\n', end - s);

		s = nl ? nl + 1 : end;
	}
	return n;
}

/* The output pane: OUT_LINES (at most a third of the screen), or every
 * row the tree leaves free; and a rule above. */
static int out_lines(const struct tui *t)
{
	int avail = LINES - HEAD_LINES - 1, n = OUT_LINES, spare;

	if (!t->outlen)
		return 0;
	if (n > (avail - 1) / 3)
		n = (avail - 1) / 3;
	spare = avail - 1 - (int)t->rows.n - (t->rows.n ? 0 : 1);
	if (spare > n)
		n = output_count(t, spare) > n ? output_count(t, spare) : n;
	return n > 0 ? n + 1 : 0;
}

static int screen_rows(const struct tui *t)
{
	int h = LINES - HEAD_LINES - 1 - out_lines(t);

	return h > 0 ? h : 0;
}

static void put_line(int y, const struct sbuf *b, attr_t attr)
{
	attrset(attr);
	mvaddnstr(y, 0, b->s ? b->s : "", (int)b->len);
	clrtoeol();
	attrset(A_NORMAL);
}

static void title_text(struct tui *t, struct sbuf *b)
{
	const struct ptree *pt = t->pt;
	uint64_t now = t->view.now;

	b->len = 0;
	switch (t->o->mode) {
	case RUN_TOP:
		sb_puts(b, "mptrace top: the whole system");
		break;
	case RUN_SYSTEM:
		sb_puts(b, "mptrace -a: the whole system");
		break;
	case RUN_PID:
		sb_puts(b, "mptrace -p");
		for (int i = 0; i < t->o->npids; i++)
			sb_printf(b, "%c%u", i ? ',' : ' ', t->o->pids[i]);
		break;
	default:
		sb_puts(b, "mptrace --");
		for (char **a = pt->meta.argv; a && *a; a++) {
			sb_putc(b, ' ');
			sb_put_shell_word(b, *a);
		}
		break;
	}
	if (now > pt->meta.t0) {
		char d[32];

		sb_printf(b, "  [%s]", tr_dur(d, sizeof(d), now - pt->meta.t0));
	}
	if (t->paused)
		sb_puts(b, "  PAUSED");
	if (t->filter[0]) {
		sb_puts(b, "  filter: ");
		sb_put_printable(b, t->filter, strlen(t->filter));
	}
	if (t->findings_only)
		sb_puts(b, "  findings only");
	tr_fit(b, 0, COLS > 0 ? COLS : 0);
}

/* The bottom line: the filter being typed, the end banner, or the keys. */
static void status_text(struct tui *t, struct sbuf *b, attr_t *attr)
{
	const struct pt_proc *root = t->pt->root;

	b->len = 0;
	*attr = A_NORMAL;
	if (t->editing) {
		sb_puts(b, "filter: ");
		sb_put_printable(b, t->edit, strlen(t->edit));
		sb_puts(b, "_   (Enter: keep, Esc: cancel)");
	} else if (t->finished) {
		*attr = t->color ? COLOR_PAIR(PAIR_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
		if (t->o->mode == RUN_COMMAND && root && root->exited) {
			char d[32] = "";

			sb_puts(b, " the command ended: ");
			text_fate(b, root);
			text_killer(b, t->pt, root);
			if (root->exit_ts != PT_NONE && root->exit_ts >= t->pt->meta.t0)
				sb_printf(b, " after %s", tr_dur(d, sizeof(d), root->exit_ts - t->pt->meta.t0));
		} else if (t->o->mode == RUN_COMMAND) {
			sb_puts(b, " the command ended");
		} else {
			sb_puts(b, " tracing ended: every traced process has exited");
		}
		sb_puts(b, "; press q for the report ");
	} else if (t->asking) {
		*attr = t->color ? COLOR_PAIR(PAIR_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
		sb_puts(b, " interrupt the command (SIGINT, as ^C)? y: yes, any other key: no ");
	} else {
		sb_printf(b, "q quit  space %s  / filter  f findings  Enter details  c collapse  ? help",
			  t->paused ? "resume" : "pause");
		if (t->rows.n)
			sb_printf(b, "   row %ld/%zu", t->sel + 1, t->rows.n);
	}
	tr_fit(b, 0, COLS > 1 ? COLS - 1 : 0);	/* the last cell would scroll */
}

static attr_t row_attr(struct tui *t, const struct tr_row *r, enum tr_hl hl, bool selected)
{
	attr_t a = A_NORMAL;
	enum tr_state s = tr_state_of(r->p);

	if (hl == TR_HL_NEW)
		a = t->color ? COLOR_PAIR(PAIR_NEW) | A_BOLD : A_BOLD;
	else if (hl == TR_HL_CHANGE)
		a = t->color ? COLOR_PAIR(PAIR_CHANGE) | A_BOLD : A_BOLD | A_UNDERLINE;
	else if (s == TR_ZOMBIE || (tr_flags(t->pt, r->p, t->an, t->view.now) & TR_F_DEADLOCK))
		a = t->color ? COLOR_PAIR(PAIR_ZOMBIE) | A_BOLD : A_BOLD;
	else if (s == TR_LOCK_WAIT && t->color)
		a = COLOR_PAIR(PAIR_LOCK);
	else if (s == TR_REAPED || r->context)
		a = A_DIM;
	if (selected)
		a |= A_REVERSE;
	return a;
}

static void keep_selection_visible(struct tui *t, int h)
{
	long n = t->rows.n;

	if (t->sel_id) {
		long i = tr_find(&t->rows, t->sel_id);

		if (i >= 0)
			t->sel = i;
	}
	if (t->sel >= n)
		t->sel = n - 1;
	if (t->sel < 0)
		t->sel = 0;
	t->sel_id = n ? t->rows.v[t->sel].p->id : 0;
	if (t->sel < t->top)
		t->top = t->sel;
	if (h > 0 && t->sel >= t->top + h)
		t->top = t->sel - h + 1;
	if (t->top > n - h)
		t->top = n - h > 0 ? n - h : 0;
	if (t->top < 0)
		t->top = 0;
}

static void draw_box(const char *const *lines, size_t n, int w);

static const char *const help_lines[] = {
	"mptrace live view",
	"",
	"  q            leave the view; tracing goes on with the event stream",
	"  ^C           asks, then interrupts the command (SIGINT)",
	"  Enter        details of the selected process (its lock and holder)",
	"  space        pause / resume the display (tracing goes on)",
	"  Up Down      select a process;  PgUp PgDn Home End: scroll",
	"  /            filter by pid or command substring (Enter keeps, Esc cancels)",
	"  f            show only processes with findings (and their ancestors)",
	"  c            collapse / expand the selected process's subtree",
	"  ?            this help (any key closes it)",
	"",
	"  STATE  lock wait (in a lock syscall now), join wait (in wait4/waitid",
	"         now), else the kernel's: running, sleeping, disk wait, stopped;",
	"         zombie (exited, not reaped), reaped (shown 5 s, and to the end)",
	"  TIME   age if running, zombie time if a zombie, lifetime once reaped",
	"  EXIT   exit code or the killing signal (* core dumped)",
	"  LOCKED time spent waiting on locks (finished waits and the current one)",
	"  FLAG   Z zombie too long or never reaped by its parent, O orphan,",
	"         L leaked (alive when the command exited), W waited on a lock,",
	"         D in a deadlock (a cycle of waits that lasted --deadlock-after)",
	"  colours: green new, yellow changed, red zombie or deadlocked,",
	"           dim reaped (or shown only as the ancestor of a match)",
};

static void draw_help(struct tui *t)
{
	size_t n = sizeof(help_lines) / sizeof(help_lines[0]);
	const char *lines[sizeof(help_lines) / sizeof(help_lines[0]) + 2];

	memcpy(lines, help_lines, sizeof(help_lines));
	lines[n++] = "";
	lines[n++] = t->o->mode == RUN_COMMAND ?
		"q leaves the view; the command runs on (^C asks, then interrupts it)" :
		"q leaves the traced processes running";
	draw_box(lines, n, 76);
}

/* A box of lines centred on the screen (help, details). */
static void draw_box(const char *const *lines, size_t n, int w)
{
	int h = (int)n + 2, y0, x0;

	if (w > COLS)
		w = COLS;
	if (h > LINES)
		h = LINES;
	y0 = (LINES - h) / 2;
	x0 = (COLS - w) / 2;
	for (int y = 0; y < h; y++) {
		const char *s = y == 0 || y == h - 1 || y - 1 >= (int)n ? "" : lines[y - 1];

		attrset(A_REVERSE);
		mvhline(y0 + y, x0, ' ', w);
		mvaddnstr(y0 + y, x0 + 1, s, w - 2);
	}
	attrset(A_NORMAL);
}

static void draw_detail(struct tui *t)
{
	struct sbuf b = { 0 };
	const char *lines[16];
	size_t n = 0;
	char *s;

	if (!t->rows.n || (size_t)t->sel >= t->rows.n) {
		t->detail = false;
		return;
	}
	tr_format_detail(&b, t->pt, &t->rows.v[t->sel], &t->view);
	lines[n++] = "process details (any key closes)";
	lines[n++] = "";
	for (s = b.s; s && n < 16; n++) {
		lines[n] = s;
		s = strchr(s, '\n');
		if (s)
			*s++ = '\0';
	}
	draw_box(lines, n, COLS - 4);
	sb_free(&b);
}

#define KSTATE_NS 2500000000ull

/* The kernel's state letter of a live process (R S D T ...), read when a
 * frame shows its row; 0 when it cannot be read. */
static char kernel_state(uint32_t pid)
{
	char path[32], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	paren = strrchr(buf, ')');	/* comm may hold ')' */
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* The last lines of the command's output, above the status line. */
static void draw_output(struct tui *t)
{
	int n = out_lines(t), y0 = LINES - 1 - n;
	const char *end = t->out + t->outlen, *s = end;

	if (!n)
		return;
	/* back from the end over n - 1 line starts (a final newline ends
	 * the last line, it does not start an empty one) */
	if (s > t->out && s[-1] == '\n')
		s--;
	for (int k = 0; k < n - 1; k++) {
		while (s > t->out && s[-1] != '\n')
			s--;
		if (k < n - 2 && s > t->out)
			s--;
	}
	t->line.len = 0;
	sb_puts(&t->line, t->utf8 ? "\u2500\u2500 output " : "-- output ");
	while (tr_columns(t->line.s, t->line.len) < (size_t)COLS)
		sb_puts(&t->line, t->utf8 ? "\u2500" : "-");
	tr_fit(&t->line, 0, COLS);
	put_line(y0, &t->line, A_DIM);
	for (int y = y0 + 1; y < LINES - 1; y++) {
		const char *nl = s < end ? memchr(s, '\n', end - s) : NULL;
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *cr = memrchr(s, '\r', len);

		if (cr) {	/* a progress line: what it shows last */
			len -= cr + 1 - s;
			s = cr + 1;
		}
		t->line.len = 0;
		sb_put_printable(&t->line, s, len);
		tr_fit(&t->line, 0, COLS);
		put_line(y, &t->line, A_NORMAL);
		s = nl ? nl + 1 : end;
	}
}

/* The header's count is the report's: analyze() at this frame's time. */
static uint32_t findings_now(struct tui *t)
{
	struct an_result r;
	uint32_t n;

	analyze(t->pt, t->an, t->view.now, &r);
	n = r.n;
	an_result_free(&r);
	return n;
}

static void draw(struct tui *t)
{
	attr_t attr;
	long i;
	int h;

	build_rows(t);
	/* a whole analysis: once a second is enough for a count */
	if (t->view.now >= t->findings_at || t->finished) {
		t->findings = findings_now(t);
		t->findings_at = t->view.now + CLOCK_NS;
	}
	t->rows.tot.findings = t->findings;
	if (t->src.lost)
		t->lost = t->src.lost(t->src.ctx);
	h = screen_rows(t);
	keep_selection_visible(t, h);

	erase();
	title_text(t, &t->line);
	put_line(0, &t->line, A_BOLD);
	t->line.len = 0;
	tr_format_totals(&t->line, &t->rows.tot, &t->rates, t->lost, t->view.now, COLS);
	put_line(1, &t->line, t->lost ? (t->color ? COLOR_PAIR(PAIR_ZOMBIE) : A_BOLD) : A_NORMAL);
	t->line.len = 0;
	tr_format_titles(&t->line, COLS);
	put_line(2, &t->line, t->color ? COLOR_PAIR(PAIR_HEAD) | A_REVERSE : A_REVERSE);
	/* every row's highlight advances, seen or not, so an off-screen change
	 * does not light up minutes later when scrolled to */
	for (i = 0; i < (long)t->rows.n; i++) {
		struct tr_row *r = &t->rows.v[i];
		struct tr_ann *a = &t->ann[r->p->slot];
		enum tr_hl hl = tr_note(a, tr_state_of(r->p), &t->view);

		if (i < t->top || i >= t->top + h)
			continue;
		/* /proc/PID/stat of each row shown: every frame while the
		 * process is new (it forks, execs, starts to sleep), then at
		 * most every 2.5 s (an idle view draws once a second) */
		if (r->p->exited || t->finished) {
			a->kstate = 0;
		} else if (!a->kstate || t->view.now >= a->kstate_at + KSTATE_NS ||
			   t->view.now < a->kstate_at ||
			   (r->p->start_ts != PT_NONE && t->view.now < r->p->start_ts + 2 * KSTATE_NS)) {
			a->kstate = kernel_state(r->p->pid);
			a->kstate_at = t->view.now;
		}
		r->kstate = a->kstate;
		t->line.len = 0;
		tr_format_row(&t->line, t->pt, r, &t->view, COLS);
		put_line(HEAD_LINES + (int)(i - t->top), &t->line, row_attr(t, r, hl, i == t->sel));
	}
	if (!t->rows.n) {
		t->line.len = 0;
		sb_puts(&t->line, t->view.filter && *t->view.filter ? "  (no process matches the filter)" :
			t->findings_only ? "  (no process with findings)" : "  (no process to show)");
		put_line(HEAD_LINES, &t->line, A_DIM);
	}
	draw_output(t);
	status_text(t, &t->line, &attr);
	put_line(LINES - 1, &t->line, attr);
	if (t->help)
		draw_help(t);
	else if (t->detail)
		draw_detail(t);
	refresh();
	t->dirty = false;
}

/* ---- keys ---- */

static void move_sel(struct tui *t, long to)
{
	long n = t->rows.n;

	if (to >= n)
		to = n - 1;
	if (to < 0)
		to = 0;
	t->sel = to;
	t->sel_id = n ? t->rows.v[to].p->id : 0;
}

static void edit_key(struct tui *t, int c)
{
	size_t n = strlen(t->edit);

	switch (c) {
	case 27:		/* Esc */
		t->editing = false;
		memcpy(t->filter, t->saved, sizeof(t->filter));
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->editing = false;
		memcpy(t->filter, t->edit, sizeof(t->filter));
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (n)
			t->edit[n - 1] = '\0';
		break;
	case 21:		/* ^U */
		t->edit[0] = '\0';
		break;
	default:
		if (c >= 0x20 && c < 0x100 && c != 0x7f && n + 1 < sizeof(t->edit)) {
			t->edit[n] = (char)c;
			t->edit[n + 1] = '\0';
		}
		break;
	}
}

/* Returns TUI_QUIT for q. */
static int key(struct tui *t, int c)
{
	int page = screen_rows(t) > 1 ? screen_rows(t) - 1 : 1;

	if (t->editing) {
		edit_key(t, c);
		return TUI_OK;
	}
	if (t->asking) {
		t->asking = false;
		return c == 'y' || c == 'Y' ? TUI_INTERRUPT : TUI_OK;
	}
	if (c == 'q' || c == 'Q')
		return TUI_QUIT;
	if (c == 3) {		/* ^C (raw mode): ask first while the command runs */
		if (t->o->mode != RUN_COMMAND || t->finished)
			return TUI_QUIT;
		t->asking = true;
		return TUI_OK;
	}
	if ((t->help || t->detail) && c != KEY_RESIZE) {
		t->help = t->detail = false;
		return TUI_OK;
	}
	switch (c) {
	case ' ':
		t->paused = !t->paused;
		break;
	case KEY_UP:
	case 'k':
		move_sel(t, t->sel - 1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(t, t->sel + 1);
		break;
	case KEY_PPAGE:
		move_sel(t, t->sel - page);
		t->top -= page;
		break;
	case KEY_NPAGE:
		move_sel(t, t->sel + page);
		t->top += page;
		break;
	case KEY_HOME:
	case 'g':
		move_sel(t, 0);
		break;
	case KEY_END:
	case 'G':
		move_sel(t, (long)t->rows.n - 1);
		break;
	case '/':
		t->editing = true;
		memcpy(t->saved, t->filter, sizeof(t->saved));
		memcpy(t->edit, t->filter, sizeof(t->edit));
		break;
	case 'f':
		t->findings_only = !t->findings_only;
		break;
	case 'c':
	case '+':
	case '-':
		if (t->rows.n && (size_t)t->sel < t->rows.n) {
			struct tr_row *r = &t->rows.v[t->sel];
			struct tr_ann *a = &t->ann[r->p->slot];

			if (r->has_children || a->collapsed)
				a->collapsed = !a->collapsed;
		}
		break;
	case '?':
	case 'h':
		t->help = true;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->detail = t->rows.n > 0;
		break;
	case 12:		/* ^L: repaint everything */
		clearok(curscr, TRUE);
		break;
	case KEY_RESIZE:
		t->resized = true;
		break;
	default:
		break;
	}
	return TUI_OK;
}

static void apply_resize(struct tui *t)
{
	struct winsize ws;

	t->resized = false;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

int tui_tick(struct tui *t, uint64_t now_ns, bool keys)
{
	bool now_draw = false;
	int c;

	/* getch() until ERR leaves nothing buffered in curses: the next key
	 * makes the terminal readable again */
	while (keys && (c = getch()) != ERR) {
		int r;

		if (t->stale)
			build_rows(t);
		r = key(t, c);

		if (r != TUI_OK)
			return r;
		now_draw = true;
	}
	if (t->resized) {
		apply_resize(t);
		now_draw = true;
	}
	if (!now_draw && (t->paused || now_ns < t->next_draw))
		return TUI_OK;
	/* no event, no key: the same frame but for its clocks (ages, rates,
	 * fading highlights, rows leaving after LINGER), once a second */
	if (!now_draw && !t->dirty && now_ns < t->next_clock)
		return TUI_OK;
	/* the trace is over: its clock stopped at the end */
	t->view.now = t->finished ? t->end_ts : now_ns;
	draw(t);
	t->next_clock = now_ns + CLOCK_NS;
	/* keys redraw at once; the data no more often than --interval */
	if (!now_draw || now_ns >= t->next_draw)
		t->next_draw = now_ns + t->interval;
	return TUI_OK;
}

void tui_resize(struct tui *t)
{
	t->resized = true;
}

void tui_finish(struct tui *t, uint64_t end_ts)
{
	t->finished = true;
	t->asking = false;
	t->end_ts = end_ts;
	/* frozen at the end, highlights would never fade */
	for (size_t i = 0; i < t->nann; i++)
		t->ann[i].hl = TR_HL_NONE;
	t->paused = false;
	/* the trace is over: the final tree stays whole until q */
	t->view.linger_ns = UINT64_MAX;
	t->next_draw = 0;
	t->dirty = true;
}

void tui_close(struct tui *t)
{
	if (!t)
		return;
	endwin();
	delscreen(t->scr);
	if (t->outlen) {
		/* the screen is gone: what the command printed is not */
		fflush(stdout);
		if (write(STDOUT_FILENO, t->out, t->outlen) < 0)
			p_debug("cannot write the command's output: %s", strerror(errno));
	}
	if (t->own_in)
		fclose(t->in);
	tr_rows_free(&t->rows);
	sb_free(&t->line);
	free(t->ann);
	free(t->out);
	free(t);
}
