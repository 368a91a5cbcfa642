// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * User stacks of long waits: the BPF side copies a blocking thread's user
 * registers and the top of its stack (struct mpt_stack); here they are
 * unwound with DWARF call frame information and symbolized from the ELF
 * symbol tables, both by elfutils' libdwfl (the same way perf's DWARF
 * call graphs are): Debian's libraries have no frame pointers, so a
 * frame-pointer walk in the kernel would stop at the first frame.
 *
 * The process's file mappings come from /proc/PID/maps, read while it
 * lives, before its first stack, and travel as a record (struct mpt_maps)
 * with the build ids of its files, so `mptrace report` unwinds the same
 * stacks later from the files on disk and says when they are gone or changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include "log.h"
#include "stacks.h"
#include "util.h"

/* One process's mappings, as a libdwfl session. */
struct stk_proc {
	struct stk_proc *next;
	uint32_t pid;
	uint64_t start;
	Dwfl *dwfl;
	struct mpt_maps *raw;	/* the record it came from */
	bool attached;		/* dwfl_attach_state() done */
	bool missing;		/* a module's file is missing or not the recorded one */
	const struct mpt_stack *cur;	/* the stack being unwound */
	uint64_t last_hash;	/* the last stack unwound (a loop's waits repeat it) */
	struct pt_stack *last;
};

struct stk {
	bool live;		/* read /proc for mappings; else only recorded ones */
	struct stk_proc *procs;
	size_t nprocs;
	char **warned;		/* modules already said to be missing */
	size_t nwarned;
};

#define STK_MAX_PROCS 256	/* processes with mappings kept at once */

struct stk *stk_new(bool live)
{
	struct stk *s = xcalloc(1, sizeof(*s));

	s->live = live;
	return s;
}

static void proc_free(struct stk_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	free(p->raw);
	pt_stack_free(p->last);
	free(p);
}

void stk_free(struct stk *s)
{
	if (!s)
		return;
	while (s->procs) {
		struct stk_proc *p = s->procs;

		s->procs = p->next;
		proc_free(p);
	}
	for (size_t i = 0; i < s->nwarned; i++)
		free(s->warned[i]);
	free(s->warned);
	free(s);
}

static struct stk_proc *find_proc(struct stk *s, uint32_t pid, uint64_t start, bool unlink)
{
	for (struct stk_proc **pp = &s->procs; *pp; pp = &(*pp)->next) {
		struct stk_proc *p = *pp;

		if (p->pid != pid || (start && p->start && p->start != start))
			continue;
		if (unlink) {
			*pp = p->next;
			s->nprocs--;
		}
		return p;
	}
	return NULL;
}

static void forget_proc(struct stk *s, uint32_t pid, uint64_t start)
{
	struct stk_proc *p = find_proc(s, pid, start, true);

	if (p)
		proc_free(p);
}

/*
 * A module's file, opened as a regular file only: the path comes from a
 * traced (untrusted) process's mappings, and a FIFO or a device put there
 * must not block or feed mptrace.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct stat st;
	int fd;

	(void)mod;
	(void)userdata;
	(void)base;
	*elfp = NULL;
	if (!modname || modname[0] != '/')
		return -1;
	fd = open(modname, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)	/* a symlinked library path (/lib -> usr/lib) */
		fd = open(modname, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	*file_name = xstrdup(modname);
	return fd;
}

/* Separate debug info is not looked for: the names are those of the
 * file's own symbol tables, the same on every machine. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	(void)mod; (void)userdata; (void)modname; (void)base; (void)file_name;
	(void)debuglink_file; (void)debuglink_crc; (void)debuginfo_file_name;
	return -1;
}

static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = find_elf,
	.find_debuginfo = no_debuginfo,
};

#define SHM_PAGES 16	/* pages of a shared mapping looked at for a used one */

/*
 * A shared mapping of which the process has no page in its page tables
 * (/proc/PID/pagemap: neither present nor swapped): it never used it, since
 * fork does not copy a shared mapping's entries to the child. A parent's
 * semaphore that a child never took is so; the model infers semaphore holders
 * from the used ones (pt_infer_holder). Unknown (no pagemap, a long mapping)
 * counts as used.
 */
