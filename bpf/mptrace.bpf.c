// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * mptrace's kernel side: process lifecycle and lock waits from tracepoints
 * only (this kernel has no kprobes and refuses fentry). Filtering happens
 * here: only processes in `tracked` (the traced tree) produce records, unless
 * trace_all is set.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Knobs set by userspace before load. */
const volatile __u32 self_pid = 0;	 /* mptrace: its waits reap the root */
const volatile __u8 trace_all = 0;	 /* -a: no pid filter */
const volatile __u8 trace_locks = 1;	 /* --no-locks clears it */
const volatile __u64 lock_min_ns = 1000000; /* --lock-threshold */
const volatile __u64 wakeup_bytes = 256 * 1024; /* wake the consumer past this */
const volatile __u64 wake_gap_ns = 200000; /* an empty ring wakes at most this often */
const volatile __u64 wake_stale_ns = 10000000; /* records waiting this long wake it too */
const volatile __u8 scan_test_env = 1;	 /* look for MPTRACE_TEST= at exec */
const volatile __u32 mutex_owner_off = 8; /* glibc __owner offset; 0: do not read */
const volatile __u8 want_stacks = 1;	 /* --no-stacks clears it */
const volatile __u8 futex_vma = 1;	 /* 0: no bpf_find_vma (tests: user space finds the key) */

/* Records dropped because the ring was full, per event type, and
 * processes that could not be tracked because `tracked` was full. */
__u64 lost[MPT_EV_MAX] = {};
__u64 lost_track = 0;
/* Waits whose user stack could not be kept (`ustacks` full, unreadable). */
__u64 lost_stacks = 0;
/* Entries in `locks` and `waits`: traced threads now blocked in a wait. With
 * none, a context switch or a wake-up costs one load and a compare. */
__s64 blocked = 0;
/* When `blocked` last left zero: no wait in the tables began before it, so
 * the consumer's walk of them (for waits older than a threshold) can wait
 * until the tables have been busy that long. A fork storm's parent blocks
 * and runs again at every fork: its waits never get old. */
__u64 busy_since = 0;
/* The begin time of the first wait to enter the tables since the consumer
 * last walked them (0: none), which it resets as it walks: the waits it
 * has not seen are that old at most. A thread blocked for hours (a server's
 * idle worker under -a) keeps `blocked` above zero for good; without this
 * the walk of both tables would run every 50 ms for as long. */
__u64 unwalked_since = 0;
/* When the consumer was last woken. */
__u64 last_wake = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} rb SEC(".maps");

/* tgid -> a traced process: its leader's start time and the wait point
 * that named it (struct mpt_track). The wait point is written in place:
 * an entry of an LRU map of its own was taken from the free list at every
 * wait and given back at every release. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct mpt_track);
} tracked SEC(".maps");

/* tid -> wait4/waitid blocked now (a join wait) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct wait_start);
} waits SEC(".maps");

/* tid -> lock syscall blocked now */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct lock_start);
} locks SEC(".maps");

struct mpt_fkey {
	__u64 dev;
	__u64 ino;
	__u64 off;
};

/* Any process -> its latest wait points (wait4/waitid entries, wake-ups
 * inside them): at a release, when its reaper reaped. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct wait_points);
} wps SEC(".maps");

/* Global tgid of a child -> the latest wait point that named it: a wait for
 * that pid, or the wake-up its own exit caused. Exact where the ring of a
 * busy reaper may have moved on by the time the release comes. Only under
 * -a (trace_all); otherwise in the child's `tracked` entry (one entry when
 * unused). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} childwp SEC(".maps");

/* Global tgid -> start of a child still in its parent's list of children
 * when the parent's group died (alive, or a zombie it never reaped): the
 * ones adopted. User space reads it at the end for a zombie whose release
 * it never saw (docs/design.md "Releases that never come"). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} kids_left SEC(".maps");

/* tid -> the wait4/waitid a tracked thread entered last */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct wait_entry);
} wentry SEC(".maps");

/* tid -> holder of the file lock it is about to wait for (filelock
 * tracepoints fire just before the task blocks). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} flholder SEC(".maps");

/* (dev, ino) -> path of a file backing a lock: one walk per file, not per wait. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct mpt_path_key);
	__type(value, struct mpt_path);
} paths SEC(".maps");

struct fkey_id {
	__u64 tgid;
	__u64 uaddr;
};

/* (tgid, address) -> key of a shared futex: one bpf_find_vma per lock and
 * process, not per wait and wake. A lock address unmapped and mapped again
 * to another file is the case this cache could get wrong; the LRU ages it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct fkey_id);
	__type(value, struct mpt_fkey);
} fkeys SEC(".maps");

/* tid -> its user stack when its latest wait began: sent only if the wait
 * turns out long. Kept after the wait (a thread that waits again at the same
 * pc and stack pointer, as a loop does, reuses it: the copy is the costly
 * part); the least recently used of more than 1024 threads go (4.3 KB an
 * entry, preallocated). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mpt_stack);
} ustacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpt_stack);
} stack_scratch SEC(".maps");

#define OFF_N 16		/* off-CPU intervals kept per thread (a power of 2) */
#define OFF_INPUT 1		/* blocked reading input, until woken */
#define OFF_CPU 2		/* preempted, or woken: runnable, not running */

/* A thread's last OFF_N times off the CPU, in a ring: a holder is
 * preempted again and again over one waiter's wait (a 1.5 ms slice beside a
 * CPU hog), so the last interval alone showed a fraction of it. end 0: not
 * ended yet, or its end not seen (it is noted only while some wait is in
 * progress, the only time it can matter). */
struct off_cpu {
	__u64 begin[OFF_N];
	__u64 end[OFF_N];
	__u8 kind[OFF_N];
	__u32 cur;		/* the slot of the latest interval */
	__u64 q_begin;		/* its latest lock wait that was itself one for input or CPU */
	__u64 q_end;
};

/* tid -> a tracked thread's latest wait for input (a pipe, a socket, poll)
 * and latest preemption: a lock released by a holder that was waiting for
 * input makes its waiters queue for that input, not contend
 * (MPT_LOCK_HOLDER_INPUT); one whose holder was preempted made them wait for
 * the CPU (MPT_LOCK_HOLDER_PREEMPTED). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct off_cpu);
} offcpu SEC(".maps");

static const struct off_cpu off_zero;

/* Scratch space for records too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpt_exec);
} exec_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpt_lock);
} lock_scratch SEC(".maps");

#define ENV_VAR_MAX 4096	/* longer variables are skipped in pieces */
#define ENV_VARS_MAX 512	/* variables looked at per exec */

struct env_scratch {
	char var[ENV_VAR_MAX];
	struct mpt_test t;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct env_scratch);
} env_scratch SEC(".maps");

