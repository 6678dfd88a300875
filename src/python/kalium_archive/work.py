"""What a Dask worker runs: score a batch of files with one kalium_core.Model per worker process.

The model is loaded on a worker's first batch and kept for the life of the process (a restarted worker loads it
again); its sha256 must be the one the driver checked, so every machine of a cluster scores with the same
weights. A file the core cannot use is not an exception: it is a row {"file", "error", "error_code"}.
"""
import os
import signal
import threading

import kalium_core

_models = {}
_lock = threading.Lock()

# Test-only hook (tests/python/test_archive.py): a file whose base name equals this variable crashes the worker
# process that scores it, with SIGSEGV, as a fault in the C++ core would. Never set it outside the tests.
TEST_CRASH_VARIABLE = "KALIUM_ARCHIVE_TEST_CRASH_ON"


class ModelLoadError(Exception):
    """The worker cannot load the model (missing file, another sha256): no batch can be scored, the run stops."""


def model_for(spec):
    """The worker process's Model for spec = {"path", "sha256", "precision"}, loaded once."""
    key = (spec["path"], spec["sha256"], spec["precision"])
    with _lock:
        model = _models.get(key)
        if model is None:
            try:
                model = kalium_core.Model(spec["path"], threads=1, precision=spec["precision"],
                                          expected_sha256=spec["sha256"])
            except ValueError as e:
                raise ModelLoadError(f"worker pid {os.getpid()}: {e}") from None
            _models[key] = model
        return model


def score_batch(paths, spec):
    """[(file, prediction JSON text)] for each path, in order."""
    model = model_for(spec)
    crash_on = os.environ.get(TEST_CRASH_VARIABLE)
    rows = []
    for path in paths:
        if crash_on and os.path.basename(path) == crash_on:
            os.kill(os.getpid(), signal.SIGSEGV)
        rows.append((path, model.predict_file(path)))
    return rows
