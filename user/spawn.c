// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The command is forked first and held on a pipe while the BPF programs are
 * loaded and its pid is put in the tracked map: then it execs, so not one of
 * its events is missed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "log.h"
#include "pty.h"
#include "spawn.h"
#include "util.h"

/* Status for a command that cannot run, as a shell would give. */
static int cannot_run(const char *cmd, int err)
{
	if (err == ENOENT || err == ENOTDIR) {
		p_err("'%s': command not found", cmd);
		return 127;
	}
	p_err("'%s': cannot execute: %s", cmd, strerror(err));
	return 126;
}

static int check_file(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if (access(path, X_OK))
		return errno;
	return 0;
}

/* PATH search like execvp, but done up front so errors come before tracing. */
static int resolve(const char *cmd, char **out)
{
	const char *path = getenv("PATH");
	int first_err = ENOENT;

	if (strchr(cmd, '/')) {
		int err = check_file(cmd);

		if (err)
			return err;
		*out = xstrdup(cmd);
		return 0;
	}
	if (!*cmd)
		return ENOENT;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char buf[4096];
		int err;

		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, n ? path : ".", "/", cmd);
		err = check_file(buf);
		if (!err) {
			*out = xstrdup(buf);
			return 0;
		}
		if (err != ENOENT && err != ENOTDIR && first_err == ENOENT)
			first_err = err;
		path += n;
		if (*path == ':')
			path++;
	}
	return first_err;
}

/* Only 0, 1, 2 and the marker socket (MPTRACE_FD) reach a command run as
 * another user: whatever else root's caller had open stays with mptrace. */
static void keep_only_std(void)
{
	const char *mfd = getenv("MPTRACE_FD");
	int keep = mfd ? atoi(mfd) : -1;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)) {
		long max = sysconf(_SC_OPEN_MAX);

		for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (keep > 2)
		fcntl(keep, F_SETFD, 0);
}

static void set_user_env(const struct passwd *pw)
{
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	setenv("SHELL", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh", 1);
}

/*
 * -u: the command gets a session of its own (it can no longer reach the
 * caller's terminal with TIOCSTI or job control) and, when stdin is a
 * terminal, a pseudo-terminal of its own as stdin and as the stdout and
 * stderr that were the terminal; then the target's groups, gid, uid.
 */
static int become(const struct passwd *pw, const char *slave)
{
	if (setsid() < 0)
		return -1;
	if (*slave) {
		int fd = pty_attach(slave, pw->pw_uid);

		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 ||
		    (isatty(STDOUT_FILENO) && dup2(fd, STDOUT_FILENO) < 0) ||
		    (isatty(STDERR_FILENO) && dup2(fd, STDERR_FILENO) < 0))
			return -1;
	}
	keep_only_std();
	set_user_env(pw);
	if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
		return -1;
	/* a uid change that can be undone did not happen */
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static void child(struct spawn *s, char *const argv[], const struct passwd *pw, int go_rd, int err_wr,
		  int out_fd)
{
	sigset_t none;
	char c;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (read(go_rd, &c, 1) != 1)
		_exit(127);	/* mptrace gave up before tracing started */
	close(go_rd);
	if (out_fd >= 0 && (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0))
		_exit(126);
	if (pw) {
		errno = 0;
		if (become(pw, s->slave)) {
			err = errno ? errno : EPERM;
			err = -err;	/* negative: failed to become the user */
			if (write(err_wr, &err, sizeof(err)) < 0)
				_exit(126);
			_exit(126);
		}
	}
	execv(s->path, argv);
	err = errno;
	if (write(err_wr, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(err == ENOENT ? 127 : 126);
}

int spawn_prepare(struct spawn *s, char *const argv[], const char *user, int out_fd)
{
	struct passwd *pw = NULL;
	int go[2], ep[2], err;

	memset(s, 0, sizeof(*s));
	s->go_fd = s->err_fd = s->pty = -1;
	err = resolve(argv[0], &s->path);
	if (err)
		return cannot_run(argv[0], err);
	if (user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			char *end;
			long uid = strtol(user, &end, 10);

			if (!*end && end != user)
				pw = getpwuid(uid);
		}
		if (!pw) {
			p_usage("unknown user '%s' for -u", user);
			free(s->path);
			s->path = NULL;
			return EXIT_USAGE;
		}
	}
	if (pw && isatty(STDIN_FILENO)) {
		s->pty = pty_open(s->slave, sizeof(s->slave));
		if (s->pty < 0) {
			p_err("cannot open a pseudo-terminal for -u: %s; "
			      "give the command a stdin that is not a terminal", strerror(errno));
			free(s->path);
			s->path = NULL;
			return EXIT_ENV;
		}
	}
	s->own_session = pw != NULL;
	if (pipe2(go, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		p_err("cannot create a pipe: %s", strerror(errno));
		spawn_abort(s);
		return EXIT_ENV;
	}
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0) {
		p_err("cannot fork: %s", strerror(errno));
		spawn_abort(s);
		return EXIT_ENV;
	}
	if (s->pid == 0) {
		close(go[1]);
		close(ep[0]);
		child(s, argv, pw, go[0], ep[1], out_fd);
	}
	close(go[0]);
	close(ep[1]);
	s->go_fd = go[1];
	s->err_fd = ep[0];
	return 0;
}

int spawn_release(struct spawn *s, char *const argv[])
{
	ssize_t n;
	int err = 0;

	if (write(s->go_fd, "g", 1) != 1) {
		p_err("cannot start the command: %s", strerror(errno));
		return EXIT_ENV;
	}
	close(s->go_fd);
	s->go_fd = -1;
	do
		n = read(s->err_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(s->err_fd);
	s->err_fd = -1;
	if (n != (ssize_t)sizeof(err)) {
		free(s->path);
		s->path = NULL;
		return 0;	/* EOF: exec succeeded (the pipe was close-on-exec) */
	}
	waitpid(s->pid, NULL, 0);
	if (err < 0) {
		p_err("cannot run '%s' as the requested user: %s", argv[0], strerror(-err));
		err = 126;
	} else if (err == ENOENT && !check_file(s->path)) {
		/* the file was there: what execve did not find is its #! interpreter
		 * or its ELF loader (ENOENT at exec time: 127, as a shell says) */
		p_err("'%s': cannot execute: its interpreter (the #! line) or loader was not found",
		      argv[0]);
		err = 127;
	} else {
		err = cannot_run(argv[0], err);
	}
	free(s->path);
	s->path = NULL;
	return err;
}

void spawn_abort(struct spawn *s)
{
	if (s->go_fd >= 0)
		close(s->go_fd);
	if (s->err_fd >= 0)
		close(s->err_fd);
	if (s->pty >= 0)
		close(s->pty);
	s->pty = -1;
	if (s->pid > 0)
		waitpid(s->pid, NULL, 0);
	s->go_fd = s->err_fd = -1;
	s->pid = 0;
	free(s->path);
	s->path = NULL;
}