static __always_inline int is_tracked(__u32 tgid)
{
	/* -a: everything but mptrace itself, whose own waits and locks would
	 * only feed back into the trace */
	if (trace_all)
		return tgid != self_pid;
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

/* An entry went into `waits` or `locks` at `ts`. Two CPUs may both see
 * zero and both write: their times are microseconds apart. */
static __always_inline void blocked_inc(__u64 ts)
{
	if (blocked <= 0)
		busy_since = ts;
	/* the entry is in its table already: a walk that reset this after
	 * this read sees it; racing CPUs write times microseconds apart */
	if (!unwalked_since)
		unwalked_since = ts;
	__sync_fetch_and_add(&blocked, 1);
}

/*
 * Number fields of a BTF-typed task (a tp_btf argument or
 * bpf_get_current_task_btf()) are read with direct loads, which the
 * verifier turns into guarded loads (a NULL reads 0), still relocated by
 * CO-RE, and which cost no helper call: a call is dear where every return
 * goes through a mitigation thunk (AMD SRSO), and BPF_CORE_READ was a fifth
 * of on_exit's time on the fork path. Pointer fields keep BPF_CORE_READ,
 * but for five on the fork path (on_exit's signal, real_parent and
 * thread_pid, on_free's real_parent): the verifier checks a directly loaded
 * pointer against its lists of trusted fields by name, a linear search of
 * the kernel's BTF each time (1-2 ms of start-up a load site: 60 ms more
 * when every site was tried), where each of these saves two calls in every
 * process's life (on_exit 1.1 -> 0.8 us a run).
 */
static __always_inline __u64 leader_start(struct task_struct *t)
{
	/* a process's own leader (most tasks that fork, exit or wait): a
	 * direct load; another thread's leader is a pointer away */
	if (t->pid == t->tgid)
		return t->start_time;
	return BPF_CORE_READ(t, group_leader, start_time);
}

static __always_inline void fill_hdr(struct mpt_hdr *h, __u32 type, __u32 size,
				     struct task_struct *t)
{
	h->type = type;
	h->size = size;
	h->ts = bpf_ktime_get_ns();
	h->pid = t->tgid;
	h->tid = t->pid;
	h->start = leader_start(t);
}

/*
 * When to wake the consumer, for a record made at `now`. Never within
 * wake_gap_ns of the last wake-up (a wake-up per record costs ~1.2x on
 * fork storms). Past it: a record that finds the ring empty (`queued` is
 * its own size: nothing else waits) wakes it at once, so a terminal shows
 * a quiet program's events as they happen; one that finds others waiting
 * wakes it past wakeup_bytes, or when the last wake-up is wake_stale_ns
 * old. That last rule is for records left behind: one that came within the
 * gap after the consumer had drained the ring and gone back to sleep
 * finds nobody to wake it, and every record after it finds the ring not
 * empty; they waited for the consumer's poll timeout (50 ms). Under a
 * storm it is a wake-up per wake_stale_ns at most.
 */
static __always_inline __u64 rb_flags_q(__u64 queued, __u64 now)
{
	__u64 avail;

	if (now - last_wake < wake_gap_ns)
		return BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	if (avail > queued && avail < wakeup_bytes && now - last_wake < wake_stale_ns)
		return BPF_RB_NO_WAKEUP;
	last_wake = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* after bpf_ringbuf_reserve(): the record counts in the ring already; its
 * header's time is now */
#define rb_flags(e) rb_flags_q((sizeof(*(e)) + 8 + 7) & ~7ULL, (e)->h.ts)

static __always_inline void count_lost(__u32 type)
{
	if (type < MPT_EV_MAX)
		__sync_fetch_and_add(&lost[type], 1);
}

static __always_inline void *reserve(__u32 size, __u32 type)
{
	void *p = bpf_ringbuf_reserve(&rb, size, 0);

	if (!p)
		count_lost(type);
	return p;
}

static __always_inline void output(void *data, __u32 size, __u32 type)
{
	if (bpf_ringbuf_output(&rb, data, size, rb_flags_q(0, bpf_ktime_get_ns())))
		count_lost(type);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	__u32 ctgid = child->tgid;
	__u32 ctid = child->pid;
	int thread = ctgid != ctid;
	struct mpt_fork *e;
	struct mpt_track tv = {};
	__u64 start, pstart;

	if (!is_tracked(ptgid))
		return 0;
	/* a new process is its own leader; a new thread shares its
	 * creator's leader */
	pstart = leader_start(parent);
	start = thread ? pstart : child->start_time;
	tv.start = start;
	if (!thread && !trace_all &&
	    bpf_map_update_elem(&tracked, &ctgid, &tv, BPF_ANY)) {
		__sync_fetch_and_add(&lost_track, 1);
		return 0;
	}
	e = reserve(sizeof(*e), MPT_EV_FORK);
	if (!e)
		return 0;
	e->h.type = MPT_EV_FORK;
	e->h.size = sizeof(*e);
	e->h.ts = bpf_ktime_get_ns();
	e->h.pid = ctgid;
	e->h.tid = ctid;
	e->h.start = start;
	e->ppid = ptgid;
	e->ptid = parent->pid;
	e->pstart = pstart;
	e->flags = thread ? MPT_FORK_THREAD : 0;
	e->_pad = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, child, comm);
	bpf_ringbuf_submit(e, rb_flags(e));
	return 0;
}

struct env_ctx {
	struct env_scratch *sc;
	unsigned long pos, end;
	int whole;	/* pos is at the start of a variable */
	int found;
};

static __always_inline int env_is_test(const char *var, const char *want)
{
	for (int i = 0; i < 13; i++)
		if (var[i] != want[i])
			return 0;
	return 1;
}

static long env_step(__u32 i, void *data)
{
	static const char want[] = "MPTRACE_TEST=";
	struct env_ctx *c = data;
	long n;

	if (c->pos >= c->end)
		return 1;
	n = bpf_probe_read_user_str(c->sc->var, ENV_VAR_MAX, (void *)c->pos);
	if (n <= 0)
		return 1;
	if (c->whole && n > (long)sizeof(want) - 1 && env_is_test(c->sc->var, want)) {
		bpf_probe_read_kernel_str(c->sc->t.name, MPT_TEST_LEN, c->sc->var + sizeof(want) - 1);
		c->found = 1;
		return 1;
	}
	/* n counts the NUL; a variable longer than the buffer goes on */
	c->whole = n < ENV_VAR_MAX;
	c->pos += c->whole ? n : n - 1;
	return 0;
}

/*
 * Per-test attribution: a runner exports MPTRACE_TEST=name and every
 * process exec'd in that test carries it. One string read per variable.
 */
static __always_inline void exec_test_env(struct task_struct *p)
{
	__u32 zero = 0;
	struct env_ctx c = {};

	c.sc = bpf_map_lookup_elem(&env_scratch, &zero);
	if (!c.sc)
		return;
	c.pos = BPF_CORE_READ(p, mm, env_start);
	c.end = BPF_CORE_READ(p, mm, env_end);
	c.whole = 1;
	bpf_loop(ENV_VARS_MAX, env_step, &c, 0);
	if (!c.found)
		return;
	fill_hdr(&c.sc->t.h, MPT_EV_TEST, sizeof(c.sc->t), p);
	c.sc->t.flags = MPT_TEST_ENV;
	c.sc->t._pad = 0;
	output(&c.sc->t, sizeof(c.sc->t), MPT_EV_TEST);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, tgid = BPF_CORE_READ(p, tgid);
	unsigned long arg_start, arg_end, len;
	struct mpt_exec *e;
	const char *fname;
	long n;

	if (!is_tracked(tgid))
		return 0;
	e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e)
		return 0;
	fill_hdr(&e->h, MPT_EV_EXEC, 0, p);
	e->old_pid = old_pid;
	e->flags = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);

	fname = BPF_CORE_READ(bprm, filename);
	n = bpf_probe_read_kernel_str(e->data, MPT_FNAME_MAX, fname);
	if (n < 0)
		n = 0;
	if (n == MPT_FNAME_MAX)
		e->flags |= MPT_EXEC_TRUNC_FNAME;
	e->fname_len = n;

	/* The new image's argv, straight from its stack: the kernel has just
	 * copied it there, so the pages are present. */
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	len = arg_end - arg_start;
	if (len > MPT_ARGS_MAX) {
		len = MPT_ARGS_MAX;
		e->flags |= MPT_EXEC_TRUNC_ARGS;
	}
	n = e->fname_len;
	if (n > MPT_FNAME_MAX)
		n = MPT_FNAME_MAX;
	barrier_var(len);
	if (len > MPT_ARGS_MAX)
		len = MPT_ARGS_MAX;
	if (len > 0 && bpf_probe_read_user(e->data + n, len, (void *)arg_start) == 0)
		e->args_len = len;
	else
		e->args_len = 0;
	len = offsetof(struct mpt_exec, data) + n + e->args_len;
	len = (len + 7) & ~7UL;
	if (len > sizeof(*e))
		len = sizeof(*e);
	e->h.size = len;
	output(e, len, MPT_EV_EXEC);
	if (scan_test_env)
		exec_test_env(p);
	return 0;
}

/* Who adopts the running children of `t` when its group dies: the nearest
 * PR_SET_CHILD_SUBREAPER ancestor, else pid 1 of its pid namespace (the
 * kernel's find_new_reaper(), minus the same-group case: the group is dead). */
