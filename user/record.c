// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * .mpt recordings: the writer used by a live trace and the reader behind
 * `mptrace report` (docs/file-format.md is the byte-level description).
 *
 * Records are stored as the model received them, so a replay feeds the very
 * same bytes through event_validate() and ptree_feed(). They go into blocks
 * that each carry their own zlib stream and CRC32: a writer killed mid-run
 * leaves every earlier block readable, and damage stays inside one block.
 *
 * The reader never trusts a length before checking it against a cap
 * (REC_HEADER_MAX, REC_BLOCK_MAX), so a corrupt or hostile file cannot make
 * it allocate more than a few tens of MiB, and it reports the byte offset of
 * whatever it refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <zlib.h>
#include "event.h"
#include "record.h"
#include "util.h"

static const uint8_t file_magic[8] = { 0x89, 'M', 'P', 'T', '\r', '\n', 0x1a, '\n' };
static const uint8_t block_magic[4] = { 'M', 'P', 'T', 'B' };

#define HDR_FIXED	64	/* bytes before the strings */
#define BLK_HDR		24
#define REC_ALIGN(n)	(((n) + 7) & ~(size_t)7)
/* Measured on a 20,000-process fork storm (80,000 records, 4.5 MB): level 1
 * gives 12.4 bytes/record for 35 ms of CPU, about 3% of mptrace's own; level 6
 * saves 16% of the file for 4x the CPU. */
#define ZLEVEL		1
#define REC_MAX		(64u << 10)	/* one record; the largest real one is ~1.4 KiB */

enum { BO_LITTLE = 1, BO_BIG = 2 };
/* How a block's records are stored. Only plain so far: XORing each record
 * with its predecessor of the same type was measured to make the fork storm
 * 1% larger and deflate slower (deflate already matches the predecessor). */
enum { ENC_PLAIN = 0 };

/* The header and block headers are little-endian whatever the host; the
 * records inside blocks are in the writer's byte order (the header says
 * which), exactly as the kernel produced them. */
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int host_byte_order(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one ? BO_LITTLE : BO_BIG;
}

/* ---- writer ---- */

struct rec_writer {
	int fd;
	uint8_t *raw;		/* records waiting for the next block */
	size_t raw_len;
	uint32_t nrec;
	uint64_t first_ns;	/* when the oldest waiting record arrived */
	uint8_t *out;		/* block header + compressed records */
	size_t out_cap;
	int err;		/* the first write error; later calls return it */
};

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= r;
	}
	return 0;
}

struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static uint8_t *bytes_add(struct bytes *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	b->len += n;
	return b->p + b->len - n;
}

static void bytes_str(struct bytes *b, const char *s)
{
	size_t n = strlen(s);

	put32(bytes_add(b, 4), n);
	memcpy(bytes_add(b, n), s, n);
}

static void build_header(struct bytes *b, const struct pt_meta *m, const struct rec_params *rp)
{
	struct utsname u;
	uint32_t argc = 0, crc;
	uint8_t *f;

	if (uname(&u))
		strcpy(u.release, "unknown");
	while (m->argv && m->argv[argc])
		argc++;
	f = bytes_add(b, HDR_FIXED);
	memset(f, 0, HDR_FIXED);
	memcpy(f, file_magic, sizeof(file_magic));
	put32(f + 8, REC_FORMAT_VERSION);
	/* f + 12: the header length, known at the end */
	put32(f + 16, MPT_ABI_VERSION);
	f[20] = host_byte_order();
	f[21] = m->mode;
	put16(f + 22, 0);
	put32(f + 24, rp ? rp->flags : 0);
	put32(f + 28, argc);
	put64(f + 32, m->t0);
	put64(f + 40, (uint64_t)m->wall_t0_ns);
	put32(f + 48, m->self_pid);
	put32(f + 52, m->root_pid);
	put64(f + 56, rp ? rp->lock_threshold_ns : 0);
	bytes_str(b, u.release);
	bytes_str(b, MPTRACE_VERSION);
	for (uint32_t i = 0; i < argc; i++)
		bytes_str(b, m->argv[i]);
	put32(b->p + 12, b->len + 4);
	crc = crc32(0, b->p, b->len);	/* before bytes_add moves b->p */
	put32(bytes_add(b, 4), crc);
}

