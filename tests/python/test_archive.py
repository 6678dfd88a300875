"""kalium_archive on a LocalCluster (2 worker processes, everything on 127.0.0.1), as a user runs it through
scripts/archive: its rows equal `kalium predict` on the same files; a SIGKILLed worker, a file that crashes its
worker and a killed driver lose nothing and duplicate nothing; every listening socket is on loopback.

Bounded: each run has a timeout; the corpus is a few hundred generated WFDB records plus the samples and some
bad files. Run: /usr/bin/python3 -m pytest -q tests/python/test_archive.py (after the native build)."""
import ipaddress
import json
import os
import signal
import sqlite3
import subprocess
import time

import psutil
import pytest

from helpers import ARCHIVE, SAMPLES, archive, bad_files, generate_records, kalium_predict

GENERATED = 240
RUN_TIMEOUT_S = 300
# Dask's scheduler gives up on a task after this many worker deaths (default 3); 1 keeps the crash test short.
FAST_FAILURE = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    return folder, generate_records(folder, GENERATED)


def rows(db_path):
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT file, ok, json FROM results").fetchall()


def count_rows(db_path):
    try:
        with sqlite3.connect(db_path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def start(*args, env=None):
    """scripts/archive in its own session (so the test can kill it and its worker processes together)."""
    return subprocess.Popen([str(ARCHIVE), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})), start_new_session=True)


def finish(proc):
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"kalium_archive did not finish in {RUN_TIMEOUT_S} s:\n{err[-3000:]}")
    return proc.returncode, out, err


