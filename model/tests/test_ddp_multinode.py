"""
Multi-node training, the way it runs on several machines: two torchrun launchers ("nodes", one process each)
meet through torchrun's c10d rendezvous on the loopback interface and train model/train.py together with
DistributedDataParallel (gloo); then both are started again on the same out_dir and resume from the checkpoint
rank 0 wrote. That out_dir is what must be on shared storage across machines: every rank reads ckpt.pt when it
starts (README, "Training on several machines").

Every address given is 127.0.0.1 (random free ports) and gloo uses the loopback interface, but torch 1.13's
TCPStore (the rendezvous's and the process group's) listens on every interface: it has no bind address. Those
two ports are open for the seconds the test runs. Bounded by timeouts; a tiny network keeps it to seconds.
Run: cd /work/main && /usr/bin/python3 -m pytest -q model/tests/test_ddp_multinode.py
"""
import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
# The same tiny network as test_train.py (a few narrow units, simulated data only, no loader processes).
TINY = ["--model.dense_units=1,1,1,1,1", "--model.growth=8", "--model.bottleneck=16", "--model.stem_channels=8",
        "--real_fraction=0", "--workers=0", "--eval_size=8", "--eval_every=1000", "--threads=1",
        "--model.dropout=0.1", "--batch_size=2", "--backend=gloo", "--checkpoint_every=2"]
RUN_TIMEOUT_S = 240


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_cmd(rdzv_port, run_id, *train_args):
    # One "machine": torchrun with --nnodes=2 finds the other through the c10d rendezvous (a TCP store that the
    # first launcher to start hosts at the endpoint); --redirects/--tee: see model/train.py (torch 1.13, Python 3.11).
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1",
            "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{rdzv_port}", f"--rdzv_id={run_id}",
            "--max_restarts=0", "--redirects=2", "--tee=2",
            str(ROOT / "model/train.py"), *train_args]


def run_two_nodes(out_dir, run_id, *train_args):
    """Starts both nodes, waits for both (bounded); returns their (returncode, output)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", KALIUM_DIST_TIMEOUT_S="120")
    port = free_port()
    args = [f"--out_dir={out_dir}", *TINY, *train_args]
    nodes = []
    for _ in range(2):
        nodes.append(subprocess.Popen(node_cmd(port, run_id, *args), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, start_new_session=True))
        time.sleep(0.5)
    results = []
    deadline = time.monotonic() + RUN_TIMEOUT_S
    for p in nodes:
        try:
            out, _ = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append((p.returncode, out))
        except subprocess.TimeoutExpired:
            for q in nodes:
                if q.poll() is None:
                    os.killpg(q.pid, 9)   # each node in its own session: its training process goes too
            out = [q.communicate()[0] for q in nodes]
            pytest.fail(f"two-node torchrun did not finish in {RUN_TIMEOUT_S} s:\n" + "\n----\n".join(o[-2000:] for o in out))
    return results


@pytest.fixture(scope="module")
def loopback_master():
    # torch 1.13's c10d rendezvous gives the workers rank 0's fully qualified host name as MASTER_ADDR (it has
    # no option to name an address); these loopback "nodes" can only meet where that name is this machine.
    name = socket.getfqdn(socket.gethostname())
    try:
        addresses = {ipaddress.ip_address(a[4][0]) for a in socket.getaddrinfo(name, None)}
    except socket.gaierror as e:
        pytest.skip(f"this machine's host name {name!r} does not resolve ({e}): torch's c10d rendezvous needs it")
    if not any(a.is_loopback for a in addresses):
        pytest.skip(f"{name!r} resolves to {sorted(map(str, addresses))}, not loopback: this test stays on loopback")
    return name


def test_two_nodes_train_together_and_resume_from_shared_out_dir(tmp_path, loopback_master):
    shared = tmp_path / "shared-out"   # on several machines: a shared file system mounted at the same path
    first = run_two_nodes(shared, "kalium-test-a", "--max_steps=3")
    for code, out in first:
        assert code == 0, out[-3000:]
    ckpt = torch.load(shared / "ckpt.pt", map_location="cpu")
    assert ckpt["step"] == 3
    assert len(ckpt["torch_rng"]) == 2           # one generator state per rank: two processes, one per node
    summary = json.loads((shared / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 3
    weights_after_3 = {k: v.clone() for k, v in ckpt["model"].items()}

    # Both nodes again, a longer run on the same out_dir: every rank resumes from ckpt.pt at step 3.
    second = run_two_nodes(shared, "kalium-test-b", "--max_steps=5")
    for code, out in second:
        assert code == 0, out[-3000:]
    assert any("resuming" in out and "at step 3" in out for _, out in second), [o[-1500:] for _, o in second]
    ckpt = torch.load(shared / "ckpt.pt", map_location="cpu")
    assert ckpt["step"] == 5 and len(ckpt["torch_rng"]) == 2
    assert [h["step"] for h in ckpt["history"] if "loss" in h] == [1, 2, 3, 4, 5]
    assert any(not torch.equal(weights_after_3[k], v) for k, v in ckpt["model"].items())
