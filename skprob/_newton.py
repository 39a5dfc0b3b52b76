"""Damped Newton's method with one backtracking line search, and its helpers."""

# SPDX-License-Identifier: BSD-3-Clause
#
# One solver for every smooth convex objective of the package (the penalised
# log-loss of AnalyticLogisticRegression's refinement, the temperature and
# intercept offsets of temperature="auto"). The objectives live in _losses.py
# and only promise the small protocol below, as scikit-learn's
# _glm/_newton_solver.py only asks its loss for values, gradients and Hessians.

from typing import NamedTuple

import numpy as np
from scipy.linalg import lu_factor, lu_solve

__all__ = [
    "InexactNewtonDirection",
    "LaggedNewtonDirection",
    "NewtonResult",
    "Point",
    "RAY_SCALES",
    "damped_newton",
    "forcing_term",
    "shrink_along_ray",
    "truncated_cg",
]

# Armijo sufficient-decrease constant and the most step halvings of the line
# search: a step shorter than 2^-40 of the Newton step cannot change the
# objective in float64.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# A kept Hessian makes the next step if the last step's contraction would
# take the gradient to a quarter of the stopping tolerance.
_LAG_MARGIN = 0.25
# A step whose decrease is below this fraction of the objective is rounding.
_ROUNDING = 1e-14
# Forcing terms of the truncated Newton steps (Eisenstat and Walker's choice 2,
# gamma = 0.9, alpha = 2, at most 0.5): loose while the gradient falls slowly,
# tight once it falls fast, so convergence stays superlinear.
_FORCING_MAX = 0.5
# Most conjugate-gradient steps of one truncated Newton direction.
_CG_MAX_ITER = 250
# Entries per slice of the in-place vector updates: a slice's temporary
# stays in cache.
_SLICE = 1 << 16
_FORCING_GAMMA = 0.9
# The shrink along the ray s * theta, s in [e^-9, 1]: the shrunk point only
# starts Newton's method, so about 1% in the scale is enough. The slope is
# read at 64 scales 15% apart (all in one pass for data read in passes),
# and linear interpolation between the two that bracket zero is within 1%.
RAY_SCALES = np.exp(np.linspace(-9.0, 0.0, 64))


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


