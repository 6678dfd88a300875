"""
Export a trained ECG12Net: the weights file the C++ engine loads (model/FORMAT.md), its sha256 manifest, the
same network as ONNX (for the benchmark against onnxruntime), and golden input/output vectors for the engine's
parity tests.

    /usr/bin/python3 model/export.py build/model/ecg12net-1/ckpt.pt --name=ecg12net-1 --out=model
        -> model/ecg12net-1.kmodel (fp16), model/ecg12net-1.kmodel.sha256,
           model/golden/ecg12net-1.golden (fp32 inputs and expected outputs)
    /usr/bin/python3 model/export.py CKPT --name=N --out=DIR --dtype=f32 --onnx=DIR/N.onnx

    from export import save_weights, load_weights
    net, header = load_weights("model/ecg12net-1.kmodel")   # the BN-folded eval network, fp16 widened to fp32

What is stored is the network the engine runs: batch norm folded into the convolutions and linear maps
(model.fold_batchnorm); the trunk's final BN (after a concatenation) stays as a per-channel BN.
"""
import argparse
import dataclasses
import hashlib
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from model import ECG12Net, GROUP_NAMES, ModelConfig, fold_batchnorm, fold_lead_parts  # noqa: E402

MAGIC = b"KALIUMNN"
FORMAT_VERSION = 1
ALIGNMENT = 64
DTYPES = {"f32": (np.float32, 4), "f16": (np.float16, 2)}


def _align(n):
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def write_container(path, header, tensors, dtype):
    """tensors: ordered dict name -> float ndarray, written as `dtype` ("f32" | "f16"). See FORMAT.md."""
    np_dtype, _ = DTYPES[dtype]
    entries, blobs, offset = [], [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(np.asarray(value, dtype=np_dtype)).astype("<" + np.dtype(np_dtype).str[1:])
        offset = _align(offset)
        entries.append({"name": name, "shape": list(data.shape), "dtype": dtype, "offset": offset,
                        "nbytes": data.nbytes})
        blobs.append((offset, data.tobytes()))
        offset += data.nbytes
    header = dict(header, tensors=entries)
    header_bytes = json.dumps(header, indent=1, sort_keys=False).encode("utf-8")
    data_start = _align(len(MAGIC) + 8 + len(header_bytes))
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<II", FORMAT_VERSION, len(header_bytes)))
        f.write(header_bytes)
        f.write(b"\0" * (data_start - f.tell()))
        for off, blob in blobs:
            f.write(b"\0" * (data_start + off - f.tell()))
            f.write(blob)


def read_container(path):
    """-> (header dict, {name: float32 ndarray}); checks magic, version and every tensor's bounds."""
    raw = Path(path).read_bytes()
    if raw[:8] != MAGIC:
        raise ValueError(f"{path}: not a kalium weights file (magic {raw[:8]!r})")
    version, header_len = struct.unpack_from("<II", raw, 8)
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {version}, this reader knows {FORMAT_VERSION}")
    header = json.loads(raw[16:16 + header_len].decode("utf-8"))
    data_start = _align(16 + header_len)
    tensors = {}
    for e in header["tensors"]:
        np_dtype, size = DTYPES[e["dtype"]]
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        start = data_start + e["offset"]
        if e["nbytes"] != count * size or start + e["nbytes"] > len(raw):
            raise ValueError(f"{path}: tensor {e['name']} out of bounds")
        tensors[e["name"]] = np.frombuffer(raw, "<" + np.dtype(np_dtype).str[1:], count, start).reshape(e["shape"]).astype(np.float32)
    return header, tensors


def engine_network(net):
    """The BN-folded eval copy of a trained network: what is stored and what the engine computes."""
    return fold_batchnorm(net).eval()


def engine_state(folded):
    """Named tensors of the folded network (batch-norm step counters dropped)."""
    return {name: t.detach().numpy() for name, t in folded.state_dict().items()
            if not name.endswith("num_batches_tracked")}


def save_weights(path, net, name, dtype="f16", training=None, extra_header=None):
    """Writes the BN-folded network; returns the header written. extra_header: more header keys (e.g. the
    "k_distribution" of model/ship.py)."""
    folded = engine_network(net)
    config = dataclasses.asdict(net.config)
    header = {"format": "kalium-ecg12net", "name": name, "model_config": config,
              "input": {"leads": ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"],
                        "samples": net.config.input_samples, "fs_hz": 500.0, "units": "mV"},
              "groups": list(GROUP_NAMES), "batchnorm_folded": True, "training": training or {}}
    if net.config.emp_features:      # ECG12Net-2: how its 8 inputs are made from the measurements (data.py)
        import data
        header["emp_standardisation"] = {"keys": list(data.EMP_KEYS), "clip": data.EMP_CLIP,
                                         "centre_spread": {k: list(v) for k, v in data.EMP_STANDARDISATION.items()}}
    header.update(extra_header or {})
    write_container(path, header, engine_state(folded), dtype)
    return header


def load_weights(path):
    """-> (BN-folded ECG12Net in eval mode, header). fp16 tensors are widened to fp32."""
    header, tensors = read_container(path)
    config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in header["model_config"].items()})
    folded = fold_batchnorm(ECG12Net(config))      # the folded structure (BN -> Identity)
    state = folded.state_dict()
    expected = {k for k in state if not k.endswith("num_batches_tracked")}
    if set(tensors) != expected:
        missing, extra = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
        raise ValueError(f"{path}: tensors do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
    for k, v in tensors.items():
        if tuple(state[k].shape) != v.shape:
            raise ValueError(f"{path}: tensor {k} has shape {v.shape}, the config needs {tuple(state[k].shape)}")
        state[k] = torch.from_numpy(v.copy())
    folded.load_state_dict(state)
    return folded.eval(), header


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_checkpoint(path):
    """A train.py checkpoint -> (ECG12Net in eval mode, its checkpoint dict)."""
    ckpt = torch.load(path, map_location="cpu")
    m = ckpt["config"]["model"]
    config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in m.items()})
    net = ECG12Net(config)
    if ckpt["config"].get("init_from"):        # lead parts started BN-folded from a .kmodel (train.build_net)
        fold_lead_parts(net)
    net.load_state_dict(ckpt["model"])
    return net.eval(), ckpt


