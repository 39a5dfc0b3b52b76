"""Dask scale-out of AnalyticLogisticRegression on a real distributed cluster.

The reference for every dask fit is the in-memory NumPy fit of the same data
(itself checked against the closed form in test_analytic.py): the dask fit
merges per-block moments, so it must reproduce it to rounding.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse
from data_helpers import offset_classification
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import chisquare
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression
from skprob._losses import PenalisedLogLoss
from skprob._moments import row_folds
from skprob._newton import RAY_SCALES

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

FITTED = [
    "coef_",
    "intercept_",
    "means_",
    "covariance_",
    "priors_",
    "class_weight_sums_",
]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


def _data(n_classes, n_samples=1500, n_features=7, seed=0):
    # far from the origin: the block means must be merged, not just summed
    return offset_classification(
        n_classes,
        n_samples=n_samples,
        n_features=n_features,
        n_informative=5,
        seed=seed,
    )


def _assert_same_fit(fitted, reference, rtol=1e-10):
    for name in FITTED:
        assert_allclose(
            getattr(fitted, name),
            getattr(reference, name),
            rtol=rtol,
            atol=rtol,
            err_msg=name,
        )
    assert_array_equal(fitted.classes_, reference.classes_)
    assert fitted.shrinkage_ == pytest.approx(reference.shrinkage_, rel=rtol, abs=rtol)
    assert fitted.n_features_in_ == reference.n_features_in_


@pytest.mark.parametrize(
    "n_classes, covariance, shrinkage",
    [(2, "mean", None), (3, "mean", "oas"), (4, "pooled", "ledoit-wolf")],
)
def test_dask_array_fit_equals_numpy_fit(client, n_classes, covariance, shrinkage):
    X, y = _data(n_classes)
    params = dict(covariance=covariance, shrinkage=shrinkage)
    reference = AnalyticLogisticRegression(**params).fit(X, y)
    # uneven row blocks, and features split over two column blocks
    row_chunks = (400, 1, 299, 500, 300)
    X_dask = da.from_array(X, chunks=(row_chunks, (4, 3)))
    y_dask = da.from_array(y, chunks=(row_chunks,))
    fitted = AnalyticLogisticRegression(**params).fit(X_dask, y_dask)
    _assert_same_fit(fitted, reference)
    assert isinstance(fitted.coef_, np.ndarray)
    assert_array_equal(fitted.predict(X), reference.predict(X))


def _worker_only_block(block):
    # Raises outside a worker, where get_worker() has none to return: the fit
    # must not compute blocks of X with a local scheduler.
    distributed.get_worker()
    return block.copy()


def _refuse(*args, **kwargs):
    raise AssertionError("X was materialised on the client")


def test_blocks_are_reduced_by_a_tree_on_the_workers(client, monkeypatch):
    X, y = _data(3, n_samples=2000)
    n_blocks = 20
    X_dask = da.from_array(X, chunks=(100, -1)).map_blocks(
        _worker_only_block, dtype=X.dtype, meta=np.empty((0, 0))
    )
    y_dask = da.from_array(y, chunks=100)
    monkeypatch.setattr(da.Array, "__array__", _refuse)
    monkeypatch.setattr(da.Array, "compute", _refuse)
    with distributed.get_task_stream(client=client) as stream:
        fitted = AnalyticLogisticRegression().fit(X_dask, y_dask)
    _assert_same_fit(fitted, AnalyticLogisticRegression().fit(X, y))

    workers = set(client.scheduler_info()["workers"])
    by_kind = {}
    for task in stream.data:
        kind = distributed.utils.key_split(task["key"])
        by_kind.setdefault(kind, []).append(task["worker"])
    assert len(by_kind["block_statistics"]) == n_blocks
    # 20 blocks merged 8 at a time: 3 merges, then 1 merging those 3
    assert len(by_kind["merge_statistics"]) == math.ceil(n_blocks / 8) + 1
    for kind in ("block_statistics", "merge_statistics"):
        assert set(by_kind[kind]) <= workers


def test_blocks_holding_one_class_each(client):
    # Sorted labels: most blocks see one class only, one block is empty; the
    # merge must align the per-block label sets.
    X, y = _data(4)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    chunks = (0, 300, 300, 300, 300, 300)
    X_dask = da.from_array(X, chunks=(chunks, -1))
    y_dask = da.from_array(y, chunks=(chunks,))
    fitted = AnalyticLogisticRegression(shrinkage="ledoit-wolf").fit(X_dask, y_dask)
    reference = AnalyticLogisticRegression(shrinkage="ledoit-wolf").fit(X, y)
    _assert_same_fit(fitted, reference)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sample_weight_dask_array(client, n_classes):
    X, y = _data(n_classes)
    weights = np.random.default_rng(0).integers(0, 4, size=y.shape[0]).astype(float)
    reference = AnalyticLogisticRegression().fit(X, y, sample_weight=weights)
    fitted = AnalyticLogisticRegression().fit(
        da.from_array(X, chunks=(250, -1)),
        da.from_array(y, chunks=250),
        sample_weight=da.from_array(weights, chunks=250),
    )
    _assert_same_fit(fitted, reference)
    # in-memory y and weights are split like X
    fitted = AnalyticLogisticRegression().fit(
        da.from_array(X, chunks=(250, -1)), y, sample_weight=weights
    )
    _assert_same_fit(fitted, reference)


def test_dask_dataframe_fit(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = _data(3)
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    labels = np.array(["cat", "dog", "eel"], dtype=object)[y]
    weights = 1.0 + np.arange(y.shape[0]) % 3
    frame["label"] = labels
    frame["weight"] = weights
    dask_frame = dd.from_pandas(frame, npartitions=6)

    fitted = AnalyticLogisticRegression().fit(
        dask_frame[columns], dask_frame["label"], sample_weight=dask_frame["weight"]
    )
    reference = AnalyticLogisticRegression().fit(
        frame[columns], labels, sample_weight=weights
    )
    _assert_same_fit(fitted, reference)
    assert_array_equal(fitted.feature_names_in_, columns)
    assert_array_equal(fitted.classes_, ["cat", "dog", "eel"])
    assert_array_equal(
        fitted.predict(frame[columns]), reference.predict(frame[columns])
    )
    assert_allclose(
        fitted.predict_proba(frame[columns]),
        reference.predict_proba(frame[columns]),
        rtol=1e-9,
        atol=1e-12,
    )
    with pytest.raises(TypeError, match="dask Series partitioned"):
        AnalyticLogisticRegression().fit(dask_frame[columns], labels)
    with pytest.raises(ValueError, match="same partitions"):
        AnalyticLogisticRegression().fit(
            dask_frame[columns], dask_frame["label"].repartition(npartitions=2)
        )


def test_float32_is_preserved(client):
    X, y = _data(3)
    X32 = X.astype(np.float32)
    fitted = AnalyticLogisticRegression().fit(
        da.from_array(X32, chunks=(300, -1)), da.from_array(y, chunks=300)
    )
    reference = AnalyticLogisticRegression().fit(X32, y)
    assert fitted.coef_.dtype == np.float32
    # float32 rounding differs with the merge order; the float64 fit is the truth
    truth = AnalyticLogisticRegression().fit(X, y)
    scale = np.max(np.abs(truth.coef_))
    error_dask = np.max(np.abs(fitted.coef_ - truth.coef_)) / scale
    error_numpy = np.max(np.abs(reference.coef_ - truth.coef_)) / scale
    assert error_dask < 1e-3
    assert error_dask < 10 * max(error_numpy, 1e-6)


def test_dask_ml_incremental_partial_fit(client):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = _data(3)
    reference = AnalyticLogisticRegression().fit(X, y)
    incremental = wrappers.Incremental(AnalyticLogisticRegression()).fit(
        da.from_array(X, chunks=(200, -1)),
        da.from_array(y, chunks=200),
        classes=np.unique(y),
    )
    _assert_same_fit(incremental.estimator_, reference)


def test_errors(client):
    X, y = _data(2)
    X_nan = X.copy()
    X_nan[1234, 3] = np.nan
    y_dask = da.from_array(y, chunks=500)
    with pytest.raises(ValueError, match="NaN"):
        AnalyticLogisticRegression().fit(da.from_array(X_nan, chunks=(500, -1)), y_dask)
    with pytest.raises(ValueError, match="at least 2 classes"):
        AnalyticLogisticRegression().fit(
            da.from_array(X, chunks=(500, -1)), da.zeros(y.shape[0], chunks=500)
        )
    unknown_rows = da.from_array(X, chunks=(500, -1))[da.from_array(y >= 0, chunks=500)]
    with pytest.raises(ValueError, match="cannot be aligned"):
        AnalyticLogisticRegression().fit(unknown_rows, da.from_array(y, chunks=300))
    with pytest.raises(ValueError, match="2-D"):
        AnalyticLogisticRegression().fit(da.from_array(X[:, 0], chunks=500), y_dask)


def test_numpy_fit_does_not_import_dask():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from skprob import AnalyticLogisticRegression\n"
        "X, y = np.arange(12.0).reshape(6, 2) ** 1.5, np.array([0, 1] * 3)\n"
        "AnalyticLogisticRegression().fit(X, y).predict_proba(X)\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_entropy_normalizer_transforms_dask_blockwise(client):
    from scipy.stats import entropy as scipy_entropy

    from skprob import EntropyNormalizer

    P = np.random.default_rng(1).dirichlet(np.full(6, 0.4), size=3000)
    normalizer = EntropyNormalizer(target_entropy=1.0).fit(P)
    P_dask = da.from_array(P, chunks=((700, 800, 1500), (4, 2)))
    Q_dask = normalizer.transform(P_dask)
    assert isinstance(Q_dask, da.Array)
    assert Q_dask.shape == P.shape and Q_dask.chunks[0] == (700, 800, 1500)
    Q = Q_dask.compute()
    assert_allclose(scipy_entropy(Q, axis=1), 1.0, atol=1e-9)
    assert_allclose(Q, normalizer.transform(P), rtol=1e-9, atol=1e-12)
    assert Q_dask.dtype == Q.dtype == np.float64


def test_can_calibrator_predicts_dask_blockwise(client):
    from skprob import CANCalibrator

    X, y = _data(4, n_samples=2000, seed=3)
    X = X + np.random.default_rng(3).normal(scale=3.0, size=X.shape)
    # The original method's settings: the default search may keep the base model.
    can = CANCalibrator(AnalyticLogisticRegression(), cv=3, threshold=0.9, alpha=1.0)
    can.fit(X, y)
    X_dask = da.from_array(X, chunks=(600, -1))
    proba = can.predict_proba(X_dask)
    assert isinstance(proba, da.Array)
    proba = proba.compute()
    expected = can.predict_proba(X)
    assert_allclose(proba, expected, rtol=1e-12, atol=1e-15)
    # the adjustment did change rows, so the blockwise path ran it
    assert np.max(np.abs(expected - can.estimator_.predict_proba(X))) > 1e-3
    assert_array_equal(can.predict(X_dask).compute(), can.predict(X))

    transductive = CANCalibrator(
        AnalyticLogisticRegression(), cv=3, reference="transductive"
    ).fit(X, y)
    with pytest.raises(ValueError, match="blockwise"):
        transductive.predict_proba(X_dask)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_linear_classifier_methods_are_lazy_on_dask(client, n_classes):
    # One rule for every estimator: a dask array in gives a dask array out,
    # computed block by block, equal to the NumPy result.
    X, y = make_classification(
        n_samples=900,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    labels = np.array(["cat", "dog", "eel"])[y]
    for model in (
        AnalyticLogisticRegression().fit(X, labels),
        AccuracyOptimizedLinear().fit(X, labels),
    ):
        _check_lazy_methods(model, X)


def _check_lazy_methods(model, X):
    X_dask = da.from_array(X, chunks=(250, 3))
    for method in (
        "decision_function",
        "predict",
        "predict_proba",
        "predict_log_proba",
    ):
        lazy = getattr(model, method)(X_dask)
        assert isinstance(lazy, da.Array), method
        expected = getattr(model, method)(X)
        assert lazy.shape == expected.shape, method
        if method == "predict":
            assert_array_equal(lazy.compute(), expected)
        else:
            assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-14)


# --- several passes: refine_iter and temperature="auto" on dask collections ---


def _noisy_data(n_classes, n_samples=2400, seed=0):
    # overlapping classes (flip_y): the refinement has an interior optimum
    X, y = make_classification(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        flip_y=0.1,
        random_state=seed,
    )
    return X + 3.0, y


def _assert_same_model(fitted, reference, rtol=1e-8):
    scale = np.max(np.abs(reference.coef_))
    assert_allclose(fitted.coef_, reference.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(
        fitted.intercept_, reference.intercept_, rtol=rtol, atol=rtol * scale
    )
    assert fitted.n_iter_ == reference.n_iter_
    # T is fitted to about 1e-6 (see AnalyticLogisticRegression), and rounding
    # differences of the merge order can move where its Newton stops
    assert fitted.temperature_ == pytest.approx(reference.temperature_, rel=1e-7)


SEVERAL_PASSES = [
    dict(refine_iter=30),
    dict(refine_iter=30, refine_tol=1e-9, C=0.05),
    dict(refine_iter=30, fit_intercept=False),
    dict(temperature="auto"),
    dict(temperature="auto", shrinkage="ledoit-wolf", covariance="pooled"),
]


@pytest.mark.parametrize("params", SEVERAL_PASSES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_refined_and_tempered_dask_fit_equals_numpy_fit(client, n_classes, params):
    X, y = _noisy_data(n_classes)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=y.shape[0])
    reference = AnalyticLogisticRegression(**params).fit(X, y, sample_weight=weights)
    chunks = (700, 1, 499, 1200)
    fitted = AnalyticLogisticRegression(**params).fit(
        da.from_array(X, chunks=(chunks, (4, 2))),
        da.from_array(y, chunks=(chunks,)),
        sample_weight=da.from_array(weights, chunks=(chunks,)),
    )
    _assert_same_model(fitted, reference)
    if "refine_iter" in params:
        # the Newton steps and the closed form are not the same model
        assert reference.n_iter_ > 0
    else:
        assert reference.temperature_ != 1.0
    assert fitted.n_passes_ >= 2


@pytest.mark.parametrize("n_classes", [2, 4])
def test_refined_dask_fit_reaches_logistic_regression(client, n_classes):
    # an independent reference: scikit-learn's own solver of the same objective
    X, y = _noisy_data(n_classes, seed=2)
    reference = LogisticRegression(
        C=0.2, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y)
    fitted = AnalyticLogisticRegression(refine_iter=30, refine_tol=1e-10, C=0.2).fit(
        da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500)
    )
    assert_allclose(fitted.predict_proba(X), reference.predict_proba(X), atol=1e-7)


def test_refined_and_tempered_dask_dataframe_fit(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = _noisy_data(3)
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    labels = np.array(["cat", "dog", "eel"], dtype=object)[y]
    weights = 1.0 + np.arange(y.shape[0]) % 3
    frame["label"], frame["weight"] = labels, weights
    dask_frame = dd.from_pandas(frame, npartitions=5)
    for params in (dict(refine_iter=30), dict(temperature="auto")):
        fitted = AnalyticLogisticRegression(**params).fit(
            dask_frame[columns],
            dask_frame["label"],
            sample_weight=dask_frame["weight"],
        )
        reference = AnalyticLogisticRegression(**params).fit(
            frame[columns], labels, sample_weight=weights
        )
        _assert_same_model(fitted, reference)
        assert_array_equal(fitted.classes_, ["cat", "dog", "eel"])


def _count_calls(monkeypatch, module, name, counts):
    original = getattr(module, name)

    def counted(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


@pytest.mark.parametrize(
    "params, n_classes",
    [
        (dict(refine_iter=30), 2),
        (dict(refine_iter=30, refine_tol=1e-10), 3),
        (dict(temperature="auto"), 3),
    ],
)
def test_passes_are_counted_and_X_is_computed_once(monkeypatch, params, n_classes):
    # The synchronous scheduler runs every task in this process, so counting
    # wrappers see each block function call and each block of X made.
    from skprob import _dask

    X, y = _noisy_data(n_classes, n_samples=3000)
    n_blocks = 6
    made = []

    def make_block(block, block_info=None):
        made.append(block_info[0]["chunk-location"][0])
        return block

    X_dask = da.from_array(X, chunks=(500, -1)).map_blocks(make_block, dtype=X.dtype)
    y_dask = da.from_array(y, chunks=500)
    counts = {}
    for name in ("_block_statistics", "_block_fold_scores", "_block_log_loss_sums"):
        _count_calls(monkeypatch, _dask, name, counts)
    with dask.config.set(scheduler="synchronous"):
        fitted = AnalyticLogisticRegression(**params).fit(X_dask, y_dask)
    assert sorted(made) == list(range(n_blocks))
    assert all(count % n_blocks == 0 for count in counts.values())
    passes = sum(counts.values()) // n_blocks
    assert fitted.n_passes_ == passes
    if "refine_iter" in params:
        # moments; the closed form's derivatives and the objective along its
        # ray; the shrunk start; one pass per accepted full Newton step
        assert passes <= 3 + fitted.n_iter_
        assert fitted.n_iter_ > 0
    else:
        # fold moments, then the out-of-fold scores
        assert passes == 2
    reference = AnalyticLogisticRegression(**params).fit(X, y)
    _assert_same_model(fitted, reference)


def test_truncated_newton_on_dask(client, monkeypatch):
    # Above the exact-Hessian limit each Hessian-vector product is a pass;
    # lowering the limit runs that path (in memory too) on small data.
    from skprob import _losses

    monkeypatch.setattr(_losses, "_EXACT_HESSIAN_MAX_UNKNOWNS", 5)
    X, y = _noisy_data(3)
    params = dict(refine_iter=50, refine_tol=1e-9, C=0.5)
    reference = AnalyticLogisticRegression(**params).fit(X, y)
    fitted = AnalyticLogisticRegression(**params).fit(
        da.from_array(X, chunks=(800, -1)), da.from_array(y, chunks=800)
    )
    _assert_same_model(fitted, reference)
    assert fitted.n_passes_ > 3 + fitted.n_iter_
    optimum = LogisticRegression(
        C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y)
    assert_allclose(fitted.predict_proba(X), optimum.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_block_sums_add_up_and_match_derivatives(n_classes):
    X, y = _noisy_data(n_classes, n_samples=400)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, size=y.shape[0])
    n_rows = 1 if n_classes == 2 else n_classes
    rng = np.random.default_rng(3)
    theta = 0.3 * rng.normal(size=(n_rows, X.shape[1] + 1))
    vector = rng.normal(size=theta.shape)
    want = ("gradient", "hessian", "coupling", "product", "ray")

    def loss(rows):
        return PenalisedLogLoss(
            X[rows],
            y[rows],
            weight[rows],
            n_classes,
            C=np.inf,
            fit_intercept=True,
            tol=0.0,
        )

    whole = loss(slice(None)).block_sums(theta, want, vector=vector)
    halves = [
        loss(rows).block_sums(theta, want, vector=vector)
        for rows in (slice(None, 150), slice(150, None))
    ]
    for key in whole:
        assert_allclose(halves[0][key] + halves[1][key], whole[key], rtol=1e-12)
    # the coupling is the Hessian's block sums over the features of a design
    # whose only column is the intercept's
    p = whole["hessian"].shape[0] // n_rows
    intercepts = whole["hessian"][p - 1 :: p, p - 1 :: p]
    assert_allclose(whole["coupling"], intercepts, rtol=1e-12)
    assert_allclose(
        whole["product"].ravel(), whole["hessian"] @ vector.ravel(), rtol=1e-10
    )

    # the ray's slope against a five-point central difference, error O(h^4)
    problem = loss(slice(None))

    def ray_loss(scale):
        return problem.evaluate(scale * theta).loss

    for index in (0, 40, 63):
        scale = RAY_SCALES[index]
        h = 1e-3 * scale
        slope = (
            ray_loss(scale - 2 * h)
            - 8 * ray_loss(scale - h)
            + 8 * ray_loss(scale + h)
            - ray_loss(scale + 2 * h)
        ) / (12 * h)
        assert whole["ray"][index] == pytest.approx(slope, rel=1e-6, abs=1e-6)
    # losses along a direction
    direction = rng.normal(size=theta.shape)
    sums = problem.block_sums(theta, (), direction=direction, lengths=(1.0, 0.25))
    for length, value in zip((1.0, 0.25), sums["losses"]):
        expected = problem.evaluate(theta - length * direction).loss
        assert value == pytest.approx(expected, rel=1e-12)


def test_row_folds_depend_on_the_row_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 4))
    X_copy = X.copy()
    folds = row_folds(X, 5)
    assert_array_equal(X, X_copy)
    # any block of rows gets the folds it has in the whole array
    assert_array_equal(row_folds(X[1234:2345], 5), folds[1234:2345])
    # equal rows share a fold whatever their position
    assert_array_equal(row_folds(X[::-1], 5), folds[::-1])
    # a sparse matrix hashes as its dense copy (zeros add nothing)
    sparse = np.where(rng.random(X.shape) < 0.6, 0.0, X)
    sparse[7] = 0.0
    assert_array_equal(
        row_folds(scipy.sparse.csr_matrix(sparse), 5), row_folds(sparse, 5)
    )
    # float32 rows hash their (exact) float64 values
    X32 = X.astype(np.float32)
    assert_array_equal(row_folds(X32, 5), row_folds(X32.astype(np.float64), 5))
    # near uniform, also for rows of round numbers differing in one feature
    grid = np.zeros((5000, 3))
    grid[:, 1] = np.arange(5000)
    binary = np.unique(rng.integers(0, 2, size=(20_000, 16)).astype(float), axis=0)
    for data in (X, grid, binary):
        counts = np.bincount(row_folds(data, 5), minlength=5)
        assert chisquare(counts).pvalue > 1e-3


def test_accuracy_optimized_linear_refuses_dask_before_any_work(monkeypatch):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = _noisy_data(2, n_samples=1000)
    made = []

    def make_block(block):
        made.append(block.shape)
        return block

    X_dask = da.from_array(X, chunks=(250, -1)).map_blocks(
        make_block, dtype=X.dtype, meta=np.empty((0, 0))
    )
    with pytest.raises(ValueError, match=r"1,000 x 6 float64, 4.8e-05 GB.*in-memory"):
        AccuracyOptimizedLinear().fit(X_dask, da.from_array(y, chunks=250))
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=2)
    with pytest.raises(ValueError, match="unknown number of rows x 6 columns"):
        AccuracyOptimizedLinear().fit(frame, dd.from_pandas(pd.Series(y), 2))
    assert made == []


def test_n_passes_is_none_after_a_refit_in_memory():
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    model = AnalyticLogisticRegression()
    model.fit(da.from_array(X, chunks=100), da.from_array(y, chunks=100))
    # one pass for the closed form, counted on the dask fit
    assert model.n_passes_ == 1
    model.fit(X, y)
    assert model.n_passes_ is None


@pytest.mark.parametrize("solver", ["gram", "cg"])
def test_row_solvers_refuse_dask_input(solver):
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    with pytest.raises(ValueError, match="needs the rows in memory"):
        AnalyticLogisticRegression(solver=solver).fit(
            da.from_array(X, chunks=100), da.from_array(y, chunks=100)
        )
