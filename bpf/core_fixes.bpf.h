/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * CO-RE shims: one commented block per kernel or architecture difference
 * mptrace meets.
 */
#ifndef MPTRACE_CORE_FIXES_BPF_H
#define MPTRACE_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - bpf_core_field_offset(type, member)))
#endif

/* Keep the compiler from merging a clamp into an unclamped copy: the
 * verifier must see the bound on the register it checks. */
#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

/*
 * sched_process_exit gained a `group_dead` argument in Linux 6.16; mptrace
 * reads task->signal->live instead (zero once the last thread is in
 * do_exit), which every kernel with BTF has.
 *
 * struct file_lock_core (Linux 6.9, "filelock: add some new helpers")
 * holds flc_blocker and flc_pid; before it, struct file_lock had them as
 * fl_blocker and fl_pid. The BPF side picks one with
 * bpf_core_type_exists(struct file_lock_core); user/loader.c leaves the
 * filelock programs out on a kernel that has neither.
 */
struct file_lock___pre69 {
	struct file_lock___pre69 *fl_blocker;
	unsigned int fl_pid;
} __attribute__((preserve_access_index));

/*
 * Syscall numbers, and where the saved user registers keep the number of
 * the syscall a task is in (read at sched_switch and sched_process_wait from
 * bpf_task_pt_regs()). futex_waitv/wake/wait (Linux 5.16/6.7) have the same
 * number on every architecture. 32-bit compat tasks number their syscalls
 * differently (i386 getdents64 is x86_64's semtimedop): their syscalls are
 * skipped (IS_COMPAT_SYSCALL, TS_COMPAT in thread_info).
 */
#if defined(__TARGET_ARCH_x86)
#define NR_semop 65
#define NR_wait4 61
#define NR_fcntl 72
#define NR_flock 73
#define NR_futex 202
#define NR_semtimedop 220
#define NR_waitid 247
/* Direct loads: regs is bpf_task_pt_regs()'s BTF-typed pointer and task a
 * BTF-typed task, so the verifier guards each load (CO-RE relocates it) and
 * no helper is called: a call is dear where every return goes through a
 * mitigation thunk (AMD SRSO). Number fields only (see leader_start()). */
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SC_ARG1(regs) ((regs)->di)
#define SC_ARG2(regs) ((regs)->si)
#define SC_ARG3(regs) ((regs)->dx)
#define SC_ARG4(regs) ((regs)->r10)
#define IS_COMPAT_SYSCALL(task) ((task)->thread_info.status & 0x0002 /* TS_COMPAT */)
/* waits for input from another process: read readv poll select recvfrom
 * recvmsg msgrcv epoll_wait mq_timedreceive pselect6 ppoll epoll_pwait recvmmsg
 * epoll_pwait2 */
#define IS_INPUT_WAIT(nr) ((nr) == 0 || (nr) == 19 || (nr) == 7 || (nr) == 23 || (nr) == 45 || \
			   (nr) == 47 || (nr) == 70 || (nr) == 232 || (nr) == 243 || (nr) == 270 || \
			   (nr) == 271 || (nr) == 281 || (nr) == 299 || (nr) == 441)
/* select, pselect6 (nfds first) and poll, ppoll (nfds second): with no fd
 * they are sleeps (Python before 3.11 sleeps in select) */
#define IS_SELECT(nr) ((nr) == 23 || (nr) == 270)
#define IS_POLL(nr) ((nr) == 7 || (nr) == 271)
#elif defined(__TARGET_ARCH_arm64)
#define NR_fcntl 25
#define NR_flock 32
#define NR_waitid 95
#define NR_futex 98
#define NR_semtimedop 192
#define NR_semop 193
#define NR_wait4 260
#define SYSCALL_NR(regs) BPF_CORE_READ((regs), syscallno)
#define SC_ARG1(regs) PT_REGS_PARM1_CORE_SYSCALL(regs)
#define SC_ARG2(regs) PT_REGS_PARM2_CORE_SYSCALL(regs)
#define SC_ARG3(regs) PT_REGS_PARM3_CORE_SYSCALL(regs)
#define SC_ARG4(regs) PT_REGS_PARM4_CORE_SYSCALL(regs)
/* read readv pselect6 ppoll epoll_pwait mq_timedreceive msgrcv recvfrom
 * recvmsg recvmmsg epoll_pwait2 (arm64 has no poll, select, epoll_wait) */
#define IS_INPUT_WAIT(nr) ((nr) == 63 || (nr) == 65 || (nr) == 72 || (nr) == 73 || (nr) == 22 || \
			   (nr) == 183 || (nr) == 188 || (nr) == 207 || (nr) == 212 || (nr) == 243 || \
			   (nr) == 441)
#define IS_SELECT(nr) ((nr) == 72)
#define IS_POLL(nr) ((nr) == 73)
/* arm64: a 32-bit task (TIF_32BIT, bit 22 of thread_info.flags) */
#define IS_COMPAT_SYSCALL(task) (BPF_CORE_READ((task), thread_info.flags) & (1UL << 22))
#else
#error "mptrace: syscall numbers for this architecture are missing in core_fixes.bpf.h"
#endif
#define NR_futex_waitv 449
#define NR_futex_wake 454
#define NR_futex_wait 455

#endif
