"""The word lists and gazetteers the entity rules look words up in, loaded once per process."""

from __future__ import annotations

import functools
import gzip

import polars as pl

from news_pipeline.catalog import ENTITY_RESOURCES

RESOURCES = ENTITY_RESOURCES

PER, ORG, LOC = "persons", "organizations", "locations"
ENTITY_COLUMNS = (PER, ORG, LOC)

# Tokens: capitalised words, numbers, and "runs" of everything else (lower-case words and punctuation). Lower-case words
# and punctuation matter only as gaps, particles ("von der") and articles, so one row per run instead of per word cuts
# the
# rows to process by more than half.
_GAP = r"(?:\p{Ll}[\p{Ll}\p{M}\p{N}'’\-]*|[.!?;:,()\[\]\"„“”»«–—/&|\n%'’*+=<>#@§$€…-])"
TOKEN_RE = rf"\p{{Lu}}[\p{{L}}\p{{M}}\p{{N}}'’\-]*|\p{{N}}+(?:[.,]\p{{N}}+)*|{_GAP}(?:\s*{_GAP})*"
# Lower-case runs that join a first name to a surname ("Greg van Avermaet", "Humberto de la Calle", "Ursula von der
# Leyen").
PARTICLE_RUNS = [
    "van",
    "von",
    "de",
    "del",
    "della",
    "da",
    "di",
    "dos",
    "du",
    "ten",
    "ter",
    "bin",
    "ibn",
    "le",
    "la",
    "van der",
    "van den",
    "von der",
    "von den",
    "de la",
    "de las",
    "de los",
    "van de",
    "de le",
]
# Capitalised particles ("Alexander Van der Bellen", "Benedetto Della Vedova").
CAP_PARTICLES = ["Van", "Von", "De", "Di", "Da", "Del", "Della", "Dos", "Du", "Le", "La"]
PARTICLES_NEXT = ["der", "den", "la", "le", "los", "las"]
# Runs joining two surnames ("Cristina Fernandez de Kirchner").
SURNAME_JOINERS = ["de", "da", "del", "dos", "y"]
# Runs that glue an Arabic article to the next word ("al-Sisi" is tokenised "al-", "Sisi").
ARTICLE_RUNS = ["al-", "el-", "as-", "ad-", "ar-", "an-", "ash-", "bin-", "ibn-"]
# Articles and contracted prepositions; a capitalised word right after them is usually a noun ("im Kern", "Der Kern").
NOUN_CONTEXT = [
    "im",
    "am",
    "ein",
    "eine",
    "einen",
    "einem",
    "einer",
    "das",
    "dem",
    "des",
    "den",
    "der",
    "die",
    "zum",
    "zur",
    "vom",
    "beim",
    "ins",
    "ans",
]
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
    r"^[A-ZÄÖÜ][A-ZÄÖÜ0-9&]{1,6}-(?i:\p{L}*(?:"
    + TITLE_RE.removeprefix("(?i)(?:").removesuffix(")$")
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
# Institutions named after a place ("Landesgericht Linz", "Universität Wien"); the place inside is not a location
# mention.
INSTITUTION_HEADS = [
    "Universität",
    "Uni",
    "TU",
    "WU",
    "MedUni",
    "Med-Uni",
    "Fachhochschule",
    "FH",
    "Hochschule",
    "Landesgericht",
    "Oberlandesgericht",
    "Bezirksgericht",
    "Straflandesgericht",
    "Handelsgericht",
    "Landesverwaltungsgericht",
    "Diözese",
    "Erzdiözese",
    "Arbeiterkammer",
    "AK",
    "Wirtschaftskammer",
    "WK",
    "Landespolizeidirektion",
    "Magistrat",
    "Staatsanwaltschaft",
    "Bistum",
    "Erzbistum",
]
# Sports-club prefixes ("SV Ried", "FC Barcelona").
CLUB_PREFIXES = [
    "FC",
    "SC",
    "SV",
    "SK",
    "VfB",
    "VfL",
    "TSV",
    "AC",
    "AS",
    "SSC",
    "FK",
    "SKN",
    "SCR",
    "WSG",
    "TSG",
    "RB",
    "EC",
    "HC",
    "ASK",
    "SpVgg",
    "ATSV",
    "KSV",
    "DSV",
]
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
    """Curated entries that start in lower case ("dpa", "voestalpine", "n-tv"), capitalised before tokenising."""
    curated = [s for name in ("organizations.tsv", "locations_curated.tsv") for s, _ in _pairs(name)]
    return sorted({s.split(" ")[0] for s in curated if s[:1].islower()}, key=len, reverse=True)


@functools.cache
def _word_sets() -> dict[str, frozenset[str]]:
    """First names, stop words and blacklists, loaded once."""
    stop = frozenset(_lines("stopwords.txt"))
    not_first = frozenset(_lines("not_first_names.txt"))
    first = frozenset(n for n in _lines("first_names.txt.gz") if n not in stop and n not in not_first)
    non_org = frozenset(_lines("non_org_acronyms.txt")) | frozenset(_lines("country_codes.txt"))
    return {
        "first": first,
        "stop": stop,
        "not_first": not_first,
        "not_loc": frozenset(_lines("not_locations.txt")),
        "non_org": non_org,
    }


def _pairs(name: str) -> list[tuple[str, str]]:
    """``surface<TAB>canonical`` rows; a missing canonical means the surface itself."""
    out = []
    for line in _lines(name):
        parts = line.split("\t")
        out.append((parts[0].strip(), (parts[1].strip() if len(parts) > 1 and parts[1].strip() else parts[0].strip())))
    return out


def _genitive(surface: str) -> str | None:
    """The German genitive of a one-word name ("Russland" -> "Russlands"), if it takes an "-s"."""
    if (
        " " in surface
        or surface[-1:] in {"s", "x", "z", "ß", "S", "X", "Z"}
        or not surface[-1:].isalpha()
        or surface.isupper()
    ):
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
        if (
            rest
            and first[:1].isupper()
            and first[1:].isalpha()
            and first[1:].islower()
            and first.endswith(("e", "er", "es"))
        ):
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
    tokens = (
        surfaces["surface"].str.replace_many(lower, [w[:1].upper() + w[1:] for w in lower]).str.extract_all(TOKEN_RE)
    )
    frame = surfaces.with_columns(
        key=tokens.list.join(" "), n=tokens.list.len().cast(pl.Int32), lead=tokens.list.first().str.contains(r"^\p{Ll}")
    )
    # Entries that start with a lower-case run are never looked up (n-grams start at capitalised words); drop them.
    frame = frame.filter(~pl.col("lead") & (pl.col("n") <= MAX_SPAN) & (pl.col("n") > 0))
    return frame.select("key", "n", "type", "canonical", prio=pl.lit(PRIO_GAZ, pl.Int32)).unique(
        subset="key", keep="first", maintain_order=True
    )


@functools.cache
def lookups() -> dict[str, object]:
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
        pl.concat(
            [
                pl.DataFrame({"w": pl.Series(v, dtype=pl.String).unique(), "bit": 1 << k})
                for k, v in enumerate(lists.values())
            ]
        )
        .group_by(h=pl.col("w").hash())
        .agg(bits=pl.col("bit").sum().cast(pl.UInt32))
    )
    # Keys of multi-token entries cut before each of their spaces: a longer key can only start with one of these.
    prefixes = sorted(
        {" ".join(parts[:j]) for key in multi["key"] for parts in [key.split(" ")] for j in range(1, len(parts))}
    )
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


def warm() -> None:
    """Load the gazetteer and build the look-up tables now (once per process), not in the first batch."""
    lookups()
