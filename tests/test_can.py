"""Tests for CANCalibrator against a direct implementation of the alternating loop."""

# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings

import numpy as np
import pytest
from array_api_helpers import NAMESPACE_DTYPES, check_namespace_matches_numpy
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax
from scipy.stats import entropy as scipy_entropy
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skprob import AnalyticLogisticRegression, CANCalibrator
from skprob._datasets import make_skewed_classes


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
    """10 classes with frequencies from 1 to 1/50 (see make_skewed_classes)."""
    X, y = make_skewed_classes(random_state=seed)
    return train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)


def test_two_class_hand_example():
    # Y = [[0, 1], [.5, .5]]: column sums (.5, 1.5) -> rows [0, 2/3], [1, 1/3];
    # times the uniform prior and renormalised, the last row is [3/4, 1/4].
    can = CANCalibrator(_given(2), prior=[0.5, 0.5], alpha=1.0, threshold=0.9, n_iter=1)
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
            _given(n_classes),
            uncertainty=rule,
            threshold=threshold,
            alpha=1.0,
            prior=None,
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
    can = CANCalibrator(
        _given(5), threshold=threshold, alpha=1.0, prior=np.full(5, 0.2)
    ).fit(np.eye(5), np.arange(5))
    changed = np.any(can.predict_proba(P) != P, axis=1)
    doubtful = _top_k_uncertainty(P, 3) >= threshold
    assert_array_equal(changed, doubtful)
    assert 0 < doubtful.sum() < len(P) or threshold == 1.0


def test_reference_is_out_of_fold_and_estimator_refitted_on_all_data():
    X, y = load_iris(return_X_y=True)
    base = AnalyticLogisticRegression()
    can = CANCalibrator(base, cv=3, threshold=0.9, alpha=1.0).fit(X, y)
    oof = cross_val_predict(base, X, y, cv=StratifiedKFold(3), method="predict_proba")
    assert_allclose(can.reference_, oof[_top_k_uncertainty(oof, 3) < 0.9], rtol=1e-12)
    full = AnalyticLogisticRegression().fit(X, y)
    assert_allclose(can.estimator_.coef_, full.coef_, rtol=1e-12)
    assert_allclose(can.prior_, np.bincount(y) / len(y))
    assert can.estimator_ is not base and not hasattr(base, "coef_")


def test_prior_from_sample_weight_and_given_prior():
    X, y = load_iris(return_X_y=True)
    w = np.where(y == 0, 3.0, 1.0)
    fixed = {"threshold": 0.9, "alpha": 1.0, "cv": 3}
    can = CANCalibrator(AnalyticLogisticRegression(), **fixed).fit(X, y, w)
    assert_allclose(can.prior_, [150 / 250, 50 / 250, 50 / 250])
    weighted = AnalyticLogisticRegression().fit(X, y, sample_weight=w)
    assert_allclose(can.estimator_.coef_, weighted.coef_, rtol=1e-12)
    given = CANCalibrator(AnalyticLogisticRegression(), prior=[0.2, 0.3, 0.5], **fixed)
    assert_allclose(given.fit(X, y).prior_, [0.2, 0.3, 0.5])
    with pytest.warns(UserWarning, match="does not accept sample_weight"):
        CANCalibrator(LinearDiscriminantAnalysis(), **fixed).fit(X, y, w)


def test_prefit_model_through_frozen_estimator():
    X, y = load_iris(return_X_y=True)
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=1000).fit(X_fit, y_fit)
    coef = model.coef_.copy()
    can = CANCalibrator(FrozenEstimator(model), threshold=0.9, alpha=1.0)
    can.fit(X_cal, y_cal)
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
    fixed = CANCalibrator(base, alpha=1.0, threshold=0.9).fit(X_train, y_train)
    gain_fixed = fixed.score(X_test, y_test) - base_accuracy
    # Measured: base 0.571, gain 0.094 (defaults: searched), 0.046 (the
    # original method's alpha=1, threshold=0.9).
    assert can.adjust_
    assert gain >= 0.05, (base_accuracy, gain)
    assert gain_fixed >= 0.03, (base_accuracy, gain_fixed)


