"""SoftmaxRegression: scikit-learn's API on the fit recipe that every kind of
input shares.

A fit validates the data and encodes its labels, describes the objective,
chooses the solver, starts from zeros or the previous model, runs the
solver and records the result: the same steps whatever the data, with what
differs between NumPy, Array API and Dask inputs left to a backend (see
``_backends``), and the same steps, on a chunk, for ``partial_fit``.
"""

import time
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Hidden, Interval, StrOptions

from ._array_api import namespace_name, to_numpy
from ._backends import NumpyBackend, ObjectiveSpec, SolveSettings, backend_for
from ._base import LinearSoftmaxClassifierMixin
from ._coef_layout import model_attributes, solver_matrix
from ._dask import is_dask_collection, iter_row_blocks
from ._loss import RunningCurvature
from ._messages import (
    SeparationWarning,
    caller_stacklevel,
    convergence_message,
    proves_separation,
    separation_message,
)
from ._penalties import split_penalty
from ._penalty_params import UNSET, resolve_penalty
from ._progress import FitProgress, print_stream_header, print_stream_row
from ._solvers import (
    ARRAY_API_SOLVERS,
    SOLVERS,
    STOCHASTIC_SOLVERS,
    StochasticSettings,
    StochasticState,
    default_sgd_step,
    minimize_stochastic,
    run_epoch,
)
from ._streaming import StreamState, stream_classes, stream_generator
from ._threads import single_threaded_blas
from ._unused_settings import defaults, unused_settings


