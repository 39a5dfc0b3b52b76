"""Linear classifier trained for its expected accuracy under Gaussian score noise."""

# SPDX-License-Identifier: BSD-3-Clause
#
# EXACT (Karpukhin et al., 2022) adds i.i.d. N(0, sigma^2) noise to every class
# score and maximises the probability that the true class still wins,
#     A(x, y) = int phi(e) prod_{j != y} Phi((s_y - s_j) / sigma + e) de.
# The reference implementation estimates A by sampling and trains by SGD; for a
# linear model the integral is one-dimensional, so here it is computed by
# Gauss-Hermite quadrature together with its exact gradient, and the fit is a
# short sequence of L-BFGS solves with the noise annealed from large to small.

import copy
import math
import warnings
from functools import reduce
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.sparse import diags_array
from scipy.special import ndtr
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, validate_data

from ._argmax import argmax_probabilities
from ._backend import (
    asarray,
    get_namespace_and_device,
    is_dask_collection,
    issparse,
    lazy_blockwise,
    log_zero_as_tiny,
    to_numpy,
)
from ._closed_form import choose_solver, default_closed_form
from ._linear import LinearScoresMixin
from ._losses import PenalisedLogLoss
from ._moments import grouped_moments, merge_moments
from ._newton import damped_newton, shrink_along_ray

# The rules and node counts live in _quadrature (shared with _argmax); the names
# below are the ones this module and its tests have always used.
from ._quadrature import MAX_GAUSS_HERMITE_NODES as _MAX_NODES
from ._quadrature import NEGLIGIBLE_MARGIN as _NEGLIGIBLE_MARGIN
from ._quadrature import TRAINING_NEGLIGIBLE_MARGIN as _FIT_NEGLIGIBLE_MARGIN
from ._quadrature import expected_accuracy_nodes as _default_n_nodes
from ._quadrature import gauss_hermite as _gauss_hermite
from ._quadrature import training_gauss_hermite as _training_gauss_hermite
from ._quadrature import training_nodes as _fit_n_nodes
from ._quadrature import win_probability as _quadrature
from ._validation import canonical_sparse, check_sample_weight, encode_labels

