// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The .mpt writer and reader: a round trip through a file, blocks split by
 * size and by time, every truncation point, and the damage the reader must
 * refuse with the byte offset (CRC, zlib, lengths, version, magic).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "event.h"
#include "record.h"
#include "tap.h"

#define MS 1000000ull

struct got {
	int metas;
	char *argv0, *argv2;
	uint64_t t0, lock_thr;
	uint32_t self, root, mode;
	size_t n;
	uint64_t sum;		/* fold() of the records in order, to compare sequences */
	uint32_t last_type;
};

static int on_meta(void *ctx, const struct pt_meta *m, const struct rec_info *info)
{
	struct got *g = ctx;

	g->metas++;
	free(g->argv0);
	free(g->argv2);
	g->argv0 = m->argv[0] ? strdup(m->argv[0]) : NULL;
	g->argv2 = m->argv[0] && m->argv[1] && m->argv[2] ? strdup(m->argv[2]) : NULL;
	g->t0 = m->t0;
	g->self = m->self_pid;
	g->root = m->root_pid;
	g->mode = m->mode;
	g->lock_thr = info->lock_threshold_ns;
	return 0;
}

/* Order-sensitive digest of a record: type, size, pid, ts and, for an exec,
 * its file and argv bytes; a swapped or altered record changes the result. */
static uint64_t fold(uint64_t acc, const void *data)
{
	const struct mpt_hdr *h = data;
	uint64_t v = crc32(0, data, sizeof(*h));

	if (h->type == MPT_EV_EXEC) {
		const struct mpt_exec *x = data;

		v = crc32(v, (const void *)x->data, x->fname_len + x->args_len);
	}
	return acc * 1000003u + v;
}

static int on_rec(void *ctx, const void *data, size_t len)
{
	struct got *g = ctx;
	const struct mpt_hdr *h = data;
	const char *why;

	if (event_validate(data, len, &why))
		return -99;
	g->n++;
	g->sum = fold(g->sum, data);
	g->last_type = h->type;
	return 0;
}

static void got_free(struct got *g)
{
	free(g->argv0);
	free(g->argv2);
	memset(g, 0, sizeof(*g));
}

static char *argv_[] = { "sh", "-c", "echo 'quoted' \"x\"\n", NULL };
static const struct pt_meta meta = { .mode = PT_MODE_COMMAND, .argv = argv_, .t0 = 5000 * MS,
				     .wall_t0_ns = 1700000000123456789ll, .self_pid = 10,
				     .root_pid = 11 };

static void mk_fork(struct mpt_fork *e, uint32_t pid, uint64_t ts)
{
	memset(e, 0, sizeof(*e));
	e->h = (struct mpt_hdr){ .type = MPT_EV_FORK, .size = sizeof(*e), .ts = ts, .pid = pid,
				 .tid = pid, .start = ts };
	e->ppid = 11;
	e->ptid = 11;
	strcpy(e->comm, "child");
}

/* An exec record whose size is not a multiple of 8 (the writer pads it). */
static size_t mk_exec(struct mpt_exec *e, uint32_t pid, uint64_t ts)
{
	static const char fa[] = "/bin/true\0true\0a";

	memset(e, 0, sizeof(*e));
	e->h = (struct mpt_hdr){ .type = MPT_EV_EXEC, .pid = pid, .tid = pid, .ts = ts, .start = ts };
	e->fname_len = 10;
	e->args_len = sizeof(fa) - 1 - 10;
	memcpy(e->data, fa, sizeof(fa) - 1);
	strcpy(e->comm, "true");
	e->h.size = offsetof(struct mpt_exec, data) + sizeof(fa) - 1;
	return e->h.size;
}

/* Writes n fork records (every 7th an exec), an end record; returns the
 * fold() of them all, in order. */
static uint64_t write_file(const char *path, size_t n, uint64_t tick_every, size_t *nrec)
{
	struct rec_writer *w;
	struct rec_params rp = { .lock_threshold_ns = 3 * MS };
	uint64_t sum = 0, now = 0;
	int err = rec_open(&w, path, &meta, &rp);

	if (err) {
		ok(0, "rec_open %s: %s", path, strerror(-err));
		return 0;
	}
	*nrec = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t ts = meta.t0 + i * 1000;
		union { struct mpt_fork f; struct mpt_exec x; } u;
		size_t len;

		if (i % 7 == 3)
			len = mk_exec(&u.x, 100 + i, ts);
		else
			mk_fork(&u.f, 100 + i, ts), len = sizeof(u.f);
		err = rec_write(w, &u, len, now);
		if (err)
			break;
		sum = fold(sum, &u);
		(*nrec)++;
		if (tick_every && i % tick_every == tick_every - 1) {
			now += 1100 * MS;	/* a second passed: rec_tick flushes */
			err = rec_tick(w, now);
		}
	}
	{
		struct mpt_end e = { .h = { .type = MPT_EV_END, .size = sizeof(e),
					    .ts = meta.t0 + n * 1000 } };

		if (!err)
			err = rec_write(w, &e, sizeof(e), now);
		sum = fold(sum, &e);
		(*nrec)++;
	}
	ok(!err, "wrote %zu records", n);
	ok(rec_close(w) == 0, "rec_close");
	return sum;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? n : 1);
	*len = fread(buf, 1, n, f);
	fclose(f);
	return buf;
}

