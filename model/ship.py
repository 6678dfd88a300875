"""
The shipped model from the procedure fit_real.py compares: the configuration chosen by the inner CV on all 100
labelled ECGs, fitted on all 100, written as a .kmodel whose header carries the K+ distribution (model/kdist.py),
with its sha256 manifest, golden vectors for the engine's parity tests, and the population check on the 1,095
unlabelled ECGs.

    /usr/bin/python3 model/ship.py --weights=NETWORK.kmodel [--out=model] [--name=ecg12net-1]
    (model/build-shipped-model.sh runs it after fit_real.py compare)
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluate  # noqa: E402
import export  # noqa: E402
import fit_real  # noqa: E402
import kdist  # noqa: E402
from model import ECG12Net, fold_batchnorm  # noqa: E402


def distribution_header(scale, flags=None):
    out = {"kind": "logistic", "scale_meq_l": float(scale), "group_edges_meq_l": list(kdist.GROUP_EDGES_MEQ_L),
           "training_prior": list(kdist.BALANCED_PRIOR), "population_prior": list(kdist.ED_PRIOR),
           "range_quantiles": list(kdist.RANGE_QUANTILES), "population": kdist.ED_POPULATION}
    if flags is not None:
        out["flag_location_meq_l"] = [float(flags[0]), float(flags[1])]
    return out


def with_heads(base, fitted):
    """The base network (folded) with the fitted regression heads and no group head."""
    config = dataclasses.replace(base.config, head="regression")
    net = fold_batchnorm(ECG12Net(config))
    state = net.state_dict()
    base_state = base.state_dict()
    for k in state:
        if k in base_state and not k.startswith("heads."):
            state[k] = base_state[k]
    state["heads.regression.weight"] = torch.from_numpy(fitted.w.reshape(12, -1, 1).astype(np.float32))
    state["heads.regression.bias"] = torch.from_numpy(fitted.b.astype(np.float32))
    net.load_state_dict(state)
    return net.eval()


def population_check(fitted, feats):
    """Predicted rates of K+ <= 3.5 and >= 5.5 on the unlabelled ECGs (K+ unknown; the ED's prevalence is the
    yardstick): for the reported (ED) estimate and for the balanced location."""
    unl = (feats["unl_f"].astype(np.float64), feats["unl_alpha"].astype(np.float64))
    mu = fitted.mu(*unl)
    k_ed = kdist.shifted_quantile(mu, fitted.scale, 0.5)
    # the flags' rates on ECGs their thresholds were not taken from: thresholds from one half, rates on the other
    order = np.random.default_rng(0).permutation(len(mu))
    halves = (order[: len(mu) // 2], order[len(mu) // 2:])
    held_out = []
    for a, b in (halves, halves[::-1]):
        flags = fit_real.flags_of(mu[b], fit_real.flag_thresholds(fitted, (unl[0][a], unl[1][a])))
        held_out.append(((flags == -1).mean(), (flags == 1).mean()))
    p_ed = kdist.shifted_group_probs(mu, fitted.scale)
    return {"n": int(len(mu)),
            "flagged K+ <= 3.5, thresholds from the other half": float(np.mean([h[0] for h in held_out])),
            "flagged K+ >= 5.5, thresholds from the other half": float(np.mean([h[1] for h in held_out])),
            "reported K+ <= 3.5": float((k_ed <= 3.5).mean()), "reported K+ >= 5.5": float((k_ed >= 5.5).mean()),
            "balanced location <= 3.5": float((mu <= 3.5).mean()), "balanced location >= 5.5": float((mu >= 5.5).mean()),
            "mean P(K+ <= 3.5)": float(p_ed[:, :2].sum(1).mean()), "mean P(K+ >= 5.5)": float(p_ed[:, 3:].sum(1).mean()),
            "shipped before (raw estimate) <= 3.5": float((feats["unl_k"] <= 3.5).mean()),
            "shipped before (raw estimate) >= 5.5": float((feats["unl_k"] >= 5.5).mean()),
            "ED prevalence <= 3.5": sum(kdist.ED_PRIOR[:2]), "ED prevalence >= 5.5": sum(kdist.ED_PRIOR[3:])}


@torch.no_grad()
def golden(net, scale, x, thresholds=None):
    """Golden vectors: the network's own outputs and what the engine derives from them through the distribution."""
    out = export.golden_outputs(net, x)
    mu, lead_mu = out["k"].astype(np.float64), out["lead_k"].astype(np.float64)
    s = kdist.summary(mu, scale)
    flags = np.zeros(len(mu), np.float32) if thresholds is None else fit_real.flags_of(mu, thresholds).astype(np.float32)
    out.update(flag=flags, k_location=out["k"], k=s["k"].astype(np.float32), k_low=s["k_low"].astype(np.float32),
               k_high=s["k_high"].astype(np.float32), group_probs=s["group_probs"].astype(np.float32),
               group_probs_balanced=s["group_probs_balanced"].astype(np.float32),
               lead_k=kdist.shifted_quantile(lead_mu.reshape(-1), scale, 0.5).reshape(lead_mu.shape).astype(np.float32))
    return out


