"""SoftmaxRegressionCV passes groups, sample weights and other metadata to
its splitter and its scorer as LogisticRegressionCV does."""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_wine
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer, log_loss
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_validate
from sklearn.preprocessing import StandardScaler
from sklearn.utils.metadata_routing import get_routing_for_object

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV

TIGHT = {"tol": 1e-10, "max_iter": 100_000}
CS = [0.01, 0.1, 1.0, 10.0]


@pytest.fixture(scope="module")
def data():
    X, y = load_wine(return_X_y=True)
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 12, size=len(y))
    sample_weight = rng.uniform(0.2, 3.0, size=len(y))
    return StandardScaler().fit_transform(X), y, groups, sample_weight


class RecordingGroupKFold(GroupKFold):
    """GroupKFold that keeps the groups it was given and the folds it made."""

    def split(self, X, y=None, groups=None):
        self.groups_seen = groups
        self.folds_made = list(super().split(X, y, groups))
        yield from self.folds_made


def _held_out_scores(
    X, y, folds, sample_weight=None, score_weights=False, fit_intercept=True
):
    """The held-out log-loss of SoftmaxRegression fitted from zero on each
    training part, for each C: what scores_ must hold."""
    scores = np.empty((len(folds), 1, len(CS)))
    classes = np.unique(y)
    for k, (train, test) in enumerate(folds):
        weights = None if sample_weight is None else sample_weight[train]
        for c, C in enumerate(CS):
            model = SoftmaxRegression(C=C, fit_intercept=fit_intercept, **TIGHT)
            model.fit(X[train], y[train], weights)
            scores[k, 0, c] = -log_loss(
                y[test],
                model.predict_proba(X[test]),
                sample_weight=sample_weight[test] if score_weights else None,
                labels=classes,
            )
    return scores


def _weighted_log_loss(sample_weight):
    return get_scorer("neg_log_loss").set_score_request(sample_weight=sample_weight)


def _logistic_regression_cv(scoring, cv, fit_intercept=True):
    # At three classes LogisticRegressionCV fits the same objective with the
    # same C.
    return LogisticRegressionCV(
        Cs=CS,
        cv=cv,
        scoring=scoring,
        solver="newton-cholesky",
        tol=1e-12,
        fit_intercept=fit_intercept,
    )


def _unasked_scorers_declare_their_metadata():
    """Whether this scikit-learn's scorers declare the parameters of their
    metric as unset requests before ``set_score_request``, so that routing
    refuses to pass them metadata. Newer versions do ("Scorers now correctly
    request for metadata", in scikit-learn's release notes); older ones, 1.6
    among them, declare nothing and are silently passed nothing."""
    with sklearn.config_context(enable_metadata_routing=True):
        requests = get_routing_for_object(get_scorer("neg_log_loss")).score
        return "sample_weight" in requests.requests


def _fit_quietly(reference, X, y, **params):
    # Newer scikit-learn warns about its changing defaults; the values used
    # here are those of every version.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return reference.fit(X, y, **params)


def test_group_kfold_without_routing_keeps_groups_whole(data):
    X, y, groups, _ = data
    splitter = RecordingGroupKFold(n_splits=3)
    model = SoftmaxRegressionCV(Cs=CS, cv=splitter, **TIGHT).fit(X, y, groups=groups)
    assert_array_equal(splitter.groups_seen, groups)
    folds = splitter.folds_made
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    expected_folds = GroupKFold(n_splits=3).split(X, y, groups)
    for (_, test), (_, expected_test) in zip(folds, expected_folds, strict=True):
        assert_array_equal(test, expected_test)
    # Warm-started paths and fits from zero agree to within their tol.
    assert_allclose(model.scores_, _held_out_scores(X, y, folds), rtol=1e-6)


