#!/usr/bin/env python3
"""pool.py: multiprocessing.Pool: map, then close and join.

A Pool starts W worker processes once and hands them tasks through a queue
(a pipe underneath); results come back through another.  close() says "no
more tasks", so the workers exit when the queue is empty; join() waits for
them.  (Leaving a `with Pool()` block calls terminate() instead: SIGTERM.)
"""
import argparse
import multiprocessing as mp
import os
import sys
import time
from functools import partial


def square(x, work):
    time.sleep(work)        # the "work"
    return x, x * x, os.getpid()


def main():
    ap = argparse.ArgumentParser(description="A pool of workers squares tasks 1..T.")
    ap.add_argument("-w", type=int, default=4, metavar="W", help="worker processes (default 4)")
    ap.add_argument("-t", type=int, default=7, metavar="T", help="tasks (default 7)")
    ap.add_argument("--work", type=int, default=50, metavar="MS", help="ms per task (default 50)")
    args = ap.parse_args()
    if args.w < 1 or args.t < 0 or args.work < 0:
        ap.error("-w must be >= 1, -t and --work >= 0")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line

    pool = mp.Pool(args.w)
    print(f"parent {os.getpid()}: pool of {args.w} workers, {args.t} tasks")
    # chunksize=1: one task per hand-out, so idle workers share the work.
    work = partial(square, work=args.work / 1000)
    for x, y, pid in pool.map(work, range(1, args.t + 1), chunksize=1):
        print(f"result: {x}^2 = {y} (by worker {pid})")
    print(f"parent {os.getpid()}: close: no more tasks")
    pool.close()
    print(f"parent {os.getpid()}: join: waiting for the workers")
    pool.join()
    print(f"parent {os.getpid()}: all workers joined")


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
