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
from data_helpers import offset_classification
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification

from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression

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
            dashboard_address=None,
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
    with pytest.raises(ValueError, match="not available for dask"):
        AnalyticLogisticRegression(temperature="auto").fit(
            da.from_array(X, chunks=(500, -1)), y_dask
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
    # computed block by block, equal to the NumPy result (issue 15, point 12).
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
