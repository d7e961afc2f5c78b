"""Export to ONNX: a converter for skl2onnx that writes the fitted model's
``predict`` and ``predict_proba`` as an ONNX graph.

skl2onnx, onnx and onnxruntime are optional: they are imported when the
converter is registered or run, never when sklearn_softmax is imported.
"""

import numpy as np
from scipy import sparse

from ._array_api import to_numpy
from ._cv import SoftmaxRegressionCV
from ._estimator import SoftmaxRegression

# The options that skl2onnx's classifier parser and its ZipMap operators
# implement for every classifier that declares them; the graph below is the
# same under all of them.
_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "output_class_labels": [False, True],
}


def register_onnx_converter():
    """Teach skl2onnx to convert the estimators of sklearn-softmax to ONNX.

    After this call, :func:`skl2onnx.to_onnx` and
    :func:`skl2onnx.convert_sklearn` convert a fitted
    :class:`~sklearn_softmax.SoftmaxRegression` or
    :class:`~sklearn_softmax.SoftmaxRegressionCV`, alone or as a step of a
    pipeline, into an ONNX graph that onnxruntime runs without scikit-learn.
    The graph has the outputs that skl2onnx gives
    :class:`~sklearn.linear_model.LogisticRegression`: the predicted labels
    and the probabilities of the classes, by default as a list of
    dictionaries (``options={"zipmap": False}`` gives an array with one
    column per class, ``"columns"`` one output per class). A float32 input
    is computed in float32, a float64 input in float64; ONNX's ``ZipMap``,
    which makes the dictionaries, takes float32 only, so float64 input needs
    one of the two other options. Calling it again does nothing more.

    Raises
    ------
    ImportError
        If skl2onnx is not installed. The ``onnx`` extra of sklearn-softmax
        installs it, with onnx and onnxruntime.

    See Also
    --------
    SoftmaxRegression.predict_proba : The probabilities that the graph
        computes.

    Notes
    -----
    The graph computes the scores ``Z = X @ coef_.T + intercept_`` with
    ``MatMul`` and ``Add``, the probabilities ``softmax(Z)`` with ``Softmax``
    and the labels ``classes_[argmax(Z)]`` with ``ArgMax`` and ``Gather``,
    as :meth:`~SoftmaxRegression.predict` and
    :meth:`~SoftmaxRegression.predict_proba` do. With two classes,
    ``coef_`` has one row and ``Z`` one column, the log-odds ``z`` of
    ``classes_[1]``: the graph takes the scores ``(-z/2, z/2)``, whose
    softmax is ``(1 - sigmoid(z), sigmoid(z))``. Labels are integers or
    strings in the graph: boolean and float labels become integers, as
    skl2onnx makes them for scikit-learn's classifiers.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_softmax import SoftmaxRegression, register_onnx_converter
    >>> register_onnx_converter()
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = SoftmaxRegression().fit(X, y)
    >>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> [output.name for output in session.get_outputs()]
    ['label', 'probabilities']
    >>> labels, proba = session.run(None, {"X": X[[0, 60, 130]]})
    >>> labels.tolist()
    [0, 1, 2]
    >>> bool(np.allclose(proba, clf.predict_proba(X[[0, 60, 130]]), atol=1e-5))
    True
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            "register_onnx_converter needs skl2onnx, onnx and onnxruntime; the "
            "'onnx' extra of sklearn-softmax installs them."
        ) from error
    for estimator in (SoftmaxRegression, SoftmaxRegressionCV):
        update_registered_converter(
            estimator,
            f"SklearnSoftmax{estimator.__name__}",
            _calculate_output_shapes,
            _convert,
            options=_OPTIONS,
        )


def _onnx_labels(classes):
    """The class labels as the graph holds them: UTF-8 bytes for strings,
    int64 for the other labels that scikit-learn's classifiers accept
    (integers, booleans and integer-valued floats)."""
    classes = to_numpy(classes)
    if all(isinstance(label, str) for label in classes):
        return np.array([label.encode("utf-8") for label in classes], dtype=object)
    return classes.astype(np.int64)


def _calculate_output_shapes(operator):
    """Types and shapes of the two outputs, the labels (n_samples,) and the
    probabilities (n_samples, n_classes), from those of the input."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers
    from skl2onnx.common.utils_classifier import get_label_classes

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    model = operator.raw_operator
    input_type = operator.inputs[0].type
    if not isinstance(input_type, (FloatTensorType, DoubleTensorType)):
        raise TypeError(
            f"The ONNX graph of {type(model).__name__} takes float32 or float64 "
            f"input, got {type(input_type).__name__}: convert X with "
            "X.astype(np.float32) or X.astype(np.float64)."
        )
    zipmap = operator.scope_inst.get_options(model, {"zipmap": True})["zipmap"]
    if zipmap is True and isinstance(input_type, DoubleTensorType):
        raise ValueError(
            "ONNX's ZipMap, which skl2onnx's default option zipmap=True adds, "
            "takes float32 probabilities: convert float64 input with "
            "options={'zipmap': False} or {'zipmap': 'columns'}."
        )
    n_features = operator.inputs[0].get_second_dimension()
    if n_features is not None and n_features != model.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(model).__name__} is "
            f"expecting {model.n_features_in_} features as input."
        )
    labels = _onnx_labels(get_label_classes(operator.scope_inst, model))
    n_samples = operator.inputs[0].get_first_dimension()
    label_type = StringTensorType if labels.dtype == object else Int64TensorType
    operator.outputs[0].set_type(label_type([n_samples]))
    operator.outputs[1].set_type(type(input_type)([n_samples, len(labels)]))


