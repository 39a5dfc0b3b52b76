"""Helpers for running one estimator on NumPy and on other array namespaces."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import clone, config_context

from skprob._backend import get_namespace, namespace_name, to_numpy

# (namespace, dtype) pairs every estimator is checked with. CuPy cases carry the
# `gpu` marker and are skipped by conftest.py where no CUDA device exists.
NAMESPACE_DTYPES = [
    pytest.param("array_api_strict", "float64", id="array_api_strict-float64"),
    pytest.param("array_api_strict", "float32", id="array_api_strict-float32"),
    pytest.param("cupy", "float64", id="cupy-float64", marks=pytest.mark.gpu),
    pytest.param("cupy", "float32", id="cupy-float32", marks=pytest.mark.gpu),
]


def rtol_for(dtype_name):
    """Tolerance for comparing a namespace's result with NumPy's."""
    return 1e-4 if dtype_name == "float32" else 1e-7


def load_namespace(name):
    """Import an array namespace or skip the test when it is missing."""
    xp = pytest.importorskip(name)
    if name == "array_api_strict":
        xp.set_array_api_strict_flags(api_version="2024.12")
    return xp


def to_namespace(xp, array, dtype_name=None, device=None):
    """NumPy array -> array of ``xp`` on ``device`` (labels keep their dtype)."""
    array = np.asarray(array)
    if dtype_name is not None and array.dtype.kind == "f":
        array = array.astype(dtype_name)
    return xp.asarray(array, device=device)


def nondefault_device(xp):
    """A device other than the default one where the namespace has it.

    array_api_strict's ``device1`` cannot exchange data with NumPy, so an
    estimator that drops an array on the default device, or copies through the
    host without moving back, fails there instead of passing by accident.
    """
    if namespace_name(xp) == "array_api_strict":
        return xp.Device("device1")
    return None


def assert_on_device(result, device, what):
    """Assert ``result`` lives on ``device`` (skipped where none was chosen)."""
    if device is not None:
        assert result.device == device, f"{what} is on {result.device}, not {device}"


def assert_in_namespace(result, xp, dtype_name=None):
    """Assert ``result`` is an array of namespace ``xp`` (and of ``dtype_name``)."""
    with config_context(array_api_dispatch=True):
        result_xp, _ = get_namespace(result)
    assert namespace_name(result_xp) == namespace_name(xp), (
        f"expected a {namespace_name(xp)} array, got {type(result)}"
    )
    if dtype_name is not None and "float" in str(result.dtype):
        assert str(result.dtype).endswith(dtype_name), result.dtype


def check_namespace_matches_numpy(
    estimator,
    X,
    y=None,
    *,
    namespace,
    dtype_name,
    methods=("predict_proba",),
    attributes=(),
    rtol=None,
    atol=0.0,
):
    """Fit ``estimator`` on NumPy and on ``namespace``; compare results.

    Returns the fitted array-namespace estimator for further checks.
    """
    xp = load_namespace(namespace)
    rtol = rtol_for(dtype_name) if rtol is None else rtol
    X_np = np.asarray(X, dtype=dtype_name)
    reference = (
        clone(estimator).fit(X_np, y) if y is not None else clone(estimator).fit(X_np)
    )

    device = nondefault_device(xp)
    X_xp = to_namespace(xp, X_np, device=device)
    with config_context(array_api_dispatch=True):
        fitted = clone(estimator)
        if y is not None:
            fitted.fit(X_xp, to_namespace(xp, y, device=device))
        else:
            fitted.fit(X_xp)
        for name in attributes:
            value = getattr(fitted, name)
            assert_in_namespace(value, xp)
            assert_on_device(value, device, f"attribute {name}")
            assert_allclose(
                to_numpy(value),
                np.asarray(getattr(reference, name)),
                rtol=rtol,
                atol=atol,
                err_msg=f"attribute {name} on {namespace}/{dtype_name}",
            )
        for method in methods:
            result = getattr(fitted, method)(X_xp)
            assert_in_namespace(result, xp, dtype_name)
            assert_on_device(result, device, f"{method}()")
            assert_allclose(
                to_numpy(result),
                np.asarray(getattr(reference, method)(X_np)),
                rtol=rtol,
                atol=atol,
                err_msg=f"{method} on {namespace}/{dtype_name}",
            )
    return fitted