static bool shared_unused(int pagemap, const char *line, size_t len)
{
	unsigned long lo, hi, page = (unsigned long)sysconf(_SC_PAGESIZE);
	uint64_t e[SHM_PAGES];
	char l[64], perms[5];
	size_t pages;

	snprintf(l, sizeof(l), "%.*s", (int)(len < sizeof(l) ? len : sizeof(l) - 1), line);
	if (pagemap < 0 || sscanf(l, "%lx-%lx %4s", &lo, &hi, perms) != 3 || strlen(perms) != 4 ||
	    perms[3] != 's' || hi <= lo)
		return false;
	pages = (hi - lo + page - 1) / page;
	if (pages > SHM_PAGES)
		return false;
	if (pread(pagemap, e, pages * sizeof(*e), (off_t)(lo / page * sizeof(*e))) !=
	    (ssize_t)(pages * sizeof(*e)))
		return false;
	for (size_t i = 0; i < pages; i++)
		if (e[i] >> 62)		/* bit 63 present, bit 62 swapped */
			return false;
	return true;
}

/* The file-backed lines of a maps text (shared ones only if used), and the
 * heap's and the main stack's (to name where a private futex is); anonymous
 * memory is left out. */
static size_t keep_file_lines(char *buf, size_t n, int pagemap)
{
	size_t out = 0, i = 0;

	while (i < n) {
		char *nl = memchr(buf + i, '\n', n - i);
		size_t len = (nl ? (size_t)(nl - (buf + i)) : n - i) + 1;

		if ((memchr(buf + i, '/', len - 1) && !shared_unused(pagemap, buf + i, len - 1)) ||
		    memmem(buf + i, len - 1, "[heap]", 6) || memmem(buf + i, len - 1, "[stack]", 7)) {
			memmove(buf + out, buf + i, len);
			out += len;
			buf[out - 1] = '\n';
		}
		i += len;
	}
	return out;
}

/* A libdwfl session from a maps text; NULL if it has no module. */
static Dwfl *dwfl_from_maps(const char *maps, size_t len)
{
	Dwfl *d = dwfl_begin(&dwfl_cbs);
	FILE *f;
	int err;

	if (!d)
		return NULL;
	f = fmemopen((void *)maps, len, "r");
	if (!f) {
		dwfl_end(d);
		return NULL;
	}
	dwfl_report_begin(d);
	err = dwfl_linux_proc_maps_report(d, f);
	fclose(f);
	if (err || dwfl_report_end(d, NULL, NULL)) {
		dwfl_end(d);
		return NULL;
	}
	return d;
}

struct ids_ctx {
	struct sbuf b;
};

static int add_build_id(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	struct ids_ctx *c = arg;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n;

	(void)userdata;
	(void)start;
	n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n <= 0) {
		Dwarf_Addr bias;

		if (!dwfl_module_getelf(mod, &bias))
			return DWARF_CB_OK;
		n = dwfl_module_build_id(mod, &bits, &vaddr);
		if (n <= 0)
			return DWARF_CB_OK;
	}
	for (int i = 0; i < n; i++)
		sb_printf(&c->b, "%02x", bits[i]);
	sb_printf(&c->b, " %s\n", name);
	return DWARF_CB_OK;
}

struct mpt_maps *stk_read_maps(const struct mpt_hdr *for_stack)
{
	char path[64], *buf;
	struct ids_ctx c = { { 0 } };
	struct mpt_maps *m = NULL;
	size_t n, size;
	Dwfl *d;
	int pagemap;

