"""model/soup.py: the averaged checkpoint's weights are the mean of its inputs', it loads and predicts like any
checkpoint, and checkpoints of different networks are refused."""
import pytest
import torch

import export
import soup
import train as T
from test_train import TINY


def tiny_run(out_dir, *args):
    T.main([f"--out_dir={out_dir}", *TINY, "--max_steps=3", "--batch_size=4", "--data_batches=1", *args])
    return out_dir / "ckpt.pt"


def test_soup_is_the_mean_of_the_weights_and_loads_as_a_network(tmp_path):
    a, b = tiny_run(tmp_path / "a", "--seed=1"), tiny_run(tmp_path / "b", "--seed=2")
    mixed = soup.soup([a, b])
    sa, sb = (torch.load(p, map_location="cpu")["model"] for p in (a, b))
    floats = [k for k, v in sa.items() if v.is_floating_point()]
    differing = [k for k in floats if not torch.equal(sa[k], sb[k])]
    assert len(differing) > 10                          # two seeds: the runs' weights really differ
    for k in floats:
        torch.testing.assert_close(mixed["model"][k], (sa[k] + sb[k]) / 2)
    torch.save(mixed, tmp_path / "soup.pt")
    net, _ = export.load_checkpoint(tmp_path / "soup.pt")
    x = torch.randn(2, 12, 1250)
    with torch.no_grad():
        k = net(x)["k"]
    assert torch.isfinite(k).all() and k.shape == (2,)


def test_checkpoints_of_different_networks_are_refused(tmp_path):
    a = tiny_run(tmp_path / "a")
    b = tiny_run(tmp_path / "b", "--model.growth=4")
    with pytest.raises(ValueError, match="configuration differs"):
        soup.soup([a, b])
