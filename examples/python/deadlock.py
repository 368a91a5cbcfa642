#!/usr/bin/env python3
"""Two processes take two multiprocessing.Lock objects in opposite orders.

Lesson: each holds one lock and waits for the other forever. A
multiprocessing.Lock is a POSIX semaphore: the kernel does not know who
"holds" it, but each child is the only process that ever touched the lock it
took, so mptrace infers the holders and reports the deadlock (`--on-deadlock=kill`
ends it; see docs/findings.md). The C demo (deadlock_demo --kind
mutex|flock|fcntl) has owners the kernel shows.
"""
import argparse
import multiprocessing as mp
import os
import sys
import time


def worker(name, first, second):
    with first:
        print(f"{name} {os.getpid()}: took its first lock", flush=True)
        time.sleep(0.1)
        print(f"{name} {os.getpid()}: waiting for its second lock", flush=True)
        with second:
            print(f"{name} {os.getpid()}: got both (no deadlock this time)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=3.0,
                    help="seconds before the parent kills the stuck pair (default 3)")
    args = ap.parse_args()
    mp.set_start_method("fork")
    lock1, lock2 = mp.Lock(), mp.Lock()
    a = mp.Process(target=worker, args=("A", lock1, lock2))
    b = mp.Process(target=worker, args=("B", lock2, lock1))
    a.start()
    b.start()
    a.join(args.timeout)
    b.join(0.1)
    if a.is_alive() or b.is_alive():
        print(f"parent {os.getpid()}: deadlock: both stuck after {args.timeout} s; killing them",
              flush=True)
        for p in (a, b):
            p.kill()
            p.join()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
