"""Lets the tests import model.py the way the scripts beside it do (`from model import ...`)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
