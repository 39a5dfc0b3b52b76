"""Set the entropy of every probability row to a target by a per-row power."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Row p -> q = p^g / sum p^g, g >= 0 per row. With a = log p (or logits) shifted
# so that max a = 0, q = softmax(g a) over the support and
#     H(g) = log Z(g) - g E_q[a],   dH/dg = -g Var_q(a) <= 0,
# so H falls monotonically from log|support| (g = 0) to log(#ties at the max)
# (g -> inf). A Newton-type iteration (Halley's step in g^2) runs on all
# unconverged rows of a block at once, inside a per-row bracket [lo, hi] that
# every evaluation tightens, with a bisection step whenever the step leaves the
# bracket or stalls; rows leave the block as soon as they converge.

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._backend import (
    entropy,
    get_namespace_and_device,
    lazy_blockwise,
    logsumexp,
)
from ._validation import check_probability_rows, check_sample_weight

__all__ = ["EntropyNormalizer", "entropy_normalize"]

# Entries per block: a block of rows is solved at a time so that its
# temporaries stay in cache (the whole solve is then a few passes over memory).
_BLOCK = 2**18


def _effective_tol(tol, dtype, n_classes, xp):
    # |H(q) - H*| cannot be resolved below the rounding error of H itself.
    eps = float(xp.finfo(dtype).eps)
    return max(tol, 16.0 * eps * max(1.0, math.log(max(n_classes, 2))))


# Logit rows whose spread (largest minus smallest logit) lies outside
# [1 / r, r], r = (largest float)^(1/3) / 64, are divided by their spread
# before the solve: the solver forms a^3, and g^2 with g near 1 / spread, and
# q = softmax(g a) depends on g a only, so the exponent found is divided by the
# same factor.
def _rescale_bounds(dtype, xp):
    high = float(xp.finfo(dtype).max) ** (1.0 / 3.0) / 64.0
    return 1.0 / high, high


def _log_values(X, input, xp):
    """Shifted log-values ``a`` (max 0 per row, 0 off the support), the support
    and the per-row factor the exponents must be divided by (None: 1).

    The support is ``None`` when the block has no zero, which spares a mask
    on every pass of the solver.
    """
    if input == "logits":
        # Halves: two finite logits are less than the largest float apart after
        # halving, so the difference never overflows; doubling back is exact.
        half = X * 0.5
        half_gap = half - xp.max(half, axis=1, keepdims=True)
        half_spread = -xp.min(half_gap, axis=1, keepdims=True)
        low, high = _rescale_bounds(X.dtype, xp)
        rescale = (half_spread > 0.5 * high) | (
            (half_spread > 0) & (half_spread < 0.5 * low)
        )
        # one reduction over the block decides
        if not bool(xp.any(rescale)):
            return half_gap * 2.0, None, None
        factor = xp.where(rescale, half_spread, xp.ones_like(half_spread))
        # a / factor lies in [-2, 0] for the rescaled rows
        return (half_gap / factor) * 2.0, None, factor[:, 0]
    support = X > 0
    if bool(xp.all(support)):
        return xp.log(X / xp.max(X, axis=1, keepdims=True)), None, None
    ratio = X / xp.max(X, axis=1, keepdims=True)
    a = xp.log(xp.where(support, ratio, xp.ones_like(ratio)))
    return a, support, None


def _weights(a, support, gamma, xp):
    w = xp.exp(gamma[:, None] * a)
    if support is not None:
        w = xp.where(support, w, xp.zeros_like(w))
    return w


def _evaluate(a, powers, support, gamma, xp):
    """Weights ``w = exp(g a)``, their sums, ``H``, ``Var_q(a)`` and ``k3``.

    Row dot products with the precomputed powers of ``a`` keep the only
    block-sized temporary to ``w`` itself.
    """
    a2, a3 = powers
    w = _weights(a, support, gamma, xp)
    z = xp.sum(w, axis=1)
    mean = xp.vecdot(w, a) / z
    second = xp.vecdot(w, a2) / z
    third = xp.vecdot(w, a3) / z
    var = xp.maximum(second - mean * mean, xp.zeros_like(mean))
    skew = third - 3.0 * mean * second + 2.0 * mean * mean * mean
    return w, z, xp.log(z) - gamma * mean, var, skew


def _take_rows(arrays, index, xp):
    return [None if x is None else xp.take(x, index, axis=0) for x in arrays]


def _clip_unreachable(a, a2, support, target, xp):
    """Rows whose target lies outside the reachable entropy range.

    Targets outside the range clip to its ends: uniform over the support
    (g = 0) or uniform over the ties at the maximum (g = inf). Rows whose
    support values are all equal give the same q for every g; g = 1.

    Returns ``(fixed, q_fixed, gamma_fixed, h_max, var0, flat)``: the mask of
    those rows, their output for every row of the block (used where ``fixed``),
    and the entropy range's top, the variance of ``a`` under the uniform
    distribution on the support and the mask of flat rows, for the start.
    """
    n, n_classes = a.shape
    dtype = a.dtype
    dev = get_namespace_and_device(a)[2]
    ties = a == 0.0
    if support is None:
        size = xp.full((n,), float(n_classes), dtype=dtype, device=dev)
        uniform = xp.ones_like(a)
    else:
        ties = ties & support
        uniform = xp.astype(support, dtype)
        size = xp.sum(uniform, axis=1)
    n_ties = xp.sum(xp.astype(ties, dtype), axis=1)
    h_max, h_min = xp.log(size), xp.log(n_ties)
    mean0 = xp.sum(a, axis=1) / size
    var0 = xp.sum(a2, axis=1) / size - mean0 * mean0

    flat = (h_max - h_min <= 0) | (var0 <= 0)
    to_uniform = (target >= h_max) & ~flat
    to_ties = (target <= h_min) & ~flat
    q_fixed = xp.where(
        to_ties[:, None],
        xp.astype(ties, dtype) / n_ties[:, None],
        uniform / size[:, None],
    )
    inf = xp.full((n,), xp.inf, dtype=dtype, device=dev)
    zero, one = xp.zeros_like(inf), xp.ones_like(inf)
    gamma_fixed = xp.where(to_ties, inf, xp.where(to_uniform, zero, one))
    return flat | to_uniform | to_ties, q_fixed, gamma_fixed, h_max, var0, flat


def _start_exponent(X, a, target, tol, input, h_max, var0, flat, xp):
    """Near g = 0, H(g) ~ log|support| - g^2 Var_0(a) / 2, solved for the target.

    Probability rows already at the target start (and stay) at g = 1.
    """
    zero = xp.zeros_like(h_max)
    one = xp.ones_like(h_max)
    gap = xp.maximum(h_max - target, zero)
    gamma = xp.sqrt(2.0 * gap / xp.where(flat, one, var0))
    if input == "proba":
        h_one = -xp.vecdot(X, a) - xp.log(xp.max(X, axis=1))
        gamma = xp.where(xp.abs(h_one - target) <= tol, one, gamma)
    return xp.where(xp.isfinite(gamma) & (gamma > 0), gamma, one)


def _next_exponent(gamma, f, var, skew, lo, hi, previous, xp):
    """Safeguarded Halley step in v = g^2, or a bisection of the bracket.

    H is close to linear in v (exactly so in the Gaussian-score regime
    H ~ log n - v Var / 2): dH/dv = -Var / 2, d2H/dv2 = -k3 / (4 g), k3 the third
    central moment. The correction to Newton's step is clipped to [2/3, 2] times
    that step. Bisect (geometrically once lo > 0) when the step leaves the
    bracket or the last step did not halve |f|: in the exponential tail of H,
    reached after an overshoot, Newton-type steps crawl.
    """
    bounded = xp.isfinite(hi)
    d1 = -0.5 * var
    usable = (d1 < 0) & (d1 * d1 > 0)
    d1 = xp.where(usable, d1, -xp.ones_like(d1))
    d2 = -skew / (4.0 * gamma)
    ratio = xp.clip(f * d2 / (2.0 * d1 * d1), -0.5, 0.5)
    v = gamma * gamma - f / (d1 * (1.0 - ratio))
    step = xp.sqrt(xp.maximum(v, xp.zeros_like(v)))
    step = xp.where(bounded, step, xp.minimum(step, 4.0 * gamma + 1.0))
    accept = usable & (v > 0) & (step > lo) & (step < hi)
    if previous is not None:
        accept = accept & (xp.abs(f) <= 0.5 * previous)
    hi_finite = xp.where(bounded, hi, 2.0 * lo + 1.0)
    bisect = xp.where(
        bounded,
        xp.where(lo > 0, xp.sqrt(lo * hi_finite), 0.5 * hi_finite),
        hi_finite,
    )
    return xp.where(accept, step, bisect)


def _solve_block(X, a, support, target, tol, max_iter, input, xp):
    """Solve one block of rows: ``(q, gamma, number of unconverged rows)``.

    Rows leave the iteration as soon as they converge (their output is the
    last evaluation, ``w / z``), so the exponentials computed add up to the
    iterations each row needs, not to the slowest row's count for all.
    """
    dev = get_namespace_and_device(a)[2]
    rows = xp.arange(a.shape[0], device=dev)
    a2 = a * a
    fixed, q_fixed, gamma_fixed, h_max, var0, flat = _clip_unreachable(
        a, a2, support, target, xp
    )
    out_rows, out_q, out_gamma = [], [], []
    if bool(xp.any(fixed)):
        index = xp.nonzero(fixed)[0]
        out_rows.append(index)
        out_q.append(xp.take(q_fixed, index, axis=0))
        out_gamma.append(xp.take(gamma_fixed, index, axis=0))
    gamma = _start_exponent(X, a, target, tol, input, h_max, var0, flat, xp)

    active = xp.nonzero(~fixed)[0]
    state = _take_rows([a, a2, a2 * a, support, gamma, rows], active, xp)
    a, a2, a3, support, gamma, rows = state
    lo, hi, previous = xp.zeros_like(gamma), xp.full_like(gamma, xp.inf), None
    eps = float(xp.finfo(a.dtype).eps)
    unconverged = 0
    for iteration in range(max_iter):
        if gamma.shape[0] == 0:
            break
        w, z, h, var, skew = _evaluate(a, (a2, a3), support, gamma, xp)
        f = h - target
        # H decreases in g: too much entropy -> g is a lower bound, else upper
        lo = xp.where(f > 0, gamma, lo)
        hi = xp.where(f < 0, gamma, hi)
        collapsed = xp.isfinite(hi) & ((hi - lo) <= 4.0 * eps * hi)
        finished = (xp.abs(f) <= tol) | collapsed
        if iteration == max_iter - 1:
            unconverged = int(xp.sum(xp.astype(~finished, xp.int32)))
            finished = xp.ones_like(finished)
        if bool(xp.any(finished)):
            index = xp.nonzero(finished)[0]
            out_rows.append(xp.take(rows, index, axis=0))
            out_q.append(xp.take(w, index, axis=0) / xp.take(z, index)[:, None])
            out_gamma.append(xp.take(gamma, index, axis=0))
        gamma = _next_exponent(gamma, f, var, skew, lo, hi, previous, xp)
        previous = xp.abs(f)
        if bool(xp.any(finished)):
            keep = xp.nonzero(~finished)[0]
            state = _take_rows(
                [a, a2, a3, support, gamma, rows, lo, hi, previous], keep, xp
            )
            a, a2, a3, support, gamma, rows, lo, hi, previous = state
    order = xp.argsort(xp.concat(out_rows))
    q = xp.take(xp.concat(out_q, axis=0), order, axis=0)
    return q, xp.take(xp.concat(out_gamma), order), unconverged


def _entropy_normalize(X, target_nats, *, input, tol, max_iter, renormalize, xp):
    """Validated ``X`` -> ``(q, gamma)``; ``target_nats`` is in nats."""
    n, n_classes = X.shape
    if input == "proba":
        X = check_probability_rows(X, renormalize=renormalize, name="X")
    tol = _effective_tol(tol, X.dtype, n_classes, xp)
    rows = max(1, _BLOCK // max(1, n_classes))
    q_blocks, gamma_blocks, unconverged = [], [], 0
    for start in range(0, n, rows):
        block = X[start : min(start + rows, n), :]
        a, support, factor = _log_values(block, input, xp)
        q, gamma, remaining = _solve_block(
            block, a, support, target_nats, tol, max_iter, input, xp
        )
        if factor is not None:
            with np.errstate(over="ignore"):
                # logits a subnormal apart need an exponent beyond the largest
                # float: inf is its limit (q itself was found from the rescaled a)
                gamma = gamma / factor
        unconverged += remaining
        q_blocks.append(q)
        gamma_blocks.append(gamma)
    if unconverged:
        warnings.warn(
            f"The entropy of {unconverged} row(s) did not reach the target within "
            f"tol={tol:g} after max_iter={max_iter} iterations; increase max_iter.",
            ConvergenceWarning,
        )
    return xp.concat(q_blocks, axis=0), xp.concat(gamma_blocks, axis=0)


def _check_target(target, base, n_classes):
    """Target in nats; raise when it lies outside [0, log n_classes] (in ``base``)."""
    upper = math.log(n_classes) / math.log(base)
    if not 0.0 <= target <= upper * (1.0 + 1e-12):
        unit = "nats" if base == math.e else f"base-{base:g} units"
        raise ValueError(
            f"target_entropy must lie in [0, log(n_classes)] = [0, {upper:.6g}] "
            f"{unit} for {n_classes} classes, got {target!r}."
        )
    return float(target) * math.log(base)


def _validate_input(X, input):
    xp, _, _ = get_namespace_and_device(X)
    return check_array(X, dtype=[xp.float64, xp.float32], input_name="X")


def _row_entropy(X, input, renormalize, xp):
    """Entropy in nats of every input row (the distribution ``q`` at g = 1).

    Always in ``[0, log n_classes]``: logits are shifted to a maximum of 0
    first, so logits of +-1e300 neither overflow nor cancel.
    """
    if input == "logits":
        with np.errstate(over="ignore"):
            # logits more than the largest float apart: -inf, a probability of 0
            a = X - xp.max(X, axis=1, keepdims=True)
        log_z = logsumexp(a, axis=1, xp=xp, keepdims=True)
        p = xp.exp(a - log_z)
        # p underflows to 0 where a overflowed to -inf: 0 log 0 = 0, not NaN
        terms = p * xp.where(p > 0, a, xp.zeros_like(a))
        h = xp.squeeze(log_z, axis=1) - xp.sum(terms, axis=1)
        return xp.clip(h, 0.0, math.log(X.shape[1]))
    X = check_probability_rows(X, renormalize=renormalize, name="X")
    return entropy(X, axis=1, xp=xp)


@validate_params(
    {
        "X": ["array-like"],
        "target_entropy": [Interval(Real, None, None, closed="neither")],
        "base": [Interval(Real, 1, None, closed="neither")],
        "input": [StrOptions({"proba", "logits"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "renormalize": ["boolean"],
        "return_gamma": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def entropy_normalize(
    X,
    target_entropy,
    *,
    base=math.e,
    input="proba",
    tol=1e-10,
    max_iter=100,
    renormalize=False,
    return_gamma=False,
):
    """Give every probability row the same entropy by raising it to a power.

    Each row ``p`` becomes ``q = p ** g / sum(p ** g)`` (``softmax(g z)`` for
    logits ``z``) with a per-row exponent ``g >= 0`` chosen so that the Shannon
    entropy ``H(q)`` equals ``target_entropy``. ``g < 1`` flattens a row,
    ``g > 1`` sharpens it; zeros stay zero and the order of the entries is
    preserved.

    Read more in the :ref:`User Guide <entropy_normalizer>`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_classes)
        Probability rows (``input="proba"``: non-negative, summing to 1) or
        logits (``input="logits"``: any finite reals).
    target_entropy : float
        Target entropy, in nats for ``base=e`` or in units of ``base``. Must lie
        in ``[0, log(n_classes)]``. A row reaches only targets in
        ``[log(#ties at its maximum), log(#non-zero entries)]``; targets outside
        clip to the nearest end: uniform over the non-zero entries (``g = 0``),
        or uniform over the tied maxima (``g = inf``).
    base : float > 1, default=e
        Logarithm base of the entropy: ``math.e`` for nats, 2 for bits.
    input : {"proba", "logits"}, default="proba"
        Whether the rows of ``X`` are probabilities or logits.
    tol : float >= 0, default=1e-10
        Stopping tolerance on ``|H(q) - target_entropy|`` (in units of
        ``base``). It is raised to ``16 eps log(n_classes)`` of the input dtype
        where that is larger (about 1e-5 for float32).
    max_iter : int >= 1, default=100
        Maximum number of safeguarded Newton iterations per row.
    renormalize : bool, default=False
        With ``input="proba"``, divide rows by their sums instead of raising
        when they do not sum to 1 within 1e-6.
    return_gamma : bool, default=False
        Also return the per-row exponents.

    Returns
    -------
    Q : array of shape (n_samples, n_classes)
        Rows with the target entropy, in the namespace, device and floating
        dtype of ``X``.
    gamma : array of shape (n_samples,)
        Per-row exponents (``inf`` for rows clipped to their tied maxima).
        Only returned when ``return_gamma=True``.

    See Also
    --------
    EntropyNormalizer : The same map as a transformer, with a target learned at fit.

    Notes
    -----
    ``H(g) = log Z(g) - g E_q[a]`` with ``a = log p`` and
    ``dH/dg = -g Var_q(a)``, so ``H`` decreases monotonically in ``g``.
    A safeguarded Newton-type iteration (Halley's step in ``g^2``, started
    from the small-``g`` expansion ``H ~ log|support| - g^2 Var(a) / 2``)
    runs on all unconverged rows of a block at once, in log space (logits of
    ``+-1e4`` and exact zeros are fine), inside a per-row bracket with a
    bisection fallback. Rows need a few evaluations, each costing about one
    exponential per entry; the measured cost against one
    softmax pass is in ``benchmarks/RESULTS.md`` (``bench_entropy.py``).
    Probability rows whose entropy is already within ``tol`` of the target
    keep ``g = 1`` exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import entropy_normalize
    >>> P = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    >>> Q, gamma = entropy_normalize(P, 0.8, return_gamma=True)
    >>> Q.round(4)
    array([[0.7011, 0.1994, 0.0994],
           [0.4863, 0.4863, 0.0275]])
    >>> gamma.round(3)
    array([1.004, 4.145])
    >>> (-(Q * np.log(Q)).sum(axis=1)).round(10)
    array([0.8, 0.8])

    The second row cannot go below ``log 2`` nats (two tied maxima), so a
    lower target puts all its mass on the ties:

    >>> entropy_normalize(P, 0.5).round(4)
    array([[0.8527, 0.1113, 0.0361],
           [0.5   , 0.5   , 0.    ]])
    """
    X = _validate_input(X, input)
    xp, _, _ = get_namespace_and_device(X)
    target = _check_target(target_entropy, base, X.shape[1])
    Q, gamma = _entropy_normalize(
        X,
        target,
        input=input,
        tol=tol * math.log(base),
        max_iter=max_iter,
        renormalize=renormalize,
        xp=xp,
    )
    return (Q, gamma) if return_gamma else Q


class EntropyNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Transform probability rows so that all have the same entropy.

    Each row ``p`` becomes ``q = p ** g / sum(p ** g)`` (``softmax(g z)`` for
    logits ``z``) with a per-row exponent ``g >= 0`` such that the entropy of
    ``q`` equals the target: the target given, or the mean entropy of the
    training rows (``target_entropy="mean"``). Zeros stay zero, the order of
    the entries within a row is preserved, and the output rows sum to 1.

    Read more in the :ref:`User Guide <entropy_normalizer>`.

    Parameters
    ----------
    target_entropy : float or "mean", default="mean"
        Target entropy in units of ``base``, in ``[0, log(n_classes)]``, or
        ``"mean"`` for the mean entropy of the rows seen in :meth:`fit`. Rows
        whose reachable range ``[log(#ties at the maximum), log(#non-zero
        entries)]`` does not contain the target clip to the nearest end.
    base : float > 1, default=e
        Logarithm base: ``math.e`` for nats, 2 for bits.
    input : {"proba", "logits"}, default="proba"
        ``"proba"``: rows of non-negative probabilities summing to 1 (a
        ``predict_proba`` output); ``"logits"``: any finite reals, transformed
        as ``softmax(g z)``.
    tol : float >= 0, default=1e-10
        Tolerance on ``|H(q) - target|`` (raised to about 1e-5 for float32).
    max_iter : int >= 1, default=100
        Maximum Newton iterations per row.
    renormalize : bool, default=False
        With ``input="proba"``, divide rows by their sums instead of raising when
        they do not sum to 1 within 1e-6.

    Attributes
    ----------
    target_entropy_ : float
        Target entropy used by :meth:`transform`, in units of ``base``.
    n_features_in_ : int
        Number of classes (columns) seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    entropy_normalize : The function behind this transformer.
    sklearn.calibration.CalibratedClassifierCV : Temperature scaling with one
        exponent for all rows.

    Notes
    -----
    The input tag ``positive_only`` is set for ``input="proba"``: negative
    data is rejected there with scikit-learn's "Negative values in data"
    ``ValueError``; use ``input="logits"`` for unconstrained scores. The
    per-row exponents are returned by :meth:`row_exponents`. A dask array
    given to :meth:`transform` or :meth:`row_exponents` gives a lazy dask
    array, computed block by block.

    scikit-learn's ``check_estimator`` passes with ``input="logits"``. With
    the default ``input="proba"`` the checks that feed random non-negative
    data fail with the "rows of X must sum to 1" error (they are not
    probability rows); ``renormalize=True`` accepts them, and then only
    ``check_estimators_dtypes`` fails (integer data with all-zero rows).
    ``check_transformer_n_iter`` always fails: ``max_iter`` bounds the
    per-row iterations of :meth:`transform`, and :meth:`fit` does not
    iterate.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import EntropyNormalizer
    >>> P = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.98, 0.01, 0.01]])
    >>> normalizer = EntropyNormalizer().fit(P)
    >>> round(normalizer.target_entropy_, 4)
    0.6478
    >>> Q = normalizer.transform(P)
    >>> (-(Q * np.log(Q)).sum(axis=1)).round(4)
    array([0.6478, 0.6478, 0.6478])
    >>> normalizer.row_exponents(P).round(3)
    array([1.309, 2.976, 0.448])
    """

    _parameter_constraints: dict = {
        "target_entropy": [
            Interval(Real, 0, None, closed="left"),
            StrOptions({"mean"}),
        ],
        "base": [Interval(Real, 1, None, closed="neither")],
        "input": [StrOptions({"proba", "logits"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "renormalize": ["boolean"],
    }

    def __init__(
        self,
        *,
        target_entropy="mean",
        base=math.e,
        input="proba",
        tol=1e-10,
        max_iter=100,
        renormalize=False,
    ):
        self.target_entropy = target_entropy
        self.base = base
        self.input = input
        self.tol = tol
        self.max_iter = max_iter
        self.renormalize = renormalize

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Set the target entropy (the mean entropy of ``X`` for ``"mean"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes)
            Training rows.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean entropy (``"mean"`` only).

        Returns
        -------
        self : object
            Fitted transformer.
        """
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        xp, _, _ = get_namespace_and_device(X)
        if X.shape[1] < 2:
            raise ValueError(
                f"EntropyNormalizer needs at least 2 classes (columns), got "
                f"n_features = {X.shape[1]}: a distribution over one class has "
                "entropy 0 whatever the transform."
            )
        self._check_non_negative(X, "fit", xp)
        if self.target_entropy == "mean":
            h = _row_entropy(X, self.input, self.renormalize, xp)
            if sample_weight is None:
                mean = float(xp.mean(h))
            else:
                weight = check_sample_weight(sample_weight, X)
                mean = float(xp.sum(weight * h) / xp.sum(weight))
            self.target_entropy_ = mean / math.log(self.base)
        else:
            _check_target(self.target_entropy, self.base, X.shape[1])
            self.target_entropy_ = float(self.target_entropy)
        return self

    def _check_non_negative(self, X, method, xp):
        # scikit-learn's wording for positive-only input (check_non_negative)
        if self.input == "proba" and bool(xp.any(X < 0)):
            raise ValueError(
                f"Negative values in data passed to EntropyNormalizer.{method}: "
                "with input='proba' the rows must be probabilities; use "
                "input='logits' for unconstrained scores."
            )

    def _solve(self, X, method):
        check_is_fitted(self)
        # target_entropy_ is a float, so there is no fitted array whose
        # namespace X would have to match.
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        xp, _, _ = get_namespace_and_device(X)
        self._check_non_negative(X, method, xp)
        target = min(self.target_entropy_ * math.log(self.base), math.log(X.shape[1]))
        return _entropy_normalize(
            X,
            target,
            input=self.input,
            tol=self.tol * math.log(self.base),
            max_iter=self.max_iter,
            renormalize=self.renormalize,
            xp=xp,
        )

    def transform(self, X):
        """Rows of ``X`` moved to the target entropy.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes)
            Probability rows or logits (see ``input``).

        Returns
        -------
        Q : ndarray of shape (n_samples, n_classes)
            Probability rows with entropy ``target_entropy_``. For a dask
            array ``X``, a dask array computed block by block.
        """
        lazy = lazy_blockwise(self, "transform", X)
        if lazy is not None:
            return lazy
        return self._solve(X, "transform")[0]

    def row_exponents(self, X):
        """Per-row exponents ``g`` that :meth:`transform` applies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes)
            Probability rows or logits (see ``input``).

        Returns
        -------
        gamma : ndarray of shape (n_samples,)
            ``q = p ** g / sum(p ** g)``; ``inf`` where a row is clipped to
            its tied maxima, 0 where it is clipped to uniform. For a dask
            array ``X``, a dask array computed block by block.
        """
        lazy = lazy_blockwise(self, "row_exponents", X)
        if lazy is not None:
            return lazy
        return self._solve(X, "row_exponents")[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.input == "proba"
        tags.array_api_support = True
        return tags
