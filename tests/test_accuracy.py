"""Tests for AccuracyOptimizedLinear and expected_accuracy (EXACT)."""

# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings

import numpy as np
import pytest
from array_api_helpers import NAMESPACE_DTYPES, check_namespace_matches_numpy
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, special, stats
from scipy.optimize import minimize_scalar
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils import shuffle

import skprob._accuracy as accuracy_module
from skprob import (
    AccuracyOptimizedLinear,
    AnalyticLogisticRegression,
    argmax_probabilities,
    expected_accuracy,
)
from skprob._accuracy import (
    _NEGLIGIBLE_MARGIN,
    _fit_n_nodes,
    _gauss_hermite,
    _holdout_rows,
    _kept_rows,
    _merge,
    _Objective,
    _quadrature,
)

THREE_X = np.array([[-0.25], [0.0], [0.25]])
THREE_Y = np.array([0, 0, 1])


def _integrand_reference(margins):
    """A = int phi(e) prod_j Phi(u_j + e) de by adaptive integration (SciPy)."""

    def f(e):
        return stats.norm.pdf(e) * np.exp(np.sum(stats.norm.logcdf(margins + e)))

    value, _ = integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)
    return value


def noisy_outliers(n_samples=1000, n_classes=3, distance=3.0, seed=0):
    """3 Gaussian classes, 5% of labels flipped, 5% far outliers of class 1.

    The outliers form a tight cluster ``distance`` times the data's RMS radius
    beyond the mean of class 0, on the side away from class 1, and carry label
    1: a convex loss lets them pull the boundary, a bounded one does not.
    """
    rng = np.random.default_rng(seed)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=5,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=1.0,
        flip_y=0,
        random_state=seed,
    )
    flipped = rng.choice(n_samples, n_samples // 20, replace=False)
    y[flipped] = (y[flipped] + rng.integers(1, n_classes, flipped.size)) % n_classes
    m0, m1 = X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)
    direction = (m0 - m1) / np.linalg.norm(m0 - m1)
    radius = np.sqrt(X.var(axis=0).sum())
    n_out = n_samples // 20
    cluster = m0 + distance * radius * direction
    cluster = cluster + 0.1 * radius / np.sqrt(10) * rng.normal(size=(n_out, 10))
    X = np.vstack([X, cluster])
    y = np.concatenate([y, np.ones(n_out, dtype=y.dtype)])
    return shuffle(X, y, random_state=seed)


# --- the paper's three-point example ---------------------------------------


def test_three_point_example_all_correct_where_convex_losses_fail():
    assert LogisticRegression().fit(THREE_X, THREE_Y).score(THREE_X, THREE_Y) == 2 / 3
    assert LinearSVC().fit(THREE_X, THREE_Y).score(THREE_X, THREE_Y) == 2 / 3
    clf = AccuracyOptimizedLinear().fit(THREE_X, THREE_Y)
    assert clf.score(THREE_X, THREE_Y) == 1.0
    threshold = -clf.intercept_[0] / clf.coef_[0, 0]
    assert 0.0 < threshold < 0.25


@pytest.mark.parametrize(
    "params",
    [
        {"init": "analytic"},
        # LogisticRegression and the ascent direction put all three points on
        # one side; the smoothing stage at sigma=2 finds the basin that a
        # single stage at sigma=0.2 cannot see from there
        {"init": "logistic", "n_stages": 2},
        {"init": "zeros", "n_stages": 2},
    ],
)
def test_three_point_example_every_init(params):
    clf = AccuracyOptimizedLinear(**params).fit(THREE_X, THREE_Y)
    assert_array_equal(clf.predict(THREE_X), THREE_Y)


@pytest.mark.parametrize("sigma", [0.02, 0.05, 0.1])
def test_three_point_expected_accuracy_maximised_between_points(sigma):
    # slope fixed at 1: f(x) = x - b; the maximiser of the expected accuracy
    # over the threshold b lies strictly between the points 0 and 0.25
    x, y = THREE_X[:, 0], THREE_Y

    def negative(b):
        return -expected_accuracy(x - b, y, sigma)

    best = minimize_scalar(
        negative, bounds=(-1.0, 1.0), method="bounded", options={"xatol": 1e-10}
    ).x
    assert 0.0 < best < 0.25
    # independent closed form: mean of Phi(+-(x - b) / (sigma sqrt 2))
    signs = np.where(y == 1, 1.0, -1.0)

    def closed(b):
        return -np.mean(stats.norm.cdf(signs * (x - b) / (sigma * math.sqrt(2))))

    reference = minimize_scalar(
        closed, bounds=(-1.0, 1.0), method="bounded", options={"xatol": 1e-10}
    ).x
    assert best == pytest.approx(reference, abs=1e-6)
    assert -negative(best) > 2 / 3 + 0.1


# --- the integral -------------------------------------------------------------


def test_binary_quadrature_matches_closed_form():
    u = np.linspace(-38.0, 38.0, 3001)[:, None]
    value, grad = _quadrature(u, *_gauss_hermite(32))
    assert_allclose(value, stats.norm.cdf(u[:, 0] / math.sqrt(2)), rtol=0, atol=1e-12)
    assert_allclose(
        grad[:, 0],
        stats.norm.pdf(u[:, 0] / math.sqrt(2)) / math.sqrt(2),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("n_nodes", [10, 16, 32, 256])
def test_quadrature_table_matches_scipy_log_ndtr(n_nodes):
    # The quadrature reads log Phi and phi / Phi from a table; the reference
    # sums SciPy's log_ndtr over the same nodes, margins over the whole range
    # where rows are not skipped (u + e from -20.5 to 20.5).
    rng = np.random.default_rng(0)
    u = rng.uniform(-_NEGLIGIBLE_MARGIN, _NEGLIGIBLE_MARGIN, size=(4000, 3))
    u[:1000] = rng.normal(2.0, 1.0, size=(1000, 3))
    nodes, weights = _gauss_hermite(n_nodes)
    x = u[:, :, None] + nodes
    log_phi = special.log_ndtr(x)
    mass = np.exp(np.sum(log_phi, axis=1)) * weights
    ratio = np.exp(stats.norm.logpdf(x) - log_phi)
    value, grad = _quadrature(u, nodes, weights)
    assert_allclose(value, np.sum(mass, axis=1), rtol=1e-11, atol=1e-16)
    assert_allclose(
        grad, np.sum(ratio * mass[:, None, :], axis=2), rtol=1e-9, atol=1e-15
    )
    kept = np.all(u < _NEGLIGIBLE_MARGIN, axis=1) & (value > 1e-3)
    assert kept.sum() > 500


def test_expected_accuracy_binary_closed_form():
    rng = np.random.default_rng(1)
    d = rng.normal(scale=3.0, size=200)
    y = rng.integers(0, 2, size=200)
    sigma = 0.7
    signs = np.where(y == 1, 1.0, -1.0)
    reference = np.mean(stats.norm.cdf(signs * d / (sigma * math.sqrt(2))))
    assert expected_accuracy(d, y, sigma) == pytest.approx(reference, abs=1e-12)
    # two columns with an arbitrary common shift: the same quantity
    two = np.stack([np.full_like(d, 5.0), d + 5.0], axis=1)
    assert expected_accuracy(two, y, sigma) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("n_classes", [3, 10, 30])
def test_quadrature_matches_adaptive_integration(n_classes):
    rng = np.random.default_rng(n_classes)
    margins = rng.normal(loc=1.0, scale=2.0, size=(12, n_classes - 1))
    margins[0] = 0.0  # all tied
    margins[1] = -3.0  # the true class far behind
    reference = np.array([_integrand_reference(row) for row in margins])
    scores = np.concatenate([np.zeros((12, 1)), -margins], axis=1)
    value = np.array(
        [expected_accuracy(scores[i : i + 1], [0], 1.0) for i in range(12)]
    )
    # default n_nodes promise an error below about 1e-6
    assert_allclose(value, reference, rtol=0, atol=1e-6)
    # all tied: the true class wins with probability 1/K
    assert value[0] == pytest.approx(1.0 / n_classes, abs=1e-7)


def test_quadrature_rows_with_a_hopeless_margin_are_zero():
    # A row with a margin below -12 is skipped and set to A = 0, dA/du = 0;
    # adaptive integration (and the bound A <= Phi(u / sqrt(2))) must agree.
    rng = np.random.default_rng(7)
    margins = rng.normal(loc=1.0, scale=2.0, size=(6, 4))
    margins[:, 0] = [-12.5, -13.0, -15.0, -20.0, -11.5, -3.0]
    nodes, weights = _gauss_hermite(32)
    value, grad = _quadrature(margins, nodes, weights)
    reference = np.array([_integrand_reference(row) for row in margins])
    assert_array_equal(value[:4], 0.0)
    assert_array_equal(grad[:4], 0.0)
    assert np.all(reference[:4] < stats.norm.cdf(-12.5 / math.sqrt(2)))
    assert np.all(reference[:4] < 1e-17)
    # rows just above the threshold are still integrated
    assert value[4] > 0
    assert_allclose(value, reference, rtol=1e-6, atol=1e-16)
    # the gradient of a skipped row is below phi(u / sqrt(2)) / sqrt(2)
    step = 1e-3
    shifted = margins[:4].copy()
    shifted[:, 0] += step
    slope = (
        np.array([_integrand_reference(row) for row in shifted]) - reference[:4]
    ) / step
    assert np.all(np.abs(slope) < 1e-16)


def test_expected_accuracy_matches_monte_carlo():
    rng = np.random.default_rng(2)
    scores = rng.normal(scale=1.5, size=(6, 4))
    y = np.array([0, 1, 2, 3, 0, 1])
    sigma = 0.8
    n_draws = 10**6
    for i in range(scores.shape[0]):
        noisy = scores[i] + sigma * rng.standard_normal((n_draws, 4))
        p_hat = np.mean(np.argmax(noisy, axis=1) == y[i])
        standard_error = math.sqrt(p_hat * (1 - p_hat) / n_draws)
        value = expected_accuracy(scores[i : i + 1], y[i : i + 1], sigma)
        assert abs(value - p_hat) < 4 * standard_error


def test_sigma_to_zero_gives_training_accuracy():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(500, 5))
    y = rng.integers(0, 5, size=500)
    correct = np.argmax(scores, axis=1) == y
    accuracy = np.mean(correct)
    sigmas = [1.0, 0.3, 0.1, 0.03, 0.01]
    # on correctly classified rows the noise can only cost accuracy, and less
    # so the smaller it is: the mean rises monotonically towards 1
    on_correct = [expected_accuracy(scores[correct], y[correct], s) for s in sigmas]
    assert np.all(np.diff(on_correct) > 0) and on_correct[-1] < 1.0
    assert abs(expected_accuracy(scores, y, 0.01) - accuracy) < 0.01
    # below the smallest score gap every margin is many sigmas wide
    gap = np.min(np.abs(np.diff(np.sort(scores, axis=1), axis=1)))
    assert expected_accuracy(scores, y, gap / 20) == pytest.approx(accuracy, abs=1e-9)


