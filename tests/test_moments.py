"""Class moments: chunk statistics, exact merges and shifts against direct sums."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skprob._moments import chunk_moments, expand_moments, merge_moments


def _direct(X, y, w, n_classes):
    """Each field of ClassMoments written as a plain weighted sum per class."""
    weights, means, scatters, crosses, products = [], [], [], [], []
    for k in range(n_classes):
        Xk, wk = X[y == k], w[y == k]
        mean = np.average(Xk, axis=0, weights=wk)
        z = Xk - mean
        squares = z * z
        weights.append(wk.sum())
        means.append(mean)
        scatters.append((z * wk[:, None]).T @ z)
        crosses.append((squares * wk[:, None]).T @ z)
        products.append((squares * wk[:, None]).T @ squares)
    return [np.array(a) for a in (weights, means, scatters, crosses, products)]


def _data(n_samples, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n_samples)
    # offsets far from the origin and unequal scales test the shifted sums
    X = rng.normal(size=(n_samples, 4)) * [1.0, 10.0, 0.1, 3.0] + 20.0 * y[:, None]
    return X, y, rng.uniform(0.2, 3.0, size=n_samples)


@pytest.mark.parametrize("n_parts", [2, 5])
def test_merged_chunks_equal_direct_sums(n_parts):
    X, y, w = _data(600, 0)
    parts = [
        chunk_moments(X[rows], y[rows], w[rows], 3, np, higher=True)
        for rows in np.array_split(np.arange(len(y)), n_parts)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merge_moments(merged, part, np)
    for got, expected in zip(merged, _direct(X, y, w, 3)):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-8)


def test_blocked_large_chunk_equals_direct_sums():
    # more rows than one cache-sized block: merged internally
    X, y, w = _data(80_000, 1)
    moments = chunk_moments(X, y, w, 3, np, higher=True)
    for got, expected in zip(moments, _direct(X, y, w, 3)):
        assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_without_higher_moments_they_are_none():
    X, y, w = _data(100, 2)
    moments = chunk_moments(X, y, w, 3, np)
    assert moments.square_cross is None and moments.square_products is None
    assert not moments.has_higher
    merged = merge_moments(moments, moments, np)
    assert merged.square_products is None


def test_expand_places_classes_and_merges_as_no_data():
    X, y, w = _data(300, 3)
    present = y > 0
    # moments over classes {1, 2} only, laid out over {0, 1, 2}
    partial = chunk_moments(X[present], y[present] - 1, w[present], 2, np, higher=True)
    placement = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    expanded = expand_moments(partial, placement)
    assert_allclose(expanded.weights[0], 0.0)
    rest = chunk_moments(X[~present], y[~present], w[~present], 3, np, higher=True)
    merged = merge_moments(expanded, rest, np)
    for got, expected in zip(merged, _direct(X, y, w, 3)):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("scale", [1e-200, 1.0, 1e200])
def test_counts_are_rows_with_positive_weight_whatever_the_weight_scale(scale):
    X, y, w = _data(600, 4)
    w = np.where(np.arange(len(y)) % 4 == 0, 0.0, w) * scale
    expected = np.bincount(y[w > 0], minlength=3)
    parts = [
        chunk_moments(X[rows], y[rows], w[rows], 3, np)
        for rows in np.array_split(np.arange(len(y)), 3)
    ]
    merged = merge_moments(merge_moments(parts[0], parts[1], np), parts[2], np)
    assert_allclose(merged.counts, expected)
    # uniform weights take another branch of the block computation
    uniform = chunk_moments(X, y, np.full(len(y), scale), 3, np)
    assert_allclose(uniform.counts, np.bincount(y, minlength=3))
