"""SoftmaxRegression: the one place that knows scikit-learn's API."""

import functools
import math
import time
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from ._array_api import (
    input_namespace,
    namespace_name,
    numpy_dtype,
    parameter_dtype,
    to_numpy,
)
from ._base import LinearSoftmaxClassifierMixin
from ._dask import (
    class_totals,
    encode_row_blocks,
    fit_inputs,
    is_dask_collection,
    is_frame,
    iter_row_blocks,
    persist_row_blocks,
    summarise,
)
from ._heuristics import (
    choose_blas_threads,
    choose_hessian_dtype,
    choose_n_threads,
    choose_proximal_solver,
    choose_row_space,
    choose_solver,
)
from ._loss import MultinomialLoss, RunningCurvature
from ._loss_array_api import bind_objective
from ._penalties import split_penalty
from ._row_space import RowSpace, solve_in_row_space
from ._solvers import ARRAY_API_SOLVERS, SOLVERS, STOCHASTIC_SOLVERS
from ._solvers._proximal import GroupNorm, L1Norm, minimize_proximal_agd
from ._solvers._stochastic import (
    StochasticSettings,
    StochasticState,
    minimize_stochastic,
    run_epoch,
)
from ._threads import blas_thread_limit, limit_blas_threads


class _Stream:
    """What ``partial_fit`` carries from one call to the next."""

    def __init__(self, state, curvature, random_state):
        self.state = state
        self.curvature = curvature
        self.random_state = random_state
        self.n_calls = 0
        self.history = []


def _check_two_classes(classes):
    """Raise unless the labels hold at least two classes."""
    if classes.size < 2:
        raise ValueError(
            "SoftmaxRegression needs samples of at least 2 classes in the "
            f"data, but the data contains only one class: {classes.tolist()[0]!r}."
        )


