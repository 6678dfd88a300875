"""The command line of kalium_archive (run it as `/usr/bin/python3 -m kalium_archive` or `./scripts/archive`)."""
import argparse
import os
import sys

USAGE_EXAMPLES = """examples:
  ./scripts/archive score --out results.sqlite /archive/ecgs          # one worker process per core, on 127.0.0.1
  ./scripts/archive score --out results.sqlite @files.txt             # a list file: one path per line
  ./scripts/archive score --scheduler tcp://10.0.0.1:8786 --out r.sqlite /shared/ecgs   # a cluster (README)
  ./scripts/archive export --csv results.sqlite > k.csv
A rerun with the same --out scores only the files that have no row yet."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="kalium_archive", description="Score an archive of ECG files with ECG12Net on Dask "
                                "distributed, resumably. Research use only; not a medical device.",
                                epilog=USAGE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("score", help="score files into a SQLite results file (resumes)",
                       epilog=USAGE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="ECG files, folders (walked; a WFDB header takes its signal files) or @LISTFILE")
    s.add_argument("--list", action="append", metavar="LISTFILE", help="a file naming one input path per line")
    s.add_argument("--out", required=True, metavar="RESULTS.sqlite", help="the results file (created, or resumed)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default="local", metavar="local|tcp://HOST:PORT",
                       help="local (default): a LocalCluster on this machine; else a running `dask scheduler`")
    where.add_argument("--scheduler-file", metavar="FILE", help="the scheduler file of a running `dask scheduler`")
    s.add_argument("--workers", type=int, metavar="N", help="local: worker processes (default: one per core)")
    s.add_argument("--wait-workers", type=int, default=1, metavar="N",
                   help="start when N workers have joined the scheduler (default 1; at most 300 s)")
    s.add_argument("--memory-limit", default="auto", metavar="SIZE",
                   help="local: memory per worker before its nanny restarts it (e.g. 2GiB; default RAM / workers)")
    s.add_argument("--model", metavar="PATH", help="weights (default $KALIUM_MODEL, else model/ecg12net-1.kmodel); "
                   "PATH.sha256 when present must match; every worker must see the same file at PATH")
    s.add_argument("--precision", default="f32", choices=["f32", "f32-direct", "int8"], help="as kalium predict")
    s.add_argument("--batch-size", type=int, default=64, metavar="N", help="files per Dask task (default 64)")
    s.add_argument("--retry-errors", action="store_true", help="also rescore files whose row is an error")
    s.add_argument("--tls-ca-file", metavar="PEM", help="TLS to a remote scheduler: CA certificate")
    s.add_argument("--tls-cert", metavar="PEM", help="TLS: this client's certificate")
    s.add_argument("--tls-key", metavar="PEM", help="TLS: this client's private key")
    s.add_argument("--summary-json", metavar="FILE", help="also write the summary as JSON")
    prog = s.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None, help="progress bar on stderr")
    prog.add_argument("--no-progress", dest="progress", action="store_false",
                      help="no progress bar (default: a bar when stderr is a terminal)")

    e = sub.add_parser("export", help="write a results file as CSV or JSONL (to stdout, or --output)")
    fmt = e.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", dest="format", action="store_const", const="csv",
                     help="the columns of `kalium predict --format csv`")
    fmt.add_argument("--jsonl", dest="format", action="store_const", const="jsonl",
                     help="one prediction JSON per line, as `kalium predict --format jsonl`, or {file, error, error_code}")
    e.add_argument("results", metavar="RESULTS.sqlite")
    e.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    args = p.parse_args(argv)
    if args.command == "score":
        if not args.inputs and not args.list:
            p.error("score: give input files, folders, @LISTFILE or --list")
        if args.batch_size < 1:
            p.error(f"score: --batch-size must be at least 1 (got {args.batch_size})")
        for listed in [i[1:] for i in args.inputs if i.startswith("@")] + (args.list or []):
            if not os.path.isfile(listed):
                p.error(f"score: list file {listed}: no such file")
        if args.wait_workers < 1:
            p.error(f"score: --wait-workers must be at least 1 (got {args.wait_workers})")
        if args.workers is not None and args.workers < 1:
            p.error(f"score: --workers must be at least 1 (got {args.workers})")
        if bool(args.tls_cert) != bool(args.tls_key) or (args.tls_cert and not args.tls_ca_file):
            p.error("score: TLS needs --tls-ca-file, --tls-cert and --tls-key together")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "score":
        from kalium_archive import score
        return score.run(args)
    from kalium_archive.export import export
    from kalium_archive.store import ResultStore, StoreError
    if not os.path.isfile(args.results):
        print(f"kalium_archive export: {args.results}: no such results file", file=sys.stderr)
        return 2
    try:
        store = ResultStore(args.results)
    except StoreError as err:
        print(f"kalium_archive export: {err}", file=sys.stderr)
        return 2
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                export(store, args.format, out)
        else:
            export(store, args.format, sys.stdout)
    finally:
        store.close()
    return 0
