// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A live trace: spawn the command (or attach, or trace everything), arm the
 * BPF side, feed every ring-buffer record through event_validate() into the
 * model, stream lines as they come, and report at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "analyze.h"
#include "daemon.h"
#include "deadlock.h"
#include "event.h"
#include "forget.h"
#include "loader.h"
#include "log.h"
#include "out_json.h"
#include "out_junit.h"
#include "out_text.h"
#include "output.h"
#include "ptree.h"
#include "reconcile.h"
#include "record.h"
#include "pty.h"
#include "snapshot.h"
#include "spawn.h"
#include "stacks.h"
#include "trace.h"
#include "tui.h"
#include "util.h"

struct trace {
	const struct opts *o;
	struct ptree *pt;
	struct loader *ld;
	struct an_opts an;
	struct text_style st;
	FILE *out;		/* event stream and report */
	bool stream;
	FILE *jsonl;
	struct rec_writer *rec;
	struct tui *tui;
	struct stk *stk;	/* stacks of long waits, or NULL (--no-stacks) */
	struct sbuf line;
	pid_t child;
	bool child_done;
	bool sigchld;		/* a SIGCHLD came since the last waitpid */
	int child_status;
	uint64_t child_reaped_ts;	/* when mptrace's waitpid reaped the command */
	bool stop;
	bool interrupted;	/* a signal asked the command to stop: no end banner */
	bool ended;		/* the end record is in: the trace is over */
	int cmd_out;		/* the command's output, read end, while a live view may show it */
	struct pty_relay pty;	/* -u on a terminal: the command's own terminal */
	bool own_session;	/* -u: the command leads its own session */
	int sigfd, epfd;
	uint64_t bad_records;
	uint64_t next_zcheck;
	uint64_t prev_ts;	/* -r: the last stream line */
	uint64_t next_scan, next_walk;
	unsigned drained;	/* ring records taken in this pump */
	int markfd;		/* test-boundary markers from the runner (MPTRACE_FD) */
	uint64_t kill_tree_at;	/* --on-deadlock=kill: then the rest of the tree */
	int rec_err;
	uint64_t inferred_releases;	/* infer_lost_releases() */
	bool drop_frees;		/* MPTRACE_TEST_DROP_FREES */
	uint64_t inferred_by_list;	/* of those, from a dead parent's list of children */
	uint64_t inferred_adopted;	/* of those, reaped by the adopter */
	uint64_t inferred_untimed;	/* of those, at a time not known */
	struct daemon *dm;	/* --metrics, --findings-jsonl, --metrics-file, daemon */
	struct reconcile rc;	/* after lost records: processes the kernel no longer has */
	size_t untrimmed;	/* processes forgotten since the last malloc_trim() */
	uint64_t next_trim;
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t mono(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

static int on_record(void *ctx, const void *data, size_t len);

/* A stack's process mappings, read now while it lives, go first (and into
 * the recording); then the stack is unwound for the wait that follows it. */
static void on_stack_record(struct trace *t, const struct mpt_hdr *h)
{
	struct pt_stack *st;

	if (h->type == MPT_EV_STACK && !stk_has_maps(t->stk, h)) {
		struct mpt_maps *m = stk_read_maps(h);
		const struct pt_proc *p = ptree_find(t->pt, h->pid);

		/* gone already: a fork child that did not exec has its parent's */
		for (; !m && p && !p->nexecs && p->parent; p = p->parent)
			m = stk_inherit_maps(t->stk, p->parent->pid, p->parent->kstart, h);
		if (m)
			on_record(t, m, m->h.size);
		free(m);
	}
	st = stk_feed(t->stk, h);
	if (st)
		ptree_add_stack(t->pt, st);
}

/*
 * bpf_find_vma() fails with EBUSY when another BPF program on this CPU used
 * it a moment before (another mptrace tracing at the same time, say), and
 * BPF then gives a shared futex the private key (process, address): two
 * processes waiting on one lock would be two locks, a deadlock between them
 * no cycle. The waiter lives (its wait ends now, or goes on): its mappings
 * give the key the kernel uses. Done here, before the model and the
 * recording, so a replay sees the same key.
 */
/*
 * The name of the file behind a futex, as BPF's path walk gives it: glibc
 * maps a semaphore under a temporary name, links it to the name the program
 * gave and unlinks the temporary, so a "(deleted)" mapping is named by
 * another entry of its folder with the same inode. Into comps, last
 * component first; nothing if comps has a name already.
 */
static void futex_path_comps(char comps[MPT_PATH_COMPS][MPT_COMP_LEN], char *path, uint64_t ino)
{
	static const char deleted[] = " (deleted)";
	size_t n = strlen(path), dl = sizeof(deleted) - 1;
	char name[NAME_MAX + 1] = "", *slash;
	int k = 0;

	if (comps[0][0] || path[0] != '/')
		return;
	slash = strrchr(path, '/');
	if (n > dl && !strcmp(path + n - dl, deleted)) {
		DIR *d;
		struct dirent *de;
		struct stat st;

		path[n - dl] = '\0';
		*slash = '\0';
		d = opendir(slash == path ? "/" : path);
		while (d && (de = readdir(d)))
			if (de->d_ino == ino && !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
			    st.st_ino == ino) {
				snprintf(name, sizeof(name), "%s", de->d_name);
				break;
			}
		if (d)
			closedir(d);
		if (!name[0])
			return;	/* no name left (shared anonymous memory is "/dev/zero (deleted)") */
	} else {
		snprintf(name, sizeof(name), "%s", slash + 1);
		*slash = '\0';
	}
	snprintf(comps[k++], MPT_COMP_LEN, "%s", name);
	while (k < MPT_PATH_COMPS && (slash = strrchr(path, '/'))) {
		if (slash[1])
			snprintf(comps[k++], MPT_COMP_LEN, "%s", slash + 1);
		*slash = '\0';
	}
}

static const void *fix_futex_key(const void *data, size_t len, void *copy, size_t cap)
{
	const struct mpt_hdr *h = data;
	char (*comps)[MPT_COMP_LEN];
	char fpath[PATH_MAX];
	__u32 *flags;
	__u64 *dev, *ino, *off;
	uint64_t kdev, kino, koff;
	char *maps;
	size_t n;
	int found;

	if (len > cap)
		return data;
	if (h->type == MPT_EV_LOCK && ((const struct mpt_lock *)data)->kind == MPT_LOCK_FUTEX) {
		struct mpt_lock *l = copy;

		flags = &l->flags;
		dev = &l->dev, ino = &l->ino, off = &l->off;
		comps = l->comps;
	} else if (h->type == MPT_EV_LOCK_BEGIN &&
		   ((const struct mpt_lock_begin *)data)->kind == MPT_LOCK_FUTEX) {
		struct mpt_lock_begin *l = copy;

		flags = &l->flags;
		dev = &l->dev, ino = &l->ino, off = &l->off;
		comps = l->comps;
	} else {
		return data;
	}
	memcpy(copy, data, len);
	if (!(*flags & MPT_LOCK_KEY_FAIL))
		return data;
	maps = proc_read(h->pid, "maps", 1u << 22, &n);
	if (!maps)
		return data;
	/* a private key holds (tgid, address) */
	fpath[0] = '\0';
	found = maps_futex_key(maps, n, *ino, &kdev, &kino, &koff, fpath, sizeof(fpath));
	free(maps);
	if (found < 0)
		return data;
	*flags &= ~MPT_LOCK_KEY_FAIL;
	if (found) {
		*flags &= ~MPT_LOCK_PRIVATE;
		*dev = kdev;
		*ino = kino;
		*off = koff;
		futex_path_comps(comps, fpath, kino);
	}
	return copy;
}

/* Every record, live or synthesized, goes through here. */
static int on_record(void *ctx, const void *data, size_t len)
{
	struct trace *t = ctx;
	const struct mpt_hdr *h = data;
	struct pt_change chg;
	const char *why;
	union {
		struct mpt_lock l;
		struct mpt_lock_begin b;
	} fixed;

	if (t->ended)
		return 0;	/* after the end (the live view's banner) */
	if (event_validate(data, len, &why)) {
		if (!t->bad_records++)
			p_warn("malformed record from the kernel side: %s", why);
		return 0;
	}
	data = fix_futex_key(data, len, &fixed, sizeof(fixed));
	h = data;
	if (h->type == MPT_EV_STACK && !t->stk)
		return 0;
	if (ptree_feed(t->pt, h, &chg))
		return 0;
	if (t->stk && h->type == MPT_EV_STACK)
		on_stack_record(t, h);
	if (t->rec && !t->rec_err) {
		t->rec_err = rec_write(t->rec, data, len, mono());
		if (t->rec_err)
			p_err("cannot write the recording '%s': %s", t->o->record_file, strerror(-t->rec_err));
	}
	if (t->stk && h->type != MPT_EV_STACK)
		stk_feed(t->stk, h);
	if (t->stk && chg.lock)
		name_private_lock(t->stk, chg.lock);
	if (h->type == MPT_EV_STACK || h->type == MPT_EV_MAPS)
		return 0;	/* what the model's waits now carry */
	if (t->jsonl) {
		json_event(&t->line, t->pt, h);
		sb_putc(&t->line, '\n');
		fwrite(t->line.s, 1, t->line.len, t->jsonl);
		t->line.len = 0;
	}
	if (t->dm)
		daemon_event(t->dm, t->pt, h, &chg);
	if (t->tui)
		tui_event(t->tui, h, &chg);
	if (t->stream) {
		text_event(&t->line, &t->st, t->pt, h, &chg);
		if (t->line.len)
			fwrite(t->line.s, 1, t->line.len, t->out);
		t->line.len = 0;
	}
	return 0;
}

/*
 * From the ring: the same, within a budget, so that a storm faster than we
 * drain cannot keep the loop from signals, keys and the clock. The record
 * that spends the budget is consumed; the rest waits for the next pump.
 */
#define RING_BUDGET 20000

/* The tests' way to a release the kernel never reports (docs/design.md
 * "Releases that never come"): MPTRACE_TEST_DROP_FREES drops the kernel's
 * release records of every process but the command. */
static bool dropped_free(const struct trace *t, const void *data, size_t len)
{
	const struct mpt_hdr *h = data;

	return t->drop_frees && len >= sizeof(*h) && h->type == MPT_EV_FREE &&
	       !(t->pt->root && h->pid == t->pt->root->pid);
}

static int ring_record(void *ctx, const void *data, size_t len)
{
	struct trace *t = ctx;

	if (!dropped_free(t, data, len))
		on_record(ctx, data, len);
	if (++t->drained >= RING_BUDGET)
		return -EAGAIN;
	return 0;
}

static void feed_synthetic(struct trace *t, const void *rec, size_t len)
{
	on_record(t, rec, len);
}

static void feed_gone(void *ctx, const void *rec, size_t len)
{
	feed_synthetic(ctx, rec, len);
}

/* Records the ring dropped so far (not the untracked processes: nothing of
 * theirs is in the model). */
static uint64_t ring_drops(struct trace *t)
{
	__u64 lost[MPT_EV_MAX], track, n = 0;

	loader_lost(t->ld, lost, &track);
	for (int i = 0; i < MPT_EV_MAX; i++)
		n += lost[i];
	return n;
}

/* The stream says so as soon as a zombie passes the threshold. */
static void zombie_alerts(struct trace *t, uint64_t now)
{
	struct ptree *pt = t->pt;

	if (!t->pt->zombies_now || now < t->next_zcheck)
		return;
	t->next_zcheck = now + 50000000ull;
	for (struct pt_proc *p = pt->zombies; p; p = p->znext) {
		/* in order of exit: the ones after it are younger still (their
		 * counted time is at most their age) */
		if (p->exit_ts != PT_NONE && now <= p->exit_ts + t->an.zombie_threshold_ns)
			break;
		if (p->zombie_noted || !an_zombie_over(pt, p, &t->an, now) ||
		    p->killed_by_us || (p->parent && p->parent->killed_by_us))
			continue;
		p->zombie_noted = now;
		if (t->dm)
			daemon_zombie(t->dm, pt, p, now);
		if (t->stream) {
			text_zombie_alert(&t->line, &t->st, pt, p, now);
			fwrite(t->line.s, 1, t->line.len, t->out);
			t->line.len = 0;
		}
	}
}

/* A command in a session of its own (-u) is a process group the terminal's
 * keys no longer reach: the signal goes to the whole group. */
static void forward(struct trace *t, int sig)
{
	if (t->child > 0 && !t->child_done)
		kill(t->own_session ? -t->child : t->child, sig);
}

static void handle_signals(struct trace *t)
{
	struct signalfd_siginfo si;

	while (read(t->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			t->sigchld = true;
			continue;
		}
		if (si.ssi_signo == SIGHUP && t->o->daemon) {
			daemon_reopen(t->dm);
			continue;
		}
		if (si.ssi_signo == SIGWINCH) {
			if (t->tui)
				tui_resize(t->tui);
			pty_resize(&t->pty);
			continue;
		}
		/* once the command has ended (the live view's banner, --wait-all)
		 * a signal ends tracing instead of reaching a dead child */
		if (t->o->mode != RUN_COMMAND || t->child_done) {
			t->stop = true;
			continue;
		}
		t->interrupted = true;
		/* A terminal's ^C reaches the command's process group by itself
		 * (si_code SI_KERNEL) unless -u gave it a session of its own; a
		 * kill aimed at mptrace is passed on. */
		if (si.ssi_code != SI_KERNEL || t->own_session)
			forward(t, si.ssi_signo);
	}
	/* Only after a SIGCHLD (it stays pending until read here): each
	 * wait4 runs every tracer's sched_process_wait program, and pump()
	 * runs hundreds of times a second under a process storm. */
	if (t->child > 0 && !t->child_done && t->sigchld) {
		int st;
		pid_t r;

		t->sigchld = false;
		r = waitpid(t->child, &st, WNOHANG);
		if (r == t->child) {
			t->child_done = true;
			t->child_status = st;
			t->child_reaped_ts = mono();
		}
	}
}

/* q in the live view: the view closes at once and the event stream takes
 * over; a command mptrace started runs on (^C at the terminal reaches it as
 * usual); with nothing else to wait for (the command ended, or mptrace top,
 * -a, -p) tracing ends and the report follows. */
static void quit_view(struct trace *t)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, tui_fd(t->tui), NULL);
	tui_close(t->tui);
	t->tui = NULL;
	if (t->o->mode == RUN_COMMAND && !t->child_done && !t->ended) {
		t->stream = !t->o->quiet;
		fprintf(t->out, "mptrace: the live view is closed; tracing goes on with the event "
			"stream (^C interrupts the command)\n");
		fflush(t->out);
	} else {
		/* tracing ends: the last records are not streamed (mptrace top
		 * would dump a burst of the whole system's events) */
		t->stop = true;
	}
}

