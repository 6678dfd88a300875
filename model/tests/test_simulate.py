"""
Tests of the ECG simulator (model/simulate.py): lead relations, physiological ranges, the K+ effects
(averaged over many synthetic patients, so patient variability does not decide them), reproducibility,
the K sampler and speed.

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_simulate.py
"""
import time

import numpy as np
import pytest

import simulate as S

S.tune_malloc()             # what simulate_batch does: numpy temporaries from the heap, not fresh pages
FS = 500
A = int(0.35 * FS)          # median_beat(): QRS onset at this sample
I, II, III, AVR, AVL, AVF, V1, V2, V3, V4, V5, V6 = range(12)


def clean(k, patient, rhythm_seed=0):
    """Noise-free ECG of `patient` at K = k; the same rhythm_seed gives the same beats at any K."""
    return S.simulate(k, np.random.default_rng(rhythm_seed), params=patient, noise=False)


def measures(x, info):
    """From the noise-free median beat: T amplitude (II, mean of V2-V4; the largest deflection between
    QRS end + 40 ms and the T end), ST level at J + 40 ms (II, V5), QRS duration (spatial slope of the 8
    independent leads above 12 % of its peak), and the late-repolarisation (U) level in V2-V3."""
    mb = S.median_beat(x, info)
    iv = info["intervals"]
    q_end = A + int(iv["qrs_ms"] * FS / 1000)
    t_end = A + int(iv["qt_ms"] * FS / 1000)
    tw = mb[:, q_end + 20:t_end]
    t_amp = tw[np.arange(12), np.abs(tw).argmax(1)]
    slope = np.abs(np.diff(mb[[I, II, V1, V2, V3, V4, V5, V6]], axis=1)).sum(0)
    win = slope[A - 30:A + 100]
    above = np.flatnonzero(win > 0.12 * win.max())
    return {
        "t_ii": t_amp[II], "t_v24": t_amp[[V2, V3, V4]].mean(),
        "st_ii": mb[II, q_end + 20], "st_v5": mb[V5, q_end + 20],
        "qrs_ms": (above[-1] - above[0]) * 1000.0 / FS,
        "pr_base": mb[:, A - 8],
    }


@pytest.fixture(scope="module")
def patients():
    rng = np.random.default_rng(2024)
    return [S.sample_patient(rng) for _ in range(120)]


_CACHE = {}


def paired(patients, ks, fn):
    """fn(measures, info) for every patient at every K: array (len(ks), n_patients). The noise-free
    ECGs' measures are cached, so the tests share them."""
    out = np.empty((len(ks), len(patients)))
    for j, p in enumerate(patients):
        for i, k in enumerate(ks):
            key = (id(p), k)
            if key not in _CACHE:
                x, info = clean(k, p)
                _CACHE[key] = (measures(x, info), info)
            out[i, j] = fn(*_CACHE[key])
    return out


# ------------------------------------------------------------------------------------- lead relations
def test_shape_dtype_and_info():
    x, info = S.simulate(4.5, np.random.default_rng(1))
    assert x.shape == (12, 5000) and x.dtype == np.float32 and np.isfinite(x).all()
    assert info["leads"] == S.LEADS and info["fs_hz"] == 500
    for key in ("patient", "intervals", "effects", "hr_bpm", "beats", "noise", "axes_deg"):
        assert key in info
    x, _ = S.simulate(4.5, np.random.default_rng(1), fs_hz=250, duration_s=2.5)
    assert x.shape == (12, 625)


def test_lead_relations_exact_without_noise():
    rng = np.random.default_rng(3)
    for _ in range(20):
        x, _ = S.simulate(rng.uniform(1.5, 8.0), rng, noise=False)
        x = x.astype(np.float64)
        scale = np.abs(x).max()
        tol = 1e-6 * scale            # float32 storage of each lead: a few ulp
        assert np.abs(x[III] - (x[II] - x[I])).max() < tol
        assert np.abs(x[AVR] + x[AVL] + x[AVF]).max() < tol
        assert np.abs(x[AVR] + 0.5 * (x[I] + x[II])).max() < tol
        assert np.abs(x[AVL] - (x[I] - 0.5 * x[II])).max() < tol
        assert np.abs(x[AVF] - (x[II] - 0.5 * x[I])).max() < tol