static __always_inline __u32 new_reaper(struct task_struct *t, struct signal_struct *sig)
{
	struct task_struct *ns_reaper, *p = t;
	struct pid_namespace *ns;
	struct pid *pid;
	unsigned int level;

	pid = t->thread_pid;
	level = pid->level;
	ns = NULL;
	bpf_core_read(&ns, sizeof(ns), &pid->numbers[level & 31].ns);
	ns_reaper = BPF_CORE_READ(ns, child_reaper);

	if (BPF_CORE_READ_BITFIELD_PROBED(sig, has_child_subreaper)) {
		for (int i = 0; i < 32; i++) {
			p = BPF_CORE_READ(p, real_parent);
			if (!p || p == ns_reaper)
				break;
			sig = BPF_CORE_READ(p, signal);
			if (BPF_CORE_READ_BITFIELD_PROBED(sig, is_child_subreaper))
				return BPF_CORE_READ(p, tgid);
		}
	}
	return ns_reaper ? BPF_CORE_READ(ns_reaper, tgid) : 1;
}

/* The parent will not keep a zombie: do_notify_parent() auto-reaps when
 * SIGCHLD is ignored or SA_NOCLDWAIT is set. */
static __always_inline int will_autoreap(struct task_struct *t, struct task_struct *parent)
{
	struct k_sigaction act = {};
	struct sighand_struct *sh;

	if (t->exit_signal != 17 /* SIGCHLD */)
		return 0;
	sh = BPF_CORE_READ(parent, sighand);
	if (!sh)
		return 0;
	bpf_core_read(&act, sizeof(act), &sh->action[16]);
	return act.sa.sa_handler == (void *)1 /* SIG_IGN */ ||
	       (act.sa.sa_flags & 2 /* SA_NOCLDWAIT */);
}

/* Walking a dying parent's children (task_struct.sibling links), as
 * numbers: a bpf_loop callback, verified once. */
struct kids_walk {
	__u64 head;	/* &parent->children */
	__u64 pos;
	int done;
};

static long kid_step(__u64 i, void *data)
{
	struct kids_walk *k = data;
	struct list_head *pos = (struct list_head *)k->pos;
	struct task_struct *c;
	__u32 tgid;
	__u64 start;

	if (k->pos == k->head) {
		k->done = 1;
		return 1;
	}
	c = container_of(pos, struct task_struct, sibling);
	tgid = BPF_CORE_READ(c, tgid);
	start = BPF_CORE_READ(c, start_time);
	if (!tgid || bpf_map_update_elem(&kids_left, &tgid, &start, BPF_ANY))
		return 1;
	k->pos = (__u64)BPF_CORE_READ(pos, next);
	return 0;
}

/*
 * The group of `p` is dead: its children still in its list (it never reaped
 * them) are about to be handed to a reaper. Only the last thread's list is
 * walked: the children of a thread that died first moved to it, but those
 * of a thread dying at the same time may not have yet (user space infers
 * nothing for the children of a parent that had threads). Returns 1 when
 * every child went into `kids_left`.
 */
static __always_inline int kids_left_at_death(struct task_struct *p)
{
	struct kids_walk k = {};
	struct list_head *first = BPF_CORE_READ(p, children.next);

	/* the first entry's prev is the list's head, and an empty list's
	 * head is its own prev: the head's address without reading it from
	 * the (BTF-typed) task pointer */
	k.head = (__u64)BPF_CORE_READ(first, prev);
	k.pos = (__u64)first;
	if (!k.head)
		return 0;
	if (k.pos == k.head)
		return 1;
	bpf_loop(MPT_KIDS_MAX, kid_step, &k, 0);
	return k.done;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tid = p->pid, tgid = p->tgid;
	struct task_struct *parent;
	struct signal_struct *sig;
	struct mpt_exit *e;
	int listed;

	/* A thread ends its waits before it exits (it runs again to die);
	 * anything left would be stale. */
	if (blocked > 0) {
		/* every exiting thread of the machine comes here: a lookup
		 * takes no lock, a delete locks its bucket, found or not */
		if (bpf_map_lookup_elem(&waits, &tid) && !bpf_map_delete_elem(&waits, &tid))
			__sync_fetch_and_add(&blocked, -1);
		if (trace_locks && bpf_map_lookup_elem(&locks, &tid) &&
		    !bpf_map_delete_elem(&locks, &tid))
			__sync_fetch_and_add(&blocked, -1);
	}
	if (want_stacks && bpf_map_lookup_elem(&ustacks, &tid))
		bpf_map_delete_elem(&ustacks, &tid);
	if (!is_tracked(tgid))
		return 0;
	/* do_exit() has just decremented signal->live: zero means this was
	 * the group's last thread. Read from the task rather than from the
	 * tracepoint's group_dead argument, which only Linux 6.16+ passes;
	 * after the filter, as every read costs a helper call. */
	sig = p->signal;
	if (sig->live.counter)
		return 0;
	/* before the reserve: a walk of thousands of children must not hold
	 * back the records other CPUs commit after this one */
	listed = kids_left_at_death(p);
	e = reserve(sizeof(*e), MPT_EV_EXIT);
	if (!e)
		return 0;
	fill_hdr(&e->h, MPT_EV_EXIT, sizeof(*e), p);
	e->status = p->exit_code;
	parent = p->real_parent;
	e->ppid = parent->tgid;
	e->reaper = new_reaper(p, sig);
	e->flags = (will_autoreap(p, parent) ? MPT_EXIT_AUTOREAP : 0) |
		   (listed ? MPT_EXIT_KIDS_LISTED : 0);
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	bpf_ringbuf_submit(e, rb_flags(e));
	return 0;
}

/* A wait point of `tgid` (it entered a wait, or ran again inside one): a
 * reap it makes happens at one of them. A ring of the latest. */
static __always_inline void add_wp(__u32 tgid, __u64 ts, __u32 target)
{
	struct wait_points *w = bpf_map_lookup_elem(&wps, &tgid), fresh = {};
	__u32 i;

	if (!w) {
		fresh.p[0].ts = ts;
		fresh.p[0].target = target;
		fresh.next = 1;
		bpf_map_update_elem(&wps, &tgid, &fresh, BPF_ANY);
		return;
	}
	i = w->next & (MPT_FREE_WPS - 1);
	w->p[i].ts = ts;
	w->p[i].target = target;
	w->next++;
}

/* A wait point that names one child: its wait4(pid), or its exit's wake-up. */
static __always_inline void add_child_wp(__u32 child, __u64 ts)
{
	struct mpt_track *t;
	__u64 *cw;

	if (!child)
		return;
	if (!trace_all) {
		/* only a tracked child's release makes a record */
		t = bpf_map_lookup_elem(&tracked, &child);
		if (t)
			t->cwp = ts;
		return;
	}
	/* in place when it is there: an LRU update takes a fresh element
	 * from the free list and gives the old one back, every time */
	cw = bpf_map_lookup_elem(&childwp, &child);
	if (cw)
		*cw = ts;
	else
		bpf_map_update_elem(&childwp, &child, &ts, BPF_ANY);
}

/*
 * Every wait4/waitid of every process enters do_wait(), and only those pay
 * for this program: no syscall hook. A WNOWAIT peek reaps nothing and is
 * no wait point. The reaper of a tracked zombie may be untraced (init, a
 * subreaper), so wait points are kept for any process. `pid` is the one
 * waited for (by pid, pidfd or process group), NULL for any child.
 */
SEC("tp_btf/sched_process_wait")
int BPF_PROG(on_wait_entry, struct pid *pid)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tid = t->pid, tgid = t->tgid;
	struct wait_entry we = {};
	struct pt_regs *regs;
	long nr, a0;

	if (IS_COMPAT_SYSCALL(t))
		goto add;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	nr = SYSCALL_NR(regs);
	a0 = SC_ARG1(regs);
	if (nr == NR_waitid && (SC_ARG4(regs) & 0x01000000 /* WNOWAIT */))
		we.nowait = 1;
	/* one child: wait4(pid > 0), waitid(P_PID or P_PIDFD); else a group or any */
	if (pid && ((nr == NR_wait4 && (int)a0 > 0) ||
		    (nr == NR_waitid && (a0 == 1 || a0 == 3))))
		we.gtarget = BPF_CORE_READ(pid, numbers[0].nr);