/* ^C in the view, confirmed: as a terminal's ^C (which the view's raw mode
 * kept from them), SIGINT to every live process of the tree in the
 * command's process group, leaves first; the view stays until the command
 * has ended, then the report follows. */
static void interrupt_command(struct trace *t)
{
	struct ptree *pt = t->pt;
	pid_t pg;

	if (t->o->mode != RUN_COMMAND || t->child_done) {
		t->stop = true;
		return;
	}
	t->interrupted = true;
	pg = getpgid(t->child);
	for (size_t i = pt->nprocs; pg > 0 && i-- > 0;) {
		struct pt_proc *p = pt->procs[i];

		/* alive in the model: no exit seen, so the pid is still its own */
		if (!p->exited && !p->is_root && getpgid(p->pid) == pg)
			kill(p->pid, SIGINT);
	}
	forward(t, SIGINT);
}

/* Signals a live process of the tree and records that mptrace did. */
static void signal_proc(struct trace *t, struct pt_proc *p, int sig, uint32_t reason)
{
	struct mpt_kill k = { .h = { .type = MPT_EV_KILL, .size = sizeof(k), .ts = mono(),
				     .pid = p->pid, .tid = p->pid, .start = p->kstart },
			      .sig = sig, .reason = reason };

	/* alive in the model: no exit seen, so the pid is still its own */
	if (p->exited || kill(p->pid, sig))
		return;
	feed_synthetic(t, &k, sizeof(k));
}

