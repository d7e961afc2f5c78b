"""Export to ONNX: onnxruntime runs the converted graph to the labels of
``predict`` and the probabilities of ``predict_proba``, with the outputs that
skl2onnx gives LogisticRegression."""

import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
import scipy.sparse as sp
import skl2onnx
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import (
    SoftmaxRegression,
    SoftmaxRegressionCV,
    register_onnx_converter,
)

# Probabilities differ from predict_proba's by the rounding of the scores, a
# few units of the dtype's precision times their size (below 10 here): far
# below these bounds.
PROBA_ATOL = {np.float32: 1e-5, np.float64: 1e-12}
# Labels are compared where the two highest scores are further apart than
# that rounding can move them; closer, either label is right.
DECIDED_MARGIN = 1e-3
LABELS = {
    "int": np.array([-3, 7, 42]),
    "str": np.array(["cat", "dog", "emu"]),
}


@pytest.fixture(scope="module", autouse=True)
def registered():
    register_onnx_converter()


def make_data(n_classes, dtype, labels="int", seed=0):
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    # Features of different scales and offsets, for the pipeline's scaler.
    X = X * np.array([1.0, 10.0, 0.1, 3.0, 1.0, 0.5]) + np.arange(6)
    return X.astype(dtype), LABELS[labels][y]


def run(onx, X):
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def decided(model, X):
    """The rows whose two highest scores are more than DECIDED_MARGIN apart."""
    scores = model.decision_function(X.astype(np.float64))
    if scores.ndim == 1:
        margin = np.abs(scores)
    else:
        top_two = np.sort(scores, axis=1)[:, -2:]
        margin = top_two[:, 1] - top_two[:, 0]
    rows = margin > DECIDED_MARGIN
    assert rows.mean() > 0.9
    return rows


def assert_matches_model(model, X, onx):
    labels, proba = run(onx, X)
    assert proba.dtype == X.dtype
    assert_allclose(
        proba, model.predict_proba(X), rtol=0, atol=PROBA_ATOL[X.dtype.type]
    )
    rows = decided(model, X)
    assert_array_equal(labels[rows], model.predict(X)[rows])


