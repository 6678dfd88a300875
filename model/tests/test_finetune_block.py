"""
Smoke tests of model/finetune_block.py (the last dense block + heads fine-tuned on real labels): on a small
random network and made-up block inputs whose K+ signal is known, the fine-tuning finds it out of fold, and the
tail reproduces the network it was cut from. The 100 real ECGs are not needed here.

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_finetune_block.py
"""
import numpy as np
import torch

import finetune_block as FB
from model import ECG12Net, ModelConfig, fold_batchnorm

SMALL = ModelConfig(head="regression", stem_channels=8, growth=4, bottleneck=8, dense_units=(1, 1, 1, 1, 2))


def small_net():
    torch.manual_seed(0)
    return fold_batchnorm(ECG12Net(SMALL))


def test_the_tail_on_the_cached_block_input_is_the_network():
    net = small_net()
    x = np.random.default_rng(0).standard_normal((3, 12, 1250)).astype(np.float32) * 0.3
    h = FB.block_inputs(net, x)
    with torch.no_grad():
        mu, lead_mu, alpha = FB.Tail(net)(torch.from_numpy(h))
        out = net(torch.from_numpy(x))
    assert np.allclose(mu.numpy(), out["k"].numpy(), atol=1e-5)
    assert np.allclose(lead_mu.numpy(), out["lead_k"].numpy(), atol=1e-5)
    assert np.allclose(alpha.numpy(), out["lead_attention"].numpy(), atol=1e-6)


def test_fine_tuning_finds_a_signal_out_of_fold(monkeypatch):
    monkeypatch.setattr(FB, "EPOCHS", 12)
    monkeypatch.setattr(FB, "LR", 5e-2)
    net = small_net()
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(5), 6)
    k = np.array([2.0, 3.0, 4.5, 6.0, 7.0])[groups]
    channels = net.trunks[0].layers[-FB.last_block_layers(net)].convs[0][0].in_channels
    h = np.abs(rng.standard_normal((len(groups), 4, 12, channels, 8))).astype(np.float32)
    h[:, :, :, :4] += (k - 1.5)[:, None, None, None, None].astype(np.float32)   # K+ in the first 4 channels
    gen = (np.abs(rng.standard_normal((16, 12, channels, 8))).astype(np.float32), np.full(16, 4.5))
    cache = {"val_h": h, "val_group": groups, "gen_h": gen[0], "gen_k": gen[1]}
    oof = FB.cross_validate(net, cache, repeats=1, log=lambda *_: None)
    for name, reps in oof.items():
        out = reps[0]
        assert out["probs"].shape == (len(groups), 5) and np.isfinite(out["mu"]).all(), name
        assert FB.evaluate.auc(out["mu"], groups >= 3) > 0.9, name
        assert FB.evaluate.auc(-out["mu"], groups <= 1) > 0.9, name
