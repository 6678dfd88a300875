"""
Train ECG12Net on generated data (simulated ECGs and real ECGs with K+ imposed; see data.py).

    /usr/bin/python3 model/train.py                                  # the defaults below
    /usr/bin/python3 model/train.py --config=model/runs/shipped.json  # a config file (JSON), then
    /usr/bin/python3 model/train.py --config=... --max_minutes=5      #   --key=value overrides on top
    torchrun --nproc_per_node=2 --redirects=2 --tee=2 model/train.py ...   # DistributedDataParallel (gloo)

On a machine with a GPU the same command trains there (device "auto"; under torchrun each process takes the GPU
of its LOCAL_RANK and the backend is nccl); the data are still generated on the CPUs by `workers` processes per
GPU (model/runs/ecg12net-1-ed-gpu.json: 12 of them). Checkpoints are stored on the CPU, so a run started on a GPU
resumes on a CPU and back; a resume is exact on the same kind of device.

(Debian's torch 1.13 under Python 3.11: torchrun's default --redirects=0/--tee=0 fail to parse, because
Python 3.11 no longer iterates the zero member of its Std flag; any single-bit value such as 2 works.)

Every setting is a field of TrainConfig (defaults here, at the top); an unknown key is an error. The resolved
config is saved in every checkpoint, and a run resumes from out_dir/ckpt.pt when it exists (resume=True):
the data are deterministic per (seed, batch index), so a resumed run sees exactly the batches it would have.
Model settings are the ModelConfig fields, given with a "model." prefix (--model.head=regression+groups).

ECG12Net-2 (model.emp_features=8) gets the 8 ECG measurements the core measures on each generated record
(data.measured_emps); model/runs/ecg12net-2.json starts it from the shipped ECG12Net-1 and trains EMPNet alone.

Loss: L1 on K+ (the paper reports MAE) + group cross-entropy (weight group_weight) when the groups head
is there. Schedule: linear warm-up, then cosine decay to lr * final_lr_fraction over the run's progress,
the larger of steps done / max_steps and minutes spent / max_minutes, so a time-boxed run still anneals.
"""
import dataclasses
import datetime
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from model import ECG12Net, LEAD_PARTS, ModelConfig, fold_lead_parts, k_group  # noqa: E402
import data  # noqa: E402


@dataclass
class TrainConfig:
    out_dir: str = "build/model/run"        # checkpoints and log (relative to the repository root)
    seed: int = 1                           # data and initialisation
    batch_size: int = 16                    # per process
    max_steps: int = 100000
    max_minutes: float = 0.0                # wall-clock budget (0: none); the schedule follows it too
    session_steps: int = 0                  # > 0: stop (and checkpoint) after this many steps in this invocation,
                                            # e.g. to split a run into sessions; the schedule does not change
    lr: float = 2e-3
    final_lr_fraction: float = 0.05
    warmup_steps: int = 50
    weight_decay: float = 1e-4
    grad_clip: float = 2.0
    group_weight: float = 0.5               # cross-entropy weight beside the L1 on K+
    lead_weight: float = 0.0                # L1 of each lead's own K+ (lead_k) against the label: the per-lead
                                            # estimates are read one by one, so each must be a K+ value too
    keep_quarters: bool = False             # also keep ckpt-q1/q2/q3.pt at 1/4, 1/2, 3/4 of the run's progress
    real_fraction: float = 0.5              # share of examples built on real ECGs
    data_batches: int = 0                   # > 0: cycle over this many fixed batches (a finite set); 0: always new
    background_limit: int = 0               # use only the first N backgrounds (0: all 1,095); for tests
    include_sample_backgrounds: bool = True # also the 12-lead records of ../shared/ecg/samples
    sign_matched_backgrounds: bool = False  # AF and visible hypokalemia draw a background showing them
                                            # (data.Backgrounds.pick); False: any background, as steps 1-1c
    workers: int = 1                        # data-generating processes per training process
    threads: int = 0                        # torch threads (0: the machine's cores / processes)
    eval_every: int = 200                   # steps between synthetic held-out evaluations
    eval_size: int = 64                     # held-out examples (seed + 1000, same generator)
    checkpoint_every: int = 100
    resume: bool = True
    backend: str = "auto"                   # DistributedDataParallel backend under torchrun: "auto" is nccl on
                                            # GPUs and gloo on CPUs
    device: str = "auto"                    # "auto": the GPU when torch sees one (under torchrun: LOCAL_RANK's),
                                            # else the CPU; or "cpu", "cuda", "cuda:N"
    init_from: str = ""                     # a .kmodel (relative to the repository root) whose lead blocks,
                                            # attention and heads start this net, e.g. ECG12Net-2 from ECG12Net-1
                                            # (its lead parts arrive BN-folded and stay so)
    freeze_leads: bool = False              # train only EMPNet (model.emp_features > 0): the lead parts stay as
                                            # init_from gave them, in eval mode, so any change is the EMPs' doing
    model: ModelConfig = field(default_factory=lambda: ModelConfig(head="regression+groups", dropout=0.1))


