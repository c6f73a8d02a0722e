"""Tokens of the article text and their features, packed into one bit mask per token."""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.entities.lexicon import (
    ARTICLE_RUNS,
    NOUN_CONTEXT,
    PARTICLE_RUNS,
    PARTICLES_NEXT,
    ROLE_COMPOUND_RE,
    SURNAME_JOINERS,
    TITLE_RE,
    TOKEN_RE,
    lookups,
)


def tokens(df: pl.DataFrame) -> pl.DataFrame:
    """One row per token: ``doc`` (row number), ``i`` (global position), ``tok``.

    Every article starts and ends with "\n".
    """
    lower: list[str] = lookups()["lower"]  # type: ignore[assignment]
    text = df.select(
        pl.concat_str(
            [
                pl.lit("\n"),
                *[
                    e
                    for c in ("title", "teaser", "body")
                    for e in (pl.col(c).cast(pl.String).fill_null(""), pl.lit("\n"))
                ],
            ]
        )
    ).to_series()
    # Few articles hold a lower-case start: a literal search per word and a replace in those articles only is far
    # cheaper than replacing in every article.
    hit = (
        pl.select(pl.any_horizontal([pl.lit(text).str.contains(w, literal=True) for w in lower])).to_series().arg_true()
        if lower
        else []
    )
    if len(hit):
        text = text.scatter(hit, text.gather(hit).str.replace_many(lower, [w[:1].upper() + w[1:] for w in lower]))
    return (
        pl.DataFrame(
            {"doc": pl.int_range(len(text), dtype=pl.UInt32, eager=True), "tok": text.str.extract_all(TOKEN_RE)}
        )
        .explode("tok")
        .drop_nulls("tok")
        .with_row_index("i")
    )


# Per-token features, packed into one bit mask ``m``: computed once per distinct token and mapped back to the tokens.
WORD_FEATURES = [
    "cap",
    "fn",
    "sn",
    "title",
    "cap_part",
    "letter",
    "cap_det",
    "gaz_head",
    "multi_head",
    "word",
    "legal",
    "inst",
    "club",
    "ministry",
    "acro",
    "acro_role",
    "patronymic",
    "nounish",
    "hyphen",
]
# Runs (lower-case words and punctuation) only need a few features of their own.
RUN_FEATURES = ["part", "pnext", "pjoin", "art", "dot", "amp", "det_end"]
BITS = {name: 1 << k for k, name in enumerate([*WORD_FEATURES, *RUN_FEATURES])}


def bit(name: str, col: str = "m") -> pl.Expr:
    """Whether feature ``name`` is set in the packed mask ``col``."""
    return (pl.col(col) & BITS[name]) != 0


def head(tok: pl.Expr) -> pl.Expr:
    """The first part of a hyphen compound ("Tesla" of "Tesla-Chef", "Trump" of "Ex-Trump-Berater").

    Only for ``hyphen`` tokens.
    """
    return tok.str.extract(r"^((?:Ex-|Anti-|Pro-)?[^-]+)-", 1).str.replace(r"^(?:Ex|Anti|Pro)-", "")


def _lexicon(h: pl.Series) -> pl.Series:
    """The word-list bits (see :func:`lookups`) of the words hashed in ``h``, 0 for words in no list."""
    lk = lookups()
    return h.replace_strict(lk["lexicon_h"], lk["lexicon_bits"], default=0, return_dtype=pl.UInt32)


def _word_masks(ws: pl.Series) -> pl.Series:
    """Feature masks of distinct words (capitalised words and numbers)."""
    lk = lookups()
    lex: dict[str, int] = lk["lexicon"]  # type: ignore[assignment]
    n = len(ws)
    # Heads, accent-folded forms and parts are only needed for the few hyphenated or non-ASCII words; they are computed
    # for those alone and looked up in the lexicon in one go with the words themselves.
    hy = ws.str.contains("-", literal=True)
    hy_idx, na_idx = hy.arg_true(), ws.str.contains(r"[^\x00-\x7f]").arg_true()
    compounds = pl.DataFrame({"w": ws.gather(hy_idx)})
    heads = compounds.select(head(pl.col("w"))).to_series()
    folded = ws.gather(na_idx).str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    bits = _lexicon(pl.concat([ws.hash(), heads.hash(), folded.hash()]))
    head_lex = bits.slice(n, len(hy_idx))
    compounds = compounds.select(
        # A hyphenated first name needs every part to be one ("Hans-Peter").
        parts_first=pl.col("w").str.split("-").list.eval(pl.element().hash().is_in(lk["first_h"])).list.all(),
        # "AFBÖ-Präsident", "LLI-Chef": an abbreviation before a role names the organisation, unless known as something
        # else.
        acro_role=pl.col("w").str.contains(ROLE_COMPOUND_RE)
        & ((pl.lit(head_lex) & (lex["non_org"] | lex["single_entities"])) == 0),
    )
    v = pl.DataFrame(
        {
            "w": ws,
            "lex": bits.slice(0, n),
            "folded_lex": pl.zeros(n, pl.UInt32, eager=True).scatter(na_idx, bits.slice(n + len(hy_idx), len(na_idx))),
            "hyphen": hy,
            "parts_first": pl.repeat(False, n, eager=True).scatter(hy_idx, compounds["parts_first"].fill_null(False)),
            "acro_role": pl.repeat(False, n, eager=True).scatter(hy_idx, compounds["acro_role"]),
        }
    )
    mask = pl.sum_horizontal([e.cast(pl.UInt32) * BITS[name] for name, e in _word_features(lex).items()])
    # Lazy, so that sub-expressions shared by several features are computed once.
    return v.lazy().select(m=mask).collect().to_series()