def test_given_prior_is_searched_under_that_prior():
    # Balanced training classes, test rows drawn with frequencies .7/.2/.1 and
    # that prior given: the out-of-fold rows reweighted by prior / frequency
    # stand for the test distribution, so the search keeps the adjustment
    # (on the unweighted rows it would not help: their prior is uniform).
    X, y = make_classification(
        n_samples=20_000,
        n_features=2,
        n_informative=2,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=0.8,
        random_state=1,
    )
    rng = np.random.default_rng(0)
    test_prior = np.array([0.7, 0.2, 0.1])
    pool = np.arange(3_000, len(y))
    test = np.concatenate(
        [
            rng.choice(pool[y[pool] == k], int(p * 4_000), replace=False)
            for k, p in enumerate(test_prior)
        ]
    )
    base = LogisticRegression().fit(X[:3_000], y[:3_000])
    base_accuracy = base.score(X[test], y[test])
    can = CANCalibrator(LogisticRegression(), prior=test_prior)
    can.fit(X[:3_000], y[:3_000])
    assert can.adjust_
    # Measured: base 0.801, +0.059.
    assert can.score(X[test], y[test]) - base_accuracy >= 0.03
    # Reference: the search weights written out from the class counts.
    counts = np.bincount(y[:3_000])
    weights = (test_prior / (counts / counts.sum()))[y[:3_000]]
    assert_allclose(can._shift_weight(y[:3_000], np.ones(3_000)), weights)


def test_digits_well_calibrated_model_loses_little():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    base = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    base_accuracy = base.fit(X_train, y_train).score(X_test, y_test)
    loss = base_accuracy - CANCalibrator(base, threshold=0.9, alpha=1.0).fit(
        X_train, y_train
    ).score(X_test, y_test)
    default = CANCalibrator(base).fit(X_train, y_train)
    loss_default = base_accuracy - default.score(X_test, y_test)
    assert loss <= 0.003, (base_accuracy, loss)
    assert loss_default <= 0.0, (base_accuracy, loss_default, default.adjust_)


def _mcnemar_bound(fixed, broken, z=2.0):
    return fixed - broken - z * math.sqrt(fixed + broken)


def test_auto_search_scores_match_independent_inner_cv():
    X_train, _, y_train, _ = _skewed_problem(seed=1)
    X_train, y_train = X_train[:1500], y_train[:1500]
    base = GaussianNB(priors=np.full(10, 0.1))
    can = CANCalibrator(base, alpha="auto", threshold=0.9, cv=3).fit(X_train, y_train)
    oof = cross_val_predict(
        base, X_train, y_train, cv=StratifiedKFold(3), method="predict_proba"
    )
    uncertainty = _top_k_uncertainty(oof, 3)
    results = can.search_results_
    assert [p["alpha"] for p in results["params"]] == [1.0, 0.5, 1.5, 2.0, 3.0]
    # Inner CV written out with the per-row loop, for alpha = 2.
    fixed = broken = 0
    for train, test in StratifiedKFold(3).split(oof, y_train):
        prior = np.bincount(y_train[train], minlength=10) / len(train)
        A = oof[train][uncertainty[train] < 0.9]
        for i in test:
            p = oof[i] if uncertainty[i] < 0.9 else _loop(A, oof[i], prior, 2.0, 1)
            before, after = oof[i].argmax() == y_train[i], p.argmax() == y_train[i]
            fixed += after and not before
            broken += before and not after
    base_accuracy = np.mean(oof.argmax(1) == y_train)
    assert results["base_accuracy"] == pytest.approx(base_accuracy)
    assert results["n_fixed"][3] == fixed and results["n_broken"][3] == broken
    assert results["accuracy"][3] == pytest.approx(
        base_accuracy + (fixed - broken) / len(y_train), abs=1e-12
    )
    assert results["gain_lower_bound"][3] == pytest.approx(
        _mcnemar_bound(fixed, broken) / len(y_train), abs=1e-12
    )
    best = int(np.argmax(results["gain_lower_bound"]))
    assert can.alpha_ == results["params"][best]["alpha"]
    assert can.adjust_ == (results["gain_lower_bound"][best] > 0)


