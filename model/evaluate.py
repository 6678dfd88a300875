"""
Evaluate ECG12Net with the paper's metrics and bootstrap 95% confidence intervals, on (1) a held-out synthetic
set and (2) the 100 real validation ECGs of ../shared/ecg/hmc, beside the authors' own later model, the 7
physicians, and a physiology baseline (T-wave amplitude relative to R in V2-V4, no fitted parameter).

    /usr/bin/python3 model/evaluate.py                                    # the shipped model/ecg12net-1.kmodel
    /usr/bin/python3 model/evaluate.py --weights=FILE.kmodel --out=DIR    # or --checkpoint=ckpt.pt
    -> DIR/results.json, DIR/results.md (the tables of MODEL_CARD.md), DIR/roc.png

The 100 real ECGs are only ever predicted here: nothing is fitted on them (no threshold, no calibration).
The cut points are the paper's: hypokalemia K <= 3.5, hyperkalemia K >= 5.5, severe <= 2.5 / >= 6.5 mEq/L.
A prediction's group is the group of its K+ estimate (what the app shows). The real ECGs have group labels,
not K+ values, so MAE is reported on the synthetic set only.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402
import export  # noqa: E402
from model import GROUP_NAMES  # noqa: E402
from simulate import k_group  # noqa: E402

CUTS = {  # name: (positive when true group in ..., predicted positive when K+ estimate ...)
    "hypokalemia (<=3.5)": ((0, 1), lambda k: k <= 3.5),
    "hyperkalemia (>=5.5)": ((3, 4), lambda k: k >= 5.5),
    "severe hypokalemia (<=2.5)": ((0,), lambda k: k <= 2.5),
    "severe hyperkalemia (>=6.5)": ((4,), lambda k: k >= 6.5),
}
HYPO_SIDE = {"hypokalemia (<=3.5)", "severe hypokalemia (<=2.5)"}
GROUP_MIDPOINTS = np.array([2.0, 3.0, 4.5, 6.0, 7.0])   # only to rank the authors' and physicians' answers


# ---------------------------------------------------------------------------------------------- metrics
def auc(scores, positive):
    """Area under the ROC curve (Mann-Whitney, ties counted half); nan without both classes."""
    positive = np.asarray(positive, bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def kappa_quadratic(true, pred, n_classes):
    """Cohen's kappa with squared weights."""
    true, pred = np.asarray(true), np.asarray(pred)
    observed = np.zeros((n_classes, n_classes))
    np.add.at(observed, (true, pred), 1)
    expected = np.outer(observed.sum(1), observed.sum(0)) / max(observed.sum(), 1)
    i, j = np.indices((n_classes, n_classes))
    w = (i - j) ** 2 / (n_classes - 1) ** 2
    denominator = (w * expected).sum()
    return float(1 - (w * observed).sum() / denominator) if denominator > 0 else float("nan")


def three_groups(g):
    return np.where(np.asarray(g) <= 1, 0, np.where(np.asarray(g) == 2, 1, 2))


def metrics(true_group, pred_group, scores=None, k_true=None, k_pred=None):
    """The paper's metrics for one rater. scores: {cut: score, higher = more likely positive} for AUCs."""
    true_group, pred_group = np.asarray(true_group), np.asarray(pred_group)
    out = {}
    if k_true is not None:
        out["mae"] = float(np.abs(np.asarray(k_pred) - np.asarray(k_true)).mean())
    for cut, (pos_groups, _) in CUTS.items():
        truth = np.isin(true_group, pos_groups)
        said = np.isin(pred_group, pos_groups)
        sens = float(said[truth].mean()) if truth.any() else float("nan")
        spec = float((~said[~truth]).mean()) if (~truth).any() else float("nan")
        out[f"{cut} sensitivity"] = sens
        out[f"{cut} specificity"] = spec
        out[f"{cut} balanced accuracy"] = (sens + spec) / 2
        if scores is not None:
            out[f"{cut} AUC"] = auc(scores[cut], truth)
    out["kappa 5 groups"] = kappa_quadratic(true_group, pred_group, 5)
    out["kappa 3 groups"] = kappa_quadratic(three_groups(true_group), three_groups(pred_group), 3)
    return out


