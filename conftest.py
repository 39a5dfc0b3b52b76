"""Test-session set-up shared by the doctests in skprob/ and the tests in tests/."""

# SPDX-License-Identifier: BSD-3-Clause

import os

# scikit-learn's array-API dispatch refuses to run unless SciPy was imported with
# its own array-API support switched on, and SciPy reads this only at import time.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import importlib.util  # noqa: E402

import pytest  # noqa: E402

# skprob/_dask.py imports dask at the top (skprob imports it only for dask input);
# without dask its doctest collection would fail, so it is left out. The displays'
# doctests plot, so without matplotlib (the optional "plot" extra) they are left
# out too; tests/test_display.py skips itself the same way.
collect_ignore = [
    path
    for path, module in [
        ("skprob/_dask.py", "dask"),
        ("skprob/_display.py", "matplotlib"),
    ]
    if importlib.util.find_spec(module) is None
]


def _cuda_device_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDA driver errors when no device exists
        return False


def pytest_collection_modifyitems(config, items):
    if _cuda_device_available():
        return
    skip_gpu = pytest.mark.skip(reason="CuPy with a CUDA device is not available")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
