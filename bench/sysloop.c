// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * sysloop getppid|read COUNT: COUNT cheap syscalls in a loop, syscall(2)
 * getppid or a 64-byte read of /dev/zero. Run untraced beside a running
 * mptrace, it shows what mptrace costs processes it does not trace: a hook
 * on the syscall path would be paid on every call (bench/run.sh "bystander").
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "bench.h"

int main(int argc, char **argv)
{
	char buf[64];
	long n;
	int fd = -1;

	if (argc != 3 || (strcmp(argv[1], "getppid") && strcmp(argv[1], "read"))) {
		fprintf(stderr, "usage: sysloop getppid|read COUNT\n");
		return 2;
	}
	n = bench_num("sysloop", "count", argv[2], 1);
	if (!strcmp(argv[1], "read")) {
		fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "sysloop: /dev/zero: %s\n", strerror(errno));
			return 1;
		}
	}
	for (long i = 0; i < n; i++) {
		if (fd < 0)
			syscall(SYS_getppid);
		else if (read(fd, buf, sizeof(buf)) != sizeof(buf))
			return 1;
	}
	return 0;
}
