"""Synthetic problems shared by the demo, the tests and the benchmarks."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.datasets import make_classification

__all__ = ["make_skewed_classes"]


def make_skewed_classes(
    n_samples=6000, *, n_classes=10, imbalance=50.0, random_state=0
):
    """Classes whose frequencies fall geometrically from 1 to ``1 / imbalance``.

    The prior-shift problem of the CANCalibrator demo, tests and benchmark: 20
    features (10 informative), one cluster per class, ``class_sep=0.8``. A base
    model that predicts as if the classes were balanced (e.g. Gaussian naive
    Bayes with a uniform prior) is then far from the Bayes rule, and adjusting
    its predictions to the class prior recovers accuracy.

    Returns
    -------
    X : ndarray of shape (n_samples, 20)
    y : ndarray of shape (n_samples,)
        Labels ``0 .. n_classes - 1``, class 0 the most frequent.
    """
    weights = np.geomspace(1.0, 1.0 / imbalance, n_classes)
    return make_classification(
        n_samples=n_samples,
        n_features=20,
        n_informative=10,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=weights / weights.sum(),
        class_sep=0.8,
        random_state=random_state,
    )
