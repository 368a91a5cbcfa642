// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Skeleton lifecycle: open -> set knobs and sizes -> load -> attach -> poll,
 * with one cleanup path. Optional hooks are switched off with a message
 * when the kernel lacks them, instead of failing the whole run.
 */
#include <errno.h>
#include <pthread.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "mptrace.skel.h"
#include "corebtf.h"
#include "loader.h"
#include "log.h"
#include "ptree.h"

/* A BPF hash map's entries, read whole. */
struct map_dump {
	__u32 *keys;
	void *vals;
	size_t n, cap;
};

struct loader {
	struct mptrace_bpf *skel;
	struct ring_buffer *rb;
	int verbose;
	uint16_t features;	/* PT_FEAT_* */
	const unsigned long *cons_pos, *prod_pos;	/* the ring's positions, read-only */
	struct map_dump locks, waits;	/* the wait tables as last read (loader_scan_waits) */
	bool no_batch;		/* the kernel reads hash maps one key at a time only */
	uint64_t young_min;	/* the oldest wait the last walk found too young (0: none) */
};

static int verbose_level;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose_level < 2)
		return 0;
	if (!verbose_level)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	const int need[] = { 38 /* CAP_PERFMON */, 39 /* CAP_BPF */ };

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &h, d))
		return false;
	for (size_t i = 0; i < 2; i++) {
		int c = need[i];

		if (!(d[c / 32].effective & (1u << (c % 32))))
			return false;
	}
	return true;
}

static bool btf_has(const struct btf *vm, const char *name, int kind)
{
	return btf__find_by_name_kind(vm, name, kind) >= 0;
}

static bool btf_has_member(const struct btf *vm, const char *type, const char *member)
{
	int id = btf__find_by_name_kind(vm, type, BTF_KIND_STRUCT);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(vm, id);
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(vm, m[i].name_off), member))
			return true;
	return false;
}

/* The holder of a blocked flock/fcntl: the filelock tracepoints, and the
 * blocker in struct file_lock_core (6.9) or in struct file_lock before. */
static bool has_file_lock_holders(const struct btf *vm)
{
	return btf_has(vm, "btf_trace_posix_lock_inode", BTF_KIND_TYPEDEF) &&
	       btf_has(vm, "btf_trace_flock_lock_inode", BTF_KIND_TYPEDEF) &&
	       (btf_has(vm, "file_lock_core", BTF_KIND_STRUCT) ||
		btf_has_member(vm, "file_lock", "fl_blocker"));
}

/* futex_wait(2) (Linux 6.7) has number 455 on every architecture (the
 * numbers from 424 on are shared). A flag it does not know makes it fail
 * with EINVAL before it looks at anything else; without the call, ENOSYS. */
#define NR_FUTEX_WAIT 455

static bool has_futex2(void)
{
	return syscall(NR_FUTEX_WAIT, NULL, 0UL, 0UL, 0x80000000u, NULL, 0) < 0 && errno != ENOSYS;
}

/*
 * Hooks and optional features are not probed before the load: parsing the
 * kernel's BTF costs ~20 ms, and libbpf parses it again to load. A kernel
 * that has everything pays nothing; when the load fails, diagnose() reads
 * the BTF to say why, or switches the file-lock programs off for a second
 * attempt.
 *
 * Every hook is a BTF tracepoint (tp_btf): its prototype comes from the
 * kernel's BTF, so the check for a hook is a lookup of btf_trace_<name>.
 * A missing required one stops mptrace with its name; a missing optional
 * feature is said once, with what it costs the report (docs/kernels.md).
 */
enum diagnosis { LOAD_FAILED, LOAD_RETRY, LOAD_ENV };

static enum diagnosis diagnose(struct loader *l)
{
	static const char *const required[] = {
		"sched_process_fork", "sched_process_exec", "sched_process_exit",
		"sched_process_free", "sched_process_wait", "sched_switch", "sched_waking",
		"signal_generate",
	};
	struct btf *vm = btf__load_vmlinux_btf();
	enum diagnosis d = LOAD_FAILED;
	char name[64];

