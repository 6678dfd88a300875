"""
Tests of model/adapt_bn.py: AdaBN replaces the BN statistics by those of the given inputs and nothing else.

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_adapt_bn.py
"""
import torch

from adapt_bn import adapt_batchnorm
from model import ECG12Net, ModelConfig

TINY = ModelConfig(dense_units=(1, 1, 1, 1, 1), growth=8, bottleneck=16, stem_channels=8, head="regression+groups")


def test_statistics_become_those_of_the_data_and_weights_stay():
    torch.manual_seed(0)
    net = ECG12Net(TINY).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = (torch.randn(40, 12, 1250) * 0.5 + 0.2).numpy()
    adapt_batchnorm(net, x, batch=16)    # 3 uneven batches: the cumulative average must weigh them by size
    stem_conv, stem_bn = net.trunks[0].layers[0][0], net.trunks[0].layers[0][1]
    with torch.no_grad():
        y = stem_conv(torch.from_numpy(x).reshape(-1, 1, 1250))       # the stem sees every lead as a batch item
    mean = y.mean(dim=(0, 2))
    var = y.var(dim=(0, 2), unbiased=False)
    assert torch.allclose(stem_bn.running_mean, mean, atol=1e-4)
    # PyTorch accumulates the unbiased per-batch variance; within 1 % of the pooled variance here
    assert torch.allclose(stem_bn.running_var, var, rtol=1e-2)
    assert not net.training and not any(m.training for m in net.modules())
    after = net.state_dict()
    for name, value in before.items():
        if name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        assert torch.equal(value, after[name]), name
    assert not torch.equal(before["trunks.0.layers.0.1.running_mean"], after["trunks.0.layers.0.1.running_mean"])