def test_search_falls_back_to_base_model_without_evidence():
    # Balanced classes (uniform prior) and a base that is right on 98% of the
    # out-of-fold rows: no setting corrects enough rows to pass the test.
    X, y = load_iris(return_X_y=True)
    base = AnalyticLogisticRegression()
    can = CANCalibrator(base, alpha="auto", n_iter="auto", cv=3).fit(X, y)
    results = can.search_results_
    assert len(results["params"]) == 90
    assert not can.adjust_
    assert max(results["gain_lower_bound"]) <= 0
    assert_array_equal(can.predict_proba(X), can.estimator_.predict_proba(X))
    assert_array_equal(can.predict(X), can.estimator_.predict(X))


def test_search_rejects_a_gain_within_noise():
    # Two classes, no prior shift, a calibrated base. The confident rows
    # under-represent the minority class, so the original method (alpha=1,
    # threshold=0.9) moves doubtful rows towards it and loses accuracy; the
    # search sees no significant out-of-fold gain and keeps the base model.
    assert _mcnemar_bound(5, 3) < 0 < _mcnemar_bound(40, 10)
    X, y = make_classification(
        n_samples=1500, n_features=5, weights=[0.6], flip_y=0.3, random_state=1
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    base = LogisticRegression().fit(X_train, y_train)
    original = CANCalibrator(LogisticRegression(), threshold=0.9, alpha=1.0)
    original.fit(X_train, y_train)
    minority = int(np.argmin(original.prior_))
    reference_share = original.reference_.sum(axis=0) / len(original.reference_)
    assert reference_share[minority] < original.prior_[minority] - 0.02
    assert original.score(X_test, y_test) < base.score(X_test, y_test) - 0.005

    can = CANCalibrator(LogisticRegression()).fit(X_train, y_train)
    results = can.search_results_
    # Every setting's evidence is what the independent bound says of its counts.
    expected = [
        _mcnemar_bound(f, b) / len(y_train)
        for f, b in zip(results["n_fixed"], results["n_broken"])
    ]
    assert_allclose(results["gain_lower_bound"], expected, atol=1e-12)
    assert not can.adjust_
    assert_array_equal(can.predict_proba(X_test), base.predict_proba(X_test))


def test_transductive_uses_the_confident_rows_of_the_batch():
    rng = np.random.default_rng(0)
    peaked = rng.dirichlet(np.full(5, 0.05), size=30)
    flat = rng.dirichlet(np.full(5, 5.0), size=10)
    prior = np.array([0.4, 0.3, 0.1, 0.1, 0.1])
    can = CANCalibrator(
        _given(5), reference="transductive", prior=prior, threshold=0.9, alpha=1.0
    ).fit(peaked, rng.integers(0, 5, 30))
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
    can = CANCalibrator(
        AnalyticLogisticRegression(), threshold=0.3, alpha=1.0, cv=3
    ).fit(X, y)
    whole = can.predict_proba(X)
    assert np.any(whole != can.estimator_.predict_proba(X))
    parts = np.concatenate([can.predict_proba(X[i : i + 7]) for i in range(0, 150, 7)])
    assert_allclose(parts, whole, rtol=1e-13, atol=1e-15)


def test_exact_zeros_in_probabilities_and_prior_give_no_nan():
    prior = np.array([0.5, 0.5, 0.0])
    reference = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    can = CANCalibrator(_given(3), prior=prior, threshold=0.5, alpha=1.0, n_iter=3).fit(
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
    can_zero = CANCalibrator(_given(3), prior=prior, threshold=0.5, alpha=1.0).fit(
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
        AnalyticLogisticRegression(),
        prior=prior,
        cv=3,
        threshold=0.3,
        alpha=1.0,
        n_iter=2,
    ).fit(X, y, w)
    can.predict_proba(X)
    can.predict(X)
    for original, copy in zip((X, y, w, prior), copies):
        assert_array_equal(original, copy)
    P = np.full((4, 3), 1 / 3)
    frozen = CANCalibrator(_given(3), threshold=0.5, alpha=1.0)
    frozen.fit(np.eye(3), [0, 1, 2])
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
            {"estimator": StandardScaler()},
            ValueError,
            "'estimator' parameter.*predict_proba.*decision_function",
        ),
    ],
)
def test_bad_input(params, error, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(error, match=match):
        CANCalibrator(**{"cv": 3, **params}).fit(X, y)


def test_bad_labels_and_folds():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(
        ValueError, match=r"y contains labels not in classes \[0, 1, 2\]: \[5\]"
    ):
        CANCalibrator(_given(3), threshold=0.9, alpha=1.0).fit(np.eye(3), [0, 1, 5])
    with pytest.raises(ValueError, match="Requesting 5-fold"):
        CANCalibrator().fit(X[:52], y[:52])


def test_float32_preserved():
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    can = CANCalibrator(
        AnalyticLogisticRegression(), threshold=0.3, alpha=1.0, cv=3
    ).fit(X, y)
    proba = can.predict_proba(X)
    assert proba.dtype == np.float32
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n_iter": 3, "alpha": 1.5},
        {"reference": "transductive"},
        {"threshold": "auto", "alpha": "auto"},
    ],
    ids=["closed-form", "n_iter3", "transductive", "searched"],
)
def test_array_api_matches_numpy(namespace, dtype_name, params):
    X, y = load_iris(return_X_y=True)
    can = CANCalibrator(
        AnalyticLogisticRegression(), cv=3, **{"threshold": 0.3, "alpha": 1.0, **params}
    )
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
    if params.get("threshold") == "auto":
        # The search ran on the namespace's arrays: same counts as on NumPy.
        reference = clone(can).fit(X, y).search_results_
        for key in ("n_fixed", "n_broken"):
            assert_array_equal(fitted.search_results_[key], reference[key])
    else:
        assert fitted.adjust_


