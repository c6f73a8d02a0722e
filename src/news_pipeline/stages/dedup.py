"""Exact duplicates by content hash and near-duplicate stories by MinHash/LSH (rensa), across partitions."""

from __future__ import annotations

import array
import datetime as dt
import itertools
from collections.abc import Iterable

import numpy as np
import polars as pl
import polars_hash as plh
import rensa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from news_pipeline.stages.clean.normalize import STABLE_CHARS, collapse_whitespace, unicode_normalize

NUM_PERM = 128
BANDS = 32  # 32 bands of 4 rows: pairs above Jaccard ~0.42 become candidates
SEED = 20250601
SHINGLE = 5  # words per shingle
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)
_ORDER = ["ingest_date", "source_path"]
_PAIR_CHUNK = 16_384  # candidate pairs compared at a time: 2 x 8 MB of signatures
# The rows normalized_body can't do with a lower-case and a literal replace (see there).
_NEEDS_FULL_NORMALIZATION = (
    f"[^{STABLE_CHARS['NFKC']}]|[^\\S \\n]|  | \\n|\\n |\\n\\n\\n|(?:^|[^\\n])\\n(?:[^\\n]|$)|^[ \\n]|[ \\n]$"
)


def normalized_body(df: pl.DataFrame) -> pl.Series:
    """The body as compared for exact duplicates: NFKC, case-folded, whitespace collapsed."""
    # A body is words separated by single spaces and paragraphs by "\n\n" (see parse), so for most
    # rows lower-casing and a literal replace are the whole work. One scan finds the rest: a
    # character NFKC may change, whitespace other than a space or a newline, or a whitespace run
    # other than " " or "\n\n" or at an end (the replace would leave it untidy). Only those rows
    # take the full normalisation. (Lower-casing maps no character to or from whitespace, checked
    # in tests/unit/dedup/test_hash_shortcuts.py, so the scan can look at the body as it comes.)
    body = pl.col("body")

    def lowered(text: pl.Expr) -> pl.Expr:
        return text.str.to_lowercase().str.replace_all("\n\n", " ", literal=True)

    quick = df.select(lowered(body)).to_series()
    rows = df.select(pl.arg_where(body.str.contains(_NEEDS_FULL_NORMALIZATION).fill_null(False))).to_series()
    if rows.len() == 0:
        return quick
    odd = df.select(body.gather(rows)).select(lowered(unicode_normalize(body, "NFKC")))
    return quick.scatter(rows, collapse_whitespace(odd, "body").to_series())


