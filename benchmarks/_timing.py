"""Timing, machine description and table printing shared by the benchmark scripts."""

# SPDX-License-Identifier: BSD-3-Clause

import platform
import time

import numpy as np


def best_time(func, repeats=1):
    """Best wall-clock time of ``repeats`` calls and the last return value.

    The minimum, not the mean: on a shared machine the fastest run is the one
    least disturbed by other jobs.
    """
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def cpu_model():
    """The CPU's model name, for the header of a results table."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown_table(header, rows, title=None):
    """A Markdown table (first column left-aligned, the others right-aligned).

    Markdown, so that a run's output pastes into RESULTS.md as it is.
    """
    lines = [] if title is None else [title, ""]
    lines.append("| " + " | ".join(str(h) for h in header) + " |")
    lines.append(
        "| "
        + " | ".join("---" if i == 0 else "---:" for i in range(len(header)))
        + " |"
    )
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