@pytest.mark.parametrize(
    "X, y, sample_weight, match",
    [
        (np.empty((0, 4)), np.empty(0), None, "0 sample"),
        (
            np.empty((150, 0)),
            np.arange(150) % 3,
            None,
            r"0 feature\(s\) \(shape=\(150, 0\)",
        ),
        (
            None,
            None,
            np.ones(10),
            r"sample_weight must have shape \(150,\), got \(10,\)",
        ),
        (None, None, -np.ones(150), "sample_weight must be non-negative"),
        (None, None, np.zeros(150), "sample_weight sums to zero"),
        (None, None, np.r_[np.nan, np.ones(149)], "sample_weight contains NaN"),
    ],
    ids=["no-rows", "no-features", "weight-length", "negative", "zero", "nan"],
)
def test_input_checked_once_before_any_fold(X, y, sample_weight, match):
    # The errors name the user's shapes, and no fold is fitted first.
    class _CountingFit(LogisticRegression):
        n_fits = 0

        def fit(self, X, y, sample_weight=None):
            type(self).n_fits += 1
            return super().fit(X, y, sample_weight=sample_weight)

    iris_X, iris_y = load_iris(return_X_y=True)
    X = iris_X if X is None else X
    y = iris_y if y is None else y
    with pytest.raises(ValueError, match=match):
        CANCalibrator(_CountingFit()).fit(X, y, sample_weight)
    assert _CountingFit.n_fits == 0


def test_default_base_model_converges_on_unscaled_data():
    # breast_cancer's raw features span 5 orders of magnitude: lbfgs on them
    # needs thousands of iterations without scaling.
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning

    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(ConvergenceWarning):
        LogisticRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        can = CANCalibrator().fit(X, y)
    reference = make_pipeline(StandardScaler(), LogisticRegression())
    assert_allclose(
        can.estimator_.predict_proba(X), reference.fit(X, y).predict_proba(X)
    )


