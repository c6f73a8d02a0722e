"""Entity spans found by gazetteer look-up and by rules, resolved into each article's persons, organisations, places."""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.entities.features import (
    BITS,
    bit,
    flags,
    gather,
    head,
    heads,
    mask_at,
    span_text,
    tokens,
    where,
)
from news_pipeline.stages.entities.lexicon import (
    DESCRIPTOR_RE,
    ENTITY_COLUMNS,
    LEGAL_DROP,
    ORG,
    PER,
    PRIO_GAZ,
    PRIO_RULE,
    gazetteer,
    lookups,
)


def _gazetteer_spans(f: pl.DataFrame) -> pl.DataFrame:
    """Longest gazetteer entries starting at each token, plus entity heads of hyphen compounds ("Tesla-Chef")."""
    lk = lookups()
    gaz = gazetteer()
    max_n: int = lk["max_n"]  # type: ignore[assignment]
    cand = where(f, "gaz_head", "i", "tok")
    # One-token entries by a plain join; longer keys are built only where some multi-token entry starts.
    one = cand.join(gaz.filter(pl.col("n") == 1), left_on="tok", right_on="key", how="inner").select(
        "i", "n", "type", "canonical", "prio"
    )
    # Longer keys grow one token at a time, and only while they are the start of some longer entry; matches come out by
    # number of tokens, then position, as one join over all lengths at once gave them.
    multi_gaz = gaz.filter(pl.col("n") > 1)
    grow = where(f, "multi_head", "i", "tok").select("i", key="tok")
    long = []
    for k in range(1, max_n):
        grow = grow.with_columns(key=pl.concat_str([pl.col("key"), gather(f, "tok", grow["i"] + k)], separator=" "))
        long.append(
            grow.join(multi_gaz, on="key", how="inner", maintain_order="left").select(
                "i", "n", "type", "canonical", "prio"
            )
        )
        grow = grow.filter(pl.col("key").hash().is_in(lk["multi_prefixes"]))
    single: pl.DataFrame = lk["single"]  # type: ignore[assignment]
    compound = (
        heads(f, "i")
        .select("i", key="head")
        .join(single, on="key", how="inner")
        .select("i", n=pl.lit(1, pl.Int32), type="type", canonical="canonical", prio=pl.lit(PRIO_GAZ + 2, pl.Int32))
    )
    return pl.concat([one, *long, compound])


def _person_spans(f: pl.DataFrame) -> pl.DataFrame:
    """First name + surname patterns, and surnames after a job title ("Kanzler Faymann")."""

    def at(name: str, k: int) -> pl.Expr:
        return bit(name, f"m{k}")

    fn, sn = (lambda k: at("fn", k)), (lambda k: at("sn", k))
    # Candidate patterns as (length, condition) over consecutive tokens; the longest that holds wins.
    patterns = [
        (5, fn(0) & fn(1) & at("part", 2) & at("pnext", 3) & sn(4)),
        (4, fn(0) & sn(1) & at("pjoin", 2) & sn(3)),
        (4, fn(0) & at("part", 1) & at("pnext", 2) & sn(3)),
        (4, fn(0) & fn(1) & at("part", 2) & sn(3)),
        (4, fn(0) & at("letter", 1) & at("dot", 2) & sn(3)),
        (4, fn(0) & sn(1) & at("art", 2) & at("cap", 3)),
        (4, fn(0) & at("cap_part", 1) & at("pnext", 2) & sn(3)),
        (3, fn(0) & at("part", 1) & sn(2)),
        (3, fn(0) & at("patronymic", 1) & sn(2)),
        (3, fn(0) & fn(1) & sn(2)),
        (3, fn(0) & at("cap_part", 1) & sn(2)),
        (2, fn(0) & sn(1)),
    ]
    length = pl.lit(0, pl.Int32)
    for n, cond in sorted(patterns, key=lambda p: p[0]):
        length = pl.when(cond).then(pl.lit(n, pl.Int32)).otherwise(length)
    # Every pattern starts at a first name: only those and the few tokens after them are looked at.
    starts = where(f, "fn", "i", m0="m")
    starts = starts.with_columns(**{f"m{k}": mask_at(f, starts["i"], k) for k in range(1, 5)})
    full = starts.select("i", n=length).filter(pl.col("n") > 0)
    after = gather(f, "tok", full["i"] + full["n"].cast(pl.UInt32))
    full = full.with_columns(
        type=pl.lit(PER), canonical=span_text(f, full), prio=pl.lit(PRIO_RULE, pl.Int32), after=after
    )
    # "George Millers Actionspektakel": a name in the genitive right before a noun loses its "-s"; not for surnames
    # whose
    # "-s" belongs to the name ("Tsipras", "Varoufakis", "Wiggins", "Gonzáles").
    genitive = (
        pl.col("canonical").str.contains(r"\p{Ll}s$")
        & ~pl.col("canonical").str.contains(r"(?:[aiousxz]s|[iaeo]ns|ams|rds|rts|ips|es)$")
        & pl.col("after").str.contains(r"^\p{Lu}\p{Ll}").fill_null(False)
    )
    full = full.with_columns(
        canonical=pl.when(genitive)
        .then(pl.col("canonical").str.replace(r"s$", ""))
        .otherwise(pl.col("canonical"))
        # German transliteration varies between "Dmitrij" and "Dmitri"; keep the shorter, more common form.
        .str.replace(r"^(Dmitr|Jur|Anatol|Wital|Jewgen|Grigor|Arkad|Valer|Waler)ij ", "${1}i ")
    ).drop("after")
    # A surname right after a title counts when no further name part follows ("Kanzler Faymann sagte").
    titled = where(f, "title", "i")
    titled = titled.with_columns(**{f"m{k}": mask_at(f, titled["i"], k) for k in range(1, 3)})
    titled = titled.filter(sn(1) & ~fn(1) & ~at("nounish", 1) & ~sn(2) & ~at("part", 2) & ~at("art", 2))
    titled = titled.select(
        i=pl.col("i") + 1, n=pl.lit(1, pl.Int32), type=pl.lit(PER), prio=pl.lit(PRIO_RULE + 1, pl.Int32)
    )
    titled = titled.with_columns(canonical=gather(f, "tok", titled["i"])).select("i", "n", "type", "canonical", "prio")
    return pl.concat([full, titled])


