"""Metadata routing for SoftmaxRegressionCV, the same on every supported
version of scikit-learn."""

import sklearn
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer
from sklearn.utils.metadata_routing import get_routing_for_object


def score_requests_of_logistic_regression_cv():
    """What this scikit-learn's LogisticRegressionCV requests for its own
    ``score``, beyond what its scorer requests: from scikit-learn 1.8 (at
    the latest), ``sample_weight`` is marked unused there and routed as the
    scorer asks; older versions request it for the estimator itself, and
    their routing would not pass it on to the scorer. The class declares
    it under its own (mangled) name."""
    name = "_LogisticRegressionCV__metadata_request__score"
    return dict(getattr(LogisticRegressionCV, name, {}))


def routing_enabled():
    """Whether ``sklearn.set_config(enable_metadata_routing=True)`` is on."""
    return bool(sklearn.get_config().get("enable_metadata_routing", False))


def refuse_unrouted(params, owner, method, allowed=()):
    """Raise for metadata that only metadata routing can pass on."""
    extra = sorted(set(params) - set(allowed))
    if extra and not routing_enabled():
        also = "".join(f" and {name}" for name in sorted(allowed))
        raise ValueError(
            f"{owner}.{method} got {extra}: without metadata routing it takes "
            f"sample_weight{also} only. Enable routing with "
            "sklearn.set_config(enable_metadata_routing=True) to pass other "
            "metadata to the splitter and the scorer that request it."
        )


def refuse_unasked_sample_weight(scorer, sample_weight, owner, method):
    """Under routing, raise ``UnsetMetadataPassedError`` when
    ``sample_weight`` is passed and ``scorer``, a scorer that can be asked
    for it, has not said whether it takes it.

    Newer scikit-learn refuses this itself: its scorers declare each
    parameter of their metric as an unset request until
    ``set_score_request`` sets it, and routing refuses to pass metadata to
    an unset request. Older versions (1.6 among them) declare nothing for a
    scorer not yet asked, and routing passes it nothing: the held-out scores
    would silently ignore the weights that the fits use. Only on those
    versions is there anything left to do here. There the metric's own
    parameters cannot be read through a public interface, so a scorer whose
    metric takes no weights is refused too; ``set_score_request
    (sample_weight=False)`` answers both.
    """
    if sample_weight is None or not hasattr(scorer, "set_score_request"):
        return
    requests = getattr(get_routing_for_object(scorer), "score", None)
    if requests is None or "sample_weight" in requests.requests:
        return
    if _unasked_scorers_declare_their_metadata():
        # The metric takes no sample_weight, and the scorer rightly asks
        # for none.
        return
    raise UnsetMetadataPassedError(
        message=(
            f"[sample_weight] are passed but are not explicitly set as "
            f"requested or not requested for {scorer!r}.score, which is used "
            f"within {owner}.{method}. Call `scorer.set_score_request("
            "sample_weight=True/False)`: True scores the held-out samples with "
            "their weights, False without them."
        ),
        unrequested_params={"sample_weight": sample_weight},
        routed_params={},
    )


def _unasked_scorers_declare_their_metadata():
    """Whether this scikit-learn's scorers, before ``set_score_request``,
    declare the parameters of their metric (as unset requests)."""
    scorer = get_scorer("accuracy")
    return "sample_weight" in get_routing_for_object(scorer).score.requests