/* Everything still alive in the traced tree, leaves first. */
static void signal_tree(struct trace *t, int sig)
{
	struct ptree *pt = t->pt;

	for (size_t i = pt->nprocs; i-- > 0;)
		if (!pt->procs[i]->seen_late)
			signal_proc(t, pt->procs[i], sig, MPT_KILL_DEADLOCK);
}

/*
 * --on-deadlock: report (only), kill (SIGKILL so CI moves on), stop
 * (SIGSTOP for a debugger). kill ends the cycle's members first and the
 * rest of the tree a moment later, so that parents can reap them and the
 * report is not buried under zombies mptrace itself made.
 */
static void on_deadlock_action(struct trace *t, const struct mpt_deadlock *dl)
{
	if (t->o->on_deadlock == DL_REPORT)
		return;
	if (t->o->on_deadlock == DL_STOP) {
		signal_tree(t, SIGSTOP);
		p_warn("deadlock: the traced processes are stopped (SIGSTOP) for a debugger; "
		       "SIGCONT or SIGKILL them to go on");
		return;
	}
	/* children before parents: a parent in the cycle can still reap */
	for (size_t i = t->pt->nprocs; i-- > 0;) {
		struct pt_proc *p = t->pt->procs[i];

		for (uint32_t k = 0; k < dl->n; k++)
			if (p->pid == dl->m[k].pid && !p->exited)
				signal_proc(t, p, SIGKILL, MPT_KILL_DEADLOCK);
	}
	t->kill_tree_at = mono() + 300000000ull;
}

/* The stack of a wait in progress, from the BPF table, before its begin record. */
static void scan_stack(struct trace *t, const struct mpt_hdr *begin)
{
	struct mpt_stack *e;

	if (!t->stk)
		return;
	e = malloc(sizeof(*e));
	if (e && !loader_stack(t->ld, begin->tid, begin->ts, e))
		on_record(t, e, e->h.size);
	free(e);
}

#define HOLDER_MAPS_MAX 64	/* processes whose mappings are read in one scan */

/*
 * A semaphore wait long enough for a deadlock has no holder the kernel can
 * name: the mappings of the processes that could hold it, read now and
 * recorded, let the model infer one (pt_infer_holder, dl_maps_wanted).
 */
static void read_holder_maps(struct trace *t, uint64_t now)
{
	const struct pt_proc *v[HOLDER_MAPS_MAX];
	size_t n = dl_maps_wanted(t->pt, now, t->o->deadlock_after_ns, v, HOLDER_MAPS_MAX);

	for (size_t i = 0; i < n; i++) {
		struct mpt_hdr h = { .pid = v[i]->pid, .start = v[i]->kstart, .ts = now };
		struct mpt_maps *m = stk_read_maps(&h);

		if (m)
			on_record(t, m, m->h.size);
		free(m);
	}
}

/*
 * Waits in progress, from the BPF tables: a deadlocked wait never ends, so
 * its end record never comes. They enter the model (and a recording) as
 * begin records; then the wait-for graph is searched for cycles.
 */
static void scan_waits(struct trace *t, uint64_t now)
{
	const struct opts *o = t->o;
	struct mpt_lock_begin *lb;
	struct mpt_wait_begin *wb;
	size_t nl, nw;
	struct mpt_deadlock dl;
	uint64_t min_age = o->lock_thr_ns > 10000000ull ? o->lock_thr_ns : 10000000ull;

	if (now < t->next_scan)
		return;
	t->next_scan = now + 50000000ull;
	/* no wait old enough that no walk has seen: no walk (it visits every
	 * bucket of both, 16,384 each, whatever they hold); at most every
	 * 200 ms: under -a some thread of the machine always has a wait of
	 * some ms in progress, and a wait is found in time for the live view
	 * and long before --deadlock-after (the last walk is at the end) */
	if (now < t->next_walk || !loader_waits_since(t->ld, now - min_age))
		goto detect;
	t->next_walk = now + 200000000ull;
	if (loader_scan_waits(t->ld, now - min_age, &lb, &nl, &wb, &nw))
		return;
	/* what ended meanwhile must reach the model first */
	loader_consume(t->ld);
	for (size_t i = 0; i < nl; i++)
		if (!pt_wait_known(t->pt, lb[i].h.pid, lb[i].h.tid, lb[i].h.ts)) {
			scan_stack(t, &lb[i].h);
			feed_synthetic(t, &lb[i], sizeof(lb[i]));
		}
	for (size_t i = 0; i < nw; i++)
		if (!pt_wait_known(t->pt, wb[i].h.pid, wb[i].h.tid, wb[i].h.ts)) {
			scan_stack(t, &wb[i].h);
			feed_synthetic(t, &wb[i], sizeof(wb[i]));
		}
	free(lb);
	free(wb);
detect:
	read_holder_maps(t, now);
	if (!dl_detect(t->pt, now, o->deadlock_after_ns, &dl))
		return;
	dl.h = (struct mpt_hdr){ .type = MPT_EV_DEADLOCK, .size = sizeof(dl), .ts = now };
	feed_synthetic(t, &dl, sizeof(dl));
	on_deadlock_action(t, &dl);
}