	if (!vm) {
		p_err("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s", strerror(errno));
		return LOAD_ENV;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		snprintf(name, sizeof(name), "btf_trace_%s", required[i]);
		if (!btf_has(vm, name, BTF_KIND_TYPEDEF)) {
			p_err("this kernel lacks the tracepoint %s that mptrace needs", required[i]);
			d = LOAD_ENV;
			goto out;
		}
	}
	if ((l->features & PT_FEAT_FILE_LOCK_HOLDERS) && !has_file_lock_holders(vm)) {
		p_warn("this kernel cannot tell who holds a file lock (no filelock tracepoints or "
		       "lock layout): flock and fcntl lock waits are reported without their holder, "
		       "and deadlocks on them are not found (docs/kernels.md)");
		l->features &= ~PT_FEAT_FILE_LOCK_HOLDERS;
		d = LOAD_RETRY;
	}
out:
	btf__free(vm);
	return d;
}

/* Opens the object and sets its knobs; the file-lock programs load only
 * with their feature (not with --no-locks or on a kernel without them).
 * core_fd >= 0: libbpf's CO-RE relocations search that BTF. */
static int open_skel(struct loader *l, const struct loader_opts *o, int core_fd)
{
	char path[64];
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct mptrace_bpf *s;

	if (core_fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", core_fd);
		oo.btf_custom_path = path;
	}
	s = mptrace_bpf__open_opts(&oo);
	if (!s) {
		p_err("cannot open the BPF object: %s", strerror(errno));
		return EXIT_ENV;
	}
	s->rodata->self_pid = o->self_pid;
	s->rodata->trace_all = o->trace_all;
	s->rodata->trace_locks = o->locks;
	s->rodata->lock_min_ns = o->lock_min_ns;
	s->rodata->mutex_owner_off = o->mutex_owner_off;
	s->rodata->want_stacks = o->stacks && o->locks;
	s->rodata->futex_vma = !o->no_find_vma;
	if (!s->rodata->want_stacks)
		bpf_map__set_max_entries(s->maps.ustacks, 1);
	if (!o->trace_all)	/* the wait points that name a child go in `tracked` */
		bpf_map__set_max_entries(s->maps.childwp, 1);
	if (!o->locks) {
		/* lock waits' tables, which BPF reads only under trace_locks:
		 * preallocated in full they cost ~15 ms of start-up */
		bpf_map__set_max_entries(s->maps.locks, 1);
		bpf_map__set_max_entries(s->maps.offcpu, 1);
		bpf_map__set_max_entries(s->maps.paths, 1);
		bpf_map__set_max_entries(s->maps.fkeys, 1);
		bpf_map__set_max_entries(s->maps.flholder, 1);
	}
	bpf_map__set_max_entries(s->maps.rb, o->ring_mb * 1024u * 1024u);
	if (!(l->features & PT_FEAT_FILE_LOCK_HOLDERS)) {
		bpf_program__set_autoload(s->progs.on_posix_lock, false);
		bpf_program__set_autoload(s->progs.on_flock_lock, false);
	}
	l->skel = s;
	return 0;
}

/*
 * Maps created beside the cut of the kernel's BTF, by two threads: both
 * take tens of milliseconds (a preallocated hash or LRU map has every entry
 * zeroed and linked at creation: ~45 ms for this object's maps here, 12 ms
 * for the cut) and neither needs the other. libbpf takes the finished maps
 * with bpf_map__reuse_fd(); a map a thread could not make is left for
 * libbpf to make as usual.
 */
#define PREMADE_MAX 32
#define PREMADE_THREADS 2

