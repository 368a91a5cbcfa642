// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpfstats -- COMMAND [ARG...]: run COMMAND with the kernel's BPF run-time
 * statistics on (BPF_ENABLE_STATS: every BPF program's run_time_ns and
 * run_cnt count, as `bpftool prog show` and /proc/PID/fdinfo show them).
 * The statistics stay on only while bpfstats holds the descriptor, so they
 * go off when it exits, however it exits: no sysctl to restore. They cost
 * two clock reads per program run, so bench/run.sh never times with them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/bpf.h>

int main(int argc, char **argv)
{
	union bpf_attr attr;
	int fd, st, i = 1;
	pid_t p;

	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		fprintf(stderr, "usage: bpfstats -- COMMAND [ARG...]\n");
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	fd = (int)syscall(SYS_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (fd < 0) {
		fprintf(stderr, "bpfstats: cannot enable BPF statistics: %s\n", strerror(errno));
		return 1;
	}
	p = fork();
	if (p < 0) {
		perror("bpfstats: fork");
		return 1;
	}
	if (p == 0) {
		close(fd);
		execvp(argv[i], argv + i);
		fprintf(stderr, "bpfstats: %s: %s\n", argv[i], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(p, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("bpfstats: waitpid");
			return 1;
		}
	}
	close(fd);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
