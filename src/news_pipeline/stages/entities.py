"""Named entities (persons, organisations, locations) in German news text, by rules and gazetteers."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import polars as pl

RESOURCES = Path(__file__).parents[1] / "resources" / "entities"

PER, ORG, LOC = "persons", "organizations", "locations"
ENTITY_COLUMNS = (PER, ORG, LOC)

# Tokens: capitalised words, numbers, and "runs" of everything else (lower-case words and punctuation). Lower-case words
# and punctuation matter only as gaps, particles ("von der") and articles, so one row per run instead of per word cuts the
# rows to process by more than half.
_GAP = r"(?:\p{Ll}[\p{Ll}\p{M}\p{N}'’\-]*|[.!?;:,()\[\]\"„“”»«–—/&|\n%'’*+=<>#@§$€…-])"
TOKEN_RE = rf"\p{{Lu}}[\p{{L}}\p{{M}}\p{{N}}'’\-]*|\p{{N}}+(?:[.,]\p{{N}}+)*|{_GAP}(?:\s*{_GAP})*"
# Lower-case runs that join a first name to a surname ("Greg van Avermaet", "Humberto de la Calle", "Ursula von der Leyen").
PARTICLE_RUNS = [
    "van", "von", "de", "del", "della", "da", "di", "dos", "du", "ten", "ter", "bin", "ibn", "le", "la",
    "van der", "van den", "von der", "von den", "de la", "de las", "de los", "van de", "de le",
]
# Capitalised particles ("Alexander Van der Bellen", "Benedetto Della Vedova").
CAP_PARTICLES = ["Van", "Von", "De", "Di", "Da", "Del", "Della", "Dos", "Du", "Le", "La"]
PARTICLES_NEXT = ["der", "den", "la", "le", "los", "las"]
# Runs joining two surnames ("Cristina Fernandez de Kirchner").
SURNAME_JOINERS = ["de", "da", "del", "dos", "y"]
# Runs that glue an Arabic article to the next word ("al-Sisi" is tokenised "al-", "Sisi").
ARTICLE_RUNS = ["al-", "el-", "as-", "ad-", "ar-", "an-", "ash-", "bin-", "ibn-"]
# Articles and contracted prepositions; a capitalised word right after them is usually a noun ("im Kern", "Der Kern").
NOUN_CONTEXT = ["im", "am", "ein", "eine", "einen", "einem", "einer", "das", "dem", "des", "den", "der", "die", "zum", "zur", "vom", "beim", "ins", "ans"]
NOUN_CONTEXT_CAP = [w.capitalize() for w in NOUN_CONTEXT]
# A capitalised word after one of these job titles is a person even without a known first name ("Kanzler Faymann").
TITLE_RE = (
    r"(?i)(?:präsident|präsidentin|kanzler|kanzlerin|minister|ministerin|bürgermeister|bürgermeisterin|weltmeister|weltmeisterin"
    r"|landeshauptmann|landeshauptfrau|sprecher|sprecherin|chef|chefin|trainer|trainerin|coach|kapitän|papst|bischof|kardinal"
    r"|richter|richterin|anwalt|anwältin|direktor|direktorin|vorsitzende|vorsitzender|obmann|obfrau|premier|kollege|kollegin"
    r"|abgeordnete|abgeordneter|sänger|sängerin|autor|autorin|regisseur|regisseurin|schauspieler|schauspielerin|gründer|gründerin"
    r"|historiker|historikerin|ökonom|ökonomin|leiter|leiterin|torhüter|stürmer|verteidiger|tormann|spieler|spielerin|herr|herrn|frau"
    r"|landesrat|landesrätin|stadtrat|stadträtin|klubobmann|staatssekretär|staatssekretärin|generalsekretär|generalsekretärin)$"
)
# An abbreviation before a role ("AFBÖ-Präsident", "LLI-Chef").
ROLE_COMPOUND_RE = (
    r"^[A-ZÄÖÜ][A-ZÄÖÜ0-9&]{1,6}-(?i:\p{L}*(?:" + TITLE_RE.removeprefix("(?i)(?:").removesuffix(")$")
    + r"|experte|expertin|mitarbeiter|mitarbeiterin|vorstand|boss|führung))$"
)
# Legal forms that end a company name ("Böhler Bleche GmbH"); the first group is dropped from the canonical form
# when the bare name is known ("Casinos Austria AG" -> "Casinos Austria").
LEGAL_DROP = ["AG", "GmbH", "SE", "KG", "OG", "Inc", "Ltd", "Corp", "plc", "SA", "NV"]
LEGAL_FORMS = [*LEGAL_DROP, "Privatstiftung", "Holding", "Group"]
DESCRIPTOR_RE = (
    r"^(?:Tochter|Betreiber|Konzern|Firma|Unternehmen|Gesellschaft|Investmentfonds|Fonds|Anbieter|Hersteller|Händler|Mutter|Marke"
    r"|Bank|Versicherung|Investor|Eigentümer|Käufer|Verkäufer)$|\p{Ll}(?:ung|heit|keit|organisation|betriebes|betrieb|gesellschaft|unternehmen|konzern|firma|fonds|tochter)$"
)
# Institutions named after a place ("Landesgericht Linz", "Universität Wien"); the place inside is not a location mention.
INSTITUTION_HEADS = [
    "Universität", "Uni", "TU", "WU", "MedUni", "Med-Uni", "Fachhochschule", "FH", "Hochschule", "Landesgericht", "Oberlandesgericht",
    "Bezirksgericht", "Straflandesgericht", "Handelsgericht", "Landesverwaltungsgericht", "Diözese", "Erzdiözese", "Arbeiterkammer",
    "AK", "Wirtschaftskammer", "WK", "Landespolizeidirektion", "Magistrat", "Staatsanwaltschaft", "Bistum", "Erzbistum",
]
# Sports-club prefixes ("SV Ried", "FC Barcelona").
CLUB_PREFIXES = ["FC", "SC", "SV", "SK", "VfB", "VfL", "TSV", "AC", "AS", "SSC", "FK", "SKN", "SCR", "WSG", "TSG", "RB", "EC", "HC", "ASK", "SpVgg", "ATSV", "KSV", "DSV"]
# When spans start at the same token and are equally long, curated entries beat rules.
PRIO_GAZ, PRIO_RULE = 0, 1
MAX_SPAN = 6


def _lines(name: str) -> list[str]:
    """Non-comment, non-empty lines of a resource file (plain or gzip)."""
    path = RESOURCES / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh if line.strip() and not line.startswith("#")]


def _lower_starts() -> list[str]:
    """Curated entries that start in lower case ("dpa", "voestalpine", "n-tv"); they are capitalised before tokenising."""
    curated = [s for name in ("organizations.tsv", "locations_curated.tsv") for s, _ in _pairs(name)]
    return sorted({s.split(" ")[0] for s in curated if s[:1].islower()}, key=len, reverse=True)


@functools.cache
def _word_sets() -> dict[str, frozenset[str]]:
    """First names, stop words and blacklists, loaded once."""
    stop = frozenset(_lines("stopwords.txt"))
    not_first = frozenset(_lines("not_first_names.txt"))
    first = frozenset(n for n in _lines("first_names.txt.gz") if n not in stop and n not in not_first)
    non_org = frozenset(_lines("non_org_acronyms.txt")) | frozenset(_lines("country_codes.txt"))
    return {"first": first, "stop": stop, "not_first": not_first, "not_loc": frozenset(_lines("not_locations.txt")), "non_org": non_org}


def _pairs(name: str) -> list[tuple[str, str]]:
    """``surface<TAB>canonical`` rows; a missing canonical means the surface itself."""
    out = []
    for line in _lines(name):
        parts = line.split("\t")
        out.append((parts[0].strip(), (parts[1].strip() if len(parts) > 1 and parts[1].strip() else parts[0].strip())))
    return out


def _genitive(surface: str) -> str | None:
    """The German genitive of a one-word name ("Russland" -> "Russlands"), if it takes an "-s"."""
    if " " in surface or surface[-1:] in {"s", "x", "z", "ß", "S", "X", "Z"} or not surface[-1:].isalpha() or surface.isupper():
        return None
    return surface + "s"


@functools.cache
def _surfaces() -> dict[str, tuple[str, str]]:
    """Every curated or generated surface form -> (type, canonical), with generated inflections."""
    words = _word_sets()
    rows: dict[str, tuple[str, str]] = {}

    def add(surface: str, canonical: str, etype: str, overwrite: bool = False) -> None:
        if surface and (overwrite or surface not in rows):
            rows[surface] = (etype, canonical)

    for surface, canonical in _pairs("locations_generated.tsv.gz"):
        if surface not in words["not_loc"] and canonical not in words["not_loc"]:
            add(surface, canonical, LOC)
    # Curated files come later and overwrite, so a curated organisation beats a generated town of the same name.
    for surface, canonical in _pairs("locations_curated.tsv"):
        add(surface, canonical, LOC, overwrite=True)
    for surface, canonical in _pairs("organizations.tsv"):
        add(surface, canonical, ORG, overwrite=True)
    for line in _lines("persons.tsv"):
        parts = [*line.split("\t"), "", ""]
        full, solo, extra = parts[0].strip(), parts[1].strip(), parts[2].strip()
        for surface in [full, *filter(None, extra.split("|"))]:
            add(surface, full, PER, overwrite=True)
            add(surface + "s", full, PER)
        if solo == "1":
            surname = full.split()[-1]
            add(surname, full, PER)
            if (gen := _genitive(surname)) is not None:
                add(gen, full, PER)
    # Genitive forms of one-word places and organisations ("Russlands", "Googles"), and the weak adjective inflection
    # of multi-word ones ("Deutsche Post" -> "der Deutschen Post", "Rotes Kreuz" -> "vom Roten Kreuz").
    for surface, (etype, canonical) in list(rows.items()):
        if etype == PER:
            continue
        if (gen := _genitive(surface)) is not None:
            add(gen, canonical, etype)
        first, _, rest = surface.partition(" ")
        if rest and first[:1].isupper() and first[1:].isalpha() and first[1:].islower() and first.endswith(("e", "er", "es")):
            stem = first[:-1] if first.endswith("e") else first[:-2]
            add(f"{stem}en {rest}", canonical, etype)
    return rows


@functools.cache
def gazetteer() -> pl.DataFrame:
    """All entries as ``key`` (tokenised like article text), ``n`` (tokens), ``type``, ``canonical`` and ``prio``."""
    rows = _surfaces()
    lower = _lower_starts()
    values = list(rows.values())
    surfaces = pl.DataFrame(
        {"surface": list(rows), "type": [v[0] for v in values], "canonical": [v[1] for v in values]},
        schema={"surface": pl.String, "type": pl.String, "canonical": pl.String},
    )
    tokens = surfaces["surface"].str.replace_many(lower, [w[:1].upper() + w[1:] for w in lower]).str.extract_all(TOKEN_RE)
    frame = surfaces.with_columns(
        key=tokens.list.join(" "), n=tokens.list.len().cast(pl.Int32), lead=tokens.list.first().str.contains(r"^\p{Ll}")
    )
    # Entries that start with a lower-case run are never looked up (n-grams start at capitalised words); drop them.
    frame = frame.filter(~pl.col("lead") & (pl.col("n") <= MAX_SPAN) & (pl.col("n") > 0))
    return frame.select("key", "n", "type", "canonical", prio=pl.lit(PRIO_GAZ, pl.Int32)).unique(subset="key", keep="first", maintain_order=True)


@functools.cache
def _lookups() -> dict[str, object]:
    """Derived look-up tables for the vectorised rules, built once."""
    gaz = gazetteer()
    words = _word_sets()
    one = gaz.filter(pl.col("n") == 1)
    multi = gaz.filter(pl.col("n") > 1)
    lists = {
        "first": sorted(words["first"]),
        "stop": sorted(words["stop"]),
        "not_first": sorted(words["not_first"]),
        "non_org": sorted(words["non_org"]),
        "single_entities": one.filter(pl.col("type") != PER)["key"].to_list(),
        "single_locations": one.filter(pl.col("type") == LOC)["key"].to_list(),
        "heads": gaz["key"].str.extract(r"^(\S+)", 1).unique().to_list(),
        "multi_heads": multi["key"].str.extract(r"^(\S+)", 1).unique().to_list(),
        "cap_particles": CAP_PARTICLES,
        "noun_context_cap": NOUN_CONTEXT_CAP,
        "legal_forms": LEGAL_FORMS,
        "institution_heads": INSTITUTION_HEADS,
        "club_prefixes": CLUB_PREFIXES,
    }
    # Every word list in one table: the hash of a word -> a bit per list holding it. Looking hashes up in it is far
    # cheaper than an ``is_in`` per list, which rebuilds a set of tens of thousands of strings on every call.
    lexicon = (
        pl.concat([pl.DataFrame({"w": pl.Series(v, dtype=pl.String).unique(), "bit": 1 << k}) for k, v in enumerate(lists.values())])
        .group_by(h=pl.col("w").hash())
        .agg(bits=pl.col("bit").sum().cast(pl.UInt32))
    )
    # Keys of multi-token entries cut before each of their spaces: a longer key can only start with one of these.
    prefixes = sorted({" ".join(parts[:j]) for key in multi["key"] for parts in [key.split(" ")] for j in range(1, len(parts))})
    return {
        "lexicon_h": lexicon["h"],
        "lexicon_bits": lexicon["bits"],
        "lexicon": {name: 1 << k for k, name in enumerate(lists)},
        "multi_prefixes": pl.Series(prefixes, dtype=pl.String).hash().unique().implode(),
        "first_h": pl.Series(lists["first"], dtype=pl.String).hash().unique().implode(),
        "locations_1": one.filter(pl.col("type") == LOC).select("key", "canonical"),
        "single": one.select("key", "type", "canonical"),
        "max_n": int(gaz["n"].max() or 1),
        "stop": pl.Series(lists["stop"]).implode(),
        "gaz_orgs": gaz.filter(pl.col("type") == ORG)["canonical"].unique().implode(),
        "lower": _lower_starts(),
    }


def _tokens(df: pl.DataFrame) -> pl.DataFrame:
    """One row per token: ``doc`` (row number), ``i`` (global position), ``tok``; every article starts and ends with "\n"."""
    lower: list[str] = _lookups()["lower"]  # type: ignore[assignment]
    text = df.select(
        pl.concat_str([pl.lit("\n"), *[e for c in ("title", "teaser", "body") for e in (pl.col(c).cast(pl.String).fill_null(""), pl.lit("\n"))]])
    ).to_series()
    # Few articles hold a lower-case start: a literal search per word and a replace in those articles only is far
    # cheaper than replacing in every article.
    hit = pl.select(pl.any_horizontal([pl.lit(text).str.contains(w, literal=True) for w in lower])).to_series().arg_true() if lower else []
    if len(hit):
        text = text.scatter(hit, text.gather(hit).str.replace_many(lower, [w[:1].upper() + w[1:] for w in lower]))
    return (
        pl.DataFrame({"doc": pl.int_range(len(text), dtype=pl.UInt32, eager=True), "tok": text.str.extract_all(TOKEN_RE)})
        .explode("tok")
        .drop_nulls("tok")
        .with_row_index("i")
    )


# Per-token features, packed into one bit mask ``m``: computed once per distinct token and mapped back to the tokens.
WORD_FEATURES = [
    "cap", "fn", "sn", "title", "cap_part", "letter", "cap_det", "gaz_head", "multi_head", "word", "legal", "inst", "club",
    "ministry", "acro", "acro_role", "patronymic", "nounish", "hyphen",
]
# Runs (lower-case words and punctuation) only need a few features of their own.
RUN_FEATURES = ["part", "pnext", "pjoin", "art", "dot", "amp", "det_end"]
BITS = {name: 1 << k for k, name in enumerate([*WORD_FEATURES, *RUN_FEATURES])}


def _bit(name: str, col: str = "m") -> pl.Expr:
    """Whether feature ``name`` is set in the packed mask ``col``."""
    return (pl.col(col) & BITS[name]) != 0


def _head(tok: pl.Expr) -> pl.Expr:
    """The first part of a hyphen compound ("Tesla" of "Tesla-Chef", "Trump" of "Ex-Trump-Berater"); only for ``hyphen`` tokens."""
    return tok.str.extract(r"^((?:Ex-|Anti-|Pro-)?[^-]+)-", 1).str.replace(r"^(?:Ex|Anti|Pro)-", "")


def _lexicon(h: pl.Series) -> pl.Series:
    """The word-list bits (see :func:`_lookups`) of the words hashed in ``h``, 0 for words in no list."""
    lk = _lookups()
    return h.replace_strict(lk["lexicon_h"], lk["lexicon_bits"], default=0, return_dtype=pl.UInt32)


def _word_masks(ws: pl.Series) -> pl.Series:
    """Feature masks of distinct words (capitalised words and numbers)."""
    lk = _lookups()
    lex: dict[str, int] = lk["lexicon"]  # type: ignore[assignment]
    n = len(ws)
    # Heads, accent-folded forms and parts are only needed for the few hyphenated or non-ASCII words; they are computed
    # for those alone and looked up in the lexicon in one go with the words themselves.
    hy = ws.str.contains("-", literal=True)
    hy_idx, na_idx = hy.arg_true(), ws.str.contains(r"[^\x00-\x7f]").arg_true()
    compounds = pl.DataFrame({"w": ws.gather(hy_idx)})
    heads = compounds.select(_head(pl.col("w"))).to_series()
    folded = ws.gather(na_idx).str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    bits = _lexicon(pl.concat([ws.hash(), heads.hash(), folded.hash()]))
    head_lex = bits.slice(n, len(hy_idx))
    compounds = compounds.select(
        # A hyphenated first name needs every part to be one ("Hans-Peter").
        parts_first=pl.col("w").str.split("-").list.eval(pl.element().hash().is_in(lk["first_h"])).list.all(),
        # "AFBÖ-Präsident", "LLI-Chef": an abbreviation before a role names the organisation, unless known as something else.
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
    features = {
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
        # Endings of German abstract nouns, which follow job titles as objects ("dem Finanzminister Zynismus vorwerfen").
        "nounish": w.str.contains(r"(?:ung|heit|keit|schaft|tion|tät|nis|ismus|ment|tum|gang|zugang|ziel|zahl|recht|geld|zeit|werk)$"),
        # Abbreviations (two or more capitals) that may name an organisation ("AFBÖ", "HTT"), unless known as something else.
        "acro": w.str.contains(r"^[A-ZÄÖÜ][0-9&]*[A-ZÄÖÜ][A-ZÄÖÜ0-9&]{0,5}$") & ~stop & ~entity & ~listed("non_org"),
        "acro_role": pl.col("acro_role"),
        # Hyphen compounds ("Tesla-Chef"); their head is computed where needed, for these few tokens only.
        "hyphen": pl.col("hyphen"),
    }
    mask = pl.sum_horizontal([e.cast(pl.UInt32) * BITS[name] for name, e in features.items()])
    # Lazy, so that sub-expressions shared by several features are computed once.
    return v.lazy().select(m=mask).collect().to_series()


def _run_bits() -> dict[str, int]:
    """The runs that are particles, joiners, articles, "." or "&", with their feature bits."""
    # "&" joins the words of a company name ("Procter & Gamble AG"), so it also counts as a word there.
    listed = [("part", PARTICLE_RUNS), ("pnext", PARTICLES_NEXT), ("pjoin", SURNAME_JOINERS), ("art", ARTICLE_RUNS),
              ("dot", ["."]), ("amp", ["&"]), ("word", ["&"])]  # fmt: skip
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
    return m.scatter(word_idx, _word_masks(tokens.gather(word_idx))).scatter(run_idx, _run_masks(tokens.gather(run_idx)))


def _flags(toks: pl.DataFrame) -> pl.DataFrame:
    """Tokens with their hash ``h`` and packed feature mask ``m`` (see :func:`_bit`)."""
    h = toks["tok"].hash()
    # Features are computed once per distinct token; 64-bit hashes stand in for the strings when mapping them back.
    first = h.arg_unique()
    m = h.replace_strict(h.gather(first), _vocabulary(toks["tok"].gather(first)), return_dtype=pl.UInt32)
    return toks.with_columns(h=h, m=m)


def _where(f: pl.DataFrame, name: str, *cols: str, **named: str) -> pl.DataFrame:
    """Columns ``cols`` (and ``named``, renamed) of the tokens with feature ``name``, filtering only the columns needed."""
    return f.select(*cols, **named).filter((f["m"] & BITS[name]) != 0)


def _heads(f: pl.DataFrame, *cols: str) -> pl.DataFrame:
    """Columns ``cols`` and ``head`` of the hyphen compounds; the head is computed once per distinct compound."""
    rows = _where(f, "hyphen", *cols, "h", "tok")
    distinct = rows.unique(subset="h").select("h", head=_head(pl.col("tok")))
    return rows.join(distinct, on="h", how="left", maintain_order="left").drop(*{"h", "tok"} - set(cols))


def _gather(f: pl.DataFrame, col: str, idx: pl.Series) -> pl.Series:
    """Column ``col`` at global positions ``idx`` (clipped; the last token of the frame is always "\n")."""
    return f[col].gather(idx.clip(0, f.height - 1))


def _mask_at(f: pl.DataFrame, idx: pl.Series, k: int) -> pl.Series:
    """Masks of the tokens at ``idx + k``, 0 outside the frame: ``shift(-k).fill_null(0)``, but only for the rows asked.

    The rules test the neighbours of a few candidate tokens; gathering for those is far cheaper than shifting whole columns.
    """
    at = idx.cast(pl.Int64) + k
    m = f["m"].gather(at.clip(0, f.height - 1))
    return pl.select(pl.when(pl.lit(at).is_between(0, f.height - 1)).then(pl.lit(m)).otherwise(0)).to_series()


def _span_text(f: pl.DataFrame, spans: pl.DataFrame) -> pl.Series:
    """The text of each span (``i``, ``n``): its tokens joined by spaces, "W ." and "al- Sisi" closed up."""
    longest = int(spans["n"].max() or 1)
    frame = pl.DataFrame({f"w{k}": _gather(f, "tok", spans["i"] + k) for k in range(longest)}).with_columns(n=spans["n"])
    # concat_str skips the nulls past each span's end: far cheaper than building, cutting and joining lists.
    words = [pl.col("w0"), *[pl.when(pl.col("n") > k).then(pl.col(f"w{k}")) for k in range(1, longest)]]
    return frame.select(
        pl.concat_str(words, separator=" ", ignore_nulls=True)
        .str.replace_all(r" \. ", ". ")
        .str.replace_all(r"\b(al|el|as|ad|ar|an|ash|bin|ibn)- ", "$1-")
    ).to_series()


def _gazetteer_spans(f: pl.DataFrame) -> pl.DataFrame:
    """Longest gazetteer entries starting at each token, plus entity heads of hyphen compounds ("Tesla-Chef")."""
    lk = _lookups()
    gaz = gazetteer()
    max_n: int = lk["max_n"]  # type: ignore[assignment]
    cand = _where(f, "gaz_head", "i", "tok")
    # One-token entries by a plain join; longer keys are built only where some multi-token entry starts.
    one = cand.join(gaz.filter(pl.col("n") == 1), left_on="tok", right_on="key", how="inner").select("i", "n", "type", "canonical", "prio")
    # Longer keys grow one token at a time, and only while they are the start of some longer entry; matches come out by
    # number of tokens, then position, as one join over all lengths at once gave them.
    multi_gaz = gaz.filter(pl.col("n") > 1)
    grow = _where(f, "multi_head", "i", "tok").select("i", key="tok")
    long = []
    for k in range(1, max_n):
        grow = grow.with_columns(key=pl.concat_str([pl.col("key"), _gather(f, "tok", grow["i"] + k)], separator=" "))
        long.append(grow.join(multi_gaz, on="key", how="inner", maintain_order="left").select("i", "n", "type", "canonical", "prio"))
        grow = grow.filter(pl.col("key").hash().is_in(lk["multi_prefixes"]))
    single: pl.DataFrame = lk["single"]  # type: ignore[assignment]
    compound = (
        _heads(f, "i")
        .select("i", key="head")
        .join(single, on="key", how="inner")
        .select("i", n=pl.lit(1, pl.Int32), type="type", canonical="canonical", prio=pl.lit(PRIO_GAZ + 2, pl.Int32))
    )
    return pl.concat([one, *long, compound])


def _person_spans(f: pl.DataFrame) -> pl.DataFrame:
    """First name + surname patterns, and surnames after a job title ("Kanzler Faymann")."""
    def at(name: str, k: int) -> pl.Expr:
        return _bit(name, f"m{k}")

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
    starts = _where(f, "fn", "i", m0="m")
    starts = starts.with_columns(**{f"m{k}": _mask_at(f, starts["i"], k) for k in range(1, 5)})
    full = starts.select("i", n=length).filter(pl.col("n") > 0)
    after = _gather(f, "tok", full["i"] + full["n"].cast(pl.UInt32))
    full = full.with_columns(type=pl.lit(PER), canonical=_span_text(f, full), prio=pl.lit(PRIO_RULE, pl.Int32), after=after)
    # "George Millers Actionspektakel": a name in the genitive right before a noun loses its "-s"; not for surnames whose
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
    titled = _where(f, "title", "i")
    titled = titled.with_columns(**{f"m{k}": _mask_at(f, titled["i"], k) for k in range(1, 3)})
    titled = titled.filter(sn(1) & ~fn(1) & ~at("nounish", 1) & ~sn(2) & ~at("part", 2) & ~at("art", 2))
    titled = titled.select(i=pl.col("i") + 1, n=pl.lit(1, pl.Int32), type=pl.lit(PER), prio=pl.lit(PRIO_RULE + 1, pl.Int32))
    titled = titled.with_columns(canonical=_gather(f, "tok", titled["i"])).select("i", "n", "type", "canonical", "prio")
    return pl.concat([full, titled])


def _org_spans(f: pl.DataFrame) -> pl.DataFrame:
    """Rule-based organisations: legal forms, institution + place, club prefixes, "-ministerium" compounds."""
    lk = _lookups()
    # A legal form ends a run of up to four capitalised words right before it ("Böhler Bleche GmbH").
    legal = _where(f, "legal", "i")
    legal = legal.with_columns(**{f"p{k}": _mask_at(f, legal["i"], -k) for k in range(1, 5)})
    run, ok = pl.lit(0, pl.Int32), pl.lit(True)
    for k in range(1, 5):
        ok = ok & _bit("word", f"p{k}")
        run = run + ok.cast(pl.Int32)
    legal = legal.with_columns(run=run).filter(pl.col("run") > 0)
    legal = legal.select(i=pl.col("i") - pl.col("run").cast(pl.UInt32), n=(pl.col("run") + 1).cast(pl.Int32))
    # A leading descriptive noun is not part of the name ("Tochter Zielpunkt GmbH", "Leitbetriebes Böhler Bleche GmbH").
    descriptive = _gather(f, "tok", legal["i"]).str.contains(DESCRIPTOR_RE) & (legal["n"] > 2)
    legal = legal.with_columns(i=pl.col("i") + descriptive.cast(pl.UInt32), n=pl.col("n") - descriptive.cast(pl.Int32))
    legal = legal.with_columns(type=pl.lit(ORG), canonical=_span_text(f, legal), prio=pl.lit(PRIO_RULE, pl.Int32))
    loc1: pl.DataFrame = lk["locations_1"]  # type: ignore[assignment]
    heads = _where(f, "inst", "i", "tok").select("i", head=pl.col("tok").str.replace(r"e?s$", ""))
    inst = (
        heads.with_columns(nxt=_gather(f, "tok", heads["i"] + 1))
        .join(loc1, left_on="nxt", right_on="key", how="inner")
        .select("i", n=pl.lit(2, pl.Int32), type=pl.lit(ORG), canonical=pl.concat_str([pl.col("head"), pl.col("canonical")], separator=" "), prio=pl.lit(PRIO_RULE, pl.Int32))
    )
    clubs = _where(f, "club", "i", "tok")
    club = (
        clubs.with_columns(nxt=_gather(f, "tok", clubs["i"] + 1))
        .filter(pl.col("nxt").str.contains(r"^\p{Lu}\p{Ll}") & ~pl.col("nxt").is_in(lk["stop"]))
        .select("i", n=pl.lit(2, pl.Int32), type=pl.lit(ORG), canonical=pl.concat_str([pl.col("tok"), pl.col("nxt")], separator=" "), prio=pl.lit(PRIO_RULE + 1, pl.Int32))
    )
    ministry = _where(f, "ministry", "i", "tok").select(
        "i", n=pl.lit(1, pl.Int32), type=pl.lit(ORG), canonical=pl.col("tok").str.replace(r"ums$", "um"), prio=pl.lit(PRIO_RULE, pl.Int32)
    )
    # "(HTT)", "(LLI)": an abbreviation alone in parentheses; "AFBÖ-Präsident": one before a role.
    acro = _where(f, "acro", "i", "tok")
    acro = acro.with_columns(before=_gather(f, "tok", acro["i"] - 1), after=_gather(f, "tok", acro["i"] + 1))
    paren = acro.filter(pl.col("before").str.ends_with("(") & pl.col("after").str.contains(r"^[)/]")).select(
        "i", n=pl.lit(1, pl.Int32), type=pl.lit(ORG), canonical="tok", prio=pl.lit(PRIO_RULE + 1, pl.Int32)
    )
    role = _where(f, "acro_role", "i", "tok").select(
        "i", n=pl.lit(1, pl.Int32), type=pl.lit(ORG), canonical=pl.col("tok").str.extract(r"^([^-]+)-", 1), prio=pl.lit(PRIO_RULE + 1, pl.Int32)
    )
    return pl.concat([legal, inst, club, ministry, paren, role])


def _resolve(spans: pl.DataFrame) -> pl.DataFrame:
    """Keep non-overlapping spans: earliest start first, then longest, then curated before rules."""
    spans = spans.sort(["i", "n", "prio"], descending=[False, True, False]).unique(subset=["i"], keep="first", maintain_order=True)
    covered_until = (pl.col("i") + pl.col("n")).cum_max().shift(1).fill_null(0)
    return spans.filter(pl.col("i") >= covered_until)


def _surname_mentions(f: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Bare or genitive surnames ("Musk", "Musks", "Trump-Regierung") of a person named in full in the same article."""
    # One-token place or organisation spans may be re-read this way ("Max Schrems" ... "Schrems" is the person, not the town).
    people = kept.filter((pl.col("type") == PER) & pl.col("canonical").str.contains(" "))
    surnames = people.select("doc", "canonical", surname=pl.col("canonical").str.split(" ").list.last())
    forms = pl.concat(
        [surnames.select("doc", "canonical", form="surname"), surnames.select("doc", "canonical", form=pl.col("surname") + "s")]
    ).unique(subset=["doc", "form"], keep="first", maintain_order=True)
    taken = kept.filter((pl.col("type") == PER) | (pl.col("n") > 1)).select(idx=pl.int_ranges(pl.col("i"), pl.col("i") + pl.col("n"))).explode("idx")
    # Capitalised tokens spelled like some surname form (picked by hash, then joined exactly), and heads of hyphen compounds.
    form_h = forms["form"].hash().implode()
    bare = f.select("doc", "i", form="tok", m="m").filter(f["h"].is_in(form_h) & ((f["m"] & BITS["cap"]) != 0))
    hyphen = _where(f, "hyphen", "doc", "i", "h", "tok", "m").filter(_bit("cap"))
    distinct = hyphen.unique(subset="h").select("h", form=_head(pl.col("tok"))).filter(pl.col("form").hash().is_in(form_h))
    heads = hyphen.join(distinct, on="h", how="inner", maintain_order="left").select("doc", "i", "form", "m")
    cand = pl.concat([bare, heads])
    # Not right after an article or contracted preposition, where a capitalised word is usually a noun ("im Kern", "Der Kern").
    noun_ctx = (_mask_at(f, cand["i"], -1) & (BITS["det_end"] | BITS["cap_det"])) != 0
    return (
        cand.filter(~noun_ctx)
        .join(taken, left_on="i", right_on="idx", how="anti")
        .join(forms, on=["doc", "form"], how="inner", maintain_order="left")
        .unique(subset=["i"], keep="first", maintain_order=True)
        .select("i", n=pl.lit(1, pl.Int32), type=pl.lit(PER), canonical="canonical", prio=pl.lit(PRIO_RULE, pl.Int32), doc="doc")
    )


