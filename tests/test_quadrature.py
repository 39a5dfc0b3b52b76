"""Tests for the quadrature rules and node-count policies in skprob._quadrature."""

# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from numpy.testing import assert_allclose
from scipy import special, stats
from scipy.integrate import quad

import skprob._quadrature as quadrature_module
from skprob._quadrature import (
    _PIECE_CELLS,
    MIN_TANH_SINH_NODES,
    _log_phi_pieces,
    argmax_gaussian_nodes,
    exact_legendre_nodes,
    expected_accuracy_nodes,
    gauss_hermite,
    gauss_legendre_unit,
    tanh_sinh_unit,
    training_gauss_hermite,
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


@pytest.mark.parametrize("saturation", [8.0, 12.0])
def test_log_phi_pieces_match_scipy_log_ndtr(saturation):
    # The stated bounds of the tabulated pieces, against SciPy at random
    # margins over the whole table, for a Gauss-Hermite group of nodes and for
    # arbitrary nodes: log Phi to 5e-13 absolute (1e-5 relative where it is
    # tiny), phi / Phi to 1e-11 absolute and 1e-8 relative below x = 5.
    rng = np.random.default_rng(0)
    for nodes in (gauss_hermite(32)[0], np.sort(rng.uniform(-10.0, 10.0, 40))):
        values, slopes = _log_phi_pieces(nodes.tobytes(), saturation)
        u = rng.uniform(-saturation, saturation, 20000)
        position = (u + saturation) * _PIECE_CELLS
        cell = np.minimum(position.astype(int), values.shape[0] // 6 - 1)
        powers = (position - cell)[:, None] ** np.arange(6)
        log_phi = np.einsum(
            "pk,pkq->pq", powers, values.reshape(-1, 6, nodes.size)[cell]
        )
        ratio = np.einsum("pk,pkq->pq", powers, slopes.reshape(-1, 6, nodes.size)[cell])
        x = u[:, None] + nodes
        expected = special.log_ndtr(x)
        expected_ratio = np.exp(stats.norm.logpdf(x) - expected)
        assert_allclose(log_phi, expected, rtol=1e-5, atol=5e-13)
        assert_allclose(ratio, expected_ratio, rtol=0, atol=1e-11)
        low = x < 5.0
        assert_allclose(ratio[low], expected_ratio[low], rtol=1e-8, atol=0)


def test_win_probability_blocks_and_skipped_pairs(monkeypatch):
    # Rows of every kind (lost, without pairs, with some pairs skipped) cut
    # into blocks of a few pairs: the same values and gradients as a direct
    # sum of SciPy's log_ndtr over the kept pairs and the nodes.
    monkeypatch.setattr(quadrature_module, "_PAIR_BLOCK", 37)
    rng = np.random.default_rng(3)
    margins = rng.normal(2.0, 5.0, size=(500, 9))
    margins[:20] = 9.0  # no pair below the saturation of 8
    nodes, weights = gauss_hermite(16)
    value, grad = win_probability(margins, nodes, weights, saturation=8.0)
    kept = margins < 8.0
    lost = np.any(margins < -8.0, axis=1)
    x = margins[:, :, None] + nodes
    log_phi = np.where(kept[:, :, None], special.log_ndtr(x), 0.0)
    mass = np.exp(np.sum(log_phi, axis=1)) * weights
    ratio = np.where(kept[:, :, None], np.exp(stats.norm.logpdf(x) - log_phi), 0.0)
    expected = np.where(lost, 0.0, np.sum(mass, axis=1))
    expected[~lost & ~kept.any(axis=1)] = 1.0
    expected_grad = np.where(lost[:, None], 0.0, np.sum(ratio * mass[:, None], axis=2))
    assert 0 < lost.sum() < 400 and np.any(~lost & kept.all(axis=1))
    assert_allclose(value, expected, rtol=1e-11, atol=1e-16)
    assert_allclose(grad, expected_grad, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("n_nodes", [10, 16, 32, 128, 256])
def test_training_rule_moves_a_by_at_most_the_weight_left_out(n_nodes):
    # The weight the training rule leaves out, from NumPy's rule itself, is
    # below 4e-6; A and dA/du move by at most about that much from the full
    # rule (the integrand is in [0, 1], that of dA/du below phi <= 0.4).
    full_nodes, full_weights = hermegauss(n_nodes)
    full_weights = full_weights / math.sqrt(2.0 * math.pi)
    left_out = full_weights[full_weights < 1e-6].sum()
    assert left_out < 4e-6
    nodes, weights = training_gauss_hermite(n_nodes)
    assert nodes.size == np.count_nonzero(full_weights >= 1e-6)
    assert math.fsum(weights) == pytest.approx(1.0, abs=1e-15)
    rng = np.random.default_rng(n_nodes)
    margins = rng.normal(1.0, 2.0, size=(3000, 9))
    value, grad = win_probability(margins, nodes, weights, saturation=8.0)
    full_value, full_grad = win_probability(
        margins, *gauss_hermite(n_nodes), saturation=8.0
    )
    bound = left_out / (1.0 - left_out)
    assert np.abs(value - full_value).max() <= bound + 1e-15
    assert np.abs(grad - full_grad).max() <= bound + 1e-15
