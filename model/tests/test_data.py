"""
Tests of model/data.py and of the core's Python module it uses: the validation ECGs never become training data,
the module reads files and prepares inputs like the C++ core, and K+ imposed on real ECGs changes them the way
the literature says (T up above 5.5, down with ST depression and U waves below 3), leaving the rhythm alone.

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_data.py
"""
import numpy as np
import pytest

import data as D
import simulate as S

V2, V3, V4 = 7, 8, 9


@pytest.fixture(scope="module")
def kc():
    return D.core()


@pytest.fixture(scope="module")
def backgrounds():
    return D.Backgrounds.load()


def test_validation_ecgs_are_never_backgrounds(backgrounds):
    val = D.validation_set()
    assert len(val) == 100 and np.bincount([g for _, g in val]).tolist() == [20] * 5
    hashes = {h for h, _ in val}
    assert len(backgrounds) == 1095                 # 1,195 hmc ECGs - the 100
    assert not hashes.intersection(backgrounds.names)
    assert backgrounds.signals_uv.shape == (1095, 12, 5000)


def test_module_reads_like_the_file_says(kc):
    path = sorted(D.HMC_ECG_DIR.glob("*.csv"))[0]
    rec = kc.read(str(path))
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32).T   # units of 10 uV (hmc/README.md)
    assert rec["format"] == "csv" and rec["fs_hz"] == 500.0 and rec["lead_names"][:3] == ["I", "II", "III"]
    np.testing.assert_array_equal(rec["samples_uv"], raw * 10.0)
    with pytest.raises(ValueError, match="cannot open"):
        kc.read(str(path) + ".missing")
    with pytest.raises(ValueError, match="bad_format|unsupported|not"):
        kc.read_bytes("x.bin", b"\x00\x01 this is not an ECG")


def test_module_reads_a_wfdb_record_by_its_header(kc):
    rec = kc.read(str(D.SHARED_DIR / "ecg/samples/wfdb/ludb_1/1.hea"))
    assert rec["format"] == "wfdb" and rec["samples_uv"].shape == (12, 5000)


def test_prepare_input_is_the_philips_layout_in_mv(kc):
    rng = np.random.default_rng(0)
    x, _ = S.simulate(4.5, rng, noise=False)
    p = kc.prepare_input(x, 500.0)
    assert p["values_mv"].shape == (12, 1250) and p["values_mv"].dtype == np.float32
    assert p["window_start"] == [0, 0, 0, 1250, 1250, 1250, 2500, 2500, 2500, 3750, 3750, 3750]
    # the window of V1 is the baseline-corrected 5-7.5 s of V1, in mV
    v1 = kc.remove_baseline(x[6], 500.0)[2500:3750] / 1000.0
    np.testing.assert_allclose(p["values_mv"][6], v1, atol=1e-6)
    # the same ECG at 250 Hz gives nearly the same input (resampled in the core)
    x250 = np.stack([kc.resample(l, 500.0, 250.0) for l in x])
    p250 = kc.prepare_input(x250, 250.0)
    assert np.abs(p250["values_mv"] - p["values_mv"]).mean() < 0.01
    with pytest.raises(ValueError, match="2.5 s|short"):
        kc.prepare_input(x[:, :1000], 500.0)


def _t_amp(x, segs, leads=(V2, V3, V4)):
    """Median over beats of the largest ST-T deflection from the PR level, mean over `leads` (uV)."""
    out = []
    for s in segs:
        if s is None:
            continue
        pr = x[:, s["qrs_on"] - 10:s["qrs_on"]].mean(1)
        seg = x[:, s["qrs_off"] + 20:s["t_end"]] - pr[:, None]
        out.append(seg[list(leads), np.abs(seg[list(leads)]).argmax(1)].mean())
    return float(np.median(out))


def test_imposed_k_moves_t_waves_the_literature_way(backgrounds):
    rng = np.random.default_rng(5)
    rises, falls, rr_same = [], [], []
    for i in rng.choice(len(backgrounds), 25, replace=False):
        x = backgrounds.signals_uv[i]
        peaks = D.detect_beats(x)
        segs = D.beat_segments(peaks, x.shape[1])
        if sum(s is not None for s in segs) < 4:
            continue
        p = S.sample_patient(rng)
        base = _t_amp(x, segs)
        hyper, n = D.impose_k(x, 7.0, 4.0, p)
        hypo, _ = D.impose_k(x, 2.2, 4.0, p)
        assert n >= 4
        rises.append(_t_amp(hyper, segs) / base)
        falls.append(_t_amp(hypo, segs) / base)
        rr_same.append(np.median(np.diff(D.detect_beats(hyper))) / np.median(np.diff(peaks)))
    assert len(rises) >= 15
    assert np.median(rises) > 1.4           # peaked T above 5.5
    assert np.median(falls) < 0.7           # flat T below 3
    # the rhythm is the recorded one (the time warp gives the T-P segment back what PR, QRS and QT take);
    # beat detection on the changed record can catch a tall T now and then, hence the median
    assert abs(np.median(rr_same) - 1.0) < 0.01


