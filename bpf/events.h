/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The wire ABI between bpf/mptrace.bpf.c and user/: every record the ring
 * buffer carries, and every record an .mpt recording stores.
 *
 * Rules (this is an ABI): fixed-width fields only, the type first, no
 * bool/pointers/implicit padding, sizes multiple of 8. Bump MPT_ABI_VERSION on
 * any change; the recording format stores it.
 */
#ifndef MPTRACE_EVENTS_H
#define MPTRACE_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MPT_ABI_VERSION 5

#define MPT_COMM_LEN 16
#define MPT_FNAME_MAX 256	/* exec filename bytes kept */
#define MPT_ARGS_MAX 1024	/* exec argv bytes kept (NUL-separated) */
#define MPT_PATH_COMPS 8	/* lock path: last components kept */
#define MPT_COMP_LEN 32		/* bytes per path component */

enum mpt_ev_type {
	MPT_EV_FORK = 1,	/* a process or thread was created */
	MPT_EV_EXEC = 2,	/* a process exec'd */
	MPT_EV_EXIT = 3,	/* a process's last thread exited (group dead) */
	MPT_EV_WAIT = 4,	/* a blocked wait4/waitid resumed (a join wait ended) */
	MPT_EV_FREE = 5,	/* a zombie was released (sched_process_free) */
	MPT_EV_LOCK = 6,	/* a blocked lock wait resumed */
	MPT_EV_SIGNAL = 7,	/* a signal was sent to a traced process */
	MPT_EV_PROC = 8,	/* userspace: a process found in the /proc snapshot */
	MPT_EV_END = 9,		/* userspace: tracing ended; what was lost */
	MPT_EV_KILL = 10,	/* userspace: mptrace signalled a leak (--kill-leaks) */
	MPT_EV_LOCK_BEGIN = 11,	/* userspace, from the BPF wait table: a lock wait in progress */
	MPT_EV_WAIT_BEGIN = 12,	/* userspace, from the BPF wait table: a child wait in progress */
	MPT_EV_DEADLOCK = 13,	/* userspace: a wait-for cycle outlived --deadlock-after */
	MPT_EV_TEST = 14,	/* a process exec'd with MPTRACE_TEST=, or a runner's marker */
	MPT_EV_STACK = 15,	/* the user stack of a long wait, as it blocked */
	MPT_EV_MAPS = 16,	/* userspace: a process's file mappings, to read its stacks */
	MPT_EV_MAX,		/* the types the kernel side counts drops of (mpt_end.lost[]) */
	/* userspace, after records were lost: a process the model held as
	 * running or a zombie that the kernel no longer has (its exit or
	 * release record was dropped) */
	MPT_EV_GONE = MPT_EV_MAX,
	MPT_EV_NTYPES
};

/* Common header of every record. For FORK it describes the child. */
struct mpt_hdr {
	__u32 type;		/* enum mpt_ev_type */
	__u32 size;		/* bytes of the whole record */
	__u64 ts;		/* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u32 pid;		/* tgid of the process the event is about */
	__u32 tid;		/* thread id */
	__u64 start;		/* group leader's start_time (ns): pid + start = one process */
};

#define MPT_FORK_THREAD 0x1	/* CLONE_THREAD: a new thread, not a process */

struct mpt_fork {
	struct mpt_hdr h;	/* the child */
	__u32 ppid;		/* tgid of the forking process */
	__u32 ptid;		/* tid of the forking thread */
	__u64 pstart;		/* forking process's start_time */
	__u32 flags;		/* MPT_FORK_* */
	__u32 _pad;
	char comm[MPT_COMM_LEN];
};

#define MPT_EXEC_TRUNC_ARGS 0x1	/* argv longer than MPT_ARGS_MAX */
#define MPT_EXEC_TRUNC_FNAME 0x2

/* Variable size: data holds fname_len bytes of filename then args_len
 * bytes of NUL-separated argv; size = offsetof(data) + both, rounded up to 8. */