def _coerce(value, like):
    if isinstance(like, bool):
        if value.lower() in ("1", "true", "yes"):
            return True
        if value.lower() in ("0", "false", "no"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if isinstance(like, tuple):
        return tuple(int(v) for v in value.strip("()[] ").split(",") if v)
    return type(like)(value)


def _set(config, key, value, from_text):
    target, name = config, key
    if key.startswith("model."):
        target, name = config.model, key[len("model."):]
    fields = {f.name for f in dataclasses.fields(target)}
    if name not in fields or name == "model":
        known = sorted([f for f in fields if f != "model"] + [f"model.{f.name}" for f in dataclasses.fields(ModelConfig)])
        raise SystemExit(f"train.py: unknown setting {key!r}; settings are: {', '.join(known)}")
    current = getattr(target, name)
    if from_text:
        value = _coerce(value, current)
    elif isinstance(current, tuple):
        value = tuple(value)
    setattr(target, name, value)


def resolve_config(argv):
    """Defaults, then --config=FILE (JSON, flat keys or a "model" object), then --key=value."""
    config = TrainConfig()
    for arg in argv:
        if arg.startswith("--config="):
            with open(arg.split("=", 1)[1]) as f:
                values = json.load(f)
            for key, value in values.items():
                if key == "model":
                    for k, v in value.items():
                        _set(config, f"model.{k}", v, from_text=False)
                else:
                    _set(config, key, value, from_text=False)
    for arg in argv:
        if arg.startswith("--config="):
            continue
        if not arg.startswith("--") or "=" not in arg:
            raise SystemExit(f"train.py: arguments are --key=value, got {arg!r}")
        key, value = arg[2:].split("=", 1)
        _set(config, key, value, from_text=True)
    return config


def config_dict(config):
    return dataclasses.asdict(config)


def config_from_dict(d):
    d = dict(d)
    model = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("model").items()})
    return TrainConfig(**d, model=model)


def loss_fn(out, k_true, group_weight, lead_weight=0.0):
    """L1 on K+ (targets as drawn, 1.5-8.0) + group_weight * cross-entropy over the 5 groups
    + lead_weight * L1 of every lead's own K+ (mean over leads)."""
    parts = {"l1": (out["k"] - k_true).abs().mean()}
    loss = parts["l1"]
    if lead_weight > 0 and "lead_k" in out:
        parts["lead_l1"] = (out["lead_k"] - k_true[:, None]).abs().mean()
        loss = loss + lead_weight * parts["lead_l1"]
    if "group_logits" in out:
        parts["ce"] = F.cross_entropy(out["group_logits"], k_group(k_true))
        loss = loss + group_weight * parts["ce"]
    return loss, parts


