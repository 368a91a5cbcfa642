/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * .mpt recordings (docs/file-format.md): a header (magic, version, kernel
 * release, clock base, command line, mptrace version) then self-contained
 * zlib blocks of validated records, each with its length and CRC32.
 */
#ifndef MPTRACE_RECORD_H
#define MPTRACE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ptree.h"

#define REC_FORMAT_VERSION 1
/* A block is flushed when this many record bytes wait, or a second passed. */
#define REC_BLOCK_RAW	(256u << 10)
/* The reader refuses anything larger: a corrupt length cannot make it
 * allocate more than this per block. */
#define REC_BLOCK_MAX	(16u << 20)
#define REC_HEADER_MAX	(1u << 20)

#define REC_F_NO_LOCKS	0x1	/* recorded with --no-locks */

struct rec_writer;

/* What the live run knew that the model's meta does not hold. */
struct rec_params {
	uint64_t lock_threshold_ns;	/* the kernel side dropped shorter lock waits */
	uint32_t flags;			/* REC_F_* */
};

/* Returns 0 or -errno. */
int rec_open(struct rec_writer **w, const char *path, const struct pt_meta *meta,
	     const struct rec_params *params);
/* Buffers one validated record; writes a block when it is large or a
 * second old. Returns 0 or -errno (the first error sticks). */
int rec_write(struct rec_writer *w, const void *data, size_t len, uint64_t now_ns);
/* Writes a block if anything waited a second or more (call it when idle). */
int rec_tick(struct rec_writer *w, uint64_t now_ns);
/* Flushes the last block and closes; returns 0 or -errno. Frees w always. */
int rec_close(struct rec_writer *w);

struct rec_info {
	uint32_t version;		/* format version */
	uint32_t abi;			/* MPT_ABI_VERSION of the writer */
	char kernel[65];		/* uname -r of the traced host */
	char mptrace_version[32];
	uint64_t lock_threshold_ns;
	uint32_t flags;			/* REC_F_* */
	uint64_t blocks, records;	/* replayed */
	bool ended;			/* the MPT_EV_END record was replayed */
	uint64_t bytes_lost;		/* a truncated tail: bytes that did not form a block */
	uint64_t lost_offset;		/* where that tail starts */
	uint64_t records_lost;		/* records the cut block announced (0 if unknown) */
};

/* Called with the header's meta (argv owned by the reader until it returns),
 * then with each validated record. A non-zero return stops the replay and
 * becomes rec_replay's return value. */
struct rec_handler {
	int (*meta)(void *ctx, const struct pt_meta *meta, const struct rec_info *info);
	int (*record)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* Replays a recording. Returns 0, or a negative errno with *err set to a
 * line that says what is wrong and at which byte offset. A truncated file is
 * not an error: info->bytes_lost says how much was cut off. */
int rec_replay(const char *path, const struct rec_handler *h, struct rec_info *info,
	       char *err, size_t errlen);
/* The same over a buffer in memory (the fuzzer's entry point). */
int rec_replay_mem(const uint8_t *data, size_t len, const struct rec_handler *h,
		   struct rec_info *info, char *err, size_t errlen);

#endif
