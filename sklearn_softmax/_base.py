"""What the estimators share: prediction from a fitted linear softmax model,
leaving the estimator as it was when a fit fails, and pickles that carry the
version of sklearn-softmax that made them."""

import copy
import functools
import warnings

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array_api import check_same_namespace, input_namespace, to_numpy
from ._dask import block_dtype, is_dask_collection, map_rows
from ._dask import n_features as dask_n_features
from ._version import __version__

# The key under which a pickled estimator records the package's version.
_VERSION_KEY = "_sklearn_softmax_version"


class SoftmaxVersionWarning(InconsistentVersionWarning):
    """An estimator is unpickled by another version of sklearn-softmax than
    the one that pickled it. A subclass of scikit-learn's warning, so that a
    filter on that warning covers both packages."""

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from "
            f"sklearn-softmax {self.original_sklearn_version} when using "
            f"sklearn-softmax {self.current_sklearn_version}. This might lead to "
            "breaking code or invalid results: refit the estimator with this "
            "version, or use the version that pickled it."
        )


def _call(estimator, method, X):
    return getattr(estimator, method)(X)


class LinearSoftmaxClassifierMixin(ClassifierMixin):
    """Scores, classes and probabilities from ``coef_``, ``intercept_`` and
    ``classes_``; with two classes, ``coef_`` is the one row ``w_1 - w_0``."""

    # The attributes whose values a fitting method changes in place, rather
    # than binding new ones: a failed method can put them back only from a
    # copy.
    _state_changed_in_place = ()

    def _keeping_state_on_failure(self, method, *args):
        # A fit sets attributes as it goes (validation resets n_features_in_
        # first), so the attributes are put back if anything, a
        # KeyboardInterrupt included, stops the method. A fit binds new
        # values rather than changing the old ones, so the old bindings are
        # enough: the fitted arrays (coefs_paths_, arrays on a GPU) are
        # neither copied nor required to be copyable. What a class declares
        # changed in place, such as partial_fit's stream, is copied, and the
        # method changes the copy: the original stays as it was, and so does
        # any attribute that is a view of it.
        previous = dict(vars(self))
        for name in self._state_changed_in_place:
            if name in previous:
                vars(self)[name] = copy.deepcopy(previous[name])
        try:
            return method(*args)
        except BaseException:
            vars(self).clear()
            vars(self).update(previous)
            raise

    def __getstate__(self):
        # scikit-learn hands back the instance's own __dict__ for estimators
        # outside its package: add the version to a copy.
        return {**super().__getstate__(), _VERSION_KEY: __version__}

    def __setstate__(self, state):
        state = dict(state)
        pickled_version = state.pop(_VERSION_KEY, "unknown")
        if pickled_version != __version__:
            warnings.warn(
                SoftmaxVersionWarning(
                    estimator_name=type(self).__name__,
                    current_sklearn_version=__version__,
                    original_sklearn_version=pickled_version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    def decision_function(self, X):
        """Compute the score of each class; the log-odds for two classes.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. On a dask array or DataFrame, the result is a lazy
            dask array with its blocks of rows.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``X @ coef_.T + intercept_``. With two classes, one score per
            sample: positive means ``classes_[1]``.
        """
        if is_dask_collection(X):
            return self._over_dask_blocks(X, "decision_function")
        check_is_fitted(self)
        namespace = input_namespace(X)
        check_same_namespace(self, X, "decision_function", namespace)
        return self._decision_function(X, namespace)

    def _decision_function(self, X, namespace):
        if namespace is None:
            X = validate_data(
                self,
                X,
                accept_sparse="csr",
                dtype=[np.float64, np.float32],
                reset=False,
            )
            scores = np.asarray(X @ self.coef_.T) + self.intercept_
            return scores.ravel() if scores.shape[1] == 1 else scores
        xp, _ = namespace
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        # NumPy promotes float32 X for a float64 model; the Array API
        # standard leaves mixed precision to each library.
        dtype = xp.result_type(X.dtype, self.coef_.dtype)
        scores = xp.astype(X, dtype) @ xp.astype(self.coef_, dtype).T + xp.astype(
            self.intercept_, dtype
        )
        return xp.reshape(scores, (-1,)) if scores.shape[1] == 1 else scores

    def _over_dask_blocks(self, X, method):
        """``method`` on each block of rows of a dask collection, lazily: a
        dask array with the blocks of rows of ``X``."""
        check_is_fitted(self)
        n_features = dask_n_features(X)
        if n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        # The dtype and the columns of the result, from one row of zeros;
        # the block at hand checks its feature names when it is computed.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe = getattr(self, method)(np.zeros((1, n_features), block_dtype(X)))
        return map_rows(
            X,
            functools.partial(_call, self, method),
            probe.dtype,
            None if probe.ndim == 1 else probe.shape[1],
        )

    def _class_scores(self, X, method):
        """Softmax scores with one column per class, also for two classes,
        and the namespace they are in (None for NumPy)."""
        check_is_fitted(self)
        namespace = input_namespace(X)
        check_same_namespace(self, X, method, namespace)
        scores = self._decision_function(X, namespace)
        if scores.ndim == 2:
            return scores, namespace
        half = 0.5 * scores
        if namespace is None:
            return np.column_stack([-half, half]), namespace
        return namespace[0].stack([-half, half], axis=1), namespace

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. On a dask array or DataFrame, the result is a lazy
            dask array with its blocks of rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        if is_dask_collection(X):
            return self._over_dask_blocks(X, "predict")
        scores, namespace = self._class_scores(X, "predict")
        if namespace is None:
            return self.classes_[np.argmax(scores, axis=1)]
        xp, _ = namespace
        indices = xp.argmax(scores, axis=1)
        if isinstance(self.classes_, np.ndarray):
            # Labels the namespace cannot hold, such as strings.
            return self.classes_[to_numpy(indices)]
        return xp.take(self.classes_, indices, axis=0)

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. On a dask array or DataFrame, the result is a lazy
            dask array with its blocks of rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to one.
        """
        if is_dask_collection(X):
            return self._over_dask_blocks(X, "predict_proba")
        scores, namespace = self._class_scores(X, "predict_proba")
        if namespace is None:
            return softmax(scores, axis=1)
        xp, _ = namespace
        exponentials = xp.exp(scores - xp.max(scores, axis=1, keepdims=True))
        return exponentials / xp.sum(exponentials, axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class.

        Computed from the scores by log-softmax, which stays finite where
        ``np.log(predict_proba(X))`` would underflow to ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. On a dask array or DataFrame, the result is a lazy
            dask array with its blocks of rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return self._over_dask_blocks(X, "predict_log_proba")
        scores, namespace = self._class_scores(X, "predict_log_proba")
        if namespace is None:
            return log_softmax(scores, axis=1)
        xp, _ = namespace
        shifted = scores - xp.max(scores, axis=1, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
