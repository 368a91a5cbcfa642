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
const volatile __u8 scan_test_env = 1;	 /* look for MPTRACE_TEST= at exec */
const volatile __u32 mutex_owner_off = 8; /* glibc __owner offset; 0: do not read */

/* Records dropped because the ring was full, per event type, and
 * processes that could not be tracked because `tracked` was full. */
__u64 lost[MPT_EV_MAX] = {};
__u64 lost_track = 0;
/* Traced threads now blocked in a futex wait: with none, a wake has nobody
 * to be recorded for, and costs nothing. */
__s64 futex_waiters = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} rb SEC(".maps");

/* tgid -> group leader start_time (0: any, for the /proc snapshot). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} tracked SEC(".maps");

/* tid -> wait4/waitid in progress */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct wait_start);
} waits SEC(".maps");

/* tid -> lock syscall in progress */
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

struct wake_rec {
	__u64 ts;
	__u32 tgid;
	__u32 _pad;
};

/* futex key -> last traced waker */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct mpt_fkey);
	__type(value, struct wake_rec);
} wakes SEC(".maps");

/* SysV semaphore set -> tgid of the last traced semop that succeeded. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} semlast SEC(".maps");

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

static __always_inline __u64 leader_start(struct task_struct *t)
{
	return BPF_CORE_READ(t, group_leader, start_time);
}

static __always_inline void fill_hdr(struct mpt_hdr *h, __u32 type, __u32 size,
				     struct task_struct *t)
{
	h->type = type;
	h->size = size;
	h->ts = bpf_ktime_get_ns();
	h->pid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	h->start = leader_start(t);
}

/*
 * Submit without waking the consumer unless enough is queued: a wake-up per
 * record costs ~1.2x on fork storms, batching ~1.05x; userspace polls with a
 * short timeout so latency stays bounded.
 */
