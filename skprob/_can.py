"""Classification with alternating normalization (CAN) as a leak-free meta-estimator."""

# SPDX-License-Identifier: BSD-3-Clause

import itertools
import math
import warnings
from contextlib import nullcontext
from inspect import signature
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import issparse
from scipy.special import logsumexp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneOut, check_cv, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler
from sklearn.utils import Bunch, assert_all_finite, get_tags, indexable
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_is_fitted,
    column_or_1d,
)
from threadpoolctl import threadpool_limits

from ._backend import (
    asarray,
    check_same_namespace,
    get_namespace_and_device,
    is_dask_collection,
    is_numpy_namespace,
    lazy_blockwise,
    log_zero_as_tiny,
    softmax,
    to_numpy,
    xlogx,
)
from ._validation import (
    check_at_most_2d,
    check_prior,
    check_sample_weight,
    decode_labels,
    encode_labels,
)

__all__ = ["CANCalibrator"]

# Candidate values tried by the "auto" options, the defaults first so that a tie
# keeps the setting of the original method.
_ALPHA_GRID = (1.0, 0.5, 1.5, 2.0, 3.0)
_THRESHOLD_GRID = (0.9, 0.5, 0.6, 0.7, 0.8, 0.95)
_N_ITER_GRID = (1, 2, 3)

# z of the one-sided test a setting's out-of-fold gain must pass to be used.
_EVIDENCE_Z = 2.0

# Upper bound on the (rows x reference rows) block held in memory when n_iter > 1.
_BLOCK_ELEMENTS = 1 << 22

# Leading rows from which _doubtful guesses whether most rows need sorting.
_SAMPLE_ROWS = 1024


def _uncertainty(P, *, k, rule, xp):
    """Normalised entropy of the top-k probabilities of each row, in [0, 1].

    With ``S`` and ``T`` the sums of ``p`` and of ``p log p`` over the top k,
    the entropy of the renormalised top k is ``log S - T / S``.

    ``rule="top-k"`` renormalises the ``k`` largest probabilities and divides
    their entropy by ``log k``. ``rule="any-k"`` takes the largest of these
    values over every ``k`` in ``2..n_classes``, so a row counts as doubtful as
    soon as any of its top-k distributions is flat.
    """
    n_classes = P.shape[1]
    # An unstable ascending sort: the standard's default stable (and descending)
    # sort is several times slower and the order of ties does not matter here.
    ranked = xp.sort(P, axis=1, stable=False)
    if rule == "top-k":
        k = min(k, n_classes)
        # H = log S - T / S with S = sum p_i and T = sum p_i log p_i over the
        # top k, accumulated column by column: reductions over a short axis
        # are slow, and k is small.
        S = ranked[:, n_classes - 1]
        T = xlogx(S, xp=xp)
        for j in range(2, k + 1):
            column = ranked[:, n_classes - j]
            S = S + column
            T = T + xlogx(column, xp=xp)
        return (xp.log(S) - T / S) / math.log(k)
    # Every renormalised prefix of the descending order at once, O(n K).
    ranked = xp.flip(ranked, axis=1)
    S = xp.cumulative_sum(ranked, axis=1)[:, 1:]
    T = xp.cumulative_sum(xlogx(ranked, xp=xp), axis=1)[:, 1:]
    dev = get_namespace_and_device(P)[2]
    sizes = xp.arange(2, n_classes + 1, dtype=P.dtype, device=dev)
    H = (xp.log(S) - T / S) / xp.log(sizes)
    return xp.max(H, axis=1)


def _sure_share(k, threshold):
    """Top-1 share above which a row's normalised top-k entropy is < threshold.

    For a largest share ``r >= 1/k`` of the renormalised top k, the entropy is
    at most that of ``[r, (1-r)/(k-1), ...]``, which decreases from ``log k``
    at ``r = 1/k`` to 0 at ``r = 1``; this solves for the crossing (bisection).
    """

    def bound(r):
        rest = (1.0 - r) / (k - 1)
        terms = -r * math.log(r) - (k - 1) * (
            rest * math.log(rest) if rest > 0 else 0.0
        )
        return terms / math.log(k)

    low, high = 1.0 / k, 1.0
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if bound(middle) >= threshold else (low, middle)
    return high


def _doubtful(P, *, k, rule, threshold, xp):
    """Rows of ``P`` whose uncertainty is ``>= threshold``.

    For the top-k rule, rows whose largest probability is a large enough share
    of the row are confident whatever the rest; only the others are sorted.
    """
    if rule != "top-k":
        return _uncertainty(P, k=k, rule=rule, xp=xp) >= threshold
    # The margin covers rounding in the share and in the entropy.
    margin = math.sqrt(xp.finfo(P.dtype).eps)
    sure = _sure_share(min(k, P.shape[1]), threshold) + margin

    def candidates_of(rows):
        candidates = xp.max(rows, axis=1) / xp.sum(rows, axis=1) < sure
        return candidates, int(xp.sum(xp.astype(candidates, xp.int32)))

    # Gathering most rows costs more than sorting the few sure ones. The first
    # rows tell when most are candidates without the two passes over all of P
    # (the path changes the time, not the result).
    first = P[: min(_SAMPLE_ROWS, P.shape[0]), :]
    if 2 * candidates_of(first)[1] > first.shape[0]:
        return _uncertainty(P, k=k, rule=rule, xp=xp) >= threshold
    candidates, n_candidates = candidates_of(P)
    if 2 * n_candidates > P.shape[0]:
        return _uncertainty(P, k=k, rule=rule, xp=xp) >= threshold
    doubtful = xp.zeros_like(candidates)
    if n_candidates:
        doubtful[candidates] = (
            _uncertainty(P[candidates], k=k, rule=rule, xp=xp) >= threshold
        )
    return doubtful


def _power(A, alpha, xp):
    return A if alpha == 1.0 else A**alpha


def _divide(num, den, xp):
    """``num / den`` where ``0 <= num <= den``; ``0 / 0`` gives 0 (an empty
    column or row stays empty)."""
    return num / xp.where(den > 0, den, 1.0)


def _normalize_rows(Q, xp):
    return _divide(Q, xp.sum(Q, axis=1, keepdims=True), xp)


