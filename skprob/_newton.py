"""Damped Newton's method with one backtracking line search, and its helpers."""

# SPDX-License-Identifier: BSD-3-Clause
#
# One solver for every smooth convex objective of the package (the penalised
# log-loss of AnalyticLogisticRegression's refinement, the temperature and
# intercept offsets of temperature="auto"). The objectives live in _losses.py
# and only promise the small protocol below, as scikit-learn's
# _glm/_newton_solver.py only asks its loss for values, gradients and Hessians.

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "NewtonResult",
    "Point",
    "damped_newton",
    "forcing_term",
    "shrink_along_ray",
    "solve_exact",
    "truncated_cg",
]

# Armijo sufficient-decrease constant and the most step halvings of the line
# search: a step shorter than 2^-40 of the Newton step cannot change the
# objective in float64.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# A step whose decrease is below this fraction of the objective is rounding.
_ROUNDING = 1e-14
# Forcing terms of the truncated Newton steps (Eisenstat and Walker's choice 2,
# gamma = 0.9, alpha = 2, at most 0.5): loose while the gradient falls slowly,
# tight once it falls fast, so convergence stays superlinear.
_FORCING_MAX = 0.5
_FORCING_GAMMA = 0.9
# The shrink along the ray s * theta, s in [e^-9, 1]: the shrunk point only
# starts Newton's method, so 1% in the scale is enough.
_LOG_SHRINK_BOUNDS = (-9.0, 0.0)
_LOG_SHRINK_XATOL = 1e-2
_SHRINK_MAX_EVALUATIONS = 30


class Point(NamedTuple):
    """Parameters (host float64), objective there, and what the problem cached."""

    theta: np.ndarray
    loss: float
    cache: object


class NewtonResult(NamedTuple):
    point: Point
    n_iter: int
    converged: bool
    stationarity: float


def damped_newton(problem, point, *, max_iter, tol, stall_tol=None):
    """Minimise ``problem`` from ``point`` by damped Newton steps.

    The problem provides ``gradient(point)``, ``stationarity(point,
    gradient)`` (the number compared with ``tol``), ``direction(point,
    gradient)`` (the step ``d`` of ``theta - t d``) and ``line(point, d)``, a
    function of ``t`` returning the :class:`Point` there cheaply. Each
    accepted step satisfies Armijo's condition, so the objective never rises.

    It stops converged when the stationarity is at most ``tol``; unconverged
    after ``max_iter`` steps or when no step along the direction lowers the
    objective. With ``stall_tol``, a step that lowers the objective only by
    rounding, or a failed line search, ends the iteration as converged if
    the stationarity is then at most ``stall_tol`` (an objective that is flat
    at floating-point resolution cannot be taken further).
    """
    n_iter = 0
    while True:
        gradient = problem.gradient(point)
        stationarity = problem.stationarity(point, gradient)
        if stationarity <= tol:
            return NewtonResult(point, n_iter, True, stationarity)
        stalled_ok = stall_tol is not None and stationarity <= stall_tol
        if n_iter == max_iter:
            return NewtonResult(point, n_iter, False, stationarity)
        direction = problem.direction(point, gradient)
        trial = _backtrack(
            problem.line(point, direction),
            point.loss,
            float(np.sum(gradient * direction)),
        )
        if trial is None:
            return NewtonResult(point, n_iter, stalled_ok, stationarity)
        stalled = point.loss - trial.loss <= _ROUNDING * abs(point.loss)
        point = trial
        n_iter += 1
        if stalled and stall_tol is not None:
            return NewtonResult(point, n_iter, stalled_ok, stationarity)


def _backtrack(line, loss, decrease):
    """First of ``t = 1, 1/2, 1/4, ...`` meeting Armijo's condition, or None."""
    length = 1.0
    for _ in range(_MAX_HALVINGS):
        trial = line(length)
        if trial.loss <= loss - _ARMIJO * length * decrease:
            return trial
        length *= 0.5
    return None


def solve_exact(hessian, gradient, ridge):
    """Newton step ``H^-1 g`` with ``ridge`` times the mean diagonal added to H.

    The relative ridge makes a Hessian that is singular along a direction the
    objective ignores (e.g. a shift of every softmax intercept) well posed
    without moving the solution.
    """
    hessian = hessian.copy()
    hessian[np.diag_indices_from(hessian)] += ridge * np.trace(hessian) / len(hessian)
    return np.linalg.solve(hessian, gradient.ravel()).reshape(gradient.shape)


def forcing_term(previous, norm, previous_norm):
    """Eisenstat-Walker forcing term from the last gradient reduction."""
    if previous is None:
        return _FORCING_MAX
    forcing = _FORCING_GAMMA * (norm / previous_norm) ** 2
    # safeguard: do not let the forcing term collapse after one lucky step
    floor = _FORCING_GAMMA * previous**2
    if floor > 0.1:
        forcing = max(forcing, floor)
    return min(_FORCING_MAX, forcing)


def truncated_cg(hessian_product, gradient, precondition, *, target, enough, max_iter):
    """Approximate ``H^-1 g`` by preconditioned conjugate gradients.

    Stops once the residual's norm is at most ``target`` or its largest entry
    at most ``enough`` (the Newton model predicts the next gradient to be the
    residual: past the stopping tolerance, more accuracy buys nothing), or at
    non-positive curvature. Returns the gradient itself when no step was
    made.
    """
    step = np.zeros_like(gradient)
    residual = gradient.copy()
    search = precondition(residual)
    rz = np.sum(residual * search)
    for _ in range(max_iter):
        product = hessian_product(search)
        curvature_along = np.sum(search * product)
        if curvature_along <= 0:
            break
        alpha = rz / curvature_along
        step += alpha * search
        residual -= alpha * product
        if np.sqrt(np.sum(residual**2)) <= target or np.max(np.abs(residual)) <= enough:
            break
        preconditioned = precondition(residual)
        rz_new = np.sum(residual * preconditioned)
        search = preconditioned + (rz_new / rz) * search
        rz = rz_new
    return step if np.any(step) else gradient


def shrink_along_ray(problem, point):
    """Best scale ``s`` in ``[e^-9, 1]`` of the ray ``s * theta``, to 1% in ``s``.

    For objectives convex along the ray with cheap exact derivatives there
    (``problem.ray_slope(point, scaled, s)`` for the slope and curvature at
    ``s`` and ``problem.scaled(point, s)`` for the point, neither reading the
    data): safeguarded Newton on the slope, with geometric bisection of the
    bracket when a step leaves it. Returns the best point evaluated.
    """
    slope, curvature = problem.ray_slope(point, point, 1.0)
    best = point
    if slope <= 0:
        return best
    low, high = (math.exp(bound) for bound in _LOG_SHRINK_BOUNDS)
    scale = 1.0
    for _ in range(_SHRINK_MAX_EVALUATIONS):
        # zero curvature (saturated probabilities, nothing penalised): bisect
        step = slope / curvature if curvature > 0 else math.inf
        if abs(step) <= _LOG_SHRINK_XATOL * scale:
            break
        trial = scale - step
        scale = trial if low < trial < high else math.sqrt(low * high)
        scaled = problem.scaled(point, scale)
        if scaled.loss < best.loss:
            best = scaled
        slope, curvature = problem.ray_slope(point, scaled, scale)
        if slope > 0:
            high = scale
        else:
            low = scale
        if high <= low * (1.0 + _LOG_SHRINK_XATOL):
            break
    return best
