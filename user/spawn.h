/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Fork the command, hold it until tracing is armed, drop privileges, exec. */
#ifndef MPTRACE_SPAWN_H
#define MPTRACE_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct spawn {
	pid_t pid;
	int go_fd;	/* write end: one byte releases the child */
	int err_fd;	/* read end: errno if exec failed, EOF if it worked */
	char *path;	/* resolved executable */
	bool own_session;	/* -u: the command leads a session (and process group) */
	int pty;	/* -u with a terminal on stdin: the master of its pty, else -1 */
	char slave[64];
};

/* Resolves the command like a shell and forks a held child; out_fd >= 0
 * becomes the command's stdout and stderr (the live view shows them), -1
 * leaves them as mptrace's. Returns 0, or the exit status (126, 127, 2, 1)
 * after printing one line. */
int spawn_prepare(struct spawn *s, char *const argv[], const char *user, int out_fd);
/* Lets the child exec. Returns 0 if it did, else 126/127 after one line. */
int spawn_release(struct spawn *s, char *const argv[]);
/* Cancels a held child (tracing could not start). */
void spawn_abort(struct spawn *s);

#endif
