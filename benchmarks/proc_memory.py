"""Peak memory of a process and every process it forks, sampled from outside.

A render in lanes (``scripts/render_lanes.py``) is several processes: GNU time's max RSS and
``ru_maxrss`` report the largest one only. Pss counts a page that forks share once (split
between them), so the sum of Pss over the tree is what the render holds; the sum of Rss counts
shared pages in each process (an upper bound).
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (a render forks its lanes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _memory_kb(pids: list[int]) -> tuple[int, int]:
    """``(sum of Pss, sum of Rss)`` in kB: Pss counts a page two processes share once, split."""
    pss = rss = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            pass
    return pss, rss


def sample_peak_memory(proc: subprocess.Popen, every_s: float = 0.02) -> tuple[int, int]:
    """Until ``proc`` exits: the largest ``(sum of Pss, sum of Rss)`` over it and its
    descendants, in kB (pipes to it must not fill: give it files, or drain them elsewhere)."""
    peak_pss = peak_rss = 0
    while proc.poll() is None:
        pss, rss = _memory_kb(_descendants(proc.pid))
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(every_s)
    return peak_pss, peak_rss
