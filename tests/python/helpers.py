"""Shared by the tests here: paths, the CLI, and ECG files generated from the real samples."""
import os
import subprocess
from pathlib import Path

import numpy as np

import kalium_core

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = (ROOT / ".." / "shared" / "ecg" / "samples").resolve()
KALIUM = ROOT / "build" / "native" / "bin" / "kalium"
ARCHIVE = ROOT / "scripts" / "archive"
BAD_INPUT = ROOT / "tests" / "bad-input" / "files"


def sample_files():
    """Every sample ECG as `kalium predict` is given them: each non-WFDB file, and each WFDB record by its .hea."""
    files = []
    for p in sorted(SAMPLES.rglob("*")):
        if not p.is_file() or p.name == "MANIFEST.md":
            continue
        if p.parts[len(SAMPLES.parts)] == "wfdb" and p.suffix.lower() != ".hea":
            continue
        files.append(str(p))
    return files


def kalium_predict(paths, fmt="jsonl", processes=2):
    """`kalium predict --format fmt` over paths, split over `processes` processes (as xargs -P would); returns the
    output lines, in the order of paths (CSV: without the header)."""
    chunks = [paths[i::processes] for i in range(processes)]
    procs = [subprocess.Popen([str(KALIUM), "predict", "--format", fmt, "--no-progress", *chunk], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for chunk in chunks if chunk]
    outputs = [p.communicate(timeout=600)[0].splitlines() for p in procs]
    for p in procs:
        assert p.returncode in (0, 1), f"kalium predict exited {p.returncode}"
    if fmt == "csv":
        outputs = [o[1:] for o in outputs]
    lines = [None] * len(paths)
    for i, out in enumerate(outputs):
        assert len(out) == len(chunks[i])
        lines[i::processes] = out
    return lines


def generate_records(folder, count, seed=0):
    """count WFDB records (format 16, 10 s, 12 leads) made from the real 12-lead sample records: each one of them
    scaled, shifted in time and with noise added, written by the core's WFDB writer. Returns the .hea paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bases = []
    for hea in sorted((SAMPLES / "wfdb").rglob("*.hea")):
        rec = kalium_core.read(str(hea))
        leads = rec["lead_names"][:12]
        if leads == kalium_core.standard_leads and rec["samples_uv"].shape[1] >= 10 * rec["fs_hz"]:
            bases.append((rec["samples_uv"][:12, : int(10 * rec["fs_hz"])], rec["fs_hz"]))
    assert len(bases) >= 10, "the 12-lead WFDB samples of ../shared/ecg"
    rng = np.random.default_rng(seed)
    headers = []
    for i in range(count):
        x, fs_hz = bases[i % len(bases)]
        y = np.roll(x, int(rng.integers(0, x.shape[1])), axis=1) * rng.uniform(0.6, 1.4)
        y = (y + rng.normal(0.0, 10.0, y.shape)).astype(np.float32)
        for name, data in kalium_core.write_wfdb(y, fs_hz, kalium_core.standard_leads, f"gen_{i:04d}"):
            (folder / name).write_bytes(data)
        headers.append(str(folder / f"gen_{i:04d}.hea"))
    return headers


def archive(*args, env=None, **kwargs):
    """Runs scripts/archive (bounded); returns the CompletedProcess."""
    return subprocess.run([str(ARCHIVE), *map(str, args)], capture_output=True, text=True, timeout=kwargs.pop("timeout", 300),
                          env=dict(os.environ, **(env or {})), **kwargs)


def bad_files(count):
    """count files of the bad-input corpus that kalium must refuse (tests/bad-input/EXPECTED.tsv: not `ok`), as
    given to the CLI (WFDB by their header), read in place."""
    chosen = []
    for line in (BAD_INPUT.parent / "EXPECTED.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, expected = line.split("\t")[:2]
        if expected != "ok" and not name.endswith((".dat", ".DAT")) and (BAD_INPUT / name).is_file():
            chosen.append(str(BAD_INPUT / name))
    return sorted(chosen)[:count]
