"""skprob/_backend.py: vendored math against SciPy, host transfer across namespaces."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import scipy.special
import scipy.stats
from array_api_helpers import load_namespace
from numpy.testing import assert_allclose, assert_array_equal

from skprob._backend import (
    add_to_diagonal,
    entropy,
    expit,
    is_non_numpy_array,
    is_numpy_namespace,
    log_expit,
    log_ndtr,
    log_or_minus_inf,
    log_zero_as_tiny,
    logsumexp,
    namespace_name,
    softmax,
    to_numpy,
    xlogx,
)

rng = np.random.default_rng(0)
A = rng.normal(scale=30.0, size=(50, 7))


def test_logsumexp_softmax_match_scipy():
    for axis in (0, 1):
        assert_allclose(
            logsumexp(A, axis=axis, xp=np),
            scipy.special.logsumexp(A, axis=axis),
            rtol=1e-13,
        )
        assert_allclose(
            softmax(A, axis=axis, xp=np),
            scipy.special.softmax(A, axis=axis),
            rtol=1e-12,
            atol=1e-300,
        )


def test_logsumexp_all_minus_inf_row_is_minus_inf_without_warning():
    a = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    with np.errstate(all="raise"):
        out = logsumexp(a, axis=1, xp=np)
    assert_array_equal(out, [-np.inf, 0.0])


def test_expit_and_log_expit_match_scipy_far_into_the_tails():
    a = np.linspace(-800, 800, 3201)
    # underflow to 0 is the right answer far out; overflow or NaN would not be
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        expected = scipy.special.expit(a)
        assert_allclose(expit(a, xp=np), expected, rtol=1e-14, atol=1e-300)
        assert_allclose(log_expit(a, xp=np), scipy.special.log_expit(a), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_ndtr_matches_scipy_including_the_left_tail(dtype):
    a = np.linspace(-60, 10, 1401).astype(dtype)
    expected = scipy.special.log_ndtr(a.astype(np.float64))
    # relative accuracy in the left tail, where the log is large; absolute on the
    # right, where log(Phi) -> 0 (the accuracy the docstring states)
    rtol, atol = (1e-12, 3e-14) if dtype == np.float64 else (1e-5, 1e-6)
    assert_allclose(log_ndtr(a, xp=np), expected, rtol=rtol, atol=atol)


def test_entropy_and_xlogx_match_scipy():
    p = rng.dirichlet(np.full(6, 0.3), size=40)
    p[0, :3] = 0.0
    p[0] /= p[0].sum()
    assert_allclose(entropy(p, xp=np), scipy.stats.entropy(p, axis=1), rtol=1e-12)
    assert_allclose(xlogx(p, xp=np), scipy.special.xlogy(p, p), rtol=1e-13)


def test_add_to_diagonal_returns_a_new_matrix():
    m = rng.normal(size=(4, 4))
    before = m.copy()
    out = add_to_diagonal(m, 2.5, xp=np)
    assert_allclose(out, before + 2.5 * np.eye(4))
    assert_array_equal(m, before)


def test_to_numpy_reads_every_kind_of_input():
    assert_array_equal(to_numpy([1, 2, 3]), np.array([1, 2, 3]))
    array = np.arange(3.0)
    assert to_numpy(array) is array
    xp = load_namespace("array_api_strict")
    for device in (xp.Device("CPU_DEVICE"), xp.Device("device1")):
        strict = xp.asarray([1.5, 2.5], device=device)
        host = to_numpy(strict)
        assert type(host) is np.ndarray
        assert_array_equal(host, [1.5, 2.5])


def test_namespace_helpers():
    xp = load_namespace("array_api_strict")
    assert namespace_name(xp) == "array_api_strict"
    assert is_numpy_namespace(np)
    assert not is_numpy_namespace(xp)
    assert is_non_numpy_array(xp.asarray([1.0]))
    assert not is_non_numpy_array(np.array([1.0]))
    assert not is_non_numpy_array([1.0])


def test_log_or_minus_inf_matches_numpy_log_without_warning():
    p = np.array([0.0, 1e-320, 0.25, 1.0])
    with np.errstate(divide="ignore"):
        expected = np.log(p)
    with np.errstate(all="raise"):
        out = log_or_minus_inf(p, xp=np)
    assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_zero_as_tiny_follows_linear_discriminant_analysis(dtype):
    # LinearDiscriminantAnalysis.predict_log_proba adds the smallest normal
    # number to exact zeros and takes the log; subnormals keep their own log.
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    info = np.finfo(dtype)
    subnormal = info.smallest_normal / 4
    p = np.array([0.0, subnormal, 0.25, 1.0, np.nan], dtype=dtype)
    expected = np.log(p + (p == 0) * info.smallest_normal)
    with np.errstate(divide="raise", over="raise", under="raise"):
        out = log_zero_as_tiny(p, xp=np)
    assert out.dtype == dtype
    assert_array_equal(out, expected)
    assert np.isnan(out[-1])
    assert out[1] < np.log(info.smallest_normal)

    class FixedProba(LinearDiscriminantAnalysis):
        def predict_proba(self, X):
            return p[None, :].repeat(len(X), axis=0)

    assert_array_equal(FixedProba().predict_log_proba(np.zeros((2, 1))), [out, out])
