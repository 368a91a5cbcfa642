// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyze.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "out_text.h"
#include "util.h"

static const char usage_text[] =
"usage: mptrace [OPTIONS] -- COMMAND [ARG...]   trace COMMAND and every process it spawns\n"
"       mptrace [OPTIONS] -p PID[,PID...]       trace running processes and their descendants\n"
"       mptrace [OPTIONS] -a                    trace the whole system\n"
"       mptrace top [OPTIONS]                   live view of the whole system (top --help)\n"
"       mptrace report [OPTIONS] FILE.mpt       replay a recording, no root needed (report --help)\n"
"       mptrace daemon [OPTIONS]                whole-system service: metrics, findings (daemon --help)\n"
"\n"
"Output:\n"
"  -o FILE                 event stream and report to FILE instead of stderr (- for stdout)\n"
"  -q                      no event stream; only the tree, summary and findings\n"
"  --findings-only         no stream, no tree: the summary, findings and --check verdict\n"
"  --no-fold               every process on its own line (default: short-lived helpers\n"
"                          and runs of alike children are folded into one line)\n"
"  -n, --comm PATTERN      tree: only the subtrees of processes whose name matches\n"
"  --from-exec PATTERN     tree: start at the first exec that matches (skips wrappers)\n"
"  -s N                    argv shown in N bytes, the middle elided (tree 60, stream 200)\n"
"  -t, -tt, -r             stream times: wall clock, with microseconds, since the last line\n"
"  -e LIST                 stream only these events: fork,thread,exec,exit,reap,lock,\n"
"                          signal,deadlock,zombie,test,kill (the report stays whole)\n"
"  --report                mptrace top: print the report when the view closes\n"
"  --json FILE             JSON report (- for stdout)\n"
"  --events-jsonl FILE     every event as one JSON object per line (- for stdout)\n"
"  --record FILE           record events to a zlib-compressed .mpt file\n"
"  --svg FILE              timeline picture (SVG)\n"
"  --perfetto FILE         Chrome/Perfetto trace JSON\n"
"  --otlp FILE             OpenTelemetry trace: OTLP/JSON, a span per process (docs/fleet.md)\n"
"  --metrics-file FILE     Prometheus metrics of the run, node_exporter textfile format\n"
"  --metrics ADDR:PORT     serve Prometheus metrics at http://ADDR:PORT/metrics while tracing\n"
"  --metrics-comms N       comm label values in the metrics: the N most active (default 20)\n"
"  --findings-jsonl FILE   each finding as a JSON line as it is found (- for stdout)\n"
"  --live                  full-screen live tree view\n"
"  --interval T            live view refresh (default 0.2s)\n"
"  --exit-on-end           leave the live view when the command ends\n"
"  --color[=WHEN]          auto, always (no value) or never; also --colour\n"
"  When an output goes to stdout (FILE is -), the command's stdout goes to stderr.\n"
"Findings and CI:\n"
"  --check[=LIST]          fail (exit 3) on findings of LIST: zombies,orphans,leaks,locks,deadlocks\n"
"                          (default zombies,leaks) or when events were lost\n"
"  --check-exitcode N      exit status of a failed check (default 3)\n"
"  --junit FILE            JUnit XML of the checks\n"
"  --zombie-threshold T    unreaped longer than T is a finding (default 1s; ms/s suffixes)\n"
"  --lock-threshold T      a lock wait counts from T (default 1ms)\n"
"  --no-locks              do not trace lock waits\n"
"  --no-stacks             do not capture the user stacks of long lock waits\n"
"  --kill-leaks[=GRACE]    SIGTERM leaked descendants when the command ends, SIGKILL after GRACE (2s)\n"
"  --leak-grace T          a descendant that exits within T of the command is no leak (100ms)\n"
"  --allow-leak PATTERN    a process meant to outlive the command (comm or argv glob; repeatable)\n"
"  --wait-all              keep tracing until every descendant has exited\n"
"  --deadlock-after T      a cycle of waits older than T is a deadlock (default 1s)\n"
"  --on-deadlock=WHAT      report (default), kill the cycle, or stop it for a debugger\n"
"Running:\n"
"  -u USER                 run COMMAND as USER (own session; own pty on a terminal)\n"
"  --ring-size MB          BPF ring buffer size (default 16)\n"
"  -v                      verbose (libbpf messages)\n"
"  --version, -h, --help\n"
"\n"
"Long options are never abbreviated. A value may be written --opt=VALUE or --opt VALUE, except an\n"
"optional one (--check, --kill-leaks, --color): only --opt=VALUE. A value that starts with '-'\n"
"needs the = form (-oVALUE for -o).\n"
"\n"
"Exit status: the command's (128+N if killed by signal N); 2 usage error; 1 no privilege or\n"
"kernel feature; 126/127 command not executable/found; 3 (--check-exitcode) a failed check.\n"
"\n"
"Examples:\n"
"  sudo mptrace -- make -j8                      watch a build's processes, then the tree\n"
"  sudo mptrace -q --json - -- ./test.sh | jq .  JSON report on stdout\n"
"  sudo mptrace --check -- make test             CI gate: fail on zombies and leaks\n"
"  sudo mptrace -p 1234                          follow a running server's children\n"
"  sudo mptrace --live -- python3 pool.py        full-screen live tree\n";

