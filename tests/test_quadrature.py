"""Tests for the quadrature rules and node-count policies in skprob._quadrature."""

# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.integrate import quad

from skprob._quadrature import (
    MIN_TANH_SINH_NODES,
    argmax_gaussian_nodes,
    exact_legendre_nodes,
    expected_accuracy_nodes,
    gauss_hermite,
    gauss_legendre_unit,
    tanh_sinh_unit,
    training_nodes,
    win_probability,
)


@pytest.mark.parametrize("n_nodes", [10, 16, 32])
def test_gauss_hermite_integrates_normal_moments(n_nodes):
    # E[e^k] for e ~ N(0, 1): (k - 1)!! for even k, 0 for odd k. The rule is
    # exact to degree 2 n - 1; the nodes it drops (weight below 1e-16) move
    # moments up to degree 12 by less than 1e-9 relative.
    nodes, weights = gauss_hermite(n_nodes)
    for k in range(13):
        expected = math.prod(range(k - 1, 0, -2)) if k % 2 == 0 else 0.0
        assert_allclose(weights @ nodes**k, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n_nodes", [1, 3, 8])
def test_gauss_legendre_unit_is_exact_for_polynomials(n_nodes):
    t, log_w = gauss_legendre_unit(n_nodes)
    for k in range(2 * n_nodes):
        assert_allclose(np.exp(log_w) @ t**k, 1.0 / (k + 1), rtol=1e-14)


@pytest.mark.parametrize("power", [-0.5, 0.0, 3.0, 40.0])
def test_tanh_sinh_unit_integrates_end_singularities(power):
    # u^a on (0, 1), singular at 0 for a < 0 and steep for large a: 1 / (a + 1)
    s, log_u, log_v, log_w = tanh_sinh_unit(129)
    assert_allclose(np.exp(log_u) + np.exp(log_v), 1.0, rtol=1e-15)
    assert_allclose(np.exp(log_w + power * log_u).sum(), 1.0 / (power + 1), rtol=1e-9)


def test_win_probability_against_adaptive_quadrature():
    # A = int phi(e) prod_j Phi(u_j + e) de for three rivals
    margins = np.array([[0.5, -0.2, 1.5], [2.0, 2.0, 0.1]])
    value, _ = win_probability(margins, *gauss_hermite(expected_accuracy_nodes(4)))
    for row, got in zip(margins, value):
        expected = quad(
            lambda e: stats.norm.pdf(e) * np.prod(stats.norm.cdf(row + e)),
            -np.inf,
            np.inf,
            epsabs=1e-14,
        )[0]
        assert_allclose(got, expected, atol=1e-6)


def test_node_count_policies():
    # more classes never take fewer nodes, and each use keeps its order:
    # training <= reporting; the tanh-sinh rule never drops below its floor
    for n_classes in (2, 3, 5, 10, 11, 30, 31, 100, 101, 1000):
        assert training_nodes(n_classes) <= expected_accuracy_nodes(n_classes)
        assert argmax_gaussian_nodes(n_classes) >= MIN_TANH_SINH_NODES
        assert 2 * exact_legendre_nodes(n_classes) - 1 >= n_classes - 1
    for policy in (training_nodes, expected_accuracy_nodes, argmax_gaussian_nodes):
        counts = [policy(k) for k in range(2, 300)]
        assert counts == sorted(counts)
    assert exact_legendre_nodes(1) == 1
    assert exact_legendre_nodes(7) == 4
