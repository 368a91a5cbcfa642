/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * .mpt recordings (docs/file-format.md): a header (magic, version, kernel
 * release, clock base, command line, mptrace version) then self-contained
 * zlib blocks of validated records, each with its length and CRC32.
 */
#ifndef MPTRACE_RECORD_H
#define MPTRACE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "ptree.h"

struct rec_writer;

/* Returns 0 or -errno. */
int rec_open(struct rec_writer **w, const char *path, const struct pt_meta *meta);
/* Buffers one record; writes a block when it is large or a second old. */
int rec_write(struct rec_writer *w, const void *data, size_t len, uint64_t now_ns);
/* Writes a block if anything waited more than a second (call it when idle). */
int rec_tick(struct rec_writer *w, uint64_t now_ns);
/* Flushes the last block and closes; returns 0 or -errno. */
int rec_close(struct rec_writer *w);

struct rec_info {
	uint32_t version;
	char kernel[65];
	char mptrace_version[32];
	uint64_t bytes_lost;	/* a truncated tail: bytes that did not form a block */
	uint64_t blocks;
	uint64_t records;
};

/* Called with the header's meta (argv owned by the reader until it returns),
 * then with each record. A non-zero return stops the replay. */
struct rec_handler {
	int (*meta)(void *ctx, const struct pt_meta *meta, const struct rec_info *info);
	int (*record)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* Replays a recording. Returns 0, or a negative errno with *err set to a
 * line that says what is wrong and at which offset. A truncated file is not
 * an error: info->bytes_lost says how much was cut off. */
int rec_replay(const char *path, const struct rec_handler *h, struct rec_info *info,
	       char *err, size_t errlen);
/* The same over a buffer in memory (the fuzzer's entry point). */
int rec_replay_mem(const uint8_t *data, size_t len, const struct rec_handler *h,
		   struct rec_info *info, char *err, size_t errlen);

#endif