struct premade {
	struct bpf_map *map[PREMADE_MAX];
	int fd[PREMADE_MAX];
	int n;
	int next;		/* the next map to make, taken atomically */
};

/* A preallocated map's cost: every entry is zeroed and linked. */
static size_t map_cost(const struct bpf_map *m)
{
	if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF)
		return bpf_map__max_entries(m) / 8;	/* pages zeroed, not entries linked */
	return (size_t)(bpf_map__key_size(m) + bpf_map__value_size(m) + 64) *
	       bpf_map__max_entries(m);
}

static void *make_maps(void *arg)
{
	struct premade *pm = arg;
	int i;

	while ((i = __atomic_fetch_add(&pm->next, 1, __ATOMIC_RELAXED)) < pm->n) {
		struct bpf_map *m = pm->map[i];
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = bpf_map__map_flags(m));

		/* close-on-exec: the kernel opens every map fd so */
		pm->fd[i] = bpf_map_create(bpf_map__type(m), bpf_map__name(m), bpf_map__key_size(m),
					   bpf_map__value_size(m), bpf_map__max_entries(m), &mo);
	}
	return NULL;
}

/* The object's own maps (not its .bss or .rodata, which libbpf fills),
 * the dearest first, so that two threads end at about the same time */
static void premade_list(struct mptrace_bpf *s, struct premade *pm)
{
	struct bpf_map *m;

	pm->n = 0;
	pm->next = 0;
	bpf_object__for_each_map(m, s->obj) {
		int i;

		if (pm->n == PREMADE_MAX || bpf_map__is_internal(m) || !bpf_map__autocreate(m))
			continue;
		for (i = pm->n; i > 0 && map_cost(pm->map[i - 1]) < map_cost(m); i--)
			pm->map[i] = pm->map[i - 1];
		pm->map[i] = m;
		pm->fd[pm->n++] = -1;
	}
}

/* Hands the thread's maps to libbpf; returns how many it took. */
static int premade_give(struct premade *pm)
{
	int given = 0;

	for (int i = 0; i < pm->n; i++) {
		if (pm->fd[i] < 0)
			continue;
		if (!bpf_map__reuse_fd(pm->map[i], pm->fd[i]))
			given++;
		close(pm->fd[i]);
		pm->fd[i] = -1;
	}
	return given;
}

/* The kernel's BTF cut down to the types the object relocates against,
 * written to core_fd (corebtf.c), which the object was opened to read at
 * load (btf_custom_path): libbpf's candidate search over the whole kernel
 * BTF is half of the start-up. The maps are made meanwhile. Returns 0, or
 * the error that leaves core_fd unusable: then libbpf searches the whole
 * BTF, only slower. */
static int core_btf(struct mptrace_bpf *s, int core_fd, bool premade)
{
	struct premade pm;
	pthread_t th[PREMADE_THREADS];
	int threads = 0, err;

	if (premade) {
		premade_list(s, &pm);
		while (threads < PREMADE_THREADS &&
		       !pthread_create(&th[threads], NULL, make_maps, &pm))
			threads++;
	}
	err = corebtf_write(bpf_object__btf(s->obj), core_fd);
	if (err)
		p_debug("cannot cut the kernel's BTF down for CO-RE: %s", strerror(-err));
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	if (threads)
		p_debug("%d of %d maps made beside the BTF's cut", premade_give(&pm), pm.n);
	return err;
}

/* Open and load with the cut-down BTF; if that fails, with the whole one;
 * once more without the file-lock programs when the kernel turns out to
 * lack what they need. On failure l->skel is NULL. */
static int load_skel_with(struct loader *l, const struct loader_opts *o, int core_fd,
			  enum diagnosis *dp)
{
	enum diagnosis d = LOAD_RETRY;
	int err = 0;