__all__ = ["AccuracyOptimizedLinear", "expected_accuracy"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
# Stages before the last only supply a smoothed starting point: they see at most
# this many rows (an evenly spaced subset), so their cost does not grow with n.
_COARSE_ROWS = 10_000
# The fit on all rows, on more (weighted row, other class) pairs than this,
# first climbs under a rough rule of the quadrature (nodes, saturation): on
# fewer pairs the quadrature is not what the fit's time is made of. Two
# classes use a closed form, which no rule makes cheaper.
_ROUGH_PAIRS = 2**16
_ROUGH_NODES = 4
_ROUGH_SATURATION = 3.0
# The rough climb reads X in single precision up to this magnitude: the
# squared scores of ordinary data (rows of weight 0 included) then stay far
# below float32's largest value.
_SINGLE_MAX = 2.0**40
# One row in this many (by hash) is held out for the second start and the
# calibration; with fewer held-out rows than _MIN_HELD_OUT (data sets below about
# 50 rows) a noise level fitted on them means nothing, and neither is used.
_HOLDOUT_PERIOD = 5
_MIN_HELD_OUT = 10
# A row whose leverage in the within-class scatter exceeds this sets more than
# half of the scatter along its own direction (see _high_leverage_rows).
_MAX_LEVERAGE = 0.5
# Probabilities below this count as this in a log-loss, as in scikit-learn.
_LOG_LOSS_EPS = np.finfo(np.float64).eps
# Upper end of the calibrated noise level in unit-spread score units: at 100
# every class is equally likely to within 1%.
_MAX_PROBA_SIGMA = 100.0
# Lower end of the calibrated noise level, relative to sigma_final: at
# sigma_final itself many classes' held-out rows asked for less noise (the
# bound was reached and the probabilities were too flat).
_PROBA_FLOOR = 0.1
# Upper end of the weight of the nearly uniform distribution in the
# calibrated probabilities: the order of the scores must still show.
_MAX_SMOOTHING = 0.9
# The likelihood candidate is LogisticRegression's objective (C = 1) solved by
# Newton's method, to a mean gradient far below lbfgs's default tolerance (so
# that sparse and dense copies of the data, whose Newton directions differ,
# end at the same model), or to that tolerance where rounding stalls it.
_LIKELIHOOD_C = 1.0
_LIKELIHOOD_TOL = 1e-8
_LIKELIHOOD_STALL_TOL = 1e-4
_LIKELIHOOD_MAX_ITER = 100
# Candidates whose held-out accuracy is within this weight (in units of one
# observation) of the best one tie on accuracy; their out-of-fold accuracy or
# held-out log-loss then decides.
_NEAR_TIE = 1.0
# Parameters of the calibration fitted to the held-out rows: a scale and a
# smoothing weight.
_FITTED_PARAMETERS = 2
# Held-out fifths smaller than this break a near tie between the start and the
# likelihood optimum on all five folds (both are cheap to refit).
_FOLD_MAX_HELD_OUT = 1000
# The trained model replaces its start only when it classifies more held-out
# rows right by this many standard deviations of a chance difference.
_GAIN_DEVIATIONS = 2.0
# Magnitudes whose squares stay normal float64 numbers.
_LARGEST_SAFE = math.sqrt(np.finfo(np.float64).max)
_SMALLEST_SAFE = math.sqrt(np.finfo(np.float64).tiny)


def _accuracy_terms(
    margins, n_nodes, *, gradient=True, saturation=_NEGLIGIBLE_MARGIN, training=False
):
    """A and dA/du for margins ``u = delta / sigma`` of shape (n, n_classes - 1).

    ``training`` takes the rule of the training objective (see
    :func:`~skprob._quadrature.training_gauss_hermite`).
    """
    if margins.shape[1] == 1:
        # Two classes: the difference of two noises is N(0, 2), closed form.
        v = margins[:, 0] / _SQRT2
        value = ndtr(v)
        grad = None
        if gradient:
            grad = (np.exp(-0.5 * v * v) * (_INV_SQRT_2PI / _SQRT2))[:, None]
        return value, grad
    rule = _training_gauss_hermite if training else _gauss_hermite
    nodes, weights = rule(n_nodes)
    return _quadrature(
        margins, nodes, weights, gradient=gradient, saturation=saturation
    )


def _other_classes(y_index, n_classes):
    """Column indices of the classes other than ``y`` for every row, (n, K - 1)."""
    return (y_index[:, None] + np.arange(1, n_classes)) % n_classes


class _Objective:
    """Mean expected accuracy of normalised scores and its gradient.

    Parameters are ``theta = [W.ravel(), b]`` with one row per class, or a single
    row (class 1 against class 0) for two classes. Scores ``S = X W^T + b`` are
    centred per row (only differences matter), ``T = S - mean_k S``, and divided
    by their spread ``c``, the root of the interquartile mean over the
    training rows of ``|T_i|^2 / K`` (the middle half of the rows by weight).
    The objective is therefore unchanged when ``theta`` is multiplied by a
    positive number and, unlike a root-mean-square over all rows (EXACT's
    normalisation of the logits), the spread cannot be set by a few rows with
    huge scores: one far point would otherwise shrink every other margin to
    nothing. Unlike a median, it moves smoothly when rows swap places, which
    L-BFGS needs. Should the middle half of the rows tie on every score
    (``c = 0``), the root-mean-square over all rows is used instead.
    The optional penalty ``alpha |W_c|^2 / v^2`` uses the root-mean-square ``v``
    of the scores centred over the samples as well, ``V = T - sum_i w_i T_i``:
    it depends on the direction of ``W`` only, and large intercepts cannot
    shrink it. All arrays are float64 NumPy on the host.
    """

    def __init__(
        self,
        X,
        y_index,
        weights,
        n_classes,
        *,
        fit_intercept,
        alpha,
        margin,
        n_nodes,
        saturation=_FIT_NEGLIGIBLE_MARGIN,
    ):
        self.X = X
        self.w = weights / np.sum(weights)
        self.n_classes = n_classes
        self.n_rows = 1 if n_classes == 2 else n_classes
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.margin = margin
        self.n_nodes = n_nodes
        self.saturation = saturation
        self.rows = np.arange(X.shape[0])
        # Flat positions in the (n, K) scores of each row's own class and, for
        # two classes, of the other: one gather each instead of fancy indexing
        # per evaluation (more classes take every column, see _margins).
        self.true_at = self.rows * n_classes + y_index
        self.others_at = None
        if n_classes == 2:
            self.others_at = self.rows * n_classes + 1 - y_index
        # Equal weights (the usual case) need the two quartiles of the squared
        # scores, not a full sort.
        self.equal_weights = bool(np.all(weights == weights[0]))
        self.ones = np.ones(X.shape[0])
        self._forget()

    def _forget(self):
        """Drop the kept scores and result of the last evaluation."""
        self._last_key, self._last_scores = None, None
        self._last_call = (None, None)

    def rough(self, n_nodes, saturation):
        """This objective, roughly: another quadrature rule, single precision.

        A rule of few nodes that skips pairs from a small margin on, and a
        dense ``X`` read in single precision (the products with ``X`` are
        memory-bound), cost a fraction of an evaluation and move the
        objective by far less than what an iteration gains away from the
        optimum. Sparse ``X``, and a dense one with a value beyond
        ``_SINGLE_MAX`` (whose scores could overflow when squared), are
        shared as they are.
        """
        rough = copy.copy(self)
        rough.n_nodes, rough.saturation = n_nodes, saturation
        if not issparse(self.X) and np.max(_column_largest(self.X)) <= _SINGLE_MAX:
            rough.X = self.X.astype(np.float32)
        rough._forget()
        return rough

    def unpack(self, theta):
        """Full (K, d) coefficients and (K,) intercepts from ``theta``."""
        n_features = self.X.shape[1]
        size = self.n_rows * n_features
        coef = theta[:size].reshape(self.n_rows, n_features)
        if self.fit_intercept:
            intercept = theta[size:]
        else:
            intercept = np.zeros(self.n_rows)
        if self.n_rows == 1:
            coef = np.concatenate([np.zeros((1, n_features)), coef])
            intercept = np.concatenate([[0.0], intercept])
        return coef, intercept

    def _root_mean_square(self, centred):
        squares = np.einsum("ij,ij->i", centred, centred)
        return math.sqrt(self.w @ squares / self.n_classes)

    def _spread(self, centred):
        """``(c, u)``: the spread and the row weights of its gradient.

        ``c^2`` is the interquartile mean of ``|T_i|^2 / K``: each row counts
        with the part of its weight that lies between the weighted quartiles
        of the sorted values. ``d c / d S_ik = u_i T_ik / (K c)`` with ``u``
        those parts over one half (the centring is a projection).
        """
        # einsum: numpy's sum over short rows is slow
        squares = np.einsum("ij,ij->i", centred, centred)
        u = np.zeros_like(self.w)
        if self.equal_weights:
            # Row of rank r covers [r / n, (r + 1) / n): only ranks from the one
            # holding 1/4 to the one holding 3/4 overlap the band.
            n = squares.shape[0]
            low = math.floor(0.25 * n)
            high = max(low, math.ceil(0.75 * n) - 1)
            order = np.argpartition(squares, (low, high))[low : high + 1]
            ranks = np.arange(low, high + 1)
            upper, lower = (ranks + 1) / n, ranks / n
        else:
            order = np.argsort(squares)
            upper = np.cumsum(self.w[order])
            lower = upper - self.w[order]
        inside = np.minimum(upper, 0.75) - np.maximum(lower, 0.25)
        u[order] = np.maximum(inside, 0.0) / 0.5
        band = u @ squares
        if band > 0:
            return math.sqrt(band / self.n_classes), u
        return self._root_mean_square(centred), self.w

    def varies(self, theta):
        """Whether the row-centred scores differ between weighted rows."""
        centred = self.centred_scores(theta)[self.w > 0]
        return bool(np.any(centred != centred[:1]))

    def centred_scores(self, theta):
        """Row-centred training scores ``T = S - mean_k S``.

        Straight from centred coefficients: only score differences matter
        (the same argmax, the same margins as ``S``). Read-only: the array is
        kept for the next call at the same ``theta``.
        """
        # The fit asks again for the point L-BFGS evaluated last (its spread,
        # whether its scores vary, a start's value then its gradient): the
        # last scores are kept, read-only, keyed by the parameters' bytes.
        key = np.asarray(theta, dtype=np.float64).tobytes()
        if key != self._last_key:
            coef, intercept = self.unpack(theta)
            coef = (coef - np.mean(coef, axis=0)).astype(self.X.dtype, copy=False)
            centred = self.X @ coef.T
            centred += intercept - np.mean(intercept)
            centred.flags.writeable = False
            self._last_key, self._last_scores = key, centred
        return self._last_scores

    def _margins(self, centred, c, sigma):
        """Margins in noise units and where ``margin`` clipped them (or None).

        ``(T_y - T_j) / (c sigma)`` for every other class ``j``: of shape
        (n, 1) for two classes (the closed form's), else (n, K) with the
        row's own class at ``saturation``, a pair the quadrature skips (its
        gradient is 0), which spares gathering the other classes one by one.
        """
        flat = centred.ravel()
        if self.n_classes == 2:
            margins = (flat[self.true_at] - flat[self.others_at])[:, None]
        else:
            margins = flat[self.true_at][:, None] - centred
        margins *= 1.0 / (c * sigma)
        beyond = None
        if self.margin is not None:
            beyond = margins >= self.margin / sigma
            np.minimum(margins, self.margin / sigma, out=margins)
        if self.n_classes > 2:
            margins.ravel()[self.true_at] = self.saturation
        return margins, beyond

    def _to_scores(self, g):
        """Gradient w.r.t. ``T`` (up to ``-1 / (c sigma)``) of one w.r.t. the margins.

        A margin is ``T_y - T_j`` (scaled): ``g`` goes to each other class as
        it is and, summed with the opposite sign, to the row's own class.
        ``g`` in the layout of :meth:`_margins`; for more than two classes it
        becomes the result (its own-class column is 0).
        """
        if self.n_classes == 2:
            d_scores = np.zeros((g.shape[0], 2))
            d_scores.ravel()[self.others_at] = g[:, 0]
        else:
            d_scores = g
        d_scores.ravel()[self.true_at] = -np.einsum("ij->i", g)
        return d_scores

    def spread(self, theta):
        """Spread ``c`` of the training scores (0 when every score ties)."""
        return self._spread(self.centred_scores(theta))[0]

    def __call__(self, theta, sigma, gradient=True):
        """``(-objective, -gradient)`` at ``theta`` for noise level ``sigma``.

        With ``gradient=False``, ``-objective`` alone (at about half the cost).
        """
        # A solve's first point is often the one evaluated just before (the
        # end of the rough climb, rated by the training rule): the last
        # result is kept, keyed by the parameters' bytes.
        key = (np.asarray(theta, dtype=np.float64).tobytes(), sigma, gradient)
        if key != self._last_call[0]:
            self._last_call = (key, self._evaluate(theta, sigma, gradient))
        result = self._last_call[1]
        return (result[0], result[1].copy()) if gradient else result

    def _evaluate(self, theta, sigma, gradient):
        """What :meth:`__call__` returns, computed."""
        coef, _ = self.unpack(theta)
        # Every gradient below is one w.r.t. T whose rows sum to zero, hence
        # also the gradient w.r.t. the scores S.
        centred = self.centred_scores(theta)
        c, u = self._spread(centred)
        margins, beyond = self._margins(centred, c, sigma)
        value, d_value = _accuracy_terms(
            margins,
            self.n_nodes,
            gradient=gradient,
            saturation=self.saturation,
            training=True,
        )
        if not gradient:
            objective = self.w @ value
            if self.alpha > 0:
                coef_c = coef - np.mean(coef, axis=0)
                v = self._root_mean_square(centred - self.w @ centred)
                objective -= self.alpha * np.sum(coef_c * coef_c) / (v * v)
            return -objective

        # g = d objective / d margins; d margins / d T = +-1 / (c sigma), so
        # g goes into the scores as it is and the whole is scaled once
        g = d_value  # a fresh array: scaled in place
        g *= self.w[:, None]
        if beyond is not None:
            g[beyond] = 0.0
        # the margins scale like 1 / c
        d_c = -np.einsum("ij,ij->", g, margins) / c
        d_scores = self._to_scores(g)
        d_scores *= -1.0 / (c * sigma)
        d_scores += ((d_c / (self.n_classes * c)) * u)[:, None] * centred
        objective = self.w @ value

        d_coef_penalty = 0.0
        if self.alpha > 0:
            coef_c = coef - np.mean(coef, axis=0)
            varying = centred - self.w @ centred
            v = self._root_mean_square(varying)
            penalty = self.alpha * np.sum(coef_c * coef_c) / (v * v)
            objective -= penalty
            d_scores += (2.0 * penalty / (self.n_classes * v * v)) * (
                self.w[:, None] * varying
            )
            d_coef_penalty = (2.0 * self.alpha / (v * v)) * coef_c

        if issparse(self.X):
            # (X^T G)^T: the product SciPy sparse X computes
            d_coef = np.asarray(self.X.T @ d_scores).T
        else:
            # G^T X: BLAS reads a C-ordered X (the usual layout) along its
            # rows, faster than in X^T G
            d_coef = d_scores.T.astype(self.X.dtype, copy=False) @ self.X
        d_coef = d_coef - d_coef_penalty
        d_intercept = self.ones @ d_scores  # a product: faster than np.sum
        if self.n_rows == 1:
            # W_0 = 0 is fixed; the gradient of the free row is row 1.
            d_coef, d_intercept = d_coef[1:], d_intercept[1:]
        grad = d_coef.ravel().astype(np.float64, copy=False)
        if self.fit_intercept:
            grad = np.concatenate([grad, d_intercept])
        return -objective, -grad


def _sigma_schedule(sigma_init, sigma_final, n_stages):
    """Geometric sequence from ``sigma_init`` to ``sigma_final`` (inclusive)."""
    if n_stages == 1:
        return [float(sigma_final)]
    ratio = sigma_final / sigma_init
    return [sigma_init * ratio ** (k / (n_stages - 1)) for k in range(n_stages)]


def _row_keys(X, y_index):
    """A 64-bit hash of each row's values (as float32) and label."""
    multipliers = np.random.default_rng(0).integers(
        1, 2**63, size=X.shape[1] + 1, dtype=np.uint64
    )
    # A multiply-and-sum over the float32 bit patterns (wrapping at 2^64: float32
    # and float64 copies of the same data split alike, and a zero adds nothing,
    # so a sparse row hashes as its dense copy), then the MurmurHash3 finaliser
    # so that the low bits depend on every input bit.
    key = _row_bit_sums(X, multipliers[1:]) + y_index.astype(np.uint64) * multipliers[0]
    key ^= key >> np.uint64(33)
    key *= np.uint64(0xFF51AFD7ED558CCD)
    key ^= key >> np.uint64(33)
    return key


def _holdout_rows(X, y_index, weights, n_classes):
    """Rows held out to calibrate the probabilities: about one in five.

    Chosen by a hash of each row's values and label rather than at random, so
    that equal rows always fall on the same side (a weight of 2 and a repeated
    row give the same split, and the row order does not matter) and the fit is
    deterministic. None when the split leaves a class without a weighted row
    among the kept ones or fewer than ``_MIN_HELD_OUT`` weighted held-out rows.
    """
    held_out = _row_keys(X, y_index) % np.uint64(_HOLDOUT_PERIOD) == 0
    kept_classes = np.unique(y_index[~held_out & (weights > 0)])
    n_held_out = np.count_nonzero(weights[held_out] > 0)
    if kept_classes.shape[0] < n_classes or n_held_out < _MIN_HELD_OUT:
        return None
    return held_out


def _row_bit_sums(X, multipliers):
    """``sum_j bits(float32(x_ij)) * multipliers_j`` of each row, modulo 2^64."""
    # values out of float32 range hash as inf, which is harmless here
    with np.errstate(over="ignore"):
        if not issparse(X):
            single = np.ascontiguousarray(X, dtype=np.float32)
            return single.view(np.uint32).astype(np.uint64) @ multipliers
        X = X.tocsr()
        single = X.data.astype(np.float32)
    terms = single.view(np.uint32).astype(np.uint64) * multipliers[X.indices]
    # row sums as differences of a wrapping running sum: exact modulo 2^64
    running = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(terms)])
    return running[X.indptr[1:]] - running[X.indptr[:-1]]


