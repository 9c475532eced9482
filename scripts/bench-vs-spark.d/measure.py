"""Runs a command and measures its whole process tree from outside.

usage: measure.py OUT.json STDOUT STDERR -- COMMAND [ARGS...]

Writes to OUT.json: wall seconds from launch to exit, the exit code, the CPU
seconds of the tree and the peak of the tree's summed resident memory.

Spark is a tree: the Python driver starts a JVM (through spark-submit), which
starts Python workers for the UDF. Every 0.1 s this reads /proc for every
descendant of the command: its utime + stime (the last value seen is kept for
processes that exit) and its VmRSS (summed over the tree: the peak of that sum
is reported). The kernel's own account of the command (wait4: the command plus
every descendant it reaped, their descendants reaped in turn) is a second
lower bound of the CPU; the larger of the two is reported (the difference is
the CPU of processes that ran less than a sampling period, or that nobody
waited for). For a single process (sentiflow) the kernel's figures are exact.
"""

import json
import os
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def children_map():
    """parent pid -> child pids, for every process."""
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def sample(root, cpu_seen):
    """Summed RSS (bytes) of root's tree; records each process's CPU ticks in cpu_seen."""
    kids = children_map()
    stack, rss, largest = [root], 0, 0
    while stack:
        pid = stack.pop()
        stack.extend(kids.get(pid, []))
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as f:
                resident = int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15; starttime 22.
        key = (pid, fields[19])
        cpu_seen[key] = int(fields[11]) + int(fields[12])
        rss += resident
        largest = max(largest, resident)
    return rss, largest


def main():
    out, stdout, stderr = sys.argv[1:4]
    assert sys.argv[4] == "--", __doc__
    command = sys.argv[5:]
    cpu_seen = {}
    peak, peak_largest = 0, 0
    started = time.monotonic()
    with open(stdout, "wb") as so, open(stderr, "wb") as se:
        child = subprocess.Popen(command, stdout=so, stderr=se)
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            rss, largest = sample(child.pid, cpu_seen)
            peak, peak_largest = max(peak, rss), max(peak_largest, largest)
            time.sleep(0.1)
    wall = time.monotonic() - started
    sampled_cpu = sum(cpu_seen.values()) / TICKS
    kernel_cpu = usage.ru_utime + usage.ru_stime
    # ru_maxrss (KiB) is the largest single process reaped, not a sum.
    peak_largest = max(peak_largest, usage.ru_maxrss * 1024)
    peak = max(peak, peak_largest)
    with open(out, "w") as f:
        json.dump({
            "exit_code": os.waitstatus_to_exitcode(status),
            "wall_seconds": wall,
            "cpu_seconds": max(sampled_cpu, kernel_cpu),
            "cpu_seconds_sampled": sampled_cpu,
            "cpu_seconds_kernel": kernel_cpu,
            "peak_rss_bytes": peak,
            "peak_rss_largest_process_bytes": peak_largest,
        }, f)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
