#!/usr/bin/env python3
"""joinable_queue.py: JoinableQueue, task_done() and join(), daemon consumers.

The consumers loop forever (daemon=True: nobody joins them).  Every put()
counts one unfinished task and every task_done() one finished; q.join()
blocks until the count is zero: all items were put AND processed.  Then main
exits, and multiprocessing's exit handler terminates (SIGTERM) the daemon
consumers and reaps them.
"""
import argparse
import multiprocessing as mp
import os
import sys
import time


def producer(q, ident, items):
    for i in range(1, items + 1):
        q.put(ident * 1000 + i)
        print(f"producer {os.getpid()}: put {ident * 1000 + i}")
    print(f"producer {os.getpid()}: done")


def consumer(q, work):
    while True:                     # a daemon: ends only when terminated
        item = q.get()
        time.sleep(work)            # "process" the item
        print(f"consumer {os.getpid()}: got {item}")
        q.task_done()


def main():
    ap = argparse.ArgumentParser(description="Producers, daemon consumers, JoinableQueue.join().")
    ap.add_argument("-p", type=int, default=2, metavar="P", help="producers (default 2)")
    ap.add_argument("-c", type=int, default=2, metavar="C", help="consumers (default 2)")
    ap.add_argument("-n", type=int, default=5, metavar="ITEMS", help="items per producer (default 5)")
    ap.add_argument("--work", type=int, default=20, metavar="MS", help="ms per item (default 20)")
    args = ap.parse_args()
    if args.p < 1 or args.c < 1 or args.n < 0 or args.work < 0:
        ap.error("-p and -c must be >= 1, -n and --work >= 0")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line

    q = mp.JoinableQueue(maxsize=4)
    consumers = [mp.Process(target=consumer, args=(q, args.work / 1000), daemon=True)
                 for _ in range(args.c)]
    producers = [mp.Process(target=producer, args=(q, i + 1, args.n)) for i in range(args.p)]
    for p in consumers + producers:
        p.start()
        print(f"main {os.getpid()}: started {'daemon consumer' if p in consumers else 'producer'} {p.pid}")
    for p in producers:
        p.join()
        print(f"main {os.getpid()}: joined producer {p.pid}")
    print(f"main {os.getpid()}: join(): waiting until every item is task_done")
    q.join()
    print(f"main {os.getpid()}: queue drained; exiting: the daemon consumers get SIGTERM")


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