struct mpt_exec {
	struct mpt_hdr h;
	__u32 old_pid;		/* tid that called execve (differs when a thread exec'd) */
	__u32 flags;		/* MPT_EXEC_* */
	__u32 fname_len;
	__u32 args_len;
	char comm[MPT_COMM_LEN];
	char data[MPT_FNAME_MAX + MPT_ARGS_MAX];
};

#define MPT_EXIT_AUTOREAP 0x1	/* parent ignores SIGCHLD: the kernel reaps at once */
#define MPT_EXIT_KIDS_LISTED 0x2	/* every child left in its list at the group's death is in the
				 * BPF map `kids_left`: a child not there was reaped before */

struct mpt_exit {
	struct mpt_hdr h;
	__u32 status;		/* wait(2)-style status: code << 8, or signal | 0x80 core */
	__u32 ppid;		/* current real parent's tgid */
	__u32 reaper;		/* who adopts its running children: subreaper or ns init */
	__u32 flags;		/* MPT_EXIT_* */
	char comm[MPT_COMM_LEN];
};

#define MPT_WAIT_NOHANG 0x1
#define MPT_WAIT_WAITID 0x2

#define MPT_WAIT_NOWAIT 0x4	/* waitid(WNOWAIT): a peek, never a reap */

/* A join wait: the thread blocked in wait4/waitid at start_ts (it switched
 * out) and ran again at h.ts. Who was reaped is in struct mpt_free. */
struct mpt_wait {
	struct mpt_hdr h;	/* the waiting process */
	__u64 start_ts;		/* it blocked */
	__s32 ret;		/* 0: the return value is not seen (no syscall hook) */
	__u32 waker;		/* tgid of the task that woke it (an exiting child), 0 if unknown */
	__s32 target;		/* pid argument, in the waiter's pid namespace */
	__u32 flags;		/* MPT_WAIT_* */
};

#define MPT_FREE_WPS 8
/* children of a dying parent walked in BPF (kids_left): more, and none is inferred */
#define MPT_KIDS_MAX 8192

/* A wait point: the reaper entered wait4/waitid, or ran again inside one. */
struct mpt_wp {
	__u64 ts;
	__u32 target;		/* global tgid of the one child it waits for, 0: any */
	__u32 _pad;
};

/*
 * A zombie was released: the kernel's sched_process_free, which runs an RCU
 * grace period after the reap (h.ts is that late, ~10-20 ms). `reaper` is the
 * task's parent at release, a global tgid: the process whose wait released
 * it, in whatever pid namespace (an adopter if it was re-parented; a ptracer
 * never reaps another's child). wps[] are the reaper's latest wait points,
 * newest first: entries into wait4/waitid and wake-ups inside them, WNOWAIT
 * peeks excluded. The reap is the earliest of them, at or after the exit,
 * that waited for this process or for any child. mptrace writes one itself
 * for the command, which it reaps (reaper: its own pid), rather than wait
 * for the kernel's.
 */
struct mpt_free {
	struct mpt_hdr h;	/* the released process */
	__u32 reaper;		/* its parent's tgid at release */
	__u32 nwps;		/* wait points in wps[] */
	struct mpt_wp wps[MPT_FREE_WPS];
};

enum mpt_lock_kind {
	MPT_LOCK_FUTEX = 1,
	MPT_LOCK_FLOCK = 2,
	MPT_LOCK_POSIX = 3,	/* fcntl F_SETLKW, lockf */
	MPT_LOCK_OFD = 4,	/* fcntl F_OFD_SETLKW */
	MPT_LOCK_SYSV = 5,	/* semop/semtimedop */
};

#define MPT_LOCK_PRIVATE 0x1	/* key is (tgid, address): no shared backing file */
#define MPT_LOCK_KEY_FAIL 0x2	/* the backing mapping could not be read */
/* struct mpt_lock only: the thread that woke the waiter (the releasing
 * holder) had itself been blocked reading input (a pipe, a socket, poll) for
 * at least half of the wait: the waiter queued for input, not for work done
 * under the lock (docs/findings.md). Not part of the lock's identity. */
