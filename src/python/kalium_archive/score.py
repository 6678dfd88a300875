"""`kalium_archive score`: every input file scored once, on a local or remote Dask cluster, into SQLite.

The driver (this process) finds the files (inputs.py), leaves out those the results file already has, and
submits batches of about 64 files (Dask's per-task overhead is about 2 ms; a batch makes it ~0.03 ms per ECG)
to the workers, never more than a few per worker thread at a time, so the client's memory stays that of a few
batches however large the archive. It alone writes the results (one transaction per batch).

A worker that dies (out of memory, a crash in the C++ core) loses nothing: Dask reschedules its tasks on the
other workers. A batch during which workers keep dying is declared bad by Dask's scheduler (KilledWorker after
distributed.scheduler.allowed-failures deaths); its files are then sent again one per task, and a file that
still kills its worker becomes an error row. A batch whose result is lost after it finished (the worker holding it
died or could not be reached: the future turns 'lost', or gathering it fails) is submitted again; after
LOST_RESULT_RETRIES losses it is treated as a batch that kills its workers. The run stops ("scheduler lost") only
when the client is really cut off from the scheduler. The run ends with a summary: scored, failed, already done, ECGs/s.
"""
import json
import logging
import os
import sys
import time
from collections import deque
from pathlib import Path

from kalium_archive import inputs as archive_inputs
from kalium_archive.store import ResultStore, StoreError
from kalium_archive.work import ModelLoadError, score_batch

ROOT = Path(__file__).resolve().parents[3]  # src/python/kalium_archive -> the checkout
SHIPPED_MODEL = ROOT / "model" / "ecg12net-1.kmodel"

EXIT_OK, EXIT_FILES_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 3
WAIT_WORKERS_TIMEOUT_S = 300   # a cluster's workers must have joined by then
THREADS_RECHECK_S = 5.0        # how often the bound on batches in flight follows the cluster's size
LOST_RESULT_RETRIES = 3        # a batch whose result is lost this many times is handled as one that kills workers
SCHEDULER_CHECKS = 3           # tries (a second apart) to reach the scheduler before concluding it is lost
SCHEDULER_CHECK_TIMEOUT_S = 30


class RunAborted(Exception):
    """The run cannot go on (model cannot be loaded on a worker, scheduler lost); a rerun resumes it."""


def default_model_path():
    return os.environ.get("KALIUM_MODEL") or str(SHIPPED_MODEL)


def _error_json(file, message, code):
    """The row of a file that could not be scored: the shape of `kalium predict`'s error objects."""
    return json.dumps({"file": file, "error": message, "error_code": code}, ensure_ascii=False, separators=(",", ":"))


def _batches(paths, store, batch_size, retry_errors, counts):
    """Batches of up to batch_size paths that the store has no row for (counts["already"] the others)."""
    pending = []
    chunk = []

    def flush_chunk():
        missing = store.missing(chunk, retry_errors)
        counts["already"] += len(chunk) - len(missing)
        pending.extend(missing)
        chunk.clear()

    for path in paths:
        chunk.append(path)
        if len(chunk) >= batch_size:
            flush_chunk()
            while len(pending) >= batch_size:
                yield pending[:batch_size]
                del pending[:batch_size]
    flush_chunk()
    while pending:
        yield pending[:batch_size]
        del pending[:batch_size]


def _scheduler_reachable(client):
    """Whether the client is still connected to its scheduler (retried: a loaded machine can be slow to answer)."""
    for attempt in range(SCHEDULER_CHECKS):
        if attempt:
            time.sleep(1.0)
        if client.status not in ("running", "connecting"):
            return False
        if client.status == "running":
            try:
                client.sync(client.scheduler.identity, callback_timeout=SCHEDULER_CHECK_TIMEOUT_S)
                return True
            except Exception:  # OSError/CommClosedError, TimeoutError: try again
                pass
    return False


def open_cluster(scheduler, scheduler_file, workers, memory_limit, security):
    """(client, local cluster or None). local: one single-threaded worker process per core, all on 127.0.0.1."""
    from distributed import Client, LocalCluster

    if scheduler_file:
        return Client(scheduler_file=scheduler_file, security=security), None
    if scheduler != "local":
        return Client(scheduler, security=security), None
    # Every socket on loopback: the scheduler and the nannies/workers on 127.0.0.1, and their HTTP servers
    # (Dask opens them on all interfaces unless told; without bokeh they serve /health, /metrics, /info).
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
                           memory_limit=memory_limit, silence_logs=logging.ERROR)
    # Results are gathered straight from the workers: the scheduler, when its own gather from a worker fails (a
    # worker slow to answer on a loaded machine), shuts that worker down ("Couldn't gather keys"), which can leave
    # a local cluster with no workers at all.
    return Client(cluster, direct_to_workers=True), cluster