	/* (one byte over the cap: a text cut there is refused below) */
	buf = proc_read(for_stack->pid, "maps", MPT_MAPS_MAX + 1, &n);
	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%u/pagemap", for_stack->pid);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	n = keep_file_lines(buf, n, pagemap);
	if (pagemap >= 0)
		close(pagemap);
	if (!n || n > MPT_MAPS_MAX / 2)
		goto out;
	d = dwfl_from_maps(buf, n);
	if (d) {
		dwfl_getmodules(d, add_build_id, &c, 0);
		dwfl_end(d);
	}
	if (c.b.len > MPT_MAPS_MAX / 2)
		c.b.len = 0;
	size = (offsetof(struct mpt_maps, data) + n + c.b.len + 7) & ~(size_t)7;
	m = xcalloc(1, size);
	m->h = (struct mpt_hdr){ .type = MPT_EV_MAPS, .size = size, .ts = for_stack->ts,
				 .pid = for_stack->pid, .tid = for_stack->pid,
				 .start = for_stack->start };
	m->maps_len = n;
	m->ids_len = c.b.len;
	memcpy(m->data, buf, n);
	if (c.b.len)
		memcpy(m->data + n, c.b.s, c.b.len);
out:
	free(buf);
	sb_free(&c.b);
	return m;
}

struct mpt_maps *stk_inherit_maps(struct stk *s, uint32_t pid, uint64_t start,
				  const struct mpt_hdr *for_stack)
{
	struct stk_proc *p = find_proc(s, pid, start, false);
	struct mpt_maps *m;

	if (!p || !p->raw)
		return NULL;
	m = xcalloc(1, p->raw->h.size);
	memcpy(m, p->raw, p->raw->h.size);
	m->h.ts = for_stack->ts;
	m->h.pid = m->h.tid = for_stack->pid;
	m->h.start = for_stack->start;
	return m;
}

char *stk_where(struct stk *s, uint32_t pid, uint64_t start, uint64_t addr)
{
	struct stk_proc *p = find_proc(s, pid, start, false);
	const char *text, *end;
	struct sbuf b = { 0 };

	if (!p || !p->raw)
		return NULL;
	text = p->raw->data;
	end = text + p->raw->maps_len;
	while (text < end) {
		const char *nl = memchr(text, '\n', end - text), *path;
		unsigned long lo, hi;
		char line[512];
		size_t n = (nl ? nl : end) - text;

		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		text += n + 1;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || addr < lo || addr >= hi)
			continue;
		path = strchr(line, '/');
		if (strstr(line, "[heap]"))
			return xstrdup("heap");
		if (strstr(line, "[stack]"))
			return xstrdup("stack");
		if (path && p->dwfl) {
			Dwfl_Module *mod = dwfl_addrmodule(p->dwfl, addr);
			const char *sym = NULL, *base = strrchr(path, '/') + 1;
			GElf_Off off = 0;
			GElf_Sym es;

			if (mod)
				sym = dwfl_module_addrinfo(mod, addr, &off, &es, NULL, NULL, NULL);
			if (sym && *sym)
				sb_printf(&b, "%s+0x%llx in %s", sym, (unsigned long long)off, base);
			else
				sb_printf(&b, "%s+0x%llx", base, (unsigned long long)(addr - lo));
			return b.s;
		}
		break;
	}
	return xstrdup("anonymous memory");
}

bool stk_has_maps(struct stk *s, const struct mpt_hdr *h)
{
	return find_proc(s, h->pid, h->start, false) != NULL;
}

static void warn_missing(struct stk *s, const char *name, const char *why)
{
	for (size_t i = 0; i < s->nwarned; i++)
		if (!strcmp(s->warned[i], name))
			return;
	s->warned = xrealloc(s->warned, (s->nwarned + 1) * sizeof(*s->warned));
	s->warned[s->nwarned++] = xstrdup(name);
	p_warn("cannot symbolize stack frames in %s: %s; they are shown as addresses", name, why);
}

/* The build id of the file at `path` now into c, if it is an ELF file. */
static bool file_build_id(const char *path, struct ids_ctx *c)
{
	Dwfl *one = dwfl_begin(&dwfl_cbs);
	Dwfl_Module *mod;

	if (!one)
		return false;
	dwfl_report_begin(one);
	mod = dwfl_report_elf(one, path, path, -1, 0, false);
	dwfl_report_end(one, NULL, NULL);
	if (mod)
		add_build_id(mod, NULL, path, 0, c);
	dwfl_end(one);
	return mod != NULL;
}