def _word_features(lex: dict[str, int]) -> dict[str, pl.Expr]:
    """Each word feature as an expression over ``w`` (the word), ``lex``/``folded_lex`` (word-list bits), flags."""
    w = pl.col("w")

    def listed(name: str, col: str = "lex") -> pl.Expr:
        return (pl.col(col) & lex[name]) != 0

    name_like = w.str.contains(r"^\p{Lu}[\p{L}\p{M}'’]*\p{Ll}[\p{L}\p{M}'’]*(?:-\p{Lu}[\p{L}\p{M}'’]*)*$")
    stop = listed("stop")
    entity = listed("single_entities")
    # Also a first name: its accent-folded form ("Francois"), or every part of a hyphenated name.
    known_first = listed("first") | listed("first", "folded_lex") | pl.col("parts_first")
    cap = w.str.contains(r"^\p{Lu}")
    title = w.str.contains(TITLE_RE) & cap
    return {
        "cap": cap,
        # A first name that is also a known place or organisation ("Paris", "Magna", "Iran") does not start a name.
        "fn": known_first & name_like & ~stop & ~listed("not_first") & ~entity,
        "sn": name_like & ~stop & ~listed("single_locations") & ~title,
        "title": title,
        "cap_part": listed("cap_particles"),
        "letter": w.str.contains(r"^\p{Lu}$"),
        "cap_det": listed("noun_context_cap"),
        "gaz_head": listed("heads"),
        "multi_head": listed("multi_heads"),
        "word": w.str.contains(r"^[\p{Lu}\p{N}]") & ~stop,
        "legal": listed("legal_forms"),
        "inst": listed("institution_heads") | w.str.contains(r"^\p{Lu}\p{Ll}+(?:gerichts|gerichtes)$"),
        "club": listed("club_prefixes"),
        "ministry": w.str.contains(r"^\p{Lu}\p{Ll}+ministeriums?$"),
        # Russian patronymics between first name and surname ("Alexander Jewgenjewitsch Lebedew").
        "patronymic": w.str.contains(r"^\p{Lu}\p{Ll}+(?:owitsch|ewitsch|jewitsch|itsch|owna|ewna|jewna|itschna)$"),
        # Endings of German abstract nouns, which follow job titles as objects ("dem Finanzminister Zynismus
        # vorwerfen").
        "nounish": w.str.contains(
            r"(?:ung|heit|keit|schaft|tion|tät|nis|ismus|ment|tum|gang|zugang|ziel|zahl|recht|geld|zeit|werk)$"
        ),
        # Abbreviations (two or more capitals) that may name an organisation ("AFBÖ", "HTT"), unless known as something
        # else.
        "acro": w.str.contains(r"^[A-ZÄÖÜ][0-9&]*[A-ZÄÖÜ][A-ZÄÖÜ0-9&]{0,5}$") & ~stop & ~entity & ~listed("non_org"),
        "acro_role": pl.col("acro_role"),
        # Hyphen compounds ("Tesla-Chef"); their head is computed where needed, for these few tokens only.
        "hyphen": pl.col("hyphen"),
    }


def _run_bits() -> dict[str, int]:
    """The runs that are particles, joiners, articles, "." or "&", with their feature bits."""
    # "&" joins the words of a company name ("Procter & Gamble AG"), so it also counts as a word there.
    listed = [
        ("part", PARTICLE_RUNS),
        ("pnext", PARTICLES_NEXT),
        ("pjoin", SURNAME_JOINERS),
        ("art", ARTICLE_RUNS),
        ("dot", ["."]),
        ("amp", ["&"]),
        ("word", ["&"]),
    ]
    out: dict[str, int] = {}
    for name, runs in listed:
        for run in runs:
            out[run] = out.get(run, 0) | BITS[name]
    return out


