"""The Newton solver and the objectives it minimises, against independent references."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import approx_fprime, minimize
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skprob._losses import PenalisedLogLoss, TemperatureOffsetsLoss
from skprob._newton import (
    LaggedNewtonDirection,
    damped_newton,
    shrink_along_ray,
    truncated_cg,
)


def _log_loss_problem(n_classes, fit_intercept=True, C=1.0, seed=0):
    X, y = make_classification(
        200, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    weight = np.random.default_rng(seed).uniform(0.5, 2.0, 200)
    problem = PenalisedLogLoss(
        X, y, weight, n_classes, C=C, fit_intercept=fit_intercept, tol=1e-10
    )
    n_rows = 1 if n_classes == 2 else n_classes
    return X, y, weight, problem, (n_rows, X.shape[1] + fit_intercept)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_loss_gradient_and_hessian_match_finite_differences(n_classes):
    *_, problem, shape = _log_loss_problem(n_classes)
    theta = np.random.default_rng(1).normal(size=shape)

    def value(flat):
        return problem.evaluate(flat.reshape(shape)).loss

    def gradient(flat):
        return problem.gradient(problem.evaluate(flat.reshape(shape))).ravel()

    point = problem.evaluate(theta)
    assert_allclose(
        problem.gradient(point).ravel(),
        approx_fprime(theta.ravel(), value, 1e-6),
        rtol=1e-5,
        atol=1e-4,
    )
    proba = point.cache[1]
    curvature = problem._curvature(proba)
    hessian = problem._hessian(proba, curvature)
    numeric = np.array(
        [
            approx_fprime(theta.ravel(), lambda f: gradient(f)[i], 1e-6)
            for i in range(theta.size)
        ]
    )
    assert_allclose(hessian, numeric, rtol=1e-4, atol=1e-3)
    vector = np.random.default_rng(2).normal(size=shape)
    assert_allclose(
        problem._hessian_product(vector, proba, curvature).ravel(),
        hessian @ vector.ravel(),
        rtol=1e-10,
    )


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_hessian_in_row_blocks_matches_the_explicit_sum(
    n_classes, fit_intercept, sparse, monkeypatch
):
    # blocks of 7 rows: 29 blocks and a short last one over the 200 rows
    from skprob import _losses

    monkeypatch.setattr(_losses, "_BLOCK_BYTES", 8)
    monkeypatch.setattr(_losses, "_MIN_BLOCK_ROWS", 7)
    X, y, weight, _, shape = _log_loss_problem(n_classes, fit_intercept)
    problem = PenalisedLogLoss(
        sp.csr_array(X) if sparse else X,
        y,
        weight,
        n_classes,
        C=0.5,
        fit_intercept=fit_intercept,
        tol=1e-10,
    )
    theta = np.random.default_rng(4).normal(size=shape)
    proba = problem.evaluate(theta).cache[1]
    hessian = problem._hessian(proba, problem._curvature(proba))
    # sum_i w_i (diag(p_i) - p_i p_i^T) kron x_i x_i^T, row by row
    design = np.hstack([X, np.ones((200, 1))]) if fit_intercept else X
    if n_classes == 2:
        proba = np.hstack([1.0 - proba, proba])
    expected = np.zeros((shape[0] * shape[1],) * 2)
    for i in range(200):
        coupling = np.diag(proba[i]) - np.outer(proba[i], proba[i])
        if n_classes == 2:
            coupling = coupling[1:, 1:]
        expected += weight[i] * np.kron(coupling, np.outer(design[i], design[i]))
    penalised = np.r_[np.ones(X.shape[1]), np.zeros(int(fit_intercept))]
    expected += np.diag(np.tile(penalised, shape[0]) / 0.5)
    assert_allclose(hessian, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_wide_preconditioner_equals_the_full_eigendecomposition(fit_intercept, sparse):
    # 30 rows, 80 features: the preconditioner works from the 30 x 30 Gram
    # matrix of the rows; applied to any residual it must equal the one built
    # from the eigendecomposition of the full [X, 1]^T W [X, 1]
    from skprob._losses import _kronecker_preconditioner

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 80))
    y = rng.integers(0, 3, size=30)
    weight = rng.uniform(0.5, 2.0, size=30)
    problem = PenalisedLogLoss(
        sp.csr_array(X) if sparse else X,
        y,
        weight,
        3,
        C=0.7,
        fit_intercept=fit_intercept,
        tol=1e-8,
    )
    values, vectors = problem._gram_eigendecomposition()
    assert vectors.shape == (80 + fit_intercept, 30)
    design = np.hstack([X, np.ones((30, 1))]) if fit_intercept else X
    full = np.linalg.eigh(design.T @ (weight[:, None] * design))
    assert_allclose(values, full[0][-30:], rtol=1e-10)
    coupling = np.array([[0.3, -0.1, -0.2], [-0.1, 0.25, -0.15], [-0.2, -0.15, 0.35]])
    residual = rng.normal(size=(3, 80 + fit_intercept))
    assert_allclose(
        _kronecker_preconditioner((values, vectors), coupling, 0.7, False)(residual),
        _kronecker_preconditioner(full, coupling, 0.7, False)(residual),
        rtol=1e-8,
        atol=1e-10,
    )


@pytest.mark.parametrize("n_classes", [2, 4])
def test_damped_newton_reaches_logistic_regression_optimum(n_classes):
    X, y, weight, problem, shape = _log_loss_problem(n_classes, C=0.5)
    start = shrink_along_ray(problem, problem.evaluate(np.zeros(shape)))
    result = damped_newton(problem, start, max_iter=50, tol=1e-10)
    assert result.converged
    reference = LogisticRegression(
        C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y, sample_weight=weight)
    theta = result.point.theta.copy()
    if n_classes > 2:
        theta[:, -1] -= theta[:, -1].mean()
    assert_allclose(theta[:, :-1], reference.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(theta[:, -1], reference.intercept_, rtol=1e-6, atol=1e-7)


def test_objective_never_rises_along_the_iteration():
    *_, problem, shape = _log_loss_problem(3, C=100.0)
    losses = []

    class Recorder:
        def __getattr__(self, name):
            return getattr(problem, name)

        def gradient(self, point):
            losses.append(point.loss)
            return problem.gradient(point)

    damped_newton(
        Recorder(), problem.evaluate(np.full(shape, 3.0)), max_iter=30, tol=1e-12
    )
    assert len(losses) > 3
    assert np.all(np.diff(losses) <= 0)


def test_lagged_direction_keeps_the_hessian_only_for_a_finishing_step():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    A = A @ A.T + 6 * np.eye(6)
    B = A + 0.1 * np.eye(6)
    calls = []

    def hessian(matrix):
        def compute():
            calls.append(matrix)
            return matrix

        return compute

    direction = LaggedNewtonDirection(0.0, enough=1e-4)
    g = rng.normal(size=(1, 6))
    assert_allclose(direction(hessian(A), g).ravel(), np.linalg.solve(A, g.ravel()))
    # contraction 1e-2 from max|g| ~ 1: 1e-2 * 1e-2 = 1e-4 > 1e-4 / 4, fresh
    g2 = 1e-2 * g / np.max(np.abs(g))
    assert_allclose(direction(hessian(B), g2).ravel(), np.linalg.solve(B, g2.ravel()))
    # contraction 1e-2 again from 1e-2: 1e-6 <= 1e-4 / 4, B is kept
    g3 = 1e-2 * g2
    assert_allclose(direction(hessian(A), g3).ravel(), np.linalg.solve(B, g3.ravel()))
    assert [id(m) for m in calls] == [id(A), id(B)]


def test_newton_keeps_its_last_hessian_and_still_stops_within_tol(monkeypatch):
    X, y, weight, _, shape = _log_loss_problem(2, C=1.0)
    problem = PenalisedLogLoss(X, y, weight, 2, C=1.0, fit_intercept=True, tol=1e-6)
    calls = []
    exact = problem._hessian
    monkeypatch.setattr(
        problem, "_hessian", lambda *args: calls.append(1) or exact(*args)
    )
    start = shrink_along_ray(problem, problem.evaluate(np.zeros(shape)))
    result = damped_newton(problem, start, max_iter=50, tol=1e-6)
    assert result.converged
    assert len(calls) < result.n_iter
    # the stationarity at the result, from LogisticRegression's objective here
    theta = result.point.theta
    proba = 1.0 / (1.0 + np.exp(-(X @ theta[0, :-1] + theta[0, -1])))
    residual = weight * (proba - y)
    gradient = np.r_[residual @ X + theta[0, :-1], residual.sum()]
    assert np.max(np.abs(gradient)) / weight.sum() <= 1e-6


def test_truncated_cg_solves_a_positive_definite_system():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 30))
    A = A @ A.T + 30 * np.eye(30)
    b = rng.normal(size=(3, 10))
    step = truncated_cg(
        lambda v: (A @ v.ravel()).reshape(v.shape),
        b,
        lambda r: r,
        target=1e-12,
        enough=0.0,
        max_iter=200,
    )
    assert_allclose(step.ravel(), np.linalg.solve(A, b.ravel()), rtol=1e-8)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_temperature_offsets_optimum_matches_scipy(n_classes):
    rng = np.random.default_rng(n_classes)
    scores = 3.0 * rng.normal(size=(300, n_classes))
    target = np.argmax(scores + rng.gumbel(size=scores.shape) * 2.0, axis=1)
    weight = rng.uniform(0.5, 2.0, 300)
    bounds = (np.exp(-7.0), np.exp(7.0))
    problem = TemperatureOffsetsLoss(
        scores, target, weight, bounds=bounds, offset_scale=1.0
    )
    start = problem.evaluate(np.concatenate([[1.0], np.zeros(n_classes - 1)]))
    result = damped_newton(problem, start, max_iter=100, tol=1e-10, stall_tol=1e-6)
    assert result.converged
    reference = minimize(
        lambda t: problem.evaluate(t.copy()).loss,
        start.theta,
        jac=lambda t: problem.gradient(problem.evaluate(t.copy())),
        method="L-BFGS-B",
        bounds=[bounds] + [(None, None)] * (n_classes - 1),
        options={"gtol": 1e-12, "ftol": 1e-15},
    )
    assert_allclose(result.point.theta, reference.x, rtol=1e-5, atol=1e-6)
