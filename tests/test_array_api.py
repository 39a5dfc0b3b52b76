"""AnalyticLogisticRegression on array-API namespaces gives the NumPy results.

The other estimators carry the same check in their own test files, built on
``tests/array_api_helpers.py``.
"""

# SPDX-License-Identifier: BSD-3-Clause

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
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.datasets import make_classification

from skprob import AnalyticLogisticRegression
from skprob._backend import to_numpy

ATTRIBUTES = ("coef_", "intercept_", "means_", "covariance_", "priors_")
METHODS = ("decision_function", "predict_proba", "predict_log_proba")


def _data(n_classes):
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
    X, y = _data(n_classes)
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
    X, y = _data(3)
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
    X, y = _data(3)
    clf64 = AnalyticLogisticRegression().fit(X, y)
    clf32 = AnalyticLogisticRegression().fit(X.astype(np.float32), y)
    proba32 = clf32.predict_proba(X.astype(np.float32))
    assert clf32.coef_.dtype == np.float32 and proba32.dtype == np.float32
    assert_allclose(proba32, clf64.predict_proba(X), atol=1e-4)
