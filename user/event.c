// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "event.h"

static const size_t min_size[MPT_EV_NTYPES] = {
	[MPT_EV_FORK] = sizeof(struct mpt_fork),
	[MPT_EV_EXEC] = offsetof(struct mpt_exec, data),
	[MPT_EV_EXIT] = sizeof(struct mpt_exit),
	[MPT_EV_WAIT] = sizeof(struct mpt_wait),
	[MPT_EV_FREE] = sizeof(struct mpt_free),
	[MPT_EV_LOCK] = sizeof(struct mpt_lock),
	[MPT_EV_SIGNAL] = sizeof(struct mpt_signal),
	[MPT_EV_PROC] = offsetof(struct mpt_proc, args),
	[MPT_EV_END] = sizeof(struct mpt_end),
	[MPT_EV_KILL] = sizeof(struct mpt_kill),
	[MPT_EV_LOCK_BEGIN] = sizeof(struct mpt_lock_begin),
	[MPT_EV_WAIT_BEGIN] = sizeof(struct mpt_wait_begin),
	[MPT_EV_DEADLOCK] = sizeof(struct mpt_deadlock),
	[MPT_EV_TEST] = sizeof(struct mpt_test),
	[MPT_EV_STACK] = offsetof(struct mpt_stack, data),
	[MPT_EV_MAPS] = offsetof(struct mpt_maps, data),
	[MPT_EV_GONE] = sizeof(struct mpt_gone),
};

int event_validate(const void *data, size_t len, const char **why)
{
	const struct mpt_hdr *h = data;

	if (len < sizeof(*h)) {
		*why = "record shorter than its header";
		return -EINVAL;
	}
	if (h->type == 0 || h->type >= MPT_EV_NTYPES) {
		*why = "unknown record type";
		return -EINVAL;
	}
	if (h->size != len && !(h->size < len && len - h->size < 8)) {
		*why = "record size does not match its length";
		return -EINVAL;
	}
	if (h->size < min_size[h->type]) {
		*why = "record too short for its type";
		return -EINVAL;
	}
	if (h->type == MPT_EV_EXEC) {
		const struct mpt_exec *e = data;

		if (e->fname_len > MPT_FNAME_MAX || e->args_len > MPT_ARGS_MAX ||
		    offsetof(struct mpt_exec, data) + e->fname_len + e->args_len > h->size) {
			*why = "exec record with impossible lengths";
			return -EINVAL;
		}
	}
	if (h->type == MPT_EV_PROC) {
		const struct mpt_proc *e = data;

		if (e->args_len > MPT_ARGS_MAX ||
		    offsetof(struct mpt_proc, args) + e->args_len > h->size) {
			*why = "process record with impossible lengths";
			return -EINVAL;
		}
	}
	if (h->type == MPT_EV_STACK) {
		const struct mpt_stack *e = data;

		if (e->len > MPT_STACK_BYTES || offsetof(struct mpt_stack, data) + e->len > h->size) {
			*why = "stack record with an impossible length";
			return -EINVAL;
		}
	}
	if (h->type == MPT_EV_MAPS) {
		const struct mpt_maps *e = data;

		if ((uint64_t)e->maps_len + e->ids_len > MPT_MAPS_MAX ||
		    offsetof(struct mpt_maps, data) + (uint64_t)e->maps_len + e->ids_len > h->size) {
			*why = "mappings record with impossible lengths";
			return -EINVAL;
		}
	}
	if (h->type == MPT_EV_DEADLOCK && (((const struct mpt_deadlock *)data)->n < 2 ||
					    ((const struct mpt_deadlock *)data)->n > MPT_DL_MAX)) {
		*why = "deadlock record with an impossible cycle length";
		return -EINVAL;
	}
	if (h->type == MPT_EV_LOCK || h->type == MPT_EV_LOCK_BEGIN) {
		const struct mpt_lock *e = data;
		__u32 kind = h->type == MPT_EV_LOCK ? e->kind : ((const struct mpt_lock_begin *)data)->kind;

		if (kind < MPT_LOCK_FUTEX || kind > MPT_LOCK_SYSV) {
			*why = "lock record of unknown kind";
			return -EINVAL;
		}
	}
	return 0;
}