RUN_BITS = _run_bits()


def _run_masks(runs: pl.Series) -> pl.Series:
    """Feature masks of distinct runs (lower-case words and punctuation between capitalised words)."""
    listed = runs.replace_strict(list(RUN_BITS), list(RUN_BITS.values()), default=0, return_dtype=pl.UInt32)
    # A run ending in an article or contracted preposition: a capitalised word after it is usually a noun ("im Kern").
    det_end = runs.str.contains(r"(?:^|\s)(?:" + "|".join(NOUN_CONTEXT) + r")\s*$")
    return listed | (det_end.cast(pl.UInt32) * BITS["det_end"])


def _vocabulary(tokens: pl.Series) -> pl.Series:
    """The feature mask of each distinct token (far fewer than tokens), in the order given."""
    run = ~tokens.str.contains(r"^[\p{Lu}\p{N}]")
    word_idx, run_idx = (~run).arg_true(), run.arg_true()
    m = pl.zeros(len(tokens), pl.UInt32, eager=True)
    return m.scatter(word_idx, _word_masks(tokens.gather(word_idx))).scatter(
        run_idx, _run_masks(tokens.gather(run_idx))
    )


def flags(toks: pl.DataFrame) -> pl.DataFrame:
    """Tokens with their hash ``h`` and packed feature mask ``m`` (see :func:`bit`)."""
    h = toks["tok"].hash()
    # Features are computed once per distinct token; 64-bit hashes stand in for the strings when mapping them back.
    first = h.arg_unique()
    m = h.replace_strict(h.gather(first), _vocabulary(toks["tok"].gather(first)), return_dtype=pl.UInt32)
    return toks.with_columns(h=h, m=m)


def where(f: pl.DataFrame, name: str, *cols: str, **named: str) -> pl.DataFrame:
    """Columns ``cols`` (and ``named``, renamed) of the tokens with feature ``name``; only those columns filtered."""
    return f.select(*cols, **named).filter((f["m"] & BITS[name]) != 0)


def heads(f: pl.DataFrame, *cols: str) -> pl.DataFrame:
    """Columns ``cols`` and ``head`` of the hyphen compounds; the head is computed once per distinct compound."""
    rows = where(f, "hyphen", *cols, "h", "tok")
    distinct = rows.unique(subset="h").select("h", head=head(pl.col("tok")))
    return rows.join(distinct, on="h", how="left", maintain_order="left").drop(*{"h", "tok"} - set(cols))


def gather(f: pl.DataFrame, col: str, idx: pl.Series) -> pl.Series:
    """Column ``col`` at global positions ``idx`` (clipped; the last token of the frame is always "\n")."""
    return f[col].gather(idx.clip(0, f.height - 1))


def mask_at(f: pl.DataFrame, idx: pl.Series, k: int) -> pl.Series:
    """Masks of the tokens at ``idx + k``, 0 outside the frame: ``shift(-k).fill_null(0)``, but only for the rows asked.

    The rules test the neighbours of a few candidate tokens; gathering for those is far cheaper than shifting
    whole columns.
    """
    at = idx.cast(pl.Int64) + k
    m = f["m"].gather(at.clip(0, f.height - 1))
    return pl.select(pl.when(pl.lit(at).is_between(0, f.height - 1)).then(pl.lit(m)).otherwise(0)).to_series()


def span_text(f: pl.DataFrame, spans: pl.DataFrame) -> pl.Series:
    """The text of each span (``i``, ``n``): its tokens joined by spaces, "W ." and "al- Sisi" closed up."""
    longest = int(spans["n"].max() or 1)
    frame = pl.DataFrame({f"w{k}": gather(f, "tok", spans["i"] + k) for k in range(longest)}).with_columns(n=spans["n"])
    # concat_str skips the nulls past each span's end: far cheaper than building, cutting and joining lists.
    words = [pl.col("w0"), *[pl.when(pl.col("n") > k).then(pl.col(f"w{k}")) for k in range(1, longest)]]
    return frame.select(
        pl.concat_str(words, separator=" ", ignore_nulls=True)
        .str.replace_all(r" \. ", ". ")
        .str.replace_all(r"\b(al|el|as|ad|ar|an|ash|bin|ibn)- ", "$1-")
    ).to_series()
