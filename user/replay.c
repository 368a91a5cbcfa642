// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * mptrace report FILE.mpt: a recording through the very same model, analysis
 * and outputs as a live trace. Only the analysis options are taken from this
 * command line (thresholds, checks, allowed leaks); everything else comes
 * from the recording, so the same options give the same report, byte for
 * byte.
 *
 * Exit status: the recorded command's (as a live run), --check-exitcode when
 * a check fails, 1 when the file cannot be read, is corrupted, or is cut or
 * unfinished (the intact part is still reported).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyze.h"
#include "event.h"
#include "forget.h"
#include "log.h"
#include "out_json.h"
#include "out_text.h"
#include "output.h"
#include "ptree.h"
#include "record.h"
#include "replay.h"
#include "stacks.h"
#include "util.h"

struct replay {
	const struct opts *o;
	struct ptree *pt;
	struct an_opts an;
	struct text_style st;
	FILE *out;		/* event stream and text report */
	bool stream;
	FILE *jsonl;
	struct sbuf line;
	struct stk *stk;	/* unwinds the recorded stacks, or NULL (--no-stacks) */
	uint64_t next_zcheck;
	uint64_t prev_ts;	/* -r: the last stream line */
};

static int on_meta(void *ctx, const struct pt_meta *meta, const struct rec_info *info)
{
	struct replay *rp = ctx;

	p_debug("recording: format %u, ABI %u, kernel %s, mptrace %s, lock threshold %.3f ms%s",
		info->version, info->abi, info->kernel, info->mptrace_version,
		info->lock_threshold_ns / 1e6, info->flags & REC_F_NO_LOCKS ? ", no locks" : "");
	rp->pt = ptree_new(meta);
	/* as the live run did (without a live view's grace) */
	if (rp->pt->forgets)
		rp->pt->fg = fg_new(FG_KEEP, FG_RING, 0);
	return 0;
}

/* The stream's zombie line, at the first recorded event after a zombie
 * passed the threshold (a live run prints it on a timer instead). */
static void zombie_lines(struct replay *rp, uint64_t now)
{
	struct ptree *pt = rp->pt;

	if (!pt->zombies_now || now < rp->next_zcheck)
		return;
	rp->next_zcheck = now + 50000000ull;
	for (struct pt_proc *p = pt->zombies; p; p = p->znext) {
		if (!p->zombie_noted && an_zombie_over(rp->pt, p, &rp->an, now)) {
			p->zombie_noted = now;
			text_zombie_alert(&rp->line, &rp->st, pt, p, now);
		}
	}
}

static int on_rec(void *ctx, const void *data, size_t len)
{
	struct replay *rp = ctx;
	const struct mpt_hdr *h = data;
	struct pt_change chg;

	(void)len;	/* validated by the reader */
	if (!rp->pt)
		return -EINVAL;
	/* --lock-threshold again: the kernel side kept waits from the
	 * recorded threshold up; a higher one drops the shorter ones here. */
	if (h->type == MPT_EV_LOCK) {
		const struct mpt_lock *l = data;

		if (l->h.ts < l->start_ts || l->h.ts - l->start_ts < rp->o->lock_thr_ns)
			return 0;
	}
	if (ptree_feed(rp->pt, h, &chg))
		return 0;	/* as live: the model had no use for it */
	if (rp->stk) {
		struct pt_stack *st = stk_feed(rp->stk, h);

		if (st)
			ptree_add_stack(rp->pt, st);
		if (chg.lock)
			name_private_lock(rp->stk, chg.lock);
	}
	if (h->type == MPT_EV_STACK || h->type == MPT_EV_MAPS)
		return 0;
	if (rp->jsonl) {
		json_event(&rp->line, rp->pt, h);
		sb_putc(&rp->line, '\n');
		fwrite(rp->line.s, 1, rp->line.len, rp->jsonl);
		rp->line.len = 0;
	}
	if (rp->stream) {
		zombie_lines(rp, h->ts);
		text_event(&rp->line, &rp->st, rp->pt, h, &chg);
		fwrite(rp->line.s, 1, rp->line.len, rp->out);
		rp->line.len = 0;
	}
	fg_step(rp->pt, &rp->an, rp->pt->last_ts, NULL, NULL);
	return 0;
}