static const char top_text[] =
"usage: mptrace top [OPTIONS]\n"
"Live tree of every process on the system, updated as events arrive (needs root and a terminal;\n"
"without one, the event stream). q or ^C ends it.\n"
"\n"
"  --interval T            refresh interval (default 0.2s, at least 0.01s)\n"
"  --report                print the report (tree, summary, findings) when the view closes\n"
"  --no-locks              do not trace lock waits;  --lock-threshold T (default 1ms)\n"
"  --no-stacks             do not capture the user stacks of long lock waits\n"
"  --deadlock-after T      a cycle of waits older than T is a deadlock (default 1s)\n"
"  --record FILE           also record the events for 'mptrace report'\n"
"  -o FILE, -q, --json FILE, --events-jsonl FILE, --svg FILE, --perfetto FILE, --junit FILE,\n"
"  --check[=LIST], --zombie-threshold T, --color[=WHEN], --otlp FILE, --metrics ADDR:PORT,\n"
"  --metrics-file FILE, --findings-jsonl FILE: outputs, as in mptrace --help\n"
"  --ring-size MB, -v, -h, --help\n"
"\n"
"Not with top: -p, -a, -u, a command.\n"
"Exit status: 0, or --check-exitcode's for a failed check; 2 usage error; 1 no privilege or\n"
"kernel feature.\n";

static const char report_text[] =
"usage: mptrace report [OPTIONS] FILE.mpt\n"
"Replays a recording made with --record through the same model, analysis and outputs as the live\n"
"run, without root. Options may come before or after FILE. The event stream and the report go to\n"
"stdout, or to stderr when another output is written to stdout (FILE is -).\n"
"\n"
"  -o FILE                 the event stream and report to FILE (- for stdout)\n"
"  -q                      no event stream; only the tree, summary and findings\n"
"  --json FILE             JSON report (- for stdout)\n"
"  --events-jsonl FILE     every event as one JSON object per line (- for stdout)\n"
"  --svg FILE, --perfetto FILE, --junit FILE, --otlp FILE   as for a live run\n"
"  --color[=WHEN]          auto, always (no value) or never\n"
"  --check[=LIST]          fail on findings of LIST, or when the recording is damaged or cut short\n"
"  --check-exitcode N      exit status of a failed check (default 3)\n"
"  --zombie-threshold T, --lock-threshold T, --allow-leak PATTERN, --leak-grace T\n"
"                          the analysis, as live\n"
"  --findings-only, --no-fold, -n PATTERN, --from-exec PATTERN, -s N, -t, -tt, -r, -e LIST\n"
"                          the text, as live (mptrace --help)\n"
"  --no-stacks             do not unwind and show the recorded stacks of lock waits\n"
"  -h, --help\n"
"The options of a live run that change tracing (--live, --record, --no-locks, --kill-leaks, ...) are\n"
"accepted and do nothing: the recording already holds what they did.\n"
"\n"
"Exit status: the recorded command's, or --check-exitcode's for a failed check; 2 usage error;\n"
"1 the recording cannot be read.\n";