/* The command's output goes to the view while it is open, then to stdout
 * (stderr when a report is on stdout, as the command's own stdout then):
 * from the pipe (*fd is cmd_out) and from its pty (the pty's master). */
static void drain_fd(struct trace *t, int *fd)
{
	char buf[16384];
	ssize_t n;

	if (*fd < 0)
		return;
	for (;;) {
		n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;		/* EOF (a pty: EIO): the command and its children closed it */
		if (t->tui)
			tui_output(t->tui, buf, n);
		else if (write(stdout_wanted(t->o) ? STDERR_FILENO : STDOUT_FILENO, buf, n) < 0)
			break;		/* gone: stop copying */
	}
	close(*fd);
	*fd = -1;
}

static void drain_output(struct trace *t)
{
	drain_fd(t, &t->cmd_out);
	drain_fd(t, &t->pty.master);
}

/*
 * Runner markers: "begin NAME" / "end NAME" datagrams on the socket passed
 * as MPTRACE_FD. The kernel stamps each one when it is sent (SO_TIMESTAMPNS,
 * wall clock), so a test boundary falls where the runner put it, not where
 * mptrace happened to read it.
 */
static void read_markers(struct trace *t)
{
	char buf[256], cbuf[CMSG_SPACE(sizeof(struct timespec))];

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct mpt_test m = { .h = { .type = MPT_EV_TEST, .size = sizeof(m) } };
		int64_t wall = -1;
		ssize_t n = recvmsg(t->markfd, &mh, MSG_DONTWAIT);
		char *name;

		if (n <= 0)
			return;
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				wall = ts.tv_sec * 1000000000ll + ts.tv_nsec;
			}
		}
		if (!strncmp(buf, "begin ", 6)) {
			m.flags = MPT_TEST_BEGIN;
			name = buf + 6;
		} else if (!strncmp(buf, "end ", 4)) {
			m.flags = MPT_TEST_END;
			name = buf + 4;
		} else {
			p_warn("ignoring a test marker that is neither 'begin NAME' nor 'end NAME'");
			continue;
		}
		m.h.ts = wall >= t->pt->meta.wall_t0_ns ?
			 t->pt->meta.t0 + (uint64_t)(wall - t->pt->meta.wall_t0_ns) : mono();
		memcpy(m.name, name, strnlen(name, sizeof(m.name)));
		feed_synthetic(t, &m, sizeof(m));
	}
}

/* mptrace top with no report: what is kept is only for its view, which
 * walks every kept process each frame */
static bool view_only(const struct opts *o)
{
	return o->mode == RUN_TOP && !o->top_report && !o->json_file && !o->svg_file &&
	       !o->perfetto_file && !o->junit_file;
}

/* -a, top, -p: the oldest reaped processes are folded away (forget.h);
 * the live view keeps its rows for LINGER first, by the clock (once the
 * events stop, the newest event's time would keep the last ones for good).
 * Nothing to do is O(1). */
static void forget(struct trace *t)
{
	uint64_t now = t->tui ? mono() : t->pt->last_ts;
	size_t n = fg_step(t->pt, &t->an, now, t->tui ? tui_slot_moved : NULL, t->tui);

	if (!n)
		return;
	if (t->tui)
		tui_forgotten(t->tui);
	/* thousands of small blocks were freed among kept ones: give the
	 * free pages back, or the heap's holes count as RSS for days; not
	 * after every small batch (it walks the whole heap) */
	t->untrimmed += n;
	if (t->untrimmed >= FG_KEEP / 2 || mono() >= t->next_trim) {
		malloc_trim(0);
		t->untrimmed = 0;
		t->next_trim = mono() + 1000000000ull;
	}
}

/* What the metrics take from the BPF side: drops and the ring's fill. */
static void fleet_counts(struct trace *t, struct mx_self *s)
{
	__u64 lost[MPT_EV_MAX], track;

	loader_lost(t->ld, lost, &track);
	s->lost = track + t->bad_records;
	for (int i = 0; i < MPT_EV_MAX; i++)
		s->lost += lost[i];
	s->ring_used = loader_ring_used(t->ld);
}

static void pump(struct trace *t, int timeout_ms)
{
	struct epoll_event ev[16];
	bool sig = false, mark = false, keys = false, scrape = false;
	int n;

	/* the stream and the event lines are read while the trace runs */
	fflush(t->out);
	if (t->jsonl)
		fflush(t->jsonl);	/* a reader follows the lines as they come */
	/* the last drain stopped at its budget: more is waiting */
	n = epoll_wait(t->epfd, ev, 16, t->drained >= RING_BUDGET ? 0 : timeout_ms);
	/* what else woke us: most wakeups are ring records, and the signalfd,
	 * the markers, the terminal and a scrape are read when they have something */
	for (int i = 0; i < n; i++) {
		sig |= ev[i].data.fd == t->sigfd;
		mark |= ev[i].data.fd == t->markfd;
		keys |= t->tui && ev[i].data.fd == tui_fd(t->tui);
		scrape |= t->dm && ev[i].data.fd == daemon_fd(t->dm);
	}
	t->drained = 0;
	loader_consume(t->ld);
	rc_step(&t->rc, t->pt, ring_drops(t), t->drained < RING_BUDGET, mono(), feed_gone, t);
	drain_output(t);
	pty_keys(&t->pty);
	/* level-triggered: a pending signal is reported until it is read */
	if (sig || n < 0)
		handle_signals(t);
	if (mark || (n < 0 && t->markfd >= 0))
		read_markers(t);
	zombie_alerts(t, mono());
	scan_waits(t, mono());
	if (t->kill_tree_at && mono() >= t->kill_tree_at) {
		t->kill_tree_at = 0;
		signal_tree(t, SIGKILL);
	}
	forget(t);
	if (scrape) {		/* a scrape waits for its page */
		struct mx_self s = { 0 };

		fleet_counts(t, &s);
		daemon_tick(t->dm, t->pt, &s);
	}
	if (t->rec)
		rec_tick(t->rec, mono());
	if (t->tui) {
		int k = tui_tick(t->tui, mono(), keys);

		if (k == TUI_QUIT)
			quit_view(t);
		else if (k == TUI_INTERRUPT)
			interrupt_command(t);
	}
}