def _kept_rows(held_out, y_index, weights, n_classes):
    """Indices of the rows the second start is fitted on.

    The rows not held out, or an evenly spaced subset of at most about
    ``_COARSE_ROWS`` of them when that subset still has every class: the
    second start and the noise level need no more, and this bounds their cost.
    """
    kept = np.flatnonzero(~held_out)
    subset = kept[:: -(-kept.shape[0] // _COARSE_ROWS)]
    if np.unique(y_index[subset[weights[subset] > 0]]).shape[0] == n_classes:
        return subset
    return kept


def _high_leverage_rows(X, y_index, weights, moments):
    """Rows that alone carry most of the within-class scatter along a direction.

    The leverage of row ``i`` is ``h_i = u z_i^T S^+ z_i`` with ``z_i`` its
    offset from its class mean, ``S`` the weighted within-class scatter of all
    rows and ``u`` the smallest positive weight, the weight of one
    observation: a weight of 2 counts as two equal rows of leverage ``h_i``
    each (``sum_i w_i h_i / u`` is the rank ``r`` of ``S``), so many equal
    rows are evidence where one far row is not. A row with ``h_i`` above
    ``_MAX_LEVERAGE`` sets more than half of ``S`` along its own direction:
    one far row, at any distance beyond a few radii, has ``h`` close to 1 and
    no ordinary row does, unless the rows are so few that every one has a high
    leverage (``r / n`` on average, ``n`` the total weight in units of ``u``):
    the bound is then raised to twice that average, and nothing is flagged
    once it reaches 1. Rows flagged in a class that would lose all its weight
    are kept, and rows of weight 0 (left out already) are not flagged again.
    Returns the boolean mask, or None when no row is flagged.
    """
    scatter = np.sum(moments.scatters, axis=0)
    scale = np.sqrt(np.diagonal(scatter))
    scale = np.where(scale > 0, scale, 1.0)
    eigenvalues, eigenvectors = np.linalg.eigh(scatter / np.outer(scale, scale))
    keep = eigenvalues > 1e-10 * max(eigenvalues[-1], 0.0)
    n_weighted = np.sum(weights) / np.min(weights[weights > 0])
    bound = max(_MAX_LEVERAGE, 2.0 * np.count_nonzero(keep) / max(n_weighted, 1))
    if bound >= 1.0 or not np.any(keep):
        return None
    # z_i projected on the whitened directions, without densifying a sparse X
    whiten = eigenvectors[:, keep] / np.sqrt(eigenvalues[keep]) / scale[:, None]
    projected = np.asarray(X @ whiten) - (moments.means @ whiten)[y_index]
    # per unit of weight: a weight of 2 and a repeated row are flagged alike,
    # and many equal rows are evidence, not one far point
    unit = np.min(weights[weights > 0])
    leverage = unit * np.einsum("ij,ij->i", projected, projected)
    drop = (leverage > bound) & (weights > 0)
    left = np.bincount(y_index, np.where(drop, 0.0, weights), moments.weights.shape[0])
    drop &= (left > 0)[y_index]
    return drop if np.any(drop) else None


class _LbfgsReport:
    """Progress of one L-BFGS solve on stdout, as L-BFGS-B's own report reads.

    :class:`~sklearn.linear_model.LogisticRegression` passed ``verbose`` to
    SciPy's L-BFGS-B as its print level (``iprint``): ``f`` and the largest
    gradient entry at iterate 0 and then every 50 iterations for
    ``verbose=1``, every iteration from 2, and a closing summary. SciPy 1.15
    removed that output, so the same lines are printed here. Wraps the
    objective to keep the gradient of the last evaluation (the accepted point
    when the callback runs).
    """

    def __init__(self, objective, verbose):
        self.objective = objective
        self.every = 50 if verbose == 1 else 1
        self.n_iter = 0
        self.started = False
        self.value = self.grad = None

    def __call__(self, theta, sigma):
        self.value, self.grad = self.objective(theta, sigma)
        if not self.started:
            self.started = True
            print(
                "AccuracyOptimizedLinear: L-BFGS-B on "
                f"{self.objective.X.shape[0]} rows, N = {theta.shape[0]} "
                f"parameters, sigma = {sigma:.4g}"
            )
            self._line()
        return self.value, self.grad

    def _line(self):
        print(
            f"At iterate {self.n_iter:5d}    f= {self.value: .5e}    "
            f"|proj g|= {np.max(np.abs(self.grad)):.5e}"
        )

    def iteration(self, intermediate_result):
        self.n_iter += 1
        if self.n_iter % self.every == 0:
            self._line()

    def close(self, result, sigma):
        print(
            f"Tit = {result.nit}, Tnf = {result.nfev}, F = {result.fun:.6e} "
            f"(minus the expected accuracy at sigma = {sigma:.4g}): "
            f"{result.message}"
        )


def _in_units(X, units):
    """X with each column divided by its unit (X itself when all units are 1)."""
    if np.all(units == 1.0):
        return X
    return X @ diags_array(1.0 / units) if issparse(X) else X / units


def _column_units(X):
    """Per-column powers of two that bring a column's largest value near 1.

    1 for columns whose largest absolute value lies within ``2^+-100`` (or
    that are all zero); otherwise ``2^e`` with ``e`` the binary logarithm of
    that value rounded down, which brings it into [1, 2). Dividing by a power
    of two is exact, so the fit of ``X * 2^k`` is that of ``X`` wherever the
    columns of ``X`` peak in [1, 2), and the squares of such a column (in the
    class covariances) neither underflow nor overflow.
    """
    largest = _column_largest(X)
    extreme = (largest > 0) & ((largest < 2.0**-100) | (largest > 2.0**100))
    exponents = np.where(
        extreme, np.floor(np.log2(np.where(extreme, largest, 1.0))), 0.0
    )
    return np.ldexp(1.0, exponents.astype(np.int64))


def _column_largest(X, rows=None):
    """The largest absolute value of each column over ``rows`` (a mask; all rows
    by default), 0 where there is none."""
    if issparse(X):
        chosen = X if rows is None else X[rows]
        if not chosen.shape[0]:
            return np.zeros(X.shape[1])
        return abs(chosen).max(axis=0).toarray().ravel()
    # the largest and the smallest value instead of abs(X): no copy of X
    where = True if rows is None else rows[:, None]
    high = np.max(X, axis=0, where=where, initial=-np.inf)
    low = np.min(X, axis=0, where=where, initial=np.inf)
    return np.maximum(np.maximum(high, -low), 0.0)


def _check_squares(X, weights, units):
    """Refuse columns whose values' squares overflow or underflow float64.

    Over the rows of positive weight of ``X``, whose columns are in the units
    ``units`` (as :func:`_column_units`).
    """
    largest = _column_largest(X, weights > 0)
    # an overflow to infinity compares as it should
    with np.errstate(over="ignore"):
        magnitude = largest * units
        too_large = largest > _LARGEST_SAFE / units
        too_small = (largest > 0) & (largest < _SMALLEST_SAFE / units)
    for problem, bad in (("overflow", too_large), ("underflow", too_small)):
        if np.any(bad):
            columns = np.flatnonzero(bad)
            shown = columns[:10].tolist()
            extreme = magnitude[columns]
            reach = np.max(extreme) if problem == "overflow" else np.min(extreme)
            raise ValueError(
                f"AccuracyOptimizedLinear: the values of column(s) {shown}"
                f"{' ...' if columns.size > 10 else ''} reach {reach:.3g} in absolute "
                f"value: their squares {problem} float64. The likelihood candidate, "
                "LogisticRegression's objective, depends on the units of the columns "
                "and means nothing in such units; rescale them (e.g. with "
                "StandardScaler)."
            )


def _frequency_intercepts(class_weights, sigma):
    """Intercepts whose Gaussian argmax probabilities are the class frequencies.

    The model of :meth:`AccuracyOptimizedLinear.predict_proba` for rows that
    all share one score vector ``b``: the maximum likelihood fit of the class
    frequencies ``pi``, ``min_b -sum_k pi_k log A_k(b)`` with ``A_k`` the
    probability that class ``k`` wins, whose minimum is ``A = pi``. Returns
    ``b`` (centred) as the objective lays out intercepts: one value (class 1
    against class 0) for two classes. The quadrature is the accurate rule of
    :func:`expected_accuracy` (the probabilities are the answer here).
    """
    n_classes = class_weights.shape[0]
    n_nodes = _default_n_nodes(n_classes)
    priors = class_weights / np.sum(class_weights)
    rows = np.arange(n_classes)
    others = _other_classes(rows, n_classes)

    def loss(b):
        margins = (b[:, None] - b[others]) / sigma
        value, grad = _accuracy_terms(margins, n_nodes)
        value = np.maximum(value, _LOG_LOSS_EPS)
        g = -(priors / value)[:, None] * grad / sigma
        d_b = np.sum(g, axis=1)
        np.add.at(d_b, others, -g)
        return -(priors @ np.log(value)), d_b

    start = sigma * math.sqrt(2.0) * np.log(np.maximum(priors, _LOG_LOSS_EPS))
    result = minimize(
        loss,
        start - np.mean(start),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-12},
    )
    b = result.x - np.mean(result.x)
    return b[1:] - b[:1] if n_classes == 2 else b


def _merge(parts):
    """Moments of the union of the disjoint groups of ``parts``."""
    return reduce(lambda a, b: merge_moments(a, b, np), parts)


class _HeldOut(NamedTuple):
    """The chosen model of the kept rows and its scores on the held-out ``rows``.

    ``choice`` names it: ``"start"`` (the closed form), ``"trained"`` (the
    expected accuracy maximised from it) or ``"likelihood"`` (the optimum of
    LogisticRegression's objective). ``calibration`` is its probability model
    where the selection already has it (fitted to its held-out scores, or the
    likelihood optimum's own softmax), else None. ``likelihood`` is that
    optimum at its own scale (None without it): the start of the fit of
    the same objective on all rows.
    """

    theta: np.ndarray
    scores: np.ndarray
    rows: np.ndarray
    choice: str
    n_iter: np.ndarray
    calibration: object = None
    likelihood: object = None


class _Calibration(NamedTuple):
    """The probability model of :meth:`AccuracyOptimizedLinear.predict_proba`."""

    noise: str
    scale: float
    smoothing: float


def _softmax_true_log(delta, scale):
    """``log softmax(s / scale)`` of the true class from its margins ``delta``."""
    z = -delta / scale
    top = np.maximum(np.max(z, axis=1), 0.0)
    return -(top + np.log(np.exp(-top) + np.sum(np.exp(z - top[:, None]), axis=1)))


def _smoothed_loss(p_true, flat_true, w, low):
    """``(loss, weight)``: the held-out log-loss at the best mixture weight.

    The probability of the true class is ``(1 - e) p + e f`` with ``f`` that
    of the nearly uniform distribution; the loss is convex in ``e``.
    """
    if _MAX_SMOOTHING <= low:
        mixed = (1.0 - low) * p_true + low * flat_true
        return -(w @ np.log(np.maximum(mixed, _LOG_LOSS_EPS))), low

    def loss(weight):
        mixed = (1.0 - weight) * p_true + weight * flat_true
        # clipped as sklearn.metrics.log_loss clips probabilities
        return -(w @ np.log(np.maximum(mixed, _LOG_LOSS_EPS)))

    result = minimize_scalar(
        loss, bounds=(low, _MAX_SMOOTHING), method="bounded", options={"xatol": 1e-4}
    )
    return float(result.fun), float(result.x)


def _calibration(scores, y_index, weights, sigma_final):
    """Noise family, scale and smoothing of the smallest held-out log-loss.

    Returns the :class:`_Calibration` and that log-loss.

    Each family (Gaussian, the training model, and Gumbel, whose argmax
    probabilities are the softmax) gets the scale and the smoothing weight
    that minimise the weighted log-loss of the held-out scores; the family
    with the smaller loss is kept. The scale starts from a floor of
    ``_PROBA_FLOOR * sigma_final`` (the Gumbel scale with the same variance of
    a score difference): it keeps a finite level when the held-out rows are
    all classified with room to spare, where the log-loss keeps falling as
    the noise vanishes. The smoothing mixes a nearly uniform distribution
    (the softmax at scale ``_MAX_PROBA_SIGMA``, ordered as the scores) into
    the probabilities with a weight of at least ``0.5 / (n + K)`` (``n`` the
    held-out weight, in units of the smallest training weight, so that
    integer weights and repeated rows count alike): as if half a row more had
    been seen with each class equally likely, it bounds the log-loss of a row
    by about ``log(2 (n + K))``, where a confident mistake that the held-out
    rows happened not to contain would otherwise cost without bound. A larger
    weight, with a smaller scale, fits scores whose order is informative but
    whose size is not (a model trained for accuracy may be sure of rows it
    only barely ranks right). Every part keeps the order of the scores, so
    the most probable class stays the predicted one.
    """
    n_classes = scores.shape[1]
    rows = np.arange(scores.shape[0])
    others = _other_classes(y_index, n_classes)
    delta = scores[rows, y_index][:, None] - np.take_along_axis(scores, others, axis=1)
    n_nodes = _fit_n_nodes(n_classes)
    w = weights / np.sum(weights)
    low_smoothing = 0.5 / (float(np.sum(weights)) + n_classes)
    flat = np.exp(_softmax_true_log(delta, _MAX_PROBA_SIGMA))

    def gaussian(log_sigma):
        value, _ = _accuracy_terms(delta / math.exp(log_sigma), n_nodes, gradient=False)
        return _smoothed_loss(value, flat, w, low_smoothing)

    def gumbel(log_scale):
        p_true = np.exp(_softmax_true_log(delta, math.exp(log_scale)))
        return _smoothed_loss(p_true, flat, w, low_smoothing)

    fits = {}
    floor = _PROBA_FLOOR * sigma_final
    # a Gumbel difference has variance pi^2 scale^2 / 3, a Gaussian 2 sigma^2
    for noise, loss, low in [
        ("gaussian", gaussian, floor),
        ("gumbel", gumbel, floor * math.sqrt(6.0) / math.pi),
    ]:
        result = minimize_scalar(
            lambda level: loss(level)[0],
            bounds=(math.log(low), math.log(max(low, _MAX_PROBA_SIGMA))),
            method="bounded",
            # 0.5% in the level is far below what the log-loss can tell apart
            # on held-out rows, in half the evaluations of the default 1e-5
            options={"xatol": 5e-3},
        )
        value, smoothing = loss(result.x)
        fits[noise] = (value, _Calibration(noise, math.exp(result.x), smoothing))
    noise = min(fits, key=lambda name: fits[name][0])
    return fits[noise][1], fits[noise][0]


def _likelihood_theta(X, y_index, weights, n_classes, theta, *, fit_intercept):
    """The optimum of LogisticRegression's objective from ``theta``; converged?

    The L2-penalised (``C = 1``) log-loss of the scores, solved by damped
    Newton after the best shrink along the ray of ``theta`` (a closed form of
    separable data has huge coefficients). ``theta`` and the result are laid
    out as :class:`_Objective` lays out its parameters.
    """
    n_features = X.shape[1]
    n_rows = 1 if n_classes == 2 else n_classes
    coef = theta[: n_rows * n_features].reshape(n_rows, n_features)
    if fit_intercept:
        coef = np.concatenate([coef, theta[n_rows * n_features :, None]], axis=1)
    problem = PenalisedLogLoss(
        X,
        y_index,
        weights,
        n_classes,
        C=_LIKELIHOOD_C,
        fit_intercept=fit_intercept,
        tol=_LIKELIHOOD_TOL,
    )
    start = shrink_along_ray(problem, problem.evaluate(coef))
    result = damped_newton(
        problem,
        start,
        max_iter=_LIKELIHOOD_MAX_ITER,
        tol=_LIKELIHOOD_TOL,
        stall_tol=_LIKELIHOOD_STALL_TOL,
    )
    fitted = result.point.theta
    if fit_intercept:
        fitted = np.concatenate([fitted[:, :-1].ravel(), fitted[:, -1]])
    return fitted.ravel(), result.converged


def _held_out_loss(scores, y_index, weights, calibration):
    """Weighted log-loss of the held-out rows under a Gumbel ``calibration``."""
    rows = np.arange(scores.shape[0])
    others = _other_classes(y_index, scores.shape[1])
    delta = scores[rows, y_index][:, None] - np.take_along_axis(scores, others, axis=1)
    p_true = np.exp(_softmax_true_log(delta, calibration.scale))
    flat = np.exp(_softmax_true_log(delta, _MAX_PROBA_SIGMA))
    weight = calibration.smoothing
    mixed = np.maximum((1.0 - weight) * p_true + weight * flat, _LOG_LOSS_EPS)
    return -float(weights @ np.log(mixed)) / float(np.sum(weights))


def _clear_gain(scores, reference, y_index, weights):
    """Whether ``scores`` classify clearly more held-out rows right than ``reference``.

    A paired sign test (McNemar's) on the rows where exactly one of them is
    right: the net gain in weight must exceed ``_GAIN_DEVIATIONS`` standard
    deviations of that gain were both equally good (the root of the summed
    squared weights of those rows, in units of one observation).
    """
    right = np.argmax(scores, axis=1) == y_index
    reference_right = np.argmax(reference, axis=1) == y_index
    differ = right != reference_right
    gain = float(weights @ (right & differ)) - float(
        weights @ (reference_right & differ)
    )
    spread = math.sqrt(float(weights[differ] @ weights[differ]))
    return gain > 0 and gain > _GAIN_DEVIATIONS * spread


def _held_out_correct(scores, y_index, weights):
    """Weight of the held-out rows whose largest score is their class's."""
    return float(weights @ (np.argmax(scores, axis=1) == y_index))


def _check_margins_input(scores, y, sample_weight):
    """Host float64 ``(scores (n, K), y index (n,), weights (n,))`` for the function."""
    scores = check_array(
        to_numpy(scores),
        ensure_2d=False,
        dtype=np.float64,
        input_name="scores",
    )
    if scores.ndim == 1:
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    elif scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(
            "scores must be 1-D (binary) or 2-D of shape (n_samples, n_classes) "
            f"with at least 2 columns, got shape {scores.shape}."
        )
    y = to_numpy(y)
    if y.ndim != 1 or y.shape[0] != scores.shape[0]:
        raise ValueError(
            f"y must have shape ({scores.shape[0]},) to match scores, got {y.shape}."
        )
    if y.dtype.kind == "b":
        y = y.astype(np.intp)
    if y.dtype.kind not in "iu":
        raise TypeError(
            "y must hold integer class indices (columns of scores), got dtype "
            f"{y.dtype}."
        )
    n_classes = scores.shape[1]
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"y must hold class indices in [0, {n_classes - 1}] (columns of "
            f"scores), got values in [{y.min()}, {y.max()}]."
        )
    weights = check_sample_weight(sample_weight, scores)
    return scores, y.astype(np.intp), weights


