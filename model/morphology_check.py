"""
Do hand-measured ECG features add to the network? The textbook signs of dyskalemia measured on each ECG's median
beat by the C++ core (`kalium_core.measure`, as `kalium measure`), beside a network's own K+ estimate, under the
nested cross-validation of model/fit_real.py on the 100 labelled ECGs.

    /usr/bin/python3 model/morphology_check.py [--weights=FILE.kmodel] [--repeats=3]

Features (standardised by the median and IQR of the 1,095 unlabelled ECGs, no label; a value the core cannot
measure is the centre, 0): heart rate, PR, QRS, QTc; T amplitude in II, V2, V3, V4 and T over QRS peak-to-peak in
V2-V4 (peaked T / flat T); ST level 60 ms after J in V5, V6 (ST depression); T width at half height in the V2-V4
lead with the tallest T (narrow, tented T); T peak to T end; the largest deflection within 200 ms after T end in
V2-V3 (U wave). Three interval-censored models (fit_real.interval_nll), every choice by the inner CV:
    own            a x (network estimate) + c (fit_real's "own estimate", one layout)
    own + features the same + a ridge-penalised linear term in the features (ridge 0.01-10 by inner CV)
    features       the features alone
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402
import evaluate  # noqa: E402
import fit_real as fr  # noqa: E402
import kdist  # noqa: E402
import real_features  # noqa: E402

LEADS = list(data.sim.LEADS)
FEATURES = ("hr_bpm", "pr_ms", "qrs_ms", "qtc_ms", "t_II_uv", "t_V2_uv", "t_V3_uv", "t_V4_uv", "t_over_qrs_V2V4",
            "st60_V5_uv", "st60_V6_uv", "t_halfwidth_ms", "t_peak_to_end_ms", "u_V2V3_uv")
RIDGES = (1e-2, 1e-1, 1.0, 10.0)


def morphology(x_uv, fs_hz=data.FS_HZ):
    """(len(FEATURES),) float, NaN where not measurable, of one 12-lead record in uV."""
    out = dict.fromkeys(FEATURES, np.nan)
    try:
        m = data.core().measure(np.ascontiguousarray(x_uv, np.float32), float(fs_hz), LEADS)
    except ValueError:
        return np.array([out[k] for k in FEATURES])
    for key in ("hr_bpm", "pr_ms", "qrs_ms", "qtc_ms"):
        out[key] = np.nan if m[key] is None else m[key]
    f, med = m["fiducials_ms"], np.asarray(m["median_uv"], np.float64)
    if f["qrs_onset"] is not None and f["qrs_offset"] is not None and f["t_peak"] is not None:
        at = lambda ms: int(np.clip(round(m["median_fiducial"] + ms * fs_hz / 1000.0), 0, med.shape[1] - 1))  # noqa: E731
        on, off, tp = at(f["qrs_onset"]), at(f["qrs_offset"]), at(f["t_peak"])
        x = med - med[:, max(on - 10, 0):max(on, 1)].mean(1, keepdims=True)     # PR segment as the baseline
        t_amp, qrs_pp = x[:, tp], np.ptp(x[:, on:off + 1], axis=1)
        for lead in ("II", "V2", "V3", "V4"):
            out[f"t_{lead}_uv"] = t_amp[LEADS.index(lead)]
        v = [LEADS.index(n) for n in ("V2", "V3", "V4")]
        out["t_over_qrs_V2V4"] = float(np.mean(t_amp[v] / np.maximum(qrs_pp[v], 100.0)))
        for lead in ("V5", "V6"):
            out[f"st60_{lead}_uv"] = x[LEADS.index(lead), at(f["qrs_offset"] + 60.0)]
        j = v[int(np.argmax(t_amp[v]))]
        if t_amp[j] > 50.0:
            a = b = tp
            while a > off and x[j, a] > t_amp[j] / 2:
                a -= 1
            while b < x.shape[1] - 1 and x[j, b] > t_amp[j] / 2:
                b += 1
            out["t_halfwidth_ms"] = (b - a) * 1000.0 / fs_hz
        if f["t_end"] is not None:
            out["t_peak_to_end_ms"] = f["t_end"] - f["t_peak"]
            te = at(f["t_end"])
            if te + 100 < x.shape[1]:
                out["u_V2V3_uv"] = float(np.mean([x[LEADS.index(n), te:te + 100].max() - x[LEADS.index(n), te]
                                                  for n in ("V2", "V3")]))
    return np.array([out[k] for k in FEATURES], float)


def standardised(rows, reference):
    """(value - median) / (IQR / 1.35) of the reference rows, clipped to +-4; NaN -> 0."""
    centre = np.nanmedian(reference, 0)
    spread = (np.nanpercentile(reference, 75, 0) - np.nanpercentile(reference, 25, 0)) / 1.35
    return np.clip(np.nan_to_num((rows - centre) / np.where(spread > 0, spread, 1.0)), -4.0, 4.0)


def fit(k_net, z, groups, ridge, use_net, use_features):
    """Interval-censored logistic on mu = a k_net + c + z . g (the parts used) -> predict(idx) -> (mu, scale)."""
    kt, zt, gt = torch.from_numpy(k_net), torch.from_numpy(z), torch.from_numpy(groups)
    a = torch.tensor(1.0 if use_net else 0.0, dtype=torch.float64, requires_grad=use_net)
    c = torch.tensor(0.0 if use_net else 4.5, dtype=torch.float64, requires_grad=True)
    g = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=use_features)
    log_s = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    params = [p for p in (a, c, g, log_s) if p.requires_grad]
    fr._lbfgs(params, lambda: fr.interval_nll(a * kt + c + zt @ g, log_s.exp(), gt) + ridge * (g ** 2).sum())
    A, C, G, S = float(a), float(c), g.detach().numpy(), float(log_s.exp())
    return lambda kn, zz: (A * kn + C + zz @ G, S)


MODELS = {"own": (True, False), "own + features": (True, True), "features": (False, True)}


def cross_validate(k_net, z, groups, repeats):
    """-> {model: [per repeat: out-of-fold mu (100,)]} with the ridge chosen per outer fold by inner CV."""
    oof = {name: [] for name in MODELS}
    for r in range(repeats):
        folds = fr.stratified_folds(groups, fr.OUTER_FOLDS, np.random.default_rng(100 + r))
        mus = {name: np.zeros(len(groups)) for name in MODELS}
        for i in range(fr.OUTER_FOLDS):
            tr, te = np.flatnonzero(folds != i), np.flatnonzero(folds == i)
            inner = fr.stratified_folds(groups[tr], fr.INNER_FOLDS, np.random.default_rng(1000 * r + i))
            for name, (use_net, use_features) in MODELS.items():
                def inner_loss(ridge):
                    losses = []
                    for j in range(fr.INNER_FOLDS):
                        a, b = tr[inner != j], tr[inner == j]
                        mu, s = fit(k_net[a], z[a], groups[a], ridge, use_net, use_features)(k_net[b], z[b])
                        p = kdist.group_probs(mu, s)
                        losses.append(-np.log(np.clip(p[np.arange(len(b)), groups[b]], 1e-12, None)).mean())
                    return np.mean(losses)
                ridge = min(RIDGES, key=inner_loss) if use_features else 0.0
                mus[name][te] = fit(k_net[tr], z[tr], groups[tr], ridge, use_net, use_features)(k_net[te], z[te])[0]
        for name in MODELS:
            oof[name].append(mus[name])
    return oof


def auc_row(groups, mus):
    """AUCs (mean over repeats) as a function of bootstrap indices."""
    scores = [evaluate.network_scores(mu) for mu in mus]

    def fn(i):
        return {cut: float(np.mean([evaluate.auc(s[cut][i], np.isin(groups[i], positive)) for s in scores]))
                for cut, (positive, _) in evaluate.CUTS.items()}
    return fn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=str(data.ROOT / "build" / "model" / "ecg12net-1-ed-generated.kmodel"),
                    help="the network whose own estimate the features join (default: step 1b's, before its heads "
                         "were refitted on the 100)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    feats = real_features.load(Path(args.weights))
    kc = data.core()

    def rows(hashes):
        return np.stack([morphology(kc.read(str(data.HMC_ECG_DIR / f"{h}.csv"))["samples_uv"]) for h in hashes])
    z = standardised(rows(feats["val_hash"]), rows(feats["unl_hash"]))
    groups = feats["val_group"].astype(np.int64)
    k_net = feats["val_k"][:, 0].astype(np.float64)
    print("single feature AUC on the 100 (the sign's direction: <=3.5 by low values, >=5.5 by high values):")
    for j, name in enumerate(FEATURES):
        print(f"  {name:18s} <=3.5 {evaluate.auc(-z[:, j], groups <= 1):.2f}  >=5.5 {evaluate.auc(z[:, j], groups >= 3):.2f}")
    oof = cross_validate(k_net, z, groups, args.repeats)
    base = auc_row(groups, oof["own"])
    print(f"\n| model ({args.repeats} x 5-fold nested CV) | " + " | ".join(evaluate.CUTS) + " |")
    print("|---|" + "---|" * len(evaluate.CUTS))
    for name, mus in oof.items():
        fn = auc_row(groups, mus)
        ci = evaluate.bootstrap(fn, len(groups))
        print(f"| {name} | " + " | ".join(f"{v:.2f} ({lo:.2f}-{hi:.2f})" for v, lo, hi in ci.values()) + " |")
        if name != "own":
            d = evaluate.bootstrap(lambda i: {c: fn(i)[c] - base(i)[c] for c in evaluate.CUTS}, len(groups))
            print(f"| {name} minus own, paired | " + " | ".join(f"{v:+.2f} ({lo:+.2f}-{hi:+.2f})" for v, lo, hi in d.values()) + " |")


if __name__ == "__main__":
    main()