def add_content_hash(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``content_hash``: SHA-256 (hex) of the normalised body; equal bodies, equal hash."""
    hashed = normalized_body(df).to_frame().select(pl.col("body").chash.sha2_256())
    return df.with_columns(hashed.to_series().alias("content_hash"))


def _shingle_hashes(df: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Flat uint64 hashes of every doc's word 5-grams and the row offsets into them (vectorised)."""
    # The words are the runs of letters and digits of the lower-cased body. Each run of other
    # characters that holds more than spaces becomes one space, and splitting at spaces yields the
    # words, in order, plus empty pieces (few: at the ends, and where a body has spaces in a row);
    # without those that is exactly extract_all(r"[\p{L}\p{N}]+"), at a lower cost: the
    # regex stops only at punctuation, not at every space, and split's pieces are views, not copies.
    pieces = df.select(
        pl.col("body")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]*[^\p{L}\p{N} ][^\p{L}\p{N}]*", " ")
        .str.split(" ")
        .alias("t")
    )
    per_row = pieces.select(pl.col("t").list.len()).to_series().to_numpy().astype(np.int64)
    words = pieces.select(pl.col("t").explode())
    is_word = words.select(pl.col("t").str.len_bytes() > 0).to_series().to_numpy()
    flat = words.select(plh.col("t").nchash.xxhash64()).to_series().to_numpy()[is_word]
    seen = np.concatenate([[0], np.cumsum(is_word)])  # words before each piece
    piece_ends = np.cumsum(per_row)
    lens = seen[piece_ends] - seen[piece_ends - per_row]
    n = flat.size
    with np.errstate(over="ignore"):  # multiplication wraps modulo 2**64 on purpose
        shingles = flat * _MIX[0]
        for j in range(1, SHINGLE):  # past the last word of all, a shingle adds nothing (zero padding)
            shingles[: max(n - j, 0)] += flat[j:] * _MIX[j]
    starts = np.cumsum(lens) - lens
    # a doc shorter than a shingle gets one shingle of all its words (the sums above ran on into
    # the next doc's words); such a doc is far below min_words, so no stored signature changes
    short = np.flatnonzero((lens > 0) & (lens < SHINGLE))
    if short.size:
        own = np.zeros(short.size, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(SHINGLE - 1):
                has = lens[short] > j
                own[has] += flat[starts[short][has] + j] * _MIX[j]
        shingles[starts[short]] = own
    # a doc keeps the shingles that start on one of its first len - 4 words, a short one its one shingle
    counts = np.where(lens >= SHINGLE, lens - SHINGLE + 1, np.minimum(lens, 1))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    keep = np.arange(offsets[-1]) + np.repeat(starts - offsets[:-1], counts)
    return shingles[keep], offsets.astype(np.uint64)


def add_minhash(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``minhash``: a 128-value MinHash signature of the body's word 5-grams (rows need a body)."""
    if df.height == 0:
        return df.with_columns(pl.lit(None, dtype=pl.List(pl.UInt32)).alias("minhash"))
    flat, offsets = _shingle_hashes(df)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, num_perm=NUM_PERM, seed=SEED)
    # rensa hands the signatures out only as lists of Python ints: flattened into one buffer they
    # fill a uint32 array faster than numpy builds one from the nested lists, and the array of
    # rows is reshaped into fixed-size lists without copying
    rows = array.array("I", itertools.chain.from_iterable(matrix.to_rows()))  # "I": C unsigned int
    values = np.frombuffer(rows, dtype=np.uintc).astype(np.uint32, copy=False)
    return df.with_columns(pl.Series("minhash", values).reshape((-1, NUM_PERM)).cast(pl.List(pl.UInt32)))


def assign_duplicates(current: pl.DataFrame, earlier: pl.DataFrame) -> pl.DataFrame:
    """``doc_id`` → ``duplicate_of``: the first-seen doc (by ingest date, then path) with the same content hash."""
    cols = ["doc_id", *_ORDER, "content_hash"]
    everything = pl.concat([earlier.select(cols), current.select(cols)], how="vertical_relaxed").sort(_ORDER)
    first = everything.group_by("content_hash", maintain_order=True).agg(pl.col("doc_id").first().alias("_first"))
    return (
        current.select("doc_id", "content_hash")
        .join(first, on="content_hash", how="left")
        .select("doc_id", pl.when(pl.col("_first") != pl.col("doc_id")).then("_first").alias("duplicate_of"))
    )


def _band_keys(signatures: np.ndarray) -> np.ndarray:
    """One uint64 key per (row, band) from the band's rows of the signature."""
    rows = NUM_PERM // BANDS
    keys = np.tile(np.arange(BANDS, dtype=np.uint64), (len(signatures), 1))
    with np.errstate(over="ignore"):
        for j in range(rows):  # band b holds values b*rows .. b*rows+rows-1: column j of each band is j::rows
            keys += signatures[:, j::rows].astype(np.uint64) * _MIX[j]
    return keys


def _signature_matrix(minhash: pl.Series) -> np.ndarray:
    """A (rows, NUM_PERM) uint32 array from a ``list[u32]`` column: a view of its values, no per-row lists."""
    return minhash.cast(pl.Array(pl.UInt32, NUM_PERM)).to_numpy()


def relevant_earlier(
    parts: Iterable[pl.DataFrame], current: pl.DataFrame, window_start: dt.date
) -> pl.DataFrame | None:
    """The few earlier rows that decide ``current``'s links, read one partition at a time (oldest first).

    Kept: for each content hash of ``current``, its first-seen earlier row (any date); for each LSH
    bucket of ``current``, its first-seen earlier row from ``window_start`` on. Those are exactly the
    rows :func:`assign_duplicates` points at and the heads :func:`assign_stories` compares new docs
    with, so at most one row per hash and per bucket of ``current`` is kept: memory and work are
    bounded by the partition, not by the history (a story reprinted every day would otherwise add
    a day's worth of rows to every later partition's linking).
    """
    hashes = current["content_hash"].unique()
    keys = pl.Series(_band_keys(_signature_matrix(current["minhash"])).ravel()).unique()  # buckets without a head yet
    kept = []
    for part in parts:
        part = part.sort("source_path")  # within a day, first seen = first by path (see _ORDER)
        same_text = part.select(pl.col("content_hash").is_in(hashes.implode())).to_series()
        first_text = (
            part.with_row_index("_row").filter(same_text).unique("content_hash", keep="first", maintain_order=True)
        )
        keep = np.zeros(part.height, dtype=bool)
        keep[first_text["_row"].to_numpy()] = True
        hashes = hashes.filter(~hashes.is_in(first_text["content_hash"].implode()))  # later days can't be first
        recent = np.flatnonzero(part.select(pl.col("ingest_date") >= window_start).to_series().to_numpy())
        if recent.size and keys.len():
            band_keys = pl.Series(_band_keys(_signature_matrix(part["minhash"][recent])).ravel())  # row-major
            hit = np.flatnonzero(band_keys.is_in(keys.implode()).to_numpy())
            # each bucket's first row in this day: the first hit in row-major order
            heads = pl.DataFrame({"key": band_keys.gather(hit), "at": hit}).unique(
                "key", keep="first", maintain_order=True
            )
            keep[recent[heads["at"].to_numpy() // BANDS]] = True
            keys = keys.filter(~keys.is_in(heads["key"].implode()))
        kept.append(part.filter(pl.Series(keep)))
    return pl.concat(kept, how="vertical_relaxed") if kept else None


def assign_stories(current: pl.DataFrame, earlier: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """``doc_id`` → ``story_id``: near-duplicates (estimated Jaccard ≥ threshold) share the first-seen member's id.

    ``earlier`` holds docs of earlier partitions with their ``story_id``; a new doc that joins one
    of their stories takes that id, so story ids stay stable across partitions and runs.
    """
    cols = ["doc_id", *_ORDER, "minhash"]
    docs = pl.concat(
        [
            earlier.select(*cols, "story_id").with_columns(pl.lit(False).alias("new")),
            current.select(cols).with_columns(
                pl.lit(None, dtype=pl.String).alias("story_id"), pl.lit(True).alias("new")
            ),
        ],
        how="vertical_relaxed",
    ).sort(_ORDER)
    n = docs.height
    if n == 0:
        return current.select("doc_id", pl.lit(None, dtype=pl.String).alias("story_id"))
    sig = _signature_matrix(docs["minhash"])
    # one (key, row) per row and band, row-major: a bucket's first entry is its first-seen member, its head
    keys = pl.DataFrame({"key": _band_keys(sig).ravel(), "row": np.repeat(np.arange(n, dtype=np.uint32), BANDS)})
    heads = keys.unique("key", keep="first", maintain_order=True).rename({"row": "head"})
    new_keys = keys.filter(pl.Series(np.repeat(docs["new"].to_numpy(), BANDS)))["key"]
    # only buckets that hold a new doc matter: earlier partitions were linked when they were published;
    # each links its members to its head, a star rather than all pairs, so big buckets stay linear
    pairs = np.unique(  # (head, row) packed in one uint64: sorted by head, no 2-column hash table
        keys.filter(pl.col("key").is_in(new_keys.implode()))
        .join(heads, on="key")
        .filter(pl.col("row") != pl.col("head"))
        .select(pl.col("head").cast(pl.UInt64) * 2**32 + pl.col("row"))
        .to_series()
        .to_numpy()
    )
    a, b = (pairs >> 32).astype(np.intp), (pairs & 0xFFFFFFFF).astype(np.intp)
    # compared in chunks: all pairs' signatures at once would take ~1 KB per pair (GBs for big clusters)
    agree = np.ceil(threshold * NUM_PERM)  # equal signature values needed for the estimated Jaccard
    similar = (
        np.concatenate(
            [
                np.count_nonzero(sig[a[i : i + _PAIR_CHUNK]] == sig[b[i : i + _PAIR_CHUNK]], axis=1) >= agree
                for i in range(0, len(a), _PAIR_CHUNK)
            ]
        )
        if len(a)
        else np.zeros(0, dtype=bool)
    )
    graph = coo_matrix((np.ones(similar.sum()), (a[similar], b[similar])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    docs = docs.with_columns(pl.Series("component", component))
    story_of = docs.group_by("component").agg(
        pl.coalesce(pl.col("story_id").drop_nulls().first(), pl.col("doc_id").first()).alias("story")
    )
    return (
        current.select("doc_id")
        .join(docs.select("doc_id", "component"), on="doc_id", how="left")
        .join(story_of, on="component", how="left")
        .select("doc_id", pl.col("story").alias("story_id"))
    )
