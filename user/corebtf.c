// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A small copy of the kernel's BTF for libbpf's CO-RE relocations.
 *
 * For every type the BPF object relocates against (task_struct, file, ...)
 * libbpf 1.x scans the whole kernel BTF for candidates of that name: 28
 * types times ~130,000 kernel types cost ~50 ms of the ~110 ms start-up.
 * Handed a BTF that holds only the kernel's types with the names the
 * object uses (bpf_object_open_opts.btf_custom_path), it scans that.
 *
 * What is kept: every kernel type whose name (without a ___flavor suffix)
 * names a type in the object's own BTF, and everything such a type embeds
 * (members, array elements, typedef targets), copied as it is, offsets and
 * bitfields included. Pointers are kept with their pointee only if kept,
 * else they point to void: a field relocation compares pointers as
 * pointers, and a field behind a pointer is relocated on its own, from its
 * own struct's name. So each relocation finds exactly the candidates it
 * would find in the full BTF, with the same layout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/btf.h>
#include "corebtf.h"

struct names {
	const char **s;		/* essential names, open addressing */
	size_t *len;
	size_t cap;		/* a power of two */
};

/* libbpf's bpf_core_essential_name_len(): "file_lock___pre69" is "file_lock" */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);

	for (long i = (long)n - 5; i >= 0; i--)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' &&
		    name[i + 3] == '_' && name[i + 4] != '_')
			return i + 1;
	return n;
}

static size_t hash(const char *s, size_t len)
{
	size_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* Returns the slot of name[0..len), empty if absent. */
static size_t slot_of(const struct names *n, const char *name, size_t len)
{
	size_t i = hash(name, len) & (n->cap - 1);

	while (n->s[i] && (n->len[i] != len || memcmp(n->s[i], name, len)))
		i = (i + 1) & (n->cap - 1);
	return i;
}

/* The kinds a relocation's root type can have (and a candidate). */
static bool named_kind(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_FLOAT:
		return true;
	default:
		return false;
	}
}

static int local_names(const struct btf *local, struct names *n)
{
	__u32 cnt = btf__type_cnt(local);

	for (n->cap = 64; n->cap < 2 * cnt; n->cap *= 2)
		;
	n->s = calloc(n->cap, sizeof(*n->s));
	n->len = calloc(n->cap, sizeof(*n->len));
	if (!n->s || !n->len)
		return -ENOMEM;
	for (__u32 id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(local, id);
		const char *name = btf__name_by_offset(local, t->name_off);
		size_t len, i;

		if (!named_kind(t) || !name || !*name)
			continue;
		len = essential_len(name);
		i = slot_of(n, name, len);
		n->s[i] = name;
		n->len[i] = len;
	}
	return 0;
}

/* Each type is marked when it is first pushed, so it is pushed once: the
 * stack never holds more than all the types. */
static void push(__u32 *keep, __u32 *stack, __u32 *top, __u32 id)
{
	if (id && !keep[id]) {
		keep[id] = 1;
		stack[(*top)++] = id;
	}
}

/*
 * Marks the types to keep (keep[id] = 1): the roots, and what they embed;
 * a pointer's pointee is not followed.
 */
static int mark(const struct btf *vm, const struct names *n, __u32 *keep)
{
	__u32 cnt = btf__type_cnt(vm), top = 0;
	__u32 *stack = malloc(cnt * sizeof(*stack));

	if (!stack)
		return -ENOMEM;
	for (__u32 id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(vm, id);
		const char *name;
		size_t len;

		if (!named_kind(t) || !t->name_off)
			continue;
		name = btf__name_by_offset(vm, t->name_off);
		len = essential_len(name);
		if (n->s[slot_of(n, name, len)])
			push(keep, stack, &top, id);
	}
	while (top) {
		const struct btf_type *t = btf__type_by_id(vm, stack[--top]);
		const struct btf_member *m;
		const struct btf_param *p;

		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			push(keep, stack, &top, t->type);
			break;
		case BTF_KIND_ARRAY:
			push(keep, stack, &top, btf_array(t)->type);
			push(keep, stack, &top, btf_array(t)->index_type);
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			m = btf_members(t);
			for (int i = 0; i < btf_vlen(t); i++)
				push(keep, stack, &top, m[i].type);
			break;
		case BTF_KIND_FUNC_PROTO:
			/* a typedef of a function type */
			push(keep, stack, &top, t->type);
			p = btf_params(t);
			for (int i = 0; i < btf_vlen(t); i++)
				push(keep, stack, &top, p[i].type);
			break;
		default:
			break;
		}
	}
	free(stack);
	return 0;
}

/* The copy's type ids in place of the kernel's; a dropped type is void. */
static void remap(struct btf_type *t, const __u32 *newid)
{
	struct btf_member *m;
	struct btf_param *p;

	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		t->type = newid[t->type];
		break;
	case BTF_KIND_ARRAY:
		btf_array(t)->type = newid[btf_array(t)->type];
		btf_array(t)->index_type = newid[btf_array(t)->index_type];
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		m = btf_members(t);
		for (int i = 0; i < btf_vlen(t); i++)
			m[i].type = newid[m[i].type];
		break;
	case BTF_KIND_FUNC_PROTO:
		t->type = newid[t->type];
		p = btf_params(t);
		for (int i = 0; i < btf_vlen(t); i++)
			p[i].type = newid[p[i].type];
		break;
	default:
		break;
	}
}

static struct btf *copy_kept(const struct btf *vm, __u32 *keep)
{
	__u32 cnt = btf__type_cnt(vm), next = 1;
	struct btf *dst = btf__new_empty();

	if (!dst)
		return NULL;
	btf__set_pointer_size(dst, btf__pointer_size(vm));
	for (__u32 id = 1; id < cnt; id++)
		if (keep[id])
			keep[id] = next++;
	for (__u32 id = 1; id < cnt; id++) {
		int nid;

		if (!keep[id])
			continue;
		nid = btf__add_type(dst, vm, btf__type_by_id(vm, id));
		if (nid != (int)keep[id]) {
			btf__free(dst);
			return NULL;
		}
		/* btf__add_type() copies the type's ids as they are; the
		 * copy is ours to renumber */
		remap((struct btf_type *)btf__type_by_id(dst, nid), keep);
	}
	return dst;
}

int corebtf_write(const struct btf *local, int fd)
{
	struct names n = { 0 };
	struct btf *vm = NULL, *dst = NULL;
	__u32 *keep = NULL, size;
	const char *raw;
	int err;

	vm = btf__load_vmlinux_btf();
	if (!vm)
		return -errno;
	err = local_names(local, &n);
	if (err)
		goto out;
	keep = calloc(btf__type_cnt(vm), sizeof(*keep));
	err = keep ? mark(vm, &n, keep) : -ENOMEM;
	if (err)
		goto out;
	dst = copy_kept(vm, keep);
	raw = dst ? btf__raw_data(dst, &size) : NULL;
	if (!raw) {
		err = -EINVAL;
		goto out;
	}
	for (__u32 done = 0; done < size;) {
		ssize_t w = write(fd, raw + done, size - done);

		if (w < 0) {
			err = -errno;
			goto out;
		}
		done += w;
	}
out:
	btf__free(dst);
	free(keep);
	free(n.s);
	free(n.len);
	btf__free(vm);
	return err;
}