add:
	if (!we.nowait) {
		__u64 now = bpf_ktime_get_ns();

		add_wp(tgid, now, we.gtarget);
		add_child_wp(we.gtarget, now);
	}
	if (tgid == self_pid || is_tracked(tgid)) {
		struct wait_entry *old = bpf_map_lookup_elem(&wentry, &tid);

		/* in place, as in add_child_wp(): only this thread writes it */
		if (old)
			*old = we;
		else
			bpf_map_update_elem(&wentry, &tid, &we, BPF_ANY);
	}
	return 0;
}

/*
 * The release of a zombie, in an RCU callback a grace period after the
 * reap: `current` is whatever ran it. The reaper is the task's parent at
 * release (release_task() leaves real_parent alone), a global tgid in any
 * pid namespace; a ptracer's wait releases nothing of another's child; a
 * peek releases nothing. When it reaped is in its wait points.
 */
SEC("tp_btf/sched_process_free")
int BPF_PROG(on_free, struct task_struct *p)
{
	__u32 tgid = p->tgid, reaper, n, k;
	struct wait_points *w;
	struct mpt_track *want;
	struct mpt_free *e;
	__u64 start, cwp = 0, *cw;

	if (p->pid != tgid)
		return 0;	/* only the leader's release ends the process */
	start = p->start_time;
	if (!trace_all) {
		/* The pid may already belong to a new process (release is
		 * RCU-delayed): only forget the one that was released. */
		want = bpf_map_lookup_elem(&tracked, &tgid);
		if (!want)
			return 0;
		if (want->start && want->start != start)
			return 0;
		cwp = want->cwp;
		bpf_map_delete_elem(&tracked, &tgid);
	} else {
		cw = bpf_map_lookup_elem(&childwp, &tgid);
		if (cw) {
			cwp = *cw;
			bpf_map_delete_elem(&childwp, &tgid);
		}
	}
	e = reserve(sizeof(*e), MPT_EV_FREE);
	if (!e)
		return 0;
	e->h.type = MPT_EV_FREE;
	e->h.size = sizeof(*e);
	e->h.ts = bpf_ktime_get_ns();
	e->h.pid = tgid;
	e->h.tid = tgid;
	e->h.start = start;
	reaper = p->real_parent->tgid;
	e->reaper = reaper;
	e->nwps = 0;
	__builtin_memset(e->wps, 0, sizeof(e->wps));
	/* first the wait point that named it, then the reaper's ring, newest first */
	if (cwp) {
		e->wps[0].ts = cwp;
		e->wps[0].target = tgid;
		e->nwps = 1;
	}
	w = bpf_map_lookup_elem(&wps, &reaper);
	n = w ? w->next : 0;
	for (int i = 0; i < MPT_FREE_WPS - 1 && w; i++) {
		k = e->nwps;
		if (i >= n || k >= MPT_FREE_WPS)
			break;
		/* keep the mask: a verifier before 6.11 does not carry the
		 * bound of k over to the k + 1 the compiler reuses */
		barrier_var(k);
		e->wps[k & (MPT_FREE_WPS - 1)] = w->p[(n - 1 - i) & (MPT_FREE_WPS - 1)];
		e->nwps = k + 1;
	}
	bpf_ringbuf_submit(e, rb_flags(e));
	return 0;
}

/* ---- user stacks of waits ---- */

/*
 * The current task blocks in a wait that began at `ts`: keep its user
 * registers and the top of its user stack in `ustacks`, for the wait's
 * record if it lasts. sched_switch runs in the blocking task, so its user
 * memory is the one read; the pages next to the stack pointer are present.
 * A global function: verified once, whatever calls it.
 */
__noinline int grab_stack(__u64 ts, __u32 join)
{
#ifdef __TARGET_ARCH_x86
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	struct pt_regs *r;
	struct mpt_stack *e;
	__u64 sp;

	if (!want_stacks)
		return 0;
	r = (struct pt_regs *)bpf_task_pt_regs(t);
	/* the same call at the same depth as its last wait: the same stack,
	 * as far as a loop goes; only the wait it belongs to changes */
	e = bpf_map_lookup_elem(&ustacks, &tid);
	if (e && e->regs[16] == r->ip && e->regs[7] == r->sp) {
		e->h.ts = ts;
		e->join = join;
		return 0;
	}
	e = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!e)
		return 0;
	e->regs[0] = r->ax;
	e->regs[1] = r->dx;
	e->regs[2] = r->cx;
	e->regs[3] = r->bx;
	e->regs[4] = r->si;
	e->regs[5] = r->di;
	e->regs[6] = r->bp;
	e->regs[7] = sp = r->sp;
	e->regs[8] = r->r8;
	e->regs[9] = r->r9;
	e->regs[10] = r->r10;
	e->regs[11] = r->r11;
	e->regs[12] = r->r12;
	e->regs[13] = r->r13;
	e->regs[14] = r->r14;
	e->regs[15] = r->r15;
	e->regs[16] = r->ip;
	/* a stack's top page may be its last: then a quarter of it */
	e->len = MPT_STACK_BYTES;
	if (bpf_probe_read_user(e->data, MPT_STACK_BYTES, (void *)sp)) {
		e->len = MPT_STACK_BYTES / 4;
		if (bpf_probe_read_user(e->data, MPT_STACK_BYTES / 4, (void *)sp)) {
			__sync_fetch_and_add(&lost_stacks, 1);
			return 0;
		}
	}
	e->h.type = MPT_EV_STACK;
	e->h.size = offsetof(struct mpt_stack, data) + e->len;
	e->h.ts = ts;
	e->h.pid = id >> 32;
	e->h.tid = tid;
	e->h.start = leader_start(t);
	e->join = join;
	if (bpf_map_update_elem(&ustacks, &tid, e, BPF_ANY))
		__sync_fetch_and_add(&lost_stacks, 1);
#endif
	return 0;
}

/* Thread `tid`'s wait that began at `ts` is over: its stack goes out first
 * if the wait was long (`send`); it stays for the thread's next wait. */
static __always_inline void put_stack(__u32 tid, __u64 ts, int send)
{
	struct mpt_stack *e;
	__u32 size;

	if (!want_stacks)
		return;
	e = bpf_map_lookup_elem(&ustacks, &tid);
	if (!e)
		return;
	size = e->h.size;
	if (send && e->h.ts == ts && size <= sizeof(*e) && size > offsetof(struct mpt_stack, data))
		output(e, size, MPT_EV_STACK);
}

/* ---- join waits: wait4 / waitid that block ---- */

/* The current task blocks in wait4/waitid. A global function: the
 * verifier checks it once. */
__noinline int wait_block(__s32 target, __u64 options, __u32 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct wait_start w = {};
	struct wait_entry *we;

	if (bpf_map_lookup_elem(&waits, &tid))
		return 0;
	we = bpf_map_lookup_elem(&wentry, &tid);
	if (we)
		w.gtarget = we->gtarget;
	w.ts = bpf_ktime_get_ns();
	w.tgid = tgid;
	w.start = leader_start((struct task_struct *)bpf_get_current_task_btf());
	w.target = target;
	w.flags = flags | ((options & 0x01000000) ? MPT_WAIT_NOWAIT : 0);
	if (!bpf_map_update_elem(&waits, &tid, &w, BPF_NOEXIST)) {
		blocked_inc(w.ts);
		/* for the scan: a join wait in a deadlock shows where it waits */
		if (tgid != self_pid && !(w.flags & MPT_WAIT_NOWAIT))
			grab_stack(w.ts, 1);
	}
	return 0;
}

/* Thread `tid` runs again: its join wait, if it was in one (returns 1), is
 * over. Runs in the context of the task switching out, so nothing here may
 * read `current`. */
