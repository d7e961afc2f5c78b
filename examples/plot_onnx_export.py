"""
==========================
Exporting a model to ONNX
==========================

A fitted :class:`~sklearn_softmax.SoftmaxRegression` can be written as an
ONNX graph and run by onnxruntime, in Python or from C, C++, C#, Java or
JavaScript, without scikit-learn. This example fits a pipeline on the digits
data, converts it with skl2onnx after
:func:`~sklearn_softmax.register_onnx_converter`, runs the graph with
onnxruntime on float32 and on float64 input, and compares its labels and
probabilities with those of ``predict`` and ``predict_proba``.

skl2onnx, onnx and onnxruntime are not needed by sklearn-softmax itself; the
``onnx`` extra installs them: ``python -m pip install ".[onnx]"``.
"""

# %%
# Fitting a pipeline
# ------------------
# The digits data: 8 x 8 images of handwritten digits, ten classes, here
# named by words, as a model's labels often are strings. The pipeline
# standardises the pixels before the softmax regression; skl2onnx converts
# both steps.
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
from onnx import TensorProto
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression, register_onnx_converter

words = np.array(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
    ]
)
X, digits = load_digits(return_X_y=True)
y = words[digits]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
model = make_pipeline(StandardScaler(), SoftmaxRegression(C=0.1)).fit(
    X_train, y_train
)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# Converting
# ----------
# skl2onnx learns how to convert the estimators of sklearn-softmax from one
# call to :func:`~sklearn_softmax.register_onnx_converter`, once per Python
# session. The type of the sample given to :func:`skl2onnx.to_onnx` fixes the
# type of the graph's input: a float32 sample gives a graph that computes in
# float32, a float64 sample one that computes in float64.
# ``options={"zipmap": False}`` returns the probabilities as an array with
# one column per class; by default, as for scikit-learn's classifiers,
# skl2onnx returns them as one dictionary per sample.
register_onnx_converter()

graphs = {
    dtype: to_onnx(model, X_train[:1].astype(dtype), options={"zipmap": False})
    for dtype in (np.float32, np.float64)
}
onx = graphs[np.float32]
for dtype, graph in graphs.items():
    (graph_input,) = graph.graph.input
    elem_type = TensorProto.DataType.Name(
        graph_input.type.tensor_type.elem_type
    )
    print(
        f"{np.dtype(dtype).name} sample: "
        f"input {graph_input.name!r} of {elem_type}"
    )
print("outputs:", [o.name for o in onx.graph.output])
print("nodes:  ", [node.op_type for node in onx.graph.node])

# %%
# The graph applies the scaler, then computes the scores
# ``X @ coef_.T + intercept_`` (``MatMul``, ``Add``), their softmax and, for
# the labels, the index of the largest score looked up in ``classes_``
# (``ArgMax``, ``Gather``). Serialised, it is a few kilobytes: the
# coefficients and the class names.
print(f"serialised size: {len(onx.SerializeToString()) / 1024:.1f} KiB")

# %%
# Running with onnxruntime
# ------------------------
# An :class:`onnxruntime.InferenceSession` loads the serialised graph; its
# ``run`` returns the labels and the probabilities for a batch of rows.
differences = {}
for dtype, graph in graphs.items():
    session = onnxruntime.InferenceSession(
        graph.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    X_batch = X_test.astype(dtype)
    labels, proba = session.run(None, {"X": X_batch})
    differences[dtype] = (proba - model.predict_proba(X_batch)).ravel()
    same_labels = np.mean(labels == model.predict(X_batch))
    print(
        f"{np.dtype(dtype).name}: {proba.dtype} probabilities, labels such as "
        f"{labels[:3].tolist()}; "
        f"labels equal to predict's for {same_labels:.0%} "
        f"of {len(X_batch)} rows, largest difference from predict_proba "
        f"{np.max(np.abs(differences[dtype])):.1e}"
    )

# %%
# How close the probabilities are
# -------------------------------
# The differences come from rounding alone. In float64 they are a few units
# of float64's precision (about 1e-16); in float32 the graph also rounds the
# standardised pixels and the coefficients to float32, whose precision is
# about 1e-7, while ``predict_proba`` scores float32 input with the float64
# coefficients. Either way the labels are those of ``predict``, except for a
# row whose two best scores were equal to that precision. One figure for
# each input type.
for dtype, difference in differences.items():
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.hist(difference, bins=50, color="tab:blue")
    ax.set_yscale("log")
    ax.set_title(
        "onnxruntime against predict_proba on the digits test set,\n"
        f"{np.dtype(dtype).name} input"
    )
    ax.set_xlabel("ONNX probability - predict_proba")
    ax.set_ylabel("number of (row, class) pairs")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
plt.show()

# sphinx_gallery_thumbnail_number = 2
