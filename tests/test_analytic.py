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
from scipy.sparse import csr_array
from scipy.special import softmax as scipy_softmax
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.covariance import ledoit_wolf_shrinkage, oas
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import skprob._analytic as analytic_module
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


def test_temperature_alone_where_the_offsets_would_cost_accuracy():
    # Scores with a heavy tail (5% of the rows at +-300, 40% of those wrong),
    # as a closed form gives on sparse text: the tail drives T up until the
    # offsets outweigh the typical margins and shift rows to the large class.
    from scipy.optimize import minimize, minimize_scalar
    from scipy.special import log_softmax

    from skprob._analytic import _fit_temperature_and_offsets

    rng = np.random.default_rng(0)
    n, n_classes = 3000, 3
    target = rng.choice(n_classes, size=n, p=[0.6, 0.25, 0.15])
    scores = np.eye(n_classes)[target] + rng.normal(size=(n, n_classes))
    tail = rng.random(n) < 0.05
    wrong = np.where(rng.random(n) < 0.4, (target + 1) % n_classes, target)
    scores[tail] += 300.0 * np.eye(n_classes)[wrong[tail]]
    weight = np.ones(n)

    def penalised(params):
        # log_softmax, not log_loss, whose clipping would flatten the tail
        z = params[0] * scores
        z[:, 1:] += params[1:]
        loss = -np.mean(log_softmax(z, axis=1)[np.arange(n), target])
        return loss + 0.5 * np.sum(params[1:] ** 2) / n

    # the joint optimum (offsets included) is less accurate than the scores
    joint = minimize(penalised, np.r_[0.01, 0.0, 0.0], method="Nelder-Mead")
    shifted = joint.x[0] * scores
    shifted[:, 1:] += joint.x[1:]
    accuracy = np.mean(scores.argmax(axis=1) == target)
    assert np.mean(shifted.argmax(axis=1) == target) < accuracy - 0.01

    temperature, offsets = _fit_temperature_and_offsets(scores, target, weight)
    assert_array_equal(offsets, 0.0)
    alone = minimize_scalar(
        lambda a: penalised(np.r_[a, 0.0, 0.0]),
        bounds=(1e-4, 1.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert_allclose(1.0 / temperature, alone.x, rtol=1e-5)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer])
def test_newton_refinement_reaches_logistic_regression(loader):
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reference = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    clf = AnalyticLogisticRegression(refine_iter=30, refine_tol=1e-10, C=0.5).fit(X, y)
    assert clf.n_iter_[0] < 30
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
    assert clf.n_iter_[0] < 10
    assert_allclose(clf.coef_, reference.coef_, atol=1e-8)
    assert_allclose(clf.intercept_, reference.intercept_, atol=1e-8)
    assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=1e-9)


def test_refinement_stopped_at_refine_iter_warns():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="refine_iter=1"):
        clf = AnalyticLogisticRegression(refine_iter=1, refine_tol=1e-12).fit(X, y)
    assert clf.n_iter_[0] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-8).fit(X, y)


def test_interrupted_refinement_leaves_an_unfitted_estimator(monkeypatch):
    # The refinement drops the closed form's coef_ to save memory: a fit
    # interrupted there (Ctrl-C in a notebook) must not leave half a model,
    # even in an estimator fitted before.
    X, y = load_iris(return_X_y=True)
    clf = AnalyticLogisticRegression(refine_iter=10).fit(X, y)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(analytic_module, "damped_newton", interrupted)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    monkeypatch.undo()
    reference = AnalyticLogisticRegression(refine_iter=10).fit(X, y)
    assert_allclose(clf.fit(X, y).coef_, reference.coef_)


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