static __always_inline __u64 rb_flags(void)
{
	if (bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

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
	if (bpf_ringbuf_output(&rb, data, size, rb_flags()))
		count_lost(type);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u32 ctid = BPF_CORE_READ(child, pid);
	int thread = ctgid != ctid;
	struct mpt_fork *e;
	__u64 start;

	if (!is_tracked(ptgid))
		return 0;
	start = leader_start(child);
	if (!thread && !trace_all &&
	    bpf_map_update_elem(&tracked, &ctgid, &start, BPF_ANY)) {
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
	e->ptid = BPF_CORE_READ(parent, pid);
	e->pstart = leader_start(parent);
	e->flags = thread ? MPT_FORK_THREAD : 0;
	e->_pad = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, child, comm);
	bpf_ringbuf_submit(e, rb_flags());
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
static __always_inline __u32 new_reaper(struct task_struct *t)
{
	struct task_struct *ns_reaper, *p = t;
	struct signal_struct *sig;
	struct pid_namespace *ns;
	struct pid *pid;
	unsigned int level;

	pid = BPF_CORE_READ(t, thread_pid);
	level = BPF_CORE_READ(pid, level);
	ns = NULL;
	bpf_core_read(&ns, sizeof(ns), &pid->numbers[level & 31].ns);
	ns_reaper = BPF_CORE_READ(ns, child_reaper);

	sig = BPF_CORE_READ(t, signal);
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
static __always_inline int will_autoreap(struct task_struct *t)
{
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);
	struct k_sigaction act = {};
	struct sighand_struct *sh;

	if (BPF_CORE_READ(t, exit_signal) != 17 /* SIGCHLD */)
		return 0;
	sh = BPF_CORE_READ(parent, sighand);
	if (!sh)
		return 0;
	bpf_core_read(&act, sizeof(act), &sh->action[16]);
	return act.sa.sa_handler == (void *)1 /* SIG_IGN */ ||
	       (act.sa.sa_flags & 2 /* SA_NOCLDWAIT */);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	/* do_exit() has just decremented signal->live: zero means this was
	 * the group's last thread. Read from the task rather than from the
	 * tracepoint's group_dead argument, which only Linux 6.16+ passes. */
	int group_dead = BPF_CORE_READ(p, signal, live.counter) == 0;
	__u32 tid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);
	struct mpt_exit *e;

	struct lock_start *ls;

	/* A thread that dies inside a wait never returns from it. */
	bpf_map_delete_elem(&waits, &tid);
	ls = bpf_map_lookup_elem(&locks, &tid);
	if (ls) {
		if (ls->kind == MPT_LOCK_FUTEX)
			__sync_fetch_and_add(&futex_waiters, -1);
		bpf_map_delete_elem(&locks, &tid);
	}
	if (!group_dead || !is_tracked(tgid))
		return 0;
	e = reserve(sizeof(*e), MPT_EV_EXIT);
	if (!e)
		return 0;
	fill_hdr(&e->h, MPT_EV_EXIT, sizeof(*e), p);
	e->status = BPF_CORE_READ(p, exit_code);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->reaper = new_reaper(p);
	e->flags = will_autoreap(p) ? MPT_EXIT_AUTOREAP : 0;
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(on_free, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u64 start, *want;
	struct mpt_hdr *e;

	if (BPF_CORE_READ(p, pid) != tgid)
		return 0;	/* only the leader's release ends the process */
	start = BPF_CORE_READ(p, start_time);
	if (!trace_all) {
		/* The pid may already belong to a new process (release is
		 * RCU-delayed): only forget the one that was released. */
		want = bpf_map_lookup_elem(&tracked, &tgid);
		if (!want)
			return 0;
		if (*want && *want != start)
			return 0;
		bpf_map_delete_elem(&tracked, &tgid);
	}
	e = reserve(sizeof(*e), MPT_EV_FREE);
	if (!e)
		return 0;
	e->type = MPT_EV_FREE;
	e->size = sizeof(*e);
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = tgid;
	e->start = start;
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

/* ---- wait4 / waitid: join waits and who reaped whom ---- */

/* The syscall handlers below are global functions: the verifier checks each
 * once, not once per call site (on_sys_enter took 177 ms to load inlined). */

__noinline int wait_enter(__s32 target, __u64 options, __u64 infop, __u32 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct wait_start w = {};

	if (tgid != self_pid && !is_tracked(tgid))
		return 0;
	w.ts = bpf_ktime_get_ns();
	w.tgid = tgid;
	w.start = leader_start((struct task_struct *)bpf_get_current_task_btf());
	w.target = target;
	w.infop = infop;
	w.flags = flags | ((options & 1 /* WNOHANG */) ? MPT_WAIT_NOHANG : 0);
	bpf_map_update_elem(&waits, &tid, &w, BPF_ANY);
	return 0;
}

__noinline int wait_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct task_struct *t;
	struct wait_start *w;
	struct mpt_wait *e;
	__u32 reaped = 0;
	int si_pid = 0;

	w = bpf_map_lookup_elem(&waits, &tid);
	if (!w)
		return 0;
	if (w->flags & MPT_WAIT_WAITID) {
		/* waitid returns 0 and the child in infop->si_pid (offset 16
		 * on 64-bit: three ints, padding, then the union). */
		if (ret == 0 && w->infop &&
		    bpf_probe_read_user(&si_pid, sizeof(si_pid), (void *)(w->infop + 16)) == 0 &&
		    si_pid > 0)
			reaped = si_pid;
	} else if (ret > 0) {
		reaped = ret;
	}
	/* A WNOHANG poll that found nothing is neither a join nor a reap. */
	if ((w->flags & MPT_WAIT_NOHANG) && !reaped)
		goto out;
	e = reserve(sizeof(*e), MPT_EV_WAIT);
	if (!e)
		goto out;
	t = (struct task_struct *)bpf_get_current_task_btf();
	fill_hdr(&e->h, MPT_EV_WAIT, sizeof(*e), t);
	e->start_ts = w->ts;
	e->ret = ret;
	e->reaped = reaped;
	e->target = w->target;
	e->flags = w->flags;
	bpf_ringbuf_submit(e, rb_flags());
out:
	bpf_map_delete_elem(&waits, &tid);
	return 0;
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
	e->code = info ? BPF_CORE_READ(info, si_code) : 0;
	e->result = result;
	cur = (struct task_struct *)bpf_get_current_task_btf();
	e->sender_pid = BPF_CORE_READ(cur, tgid);
	BPF_CORE_READ_STR_INTO(&e->sender_comm, cur, comm);
	bpf_ringbuf_submit(e, rb_flags());
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


static __always_inline void file_path(struct mpt_lock *e, struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry), *parent;
	struct vfsmount *vmnt = BPF_CORE_READ(f, f_path.mnt);
	struct mount *mnt = container_of(vmnt, struct mount, mnt);
	struct mount *mparent;
	int i, slot = 0;

	e->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	e->ino = BPF_CORE_READ(f, f_inode, i_ino);
	for (i = 0; i < MPT_PATH_COMPS + 4 && slot < MPT_PATH_COMPS; i++) {
		parent = BPF_CORE_READ(d, d_parent);
		if (d == parent) {
			/* root of this mount: continue in the parent mount */
			mparent = BPF_CORE_READ(mnt, mnt_parent);
			if (mparent == mnt)
				break;
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mparent;
			continue;
		}
		bpf_probe_read_kernel_str(e->comps[slot & (MPT_PATH_COMPS - 1)], MPT_COMP_LEN,
					  BPF_CORE_READ(d, d_name.name));
		slot++;
		d = parent;
	}
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
	file_path(e, (struct file *)file);
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
		if (bpf_find_vma((struct task_struct *)bpf_get_current_task_btf(), l->arg,
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

__noinline int lock_begin(__u32 kind, __u64 arg, __u32 op, __u64 val, int is_futex2)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct task_struct *t;
	struct lock_start s = {};
	struct file *f;
	__u32 *last;

	if (!trace_locks || !is_tracked(tgid))
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
		break;
	case MPT_LOCK_SYSV:
		s.ino = arg;
		last = bpf_map_lookup_elem(&semlast, &arg);
		if (last && *last != tgid) {
			s.holder = *last;
			s.hkind = MPT_HOLDER_SEM_LAST;
		}
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
		break;
	}
	if (bpf_map_update_elem(&locks, &tid, &s, BPF_ANY) == 0 && kind == MPT_LOCK_FUTEX)
		__sync_fetch_and_add(&futex_waiters, 1);
	return 0;
}

/* The same walk before Linux 6.9, where struct file_lock held the blocker
 * and the pid itself (see core_fixes.bpf.h). */
static __always_inline void file_lock_blocked_pre69(struct lock_start *s,
						    struct file_lock___pre69 *req)
{
	struct file_lock___pre69 *b, *next;

	b = BPF_CORE_READ(req, fl_blocker);
	for (int i = 0; i < 16 && b; i++) {
		next = BPF_CORE_READ(b, fl_blocker);
		if (!next)
			break;
		b = next;
	}
	if (b) {
		s->holder = BPF_CORE_READ(b, fl_pid);
		s->hkind = MPT_HOLDER_BLOCKER;
	}
}

/* A blocked file-lock request hangs under the lock it conflicts with, which
 * may itself be a blocked request: the holder is the granted lock at the top. */
static __always_inline void file_lock_blocked(struct file_lock *req, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct file_lock_core *b, *next;
	struct lock_start *s;

	if (ret != 1 /* FILE_LOCK_DEFERRED */)
		return;
	/* the verifier wants the typed pointer null-checked in a register it sees */
	barrier_var(req);
	if (!req)
		return;
	s = bpf_map_lookup_elem(&locks, &tid);
	if (!s)
		return;
	if (!bpf_core_type_exists(struct file_lock_core)) {
		file_lock_blocked_pre69(s, (struct file_lock___pre69 *)req);
		return;
	}
	b = BPF_CORE_READ(req, c.flc_blocker);
	for (int i = 0; i < 16 && b; i++) {
		next = BPF_CORE_READ(b, flc_blocker);
		if (!next)
			break;
		b = next;
	}
	if (b) {
		s->holder = BPF_CORE_READ(b, flc_pid);
		s->hkind = MPT_HOLDER_BLOCKER;
	}
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

__noinline int lock_end(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0, tid = (__u32)id, tgid = id >> 32;
	struct task_struct *t;
	struct lock_start *s;
	struct mpt_lock *e;
	struct wake_rec *w;
	struct mpt_path_key pk;
	struct mpt_path *path;
	struct mpt_fkey k;
	__u64 now;

	s = bpf_map_lookup_elem(&locks, &tid);
	if (!s)
		return 0;
	if (s->kind == MPT_LOCK_FUTEX)
		__sync_fetch_and_add(&futex_waiters, -1);
	if (s->kind == MPT_LOCK_SYSV && ret == 0)
		bpf_map_update_elem(&semlast, &s->arg, &tgid, BPF_ANY);
	now = bpf_ktime_get_ns();
	if (now - s->ts < lock_min_ns)
		goto out;
	e = bpf_map_lookup_elem(&lock_scratch, &zero);
	if (!e)
		goto out;
	__builtin_memset(e, 0, sizeof(*e));
	t = (struct task_struct *)bpf_get_current_task_btf();
	fill_hdr(&e->h, MPT_EV_LOCK, sizeof(*e), t);
	e->h.ts = now;
	e->start_ts = s->ts;
	e->kind = s->kind;
	e->op = s->op;
	e->ret = ret;
	e->flags = s->flags;
	e->dev = s->dev;
	e->ino = s->ino;
	e->off = s->off;
	e->holder = s->holder;
	e->hkind = s->hkind;
	if (s->kind == MPT_LOCK_FUTEX) {
		k.dev = e->dev;
		k.ino = e->ino;
		k.off = e->off;
		w = bpf_map_lookup_elem(&wakes, &k);
		if (w && w->ts >= s->ts && w->ts <= now)
			e->waker = w->tgid;
	}
	if (s->kind != MPT_LOCK_SYSV && !(s->flags & MPT_LOCK_PRIVATE)) {
		pk.dev = s->dev;
		pk.ino = s->ino;
		path = bpf_map_lookup_elem(&paths, &pk);
		if (path)
			__builtin_memcpy(e->comps, path->comps, sizeof(e->comps));
	}
	output(e, sizeof(*e), MPT_EV_LOCK);
out:
	bpf_map_delete_elem(&locks, &tid);
	return 0;
}

static __always_inline int is_futex_wait(__u32 cmd)
{
	return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
	       cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}

static __always_inline int is_futex_wake(__u32 cmd)
{
	return cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET || cmd == FUTEX_WAKE_OP ||
	       cmd == FUTEX_UNLOCK_PI;
}

/* Remember the traced thread that woke a futex, so the waiter's record can
 * name it. Only for shared keys worth a lookup: the cost is one find_vma. */
__noinline int futex_wake(__u64 uaddr, __u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct lock_start l = {};
	struct wake_rec w = {}, *old;
	struct mpt_fkey k;

	if (!trace_locks || futex_waiters <= 0 || !is_tracked(tgid))
		return 0;
	/* the same key as the waiter's: (tgid, address) or the backing file */
	l.arg = uaddr;
	futex_key(&l, tgid, op);
	k.dev = l.dev;
	k.ino = l.ino;
	k.off = l.off;
	w.ts = bpf_ktime_get_ns();
	w.tgid = tgid;
	/* in place when the key is known: an LRU update recycles an element */
	old = bpf_map_lookup_elem(&wakes, &k);
	if (old) {
		old->ts = w.ts;
		old->tgid = w.tgid;
	} else {
		bpf_map_update_elem(&wakes, &k, &w, BPF_ANY);
	}
	return 0;
}

/*
 * All syscalls go through two raw tracepoints. The per-syscall tracepoints
 * (syscalls:sys_enter_futex, ...) would filter the same way, but each costs
 * ~40 ms of RCU synchronisation to attach and again to detach: with twenty
 * of them `mptrace -- true` took 1.2 s. One switch on the number is cheap.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	__u64 a0, a1, a3;
	__u32 op, cmd;

	if (IS_COMPAT_SYSCALL(bpf_get_current_task_btf()))
		return 0;
	switch (id) {
	case NR_wait4:
		return wait_enter((__s32)PT_REGS_PARM1_CORE_SYSCALL(regs),
				  PT_REGS_PARM3_CORE_SYSCALL(regs), 0, 0);
	case NR_waitid:
		/* waitid(which, upid, infop, options, ru): a pid only for P_PID (1) */
		a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
		a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
		return wait_enter(a0 == 1 ? (__s32)a1 : -1, PT_REGS_PARM4_CORE_SYSCALL(regs),
				  PT_REGS_PARM3_CORE_SYSCALL(regs), MPT_WAIT_WAITID);
	default:
		break;
	}
	if (!trace_locks)
		return 0;
	switch (id) {
	case NR_futex:
		a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
		op = PT_REGS_PARM2_CORE_SYSCALL(regs);
		cmd = op & FUTEX_CMD_MASK;
		if (is_futex_wait(cmd))
			return lock_begin(MPT_LOCK_FUTEX, a0, op, PT_REGS_PARM3_CORE_SYSCALL(regs), 0);
		if (is_futex_wake(cmd))
			return futex_wake(a0, op);
		return 0;
	case NR_futex_wait:
		/* futex2 (Linux 6.7): futex_wait(uaddr, val, mask, flags, ...);
		 * FUTEX2_PRIVATE is 128 as in futex(2) */
		a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
		a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
		a3 = PT_REGS_PARM4_CORE_SYSCALL(regs);
		return lock_begin(MPT_LOCK_FUTEX, a0, a3 & FUTEX_PRIVATE_FLAG, a1, 1);
	case NR_futex_wake:
		/* futex_wake(uaddr, mask, nr, flags) */
		return futex_wake(PT_REGS_PARM1_CORE_SYSCALL(regs),
				  PT_REGS_PARM4_CORE_SYSCALL(regs) & FUTEX_PRIVATE_FLAG);
	case NR_futex_waitv: {
		/* futex_waitv(waiters, nr, ...): key on the first waiter's address.
		 * struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 res; } */
		__u64 uaddr = 0;
		__u32 flags = 0;

		a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
		bpf_probe_read_user(&uaddr, sizeof(uaddr), (void *)(a0 + 8));
		bpf_probe_read_user(&flags, sizeof(flags), (void *)(a0 + 16));
		return lock_begin(MPT_LOCK_FUTEX, uaddr, flags & FUTEX_PRIVATE_FLAG, 0, 1);
	}
	case NR_flock:
		op = PT_REGS_PARM2_CORE_SYSCALL(regs);
		if (op & 4 /* LOCK_NB */ || op & 8 /* LOCK_UN */)
			return 0;
		return lock_begin(MPT_LOCK_FLOCK, PT_REGS_PARM1_CORE_SYSCALL(regs), op, 0, 0);
	case NR_fcntl:
		cmd = PT_REGS_PARM2_CORE_SYSCALL(regs);
		if (cmd == 7 /* F_SETLKW */)
			return lock_begin(MPT_LOCK_POSIX, PT_REGS_PARM1_CORE_SYSCALL(regs), cmd, 0, 0);
		if (cmd == 38 /* F_OFD_SETLKW */)
			return lock_begin(MPT_LOCK_OFD, PT_REGS_PARM1_CORE_SYSCALL(regs), cmd, 0, 0);
		return 0;
	case NR_semop:
	case NR_semtimedop:
		return lock_begin(MPT_LOCK_SYSV, PT_REGS_PARM1_CORE_SYSCALL(regs), 0, 0, 0);
	default:
		return 0;
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	if (IS_COMPAT_SYSCALL(bpf_get_current_task_btf()))
		return 0;
	switch (SYSCALL_NR(regs)) {
	case NR_wait4:
	case NR_waitid:
		return wait_exit(ret);
	case NR_futex:
	case NR_futex_wait:
	case NR_futex_waitv:
	case NR_flock:
	case NR_fcntl:
	case NR_semop:
	case NR_semtimedop:
		return trace_locks ? lock_end(ret) : 0;
	default:
		return 0;
	}
}
