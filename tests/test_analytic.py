"""Tests for AnalyticLogisticRegression against independent references."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
from array_api_helpers import (
    NAMESPACE_DTYPES,
    assert_in_namespace,
    check_namespace_matches_numpy,
    load_namespace,
    nondefault_device,
    rtol_for,
    to_namespace,
)
from data_helpers import offset_classification
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax as scipy_softmax
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.covariance import ledoit_wolf_shrinkage, oas
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprob import AnalyticLogisticRegression
from skprob._backend import to_numpy


def _data(n_classes, n_samples=300, n_features=6, seed=0):
    return offset_classification(
        n_classes,
        n_samples=n_samples,
        n_features=n_features,
        n_informative=4,
        seed=seed,
    )


def _reference_closed_form(X, y, covariance="mean", shrinkage=0.0, weights=None):
    """The closed form written directly with NumPy, one class at a time."""
    weights = np.ones(len(y)) if weights is None else weights
    classes = np.unique(y)
    means, covs, totals = [], [], []
    for c in classes:
        Xc, wc = X[y == c], weights[y == c]
        mean = np.average(Xc, axis=0, weights=wc)
        diff = Xc - mean
        covs.append((diff * wc[:, None]).T @ diff / wc.sum())
        means.append(mean)
        totals.append(wc.sum())
    means, covs, totals = np.array(means), np.array(covs), np.array(totals)
    if covariance == "mean":
        sigma = covs.mean(axis=0)
    else:
        sigma = np.tensordot(totals / totals.sum(), covs, axes=1)
    # shrinkage of the correlation matrix towards the identity, as in
    # LinearDiscriminantAnalysis: Sigma_lam = (1 - lam) Sigma + lam diag(Sigma)
    sigma = (1 - shrinkage) * sigma + shrinkage * np.diag(np.diag(sigma))
    W = np.linalg.solve(sigma, means.T).T
    priors = totals / totals.sum()
    b = -0.5 * np.sum(W * means, axis=1) + np.log(priors)
    return W, b, sigma


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("covariance", ["mean", "pooled"])
@pytest.mark.parametrize("shrinkage", [None, 0.3])
def test_coefficients_equal_closed_form(n_classes, covariance, shrinkage):
    X, y = _data(n_classes)
    W, b, sigma = _reference_closed_form(X, y, covariance, shrinkage or 0.0)
    clf = AnalyticLogisticRegression(covariance=covariance, shrinkage=shrinkage).fit(
        X, y
    )
    if n_classes == 2:
        W, b = (W[1] - W[0])[None, :], np.array([b[1] - b[0]])
    assert clf.coef_.shape == (1 if n_classes == 2 else n_classes, X.shape[1])
    assert_allclose(clf.coef_, W, rtol=1e-10, atol=1e-10)
    assert_allclose(clf.intercept_, b, rtol=1e-10, atol=1e-10)
    assert_allclose(clf.covariance_, sigma, rtol=1e-10)
    scores = X @ W.T + b
    expected = (
        np.column_stack(
            [1 / (1 + np.exp(scores[:, 0])), 1 / (1 + np.exp(-scores[:, 0]))]
        )
        if n_classes == 2
        else scipy_softmax(scores, axis=1)
    )
    assert_allclose(clf.predict_proba(X), expected, rtol=1e-9, atol=1e-12)


def test_sample_weight_matches_weighted_closed_form_and_repetition():
    X, y = _data(3)
    weights = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(float)
    W, b, _ = _reference_closed_form(X, y, "mean", 0.0, weights)
    clf = AnalyticLogisticRegression().fit(X, y, sample_weight=weights)
    assert_allclose(clf.coef_, W, rtol=1e-10, atol=1e-10)
    assert_allclose(clf.intercept_, b, rtol=1e-10, atol=1e-10)
    repeated = np.repeat(np.arange(len(y)), weights.astype(int))
    clf_rep = AnalyticLogisticRegression().fit(X[repeated], y[repeated])
    assert_allclose(clf.coef_, clf_rep.coef_, rtol=1e-9)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_pooled_matches_lda_lsqr(n_classes):
    X, y = _data(n_classes, n_samples=400)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(X, y)
    clf = AnalyticLogisticRegression(covariance="pooled").fit(X, y)
    assert_allclose(
        clf.decision_function(X), lda.decision_function(X), rtol=1e-8, atol=1e-8
    )
    assert_allclose(clf.predict_proba(X), lda.predict_proba(X), rtol=1e-8, atol=1e-8)
    assert_array_equal(clf.predict(X), lda.predict(X))


@pytest.mark.parametrize("shrinkage", ["ledoit-wolf", "oas"])
def test_automatic_shrinkage_matches_sklearn_covariance(shrinkage):
    X, y = _data(3, n_samples=120, n_features=10)
    X = X * np.logspace(-3, 3, X.shape[1])  # the intensity is on standardised data
    centred = X.copy()
    for c in np.unique(y):
        centred[y == c] -= X[y == c].mean(axis=0)
    _, _, sigma = _reference_closed_form(X, y)
    centred /= np.sqrt(np.diag(sigma))
    if shrinkage == "ledoit-wolf":
        expected = ledoit_wolf_shrinkage(centred, assume_centered=True)
    else:
        expected = oas(centred, assume_centered=True)[1]
    clf = AnalyticLogisticRegression(shrinkage=shrinkage).fit(X, y)
    assert 0 < expected < 1
    assert_allclose(clf.shrinkage_, expected, rtol=1e-10)
    W, b, _ = _reference_closed_form(X, y, "mean", expected)
    assert_allclose(clf.coef_, W, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shrinkage", [None, "ledoit-wolf", "oas"])
@pytest.mark.parametrize("covariance", ["mean", "pooled"])
def test_partial_fit_over_chunks_equals_fit(shrinkage, covariance):
    X, y = _data(3, n_samples=500)
    weights = np.random.default_rng(1).uniform(0.1, 3.0, size=len(y))
    params = dict(shrinkage=shrinkage, covariance=covariance)
    full = AnalyticLogisticRegression(**params).fit(X, y, sample_weight=weights)
    incremental = AnalyticLogisticRegression(**params)
    # ten chunks, the first holding only one class: the merge must handle
    # classes that appear late
    order = np.argsort(y, kind="stable")[:40]
    rest = np.setdiff1d(np.arange(len(y)), order)
    chunks = [order] + np.array_split(rest, 9)
    for rows in chunks:
        incremental.partial_fit(
            X[rows], y[rows], classes=np.unique(y), sample_weight=weights[rows]
        )
    for name in ["coef_", "intercept_", "means_", "covariance_", "priors_"]:
        assert_allclose(
            getattr(incremental, name),
            getattr(full, name),
            rtol=1e-10,
            atol=1e-10,
            err_msg=name,
        )
    assert_allclose(incremental.shrinkage_, full.shrinkage_, rtol=1e-10, atol=1e-14)


def test_partial_fit_unseen_class_is_never_predicted_and_finite():
    X, y = _data(3)
    clf = AnalyticLogisticRegression().partial_fit(
        X[y < 2], y[y < 2], classes=[0, 1, 2]
    )
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba[:, 2], 0.0, atol=1e-300)
    assert set(clf.predict(X)) <= {0, 1}


@pytest.mark.parametrize("solver", ["covariance", "gram"])
@pytest.mark.parametrize("n_samples, n_features", [(20, 50), (200, 8)])
def test_singular_covariance_gives_pseudo_inverse_solution(
    n_samples, n_features, solver
):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, n_features))
    y = np.arange(n_samples) % 2
    X[y == 1] += 1.0
    if n_features == 8:
        X = np.hstack([X, X[:, :3], np.ones((n_samples, 1))])  # duplicated + constant
    clf = AnalyticLogisticRegression(
        covariance="pooled", shrinkage=None, solver=solver
    ).fit(X, y)
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    means = np.array([X[y == c].mean(axis=0) for c in (0, 1)])
    sigma = sum(np.cov(X[y == c].T, bias=True) * np.mean(y == c) for c in (0, 1))
    # minimum-norm solution on the standardised scale; constant features get 0
    scale = np.sqrt(np.diag(sigma))
    active = scale > 1e-12
    correlation = sigma[np.ix_(active, active)] / np.outer(scale[active], scale[active])
    W = np.zeros_like(means)
    W[:, active] = (
        np.linalg.pinv(correlation, rcond=1e-10, hermitian=True)
        @ (means[:, active] / scale[active]).T
    ).T / scale[active]
    assert_allclose(clf.coef_[0], W[1] - W[0], rtol=1e-6, atol=1e-8)
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1.0)


def test_extreme_feature_scale_keeps_probabilities_valid():
    X, y = _data(3)
    clf = AnalyticLogisticRegression().fit(X, y)
    big = AnalyticLogisticRegression().fit(X * 1e6, y)
    proba = big.predict_proba(X * 1e6)
    assert not np.any(np.isnan(proba))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    # the Gaussian model is equivariant to rescaling the features
    assert_allclose(proba, clf.predict_proba(X), rtol=1e-6, atol=1e-10)
    # far outside the training range the scores saturate, still no NaN
    far = big.predict_proba(X * 1e12)
    assert not np.any(np.isnan(far)) and np.all(far >= 0)
    assert_allclose(far.sum(axis=1), 1.0)
    assert np.all(np.isfinite(big.predict_log_proba(X * 1e6)) | (proba == 0))


def test_predict_log_proba_and_string_labels():
    X, y = _data(3)
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = AnalyticLogisticRegression().fit(X, labels)
    assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    assert set(clf.predict(X)) <= set(labels)
    assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12)


def test_temperature_auto_improves_held_out_log_loss():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    plain = AnalyticLogisticRegression().fit(X_train, y_train)
    tempered = AnalyticLogisticRegression(temperature="auto").fit(X_train, y_train)
    assert tempered.temperature_ != 1.0
    assert_allclose(tempered.coef_, plain.coef_)
    assert log_loss(y_test, tempered.predict_proba(X_test)) < log_loss(
        y_test, plain.predict_proba(X_test)
    )
    # the closed-form scores divided by T, plus the offset, applied by hand
    scores = plain.decision_function(X_test) / tempered.temperature_
    scores += tempered.intercept_offsets_[0]
    assert_allclose(tempered.predict_proba(X_test)[:, 1], 1 / (1 + np.exp(-scores)))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_temperature_and_offsets_minimise_the_penalised_log_loss(n_classes):
    from scipy.optimize import minimize

    from skprob._analytic import _fit_temperature_and_offsets

    rng = np.random.default_rng(n_classes)
    n = 400
    target = rng.integers(0, n_classes, size=n)
    scores = 3.0 * rng.normal(size=(n, n_classes)) + 4.0 * np.eye(n_classes)[target]
    if n_classes == 2:
        scores = scores[:, 1] - scores[:, 0]
    weight = rng.uniform(0.5, 2.0, size=n)
    temperature, offsets = _fit_temperature_and_offsets(scores, target, weight)

    def objective(params):
        z = scores[:, None] * np.array([0.0, 1.0]) if n_classes == 2 else scores
        z = params[0] * z
        z[:, 1:] += params[1:]
        data = log_loss(target, scipy_softmax(z, axis=1), sample_weight=weight)
        # N(0, 1) prior on the offsets, against the summed loss
        return data + 0.5 * np.sum(params[1:] ** 2) / weight.sum()

    reference = minimize(
        objective,
        np.r_[1.0, np.zeros(n_classes - 1)],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
    )
    assert_allclose(1.0 / temperature, reference.x[0], rtol=1e-5)
    assert_allclose(offsets[-(n_classes - 1) :], reference.x[1:], atol=1e-5)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer])
def test_newton_refinement_reaches_logistic_regression(loader):
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reference = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    clf = AnalyticLogisticRegression(refine_iter=30, refine_tol=1e-10, C=0.5).fit(X, y)
    assert clf.n_iter_ < 30
    assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_gridsearch_in_pipeline():
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), AnalyticLogisticRegression()),
        {"analyticlogisticregression__shrinkage": [None, 0.1, "oas"]},
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.9


def test_input_arrays_are_not_modified():
    X, y = _data(3)
    weights = np.linspace(0.5, 2.0, len(y))
    X_copy, y_copy, w_copy = X.copy(), y.copy(), weights.copy()
    clf = AnalyticLogisticRegression(shrinkage="ledoit-wolf", temperature="auto")
    clf.fit(X, y, sample_weight=weights)
    clf.predict_proba(X)
    AnalyticLogisticRegression().partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=weights
    )
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert_array_equal(weights, w_copy)


@pytest.mark.parametrize(
    "make_bad, match",
    [
        (lambda X, y: (np.where(X > 51, np.nan, X), y), "NaN"),
        (lambda X, y: (np.where(X > 51, np.inf, X), y), "infinity"),
        (lambda X, y: (X, np.zeros_like(y)), "at least 2 classes"),
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
        (lambda X, y: (X, y + 0.5), "Unknown label type"),
    ],
)
def test_bad_training_input_raises(make_bad, match):
    X, y = _data(3)
    X_bad, y_bad = make_bad(X, y)
    with pytest.raises(ValueError, match=match):
        AnalyticLogisticRegression().fit(X_bad, y_bad)


def test_bad_use_raises_clear_errors():
    X, y = _data(3)
    clf = AnalyticLogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="labels not in classes"):
        AnalyticLogisticRegression().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="classes must be passed"):
        AnalyticLogisticRegression().partial_fit(X, y)
    with pytest.raises(ValueError, match="priors must have shape"):
        AnalyticLogisticRegression(priors=[0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="must sum to 1"):
        AnalyticLogisticRegression(priors=[0.5, 0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="partial_fit"):
        AnalyticLogisticRegression(temperature="auto").partial_fit(
            X, y, classes=[0, 1, 2]
        )
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        AnalyticLogisticRegression().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="shrinkage"):
        AnalyticLogisticRegression(shrinkage=1.5).fit(X, y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AnalyticLogisticRegression().predict(X)


def test_given_priors_shift_intercepts_only():
    X, y = _data(3)
    empirical = AnalyticLogisticRegression().fit(X, y)
    priors = np.array([0.2, 0.3, 0.5])
    given = AnalyticLogisticRegression(priors=priors).fit(X, y)
    assert_allclose(given.coef_, empirical.coef_)
    assert_allclose(
        given.intercept_ - empirical.intercept_,
        np.log(priors) - np.log(empirical.priors_),
        rtol=1e-10,
    )


def test_partial_fit_with_changed_classes_raises_and_keeps_model():
    X, y = _data(3)
    clf = AnalyticLogisticRegression().partial_fit(X, y, classes=[0, 1, 2])
    coef = clf.coef_.copy()
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    assert_allclose(clf.coef_, coef)
    # the same classes again (any order) are accepted, as in SGDClassifier
    reference = AnalyticLogisticRegression().fit(np.vstack([X, X]), np.hstack([y, y]))
    clf.partial_fit(X, y, classes=[2, 0, 1])
    assert_allclose(clf.coef_, reference.coef_, rtol=1e-8, atol=1e-10)


def test_ledoit_wolf_after_partial_fit_without_fourth_moments_raises():
    X, y = _data(3)
    clf = AnalyticLogisticRegression().partial_fit(X, y, classes=[0, 1, 2])
    clf.set_params(shrinkage="ledoit-wolf")
    with pytest.raises(ValueError, match="fourth moments"):
        clf.partial_fit(X, y)


def _penalised_log_loss(clf, X, y, C, sample_weight=None):
    """LogisticRegression's objective at clf's coefficients, from sklearn's log_loss."""
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    data_term = log_loss(y, clf.predict_proba(X), sample_weight=w, normalize=False)
    return data_term + 0.5 / C * np.sum(clf.coef_**2)


