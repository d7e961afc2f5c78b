"""Settings that a fit does not use, named so that the user hears of them.

Each rule names the parameters that only some solvers or schedules read;
a value other than the default given where none of them runs changes
nothing, and is reported rather than silently dropped. ``random_state`` is
left out: seeding every estimator is an idiom, and an unused seed leaves
no doubt about the model.
"""

import functools
import inspect

from ._solvers import STOCHASTIC_SOLVERS

# The parameters that only 'sgd' and 'adam' read.
STOCHASTIC_SETTINGS = (
    "batch_size",
    "learning_rate",
    "learning_rate_init",
    "power_t",
    "momentum",
    "nesterovs_momentum",
    "average",
    "shuffle",
    "n_iter_no_change",
    "validation_fraction",
)
# The parameters of 'sgd''s momentum, which Adam's moments replace.
MOMENTUM_SETTINGS = ("momentum", "nesterovs_momentum")
# The parameters that say when a fit stops, which partial_fit leaves to its
# caller.
STOPPING_SETTINGS = (
    "max_iter",
    "tol",
    "n_iter_no_change",
    "early_stopping",
    "validation_fraction",
)


@functools.cache
def defaults(estimator_class):
    """The default of each parameter of ``estimator_class``, read once per
    class (``partial_fit`` asks on every chunk). The dict is shared: do not
    change it."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(
            estimator_class.__init__
        ).parameters.items()
    }


def unused_settings(params, defaults, solver, runs, unread=None, streaming=False):
    """The parameters among ``params`` (a dict of the estimator's
    parameters) whose value differs from ``defaults`` and that fits running
    ``solver`` do not read ('auto' stands for the full-batch solver it
    picks in ``fit``), as ``(names, sentence)`` pairs, one for each rule
    that applies: the sentence names them and says why, with ``runs`` for
    what the fits run.

    ``unread`` maps the settings that the data's backend does not read for
    this fit (``n_threads``, ``precision``) to why; ``streaming`` is true
    for ``partial_fit``, which leaves the stopping to its caller.
    """

    def changed(names):
        return [name for name in names if params[name] != defaults[name]]

    unread = unread or {}
    found = []
    # 'auto' may pick 'newton-cg', which reads precision.
    if solver not in ("newton-cg", "auto"):
        found.append(
            (
                changed(["precision"]),
                "it sets the Hessian-vector products of 'newton-cg', and this "
                f"fit runs {runs}",
            )
        )
    elif "precision" in unread:
        found.append((changed(["precision"]), unread["precision"]))
    if "n_threads" in unread:
        found.append((changed(["n_threads"]), unread["n_threads"]))
    if streaming:
        found.append(
            (
                changed(STOPPING_SETTINGS),
                "partial_fit takes one epoch on each chunk, and its caller "
                "decides when the stream stops",
            )
        )
    if solver not in STOCHASTIC_SOLVERS:
        found.append(
            (
                changed(STOCHASTIC_SETTINGS),
                "only the stochastic solvers 'sgd' and 'adam' read {them}, and "
                f"this fit runs {runs}",
            )
        )
    else:
        if solver == "adam":
            found.append(
                (
                    changed(MOMENTUM_SETTINGS),
                    "'adam' takes no momentum (its moments replace that of 'sgd')",
                )
            )
        elif params["momentum"] == 0:
            found.append(
                (
                    changed(["nesterovs_momentum"]),
                    "it sets how 'sgd' applies its momentum, and momentum is 0",
                )
            )
        if params["learning_rate"] != "invscaling":
            found.append(
                (
                    changed(["power_t"]),
                    "it sets the schedule learning_rate='invscaling', and "
                    f"learning_rate is {params['learning_rate']!r}",
                )
            )
        if not params["early_stopping"] and not streaming:
            found.append(
                (
                    changed(["validation_fraction"]),
                    "it sets the share early_stopping holds out, and "
                    "early_stopping is False",
                )
            )
    return [(names, _sentence(params, names, why)) for names, why in found if names]


def _sentence(params, names, why):
    settings = [f"{name}={params[name]!r}" for name in names]
    if len(settings) == 1:
        return f"{settings[0]} is not used: {why.format(them='it')}."
    listed = ", ".join(settings[:-1]) + " and " + settings[-1]
    return f"{listed} are not used: {why.format(them='them')}."