def test_folds_that_ignore_groups_warn(data):
    X, y, groups, _ = data
    # scikit-learn's stratified folds warn themselves.
    with pytest.warns(UserWarning, match="groups parameter is ignored"):
        SoftmaxRegressionCV(Cs=2, cv=3).fit(X, y, groups=groups)
    folds = list(GroupKFold(n_splits=3).split(X, y, groups))
    with pytest.warns(UserWarning, match="groups is not used") as record:
        SoftmaxRegressionCV(Cs=2, cv=folds).fit(X, y, groups=groups)
    assert record[0].filename == __file__


def test_without_routing_sample_weight_scores_the_held_out_parts(data):
    X, y, groups, sample_weight = data
    folds = list(GroupKFold(n_splits=3).split(X, y, groups))
    model = SoftmaxRegressionCV(Cs=CS, cv=GroupKFold(n_splits=3), **TIGHT)
    model.fit(X, y, sample_weight=sample_weight, groups=groups)
    expected = _held_out_scores(X, y, folds, sample_weight, score_weights=True)
    assert_allclose(model.scores_, expected, rtol=1e-6)


@pytest.mark.parametrize("method", ["fit", "score"])
def test_without_routing_other_metadata_is_refused(data, method):
    X, y, groups, _ = data
    model = SoftmaxRegressionCV(Cs=2, cv=3)
    if method == "score":
        model.fit(X, y)
    with pytest.raises(ValueError, match=r"\['extra'\].*enable_metadata_routing"):
        getattr(model, method)(X, y, extra=groups)
    # As LogisticRegressionCV refuses it.
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        _fit_quietly(_logistic_regression_cv("neg_log_loss", 3), X, y, extra=groups)


@pytest.mark.parametrize("requested", [True, False])
def test_routing_groups_and_sample_weight_to_the_scorer(data, requested):
    X, y, groups, sample_weight = data
    folds = list(GroupKFold(n_splits=3).split(X, y, groups))
    # Without intercepts: before scikit-learn 1.7.2, LogisticRegressionCV's
    # warm-started multinomial 'newton-cholesky' fits started from partly
    # zeroed coefficients when some parameters were unpenalised, such as
    # intercepts, and ended elsewhere (its release notes, 1.7.2).
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = _weighted_log_loss(requested)
        model = SoftmaxRegressionCV(
            Cs=CS,
            cv=GroupKFold(n_splits=3),
            scoring=scoring,
            fit_intercept=False,
            **TIGHT,
        ).fit(X, y, sample_weight=sample_weight, groups=groups)
        reference = _fit_quietly(
            _logistic_regression_cv(scoring, GroupKFold(n_splits=3), False),
            X,
            y,
            sample_weight=sample_weight,
            groups=groups,
        )
    # The fits are weighted either way; the scores only when the scorer
    # asks for the weights.
    expected = _held_out_scores(
        X, y, folds, sample_weight, score_weights=requested, fit_intercept=False
    )
    assert_allclose(model.scores_, expected, rtol=1e-6)
    reference_scores = next(iter(reference.scores_.values()))
    assert_allclose(model.scores_[:, 0, :], reference_scores, rtol=1e-6)
    assert np.ravel(reference.C_)[0] == model.C_


def test_routing_refuses_what_no_one_was_asked_about(data):
    X, y, groups, sample_weight = data
    # The default scorer has not said whether it takes the weights. Where
    # scikit-learn's scorers do not declare them (see above), its own
    # LogisticRegressionCV scores without them, silently; SoftmaxRegressionCV
    # refuses them with every version.
    refusing = [SoftmaxRegressionCV(Cs=2, cv=GroupKFold(n_splits=3))]
    if _unasked_scorers_declare_their_metadata():
        refusing.append(_logistic_regression_cv("neg_log_loss", GroupKFold(n_splits=3)))
    with sklearn.config_context(enable_metadata_routing=True):
        for estimator in refusing:
            with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
                _fit_quietly(
                    estimator, X, y, sample_weight=sample_weight, groups=groups
                )
        for estimator in (
            SoftmaxRegressionCV(Cs=2, cv=3),
            _logistic_regression_cv("neg_log_loss", 3),
        ):
            # Stratified folds do not take groups, and nothing takes extra.
            with pytest.raises(TypeError, match="groups"):
                _fit_quietly(estimator, X, y, groups=groups)
            with pytest.raises(TypeError, match="extra"):
                _fit_quietly(estimator, X, y, extra=groups)


