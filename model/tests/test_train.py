"""
Tests of model/train.py: configuration (defaults, file, --key=value, unknown keys), a tiny training run whose
loss falls, an exact resume, and DistributedDataParallel with two processes (torchrun, gloo).

A tiny network (ModelConfig with few, narrow units) on simulated data keeps these within seconds.
Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_train.py
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import train as T

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--model.dense_units=1,1,1,1,1", "--model.growth=8", "--model.bottleneck=16", "--model.stem_channels=8",
        "--real_fraction=0", "--workers=0", "--eval_size=8", "--eval_every=1000", "--threads=1",
        "--model.dropout=0.1"]


def run(tmp_path, *args):
    T.main([f"--out_dir={tmp_path}", *TINY, *args])
    return torch.load(tmp_path / "ckpt.pt", map_location="cpu")


def test_config_precedence_and_unknown_keys(tmp_path):
    cfg_file = tmp_path / "c.json"
    cfg_file.write_text(json.dumps({"lr": 0.01, "batch_size": 3, "model": {"head": "groups"}}))
    c = T.resolve_config([f"--config={cfg_file}", "--lr=0.02", "--model.dense_units=2,2,2,2,2"])
    assert (c.lr, c.batch_size, c.model.head, c.model.dense_units) == (0.02, 3, "groups", (2, 2, 2, 2, 2))
    assert T.TrainConfig().model.head == "regression+groups"
    with pytest.raises(SystemExit, match="unknown setting 'learning_rate'"):
        T.resolve_config(["--learning_rate=1"])
    with pytest.raises(SystemExit, match="unknown setting 'model.width'"):
        T.resolve_config(["--model.width=3"])
    with pytest.raises(SystemExit, match="--key=value"):
        T.resolve_config(["lr=1"])
    assert T.config_from_dict(T.config_dict(c)) == c


def test_tiny_training_run_loss_falls(tmp_path):
    # 16 fixed ECGs (2 batches, cycled): the loss must fall well below where it started
    ckpt = run(tmp_path, "--max_steps=60", "--batch_size=8", "--lr=0.004", "--warmup_steps=5", "--data_batches=2")
    losses = [h["loss"] for h in ckpt["history"] if "loss" in h]
    assert len(losses) == 60
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.6 * first, (first, last)
    assert ckpt["config"]["model"]["growth"] == 8          # the resolved config travels with the weights
    assert json.loads((tmp_path / "summary.json").read_text())["steps"] == 60


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    common = ["--batch_size=4", "--lr=0.003", "--warmup_steps=2", "--checkpoint_every=3"]
    whole = run(tmp_path / "whole", "--max_steps=6", *common)
    run(tmp_path / "parts", "--max_steps=6", "--session_steps=3", *common)
    resumed = run(tmp_path / "parts", "--max_steps=6", *common)
    assert resumed["step"] == whole["step"] == 6
    for name, value in whole["model"].items():
        assert torch.equal(value, resumed["model"][name]), name


PROBE = """
import os, datetime, torch, torch.distributed as dist
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=45))
t = torch.ones(1) * (dist.get_rank() + 1)
dist.all_reduce(t)
assert t.item() == 3.0
dist.destroy_process_group()
"""


def torchrun_cmd(port, *script_and_args):
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
            f"--master_port={port}",
            "--redirects=2", "--tee=2",    # see train.py: torch 1.13's defaults fail under Python 3.11
            *script_and_args]


def free_port():
    with socket.socket() as s:   # a free port, so a leftover or parallel run cannot collide
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_processes(tmp_path):
    # Everything on the loopback interface: gloo otherwise binds to the address the host name resolves to,
    # which on some machines is not reachable from itself and makes the rendezvous wait forever.
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", KALIUM_DIST_TIMEOUT_S="120")
    # First a bare two-process all_reduce without any of our code: if even that cannot run here (a machine
    # whose sandbox forbids the sockets torch.distributed needs), the environment is the problem, not train.py.
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    try:
        p = subprocess.run(torchrun_cmd(free_port(), str(probe)), capture_output=True, text=True, env=env, timeout=90)
        probe_ok, probe_out = p.returncode == 0, p.stderr[-1500:]
    except subprocess.TimeoutExpired as e:
        probe_ok, probe_out = False, f"timed out after 90 s: {(e.stderr or b'')[-1500:]!r}"
    if not probe_ok:
        pytest.skip(f"torch.distributed (gloo) cannot run two processes on this machine: {probe_out}")
    cmd = torchrun_cmd(free_port(), str(ROOT / "model/train.py"), f"--out_dir={tmp_path}", *TINY, "--max_steps=3",
                       "--batch_size=2", "--backend=gloo")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"")[-3000:], (e.stderr or b"")[-3000:]
        pytest.fail(f"torchrun did not finish in 300 s; its output:\n{out[0]!r}\n{out[1]!r}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    ckpt = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert ckpt["step"] == 3 and len(ckpt["torch_rng"]) == 2
    assert json.loads((tmp_path / "summary.json").read_text())["processes"] == 2


def test_ecg12net_2_trains_empnet_alone_from_an_ecg12net_1_file(tmp_path):
    import export as E
    # an ECG12Net-1 file to start from: the tiny net after a few steps, as the shipped one was made
    base = run(tmp_path / "one", "--max_steps=3", "--batch_size=4")
    net1, _ = E.load_checkpoint(tmp_path / "one" / "ckpt.pt")
    E.save_weights(tmp_path / "one.kmodel", net1, "tiny-1", dtype="f32")
    donor, _ = E.load_weights(tmp_path / "one.kmodel")
    two = run(tmp_path / "two", f"--init_from={tmp_path / 'one.kmodel'}", "--freeze_leads=true",
              "--model.emp_features=8", "--max_steps=40", "--batch_size=8", "--lr=0.01", "--warmup_steps=2",
              "--data_batches=2")
    losses = [h["loss"] for h in two["history"] if "loss" in h]
    assert len(losses) == 40 and sum(losses[-8:]) / 8 < sum(losses[:8]) / 8, losses
    # the lead parts are exactly the file's, and EMPNet is in the checkpoint
    for name, value in donor.state_dict().items():
        if name.split(".")[0] in T.LEAD_PARTS:
            assert torch.equal(two["model"][name], value), name
    assert any(k.startswith("emp_net.") for k in two["model"])
    # export and reload: the same outputs, which depend on the EMPs
    net2, _ = E.load_checkpoint(tmp_path / "two" / "ckpt.pt")
    E.save_weights(tmp_path / "two.kmodel", net2, "tiny-2", dtype="f32")
    stored, header = E.load_weights(tmp_path / "two.kmodel")
    assert header["model_config"]["emp_features"] == 8
    x, emp = torch.randn(3, 12, 1250) * 0.3, torch.randn(3, 8)
    with torch.no_grad():
        a, b = net2(x, emp), stored(x, emp)
        c = stored(x, emp + 1.0)
    assert torch.allclose(a["k"], b["k"], atol=1e-5) and torch.allclose(a["group_probs"], b["group_probs"], atol=1e-5)
    assert not torch.allclose(b["k"], c["k"])
    assert torch.allclose(b["lead_attention"].sum(1) + b["emp_attention"], torch.ones(3), atol=1e-6)
    assert base["config"]["model"]["emp_features"] == 0


def test_freeze_leads_needs_empnet_and_a_file(tmp_path):
    with pytest.raises(SystemExit, match="emp_features"):
        run(tmp_path / "a", "--freeze_leads=true", "--max_steps=1")
    with pytest.raises(SystemExit, match="init_from"):
        run(tmp_path / "b", "--freeze_leads=true", "--model.emp_features=8", "--max_steps=1")


def test_per_lead_loss_makes_each_lead_a_potassium_value_and_quarters_are_kept(tmp_path):
    """lead_weight puts each lead's own K+ (lead_k) under the loss: on fixed data its error falls, and ends lower
    than without it; keep_quarters leaves ckpt-q1..q3 beside ckpt.pt."""
    import data
    common = ["--max_steps=40", "--batch_size=8", "--lr=0.004", "--warmup_steps=5", "--data_batches=2", "--seed=3"]
    with_lead = run(tmp_path / "lead", "--lead_weight=1.0", "--keep_quarters=true", *common)
    without = run(tmp_path / "plain", *common)
    assert sorted(p.name for p in (tmp_path / "lead").glob("ckpt-q*.pt")) == ["ckpt-q1.pt", "ckpt-q2.pt", "ckpt-q3.pt"]
    assert any("lead_l1" in h for h in with_lead["history"]) and not any("lead_l1" in h for h in without["history"])

    def lead_error(ckpt):
        import export
        net, _ = export.load_checkpoint(tmp_path / ckpt)
        x, k = data.TrainingBatches(3, 8, real_fraction=0.0)[0]
        with torch.no_grad():
            out = net(torch.from_numpy(x))
        return float((out["lead_k"] - torch.from_numpy(k)[:, None]).abs().mean())
    lead_l1 = [h["lead_l1"] for h in with_lead["history"] if "lead_l1" in h]
    assert sum(lead_l1[-10:]) < 0.9 * sum(lead_l1[:10]), lead_l1
    assert lead_error("lead/ckpt.pt") < lead_error("plain/ckpt.pt")
