"""
Heads fitted on the 100 labelled real ECGs, over the frozen features of the network trained on generated data
(model/real_features.py): compared under nested cross-validation, then fitted on all 100 and shipped.

    /usr/bin/python3 model/fit_real.py compare [--repeats=3] [--out=build/model/fit-real]
        every method under repeated stratified 5-fold CV; every choice (method, principal components, ridge,
        epochs) is made inside each outer training fold by an inner 4-fold CV on the group log-loss, so every
        number on the 100 comes from a model that never saw that ECG
        -> results.md (the tables of MODEL_CARD.md), results.json, reliability.png
    /usr/bin/python3 model/ship.py [--out=model] [--name=ecg12net-1]
        the shipped procedure (SHIPPED): the same inner CV on all 100 chooses the configuration; fitted on all 100;
        written as a .kmodel with the K+ distribution (model/kdist.py) in its header; its sha256, golden vectors
        and the population check on the 1,095 unlabelled ECGs

THE MODEL. Every method gives each ECG a location mu (mEq/L) = sum_l alpha_l (w_l . f_l + b_l), alpha the
network's attention and f_l lead l's 864 features, and one logistic scale s: the interval-censored logistic
regression of kdist.py, fitted by maximum likelihood on the group labels. What the methods change:
    interval      w_l = w for every lead, in the span of the first k principal components of the attention-weighted
                  features of the 1,095 unlabelled ECGs (no label used); ridge on the standardised coefficients
    + leads       each lead's own location w . f_l + b must predict the group too (its own loss, weight 0.5), so
                  the per-lead estimates the app shows are potassium values
    + generated   1,024 generated ECGs (model/data.py) join the real ones with weight 0.5 (a regulariser)
    4 layouts     the four 2.5 s window layouts of each training ECG are four training examples
    heads         the shipped per-lead regression heads (12 x 864) fine-tuned by Adam, ridge towards their start
    own           the network's own heads kept, its estimate mapped a x mu + c (3 parameters with the scale):
                  the network's ranking, calibrated on the real labels
    ensemble      the inner folds' models averaged instead of one refit
    probe         the review's probe: multinomial logistic regression on 5 principal components (no K+ value)
"""
import argparse
import dataclasses
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import kdist  # noqa: E402
import evaluate  # noqa: E402
import export  # noqa: E402
import real_features  # noqa: E402

OUTER_FOLDS, INNER_FOLDS = 5, 4
LEAD_WEIGHT, GENERATED_WEIGHT = 0.5, 0.5
EDGES = torch.tensor(kdist.GROUP_EDGES_MEQ_L, dtype=torch.float64)


# ------------------------------------------------------------------------------------------------ folds
def stratified_folds(groups, n_folds, rng):
    """Fold index per ECG: each group's ECGs dealt evenly over the folds in a random order."""
    fold = np.empty(len(groups), int)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % n_folds
    return fold


# ------------------------------------------------------------------------------------------- likelihood
def interval_nll(mu, scale, groups):
    """Mean negative log-likelihood of the groups under logistic(mu, scale), interval-censored (torch; float64,
    or float32 for model/finetune_block.py)."""
    edges = EDGES.to(mu.dtype)
    lo = torch.cat([edges.new_tensor([-1e9]), edges])[groups]
    hi = torch.cat([edges, edges.new_tensor([1e9])])[groups]
    a, b = (hi - mu) / scale, (lo - mu) / scale
    # log(F(a) - F(b)) = log F(a) + log(1 - exp(log F(b) - log F(a))), stable at both tails
    la, lb = F.logsigmoid(a), F.logsigmoid(b)
    tiny = 1e-12 if mu.dtype == torch.float64 else 1e-6
    return -(la + torch.log1p(-torch.exp(lb - la).clamp(max=1 - tiny))).mean()


# --------------------------------------------------------------------------------------------- features
@dataclasses.dataclass
class Basis:
    """Principal components of the attention-weighted features of the unlabelled ECGs (no label)."""
    mean: np.ndarray       # (864,)
    components: np.ndarray  # (kmax, 864), each row divided by its component's SD: projections have unit variance

    @classmethod
    def fit(cls, f_unl, alpha_unl, kmax=40):
        fbar = np.einsum("nl,nlc->nc", alpha_unl, f_unl).astype(np.float64)
        mean = fbar.mean(0)
        _, sv, vt = np.linalg.svd(fbar - mean, full_matrices=False)
        sd = sv[:kmax] / np.sqrt(len(fbar) - 1)
        return cls(mean, vt[:kmax] / sd[:, None])

    def project(self, f, k):
        """(..., 864) -> (..., k)"""
        return (f - self.mean) @ self.components[:k].T