def _org_spans(f: pl.DataFrame) -> pl.DataFrame:
    """Rule-based organisations: legal forms, institution + place, club prefixes, "-ministerium" compounds."""
    return pl.concat([_legal_form_spans(f), *_named_org_spans(f)])


def _legal_form_spans(f: pl.DataFrame) -> pl.DataFrame:
    """Organisations ending in a legal form ("Böhler Bleche GmbH")."""
    # A legal form ends a run of up to four capitalised words right before it ("Böhler Bleche GmbH").
    legal = where(f, "legal", "i")
    legal = legal.with_columns(**{f"p{k}": mask_at(f, legal["i"], -k) for k in range(1, 5)})
    run, ok = pl.lit(0, pl.Int32), pl.lit(True)
    for k in range(1, 5):
        ok = ok & bit("word", f"p{k}")
        run = run + ok.cast(pl.Int32)
    legal = legal.with_columns(run=run).filter(pl.col("run") > 0)
    legal = legal.select(i=pl.col("i") - pl.col("run").cast(pl.UInt32), n=(pl.col("run") + 1).cast(pl.Int32))
    # A leading descriptive noun is not part of the name ("Tochter Zielpunkt GmbH", "Leitbetriebes Böhler Bleche GmbH").
    descriptive = gather(f, "tok", legal["i"]).str.contains(DESCRIPTOR_RE) & (legal["n"] > 2)
    legal = legal.with_columns(i=pl.col("i") + descriptive.cast(pl.UInt32), n=pl.col("n") - descriptive.cast(pl.Int32))
    return legal.with_columns(type=pl.lit(ORG), canonical=span_text(f, legal), prio=pl.lit(PRIO_RULE, pl.Int32))