def test_lead_relations_within_quantisation_with_noise():
    rng = np.random.default_rng(4)
    for _ in range(30):
        x, info = S.simulate(rng.uniform(1.5, 8.0), rng)
        q = info["noise"]["quantum_uv"]
        x = x.astype(np.float64)
        assert np.abs(x / q - np.round(x / q)).max() < 1e-3     # every value on the cart's grid
        tol = 1.5 * q + 1e-3 * q
        assert np.abs(x[III] - (x[II] - x[I])).max() <= tol
        assert np.abs(x[AVR] + x[AVL] + x[AVF]).max() <= tol


def test_noise_is_there_and_varied():
    rng = np.random.default_rng(5)
    p = S.sample_patient(rng)
    diffs, quanta = [], set()
    for s in range(12):
        x0, _ = S.simulate(4.5, np.random.default_rng(s), params=p, noise=False)
        x, info = S.simulate(4.5, np.random.default_rng(s), params=p)   # same beats, plus noise
        quanta.add(info["noise"]["quantum_uv"])
        diffs.append(np.std(x - x0))
    assert min(diffs) > 1.0 and np.median(diffs) < 300.0
    assert len(quanta) >= 2


# ------------------------------------------------------------------------------ physiological ranges
def test_physiological_ranges_at_normal_k():
    rng = np.random.default_rng(6)
    rows = []
    for _ in range(200):
        x, info = S.simulate(rng.uniform(3.8, 5.0), rng, noise=False)
        mb = S.median_beat(x, info)
        iv = info["intervals"]
        q_end = A + int(iv["qrs_ms"] * FS / 1000)
        qrs = mb[:, A - 5:q_end + 5]
        tw = mb[:, q_end + 20:A + int(iv["qt_ms"] * FS / 1000)]
        pw = mb[:, A - int(iv["pr_ms"] * FS / 1000) - 5:A - 5]
        rows.append(dict(
            hr=info["hr_bpm"], pr=iv["pr_ms"], qrs=iv["qrs_ms"], qtc=iv["qtc_bazett_ms"], qt=iv["qt_ms"],
            qrs_ii=np.ptp(qrs[II]) / 1000, qrs_max=np.ptp(qrs, axis=1).max() / 1000,
            t_ii=tw[II, np.abs(tw[II]).argmax()] / 1000,
            t_v24=np.mean([tw[j, np.abs(tw[j]).argmax()] for j in (V2, V3, V4)]) / 1000,
            p_ii=pw[II].max() / 1000, af=info["rhythm"] == "af", axis=info["axes_deg"]["qrs"]))
    get = lambda key, sinus=False: np.array([r[key] for r in rows if not (sinus and r["af"])])
    frac_in = lambda v, lo, hi: np.mean((v >= lo) & (v <= hi))
    assert frac_in(get("hr"), 40, 140) == 1.0 and 65 < np.median(get("hr")) < 95
    assert frac_in(get("pr", True), 100, 260) == 1.0 and 130 < np.median(get("pr", True)) < 180
    assert frac_in(get("qrs"), 60, 140) == 1.0 and 75 < np.median(get("qrs")) < 100
    assert frac_in(get("qtc"), 340, 500) >= 0.97 and 400 < np.median(get("qtc")) < 450   # Bazett
    assert frac_in(get("qrs_ii"), 0.1, 3.5) >= 0.97 and 0.6 < np.median(get("qrs_ii")) < 1.8
    assert frac_in(get("qrs_max"), 0.5, 5.0) >= 0.97 and 1.0 < np.median(get("qrs_max")) < 3.0
    assert frac_in(get("t_ii"), -0.3, 0.9) >= 0.97 and 0.1 < np.median(get("t_ii")) < 0.5
    assert 0.15 < np.median(get("t_v24")) < 0.7
    assert frac_in(get("p_ii", True), 0.03, 0.35) >= 0.95 and 0.07 < np.median(get("p_ii", True)) < 0.2
    assert frac_in(get("axis"), -30, 90) >= 0.8                                 # mostly normal axis
    assert 0.0 < np.mean(get("af")) < 0.12


