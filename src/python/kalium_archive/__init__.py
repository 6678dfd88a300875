"""kalium_archive: score an archive of stored ECGs with ECG12Net on Dask distributed, resumably.

    /usr/bin/python3 -m kalium_archive score --out results.sqlite /archive/ecgs   # or ./scripts/archive score ...
    /usr/bin/python3 -m kalium_archive export --csv results.sqlite > k.csv

Files are found (inputs.py), sent to Dask workers in batches that each worker scores with one kalium_core.Model
loaded once (work.py), and every result, or the reason a file failed, is stored by the driver alone in SQLite
(store.py), so a rerun scores only what is missing (score.py). The rows are the prediction JSON of
`kalium predict` (one C++ serialiser writes both); export.py writes them as JSONL or as `kalium predict`'s CSV.
"""