static int replay_mem(const uint8_t *d, size_t len, struct got *g, struct rec_info *info,
		      char *err, size_t errlen)
{
	struct rec_handler h = { .meta = on_meta, .record = on_rec, .ctx = g };

	got_free(g);
	return rec_replay_mem(d, len, &h, info, err, errlen);
}

static void test_roundtrip(const char *path)
{
	struct rec_handler h;
	struct rec_info info;
	struct got g = { 0 };
	char err[256];
	size_t nrec;
	uint64_t sum = write_file(path, 50000, 0, &nrec);
	int r;

	h = (struct rec_handler){ .meta = on_meta, .record = on_rec, .ctx = &g };
	r = rec_replay(path, &h, &info, err, sizeof(err));
	is_int(r, 0, "replay of a complete file succeeds (%s)", err);
	is_int(g.metas, 1, "meta called once");
	ok(g.argv0 && !strcmp(g.argv0, "sh"), "argv[0] kept");
	ok(g.argv2 && !strcmp(g.argv2, argv_[2]), "argv with quotes and a newline kept");
	ok(g.t0 == meta.t0 && g.self == 10 && g.root == 11 && g.mode == PT_MODE_COMMAND,
	   "clock base, pids and mode kept");
	ok(g.lock_thr == 3 * MS, "lock threshold kept");
	is_int(g.n, nrec, "every record replayed");
	ok(g.sum == sum, "the same records in the same order");
	is_int(g.last_type, MPT_EV_END, "the end record last");
	ok(info.ended && !info.bytes_lost, "info: ended, nothing lost");
	ok(info.blocks > 1, "more than one block (%llu)", (unsigned long long)info.blocks);
	is_int(info.records, nrec, "info counts the records");
	ok(info.kernel[0] && !strcmp(info.mptrace_version, MPTRACE_VERSION), "kernel and version");
	got_free(&g);
}

static void test_tick(const char *path)
{
	size_t nrec, len;
	uint8_t *d;
	struct got g = { 0 };
	struct rec_info info;
	char err[256];

	write_file(path, 100, 10, &nrec);
	d = slurp(path, &len);
	is_int(replay_mem(d, len, &g, &info, err, sizeof(err)), 0, "ticked file replays");
	is_int(info.blocks, 11, "a block per second of idle time, and the last one");
	is_int(g.n, nrec, "all records");
	free(d);
	got_free(&g);
}

/* Every cut is either a clean "truncated" (records of complete blocks, bytes
 * lost) or, inside the header, an error; never more records than before. */
static void test_truncation(const char *path)
{
	size_t nrec, len, prev = 0, bad = 0, lost_ok = 0;
	uint8_t *d;
	struct got g = { 0 };
	struct rec_info info;
	char err[256];

	write_file(path, 1000, 100, &nrec);
	d = slurp(path, &len);
	for (size_t cut = 0; cut < len; cut++) {
		int r = replay_mem(d, cut, &g, &info, err, sizeof(err));

		if (r == 0) {
			if (g.n < prev || info.ended || (!info.bytes_lost && g.metas != 1))
				bad++;
			if (info.bytes_lost || g.n == prev)
				lost_ok++;
			prev = g.n;
		} else if (g.metas) {
			bad++;	/* past the header, a cut is never an error */
		}
	}
	is_int(bad, 0, "every truncation point replays what is complete or says the header is cut");
	ok(lost_ok > len / 2, "cuts inside a block report the bytes lost");
	is_int(replay_mem(d, len - 3, &g, &info, err, sizeof(err)), 0, "cut 3 bytes short");
	ok(info.bytes_lost > 0 && info.records_lost > 0 && !info.ended,
	   "says %llu bytes and %llu records lost", (unsigned long long)info.bytes_lost,
	   (unsigned long long)info.records_lost);
	free(d);
	got_free(&g);
}

static int corrupt(uint8_t *d, size_t len, size_t at, uint8_t x, char *err, size_t errlen)
{
	struct got g = { 0 };
	struct rec_info info;
	uint8_t save = d[at];
	int r;

	d[at] ^= x;
	r = replay_mem(d, len, &g, &info, err, errlen);
	d[at] = save;
	got_free(&g);
	return r;
}