def bootstrap(fn, n, n_boot=2000, seed=0):
    """fn(indices) -> dict of numbers; returns {name: [value, ci_low, ci_high]} with percentile 95% CIs."""
    point = fn(np.arange(n))
    rng = np.random.default_rng(seed)
    samples = {k: [] for k in point}
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        for k, v in fn(idx).items():
            samples[k].append(v)
    out = {}
    for k, v in point.items():
        s = np.array(samples[k], float)
        s = s[np.isfinite(s)]
        lo, hi = (np.percentile(s, [2.5, 97.5]) if len(s) else (float("nan"), float("nan")))
        out[k] = [float(v), float(lo), float(hi)]
    return out


def network_scores(k_pred):
    """AUC scores from the K+ estimate: lower K+ = more likely hypokalemic."""
    k_pred = np.asarray(k_pred)
    return {cut: (-k_pred if cut in HYPO_SIDE else k_pred) for cut in CUTS}


def probability_scores(probs):
    p = np.asarray(probs)
    return {"hypokalemia (<=3.5)": p[:, 0] + p[:, 1], "hyperkalemia (>=5.5)": p[:, 3] + p[:, 4],
            "severe hypokalemia (<=2.5)": p[:, 0], "severe hyperkalemia (>=6.5)": p[:, 4]}


# --------------------------------------------------------------------------------------------- baseline
def t_over_r(x_uv, fs_hz=500.0):
    """Physiology baseline: median-beat T amplitude over R amplitude, mean of V2-V4 (signed T, from the PR
    level). A feature, not a model: nothing is fitted. Returns (T/R, T amplitude in mV)."""
    kc = data.core()
    x = np.stack([kc.remove_baseline(np.ascontiguousarray(l, np.float32), fs_hz) for l in x_uv])
    peaks = data.detect_beats(x, fs_hz)
    ms = fs_hz / 1000.0
    before, after = int(250 * ms), int(600 * ms)
    peaks = peaks[(peaks - before >= 0) & (peaks + after <= x.shape[1])]
    if len(peaks) < 2:
        return float("nan"), float("nan")
    rr = float(np.median(np.diff(peaks))) / fs_hz
    beat = np.median(np.stack([x[:, p - before:p + after] for p in peaks]), axis=0)
    pr_level = beat[:, before - int(80 * ms):before - int(60 * ms)].mean(1)
    beat = beat - pr_level[:, None]
    qrs = beat[:, before - int(60 * ms):before + int(60 * ms)]
    t_end = before + int(min(0.45, 0.6 * rr) * fs_hz)
    st_t = beat[:, before + int(100 * ms):t_end]
    leads = [7, 8, 9]   # V2-V4
    r_amp = np.abs(qrs[leads]).max(1)
    t_amp = st_t[leads, np.abs(st_t[leads]).argmax(1)]
    return float((t_amp / r_amp).mean()), float(t_amp.mean() / 1000.0)


# ------------------------------------------------------------------------------------------- predicting
def uses_emp(net):
    return net.config.emp_features > 0


@torch.no_grad()
def predict(net, x, emp=None, batch=16):
    """Network outputs for inputs x (n, 12, 1250); emp (n, 8) standardised EMPs for ECG12Net-2."""
    out = {"k": [], "group_probs": [], "lead_attention": [], "emp_attention": []}
    for i in range(0, len(x), batch):
        e = None if emp is None else torch.from_numpy(np.ascontiguousarray(emp[i:i + batch]))
        o = net(torch.from_numpy(np.ascontiguousarray(x[i:i + batch])), e)
        for name in out:
            if name in o:
                out[name].append(o[name].numpy())
    return {k: np.concatenate(v) for k, v in out.items() if v}


