"""
=======================================================
Marginal effects and predicted probabilities with bands
=======================================================

A multinomial model of party identification in the 1996 American National
Election Study (the ANES 1996 data that statsmodels ships), fitted by
:class:`~sklearn_softmax.SoftmaxRegression` without a penalty and read the
way applied work reports it: the average marginal effect of each feature on
the probability of each party, with 95% intervals, and the predicted
probabilities across one feature, with their bands.
"""

# %%
# The data and the model
# ----------------------
# The seven-point party identification is grouped into Democrats (strong,
# weak, leaning), independents and Republicans. The features are the
# respondent's self-placement from liberal (1) to conservative (7), age,
# education, income, and the log of the population of their place of
# residence.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm

from sklearn_softmax import SoftmaxRegression, softmax_inference

data = sm.datasets.anes96.load_pandas().data
party = np.select(
    [data["PID"] <= 2, data["PID"] == 3],
    ["Democrat", "Independent"],
    "Republican",
)
features = ["selfLR", "age", "educ", "income", "logpopul"]
X = data[features]
model = SoftmaxRegression(C=np.inf, tol=1e-10).fit(X, party)
result = softmax_inference(model, X, party)

# %%
# Average marginal effects
# ------------------------
# How much one more unit of each feature changes the probability of each
# party, averaged over the respondents, with delta-method intervals. The
# effects of a feature sum to zero over the parties.
effects = result.marginal_effects(at="overall", method="dydx").to_frame()
print(effects.round(4).to_string(index=False))

fig, left = plt.subplots(figsize=(6.4, 4.2))
offsets = {"Democrat": -0.2, "Independent": 0.0, "Republican": 0.2}
colours = {
    "Democrat": "tab:blue",
    "Independent": "tab:grey",
    "Republican": "tab:red",
}
for name, rows in effects.groupby("class"):
    positions = np.arange(len(features)) + offsets[name]
    left.errorbar(
        rows["estimate"],
        positions,
        xerr=[
            rows["estimate"] - rows["ci_lower"],
            rows["ci_upper"] - rows["estimate"],
        ],
        fmt="o",
        color=colours[name],
        label=name,
    )
left.axvline(0.0, color="black", linewidth=0.8)
left.set_yticks(np.arange(len(features)), features)
left.invert_yaxis()
left.set_xlabel("average marginal effect on the probability")
left.legend(loc="lower left", fontsize="small")
fig.tight_layout()

# %%
# Predicted probabilities across the liberal-conservative scale
# ---------------------------------------------------------------
# Each party's probability at each self-placement, the other features at
# their means, with 95% bands computed on the log-odds scale, so they stay
# inside [0, 1].
fig, right = plt.subplots(figsize=(6.4, 4.2))
grid = pd.DataFrame([X.mean()] * 7)
grid["selfLR"] = np.arange(1, 8)
bands = result.predict_proba_interval(grid)
for k, name in enumerate(model.classes_):
    right.plot(
        grid["selfLR"], bands.proba[:, k], color=colours[name], label=name
    )
    right.fill_between(
        grid["selfLR"],
        bands.lower[:, k],
        bands.upper[:, k],
        color=colours[name],
        alpha=0.2,
    )
right.set_xlabel("self-placement, liberal (1) to conservative (7)")
right.set_ylabel("predicted probability")
right.set_ylim(0, 1)
right.legend(loc="center left", fontsize="small")
fig.tight_layout()
plt.show()