def score(paths, out, *, model_path=None, precision="f32", scheduler="local", scheduler_file=None, workers=None,
          memory_limit="auto", security=None, batch_size=64, in_flight_per_thread=3, retry_errors=False,
          wait_workers=1, progress=None, log=sys.stderr):
    """Scores paths (an iterable of file paths, see inputs.iter_inputs) into the SQLite file `out`.

    Returns the summary dict: scored, failed, already (had a row before), split (batches retried one file per
    task), workers (the most worker threads seen), seconds (the whole run), startup_s (until the cluster had a worker), ecgs_per_s
    (files scored or failed in this run per second of the whole run).
    Raises StoreError / ValueError for a results file or model that cannot be used, RunAborted when the cluster
    cannot go on.
    """
    import kalium_core
    from distributed import as_completed
    from distributed.scheduler import KilledWorker
    from tqdm import tqdm

    started = time.monotonic()
    # The model is loaded here once to check it (and its manifest) before any cluster starts; the workers must
    # then find the same bytes at the same path (shared storage, or the same checkout on every machine).
    model = kalium_core.Model(model_path or default_model_path(), precision=precision)
    spec = {"path": model.path, "sha256": model.sha256, "precision": precision}
    store = ResultStore(out, model.name, model.sha256)
    del model

    counts = {"scored": 0, "failed": 0, "already": 0, "split": 0, "worker_deaths_seen": 0}
    client, cluster = open_cluster(scheduler, scheduler_file, workers, memory_limit, security)
    try:
        client.wait_for_workers(wait_workers, timeout=WAIT_WORKERS_TIMEOUT_S)
        startup_s = time.monotonic() - started  # model check, results file, cluster up
        threads = sum(client.nthreads().values())
        max_in_flight = max(2, in_flight_per_thread * threads)
        threads_checked = time.monotonic()
        bar = tqdm(unit="ECG", file=log, disable=not (log.isatty() if progress is None else progress),
                   dynamic_ncols=True, smoothing=0.05)
        batches = _batches(paths, store, batch_size, retry_errors, counts)
        singles = deque()
        lost = deque()       # batches whose result was lost after they finished: submitted again first
        losses = {}          # tuple(batch) -> how many times its result was lost
        # Single files that Dask declared KilledWorker while other tasks ran: a task merely assigned to a worker
        # that dies counts as a death too, so each is scored again alone (nothing else in flight) before it is
        # made an error row.
        suspects = deque()
        isolated = None      # the future of the suspect being scored alone
        in_flight = {}
        finished = as_completed()

        def submit(batch):
            future = client.submit(score_batch, batch, spec, pure=False)
            in_flight[future] = batch
            finished.add(future)
            return future

        def fill():
            nonlocal threads, max_in_flight, threads_checked, isolated
            if time.monotonic() - threads_checked > THREADS_RECHECK_S:  # workers of a cluster join (or leave)
                threads = max(threads, sum(client.nthreads().values()))
                max_in_flight = max(2, in_flight_per_thread * threads)
                threads_checked = time.monotonic()
            if isolated is not None:
                return
            if suspects:
                if not in_flight:  # the others have drained: the suspect runs alone
                    isolated = submit([suspects.popleft()])
                return
            while len(in_flight) < max_in_flight:
                if lost:
                    submit(lost.popleft())
                    continue
                if singles:
                    submit([singles.popleft()])
                    continue
                batch = next(batches, None)
                if batch is None:
                    return
                submit(batch)

        def store_rows(rows):
            errors = store.write(rows)
            counts["failed"] += errors
            counts["scored"] += len(rows) - errors
            bar.update(len(rows))

        def killed_batch(batch, error, killed, alone=False):
            """A batch whose task failed or keeps losing its workers: split it, or a single file's error row."""
            if len(batch) > 1:
                # Which file did it? Score each on its own; the others then cost a task each, once.
                counts["split"] += 1
                singles.extend(batch)
                bar.write(f"kalium_archive: a batch of {len(batch)} files (from {batch[0]}) "
                          f"{'killed its workers' if killed else f'failed ({error!r})'}: scoring them one by one",
                          file=log)
            elif killed and not alone:
                suspects.append(batch[0])
            else:
                message = (f"{batch[0]}: the worker scoring this file died each time it tried ({error})" if killed
                           else f"{batch[0]}: scoring failed on the worker: {error!r}")
                store_rows([(batch[0], _error_json(batch[0], message, "worker_died" if killed else "internal"))])

        def lost_batch(batch, why, alone=False):
            """The batch's result was lost (its worker died or could not be reached): submit it again, unless the
            scheduler itself is gone; after LOST_RESULT_RETRIES losses, handle it as a batch that kills workers."""
            if not _scheduler_reachable(client):
                raise RunAborted(f"a batch ({batch[0]} ...) was {why}: the Dask scheduler was lost")
            key = tuple(batch)
            losses[key] = losses.get(key, 0) + 1
            counts["worker_deaths_seen"] += 1
            if losses[key] < LOST_RESULT_RETRIES:
                if alone:
                    suspects.appendleft(batch[0])
                else:
                    lost.append(batch)
                return
            del losses[key]
            killed_batch(batch, f"its result was lost {LOST_RESULT_RETRIES} times, last: {why}", True, alone)

        fill()
        for future in finished:
            batch = in_flight.pop(future, None)
            if batch is None:  # not (or no longer) ours: never stored twice
                continue
            alone = future is isolated
            if alone:
                isolated = None
            rows = error = None
            status = future.status
            if status == "finished":
                try:
                    rows = future.result()
                except ModelLoadError as e:
                    raise RunAborted(str(e)) from None
                except KilledWorker as e:  # recomputed after its result was lost, and the worker died again
                    status, error = "error", e
                except Exception as e:  # the gather failed: the worker holding it died or could not be reached
                    status = f"lost ({e!r})"
            elif status == "error":
                error = future.exception()
            if rows is not None:
                losses.pop(tuple(batch), None)
                store_rows(rows)
            elif status == "error":
                if isinstance(error, ModelLoadError):
                    raise RunAborted(str(error))
                killed = isinstance(error, KilledWorker)
                counts["worker_deaths_seen"] += killed
                losses.pop(tuple(batch), None)
                killed_batch(batch, error, killed, alone)
            else:  # lost, cancelled or pending again: its result is gone, or the scheduler is
                lost_batch(batch, status, alone)
            future.release()
            fill()
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        store.close()
    seconds = time.monotonic() - started
    done = counts["scored"] + counts["failed"]
    return {**counts, "workers": threads, "seconds": seconds, "startup_s": startup_s,
            "ecgs_per_s": done / seconds if seconds > 0 else 0.0}


