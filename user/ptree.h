/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The process-tree model: PURE (no libbpf, no I/O, no clock, no globals).
 * It is fed validated events one at a time, by the live ring buffer and by
 * the replay of a recording alike, and answers what happened to every
 * process of the traced tree.
 */
#ifndef MPTRACE_PTREE_H
#define MPTRACE_PTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"
#include "util.h"

struct fg_state;

enum pt_mode { PT_MODE_COMMAND, PT_MODE_PID, PT_MODE_SYSTEM };
enum pt_state { PT_RUNNING, PT_ZOMBIE, PT_REAPED };
enum pt_reap { PT_REAP_NONE, PT_REAP_PARENT, PT_REAP_ADOPTER, PT_REAP_AUTO };

#define PT_NONE UINT64_MAX	/* a time that did not happen */

struct pt_waitstat {
	uint32_t count;
	uint64_t total_ns;
	uint64_t max_ns;
};

struct pt_exec {
	uint64_t ts;
	char *filename;
	char **argv;		/* NULL-terminated */
	int argc;
	bool truncated;
};

struct pt_sig {			/* the last sender of one signal */
	struct pt_sig *next;
	uint32_t sig;
	uint32_t cause;			/* enum sig_cause: SIG_BY_PROCESS names sender */
	uint32_t sender;
	char comm[MPT_COMM_LEN + 1];
};

enum pt_span_kind { PT_SPAN_JOIN, PT_SPAN_SIGNAL };

/* One join wait or received signal, kept for timelines (SVG, Perfetto;
 * lock waits are in ptree.waitlog). The totals count every one. */
struct pt_span {
	uint64_t start_ts, end_ts;	/* a signal: both its time */
	uint32_t tid;			/* the waiting or receiving thread */
	uint32_t other;			/* join: the reaped pid; signal: the sender */
	uint16_t kind;			/* enum pt_span_kind */
	uint16_t sig;			/* PT_SPAN_SIGNAL */
	uint16_t cause;			/* PT_SPAN_SIGNAL: enum sig_cause (other: the sender) */
};

#define PT_MAX_SPANS 200000	/* spans kept in all; later ones are only counted */

/* One frame of a waiting thread's user stack, innermost first. */
struct pt_frame {
	uint64_t addr;		/* the pc (innermost) or a return address */
	uint64_t offset;	/* from the symbol's start; without one, from the module's base */
	char *module;		/* the mapped file's path, NULL if in no file mapping */
	char *symbol;		/* NULL if the file has no symbol there (or is missing) */
};

#define PT_MAX_FRAMES 24
#define PT_MAX_STACKS 4096	/* stacks kept in all; later ones are only counted */
#define PT_STACK_PENDING 64	/* stacks waiting for their wait's record */

/* The user stack of a wait as it blocked (struct mpt_stack, symbolized). */
struct pt_stack {
	struct pt_stack *next;	/* ptree.stacks: every one, freed with the model */
	uint32_t pid, tid;
	uint64_t ts;		/* the wait's start: which wait it belongs to */
	bool missing;		/* some of its modules' files were missing or changed */
	bool kept;		/* ptree_forget_stacks: something points to it */
	uint32_t n;
	struct pt_frame f[PT_MAX_FRAMES];
};

/* A wait in progress, known from the BPF wait tables (a deadlocked wait
 * never ends, so its end record never comes). */
struct pt_inwait {
	struct pt_inwait *next;
	uint32_t tid;
	bool child;		/* waiting for children (wait4/waitid), else a lock */
	int32_t target;		/* child wait: the pid waited for, -1 any */
	struct pt_lock *lock;	/* lock wait */
	uint32_t holder;	/* process (tgid) holding the lock, 0 if unknown */
	bool holder_inferred;	/* holder inferred, not seen (a semaphore in a deadlock) */
	uint64_t start_ts;
	const struct pt_stack *stack;	/* where it waits, or NULL */
};

/* A shared file mapping a process has used (a page of it is in its page
 * tables): from its MPT_EV_MAPS records, for semaphore holder inference. */
struct pt_shm {
	uint64_t dev, ino;	/* the kernel's s_dev and inode, as in a futex key */
};

#define PT_MAX_SHM 256	/* per process; past it its mappings count as unknown */