static const char daemon_text[] =
"usage: mptrace daemon [OPTIONS]\n"
"Traces the whole system (as -a) as a service: no terminal output, Prometheus metrics over HTTP,\n"
"findings as JSON lines. SIGTERM or SIGINT ends it (BPF programs detached, exit 0); SIGHUP reopens\n"
"--findings-jsonl (log rotation). Run it under systemd: examples/systemd/mptrace.service.\n"
"\n"
"  --metrics ADDR:PORT     where to serve /metrics (default 127.0.0.1:9464; off: nowhere)\n"
"  --metrics-comms N       comm label values: the N most active, the rest comm=\"other\" (default 20)\n"
"  --findings-jsonl FILE   each finding as a JSON line, appended and flushed (- for stdout)\n"
"  --zombie-threshold T    unreaped longer than T is a finding (default 1s)\n"
"  --no-locks, --lock-threshold T, --deadlock-after T, --ring-size MB, -v\n"
"  --record FILE, --json FILE, --otlp FILE   also written, at the end\n"
"  -h, --help\n"
"\n"
"Exit status: 0 ended by a signal; 1 no privilege, kernel feature or the metrics address cannot be\n"
"bound; 2 usage error.\n";

static void usage(FILE *f, enum run_mode mode)
{
	fputs(mode == RUN_TOP ? top_text : mode == RUN_REPORT ? report_text :
	      mode == RUN_SYSTEM ? daemon_text : usage_text, f);
}

enum {
	O_JSON = 256, O_JSONL, O_RECORD, O_LIVE, O_INTERVAL, O_COLOR, O_CHECK, O_CHECK_EXIT,
	O_JUNIT, O_ZTHR, O_LTHR, O_NOLOCKS, O_KILL, O_WAITALL, O_SVG, O_PERFETTO, O_DLAFTER,
	O_ONDL, O_ALLOW, O_LEAKGRACE, O_VERSION, O_HELP, O_RING, O_EXITEND, O_NOFOLD, O_FONLY, O_FROMEXEC,
	O_REPORT, O_FINDINGS, O_METRICS, O_METRICS_FILE, O_METRICS_COMMS, O_OTLP, O_NOSTACKS,
};

static const struct option longopts[] = {
	{ "json", required_argument, 0, O_JSON },
	{ "events-jsonl", required_argument, 0, O_JSONL },
	{ "record", required_argument, 0, O_RECORD },
	{ "live", no_argument, 0, O_LIVE },
	{ "interval", required_argument, 0, O_INTERVAL },
	{ "color", optional_argument, 0, O_COLOR },
	{ "colour", optional_argument, 0, O_COLOR },
	{ "check", optional_argument, 0, O_CHECK },
	{ "check-exitcode", required_argument, 0, O_CHECK_EXIT },
	{ "junit", required_argument, 0, O_JUNIT },
	{ "zombie-threshold", required_argument, 0, O_ZTHR },
	{ "lock-threshold", required_argument, 0, O_LTHR },
	{ "no-locks", no_argument, 0, O_NOLOCKS },
	{ "no-stacks", no_argument, 0, O_NOSTACKS },
	{ "kill-leaks", optional_argument, 0, O_KILL },
	{ "wait-all", no_argument, 0, O_WAITALL },
	{ "svg", required_argument, 0, O_SVG },
	{ "perfetto", required_argument, 0, O_PERFETTO },
	{ "deadlock-after", required_argument, 0, O_DLAFTER },
	{ "on-deadlock", required_argument, 0, O_ONDL },
	{ "allow-leak", required_argument, 0, O_ALLOW },
	{ "leak-grace", required_argument, 0, O_LEAKGRACE },
	{ "ring-size", required_argument, 0, O_RING },
	{ "exit-on-end", no_argument, 0, O_EXITEND },
	{ "no-fold", no_argument, 0, O_NOFOLD },
	{ "findings-only", no_argument, 0, O_FONLY },
	{ "comm", required_argument, 0, 'n' },
	{ "from-exec", required_argument, 0, O_FROMEXEC },
	{ "report", no_argument, 0, O_REPORT },
	{ "findings-jsonl", required_argument, 0, O_FINDINGS },
	{ "metrics", required_argument, 0, O_METRICS },
	{ "metrics-file", required_argument, 0, O_METRICS_FILE },
	{ "metrics-comms", required_argument, 0, O_METRICS_COMMS },
	{ "otlp", required_argument, 0, O_OTLP },
	{ "version", no_argument, 0, O_VERSION },
	{ "help", no_argument, 0, O_HELP },
	{ 0 },
};

static int bad_value(const char *opt, const char *val, const char *want)
{
	p_usage("invalid value '%s' for %s: expected %s", val, opt, want);
	return EXIT_USAGE;
}