def test_predict_log_proba_is_log_of_predict_proba():
    prior = np.array([0.5, 0.5, 0.0])
    reference = np.eye(3)
    can = CANCalibrator(_given(3), prior=prior, threshold=0.5, alpha=1.0)
    can.fit(reference, [0, 1, 2])
    P = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    proba = can.predict_proba(P)
    assert np.any(proba == 0)
    log_proba = can.predict_log_proba(P)
    positive = proba > 0
    assert_allclose(log_proba[positive], np.log(proba[positive]), rtol=1e-15)
    # An exact zero gives a finite log, as LinearDiscriminantAnalysis does.
    assert_array_equal(log_proba[~positive], np.log(np.finfo(np.float64).tiny))


def test_metadata_routing_groups_to_splitter_weights_to_estimator():
    from sklearn import config_context
    from sklearn.model_selection import GroupKFold

    X, y = load_iris(return_X_y=True)
    groups = np.arange(150) % 7
    w = np.linspace(0.5, 2.0, 150)
    with config_context(enable_metadata_routing=True):
        base = LogisticRegression(max_iter=1000).set_fit_request(sample_weight=True)
        can = CANCalibrator(base, cv=GroupKFold(3), threshold=0.9, alpha=1.0)
        can.fit(X, y, groups=groups, sample_weight=w)
        # Without the weights requested by the base, they stay with the
        # calibrator (class prior) and do not reach LogisticRegression.fit.
        unweighted = LogisticRegression(max_iter=1000).set_fit_request(
            sample_weight=False
        )
        plain = CANCalibrator(unweighted, cv=GroupKFold(3), threshold=0.9, alpha=1.0)
        plain.fit(X, y, groups=groups, sample_weight=w)
    # Reference: the same folds and fits written out with scikit-learn.
    folds = list(GroupKFold(3).split(X, y, groups))
    oof = cross_val_predict(
        LogisticRegression(max_iter=1000),
        X,
        y,
        cv=folds,
        method="predict_proba",
        params={"sample_weight": w},
    )
    assert_allclose(can.reference_, oof[_top_k_uncertainty(oof, 3) < 0.9], rtol=1e-6)
    full = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=w)
    assert_allclose(can.estimator_.coef_, full.coef_, rtol=1e-6)
    assert_allclose(can.prior_, np.bincount(y, weights=w) / w.sum())
    unweighted_full = LogisticRegression(max_iter=1000).fit(X, y)
    assert_allclose(plain.estimator_.coef_, unweighted_full.coef_, rtol=1e-6)
    assert_allclose(plain.prior_, np.bincount(y, weights=w) / w.sum())


def test_metadata_routing_request_lists_estimator_and_splitter():
    from sklearn.model_selection import GroupKFold

    routing = CANCalibrator(LogisticRegression(), cv=GroupKFold(3))
    routing = routing.get_metadata_routing()
    assert "groups" in routing.consumes("fit", ["groups", "sample_weight"])


@pytest.mark.parametrize("routing", [False, True])
def test_default_base_model_is_weighted(routing):
    from sklearn import config_context

    X, y = load_iris(return_X_y=True)
    w = np.linspace(0.2, 3.0, 150)
    with config_context(enable_metadata_routing=routing):
        can = CANCalibrator(cv=3).fit(X, y, sample_weight=w)
    scaler = StandardScaler().fit(X, sample_weight=w)
    reference = LogisticRegression().fit(scaler.transform(X), y, sample_weight=w)
    assert_allclose(can.estimator_[-1].coef_, reference.coef_, rtol=1e-6)


def test_predict_log_proba_on_dask_matches_numpy():
    da = pytest.importorskip("dask.array")
    X, y = load_iris(return_X_y=True)
    can = CANCalibrator(AnalyticLogisticRegression(), cv=3, threshold=0.3, alpha=1.0)
    can.fit(X, y)
    lazy = can.predict_log_proba(da.from_array(X, chunks=(40, -1)))
    assert isinstance(lazy, da.Array)
    assert_allclose(lazy.compute(scheduler="sync"), can.predict_log_proba(X))
    assert_allclose(np.exp(can.predict_log_proba(X)), can.predict_proba(X))