__noinline int wait_resume(__u32 tid)
{
	struct wait_start *w = bpf_map_lookup_elem(&waits, &tid);
	struct mpt_wait *e;
	__u64 now;

	if (!w)
		return 0;
	now = bpf_ktime_get_ns();
	if (!(w->flags & MPT_WAIT_NOWAIT)) {
		add_wp(w->tgid, now, w->gtarget);
		/* the exit that woke it is the child it reaps now */
		add_child_wp(w->waker, now);
	}
	if (w->tgid == self_pid)
		goto out;
	e = reserve(sizeof(*e), MPT_EV_WAIT);
	if (!e)
		goto out;
	e->h.type = MPT_EV_WAIT;
	e->h.size = sizeof(*e);
	e->h.ts = now;
	e->h.pid = w->tgid;
	e->h.tid = tid;
	e->h.start = w->start;
	e->start_ts = w->ts;
	e->ret = 0;
	e->waker = w->waker;
	e->target = w->target;
	e->flags = w->flags;
	bpf_ringbuf_submit(e, rb_flags(e));
out:
	if (!bpf_map_delete_elem(&waits, &tid))
		__sync_fetch_and_add(&blocked, -1);
	return 1;
}

/* ---- signals ---- */

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct task_struct *cur;
	struct mpt_signal *e;

	/* SIGCHLD accompanies every exit; the exit record says it all. */
	if (sig == 17 || result == 1 /* ignored */ || !is_tracked(tgid))
		return 0;
	e = reserve(sizeof(*e), MPT_EV_SIGNAL);
	if (!e)
		return 0;
	fill_hdr(&e->h, MPT_EV_SIGNAL, sizeof(*e), task);
	e->sig = sig;
	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are markers, not
	 * pointers: the kernel sends, not the task that happens to run */
	if ((unsigned long)info <= 1) {
		e->origin = info ? MPT_SIG_PRIV : MPT_SIG_NOINFO;
		e->code = 0;
	} else {
		e->origin = MPT_SIG_INFO;
		e->code = BPF_CORE_READ(info, si_code);
	}
	e->result = result;
	cur = (struct task_struct *)bpf_get_current_task_btf();
	e->sender_pid = BPF_CORE_READ(cur, tgid);
	BPF_CORE_READ_STR_INTO(&e->sender_comm, cur, comm);
	bpf_ringbuf_submit(e, rb_flags(e));
	return 0;
}

/* ---- lock waits ---- */

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CMD_MASK (~(128 | 256))


/* One step of the walk up from a file's dentry, across mount points: the
 * next component into lock_scratch's comps, or a hop to the parent mount.
 * A bpf_loop callback, so the verifier checks one step, not every one. */
struct path_walk {
	__u64 d;	/* struct dentry * */
	__u64 mnt;	/* struct mount * */
	__u32 slot;
};

static long path_step(__u32 i, void *data)
{
	struct path_walk *w = data;
	struct dentry *d = (struct dentry *)w->d, *parent;
	struct mount *mnt = (struct mount *)w->mnt, *mparent;
	struct mpt_lock *e;
	__u32 zero = 0;

	if (w->slot >= MPT_PATH_COMPS)
		return 1;
	parent = BPF_CORE_READ(d, d_parent);
	if (d == parent) {
		/* root of this mount: continue in the parent mount */
		mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt)
			return 1;
		w->d = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)mparent;
		return 0;
	}
	e = bpf_map_lookup_elem(&lock_scratch, &zero);
	if (!e)
		return 1;
	bpf_probe_read_kernel_str(e->comps[w->slot & (MPT_PATH_COMPS - 1)], MPT_COMP_LEN,
				  BPF_CORE_READ(d, d_name.name));
	w->slot++;
	w->d = (__u64)parent;
	return 0;
}

/*
 * The name a file goes by now. glibc's sem_open() creates a semaphore as a
 * temporary /dev/shm/sem.XXXXXX, maps it, links it to the name the program
 * gave and unlinks the temporary: the mapping's dentry is the unlinked one.
 * The inode's other dentries (its hard links) still in the dcache hold the
 * real name: the first one hashed (not deleted) is taken.
 */
static __always_inline struct dentry *live_dentry(struct dentry *d)
{
	struct hlist_node *n;
	struct dentry *a;

	if (BPF_CORE_READ(d, d_hash.pprev))
		return d;	/* hashed: not deleted */
	n = BPF_CORE_READ(d, d_inode, i_dentry.first);
	for (int i = 0; i < 4 && n; i++) {
		a = container_of(n, struct dentry, d_u.d_alias);
		if (BPF_CORE_READ(a, d_hash.pprev))
			return a;
		n = BPF_CORE_READ(n, next);
	}
	return d;
}

/* The path's last components into lock_scratch's comps, last first. */
static __always_inline void file_path(struct file *f)
{
	struct vfsmount *vmnt = BPF_CORE_READ(f, f_path.mnt);
	struct path_walk w = {
		.d = (__u64)live_dentry(BPF_CORE_READ(f, f_path.dentry)),
		.mnt = (__u64)container_of(vmnt, struct mount, mnt),
	};

	bpf_loop(MPT_PATH_COMPS + 4, path_step, &w, 0);
}

/* Caches the path of the file behind a lock key (file locks, shared
 * futexes). A global function, verified once: the walk is the costly part.
 * The file travels as a number: global functions take no kernel pointers. */
__noinline int cache_path(__u64 file, __u64 dev, __u64 ino)
{
	struct mpt_path_key k = { .dev = dev, .ino = ino };
	struct mpt_lock *e;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(&paths, &k))
		return 0;
	e = bpf_map_lookup_elem(&lock_scratch, &zero);
	if (!e)
		return 0;
	__builtin_memset(e->comps, 0, sizeof(e->comps));
	file_path((struct file *)file);
	bpf_map_update_elem(&paths, &k, e->comps, BPF_ANY);
	return 0;
}

static long vma_key_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct lock_start *l = data;
	struct file *f = BPF_CORE_READ(vma, vm_file);

	if (!f)
		return 0;
	l->off = l->arg - BPF_CORE_READ(vma, vm_start) + (BPF_CORE_READ(vma, vm_pgoff) << 12);
	l->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	l->ino = BPF_CORE_READ(f, f_inode, i_ino);
	l->flags &= ~MPT_LOCK_PRIVATE;
	cache_path((__u64)f, l->dev, l->ino);
	return 0;
}

static __always_inline struct file *fd_file(struct task_struct *t, __u64 fd)
{
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(t, files, fdt, max_fds);
	struct file *f = NULL;

	if (fd >= max)
		return NULL;
	bpf_core_read(&f, sizeof(f), &fds[fd]);
	return f;
}

/* A futex's identity across processes, into l->dev/ino/off/flags: the file
 * (and offset) backing a shared mapping, like the kernel's own futex key;
 * else (tgid, address). l->arg is the address. */
static __always_inline void futex_key(struct lock_start *l, __u32 tgid, __u32 op)
{
	struct fkey_id id = { .tgid = tgid, .uaddr = l->arg };
	struct mpt_fkey *cached;
	struct mpt_fkey k;

	l->flags = MPT_LOCK_PRIVATE;
	if (!(op & FUTEX_PRIVATE_FLAG)) {
		cached = bpf_map_lookup_elem(&fkeys, &id);
		if (cached) {
			l->dev = cached->dev;
			l->ino = cached->ino;
			l->off = cached->off;
			l->flags = 0;
			return;
		}
		if (!futex_vma ||
		    bpf_find_vma((struct task_struct *)bpf_get_current_task_btf(), l->arg,
				 vma_key_cb, l, 0))
			l->flags |= MPT_LOCK_KEY_FAIL;
		if (!(l->flags & (MPT_LOCK_PRIVATE | MPT_LOCK_KEY_FAIL))) {
			k.dev = l->dev;
			k.ino = l->ino;
			k.off = l->off;
			bpf_map_update_elem(&fkeys, &id, &k, BPF_ANY);
			return;
		}
	}
	l->dev = tgid;
	l->ino = l->arg;
	l->off = 0;
}