# the clear error comes without NumPy's overflow warnings before it
@pytest.mark.filterwarnings("error::RuntimeWarning")
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


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize(
    "params",
    [
        {"class_weight": "balanced", "temperature": "auto", "priors": [0.2, 0.3, 0.5]},
        {"class_weight": {1: 2.0}, "refine_iter": 20, "priors": [0.2, 0.3, 0.5]},
    ],
    ids=["temperature", "refine"],
)
def test_class_weight_and_priors_on_namespace(namespace, dtype_name, params):
    X, y = _namespace_data(3)
    fitted = check_namespace_matches_numpy(
        AnalyticLogisticRegression(**params),
        X,
        y,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("predict_proba",),
        attributes=("priors_", "class_weight_sums_"),
        rtol=1e-3 if dtype_name == "float32" else 1e-7,
        atol=1e-4 if dtype_name == "float32" else 1e-9,
    )
    xp = load_namespace(namespace)
    assert_in_namespace(fitted.n_iter_, xp)
    assert fitted.n_iter_.shape == (1,) and fitted.n_iter_.dtype == xp.int32


def test_float32_input_gives_float32_output_close_to_float64():
    X, y = _namespace_data(3)
    clf64 = AnalyticLogisticRegression().fit(X, y)
    clf32 = AnalyticLogisticRegression().fit(X.astype(np.float32), y)
    proba32 = clf32.predict_proba(X.astype(np.float32))
    assert clf32.coef_.dtype == np.float32 and proba32.dtype == np.float32
    assert_allclose(proba32, clf64.predict_proba(X), atol=1e-4)


# class_weight, priors on every path, parameters without effect, diagnostics,
# warm start, and edge values of the weights and of X.


def _imbalanced(n_classes, seed=0):
    weights = [0.75, 0.25] if n_classes == 2 else [0.6, 0.3, 0.1]
    X, y = make_classification(
        n_samples=600,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=weights,
        class_sep=0.8,
        random_state=seed,
    )
    return X, y


def _balanced_factors(y, sample_weight):
    """n / (K n_k) with weighted class totals n_k, written out with bincount."""
    totals = np.bincount(y, weights=sample_weight)
    return totals.sum() / (len(totals) * totals)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("class_weight", ["balanced", "dict"])
@pytest.mark.parametrize(
    "params", [{}, {"temperature": "auto"}, {"shrinkage": "ledoit-wolf"}]
)
def test_class_weight_equals_explicit_sample_weight(n_classes, class_weight, params):
    X, y = _imbalanced(n_classes)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    if class_weight == "balanced":
        factors = _balanced_factors(y, sample_weight)
    else:
        class_weight = {0: 1.0, 1: 3.0, 2: 0.5} if n_classes == 3 else {1: 2.5}
        factors = np.array([class_weight.get(k, 1.0) for k in range(n_classes)])
    weighted = AnalyticLogisticRegression(class_weight=class_weight, **params).fit(
        X, y, sample_weight=sample_weight
    )
    explicit = AnalyticLogisticRegression(**params).fit(
        X, y, sample_weight=sample_weight * factors[y]
    )
    assert_allclose(weighted.coef_, explicit.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(weighted.intercept_, explicit.intercept_, rtol=1e-10, atol=1e-12)
    assert_allclose(weighted.priors_, explicit.priors_, rtol=1e-12)
    if class_weight == "balanced":
        # the class-weighted frequencies of "balanced" are uniform
        assert_allclose(weighted.priors_, np.full(n_classes, 1.0 / n_classes))


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.5, 1: 2.0}])
def test_class_weight_refined_reaches_logistic_regression(n_classes, class_weight):
    X, y = _imbalanced(n_classes, seed=2)
    reference = LogisticRegression(
        class_weight=class_weight, tol=1e-12, solver="newton-cholesky"
    ).fit(X, y)
    clf = AnalyticLogisticRegression(
        class_weight=class_weight, refine_iter=50, refine_tol=1e-10
    ).fit(X, y)
    assert_allclose(clf.coef_, reference.coef_, atol=1e-8)
    assert_allclose(clf.intercept_, reference.intercept_, atol=1e-8)
    # and it is not the unweighted optimum
    plain = LogisticRegression(tol=1e-12, solver="newton-cholesky").fit(X, y)
    assert np.max(np.abs(clf.intercept_ - plain.intercept_)) > 0.1