def test_expected_accuracy_sample_weight_is_repetition():
    rng = np.random.default_rng(4)
    scores = rng.normal(size=(30, 3))
    y = rng.integers(0, 3, size=30)
    counts = rng.integers(0, 4, size=30)
    repeated = expected_accuracy(
        np.repeat(scores, counts, axis=0), np.repeat(y, counts), 0.5
    )
    weighted = expected_accuracy(scores, y, 0.5, sample_weight=counts)
    assert weighted == pytest.approx(repeated, abs=1e-14)


# --- the objective's gradient -------------------------------------------------


def _five_point(f, step=1e-3):
    """Fourth-order central difference f'(0): error ~ step^4, rounding ~ 1e-13."""
    return (f(-2 * step) - 8 * f(-step) + 8 * f(step) - f(2 * step)) / (12 * step)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("margin", [None, 1.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("equal_weights", [False, True])
def test_gradient_matches_finite_differences(
    n_classes, margin, fit_intercept, equal_weights
):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(60, 4))
    y = rng.integers(0, n_classes, size=60)
    # equal weights take the partition path of the spread
    weights = np.ones(60) if equal_weights else rng.uniform(0.5, 2.0, size=60)
    objective = _Objective(
        X,
        y,
        weights,
        n_classes,
        fit_intercept=fit_intercept,
        alpha=0.05,
        margin=margin,
        n_nodes=32,
        saturation=_NEGLIGIBLE_MARGIN,
    )
    n_rows = 1 if n_classes == 2 else n_classes
    theta = rng.normal(size=n_rows * 4 + (n_rows if fit_intercept else 0))
    _, grad = objective(theta, 0.7)
    # a small step: the spread's gradient jumps where two rows swap places at
    # a quartile, and a step of 1e-3 crosses such points
    numeric = np.array(
        [
            _five_point(lambda t: objective(theta + t * e, 0.7)[0], step=1e-4)
            for e in np.eye(theta.size)
        ]
    )
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8 * np.abs(grad).max())
    # the value alone (used to pick a start), penalty included
    assert objective(theta, 0.7, gradient=False) == pytest.approx(
        objective(theta, 0.7)[0], rel=1e-12
    )


def test_quadrature_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    u = rng.normal(loc=1.0, scale=2.0, size=(20, 6))
    nodes, weights = _gauss_hermite(32)
    _, grad = _quadrature(u, nodes, weights)
    for j in range(6):
        shift = np.eye(6)[j]
        numeric = _five_point(
            lambda t: _quadrature(u + t * shift, nodes, weights, gradient=False)[0]
        )
        assert_allclose(grad[:, j], numeric, rtol=1e-6, atol=1e-12)


def test_objective_is_scale_invariant():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3))
    y = rng.integers(0, 3, size=40)
    objective = _Objective(
        X, y, np.ones(40), 3, fit_intercept=True, alpha=0.1, margin=None, n_nodes=32
    )
    theta = rng.normal(size=12)
    value, grad = objective(theta, 0.5)
    value_scaled, grad_scaled = objective(7.0 * theta, 0.5)
    assert value_scaled == pytest.approx(value, abs=1e-13)
    assert_allclose(7.0 * grad_scaled, grad, rtol=1e-10, atol=1e-14)
    # Euler: the gradient has no component along theta
    assert abs(grad @ theta) < 1e-12 * np.linalg.norm(grad) * np.linalg.norm(theta)


# --- the estimator -------------------------------------------------------------


def test_predict_proba_of_true_class_is_the_expected_accuracy():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # without calibration, predict_proba uses the training noise level
    clf = AccuracyOptimizedLinear(calibration=None).fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    # argmax_probabilities (tanh-sinh rule) against this module's Gauss-Hermite
    assert np.mean(proba[np.arange(len(y)), y]) == pytest.approx(
        clf.expected_accuracy(X, y), abs=1e-6
    )
    assert_array_equal(
        np.argmax(proba, axis=1), np.argmax(clf.decision_function(X), axis=1)
    )


def test_binary_predict_proba_closed_form():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # Gaussian noise: Phi(d / (sigma sqrt 2)); Gumbel: the logistic sigmoid of
    # d / scale; then mixed with sigmoid(d / 100) by the smoothing weight
    for calibration in (None, "holdout"):
        clf = AccuracyOptimizedLinear(calibration=calibration).fit(X, y)
        d = clf.decision_function(X)
        if clf.noise_proba_ == "gaussian":
            expected = stats.norm.cdf(d / (clf.sigma_proba_ * math.sqrt(2)))
        else:
            expected = special.expit(d / clf.sigma_proba_)
        eps = clf.smoothing_proba_
        expected = (1 - eps) * expected + eps * special.expit(d / 100.0)
        assert_allclose(clf.predict_proba(X)[:, 1], expected, rtol=1e-9, atol=1e-12)
        assert_array_equal(clf.predict(X), (d > 0).astype(int))