def _named_org_spans(f: pl.DataFrame) -> list[pl.DataFrame]:
    """Institution + place, club + name, "-ministerium" compounds, abbreviations in parentheses or before a role."""
    lk = lookups()
    loc1: pl.DataFrame = lk["locations_1"]  # type: ignore[assignment]
    heads = where(f, "inst", "i", "tok").select("i", head=pl.col("tok").str.replace(r"e?s$", ""))
    inst = (
        heads.with_columns(nxt=gather(f, "tok", heads["i"] + 1))
        .join(loc1, left_on="nxt", right_on="key", how="inner")
        .select(
            "i",
            n=pl.lit(2, pl.Int32),
            type=pl.lit(ORG),
            canonical=pl.concat_str([pl.col("head"), pl.col("canonical")], separator=" "),
            prio=pl.lit(PRIO_RULE, pl.Int32),
        )
    )
    clubs = where(f, "club", "i", "tok")
    club = (
        clubs.with_columns(nxt=gather(f, "tok", clubs["i"] + 1))
        .filter(pl.col("nxt").str.contains(r"^\p{Lu}\p{Ll}") & ~pl.col("nxt").is_in(lk["stop"]))
        .select(
            "i",
            n=pl.lit(2, pl.Int32),
            type=pl.lit(ORG),
            canonical=pl.concat_str([pl.col("tok"), pl.col("nxt")], separator=" "),
            prio=pl.lit(PRIO_RULE + 1, pl.Int32),
        )
    )
    ministry = where(f, "ministry", "i", "tok").select(
        "i",
        n=pl.lit(1, pl.Int32),
        type=pl.lit(ORG),
        canonical=pl.col("tok").str.replace(r"ums$", "um"),
        prio=pl.lit(PRIO_RULE, pl.Int32),
    )
    # "(HTT)", "(LLI)": an abbreviation alone in parentheses; "AFBÖ-Präsident": one before a role.
    acro = where(f, "acro", "i", "tok")
    acro = acro.with_columns(before=gather(f, "tok", acro["i"] - 1), after=gather(f, "tok", acro["i"] + 1))
    paren = acro.filter(pl.col("before").str.ends_with("(") & pl.col("after").str.contains(r"^[)/]")).select(
        "i", n=pl.lit(1, pl.Int32), type=pl.lit(ORG), canonical="tok", prio=pl.lit(PRIO_RULE + 1, pl.Int32)
    )
    role = where(f, "acro_role", "i", "tok").select(
        "i",
        n=pl.lit(1, pl.Int32),
        type=pl.lit(ORG),
        canonical=pl.col("tok").str.extract(r"^([^-]+)-", 1),
        prio=pl.lit(PRIO_RULE + 1, pl.Int32),
    )
    return [inst, club, ministry, paren, role]


def _resolve(spans: pl.DataFrame) -> pl.DataFrame:
    """Keep non-overlapping spans: earliest start first, then longest, then curated before rules."""
    spans = spans.sort(["i", "n", "prio"], descending=[False, True, False]).unique(
        subset=["i"], keep="first", maintain_order=True
    )
    covered_until = (pl.col("i") + pl.col("n")).cum_max().shift(1).fill_null(0)
    return spans.filter(pl.col("i") >= covered_until)


