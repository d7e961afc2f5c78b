"""SoftmaxRegression: the one place that knows scikit-learn's API."""

import functools
import time
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._heuristics import (
    choose_hessian_dtype,
    choose_n_threads,
    choose_row_space,
    choose_solver,
)
from ._loss import MultinomialLoss
from ._penalties import split_penalty
from ._row_space import RowSpace, solve_in_row_space
from ._solvers import SOLVERS
from ._solvers._proximal import L1Norm, minimize_proximal_agd
from ._threads import blas_thread_limit, limit_blas_threads

# Attributes that validate_data sets when it reads the training data.
_SET_BY_VALIDATION = ("n_features_in_", "feature_names_in_")


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    r"""Multinomial (softmax) logistic regression with an L2 penalty.

    Fits the model that :class:`~sklearn.linear_model.LogisticRegression`
    fits for three or more classes, with the same ``C``: for data ``X``,
    labels ``y`` and sample weights ``s`` summing to ``S``, it minimises

    .. math::

        \frac{1}{S} \sum_i s_i \left(-\log p_{i, y_i}\right)
        + \frac{1}{2 C S} \lVert W \rVert_F^2,
        \qquad p_i = \mathrm{softmax}(W^T x_i + b).

    The intercepts ``b`` are not penalised; they are centred to sum to zero.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', 'group', None}, default='l2'
        The penalty on the weights, divided by ``C S`` as the L2 penalty
        above, as in :class:`~sklearn.linear_model.LogisticRegression`:

        - 'l2': ``|W|_F^2 / 2``, the objective above;
        - 'l1': ``sum |W_jk|``, which sets weights exactly to zero;
        - 'elasticnet': ``l1_ratio sum |W_jk| + (1 - l1_ratio) |W|_F^2 / 2``;
        - 'group': ``l1_ratio sum_j |W_j|_2 + (1 - l1_ratio) |W|_F^2 / 2``,
          where ``W_j`` is the row of feature ``j`` across all classes, so
          that a feature is dropped from every class at once, as in glmnet's
          grouped multinomial lasso; ``l1_ratio`` defaults to 1 here;
        - None: no penalty (``C`` is then not used), the objective of
          ``LogisticRegression(C=np.inf)``; ``C=np.inf`` is the same here.
          Without a penalty the optimum is not unique where features are
          collinear, and does not exist where the classes are linearly
          separable: the weights then grow until ``max_iter``.

        Penalties with an L1 or group part are solved by 'gd' as accelerated
        proximal gradient (FISTA), which 'auto' picks; the other solvers
        refuse them. An L1 optimum is not centred, so its weights are not
        centred. With two classes, 'l1' gives binary L1 logistic regression
        with the same ``C`` (``|w_0|_1 + |w_1|_1`` is at least
        ``|w_1 - w_0|_1``), and 'group' gives it with ``C sqrt(2)`` (the row
        ``(-w/2, w/2)`` has norm ``|w| / sqrt(2)``).
    l1_ratio : float in [0, 1], default=None
        The share of the L1 norm in 'elasticnet' (required there) and of the
        group norm in 'group' (1 when None); not used by the other penalties.
    C : float, default=1.0
        Inverse of the regularisation strength; must be positive. Smaller
        values mean a stronger penalty; ``np.inf`` means none.
    fit_intercept : bool, default=True
        Whether to fit an intercept per class.
    solver : {'auto', 'newton-cg', 'lbfgs', 'gd'}, default='auto'
        Optimiser.

        - 'auto': chosen from the data; currently always 'newton-cg', the
          fastest of the three to a tight optimum on every benchmark problem
          measured so far. The choice made is stored in ``solver_``.
        - 'newton-cg': truncated Newton with conjugate gradients on the
          analytic Hessian-vector product, and a backtracking line search.
        - 'lbfgs': scipy's L-BFGS-B on the analytic objective and gradient.
        - 'gd': Nesterov-accelerated gradient descent with a backtracking
          (Armijo) step size and adaptive restart.
    max_iter : int, default=100
        Most iterations of the solver (Newton steps for 'newton-cg').
    tol : float, default=1e-4
        The solver stops once the largest absolute entry of the objective's
        gradient is at most ``tol``.
    warm_start : bool, default=False
        Start from the previous solution when refitting on data with the
        same classes and features.
    verbose : int, default=0
        With a positive value, print one line per iteration: the objective,
        the gradient norm, the step length and the time spent.
    n_threads : int, default=None
        Threads for ``fit``. Dense ``X`` is shared out between them in
        blocks of rows, each thread running the products and the softmax of
        its blocks, with the BLAS library held to one thread for the
        duration of the fit; the products with sparse ``X`` are split by
        classes. With ``None``, small problems run on one thread, where
        starting threads would cost more than they save, and larger ones on
        as many as the BLAS library is currently allowed (so an enclosing
        ``threadpoolctl.threadpool_limits`` is respected). An integer sets
        the count.
    precision : {'auto', 'mixed', 'full'}, default='auto'
        Precision of the Hessian-vector products of 'newton-cg' on float64
        data. The objective, its gradient, the line search and the iterate
        are always in float64, so the stopping test and the optimum are those
        of float64.

        - 'mixed': the Hessian-vector products, most of the work of a fit,
          run in float32 on a float32 copy of ``X`` made for the fit (half
          the memory of dense ``X``; for sparse ``X``, a copy of its stored
          values only). A fit is 1.5 to 1.8 times faster on dense data,
          less on sparse data, and the solver takes the same Newton steps
          to the same optimum, but rounding no longer
          reproduces a fit to the last digit: two fits of the same problem
          posed differently (a sample weight of 2 or the sample twice) agree
          to within ``tol``, not to rounding.
        - 'full': they run in float64 on ``X`` itself, with no copy.
        - 'auto': 'mixed' once a product with ``X`` takes at least 10^5
          multiply-adds (non-zeros of ``X`` times classes), 'full' below,
          where a fit takes a few milliseconds and 'mixed' saves under 5%.

        float32 data is never copied: everything runs in float32, with
        float64 sums. Other solvers ignore this parameter.

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, as in
        :class:`~sklearn.linear_model.LogisticRegression`: each sample's
        weight is multiplied by the weight of its class, and ``S`` in the
        objective is the sum of these products. A dict maps class labels to
        weights (missing classes weigh 1). 'balanced' gives class ``k`` the
        weight ``S_total / (K_present S_k)``, where ``S_k`` is the total
        sample weight of class ``k`` and ``K_present`` the number of classes
        with a positive total, so that every class weighs the same in all,
        as in LogisticRegression of scikit-learn 1.9 (in 1.6, 'balanced'
        counted samples and ignored their weights).
    label_smoothing : float in [0, 1), default=0.0
        The share ``eps`` of each sample's target spread evenly over the
        classes, as in PyTorch's ``cross_entropy``: the log-loss
        ``-log p_{i, y_i}`` becomes the cross-entropy
        ``-sum_k t_ik log p_ik`` with targets
        ``t_i = (1 - eps) onehot(y_i) + eps / K``. The fitted probabilities
        are then pulled away from 0 and 1, and the weights stay finite
        without a penalty. It is the same as fitting, without smoothing,
        ``K`` copies of each sample, one per class ``k`` with weight
        ``s_i t_ik``. 0 gives the objective above.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients. With two classes, the row ``w_1 - w_0`` (see Notes).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts, centred to sum to zero with three or more classes. With
        two classes, ``b_1 - b_0``.
    solver_ : str
        The solver used: ``solver``, or the one 'auto' chose.
    n_iter_ : ndarray of shape (1,)
        Iterations the solver ran.
    loss_curve_ : ndarray of shape (n_iter_[0],)
        Objective after each iteration.
    converged_ : bool
        Whether the solver met its stopping rule, the largest absolute
        gradient entry at most ``tol``; when it did not, ``fit`` warned.
    grad_norm_ : float
        The largest absolute entry of the objective's gradient at the
        returned solution, before the intercepts and weights were centred.
        With an L1 or group penalty, that of the gradient mapping of the
        proximal solver's last step, which is the gradient where the
        penalty is smooth.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model, with other
        solvers and penalties.

    Notes
    -----
    With two classes the softmax model has two weight vectors ``w_0`` and
    ``w_1``, both penalised. The optimum has ``w_1 = -w_0``: the likelihood
    depends on ``w_1 - w_0`` only, and of all pairs with a given difference
    ``w`` the pair ``(-w/2, w/2)`` has the smallest penalty, ``|w|^2 / 2``.
    The objective is then the binary logistic loss with penalty
    ``|w|^2 / (2 (2C) S)``: the model equals
    ``LogisticRegression(C=2 * C)``. As there, ``coef_`` has one row,
    ``w = w_1 - w_0``, and :meth:`decision_function` returns one score per
    sample, the log-odds of ``classes_[1]``.

    The gradient and the solvers are derived in the documentation's
    "Mathematics" page.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SoftmaxRegression(C=10.0).fit(X, y)
    >>> clf.predict(X[:2])
    array([0, 0])
    >>> clf.predict_proba(X[:1]).round(3)
    array([[0.998, 0.002, 0.   ]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet", "group"}), None],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", *SOLVERS})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "precision": [StrOptions({"auto", "mixed", "full"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        penalty="l2",
        l1_ratio=None,
        C=1.0,
        fit_intercept=True,
        solver="auto",
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        verbose=0,
        n_threads=None,
        precision="auto",
        class_weight=None,
        label_smoothing=0.0,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_threads = n_threads
        self.precision = precision
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by minimising the penalised multinomial log-loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is converted to CSR.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``None`` weighs every sample equally. An
            integer weight ``k`` is the same as repeating the sample ``k``
            times.

        Returns
        -------
        self : SoftmaxRegression
            The fitted estimator.
        """
        # Validation resets n_features_in_ and feature_names_in_; keep the
        # previous fit's so that a failed fit leaves the estimator as it was.
        previous = {
            name: getattr(self, name)
            for name in _SET_BY_VALIDATION
            if hasattr(self, name)
        }
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            for name in _SET_BY_VALIDATION:
                if name in previous:
                    setattr(self, name, previous[name])
                elif hasattr(self, name):
                    delattr(self, name)
            raise

    def _fit(self, X, y, sample_weight):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            accept_large_sparse=True,
        )
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                "SoftmaxRegression needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes.tolist()[0]!r}."
            )
        sample_weight = self._validated_sample_weight(
            sample_weight, X, y_encoded, classes
        )
        n_classes = classes.size
        n_features = X.shape[1]
        total_weight = (
            X.shape[0] if sample_weight is None else sample_weight.sum(dtype=np.float64)
        )

        loss = MultinomialLoss(n_classes, self.fit_intercept, self.label_smoothing)
        shape = (loss.n_coef_rows(n_features), n_classes)
        strength = 0.0 if self.penalty is None else 1.0 / (self.C * float(total_weight))
        l2_reg_strength, norm = split_penalty(
            *self._penalty_mix(), strength, n_features, shape
        )
        solver = self._solver(X, n_classes, norm)
        # The BLAS limit when fit is called: the most threads the passes take.
        available = blas_thread_limit()

        def bind(data):
            return loss.bind(
                data,
                y_encoded,
                sample_weight,
                l2_reg_strength,
                n_threads=self._n_threads(data, n_classes, available),
                hessian_dtype=choose_hessian_dtype(
                    data, n_classes, solver, self.precision
                ),
            )

        coef0 = self._initial_coef(classes, shape[0])
        settings = {
            "max_iter": self.max_iter,
            "tol": self.tol,
            "callback": self._progress_printer(solver) if self.verbose else None,
        }
        # The passes share their blocks between their own threads, each
        # calling BLAS on one block at a time; forming X X^T for wide data
        # is one large product, left to BLAS's threads.
        row_space = None
        # The L1 and group norms are not kept by the row space's rotation.
        if norm is None and choose_row_space(X, n_classes):
            with limit_blas_threads(self._n_threads(X, n_classes, available)):
                row_space = RowSpace.of(X)
        if norm is None:
            solve = SOLVERS[solver]
        else:
            solve = functools.partial(minimize_proximal_agd, penalty=norm)
        with limit_blas_threads(1):
            if row_space is None:
                result = solve(bind(X), coef0.ravel(), **settings)
            else:
                result = solve_in_row_space(solve, row_space, bind, coef0, **settings)
        if not result.converged:
            warnings.warn(
                self._convergence_message(result, solver, X.dtype, norm is not None),
                ConvergenceWarning,
                stacklevel=4,
            )

        coef = result.x.reshape(shape)
        W, b = coef[:n_features], coef[n_features:].ravel()
        # Adding one vector to every class's weights leaves the probabilities
        # unchanged and only adds to the L2 and group penalties (the norm of
        # a row is least when the row sums to zero), so their optimum is
        # centred; centring removes what the solver's tolerance left. An L1
        # penalty's optimum is not centred.
        if not isinstance(norm, L1Norm):
            W = W - W.mean(axis=1, keepdims=True)
        b = b - b.mean() if self.fit_intercept else np.zeros(n_classes)

        self.classes_ = classes
        self.solver_ = solver
        if n_classes == 2:
            self.coef_ = (W[:, 1] - W[:, 0])[np.newaxis, :].astype(X.dtype)
            self.intercept_ = np.array([b[1] - b[0]], dtype=X.dtype)
        else:
            self.coef_ = np.ascontiguousarray(W.T, dtype=X.dtype)
            self.intercept_ = b.astype(X.dtype)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.loss_curve_ = result.objective_history
        self.converged_ = bool(result.converged)
        self.grad_norm_ = float(result.grad_norm)
        return self

    def _n_threads(self, X, n_classes, available):
        """``n_threads``, or the heuristic's count within ``available``."""
        if self.n_threads is not None:
            return self.n_threads
        return choose_n_threads(X, n_classes, available=available)

    def _convergence_message(self, result, solver, dtype, proximal):
        measure = (
            "largest absolute entry of the gradient mapping"
            if proximal
            else "largest absolute gradient entry"
        )
        where = (
            f"SoftmaxRegression(solver={solver!r}) stopped with the {measure} "
            f"at {result.grad_norm:.3g}, "
            f"{result.grad_norm / self.tol:.3g} times tol={self.tol:g}"
        )
        if result.n_iter >= self.max_iter:
            return (
                f"{where}, after max_iter={self.max_iter} iterations. Scale the "
                "features (for instance with sklearn.preprocessing.StandardScaler), "
                "increase max_iter, or try another solver."
            )
        return (
            f"{where}: {result.message}. The objective no longer decreases at "
            f"the precision of {np.dtype(dtype).name} arithmetic, so tol is "
            "tighter than this problem allows: loosen tol, or scale the features."
        )

    def _validated_sample_weight(self, sample_weight, X, y_encoded, classes):
        if sample_weight is None and self.class_weight is None:
            return None
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        if self.class_weight is not None:
            weights = self._class_weights(sample_weight, y_encoded, classes)
            sample_weight = sample_weight * weights[y_encoded].astype(X.dtype)
        class_weight = np.bincount(y_encoded, weights=sample_weight)
        if not class_weight.sum() > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one sample needs a "
                "positive weight."
            )
        if np.count_nonzero(class_weight) < 2:
            remaining = classes.tolist()[np.flatnonzero(class_weight)[0]]
            raise ValueError(
                "SoftmaxRegression needs samples of at least 2 classes with a "
                "positive sample_weight, but only one class has any: "
                f"{remaining!r}."
            )
        return sample_weight

    def _penalty_mix(self):
        """The non-smooth norm of the penalty and its share, from 0 to 1."""
        if self.penalty == "l1":
            return "l1", 1.0
        if self.penalty == "elasticnet":
            if self.l1_ratio is None:
                raise ValueError(
                    "penalty='elasticnet' needs l1_ratio, a float in [0, 1]."
                )
            return "l1", float(self.l1_ratio)
        if self.penalty == "group":
            return "group", 1.0 if self.l1_ratio is None else float(self.l1_ratio)
        return "l2", 0.0

    def _solver(self, X, n_classes, norm):
        """The solver to run: ``solver``, or the one 'auto' stands for."""
        if norm is None:
            return choose_solver(X, n_classes) if self.solver == "auto" else self.solver
        if self.solver not in ("auto", "gd"):
            part = "an L1" if isinstance(norm, L1Norm) else "a group-norm"
            raise ValueError(
                f"penalty={self.penalty!r} has {part} part, which solver="
                f"{self.solver!r} cannot handle: it needs a smooth objective. "
                "Use solver='gd' (accelerated proximal gradient) or 'auto'."
            )
        return "gd"

    def _class_weights(self, sample_weight, y_encoded, classes):
        """The weight of each class, as ``class_weight`` gives it."""
        if isinstance(self.class_weight, str):  # 'balanced'
            # The total weight shared equally between the classes present.
            totals = np.bincount(
                y_encoded, weights=sample_weight, minlength=classes.size
            )
            present = totals > 0
            weights = np.ones(classes.size)
            weights[present] = totals.sum() / (present.sum() * totals[present])
            return weights
        unknown = set(self.class_weight) - set(classes.tolist())
        if unknown:
            raise ValueError(
                "class_weight has labels that are not classes of y: "
                f"{sorted(map(repr, unknown))}; the classes are {classes.tolist()}."
            )
        weights = np.array(
            [float(self.class_weight.get(label, 1.0)) for label in classes.tolist()]
        )
        if not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
            raise ValueError(
                "class_weight must give finite, non-negative weights; got "
                f"{self.class_weight!r}."
            )
        return weights

    def _initial_coef(self, classes, n_rows):
        """Zeros, or the previous solution in the solver's layout."""
        n_classes = classes.size
        coef = np.zeros((n_rows, n_classes))
        if not (self.warm_start and hasattr(self, "coef_")):
            return coef
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                "warm_start needs the same classes as the previous fit: "
                f"got {classes.tolist()}, previously {self.classes_.tolist()}."
            )
        n_features = self.coef_.shape[1]
        if n_features != n_rows - int(self.fit_intercept):
            raise ValueError(
                "warm_start needs the same number of features as the previous "
                f"fit: got {n_rows - int(self.fit_intercept)}, previously "
                f"{n_features}."
            )
        if n_classes == 2:
            # The centred two-class solution is (-w/2, w/2).
            half = 0.5 * np.concatenate([self.coef_.ravel(), self.intercept_])
            full = np.column_stack([-half, half])
        else:
            full = np.vstack([self.coef_.T, self.intercept_[np.newaxis, :]])
        coef[:n_features] = full[:n_features]
        if self.fit_intercept:
            coef[n_features] = full[n_features]
        return coef

    def _progress_printer(self, solver):
        start = time.perf_counter()

        def show(progress):
            print(
                f"[SoftmaxRegression {solver}] iter {progress.iteration:4d}  "
                f"objective {progress.objective:.10g}  "
                f"|grad|_inf {progress.grad_norm:.3e}  "
                f"step {progress.step:.3e}  "
                f"time {time.perf_counter() - start:.3f}s",
                flush=True,
            )

        return show

    def decision_function(self, X):
        """Scores of each class, the log-odds for two classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``X @ coef_.T + intercept_``. With two classes, one score per
            sample: positive means ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            reset=False,
        )
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def _class_scores(self, X):
        """Softmax scores with one column per class, also for two classes."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            half = 0.5 * scores
            return np.column_stack([-half, half])
        return scores

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        indices = np.argmax(self._class_scores(X), axis=1)
        return self.classes_[indices]

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to one.
        """
        return softmax(self._class_scores(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class.

        Computed from the scores by log-softmax, which stays finite where
        ``np.log(predict_proba(X))`` would underflow to ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return log_softmax(self._class_scores(X), axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
