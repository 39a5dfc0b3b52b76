"""Benchmark every public skprob estimator on CuPy (GPU) arrays against NumPy.

Question: How much faster is each estimator on CuPy arrays than on NumPy
arrays, with the same results?

For each estimator class in ``skprob.__all__`` that has a data recipe in
``RECIPES`` below, time ``fit`` and each of ``predict``, ``predict_proba``,
``transform`` and ``score_samples`` that it has, once on NumPy arrays and once
on CuPy arrays of the same data (``sklearn.set_config(array_api_dispatch=True)``
for both), and print the times side by side with the speed-up and the largest
difference between the two outputs. Estimators without a recipe are listed and
skipped: add a line to ``RECIPES`` to benchmark a new one.

GPU timings synchronise the default stream before starting and before stopping
the clock; each timing is the best of ``--repeats`` calls after one warm-up
call (CuPy compiles its kernels on first use).

Runs only where CuPy and a CUDA device are present; elsewhere it prints why and
exits with status 0. Run ``python benchmarks/bench_gpu.py`` (``--quick`` for a
smoke run).
"""

# SPDX-License-Identifier: BSD-3-Clause

import os

# scikit-learn's array-API dispatch needs SciPy imported with this set
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import inspect  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import _data  # noqa: E402, F401  (this checkout's skprob first)
import numpy as np  # noqa: E402

METHODS = ("predict", "predict_proba", "transform", "score_samples")


def classification(n_samples, rng):
    """Five Gaussian classes in 100 dimensions (20 with --quick)."""
    n_features = 100 if n_samples > 10_000 else 20
    y = rng.integers(0, 5, size=n_samples)
    centres = rng.normal(size=(5, n_features))
    return rng.normal(size=(n_samples, n_features)) + centres[y], y


def probabilities(n_samples, rng):
    """Rows of 10 class probabilities (Dirichlet), no target."""
    return rng.dirichlet(np.full(10, 0.5), size=n_samples), None


def scores(n_samples, rng):
    """Rows of 10 real-valued scores, no target."""
    return rng.normal(scale=2.0, size=(n_samples, 10)), None


def density(n_samples, rng):
    """A noisy 10-D point cloud on a 2-D curve, no target; capped at 20,000 rows."""
    n_samples = min(n_samples, 20_000)
    t = rng.uniform(-2, 2, size=(n_samples, 2))
    curve = np.column_stack([t, np.sin(t), np.cos(t), t**2, t[:, :1] * t[:, 1:]])
    return curve + 0.05 * rng.normal(size=curve.shape), None


def _can_params():
    from skprob import AnalyticLogisticRegression

    return {"estimator": AnalyticLogisticRegression()}


# estimator name -> (data recipe, function returning its constructor arguments)
RECIPES = {
    "AnalyticLogisticRegression": (classification, dict),
    "AccuracyOptimizedLinear": (classification, dict),
    "CANCalibrator": (classification, _can_params),
    "EntropyNormalizer": (probabilities, dict),
    "ArgmaxProbabilityTransformer": (scores, dict),
    "VAEDensity": (
        density,
        lambda: {"max_iter": 5, "early_stopping": False, "random_state": 0},
    ),
}


def cuda_device_name():
    """Name of CUDA device 0, or None (with the reason printed) when unusable."""
    try:
        import cupy
    except ImportError:
        print(
            "CuPy is not installed: the GPU benchmark needs CuPy and a CUDA device "
            "(pip install 'skprob[gpu]' on a machine with an NVIDIA GPU). Skipped."
        )
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no device found")
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    except Exception as exc:  # CUDA driver/runtime errors when there is no GPU
        print(f"CuPy is installed but no CUDA device is usable ({exc}). Skipped.")
        return None
    return name.decode() if isinstance(name, bytes) else name