/* Offline: each recorded build id against the file there now. */
static void check_build_ids(struct stk *s, struct stk_proc *p, const char *ids, size_t len)
{
	char *copy = xcalloc(1, len + 1), *line, *save = NULL;

	memcpy(copy, ids, len);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = strchr(line, ' ');
		struct ids_ctx c = { { 0 } };
		size_t want;

		if (!path)
			continue;
		*path++ = '\0';
		want = strlen(line);
		if (!file_build_id(path, &c)) {
			p->missing = true;
			warn_missing(s, path, "the file is missing or unreadable");
		} else if (c.b.len < want || strncmp(c.b.s, line, want) || c.b.s[want] != ' ') {
			p->missing = true;
			warn_missing(s, path, "the file changed since the recording (another build id)");
		}
		sb_free(&c.b);
	}
	free(copy);
}

static void on_maps(struct stk *s, const struct mpt_maps *m)
{
	struct stk_proc *p;

	forget_proc(s, m->h.pid, m->h.start);
	if (s->nprocs >= STK_MAX_PROCS) {
		/* the oldest goes: a later stack of it re-reads (live) or is unsymbolized */
		struct stk_proc **pp = &s->procs;

		while ((*pp)->next)
			pp = &(*pp)->next;
		proc_free(*pp);
		*pp = NULL;
		s->nprocs--;
	}
	p = xcalloc(1, sizeof(*p));
	p->pid = m->h.pid;
	p->start = m->h.start;
	p->dwfl = dwfl_from_maps(m->data, m->maps_len);
	p->raw = xcalloc(1, m->h.size);
	memcpy(p->raw, m, m->h.size);
	if (p->dwfl && !s->live && m->ids_len)
		check_build_ids(s, p, m->data + m->maps_len, m->ids_len);
	p->next = s->procs;
	s->procs = p;
	s->nprocs++;
}

/* ---- unwinding from the copied registers and stack ---- */

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct stk_proc *p = arg;

	(void)dwfl;
	if (*thread_argp || !p->cur)
		return 0;
	*thread_argp = p;
	return p->cur->h.tid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct stk_proc *p = arg;
	const struct mpt_stack *e = p->cur;
	uint64_t sp = e->regs[7];

	(void)dwfl;
	if (addr < sp || addr - sp + sizeof(*result) > e->len)
		return false;
	memcpy(result, e->data + (addr - sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct stk_proc *p = arg;
	Dwarf_Word regs[MPT_STACK_REGS];

	for (int i = 0; i < MPT_STACK_REGS; i++)
		regs[i] = p->cur->regs[i];
	return dwfl_thread_state_registers(thread, 0, MPT_STACK_REGS, regs);
}

static const Dwfl_Thread_Callbacks thread_cbs = {
	.next_thread = next_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct walk {
	struct stk_proc *p;
	struct pt_stack *st;
};

static void symbolize(Dwfl *d, struct pt_frame *f, uint64_t pc)
{
	Dwfl_Module *mod = dwfl_addrmodule(d, pc);
	const char *modname, *sym;
	Dwarf_Addr start = 0, off;
	GElf_Sym s;

	f->addr = pc;
	if (!mod)
		return;
	modname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	f->module = modname ? xstrdup(modname) : NULL;
	f->offset = pc - start;
	sym = dwfl_module_addrinfo(mod, pc, &off, &s, NULL, NULL, NULL);
	if (sym && *sym) {
		f->symbol = xstrdup(sym);
		f->offset = off;
	}
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	/* a return address is after the call: look the call up */
	symbolize(w->p->dwfl, &w->st->f[w->st->n], activation ? pc : pc - 1);
	w->st->f[w->st->n].addr = pc;
	if (!activation && w->st->f[w->st->n].offset)
		w->st->f[w->st->n].offset++;
	return ++w->st->n < PT_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* `n` bytes at `addr` of a module's file (its link-time address), from the
 * section that holds them; false if none does. */
static bool elf_bytes(Elf *elf, GElf_Addr addr, void *out, size_t n)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    addr < sh.sh_addr || addr + n > sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || addr - sh.sh_addr + n > d->d_size)
			return false;
		memcpy(out, (const char *)d->d_buf + (addr - sh.sh_addr), n);
		return true;
	}
	return false;
}