struct pt_proc {
	int id;			/* 1.. in order of creation; unique per report */
	uint32_t slot;		/* its index in ptree.procs: id - 1 unless processes
				 * before it were forgotten (ptree_forget) */
	uint32_t pid;
	uint64_t kstart;	/* kernel start_time; 0 until known (snapshot) */
	struct pt_proc *parent;	/* fork lineage; NULL for roots */
	struct pt_proc *child, *sibling, *last_child;
	struct pt_proc *hnext;	/* pid hash chain */
	uint32_t ppid;		/* pid of the forking process */
	uint32_t cur_ppid;	/* current real parent (changes when orphaned) */
	char comm[MPT_COMM_LEN + 1];
	char **argv;		/* last exec's argv, or the parent's; NULL-terminated */
	int argc;
	bool argv_owned;	/* argv is its own (exec or snapshot), not inherited */
	char **snap_argv;	/* argv read from /proc for a snapshot process */
	struct pt_exec *execs;
	int nexecs;
	bool seen_late;
	bool is_root;		/* the traced command itself */
	enum pt_state state;
	uint64_t start_ts, exit_ts, reaped_ts, orphaned_ts; /* PT_NONE if not */
	bool exited;
	uint32_t status;	/* wait status when exited */
	uint32_t reaped_by;	/* 0: nobody/auto */
	enum pt_reap reap;
	uint32_t adopted_by;	/* 0: not adopted */
	uint64_t adopted_ts;	/* when it was handed to adopted_by; PT_NONE if not */
	bool autoreap;		/* its parent ignored SIGCHLD when it exited */
	bool kids_listed;	/* at its death, BPF listed the children it left (kids_left) */
	bool alive_at_root_exit;/* a leak candidate */
	bool killed_by_us;	/* --kill-leaks signalled it */
	bool sigkilled_by_us;	/* ... with SIGKILL: it will exit, whatever it does */
	uint64_t parent_woke_ts;	/* a zombie whose exit woke its parent's blocking wait for
					 * it (or any child): when that wait ended; 0: not seen */
	bool killed_as_leak;	/* ... because it outlived the command (not a deadlock kill) */
	bool gone;		/* its exit or release record was lost, then the kernel had it no
				 * more (MPT_EV_GONE): state PT_REAPED, how it ended unknown */
	uint32_t threads;
	struct pt_waitstat lock_wait, join_wait;
	struct pt_sig *sigs;
	struct pt_span *spans;	/* in order of their end */
	uint32_t nspans;
	uint32_t killer_pid;	/* who sent the fatal signal (a process), 0 if unknown */
	uint32_t killer_cause;	/* enum sig_cause of the fatal signal; SIG_BY_KERNEL and
				 * no killer_pid: unknown (no signal record seen) */
	bool killer_known;	/* a signal record told who sent the fatal signal */
	char killer_comm[MPT_COMM_LEN + 1];
	uint32_t findings;	/* PT_F_* bits, set by analyze */
	char *test;		/* MPTRACE_TEST of its exec (or NULL): see pt_test_of() */
	struct pt_inwait *inwaits;
	struct pt_proc *wnext, *wprev;	/* ptree.waiting: it has waits in progress */
	bool waiting;			/* on ptree.waiting */
	uint64_t zombie_noted;	/* stream: threshold line already printed */
	struct pt_proc *znext, *zprev;	/* ptree.zombies: the current zombies */
	/* forgetting (ptree_forget; -a, top, -p) */
	struct pt_proc *rnext, *rprev;	/* ptree.reaped: reaped, in order of reaping */
	uint32_t pins;		/* entries of the lock-wait log, the longest waits, deadlocks */
	bool doomed;		/* ptree_forget: being freed */
	bool relink;		/* ptree_forget: a kept parent of doomed children */
	char **argv_copy;	/* an inherited argv of its own (forgetting frees parents) */
	char *lineage;		/* its forgotten ancestors' names, nearest last, or NULL */
	struct pt_tid *threads_l;	/* its thread ids (pt_tid.pnext) */
	struct pt_shm *shm;	/* its used shared file mappings, at maps_ts */
	uint32_t nshm;
	bool shm_full;		/* more than PT_MAX_SHM: not all known */
	uint64_t maps_ts;	/* its newest MPT_EV_MAPS record; 0: none */
};