def synthetic_set(n, seed, real_fraction, emp=False):
    """(x, emp or None, k) of n held-out generated ECGs."""
    gen = data.TrainingBatches(seed, n, real_fraction, data.Backgrounds.load() if real_fraction > 0 else None,
                               emp=emp)
    return gen.with_emp_slot(0)


def evaluate_synthetic(net, n, seed):
    """Held-out synthetic ECGs (seed 2000+; training used seed 1, its monitor seed 1001): n simulated and n
    built on real backgrounds (the backgrounds themselves are the training ones, the K+ and changes are new)."""
    results = {}
    for name, fraction in (("simulated", 0.0), ("real backgrounds", 1.0)):
        x, emp, k = synthetic_set(n, seed + (0 if fraction == 0 else 1), fraction, emp=uses_emp(net))
        pred = predict(net, x, emp)
        tg, pg = k_group(k), k_group(pred["k"])
        scores = network_scores(pred["k"])
        results[name] = bootstrap(lambda i: metrics(tg[i], pg[i], {c: s[i] for c, s in scores.items()},
                                                    k[i], pred["k"][i]), len(k))
    return results


def shifted_layouts(rec):
    """The four 2.5 s window layouts of a 10 s record: layout s puts lead l's window at position (l // 3 + s) % 4,
    so s = 0 is the Philips print layout the network was trained on and every lead's 10 s is covered once over the
    four. Built from the core's own baseline removal; layout 0 equals kc.prepare_input (checked by the caller)."""
    kc = data.core()
    fs = rec["fs_hz"]
    n = int(kc.network_window_samples)
    x = np.stack([kc.remove_baseline(kc.resample(np.ascontiguousarray(l, np.float32), fs, 500.0), 500.0)
                  for l in rec["samples_uv"]]) / 1000.0
    if x.shape[1] < 4 * n:
        return None
    out = np.empty((4, 12, n), np.float32)
    for s in range(4):
        for l in range(12):
            start = ((l // 3 + s) % 4) * n
            out[s, l] = x[l, start:start + n]
    return out


def evaluate_four_windows(net, hashes, truth, x_philips, k_philips, emp=None):
    """Issue 5's question: does averaging the K+ estimates of the four window layouts help on the validation ECGs?
    Reported, not used for any choice inside this run: the app keeps the single Philips layout unless this shows
    a clear gain."""
    kc = data.core()
    layouts, worst = [], 0.0
    for h, xp in zip(hashes, x_philips):
        rec = kc.read(str(data.HMC_ECG_DIR / f"{h}.csv"))
        lay = shifted_layouts(rec)
        worst = max(worst, float(np.abs(lay[0] - xp).max()))
        layouts.append(lay)
    lay = np.stack(layouts)                     # (100, 4, 12, 1250)
    emp4 = None if emp is None else np.repeat(emp, 4, axis=0)       # one record's EMPs for its 4 layouts
    k4 = predict(net, lay.reshape(-1, 12, 1250), emp4)["k"].reshape(len(hashes), 4)
    k_mean = k4.mean(1)
    rows = {}
    for name, k in (("Philips layout only (shipped)", k_philips), ("mean of the 4 layouts", k_mean)):
        sc = network_scores(k)
        rows[name] = bootstrap(lambda i: metrics(truth[i], k_group(k)[i], {c: v[i] for c, v in sc.items()}), len(truth))
    return rows, {"layout0_max_abs_diff_mv": worst,
                  "per_layout_k_sd_mean": float(k4.std(1).mean())}


def paired_difference(k_this, k_other, truth):
    """AUC and kappa of this model minus the other's on the same ECGs, with a paired bootstrap 95% CI (the same
    resampled ECGs for both), so a difference whose CI holds 0 is not a difference."""
    s_this, s_other = network_scores(k_this), network_scores(k_other)

    def diff(i):
        a = metrics(truth[i], k_group(k_this)[i], {c: v[i] for c, v in s_this.items()})
        b = metrics(truth[i], k_group(k_other)[i], {c: v[i] for c, v in s_other.items()})
        return {k: a[k] - b[k] for k in a if k.endswith("AUC") or k.startswith("kappa")}
    return bootstrap(diff, len(truth))


def load_net(path):
    """A weights file (.kmodel) or a train.py checkpoint -> (eval network, name)."""
    path = Path(path)
    if path.suffix == ".kmodel":
        net, header = export.load_weights(path)
        if "real_heads" in header.get("training", {}):
            # its heads were fitted on these 100 ECGs (model/fit_real.py): a score on them is in-sample
            return net, header["name"] + " [IN-SAMPLE on the 100: its heads were fitted on them; the honest " \
                "figures are the cross-validation of model/fit_real.py compare]"
        return net, header["name"]
    net, _ = export.load_checkpoint(path)
    return net, path.parent.name


def evaluate_real(net, compare=None):
    """The 100 validation ECGs: the network, the T/R baseline, the authors' model and the 7 physicians; with
    compare=(network, name), also this network minus that one (paired)."""
    import csv
    kc = data.core()
    val = data.validation_set()
    hashes = [h for h, _ in val]
    truth = np.array([g for _, g in val])
    x, feats, emps = [], [], []
    for h in hashes:
        rec = kc.read(str(data.HMC_ECG_DIR / f"{h}.csv"))
        x.append(kc.prepare_input(rec["samples_uv"], rec["fs_hz"], rec["lead_names"])["values_mv"])
        feats.append(t_over_r(rec["samples_uv"], rec["fs_hz"]))
        emps.append(data.measured_emps(rec["samples_uv"], rec["fs_hz"], rec["lead_names"]))
    x, feats = np.stack(x), np.array(feats)
    emp = np.stack(emps) if uses_emp(net) else None
    pred = predict(net, x, emp)
    k_pred = pred["k"]
    rows = {}
    scores = network_scores(k_pred)
    rows["ECG12Net (kalium, K+ estimate)"] = bootstrap(
        lambda i: metrics(truth[i], k_group(k_pred)[i], {c: s[i] for c, s in scores.items()}), 100)
    if "group_probs" in pred:
        gp = pred["group_probs"]
        pscores = probability_scores(gp)
        rows["ECG12Net (kalium, group head)"] = bootstrap(
            lambda i: metrics(truth[i], gp.argmax(1)[i], {c: s[i] for c, s in pscores.items()}), 100)
    # baseline: T/R in V2-V4 ranks the ECGs; higher T/R = more hyperkalemic (AUC only: no threshold is fitted)
    tr = feats[:, 0].copy()
    n_unmeasured = int((~np.isfinite(tr)).sum())
    tr[~np.isfinite(tr)] = np.nanmedian(tr)   # no beats found: ranked in the middle (neutral)
    tr_scores = {c: (-tr if c in HYPO_SIDE else tr) for c in CUTS}
    rows["baseline: T/R in V2-V4 (AUC only)"] = bootstrap(
        lambda i: {f"{c} AUC": auc(s[i], np.isin(truth[i], CUTS[c][0])) for c, s in tr_scores.items()}, 100)
    # the authors' later model
    ai = {}
    with open(data.HMC_LABELS_DIR / "dyskalemia-validation-ai-pred.csv", newline="") as f:
        for r in csv.DictReader(f):
            ai[r["hash_id"]] = [float(v) for k, v in r.items() if k.startswith("AI[")]
    ai_p = np.array([ai[h] for h in hashes])
    ai_scores = probability_scores(ai_p)
    rows["authors' later model (ai-pred.csv)"] = bootstrap(
        lambda i: metrics(truth[i], ai_p.argmax(1)[i], {c: s[i] for c, s in ai_scores.items()}), 100)
    # the physicians
    answers = {}
    with open(data.HMC_LABELS_DIR / "dyskalemia-validation-user-results.csv", newline="") as f:
        for r in csv.DictReader(f):
            onehot = [int(v) for k, v in r.items() if k.startswith("USER_ANSWER[")]
            answers.setdefault(r["DOCTOR_ID"], {})[r["hash_id"]] = int(np.argmax(onehot))
    doctors = sorted(answers)
    doc_groups = {d: np.array([answers[d].get(h, -1) for h in hashes]) for d in doctors}
    for d in doctors:
        assert (doc_groups[d] >= 0).all(), f"{d} did not answer every ECG"

    def doctors_mean(i):
        per = [metrics(truth[i], doc_groups[d][i]) for d in doctors]
        return {k: float(np.mean([p[k] for p in per])) for k in per[0]}
    rows[f"physicians, mean of {len(doctors)}"] = bootstrap(doctors_mean, 100)
    for d in doctors:
        rows[f"physician {d}"] = {k: [v, float("nan"), float("nan")]
                                  for k, v in metrics(truth, doc_groups[d]).items()}
    four_rows, four_info = evaluate_four_windows(net, hashes, truth, x, k_pred, emp)
    comparison = None
    if compare is not None:
        other, other_name = compare
        k_other = predict(other, x, np.stack(emps) if uses_emp(other) else None)["k"]
        comparison = {"other": other_name, "rows": {f"this minus {other_name}": paired_difference(k_pred, k_other, truth)},
                      "k_mean_abs_change": float(np.abs(k_pred - k_other).mean())}
    extra = {"k_pred": k_pred.tolist(), "truth": truth.tolist(), "t_over_r": tr.tolist(),
             "four_windows": {"rows": four_rows, **four_info},
             **({"comparison": comparison} if comparison else {}),
             "t_over_r_unmeasured": n_unmeasured,
             "k_pred_mean_by_true_group": [float(k_pred[truth == g].mean()) for g in range(5)],
             "predicted_group_counts": np.bincount(k_group(k_pred), minlength=5).tolist(),
             **({"emp_attention_mean": float(pred["emp_attention"].mean())} if "emp_attention" in pred else {}),
             "roc": {"network": scores, "authors": ai_scores, "baseline": tr_scores,
                     "doctors": {d: doc_groups[d].tolist() for d in doctors}}}
    return rows, extra


# ------------------------------------------------------------------------------------------------ report
def fmt(v):
    value, lo, hi = v
    if not np.isfinite(value):
        return "-"
    return f"{value:.2f}" if not np.isfinite(lo) else f"{value:.2f} ({lo:.2f}-{hi:.2f})"


def table(rows, keys):
    lines = ["| | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, m in rows.items():
        lines.append(f"| {name} | " + " | ".join(fmt(m[k]) if k in m else "-" for k in keys) + " |")
    return "\n".join(lines)


def report(real_rows, synthetic, extra, model_name):
    short = {"hypokalemia (<=3.5)": "<=3.5", "hyperkalemia (>=5.5)": ">=5.5",
             "severe hypokalemia (<=2.5)": "<=2.5", "severe hyperkalemia (>=6.5)": ">=6.5"}
    auc_keys = [f"{c} AUC" for c in CUTS]
    sens_keys = [f"{c} {m}" for c in CUTS for m in ("sensitivity", "specificity")]
    parts = [f"## {model_name}: the 100 real validation ECGs (20 per K+ group), 95% bootstrap CIs", "",
             "AUC", "", table(real_rows, auc_keys),
             "", "Sensitivity / specificity at the cut points", "", table(real_rows, sens_keys),
             "", "Balanced accuracy and squared weighted kappa", "",
             table(real_rows, [f"{c} balanced accuracy" for c in CUTS] + ["kappa 5 groups", "kappa 3 groups"]),
             "", f"Mean K+ estimate by true group ({', '.join(GROUP_NAMES)}): "
             + ", ".join(f"{v:.2f}" for v in extra["k_pred_mean_by_true_group"])
             + f"; predicted groups: {extra['predicted_group_counts']}. "
             + f"T/R baseline: {extra['t_over_r_unmeasured']} ECGs without measurable beats ranked neutral.", ""]
    fw = extra["four_windows"]
    parts += ["## Four 2.5 s window layouts per 10 s ECG vs the Philips layout alone (the 100 real ECGs)", "",
              table(fw["rows"], auc_keys + ["kappa 5 groups", "kappa 3 groups"]), "",
              f"Layout 0 rebuilt in Python equals the core's input within {fw['layout0_max_abs_diff_mv']:.1e} mV; "
              f"mean SD of the 4 layouts' K+ estimates per ECG: {fw['per_layout_k_sd_mean']:.2f} mEq/L.", ""]
    if "comparison" in extra:
        c = extra["comparison"]
        parts += [f"## {model_name} minus {c['other']} on the 100 real ECGs (K+ estimate; paired bootstrap 95% CIs)", "",
                  table(c["rows"], auc_keys + ["kappa 5 groups", "kappa 3 groups"]), "",
                  f"Mean |change of K+ estimate| per ECG: {c['k_mean_abs_change']:.3f} mEq/L."
                  + (f" Mean EMPNet attention: {extra['emp_attention_mean']:.3f}." if "emp_attention_mean" in extra else ""), ""]
    for name, rows in synthetic.items():
        parts += [f"## Held-out synthetic ECGs: {name}", "",
                  table({"ECG12Net": rows}, ["mae"] + auc_keys + ["kappa 5 groups", "kappa 3 groups"]), ""]
    text = "\n".join(parts)
    for long, s in short.items():
        text = text.replace(long, s)
    return text


def plot_roc(path, extra):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    truth = np.array(extra["truth"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8))
    for ax, cut in zip(axes, ("hypokalemia (<=3.5)", "hyperkalemia (>=5.5)")):
        positive = np.isin(truth, CUTS[cut][0])
        for label, scores in (("kalium ECG12Net", extra["roc"]["network"][cut]),
                              ("authors' later model", extra["roc"]["authors"][cut]),
                              ("T/R V2-V4 baseline", extra["roc"]["baseline"][cut])):
            s = np.asarray(scores)
            thr = np.unique(s)[::-1]
            tpr = [0.0] + [float((s[positive] >= t).mean()) for t in thr]
            fpr = [0.0] + [float((s[~positive] >= t).mean()) for t in thr]
            ax.plot(fpr, tpr, label=f"{label} (AUC {auc(s, positive):.2f})")
        for d, groups in extra["roc"]["doctors"].items():
            said = np.isin(np.array(groups), CUTS[cut][0])
            ax.plot((said[~positive]).mean(), said[positive].mean(), "k^", ms=5)
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_title(f"{cut}: 100 real ECGs\n(triangles: the 7 physicians)", fontsize=10)
        ax.set_xlabel("1 - specificity")
        ax.set_ylabel("sensitivity")
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=str(HERE / "ecg12net-1.kmodel"))
    ap.add_argument("--checkpoint", help="evaluate a train.py checkpoint instead of a weights file")
    ap.add_argument("--out", default=str(data.ROOT / "build" / "model" / "eval"))
    ap.add_argument("--synthetic", type=int, default=150, help="held-out synthetic ECGs of each kind")
    ap.add_argument("--seed", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--compare", help="another .kmodel or checkpoint: report this one minus it on the 100 (paired)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    net, name = load_net(args.checkpoint or args.weights)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    real_rows, extra = evaluate_real(net, load_net(args.compare) if args.compare else None)
    synthetic = evaluate_synthetic(net, args.synthetic, args.seed) if args.synthetic else {}
    text = report(real_rows, synthetic, extra, name)
    (out / "results.md").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps({"real": real_rows, "synthetic": synthetic, "extra": {
        k: v for k, v in extra.items() if k != "roc"}}, indent=1))
    plot_roc(out / "roc.png", extra)
    print(text)
    print(f"\nwrote {out / 'results.md'}, {out / 'results.json'}, {out / 'roc.png'}")


if __name__ == "__main__":
    main()