	for (int attempt = 0; attempt < 4 && d == LOAD_RETRY; attempt++) {
		err = open_skel(l, o, core_fd);
		if (err)
			break;
		if (attempt == 0 && core_fd >= 0 && core_btf(l->skel, core_fd, !o->maps_by_libbpf)) {
			/* the object reads core_fd at load: open it again without */
			mptrace_bpf__destroy(l->skel);
			l->skel = NULL;
			close(core_fd);
			core_fd = -1;
			continue;
		}
		err = mptrace_bpf__load(l->skel);
		if (!err)
			break;
		mptrace_bpf__destroy(l->skel);
		l->skel = NULL;
		if (core_fd >= 0) {
			p_debug("loading with the cut-down kernel BTF failed: with the whole BTF now");
			close(core_fd);
			core_fd = -1;
			continue;
		}
		d = diagnose(l);
	}
	if (core_fd >= 0)
		close(core_fd);
	*dp = d;
	return err;
}

#define HEAP_HUGE (32u << 20)	/* both BTF parses' peak, and more */
#define HUGE_PAGE (2u << 20)

/*
 * The heap grown by `size`, in huge pages where the kernel has them for
 * the asking (transparent_hugepage "madvise" or "always"): the two parses
 * of the kernel's BTF write ~25 MB of fresh memory, and the first write to
 * each 4 KiB page costs ~5 µs in this VM (40 ms for 32 MB). In 2 MiB pages
 * both parses took 16-18 ms, against 31 ms with the small pages
 * populated beforehand and 42-70 ms without. Elsewhere a no-op.
 */
static void heap_huge(size_t size)
{
	char *p = malloc(size);
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (p && a + HUGE_PAGE <= (uintptr_t)p + size)
		madvise((void *)a, ((uintptr_t)p + size - a) & ~(uintptr_t)(HUGE_PAGE - 1),
			MADV_HUGEPAGE);
	free(p);
}

/*
 * The kernel's BTF (5.5 MB here) is read twice: to cut it down, then by
 * libbpf for the tp_btf attach points. Each copy is above glibc's mmap
 * threshold: a fresh mapping whose every page faults in, then an munmap
 * (a quarter of the start-up in a profile). From the heap (in huge pages
 * where it can: heap_huge()), kept there until the load is over, the
 * second copy reuses the first one's pages; then the heap is trimmed, and
 * large blocks are mmapped as before.
 */
static void btf_heap(bool on)
{
	mallopt(M_MMAP_THRESHOLD, on ? 64 << 20 : 128 << 10);
	mallopt(M_TRIM_THRESHOLD, on ? 256 << 20 : 128 << 10);
	if (on)
		heap_huge(HEAP_HUGE);
	else
		malloc_trim(0);
}

static int load_skel(struct loader *l, const struct loader_opts *o)
{
	enum diagnosis d = LOAD_RETRY;
	int core_fd, err;

	btf_heap(true);
	core_fd = memfd_create("mptrace-core-btf", MFD_CLOEXEC);
	err = load_skel_with(l, o, core_fd, &d);
	btf_heap(false);
	if (!err)
		return 0;
	if (d == LOAD_ENV || err == EXIT_ENV)
		return EXIT_ENV;
	p_err("cannot load the BPF programs: %s%s", strerror(-err),
	      o->verbose ? "" : " (run with -v for the verifier's log)");
	return EXIT_ENV;
}

