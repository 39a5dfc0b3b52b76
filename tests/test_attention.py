"""Tests for entropy_invariant_scale and attention."""

# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
from array_api_helpers import NAMESPACE_DTYPES, assert_in_namespace, load_namespace
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import entr, softmax
from sklearn import config_context

from skprob import attention, entropy_invariant_scale
from skprob._backend import to_numpy

LENGTHS = [512, 1024, 2048, 4096, 8192]


def test_scale_formula():
    assert entropy_invariant_scale(512, 64) == 1.0 / 8.0
    assert_allclose(entropy_invariant_scale(8192, 64), 13 / (9 * 8), rtol=1e-15)
    assert_allclose(entropy_invariant_scale(100, 16, n_ref=10), 2 / 4, rtol=1e-15)
    with pytest.raises(ValueError, match="n"):
        entropy_invariant_scale(1, 64)
    with pytest.raises(ValueError, match="d"):
        entropy_invariant_scale(512, 0)


def _mean_row_entropy(Q, K, scale):
    V = np.zeros((K.shape[0], 1))
    _, weights = attention(Q, K, V, scale=scale, return_weights=True)
    return float(np.mean(entr(weights).sum(axis=1)))


def _entropies(query_std, seed):
    # The queries and the first n keys are shared by all lengths (common random
    # numbers), so the ratios between lengths are not swamped by sampling noise.
    rng = np.random.default_rng(seed)
    d = 64
    Q = rng.normal(scale=query_std, size=(512, d))
    K = rng.normal(size=(LENGTHS[-1], d))
    standard = [_mean_row_entropy(Q, K[:n], "standard") for n in LENGTHS]
    invariant = [_mean_row_entropy(Q, K[:n], "entropy_invariant") for n in LENGTHS]
    return np.array(standard), np.array(invariant)


def test_entropy_stays_flat_in_the_peaked_regime():
    # Q ~ N(0, 9), K ~ N(0, 1), d = 64: attention far from uniform.
    standard, invariant = _entropies(query_std=3.0, seed=0)
    assert_allclose(standard[0], invariant[0], rtol=1e-12)  # same scale at 512
    assert np.max(np.abs(invariant / invariant[0] - 1.0)) < 0.05, invariant
    assert standard[-1] / standard[0] > 1.5, standard


def test_near_uniform_regime_entropy_grows_with_both_scales():
    # Q ~ N(0, 1): the documented limitation, measured rather than hidden.
    standard, invariant = _entropies(query_std=1.0, seed=1)
    assert np.all(np.diff(standard) > 0) and np.all(np.diff(invariant) > 0)
    assert invariant[-1] / invariant[0] > 1.2
    assert invariant[-1] < standard[-1]


def test_attention_matches_numpy_reference():
    rng = np.random.default_rng(2)
    Q, K, V = (
        rng.normal(size=(2, 3, 5, 8)),
        rng.normal(size=(2, 3, 7, 8)),
        rng.normal(size=(2, 3, 7, 4)),
    )
    invariant = math.log(7) / (math.log(512) * math.sqrt(8))
    cases = [
        ("standard", 1 / math.sqrt(8)),
        (0.3, 0.3),
        ("entropy_invariant", invariant),
    ]
    for scale, lam in cases:
        weights = softmax(lam * np.einsum("...qd,...kd->...qk", Q, K), axis=-1)
        out, got = attention(Q, K, V, scale=scale, return_weights=True)
        assert_allclose(got, weights, rtol=1e-12)
        assert_allclose(out, np.einsum("...qk,...kv->...qv", weights, V), rtol=1e-12)
        assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-14)


def test_large_scores_do_not_overflow():
    Q = np.array([[1e3, 0.0]])
    K = np.array([[1e3, 0.0], [-1e3, 0.0], [0.0, 1e3]])
    out, weights = attention(Q, K, np.eye(3), scale=1.0, return_weights=True)
    assert_array_equal(weights, [[1.0, 0.0, 0.0]])
    assert_array_equal(out, [[1.0, 0.0, 0.0]])