class BatchDataset(torch.utils.data.Dataset):
    """Batch number start + i * stride of a TrainingBatches (whole batches: DataLoader batch_size=None)."""

    def __init__(self, batches, start, stride, count, cycle=0):
        self.batches, self.start, self.stride, self.count, self.cycle = batches, start, stride, count, cycle

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        """(x, emp or None, k) as tensors; emp only for ECG12Net-2."""
        index = self.start + i * self.stride
        batch = self.batches.with_emp_slot(index % self.cycle if self.cycle else index)
        return tuple(None if a is None else torch.from_numpy(a) for a in batch)


def evaluation_set(config, backgrounds):
    """The synthetic held-out set: generated with seed + 1000, never used for a gradient step.
    -> (x, emp or None, k) tensors."""
    gen = data.TrainingBatches(config.seed + 1000, config.eval_size, config.real_fraction, backgrounds,
                               emp=config.model.emp_features > 0, sign_matched=config.sign_matched_backgrounds)
    return tuple(None if a is None else torch.from_numpy(a) for a in gen.with_emp_slot(0))


@torch.no_grad()
def evaluate(net, x, k, emp=None, batch=32):
    # Each module's own mode is restored: with frozen leads, train mode is only EMPNet's (set_training_mode).
    modes = {m: m.training for m in net.modules()}
    net.eval()
    device = next(net.parameters()).device
    preds = torch.cat([net(x[i:i + batch].to(device), None if emp is None else emp[i:i + batch].to(device))["k"].cpu()
                       for i in range(0, len(x), batch)])
    for m, training in modes.items():
        m.training = training
    return {"mae": float((preds - k).abs().mean()),
            "group_acc": float((k_group(preds) == k_group(k)).float().mean())}


def build_net(config):
    """The ECG12Net of config.model; with init_from, its lead parts BN-folded and loaded from that file."""
    net = ECG12Net(config.model)
    if config.freeze_leads and not config.model.emp_features:
        raise SystemExit("train.py: freeze_leads trains EMPNet alone and needs model.emp_features > 0")
    if config.freeze_leads and not config.init_from:
        raise SystemExit("train.py: freeze_leads needs init_from (frozen random lead blocks learn nothing)")
    if not config.init_from:
        return net
    import export
    path = Path(config.init_from)
    donor, _ = export.load_weights(path if path.is_absolute() else data.ROOT / path)
    lead_config = dataclasses.replace(config.model, emp_features=0, emp_hidden=donor.config.emp_hidden,
                                      dropout=donor.config.dropout)
    if dataclasses.asdict(donor.config) != dataclasses.asdict(lead_config):
        raise SystemExit(f"train.py: init_from {config.init_from} has model config {dataclasses.asdict(donor.config)}, "
                         f"which differs from this run's lead parts {dataclasses.asdict(lead_config)}")
    fold_lead_parts(net)
    for name in LEAD_PARTS:
        getattr(net, name).load_state_dict(getattr(donor, name).state_dict())
    return net


def set_training_mode(net, freeze_leads):
    """train() for the whole net, or with frozen leads for EMPNet only (lead parts and dropout in eval mode)."""
    net.train()
    if freeze_leads:
        net.eval()
        for name in ("emp_net", "emp_attention", "emp_heads"):
            getattr(net, name).train()


def pick_device(name):
    """config.device -> torch.device: "auto" is this process's GPU when torch sees one (LOCAL_RANK under
    torchrun), else the CPU."""
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"train.py: device {name!r} asked for, but torch sees no GPU")
    return device