#define MPT_LOCK_HOLDER_INPUT 0x4
/* struct mpt_lock only: that thread was not blocked but preempted (runnable,
 * not running) for at least half of the wait: the waiter waited for the CPU
 * the holder did not get, not for work done under the lock. */
#define MPT_LOCK_HOLDER_PREEMPTED 0x8
/* struct mpt_lock only: the futex word was no longer the value the waiter
 * slept on when it switched out: the lock was released (and its wake sent)
 * between the kernel's check and the switch, so the "wait" was one for the
 * CPU, however long, never one for the lock. Read as HOLDER_PREEMPTED. */
#define MPT_LOCK_RELEASED 0x10

/* Where a lock's holder came from. */
enum mpt_holder_kind {
	MPT_HOLDER_NONE = 0,
	MPT_HOLDER_OWNER_TID = 1,	/* futex: PI owner, or glibc mutex __owner (a tid) */
	MPT_HOLDER_BLOCKER = 2,		/* file lock: the kernel's blocker chain (a tgid) */
	MPT_HOLDER_SEM_LAST = 3,	/* SysV: the semaphore's sempid, its last semop (a tgid) */
};

struct mpt_lock {
	struct mpt_hdr h;	/* the waiting thread */
	__u64 start_ts;		/* it blocked (switched out); h.ts: it ran again */
	__u32 kind;		/* enum mpt_lock_kind */
	__u32 flags;		/* MPT_LOCK_* */
	__u64 dev;		/* shared: backing device; private: tgid */
	__u64 ino;		/* shared: backing inode; private: address; sysv: semid */
	__u64 off;		/* futex: offset in the file; sysv: sem_num; file locks: 0 */
	__u32 op;		/* futex op / fcntl cmd / flock op */
	__s32 ret;		/* 0: the return value is not seen (no syscall hook) */
	__u32 waker;		/* tgid of the traced task that woke it, or 0 */
	__u32 holder;		/* see hkind: a tid or a tgid, 0 if unknown */
	__u32 hkind;		/* enum mpt_holder_kind */
	__u32 waker_tid;	/* the thread that woke it (with waker), or 0 */
	char comps[MPT_PATH_COMPS][MPT_COMP_LEN]; /* path, last component first */
};

/* Not from the ring: read from the BPF table of waits in progress, so that a
 * wait that never ends (a deadlock) is still known. h.ts is the wait's start. */
struct mpt_lock_begin {
	struct mpt_hdr h;
	__u32 kind;		/* enum mpt_lock_kind */
	__u32 flags;		/* MPT_LOCK_* */
	__u64 dev, ino, off;	/* the lock's key, as in struct mpt_lock */
	__u32 holder;
	__u32 hkind;
	char comps[MPT_PATH_COMPS][MPT_COMP_LEN]; /* path, last component first */
};

/* BPF's cache of lock file paths, by (dev, ino): read by the loader. */
struct mpt_path_key {
	__u64 dev, ino;
};

struct mpt_path {
	char comps[MPT_PATH_COMPS][MPT_COMP_LEN];
};

struct mpt_wait_begin {
	struct mpt_hdr h;	/* h.ts is the wait's start */
	__s32 target;		/* pid argument, -1 for any child */
	__u32 flags;
};

#define MPT_DL_MAX 8

struct mpt_dl_member {
	__u32 pid;		/* the waiting process */
	__u32 kind;		/* the lock it waits on (enum mpt_lock_kind), 0: its children */
	__u32 flags;		/* MPT_LOCK_* of the lock's key */
	__u32 _pad;
	__u64 start;		/* its start_time */
	__u64 dev, ino, off;	/* the lock's key */
	__u64 since;		/* when this wait began */
};

