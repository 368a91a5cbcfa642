// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include "pty.h"

int pty_open(char *slave, size_t n)
{
	struct winsize ws;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0)
		return -1;
	if (grantpt(m) || unlockpt(m) || ptsname_r(m, slave, n)) {
		int err = errno;

		close(m);
		errno = err;
		return -1;
	}
	if (!ioctl(STDIN_FILENO, TIOCGWINSZ, &ws))
		ioctl(m, TIOCSWINSZ, &ws);
	return m;
}

int pty_attach(const char *slave, uid_t uid)
{
	struct termios tio;
	int fd = open(slave, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	/* a session leader opening a terminal gets it as its controlling one
	 * already; TIOCSCTTY says so where that is not the default */
	if (ioctl(fd, TIOCSCTTY, 0) && errno != EPERM)
		goto fail;
	/* programs that reopen their tty (ttyname) must be able to */
	if (fchown(fd, uid, (gid_t)-1))
		goto fail;
	if (!tcgetattr(STDIN_FILENO, &tio)) {
		/* ^Z would stop the command with no one to continue it (mptrace
		 * does not suspend with it, as sudo does): it is a plain byte */
		tio.c_cc[VSUSP] = _POSIX_VDISABLE;
		tcsetattr(fd, TCSANOW, &tio);
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* The user's terminal as mptrace found it: put back at any exit. */
static struct termios saved;
static bool is_raw;

static void restore(void)
{
	if (is_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	is_raw = false;
}

int pty_keys_start(struct pty_relay *r)
{
	static bool registered;
	struct termios raw;

	r->in = -1;
	if (r->master < 0 || tcgetpgrp(STDIN_FILENO) != getpgrp() || tcgetattr(STDIN_FILENO, &saved))
		return -1;
	if (!registered && !atexit(restore))
		registered = true;
	raw = saved;
	/* ^C and ^\ become bytes: the pty turns them into signals for
	 * the command's foreground, as a terminal would */
	cfmakeraw(&raw);
	/* output as before: mptrace's own stream shares this terminal */
	raw.c_oflag = saved.c_oflag;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw))
		return -1;
	is_raw = true;
	r->in = STDIN_FILENO;
	return r->in;
}

void pty_keys(struct pty_relay *r)
{
	ssize_t n;

	if (r->in < 0 || r->master < 0)
		return;
	/* take more keys only when the pty took the last ones: a command
	 * that does not read its input holds the keys, not mptrace's memory */
	if (!r->npend) {
		struct pollfd pfd = { .fd = r->in, .events = POLLIN };

		/* stdin stays blocking: its file is the caller's shell's too */
		if (poll(&pfd, 1, 0) <= 0)
			return;
		n = read(r->in, r->pend, sizeof(r->pend));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			pty_keys_stop(r);
			return;
		}
		r->npend = n > 0 ? n : 0;
	}
	if (!r->npend)
		return;
	n = write(r->master, r->pend, r->npend);
	if (n > 0) {
		memmove(r->pend, r->pend + n, r->npend - n);
		r->npend -= n;
	}
}

void pty_resize(const struct pty_relay *r)
{
	struct winsize ws;

	if (r->master >= 0 && !ioctl(STDIN_FILENO, TIOCGWINSZ, &ws))
		ioctl(r->master, TIOCSWINSZ, &ws);
}

void pty_keys_stop(struct pty_relay *r)
{
	restore();
	r->in = -1;
	r->npend = 0;
}
