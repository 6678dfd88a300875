"""
Tests of the K+ distribution (model/kdist.py), the heads fitted on real labels (model/fit_real.py) and the
shipped model's writer (model/ship.py): on made-up features where the answer is known, and a smoke run of the
nested cross-validation on a few ECGs. The real features of the shipped network are not needed here.

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_fit_real.py
"""
import numpy as np
import pytest
import torch

import export
import fit_real as FR
import kdist
import ship
from model import ECG12Net, ModelConfig, fold_batchnorm


def shifted_cdf(mu, scale, k, prior=kdist.ED_PRIOR):
    """The shifted distribution's CDF by its definition (numerical integration of the weighted density)."""
    grid = np.linspace(-30, 40, 400001)
    z = (grid - mu) / scale
    density = np.exp(-z) / (scale * (1 + np.exp(-z)) ** 2)
    group = (grid > 2.5).astype(int) + (grid > 3.5) + (grid >= 5.5) + (grid >= 6.5)
    weighted = density * kdist.shift_weights(prior)[group]
    cdf = np.cumsum(weighted)
    return np.interp(k, grid, cdf / cdf[-1])


@pytest.mark.parametrize("mu", [1.2, 2.9, 4.4, 5.8, 7.4])
def test_quantiles_invert_the_shifted_cdf(mu):
    for q in (0.1, 0.5, 0.9):
        k = kdist.shifted_quantile(mu, 0.9, q)[0]
        assert shifted_cdf(mu, 0.9, k) == pytest.approx(q, abs=2e-4)


def test_equal_priors_leave_the_logistic_alone_and_the_ed_prior_pulls_to_normal():
    mu = np.array([2.0, 4.5, 6.0, 7.0])
    same = kdist.shifted_quantile(mu, 0.7, 0.5, prior_to=kdist.BALANCED_PRIOR)
    assert np.allclose(same, mu)
    ed = kdist.shifted_quantile(mu, 0.7, 0.5)
    assert ed[2] < mu[2] and ed[3] < mu[3]          # a high location is pulled towards normal
    p = kdist.group_probs(mu, 0.7)
    assert np.allclose(p.sum(1), 1)
    shifted = kdist.shifted_group_probs(mu, 0.7)
    want = p * np.array(kdist.ED_PRIOR) / 0.2
    assert np.allclose(shifted, want / want.sum(1, keepdims=True))
    s = kdist.summary(mu, 0.7)
    assert (s["k_low"] < s["k"]).all() and (s["k"] < s["k_high"]).all()
    assert sum(kdist.ED_PRIOR) == pytest.approx(1.0)
    assert sum(kdist.ED_PRIOR[:2]) == pytest.approx(0.227) and sum(kdist.ED_PRIOR[3:]) == pytest.approx(0.027)


def test_interval_likelihood_is_the_group_mass():
    mu = torch.tensor([3.0, 4.5, 6.8], dtype=torch.float64)
    groups = torch.tensor([1, 2, 4])
    nll = FR.interval_nll(mu, torch.tensor(0.8, dtype=torch.float64), groups)
    p = kdist.group_probs(mu.numpy(), 0.8)[np.arange(3), groups.numpy()]
    assert float(nll) == pytest.approx(-np.log(p).mean(), rel=1e-9)


def test_stratified_folds_deal_each_group_evenly():
    groups = np.repeat(np.arange(5), 20)
    folds = FR.stratified_folds(groups, 5, np.random.default_rng(0))
    for g in range(5):
        assert np.bincount(folds[groups == g], minlength=5).tolist() == [4] * 5