def test_class_weight_in_partial_fit():
    X, y = _imbalanced(3)
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    reference = AnalyticLogisticRegression(class_weight=class_weight).fit(X, y)
    clf = AnalyticLogisticRegression(class_weight=class_weight)
    for rows in np.array_split(np.arange(len(y)), 3):
        clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    assert_allclose(clf.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(clf.intercept_, reference.intercept_, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="'balanced'.*not available in partial_fit"):
        AnalyticLogisticRegression(class_weight="balanced").partial_fit(
            X, y, classes=[0, 1, 2]
        )


def test_bad_class_weight_raises():
    X, y = _imbalanced(3)
    for bad in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="finite non-negative weights"):
            AnalyticLogisticRegression(class_weight={0: bad}).fit(X, y)
    with pytest.raises(ValueError, match=r"classes, \[0, 1, 2\], are not in"):
        AnalyticLogisticRegression(class_weight={7: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        AnalyticLogisticRegression(class_weight="uniform").fit(X, y)


def test_class_weight_with_dask_raises():
    da = pytest.importorskip("dask.array")
    X, y = _imbalanced(2)
    with pytest.raises(ValueError, match="class_weight is not available for dask"):
        AnalyticLogisticRegression(class_weight={1: 2.0}).fit(
            da.from_array(X, chunks=200), da.from_array(y, chunks=200)
        )


def _prior_shifted(proba, priors, frequencies):
    """The prior-shift correction by hand: p * pi / f, renormalised per row."""
    shifted = proba * priors / frequencies
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "path",
    ["closed form", "refine", "temperature", "partial", "gram", "gram temperature"],
)
def test_priors_shift_probabilities_on_every_path(n_classes, path):
    X, y = _imbalanced(n_classes, seed=3)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    class_weight = {1: 1.5}
    priors = np.full(n_classes, 1.0 / n_classes)
    params = {
        "closed form": {},
        "refine": {"refine_iter": 50, "refine_tol": 1e-10},
        "temperature": {"temperature": "auto"},
        "partial": {},
        "gram": {"solver": "gram"},
        "gram temperature": {"solver": "gram", "temperature": "auto"},
    }[path]

    def fit(**extra):
        clf = AnalyticLogisticRegression(class_weight=class_weight, **params, **extra)
        if path != "partial":
            return clf.fit(X, y, sample_weight=sample_weight)
        for rows in np.array_split(np.arange(len(y)), 3):
            clf.partial_fit(
                X[rows],
                y[rows],
                classes=np.arange(n_classes),
                sample_weight=sample_weight[rows],
            )
        return clf

    free, given = fit(), fit(priors=priors)
    totals = np.bincount(y, weights=sample_weight * np.where(y == 1, 1.5, 1.0))
    frequencies = totals / totals.sum()
    assert_allclose(given.priors_, priors)
    assert_allclose(given.coef_, free.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(
        given.predict_proba(X),
        _prior_shifted(free.predict_proba(X), priors, frequencies),
        rtol=1e-8,
        atol=1e-12,
    )
    # the predicted rate of the rare class rises towards its prior
    assert given.predict_proba(X)[:, -1].mean() > free.predict_proba(X)[:, -1].mean()


def test_priors_without_intercept_warn():
    X, y = _imbalanced(2)
    with pytest.warns(UserWarning, match="priors .* no effect with fit_intercept"):
        AnalyticLogisticRegression(priors=[0.5, 0.5], fit_intercept=False).fit(X, y)


@pytest.mark.parametrize(
    "params", [{"C": 10.0}, {"refine_tol": 1e-8}, {"warm_start": True}]
)
def test_refinement_parameters_without_refinement_warn(params):
    X, y = _imbalanced(3)
    (name,) = params
    with pytest.warns(UserWarning, match=f"{name}=.*refine_iter=0") as record:
        AnalyticLogisticRegression(**params).fit(X, y)
    # stacklevel: the warning points at the caller's line
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match=name):
        AnalyticLogisticRegression(**params).partial_fit(X, y, classes=[0, 1, 2])
    # the same values with refinement, and the defaults, warn nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AnalyticLogisticRegression(refine_iter=50, **params).fit(X, y)
        AnalyticLogisticRegression().fit(X, y)
        AnalyticLogisticRegression().partial_fit(X, y, classes=[0, 1, 2])


def test_convergence_warning_points_at_the_caller():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning) as record:
        AnalyticLogisticRegression(refine_iter=1, refine_tol=1e-12).fit(X, y)
    assert record[0].filename == __file__


