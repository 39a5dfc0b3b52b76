"""Closed-form (non-maximum-likelihood) logistic and softmax regression."""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._backend import (
    asarray,
    expit,
    get_namespace_and_device,
    is_dask_collection,
    issparse,
    lazy_blockwise,
    log_or_minus_inf,
    softmax,
    to_numpy,
)
from ._closed_form import (
    SHRINKAGE_RULES,
    check_columns_finite,
    check_columns_resolvable,
    check_moments_finite,
    check_moments_resolvable,
    choose_solver,
    class_priors,
    closed_form,
    covariance_bytes,
    log_priors,
    needs_higher_moments,
    resolve_rule,
    row_statistics,
    rows_closed_form,
)
from ._linear import LinearScoresMixin
from ._losses import BlockwiseLogLoss, PenalisedLogLoss, TemperatureOffsetsLoss
from ._moments import (
    chunk_moments,
    grouped_moments,
    merge_all_but_one,
    merge_moments,
    out_of_fold_scores,
    row_folds,
)
from ._newton import damped_newton, shrink_along_ray
from ._validation import canonical_sparse, check_sample_weight, encode_labels

__all__ = ["AnalyticLogisticRegression"]

_TEMPERATURE_FOLDS = 5
# solver="covariance" refuses data whose d x d matrices would need more.
_COVARIANCE_MAX_BYTES = 4 << 30
# temperature="auto": 1 / T is kept in [e^-7, e^7] (T from 1e-3 to 1e3), and
# the intercept offsets get a N(0, 1) prior (in logits): without it, on small
# nearly separable sets the offsets chase a few out-of-fold errors. Newton's
# method stops at a gradient of 1e-9 on the mean log-loss, or where the steps
# no longer lower it by more than rounding, and then a gradient up to 1e-6
# counts as converged (T and the offsets are right to about 1e-6).
_INVERSE_TEMPERATURE_BOUNDS = (math.exp(-7.0), math.exp(7.0))
_OFFSET_PRIOR_SCALE = 1.0
_TEMPERATURE_MAX_ITER = 100
_TEMPERATURE_GTOL = 1e-9
_TEMPERATURE_GTOL_FLOOR = 1e-6
# The offsets are dropped where they cost more out-of-fold accuracy than this.
_OFFSET_ACCURACY_TOLERANCE = 0.01


def _stratified_fold_ids(y_index, n_classes, n_folds, xp):
    """Fold of each row: the rows of each class dealt out to ``n_folds`` in turn.

    For the row solvers (wide or sparse data, never dask blocks), where few
    rows make stratification matter; the covariance solver hashes rows
    (:func:`~skprob._moments.row_folds`).
    """
    n_samples = y_index.shape[0]
    dev = get_namespace_and_device(y_index)[2]
    order = xp.argsort(y_index, stable=True)
    y_sorted = xp.take(y_index, order)
    class_ids = xp.arange(n_classes, dtype=y_sorted.dtype, device=dev)
    starts = xp.searchsorted(y_sorted, class_ids)
    positions = xp.arange(n_samples, dtype=starts.dtype, device=dev)
    fold_sorted = (positions - xp.take(starts, y_sorted)) % n_folds
    # back to the row order of X: the argsort of a permutation inverts it
    return xp.astype(xp.take(fold_sorted, xp.argsort(order)), y_index.dtype)


def _fit_temperature_and_offsets(scores, target, weight, *, stacklevel=2):
    """Temperature and intercept offsets for the out-of-fold ``scores``.

    Minimises the weighted log-loss of ``softmax(a s + d)`` over ``a = 1 / T``
    and the class offsets ``d`` (one offset for two classes), see
    :class:`~skprob._losses.TemperatureOffsetsLoss`. Where the offsets would
    lower the weighted out-of-fold accuracy by more than
    ``_OFFSET_ACCURACY_TOLERANCE``, ``T`` is fitted alone (zero offsets): on
    heavy-tailed scores (sparse text) the log-loss optimum trades a large part
    of the accuracy for calibration, which is not what a user of
    ``temperature="auto"`` asks for. Returns ``T`` and the offsets to add to
    the scores after division by ``T``. ``stacklevel`` is that of the
    ConvergenceWarning, counted from the caller.
    """
    binary = scores.ndim == 1
    if binary:
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    params = _solve_temperature(scores, target, weight, True, stacklevel + 1)
    if _offsets_cost_accuracy(scores, target, weight, params):
        params = _solve_temperature(scores, target, weight, False, stacklevel + 1)
    offsets = np.concatenate([[0.0], params[1:]])
    if binary:
        offsets = offsets[1:]
    return float(1.0 / params[0]), offsets


def _solve_temperature(scores, target, weight, fit_offsets, stacklevel):
    """``[1 / T, d_1, ..., d_{K-1}]`` minimising the out-of-fold log-loss."""
    n_classes = scores.shape[1]
    problem = TemperatureOffsetsLoss(
        scores,
        target,
        weight,
        bounds=_INVERSE_TEMPERATURE_BOUNDS,
        offset_scale=_OFFSET_PRIOR_SCALE,
        offsets=fit_offsets,
    )
    start = problem.evaluate(np.concatenate([[1.0], np.zeros(n_classes - 1)]))
    result = damped_newton(
        problem,
        start,
        max_iter=_TEMPERATURE_MAX_ITER,
        tol=_TEMPERATURE_GTOL,
        stall_tol=_TEMPERATURE_GTOL_FLOOR,
    )
    params = result.point.theta
    if not result.converged:
        warnings.warn(
            "The fit of the temperature and intercept offsets stopped before "
            f"convergence (largest gradient {result.stationarity:.2e}); "
            f"using T={1.0 / params[0]:.4g}.",
            ConvergenceWarning,
            stacklevel=stacklevel + 1,
        )
    return params


def _offsets_cost_accuracy(scores, target, weight, params):
    """Whether the offsets in ``params`` lower the weighted accuracy of the
    (n, K) ``scores`` by more than ``_OFFSET_ACCURACY_TOLERANCE``."""
    calibrated = params[0] * scores
    calibrated[:, 1:] += params[1:]
    right_before = np.argmax(scores, axis=1) == target
    right_after = np.argmax(calibrated, axis=1) == target
    change = weight @ (right_after.astype(float) - right_before) / weight.sum()
    return change < -_OFFSET_ACCURACY_TOLERANCE


def _one_class_error(classes):
    return ValueError(
        "AnalyticLogisticRegression needs samples of at least 2 classes "
        f"in the data, got only one class: {to_numpy(classes)[0]!r}."
    )


