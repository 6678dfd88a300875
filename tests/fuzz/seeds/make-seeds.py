#!/usr/bin/python3
"""tests/fuzz/seeds/make-seeds.py: writes our own tiny seed inputs into tests/fuzz/seeds/<target>/ (committed).

The crafted bad-input corpus (tests/bad-input) seeds every reader too; these add what it lacks: weights files
for fuzz-model-file, and WFDB records in the multi-file layout of fuzz-util.h (formats 212 and 8, a .mat v4
wrapper) for fuzz-wfdb, fuzz-read-all and fuzz-prepare. Deterministic.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEPARATOR = b"\n\0KALIUM-NEXT-FILE\0\n"


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def joined(files):
    return SEPARATOR.join(n.encode() + b"\n" + d for n, d in files)


def kmodel(tensors):
    """A weights container (model/FORMAT.md): magic, version, header length, JSON header, 64-byte aligned data."""
    entries, data = [], b""
    for name, shape, dtype, payload in tensors:
        entries.append({"name": name, "shape": shape, "dtype": dtype, "offset": len(data), "nbytes": len(payload)})
        data += payload + bytes(-len(payload) % 64)
    header = json.dumps({"format": "kalium-weights", "model_config": {"name": "tiny"}, "tensors": entries}).encode()
    out = b"KALIUMNN" + struct.pack("<II", 1, len(header)) + header
    return out + bytes(-len(out) % 64) + data


write("model-file", "two-tensors.kmodel", kmodel([("w", [2, 2], "f32", struct.pack("<4f", 1, -2, 0.5, 3)),
                                                 ("h", [3], "f16", struct.pack("<3H", 0x3C00, 0x8001, 0x7C00))]))
write("model-file", "empty-list.kmodel", kmodel([]))

# WFDB: 3 leads, 8 frames, format 212 (two 12-bit samples in three bytes) and format 8 (first differences).
samples = [[(f * 37 + s * 11) % 200 - 100 for s in range(3)] for f in range(8)]
flat = [v for frame in samples for v in frame]
f212 = b"".join(bytes([a & 0xFF, ((a >> 8) & 0x0F) | ((b >> 4) & 0xF0), b & 0xFF]) for a, b in zip(flat[0::2], flat[1::2]))
hea212 = "t212 3 500 8\n" + "".join(f"t212.dat 212 200/mV 12 0 {flat[s]} 0 0 {l}\n" for s, l in enumerate(["I", "II", "V1"]))
write("wfdb", "format-212", joined([("t212.hea", hea212.encode()), ("t212.dat", f212)]))
diffs = bytes((flat[i] - (flat[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(flat)))
hea8 = "t8 3 250 8\n" + "".join(f"t8.dat 8 100/mV 8 0 0 0 0 {l}\n" for l in ["I", "II", "V1"])
write("wfdb", "format-8", joined([("t8.hea", hea8.encode()), ("t8.dat", diffs)]))
# A MATLAB v4 .mat wrapper (int16 matrix, 3 rows x 8 columns) as the PhysioNet Challenges write them.
mat = struct.pack("<iiiii", 30, 3, 8, 0, 4) + b"val\0" + struct.pack(f"<{len(flat)}h", *[samples[c][r] for c in range(8) for r in range(3)])
heamat = "tm 3 500 8\n" + "".join(f"tm.mat 16+24 1000/mV 16 0 0 0 0 {l}\n" for l in ["I", "II", "V1"])
write("wfdb", "mat-v4", joined([("tm.hea", heamat.encode()), ("tm.mat", mat)]))
for target in ("read-all", "prepare"):
    write(target, "wfdb-and-csv", joined([("t212.hea", hea212.encode()), ("t212.dat", f212), ("x.csv", b"I,II\n1,2\n3,4\n")]))
print("make-seeds.py: seeds written under", HERE)
