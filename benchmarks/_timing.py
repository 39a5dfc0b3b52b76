"""Timing and machine-description helpers shared by the benchmark scripts."""

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
