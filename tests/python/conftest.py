"""Tests of the Python side of the native build: kalium_core (src/python/module.cpp) and kalium_archive
(src/python/kalium_archive). They import both from the checkout, as scripts/archive does, and read the sample
ECGs in place from ../shared/ecg. Run: /usr/bin/python3 -m pytest -q tests/python (after the native build)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIR = os.environ.get("KALIUM_PYTHON_DIR", str(ROOT / "build" / "native" / "python"))
for path in (str(ROOT / "src" / "python"), PYTHON_DIR):
    if path not in sys.path:
        sys.path.insert(0, path)