def _first_iteration(Qa, colsum, prior, xp):
    """``normalize_rows(prior * Qa / (colsum + Qa))``, the n_iter=1 closed form."""
    # colsum_j = 0 only for a class the reference never puts mass on; a tiny
    # stand-in keeps Qa / (colsum + Qa) equal to 1 where Qa > 1e-291 and to 0
    # where Qa = 0, without a pass over (rows, K) to guard the division.
    tiny = xp.finfo(Qa.dtype).smallest_normal
    colsum = xp.where(colsum > 0, colsum, tiny)
    if is_numpy_namespace(xp):
        # In place: this is the whole per-row cost of predict for n_iter=1.
        Y = Qa + colsum
        np.divide(Qa, Y, out=Y)
        Y *= prior
        sums = Y.sum(axis=1, keepdims=True)
        Y /= np.where(sums > 0, sums, 1.0)
        return Y
    return _normalize_rows(Qa * prior / (Qa + colsum), xp)


def _alternate(P, A, prior, alpha, n_iter, xp, colsum=None):
    """Alternating normalisation of each row of ``P`` against the reference ``A``.

    For every row ``p`` this is the loop over ``Y = [A; p]``
    (``Y <- Y**alpha``; divide columns by their sums; multiply columns by
    ``prior``; divide rows by their sums) without forming ``Y`` per row.

    Column steps scale every reference row by one vector and row steps by one
    scalar per row, so the reference rows of ``Y`` only ever differ from those
    of the same loop run on ``A`` alone (``M_t``, shared by all rows of ``P``)
    by one column factor ``g`` per row of ``P``: reference row ``i`` is
    ``M_t[i] * g / (M_t[i] . g)``. Iteration ``t + 1`` needs the column sums
    ``g**alpha * (h**alpha @ M_t**alpha)`` with ``h_i = 1 / (M_t[i] . g)``,
    two products of a ``(rows, m)`` block with the ``(m, K)`` reference. The
    first iteration has ``g = 1`` and only needs the column sums of
    ``A**alpha`` (``colsum``), hence the O(rows * K) closed form for
    ``n_iter=1``. Because ``M_t`` carries the bulk of the scaling, ``g`` and
    ``h`` stay close to 1 and large ``alpha**t`` does not overflow.

    Returns the list of the adjusted rows after each iteration.
    """
    Qa = _power(P, alpha, xp)
    Ma = _power(A, alpha, xp) if n_iter > 1 or colsum is None else None
    C0 = xp.sum(Ma, axis=0) if colsum is None else colsum
    Q = _first_iteration(Qa, C0, prior, xp)
    history = [Q]
    if n_iter > 1:
        g = _divide(C0, C0 + Qa, xp)
    for _ in range(1, n_iter):
        # One step of the loop on the reference alone.
        M = _normalize_rows(_divide(Ma, C0, xp) * prior, xp)
        Ma = _power(M, alpha, xp)
        C0 = xp.sum(Ma, axis=0)
        # A reference row with no mass left on the live columns drops out
        # (h = 0) instead of turning into 0 / 0.
        dots = g @ M.T
        h = xp.where(dots > 0, 1.0 / xp.where(dots > 0, dots, 1.0), 0.0)
        ga = _power(g, alpha, xp)
        Qa = _power(Q, alpha, xp)
        C = ga * (_power(h, alpha, xp) @ Ma) + Qa
        Q = _normalize_rows(_divide(Qa, C, xp) * prior, xp)
        # A column that is empty in every row of this Y stays empty.
        g = xp.where(C > 0, _divide(ga * C0, C, xp), 0.0)
        history.append(Q)
    return history


