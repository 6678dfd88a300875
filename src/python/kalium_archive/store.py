"""The results of an archive run: one SQLite file, written by the driver alone (one transaction per batch).

    results(file TEXT PRIMARY KEY, ok, k_plus, k_plus_flag, error, json, scored_at_utc)

`file` is the path as found or given; `json` is the prediction JSON of `kalium predict` for that file (or
{"file", "error", "error_code"}), byte for byte a line of `kalium predict --format jsonl`; `ok`, `k_plus` (mEq/L),
`k_plus_flag` and `error` are copied out of it for SQL (join on file, filter on ok). meta holds the model the
results come from: a rerun with another model is refused, so one file never mixes two models' results.
"""
import datetime
import json
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    file TEXT PRIMARY KEY,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    k_plus REAL,
    k_plus_flag TEXT,
    error TEXT,
    json TEXT NOT NULL,
    scored_at_utc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# SQLite's default limit of host parameters per statement is 999 (older builds): stay below it.
LOOKUP_CHUNK = 500


class StoreError(Exception):
    """The results file cannot be used for this run (another model's results, not a kalium results file)."""


class ResultStore:
    def __init__(self, path, model_name=None, model_sha256=None):
        self.path = path
        self.db = sqlite3.connect(path)
        try:
            # WAL: a reader (export) never blocks the writer; NORMAL: a committed batch survives a killed
            # driver (only a power loss may take the last transactions, which a rerun then scores again).
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: not a kalium results file ({e})") from e
        if model_sha256 is not None:
            self._check_model(model_name, model_sha256)

    def _check_model(self, name, sha256):
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        if "model_sha256" in meta and meta["model_sha256"] != sha256:
            raise StoreError(f"{self.path} holds results of model {meta.get('model_name')} (sha256 {meta['model_sha256']}); "
                             f"this run's model is {name} (sha256 {sha256}): write to another --out")
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
                                [("model_name", name), ("model_sha256", sha256)])

    def missing(self, files, retry_errors=False):
        """The files (in order) that have no row yet (or, with retry_errors, no successful row)."""
        have = set()
        for i in range(0, len(files), LOOKUP_CHUNK):
            chunk = files[i:i + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            condition = " AND ok = 1" if retry_errors else ""
            have.update(f for (f,) in self.db.execute(f"SELECT file FROM results WHERE file IN ({marks}){condition}", chunk))
        return [f for f in files if f not in have]

    def write(self, rows):
        """rows: [(file, json_text)] in one transaction. Returns how many of them are errors."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        records = []
        errors = 0
        for file, text in rows:
            j = json.loads(text)
            ok = "error" not in j
            errors += not ok
            records.append((file, int(ok), j.get("k_plus"), j.get("k_plus_flag"), j.get("error"), text, now))
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO results(file, ok, k_plus, k_plus_flag, error, json, scored_at_utc) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", records)
        return errors

    def counts(self):
        """(rows with a prediction, rows with an error)."""
        ok, failed = self.db.execute("SELECT COALESCE(SUM(ok), 0), COALESCE(SUM(1 - ok), 0) FROM results").fetchone()
        return ok, failed

    def rows(self):
        """(file, json_text) of every row, by file."""
        return self.db.execute("SELECT file, json FROM results ORDER BY file")

    def close(self):
        self.db.close()