/* The symbol a relocation at `got` (a GOT slot, link-time) binds: the
 * function a PLT stub or a `call *slot(%rip)` jumps to. */
static const char *got_symbol(Elf *elf, GElf_Addr got)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh, symsh;
		Elf_Scn *symscn;
		Elf_Data *d, *syms;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		symscn = elf_getscn(elf, sh.sh_link);
		if (!d || !symscn || !gelf_getshdr(symscn, &symsh))
			continue;
		syms = elf_getdata(symscn, NULL);
		for (size_t i = 0; syms && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;

			if (!gelf_getrela(d, i, &r) || r.r_offset != got)
				continue;
			if (!gelf_getsym(syms, GELF_R_SYM(r.r_info), &sym))
				return NULL;
			return elf_strptr(elf, symsh.sh_link, sym.st_name);
		}
	}
	return NULL;
}

/*
 * The library function a frame called, from its call instruction: a call
 * through the PLT (`call rel32` to a stub `[endbr64] [bnd] jmp *slot(%rip)`)
 * or through the GOT (`call *slot(%rip)`), the slot's relocation naming it.
 * A library's entry point often tail-calls its slow path (sem_wait jumps
 * to a static helper), so its own frame is not on the stack: the caller's
 * call site still says what was called.
 */
static const char *call_target(Dwfl_Module *mod, Dwarf_Addr ret)
{
	unsigned char c[12];
	Dwarf_Addr bias;
	GElf_Addr a, got;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	int32_t rel;
	size_t k = 0;

	if (!elf || ret < bias + 6)
		return NULL;
	a = ret - bias;
	if (elf_bytes(elf, a - 6, c, 6) && c[0] == 0xff && c[1] == 0x15) {
		memcpy(&rel, c + 2, 4);
		return got_symbol(elf, a + rel);
	}
	if (!elf_bytes(elf, a - 5, c, 5) || c[0] != 0xe8)
		return NULL;
	memcpy(&rel, c + 1, 4);
	a += rel;	/* the stub */
	if (!elf_bytes(elf, a, c, sizeof(c)))
		return NULL;
	if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		k = 4;	/* endbr64 */
	if (c[k] == 0xf2)
		k++;	/* bnd */
	if (c[k] != 0xff || c[k + 1] != 0x25)
		return NULL;
	memcpy(&rel, c + k + 2, 4);
	got = a + k + 6 + rel;
	return got_symbol(elf, got);
}

static uint64_t symbol_addr(Dwfl_Module *mod, const char *name)
{
	int n = dwfl_module_getsymtab(mod);

	for (int i = 0; i < n; i++) {
		GElf_Addr addr;
		GElf_Sym sym;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		if (s && GELF_ST_TYPE(sym.st_info) == STT_FUNC && !strcmp(s, name))
			return addr;
	}
	return 0;
}

/* Between a library's frames and its caller's, the function the caller
 * called, when the library's frames do not name it already. */
static void add_call_frame(Dwfl *d, struct pt_stack *st)
{
	Dwfl_Module *inner, *caller;
	const char *name;
	uint32_t k;

	if (st->n < 2 || !st->f[0].module)
		return;
	for (k = 1; k < st->n; k++)
		if (!st->f[k].module || strcmp(st->f[k].module, st->f[0].module))
			break;
	if (k == st->n || !st->f[k].module)
		return;
	caller = dwfl_addrmodule(d, st->f[k].addr - 1);
	inner = dwfl_addrmodule(d, st->f[0].addr);
	name = caller ? call_target(caller, st->f[k].addr) : NULL;
	if (!name || !*name || (st->f[k - 1].symbol && !strcmp(st->f[k - 1].symbol, name)))
		return;
	if (st->n == PT_MAX_FRAMES) {	/* the outermost frame makes room */
		st->n--;
		free(st->f[st->n].module);
		free(st->f[st->n].symbol);
	}
	memmove(&st->f[k + 1], &st->f[k], (st->n - k) * sizeof(st->f[0]));
	st->n++;
	st->f[k] = (struct pt_frame){ .module = xstrdup(st->f[0].module), .symbol = xstrdup(name) };
	st->f[k].addr = inner ? symbol_addr(inner, name) : 0;
}