class SoftmaxRegression(LinearSoftmaxClassifierMixin, BaseEstimator):
    r"""Multinomial (softmax) logistic regression.

    Fits the model that :class:`~sklearn.linear_model.LogisticRegression`
    fits for three or more classes, with the same ``C`` and ``l1_ratio``:
    for data ``X``, labels ``y`` and sample weights ``s`` summing to ``S``,
    it minimises, with the default L2 penalty,

    .. math::

        \frac{1}{S} \sum_i s_i \left(-\log p_{i, y_i}\right)
        + \frac{1}{2 C S} \lVert W \rVert_F^2,
        \qquad p_i = \mathrm{softmax}(W^T x_i + b).

    The intercepts ``b`` are not penalised; they are centred to sum to zero.

    Parameters
    ----------
    l1_ratio : float in [0, 1], default=0.0
        The share ``rho`` of the L1 part of the penalty, which, with ``C``,
        chooses the penalty as in
        :class:`~sklearn.linear_model.LogisticRegression` of scikit-learn
        1.8 and later. The penalty added to the mean log-loss is

        .. math::

            \frac{1}{C S} \Bigl(\rho \sum_{jk} \lvert W_{jk} \rvert
            + \frac{1 - \rho}{2} \lVert W \rVert_F^2\Bigr):

        - 0: the L2 penalty of the objective above;
        - 1: the L1 norm, which sets weights exactly to zero;
        - in between: the elastic net.

        With ``l1_groups='features'`` the L1 part is the group norm instead.
        With ``C=np.inf`` there is no penalty, and a value above 0 warns
        that it is not used. None is deprecated, as in LogisticRegression,
        and reads as 0.
    l1_groups : {None, 'features'}, default=None
        What the L1 part of the penalty sums.

        - None: the absolute values of single weights, ``sum |W_jk|``, as
          in LogisticRegression.
        - 'features': the Euclidean norms of the features' rows of weights
          across all classes, ``sum_j |W_j|_2``, so that a feature is
          dropped from every class at once: glmnet's grouped multinomial
          lasso, and the mixed norm of scikit-learn's MultiTaskElasticNet.
          LogisticRegression has no counterpart.

        Not used, and a warning says so, when the penalty has no L1 part
        (``l1_ratio=0`` or ``C=np.inf``).
    C : float, default=1.0
        Inverse of the regularisation strength; must be positive. Smaller
        values mean a stronger penalty. ``np.inf`` means none, the objective
        of ``LogisticRegression(C=np.inf)``. Without a penalty the optimum
        is not unique where features are collinear, and does not exist
        where the classes are linearly separable. There the objective falls
        towards 0 as the weights grow along a separating direction, and
        its gradient falls with it, so a fit meets ``tol`` (``converged_``
        is True) at finite weights that depend on ``tol``: for the
        deterministic solvers they grow like ``log(1/tol)``. A fit whose
        objective shows it, every training sample given a probability
        above ``1/sqrt(2)`` for its own class, warns with a
        :class:`SeparationWarning`.

        An L1 part (or a group part) is solved by 'gd' as accelerated
        proximal gradient (FISTA), and the group norm also by 'newton-cg',
        which adds Newton steps on the rows that are not zero; 'auto' picks
        'newton-cg' for the group norm on larger problems and 'gd'
        otherwise. 'lbfgs' and 'adam' refuse them. An L1 optimum is not
        centred, so its weights are not centred. With two classes, each
        penalty is one of binary logistic regression with another ``C``
        and ``l1_ratio`` (see Notes).
    fit_intercept : bool, default=True
        Whether to fit an intercept per class.
    solver : str, default='auto'
        Optimiser: 'auto', 'newton-cg', 'newton-cholesky', 'lbfgs', 'gd',
        'sgd' or 'adam'.

        - 'auto': chosen from the data and the penalty: for the L2 penalty
          or none, 'newton-cholesky' for float64 data whose Hessian has at
          most 100 rows (``(n_features + fit_intercept) * n_classes``
          parameters), but for two classes of NumPy or SciPy data, solved
          in the difference of their parameters (``r = n_features +
          fit_intercept`` rows), where ``r <= 21`` or forming and
          factorising that Hessian takes at most 15 million multiply-adds,
          ``n_samples * r * (r + 1) / 2 + r**3 / 3``, whatever the 100
          rows; and 'newton-cg' otherwise, the fastest of the
          package's solvers to a tight optimum on the benchmark problems or
          within an eighth of it, and the one whose lead grows with
          ill-conditioning; 'gd' for
          an L1
          part (``l1_ratio`` above 0); for the group norm
          (``l1_groups='features'``), 'newton-cg' on larger problems and
          'gd' on small ones.
          The choice made is stored in ``solver_``.
        - 'newton-cg': truncated Newton with conjugate gradients on the
          analytic Hessian-vector product, preconditioned with an L2
          penalty by a Kronecker-factored approximation of the Hessian
          where one is offered (dense data of at most 2047 features, sparse
          data with at least ``(n_features + 1) K`` stored values): from the
          first step where it costs less than a Hessian-vector product to
          form, as on sparse data, else once a step has taken more products
          than it costs, and by the Hessian's diagonal at the zero model
          until then; on float64 data with a penalty and at most 2048
          parameters, a step that takes as many products as forming and
          factoring the Hessian costs stops there and takes the exact
          Newton step, and the Hessian then preconditions the next steps,
          formed anew once they have taken that many products (so it
          takes exact steps where conjugate gradients struggle); and a
          backtracking line search; with the group norm, proximal
          gradient steps alternating with Newton steps on the rows that are
          not zero. There, two fits of the same problem posed differently (a
          sample weight of 2 or the sample twice) agree to within ``tol``
          rather than to rounding, as the truncated conjugate gradients may
          stop one step apart.
        - 'newton-cholesky': Newton's method with exact steps, from a
          Cholesky factorisation of the Hessian formed at each iteration
          (``n p^2`` multiply-adds for ``p`` parameters), and the same line
          search: few iterations however ill-conditioned the problem, for
          problems with a small ``p``; with the L2 penalty or none. On
          float32 NumPy data it runs on a float64 copy of ``X``: exact steps
          need the gradient to float64 precision where the least curvature
          is below float32's rounding.
        - 'lbfgs': scipy's L-BFGS-B on the analytic objective and gradient;
          on Array API inputs, the package's own L-BFGS, which iterates on
          their device.
        - 'gd': Nesterov-accelerated gradient descent with a backtracking
          (Armijo) step size and adaptive restart.
        - 'sgd': minibatch stochastic gradient descent with momentum
          (proximal steps for an L1 or group part); see
          ``learning_rate``, ``momentum`` and ``average``.
        - 'adam': minibatch Adam (Kingma & Ba, 2015), with the decay rates
          0.9 and 0.999 of scikit-learn's MLPClassifier.

        The stochastic solvers count ``max_iter`` in epochs and stop as
        SGDClassifier does (see ``tol``); they also power
        :meth:`partial_fit`, where 'auto' stands for 'sgd'.
    max_iter : int, default=100
        Most iterations of the solver (Newton steps for 'newton-cg', epochs
        for 'sgd' and 'adam'). 0 returns the starting model (zero weights,
        or the previous model with ``warm_start``) with ``n_iter_`` 0, and
        a ConvergenceWarning unless it already meets ``tol``, as
        LogisticRegression's 'newton-cg' returns its start and its 'lbfgs'
        warns.
    tol : float, default=1e-4
        The solver stops once the largest absolute entry of the objective's
        gradient is at most ``tol``. The stochastic solvers stop once
        ``n_iter_no_change`` epochs in a row have not improved the best
        epoch's mean training objective (or, with ``early_stopping``, its
        validation accuracy) by ``tol``; with ``learning_rate='adaptive'``,
        such a stall first divides the step (see ``learning_rate``).
    warm_start : bool, default=False
        Start from the previous solution when refitting; the data must have
        the same classes and features (a ValueError says which differ).
    verbose : int, default=0
        With a positive value, ``fit`` prints a table with a header and one
        row per iteration (epoch, for 'sgd' and 'adam'): the objective, the
        largest absolute gradient entry, the Euclidean norm of the step
        ``|step|``, for the Newton solvers the line search's step size ``t``
        (1 for the full Newton step), and the seconds since the fit started.
        ``partial_fit`` prints one row per call: the call number, the
        samples seen so far, the call's objective (as in ``loss_curve_``),
        the largest absolute gradient entry after the call, and the call's
        seconds. The diagnostics page shows an example.
    n_threads : int, default=None
        Threads for ``fit``. ``X`` is cut into blocks of rows (runs of rows
        for sparse ``X``) that depend on the data alone, and the threads
        share them out, each running the products and the softmax of its
        blocks; each block's share of the sums is added in the order of the
        blocks, so the fitted model is the same, to the last bit, on any
        number of threads. The BLAS library is held to one thread while a
        fit runs, and its limit put back afterwards (fits that overlap in
        several Python threads share the hold), so that the model does not
        depend on the BLAS limit either. With ``None``, small problems run on
        one thread, where starting threads of their own would cost more than
        they save; larger ones on as many as the BLAS library was allowed
        when ``fit`` was called (so an enclosing
        ``threadpoolctl.threadpool_limits`` is respected), sparse ``X`` on
        at most one per ``n_features * n_classes`` stored values. An integer
        sets the count. 'sgd' and 'adam' run on one thread, and Array API
        and dask inputs on the threads of their library or scheduler: set
        for one of them, ``n_threads`` warns that it is not used.
    precision : {'auto', 'mixed', 'full'}, default='auto'
        Precision of the Hessian-vector products of 'newton-cg' on float64
        data. The objective, its gradient, the line search and the iterate
        are always in float64, so the stopping test and the optimum are those
        of float64.

        - 'mixed': the Hessian-vector products, most of the work of a fit,
          run in float32. Dense ``X`` is not copied: each block of rows is
          converted into a float32 buffer as a product reaches it. Sparse
          ``X`` gets a float32 copy of its stored values (the indices are
          shared). A fit is faster on dense data, and on sparse data with
          many classes (the solvers page has the figures); the solver takes
          the same Newton steps to the same optimum, but two fits of the
          same problem posed differently (a sample weight of 2 or the sample
          twice) agree to within ``tol``, not to rounding.
        - 'full': they run in float64.
        - 'auto': 'mixed' for dense ``X`` once a product with it takes at
          least 10^5 multiply-adds (entries of ``X`` times classes), 'full'
          below, where a fit takes a few milliseconds and 'mixed' saves
          little. For sparse ``X``, 'mixed' when it stores at most
          ``2 (n_samples + n_features) n_classes`` values, so that their
          float32 copy takes no more memory than the fit's own
          ``n_samples x n_classes`` and ``n_features x n_classes`` arrays,
          and 'full' otherwise.

        Data whose largest entry lies outside ``[2^-64, 2^64]`` keeps its
        products in float64 with 'mixed' and 'auto' too: a float32 copy
        would leave float32's range or its normal numbers.

        C-ordered float32 NumPy data is not copied: everything runs in
        float32, with float64 sums, and ``precision`` is not used. Nor do
        the other solvers use it: set to 'mixed' or 'full' for one of them,
        or for float32 NumPy or dask data, it warns.

        On Array API inputs (see :ref:`gpu`), 'mixed' runs the products on a
        copy of ``X`` in a lower dtype, made once per fit: float32 for
        float64 ``X``; for float32 ``X``, bfloat16 where the namespace has
        it (PyTorch), else float16 scaled into its range (CuPy). 'auto' does
        so on a CUDA device once a product takes at least 10^8 multiply-adds
        and the copy takes at most half of the device's free memory, and
        keeps the products in ``X``'s dtype otherwise. The objective, the
        gradient and the stopping test stay in ``X``'s dtype there too.

        On dask collections (see :ref:`dask`), each worker runs the products
        on its own blocks as for dense NumPy data, with 'auto' deciding on
        the whole of ``X``.

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, as in
        :class:`~sklearn.linear_model.LogisticRegression`: each sample's
        weight is multiplied by the weight of its class, and ``S`` in the
        objective is the sum of these products. A dict maps class labels to
        weights (missing classes weigh 1); labels that are not classes of
        ``y`` are left aside where it weighs every class of ``y`` (a
        meta-estimator or a fold may fit some of the classes), and refused
        otherwise. 'balanced' gives class ``k`` the
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
        This and the settings below it to ``n_iter_no_change``, but for
        ``random_state`` and ``early_stopping``, are read by 'sgd' and
        'adam' only: a value other than the default warns that it is not
        used where a fit runs another solver. So do ``momentum`` and
        ``nesterovs_momentum`` with 'adam', ``power_t`` without
        ``learning_rate='invscaling'`` and ``validation_fraction`` without
        ``early_stopping``. A seed, ``random_state``, does not warn.
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
        Jacobian, plus the L2 strength, which the intercepts' step leaves
        out), estimated by power iteration on the data in ``fit`` and on the
        chunks seen so far in ``partial_fit``; for 'adam', 1e-2.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    momentum : float in [0, 1), default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum; False with ``momentum=0``
        warns that it is not used.
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
        ``C`` regularises. Not used by :meth:`partial_fit`, which warns
        when it is set: there the caller decides when a stream stops.
    validation_fraction : float in (0, 1), default=0.1
        The share of the data held out by ``early_stopping``.
    n_iter_no_change : int, default=5
        Epochs without improvement before 'sgd' or 'adam' stop, or, with
        ``learning_rate='adaptive'``, divide their step.
    penalty : {'l2', 'l1', 'elasticnet', 'group', None}
        Deprecated, as in LogisticRegression since scikit-learn 1.8 (which
        removes it in 1.10): leave it unset and choose the penalty with
        ``l1_ratio``, ``C`` and ``l1_groups``. Setting it warns
        (FutureWarning), and it reads as LogisticRegression reads it: 'l2'
        as ``l1_ratio=0``, 'l1' as ``l1_ratio=1``, 'elasticnet' as the
        ``l1_ratio`` it requires, None as ``C=np.inf`` (a ``C`` other than
        1 is then not used), and 'group' as ``l1_groups='features'`` with
        ``l1_ratio`` (1 when 0 or None, its former default). An
        ``l1_ratio`` that 'l2', 'l1' or None does not use warns, as there.
    n_jobs : None
        Not used, as in LogisticRegression since scikit-learn 1.8, whose
        multinomial fit has one task to run: accepted so that code written
        for LogisticRegression runs, with a FutureWarning when set, and to
        be removed with LogisticRegression's. ``n_threads`` sets the
        threads of a fit, which share the blocks of rows of ``X`` and give
        the same model on any number of threads.

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
        Iterations the solver ran: epochs for 'sgd' and 'adam'; for
        :meth:`partial_fit`, the calls of the stream so far, less those whose
        chunk had no weight, which take no step.
    loss_curve_ : ndarray of shape (n_iter_[0],)
        Objective after each iteration; for 'sgd' and 'adam', the mean of
        the minibatch estimates of each epoch (of each call that took
        steps, for :meth:`partial_fit`, where this array and
        ``grad_norm_curve_`` are read-only views of the stream's
        records).
    grad_norm_curve_ : ndarray of shape (n_iter_[0],)
        The largest absolute gradient entry after each iteration, the value
        the stopping rule compares with ``tol``, so that its last entry is
        ``grad_norm_`` where the model is the last iterate of a problem
        solved on ``X`` itself (with an L1 or group penalty, that of the
        gradient mapping, as for ``grad_norm_``; see the diagnostics page
        for the exceptions). NaN for every epoch of 'sgd' and
        'adam' in ``fit``, whose epochs compute no gradient on all the
        samples; after each call for :meth:`partial_fit`, ``grad_norm_`` on
        that call's chunk.
    converged_ : bool
        Whether the solver met its stopping rule (see ``tol``); when it did
        not, ``fit`` warned. Always False after :meth:`partial_fit`, which
        leaves stopping to the caller.
    grad_norm_ : float
        The largest absolute entry of the objective's gradient at the
        returned solution, before the intercepts and weights were centred.
        With an L1 or group penalty, that of the gradient mapping of the
        proximal solver's last step, which is the gradient where the
        penalty is smooth. With an intercept, for dense data with a column
        far from zero beside its spread, which the deterministic solvers fit
        centred, that of the centred problem (see the solvers page). For 'sgd' and
        'adam', that of the smooth part on
        the training data (the chunk, for :meth:`partial_fit`; a chunk of
        no weight, which has no objective, leaves the stream's previous
        value, NaN where the stream has none yet, as on its first call).
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
    ``w_1``, both penalised. The likelihood depends on ``w = w_1 - w_0``
    only, and of all pairs with a given difference the pair
    ``(-w/2, w/2)`` has the smallest penalty, of every kind: ``|w|^2 / 4``
    for the L2 part, ``|w|_1`` for the L1 part (which every pair of
    opposite signs also reaches), ``|w|_1 / sqrt(2)`` for the group part.
    Each penalty is therefore one of binary logistic regression on ``w``,
    with other ``C`` and ``l1_ratio``, those of ``LogisticRegression`` that
    gives the same model:

    - the L2 penalty (``l1_ratio=0``): ``C' = 2 C``;
    - ``l1_ratio=rho`` (1 for L1): ``C' = 2 C / (1 + rho)`` and
      ``l1_ratio' = 2 rho / (1 + rho)``; the L1 penalty (``rho = 1``) has
      the same ``C``;
    - the group norm with ``l1_ratio=rho``:
      ``C' = 2 C / (1 + (sqrt(2) - 1) rho)`` and
      ``l1_ratio' = sqrt(2) rho / (1 + (sqrt(2) - 1) rho)``, so
      ``C' = sqrt(2) C`` for the group norm alone.

    As there, ``coef_`` has one row, ``w``, and :meth:`decision_function`
    returns one score per sample, the log-odds of ``classes_[1]``.

    The gradient and the solvers are derived in the documentation's
    "Mathematics" page.

    Under ``sklearn.config_context(array_api_dispatch=True)``, arrays of
    other Array API namespaces, such as PyTorch tensors on a GPU, are fitted
    and predicted on their device with 'newton-cg', 'newton-cholesky',
    'lbfgs' or 'gd' and the L2 penalty or none; the fitted attributes live
    there too. See the user
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

    _parameter_constraints: ClassVar[dict] = {
        "penalty": [
            StrOptions({"l2", "l1", "elasticnet", "group"}),
            None,
            Hidden(StrOptions({UNSET})),
        ],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "l1_groups": [StrOptions({"features"}), None],
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", *SOLVERS, *STOCHASTIC_SOLVERS})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
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
        l1_ratio=0.0,
        l1_groups=None,
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
        penalty=UNSET,
        n_jobs=None,
    ):
        self.l1_ratio = l1_ratio
        self.l1_groups = l1_groups
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
        self.penalty = penalty
        self.n_jobs = n_jobs

    # partial_fit steps its stream's optimiser state, curvature and random
    # generator in place.
    _state_changed_in_place = ("_partial_fit_state",)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by minimising the penalised multinomial log-loss.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. Sparse input is converted to CSR. A dask array
            or DataFrame is fitted blockwise where Dask holds it (its blocks
            of rows persisted once), with solver 'auto', 'newton-cg',
            'newton-cholesky', 'lbfgs' or 'gd'.
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
        return self._run_fit(self._fit, backend_for(X), X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_with_classes(self, X, y, sample_weight, classes):
        """``fit`` on NumPy or SciPy data, with the labels encoded against
        ``classes`` (sorted), which ``y`` need not all show: a class without
        samples keeps its coefficients in the model, those of the penalised
        optimum. For the training parts of SoftmaxRegressionCV, whose
        models must all have the classes of all the data."""
        return self._run_fit(self._fit, NumpyBackend(), X, y, sample_weight, classes)

    def _can_stream(self):
        if self.solver not in ("auto", *STOCHASTIC_SOLVERS):
            raise AttributeError(
                f"partial_fit needs a stochastic solver, 'sgd' or 'adam' ('auto' "
                f"stands for 'sgd' there); solver={self.solver!r} works on all "
                "the data at once: use fit."
            )
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise AttributeError(
                "partial_fit does not take class_weight='balanced', which needs "
                "the class totals of all the data, where partial_fit sees one "
                "chunk: pass class_weight as a dict."
            )
        return True

    @available_if(_can_stream)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Take one epoch of stochastic steps on a chunk of the data.

        Only available with the solvers 'sgd', 'adam' and 'auto', which
        stands for 'sgd' here, and without ``class_weight='balanced'``.
        Each call makes one pass over the chunk ``(X, y)`` in minibatches
        of ``batch_size`` on the objective that :meth:`fit` minimises on
        that chunk with the same parameters: the penalty is divided by ``C S_c``, with
        ``S_c`` the chunk's total sample weight. Over a stream of ``m``
        chunks of equal weight, the steps therefore follow the gradient of
        ``fit``'s objective on all the data with ``C / m``: to approach
        ``fit(X, y)`` with ``C``, stream ``m`` equal chunks with ``C * m``
        (see the user guide). The momentum, the averaged model and the step
        count carry over from one call to the next. As for scikit-learn's
        SGDClassifier, stopping is left to the caller, who may score a
        held-out chunk between calls: ``max_iter``, ``tol``,
        ``n_iter_no_change``, ``early_stopping`` and ``validation_fraction``
        are not used. Set to other than their defaults, they warn, as any
        setting the stream does not use does, once per stream rather than
        on every call.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A chunk of training data. A dask array or DataFrame is taken one
            block of rows at a time, in order, as one call per block (a
            block without rows is passed over); ``y`` and ``sample_weight``
            are then split into the same blocks. Where a block fails (on
            NaN, say), the model is left as this call found it.
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
        # scikit-learn validates the parameters on the first call only (as
        # the decorator did, where the estimator was not fitted); they may
        # change between calls (set_params), so every later call does too.
        if hasattr(self, "classes_"):
            self._validate_params()
        if is_dask_collection(X):
            chunks = iter_row_blocks(X, y, sample_weight)
        else:
            chunks = [(X, y, sample_weight)]
        # The blocks of a dask collection are one call: where one fails, the
        # model is put back to where the call found it.
        return self._run_fit(self._partial_fit_chunks, chunks, classes)

    def _partial_fit_chunks(self, chunks, classes):
        taken = False
        for X_chunk, y_chunk, weights in chunks:
            self._partial_fit(X_chunk, y_chunk, classes, weights)
            taken = True
        if not taken:
            raise ValueError(
                "Found array with 0 sample(s) (every block of rows of the dask "
                "collection X is empty) while a minimum of 1 is required."
            )
        return self

    # -- the recipe -----------------------------------------------------------

    def _fit(self, backend, X, y, sample_weight, classes=None):
        self._check_early_stopping()
        notices = []
        penalty = self._resolve_settings(notices)
        backend.check(self, penalty)
        if classes is None:
            data = backend.prepare(self, X, y, sample_weight)
        else:
            # Some classes may have no sample: only the weights must not
            # all be zero.
            data = backend.prepare(self, X, y, sample_weight, classes, min_classes=1)
        random_state = check_random_state(self.random_state)
        validation_score = None
        if self.early_stopping:
            data, validation_score = backend.hold_out(
                data, self.validation_fraction, self.fit_intercept, random_state
            )
        spec = self._objective_spec(data, penalty)
        solver = backend.solver(self.solver, spec, data, penalty.spelling)
        notices += self._unused_notices(solver, backend.unread_settings(solver, data.X))
        self._give(notices)
        coef0 = self._initial_coef(data.classes, spec.shape[0])
        callback = self._progress_printer(solver) if self.verbose else None
        with single_threaded_blas():
            if solver in STOCHASTIC_SOLVERS:
                objective = backend.bind_rows(data, spec)
                result = minimize_stochastic(
                    objective,
                    coef0.ravel(),
                    settings=self._stochastic_settings(
                        solver,
                        spec,
                        lambda: spec.loss().curvature_bound(data.X, data.sample_weight),
                    ),
                    max_iter=self.max_iter,
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    random_state=random_state,
                    shuffle=self.shuffle,
                    validation_score=validation_score,
                    callback=callback,
                )
            else:
                settings = SolveSettings(
                    self.max_iter, self.tol, callback, self.n_threads, self.precision
                )
                result = backend.minimize(data, spec, solver, coef0, settings)
        if not result.converged:
            warnings.warn(
                convergence_message(self, result, solver, data.dtype, spec.norm),
                ConvergenceWarning,
                stacklevel=caller_stacklevel(),
            )
        elif self._separated(spec, data, result):
            warnings.warn(
                separation_message(self, result, solver),
                SeparationWarning,
                stacklevel=caller_stacklevel(),
            )
        # A later partial_fit starts a new stream from this solution.
        self.__dict__.pop("_partial_fit_state", None)
        self._store_solution(to_numpy(result.x), spec, data)
        self.solver_ = solver
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.loss_curve_ = result.objective_history
        self.grad_norm_curve_ = result.grad_norm_history
        self.converged_ = bool(result.converged)
        self.grad_norm_ = float(result.grad_norm)
        backend.place(self, data)
        return self

    def _unused_notices(self, solver, unread, streaming=False):
        """The warnings for the settings that a fit running ``solver`` does
        not use (``unread``: those the data's backend does not read, each
        with why; ``streaming`` for ``partial_fit``), as ``(names, message,
        category)``."""
        runs = repr(solver)
        # The fits of a path or a search have no partial_fit to speak of.
        alone = "_report_unused" not in vars(self)
        if self.solver == "auto" and solver not in STOCHASTIC_SOLVERS and alone:
            runs += " ('auto' stands for 'sgd' in partial_fit only)"
        unused = unused_settings(
            self._parameters(), defaults(type(self)), solver, runs, unread, streaming
        )
        return [(tuple(names), sentence, UserWarning) for names, sentence in unused]

    def _give(self, notices, given=()):
        """Warn of each of ``notices``, ``(names, message, category)``, but
        those whose message is in ``given``; return their messages.

        The fits of a path or a search hand them to their
        ``_report_unused`` instead, which says what each setting deserves
        once for all the fits.
        """
        report = vars(self).get("_report_unused")
        for names, message, category in notices:
            if message in given:
                continue
            if report:
                report(names, message, category)
            else:
                warnings.warn(message, category, stacklevel=caller_stacklevel())
        return [message for _, message, _ in notices]

    def _partial_fit(self, X, y, classes, sample_weight):
        start = time.perf_counter()
        backend = backend_for(X)
        if not isinstance(backend, NumpyBackend):
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
        notices = []
        penalty = self._resolve_settings(notices)
        solver = "sgd" if self.solver == "auto" else self.solver
        stream = getattr(self, "_partial_fit_state", None)
        if stream is not None:
            stream.check_settings(solver, self.fit_intercept, self.average)
        # A fit on Array API inputs leaves the classes on their device.
        fitted = to_numpy(self.classes_) if hasattr(self, "classes_") else None
        # A chunk may hold a single class of the stream, or no weight at all.
        data = backend.prepare(
            self, X, y, sample_weight, stream_classes(classes, fitted), min_classes=0
        )
        if stream is None:
            n_rows = data.n_features + int(self.fit_intercept)
            stream = StreamState(
                StochasticState(self._initial_coef(data.classes, n_rows, True).ravel()),
                RunningCurvature(),
                stream_generator(self.random_state),
                solver,
                self.fit_intercept,
                self.average,
                data.dtype,
            )
        # What the settings deserve is said once per stream, not on every
        # call.
        notices += self._unused_notices(
            solver, backend.unread_settings(solver, data.X), streaming=True
        )
        said = self._give(notices, given=stream.warned)
        stream.warned = tuple(dict.fromkeys((*stream.warned, *said)))
        # A chunk of no weight holds nothing to learn from: no step is taken,
        # as SGDClassifier takes no loss step on samples of weight zero. Its
        # settings are checked all the same.
        weighted = data.total_weight > 0
        spec = self._objective_spec(
            data if weighted else data._replace(total_weight=1.0), penalty
        )
        backend.solver(solver, spec, data, penalty.spelling)
        if weighted:
            objective = backend.bind_rows(data, spec)
            order = np.arange(data.X.shape[0])
            if self.shuffle:
                stream.random_state.shuffle(order)
            # The curvature bound, which sets the default step, takes
            # products with X too: all of the call's arithmetic runs on one
            # BLAS thread, whose rounding does not depend on the limit.
            with single_threaded_blas():
                settings = self._stochastic_settings(
                    solver,
                    spec,
                    lambda: stream.curvature.update(
                        spec.loss(), data.X, data.sample_weight
                    ),
                )
                objective_value = run_epoch(objective, stream.state, settings, order)
                stream.history.append(objective_value)
                solution = stream.solution()
                with np.errstate(over="ignore", invalid="ignore"):
                    value, gradient = objective.value_and_gradient(solution, None)
                if not (np.isfinite(value) and np.all(np.isfinite(solution))):
                    # The call is rolled back (_run_fit).
                    raise ValueError(
                        f"partial_fit's {solver} steps on this chunk left the "
                        "finite numbers, or took the objective past them: "
                        "they are too large for this data. The model is as it "
                        "was before the call. Scale the features (for "
                        "instance with sklearn.preprocessing.StandardScaler), "
                        "or lower learning_rate_init."
                    )
            self.grad_norm_ = float(np.max(np.abs(gradient)))
            stream.grad_norms.append(self.grad_norm_)
        else:
            solution = stream.solution()
            objective_value = None
            # The stream's last, not a fit's before the stream started.
            grad_norms = stream.grad_norms.values()
            self.grad_norm_ = float(grad_norms[-1]) if grad_norms.size else np.nan
        stream.n_calls += 1
        stream.n_samples_seen += data.X.shape[0]
        if self.verbose:
            self._report_call(stream, objective_value, time.perf_counter() - start)
        self._partial_fit_state = stream
        # The attributes keep the stream's dtype whatever the chunk's.
        self._store_solution(
            solution, spec, data._replace(dtype=np.dtype(stream.dtype))
        )
        self.solver_ = solver
        self.n_iter_ = np.array([len(stream.history)], dtype=np.int32)
        self.loss_curve_ = stream.history.values()
        self.grad_norm_curve_ = stream.grad_norms.values()
        self.converged_ = False
        return self

    # -- the steps ------------------------------------------------------------

    def _check_early_stopping(self):
        if self.early_stopping and self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"early_stopping=True needs a stochastic solver, 'sgd' or 'adam'; "
                f"solver={self.solver!r} converges to the penalised optimum, "
                "where a smaller C, not an early stop, regularises."
            )

    def _resolve_settings(self, notices):
        """The penalty the parameters choose; the warning each of its
        parameters deserves that is deprecated or not used, and ``n_jobs``'s,
        appended to ``notices`` as ``(names, message, category)`` (the
        solvers' settings are checked by :meth:`_unused_notices`)."""
        found = []
        penalty = resolve_penalty(
            self.penalty, self.l1_ratio, self.C, self.l1_groups, notices=found
        )
        notices.extend((message, message, category) for message, category in found)
        if self.n_jobs is not None:
            notices.append(
                (
                    ("n_jobs",),
                    f"n_jobs={self.n_jobs} has no effect, as in LogisticRegression "
                    "since scikit-learn 1.8, and will be removed with it: leave "
                    "it unset. SoftmaxRegression's threads are set by n_threads.",
                    FutureWarning,
                )
            )
        return penalty

    def _objective_spec(self, data, penalty):
        """The objective on ``data``: the loss, and the L2 strength and
        non-smooth norm of ``penalty``, the whole penalty divided by
        ``C S``."""
        n_features = data.n_features
        spec = ObjectiveSpec(
            data.n_classes,
            n_features,
            self.fit_intercept,
            self.label_smoothing,
            0.0,
            None,
        )
        l2_reg_strength, norm = split_penalty(
            penalty.norm or "l2",
            penalty.l1_ratio,
            penalty.strength(data.total_weight),
            n_features,
            spec.shape,
        )
        return spec._replace(l2_reg_strength=l2_reg_strength, norm=norm)

    def _separated(self, spec, data, result):
        """Whether an unpenalised fit's objective proves the classes
        separable (see :func:`proves_separation`). Not checked for a dask
        collection, whose blocks hold the weights, nor with label
        smoothing, whose optimum exists on separable classes."""
        unpenalised = spec.l2_reg_strength == 0 and spec.norm is None
        if not unpenalised or spec.label_smoothing > 0 or data.y is None:
            return False
        if data.sample_weight is None:
            least_weight = 1.0
        else:
            weights = np.asarray(data.sample_weight)
            least_weight = float(weights[weights > 0].min())
        return proves_separation(result.objective, least_weight, data.total_weight)

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
        n_features = n_rows - int(self.fit_intercept)
        n_coef_rows = 1 if n_classes == 2 else n_classes
        for name, previous, shape in (
            ("coef_", previous_coef, (n_coef_rows, n_features)),
            ("intercept_", previous_intercept, (n_coef_rows,)),
        ):
            # A coef_ of another number of features is said below.
            if previous.shape[:1] != shape[:1] or previous.ndim != len(shape):
                raise ValueError(
                    f"The fit starts from {name} (with warm_start, or "
                    f"partial_fit after fit), of shape {previous.shape}, where "
                    f"the {n_classes} classes need the shape {shape}: set it "
                    "to that shape, or start anew (warm_start=False, or "
                    "sklearn.base.clone(estimator))."
                )
        if previous_coef.shape[1] != n_features:
            raise ValueError(
                "warm_start needs the same number of features as the previous "
                f"fit: got {n_features}, previously {previous_coef.shape[1]}."
            )
        if not (
            np.all(np.isfinite(previous_coef))
            and np.all(np.isfinite(previous_intercept))
        ):
            raise ValueError(
                "The fit starts from coef_ and intercept_ (with warm_start, or "
                "partial_fit after fit), which hold NaN or infinity: set finite "
                "values, or start anew (warm_start=False, or "
                "sklearn.base.clone(estimator))."
            )
        full = solver_matrix(previous_coef, previous_intercept)
        coef[:n_features] = full[:n_features]
        if self.fit_intercept:
            coef[n_features] = full[n_features]
        return coef

    def _store_solution(self, x, spec, data):
        """Set ``classes_``, ``coef_`` and ``intercept_`` from a solver's
        flat solution, centred where the optimum is (see
        :attr:`ObjectiveSpec.centred`)."""
        self.classes_ = data.classes
        self.coef_, self.intercept_ = model_attributes(
            np.reshape(x, spec.shape),
            spec.n_features,
            self.fit_intercept,
            spec.centred,
            data.dtype,
        )
        self._record_fitted_objective()

    # -- the stochastic solvers' settings ---------------------------------------

    def _stochastic_settings(self, solver, spec, curvature_bound):
        """How 'sgd' and 'adam' step. The initial step is
        ``learning_rate_init``, or by default, for 'sgd', the inverse of
        ``curvature_bound()`` (a bound on the data term's curvature) plus the
        L2 strength for the weights, and of the bound alone for the
        intercepts, which the penalty leaves out; 1e-2 for 'adam'."""
        step_scale = None
        if self.learning_rate_init is not None:
            step = float(self.learning_rate_init)
        elif solver == "sgd":
            step, step_scale = default_sgd_step(
                curvature_bound(), spec.l2_reg_strength, spec.shape, spec.fit_intercept
            )
        else:
            step = 1e-2
        return StochasticSettings(
            method=solver,
            learning_rate=self.learning_rate,
            eta0=step,
            power_t=self.power_t,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            batch_size=self.batch_size,
            average=self.average,
            penalty=spec.norm,
            step_scale=step_scale,
        )

    # -- what the user sees ---------------------------------------------------

    def _progress_printer(self, solver):
        counter = "epoch" if solver in STOCHASTIC_SOLVERS else "iter"
        return FitProgress(f"{type(self).__name__}(solver={solver!r}) fit:", counter)

    def _report_call(self, stream, objective_value, seconds):
        """One row of ``partial_fit``'s verbose table, below its header on
        the first call that reports."""
        if not stream.header_printed:
            print_stream_header(
                f"{type(self).__name__}(solver={stream.solver!r}) partial_fit:"
            )
            stream.header_printed = True
        print_stream_row(
            stream.n_calls,
            stream.n_samples_seen,
            objective_value,
            self.grad_norm_,
            seconds,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            smooth = resolve_penalty(
                self.penalty, self.l1_ratio, self.C, self.l1_groups, warn=False
            ).smooth
        except ValueError:
            smooth = False
        tags.array_api_support = (
            smooth
            and self.solver in ("auto", *ARRAY_API_SOLVERS)
            and not self.early_stopping
        )
        return tags
