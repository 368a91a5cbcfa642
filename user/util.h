/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#ifndef MPTRACE_UTIL_H
#define MPTRACE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Allocation that cannot fail: out of memory ends mptrace with a message. */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
const char *base_name(const char *path);
/* open(2) of an output: created with mode (less the umask) or truncated,
 * close-on-exec, never through a symbolic link (ELOOP). */
int open_output(const char *path, mode_t mode);

/* Parses "1.5", "250ms", "2s" into ns; returns -1 if invalid. */
int64_t parse_duration_ns(const char *s);

/* Growable string buffer. */
struct sbuf {
	char *s;
	size_t len, cap;
};
void sb_putc(struct sbuf *b, char c);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);
/* A report written as it is made: past 64 KiB, fn writes b out and it is
 * emptied. No fn: b holds the whole report. */
struct sb_spill {
	void (*fn)(struct sbuf *b, void *ctx);
	void *ctx;
};
void sb_spill(struct sbuf *b, const struct sb_spill *s);
/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
size_t utf8_len(const unsigned char *s, size_t n);
/* The same, and the code point in *cp. */
size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
/* A code point a terminal acts on or that reorders text: C0, DEL, C1
 * (U+0080-U+009F) and the bidi embeddings, overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069, "Trojan Source"). */
bool utf8_unsafe(uint32_t cp);
/* Appends s as printable text: invalid UTF-8 and the bytes of unsafe code
 * points as \xNN. */
void sb_put_printable(struct sbuf *b, const char *s, size_t n);
/* Appends s quoted like a shell word when it needs quoting. */
void sb_put_shell_word(struct sbuf *b, const char *s);
/* /proc/PID/WHAT read whole (at most `max` bytes, then cut): a malloc'd
 * buffer, NUL-terminated, its length in *len; NULL if it cannot be opened. */
char *proc_read(uint32_t pid, const char *what, size_t max, size_t *len);
/* A shared futex's key (file, offset) from a /proc/PID/maps text: 1 found
 * (and the mapping's path into `path`, if not NULL), 0 anonymous memory,
 * -1 not mapped. */
int maps_futex_key(const char *maps, size_t n, uint64_t addr, uint64_t *dev, uint64_t *ino,
		   uint64_t *off, char *path, size_t path_len);

/*
 * /proc/PID/stat: its 22nd field, the start time in clock ticks since boot
 * (CLOCK_BOOTTIME), from the file's text; -1 if it has none.
 */
int stat_start_ticks(const char *stat, uint64_t *ticks);
/*
 * Is a process that started at kstart (CLOCK_MONOTONIC ns, the kernel's
 * start_time) the one /proc shows started at `ticks`? BOOTTIME runs ahead
 * of MONOTONIC by the time the machine slept: by off_lo to off_hi ns since
 * kstart. Without a sleep (off_lo == off_hi) exactly one tick value matches.
 */
bool start_matches(uint64_t kstart, uint64_t ticks, uint64_t off_lo, uint64_t off_hi,
		   uint64_t tick_ns);

#endif
