"""Tests for the small network of VAEDensity: layers, backward pass, Adam, schedule."""

# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skprob._mlp import (
    AdamOptimizer,
    PlateauSchedule,
    backward,
    forward,
    glorot_uniform_layers,
)


def _layers(rng, widths):
    return [
        (rng.normal(0, 0.7, (fan_in, fan_out)), rng.normal(0, 0.3, fan_out))
        for fan_in, fan_out in zip(widths[:-1], widths[1:])
    ]


def test_forward_is_the_composition_of_the_layers():
    # written out by hand for two hidden layers
    rng = np.random.default_rng(0)
    (W1, b1), (W2, b2), (W3, b3) = layers = _layers(rng, [3, 5, 4, 2])
    X = rng.standard_normal((6, 3))
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    output, inputs = forward(layers, X, "tanh", np)
    assert_allclose(output, h2 @ W3 + b3, rtol=1e-14)
    assert_allclose(inputs[1], h1, rtol=1e-14)
    relu, _ = forward(layers, X, "relu", np)
    h = np.maximum(np.maximum(X @ W1 + b1, 0) @ W2 + b2, 0)
    assert_allclose(relu, h @ W3 + b3, rtol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("widths", [[3, 5, 4, 2], [3, 2]], ids=["deep", "linear"])
def test_backward_matches_finite_differences(activation, widths):
    # loss = sum(G * output) for a fixed G: d loss / d output = G
    rng = np.random.default_rng(1)
    layers = _layers(rng, widths)
    X = rng.standard_normal((7, widths[0]))
    G = rng.standard_normal((7, widths[-1]))

    def loss(layers, X):
        return float(np.sum(G * forward(layers, X, activation, np)[0]))

    output, inputs = forward(layers, X, activation, np)
    gradients, d_X = backward(layers, inputs, G, activation, np)
    step = 1e-6

    def numeric(array, rebuild):
        result = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            upper, lower = array.copy(), array.copy()
            upper[index] += step
            lower[index] -= step
            result[index] = (loss(*rebuild(upper)) - loss(*rebuild(lower))) / (2 * step)
        return result

    for k, (coef, intercept) in enumerate(layers):

        def with_coef(new, k=k):
            replaced = list(layers)
            replaced[k] = (new, layers[k][1])
            return replaced, X

        def with_intercept(new, k=k):
            replaced = list(layers)
            replaced[k] = (layers[k][0], new)
            return replaced, X

        assert_allclose(gradients[k][0], numeric(coef, with_coef), atol=1e-7)
        assert_allclose(gradients[k][1], numeric(intercept, with_intercept), atol=1e-7)
    assert_allclose(d_X, numeric(X, lambda x: (layers, x)), atol=1e-7)


def test_glorot_uniform_bounds_and_zero_intercepts():
    layers = glorot_uniform_layers(
        np.random.default_rng(0), [50, 30, 2], np, None, np.float32
    )
    for (coef, intercept), (fan_in, fan_out) in zip(layers, [(50, 30), (30, 2)]):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert coef.shape == (fan_in, fan_out) and coef.dtype == np.float32
        assert np.abs(coef).max() <= bound
        # uniform on [-bound, bound]: variance bound^2 / 3 (5 standard errors)
        n = coef.size
        se = bound**2 * math.sqrt(4.0 / 45.0 / n)
        assert abs(coef.var() - bound**2 / 3) < 5 * se
        assert_array_equal(intercept, np.zeros(fan_out, dtype=np.float32))


def test_adam_steps_match_a_hand_computed_update():
    p = [np.array([1.0, -2.0]), np.array([[0.5]])]
    g1 = [np.array([0.1, -0.4]), np.array([[2.0]])]
    g2 = [np.array([-0.3, 0.2]), np.array([[1.0]])]
    p_copy = [a.copy() for a in p]
    adam = AdamOptimizer(p, np)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    # scikit-learn's form of Adam (neural_network/_stochastic_optimizers.py):
    # the bias corrections folded into the step size, so epsilon sits beside
    # sqrt(v) unscaled, i.e. beside sqrt(v_hat) as eps / sqrt(1 - b2^t)
    step1 = adam.step(p, g1, lr)
    # first step: m = (1 - b1) g, v = (1 - b2) g^2, bias-corrected m / sqrt(v)
    # is sign(g), so each parameter moves by lr (up to eps)
    for new, old, g in zip(step1, p, g1):
        m_hat = (1 - b1) * g / (1 - b1)
        v_hat = (1 - b2) * g * g / (1 - b2)
        expected = old - lr * m_hat / (np.sqrt(v_hat) + eps / math.sqrt(1 - b2))
        assert_allclose(new, expected, rtol=1e-12)
        assert_allclose(np.abs(new - old), lr, rtol=1e-5)
    step2 = adam.step(step1, g2, lr)
    for new, old, ga, gb in zip(step2, step1, g1, g2):
        m = b1 * (1 - b1) * ga + (1 - b1) * gb
        v = b2 * (1 - b2) * ga * ga + (1 - b2) * gb * gb
        m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
        expected = old - lr * m_hat / (np.sqrt(v_hat) + eps / math.sqrt(1 - b2**2))
        assert_allclose(new, expected, rtol=1e-12)
    # the parameters passed in are not modified
    for a, b in zip(p, p_copy):
        assert_array_equal(a, b)


def test_plateau_schedule_decays_then_stops():
    schedule = PlateauSchedule(1.0, tol=0.1, patience=2)
    # improvements larger than tol reset the count
    assert [schedule.update(s) for s in (0.0, 1.0, 2.0)] == [False] * 3
    assert schedule.n_bad == 0 and schedule.best == 2.0
    # 2.05 is a new best but not by tol: a bad epoch
    assert schedule.update(2.05) is False and schedule.n_bad == 1
    assert schedule.best == 2.05
    assert schedule.update(1.0) is True  # second bad epoch: first decay
    assert schedule.learning_rate == pytest.approx(0.1) and schedule.n_bad == 0
    assert [schedule.update(0.0) for _ in range(2)] == [False, True]
    assert schedule.learning_rate == pytest.approx(0.01) and not schedule.stopped
    assert [schedule.update(0.0) for _ in range(2)] == [False, False]
    assert schedule.stopped and schedule.learning_rate == pytest.approx(0.01)
