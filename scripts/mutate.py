#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""make mutate: does the suite catch small deliberate bugs?

Reads tests/mutations/*.txt (format in tests/mutations/README.md), copies the
tree into a scratch directory (never touching the working files), and for each
mutation: replaces the exact original snippet, rebuilds, runs the entry's test
commands with a time limit, and restores the file. A mutation whose tests all
pass SURVIVED (the suite misses that bug); one whose snippet no longer matches
exactly once is STALE (a failure of the list, not a pass).

usage: scripts/mutate.py [--list] [--keep] [--no-baseline] [NAME-REGEX]
exit: 0 when every mutation was killed; 1 survivors, stale entries or a
baseline failure; 2 usage.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_TIMEOUT = int(os.environ.get("MUTATE_TIMEOUT", "600"))
BUILD_TARGETS = ["all", "san"]


class Entry:
    def __init__(self, src, line):
        self.src, self.line = src, line
        self.name = self.file = self.why = None
        self.orig = self.repl = None
        self.tests = []

    def where(self):
        return "%s:%d" % (os.path.relpath(self.src, TOP), self.line)


def parse(path):
    """Entries start at '=== NAME'; 'file:', 'why:', 'test:' lines; the
    snippets follow '--- original' and '+++ replacement' verbatim (tabs
    kept) up to the next marker line."""
    entries, cur, block = [], None, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, ln in enumerate(lines, 1):
        if ln.startswith("=== "):
            cur = Entry(path, n)
            cur.name = ln[4:].strip()
            entries.append(cur)
            block = None
            continue
        if cur is None:
            continue
        if ln == "--- original":
            block = "orig"
            cur.orig = []
            continue
        if ln == "+++ replacement":
            block = "repl"
            cur.repl = []
            continue
        if ln == "--- end":
            block = None
            continue
        if block:
            getattr(cur, block).append(ln)
            continue
        m = re.match(r"^(file|why|test):\s*(.*)$", ln)
        if m:
            k, v = m.groups()
            if k == "test":
                cur.tests.append(v)
            else:
                setattr(cur, k, v)
    for e in entries:
        bad = [k for k in ("file", "orig", "repl") if getattr(e, k) is None]
        if bad or not e.tests:
            sys.exit("mutate: %s: entry %r lacks %s; see tests/mutations/README.md"
                     % (e.where(), e.name, ", ".join(bad + ([] if e.tests else ["test"]))))
        e.orig = "\n".join(e.orig)
        e.repl = "\n".join(e.repl)
    return entries


def copy_tree(dst):
    """The files git knows of (tracked and untracked, not ignored) plus the
    build directory, so the first build is incremental."""
    files = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "-co", "--exclude-standard"],
                           check=True, capture_output=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        f = f.decode()
        s = os.path.join(TOP, f)
        if not os.path.lexists(s) or os.path.isdir(s):
            continue
        d = os.path.join(dst, f)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d, follow_symlinks=False)
    if os.path.isdir(os.path.join(TOP, "build")):
        shutil.copytree(os.path.join(TOP, "build"), os.path.join(dst, "build"), symlinks=True)


def sh(cmd, cwd, timeout, log):
    """Runs cmd in its own process group; on timeout the whole group dies.
    Its output goes to the log; a TAP plan of no tests ("1..0": a filter
    that matches nothing) counts as a failure, since it tests nothing."""
    env = dict(os.environ)
    env.setdefault("MPTRACE", os.path.join(cwd, "build/san/mptrace"))
    env.setdefault("MPTRACE_REQUIRE_BPF", "1")
    with open(log, "ab") as out:
        out.write(("\n$ %s\n" % cmd).encode())
        out.flush()
        start = out.tell()
        p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, stdout=out, stderr=out,
                             env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            out.write(b"\nmutate: timed out\n")
            return "timeout"
    with open(log, "rb") as f:
        f.seek(start)
        if re.search(rb"^1\.\.0$", f.read(), re.M):
            return "no test ran"
    return rc


def build(tree, log):
    return sh("make -j2 -s %s $(ls tests/unit/test_*.c | sed 's|tests/unit/|build/unit/|;s|\\.c$||')"
              % " ".join(BUILD_TARGETS), tree, 1800, log)


def run_tests(e, tree, log):
    """None when every test passes, else the first failing command."""
    for t in e.tests:
        rc = sh(t, tree, TEST_TIMEOUT, log)
        if rc != 0:
            return "%s (%s)" % (t, rc if isinstance(rc, str) else "exit %d" % rc)
    return None


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--list", "--keep", "--no-baseline"}
    if unknown or len(args) > 1:
        sys.stderr.write(__doc__)
        return 2
    pat = re.compile(args[0]) if args else None
    entries = []
    for f in sorted(glob.glob(os.path.join(TOP, "tests/mutations/*.txt"))):
        entries += parse(f)
    names = [e.name for e in entries]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        sys.exit("mutate: duplicate names: %s" % ", ".join(dup))
    if pat:
        entries = [e for e in entries if pat.search(e.name)]
    if "--list" in flags:
        for e in entries:
            print("%-40s %s" % (e.name, e.file))
        return 0
    if not entries:
        sys.exit("mutate: no mutation matches")

    tree = tempfile.mkdtemp(prefix="mptrace-mutate.")
    log = os.path.join(tree, "mutate.log")
    keep = "--keep" in flags
    print("mutate: %d mutations; scratch tree %s; log %s" % (len(entries), tree, log), flush=True)
    results = []
    try:
        copy_tree(tree)
        if build(tree, log) != 0:
            print("mutate: the unmutated tree does not build; see %s" % log)
            keep = True
            return 1
        if "--no-baseline" not in flags:
            # a test that fails without any mutation would "kill" everything
            seen = set()
            for e in entries:
                for t in e.tests:
                    if t in seen:
                        continue
                    seen.add(t)
                    rc = sh(t, tree, TEST_TIMEOUT, log)
                    if rc != 0:
                        print("mutate: baseline fails (%s): %s; see %s" % (rc, t, log))
                        keep = True
                        return 1
            print("mutate: baseline passes (%d test commands)" % len(seen), flush=True)
        for e in entries:
            t0 = time.time()
            path = os.path.join(tree, e.file)
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except OSError as err:
                text, res = None, ("stale", "cannot read %s: %s" % (e.file, err.strerror))
            if text is not None:
                n = text.count(e.orig)
                if n != 1:
                    res = ("stale", "original snippet found %d times in %s" % (n, e.file))
                else:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(text.replace(e.orig, e.repl))
                    try:
                        if build(tree, log) != 0:
                            res = ("stale", "does not build when applied")
                        else:
                            why = run_tests(e, tree, log)
                            res = ("killed", why) if why else ("SURVIVED", "every test passed")
                    finally:
                        with open(path, "w", encoding="utf-8") as f:
                            f.write(text)
            results.append((e, res))
            print("  %-8s %-40s %4.0fs  %s" % (res[0], e.name, time.time() - t0, res[1]), flush=True)
    finally:
        if keep:
            print("mutate: scratch tree kept: %s" % tree)
        else:
            shutil.rmtree(tree, ignore_errors=True)
    killed = sum(1 for _, r in results if r[0] == "killed")
    surv = [e.name for e, r in results if r[0] == "SURVIVED"]
    stale = [e.name for e, r in results if r[0] == "stale"]
    print("mutate: score %d/%d killed; %d survived%s; %d stale%s" % (
        killed, len(results), len(surv), (": " + ", ".join(surv)) if surv else "",
        len(stale), (": " + ", ".join(stale)) if stale else ""))
    return 0 if not surv and not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
