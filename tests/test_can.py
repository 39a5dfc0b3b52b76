"""Tests for CANCalibrator against a direct implementation of the alternating loop."""

# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings

import numpy as np
import pytest
from array_api_helpers import NAMESPACE_DTYPES, check_namespace_matches_numpy
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import entropy as scipy_entropy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skprob import AnalyticLogisticRegression, CANCalibrator


class _GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose predict_proba returns its input rows unchanged.

    Wrapped in FrozenEstimator it lets a test choose the base probabilities,
    and so the reference set and the doubtful rows, exactly.
    """

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def fit(self, X=None, y=None):
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X):
        return np.array(X, dtype=np.float64)


def _given(n_classes):
    return FrozenEstimator(_GivenProbabilities(n_classes).fit())


def _loop(A, p, prior, alpha, n_iter):
    """The method as written in the original post: one row at a time."""
    Y = np.concatenate([A, p[None, :]], axis=0)
    for _ in range(n_iter):
        Y = Y**alpha
        Y = Y / Y.sum(axis=0, keepdims=True)
        Y = Y * prior[None, :]
        Y = Y / Y.sum(axis=1, keepdims=True)
    return Y[-1]


def _top_k_uncertainty(P, k):
    """Normalised entropy of the renormalised top-k, row by row with SciPy."""
    k = min(k, P.shape[1])
    return np.array([scipy_entropy(np.sort(p)[::-1][:k]) / math.log(k) for p in P])


def _any_k_uncertainty(P):
    return np.max([_top_k_uncertainty(P, k) for k in range(2, P.shape[1] + 1)], axis=0)


def _skewed_problem(seed=0):
    """10 classes with frequencies from 1 to 1/50, and a base model that
    predicts as if they were balanced (Gaussian NB with a uniform prior)."""
    n_classes = 10
    weights = np.geomspace(1.0, 1.0 / 50, n_classes)
    X, y = make_classification(
        n_samples=6000,
        n_features=20,
        n_informative=10,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=weights / weights.sum(),
        class_sep=0.8,
        random_state=seed,
    )
    return train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)


def test_two_class_hand_example():
    # Y = [[0, 1], [.5, .5]]: column sums (.5, 1.5) -> rows [0, 2/3], [1, 1/3];
    # times the uniform prior and renormalised, the last row is [3/4, 1/4].
    can = CANCalibrator(_given(2), prior=[0.5, 0.5], alpha=1.0, n_iter=1)
    can.fit([[0.0, 1.0]], [1])
    assert_array_equal(can.reference_, [[0.0, 1.0]])
    assert_array_equal(can.predict_proba([[0.5, 0.5]]), [[0.75, 0.25]])
    assert_array_equal(can.predict([[0.5, 0.5]]), [0])


@pytest.mark.parametrize("n_classes", [2, 7, 100])
@pytest.mark.parametrize("n_iter", [1, 3])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_equals_direct_loop(n_classes, n_iter, alpha):
    rng = np.random.default_rng(n_classes + 10 * n_iter)
    # Peaked rows form the reference set, flat rows are the doubtful ones.
    calibration = rng.dirichlet(np.full(n_classes, 0.05), size=60)
    test = np.concatenate(
        [rng.dirichlet(np.full(n_classes, 5.0), size=25), calibration[:5]]
    )
    prior = rng.dirichlet(np.ones(n_classes))
    labels = np.arange(60) % 2
    can = CANCalibrator(
        _given(n_classes), prior=prior, alpha=alpha, n_iter=n_iter, threshold=0.6
    ).fit(calibration, labels)

    confident = _top_k_uncertainty(calibration, 3) < 0.6
    assert 0 < confident.sum() < 60
    assert_array_equal(can.reference_, calibration[confident])

    doubtful = _top_k_uncertainty(test, 3) >= 0.6
    assert doubtful.sum() >= 20
    expected = test.copy()
    expected[doubtful] = [
        _loop(calibration[confident], p, prior, alpha, n_iter) for p in test[doubtful]
    ]
    proba = can.predict_proba(test)
    assert_allclose(proba, expected, rtol=0, atol=1e-12)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_n_iter_many_large_alpha_stays_finite_and_exact():
    # alpha**n_iter = 3**6: A**729 underflows, the rescaled recursion must not.
    rng = np.random.default_rng(3)
    A = rng.dirichlet(np.full(10, 0.1), size=40)
    P = rng.dirichlet(np.full(10, 20.0), size=15)
    prior = rng.dirichlet(np.ones(10))
    can = CANCalibrator(
        _given(10), prior=prior, alpha=3.0, n_iter=6, threshold=0.5
    ).fit(A, np.zeros(40, dtype=int))
    expected = np.array([_loop(can.reference_, p, prior, 3.0, 6) for p in P])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        proba = can.predict_proba(P)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3, 12])
def test_uncertainty_rules_match_scipy_entropy(n_classes):
    rng = np.random.default_rng(n_classes)
    P = rng.dirichlet(np.full(n_classes, 0.7), size=100)
    P[:20, 1:] = 0.0  # exact zeros and one-hot rows
    P[:20, 0] = 1.0
    P[20:40, 0] = 0.0
    P[20:40] /= P[20:40].sum(axis=1, keepdims=True)
    threshold = 0.9
    top_k = _top_k_uncertainty(P, 3)
    any_k = _any_k_uncertainty(P)
    for rule, reference in [("top-k", top_k), ("any-k", any_k)]:
        can = CANCalibrator(
            _given(n_classes), uncertainty=rule, threshold=threshold, prior=None
        ).fit(P, rng.integers(0, n_classes, 100))
        assert_array_equal(can.reference_, P[reference < threshold])
    # any-k takes the maximum over k, so it flags a superset of the rows.
    assert np.all(any_k >= top_k - 1e-12)
    if n_classes > 2:
        assert np.sum(any_k >= threshold) > np.sum(top_k >= threshold)


@pytest.mark.parametrize("sure_first", [False, True])
@pytest.mark.parametrize("threshold", [0.3, 0.9, 1.0])
def test_doubtful_rows_near_the_confidence_boundary(threshold, sure_first):
    # predict_proba skips the sort for rows whose top probability is large;
    # rows of the form [r, (1-r)/2, (1-r)/2] straddle that cut-off. Which rows
    # come first decides from the leading rows whether all rows are sorted
    # (flat rows first) or only the candidates (sure rows first).
    from scipy.optimize import brentq

    def top3(r):
        return scipy_entropy([r, (1 - r) / 2, (1 - r) / 2]) / math.log(3)

    if threshold < 1.0:
        crossing = brentq(lambda r: top3(r) - threshold, 1 / 3, 1 - 1e-12)
    else:
        crossing = 1 / 3
    rng = np.random.default_rng(0)
    r = np.clip(
        crossing
        + np.concatenate([[-1e-6, 1e-6, 1e-4, -1e-4], rng.normal(0, 0.05, 60)]),
        1 / 3,
        1,
    )
    P = np.zeros((len(r), 5))
    P[:, 0], P[:, 1], P[:, 2] = r, (1 - r) / 2, (1 - r) / 2
    # Many sure rows make the sort-skipping path the one taken.
    sure = np.full((1600, 5), 0.01) + 0.95 * np.eye(5)[rng.integers(0, 5, 1600)]
    P = np.concatenate([P, rng.dirichlet(np.full(5, 2.0), size=700)])
    P = np.concatenate([sure, P] if sure_first else [P, sure])
    can = CANCalibrator(_given(5), threshold=threshold, prior=np.full(5, 0.2)).fit(
        np.eye(5), np.arange(5)
    )
    changed = np.any(can.predict_proba(P) != P, axis=1)
    doubtful = _top_k_uncertainty(P, 3) >= threshold
    assert_array_equal(changed, doubtful)
    assert 0 < doubtful.sum() < len(P) or threshold == 1.0


def test_reference_is_out_of_fold_and_estimator_refitted_on_all_data():
    X, y = load_iris(return_X_y=True)
    base = AnalyticLogisticRegression()
    can = CANCalibrator(base, cv=3).fit(X, y)
    oof = cross_val_predict(base, X, y, cv=StratifiedKFold(3), method="predict_proba")
    assert_allclose(can.reference_, oof[_top_k_uncertainty(oof, 3) < 0.9], rtol=1e-12)
    full = AnalyticLogisticRegression().fit(X, y)
    assert_allclose(can.estimator_.coef_, full.coef_, rtol=1e-12)
    assert_allclose(can.prior_, np.bincount(y) / len(y))
    assert can.estimator_ is not base and not hasattr(base, "coef_")


def test_prior_from_sample_weight_and_given_prior():
    X, y = load_iris(return_X_y=True)
    w = np.where(y == 0, 3.0, 1.0)
    can = CANCalibrator(AnalyticLogisticRegression(), cv=3).fit(X, y, w)
    assert_allclose(can.prior_, [150 / 250, 50 / 250, 50 / 250])
    weighted = AnalyticLogisticRegression().fit(X, y, sample_weight=w)
    assert_allclose(can.estimator_.coef_, weighted.coef_, rtol=1e-12)
    given = CANCalibrator(AnalyticLogisticRegression(), cv=3, prior=[0.2, 0.3, 0.5])
    assert_allclose(given.fit(X, y).prior_, [0.2, 0.3, 0.5])
    with pytest.warns(UserWarning, match="does not accept sample_weight"):
        CANCalibrator(LinearDiscriminantAnalysis(), cv=3).fit(X, y, w)


def test_prefit_model_through_frozen_estimator():
    X, y = load_iris(return_X_y=True)
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=1000).fit(X_fit, y_fit)
    coef = model.coef_.copy()
    can = CANCalibrator(FrozenEstimator(model)).fit(X_cal, y_cal)
    assert can.estimator_.estimator is model
    assert_array_equal(model.coef_, coef)
    P = model.predict_proba(X_cal)
    assert_array_equal(can.reference_, P[_top_k_uncertainty(P, 3) < 0.9])


def test_prior_shift_gain_on_held_out_data():
    X_train, X_test, y_train, y_test = _skewed_problem()
    base = GaussianNB(priors=np.full(10, 0.1))
    base_accuracy = base.fit(X_train, y_train).score(X_test, y_test)
    can = CANCalibrator(base).fit(X_train, y_train)
    gain = can.score(X_test, y_test) - base_accuracy
    auto = CANCalibrator(base, alpha="auto", threshold="auto").fit(X_train, y_train)
    gain_auto = auto.score(X_test, y_test) - base_accuracy
    # Measured: base 0.571, gain 0.046 (defaults), 0.094 (auto).
    assert gain >= 0.03, (base_accuracy, gain)
    assert gain_auto >= 0.03, (base_accuracy, gain_auto)
    assert auto.adjust_


def test_digits_well_calibrated_model_loses_little():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    base = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    base_accuracy = base.fit(X_train, y_train).score(X_test, y_test)
    loss = base_accuracy - CANCalibrator(base).fit(X_train, y_train).score(
        X_test, y_test
    )
    auto = CANCalibrator(base, alpha="auto").fit(X_train, y_train)
    loss_auto = base_accuracy - auto.score(X_test, y_test)
    assert loss <= 0.003, (base_accuracy, loss)
    assert loss_auto <= 0.0, (base_accuracy, loss_auto, auto.adjust_)


def test_auto_search_scores_match_independent_inner_cv():
    X_train, _, y_train, _ = _skewed_problem(seed=1)
    X_train, y_train = X_train[:1500], y_train[:1500]
    base = GaussianNB(priors=np.full(10, 0.1))
    can = CANCalibrator(base, alpha="auto", cv=3).fit(X_train, y_train)
    oof = cross_val_predict(
        base, X_train, y_train, cv=StratifiedKFold(3), method="predict_proba"
    )
    uncertainty = _top_k_uncertainty(oof, 3)
    results = can.search_results_
    assert [p["alpha"] for p in results["params"]] == [1.0, 0.5, 1.5, 2.0, 3.0]
    # Inner CV written out with the per-row loop, for alpha = 2.
    correct = 0
    for train, test in StratifiedKFold(3).split(oof, y_train):
        prior = np.bincount(y_train[train], minlength=10) / len(train)
        A = oof[train][uncertainty[train] < 0.9]
        for i in test:
            p = oof[i] if uncertainty[i] < 0.9 else _loop(A, oof[i], prior, 2.0, 1)
            correct += p.argmax() == y_train[i]
    assert results["accuracy"][3] == pytest.approx(correct / len(y_train), abs=1e-12)
    assert results["base_accuracy"] == pytest.approx(np.mean(oof.argmax(1) == y_train))
    best = int(np.argmax(results["accuracy"]))
    assert can.alpha_ == results["params"][best]["alpha"]
    assert can.adjust_ == (results["accuracy"][best] > results["base_accuracy"])


def test_auto_falls_back_to_base_model_when_nothing_helps():
    # Balanced classes (uniform prior) and a base that is right on 98% of the
    # out-of-fold rows: no setting corrects a single additional row.
    X, y = load_iris(return_X_y=True)
    base = AnalyticLogisticRegression()
    can = CANCalibrator(base, alpha="auto", n_iter="auto", cv=3).fit(X, y)
    results = can.search_results_
    assert len(results["params"]) == 15
    assert max(results["accuracy"]) <= results["base_accuracy"]
    assert not can.adjust_
    assert_array_equal(can.predict_proba(X), can.estimator_.predict_proba(X))


def test_transductive_uses_the_confident_rows_of_the_batch():
    rng = np.random.default_rng(0)
    peaked = rng.dirichlet(np.full(5, 0.05), size=30)
    flat = rng.dirichlet(np.full(5, 5.0), size=10)
    prior = np.array([0.4, 0.3, 0.1, 0.1, 0.1])
    can = CANCalibrator(_given(5), reference="transductive", prior=prior).fit(
        peaked, rng.integers(0, 5, 30)
    )
    assert can.reference_ is None
    batch = np.concatenate([peaked[:12], flat])
    doubtful = _top_k_uncertainty(batch, 3) >= 0.9
    assert doubtful[:12].sum() == 0 and doubtful[12:].sum() >= 8
    expected = batch.copy()
    expected[doubtful] = [
        _loop(batch[~doubtful], p, prior, 1.0, 1) for p in batch[doubtful]
    ]
    assert_allclose(can.predict_proba(batch), expected, rtol=0, atol=1e-12)
    # The same row predicted alone has no reference and passes unchanged.
    lone = flat[doubtful[12:]][:1]
    assert_array_equal(can.predict_proba(lone), lone)


def test_default_is_row_independent():
    X, y = load_iris(return_X_y=True)
    can = CANCalibrator(AnalyticLogisticRegression(), threshold=0.3, cv=3).fit(X, y)
    whole = can.predict_proba(X)
    assert np.any(whole != can.estimator_.predict_proba(X))
    parts = np.concatenate([can.predict_proba(X[i : i + 7]) for i in range(0, 150, 7)])
    assert_allclose(parts, whole, rtol=1e-13, atol=1e-15)


def test_exact_zeros_in_probabilities_and_prior_give_no_nan():
    prior = np.array([0.5, 0.5, 0.0])
    reference = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    can = CANCalibrator(_given(3), prior=prior, threshold=0.5, n_iter=3).fit(
        reference, [0, 1, 2]
    )
    P = np.array(
        [
            [0.5, 0.5, 0.0],  # zero column in p
            [0.0, 0.0, 1.0],  # confident: unchanged
            [0.0, 0.5, 0.5],  # half on a class of zero prior
            [1 / 3, 1 / 3, 1 / 3],
        ]
    )
    proba = can.predict_proba(P)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-15)
    assert_array_equal(proba[1], P[1])
    # Zero prior: that class vanishes from every adjusted row.
    assert_array_equal(proba[[0, 2, 3], 2], 0.0)
    # Hand-computed: [0, .5, .5] -> columns (1, 1.5, 1.5) -> [0, 1/3, 1/3] * prior
    # -> [0, 1, 0]; the reference rows stay one-hot, so further iterations agree.
    assert_allclose(proba[2], [0.0, 1.0, 0.0], atol=1e-15)
    # Mass entirely on zero-prior classes: no information, returned unchanged.
    can_zero = CANCalibrator(_given(3), prior=prior, threshold=0.5).fit(
        reference, [0, 1, 2]
    )
    flat_on_zero = np.array([[0.0, 0.0, 1.0]])
    assert can_zero.predict_proba(flat_on_zero).tolist() == [[0.0, 0.0, 1.0]]


def test_inputs_not_modified():
    X, y = load_iris(return_X_y=True)
    w = np.linspace(0.5, 2.0, len(y))
    prior = np.array([0.2, 0.3, 0.5])
    copies = [a.copy() for a in (X, y, w, prior)]
    can = CANCalibrator(
        AnalyticLogisticRegression(), prior=prior, cv=3, threshold=0.3, n_iter=2
    ).fit(X, y, w)
    can.predict_proba(X)
    can.predict(X)
    for original, copy in zip((X, y, w, prior), copies):
        assert_array_equal(original, copy)
    P = np.full((4, 3), 1 / 3)
    frozen = CANCalibrator(_given(3), threshold=0.5).fit(np.eye(3), [0, 1, 2])
    frozen.predict_proba(P)
    assert_array_equal(P, np.full((4, 3), 1 / 3))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"prior": [0.5, 0.5]}, ValueError, r"prior must have shape \(3,\)"),
        ({"prior": [0.7, 0.5, -0.2]}, ValueError, "prior must be non-negative"),
        ({"prior": [0.3, 0.3, 0.3]}, ValueError, "prior must sum to 1"),
        ({"threshold": 0.0}, ValueError, "'threshold' parameter"),
        ({"threshold": 1.5}, ValueError, "'threshold' parameter"),
        ({"k": 1}, ValueError, "'k' parameter"),
        ({"alpha": 0.0}, ValueError, "'alpha' parameter"),
        ({"n_iter": 0}, ValueError, "'n_iter' parameter"),
        ({"reference": "batch"}, ValueError, "'reference' parameter"),
        (
            {"estimator": LinearSVC()},
            ValueError,
            "'estimator' parameter.*predict_proba",
        ),
    ],
)
def test_bad_input(params, error, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(error, match=match):
        CANCalibrator(**{"cv": 3, **params}).fit(X, y)


def test_bad_labels_and_folds():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="unknown to the estimator"):
        CANCalibrator(_given(3)).fit(np.eye(3), [0, 1, 5])
    with pytest.raises(ValueError, match="Requesting 5-fold"):
        CANCalibrator().fit(X[:52], y[:52])


def test_float32_preserved():
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    can = CANCalibrator(AnalyticLogisticRegression(), threshold=0.3, cv=3).fit(X, y)
    proba = can.predict_proba(X)
    assert proba.dtype == np.float32
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize(
    "params",
    [{}, {"n_iter": 3, "alpha": 1.5}, {"reference": "transductive"}],
    ids=["default", "n_iter3", "transductive"],
)
def test_array_api_matches_numpy(namespace, dtype_name, params):
    X, y = load_iris(return_X_y=True)
    can = CANCalibrator(AnalyticLogisticRegression(), cv=3, threshold=0.3, **params)
    fitted = check_namespace_matches_numpy(
        can,
        X,
        y,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("predict_proba", "predict"),
        attributes=("prior_",)
        + (("reference_",) if not params.get("reference") else ()),
    )
    assert fitted.adjust_
