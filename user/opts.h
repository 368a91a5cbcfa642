/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The command line, parsed and validated into one struct (docs/cli.md, docs/mptrace.1). */
#ifndef MPTRACE_OPTS_H
#define MPTRACE_OPTS_H

#include <stdbool.h>
#include <stdint.h>

enum run_mode { RUN_COMMAND, RUN_PID, RUN_SYSTEM, RUN_TOP, RUN_REPORT };
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
enum on_deadlock { DL_REPORT, DL_KILL, DL_STOP };

struct opts {
	enum run_mode mode;
	char **cmd;			/* NULL-terminated; RUN_COMMAND */
	uint32_t *pids;			/* RUN_PID */
	int npids;
	const char *report_file;	/* RUN_REPORT */
	const char *out_file, *json_file, *jsonl_file, *record_file, *junit_file;
	const char *svg_file, *perfetto_file, *user;
	bool quiet, live, no_locks, no_stacks, wait_all, kill_leaks, exit_on_end;
	int verbose;
	enum color_mode color;
	unsigned check;			/* AN_CHECK bits; 0 if no --check */
	int check_exitcode;
	uint64_t interval_ns, zombie_thr_ns, lock_thr_ns, kill_grace_ns, leak_grace_ns;
	uint64_t deadlock_after_ns;
	enum on_deadlock on_deadlock;
	char **allow_leak;
	int nallow;
	uint32_t ring_mb;
	/* how the text shows it (docs/cli.md "Reading the output") */
	bool no_fold, findings_only, delta, top_report;
	int wall;			/* -t 1, -tt 2 */
	const char *comm, *from_exec;
	long argv_width;		/* -s; -1 unset */
	unsigned events;		/* -e TE_* bits, 0 all */
	/* fleet (docs/fleet.md) */
	bool daemon;			/* mptrace daemon: -a, no terminal output */
	const char *findings_file;	/* --findings-jsonl */
	const char *metrics_addr;	/* --metrics ADDR:PORT, "off"; NULL: none */
	const char *metrics_file;	/* --metrics-file */
	int metrics_comms;		/* --metrics-comms N */
	const char *otlp_file;		/* --otlp */
};

/* Returns -1 to go on, or an exit status (0 after --help/--version). */
int opts_parse(int argc, char **argv, struct opts *o);
void opts_free(struct opts *o);

#endif