/* Zombies whose reaper is outside the traced tree wait for it: an adopter
 * (usually init), or the untraced parent of a -p target. Give it a moment
 * so the report can say who reaped and when. Some inits reap lazily (this
 * sandbox's pid 1 every ~2 s), hence up to 2.5 s; only runs that leave
 * such zombies behind pay it. */
static bool unsettled(struct trace *t)
{
	struct ptree *pt = t->pt;

	for (const struct pt_proc *p = pt->zombies; p; p = p->znext)
		if (p->adopted_by || p->autoreap || !pt_reaper_traced(pt, p))
			return true;
	return false;
}

static bool leak_candidates_alive(const struct ptree *pt)
{
	for (size_t i = 0; i < pt->nprocs; i++)
		if (pt->procs[i]->alive_at_root_exit && !pt->procs[i]->exited)
			return true;
	return false;
}

/* What mptrace sent SIGKILL (--on-deadlock=kill, --kill-leaks) and has not
 * seen exit yet: it will, in a moment, unless the machine is busy. */
static bool sigkilled_alive(const struct ptree *pt)
{
	for (size_t i = 0; i < pt->nprocs; i++)
		if (pt->procs[i]->sigkilled_by_us && !pt->procs[i]->exited)
			return true;
	return false;
}

/* --leak-grace: descendants still running when the command exited get
 * that long (from the command's exit) to finish before they are leaks,
 * as nextest's leak-timeout does; their exits end the wait early. */
static void leak_grace(struct trace *t)
{
	uint64_t from = t->pt->root_exit_ts != PT_NONE ? t->pt->root_exit_ts : mono();
	uint64_t deadline = from + t->o->leak_grace_ns;

	while (leak_candidates_alive(t->pt) && !t->stop && mono() < deadline)
		pump(t, 5);
}

/* The command, which mptrace reaped, is not yet released in the model. */
static bool root_unreleased(struct trace *t)
{
	struct pt_proc *r = t->pt->root;

	return r && t->child_done && r->state != PT_REAPED;
}

/*
 * mptrace reaped the command itself: it knows who and when without waiting
 * a grace period for the kernel's release record. Once the command's exit
 * is in, the release is written as a record of mptrace's own (recorded and
 * replayed like any other); the kernel's, coming later, changes nothing.
 */
static void release_root(struct trace *t)
{
	struct pt_proc *r = t->pt->root;
	struct mpt_free f = { 0 };

	if (!root_unreleased(t) || r->state != PT_ZOMBIE)
		return;
	f.h = (struct mpt_hdr){ .type = MPT_EV_FREE, .size = sizeof(f), .ts = t->child_reaped_ts,
				.pid = r->pid, .tid = r->pid, .start = r->kstart };
	f.reaper = t->pt->meta.self_pid;
	f.nwps = 1;
	f.wps[0].ts = t->child_reaped_ts;
	feed_synthetic(t, &f, sizeof(f));
}

/*
 * A reap is seen where the kernel frees the task, in an RCU callback a grace
 * period later (10-20 ms here). membarrier(MEMBARRIER_CMD_GLOBAL) returns
 * after a grace period (synchronize_rcu()): the releases of the reaps made
 * before it are then due, and come in at once.
 */
#define SETTLE_QUIET_NS 250000000ull

static void settle(struct trace *t)
{
	uint64_t deadline = mono() + 2500000000ull, quiet;
	bool busy = leak_candidates_alive(t->pt);
	size_t z;

	/* A run that leaves nothing behind (no zombie, nothing running: the
	 * command reaped by mptrace, its children by it) has nothing in
	 * flight to wait for. Else records get a moment: releases, and the
	 * exec of a child forked just before the command exited (a leak is
	 * named by what it runs). */
	pump(t, busy ? 2 : 0);
	release_root(t);
	if (t->pt->zombies_now)
		syscall(SYS_membarrier, 1 /* MEMBARRIER_CMD_GLOBAL */, 0, 0);
	if (busy || t->pt->zombies_now)
		pump(t, 2);
	/* a burst of releases comes in batches: until they stop for 250 ms
	 * (RCU callbacks run late on a busy machine: 50 ms once left releases
	 * of a 2,000-process storm out, and with them false zombie findings) */
	z = t->pt->zombies_now;
	quiet = mono() + SETTLE_QUIET_NS;
	/* and what mptrace killed exits: on a busy CPU a SIGKILLed process
	 * can run (and die) after the command's own exit is in, and would
	 * stay "running" in the report without its killer */
	while ((t->pt->zombies_now || root_unreleased(t) || sigkilled_alive(t->pt)) &&
	       mono() < deadline) {
		if (mono() >= quiet && !unsettled(t) && !root_unreleased(t) && !sigkilled_alive(t->pt))
			break;
		pump(t, 2);
		release_root(t);
		if (t->pt->zombies_now != z) {
			z = t->pt->zombies_now;
			quiet = mono() + SETTLE_QUIET_NS;
		}
	}
}

/* The kernel still has `p` as a zombie: /proc/PID is a zombie of its name. */
static bool kernel_zombie(const struct pt_proc *p)
{
	char path[32], buf[512], *open_paren, *close_paren;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", p->pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ')
		return false;
	*close_paren = '\0';
	return close_paren[2] == 'Z' && !strncmp(open_paren + 1, p->comm, MPT_COMM_LEN);
}

/*
 * On this 6.18 machine, with every CPU busy, about one release in a
 * thousand never reaches the ring (sched_process_free does not fire for it
 * within the run; not understood, not counted as lost). At the end, a
 * zombie of the model that the kernel no longer has was released; mptrace
 * writes that release itself (recorded like any other record) when it
 * knows the reaper:
 * - its parent still lives: only the parent reaps a child while it lives;
 * - its exit woke its parent's blocking wait, which then ended (the reap
 *   time is that wait's end).
 * - its parent exited (single-threaded) without it in its list of children
 *   (BPF listed them at the parent's death, MPT_EXIT_KIDS_LISTED): the
 *   parent had reaped it before;
 * - it was in that list: the adopter reaped it.
 * The reap time is the end of the wait its exit woke, else the first wait
 * point of the reaper after the exit (as for a release BPF sees) when BPF
 * still has them all; else it is not known, and no zombie time past its
 * exit (or its parent's death, for an adopted one) is claimed. Otherwise (a
 * parent with threads, an entry another process took) it stays a zombie of
 * the parent, adopted.
 */
