"""Generate a noisy raw landing zone of German news articles, with per-file ground truth.

Real article text comes from the 10kGNAD test split (derStandard articles, CC BY-NC-SA 4.0);
everything around it (titles, layout, credits, HTML, trailers, encodings, duplicates, broken
files) is synthesised here so that a pipeline's output can be scored field by field.

    python -m dev.corpus.generate --out /tmp/bench --n 3000 --dates 3 --seed 1
    python -m dev.corpus.generate --sample data/raw
"""

from __future__ import annotations

import argparse
import copy
import csv
import gzip
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from random import Random

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CSV = Path("/work/shared/corpora/10kGNAD/test.csv")
DEFAULT_SEEDS = Path("/work/shared/seeds")
SAMPLE_TRUTH = Path(__file__).resolve().parent / "sample_truth.jsonl"

# ---------------------------------------------------------------------------------------
# Pools of realistic strings
# ---------------------------------------------------------------------------------------

CREDIT_DOMAINS = [
    "vienna.at",
    "n-tv.de",
    "berliner-zeitung.de",
    "krone.at",
    "kurier.at",
    "derstandard.at",
    "diepresse.com",
    "orf.at",
    "heute.at",
    "oe24.at",
    "kleinezeitung.at",
    "sn.at",
    "tt.com",
    "nachrichten.at",
    "noen.at",
    "vol.at",
    "puls24.at",
    "profil.at",
    "falter.at",
    "nzz.ch",
    "tagesanzeiger.ch",
    "blick.ch",
    "srf.ch",
    "20min.ch",
    "watson.ch",
    "luzernerzeitung.ch",
    "spiegel.de",
    "zeit.de",
    "faz.net",
    "sueddeutsche.de",
    "welt.de",
    "tagesschau.de",
    "bild.de",
    "focus.de",
    "stern.de",
    "handelsblatt.com",
    "merkur.de",
    "t-online.de",
    "tagesspiegel.de",
    "rnd.de",
    "mdr.de",
    "br.de",
    "zdf.de",
    "deutschlandfunk.de",
    "apa.at",
]

# Publishers never double as inline credits, so "publisher excluded from cited_sources"
# only matters when the Quellen list names the publisher's own site.
PUBLISHERS = [
    "die-nachrichten.at",
    "nachrichten-heute.at",
    "wien-aktuell.at",
    "alpenecho.at",
    "tagesblick.de",
    "zeitgeschehen24.de",
    "helvetia-news.ch",
    "news-kompakt.de",
    "steiermark-heute.at",
    "donau-bote.at",
    "rundschau-online24.de",
    "der-ueberblick.ch",
]

# Truth-side credit phrasings; "{c}" becomes the credited domain.
CREDIT_PATTERNS = [
    ", wie {c} berichtet.",
    ", wie {c} berichtet.",
    ", wie {c} meldet.",
    ", berichtet {c}.",
    ", so {c}.",
    " (Quelle: {c}).",
]

COUNTRY = {
    **dict.fromkeys(
        [
            "Wien",
            "Graz",
            "Linz",
            "Salzburg",
            "Innsbruck",
            "Klagenfurt",
            "St. Pölten",
            "Eisenstadt",
            "Bregenz",
            "Villach",
            "Wels",
            "Dornbirn",
            "Leoben",
            "Wiener Neustadt",
            "Klosterneuburg",
            "Traiskirchen",
            "Spielfeld",
            "Kitzbühel",
            "Alpbach",
            "Lustenau",
            "Saalfelden",
        ],
        "Österreich",
    ),
    **dict.fromkeys(
        [
            "Berlin",
            "München",
            "Frankfurt",
            "Hamburg",
            "Köln",
            "Düsseldorf",
            "Stuttgart",
            "Leipzig",
            "Dresden",
            "Hannover",
            "Bremen",
            "Bonn",
            "Trier",
            "Wiesbaden",
            "Mainz",
            "Kiel",
        ],
        "Deutschland",
    ),
    **dict.fromkeys(["Zürich", "Bern", "Genf", "Basel", "Bellinzona"], "Schweiz"),
    "Moskau": "Russland",
    "Washington": "USA",
    "New York": "USA",
    "Los Angeles": "USA",
    "Paris": "Frankreich",
    "London": "Großbritannien",
    "Rom": "Italien",
    "Brüssel": "Belgien",
    "Kiew": "Ukraine",
    "Peking": "China",
    "Istanbul": "Türkei",
    "Ankara": "Türkei",
    "Athen": "Griechenland",
    "Madrid": "Spanien",
    "Barcelona": "Spanien",
    "Damaskus": "Syrien",
    "Kairo": "Ägypten",
    "Jerusalem": "Israel",
    "Tel Aviv": "Israel",
    "Budapest": "Ungarn",
    "Prag": "Tschechien",
    "Warschau": "Polen",
    "Belgrad": "Serbien",
    "Beirut": "Libanon",
    "Seoul": "Südkorea",
    "Sydney": "Australien",
    "Stockholm": "Schweden",
    "Luxemburg": "Luxemburg",
}

FALLBACK_PLACES = [
    "Wien, Österreich",
    "Graz, Österreich",
    "Linz, Österreich",
    "Salzburg, Österreich",
    "Innsbruck, Österreich",
    "Berlin, Deutschland",
    "München, Deutschland",
    "Zürich, Schweiz",
]

VORFALL = {
    "Web": ["Technik", "Digitales", "Sonstiges"],
    "Panorama": ["Unfall", "Kriminalität", "Gesellschaft", "Sonstiges"],
    "International": ["Politik", "Ausland"],
    "Inland": ["Politik", "Innenpolitik"],
    "Wirtschaft": ["Wirtschaft"],
    "Sport": ["Sport"],
    "Etat": ["Medien"],
    "Wissenschaft": ["Wissenschaft", "Forschung"],
    "Kultur": ["Kultur"],
}

BOILERPLATE = [
    "Teilen: Facebook | X | WhatsApp | E-Mail",
    "Artikel teilen",
    "Jetzt unseren Newsletter abonnieren und keine Nachricht mehr verpassen!",
    "Newsletter abonnieren",
    "Diese Website verwendet Cookies. Mit der weiteren Nutzung stimmen Sie unserer Datenschutzerklärung zu.",
    "Alle Cookies akzeptieren",
    "Folgen Sie uns auf Facebook, Instagram und X.",
    "Hat Ihnen dieser Artikel gefallen? Teilen Sie ihn mit Ihren Freunden!",
    "Foto: APA/dpa",
    "Foto: Symbolbild",
    "Drucken",
    "Alle Rechte vorbehalten.",
]

COMMENT_FORM = [
    "Antworten abbrechen",
    "Ihre E-Mail-Adresse wird nicht veröffentlicht. Erforderliche Felder sind mit * markiert.",
    "Kommentar *",
    "Name *",
    "E-Mail *",
    "Website",
    "Meinen Namen, meine E-Mail-Adresse und meine Website in diesem Browser für die nächste Kommentierung speichern.",
    "Kommentar abschicken",
]

AD_LINES = ["Anzeige", "Werbung", "- Anzeige -"]

RUBRIKEN = [
    "Politik › Inland",
    "Politik › International",
    "Wirtschaft",
    "Panorama",
    "Sport",
    "Kultur",
    "Wissenschaft",
    "Web › Netzpolitik",
    "Chronik › Wien",
]

#: Substrings that must never reach a curated title or body (used by score.py too).
LEAK_PHRASES = [
    "Besuchen Sie uns auf",
    "Mehr zum Thema",
    "Lesen Sie auch:",
    "Schreibe einen Kommentar",
    "Ihre E-Mail-Adresse wird nicht veröffentlicht",
    "Kommentar abschicken",
    "Antworten abbrechen",
    "Newsletter abonnieren",
    "Diese Website verwendet Cookies",
    "Alle Cookies akzeptieren",
    "Teilen: Facebook",
    "Folgen Sie uns auf",
    "Hat Ihnen dieser Artikel gefallen",
    "Alle Rechte vorbehalten",
    "Startseite ›",
    "Zuletzt aktualisiert:",
    "Lesezeit:",
    "Foto: APA/dpa",
    "Foto: Symbolbild",
    "Meinen Namen, meine E-Mail-Adresse",
]
#: Whole paragraphs that are boilerplate although the words also occur in real text.
LEAK_LINES = ["Artikel teilen", "Drucken", "Website", "Name *", "E-Mail *", "Kommentar *", *AD_LINES]
#: Details-block remnants (regexes, compiled with re.MULTILINE).
DETAILS_PATTERNS = [r"Details\t", r"Vorfall\t", r"Quellen\t", r"^\W*(?:Vorfall|Ort|Quellen):", r"list-style-type"]

