"""TransformedProbaClassifier against the composition written out by hand.

References: the classifier and transformer fitted and applied step by step
(sklearn's cross_val_predict for the out-of-fold variant), SciPy's entropy for
the learned target, the closed-form binary Gaussian argmax probability, and a
grid search scored fold by fold with sklearn's log_loss.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from array_api_helpers import NAMESPACE_DTYPES, check_namespace_matches_numpy
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skprob import (
    AnalyticLogisticRegression,
    ArgmaxProbabilityTransformer,
    EntropyNormalizer,
    TransformedProbaClassifier,
    entropy_normalize,
)


@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)


def _base():
    return LogisticRegression(max_iter=1000)


def test_in_sample_equals_manual_composition(iris_split):
    X_train, X_test, y_train, _ = iris_split
    clf = TransformedProbaClassifier(_base(), transformer=EntropyNormalizer())
    clf.fit(X_train, y_train)

    base = _base().fit(X_train, y_train)
    normalizer = EntropyNormalizer().fit(base.predict_proba(X_train))
    expected = normalizer.transform(base.predict_proba(X_test))

    assert_allclose(clf.predict_proba(X_test), expected, rtol=0, atol=1e-12)
    assert_allclose(clf.predict_log_proba(X_test), np.log(expected), rtol=1e-12)
    assert_array_equal(clf.predict(X_test), base.classes_[expected.argmax(axis=1)])
    assert_array_equal(clf.classes_, base.classes_)
    assert_allclose(clf.estimator_.coef_, base.coef_)
    # the learned target is the mean entropy of the in-sample rows
    in_sample = stats.entropy(base.predict_proba(X_train), axis=1).mean()
    assert clf.transformer_.target_entropy_ == pytest.approx(in_sample, rel=1e-12)


def test_out_of_fold_equals_manual_composition(iris_split):
    X_train, X_test, y_train, _ = iris_split
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    clf = TransformedProbaClassifier(_base(), transformer=EntropyNormalizer(), cv=cv)
    clf.fit(X_train, y_train)

    oof = cross_val_predict(_base(), X_train, y_train, cv=cv, method="predict_proba")
    target = stats.entropy(oof, axis=1).mean()
    assert clf.transformer_.target_entropy_ == pytest.approx(target, rel=1e-12)
    base = _base().fit(X_train, y_train)
    assert_allclose(
        clf.predict_proba(X_test),
        entropy_normalize(base.predict_proba(X_test), target),
        rtol=0,
        atol=1e-12,
    )


def test_in_sample_target_is_lower_than_out_of_fold():
    # The documented leak: a random forest is far more confident on its own
    # training rows, so the in-sample mean entropy is the lower one.
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=4, n_classes=3, random_state=0
    )
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    targets = {
        cv: TransformedProbaClassifier(forest, transformer=EntropyNormalizer(), cv=cv)
        .fit(X, y)
        .transformer_.target_entropy_
        for cv in ("in-sample", 5)
    }
    assert targets["in-sample"] < 0.7 * targets[5]


def test_transformer_none_passes_probabilities_through(iris_split):
    X_train, X_test, y_train, _ = iris_split
    clf = TransformedProbaClassifier(_base()).fit(X_train, y_train)
    base = _base().fit(X_train, y_train)
    assert clf.transformer_ is None
    assert_allclose(clf.predict_proba(X_test), base.predict_proba(X_test))
    assert_array_equal(clf.predict(X_test), base.predict(X_test))


def test_decision_function_through_argmax_transformer():
    # Binary scores s with i.i.d. N(0, 1) noise on both classes:
    # P(class 1) = P(s + e1 > e0) = Phi(s / sqrt(2)).
    X, y = make_classification(n_samples=200, n_features=5, random_state=1)
    labels = np.array(["neg", "pos"])[y]
    clf = TransformedProbaClassifier(
        LinearSVC(),
        transformer=ArgmaxProbabilityTransformer(noise="gaussian"),
        response_method="decision_function",
    ).fit(X, labels)
    scores = LinearSVC().fit(X, labels).decision_function(X)
    proba = clf.predict_proba(X)
    assert_allclose(proba[:, 1], stats.norm.cdf(scores / np.sqrt(2)), atol=1e-10)
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert_array_equal(clf.classes_, ["neg", "pos"])
    assert_array_equal(clf.predict(X), np.where(scores > 0, "pos", "neg"))


def test_binary_decision_function_as_logits():
    # (0, s) as logits: q = softmax(g * (0, s)), so q1 = expit(g * s) lies on the
    # side of 1/2 that the sign of s says, with the target entropy in every row.
    X, y = make_classification(n_samples=200, n_features=5, random_state=2)
    clf = TransformedProbaClassifier(
        LinearSVC(),
        transformer=EntropyNormalizer(input="logits", target_entropy=0.4),
        response_method="decision_function",
    ).fit(X, y)
    scores = LinearSVC().fit(X, y).decision_function(X)
    proba = clf.predict_proba(X)
    assert_allclose(stats.entropy(proba, axis=1), 0.4, atol=1e-9)
    assert_array_equal(proba[:, 1] > 0.5, scores > 0)
    assert_array_equal(clf.predict(X), (scores > 0).astype(int))


def test_grid_search_tunes_transformer_parameter_in_pipeline():
    X, y = load_iris(return_X_y=True)
    targets = [0.05, 0.3, 0.8]
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    pipe = make_pipeline(
        StandardScaler(),
        TransformedProbaClassifier(_base(), transformer=EntropyNormalizer()),
    )
    param = "transformedprobaclassifier__transformer__target_entropy"
    search = GridSearchCV(pipe, {param: targets}, scoring="neg_log_loss", cv=cv).fit(
        X, y
    )

    # The same grid scored fold by fold with the function, not the estimator.
    manual = np.zeros(len(targets))
    for train, test in cv.split(X, y):
        scaler = StandardScaler().fit(X[train])
        base = _base().fit(scaler.transform(X[train]), y[train])
        P = base.predict_proba(scaler.transform(X[test]))
        for i, target in enumerate(targets):
            manual[i] -= log_loss(
                y[test], entropy_normalize(P, target), labels=[0, 1, 2]
            )
    manual /= cv.get_n_splits()
    assert_allclose(search.cv_results_["mean_test_score"], manual, rtol=1e-10)
    assert search.best_params_[param] == targets[int(np.argmax(manual))]
    assert (
        search.best_estimator_[-1].transformer_.target_entropy_
        == (search.best_params_[param])
    )


def test_nested_params_and_clone():
    clf = TransformedProbaClassifier(
        _base(), transformer=EntropyNormalizer(target_entropy=0.2)
    )
    params = clf.get_params()
    assert params["transformer__target_entropy"] == 0.2
    assert params["estimator__max_iter"] == 1000
    clf.set_params(transformer__target_entropy=0.7, estimator__C=3.0)
    assert clf.transformer.target_entropy == 0.7
    assert clone(clf).estimator.C == 3.0


def test_user_objects_and_inputs_not_modified(iris_split):
    X_train, _, y_train, _ = iris_split
    estimator, transformer = _base(), EntropyNormalizer()
    X_copy, y_copy = X_train.copy(), y_train.copy()
    TransformedProbaClassifier(estimator, transformer=transformer, cv=3).fit(
        X_train, y_train
    )
    assert not hasattr(estimator, "coef_")
    assert not hasattr(transformer, "target_entropy_")
    assert_array_equal(X_train, X_copy)
    assert_array_equal(y_train, y_copy)


def test_frozen_estimator_fits_only_the_transformer(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    base = _base().fit(X_train, y_train)
    clf = TransformedProbaClassifier(
        FrozenEstimator(base), transformer=EntropyNormalizer()
    ).fit(X_test, y_test)
    assert_allclose(clf.estimator_.coef_, base.coef_)
    held_out = stats.entropy(base.predict_proba(X_test), axis=1).mean()
    assert clf.transformer_.target_entropy_ == pytest.approx(held_out, rel=1e-12)


@pytest.mark.parametrize("cv", ["in-sample", 3])
def test_fit_params_reach_the_classifier(iris_split, cv):
    X_train, _, y_train, _ = iris_split
    weight = np.random.default_rng(0).uniform(0.5, 2.0, size=y_train.shape[0])
    clf = TransformedProbaClassifier(
        _base(), transformer=EntropyNormalizer(), cv=cv
    ).fit(X_train, y_train, sample_weight=weight)
    base = _base().fit(X_train, y_train, sample_weight=weight)
    assert_allclose(clf.estimator_.coef_, base.coef_)
    if cv == "in-sample":
        rows = base.predict_proba(X_train)
    else:
        # each fold's classifier sees the weights of its own training rows
        rows = cross_val_predict(
            _base(),
            X_train,
            y_train,
            cv=StratifiedKFold(cv),
            method="predict_proba",
            params={"sample_weight": weight},
        )
    # The transformer's fit takes the weights too.
    target = np.average(stats.entropy(rows, axis=1), weights=weight)
    assert clf.transformer_.target_entropy_ == pytest.approx(target, rel=1e-12)


@pytest.mark.parametrize("cv", ["in-sample", 3])
def test_zero_weights_equal_dropping_the_rows(iris_split, cv):
    X_train, X_test, y_train, _ = iris_split
    weight = np.ones(y_train.shape[0])
    weight[::4] = 0.0
    kept = weight > 0
    clf = TransformedProbaClassifier(_base(), transformer=EntropyNormalizer(), cv=cv)
    weighted = clone(clf).fit(X_train, y_train, sample_weight=weight)
    if cv == "in-sample":
        dropped = clone(clf).fit(X_train[kept], y_train[kept])
        assert_allclose(
            weighted.predict_proba(X_test), dropped.predict_proba(X_test), atol=1e-6
        )
    # Out of fold the folds differ once rows are dropped: the explicit
    # computation with the same folds instead.
    folds = None if cv == "in-sample" else StratifiedKFold(cv)
    base = _base().fit(X_train[kept], y_train[kept])
    rows = (
        base.predict_proba(X_train)
        if folds is None
        else cross_val_predict(
            _base(),
            X_train,
            y_train,
            cv=folds,
            method="predict_proba",
            params={"sample_weight": weight},
        )
    )
    target = stats.entropy(rows[kept], axis=1).mean()
    assert weighted.transformer_.target_entropy_ == pytest.approx(target, rel=1e-6)


class _WeightRecorder(EntropyNormalizer):
    """EntropyNormalizer whose fit records the sample_weight it receives."""

    def fit(self, X, y=None, sample_weight=None):
        self.seen_weight_ = sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def test_metadata_routing_to_classifier_transformer_and_splitter(iris_split):
    from sklearn import config_context
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.model_selection import GroupKFold

    X_train, _, y_train, _ = iris_split
    weight = np.linspace(0.5, 2.0, y_train.shape[0])
    groups = np.arange(y_train.shape[0]) % 5
    with config_context(enable_metadata_routing=True):
        clf = TransformedProbaClassifier(
            _base().set_fit_request(sample_weight=True),
            transformer=_WeightRecorder().set_fit_request(sample_weight=False),
            cv=GroupKFold(3),
        ).fit(X_train, y_train, sample_weight=weight, groups=groups)
        # A parameter that nothing requests is refused, as scikit-learn does.
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            TransformedProbaClassifier(_base(), transformer=EntropyNormalizer()).fit(
                X_train, y_train, sample_weight=weight
            )
    assert clf.transformer_.seen_weight_ is None
    rows = cross_val_predict(
        _base(),
        X_train,
        y_train,
        cv=list(GroupKFold(3).split(X_train, y_train, groups)),
        method="predict_proba",
        params={"sample_weight": weight},
    )
    target = stats.entropy(rows, axis=1).mean()
    assert clf.transformer_.target_entropy_ == pytest.approx(target, rel=1e-12)
    full = _base().fit(X_train, y_train, sample_weight=weight)
    assert_allclose(clf.estimator_.coef_, full.coef_)
    # The default classifier, built inside, requests the weights itself.
    with config_context(enable_metadata_routing=True):
        default = TransformedProbaClassifier(
            transformer=EntropyNormalizer().set_fit_request(sample_weight=False)
        ).fit(X_train, y_train, sample_weight=weight)
    plain = LogisticRegression().fit(X_train, y_train, sample_weight=weight)
    assert_allclose(default.estimator_.coef_, plain.coef_)
    routing = TransformedProbaClassifier(
        _base(), transformer=EntropyNormalizer(), cv=GroupKFold(3)
    ).get_metadata_routing()
    assert "groups" in routing.consumes("fit", ["groups", "sample_weight"])


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"transformer": PCA(n_components=1)},
            ValueError,
            r"has shape \(90, 1\).*one probability column per class, \(90, 3\)",
        ),
        (
            {"transformer": StandardScaler()},
            ValueError,
            "StandardScaler.transform contains negative probabilities",
        ),
        (
            {"response_method": "decision_function"},
            ValueError,
            "decision_function does not return probabilities",
        ),
        (
            {"estimator": LinearSVC(), "transformer": EntropyNormalizer()},
            ValueError,
            "LinearSVC has no predict_proba method.*response_method="
            "'decision_function'.*CalibratedClassifierCV",
        ),
        ({"cv": "out-of-fold"}, InvalidParameterError, "'cv' parameter"),
        ({"transformer": "entropy"}, InvalidParameterError, "'transformer' param"),
        ({"response_method": "predict"}, InvalidParameterError, "response_method"),
    ],
)
def test_bad_input(iris_split, params, error, match):
    X_train, _, y_train, _ = iris_split
    params = {"estimator": _base(), **params}
    with pytest.raises(error, match=match):
        TransformedProbaClassifier(**params).fit(X_train, y_train)


def test_nan_label_rejected_without_a_numpy_warning(iris_split):
    import warnings

    X_train, _, y_train, _ = iris_split
    y = y_train.astype(float)
    y[3] = np.nan
    with warnings.catch_warnings(), pytest.raises(ValueError, match="y contains NaN"):
        warnings.simplefilter("error", RuntimeWarning)
        TransformedProbaClassifier(_base()).fit(X_train, y)


def test_regression_target_rejected(iris_split):
    X_train, _, _, _ = iris_split
    y = np.linspace(0, 1, X_train.shape[0])
    with pytest.raises(ValueError, match="Unknown label type"):
        TransformedProbaClassifier(_base()).fit(X_train, y)


@pytest.mark.parametrize("cv", ["in-sample", 3])
@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_array_api_matches_numpy(namespace, dtype_name, cv):
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    fitted = check_namespace_matches_numpy(
        TransformedProbaClassifier(
            AnalyticLogisticRegression(), transformer=EntropyNormalizer(), cv=cv
        ),
        X,
        y,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("predict_proba", "predict_log_proba", "predict"),
    )
    assert fitted.__sklearn_tags__().array_api_support
