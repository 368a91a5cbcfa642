#!/usr/bin/env python3
# subreaper.py PIDFILE DELAY -- CMD...: runs CMD as a child of a
# PR_SET_CHILD_SUBREAPER process that writes its pid to PIDFILE and reaps
# whatever it is handed, DELAY seconds after each check, until CMD ends;
# exits with CMD's status (128+N for signal N). Tests use it to own the
# adopter of the zombies and orphans a command leaves, instead of relying on
# pid 1 (which reaps when it pleases).
import ctypes
import os
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    pidfile, delay = sys.argv[1], float(sys.argv[2])
    cmd = sys.argv[4:] if sys.argv[3] == "--" else sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0):
        sys.exit("subreaper: prctl: %s" % os.strerror(ctypes.get_errno()))
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    child = os.fork()
    if child == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    status = None
    while status is None:
        time.sleep(delay)
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == child:
                status = st
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
             else 128 + os.WTERMSIG(status))


main()