static struct pt_stack *stack_dup(const struct pt_stack *s)
{
	struct pt_stack *d = xcalloc(1, sizeof(*d));

	*d = *s;
	d->next = NULL;
	for (uint32_t i = 0; i < d->n; i++) {
		d->f[i].module = s->f[i].module ? xstrdup(s->f[i].module) : NULL;
		d->f[i].symbol = s->f[i].symbol ? xstrdup(s->f[i].symbol) : NULL;
	}
	return d;
}

/* FNV-1a of the registers and the stack copy: the same bytes unwind the same. */
static uint64_t stack_hash(const struct mpt_stack *e)
{
	const unsigned char *parts[2] = { (const void *)e->regs, e->data };
	size_t lens[2] = { sizeof(e->regs), e->len };
	uint64_t h = 0xcbf29ce484222325ull;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < lens[k]; i++)
			h = (h ^ parts[k][i]) * 0x100000001b3ull;
	return h;
}

static struct pt_stack *unwind_once(struct stk_proc *p, const struct mpt_stack *e);

/* Unwinding costs far more than the wait it explains on a busy loop of
 * long waits: the same registers and stack bytes are unwound once. */
static struct pt_stack *unwind(struct stk_proc *p, const struct mpt_stack *e)
{
	uint64_t h = stack_hash(e);
	struct pt_stack *st;

	if (p->last && p->last_hash == h) {
		st = stack_dup(p->last);
		st->tid = e->h.tid;
		st->ts = e->h.ts;
		return st;
	}
	st = unwind_once(p, e);
	pt_stack_free(p->last);
	p->last = stack_dup(st);
	p->last_hash = h;
	return st;
}

static struct pt_stack *unwind_once(struct stk_proc *p, const struct mpt_stack *e)
{
	struct pt_stack *st = xcalloc(1, sizeof(*st));
	struct walk w = { p, st };

	st->pid = e->h.pid;
	st->tid = e->h.tid;
	st->ts = e->h.ts;
	st->missing = p->missing;
	if (!p->dwfl)
		goto innermost;
	if (!p->attached) {
		if (!dwfl_attach_state(p->dwfl, NULL, e->h.pid, &thread_cbs, p))
			goto innermost;
		p->attached = true;
	}
	p->cur = e;
	dwfl_getthread_frames(p->dwfl, e->h.tid, frame_cb, &w);
	p->cur = NULL;
	add_call_frame(p->dwfl, st);
innermost:
	if (!st->n) {
		/* no unwinding: the pc alone still says where it waits */
		if (p->dwfl)
			symbolize(p->dwfl, &st->f[0], e->regs[16]);
		st->f[0].addr = e->regs[16];
		st->n = 1;
	}
	return st;
}

struct pt_stack *stk_feed(struct stk *s, const struct mpt_hdr *h)
{
	struct stk_proc *p;

	switch (h->type) {
	case MPT_EV_MAPS:
		on_maps(s, (const struct mpt_maps *)h);
		return NULL;
	case MPT_EV_EXEC:
	case MPT_EV_EXIT:
		/* a new image, or none: its mappings are gone */
		forget_proc(s, h->pid, 0);
		return NULL;
	case MPT_EV_STACK:
		p = find_proc(s, h->pid, h->start, false);
		if (!p) {
			/* no mappings: the pc alone */
			struct pt_stack *st = xcalloc(1, sizeof(*st));

			st->pid = h->pid;
			st->tid = h->tid;
			st->ts = h->ts;
			st->n = 1;
			st->f[0].addr = ((const struct mpt_stack *)h)->regs[16];
			return st;
		}
		return unwind(p, (const struct mpt_stack *)h);
	default:
		return NULL;
	}
}

void name_private_lock(struct stk *s, struct pt_lock *l)
{
	if (l->where || l->type != PT_LK_FUTEX || !(l->kflags & MPT_LOCK_PRIVATE))
		return;
	l->where = stk_where(s, (uint32_t)l->kdev, 0, l->kino);
}