static int kid_left(struct trace *t, const struct pt_proc *p)
{
	const struct pt_proc *pa = p->parent;

	/* a thread dying beside the last may not have handed its children
	 * to it yet: only a single-threaded parent's list is all of them;
	 * and a child another process had before (CLONE_PARENT makes the
	 * forker's parent its parent) was never in this list */
	if (!pa->exited || !pa->kids_listed || pa->threads > 1 ||
	    (p->adopted_by && p->adopted_ts != pa->exit_ts))
		return -1;
	return loader_kid_left(t->ld, p->pid, p->kstart);
}

/* The wait points of its reaper, into `f`. True when the reap is among
 * them: a wait named it after its exit, or the reaper's ring goes back to
 * the exit; else the first point after the exit may be later than the reap. */
static bool reap_time_known(struct trace *t, const struct pt_proc *p, struct mpt_free *f)
{
	uint64_t from = loader_wait_points(t->ld, f->reaper, p->pid, f);

	if (f->nwps && f->wps[0].target == p->pid && f->wps[0].ts >= p->exit_ts)
		return true;
	return from <= p->exit_ts;
}

static void infer_lost_releases(struct trace *t)
{
	struct ptree *pt = t->pt;
	uint64_t now = mono();

	for (size_t i = 0; i < pt->nprocs; i++) {
		struct pt_proc *p = pt->procs[i];
		struct mpt_free f = { 0 };
		uint64_t ts = now;
		int left = -1;

		if (p->state != PT_ZOMBIE || !p->parent || p->autoreap || p->seen_late ||
		    kernel_zombie(p))
			continue;
		f.reaper = p->parent->pid;
		if (p->parent->exited && !p->parent_woke_ts) {
			left = kid_left(t, p);
			if (left == 0)
				ts = p->parent->exit_ts;
			else if (left == 1 && p->adopted_by)
				f.reaper = p->adopted_by;
			else
				continue;
		}
		f.h = (struct mpt_hdr){ .type = MPT_EV_FREE, .size = sizeof(f), .ts = ts,
					.pid = p->pid, .tid = p->pid, .start = p->kstart };
		if (p->parent_woke_ts) {
			f.h.ts = p->parent_woke_ts;
			f.nwps = 1;
			f.wps[0].ts = p->parent_woke_ts;
			f.wps[0].target = p->pid;
		} else if (!reap_time_known(t, p, &f)) {
			/* its reaper's waits since its exit are gone: when is not
			 * known, so no zombie time past what is certain (its exit,
			 * or its parent's death for an adopted one) is claimed */
			f.nwps = 0;
			f.h.ts = left == 1 && p->adopted_ts != PT_NONE ? p->adopted_ts : p->exit_ts;
			t->inferred_untimed++;
		}
		feed_synthetic(t, &f, sizeof(f));
		t->inferred_releases++;
		t->inferred_by_list += left >= 0;
		t->inferred_adopted += left == 1;
	}
}

/* --kill-leaks: SIGTERM what outlived the command, SIGKILL after the grace. */
static void kill_leaks(struct trace *t)
{
	struct ptree *pt = t->pt;
	uint64_t deadline;
	int pending;

	for (int round = 0; round < 2; round++) {
		pending = 0;
		for (size_t i = 0; i < pt->nprocs; i++) {
			struct pt_proc *p = pt->procs[i];

			if (!p->alive_at_root_exit || p->exited || an_leak_allowed(p, &t->an))
				continue;
			signal_proc(t, p, round ? SIGKILL : SIGTERM, MPT_KILL_LEAK);
			pending++;
		}
		if (!pending)
			return;
		deadline = mono() + (round ? 1000000000ull : t->o->kill_grace_ns);
		while (mono() < deadline) {
			bool alive = false;

			pump(t, 10);
			for (size_t i = 0; i < pt->nprocs && !alive; i++)
				alive = pt->procs[i]->killed_by_us && !pt->procs[i]->exited;
			if (!alive)
				return;
		}
	}
}

static void end_record(struct trace *t)
{
	struct mpt_end e = { 0 };

	e.h.type = MPT_EV_END;
	e.h.size = sizeof(e);
	e.h.ts = mono();
	loader_lost(t->ld, e.lost, &e.lost_track);
	/* type 0 counts the records dropped here as malformed */
	e.lost[0] = t->bad_records;
	feed_synthetic(t, &e, sizeof(e));
}

/* Takes what is left in the ring, then the end record: the model's end is
 * in step with what the kernel counted. Later records are not the trace's. */
static void end_trace(struct trace *t)
{
	t->next_scan = t->next_walk = 0;	/* waits still in progress, whatever the cadence */
	pump(t, 0);
	do {
		t->drained = 0;
		loader_consume(t->ld);
	} while (t->drained >= RING_BUDGET);
	end_record(t);
	t->ended = true;
}

/* records dropped and processes left untracked: both make the tree incomplete */
static uint64_t tui_lost(void *ctx)
{
	struct trace *t = ctx;
	__u64 lost[MPT_EV_MAX], track, n;

	loader_lost(t->ld, lost, &track);
	n = track;
	for (int i = 0; i < MPT_EV_MAX; i++)
		n += lost[i];
	return n;
}

static void open_view(struct trace *t)
{
	struct tui_source src = { .ctx = t, .lost = tui_lost };
	struct epoll_event ev = { .events = EPOLLIN };

	t->tui = tui_open(t->pt, t->o, &t->an, &src);
	if (!t->tui)
		return;
	t->stream = false;
	/* keys wake the loop at once instead of at its next 20 ms tick */
	ev.data.fd = tui_fd(t->tui);
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
}

/* The pty's output wakes the loop; so do keys, unless the live view takes
 * them (the command's terminal then gets none, as with </dev/null). */
static void watch_pty(struct trace *t)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (t->pty.master < 0)
		return;
	ev.data.fd = t->pty.master;
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	if (t->tui)
		return;
	ev.data.fd = pty_keys_start(&t->pty);
	if (ev.data.fd >= 0)
		epoll_ctl(t->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
}

static int attach_pids(struct trace *t)
{
	const struct opts *o = t->o;
	struct snapshot s;
	size_t before = 0, now;

	/* Track the roots first, then their descendants until no new one
	 * appears: whatever forks after its parent is tracked is seen by BPF. */
	for (int i = 0; i < o->npids; i++)
		loader_track(t->ld, o->pids[i], 0);
	for (int pass = 0; pass < 5; pass++) {
		if (snapshot_read(&s, t->pt->meta.t0)) {
			p_err("cannot read /proc: %s", strerror(errno));
			return EXIT_ENV;
		}
		now = snapshot_select(&s, o->pids, o->npids, false);
		for (size_t i = 0; i < s.n; i++)
			if (s.v[i].selected)
				loader_track(t->ld, s.v[i].pid, 0);
		if (now == before || pass == 4) {
			snapshot_order(&s);
			for (size_t i = 0; i < s.n; i++)
				if (s.v[i].selected)
					feed_synthetic(t, &s.v[i].rec, s.v[i].rec.h.size);
			snapshot_free(&s);
			/* never an empty report without a word */
			if (!now)
				p_warn("the processes given to -p were gone when /proc was read: "
				       "the report holds at most their exits");
			break;
		}
		before = now;
		snapshot_free(&s);
	}
	return 0;
}