enum pt_lock_type { PT_LK_FUTEX, PT_LK_FLOCK, PT_LK_POSIX, PT_LK_OFD, PT_LK_SYSV };

/* What kind of wait, from its stack (and a futex's holder): docs/findings.md. */
enum pt_wait_class {
	PT_WC_UNKNOWN,		/* a futex wait without a usable stack */
	PT_WC_MUTEX, PT_WC_SEMAPHORE, PT_WC_CONDITION, PT_WC_JOIN, PT_WC_RWLOCK,
	PT_WC_BARRIER, PT_WC_OTHER,
	PT_WC_QUEUE,		/* a semaphore whose holder was waiting for input: a queue */
	PT_WC_FILE,		/* flock, fcntl, OFD locks */
	PT_WC_SYSV,		/* System V semaphores */
	PT_WC_N
};

struct pt_idset {		/* small set of pids, insertion order */
	uint32_t *v;
	size_t n, cap;
};

struct pt_lock {
	char id[96];
	enum pt_lock_type type;
	uint32_t kflags;	/* the key the id was made from (MPT_LOCK_*) */
	uint64_t kdev, kino, koff;
	char *name;		/* path, or NULL */
	uint32_t waits;
	uint64_t total_ns, max_ns;
	struct pt_idset waiters, wakers, holders;
	uint64_t *waiter_ns;	/* per waiter (same index as waiters.v) */
	struct pt_lock *hnext;
	uint8_t cls;		/* enum pt_wait_class of its first classified wait */
	struct pt_idset wtids, ktids;	/* threads that waited on it, that woke a waiter */
	char comm[MPT_COMM_LEN + 1];	/* a private futex's process, at its first wait */
	char *where;		/* a private futex's place: "heap", "sym+0x10 in lib.so"; or NULL */
	bool keyfail;		/* a wait's shared key could not be read: maybe not private */
	uint64_t qwait_ns;	/* of total_ns, waits whose holder was waiting for input */
	uint64_t pwait_ns;	/* of total_ns, waits whose holder was preempted */
	uint64_t last_ts;	/* its newest wait (begin or end): forgetting frees the oldest */
	bool kept;		/* ptree_forget_locks: something points to it */
};

struct pt_lockwait {		/* one of the longest lock waits */
	uint64_t start_ts, dur_ns;
	struct pt_proc *proc;
	uint32_t tid;
	struct pt_lock *lock;
	uint32_t waker;
	uint32_t holder;	/* process holding it, 0 if unknown */
	bool holder_inferred;	/* the holder was inferred (pt_infer_holder), not seen */
	bool holder_input;	/* its releaser was waiting for input (MPT_LOCK_HOLDER_INPUT),
				 * or queued on the lock itself so (a queue wait) */
	bool holder_preempted;	/* its releaser was preempted (MPT_LOCK_HOLDER_PREEMPTED) */
	bool unfinished;	/* still waiting when tracing ended */
	const struct pt_stack *stack;	/* where it waited, or NULL */
	uint8_t cls;		/* enum pt_wait_class */
	uint32_t waker_tid;	/* the thread that woke it, 0 if unknown */
};

#define PT_TOP_WAITS 10
#define PT_MAX_WAITLOG 200000	/* lock waits kept for chains and pictures */
#define PT_MAX_WAITLOG_FORGET 2048	/* -p, -a, top: the newest (entries pin processes) */
#define PT_KEEP_LOCKS 4096	/* -p, -a, top: locks kept; past it, down to half */
#define PT_KEEP_STACKS 1024	/* -p, -a, top: stacks before a pass of ptree_forget_stacks */
#define PT_RECENT 64

struct pt_dl_member {
	struct pt_proc *proc;
	struct pt_lock *waits_on;	/* NULL: it waits for its children */
	uint64_t since;
	const struct pt_stack *stack;	/* where it waits, or NULL */
	bool inferred;		/* that the next member holds waits_on is inferred */
};

struct pt_deadlock {
	uint64_t ts;		/* detected */
	int n;
	struct pt_dl_member m[MPT_DL_MAX];	/* m[i] waits on what m[i+1] holds */
};

/* Test markers kept: traced code writes them (MPTRACE_FD), so a flood must
 * cost bounded memory; later begin markers are counted, not kept. */