const char *event_type_name(unsigned type)
{
	static const char *const n[MPT_EV_NTYPES] = {
		[MPT_EV_FORK] = "fork", [MPT_EV_EXEC] = "exec", [MPT_EV_EXIT] = "exit",
		[MPT_EV_WAIT] = "wait", [MPT_EV_FREE] = "free", [MPT_EV_LOCK] = "lock",
		[MPT_EV_SIGNAL] = "signal", [MPT_EV_PROC] = "proc", [MPT_EV_END] = "end",
		[MPT_EV_KILL] = "kill", [MPT_EV_LOCK_BEGIN] = "lock_begin",
		[MPT_EV_WAIT_BEGIN] = "wait_begin", [MPT_EV_DEADLOCK] = "deadlock",
		[MPT_EV_TEST] = "test", [MPT_EV_STACK] = "stack", [MPT_EV_MAPS] = "maps",
		[MPT_EV_GONE] = "gone",
	};

	return type < MPT_EV_NTYPES && n[type] ? n[type] : "unknown";
}

const char *signal_name(int sig)
{
	static const char *const n[] = {
		[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
		[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
		[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
		[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
		[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
		[SIGSYS] = "SIGSYS",
	};
	static __thread char buf[16];

	if (sig > 0 && sig < (int)(sizeof(n) / sizeof(n[0])) && n[sig])
		return n[sig];
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}

/* si_code values of <asm-generic/siginfo.h> (glibc names them in an enum) */
#define MPT_SI_USER 0
#define MPT_SI_KERNEL 0x80
#define MPT_SI_QUEUE (-1)
#define MPT_SI_TIMER (-2)
#define MPT_SI_MESGQ (-3)
#define MPT_SI_ASYNCIO (-4)
#define MPT_SI_SIGIO (-5)
#define MPT_SI_TKILL (-6)

static bool fault_sig(uint32_t sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
}

/* A signal the kernel sent itself: why, from the signal's number. */
static enum sig_cause kernel_cause(uint32_t sig)
{
	switch (sig) {
	case SIGALRM: case SIGVTALRM: case SIGPROF: return SIG_BY_TIMER;
	case SIGPIPE: return SIG_BY_PIPE;
	case SIGINT: case SIGQUIT: case SIGTSTP: case SIGHUP: case SIGWINCH:
	case SIGTTIN: case SIGTTOU: return SIG_BY_TERMINAL;
	case SIGXCPU: case SIGXFSZ: return SIG_BY_LIMIT;
	case SIGIO: return SIG_BY_IO;
	case SIGCHLD: return SIG_BY_CHILD;
	default: return fault_sig(sig) ? SIG_BY_FAULT : SIG_BY_KERNEL;
	}
}

enum sig_cause sig_cause(uint32_t sig, int32_t code, uint32_t origin)
{
	if (origin != MPT_SIG_INFO)
		return kernel_cause(sig);
	switch (code) {
	case MPT_SI_USER: case MPT_SI_QUEUE: case MPT_SI_TKILL: return SIG_BY_PROCESS;
	case MPT_SI_TIMER: return SIG_BY_TIMER;
	case MPT_SI_MESGQ: case MPT_SI_ASYNCIO: case MPT_SI_SIGIO: return SIG_BY_IO;
	case MPT_SI_KERNEL: return kernel_cause(sig);
	default: break;
	}
	if (code < 0)
		return SIG_BY_KERNEL;	/* SI_DETHREAD, SI_ASYNCNL ... */
	/* a positive code is the kernel's own, per signal (SEGV_MAPERR, CLD_EXITED ...) */
	if (fault_sig(sig))
		return SIG_BY_FAULT;
	if (sig == SIGSYS)
		return SIG_BY_SECCOMP;
	return kernel_cause(sig);
}

const char *sig_cause_name(enum sig_cause c)
{
	static const char *const n[SIG_BY_MAX] = {
		[SIG_BY_PROCESS] = NULL, [SIG_BY_KERNEL] = "kernel", [SIG_BY_TIMER] = "timer",
		[SIG_BY_FAULT] = "fault", [SIG_BY_PIPE] = "broken pipe",
		[SIG_BY_TERMINAL] = "terminal", [SIG_BY_LIMIT] = "resource limit",
		[SIG_BY_IO] = "I/O", [SIG_BY_CHILD] = "child", [SIG_BY_SECCOMP] = "seccomp",
	};

	return c < SIG_BY_MAX ? n[c] : "kernel";
}
