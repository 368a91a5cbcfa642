/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * -u USER on a terminal: the command gets a pseudo-terminal of its own, so
 * that nothing it does reaches the terminal mptrace was started from (no
 * TIOCSTI into root's shell, no job control on root's session). mptrace
 * relays the keys, the output and the window size, as sudo's use_pty does.
 */
#ifndef MPTRACE_PTY_H
#define MPTRACE_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Parent: opens a master (close-on-exec) sized like stdin's terminal and
 * names its slave. Returns the master or -1 with errno. */
int pty_open(char *slave, size_t n);
/* Child, after setsid(): the slave becomes the controlling terminal, with
 * stdin's terminal settings, owned by uid; returns its fd or -1. */
int pty_attach(const char *slave, uid_t uid);

/* Parent: the keys typed on stdin's terminal go to the command while the
 * terminal is raw; mptrace's own terminal settings come back at exit. */
struct pty_relay {
	int master;		/* -1: no pty */
	int in;			/* stdin while keys are relayed, else -1 */
	size_t npend;		/* keys read but not yet taken by the pty */
	char pend[4096];
};

/* Starts relaying keys when mptrace is in the terminal's foreground;
 * returns the fd to watch for keys, or -1. */
int pty_keys_start(struct pty_relay *r);
/* Moves typed keys to the pty, as much as it takes now. */
void pty_keys(struct pty_relay *r);
/* SIGWINCH: the pty takes stdin's terminal size (its foreground is told). */
void pty_resize(const struct pty_relay *r);
/* The terminal as it was; stops relaying keys. */
void pty_keys_stop(struct pty_relay *r);

#endif