def _canonical_persons(kept: pl.DataFrame) -> pl.DataFrame:
    """Map genitive full names ("Elon Musks") and bare surnames to the full name used elsewhere in the article."""
    is_per = pl.col("type") == PER
    per = kept.filter(is_per)
    # In order of first mention, so that a surname shared by two full names of one article maps to the first of them;
    # a plain unique() gave an arbitrary order, and so a different choice from call to call.
    names = per.select("doc", name="canonical").unique(maintain_order=True)
    full = names.filter(pl.col("name").str.contains(" ")).with_columns(surname=pl.col("name").str.split(" ").list.last())
    # Only person rows change: look them up alone (the caller sorts the rows again).
    stripped = pl.col("canonical").str.replace(r"s$", "")
    per = per.with_columns(alt=pl.when(pl.col("canonical").str.contains(r"[^s]s$")).then(stripped))
    per = per.join(names.rename({"name": "alt"}).with_columns(hit=pl.lit(True)), on=["doc", "alt"], how="left")
    per = per.with_columns(canonical=pl.when(pl.col("hit")).then(pl.col("alt")).otherwise(pl.col("canonical"))).drop("alt", "hit")
    first_full = full.unique(subset=["doc", "surname"], keep="first")
    per = per.join(first_full.rename({"surname": "canonical", "name": "full"}), on=["doc", "canonical"], how="left")
    per = per.with_columns(canonical=pl.when(pl.col("full").is_not_null()).then(pl.col("full")).otherwise(pl.col("canonical"))).drop("full")
    return pl.concat([kept.filter(~is_per), per])