def damped_newton(problem, point, *, max_iter, tol, stall_tol=None, callback=None):
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

    ``callback(n_iter, point, stationarity)``, if given, is called at every
    iterate, the start included (a verbose estimator prints from it).

    The gradient is not kept through the line search, the direction not
    past its step, and the start point (unless the caller holds it) not past
    the first step: with many unknowns each is as large as the data. A
    problem may drop its own copy of the gradient in ``line``.
    """
    n_iter = 0
    while True:
        gradient = problem.gradient(point)
        stationarity = problem.stationarity(point, gradient)
        if callback is not None:
            callback(n_iter, point, stationarity)
        if stationarity <= tol:
            return NewtonResult(point, n_iter, True, stationarity)
        stalled_ok = stall_tol is not None and stationarity <= stall_tol
        if n_iter == max_iter:
            return NewtonResult(point, n_iter, False, stationarity)
        direction = problem.direction(point, gradient)
        slope = float(np.sum(gradient * direction))
        # on text the gradient and the direction are each as large as the
        # data: the gradient is not kept through the line search (a problem
        # may drop its copy there), the direction not beside the next one
        del gradient
        trial = _backtrack(problem.line(point, direction), point.loss, slope)
        del direction
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


def _factor_exact(hessian, ridge):
    """The Newton step ``g -> H^-1 g`` as a function of the gradient, with
    ``ridge`` times the mean diagonal added to H (one LU factorisation for
    any number of solves).

    The relative ridge makes a Hessian that is singular along a direction the
    objective ignores (e.g. a shift of every softmax intercept) well posed
    without moving the solution.
    """
    hessian = hessian.copy()
    hessian[np.diag_indices_from(hessian)] += ridge * np.trace(hessian) / len(hessian)
    factors = lu_factor(hessian, check_finite=False)
    return lambda gradient: lu_solve(factors, gradient.ravel()).reshape(gradient.shape)


class LaggedNewtonDirection:
    """Newton directions that keep the last exact Hessian for a finishing step.

    One per minimisation. In memory an exact Hessian of P unknowns costs
    about P/10 passes over the data, a step with a kept one none. Newton's
    method stops once the largest gradient entry is at most ``enough``;
    where the last step's contraction, applied once more, would take the
    gradient well below that (Newton's quadratic phase, where the Hessian
    barely moves), the factorised Hessian is reused, else a fresh one is
    computed. The stopping rule reads the exact gradient, so the optimum is
    decided as before; only steps predicted to be the last change. A kept
    Hessian is positive definite, so its step still descends.
    """

    def __init__(self, ridge, enough):
        self.ridge = ridge
        self.enough = enough
        self._solve = self._norm = None

    def __call__(self, hessian, gradient):
        """The step ``H^-1 g``; ``hessian()`` is called only for a fresh one."""
        norm = float(np.max(np.abs(gradient)))
        fresh = self._solve is None or self._norm == 0.0
        if fresh or norm * norm / self._norm > _LAG_MARGIN * self.enough:
            self._solve = _factor_exact(hessian(), self.ridge)
        self._norm = norm
        return self._solve(gradient)


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
    # inner products by vdot and updates in place: on text each vector holds
    # K (d + 1) unknowns, and a temporary per operation costs as much time and
    # memory as the products themselves; the product and the preconditioned
    # residual are freed as soon as they are read, so four vectors of the
    # unknowns' size are alive beside what the two callables make
    step = np.zeros_like(gradient)
    residual = gradient.copy()
    search = precondition(residual)
    if np.shares_memory(search, residual):
        # an identity preconditioner: search is updated in place below
        search = search.copy()
    rz = np.vdot(residual, search)
    for _ in range(max_iter):
        product = hessian_product(search)
        curvature_along = np.vdot(search, product)
        if curvature_along <= 0:
            break
        alpha = rz / curvature_along
        _add_scaled(step, search, alpha)
        _add_scaled(residual, product, -alpha)
        del product
        largest = max(np.max(residual), -np.min(residual))
        if np.sqrt(np.vdot(residual, residual)) <= target or largest <= enough:
            break
        preconditioned = precondition(residual)
        rz_new = np.vdot(residual, preconditioned)
        search *= rz_new / rz
        search += preconditioned
        del preconditioned
        rz = rz_new
    return step if np.any(step) else gradient


def _add_scaled(target, vector, factor):
    """``target += vector * factor`` in place, without a temporary as large as
    ``vector``: by slices of ``_SLICE`` entries where both arrays are
    C-contiguous (each entry rounds as in the single expression)."""
    if not (target.flags.c_contiguous and vector.flags.c_contiguous):
        target += vector * factor
        return
    flat, source = target.reshape(-1), vector.reshape(-1)
    for start in range(0, flat.shape[0], _SLICE):
        part = slice(start, start + _SLICE)
        flat[part] += source[part] * factor


class InexactNewtonDirection:
    """Truncated-CG Newton directions with Eisenstat-Walker forcing terms.

    One per minimisation: the forcing term of a step depends on how much the
    gradient fell since the previous one. ``enough`` is the residual entry
    below which more accuracy buys nothing (see :func:`truncated_cg`).
    """

    def __init__(self, enough):
        self.enough = enough
        self._forcing = self._previous_norm = None

    def __call__(self, hessian_product, gradient, precondition):
        norm = float(np.sqrt(np.sum(gradient**2)))
        self._forcing = forcing_term(self._forcing, norm, self._previous_norm)
        self._previous_norm = norm
        return truncated_cg(
            hessian_product,
            gradient,
            precondition,
            target=self._forcing * norm,
            enough=self.enough,
            max_iter=_CG_MAX_ITER,
        )


def shrink_along_ray(problem, point):
    """Best scale ``s`` in ``[e^-9, 1]`` of the ray ``s * theta``, to about 1% in ``s``.

    For objectives convex along the ray with cheap exact slopes there
    (``problem.ray_slope(point, scaled, s)`` returns the slope first and
    ``problem.scaled(point, s)`` the point): the slope rises with ``s``, so
    bisection over the scales of ``RAY_SCALES`` finds the two neighbours
    that bracket its zero (two slopes when they are the two largest, at most
    8), and linear interpolation of the
    slope between them places the minimum. Only scales of ``RAY_SCALES`` are
    asked for before the final point, so an objective that has the slope at
    all of them at once (read in one pass) can answer without reading data.
    Returns the final point if it is lower than ``point``, else ``point``.
    """
    last = RAY_SCALES.shape[0] - 1

    def slope(index):
        # a Python float: a NumPy scalar times an array-API array is neither
        scale = float(RAY_SCALES[index])
        scaled = point if index == last else problem.scaled(point, scale)
        return problem.ray_slope(point, scaled, scale)[0]

    high, high_slope = last, slope(last)
    if high_slope <= 0:
        return point
    # invariant: the slope is positive at `high` and not at `low` (-1: none)
    low = low_slope = -1
    # a start near the optimum is bracketed by the two largest scales: try
    # that first, then bisect
    middle = last - 1
    while high - low > 1:
        middle_slope = slope(middle)
        if middle_slope > 0:
            high, high_slope = middle, middle_slope
        else:
            low, low_slope = middle, middle_slope
        middle = (low + high) // 2
    if low < 0:
        scale = float(RAY_SCALES[0])
    else:
        fraction = -low_slope / (high_slope - low_slope)
        scale = float(RAY_SCALES[low] + fraction * (RAY_SCALES[high] - RAY_SCALES[low]))
    scaled = problem.scaled(point, scale)
    return scaled if scaled.loss < point.loss else point
