#!/usr/bin/env python3
"""join.py: where you join() decides whether children run in parallel.

Three children sleep 1, 2 and 3 units.  --parallel (the default) starts all
three, then joins them one by one: they overlap, and the total is about the
longest, 3 units.  --serial joins each child right after starting it: main
blocks in join(), so the next child starts only when the previous one has
ended, and the total is the sum, 6 units.  (The same lesson as join_demo.c.)
"""
import argparse
import multiprocessing as mp
import os
import sys
import time


def stamp(t0):
    return f"{round((time.monotonic() - t0) * 1000):5d} ms"


def child(units, unit, t0):
    time.sleep(units * unit)
    print(f"{stamp(t0)} child {os.getpid()}: slept {units} unit{'s' if units > 1 else ''}, exiting")


def start(units, unit, t0):
    p = mp.Process(target=child, args=(units, unit, t0))
    p.start()
    print(f"{stamp(t0)} main {os.getpid()}: started child {p.pid} "
          f"(sleeps {units} unit{'s' if units > 1 else ''} = {round(units * unit * 1000)} ms)")
    return p


def join(p, t0):
    before = time.monotonic()
    p.join()    # waitpid(): blocks until the child exits, then reaps it
    waited = round((time.monotonic() - before) * 1000)
    print(f"{stamp(t0)} main {os.getpid()}: joined child {p.pid} (waited {waited} ms)")


def main():
    ap = argparse.ArgumentParser(description="Join early (serial) or late (parallel).")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--parallel", action="store_true", help="start all, then join each (default)")
    mode.add_argument("--serial", action="store_true", help="join each child right after starting it")
    ap.add_argument("--unit", type=int, default=200, metavar="MS", help="time unit in ms (default 200)")
    args = ap.parse_args()
    if not 1 <= args.unit <= 60000:
        ap.error("--unit must be from 1 to 60000")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line
    unit, t0 = args.unit / 1000, time.monotonic()
    print(f"{stamp(t0)} main {os.getpid()}: {'serial' if args.serial else 'parallel'} mode, "
          f"unit {args.unit} ms")

    if args.serial:
        for units in (1, 2, 3):
            join(start(units, unit, t0), t0)
    else:
        children = [start(units, unit, t0) for units in (1, 2, 3)]
        for p in children:
            join(p, t0)
    total = round((time.monotonic() - t0) * 1000)
    why = "serial, the sum 1+2+3 units" if args.serial else "parallel, the longest child, 3 units"
    print(f"{stamp(t0)} main {os.getpid()}: total {total} ms ({why}: expected "
          f"~{(6 if args.serial else 3) * args.unit} ms)")


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
