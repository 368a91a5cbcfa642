#!/usr/bin/env python3
"""orphan.py: a child that outlives its parent and is adopted.

When the parent exits first, the kernel re-parents its running child to the
nearest subreaper (prctl PR_SET_CHILD_SUBREAPER) or to init, which will reap
it.  The child sees it as os.getppid() changing.
"""
import argparse
import multiprocessing as mp
import os
import sys
import time


def child(parent, secs):
    print(f"child {os.getpid()}: started by parent {parent}; getppid() = {os.getppid()}")
    deadline = time.monotonic() + secs + 2
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.01)    # no notice comes from the kernel: poll
    adopter = os.getppid()
    if adopter == parent:
        print(f"child {os.getpid()}: parent {parent} still alive; giving up")
        sys.exit(1)
    try:
        with open(f"/proc/{adopter}/comm") as f:
            name = f.read().strip()
    except OSError:
        name = "?"
    print(f"child {os.getpid()}: parent {parent} exited; adopted by {adopter} ({name})")


def main():
    ap = argparse.ArgumentParser(description="The parent exits; its child is adopted.")
    ap.add_argument("--sleep", type=float, default=0.2, metavar="SECS",
                    help="parent's pause before exiting (default 0.2)")
    args = ap.parse_args()
    if args.sleep < 0:
        ap.error("--sleep must be >= 0")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line

    p = mp.Process(target=child, args=(os.getpid(), args.sleep))
    p.start()
    print(f"parent {os.getpid()}: started child {p.pid}; exiting in {args.sleep} s without join()")
    time.sleep(args.sleep)
    print(f"parent {os.getpid()}: exiting now; child {p.pid} becomes an orphan")
    # A normal exit would run multiprocessing's exit handler, which joins
    # non-daemon children: the parent would wait, and no orphan would appear.
    os._exit(0)


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
