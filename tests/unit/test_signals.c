// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Who sent a signal: sig_cause() from the siginfo code and how the kernel
 * was handed it, and what the model and the text make of it.
 */
#include <signal.h>
#include <string.h>
#include "event.h"
#include "out_text.h"
#include "ptree.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static void test_causes(void)
{
	is_int(sig_cause(SIGTERM, 0, MPT_SIG_INFO), SIG_BY_PROCESS, "kill(2): SI_USER, a process");
	is_int(sig_cause(SIGUSR1, -1, MPT_SIG_INFO), SIG_BY_PROCESS, "sigqueue: SI_QUEUE, a process");
	is_int(sig_cause(SIGSEGV, -6, MPT_SIG_INFO), SIG_BY_PROCESS, "tgkill (raise): SI_TKILL, a process");
	is_int(sig_cause(SIGALRM, 0, MPT_SIG_PRIV), SIG_BY_TIMER, "alarm: SEND_SIG_PRIV, timer");
	is_int(sig_cause(SIGALRM, -2, MPT_SIG_INFO), SIG_BY_TIMER, "POSIX timer: SI_TIMER");
	is_int(sig_cause(SIGSEGV, 1, MPT_SIG_INFO), SIG_BY_FAULT, "SEGV_MAPERR: fault");
	is_int(sig_cause(SIGSEGV, 0x80, MPT_SIG_INFO), SIG_BY_FAULT, "SIGSEGV with SI_KERNEL: fault");
	is_int(sig_cause(SIGFPE, 1, MPT_SIG_INFO), SIG_BY_FAULT, "FPE_INTDIV: fault");
	is_int(sig_cause(SIGPIPE, 0, MPT_SIG_NOINFO), SIG_BY_PIPE, "a pipe's SIGPIPE: SEND_SIG_NOINFO");
	is_int(sig_cause(SIGXFSZ, 0, MPT_SIG_NOINFO), SIG_BY_LIMIT, "SIGXFSZ: resource limit");
	is_int(sig_cause(SIGINT, 0, MPT_SIG_PRIV), SIG_BY_TERMINAL, "^C: the terminal");
	is_int(sig_cause(SIGKILL, 0, MPT_SIG_PRIV), SIG_BY_KERNEL, "the OOM killer: the kernel");
	is_int(sig_cause(SIGSYS, 1, MPT_SIG_INFO), SIG_BY_SECCOMP, "SYS_SECCOMP: seccomp");
	is_int(sig_cause(SIGIO, -5, MPT_SIG_INFO), SIG_BY_IO, "SI_SIGIO: I/O");
	is_int(sig_cause(SIGKILL, -7, MPT_SIG_INFO), SIG_BY_KERNEL, "SI_DETHREAD: the kernel");
	ok(!sig_cause_name(SIG_BY_PROCESS), "a process has no reason");
	ok(!strcmp(sig_cause_name(SIG_BY_PIPE), "broken pipe"), "broken pipe");
	ok(!strcmp(sig_cause_name(SIG_BY_KERNEL), "kernel"), "kernel");
}

static void feed(struct ptree *pt, void *ev)
{
	const char *why;

	if (event_validate(ev, ((struct mpt_hdr *)ev)->size, &why) || ptree_feed(pt, ev, NULL))
		printf("# refused: %s\n", why);
}

/* a process 100 killed by sig, sent with (code, origin) while bystander ran */
static struct ptree *killed(uint32_t sig, int32_t code, uint32_t origin)
{
	char *argv[] = { "x", NULL };
	struct pt_meta m = { .mode = PT_MODE_COMMAND, .argv = argv, .t0 = T0, .self_pid = 1,
			     .root_pid = 100 };
	struct ptree *pt = ptree_new(&m);
	struct mpt_fork f = { .h = { MPT_EV_FORK, sizeof(f), T0 + MS, 100, 100, 100 }, .ppid = 1,
			      .ptid = 1, .pstart = 1, .comm = "victim" };
	struct mpt_signal s = { .h = { MPT_EV_SIGNAL, sizeof(s), T0 + 2 * MS, 100, 100, 100 },
				.sig = sig, .code = code, .sender_pid = 777, .origin = origin,
				.sender_comm = "bystander" };
	struct mpt_exit e = { .h = { MPT_EV_EXIT, sizeof(e), T0 + 3 * MS, 100, 100, 100 },
			      .status = sig, .ppid = 1, .comm = "victim" };

	feed(pt, &f);
	feed(pt, &s);
	feed(pt, &e);
	return pt;
}

static const char *killer_text(struct ptree *pt)
{
	static struct sbuf b;

	b.len = 0;
	text_killer(&b, pt, ptree_find(pt, 100));
	return b.s ? b.s : "";
}

static void test_model(void)
{
	struct ptree *pt = killed(SIGALRM, 0, MPT_SIG_PRIV);
	struct pt_proc *p = ptree_find(pt, 100);

	ok(p && p->killer_known && p->killer_cause == SIG_BY_TIMER && !p->killer_pid,
	   "alarm: the kernel's, no sender pid");
	ok(!strcmp(killer_text(pt), " from the kernel (timer)"), "text: %s", killer_text(pt));
	ptree_free(pt);
	pt = killed(SIGPIPE, 0, MPT_SIG_NOINFO);
	ok(!strcmp(killer_text(pt), " from the kernel (broken pipe)"), "text: %s", killer_text(pt));
	ptree_free(pt);
	pt = killed(SIGKILL, 0, MPT_SIG_PRIV);
	ok(!strcmp(killer_text(pt), " from the kernel"), "text: %s", killer_text(pt));
	ptree_free(pt);
	pt = killed(SIGTERM, 0, MPT_SIG_INFO);
	p = ptree_find(pt, 100);
	ok(p && p->killer_cause == SIG_BY_PROCESS && p->killer_pid == 777, "kill: the sender");
	ok(!strcmp(killer_text(pt), " from bystander[777]"), "text: %s", killer_text(pt));
	ptree_free(pt);
}

int main(void)
{
	test_causes();
	test_model();
	return tap_done();
}
