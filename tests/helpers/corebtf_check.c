// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * corebtf_check: loads mptrace's BPF object twice, with libbpf's CO-RE
 * relocations against the whole kernel BTF and against the cut-down copy
 * that user/corebtf.c makes (what mptrace loads with), and compares what
 * every relocation resolved to: the candidates found, the offsets patched
 * in, the relocations that found nothing. Prints the number of outcomes
 * compared; exits 1 at the first difference (printed), 2 on an error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include "mptrace.skel.h"
#include "corebtf.h"

static char *log_buf[2];
static size_t log_len[2], log_cap[2];
static int which;

/* keeps the lines that say what a relocation resolved to, without the
 * type ids (the copy numbers its types its own way) */
static int keep_line(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024], out[1024];
	size_t o = 0;

	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!strstr(line, "candidate") && !strstr(line, "patched insn") &&
	    !strstr(line, "no matching targets"))
		return 0;
	for (const char *p = line; *p && o < sizeof(out) - 1; p++) {
		if (*p == '[' && strchr(p, ']')) {
			p = strchr(p, ']');
			continue;
		}
		out[o++] = *p;
	}
	out[o] = 0;
	if (log_len[which] + o + 1 > log_cap[which]) {
		log_cap[which] = (log_cap[which] + o + 1) * 2;
		log_buf[which] = realloc(log_buf[which], log_cap[which]);
		if (!log_buf[which])
			exit(2);
	}
	memcpy(log_buf[which] + log_len[which], out, o + 1);
	log_len[which] += o;
	return 0;
}

static int load(const char *custom)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = custom);
	struct mptrace_bpf *s = mptrace_bpf__open_opts(&oo);
	int err;

	if (!s)
		return -errno;
	s->rodata->trace_locks = 1;
	s->rodata->mutex_owner_off = 8;
	err = mptrace_bpf__load(s);
	mptrace_bpf__destroy(s);
	return err;
}

int main(void)
{
	struct mptrace_bpf *s = mptrace_bpf__open();
	char path[64];
	int fd = memfd_create("core", MFD_CLOEXEC), err, lines = 0;
	const char *a, *b;

	if (!s || fd < 0 || corebtf_write(bpf_object__btf(s->obj), fd)) {
		fprintf(stderr, "corebtf_check: cannot make the cut-down BTF\n");
		return 2;
	}
	mptrace_bpf__destroy(s);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	libbpf_set_print(keep_line);
	which = 0;
	err = load(NULL);
	which = 1;
	err = err ? err : load(path);
	if (err || !log_len[0] || !log_len[1]) {
		fprintf(stderr, "corebtf_check: cannot load the object: %d\n", err);
		return 2;
	}
	for (a = log_buf[0], b = log_buf[1]; *a || *b; lines++) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

		if (la != lb || memcmp(a, b, la)) {
			printf("whole BTF: %.*s\ncut-down:  %.*s\n", (int)la, a, (int)lb, b);
			return 1;
		}
		a += la + !!a[la];
		b += lb + !!b[lb];
	}
	printf("%d relocation outcomes, the same\n", lines);
	return 0;
}
