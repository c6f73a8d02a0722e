"""Boilerplate learnt from the archive (news_pipeline.recurring): lines a site repeats on its pages."""

from __future__ import annotations

from random import Random

import polars as pl

from news_pipeline.stages.extract import recurring as R
from news_pipeline.stages.extract.articles import extract_articles

TOWNS = [
    "Ahornfeld",
    "Birkenau",
    "Eichenstedt",
    "Lindenhof",
    "Ulmental",
    "Weidenburg",
    "Erlenbach",
    "Buchholz",
    "Tannwald",
]
TOPICS = [
    "die neue Turnhalle",
    "den Ausbau der Radwege",
    "das Sommerfest",
    "die Sanierung der Brücke",
    "den neuen Spielplatz",
    "die Buslinie zum Bahnhof",
    "das Hallenbad",
    "die Bücherei",
]
SITES = {  # a made-up site: its menu (no links: only recurrence tells it from text) and its footer sentence
    "dorfbote-beispiel.de": (
        ["Aus der Region", "Vereinsleben", "Termine der Woche"],
        "Der Dorfbote erscheint jeden Donnerstag kostenlos in allen Haushalten der Gemeinde.",
    ),
    "talblatt-beispiel.at": (
        ["Gemeinden im Tal", "Menschen von hier", "Veranstaltungen"],
        "Das Talblatt wird von einem Verein herausgegeben und von Freiwilligen verteilt.",
    ),
    "kreiskurier-beispiel.de": (
        ["Kreisnachrichten", "Sport im Kreis", "Leserfotos"],
        "Alle Texte des Kreiskuriers stammen von unserer Redaktion im Landratsamt.",
    ),
}


def _article(rng: Random) -> tuple[str, list[str]]:
    town, topic, other = rng.choice(TOWNS), rng.choice(TOPICS), rng.choice(TOWNS)
    n = rng.randint(12, 480)
    title = f"{town}: Streit um {topic} ({n})"
    paragraphs = [
        f"Der Gemeinderat von {town} hat am Abend über {topic} beraten und nach langer Diskussion eine Entscheidung "
        f"vertagt. Die Kosten seien mit {n}000 Euro deutlich höher als zunächst angenommen, hieß es aus dem Rathaus.",
        f"Anwohnerinnen und Anwohner hatten zuvor {rng.randint(40, 900)} Unterschriften gesammelt. Sie fordern, dass "
        f"die Gemeinde auch Vorschläge aus {other} prüft, wo ein ähnliches Projekt vor {rng.randint(2, 9)} Jahren "
        "umgesetzt wurde.",
        f"Eine neue Sitzung ist für den {rng.randint(1, 28)}. des kommenden Monats geplant. Bis dahin soll ein "
        f"Gutachten klären, ob sich die Pläne für {topic} günstiger umsetzen lassen.",
    ]
    return title, paragraphs


def _page(site: str, title: str, paragraphs: list[str]) -> str:
    menu, footer = SITES[site]
    return "\n\n".join([title, "\n".join(menu), *paragraphs, footer, f"Besuchen Sie uns auf: [{site}](#)"]) + "\n"


def _corpus(pages_per_site: int = 8, seed: int = 7) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    rng, rows, truth = Random(seed), [], {}
    for site in SITES:
        for i in range(pages_per_site):
            title, paragraphs = _article(rng)
            doc_id = f"{site}/{i}"
            rows.append({"doc_id": doc_id, "raw_text": _page(site, title, paragraphs)})
            truth[doc_id] = paragraphs
    return pl.DataFrame(rows), truth


def test_a_sites_menu_and_footer_are_learnt_from_its_pages():
    docs, truth = _corpus()
    out = extract_articles(docs)
    for row in out.iter_rows(named=True):
        menu, footer = SITES[row["doc_id"].split("/")[0]]
        text = (row["teaser"] or "") + "\n\n" + row["body"]
        assert all(p in text for p in truth[row["doc_id"]]), row["doc_id"]
        assert footer not in text and not any(m in text for m in menu), row["doc_id"]
        assert any(r["rule"] == "recurring" for r in row["removed"])


def test_a_page_alone_keeps_what_only_recurrence_tells_apart():
    docs, _ = _corpus()
    alone = extract_articles(docs.head(1)).row(0, named=True)
    assert SITES["dorfbote-beispiel.de"][1] in alone["body"]


def test_a_story_republished_under_one_headline_is_not_its_own_boilerplate():
    rng = Random(3)
    title, paragraphs = _article(rng)
    docs = pl.DataFrame(
        {"doc_id": [f"d{i}" for i in range(7)], "raw_text": [_page("talblatt-beispiel.at", title, paragraphs)] * 7}
    )
    for row in extract_articles(docs).iter_rows(named=True):
        # one headline counts once: nothing of the page recurs, not even the footer
        assert all(p in (row["teaser"] or "") + row["body"] for p in paragraphs)
        assert not any(r["rule"] == "recurring" for r in row["removed"])


def _hashed(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={"site": pl.String, "text": pl.String, "title_hash": pl.UInt64}, orient="row")
    return R.hash_lines(frame.with_row_index("doc_id"))


def test_line_counts_merge_prune_and_flag():
    hashed = _hashed(
        [
            ("a.de", "Impressum 2024", 1),
            ("a.de", "Impressum 2025", 2),
            ("a.de", "Impressum 2025", 2),
            ("b.de", "Impressum 2025", 3),
            ("a.de", "Ein Satz aus einem Artikel.", 1),
            (None, "Impressum", 4),
        ]
    )
    counts = R.line_counts(hashed)
    assert counts.schema == pl.Schema(R.COUNTS_SCHEMA)
    # digits are normalised, distinct headlines counted, sites kept apart, lines without a site skipped
    assert sorted(counts.select("site", "docs").rows()) == [("a.de", 1), ("a.de", 2), ("b.de", 1)]
    merged = R.merge_counts(counts, counts)
    assert sorted(merged["docs"].to_list()) == [2, 2, 4]
    assert R.merge_counts(None, counts).equals(counts)
    assert R.prune_counts(merged, min_docs=3)["docs"].to_list() == [4]
    flagged = R.flag_recurring(hashed, merged, min_docs=4)
    assert flagged.filter("recurring")["text"].to_list() == ["Impressum 2024", "Impressum 2025", "Impressum 2025"]


def test_history_counts_make_a_single_page_learn_its_site():
    docs, _ = _corpus()
    first = docs.head(1)
    history = R.line_counts(_hashed([("dorfbote-beispiel.de", SITES["dorfbote-beispiel.de"][1], h) for h in range(6)]))
    row = extract_articles(first, line_history=history).row(0, named=True)
    assert SITES["dorfbote-beispiel.de"][1] not in row["body"]


def test_site_of_prefers_the_publisher_then_the_main_link_host():
    fields = pl.DataFrame({"doc_id": [0, 1, 2], "publisher": ["a.de", None, None]})
    links = pl.DataFrame(
        {
            "doc_id": [0, 1, 2],
            "links": [["https://x.de/1"], ["https://www.b.de/1", "https://b.de/2", "https://c.de/"], []],
        }
    )
    assert R.site_of(fields, links).sort("doc_id")["site"].to_list() == ["a.de", "b.de", None]