int rec_open(struct rec_writer **out, const char *path, const struct pt_meta *meta,
	     const struct rec_params *params)
{
	struct rec_writer *w;
	struct bytes hdr = { 0 };
	struct stat st;
	int err;

	w = xcalloc(1, sizeof(*w));
	/* 0600: a recording holds every argv and test name, which can carry
	 * secrets; a file that was there before is narrowed to it too */
	w->fd = open_output(path, 0600);
	if (w->fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (!fstat(w->fd, &st) && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
	    fchmod(w->fd, 0600)) {
		err = -errno;
		goto out_close;
	}
	build_header(&hdr, meta, params);
	if (hdr.len > REC_HEADER_MAX) {
		err = -E2BIG;	/* a command line the reader would refuse */
		goto out_close;
	}
	err = write_all(w->fd, hdr.p, hdr.len);
	if (err)
		goto out_close;
	free(hdr.p);
	/* a block is written as soon as REC_BLOCK_RAW is reached, so one
	 * more record always fits */
	w->raw = xcalloc(1, REC_BLOCK_RAW + REC_MAX);
	*out = w;
	return 0;

out_close:
	close(w->fd);
	unlink(path);
out_free:
	free(hdr.p);
	free(w);
	return err;
}

static int flush_block(struct rec_writer *w)
{
	uLongf clen;
	size_t need = BLK_HDR + compressBound(w->raw_len);
	uint32_t crc;
	int err;

	if (w->err || !w->nrec)
		return w->err;
	if (need > w->out_cap) {
		w->out_cap = need;
		w->out = xrealloc(w->out, need);
	}
	clen = need - BLK_HDR;
	if (compress2(w->out + BLK_HDR, &clen, w->raw, w->raw_len, ZLEVEL) != Z_OK)
		return w->err = -ENOMEM;
	memcpy(w->out, block_magic, 4);
	put32(w->out + 4, clen);
	put32(w->out + 8, w->raw_len);
	put32(w->out + 12, w->nrec);
	put32(w->out + 16, ENC_PLAIN);
	crc = crc32(0, w->out, 20);
	crc = crc32(crc, w->out + BLK_HDR, clen);
	put32(w->out + 20, crc);
	err = write_all(w->fd, w->out, BLK_HDR + clen);
	w->raw_len = 0;
	w->nrec = 0;
	return w->err = err;
}

int rec_write(struct rec_writer *w, const void *data, size_t len, uint64_t now_ns)
{
	const struct mpt_hdr *h = data;
	size_t n;

	if (w->err)
		return w->err;
	/* the record's own size: a ring-buffer sample may carry padding */
	if (len < sizeof(*h) || h->size < sizeof(*h) || h->size > len)
		return -EINVAL;
	n = REC_ALIGN(h->size);
	if (n > REC_MAX)
		return -EINVAL;
	if (!w->nrec)
		w->first_ns = now_ns;
	memcpy(w->raw + w->raw_len, data, h->size);
	memset(w->raw + w->raw_len + h->size, 0, n - h->size);
	w->raw_len += n;
	w->nrec++;
	if (w->raw_len >= REC_BLOCK_RAW)
		return flush_block(w);
	return rec_tick(w, now_ns);
}

int rec_tick(struct rec_writer *w, uint64_t now_ns)
{
	if (w->nrec && now_ns - w->first_ns >= 1000000000ull)
		return flush_block(w);
	return w->err;
}

int rec_close(struct rec_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = flush_block(w);
	if (close(w->fd) && !err)
		err = -errno;
	free(w->raw);
	free(w->out);
	free(w);
	return err;
}

/* ---- reader ---- */

/* Where the bytes come from: memory (the fuzzer, tests) or a file read
 * block by block, so a large recording is never held whole. */
struct src {
	const uint8_t *mem;
	size_t len;
	int fd;
	uint64_t off;		/* bytes consumed so far */
};

/* Returns the bytes read (fewer than n only at the end) or -errno. */
static ssize_t src_read(struct src *s, void *buf, size_t n)
{
	size_t got = 0;

	if (s->mem) {
		got = s->off < s->len ? s->len - s->off : 0;
		if (got > n)
			got = n;
		memcpy(buf, s->mem + s->off, got);
		s->off += got;
		return got;
	}
	while (got < n) {
		ssize_t r = read(s->fd, (uint8_t *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += r;
	}
	s->off += got;
	return got;
}

struct reader {
	struct src src;
	const struct rec_handler *h;
	struct rec_info *info;
	char *err;
	size_t errlen;
	uint8_t *comp, *raw;
	size_t comp_cap, raw_cap;
};

static int fail(struct reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* A length-prefixed string of the header: *pos advances past it. */
static int header_str(struct reader *r, const uint8_t *hdr, size_t end, size_t *pos, char **out)
{
	uint32_t n;

	if (end - *pos < 4)
		return fail(r, -EINVAL, "header string at byte %zu runs past the header", *pos);
	n = get32(hdr + *pos);
	if (n > end - *pos - 4)
		return fail(r, -EINVAL, "header string at byte %zu runs past the header", *pos);
	*out = xstrndup((const char *)hdr + *pos + 4, n);
	*pos += 4 + n;
	return 0;
}

static void free_argv(char **argv, uint32_t n)
{
	for (uint32_t i = 0; argv && i < n; i++)
		free(argv[i]);
	free(argv);
}

static int read_header(struct reader *r)
{
	uint8_t fixed[HDR_FIXED], *hdr = NULL;
	struct pt_meta m = { 0 };
	struct rec_info *info = r->info;
	char *kernel = NULL, *version = NULL;
	uint32_t hlen, argc, i = 0;
	size_t pos = HDR_FIXED;
	ssize_t n;
	int err;

	n = src_read(&r->src, fixed, sizeof(fixed));
	if (n < 0)
		return fail(r, n, "cannot read: %s", strerror(-n));
	if (n == 0)
		return fail(r, -EINVAL, "empty file: not an mptrace recording");
	if (n < 8 || memcmp(fixed, file_magic, 8))
		return fail(r, -EINVAL, "not an mptrace recording (no .mpt magic at byte 0)");
	if (n < HDR_FIXED)
		return fail(r, -EINVAL, "truncated header: the file ends at byte %zd", n);
	info->version = get32(fixed + 8);
	if (info->version != REC_FORMAT_VERSION)
		return fail(r, -EPROTONOSUPPORT, "format version %u at byte 8 is not supported "
			    "(this mptrace reads version %u)", info->version, REC_FORMAT_VERSION);
	hlen = get32(fixed + 12);
	if (hlen < HDR_FIXED + 12 || hlen > REC_HEADER_MAX)
		return fail(r, -EINVAL, "impossible header length %u at byte 12", hlen);
	info->abi = get32(fixed + 16);
	if (info->abi != MPT_ABI_VERSION)
		return fail(r, -EPROTONOSUPPORT, "event ABI version %u at byte 16 is not supported "
			    "(this mptrace reads version %u)", info->abi, MPT_ABI_VERSION);
	if (fixed[20] != host_byte_order())
		return fail(r, -EPROTONOSUPPORT, "recorded on a %s-endian host (byte 20); this one "
			    "is %s-endian", fixed[20] == BO_BIG ? "big" : "little",
			    host_byte_order() == BO_BIG ? "big" : "little");
	if (fixed[21] > PT_MODE_SYSTEM)
		return fail(r, -EINVAL, "unknown trace mode %u at byte 21", fixed[21]);
	argc = get32(fixed + 28);
	/* every argument takes at least its 4-byte length */
	if (argc > (hlen - HDR_FIXED) / 4)
		return fail(r, -EINVAL, "impossible argument count %u at byte 28", argc);

	hdr = xcalloc(1, hlen);
	memcpy(hdr, fixed, HDR_FIXED);
	n = src_read(&r->src, hdr + HDR_FIXED, hlen - HDR_FIXED);
	if (n < 0) {
		err = fail(r, n, "cannot read: %s", strerror(-n));
		goto out;
	}
	if ((size_t)n < hlen - HDR_FIXED) {
		err = fail(r, -EINVAL, "truncated header: the file ends at byte %zu of %u",
			   HDR_FIXED + (size_t)n, hlen);
		goto out;
	}
	if (crc32(0, hdr, hlen - 4) != get32(hdr + hlen - 4)) {
		err = fail(r, -EBADMSG, "header CRC32 mismatch at byte %u (the file is corrupted)",
			   hlen - 4);
		goto out;
	}
	m.mode = fixed[21];
	info->flags = get32(fixed + 24);
	m.t0 = get64(fixed + 32);
	m.wall_t0_ns = (int64_t)get64(fixed + 40);
	m.self_pid = get32(fixed + 48);
	m.root_pid = get32(fixed + 52);
	info->lock_threshold_ns = get64(fixed + 56);
	err = header_str(r, hdr, hlen - 4, &pos, &kernel);
	if (!err)
		err = header_str(r, hdr, hlen - 4, &pos, &version);
	if (err)
		goto out;
	snprintf(info->kernel, sizeof(info->kernel), "%s", kernel);
	snprintf(info->mptrace_version, sizeof(info->mptrace_version), "%s", version);
	m.argv = xcalloc(argc + 1, sizeof(char *));
	for (i = 0; i < argc; i++) {
		err = header_str(r, hdr, hlen - 4, &pos, &m.argv[i]);
		if (err)
			goto out;
	}
	if (pos != hlen - 4) {
		err = fail(r, -EINVAL, "%zu unexpected bytes at byte %zu of the header",
			   hlen - 4 - pos, pos);
		goto out;
	}
	err = r->h->meta ? r->h->meta(r->h->ctx, &m, info) : 0;
out:
	free_argv(m.argv, i);
	free(kernel);
	free(version);
	free(hdr);
	return err;
}

/* zlib's own view of the payload; exactly raw_len bytes must come out. */
static int inflate_block(struct reader *r, size_t clen, size_t rlen, uint64_t at)
{
	z_stream z = { 0 };
	int zr;

	if (inflateInit(&z) != Z_OK)
		return fail(r, -ENOMEM, "cannot set up zlib");
	z.next_in = r->comp;
	z.avail_in = clen;
	z.next_out = r->raw;
	z.avail_out = rlen;
	zr = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (zr != Z_STREAM_END || z.total_out != rlen || z.avail_in)
		return fail(r, -EBADMSG, "block at byte %llu: bad zlib stream (%s)",
			    (unsigned long long)at,
			    zr == Z_STREAM_END ? "wrong length" : z.msg ? z.msg : "does not end");
	return 0;
}

static int replay_records(struct reader *r, size_t rlen, uint32_t nrec, uint64_t at)
{
	size_t off = 0;
	uint32_t k = 0;
	const char *why;
	int err;

	while (off < rlen) {
		const struct mpt_hdr *h = (const void *)(r->raw + off);
		size_t n;

		/* raw is 8-aligned and every record takes a multiple of 8 */
		if (rlen - off < sizeof(*h) || h->size < sizeof(*h) || REC_ALIGN(h->size) > rlen - off)
			return fail(r, -EBADMSG, "block at byte %llu: record %u at offset %zu has an "
				    "impossible size", (unsigned long long)at, k, off);
		n = REC_ALIGN(h->size);
		if (event_validate(h, n, &why))
			return fail(r, -EBADMSG, "block at byte %llu: record %u: %s",
				    (unsigned long long)at, k, why);
		if (h->type == MPT_EV_END)
			r->info->ended = true;
		err = r->h->record ? r->h->record(r->h->ctx, h, n) : 0;
		if (err)
			return err;
		off += n;
		k++;
		r->info->records++;
	}
	if (k != nrec)
		return fail(r, -EBADMSG, "block at byte %llu: %u records where its header says %u",
			    (unsigned long long)at, k, nrec);
	return 0;
}

/* Grows *buf to n bytes; n is already capped by REC_BLOCK_MAX. */
static void reserve(uint8_t **buf, size_t *cap, size_t n)
{
	if (n <= *cap)
		return;
	free(*buf);
	*buf = xcalloc(1, n);
	*cap = n;
}

static void truncated(struct reader *r, uint64_t at, uint64_t have, uint32_t nrec)
{
	r->info->bytes_lost = have;
	r->info->lost_offset = at;
	r->info->records_lost = nrec;
}

/* Returns 1 at the end of the file, 0 after a block, or -errno. */
static int read_block(struct reader *r)
{
	uint8_t bh[BLK_HDR];
	uint64_t at = r->src.off;
	uint32_t clen, rlen, nrec, enc, crc;
	ssize_t n;
	int err;

	n = src_read(&r->src, bh, sizeof(bh));
	if (n < 0)
		return fail(r, n, "cannot read at byte %llu: %s", (unsigned long long)at, strerror(-n));
	if (n == 0)
		return 1;
	if (memcmp(bh, block_magic, n < 4 ? n : 4))
		return fail(r, -EBADMSG, "no block at byte %llu (bad block magic; the file is "
			    "corrupted)", (unsigned long long)at);
	if (n < BLK_HDR) {
		truncated(r, at, n, 0);
		return 1;
	}
	clen = get32(bh + 4);
	rlen = get32(bh + 8);
	nrec = get32(bh + 12);
	enc = get32(bh + 16);
	if (!clen || clen > REC_BLOCK_MAX || !rlen || rlen > REC_BLOCK_MAX || rlen % 8 ||
	    nrec > rlen / sizeof(struct mpt_hdr))
		return fail(r, -EBADMSG, "block at byte %llu: impossible lengths (%u compressed, "
			    "%u raw, %u records)", (unsigned long long)at, clen, rlen, nrec);
	if (enc != ENC_PLAIN)
		return fail(r, -EBADMSG, "block at byte %llu: unknown encoding %u",
			    (unsigned long long)at, enc);
	reserve(&r->comp, &r->comp_cap, clen);
	n = src_read(&r->src, r->comp, clen);
	if (n < 0)
		return fail(r, n, "cannot read at byte %llu: %s", (unsigned long long)at, strerror(-n));
	if ((size_t)n < clen) {
		truncated(r, at, BLK_HDR + n, nrec);
		return 1;
	}
	crc = crc32(crc32(0, bh, 20), r->comp, clen);
	if (crc != get32(bh + 20))
		return fail(r, -EBADMSG, "block at byte %llu: CRC32 mismatch (the file is corrupted)",
			    (unsigned long long)at);
	reserve(&r->raw, &r->raw_cap, rlen);
	err = inflate_block(r, clen, rlen, at);
	if (err)
		return err;
	r->info->blocks++;
	return replay_records(r, rlen, nrec, at);
}

static int replay(struct reader *r)
{
	int err;

	memset(r->info, 0, sizeof(*r->info));
	if (r->errlen)
		r->err[0] = '\0';
	err = read_header(r);
	while (!err)
		err = read_block(r);
	free(r->comp);
	free(r->raw);
	return err < 0 ? err : 0;
}

int rec_replay_mem(const uint8_t *data, size_t len, const struct rec_handler *h,
		   struct rec_info *info, char *err, size_t errlen)
{
	/* a non-NULL pointer marks the memory source, even for 0 bytes */
	struct reader r = { .src = { .mem = data ? data : (const uint8_t *)"", .len = len },
			    .h = h, .info = info, .err = err, .errlen = errlen };

	return replay(&r);
}

int rec_replay(const char *path, const struct rec_handler *h, struct rec_info *info,
	       char *err, size_t errlen)
{
	struct reader r = { .src = { .fd = open(path, O_RDONLY | O_CLOEXEC) },
			    .h = h, .info = info, .err = err, .errlen = errlen };
	int ret;

	if (r.src.fd < 0) {
		ret = -errno;
		memset(info, 0, sizeof(*info));
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	ret = replay(&r);
	close(r.src.fd);
	return ret;
}