static int parse_pids(struct opts *o, const char *arg)
{
	const char *s = arg;

	while (*s) {
		char *end;
		long v;

		errno = 0;
		v = strtol(s, &end, 10);
		/* "1," is a list cut short, not the list "1" */
		if (errno || end == s || v <= 0 || v > 4194304 || (*end && *end != ',') ||
		    (*end == ',' && !end[1]))
			return bad_value("-p", arg, "a comma-separated list of process ids");
		o->pids = xrealloc(o->pids, (o->npids + 1) * sizeof(*o->pids));
		o->pids[o->npids++] = v;
		s = *end ? end + 1 : end;
	}
	if (!o->npids)
		return bad_value("-p", arg, "a comma-separated list of process ids");
	return -1;
}

static int duration(const char *opt, const char *arg, uint64_t *out)
{
	int64_t v = parse_duration_ns(arg);

	if (v < 0)
		return bad_value(opt, arg, "a duration like 500ms, 1.5s or 2");
	*out = v;
	return -1;
}

static const struct option *long_named(const char *name, size_t n)
{
	for (const struct option *l = longopts; l->name; l++)
		if (strlen(l->name) == n && !strncmp(l->name, name, n))
			return l;
	return NULL;
}

/* The one option that name[0..n) begins, or NULL (none, or several). */
static const struct option *long_begun(const char *name, size_t n)
{
	const struct option *hit = NULL;

	for (const struct option *l = longopts; l->name; l++) {
		if (strncmp(l->name, name, n))
			continue;
		if (hit && hit->val != l->val)
			return NULL;
		if (!hit)
			hit = l;
	}
	return hit;
}

/*
 * Long options are matched whole before getopt_long sees them: it would
 * take "--jso" for --json (so a typo or a future option changes what an old
 * command line means) and says nothing useful about "--version=1".
 */
static int check_long(const char *arg)
{
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	const struct option *l = long_named(name, n);

	if (!l) {
		l = n ? long_begun(name, n) : NULL;
		if (l)
			p_usage("unknown option '--%.*s': long options are not abbreviated; "
				"did you mean --%s?", (int)n, name, l->name);
		else
			p_usage("unknown option '--%.*s'", (int)n, name);
		return EXIT_USAGE;
	}
	if (name[n] == '=' && l->has_arg == no_argument) {
		p_usage("option '--%s' takes no value", l->name);
		return EXIT_USAGE;
	}
	return -1;
}

static void opt_name(char *buf, size_t len, int c, int li)
{
	if (li >= 0)
		snprintf(buf, len, "--%s", longopts[li].name);
	else
		snprintf(buf, len, "-%c", c);
}

/*
 * A value given as the next word must not be an option or the "--" before
 * the command: "-o -- true" is a missing value, not a file named "--".
 * "-" alone (stdout) is a value.
 */
static int check_value(int c, int li, char **argv)
{
	char name[32];

	if (c == 1 || c == '?' || c == ':' || !optarg || optarg != argv[optind - 1] ||
	    optarg[0] != '-' || !optarg[1])
		return -1;
	opt_name(name, sizeof(name), c, li);
	p_usage("option '%s' needs a value, not '%s'; write %s%s%s for a value that starts with '-'",
		name, optarg, name, li >= 0 ? "=" : "", "VALUE");
	return EXIT_USAGE;
}

static int missing_value(char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt > 0 && optopt < 256)
		p_usage("option '-%c' needs a value", optopt);
	else
		p_usage("option '%.*s' needs a value", (int)strcspn(arg, "="), arg);
	return EXIT_USAGE;
}

static bool optional_value_ok(int val, const char *word)
{
	const char *bad;

	if (!*word)
		return false;
	switch (val) {
	case O_CHECK:
		return an_parse_check(word, &bad) >= 0;
	case O_KILL:
		return parse_duration_ns(word) >= 0;
	case O_COLOR:
		return !strcmp(word, "auto") || !strcmp(word, "always") || !strcmp(word, "never");
	}
	return false;
}

/*
 * An optional value is taken only as --opt=value (GNU getopt), so in
 * "--check zombies -- make" the check list would become the command.
 */
static int meant_value(const struct option *bare, const char *word)
{
	if (!bare || !optional_value_ok(bare->val, word))
		return -1;
	p_err("option '--%s' takes its value only after '=': did you mean --%s=%s?",
	      bare->name, bare->name, word);
	return EXIT_USAGE;
}

