"""`kalium_archive export`: a results file as JSONL (the stored prediction JSON, one line per file, as
`kalium predict --format jsonl` writes it) or as CSV (the columns and number format of `kalium predict --format
csv`, src/cli/predict.cpp), ordered by file."""
import json

import kalium_core

GROUPS = ["<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5"]  # k_group_names, the keys of group_probs


def csv_header():
    leads = kalium_core.standard_leads
    return (["file", "k_plus", "k_plus_display", "group"] + [f"p_{g}" for g in GROUPS]
            + ["k_range_low", "k_range_high", "k_plus_balanced", "flag", "reliability", "reliability_reasons"]
            + [f"lead_k_{l}" for l in leads] + [f"attention_{l}" for l in leads] + ["warnings", "error"])


def _number(v):
    """kalium predict's "%.6g"."""
    return "%.6g" % v


def _field(s):
    """RFC 4180: quoted only when it holds a comma, quote or line break (as kalium predict writes)."""
    if not any(c in s for c in ',"\r\n'):
        return s
    return '"' + s.replace('"', '""') + '"'


def csv_row(text):
    """The CSV row of one stored prediction JSON text."""
    j = json.loads(text)
    if "error" in j:
        return ",".join([_field(j["file"])] + [""] * (len(csv_header()) - 2) + [_field(j["error"])])
    probs = j["group_probs"]
    ranged = j["k_plus_range"] is not None
    row = [_field(j["file"]), _number(j["k_plus"]), _field(j["k_plus_display"]), _field(j["group"])]
    row += [_number(probs[g]) if probs is not None else "" for g in GROUPS]
    row += [_number(v) if ranged else "" for v in (*(j["k_plus_range"] or (0, 0)), j["k_plus_balanced"] or 0)]
    row.append(j["k_plus_flag"] or "")
    # the reliability mark; rows scored before kalium predict gave it have neither key: empty cells
    row += [j.get("reliability", ""), _field("; ".join(j.get("reliability_reasons", [])))]
    row += [_number(j["lead_k"][l]) for l in kalium_core.standard_leads]
    row += [_number(j["lead_attention"][l]) for l in kalium_core.standard_leads]
    row += [_field("; ".join(j["warnings"])), ""]
    return ",".join(row)


def export(store, fmt, out):
    """Writes every row of store (a ResultStore) to out (a text stream); returns the number of rows."""
    n = 0
    if fmt == "csv":
        out.write(",".join(csv_header()) + "\n")
    for _, text in store.rows():
        out.write((csv_row(text) if fmt == "csv" else text) + "\n")
        n += 1
    return n