class OnnxWrapper(torch.nn.Module):
    """Plain tensor outputs for ONNX: k, group_probs (if any), lead_k, lead_attention."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        out = self.net(x)
        names = [n for n in ("k", "group_probs", "lead_k", "lead_attention") if n in out]
        return tuple(out[n] for n in names)


def onnx_output_names(net):
    return ["k"] + (["group_probs"] if "groups" in net.heads else []) + ["lead_k", "lead_attention"]


def export_onnx(net, path, batch=1):
    """The BN-folded network as ONNX (opset 13), input "ecg" (batch, 12, 1250)."""
    wrapper = OnnxWrapper(net).eval()
    x = torch.zeros(batch, net.config.n_leads, net.config.input_samples)
    torch.onnx.export(wrapper, (x,), str(path), input_names=["ecg"], output_names=onnx_output_names(net),
                      opset_version=13, do_constant_folding=True,
                      dynamic_axes={"ecg": {0: "batch"}, **{n: {0: "batch"} for n in onnx_output_names(net)}})


def golden_inputs(n_per_group=1, seed=7):
    """Network inputs for the parity tests, made by this project: simulated ECGs (one per K+ group) prepared
    by the core. -> (inputs (n, 12, 1250) float32 mV, K+ of each)."""
    import data
    import simulate as sim
    kc = data.core()
    ks = np.array([2.0, 3.0, 4.5, 6.0, 7.2] * n_per_group)
    xs, _ = sim.simulate_batch(ks, seed=seed)
    return np.stack([kc.prepare_input(x, 500.0)["values_mv"] for x in xs]), ks


@torch.no_grad()
def golden_outputs(net, x):
    t = torch.from_numpy(x)
    out = net(t)
    result = {"input": x, "k": out["k"].numpy(), "lead_k": out["lead_k"].numpy(),
              "lead_attention": out["lead_attention"].numpy(), "cam": net.cam(t).numpy()}
    if "group_probs" in out:
        result["group_probs"] = out["group_probs"].numpy()
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a train.py checkpoint (ckpt.pt)")
    ap.add_argument("--name", required=True, help="model name, e.g. ecg12net-1")
    ap.add_argument("--out", default=str(HERE), help="folder for NAME.kmodel and NAME.kmodel.sha256")
    ap.add_argument("--dtype", default="f16", choices=sorted(DTYPES))
    ap.add_argument("--onnx", help="also write the network as ONNX here")
    ap.add_argument("--golden", default=None, help="golden vectors file (default OUT/golden/NAME.golden)")
    args = ap.parse_args(argv)

    net, ckpt = load_checkpoint(args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{args.name}.kmodel"
    training = {"steps": ckpt["step"], "minutes": round(ckpt["minutes"], 1), "config": ckpt["config"],
                **({"adabn": ckpt["adabn"]} if "adabn" in ckpt else {})}
    save_weights(weights, net, args.name, args.dtype, training)
    digest = sha256_of(weights)
    (out / f"{args.name}.kmodel.sha256").write_text(f"{digest}  {weights.name}\n")
    print(f"{weights}: {weights.stat().st_size} bytes, sha256 {digest}")

    # Golden vectors from the network as stored (fp16 weights widened), so the engine can match them exactly.
    stored, _ = load_weights(weights)
    x, ks = golden_inputs()
    golden = Path(args.golden) if args.golden else out / "golden" / f"{args.name}.golden"
    golden.parent.mkdir(parents=True, exist_ok=True)
    write_container(golden, {"format": "kalium-golden", "model": args.name, "model_sha256": digest,
                             "k_simulated": ks.tolist()}, golden_outputs(stored, x), "f32")
    print(f"{golden}: {len(x)} inputs")
    if args.onnx:
        export_onnx(stored, args.onnx)
        print(f"{args.onnx}: ONNX opset 13")


if __name__ == "__main__":
    main()