# ------------------------------------------------- bases with decision_function
@pytest.mark.parametrize(
    "base",
    [
        LinearSVC(),
        RidgeClassifier(),
        SGDClassifier(loss="hinge", random_state=0),
    ],
    ids=["LinearSVC", "RidgeClassifier", "SGDClassifier-hinge"],
)
@pytest.mark.parametrize("binary", [False, True])
def test_decision_function_base_matches_temperature_scaling(base, binary):
    # scikit-learn's temperature scaling with ensemble=False fits the same
    # temperature on the same out-of-fold scores and refits on all the data.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if binary:
        y = (y == 1).astype(int)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    can = CANCalibrator(base, cv=folds, threshold=0.9, alpha=1.0).fit(X, y)
    reference = CalibratedClassifierCV(
        base, method="temperature", ensemble=False, cv=folds
    ).fit(X, y)
    assert_allclose(
        can.estimator_.predict_proba(X), reference.predict_proba(X), atol=1e-6
    )
    assert can.temperature_ > 0
    # The reference set is made of the softmaxes of the out-of-fold scores.
    scores = cross_val_predict(base, X, y, cv=folds, method="decision_function")
    if binary:
        scores = np.c_[np.zeros_like(scores), scores]
    oof = softmax(scores / can.temperature_, axis=1)
    assert_allclose(can.reference_, oof[_top_k_uncertainty(oof, 3) < 0.9])
    assert_array_equal(can.estimator_.predict(X), can.estimator_.estimator.predict(X))
    proba = can.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)


def test_temperature_minimises_the_log_loss():
    # The fitted temperature against a dense grid of the same objective.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    w = np.linspace(0.5, 2.0, 150)
    can = CANCalibrator(LinearSVC(), cv=3, threshold=0.9, alpha=1.0)
    can.fit(X, y, sample_weight=w)
    scores = cross_val_predict(
        LinearSVC(), X, y, cv=3, method="decision_function", params={"sample_weight": w}
    )
    grid = np.exp(np.linspace(-4, 4, 4001))
    losses = [
        np.average(-np.log(softmax(scores / t, axis=1)[np.arange(150), y]), weights=w)
        for t in grid
    ]
    assert can.temperature_ == pytest.approx(grid[np.argmin(losses)], rel=3e-3)


def test_frozen_decision_function_base_fits_temperature_on_held_out_rows():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    svc = make_pipeline(StandardScaler(), LinearSVC()).fit(X_train, y_train)
    can = CANCalibrator(FrozenEstimator(svc), threshold=0.9, alpha=1.0)
    can.fit(X_test, y_test)
    reference = CalibratedClassifierCV(FrozenEstimator(svc), method="temperature").fit(
        X_test, y_test
    )
    assert_allclose(
        can.estimator_.predict_proba(X), reference.predict_proba(X), atol=1e-6
    )


# ----------------------------------------------------- errors that name the cause
def test_huge_and_tiny_features_fit_as_the_unscaled_data():
    # Standardisation does not depend on the units: X * 1e200 and X * 1e-300
    # give the same model as X (their squares overflow or underflow float64).
    X, y = load_iris(return_X_y=True)
    reference = CANCalibrator(cv=3, threshold=0.9, alpha=1.0).fit(X, y)
    for factor in (1e200, 1e300, 1e-100, 1e-300):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            can = CANCalibrator(cv=3, threshold=0.9, alpha=1.0).fit(X * factor, y)
            proba = can.predict_proba(X * factor)
        assert_allclose(proba, reference.predict_proba(X), rtol=1e-6, atol=1e-9)


