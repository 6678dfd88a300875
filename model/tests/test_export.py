"""
Tests of model/export.py: the weights file (FORMAT.md) round trip, its checks, the golden vectors, and the ONNX
export against onnxruntime-node (the runtime the engine is benchmarked against).

Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_export.py
"""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import export as E
from model import ECG12Net, ModelConfig
from test_model import calibrate_batchnorm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained_like():
    """A network with non-trivial BN statistics and both heads the shipped model has."""
    torch.manual_seed(3)
    x = torch.randn(4, 12, 1250) * 0.3
    net = calibrate_batchnorm(ECG12Net(ModelConfig(head="regression+groups")), x)
    return net, x


def test_f32_round_trip_is_bit_exact(trained_like, tmp_path):
    net, x = trained_like
    path = tmp_path / "n.kmodel"
    E.save_weights(path, net, "test", dtype="f32")
    loaded, header = E.load_weights(path)
    want = E.engine_state(E.engine_network(net))
    got = E.engine_state(loaded)
    assert set(got) == set(want)
    for name in want:
        assert np.array_equal(got[name], want[name]), name
    with torch.no_grad():
        a, b = E.engine_network(net)(x), loaded(x)
    assert torch.equal(a["k"], b["k"]) and torch.equal(a["group_probs"], b["group_probs"])
    assert header["model_config"]["head"] == "regression+groups" and header["batchnorm_folded"]


def test_f16_round_trip_is_the_fp16_rounding(trained_like, tmp_path):
    net, x = trained_like
    path = tmp_path / "n16.kmodel"
    E.save_weights(path, net, "test", dtype="f16")
    loaded, _ = E.load_weights(path)
    want = E.engine_state(E.engine_network(net))
    for name, value in E.engine_state(loaded).items():
        assert np.array_equal(value, want[name].astype(np.float16).astype(np.float32)), name
    with torch.no_grad():
        dk = (E.engine_network(net)(x)["k"] - loaded(x)["k"]).abs().max().item()
    assert dk < 0.01            # fp16 storage moves K+ by far less than its display precision
    size_mb = path.stat().st_size / 1e6
    assert 5.5 < size_mb < 6.5  # 2.99 M parameters x 2 bytes + header


def test_the_file_layout_is_what_format_md_says(trained_like, tmp_path):
    net, _ = trained_like
    path = tmp_path / "n.kmodel"
    E.save_weights(path, net, "test", dtype="f16")
    raw = path.read_bytes()
    assert raw[:8] == b"KALIUMNN"
    version, header_len = np.frombuffer(raw[8:16], "<u4")
    assert version == 1
    header = json.loads(raw[16:16 + header_len])
    data_start = (16 + header_len + 63) // 64 * 64
    first = header["tensors"][0]
    assert first["offset"] % 64 == 0 and first["dtype"] == "f16"
    stem = E.engine_state(E.engine_network(net))[first["name"]]
    stored = np.frombuffer(raw, "<f2", stem.size, data_start + first["offset"]).reshape(stem.shape)
    assert np.array_equal(stored, stem.astype(np.float16))
    assert header["tensors"][-1]["offset"] + header["tensors"][-1]["nbytes"] + data_start == len(raw)


def test_bad_files_are_refused_with_a_reason(trained_like, tmp_path):
    net, _ = trained_like
    good = tmp_path / "n.kmodel"
    E.save_weights(good, net, "test", dtype="f16")
    raw = good.read_bytes()
    bad = tmp_path / "bad.kmodel"
    bad.write_bytes(b"NOTKALIU" + raw[8:])
    with pytest.raises(ValueError, match="not a kalium weights file"):
        E.load_weights(bad)
    bad.write_bytes(raw[:8] + np.array([2], "<u4").tobytes() + raw[12:])
    with pytest.raises(ValueError, match="format version 2"):
        E.load_weights(bad)
    bad.write_bytes(raw[:-100])
    with pytest.raises(ValueError, match="out of bounds"):
        E.load_weights(bad)
    other = tmp_path / "other.kmodel"     # a file for another config than its header says
    header, tensors = E.read_container(good)
    header["model_config"]["growth"] = 16
    E.write_container(other, {k: v for k, v in header.items() if k != "tensors"}, tensors, "f16")
    with pytest.raises(ValueError, match="shape"):
        E.load_weights(other)


def test_golden_outputs_match_the_network(trained_like):
    net, x = trained_like
    folded = E.engine_network(net)
    g = E.golden_outputs(folded, x.numpy())
    assert g["cam"].shape == (4, 12, 1250) and g["cam"].min() >= 0 and g["cam"].max() <= 1
    np.testing.assert_allclose(g["lead_attention"].sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(g["group_probs"].sum(1), 1.0, atol=1e-6)


def test_onnx_matches_pytorch_on_onnxruntime(trained_like, tmp_path):
    net, x = trained_like
    folded = E.engine_network(net)
    onnx_path, input_path = tmp_path / "n.onnx", tmp_path / "x.f32"
    E.export_onnx(folded, onnx_path)
    x.numpy().astype("<f4").tofile(input_path)
    assert (ROOT / "node_modules" / "onnxruntime-node").exists(), "run ./scripts/setup (npm ci)"
    run = subprocess.run(["node", str(ROOT / "model/tests/onnx-run.mjs"), str(onnx_path), str(input_path),
                          *map(str, x.shape)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    with torch.no_grad():
        want = folded(x)
    for name in ("k", "group_probs", "lead_k", "lead_attention"):
        np.testing.assert_allclose(np.array(got[name]).reshape(want[name].shape), want[name].numpy(),
                                   atol=1e-4, rtol=0, err_msg=name)