def _strip_legal(kept: pl.DataFrame) -> pl.DataFrame:
    """Drop a trailing legal form when the bare name is also an organisation of the article or of the gazetteer."""
    gaz_orgs = _lookups()["gaz_orgs"]
    pattern = r"\s+(?:" + "|".join(LEGAL_DROP) + r")$"
    org = pl.col("type") == ORG
    # Only organisations ending in a legal form can change: look them up alone (the caller sorts the rows again).
    legal = org & pl.col("canonical").str.contains(pattern)
    kept = kept.with_columns(legal=legal)
    cand = kept.filter(pl.col("legal")).with_columns(bare=pl.col("canonical").str.replace(pattern, ""))
    doc_orgs = kept.filter(org).select("doc", bare="canonical").unique().with_columns(in_doc=pl.lit(True))
    cand = cand.join(doc_orgs, on=["doc", "bare"], how="left")
    known = pl.col("in_doc").fill_null(False) | pl.col("bare").is_in(gaz_orgs).fill_null(False)
    cand = cand.with_columns(canonical=pl.when(known).then(pl.col("bare")).otherwise(pl.col("canonical"))).drop("bare", "in_doc")
    return pl.concat([kept.filter(~pl.col("legal")), cand]).drop("legal")


def extract_entities(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``persons``, ``organizations`` and ``locations`` (unique ``list[str]`` in order of first mention) to ``df``."""
    empty = pl.lit([], dtype=pl.List(pl.String))
    # Existing (e.g. placeholder) entity columns are replaced, not duplicated.
    df = df.drop([c for c in ENTITY_COLUMNS if c in df.columns])
    if df.height == 0:
        return df.with_columns(**{c: empty for c in ENTITY_COLUMNS})
    f = _flags(_tokens(df))
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