static int open_outputs(struct replay *rp)
{
	const struct opts *o = rp->o;
	/* The report is this command's product: stdout, unless another
	 * output was asked for there. */
	int err = open_streams(o, stdout_wanted(o) ? stderr : stdout, &rp->out, &rp->jsonl);

	if (err)
		return err;
	rp->st = text_style_for(rp->out, o);
	rp->st.prev_ts = &rp->prev_ts;
	rp->stream = !o->quiet;
	return 0;
}

static void close_outputs(struct replay *rp)
{
	if (rp->jsonl && rp->jsonl != stdout)
		fclose(rp->jsonl);
	else if (rp->jsonl)
		fflush(stdout);
	if (rp->out && rp->out != stdout && rp->out != stderr)
		fclose(rp->out);
	else if (rp->out)
		fflush(rp->out);
}

/* Says what a damaged or unfinished recording cost, and marks the model so
 * the report carries it (incomplete, with the reason); true if anything. */
static bool note_damage(const char *path, const struct rec_info *info, struct ptree *pt)
{
	struct pt_damage *d = &pt->damage;

	if (info->bytes_lost) {
		d->cut = true;
		d->bytes = info->bytes_lost;
		d->offset = info->lost_offset;
		d->records = info->records_lost;
		if (info->records_lost)
			p_warn("'%s' is truncated: the block at byte %llu is incomplete (%llu bytes "
			       "of it present, %llu records lost); the report is incomplete", path,
			       (unsigned long long)info->lost_offset,
			       (unsigned long long)info->bytes_lost,
			       (unsigned long long)info->records_lost);
		else
			p_warn("'%s' is truncated: %llu bytes at byte %llu do not form a block; the "
			       "report is incomplete", path, (unsigned long long)info->bytes_lost,
			       (unsigned long long)info->lost_offset);
	}
	if (!info->ended) {
		d->unended = true;
		if (!info->bytes_lost)
			p_warn("'%s' has no end record: the recording stopped before tracing ended "
			       "(mptrace killed?); the report is incomplete", path);
	}
	return d->cut || d->unended;
}

static int exit_status(const struct ptree *pt)
{
	const struct pt_proc *root = pt->root;

	if (pt->meta.mode != PT_MODE_COMMAND || !root || !root->exited)
		return 0;
	return pt_signaled(root) ? 128 + pt_term_sig(root) : pt_exit_code(root);
}

int replay_run(const struct opts *o)
{
	struct replay rp = { .o = o };
	struct rec_handler h = { .meta = on_meta, .record = on_rec, .ctx = &rp };
	struct rec_info info;
	struct an_result res;
	char err[256];
	bool damaged;
	int status, ret;

	rp.an.zombie_threshold_ns = o->zombie_thr_ns;
	rp.an.leak_grace_ns = o->leak_grace_ns;
	rp.an.check = o->check;
	rp.an.allow_leak = o->allow_leak;
	rp.an.nallow = o->nallow;
	status = open_outputs(&rp);
	if (status)
		goto out;
	if (!o->no_stacks)
		rp.stk = stk_new(false);
	ret = rec_replay(o->report_file, &h, &info, err, sizeof(err));
	if (ret) {
		p_err("cannot read the recording '%s': %s", o->report_file, err);
		status = EXIT_ENV;
		goto out;
	}
	if (!rp.pt) {
		p_err("cannot read the recording '%s': no header", o->report_file);
		status = EXIT_ENV;
		goto out;
	}
	fflush(rp.out);
	damaged = note_damage(o->report_file, &info, rp.pt);
	analyze(rp.pt, &rp.an, rp.pt->ended ? rp.pt->end_ts : rp.pt->last_ts, &res);
	status = write_outputs(rp.pt, &res, &rp.an, o, rp.out, &rp.st);
	/* a damaged input never exits 0 (as gzip -d, tcpdump -r): the report
	 * of what was intact is written, then 1, or the failed check's status */
	if (!status && o->check && !res.passed)
		status = o->check_exitcode;
	else if (!status && damaged)
		status = EXIT_ENV;
	else if (!status)
		status = exit_status(rp.pt);
	an_result_free(&res);
out:
	close_outputs(&rp);
	if (rp.pt)
		fg_free(rp.pt->fg);
	ptree_free(rp.pt);
	stk_free(rp.stk);
	sb_free(&rp.line);
	return status;
}
