#!/usr/bin/python3
"""tests/fuzz/make-corpus.py: fills build/fuzz/corpus/<target> with seed inputs (run by scripts/fuzz).

Seeds come from the real sample files in ../shared/ecg/samples (copied at fuzz time, never committed), our
own small files in tests/fuzz/seeds/<target>/ and the crafted bad-input corpus in tests/bad-input/files/.
Multi-file targets (fuzz-wfdb, fuzz-read-all, fuzz-prepare) get a header and its signal files joined in the
layout of tests/fuzz/fuzz-util.h ("name\\n" + bytes, files separated by SEPARATOR).

usage: make-corpus.py <repo root> <corpus dir>
"""
import hashlib
import os
import sys

SEPARATOR = b"\n\0KALIUM-NEXT-FILE\0\n"
READERS = ["wfdb", "philips-xml", "ge-muse-xml", "hl7-aecg", "scp-ecg", "dicom", "edf", "csv"]
TARGETS = ["sniff"] + READERS + ["read-all", "prepare", "model-file"]


def joined(files):
    """[(name, bytes)] -> one fuzz input."""
    return SEPARATOR.join(name.encode() + b"\n" + data for name, data in files)


def wfdb_sets(root):
    """Every WFDB header under root with the signal files it names: [(name, bytes)] per record."""
    sets = []
    for d, _, names in sorted(os.walk(root)):
        for n in sorted(names):
            if not n.endswith(".hea"):
                continue
            hea = open(os.path.join(d, n), "rb").read()
            files = [(n, hea)]
            lines = [l for l in hea.decode("latin-1").splitlines() if l.strip() and not l.lstrip().startswith("#")]
            for line in lines[1:]:
                sig = line.split()[0]
                path = os.path.join(d, sig)
                if os.path.isfile(path) and all(sig != f for f, _ in files):
                    files.append((sig, open(path, "rb").read()))
            sets.append(files)
    return sets


def main():
    repo, corpus = sys.argv[1], sys.argv[2]
    samples = os.path.join(repo, "..", "shared", "ecg", "samples")
    seeds = {t: [] for t in TARGETS}  # target -> [bytes]

    def add(target, data):
        seeds[target].append(data)

    if os.path.isdir(samples):
        for fmt in READERS:
            d = os.path.join(samples, fmt)
            if fmt == "wfdb" or not os.path.isdir(d):
                continue
            for n in sorted(os.listdir(d)):
                data = open(os.path.join(d, n), "rb").read()
                for t in (fmt, "sniff"):
                    add(t, data)
                for t in ("read-all", "prepare"):
                    add(t, joined([(n, data)]))
        for files in wfdb_sets(os.path.join(samples, "wfdb")):
            for t in ("wfdb", "read-all", "prepare"):
                add(t, joined(files))
            add("sniff", files[0][1])
    else:
        print(f"make-corpus: {samples} not found: only our own seeds", file=sys.stderr)

    # Our own seeds: tests/fuzz/seeds/<target>/* as they are (multi-file ones are stored joined already).
    own = os.path.join(repo, "tests", "fuzz", "seeds")
    for t in TARGETS:
        d = os.path.join(own, t)
        if os.path.isdir(d):
            for n in sorted(os.listdir(d)):
                add(t, open(os.path.join(d, n), "rb").read())

    # The crafted bad-input corpus: every file for the sniffer, the readers, read-all and prepare (a WFDB
    # header with the signal files of its record name).
    bad = os.path.join(repo, "tests", "bad-input", "files")
    if os.path.isdir(bad):
        names = sorted(os.listdir(bad))
        for n in names:
            data = open(os.path.join(bad, n), "rb").read()
            stem = n.rsplit(".", 1)[0]
            files = [(n, data)]
            if n.endswith(".hea"):
                files += [(m, open(os.path.join(bad, m), "rb").read()) for m in names
                          if m != n and m.rsplit(".", 1)[0] == stem]
            for t in ["sniff"] + READERS:
                add(t, data if t != "wfdb" else joined(files))
            for t in ("read-all", "prepare"):
                add(t, joined(files))

    total = 0
    for t, items in seeds.items():
        d = os.path.join(corpus, t)
        os.makedirs(d, exist_ok=True)
        for data in items:
            # libFuzzer's own naming (sha1 of the content): re-running adds nothing twice.
            path = os.path.join(d, hashlib.sha1(data).hexdigest())
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(data)
        total += len(items)
    print(f"make-corpus: {total} seeds for {len(TARGETS)} targets in {corpus}")


if __name__ == "__main__":
    main()