def made_up_data(n_per_group=12, seed=0):
    """Features whose first direction carries K+ (location = group midpoint + noise), the rest noise."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(5), n_per_group)
    k = np.array([2.0, 3.0, 4.5, 6.0, 7.0])[groups] + 0.3 * rng.standard_normal(len(groups))
    c = 16
    f = rng.standard_normal((len(groups), 4, 12, c)) * 0.5 + 1.0
    f[..., 0] += (k - 4.5)[:, None, None]
    alpha = np.full((len(groups), 4, 12), 1 / 12)
    unl = rng.standard_normal((200, 12, c)) * 0.5 + 1.0
    unl[..., 0] += rng.normal(0, 1.5, (200, 1))
    basis = FR.Basis.fit(unl, np.full((200, 12), 1 / 12), kmax=8)
    return FR.Data(f, alpha, groups), basis


def test_interval_fit_recovers_the_signal_and_its_lead_estimates_are_potassium_values():
    d, basis = made_up_data()
    m = FR.fit(FR.Config("interval", k=5, ridge=1e-3, leads=True), d, basis)
    mu = m.mu(d.f[:, 0], d.alpha[:, 0])
    assert np.corrcoef(mu, np.array([2.0, 3.0, 4.5, 6.0, 7.0])[d.groups])[0, 1] > 0.9
    assert 1.0 < np.median(m.lead_mu(d.f[:, 0])) < 8.0
    assert 0.05 < m.scale < 2.0
    # the raw-feature weights reproduce the fitted locations (what the engine computes)
    assert np.allclose((d.alpha[:, 0] * (np.einsum("nlc,lc->nl", d.f[:, 0], m.w) + m.b)).sum(1), mu)


def test_nested_cross_validation_smoke(monkeypatch):
    d, basis = made_up_data(n_per_group=10)
    small = {"interval": [FR.Config("interval", k=3, ridge=r) for r in (1e-3, 1e-1)],
             "interval + leads": [FR.Config("interval", k=3, ridge=1e-2, leads=True)],
             "probe: multinomial logistic, 5 PCs (the review's)": [FR.Config("probe", k=3)]}
    monkeypatch.setattr(FR, "METHODS", small)
    monkeypatch.setattr(FR, "SELECT", {"chosen per fold": small["interval"] + small["interval + leads"]})
    monkeypatch.setattr(FR, "SHIPPED", "chosen per fold")
    oof, chosen = FR.cross_validate(d, basis, None, None, repeats=1, log=lambda *_: None)
    assert len(chosen) == FR.OUTER_FOLDS
    for name, reps in oof.items():
        assert reps[0]["probs"].shape == (len(d.groups), 5) and np.isfinite(reps[0]["probs"]).all(), name
    mu = oof["interval"][0]["mu"]
    assert FR.evaluate.auc(mu, d.groups >= 3) > 0.8          # out of fold, the signal is still found


def test_shipped_heads_compute_the_fitted_location(tmp_path):
    torch.manual_seed(0)
    base = fold_batchnorm(ECG12Net(ModelConfig(head="regression+groups")))
    rng = np.random.default_rng(1)
    fitted = FR.Fitted(np.tile(rng.standard_normal(864) * 0.01, (12, 1)), np.full(12, 4.4), 0.8)
    net = ship.with_heads(base, fitted)
    x = torch.randn(2, 12, 1250) * 0.3
    with torch.no_grad():
        out = net(x)
    f = out["features"].mean(3).numpy()
    assert np.allclose(out["k"].numpy(), fitted.mu(f, out["lead_attention"].numpy()), atol=1e-4)
    path = tmp_path / "m.kmodel"
    export.save_weights(path, net, "m", "f32", extra_header={"k_distribution": ship.distribution_header(0.8)})
    loaded, header = export.load_weights(path)
    assert header["k_distribution"]["scale_meq_l"] == 0.8 and header["model_config"]["head"] == "regression"
    g = ship.golden(loaded, 0.8, x.numpy())
    assert np.allclose(g["k"], kdist.shifted_quantile(g["k_location"], 0.8, 0.5), atol=1e-5)
    assert (g["k_low"] <= g["k"]).all() and (g["k"] <= g["k_high"]).all()


def test_calibration_error_and_coverage_measure_what_they_say():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 5, 4000)
    honest = np.full((4000, 5), 0.2)                       # balanced data, uniform forecast: calibrated
    ece, _ = FR.calibration(truth, honest)
    assert ece["P(K<=3.5)"] < 0.03 and ece["P(K>=5.5)"] < 0.03
    overconfident = np.eye(5)[(truth + 1) % 5]             # always sure, always wrong
    ece, _ = FR.calibration(truth, overconfident)
    assert ece["top group"] == pytest.approx(1.0)
    # a range 3.0-5.0 holds half of the 2.5-3.5 span and all of none of the 5.5-6.5 span
    cov = FR.coverage(np.array([1, 3]), np.array([3.0, 3.0]), np.array([5.0, 5.0]))
    assert cov["expected coverage"] == pytest.approx(0.25)
    assert cov["range touches the true group"] == pytest.approx(0.5)


def test_flags_sit_at_the_prevalence_quantiles():
    d, basis = made_up_data()
    m = FR.fit(FR.Config("interval", k=5, ridge=1e-3), d, basis)
    rng = np.random.default_rng(3)
    unl = (rng.standard_normal((2000, 12, 16)) + 1.0, np.full((2000, 12), 1 / 12))
    lo, hi = FR.flag_thresholds(m, unl)
    flags = FR.flags_of(m.mu(*unl), (lo, hi))
    assert (flags == -1).mean() == pytest.approx(sum(kdist.ED_PRIOR[:2]), abs=0.002)
    assert (flags == 1).mean() == pytest.approx(sum(kdist.ED_PRIOR[3:]), abs=0.002)


def test_own_estimate_scale_and_shift_keeps_the_ranking_and_moves_the_leads_with_it():
    """'own': a start whose estimate is right up to a scale and shift is mapped back onto the labels, its
    ranking untouched, and each lead's estimate goes through the same map."""
    d, basis = made_up_data(n_per_group=20, seed=3)
    w = np.zeros((12, d.f.shape[-1]))
    w[:, 0] = 0.5                                   # half the signal, shifted by +2: a*mu + c must undo it
    start = FR.Fitted(w, np.full(12, 6.5 - 0.5), 1.0)
    m = FR.fit(FR.Config("own", leads=True), d, basis, start=start)
    mu0, mu = start.mu(d.f[:, 0], d.alpha[:, 0]), m.mu(d.f[:, 0], d.alpha[:, 0])
    assert np.array_equal(np.argsort(mu0), np.argsort(mu))
    truth = np.array([2.0, 3.0, 4.5, 6.0, 7.0])[d.groups]
    assert abs(np.median(mu - truth)) < 0.3 and np.mean(np.abs(mu - truth)) < np.mean(np.abs(mu0 - truth)) / 2
    a = (mu[1] - mu[0]) / (mu0[1] - mu0[0])
    assert np.allclose(m.lead_mu(d.f[:, 0]), a * start.lead_mu(d.f[:, 0]) + (mu - a * mu0)[:, None])
