#!/usr/bin/env python3
"""Draws docs/zombie_gauge.svg from a Prometheus range query answer.

usage: zombie_gauge_svg.py QUERY_RANGE.json OUT.svg [TITLE]

QUERY_RANGE.json is what /api/v1/query_range returned for one or more
series (scripts/fleet-picture.sh makes it from a real scrape of
mptrace daemon). Each series is drawn as a step line, as a Grafana
panel would, with its labels in the legend. Standard library only.
"""
import json
import sys
from xml.sax.saxutils import escape

W, H = 720, 300
L, R, T, B = 60, 20, 40, 50
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]


def label(metric):
    name = metric.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items())
                    if k not in ("__name__", "instance", "job"))
    return f"{name}{{{rest}}}" if rest else name or "value"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ans = json.load(open(sys.argv[1]))
    title = sys.argv[3] if len(sys.argv) > 3 else "mptrace_zombies"
    series = ans["data"]["result"]
    if not series:
        sys.exit("zombie_gauge_svg: the query returned no series")
    pts = [(float(t), float(v)) for s in series for t, v in s["values"]]
    t0, t1 = min(p[0] for p in pts), max(p[0] for p in pts)
    vmax = max(1.0, max(p[1] for p in pts))
    span = max(1.0, t1 - t0)

    def x(t):
        return L + (t - t0) / span * (W - L - R)

    def y(v):
        return H - B - v / vmax * (H - T - B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>']
    # grid and axes
    steps = int(vmax) if vmax <= 10 else 5
    for i in range(steps + 1):
        v = vmax * i / steps
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    for i in range(7):
        t = t0 + span * i / 6
        out.append(f'<text x="{x(t):.1f}" y="{H - B + 18}" text-anchor="middle">{t - t0:.0f} s</text>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}" stroke="#444"/>')
    out.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H - B}" stroke="#444"/>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">'
               f'time since the first sample (Prometheus scrapes every second)</text>')
    for n, s in enumerate(series):
        c = COLORS[n % len(COLORS)]
        d = []
        prev = None
        for t, v in ((float(t), float(v)) for t, v in s["values"]):
            if prev is None:
                d.append(f"M{x(t):.1f},{y(v):.1f}")
            else:
                d.append(f"H{x(t):.1f}V{y(v):.1f}")
            prev = v
        out.append(f'<path d="{" ".join(d)}" fill="none" stroke="{c}" stroke-width="2"/>')
        out.append(f'<rect x="{W - R - 260}" y="{T + 4 + 18 * n}" width="12" height="12" fill="{c}"/>')
        out.append(f'<text x="{W - R - 242}" y="{T + 14 + 18 * n}">{escape(label(s["metric"]))}</text>')
    out.append("</svg>")
    open(sys.argv[2], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
