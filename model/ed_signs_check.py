"""
The generated ECGs measured against the literature table of model/ed_signs.py: how often each visible sign
appears at a given K+ on real backgrounds with K+ imposed (model/data.py) and on simulated patients
(model/simulate.py), measured by the C++ core as `kalium measure` measures, beside the rate before any K+ was
imposed.

    /usr/bin/python3 model/ed_signs_check.py [--k=7.0] [--n=400]     # the table beside the measured rates
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402
import ed_signs as E  # noqa: E402
import simulate as sim  # noqa: E402


# How a reader's threshold is measured on a generated ECG (the core's measurements, as `kalium measure` gives).
MEASURED_SIGNS = {
    "wide_qrs": lambda m: m["qrs_ms"] is not None and m["qrs_ms"] > 120.0,
    "long_pr": lambda m: m["pr_ms"] is not None and m["pr_ms"] > 200.0,
    "bradycardia": lambda m: m["hr_bpm"] is not None and m["hr_bpm"] < 60.0,
    "long_qtc": lambda m: m["qtc_ms"] is not None and m["qtc_ms"] > 470.0,
}


def generated_rates(k_mmol_l, n, seed=0, backgrounds=None):
    """Measured share of generated ECGs at K+ = k_mmol_l showing each MEASURED_SIGNS sign, beside the same share
    on the ECGs before any K+ was imposed (the backgrounds, or the simulator's patients without signs), and the
    share whose T wave in V2-V4 rose >= 1.5x. backgrounds: real ECGs (data.Backgrounds; K+ imposed from 4.0), or
    None for the simulator. -> {"generated": {sign: share}, "before": {sign: share}, "t_rise_1_5": share, "n": n}"""
    rng = np.random.default_rng(seed)
    kc = data.core()
    counts = {"generated": dict.fromkeys(MEASURED_SIGNS, 0), "before": dict.fromkeys(MEASURED_SIGNS, 0)}
    t_rises, used = 0, 0
    for i in range(n):
        signs = E.sample_signs(k_mmol_l, rng)
        patient = sim.sample_patient(rng)
        if backgrounds is not None:
            j = int(rng.integers(len(backgrounds)))
            before = backgrounds.signals_uv[j]
            imposed = data.impose_k(before, k_mmol_l, 4.0, patient, signs=signs,
                                    delineation=backgrounds.delineation(j))
            if not imposed.every_beat:
                continue
            after = imposed.x_uv
        else:
            sim_rng = np.random.default_rng(rng.integers(2 ** 63))
            before, _ = sim.simulate(4.0, np.random.default_rng(sim_rng.integers(2 ** 63)), params=patient)
            after, _ = sim.simulate(k_mmol_l, sim_rng, params=E.apply_to_patient(patient, signs, k_mmol_l))
        try:
            m0 = kc.measure(np.ascontiguousarray(before, np.float32), data.FS_HZ, list(sim.LEADS))
            m1 = kc.measure(np.ascontiguousarray(after, np.float32), data.FS_HZ, list(sim.LEADS))
        except ValueError:
            continue
        used += 1
        for name, shows in MEASURED_SIGNS.items():
            counts["before"][name] += shows(m0)
            counts["generated"][name] += shows(m1)
        # T rise: the median beats' largest ST-T deflection in V2-V4, after / before
        t0, t1 = (_t_peak_uv(m) for m in (m0, m1))
        t_rises += bool(t0 > 50.0 and t1 / t0 >= 1.5)
    share = lambda c: {k: v / max(used, 1) for k, v in c.items()}
    return {"generated": share(counts["generated"]), "before": share(counts["before"]),
            "t_rise_1_5": t_rises / max(used, 1), "n": used}


def _t_peak_uv(m):
    """Mean over V2-V4 of the median beat's largest |ST-T| deflection after the QRS (uV)."""
    f, fid = m["fiducials_ms"], m["median_fiducial"]
    if f["qrs_offset"] is None or f["t_end"] is None:
        return 0.0
    a, b = fid + int(f["qrs_offset"] / 2) + 10, fid + int(f["t_end"] / 2)
    med = m["median_uv"][7:10, a:max(b, a + 1)]
    return float(np.abs(med).max(1).mean()) if med.size else 0.0


def main(argv=None):
    """Print the literature table beside the rates measured on generated ECGs (real backgrounds and simulator)."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--k", type=float, default=7.0)
    args = ap.parse_args(argv)
    band = E.band_of(args.k)
    real = generated_rates(args.k, args.n, seed=1, backgrounds=data.Backgrounds.load())
    simulated = generated_rates(args.k, args.n, seed=2)
    print(f"K+ {args.k} ({band}); n = {real['n']} real backgrounds, {simulated['n']} simulated patients")
    print("| sign | literature | normokalemic | real before | real generated | simulated before | simulated generated |")
    print("|---|---|---|---|---|---|---|")
    for name in MEASURED_SIGNS:
        rate, normal = E.table_rate(name, band) if band != "normal" else (float("nan"), float("nan"))
        print(f"| {name} | {rate:.3f} | {normal:.3f} | {real['before'][name]:.3f} | {real['generated'][name]:.3f} "
              f"| {simulated['before'][name]:.3f} | {simulated['generated'][name]:.3f} |")
    print(f"| T rise >= 1.5x (V2-V4) | {E.table_rate('peaked_t', band)[0] if band != 'normal' else float('nan'):.3f} "
          f"(peaked T) | | | {real['t_rise_1_5']:.3f} | | {simulated['t_rise_1_5']:.3f} |")


if __name__ == "__main__":
    main()
