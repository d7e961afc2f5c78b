"""What the estimators share: prediction from a fitted linear softmax model,
leaving the estimator as it was when a fit fails, and pickles that carry the
version of sklearn-softmax that made them."""

import copy
import functools
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import ClassifierMixin
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.metrics import accuracy_score
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array_api import check_same_namespace, input_namespace, namespace_name, to_numpy
from ._dask import block_dtype, is_dask_collection, map_rows
from ._dask import n_features as dask_n_features
from ._two_classes import lift
from ._version import __version__

# The key under which a pickled estimator records the package's version.
_VERSION_KEY = "_sklearn_softmax_version"

# Where the documentation lives: the Documentation URL of pyproject.toml.
DOCUMENTATION_URL = "https://sklearn-softmax.github.io/sklearn-softmax/"


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


def _call(estimator, method, empty, X):
    """``method`` on a block of rows; ``empty``, its result without rows,
    on a block without rows (as filtering a frame leaves)."""
    if X.shape[0] == 0:
        return empty
    return getattr(estimator, method)(X)


# The parameters that choose the objective a fit minimises.
OBJECTIVE_PARAMS = (
    "C",
    "l1_ratio",
    "penalty",
    "l1_groups",
    "fit_intercept",
    "class_weight",
    "label_smoothing",
)


@functools.cache
def parameter_names(estimator_class):
    """The names of the parameters of ``estimator_class``, as scikit-learn's
    ``get_params`` reads them from its signature: read once per class, as
    reading a signature takes about a twentieth of a millisecond, and a fit
    needs the names in several places."""
    return tuple(estimator_class._get_param_names())


def _softmax_in_place(scores):
    """SciPy's ``softmax(scores, axis=1)``, the same operations, in the
    memory of ``scores`` (a NumPy array the caller owns): no other array of
    its size, where SciPy makes two."""
    scores -= np.max(scores, axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= np.sum(scores, axis=1, keepdims=True)
    return scores


def _log_softmax_in_place(scores):
    """SciPy's ``log_softmax(scores, axis=1)``, the same operations, in the
    memory of ``scores``: one other array of its size, the exponentials,
    where SciPy makes three."""
    largest = np.max(scores, axis=1, keepdims=True)
    largest[~np.isfinite(largest)] = 0
    scores -= largest
    with np.errstate(divide="ignore"):
        log_sums = np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    scores -= log_sums
    return scores


class LinearSoftmaxClassifierMixin(ClassifierMixin):
    """Scores, classes and probabilities from ``coef_``, ``intercept_`` and
    ``classes_``; with two classes, ``coef_`` is the one row ``w_1 - w_0``."""

    # The attributes whose values a fitting method changes in place, rather
    # than binding new ones: a failed method can put them back only from a
    # copy.
    _state_changed_in_place = ()

    # The link of the HTML representation (in a notebook) goes to the class
    # on the API page, where autodoc's anchor is the class's public path:
    # scikit-learn fills in the package (the module path up to its first
    # private part) and the class name.
    _doc_link_module = "sklearn_softmax"
    _doc_link_template = (
        DOCUMENTATION_URL + "api.html#{estimator_module}.{estimator_name}"
    )

    def _parameters(self):
        """``get_params(deep=False)``, from :func:`parameter_names`."""
        return {name: getattr(self, name) for name in parameter_names(type(self))}

    def _record_fitted_objective(self):
        """Keep the parameters of the objective the fitted model minimises
        (those of :data:`OBJECTIVE_PARAMS` the estimator has), which
        softmax_inference reads: a later set_params does not change them."""
        names = parameter_names(type(self))
        self._fitted_objective = {
            name: copy.deepcopy(getattr(self, name))
            for name in OBJECTIVE_PARAMS
            if name in names
        }

    def _run_fit(self, method, *args):
        """Run ``method``, a fit, on ``args``: under NumPy's default for
        underflow, and with the estimator put back as it was if it fails."""
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
            # Probabilities that round to zero are part of the math: the fit
            # runs with underflow ignored, NumPy's default, whatever the
            # caller's np.seterr (the setting is local to this context).
            with np.errstate(under="ignore"):
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

    def sparsify(self):
        """Store ``coef_`` as a SciPy sparse matrix.

        A model with many zero weights, as an L1 penalty gives, then takes
        less memory, pickled or not; the methods that predict take it as it
        is. The matrix is a ``csr_matrix``, or a ``csr_array`` where
        scikit-learn's ``sparse_interface`` setting asks for one.
        ``intercept_`` stays dense. A later ``fit`` or ``partial_fit`` stores
        a dense ``coef_`` again (a warm start reads the sparse one).

        Returns
        -------
        self : object
            The estimator, with a sparse ``coef_``.

        See Also
        --------
        densify : Store ``coef_`` as a dense array again.
        """
        check_is_fitted(self)
        if namespace_name(self.coef_) not in ("numpy", "scipy"):
            raise ValueError(
                "sparsify stores coef_ as a SciPy sparse matrix on the host; "
                f"this model was fitted on {namespace_name(self.coef_)} arrays, "
                "whose coef_ stays on their device."
            )
        if get_config().get("sparse_interface") == "sparray":
            self.coef_ = sp.csr_array(self.coef_)
        else:
            self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def densify(self):
        """Store ``coef_`` as a dense NumPy array, the form ``fit`` gives.

        Undoes :meth:`sparsify`; does nothing to a dense ``coef_``.

        Returns
        -------
        self : object
            The estimator, with a dense ``coef_``.

        See Also
        --------
        sparsify : Store ``coef_`` as a SciPy sparse matrix.
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

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
            # coef_ is sparse after sparsify(). The intercepts are added in
            # place: no second array of the scores' size.
            scores = safe_sparse_dot(X, self.coef_.T, dense_output=True)
            # The dtype of the sum, where intercept_ was set to a wider one.
            scores = scores.astype(np.result_type(scores, self.intercept_), copy=False)
            scores += self.intercept_
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
        # The dtype and the columns of the result, from one row of zeros
        # given to a copy without the feature names that the row lacks (the
        # block at hand checks its own when it is computed): the warnings'
        # filters, which every thread shares, stay as they are.
        unnamed = copy.copy(self)
        vars(unnamed).pop("feature_names_in_", None)
        probe = getattr(unnamed, method)(np.zeros((1, n_features), block_dtype(X)))
        return map_rows(
            X,
            functools.partial(_call, self, method, probe[:0]),
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
        return lift(scores, np if namespace is None else namespace[0]), namespace

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. On a dask array or DataFrame, the predictions are
            computed with ``y`` and ``sample_weight`` (which may be dask
            collections too, of any block sizes).
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            The share of the samples, weighted, whose predicted class is
            their label.
        """
        arrays = (X, y, sample_weight)
        if not any(is_dask_collection(array) for array in arrays):
            return super().score(X, y, sample_weight=sample_weight)
        # Computed one by one: dask refuses to compute arrays and DataFrames
        # together without a warning.
        y_pred, y, sample_weight = (
            array.compute() if is_dask_collection(array) else array
            for array in (self.predict(X), y, sample_weight)
        )
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))

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
            return _softmax_in_place(scores)
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
            return _log_softmax_in_place(scores)
        xp, _ = namespace
        shifted = scores - xp.max(scores, axis=1, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