def test_rhythm_ectopy_and_af():
    rng = np.random.default_rng(7)
    kinds, n_af, irregular = [], 0, []
    for _ in range(300):
        p = S.sample_patient(rng)
        x, info = S.simulate(4.5, rng, params=p, noise=False)
        kinds += list(info["beats"]["kind"])
        rr = np.diff(info["beats"]["onset_s"])
        if p["af"]:
            n_af += 1
            irregular.append(np.std(rr) / np.mean(rr))
            assert info["rhythm"] == "af"
    kinds = np.array(kinds)
    ectopic = np.mean(kinds != "N")
    assert 0.002 < ectopic < 0.06, ectopic                  # a few % of beats at most
    assert 3 <= n_af <= 30
    assert np.median(irregular) > 0.1                       # AF: irregularly irregular


# --------------------------------------------------------------------------------------- K effects
def test_hyperkalemia_t_rises_above_5_5(patients):
    ks = [4.5, 5.5, 6.5, 7.5]
    t = paired(patients, ks, lambda m, info: m["t_v24"])
    t2 = paired(patients, ks, lambda m, info: m["t_ii"])
    mean, mean2 = t.mean(1), t2.mean(1)
    assert np.all(np.diff(mean) > 0) and np.all(np.diff(mean2) > 0)
    assert mean[0] * 0.9 < mean[1] < mean[0] * 1.25          # little change up to 5.5
    assert mean[3] > 1.4 * mean[0] and mean2[3] > 1.4 * mean2[0]
    # and between patients (not paired): 150 new patients at 7.5 vs the fixture's at 4.5
    rng = np.random.default_rng(11)
    other = [S.sample_patient(rng) for _ in range(150)]
    t_hi = paired(other, [7.5], lambda m, info: m["t_v24"])[0]
    assert t_hi.mean() > 1.3 * t[0].mean()
    # the T gets narrower: the downslope/amplitude ratio (1 / s_right) rises with K
    sr = paired(patients, ks, lambda m, info: info["intervals"]["t_sigma_r_ms"]).mean(1)
    assert np.all(np.diff(sr) < 0)


def test_some_normokalemic_patients_look_hyperkalemic(patients):
    t = paired(patients, [4.5, 7.0], lambda m, info: m["t_v24"])
    frac = np.mean(t[0] > np.median(t[1]))
    assert 0.05 < frac < 0.5, frac


def test_qrs_widens_above_7(patients):
    ks = [4.5, 6.0, 7.0, 7.5, 8.0]
    w = paired(patients, ks, lambda m, info: m["qrs_ms"]).mean(1)
    info_w = paired(patients, ks, lambda m, info: info["intervals"]["qrs_ms"]).mean(1)
    assert abs(w[1] - w[0]) < 5.0                             # none at 6.0
    assert w[3] > w[0] + 5.0 and w[4] > w[0] + 12.0           # measured from the signal
    assert np.all(np.diff(info_w[1:]) > 0) and info_w[4] > info_w[0] + 12.0


def test_pr_lengthens_and_p_flattens_above_6_5(patients):
    ks = [4.5, 6.0, 7.5]
    pr = paired(patients, ks, lambda m, info: info["intervals"]["pr_ms"]).mean(1)
    pamp = paired(patients, ks, lambda m, info: info["effects"]["p_amp_factor"]).mean(1)
    assert pr[1] - pr[0] < 4.0 and pr[2] - pr[0] > 10.0
    assert pamp[1] > 0.9 and pamp[2] < 0.8


def test_hypokalemia_t_falls_u_and_st_depression_appear(patients):
    ks = [4.5, 3.5, 2.2]
    t = paired(patients, ks, lambda m, info: m["t_ii"]).mean(1)
    st = paired(patients, ks, lambda m, info: m["st_v5"] - m["pr_base"][V5]).mean(1)
    st_ii = paired(patients, ks, lambda m, info: m["st_ii"] - m["pr_base"][II]).mean(1)
    assert t[1] < t[0] and t[2] < 0.7 * t[0]
    assert st[2] < st[0] - 20.0 and st_ii[2] < st_ii[0] - 15.0     # uV: ST depression below ~3
    assert abs(st[1] - st[0]) < 10.0                                # hardly any at 3.5

    # U: the V2-V3 level 60-200 ms after the normokalemic T end, relative to the PR baseline
    def late(k, p):
        x, info = clean(k, p)
        ref = _CACHE[(id(p), 4.5)][1]
        mb = S.median_beat(x, info)
        t_end = A + int(ref["intervals"]["qt_ms"] * FS / 1000)
        return (mb[[V2, V3], t_end + 30:t_end + 100] - mb[[V2, V3], A - 8:A - 7]).mean()
    u = np.array([[late(k, p) for p in patients[:80]] for k in ks]).mean(1)
    assert u[2] > u[0] + 40.0 and u[1] < u[0] + 20.0