GENERIC_SENTENCES = [
    "Die Ermittlungen dauern an.",
    "Eine Stellungnahme war zunächst nicht zu erhalten.",
    "Weitere Details wurden vorerst nicht bekannt.",
    "Das zuständige Ministerium kündigte eine Prüfung an.",
    "Eine Entscheidung wird in den kommenden Wochen erwartet.",
    "Beobachter rechnen mit weiteren Diskussionen.",
    "Die Opposition übte scharfe Kritik an dem Vorhaben.",
    "Ein Sprecher wollte sich dazu nicht äußern.",
    "Die Hintergründe sind noch unklar.",
    "Experten sehen darin ein deutliches Signal.",
]

# Near-duplicate word swaps (both directions are used).
SWAPS = [
    ("sagte", "erklärte"),
    ("Montag", "Dienstag"),
    ("Mittwoch", "Donnerstag"),
    ("Freitag", "Samstag"),
    ("bereits", "schon"),
    ("rund", "etwa"),
    ("mehr", "weniger"),
    ("erstmals", "zum ersten Mal"),
    ("allerdings", "jedoch"),
    ("Prozent", "Prozentpunkte"),
    ("neue", "aktuelle"),
    ("große", "bedeutende"),
    ("heuer", "dieses Jahr"),
]

HEADING_TEMPLATES = [
    "{n} im Fokus",
    "Streit um {n}",
    "{n} und {m}",
    "Blick auf {n}",
    "Neue Details zu {n}",
    "Die Rolle von {n}",
    "Fragen rund um {n}",
    "Hintergrund: {n}",
    "Was über {n} bekannt ist",
    "Reaktionen auf {n}",
]
GENERIC_HEADINGS = [
    "Hintergrund",
    "Erste Reaktionen",
    "Wie es weitergeht",
    "Die Vorgeschichte",
    "Kritik und Zustimmung",
    "Ausblick",
    "Offene Fragen",
    "Zahlen und Fakten",
    "Die nächsten Schritte",
]

# ---------------------------------------------------------------------------------------
# German text helpers
# ---------------------------------------------------------------------------------------

_ABBREV = {
    "z",
    "b",
    "dr",
    "prof",
    "st",
    "nr",
    "mio",
    "mrd",
    "bzw",
    "ca",
    "etc",
    "vgl",
    "usw",
    "mag",
    "ing",
    "dipl",
    "abs",
    "bd",
    "jh",
    "jhd",
    "mr",
    "mrs",
    "ms",
    "hr",
    "fr",
    "str",
    "inkl",
    "exkl",
    "evtl",
    "ggf",
    "sog",
    "univ",
    "co",
    "inc",
    "ltd",
    "corp",
    "bzgl",
    "tel",
    "jan",
    "feb",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "nov",
    "dez",
    "abg",
    "bspw",
    "insb",
    "ehem",
    "geb",
    "gegr",
    "mind",
    "rd",
    "vs",
    "sr",
    "jr",
    "dkfm",
    "hl",
    "lt",
    "max",
    "min",
}
_SENT_END = re.compile(r"([.!?])([\"“”«»]?)(\s+)(?=[\"„“»«(]?[A-ZÄÖÜ])")


def _is_abbrev(token: str) -> bool:
    """True when a dot-final token is an abbreviation, an initial or a number."""
    core = token.lstrip('("„“»«[').rstrip(".")
    if not core:
        return False
    if core.isdigit() or (len(core) == 1 and core.isalpha()) or "." in core:
        return True
    return core.lower() in _ABBREV


def split_sentences(text: str) -> list[str]:
    """Split German prose into sentences, keeping abbreviations like `z. B.` or `St.` intact."""
    out, start = [], 0
    for m in _SENT_END.finditer(text):
        if m.group(1) == "." and not m.group(2):
            before = text[start : m.start(1)].split()
            if not before or _is_abbrev(before[-1] + "."):
                continue
        out.append(text[start : m.end(2)].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


_CONN = r"(?:de|da|am|an|im|upon|on|la|le|del|di|al|el|ob|bei|vor)"
_PWORD = r"(?:St\.|[A-ZÄÖÜ][\w'’-]*)"
_PLACE = rf"{_PWORD}(?:(?:\s|/|\s/\s){_PWORD}|\s{_CONN}(?=\s)){{0,3}}(?:\s\([^()]{{2,30}}\))?"
_DATELINE = re.compile(rf"(?:^|(?<=[.!?\"“”»«)])\s)(?P<place>{_PLACE})(?:\s*–\s*|\s+-\s+)")
_NOT_PLACES = {
    "Die",
    "Der",
    "Das",
    "Ein",
    "Eine",
    "Allein",
    "Reportage",
    "Auch",
    "Doch",
    "Aber",
    "Und",
    "Januar",
    "Jänner",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
    "STANDARD",
    "Standard",
}


@dataclass(frozen=True)
class Source:
    """One parsed 10kGNAD article."""

    row: int
    category: str
    teaser: str | None
    dateline: str | None
    sentences: tuple[str, ...]


def parse_gnad_text(text: str) -> tuple[str | None, str | None, str]:
    """Split a 10kGNAD text into (teaser, dateline place, body)."""
    text = re.sub(r"\s+", " ", text).strip()
    for m in _DATELINE.finditer(text, 0, 600):
        place = m.group("place").strip()
        if place.split()[0].split("/")[0] in _NOT_PLACES:
            continue
        teaser = text[: m.start()].strip()
        # "am 6. Oktober – ..." is a date inside the teaser, not a sentence end + dateline
        if teaser and re.search(r"(?:^|\s)\S*\d\.$", teaser):
            continue
        return (teaser or None), place, text[m.end() :].strip()
    sents = split_sentences(text)
    if len(sents) < 2:
        return None, None, text
    return sents[0], None, text[len(sents[0]) :].strip()


@lru_cache(maxsize=4)
def load_sources(csv_path: str) -> tuple[Source, ...]:
    """Parse the corpus once per process; keep only articles long enough to be real news."""
    out = []
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for row, rec in enumerate(csv.reader(fh, delimiter=";", quotechar="'")):
            if len(rec) != 2:
                continue
            teaser, place, body = parse_gnad_text(rec[1])
            sents = split_sentences(body)
            if len(sents) < 4 or len(body.split()) < 60 or "Volltext dieses" in body:
                continue
            out.append(Source(row, rec[0], teaser, place, tuple(sents)))
    return tuple(out)


def find_source_csv(path: Path | str | None = None) -> Path:
    """The 10kGNAD test.csv: the given path, /work/shared/..., or ../shared/... next to the repo."""
    candidates = [Path(path)] if path else [DEFAULT_CSV, REPO.parent / "shared/corpora/10kGNAD/test.csv"]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"10kGNAD test.csv not found (tried {', '.join(map(str, candidates))})")


_TITLE_STOP_END = {
    "der",
    "die",
    "das",
    "den",
    "dem",
    "des",
    "ein",
    "eine",
    "einen",
    "einem",
    "einer",
    "und",
    "oder",
    "mit",
    "von",
    "vom",
    "in",
    "im",
    "zu",
    "zum",
    "zur",
    "für",
    "auf",
    "an",
    "am",
    "bei",
    "nach",
    "aus",
    "über",
    "vor",
    "als",
    "wie",
    "sich",
    "so",
    "es",
    "er",
    "sie",
    "nicht",
    "auch",
    "noch",
    "dass",
    "ob",
    "wenn",
    "weil",
    "um",
    "gegen",
    "seine",
    "ihre",
    "sein",
    "ihr",
    "bis",
    "durch",
    "unter",
}
_SUBORDINATE = {
    "wenn",
    "als",
    "weil",
    "obwohl",
    "nachdem",
    "während",
    "da",
    "dass",
    "ob",
    "wie",
    "was",
    "wo",
    "um",
    "indem",
    "sodass",
    "damit",
}


def _clip_words(words: list[str], n: int) -> str:
    """First n words, without a dangling article/preposition or trailing punctuation."""
    words = words[:n]
    while len(words) > 2 and (words[-1].lower().strip(',;:–-"„“') in _TITLE_STOP_END or words[-1] in ("–", "-")):
        words.pop()
    out = " ".join(words).rstrip(" ,;:–-.")
    for a, b in (('"', '"'), ("„", "“")):
        if (out.count(a) + (out.count(b) if a != b else 0)) % 2:
            out = out.replace(a, "").replace(b, "")
    return out.strip()


def _to_noun(words: list[str], n: int) -> str:
    """First n words cut back so the headline ends on a noun, not mid-phrase."""
    words = words[:n]
    for k in range(len(words), 3, -1):
        w = words[k - 1].strip(',;:"„“()')
        if re.fullmatch(r"[A-ZÄÖÜ][\wäöüß-]+", w) and k > 1:
            return _clip_words(words[:k], k)
    return _clip_words(words, n)


