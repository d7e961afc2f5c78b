"""
====================================
The objective curves of every solver
====================================

:class:`~sklearn_softmax.SoftmaxRegression` has three deterministic solvers,
``'newton-cg'``, ``'lbfgs'`` and ``'gd'``, which run to the penalised optimum,
and two stochastic ones, ``'sgd'`` and ``'adam'``, which step on minibatches
and stop once the objective stops improving. This example fits all five on the
standardised digits data (1797 samples, 64 features, 10 classes) and plots how
far each is from the optimum, after each iteration and against the wall time
of the fit.
"""

# %%
# The data and the optimum
# ------------------------
# The features are brought to one scale, as the penalty treats every
# coefficient alike. The optimum ``f*`` of the objective, the mean multinomial
# log-loss plus ``||W||^2 / (2 C n)``, is found by ``'newton-cg'`` with a very
# tight ``tol``, and checked against scikit-learn's
# :class:`~sklearn.linear_model.LogisticRegression`, which minimises the same
# objective for ten classes.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import ConvergenceDisplay, SoftmaxRegression

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
n_samples = X.shape[0]
C = 1.0


def objective(estimator):
    """Mean multinomial log-loss plus ``||W||^2 / (2 C n)``, at the fit."""
    penalty = np.sum(estimator.coef_**2) / (2 * C * n_samples)
    return log_loss(y, estimator.predict_proba(X)) + penalty


reference = SoftmaxRegression(C=C, solver="newton-cg", tol=1e-10).fit(X, y)
f_star = objective(reference)
logistic = LogisticRegression(C=C, solver="newton-cg", tol=1e-8).fit(X, y)
print(f"f* from newton-cg at tol=1e-10: {f_star:.12f}")
print(f"LogisticRegression at tol=1e-8: {objective(logistic):.12f}")
print(f"relative difference: {(objective(logistic) - f_star) / f_star:.1e}")

# %%
# Fitting every solver to a range of tolerances
# ---------------------------------------------
# A fit stopped by ``max_iter`` before its stopping rule holds would warn, so
# the time axis is not made of runs cut short. Instead each solver is fitted
# from zero to a range of ``tol``, every fit meeting its own stopping rule,
# and each fit is timed from start to end (the shortest of three runs). The
# deterministic solvers stop once the largest gradient entry is below
# ``tol``. The stochastic solvers run with their defaults, ``batch_size=200``
# and a fixed ``random_state``: each time five epochs in a row fail to improve
# the epoch's mean objective by ``tol``, their step is divided by 5, and they
# stop at the stall that would take it below 1e-4 times its initial value.
# The objective of each fitted model is then evaluated on all the data.
SOLVERS = {
    "newton-cg": np.logspace(-1, -8, 8),
    "lbfgs": np.logspace(-1, -8, 8),
    "gd": np.logspace(-1, -8, 8),
    "sgd": np.logspace(-1, -5, 5),
    "adam": np.logspace(-1, -5, 5),
}


