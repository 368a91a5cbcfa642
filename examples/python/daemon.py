#!/usr/bin/env python3
"""daemon.py: a daemon=True child is terminated at exit; a normal one is joined.

When the main process finishes, multiprocessing's exit handler sends every
daemonic child SIGTERM (Process.terminate()) and reaps it, while normal
children are joined: main waits for them.  ("daemon" here means "helper
bound to its parent's lifetime", not a detached Unix daemon.)
"""
import argparse
import multiprocessing as mp
import os
import sys
import time


def stamp(t0):
    return f"{round((time.monotonic() - t0) * 1000):5d} ms"


def daemon_loop(unit, t0):
    time.sleep(unit / 2)    # tick half a unit off the worker's beat
    tick = 1
    while True:             # never ends by itself
        print(f"{stamp(t0)} daemon {os.getpid()}: tick {tick}")
        tick += 1
        time.sleep(unit)


def worker(unit, t0):
    print(f"{stamp(t0)} worker {os.getpid()}: working for 2 units")
    time.sleep(2 * unit)
    print(f"{stamp(t0)} worker {os.getpid()}: done")


def main():
    ap = argparse.ArgumentParser(description="A daemon child and a normal child.")
    ap.add_argument("--unit", type=int, default=200, metavar="MS", help="time unit in ms (default 200)")
    args = ap.parse_args()
    if args.unit < 1:
        ap.error("--unit must be >= 1")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line
    unit, t0 = args.unit / 1000, time.monotonic()

    d = mp.Process(target=daemon_loop, args=(unit, t0), daemon=True)
    d.start()
    print(f"{stamp(t0)} main {os.getpid()}: started daemon {d.pid}")
    w = mp.Process(target=worker, args=(unit, t0))
    w.start()
    print(f"{stamp(t0)} main {os.getpid()}: started worker {w.pid}")
    w.join()
    print(f"{stamp(t0)} main {os.getpid()}: joined worker {w.pid} (exitcode {w.exitcode})")
    print(f"{stamp(t0)} main {os.getpid()}: exiting; multiprocessing now sends SIGTERM "
          f"to daemon {d.pid} and reaps it")


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