def make_title(text: str, place: str | None, rng: Random, avoid: str | None = None) -> str:
    """A plausible headline from the teaser (or first sentence); never equal to `avoid`."""
    sents = split_sentences(text)
    first = sents[0].strip()
    question = first.endswith("?")
    base = first.rstrip(".!? ")
    n = len(base.split())
    clause = None
    # 10kGNAD teasers are often "A – B – C" or "Label: statement": the first part reads as
    # a headline; otherwise the main clause before the first comma, or a noun-final cut.
    if " – " in base and 3 <= len(base.split(" – ")[0].split()) <= 12:
        clause = base.split(" – ")[0]
    elif ": " in base:
        left, right = base.split(": ", 1)
        if 1 <= len(left.split()) <= 5 and len(right.split()) >= 3:
            clause = base if n <= 12 else f"{left}: {_to_noun(right.split(), 9)}"
    if clause is None and ", " in base:
        left, right = base.split(", ", 1)
        if (
            4 <= len(left.split()) <= 12
            and left.split()[0].lower() not in _SUBORDINATE
            and right.split()[0].lower() not in _SUBORDINATE
        ):
            clause = left
    if clause is None:
        clause = base if n <= 12 else _to_noun(base.split(), rng.randint(7, 10))
    for a, b in (('"', '"'), ("„", "“")):  # a cut must not leave a quote open
        if (clause.count(a) + (clause.count(b) if a != b else 0)) % 2:
            clause = clause.replace(a, "").replace(b, "")
    nouns = [
        w.strip(',.;:"„“()')
        for w in base.split()[1:]
        if re.fullmatch(r"[A-ZÄÖÜ][\wäöüß-]{3,}[,.;:]?", w) and w.strip(",.;:") not in _NOT_PLACES
    ]
    key = place.split("/")[0].split(" (")[0] if place and rng.random() < 0.6 else (rng.choice(nouns) if nouns else None)
    whole = clause == base and len(sents) == 1
    if whole and not key:
        key = place.split("/")[0].split(" (")[0] if place else "Aktuell"
    if (
        key
        and ":" not in clause
        and key not in clause.split()[:2]
        and (whole or rng.random() < 0.2)
        and len(clause.split()) <= 10
    ):
        clause = f"{key}: {clause}"
    elif whole and ": " in clause:
        clause = clause.split(": ", 1)[1]
    title = clause[0].upper() + clause[1:]
    r = rng.random()
    if question or r < 0.07:
        title += "?"
    elif r < 0.22:
        title += "!"
    norm = lambda s: re.sub(r"\W+", " ", s or "").strip().lower()  # noqa: E731
    if avoid and norm(title) == norm(avoid):
        title = f"{place or 'Aktuell'}: {title}"
    return title


def _subheading(paragraph: str, rng: Random) -> str:
    """A short noun phrase (no final punctuation) announcing the paragraph."""
    nouns = []
    for s in split_sentences(paragraph):
        for w in s.split()[1:]:
            w = w.strip(',.;:!?"„“()')
            if re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]{4,}(?:-[A-ZÄÖÜ][a-zäöüß]+)?", w) and w not in _NOT_PLACES:
                nouns.append(w)
    nouns = list(dict.fromkeys(nouns))
    if not nouns or rng.random() < 0.15:
        return rng.choice(GENERIC_HEADINGS)
    tpl = rng.choice(HEADING_TEMPLATES)
    if "{m}" in tpl and len(nouns) < 2:
        tpl = "{n} im Fokus"
    n, m = rng.sample(nouns, 2) if len(nouns) >= 2 else (nouns[0], nouns[0])
    return tpl.format(n=n, m=m)


def _paragraphs(sents: list[str], rng: Random) -> list[list[str]]:
    """Group sentences into paragraphs of 2-5 sentences (the first has at least two)."""
    out, i = [], 0
    while i < len(sents):
        k = rng.randint(2, 5)
        out.append(sents[i : i + k])
        i += k
    if len(out) > 1 and len(out[-1]) == 1:
        out[-2].extend(out.pop())
    return out


def _norm_key(body: str) -> str:
    """Whitespace/case/punctuation-insensitive key: equal keys must mean equal truth bodies."""
    return re.sub(r"\W+", " ", body).casefold().strip()


def _digest(s: str) -> bytes:
    return hashlib.blake2b(s.encode("utf-8"), digest_size=16).digest()


# ---------------------------------------------------------------------------------------
# Article content (truth side) and rendering (raw side)
# ---------------------------------------------------------------------------------------

_MARK = re.compile(r"\x01(\d+)\x02")


@dataclass
class Content:
    """What an article says: the truth, with credit markers \\x01i\\x02 inside body text."""

    story: str
    row: int
    gnad_category: str
    title: str
    teaser: str | None
    dateline: str | None
    blocks: list[tuple[str, str]]
    credits: list[str]

    def plain(self, text: str) -> str:
        return _MARK.sub(lambda m: self.credits[int(m.group(1))], text)

    def body(self) -> str:
        return "\n\n".join(self.plain(t) for _, t in self.blocks)

    def subheadings(self) -> list[str]:
        return [t for k, t in self.blocks if k == "h"]

    def used_credits(self) -> list[str]:
        return [self.credits[int(i)] for _, t in self.blocks for i in _MARK.findall(t)]


_PROTECT = re.compile(
    r"<[^>]*>|\]\([^)]*\)|https?://\S+|www\.\S+|\x01\d+\x02|&#?\w+;|"
    r"\b[\w-]+\.(?:at|de|ch|com|net|org|eu)\b"
)
_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
_SOFT = "\u00ad"
_ZW = ["\u200b", "\u200c", "\u200d", "\ufeff"]


def _segments(text: str):
    """Yield (is_protected, piece) so noise never touches tags, URLs, domains or markers."""
    pos = 0
    for m in _PROTECT.finditer(text):
        if m.start() > pos:
            yield False, text[pos : m.start()]
        yield True, m.group(0)
        pos = m.end()
    if pos < len(text):
        yield False, text[pos:]


def _map_free(text: str, fn) -> str:
    return "".join(p if prot else fn(p) for prot, p in _segments(text))


class _Noise:
    """Per-file noise decisions: forced values win, otherwise drawn with the given odds."""

    def __init__(self, rng: Random, force: dict | None):
        self.rng, self.force, self.applied = rng, force or {}, []

    def flag(self, name: str, p: float) -> bool:
        v = self.force.get(name)
        return bool(v) if v is not None else self.rng.random() < p

    def choose(self, name: str, options: list, weights: list[float]):
        if name in self.force:
            return self.force[name]
        return self.rng.choices(options, weights)[0]

    def add(self, *kinds: str) -> None:
        for k in kinds:
            if k not in self.applied:
                self.applied.append(k)


def _wrap_lines(text: str, width: int) -> str:
    """Hard-wrap at plain spaces outside tags, like text copied from a fixed-width page."""
    guarded = re.sub(r"<[^>]*>", lambda m: m.group(0).replace(" ", "\x03"), text)
    lines, cur = [], ""
    for w in guarded.split(" "):
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "\n".join(lines).replace("\x03", " ")


_SLOPPY_1252 = {i: bytes([i]).decode("cp1252", errors="replace") for i in range(0x80, 0xA0)}
_SLOPPY_1252 = {i: (c if c != "\ufffd" else chr(i)) for i, c in _SLOPPY_1252.items()}


def mojibake(text: str) -> str:
    """UTF-8 bytes misread as Windows-1252 (undefined bytes kept as latin-1), like ftfy's input."""
    return text.encode("utf-8").decode("latin-1").translate(_SLOPPY_1252)