def _convert(scope, operator, container):
    """Add the nodes that compute the labels and the probabilities."""
    from onnx import TensorProto
    from onnx.helper import np_dtype_to_tensor_dtype
    from skl2onnx.common.data_types import guess_numpy_type
    from skl2onnx.common.utils_classifier import get_label_classes

    model = operator.raw_operator
    dtype = np.dtype(guess_numpy_type(operator.inputs[0].type))
    onnx_dtype = np_dtype_to_tensor_dtype(dtype)

    def constant(name, value, onnx_type=onnx_dtype):
        unique_name = scope.get_unique_variable_name(name)
        container.add_initializer(unique_name, onnx_type, value.shape, value.ravel())
        return unique_name

    def node(op_type, inputs, output=None, **attributes):
        output = output or scope.get_unique_variable_name(op_type.lower())
        container.add_node(
            op_type,
            inputs,
            output,
            name=scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output

    coef = model.coef_
    coef = coef.toarray() if sparse.issparse(coef) else to_numpy(coef)
    W = constant("coef", np.ascontiguousarray(coef.T, dtype=dtype))
    b = constant("intercept", to_numpy(model.intercept_).astype(dtype)[np.newaxis])
    Z = node("Add", [node("MatMul", [operator.inputs[0].full_name, W]), b])
    if coef.shape[0] == 1:
        # The log-odds z of classes_[1] become the scores (-z/2, z/2), as
        # predict and predict_proba take them; -0.5 * z is -(0.5 * z) to the
        # last bit, and the tie z = 0 goes to classes_[0] in both.
        halves = constant("halves", np.array([[-0.5, 0.5]], dtype=dtype))
        Z = node("Mul", [Z, halves])
    node("Softmax", [Z], operator.outputs[1].full_name, axis=1)

    labels = _onnx_labels(get_label_classes(scope, model))
    label_type = TensorProto.STRING if labels.dtype == object else TensorProto.INT64
    index = node("ArgMax", [Z], axis=1, keepdims=0)
    node(
        "Gather",
        [constant("classes", labels, label_type), index],
        operator.outputs[0].full_name,
        axis=0,
    )