def _adjust(P, A, prior, alpha, n_iter, xp, colsum=None, all_iterations=False):
    """Adjusted rows of ``P``; blocks of rows bound the memory when n_iter > 1.

    Rows whose adjusted mass is zero (all their probability on classes of zero
    prior) are returned unchanged.
    """
    n_rows, m = P.shape[0], A.shape[0]
    if n_iter == 1 or n_rows == 0:
        block = max(n_rows, 1)
    else:
        block = max(1, _BLOCK_ELEMENTS // max(m, 1))
    pieces = [
        _alternate(
            P[start : min(start + block, n_rows), :],
            A,
            prior,
            alpha,
            n_iter,
            xp,
            colsum,
        )
        for start in range(0, max(n_rows, 1), block)
    ]
    results = []
    for t in range(n_iter if all_iterations else 1):
        index = t if all_iterations else n_iter - 1
        Q = (
            pieces[0][index]
            if len(pieces) == 1
            else xp.concat([piece[index] for piece in pieces], axis=0)
        )
        empty = xp.sum(Q, axis=1, keepdims=True) <= 0
        results.append(xp.where(empty, P, Q) if bool(xp.any(empty)) else Q)
    return results if all_iterations else results[0]


def _as_class_scores(scores, xp):
    """Decision scores as one column per class.

    A binary ``decision_function`` gives ``s = score(class 1) - score(class 0)``;
    ``(0, s)`` are the two class scores up to a common shift, which softmax
    ignores.
    """
    if scores.ndim == 1:
        return xp.stack([xp.zeros_like(scores), scores], axis=1)
    return scores


def _fit_temperature(scores, y_index, weight):
    """Temperature ``T`` minimising the weighted log loss of ``softmax(scores / T)``.

    The rule of scikit-learn's ``CalibratedClassifierCV(method="temperature")``:
    one scalar, fitted on held-out scores, ``log(1 / T)`` searched in
    ``[-10, 10]``. Runs on the host: ``scores`` is ``(n_samples, n_classes)``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    weight = weight / weight.sum()
    true_scores = np.take_along_axis(scores, y_index[:, None], axis=1)[:, 0]

    def log_loss(log_beta):
        beta = math.exp(log_beta)
        return float(weight @ (logsumexp(beta * scores, axis=1) - beta * true_scores))

    result = minimize_scalar(
        log_loss,
        bounds=(-10.0, 10.0),
        method="bounded",
        options={"xatol": 64 * np.finfo(np.float64).eps},
    )
    return math.exp(-result.x)


class _ScoresAsProbabilities(ClassifierMixin, BaseEstimator):
    """A fitted classifier with only ``decision_function``, made probabilistic.

    ``predict_proba`` is ``softmax(decision_function(X) / temperature)``, a
    binary score ``s`` being the class scores ``(0, s)``, so
    ``P(classes_[1]) = expit(s / temperature)``; ``predict`` is the fitted
    classifier's own (the same argmax).

    Parameters
    ----------
    estimator : fitted estimator
        Classifier with ``decision_function`` and ``classes_``.
    temperature : float > 0
        Divides the scores before the softmax.
    """

    def __init__(self, estimator, temperature):
        self.estimator = estimator
        self.temperature = temperature

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return self.estimator.classes_

    def fit(self, X, y, **fit_params):
        """Not used: the wrapper holds an already fitted classifier."""
        raise NotImplementedError(
            "_ScoresAsProbabilities wraps a fitted classifier and is not refitted."
        )

    def decision_function(self, X):
        """The fitted classifier's scores."""
        return self.estimator.decision_function(X)

    def predict_proba(self, X):
        """``softmax(decision_function(X) / temperature)``."""
        scores = self.estimator.decision_function(X)
        xp, _, _ = get_namespace_and_device(scores)
        if scores.dtype not in (xp.float32, xp.float64):
            scores = xp.astype(scores, xp.float64)
        return softmax(_as_class_scores(scores, xp) / self.temperature, axis=1, xp=xp)

    def predict(self, X):
        """The fitted classifier's predictions."""
        return self.estimator.predict(X)


class _WeightScaleFreeStandardScaler(StandardScaler):
    """StandardScaler fitted with its sample weights divided by their maximum.

    The weighted mean and variance do not depend on the scale of the weights,
    but StandardScaler squares weighted sums, which overflow float64 for
    weights of about 1e150 and more.
    """

    def fit(self, X, y=None, sample_weight=None):
        """Fit as StandardScaler does, on the rescaled weights."""
        if sample_weight is not None:
            if not hasattr(sample_weight, "__array_namespace__"):
                sample_weight = np.asarray(sample_weight, dtype=np.float64)
            xp, _, _ = get_namespace_and_device(sample_weight)
            largest = xp.max(sample_weight) if sample_weight.ndim else sample_weight
            if float(largest) > 0:
                sample_weight = sample_weight / largest
        return super().fit(X, y, sample_weight=sample_weight)


class _ExactMaxAbsScaler(MaxAbsScaler):
    """MaxAbsScaler that scales every column whose maximum is not exactly 0.

    MaxAbsScaler leaves a column whose maximum is below ``10 * eps`` unscaled,
    as if it were constant; the standardisation that follows it here decides
    constancy relative to the column's own mean, which needs the column in a
    range where its square does not underflow.
    """

    def fit(self, X, y=None):
        """Fit as MaxAbsScaler does, then scale every non-zero column."""
        super().fit(X, y)
        xp, _, _ = get_namespace_and_device(self.max_abs_)
        self.scale_ = xp.where(
            self.max_abs_ > 0, self.max_abs_, xp.ones_like(self.max_abs_)
        )
        return self


def _default_estimator(*, sparse=False):
    """The base model used when ``estimator=None``.

    Standardised, so that lbfgs converges within its default ``max_iter`` on
    features of any units; the max-abs scaling before it keeps the squares of
    the standardisation finite (no overflow, no underflow) for values anywhere
    in the float64 range, and sparse input is scaled without centring, which
    would densify it.
    """
    scaler = _WeightScaleFreeStandardScaler(with_mean=not sparse)
    classifier = LogisticRegression()
    if _routing_enabled():
        # As CalibratedClassifierCV does for its default: the user cannot set
        # the requests of an estimator built here.
        scaler.set_fit_request(sample_weight=True)
        classifier.set_fit_request(sample_weight=True)
    return Pipeline(
        [
            ("maxabsscaler", _ExactMaxAbsScaler()),
            ("standardscaler", scaler),
            ("logisticregression", classifier),
        ]
    )


def _check_finite_labels(y, owner):
    # Before check_classification_targets, whose cast of NaN to int warns.
    values = to_numpy(y)
    if values.dtype.kind == "f":
        assert_all_finite(values, input_name="y", estimator_name=owner)


def _rows(params, index, n_samples):
    """Fit parameters restricted to the rows ``index`` (those given per row)."""
    return {
        name: value[index] if getattr(value, "shape", ())[:1] == (n_samples,) else value
        for name, value in params.items()
    }


class CANCalibrator(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Adjust a classifier's doubtful predictions to the class prior (CAN).

    Classification with Alternating Normalization [1]_ post-processes the
    probabilities of any classifier with ``predict_proba``. A prediction whose
    top-k probabilities are nearly flat (normalised entropy
    ``>= threshold``) is re-weighted together with a reference set ``A`` of
    confident predictions so that the column sums of ``[A; p]`` match the class
    prior: with ``Y = [A; p]``, ``n_iter`` times, ``Y <- Y**alpha``, divide
    each column by its sum, multiply column ``j`` by ``prior[j]``, divide each
    row by its sum; the adjusted ``p`` is the last row of ``Y``. Confident
    predictions pass unchanged.

    The reference set is collected at :meth:`fit` from out-of-fold predictions
    (``cross_val_predict`` over ``cv``), so the rows used to adjust a
    prediction were never predicted by a model that saw them, and
    :meth:`predict_proba` of a row does not depend on the other rows of the
    batch. The final ``estimator_`` is then refitted on all the data, as
    :class:`~sklearn.calibration.CalibratedClassifierCV` does with
    ``ensemble=False``.

    Read more in the :ref:`User Guide <can_calibrator>`.

    Parameters
    ----------
    estimator : estimator instance, default=None
        Classifier with ``fit`` and ``predict_proba`` or ``decision_function``;
        it is cloned, never fitted in place. A classifier with only
        ``decision_function`` (:class:`~sklearn.svm.LinearSVC`,
        :class:`~sklearn.linear_model.RidgeClassifier`, ...) gets probabilities
        ``softmax(scores / temperature_)``, with the temperature fitted on the
        out-of-fold scores (see Notes). ``None`` means a
        :class:`~sklearn.preprocessing.MaxAbsScaler`, a
        :class:`~sklearn.preprocessing.StandardScaler` and a
        :class:`~sklearn.linear_model.LogisticRegression` in a pipeline:
        standardised so that the solver converges whatever the units of the
        features (for sparse ``X``, scaled without centring). Wrap an already
        fitted classifier in :class:`~sklearn.frozen.FrozenEstimator` to use it
        as it is: ``X, y`` of :meth:`fit` are then held-out data whose
        predictions form the reference set, and ``cv`` is only used by the
        ``"auto"`` options.

        .. versionchanged:: 0.1
           Classifiers with only ``decision_function`` are accepted; the
           default pipeline scales by the maximum absolute value first and
           accepts sparse ``X``.
    cv : int, cross-validation generator or iterable, default=5
        Splitting for the out-of-fold predictions (and for the inner search of
        the ``"auto"`` options). An int gives
        :class:`~sklearn.model_selection.StratifiedKFold`.
    prior : array-like of shape (n_classes,), default=None
        Class prior ``pi`` in the order of ``classes_``; by default the
        (weighted) class frequencies of ``y``. Give the prior of the data the
        model will be applied to when it differs from the training frequencies.
    k : int, default=3
        Number of top probabilities whose entropy measures the uncertainty
        (``min(k, n_classes)`` is used).
    threshold : float in (0, 1] or "auto", default="auto"
        Rows with uncertainty ``>= threshold`` are adjusted; out-of-fold rows
        with uncertainty ``< threshold`` form the reference set. ``"auto"``
        chooses among 0.9, 0.5, 0.6, 0.7, 0.8 and 0.95 on the out-of-fold
        predictions, and keeps the base model's predictions unless the best
        setting's gain there is significant (see Notes). 0.9 is the value of
        the original method [1]_.
    alpha : float > 0 or "auto", default="auto"
        Exponent applied at each iteration; ``alpha > 1`` sharpens.
        ``"auto"`` chooses among 1, 0.5, 1.5, 2 and 3. 1 is the value of the
        original method.
    n_iter : int >= 1 or "auto", default=1
        Number of alternating normalisations. ``"auto"`` chooses among 1, 2
        and 3.
    reference : {"fit", "transductive"}, default="fit"
        ``"fit"`` adjusts with the confident out-of-fold predictions stored at
        fit time: each row's prediction is independent of the batch.
        ``"transductive"`` uses the confident rows of the batch being predicted
        instead, as in the original method [1]_; predictions then depend on
        which other rows are predicted together (a single doubtful row is left
        unchanged, having no reference), so the estimator is not suited to
        row-by-row serving in that mode.
    uncertainty : {"top-k", "any-k"}, default="top-k"
        ``"top-k"``: normalised entropy of the top ``k`` probabilities.
        ``"any-k"``: the stricter rule of the reference code: the largest
        normalised top-k' entropy over ``k' = 2..n_classes`` (``k`` is then
        not used), so more rows count as doubtful.
    n_jobs : int, default=None
        Jobs for the cross-validated fits (``cross_val_predict``).
    blas_threads : int >= 1 or None, default=1
        Number of BLAS threads during :meth:`fit` (the fold fits, the refit on
        all the data and the ``"auto"`` search), set with
        :func:`threadpoolctl.threadpool_limits`: each fold fit is a series of
        small matrix products, for which more threads mostly wait on each
        other, the more so on a busy machine. ``None`` leaves the process's
        setting (for a base model whose fits are large enough to use several
        threads). :meth:`predict_proba` is not limited.

        .. versionadded:: 0.1

    Attributes
    ----------
    estimator_ : estimator instance
        The base classifier fitted on all the data (the frozen one if a
        :class:`~sklearn.frozen.FrozenEstimator` was given). For a base with
        only ``decision_function``, a wrapper of it whose ``predict_proba`` is
        ``softmax(decision_function(X) / temperature_)``; the fitted classifier
        is its ``estimator`` attribute.
    temperature_ : float or None
        Temperature of the softmax that turns the base classifier's
        ``decision_function`` into probabilities (a binary score ``s`` gives
        ``P(classes_[1]) = expit(s / temperature_)``); ``None`` for a base with
        ``predict_proba``.
    classes_ : ndarray of shape (n_classes,)
        Class labels, those of ``estimator_``.
    reference_ : ndarray of shape (n_reference, n_classes) or None
        Confident out-of-fold probabilities used to adjust doubtful rows;
        ``None`` when ``reference="transductive"``.
    prior_ : ndarray of shape (n_classes,)
        Class prior used.
    alpha_ : float
        Exponent used (chosen when ``alpha="auto"``).
    threshold_ : float
        Uncertainty threshold used (chosen when ``threshold="auto"``).
    n_iter_ : int
        Number of iterations used (chosen when ``n_iter="auto"``).
    adjust_ : bool
        Whether :meth:`predict_proba` adjusts doubtful rows. False when an
        ``"auto"`` search found no setting whose out-of-fold gain is
        significant, or when no out-of-fold prediction was confident (empty
        reference set); the predictions are then the base model's.
    search_results_ : dict
        Only with an ``"auto"`` option: ``"params"`` (list of dicts),
        ``"accuracy"`` (inner cross-validated accuracy of each setting,
        ndarray), ``"base_accuracy"`` (that of the unadjusted predictions),
        ``"n_fixed"`` and ``"n_broken"`` (weighted counts of the held-out rows
        each setting fixes and breaks) and ``"gain_lower_bound"`` (the
        evidence, as a fraction of the total weight; see Notes).
    n_features_in_ : int
        Number of features seen during :term:`fit` (when ``estimator_``
        records it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.calibration.CalibratedClassifierCV : Calibrates probabilities with
        the same cross-validation structure; does not use a class prior.

    Notes
    -----
    With ``n_iter=1`` the adjusted row has a closed form:
    ``q = p**alpha * prior / (c + p**alpha)`` renormalised, where ``c`` are the
    column sums of ``A**alpha`` precomputed at fit, so prediction costs
    O(n_samples * n_classes) on top of the base model. With ``n_iter > 1``
    each doubtful row costs two products with the ``(n_reference, n_classes)``
    reference set per extra iteration, batched over rows.

    A base classifier without ``predict_proba`` is turned into a
    probabilistic one as :class:`~sklearn.calibration.CalibratedClassifierCV`
    with ``method="temperature"`` and ``ensemble=False`` does: one temperature
    ``T`` minimises the (weighted) log loss of ``softmax(scores / T)`` on the
    out-of-fold decision scores (on the held-out ``X`` for a frozen base),
    and the classifier refitted on all the data is used with it. The
    out-of-fold probabilities that form the reference set are those same
    softmaxes.

    For a dask array ``X`` (with a base classifier that fits dask arrays,
    such as :class:`AnalyticLogisticRegression`), each fold's model is fitted
    on the dask rows of its training part and predicts its test part
    blockwise, so ``X`` never comes into memory: only ``y``, the sample
    weights and the ``(n_samples, n_classes)`` out-of-fold probabilities do.
    The fits run one after the other (``n_jobs`` is not used: the dask
    scheduler parallelises each one), and :meth:`predict_proba` of a dask
    array is a lazy dask array.

    A row whose probability lies entirely on classes of zero prior is returned
    unchanged, and columns that are zero in ``[A; p]`` stay zero, so exact
    zeros never produce NaN.

    The ``"auto"`` options are chosen on the out-of-fold predictions by an
    inner cross-validation over the same folds: for each split the reference
    set and the prior come from the training part, and the held-out part
    counts the rows each setting fixes (wrong before, right after) and breaks.
    A setting's evidence is the lower bound of a one-sided sign (McNemar)
    test on the rows it changes, ``fixed - broken - 2 sqrt(fixed + broken)``
    (weighted); the setting with the largest bound is chosen, and if that
    bound is not positive, ``adjust_`` is False and :meth:`predict_proba`
    returns the base model's probabilities. With a given ``prior``, the
    out-of-fold rows of class ``j`` are weighted by ``prior[j]`` over the
    class frequency, so the evidence is measured under the deployment prior
    (label shift). Why the test: for a base model that is calibrated for
    the training prior, the confident rows are mostly of the classes the
    model is sure about, so the reference set under-represents the others
    and the original method moves doubtful rows towards them, which can cost
    accuracy; the test keeps the base model's predictions unless the gain is
    clear (measurements in ``benchmarks/RESULTS.md`` and the User Guide).

    References
    ----------
    .. [1] M. Jia, A. Reiter, S.-N. Lim, Y. Artzi and C. Cardie, "When in
       Doubt: Improving Classification Performance with Alternating
       Normalization", Findings of EMNLP 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprob import CANCalibrator
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = CANCalibrator(LogisticRegression(max_iter=1000), cv=3).fit(X, y)
    >>> clf.reference_.shape[1], clf.prior_.round(3)
    (3, array([0.333, 0.333, 0.333]))
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> bool(abs(clf.predict_proba(X).sum(axis=1) - 1).max() < 1e-12)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "cv": ["cv_object"],
        "prior": ["array-like", None],
        "k": [Interval(Integral, 2, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="right"), StrOptions({"auto"})],
        "alpha": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "n_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "reference": [StrOptions({"fit", "transductive"})],
        "uncertainty": [StrOptions({"top-k", "any-k"})],
        "n_jobs": [Integral, None],
        "blas_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        cv=5,
        prior=None,
        k=3,
        threshold="auto",
        alpha="auto",
        n_iter=1,
        reference="fit",
        uncertainty="top-k",
        n_jobs=None,
        blas_threads=1,
    ):
        self.estimator = estimator
        self.cv = cv
        self.prior = prior
        self.k = k
        self.threshold = threshold
        self.alpha = alpha
        self.n_iter = n_iter
        self.reference = reference
        self.uncertainty = uncertainty
        self.n_jobs = n_jobs
        self.blas_threads = blas_threads

    def _get_estimator(self, X=None):
        if self.estimator is not None:
            return self.estimator
        return _default_estimator(sparse=X is not None and issparse(X))

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        ``sample_weight`` is used by the calibrator itself and, when requested,
        by the base classifier's ``fit``; ``groups`` and other split parameters
        go to the ``cv`` splitter.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self._get_estimator(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    @_fit_context(
        # CANCalibrator.estimator is not validated yet
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the base classifier and collect the reference set and prior.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Training data (held-out data for a
            :class:`~sklearn.frozen.FrozenEstimator`). A dask array is kept
            out of memory when the base classifier fits dask arrays (see
            Notes).
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: used for the class frequencies and the ``"auto"``
            search, and passed to the base classifier's ``fit`` when it accepts
            them (with metadata routing enabled: when it requests them).
        **fit_params : dict
            Further parameters passed to the base classifier's ``fit``. With
            metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``) they are
            routed by request instead, e.g. ``groups`` to a group-aware ``cv``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        estimator = self._get_estimator(X)
        frozen = isinstance(estimator, FrozenEstimator)
        X, y, y_host, weight = self._check_fit_input(
            X, y, sample_weight, estimator, frozen
        )
        routed = self._route_params(estimator, frozen, sample_weight, fit_params)
        splits = self._splits(X, y_host, frozen, routed.splitter.split)
        with self._blas_limits():
            oof = self._fit_base(estimator, frozen, X, y, splits, routed.estimator.fit)
            y_index = self._encode(y_host)
            oof = self._as_probabilities(oof, y_index, weight)
            xp, _, dev = get_namespace_and_device(oof)
            if oof.dtype not in (xp.float32, xp.float64):
                oof = xp.astype(oof, xp.float64)
            prior = self._prior(y_index, weight, oof.shape[1])
            self.prior_ = asarray(prior, xp=xp, device=dev, dtype=oof.dtype)
            uncertainty = _uncertainty(oof, k=self.k, rule=self.uncertainty, xp=xp)
            self._choose_setting(oof, uncertainty, y_index, weight, splits, xp)
            self._set_reference(oof, uncertainty, xp)
        return self

    def _blas_limits(self):
        # The fold fits are many small matrix products, for which BLAS threads
        # spin and wait more than they compute.
        if self.blas_threads is None:
            return nullcontext()
        return threadpool_limits(limits=self.blas_threads, user_api="blas")

    def _check_fit_input(self, X, y, sample_weight, estimator, frozen):
        """Check X, y, sample_weight and prior once, before any fold is fitted.

        X itself is left to a given base classifier (it may take text, frames or
        missing values); only its length and width are checked here, so that
        errors name the user's shapes rather than a fold's. The default base
        model takes numeric finite X only, which is checked in full. Returns
        the indexable X and y, y on the host, and float64 host weights.
        """
        lazy = is_dask_collection(X)
        if lazy and self.estimator is None:
            raise ValueError(
                "CANCalibrator's default base model (LogisticRegression) needs X "
                "in memory; for a dask array X pass a base classifier that fits "
                "dask arrays, e.g. CANCalibrator(AnalyticLogisticRegression())."
            )
        # Labels are gathered (one value per row) whatever X is.
        y_host = y.compute() if is_dask_collection(y) else y
        if y_host is not None:
            _check_finite_labels(y_host, "CANCalibrator")
        check_classification_targets(y_host)
        y_host = to_numpy(y_host)
        check_at_most_2d(X, "CANCalibrator")
        if not lazy:
            X, y = indexable(X, y)
        y = column_or_1d(y, warn=True) if not is_dask_collection(y) else y
        y_host = column_or_1d(y_host)
        n_samples = X.shape[0] if lazy else _num_samples(X)
        if lazy and math.isnan(n_samples):
            raise ValueError(
                "CANCalibrator needs the chunk sizes of a dask array X to split "
                "it into folds: call X.compute_chunk_sizes() first."
            )
        if n_samples == 0:
            raise ValueError(
                "Found array with 0 sample(s) while a minimum of 1 is required "
                "by CANCalibrator."
            )
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) == 2 and shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={tuple(shape)}) while a "
                "minimum of 1 is required by CANCalibrator."
            )
        if y_host.shape[0] != n_samples:
            raise ValueError(
                f"X has {n_samples} samples but y has {y_host.shape[0]}; "
                "CANCalibrator needs one label per row."
            )
        if self.estimator is None:
            # Only checked: X itself goes on to the pipeline, with its feature
            # names.
            check_array(X, accept_sparse=["csr", "csc"], input_name="X", estimator=self)
        n_classes = np.unique(y_host).shape[0]
        if not frozen and n_classes < 2:
            raise ValueError(
                "CANCalibrator needs samples of at least 2 classes in y to fit "
                f"its base classifier; y has 1 class: {y_host[0].item()!r}."
            )
        # The weights are checked against the number of rows only: the base
        # classifier receives the user's own object.
        if is_dask_collection(sample_weight):
            sample_weight = sample_weight.compute()
        weight = to_numpy(check_sample_weight(sample_weight, np.empty((n_samples, 0))))
        if self.prior is not None:
            if frozen:
                n_classes = len(estimator.classes_)
            check_prior(self.prior, n_classes, name="prior")
        return X, y, y_host, weight

    def _route_params(self, estimator, frozen, sample_weight, fit_params):
        """Parameters for the base classifier's fit and for the splitter."""
        if _routing_enabled():
            return process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
        params = dict(fit_params)
        if sample_weight is not None:
            if self.estimator is None:
                # The scalers and the classifier of the default pipeline take the
                # weights (MaxAbsScaler has no use for them).
                for step in ("standardscaler", "logisticregression"):
                    params[f"{step}__sample_weight"] = sample_weight
            elif "sample_weight" in signature(estimator.fit).parameters:
                params["sample_weight"] = sample_weight
            elif not frozen:
                warnings.warn(
                    f"{type(estimator).__name__}.fit does not accept sample_weight; "
                    "the weights are only used for the class prior and the 'auto' "
                    "search of CANCalibrator.",
                    UserWarning,
                    # user code -> _fit_context wrapper -> fit -> here
                    stacklevel=4,
                )
        return Bunch(estimator=Bunch(fit=params), splitter=Bunch(split={}))

    def _searches(self):
        return any(v == "auto" for v in (self.alpha, self.threshold, self.n_iter))

    def _splits(self, X, y, frozen, split_params):
        """The folds, drawn once: the out-of-fold fits and the search share them."""
        if frozen and not self._searches():
            return None
        cv = self._check_cv(y)
        if is_dask_collection(X):
            # Splitters only need the number of rows: no need to read X.
            X = np.empty((y.shape[0], 0))
        return list(cv.split(X, y, **split_params))

    def _fit_base(self, estimator, frozen, X, y, splits, params):
        """Set ``estimator_`` and return the base model's out-of-fold outputs.

        The outputs are ``predict_proba``, or ``decision_function`` for a base
        without ``predict_proba`` (``estimator_`` is then the fitted base, to
        be wrapped by :meth:`_as_probabilities`).
        """
        method = "predict_proba"
        if not hasattr(estimator, method):
            method = "decision_function"
        if frozen:
            self.estimator_ = estimator
            oof = getattr(estimator, method)(X)
        elif is_dask_collection(X):
            oof = self._out_of_fold_lazy(estimator, method, X, y, splits, params)
            self.estimator_ = clone(estimator).fit(X, y, **params)
        else:
            oof = cross_val_predict(
                clone(estimator),
                X,
                y,
                cv=splits,
                method=method,
                n_jobs=self.n_jobs,
                params=params,
            )
            self.estimator_ = clone(estimator).fit(X, y, **params)
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attribute):
                setattr(self, attribute, getattr(self.estimator_, attribute))
            elif hasattr(self, attribute):
                delattr(self, attribute)
        self.classes_ = self.estimator_.classes_
        return oof

    def _out_of_fold_lazy(self, estimator, method, X, y, splits, params):
        """Out-of-fold outputs for a dask array X, gathered into memory.

        Each fold's model is fitted on the dask rows of its training part and
        predicts its test part blockwise; only the ``(n_samples, n_classes)``
        outputs come back, never X.
        """
        n_samples = X.shape[0]
        oof = None
        for train, test in splits:
            model = clone(estimator).fit(
                X[train], y[train], **_rows(params, train, n_samples)
            )
            part = getattr(model, method)(X[test])
            part = to_numpy(part.compute() if is_dask_collection(part) else part)
            if oof is None:
                oof = np.empty((n_samples,) + part.shape[1:], dtype=part.dtype)
            oof[test] = part
        return oof

    def _as_probabilities(self, oof, y_index, weight):
        """Out-of-fold probabilities; decision scores go through a fitted temperature.

        For a base without ``predict_proba``, the temperature is fitted on the
        out-of-fold scores and ``estimator_`` becomes the fitted base wrapped so
        that its ``predict_proba`` applies it.
        """
        if hasattr(self.estimator_, "predict_proba"):
            self.temperature_ = None
            return oof
        xp, _, _ = get_namespace_and_device(oof)
        if oof.dtype not in (xp.float32, xp.float64):
            oof = xp.astype(oof, xp.float64)
        scores = _as_class_scores(oof, xp)
        self.temperature_ = _fit_temperature(to_numpy(scores), y_index, weight)
        self.estimator_ = _ScoresAsProbabilities(self.estimator_, self.temperature_)
        return softmax(scores / self.temperature_, axis=1, xp=xp)

    def _choose_setting(self, oof, uncertainty, y_index, weight, splits, xp):
        """Set alpha_, threshold_, n_iter_ and adjust_ (searched or as given)."""
        if self._searches():
            shift_weight = self._shift_weight(y_index, weight)
            self._search(oof, uncertainty, y_index, shift_weight, splits, xp)
            return
        self.alpha_ = float(self.alpha)
        self.threshold_ = float(self.threshold)
        self.n_iter_ = int(self.n_iter)
        self.adjust_ = True
        if hasattr(self, "search_results_"):
            del self.search_results_

    def _set_reference(self, oof, uncertainty, xp):
        if self.reference != "fit":
            self.reference_ = None
            return
        self.reference_ = oof[uncertainty < self.threshold_]
        if self.adjust_ and self.reference_.shape[0] == 0:
            warnings.warn(
                "No out-of-fold prediction has an uncertainty below "
                f"threshold={self.threshold_:g}: the reference set is empty "
                "and predict_proba returns the base classifier's probabilities.",
                UserWarning,
                # user code -> _fit_context wrapper -> fit -> here
                stacklevel=4,
            )
            self.adjust_ = False
        self._reference_colsum = xp.sum(
            _power(self.reference_, self.alpha_, xp), axis=0
        )

    def _check_cv(self, y):
        if isinstance(self.cv, LeaveOneOut):
            raise ValueError(
                "LeaveOneOut cross-validation leaves a single sample per test split "
                "and cannot give out-of-fold predictions for every class; use a "
                "(Stratified)KFold."
            )
        if isinstance(self.cv, Integral):
            n_folds = self.cv
        else:
            n_folds = getattr(self.cv, "n_splits", None)
        if n_folds:
            _, counts = np.unique(y, return_counts=True)
            if counts.min() < n_folds:
                raise ValueError(
                    f"Requesting {n_folds}-fold cross-validation but provided fewer "
                    f"than {n_folds} examples for at least one class."
                )
        return check_cv(self.cv, y, classifier=True)

    def _encode(self, y):
        _, index = encode_labels(y, xp=np, classes=to_numpy(self.classes_))
        return index

    def _prior(self, y_index, weight, n_classes):
        if self.prior is not None:
            return check_prior(self.prior, n_classes, name="prior")
        counts = np.bincount(y_index, weights=weight, minlength=n_classes)
        return counts / counts.sum()

    def _shift_weight(self, y_index, weight):
        """Sample weights that make the training rows stand for the deployment data.

        Under label shift (``P(x | y)`` unchanged), weighting the rows of class
        ``j`` by ``prior[j] / frequency[j]`` turns an accuracy measured on the
        training rows into one under ``prior``; without a given prior the
        weights are unchanged.
        """
        if self.prior is None:
            return weight
        n_classes = self.classes_.shape[0]
        prior = self._prior(y_index, weight, n_classes)
        frequency = np.bincount(y_index, weights=weight, minlength=n_classes)
        frequency /= frequency.sum()
        ratio = np.divide(
            prior, frequency, out=np.zeros(n_classes), where=frequency > 0
        )
        return weight * ratio[y_index]

    def _search(self, oof, uncertainty, y_index, weight, splits, xp):
        """Choose alpha / threshold / n_iter by inner CV on the out-of-fold rows.

        Each setting is scored by the rows it fixes and breaks on the held-out
        parts; it is kept only if the lower confidence bound of its gain,
        ``fixed - broken - z * sqrt(fixed + broken)`` (a McNemar / sign test on
        the changed rows, weighted), is positive.
        """
        dev = get_namespace_and_device(oof)[2]
        # In units of the largest weight, so that the squared weights stay
        # finite; the counts are reported in the user's units.
        scale = float(weight.max())
        weight = weight / scale
        thresholds, alphas, n_iters = self._candidates()
        max_iter = max(n_iters)
        grid = list(itertools.product(thresholds, alphas, n_iters))
        # Weighted counts of the rows each setting fixes and breaks, and the sum
        # of the squared weights of the rows it changes (the variance of the gain
        # under the null hypothesis that a change is as likely to fix as to break).
        fixed, broken, changed_sq = (dict.fromkeys(grid, 0.0) for _ in range(3))
        oof_host = to_numpy(oof)
        uncertainty = to_numpy(uncertainty)
        hit = oof_host.argmax(axis=1) == y_index
        for train, test in splits:
            prior = self._prior(y_index[train], weight[train], oof.shape[1])
            prior = asarray(prior, xp=xp, device=dev, dtype=oof.dtype)
            source = train if self.reference == "fit" else test
            # In order of uncertainty, every threshold's reference set is a prefix
            # of the source rows and its doubtful rows a suffix of the test rows:
            # one gather per fold, and one power and running sum per alpha.
            source = source[np.argsort(uncertainty[source], kind="stable")]
            test = test[np.argsort(uncertainty[test], kind="stable")]
            source_rows = xp.take(oof, asarray(source, xp=xp, device=dev), axis=0)
            test_rows = xp.take(oof, asarray(test, xp=xp, device=dev), axis=0)
            running = {
                alpha: xp.cumulative_sum(_power(source_rows, alpha, xp), axis=0)
                for alpha in alphas
            }
            for threshold in thresholds:
                n_confident = int(np.searchsorted(uncertainty[source], threshold))
                first = int(np.searchsorted(uncertainty[test], threshold))
                if n_confident == 0 or first == test.shape[0]:
                    continue
                doubtful = test[first:]
                rows, A = test_rows[first:, :], source_rows[:n_confident, :]
                w, was_hit = weight[doubtful], hit[doubtful]
                for alpha in alphas:
                    # One run to max(n_iters) gives every shorter run too.
                    history = _adjust(
                        rows,
                        A,
                        prior,
                        alpha,
                        max_iter,
                        xp,
                        colsum=running[alpha][n_confident - 1, :],
                        all_iterations=True,
                    )
                    for n_iter in n_iters:
                        pred = to_numpy(xp.argmax(history[n_iter - 1], axis=1))
                        new_hit = pred == y_index[doubtful]
                        setting = threshold, alpha, n_iter
                        fixed[setting] += float(w @ (new_hit & ~was_hit))
                        broken[setting] += float(w @ (was_hit & ~new_hit))
                        changed_sq[setting] += float(w**2 @ (new_hit != was_hit))
        fixed, broken, changed_sq = (
            np.array([sums[s] for s in grid]) for sums in (fixed, broken, changed_sq)
        )
        self._keep_best(grid, fixed, broken, changed_sq, weight @ hit, weight, scale)

    def _candidates(self):
        """The thresholds, alphas and iteration counts the search compares."""
        return (
            _THRESHOLD_GRID if self.threshold == "auto" else (float(self.threshold),),
            _ALPHA_GRID if self.alpha == "auto" else (float(self.alpha),),
            _N_ITER_GRID if self.n_iter == "auto" else (int(self.n_iter),),
        )

    def _keep_best(self, grid, fixed, broken, changed_sq, n_hit, weight, scale):
        """Set the chosen setting, ``adjust_`` and ``search_results_``."""
        total = float(weight.sum())
        base_accuracy = float(n_hit) / total
        gain = fixed - broken
        bound = gain - _EVIDENCE_Z * np.sqrt(changed_sq)
        best = int(np.argmax(bound))
        self.threshold_, self.alpha_, self.n_iter_ = grid[best]
        # A setting must earn its place: without evidence, the base model.
        self.adjust_ = bool(bound[best] > 0)
        self.search_results_ = {
            "params": [{"threshold": t, "alpha": a, "n_iter": n} for t, a, n in grid],
            "accuracy": base_accuracy + gain / total,
            "base_accuracy": base_accuracy,
            "n_fixed": fixed * scale,
            "n_broken": broken * scale,
            "gain_lower_bound": bound / total,
        }

    def predict_proba(self, X):
        """Base probabilities with the doubtful rows adjusted to the prior.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``estimator_.predict_proba``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1. For a
            dask array ``X`` (``reference="fit"``), a dask array computed
            block by block.
        """
        lazy = lazy_blockwise(self, "predict_proba", X)
        if lazy is not None:
            return lazy
        return self._predict_proba(X, "predict_proba")

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``estimator_.predict_proba``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``; a probability of
            exactly 0 gives the log of the smallest normal number of the dtype
            (finite), as in
            :meth:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis.predict_log_proba`.
        """
        lazy = lazy_blockwise(self, "predict_log_proba", X)
        if lazy is not None:
            return lazy
        proba = self._predict_proba(X, "predict_log_proba")
        xp, _, _ = get_namespace_and_device(proba)
        return log_zero_as_tiny(proba, xp=xp)

    def _predict_proba(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="prior_", method=method)
        self._check_n_features(X)
        P = self.estimator_.predict_proba(X)
        if not self.adjust_:
            return P
        xp, _, _ = get_namespace_and_device(P)
        dtype = P.dtype if P.dtype in (xp.float32, xp.float64) else xp.float64
        P = xp.astype(P, dtype, copy=False)
        doubtful = _doubtful(
            P, k=self.k, rule=self.uncertainty, threshold=self.threshold_, xp=xp
        )
        if not bool(xp.any(doubtful)):
            return P
        if self.reference == "fit":
            A = xp.astype(self.reference_, dtype, copy=False)
            colsum = xp.astype(self._reference_colsum, dtype, copy=False)
        else:
            A = P[~doubtful]
            if A.shape[0] == 0:
                return P
            colsum = None
        prior = xp.astype(self.prior_, dtype, copy=False)
        adjusted = _adjust(P[doubtful], A, prior, self.alpha_, self.n_iter_, xp, colsum)
        out = xp.asarray(P, copy=True)
        out[doubtful] = adjusted
        return out

    def _check_n_features(self, X):
        # Before the base model sees X, so that the error names this estimator
        # (not a step of the default pipeline the user never built).
        expected = getattr(self, "n_features_in_", None)
        shape = getattr(X, "shape", None)
        if expected is None or shape is None or len(shape) != 2:
            return
        if shape[1] != expected:
            raise ValueError(
                f"X has {shape[1]} features, but CANCalibrator is expecting "
                f"{expected} features as input."
            )

    def predict(self, X):
        """Most probable class after the adjustment.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``estimator_.predict_proba``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels (a dask array for a dask array ``X``).
        """
        lazy = lazy_blockwise(self, "predict", X)
        if lazy is not None:
            return lazy
        proba = self._predict_proba(X, "predict")
        xp, _, _ = get_namespace_and_device(proba)
        return decode_labels(xp.argmax(proba, axis=1), self.classes_, xp=xp)

    def _blockwise_refusal(self):
        # Read by skprob._dask: transductive adjustment takes its reference from
        # the batch being predicted, so a row's result depends on its block.
        if self.reference == "transductive":
            return (
                f"{type(self).__name__}(reference='transductive') adjusts each "
                "row using the other rows of the batch, so it cannot run blockwise "
                "on a dask array; use reference='fit', or compute X first."
            )
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = get_tags(self._get_estimator())
        # The default base model is built for sparse X at fit.
        tags.input_tags.sparse = (
            self.estimator is None or estimator_tags.input_tags.sparse
        )
        tags.array_api_support = estimator_tags.array_api_support
        return tags
