"""Sparse and wide data: every solver gives the model of the dense covariance path."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.covariance import ledoit_wolf_shrinkage, oas
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression


def _sparse_problem(n_samples, n_features, n_classes, density=0.3, seed=0):
    X, y = make_classification(
        n_samples,
        n_features,
        n_informative=min(n_features, 8),
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    X[rng.uniform(size=X.shape) > density] = 0.0
    weights = rng.uniform(0.5, 2.0, n_samples)
    return X, y, weights


def _relative(actual, expected):
    return np.max(np.abs(actual - expected)) / np.max(np.abs(expected))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"shrinkage": "oas"},
        {"shrinkage": 0.3, "covariance": "pooled"},
        {"temperature": "auto"},
        {"refine_iter": 100, "refine_tol": 1e-8},
        {"solver": "gram", "shrinkage": "ledoit-wolf"},
        {"solver": "gram", "shrinkage": None, "fit_intercept": False},
        {"solver": "cg", "shrinkage": 0.2, "temperature": "auto"},
    ],
)
def test_sparse_fit_equals_dense_fit(params, n_classes, fmt):
    X, y, w = _sparse_problem(240, 30, n_classes)
    dense = AnalyticLogisticRegression(**params).fit(X, y, sample_weight=w)
    sparse = AnalyticLogisticRegression(**params).fit(
        sp.csr_array(X).asformat(fmt), y, sample_weight=w
    )
    assert _relative(sparse.coef_, dense.coef_) < 1e-10
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10, atol=1e-12)
    assert_allclose(
        sparse.predict_proba(sp.csr_array(X)), dense.predict_proba(X), atol=1e-12
    )
    assert_allclose(sparse.temperature_, dense.temperature_, rtol=1e-10)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_duplicate_entries_count_as_their_sum(fmt):
    # each stored value split in two entries at the same position: the class
    # variances must square the sums, not add the squares
    X, y, w = _sparse_problem(200, 30, 3)
    canonical = sp.csr_array(X).asformat(fmt)
    half = canonical.data / 2
    pointers = 2 * canonical.indptr
    indices = np.repeat(canonical.indices, 2)
    split = type(canonical)(
        (np.repeat(half, 2), indices, pointers), shape=canonical.shape
    )
    assert not split.has_canonical_format
    stored = split.data.copy()
    for model in [
        AnalyticLogisticRegression(solver="cg"),
        AnalyticLogisticRegression(solver="gram", temperature="auto"),
        AccuracyOptimizedLinear(),
    ]:
        dense = clone(model).fit(X, y, sample_weight=w)
        sparse = clone(model).fit(split, y, sample_weight=w)
        assert _relative(sparse.coef_, dense.coef_) < 1e-8
    assert_allclose(split.data, stored)
    assert not split.has_canonical_format


def test_sparse_partial_fit_equals_dense_fit_and_keeps_input():
    X, y, w = _sparse_problem(300, 20, 3)
    X_sparse = sp.csr_array(X)
    before = X_sparse.copy()
    model = AnalyticLogisticRegression(shrinkage="oas")
    for start in range(0, 300, 70):
        rows = slice(start, start + 70)
        model.partial_fit(
            X_sparse[rows], y[rows], classes=[0, 1, 2], sample_weight=w[rows]
        )
    reference = AnalyticLogisticRegression(shrinkage="oas").fit(X, y, sample_weight=w)
    assert _relative(model.coef_, reference.coef_) < 1e-10
    assert (X_sparse != before).nnz == 0


@pytest.mark.parametrize("covariance", ["mean", "pooled"])
@pytest.mark.parametrize("shrinkage", [None, 0.4, "oas", "ledoit-wolf"])
@pytest.mark.parametrize("shape", [(40, 120, 3), (80, 20, 2)])
def test_gram_solver_equals_covariance_solver(shape, shrinkage, covariance):
    n_samples, n_features, n_classes = shape
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.1, 10, n_features)
    X[:, 3] = 2.5  # constant: zero coefficient on both paths
    y = np.arange(n_samples) % n_classes
    X[y == 1, :5] += 1.0
    w = rng.uniform(0.5, 2.0, n_samples)
    params = dict(shrinkage=shrinkage, covariance=covariance)
    primal = AnalyticLogisticRegression(solver="covariance", **params).fit(X, y, w)
    dual = AnalyticLogisticRegression(solver="gram", **params).fit(X, y, w)
    assert _relative(dual.coef_, primal.coef_) < 1e-10
    assert_allclose(dual.intercept_, primal.intercept_, rtol=1e-10, atol=1e-10)
    assert_allclose(dual.shrinkage_, primal.shrinkage_, rtol=1e-10)
    assert_allclose(dual.coef_[:, 3], 0.0, atol=1e-15)


def test_shrinkage_rules_match_sklearn_on_the_gram_path():
    # one class: the pooled within-class scatter is the centred data's
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 90)) @ rng.normal(size=(90, 90))
    y = np.zeros(30, dtype=int)
    y[::2] = 1
    X[y == 1] += 0.0  # same mean for both classes
    standardised = X - np.where(y[:, None] == 1, X[y == 1].mean(0), X[y == 0].mean(0))
    standardised = standardised / standardised.std(axis=0)
    for rule, expected in [
        ("ledoit-wolf", ledoit_wolf_shrinkage(standardised, assume_centered=True)),
        ("oas", oas(standardised, assume_centered=True)[1]),
    ]:
        model = AnalyticLogisticRegression(
            solver="gram", shrinkage=rule, covariance="pooled"
        ).fit(X, y)
        assert_allclose(model.shrinkage_, expected, rtol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_cg_solver_equals_direct_solver(n_classes):
    X, y, w = _sparse_problem(150, 400, n_classes, density=0.05)
    direct = AnalyticLogisticRegression(solver="gram", shrinkage=0.1).fit(X, y, w)
    iterative = AnalyticLogisticRegression(solver="cg", shrinkage=0.1).fit(
        sp.csr_array(X), y, w
    )
    # a relative residual of 1e-8 on a system whose condition number is at
    # most 1 / 0.1 times the largest eigenvalue
    assert _relative(iterative.coef_, direct.coef_) < 1e-6
    assert_allclose(iterative.intercept_, direct.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_cg_shrinkage_estimate_is_close_to_the_exact_intensity(seed):
    # Hutch++ with 16 sketch and 16 residual probes: within 7.5% of the exact
    # intensity on seeds 0 to 3 of this problem; 15% leaves room for the
    # estimator's spread on a flat residual spectrum
    X, y, w = _sparse_problem(200, 500, 3, density=0.05, seed=seed)
    for rule in ["oas", "ledoit-wolf"]:
        exact = AnalyticLogisticRegression(solver="gram", shrinkage=rule).fit(X, y, w)
        estimated = AnalyticLogisticRegression(solver="cg", shrinkage=rule).fit(
            sp.csr_array(X), y, w
        )
        assert abs(estimated.shrinkage_ - exact.shrinkage_) < 0.15 * exact.shrinkage_


@pytest.mark.parametrize("solver", ["gram", "cg"])
def test_feature_units_do_not_change_predictions(solver):
    X, y, _ = _sparse_problem(100, 300, 3, density=0.1)
    scales = np.random.default_rng(3).choice([1e-3, 1.0, 1e4], size=300)
    base = AnalyticLogisticRegression(solver=solver).fit(sp.csr_array(X), y)
    scaled = AnalyticLogisticRegression(solver=solver).fit(sp.csr_array(X * scales), y)
    assert_allclose(scaled.coef_ * scales, base.coef_, rtol=1e-6, atol=1e-12)
    assert_allclose(
        scaled.predict_proba(sp.csr_array(X * scales)),
        base.predict_proba(sp.csr_array(X)),
        atol=1e-8,
    )


def test_wide_default_is_the_gram_form_with_ledoit_wolf():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 5000))
    y = np.arange(10) % 2
    model = AnalyticLogisticRegression().fit(X, y)
    assert model.covariance_ is None
    reference = AnalyticLogisticRegression(
        solver="covariance", shrinkage="ledoit-wolf"
    ).fit(X[:, :400], y)
    small = AnalyticLogisticRegression().fit(X[:, :400], y)
    assert_allclose(small.coef_, reference.coef_, rtol=1e-10)
    tall = AnalyticLogisticRegression().fit(X[:, :5], y)
    assert tall.shrinkage_ == 0.0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparse_refinement_reaches_logistic_regression(n_classes):
    X, y, w = _sparse_problem(300, 60, n_classes, density=0.2)
    model = AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-10, C=0.5)
    model.fit(sp.csr_array(X), y, sample_weight=w)
    reference = LogisticRegression(
        C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y, sample_weight=w)
    assert _relative(model.coef_, reference.coef_) < 1e-6
    assert_allclose(model.intercept_, reference.intercept_, rtol=1e-6, atol=1e-7)


def test_sparse_refinement_with_many_features_uses_no_dense_hessian():
    # 3 x 5001 unknowns: truncated Newton with the diagonal preconditioner
    X, y, _ = _sparse_problem(400, 5000, 3, density=0.004)
    model = AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-6, C=0.1)
    model.fit(sp.csr_array(X), y)
    reference = LogisticRegression(C=0.1, tol=1e-10, max_iter=10_000).fit(
        sp.csr_array(X), y
    )
    assert _relative(model.coef_, reference.coef_) < 1e-4


def test_cg_memory_stays_near_the_input():
    # a d x d float64 matrix here would take 1.6 GB
    rng = np.random.default_rng(5)
    n_samples, n_features = 2000, 14_000
    X = sp.random_array(
        (n_samples, n_features), density=20 / n_features, format="csr", rng=rng
    )
    y = rng.integers(0, 3, n_samples)
    input_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    tracemalloc.start()
    model = AnalyticLogisticRegression(solver="cg").fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the K-column vectors of d entries and the Hutch++ sketches dominate
    assert peak < 4 * input_bytes + 50e6
    assert model.covariance_ is None


def test_refinement_memory_is_a_few_vectors_of_the_unknowns():
    # text-like: more rows than the row-space preconditioner takes, so the
    # refinement runs truncated Newton with the diagonal preconditioner
    rng = np.random.default_rng(5)
    n_samples, n_features, n_classes = 6000, 30_000, 10
    X = sp.random_array(
        (n_samples, n_features), density=20 / n_features, format="csr", rng=rng
    )
    signal = X @ rng.normal(size=(n_features, n_classes))
    y = np.argmax(5 * signal + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    reference = AnalyticLogisticRegression(refine_iter=100).fit(X, y)
    model = AnalyticLogisticRegression().fit(X, y)
    model.set_params(refine_iter=100)
    tracemalloc.start()
    # the refinement alone: the closed form above has its own bound
    model._refine(X, y, np.ones(n_samples))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert_array_equal(model.coef_, reference.coef_)
    vector_bytes = 8 * n_classes * (n_features + 1)
    scores_bytes = 8 * n_samples * n_classes
    input_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    # the iterate, its gradient, and conjugate gradients' step, residual,
    # search direction and product, plus a slice of a sparse product; the
    # scores, probabilities and a few (n, K) temporaries; a copy of X's values
    assert peak < 8 * vector_bytes + 6 * scores_bytes + input_bytes


def test_row_solvers_refuse_what_they_cannot_do():
    X, y, _ = _sparse_problem(60, 200, 2)
    with pytest.raises(ValueError, match="shrinkage > 0"):
        AnalyticLogisticRegression(solver="cg", shrinkage=None).fit(X, y)
    with pytest.raises(ValueError, match="fourth moments"):
        AnalyticLogisticRegression(solver="covariance", shrinkage="ledoit-wolf").fit(
            sp.csr_array(X), y
        )
    model = AnalyticLogisticRegression(solver="gram").fit(X, y)
    with pytest.raises(ValueError, match="cannot continue this fit"):
        model.partial_fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_accuracy_optimized_linear_sparse_equals_dense(fmt):
    X, y, w = _sparse_problem(400, 25, 3)
    dense = AccuracyOptimizedLinear().fit(X, y, sample_weight=w)
    sparse = AccuracyOptimizedLinear().fit(
        sp.csr_array(X).asformat(fmt), y, sample_weight=w
    )
    assert _relative(sparse.coef_, dense.coef_) < 1e-10
    assert_allclose(
        sparse.predict_proba(sp.csr_array(X)), dense.predict_proba(X), atol=1e-10
    )


def test_accuracy_optimized_linear_on_wide_data_starts_from_the_wide_default():
    X, y, w = _sparse_problem(60, 800, 2, density=0.2)
    _, _, _, _, start = AccuracyOptimizedLinear()._analytic_starts(
        sp.csr_array(X), y, w, 2
    )
    reference = AnalyticLogisticRegression().fit(X, y, sample_weight=w)
    assert _relative(start.coef, reference.coef_) < 1e-10
    assert_allclose(start.intercept, reference.intercept_, rtol=1e-10)
    assert reference.shrinkage_ > 0


def test_sparse_float32_moments_keep_the_digits_of_an_offset_column():
    # the uncentred scatter X^T W X - n mu mu^T cancels most digits of a column
    # whose mean is 300 times its spread: computed in float64, the sparse fit
    # matches the dense float32 fit (centred in float32) to float32 precision
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    X[:, 2] += 300.0
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    y = rng.integers(0, 2, 400)
    X32 = X.astype(np.float32)
    dense = AnalyticLogisticRegression().fit(X32, y)
    sparse = AnalyticLogisticRegression().fit(sp.csr_array(X32), y)
    assert sparse.coef_.dtype == np.float32
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-4)
