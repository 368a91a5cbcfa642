// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What a hostile command does to the terminal it was given: push the line
 * argv[1] into its input with TIOCSTI, as if typed there. Under mptrace -u
 * it must land on the command's own pty, never in the caller's shell.
 * Prints what the ioctl said for each byte's fate, exits 0 if all went in.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int main(int argc, char **argv)
{
	const char *line = argc > 1 ? argv[1] : "id\n";
	int fails = 0, err = 0;

	for (const char *c = line; *c; c++) {
		if (ioctl(0, TIOCSTI, c)) {
			fails++;
			err = errno;
		}
	}
	if (ioctl(0, TIOCSTI, "\n")) {
		fails++;
		err = errno;
	}
	if (fails)
		printf("tiocsti: %d bytes refused: %s\n", fails, strerror(err));
	else
		printf("tiocsti: pushed\n");
	return fails ? 1 : 0;
}
