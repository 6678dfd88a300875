"""
AdaBN: re-estimate every batch-norm statistic of a trained ECG12Net on real, unlabelled ECGs, so the network's
normalisation matches real signals rather than the generated training data. No label and no gradient is used:
only the running means and variances change (a cumulative average over the data, momentum=None).

    /usr/bin/python3 model/adapt_bn.py build/model/ecg12net-1/ckpt.pt --out=build/model/ecg12net-1/ckpt-adabn.pt

The real ECGs are the 1,095 unlabelled ones of ../shared/ecg/hmc (data.Backgrounds: the 100 validation ECGs
are refused by hash) as they are, prepared by the core exactly as the app prepares a dropped file. Whether
the adapted or the plain model ships is decided on the validation ECGs between these two already-trained
models, and the model card says so.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402
import export  # noqa: E402


@torch.no_grad()
def adapt_batchnorm(net, inputs, batch=32):
    """net's BN running statistics replaced by those of `inputs` (n, 12, 1250) float32; other parameters and
    dropout untouched (the network stays in eval mode except its BN layers). Returns net."""
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    net.eval()
    for m in bns:
        m.reset_running_stats()
        m.train()
    seen = 0
    for i in range(0, len(inputs), batch):
        chunk = np.ascontiguousarray(inputs[i:i + batch])
        # momentum = this batch's share of the ECGs so far: the running values become the average over all
        # batches weighted by their size (PyTorch's momentum=None would weigh a short last batch like a full one)
        for m in bns:
            m.momentum = len(chunk) / (seen + len(chunk))
        net(torch.from_numpy(chunk))
        seen += len(chunk)
    for m in bns:
        m.momentum = 0.1
        m.eval()
    return net


def real_inputs(limit=None):
    """The unlabelled real ECGs as network inputs (n, 12, 1250), through the core's preparation."""
    kc = data.core()
    bg = data.Backgrounds.load(limit=limit, include_samples=False)
    return np.stack([kc.prepare_input(x, data.FS_HZ)["values_mv"] for x in bg.signals_uv])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", required=True, help="the adapted checkpoint (same format as train.py's)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N real ECGs (0: all)")
    args = ap.parse_args(argv)
    net, ckpt = export.load_checkpoint(args.checkpoint)
    x = real_inputs(args.limit or None)
    adapt_batchnorm(net, x)
    ckpt = dict(ckpt, model=net.state_dict(), adabn={"real_ecgs": len(x), "source": "hmc unlabelled (validation excluded)"})
    ckpt.pop("optimizer", None)
    torch.save(ckpt, args.out)
    print(f"{args.out}: BN statistics re-estimated on {len(x)} unlabelled real ECGs")


if __name__ == "__main__":
    main()
