"""
The browser app's "Try an example" ECGs: one synthetic 12-lead ECG per K+ group, made by kalium's own
simulator (model/simulate.py) from a fixed seed, written as WFDB records (format 16) under web/examples/
with web/examples/index.json listing the files. Purely simulated: no real ECG is read or used.

Usage (from /work/main, with /usr/bin/python3; numpy only):

    /usr/bin/python3 model/make_examples.py            # (re)write web/examples/
    /usr/bin/python3 model/make_examples.py --check    # regenerate in memory, compare bit for bit, exit 1 on a difference

Each record: 10 s at 500 Hz, the 12 standard leads, 1000 ADU/mV (1 uV per unit), about 120 kB of signal.
The header's comments state what the record is (synthetic, its K+, its group, the seed).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simulate import GROUP_NAMES, LEADS, k_group, simulate  # noqa: E402

SEED = 20261202
FS_HZ = 500
DURATION_S = 10.0
GAIN_ADU_PER_MV = 1000
# One K+ per group (mmol/L), inside each group's range: <=2.5, 2.5-3.5, 3.5-5.5, 5.5-6.5, >=6.5.
EXAMPLES = (
    ("example_1_severe_hypokalemia", 2.1, "severe hypokalemia"),
    ("example_2_hypokalemia", 3.0, "hypokalemia"),
    ("example_3_normal", 4.4, "normal"),
    ("example_4_hyperkalemia", 6.0, "hyperkalemia"),
    ("example_5_severe_hyperkalemia", 7.3, "severe hyperkalemia"),
)
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "web", "examples")


def wfdb_files(name, signal_uv, k, label, index):
    """(header text, signal bytes) of one WFDB format-16 record; signal_uv (12, n) in microvolts."""
    adu = np.round(signal_uv * (GAIN_ADU_PER_MV / 1000.0))
    if np.abs(adu).max() > 32767:
        raise ValueError(f"{name}: a sample exceeds the 16-bit range at {GAIN_ADU_PER_MV} ADU/mV")
    adu = adu.astype("<i2")
    n = adu.shape[1]
    lines = [f"{name} {len(LEADS)} {FS_HZ} {n}"]
    for lead, x in zip(LEADS, adu):
        checksum = int(x.astype(np.int64).sum()) & 0xFFFF
        checksum = checksum - 0x10000 if checksum >= 0x8000 else checksum
        lines.append(f"{name}.dat 16 {GAIN_ADU_PER_MV}/mV 16 0 {int(x[0])} {checksum} 0 {lead}")
    lines.append(f"# kalium example {index}: a SYNTHETIC ECG made by model/simulate.py (seed {SEED}), not a real patient")
    lines.append(f"# simulated serum K+ {k:.1f} mmol/L, group {GROUP_NAMES[k_group(k)]} ({label})")
    header = ("\n".join(lines) + "\n").encode("ascii")
    return header, adu.T.tobytes()  # frames: the 12 leads of each sample together


def make_all():
    """{file name: bytes} of every example file and index.json."""
    files = {}
    names = []
    for index, (name, k, label) in enumerate(EXAMPLES):
        if GROUP_NAMES[k_group(k)] != GROUP_NAMES[index]:
            raise ValueError(f"{name}: K+ {k} is not in group {GROUP_NAMES[index]}")
        rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(index,)))
        signal_uv, _ = simulate(k, rng, fs_hz=FS_HZ, duration_s=DURATION_S, noise=True)
        header, data = wfdb_files(name, signal_uv.astype(np.float64), k, label, index + 1)
        files[name + ".hea"] = header
        files[name + ".dat"] = data
        names += [name + ".hea", name + ".dat"]
    index_json = {"note": "Synthetic ECGs made by model/make_examples.py from kalium's simulator; not real patients.",
                  "files": names,
                  "k_plus": {name: k for name, k, _ in EXAMPLES}}
    files["index.json"] = (json.dumps(index_json, indent=2) + "\n").encode("utf-8")
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with web/examples/ instead of writing")
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args(argv)
    files = make_all()
    if args.check:
        different = []
        for name, data in files.items():
            path = os.path.join(args.out, name)
            if not os.path.exists(path) or open(path, "rb").read() != data:
                different.append(name)
        extra = sorted(set(os.listdir(args.out)) - set(files)) if os.path.isdir(args.out) else []
        if different or extra:
            print(f"make_examples: differ: {', '.join(different) or '-'}; not generated: {', '.join(extra) or '-'}")
            return 1
        print(f"make_examples: {len(files)} files identical to {os.path.normpath(args.out)}")
        return 0
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for name, data in files.items():
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"make_examples: wrote {len(files)} files ({total} bytes) to {os.path.normpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
