"""
================================================
Streaming chunks from a memory-mapped file
================================================

:meth:`~sklearn_softmax.SoftmaxRegression.partial_fit` trains the one
multinomial model on data that arrive a chunk at a time, or that do not fit
in memory at once. This example writes a data set to a ``.npy`` file,
opens it memory-mapped (only the rows a chunk reads are loaded), streams it
in chunks for several epochs, and compares the result with
:meth:`~sklearn_softmax.SoftmaxRegression.fit` on all the data.

Each call steps on the objective ``fit`` minimises on its chunk, with the
same ``C``. With ``m`` chunks of equal size, the stream therefore follows
``fit``'s objective on all the data with ``C / m``: to compare with ``fit``
at ``C``, the stream uses ``C * m``.
"""

# %%
# A data set on disk
# ------------------
# 20000 samples, 50 features and 5 classes, standardised, written to a
# ``.npy`` file and opened again memory-mapped. The labels are small and are
# kept in memory.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression

X, y = make_classification(
    n_samples=20_000,
    n_features=50,
    n_informative=20,
    n_classes=5,
    n_clusters_per_class=1,
    flip_y=0.05,
    random_state=0,
)
X = StandardScaler().fit_transform(X)
directory = tempfile.TemporaryDirectory()
path = Path(directory.name) / "features.npy"
np.save(path, X)
X_disk = np.load(path, mmap_mode="r")
print(
    f"X on disk: {X_disk.shape}, {X_disk.nbytes / 2**20:.1f} MiB, memory-mapped"
)

# %%
# Streaming it
# ------------
# 40 chunks of 500 rows, taken in a new order each epoch. Each chunk is read
# from the file as it is used; ``classes`` is given on the first call, since
# a chunk need not hold every class. Each chunk is one minibatch
# (``batch_size=500``): on this data, minibatches of 200 within the chunks
# took three times the steps with more noise in each, and the stream levelled
# off about ten times further from ``fit``'s objective.
C = 1.0
n_chunks = 40
starts = np.arange(0, len(y), len(y) // n_chunks)
classes = np.unique(y)
stream = SoftmaxRegression(
    C=C * n_chunks, batch_size=500, average=True, random_state=0
)
rng = np.random.default_rng(0)


def objective(model, X):
    """fit's objective at C on all of X: the mean log-loss plus the penalty."""
    penalty = np.sum(model.coef_**2) / (2 * C * len(y))
    return log_loss(y, model.predict_proba(X)) + penalty


history = []
for _ in range(30):
    for start in rng.permutation(starts):
        rows = slice(start, start + len(y) // n_chunks)
        stream.partial_fit(np.asarray(X_disk[rows]), y[rows], classes=classes)
    history.append(objective(stream, X_disk))

# %%
# Against fit on all the data
# ---------------------------
batch = SoftmaxRegression(C=C).fit(X_disk, y)
best = objective(batch, X_disk)
gaps = (np.array(history) - best) / best
print(f"fit's objective: {best:.6f}")
print(
    f"stream after 30 epochs: {history[-1]:.6f} (relative gap {gaps[-1]:.1e})"
)
agreement = np.mean(stream.predict(X_disk) == batch.predict(X_disk))
print(f"agreement of the predictions: {agreement:.4f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogy(np.arange(1, len(gaps) + 1), gaps, marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("relative gap to fit's objective")
ax.set_title("partial_fit on memory-mapped chunks")
fig.tight_layout()
plt.show()

# %%
# The memory map is closed before its temporary file is removed.
del X_disk
directory.cleanup()
