// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"

static void oom(void)
{
	fputs("mptrace: out of memory\n", stderr);
	exit(1);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		oom();
	return d;
}

/*
 * mptrace runs as root and writes where it is told, often into directories
 * others can write (/tmp, a CI workspace): a symbolic link planted at the
 * path must not steer it into truncating another file, and the command it
 * starts must not inherit the descriptor. mode is before the umask.
 */
int open_output(const char *path, mode_t mode)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

int64_t parse_duration_ns(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e6)
		return -1;
	if (!strcmp(end, "ms"))
		return (int64_t)(v * 1e6 + 0.5);
	if (!strcmp(end, "s") || !*end)
		return (int64_t)(v * 1e9 + 0.5);
	if (!strcmp(end, "us"))
		return (int64_t)(v * 1e3 + 0.5);
	return -1;
}

static void sb_grow(struct sbuf *b, size_t need)
{
	if (b->len + need + 1 <= b->cap)
		return;
	while (b->len + need + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 256;
	b->s = xrealloc(b->s, b->cap);
}

void sb_putc(struct sbuf *b, char c)
{
	sb_grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

void sb_puts(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	sb_grow(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void sb_spill(struct sbuf *b, const struct sb_spill *s)
{
	if (s && s->fn && b->len >= 65536) {
		s->fn(b, s->ctx);
		b->len = 0;
	}
}

size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cpp)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80) {
		*cpp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return len;
}

size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;

	return utf8_next(s, n, &cp);
}

bool utf8_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f ||
	       (cp >= 0x80 && cp <= 0x9f) ||		/* C1: xterm acts on CSI, OSC... */
	       (cp >= 0x202a && cp <= 0x202e) ||	/* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069);		/* bidi isolates */
}

void sb_put_printable(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n && u[i];) {
		uint32_t cp;
		size_t l = utf8_next(u + i, n - i, &cp);

		if (l == 0 || utf8_unsafe(cp)) {
			/* every byte of the sequence, as strace and ls -b do */
			l = l ? l : 1;
			for (size_t k = 0; k < l; k++)
				sb_printf(b, "\\x%02x", u[i + k]);
		} else {
			sb_grow(b, l);
			memcpy(b->s + b->len, u + i, l);
			b->len += l;
			b->s[b->len] = '\0';
		}
		i += l;
	}
}

void sb_put_shell_word(struct sbuf *b, const char *s)
{
	bool plain = *s != '\0';

	for (const char *c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *c))
			plain = false;
	if (plain) {
		sb_put_printable(b, s, strlen(s));
		return;
	}
	sb_putc(b, '\'');
	while (*s) {
		size_t run = strcspn(s, "'");

		sb_put_printable(b, s, run);
		s += run;
		if (*s == '\'') {
			sb_puts(b, "'\\''");
			s++;
		}
	}
	sb_putc(b, '\'');
}

int stat_start_ticks(const char *stat, uint64_t *ticks)
{
	const char *p = strrchr(stat, ')');	/* the comm may hold spaces and ')' */
	unsigned long long v;

	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu", &v) != 1)
		return -1;
	*ticks = v;
	return 0;
}

bool start_matches(uint64_t kstart, uint64_t ticks, uint64_t off_lo, uint64_t off_hi,
		   uint64_t tick_ns)
{
	/* the kernel's nsec_to_clock_t(): ns / (NSEC_PER_SEC / USER_HZ), down */
	return tick_ns && ticks >= (kstart + off_lo) / tick_ns &&
	       ticks <= (kstart + off_hi) / tick_ns;
}

/*
 * The kernel's key of a shared futex at `addr`, from a /proc/PID/maps text:
 * the file behind the mapping and the offset in it, as bpf_find_vma gives
 * it in BPF (dev in the kernel's MKDEV encoding: major << 20 | minor).
 * Returns 1 with the key, 0 when addr is in anonymous memory (a private
 * key is right), -1 when no mapping holds it.
 */
int maps_futex_key(const char *maps, size_t n, uint64_t addr, uint64_t *dev, uint64_t *ino,
		   uint64_t *off, char *path, size_t path_len)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(maps + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (maps + i)) : n - i;
		char line[320];
		unsigned long long start, end, pgoff, inode;
		unsigned int major, minor;
		int at = 0;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, maps + i, len);
		line[len] = '\0';
		i = nl ? (size_t)(nl - maps) + 1 : n;
		if (sscanf(line, "%llx-%llx %*4s %llx %x:%x %llu %n", &start, &end, &pgoff, &major, &minor,
			   &inode, &at) < 6)
			continue;
		if (addr < start || addr >= end)
			continue;
		if (!inode)
			return 0;
		*dev = ((uint64_t)major << 20) | minor;
		*ino = inode;
		*off = addr - start + pgoff;
		if (path && path_len) {
			snprintf(path, path_len, "%s", at ? line + at : "");
		}
		return 1;
	}
	return -1;
}

char *proc_read(uint32_t pid, const char *what, size_t max, size_t *len)
{
	char path[64], *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 16384;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += r;
		if (n > max) {
			n = max;
			break;
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}