# refine_tol=0 on purpose: every fit stops at refine_iter and warns
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_classes", [2, 7])
def test_refinement_objective_never_increases(n_classes):
    # nearly separable classes: the closed form is over-confident and a plain
    # Newton step from it overshoots
    X, y = make_classification(
        n_samples=300,
        n_features=12,
        n_informative=8,
        n_classes=n_classes,
        class_sep=2.5,
        random_state=3,
    )
    C = 10.0
    objectives = [
        _penalised_log_loss(
            AnalyticLogisticRegression(refine_iter=k, refine_tol=0.0, C=C).fit(X, y),
            X,
            y,
            C,
        )
        for k in range(1, 9)
    ]
    assert np.all(np.diff(objectives) <= 1e-9 * np.abs(objectives[:-1]))
    assert objectives[-1] < objectives[0]


@pytest.mark.parametrize(
    "n_classes, n_features, fit_intercept",
    # 7 x 61 = 427 unknowns: solved by conjugate gradients, the others exactly
    [(2, 5, True), (4, 8, True), (3, 6, False), (7, 60, True)],
)
def test_refinement_reaches_logistic_regression_optimum(
    n_classes, n_features, fit_intercept
):
    X, y = _data(n_classes, n_samples=500, n_features=n_features, seed=1)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    weights = np.random.default_rng(0).uniform(0.2, 2.0, size=len(y))
    C = 0.3
    # newton-cholesky reaches the optimum to rounding; lbfgs stops at about 1e-7
    reference = LogisticRegression(
        C=C, tol=1e-12, solver="newton-cholesky", fit_intercept=fit_intercept
    ).fit(X, y, sample_weight=weights)
    clf = AnalyticLogisticRegression(
        refine_iter=50, refine_tol=1e-10, C=C, fit_intercept=fit_intercept
    ).fit(X, y, sample_weight=weights)
    assert clf.n_iter_ < 10
    assert_allclose(clf.coef_, reference.coef_, atol=1e-8)
    assert_allclose(clf.intercept_, reference.intercept_, atol=1e-8)
    assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=1e-9)