def test_huge_sample_weights_weight_the_default_model():
    # Weights of 1e300 overflow StandardScaler's weighted sums; the weighted
    # mean and variance do not depend on the scale of the weights, while
    # LogisticRegression's fit does (the weighted loss against the penalty).
    X, y = make_classification(
        300, n_features=4, flip_y=0.2, class_sep=0.5, random_state=0
    )
    w = np.full(300, 1e300)
    w[::3] = 3e299
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        can = CANCalibrator(cv=3, threshold=0.9, alpha=1.0).fit(X, y, sample_weight=w)
    X_max = X / np.abs(X).max(axis=0)
    scaler = StandardScaler().fit(X_max, sample_weight=w / 1e300)
    assert_allclose(can.estimator_[1].scale_, scaler.scale_)
    model = LogisticRegression().fit(scaler.transform(X_max), y, sample_weight=w)
    assert_allclose(can.estimator_[-1].coef_, model.coef_, rtol=1e-5)
    assert_allclose(can.prior_, np.bincount(y, weights=w / 1e300) / (w / 1e300).sum())
    # The search's own use of the weights, on fixed base probabilities: the
    # weights' scale changes neither its evidence nor its choice.
    P = CANCalibrator(cv=3).fit(X, y).estimator_.predict_proba(X)
    P = np.c_[P, np.zeros(300)]
    y3 = np.where(P[:, 0] > 0.9, 2, y)
    searched = CANCalibrator(_given(3), cv=3).fit(P, y3, sample_weight=w)
    unit = CANCalibrator(_given(3), cv=3).fit(P, y3, sample_weight=w / 1e300)
    assert np.all(np.isfinite(searched.search_results_["gain_lower_bound"]))
    assert_allclose(
        searched.search_results_["gain_lower_bound"],
        unit.search_results_["gain_lower_bound"],
    )
    assert_allclose(
        searched.search_results_["n_fixed"], unit.search_results_["n_fixed"] * 1e300
    )


def test_sparse_input_with_the_default_base_model():
    from scipy.sparse import csr_matrix
    from scipy.sparse import random as sparse_random
    from sklearn.preprocessing import MaxAbsScaler

    rng = np.random.default_rng(0)
    X = sparse_random(600, 40, density=0.1, format="csr", random_state=0).toarray()
    y = np.argmax(X @ rng.normal(size=(40, 3)) + rng.normal(size=(600, 3)), axis=1)
    can = CANCalibrator(cv=3, threshold=0.9, alpha=1.0).fit(csr_matrix(X), y)
    # Scaled without centring, which would densify the matrix.
    reference = make_pipeline(
        MaxAbsScaler(), StandardScaler(with_mean=False), LogisticRegression()
    ).fit(X, y)
    assert_allclose(
        can.estimator_.predict_proba(csr_matrix(X)),
        reference.predict_proba(X),
        rtol=1e-6,
        atol=1e-9,
    )
    assert can.predict_proba(csr_matrix(X)).shape == (600, 3)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.ones((1, 3)), [0], r"at least 2 classes in y.*1 class: 0"),
        (np.ones((10, 3)), ["a"] * 10, r"at least 2 classes in y.*1 class: 'a'"),
        (np.r_[[[np.nan, 1.0]], np.ones((9, 2))], [0, 1] * 5, "X contains NaN"),
        (np.r_[[[np.inf, 1.0]], np.ones((9, 2))], [0, 1] * 5, "X contains infinity"),
        (np.ones((10, 3)), [0, 1] * 4, r"inconsistent numbers of samples: \[10, 8\]"),
        (np.ones((10, 3)), np.r_[np.nan, [0.0, 1.0] * 4, 1.0], "Input y contains NaN"),
        (np.arange(10.0), [0, 1] * 5, "Expected 2D array, got 1D array"),
        (np.ones((10, 2, 2)), [0, 1] * 5, "dim 3, while dim <= 2 is required by CAN"),
        (np.array([["a", "b"]] * 10), [0, 1] * 5, "not compatible with.*strings"),
        (np.empty((0, 3)), [], "0 sample.*required by CANCalibrator"),
    ],
    ids=[
        "one-row",
        "one-class",
        "nan",
        "inf",
        "lengths",
        "nan-label",
        "1d",
        "3d",
        "strings",
        "empty",
    ],
)
def test_fit_errors_name_the_users_problem(X, y, match):
    with warnings.catch_warnings(), pytest.raises(ValueError, match=match) as error:
        # A clear error, not a NumPy warning on the way to it.
        warnings.simplefilter("error", RuntimeWarning)
        CANCalibrator().fit(X, y)
    assert "fold" not in str(error.value)


def test_predict_with_the_wrong_width_names_the_calibrator():
    X, y = load_iris(return_X_y=True)
    can = CANCalibrator(cv=3).fit(X, y)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(
            ValueError, match="X has 3 features, but CANCalibrator is expecting 4"
        ):
            getattr(can, method)(X[:, :3])