def run(args):
    """The `score` subcommand (cli.py): returns the exit status."""
    from distributed.security import Security

    security = None
    if args.tls_ca_file:
        security = Security(tls_ca_file=args.tls_ca_file, tls_client_cert=args.tls_cert, tls_client_key=args.tls_key,
                            require_encryption=True)
    skipped = {}
    paths = archive_inputs.iter_inputs(args.inputs, args.list or (), skipped)
    try:
        summary = score(paths, args.out, model_path=args.model, precision=args.precision, scheduler=args.scheduler,
                        scheduler_file=args.scheduler_file, workers=args.workers, memory_limit=args.memory_limit,
                        security=security, batch_size=args.batch_size, retry_errors=args.retry_errors,
                        wait_workers=args.wait_workers, progress=args.progress)
    except (StoreError, ValueError, OSError) as e:
        print(f"kalium_archive score: {e}", file=sys.stderr)
        return EXIT_USAGE
    except RunAborted as e:
        print(f"kalium_archive score: stopped: {e}. The results so far are in {args.out}; rerun to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"kalium_archive score: interrupted. The results so far are in {args.out}; rerun to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    left_out = skipped["wfdb_companions"] + skipped["wfdb_annotations"]
    print(f"kalium_archive score: {summary['scored']} scored, {summary['failed']} failed (error rows), "
          f"{summary['already']} already in {args.out}; {left_out} WFDB signal/annotation files read with their "
          f"header; {summary['workers']} workers, {summary['seconds']:.1f} s, {summary['ecgs_per_s']:.1f} ECGs/s"
          + (f"; {summary['split']} batches rescored file by file" if summary["split"] else ""), file=sys.stderr)
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as f:
            json.dump({**summary, **skipped}, f)
    return EXIT_FILES_FAILED if summary["failed"] else EXIT_OK