def test_imposed_hypokalemia_adds_u_waves_and_st_depression(backgrounds):
    rng = np.random.default_rng(6)
    u_gain, st_drop = [], []
    for i in range(10):
        x = backgrounds.signals_uv[i]
        p = S.sample_patient(rng)
        p.update(resp_hypo=1.0, k_hypo_onset=3.0)
        y, _ = D.impose_k(x, 2.0, 4.0, p)
        for s in [s for s in D.beat_segments(D.detect_beats(x), x.shape[1]) if s][1:-1]:
            u = slice(s["t_end"] + 30, s["t_end"] + 60)      # 60-120 ms after T end: the U wave
            u_gain.append((y[V2, u] - x[V2, u]).mean())
            t_seg = x[:, s["qrs_off"] + 40:s["t_end"]]
            lead = int(np.abs(t_seg).max(1).argmax())       # the lead with the largest T
            st = slice(s["qrs_off"] + 20, s["qrs_off"] + 30)  # early ST, before the T peak
            st_drop.append((y[lead, st] - x[lead, st]).mean() * np.sign(t_seg[lead, np.abs(t_seg[lead]).argmax()]))
    assert np.median(u_gain) > 40.0           # uV: a visible U wave in V2
    assert np.median(st_drop) < -25.0         # uV: ST pushed against the T wave's direction


def test_normal_k_leaves_a_background_unchanged(backgrounds):
    x = backgrounds.signals_uv[0]
    p = S.sample_patient(np.random.default_rng(1))
    y, _ = D.impose_k(x, 4.0, 4.0, p)
    assert np.abs(y - x).max() < 1e-3


def test_training_batches_are_deterministic_and_cover_groups(backgrounds):
    tb = D.TrainingBatches(seed=3, batch_size=10, real_fraction=0.5, backgrounds=backgrounds)
    x1, k1 = tb[4]
    x2, k2 = tb[4]
    assert np.array_equal(x1, x2) and np.array_equal(k1, k2)
    assert x1.shape == (10, 12, 1250) and np.isfinite(x1).all()
    assert set(S.k_group(k1)) == {0, 1, 2, 3, 4}
    assert not np.array_equal(tb[5][0], x1)


def test_emp_vector_standardises_wraps_axes_and_fills_what_was_not_measured():
    centre = {k: c for k, (c, _) in D.EMP_STANDARDISATION.items()}
    spread = {k: s for k, (_, s) in D.EMP_STANDARDISATION.items()}
    m = {"hr_bpm": centre["hr_bpm"] + spread["hr_bpm"], "pr_ms": None, "qrs_ms": centre["qrs_ms"],
         "qt_ms": 1e6, "qtc_ms": float("nan"), "p_axis_deg": centre["p_axis_deg"] - 0.5 * spread["p_axis_deg"],
         "qrs_axis_deg": -170.0, "t_axis_deg": 200.0}
    v = D.emp_vector(m)
    assert v.dtype == np.float32 and v.shape == (8,) and list(D.EMP_KEYS) == list(m)
    assert v[0] == pytest.approx(1.0) and v[1] == 0.0 and v[2] == 0.0     # +1 SD; None -> the centre
    assert v[3] == D.EMP_CLIP and v[4] == 0.0                              # clipped; nan -> the centre
    assert v[5] == pytest.approx(-0.5)
    # -170 degrees is 190 degrees seen from a centre of 45: right next to 180, not 215 degrees away
    c, s = D.EMP_STANDARDISATION["qrs_axis_deg"]
    assert v[6] == pytest.approx((190.0 - c) / s)
    c, s = D.EMP_STANDARDISATION["t_axis_deg"]
    assert v[7] == pytest.approx((200.0 - c) / s)


def test_measured_emps_are_the_cores_measurements_of_the_record(kc):
    rng = np.random.default_rng(11)
    x, info = S.simulate(4.5, rng)
    emps = D.measured_emps(x)
    m = kc.measure(x, 500.0, list(S.LEADS))
    assert np.array_equal(emps, D.emp_vector(m))
    hr_c, hr_s = D.EMP_STANDARDISATION["hr_bpm"]
    assert emps[0] * hr_s + hr_c == pytest.approx(info["hr_bpm"], abs=5.0)   # the simulated heart rate
    assert np.array_equal(D.measured_emps(np.zeros((12, 5000), np.float32)), np.zeros(8, np.float32))


def test_training_batches_with_emps_are_the_same_ecgs(backgrounds):
    plain = D.TrainingBatches(seed=5, batch_size=6, real_fraction=0.5, backgrounds=backgrounds)
    with_emp = D.TrainingBatches(seed=5, batch_size=6, real_fraction=0.5, backgrounds=backgrounds, emp=True)
    x, k = plain[2]
    x2, emp, k2 = with_emp[2]
    assert np.array_equal(x, x2) and np.array_equal(k, k2)
    assert emp.shape == (6, 8) and emp.dtype == np.float32 and np.isfinite(emp).all()
    assert (np.abs(emp) <= D.EMP_CLIP).all() and (emp != 0).any(axis=1).all()   # every record measured