#define PT_MAX_MARKS 10000

struct pt_testmark {		/* a runner's begin/end marker interval */
	char name[MPT_TEST_LEN + 1];
	uint64_t begin_ts, end_ts;	/* end PT_NONE while open */
};

struct pt_tid {			/* thread id -> process, from thread forks */
	uint32_t tid;
	struct pt_proc *proc;
	struct pt_tid *next;
	struct pt_tid *pnext;		/* the next of the same process */
};

struct pt_meta {
	enum pt_mode mode;
	char **argv;		/* the traced command; NULL-terminated, may be empty */
	uint64_t t0;		/* monotonic ns when tracing was armed */
	int64_t wall_t0_ns;	/* CLOCK_REALTIME at t0 (ns since the epoch) */
	uint32_t self_pid;	/* mptrace, the root's parent */
	uint32_t root_pid;	/* the command (PT_MODE_COMMAND) */
	uint16_t features;	/* PT_FEAT_* */
};

/* Optional features the trace had (docs/kernels.md, the report's
 * "features"). PT_FEAT_KNOWN is clear in a recording made before mptrace
 * recorded them. */
#define PT_FEAT_LOCK_WAITS	 0x0001	/* lock waits traced (not --no-locks) */
#define PT_FEAT_FILE_LOCK_HOLDERS 0x0002	/* flock/fcntl waits name the holder */
#define PT_FEAT_FUTEX2		 0x0004	/* the kernel has futex_wait/futex_wake (6.7) */
#define PT_FEAT_KNOWN		 0x8000

/* A damaged recording, as its reader found it (mptrace report): what was
 * replayed is intact, what follows the damage is missing. */
struct pt_damage {
	bool cut;		/* the file ends inside a block */
	bool unended;		/* no end record: the recording run was killed or the file cut */
	uint64_t records;	/* records the cut block announced (0 if unknown) */
	uint64_t bytes;		/* bytes of the cut tail */
	uint64_t offset;	/* where the damage starts in the file */
};

struct ptree {
	struct pt_meta meta;
	struct pt_damage damage;	/* set by the replay before analysis */
	struct pt_proc **procs;	/* by slot, in order of creation */
	size_t nprocs, cap;
	struct pt_proc **hash;	/* pid -> newest process with that pid */
	size_t hsize;
	struct pt_lock **lhash;	/* lhsize buckets, doubled as locks come */
	size_t lhsize;
	struct pt_lock **locks;	/* in order of first wait */
	size_t nlocks, lcap;
	size_t nlocks_all;	/* with those dropped at the end (never waited on) */
	struct pt_lockwait top[PT_TOP_WAITS];
	size_t ntop;
	struct pt_proc *root;
	uint64_t last_ts;	/* newest event time seen */
	uint64_t root_exit_ts;
	bool ended;
	uint64_t end_ts;
	uint64_t lost;		/* records dropped in the kernel */
	uint64_t lost_track;	/* processes that could not be tracked */
	uint64_t lost_type[MPT_EV_MAX];
	uint64_t nevents[MPT_EV_NTYPES];
	uint64_t ngone;		/* processes found gone after lost records (MPT_EV_GONE) */
	uint64_t execs, lock_waits, lock_wait_ns;
	uint32_t live;		/* processes not exited */
	uint32_t zombies_now;	/* exited, not yet reaped */
	struct pt_proc *zombies;	/* those zombies, in order of exit (znext) */
	struct pt_proc *zombies_tail;
	size_t ninwaits;	/* waits in progress (pt_proc.inwaits) of all processes */
	struct pt_proc *waiting;	/* the processes with waits in progress (wnext) */
	int nids;		/* ids given: every process seen */
	bool forgets;		/* processes are forgotten (not command mode) */
	struct pt_proc *reaped, *reaped_tail;	/* reaped and not pinned: forgettable */
	size_t nreaped;
	uint64_t nforgotten;	/* processes freed by ptree_forget */
	uint64_t locks_forgotten;	/* locks freed by ptree_forget_locks */
	size_t locks_limit;	/* ptree_forget_locks: no pass below this many */
	struct fg_state *fg;	/* what forgotten processes left (forget.h), or NULL */
	struct pt_lockwait *waitlog;	/* every lock wait, in order of ending */
	size_t nwaitlog, waitlog_cap;
	uint64_t waitlog_dropped;
	size_t nspans;		/* pt_proc.spans of all processes */
	uint64_t spans_dropped;
	struct {			/* waits that ended: late begin records are stale */
		uint32_t tid;
		uint64_t start_ts;
	} recent[PT_RECENT];
	unsigned nrecent;
	struct pt_deadlock *deadlocks;
	size_t ndeadlocks;
	struct pt_testmark *marks;	/* in order of begin_ts */
	size_t nmarks, marks_cap;
	uint64_t *mark_end;		/* max-of-end_ts tree over marks (pt_test_of) */
	uint64_t marks_dropped;		/* begin markers past PT_MAX_MARKS */
	struct pt_tid **tids;		/* 1024 buckets */
	struct pt_stack *stacks;	/* every stack kept (pt_stack.next) */
	size_t nstacks;
	uint64_t stacks_dropped;	/* past PT_MAX_STACKS */
	uint64_t stacks_forgotten;	/* freed by ptree_forget_stacks */
	size_t stacks_limit;	/* ptree_forget_stacks: no pass below this many */
	struct pt_stack *pending[PT_STACK_PENDING];	/* a ring: stacks before their wait */
	unsigned npending;
};

