"""
Frozen features of a trained ECG12Net on real and generated ECGs: what the heads fitted on real labels
(model/fit_real.py) learn from. The trunk and the attention stay as trained on generated data; only the heads
are refitted, so the features are computed once and cached.

    /usr/bin/python3 model/real_features.py [--weights=FILE.kmodel] [--generated=1024]
    -> build/model/features/<weights sha256[:12]>.npz

What is in the cache (f: each lead's 864 pooled features, after the final BN + ReLU and the mean over time,
exactly what the engine's heads read; alpha: the network's attention over the 12 leads):
    val_f (100, 4, 12, 864), val_alpha (100, 4, 12), val_k (100, 4), val_group (100,), val_hash (100,)
        the 100 labelled validation ECGs, each in the four 2.5 s window layouts (evaluate.shifted_layouts;
        layout 0 is the Philips print layout the app uses)
    unl_f (n, 12, 864), unl_alpha (n, 12), unl_k (n,), unl_hash (n,)
        the 1,095 unlabelled ECGs of the same emergency department, layout 0 (no label: principal components
        and the population check)
    gen_f (m, 12, 864), gen_alpha (m, 12), gen_k_true (m,)
        generated ECGs (model/data.py: half simulated, half K+ imposed on the unlabelled real backgrounds),
        with their exact K+ (the regulariser of fit_real's "+ generated" methods)
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import evaluate  # noqa: E402
import export  # noqa: E402

# The network trained on generated data only (shipped until 2026-12-07): its trunk and attention are what the
# shipped model keeps. ./model/build-shipped-model.sh --real-heads-only puts it here from the project's history.
GENERATED_ONLY = data.ROOT / "build" / "model" / "ecg12net-1-generated-only.kmodel"
GENERATED_SEED = 3000   # never a training seed (train.py uses 1 and 2, its monitors 1001/1002, evaluate 2000+)


@torch.no_grad()
def lead_features(net, x, batch=16):
    """x (n, 12, 1250) mV -> (pooled features (n, 12, 864), attention (n, 12), K+ estimate (n,))."""
    fs, alphas, ks = [], [], []
    for i in range(0, len(x), batch):
        out = net(torch.from_numpy(np.ascontiguousarray(x[i:i + batch], np.float32)))
        fs.append(out["features"].mean(dim=3).numpy())
        alphas.append(out["lead_attention"].numpy())
        ks.append(out["k"].numpy())
    return np.concatenate(fs), np.concatenate(alphas), np.concatenate(ks)


def cache_path(weights):
    return data.ROOT / "build" / "model" / "features" / f"{export.sha256_of(weights)[:12]}.npz"


def validation_layouts():
    """The 100 labelled validation ECGs: ([(hash, group)], their four window layouts (100, 4, 12, 1250) mV)."""
    kc = data.core()
    data.ensure_hmc_unpacked()
    val = data.validation_set()
    layouts = []
    for h, _ in val:
        lay = evaluate.shifted_layouts(kc.read(str(data.HMC_ECG_DIR / f"{h}.csv")))
        assert lay is not None, f"validation ECG {h} is shorter than 10 s"
        layouts.append(lay)
    return val, np.stack(layouts)


def generated_examples(n):
    """The first n generated ECGs of GENERATED_SEED (half simulated, half imposed): (x (n, 12, 1250), k_true (n,))."""
    batches = data.TrainingBatches(GENERATED_SEED, 64, 0.5, data.Backgrounds.load())
    gx, gk = zip(*(batches[i] for i in range((n + 63) // 64)))
    return np.concatenate(gx)[:n], np.concatenate(gk)[:n]


def compute(weights, n_generated=1024, log=print):
    torch.set_num_threads(max(torch.get_num_threads(), os.cpu_count() or 1))
    data.sim.tune_malloc()     # torch's feature maps too: without it, page faults took most of the time here
    net, _ = export.load_weights(weights)
    val, lay = validation_layouts()
    log(f"validation: {len(val)} ECGs x 4 layouts")
    f, a, k = lead_features(net, lay.reshape(-1, 12, lay.shape[-1]))
    out = {"val_f": f.reshape(len(val), 4, 12, -1), "val_alpha": a.reshape(len(val), 4, 12),
           "val_k": k.reshape(len(val), 4), "val_group": np.array([g for _, g in val]),
           "val_hash": np.array([h for h, _ in val])}

    excluded = data.validation_hashes()
    xs, names = [], []
    for p in sorted(data.HMC_ECG_DIR.glob("*.csv")):
        if p.stem in excluded:
            continue
        x, _ = data.read_prepared(p)
        xs.append(x)
        names.append(p.stem)
    log(f"unlabelled: {len(names)} ECGs")
    f, a, k = lead_features(net, np.stack(xs))
    out.update(unl_f=f, unl_alpha=a, unl_k=k, unl_hash=np.array(names))

    if n_generated:
        gx, gk = generated_examples(n_generated)
        log(f"generated: {n_generated} ECGs")
        f, a, _ = lead_features(net, gx)
        out.update(gen_f=f, gen_alpha=a, gen_k_true=gk)
    return out


def load(weights=GENERATED_ONLY, n_generated=1024, log=print):
    """The cached features of these weights, computed first if missing."""
    if not Path(weights).exists():
        raise SystemExit(f"{weights} is missing: ./model/build-shipped-model.sh --real-heads-only extracts the "
                         "generated-only network from the project's history")
    path = cache_path(weights)
    if not path.exists():
        out = compute(weights, n_generated, log)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **out)
        log(f"wrote {path}")
    return dict(np.load(path))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=str(GENERATED_ONLY),
                    help="the network trained on generated data whose trunk and attention are kept "
                         "(default: the generated-only ecg12net-1, see model/build-shipped-model.sh)")
    ap.add_argument("--generated", type=int, default=1024)
    args = ap.parse_args(argv)
    feats = load(Path(args.weights), args.generated)
    print({k: v.shape for k, v in feats.items()})


if __name__ == "__main__":
    main()
