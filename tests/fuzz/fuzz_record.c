// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: the .mpt reader, and behind it the model, the analysis
 * and every renderer, exactly as `mptrace report` drives them.
 *
 * Two kinds of input:
 *  - a whole file (it starts with the .mpt magic): the reader's defences
 *    against damaged headers, lengths, CRCs and zlib streams;
 *  - anything else: taken as concatenated raw records, written through the
 *    real writer (in a memfd) and read back. CRC32 and deflate would make
 *    nearly every mutation of a file stop at the first block; this way the
 *    mutations reach event_validate(), the tree model and the outputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "analyze.h"
#include "event.h"
#include "out_json.h"
#include "out_perfetto.h"
#include "out_svg.h"
#include "out_text.h"
#include "ptree.h"
#include "record.h"

struct ctx {
	struct ptree *pt;
	struct sbuf line;
};

static int on_meta(void *c, const struct pt_meta *m, const struct rec_info *info)
{
	struct ctx *x = c;

	(void)info;
	if (x->pt)
		return -1;
	x->pt = ptree_new(m);
	return 0;
}

static int on_rec(void *c, const void *data, size_t len)
{
	struct ctx *x = c;
	const struct text_style st = { .utf8 = true };
	struct pt_change chg;
	const char *why;

	if (event_validate(data, len, &why))
		abort();	/* the reader must never pass an invalid record */
	if (ptree_feed(x->pt, data, &chg))
		return 0;
	text_event(&x->line, &st, x->pt, data, &chg);
	json_event(&x->line, x->pt, data);
	x->line.len = 0;
	return 0;
}

/* Raw records through the writer; returns the file's bytes (malloc'd). */
static uint8_t *through_writer(const uint8_t *d, size_t n, size_t *len)
{
	static char *argv[] = { "sh", "-c", "fuzz \xff\x01", NULL };
	struct pt_meta m = { .mode = PT_MODE_COMMAND, .argv = argv, .t0 = 1000, .self_pid = 1,
			     .root_pid = 2 };
	struct rec_writer *w;
	uint8_t *out = NULL, rec[65536] __attribute__((aligned(8)));
	const char *why;
	char path[64];
	int fd = memfd_create("fuzz", 0);
	off_t size;

	if (fd < 0)
		return NULL;
	if (n)
		m.mode = d[0] % 3;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (rec_open(&w, path, &m, NULL))
		goto out;
	while (n >= sizeof(struct mpt_hdr)) {
		struct mpt_hdr h;
		size_t step;

		memcpy(&h, d, sizeof(h));
		if (h.size < sizeof(h) || h.size > n || h.size > sizeof(rec))
			break;
		memcpy(rec, d, h.size);
		/* as the live path: what event_validate() refuses is not recorded */
		if (!event_validate(rec, h.size, &why))
			rec_write(w, rec, h.size, (uint64_t)h.ts);
		step = (h.size + 7) & ~7u;
		if (step > n)
			step = n;
		d += step;
		n -= step;
	}
	rec_close(w);
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0)
		goto out;
	out = malloc(size);
	if (pread(fd, out, size, 0) != size) {
		free(out);
		out = NULL;
		goto out;
	}
	*len = size;
out:
	close(fd);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx x = { 0 };
	struct rec_handler h = { .meta = on_meta, .record = on_rec, .ctx = &x };
	struct rec_info info;
	char err[256];
	uint8_t *file = NULL;
	size_t flen = size;

	if (size < 8 || data[0] != 0x89 || memcmp(data + 1, "MPT", 3)) {
		file = through_writer(data, size, &flen);
		if (!file)
			return 0;
	}
	if (rec_replay_mem(file ? file : data, flen, &h, &info, err, sizeof(err)) == 0 && x.pt) {
		struct an_opts o = { .zombie_threshold_ns = 1000000, .check = AN_CHECK_DEFAULT };
		const struct text_style st = { .utf8 = true, .color = true };
		struct an_result r;
		struct sbuf b = { 0 };

		analyze(x.pt, &o, x.pt->ended ? x.pt->end_ts : x.pt->last_ts, &r);
		text_report(&b, &st, x.pt, &r, &o);
		json_report(&b, x.pt, &r, &o);
		svg_report(&b, x.pt, &r);
		perfetto_report(&b, x.pt, &r);
		an_result_free(&r);
		sb_free(&b);
	} else if (!err[0]) {
		abort();	/* every refusal must say why */
	}
	ptree_free(x.pt);
	sb_free(&x.line);
	free(file);
	return 0;
}