int loader_open(struct loader **out, const struct loader_opts *o, loader_cb cb, void *ctx)
{
	struct loader *l;
	int err;

	verbose_level = o->verbose;
	libbpf_set_print(libbpf_print);
	if (!has_caps()) {
		p_err("tracing needs root or the CAP_BPF and CAP_PERFMON capabilities: run it with sudo");
		return EXIT_ENV;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): mptrace needs a kernel "
		      "built with CONFIG_DEBUG_INFO_BTF=y");
		return EXIT_ENV;
	}

	l = calloc(1, sizeof(*l));
	if (!l) {
		p_err("out of memory");
		return EXIT_ENV;
	}
	l->features = PT_FEAT_KNOWN;
	if (o->locks)
		l->features |= PT_FEAT_LOCK_WAITS | PT_FEAT_FILE_LOCK_HOLDERS;
	if (has_futex2())
		l->features |= PT_FEAT_FUTEX2;
	else
		p_debug("this kernel has no futex_wait/futex_wake system calls (Linux 6.7)");
	err = load_skel(l, o);
	if (err)
		goto out_destroy_quiet;
	err = mptrace_bpf__attach(l->skel);
	if (err) {
		p_err("cannot attach the BPF programs to their tracepoints: %s", strerror(-err));
		goto out_destroy;
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.rb), (ring_buffer_sample_fn)cb, ctx, NULL);
	if (!l->rb) {
		p_err("cannot set up the ring buffer: %s", strerror(errno));
		goto out_destroy;
	}
	*out = l;
	return 0;

out_destroy:
	err = EXIT_ENV;
out_destroy_quiet:
	mptrace_bpf__destroy(l->skel);
	free(l->locks.keys);
	free(l->locks.vals);
	free(l->waits.keys);
	free(l->waits.vals);
	free(l);
	return err;
}

int loader_track(struct loader *l, uint32_t pid, uint64_t start)
{
	struct mpt_track t = { .start = start };

	if (bpf_map__update_elem(l->skel->maps.tracked, &pid, sizeof(pid), &t, sizeof(t),
				 BPF_ANY))
		return -errno;
	return 0;
}

int loader_kid_left(struct loader *l, uint32_t pid, uint64_t start)
{
	__u64 v;

	if (bpf_map__lookup_elem(l->skel->maps.kids_left, &pid, sizeof(pid), &v, sizeof(v), 0))
		return 0;
	return v == start ? 1 : -1;
}

uint64_t loader_wait_points(struct loader *l, uint32_t reaper, uint32_t child, struct mpt_free *f)
{
	struct wait_points w;
	struct mpt_track t;
	__u64 ts = 0;

	f->nwps = 0;
	/* the wait point that named it: in its `tracked` entry, or under -a in `childwp` */
	if (l->skel->rodata->trace_all)
		bpf_map__lookup_elem(l->skel->maps.childwp, &child, sizeof(child), &ts, sizeof(ts), 0);
	else if (!bpf_map__lookup_elem(l->skel->maps.tracked, &child, sizeof(child), &t, sizeof(t), 0))
		ts = t.cwp;
	if (ts) {
		f->wps[0].ts = ts;
		f->wps[0].target = child;
		f->nwps = 1;
	}
	if (bpf_map__lookup_elem(l->skel->maps.wps, &reaper, sizeof(reaper), &w, sizeof(w), 0))
		return UINT64_MAX;
	for (uint32_t i = 0; i < w.next && f->nwps < MPT_FREE_WPS; i++)
		f->wps[f->nwps++] = w.p[(w.next - 1 - i) % MPT_FREE_WPS];
	/* the ring has every wait point since the first, or from its oldest on */
	return w.next <= MPT_FREE_WPS ? 0 : w.p[w.next % MPT_FREE_WPS].ts;
}