/* A cycle of waits: member i waits on a lock held by member i+1 (mod n). */
struct mpt_deadlock {
	struct mpt_hdr h;	/* h.ts: when it was detected */
	__u32 n;
	__u32 _pad;
	struct mpt_dl_member m[MPT_DL_MAX];
};

/*
 * The user stack of a thread as it blocked in a lock or join wait: its user
 * registers and the top of its stack, copied when it switched out and sent
 * only when the wait lasts --lock-threshold or more (before the wait's own
 * record), or read from the BPF table for a wait still in progress. Unwound
 * in user space (DWARF CFI, libdwfl) with the process's mappings
 * (struct mpt_maps): no frame pointers needed. Variable size: data holds
 * len bytes from regs[7] (the stack pointer) up; size = offsetof(data) + len.
 * Registers in DWARF x86-64 order: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip.
 */
#define MPT_STACK_REGS 17
#define MPT_STACK_BYTES 4096

struct mpt_stack {
	struct mpt_hdr h;	/* the waiting thread; h.ts: the wait's start (its key) */
	__u64 regs[MPT_STACK_REGS];
	__u32 len;		/* bytes in data */
	__u32 join;		/* 1: a join wait (wait4/waitid), 0: a lock wait */
	__u8 data[MPT_STACK_BYTES];
};

/*
 * Not from BPF: a process's file-backed mappings, read from /proc/PID/maps
 * while it lives (before the first of its stacks), so that a recording can
 * be symbolized later. data: maps_len bytes of /proc/PID/maps lines, then
 * ids_len bytes of "BUILD-ID-HEX PATH\n" lines (the ELF build ids seen).
 */
#define MPT_MAPS_MAX (256 * 1024)

struct mpt_maps {
	struct mpt_hdr h;
	__u32 maps_len;
	__u32 ids_len;
	char data[];
};

#define MPT_TEST_LEN 64
#define MPT_TEST_ENV 0x0	/* the exec'ing process's MPTRACE_TEST (h.pid) */
#define MPT_TEST_BEGIN 0x1	/* runner marker on MPTRACE_FD: a test begins */
#define MPT_TEST_END 0x2	/* runner marker: it ended */

struct mpt_test {
	struct mpt_hdr h;
	__u32 flags;		/* MPT_TEST_* */
	__u32 _pad;
	char name[MPT_TEST_LEN];
};

/* How the kernel was handed a signal: signal_generate's info argument. */
#define MPT_SIG_INFO 0		/* a siginfo: code is its si_code */
#define MPT_SIG_NOINFO 1	/* SEND_SIG_NOINFO: the kernel, in the current task's name
				 * (a pipe's SIGPIPE, SIGXFSZ, a parent-death signal) */
#define MPT_SIG_PRIV 2		/* SEND_SIG_PRIV: the kernel itself (alarm and itimers, the tty,
				 * the OOM killer, rlimits) */

struct mpt_signal {
	struct mpt_hdr h;	/* the target process */
	__u32 sig;
	__s32 code;		/* si_code (MPT_SIG_INFO), else 0 */
	__u32 sender_pid;	/* tgid of the task that was running: the sender only when
				 * a process sent it (sig_cause() == SIG_BY_PROCESS) */
	__s32 result;		/* TRACE_SIGNAL_* */
	__u32 origin;		/* MPT_SIG_* */
	__u32 _pad;
	char sender_comm[MPT_COMM_LEN];
};

/* Not from BPF: the /proc snapshot of an already running process (-p, -a). */
struct mpt_proc {
	struct mpt_hdr h;	/* start is 0: the kernel start time is not in /proc */
	__u32 ppid;
	__u32 nthreads;
	__u32 args_len;
	__u16 flags;		/* MPT_PROC_*; 0 in recordings older than the field */
	__u16 status;		/* MPT_PROC_ZOMBIE: its wait status (stat's exit_code) */
	char comm[MPT_COMM_LEN];
	char args[MPT_ARGS_MAX];	/* NUL-separated argv, args_len bytes */
};