def timed_fit(estimator, repeats=3):
    """Fit ``estimator`` ``repeats`` times; return it and the shortest time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        estimator.fit(X, y)
        times.append(time.perf_counter() - start)
    return estimator, min(times)


sweeps = {}
for solver, tols in SOLVERS.items():
    sweep = []
    for tol in tols:
        estimator = SoftmaxRegression(
            C=C, solver=solver, tol=tol, max_iter=2000, random_state=0
        )
        estimator, seconds = timed_fit(estimator)
        sweep.append((estimator, seconds, objective(estimator) - f_star))
    sweeps[solver] = sweep

# %%
# The tightest fit of each solver
# -------------------------------
# The last fit of each sweep, with the smallest ``tol``: its iterations (epochs
# for ``'sgd'`` and ``'adam'``), its time and its gap ``f - f*`` at the
# fitted model, and whether it met its stopping rule.
# A gap of zero means the fit reached ``f*`` up to rounding.
print(
    f"{'solver':<10} {'tol':>7} {'iterations':>10} {'time (ms)':>10} "
    f"{'gap':>9} "
    f"{'converged':>10}"
)
for solver, sweep in sweeps.items():
    estimator, seconds, gap = sweep[-1]
    print(
        f"{solver:<10} {estimator.tol:7.0e} {estimator.n_iter_[0]:10d} "
        f"{1000 * seconds:10.1f} {gap:9.1e} {estimator.converged_!s:>10}"
    )

# %%
# Plotting the gaps
# -----------------
# In the first figure, :class:`~sklearn_softmax.ConvergenceDisplay` draws
# ``loss_curve_ - f*`` of the tightest fit of each solver, after each
# iteration, with the final largest gradient entry in each label.
# ``loss_curve_`` holds the objective after each
# iteration; for ``'gd'`` it is taken at the extrapolated point, which need not
# decrease from one iteration to the next, and for ``'sgd'`` and ``'adam'`` it
# is the mean of the minibatch estimates over an epoch, taken while the
# coefficients move. An iteration of ``'lbfgs'``, and an epoch of the
# stochastic solvers, costs about one pass over the data (the objective and
# its gradient together); one of ``'gd'`` costs that and an objective value
# for each trial step; one of ``'newton-cg'`` costs one more pass for each of
# its conjugate-gradient steps. In the second, the gap of every fit of the
# sweep against its wall time. On both, gaps of zero or below, where a fit
# reached ``f*`` up to rounding, cannot be drawn on the log scale and are left
# out.
#
# The gaps of the deterministic solvers fall towards zero, and each smaller
# ``tol`` takes them closer; here ``'newton-cg'``, whose gap falls ever faster
# near the optimum, needs the fewest iterations and the least time for a small
# gap. The stochastic solvers level off: the noise of the minibatch gradients
# keeps the coefficients moving about the optimum, and the smaller steps that
# follow each stall make slow progress along the directions of little
# curvature, so they stop by their own rule with gaps several orders of
# magnitude above those of the deterministic solvers at the same time.
fig_iter, ax_iter = plt.subplots(figsize=(6.4, 4.5))
fig_time, ax_time = plt.subplots(figsize=(6.4, 4.5))
colours = {solver: f"C{index}" for index, solver in enumerate(SOLVERS)}

for solver, sweep in sweeps.items():
    ConvergenceDisplay.from_estimator(
        sweep[-1][0], optimum=f_star, ax=ax_iter, color=colours[solver]
    )

    seconds = np.array([entry[1] for entry in sweep])
    gaps = np.array([entry[2] for entry in sweep])
    drawn = gaps > 0
    ax_time.loglog(
        seconds[drawn],
        gaps[drawn],
        marker="o",
        color=colours[solver],
        label=solver,
    )

ax_iter.set_xscale("log")
ax_iter.set_xlabel("iteration (epoch for sgd and adam)")
ax_iter.set_ylabel("gap f - f*")
ax_iter.set_title("loss_curve_ of the tightest fit")
ax_iter.legend(title="solver, final max|grad|", fontsize="small")
ax_time.set_xlabel("fit time (s)")
ax_time.set_ylabel("gap f - f*")
ax_time.set_title("one fit per tol")
ax_time.legend(title="solver", fontsize="small")
# The two figures share the gap axis, as if side by side.
(low_iter, high_iter), (low_time, high_time) = (
    ax_iter.get_ylim(),
    ax_time.get_ylim(),
)
for ax in (ax_iter, ax_time):
    ax.set_ylim(min(low_iter, low_time), max(high_iter, high_time))
for fig in (fig_iter, fig_time):
    fig.suptitle(f"SoftmaxRegression solvers, standardised digits, C={C:g}")
    fig.tight_layout()
plt.show()

# sphinx_gallery_thumbnail_number = 1