/* What a fed event did, for the event stream and live views. */
struct pt_change {
	struct pt_proc *proc;	/* the process the event is about */
	struct pt_proc *other;	/* fork: the parent; wait: the reaped child */
	struct pt_lock *lock;	/* lock: the lock */
	bool orphaned_some;	/* exit: running children were orphaned */
};

struct ptree *ptree_new(const struct pt_meta *meta);
void ptree_free(struct ptree *pt);
/* A symbolized stack (from an MPT_EV_STACK record) for the wait of s->tid
 * that began at s->ts, which the model then owns: the wait's record, which
 * follows it, takes it. */
void ptree_add_stack(struct ptree *pt, struct pt_stack *s);
void pt_stack_free(struct pt_stack *s);
/* "in sem_wait <- PyThread_acquire_lock_timed <- ...": at most `max` frames
 * from the innermost named one (a library's unnamed insides skipped). */
void pt_stack_text(struct sbuf *b, const struct pt_stack *s, unsigned max, bool utf8);
/* Feeds one validated event; returns 0, or -EINVAL for an event it cannot use. */
int ptree_feed(struct ptree *pt, const struct mpt_hdr *ev, struct pt_change *chg);
struct pt_proc *ptree_find(const struct ptree *pt, uint32_t pid);

/*
 * Forgetting (-a, top, -p; never command mode): frees the n processes in v,
 * all of them on the ptree.reaped list. A living (kept) child of a freed
 * process becomes a root that keeps its ancestors' names in pt_proc.lineage.
 * ptree.procs is compacted in creation order; moved(ctx, from, to), if set,
 * is told of every slot that changed, for views indexed by slot.
 */
void ptree_forget(struct ptree *pt, struct pt_proc **v, size_t n,
		  void (*moved)(void *ctx, uint32_t from, uint32_t to), void *ctx);

/*
 * Forgetting: past `keep` locks, the ones waited on least recently that
 * nothing points to (a wait in progress, the lock-wait log, the longest
 * waits, a deadlock) are freed, down to keep / 2. Returns how many of them
 * had been waited on (each was a finding). O(1) when there is nothing to do.
 */
size_t ptree_forget_locks(struct ptree *pt, size_t keep);
/* -a, top, -p: free the stacks nothing points to any more (a wait in
 * progress, the lock-wait log, the longest waits, a deadlock, the pending
 * ring), once there are at least PT_KEEP_STACKS; returns how many. Without
 * it the first PT_MAX_STACKS stay for good and every later wait has none. */
size_t ptree_forget_stacks(struct ptree *pt);

