"""model/morphology_check.py: the hand-measured signs move the textbook way on simulated ECGs, a record without
beats gives no values, and the cross-validation runs on a few ECGs."""
import numpy as np

import morphology_check as M
import simulate as S

COL = {name: i for i, name in enumerate(M.FEATURES)}


def _mean_features(k, n=6):
    rows = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        p = S.sample_patient(rng)
        x, _ = S.simulate(k, rng, params=p)
        rows.append(M.morphology(x))
    return np.nanmean(np.stack(rows), 0)


def test_signs_move_the_textbook_way_on_simulated_ecgs():
    normal, high, low = _mean_features(4.2), _mean_features(7.8), _mean_features(2.2)
    assert high[COL["t_V3_uv"]] > 1.3 * normal[COL["t_V3_uv"]]            # tall T
    assert high[COL["t_halfwidth_ms"]] < normal[COL["t_halfwidth_ms"]]      # narrow, tented T
    assert low[COL["t_over_qrs_V2V4"]] < normal[COL["t_over_qrs_V2V4"]]    # flat T
    assert np.isfinite(normal).sum() >= 12


def test_a_record_without_beats_gives_no_values_and_standardising_fills_the_centre():
    values = M.morphology(np.zeros((12, 5000), np.float32))
    assert values.shape == (len(M.FEATURES),) and np.isnan(values).all()
    ref = np.random.default_rng(0).normal(size=(50, len(M.FEATURES)))
    z = M.standardised(values[None], ref)
    assert (z == 0).all()


def test_cross_validation_smoke():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(5), 8)
    k_net = 2.0 + 1.2 * groups + rng.normal(0, 0.8, len(groups))           # a network that ranks the groups
    z = rng.normal(size=(len(groups), 3))                                   # features with no information
    oof = M.cross_validate(k_net, z, groups, repeats=1)
    assert set(oof) == set(M.MODELS) and all(len(v) == 1 and v[0].shape == (40,) for v in oof.values())
    auc = lambda mu: M.evaluate.auc(mu, groups >= 3)  # noqa: E731
    assert auc(oof["own"][0]) > 0.8 and auc(oof["features"][0]) < auc(oof["own"][0])