@pytest.mark.parametrize("solver", ["covariance", "gram"])
def test_temperature_convergence_warning_points_at_the_caller(monkeypatch, solver):
    # no Newton step allowed: the temperature fit stops unconverged
    monkeypatch.setattr("skprob._analytic._TEMPERATURE_MAX_ITER", 0)
    X, y = _imbalanced(3)
    with pytest.warns(ConvergenceWarning, match="temperature") as record:
        AnalyticLogisticRegression(temperature="auto", solver=solver).fit(X, y)
    assert record[0].filename == __file__


@pytest.mark.parametrize("params", [{}, {"refine_iter": 50}])
def test_n_iter_is_an_int32_array_like_logistic_regression(params):
    X, y = _imbalanced(3)
    reference = LogisticRegression().fit(X, y).n_iter_
    n_iter = AnalyticLogisticRegression(**params).fit(X, y).n_iter_
    assert isinstance(n_iter, np.ndarray)
    assert n_iter.shape == reference.shape == (1,)
    assert n_iter.dtype == reference.dtype == np.int32
    assert (n_iter[0] == 0) == (not params)


def test_verbose_prints_each_newton_iterate(capsys):
    X, y = _imbalanced(3)
    C = 0.5
    AnalyticLogisticRegression(refine_iter=50, C=C).fit(X, y)
    assert capsys.readouterr().out == ""
    clf = AnalyticLogisticRegression(
        refine_iter=50, refine_tol=1e-8, C=C, verbose=1
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    iterates = [line for line in lines if line.startswith("Newton iteration")]
    assert len(iterates) == clf.n_iter_[0] + 1
    objectives = [float(line.split("objective ")[1].split(",")[0]) for line in iterates]
    gradients = [float(line.rsplit(" ", 1)[1]) for line in iterates]
    assert np.all(np.diff(objectives) <= 0)
    # the last objective is LogisticRegression's, computed by sklearn's log_loss
    assert_allclose(objectives[-1], _penalised_log_loss(clf, X, y, C), rtol=1e-6)
    assert gradients[-1] <= 1e-8 < gradients[0]
    assert "converged" in lines[-1]


def test_warm_start_from_a_converged_model_takes_at_most_one_step():
    X, y = _imbalanced(3)
    clf = AnalyticLogisticRegression(refine_iter=50, refine_tol=1e-6, warm_start=True)
    clf.fit(X, y)
    first = clf.coef_.copy()
    assert clf.n_iter_[0] > 1
    clf.fit(X, y)
    assert clf.n_iter_[0] <= 1
    assert_allclose(clf.coef_, first, atol=1e-5)
    # a new C: the warm start is LogisticRegression's warm start, same optimum
    clf.set_params(C=0.1, refine_tol=1e-10).fit(X, y)
    reference = LogisticRegression(C=0.1, tol=1e-12, solver="newton-cholesky")
    assert_allclose(clf.coef_, reference.fit(X, y).coef_, atol=1e-8)
    # another number of classes: the previous model is not a start
    X2, y2 = _imbalanced(2)
    cold = AnalyticLogisticRegression(refine_iter=50, C=0.1, refine_tol=1e-10)
    assert_allclose(clf.fit(X2, y2).coef_, cold.fit(X2, y2).coef_, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e-9, 2e13, 1e150, 1e300])