def _interquartile_spread(scores):
    """sqrt of the mean of |T_i|^2 / K over the middle half of the rows.

    Needs a number of rows divisible by 4, so that the middle half is whole rows.
    """
    if scores.ndim == 1:
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    centred = scores - scores.mean(axis=1, keepdims=True)
    squares = np.sort(np.mean(centred**2, axis=1))
    n = squares.shape[0]
    assert n % 4 == 0
    return np.sqrt(np.mean(squares[n // 4 : 3 * n // 4]))


def _unit_spread(scores):
    if scores.ndim == 1:
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    return scores / _interquartile_spread(scores)


def test_decision_function_has_unit_spread_on_training_data():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:176]
    scores = AccuracyOptimizedLinear().fit(X, y[:176]).decision_function(X)
    assert _interquartile_spread(scores) == pytest.approx(1.0, rel=1e-10)


def test_spread_is_the_interquartile_mean_of_the_row_spreads():
    # integer weights against repeated rows (a total divisible by 4)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(41, 3))
    y = rng.integers(0, 4, size=41)
    counts = rng.integers(1, 4, size=41)
    counts[0] += (-counts.sum()) % 4
    objective = _Objective(
        X,
        y,
        counts.astype(float),
        4,
        fit_intercept=True,
        alpha=0.0,
        margin=None,
        n_nodes=16,
    )
    theta = rng.normal(size=16)
    coef, intercept = theta[:12].reshape(4, 3), theta[12:]
    scores = X @ coef.T + intercept
    assert objective.spread(theta) == pytest.approx(
        _interquartile_spread(np.repeat(scores, counts, axis=0)), rel=1e-12
    )
    # a quarter of the rows, however far, leaves it unchanged
    far = X.copy()
    far[np.argsort(-np.abs(scores).max(axis=1))[:5]] *= 1e6
    assert _Objective(
        far,
        y,
        counts.astype(float),
        4,
        fit_intercept=True,
        alpha=0.0,
        margin=None,
        n_nodes=16,
    ).spread(theta) == pytest.approx(objective.spread(theta), rel=1e-12)


@pytest.mark.parametrize("n_samples", [1, 2, 3, 40, 41, 42, 43])
@pytest.mark.parametrize("weight", [1.0, 2.5])
def test_spread_with_equal_weights_is_the_interquartile_mean(n_samples, weight):
    # Equal weights take the partition path: every row repeated 4 times makes
    # the middle half whole rows for the reference, with the same band; the
    # gradient weights of the rows match those of the sorting path.
    rng = np.random.default_rng(n_samples)
    X = rng.normal(size=(n_samples, 3))
    y = rng.integers(0, 4, size=n_samples)
    objective = _Objective(
        X,
        y,
        np.full(n_samples, weight),
        4,
        fit_intercept=True,
        alpha=0.0,
        margin=None,
        n_nodes=16,
    )
    assert objective.equal_weights
    theta = rng.normal(size=16)
    coef, intercept = theta[:12].reshape(4, 3), theta[12:]
    scores = X @ coef.T + intercept
    assert objective.spread(theta) == pytest.approx(
        _interquartile_spread(np.repeat(scores, 4, axis=0)), rel=1e-12
    )
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread, row_weights = objective._spread(centred)
    objective.equal_weights = False
    sorted_spread, sorted_row_weights = objective._spread(centred)
    assert spread == pytest.approx(sorted_spread, rel=1e-14)
    assert_allclose(row_weights, sorted_row_weights, rtol=0, atol=1e-15)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_analytic_starts_match_analytic_fits_on_the_same_rows(
    n_classes, fit_intercept, monkeypatch
):
    # One moments pass split into three groups (held out, the kept subset, the
    # other kept rows) and merged gives the closed forms that
    # AnalyticLogisticRegression fits on the kept subset and on all rows.
    monkeypatch.setattr(accuracy_module, "_COARSE_ROWS", 100)
    X, y = make_classification(
        600, 6, n_informative=4, n_classes=n_classes, random_state=n_classes
    )
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=600)
    clf = AccuracyOptimizedLinear(fit_intercept=fit_intercept)
    group, held_out, kept = clf._split(X, y, weights, n_classes)
    assert_array_equal(held_out, _holdout_rows(X, y, weights, n_classes))
    assert_array_equal(kept, _kept_rows(held_out, y, weights, n_classes))
    assert 50 < kept.shape[0] < np.count_nonzero(~held_out)
    parts = clf._grouped_moments(X, group, y, weights, n_classes)
    kept_start = clf._closed_form(X, y, weights, n_classes, kept, parts[2])
    start = clf._closed_form(X, y, weights, n_classes, slice(None), _merge(parts))
    for model, rows in [(kept_start, kept), (start, slice(None))]:
        reference = AnalyticLogisticRegression(fit_intercept=fit_intercept).fit(
            X[rows], y[rows], sample_weight=weights[rows]
        )
        assert_allclose(model.coef, reference.coef_, rtol=1e-9, atol=1e-12)
        assert_allclose(model.intercept, reference.intercept_, rtol=1e-9, atol=1e-12)


def size_confounded(n_samples=200, n_features=5, seed=0):
    """Two classes apart only along a low-variance direction (like MASS/crabs).

    One large shared "size" factor drives every feature; the classes differ by
    a small contrast between features. The analytic start separates them; a
    ridge-like penalty or a large noise level favours the size direction.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    size = rng.normal(size=n_samples)
    loadings = np.linspace(1.0, 2.0, n_features)
    contrast = np.where(np.arange(n_features) % 2 == 0, 1.0, -1.0)
    X = (
        size[:, None] * loadings
        + 0.05 * rng.normal(size=(n_samples, n_features))
        + 0.15 * np.outer(2 * y - 1, contrast)
    )
    return StandardScaler().fit_transform(X), y


def _many_classes():
    X, y = make_classification(
        n_samples=600,
        n_features=12,
        n_informative=8,
        n_classes=12,
        n_clusters_per_class=1,
        random_state=0,
    )
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    "data",
    [
        size_confounded,
        _many_classes,
        # 1796 rows: the independent spread needs a multiple of 4
        lambda: (
            StandardScaler().fit_transform(load_digits().data[:1796]),
            load_digits().target[:1796],
        ),
    ],
)
@pytest.mark.parametrize(
    "params", [{}, {"n_stages": 3, "sigma_init": 2.0}, {"sigma_final": 0.05}]
)
def test_fit_never_ends_below_its_start(data, params):
    # The training expected accuracy at sigma_final of the analytic start
    # (normalised the same way), computed independently of the fit.
    X, y = data()
    clf = AccuracyOptimizedLinear(calibration=None, **params).fit(X, y)
    start = AnalyticLogisticRegression().fit(X, y).decision_function(X)
    before = expected_accuracy(_unit_spread(start), y, clf.sigma_)
    # the fit's quadrature (16 nodes, pairs beyond 8 sigma skipped) is within
    # 1e-5 of the one expected_accuracy uses
    assert clf.expected_accuracy(X, y) >= before - 1e-5


def test_size_confounded_data_stays_separated():
    # Regression: with the former defaults (alpha=0.01, a first stage at
    # sigma=2) the fit left the separating start for the size direction
    # (training accuracy 0.985, expected accuracy 0.977 instead of 1.0).
    X, y = size_confounded()
    assert AnalyticLogisticRegression().fit(X, y).score(X, y) == 1.0
    clf = AccuracyOptimizedLinear().fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.expected_accuracy(X, y) > 1 - 1e-6


def test_affine_feature_transform_gives_same_classifier_without_penalty():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Z = 3.0 * X + 1.0
    # exact at the level of the objective: W' = W / 3, b' = b - W' 1
    rng = np.random.default_rng(8)
    coef, intercept = rng.normal(size=(3, 4)), rng.normal(size=3)
    coef_z = coef / 3.0
    intercept_z = intercept - coef_z.sum(axis=1)
    on_x = _Objective(
        X, y, np.ones(150), 3, fit_intercept=True, alpha=0.0, margin=None, n_nodes=32
    )
    on_z = _Objective(
        Z, y, np.ones(150), 3, fit_intercept=True, alpha=0.0, margin=None, n_nodes=32
    )
    value_x = on_x(np.concatenate([coef.ravel(), intercept]), 0.3)[0]
    value_z = on_z(np.concatenate([coef_z.ravel(), intercept_z]), 0.3)[0]
    assert value_z == pytest.approx(value_x, abs=1e-13)
    # the fits agree to the optimiser's tolerance (L-BFGS is not affine
    # invariant); trained without selection, whose likelihood candidate has an
    # L2 penalty that depends on the units
    a = AccuracyOptimizedLinear(alpha=0.0, tol=1e-8, selection=None).fit(X, y)
    b = AccuracyOptimizedLinear(alpha=0.0, tol=1e-8, selection=None).fit(Z, y)
    assert_array_equal(b.predict(Z), a.predict(X))
    assert b.expected_accuracy(Z, y) == pytest.approx(
        a.expected_accuracy(X, y), abs=1e-4
    )


def test_sample_weight_equals_repetition():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    counts = np.random.default_rng(7).integers(1, 3, size=len(y))
    # a tight tolerance: the two runs agree only as far as L-BFGS converges
    weighted = AccuracyOptimizedLinear(tol=1e-8).fit(X, y, sample_weight=counts)
    repeated = AccuracyOptimizedLinear(tol=1e-8).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-5, atol=1e-6)


def test_string_labels_and_expected_accuracy_method():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = AccuracyOptimizedLinear().fit(X, names)
    assert set(clf.predict(X)) <= set(names)
    ours = clf.expected_accuracy(X, names)
    assert ours == pytest.approx(
        expected_accuracy(clf.decision_function(X), y, clf.sigma_), abs=1e-15
    )
    with pytest.raises(ValueError, match="not in classes"):
        clf.expected_accuracy(X[:2], ["setosa", "rose"])


def test_float32_input():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf64 = AccuracyOptimizedLinear().fit(X, y)
    clf32 = AccuracyOptimizedLinear().fit(X.astype(np.float32), y)
    assert clf32.coef_.dtype == np.float32
    assert clf32.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert clf32.decision_function(X.astype(np.float32)).dtype == np.float32
    assert_allclose(clf32.coef_, clf64.coef_, rtol=1e-3, atol=1e-3)
    assert np.mean(clf32.predict(X) == clf64.predict(X)) >= 0.99


def test_inputs_not_modified():
    X, y = load_wine(return_X_y=True)
    w = np.linspace(0.5, 1.5, len(y))
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    clf = AccuracyOptimizedLinear(n_stages=2).fit(X, y, sample_weight=w)
    clf.predict_proba(X)
    clf.expected_accuracy(X, y, sample_weight=w)
    assert_array_equal(X, X0)
    assert_array_equal(y, y0)
    assert_array_equal(w, w0)


def test_convergence_warning():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        AccuracyOptimizedLinear(n_stages=1, max_iter=2, selection=None).fit(
            X[:300], y[:300]
        )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_n_iter_per_stage():
    X, y = load_iris(return_X_y=True)
    clf = AccuracyOptimizedLinear(n_stages=3, max_iter=7, selection=None).fit(X, y)
    assert clf.n_iter_.shape == (3,)
    # every stage moves from the raw features' analytic start, within max_iter
    assert np.all((clf.n_iter_ >= 1) & (clf.n_iter_ <= 7))


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sigma_init": 0.0}, "sigma_init"),
        ({"sigma_final": -1.0}, "sigma_final"),
        ({"sigma_final": 3.0, "n_stages": 2}, "must not exceed sigma_init"),
        ({"n_stages": 0}, "n_stages"),
        ({"alpha": -0.1}, "alpha"),
        ({"margin": 0.0}, "margin"),
        ({"init": "random"}, "init"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AccuracyOptimizedLinear(**params).fit(THREE_X, THREE_Y)


def test_bad_data():
    X = THREE_X.copy()
    X[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AccuracyOptimizedLinear().fit(X, THREE_Y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        AccuracyOptimizedLinear().fit(THREE_X, [1, 1, 1])
    clf = AccuracyOptimizedLinear().fit(THREE_X, THREE_Y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((2, 3)))


def test_expected_accuracy_bad_input():
    scores = np.zeros((3, 2))
    with pytest.raises(ValueError, match="sigma"):
        expected_accuracy(scores, [0, 1, 0], 0.0)
    with pytest.raises(ValueError, match="sigma"):
        expected_accuracy(scores, [0, 1, 0], -1.0)
    with pytest.raises(ValueError, match="NaN"):
        expected_accuracy(np.array([[np.nan, 0.0]]), [0], 1.0)
    with pytest.raises(ValueError, match="class indices"):
        expected_accuracy(scores, [0, 2, 0], 1.0)
    with pytest.raises(TypeError, match="integer class indices"):
        expected_accuracy(scores, [0.5, 1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="shape"):
        expected_accuracy(scores, [0, 1], 1.0)


# --- held-out accuracy ------------------------------------------------------------


def test_cross_validated_accuracy_at_least_logistic_regression():
    datasets = [
        load_digits(return_X_y=True),
        load_breast_cancer(return_X_y=True),
        load_wine(return_X_y=True),
        load_iris(return_X_y=True),
        noisy_outliers(),
    ]
    ours, logistic = [], []
    for X, y in datasets:
        for model, out in [
            (AccuracyOptimizedLinear(), ours),
            (LogisticRegression(max_iter=1000), logistic),
        ]:
            out.append(
                cross_val_score(
                    make_pipeline(StandardScaler(), model), X, y, cv=5
                ).mean()
            )
    assert np.mean(ours) >= np.mean(logistic)
    # the outliers: a bounded objective is not pulled by them
    assert ours[-1] > logistic[-1] + 0.05


# --- array API ----------------------------------------------------------------------


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_array_api(namespace, dtype_name):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_namespace_matches_numpy(
            AccuracyOptimizedLinear(n_stages=2),
            X,
            y,
            namespace=namespace,
            dtype_name=dtype_name,
            methods=("predict_proba", "decision_function", "predict"),
            attributes=("coef_", "intercept_", "classes_"),
        )


# --- calibration -------------------------------------------------------------------


def test_calibration_does_not_change_predictions():
    X, y = noisy_outliers()
    X = StandardScaler().fit_transform(X)
    calibrated = AccuracyOptimizedLinear().fit(X, y)
    plain = AccuracyOptimizedLinear(calibration=None).fit(X, y)
    assert_array_equal(calibrated.coef_, plain.coef_)
    assert_array_equal(calibrated.intercept_, plain.intercept_)
    assert_array_equal(calibrated.predict(X), plain.predict(X))
    proba = calibrated.predict_proba(X)
    assert_array_equal(calibrated.classes_[np.argmax(proba, axis=1)], plain.predict(X))
    assert plain.sigma_proba_ == plain.sigma_ == 0.2
    assert plain.noise_proba_ == "gaussian" and plain.smoothing_proba_ == 0.0
    # the argmax model of the calibrated family and scale, mixed with weight
    # at least 0.5 / (held-out rows + classes) with the softmax of the scores / 100
    n_held_out = np.count_nonzero(_holdout_rows(X, y, np.ones(len(y)), 3))
    epsilon = calibrated.smoothing_proba_
    assert 0.5 / (n_held_out + 3) * (1 - 1e-12) <= epsilon <= 0.9
    scores = calibrated.decision_function(X)
    noisy = argmax_probabilities(
        scores, calibrated.noise_proba_, scale=calibrated.sigma_proba_
    )
    flat = special.softmax(scores / 100.0, axis=1)
    assert_allclose(proba, (1 - epsilon) * noisy + epsilon * flat, rtol=1e-12)


@pytest.mark.parametrize("flip_y, seed", [(0.0, 0), (0.05, 0), (0.2, 1)])
def test_calibrated_log_loss_close_to_logistic_regression(flip_y, seed):
    # Held-out log-loss by scikit-learn's metric: the training noise level is
    # far too confident; the calibrated model is within 15% of
    # LogisticRegression.
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    X, y = make_classification(
        2000, 10, n_informative=5, n_classes=3, flip_y=flip_y, random_state=seed
    )
    X_train, X_test, y_train, y_test = train_test_split(
        StandardScaler().fit_transform(X), y, random_state=0, stratify=y
    )
    calibrated = AccuracyOptimizedLinear().fit(X_train, y_train)
    # the trained model at the training noise level
    plain = AccuracyOptimizedLinear(calibration=None, selection=None).fit(
        X_train, y_train
    )
    logistic = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    ours = log_loss(y_test, calibrated.predict_proba(X_test))
    assert ours < 0.3 * log_loss(y_test, plain.predict_proba(X_test))
    assert ours < 1.15 * log_loss(y_test, logistic.predict_proba(X_test))


def test_calibrated_level_minimises_held_out_log_loss():
    # The level is the minimiser, over a grid, of sklearn's log_loss of the
    # held-out rows under the model fitted without them (the second start).
    from sklearn.metrics import log_loss

    # The scale and the smoothing weight jointly (grids of both).
    X, y = noisy_outliers(distance=0.0)
    X = StandardScaler().fit_transform(X)
    clf = AccuracyOptimizedLinear(selection=None).fit(X, y)
    weights = np.ones(len(y))
    _, held_out, kept, start, _ = clf._analytic_starts(X, y, weights, 3)
    model = clf._held_out_model(X, y, weights, 3, clf.sigma_, held_out, kept, start)
    scores, rows = model.scores, model.rows
    assert_array_equal(rows, np.flatnonzero(held_out))
    flat = special.softmax(scores / 100.0, axis=1)
    smoothing = np.linspace(0.5 / (rows.shape[0] + 3), 0.9, 300)
    best = {}
    for noise, floor in [("gaussian", 0.02), ("gumbel", 0.02 * math.sqrt(6) / math.pi)]:
        grid = np.geomspace(floor, 5.0, 300)
        losses = np.array(
            [
                [log_loss(y[rows], (1 - e) * proba + e * flat) for e in smoothing[::10]]
                for proba in (
                    argmax_probabilities(scores, noise, scale=s) for s in grid
                )
            ]
        )
        i, j = np.unravel_index(np.argmin(losses), losses.shape)
        best[noise] = (losses[i, j], grid[i], smoothing[::10][j])
    noise = min(best, key=lambda name: best[name][0])
    assert clf.noise_proba_ == noise
    assert clf.sigma_proba_ == pytest.approx(best[noise][1], rel=0.05)
    assert clf.smoothing_proba_ == pytest.approx(best[noise][2], abs=0.04)


@pytest.mark.parametrize("seed", [3, 10])
def test_selection_falls_back_to_the_start_where_training_overfits(seed):
    # 150 noisy training rows (30% of labels flipped), 2000 independent test
    # rows: trained regardless, the model loses to its closed-form start
    # there (measured 0.695 vs 0.701 and 0.684 vs 0.704); the held-out fifth
    # sees it and the fit returns an untrained candidate.
    X, y = make_classification(
        2150,
        10,
        n_informative=3,
        n_redundant=0,
        flip_y=0.3,
        class_sep=0.7,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X)
    X_train, y_train, X_test, y_test = X[:150], y[:150], X[150:], y[150:]
    start = AnalyticLogisticRegression().fit(X_train, y_train)
    always = AccuracyOptimizedLinear(selection=None).fit(X_train, y_train)
    assert always.score(X_test, y_test) < start.score(X_test, y_test)
    clf = AccuracyOptimizedLinear().fit(X_train, y_train)
    # one of the two untrained candidates: the start or the likelihood optimum
    assert clf.selected_ in ("start", "likelihood")
    assert clf.start_selected_ == (clf.selected_ == "start")
    reference = start
    if clf.selected_ == "likelihood":
        reference = LogisticRegression(tol=1e-8).fit(X_train, y_train)
    assert_array_equal(clf.predict(X_test), reference.predict(X_test))
    # that model itself, rescaled (to unit spread on the training rows); the
    # likelihood optimum to the two solvers' tolerances
    ours, theirs = clf.decision_function(X_test), reference.decision_function(X_test)
    scale = (ours @ theirs) / (ours @ ours)
    assert scale > 0
    tol = 1e-9 if reference is start else 1e-3
    assert_allclose(scale * ours, theirs, atol=tol * np.max(np.abs(theirs)))


def test_selection_keeps_training_where_the_held_out_rows_gain():
    # Far outliers pull the closed-form start; the trained model classifies
    # more of the held-out rows right, so both settings fit the same model.
    X, y = noisy_outliers(distance=10.0)
    X = StandardScaler().fit_transform(X)
    held_out = _holdout_rows(X, y, np.ones(len(y)), 3)
    kept = ~held_out
    start = AnalyticLogisticRegression().fit(X[kept], y[kept])
    trained = AccuracyOptimizedLinear(selection=None, calibration=None)
    trained.fit(X[kept], y[kept])
    # independent evidence of a gain on the held-out rows (measured 0.718 / 0.431)
    assert trained.score(X[held_out], y[held_out]) > start.score(
        X[held_out], y[held_out]
    )
    clf = AccuracyOptimizedLinear().fit(X, y)
    plain = AccuracyOptimizedLinear(selection=None).fit(X, y)
    assert not clf.start_selected_
    assert_array_equal(clf.coef_, plain.coef_)
    assert_array_equal(clf.intercept_, plain.intercept_)


def test_holdout_rows_follow_row_content():
    X, y = load_iris(return_X_y=True)
    held_out = _holdout_rows(X, y, np.ones(len(y)), 3)
    assert 0.1 < held_out.mean() < 0.3
    # equal rows fall on the same side, wherever they are
    order = np.random.default_rng(0).permutation(len(y))
    repeated = _holdout_rows(
        np.vstack([X[order], X[:10]]),
        np.concatenate([y[order], y[:10]]),
        np.ones(160),
        3,
    )
    assert_array_equal(repeated[:150], held_out[order])
    assert_array_equal(repeated[150:], held_out[:10])
    # a class with no kept row, or fewer than 10 held-out rows: no split
    assert _holdout_rows(X[:3], np.array([0, 1, 2]), np.ones(3), 3) is None
    few = _holdout_rows(X[:40], np.arange(40) % 2, np.ones(40), 2)
    assert few is None
    # then predict_proba keeps the training noise level
    three = AccuracyOptimizedLinear().fit(THREE_X, THREE_Y)
    assert three.sigma_proba_ == three.sigma_


def test_calibration_weight_equals_repetition():
    X, y = noisy_outliers(distance=0.0)
    X = StandardScaler().fit_transform(X)
    counts = np.random.default_rng(3).integers(1, 3, size=len(y))
    weighted = AccuracyOptimizedLinear(tol=1e-8).fit(X, y, sample_weight=counts)
    repeated = AccuracyOptimizedLinear(tol=1e-8).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    assert weighted.noise_proba_ == repeated.noise_proba_
    assert weighted.sigma_proba_ == pytest.approx(repeated.sigma_proba_, rel=1e-4)


def test_predict_log_proba():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = AccuracyOptimizedLinear().fit(X, y)
    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    positive = proba > 0
    assert_allclose(log_proba[positive], np.log(proba[positive]), rtol=1e-12)
    assert np.all(np.isfinite(log_proba))
    assert_array_equal(np.argmax(log_proba, axis=1), np.argmax(proba, axis=1))


# --- outliers -------------------------------------------------------------------


@pytest.mark.parametrize("distance", [100.0, 1000.0])
def test_far_correctly_labelled_point_does_not_move_accuracy(distance):
    # One training point of class 0, `distance` times the data's RMS radius out
    # along the class-0 mean direction: 5-fold CV accuracy on breast cancer
    # moves by at most 1 pt (LogisticRegression, which such a point cannot
    # pull either, is the reference; it moves by 0.2 pt).
    from sklearn.model_selection import StratifiedKFold

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clean, with_point = [], []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        X_train, y_train = X[train], y[train]
        mean0 = X_train[y_train == 0].mean(axis=0)
        radius = np.sqrt(np.mean(np.sum(X_train**2, axis=1)))
        far = distance * radius * mean0 / np.linalg.norm(mean0)
        model = AccuracyOptimizedLinear(calibration=None)
        clean.append(model.fit(X_train, y_train).score(X[test], y[test]))
        model.fit(np.vstack([X_train, far]), np.append(y_train, 0))
        with_point.append(model.score(X[test], y[test]))
    assert abs(np.mean(with_point) - np.mean(clean)) <= 0.01


# --- bounds ----------------------------------------------------------------------


def test_n_nodes_is_bounded():
    with pytest.raises(ValueError, match="n_nodes"):
        AccuracyOptimizedLinear(n_nodes=10**6).fit(THREE_X, THREE_Y)
    with pytest.raises(ValueError, match="n_nodes"):
        expected_accuracy(np.zeros((2, 3)), [0, 1], 1.0, n_nodes=10**6)


def test_one_huge_value_does_not_overflow():
    # The column is rescaled by a power of two (its squares would overflow);
    # the other columns still classify iris as well as without the value.
    X, y = load_iris(return_X_y=True)
    X = X.copy()
    X[0, 0] = 1e200
    clf = AccuracyOptimizedLinear().fit(X, y)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert clf.score(X, y) >= 0.95


def test_training_quadrature_matches_adaptive_integration():
    # The training rule (10 nodes up to 4 classes, 16 up to 32, less those of
    # weight below 1e-6; pairs beyond 8 skipped)
    # against adaptive integration: within the 1e-4 the optimiser needs.
    from skprob._accuracy import _FIT_NEGLIGIBLE_MARGIN
    from skprob._quadrature import training_gauss_hermite

    rng = np.random.default_rng(11)
    for n_classes in (3, 10, 32):
        margins = rng.normal(loc=3.0, scale=3.0, size=(10, n_classes - 1))
        value, _ = _quadrature(
            margins,
            *training_gauss_hermite(_fit_n_nodes(n_classes)),
            saturation=_FIT_NEGLIGIBLE_MARGIN,
        )
        reference = np.array([_integrand_reference(row) for row in margins])
        assert_allclose(value, reference, rtol=0, atol=1e-4)


# --- one far point, as a family ---------------------------------------------------


def _far_row(X, y, direction, scale, rng):
    """``scale`` x the RMS radius of ``X`` along the class-0 mean, a random
    direction or the column of largest spread."""
    radius = np.sqrt(np.mean(np.sum(X * X, axis=1)))
    mean0 = X[y == 0].mean(axis=0)
    if direction == "mean":
        unit = mean0
    elif direction == "random":
        unit = rng.standard_normal(X.shape[1])
    else:
        column = int(np.argmax(X.std(axis=0)))
        unit = np.zeros(X.shape[1])
        unit[column] = np.sign(mean0[column]) or 1.0
    return scale * radius * unit / np.linalg.norm(unit)


@pytest.mark.parametrize(
    "n_samples, n_features, n_classes, seed",
    [(300, 8, 2, 0), (400, 10, 3, 1), (250, 5, 4, 2)],
)
def test_one_far_point_moves_test_accuracy_by_at_most_one_point(
    n_samples, n_features, n_classes, seed
):
    # One correctly labelled row (the label LogisticRegression fitted without it
    # predicts there) at 10x, 100x and 1000x the data's RMS radius along the
    # class-0 mean, a random direction and one column: the test accuracy on
    # 2000 rows moves by at most 1 pt. The closed form alone (a moment method)
    # is the contrast: the same point breaks it.
    X, y = make_classification(
        n_samples + 2000,
        n_features,
        n_informative=n_features // 2 + 1,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X)
    X_train, y_train, X_test, y_test = (
        X[:n_samples],
        y[:n_samples],
        X[n_samples:],
        y[n_samples:],
    )
    labeller = LogisticRegression().fit(X_train, y_train)
    clean_model = AccuracyOptimizedLinear().fit(X_train, y_train)
    clean = clean_model.score(X_test, y_test)
    analytic = AnalyticLogisticRegression().fit(X_train, y_train)
    analytic_clean = analytic.score(X_test, y_test)
    rng = np.random.default_rng(seed)
    analytic_drops = []
    outliers = 0
    for direction in ["mean", "random", "column"]:
        for scale in [10.0, 100.0, 1000.0]:
            row = _far_row(X_train, y_train, direction, scale, rng)
            X_far = np.vstack([X_train, row])
            y_far = np.append(y_train, labeller.predict(row[None, :]))
            model = AccuracyOptimizedLinear().fit(X_far, y_far)
            assert abs(model.score(X_test, y_test) - clean) <= 0.01, (
                direction,
                scale,
            )
            if model.n_outliers_ == clean_model.n_outliers_ + 1:
                # the row left out changes nothing, the held-out rows included
                assert_allclose(
                    model.predict_proba(X_test),
                    clean_model.predict_proba(X_test),
                    atol=1e-8,
                )
                outliers += 1
            analytic.fit(X_far, y_far)
            analytic_drops.append(analytic_clean - analytic.score(X_test, y_test))
    assert max(analytic_drops) > 0.03
    assert outliers >= 6


def test_high_leverage_rows_match_the_hat_matrix():
    # Reference: the diagonal of the hat matrix of the class-centred rows per
    # unit of weight, min(w) Z (Z^T W Z)^+ Z^T, by a pseudo-inverse.
    from skprob._accuracy import _high_leverage_rows
    from skprob._moments import chunk_moments

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.arange(200) % 2
    X[17] = [0.0, 0.0, 300.0, 0.0]
    w = rng.uniform(0.5, 2.0, size=200)
    w[17] = np.min(w)  # one observation; with more weight it counts as several
    means = np.array([np.average(X[y == k], axis=0, weights=w[y == k]) for k in (0, 1)])
    Z = X - means[y]
    hat = np.min(w) * np.einsum(
        "ij,jk,ik->i", Z, np.linalg.pinv((Z * w[:, None]).T @ Z), Z
    )
    assert np.sum(hat > 0.5) == 1 and hat[17] > 0.95
    drop = _high_leverage_rows(X, y, w, chunk_moments(X, y, w, 2, np))
    assert_array_equal(drop, hat > 0.5)
    # without the far row nothing stands out
    keep = np.arange(200) != 17
    assert (
        _high_leverage_rows(
            X[keep], y[keep], w[keep], chunk_moments(X[keep], y[keep], w[keep], 2, np)
        )
        is None
    )


def test_a_far_row_does_not_mask_a_milder_one():
    # Reference: hat matrices of the class-centred rows by a pseudo-inverse,
    # recomputed without the rows above 1/2 until none is added. Row 300 is
    # 30 sd out along column 2 (leverage about 0.75 on its own); row 301,
    # 10 000 sd out along nearly the same direction, takes that direction's
    # scatter and hides it (its leverage is about 1, row 300's about 0).
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = np.arange(300) % 2
    X[:, 0] += 1.5 * y
    mild = np.array([[0.0, 0.0, 30.0, 0.0]])
    far = np.array([[0.0, 0.0, 1e4, 1e2]])
    X_mild, y_mild = np.vstack([X, mild]), np.append(y, 0)
    X_both, y_both = np.vstack([X_mild, far]), np.append(y_mild, 0)

    def screened(X, y):
        out = np.zeros(len(y), dtype=bool)
        while True:
            rows = ~out
            means = np.array([X[rows & (y == k)].mean(axis=0) for k in (0, 1)])
            Z = X - means[y]
            hat = np.einsum("ij,jk,ik->i", Z, np.linalg.pinv(Z[rows].T @ Z[rows]), Z)
            new = rows & (hat > 0.5)
            if not np.any(new):
                return out
            out |= new

    assert np.flatnonzero(screened(X_mild, y_mild)).tolist() == [300]
    assert np.flatnonzero(screened(X_both, y_both)).tolist() == [300, 301]
    both = AccuracyOptimizedLinear().fit(X_both, y_both)
    mild_only = AccuracyOptimizedLinear().fit(X_mild, y_mild)
    clean = AccuracyOptimizedLinear().fit(X, y)
    assert (both.n_outliers_, mild_only.n_outliers_) == (2, 1)
    # a row left out counts for nothing: all three are the fit of the 300 rows
    for model in (both, mild_only):
        assert_allclose(model.predict_proba(X), clean.predict_proba(X), atol=1e-8)


# --- edge values -------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_constant_X_predicts_the_class_frequencies(n_classes):
    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, size=240)
    w = rng.uniform(0.5, 2.0, size=240)
    X = np.full((240, 3), 1.5)
    for weights in (None, w):
        clf = AccuracyOptimizedLinear().fit(X, y, sample_weight=weights)
        frequencies = np.bincount(y, weights, n_classes) / np.sum(
            np.ones(240) if weights is None else weights
        )
        assert_allclose(
            clf.predict_proba(X[:5]), np.tile(frequencies, (5, 1)), atol=1e-6
        )
        assert_array_equal(clf.predict(X[:5]), np.argmax(frequencies))


def test_multiplying_all_weights_by_a_constant_changes_nothing():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    reference = AccuracyOptimizedLinear().fit(X, y, sample_weight=w)
    for factor in (2e13, 1e300, 1e-300):
        clf = AccuracyOptimizedLinear().fit(X, y, sample_weight=w * factor)
        assert_allclose(clf.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
        assert_allclose(
            clf.predict_proba(X), reference.predict_proba(X), rtol=1e-9, atol=1e-12
        )


def test_features_in_extreme_units_give_the_unscaled_answer():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # columns peaking in [1, 2), where extreme columns are brought back to
    X = X / 2.0 ** np.floor(np.log2(np.max(np.abs(X), axis=0)))
    reference = AccuracyOptimizedLinear().fit(X, y)
    # powers of two: the same fit bit for bit, coefficients rescaled
    for factor in (2.0**-400, 2.0**400):
        clf = AccuracyOptimizedLinear().fit(X * factor, y)
        assert_allclose(clf.coef_ * factor, reference.coef_, rtol=1e-12)
        assert_allclose(clf.predict_proba(X * factor), reference.predict_proba(X))
    # other factors: the same model to the optimiser's tolerance (the held-out
    # rows, a hash of the row values, are others, so the calibration on the
    # few held-out rows of iris differs: compared at the training level)
    plain = AccuracyOptimizedLinear(calibration=None).fit(X, y)
    for factor in (1e-120, 1e120):
        clf = AccuracyOptimizedLinear(calibration=None).fit(X * factor, y)
        assert_array_equal(clf.predict(X * factor), plain.predict(X))
        assert_allclose(
            clf.predict_proba(X * factor), plain.predict_proba(X), atol=1e-3
        )
    # one column only
    Z = X.copy()
    Z[:, 2] *= 1e-120
    clf = AccuracyOptimizedLinear().fit(Z, y)
    assert_array_equal(clf.predict(Z), reference.predict(X))


def test_columns_whose_squares_leave_float64_are_refused_by_name():
    X, y = load_iris(return_X_y=True)
    for factor, problem in ((1e300, "overflow"), (1e-300, "underflow")):
        Z = X.copy()
        Z[:, 2] *= factor
        with pytest.raises(ValueError, match=rf"column\(s\) \[2\].*{problem}"):
            AccuracyOptimizedLinear().fit(Z, y)
    # one huge value in a row left out for its leverage is not refused
    Z = X.copy()
    Z[0, 0] = 1e200
    assert AccuracyOptimizedLinear().fit(Z, y).n_outliers_ == 1


# --- class_weight, verbose, warm_start ---------------------------------------------


def test_balanced_class_weight_maximises_the_expected_balanced_accuracy():
    X, y = make_classification(
        3000, 8, n_informative=5, weights=[0.9, 0.1], random_state=0
    )
    X = StandardScaler().fit_transform(X)
    clf = AccuracyOptimizedLinear(class_weight="balanced").fit(X, y)
    # "balanced" is sample_weight n / (K n_k)...
    counts = np.bincount(y)
    by_weight = AccuracyOptimizedLinear().fit(
        X, y, sample_weight=(len(y) / (2 * counts))[y]
    )
    assert_allclose(clf.coef_, by_weight.coef_, rtol=1e-9, atol=1e-12)
    # ...so the training objective is the mean over classes of each class's
    # expected accuracy, computed here class by class with expected_accuracy
    objective = _Objective(
        X,
        y,
        (len(y) / (2 * counts))[y],
        2,
        fit_intercept=True,
        alpha=0.0,
        margin=None,
        n_nodes=_fit_n_nodes(2),
    )
    theta = np.concatenate([clf.coef_.ravel(), clf.intercept_])
    scores = clf.decision_function(X)
    per_class = [
        expected_accuracy(scores[y == k], y[y == k], clf.sigma_) for k in (0, 1)
    ]
    assert -objective(theta, clf.sigma_, gradient=False) == pytest.approx(
        np.mean(per_class), abs=1e-12
    )
    # and, like LogisticRegression's, it raises the balanced accuracy
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import cross_val_predict

    def gain(make):
        plain = cross_val_predict(make(None), X, y)
        balanced = cross_val_predict(make("balanced"), X, y)
        return balanced_accuracy_score(y, balanced) - balanced_accuracy_score(y, plain)

    lr_gain = gain(lambda cw: LogisticRegression(class_weight=cw))
    aol_gain = gain(lambda cw: AccuracyOptimizedLinear(class_weight=cw))
    assert lr_gain > 0.02 and aol_gain > 0.5 * lr_gain


def test_class_weight_dict_multiplies_sample_weight():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    a = AccuracyOptimizedLinear(class_weight=class_weight).fit(X, y, sample_weight=w)
    b = AccuracyOptimizedLinear().fit(
        X, y, sample_weight=w * np.array([1.0, 3.0, 0.5])[y]
    )
    assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)
    assert a.sigma_proba_ == pytest.approx(b.sigma_proba_, rel=1e-9)


def test_verbose_reports_each_lbfgs_solve(capsys):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    AccuracyOptimizedLinear().fit(X, y)
    assert capsys.readouterr().out == ""
    for verbose, every in [(1, 50), (2, 1)]:
        clf = AccuracyOptimizedLinear(verbose=verbose, selection=None).fit(X, y)
        out = capsys.readouterr().out.splitlines()
        summaries = [line for line in out if line.startswith("Tit = ")]
        # the fit on the kept rows and the fit on all rows
        assert len(summaries) == 2
        last = int(summaries[-1].split(",")[0].split("=")[1])
        assert last == clf.n_iter_[-1]
        iterates = [line for line in out if line.startswith("At iterate")]
        assert len(iterates) >= 2
        assert all(int(line.split()[2]) % every == 0 for line in iterates)


def test_warm_start_from_a_converged_model_takes_at_most_one_iteration():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = AccuracyOptimizedLinear(
        selection=None, warm_start=True, n_stages=2, tol=1e-6
    ).fit(X, y)
    first = clf.expected_accuracy(X, y)
    clf.fit(X, y)
    assert clf.n_iter_.shape == (2,)
    assert clf.n_iter_[0] == 0 and clf.n_iter_[-1] <= 1
    # at most one step on a flat optimum: the objective stays within tol
    assert clf.expected_accuracy(X, y) == pytest.approx(first, abs=1e-5)
    # a cold fit retrains; other classes start cold too
    cold = AccuracyOptimizedLinear(selection=None, n_stages=2, tol=1e-6).fit(X, y)
    assert cold.n_iter_[-1] > 1
    clf.fit(X[y > 0], y[y > 0])
    assert clf.coef_.shape == (1, X.shape[1])


# --- calibrated on every set, never below the start ---------------------------------


def _many_classes_problem(seed):
    X, y = make_classification(
        1500,
        20,
        n_informative=10,
        n_classes=12,
        n_clusters_per_class=1,
        flip_y=0.05,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _duplicated_rows_problem(seed):
    # three categorical columns, one-hot: 24 distinct rows among 2000, labels
    # drawn from a softmax model of them
    rng = np.random.default_rng(seed)
    codes = np.column_stack([rng.integers(0, k, 2000) for k in (4, 3, 2)])
    X = np.concatenate(
        [
            (codes[:, [j]] == np.arange(k)).astype(float)
            for j, k in enumerate((4, 3, 2))
        ],
        axis=1,
    )
    proba = special.softmax(X @ rng.normal(size=(X.shape[1], 3)), axis=1)
    y = np.sum(rng.random(2000)[:, None] > np.cumsum(proba, axis=1), axis=1)
    return X, y


def _wide_many_classes_problem(seed):
    # 180 training rows, 15 classes, 90 columns: more columns than rows per class
    X, y = make_classification(
        360,
        90,
        n_informative=20,
        n_classes=15,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _halves(X, y):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


@pytest.mark.parametrize("problem", [_many_classes_problem, _duplicated_rows_problem])
@pytest.mark.parametrize("seed", range(4))
def test_log_loss_at_most_a_quarter_above_logistic_regression(problem, seed):
    # sklearn's log_loss on the other half: within 1.25x of LogisticRegression's
    # (measured 0.97x to 1.17x on these eight problems)
    from sklearn.metrics import log_loss

    X_train, X_test, y_train, y_test = _halves(*problem(seed))
    ours = AccuracyOptimizedLinear().fit(X_train, y_train)
    logistic = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    assert log_loss(y_test, ours.predict_proba(X_test)) <= 1.25 * log_loss(
        y_test, logistic.predict_proba(X_test)
    )


@pytest.mark.parametrize("seed", range(4))
def test_never_more_than_a_point_below_the_start_on_wide_many_class_data(seed):
    X_train, X_test, y_train, y_test = _halves(*_wide_many_classes_problem(seed))
    ours = AccuracyOptimizedLinear().fit(X_train, y_train)
    start = AnalyticLogisticRegression().fit(X_train, y_train)
    assert ours.score(X_test, y_test) >= start.score(X_test, y_test) - 0.01


def test_likelihood_candidate_is_logistic_regression():
    # where the held-out rows choose it, the model is LogisticRegression's
    # optimum (C = 1) on all rows, at unit spread, with its own softmax
    X_train, X_test, y_train, _ = _halves(*_duplicated_rows_problem(3))
    ours = AccuracyOptimizedLinear().fit(X_train, y_train)
    assert ours.selected_ == "likelihood" and not ours.start_selected_
    logistic = LogisticRegression(tol=1e-10, max_iter=5000).fit(X_train, y_train)
    scale = 1.0 / ours.sigma_proba_
    assert ours.noise_proba_ == "gumbel"
    # scores up to a shift per row (the softmax ignores it)
    ours_scores = scale * ours.decision_function(X_test)
    theirs = logistic.decision_function(X_test)
    assert_allclose(
        ours_scores - ours_scores.mean(axis=1, keepdims=True),
        theirs - theirs.mean(axis=1, keepdims=True),
        atol=1e-3,
    )
    assert_allclose(
        ours.predict_proba(X_test), logistic.predict_proba(X_test), atol=2e-3
    )


def test_fit_is_deterministic():
    # the held-out rows are a hash of the row contents: two fits, or a fit on
    # shuffled rows, give the same model (the latter to rounding of the sums)
    X, y = _many_classes_problem(0)
    first = AccuracyOptimizedLinear().fit(X, y)
    second = AccuracyOptimizedLinear().fit(X, y)
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    order = np.random.default_rng(0).permutation(len(y))
    shuffled = AccuracyOptimizedLinear().fit(X[order], y[order])
    assert shuffled.selected_ == first.selected_
    assert_allclose(shuffled.predict_proba(X), first.predict_proba(X), atol=1e-6)


def test_fold_tie_break_drops_the_clearly_less_accurate_cheap_model():
    tied = ["start", "likelihood"]
    small = np.ones(40)
    # out-of-fold: the start right on 2 rows more, the likelihood on 1 more
    pick = AccuracyOptimizedLinear._fold_tie_break
    assert pick(tied, small, lambda: {"start": 150.0, "likelihood": 148.0}) == ["start"]
    assert pick(tied, small, lambda: {"start": 148.0, "likelihood": 149.0}) == tied
    assert pick(tied, small, lambda: None) == tied

    # a held-out fifth of 1 000 rows or more decides alone, without refitting
    def refused():
        raise AssertionError("refitted on a large held-out fifth")

    assert pick(tied, np.ones(1000), refused) == tied


def test_fold_tie_break_on_a_small_set_picks_the_more_accurate_model(monkeypatch):
    # 212 training rows (like DAAG/frogs): the start and the likelihood optimum
    # tie on the about 40 held-out rows; out of fold on all five folds the
    # start is the more accurate, and it is on the other half too
    X, y = make_classification(
        424, 9, n_informative=4, flip_y=0.1, class_sep=0.8, random_state=27
    )
    X_train, X_test, y_train, y_test = _halves(StandardScaler().fit_transform(X), y)
    ours = AccuracyOptimizedLinear().fit(X_train, y_train)
    monkeypatch.setattr(accuracy_module, "_FOLD_MAX_HELD_OUT", 0)
    held_out_only = AccuracyOptimizedLinear().fit(X_train, y_train)
    assert (ours.selected_, held_out_only.selected_) == ("start", "likelihood")
    assert ours.score(X_test, y_test) > held_out_only.score(X_test, y_test)


def test_likelihood_candidate_ends_where_logistic_regression_does():
    # from two different starts (zeros, and the closed form) the Newton solve
    # runs far past lbfgs's tolerance and ends at LogisticRegression's optimum;
    # sparse and dense data, whose closed forms differ by rounding, agree alike
    from skprob._accuracy import _likelihood_theta

    X, y = make_classification(
        1000, 50, n_informative=10, n_classes=10, flip_y=0.2, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    weights = np.ones(len(y))
    start = AnalyticLogisticRegression().fit(X, y)
    from_closed_form, converged = _likelihood_theta(
        X,
        y,
        weights,
        10,
        np.concatenate([start.coef_.ravel(), start.intercept_]),
        fit_intercept=True,
    )
    assert converged
    from_zeros, _ = _likelihood_theta(
        X, y, weights, 10, np.zeros(510), fit_intercept=True
    )
    logistic = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    reference = np.concatenate([logistic.coef_.ravel(), logistic.intercept_])

    def centred(theta):
        # the softmax ignores a shift of every intercept
        theta = theta.copy()
        theta[500:] -= np.mean(theta[500:])
        return theta

    assert_allclose(centred(from_closed_form), centred(from_zeros), atol=1e-6)
    assert_allclose(centred(from_zeros), centred(reference), atol=1e-4)


# --- the rough first climb of the last stage (many pairs) ---------------------------


def _centred(clf):
    # the objective sees score differences only: a shift of every row of coef_
    # (or of every intercept) changes nothing
    coef = clf.coef_ - np.mean(clf.coef_, axis=0)
    return coef, clf.intercept_ - np.mean(clf.intercept_)


def _four_classes_problem(seed):
    X, y = make_classification(
        800, 8, n_informative=5, n_classes=4, n_clusters_per_class=1, random_state=seed
    )
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_rough_climb_ends_at_the_optimum_of_the_training_rule(seed, monkeypatch):
    # The fit on all rows under the training rule from its start, against the
    # same fit with a rough first climb (threshold 0): with a tolerance
    # far below the rough rule's error (about 1e-3 in the mean of A), both end
    # on the same flat top of the objective, where L-BFGS stops wherever its
    # reductions fall below tol (measured on these seeds: A within 2e-10,
    # centred coefficients within 3e-4 of their largest, the same predictions).
    X, y = _four_classes_problem(seed)
    params = {"tol": 1e-12, "max_iter": 1000, "selection": None}
    monkeypatch.setattr(accuracy_module, "_ROUGH_PAIRS", np.inf)
    exact = AccuracyOptimizedLinear(**params).fit(X, y)
    monkeypatch.setattr(accuracy_module, "_ROUGH_PAIRS", 0)
    climbs = []
    original = _Objective.rough
    monkeypatch.setattr(
        _Objective,
        "rough",
        lambda self, *args: climbs.append(1) or original(self, *args),
    )
    rough = AccuracyOptimizedLinear(**params).fit(X, y)
    assert len(climbs) == 1
    assert rough.expected_accuracy(X, y) == pytest.approx(
        exact.expected_accuracy(X, y), abs=1e-5
    )
    (coef, intercept), (coef_exact, intercept_exact) = _centred(rough), _centred(exact)
    largest = np.max(np.abs(coef_exact))
    assert_allclose(coef, coef_exact, rtol=0, atol=1e-2 * largest)
    assert_allclose(intercept, intercept_exact, rtol=0, atol=1e-2 * largest)
    assert np.mean(rough.predict(X) == exact.predict(X)) >= 0.995


def _exact_and_rough(X, y, weights):
    """Ten classes' training-rule objective and its rough version."""
    exact = _Objective(
        X,
        y,
        weights,
        10,
        fit_intercept=True,
        alpha=0.0,
        margin=None,
        n_nodes=_fit_n_nodes(10),
    )
    rough = exact.rough(accuracy_module._ROUGH_NODES, accuracy_module._ROUGH_SATURATION)
    return exact, rough


def test_rough_objective_follows_the_training_rule():
    # Away from the optimum (where the rough climb does its work) the rough
    # rule's gradient points where the training rule's does and its value is
    # within 1e-2 (4 nodes, pairs beyond 3 skipped, scores in single precision)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    exact, rough = _exact_and_rough(X, y, np.ones(len(y)))
    assert rough.X.dtype == np.float32 and exact.X.dtype == np.float64
    start = AnalyticLogisticRegression().fit(X, y)
    theta = np.concatenate([start.coef_.ravel(), start.intercept_])
    for sigma in [0.2, 0.5]:
        value, grad = exact(theta, sigma)
        rough_value, rough_grad = rough(theta, sigma)
        assert rough_grad.dtype == np.float64
        assert rough_value == pytest.approx(value, abs=1e-2)
        cosine = grad @ rough_grad / np.linalg.norm(grad) / np.linalg.norm(rough_grad)
        assert cosine > 0.99
    # the training rule keeps its own data
    assert exact.X is X
    # a value whose squared score could overflow in single precision (a far
    # row, of weight 0 as the fit gives rows of extreme leverage) keeps float64
    far = np.vstack([X, np.full(X.shape[1], 1e30)])
    weights = np.append(np.ones(len(y)), 0.0)
    exact, rough = _exact_and_rough(far, np.append(y, 0), weights)
    assert rough.X is far
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = rough(theta, 0.2)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_rough_climb_that_overflows_leaves_the_training_rule_path(monkeypatch):
    # single precision forced on a far row (of weight 0 for its leverage)
    # whose scores overflow it: the climb gives nothing, quietly, and the fit
    # is the one without it
    X, y = _four_classes_problem(0)
    X = np.vstack([X, np.full(X.shape[1], 1e30)])
    y = np.append(y, 0)
    monkeypatch.setattr(accuracy_module, "_ROUGH_PAIRS", np.inf)
    exact = AccuracyOptimizedLinear(selection=None).fit(X, y)
    assert exact.n_outliers_ == 1
    monkeypatch.setattr(accuracy_module, "_ROUGH_PAIRS", 0)
    monkeypatch.setattr(accuracy_module, "_SINGLE_MAX", np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rough = AccuracyOptimizedLinear(selection=None).fit(X, y)
    assert_allclose(rough.coef_, exact.coef_, rtol=1e-12, atol=1e-14)
    assert_array_equal(rough.predict(X), exact.predict(X))


def test_rough_climb_is_deterministic_and_weights_are_repetition(monkeypatch):
    monkeypatch.setattr(accuracy_module, "_ROUGH_PAIRS", 0)
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    first = AccuracyOptimizedLinear().fit(X, y)
    second = AccuracyOptimizedLinear().fit(X, y)
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    counts = np.random.default_rng(7).integers(1, 3, size=len(y))
    weighted = AccuracyOptimizedLinear(tol=1e-8).fit(X, y, sample_weight=counts)
    repeated = AccuracyOptimizedLinear(tol=1e-8).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    (coef, intercept), (coef_r, intercept_r) = _centred(weighted), _centred(repeated)
    assert_allclose(coef, coef_r, rtol=1e-5, atol=1e-6)
    assert_allclose(intercept, intercept_r, rtol=1e-5, atol=1e-6)


def test_rough_climb_only_on_many_pairs_of_several_classes(monkeypatch):
    # only the fit on all rows (the held-out selection's models keep the
    # training rule's path); the threshold counts (weighted row, other class)
    # pairs; two classes use a closed form that no rule makes cheaper
    from skprob._accuracy import _ROUGH_PAIRS

    made = []
    rough = _Objective.rough
    monkeypatch.setattr(
        _Objective, "rough", lambda self, *args: made.append(1) or rough(self, *args)
    )
    clf = AccuracyOptimizedLinear()
    rng = np.random.default_rng(0)
    for n_classes, rows, fit_on_all_rows, expected in [
        (3, _ROUGH_PAIRS // 2 + 1, True, 1),
        (3, _ROUGH_PAIRS // 2 + 1, False, 0),
        (3, _ROUGH_PAIRS // 2, True, 0),
        (2, 2 * _ROUGH_PAIRS, True, 0),
    ]:
        made.clear()
        X = rng.normal(size=(rows, 2))
        y = np.arange(rows) % n_classes
        objective = clf._objective(X, y, np.ones(rows), n_classes)
        theta = rng.normal(size=objective.n_rows * 3)
        value = objective(theta, 0.2, gradient=False)
        clf._last_stage(objective, theta, value, 0.2, fit_on_all_rows)
        assert len(made) == expected