/* A word that is not an option, for 'top' and 'report' (options may follow it). */
static int positional(struct opts *o, const char *word, const struct option *bare)
{
	int r = meant_value(bare, word);

	if (r >= 0)
		return r;
	if (o->mode == RUN_TOP || o->daemon) {
		p_usage("mptrace %s takes no command", o->daemon ? "daemon" : "top");
		return EXIT_USAGE;
	}
	if (o->report_file) {
		p_usage("unexpected argument '%s' after the recording", word);
		return EXIT_USAGE;
	}
	o->report_file = word;
	return -1;
}

static int parse_option(struct opts *o, int c, char **argv)
{
	int r = -1;

	switch (c) {
	case 'o': o->out_file = optarg; break;
	case 'q': o->quiet = true; break;
	case 'p':
		if (o->mode == RUN_TOP || o->mode == RUN_REPORT)
			goto wrong_mode;
		o->mode = RUN_PID;
		return parse_pids(o, optarg);
	case 'a':
		if (o->mode == RUN_TOP || o->mode == RUN_REPORT)
			goto wrong_mode;
		o->mode = RUN_SYSTEM;
		break;
	case 'u': o->user = optarg; break;
	case 'n': o->comm = optarg; break;
	case 't': o->wall++; break;
	case 'r': o->delta = true; break;
	case 's': {
		char *end;

		o->argv_width = strtol(optarg, &end, 10);
		if (*end || end == optarg || o->argv_width < 0 || o->argv_width > 1000000)
			r = bad_value("-s", optarg, "a number of bytes (0: no limit)");
		break;
	}
	case 'e': {
		const char *bad = NULL;
		int bits = text_parse_events(optarg, &bad);

		if (bits < 0) {
			p_usage("unknown event '%.*s' in -e: expected a list of fork,thread,exec,"
				"exit,reap,lock,signal,deadlock,zombie,test,kill or all",
				(int)strcspn(bad, ","), bad);
			return EXIT_USAGE;
		}
		o->events = bits;
		break;
	}
	case O_NOFOLD: o->no_fold = true; break;
	case O_FONLY: o->findings_only = o->quiet = true; break;
	case O_FROMEXEC: o->from_exec = optarg; break;
	case O_REPORT: o->top_report = true; break;
	case O_FINDINGS: o->findings_file = optarg; break;
	case O_METRICS: o->metrics_addr = optarg; break;
	case O_METRICS_FILE: o->metrics_file = optarg; break;
	case O_OTLP: o->otlp_file = optarg; break;
	case O_METRICS_COMMS: {
		char *end;
		long v = strtol(optarg, &end, 10);

		if (*end || end == optarg || v < 0 || v > MX_MAX_COMMS)
			r = bad_value("--metrics-comms", optarg, "a number from 0 to 1024");
		o->metrics_comms = v;
		break;
	}
	case 'v': o->verbose++; break;
	case 'h': case O_HELP: usage(stdout, o->daemon ? RUN_SYSTEM : o->mode); return 0;
	case O_VERSION: printf("mptrace %s\n", MPTRACE_VERSION); return 0;
	case O_JSON: o->json_file = optarg; break;
	case O_JSONL: o->jsonl_file = optarg; break;
	case O_RECORD: o->record_file = optarg; break;
	case O_LIVE: o->live = true; break;
	case O_EXITEND: o->exit_on_end = true; break;
	case O_INTERVAL:
		r = duration("--interval", optarg, &o->interval_ns);
		if (r < 0 && o->interval_ns < 10000000ull)
			r = bad_value("--interval", optarg, "at least 0.01 s");
		break;
	case O_COLOR:
		if (!optarg || !strcmp(optarg, "always"))
			o->color = COLOR_ALWAYS;
		else if (!strcmp(optarg, "auto"))
			o->color = COLOR_AUTO;
		else if (!strcmp(optarg, "never"))
			o->color = COLOR_NEVER;
		else
			r = bad_value("--color", optarg, "auto, always or never");
		break;
	case O_CHECK:
		if (optarg) {
			const char *bad = NULL;
			int bits = an_parse_check(optarg, &bad);

			if (bits < 0) {
				p_usage("unknown check '%s' in --check: expected a list of "
					"zombies,orphans,leaks,locks,deadlocks", bad);
				return EXIT_USAGE;
			}
			o->check = bits;
		} else {
			o->check = AN_CHECK_DEFAULT;
		}
		break;
	case O_CHECK_EXIT: {
		char *end;
		long v = strtol(optarg, &end, 10);

		if (*end || end == optarg || v < 1 || v > 255)
			r = bad_value("--check-exitcode", optarg, "a number from 1 to 255");
		o->check_exitcode = v;
		break;
	}
	case O_JUNIT: o->junit_file = optarg; break;
	case O_ZTHR: r = duration("--zombie-threshold", optarg, &o->zombie_thr_ns); break;
	case O_LTHR: r = duration("--lock-threshold", optarg, &o->lock_thr_ns); break;
	case O_NOLOCKS: o->no_locks = true; break;
	case O_NOSTACKS: o->no_stacks = true; break;
	case O_KILL:
		o->kill_leaks = true;
		if (optarg)
			r = duration("--kill-leaks", optarg, &o->kill_grace_ns);
		break;
	case O_WAITALL: o->wait_all = true; break;
	case O_LEAKGRACE: r = duration("--leak-grace", optarg, &o->leak_grace_ns); break;
	case O_SVG: o->svg_file = optarg; break;
	case O_PERFETTO: o->perfetto_file = optarg; break;
	case O_DLAFTER: r = duration("--deadlock-after", optarg, &o->deadlock_after_ns); break;
	case O_ONDL:
		if (!strcmp(optarg, "report"))
			o->on_deadlock = DL_REPORT;
		else if (!strcmp(optarg, "kill"))
			o->on_deadlock = DL_KILL;
		else if (!strcmp(optarg, "stop"))
			o->on_deadlock = DL_STOP;
		else
			r = bad_value("--on-deadlock", optarg, "report, kill or stop");
		break;
	case O_ALLOW:
		o->allow_leak = xrealloc(o->allow_leak, (o->nallow + 1) * sizeof(char *));
		o->allow_leak[o->nallow++] = optarg;
		break;
	case O_RING: {
		char *end;
		long v = strtol(optarg, &end, 10);

		if (*end || end == optarg || v < 1 || v > 1024 || (v & (v - 1)))
			r = bad_value("--ring-size", optarg, "a power of two from 1 to 1024 (MiB)");
		o->ring_mb = v;
		break;
	}
	case ':':
		return missing_value(argv);
	default:
		if (optopt && optopt < 256)
			p_usage("unknown option '-%c'", optopt);
		else
			p_usage("unknown option '%s'", argv[optind - 1]);
		return EXIT_USAGE;
	}
	return r;

wrong_mode:
	p_usage("-%c cannot be used with '%s'", c, argv[1]);
	return EXIT_USAGE;
}

