// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "snapshot.h"
#include "util.h"

bool pid_exists(uint32_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	return !access(path, F_OK);
}

ssize_t read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < n && (r = read(fd, buf + total, n - total)) > 0)
		total += r;
	close(fd);
	return total;
}

/* A zombie's wait status: the 50th field after comm (stat's exit_code,
 * field 52 of proc(5)), 0 when the kernel does not say. */
static uint16_t zombie_status(const char *after_comm)
{
	const char *s = after_comm;

	for (int field = 3; field < 52 && s; field++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	return s ? (uint16_t)strtoul(s, NULL, 10) : 0;
}

static int read_one(struct snap_proc *p, uint32_t pid, uint64_t ts)
{
	char path[64], buf[1024];
	ssize_t n;
	char *open_paren, *close_paren;
	int ppid = 0, threads = 1;
	char state = 0;
	size_t clen;

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: it ends at the last ')' */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	clen = close_paren - open_paren - 1;
	if (clen > MPT_COMM_LEN)
		clen = MPT_COMM_LEN;
	memcpy(p->rec.comm, open_paren + 1, clen);
	/* fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads */
	if (sscanf(close_paren + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %d",
		   &state, &ppid, &threads) != 3)
		return -EINVAL;
	if (state == 'Z') {
		/* a zombie from before: the live view and the report show it as one */
		p->rec.flags = MPT_PROC_ZOMBIE;
		p->rec.status = zombie_status(close_paren + 2);
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_file(path, p->rec.args, MPT_ARGS_MAX);
	if (n < 0)
		n = 0;
	p->pid = pid;
	p->ppid = ppid;
	p->nthreads = threads;
	p->rec.h.type = MPT_EV_PROC;
	p->rec.h.size = (offsetof(struct mpt_proc, args) + n + 7) & ~7ul;
	p->rec.h.ts = ts;
	p->rec.h.pid = pid;
	p->rec.h.tid = pid;
	p->rec.ppid = ppid;
	p->rec.nthreads = threads;
	p->rec.args_len = n;
	return 0;
}

int snapshot_read(struct snapshot *s, uint64_t ts)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t cap = 0;

	memset(s, 0, sizeof(*s));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !isdigit((unsigned char)de->d_name[0]))
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 512;
			s->v = xrealloc(s->v, cap * sizeof(*s->v));
		}
		if (read_one(&s->v[s->n], pid, ts) == 0)
			s->n++;
	}
	closedir(d);
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct snap_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static struct snap_proc *lookup(struct snapshot *s, uint32_t pid)
{
	struct snap_proc key = { .pid = pid };

	return bsearch(&key, s->v, s->n, sizeof(*s->v), by_pid);
}

size_t snapshot_select(struct snapshot *s, const uint32_t *pids, int npids, bool all)
{
	size_t marked = 0;
	bool changed = true;

	qsort(s->v, s->n, sizeof(*s->v), by_pid);
	for (size_t i = 0; i < s->n; i++)
		s->v[i].selected = all;
	if (all)
		return s->n;
	for (int i = 0; i < npids; i++) {
		struct snap_proc *p = lookup(s, pids[i]);

		if (p)
			p->selected = true;
	}
	/* descendants: repeat until no parent adds a child (parents can have
	 * larger pids than their children after pid wrap-around) */
	while (changed) {
		changed = false;
		for (size_t i = 0; i < s->n; i++) {
			struct snap_proc *parent;

			if (s->v[i].selected)
				continue;
			parent = lookup(s, s->v[i].ppid);
			if (parent && parent->selected) {
				s->v[i].selected = true;
				changed = true;
			}
		}
	}
	for (size_t i = 0; i < s->n; i++)
		marked += s->v[i].selected;
	return marked;
}

void snapshot_order(struct snapshot *s)
{
	struct snap_proc *out = xcalloc(s->n + 1, sizeof(*out));
	bool *done = xcalloc(s->n + 1, sizeof(*done));
	size_t k = 0;

	qsort(s->v, s->n, sizeof(*s->v), by_pid);
	/* repeatedly emit processes whose parent is emitted or absent */
	while (k < s->n) {
		size_t before = k;

		for (size_t i = 0; i < s->n; i++) {
			struct snap_proc *parent;

			if (done[i])
				continue;
			parent = lookup(s, s->v[i].ppid);
			if (!parent || parent == &s->v[i] || done[parent - s->v]) {
				out[k++] = s->v[i];
				done[i] = true;
			}
		}
		if (k == before) {	/* a cycle cannot happen, but never loop */
			for (size_t i = 0; i < s->n; i++)
				if (!done[i])
					out[k++] = s->v[i];
		}
	}
	free(done);
	free(s->v);
	s->v = out;
}

void snapshot_free(struct snapshot *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