def _refine(problem, start, max_iter, tol, *, callback=None):
    """Damped Newton from ``start()``'s theta, after the best shrink along its ray.

    ``start()`` returns the parameters and whether they are warm. The closed
    form of separable data has large coefficients; the first move shrinks
    them along the ray ``s * theta`` (skipped for a warm start, which is
    already a fitted model), then each accepted Newton step lowers the
    penalised objective (Armijo backtracking). Stops when the largest
    gradient entry divided by the total sample weight is at most ``tol``
    (the stopping rule of LogisticRegression's lbfgs, whose objective is the
    mean loss), after ``max_iter`` steps, or when no step along the Newton
    direction lowers the objective.
    """
    # the start is made inside the call, so no frame here holds it once
    # Newton's method moves on: on text a point is several times the data
    return damped_newton(
        problem,
        _start_point(problem, *start()),
        max_iter=max_iter,
        tol=tol,
        callback=callback,
    )


def _start_point(problem, theta, warm):
    """The point at ``theta``, shrunk along its ray unless ``warm``."""
    point = problem.evaluate(theta)
    return point if warm else shrink_along_ray(problem, point)


def _print_iterate(n_iter, point, stationarity):
    print(
        f"Newton iteration {n_iter}: objective {point.loss:.6e}, "
        f"max |gradient| / total weight {stationarity:.3e}"
    )


def _prior_shift(priors, weights):
    """``log(priors / f)``, ``f`` the weighted class frequencies (0 where f = 0).

    The intercept shift that moves a model fitted to the training
    frequencies to the class priors ``priors``; the difference of the two
    entries (one entry) for two classes, like the intercepts.
    """
    xp, _, _ = get_namespace_and_device(weights)
    shift = log_priors(priors) - log_priors(weights / xp.sum(weights))
    shift = xp.where(weights > 0, shift, xp.zeros_like(shift))
    if shift.shape[0] == 2:
        shift = shift[1:2] - shift[0:1]
    return shift