#define MPT_PROC_ZOMBIE 0x1	/* state Z: it exited before tracing and is not reaped */

/* Not from BPF: mptrace itself sent `sig` to a leaked process. */
#define MPT_KILL_LEAK 1	/* --kill-leaks */
#define MPT_KILL_DEADLOCK 2	/* --on-deadlock=kill|stop */

struct mpt_kill {
	struct mpt_hdr h;	/* the target */
	__u32 sig;
	__u32 reason;		/* MPT_KILL_* */
};

/*
 * Not from BPF: after the ring buffer dropped records, mptrace found that
 * the process (h.pid, h.start) is no longer in the kernel: a /proc read
 * (docs/design.md "Reconciling after a loss"). Its exit or release record
 * was among those lost: how and when it ended is unknown.
 */
#define MPT_GONE_ZOMBIE 0x1	/* the model held it as a zombie (its release was lost) */

struct mpt_gone {
	struct mpt_hdr h;	/* the process; ts: when it was found gone */
	__u32 flags;		/* MPT_GONE_* */
	__u32 reserved;
};

/* Not from BPF: the last record of a trace, written when tracing stops,
 * with the drop counters read from the BPF side. */
struct mpt_end {
	struct mpt_hdr h;	/* pid/tid/start are 0 */
	__u64 lost[MPT_EV_MAX];	/* records dropped, per type (ring full) */
	__u64 lost_track;	/* processes not tracked (pid map full) */
};

/*
 * Tables of waits in progress, keyed by tid, kept by BPF and read by the
 * loader (never recorded): a wait that never ends is still seen.
 */
struct wait_start {
	__u64 ts;	/* it blocked */
	__u64 start;	/* waiter's start_time */
	__s32 target;
	__u32 flags;	/* MPT_WAIT_* */
	__u32 tgid;
	__u32 waker;	/* tgid of the task that woke it */
	__u32 gtarget;	/* global tgid of the child waited for, 0: any */
	__u32 _pad;
};

/* The wait4/waitid a tracked thread entered last (map `wentry`, by tid). */
struct wait_entry {
	__u32 gtarget;	/* global tgid of the child waited for, 0: any */
	__u32 nowait;	/* WNOWAIT: a peek */
};

/* A traced process (BPF map `tracked`, by tgid): its group leader's
 * start_time (0: any, for the /proc snapshot) and the latest wait point that
 * named it (0: none; `childwp` keeps them under -a, where nothing is in
 * `tracked`). */
struct mpt_track {
	__u64 start;
	__u64 cwp;
};

/* A process's latest wait points (BPF map `wps`, by tgid): a ring. */
struct wait_points {
	struct mpt_wp p[MPT_FREE_WPS];
	__u32 next;	/* slot written next */
	__u32 _pad;
};

/* A lock wait in progress. The key and the holder are taken when it blocks so
 * that userspace can read a wait that never ends (a deadlock) from this table. */
struct lock_start {
	__u64 ts;	/* it blocked */
	__u64 arg;	/* futex uaddr, fd, or semid */
	__u64 dev, ino, off;	/* the lock's key (struct mpt_lock) */
	__u64 start;	/* waiter's start_time */
	__u32 kind;
	__u32 op;
	__u32 tgid;
	__u32 flags;	/* MPT_LOCK_* */
	__u32 holder;
	__u32 hkind;	/* enum mpt_holder_kind */
	__u32 waker;	/* tgid of the traced task that woke it */
	__u32 waker_tid;	/* ... and its thread */
	__u64 woken;	/* its latest wake (0: none seen): runnable from then on */
	__u32 in_us;	/* the releasing waker's time waiting for input ... */
	__u32 cpu_us;	/* ... and for the CPU, between ts and woken (microseconds:
			 * the struct sits on a BPF stack at its 512-byte limit) */
};

#endif /* MPTRACE_EVENTS_H */
