#!/usr/bin/env python3
# latency.py MPTRACE LATPROBE COUNT GAP_MS: the event stream's latency. Runs
# `MPTRACE --color=never -- LATPROBE COUNT GAP_MS`, timestamps (CLOCK_MONOTONIC)
# each stream line as it arrives on mptrace's stderr, and prints, for the
# children's exit lines, the median and p99 of (arrival - the child's own
# CLOCK_MONOTONIC just before _exit), in ms.
import re, subprocess, sys, threading, time

mpt, probe, count, gap = sys.argv[1:5]
arrived = {}
p = subprocess.Popen([mpt, "--color=never", "--", probe, count, gap],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
line_re = re.compile(rb"latprobe\[(\d+)\]\s+exit ")

def read_stream():
    for line in p.stderr:
        t = time.monotonic_ns()
        m = line_re.search(line)
        if m and int(m.group(1)) not in arrived:
            arrived[int(m.group(1))] = t

th = threading.Thread(target=read_stream)
th.start()
born = {}
for line in p.stdout:
    pid, ns = line.split()
    born[int(pid)] = int(ns)
p.wait()
th.join()
lat = sorted((arrived[k] - born[k]) / 1e6 for k in born if k in arrived)
if not lat:
    sys.exit("latency.py: no exit line matched")
med = lat[len(lat) // 2]
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print("%d exits: median %.2f ms, p99 %.2f ms, max %.2f ms" % (len(lat), med, p99, lat[-1]))