class AnalyticLogisticRegression(LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """Logistic / softmax regression in closed form from class-conditional moments.

    The coefficients are those of the Gaussian class-conditional model with a
    shared covariance: ``W = Sigma^-1 [mu_1 .. mu_K]`` and
    ``b_k = -1/2 mu_k^T Sigma^-1 mu_k + log pi_k``, and the probabilities are the
    softmax (sigmoid for two classes) of ``X W + b``. Nothing is iterated: the fit
    is one pass over the data (per-class means and scatter matrices, adding up to
    one ``d x d`` product) followed by one symmetric eigendecomposition of the
    correlation matrix, so the predictions do not depend on the units of the
    features. Because the fit depends on the data only through per-class
    sufficient statistics, :meth:`partial_fit` over chunks gives the same model
    as :meth:`fit` on all the data. Optional Newton steps (``refine_iter``)
    take it to the optimum of
    :class:`~sklearn.linear_model.LogisticRegression`.

    Read more in the :ref:`User Guide <analytic_logistic_regression>`.

    Parameters
    ----------
    covariance : {"auto", "mean", "pooled"}, default="auto"
        Shared covariance. ``"mean"`` averages the class covariances with equal
        weights, so a large class does not dominate the shape of the decision
        boundary; ``"pooled"`` weights them by class size (the within-class
        covariance of
        :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`).
        ``"auto"`` is ``"mean"`` for data with more rows than features on the
        ``"covariance"`` solver, and ``"pooled"`` otherwise (wide data, and the
        row solvers' data), where the covariances of small classes are too
        noisy to weigh as much as the others'.

        .. versionchanged:: 0.1
           The default changed from ``"mean"`` to ``"auto"``: unchanged for
           tall data.
    shrinkage : "auto", None, float in [0, 1], "ledoit-wolf" or "oas", \
            default="auto"
        Shrinkage ``lam`` of the correlation matrix ``R`` (``Sigma = D R D``,
        ``D`` the standard deviations) towards the identity:
        ``R_lam = (1 - lam) R + lam I``, i.e.
        ``Sigma_lam = (1 - lam) Sigma + lam diag(Sigma)``. ``"ledoit-wolf"``
        and ``"oas"`` estimate ``lam`` from the within-class-centred,
        standardised data (the formulas of
        :func:`sklearn.covariance.ledoit_wolf_shrinkage` and
        :func:`sklearn.covariance.oas`; LinearDiscriminantAnalysis also
        standardises before its Ledoit-Wolf shrinkage). Working on the
        correlation scale makes the model independent of the units of the
        features. ``"auto"`` is no shrinkage where ``covariance="auto"`` is
        ``"mean"`` (tall data on the ``"covariance"`` solver, where the
        covariance is well determined), and ``"ledoit-wolf"`` otherwise
        (``"oas"`` for sparse X on the ``"covariance"`` solver, which does not
        collect fourth moments).
        ``"ledoit-wolf"`` is not available for sparse X with
        ``solver="covariance"``. On the ``"cg"`` solver the intensity is
        estimated without forming ``R`` (``||R||_F^2`` by Hutch++, a
        randomised trace estimator with a fixed seed), so it can differ
        slightly from the other solvers' exact value.

        .. versionchanged:: 0.1
           The default changed from None to ``"auto"``: unchanged for tall
           data, shrunk for wide data.
    priors : array-like of shape (n_classes,), default=None
        Class priors ``pi``. By default the weighted class frequencies ``f``
        (sample and class weights included). Given priors move the log-odds
        of the model by ``log(pi_k / f_k)`` on every path, the standard
        prior-shift correction: the closed form has ``log pi_k`` in its
        intercepts, and the refined model and the ``temperature="auto"``
        model, which are fitted to the training frequencies, get the shift
        added to their intercepts afterwards (times ``T`` for
        ``temperature="auto"``, so that the log-odds of
        :meth:`predict_proba` move by exactly the shift; a fixed temperature
        divides it like every score). They act through the intercepts, so
        with ``fit_intercept=False`` they have no effect and a UserWarning
        says so.

        .. versionchanged:: 0.1
           Honoured with ``refine_iter > 0`` and ``temperature="auto"``,
           which used to fit them away.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``sample_weight`` as in
        :class:`~sklearn.linear_model.LogisticRegression`: a dict maps labels
        to weights (missing labels weigh 1); ``"balanced"`` weighs class
        ``k`` by ``n_samples / (n_classes * n_k)`` with ``n_k`` the total
        sample weight of the class, as
        :func:`~sklearn.utils.class_weight.compute_class_weight` computes it.
        The default priors are then the class-weighted frequencies (uniform
        for ``"balanced"``). :meth:`partial_fit` accepts a dict but not
        ``"balanced"``, which needs the class totals of all the data.
    fit_intercept : bool, default=True
        Whether to use the intercept ``b``. If False the scores are ``X W``.
    tol : float, default=1e-10
        Relative eigenvalue cut-off on the correlation scale: eigenvalues of
        ``R_lam`` below ``tol * max eigenvalue`` are treated as zero and the
        pseudo-inverse is used. A singular covariance (more features than
        samples, duplicated features) therefore gives finite coefficients,
        those of the minimum-norm solution in standardised units, instead of
        an error. Features constant within every class get zero coefficients.
    temperature : float > 0 or "auto", default=1.0
        Probabilities are ``softmax(scores / temperature)``. ``"auto"`` fits the
        temperature together with per-class intercept offsets ``d`` (a N(0, 1)
        prior on them) that minimise the log-loss of ``softmax(s / T + d)`` on
        5-fold out-of-fold scores ``s``: a convex problem in ``(1 / T, d)``
        solved by Newton's method on the scores alone (the fold models come
        from the same moments, so the fit still reads the data only twice).
        The offsets are added to ``intercept_`` (times ``T``) and change some
        predictions: they correct the closed form's intercepts where the
        held-out log-loss says they are off (figures in the User Guide).
        Where they would lower the out-of-fold accuracy by more than 0.01,
        the temperature is fitted alone (zero offsets), so the predictions
        stay those of the closed form.
        Only :meth:`fit` can fit it: :meth:`partial_fit` rejects ``"auto"``.
        A row's fold comes from a hash of its values, not its position, so a
        dask fit, whose row blocks are independent, gets the same folds;
        equal rows share a fold.

        .. versionchanged:: 0.1
           The folds are drawn from a hash of each row instead of being
           dealt out per class by position; they are no longer stratified.

        .. versionchanged:: 0.1
           The offsets are dropped where they cost more than 0.01 of
           out-of-fold accuracy.
    refine_iter : int, default=0
        Most Newton steps from the closed form towards the penalised
        maximum-likelihood fit, the model of
        :class:`~sklearn.linear_model.LogisticRegression` with the same ``C``
        (the same objective, so the same optimum). 0 (default) keeps the closed
        form. Each step reads the data a few times: with up to 400 unknowns
        (``n_classes x (n_features + 1)``, one row for two classes) the exact
        Hessian is solved, above that conjugate gradients on Hessian-vector
        products. Where the last step's contraction, once more, would end the
        refinement well inside ``refine_tol``, the last step reuses the
        previous exact Hessian instead of computing one. On dask input, where
        reading the data is a pass over the workers' blocks, a step whose full
        length is accepted is one pass (gradient and Hessian come with the
        objective), and each Hessian-vector product is a pass; see
        ``n_passes_``. A backtracking line search makes the penalised
        objective decrease at every step. Only
        :meth:`fit` refines; it cannot be combined with ``temperature="auto"``
        (the refined model is already calibrated by the likelihood).

        .. versionchanged:: 0.1
           A finishing step reuses the previous exact Hessian, so the
           refined coefficients can differ from earlier versions' within
           ``refine_tol``.
    refine_tol : float, default=1e-4
        The refinement stops when the largest entry of the gradient of the
        objective divided by the total sample weight is at most ``refine_tol``
        (LogisticRegression's ``tol`` means the same for its lbfgs solver). A
        :class:`~sklearn.exceptions.ConvergenceWarning` says when
        ``refine_iter`` steps were not enough. Used only when
        ``refine_iter > 0`` (UserWarning otherwise, as for ``C``).
    C : float, default=1.0
        Inverse L2 penalty of the refinement: it minimises
        ``sum_i w_i log_loss_i + ||W||^2 / (2 C)``, all coefficient rows
        penalised and intercepts not, as LogisticRegression does. Used only
        when ``refine_iter > 0``: the closed form has no penalty, so with
        ``refine_iter=0`` a ``C`` other than 1.0 has no effect and a
        UserWarning says so (as LogisticRegression warns for ``l1_ratio``
        without the elastic net).
    warm_start : bool, default=False
        Start the refinement from the ``coef_`` and ``intercept_`` of the
        previous fit (less the shift of the priors), as LogisticRegression's
        ``warm_start`` does, instead of from the closed form; a previous fit
        with other shapes (another number of features or classes) is
        ignored. Used only when ``refine_iter > 0`` (UserWarning otherwise).
    verbose : int, default=0
        With a positive value the refinement prints, at every Newton
        iterate, its number, the penalised objective and the largest
        gradient entry over the total weight (the number compared with
        ``refine_tol``).
        when ``refine_iter > 0``.
    solver : {"auto", "covariance", "gram", "cg"}, default="auto"
        How the shrunk correlation is inverted. ``"covariance"`` forms the
        per-class ``d x d`` scatter matrices (one pass over the data; the
        only solver of :meth:`partial_fit` and dask input) and
        eigendecomposes the ``d x d`` correlation. ``"gram"`` gives the same
        model through the ``n x n`` Gram matrix of the within-class-centred
        rows (Woodbury's identity): cheaper when there are fewer rows than
        features. ``"cg"`` forms neither: conjugate gradients on the shrunk
        correlation applied as an operator (two products with X per step,
        O(nnz) for sparse X, the class means subtracted inside the products),
        to a relative residual of 1e-8 per class; it needs a shrinkage > 0.
        ``"auto"`` takes the cheapest direct solver whose matrices fit in
        256 MiB (``"covariance"`` when there are at least as many rows as
        features), else ``"cg"``. Sparse X is never densified.

        .. versionadded:: 0.1

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for binary problems, as in
        :class:`~sklearn.linear_model.LogisticRegression`.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (with ``temperature_ * intercept_offsets_`` included).
    intercept_offsets_ : ndarray of shape (1,) or (n_classes,)
        Offsets added to the closed-form scores divided by the temperature
        with ``temperature="auto"`` (zeros otherwise): the fitted offsets
        plus ``(1 - 1 / T) log(priors / f)`` where priors are given, so that
        the priors move the calibrated log-odds by ``log(priors / f)``.
    means_ : ndarray of shape (n_classes, n_features)
        Weighted class means.
    covariance_ : ndarray of shape (n_features, n_features) or None
        Shared (shrunk) covariance ``Sigma_lam = D R_lam D``; None when the
        ``"gram"`` or ``"cg"`` solver fitted the model (it is never formed).
    shrinkage_ : float
        Shrinkage intensity used.
    priors_ : ndarray of shape (n_classes,)
        Class priors used.
    class_weight_sums_ : ndarray of shape (n_classes,)
        Total sample weight seen per class, ``class_weight`` included (the
        class counts without weights).
    temperature_ : float
        Temperature used by :meth:`predict_proba`.
    n_iter_ : ndarray of shape (1,)
        Newton steps taken by the refinement (0 for the closed form), an
        int32 array as LogisticRegression's.

        .. versionchanged:: 0.1
           An array of shape (1,) instead of an int.
    n_passes_ : int or None
        Passes over the data of a fit on dask input (each one task per row
        block and a tree reduction): one for the closed form, two with
        ``temperature="auto"``, and about ``3 + n_iter_`` with
        ``refine_iter``. None after a fit in memory.
    n_samples_seen_ : int
        Rows seen by :meth:`fit`, or by :meth:`partial_fit` so far.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : Maximum-likelihood fit, iterative.
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : The same Gaussian
        model with the pooled covariance (``covariance="pooled"`` here).

    Notes
    -----
    With ``solver="covariance"`` the fit costs one pass over the data:
    O(n d^2) for the scatter matrices and O(d^3) for the eigendecomposition,
    whatever the number of classes; ``"gram"`` costs O(n^2 d + n^3) and
    ``"cg"`` O(nnz K) per conjugate-gradient step. Sparse input (CSR or CSC)
    is accepted by every method and gives the model of its dense copy. Classes
    declared in ``partial_fit(classes=...)`` but not seen yet get zero
    coefficients and an intercept of ``log(tiny)`` so they are never predicted.

    Unlike LinearDiscriminantAnalysis, the estimator takes no
    ``covariance_estimator``: a scikit-learn covariance object is fitted on the
    rows of X, while this fit works from per-class sufficient statistics
    (weights, means, scatter matrices, and the squared-deviation moments the
    Ledoit-Wolf rule needs), which is what makes :meth:`partial_fit` and the
    dask fit exact. A covariance rule has to be written in terms of those
    statistics; the shrinkage rules above are.

    Values whose squares overflow the floating-point type (about 1e154 in
    float64) raise a ValueError naming the feature, instead of a model built
    from infinities.

    References
    ----------
    .. [1] T. Hastie, R. Tibshirani and J. Friedman, "The Elements of Statistical
       Learning", 2nd ed., section 4.4.5 (logistic regression or LDA?).
    .. [2] T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and a
       pairwise algorithm for computing sample variances", 1979.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skprob import AnalyticLogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = AnalyticLogisticRegression().fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.predict_proba(X[:1]).round(3)
    array([[1., 0., 0.]])
    >>> round(clf.score(X, y), 2)
    0.98
    """

    _parameter_constraints: dict = {
        "covariance": [StrOptions({"auto", "mean", "pooled"})],
        "shrinkage": [
            None,
            Interval(Real, 0, 1, closed="both"),
            StrOptions(set(SHRINKAGE_RULES) | {"auto"}),
        ],
        "priors": ["array-like", None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, 1, closed="left")],
        "temperature": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "refine_iter": [Interval(Integral, 0, None, closed="left")],
        "refine_tol": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "solver": [StrOptions({"auto", "covariance", "gram", "cg"})],
    }

    def __init__(
        self,
        *,
        covariance="auto",
        shrinkage="auto",
        priors=None,
        class_weight=None,
        fit_intercept=True,
        tol=1e-10,
        temperature=1.0,
        refine_iter=0,
        refine_tol=1e-4,
        C=1.0,
        warm_start=False,
        verbose=0,
        solver="auto",
    ):
        self.covariance = covariance
        self.shrinkage = shrinkage
        self.priors = priors
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.temperature = temperature
        self.refine_iter = refine_iter
        self.refine_tol = refine_tol
        self.C = C
        self.warm_start = warm_start
        self.verbose = verbose
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model from the class means and covariances of the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. A dask array or dask DataFrame (with ``y`` and
            ``sample_weight`` dask collections split into the same row blocks)
            is fitted out of core: the workers compute the moments of each
            block, merged by a tree reduction, so X is never gathered. With
            ``temperature="auto"`` or ``refine_iter > 0`` the blocks are
            persisted on the workers and read in several such passes (the
            out-of-fold scores, O(n_samples x n_classes) numbers, come back
            to the client for the temperature); the result equals the
            in-memory fit to rounding.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights (frequency weights), multiplied by
            ``class_weight``. Multiplying all of them by one positive
            constant leaves the closed form unchanged (a total that
            overflows raises a ValueError); the Ledoit-Wolf and OAS
            intensities, the refinement's penalty (as in LogisticRegression)
            and the prior of the ``temperature="auto"`` offsets read them as
            counts, so there the constant acts like more data.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if self.refine_iter > 0 and self.temperature == "auto":
            raise ValueError(
                "temperature='auto' cannot be combined with refine_iter > 0: the "
                "refined model is fitted by likelihood already; use temperature=1.0."
            )
        self._warn_unused_parameters()
        # read before the closed form below replaces them
        previous = None
        if self.warm_start and self.refine_iter > 0:
            previous = getattr(self, "coef_", None), getattr(self, "intercept_", None)
        if is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight, previous)
        X, y, sample_weight, xp = self._check_training_data(
            X, y, sample_weight, reset=True
        )
        # min_classes=1: _set_closed_form words the one-class error as
        # scikit-learn's common checks expect ("only one class")
        classes, y_index = encode_labels(
            y, xp=xp, device=get_namespace_and_device(X)[2], min_classes=1
        )
        n_classes = classes.shape[0]
        if n_classes < 2:
            raise _one_class_error(classes)
        sample_weight = self._weigh_classes(classes, y_index, sample_weight, xp)
        n_samples, n_features = X.shape
        solver = choose_solver(n_samples, n_features, n_classes, self.solver)
        rule = resolve_rule(
            self.shrinkage, self.covariance, n_samples, n_features, solver, issparse(X)
        )
        if solver != "covariance":
            self._fit_rows(X, classes, y_index, sample_weight, solver, rule)
        elif self.temperature == "auto":
            self._check_covariance_size(X, n_classes)
            moments, temperature, offsets = self._moments_and_temperature(
                X, y_index, sample_weight, n_classes, rule
            )
            self._set_closed_form(classes, moments, rule, temperature, offsets)
        else:
            self._check_covariance_size(X, n_classes)
            # overflowing squares are reported by the checks of the moments,
            # which name the columns
            with np.errstate(over="ignore", invalid="ignore"):
                moments = chunk_moments(
                    X,
                    y_index,
                    sample_weight,
                    n_classes,
                    xp,
                    higher=needs_higher_moments(rule.shrinkage),
                )
            self._set_closed_form(classes, moments, rule, float(self.temperature))
        self.n_samples_seen_ = n_samples
        if self.refine_iter > 0:
            self._refine(X, y_index, sample_weight, previous)
        return self

    def _fit_dask(self, X, y, sample_weight, previous=None):
        """Out-of-core fit by tree-reduced passes over the row blocks (see fit)."""
        from ._dask import (
            RowBlocks,
            class_moments,
            fold_class_moments,
            fold_scores,
            log_loss_sums,
            validate_schema,
        )

        self._check_dask_fit()
        validate_schema(self, X)
        if X.ndim == 2:
            # at least two classes: the moments hold K + 2 d x d matrices
            self._check_covariance_size(X, 2)
        # several passes read the blocks from the workers' memory, not from
        # X's source each time
        several = self.temperature == "auto" or self.refine_iter > 0
        rows = RowBlocks(X, y, sample_weight, persist=several)
        # the row count of a dask DataFrame is unknown until computed: such
        # out-of-core data are taken as tall
        n_samples = X.shape[0] if isinstance(X.shape[0], Integral) else math.inf
        rule = resolve_rule(
            self.shrinkage,
            self.covariance,
            n_samples,
            self.n_features_in_,
            "covariance",
            False,
        )
        higher = needs_higher_moments(rule.shrinkage)
        if self.temperature == "auto":
            n_folds = _TEMPERATURE_FOLDS
            classes, fold_moments = fold_class_moments(rows, n_folds, higher=higher)
            xp = get_namespace_and_device(fold_moments[0].means)[0]
            moments, coef, intercept = self._fold_models(fold_moments, xp, rule)
            temperature, offsets = _fit_temperature_and_offsets(
                *fold_scores(rows, classes, coef, intercept, n_folds),
                # past _fit_dask, fit and its _fit_context wrapper
                stacklevel=4,
            )
        else:
            classes, moments = class_moments(rows, higher=higher)
            temperature, offsets = float(self.temperature), None
        self._set_closed_form(classes, moments, rule, temperature, offsets)
        self.n_samples_seen_ = n_samples
        if self.refine_iter > 0:
            n_params = self.n_features_in_ + int(self.fit_intercept)
            problem = BlockwiseLogLoss(
                functools.partial(log_loss_sums, rows, classes, self.fit_intercept),
                classes.shape[0],
                n_params,
                float(to_numpy(moments.weights).sum()),
                C=self.C,
                fit_intercept=self.fit_intercept,
                tol=self.refine_tol,
                gram=self._design_gram(),
            )
            self._run_refinement(
                problem,
                previous,
                # _set_refined, _run_refinement, _fit_dask, fit, _fit_context's
                # wrapper, the caller
                stacklevel=6,
            )
        self.n_passes_ = rows.n_passes
        return self

    def _check_dask_fit(self):
        """ValueError for the settings a fit from dask row blocks cannot take."""
        if self.class_weight is not None:
            raise ValueError(
                "class_weight is not available for dask input; pass the class "
                "weights of each row multiplied into sample_weight instead."
            )
        if self.solver in ("gram", "cg"):
            raise ValueError(
                f"solver={self.solver!r} needs the rows in memory; dask input is "
                "fitted from class moments (solver='covariance' or 'auto')."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one chunk of data (exact: same result as fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of training data.
        y : array-like of shape (n_samples,)
            Target labels of the chunk.
        classes : array-like of shape (n_classes,), default=None
            All the classes. Required on the first call; on later calls it may
            be omitted, and if given must equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights, multiplied by ``class_weight`` (a
            dict).

        Returns
        -------
        self : object
            Updated estimator.
        """
        self._check_partial_fit_settings()
        self._warn_unused_parameters()
        previous = getattr(self, "_moments", None)
        first_call = previous is None
        self._check_partial_fit_classes(first_call, classes)
        X, y, sample_weight, xp = self._check_training_data(
            X, y, sample_weight, reset=first_call
        )
        known = classes if first_call else to_numpy(self.classes_)
        all_classes, y_index = encode_labels(
            y,
            xp=xp,
            device=get_namespace_and_device(X)[2],
            classes=known,
            min_classes=1,
            name="y",
        )
        sample_weight = self._weigh_classes(all_classes, y_index, sample_weight, xp)
        n_samples = X.shape[0] + (0 if first_call else self.n_samples_seen_)
        self._check_covariance_size(X, all_classes.shape[0])
        # "auto" shrinks while the rows seen are no more than the features:
        # the fourth moments are collected exactly then (n only grows)
        rule = resolve_rule(
            self.shrinkage,
            self.covariance,
            n_samples,
            X.shape[1],
            "covariance",
            issparse(X),
        )
        # overflowing squares are reported by the checks of the moments,
        # which name the columns
        with np.errstate(over="ignore", invalid="ignore"):
            chunk = chunk_moments(
                X,
                y_index,
                sample_weight,
                all_classes.shape[0],
                xp,
                higher=needs_higher_moments(rule.shrinkage),
            )
            moments = chunk if first_call else merge_moments(previous, chunk, xp)
        classes = all_classes if first_call else self.classes_
        self._set_closed_form(classes, moments, rule, float(self.temperature))
        self.n_samples_seen_ = n_samples
        return self

    def _check_partial_fit_settings(self):
        """ValueError for settings that need all the data at once."""
        if self.temperature == "auto":
            raise ValueError(
                "temperature='auto' is fitted on the whole training set and is not "
                "available in partial_fit; pass a float temperature or use fit."
            )
        if self.refine_iter > 0:
            raise ValueError(
                "refine_iter > 0 needs all the data at once and is not available in "
                "partial_fit; use refine_iter=0 (the exact closed form) or fit."
            )
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class totals of all the data "
                "and is not available in partial_fit; pass a dict of class "
                "weights, or use fit."
            )

    def _check_partial_fit_classes(self, first_call, classes):
        """ValueError when ``classes`` cannot start or continue the moments."""
        if first_call and hasattr(self, "classes_"):
            raise ValueError(
                "partial_fit cannot continue this fit: it was made from the rows "
                "(solver='gram' or 'cg'), which keeps no class covariances. Fit "
                "with solver='covariance', or start partial_fit on a new estimator."
            )
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit "
                "(all the labels that will ever be seen)."
            )
        if not first_call and classes is not None:
            given = np.unique(to_numpy(classes))
            fitted = to_numpy(self.classes_)
            if given.shape != fitted.shape or not np.array_equal(given, fitted):
                # the moments are indexed by class, so a changed class set
                # would silently mix up the statistics of different labels
                raise ValueError(
                    f"classes={given} is not the same as on the first call to "
                    f"partial_fit, which gave classes_={fitted}."
                )

    def _check_training_data(self, X, y, sample_weight, *, reset):
        xp, _, _ = get_namespace_and_device(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            reset=reset,
        )
        X = canonical_sparse(X)
        xp, _, _ = get_namespace_and_device(X)
        check_classification_targets(y)
        return X, y, check_sample_weight(sample_weight, X), xp

    def _warn_unused_parameters(self):
        """UserWarning for parameters set to values that cannot act."""
        if self.refine_iter == 0:
            unused = [
                f"{name}={value!r}"
                for name, value, default in (
                    ("C", self.C, 1.0),
                    ("refine_tol", self.refine_tol, 1e-4),
                    ("warm_start", self.warm_start, False),
                )
                if value != default
            ]
            if unused:
                warnings.warn(
                    f"{', '.join(unused)} only act on the Newton refinement, which "
                    "is off (refine_iter=0), and have no effect on the closed "
                    "form; set refine_iter > 0 to use them.",
                    UserWarning,
                    # past fit (or partial_fit) and its _fit_context wrapper
                    stacklevel=4,
                )
        if self.priors is not None and not self.fit_intercept:
            warnings.warn(
                "priors act through the intercepts and have no effect with "
                "fit_intercept=False.",
                UserWarning,
                stacklevel=4,
            )

    def _weigh_classes(self, classes, y_index, sample_weight, xp):
        """``sample_weight`` times the ``class_weight`` of each row's class.

        The class weights are those of LogisticRegression
        (:func:`~sklearn.utils.class_weight.compute_class_weight`, with the
        sample weights for ``"balanced"``). Also refuses weights whose total
        overflows, which no rescaling of X could fix.
        """
        if self.class_weight is not None:
            index_host = to_numpy(y_index)
            if isinstance(self.class_weight, str):
                # "balanced": compute_class_weight's formula, written out on the
                # weighted class totals (its label encoding costs more than
                # the closed form of a small problem); a class whose rows all
                # weigh 0 stays at 0
                totals = np.bincount(
                    index_host,
                    weights=to_numpy(sample_weight).astype(np.float64),
                    minlength=classes.shape[0],
                )
                safe = np.where(totals > 0, totals, 1.0)
                factors = np.where(
                    totals > 0, totals.sum() / (classes.shape[0] * safe), 0.0
                )
            else:
                classes_host = to_numpy(classes)
                factors = compute_class_weight(
                    self.class_weight, classes=classes_host, y=classes_host[index_host]
                )
                factors = np.asarray(factors, dtype=np.float64)
                if not np.all(np.isfinite(factors) & (factors >= 0)):
                    raise ValueError(
                        "class_weight must map labels to finite non-negative "
                        f"weights, got {self.class_weight!r}."
                    )
            dev = get_namespace_and_device(sample_weight)[2]
            factors = asarray(factors, xp=xp, device=dev, dtype=sample_weight.dtype)
            sample_weight = sample_weight * xp.take(factors, y_index)
        with np.errstate(over="ignore"):
            total = float(xp.sum(sample_weight))
        if not math.isfinite(total):
            times = "" if self.class_weight is None else " (times class_weight)"
            raise ValueError(
                f"The sample weights{times} sum to more than the largest "
                f"{sample_weight.dtype} number: divide them all by one constant "
                "(the closed form depends only on their ratios)."
            )
        if total <= 0:
            raise ValueError(
                "class_weight gives every sample a zero weight: there is nothing "
                "to fit."
            )
        return sample_weight

    def _set_closed_form(self, classes, moments, rule, temperature, offsets=None):
        """Set every fitted attribute of the closed form from per-class moments.

        ``classes`` are the sorted labels and ``moments`` their
        :class:`~skprob._moments.ClassMoments`, from one pass over the data,
        merged chunks (:meth:`partial_fit`) or a dask reduction.
        ``temperature`` and ``offsets`` are those used by
        :meth:`predict_proba` (the offsets fitted for ``temperature="auto"``).
        """
        if classes.shape[0] < 2:
            raise _one_class_error(classes)
        names = getattr(self, "feature_names_in_", None)
        check_moments_finite(moments, names)
        check_moments_resolvable(moments, names)
        priors = class_priors(self.priors, moments.weights)
        model = self._closed_form(moments, log_priors(priors), rule)
        self._store(classes, model, priors, moments.weights, moments.means)
        self._set_temperature(temperature, offsets)
        self._moments = moments
        return self

    def _check_covariance_size(self, X, n_classes):
        """ValueError, before any work, when the d x d matrices cannot fit."""
        needed = covariance_bytes(X.shape[1], n_classes)
        if needed > _COVARIANCE_MAX_BYTES:
            raise ValueError(
                f"solver='covariance' would hold {n_classes + 2} matrices of "
                f"{X.shape[1]} x {X.shape[1]} ({needed / 2**30:.1f} GiB) for "
                f"{X.shape[1]} features; use solver='auto', 'gram' or 'cg' (fit), "
                "which never form them."
            )

    def _fit_rows(self, X, classes, y_index, sample_weight, solver, rule):
        """The closed form from the rows (``solver`` "gram" or "cg"), on the host."""
        xp, _, dev = get_namespace_and_device(X)
        X_host = X if issparse(X) else to_numpy(X)
        y_host = to_numpy(y_index).astype(np.intp)
        w_host = to_numpy(sample_weight).astype(np.float64)
        n_classes = classes.shape[0]
        # overflowing squares are reported by check_columns_finite
        with np.errstate(over="ignore", invalid="ignore"):
            stats = row_statistics(X_host, y_host, w_host, n_classes)
        names = getattr(self, "feature_names_in_", None)
        check_columns_finite([stats.deviations, stats.means], "squares", X.dtype, names)
        check_columns_resolvable(stats.means, stats.weights, stats.deviations, names)
        priors = class_priors(self.priors, stats.weights)
        if self.temperature == "auto":
            # the fold models of the training frequencies, as on the
            # covariance path: the priors' shift comes after (_set_temperature)
            frequencies = log_priors(class_priors(None, stats.weights))
            # the (K, d) statistics are read again after the fold models
            # rather than kept beside theirs: one pass over X costs less than
            # a fold's solve, and on text each such array is as large as X
            del stats
            temperature, offsets = self._rows_temperature(
                X_host, y_host, w_host, frequencies, solver, rule
            )
            stats = row_statistics(X_host, y_host, w_host, n_classes)
        else:
            temperature, offsets = float(self.temperature), None
        model = self._rows_closed_form(
            X_host, y_host, w_host, stats, log_priors(priors), solver, rule
        )

        def back(array):
            return asarray(array, xp=xp, device=dev, dtype=X.dtype)

        model = model._replace(coef=back(model.coef), intercept=back(model.intercept))
        self._store(
            classes, model, back(priors), back(stats.weights), back(stats.means)
        )
        self._set_temperature(temperature, offsets)

    def _rows_closed_form(self, X, y_index, weights, stats, log_priors, solver, rule):
        return rows_closed_form(
            X,
            y_index,
            weights,
            stats,
            log_priors,
            covariance=rule.covariance,
            shrinkage=rule.shrinkage,
            tol=self.tol,
            fit_intercept=self.fit_intercept,
            solver=solver,
        )

    def _rows_temperature(self, X, y_index, weights, log_priors, solver, rule):
        """Temperature and offsets from out-of-fold scores of fold refits."""
        n_classes = log_priors.shape[0]
        fold_ids = _stratified_fold_ids(y_index, n_classes, _TEMPERATURE_FOLDS, np)
        scores = None
        for fold in range(_TEMPERATURE_FOLDS):
            held = fold_ids == fold
            if solver == "cg":
                # zero weights instead of a copy of four fifths of X: every
                # product of the iterative solve is weighted, and the copy
                # would be the largest array of the fit
                fit_X, fit_y, fit_w = X, y_index, np.where(held, 0.0, weights)
            else:
                fit_X, fit_y, fit_w = X[~held], y_index[~held], weights[~held]
            stats = row_statistics(fit_X, fit_y, fit_w, n_classes)
            model = self._rows_closed_form(
                fit_X, fit_y, fit_w, stats, log_priors, solver, rule
            )
            fold_scores = np.asarray(X[held] @ model.coef.T) + model.intercept
            if scores is None:
                scores = np.empty((X.shape[0], fold_scores.shape[1]))
            scores[held] = fold_scores
            # each (K, d) array of a fold model is as large as X on text: the
            # next fold's must not be built beside them
            del model, stats, fold_scores, fit_X
        if scores.shape[1] == 1:
            scores = scores[:, 0]
        # past _fit_rows, fit and its _fit_context wrapper
        return _fit_temperature_and_offsets(scores, y_index, weights, stacklevel=5)

    def _store(self, classes, model, priors, weights, means):
        """The fitted attributes of the closed form ``model``."""
        self.classes_ = classes
        self.coef_ = model.coef
        self.intercept_ = model.intercept
        self.means_ = means
        self.covariance_ = model.covariance
        self.shrinkage_ = model.shrinkage
        self.priors_ = priors
        self.class_weight_sums_ = weights
        xp, _, dev = get_namespace_and_device(model.intercept)
        self.n_iter_ = asarray([0], xp=xp, device=dev, dtype=xp.int32)
        # set by the dask fit, which counts its passes; a later fit in memory
        # must not report the old count
        self.n_passes_ = None
        self._moments = None

    def _set_temperature(self, temperature, offsets=None):
        """Set ``temperature_`` and ``intercept_offsets_`` (added to ``intercept_``).

        The fitted ``offsets`` calibrate the scores of the training
        frequencies (the fold models use them). The closed form adds the
        priors' shift to the scores, which the temperature divides; adding
        ``(1 - 1 / T)`` times the shift to the offsets makes the calibrated
        log-odds move by the whole shift.
        """
        xp, _, dev = get_namespace_and_device(self.intercept_)
        if offsets is None:
            offsets = xp.zeros_like(self.intercept_)
        else:
            shift = _prior_shift(self.priors_, self.class_weight_sums_)
            offsets = (
                asarray(offsets, xp=xp, device=dev, dtype=self.intercept_.dtype)
                + (1.0 - 1.0 / temperature) * shift
            )
        # softmax(scores / T + offsets) = softmax((scores + T offsets) / T)
        self.intercept_ = self.intercept_ + temperature * offsets
        self.intercept_offsets_ = offsets
        self.temperature_ = temperature

    def _closed_form(self, moments, log_priors, rule):
        return closed_form(
            moments,
            log_priors,
            covariance=rule.covariance,
            shrinkage=rule.shrinkage,
            tol=self.tol,
            fit_intercept=self.fit_intercept,
        )

    def _moments_and_temperature(self, X, y_index, sample_weight, n_classes, rule):
        # The temperature is chosen on out-of-fold scores: on the training rows
        # themselves a separable problem would drive it to zero. Moments are
        # additive, so each fold's model comes from merging the other folds'
        # moments: the whole procedure reads X once for the moments and once
        # for the scores of all fold models. The folds come from the values
        # of the rows, not their positions, so a dask fit gets the same ones.
        xp = get_namespace_and_device(X)[0]
        n_folds = _TEMPERATURE_FOLDS
        folds = xp.astype(row_folds(X, n_folds), y_index.dtype)
        # overflowing squares are reported by the checks in _fold_models,
        # which name the columns
        with np.errstate(over="ignore", invalid="ignore"):
            fold_moments = grouped_moments(
                X,
                folds,
                y_index,
                sample_weight,
                n_folds,
                n_classes,
                xp,
                higher=needs_higher_moments(rule.shrinkage),
            )
        total, coef, intercept = self._fold_models(fold_moments, xp, rule)
        temperature, offsets = _fit_temperature_and_offsets(
            out_of_fold_scores(X, folds, coef, intercept, n_folds),
            to_numpy(y_index).astype(np.intp),
            to_numpy(sample_weight).astype(np.float64),
            # past _moments_and_temperature, fit and its _fit_context wrapper
            stacklevel=4,
        )
        return total, temperature, offsets

    def _fold_models(self, fold_moments, xp, rule):
        """Moments of all the folds, and the stacked coefficients and intercepts
        of the closed forms fitted on all the folds but one (one per fold).

        The fold models use the training frequencies as priors: the offsets
        calibrate that model, and given priors are applied afterwards as a
        shift (see _set_temperature).
        """
        with np.errstate(over="ignore", invalid="ignore"):
            others, total = merge_all_but_one(fold_moments, xp)
        names = getattr(self, "feature_names_in_", None)
        check_moments_finite(total, names)
        check_moments_resolvable(total, names)
        frequencies = log_priors(class_priors(None, total.weights))
        models = [self._closed_form(rest, frequencies, rule) for rest in others]
        coef = xp.concat([model.coef for model in models], axis=0)
        intercept = xp.concat([model.intercept for model in models], axis=0)
        return total, coef, intercept

    def _refine(self, X, y_index, sample_weight, previous=None):
        """Newton steps from the closed form (or ``previous``) to the penalised MLE."""
        problem = PenalisedLogLoss(
            X,
            y_index,
            sample_weight,
            self.classes_.shape[0],
            C=self.C,
            fit_intercept=self.fit_intercept,
            tol=self.refine_tol,
            # the row solvers keep no class moments
            gram=None if self._moments is None else self._design_gram(),
        )
        self._run_refinement(
            problem,
            previous,
            # _set_refined, _run_refinement, _refine, fit, _fit_context's
            # wrapper, the caller
            stacklevel=6,
        )

    def _run_refinement(self, problem, previous, stacklevel):
        """Refine from the closed form, or warm from ``previous``, and store it.

        The maximum-likelihood fit reproduces the training frequencies, so it
        starts from the model of those frequencies (the intercepts less the
        priors' shift) and the shift is added back to the refined intercepts.
        """

        def start():
            theta_and_warm = self._refine_start(previous)
            # the closed form's coefficients, replaced by the refined ones, are
            # not kept beside Newton's vectors: on text each is as large as
            # the data
            del self.coef_
            return theta_and_warm

        try:
            result = _refine(
                problem,
                start,
                self.refine_iter,
                self.refine_tol,
                callback=_print_iterate if self.verbose else None,
            )
        except BaseException:
            # an interrupted refinement has no coef_ left: the estimator must
            # read as unfitted, not as half a model
            for name in [v for v in vars(self) if v.endswith("_")]:
                delattr(self, name)
            raise
        self._set_refined(problem, result, stacklevel)

    def _design_gram(self):
        """``design^T W design`` (host float64) from the class moments.

        ``sum_i w_i x_i x_i^T = sum_k (S_k + w_k mu_k mu_k^T)``: the Gram matrix
        of truncated Newton's preconditioner without another product over X.
        """
        weights, means, scatters = (
            to_numpy(array).astype(np.float64)
            for array in (
                self._moments.weights,
                self._moments.means,
                self._moments.scatters,
            )
        )
        gram = scatters.sum(axis=0) + (weights[:, None] * means).T @ means
        if not self.fit_intercept:
            return gram
        column = weights @ means
        return np.block(
            [[gram, column[:, None]], [column[None, :], np.array([[weights.sum()]])]]
        )

    def _prior_shift_host(self):
        shift = to_numpy(_prior_shift(self.priors_, self.class_weight_sums_))
        return shift.astype(np.float64)

    def _refine_start(self, previous=None):
        """Newton's start: coefficients, then intercepts less the priors' shift.

        The closed form, or the ``(coef_, intercept_)`` of ``previous`` (a warm
        start) when their shapes match. Returns the start and whether it is
        warm.
        """
        coef, intercept = self.coef_, self.intercept_
        warm = (
            previous is not None
            and previous[0] is not None
            and tuple(previous[0].shape) == tuple(coef.shape)
        )
        if warm:
            coef, intercept = previous
        start = to_numpy(coef).astype(np.float64)
        if self.fit_intercept:
            intercept = (
                to_numpy(intercept).astype(np.float64) - self._prior_shift_host()
            )
            start = np.concatenate([start, intercept[:, None]], axis=1)
        return start, warm

    def _set_refined(self, problem, result, stacklevel):
        """``coef_``, ``intercept_`` and ``n_iter_`` from the refinement's result.

        ``stacklevel`` makes the warning point at the user's call of fit.
        """
        theta, steps = result.point.theta, result.n_iter
        if self.verbose:
            state = "converged" if result.converged else "stopped unconverged"
            print(f"Newton refinement {state} after {steps} steps.")
        if not result.converged:
            warnings.warn(
                f"The Newton refinement stopped after {steps} steps "
                f"(refine_iter={self.refine_iter}) with a gradient of "
                f"{result.stationarity:.2e} > refine_tol={self.refine_tol}; increase "
                "refine_iter, or refine_tol for a coarser solution.",
                ConvergenceWarning,
                stacklevel=stacklevel,
            )
        if self.fit_intercept:
            theta[:, -1] += self._prior_shift_host()
        if problem.null_intercept:
            # LogisticRegression's intercepts sum to zero; so do these
            theta[:, -1] -= np.mean(theta[:, -1])
        # the closed form's coef_ is gone (see _run_refinement): its namespace
        # and dtype are the intercepts'
        xp, _, dev = get_namespace_and_device(self.intercept_)
        dtype = self.intercept_.dtype
        n_features = theta.shape[1] - int(self.fit_intercept)
        self.coef_ = asarray(theta[:, :n_features], xp=xp, device=dev, dtype=dtype)
        if self.fit_intercept:
            self.intercept_ = asarray(theta[:, -1], xp=xp, device=dev, dtype=dtype)
        self.n_iter_ = asarray([steps], xp=xp, device=dev, dtype=xp.int32)

    def predict_proba(self, X):
        """Class probabilities, ``softmax(scores / temperature_)``.

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
        scores = self._scores(X, method) / self.temperature_
        xp, _, _ = get_namespace_and_device(scores)
        if scores.ndim == 1:
            # expit(-s) rather than 1 - expit(s): keeps the small probability
            # accurate (and consistent with predict_log_proba) when s is large.
            return xp.stack([expit(-scores, xp=xp), expit(scores, xp=xp)], axis=1)
        return softmax(scores, axis=1, xp=xp)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba` (``-inf`` where a probability is zero).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_`` (a lazy dask array
            for a dask array ``X``).
        """
        lazy = lazy_blockwise(self, "predict_log_proba", X)
        if lazy is not None:
            return lazy
        proba = self._predict_proba(X, "predict_log_proba")
        xp, _, _ = get_namespace_and_device(proba)
        return log_or_minus_inf(proba, xp=xp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.input_tags.sparse = True
        return tags