@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"covariance": "pooled", "shrinkage": 0.3},
        {"solver": "gram", "shrinkage": 0.3},
        {"sparse": True},
    ],
    ids=["mean", "pooled", "gram", "sparse"],
)
def test_scaling_all_weights_changes_nothing(scale, uniform, params):
    X, y = _data(3, n_samples=240)
    weights = (
        np.ones(len(y))
        if uniform
        else np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    )
    params = dict(params)
    # sparse X: the class moments are computed without centring the rows
    X_fit = csr_array(X) if params.pop("sparse", False) else X
    reference = AnalyticLogisticRegression(**params).fit(
        X_fit, y, sample_weight=weights
    )
    scaled = AnalyticLogisticRegression(**params).fit(
        X_fit, y, sample_weight=weights * scale
    )
    assert np.all(np.abs(reference.coef_) > 0)
    assert_allclose(scaled.coef_, reference.coef_, rtol=1e-9)
    assert_allclose(scaled.intercept_, reference.intercept_, rtol=1e-9)
    assert_allclose(
        scaled.predict_proba(X), reference.predict_proba(X), rtol=1e-9, atol=1e-12
    )


# NumPy warns about the overflowing sum in the input check before the error
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_weights_whose_total_overflows_raise():
    X, y = _data(3, n_samples=240)
    with pytest.raises(ValueError, match="sum to more than the largest float64"):
        AnalyticLogisticRegression().fit(X, y, sample_weight=np.full(len(y), 1e307))
    # the Ledoit-Wolf and OAS rules count the weights: a clear error where
    # their sums overflow, on either solver
    for params in (
        {"shrinkage": "ledoit-wolf"},
        {"shrinkage": "oas", "solver": "gram"},
    ):
        with pytest.raises(ValueError, match="reads the sample weights as counts"):
            AnalyticLogisticRegression(**params).fit(
                X, y, sample_weight=np.full(len(y), 1e300)
            )


@pytest.mark.parametrize("scale", [1e-150, 1e-60, 1e60, 1e150])
def test_scaled_x_gives_the_unscaled_model(scale):
    X, y = _data(3, n_samples=240)
    reference = AnalyticLogisticRegression().fit(X, y)
    scaled = AnalyticLogisticRegression().fit(X * scale, y)
    assert_allclose(scaled.coef_ * scale, reference.coef_, rtol=1e-8)
    assert_allclose(
        scaled.predict_proba(X * scale), reference.predict_proba(X), atol=1e-10
    )


@pytest.mark.parametrize("scale", [1e-300, 1e-160])
@pytest.mark.parametrize("solver", ["covariance", "gram"])
def test_x_whose_squares_underflow_raises_naming_the_column(scale, solver):
    X, y = load_iris(return_X_y=True, as_frame=True)
    X_small = X.copy()
    X_small["sepal width (cm)"] *= scale
    with pytest.raises(ValueError, match="'sepal width \\(cm\\)' are so small"):
        AnalyticLogisticRegression(solver=solver).fit(X_small, y)
    with pytest.raises(ValueError, match="column 0, column 1, column 2, column 3"):
        AnalyticLogisticRegression(solver=solver).fit(X.to_numpy() * scale, y)
    # an all-zero column is constant, not too small: no error, zero coefficient
    X_zero = X.to_numpy().copy()
    X_zero[:, 1] = 0.0
    coef = AnalyticLogisticRegression().fit(X_zero, y).coef_
    assert_allclose(coef[:, 1], 0.0, atol=1e-12)


@pytest.mark.parametrize("value", [0.0, 3.7, -2e5])
def test_constant_x_gives_the_class_frequencies(value):
    _, y = _data(3, n_samples=240)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    X = np.full((len(y), 4), value)
    totals = np.bincount(y, weights=sample_weight)
    clf = AnalyticLogisticRegression().fit(X, y, sample_weight=sample_weight)
    assert_allclose(clf.predict_proba(X[:3]), np.tile(totals / totals.sum(), (3, 1)))
    priors = np.array([0.2, 0.3, 0.5])
    given = AnalyticLogisticRegression(priors=priors).fit(X, y)
    assert_allclose(given.predict_proba(X[:3]), np.tile(priors, (3, 1)))