def _mean_expected_accuracy(scores, y_index, weights, sigma, n_nodes):
    """Weighted mean of ``A`` for raw scores (n, K) and noise ``sigma`` (host)."""
    n_classes = scores.shape[1]
    others = _other_classes(y_index, n_classes)
    true = scores[np.arange(scores.shape[0]), y_index]
    with np.errstate(over="ignore"):
        # scores 1e308 apart: an infinite margin is the right limit (A = 0 or 1)
        delta = true[:, None] - np.take_along_axis(scores, others, axis=1)
    if n_nodes is None:
        n_nodes = _default_n_nodes(n_classes)
    value, _ = _accuracy_terms(delta / sigma, n_nodes, gradient=False)
    return float(weights @ value / np.sum(weights))


@validate_params(
    {
        "scores": ["array-like"],
        "y": ["array-like"],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "sample_weight": ["array-like", None],
        "n_nodes": [Interval(Integral, 2, _MAX_NODES, closed="both"), None],
    },
    prefer_skip_nested_validation=True,
)
def expected_accuracy(scores, y, sigma, *, sample_weight=None, n_nodes=None):
    """Expected accuracy of class scores perturbed by Gaussian noise.

    Every score receives independent ``N(0, sigma^2)`` noise; the expected
    accuracy of a sample is the probability that its true class still has the
    largest score,

    ``A(x, y) = int phi(e) prod_{j != y} Phi((s_y - s_j) / sigma + e) de``,

    computed by Gauss-Hermite quadrature (two classes: the closed form
    ``Phi((s_y - s_other) / (sigma sqrt(2)))``). As ``sigma -> 0`` it tends to
    the plain accuracy of ``argmax(scores)``.

    Read more in the :ref:`User Guide <accuracy_optimized_linear>`.

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class scores, for example a ``decision_function``. A 1-D array holds
        binary scores of class 1 against class 0 (class 1 wins when > 0).
    y : array-like of shape (n_samples,)
        Integer index of the true class of each sample (a column of
        ``scores``; 0 or 1 for 1-D scores).
    sigma : float > 0
        Standard deviation of the noise on each score, in the units of
        ``scores``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    n_nodes : int >= 2, default=None
        Gauss-Hermite nodes. ``None`` picks 32 (up to 10 classes), 48 (up to
        30), 80 (up to 100) or 128, for a quadrature error below about 1e-6.

    Returns
    -------
    accuracy : float
        Weighted mean of ``A`` over the samples, in [0, 1].

    See Also
    --------
    AccuracyOptimizedLinear : Linear classifier that maximises this quantity.
    argmax_probabilities : The probabilities of every class under the same noise.

    References
    ----------
    .. [1] I. Karpukhin, S. Dereka and S. Kolesnikov, "EXACT: How to Train Your
       Accuracy", arXiv:2205.09615, 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import expected_accuracy
    >>> scores = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 0.0]])
    >>> round(expected_accuracy(scores, [0, 1], sigma=1.0), 4)
    0.6057
    >>> round(expected_accuracy(scores, [0, 1], sigma=1e-3), 4)
    1.0
    """
    scores, y_index, weights = _check_margins_input(scores, y, sample_weight)
    return _mean_expected_accuracy(scores, y_index, weights, float(sigma), n_nodes)