def test_qtc_rises_as_k_falls_below_4(patients):
    ks = [5.0, 4.1, 3.5, 3.0, 2.5, 2.0]
    qtc = paired(patients, ks, lambda m, info: info["intervals"]["qtc_ms"]).mean(1)
    assert abs(qtc[1] - qtc[0]) < 3.0
    assert np.all(np.diff(qtc[1:]) > 0)
    slope = (qtc[-1] - qtc[1]) / (4.1 - 2.0)
    assert 8.0 < slope < 18.0, slope                # literature: +12.8 ms per mmol/L below 4.1


def test_k_effects_are_smooth_and_monotone():
    rng = np.random.default_rng(12)
    keys = ("t_amp_factor", "t_sigma_r_factor", "qrs_widen_factor", "pr_add_ms", "qtc_add_ms", "u_add_mv",
            "st_depression_mv", "p_amp_factor", "p_dur_add_ms")
    def effects(ks, p):
        rows = [S.k_effects(k, p) for k in ks]
        return {key: np.array([r[key] for r in rows]) for key in keys}
    for _ in range(10):
        p = S.sample_patient(rng)
        coarse, fine = effects(np.arange(1.5, 8.0, 0.01), p), effects(np.arange(1.5, 8.0, 0.005), p)
        for key in keys:
            # no steps: halving the K step halves the largest change between neighbours
            j1, j2 = np.abs(np.diff(coarse[key])).max(), np.abs(np.diff(fine[key])).max()
            assert j1 == 0.0 or j1 / j2 > 1.8, key
        e, ks = fine, np.arange(1.5, 8.0, 0.005)
        assert np.all(np.diff(e["t_amp_factor"][ks >= 5.5]) > -1e-9)
        assert np.all(np.diff(e["qrs_widen_factor"]) > -1e-12)
        assert np.all(np.diff(e["u_add_mv"]) < 1e-12) and np.all(np.diff(e["st_depression_mv"]) < 1e-12)


# ---------------------------------------------------------------------------- labels, seeds, speed
def test_k_sampler_covers_every_group():
    ks = S.sample_k(np.random.default_rng(13), 5000)
    assert ks.min() >= 1.5 and ks.max() <= 8.0
    share = np.bincount(S.k_group(ks), minlength=5) / len(ks)
    assert share.min() >= 0.15, share
    small = S.sample_k(np.random.default_rng(14), 20)
    assert np.bincount(S.k_group(small), minlength=5).min() == 4


def test_k_group_edges_match_the_paper():
    assert [S.k_group(k) for k in (1.5, 2.5, 2.51, 3.5, 3.51, 5.49, 5.5, 6.49, 6.5, 8.0)] == \
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert list(S.k_group(np.array([2.0, 4.0, 7.0]))) == [0, 2, 4]


def test_reproducible_by_seed():
    ks = [2.0, 4.5, 7.0, 3.1]
    a, ia = S.simulate_batch(ks, seed=7)
    b, _ = S.simulate_batch(ks, seed=7)
    c, _ = S.simulate_batch(ks, seed=8)
    d, _ = S.simulate_batch(ks[:2], seed=7)
    assert a.shape == (4, 12, 5000) and a.dtype == np.float32
    assert np.array_equal(a, b) and np.array_equal(a[:2], d)
    assert not np.array_equal(a, c)
    assert [i["k_mmol_l"] for i in ia] == ks
    x1, _ = S.simulate(5.0, np.random.default_rng(3))
    x2, _ = S.simulate(5.0, np.random.default_rng(3))
    assert np.array_equal(x1, x2)


def test_speed():
    ks = S.sample_k(np.random.default_rng(15), 60)
    S.simulate_batch(ks[:2], seed=0)
    t0 = time.perf_counter()
    S.simulate_batch(ks, seed=1)
    rate = len(ks) / (time.perf_counter() - t0)
    assert rate >= 20.0, f"{rate:.1f} ECGs/s"
