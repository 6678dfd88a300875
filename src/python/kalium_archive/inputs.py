"""Which files an archive run scores: its inputs (files, folders, list files) as a stream of paths.

A WFDB record is scored through its header: the files a header names (its signal files, found with
kalium_core.wfdb_named_files, the rule `kalium predict` and kalium_core.read use) are read with it by the
worker and are not scored on their own, nor are files of the record's name that are no ECG format (annotation
files such as 100.atr or LUDB's 1.ii). Everything else found becomes one row: an ECG's prediction or the reason
it is not one. Paths are streamed directory by directory, so a million files never sit in memory at once.
"""
import os
from itertools import groupby

import kalium_core

# Bytes read from a same-record file to tell an ECG format from an annotation file (kalium_core.sniff_format
# needs only the start of a file).
SNIFF_BYTES = 64 * 1024


def _is_header(name):
    return name.lower().endswith(".hea")


def _group_directory(directory, names, skipped):
    """The names of one directory to score, in order: WFDB companions dropped (counted in skipped)."""
    claimed = set()
    stems = set()
    for name in names:
        if not _is_header(name):
            continue
        stems.add(name[:-4])
        try:
            with open(os.path.join(directory, name), "rb") as f:
                header = f.read(SNIFF_BYTES)
        except OSError:
            continue  # the worker reports why it cannot be read, as a row
        claimed.update(kalium_core.wfdb_named_files(header, name))
    for name in names:
        if name in claimed and not _is_header(name):
            skipped["wfdb_companions"] += 1
            continue
        stem, dot, _ = name.rpartition(".")
        if dot and stem in stems and not _is_header(name):
            try:
                with open(os.path.join(directory, name), "rb") as f:
                    if kalium_core.sniff_format(f.read(SNIFF_BYTES)) == "":
                        skipped["wfdb_annotations"] += 1
                        continue
            except OSError:
                pass
        yield name


def _walk(folder, skipped):
    """Files under folder, directory by directory (sorted; dot files and dot folders left out)."""
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        names = sorted(f for f in files if not f.startswith(".") and os.path.isfile(os.path.join(directory, f)))
        for name in _group_directory(directory, names, skipped):
            yield os.path.join(directory, name)


def _list_file(path):
    """The paths of a list file: one per line; blank lines and lines starting with '#' are skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if line.strip() and not line.lstrip().startswith("#"):
                yield line


def _given_paths(paths, skipped):
    """Paths given one by one (arguments, list files): WFDB grouping among neighbours of the same folder."""
    for directory, group in groupby(paths, key=os.path.dirname):
        group = list(group)
        kept = set(_group_directory(directory or ".", [os.path.basename(p) for p in group], skipped))
        for p in group:
            if os.path.basename(p) in kept:
                yield p


def iter_inputs(inputs, list_files=(), skipped=None):
    """Every path to score, in order: inputs are files or folders ("@FILE" is a list file), then list_files.

    skipped (a dict) counts what was left out on purpose: wfdb_companions, wfdb_annotations. A path that does not
    exist is not an error here: it is scored, and its row says it does not exist.
    """
    if skipped is None:
        skipped = {}
    skipped.setdefault("wfdb_companions", 0)
    skipped.setdefault("wfdb_annotations", 0)

    def given():
        for item in inputs:
            for p in _list_file(item[1:]) if item.startswith("@") else [item]:
                yield ("dir", p) if os.path.isdir(p) else p
        for lf in list_files:
            for p in _list_file(lf):
                yield ("dir", p) if os.path.isdir(p) else p

    run = []
    for item in given():
        if isinstance(item, tuple):
            yield from _given_paths(run, skipped)
            run = []
            yield from _walk(item[1], skipped)
        else:
            run.append(item)
            if len(run) >= 4096:  # keep runs bounded; a folder's files are contiguous in any sorted list
                # hold back the last folder's files so its headers and signal files stay together
                last_dir = os.path.dirname(run[-1])
                cut = len(run)
                while cut > 0 and os.path.dirname(run[cut - 1]) == last_dir:
                    cut -= 1
                if cut > 0:
                    yield from _given_paths(run[:cut], skipped)
                    run = run[cut:]
    yield from _given_paths(run, skipped)