static void test_corruption(const char *path)
{
	size_t nrec, len, hlen, undetected = 0;
	uint8_t *d;
	char err[256], want[64];
	int r;

	write_file(path, 2000, 500, &nrec);
	d = slurp(path, &len);
	hlen = d[12] | d[13] << 8;

	r = corrupt(d, len, 0, 0xff, err, sizeof(err));
	ok(r < 0 && strstr(err, "byte 0"), "bad magic: %s", err);
	r = corrupt(d, len, 8, 0x02, err, sizeof(err));
	ok(r == -EPROTONOSUPPORT && strstr(err, "version 3 at byte 8"), "unknown version: %s", err);
	r = corrupt(d, len, 16, 0x04, err, sizeof(err));
	ok(r == -EPROTONOSUPPORT && strstr(err, "ABI"), "unknown ABI: %s", err);
	r = corrupt(d, len, 70, 0x01, err, sizeof(err));
	ok(r < 0 && strstr(err, "header"), "header damage: %s", err);
	r = corrupt(d, len, 14, 0x80, err, sizeof(err));
	ok(r < 0 && strstr(err, "header length"), "impossible header length: %s", err);

	snprintf(want, sizeof(want), "block at byte %zu", hlen);
	r = corrupt(d, len, hlen + 40, 0x10, err, sizeof(err));
	ok(r == -EBADMSG && strstr(err, want) && strstr(err, "CRC32"), "payload damage: %s", err);
	r = corrupt(d, len, hlen + 7, 0x40, err, sizeof(err));
	ok(r == -EBADMSG && strstr(err, want) && strstr(err, "impossible lengths"),
	   "huge compressed length refused before allocating: %s", err);
	r = corrupt(d, len, hlen + 1, 0x01, err, sizeof(err));
	ok(r == -EBADMSG && strstr(err, "bad block magic") && strstr(err, want), "block magic: %s",
	   err);
	r = corrupt(d, len, hlen + 16, 0x01, err, sizeof(err));
	ok(r == -EBADMSG && strstr(err, "encoding"), "unknown encoding: %s", err);

	/* every single-byte change after the header is caught (CRC32 always
	 * sees one changed byte) or, in the last block's length, is a cut */
	for (size_t at = hlen; at < len; at += 13) {
		struct got g = { 0 };
		struct rec_info info;

		d[at] ^= 0x5a;
		r = replay_mem(d, len, &g, &info, err, sizeof(err));
		d[at] ^= 0x5a;
		if (r == 0 && !info.bytes_lost)
			undetected++;
		got_free(&g);
	}
	is_int(undetected, 0, "no damaged byte goes unnoticed");
	free(d);
}

/* A block that passes its CRC but holds a bad zlib stream or a record that
 * event_validate() refuses: the writer never makes one, so forge it. */
static void test_forged(void)
{
	static const uint8_t junk[] = "not a zlib stream at all";
	struct rec_writer *w;
	char path[] = "/tmp/mpt-unit-XXXXXX", err[256];
	struct mpt_fork f;
	struct got g = { 0 };
	struct rec_info info;
	size_t len, hlen;
	uint8_t *d;
	int fd = mkstemp(path), r;
	uint32_t crc;

	close(fd);
	rec_open(&w, path, &meta, NULL);
	mk_fork(&f, 5, meta.t0);
	f.h.type = 77;			/* the writer does not validate; the reader must */
	rec_write(w, &f, sizeof(f), 0);
	rec_close(w);
	d = slurp(path, &len);
	r = replay_mem(d, len, &g, &info, err, sizeof(err));
	ok(r == -EBADMSG && strstr(err, "record 0") && strstr(err, "unknown record type"),
	   "invalid record refused: %s", err);

	hlen = d[12] | d[13] << 8;
	d = realloc(d, hlen + 24 + sizeof(junk));
	memcpy(d + hlen + 24, junk, sizeof(junk));
	d[hlen + 4] = sizeof(junk);
	d[hlen + 5] = d[hlen + 6] = d[hlen + 7] = 0;
	crc = crc32(crc32(0, d + hlen, 20), d + hlen + 24, sizeof(junk));
	for (int i = 0; i < 4; i++)
		d[hlen + 20 + i] = crc >> (8 * i);
	r = replay_mem(d, hlen + 24 + sizeof(junk), &g, &info, err, sizeof(err));
	ok(r == -EBADMSG && strstr(err, "bad zlib stream"), "bad zlib stream: %s", err);
	r = replay_mem(NULL, 0, &g, &info, err, sizeof(err));
	ok(r < 0 && strstr(err, "empty"), "empty input: %s", err);
	free(d);
	got_free(&g);
	unlink(path);
}

int main(void)
{
	char path[] = "/tmp/mpt-unit-XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	test_roundtrip(path);
	test_tick(path);
	test_truncation(path);
	test_corruption(path);
	test_forged();
	{
		char err[128];
		struct rec_info info;
		struct rec_handler h = { 0 };

		ok(rec_replay("/nonexistent/x.mpt", &h, &info, err, sizeof(err)) == -ENOENT,
		   "missing file: -ENOENT (%s)", err);
	}
	unlink(path);
	return tap_done();
}
