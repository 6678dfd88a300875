"""
Tests of the ECG12Net definition in model/model.py against shared/DESIGN.md and shared/bench/RESULTS.md:
shapes, layer and parameter counts, attention, CAMs, BN folding, determinism, multiply-adds, ONNX export.

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests
"""
import onnx
import pytest
import torch
import torch.nn as nn

from model import (ECG12Net, ModelConfig, count_layers, fold_batchnorm, k_group, ordinal_k,
                   ordinal_targets)

REFERENCE_PARAMS = 2_932_760        # RESULTS.md: shared trunk, regression head + attention
REFERENCE_MACS = 2.966e9            # RESULTS.md: multiply-adds per ECG at 12 x 1250


def calibrate_batchnorm(model, *inputs):
    """Give every BN a random affine and the exact statistics of one batch, so that folding and
    the outputs are tested on realistic, non-trivial numbers. Returns the model in eval mode."""
    torch.manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average: after one batch, exactly its statistics
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0.0, 0.1)
    with torch.no_grad():
        model.train()(*inputs)
    return model.eval()


@pytest.fixture(scope="module")
def ecg():
    torch.manual_seed(0)
    return torch.randn(2, 12, 1250)


@pytest.fixture(scope="module")
def reference(ecg):
    torch.manual_seed(0)
    return calibrate_batchnorm(ECG12Net(ModelConfig()), ecg)


@pytest.fixture(scope="module")
def reference_out(reference, ecg):
    with torch.no_grad():
        return reference(ecg)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_output_shapes(reference_out):
    shapes = {name: tuple(t.shape) for name, t in reference_out.items()}
    assert shapes == {"k": (2,), "lead_k": (2, 12), "lead_attention": (2, 12), "features": (2, 12, 864, 20)}


def test_layer_counts():
    expected = {"trunk": 79, "lead_block": 80, "total": 82}   # 1 + 5x3 + 21x3, + lead head, + W_l and v_l
    for config in (ModelConfig(), ModelConfig(head="all"), ModelConfig(shared_trunk=False)):
        assert count_layers(ECG12Net(config)) == expected


def test_parameter_counts(reference):
    assert n_params(reference) == REFERENCE_PARAMS
    # ordinal 60 + groups 5 outputs per lead, each 864 weights and a bias
    assert n_params(ECG12Net(ModelConfig(head="all"))) - REFERENCE_PARAMS == 12 * 65 * 865 == 674_700
    # 12 trunks of 2,839,136 (2,837,408 + the final BN's 1,728) and the same heads
    assert n_params(ECG12Net(ModelConfig(shared_trunk=False))) == 34_163_256


def test_attention_sums_to_one(reference_out):
    alpha = reference_out["lead_attention"]
    assert (alpha > 0).all()
    torch.testing.assert_close(alpha.sum(dim=1), torch.ones(2))


def test_output_is_attention_weighted_lead_estimates(reference_out):
    out = reference_out
    torch.testing.assert_close(out["k"], (out["lead_attention"] * out["lead_k"]).sum(dim=1))


def test_cam(reference, ecg):
    maps = reference.cam(ecg)
    assert maps.shape == (2, 12, 1250)
    assert maps.min() >= 0 and maps.max() <= 1
    torch.testing.assert_close(maps.amax(dim=2), torch.ones(2, 12))