@pytest.mark.parametrize("labels", sorted(LABELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_graph_computes_predict_and_predict_proba(
    n_classes, fit_intercept, dtype, labels
):
    X, y = make_data(n_classes, dtype, labels)
    model = SoftmaxRegression(C=10.0, fit_intercept=fit_intercept).fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    assert_matches_model(model, X, onx)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_pipeline_with_scaler(n_classes, dtype):
    X, y = make_data(n_classes, dtype, "str")
    model = make_pipeline(StandardScaler(), SoftmaxRegression(C=10.0)).fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    assert_matches_model(model, X, onx)


@pytest.mark.parametrize("sparse_format", [sp.csr_matrix, sp.csr_array])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparse_coefficients(n_classes, sparse_format):
    # The form in which a sparsified linear model keeps coef_, with a zero
    # coefficient in every row.
    X, y = make_data(n_classes, np.float64)
    dense = SoftmaxRegression(C=10.0).fit(X, y)
    model = clone(dense).fit(X, y)
    model.coef_[:, 1] = 0.0
    dense.coef_ = model.coef_.copy()
    model.coef_ = sparse_format(model.coef_)
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    assert_matches_model(dense, X, onx)


@pytest.mark.parametrize("zipmap", [True, False, "columns"])
@pytest.mark.parametrize("labels", sorted(LABELS))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_outputs_are_those_of_logistic_regression(n_classes, labels, zipmap):
    X, y = make_data(n_classes, np.float32, labels)
    options = {"zipmap": zipmap}
    ours = skl2onnx.to_onnx(SoftmaxRegression().fit(X, y), X[:1], options=options)
    theirs = skl2onnx.to_onnx(
        LogisticRegression(max_iter=1000).fit(X, y), X[:1], options=options
    )
    assert [(o.name, o.type) for o in ours.graph.output] == [
        (o.name, o.type) for o in theirs.graph.output
    ]


@pytest.mark.parametrize("labels", sorted(LABELS))
def test_zipmap_gives_a_dictionary_per_sample(labels):
    X, y = make_data(3, np.float32, labels)
    model = SoftmaxRegression(C=10.0).fit(X, y)
    predicted, dictionaries = run(skl2onnx.to_onnx(model, X[:1]), X)
    proba = model.predict_proba(X)
    assert [sorted(row) for row in dictionaries] == [sorted(model.classes_)] * len(X)
    for i, row in enumerate(dictionaries):
        assert_allclose(
            [row[label] for label in model.classes_],
            proba[i],
            rtol=0,
            atol=PROBA_ATOL[np.float32],
        )
    rows = decided(model, X)
    assert_array_equal(predicted[rows], model.predict(X)[rows])


def test_zipmap_columns_gives_an_output_per_class():
    X, y = make_data(3, np.float64, "str")
    model = SoftmaxRegression(C=10.0).fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": "columns"})
    _, *columns = run(onx, X)
    assert_allclose(
        np.column_stack(columns), model.predict_proba(X), rtol=0, atol=1e-12
    )


def test_zipmap_on_float64_input_is_refused():
    # ONNX's ZipMap takes float32 probabilities only; skl2onnx writes the
    # same graph for LogisticRegression, which onnxruntime then refuses.
    X, y = make_data(3, np.float64)
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="zipmap"):
        skl2onnx.to_onnx(model, X[:1])


def test_nocl_gives_class_indices():
    X, y = make_data(3, np.float64, "str")
    model = SoftmaxRegression(C=10.0).fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False, "nocl": True})
    indices, _ = run(onx, X)
    rows = decided(model, X)
    assert_array_equal(model.classes_[indices[rows]], model.predict(X)[rows])


def test_output_class_labels():
    X, y = make_data(3, np.float64, "int")
    model = SoftmaxRegression(C=10.0).fit(X, y)
    options = {"zipmap": False, "output_class_labels": True}
    _, _, class_labels = run(skl2onnx.to_onnx(model, X[:1], options=options), X)
    assert_array_equal(class_labels, model.classes_)


def test_softmax_regression_cv():
    X, y = make_data(3, np.float64, "str")
    model = SoftmaxRegressionCV(Cs=3, cv=3).fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    assert_matches_model(model, X, onx)


def test_registering_again_changes_nothing():
    X, y = make_data(3, np.float64)
    model = SoftmaxRegression(C=10.0).fit(X, y)
    before = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    register_onnx_converter()
    after = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    assert after.graph == before.graph


def test_integer_input_is_refused():
    X, y = make_data(3, np.float64)
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(TypeError, match="takes float32 or float64 input"):
        skl2onnx.to_onnx(model, X[:1].astype(np.int64), options={"zipmap": False})


def test_wrong_number_of_features_is_refused():
    X, y = make_data(3, np.float64)
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features"):
        skl2onnx.to_onnx(model, X[:1, :5], options={"zipmap": False})


@pytest.mark.parametrize(
    "to_labels",
    [lambda y: y.astype(np.float64), lambda y: y == 7],
    ids=["float", "bool"],
)
def test_other_numeric_labels_become_int64(to_labels):
    # As skl2onnx writes the labels of scikit-learn's classifiers.
    X, y = make_data(3, np.float64)
    y = to_labels(y)
    model = SoftmaxRegression(C=10.0).fit(X, y)
    labels, _ = run(skl2onnx.to_onnx(model, X[:1], options={"zipmap": False}), X)
    assert labels.dtype == np.int64
    rows = decided(model, X)
    assert_array_equal(labels[rows], model.predict(X)[rows].astype(np.int64))


def test_registering_without_skl2onnx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match="'onnx' extra"):
        register_onnx_converter()


def test_importing_the_package_does_not_import_skl2onnx():
    code = "import sys, sklearn_softmax; print('skl2onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