@dataclasses.dataclass
class Data:
    """What a fit sees: per ECG (and layout) the 12 leads' features and the attention."""
    f: np.ndarray          # (n, layouts, 12, 864)
    alpha: np.ndarray      # (n, layouts, 12)
    groups: np.ndarray     # (n,)

    def take(self, idx):
        return Data(self.f[idx], self.alpha[idx], self.groups[idx])


# ------------------------------------------------------------------------------------------------ models
@dataclasses.dataclass(frozen=True)
class Config:
    kind: str                   # "interval" | "heads" | "own" | "probe"
    k: int = 10                 # principal components (interval, probe)
    ridge: float = 1e-2
    leads: bool = False
    generated: bool = False
    layouts: int = 1            # 1: the Philips layout only; 4: the four layouts as training examples
    epochs: int = 0             # heads

    def label(self):
        if self.kind == "heads":
            return f"heads E{self.epochs} ridge {self.ridge:g}"
        extra = "".join([" +leads" if self.leads else "", " +generated" if self.generated else "",
                         " 4 layouts" if self.layouts == 4 else ""])
        if self.kind == "own":
            return f"own estimate x a + c{extra}"
        return f"{self.kind} k{self.k} ridge {self.ridge:g}{extra}"


@dataclasses.dataclass
class Fitted:
    """A fitted head: per-lead weights over the raw 864 features (shared or not), biases, and the scale."""
    w: np.ndarray          # (12, 864)
    b: np.ndarray          # (12,)
    scale: float
    probe: object = None   # the multinomial probe (W (5, k), c (5,), basis, k), else None

    def lead_mu(self, f):
        """(..., 12, 864) -> (..., 12) each lead's location."""
        return np.einsum("...lc,lc->...l", f, self.w) + self.b

    def mu(self, f, alpha):
        return (alpha * self.lead_mu(f)).sum(-1)

    def probs(self, f, alpha):
        if self.probe is not None:
            W, c, basis, k = self.probe
            z = basis.project(np.einsum("...l,...lc->...c", alpha, f), k)
            logits = z @ W.T + c
            e = np.exp(logits - logits.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)
        return kdist.group_probs(self.mu(f, alpha), self.scale)


def average(models):
    return Fitted(np.mean([m.w for m in models], 0), np.mean([m.b for m in models], 0),
                  float(np.mean([m.scale for m in models])))