class SoftmaxRegression(LinearSoftmaxClassifierMixin, BaseEstimator):
    r"""Multinomial (softmax) logistic regression.

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
        proximal gradient (FISTA), and the group penalty also by
        'newton-cg', which adds Newton steps on the rows that are not zero;
        'auto' picks 'newton-cg' for the group penalty on larger problems
        and 'gd' otherwise. 'lbfgs' and 'adam' refuse them. An L1 optimum
        is not centred, so its weights are not centred. With two classes,
        'l1' gives binary L1 logistic regression with the same ``C``
        (``|w_0|_1 + |w_1|_1`` is at least ``|w_1 - w_0|_1``), and 'group'
        gives it with ``C sqrt(2)`` (the row ``(-w/2, w/2)`` has norm
        ``|w| / sqrt(2)``).
    l1_ratio : float in [0, 1], default=None
        The share of the L1 norm in 'elasticnet' (required there) and of the
        group norm in 'group' (1 when None); not used by the other penalties.
    C : float, default=1.0
        Inverse of the regularisation strength; must be positive. Smaller
        values mean a stronger penalty; ``np.inf`` means none.
    fit_intercept : bool, default=True
        Whether to fit an intercept per class.
    solver : {'auto', 'newton-cg', 'lbfgs', 'gd', 'sgd', 'adam'}, default='auto'
        Optimiser.

        - 'auto': chosen from the data and the penalty: 'newton-cg' for
          'l2' and None, the fastest of the package's solvers to a tight
          optimum on the benchmark problems or within an eighth of it, and
          the one whose lead grows with ill-conditioning; 'gd' for an L1
          part ('l1', 'elasticnet'); for
          'group', 'newton-cg' on larger problems and 'gd' on small ones.
          The choice made is stored in ``solver_``.
        - 'newton-cg': truncated Newton with conjugate gradients on the
          analytic Hessian-vector product, preconditioned with an L2
          penalty by the Hessian's diagonal at the zero model, and a
          backtracking line search; with the group penalty, proximal
          gradient steps alternating with Newton steps on the rows that are
          not zero. There, two fits of the same problem posed differently (a
          sample weight of 2 or the sample twice) agree to within ``tol``
          rather than to rounding, as the truncated conjugate gradients may
          stop one step apart.
        - 'lbfgs': scipy's L-BFGS-B on the analytic objective and gradient;
          on Array API inputs, the package's own L-BFGS, which iterates on
          their device.
        - 'gd': Nesterov-accelerated gradient descent with a backtracking
          (Armijo) step size and adaptive restart.
        - 'sgd': minibatch stochastic gradient descent with momentum
          (proximal steps for the L1 and group penalties); see
          ``learning_rate``, ``momentum`` and ``average``.
        - 'adam': minibatch Adam (Kingma & Ba, 2015), with the decay rates
          0.9 and 0.999 of scikit-learn's MLPClassifier.

        The stochastic solvers count ``max_iter`` in epochs and stop as
        SGDClassifier does (see ``tol``); they also power
        :meth:`partial_fit`, where 'auto' stands for 'sgd'.
    max_iter : int, default=100
        Most iterations of the solver (Newton steps for 'newton-cg', epochs
        for 'sgd' and 'adam').
    tol : float, default=1e-4
        The solver stops once the largest absolute entry of the objective's
        gradient is at most ``tol``. The stochastic solvers stop once
        ``n_iter_no_change`` epochs in a row have not improved the best
        epoch's mean training objective (or, with ``early_stopping``, its
        validation accuracy) by ``tol``; with ``learning_rate='adaptive'``,
        such a stall first divides the step (see ``learning_rate``).
    warm_start : bool, default=False
        Start from the previous solution when refitting on data with the
        same classes and features.
    verbose : int, default=0
        With a positive value, print one line per iteration: the objective,
        the gradient norm, the step length and the time spent.
    n_threads : int, default=None
        Threads for ``fit``. ``X`` is shared out between them in blocks of
        rows (for sparse ``X``, one run of rows per thread), each thread
        running the products and the softmax of its blocks, with the BLAS
        library held to one thread for the duration of the fit. With
        ``None``, small problems run on one thread, where starting threads
        of their own would cost more than they save, and leave the BLAS
        library its threads for the products (except with 'lbfgs', whose
        own BLAS calls would wait for them); larger ones run on as many as
        the BLAS library is currently allowed (so an enclosing
        ``threadpoolctl.threadpool_limits`` is respected), sparse ``X`` on
        at most one per ``n_features * n_classes`` stored values, as each
        thread keeps partial sums of that size. An integer sets the count,
        with BLAS on one thread.
    precision : {'auto', 'mixed', 'full'}, default='auto'
        Precision of the Hessian-vector products of 'newton-cg' on float64
        data. The objective, its gradient, the line search and the iterate
        are always in float64, so the stopping test and the optimum are those
        of float64.

        - 'mixed': the Hessian-vector products, most of the work of a fit,
          run in float32. Dense ``X`` is not copied: each block of rows is
          converted into a float32 buffer as a product reaches it. Sparse
          ``X`` gets a float32 copy of its stored values (the indices are
          shared). A fit is 1.1 to 1.8 times faster on dense data, and on
          sparse data with many classes; the solver takes the same Newton
          steps to the same optimum, but rounding no longer reproduces a fit
          to the last digit: two fits of the same problem posed differently (a sample
          weight of 2 or the sample twice) agree to within ``tol``, not to
          rounding.
        - 'full': they run in float64.
        - 'auto': 'mixed' for dense ``X`` once a product with it takes at
          least 10^5 multiply-adds (entries of ``X`` times classes), 'full'
          below, where a fit takes a few milliseconds and 'mixed' saves
          under 5%. For sparse ``X``, 'mixed' when it stores at most
          ``2 (n_samples + n_features) n_classes`` values, so that their
          float32 copy takes no more memory than the fit's own
          ``n_samples x n_classes`` and ``n_features x n_classes`` arrays,
          and 'full' otherwise.

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
    batch_size : int, default=200
        Samples per minibatch of 'sgd' and 'adam' (all of them when fewer).
    learning_rate : {'adaptive', 'constant', 'invscaling'}, default='adaptive'
        Step schedule of 'sgd' and 'adam'.

        - 'adaptive': ``learning_rate_init`` as long as the epochs improve;
          each time ``n_iter_no_change`` epochs in a row fail to, by the
          rule of ``tol``, the step is divided by 5 and the fit goes on, as
          in scikit-learn's SGDClassifier and MLPClassifier. The fit stops
          at the stall that would take the step below 1e-4 times
          ``learning_rate_init``. A constant step leaves the iterates
          wandering at a distance from the optimum that grows with the step
          and with the noise of the minibatch gradients; each division
          brings them closer. ``partial_fit``, which runs one epoch per
          call and watches no stalls, keeps the step constant.
        - 'constant': ``learning_rate_init`` throughout.
        - 'invscaling': ``learning_rate_init / t^power_t`` at step ``t``.
    learning_rate_init : float, default=None
        The initial step. ``None``: for 'sgd', the inverse of a bound on the
        objective's curvature (half the largest eigenvalue of the weighted
        second moment of ``[X, 1]``, Böhning's bound on the softmax
        Jacobian, plus the L2 strength), estimated by power iteration on the
        data in ``fit`` and on the chunks seen so far in ``partial_fit``;
        for 'adam', 1e-2.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    momentum : float in [0, 1), default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.
    average : bool, default=False
        Whether the model of 'sgd' and 'adam' is the average of the iterates
        with polynomial-decay weights (Shamir & Zhang, 2013: the iterate of
        step ``t`` weighs about ``t^10``) rather than the last iterate. The
        average smooths out the minibatch noise.
    shuffle : bool, default=True
        Whether 'sgd' and 'adam' shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split of ``early_stopping``.
    early_stopping : bool, default=False
        With 'sgd' or 'adam', hold out ``validation_fraction`` of the
        training data (stratified) and stop once its accuracy has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, keeping the
        coefficients of the best epoch, as MLPClassifier does. The other
        solvers refuse it: they converge to the penalised optimum, where
        ``C`` regularises. Not used by :meth:`partial_fit`.
    validation_fraction : float in (0, 1), default=0.1
        The share of the data held out by ``early_stopping``.
    n_iter_no_change : int, default=5
        Epochs without improvement before 'sgd' or 'adam' stop, or, with
        ``learning_rate='adaptive'``, divide their step.

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
        Iterations the solver ran: epochs for 'sgd' and 'adam', calls since
        the first for :meth:`partial_fit`.
    loss_curve_ : ndarray of shape (n_iter_[0],)
        Objective after each iteration; for 'sgd' and 'adam', the mean of
        the minibatch estimates of each epoch (of each call, for
        :meth:`partial_fit`).
    converged_ : bool
        Whether the solver met its stopping rule (see ``tol``); when it did
        not, ``fit`` warned. Always False after :meth:`partial_fit`, which
        leaves stopping to the caller.
    grad_norm_ : float
        The largest absolute entry of the objective's gradient at the
        returned solution, before the intercepts and weights were centred.
        With an L1 or group penalty, that of the gradient mapping of the
        proximal solver's last step, which is the gradient where the
        penalty is smooth. For 'sgd' and 'adam', that of the smooth part on
        the training data (the chunk, for :meth:`partial_fit`).
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

    Under ``sklearn.config_context(array_api_dispatch=True)``, arrays of
    other Array API namespaces, such as PyTorch tensors on a GPU, are fitted
    and predicted on their device with 'newton-cg', 'lbfgs' or 'gd' and the
    L2 penalty or none; the fitted attributes live there too. See the user
    guide's page "On the GPU through the Array API".

    Dask arrays and DataFrames are fitted where Dask holds them, on one
    machine or a ``dask.distributed`` cluster, with the full-batch solvers
    and every penalty: each evaluation moves the parameters and the blocks'
    partial sums, not the data. The predictions on them are lazy dask
    arrays, and ``partial_fit`` takes them one block at a time. See the
    user guide's page "Scaling out with Dask".

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

    # partial_fit steps its stream's optimiser state, curvature and random
    # generator in place.
    _state_changed_in_place = ("_stream",)

    _parameter_constraints: ClassVar[dict] = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet", "group"}), None],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", *SOLVERS, *STOCHASTIC_SOLVERS})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "precision": [StrOptions({"auto", "mixed", "full"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"adaptive", "constant", "invscaling"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"), None],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "average": ["boolean"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
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
        batch_size=200,
        learning_rate="adaptive",
        learning_rate_init=None,
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        average=False,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
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
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.average = average
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by minimising the penalised multinomial log-loss.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. Sparse input is converted to CSR. A dask array
            or DataFrame is fitted blockwise where Dask holds it (its blocks
            of rows persisted once), with solver 'auto', 'newton-cg',
            'lbfgs' or 'gd'.
        y : array-like of shape (n_samples,)
            Class labels; a dask array or Series, or in memory, with dask
            ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``None`` weighs every sample equally. An
            integer weight ``k`` is the same as repeating the sample ``k``
            times.

        Returns
        -------
        self : SoftmaxRegression
            The fitted estimator.
        """
        if is_dask_collection(X):
            fit = self._fit_dask
        elif input_namespace(X) is None:
            fit = self._fit
        else:
            fit = self._fit_array_api
        return self._keeping_state_on_failure(fit, X, y, sample_weight)

    def _has_stochastic_solver(self):
        if self.solver not in ("auto", *STOCHASTIC_SOLVERS):
            raise AttributeError(
                f"partial_fit needs a stochastic solver, 'sgd' or 'adam' ('auto' "
                f"stands for 'sgd' there); solver={self.solver!r} works on all "
                "the data at once: use fit."
            )
        return True

    @available_if(_has_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Take one epoch of stochastic steps on a chunk of the data.

        Only available with the solvers 'sgd', 'adam' and 'auto', which
        stands for 'sgd' here. Each call makes one pass over the chunk
        ``(X, y)`` in minibatches of ``batch_size`` on the objective that
        :meth:`fit` minimises on that chunk
        with the same parameters: the penalty is divided by ``C S_c``, with
        ``S_c`` the chunk's total sample weight. Over a stream of ``m``
        chunks of equal weight, the steps therefore follow the gradient of
        ``fit``'s objective on all the data with ``C / m``: to approach
        ``fit(X, y)`` with ``C``, stream ``m`` equal chunks with ``C * m``
        (see the user guide). The momentum, the averaged model and the step
        count carry over from one call to the next. As for scikit-learn's
        SGDClassifier, stopping (``tol``, ``early_stopping``) is left to the
        caller, who may score a held-out chunk between calls.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A chunk of training data. A dask array or DataFrame is taken one
            block of rows at a time, in order, as one call per block; ``y``
            and ``sample_weight`` are then split into the same blocks.
        y : array-like of shape (n_samples,)
            Its labels, all among ``classes``. A chunk may hold any subset
            of the classes.
        classes : array-like of shape (n_classes,), default=None
            All the classes of the stream. Required on the first call (when
            the estimator has not been fitted); afterwards it may be omitted
            or must equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples.

        Returns
        -------
        self : SoftmaxRegression
            The updated estimator.
        """
        if is_dask_collection(X):
            return self._keeping_state_on_failure(
                self._partial_fit_dask, X, y, classes, sample_weight
            )
        return self._keeping_state_on_failure(
            self._partial_fit, X, y, classes, sample_weight
        )

    def _partial_fit_dask(self, X, y, classes, sample_weight):
        """One ``partial_fit`` call on each block of rows, in order."""
        for X_block, y_block, weights in iter_row_blocks(X, y, sample_weight):
            self._partial_fit(X_block, y_block, classes, weights)
        return self

    def _fit(self, X, y, sample_weight):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            accept_large_sparse=True,
        )
        classes, y_encoded = self._encoded_labels(y)
        sample_weight = self._validated_sample_weight(
            sample_weight, X, y_encoded, classes
        )
        n_classes = classes.size
        n_features = X.shape[1]
        self._check_early_stopping()
        random_state = check_random_state(self.random_state)
        validation_score = None
        if self.early_stopping:
            X, y_encoded, sample_weight, validation_score = self._hold_out(
                X, y_encoded, sample_weight, random_state
            )
        total_weight = (
            X.shape[0] if sample_weight is None else sample_weight.sum(dtype=np.float64)
        )

        loss, shape, l2_reg_strength, norm = self._objective_parts(
            n_classes, n_features, total_weight
        )
        solver = self._solver(X, n_classes, norm)
        coef0 = self._initial_coef(classes, shape[0])
        settings = {
            "max_iter": self.max_iter,
            "tol": self.tol,
            "callback": self._progress_printer(solver) if self.verbose else None,
        }
        if solver in STOCHASTIC_SOLVERS:
            objective = loss.bind_rows(X, y_encoded, sample_weight, l2_reg_strength)
            with limit_blas_threads(1):
                result = minimize_stochastic(
                    objective,
                    coef0.ravel(),
                    settings=self._stochastic_settings(
                        solver,
                        norm,
                        self._default_step(
                            solver,
                            lambda: (
                                loss.curvature_bound(X, sample_weight) + l2_reg_strength
                            ),
                        ),
                    ),
                    n_iter_no_change=self.n_iter_no_change,
                    random_state=random_state,
                    shuffle=self.shuffle,
                    validation_score=validation_score,
                    **settings,
                )
        else:
            result = self._solve(
                X,
                y_encoded,
                sample_weight,
                loss,
                l2_reg_strength,
                norm,
                solver,
                coef0,
                settings,
            )
        self._record_fit(result, solver, shape, norm, classes, X.dtype)
        return self

    def _record_fit(self, result, solver, shape, norm, classes, dtype):
        """Warn if the solver did not converge, and set the fitted
        attributes, as NumPy arrays, from its result."""
        if not result.converged:
            # The user's call of fit, above _fit_context's wrapper, fit,
            # _keeping_state_on_failure and the _fit method.
            warnings.warn(
                self._convergence_message(result, solver, dtype, norm is not None),
                ConvergenceWarning,
                stacklevel=6,
            )
        # A later partial_fit starts a new stream from this solution.
        self.__dict__.pop("_stream", None)
        self._store_solution(to_numpy(result.x), shape, norm, classes, dtype)
        self.solver_ = solver
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.loss_curve_ = result.objective_history
        self.converged_ = bool(result.converged)
        self.grad_norm_ = float(result.grad_norm)

    def _encoded_labels(self, y):
        """The classes, and the label of each sample as an index into them."""
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        _check_two_classes(classes)
        return classes, y_encoded

    def _encoded_labels_on_device(self, y, xp, device):
        """The classes, on the host, and the label of each sample as an index
        into them, on ``device``: for labels ``y`` of the namespace ``xp``
        on ``device``, they are found there, and only the classes come to
        the host. Other labels are encoded on the host and sent."""
        if input_namespace(y) != (xp, device):
            return self._encoded_labels(column_or_1d(to_numpy(y), warn=True))
        y = column_or_1d(
            check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True
        )
        check_classification_targets(y)
        classes, y_encoded = xp.unique_inverse(y)
        classes = to_numpy(classes)
        # The standard leaves the order of the unique values open.
        order = np.argsort(classes, kind="stable")
        if np.any(order != np.arange(classes.size)):
            rank = np.empty_like(order)
            rank[order] = np.arange(classes.size)
            classes = classes[order]
            y_encoded = xp.take(xp.asarray(rank, device=device), y_encoded)
        _check_two_classes(classes)
        return classes, y_encoded

    def _fit_array_api(self, X, y, sample_weight):
        """``fit`` on the arrays of an Array API namespace, on their device:
        the objective, the solver's iterate and the fitted attributes all
        stay there. Only the labels and the sample weights, read once to
        encode and check them, and the final d x K solution, centred and
        sent back, pass through the host."""
        xp, device = input_namespace(X)
        solver = choose_solver(X, None) if self.solver == "auto" else self.solver
        if self.penalty not in ("l2", None) or solver not in ARRAY_API_SOLVERS:
            raise ValueError(
                f"Array API inputs (here {xp.__name__} arrays) are fitted with "
                "penalty='l2' or None and solver='auto', 'lbfgs', 'gd' or "
                f"'newton-cg'; got penalty={self.penalty!r}, "
                f"solver={self.solver!r}. Pass NumPy arrays for the others."
            )
        self._check_early_stopping()
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        check_consistent_length(X, y)
        # On a GPU, encoding a million labels with NumPy takes longer than
        # the whole of the solver.
        classes, y_encoded = self._encoded_labels_on_device(y, xp, device)
        host_dtype = numpy_dtype(xp, X.dtype)
        if sample_weight is not None or self.class_weight is not None:
            # The weights are checked on the host, which needs only X's
            # size and dtype: a stand-in with no columns has both.
            sample_weight = self._validated_sample_weight(
                to_numpy(sample_weight),
                np.empty((X.shape[0], 0), dtype=host_dtype),
                to_numpy(y_encoded),
                classes,
            )
        n_samples, n_features = X.shape
        n_classes = classes.size
        total_weight = (
            n_samples if sample_weight is None else sample_weight.sum(dtype=np.float64)
        )
        _, shape, l2_reg_strength, _ = self._objective_parts(
            n_classes, n_features, total_weight
        )
        weights = (
            xp.full(n_samples, 1 / n_samples, dtype=X.dtype, device=device)
            if sample_weight is None
            else xp.asarray(sample_weight / total_weight, dtype=X.dtype, device=device)
        )
        dtype = parameter_dtype(xp, device)
        objective = bind_objective(
            X,
            xp.asarray(y_encoded, device=device),
            weights,
            n_classes,
            self.fit_intercept,
            l2_reg_strength,
            dtype,
            self.label_smoothing,
        )
        coef0 = self._initial_coef(classes, shape[0])
        result = ARRAY_API_SOLVERS[solver](
            objective,
            xp.asarray(coef0.ravel(), dtype=dtype, device=device),
            max_iter=self.max_iter,
            tol=self.tol,
            callback=self._progress_printer(solver) if self.verbose else None,
        )
        self._record_fit(result, solver, shape, None, classes, host_dtype)
        # The attributes move to the data's device; labels the namespace
        # cannot hold, such as strings, stay NumPy arrays.
        self.coef_ = xp.asarray(self.coef_, device=device)
        self.intercept_ = xp.asarray(self.intercept_, device=device)
        if classes.dtype.kind in "biuf":
            self.classes_ = xp.asarray(classes, device=device)
        self.n_iter_ = xp.asarray(self.n_iter_, device=device)
        self.loss_curve_ = xp.asarray(self.loss_curve_, dtype=dtype, device=device)
        return self

    def _solve(
        self,
        X,
        y_encoded,
        sample_weight,
        loss,
        l2_reg_strength,
        norm,
        solver,
        coef0,
        settings,
    ):
        """Run a deterministic solver on all of ``X``, or in its row space."""
        n_classes = coef0.shape[1]
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

        # The passes share their blocks between their own threads, each
        # calling BLAS, held to one thread, on one block at a time; a
        # problem too small to share out runs on one thread and leaves BLAS
        # its threads. Forming X X^T for wide data is one large product,
        # left to BLAS's threads.
        row_space = None
        # The L1 and group norms are not kept by the row space's rotation.
        if norm is None and choose_row_space(X, n_classes):
            with limit_blas_threads(self._n_threads(X, n_classes, available)):
                row_space = RowSpace.of(X)
        solve = self._minimizer(solver, norm)
        blas_threads = self._blas_threads(X, n_classes, available, solver)
        with limit_blas_threads(blas_threads):
            if row_space is None:
                return solve(bind(X), coef0.ravel(), **settings)
            return solve_in_row_space(solve, row_space, bind, coef0, **settings)

    @staticmethod
    def _minimizer(solver, norm):
        """The function minimising the objective: the solver, or accelerated
        proximal gradient (with Newton steps for 'newton-cg') when the
        penalty has a non-smooth ``norm``."""
        if norm is None:
            return SOLVERS[solver]
        return functools.partial(
            minimize_proximal_agd, penalty=norm, newton_steps=solver == "newton-cg"
        )

    def _fit_dask(self, X, y, sample_weight):
        """``fit`` on dask collections, with the full-batch solvers.

        The blocks of rows are persisted once, where the scheduler puts
        them (on the workers of a distributed cluster), and checked there;
        each evaluation of the objective then moves only the parameters and
        the blocks' partial sums (see ``_loss_dask``)."""
        # Dask is optional: only a dask input brings it in.
        from ._loss_dask import bind_objective as bind_dask_objective

        if self.solver in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"fit on dask collections runs the full-batch solvers; "
                f"solver={self.solver!r} takes minibatches: use partial_fit, "
                "which takes a dask collection one block at a time, or "
                "dask-ml's Incremental wrapper."
            )
        self._check_early_stopping()
        # A DataFrame's empty stand-in carries its column names.
        _check_feature_names(self, X._meta if is_frame(X) else X, reset=True)
        X, y, sample_weight = fit_inputs(X, y, sample_weight)
        _check_n_features(self, X, reset=True)
        n_features, dtype = X.shape[1], X.dtype
        row_blocks = persist_row_blocks(X, y, sample_weight)
        finite, labels, weights_finite, least_weight = summarise(row_blocks)
        if not finite:
            raise ValueError("Input X contains NaN or infinity.")
        if not weights_finite:
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if least_weight < 0:
            raise ValueError("Negative values in data passed to `sample_weight`")
        classes, _ = self._encoded_labels(labels)
        totals = class_totals(row_blocks, classes)
        factors = None
        if self.class_weight is not None:
            factors = self._class_weights(totals, classes)
            totals = totals * factors
        self._check_class_totals(totals, classes, 2)
        # The labels as indices, weighted by class: blocks that replace the
        # ones read from the input, on the same workers.
        row_blocks = encode_row_blocks(row_blocks, classes, factors)
        n_classes, total_weight = classes.size, totals.sum()
        _, shape, l2_reg_strength, norm = self._objective_parts(
            n_classes, n_features, total_weight
        )
        solver = self._solver(X, n_classes, norm)
        objective = bind_dask_objective(
            row_blocks,
            total_weight,
            n_features,
            n_classes,
            self.fit_intercept,
            l2_reg_strength,
            rounding=16 * float(np.finfo(dtype).eps),
            label_smoothing=self.label_smoothing,
        )
        result = self._minimizer(solver, norm)(
            objective,
            self._initial_coef(classes, shape[0]).ravel(),
            max_iter=self.max_iter,
            tol=self.tol,
            callback=self._progress_printer(solver) if self.verbose else None,
        )
        self._record_fit(result, solver, shape, norm, classes, dtype)
        return self

    def _partial_fit(self, X, y, classes, sample_weight):
        if input_namespace(X) is not None:
            raise ValueError(
                "partial_fit takes NumPy arrays and SciPy sparse matrices; "
                f"X is a {namespace_name(X)} array. Use fit, "
                "which fits Array API inputs on their device, or pass chunks "
                "as NumPy arrays."
            )
        if classes is None and not hasattr(self, "classes_"):
            raise ValueError(
                "classes must be passed to the first call of partial_fit: the "
                "labels of all the classes the stream holds, as later chunks "
                "may not show them all."
            )
        stream = getattr(self, "_stream", None)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            accept_large_sparse=True,
            reset=not hasattr(self, "classes_"),
        )
        check_classification_targets(y)
        classes = self._stream_classes(classes)
        y_encoded = np.searchsorted(classes, y)
        unknown = (y_encoded >= classes.size) | (
            classes[np.minimum(y_encoded, classes.size - 1)] != y
        )
        if np.any(unknown):
            labels = np.unique(y[unknown]).tolist()
            raise ValueError(
                f"y has labels that are not in classes: {labels}; the classes "
                f"are {classes.tolist()}."
            )
        solver = "sgd" if self.solver == "auto" else self.solver
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs the class totals of all the "
                "data, which partial_fit does not see: pass class_weight as a "
                "dict."
            )
        # A chunk may hold a single class of the stream.
        sample_weight = self._validated_sample_weight(
            sample_weight, X, y_encoded, classes, min_classes=1
        )
        n_classes, n_features = classes.size, X.shape[1]
        total_weight = X.shape[0] if sample_weight is None else sample_weight.sum()
        loss, shape, l2_reg_strength, norm = self._objective_parts(
            n_classes, n_features, total_weight
        )
        self._solver(X, n_classes, norm, solver)
        objective = loss.bind_rows(X, y_encoded, sample_weight, l2_reg_strength)
        if stream is None:
            stream = _Stream(
                StochasticState(self._initial_coef(classes, shape[0], True).ravel()),
                RunningCurvature(loss),
                check_random_state(self.random_state),
            )
        step = self._default_step(
            solver,
            lambda: stream.curvature.update(X, sample_weight) + l2_reg_strength,
        )
        settings = self._stochastic_settings(solver, norm, step)
        order = np.arange(X.shape[0])
        if self.shuffle:
            stream.random_state.shuffle(order)
        with limit_blas_threads(1):
            value = run_epoch(objective, stream.state, settings, order)
            solution = stream.state.solution(settings)
            _, gradient = objective.value_and_gradient(solution, np.arange(X.shape[0]))
        self._stream = stream
        self._store_solution(solution, shape, norm, classes, X.dtype)
        self.solver_ = solver
        stream.n_calls += 1
        stream.history.append(value)
        self.n_iter_ = np.array([stream.n_calls], dtype=np.int32)
        self.loss_curve_ = np.asarray(stream.history)
        self.converged_ = False
        self.grad_norm_ = float(np.max(np.abs(gradient)))
        return self

    def _stream_classes(self, classes):
        """The classes of a stream: ``classes`` on its first call, checked
        against ``classes_`` afterwards."""
        if hasattr(self, "classes_"):
            if classes is not None and not np.array_equal(
                np.unique(classes), self.classes_
            ):
                raise ValueError(
                    f"classes={np.unique(classes).tolist()} differs from the "
                    f"classes of the previous calls, {self.classes_.tolist()}."
                )
            return self.classes_
        classes = np.unique(classes)
        if classes.size < 2:
            raise ValueError(
                f"classes must hold at least 2 classes; got {classes.tolist()}."
            )
        return classes

    def _check_early_stopping(self):
        if self.early_stopping and self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"early_stopping=True needs a stochastic solver, 'sgd' or 'adam'; "
                f"solver={self.solver!r} converges to the penalised optimum, "
                "where a smaller C, not an early stop, regularises."
            )

    def _hold_out(self, X, y_encoded, sample_weight, random_state):
        """Split off ``validation_fraction`` of the samples, stratified, and
        return the rest with a function scoring coefficients on the split."""
        n_samples = X.shape[0]
        counts = np.bincount(y_encoded)
        n_classes = np.count_nonzero(counts)
        # At least one sample of each class on either side, where there are
        # enough; stratified when every class has two samples to share.
        n_held_out = max(math.ceil(self.validation_fraction * n_samples), n_classes)
        if n_samples - n_held_out < n_classes:
            raise ValueError(
                f"early_stopping needs at least {2 * n_classes} samples, to hold "
                f"out validation_fraction={self.validation_fraction:g} of them "
                f"and train on the rest; got {n_samples}."
            )
        stratify = y_encoded if counts[counts > 0].min() >= 2 else None
        train, held_out = train_test_split(
            np.arange(n_samples),
            test_size=n_held_out,
            stratify=stratify,
            random_state=random_state,
        )
        X_held_out, y_held_out = X[held_out], y_encoded[held_out]
        weights = None if sample_weight is None else sample_weight[held_out]
        n_features = X.shape[1]

        def validation_score(x):
            coef = x.reshape(n_features + int(self.fit_intercept), -1)
            scores = np.asarray(X_held_out @ coef[:n_features])
            if self.fit_intercept:
                scores = scores + coef[n_features]
            correct = np.argmax(scores, axis=1) == y_held_out
            return float(np.average(correct, weights=weights))

        weights_train = None if sample_weight is None else sample_weight[train]
        return X[train], y_encoded[train], weights_train, validation_score

    def _default_step(self, solver, curvature_bound):
        """``learning_rate_init``, or the default step: for 'sgd', the
        inverse of ``curvature_bound()``, a bound on the objective's
        curvature; 1e-2 for 'adam'."""
        if self.learning_rate_init is not None:
            return float(self.learning_rate_init)
        return 1.0 / curvature_bound() if solver == "sgd" else 1e-2

    def _stochastic_settings(self, solver, norm, step):
        return StochasticSettings(
            method=solver,
            learning_rate=self.learning_rate,
            eta0=step,
            power_t=self.power_t,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            batch_size=self.batch_size,
            average=self.average,
            penalty=norm,
        )

    def _store_solution(self, x, shape, norm, classes, dtype):
        """Set ``classes_``, ``coef_`` and ``intercept_`` from a solver's
        flat solution."""
        n_features, n_classes = shape[0] - int(self.fit_intercept), shape[1]
        coef = x.reshape(shape)
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
        if n_classes == 2:
            self.coef_ = (W[:, 1] - W[:, 0])[np.newaxis, :].astype(dtype)
            self.intercept_ = np.array([b[1] - b[0]], dtype=dtype)
        else:
            self.coef_ = np.ascontiguousarray(W.T, dtype=dtype)
            self.intercept_ = b.astype(dtype)

    def _n_threads(self, X, n_classes, available):
        """``n_threads``, or the heuristic's count within ``available``."""
        if self.n_threads is not None:
            return self.n_threads
        return choose_n_threads(X, n_classes, available=available)

    def _blas_threads(self, X, n_classes, available, solver):
        """BLAS threads while a deterministic solver runs: one where
        ``n_threads`` is set, the heuristic's count otherwise."""
        if self.n_threads is not None:
            return 1
        return choose_blas_threads(X, n_classes, available, solver)

    def _convergence_message(self, result, solver, dtype, proximal):
        if solver in STOCHASTIC_SOLVERS:
            watched = (
                "validation accuracy" if self.early_stopping else "training objective"
            )
            if result.worse_than_start:
                return (
                    f"SoftmaxRegression(solver={solver!r}) stopped as its "
                    f"{watched} no longer improved, but {result.message}: its "
                    "steps are too large for this data. Scale the features (for "
                    "instance with sklearn.preprocessing.StandardScaler), or "
                    "lower learning_rate_init."
                )
            return (
                f"SoftmaxRegression(solver={solver!r}) ran max_iter="
                f"{self.max_iter} epochs, and its {watched} was still improving "
                f"by more than tol={self.tol:g} within n_iter_no_change="
                f"{self.n_iter_no_change} epochs. Increase max_iter, or use a "
                "deterministic solver to reach the optimum."
            )
        measure = (
            "largest absolute entry of the gradient mapping"
            if proximal
            else "largest absolute gradient entry"
        )
        # tol=0 asks for max_iter iterations, or as many as rounding allows.
        above = (
            f"{result.grad_norm / self.tol:.3g} times tol={self.tol:g}"
            if self.tol > 0
            else "above tol=0"
        )
        where = (
            f"SoftmaxRegression(solver={solver!r}) stopped with the {measure} "
            f"at {result.grad_norm:.3g}, {above}"
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

    def _validated_sample_weight(
        self, sample_weight, X, y_encoded, classes, min_classes=2
    ):
        """The sample weights times the class weights, checked to leave
        ``min_classes`` classes with weight; None when both are None."""
        if sample_weight is None and self.class_weight is None:
            return None
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        totals = np.bincount(y_encoded, weights=sample_weight, minlength=classes.size)
        if self.class_weight is not None:
            weights = self._class_weights(totals, classes)
            sample_weight = sample_weight * weights[y_encoded].astype(X.dtype)
            totals = totals * weights
        self._check_class_totals(totals, classes, min_classes)
        return sample_weight

    @staticmethod
    def _check_class_totals(totals, classes, min_classes):
        """Raise unless ``min_classes`` classes have a positive total weight."""
        if not totals.sum() > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one sample needs a "
                "positive weight."
            )
        if np.count_nonzero(totals) < min_classes:
            remaining = classes.tolist()[np.flatnonzero(totals)[0]]
            raise ValueError(
                "SoftmaxRegression needs samples of at least 2 classes with a "
                "positive sample_weight, but only one class has any: "
                f"{remaining!r}."
            )

    def _objective_parts(self, n_classes, n_features, total_weight):
        """The loss, the layout of its coefficients, and the penalty's L2
        strength and non-smooth norm for data of ``total_weight``."""
        loss = MultinomialLoss(n_classes, self.fit_intercept, self.label_smoothing)
        shape = (loss.n_coef_rows(n_features), n_classes)
        strength = 0.0 if self.penalty is None else 1.0 / (self.C * float(total_weight))
        l2_reg_strength, norm = split_penalty(
            *self._penalty_mix(), strength, n_features, shape
        )
        return loss, shape, l2_reg_strength, norm

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

    def _solver(self, X, n_classes, norm, solver=None):
        """The solver to run: ``solver``, or the one 'auto' stands for."""
        solver = self.solver if solver is None else solver
        if norm is None:
            return choose_solver(X, n_classes) if solver == "auto" else solver
        group = isinstance(norm, GroupNorm)
        if solver == "auto":
            return choose_proximal_solver(X, n_classes, group)
        if solver in ("gd", "sgd") or (solver == "newton-cg" and group):
            return solver
        part = "a group-norm" if group else "an L1"
        newton = ", 'newton-cg' (with Newton steps on the support)" if group else ""
        raise ValueError(
            f"penalty={self.penalty!r} has {part} part, which solver="
            f"{solver!r} cannot handle: it needs a smooth objective. Use "
            f"solver='gd' (accelerated proximal gradient){newton}, 'auto', or "
            "'sgd' (proximal stochastic steps)."
        )

    def _class_weights(self, totals, classes):
        """The weight of each class, as ``class_weight`` gives it, for the
        classes' ``totals`` of sample weight."""
        if isinstance(self.class_weight, str):  # 'balanced'
            # The total weight shared equally between the classes present.
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

    def _initial_coef(self, classes, n_rows, keep=False):
        """Zeros, or the previous solution in the solver's layout when
        ``warm_start`` or ``keep`` is set."""
        n_classes = classes.size
        coef = np.zeros((n_rows, n_classes))
        if not ((self.warm_start or keep) and hasattr(self, "coef_")):
            return coef
        # The previous fit may have left its model on another device.
        previous_classes = to_numpy(self.classes_)
        previous_coef = to_numpy(self.coef_)
        previous_intercept = to_numpy(self.intercept_)
        if not np.array_equal(classes, previous_classes):
            raise ValueError(
                "warm_start needs the same classes as the previous fit: "
                f"got {classes.tolist()}, previously {previous_classes.tolist()}."
            )
        n_features = previous_coef.shape[1]
        if n_features != n_rows - int(self.fit_intercept):
            raise ValueError(
                "warm_start needs the same number of features as the previous "
                f"fit: got {n_rows - int(self.fit_intercept)}, previously "
                f"{n_features}."
            )
        if n_classes == 2:
            # The centred two-class solution is (-w/2, w/2).
            half = 0.5 * np.concatenate([previous_coef.ravel(), previous_intercept])
            full = np.column_stack([-half, half])
        else:
            full = np.vstack([previous_coef.T, previous_intercept[np.newaxis, :]])
        coef[:n_features] = full[:n_features]
        if self.fit_intercept:
            coef[n_features] = full[n_features]
        return coef

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = (
            self.penalty in ("l2", None)
            and self.solver in ("auto", *ARRAY_API_SOLVERS)
            and not self.early_stopping
        )
        return tags

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