def main(argv=None):
    config = resolve_config(sys.argv[1:] if argv is None else argv)
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    device = pick_device(config.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    rank, world = 0, 1
    if distributed:
        # A bounded wait: a rendezvous that cannot complete fails with a message instead of hanging.
        timeout_s = float(os.environ.get("KALIUM_DIST_TIMEOUT_S", "1800"))
        backend = config.backend if config.backend != "auto" else ("nccl" if device.type == "cuda" else "gloo")
        torch.distributed.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    threads = config.threads or max(1, (os.cpu_count() or 1) // world)
    torch.set_num_threads(threads)
    master = rank == 0
    out_dir = data.ROOT / config.out_dir if not os.path.isabs(config.out_dir) else Path(config.out_dir)
    ckpt_path = out_dir / "ckpt.pt"
    if master:
        out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    net = build_net(config).to(device)
    if config.freeze_leads:
        for name in LEAD_PARTS:
            getattr(net, name).requires_grad_(False)
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    step, minutes_before, history = 0, 0.0, []
    if config.resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu")
        saved = config_from_dict(ckpt["config"])
        if dataclasses.asdict(saved.model) != dataclasses.asdict(config.model):
            raise SystemExit(f"train.py: {ckpt_path} was trained with another model config; "
                             "use another out_dir or --resume=false")
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, minutes_before, history = ckpt["step"], ckpt["minutes"], ckpt.get("history", [])
        if "torch_rng" in ckpt:
            torch.set_rng_state(ckpt["torch_rng"][rank % len(ckpt["torch_rng"])])
        if device.type == "cuda" and "cuda_rng" in ckpt:
            torch.cuda.set_rng_state(ckpt["cuda_rng"][rank % len(ckpt["cuda_rng"])])
        if master:
            print(f"resuming {ckpt_path} at step {step} ({minutes_before:.1f} min)", flush=True)
    model = net
    if distributed:
        model = torch.nn.parallel.DistributedDataParallel(net, **({"device_ids": [device]} if device.type == "cuda" else {}))

    need_backgrounds = config.real_fraction > 0
    backgrounds = (data.Backgrounds.load(limit=config.background_limit or None,
                                         include_samples=config.include_sample_backgrounds)
                   if need_backgrounds else None)
    if master and backgrounds is not None:
        print(f"{len(backgrounds)} real backgrounds (validation ECGs excluded)", flush=True)
    batches = data.TrainingBatches(config.seed, config.batch_size, config.real_fraction, backgrounds,
                                   emp=config.model.emp_features > 0, sign_matched=config.sign_matched_backgrounds)
    remaining = max(0, config.max_steps - step)
    if config.session_steps:
        remaining = min(remaining, config.session_steps)
    loader = torch.utils.data.DataLoader(
        BatchDataset(batches, start=step * world + rank, stride=world, count=remaining, cycle=config.data_batches),
        batch_size=None, num_workers=config.workers, **({"prefetch_factor": 4} if config.workers else {}),
        pin_memory=device.type == "cuda",
        generator=torch.Generator().manual_seed(config.seed))   # its own generator: dropout's stays exact on resume
    eval_x, eval_emp, eval_k = evaluation_set(config, backgrounds) if master else (None, None, None)

    def progress(step_now, minutes_now):
        p = step_now / config.max_steps
        if config.max_minutes > 0:
            p = max(p, minutes_now / config.max_minutes)
        return min(p, 1.0)

    def lr_at(step_now, minutes_now):
        if step_now < config.warmup_steps:
            return config.lr * (step_now + 1) / config.warmup_steps
        p = progress(step_now, minutes_now)
        return config.lr * (config.final_lr_fraction + (1 - config.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * p)))

    def gather(state):
        """One rank's generator state -> every rank's (all_gather; the states travel on the backend's device)."""
        if not distributed:
            return [state]
        states = [torch.empty_like(state, device=device) for _ in range(world)]
        torch.distributed.all_gather(states, state.to(device))
        return [s.cpu() for s in states]

    def save():
        rng_states = gather(torch.get_rng_state())  # dropout's generator, per rank, so a resume is exact
        cuda_rng = gather(torch.cuda.get_rng_state(device)) if device.type == "cuda" else None
        if not master:
            return
        tmp = ckpt_path.with_suffix(".tmp")
        state = {name: t.detach().cpu() for name, t in net.state_dict().items()}   # loads on any machine
        torch.save({"model": state, "optimizer": optimizer.state_dict(), "step": step,
                    "minutes": minutes_now(), "config": config_dict(config), "history": history,
                    "torch_rng": rng_states, **({"cuda_rng": cuda_rng} if cuda_rng else {})}, tmp)
        os.replace(tmp, ckpt_path)

    t_start = time.time()
    minutes_now = lambda: minutes_before + (time.time() - t_start) / 60.0
    bar = None
    if master:
        from tqdm import tqdm
        bar = tqdm(total=config.max_steps, initial=step, unit="step", dynamic_ncols=True, mininterval=5)
    examples_seen, t_rate = 0, time.time()
    set_training_mode(net, config.freeze_leads)
    quarters_kept = set(range(1, min(int(progress(step, minutes_before) * 4), 3) + 1))   # passed before a resume
    for x, emp, k in loader:
        done = progress(step, minutes_now()) >= 1.0
        if distributed:   # every rank stops at the same step
            flag = torch.tensor([1.0 if done else 0.0], device=device)   # nccl reduces GPU tensors only
            torch.distributed.all_reduce(flag)
            done = flag.item() > 0
        if done:
            break
        for g in optimizer.param_groups:
            g["lr"] = lr_at(step, minutes_now())
        x, k = x.to(device, non_blocking=True), k.to(device, non_blocking=True)
        emp = None if emp is None else emp.to(device, non_blocking=True)
        out = model(x, emp)
        loss, parts = loss_fn(out, k, config.group_weight, config.lead_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
        optimizer.step()
        step += 1
        examples_seen += len(k) * world
        if master:
            rate = examples_seen / max(time.time() - t_rate, 1e-9)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", l1=f"{parts['l1'].item():.3f}", ecg_s=f"{rate:.2f}")
            history.append({"step": step, "loss": float(loss), **{n: float(v) for n, v in parts.items()},
                            "lr": optimizer.param_groups[0]["lr"], "minutes": minutes_now()})
            if step % config.eval_every == 0:
                metrics = evaluate(net, eval_x, eval_k, eval_emp)
                history[-1].update({f"eval_{n}": v for n, v in metrics.items()})
                bar.write(f"step {step}: held-out synthetic MAE {metrics['mae']:.3f} mEq/L, "
                          f"group accuracy {metrics['group_acc']:.3f}, {rate:.2f} ECG/s")
        if step % config.checkpoint_every == 0:
            save()
        quarter = int(progress(step, minutes_now()) * 4) if config.keep_quarters else 0
        if config.keep_quarters and distributed:   # one decision for all ranks: save() gathers from every one
            q = torch.tensor([float(quarter)], device=device)
            torch.distributed.all_reduce(q, op=torch.distributed.ReduceOp.MAX)
            quarter = int(q.item())
        if config.keep_quarters and 1 <= quarter <= 3 and quarter not in quarters_kept:
            quarters_kept.add(quarter)
            save()
            if master:
                shutil.copyfile(ckpt_path, out_dir / f"ckpt-q{quarter}.pt")
                bar.write(f"step {step}: kept ckpt-q{quarter}.pt")
    if master:
        bar.close()
        metrics = evaluate(net, eval_x, eval_k, eval_emp)
        history.append({"step": step, "minutes": minutes_now(), **{f"eval_{n}": v for n, v in metrics.items()}})
    save()
    if master:
        seconds = max(time.time() - t_rate, 1e-9)
        summary = {"steps": step, "minutes": round(minutes_now(), 2),
                   "ecg_per_s_this_session": round(examples_seen / seconds, 3),
                   "processes": world, "threads_per_process": threads, **metrics}
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        print("done: " + json.dumps(summary), flush=True)
    if distributed:
        torch.distributed.destroy_process_group()
        # Everything is written. Torch 1.13 under gloo sometimes never finishes tearing down a worker once
        # main has returned (seen: rank 1 stuck freeing main's objects, a native thread left, 1 run in 3
        # here), and torchrun then waits for ever; so a worker leaves without that teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
