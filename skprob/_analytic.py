"""Closed-form (non-maximum-likelihood) logistic and softmax regression."""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import math
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._backend import (
    add_to_diagonal,
    asarray,
    expit,
    get_namespace_and_device,
    is_dask_collection,
    is_numpy_namespace,
    logsumexp,
    softmax,
    to_numpy,
)
from ._linear import LinearScoresMixin
from ._validation import check_prior, check_sample_weight

__all__ = ["AnalyticLogisticRegression"]


_CACHE_BLOCK_BYTES = 1 << 23


def _chunk_moments(X, y_index, sample_weight, n_classes, xp, *, higher_moments=True):
    """Per-class weighted moments of one chunk of data (see :func:`_block_moments`).

    On NumPy, large chunks are processed in row blocks of a few MiB that are
    merged exactly: the gather, mean and centring of a block then run in
    cache, so X is read from memory about once besides the GEMM (measured
    0.158 s -> 0.125 s on 200 000 x 100, against 0.075 s for ``X.T @ X``).
    Other namespaces (GPUs) get one large block.
    """
    n_samples, n_features = X.shape
    if not is_numpy_namespace(xp):
        return _block_moments(
            X, y_index, sample_weight, n_classes, xp, higher_moments=higher_moments
        )
    block_rows = max(1024, _CACHE_BLOCK_BYTES // (X.dtype.itemsize * n_features))
    if n_samples <= 2 * block_rows:
        return _block_moments(
            X, y_index, sample_weight, n_classes, xp, higher_moments=higher_moments
        )
    blocks = (
        _block_moments(
            X[start : start + block_rows],
            y_index[start : start + block_rows],
            sample_weight[start : start + block_rows],
            n_classes,
            xp,
            higher_moments=higher_moments,
        )
        for start in range(0, n_samples, block_rows)
    )
    return functools.reduce(lambda a, b: _merge_moments(a, b, xp), blocks)


def _block_moments(X, y_index, sample_weight, n_classes, xp, *, higher_moments=True):
    """Per-class weighted moments of one block of data, centred on the class means.

    Returns weight sums ``(K,)``, means ``(K, d)``, scatter matrices
    ``sum w (x - m)(x - m)^T`` ``(K, d, d)``, third moments
    ``sum w |x - m|^2 (x - m)`` ``(K, d)`` and fourth moments
    ``sum w |x - m|^4`` ``(K,)``. The fourth moment feeds the Ledoit-Wolf
    shrinkage and the third is needed to merge fourth moments across chunks;
    with ``higher_moments=False`` both are None and cost nothing.
    """
    n_features = X.shape[1]
    dtype, dev = X.dtype, get_namespace_and_device(X)[2]
    order = xp.argsort(y_index, stable=True)
    # One gather puts each class in a contiguous block; the per-class work below
    # is then a Python loop over classes (not samples) whose GEMMs add up to a
    # single n x d x d product. The gathered copy is ours, so NumPy centres it
    # in place: the fit then reads X about three times (gather, mean, centre)
    # besides the GEMM itself.
    X_sorted = xp.take(X, order, axis=0)
    w_sorted = xp.take(sample_weight, order, axis=0)
    y_sorted = xp.take(y_index, order, axis=0)
    class_ids = xp.arange(n_classes + 1, dtype=y_sorted.dtype, device=dev)
    bounds = to_numpy(xp.searchsorted(y_sorted, class_ids))
    in_place = is_numpy_namespace(xp)
    uniform = X.shape[0] > 0 and float(xp.min(sample_weight)) == float(
        xp.max(sample_weight)
    )

    weights = np.zeros(n_classes)
    means, scatters, thirds, fourths = [], [], [], []
    zeros_d = xp.zeros((n_features,), dtype=dtype, device=dev)
    zeros_dd = xp.zeros((n_features, n_features), dtype=dtype, device=dev)
    zero = xp.zeros((), dtype=dtype, device=dev)
    for k in range(n_classes):
        start, stop = int(bounds[k]), int(bounds[k + 1])
        w = w_sorted[start:stop]
        total = float(xp.sum(w)) if stop > start else 0.0
        if total <= 0:
            means.append(zeros_d)
            scatters.append(zeros_dd)
            thirds.append(zeros_d)
            fourths.append(zero)
            continue
        block = X_sorted[start:stop, :]
        if uniform:
            mean = xp.mean(block, axis=0)
        else:
            mean = (w @ block) / total
        if in_place:
            block -= mean
            centred = block
        else:
            centred = block - mean
        if uniform:
            # A.T @ A on one buffer lets NumPy use the symmetric rank-k update
            scatter = (total / (stop - start)) * (centred.T @ centred)
        else:
            weighted = centred * xp.sqrt(w)[:, None]
            scatter = weighted.T @ weighted
        weights[k] = total
        means.append(mean)
        scatters.append(scatter)
        if higher_moments:
            radius2 = xp.sum(centred * centred, axis=1)
            thirds.append((w * radius2) @ centred)
            fourths.append(xp.sum(w * radius2 * radius2))
    return (
        asarray(weights, xp=xp, device=dev, dtype=dtype),
        xp.stack(means),
        xp.stack(scatters),
        xp.stack(thirds) if higher_moments else None,
        xp.stack(fourths) if higher_moments else None,
    )


def _shift_moments(weight, mean, scatter, third, fourth, new_mean, xp):
    """Re-centre per-class moments from ``mean`` to ``new_mean`` (exact identities)."""
    delta = mean - new_mean  # (K, d)
    norm2 = xp.sum(delta * delta, axis=1)  # (K,)
    shifted_scatter = scatter + weight[:, None, None] * (
        delta[:, :, None] * delta[:, None, :]
    )
    if third is None or fourth is None:
        return shifted_scatter, None, None
    scatter_delta = xp.squeeze(scatter @ delta[:, :, None], axis=2)  # (K, d)
    trace = xp.sum(xp.linalg.diagonal(scatter), axis=1)  # (K,)
    fourth = (
        fourth
        + 4.0 * xp.sum(delta * scatter_delta, axis=1)
        + weight * norm2 * norm2
        + 4.0 * xp.sum(delta * third, axis=1)
        + 2.0 * trace * norm2
    )
    third = (
        third
        + trace[:, None] * delta
        + 2.0 * scatter_delta
        + (weight * norm2)[:, None] * delta
    )
    return shifted_scatter, third, fourth


def _merge_moments(old, new, xp):
    """Combine the moments of two disjoint chunks (Chan et al.'s parallel update)."""
    w_a, mean_a = old[0], old[1]
    w_b, mean_b = new[0], new[1]
    weight = w_a + w_b
    safe = xp.where(weight > 0, weight, xp.ones_like(weight))
    mean = mean_a + (w_b / safe)[:, None] * (mean_b - mean_a)
    shifted_a = _shift_moments(*old, mean, xp)
    shifted_b = _shift_moments(*new, mean, xp)
    return (weight, mean) + tuple(
        None if a is None or b is None else a + b for a, b in zip(shifted_a, shifted_b)
    )


def _ledoit_wolf_shrinkage(scatter, fourth, n_samples):
    """Ledoit-Wolf intensity from the pooled scatter and sum of |x|^4 (host floats).

    Same formula as ``sklearn.covariance.ledoit_wolf_shrinkage`` applied to the
    within-class-centred data, written in terms of sufficient statistics so that
    ``partial_fit`` gives the same value as ``fit``.
    """
    n_features = scatter.shape[0]
    emp_cov = scatter / n_samples
    trace = np.trace(emp_cov)
    mu = trace / n_features
    delta_ = np.sum(emp_cov**2)
    beta = (fourth / n_samples - delta_) / (n_features * n_samples)
    delta = (delta_ - 2.0 * mu * trace + n_features * mu**2) / n_features
    beta = min(beta, delta)
    return 0.0 if beta <= 0 else float(beta / delta)


def _oas_shrinkage(scatter, n_samples):
    """Oracle Approximating Shrinkage intensity, as in ``sklearn.covariance.oas``."""
    n_features = scatter.shape[0]
    emp_cov = scatter / n_samples
    mu = np.trace(emp_cov) / n_features
    alpha = np.mean(emp_cov**2)
    num = alpha + mu**2
    den = (n_samples + 1.0) * (alpha - mu**2 / n_features)
    return 1.0 if den == 0 else float(min(num / den, 1.0))


_TEMPERATURE_FOLDS = 5


def _stratified_folds(y_index, n_classes, n_folds, xp):
    """Row indices of ``n_folds`` folds, each class spread evenly over the folds."""
    n_samples = y_index.shape[0]
    dev = get_namespace_and_device(y_index)[2]
    order = xp.argsort(y_index, stable=True)
    y_sorted = xp.take(y_index, order)
    class_ids = xp.arange(n_classes, dtype=y_sorted.dtype, device=dev)
    starts = xp.searchsorted(y_sorted, class_ids)
    positions = xp.arange(n_samples, dtype=starts.dtype, device=dev)
    rank_sorted = positions - xp.take(starts, y_sorted)
    fold_sorted = rank_sorted % n_folds
    return [
        xp.sort(order[xp.nonzero(fold_sorted == f)[0]])
        for f in range(n_folds)
        if bool(xp.any(fold_sorted == f))
    ]


def _softmax_hessian(design, proba, sample_weight, binary, xp):
    """Hessian of the weighted log-loss in the coefficients (host float64).

    For the softmax, ``H[(k, a), (l, b)] = sum_i w_i (delta_kl p_ik - p_ik p_il)
    x_ia x_ib``: K products ``X^T diag(w p_k) X`` on the diagonal blocks minus
    one ``B^T B`` with ``B[i, (k, a)] = sqrt(w_i) p_ik x_ia``, so the whole
    matrix costs two GEMMs rather than K^2.
    """
    n_samples, n_params = design.shape
    if binary:
        curvature = sample_weight * proba[:, 0] * (1.0 - proba[:, 0])
        return to_numpy(design.T @ (curvature[:, None] * design)).astype(np.float64)
    n_classes = proba.shape[1]
    spread = xp.reshape(
        (xp.sqrt(sample_weight)[:, None] * proba)[:, :, None] * design[:, None, :],
        (n_samples, n_classes * n_params),
    )
    hessian = -to_numpy(spread.T @ spread).astype(np.float64)
    weighted = sample_weight[:, None] * proba
    for k in range(n_classes):
        block = design.T @ (weighted[:, k][:, None] * design)
        rows = slice(k * n_params, (k + 1) * n_params)
        hessian[rows, rows] += to_numpy(block)
    return hessian


def _fit_temperature(scores, target, weight):
    """Temperature minimising the weighted log-loss of ``softmax(scores / T)``."""
    if scores.ndim == 1:
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    weight = weight / weight.sum()
    rows = np.arange(scores.shape[0])

    def log_loss(log_t):
        z = scores / math.exp(log_t)
        return float(weight @ (logsumexp(z, axis=1, xp=np) - z[rows, target]))

    result = minimize_scalar(log_loss, bounds=(-7.0, 7.0), method="bounded")
    return math.exp(result.x)


class AnalyticLogisticRegression(LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """Logistic / softmax regression in closed form from class-conditional moments.

    The coefficients are those of the Gaussian class-conditional model with a
    shared covariance: ``W = Sigma^-1 [mu_1 .. mu_K]`` and
    ``b_k = -1/2 mu_k^T Sigma^-1 mu_k + log pi_k``, and the probabilities are the
    softmax (sigmoid for two classes) of ``X W + b``. Nothing is iterated: the fit
    is one pass over the data (per-class means and scatter matrices, adding up to
    one ``d x d`` product) followed by one symmetric eigendecomposition. Because
    the fit depends on the data only through per-class sufficient statistics,
    :meth:`partial_fit` over chunks gives the same model as :meth:`fit` on all
    the data.

    Parameters
    ----------
    covariance : {"mean", "pooled"}, default="mean"
        Shared covariance. ``"mean"`` averages the class covariances with equal
        weights, so a large class does not dominate the shape of the decision
        boundary; ``"pooled"`` weights them by class size (the within-class
        covariance of
        :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`).
    shrinkage : None, float in [0, 1], "ledoit-wolf" or "oas", default=None
        Shrinkage ``lam`` towards a scaled identity:
        ``Sigma_lam = (1 - lam) Sigma + lam tr(Sigma) / d I``. ``"ledoit-wolf"``
        and ``"oas"`` estimate ``lam`` from the within-class-centred data (the
        same formulas as :func:`sklearn.covariance.ledoit_wolf` and
        :func:`sklearn.covariance.oas`); they do not standardise the features
        first, so put a :class:`~sklearn.preprocessing.StandardScaler` in front
        when the features have different units.
    priors : array-like of shape (n_classes,), default=None
        Class priors. By default the (weighted) class frequencies.
    fit_intercept : bool, default=True
        Whether to use the intercept ``b``. If False the scores are ``X W``.
    tol : float, default=1e-10
        Relative eigenvalue cut-off: eigenvalues of ``Sigma_lam`` below
        ``tol * max eigenvalue`` are treated as zero and the pseudo-inverse is
        used. A singular covariance (more features than samples, duplicated or
        constant features) therefore gives finite coefficients, those of the
        minimum-norm solution, instead of an error.
    temperature : float > 0 or "auto", default=1.0
        Probabilities are ``softmax(scores / temperature)``. ``"auto"`` fits the
        temperature that minimises the log-loss of 5-fold out-of-fold scores
        (a 1-D bounded search; the fold models come from the same moments, so
        the fit still reads the data only twice). The closed form is not the
        likelihood maximiser, so this often improves the log-loss.
        Predictions are unaffected. Only :meth:`fit` can fit it:
        :meth:`partial_fit` rejects ``"auto"``.
    refine_iter : int, default=0
        Number of Newton steps (with a backtracking line search) from the
        closed form towards the maximum-likelihood fit with an L2 penalty, the
        model of :class:`~sklearn.linear_model.LogisticRegression` with the same
        ``C``. Off by default: each step reads the data again and costs
        ``O(n (K d)^2)``. Only :meth:`fit` refines; it cannot be combined with
        ``temperature="auto"`` (the refined model is already calibrated by
        the likelihood).
    C : float, default=1.0
        Inverse L2 penalty of the refinement: it minimises
        ``sum_i w_i log_loss_i + ||W||^2 / (2 C)`` (intercept not penalised).
        Used only when ``refine_iter > 0``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for binary problems, as in
        :class:`~sklearn.linear_model.LogisticRegression`.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    means_ : ndarray of shape (n_classes, n_features)
        Weighted class means.
    covariance_ : ndarray of shape (n_features, n_features)
        Shared (shrunk) covariance ``Sigma_lam``.
    shrinkage_ : float
        Shrinkage intensity used.
    priors_ : ndarray of shape (n_classes,)
        Class priors used.
    class_weight_sums_ : ndarray of shape (n_classes,)
        Total sample weight seen per class (the class counts without weights).
    temperature_ : float
        Temperature used by :meth:`predict_proba`.
    n_iter_ : int
        Newton steps taken (0 for the closed form).
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
    The fit costs one pass over the data: O(n d^2) for the scatter matrices and
    O(d^3) for the eigendecomposition, whatever the number of classes. Classes
    declared in ``partial_fit(classes=...)`` but not seen yet get zero
    coefficients and an intercept of ``log(tiny)`` so they are never predicted.

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
        "covariance": [StrOptions({"mean", "pooled"})],
        "shrinkage": [
            None,
            Interval(Real, 0, 1, closed="both"),
            StrOptions({"ledoit-wolf", "oas"}),
        ],
        "priors": ["array-like", None],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, 1, closed="left")],
        "temperature": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "refine_iter": [Interval(Integral, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        covariance="mean",
        shrinkage=None,
        priors=None,
        fit_intercept=True,
        tol=1e-10,
        temperature=1.0,
        refine_iter=0,
        C=1.0,
    ):
        self.covariance = covariance
        self.shrinkage = shrinkage
        self.priors = priors
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.temperature = temperature
        self.refine_iter = refine_iter
        self.C = C

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model from the class means and covariances of the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. A dask array or dask DataFrame (with ``y`` and
            ``sample_weight`` dask collections split into the same row blocks)
            is fitted out of core: the workers compute the moments of each
            block, merged by a tree reduction, so X is never gathered.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights (frequency weights).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        for attribute in ("classes_", "_moments"):
            if hasattr(self, attribute):
                delattr(self, attribute)
        if self.refine_iter > 0 and self.temperature == "auto":
            raise ValueError(
                "temperature='auto' cannot be combined with refine_iter > 0: the "
                "refined model is fitted by likelihood already; use temperature=1.0."
            )
        if is_dask_collection(X):
            from ._dask import fit_analytic

            return fit_analytic(self, X, y, sample_weight)
        X, y_index, sample_weight, xp = self._validate_chunk(X, y, sample_weight, None)
        n_classes = self.classes_.shape[0]
        if self.temperature == "auto":
            self._fit_with_temperature(X, y_index, sample_weight, xp)
        else:
            self._moments = _chunk_moments(
                X,
                y_index,
                sample_weight,
                n_classes,
                xp,
                higher_moments=self._needs_higher_moments(),
            )
            self._solve(xp)
        if self.refine_iter > 0:
            self._refine(X, y_index, sample_weight, xp)
        return self

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
            Non-negative sample weights.

        Returns
        -------
        self : object
            Updated estimator.
        """
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
        first_call = not hasattr(self, "_moments")
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit "
                "(all the labels that will ever be seen)."
            )
        if not first_call and classes is not None:
            if hasattr(classes, "__array_namespace__"):
                classes = to_numpy(classes)
            given = np.unique(np.asarray(classes))
            fitted = to_numpy(self.classes_)
            if given.shape != fitted.shape or not np.array_equal(given, fitted):
                # the moments are indexed by class, so a changed class set
                # would silently mix up the statistics of different labels
                raise ValueError(
                    f"classes={given} is not the same as on the first call to "
                    f"partial_fit, which gave classes_={fitted}."
                )
        X, y_index, sample_weight, xp = self._validate_chunk(
            X, y, sample_weight, classes if first_call else None
        )
        chunk = _chunk_moments(
            X,
            y_index,
            sample_weight,
            self.classes_.shape[0],
            xp,
            higher_moments=self._needs_higher_moments(),
        )
        self._moments = (
            chunk if first_call else _merge_moments(self._moments, chunk, xp)
        )
        self._solve(xp)
        return self

    def _needs_higher_moments(self):
        return self.shrinkage == "ledoit-wolf"

    def _validate_chunk(self, X, y, sample_weight, classes):
        first_call = not hasattr(self, "classes_")
        xp, _, _ = get_namespace_and_device(X)
        X, y = validate_data(
            self, X, y, dtype=[xp.float64, xp.float32], reset=first_call
        )
        xp, _, dev = get_namespace_and_device(X)
        check_classification_targets(y)
        if first_call and classes is None:
            # the labels define the classes: one sort gives both, and no label
            # can be unknown
            self.classes_, y_index = xp.unique_inverse(y)
            if self.classes_.shape[0] < 2:
                raise ValueError(
                    "AnalyticLogisticRegression needs samples of at least 2 classes "
                    f"in the data, got only one class: {self.classes_[0]!r}."
                )
            sample_weight = check_sample_weight(sample_weight, X)
            return X, y_index, sample_weight, xp
        if first_call:
            labels = classes
            if not hasattr(labels, "__array_namespace__"):
                labels = np.asarray(labels)
                if not isinstance(y, np.ndarray):
                    labels = asarray(labels, xp=xp, device=dev)
            self.classes_ = xp.unique_values(labels)
        y_index = xp.searchsorted(self.classes_, y)
        y_index = xp.clip(y_index, 0, self.classes_.shape[0] - 1)
        unknown = xp.take(self.classes_, y_index) != y
        if bool(xp.any(unknown)):
            bad = to_numpy(y[unknown]) if hasattr(y, "__array_namespace__") else y
            raise ValueError(
                f"y contains labels not in classes_ {to_numpy(self.classes_)}: "
                f"{np.unique(np.asarray(bad))[:5]}."
            )
        sample_weight = check_sample_weight(sample_weight, X)
        return X, y_index, sample_weight, xp

    def _solve(self, xp):
        for name, value in self._closed_form(self._moments, xp).items():
            setattr(self, name, value)
        if self.temperature != "auto":
            self.temperature_ = float(self.temperature)

    def _closed_form(self, moments, xp):
        weights, means, scatters, _, fourths = moments
        dtype = means.dtype
        dev = get_namespace_and_device(means)[2]
        n_classes, n_features = means.shape
        total = float(xp.sum(weights))
        seen = weights > 0
        if self.covariance == "pooled":
            sigma = xp.sum(scatters, axis=0) / total
        else:
            safe = xp.where(seen, weights, xp.ones_like(weights))
            per_class = scatters / safe[:, None, None]
            sigma = xp.sum(per_class, axis=0) / float(xp.sum(xp.astype(seen, dtype)))

        if self.shrinkage is None:
            shrinkage = 0.0
        elif self.shrinkage == "ledoit-wolf":
            if fourths is None:
                raise ValueError(
                    "shrinkage='ledoit-wolf' needs fourth moments that earlier "
                    "partial_fit calls with another shrinkage did not collect; "
                    "refit with fit or restart partial_fit."
                )
            pooled = to_numpy(xp.sum(scatters, axis=0)).astype(np.float64)
            fourth = float(xp.sum(fourths))
            shrinkage = _ledoit_wolf_shrinkage(pooled, fourth, total)
        elif self.shrinkage == "oas":
            pooled = to_numpy(xp.sum(scatters, axis=0)).astype(np.float64)
            shrinkage = _oas_shrinkage(pooled, total)
        else:
            shrinkage = float(self.shrinkage)
        if shrinkage > 0:
            trace = float(xp.sum(xp.linalg.diagonal(sigma)))
            sigma = add_to_diagonal(
                (1.0 - shrinkage) * sigma, shrinkage * trace / n_features, xp=xp
            )

        eigenvalues, eigenvectors = xp.linalg.eigh(sigma)
        cutoff = self.tol * float(xp.max(eigenvalues))
        keep = eigenvalues > cutoff
        inverse = xp.where(
            keep, 1.0 / xp.where(keep, eigenvalues, xp.ones_like(eigenvalues)), 0.0
        )
        # Sigma^+ mu_k for every class, through the eigenbasis: (K, d)
        projected = means @ eigenvectors
        coef = (projected * inverse) @ eigenvectors.T

        if self.priors is None:
            priors = weights / total
        else:
            priors = asarray(
                check_prior(self.priors, n_classes, name="priors"),
                xp=xp,
                device=dev,
                dtype=dtype,
            )
        tiny = xp.finfo(dtype).smallest_normal
        log_priors = xp.log(xp.where(priors > 0, priors, xp.full_like(priors, tiny)))
        if self.fit_intercept:
            intercept = -0.5 * xp.sum(coef * means, axis=1) + log_priors
        else:
            intercept = xp.zeros((n_classes,), dtype=dtype, device=dev)
        # classes declared but not seen yet: never predicted, scores stay finite
        coef = xp.where(seen[:, None], coef, xp.zeros_like(coef))
        intercept = xp.where(seen, intercept, xp.full_like(intercept, math.log(tiny)))

        if n_classes == 2:
            coef = coef[1:2, :] - coef[0:1, :]
            intercept = intercept[1:2] - intercept[0:1]
        return {
            "coef_": coef,
            "intercept_": intercept,
            "means_": means,
            "covariance_": sigma,
            "shrinkage_": shrinkage,
            "priors_": priors,
            "class_weight_sums_": weights,
            "n_iter_": 0,
        }

    def _fit_with_temperature(self, X, y_index, sample_weight, xp):
        # The temperature is chosen on out-of-fold scores: on the training rows
        # themselves a separable problem would drive it to zero. Moments are
        # additive, so each fold's model comes from merging the other folds'
        # moments: the whole procedure still reads X once for the moments and
        # once for the scores.
        n_classes = self.classes_.shape[0]
        folds = _stratified_folds(y_index, n_classes, _TEMPERATURE_FOLDS, xp)
        fold_moments = [
            _chunk_moments(
                xp.take(X, rows, axis=0),
                xp.take(y_index, rows, axis=0),
                xp.take(sample_weight, rows, axis=0),
                n_classes,
                xp,
                higher_moments=self._needs_higher_moments(),
            )
            for rows in folds
        ]
        scores, targets, weights = [], [], []
        for held_out, rows in enumerate(folds):
            others = [m for i, m in enumerate(fold_moments) if i != held_out]
            model = self._closed_form(
                functools.reduce(lambda a, b: _merge_moments(a, b, xp), others), xp
            )
            fold_scores = (
                xp.take(X, rows, axis=0) @ model["coef_"].T + model["intercept_"]
            )
            fold_scores = to_numpy(fold_scores).astype(np.float64)
            if fold_scores.shape[1] == 1:
                fold_scores = fold_scores[:, 0]
            scores.append(fold_scores)
            targets.append(to_numpy(xp.take(y_index, rows, axis=0)).astype(np.intp))
            weights.append(to_numpy(xp.take(sample_weight, rows, axis=0)))
        self._moments = functools.reduce(
            lambda a, b: _merge_moments(a, b, xp), fold_moments
        )
        self._solve(xp)
        self.temperature_ = _fit_temperature(
            np.concatenate(scores), np.concatenate(targets), np.concatenate(weights)
        )

    def _refine(self, X, y_index, sample_weight, xp):
        # Newton's method on the penalised log-loss, started from the closed
        # form. The gradient and Hessian are built in the array namespace; the
        # (K p) x (K p) system is solved on the host.
        dtype, dev = X.dtype, get_namespace_and_device(X)[2]
        n_samples = X.shape[0]
        n_classes = self.classes_.shape[0]
        binary = self.coef_.shape[0] == 1
        columns = [X]
        if self.fit_intercept:
            columns.append(xp.ones((n_samples, 1), dtype=dtype, device=dev))
        design = xp.concat(columns, axis=1)
        n_params = design.shape[1]
        penalised = np.ones(n_params)
        if self.fit_intercept:
            penalised[-1] = 0.0
        theta = np.concatenate(
            [to_numpy(self.coef_), to_numpy(self.intercept_)[:, None]], axis=1
        )[:, :n_params].astype(np.float64)
        class_ids = xp.arange(n_classes, dtype=y_index.dtype, device=dev)
        onehot = xp.astype(y_index[:, None] == class_ids[None, :], dtype)
        if binary:
            onehot = onehot[:, 1:]
        weight = sample_weight[:, None]

        def probabilities_and_loss(theta_np):
            theta_xp = asarray(theta_np, xp=xp, device=dev, dtype=dtype)
            scores = design @ theta_xp.T
            if binary:
                proba = expit(scores, xp=xp)
                # log(1 + e^s) - y s, written without overflow
                losses = xp.logaddexp(xp.zeros_like(scores), scores) - onehot * scores
            else:
                log_norm = logsumexp(scores, axis=1, xp=xp, keepdims=True)
                proba = xp.exp(scores - log_norm)
                losses = onehot * (log_norm - scores)
            loss = float(xp.sum(weight * losses))
            loss += 0.5 / self.C * float(np.sum(penalised * theta_np**2))
            return proba, loss

        # The closed form is often over-confident on separable data, where the
        # log-loss is flat in the intercepts and a Newton step from it can jump
        # far; shrinking it first along the ray s * theta (a 1-D search) gives
        # a start where the Hessian is well conditioned.
        shrink = minimize_scalar(
            lambda log_s: probabilities_and_loss(math.exp(log_s) * theta)[1],
            bounds=(-9.0, 0.0),
            method="bounded",
        )
        theta = math.exp(shrink.x) * theta
        proba, loss = probabilities_and_loss(theta)
        n_iter = 0
        for n_iter in range(1, self.refine_iter + 1):
            residual = weight * (proba - onehot)
            gradient = to_numpy(residual.T @ design).astype(np.float64)
            gradient += penalised * theta / self.C
            if np.max(np.abs(gradient)) <= 1e-10 * max(1.0, float(xp.sum(weight))):
                n_iter -= 1
                break
            n_out = theta.shape[0]
            hessian = _softmax_hessian(design, proba, sample_weight, binary, xp)
            hessian += np.diag(np.tile(penalised, n_out) / self.C)
            # The softmax is invariant to shifting all intercepts together; a
            # tiny ridge makes that direction harmless for the solve.
            ridge = 1e-10 * np.trace(hessian) / hessian.shape[0]
            step = np.linalg.solve(
                hessian + ridge * np.eye(hessian.shape[0]), gradient.ravel()
            ).reshape(theta.shape)
            decrease = float(np.sum(gradient * step))
            for _ in range(40):
                new_proba, new_loss = probabilities_and_loss(theta - step)
                if new_loss <= loss - 1e-4 * decrease:
                    break
                step = 0.5 * step
            else:
                break
            theta, proba, loss = theta - step, new_proba, new_loss

        self.coef_ = asarray(theta[:, : X.shape[1]], xp=xp, device=dev, dtype=dtype)
        if self.fit_intercept:
            self.intercept_ = asarray(theta[:, -1], xp=xp, device=dev, dtype=dtype)
        self.n_iter_ = n_iter

    def predict_proba(self, X):
        """Class probabilities, ``softmax(scores / temperature_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
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
            Log-probabilities in the order of ``classes_``.
        """
        proba = self._predict_proba(X, "predict_log_proba")
        xp, _, _ = get_namespace_and_device(proba)
        positive = proba > 0
        return xp.where(
            positive, xp.log(xp.where(positive, proba, xp.ones_like(proba))), -xp.inf
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags
