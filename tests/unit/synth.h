/* synth.h: the fork, exit and release records the unit tests that drive a
 * model as the live loop does (test_forget, test_metrics) feed it. Include
 * after defining `pt` and put(ev, type, size, pid), which feeds one record
 * and runs what the test's loop runs after it. */
#ifndef MPTRACE_TEST_SYNTH_H
#define MPTRACE_TEST_SYNTH_H

static void spawn(uint32_t ppid, uint32_t pid, const char *comm)
{
	struct mpt_fork e = { .ppid = ppid, .ptid = ppid, .pstart = ppid };

	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	put(&e, MPT_EV_FORK, sizeof(e), pid);
}

static void die(uint32_t pid, uint32_t status, uint32_t reaper)
{
	struct mpt_exit e = { .status = status, .reaper = reaper };
	const struct pt_proc *p = ptree_find(pt, pid);

	memcpy(e.comm, p->comm, sizeof(e.comm));
	e.ppid = p->cur_ppid;
	put(&e, MPT_EV_EXIT, sizeof(e), pid);
}

/* the kernel released it, `waiter` its reaper */
static void reaped(uint32_t waiter, uint32_t pid)
{
	struct mpt_free e = { .reaper = waiter };

	put(&e, MPT_EV_FREE, sizeof(e), pid);
}

#endif