static int attach_system(struct trace *t)
{
	struct snapshot s;

	if (snapshot_read(&s, t->pt->meta.t0)) {
		p_err("cannot read /proc: %s", strerror(errno));
		return EXIT_ENV;
	}
	snapshot_select(&s, NULL, 0, true);
	snapshot_order(&s);
	for (size_t i = 0; i < s.n; i++)
		feed_synthetic(t, &s.v[i].rec, s.v[i].rec.h.size);
	snapshot_free(&s);
	return 0;
}

static bool all_gone(struct trace *t)
{
	return t->pt->live == 0;
}

static int open_outputs(struct trace *t)
{
	const struct opts *o = t->o;
	int err = open_streams(o, stderr, &t->out, &t->jsonl);

	if (err)
		return err;
	/* The stream is written line by line but flushed per batch. */
	setvbuf(t->out, NULL, _IOFBF, 1 << 16);
	t->st = text_style_for(t->out, o);
	t->st.prev_ts = &t->prev_ts;
	t->stream = !o->quiet;
	return 0;
}

/* The runner's end of the marker socket is inherited by the command, and
 * MPTRACE_FD names it in the command's environment. */
static int open_markers(struct trace *t, int marks[2])
{
	char num[16];
	int on = 1;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, marks)) {
		p_err("cannot create the test-marker socket: %s", strerror(errno));
		return -1;
	}
	/* the command's end survives exec, on a high number that runners'
	 * own redirections (bats uses 3 and 4) leave alone; mptrace keeps its own */
	{
		int high = fcntl(marks[1], F_DUPFD, 100);

		if (high >= 0) {
			close(marks[1]);
			marks[1] = high;
		}
	}
	fcntl(marks[1], F_SETFD, 0);
	setsockopt(marks[0], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	snprintf(num, sizeof(num), "%d", marks[1]);
	setenv("MPTRACE_FD", num, 1);
	t->markfd = marks[0];
	return 0;
}

/*
 * Mutex holders rely on glibc keeping the owner's tid 8 bytes into a
 * pthread_mutex_t (struct __pthread_mutex_s: __lock, __count, __owner).
 * Check it on this system's glibc at run time: lock a mutex and look.
 */
static uint32_t mutex_owner_offset(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	int owner;

	pthread_mutex_lock(&m);
	memcpy(&owner, (char *)&m + 8, sizeof(owner));
	pthread_mutex_unlock(&m);
	if (owner != gettid()) {
		p_warn("glibc %s does not keep a mutex's owner where mptrace expects it: "
		       "mutex holders are not reported", gnu_get_libc_version());
		return 0;
	}
	return 8;
}

static int exit_status_of(int st)
{
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int setup_signals(struct trace *t)
{
	sigset_t set;
	struct epoll_event ev = { .events = EPOLLIN };

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	t->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->sigfd < 0 || t->epfd < 0) {
		p_err("cannot set up signal handling: %s", strerror(errno));
		return EXIT_ENV;
	}
	ev.data.fd = t->sigfd;	/* pump() reads it only when it is ready */
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->sigfd, &ev);
	ev.data.fd = loader_fd(t->ld);
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, loader_fd(t->ld), &ev);
	if (t->markfd >= 0) {
		ev.data.fd = t->markfd;
		epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->markfd, &ev);
	}
	return 0;
}