def ship(args, feats, d, basis, gen, start):
    configs = fit_real.procedure()
    best, _, scores = fit_real.inner_choice(configs, d, basis, gen, start, seed=0)
    fitted = fit_real.fit(best, d, basis, gen, start)
    print(f"chosen by 4-fold CV on all 100: {best.label()} (log-loss {scores[best]:.3f}); scale {fitted.scale:.3f}")
    base, base_header = export.load_weights(args.weights)
    net = with_heads(base, fitted)
    out = Path(args.out or export.HERE)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{args.name}.kmodel"
    pop = population_check(fitted, feats)
    training = dict(base_header.get("training", {}))
    training["real_heads"] = {
        "procedure": f"model/ship.py: fit_real's {fit_real.SHIPPED!r}", "config": dataclasses.asdict(best),
        "fitted_on": "the 100 labelled validation ECGs of shared/ecg/hmc (group labels), all of them",
        "trunk_and_attention_from": f"{base_header['name']} sha256 {export.sha256_of(args.weights)}",
        "inner_cv_log_loss": scores[best], "population_check": pop}
    flags = fit_real.flag_thresholds(fitted, (feats["unl_f"].astype(np.float64), feats["unl_alpha"].astype(np.float64)))
    print(f"flags: location <= {flags[0]:.3f} (hypokalemia), >= {flags[1]:.3f} (hyperkalemia) mEq/L")
    export.save_weights(weights, net, args.name, "f16", training,
                        extra_header={"k_distribution": distribution_header(fitted.scale, flags)})
    digest = export.sha256_of(weights)
    (out / f"{args.name}.kmodel.sha256").write_text(f"{digest}  {weights.name}\n")
    print(f"{weights}: {weights.stat().st_size} bytes, sha256 {digest}")
    stored, header = export.load_weights(weights)
    scale = header["k_distribution"]["scale_meq_l"]
    x, ks = export.golden_inputs()
    gpath = out / "golden" / f"{args.name}.golden"
    gpath.parent.mkdir(parents=True, exist_ok=True)
    export.write_container(gpath, {"format": "kalium-golden", "model": args.name, "model_sha256": digest,
                                   "k_simulated": ks.tolist()}, golden(stored, scale, x, header["k_distribution"].get("flag_location_meq_l")), "f32")
    print(f"{gpath}: {len(x)} inputs")
    print("population check on the unlabelled ECGs:", json.dumps(pop, indent=1))
    (evaluate.data.ROOT / "build" / "model").mkdir(parents=True, exist_ok=True)
    (evaluate.data.ROOT / "build" / "model" / "population-check.json").write_text(json.dumps(pop, indent=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    fit_real.weights_argument(ap)
    ap.add_argument("--out", default=None, help="where the .kmodel goes (default: model/)")
    ap.add_argument("--name", default="ecg12net-1")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    ship(args, *fit_real.load_all(Path(args.weights)))


if __name__ == "__main__":
    main()