def test_batchnorm_folding(reference, reference_out, ecg):
    folded = fold_batchnorm(reference)
    norms = [m for m in folded.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 1 and norms[0] is folded.trunks[0].layers[-2]   # only the final norm is left
    with torch.no_grad():
        out = folded(ecg)
    for name in ("k", "lead_k", "lead_attention"):
        assert (out[name] - reference_out[name]).abs().max() < 1e-5, name
    features = reference_out["features"]   # up to about 11 here; float32 rounding over 79 layers
    assert (out["features"] - features).abs().max() < 1e-4 * features.abs().max()
    assert n_params(folded) < n_params(reference)


def test_eval_is_deterministic(reference, reference_out, ecg):
    with torch.no_grad():
        again = reference(ecg)
    for name, t in reference_out.items():
        assert torch.equal(again[name], t), name


def test_multiply_adds():
    model = ECG12Net(ModelConfig()).eval()
    macs = []

    def count(conv, inputs, out):
        batch, out_channels, out_len = out.shape
        macs.append(batch * out_len * out_channels * conv.in_channels // conv.groups * conv.kernel_size[0])

    for m in model.modules():
        if isinstance(m, nn.Conv1d):
            m.register_forward_hook(count)
    with torch.no_grad():
        model(torch.randn(1, 12, 1250))
    assert len(macs) == 82   # sum(macs) is 2,966,376,288 here
    assert sum(macs) == pytest.approx(REFERENCE_MACS, rel=0.005)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")   # forward's input-shape assert
def test_onnx_export(reference, ecg, tmp_path):
    folded = fold_batchnorm(reference)
    path = tmp_path / "ecg12net.onnx"
    torch.onnx.export(folded, (ecg[:1],), str(path), opset_version=13,
                      input_names=["ecg"], output_names=["k", "lead_k", "lead_attention", "features"])
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    ops = [node.op_type for node in graph.graph.node]
    assert (ops.count("Conv"), ops.count("Concat"), ops.count("AveragePool")) == (82, 26, 5)
    assert ops.count("BatchNormalization") == 1   # the final norm, which has no conv to fold into
    try:
        import onnxruntime
    except ImportError:
        return  # the graph checks above are all we can do here
    session = onnxruntime.InferenceSession(str(path))
    k, = session.run(["k"], {"ecg": ecg[:1].numpy()})
    with torch.no_grad():
        assert abs(k[0] - folded(ecg[:1])["k"].item()) < 1e-5


def test_all_heads_and_odd_lengths():
    config = ModelConfig(head="all", input_samples=999)   # 999 -> 500 -> 250 -> 125 -> 63 -> 32 -> 16
    torch.manual_seed(0)
    x = torch.randn(2, 12, 999)
    model = calibrate_batchnorm(ECG12Net(config), x)
    with torch.no_grad():
        out = model(x)
    assert out["features"].shape == (2, 12, 864, 16)
    assert out["ordinal_logits"].shape == (2, 60) and out["group_probs"].shape == (2, 5)
    assert ((out["k_ordinal"] >= 1.5) & (out["k_ordinal"] <= 7.5)).all()
    torch.testing.assert_close(out["k_ordinal"], ordinal_k(out["ordinal_logits"]))
    torch.testing.assert_close(out["group_probs"].sum(dim=1), torch.ones(2))
    assert model.cam(x).shape == (2, 12, 999)


def test_shared_and_separate_trunks():
    # the same signal in every lead: one shared trunk gives every lead the same features, 12 trunks do not
    torch.manual_seed(0)
    x = torch.randn(2, 1, 256).repeat(1, 12, 1)
    for shared in (True, False):
        model = calibrate_batchnorm(ECG12Net(ModelConfig(shared_trunk=shared, input_samples=256)), x)
        with torch.no_grad():
            features = model(x)["features"]
        assert features.shape == (2, 12, 864, 4)
        difference = (features[:, 0] - features[:, 11]).abs().max()
        assert difference < 1e-6 if shared else difference > 0.1


def test_emp_net():
    config = ModelConfig(emp_features=8, input_samples=256)
    torch.manual_seed(0)
    x, emp = torch.randn(4, 12, 256), torch.randn(4, 8)
    model = calibrate_batchnorm(ECG12Net(config), x, emp)
    with torch.no_grad():
        out = model(x, emp)
        folded = fold_batchnorm(model)(x, emp)
    torch.testing.assert_close(out["lead_attention"].sum(dim=1) + out["emp_attention"], torch.ones(4))
    assert (out["k"] - folded["k"]).abs().max() < 1e-5


def test_k_groups_and_ordinal_targets():
    k = torch.tensor([1.0, 2.5, 2.6, 3.5, 3.6, 5.4, 5.5, 6.4, 6.5, 9.0])
    assert k_group(k).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    targets = ordinal_targets(torch.tensor([1.0, 1.5, 4.04, 4.06, 7.5, 9.0]))
    decoded = 1.5 + 0.1 * targets.sum(dim=1)
    torch.testing.assert_close(decoded, torch.tensor([1.5, 1.5, 4.0, 4.1, 7.5, 7.5]))
    assert targets[2, :25].all() and not targets[2, 25:].any()   # 4.0: K >= 1.6, ..., 4.0