def test_refinement_stopped_at_refine_iter_warns():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="refine_iter=1"):
        clf = AnalyticLogisticRegression(refine_iter=1, refine_tol=1e-12).fit(X, y)
    assert clf.n_iter_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-8).fit(X, y)


def _random_scales(n_features, seed):
    """Per-feature factors spread log-uniformly over 1e-6 .. 1e6."""
    return 10.0 ** np.random.default_rng(seed).uniform(-6, 6, size=n_features)


@pytest.mark.parametrize("covariance", ["mean", "pooled"])
@pytest.mark.parametrize("seed", range(3))
def test_predictions_do_not_depend_on_feature_units(covariance, seed):
    # raw breast-cancer features: condition number of the covariance 4.5e11
    X, y = load_breast_cancer(return_X_y=True)
    scales = _random_scales(X.shape[1], seed)
    clf = AnalyticLogisticRegression(covariance=covariance).fit(X, y)
    rescaled = AnalyticLogisticRegression(covariance=covariance).fit(X * scales, y)
    assert_allclose(
        rescaled.predict_proba(X * scales), clf.predict_proba(X), rtol=0, atol=1e-8
    )
    # the coefficients carry the units: coef * scale is the same model
    assert_allclose(rescaled.coef_ * scales, clf.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shrinkage", [0.2, "oas", "ledoit-wolf"])
def test_shrinkage_does_not_depend_on_feature_units(shrinkage):
    X, y = _data(4, n_samples=200, n_features=8)
    scales = _random_scales(X.shape[1], 7)
    clf = AnalyticLogisticRegression(shrinkage=shrinkage).fit(X, y)
    rescaled = AnalyticLogisticRegression(shrinkage=shrinkage).fit(X * scales, y)
    assert_allclose(rescaled.shrinkage_, clf.shrinkage_, rtol=1e-9)
    assert_allclose(
        rescaled.predict_proba(X * scales), clf.predict_proba(X), rtol=0, atol=1e-8
    )


class _ShrunkTowardsDiagonal(BaseEstimator):
    """Class covariance shrunk on the correlation scale, written out directly."""

    def __init__(self, shrinkage=0.1):
        self.shrinkage = shrinkage

    def fit(self, X, y=None):
        empirical = np.cov(X.T, bias=True)
        diagonal = np.diag(np.diag(empirical))
        self.covariance_ = (1 - self.shrinkage) * empirical + self.shrinkage * diagonal
        return self


@pytest.mark.parametrize("shrinkage", [0.1, 0.6])
def test_pooled_shrinkage_matches_lda_with_diagonal_target(shrinkage):
    # (1 - lam) R + lam I on the correlation scale is (1 - lam) Sigma +
    # lam diag(Sigma); LDA pools such class covariances by class frequency
    X, y = _data(3, n_samples=300, n_features=7)
    X = X * np.array([1e-2, 1.0, 10.0, 1.0, 1e2, 0.1, 1.0])
    lda = LinearDiscriminantAnalysis(
        solver="lsqr", covariance_estimator=_ShrunkTowardsDiagonal(shrinkage)
    ).fit(X, y)
    clf = AnalyticLogisticRegression(covariance="pooled", shrinkage=shrinkage)
    clf.fit(X, y)
    assert_allclose(clf.covariance_, lda.covariance_, rtol=1e-10)
    assert_allclose(clf.predict_proba(X), lda.predict_proba(X), rtol=1e-7, atol=1e-9)


# NumPy warns about the overflow in the scatter product before the error is raised
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_huge_values_raise_naming_the_column():
    X, y = load_iris(return_X_y=True, as_frame=True)
    X_big = X.copy()
    X_big.iloc[3, 2] = 1e160
    with pytest.raises(ValueError, match="'petal length \\(cm\\)'.*overflow"):
        AnalyticLogisticRegression().fit(X_big, y)
    with pytest.raises(ValueError, match="column 0, column 1, column 2, column 3"):
        AnalyticLogisticRegression().fit(X.to_numpy() * 1e300, y)
    # values up to ~1e150 have representable squares: the right answer, the
    # same model as on the unscaled data
    clf = AnalyticLogisticRegression().fit(X.to_numpy() * 1e140, y)
    reference = AnalyticLogisticRegression().fit(X.to_numpy(), y)
    assert_allclose(
        clf.predict_proba(X.to_numpy() * 1e140),
        reference.predict_proba(X.to_numpy()),
        atol=1e-8,
    )


# Array-API namespaces give the NumPy results (formerly tests/test_array_api.py).
ATTRIBUTES = ("coef_", "intercept_", "means_", "covariance_", "priors_")
METHODS = ("decision_function", "predict_proba", "predict_log_proba")


def _namespace_data(n_classes):
    X, y = make_classification(
        n_samples=200,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, y


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "params",
    [{}, {"covariance": "pooled", "shrinkage": "ledoit-wolf"}, {"temperature": "auto"}],
    ids=["default", "pooled-lw", "temperature"],
)
def test_analytic_matches_numpy(namespace, dtype_name, n_classes, params):
    X, y = _namespace_data(n_classes)
    fitted = check_namespace_matches_numpy(
        AnalyticLogisticRegression(**params),
        X,
        y,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=METHODS,
        attributes=ATTRIBUTES,
        atol=1e-5 if dtype_name == "float32" else 1e-10,
    )
    xp = load_namespace(namespace)
    X_typed = X.astype(dtype_name)
    with config_context(array_api_dispatch=True):
        labels = fitted.predict(to_namespace(xp, X_typed, device=nondefault_device(xp)))
    assert_in_namespace(labels, xp)
    expected = AnalyticLogisticRegression(**params).fit(X_typed, y).predict(X_typed)
    assert np.mean(to_numpy(labels) == expected) > 0.99


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_analytic_partial_fit_and_refine_on_namespace(namespace, dtype_name):
    xp = load_namespace(namespace)
    X, y = _namespace_data(3)
    X = X.astype(dtype_name)
    reference = AnalyticLogisticRegression().fit(X, y)
    refined_np = AnalyticLogisticRegression(refine_iter=20).fit(X, y)
    with config_context(array_api_dispatch=True):
        clf = AnalyticLogisticRegression()
        for rows in np.array_split(np.arange(len(y)), 4):
            clf.partial_fit(
                to_namespace(xp, X[rows]),
                to_namespace(xp, y[rows]),
                classes=to_namespace(xp, np.unique(y)),
            )
        refined = AnalyticLogisticRegression(refine_iter=20).fit(
            to_namespace(xp, X), to_namespace(xp, y)
        )
    assert_in_namespace(clf.coef_, xp, dtype_name)
    assert_allclose(
        to_numpy(clf.coef_), reference.coef_, rtol=rtol_for(dtype_name) * 10
    )
    assert_allclose(to_numpy(refined.coef_), refined_np.coef_, rtol=1e-3, atol=1e-4)


def test_float32_input_gives_float32_output_close_to_float64():
    X, y = _namespace_data(3)
    clf64 = AnalyticLogisticRegression().fit(X, y)
    clf32 = AnalyticLogisticRegression().fit(X.astype(np.float32), y)
    proba32 = clf32.predict_proba(X.astype(np.float32))
    assert clf32.coef_.dtype == np.float32 and proba32.dtype == np.float32
    assert_allclose(proba32, clf64.predict_proba(X), atol=1e-4)