# ------------------------------------------------------------------- warnings
def test_warnings_have_a_category_and_point_at_the_caller():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_iris(return_X_y=True)
    with pytest.warns(UserWarning, match="does not accept sample_weight") as record:
        CANCalibrator(KNeighborsClassifier(), cv=3).fit(
            X, y, sample_weight=np.ones(150)
        )
    assert record[0].filename == __file__
    # Every row is doubtful at threshold 0.01: no reference set.
    with pytest.warns(UserWarning, match="reference set is empty") as record:
        CANCalibrator(_given(3), threshold=0.01, alpha=1.0).fit(
            np.full((3, 3), 1 / 3), [0, 1, 2]
        )
    assert record[0].filename == __file__


# ----------------------------------------------------------------------- dask
@pytest.mark.parametrize(
    "params",
    [{"threshold": 0.5, "alpha": 1.0}, {}, {"n_iter": 2, "prior": [0.5, 0.3, 0.2]}],
    ids=["fixed", "searched", "n_iter2-prior"],
)
def test_dask_fit_equals_numpy_fit(params):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y = load_iris(return_X_y=True)
    X = X + 50.0
    w = np.linspace(0.5, 2.0, 150)
    can = CANCalibrator(AnalyticLogisticRegression(), cv=3, **params)
    reference = clone(can).fit(X, y, sample_weight=w)
    with dask.config.set(scheduler="sync"):
        fitted = clone(can).fit(
            da.from_array(X, chunks=(40, -1)),
            da.from_array(y, chunks=40),
            sample_weight=da.from_array(w, chunks=40),
        )
        lazy = fitted.predict_proba(da.from_array(X, chunks=(40, -1)))
        assert isinstance(lazy, da.Array)
        proba = lazy.compute()
    assert_allclose(fitted.estimator_.coef_, reference.estimator_.coef_, rtol=1e-9)
    assert_allclose(fitted.reference_, reference.reference_, rtol=1e-9, atol=1e-12)
    assert_allclose(fitted.prior_, reference.prior_)
    assert fitted.adjust_ == reference.adjust_
    assert (fitted.alpha_, fitted.threshold_) == (
        reference.alpha_,
        reference.threshold_,
    )
    assert_allclose(proba, reference.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_dask_fit_on_a_local_cluster_equals_numpy_fit():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, y = load_iris(return_X_y=True)
    can = CANCalibrator(AnalyticLogisticRegression(), cv=3)
    reference = clone(can).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=False,
            threads_per_worker=1,
            # A free port: a busy 8787 would only give a warning.
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster),
    ):
        fitted = clone(can).fit(
            da.from_array(X, chunks=(50, -1)), da.from_array(y, chunks=50)
        )
        proba = fitted.predict_proba(da.from_array(X, chunks=(50, -1))).compute()
    assert_array_equal(
        fitted.search_results_["n_fixed"], reference.search_results_["n_fixed"]
    )
    assert_allclose(proba, reference.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_dask_fit_without_a_dask_base_is_refused_clearly():
    da = pytest.importorskip("dask.array")
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="default base model.*AnalyticLogistic"):
        CANCalibrator().fit(da.from_array(X, chunks=50), y)


# -------------------------------------------------------------------- threads
@pytest.mark.parametrize("blas_threads, expected", [(1, 1), (None, 2)])
def test_fold_fits_run_under_the_blas_thread_limit(blas_threads, expected):
    from threadpoolctl import threadpool_info, threadpool_limits

    class _Recording(LogisticRegression):
        seen = []

        def fit(self, X, y, sample_weight=None):
            pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
            type(self).seen.append(max(p["num_threads"] for p in pools))
            return super().fit(X, y, sample_weight=sample_weight)

    X, y = load_iris(return_X_y=True)
    with threadpool_limits(limits=2, user_api="blas"):
        CANCalibrator(_Recording(max_iter=1000), cv=3, blas_threads=blas_threads).fit(
            X, y
        )
    assert _Recording.seen == [expected] * 4