class AccuracyOptimizedLinear(LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """Linear classifier trained for its expected accuracy (EXACT).

    Scores ``s = X W^T + b`` receive independent Gaussian noise ``N(0, sigma^2)``
    on each class; the model maximises the mean probability that the true class
    keeps the largest score (the expected accuracy), which tends to the
    training accuracy as ``sigma -> 0``. Unlike the cross-entropy and hinge
    losses, every sample's contribution is bounded.

    The expected accuracy and its exact gradient are computed by Gauss-Hermite
    quadrature (no sampling). Scores are normalised by a robust spread over
    the training set (the interquartile mean of the squared row-centred
    scores), which makes the objective independent of the scale of ``W`` and
    of a few rows with huge scores.

    The fit runs L-BFGS at ``sigma_final`` from the better of two starts:
    the closed-form model ``init`` on all rows, and the same fit made on
    about four rows in five (chosen by a hash of each row, so repeated rows
    and integer weights agree; at most 10 000 of them). That fit never ends
    with a lower training expected accuracy than the closed-form start (with
    ``alpha=0``). The held-out fifth first decides whether training helps at
    all (``selection``): between the closed-form start, the trained model and
    the optimum of LogisticRegression's objective, each fitted on the kept
    rows, it picks the most accurate (near ties by out-of-fold accuracy or
    log-loss), and the fit on all rows makes that kind of model. It also calibrates
    :meth:`predict_proba` (``calibration``), which does not change the
    predictions. Optionally
    ``sigma`` is first annealed from ``sigma_init`` over ``n_stages`` solves
    (the stages before the last use at most 10 000 evenly spaced rows); the
    last stage then also considers the annealed model as a start.

    On data with more than 65 536 pairs of a weighted row and another class
    (three classes or more), the L-BFGS solve of the fit on all rows first
    climbs under a rough objective: a quadrature of 4 nodes that leaves out the
    pairs beyond a margin of 3, on scores computed from a single-precision
    copy of ``X``. That climb takes about as many iterations as the exact
    one at a fraction of the cost of each; the training rule then takes over
    from its end (where that rates higher than the start) and stops by the
    same test, so the fit ends where that test holds, as without the climb.
    The models the held-out rows choose between are fitted without it.

    .. versionchanged:: 0.1.0
       The rough first climb on many pairs.

    A training row that alone spans a direction of the data (its leverage in
    the within-class scatter above 0.5, which one row far from the others
    reaches at any distance beyond a few radii) is left out of the fit: the
    rest of the data cannot confirm what it says along that direction, and
    the closed-form start, a moment method, would follow it wherever it lies.
    The rows left in are judged again without the rows left out, until none
    is added (a far row would hide a milder one along its direction). Such a
    row, however far, therefore leaves the model unchanged.

    Read more in the :ref:`User Guide <accuracy_optimized_linear>`.

    Parameters
    ----------
    sigma_init : float > 0, default=2.0
        Noise level of the first stage when ``n_stages > 1``, in normalised
        score units; must not be below ``sigma_final`` then.
    sigma_final : float > 0, default=0.2
        Noise level of the last stage, in normalised score units. It acts as
        a soft margin: smaller values follow the training accuracy more
        closely and can overfit small datasets (cross-validate it there, see
        the User Guide).
    n_stages : int >= 1, default=1
        Number of noise levels (L-BFGS solves). With 1, only ``sigma_final``.
        More stages can help from a poor start (such as ``init="zeros"``);
        from the analytic start they cost time and, on the real-data
        benchmark, no accuracy.
    alpha : float >= 0, default=0.0
        L2 penalty ``alpha * |W_c|^2 / v^2``: the squared norm of the centred
        coefficients ``W_c`` divided by the root-mean-square ``v`` of the
        scores across the training samples. A penalty on ``W`` itself would
        have no effect on a scale-invariant objective; this ratio depends on
        the direction of ``W`` only and, like ridge, favours directions along
        which the (standardised) features vary most. With ``alpha > 0`` the
        fit maximises the penalised objective, which may end with a lower
        expected accuracy than the start. 0 gives the plain EXACT objective.
    margin : float > 0, default=None
        If set, score differences ``(s_y - s_j) / c`` above ``margin`` are
        clipped to it during training (as in EXACT), so samples already
        classified with that margin stop influencing the fit.
    init : {"analytic", "logistic", "zeros"}, default="analytic"
        Starting point: :class:`AnalyticLogisticRegression`,
        :class:`~sklearn.linear_model.LogisticRegression`, or the direction of
        steepest ascent of the expected accuracy at ``W = 0`` (the weighted
        class means against their average; the normalised objective is not
        defined at ``W = 0`` itself).
    fit_intercept : bool, default=True
        Whether to fit the intercepts.
    calibration : {"holdout"} or None, default="holdout"
        How :meth:`predict_proba` turns scores into probabilities.
        ``"holdout"``: from the scores, on the held-out fifth, of the model
        fitted on the other rows that ``selection`` chose, the noise family
        (``noise_proba_``: Gaussian, the training model, or Gumbel, whose
        argmax probabilities are the softmax), its scale (``sigma_proba_``,
        at least a tenth of ``sigma_final``) and the weight
        (``smoothing_proba_``, from ``0.5 / (n + n_classes)`` for ``n``
        held-out rows, so that one confident mistake cannot cost much more
        than ``log(2 (n + n_classes))``, up to 0.9) of a nearly uniform
        distribution mixed in (the softmax of the scores at scale 100:
        nearly uniform, but ordered as the scores) of the smallest log-loss.
        Where ``selection`` chose the likelihood optimum, its own softmax
        (Gumbel noise at the scale of its fit) with the smallest weight.
        ``None``: Gaussian noise at ``sigma_``, the training level, which is
        overconfident.
        Either way the coefficients and the predictions are the same. Data
        sets too small to hold out 10 rows (below about 50 rows) use
        ``sigma_`` and the closed-form start only.

        .. versionchanged:: 0.1.0
           The Gumbel family, the lower floor and the smoothing, its weight
           fitted: the Gaussian level alone, at least ``sigma_final``, was far
           too confident on data sets with many classes or a few confident
           mistakes, and a model trained for accuracy can rank rows right
           while its score differences say little.
    selection : {"holdout"} or None, default="holdout"
        Whether training has to earn its place. ``"holdout"``: three models
        are fitted on the kept four fifths: the closed-form start ``init``,
        the model trained from it, and the optimum of
        :class:`~sklearn.linear_model.LogisticRegression`'s objective
        (``C=1``, by Newton's method from the start). The trained model
        competes only if it classifies clearly more of the held-out rows
        right than its start (by more than two standard deviations of a
        chance difference in a paired sign test; otherwise it is taken to
        overfit). The most
        accurate on the held-out rows wins; candidates within one row of it
        tie. On fewer than 1 000 held-out rows, a tie between the start and
        the likelihood optimum goes to the one more accurate out of fold on
        all five folds of the row hash, where they differ by more than a row
        (both are cheap to refit); otherwise the smallest held-out log-loss
        decides (a calibration fitted to the held-out rows counts two
        parameters, as Akaike's criterion does). The fit on all rows then
        returns the start on all rows, trains, or solves LogisticRegression's
        objective on all rows, at unit spread (``selected_``). ``None``:
        always train. Data sets too small to hold out 10 rows always train.

        .. versionchanged:: 0.1.0
           The likelihood optimum as a third candidate and the log-loss on
           near ties: the closed-form start, when it won, was often less
           accurate and far less calibrated than LogisticRegression.
    n_nodes : int in [2, 256], default=None
        Gauss-Hermite nodes; ``None`` picks 32 up to 10 classes, 48 up to 30,
        80 up to 100, else 128 (quadrature error below about 1e-6) for
        :meth:`expected_accuracy`, and for training, which stops at a relative
        change of ``tol``, and the calibration, 10 up to 4 classes and 16 up
        to 32 (error below 1e-4). Two classes use the closed form. Training
        leaves out the nodes of weight below 1e-6, which moves ``A`` by less
        than 4e-6.

        .. versionchanged:: 0.1.0
           Training leaves out the nodes of weight below 1e-6.
    max_iter : int >= 1, default=100
        Maximum L-BFGS iterations per stage.
    tol : float > 0, default=1e-4
        L-BFGS tolerance on the decrease of the objective (an expected
        accuracy, below 1, so in effect absolute) per iteration and on the
        largest gradient entry. With many classes the objective can rise by
        less than 1e-4 per iteration for dozens of iterations: 1e-5 then
        goes on climbing, at two to three times the cost (see the User
        Guide).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{class_label: weight}``, multiplying
        ``sample_weight`` as in
        :class:`~sklearn.linear_model.LogisticRegression`. ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``, which makes the
        objective the expected *balanced* accuracy (the mean over classes of
        each class's expected accuracy), for imbalanced classes where the
        balanced accuracy is the metric. The held-out selection and the
        calibration use the same weights.
    verbose : int, default=0
        For any positive value, print the progress of every L-BFGS solve
        (the fit on the kept rows, then the fit on all rows, on many pairs
        after its rough climb) as
        :class:`~sklearn.linear_model.LogisticRegression`'s ``verbose``
        printed it through L-BFGS-B: the objective (minus the expected
        accuracy) and the largest gradient entry at iterate 0 and then every
        50 iterations (every iteration from ``verbose=2``), and a summary.
    warm_start : bool, default=False
        When set and the estimator was fitted before on the same classes and
        features, the fit on all rows starts from the previous ``coef_`` and
        ``intercept_`` at ``sigma_final`` (one stage; the earlier stages count
        0 iterations) instead of from the closed form: the held-out model and
        ``selection`` are skipped and ``sigma_proba_`` is the previous one
        (at least ``sigma_final``), as the held-out rows were part of the
        previous fit. A refit from a converged model takes at most one
        iteration.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients of the normalised scores; one row (class 1 against class
        0) for binary problems, as in
        :class:`~sklearn.linear_model.LogisticRegression`.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the normalised scores.
    sigma_ : float
        Training noise level in the units of :meth:`decision_function`
        (equal to ``sigma_final``); :meth:`expected_accuracy` uses it.
    noise_proba_ : {"gaussian", "gumbel"}
        Noise family of :meth:`predict_proba` (see ``calibration``).
    sigma_proba_ : float
        Noise scale of :meth:`predict_proba` (see ``calibration``).
    smoothing_proba_ : float
        Weight of the uniform distribution in :meth:`predict_proba`.
    n_iter_ : ndarray of shape (n_stages,)
        L-BFGS iterations run at each stage (a rough first climb
        included); when ``selection`` returned another candidate, those of
        the fit on the kept rows that lost.
    selected_ : {"start", "trained", "likelihood"}
        The candidate ``selection`` chose ("trained" without selection).
    start_selected_ : bool
        Whether ``selection`` returned the closed-form start.
    n_outliers_ : int
        Number of training rows left out of the fit for their leverage.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    expected_accuracy : The objective as a function of scores.
    argmax_probabilities : Class probabilities of scores under Gaussian noise.
    sklearn.linear_model.LogisticRegression : Cross-entropy (convex) training.
    sklearn.svm.LinearSVC : Hinge-loss (convex) training.

    Notes
    -----
    With the true class ``y`` and normalised margins ``d_j = (s_y - s_j) / c``,
    each sample contributes
    ``A = int phi(e) prod_{j != y} Phi(d_j / sigma + e) de``
    (two classes: ``Phi(d / (sigma sqrt(2)))``). The objective is not convex:
    the fit starts from a good closed-form model and L-BFGS only accepts steps
    that raise it. Each objective evaluation costs ``O(n_samples n_classes n_nodes)``
    normal CDFs plus two products with ``X``. The optimisation runs on the host
    with SciPy (arrays of other namespaces are copied there once); the fitted
    attributes and every prediction stay in the namespace and on the device
    of ``X``.

    Edge cases: when no direction separates any training rows (constant
    features), the intercepts are fitted so that :meth:`predict_proba` gives
    the weighted class frequencies. Multiplying all weights by one constant
    changes nothing (they are divided by their smallest positive value).
    The likelihood candidate is LogisticRegression's optimum in the given
    units, whose penalty depends on them (as LogisticRegression's does), so
    columns whose values' squares overflow or underflow float64 over the rows
    of the fit (e.g. ``X * 1e300``, ``X * 1e-300``) raise a ValueError naming
    them. Columns whose largest absolute value lies outside ``2^+-100`` are
    rescaled inside the fit by a power of two (exact, and seen so by the
    likelihood candidate), so that ``X * 2^k`` gives the model of ``X`` bit
    for bit.

    .. versionchanged:: 0.1.0
       Rows of extreme leverage are left out of the fit; ``class_weight``,
       ``verbose`` and ``warm_start``; class frequencies for constant
       features; invariance to the scale of the weights; a ValueError for
       columns whose squares leave float64's range.

    References
    ----------
    .. [1] I. Karpukhin, S. Dereka and S. Kolesnikov, "EXACT: How to Train Your
       Accuracy", arXiv:2205.09615, 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprob import AccuracyOptimizedLinear
    >>> X = np.array([[-0.25], [0.0], [0.25]])
    >>> y = np.array([0, 0, 1])
    >>> LogisticRegression().fit(X, y).score(X, y)
    0.666...
    >>> clf = AccuracyOptimizedLinear().fit(X, y)
    >>> clf.score(X, y)
    1.0
    >>> clf.predict_proba(X).round(2)
    array([[1., 0.],
           [1., 0.],
           [0., 1.]])
    """

    _parameter_constraints: dict = {
        "sigma_init": [Interval(Real, 0, None, closed="neither")],
        "sigma_final": [Interval(Real, 0, None, closed="neither")],
        "n_stages": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="neither"), None],
        "init": [StrOptions({"analytic", "logistic", "zeros"})],
        "fit_intercept": ["boolean"],
        "calibration": [StrOptions({"holdout"}), None],
        "selection": [StrOptions({"holdout"}), None],
        "n_nodes": [Interval(Integral, 2, _MAX_NODES, closed="both"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        sigma_init=2.0,
        sigma_final=0.2,
        n_stages=1,
        alpha=0.0,
        margin=None,
        init="analytic",
        fit_intercept=True,
        calibration="holdout",
        selection="holdout",
        n_nodes=None,
        max_iter=100,
        tol=1e-4,
        class_weight=None,
        verbose=0,
        warm_start=False,
    ):
        self.sigma_init = sigma_init
        self.sigma_final = sigma_final
        self.n_stages = n_stages
        self.alpha = alpha
        self.margin = margin
        self.init = init
        self.fit_intercept = fit_intercept
        self.calibration = calibration
        self.selection = selection
        self.n_nodes = n_nodes
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.verbose = verbose
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the coefficients by maximising the expected training accuracy.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if is_dask_collection(X):
            from ._dask import gather_refusal

            raise gather_refusal(self, X)
        if self.n_stages > 1 and self.sigma_final > self.sigma_init:
            raise ValueError(
                f"sigma_final={self.sigma_final} must not exceed sigma_init="
                f"{self.sigma_init}: the noise is annealed from sigma_init down to "
                "sigma_final."
            )
        previous = self._previous_fit()
        X, X_host, y_host, w_host, self.classes_ = self._training_data(
            X, y, sample_weight
        )
        xp, _, dev = get_namespace_and_device(X)
        n_classes = self.classes_.shape[0]
        # Columns far from unit scale are rescaled by exact powers of two, so
        # that the class moments of the closed form and of the leverage
        # screening stay finite (a row left out may be extreme); ordinary
        # columns are left as they are, bit for bit.
        units = _column_units(X_host)
        X_host = _in_units(X_host, units)
        warm = self._warm_theta(previous, X, units)

        sigma = float(self.sigma_final)
        weighted = w_host > 0
        w_host, split, kept, kept_start, start = self._analytic_starts(
            X_host, y_host, w_host, n_classes
        )
        # The likelihood candidate depends on the units of the columns, like
        # LogisticRegression, and has no meaning where the rows it fits have
        # squares out of float64's range.
        _check_squares(X_host, w_host, units)
        self.n_outliers_ = int(np.count_nonzero(weighted & (w_host == 0)))
        held_out = None
        if warm is None and split is not None:
            held_out = self._held_out_model(
                X_host, y_host, w_host, n_classes, sigma, split, kept, kept_start
            )
        objective = self._objective(X_host, y_host, w_host, n_classes)
        theta, n_iter, scale = self._trained_theta(
            objective, X_host, y_host, w_host, sigma, warm, held_out, start
        )
        constant = not objective.varies(theta)
        if constant and self.fit_intercept:
            # No direction separates any rows: the best the model can do is
            # to predict the class frequencies.
            theta = np.zeros_like(theta)
            theta[-objective.n_rows :] = _frequency_intercepts(
                np.bincount(y_host, w_host, n_classes), sigma
            )
        coef, intercept = objective.unpack(theta)
        coef = coef / units
        if n_classes == 2:
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        self.coef_ = asarray(coef, xp=xp, device=dev, dtype=X.dtype)
        self.intercept_ = asarray(intercept, xp=xp, device=dev, dtype=X.dtype)
        self.selected_ = "trained" if held_out is None else held_out.choice
        self.start_selected_ = self.selected_ == "start"
        self.n_iter_ = asarray(n_iter, xp=xp, device=dev)
        self.sigma_ = sigma
        previous = previous if warm is not None else None
        self.noise_proba_, self.sigma_proba_, self.smoothing_proba_ = (
            self._probability_model(
                held_out, previous, y_host, w_host, sigma, constant, scale
            )
        )
        return self

    def _probability_model(
        self, held_out, previous, y_index, weights, sigma, constant, scale
    ):
        """The :class:`_Calibration` of :meth:`predict_proba` (see ``calibration``).

        ``previous`` is the previous fit of a warm start (else None).
        """
        if previous is not None:
            # the held-out rows were part of the previous fit: its model stays
            return previous[3]
        if self.calibration != "holdout" or held_out is None or constant:
            return _Calibration("gaussian", sigma, 0.0)
        if held_out.choice == "likelihood":
            # the likelihood's own softmax, at the scale of the fit on all rows
            return held_out.calibration._replace(scale=1.0 / scale)
        if held_out.calibration is not None:
            return held_out.calibration
        rows = held_out.rows
        return _calibration(held_out.scores, y_index[rows], weights[rows], sigma)[0]

    def _trained_theta(
        self, objective, X, y_index, weights, sigma, warm, held_out, start
    ):
        """Parameters and iterations of the fit on all rows, and a scale.

        From the previous fit (``warm_start``), or the kind of model the
        held-out rows chose: the trained model (the trained model of the kept
        rows joins the starts), the start itself or LogisticRegression's
        optimum (with the iterations of the trained model of the kept rows
        that lost). The scale is the spread the likelihood optimum was divided
        by (None for the others): its own probabilities are the softmax of the
        scores times it.
        """
        if warm is not None:
            theta, n_iter = self._optimise(
                objective, warm, X, y_index, weights, sigma, stages=False, rough=True
            )
            return theta, n_iter, None
        initial = self._initial_theta(objective, X, y_index, weights, start)
        if held_out is None or held_out.choice == "trained":
            theta, n_iter = self._optimise(
                objective,
                initial,
                X,
                y_index,
                weights,
                sigma,
                warm_start=None if held_out is None else held_out.theta,
                rough=True,
            )
            return theta, n_iter, None
        if held_out.choice == "start":
            return initial / objective.spread(initial), held_out.n_iter, None
        # the optimum of the kept rows is closer to that of all rows than the
        # closed form: fewer Newton steps to the same (unique) optimum
        theta = self._likelihood(
            X, y_index, weights, objective, initial, held_out.likelihood
        )
        scale = objective.spread(theta)
        return theta / scale, held_out.n_iter, scale

    def _likelihood(self, X, y_index, weights, objective, initial, start):
        """LogisticRegression's optimum on all rows, from ``start``
        (``initial`` where None); ``initial`` if the optimum's scores tie."""
        theta, converged = _likelihood_theta(
            X,
            y_index,
            weights,
            objective.n_classes,
            initial if start is None else start,
            fit_intercept=self.fit_intercept,
        )
        if not converged:
            warnings.warn(
                "AccuracyOptimizedLinear: the Newton fit of the likelihood "
                f"candidate stopped before converging in {_LIKELIHOOD_MAX_ITER} "
                "steps; its model is used as it is.",
                ConvergenceWarning,
                # _likelihood, _trained_theta, fit, _fit_context's wrapper
                stacklevel=5,
            )
        # scores that tie everywhere cannot be normalised: keep the start
        return theta if objective.varies(theta) else initial

    def _previous_fit(self):
        """``(classes_, coef_, intercept_, probability model)`` on the host for
        ``warm_start``, or None."""
        if not self.warm_start or not hasattr(self, "coef_"):
            return None
        return (
            to_numpy(self.classes_),
            to_numpy(self.coef_).astype(np.float64),
            to_numpy(self.intercept_).astype(np.float64),
            _Calibration(self.noise_proba_, self.sigma_proba_, self.smoothing_proba_),
        )

    def _warm_theta(self, previous, X, units):
        """The previous fit's parameters in the objective's layout, or None.

        None without ``warm_start``, before a first fit, or when the classes
        or the features differ from the previous fit's.
        """
        if previous is None:
            return None
        classes, coef, intercept, _ = previous
        if coef.shape[1] != X.shape[1] or not np.array_equal(
            classes, to_numpy(self.classes_)
        ):
            return None
        coef = coef * units
        intercept = intercept if self.fit_intercept else intercept[:0]
        return np.concatenate([coef.ravel(), intercept])

    def _training_data(self, X, y, sample_weight):
        """Validated ``X``, host float64 copies of ``X``, class index, weights; classes.

        The quadrature needs SciPy's normal CDF and the
        optimiser is SciPy's, so the fit runs on the host: only X (once) and the
        final coefficients move. The weights include ``class_weight`` and are
        divided by their smallest positive value: every result is unchanged
        when all weights are multiplied by one constant, and integer weights
        whose smallest is 1 stay the counts that repeated rows would give.
        """
        xp, _, _ = get_namespace_and_device(X)
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[xp.float64, xp.float32]
        )
        X = canonical_sparse(X)
        xp, _, dev = get_namespace_and_device(X)
        check_classification_targets(y)
        classes, y_index = encode_labels(y, xp=xp, device=dev, min_classes=1)
        if classes.shape[0] < 2:
            raise ValueError(
                "AccuracyOptimizedLinear needs samples of at least 2 classes in the "
                f"data, got only one class: {classes[0]!r}."
            )
        sample_weight = check_sample_weight(sample_weight, X)
        y_host = to_numpy(y_index).astype(np.intp)
        w_host = to_numpy(sample_weight).astype(np.float64)
        if self.class_weight is not None:
            classes_host = to_numpy(classes)
            per_class = compute_class_weight(
                self.class_weight, classes=classes_host, y=classes_host[y_host]
            )
            w_host = w_host * per_class[y_host]
        if not np.any(w_host > 0):
            raise ValueError(
                "The weights (sample_weight times class_weight) sum to zero: "
                "there is nothing to fit."
            )
        smallest = np.min(w_host[w_host > 0])
        X_host = (X.tocsr().astype(np.float64) if issparse(X) else to_numpy(X)).astype(
            np.float64, copy=False
        )
        return (
            X,
            X_host,
            y_host,
            w_host / smallest,
            classes,
        )

    def _analytic_starts(self, X, y_index, weights, n_classes):
        """Weights, held-out split and closed-form starts of the fit.

        Returns ``(weights, split, kept, kept_start, start)``: the weights
        the fit uses, ``split`` marking the held-out rows and ``kept`` the
        rows of the second fit (both None for data sets too small to hold rows
        out), and the closed forms of the kept rows and of all rows (None
        unless ``init="analytic"``). Rows with an extreme leverage (see
        :func:`_high_leverage_rows`) get weight 0: such a row is alone along
        its direction, so nothing in the rest of the data can confirm what it
        says there, and a moment method follows it wherever it lies (the row
        sets the covariance along its own direction), which would break the
        start and, through it, the held-out selection. The screening is
        repeated without the rows it left out until it adds none.
        """
        group, split, kept = self._split(X, y_index, weights, n_classes)
        parts = None
        # Wide data (more columns than rows, or a covariance too large to
        # hold) use the row solvers; every row has a high leverage there and
        # none is left out.
        if choose_solver(*X.shape, n_classes, "auto") == "covariance":
            parts = self._grouped_moments(X, group, y_index, weights, n_classes)
            # A far row masks a milder one (it sets the scatter along their
            # shared direction): without a second look, adding a far row
            # would change which of the other rows are left out.
            drop = _high_leverage_rows(X, y_index, weights, _merge(parts))
            while drop is not None:
                weights = np.where(drop, 0.0, weights)
                group, split, kept = self._split(X, y_index, weights, n_classes)
                parts = self._grouped_moments(X, group, y_index, weights, n_classes)
                drop = _high_leverage_rows(X, y_index, weights, _merge(parts))
        if self.init != "analytic":
            return weights, split, kept, None, None
        kept_start = None
        if split is not None:
            kept_start = self._closed_form(
                X,
                y_index,
                weights,
                n_classes,
                kept,
                None if parts is None else parts[2],
            )
        start = self._closed_form(
            X,
            y_index,
            weights,
            n_classes,
            slice(None),
            None if parts is None else _merge(parts),
        )
        return weights, split, kept, kept_start, start

    @staticmethod
    def _split(X, y_index, weights, n_classes):
        """Row groups, held-out rows and the kept rows of the second fit.

        Groups: 0 for kept rows left out of the kept subset, 1 for held-out
        rows, 2 for the kept subset (all 0 without a split, whose two other
        values are then None).
        """
        group = np.zeros(X.shape[0], dtype=np.intp)
        split = _holdout_rows(X, y_index, weights, n_classes)
        if split is None:
            return group, None, None
        kept = _kept_rows(split, y_index, weights, n_classes)
        group[split] = 1
        group[kept] = 2
        return group, split, kept

    def _grouped_moments(self, X, group, y_index, weights, n_classes):
        """Class moments of the three row groups in one pass over ``X``.

        The closed forms of the kept rows and of all rows come from them
        (moments add up exactly), instead of two fits of
        AnalyticLogisticRegression that would each validate and read the
        data again.
        """
        parts = grouped_moments(
            X, group, y_index, weights, 3, n_classes, np, higher=False
        )
        return parts

    def _closed_form(self, X, y_index, weights, n_classes, rows, moments=None):
        """The default AnalyticLogisticRegression of ``rows`` (moments optional)."""
        return default_closed_form(
            X[rows],
            y_index[rows],
            weights[rows],
            n_classes,
            fit_intercept=self.fit_intercept,
            moments=moments,
            feature_names=getattr(self, "feature_names_in_", None),
        )

    def _held_out_model(
        self, X, y_index, weights, n_classes, sigma, split, kept, analytic
    ):
        """The model of the ``kept`` rows that the rows ``split`` holds out chose.

        Three models of the kept rows (at most ``_COARSE_ROWS`` of them)
        compete: their closed-form start (``analytic`` with
        ``init="analytic"``), the fit of the expected accuracy from it and
        the optimum of LogisticRegression's objective from it. With
        ``selection="holdout"`` the held-out rows pick one (see
        :meth:`_select`); the fit on all rows then makes the same kind of
        model (the trained one is also a second start of it). Without
        selection the trained model is chosen. The chosen model's scores on
        the held-out rows calibrate :meth:`predict_proba` (scores on the rows
        a model was trained on understate its errors; on separable data the
        best level would be 0). Every model has unit spread on the kept rows,
        so a noise level carries over.
        """
        X_kept, y_kept, w_kept = X[kept], y_index[kept], weights[kept]
        objective = self._objective(X_kept, y_kept, w_kept, n_classes)
        initial = self._initial_theta(objective, X_kept, y_kept, w_kept, analytic)
        with warnings.catch_warnings():
            # only the fit on all rows warns about its convergence
            warnings.simplefilter("ignore", ConvergenceWarning)
            trained, n_iter = self._optimise(
                objective, initial, X_kept, y_kept, w_kept, sigma
            )
        candidates = {"start": initial / objective.spread(initial), "trained": trained}
        likelihood = initial
        if self.selection is not None:
            likelihood, _ = _likelihood_theta(
                X_kept,
                y_kept,
                w_kept,
                n_classes,
                initial,
                fit_intercept=self.fit_intercept,
            )
        rows = np.flatnonzero(split)
        fixed = {}
        if self.selection is not None and objective.varies(likelihood):
            scale = objective.spread(likelihood)
            candidates["likelihood"] = likelihood / scale
            fixed["likelihood"] = _Calibration(
                "gumbel",
                1.0 / scale,
                0.5 / (float(np.sum(weights[rows])) + n_classes),
            )
        held = self._objective(X[rows], y_index[rows], weights[rows], n_classes)
        scores = {
            name: held.centred_scores(theta) for name, theta in candidates.items()
        }
        choice, calibration = self._select(
            scores,
            y_index[rows],
            weights[rows],
            sigma,
            fixed,
            lambda: self._fold_correct(X, y_index, weights, n_classes),
        )
        return _HeldOut(
            candidates[choice],
            scores[choice],
            rows,
            choice,
            n_iter,
            calibration,
            likelihood if "likelihood" in candidates else None,
        )

    def _fold_correct(self, X, y_index, weights, n_classes):
        """Out-of-fold weight classified right by the start and the likelihood.

        ``{"start": ..., "likelihood": ...}`` over the five folds of the row
        hash (the held-out fifth is one of them), or None where a fold's other
        rows miss a class or ``init`` is not the closed form.
        """
        if self.init != "analytic":
            return None
        folds = _row_keys(X, y_index) % np.uint64(_HOLDOUT_PERIOD)
        correct = {"start": 0.0, "likelihood": 0.0}
        for fold in range(_HOLDOUT_PERIOD):
            test = folds == fold
            train = np.flatnonzero(~test)
            weighted = train[weights[train] > 0]
            if np.unique(y_index[weighted]).shape[0] < n_classes:
                return None
            analytic = self._closed_form(X, y_index, weights, n_classes, train)
            objective = self._objective(
                X[train], y_index[train], weights[train], n_classes
            )
            start = self._initial_theta(
                objective, X[train], y_index[train], weights[train], analytic
            )
            likelihood, _ = _likelihood_theta(
                X[train],
                y_index[train],
                weights[train],
                n_classes,
                start,
                fit_intercept=self.fit_intercept,
            )
            rows = np.flatnonzero(test)
            held = self._objective(X[rows], y_index[rows], weights[rows], n_classes)
            for name, theta in (("start", start), ("likelihood", likelihood)):
                scores = held.centred_scores(theta)
                correct[name] += _held_out_correct(scores, y_index[rows], weights[rows])
        return correct

    def _select(self, scores, y_index, weights, sigma, fixed, folds=None):
        """The candidate the held-out rows choose, and its calibration if known.

        ``scores`` maps each candidate to its held-out scores. The trained
        model competes only if it classifies clearly more of the held-out
        rows right than its start (:func:`_clear_gain`). The most accurate
        on the held-out rows (by weight) then wins; candidates within
        ``_NEAR_TIE`` (one observation) of it tie; a tie between the start
        and the likelihood optimum may be broken by ``folds``, a function
        returning their out-of-fold correct weights (see
        :meth:`_fold_tie_break`). The smallest held-out log-loss decides
        between those still tied (the first one on equal losses): one
        row is within the noise of such a comparison, where the probabilities
        can differ much more. A candidate's log-loss is that of its
        probability model in ``fixed`` (the likelihood optimum's own softmax:
        its training calibrated it), else of the one fitted to its held-out
        scores.
        """
        if self.selection is None:
            return "trained", None
        correct = {
            name: _held_out_correct(held, y_index, weights)
            for name, held in scores.items()
        }
        if not _clear_gain(scores["trained"], scores["start"], y_index, weights):
            # training has to earn its place: otherwise taken to overfit
            del correct["trained"]
        best = max(correct.values())
        tied = [name for name in correct if correct[name] >= best - _NEAR_TIE]
        if {"start", "likelihood"} <= set(tied) and folds is not None:
            tied = self._fold_tie_break(tied, weights, folds)
        if len(tied) == 1:
            return tied[0], fixed.get(tied[0])
        fits = {
            name: (
                (
                    fixed[name],
                    _held_out_loss(scores[name], y_index, weights, fixed[name]),
                )
                if name in fixed
                else _calibration(scores[name], y_index, weights, sigma)
            )
            for name in tied
        }
        # a probability model fitted to the held-out rows is judged on them:
        # its loss is optimistic by about its parameter count over their
        # number (Akaike), which a fixed model's is not
        optimism = _FITTED_PARAMETERS / np.sum(weights)
        choice = min(
            tied, key=lambda name: fits[name][1] + (name not in fixed) * optimism
        )
        return choice, fits[choice][0]

    @staticmethod
    def _fold_tie_break(tied, weights, folds):
        """``tied`` less the start or the likelihood if the five folds say so.

        Where the held-out fifth has fewer than ``_FOLD_MAX_HELD_OUT`` rows, one
        row there is a large part of the difference between the two; the two
        cheap models are then also compared out of fold on all five folds, and
        the one that classifies fewer rows right by more than ``_NEAR_TIE``
        drops out.
        """
        if np.sum(weights) >= _FOLD_MAX_HELD_OUT:
            return tied
        correct = folds()
        if correct is None:
            return tied
        gap = correct["start"] - correct["likelihood"]
        if abs(gap) <= _NEAR_TIE:
            return tied
        loser = "likelihood" if gap > 0 else "start"
        return [name for name in tied if name != loser]

    def _objective(self, X, y_index, weights, n_classes):
        n_nodes = _fit_n_nodes(n_classes) if self.n_nodes is None else self.n_nodes
        return _Objective(
            X,
            y_index,
            weights,
            n_classes,
            fit_intercept=self.fit_intercept,
            alpha=float(self.alpha),
            margin=None if self.margin is None else float(self.margin),
            n_nodes=n_nodes,
        )

    def _optimise(
        self,
        objective,
        theta,
        X,
        y_index,
        weights,
        sigma_final,
        warm_start=None,
        stages=True,
        rough=False,
    ):
        """L-BFGS from ``theta`` through the noise schedule; ``(theta, n_iter)``.

        Returns the parameters at unit spread and the L-BFGS iterations per
        stage. The last stage starts from whichever is best at
        ``sigma_final``: ``theta``, the result of the earlier stages or
        ``warm_start``. As L-BFGS never accepts a step that lowers the
        objective (and a failed run is discarded), the fit ends at least as
        good as its start on the training data. With ``stages=False`` only
        the last stage runs (the others count 0 iterations). ``rough``: the
        fit on all rows, whose last stage may first climb roughly (see
        :meth:`_last_stage`); the models the held-out rows choose between
        keep the training rule's own path.
        """
        starts = [theta] if warm_start is None else [theta, warm_start]
        schedule = _sigma_schedule(self.sigma_init, sigma_final, self.n_stages)
        n_iter = np.zeros(len(schedule), dtype=np.int64)
        if not objective.varies(theta):
            # Every start ties on all rows (constant features): nothing to learn.
            return theta / objective.spread(theta), n_iter
        coarse = self._coarse_objective(objective, theta, X, y_index, weights)
        for stage, sigma in enumerate(schedule[:-1] if stages else []):
            result = self._minimise(coarse, theta, sigma)
            theta = result.x / objective.spread(result.x)
            starts.append(theta)
            n_iter[stage] = result.nit
        sigma = schedule[-1]
        values = [objective(start, sigma, gradient=False) for start in starts]
        best = int(np.argmin(values))
        theta, result, n_iter[-1] = self._last_stage(
            objective, starts[best], values[best], sigma, rough
        )
        if result.nit >= self.max_iter:
            warnings.warn(
                f"AccuracyOptimizedLinear: L-BFGS reached max_iter={self.max_iter} "
                "in the last stage before converging; increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        # The objective is scale-invariant: store the coefficients at unit spread.
        return theta / objective.spread(theta), n_iter

    def _last_stage(self, objective, theta, value, sigma, rough):
        """L-BFGS of the last stage from ``theta`` (objective ``value``).

        Returns the parameters, the result of the solve under the training
        rule and the iterations of the stage. With ``rough``, on more than
        ``_ROUGH_PAIRS`` pairs of a weighted row and another class, the stage
        first climbs under the rough objective (:meth:`_Objective.rough`),
        which takes about as many iterations at a fraction of the cost of
        each; its end replaces ``theta`` if the training rule rates it
        higher, and the training rule finishes with its own stopping test.
        Never ends below ``theta``'s value.
        """
        n_iter = 0
        pairs = np.count_nonzero(objective.w) * (objective.n_classes - 1)
        if rough and objective.n_classes > 2 and pairs > _ROUGH_PAIRS:
            with np.errstate(over="ignore", invalid="ignore"):
                # single precision can still overflow on extreme data: the
                # climb is then of no use, and its end is not taken
                climb = self._minimise(
                    objective.rough(_ROUGH_NODES, _ROUGH_SATURATION), theta, sigma
                )
            n_iter = climb.nit
            if np.all(np.isfinite(climb.x)):
                # with its gradient: the solve below starts there
                climb_value, _ = objective(climb.x, sigma)
                if climb_value < value:
                    theta, value = climb.x, climb_value
        result = self._minimise(objective, theta, sigma)
        theta = result.x if result.fun <= value else theta
        return theta, result, n_iter + result.nit

    def _minimise(self, objective, theta, sigma):
        report = _LbfgsReport(objective, self.verbose) if self.verbose else None
        result = minimize(
            objective if report is None else report,
            theta,
            args=(sigma,),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": self.tol},
            callback=None if report is None else report.iteration,
        )
        if report is not None:
            report.close(result, sigma)
        return result

    def _coarse_objective(self, objective, theta, X, y_index, weights):
        """Objective of the stages before the last: an evenly spaced subset."""
        weighted = np.flatnonzero(weights > 0)
        step = -(-weighted.shape[0] // _COARSE_ROWS)
        if self.n_stages == 1 or step == 1:
            return objective
        subset = weighted[::step]
        candidate = self._objective(
            X[subset], y_index[subset], weights[subset], objective.n_classes
        )
        # a subset on which every score ties could not be normalised
        return candidate if candidate.varies(theta) else objective

    def _initial_theta(self, objective, X, y_index, weights, analytic):
        """Starting parameters on the host, laid out as ``_Objective`` expects.

        ``analytic`` is the closed form of these rows (a
        :class:`~skprob._closed_form.ClosedForm`) when ``init="analytic"``.
        """
        n_classes = objective.n_classes
        if self.init == "zeros":
            theta = self._ascent_direction(X, y_index, weights, n_classes)
        else:
            if self.init == "logistic":
                model = LogisticRegression(
                    fit_intercept=self.fit_intercept, max_iter=1000
                )
                with warnings.catch_warnings():
                    # only a starting point: an unconverged fit is fine
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X, y_index, sample_weight=weights)
                coef, intercept = model.coef_, model.intercept_
            else:
                coef, intercept = analytic.coef, analytic.intercept
            coef = np.asarray(coef, dtype=np.float64)
            intercept = np.asarray(intercept, dtype=np.float64)
            intercept = intercept if self.fit_intercept else intercept[:0]
            theta = np.concatenate([coef.ravel(), intercept])
            if not objective.varies(theta):
                # Every training score is tied (e.g. constant features): the
                # ascent direction is non-zero whenever the classes differ.
                theta = self._ascent_direction(X, y_index, weights, n_classes)
        return theta

    def _ascent_direction(self, X, y_index, weights, n_classes):
        """Gradient of the expected accuracy at ``W = 0, b = 0``, up to a factor.

        At zero all margins vanish, every ``dA/d delta`` is the same, and the
        gradient is ``sum_i w_i (onehot(y_i) - 1/K) [x_i, 1]``.
        """
        w = weights / np.sum(weights)
        onehot = (y_index[:, None] == np.arange(n_classes)).astype(np.float64)
        direction = (w[:, None] * (onehot - 1.0 / n_classes)).T
        coef = np.asarray(X.T @ direction.T).T
        intercept = np.sum(direction, axis=1)
        if n_classes == 2:
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        if not self.fit_intercept:
            intercept = intercept[:0]
        return np.concatenate([coef.ravel(), intercept])

    def predict_proba(self, X):
        """Probability that each class has the largest score under the noise.

        Independent noise on each score of :meth:`decision_function`, of the
        family ``noise_proba_`` (Gaussian, as in the training objective, or
        Gumbel, which gives the softmax of the scores) and scale
        ``sigma_proba_``, mixed with weight ``smoothing_proba_`` with the
        nearly uniform softmax of the scores at scale 100 (see
        ``calibration``). Neither changes the order
        of the classes, so the most probable class is always the
        :meth:`predict` class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1 (a lazy
            dask array for a dask array ``X``).
        """
        lazy = lazy_blockwise(self, "predict_proba", X)
        if lazy is not None:
            return lazy
        return self._predict_proba(X, "predict_proba")

    def _predict_proba(self, X, method):
        scores = self._scores(X, method)
        proba = argmax_probabilities(scores, self.noise_proba_, scale=self.sigma_proba_)
        if self.smoothing_proba_ > 0:
            # nearly uniform, but ordered as the scores: a uniform mixture
            # would tie classes whose probabilities both vanish
            flat = argmax_probabilities(scores, "gumbel", scale=_MAX_PROBA_SIGMA)
            proba = (1.0 - self.smoothing_proba_) * proba + (
                self.smoothing_proba_ * flat
            )
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``; a probability that
            underflows to 0 counts as the smallest normal number of its dtype,
            as in :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`
            (a lazy dask array for a dask array ``X``).
        """
        lazy = lazy_blockwise(self, "predict_log_proba", X)
        if lazy is not None:
            return lazy
        proba = self._predict_proba(X, "predict_log_proba")
        xp, _, _ = get_namespace_and_device(proba)
        return log_zero_as_tiny(proba, xp=xp)

    def expected_accuracy(self, X, y, sample_weight=None):
        """Mean expected accuracy on ``(X, y)`` under the fitted noise level.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            True labels (values of ``classes_``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        accuracy : float
            Weighted mean probability that the true class has the largest noisy
            score (without ``margin`` or penalty: the quantity, not the loss).
        """
        scores = to_numpy(self._scores(X, "expected_accuracy"))
        _, y_index = encode_labels(
            y, xp=np, classes=to_numpy(self.classes_), min_classes=1
        )
        return expected_accuracy(
            scores,
            y_index,
            self.sigma_,
            sample_weight=sample_weight,
            n_nodes=self.n_nodes,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.input_tags.sparse = True
        return tags