def _lbfgs(params, closure, steps=200):
    opt = torch.optim.LBFGS(params, lr=1, max_iter=steps, tolerance_grad=1e-9, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def step():
        opt.zero_grad()
        loss = closure()
        loss.backward()
        return loss
    opt.step(step)


def fit(cfg, d, basis, gen=None, start=None):
    """One configuration fitted on the ECGs of d (layouts as cfg says); gen = (f, alpha, k_true) generated."""
    lay = slice(0, cfg.layouts)
    f = d.f[:, lay].reshape(-1, 12, d.f.shape[-1]).astype(np.float64)
    alpha = d.alpha[:, lay].reshape(-1, 12).astype(np.float64)
    groups = torch.from_numpy(np.repeat(d.groups, cfg.layouts))
    if cfg.kind == "probe":
        z = torch.from_numpy(basis.project(np.einsum("nl,nlc->nc", alpha, f), cfg.k))
        W = torch.zeros(5, cfg.k, dtype=torch.float64, requires_grad=True)
        c = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        _lbfgs([W, c], lambda: F.cross_entropy(z @ W.T + c, groups) + cfg.ridge * (W ** 2).sum())
        return Fitted(np.zeros((12, f.shape[-1])), np.zeros(12), 1.0,
                      probe=(W.detach().numpy(), c.detach().numpy(), basis, cfg.k))
    if cfg.kind == "interval":
        zl = torch.from_numpy(basis.project(f, cfg.k))                     # (n, 12, k)
        a = torch.from_numpy(alpha)
        beta = torch.zeros(cfg.k, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(4.5, dtype=torch.float64, requires_grad=True)
        log_s = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        if gen is not None and cfg.generated:
            gz = torch.from_numpy(basis.project(np.einsum("nl,nlc->nc", gen[1], gen[0]).astype(np.float64), cfg.k))
            gg = torch.from_numpy(gen[2])

        def loss():
            s = log_s.exp()
            lead = zl @ beta + b                                           # (n, 12)
            total = interval_nll((a * lead).sum(1), s, groups) + cfg.ridge * (beta ** 2).sum()
            if cfg.leads:
                total = total + LEAD_WEIGHT * interval_nll(lead.reshape(-1), s, groups.repeat_interleave(12))
            if gen is not None and cfg.generated:
                total = total + GENERATED_WEIGHT * interval_nll(gz @ beta + b, s, gg)
            return total
        _lbfgs([beta, b, log_s], loss)
        w = beta.detach().numpy() @ basis.components[:cfg.k]              # back to the raw 864 features
        b0 = float(b.detach()) - float(w @ basis.mean)
        return Fitted(np.tile(w, (12, 1)), np.full(12, b0), float(log_s.exp()))
    if cfg.kind == "own":
        # the network's own heads kept; only a scale a, a shift c and the logistic scale s are fitted, so the
        # ranking is the network's and every lead's estimate moves with the combined one
        lead0 = torch.from_numpy(start.lead_mu(f))                          # (n, 12) the heads' own locations
        at = torch.from_numpy(alpha)
        a = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        c = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        log_s = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)

        def loss():
            s, lead = log_s.exp(), a * lead0 + c
            total = interval_nll((at * lead).sum(1), s, groups)
            if cfg.leads:
                total = total + LEAD_WEIGHT * interval_nll(lead.reshape(-1), s, groups.repeat_interleave(12))
            return total
        _lbfgs([a, c, log_s], loss)
        a_, c_ = float(a.detach()), float(c.detach())
        return Fitted(a_ * start.w, a_ * start.b + c_, float(log_s.exp()))
    if cfg.kind == "heads":
        w0 = torch.from_numpy(start.w.astype(np.float64))
        b0 = torch.from_numpy(start.b.astype(np.float64))
        w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        log_s = torch.tensor(np.log(0.7), dtype=torch.float64, requires_grad=True)
        ft, at = torch.from_numpy(f), torch.from_numpy(alpha)
        opt = torch.optim.Adam([w, b, log_s], lr=1e-3)
        gen_rng = torch.Generator().manual_seed(0)
        for _ in range(cfg.epochs):
            for idx in torch.randperm(len(ft), generator=gen_rng).split(16):
                mu = (at[idx] * ((ft[idx] * w).sum(-1) + b)).sum(1)
                loss = interval_nll(mu, log_s.exp(), groups[idx]) + cfg.ridge * ((w - w0) ** 2).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return Fitted(w.detach().numpy(), b.detach().numpy(), float(log_s.exp()))
    raise ValueError(cfg.kind)


def group_log_loss(model, d):
    p = model.probs(d.f[:, 0], d.alpha[:, 0])
    return float(-np.log(np.clip(p[np.arange(len(d.groups)), d.groups], 1e-12, None)).mean())


# ---------------------------------------------------------------------------------------- candidate sets
def interval_grid(**variant):
    return [Config("interval", k=k, ridge=r, **variant) for k in (5, 10, 20) for r in (1e-3, 1e-2, 1e-1)]


METHODS = {
    "probe: multinomial logistic, 5 PCs (the review's)": [Config("probe", k=5, ridge=1e-2)],
    "interval": interval_grid(),
    "interval + leads": interval_grid(leads=True),
    "interval + generated": interval_grid(generated=True),
    "interval, 4 layouts": interval_grid(layouts=4),
    "interval + leads + generated, 4 layouts": interval_grid(leads=True, generated=True, layouts=4),
    "heads fine-tuned": [Config("heads", ridge=r, epochs=e) for r in (1e-3, 1e-1) for e in (10, 30)],
    "own estimate, scale and shift": [Config("own", leads=True, layouts=n) for n in (1, 4)],
}
# selections: the method is one more choice made by the inner CV, among those whose per-lead estimates are
# potassium values (a shared head with the per-lead loss, or the network's own heads)
SELECT = {"chosen per fold (interval methods with per-lead loss)":
          [c for name in ("interval + leads", "interval + leads + generated, 4 layouts") for c in METHODS[name]],
          "chosen per fold (interval or own estimate, per-lead loss)":
          [c for name in ("interval + leads", "interval + leads + generated, 4 layouts",
                          "own estimate, scale and shift") for c in METHODS[name]]}
# the procedure that ships (a key of METHODS or SELECT): its choices per fold, calibration, range and flags are
# reported, and `ship` runs its inner CV on all 100
SHIPPED = "chosen per fold (interval methods with per-lead loss)"


def procedure():
    """The candidate configurations of the shipped procedure."""
    return {**METHODS, **SELECT}[SHIPPED]


def inner_choice(configs, d, basis, gen, start, seed):
    """The inner CV: -> (the config with the lowest mean inner log-loss, {config: [inner models]}, scores)."""
    folds = stratified_folds(d.groups, INNER_FOLDS, np.random.default_rng(seed))
    scores, models = {}, {}
    for cfg in configs:
        losses, ms = [], []
        for j in range(INNER_FOLDS):
            m = fit(cfg, d.take(folds != j), basis, gen, start)
            losses.append(group_log_loss(m, d.take(folds == j)))
            ms.append(m)
        scores[cfg], models[cfg] = float(np.mean(losses)), ms
    best = min(scores, key=scores.get)
    return best, models, scores


# ----------------------------------------------------------------------------------------- evaluation
def flag_thresholds(model, unl):
    """The locations above / below which kalium flags hyper- / hypokalemia: the quantiles of the model's
    locations over the unlabelled emergency-department ECGs at the department's prevalence (no label is used),
    so that it flags as many ECGs of such a department as it has dyskalemic patients."""
    mu = model.mu(unl[0], unl[1])
    return (float(np.quantile(mu, sum(kdist.ED_PRIOR[:2]))), float(np.quantile(mu, 1 - sum(kdist.ED_PRIOR[3:]))))


def flags_of(mu, thresholds):
    """-1 flagged hypokalemia, +1 hyperkalemia, 0 none."""
    return np.where(mu <= thresholds[0], -1, np.where(mu >= thresholds[1], 1, 0))


def method_outputs(model, d, unl=None):
    """Out-of-fold outputs of one ECG set: location (layout 0), location averaged over the 4 layouts, scale,
    the balanced group probabilities, each lead's location, and with unl (features, attention of the
    unlabelled ECGs) the flags."""
    out = {"mu": model.mu(d.f[:, 0], d.alpha[:, 0]), "mu4": model.mu(d.f, d.alpha).mean(1),
           "scale": np.full(len(d.groups), model.scale), "probs": model.probs(d.f[:, 0], d.alpha[:, 0]),
           "lead_mu": model.lead_mu(d.f[:, 0])}
    if unl is not None and model.probe is None:
        out["flag"] = flags_of(out["mu"], flag_thresholds(model, unl))
    return out


def cross_validate(d, basis, gen, start, repeats, log=print, unl=None):
    """-> {method: [per repeat: out-of-fold outputs]} for every method and the selections."""
    names = list(METHODS) + list(SELECT) + ["ensemble of the inner folds (chosen per fold)"]
    oof = {n: [] for n in names}
    chosen = []
    for r in range(repeats):
        folds = stratified_folds(d.groups, OUTER_FOLDS, np.random.default_rng(100 + r))
        per = {n: {} for n in names}
        for i in range(OUTER_FOLDS):
            train, test = d.take(folds != i), d.take(folds == i)
            all_cfgs = sorted({c for cs in list(METHODS.values()) + list(SELECT.values()) for c in cs},
                              key=lambda c: c.label())
            _, models, scores = inner_choice(all_cfgs, train, basis, gen, start, seed=1000 * r + i)
            refits = {}     # a configuration chosen by several methods is refitted once
            for name, cfgs in list(METHODS.items()) + list(SELECT.items()):
                best = min(cfgs, key=scores.get)
                if best not in refits:
                    refits[best] = method_outputs(fit(best, train, basis, gen, start), test, unl)
                per[name][i] = refits[best]
                if name == SHIPPED:
                    chosen.append(best.label())
                    per["ensemble of the inner folds (chosen per fold)"][i] = method_outputs(average(models[best]), test, unl)
            log(f"repeat {r} fold {i}: chosen {chosen[-1]}")
        for name in names:
            oof[name].append(out_of_fold(folds, per[name]))
    return oof, chosen


def out_of_fold(folds, per_fold):
    """{fold: {key: outputs of that fold's test ECGs}} -> {key: outputs of every ECG, in ECG order}."""
    first = per_fold[0]
    out = {key: np.zeros((len(folds),) + first[key].shape[1:]) for key in first}
    for i, outputs in per_fold.items():
        for key, value in outputs.items():
            out[key][folds == i] = value
    return out


def _metric_row(truth, mus, probs_list, scales, preds=None):
    """AUCs (from the location, or from the probabilities for the probe), sensitivities and kappa of the group
    kalium shows (that of the ED-shifted median), the group log-loss; averaged over repeats; as a function of a
    bootstrap sample of ECG indices."""
    preds = preds or [p.argmax(1) if mu is None else kdist_display_group(mu, s) for mu, p, s in zip(mus, probs_list, scales)]

    def fn(i):
        rows = []
        for mu, probs, pred in zip(mus, probs_list, preds):
            sc = evaluate.probability_scores(probs[i]) if mu is None else evaluate.network_scores(mu[i])
            m = evaluate.metrics(truth[i], pred[i], sc)
            balanced = probs[i].argmax(1) if mu is None else evaluate.k_group(mu[i])
            m["kappa 5 groups, balanced"] = evaluate.kappa_quadratic(truth[i], balanced, 5)
            m["log-loss"] = float(-np.log(np.clip(probs[i][np.arange(len(i)), truth[i]], 1e-12, None)).mean())
            rows.append(m)
        return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    return fn


def _auc_difference(fn_a, fn_b):
    """Paired AUC differences a - b on one bootstrap sample of ECG indices."""
    def diff(i):
        a, b = fn_a(i), fn_b(i)
        return {k: a[k] - b[k] for k in a if k.endswith("AUC")}
    return diff


def kdist_display_group(mu, scale):
    """The group kalium shows: that of the ED-shifted median."""
    k = np.array([kdist.shifted_quantile(m, s, 0.5)[0] for m, s in zip(mu, scale)])
    return evaluate.k_group(k)


def calibration(truth, probs, weights=None, n_bins=10):
    """Expected calibration error of P(<=3.5), P(>=5.5) and of the top group, with optional ECG weights (the
    ED importance weights pi_ED / pi_balanced make the 100 stand for an emergency department)."""
    w = np.ones(len(truth)) if weights is None else np.asarray(weights, float)
    events = {"P(K<=3.5)": (probs[:, :2].sum(1), truth <= 1), "P(K>=5.5)": (probs[:, 3:].sum(1), truth >= 3),
              "top group": (probs.max(1), probs.argmax(1) == truth)}
    out, curves = {}, {}
    for name, (p, y) in events.items():
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        ece, curve = 0.0, []
        for b in range(n_bins):
            m = bins == b
            if w[m].sum() == 0:
                continue
            conf, acc = np.average(p[m], weights=w[m]), np.average(y[m], weights=w[m])
            ece += w[m].sum() / w.sum() * abs(conf - acc)
            curve.append((float(conf), float(acc), float(w[m].sum())))
        out[name] = float(ece)
        curves[name] = curve
    return out, curves


def coverage(truth, lo, hi, weights=None):
    """How often the range holds the true K+, taking K+ uniform within its group's span (the labels are groups):
    the expected share of the group's span inside [lo, hi]; and the share of ECGs whose group the range touches."""
    w = np.ones(len(truth)) if weights is None else np.asarray(weights, float)
    span = np.array(kdist.GROUP_SPAN_MEQ_L)[truth]
    inside = np.clip(np.minimum(hi, span[:, 1]) - np.maximum(lo, span[:, 0]), 0, None) / (span[:, 1] - span[:, 0])
    touches = (lo <= span[:, 1]) & (hi >= span[:, 0])
    return {"expected coverage": float(np.average(inside, weights=w)),
            "range touches the true group": float(np.average(touches, weights=w)),
            "mean width mEq/L": float(np.average(hi - lo, weights=w))}


def report_cv(d, oof, chosen, shipped_k, out_dir, repeats, against=None):
    """The tables of the run (results.md/.json). against: another network's saved run ({method: repeats}, the same
    100 ECGs and folds): each method is also reported minus the same method on that network (paired)."""
    truth = d.groups
    rows, diffs, diffs_against = {}, {}, {}
    ship_fn = _metric_row(truth, [shipped_k], [np.full((len(truth), 5), np.nan)], [np.ones(len(truth))],
                          preds=[evaluate.k_group(shipped_k)])
    rows["shipped ecg12net-1 (generated data only)"] = evaluate.bootstrap(ship_fn, len(truth))
    for name, reps in oof.items():
        is_probe = name.startswith("probe")
        for suffix, key in (("", "mu"), (" - mean of 4 layouts at test", "mu4")):
            if suffix and (is_probe or name.startswith("heads")):
                continue
            mus = [None if is_probe else r[key] for r in reps]
            fn = _metric_row(truth, mus, [r["probs"] for r in reps], [r["scale"] for r in reps])
            rows[name + suffix] = evaluate.bootstrap(fn, len(truth))

            diffs[name + suffix] = evaluate.bootstrap(_auc_difference(fn, ship_fn), len(truth))
            if against is not None and name in against:
                other = against[name]
                other_fn = _metric_row(truth, [None if is_probe else r[key] for r in other],
                                       [r["probs"] for r in other], [r["scale"] for r in other])
                diffs_against[name + suffix] = evaluate.bootstrap(_auc_difference(fn, other_fn), len(truth))
    # calibration and coverage of the procedure that ships (chosen per fold), first repeat
    sel = oof[SHIPPED][0]
    w_ed = kdist.shift_weights(kdist.ED_PRIOR)[truth]
    cal = {"balanced": calibration(truth, sel["probs"]),
           "ED-weighted": calibration(truth, np.array([kdist.shifted_group_probs(m, s)
                                                       for m, s in zip(sel["mu"], sel["scale"])]), w_ed)}
    bal_lo = np.array([kdist.shifted_quantile(m, s, kdist.RANGE_QUANTILES[0], kdist.BALANCED_PRIOR)[0]
                       for m, s in zip(sel["mu"], sel["scale"])])
    bal_hi = np.array([kdist.shifted_quantile(m, s, kdist.RANGE_QUANTILES[1], kdist.BALANCED_PRIOR)[0]
                       for m, s in zip(sel["mu"], sel["scale"])])
    ed = [kdist.summary(m, s) for m, s in zip(sel["mu"], sel["scale"])]
    ed_lo, ed_hi = np.array([e["k_low"][0] for e in ed]), np.array([e["k_high"][0] for e in ed])
    cov = {"balanced range": coverage(truth, bal_lo, bal_hi), "ED range, ED-weighted": coverage(truth, ed_lo, ed_hi, w_ed)}
    flags = {}
    for name, reps in oof.items():
        if "flag" not in reps[0]:
            continue
        row = {}
        for side, positive, value in (("K+ <= 3.5", truth <= 1, -1), ("K+ >= 5.5", truth >= 3, 1)):
            said = np.array([r["flag"] == value for r in reps])          # (repeats, n)
            row[f"{side} flag sensitivity"] = float(said[:, positive].mean())
            row[f"{side} flag specificity"] = float(1 - said[:, ~positive].mean())
        flags[name] = row
    lead_mu = sel["lead_mu"]
    lead_spread = {"per-lead location, 1st-99th percentile mEq/L": np.percentile(lead_mu, [1, 99]).tolist()}
    plot_reliability(out_dir / "reliability.png", cal)
    result = {"rows": rows, "paired_minus_shipped": diffs, "paired_minus_against": diffs_against, "calibration": {k: v[0] for k, v in cal.items()},
              "coverage_80": cov, "flags": flags, "lead_spread": lead_spread, "chosen": chosen, "repeats": repeats}
    (out_dir / "results.json").write_text(json.dumps(result, indent=1))
    (out_dir / "results.md").write_text(markdown(result))
    return result


def plot_reliability(path, cal):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for ax, (name, (ece, curves)) in zip(axes, cal.items()):
        ax.plot([0, 1], [0, 1], color="0.6", lw=1)
        for event, curve in curves.items():
            if not curve:
                continue
            c = np.array(curve)
            ax.plot(c[:, 0], c[:, 1], "o-", label=f"{event} (ECE {ece[event]:.3f})")
        ax.set_title(f"{name} (out-of-fold, the 100 ECGs)")
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed frequency")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result):
    keys = [f"{c} AUC" for c in evaluate.CUTS] + ["kappa 5 groups", "kappa 5 groups, balanced", "log-loss"]
    lines = ["| method (5-fold CV, mean of %d repeats; 95 %% bootstrap CI) | " % result["repeats"]
             + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, row in result["rows"].items():
        lines.append(f"| {name} | " + " | ".join(evaluate.fmt(row[k]) for k in keys) + " |")
    lines += ["", "Paired difference against the shipped model (same ECGs, same bootstrap samples)", "",
              "| method | " + " | ".join(keys[:4]) + " |", "|---" * 5 + "|"]
    for name, row in result["paired_minus_shipped"].items():
        lines.append(f"| {name} | " + " | ".join(evaluate.fmt(row[k]) for k in keys[:4]) + " |")
    if result.get("paired_minus_against"):
        lines += ["", "Paired difference against the same method on the other network (--against; same ECGs, "
                  "same folds, same bootstrap samples)", "", "| method | " + " | ".join(keys[:4]) + " |", "|---" * 5 + "|"]
        for name, row in result["paired_minus_against"].items():
            lines.append(f"| {name} | " + " | ".join(evaluate.fmt(row[k]) for k in keys[:4]) + " |")
    lines += ["", "Calibration (expected calibration error, 10 bins): " + json.dumps(result["calibration"]),
              "", "Coverage of the 80 % range: " + json.dumps(result["coverage_80"]),
              "", "Per-lead locations: " + json.dumps(result["lead_spread"])]
    fkeys = [f"{side} flag {m}" for side in ("K+ <= 3.5", "K+ >= 5.5") for m in ("sensitivity", "specificity")]
    lines += ["", "Flags (thresholds at the emergency department's prevalence among the unlabelled ECGs, per fold "
              "model; out of fold, mean of the repeats)", "", "| method | " + " | ".join(fkeys) + " |",
              "|---" * (len(fkeys) + 1) + "|"]
    for name, row in result["flags"].items():
        lines.append(f"| {name} | " + " | ".join(f"{row[k]:.2f}" for k in fkeys) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------- main
def load_all(weights, log=print):
    feats = real_features.load(weights, log=log)
    d = Data(feats["val_f"], feats["val_alpha"], feats["val_group"].astype(int))
    basis = Basis.fit(feats["unl_f"], feats["unl_alpha"])
    gen = None
    if "gen_f" in feats:
        gen = (feats["gen_f"], feats["gen_alpha"], evaluate.k_group(feats["gen_k_true"]).astype(np.int64))
    net, _ = export.load_weights(weights)
    state = net.state_dict()
    start = Fitted(state["heads.regression.weight"].numpy().reshape(12, -1).astype(np.float64),
                   state["heads.regression.bias"].numpy().astype(np.float64), 0.7)
    return feats, d, basis, gen, start


def weights_argument(ap):
    ap.add_argument("--weights", default=str(real_features.GENERATED_ONLY),
                    help="the network trained on generated data whose trunk and attention are kept "
                         "(default: the generated-only ecg12net-1, see model/build-shipped-model.sh)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["compare"])
    weights_argument(ap)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--reuse", action="store_true", help="compare: report from the last run's saved outputs")
    ap.add_argument("--against", help="compare: another network's oof.pkl (same folds): paired differences")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    feats, d, basis, gen, start = load_all(Path(args.weights))
    out = Path(args.out or evaluate.data.ROOT / "build" / "model" / "fit-real")
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "oof.pkl"
    if args.reuse and saved.exists():       # report again from the last run's out-of-fold outputs
        oof, chosen = pickle.loads(saved.read_bytes())
    else:
        oof, chosen = cross_validate(d, basis, gen, start, args.repeats,
                                     unl=(feats["unl_f"].astype(np.float64), feats["unl_alpha"].astype(np.float64)))
        saved.write_bytes(pickle.dumps((oof, chosen)))
    against = pickle.loads(Path(args.against).read_bytes())[0] if args.against else None
    result = report_cv(d, oof, chosen, feats["val_k"][:, 0], out, args.repeats, against)
    print(markdown(result))
    print(f"wrote {out}/results.md, results.json, reliability.png")


if __name__ == "__main__":
    main()