def test_bad_input():
    good = np.ones((3, 4))
    with pytest.raises(ValueError, match="same last dimension"):
        attention(good, np.ones((3, 5)), good)
    with pytest.raises(ValueError, match="same number of keys"):
        attention(good, good, np.ones((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        attention(np.full((3, 4), np.nan), good, good)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        attention(np.ones(4), good, good)
    with pytest.raises(ValueError, match="scale"):
        attention(good, good, good, scale=-1.0)
    with pytest.raises(TypeError, match="Q must be real"):
        attention(good + 1j, good, good)
    with pytest.raises(ValueError, match="at least one key"):
        attention(good, np.ones((0, 4)), np.ones((0, 4)))
    with pytest.raises(ValueError, match="batch dimensions of Q, K and V"):
        attention(np.ones((2, 3, 4)), np.ones((3, 5, 4)), np.ones((3, 5, 2)))
    with pytest.raises(ValueError, match="d >= 1"):
        attention(np.ones((3, 0)), np.ones((2, 0)), np.ones((2, 4)))


def test_inputs_not_modified():
    rng = np.random.default_rng(3)
    Q, K, V = rng.normal(size=(4, 8)), rng.normal(size=(6, 8)), rng.normal(size=(6, 2))
    copies = [a.copy() for a in (Q, K, V)]
    attention(Q, K, V, scale="entropy_invariant")
    for original, array in zip(copies, (Q, K, V)):
        assert_array_equal(original, array)


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_array_api(namespace, dtype_name):
    xp = load_namespace(namespace)
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=s).astype(dtype_name) for s in ((5, 8), (9, 8), (9, 3))]
    expected = attention(*arrays, scale="entropy_invariant")
    with config_context(array_api_dispatch=True):
        out = attention(*(xp.asarray(a) for a in arrays), scale="entropy_invariant")
    assert_in_namespace(out, xp, dtype_name)
    rtol = 1e-5 if dtype_name == "float32" else 1e-12
    assert_allclose(to_numpy(out), expected, rtol=rtol)


def test_docstring_points_to_the_benchmark_instead_of_quoting_figures():
    # The measured entropies live in benchmarks/RESULTS.md, produced by
    # benchmarks/bench_attention.py; a copy in the docstring went stale.
    doc = entropy_invariant_scale.__doc__
    assert "%" not in doc
    assert "benchmarks/RESULTS.md" in doc and "bench_attention.py" in doc


@pytest.mark.parametrize(
    "Q, K, scale, expected",
    [
        # scores of 1e400: the row goes one-hot on the key that matches best
        ([[1e200, 0.0]], [[1e200, 0.0], [0.0, 1e200]], "standard", [[1.0, 0.0]]),
        ([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0], [0.5, 0.0]], 1e308, [[1, 0, 0]]),
        # ties at the maximum share the weight in the limit
        ([[1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], 1e308, [[0.5, 0.5, 0]]),
        # scores that overflow with a zero scale: uniform, as for finite scores
        ([[1e200, 0.0]], [[1e200, 0.0], [0.0, 1e200]], 0.0, [[0.5, 0.5]]),
    ],
)
def test_overflowing_scores_give_the_limit(Q, K, scale, expected):
    Q, K = np.asarray(Q), np.asarray(K)
    V = np.arange(2.0 * K.shape[0]).reshape(K.shape[0], 2)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, weights = attention(Q, K, V, scale=scale, return_weights=True)
    assert_array_equal(weights, expected)
    assert_allclose(out, np.asarray(expected) @ V, rtol=1e-15)


def test_large_but_finite_scores_keep_the_plain_softmax():
    # Scores of 1e300 stay finite: the plain softmax (one-hot here) runs.
    rng = np.random.default_rng(7)
    Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    _, weights = attention(Q * 1e150, K * 1e150, V, scale=1.0, return_weights=True)
    assert_array_equal(weights, np.eye(5)[np.argmax(Q @ K.T, axis=1)])
