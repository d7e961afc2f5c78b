"""Arrays of an Array API namespace, fitted on their device.

The objective, the solver's iterate and the fitted attributes all stay on
the device. Only the classes, the sample weights (read once to check them)
and the final d x K solution, centred and sent back, pass through the
host."""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from .._array_api import (
    input_namespace,
    namespace_name,
    numpy_dtype,
    parameter_dtype,
    to_numpy,
)
from .._heuristics import choose_device_hessian_dtype
from .._loss_array_api import bind_objective
from .._low_precision import lower_dtype
from .._solvers import ARRAY_API_SOLVERS
from .._targets import check_two_classes, encode_labels, total_weight, weigh_samples
from ._common import FitData, check_magnitude, resolve_solver


class ArrayAPIBackend:
    """Fits the arrays of the namespace ``xp`` on ``device``."""

    def __init__(self, xp, device):
        self.xp = xp
        self.device = device

    def _encode_labels(self, y):
        """The classes, on the host, and the label of each sample as an
        index into them, on the device: for labels of the namespace on the
        device, they are found there (on a GPU, encoding a million labels on
        the host takes longer than the whole of the solver), and only the
        classes come to the host. Other labels are encoded on the host and
        sent."""
        xp = self.xp
        if input_namespace(y) != (xp, self.device):
            classes, y_encoded = encode_labels(column_or_1d(to_numpy(y), warn=True))
            return classes, xp.asarray(y_encoded, device=self.device)
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
            y_encoded = xp.take(xp.asarray(rank, device=self.device), y_encoded)
        check_two_classes(classes)
        return classes, y_encoded

    def prepare(self, estimator, X, y, sample_weight):
        xp = self.xp
        X = validate_data(estimator, X, dtype=[xp.float64, xp.float32])
        check_consistent_length(X, y)
        classes, y_encoded = self._encode_labels(y)
        host_dtype = numpy_dtype(xp, X.dtype)
        largest = max(float(xp.max(X)), -float(xp.min(X)))
        check_magnitude(largest, X.shape[0])
        if sample_weight is not None or estimator.class_weight is not None:
            # The weights are checked on the host, which needs only X's
            # size and dtype: a stand-in with no columns has both.
            sample_weight = weigh_samples(
                to_numpy(sample_weight),
                np.empty((X.shape[0], 0), dtype=host_dtype),
                to_numpy(y_encoded),
                classes,
                estimator.class_weight,
            )
        return FitData(
            X,
            y_encoded,
            sample_weight,
            classes,
            total_weight(sample_weight, X.shape[0]),
            host_dtype,
        )

    def check(self, estimator, penalty):
        """Refuse the settings this backend cannot fit, before any data is
        read."""
        if not penalty.smooth or estimator.solver not in ("auto", *ARRAY_API_SOLVERS):
            raise ValueError(
                f"Array API inputs (here {self.xp.__name__} arrays) are fitted "
                "with an L2 penalty or none (l1_ratio=0, or C=np.inf) and "
                "solver='auto', 'newton-cg', 'newton-cholesky', 'lbfgs' or 'gd'; got "
                f"{penalty.spelling}, solver={estimator.solver!r}. Pass NumPy "
                "arrays for the others."
            )

    def solver(self, solver, spec, data, penalty_spelling):
        return resolve_solver(solver, spec, data.X, penalty_spelling)

    def unread_settings(self, solver, X):
        """The settings that a fit of ``X`` running ``solver`` does not
        read, each with why."""
        name = namespace_name(X)
        unread = {
            "n_threads": f"{name} arrays are fitted by their own library, in "
            "its threads"
        }
        if lower_dtype(self.xp, X.dtype, X.shape[1]) is None:
            unread["precision"] = (
                "it chooses whether newton-cg's Hessian-vector products run "
                f"in a dtype narrower than the data's, and {name} has none "
                f"below {numpy_dtype(self.xp, X.dtype)} for {X.shape[1]} features"
            )
        return unread

    def minimize(self, data, spec, solver, coef0, settings):
        xp, device, X = self.xp, self.device, data.X
        n_samples = X.shape[0]
        weights = (
            xp.full(n_samples, 1 / n_samples, dtype=X.dtype, device=device)
            if data.sample_weight is None
            else xp.asarray(
                data.sample_weight / data.total_weight, dtype=X.dtype, device=device
            )
        )
        dtype = parameter_dtype(xp, device)
        objective = bind_objective(
            X,
            data.y,
            weights,
            spec.n_classes,
            spec.fit_intercept,
            spec.l2_reg_strength,
            dtype,
            spec.label_smoothing,
            hessian_dtype=choose_device_hessian_dtype(
                xp, X, spec.n_classes, solver, settings.precision, device
            ),
        )
        return ARRAY_API_SOLVERS[solver](
            objective,
            xp.asarray(coef0.ravel(), dtype=dtype, device=device),
            **settings.solver_kwargs(),
        )

    def place(self, estimator, data):
        """Move the fitted attributes to the data's device; labels the
        namespace cannot hold, such as strings, stay NumPy arrays."""
        xp, device = self.xp, self.device
        estimator.coef_ = xp.asarray(estimator.coef_, device=device)
        estimator.intercept_ = xp.asarray(estimator.intercept_, device=device)
        if data.classes.dtype.kind in "biuf":
            estimator.classes_ = xp.asarray(data.classes, device=device)
        estimator.n_iter_ = xp.asarray(estimator.n_iter_, device=device)
        estimator.loss_curve_ = xp.asarray(
            estimator.loss_curve_, dtype=parameter_dtype(xp, device), device=device
        )
        estimator.grad_norm_curve_ = xp.asarray(
            estimator.grad_norm_curve_, dtype=parameter_dtype(xp, device), device=device
        )