class _Builder:
    """Stateful generator: one rng, one landing zone, one truth file."""

    def __init__(self, raw_dir: Path, seed: int, source_csv: Path | str | None):
        self.raw_dir = Path(raw_dir)
        self.rng = Random(seed)
        self.sources = load_sources(str(find_source_csv(source_csv)))
        self.order: list[int] = []
        self.cycle = 0
        self.pool: list[tuple[str, Content]] = []  # (source_path, content) for duplicates
        self.norm_index: dict[bytes, bytes] = {}
        self.counters: dict[str, int] = {}
        # Truth records are spooled to disk so 100,000-file corpora stay small in memory;
        # the index keeps (source_path, offset, length, body digest) per record.
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - open for the builder's lifetime, closed when the truth file is written
        self._index: list[tuple[str, int, int, bytes | None]] = []
        self._titles: dict[int, str] = {}

    # -- sources and content -------------------------------------------------------------

    def _next_source(self, with_dateline: bool | None = None) -> tuple[Source, bool]:
        """The next unused source of this cycle (optionally one with/without a dateline)."""
        if not self.order:
            self.order = list(range(len(self.sources)))
            self.rng.shuffle(self.order)
            self.cycle += 1
        i = len(self.order) - 1
        if with_dateline is not None:
            i = next(
                (
                    j
                    for j in range(len(self.order) - 1, -1, -1)
                    if (self.sources[self.order[j]].dateline is not None) == with_dateline
                ),
                i,
            )
        return self.sources[self.order.pop(i)], self.cycle > 1

    def _title_of(self, src: Source) -> str:
        """A stable headline per source, used for `Mehr zum Thema` teasers of other files."""
        if src.row not in self._titles:
            self._titles[src.row] = make_title(src.teaser or src.sentences[0], src.dateline, Random(src.row))
        return self._titles[src.row]

    def new_content(self, src: Source, n_credits: int | None = None, n_subheadings: int | None = None) -> Content:
        rng = self.rng
        paras = _paragraphs(list(src.sentences), rng)
        k = n_credits if n_credits is not None else rng.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]
        slots = [
            (i, j)
            for i, p in enumerate(paras)
            for j, s in enumerate(p)
            if (i, j) != (0, 0) and s.endswith(".") and not s.endswith('."') and not _is_abbrev(s.split()[-1])
        ]
        picks = sorted(rng.sample(slots, min(k, len(slots))))
        credits = rng.sample(CREDIT_DOMAINS, len(picks))
        for idx, (i, j) in enumerate(picks):
            pat = rng.choice(CREDIT_PATTERNS)
            paras[i][j] = paras[i][j][:-1] + pat.format(c=f"\x01{idx}\x02")
        blocks: list[tuple[str, str]] = [("p", " ".join(p)) for p in paras]
        m = n_subheadings if n_subheadings is not None else rng.choices([0, 1, 2, 3], [5, 2.5, 1.5, 1])[0]
        m = min(m, len(paras) - 1)
        for pos in sorted(rng.sample(range(1, len(paras)), m), reverse=True):
            blocks.insert(pos, ("h", _subheading(" ".join(paras[pos]), rng)))
        title = make_title(src.teaser or src.sentences[0], src.dateline, rng, avoid=src.teaser)
        return Content(f"gnad-{src.row:04d}", src.row, src.category, title, src.teaser, src.dateline, blocks, credits)

    def near_edit(self, c: Content) -> tuple[Content, list[str]]:
        """The same story with small edits: a sentence dropped/added, words changed, reordering."""
        rng = self.rng
        c = copy.deepcopy(c)
        edits = []
        before = c.body()
        for _ in range(rng.randint(1, 2)):
            kind = rng.choice(["drop", "add", "words", "reorder"])
            paras = [i for i, (k, _) in enumerate(c.blocks) if k == "p"]
            if kind == "reorder" and len(paras) >= 3:
                i = rng.randrange(1, len(paras) - 1)
                a, b = paras[i], paras[i + 1]
                c.blocks[a], c.blocks[b] = c.blocks[b], c.blocks[a]
            elif kind == "drop":
                cand = [i for i in paras if len(split_sentences(c.blocks[i][1])) >= 2]
                if not cand:
                    continue
                i = rng.choice(cand)
                sents = split_sentences(c.blocks[i][1])
                free = [j for j, s in enumerate(sents) if "\x01" not in s and not (i == paras[0] and j == 0)]
                if not free:
                    continue
                del sents[rng.choice(free)]
                c.blocks[i] = ("p", " ".join(sents))
            elif kind == "add":
                i = rng.choice(paras)
                sents = split_sentences(c.blocks[i][1])
                sents.insert(rng.randint(1, len(sents)), rng.choice(GENERIC_SENTENCES))
                c.blocks[i] = ("p", " ".join(sents))
            else:
                i = rng.choice(paras)
                text = c.blocks[i][1]
                pairs = [(a, b) for a, b in SWAPS + [(b, a) for a, b in SWAPS] if re.search(rf"\b{a}\b", text)]
                if pairs:
                    a, b = rng.choice(pairs)
                    text = re.sub(rf"\b{a}\b", b, text, count=1)
                elif re.search(r"(?<!\x01)\b\d+\b", text):  # never a credit marker's index
                    text = re.sub(r"(?<!\x01)\b(\d+)\b", lambda m: str(int(m.group(1)) + 1), text, count=1)
                else:
                    words = text.split(" ")
                    words.insert(rng.randint(2, max(2, len(words) - 1)), "offenbar")
                    text = " ".join(words)
                c.blocks[i] = ("p", text)
            edits.append(kind)
        if c.body() == before:  # every edit was impossible: add a sentence at the end
            k, t = c.blocks[-1] if c.blocks[-1][0] == "p" else c.blocks[-2]
            idx = c.blocks.index((k, t))
            c.blocks[idx] = ("p", t + " " + rng.choice(GENERIC_SENTENCES))
            edits.append("add")
        if rng.random() < 0.5:
            c.title = make_title(
                c.teaser or split_sentences(c.plain(c.blocks[0][1]))[0], c.dateline, rng, avoid=c.teaser
            )
        return c, edits

    def _register(self, c: Content) -> Content:
        """Keep the invariant: equal normalised bodies are byte-identical truth bodies."""
        for _ in range(20):
            body = c.body()
            key, dig = _digest(_norm_key(body)), _digest(body)
            prev = self.norm_index.get(key)
            if prev is None or prev == dig:
                self.norm_index[key] = dig
                return c
            i = max(i for i, (k, _) in enumerate(c.blocks) if k == "p")
            c.blocks[i] = ("p", c.blocks[i][1] + " " + self.rng.choice(GENERIC_SENTENCES))
        raise RuntimeError("could not make a distinct body")

    # -- rendering ----------------------------------------------------------------------

    def render(self, c: Content, force: dict | None = None) -> tuple[str, dict]:
        """Raw text for a content plus the truth fields that depend on the wrapping."""
        rng = self.rng
        nz = _Noise(rng, force)
        html = nz.choose(
            "html",
            [[], ["p"], ["br"], ["div", "p"], ["entities"], ["p", "entities"], ["br_join"]],
            [85, 4, 2, 3, 3, 2, 1],
        )
        markdown = nz.flag("markdown", 0.15)
        enc = nz.choose("encoding", ["utf-8", "utf-8-sig", "cp1252", "mojibake"], [72, 8, 10, 10])
        nbsp, shy = nz.flag("nbsp", 0.10), nz.flag("soft_hyphen", 0.07)
        zw = nz.flag("zero_width", 0.07) and enc != "cp1252"
        hard_wrap = nz.flag("hard_wrap", 0.05)
        if html:
            nz.add("html")
            nz.add(*[f"html_{h}" for h in html])
        if markdown:
            nz.add("markdown")

        def text_noise(t: str) -> str:
            if "entities" in html:
                t = _map_free(t, lambda s: s.replace("&", "&amp;"))
                if rng.random() < 0.5:
                    t = _map_free(t, lambda s: s.replace('"', "&quot;"))
                t = _map_free(t, lambda s: re.sub(" ", lambda _: "&nbsp;" if rng.random() < 0.05 else " ", s))
            if nbsp:
                t = _map_free(t, lambda s: re.sub(" ", lambda _: "\u00a0" if rng.random() < 0.12 else " ", s))
                nz.add("nbsp")
            if shy or zw:

                def word_noise(m):
                    w = m.group(0)
                    if shy and len(w) >= 8 and rng.random() < 0.15:
                        p = rng.randint(3, len(w) - 3)
                        w = w[:p] + _SOFT + w[p:]
                        nz.add("soft_hyphen")
                    if zw and rng.random() < 0.06:
                        p = rng.randint(1, len(w))
                        w = w[:p] + rng.choice(_ZW) + w[p:]
                        nz.add("zero_width")
                    return w

                t = _map_free(t, lambda s: re.sub(r"(?<![\w\-])[A-Za-zÄÖÜäöüß]{5,}(?![\w\-])", word_noise, s))
            return t

        def inline(t: str) -> str:
            """Inline markdown/HTML around ordinary words (the truth keeps just the words)."""
            if not (markdown or html) or rng.random() < 0.65:
                return t
            words = t.split(" ")
            # names and nouns get bolded or linked on real sites, not function words
            ok = [i for i, w in enumerate(words) if i > 0 and re.fullmatch(r"[A-ZÄÖÜ][\wÄÖÜäöüß-]{3,}[,.;:!?]?", w)]
            for i in rng.sample(ok, min(len(ok), 1)):
                w = words[i]
                core, tail = re.match(r"(.*?)([,.;:!?]?)$", w).groups()
                if core.isascii() and rng.random() < 0.5:
                    url = f"https://de.wikipedia.org/wiki/{core}"
                else:
                    url = f"https://www.{rng.choice(CREDIT_DOMAINS)}/artikel/{rng.randint(1, 10**6)}"
                if markdown and (not html or rng.random() < 0.5):
                    words[i] = (f"**{core}**" if rng.random() < 0.6 else f"[{core}]({url})") + tail
                else:
                    tag = rng.choice(["strong", "em", "a", "span"])
                    words[i] = {"a": f'<a href="{url}">{core}</a>', "span": f'<span class="hl">{core}</span>'}.get(
                        tag, f"<{tag}>{core}</{tag}>"
                    ) + tail
            return " ".join(words)

        def credit(m) -> str:
            d = c.credits[int(m.group(1))]
            form = rng.choices(["bold", "md_hash", "md_url", "a", "md_deep"], [40, 25, 20, 10, 5])[0]
            nz.add("credits")
            if form == "a":
                nz.add("html")
            return {
                "bold": f"**{d}**",
                "md_hash": f"[{d}](#)",
                "md_url": f"[{d}](https://www.{d})",
                "a": f'<a href="https://www.{d}">{d}</a>',
                "md_deep": f"[{d}](https://www.{d}/news/{rng.randint(1, 10**7)}.html)",
            }[form]

        def finish(t: str) -> str:
            return _MARK.sub(credit, text_noise(inline(t)))

        def para_block(t: str) -> str:
            if "p" in html:
                return f"<p>{t}</p>"
            if "br" in html:
                return t + "<br>"
            return t

        # -- head ----------------------------------------------------------------------
        out: list[str] = []  # blocks separated by blank lines
        gaps: list[int] = []  # blank lines *before* each block
        if nz.flag("top_boilerplate", 0.06):
            nz.add("top_boilerplate")
            top = [
                f"Startseite › {rng.choice(RUBRIKEN)}",
                f"Zuletzt aktualisiert: {rng.randint(1, 28):02d}.06.2025, "
                f"{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d} Uhr",
                f"Lesezeit: {rng.randint(2, 7)} Min.",
            ]
            out.append("\n".join(rng.sample(top, rng.randint(1, 2))))
            gaps.append(0)
        deco = nz.choose("title_deco", ["plain", "md_h1", "html_h1", "bold"], [85, 5, 5, 5])
        t = text_noise(c.title)
        if deco != "plain":
            nz.add(f"title_{deco}")
        out.append({"plain": t, "md_h1": f"# {t}", "html_h1": f"<h1>{t}</h1>", "bold": f"**{t}**"}[deco])
        gaps.append(rng.choice([0, 0, 0, 1, 2]) if not out[:-1] else 1)

        show_dateline = c.dateline is not None and not nz.flag("no_dateline", 0.10)
        # Without a teaser the body mostly opens with a dateline; "neither" (nothing marks
        # where the body starts) stays a small minority.
        show_teaser = c.teaser is not None and not nz.flag("no_teaser", 0.12 if show_dateline else 0.03)
        if c.teaser is not None and not show_teaser:
            nz.add("no_teaser")
            if not show_dateline:
                nz.add("no_teaser_no_dateline")
        if c.dateline is not None and not show_dateline:
            nz.add("no_dateline")
        if show_teaser:
            lead = finish(c.teaser)
            out.append(f'<p class="lead">{lead}</p>' if "p" in html else lead)
            gaps.append(nz.choose("gap_title", [1, 2, 3], [70, 20, 10]))
        dl_text, dl_truth = "", None
        if show_dateline:
            style = nz.choose("dateline_style", ["en", "hyphen", "country"], [60, 25, 15])
            country = COUNTRY.get(c.dateline)
            if style == "country" and country:
                dl_truth = f"{c.dateline}, {country}"
                dl_text = f"{dl_truth} {rng.choice(['-', '–'])} "
            else:
                dl_truth = c.dateline
                dl_text = f"{c.dateline} {'-' if style == 'hyphen' else '–'} "
            nz.add(f"dateline_{'country' if dl_truth != c.dateline else style}")
        body_gap_first = nz.choose("gap_body", [1, 2, 3], [55, 20, 25])

        # -- body ----------------------------------------------------------------------
        n_para_breaks = nz.choose("para_breaks", [0, 1, 2], [60, 28, 12])
        p_idx = [i for i, (k, t) in enumerate(c.blocks) if k == "p" and len(t.split()) >= 14]
        break_at = set(rng.sample(p_idx, min(n_para_breaks, len(p_idx))))
        h_idx = [i for i, (k, t) in enumerate(c.blocks) if k == "h" and len(t.split()) >= 3]
        if h_idx and nz.flag("heading_break", 0.3):
            break_at.add(rng.choice(h_idx))
        extra_gaps = nz.flag("extra_gaps", 0.08)
        ad_at = rng.randrange(1, len(c.blocks)) if len(c.blocks) > 1 and nz.flag("ad_line", 0.04) else None
        related = [
            self._title_of(rng.choice(self.sources)) for _ in range(nz.choose("related", [0, 1, 2, 3], [70, 18, 8, 4]))
        ]
        related = list(dict.fromkeys(r for r in related if r != c.title))
        publisher = rng.choice(PUBLISHERS) if nz.flag("publisher", 0.5) else None
        inline_related = related and rng.random() < 0.15 and len(c.blocks) > 2

        def related_line(h: str) -> str:
            form = rng.choices(["nbsp", "space", "link", "lesen"], [65, 15, 12, 8])[0]
            if form == "link":
                site = publisher or rng.choice(PUBLISHERS)
                url = f"https://www.{site}/artikel/{rng.randint(10**4, 10**5)}"
                return f"Mehr zum Thema – [{h}]({url})"
            if form == "lesen":
                return f"Lesen Sie auch: {h}"
            return f"Mehr zum Thema –{chr(0xA0) if form == 'nbsp' else ' '}{h}"

        broken, n_breaks, related_out = [], 0, []
        body_parts: list[str] = []
        body_gaps: list[int] = []
        first_p = next(i for i, (k, _) in enumerate(c.blocks) if k == "p")
        for i, (kind, text) in enumerate(c.blocks):
            if i == ad_at:
                body_parts.append(rng.choice(AD_LINES))
                body_gaps.append(1)
                nz.add("ad_line")
            if inline_related and i == len(c.blocks) - 1:
                related_out.append(related.pop(0))
                body_parts.append(related_line(related_out[-1]))
                body_gaps.append(1)
                nz.add("related_inline")
            frags = [text]
            if i in break_at:
                words = text.split(" ")
                cand = (
                    [j for j in range(3, len(words) - 2) if not re.search(r"[.!?:;]$", words[j - 1])]
                    if kind == "p"
                    else list(range(1, len(words)))
                )
                caps = [j for j in cand if words[j][:1].isupper()]
                if cand:
                    j = rng.choice(caps) if caps and rng.random() < 0.5 else rng.choice(cand)
                    frags = [" ".join(words[:j]), " ".join(words[j:])]
                    broken.append(c.plain(text))
                    n_breaks += 1
                    nz.add("para_break" if kind == "p" else "heading_break")
            for fi, frag in enumerate(frags):
                if kind == "h":
                    hd = nz.choose("heading_deco", ["plain", "md", "html", "bold"], [80, 8, 6, 6])
                    if hd == "md" and not markdown:
                        hd = "plain"
                    if hd == "html" and not html:
                        hd = "plain"
                    t = text_noise(frag)
                    part = {"plain": t, "md": f"## {t}", "html": f"<h2>{t}</h2>", "bold": f"**{t}**"}[hd]
                    nz.add("subheadings")
                else:
                    t = finish(frag)
                    if i == first_p and fi == 0:
                        t = dl_text + t
                    part = para_block(t)
                if hard_wrap and kind == "p":
                    part = _wrap_lines(part, rng.randint(60, 80))
                    nz.add("hard_wrap")
                body_parts.append(part)
                body_gaps.append(2 if extra_gaps and rng.random() < 0.3 else 1)
        if extra_gaps and 2 in body_gaps[1:]:
            nz.add("extra_gaps")
        if "br_join" in html:
            joined = "<br><br>".join(body_parts)
            body_parts, body_gaps = [joined], [1]
        if "div" in html:
            body_parts = ['<div class="article-body">'] + body_parts + ["</div>"]
            body_gaps = [1] + body_gaps + [1]
        body_gaps[0] = body_gap_first
        out += body_parts
        gaps += body_gaps

        # -- trailers ------------------------------------------------------------------
        trail: list[str] = []
        category = place = None
        quellen: list[str] = []
        details = nz.choose("details", [None, "tab", "bullets", "li", "colon"], [60, 20, 8, 6, 6])
        if details:
            nz.add(f"details_{details}")
            category = rng.choice(VORFALL.get(c.gnad_category, ["Sonstiges"]))
            if rng.random() < 0.85:
                first = (c.dateline or "").split("/")[0].strip()
                place = (
                    f"{first}, {COUNTRY[first]}"
                    if first in COUNTRY
                    else (first if first and rng.random() < 0.5 else rng.choice(FALLBACK_PLACES))
                )
            srcs = list(dict.fromkeys(c.used_credits()))
            srcs += rng.sample([d for d in CREDIT_DOMAINS if d not in srcs], rng.randint(0, 2))
            if publisher and rng.random() < 0.2:
                srcs.append(publisher)  # a site listing itself must not count as a source
            rng.shuffle(srcs)
            if srcs and rng.random() < 0.85:
                quellen = srcs
                if publisher in quellen:
                    nz.add("publisher_in_quellen")
            www = rng.random() < 0.8
            q = [f"www.{d}" if www else d for d in quellen]
            if details == "tab":
                lines = ["Details\t", f"Vorfall\t{category}"]
                if place:
                    lines.append(f"Ort\t{place}")
                if q:
                    lines.append('Quellen\t<ul style="list-style-type: none">' + "".join(f"• {d}" for d in q))
                trail.append("\n".join(lines))
            elif details == "bullets":
                lines = ["Details", "", f"• Vorfall: {category}"]
                if place:
                    lines.append(f"• Ort: {place}")
                if q:
                    lines.append("• Quellen: " + ", ".join(q))
                trail.append("\n".join(lines))
            elif details == "li":
                items = (
                    [f"<li>Vorfall: {category}</li>"]
                    + ([f"<li>Ort: {place}</li>"] if place else [])
                    + ([f"<li>Quellen: {' • '.join(q)}</li>"] if q else [])
                )
                trail.append('<div class="details"><h3>Details</h3>\n<ul>\n' + "\n".join(items) + "\n</ul></div>")
            else:
                lines = (
                    [f"Vorfall: {category}"]
                    + ([f"Ort: {place}"] if place else [])
                    + ([f"Quellen: {'; '.join(q)}"] if q else [])
                )
                trail.append("\n".join(lines))
        groups: list[str] = []
        if trail:
            groups.append(trail[0])
        if publisher:
            form = rng.choices(["md_hash", "md_url", "plain", "copyright"], [60, 20, 10, 10])[0]
            nz.add("publisher" if form != "copyright" else "publisher_copyright")
            groups.append(
                {
                    "md_hash": f"Besuchen Sie uns auf: [{publisher}](#)",
                    "md_url": f"Besuchen Sie uns auf: [{publisher}](https://www.{publisher})",
                    "plain": f"Besuchen Sie uns auf: {publisher}",
                    "copyright": f"© 2025 {publisher} – Alle Rechte vorbehalten",
                }[form]
            )
        if related:
            nz.add("related")
            related_out += related
            groups.append("\n\n".join(related_line(h) for h in related))
        if nz.flag("boilerplate", 0.3):
            nz.add("boilerplate")
            groups.append("\n\n".join(rng.sample(BOILERPLATE, rng.randint(1, 3))))
        rng.shuffle(groups)
        if nz.flag("comment", 0.25):
            nz.add("comment_trailer")
            lines = ["Schreibe einen Kommentar"]
            if rng.random() < 0.5:
                lines += COMMENT_FORM[rng.randint(0, 1) :]
            groups.append("\n\n".join(lines))
        for g in groups:
            out.append(g)
            gaps.append(1)

        # -- assemble --------------------------------------------------------------------
        # gaps[i] is the number of blank lines before block i (leading blank lines for i == 0)
        text = "\n" * gaps[0] + out[0]
        for g, block in zip(gaps[1:], out[1:], strict=False):
            text += "\n" * (g + 1) + block
        if rng.random() < 0.5:
            text += "\n"
        links = list(dict.fromkeys(u.rstrip(".,;:!?") for u in _URL.findall(text)))
        cited = {d.lower() for d in c.used_credits()} | {d.lower() for d in quellen}
        cited.discard(publisher)
        return text, {
            "noise": nz.applied,
            "encoding": enc,
            "n_breaks": n_breaks,
            "broken_paragraphs": broken,
            "teaser": c.teaser if show_teaser else None,
            "dateline": dl_truth,
            "publisher": publisher,
            "category": category,
            "place": place,
            "cited_sources": sorted(cited),
            "links": links,
            "related": list(dict.fromkeys(related_out)),
        }

    # -- bytes and files -------------------------------------------------------------------

    def encode(self, text: str, info: dict, force: dict | None) -> bytes:
        """Apply line-end and encoding noise; returns the bytes to write."""
        nz = _Noise(self.rng, force)
        if nz.flag("crlf", 0.10):
            text = text.replace("\n", "\r\n")
            info["noise"].append("crlf")
        enc = info["encoding"]
        if enc == "cp1252":
            try:
                data = text.encode("cp1252")
            except UnicodeEncodeError:  # e.g. Erdoğan: not representable, publish as UTF-8
                enc = "utf-8"
        if enc == "mojibake":
            data = mojibake(text).encode("utf-8")
        elif enc == "utf-8-sig":
            data = text.encode("utf-8-sig")
        elif enc == "utf-8":
            data = text.encode("utf-8")
        info["encoding"] = enc
        if enc != "utf-8":
            info["noise"].append({"cp1252": "enc_cp1252", "mojibake": "mojibake", "utf-8-sig": "bom"}[enc])
        return data

    def file_name(self, day: str, *, kind: str = "plain", gz: bool = False) -> str:
        """A fresh relative path inside a date folder; names are unique via the counter."""
        n = self.counters.get(day, 0)
        self.counters[day] = n + 1
        h = f"{self.rng.getrandbits(64):016x}"
        ext = ".txt.gz" if gz else ".txt"
        if kind == "nested":
            feed = self.rng.choice(["feed-a", "feed-b", "agentur/2025/06", "rss/wien"])
            return f"{day}/{feed}/{n:03d}{ext}"
        if kind == "odd":
            name = self.rng.choice(
                [
                    f"{n:03d} Artikel ({h[:6]}){ext}",
                    f"{n:03d}_Österreich-News.{h[:8]}{ext}",
                    f"{n:03d}-{h}",
                    f"{n:03d}_{h}.html",
                    f"{n:03d}_{h}.md",
                    f"{n:03d}.{h[:4]}.news{ext}",
                    f"{n:03d}_{h}.TXT",
                ]
            )
            if gz and not name.endswith(".gz"):
                name += ".gz"
            return f"{day}/{name}"
        return f"{day}/{n:03d}_{h}{ext}"

    def write(self, rel: str, data: bytes) -> None:
        p = self.raw_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    # -- emitters ------------------------------------------------------------------------

    def emit_article(
        self,
        day: str,
        c: Content,
        kind: str,
        derived_from: str | None = None,
        edits: list[str] | None = None,
        force: dict | None = None,
    ) -> str:
        """Render, encode and write one curated article; record its truth."""
        force = force or {}
        nz = _Noise(self.rng, force)
        gz = nz.flag("gzip", 0.05)
        name_kind = nz.choose("name", ["plain", "nested", "odd"], [85, 10, 5])
        text, info = self.render(c, force)
        data = self.encode(text, info, force)
        if gz:
            data = gzip.compress(data, mtime=0)
            info["noise"].append("gzip")
        if name_kind != "plain":
            info["noise"].append({"nested": "nested_folder", "odd": "odd_name"}[name_kind])
        rel = self.file_name(day, kind=name_kind, gz=gz)
        self.write(rel, data)
        if kind in ("exact_dup", "near_dup", "reuse"):
            info["noise"].insert(0, kind)
        self.record(
            {
                "source_path": rel,
                "date": day,
                "expect": "curated",
                "kind": kind,
                "title": c.title,
                "teaser": info["teaser"],
                "dateline": info["dateline"],
                "body": c.body(),
                "subheadings": c.subheadings(),
                "publisher": info["publisher"],
                "category": info["category"],
                "place": info["place"],
                "cited_sources": info["cited_sources"],
                "links": info["links"],
                "related": info["related"],
                "language": "de",
                "exact_dup_of": None,
                "story": c.story,
                "noise": info["noise"],
                "n_breaks": info["n_breaks"],
                "broken_paragraphs": info["broken_paragraphs"],
                "encoding": info["encoding"],
                "gzip": gz,
                "gnad_category": c.gnad_category,
                "gnad_row": c.row,
                "derived_from": derived_from,
                "near_dup_edits": edits or [],
                "broken_kind": None,
            }
        )
        if len(self.pool) < 4000:
            self.pool.append((rel, c))
        else:
            self.pool[self.rng.randrange(len(self.pool))] = (rel, c)
        return rel

    def emit_fresh(self, day: str, force: dict | None = None) -> str:
        force = force or {}
        src, reused = self._next_source(force.get("source_dateline"))
        c = self._register(self.new_content(src, force.get("n_credits"), force.get("n_subheadings")))
        return self.emit_article(day, c, "reuse" if reused else "original", force=force)

    def emit_exact(self, day: str, of: str | None = None, force: dict | None = None) -> str:
        rel, c = next(p for p in self.pool if p[0] == of) if of else self.rng.choice(self.pool)
        return self.emit_article(day, c, "exact_dup", derived_from=rel, force=force)

    def emit_near(self, day: str, of: str | None = None, force: dict | None = None) -> str:
        rel, c = next(p for p in self.pool if p[0] == of) if of else self.rng.choice(self.pool)
        c2, edits = self.near_edit(c)
        c2 = self._register(c2)
        return self.emit_article(day, c2, "near_dup", derived_from=rel, edits=edits, force=force)

    def emit_broken(self, day: str, kind: str | None = None) -> str:
        """A file the pipeline must quarantine."""
        rng = self.rng
        kind = kind or rng.choice(
            ["empty", "whitespace", "binary", "nul", "few_bytes", "truncated_gzip", "invalid_bytes", "markup_only"]
        )
        gz = kind == "truncated_gzip"
        if kind == "empty":
            data = b""
        elif kind == "whitespace":
            data = rng.choice([b"   \n\n\t\n", b"\r\n\r\n  \r\n", b"\n" * rng.randint(1, 9), "\u00a0\n \n".encode()])
        elif kind == "binary":
            head = rng.choice(
                [
                    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
                    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
                    b"PK\x03\x04\x14\x00\x00\x00",
                    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
                    b"",
                ]
            )
            data = head + rng.randbytes(rng.randint(200, 3000))
        elif kind == "few_bytes":
            data = rng.choice([b"x", b"ok", b"\xef\xbb\xbf", b"<p>", b"\x1f\x8b", b"Ab\n", b"\xc3"])
        elif kind == "markup_only":
            data = rng.choice(
                [
                    b'<html><head><title></title></head><body><div class="article"></div></body></html>\n',
                    b"<p>&nbsp;</p>\n\n<p></p>\n<br>\n",
                    b"<div>\n  <br/>\n</div>",
                ]
            )
        else:
            src = self.sources[rng.randrange(len(self.sources))]
            text, _ = self.render(self.new_content(src), {"encoding": "utf-8"})
            raw = text.encode("utf-8")
            if kind == "nul":
                if rng.random() < 0.3:
                    data = raw + b"\x00" * rng.randint(64, 1024)
                else:
                    cuts = sorted(rng.sample(range(1, len(raw) - 1), rng.randint(1, 5)))
                    data, prev = b"", 0
                    for cpos in cuts:
                        data += raw[prev:cpos] + b"\x00" * rng.randint(1, 8)
                        prev = cpos
                    data += raw[prev:]
            elif kind == "truncated_gzip":
                z = gzip.compress(raw, mtime=0)
                data = z[: rng.randint(len(z) // 4, len(z) * 3 // 4)]
            else:  # invalid_bytes: undefined in cp1252 and illegal in UTF-8, densely spread
                bad = [0x81, 0x8D, 0x8F, 0x90, 0x9D]
                arr = bytearray(raw)
                for p in range(rng.randint(0, 6), len(arr), rng.randint(6, 14)):
                    arr[p] = rng.choice(bad)
                data = bytes(arr)
        rel = self.file_name(day, kind="plain", gz=gz)
        self.write(rel, data)
        self.record(_quarantine_record(rel, day, kind))
        return rel

    def record(self, rec: dict) -> None:
        """Spool one truth record."""
        data = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        off = self._spool.seek(0, 2)
        self._spool.write(data)
        digest = _digest(rec["body"]) if rec["expect"] == "curated" else None
        self._index.append((rec["source_path"], off, len(data), digest))

    def finish(self, truth_path: Path) -> Path:
        """Fill exact_dup_of (first identical body by source_path order) and write the truth."""
        first: dict[bytes, str] = {}
        truth_path = Path(truth_path)
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        with truth_path.open("w", encoding="utf-8") as fh:
            for path, off, n, digest in sorted(self._index):
                self._spool.seek(off)
                rec = json.loads(self._spool.read(n))
                if digest is not None:
                    rec["exact_dup_of"] = first.setdefault(digest, path)
                    if rec["exact_dup_of"] == path:
                        rec["exact_dup_of"] = None
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._spool.close()
        return truth_path


def _quarantine_record(rel: str, day: str, kind: str) -> dict:
    return {
        "source_path": rel,
        "date": day,
        "expect": "quarantine",
        "kind": "broken",
        "title": None,
        "teaser": None,
        "dateline": None,
        "body": None,
        "subheadings": [],
        "publisher": None,
        "category": None,
        "place": None,
        "cited_sources": [],
        "links": [],
        "related": [],
        "language": None,
        "exact_dup_of": None,
        "story": None,
        "noise": [f"broken_{kind}"],
        "n_breaks": 0,
        "broken_paragraphs": [],
        "encoding": None,
        "gzip": kind == "truncated_gzip",
        "gnad_category": None,
        "gnad_row": None,
        "derived_from": None,
        "near_dup_edits": [],
        "broken_kind": kind,
    }


def _prepare(raw_dir: Path, days: list[str], overwrite: bool) -> None:
    """Refuse to mix a new corpus into existing date folders unless asked to replace them."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for d in days:
        p = raw_dir / d
        if p.exists() and any(p.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{p} is not empty (use overwrite=True / --force)")
            shutil.rmtree(p)


def build_corpus(
    raw_dir: Path,
    *,
    n_articles: int,
    n_dates: int,
    seed: int,
    start_date: str | date = "2025-06-01",
    broken_share: float = 0.02,
    exact_dup_share: float = 0.03,
    near_dup_share: float = 0.05,
    source_csv: Path | str | None = None,
    truth_path: Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Write n_articles raw files into raw_dir/<date>/... and return the truth.jsonl path."""
    raw_dir = Path(raw_dir)
    start = date.fromisoformat(str(start_date))
    days = [(start + timedelta(days=i)).isoformat() for i in range(n_dates)]
    truth_path = Path(truth_path) if truth_path else raw_dir.parent / "truth.jsonl"
    if truth_path.resolve().is_relative_to(raw_dir.resolve()):
        raise ValueError("the truth file must live outside raw_dir: every file there is input")
    _prepare(raw_dir, days, overwrite)
    b = _Builder(raw_dir, seed, source_csv)
    for i in range(n_articles):
        day = days[i * n_dates // n_articles]
        r = b.rng.random()
        if r < broken_share:
            b.emit_broken(day)
        elif r < broken_share + exact_dup_share and b.pool:
            b.emit_exact(day)
        elif r < broken_share + exact_dup_share + near_dup_share and b.pool:
            b.emit_near(day)
        else:
            b.emit_fresh(day)
    return b.finish(truth_path)


# ---------------------------------------------------------------------------------------
# The committed sample landing zone (data/raw)
# ---------------------------------------------------------------------------------------

_MD_CREDIT = re.compile(r"\*\*([^*\s]+)\*\*|\[([^\]]+)\]\([^)]*\)")


def _seed_truth(path: Path, day: str) -> dict:
    """Hand-checked truth for the two project seed documents."""
    text = path.read_text(encoding="utf-8")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    plain = lambda s: _MD_CREDIT.sub(lambda m: m.group(1) or m.group(2), s)  # noqa: E731
    rec = _quarantine_record(f"{day}/{path.name}", day, "seed")
    rec.update(
        expect="curated", kind="seed", language="de", broken_kind=None, encoding="utf-8", gzip=False, noise=["seed"]
    )
    if path.name.startswith("000_"):
        assert len(blocks) == 14, len(blocks)
        paras = [
            plain(blocks[2]).removeprefix("Moskau, Russland - "),
            blocks[3] + " " + blocks[4],  # paragraph broken by page layout
            blocks[5],
            plain(blocks[6]),
            blocks[7],
            blocks[8] + " " + blocks[9],  # subheading broken by page layout
            plain(blocks[10]),
            blocks[11],
        ]
        rec.update(
            title=blocks[0],
            teaser=blocks[1],
            dateline="Moskau, Russland",
            body="\n\n".join(paras),
            subheadings=[paras[2], paras[5]],
            publisher="die-nachrichten.at",
            category="Sonstiges",
            place="Moskau, Russland",
            cited_sources=["berliner-zeitung.de", "n-tv.de", "vienna.at"],
            links=["https://www.berliner-zeitung.de"],
            related=[],
            n_breaks=2,
            broken_paragraphs=[paras[1], paras[5]],
            story="seed-musk-asyl-a",
            noise=[
                "seed",
                "dateline_country",
                "credits",
                "subheadings",
                "para_break",
                "heading_break",
                "details_tab",
                "publisher",
                "html",
            ],
        )
    else:
        assert len(blocks) == 10, len(blocks)
        # No dateline and no extra blank lines, but the first paragraph is the lead that
        # summarises the story, so it is read as the teaser (as the pipeline's seed test does).
        rec.update(
            title=blocks[0],
            teaser=blocks[1],
            dateline=None,
            body="\n\n".join(blocks[2:8]),
            subheadings=[],
            publisher=None,
            category=None,
            place=None,
            cited_sources=[],
            links=[],
            related=[blocks[8].split("–\u00a0", 1)[1]],
            n_breaks=0,
            story="seed-musk-asyl-b",
            noise=["seed", "related", "comment_trailer"],
        )
    return rec


# Per-file forced noise for the sample, so that a few dozen files show every kind of mess.
_SAMPLE_PLAN: list[tuple[int, str, dict]] = [
    # (date index, action, force)
    (
        0,
        "fresh",
        {
            "n_credits": 2,
            "n_subheadings": 1,
            "para_breaks": 1,
            "details": "tab",
            "publisher": True,
            "dateline_style": "country",
            "html": [],
            "encoding": "utf-8",
        },
    ),
    (0, "fresh", {"related": 2, "comment": True, "no_teaser": False, "html": []}),
    (0, "fresh", {"html": ["p", "entities"], "n_credits": 1, "details": "li"}),
    (0, "fresh", {"markdown": True, "n_subheadings": 2, "heading_break": True, "html": []}),
    (0, "broken:empty", {}),
    (0, "fresh", {"encoding": "mojibake", "dateline_style": "hyphen", "publisher": True}),
    (0, "fresh", {"name": "nested", "crlf": True, "boilerplate": True}),
    (0, "fresh", {"gzip": True, "name": "plain", "details": "bullets"}),
    (0, "near:1", {"html": []}),
    (0, "fresh", {"no_teaser": True, "no_dateline": False, "source_dateline": True, "top_boilerplate": True}),
    (0, "fresh", {"encoding": "cp1252", "soft_hyphen": True, "nbsp": True, "zero_width": False}),
    (0, "broken:binary", {}),
    (0, "fresh", {"para_breaks": 2, "n_credits": 3, "details": "colon", "publisher": True}),
    (0, "fresh", {"name": "odd", "html": ["br"], "title_deco": "html_h1"}),
    (0, "fresh", {"hard_wrap": True, "related": 1, "html": []}),
    (0, "fresh", {"encoding": "utf-8-sig", "zero_width": True, "ad_line": True}),
    (1, "exact:0", {"encoding": "utf-8", "crlf": True}),
    (1, "fresh", {"n_credits": 2, "details": "tab", "publisher": True, "comment": True}),
    (1, "broken:nul", {}),
    (1, "fresh", {"html": ["div", "p"], "title_deco": "md_h1", "markdown": True}),
    (1, "fresh", {"no_teaser": True, "no_dateline": True, "related": 1}),
    (1, "fresh", {"encoding": "mojibake", "crlf": True, "n_subheadings": 2}),
    (1, "fresh", {"name": "nested", "gzip": False, "extra_gaps": True}),
    (1, "broken:truncated_gzip", {}),
    (1, "fresh", {"para_breaks": 1, "heading_break": True, "n_subheadings": 1}),
    (1, "fresh", {"encoding": "cp1252", "details": "bullets"}),
    (1, "fresh", {"html": ["br_join"], "n_credits": 1}),
    (1, "fresh", {"title_deco": "bold", "boilerplate": True, "publisher": True}),
    (1, "fresh", {"dateline_style": "country", "details": "tab", "nbsp": True}),
    (1, "fresh", {"name": "odd", "related": 3}),
    (1, "fresh", {"soft_hyphen": True, "zero_width": True, "hard_wrap": True}),
    (1, "fresh", {"encoding": "utf-8-sig", "comment": True}),
    (1, "fresh", {"markdown": True, "n_credits": 2, "para_breaks": 1}),
    (2, "fresh", {"details": "li", "html": ["p"], "publisher": True}),
    (2, "fresh", {"encoding": "cp1252", "crlf": True}),
    (2, "broken:few_bytes", {}),
    (2, "fresh", {"top_boilerplate": True, "related": 2, "n_subheadings": 2}),
    (2, "fresh", {"name": "nested", "html": ["p"]}),
    (2, "near:21", {}),
    (2, "fresh", {"ad_line": True, "para_breaks": 2}),
    (2, "fresh", {"encoding": "mojibake", "details": "colon", "comment": True}),
    (
        2,
        "fresh",
        {"no_teaser": True, "no_dateline": False, "source_dateline": True, "dateline_style": "hyphen", "n_credits": 2},
    ),
    (2, "fresh", {"html": ["entities"], "n_credits": 1, "related": 1}),
    (2, "fresh", {"title_deco": "md_h1", "markdown": True, "heading_break": True, "n_subheadings": 2}),
    (2, "fresh", {"encoding": "utf-8", "crlf": True, "publisher": True, "details": "tab"}),
    (2, "fresh", {}),
    (2, "fresh", {"name": "odd", "soft_hyphen": True}),
    (2, "fresh", {"boilerplate": True, "extra_gaps": True}),
]


def build_sample(
    raw_dir: Path,
    truth_path: Path = SAMPLE_TRUTH,
    *,
    seed: int = 20250601,
    seeds_dir: Path | None = None,
    source_csv: Path | str | None = None,
    overwrite: bool = True,
) -> Path:
    """Write the small committed sample: the two seeds plus ~48 generated files over 3 dates."""
    raw_dir = Path(raw_dir)
    seeds_dir = (
        Path(seeds_dir) if seeds_dir else next(p for p in (DEFAULT_SEEDS, REPO.parent / "shared/seeds") if p.is_dir())
    )
    days = ["2025-06-01", "2025-06-02", "2025-06-03"]
    _prepare(raw_dir, days, overwrite)
    b = _Builder(raw_dir, seed, source_csv)
    (raw_dir / days[0]).mkdir(parents=True, exist_ok=True)
    for s in sorted(seeds_dir.glob("*.txt")):
        shutil.copyfile(s, raw_dir / days[0] / s.name)
        b.record(_seed_truth(s, days[0]))
    # seeds use names 000_/001_, so generated files in that folder start at 002
    b.counters[days[0]] = 2
    made: list[str] = []
    for di, action, force in _SAMPLE_PLAN:
        day = days[di]
        force = {"gzip": False, "name": "plain", **force}
        if action == "fresh":
            made.append(b.emit_fresh(day, force))
        elif action.startswith("broken:"):
            made.append(b.emit_broken(day, action.split(":")[1]))
        else:
            what, idx = action.split(":")
            emit = b.emit_exact if what == "exact" else b.emit_near
            made.append(emit(day, of=made[int(idx)], force=force))
    return b.finish(truth_path)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m dev.corpus.generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, help="benchmark root: writes OUT/raw/<date>/... and OUT/truth.jsonl")
    ap.add_argument("--raw-dir", type=Path, help="write raw files here instead of OUT/raw")
    ap.add_argument("--truth", type=Path, help="truth file (default: next to the raw dir)")
    ap.add_argument("--n", type=int, default=3000, help="number of raw files")
    ap.add_argument("--dates", type=int, default=3, help="number of date folders")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start-date", default="2025-06-01")
    ap.add_argument("--broken-share", type=float, default=0.02)
    ap.add_argument("--exact-dup-share", type=float, default=0.03)
    ap.add_argument("--near-dup-share", type=float, default=0.05)
    ap.add_argument("--source-csv", type=Path)
    ap.add_argument("--force", action="store_true", help="replace non-empty date folders")
    ap.add_argument(
        "--sample",
        type=Path,
        metavar="RAW_DIR",
        help="write the committed sample (seeds + ~48 files) into RAW_DIR "
        f"and its truth to {SAMPLE_TRUTH.relative_to(REPO)}",
    )
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if a.sample:
        truth = build_sample(a.sample, a.truth or SAMPLE_TRUTH, source_csv=a.source_csv)
        raw = a.sample
    else:
        if not (a.out or a.raw_dir):
            ap.error("give --out DIR (or --raw-dir), or --sample RAW_DIR")
        raw = a.raw_dir or a.out / "raw"
        truth = build_corpus(
            raw,
            n_articles=a.n,
            n_dates=a.dates,
            seed=a.seed,
            start_date=a.start_date,
            broken_share=a.broken_share,
            exact_dup_share=a.exact_dup_share,
            near_dup_share=a.near_dup_share,
            source_csv=a.source_csv,
            truth_path=a.truth or (a.out / "truth.jsonl" if a.out else None),
            overwrite=a.force,
        )
    with open(truth, encoding="utf-8") as fh:
        n = sum(1 for _ in fh)
    print(f"wrote {n} files under {raw} and truth {truth} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