/* What follows the options when tracing a command, -p or -a. */
static int command_words(struct opts *o, int argc, char **argv, const struct option *bare,
			 bool bare_last)
{
	bool any_mode = o->mode == RUN_PID || o->mode == RUN_SYSTEM;

	if (o->top_report) {
		p_usage("--report is for 'mptrace top'; a trace prints its report anyway");
		return EXIT_USAGE;
	}
	if (bare_last && optind + 1 < argc && !strcmp(argv[optind + 1], "--")) {
		int r = meant_value(bare, argv[optind]);

		if (r >= 0)
			return r;
	}
	if (optind < argc) {
		if (any_mode) {
			p_usage("a command cannot be combined with %s", o->mode == RUN_PID ? "-p" : "-a");
			return EXIT_USAGE;
		}
		o->cmd = argv + optind;
	} else if (!any_mode) {
		p_usage("no command given: mptrace [OPTIONS] -- COMMAND [ARG...]");
		return EXIT_USAGE;
	}
	if (o->user && o->mode != RUN_COMMAND) {
		p_usage("-u needs a command to run");
		return EXIT_USAGE;
	}
	return -1;
}

/* mptrace daemon: -a without a terminal; metrics on the default port. */
static int daemon_words(struct opts *o, int argc)
{
	if (optind < argc) {
		p_usage("mptrace daemon takes no command");
		return EXIT_USAGE;
	}
	if (o->mode != RUN_SYSTEM || o->user || o->live) {
		p_usage("mptrace daemon traces the whole system: -p, -u and --live do not apply");
		return EXIT_USAGE;
	}
	if (o->out_file || o->jsonl_file || o->svg_file || o->perfetto_file || o->junit_file ||
	    o->metrics_file) {
		p_usage("mptrace daemon writes no stream or timeline: use --findings-jsonl, --metrics, "
			"--json, --otlp or --record");
		return EXIT_USAGE;
	}
	o->quiet = true;
	if (!o->metrics_addr)
		o->metrics_addr = "127.0.0.1:9464";
	return -1;
}