int loader_fd(struct loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int loader_consume(struct loader *l)
{
	return ring_buffer__consume(l->rb);
}


void loader_lost(struct loader *l, __u64 lost[MPT_EV_MAX], __u64 *lost_track)
{
	for (int i = 0; i < MPT_EV_MAX; i++)
		lost[i] = __atomic_load_n(&l->skel->bss->lost[i], __ATOMIC_RELAXED);
	*lost_track = __atomic_load_n(&l->skel->bss->lost_track, __ATOMIC_RELAXED);
}

/*
 * Every entry of a wait table: in batches (a few system calls a scan, not
 * two an entry: a server with thousands of threads blocked for hours would
 * cost a core's percents at 20 scans a second), or one key at a time on a
 * kernel without batch lookups of hash maps (before 5.6).
 */
static int dump_map(struct loader *l, int fd, size_t vsize, size_t max, struct map_dump *d)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch, count, key, next, *prev = NULL;
	void *in = NULL;
	int err = 0;

	if (d->cap < max) {
		free(d->keys);
		free(d->vals);
		d->keys = malloc(max * sizeof(*d->keys));
		d->vals = malloc(max * vsize);
		d->cap = d->keys && d->vals ? max : 0;
		if (!d->cap)
			return -ENOMEM;
	}
	d->n = 0;
	while (!l->no_batch && !err && d->n < max) {
		count = max - d->n;
		err = bpf_map_lookup_batch(fd, in, &batch, d->keys + d->n,
					   (char *)d->vals + d->n * vsize, &count, &opts);
		if (err && err != -ENOENT && err != -ENOSPC && !d->n && !in)
			l->no_batch = true;	/* EINVAL, ENOTSUPP: an older kernel */
		else if (!err || err == -ENOENT)
			d->n += count;
		if (err && err != -ENOENT)
			break;		/* ENOSPC (a bucket past the room left): key by key */
		in = &batch;
	}
	if (!l->no_batch && (!err || err == -ENOENT))
		return 0;
	for (d->n = 0; d->n < max && !bpf_map_get_next_key(fd, prev, &next); prev = &key) {
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, (char *)d->vals + d->n * vsize))
			d->keys[d->n++] = key;
	}
	return 0;
}

static void lock_begin(struct loader *l, __u32 tid, const struct lock_start *ls,
		       struct mpt_lock_begin *b)
{
	memset(b, 0, sizeof(*b));
	b->h = (struct mpt_hdr){ .type = MPT_EV_LOCK_BEGIN, .size = sizeof(*b), .ts = ls->ts,
				 .pid = ls->tgid, .tid = tid, .start = ls->start };
	b->kind = ls->kind;
	b->flags = ls->flags;
	b->dev = ls->dev;
	b->ino = ls->ino;
	b->off = ls->off;
	b->holder = ls->holder;
	b->hkind = ls->hkind;
	if (ls->kind != MPT_LOCK_SYSV && !(ls->flags & MPT_LOCK_PRIVATE)) {
		struct mpt_path_key pk = { .dev = ls->dev, .ino = ls->ino };

		bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.paths), &pk, b->comps);
	}
}

int loader_scan_waits(struct loader *l, uint64_t before, struct mpt_lock_begin **locks,
		      size_t *nlocks, struct mpt_wait_begin **waits, size_t *nwaits)
{
	int lfd = bpf_map__fd(l->skel->maps.locks), wfd = bpf_map__fd(l->skel->maps.waits);
	uint64_t young = 0;
	int err;

	*locks = NULL;
	*waits = NULL;
	*nlocks = *nwaits = 0;
	/* before the walk: a wait that enters the tables during it sets it again */
	__atomic_store_n(&l->skel->bss->unwalked_since, 0, __ATOMIC_SEQ_CST);
	l->young_min = 1;	/* a failed walk is tried again */
	if (l->skel->rodata->trace_locks) {
		err = dump_map(l, lfd, sizeof(struct lock_start),
			       bpf_map__max_entries(l->skel->maps.locks), &l->locks);
		if (err)
			return err;
		*locks = calloc(l->locks.n + 1, sizeof(**locks));
		if (!*locks)
			return -ENOMEM;
		for (size_t i = 0; i < l->locks.n; i++) {
			const struct lock_start *ls = (const struct lock_start *)l->locks.vals + i;

			if (ls->ts < before)
				lock_begin(l, l->locks.keys[i], ls, &(*locks)[(*nlocks)++]);
			else
				young = young && young < ls->ts ? young : ls->ts;
		}
	}
	err = dump_map(l, wfd, sizeof(struct wait_start), bpf_map__max_entries(l->skel->maps.waits),
		       &l->waits);
	*waits = err ? NULL : calloc(l->waits.n + 1, sizeof(**waits));
	if (!*waits) {
		free(*locks);
		*locks = NULL;
		*nlocks = 0;
		return err ? err : -ENOMEM;
	}
	for (size_t i = 0; i < l->waits.n; i++) {
		const struct wait_start *ws = (const struct wait_start *)l->waits.vals + i;
		struct mpt_wait_begin *b;

		if (ws->ts >= before) {
			young = young && young < ws->ts ? young : ws->ts;
			continue;
		}
		if ((ws->flags & MPT_WAIT_NOHANG) || ws->tgid == l->skel->rodata->self_pid)
			continue;
		b = &(*waits)[(*nwaits)++];
		b->h = (struct mpt_hdr){ .type = MPT_EV_WAIT_BEGIN, .size = sizeof(*b), .ts = ws->ts,
					 .pid = ws->tgid, .tid = l->waits.keys[i], .start = ws->start };
		b->target = ws->target;
		b->flags = ws->flags;
	}
	l->young_min = young;
	return 0;
}

