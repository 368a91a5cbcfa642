#!/usr/bin/env python3
"""Checks of mptrace's visual outputs, for tests/50-record.bats.

  visual.py png FILE MIN_COLOURS          a decodable PNG, not blank
  visual.py svg FILE                      well-formed SVG with rows and a <title>
  visual.py perfetto FILE [NEED_CAT...]   Chrome trace-event JSON, structurally sound
  visual.py jsonl FILE                    every line a JSON object with a type
  visual.py colour PNG RRGGBB MIN [PNG2]  at least MIN pixels of that colour (and, with
                                          PNG2, of them where PNG2 has not that colour)

Only the standard library: the test machines have no Pillow.
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def fail(msg):
    print(f"visual.py: {msg}", file=sys.stderr)
    sys.exit(1)


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail(f"{path}: unexpected PNG layout {ihdr}")
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(path, min_colours):
    w, h, bpp, rows = png_pixels(path)
    colours, nonwhite = {}, 0
    for row in rows:
        for x in range(0, len(row), bpp):
            px = row[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
            nonwhite += px != b"\xff\xff\xff"
    # colours covering at least 40 pixels: bars and text, not anti-aliasing
    solid = [c for c, n in colours.items() if n >= 40]
    if len(solid) < int(min_colours):
        fail(f"{path}: only {len(solid)} colours")
    if nonwhite < w * h // 50:
        fail(f"{path}: nearly blank ({nonwhite} non-white pixels)")
    print(f"{path}: {w}x{h}, {len(solid)} colours, {nonwhite} non-white pixels")


def check_svg(path):
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    if root.tag != ns + "svg":
        fail(f"{path}: root is {root.tag}")
    if root.find(ns + "title") is None or not root.find(ns + "title").text:
        fail(f"{path}: no <title> with the command line")
    rows = [g for g in root.iter(ns + "g") if g.find(ns + "title") is not None]
    if not rows:
        fail(f"{path}: no process rows with a <title>")
    print(f"{path}: {len(rows)} rows")


def check_perfetto(path, need):
    doc = json.load(open(path))
    ev = doc["traceEvents"]
    names, cats, flows = {}, set(), {}
    tracks = {}
    for e in ev:
        for k in ("ph", "pid", "tid"):
            if k not in e:
                fail(f"event without {k}: {e}")
        if not isinstance(e["pid"], int) or not isinstance(e["tid"], int):
            fail(f"non-integer pid/tid: {e}")
        ph = e["ph"]
        if ph == "M":
            if e["name"] == "process_name":
                names[e["pid"]] = e["args"]["name"]
            continue
        if not isinstance(e.get("ts"), (int, float)) or e["ts"] < 0:
            fail(f"bad ts: {e}")
        cats.add(e.get("cat"))
        if ph == "X":
            if e["dur"] < 0:
                fail(f"negative duration: {e}")
            tracks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
        elif ph in ("s", "f"):
            flows.setdefault(e["id"], []).append(ph)
        elif ph != "i":
            fail(f"unexpected phase {ph}")
    used = {e["pid"] for e in ev}
    if used - set(names):
        fail(f"processes without a process_name: {sorted(used - set(names))[:5]}")
    for pid, name in names.items():
        if not name.endswith("]") or "[" not in name:
            fail(f"process name not comm[pid]: {name}")
    for fid, phs in flows.items():
        if sorted(phs) != ["f", "s"]:
            fail(f"flow {fid} is not one start and one finish: {phs}")
    # slices of one track nest or follow each other; they never cross
    for key, sl in tracks.items():
        sl.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for a, z in sl:
            while stack and stack[-1] <= a + 1e-3:
                stack.pop()
            if stack and z > stack[-1] + 1e-3:
                fail(f"slices cross on track {key}: ends {stack[-1]} and [{a}, {z}]")
            stack.append(z)
    for c in need:
        if c not in cats:
            fail(f"no events of category {c} (have {sorted(x for x in cats if x)})")
    print(f"{path}: {len(ev)} events, {len(names)} processes, {len(flows)} flows")


def near(px, rgb):
    return all(abs(px[i] - rgb[i]) <= 24 for i in range(3))


def colour_pixels(path, rgb):
    w, h, bpp, rows = png_pixels(path)
    return {(x // bpp, y) for y, row in enumerate(rows) for x in range(0, len(row), bpp)
            if near(row[x:x + 3], rgb)}


def check_colour(path, hexrgb, need, other=None):
    rgb = bytes.fromhex(hexrgb)
    got = colour_pixels(path, rgb)
    if other:
        got -= colour_pixels(other, rgb)
    if len(got) < int(need):
        fail(f"{path}: {len(got)} pixels of #{hexrgb}{' not in ' + other if other else ''}, "
             f"want at least {need}")
    print(f"{path}: {len(got)} pixels of #{hexrgb}{' not in ' + other if other else ''}")


def check_jsonl(path):
    n = 0
    for i, line in enumerate(open(path), 1):
        obj = json.loads(line)
        if not isinstance(obj, dict) or "type" not in obj or "t_ms" not in obj:
            fail(f"{path}:{i}: not an event object")
        n += 1
    if not n:
        fail(f"{path}: no lines")
    print(f"{path}: {n} events")


if __name__ == "__main__":
    what, path = sys.argv[1], sys.argv[2]
    if what == "png":
        check_png(path, sys.argv[3] if len(sys.argv) > 3 else 4)
    elif what == "svg":
        check_svg(path)
    elif what == "perfetto":
        check_perfetto(path, sys.argv[3:])
    elif what == "jsonl":
        check_jsonl(path)
    elif what == "colour":
        check_colour(path, sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        fail(f"unknown check {what}")