def test_routing_of_score(data):
    X, y, _, sample_weight = data
    with sklearn.config_context(enable_metadata_routing=True):
        model = SoftmaxRegressionCV(Cs=2, cv=3, scoring=_weighted_log_loss(True))
        model.fit(X, y)
        expected = -log_loss(y, model.predict_proba(X), sample_weight=sample_weight)
        assert model.score(X, y, sample_weight=sample_weight) == pytest.approx(
            expected, rel=1e-12
        )
        # With every version of scikit-learn, as in fit.
        model.set_params(scoring="neg_log_loss")
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            model.score(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("requested", [True, None])
def test_metadata_routing_names_the_splitter_and_the_scorer(requested):
    params = {"groups", "sample_weight", "extra"}
    consumed = {"groups", "sample_weight"} if requested else {"groups"}
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = _weighted_log_loss(requested)
        model = SoftmaxRegressionCV(cv=GroupKFold(n_splits=3), scoring=scoring)
        routing = get_routing_for_object(model)
        assert routing.consumes("fit", params) == consumed
        scored = {"sample_weight"} & consumed
        assert routing.consumes("score", params) == scored
        reference = _logistic_regression_cv(scoring, GroupKFold(n_splits=3))
        reference_routing = get_routing_for_object(reference)
        assert reference_routing.consumes("fit", params) == consumed
        assert reference_routing.consumes("score", params) == scored


def test_an_outer_search_routes_sample_weight_as_to_logistic_regression_cv(data):
    """score's sample_weight is routed as LogisticRegressionCV of the same
    scikit-learn routes it: in newer versions to the scorer, which requests
    it or not, the estimator itself asking for nothing, so that
    cross_validate's default scoring, the estimator's score, runs with
    weights routed to fit only; older versions refuse the weights there,
    whose routing would not pass them on to the scorer."""
    X, y, _, sample_weight = data

    def outer_scores(search):
        search.set_fit_request(sample_weight=True)
        try:
            return cross_validate(
                search, X, y, cv=3, params={"sample_weight": sample_weight}
            )["test_score"]
        except UnsetMetadataPassedError:
            return None

    legacy = "use_legacy_attributes" in LogisticRegressionCV().get_params()
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_log_loss").set_score_request(sample_weight=True)
        ours = outer_scores(SoftmaxRegressionCV(Cs=[1.0], scoring=scorer, tol=1e-10))
        theirs = outer_scores(
            LogisticRegressionCV(
                Cs=[1.0],
                l1_ratios=(0.0,),
                scoring=scorer,
                solver="newton-cholesky",
                tol=1e-10,
                max_iter=10_000,
                **({"use_legacy_attributes": False} if legacy else {}),
            )
        )
    assert (ours is None) == (theirs is None)
    if ours is None:
        return
    # By hand: with one C, each outer fold's search is the fit of that C on
    # the fold's training part, scored by its weighted held-out log-loss.
    expected = []
    for train, test in StratifiedKFold(3).split(X, y):
        model = SoftmaxRegression(tol=1e-10).fit(
            X[train], y[train], sample_weight=sample_weight[train]
        )
        expected.append(
            -log_loss(
                y[test],
                model.predict_proba(X[test]),
                sample_weight=sample_weight[test],
            )
        )
    # Every fit stops at a gradient of 1e-10 of the same problem; the scores
    # agree far within what the stopping rule allows.
    assert_allclose(ours, expected, rtol=1e-6)
    assert_allclose(ours, theirs, rtol=1e-6)
