"""
Weight averaging of train.py checkpoints that were fine-tuned from one start ("model soup", Wortsman et al.,
ICML 2022; over one run's checkpoints it is stochastic weight averaging, Izmailov et al., UAI 2018): one network
whose weights are the mean of theirs, so it costs one inference where an ensemble of them would cost several.

    /usr/bin/python3 model/soup.py RUN_A/ckpt.pt RUN_B/ckpt-q2.pt ... --out=build/model/soup/ckpt.pt

The result is a checkpoint like train.py's (export.py, evaluate.py and real_features.py read it as they read
any other). Batch-norm running statistics are averaged as the weights are. Checkpoints must share the network's
configuration and, to average sensibly, its starting weights (init_from): both are checked.
"""
import argparse
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import export  # noqa: E402


def soup(paths):
    """-> a checkpoint dict whose model state is the mean of the checkpoints' (integer buffers from the first)."""
    ckpts = [torch.load(p, map_location="cpu") for p in paths]
    first = ckpts[0]
    for p, c in zip(paths[1:], ckpts[1:]):
        if c["config"]["model"] != first["config"]["model"]:
            raise ValueError(f"{p}: network configuration differs from {paths[0]}'s")
        if bool(c["config"].get("init_from")) != bool(first["config"].get("init_from")):
            raise ValueError(f"{p}: started BN-folded or not unlike {paths[0]}: the parameters do not correspond")
    state = {}
    for key, value in first["model"].items():
        if value.is_floating_point():
            state[key] = torch.stack([c["model"][key].float() for c in ckpts]).mean(0).to(value.dtype)
        else:
            state[key] = value.clone()
    return {"model": state, "config": first["config"], "step": max(c["step"] for c in ckpts),
            "minutes": sum(c["minutes"] for c in ckpts), "soup": [str(p) for p in paths]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoints", nargs="+", help="train.py checkpoints (ckpt.pt, ckpt-q2.pt, ...)")
    ap.add_argument("--out", required=True, help="the averaged checkpoint to write")
    args = ap.parse_args(argv)
    ckpt = soup(args.checkpoints)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, out)
    export.load_checkpoint(out)      # it loads as a network
    print(f"{out}: mean of {len(args.checkpoints)} checkpoints")


if __name__ == "__main__":
    main()
