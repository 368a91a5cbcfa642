#!/usr/bin/env python3
"""ticket.py: the ticket-buying race, with multiprocessing.Lock or --no-lock.

N buyer processes each: take the lock, read the tickets left, wait a simulated
network delay, buy one if any is left (write back one fewer), release the lock.
Without the lock every buyer reads the same count before anyone writes it
back, and more tickets are sold than exist.

multiprocessing.Lock is a POSIX semaphore (sem_open), shared by all buyers:
the lock is held across read + delay + write, so the buyers queue on it one
after another, and together wait about delay*N*(N-1)/2.
"""
import argparse
import contextlib
import multiprocessing as mp
import os
import sys
import time


def buyer(i, lock, locked, left, got, total, delay, t0):
    asked = time.monotonic()
    with lock:
        acquired = time.monotonic()
        n = left.value          # read ...
        time.sleep(delay)       # ... the "network round trip" ...
        if n > 0:
            left.value = n - 1  # ... write back: the three must not interleave
            got[i] = total - n + 1
        released = time.monotonic()
    def ms(t):
        return round((t - t0) * 1000)
    if locked:
        print(f"buyer {os.getpid()}: lock acquired at {ms(acquired)} ms, released at "
              f"{ms(released)} ms (waited {round((acquired - asked) * 1000)} ms)")
    else:
        print(f"buyer {os.getpid()}: no lock; read at {ms(acquired)} ms, finished at {ms(released)} ms")
    print(f"buyer {os.getpid()}: " + (f"got ticket #{got[i]}" if got[i] else "sold out"))


def main():
    ap = argparse.ArgumentParser(description="N buyers race for T tickets.")
    ap.add_argument("-n", type=int, default=5, help="buyers (default 5)")
    ap.add_argument("--tickets", type=int, default=2, metavar="T", help="tickets (default 2)")
    ap.add_argument("--delay", type=int, default=100, metavar="MS", help="network delay in ms (default 100)")
    ap.add_argument("--no-lock", action="store_true", help="no lock: watch it oversell")
    args = ap.parse_args()
    if args.n < 1 or args.tickets < 0 or args.delay < 0:
        ap.error("-n must be >= 1, --tickets and --delay >= 0")

    sys.stdout.reconfigure(line_buffering=True, write_through=False)  # one write() per line
    t0 = time.monotonic()
    # RawValue/RawArray: shared memory WITHOUT a built-in lock, so that the
    # only lock in play is ours.  (Value() would bring its own lock, but it
    # guards single reads and writes, not our read-delay-write sequence.)
    left = mp.RawValue("i", args.tickets)
    got = mp.RawArray("i", args.n)      # one slot per buyer: no race on it
    lock = contextlib.nullcontext() if args.no_lock else mp.Lock()
    kind = "none" if args.no_lock else "multiprocessing.Lock"
    print(f"parent {os.getpid()}: {args.tickets} tickets, {args.n} buyers, lock={kind}, "
          f"delay {args.delay} ms")
    wait = 0 if args.no_lock else args.delay * args.n * (args.n - 1) // 2
    print(f"expected total lock wait ≈ {wait} ms")

    buyers = [mp.Process(target=buyer, args=(i, lock, not args.no_lock, left, got,
                                             args.tickets, args.delay / 1000, t0))
              for i in range(args.n)]
    for p in buyers:
        p.start()
        print(f"parent {os.getpid()}: started buyer {p.pid}")
    for p in buyers:
        p.join()                        # wait for it, and reap it

    sold = sum(1 for g in got if g)
    print(f"sold {sold} of {args.tickets} tickets to {args.n} buyers; lock={kind}; "
          f"{left.value} left by the count")
    if sold > args.tickets:
        print(f"OVERSOLD: sold {sold} tickets but only {args.tickets} existed")


if __name__ == "__main__":
    # fork: the children are plain fork() copies of this process, as in the
    # C demos (Python 3.14 switches the Linux default to forkserver).
    mp.set_start_method("fork")
    main()