/*
 * Who holds the futex, where user space shows it: a PI futex word holds the
 * owner's tid; a glibc mutex waiter sleeps on value 2 and the mutex keeps
 * its owner's tid at offset 8 (struct __pthread_mutex_s: __lock, __count,
 * __owner; unchanged since glibc 2.3 on 64-bit). Semaphores and condition
 * variables have no owner: their waker is recorded instead.
 */
static __always_inline void futex_holder(struct lock_start *l, __u32 cmd, __u64 val, int is_futex2)
{
	__u32 word = 0;

	if (!is_futex2 && (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2)) {
		if (!bpf_probe_read_user(&word, sizeof(word), (void *)l->arg) && (word & 0x3fffffff)) {
			l->holder = word & 0x3fffffff;
			l->hkind = MPT_HOLDER_OWNER_TID;
		}
		return;
	}
	if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || is_futex2) && val == 2 &&
	    mutex_owner_off &&
	    !bpf_probe_read_user(&word, sizeof(word), (void *)(l->arg + mutex_owner_off)) && word &&
	    word < 0x400000) {
		l->holder = word;
		l->hkind = MPT_HOLDER_OWNER_TID;
	}
}

/*
 * A futex waiter switching out: is its word still the value it sleeps on?
 * The kernel checked it under the bucket's lock, then the task went to
 * sleep; a waker on another CPU that changes the word and wakes it in
 * between (sched_waking fires before this switch) leaves a wait with no
 * waker and no lock to wait for, only a CPU to get back (beside a CPU hog,
 * milliseconds). We run in the waiter's context: its memory is current and
 * the word was touched a moment ago.
 */
static __always_inline int futex_released(__u64 uaddr, __u32 cmd, __u64 val, int is_futex2)
{
	__u32 word;

	/* futex_waitv (is_futex2 2) sleeps on several words: not looked at */
	if (is_futex2 ? is_futex2 != 1 : cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return 0;
	if (!uaddr || bpf_probe_read_user(&word, sizeof(word), (void *)uaddr))
		return 0;
	return word != (__u32)val;
}

/*
 * The kernel's word on a SysV semaphore: sempid, the last process whose semop
 * on it succeeded (the one holding it, for a lock). The set is found as
 * semctl() finds it: the semid's index in the IPC namespace's idr, an
 * xarray of up to 64 slots per level.
 */
static __always_inline __u32 sem_holder(struct task_struct *t, __u64 semid, __u32 semnum)
{
	struct ipc_namespace *ns = BPF_CORE_READ(t, nsproxy, ipc_ns);
	unsigned long idx = semid & 0x7fff;	/* ipcid_to_idx(), IPCMNI 32768 */
	struct kern_ipc_perm *perm;
	struct sem_array *sma;
	struct xa_node *node;
	struct pid *pid = NULL;
	void *entry = NULL;
	unsigned char shift;

	if (!ns)
		return 0;
	bpf_core_read(&entry, sizeof(entry), &ns->ids[0 /* IPC_SEM_IDS */].ipcs_idr.idr_rt.xa_head);
	for (int i = 0; i < 4; i++) {
		/* an internal node pointer is tagged 2 (xa_is_node) */
		if (((unsigned long)entry & 3) != 2 || (unsigned long)entry < 4096)
			break;
		node = (struct xa_node *)((unsigned long)entry - 2);
		shift = BPF_CORE_READ(node, shift);
		entry = NULL;
		bpf_core_read(&entry, sizeof(entry), &node->slots[(idx >> shift) & 63]);
		idx &= (1UL << shift) - 1;
	}
	if (!entry || ((unsigned long)entry & 3) || idx)
		return 0;
	perm = entry;
	if (BPF_CORE_READ(perm, id) != (int)semid)
		return 0;
	sma = container_of(perm, struct sem_array, sem_perm);
	if (semnum >= (__u32)BPF_CORE_READ(sma, sem_nsems))
		return 0;
	bpf_core_read(&pid, sizeof(pid), &sma->sems[semnum & 0xffff].sempid);
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
}

/* The current task blocks in a lock syscall: a lock wait begins, with its
 * key and holder. A global function, verified once. */
__noinline int lock_begin(__u32 kind, __u64 arg, __u32 op, __u64 val, int is_futex2)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct task_struct *t;
	struct lock_start s = {};
	struct file *f;
	__u32 *h;

	if (bpf_map_lookup_elem(&locks, &tid))
		return 0;
	t = (struct task_struct *)bpf_get_current_task_btf();
	s.ts = bpf_ktime_get_ns();
	s.arg = arg;
	s.kind = kind;
	s.op = op;
	s.tgid = tgid;
	s.start = leader_start(t);
	switch (kind) {
	case MPT_LOCK_FUTEX:
		futex_key(&s, tgid, op);
		futex_holder(&s, op & FUTEX_CMD_MASK, val, is_futex2);
		if (futex_released(arg, op & FUTEX_CMD_MASK, val, is_futex2))
			s.flags |= MPT_LOCK_RELEASED;
		break;
	case MPT_LOCK_SYSV:
		s.ino = arg;
		s.off = val;	/* each semaphore of a set is a lock of its own */
		s.holder = sem_holder(t, arg, val);
		if (s.holder == tgid)
			s.holder = 0;
		if (s.holder)
			s.hkind = MPT_HOLDER_SEM_LAST;
		break;
	default:
		f = fd_file(t, arg);
		if (f) {
			s.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
			s.ino = BPF_CORE_READ(f, f_inode, i_ino);
			cache_path((__u64)f, s.dev, s.ino);
		} else {
			s.flags |= MPT_LOCK_KEY_FAIL;
		}
		h = bpf_map_lookup_elem(&flholder, &tid);
		if (h) {
			s.holder = *h;
			s.hkind = MPT_HOLDER_BLOCKER;
			bpf_map_delete_elem(&flholder, &tid);
		}
		break;
	}
	if (!bpf_map_update_elem(&locks, &tid, &s, BPF_NOEXIST)) {
		blocked_inc(s.ts);
		grab_stack(s.ts, 0);
	}
	return 0;
}

/* The same walk before Linux 6.9, where struct file_lock held the blocker
 * and the pid itself (see core_fixes.bpf.h): the holder's pid, or 0. */
static __always_inline __u32 file_lock_holder_pre69(struct file_lock___pre69 *req)
{
	struct file_lock___pre69 *b, *next;

	b = BPF_CORE_READ(req, fl_blocker);
	for (int i = 0; i < 16 && b; i++) {
		next = BPF_CORE_READ(b, fl_blocker);
		if (!next)
			break;
		b = next;
	}
	return b ? BPF_CORE_READ(b, fl_pid) : 0;
}

static __always_inline __u32 file_lock_holder(struct file_lock *req)
{
	struct file_lock_core *b, *next;

	if (!bpf_core_type_exists(struct file_lock_core))
		return file_lock_holder_pre69((struct file_lock___pre69 *)req);
	b = BPF_CORE_READ(req, c.flc_blocker);
	for (int i = 0; i < 16 && b; i++) {
		next = BPF_CORE_READ(b, flc_blocker);
		if (!next)
			break;
		b = next;
	}
	return b ? BPF_CORE_READ(b, flc_pid) : 0;
}

/* A blocked file-lock request hangs under the lock it conflicts with, which
 * may itself be a blocked request: the holder is the granted lock at the top.
 * This fires just before the task blocks: kept for lock_begin(). */
static __always_inline void file_lock_blocked(struct file_lock *req, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, holder;

	if (ret != 1 /* FILE_LOCK_DEFERRED */ || !trace_locks || !is_tracked(id >> 32))
		return;
	/* the verifier wants the typed pointer null-checked in a register it sees */
	barrier_var(req);
	if (!req)
		return;
	holder = file_lock_holder(req);
	if (holder)
		bpf_map_update_elem(&flholder, &tid, &holder, BPF_ANY);
}

SEC("tp_btf/posix_lock_inode")
int BPF_PROG(on_posix_lock, struct inode *inode, struct file_lock *fl, int ret)
{
	file_lock_blocked(fl, ret);
	return 0;
}