static void set_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_ns = 200000000ull;
	o->zombie_thr_ns = 1000000000ull;
	o->lock_thr_ns = 1000000ull;
	o->kill_grace_ns = 2000000000ull;
	o->leak_grace_ns = 100000000ull;
	o->deadlock_after_ns = 1000000000ull;
	o->check_exitcode = EXIT_CHECK_DEFAULT;
	o->ring_mb = 16;
	o->argv_width = -1;
	o->metrics_comms = MX_DEFAULT_COMMS;
}

/*
 * Tracing a command, options stop at the first word that is not one (it is
 * the command's). 'top' and 'report' take options before and after their
 * words ("-" in the option string: words come back in order as 1).
 */
static int parse(int argc, char **argv, struct opts *o)
{
	const struct option *bare = NULL;	/* an optional value left out */
	const char *optstring = "+:o:qp:au:vhn:s:tre:";
	int c, li, r, bare_end = -1;

	set_defaults(o);
	optind = 1;
	if (argc > 1 && !strcmp(argv[1], "top")) {
		o->mode = RUN_TOP;
		o->live = true;
	} else if (argc > 1 && !strcmp(argv[1], "report")) {
		o->mode = RUN_REPORT;
	} else if (argc > 1 && !strcmp(argv[1], "daemon")) {
		o->mode = RUN_SYSTEM;
		o->daemon = true;
	}
	if (o->mode != RUN_COMMAND) {
		optstring = "-:o:qp:au:vhn:s:tre:";
		optind = 2;
		log_help = o->mode == RUN_TOP ? "mptrace top --help" :
			   o->daemon ? "mptrace daemon --help" : "mptrace report --help";
	}
	opterr = 0;
	for (;;) {
		if (optind < argc && !strncmp(argv[optind], "--", 2) && argv[optind][2]) {
			r = check_long(argv[optind]);
			if (r >= 0)
				return r;
		}
		li = -1;
		c = getopt_long(argc, argv, optstring, longopts, &li);
		if (c == -1)
			break;
		r = check_value(c, li, argv);
		if (r < 0)
			r = c == 1 ? positional(o, optarg, bare_end == optind - 1 ? bare : NULL) :
				     parse_option(o, c, argv);
		if (r >= 0)
			return r;
		if (li >= 0 && longopts[li].has_arg == optional_argument && !optarg) {
			bare = &longopts[li];
			bare_end = optind;
		}
	}
	if (o->daemon)
		return daemon_words(o, argc);
	if (o->mode == RUN_TOP || o->mode == RUN_REPORT) {
		/* words after "--" */
		for (; optind < argc; optind++) {
			r = positional(o, argv[optind], NULL);
			if (r >= 0)
				return r;
		}
		if (o->mode == RUN_REPORT && !o->report_file) {
			p_usage("report needs a recording: mptrace report FILE.mpt");
			return EXIT_USAGE;
		}
		return -1;
	}
	return command_words(o, argc, argv, bare, bare_end == optind);
}

void opts_free(struct opts *o)
{
	free(o->pids);
	free(o->allow_leak);
	o->pids = NULL;
	o->allow_leak = NULL;
}

/* Two outputs on stdout would interleave into something neither reader can
 * parse: refuse, naming both. */
static int one_stdout(const struct opts *o)
{
	const char *outs[][2] = {
		{ o->out_file, "-o" }, { o->json_file, "--json" },
		{ o->jsonl_file, "--events-jsonl" }, { o->junit_file, "--junit" },
		{ o->svg_file, "--svg" }, { o->perfetto_file, "--perfetto" },
	};
	const char *first = NULL;

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!outs[i][0] || strcmp(outs[i][0], "-"))
			continue;
		if (first) {
			p_usage("%s - and %s - both ask for stdout; only one output can go there: "
				"write the other to a file", first, outs[i][1]);
			return EXIT_USAGE;
		}
		first = outs[i][1];
	}
	return -1;
}

int opts_parse(int argc, char **argv, struct opts *o)
{
	int r = parse(argc, argv, o);

	if (r < 0)
		r = one_stdout(o);
	if (r >= 0)
		opts_free(o);
	return r;
}
