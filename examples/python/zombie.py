#!/usr/bin/env python3
"""zombie.py: multiprocessing children stay zombies until they are joined.

A finished child keeps its exit status in the kernel ("Z", <defunct> in ps)
until its parent waits for it.  multiprocessing waits only lazily: in join(),
is_alive(), active_children(), and when start() tidies up earlier children.
So a parent that just sleeps keeps its finished children as zombies.
"""
import argparse
import multiprocessing as mp
import os
import sys
import time


def child(go):
    go.wait()           # exit only once every child is started (see below)
    print(f"child {os.getpid()}: exiting at once (parent {os.getppid()})")


def state(pid):
    """The state letter from /proc/PID/stat, e.g. Z for a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description="Children end; the parent sleeps before joining.")
    ap.add_argument("-n", type=int, default=3, help="children (default 3)")
    ap.add_argument("--sleep", type=float, default=2, metavar="SECS", help="sleep before joining (default 2)")
    ap.add_argument("--exit", action="store_true", help="exit without joining: init reaps the zombies")
    args = ap.parse_args()
    if args.n < 1 or args.sleep < 0:
        ap.error("-n must be >= 1 and --sleep >= 0")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line

    # start() reaps children that have already ended, so the children wait
    # for this event: otherwise starting child 2 could reap child 1.
    go = mp.Event()
    kids = [mp.Process(target=child, args=(go,)) for _ in range(args.n)]
    for p in kids:
        p.start()
        print(f"parent {os.getpid()}: started child {p.pid}")
    go.set()

    print(f"parent {os.getpid()}: sleeping {args.sleep} s without join(); "
          f"try: ps -o pid,stat,cmd --ppid {os.getpid()}")
    time.sleep(args.sleep)
    for p in kids:
        s = state(p.pid)
        print(f"parent {os.getpid()}: child {p.pid} is in state {s}"
              + (" (zombie: exited, not yet reaped)" if s == "Z" else ""))

    if args.exit:
        print(f"parent {os.getpid()}: exiting without joining; the zombies go to init, which reaps them")
        # os._exit skips multiprocessing's exit handler, which would join them.
        os._exit(0)
    for p in kids:
        p.join()        # waitpid(): the zombie is gone
        print(f"parent {os.getpid()}: joined child {p.pid} (exitcode {p.exitcode})")


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
