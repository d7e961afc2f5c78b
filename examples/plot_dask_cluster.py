"""
=========================
Fitting on a Dask cluster
=========================

:class:`~sklearn_softmax.SoftmaxRegression` fits a dask array where Dask
holds its blocks of rows: each evaluation of the objective runs on the
workers, block by block, and only the parameters and the blocks' partial
sums travel. This example starts a small ``dask.distributed`` cluster on
this machine, fits a dask array on it, checks that the model is the one
fitted on the same data in memory, predicts lazily, and closes the
cluster.
"""

# %%
# A local cluster
# ---------------
# Two workers with one thread each. A real cluster would run them on other
# machines; here they run as threads of this process (``processes=False``),
# which starts in a moment and needs no separate interpreter. Its web
# server takes a free port, whichever other clusters run. The client makes
# the cluster the one Dask computes on.
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
)
client = Client(cluster)
print(f"{len(client.scheduler_info()['workers'])} workers")

# %%
# The data
# --------
# 40000 samples of 20 features in 4 classes, cut into 8 blocks of 5000 rows,
# which the cluster keeps in its workers' memory (``persist``). A dataset
# read with Dask from files would be cut into blocks in the same way,
# without ever being held by this process.
import dask.array as da
from sklearn.datasets import make_classification

X_numpy, y_numpy = make_classification(
    n_samples=40_000,
    n_features=20,
    n_informative=10,
    n_classes=4,
    class_sep=2.0,
    random_state=0,
)
X = da.from_array(X_numpy, chunks=(5000, 20)).persist()
y = da.from_array(y_numpy, chunks=5000).persist()
print(f"X: {X.shape}, {X.numblocks[0]} blocks of {X.chunks[0][0]} rows")

# %%
# Fitting on the cluster, and in memory
# -------------------------------------
# ``fit`` takes the dask arrays as they are. The solver runs here, in this
# process, on the model's 84 parameters, few enough for 'auto' to choose
# exact Newton steps ('newton-cholesky'); the workers compute the
# objective, its gradient and its Hessian on their blocks, and send back
# their sums. The same estimator fits the NumPy arrays for comparison.
from sklearn_softmax import SoftmaxRegression

model_dask = SoftmaxRegression(C=1.0, tol=1e-8).fit(X, y)
model_memory = SoftmaxRegression(C=1.0, tol=1e-8).fit(X_numpy, y_numpy)
print(f"solver: {model_dask.solver_}, {model_dask.n_iter_[0]} iterations")
coef = model_dask.coef_
print(f"coef_: {type(coef).__name__} of shape {coef.shape}, in this process")

# %%
# The same model
# --------------
# The blocks' sums are added in another order than the in-memory passes
# add theirs, so the two fits differ by rounding, which ``tol=1e-8`` keeps
# far below anything that counts.
difference = np.abs(model_dask.coef_ - model_memory.coef_).max()
print(f"largest coefficient difference: {difference:.1e}")

# %%
# Lazy predictions
# ----------------
# ``predict_proba`` returns a dask array with the blocks of ``X``: nothing is
# computed until it is asked for, and then on the workers.
proba = model_dask.predict_proba(X)
print(f"dask array: {isinstance(proba, da.Array)}, {proba.numblocks[0]} blocks")
accuracy = (proba.argmax(axis=1) == y).mean().compute()
print(f"training accuracy, computed on the cluster: {accuracy:.3f}")
print(f"score, in memory: {model_memory.score(X_numpy, y_numpy):.3f}")

# %%
# Each coefficient of the fit on the cluster against the same coefficient
# of the fit in memory: all 80 lie on the diagonal.
fig, ax = plt.subplots(figsize=(5.5, 5))
coef_memory, coef_dask = model_memory.coef_, model_dask.coef_
for k in range(coef_memory.shape[0]):
    ax.scatter(coef_memory[k], coef_dask[k], s=18, label=f"class {k}")
limits = np.array([coef_dask.min(), coef_dask.max()]) * 1.1
ax.plot(limits, limits, color="0.6", linewidth=1, zorder=0)
ax.set_xlabel("coefficient, fitted in memory")
ax.set_ylabel("coefficient, fitted on the cluster")
ax.set_title("One model, in memory and on a cluster")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Closing the cluster
# -------------------
# The client and the cluster hold threads and memory until they are closed.
client.close()
cluster.close()

# sphinx_gallery_thumbnail_number = 1
