"""A classifier whose probabilities pass through a post-hoc probability transformer."""

# SPDX-License-Identifier: BSD-3-Clause

from inspect import signature
from numbers import Integral

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils import Bunch, assert_all_finite, get_tags, indexable
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._backend import (
    check_same_namespace,
    get_namespace_and_device,
    log_or_minus_inf,
    to_numpy,
)
from ._validation import check_at_most_2d, check_probability_rows, decode_labels

__all__ = ["TransformedProbaClassifier"]


class TransformedProbaClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Classifier whose predicted probabilities pass through a fitted transformer.

    Puts a post-hoc transform of probability rows (such as
    :class:`EntropyNormalizer` or :class:`ArgmaxProbabilityTransformer`) after a
    classifier, as one estimator: it fits in a
    :class:`~sklearn.pipeline.Pipeline`, and
    :class:`~sklearn.model_selection.GridSearchCV` tunes the transformer's
    parameters (``transformer__target_entropy``) together with the
    classifier's (``estimator__C``).

    :meth:`fit` fits a clone of ``estimator`` on ``X, y`` and a clone of
    ``transformer`` on the classifier's ``response_method`` output for the
    training rows: the in-sample predictions of the final classifier
    (``cv="in-sample"``, default), or out-of-fold predictions over ``cv``.
    :meth:`predict_proba` is then
    ``transformer_.transform(estimator_.<response_method>(X))`` and
    :meth:`predict` the class of highest transformed probability.

    Read more in the :ref:`User Guide <posthoc>`.

    Parameters
    ----------
    estimator : estimator instance, default=None
        Classifier with ``fit`` and ``response_method``; it is cloned, never
        fitted in place. A classifier with only ``decision_function``
        (:class:`~sklearn.svm.LinearSVC`) needs
        ``response_method="decision_function"`` and a transformer that maps
        scores to probabilities, or a calibrating wrapper
        (:class:`~sklearn.calibration.CalibratedClassifierCV`,
        :class:`CANCalibrator`); :meth:`fit` says so otherwise. ``None`` means
        :class:`~sklearn.linear_model.LogisticRegression`. Wrap an already
        fitted classifier in :class:`~sklearn.frozen.FrozenEstimator` to keep
        it as it is: ``X, y`` of :meth:`fit` are then held-out rows on which
        only the transformer is fitted (every ``cv`` gives the same
        transformer, and ``cv="in-sample"`` predicts once instead of once per
        split).
    transformer : transformer instance, default=None
        Transformer with ``fit`` and ``transform`` that maps the rows of
        ``estimator.<response_method>(X)`` to probability rows of the same
        number of classes; it is cloned. ``fit(scores, y)`` receives the
        training labels too. ``None`` passes ``predict_proba`` through
        unchanged (a baseline for a grid search over transformers).
    response_method : {"predict_proba", "decision_function"}, \
            default="predict_proba"
        Classifier output fed to the transformer. A binary
        ``decision_function`` score ``s`` (1-D) is given as the two columns
        ``(0, s)``: the two class scores up to a common shift.
    cv : "in-sample", int, cross-validation generator or iterable, \
            default="in-sample"
        Rows on which the transformer is fitted. ``"in-sample"`` fits the
        classifier once and the transformer on its predictions for the same
        rows. An int, ``None`` (5 folds) or a splitter fits the transformer on
        out-of-fold predictions (``cross_val_predict``; an int means
        :class:`~sklearn.model_selection.StratifiedKFold`) and then refits the
        classifier on all the rows: ``n_splits`` extra fits, and no leak of
        the training rows into the transformer (see Notes).
    n_jobs : int, default=None
        Jobs for the cross-validated fits (``cross_val_predict``).

    Attributes
    ----------
    estimator_ : estimator instance
        The classifier fitted on all the rows (the frozen one if a
        :class:`~sklearn.frozen.FrozenEstimator` was given).
    transformer_ : transformer instance or None
        The fitted transformer; ``None`` when ``transformer=None``.
    classes_ : ndarray of shape (n_classes,)
        Class labels, those of ``estimator_``.
    n_features_in_ : int
        Number of features seen during :term:`fit` (when ``estimator_``
        records it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.calibration.CalibratedClassifierCV : Post-hoc calibration of one
        classifier with a fixed family of maps, on out-of-fold predictions.
    sklearn.compose.TransformedTargetRegressor : The same composition for the
        target of a regressor.
    CANCalibrator : Post-hoc adjustment of doubtful rows to a class prior.

    Notes
    -----
    Fitting the transformer on in-sample predictions leaks: a classifier is
    usually more confident (lower entropy) on the rows it was trained on than
    on new rows, and a transformer that learns a statistic of its input learns
    the training rows' one (:class:`EntropyNormalizer` with
    ``target_entropy="mean"`` learns their mean entropy). Out-of-fold
    predictions come from classifiers that did not see the rows, as the final
    classifier will not see new rows, at the cost of ``n_splits`` extra fits.
    Neither gives the lower test log loss in general (see
    ``benchmarks/RESULTS.md``), so the cheaper one is the default. A
    transformer whose parameters are all given (a float ``target_entropy``,
    as tuned by a grid search) learns nothing from its input, and ``cv``
    does not matter for it.

    The output of the transformer on the training rows must be probability
    rows (non-negative, summing to 1) with one column per class, or
    :meth:`fit` raises a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprob import EntropyNormalizer, TransformedProbaClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TransformedProbaClassifier(
    ...     LogisticRegression(max_iter=1000),
    ...     transformer=EntropyNormalizer(target_entropy=0.5),
    ... ).fit(X, y)
    >>> P = clf.predict_proba(X[[0, 60, 120]])
    >>> (-(P * np.log(P)).sum(axis=1)).round(6)
    array([0.5, 0.5, 0.5])
    >>> clf.predict(X[[0, 60, 120]])
    array([0, 1, 2])
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "transformer": [HasMethods(["fit", "transform"]), None],
        "response_method": [StrOptions({"predict_proba", "decision_function"})],
        "cv": ["cv_object", StrOptions({"in-sample"})],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        transformer=None,
        response_method="predict_proba",
        cv="in-sample",
        n_jobs=None,
    ):
        self.estimator = estimator
        self.transformer = transformer
        self.response_method = response_method
        self.cv = cv
        self.n_jobs = n_jobs

    def _get_estimator(self):
        if self.estimator is not None:
            return self.estimator
        if _routing_enabled():
            # As CalibratedClassifierCV does for its default: the user cannot
            # set the requests of an estimator built here.
            return LogisticRegression().set_fit_request(sample_weight=True)
        return LogisticRegression()

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        ``fit``'s parameters go to the classifier's ``fit``, the transformer's
        ``fit`` and, with a splitter as ``cv``, its ``split``, each as
        requested.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information.
        """
        fit = MethodMapping().add(caller="fit", callee="fit")
        router = MetadataRouter(owner=self).add(
            estimator=self._get_estimator(), method_mapping=fit
        )
        if self.transformer is not None:
            router.add(transformer=self.transformer, method_mapping=fit)
        if self.cv != "in-sample":
            router.add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router

    def _route_params(self, fit_params):
        """Parameters of the classifier's and transformer's fit and of the split."""
        if _routing_enabled():
            return process_routing(self, "fit", **fit_params)
        transformer_params = {}
        weight = fit_params.get("sample_weight")
        if (
            weight is not None
            and self.transformer is not None
            and "sample_weight" in signature(self.transformer.fit).parameters
        ):
            transformer_params["sample_weight"] = weight
        return Bunch(
            estimator=Bunch(fit=fit_params),
            transformer=Bunch(fit=transformer_params),
            splitter=Bunch(split={}),
        )

    @_fit_context(
        # estimator and transformer are not validated yet
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, **fit_params):
        """Fit the classifier, then the transformer on its predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        **fit_params : dict
            Parameters passed to the classifier's ``fit``; ``sample_weight``
            also goes to the transformer's ``fit`` when that accepts it. With
            metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``) each
            parameter goes where it is requested (classifier, transformer, or
            the ``cv`` splitter, e.g. ``groups``), and an unrequested one
            raises.

            .. versionchanged:: 0.1
               ``sample_weight`` reaches the transformer, and metadata routing
               is supported.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        estimator = self._get_estimator()
        self._check_response(estimator)
        if y is not None and to_numpy(y).dtype.kind == "f":
            # Before check_classification_targets, whose cast of NaN to int warns.
            assert_all_finite(
                to_numpy(y), input_name="y", estimator_name=type(self).__name__
            )
        check_classification_targets(y)
        check_at_most_2d(X, type(self).__name__)
        X, y = indexable(X, y)
        y = column_or_1d(y, warn=True)
        routed = self._route_params(fit_params)
        if self.cv == "in-sample":
            self.estimator_ = clone(estimator).fit(X, y, **routed.estimator.fit)
            scores = self._response(self.estimator_, X)
        else:
            cv = check_cv(self.cv, y, classifier=True)
            scores = cross_val_predict(
                clone(estimator),
                X,
                y,
                cv=list(cv.split(X, y, **routed.splitter.split)),
                method=self.response_method,
                n_jobs=self.n_jobs,
                params=routed.estimator.fit,
            )
            scores = self._as_2d(scores)
            self.estimator_ = clone(estimator).fit(X, y, **routed.estimator.fit)
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attribute):
                setattr(self, attribute, getattr(self.estimator_, attribute))
            elif hasattr(self, attribute):
                delattr(self, attribute)
        self.classes_ = self.estimator_.classes_

        if self.transformer is None:
            self.transformer_ = None
            return self
        self.transformer_ = clone(self.transformer).fit(
            scores, y, **routed.transformer.fit
        )
        proba = self.transformer_.transform(scores)
        name = f"the output of {type(self.transformer_).__name__}.transform"
        n_classes = self.classes_.shape[0]
        if proba.ndim != 2 or proba.shape[1] != n_classes:
            raise ValueError(
                f"{name[0].upper()}{name[1:]} has shape {tuple(proba.shape)}; "
                f"TransformedProbaClassifier needs one probability column per "
                f"class, ({scores.shape[0]}, {n_classes})."
            )
        check_probability_rows(proba, name=name)
        return self

    def _check_response(self, estimator):
        """Refuse a response_method the classifier lacks, naming the remedy."""
        if not hasattr(estimator, self.response_method):
            remedy = ""
            if self.response_method == "predict_proba":
                remedy = (
                    " Pass response_method='decision_function' with a transformer "
                    "that maps scores to probabilities (e.g. "
                    "EntropyNormalizer(input='logits') or "
                    "ArgmaxProbabilityTransformer()), or a calibrated classifier "
                    "(CalibratedClassifierCV, CANCalibrator) as estimator."
                )
            raise ValueError(
                f"response_method={self.response_method!r} but "
                f"{type(estimator).__name__} has no {self.response_method} "
                f"method.{remedy}"
            )
        if self.transformer is None and self.response_method != "predict_proba":
            raise ValueError(
                "transformer=None passes the classifier's output through unchanged, "
                f"and {self.response_method} does not return probabilities: give a "
                "transformer, or use response_method='predict_proba'."
            )

    @staticmethod
    def _as_2d(scores):
        # A binary decision_function gives s = score(class 1) - score(class 0);
        # (0, s) are the two class scores up to a common shift, which softmax and
        # argmax-of-noise transforms ignore, so no 1-column convention is needed.
        if scores.ndim == 1:
            xp, _, _ = get_namespace_and_device(scores)
            return xp.stack([xp.zeros_like(scores), scores], axis=1)
        return scores

    def _response(self, estimator, X):
        return self._as_2d(getattr(estimator, self.response_method)(X))

    def predict_proba(self, X):
        """Transformed class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``estimator_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``transformer_.transform(estimator_.<response_method>(X))``, in the
            order of ``classes_``.
        """
        return self._predict_proba(X, "predict_proba")

    def _predict_proba(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="classes_", method=method)
        scores = self._response(self.estimator_, X)
        if self.transformer_ is None:
            return scores
        return self.transformer_.transform(scores)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba` (``-inf`` where a probability is zero).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``estimator_``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        proba = self._predict_proba(X, "predict_log_proba")
        xp, _, _ = get_namespace_and_device(proba)
        return log_or_minus_inf(proba, xp=xp)

    def predict(self, X):
        """Class of highest transformed probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``estimator_``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_`` (the first class of highest probability on
            ties).
        """
        proba = self._predict_proba(X, "predict")
        xp, _, _ = get_namespace_and_device(proba)
        return decode_labels(xp.argmax(proba, axis=1), self.classes_, xp=xp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = get_tags(self._get_estimator())
        tags.input_tags.sparse = estimator_tags.input_tags.sparse
        tags.array_api_support = estimator_tags.array_api_support and (
            self.transformer is None or get_tags(self.transformer).array_api_support
        )
        return tags