def _surname_mentions(f: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Bare or genitive surnames ("Musk", "Musks", "Trump-Regierung") of a person named in full in the same article."""
    # One-token place or organisation spans may be re-read this way ("Max Schrems" ... "Schrems" is the person, not the
    # town).
    people = kept.filter((pl.col("type") == PER) & pl.col("canonical").str.contains(" "))
    surnames = people.select("doc", "canonical", surname=pl.col("canonical").str.split(" ").list.last())
    forms = pl.concat(
        [
            surnames.select("doc", "canonical", form="surname"),
            surnames.select("doc", "canonical", form=pl.col("surname") + "s"),
        ]
    ).unique(subset=["doc", "form"], keep="first", maintain_order=True)
    taken = (
        kept.filter((pl.col("type") == PER) | (pl.col("n") > 1))
        .select(idx=pl.int_ranges(pl.col("i"), pl.col("i") + pl.col("n")))
        .explode("idx")
    )
    # Capitalised tokens spelled like some surname form (picked by hash, then joined exactly), and heads of hyphen
    # compounds.
    form_h = forms["form"].hash().implode()
    bare = f.select("doc", "i", form="tok", m="m").filter(f["h"].is_in(form_h) & ((f["m"] & BITS["cap"]) != 0))
    hyphen = where(f, "hyphen", "doc", "i", "h", "tok", "m").filter(bit("cap"))
    distinct = (
        hyphen.unique(subset="h").select("h", form=head(pl.col("tok"))).filter(pl.col("form").hash().is_in(form_h))
    )
    heads = hyphen.join(distinct, on="h", how="inner", maintain_order="left").select("doc", "i", "form", "m")
    cand = pl.concat([bare, heads])
    # Not right after an article or contracted preposition, where a capitalised word is usually a noun ("im Kern", "Der
    # Kern").
    noun_ctx = (mask_at(f, cand["i"], -1) & (BITS["det_end"] | BITS["cap_det"])) != 0
    return (
        cand.filter(~noun_ctx)
        .join(taken, left_on="i", right_on="idx", how="anti")
        .join(forms, on=["doc", "form"], how="inner", maintain_order="left")
        .unique(subset=["i"], keep="first", maintain_order=True)
        .select(
            "i",
            n=pl.lit(1, pl.Int32),
            type=pl.lit(PER),
            canonical="canonical",
            prio=pl.lit(PRIO_RULE, pl.Int32),
            doc="doc",
        )
    )


def _canonical_persons(kept: pl.DataFrame) -> pl.DataFrame:
    """Map genitive full names ("Elon Musks") and bare surnames to the full name used elsewhere in the article."""
    is_per = pl.col("type") == PER
    per = kept.filter(is_per)
    # In order of first mention, so that a surname shared by two full names of one article maps to the first of them;
    # a plain unique() gave an arbitrary order, and so a different choice from call to call.
    names = per.select("doc", name="canonical").unique(maintain_order=True)
    full = names.filter(pl.col("name").str.contains(" ")).with_columns(
        surname=pl.col("name").str.split(" ").list.last()
    )
    # Only person rows change: look them up alone (the caller sorts the rows again).
    stripped = pl.col("canonical").str.replace(r"s$", "")
    per = per.with_columns(alt=pl.when(pl.col("canonical").str.contains(r"[^s]s$")).then(stripped))
    per = per.join(names.rename({"name": "alt"}).with_columns(hit=pl.lit(True)), on=["doc", "alt"], how="left")
    per = per.with_columns(canonical=pl.when(pl.col("hit")).then(pl.col("alt")).otherwise(pl.col("canonical"))).drop(
        "alt", "hit"
    )
    first_full = full.unique(subset=["doc", "surname"], keep="first")
    per = per.join(first_full.rename({"surname": "canonical", "name": "full"}), on=["doc", "canonical"], how="left")
    per = per.with_columns(
        canonical=pl.when(pl.col("full").is_not_null()).then(pl.col("full")).otherwise(pl.col("canonical"))
    ).drop("full")
    return pl.concat([kept.filter(~is_per), per])


def _strip_legal(kept: pl.DataFrame) -> pl.DataFrame:
    """Drop a trailing legal form when the bare name is also an organisation of the article or of the gazetteer."""
    gaz_orgs = lookups()["gaz_orgs"]
    pattern = r"\s+(?:" + "|".join(LEGAL_DROP) + r")$"
    org = pl.col("type") == ORG
    # Only organisations ending in a legal form can change: look them up alone (the caller sorts the rows again).
    legal = org & pl.col("canonical").str.contains(pattern)
    kept = kept.with_columns(legal=legal)
    cand = kept.filter(pl.col("legal")).with_columns(bare=pl.col("canonical").str.replace(pattern, ""))
    doc_orgs = kept.filter(org).select("doc", bare="canonical").unique().with_columns(in_doc=pl.lit(True))
    cand = cand.join(doc_orgs, on=["doc", "bare"], how="left")
    known = pl.col("in_doc").fill_null(False) | pl.col("bare").is_in(gaz_orgs).fill_null(False)
    cand = cand.with_columns(canonical=pl.when(known).then(pl.col("bare")).otherwise(pl.col("canonical"))).drop(
        "bare", "in_doc"
    )
    return pl.concat([kept.filter(~pl.col("legal")), cand]).drop("legal")


def extract_entities(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``persons``, ``organizations`` and ``locations`` to ``df``: unique lists, in order of first mention."""
    empty = pl.lit([], dtype=pl.List(pl.String))
    # Existing (e.g. placeholder) entity columns are replaced, not duplicated.
    df = df.drop([c for c in ENTITY_COLUMNS if c in df.columns])
    if df.height == 0:
        return df.with_columns(**dict.fromkeys(ENTITY_COLUMNS, empty))
    f = flags(tokens(df))
    spans = pl.concat([_gazetteer_spans(f), _person_spans(f), _org_spans(f)])
    kept = _resolve(spans)
    kept = kept.with_columns(doc=f["doc"].gather(kept["i"]))
    mentions = _surname_mentions(f, kept).select(kept.columns)
    kept = pl.concat([kept.join(mentions.select("i"), on="i", how="anti"), mentions]).sort("i")
    kept = _strip_legal(_canonical_persons(kept)).sort("i")
    grouped = kept.group_by("doc", maintain_order=True).agg(
        **{c: pl.col("canonical").filter(pl.col("type") == c).unique(maintain_order=True) for c in ENTITY_COLUMNS}
    )
    out = (
        df.with_row_index("__doc")
        .join(grouped, left_on="__doc", right_on="doc", how="left", maintain_order="left")
        .drop("__doc")
    )
    return out.with_columns(pl.col(c).fill_null(empty) for c in ENTITY_COLUMNS)
