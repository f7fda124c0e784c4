#!/usr/bin/env python3
"""Run one command and print "SECONDS PEAK_KIB EXIT" for it (standard library only).

    python3 bench/measure.py [--timeout S] [--stdout FILE] [--stderr FILE] -- CMD ARGS...

Wall time comes from time.monotonic() around the command. The peak resident set size
comes from `/usr/bin/time -f %M` wrapped around the command: a child forked from Python
inherits Python's own high-water mark (ru_maxrss survives exec), which would put a floor
of ~14 MiB under every figure. Without /usr/bin/time it falls back to os.wait4's
ru_maxrss (and says so on stderr). On timeout the command's process group (started here)
is killed and EXIT is "timeout".
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--stdout", default=os.devnull)
    ap.add_argument("--stderr", default=os.devnull)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="measure-rss.")
        os.close(fd)
        cmd = [GNU_TIME, "-q", "-f", "%M", "-o", rss_file, "--"] + cmd
    else:
        print("measure.py: no /usr/bin/time; peak RSS includes the forked Python", file=sys.stderr)
    try:
        with open(args.stdout, "wb") as out, open(args.stderr, "wb") as err:
            start = time.monotonic()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
            timed_out = False
            try:
                proc.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            elapsed = time.monotonic() - start
        kib = 0
        if rss_file:
            try:
                with open(rss_file) as f:
                    lines = [l for l in f.read().split() if l.isdigit()]
                kib = int(lines[-1]) if lines else 0
            except OSError:
                pass
        else:
            kib = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN).ru_maxrss
    finally:
        if rss_file:
            os.unlink(rss_file)
    rc = proc.returncode
    if timed_out:
        code = "timeout"
    elif rc < 0:
        code = f"signal{-rc}"
    elif rc > 128 and rss_file:
        code = f"signal{rc - 128}"  # /usr/bin/time exits 128+N when the command died of signal N
    else:
        code = str(rc)
    print(f"{elapsed:.3f} {kib} {code}")


if __name__ == "__main__":
    sys.exit(main())
