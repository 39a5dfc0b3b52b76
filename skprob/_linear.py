"""Scores and predictions shared by the linear classifiers."""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import (
    check_same_namespace,
    get_namespace_and_device,
    lazy_blockwise,
)
from ._validation import decode_labels

__all__ = ["LinearScoresMixin"]


class LinearScoresMixin:
    """``decision_function`` and ``predict`` from ``coef_`` and ``intercept_``.

    Binary models hold one coefficient row, as in
    :class:`~sklearn.linear_model.LogisticRegression`, and score ``classes_[1]``
    against ``classes_[0]``.
    """

    def _scores(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method=method)
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            reset=False,
        )
        xp, _, _ = get_namespace_and_device(X)
        coef = xp.astype(self.coef_, X.dtype)
        intercept = xp.astype(self.intercept_, X.dtype)
        scores = X @ coef.T + intercept
        if scores.shape[1] == 1:
            return xp.reshape(scores, (-1,))
        return scores

    def decision_function(self, X):
        """Class scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples. A dask array gives a lazy dask array, computed block by
            block.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]`` against
            ``classes_[0]``, as in :class:`~sklearn.linear_model.LogisticRegression`.
        """
        lazy = lazy_blockwise(self, "decision_function", X)
        if lazy is not None:
            return lazy
        return self._scores(X, "decision_function")

    def predict(self, X):
        """Class with the largest score for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples. A dask array gives a lazy dask array, computed block by
            block.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        lazy = lazy_blockwise(self, "predict", X)
        if lazy is not None:
            return lazy
        scores = self._scores(X, "predict")
        xp, _, _ = get_namespace_and_device(scores)
        if scores.ndim == 1:
            index = xp.astype(scores > 0, xp.int64)
        else:
            index = xp.argmax(scores, axis=1)
        return decode_labels(index, self.classes_, xp=xp)
