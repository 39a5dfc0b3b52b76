"""Synthetic data sets shared by several test files.

A plain module rather than ``conftest.py``: tests import it by name, as they do
``array_api_helpers``, and pytest discourages importing from a ``conftest.py``
(here doubly, since the repository root has one under the same module name).
"""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.datasets import make_classification


def offset_classification(
    n_classes, *, n_samples, n_features, n_informative, seed=0, offset=50.0
):
    """Gaussian classes (one cluster each) whose centre lies far from the origin.

    The offset makes naive sums of squares lose digits, so a fit must centre the
    data (or merge per-block means) correctly to match its reference.
    """
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X + offset, y