def timed(func, repeats, synchronize):
    """Best wall-clock time of ``repeats`` calls after one warm-up, and the result."""
    result = func()
    best = np.inf
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        result = func()
        synchronize()
        best = min(best, time.perf_counter() - start)
    return best, result


def difference(numpy_out, cupy_out):
    """Largest |difference| for numbers, share of disagreeing labels otherwise."""
    import cupy

    gpu = cupy.asnumpy(cupy_out) if isinstance(cupy_out, cupy.ndarray) else cupy_out
    gpu = np.asarray(gpu)
    if np.issubdtype(numpy_out.dtype, np.floating):
        return f"{np.max(np.abs(numpy_out - gpu)):.1e}"
    return f"{np.mean(numpy_out != gpu):.1%} differ"


def benchmark(name, cls, recipe, make_params, n_samples, repeats):
    """Rows (method, numpy s, cupy s, difference) for one estimator."""
    import cupy
    from sklearn.base import clone

    X, y = recipe(n_samples, np.random.default_rng(0))
    X_gpu = cupy.asarray(X)
    y_gpu = None if y is None else cupy.asarray(y)
    template = cls(**make_params())
    sync_cpu = lambda: None  # noqa: E731
    sync_gpu = cupy.cuda.Stream.null.synchronize

    def fit(X_in, y_in):
        estimator = clone(template)
        return estimator.fit(X_in) if y_in is None else estimator.fit(X_in, y_in)

    t_cpu, model_cpu = timed(lambda: fit(X, y), repeats, sync_cpu)
    t_gpu, model_gpu = timed(lambda: fit(X_gpu, y_gpu), repeats, sync_gpu)
    rows = [("fit", t_cpu, t_gpu, "")]
    for method in METHODS:
        if not hasattr(model_cpu, method):
            continue
        t_cpu, out_cpu = timed(lambda: getattr(model_cpu, method)(X), repeats, sync_cpu)
        t_gpu, out_gpu = timed(
            lambda: getattr(model_gpu, method)(X_gpu), repeats, sync_gpu
        )
        rows.append((method, t_cpu, t_gpu, difference(np.asarray(out_cpu), out_gpu)))
    return X.shape, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.samples, args.repeats = 5_000, 1

    device_name = cuda_device_name()
    if device_name is None:
        return 0

    import cupy
    import sklearn
    from sklearn.base import BaseEstimator

    import skprob

    sklearn.set_config(array_api_dispatch=True)
    print(
        f"device: {device_name}; CuPy {cupy.__version__}, NumPy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, python {platform.python_version()}"
    )
    print(f"times: best of {args.repeats} after one warm-up; speed-up = NumPy / CuPy\n")
    header = (
        f"{'estimator':<30} {'data':>13} {'method':<14} {'NumPy s':>9} "
        f"{'CuPy s':>9} {'speed-up':>9}  max |NumPy - CuPy|"
    )
    print(header)
    print("-" * len(header))
    failed = []
    for name in skprob.__all__:
        obj = getattr(skprob, name)
        if not (inspect.isclass(obj) and issubclass(obj, BaseEstimator)):
            print(f"{name:<30} skipped: not an estimator class")
            continue
        if name not in RECIPES:
            print(f"{name:<30} skipped: no data recipe in RECIPES (add one)")
            continue
        recipe, make_params = RECIPES[name]
        try:
            shape, rows = benchmark(
                name, obj, recipe, make_params, args.samples, args.repeats
            )
        except Exception:
            failed.append(name)
            print(f"{name:<30} FAILED:\n{traceback.format_exc()}")
            continue
        data = f"{shape[0]}x{shape[1]}"
        for method, t_cpu, t_gpu, diff in rows:
            print(
                f"{name:<30} {data:>13} {method:<14} {t_cpu:9.4f} {t_gpu:9.4f} "
                f"{t_cpu / t_gpu:8.1f}x  {diff}",
                flush=True,
            )
    if failed:
        print(f"\nfailed on CuPy or NumPy: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