SEC("tp_btf/flock_lock_inode")
int BPF_PROG(on_flock_lock, struct inode *inode, struct file_lock *fl, int ret)
{
	file_lock_blocked(fl, ret);
	return 0;
}

/* Thread `tid` waited on a lock from `begin` to `end` for a holder waiting
 * for input or the CPU: a queue it stood in, for its own waiters' flags. */
/* The thread's off-CPU record, made empty if it had none (NULL only when
 * the map cannot take it). */
static __always_inline struct off_cpu *off_cpu_of(__u32 tid)
{
	struct off_cpu *o = bpf_map_lookup_elem(&offcpu, &tid);

	if (o)
		return o;
	bpf_map_update_elem(&offcpu, &tid, &off_zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&offcpu, &tid);
}

/* A time off the CPU of `kind` begins at `now`, in the ring's next slot. */
static __always_inline void off_begins(struct off_cpu *o, __u8 kind, __u64 now)
{
	__u32 i;

	if (!o)
		return;
	i = (o->cur + 1) & (OFF_N - 1);
	o->begin[i] = now;
	o->end[i] = 0;
	o->kind[i] = kind;
	o->cur = i;
}

/* The latest time off the CPU, if it is of `kind` and open, ends at `now`. */
static __always_inline void off_ends(struct off_cpu *o, __u8 kind, __u64 now)
{
	__u32 i = o->cur & (OFF_N - 1);

	if (o->kind[i] == kind && o->begin[i] && !o->end[i])
		o->end[i] = now;
}

static __always_inline void queued(__u32 tid, __u64 begin, __u64 end)
{
	struct off_cpu *o = off_cpu_of(tid);

	if (!o)
		return;
	o->q_begin = begin;
	o->q_end = end;
}

/*
 * A lock wait ends at `now`: what was it spent on? The releasing holder's
 * time waiting for input, then that and all time someone runnable was kept
 * off the CPU (the holder before its release, the waiter after its wake:
 * beside a CPU hog, milliseconds), against the whole wait. At least half:
 * a queue for input, or a wait for the CPU; else contention (findings.md).
 */
static __always_inline void classify(struct lock_start *s, __u64 now)
{
	__u64 total = now - s->ts, in = s->in_us * 1000ull, cpu = s->cpu_us * 1000ull;

	if (s->woken > s->ts && s->woken < now)
		cpu += now - s->woken;
	if (in && in * 2 >= total)
		s->flags |= MPT_LOCK_HOLDER_INPUT;
	else if ((in + cpu) * 2 >= total)
		s->flags |= MPT_LOCK_HOLDER_PREEMPTED;
}

/* Thread `tid` runs again: its lock wait is over. Runs in the context of
 * the task switching out, so nothing here may read `current`. */
__noinline int lock_end(__u32 tid)
{
	__u32 zero = 0;
	struct lock_start *s;
	struct mpt_lock *e;
	struct mpt_path_key pk;
	struct mpt_path *path;
	__u64 now;

	s = bpf_map_lookup_elem(&locks, &tid);
	if (!s)
		return 0;
	now = bpf_ktime_get_ns();
	classify(s, now);
	if (s->flags & (MPT_LOCK_HOLDER_INPUT | MPT_LOCK_HOLDER_PREEMPTED | MPT_LOCK_RELEASED))
		queued(tid, s->ts, now);
	put_stack(tid, s->ts, now - s->ts >= lock_min_ns);
	if (now - s->ts < lock_min_ns)
		goto out;
	e = bpf_map_lookup_elem(&lock_scratch, &zero);
	if (!e)
		goto out;
	__builtin_memset(e, 0, sizeof(*e));
	e->h.type = MPT_EV_LOCK;
	e->h.size = sizeof(*e);
	e->h.ts = now;
	e->h.pid = s->tgid;
	e->h.tid = tid;
	e->h.start = s->start;
	e->start_ts = s->ts;
	e->kind = s->kind;
	e->op = s->op;
	e->ret = 0;
	e->flags = s->flags;
	e->dev = s->dev;
	e->ino = s->ino;
	e->off = s->off;
	e->holder = s->holder;
	e->hkind = s->hkind;
	e->waker = s->waker;
	e->waker_tid = s->waker_tid;
	if (s->kind != MPT_LOCK_SYSV && !(s->flags & MPT_LOCK_PRIVATE)) {
		pk.dev = s->dev;
		pk.ino = s->ino;
		path = bpf_map_lookup_elem(&paths, &pk);
		if (path)
			__builtin_memcpy(e->comps, path->comps, sizeof(e->comps));
	}
	output(e, sizeof(*e), MPT_EV_LOCK);
out:
	if (!bpf_map_delete_elem(&locks, &tid))
		__sync_fetch_and_add(&blocked, -1);
	return 0;
}

/* A tracked thread blocks reading input (IS_INPUT_WAIT): noted for
 * holder_off(). A select or poll on no fd is a sleep, not a wait. */
static __always_inline void input_begins(struct task_struct *prev, struct pt_regs *regs, long nr)
{
	if ((IS_SELECT(nr) && !SC_ARG1(regs)) ||
	    (IS_POLL(nr) && !SC_ARG2(regs)))
		return;
	off_begins(off_cpu_of(prev->pid), OFF_INPUT, bpf_ktime_get_ns());
}

/* A tracked thread is preempted. */
static __always_inline void preempted(struct task_struct *prev)
{
	if (!trace_locks || !is_tracked(prev->tgid))
		return;
	off_begins(off_cpu_of(prev->pid), OFF_CPU, bpf_ktime_get_ns());
}

static __always_inline int is_futex_wait(__u32 cmd)
{
	return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
	       cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}

/*
 * A tracked task blocks: which wait, from the syscall it is in (its saved
 * user registers). Only a sleep the task chose (not a preemption, not a page
 * fault's uninterruptible sleep) inside one of these syscalls is a wait; a
 * call that never blocks costs nothing.
 */
static __always_inline int wait_begins(struct task_struct *prev)
{
	struct pt_regs *regs;
	__u64 a0, a1, a3;
	__u32 op;
	long nr;

	if (IS_COMPAT_SYSCALL(prev))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	switch (SYSCALL_NR(regs)) {
	case NR_wait4:
		return wait_block((__s32)SC_ARG1(regs), 0, 0);
	case NR_waitid:
		/* waitid(which, upid, infop, options, ru): a pid only for P_PID (1) */
		a0 = SC_ARG1(regs);
		a1 = SC_ARG2(regs);
		return wait_block(a0 == 1 ? (__s32)a1 : -1, SC_ARG4(regs),
				  MPT_WAIT_WAITID);
	default:
		break;
	}
	if (!trace_locks)
		return 0;
	nr = SYSCALL_NR(regs);
	switch (nr) {
	case NR_futex:
		a0 = SC_ARG1(regs);
		op = SC_ARG2(regs);
		if (is_futex_wait(op & FUTEX_CMD_MASK))
			return lock_begin(MPT_LOCK_FUTEX, a0, op, SC_ARG3(regs), 0);
		return 0;
	case NR_futex_wait:
		/* futex2 (Linux 6.7): futex_wait(uaddr, val, mask, flags, ...);
		 * FUTEX2_PRIVATE is 128 as in futex(2) */
		a0 = SC_ARG1(regs);
		a1 = SC_ARG2(regs);
		a3 = SC_ARG4(regs);
		return lock_begin(MPT_LOCK_FUTEX, a0, a3 & FUTEX_PRIVATE_FLAG, a1, 1);
	case NR_futex_waitv: {
		/* futex_waitv(waiters, nr, ...): key on the first waiter's address.
		 * struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 res; } */
		__u64 uaddr = 0;
		__u32 flags = 0;

		a0 = SC_ARG1(regs);
		bpf_probe_read_user(&uaddr, sizeof(uaddr), (void *)(a0 + 8));
		bpf_probe_read_user(&flags, sizeof(flags), (void *)(a0 + 16));
		return lock_begin(MPT_LOCK_FUTEX, uaddr, flags & FUTEX_PRIVATE_FLAG, 0, 2);
	}
	case NR_flock:
		op = SC_ARG2(regs);
		return lock_begin(MPT_LOCK_FLOCK, SC_ARG1(regs), op, 0, 0);
	case NR_fcntl:
		op = SC_ARG2(regs);
		if (op == 7 /* F_SETLKW */)
			return lock_begin(MPT_LOCK_POSIX, SC_ARG1(regs), op, 0, 0);
		if (op == 38 /* F_OFD_SETLKW */)
			return lock_begin(MPT_LOCK_OFD, SC_ARG1(regs), op, 0, 0);
		return 0;
	case NR_semop:
	case NR_semtimedop: {
		/* semop(semid, sops, nsops): the first sembuf's sem_num */
		__u16 semnum = 0;

		bpf_probe_read_user(&semnum, sizeof(semnum), (void *)SC_ARG2(regs));
		return lock_begin(MPT_LOCK_SYSV, SC_ARG1(regs), 0, semnum, 0);
	}
	default:
		if (IS_INPUT_WAIT(nr))
			input_begins(prev, regs, nr);
		return 0;
	}
}