def wait_for_rows(db_path, at_least, proc, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {at_least} rows: {proc.stderr.read()[-3000:]}")
        n = count_rows(db_path)
        if n >= at_least:
            return n
        time.sleep(0.05)
    pytest.fail(f"fewer than {at_least} rows after {timeout_s} s")


def test_rows_equal_kalium_predict_on_the_same_files(generated, tmp_path):
    folder, headers = generated
    bad = bad_files(12)
    (tmp_path / "bad.txt").write_text("# bad files, read in place\n" + "\n".join(bad) + "\n")
    db = tmp_path / "r.sqlite"
    summary = tmp_path / "summary.json"
    r = archive("score", "--out", db, "--workers", "2", "--summary-json", summary, folder, SAMPLES, f"@{tmp_path / 'bad.txt'}")
    assert r.returncode == 1, r.stderr           # 1: some files failed (the bad ones), each with its row
    found = {f: (ok, j) for f, ok, j in rows(db)}
    # The folders' WFDB records are scored by their header only (signal and annotation files go with it).
    assert {f for f in found if f.startswith(str(folder))} == set(headers)
    assert not any(f.endswith((".dat", ".mat", ".xyz")) for f in found)
    assert set(bad) <= set(found)
    files = sorted(found)
    expected = dict(zip(files, kalium_predict(files)))
    for f in files:
        assert found[f][1] == expected[f], f     # the very line `kalium predict --format jsonl` prints
    ok = sum(o for o, _ in found.values())
    assert ok >= GENERATED + 35 and len(found) - ok >= 12 + 3
    s = json.loads(summary.read_text())
    assert (s["scored"], s["failed"], s["already"], s["workers"]) == (ok, len(found) - ok, 0, 2)
    # export: JSONL is the stored lines by file; CSV is `kalium predict --format csv`, row for row
    jsonl = archive("export", "--jsonl", db)
    assert jsonl.returncode == 0 and jsonl.stdout.splitlines() == [expected[f] for f in files]
    csv_out = archive("export", "--csv", db).stdout.splitlines()
    cli_csv = subprocess.run([str(ARCHIVE.parent.parent / "build/native/bin/kalium"), "predict", "--format", "csv",
                              "--no-progress", *files[:40]], capture_output=True, text=True, timeout=300).stdout.splitlines()
    assert csv_out[0] == cli_csv[0]
    assert csv_out[1:41] == cli_csv[1:]


def listening_addresses(root):
    """The local addresses of every listening TCP socket of root and its descendants."""
    found = []
    for p in [root, *root.children(recursive=True)]:
        try:
            found += [(p.pid, c.laddr.ip) for c in p.connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        except psutil.NoSuchProcess:
            pass
    return found


def test_a_sigkilled_worker_loses_nothing_and_every_socket_is_on_loopback(generated, tmp_path):
    folder, headers = generated
    db = tmp_path / "r.sqlite"
    proc = start("score", "--out", db, "--workers", "2", "--batch-size", "8", "--summary-json", tmp_path / "s.json", folder)
    try:
        at_kill = wait_for_rows(db, 16, proc)
        driver = psutil.Process(proc.pid)
        sockets = listening_addresses(driver)
        # the driver's children that run Dask workers (spawned by multiprocessing); the scheduler and nannies
        # live in the driver process
        workers = [c for c in driver.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
        assert len(workers) == 2, [c.cmdline() for c in driver.children(recursive=True)]
        workers[0].send_signal(signal.SIGKILL)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    code, _, err = finish(proc)
    assert code == 0, err[-3000:]
    assert at_kill < GENERATED                         # the worker died mid-run
    # scheduler, 2 nannies, 2 workers and their HTTP servers: all listening, all on loopback
    assert len(sockets) >= 5, sockets
    assert all(ipaddress.ip_address(ip).is_loopback for _, ip in sockets), sockets
    got = rows(db)
    assert len(got) == GENERATED and {f for f, _, _ in got} == set(headers)   # exactly one row each, none missing
    assert all(ok for _, ok, _ in got)


def test_a_file_that_crashes_its_worker_is_one_error_row(generated, tmp_path):
    folder, headers = generated
    chosen = headers[:100]
    crasher = os.path.basename(chosen[37])
    db = tmp_path / "r.sqlite"
    env = {"KALIUM_ARCHIVE_TEST_CRASH_ON": crasher, **FAST_FAILURE}
    r = archive("score", "--out", db, "--workers", "2", "--batch-size", "16", "--summary-json", tmp_path / "s.json",
                *chosen, env=env, timeout=RUN_TIMEOUT_S)
    assert r.returncode == 1, r.stderr[-3000:]
    got = {f: (ok, json.loads(j)) for f, ok, j in rows(db)}
    assert set(got) == set(chosen)
    errors = {f: j for f, (ok, j) in got.items() if not ok}
    assert list(errors) == [chosen[37]]
    assert errors[chosen[37]]["error_code"] == "worker_died" and crasher in errors[chosen[37]]["error"]
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["split"] >= 1 and s["failed"] == 1 and s["scored"] == 99
    assert "scoring them one by one" in r.stderr


def test_a_killed_driver_resumes_without_duplicates(generated, tmp_path):
    folder, headers = generated
    db = tmp_path / "r.sqlite"
    proc = start("score", "--out", db, "--workers", "2", "--batch-size", "8", folder)
    try:
        wait_for_rows(db, GENERATED // 3, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)           # the driver and its worker processes, mid-run
        proc.communicate()
    before = count_rows(db)
    assert GENERATED // 3 <= before < GENERATED
    r = archive("score", "--out", db, "--workers", "2", "--summary-json", tmp_path / "s2.json", folder)
    assert r.returncode == 0, r.stderr[-3000:]
    s2 = json.loads((tmp_path / "s2.json").read_text())
    assert s2["already"] == before and s2["scored"] == GENERATED - before and s2["failed"] == 0
    got = rows(db)
    assert len(got) == GENERATED and {f for f, _, _ in got} == set(headers)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    r3 = archive("score", "--out", db, "--workers", "2", "--summary-json", tmp_path / "s3.json", folder)
    assert r3.returncode == 0, r3.stderr[-3000:]
    s3 = json.loads((tmp_path / "s3.json").read_text())
    assert (s3["scored"], s3["failed"], s3["already"]) == (0, 0, GENERATED)


def test_a_results_file_of_another_model_is_refused(generated, tmp_path):
    folder, headers = generated
    db = tmp_path / "r.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                           "INSERT INTO meta VALUES ('model_name', 'other'), ('model_sha256', 'ab12');")
    r = archive("score", "--out", db, headers[0])
    assert r.returncode == 2 and "model other" in r.stderr and "another --out" in r.stderr


def test_the_cluster_commands_of_the_readme_on_loopback(generated, tmp_path):
    # `dask scheduler` and `dask worker` as a cluster runs them (README, "On several machines"), here both on
    # 127.0.0.1, found through a scheduler file; then the same score command with --scheduler-file.
    folder, headers = generated
    sched_file = tmp_path / "scheduler.json"
    scheduler = start("dask-scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
                      "--scheduler-file", sched_file)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), scheduler.stderr.read()[-2000:] if scheduler.poll() is not None else "no scheduler file"
        worker = start("dask-worker", "--scheduler-file", sched_file, "--nworkers", "2", "--nthreads", "1",
                       "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--memory-limit", "2GiB")
        db = tmp_path / "r.sqlite"
        chosen = headers[:30]
        r = archive("score", "--scheduler-file", sched_file, "--wait-workers", "2", "--out", db, "--summary-json",
                    tmp_path / "s.json", *chosen)
        assert r.returncode == 0, r.stderr[-3000:]
        got = {f: j for f, _, j in rows(db)}
        assert [got[f] for f in chosen] == kalium_predict(chosen)
        assert json.loads((tmp_path / "s.json").read_text())["workers"] == 2
        sockets = listening_addresses(psutil.Process(scheduler.pid)) + listening_addresses(psutil.Process(worker.pid))
        assert len(sockets) >= 3 and all(ipaddress.ip_address(ip).is_loopback for _, ip in sockets), sockets
    finally:
        for p in (worker, scheduler):
            if p is not None:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