int loader_stack(struct loader *l, uint32_t tid, uint64_t ts, struct mpt_stack *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.ustacks), &tid, out))
		return -ENOENT;
	if (out->h.ts != ts || out->h.size > sizeof(*out) || out->len > MPT_STACK_BYTES)
		return -ENOENT;
	return 0;
}

/* Whether the tables can hold a wait that began before `before`
 * (monotonic ns) and that no walk has returned: some thread is blocked and
 * has been since then (`busy_since`), and a wait that entered the tables
 * after the last walk (`unwalked_since`), or one that walk found too
 * young, is that old. */
bool loader_waits_since(struct loader *l, uint64_t before)
{
	uint64_t u = __atomic_load_n(&l->skel->bss->unwalked_since, __ATOMIC_SEQ_CST);

	if (__atomic_load_n(&l->skel->bss->blocked, __ATOMIC_RELAXED) <= 0 ||
	    __atomic_load_n(&l->skel->bss->busy_since, __ATOMIC_RELAXED) >= before)
		return false;
	return (u && u < before) || (l->young_min && l->young_min < before);
}

uint64_t loader_lost_stacks(struct loader *l)
{
	return __atomic_load_n(&l->skel->bss->lost_stacks, __ATOMIC_RELAXED);
}

uint16_t loader_features(const struct loader *l)
{
	return l->features;
}

void loader_close(struct loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	if (l->cons_pos)
		munmap((void *)l->cons_pos, sysconf(_SC_PAGESIZE));
	if (l->prod_pos)
		munmap((void *)l->prod_pos, sysconf(_SC_PAGESIZE));
	mptrace_bpf__destroy(l->skel);
	free(l->locks.keys);
	free(l->locks.vals);
	free(l->waits.keys);
	free(l->waits.vals);
	free(l);
}

/*
 * The ring's fill: its consumer page (offset 0) and producer page (the next
 * one) mapped read-only, as libbpf maps them. libbpf 1.1 has no
 * ring__avail_data_size(). 0 if the pages cannot be mapped.
 */
uint64_t loader_ring_used(struct loader *l)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bpf_map__fd(l->skel->maps.rb);
	void *c, *p;

	if (!l->cons_pos && !l->prod_pos) {
		c = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
		p = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, pg);
		if (c == MAP_FAILED || p == MAP_FAILED) {
			if (c != MAP_FAILED)
				munmap(c, pg);
			if (p != MAP_FAILED)
				munmap(p, pg);
			l->cons_pos = l->prod_pos = NULL;
			return 0;
		}
		l->cons_pos = c;
		l->prod_pos = p;
	}
	return __atomic_load_n(l->prod_pos, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(l->cons_pos, __ATOMIC_ACQUIRE);
}