int trace_run(const struct opts *o)
{
	struct trace t = { .o = o, .sigfd = -1, .epfd = -1, .child = -1, .cmd_out = -1,
			   .sigchld = true,	/* an exit before the signals were blocked */
			   .markfd = -1, .pty = { .master = -1, .in = -1 } };
	int marks[2] = { -1, -1 };
	struct loader_opts lo = { 0 };
	struct pt_meta meta = { 0 };
	struct spawn sp = { .go_fd = -1, .err_fd = -1 };
	struct an_result res;
	int status = 0, err;

	t.an.zombie_threshold_ns = o->zombie_thr_ns;
	t.an.leak_grace_ns = o->leak_grace_ns;
	t.an.check = o->check;
	t.an.allow_leak = o->allow_leak;
	t.an.nallow = o->nallow;
	err = open_outputs(&t);
	if (!err)
		err = daemon_check(o);
	if (err)
		return err;
	if (o->mode == RUN_PID) {
		for (int i = 0; i < o->npids; i++) {
			if (!pid_exists(o->pids[i])) {
				p_usage("no process with pid %u for -p", o->pids[i]);
				return EXIT_USAGE;
			}
		}
	}
	if (o->mode == RUN_COMMAND && open_markers(&t, marks))
		return EXIT_ENV;
	if (o->mode == RUN_COMMAND) {
		int out[2] = { -1, -1 };

		/* The command writing to the terminal would scroll the view
		 * away: the view shows its output instead. */
		if (o->live && tui_usable() && !pipe2(out, O_CLOEXEC)) {
			fcntl(out[0], F_SETFL, O_NONBLOCK);
			t.cmd_out = out[0];
		} else if (stdout_wanted(o)) {
			/* A report on stdout stays parseable: the command's
			 * stdout goes where its stderr goes (docs/json.md). */
			out[1] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
			if (out[1] < 0) {
				p_err("cannot redirect the command's stdout: %s", strerror(errno));
				close(t.markfd);
				close(marks[1]);
				return EXIT_ENV;
			}
		}
		err = spawn_prepare(&sp, o->cmd, o->user, out[1]);
		if (out[1] >= 0)
			close(out[1]);
		t.own_session = sp.own_session;
		t.pty.master = sp.pty;
		sp.pty = -1;
		if (t.pty.master >= 0)
			fcntl(t.pty.master, F_SETFL, O_NONBLOCK);
		close(marks[1]);
		if (err) {
			if (t.cmd_out >= 0)
				close(t.cmd_out);
			close(t.markfd);
			return err;
		}
		t.child = sp.pid;
	}

	lo.self_pid = getpid();
	lo.trace_all = o->mode == RUN_SYSTEM || o->mode == RUN_TOP;
	lo.locks = !o->no_locks;
	lo.lock_min_ns = o->lock_thr_ns;
	lo.ring_mb = o->ring_mb;
	lo.verbose = o->verbose;
	lo.mutex_owner_off = o->no_locks ? 0 : mutex_owner_offset();
	/* the tests' way to the user-space futex key (fix_futex_key) without a second tracer */
	lo.no_find_vma = getenv("MPTRACE_TEST_NO_FIND_VMA") != NULL;
	lo.maps_by_libbpf = getenv("MPTRACE_TEST_MAPS_BY_LIBBPF") != NULL;
	t.drop_frees = getenv("MPTRACE_TEST_DROP_FREES") != NULL;
	lo.stacks = !o->no_stacks;
	err = loader_open(&t.ld, &lo, ring_record, &t);
	if (err) {
		if (o->mode == RUN_COMMAND)
			spawn_abort(&sp);
		return err;
	}
	if (o->mode == RUN_COMMAND && loader_track(t.ld, sp.pid, 0)) {
		p_err("cannot track the command's pid: %s", strerror(errno));
		spawn_abort(&sp);
		loader_close(t.ld);
		return EXIT_ENV;
	}
	err = setup_signals(&t);
	if (err)
		goto out;
	if (daemon_wanted(o)) {
		/* after the signals are blocked: the HTTP thread inherits the mask */
		err = daemon_open(&t.dm, o, &t.an);
		if (err)
			goto out;
		if (daemon_fd(t.dm) >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = daemon_fd(t.dm) };

			epoll_ctl(t.epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
		}
	}

	meta.mode = o->mode == RUN_COMMAND ? PT_MODE_COMMAND :
		    o->mode == RUN_PID ? PT_MODE_PID : PT_MODE_SYSTEM;
	meta.argv = o->mode == RUN_COMMAND ? o->cmd : NULL;
	meta.self_pid = getpid();
	meta.root_pid = o->mode == RUN_COMMAND ? (uint32_t)sp.pid : 0;
	meta.features = loader_features(t.ld);
	meta.t0 = mono();
	meta.wall_t0_ns = now_ns(CLOCK_REALTIME);
	t.pt = ptree_new(&meta);
	rc_init(&t.rc, meta.t0);
	if (!o->no_stacks)
		t.stk = stk_new(true);
	if (t.pt->forgets)
		t.pt->fg = fg_new(view_only(o) ? FG_KEEP_VIEW : FG_KEEP, FG_RING,
				  o->live ? FG_LIVE_GRACE_NS : 0);
	if (o->record_file) {
		struct rec_params rp = { .lock_threshold_ns = o->lock_thr_ns,
					 .flags = o->no_locks ? REC_F_NO_LOCKS : 0 };

		err = rec_open(&t.rec, o->record_file, &t.pt->meta, &rp);
		if (err) {
			err = output_open_error(o->record_file, "recording", -err);
			goto out;
		}
	}
	if (o->live)
		open_view(&t);

	if (o->mode == RUN_PID)
		err = attach_pids(&t);
	else if (o->mode == RUN_SYSTEM || o->mode == RUN_TOP)
		err = attach_system(&t);
	if (err)
		goto out;
	if (o->mode == RUN_COMMAND) {
		err = spawn_release(&sp, o->cmd);
		if (err) {
			t.child = -1;
			goto out;
		}
		watch_pty(&t);
	}

	for (;;) {
		/* records, signals, keys and scrapes wake it at once; the
		 * timeout is for the periodic work (zombie alerts, the wait
		 * scan: every 50 ms) and the view's clocks */
		pump(&t, 50);
		if (t.stop)
			break;
		if (o->mode == RUN_COMMAND && t.child_done && (!o->wait_all || all_gone(&t)))
			break;
		if (o->mode == RUN_PID && all_gone(&t))
			break;
	}
	/* the command has ended: the terminal is the caller's again */
	pty_keys_stop(&t.pty);
	if (o->mode == RUN_COMMAND && !o->wait_all)
		leak_grace(&t);
	settle(&t);
	if (o->mode == RUN_COMMAND && o->kill_leaks) {
		kill_leaks(&t);
		settle(&t);
	}
	infer_lost_releases(&t);
	if (t.inferred_releases)
		p_warn("%llu release%s never seen (the kernel has %s no more): %llu reaped by the "
		       "parent, %llu by the adopter (%llu known from a dead parent's list of "
		       "children, the others from a living parent or the wait the exit woke)",
		       (unsigned long long)t.inferred_releases, t.inferred_releases == 1 ? "" : "s",
		       t.inferred_releases == 1 ? "it" : "them",
		       (unsigned long long)(t.inferred_releases - t.inferred_adopted),
		       (unsigned long long)t.inferred_adopted, (unsigned long long)t.inferred_by_list);
	if (t.inferred_untimed)
		p_warn("%llu of them at a time not known: their zombie time counts until their "
		       "exit, or their parent's death if adopted", (unsigned long long)t.inferred_untimed);
	if (t.tui && !t.stop && !t.interrupted && !o->exit_on_end) {
		/* the trace ends now, as it would without the view; the view
		 * stays, with a banner and its clock stopped, until q or a signal */
		end_trace(&t);
		tui_finish(t.tui, t.pt->end_ts);
		while (t.tui && !t.stop)
			pump(&t, 20);
	}
	if (!t.ended)
		end_trace(&t);
	if (t.tui) {
		tui_close(t.tui);
		t.tui = NULL;
	}
	drain_output(&t);

	analyze(t.pt, &t.an, t.pt->end_ts, &res);
	status = o->mode == RUN_COMMAND && t.child_done ? exit_status_of(t.child_status) : 0;
	err = write_outputs(t.pt, &res, &t.an, o, t.out, &t.st);
	if (!err && t.dm) {
		struct mx_self s = { 0 };

		fleet_counts(&t, &s);
		err = daemon_finish(t.dm, t.pt, &res, &s);
	}
	if (!err && o->check && !res.passed)
		status = o->check_exitcode;
	if (err)
		status = err;
	an_result_free(&res);
	if (t.bad_records)
		p_warn("%llu malformed records were dropped", (unsigned long long)t.bad_records);
	err = 0;

out:
	if (t.tui)
		tui_close(t.tui);
	if (t.markfd >= 0)
		close(t.markfd);
	if (t.cmd_out >= 0)
		close(t.cmd_out);
	pty_keys_stop(&t.pty);
	if (t.pty.master >= 0)
		close(t.pty.master);
	if (t.rec && rec_close(t.rec) && !err)
		p_err("cannot finish the recording '%s'", o->record_file);
	if (sp.go_fd >= 0) {
		/* tracing failed before the command was let go: it never runs */
		spawn_abort(&sp);
		t.child = -1;
	}
	if (o->mode == RUN_COMMAND && t.child > 0 && !t.child_done) {
		/* tracing failed after the command started: let it finish */
		kill(t.child, SIGTERM);
		waitpid(t.child, NULL, 0);
	}
	daemon_close(t.dm);
	loader_close(t.ld);
	if (t.jsonl && t.jsonl != stdout)
		fclose(t.jsonl);
	if (t.out != stderr && t.out != stdout)
		fclose(t.out);
	else
		fflush(t.out);
	rc_free(&t.rc);
	if (t.pt)
		fg_free(t.pt->fg);
	ptree_free(t.pt);
	stk_free(t.stk);
	sb_free(&t.line);
	if (t.sigfd >= 0)
		close(t.sigfd);
	if (t.epfd >= 0)
		close(t.epfd);
	return err ? err : status;
}
