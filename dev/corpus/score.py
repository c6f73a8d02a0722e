"""Score a pipeline's published output against a generated truth file.

    python -m dev.corpus.score --data-dir /tmp/bench/data --truth /tmp/bench/truth.jsonl
    python -m dev.corpus.score --data-dir data --truth dev/corpus/sample_truth.jsonl --json

Reads the output with plain Polars (no project code), so it checks the published contract.
Missing columns or an empty output score 0; nothing here raises on a bad pipeline.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import polars as pl

from dev.corpus.generate import DETAILS_PATTERNS, LEAK_LINES, LEAK_PHRASES

#: Per-field exact-match accuracy is reported for these contract columns.
FIELDS = [
    "title",
    "teaser",
    "dateline",
    "body",
    "subheadings",
    "publisher",
    "category",
    "place",
    "related",
    "language",
    "links",
]
LIST_FIELDS = {"subheadings", "related", "links", "cited_sources"}

_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?\s*>|&(?:nbsp|amp|quot|lt|gt|#\d+);")
_MARKDOWN = re.compile(r"\*\*|\]\(|^#{1,6}\s", re.M)
_BAD_CHARS = re.compile(
    "[\u00ad\u200b\u200c\u200d\ufeff\u00a0\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]"
)
_DETAILS = re.compile("|".join(DETAILS_PATTERNS), re.M)


def _read(dataset: Path) -> tuple[list[dict], str | None]:
    """All rows of a Hive-partitioned Parquet dataset as dicts, or ([], reason)."""
    if not dataset.is_dir() or not any(dataset.rglob("*.parquet")):
        return [], f"no parquet files under {dataset}"
    try:
        df = pl.scan_parquet(f"{dataset}/**/*.parquet", hive_partitioning=True).collect()
    except Exception as exc:  # a broken output must still produce a score
        return [], f"could not read {dataset}: {type(exc).__name__}: {exc}"
    if "ingest_date" in df.columns:
        df = df.with_columns(pl.col("ingest_date").cast(pl.Utf8))
    return df.to_dicts(), None


def _norm(value, is_list: bool):
    """Treat null like an empty string/list, so 'no teaser' compares equal either way."""
    if is_list:
        return list(value) if value else []
    return value if value not in ("", None) else None


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _clip(v, n: int = 160):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    return s if len(s) <= n else s[:n] + "…"


def score(data_dir: Path, truth_path: Path) -> dict:
    """Compare data_dir/{curated,quarantine}/articles with a truth.jsonl; returns a metrics dict."""
    data_dir = Path(data_dir)
    truth = [json.loads(line) for line in Path(truth_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    cur_rows, cur_err = _read(data_dir / "curated" / "articles")
    quar_rows, quar_err = _read(data_dir / "quarantine" / "articles")
    cur_cols = set(cur_rows[0]) if cur_rows else set()
    out: dict = {
        "data_dir": str(data_dir),
        "truth": str(truth_path),
        "read_errors": [e for e in (cur_err, quar_err) if e],
    }

    # -- accounting ----------------------------------------------------------------------
    t_by_path = {t["source_path"]: t for t in truth}
    cur_count = Counter(r.get("source_path") for r in cur_rows)
    quar_count = Counter(r.get("source_path") for r in quar_rows)
    cur_paths, quar_paths = set(cur_count), set(quar_count)
    seen = cur_paths | quar_paths
    missing = sorted(set(t_by_path) - seen)
    extra = sorted(seen - set(t_by_path))
    both = sorted(cur_paths & quar_paths)
    dup_rows = sum(c - 1 for c in cur_count.values() if c > 1) + sum(c - 1 for c in quar_count.values() if c > 1)
    date_mismatch = sum(
        1
        for r in cur_rows + quar_rows
        if r.get("ingest_date") and r.get("source_path") and str(r["ingest_date"]) != r["source_path"].split("/")[0]
    )
    out["accounting"] = {
        "truth_files": len(truth),
        "curated_rows": len(cur_rows),
        "quarantine_rows": len(quar_rows),
        "missing": len(missing),
        "extra": len(extra),
        "both": len(both),
        "duplicate_rows": dup_rows,
        "ingest_date_mismatch": date_mismatch,
        "ok": not (missing or extra or both or dup_rows),
        "missing_examples": missing[:5],
        "extra_examples": extra[:5],
        "both_examples": both[:5],
    }
    routing = Counter()
    wrong_route = []
    for p, t in t_by_path.items():
        got = "curated" if p in cur_paths else "quarantine" if p in quar_paths else "missing"
        routing[f"{t['expect']}->{got}"] += 1
        if got != t["expect"] and len(wrong_route) < 8:
            wrong_route.append({"source_path": p, "expect": t["expect"], "got": got, "noise": t.get("noise")})
    ok_route = routing["curated->curated"] + routing["quarantine->quarantine"]
    out["routing"] = {**dict(routing), "accuracy": ok_route / len(truth) if truth else 0.0, "examples": wrong_route}

    # -- per-field accuracy over files the truth says are curated -------------------------
    cur_by_path = {r.get("source_path"): r for r in cur_rows}
    t_cur = [t for t in truth if t["expect"] == "curated"]
    fields, examples = {}, {}
    for f in FIELDS + ["body_relaxed"]:
        col = "body" if f == "body_relaxed" else f
        if col not in cur_cols:
            fields[f] = {"accuracy": 0.0, "n": len(t_cur), "missing_column": True}
            continue
        hits = 0
        for t in t_cur:
            r = cur_by_path.get(t["source_path"])
            exp = _norm(t.get(col), col in LIST_FIELDS)
            got = _norm(r.get(col), col in LIST_FIELDS) if r else "<missing row>"
            if f == "body_relaxed":  # whitespace-insensitive: separates layout from content errors
                exp = " ".join((exp or "").split())
                got = " ".join((got or "").split()) if isinstance(got, str) else got
            if got == exp:
                hits += 1
            elif r is not None and len(examples.setdefault(f, [])) < 3:
                examples[f].append({"source_path": t["source_path"], "expected": _clip(exp), "got": _clip(got)})
        fields[f] = {"accuracy": hits / len(t_cur) if t_cur else 0.0, "n": len(t_cur)}
    out["fields"] = fields
    out["mismatch_examples"] = examples

    # -- dateline false positives, cited sources, re-joined breaks ------------------------
    present = [(t, cur_by_path[t["source_path"]]) for t in t_cur if t["source_path"] in cur_by_path]
    no_dl = [(t, r) for t, r in present if not t.get("dateline")]
    fp_dl = sum(1 for _, r in no_dl if _norm(r.get("dateline"), False))
    out["dateline_false_positive_rate"] = fp_dl / len(no_dl) if no_dl else 0.0
    out["dateline_false_positives"] = fp_dl
    tp = fp = fn = 0
    for t, r in present:
        exp, got = set(t.get("cited_sources") or []), set(r.get("cited_sources") or [])
        tp, fp, fn = tp + len(exp & got), fp + len(got - exp), fn + len(exp - got)
    if "cited_sources" not in cur_cols:
        tp, fp, fn = 0, 0, sum(len(t.get("cited_sources") or []) for t in t_cur)
    out["cited_sources"] = _prf(tp, fp, fn)
    total = rejoined = 0
    for t in t_cur:
        r = cur_by_path.get(t["source_path"])
        paras = {p.strip() for p in ((r or {}).get("body") or "").split("\n\n")}
        for bp in t.get("broken_paragraphs") or []:
            total += 1
            rejoined += bp in paras
    out["breaks"] = {"total": total, "rejoined": rejoined, "share": rejoined / total if total else 1.0}

    # -- leaks over every curated row ---------------------------------------------------
    leaks = Counter()
    leak_examples: dict[str, list] = {}
    for r in cur_rows:
        for col in ("title", "body"):
            text = r.get(col) or ""
            paras = [p.strip() for p in text.split("\n\n")]
            checks = {
                "html": bool(_HTML.search(text)),
                "markdown": bool(_MARKDOWN.search(text)),
                "boilerplate": any(p in text for p in LEAK_PHRASES) or any(p in LEAK_LINES for p in paras),
                "details": bool(_DETAILS.search(text)),
                "bad_chars": bool(_BAD_CHARS.search(text)),
            }
            for k, v in checks.items():
                if v:
                    leaks[f"{k}_{col}"] += 1
                    if len(leak_examples.setdefault(f"{k}_{col}", [])) < 2:
                        leak_examples[f"{k}_{col}"].append(r.get("source_path"))
    out["leaks"] = {
        k: leaks.get(k, 0)
        for k in [
            f"{k}_{c}" for k in ("html", "markdown", "boilerplate", "details", "bad_chars") for c in ("title", "body")
        ]
    }
    out["leaks"]["rows_checked"] = len(cur_rows)
    out["leak_examples"] = leak_examples

    # -- duplicate_of ----------------------------------------------------------------------
    # The expected first-seen file is the earliest (by source_path) *curated-by-the-pipeline*
    # file with the same truth body: a pipeline cannot point at a file it quarantined.
    doc_id = {p: r.get("doc_id") for p, r in cur_by_path.items()}
    first: dict[str, str] = {}
    hits = n = tp_d = fp_d = fn_d = 0
    for t in sorted(t_cur, key=lambda t: t["source_path"]):
        r = cur_by_path.get(t["source_path"])
        if r is None:
            continue
        n += 1
        src = first.setdefault(t["body"], t["source_path"])
        exp = doc_id.get(src) if src != t["source_path"] else None
        got = r.get("duplicate_of") or None if "duplicate_of" in cur_cols else "<no column>"
        hits += got == exp
        tp_d += bool(exp) and bool(got)
        fp_d += (not exp) and bool(got)
        fn_d += bool(exp) and not got
    out["duplicate_of"] = {
        "accuracy": hits / n if n else 0.0,
        "n": n,
        "flag": _prf(tp_d, fp_d, fn_d) if n else _prf(0, 0, 1),
    }

    # -- story_id pairwise ---------------------------------------------------------------
    cells, t_sizes, p_sizes = Counter(), Counter(), Counter()
    for t, r in present:
        pred = r.get("story_id") if "story_id" in cur_cols else None
        pred = pred if pred else f"__singleton__{t['source_path']}"
        cells[(t["story"], pred)] += 1
        t_sizes[t["story"]] += 1
        p_sizes[pred] += 1
    tp_p = sum(_pairs(c) for c in cells.values())
    t_p = sum(_pairs(c) for c in t_sizes.values())
    p_p = sum(_pairs(c) for c in p_sizes.values())
    out["story_id"] = {**_prf(tp_p, p_p - tp_p, t_p - tp_p), "truth_pairs": t_p, "pred_pairs": p_p}
    if "story_id" not in cur_cols:  # also covers an empty output
        out["story_id"].update(precision=0.0, recall=0.0, f1=0.0)
    out["missing_columns"] = (
        sorted({*FIELDS, "cited_sources", "duplicate_of", "story_id", "doc_id", "ingest_date"} - cur_cols)
        if cur_rows
        else []
    )
    return out


def _table(res: dict) -> str:
    """A readable plain-text report."""
    a, ro = res["accounting"], res["routing"]
    lines = [f"truth {res['truth']}  vs  output {res['data_dir']}"]
    for e in res["read_errors"]:
        lines.append(f"  ! {e}")
    lines += [
        "",
        "ACCOUNTING",
        f"  truth files {a['truth_files']}   curated rows {a['curated_rows']}   quarantine rows {a['quarantine_rows']}",
        f"  missing {a['missing']}   extra {a['extra']}   both {a['both']}   "
        f"duplicate rows {a['duplicate_rows']}   ingest_date mismatch {a['ingest_date_mismatch']}"
        f"   -> {'OK' if a['ok'] else 'BROKEN'}",
        f"  routing accuracy {ro['accuracy']:.3f}   "
        + "   ".join(f"{k} {v}" for k, v in sorted(ro.items()) if "->" in k),
        "",
        "FIELD ACCURACY (exact match, truth-curated files)",
    ]
    for f, v in res["fields"].items():
        flag = "  (column missing)" if v.get("missing_column") else ""
        lines.append(f"  {f:14} {v['accuracy']:7.3f}{flag}")
    cs, st, du, br = res["cited_sources"], res["story_id"], res["duplicate_of"], res["breaks"]
    lines += [
        "",
        "STRUCTURE",
        f"  dateline false-positive rate {res['dateline_false_positive_rate']:.3f} ({res['dateline_false_positives']})",
        f"  cited_sources  P {cs['precision']:.3f}  R {cs['recall']:.3f}  F1 {cs['f1']:.3f}",
        f"  broken paragraphs re-joined {br['rejoined']}/{br['total']} ({br['share']:.3f})",
        f"  duplicate_of accuracy {du['accuracy']:.3f} (n={du['n']})   dup flag P "
        f"{du['flag']['precision']:.3f} R {du['flag']['recall']:.3f}",
        f"  story_id pairs  P {st['precision']:.3f}  R {st['recall']:.3f}  F1 {st['f1']:.3f}  "
        f"(truth pairs {st['truth_pairs']}, predicted {st['pred_pairs']})",
        "",
        f"LEAKS (curated rows checked: {res['leaks']['rows_checked']})",
    ]
    lk = res["leaks"]
    for kind in ("html", "markdown", "boilerplate", "details", "bad_chars"):
        lines.append(f"  {kind:12} title {lk[f'{kind}_title']:6}   body {lk[f'{kind}_body']:6}")
    if res["missing_columns"]:
        lines += ["", f"missing columns: {', '.join(res['missing_columns'])}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m dev.corpus.score", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", type=Path, required=True, help="the pipeline's data dir")
    ap.add_argument("--truth", type=Path, required=True, help="truth.jsonl from generate.py")
    ap.add_argument("--json", action="store_true", help="print the full result as JSON")
    a = ap.parse_args(argv)
    res = score(a.data_dir, a.truth)
    print(json.dumps(res, ensure_ascii=False, indent=2) if a.json else _table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
