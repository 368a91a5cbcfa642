#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""bench/soak_plot.py SAMPLES OUT.svg: RSS against processes forked, one line
a mode, from bench/soak.sh's samples ("mode secs forked rss_kb cpu_ticks"
a line). Python 3's standard library only."""
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
modes = []
for r in rows:
    if r[0] not in modes:
        modes.append(r[0])
W, H, L, B = 560, 300, 60, 40
xs = [int(r[2]) for r in rows] or [1]
ys = [int(r[3]) / 1024 for r in rows] or [1]
xmax, ymax = max(max(xs), 1), max(max(ys) * 1.15, 1)
def X(v): return L + (W - L - 20) * v / xmax
def Y(v): return H - B - (H - B - 20) * v / ymax
colors = {"top": "#d62728", "a": "#1f77b4", "p": "#2ca02c"}
names = {"top": "mptrace top", "a": "mptrace -a", "p": "mptrace -p"}
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (W, H),
       '<rect width="100%" height="100%" fill="white"/>',
       '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, H - B, W - 20, H - B),
       '<line x1="%d" y1="20" x2="%d" y2="%d" stroke="black"/>' % (L, L, H - B)]
for i in range(5):
    v = xmax * i / 4
    out.append('<text x="%.0f" y="%d" text-anchor="middle">%s</text>' % (X(v), H - B + 15, "{:,}".format(int(v))))
    w = ymax * i / 4
    out.append('<text x="%d" y="%.0f" text-anchor="end">%.0f</text>' % (L - 5, Y(w) + 4, w))
out.append('<text x="%d" y="%d" text-anchor="middle">processes forked</text>' % ((L + W) / 2, H - 5))
out.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">RSS (MB)</text>' % (H / 2, H / 2))
for k, m in enumerate(modes):
    pts = " ".join("%.1f,%.1f" % (X(int(r[2])), Y(int(r[3]) / 1024)) for r in rows if r[0] == m)
    c = colors.get(m, "gray")
    out.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (c, pts))
    out.append('<text x="%d" y="%d" fill="%s">%s</text>' % (L + 10 + 110 * k, 14, c, names.get(m, m)))
out.append('</svg>')
open(sys.argv[2], "w").write("\n".join(out) + "\n")
