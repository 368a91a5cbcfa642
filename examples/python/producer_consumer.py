#!/usr/bin/env python3
"""producer_consumer.py: multiprocessing.Queue with sentinels.

(Not called queue.py: a script named queue.py would shadow the standard
library's queue module, which multiprocessing itself imports.)

P producers each put ITEMS items into a bounded Queue (maxsize 4: a full
queue blocks producers); C consumers take them.  A consumer cannot know that
no more items will come, so once the producers are joined, main puts one
sentinel (None) per consumer; each consumer stops at its sentinel.
"""
import argparse
import multiprocessing as mp
import os
import sys
import time

SENTINEL = None


def producer(q, ident, items):
    for i in range(1, items + 1):
        q.put(ident * 1000 + i)     # producer number and item number
        print(f"producer {os.getpid()}: put {ident * 1000 + i}")
    print(f"producer {os.getpid()}: done")


def consumer(q, work):
    n = 0
    while (item := q.get()) is not SENTINEL:
        time.sleep(work)            # "process" the item
        n += 1
        print(f"consumer {os.getpid()}: got {item}")
    print(f"consumer {os.getpid()}: got sentinel, exiting after {n} items")


def main():
    ap = argparse.ArgumentParser(description="Producers and consumers over a Queue.")
    ap.add_argument("-p", type=int, default=2, metavar="P", help="producers (default 2)")
    ap.add_argument("-c", type=int, default=2, metavar="C", help="consumers (default 2)")
    ap.add_argument("-n", type=int, default=5, metavar="ITEMS", help="items per producer (default 5)")
    ap.add_argument("--work", type=int, default=20, metavar="MS", help="ms per item (default 20)")
    args = ap.parse_args()
    if args.p < 1 or args.c < 1 or args.n < 0 or args.work < 0:
        ap.error("-p and -c must be >= 1, -n and --work >= 0")
    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line

    q = mp.Queue(maxsize=4)
    consumers = [mp.Process(target=consumer, args=(q, args.work / 1000)) for _ in range(args.c)]
    producers = [mp.Process(target=producer, args=(q, i + 1, args.n)) for i in range(args.p)]
    for p in consumers + producers:
        p.start()
        print(f"main {os.getpid()}: started {'consumer' if p in consumers else 'producer'} {p.pid}")
    for p in producers:
        p.join()
        print(f"main {os.getpid()}: joined producer {p.pid}")
    print(f"main {os.getpid()}: putting {args.c} sentinels")
    for _ in consumers:
        q.put(SENTINEL)
    for p in consumers:
        p.join()
        print(f"main {os.getpid()}: joined consumer {p.pid}")


if __name__ == "__main__":
    mp.set_start_method("fork")     # plain fork() children, as in the C demos
    main()