/* ms since t0 (monotonic), for printing */
double pt_ms(const struct ptree *pt, uint64_t ts);
/* wait status helpers */
bool pt_signaled(const struct pt_proc *p);
int pt_exit_code(const struct pt_proc *p);
int pt_term_sig(const struct pt_proc *p);
bool pt_core(const struct pt_proc *p);
const char *pt_lock_type_name(enum pt_lock_type t);
const char *pt_wait_class_name(enum pt_wait_class c);
/* A wait's kind from its lock type, stack (or NULL) and holder kind. */
enum pt_wait_class pt_classify(enum pt_lock_type type, const struct pt_stack *st, uint32_t hkind);
/* The lock's kind: a private semaphore no waiter ever released to another
 * (Python's Condition, Event, Queue and join) signals: a condition; a
 * semaphore whose waits went, nine tenths of their time, to holders waiting
 * for input (a Pool's task queue lock) is a queue. */
enum pt_wait_class pt_lock_class(const struct pt_lock *l);
/* Does waiting on it mean contention (a finding, --check=locks)? Mutexes,
 * rwlocks, semaphores used as locks, file and SysV locks, and futexes of
 * unknown use; not condition, join, barrier, queue or other waits, nor a
 * lock waited on, nine tenths of the time, for holders that were preempted. */
bool pt_lock_contended(const struct pt_lock *l);
/* A wait's kind, as its lock's use refines it (a signalling semaphore). */
enum pt_wait_class pt_wait_class_of(const struct pt_lockwait *w);
/* The lock for people: its kind and name ("semaphore /dev/shm/sem.x",
 * "flock /tmp/f"), a private futex's kind, process and place ("condition in
 * python3 (heap)"), or its kind and id ("mutex futex:1:447491+0"). */
void pt_lock_label(struct sbuf *b, const struct pt_lock *l);
const char *pt_reap_name(enum pt_reap r);
/* when the reaper of process `pid`, which exited at exit_ts, reaped it */
uint64_t pt_reap_time(const struct mpt_free *e, uint32_t pid, uint64_t exit_ts);
/* zombie time so far: reaped - exit, or until `now` if still a zombie */
uint64_t pt_zombie_ns(const struct pt_proc *p, uint64_t now);

/*
 * Who a zombie waited for. Its zombie time splits at the hand-over to an
 * adopter: before it, its parent was responsible; after, the adopter. The
 * traced tree answers for the parent's part and for an adopter that is a
 * traced process (a subreaper of the tree), never for an untraced adopter
 * (init, a container's pid 1, the shell above a -p target).
 */
struct pt_zsplit {
	uint64_t parent_ns;	/* waiting for its parent */
	uint64_t adopter_ns;	/* waiting for its adopter */
	uint64_t counted_ns;	/* the traced tree's part: what the threshold judges */
	bool adopter_traced;	/* the adopter is a process of the traced tree */
};
void pt_zombie_split(const struct ptree *pt, const struct pt_proc *p, uint64_t now,
		     struct pt_zsplit *z);
/* Is the process that must reap p now (its parent or adopter) traced? */
bool pt_reaper_traced(const struct ptree *pt, const struct pt_proc *p);
/* The test a process belongs to: its own MPTRACE_TEST, else the runner's
 * marked test it was born in, else its parent's; NULL if none. */
const char *pt_test_of(const struct ptree *pt, const struct pt_proc *p);
/* Is this wait (lock or child) already known, in progress or ended? */
bool pt_wait_known(const struct ptree *pt, uint32_t pid, uint32_t tid, uint64_t start_ts);
/* The process a thread id belongs to, or NULL. */
struct pt_proc *pt_proc_of_tid(const struct ptree *pt, uint32_t tid);

/*
 * Semaphore holders, inferred (docs/findings.md#deadlock). A POSIX semaphore
 * has no owner and an uncontended sem_wait never enters the kernel, but to
 * take one a process must touch its page, and fork does not copy a shared
 * mapping's page table entries: the processes that could hold a semaphore
 * are the live ones whose mappings (MPT_EV_MAPS, read after the wait began)
 * show a used page of its file, less those waiting on it. Is l a semaphore
 * shared through a file (a named one, Python's multiprocessing.Lock)?
 */
bool pt_sem_lock(const struct pt_lock *l);
/* The one process that could hold the semaphore waiter's wait w is on, or 0
 * when none or several could (or one's mappings are not known since w began). */
uint32_t pt_infer_holder(const struct ptree *pt, const struct pt_proc *waiter,
			 const struct pt_inwait *w);
/* Is p's mapping of the file (dev, ino) known to be used? */
bool pt_maps_file(const struct pt_proc *p, uint64_t dev, uint64_t ino);

#endif