/*
 * bpf_find_vma() fails with EBUSY while the deferred unlock of an earlier
 * call on this CPU is pending: in sched_switch interrupts are off, so a
 * second tracer on the same tracepoint (another mptrace, -a) can take the
 * slot first. The wait then began with the (tgid, address) key; when the
 * waiter runs again (its switch-in) the key is tried once more, and cached
 * for its next waits. Not in on_waking too: the walk behind bpf_find_vma
 * made that program 250 times longer to verify, for a retry a few
 * microseconds before this one.
 */
static __always_inline void retry_futex_key(struct task_struct *t, struct lock_start *ls)
{
	struct lock_start l = *ls;
	struct fkey_id id = { .tgid = ls->tgid, .uaddr = ls->arg };
	struct mpt_fkey k;

	l.flags = MPT_LOCK_PRIVATE;
	if (!futex_vma || bpf_find_vma(t, l.arg, vma_key_cb, &l, 0))
		return;
	ls->flags &= ~MPT_LOCK_KEY_FAIL;
	if (l.flags & MPT_LOCK_PRIVATE)
		return;		/* an anonymous private mapping: (tgid, address) it is */
	ls->dev = k.dev = l.dev;
	ls->ino = k.ino = l.ino;
	ls->off = k.off = l.off;
	ls->flags &= ~MPT_LOCK_PRIVATE;
	bpf_map_update_elem(&fkeys, &id, &k, BPF_ANY);
}

/*
 * Lock and join waits from the scheduler, as offcputime does: nothing on
 * the syscall path, so untraced processes pay only this program's load and
 * compare per context switch. prev is `current` here: its memory and mm are
 * the ones bpf_find_vma and the user reads see.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct lock_start *ls;
	struct off_cpu *o;
	__u32 tgid, tid;

	tid = next->pid;
	/* an idle task (pid 0) never waits and is never traced: on a machine
	 * with a CPU to spare, half of all switches are to or from one */
	if (blocked > 0 && tid) {
		/* `locks` fills only with lock tracing on; one lookup here
		 * spares lock_end() its own for every thread not in a lock. A
		 * thread sleeps in one call at a time: a join wait's is none. */
		ls = !wait_resume(tid) && trace_locks ? bpf_map_lookup_elem(&locks, &tid) : NULL;
		if (ls) {
			if (ls->kind == MPT_LOCK_FUTEX && (ls->flags & MPT_LOCK_KEY_FAIL))
				retry_futex_key(next, ls);
			lock_end(tid);
		}
		o = trace_locks ? bpf_map_lookup_elem(&offcpu, &tid) : NULL;
		if (o)
			off_ends(o, OFF_CPU, bpf_ktime_get_ns());
	}
	if (!prev->pid)
		return 0;
	/* runnable, not running: a lock it holds makes its waiters wait for the CPU */
	if (preempt || !prev_state) {
		preempted(prev);
		return 0;
	}
	/* TASK_INTERRUPTIBLE: every wait above sleeps so (a fault does not) */
	if (!(prev_state & 1))
		return 0;
	tgid = prev->tgid;
	if (tgid != self_pid && !is_tracked(tgid))
		return 0;
	return wait_begins(prev);
}

/* How much of [from, to] the interval [begin, end] covers (end 0: none). */
static __always_inline __u64 overlap(__u64 begin, __u64 end, __u64 from, __u64 to)
{
	__u64 lo = begin > from ? begin : from, hi = end < to ? end : to;

	return end && hi > lo ? hi - lo : 0;
}

/* holder_off()'s walk of a copy of the holder's intervals: a bpf_loop
 * callback, verified once. As a loop in on_waking, its 16 rounds of
 * branches made that program the slowest of all to verify (10-14 ms of
 * every start-up, against 1 ms now). */
struct holder_walk {
	__u64 begin[OFF_N];
	__u64 end[OFF_N];
	__u8 kind[OFF_N];
	__u64 from, to, in, cpu;
};

static long holder_step(__u32 i, void *data)
{
	struct holder_walk *h = data;
	__u64 t;

	i &= OFF_N - 1;
	t = overlap(h->begin[i], h->end[i], h->from, h->to);
	h->in += t * (h->kind[i] & OFF_INPUT);
	h->cpu += t * ((h->kind[i] & OFF_CPU) >> 1);
	return 0;
}

/*
 * A futex waiter woken by `tid`, the holder releasing it: how long was that
 * holder, over the wait so far, waiting for input (or queued on a lock for
 * it, as the second in line), and how long not running though runnable?
 * lock_end() weighs them against the whole wait.
 */
static __always_inline void holder_off(struct lock_start *ls, __u32 tid, __u64 now)
{
	struct off_cpu *o = bpf_map_lookup_elem(&offcpu, &tid);
	struct holder_walk h;
	__u64 in, cpu;

	if (!o || now <= ls->ts)
		return;
	__builtin_memcpy(h.begin, o->begin, sizeof(h.begin));
	__builtin_memcpy(h.end, o->end, sizeof(h.end));
	__builtin_memcpy(h.kind, o->kind, sizeof(h.kind));
	h.from = ls->ts;
	h.to = now;
	h.in = h.cpu = 0;
	bpf_loop(OFF_N, holder_step, &h, 0);
	in = (h.in + overlap(o->q_begin, o->q_end, ls->ts, now)) / 1000;
	cpu = h.cpu / 1000;
	ls->in_us = in < 0xffffffff ? in : 0xffffffff;	/* 71 minutes */
	ls->cpu_us = cpu < 0xffffffff ? cpu : 0xffffffff;
}

/* The waker of a blocked tracked thread is `current` (a futex wake, an
 * unlock, a child's exit). Interrupt-time wakes (timeouts) name whatever
 * ran; only traced wakers are kept for locks. */
SEC("tp_btf/sched_waking")
int BPF_PROG(on_waking, struct task_struct *p)
{
	__u32 tid, tgid;
	__u64 now;
	struct lock_start *ls;
	struct wait_start *ws;
	struct off_cpu *o;

	if (blocked <= 0)
		return 0;
	tid = p->pid;
	tgid = bpf_get_current_pid_tgid() >> 32;
	now = bpf_ktime_get_ns();
	o = trace_locks ? bpf_map_lookup_elem(&offcpu, &tid) : NULL;
	if (o) {
		/* runnable from now until it runs: waiting for the CPU */
		off_ends(o, OFF_INPUT, now);
		off_begins(o, OFF_CPU, now);
	}
	ws = bpf_map_lookup_elem(&waits, &tid);
	if (ws) {
		ws->waker = tgid;
		return 0;	/* in a join wait, so in no lock wait */
	}
	ls = trace_locks ? bpf_map_lookup_elem(&locks, &tid) : NULL;
	if (!ls)
		return 0;
	ls->woken = now;
	if (is_tracked(tgid)) {
		ls->waker = tgid;
		ls->waker_tid = (__u32)bpf_get_current_pid_tgid();
		if (ls->kind == MPT_LOCK_FUTEX)
			holder_off(ls, ls->waker_tid, ls->woken);
	}
	return 0;
}
